`default_nettype none
// Benchmark top (bench/run_bench.py, docs/bench.md): virtio_pci_dev whose guest-memory port goes through
// axi_delay (R and B delayed by LATENCY cycles) to the top's m_axi_ port, where the testbench's AxiRam sits.
// Every other port is the device's own, under the device's name, so the project's bus models bind unchanged.
// Free-running bench_* counters, sampled by the bench at the ends of a measurement window, count the device-side
// AXI traffic; the read probe times an AR that finds no read outstanding to its first R beat, and the run
// counters show whether the delay stage and the AxiRam ever carry one beat per cycle (the bus limit).
module virtio_bench_top #(
    parameter int NUM_QUEUES     = virtio_pkg::DEFAULT_NUM_QUEUES,
    parameter int AXI_DATA_WIDTH = virtio_pkg::DEFAULT_AXI_DATA_WIDTH,
    parameter int AXI_ID_WIDTH   = 4,
    parameter int FETCH_AHEAD    = virtio_pkg::DEFAULT_FETCH_AHEAD,
    parameter int TAG_WIDTH      = virtio_pkg::DEFAULT_TAG_WIDTH,
    parameter int LATENCY        = 16,
    localparam int KW            = AXI_DATA_WIDTH / 8
) (
    input  wire                       clk,
    input  wire                       rst,

    input  wire  [11:0]               s_axil_awaddr,
    input  wire  [2:0]                s_axil_awprot,
    input  wire                       s_axil_awvalid,
    output logic                      s_axil_awready,
    input  wire  [31:0]               s_axil_wdata,
    input  wire  [3:0]                s_axil_wstrb,
    input  wire                       s_axil_wvalid,
    output logic                      s_axil_wready,
    output logic [1:0]                s_axil_bresp,
    output logic                      s_axil_bvalid,
    input  wire                       s_axil_bready,
    input  wire  [11:0]               s_axil_araddr,
    input  wire  [2:0]                s_axil_arprot,
    input  wire                       s_axil_arvalid,
    output logic                      s_axil_arready,
    output logic [31:0]               s_axil_rdata,
    output logic [1:0]                s_axil_rresp,
    output logic                      s_axil_rvalid,
    input  wire                       s_axil_rready,

    // guest memory, behind the delay stage
    output logic [AXI_ID_WIDTH-1:0]   m_axi_awid,
    output logic [63:0]               m_axi_awaddr,
    output logic [7:0]                m_axi_awlen,
    output logic [2:0]                m_axi_awsize,
    output logic [1:0]                m_axi_awburst,
    output logic                      m_axi_awlock,
    output logic [3:0]                m_axi_awcache,
    output logic [2:0]                m_axi_awprot,
    output logic                      m_axi_awvalid,
    input  wire                       m_axi_awready,
    output logic [AXI_DATA_WIDTH-1:0] m_axi_wdata,
    output logic [KW-1:0]             m_axi_wstrb,
    output logic                      m_axi_wlast,
    output logic                      m_axi_wvalid,
    input  wire                       m_axi_wready,
    input  wire  [AXI_ID_WIDTH-1:0]   m_axi_bid,
    input  wire  [1:0]                m_axi_bresp,
    input  wire                       m_axi_bvalid,
    output logic                      m_axi_bready,
    output logic [AXI_ID_WIDTH-1:0]   m_axi_arid,
    output logic [63:0]               m_axi_araddr,
    output logic [7:0]                m_axi_arlen,
    output logic [2:0]                m_axi_arsize,
    output logic [1:0]                m_axi_arburst,
    output logic                      m_axi_arlock,
    output logic [3:0]                m_axi_arcache,
    output logic [2:0]                m_axi_arprot,
    output logic                      m_axi_arvalid,
    input  wire                       m_axi_arready,
    input  wire  [AXI_ID_WIDTH-1:0]   m_axi_rid,
    input  wire  [AXI_DATA_WIDTH-1:0] m_axi_rdata,
    input  wire  [1:0]                m_axi_rresp,
    input  wire                       m_axi_rlast,
    input  wire                       m_axi_rvalid,
    output logic                      m_axi_rready,

    output logic                      be_req_valid,
    input  wire                       be_req_ready,
    output logic [15:0]               be_req_queue,
    output logic [15:0]               be_req_head,
    output logic [TAG_WIDTH-1:0]      be_req_tag,
    output logic [32:0]               be_req_rd_len,
    output logic [32:0]               be_req_wr_len,
    output logic [AXI_DATA_WIDTH-1:0] be_rd_tdata,
    output logic [KW-1:0]             be_rd_tkeep,
    output logic                      be_rd_tvalid,
    input  wire                       be_rd_tready,
    output logic                      be_rd_tlast,
    input  wire                       be_cpl_valid,
    output logic                      be_cpl_ready,
    input  wire  [TAG_WIDTH-1:0]      be_cpl_tag,
    input  wire  [32:0]               be_cpl_len,
    input  wire                       be_cpl_err,
    input  wire  [AXI_DATA_WIDTH-1:0] be_wr_tdata,
    input  wire  [KW-1:0]             be_wr_tkeep,
    input  wire                       be_wr_tvalid,
    output logic                      be_wr_tready,
    input  wire                       be_wr_tlast,
    output logic                      be_quiesce,
    output logic                      be_flush,

    input  wire                       msix_enable,
    output logic                      irq_valid,
    input  wire                       irq_ready,
    output logic [15:0]               irq_vector,
    output logic                      intx,
    output logic                      diag_cpl_len_err,
    output logic                      diag_cpl_bad_tag,
    input  wire                       devcfg_wr_valid,
    input  wire  [7:0]                devcfg_wr_addr,
    input  wire  [31:0]               devcfg_wr_data,
    input  wire                       fault_inj,

    // bench counters (device side of the delay stage), cleared by rst
    output logic [31:0]               bench_cycles,
    output logic [31:0]               bench_ar_bursts,
    output logic [31:0]               bench_r_beats,
    output logic [31:0]               bench_aw_bursts,
    output logic [31:0]               bench_w_beats,
    output logic [31:0]               bench_rd_lat_sum,    // cycles, summed over the probed reads
    output logic [31:0]               bench_rd_lat_count,  // reads probed
    output logic [31:0]               bench_r_run_max,     // longest run of R beats in consecutive cycles
    output logic [31:0]               bench_w_run_max,     // the same for W beats
    output logic [31:0]               bench_ar_stalls,     // cycles the AxiRam held AR (valid, not ready)
    output logic [31:0]               bench_aw_stalls,     // the same for AW
    output logic [31:0]               bench_w_stalls       // the same for W
);

    // the device side of the response channels
    logic [AXI_ID_WIDTH-1:0]   dev_bid;
    logic [1:0]                dev_bresp;
    logic                      dev_bvalid;
    logic                      dev_bready;
    logic [AXI_ID_WIDTH-1:0]   dev_rid;
    logic [AXI_DATA_WIDTH-1:0] dev_rdata;
    logic [1:0]                dev_rresp;
    logic                      dev_rlast;
    logic                      dev_rvalid;
    logic                      dev_rready;

    virtio_pci_dev #(
        .NUM_QUEUES(NUM_QUEUES),
        .AXI_DATA_WIDTH(AXI_DATA_WIDTH),
        .AXI_ID_WIDTH(AXI_ID_WIDTH),
        .FETCH_AHEAD(FETCH_AHEAD),
        .TAG_WIDTH(TAG_WIDTH)
    ) dev (
        .clk(clk),
        .rst(rst),
        .s_axil_awaddr(s_axil_awaddr),
        .s_axil_awprot(s_axil_awprot),
        .s_axil_awvalid(s_axil_awvalid),
        .s_axil_awready(s_axil_awready),
        .s_axil_wdata(s_axil_wdata),
        .s_axil_wstrb(s_axil_wstrb),
        .s_axil_wvalid(s_axil_wvalid),
        .s_axil_wready(s_axil_wready),
        .s_axil_bresp(s_axil_bresp),
        .s_axil_bvalid(s_axil_bvalid),
        .s_axil_bready(s_axil_bready),
        .s_axil_araddr(s_axil_araddr),
        .s_axil_arprot(s_axil_arprot),
        .s_axil_arvalid(s_axil_arvalid),
        .s_axil_arready(s_axil_arready),
        .s_axil_rdata(s_axil_rdata),
        .s_axil_rresp(s_axil_rresp),
        .s_axil_rvalid(s_axil_rvalid),
        .s_axil_rready(s_axil_rready),
        .m_axi_awid(m_axi_awid),
        .m_axi_awaddr(m_axi_awaddr),
        .m_axi_awlen(m_axi_awlen),
        .m_axi_awsize(m_axi_awsize),
        .m_axi_awburst(m_axi_awburst),
        .m_axi_awlock(m_axi_awlock),
        .m_axi_awcache(m_axi_awcache),
        .m_axi_awprot(m_axi_awprot),
        .m_axi_awvalid(m_axi_awvalid),
        .m_axi_awready(m_axi_awready),
        .m_axi_wdata(m_axi_wdata),
        .m_axi_wstrb(m_axi_wstrb),
        .m_axi_wlast(m_axi_wlast),
        .m_axi_wvalid(m_axi_wvalid),
        .m_axi_wready(m_axi_wready),
        .m_axi_bid(dev_bid),
        .m_axi_bresp(dev_bresp),
        .m_axi_bvalid(dev_bvalid),
        .m_axi_bready(dev_bready),
        .m_axi_arid(m_axi_arid),
        .m_axi_araddr(m_axi_araddr),
        .m_axi_arlen(m_axi_arlen),
        .m_axi_arsize(m_axi_arsize),
        .m_axi_arburst(m_axi_arburst),
        .m_axi_arlock(m_axi_arlock),
        .m_axi_arcache(m_axi_arcache),
        .m_axi_arprot(m_axi_arprot),
        .m_axi_arvalid(m_axi_arvalid),
        .m_axi_arready(m_axi_arready),
        .m_axi_rid(dev_rid),
        .m_axi_rdata(dev_rdata),
        .m_axi_rresp(dev_rresp),
        .m_axi_rlast(dev_rlast),
        .m_axi_rvalid(dev_rvalid),
        .m_axi_rready(dev_rready),
        .be_req_valid(be_req_valid),
        .be_req_ready(be_req_ready),
        .be_req_queue(be_req_queue),
        .be_req_head(be_req_head),
        .be_req_tag(be_req_tag),
        .be_req_rd_len(be_req_rd_len),
        .be_req_wr_len(be_req_wr_len),
        .be_rd_tdata(be_rd_tdata),
        .be_rd_tkeep(be_rd_tkeep),
        .be_rd_tvalid(be_rd_tvalid),
        .be_rd_tready(be_rd_tready),
        .be_rd_tlast(be_rd_tlast),
        .be_cpl_valid(be_cpl_valid),
        .be_cpl_ready(be_cpl_ready),
        .be_cpl_tag(be_cpl_tag),
        .be_cpl_len(be_cpl_len),
        .be_cpl_err(be_cpl_err),
        .be_wr_tdata(be_wr_tdata),
        .be_wr_tkeep(be_wr_tkeep),
        .be_wr_tvalid(be_wr_tvalid),
        .be_wr_tready(be_wr_tready),
        .be_wr_tlast(be_wr_tlast),
        .be_quiesce(be_quiesce),
        .be_flush(be_flush),
        .msix_enable(msix_enable),
        .irq_valid(irq_valid),
        .irq_ready(irq_ready),
        .irq_vector(irq_vector),
        .intx(intx),
        .diag_cpl_len_err(diag_cpl_len_err),
        .diag_cpl_bad_tag(diag_cpl_bad_tag),
        .devcfg_wr_valid(devcfg_wr_valid),
        .devcfg_wr_addr(devcfg_wr_addr),
        .devcfg_wr_data(devcfg_wr_data),
        .fault_inj(fault_inj)
    );

    axi_delay #(.AXI_DATA_WIDTH(AXI_DATA_WIDTH), .AXI_ID_WIDTH(AXI_ID_WIDTH), .LATENCY(LATENCY)) delay (
        .clk(clk),
        .rst(rst),
        .s_axi_bid(dev_bid),
        .s_axi_bresp(dev_bresp),
        .s_axi_bvalid(dev_bvalid),
        .s_axi_bready(dev_bready),
        .s_axi_rid(dev_rid),
        .s_axi_rdata(dev_rdata),
        .s_axi_rresp(dev_rresp),
        .s_axi_rlast(dev_rlast),
        .s_axi_rvalid(dev_rvalid),
        .s_axi_rready(dev_rready),
        .m_axi_bid(m_axi_bid),
        .m_axi_bresp(m_axi_bresp),
        .m_axi_bvalid(m_axi_bvalid),
        .m_axi_bready(m_axi_bready),
        .m_axi_rid(m_axi_rid),
        .m_axi_rdata(m_axi_rdata),
        .m_axi_rresp(m_axi_rresp),
        .m_axi_rlast(m_axi_rlast),
        .m_axi_rvalid(m_axi_rvalid),
        .m_axi_rready(m_axi_rready)
    );

    // -- counters
    logic        ar_hs;
    logic        r_hs;
    logic        w_hs;
    logic [31:0] r_run_q;       // R beats in the consecutive cycles up to the last one
    logic [31:0] w_run_q;
    logic [31:0] reads_open_q;  // read bursts accepted and not yet ended (device side)
    logic        probe_q;       // a probed read waits for its first R beat
    logic [31:0] probe_start_q;

    assign ar_hs = m_axi_arvalid && m_axi_arready;
    assign r_hs = dev_rvalid && dev_rready;
    assign w_hs = m_axi_wvalid && m_axi_wready;

    always_ff @(posedge clk) begin
        bench_cycles <= bench_cycles + 32'd1;
        bench_ar_bursts <= bench_ar_bursts + 32'(ar_hs);
        bench_r_beats <= bench_r_beats + 32'(r_hs);
        bench_aw_bursts <= bench_aw_bursts + 32'(m_axi_awvalid && m_axi_awready);
        bench_w_beats <= bench_w_beats + 32'(w_hs);
        bench_ar_stalls <= bench_ar_stalls + 32'(m_axi_arvalid && !m_axi_arready);
        bench_aw_stalls <= bench_aw_stalls + 32'(m_axi_awvalid && !m_axi_awready);
        bench_w_stalls <= bench_w_stalls + 32'(m_axi_wvalid && !m_axi_wready);
        r_run_q <= r_hs ? r_run_q + 32'd1 : '0;
        w_run_q <= w_hs ? w_run_q + 32'd1 : '0;
        if (r_hs && r_run_q >= bench_r_run_max) begin
            bench_r_run_max <= r_run_q + 32'd1;
        end
        if (w_hs && w_run_q >= bench_w_run_max) begin
            bench_w_run_max <= w_run_q + 32'd1;
        end
        reads_open_q <= reads_open_q + 32'(ar_hs) - 32'(r_hs && dev_rlast);
        if (ar_hs && reads_open_q == '0 && !r_hs) begin
            probe_q <= 1'b1;
            probe_start_q <= bench_cycles;
        end
        if (probe_q && r_hs) begin
            probe_q <= 1'b0;
            bench_rd_lat_sum <= bench_rd_lat_sum + bench_cycles - probe_start_q;
            bench_rd_lat_count <= bench_rd_lat_count + 32'd1;
        end
        if (rst) begin
            bench_cycles <= '0;
            bench_ar_bursts <= '0;
            bench_r_beats <= '0;
            bench_aw_bursts <= '0;
            bench_w_beats <= '0;
            bench_rd_lat_sum <= '0;
            bench_rd_lat_count <= '0;
            bench_r_run_max <= '0;
            bench_ar_stalls <= '0;
            bench_aw_stalls <= '0;
            bench_w_stalls <= '0;
            bench_w_run_max <= '0;
            r_run_q <= '0;
            w_run_q <= '0;
            reads_open_q <= '0;
            probe_q <= 1'b0;
            probe_start_q <= '0;
        end
    end

endmodule
`default_nettype wire
