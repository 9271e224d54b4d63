`default_nettype none
// The virtio-pci device: virtio_core (registers, status machine, interrupts), virtio_engine (the split-virtqueue
// datapath) and virtio_dma (the AXI4 master to guest memory). Ports and parameters follow DESIGN.md's top-level
// contract; docs/rtl-engine.md is the users' reference.
module virtio_pci_dev #(
    parameter int          NUM_QUEUES            = virtio_pkg::DEFAULT_NUM_QUEUES,
    parameter int          QUEUE_SIZE_MAX        = virtio_pkg::DEFAULT_QUEUE_SIZE_MAX,
    parameter int          AXI_DATA_WIDTH        = virtio_pkg::DEFAULT_AXI_DATA_WIDTH,
    parameter int          AXI_ID_WIDTH          = 4,
    parameter int          FETCH_AHEAD           = virtio_pkg::DEFAULT_FETCH_AHEAD,
    parameter int          USED_BATCH            = virtio_pkg::DEFAULT_USED_BATCH,
    parameter int          MAX_CHAIN_LEN         = QUEUE_SIZE_MAX,
    parameter int          TAG_WIDTH             = virtio_pkg::DEFAULT_TAG_WIDTH,
    parameter int          DEV_CFG_SIZE          = virtio_pkg::DEFAULT_DEV_CFG_SIZE,
    parameter int          MSIX_VECTORS          = NUM_QUEUES + 1,
    // The device type is the PCI wrapper's business (PCI Device ID 0x1040 + DEVICE_ID), and negotiating the
    // QUEUE_STATE bit changes nothing (SUS-20): both are carried for the contract of rule 8.8 only.
    /* verilator lint_off UNUSEDPARAM */
    parameter int          DEVICE_ID             = virtio_pkg::DEFAULT_DEVICE_ID,
    parameter int          F_QUEUE_STATE_BIT     = virtio_pkg::DEFAULT_F_QUEUE_STATE_BIT,
    /* verilator lint_on UNUSEDPARAM */
    parameter int          SUSPEND_MODE          = virtio_pkg::DEFAULT_SUSPEND_MODE,
    parameter int          F_SUSPEND_BIT         = virtio_pkg::DEFAULT_F_SUSPEND_BIT,
    parameter logic [63:0] DEVICE_FEATURES       = virtio_pkg::DEFAULT_DEVICE_FEATURES,
    parameter int          VQ_STATE_REGS         = virtio_pkg::DEFAULT_VQ_STATE_REGS,
    parameter int          SUSPEND_DRAIN_TIMEOUT = virtio_pkg::DEFAULT_SUSPEND_DRAIN_TIMEOUT,
    parameter int          RESUME_LATENCY        = virtio_pkg::DEFAULT_RESUME_LATENCY,
    parameter int          SUSPENDED_CFG_LOCK    = virtio_pkg::DEFAULT_SUSPENDED_CFG_LOCK,
    localparam int         KW                    = AXI_DATA_WIDTH / 8
) (
    input  wire                       clk,
    input  wire                       rst,

    // AXI4-Lite register slave (one BAR)
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

    // AXI4 master to guest memory
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

    // backend: requests and their readable bytes (engine to backend)
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

    // backend: completions and their bytes for the writable buffers (backend to engine)
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

    // interrupts (SPEC 5.1)
    input  wire                       msix_enable,
    output logic                      irq_valid,
    input  wire                       irq_ready,
    output logic [15:0]               irq_vector,
    output logic                      intx,

    // sticky diagnostics (rule 8.11)
    output logic                      diag_cpl_len_err,
    output logic                      diag_cpl_bad_tag,

    // device side
    input  wire                       devcfg_wr_valid,
    input  wire  [7:0]                devcfg_wr_addr,
    input  wire  [31:0]               devcfg_wr_data,
    input  wire                       fault_inj
);

    localparam int NQ = NUM_QUEUES;

    // -- core <-> engine
    logic [2:0]       state;
    logic             stop_req;
    logic             draining;
    logic             stopped;
    logic             halt;
    logic             eng_idle;
    logic             eng_error;
    logic [NQ-1:0]    q_enable;
    logic [NQ*16-1:0] q_size;
    logic [NQ*64-1:0] q_desc;
    logic [NQ*64-1:0] q_driver;
    logic [NQ*64-1:0] q_device;
    logic             feat_event_idx;
    logic             feat_indirect_desc;
    logic [NQ-1:0]    kick_pending;
    logic [NQ-1:0]    kick_clear;
    logic [NQ-1:0]    scan;
    logic [NQ-1:0]    qreset_req;
    logic [NQ-1:0]    qreset_done;
    logic [NQ*16-1:0] last_avail_idx;
    logic [NQ*16-1:0] shadow_used_idx;
    logic [NQ-1:0]    avail_take;
    logic [NQ-1:0]    used_publish;
    logic [NQ*16-1:0] used_publish_idx;
    logic             used_notify_valid;
    logic             used_notify_ready;
    logic [15:0]      used_notify_queue;
    // Core outputs the engine has no use for: the core routes notifications itself (vectors), the engine reads
    // the two features it needs as flags, and the scan pulses already mark every entry into RUNNING.
    /* verilator lint_off UNUSEDSIGNAL */
    logic [NQ*16-1:0] q_msix_vector;
    logic [63:0]      negotiated_features;
    logic             resume;
    /* verilator lint_on UNUSEDSIGNAL */

    // -- engine <-> DMA
    logic                      rd0_cmd_valid;
    logic                      rd0_cmd_ready;
    logic [63:0]               rd0_cmd_addr;
    logic [31:0]               rd0_cmd_len;
    logic                      rd0_cmd_last;
    logic [AXI_DATA_WIDTH-1:0] rd0_tdata;
    logic [KW-1:0]             rd0_tkeep;
    logic                      rd0_tlast;
    logic                      rd0_tvalid;
    logic                      rd0_tready;
    logic                      rd0_terr;
    logic                      rd0_bus_end;
    logic                      rd1_cmd_valid;
    logic                      rd1_cmd_ready;
    logic [63:0]               rd1_cmd_addr;
    logic [31:0]               rd1_cmd_len;
    logic                      rd1_cmd_last;
    logic [AXI_DATA_WIDTH-1:0] rd1_tdata;
    logic [KW-1:0]             rd1_tkeep;
    logic                      rd1_tlast;
    logic                      rd1_tvalid;
    logic                      rd1_tready;
    logic                      rd1_terr;
    logic                      wr_cmd_valid;
    logic                      wr_cmd_ready;
    logic [63:0]               wr_cmd_addr;
    logic [31:0]               wr_cmd_len;
    logic                      wr_cmd_imm;
    logic [63:0]               wr_cmd_data;
    logic [AXI_DATA_WIDTH-1:0] wr_tdata;
    logic [KW-1:0]             wr_tkeep;
    logic                      wr_tvalid;
    logic                      wr_tready;
    logic                      wr_done_valid;
    logic                      wr_done_err;
    logic                      dma_freeze;
    logic                      dma_idle;

    virtio_core #(
        .NUM_QUEUES(NUM_QUEUES),
        .QUEUE_SIZE_MAX(QUEUE_SIZE_MAX),
        .DEV_CFG_SIZE(DEV_CFG_SIZE),
        .MSIX_VECTORS(MSIX_VECTORS),
        .SUSPEND_MODE(SUSPEND_MODE),
        .F_SUSPEND_BIT(F_SUSPEND_BIT),
        .DEVICE_FEATURES(DEVICE_FEATURES),
        .VQ_STATE_REGS(VQ_STATE_REGS),
        .SUSPEND_DRAIN_TIMEOUT(SUSPEND_DRAIN_TIMEOUT),
        .RESUME_LATENCY(RESUME_LATENCY),
        .SUSPENDED_CFG_LOCK(SUSPENDED_CFG_LOCK)
    ) core (
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
        .msix_enable(msix_enable),
        .irq_valid(irq_valid),
        .irq_ready(irq_ready),
        .irq_vector(irq_vector),
        .intx(intx),
        .devcfg_wr_valid(devcfg_wr_valid),
        .devcfg_wr_addr(devcfg_wr_addr),
        .devcfg_wr_data(devcfg_wr_data),
        .fault_inj(fault_inj),
        .state(state),
        .stop_req(stop_req),
        .draining(draining),
        .stopped(stopped),
        .halt(halt),
        .resume(resume),
        .eng_idle(eng_idle),
        .eng_error(eng_error),
        .q_enable(q_enable),
        .q_size(q_size),
        .q_desc(q_desc),
        .q_driver(q_driver),
        .q_device(q_device),
        .q_msix_vector(q_msix_vector),
        .negotiated_features(negotiated_features),
        .feat_event_idx(feat_event_idx),
        .feat_indirect_desc(feat_indirect_desc),
        .kick_pending(kick_pending),
        .kick_clear(kick_clear),
        .scan(scan),
        .qreset_req(qreset_req),
        .qreset_done(qreset_done),
        .last_avail_idx(last_avail_idx),
        .shadow_used_idx(shadow_used_idx),
        .avail_take(avail_take),
        .used_publish(used_publish),
        .used_publish_idx(used_publish_idx),
        .used_notify_valid(used_notify_valid),
        .used_notify_ready(used_notify_ready),
        .used_notify_queue(used_notify_queue)
    );

    virtio_engine #(
        .NUM_QUEUES(NUM_QUEUES),
        .QUEUE_SIZE_MAX(QUEUE_SIZE_MAX),
        .AXI_DATA_WIDTH(AXI_DATA_WIDTH),
        .FETCH_AHEAD(FETCH_AHEAD),
        .USED_BATCH(USED_BATCH),
        .MAX_CHAIN_LEN(MAX_CHAIN_LEN),
        .TAG_WIDTH(TAG_WIDTH)
    ) engine (
        .clk(clk),
        .rst(rst),
        .state(state),
        .stop_req(stop_req),
        .draining(draining),
        .stopped(stopped),
        .halt(halt),
        .eng_idle(eng_idle),
        .eng_error(eng_error),
        .q_enable(q_enable),
        .q_size(q_size),
        .q_desc(q_desc),
        .q_driver(q_driver),
        .q_device(q_device),
        .feat_event_idx(feat_event_idx),
        .feat_indirect_desc(feat_indirect_desc),
        .kick_pending(kick_pending),
        .kick_clear(kick_clear),
        .scan(scan),
        .qreset_req(qreset_req),
        .qreset_done(qreset_done),
        .last_avail_idx(last_avail_idx),
        .shadow_used_idx(shadow_used_idx),
        .avail_take(avail_take),
        .used_publish(used_publish),
        .used_publish_idx(used_publish_idx),
        .used_notify_valid(used_notify_valid),
        .used_notify_ready(used_notify_ready),
        .used_notify_queue(used_notify_queue),
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
        .diag_cpl_len_err(diag_cpl_len_err),
        .diag_cpl_bad_tag(diag_cpl_bad_tag),
        .rd0_cmd_valid(rd0_cmd_valid),
        .rd0_cmd_ready(rd0_cmd_ready),
        .rd0_cmd_addr(rd0_cmd_addr),
        .rd0_cmd_len(rd0_cmd_len),
        .rd0_cmd_last(rd0_cmd_last),
        .rd0_tdata(rd0_tdata),
        .rd0_tkeep(rd0_tkeep),
        .rd0_tlast(rd0_tlast),
        .rd0_tvalid(rd0_tvalid),
        .rd0_tready(rd0_tready),
        .rd0_terr(rd0_terr),
        .rd0_bus_end(rd0_bus_end),
        .rd1_cmd_valid(rd1_cmd_valid),
        .rd1_cmd_ready(rd1_cmd_ready),
        .rd1_cmd_addr(rd1_cmd_addr),
        .rd1_cmd_len(rd1_cmd_len),
        .rd1_cmd_last(rd1_cmd_last),
        .rd1_tdata(rd1_tdata),
        .rd1_tkeep(rd1_tkeep),
        .rd1_tlast(rd1_tlast),
        .rd1_tvalid(rd1_tvalid),
        .rd1_tready(rd1_tready),
        .rd1_terr(rd1_terr),
        .wr_cmd_valid(wr_cmd_valid),
        .wr_cmd_ready(wr_cmd_ready),
        .wr_cmd_addr(wr_cmd_addr),
        .wr_cmd_len(wr_cmd_len),
        .wr_cmd_imm(wr_cmd_imm),
        .wr_cmd_data(wr_cmd_data),
        .wr_tdata(wr_tdata),
        .wr_tkeep(wr_tkeep),
        .wr_tvalid(wr_tvalid),
        .wr_tready(wr_tready),
        .wr_done_valid(wr_done_valid),
        .wr_done_err(wr_done_err),
        .dma_freeze(dma_freeze),
        .dma_idle(dma_idle)
    );

    virtio_dma #(
        .AXI_DATA_WIDTH(AXI_DATA_WIDTH),
        .AXI_ID_WIDTH(AXI_ID_WIDTH)
    ) dma (
        .clk(clk),
        .rst(rst),
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
        .m_axi_bid(m_axi_bid),
        .m_axi_bresp(m_axi_bresp),
        .m_axi_bvalid(m_axi_bvalid),
        .m_axi_bready(m_axi_bready),
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
        .m_axi_rid(m_axi_rid),
        .m_axi_rdata(m_axi_rdata),
        .m_axi_rresp(m_axi_rresp),
        .m_axi_rlast(m_axi_rlast),
        .m_axi_rvalid(m_axi_rvalid),
        .m_axi_rready(m_axi_rready),
        .rd0_cmd_valid(rd0_cmd_valid),
        .rd0_cmd_ready(rd0_cmd_ready),
        .rd0_cmd_addr(rd0_cmd_addr),
        .rd0_cmd_len(rd0_cmd_len),
        .rd0_cmd_last(rd0_cmd_last),
        .rd0_tdata(rd0_tdata),
        .rd0_tkeep(rd0_tkeep),
        .rd0_tlast(rd0_tlast),
        .rd0_tvalid(rd0_tvalid),
        .rd0_tready(rd0_tready),
        .rd0_terr(rd0_terr),
        .rd0_bus_end(rd0_bus_end),
        .rd1_cmd_valid(rd1_cmd_valid),
        .rd1_cmd_ready(rd1_cmd_ready),
        .rd1_cmd_addr(rd1_cmd_addr),
        .rd1_cmd_len(rd1_cmd_len),
        .rd1_cmd_last(rd1_cmd_last),
        .rd1_tdata(rd1_tdata),
        .rd1_tkeep(rd1_tkeep),
        .rd1_tlast(rd1_tlast),
        .rd1_tvalid(rd1_tvalid),
        .rd1_tready(rd1_tready),
        .rd1_terr(rd1_terr),
        .wr_cmd_valid(wr_cmd_valid),
        .wr_cmd_ready(wr_cmd_ready),
        .wr_cmd_addr(wr_cmd_addr),
        .wr_cmd_len(wr_cmd_len),
        .wr_cmd_imm(wr_cmd_imm),
        .wr_cmd_data(wr_cmd_data),
        .wr_tdata(wr_tdata),
        .wr_tkeep(wr_tkeep),
        .wr_tvalid(wr_tvalid),
        .wr_tready(wr_tready),
        .wr_done_valid(wr_done_valid),
        .wr_done_err(wr_done_err),
        .dma_freeze(dma_freeze),
        .dma_idle(dma_idle)
    );
endmodule

`default_nettype wire
