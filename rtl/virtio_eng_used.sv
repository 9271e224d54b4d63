`default_nettype none
// Engine used writer (SPEC 4.5, 4.6, rules 8.3, 8.9, SUS-21): takes the completed chains in completion-acceptance
// order; for each, once every scatter write of the chain has its response, writes the used element, then (after its
// response) used.idx, then (after that response) publishes the new index to the core and makes the notification
// decision: with EVENT_IDX the first write after an entry into RUNNING notifies without a read, otherwise it reads
// used_event (EVENT_IDX) or avail.flags and hands a notification to the core. One used.idx write per chain
// (USED_BATCH bursts of one, which the rule allows). While a suspend is latched no decision is made: the queue is
// marked, and once the engine has drained, one forced notification per marked queue is handed over. A decision read
// whose data the bus delivered before the latch counts as made then (SUS-21, rule 8.12 set 6), even though the data
// reaches this block through the DMA read buffer after the latch: it is delivered, and it marks nothing.
module virtio_eng_used #(
    parameter int  NUM_QUEUES     = 2,
    parameter int  SLOTS          = 8,
    parameter int  SEQ_WIDTH      = 16,
    localparam int NQ             = NUM_QUEUES,
    localparam int QIW            = (NQ > 1) ? $clog2(NQ) : 1,
    localparam int SW             = (SLOTS > 1) ? $clog2(SLOTS) : 1
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  running,
    input  wire                  dma_ok,
    input  wire                  stop_req,
    input  wire                  drained,        // nothing in flight, nothing outstanding but notifications
    output logic                 error,

    input  wire                  feat_event_idx,
    input  wire  [NQ-1:0]        scan,
    input  wire  [NQ-1:0]        qreset_req,
    input  wire  [NQ*16-1:0]     q_size,
    input  wire  [NQ*64-1:0]     q_driver,
    input  wire  [NQ*64-1:0]     q_device,
    input  wire  [NQ*16-1:0]     shadow_used_idx,

    // completed chains, in acceptance order, with the scatter-write count they wait for
    input  wire                  uq_valid,
    input  wire  [SW-1:0]        uq_slot,
    input  wire  [31:0]          uq_written,
    input  wire                  uq_drop,
    input  wire  [SEQ_WIDTH-1:0] uq_seq,
    output logic                 uq_pop,
    input  wire  [SEQ_WIDTH-1:0] scat_done,      // scatter writes completed so far
    output logic [SW-1:0]        cur_slot,
    input  wire  [QIW-1:0]       s_queue,
    input  wire  [15:0]          s_head,
    input  wire                  s_dead,
    output logic                 release_slot,   // pulse: cur_slot's chain is published or dropped
    output logic                 busy,
    output logic [QIW-1:0]       busy_queue,
    output logic                 marks,          // forced notifications still owed

    // immediate writes: used element, used.idx
    output logic                 wr_valid,
    input  wire                  wr_ready,
    output logic [63:0]          wr_addr,
    output logic [3:0]           wr_len,
    output logic [63:0]          wr_data,
    input  wire                  wr_done,
    input  wire                  wr_err,

    // decision reads (DMA read port 0 through the engine's arbiter)
    output logic                 rd_valid,
    input  wire                  rd_ready,
    output logic [63:0]          rd_addr,
    input  wire                  rd_landed,      // the bus took the decision read's data at this edge
    input  wire                  rd_beat,
    input  wire  [15:0]          rd_data,
    input  wire                  rd_last,
    input  wire                  rd_err,

    // to the core
    output logic [NQ-1:0]        used_publish,
    output logic [NQ*16-1:0]     used_publish_idx,
    output logic                 used_notify_valid,
    input  wire                  used_notify_ready,
    output logic [15:0]          used_notify_queue
);
    typedef enum logic [3:0] {
        U_IDLE, U_LOAD, U_ELEM, U_ELEM_WAIT, U_IDX, U_IDX_WAIT, U_DEC, U_DEC_WAIT, U_NOTIFY, U_ERR
    } used_state_t;
    used_state_t st;

    logic [NQ-1:0]  first_write;
    logic [NQ-1:0]  marked;
    logic [QIW-1:0] cq;
    logic [31:0]    c_written;
    logic           c_drop;
    logic [15:0]    old_idx;
    logic [15:0]    c_size;
    logic [63:0]    c_driver;
    logic [63:0]    c_device;
    logic           scatter_visible;

    assign c_size = q_size[cq*16 +: 16];
    assign c_driver = q_driver[cq*64 +: 64];
    assign c_device = q_device[cq*64 +: 64];
    // wrapping compare: every scatter write issued before the entry was queued has completed
    assign scatter_visible = !(SEQ_WIDTH'(scat_done - uq_seq) >= SEQ_WIDTH'(1 << (SEQ_WIDTH - 1)));

    logic stop;
    assign stop = s_dead || !dma_ok;

    assign uq_pop = st == U_IDLE && uq_valid && scatter_visible && !(stop_req && drained && |marked);
    assign busy = st != U_IDLE;
    assign busy_queue = cq;
    assign marks = |marked;

    assign wr_valid = (st == U_ELEM || st == U_IDX) && !stop;
    assign wr_addr = (st == U_ELEM) ? c_device + 64'd4 + {45'd0, old_idx & (c_size - 16'd1), 3'd0}
                                    : c_device + 64'd2;
    assign wr_len = (st == U_ELEM) ? 4'd8 : 4'd2;
    assign wr_data = (st == U_ELEM) ? {c_written, 16'd0, s_head} : {48'd0, old_idx + 16'd1};

    assign rd_valid = st == U_DEC && running && !stop_req && !qreset_req[cq];
    assign rd_addr = feat_event_idx ? c_driver + 64'd4 + {47'd0, c_size, 1'b0} : c_driver;

    // SPEC 4.6: vring_need_event(used_event, new, old)
    logic [15:0] new_idx;
    logic [15:0] event_gap;
    logic        need_event;
    logic        notify_now;
    assign new_idx = old_idx + 16'd1;
    assign event_gap = new_idx - rd_data[15:0] - 16'd1;
    assign need_event = event_gap < (new_idx - old_idx);
    assign notify_now = feat_event_idx ? need_event : !rd_data[0];

    // Whether the decision read's data was taken from the bus before the SUSPEND latch, in RUNNING. Judged one edge
    // after the bus took it, when a status write at that same edge (which comes first, rule 8.12) shows in the state.
    logic land_q;
    logic made_q;
    logic made;
    assign made = land_q ? running && !stop_req : made_q;

    logic           pick_found;
    logic [QIW-1:0] pick_q;
    virtio_eng_pick #(.N(NQ)) forced_pick (.req(marked), .start(QIW'(0)), .found(pick_found), .idx(pick_q));

    assign used_notify_valid = st == U_NOTIFY;
    assign used_notify_queue = 16'(cq);

    always_ff @(posedge clk) begin
        error <= 1'b0;
        release_slot <= 1'b0;
        land_q <= rd_landed;
        if (land_q) made_q <= made;
        used_publish <= '0;
        for (int q = 0; q < NQ; q++) begin
            if (scan[q]) first_write[q] <= 1'b1;
            if (qreset_req[q]) first_write[q] <= 1'b0;
        end
        case (st)
            U_IDLE: begin
                if (stop_req && drained && pick_found) begin
                    cq <= pick_q;  // SUS-21: one forced notification per marked queue
                    marked[pick_q] <= 1'b0;
                    st <= U_NOTIFY;
                end else if (uq_pop) begin
                    cur_slot <= uq_slot;
                    c_written <= uq_written;
                    c_drop <= uq_drop;
                    st <= U_LOAD;
                end
            end
            U_LOAD: begin
                cq <= s_queue;
                old_idx <= shadow_used_idx[s_queue*16 +: 16];
                if (c_drop || stop) begin
                    release_slot <= 1'b1;
                    st <= U_IDLE;
                end else st <= U_ELEM;
            end
            U_ELEM, U_IDX: begin
                if (stop) begin
                    release_slot <= 1'b1;
                    st <= U_IDLE;
                end else if (wr_ready) st <= (st == U_ELEM) ? U_ELEM_WAIT : U_IDX_WAIT;
            end
            U_ELEM_WAIT: begin
                if (wr_done) begin
                    if (wr_err) begin
                        error <= 1'b1;
                        release_slot <= 1'b1;
                        st <= U_ERR;
                    end else st <= U_IDX;
                end
            end
            U_IDX_WAIT: begin
                if (wr_done) begin
                    release_slot <= 1'b1;
                    if (wr_err) begin
                        error <= 1'b1;
                        st <= U_ERR;
                    end else if (stop) begin
                        st <= U_IDLE;
                    end else begin
                        used_publish[cq] <= 1'b1;
                        used_publish_idx[cq*16 +: 16] <= new_idx;
                        if (stop_req) begin
                            marked[cq] <= 1'b1;  // SUS-21: published since the request
                            st <= U_IDLE;
                        end else if (running) begin
                            first_write[cq] <= 1'b0;
                            if (feat_event_idx && first_write[cq]) st <= U_NOTIFY;  // Q16
                            else st <= U_DEC;
                        end else st <= U_IDLE;
                    end
                end
            end
            U_DEC: begin
                if (stop_req) begin
                    marked[cq] <= 1'b1;  // SUS-21: a decision not made at the latch
                    st <= U_IDLE;
                end else if (!running || qreset_req[cq]) st <= U_IDLE;
                else if (rd_ready) st <= U_DEC_WAIT;
            end
            U_DEC_WAIT: begin
                if (rd_beat && rd_last) begin
                    if (rd_err) begin
                        error <= 1'b1;
                        st <= U_ERR;
                    end else if (made && !qreset_req[cq] && notify_now) st <= U_NOTIFY;
                    else begin
                        if (stop_req && !made) marked[cq] <= 1'b1;  // SUS-21: a decision not made at the latch
                        st <= U_IDLE;
                    end
                end
            end
            U_NOTIFY: begin
                if (used_notify_ready) st <= U_IDLE;
            end
            U_ERR: begin
                if (!dma_ok) st <= U_IDLE;
            end
            default: st <= U_IDLE;
        endcase
        if (!stop_req) marked <= '0;
        if (rst) begin
            st <= U_IDLE;
            first_write <= '0;
            marked <= '0;
            cq <= '0;
            cur_slot <= '0;
            used_publish_idx <= '0;
            land_q <= 1'b0;
            made_q <= 1'b0;
        end
    end
endmodule

`default_nettype wire
