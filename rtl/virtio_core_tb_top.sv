`default_nettype none
// Test top of the register-level testbench: virtio_core alone, the testbench plays the engine (docs/rtl-core.md).
// Same parameters and ports as virtio_core, so the cocotb runner sets the parameters by name; from cocotb pass
// DEVICE_FEATURES as the string "64'h...", since Verilator truncates a decimal -G value to 32 bits.
module virtio_core_tb_top #(
    parameter int          NUM_QUEUES            = virtio_pkg::DEFAULT_NUM_QUEUES,
    parameter int          QUEUE_SIZE_MAX        = virtio_pkg::DEFAULT_QUEUE_SIZE_MAX,
    parameter int          DEV_CFG_SIZE          = virtio_pkg::DEFAULT_DEV_CFG_SIZE,
    parameter int          MSIX_VECTORS          = NUM_QUEUES + 1,
    parameter int          SUSPEND_MODE          = virtio_pkg::DEFAULT_SUSPEND_MODE,
    parameter int          F_SUSPEND_BIT         = virtio_pkg::DEFAULT_F_SUSPEND_BIT,
    parameter logic [63:0] DEVICE_FEATURES       = virtio_pkg::DEFAULT_DEVICE_FEATURES,
    parameter int          VQ_STATE_REGS         = virtio_pkg::DEFAULT_VQ_STATE_REGS,
    parameter int          SUSPEND_DRAIN_TIMEOUT = virtio_pkg::DEFAULT_SUSPEND_DRAIN_TIMEOUT,
    parameter int          RESUME_LATENCY        = virtio_pkg::DEFAULT_RESUME_LATENCY,
    parameter int          SUSPENDED_CFG_LOCK    = virtio_pkg::DEFAULT_SUSPENDED_CFG_LOCK,
    parameter int          CFG_IRQ_COUNT_WIDTH   = 8
) (
    input  wire                      clk,
    input  wire                      rst,

    input  wire  [11:0]              s_axil_awaddr,
    input  wire  [2:0]               s_axil_awprot,
    input  wire                      s_axil_awvalid,
    output logic                     s_axil_awready,
    input  wire  [31:0]              s_axil_wdata,
    input  wire  [3:0]               s_axil_wstrb,
    input  wire                      s_axil_wvalid,
    output logic                     s_axil_wready,
    output logic [1:0]               s_axil_bresp,
    output logic                     s_axil_bvalid,
    input  wire                      s_axil_bready,
    input  wire  [11:0]              s_axil_araddr,
    input  wire  [2:0]               s_axil_arprot,
    input  wire                      s_axil_arvalid,
    output logic                     s_axil_arready,
    output logic [31:0]              s_axil_rdata,
    output logic [1:0]               s_axil_rresp,
    output logic                     s_axil_rvalid,
    input  wire                      s_axil_rready,

    input  wire                      msix_enable,
    output logic                     irq_valid,
    input  wire                      irq_ready,
    output logic [15:0]              irq_vector,
    output logic                     intx,

    input  wire                      devcfg_wr_valid,
    input  wire  [7:0]               devcfg_wr_addr,
    input  wire  [31:0]              devcfg_wr_data,
    input  wire                      fault_inj,

    output logic [2:0]               state,
    output logic                     stop_req,
    output logic                     draining,
    input  wire                      stopped,
    output logic                     halt,
    output logic                     resume,
    input  wire                      eng_idle,
    input  wire                      eng_error,

    output logic [NUM_QUEUES-1:0]    q_enable,
    output logic [NUM_QUEUES*16-1:0] q_size,
    output logic [NUM_QUEUES*64-1:0] q_desc,
    output logic [NUM_QUEUES*64-1:0] q_driver,
    output logic [NUM_QUEUES*64-1:0] q_device,
    output logic [NUM_QUEUES*16-1:0] q_msix_vector,
    output logic [63:0]              negotiated_features,
    output logic                     feat_event_idx,
    output logic                     feat_indirect_desc,
    output logic [NUM_QUEUES-1:0]    kick_pending,
    input  wire  [NUM_QUEUES-1:0]    kick_clear,
    output logic [NUM_QUEUES-1:0]    scan,
    output logic [NUM_QUEUES-1:0]    qreset_req,
    input  wire  [NUM_QUEUES-1:0]    qreset_done,
    output logic [NUM_QUEUES*16-1:0] last_avail_idx,
    output logic [NUM_QUEUES*16-1:0] shadow_used_idx,
    input  wire  [NUM_QUEUES-1:0]    avail_take,
    input  wire  [NUM_QUEUES-1:0]    used_publish,
    input  wire  [NUM_QUEUES*16-1:0] used_publish_idx,
    input  wire                      used_notify_valid,
    output logic                     used_notify_ready,
    input  wire  [15:0]              used_notify_queue
);

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
        .SUSPENDED_CFG_LOCK(SUSPENDED_CFG_LOCK),
        .CFG_IRQ_COUNT_WIDTH(CFG_IRQ_COUNT_WIDTH)
    ) core (.*);

endmodule
`default_nettype wire
