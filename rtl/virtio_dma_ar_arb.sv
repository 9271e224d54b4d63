`default_nettype none
// AR channel of the DMA block (virtio_dma): round-robin between the two read ports, one registered AR beat at a
// time. Port N's bursts carry ARID N, so each port's R beats come back in its own order.
module virtio_dma_ar_arb #(
    parameter int ID_WIDTH = 4
) (
    input  wire                 clk,
    input  wire                 rst,        // synchronous, active high
    input  wire                 req0_valid,
    output logic                req0_ready,
    input  wire  [63:0]         req0_addr,
    input  wire  [7:0]          req0_len,
    input  wire  [2:0]          req0_size,
    input  wire                 req1_valid,
    output logic                req1_ready,
    input  wire  [63:0]         req1_addr,
    input  wire  [7:0]          req1_len,
    input  wire  [2:0]          req1_size,
    output logic [ID_WIDTH-1:0] arid,
    output logic [63:0]         araddr,
    output logic [7:0]          arlen,
    output logic [2:0]          arsize,
    output logic                arvalid,
    input  wire                 arready
);

    logic out_free, pick1, last_was1;

    assign out_free = !arvalid || arready;
    assign pick1 = req1_valid && (!req0_valid || !last_was1);
    assign req0_ready = out_free && !pick1;
    assign req1_ready = out_free && pick1;

    always_ff @(posedge clk) begin
        if (rst) begin
            arvalid <= 1'b0;
            last_was1 <= 1'b0;
        end else if (out_free) begin
            arvalid <= req0_valid || req1_valid;
            if (req0_valid || req1_valid) begin
                last_was1 <= pick1;
                arid <= ID_WIDTH'(pick1);
                araddr <= pick1 ? req1_addr : req0_addr;
                arlen <= pick1 ? req1_len : req0_len;
                arsize <= pick1 ? req1_size : req0_size;
            end
        end
    end

endmodule
`default_nettype wire
