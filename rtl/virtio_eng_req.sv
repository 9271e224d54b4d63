`default_nettype none
// Engine request unit (rule 8.11): for each walked chain, in walk order (per queue the take order), one backend
// request with a free tag, then the gather of its readable buffers through DMA read port 1 into one packed be_rd
// packet of exactly be_req_rd_len bytes. Every buffer is its own DMA packet; this unit concatenates them at any byte
// alignment. A chain abandoned by HALTED or a queue reset still gets its packet in full: no further gather read is
// issued, the rest is zeros.
module virtio_eng_req #(
    parameter int  NUM_QUEUES     = 2,
    parameter int  AXI_DATA_WIDTH = 64,
    parameter int  TAG_WIDTH      = 6,
    parameter int  SLOTS          = 8,
    parameter int  BUF_DEPTH      = 256,
    parameter int  MAX_CHAIN_LEN  = 256,
    localparam int NQ             = NUM_QUEUES,
    localparam int DW             = AXI_DATA_WIDTH,
    localparam int KW             = AXI_DATA_WIDTH / 8,
    localparam int KNW            = $clog2(KW + 1),
    localparam int QIW            = (NQ > 1) ? $clog2(NQ) : 1,
    localparam int SW             = (SLOTS > 1) ? $clog2(SLOTS) : 1,
    localparam int EW             = (BUF_DEPTH > 1) ? $clog2(BUF_DEPTH) : 1,
    localparam int CW             = $clog2(MAX_CHAIN_LEN + 2)
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  dma_ok,
    output logic                 error,

    // walked chains, in order
    input  wire                  wq_valid,
    input  wire  [SW-1:0]        wq_slot,
    output logic                 wq_pop,
    // the current chain's slot (looked up by the engine top)
    output logic [SW-1:0]        cur_slot,
    input  wire  [QIW-1:0]       s_queue,
    input  wire  [15:0]          s_head,
    input  wire  [32:0]          s_rd_len,
    input  wire  [32:0]          s_wr_len,
    input  wire  [CW-1:0]        s_nrd,
    input  wire  [EW-1:0]        s_first,
    input  wire                  s_dead,
    output logic                 drop,           // pulse: the chain was abandoned before its request
    output logic                 gather_done,    // pulse: the chain's packet is complete (or none was owed)
    output logic                 busy,
    output logic [QIW-1:0]       busy_queue,
    output logic                 dma_busy,       // gather reads commanded and not yet through

    // tags
    input  wire                  tag_free_found,
    input  wire  [TAG_WIDTH-1:0] tag_free_id,
    output logic                 tag_issue,      // pulse: be_req transferred with be_req_tag for cur_slot

    // backend request
    output logic                 be_req_valid,
    input  wire                  be_req_ready,
    output logic [15:0]          be_req_queue,
    output logic [15:0]          be_req_head,
    output logic [TAG_WIDTH-1:0] be_req_tag,
    output logic [32:0]          be_req_rd_len,
    output logic [32:0]          be_req_wr_len,
    output logic [DW-1:0]        be_rd_tdata,
    output logic [KW-1:0]        be_rd_tkeep,
    output logic                 be_rd_tvalid,
    input  wire                  be_rd_tready,
    output logic                 be_rd_tlast,

    // buffer pool read port
    output logic [EW-1:0]        pool_entry,
    input  wire  [63:0]          pool_addr,
    input  wire  [31:0]          pool_len,
    input  wire  [EW-1:0]        pool_next,

    // gather reads (DMA read port 1)
    output logic                 rd1_cmd_valid,
    input  wire                  rd1_cmd_ready,
    output logic [63:0]          rd1_cmd_addr,
    output logic [31:0]          rd1_cmd_len,
    output logic                 rd1_cmd_last,
    input  wire  [DW-1:0]        rd1_tdata,
    input  wire  [KW-1:0]        rd1_tkeep,
    input  wire                  rd1_tlast,
    input  wire                  rd1_tvalid,
    output logic                 rd1_tready,
    input  wire                  rd1_terr
);
    typedef enum logic [2:0] {R_IDLE, R_LOAD, R_REQ, R_GATHER, R_DRAIN} req_state_t;
    req_state_t st;

    logic [SW-1:0]  c_slot;
    logic [QIW-1:0] c_queue;
    logic [CW-1:0]  left;        // readable buffers not yet commanded
    logic [EW-1:0]  ent;
    logic [CW-1:0]  cmds_out;    // gather packets commanded and not yet through
    logic [32:0]    rem_in;      // bytes of the be_rd packet not yet taken in by the packer

    assign cur_slot = c_slot;
    assign busy = st != R_IDLE;
    assign dma_busy = cmds_out != '0 || rd1_cmd_valid;
    assign busy_queue = c_queue;
    assign pool_entry = ent;
    assign wq_pop = st == R_IDLE && wq_valid;

    // -- gather commands
    assign rd1_cmd_valid = st == R_GATHER && left != '0 && !s_dead && dma_ok;
    assign rd1_cmd_addr = pool_addr;
    assign rd1_cmd_len = pool_len;
    assign rd1_cmd_last = 1'b1;

    // -- packer: DMA packets (or zeros for an abandoned chain) into one packed be_rd packet
    logic [DW-1:0]   acc;
    logic [KNW-1:0]  acc_n;
    logic            residue;    // the packet's last beat is left in acc
    logic            from_dma;
    logic            in_valid;
    logic [DW-1:0]   in_data;
    logic [KNW-1:0]  in_n;
    logic [KNW-1:0]  pad_n;
    logic            in_final;
    logic [KNW:0]    total;
    logic [2*DW-1:0] combined;
    logic            emit;
    logic            in_ready;
    logic            in_fire;

    // bytes in a beat (tkeep is contiguous from lane 0)
    function automatic logic [KNW-1:0] popcount(input logic [KW-1:0] keep);
        popcount = '0;
        for (int k = 0; k < KW; k++) popcount = popcount + KNW'(keep[k]);
    endfunction
    logic [KNW-1:0] beat_bytes;
    assign beat_bytes = popcount(rd1_tkeep);

    assign from_dma = cmds_out != '0;
    assign pad_n = (rem_in >= 33'(KW)) ? KNW'(KW) : KNW'(rem_in);
    // A gather packet that ends in an error response is held back until HALTED is entered, so its be_rd packet
    // cannot end before the be_flush that voids its tag (rule 8.9, 8.11).
    logic err_hold;
    logic err_raised;
    assign err_hold = from_dma && rd1_tvalid && rd1_tlast && rd1_terr && dma_ok;
    assign in_valid = from_dma ? rd1_tvalid && !err_hold : (st == R_DRAIN && rem_in != '0 && (s_dead || !dma_ok));
    // lanes beyond tkeep carry no meaning: clear them before they are merged
    for (genvar k = 0; k < KW; k++) begin : g_lane
        assign in_data[8*k +: 8] = (from_dma && rd1_tkeep[k]) ? rd1_tdata[8*k +: 8] : 8'd0;
    end
    assign in_n = from_dma ? beat_bytes : pad_n;
    assign in_final = 33'(in_n) == rem_in;
    assign total = (KNW+1)'(acc_n) + (KNW+1)'(in_n);
    assign combined = {{DW{1'b0}}, acc} | ({{DW{1'b0}}, in_data} << (8 * acc_n));
    assign emit = total >= (KNW+1)'(KW) || in_final;
    assign in_ready = !residue && (emit ? be_rd_tready : 1'b1);
    assign in_fire = in_valid && in_ready;
    assign rd1_tready = from_dma && in_ready;

    logic [KW-1:0] keep_total;
    logic [KW-1:0] keep_acc;
    assign keep_total = (total >= (KNW+1)'(KW)) ? {KW{1'b1}} : ~({KW{1'b1}} << total);
    assign keep_acc = ~({KW{1'b1}} << acc_n);

    assign be_rd_tvalid = residue || (in_valid && emit);
    assign be_rd_tdata = residue ? acc : combined[DW-1:0];
    assign be_rd_tkeep = residue ? keep_acc : keep_total;
    assign be_rd_tlast = residue || (in_final && total <= (KNW+1)'(KW));

    logic packet_end;
    assign packet_end = be_rd_tvalid && be_rd_tready && be_rd_tlast;

    assign drop = (st == R_LOAD || (st == R_REQ && !be_req_valid)) && (s_dead || !dma_ok);
    assign tag_issue = be_req_valid && be_req_ready;

    always_ff @(posedge clk) begin
        error <= 1'b0;
        gather_done <= 1'b0;
        if (rd1_cmd_valid && rd1_cmd_ready) begin
            ent <= pool_next;
            left <= left - CW'(1);
        end
        cmds_out <= cmds_out + ((rd1_cmd_valid && rd1_cmd_ready) ? CW'(1) : '0)
                    - ((rd1_tvalid && rd1_tready && rd1_tlast) ? CW'(1) : '0);
        if (err_hold && !err_raised) error <= 1'b1;  // rule 8.9
        err_raised <= err_hold;
        if (in_fire) begin
            rem_in <= rem_in - 33'(in_n);
            if (emit) begin
                acc <= combined[2*DW-1:DW];
                acc_n <= (total > (KNW+1)'(KW)) ? KNW'(total - (KNW+1)'(KW)) : '0;
                residue <= in_final && total > (KNW+1)'(KW);
            end else begin
                acc <= combined[DW-1:0];
                acc_n <= KNW'(total);
            end
        end else if (residue && be_rd_tready) begin
            residue <= 1'b0;
            acc <= '0;
            acc_n <= '0;
        end

        case (st)
            R_IDLE: begin
                if (wq_valid) begin
                    c_slot <= wq_slot;
                    st <= R_LOAD;
                end
            end
            R_LOAD: begin
                c_queue <= s_queue;
                ent <= s_first;
                left <= s_nrd;
                rem_in <= s_rd_len;
                be_req_queue <= 16'(s_queue);
                be_req_head <= s_head;
                be_req_rd_len <= s_rd_len;
                be_req_wr_len <= s_wr_len;
                if (s_dead || !dma_ok) begin
                    gather_done <= 1'b1;
                    st <= R_IDLE;
                end else st <= R_REQ;
            end
            R_REQ: begin
                if (!be_req_valid) begin
                    if (s_dead || !dma_ok) begin
                        gather_done <= 1'b1;
                        st <= R_IDLE;
                    end else if (tag_free_found) begin
                        be_req_valid <= 1'b1;
                        be_req_tag <= tag_free_id;
                    end
                end else if (be_req_ready) begin
                    be_req_valid <= 1'b0;
                    st <= (be_req_rd_len == '0) ? R_IDLE : R_GATHER;
                    if (be_req_rd_len == '0) gather_done <= 1'b1;
                end
            end
            R_GATHER: begin
                if (left == '0 || s_dead || !dma_ok || (left == CW'(1) && rd1_cmd_valid && rd1_cmd_ready))
                    st <= R_DRAIN;
            end
            R_DRAIN: begin
                if (packet_end) begin
                    gather_done <= 1'b1;
                    st <= R_IDLE;
                end
            end
            default: st <= R_IDLE;
        endcase

        if (rst) begin
            st <= R_IDLE;
            be_req_valid <= 1'b0;
            cmds_out <= '0;
            acc <= '0;
            acc_n <= '0;
            residue <= 1'b0;
            err_raised <= 1'b0;
            rem_in <= '0;
            left <= '0;
            c_queue <= '0;
        end
    end
endmodule

`default_nettype wire
