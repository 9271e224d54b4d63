`default_nettype none
// Guest-memory DMA block: an AXI4 master with two read ports (rd0: control reads, rd1: gather reads) and one write
// port (scatter and immediate writes). Ports and behaviour: docs/rtl-dma.md (interface contract with the engine).
// rd0 uses ARID 0, rd1 ARID 1, writes AWID 0. INCR bursts of at most MAX_BURST_BEATS beats, never across 4 KiB;
// rd1 and writes use full bus words, rd0 reads exactly its commands' bytes (narrow beats where the alignment needs
// them); at most RD_OUTSTANDING read bursts held per read port. After a failed transaction (error B, rlast of a read
// burst with an error beat), and while dma_freeze is high, no new AR/AW: commands complete without bus traffic
// (SPEC 4.7; docs/rtl-dma.md "Freeze").
module virtio_dma #(
    parameter int AXI_DATA_WIDTH = 64,
    parameter int AXI_ID_WIDTH = 4,
    parameter int MAX_BURST_BEATS = 16,
    parameter int RD_OUTSTANDING = 4
) (
    input  wire                          clk,
    input  wire                          rst,             // synchronous, active high

    // AXI4 master to guest memory
    output logic [AXI_ID_WIDTH-1:0]      m_axi_awid,
    output logic [63:0]                  m_axi_awaddr,
    output logic [7:0]                   m_axi_awlen,
    output logic [2:0]                   m_axi_awsize,
    output logic [1:0]                   m_axi_awburst,
    output logic                         m_axi_awlock,
    output logic [3:0]                   m_axi_awcache,
    output logic [2:0]                   m_axi_awprot,
    output logic                         m_axi_awvalid,
    input  wire                          m_axi_awready,
    output logic [AXI_DATA_WIDTH-1:0]    m_axi_wdata,
    output logic [AXI_DATA_WIDTH/8-1:0]  m_axi_wstrb,
    output logic                         m_axi_wlast,
    output logic                         m_axi_wvalid,
    input  wire                          m_axi_wready,
    /* verilator lint_off UNUSEDSIGNAL */  // one write ID; the low response bit tells OKAY from EXOKAY only
    input  wire  [AXI_ID_WIDTH-1:0]      m_axi_bid,
    input  wire  [1:0]                   m_axi_bresp,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                          m_axi_bvalid,
    output logic                         m_axi_bready,
    output logic [AXI_ID_WIDTH-1:0]      m_axi_arid,
    output logic [63:0]                  m_axi_araddr,
    output logic [7:0]                   m_axi_arlen,
    output logic [2:0]                   m_axi_arsize,
    output logic [1:0]                   m_axi_arburst,
    output logic                         m_axi_arlock,
    output logic [3:0]                   m_axi_arcache,
    output logic [2:0]                   m_axi_arprot,
    output logic                         m_axi_arvalid,
    input  wire                          m_axi_arready,
    input  wire  [AXI_ID_WIDTH-1:0]      m_axi_rid,
    input  wire  [AXI_DATA_WIDTH-1:0]    m_axi_rdata,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire  [1:0]                   m_axi_rresp,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                          m_axi_rlast,
    input  wire                          m_axi_rvalid,
    output logic                         m_axi_rready,

    // read port 0 (control reads)
    input  wire                          rd0_cmd_valid,
    output logic                         rd0_cmd_ready,
    input  wire  [63:0]                  rd0_cmd_addr,
    input  wire  [31:0]                  rd0_cmd_len,
    input  wire                          rd0_cmd_last,
    output logic [AXI_DATA_WIDTH-1:0]    rd0_tdata,
    output logic [AXI_DATA_WIDTH/8-1:0]  rd0_tkeep,
    output logic                         rd0_tlast,
    output logic                         rd0_tvalid,
    input  wire                          rd0_tready,
    output logic                         rd0_terr,
    output logic                         rd0_bus_end,     // the bus took the last R beat of a port-0 command

    // read port 1 (gather reads)
    input  wire                          rd1_cmd_valid,
    output logic                         rd1_cmd_ready,
    input  wire  [63:0]                  rd1_cmd_addr,
    input  wire  [31:0]                  rd1_cmd_len,
    input  wire                          rd1_cmd_last,
    output logic [AXI_DATA_WIDTH-1:0]    rd1_tdata,
    output logic [AXI_DATA_WIDTH/8-1:0]  rd1_tkeep,
    output logic                         rd1_tlast,
    output logic                         rd1_tvalid,
    input  wire                          rd1_tready,
    output logic                         rd1_terr,

    // write port (scatter and immediate writes)
    input  wire                          wr_cmd_valid,
    output logic                         wr_cmd_ready,
    input  wire  [63:0]                  wr_cmd_addr,
    input  wire  [31:0]                  wr_cmd_len,
    input  wire                          wr_cmd_imm,
    input  wire  [63:0]                  wr_cmd_data,
    input  wire  [AXI_DATA_WIDTH-1:0]    wr_tdata,
    input  wire  [AXI_DATA_WIDTH/8-1:0]  wr_tkeep,
    input  wire                          wr_tvalid,
    output logic                         wr_tready,
    output logic                         wr_done_valid,
    output logic                         wr_done_err,

    // level: no new AR/AW; commands complete without bus traffic (reads with terr, writes with wr_done_err); clears
    // the sticky stop an error response sets. The engine drives it high outside RUNNING and SUSPENDING (SPEC 4.7).
    input  wire                          dma_freeze,
    output logic                         dma_idle
);

    localparam logic [2:0] SIZE_FULL_WORD = 3'($clog2(AXI_DATA_WIDTH / 8));
    localparam logic [1:0] BURST_INCR = 2'b01;
    localparam logic [3:0] CACHE_NORMAL_BUFFERABLE = 4'b0011;
    localparam logic [AXI_ID_WIDTH-1:0] RD0_ID = AXI_ID_WIDTH'(0);
    localparam logic [AXI_ID_WIDTH-1:0] RD1_ID = AXI_ID_WIDTH'(1);

    logic             rd0_ar_valid, rd0_ar_ready, rd1_ar_valid, rd1_ar_ready;
    logic [63:0]      rd0_ar_addr, rd1_ar_addr;
    logic [7:0]       rd0_ar_len, rd1_ar_len;
    logic [2:0]       rd0_ar_size, rd1_ar_size;
    logic             rd0_r_ready, rd1_r_ready, rd0_busy, rd1_busy, wr_busy;
    /* verilator lint_off UNUSEDSIGNAL */  // only the decision reads of port 0 need the bus-side order (rule 8.12)
    logic             rd1_bus_end;
    /* verilator lint_on UNUSEDSIGNAL */
    logic             r_is_rd0, r_is_rd1, r_err;
    logic             frozen, error_response, stop, hold, r_take, r_burst_failed;
    logic [2:0]       r_class, r_err_open;  // one-hot ID class (rd0, rd1, other); an error beat in its open burst

    assign m_axi_arburst = BURST_INCR;
    assign m_axi_arlock = 1'b0;
    assign m_axi_arcache = CACHE_NORMAL_BUFFERABLE;
    assign m_axi_arprot = 3'b000;
    assign m_axi_awid = RD0_ID;
    assign m_axi_awsize = SIZE_FULL_WORD;
    assign m_axi_awburst = BURST_INCR;
    assign m_axi_awlock = 1'b0;
    assign m_axi_awcache = CACHE_NORMAL_BUFFERABLE;
    assign m_axi_awprot = 3'b000;

    assign r_is_rd0 = m_axi_rid == RD0_ID;
    assign r_is_rd1 = m_axi_rid == RD1_ID;
    assign r_err = m_axi_rresp[1];  // SLVERR (2) or DECERR (3)
    // SPEC 4.7 / rule 8.9: after a DMA error the device starts no further guest-memory access. The engine learns
    // of it only at the command's end, so the block stops by itself once the failing transaction has completed on
    // the bus (its B, or the rlast beat of a read burst with an error on any beat): sticky `frozen` from that
    // handshake (counted in the same cycle, so no AR/AW is offered after it) until dma_freeze clears it.
    assign r_class = {!r_is_rd0 && !r_is_rd1, r_is_rd1, r_is_rd0};
    assign r_take = m_axi_rvalid && m_axi_rready;
    assign r_burst_failed = r_take && m_axi_rlast && (r_err || (r_err_open & r_class) != 3'b000);
    assign error_response = r_burst_failed || (m_axi_bvalid && m_axi_bready && m_axi_bresp[1]);
    assign stop = frozen || dma_freeze || error_response;
    // From the first error beat of a read burst until its rlast nothing new is issued either (rule 8.9 acts on any
    // beat); the bursts waiting meanwhile are dropped once the rlast freezes the block.
    assign hold = (r_take && r_err) || r_err_open != 3'b000;

    always_ff @(posedge clk) begin
        if (rst || dma_freeze) frozen <= 1'b0;
        else if (error_response) frozen <= 1'b1;
        if (rst) r_err_open <= 3'b000;
        else if (r_take) r_err_open <= m_axi_rlast ? r_err_open & ~r_class : r_err_open | (r_err ? r_class : 3'b000);
    end

    // Both ports always have room for the beats they asked for; an unknown ID is drained.
    assign m_axi_rready = r_is_rd0 ? rd0_r_ready : r_is_rd1 ? rd1_r_ready : 1'b1;

    virtio_dma_rd #(.DATA_WIDTH(AXI_DATA_WIDTH), .MAX_BURST_BEATS(MAX_BURST_BEATS),
                    .RD_OUTSTANDING(RD_OUTSTANDING), .EXACT(1)) u_rd0 (
        .clk, .rst,
        .cmd_valid(rd0_cmd_valid), .cmd_ready(rd0_cmd_ready), .cmd_addr(rd0_cmd_addr), .cmd_len(rd0_cmd_len),
        .cmd_last(rd0_cmd_last),
        .tdata(rd0_tdata), .tkeep(rd0_tkeep), .tlast(rd0_tlast), .tvalid(rd0_tvalid), .tready(rd0_tready),
        .terr(rd0_terr),
        .ar_valid(rd0_ar_valid), .ar_ready(rd0_ar_ready), .ar_addr(rd0_ar_addr), .ar_len(rd0_ar_len),
        .ar_size(rd0_ar_size),
        .r_valid(m_axi_rvalid && r_is_rd0), .r_ready(rd0_r_ready), .r_data(m_axi_rdata), .r_err,
        .r_last(m_axi_rlast), .stop, .hold, .bus_end(rd0_bus_end), .busy(rd0_busy)
    );

    virtio_dma_rd #(.DATA_WIDTH(AXI_DATA_WIDTH), .MAX_BURST_BEATS(MAX_BURST_BEATS),
                    .RD_OUTSTANDING(RD_OUTSTANDING), .EXACT(0)) u_rd1 (
        .clk, .rst,
        .cmd_valid(rd1_cmd_valid), .cmd_ready(rd1_cmd_ready), .cmd_addr(rd1_cmd_addr), .cmd_len(rd1_cmd_len),
        .cmd_last(rd1_cmd_last),
        .tdata(rd1_tdata), .tkeep(rd1_tkeep), .tlast(rd1_tlast), .tvalid(rd1_tvalid), .tready(rd1_tready),
        .terr(rd1_terr),
        .ar_valid(rd1_ar_valid), .ar_ready(rd1_ar_ready), .ar_addr(rd1_ar_addr), .ar_len(rd1_ar_len),
        .ar_size(rd1_ar_size),
        .r_valid(m_axi_rvalid && r_is_rd1), .r_ready(rd1_r_ready), .r_data(m_axi_rdata), .r_err,
        .r_last(m_axi_rlast), .stop, .hold, .bus_end(rd1_bus_end), .busy(rd1_busy)
    );

    virtio_dma_ar_arb #(.ID_WIDTH(AXI_ID_WIDTH)) u_ar_arb (
        .clk, .rst,
        .req0_valid(rd0_ar_valid), .req0_ready(rd0_ar_ready), .req0_addr(rd0_ar_addr), .req0_len(rd0_ar_len),
        .req0_size(rd0_ar_size),
        .req1_valid(rd1_ar_valid), .req1_ready(rd1_ar_ready), .req1_addr(rd1_ar_addr), .req1_len(rd1_ar_len),
        .req1_size(rd1_ar_size),
        .arid(m_axi_arid), .araddr(m_axi_araddr), .arlen(m_axi_arlen), .arsize(m_axi_arsize),
        .arvalid(m_axi_arvalid),
        .arready(m_axi_arready)
    );

    virtio_dma_wr #(.DATA_WIDTH(AXI_DATA_WIDTH), .MAX_BURST_BEATS(MAX_BURST_BEATS),
                    .WR_OUTSTANDING(RD_OUTSTANDING)) u_wr (
        .clk, .rst,
        .cmd_valid(wr_cmd_valid), .cmd_ready(wr_cmd_ready), .cmd_addr(wr_cmd_addr), .cmd_len(wr_cmd_len),
        .cmd_imm(wr_cmd_imm), .cmd_data(wr_cmd_data),
        .s_tdata(wr_tdata), .s_tkeep(wr_tkeep), .s_tvalid(wr_tvalid), .s_tready(wr_tready),
        .done_valid(wr_done_valid), .done_err(wr_done_err),
        .awaddr(m_axi_awaddr), .awlen(m_axi_awlen), .awvalid(m_axi_awvalid), .awready(m_axi_awready),
        .wdata(m_axi_wdata), .wstrb(m_axi_wstrb), .wlast(m_axi_wlast), .wvalid(m_axi_wvalid),
        .wready(m_axi_wready),
        .b_valid(m_axi_bvalid), .b_ready(m_axi_bready), .b_err(m_axi_bresp[1]), .stop, .hold, .busy(wr_busy)
    );

    assign dma_idle = !rd0_busy && !rd1_busy && !wr_busy && !m_axi_arvalid;


endmodule
`default_nettype wire
