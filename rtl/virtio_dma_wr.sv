`default_nettype none
// Write port of the DMA block (virtio_dma): commands are cut into bursts (virtio_dma_split); each burst takes one
// registered AW beat and queues its W work. The W generator places each beat's bytes at their lanes with strobes
// on exactly [addr, addr+len) of the command, from the command's immediate data or from the write stream. Stream
// beats (popcount(tkeep) bytes from lane 0) are pulled into a three-word byte queue only while accepted stream
// commands still lack bytes, so a beat may feed several commands and a command several beats. The queue takes a
// beat whenever it holds at most two words, which keeps W at one beat per cycle at any lane offset. One completion pulse
// per command, in order, when the B responses of all its bursts are back; done_err if any was SLVERR or DECERR.
// While `stop` is high no AW is offered: the bursts split from then on are dropped. A dropped burst still takes its
// stream bytes (so the stream stays in step) but sends no W, and counts as an error response once its bytes are taken.
module virtio_dma_wr #(
    parameter int DATA_WIDTH = 64,
    parameter int MAX_BURST_BEATS = 16,
    parameter int WR_OUTSTANDING = 4
) (
    input  wire                      clk,
    input  wire                      rst,         // synchronous, active high
    input  wire                      cmd_valid,
    output logic                     cmd_ready,
    input  wire  [63:0]              cmd_addr,
    input  wire  [31:0]              cmd_len,
    input  wire                      cmd_imm,
    input  wire  [63:0]              cmd_data,
    input  wire  [DATA_WIDTH-1:0]    s_tdata,
    input  wire  [DATA_WIDTH/8-1:0]  s_tkeep,
    input  wire                      s_tvalid,
    output logic                     s_tready,
    output logic                     done_valid,
    output logic                     done_err,
    output logic [63:0]              awaddr,
    output logic [7:0]               awlen,
    output logic                     awvalid,
    input  wire                      awready,
    output logic [DATA_WIDTH-1:0]    wdata,
    output logic [DATA_WIDTH/8-1:0]  wstrb,
    output logic                     wlast,
    output logic                     wvalid,
    input  wire                      wready,
    input  wire                      b_valid,
    output logic                     b_ready,
    input  wire                      b_err,       // SLVERR or DECERR
    input  wire                      stop,        // drop bursts instead of offering AW (virtio_dma's freeze)
    input  wire                      hold,        // offer no AW yet, drop nothing (an error burst is arriving)
    output logic                     busy
);

    localparam int KW = DATA_WIDTH / 8;
    localparam int OFF_W = $clog2(KW);
    localparam int CNT_W = OFF_W + 2;            // byte queue fill, 0 .. 3*KW
    localparam int WQ_W = 8 + 2 * OFF_W + 3 + 64;
    localparam int DROP_W = $clog2(WR_OUTSTANDING + 1);

    // -- bursts: AW beat, W work, B bookkeeping ---------------------------------------------------------------------
    logic             burst_valid, burst_ready, burst_first, burst_last, burst_imm;
    logic [63:0]      burst_addr, burst_data;
    logic [7:0]       burst_len;
    /* verilator lint_off UNUSEDSIGNAL */  // writes are full-word bursts: the size is log2(KW) at the top
    logic [2:0]       burst_size;
    /* verilator lint_on UNUSEDSIGNAL */
    logic [OFF_W-1:0] burst_lo, burst_hi_m1;
    logic             wq_in_ready, bq_in_ready, aw_free, burst_take;

    virtio_dma_split #(.DATA_WIDTH(DATA_WIDTH), .MAX_BURST_BEATS(MAX_BURST_BEATS), .USER_WIDTH(65)) u_split (
        .clk, .rst,
        .cmd_valid, .cmd_ready, .cmd_addr, .cmd_len, .cmd_user({cmd_imm, cmd_data}),
        .burst_valid, .burst_ready, .burst_addr, .burst_len, .burst_size, .burst_lo, .burst_hi_m1,
        .burst_first, .burst_last, .burst_user({burst_imm, burst_data})
    );

    assign aw_free = !awvalid || awready;
    assign burst_ready = (aw_free && !hold || stop) && wq_in_ready && bq_in_ready;
    assign burst_take = burst_valid && burst_ready;

    always_ff @(posedge clk) begin
        if (rst) begin
            awvalid <= 1'b0;
        end else if (aw_free) begin
            awvalid <= burst_take && !stop;
            awaddr <= burst_addr;
            awlen <= burst_len;
        end
    end

    logic             wq_valid, wq_pop, wq_first, wq_imm, wq_dropped;
    logic [7:0]       wq_len;
    logic [OFF_W-1:0] wq_lo, wq_hi_m1;
    logic [63:0]      wq_data;

    virtio_dma_fifo #(.WIDTH(WQ_W), .DEPTH(2)) u_wq (
        .clk, .rst,
        .in_valid(burst_take), .in_ready(wq_in_ready),
        .in_data({burst_len, burst_lo, burst_hi_m1, burst_first, burst_imm, stop, burst_data}),
        .out_valid(wq_valid), .out_ready(wq_pop),
        .out_data({wq_len, wq_lo, wq_hi_m1, wq_first, wq_imm, wq_dropped, wq_data})
    );

    // u_bq: one entry per burst in order, retired by its B, or (dropped) once the W generator has taken its bytes
    logic              bq_valid, bq_last, bq_dropped, bq_pop, resp_err, err_acc;
    logic [DROP_W-1:0] dropped_done_q;  // dropped bursts whose bytes are taken, not yet retired from u_bq

    virtio_dma_fifo #(.WIDTH(2), .DEPTH(WR_OUTSTANDING)) u_bq (
        .clk, .rst,
        .in_valid(burst_take), .in_ready(bq_in_ready), .in_data({burst_last, stop}),
        .out_valid(bq_valid), .out_ready(bq_pop), .out_data({bq_last, bq_dropped})
    );

    // Every B has its entry in u_bq: a dropped burst at the head sends no W, so no B can be due before it retires.
    assign b_ready = 1'b1;
    assign bq_pop = bq_valid && (bq_dropped ? dropped_done_q != '0 : b_valid);
    assign resp_err = bq_dropped || b_err;

    always_ff @(posedge clk) begin
        if (rst) begin
            done_valid <= 1'b0;
            err_acc <= 1'b0;
            dropped_done_q <= '0;
        end else begin
            done_valid <= bq_pop && bq_last;
            done_err <= err_acc || resp_err;
            if (bq_pop) err_acc <= bq_last ? 1'b0 : err_acc || resp_err;
            dropped_done_q <= dropped_done_q + DROP_W'(wq_pop && wq_dropped) - DROP_W'(bq_pop && bq_dropped);
        end
    end

    // -- stream byte queue --------------------------------------------------------------------------------------------
    logic [3*DATA_WIDTH-1:0] queue_q;   // bytes 0 .. fill_q-1 valid, the rest zero
    logic [CNT_W-1:0]        fill_q, taken, after_take;
    logic signed [33:0]      owed_q;    // bytes accepted stream commands still need from the stream
    logic [OFF_W:0]          keep_count;
    logic [DATA_WIDTH-1:0]   keep_bits;
    logic                    pull;

    assign keep_count = (OFF_W+1)'($countones(s_tkeep));
    for (genvar lane = 0; lane < KW; lane++) begin : g_keep
        assign keep_bits[lane*8 +: 8] = {8{s_tkeep[lane]}};
    end

    assign s_tready = fill_q <= CNT_W'(2 * KW) && owed_q > 0;
    assign pull = s_tvalid && s_tready;
    assign after_take = fill_q - taken;

    always_ff @(posedge clk) begin
        if (rst) begin
            queue_q <= '0;
            fill_q <= '0;
            owed_q <= '0;
        end else begin
            queue_q <= (queue_q >> {taken, 3'b000})
                       | (pull ? {{2*DATA_WIDTH{1'b0}}, s_tdata & keep_bits} << {after_take, 3'b000} : '0);
            fill_q <= after_take + (pull ? CNT_W'(keep_count) : '0);
            owed_q <= owed_q + (cmd_valid && cmd_ready && !cmd_imm ? 34'(cmd_len) : '0)
                      - (pull ? 34'(keep_count) : '0);
        end
    end

    // -- W generator ---------------------------------------------------------------------------------------------------
    logic [7:0]            beat_q;
    logic [63:0]           imm_q, imm_cur;
    logic                  beat_last, w_free, w_go;
    logic [OFF_W-1:0]      lane_lo, lane_hi_m1;
    logic [OFF_W:0]        beat_count;
    logic [KW-1:0]         count_ones;
    logic [DATA_WIDTH-1:0] source;

    assign beat_last = beat_q == wq_len;
    assign lane_lo = beat_q == 8'd0 ? wq_lo : '0;
    assign lane_hi_m1 = beat_last ? wq_hi_m1 : '1;
    assign beat_count = (OFF_W+1)'(lane_hi_m1 - lane_lo) + 1'b1;
    assign count_ones = ~({KW{1'b1}} << beat_count);
    assign imm_cur = wq_first && beat_q == 8'd0 ? wq_data : imm_q;
    assign source = wq_imm ? DATA_WIDTH'(imm_cur) : queue_q[DATA_WIDTH-1:0];
    assign w_free = !wvalid || wready;
    assign w_go = wq_valid && w_free && (wq_imm || fill_q >= CNT_W'(beat_count));
    assign wq_pop = w_go && beat_last;
    assign taken = w_go && !wq_imm ? CNT_W'(beat_count) : '0;

    always_ff @(posedge clk) begin
        if (rst) begin
            wvalid <= 1'b0;
            beat_q <= '0;
        end else begin
            if (wvalid && wready) wvalid <= 1'b0;
            if (w_go) begin
                wvalid <= !wq_dropped;
                wdata <= source << {lane_lo, 3'b000};
                wstrb <= count_ones << lane_lo;
                wlast <= beat_last;
                beat_q <= beat_last ? 8'd0 : beat_q + 1'b1;
                imm_q <= imm_cur >> {beat_count, 3'b000};
            end
        end
    end

    assign busy = burst_valid || awvalid || wq_valid || wvalid || bq_valid;

endmodule
`default_nettype wire
