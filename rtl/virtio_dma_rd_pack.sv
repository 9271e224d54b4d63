`default_nettype none
// Byte packer of a DMA read port (virtio_dma_rd): takes bus words with a valid lane range [lo, hi_m1] each and emits
// the valid bytes as an AXI-Stream packet packed from lane 0: every beat full except the last (in_eop marks the word
// that ends the packet). Up to KW-1 bytes wait in `carry` for the next word; when the packet's end leaves more than
// one beat to send, the input pauses one cycle for the second. terr is the OR of in_err over the packet, on tlast.
module virtio_dma_rd_pack #(
    parameter int DATA_WIDTH = 64
) (
    input  wire                             clk,
    input  wire                             rst,        // synchronous, active high
    input  wire                             in_valid,
    output logic                            in_ready,
    input  wire  [DATA_WIDTH-1:0]           in_data,
    input  wire  [$clog2(DATA_WIDTH/8)-1:0] in_lo,      // first valid lane
    input  wire  [$clog2(DATA_WIDTH/8)-1:0] in_hi_m1,   // last valid lane (>= in_lo)
    input  wire                             in_eop,     // this word's bytes end the packet
    input  wire                             in_err,
    output logic [DATA_WIDTH-1:0]           tdata,
    output logic [DATA_WIDTH/8-1:0]         tkeep,
    output logic                            tlast,
    output logic                            terr,
    output logic                            tvalid,
    input  wire                             tready,
    output logic                            busy        // bytes held or a beat waiting
);

    localparam int KW = DATA_WIDTH / 8;
    localparam int OFF_W = $clog2(KW);

    logic [DATA_WIDTH-1:0]   carry_q;     // bytes 0 .. fill_q-1 valid, the rest zero
    logic [OFF_W-1:0]        fill_q;
    logic                    flush_q;     // carry_q ends the packet: send it before taking input
    logic                    err_q;

    logic [OFF_W:0]          in_count, total;
    logic [KW-1:0]           in_lanes_ones, total_lanes_ones, fill_lanes_ones;
    logic [DATA_WIDTH-1:0]   in_bit_mask, in_bytes;
    logic [2*DATA_WIDTH-1:0] combined;
    logic                    out_free, accept, total_over_beat, total_full_beat, err_next;

    assign in_count = (OFF_W+1)'(in_hi_m1 - in_lo) + 1'b1;
    assign total = (OFF_W+1)'(fill_q) + in_count;
    assign in_lanes_ones = ~({KW{1'b1}} << in_count);
    assign total_lanes_ones = ~({KW{1'b1}} << total);
    assign fill_lanes_ones = ~({KW{1'b1}} << fill_q);
    for (genvar lane = 0; lane < KW; lane++) begin : g_mask
        assign in_bit_mask[lane*8 +: 8] = {8{in_lanes_ones[lane]}};
    end
    assign in_bytes = (in_data >> {in_lo, 3'b000}) & in_bit_mask;
    assign combined = {{DATA_WIDTH{1'b0}}, carry_q} | ({{DATA_WIDTH{1'b0}}, in_bytes} << {fill_q, 3'b000});
    assign total_full_beat = total[OFF_W];
    assign total_over_beat = total[OFF_W] && total[OFF_W-1:0] != '0;
    assign err_next = err_q || in_err;

    assign out_free = !tvalid || tready;
    assign in_ready = out_free && !flush_q;
    assign accept = in_valid && in_ready;
    assign busy = tvalid || fill_q != '0 || flush_q;

    always_ff @(posedge clk) begin
        if (rst) begin
            tvalid <= 1'b0;
            fill_q <= '0;
            flush_q <= 1'b0;
            err_q <= 1'b0;
            carry_q <= '0;
        end else begin
            if (tvalid && tready) tvalid <= 1'b0;
            if (flush_q && out_free) begin
                tvalid <= 1'b1;
                tdata <= carry_q;
                tkeep <= fill_lanes_ones;
                tlast <= 1'b1;
                terr <= err_q;
                carry_q <= '0;
                fill_q <= '0;
                flush_q <= 1'b0;
                err_q <= 1'b0;
            end else if (accept) begin
                if (in_eop && !total_over_beat) begin
                    tvalid <= 1'b1;
                    tdata <= combined[DATA_WIDTH-1:0];
                    tkeep <= total_lanes_ones;
                    tlast <= 1'b1;
                    terr <= err_next;
                    carry_q <= '0;
                    fill_q <= '0;
                    err_q <= 1'b0;
                end else if (total_full_beat) begin
                    tvalid <= 1'b1;
                    tdata <= combined[DATA_WIDTH-1:0];
                    tkeep <= '1;
                    tlast <= 1'b0;
                    terr <= 1'b0;
                    carry_q <= combined[2*DATA_WIDTH-1:DATA_WIDTH];
                    fill_q <= total[OFF_W-1:0];
                    flush_q <= in_eop;
                    err_q <= err_next;
                end else begin
                    carry_q <= combined[DATA_WIDTH-1:0];
                    fill_q <= total[OFF_W-1:0];
                    err_q <= err_next;
                end
            end
        end
    end

endmodule
`default_nettype wire
