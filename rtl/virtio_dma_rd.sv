`default_nettype none
// One read port of the DMA block (virtio_dma): commands are cut into bursts (virtio_dma_split), each burst asks for
// AR only when the port's beat buffer has room for all of it and fewer than RD_OUTSTANDING bursts are held (in
// flight or buffered), so R beats are always taken at once. Buffered beats are packed into the output packet
// (virtio_dma_rd_pack) in command order; a command with last = 0 continues the packet with the next command's bytes.
// EXACT = 1: each burst reads exactly a piece of its command, with narrow beats where the alignment needs them
// (virtio_dma_split); a beat's valid lanes are those of its address within the bus word. EXACT = 0: full bus words.
// While `stop` is high no AR is asked for: the bursts split from then on are dropped, and the packer gets their beats
// from here (zero data, error set), so every command still delivers its whole packet, with terr.
// `bus_end` pulses when the bus accepts the rlast beat of a command's last burst (in command order), ahead of the
// packet, which leaves through the beat buffer and the packer some cycles later.
module virtio_dma_rd #(
    parameter int DATA_WIDTH = 64,
    parameter int MAX_BURST_BEATS = 16,
    parameter int RD_OUTSTANDING = 4,
    parameter int EXACT = 0
) (
    input  wire                      clk,
    input  wire                      rst,         // synchronous, active high
    input  wire                      cmd_valid,
    output logic                     cmd_ready,
    input  wire  [63:0]              cmd_addr,
    input  wire  [31:0]              cmd_len,
    input  wire                      cmd_last,
    output logic [DATA_WIDTH-1:0]    tdata,
    output logic [DATA_WIDTH/8-1:0]  tkeep,
    output logic                     tlast,
    output logic                     tvalid,
    input  wire                      tready,
    output logic                     terr,
    output logic                     ar_valid,
    input  wire                      ar_ready,
    output logic [63:0]              ar_addr,
    output logic [7:0]               ar_len,
    output logic [2:0]               ar_size,
    input  wire                      r_valid,     // an R beat with this port's ID
    output logic                     r_ready,
    input  wire  [DATA_WIDTH-1:0]    r_data,
    input  wire                      r_err,       // SLVERR or DECERR
    input  wire                      r_last,
    input  wire                      stop,        // drop bursts instead of asking for AR (virtio_dma's freeze)
    input  wire                      hold,        // ask for no AR yet, drop nothing (an error burst is arriving)
    output logic                     bus_end,     // this edge takes the last R beat of a command from the bus
    output logic                     busy
);

    localparam int KW = DATA_WIDTH / 8;
    localparam int OFF_W = $clog2(KW);
    localparam int BUF_BEATS = RD_OUTSTANDING * MAX_BURST_BEATS;
    localparam int CREDIT_W = $clog2(BUF_BEATS + 1) + 1;  // one spare bit: reserved + a burst's beats
    localparam int META_W = 2 * OFF_W + 3 + 1 + 1 + 8;  // lo, hi_m1, size, eop, dropped, len

    logic             burst_valid, burst_ready, burst_last, burst_eop;
    /* verilator lint_off UNUSEDSIGNAL */  // a read burst's lanes already say where its command starts
    logic             burst_first;
    /* verilator lint_on UNUSEDSIGNAL */
    logic [7:0]       burst_len;
    logic [2:0]       burst_size;
    logic [OFF_W-1:0] burst_lo, burst_hi_m1;
    logic             room, meta_in_ready, ar_fire, burst_take;
    logic [CREDIT_W-1:0] reserved;  // buffer beats promised to bursts asked for and not yet packed

    logic             meta_valid, meta_eop, meta_dropped;
    logic [7:0]       meta_len, dropped_beat_q;  // beats - 1 of the head burst; beats of a dropped one sent so far
    logic [OFF_W-1:0] meta_lo, meta_hi_m1;
    logic [2:0]       meta_size;
    logic             buf_valid, buf_err, buf_last, buf_take;
    logic             beat_valid, beat_err, beat_last, beat_take, first_beat;
    logic [OFF_W-1:0] beat_lo, beat_hi_m1, lane_q, size_lanes;  // lane_q: first lane of the next beat
    logic [DATA_WIDTH-1:0] beat_data;
    logic             pack_ready, pack_busy;

    virtio_dma_split #(.DATA_WIDTH(DATA_WIDTH), .MAX_BURST_BEATS(MAX_BURST_BEATS), .USER_WIDTH(1),
                       .EXACT(EXACT)) u_split (
        .clk, .rst,
        .cmd_valid, .cmd_ready, .cmd_addr, .cmd_len, .cmd_user(cmd_last),
        .burst_valid, .burst_ready, .burst_addr(ar_addr), .burst_len, .burst_size, .burst_lo, .burst_hi_m1,
        .burst_first, .burst_last, .burst_user(burst_eop)
    );

    assign room = reserved + CREDIT_W'(burst_len) + 1'b1 <= CREDIT_W'(BUF_BEATS);
    assign ar_valid = burst_valid && meta_in_ready && room && !stop && !hold;
    assign ar_len = burst_len;
    assign ar_size = burst_size;
    assign burst_ready = stop ? meta_in_ready : ar_ready && meta_in_ready && room && !hold;
    assign ar_fire = ar_valid && ar_ready;
    assign burst_take = burst_valid && burst_ready;

    virtio_dma_fifo #(.WIDTH(META_W), .DEPTH(RD_OUTSTANDING)) u_meta (
        .clk, .rst,
        .in_valid(burst_take), .in_ready(meta_in_ready),
        .in_data({burst_lo, burst_hi_m1, burst_size, burst_last && burst_eop, stop, burst_len}),
        .out_valid(meta_valid), .out_ready(beat_take && beat_last),
        .out_data({meta_lo, meta_hi_m1, meta_size, meta_eop, meta_dropped, meta_len})
    );

    // Bursts on the bus, in AR order (R answers one ID in that order): whether each ends its command. It holds no
    // more entries than u_meta, so it has room whenever an AR is asked for.
    logic bus_valid, bus_cmd_end, r_last_take;
    /* verilator lint_off UNUSEDSIGNAL */
    logic bus_room;
    /* verilator lint_on UNUSEDSIGNAL */
    assign r_last_take = r_valid && r_ready && r_last;
    virtio_dma_fifo #(.WIDTH(1), .DEPTH(RD_OUTSTANDING)) u_bus (
        .clk, .rst,
        .in_valid(ar_fire), .in_ready(bus_room), .in_data(burst_last),
        .out_valid(bus_valid), .out_ready(r_last_take), .out_data(bus_cmd_end)
    );
    assign bus_end = r_last_take && bus_valid && bus_cmd_end;

    virtio_dma_fifo #(.WIDTH(DATA_WIDTH + 2), .DEPTH(BUF_BEATS)) u_beats (
        .clk, .rst,
        .in_valid(r_valid), .in_ready(r_ready), .in_data({r_data, r_err, r_last}),
        .out_valid(buf_valid), .out_ready(buf_take), .out_data({beat_data, buf_err, buf_last})
    );

    // The head burst's beats: from the buffer, or made up here for a dropped burst.
    assign beat_valid = meta_dropped || buf_valid;
    assign beat_err = meta_dropped || buf_err;
    assign beat_last = meta_dropped ? dropped_beat_q == meta_len : buf_last;
    assign buf_take = beat_take && !meta_dropped;

    virtio_dma_rd_pack #(.DATA_WIDTH(DATA_WIDTH)) u_pack (
        .clk, .rst,
        .in_valid(beat_valid && meta_valid), .in_ready(pack_ready), .in_data(meta_dropped ? '0 : beat_data),
        .in_lo(beat_lo), .in_hi_m1(beat_hi_m1),
        .in_eop(beat_last && meta_eop), .in_err(beat_err),
        .tdata, .tkeep, .tlast, .terr, .tvalid, .tready, .busy(pack_busy)
    );

    // Beat i of a burst holds the 2^size lanes from (address + i * 2^size) mod KW; the first beat starts at the
    // burst's first byte and the last ends at its last byte (for full-word bursts: lane 0 and KW-1 in between).
    assign size_lanes = ~({OFF_W{1'b1}} << meta_size);
    assign beat_lo = first_beat ? meta_lo : lane_q;
    assign beat_hi_m1 = beat_last ? meta_hi_m1 : beat_lo | size_lanes;
    assign beat_take = beat_valid && meta_valid && pack_ready;
    assign busy = burst_valid || meta_valid || buf_valid || pack_busy;

    always_ff @(posedge clk) begin
        if (rst) begin
            reserved <= '0;
            first_beat <= 1'b1;
            lane_q <= '0;
            dropped_beat_q <= '0;
        end else begin
            reserved <= reserved + (ar_fire ? CREDIT_W'(burst_len) + 1'b1 : '0) - CREDIT_W'(buf_take);
            if (beat_take && meta_dropped) dropped_beat_q <= beat_last ? '0 : dropped_beat_q + 1'b1;
            if (beat_take) begin
                first_beat <= beat_last;
                lane_q <= (beat_lo | size_lanes) + 1'b1;  // wraps to lane 0 after the word's last lane
            end
        end
    end

endmodule
`default_nettype wire
