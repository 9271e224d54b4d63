`default_nettype none
// Engine control unit: the fair scheduler over the queues, the avail fetch (avail_event write, avail.idx read,
// avail.ring reads; rules 8.1, 8.2, 8.7) and the chain walker with the SPEC 4.7 checks. It owns the control reads of
// DMA read port 0 (shared with the used writer's decision reads through the engine's arbiter) and the avail_event
// writes. One operation at a time: a burst of one queue (its ring read, the takes and the walks of the heads it
// returned) runs to its end before the scheduler picks again.
module virtio_eng_ctl #(
    parameter int  NUM_QUEUES     = 2,
    parameter int  FETCH_AHEAD    = 4,
    parameter int  MAX_CHAIN_LEN  = 256,
    parameter int  QUEUE_SIZE_MAX = 256,
    parameter int  AXI_DATA_WIDTH = 64,
    parameter int  SLOTS          = 8,
    parameter int  BUF_DEPTH      = 256,
    localparam int NQ             = NUM_QUEUES,
    localparam int DW             = AXI_DATA_WIDTH,
    localparam int QIW            = (NQ > 1) ? $clog2(NQ) : 1,
    localparam int SW             = (SLOTS > 1) ? $clog2(SLOTS) : 1,
    localparam int EW             = (BUF_DEPTH > 1) ? $clog2(BUF_DEPTH) : 1,
    localparam int FW             = $clog2(FETCH_AHEAD + 1),
    localparam int HW             = (FETCH_AHEAD > 1) ? $clog2(FETCH_AHEAD) : 1,
    localparam int CW             = $clog2(MAX_CHAIN_LEN + 2),
    localparam int RB_MIN         = (16 * FETCH_AHEAD > 128) ? 16 * FETCH_AHEAD : 128,
    localparam int RBW            = ((RB_MIN + DW - 1) / DW) * DW,
    localparam int BW             = (RBW / DW > 1) ? $clog2(RBW / DW) : 1
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   running,        // state RUNNING: fetches allowed
    input  wire                   dma_ok,         // RUNNING or SUSPENDING: chains taken may proceed
    input  wire                   halt,           // abandon everything

    input  wire  [NQ-1:0]         q_enable,
    input  wire  [NQ*16-1:0]      q_size,
    input  wire  [NQ*64-1:0]      q_desc,
    input  wire  [NQ*64-1:0]      q_driver,
    input  wire  [NQ*64-1:0]      q_device,
    input  wire                   feat_event_idx,
    input  wire                   feat_indirect_desc,
    input  wire  [NQ-1:0]         kick_pending,
    output logic [NQ-1:0]         kick_clear,
    input  wire  [NQ-1:0]         scan,
    input  wire  [NQ-1:0]         qreset_req,
    input  wire  [NQ*16-1:0]      last_avail_idx,
    output logic [NQ-1:0]         avail_take,
    input  wire  [NQ-1:0]         chain_retire,   // a chain of queue q was published: one fetch-ahead place free
    output logic                  error,          // one-cycle pulse: NEEDS_RESET cause
    output logic                  busy,
    output logic [QIW-1:0]        busy_queue,

    // control reads (DMA read port 0 through the engine's arbiter); the data comes back in command order
    output logic                  rd_valid,
    input  wire                   rd_ready,
    output logic [63:0]           rd_addr,
    output logic [31:0]           rd_len,
    input  wire                   rd_beat,        // a data beat of this unit's read
    input  wire  [DW-1:0]         rd_data,
    input  wire                   rd_last,
    input  wire                   rd_err,

    // avail_event writes (immediate)
    output logic                  wr_valid,
    input  wire                   wr_ready,
    output logic [63:0]           wr_addr,
    output logic [63:0]           wr_data,
    input  wire                   wr_done,
    input  wire                   wr_err,

    // chain slots and the buffer pool (held by the engine top)
    input  wire                   slot_free_found,
    input  wire  [SW-1:0]         slot_free_id,
    output logic                  slot_alloc,     // take slot_free_id for a new walk
    output logic [QIW-1:0]        slot_queue,
    output logic [15:0]           slot_head,
    output logic [SW-1:0]         walk_slot,
    input  wire                   walk_slot_dead,
    output logic                  walk_done,      // the walk passed every check: the chain goes to the requester
    output logic                  walk_abort,     // the walk was abandoned: release the slot
    output logic [EW-1:0]         walk_first,
    output logic [EW-1:0]         walk_last,
    output logic [EW-1:0]         walk_wr_first,
    output logic [CW-1:0]         walk_nrd,
    output logic [CW-1:0]         walk_nwr,
    output logic [32:0]           walk_rd_len,
    output logic [32:0]           walk_wr_len,
    output logic                  pool_push,      // append one buffer {addr, len} to the walk's list
    input  wire                   pool_ok,
    input  wire  [EW-1:0]         pool_entry,
    output logic [63:0]           pool_addr,
    output logic [31:0]           pool_len,
    output logic                  pool_link       // pool_push links the new entry after walk_last
);
    typedef enum logic [3:0] {
        S_IDLE, S_EVW, S_EVW_WAIT, S_IDX, S_IDX_WAIT, S_RING, S_RING_WAIT, S_TAKE, S_WALK_START, S_DESC,
        S_DESC_WAIT, S_EVAL, S_DONE, S_ERR, S_FLUSH
    } ctl_state_t;

    ctl_state_t st;

    // -- per-queue fetch state
    logic [NQ-1:0] fetch_due;
    logic [NQ-1:0] event_due;
    logic [NQ-1:0] known_valid;
    logic [15:0]   known_avail [NQ];
    logic [FW-1:0] inflight [NQ];
    logic [NQ-1:0] eligible;

    for (genvar q = 0; q < NQ; q++) begin : g_elig
        logic [15:0] heads_known;
        assign heads_known = known_avail[q] - last_avail_idx[q*16 +: 16];
        // a scan pulse restarts the queue's service (rule 8.7): pick it from the next cycle on, with its new flags
        assign eligible[q] = running && q_enable[q] && !qreset_req[q] && !scan[q]
                             && (event_due[q] || fetch_due[q] || kick_pending[q]
                                 || (known_valid[q] && heads_known != 16'd0 && inflight[q] < FW'(FETCH_AHEAD)));
    end

    // chains of each queue counted against FETCH_AHEAD: from the ring read's issue to the publication (rule 8.1)
    for (genvar q = 0; q < NQ; q++) begin : g_inflight
        always_ff @(posedge clk) begin
            inflight[q] <= inflight[q] + ((st == S_RING && rd_fire && cq == QIW'(q)) ? FW'(n_ring) : '0)
                           - ((chain_retire[q] && inflight[q] != '0) ? FW'(1) : '0);
            if (rst || halt || qreset_req[q]) inflight[q] <= '0;
        end
    end

    logic [QIW-1:0] rr_next;
    logic           pick_found;
    logic [QIW-1:0] pick_q;
    virtio_eng_pick #(.N(NQ)) scheduler (.req(eligible), .start(rr_next), .found(pick_found), .idx(pick_q));

    // -- the current queue
    logic [QIW-1:0] cq;
    logic [15:0]    c_size;
    logic [63:0]    c_desc;
    logic [63:0]    c_driver;
    logic [63:0]    c_device;
    logic [15:0]    c_last_avail;
    logic [15:0]    c_slot;
    logic [15:0]    c_ring_room;
    logic [15:0]    c_heads;
    logic [FW-1:0]  c_ahead_room;
    logic           c_stop;
    assign c_size = q_size[cq*16 +: 16];
    assign c_desc = q_desc[cq*64 +: 64];
    assign c_driver = q_driver[cq*64 +: 64];
    assign c_device = q_device[cq*64 +: 64];
    assign c_last_avail = last_avail_idx[cq*16 +: 16];
    assign c_slot = c_last_avail & (c_size - 16'd1);
    assign c_ring_room = c_size - c_slot;
    assign c_heads = known_avail[cq] - c_last_avail;
    assign c_ahead_room = FW'(FETCH_AHEAD) - inflight[cq];
    assign c_stop = qreset_req[cq] || !dma_ok;

    // entries of one ring read: min(heads known, fetch-ahead room, entries to the ring end)
    logic [15:0] n_a;
    logic [15:0] n_ring;
    assign n_a = (c_heads < 16'(c_ahead_room)) ? c_heads : 16'(c_ahead_room);
    assign n_ring = (n_a < c_ring_room) ? n_a : c_ring_room;

    // -- read data buffer
    logic [RBW-1:0] rbuf;
    logic [BW-1:0]  beat_idx;
    logic           rd_out;   // a read of this unit is outstanding
    logic           wr_out;   // a write of this unit is outstanding

    // -- ring read / take
    logic [FW-1:0]  n_heads;
    logic [FW-1:0]  take_i;
    logic [FW-1:0]  walk_j;
    logic [15:0]    take_head;
    logic [15:0]    walk_head;
    logic [15:0]    heads [FETCH_AHEAD];
    logic [64:0]    take_desc_end;
    assign take_head = rbuf[take_i*16 +: 16];
    assign walk_head = heads[HW'(walk_j)];
    assign take_desc_end = {1'b0, c_desc} + {45'd0, take_head, 4'd0} + 65'd16;

    // -- walk state
    logic           slot_held;
    logic           in_table;
    logic [15:0]    w_idx;      // main-table index
    logic [16:0]    w_mcnt;     // main-table descriptors read
    logic [63:0]    t_base;
    logic [27:0]    t_entries;
    logic [27:0]    t_idx;
    logic [28:0]    t_cnt;
    logic [CW-1:0]  n_data;
    logic           seen_w;
    logic [33:0]    total;
    logic [CW-1:0]  nbuf;

    // Descriptors already read in this walk: a chain that comes back to one of them is a loop, found without
    // reading the cycle again until the Q budget runs out (the outcome is the same NEEDS_RESET, SPEC 4.7).
    localparam int VW = $clog2(QUEUE_SIZE_MAX);
    logic [QUEUE_SIZE_MAX-1:0] seen_main;
    logic [QUEUE_SIZE_MAX-1:0] seen_table;
    logic                      revisit;
    assign revisit = in_table ? (t_idx < 28'(QUEUE_SIZE_MAX) && seen_table[VW'(t_idx)]) : seen_main[VW'(w_idx)];

    logic [63:0]    desc_addr;
    logic [64:0]    desc_end;
    logic           walk_budget_out;
    assign desc_addr = in_table ? t_base + {32'd0, t_idx, 4'd0} : c_desc + {44'd0, w_idx, 4'd0};
    assign desc_end = {1'b0, desc_addr} + 65'd16;
    assign walk_budget_out = revisit || (in_table ? (t_cnt >= {1'b0, t_entries}) : (w_mcnt >= {1'b0, c_size}));

    // descriptor fields (SPEC 4.2)
    logic [63:0] d_addr;
    logic [31:0] d_len;
    logic        d_next_f;
    logic        d_write;
    logic        d_indirect;
    logic [15:0] d_next;
    logic [64:0] d_end;
    logic        d_ovf;
    logic [33:0] d_total;
    assign d_addr = rbuf[63:0];
    assign d_len = rbuf[95:64];
    assign d_next_f = rbuf[96];
    assign d_write = rbuf[97];
    assign d_indirect = rbuf[98];
    assign d_next = rbuf[127:112];
    assign d_end = {1'b0, d_addr} + {33'd0, d_len};
    assign d_ovf = d_end[64] && (d_end[63:0] != 64'd0);
    assign d_total = total + {2'b0, d_len};

    // SPEC 4.7, in the golden model's order (models/virtio_golden/chain.py)
    logic ind_bad;
    logic data_bad;
    logic next_bad;
    assign ind_bad = in_table || !feat_indirect_desc || d_next_f || d_len == 32'd0 || d_len[3:0] != 4'd0 || d_ovf;
    assign data_bad = (n_data + CW'(1) > CW'(MAX_CHAIN_LEN)) || (seen_w && !d_write)
                      || (d_len != 32'd0 && d_ovf) || (d_total > 34'h1_0000_0000);
    assign next_bad = d_next_f && (in_table ? ({12'd0, d_next} >= t_entries) : (d_next >= c_size));

    logic eval_append;
    assign eval_append = !d_indirect && !data_bad && d_len != 32'd0;

    // -- outputs
    assign busy = st != S_IDLE;
    assign busy_queue = cq;
    assign rd_valid = (st == S_IDX || st == S_RING || st == S_DESC) && !c_stop && !(st == S_DESC && walk_slot_dead)
                      && !(st == S_DESC && (walk_budget_out || (!in_table && desc_end[64] && desc_end[63:0] != 0)))
                      && !(st != S_DESC && !running);
    assign rd_addr = (st == S_IDX) ? c_driver + 64'd2
                   : (st == S_RING) ? c_driver + 64'd4 + {47'd0, c_slot, 1'b0}
                   : desc_addr;
    assign rd_len = (st == S_IDX) ? 32'd2 : (st == S_RING) ? {15'd0, n_ring, 1'b0} : 32'd16;
    assign wr_valid = st == S_EVW && running && !qreset_req[cq];
    assign wr_addr = c_device + 64'd4 + {45'd0, c_size, 3'd0};
    assign wr_data = {48'd0, c_last_avail};
    assign slot_alloc = st == S_WALK_START && !c_stop && slot_free_found;
    assign slot_queue = cq;
    assign slot_head = walk_head;
    assign pool_push = st == S_EVAL && !c_stop && !walk_slot_dead && eval_append;
    assign pool_addr = d_addr;
    assign pool_len = d_len;
    assign pool_link = nbuf != '0;
    assign walk_done = st == S_DONE && !walk_slot_dead;
    assign walk_abort = slot_held && ((st == S_DONE && walk_slot_dead) || (st == S_FLUSH && !rd_out && !wr_out));
    assign walk_nrd = nbuf - walk_nwr;

    logic rd_fire;
    assign rd_fire = rd_valid && rd_ready;

    always_ff @(posedge clk) begin
        error <= 1'b0;
        kick_clear <= '0;
        avail_take <= '0;
        if (rd_fire) rd_out <= 1'b1;
        if (rd_beat && rd_last) rd_out <= 1'b0;
        if (wr_valid && wr_ready) wr_out <= 1'b1;
        if (wr_done) wr_out <= 1'b0;
        if (rd_beat) begin
            rbuf[beat_idx*DW +: DW] <= rd_data;
            beat_idx <= rd_last ? '0 : beat_idx + BW'(1);
        end
        for (int q = 0; q < NQ; q++) begin
            if (scan[q]) begin
                fetch_due[q] <= 1'b1;
                event_due[q] <= feat_event_idx;
                known_valid[q] <= 1'b0;
            end
            if (qreset_req[q] || halt) begin
                fetch_due[q] <= 1'b0;
                event_due[q] <= 1'b0;
                known_valid[q] <= 1'b0;
            end
        end

        case (st)
            S_IDLE: begin
                if (pick_found) begin
                    cq <= pick_q;
                    rr_next <= (pick_q == QIW'(NQ - 1)) ? '0 : pick_q + QIW'(1);
                    if (event_due[pick_q]) st <= S_EVW;
                    else if (fetch_due[pick_q] || kick_pending[pick_q]) st <= S_IDX;
                    else st <= S_RING;
                end
            end
            S_EVW: begin
                if (!running || qreset_req[cq]) st <= S_IDLE;
                else if (wr_ready) st <= S_EVW_WAIT;
            end
            S_EVW_WAIT: begin
                if (wr_done) begin
                    if (wr_err) begin
                        error <= 1'b1;
                        st <= S_ERR;
                    end else begin
                        if (!qreset_req[cq] && !halt) begin
                            event_due[cq] <= 1'b0;
                            fetch_due[cq] <= 1'b1;  // rule 8.2: re-read avail.idx
                            known_valid[cq] <= 1'b0;
                        end
                        st <= S_IDLE;
                    end
                end
            end
            S_IDX: begin
                if (!running || qreset_req[cq]) st <= S_IDLE;
                else if (rd_ready) begin
                    kick_clear[cq] <= 1'b1;
                    fetch_due[cq] <= 1'b0;
                    st <= S_IDX_WAIT;
                end
            end
            S_IDX_WAIT: begin
                if (rd_beat && rd_last) begin
                    if (rd_err) begin
                        error <= 1'b1;
                        st <= S_ERR;
                    end else if (running && !qreset_req[cq] && !halt) begin
                        // SPEC 4.7: more pending heads than the queue holds
                        if (rd_data[15:0] - c_last_avail > c_size) begin
                            error <= 1'b1;
                            st <= S_ERR;
                        end else begin
                            known_avail[cq] <= rd_data[15:0];
                            known_valid[cq] <= 1'b1;
                            st <= S_IDLE;
                        end
                    end else begin
                        st <= S_IDLE;  // a value returned after the stop is ignored (rule 8.1)
                    end
                end
            end
            S_RING: begin
                if (!running || qreset_req[cq] || n_ring == 16'd0) st <= S_IDLE;
                else if (rd_ready) begin
                    n_heads <= FW'(n_ring);
                    st <= S_RING_WAIT;
                end
            end
            S_RING_WAIT: begin
                if (rd_beat && rd_last) begin
                    if (rd_err) begin
                        error <= 1'b1;
                        st <= S_ERR;
                    end else if (!dma_ok || qreset_req[cq] || halt) begin
                        st <= S_IDLE;
                    end else begin
                        take_i <= '0;
                        st <= S_TAKE;
                    end
                end
            end
            S_TAKE: begin
                // rule 8.1: every head the ring read returned is taken, in ring order
                if (c_stop || halt) st <= S_IDLE;
                else begin
                    avail_take[cq] <= 1'b1;
                    heads[HW'(take_i)] <= take_head;
                    if (feat_event_idx && running) event_due[cq] <= 1'b1;
                    if (take_head >= c_size || (take_desc_end[64] && take_desc_end[63:0] != 64'd0)) begin
                        error <= 1'b1;  // head >= Q, or its descriptor lies beyond 2^64
                        st <= S_ERR;
                    end else if (take_i + FW'(1) == n_heads) begin
                        walk_j <= '0;
                        st <= S_WALK_START;
                    end
                    take_i <= take_i + FW'(1);
                end
            end
            S_WALK_START: begin
                if (c_stop || halt) st <= S_IDLE;
                else if (slot_free_found) begin
                    walk_slot <= slot_free_id;
                    slot_held <= 1'b1;
                    in_table <= 1'b0;
                    w_idx <= walk_head;
                    w_mcnt <= '0;
                    seen_main <= '0;
                    seen_table <= '0;
                    n_data <= '0;
                    seen_w <= 1'b0;
                    total <= '0;
                    nbuf <= '0;
                    walk_nwr <= '0;
                    walk_rd_len <= '0;
                    walk_wr_len <= '0;
                    st <= S_DESC;
                end
            end
            S_DESC: begin
                if (c_stop || halt || walk_slot_dead) st <= S_FLUSH;
                else if (walk_budget_out || (!in_table && desc_end[64] && desc_end[63:0] != 64'd0)) begin
                    error <= 1'b1;  // a loop (SPEC 4.7), or a descriptor beyond 2^64 (rule 8.9)
                    st <= S_ERR;
                end else if (rd_ready) begin
                    if (in_table) begin
                        t_cnt <= t_cnt + 29'd1;
                        if (t_idx < 28'(QUEUE_SIZE_MAX)) seen_table[VW'(t_idx)] <= 1'b1;
                    end else begin
                        w_mcnt <= w_mcnt + 17'd1;
                        seen_main[VW'(w_idx)] <= 1'b1;
                    end
                    st <= S_DESC_WAIT;
                end
            end
            S_DESC_WAIT: begin
                if (rd_beat && rd_last) begin
                    if (rd_err) begin
                        error <= 1'b1;
                        st <= S_ERR;
                    end else st <= S_EVAL;
                end
            end
            S_EVAL: begin
                if (c_stop || halt || walk_slot_dead) st <= S_FLUSH;
                else if (d_indirect) begin
                    if (ind_bad) begin
                        error <= 1'b1;
                        st <= S_ERR;
                    end else begin
                        in_table <= 1'b1;
                        t_base <= d_addr;
                        t_entries <= d_len[31:4];
                        t_idx <= '0;
                        t_cnt <= '0;
                        st <= S_DESC;
                    end
                end else if (data_bad || next_bad) begin
                    error <= 1'b1;
                    st <= S_ERR;
                end else if (!eval_append || pool_ok) begin
                    n_data <= n_data + CW'(1);
                    seen_w <= seen_w | d_write;
                    total <= d_total;
                    if (d_write) walk_wr_len <= walk_wr_len + {1'b0, d_len};
                    else walk_rd_len <= walk_rd_len + {1'b0, d_len};
                    if (eval_append) begin
                        nbuf <= nbuf + CW'(1);
                        walk_last <= pool_entry;
                        if (nbuf == '0) walk_first <= pool_entry;
                        if (d_write) begin
                            walk_nwr <= walk_nwr + CW'(1);
                            if (walk_nwr == '0) walk_wr_first <= pool_entry;
                        end
                    end
                    if (!d_next_f) st <= S_DONE;
                    else begin
                        if (in_table) t_idx <= {12'd0, d_next};
                        else w_idx <= d_next;
                        st <= S_DESC;
                    end
                end
            end
            S_DONE: begin
                slot_held <= 1'b0;
                if (walk_slot_dead || c_stop) st <= S_FLUSH;
                else if (walk_j + FW'(1) == n_heads) st <= S_IDLE;
                else begin
                    walk_j <= walk_j + FW'(1);
                    st <= S_WALK_START;
                end
            end
            S_ERR: begin
                if (!dma_ok || halt) st <= S_FLUSH;
            end
            S_FLUSH: begin
                if (!rd_out && !wr_out && !(rd_beat && rd_last) && !wr_done) begin
                    slot_held <= 1'b0;
                    st <= S_IDLE;
                end
            end
            default: st <= S_IDLE;
        endcase

        if (halt && st != S_FLUSH && st != S_IDLE) st <= S_FLUSH;

        if (rst) begin
            st <= S_IDLE;
            fetch_due <= '0;
            event_due <= '0;
            known_valid <= '0;
            rr_next <= '0;
            cq <= '0;
            rd_out <= 1'b0;
            wr_out <= 1'b0;
            beat_idx <= '0;
            slot_held <= 1'b0;
        end
    end
endmodule

`default_nettype wire
