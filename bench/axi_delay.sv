`default_nettype none
// Bench-only memory latency for an AXI4 link: the response channels R and B are delayed by LATENCY cycles each
// (bench_delay_line: in order, one beat per cycle, so the link stays pipelined); AR, AW and W pass straight
// through in the bench top. A read therefore sees the slave's own turnaround plus LATENCY cycles, and a write's
// response comes LATENCY cycles later than the slave gives it.
module axi_delay #(
    parameter int AXI_DATA_WIDTH = 64,
    parameter int AXI_ID_WIDTH   = 4,
    parameter int LATENCY        = 16
) (
    input  wire                       clk,
    input  wire                       rst,

    // toward the master
    output logic [AXI_ID_WIDTH-1:0]   s_axi_bid,
    output logic [1:0]                s_axi_bresp,
    output logic                      s_axi_bvalid,
    input  wire                       s_axi_bready,
    output logic [AXI_ID_WIDTH-1:0]   s_axi_rid,
    output logic [AXI_DATA_WIDTH-1:0] s_axi_rdata,
    output logic [1:0]                s_axi_rresp,
    output logic                      s_axi_rlast,
    output logic                      s_axi_rvalid,
    input  wire                       s_axi_rready,

    // from the slave
    input  wire  [AXI_ID_WIDTH-1:0]   m_axi_bid,
    input  wire  [1:0]                m_axi_bresp,
    input  wire                       m_axi_bvalid,
    output logic                      m_axi_bready,
    input  wire  [AXI_ID_WIDTH-1:0]   m_axi_rid,
    input  wire  [AXI_DATA_WIDTH-1:0] m_axi_rdata,
    input  wire  [1:0]                m_axi_rresp,
    input  wire                       m_axi_rlast,
    input  wire                       m_axi_rvalid,
    output logic                      m_axi_rready
);

    bench_delay_line #(.WIDTH(AXI_ID_WIDTH + 2), .LATENCY(LATENCY)) b_line (
        .clk(clk),
        .rst(rst),
        .in_data({m_axi_bid, m_axi_bresp}),
        .in_valid(m_axi_bvalid),
        .in_ready(m_axi_bready),
        .out_data({s_axi_bid, s_axi_bresp}),
        .out_valid(s_axi_bvalid),
        .out_ready(s_axi_bready)
    );

    bench_delay_line #(.WIDTH(AXI_ID_WIDTH + AXI_DATA_WIDTH + 3), .LATENCY(LATENCY)) r_line (
        .clk(clk),
        .rst(rst),
        .in_data({m_axi_rid, m_axi_rdata, m_axi_rresp, m_axi_rlast}),
        .in_valid(m_axi_rvalid),
        .in_ready(m_axi_rready),
        .out_data({s_axi_rid, s_axi_rdata, s_axi_rresp, s_axi_rlast}),
        .out_valid(s_axi_rvalid),
        .out_ready(s_axi_rready)
    );

endmodule
`default_nettype wire
