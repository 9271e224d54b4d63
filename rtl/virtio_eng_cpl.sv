`default_nettype none
// Engine completion unit (rule 8.11): accepts one completion at a time, in any order across tags, and scatters its
// data packet into the chain's writable buffers through the DMA write port (stream mode). Each be_wr beat is
// passed to the DMA only after write commands covering its kept bytes are issued, so a packet that ends early or
// runs long never makes the DMA wait for bytes that do not come. Void and unknown tags and error completions are
// accepted and their packets dropped. Every completion of a live tag ends in one entry of the used writer's queue
// (with `drop` when nothing is to be published), in acceptance order.
module virtio_eng_cpl #(
    parameter int  AXI_DATA_WIDTH = 64,
    parameter int  TAG_WIDTH      = 6,
    parameter int  SLOTS          = 8,
    parameter int  BUF_DEPTH      = 256,
    localparam int DW             = AXI_DATA_WIDTH,
    localparam int KW             = AXI_DATA_WIDTH / 8,
    localparam int KNW            = $clog2(KW + 1),
    localparam int SW             = (SLOTS > 1) ? $clog2(SLOTS) : 1,
    localparam int EW             = (BUF_DEPTH > 1) ? $clog2(BUF_DEPTH) : 1
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  dma_ok,
    input  wire                  freeze,          // a scatter write failed: write nothing more
    output logic                 error,          // pulse: error completion with a live tag (rule 8.9)
    output logic                 len_err,        // pulse: diag_cpl_len_err
    output logic                 bad_tag,        // pulse: diag_cpl_bad_tag
    output logic                 busy,

    input  wire                  be_cpl_valid,
    output logic                 be_cpl_ready,
    input  wire  [TAG_WIDTH-1:0] be_cpl_tag,
    input  wire  [32:0]          be_cpl_len,
    input  wire                  be_cpl_err,
    input  wire  [DW-1:0]        be_wr_tdata,
    input  wire  [KW-1:0]        be_wr_tkeep,
    input  wire                  be_wr_tvalid,
    output logic                 be_wr_tready,
    input  wire                  be_wr_tlast,

    // tag table (engine top): state of be_cpl_tag, looked up there; `tag_answer` frees it
    input  wire                  t_live,
    input  wire                  t_void,
    input  wire  [SW-1:0]        t_slot,
    output logic                 tag_answer,
    output logic [TAG_WIDTH-1:0] held_tag,       // the tag being answered: not reusable until the packet ends

    // the chain's slot and buffer pool
    output logic [SW-1:0]        cur_slot,
    input  wire  [32:0]          s_wr_len,
    input  wire  [EW-1:0]        s_wr_first,
    input  wire                  s_dead,
    output logic [EW-1:0]        pool_entry,
    input  wire  [63:0]          pool_addr,
    input  wire  [31:0]          pool_len,
    input  wire  [EW-1:0]        pool_next,

    // scatter writes (stream mode) and their data
    output logic                 sc_valid,
    input  wire                  sc_ready,
    output logic [63:0]          sc_addr,
    output logic [31:0]          sc_len,
    output logic [DW-1:0]        wr_tdata,
    output logic [KW-1:0]        wr_tkeep,
    output logic                 wr_tvalid,
    input  wire                  wr_tready,

    // the used writer's queue
    output logic                 uq_push,
    output logic [SW-1:0]        uq_slot,
    output logic [31:0]          uq_written,
    output logic                 uq_drop
);
    typedef enum logic [2:0] {C_IDLE, C_LOAD, C_SCAT, C_DISCARD, C_PUSH} cpl_state_t;
    cpl_state_t st;

    logic           c_live;
    logic           c_err;
    logic [32:0]    c_len;
    logic [32:0]    target;     // bytes to write: min(be_cpl_len, writable capacity)
    logic [32:0]    written;
    logic [32:0]    received;
    logic [EW-1:0]  ent;
    logic [31:0]    buf_off;

    assign be_cpl_ready = st == C_IDLE;
    assign busy = st != C_IDLE;
    assign tag_answer = be_cpl_valid && be_cpl_ready;
    assign pool_entry = ent;
    assign uq_slot = cur_slot;

    // the current beat
    // bytes in a beat (tkeep is contiguous from lane 0)
    function automatic logic [KNW-1:0] popcount(input logic [KW-1:0] keep);
        popcount = '0;
        for (int k = 0; k < KW; k++) popcount = popcount + KNW'(keep[k]);
    endfunction
    logic [KNW-1:0] beat_bytes;
    assign beat_bytes = popcount(be_wr_tkeep);

    // The beat being scattered is held here; each write command is followed by a sub-beat of exactly its bytes
    // (shifted down to lane 0), so the DMA never holds a byte no command was issued for, whatever the buffer
    // layout, and an abandoned chain leaves nothing behind in the DMA.
    logic [DW-1:0]  cur_data;
    logic [KNW-1:0] cur_n;       // bytes of the held beat still to write
    logic           sub_beat;    // a command is issued, its bytes are offered on wr_*
    logic [KNW-1:0] sub_n;
    logic           pkt_done;    // the packet's tlast beat has been taken

    logic [32:0]    room;
    logic [KNW-1:0] keep_n;      // bytes of the arriving beat to write
    logic [KNW-1:0] cmd_n;
    logic [31:0]    buf_rem;
    logic           stop;
    assign room = target - written;
    assign keep_n = (room < 33'(beat_bytes)) ? KNW'(room) : beat_bytes;
    assign buf_rem = pool_len - buf_off;
    assign cmd_n = (32'(cur_n) < buf_rem) ? cur_n : KNW'(buf_rem);
    assign stop = s_dead || !dma_ok || freeze;

    assign sc_valid = st == C_SCAT && cur_n != '0 && !sub_beat && !stop;
    assign sc_addr = pool_addr + {32'd0, buf_off};
    assign sc_len = 32'(cmd_n);

    assign wr_tvalid = st == C_SCAT && sub_beat;
    assign wr_tdata = cur_data;
    assign wr_tkeep = ~({KW{1'b1}} << sub_n);
    assign be_wr_tready = (st == C_DISCARD) || (st == C_SCAT && cur_n == '0 && !sub_beat && !pkt_done);

    logic beat_fire;
    assign beat_fire = be_wr_tvalid && be_wr_tready;

    assign uq_push = st == C_PUSH;
    assign uq_written = written[31:0];
    assign uq_drop = c_err || stop;

    always_ff @(posedge clk) begin
        error <= 1'b0;
        len_err <= 1'b0;
        bad_tag <= 1'b0;
        case (st)
            C_IDLE: begin
                if (be_cpl_valid) begin
                    c_live <= t_live && !t_void;
                    c_err <= be_cpl_err;
                    c_len <= be_cpl_len;
                    cur_slot <= t_slot;
                    held_tag <= be_cpl_tag;
                    if (t_live && !t_void) begin
                        if (be_cpl_err) error <= 1'b1;
                        st <= C_LOAD;
                    end else begin
                        if (!t_void) bad_tag <= 1'b1;
                        st <= (be_cpl_len != '0) ? C_DISCARD : C_IDLE;
                    end
                end
            end
            C_LOAD: begin
                target <= (c_len < s_wr_len) ? c_len : s_wr_len;
                written <= '0;
                received <= '0;
                ent <= s_wr_first;
                buf_off <= '0;
                cur_n <= '0;
                sub_beat <= 1'b0;
                pkt_done <= 1'b0;
                if (!c_err && c_len > s_wr_len) len_err <= 1'b1;
                st <= (c_len == '0) ? C_PUSH : (c_err ? C_DISCARD : C_SCAT);
            end
            C_SCAT: begin
                if (beat_fire) begin
                    cur_data <= be_wr_tdata;
                    cur_n <= stop ? '0 : keep_n;
                    written <= written + (stop ? 33'd0 : 33'(keep_n));
                    received <= received + 33'(beat_bytes);
                    if (be_wr_tlast) begin
                        pkt_done <= 1'b1;
                        if (received + 33'(beat_bytes) != c_len) len_err <= 1'b1;
                    end
                end
                if (sc_valid && sc_ready) begin
                    sub_beat <= 1'b1;
                    sub_n <= cmd_n;
                    if (32'(cmd_n) == buf_rem) begin
                        ent <= pool_next;
                        buf_off <= '0;
                    end else buf_off <= buf_off + 32'(cmd_n);
                end
                if (wr_tvalid && wr_tready) begin
                    sub_beat <= 1'b0;
                    cur_data <= cur_data >> (8 * sub_n);
                    cur_n <= cur_n - sub_n;
                end
                if (!sub_beat && cur_n != '0 && stop) cur_n <= '0;  // abandoned: the rest is dropped
                if (pkt_done && cur_n == '0 && !sub_beat) st <= C_PUSH;
            end
            C_DISCARD: begin
                if (beat_fire && be_wr_tlast) st <= c_live ? C_PUSH : C_IDLE;
            end
            C_PUSH: st <= C_IDLE;
            default: st <= C_IDLE;
        endcase
        if (rst) begin
            st <= C_IDLE;
            cur_slot <= '0;
            c_err <= 1'b0;
        end
    end
endmodule

`default_nettype wire
