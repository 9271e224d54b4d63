`default_nettype none
// Constants shared with the golden model (virtio_golden.constants.SV_EXPORT): same names, same values.
// Written by scripts/gen_virtio_pkg.py; tests/rtl/test_constants_sv.py proves the two agree.
// Refer to the items as virtio_pkg::NAME (Yosys rejects `import virtio_pkg::*`).
// Not every module uses every constant, since the package mirrors the whole Python set:
/* verilator lint_off UNUSEDPARAM */
package virtio_pkg;

    // device_status bits (SPEC 2.1, SUS-01)
    localparam int          S_ACKNOWLEDGE                 = 'h1;
    localparam int          S_DRIVER                      = 'h2;
    localparam int          S_DRIVER_OK                   = 'h4;
    localparam int          S_FEATURES_OK                 = 'h8;
    localparam int          S_SUSPEND                     = 'h10;
    localparam int          S_UNASSIGNED_5                = 'h20;
    localparam int          S_NEEDS_RESET                 = 'h40;
    localparam int          S_FAILED                      = 'h80;
    localparam int          S_DRIVER_BITS                 = 'hf;

    // feature bit numbers (SPEC 3.2)
    localparam int          F_NOTIFY_ON_EMPTY             = 24;
    localparam int          F_ANY_LAYOUT                  = 27;
    localparam int          F_INDIRECT_DESC               = 28;
    localparam int          F_EVENT_IDX                   = 29;
    localparam int          F_VERSION_1                   = 32;
    localparam int          F_ACCESS_PLATFORM             = 33;
    localparam int          F_RING_PACKED                 = 34;
    localparam int          F_IN_ORDER                    = 35;
    localparam int          F_ORDER_PLATFORM              = 36;
    localparam int          F_SR_IOV                      = 37;
    localparam int          F_NOTIFICATION_DATA           = 38;
    localparam int          F_NOTIF_CONFIG_DATA           = 39;
    localparam int          F_RING_RESET                  = 40;
    localparam int          F_ADMIN_VQ                    = 41;

    // descriptor and ring flags (SPEC 4.2)
    localparam int          VIRTQ_DESC_F_NEXT             = 'h1;
    localparam int          VIRTQ_DESC_F_WRITE            = 'h2;
    localparam int          VIRTQ_DESC_F_INDIRECT         = 'h4;
    localparam int          VIRTQ_AVAIL_F_NO_INTERRUPT    = 'h1;
    localparam int          VIRTQ_USED_F_NO_NOTIFY        = 'h1;

    // one AXI4-Lite BAR (rule 8.7)
    localparam int          BAR_COMMON_CFG                = 'h0;
    localparam int          BAR_ISR                       = 'h100;
    localparam int          BAR_NOTIFY                    = 'h200;
    localparam int          BAR_DEVICE_CFG                = 'h300;

    // common configuration offsets (SPEC 5.1)
    localparam int          CC_DEVICE_FEATURE_SELECT      = 'h0;
    localparam int          CC_DEVICE_FEATURE             = 'h4;
    localparam int          CC_DRIVER_FEATURE_SELECT      = 'h8;
    localparam int          CC_DRIVER_FEATURE             = 'hc;
    localparam int          CC_CONFIG_MSIX_VECTOR         = 'h10;
    localparam int          CC_NUM_QUEUES                 = 'h12;
    localparam int          CC_DEVICE_STATUS              = 'h14;
    localparam int          CC_CONFIG_GENERATION          = 'h15;
    localparam int          CC_QUEUE_SELECT               = 'h16;
    localparam int          CC_QUEUE_SIZE                 = 'h18;
    localparam int          CC_QUEUE_MSIX_VECTOR          = 'h1a;
    localparam int          CC_QUEUE_ENABLE               = 'h1c;
    localparam int          CC_QUEUE_NOTIFY_OFF           = 'h1e;
    localparam int          CC_QUEUE_DESC_LO              = 'h20;
    localparam int          CC_QUEUE_DESC_HI              = 'h24;
    localparam int          CC_QUEUE_DRIVER_LO            = 'h28;
    localparam int          CC_QUEUE_DRIVER_HI            = 'h2c;
    localparam int          CC_QUEUE_DEVICE_LO            = 'h30;
    localparam int          CC_QUEUE_DEVICE_HI            = 'h34;
    localparam int          CC_QUEUE_NOTIF_CONFIG_DATA    = 'h38;
    localparam int          CC_QUEUE_RESET                = 'h3a;
    localparam int          CC_ADMIN_QUEUE_INDEX          = 'h3c;
    localparam int          CC_ADMIN_QUEUE_NUM            = 'h3e;
    localparam int          CC_QUEUE_AVAIL_STATE          = 'h40;
    localparam int          CC_QUEUE_USED_STATE           = 'h42;

    // ISR bits (SPEC 5.1)
    localparam int          ISR_QUEUE                     = 'h1;
    localparam int          ISR_CONFIG                    = 'h2;

    // parameter defaults (rule 8.8)
    localparam int          DEFAULT_NUM_QUEUES            = 2;
    localparam int          DEFAULT_QUEUE_SIZE_MAX        = 256;
    localparam int          DEFAULT_AXI_DATA_WIDTH        = 64;
    localparam int          DEFAULT_FETCH_AHEAD           = 4;
    localparam int          DEFAULT_USED_BATCH            = 1;
    localparam int          DEFAULT_MAX_CHAIN_LEN         = DEFAULT_QUEUE_SIZE_MAX;
    localparam int          DEFAULT_TAG_WIDTH             = 6;
    localparam int          DEFAULT_DEV_CFG_SIZE          = 16;
    localparam int          DEFAULT_MSIX_VECTORS          = DEFAULT_NUM_QUEUES + 1;
    localparam int          DEFAULT_DEVICE_ID             = 0;
    localparam int          DEFAULT_SUSPEND_MODE          = 0;
    localparam int          DEFAULT_F_SUSPEND_BIT         = 43;
    localparam int          DEFAULT_F_QUEUE_STATE_BIT     = 44;
    localparam logic [63:0] DEFAULT_DEVICE_FEATURES       = 64'h00000901_30000000;
    localparam int          DEFAULT_VQ_STATE_REGS         = 1;
    localparam int          DEFAULT_SUSPEND_DRAIN_TIMEOUT = 0;
    localparam int          DEFAULT_RESUME_LATENCY        = 16;
    localparam int          DEFAULT_SUSPENDED_CFG_LOCK    = 0;

    // ring layout (SPEC 4.1, 4.2)
    localparam int          DESC_SIZE                     = 16;
    localparam int          USED_ELEM_SIZE                = 8;
    localparam int          QUEUE_SIZE_LIMIT              = 32768;

    // PCI transport
    localparam int          NO_VECTOR                     = 'hffff;
    localparam int          NOTIFY_OFF_MULTIPLIER         = 'h4;
    localparam int          COMMON_CFG_LEN                = 'h40;
    localparam int          COMMON_CFG_LEN_VQ_STATE       = 'h44;

    // engine states (rule 8.4)
    localparam int          ST_INIT                       = 0;
    localparam int          ST_RUNNING                    = 1;
    localparam int          ST_SUSPENDING                 = 2;
    localparam int          ST_SUSPENDED                  = 3;
    localparam int          ST_RESUMING                   = 4;
    localparam int          ST_HALTED                     = 5;
    localparam int          ST_RESET_PENDING              = 6;

    // SUSPEND_MODE values (rule 8.8)
    localparam int          MODE_V14                      = 0;
    localparam int          MODE_RFC                      = 1;

    // device_status write classes (rule 8.4)
    localparam int          WCLASS_ZERO                   = 0;
    localparam int          WCLASS_FAILED                 = 1;
    localparam int          WCLASS_DRIVER_OK              = 2;
    localparam int          WCLASS_SUSPEND                = 3;
    localparam int          WCLASS_FEATURES_OK            = 4;
    localparam int          WCLASS_OTHER                  = 5;

endpackage
/* verilator lint_on UNUSEDPARAM */
`default_nettype wire
