`default_nettype none
// The transport-facing core of the virtio device: the virtio-pci BAR over AXI4-Lite (common configuration 0x000,
// ISR 0x100, notify 0x200, device-specific configuration 0x300; rule 8.7), the device status machine with SUSPEND
// (rule 8.4), feature negotiation (SPEC 3), interrupt delivery (SPEC 5.1) and the engine handshake.
// docs/rtl-core.md is the users' reference for the ports, the handshake and the timing.
module virtio_core #(
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

    // AXI4-Lite register slave (one BAR)
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

    // interrupts (SPEC 5.1)
    input  wire                      msix_enable,
    output logic                     irq_valid,
    input  wire                      irq_ready,
    output logic [15:0]              irq_vector,
    output logic                     intx,

    // device side
    input  wire                      devcfg_wr_valid,
    input  wire  [7:0]               devcfg_wr_addr,
    input  wire  [31:0]              devcfg_wr_data,
    input  wire                      fault_inj,

    // engine: state, drain, resume, halt
    output logic [2:0]               state,
    output logic                     stop_req,
    output logic                     draining,
    input  wire                      stopped,
    output logic                     halt,
    output logic                     resume,
    input  wire                      eng_idle,
    input  wire                      eng_error,

    // engine: per-queue configuration, kicks, scans, queue reset, live counters, notifications
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

    localparam logic [2:0] INIT = 3'(virtio_pkg::ST_INIT);
    localparam logic [2:0] RUNNING = 3'(virtio_pkg::ST_RUNNING);
    localparam logic [2:0] SUSPENDED = 3'(virtio_pkg::ST_SUSPENDED);
    localparam logic [2:0] RESUMING = 3'(virtio_pkg::ST_RESUMING);
    localparam logic [2:0] RESET_PENDING = 3'(virtio_pkg::ST_RESET_PENDING);
    localparam logic [15:0] NO_VECTOR = 16'(virtio_pkg::NO_VECTOR);

    // Word indices (byte offset / 4) of the BAR (rule 8.7, SPEC 5.1).
    localparam logic [9:0] W_DEVICE_FEATURE_SELECT = 10'(virtio_pkg::CC_DEVICE_FEATURE_SELECT / 4);
    localparam logic [9:0] W_DEVICE_FEATURE = 10'(virtio_pkg::CC_DEVICE_FEATURE / 4);
    localparam logic [9:0] W_DRIVER_FEATURE_SELECT = 10'(virtio_pkg::CC_DRIVER_FEATURE_SELECT / 4);
    localparam logic [9:0] W_DRIVER_FEATURE = 10'(virtio_pkg::CC_DRIVER_FEATURE / 4);
    localparam logic [9:0] W_CONFIG_VECTOR = 10'(virtio_pkg::CC_CONFIG_MSIX_VECTOR / 4);  // + num_queues
    localparam logic [9:0] W_STATUS = 10'(virtio_pkg::CC_DEVICE_STATUS / 4);  // + config_generation, queue_select
    localparam logic [9:0] W_ISR = 10'(virtio_pkg::BAR_ISR / 4);
    localparam logic [3:0] REGION_NOTIFY = 4'(virtio_pkg::BAR_NOTIFY / 'h100);
    localparam logic [3:0] REGION_DEVICE_CFG = 4'(virtio_pkg::BAR_DEVICE_CFG / 'h100);

    // -- AXI4-Lite front end
    logic        wr_en;
    logic [9:0]  wr_word;
    logic [31:0] wr_data;
    logic [3:0]  wr_strb;
    logic        rd_en;
    logic [9:0]  rd_word;
    logic [31:0] rd_data;

    // -- status machine events
    logic [7:0]  presented;
    logic [2:0]  state_after_write;
    logic [2:0]  state_mid;
    logic        ev_features_ok;
    logic        ev_reset_start;
    logic        ev_reset_done;
    logic        ev_enter_running;
    logic        ev_suspended;
    logic        ev_resumed;
    logic        ev_resumed_to_init;
    logic        ev_halted;
    logic        ev_cfg_notify_needs_reset;

    virtio_axil_slave front_end (
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
        .wr_en(wr_en),
        .wr_word(wr_word),
        .wr_data(wr_data),
        .wr_strb(wr_strb),
        .wr_hold(ev_reset_start),
        .hold_release(ev_reset_done),
        .rd_en(rd_en),
        .rd_word(rd_word),
        .rd_data(rd_data)
    );

    // -- address decode
    logic wr_common;      // common configuration words 0x00-0x43 (the queue words go to virtio_queue_regs)
    logic wr_notify;
    logic wr_device_cfg;
    logic rd_isr;
    logic rd_device_cfg;

    assign wr_common = wr_en && wr_word[9:6] == 4'd0;
    assign wr_notify = wr_en && wr_word[9:6] == REGION_NOTIFY;
    assign wr_device_cfg = wr_en && wr_word[9:6] == REGION_DEVICE_CFG;
    assign rd_isr = rd_en && rd_word == W_ISR;
    assign rd_device_cfg = rd_en && rd_word[9:6] == REGION_DEVICE_CFG;

    // -- common-configuration fields owned here: selectors, features, config_msix_vector
    logic [31:0] device_feature_select;
    logic [31:0] driver_feature_select;
    logic [63:0] driver_features;       // driver_feature for selects 0 and 1, stored as written (SPEC 3.1)
    logic [63:0] negotiated;            // frozen at the accepted FEATURES_OK write
    logic [15:0] config_msix_vector;
    logic [15:0] queue_select;

    // Combinational logic is continuous assignments: Icarus 11 can loop forever on always_comb blocks that assign
    // a variable more than once per pass or call a function.
    logic        locked;                // SUSPENDED_CFG_LOCK: SUSPENDED and RESUMING drop every write but status
    logic        selector_locked;       // the same, judged after the status byte of word 0x14 (SPEC 5.1 order)
    logic        configurable;          // INIT, RUNNING
    logic [31:0] lane_mask;             // the written byte lanes (SPEC 5.1)
    logic [31:0] driver_feature_read;
    logic [31:0] device_feature_read;
    logic [15:0] new_config_vector;     // values after the byte-lane merge
    logic [15:0] new_queue_select;
    logic [31:0] new_device_feature_select;
    logic [31:0] new_driver_feature_select;
    logic [31:0] new_driver_feature;
    logic        features_valid;
    logic        status_wr;

    assign locked = SUSPENDED_CFG_LOCK != 0 && (state == SUSPENDED || state == RESUMING);
    assign selector_locked = SUSPENDED_CFG_LOCK != 0 &&
                             (state_after_write == SUSPENDED || state_after_write == RESUMING);
    assign configurable = state == INIT || state == RUNNING;
    assign lane_mask = {{8{wr_strb[3]}}, {8{wr_strb[2]}}, {8{wr_strb[1]}}, {8{wr_strb[0]}}};
    assign driver_feature_read = driver_feature_select == 32'd0 ? driver_features[31:0] :
                                 driver_feature_select == 32'd1 ? driver_features[63:32] : 32'd0;
    assign device_feature_read = device_feature_select == 32'd0 ? DEVICE_FEATURES[31:0] :
                                 device_feature_select == 32'd1 ? DEVICE_FEATURES[63:32] :
                                 32'd0;  // SPEC 3.1: 0 beyond the implemented range
    assign new_config_vector = (config_msix_vector & ~lane_mask[15:0]) | (wr_data[15:0] & lane_mask[15:0]);
    assign new_queue_select = (queue_select & ~lane_mask[31:16]) | (wr_data[31:16] & lane_mask[31:16]);
    assign new_device_feature_select = (device_feature_select & ~lane_mask) | (wr_data & lane_mask);
    assign new_driver_feature_select = (driver_feature_select & ~lane_mask) | (wr_data & lane_mask);
    assign new_driver_feature = (driver_feature_read & ~lane_mask) | (wr_data & lane_mask);
    // SPEC 3.3: refuse unoffered bits and a missing VERSION_1.
    assign features_valid = (driver_features & ~DEVICE_FEATURES) == 64'd0 && driver_features[virtio_pkg::F_VERSION_1];
    assign status_wr = wr_common && wr_word == W_STATUS && wr_strb[0];

    always_ff @(posedge clk) begin
        if (rst || ev_reset_done) begin  // rule 8.5
            device_feature_select <= '0;
            driver_feature_select <= '0;
            driver_features <= '0;
            negotiated <= '0;
            config_msix_vector <= NO_VECTOR;
            queue_select <= '0;
        end else begin
            if (wr_common && !locked) begin
                if (wr_word == W_DEVICE_FEATURE_SELECT)
                    device_feature_select <= new_device_feature_select;
                if (wr_word == W_DRIVER_FEATURE_SELECT)
                    driver_feature_select <= new_driver_feature_select;
                // driver_feature: only in INIT before FEATURES_OK, selects 0 and 1 (rule 8.6, SPEC 3.3)
                if (wr_word == W_DRIVER_FEATURE && state == INIT && !presented[3]) begin
                    if (driver_feature_select == 32'd0) driver_features[31:0] <= new_driver_feature;
                    if (driver_feature_select == 32'd1) driver_features[63:32] <= new_driver_feature;
                end
                if (wr_word == W_CONFIG_VECTOR && |wr_strb[1:0] && configurable)
                    config_msix_vector <= (32'(new_config_vector) < MSIX_VECTORS || new_config_vector == NO_VECTOR) ?
                                          new_config_vector : NO_VECTOR;  // rule 8.6
            end
            // queue_select follows device_status in word 0x14: a reset or a lock entered by that byte drops it.
            if (wr_common && wr_word == W_STATUS && |wr_strb[3:2] && state_after_write != RESET_PENDING &&
                !selector_locked)
                queue_select <= new_queue_select;
            if (ev_features_ok) negotiated <= driver_features;
        end
    end

    assign negotiated_features = negotiated;
    assign feat_event_idx = negotiated[virtio_pkg::F_EVENT_IDX];
    assign feat_indirect_desc = negotiated[virtio_pkg::F_INDIRECT_DESC];

    // -- status machine
    logic msg_idle;
    logic qreset_running;

    virtio_status_fsm #(
        .SUSPEND_MODE(SUSPEND_MODE),
        .RESUME_LATENCY(RESUME_LATENCY),
        .SUSPEND_DRAIN_TIMEOUT(SUSPEND_DRAIN_TIMEOUT)
    ) status_fsm (
        .clk(clk),
        .rst(rst),
        .status_wr(status_wr),
        .status_wdata(wr_data[7:0]),
        .suspend_negotiated(negotiated[F_SUSPEND_BIT]),
        .features_valid(features_valid),
        .fault(fault_inj || eng_error),
        .stopped(stopped),
        .eng_idle(eng_idle),
        .irq_idle(msg_idle),
        .irq_offered(irq_valid),
        .flip_block(devcfg_wr_valid || used_notify_valid || qreset_running),
        .state(state),
        .presented(presented),
        .state_after_write(state_after_write),
        .state_mid(state_mid),
        .ev_features_ok(ev_features_ok),
        .ev_reset_start(ev_reset_start),
        .ev_reset_done(ev_reset_done),
        .ev_enter_running(ev_enter_running),
        .ev_suspended(ev_suspended),
        .ev_resumed(ev_resumed),
        .ev_resumed_to_init(ev_resumed_to_init),
        .ev_halted(ev_halted),
        .ev_cfg_notify(ev_cfg_notify_needs_reset),
        .stop_req(stop_req),
        .draining(draining),
        .halt(halt),
        .resume(resume)
    );

    // -- per-queue registers
    logic [31:0] queue_rd_data;

    virtio_queue_regs #(
        .NUM_QUEUES(NUM_QUEUES),
        .QUEUE_SIZE_MAX(QUEUE_SIZE_MAX),
        .MSIX_VECTORS(MSIX_VECTORS),
        .VQ_STATE_REGS(VQ_STATE_REGS)
    ) queue_regs (
        .clk(clk),
        .rst(rst),
        .state(state),
        .features_ok_shown(presented[3]),
        .ring_reset(negotiated[virtio_pkg::F_RING_RESET]),
        .locked(locked),
        .queue_select(queue_select),
        .wr_en(wr_common),
        .wr_word(wr_word),
        .wr_data(wr_data),
        .wr_strb(wr_strb),
        .kick(wr_notify && wr_strb[0]),  // rule 8.7: 0x200 + 4q, the value is ignored
        .kick_queue(wr_word[5:0]),
        .rd_word(rd_word),
        .rd_data(queue_rd_data),
        .ev_enter_running(ev_enter_running),
        .ev_suspended(ev_suspended),
        .ev_resumed(ev_resumed),
        .ev_resumed_to_init(ev_resumed_to_init),
        .ev_halted(ev_halted),
        .ev_reset_start(ev_reset_start),
        .ev_reset_done(ev_reset_done),
        .qreset_running(qreset_running),
        .q_enable(q_enable),
        .q_size(q_size),
        .q_desc(q_desc),
        .q_driver(q_driver),
        .q_device(q_device),
        .q_msix_vector(q_msix_vector),
        .kick_pending(kick_pending),
        .kick_clear(kick_clear),
        .scan(scan),
        .qreset_req(qreset_req),
        .qreset_done(qreset_done),
        .last_avail_idx(last_avail_idx),
        .shadow_used_idx(shadow_used_idx),
        .avail_take(avail_take),
        .used_publish(used_publish),
        .used_publish_idx(used_publish_idx)
    );

    // -- device-specific configuration
    logic [31:0] device_cfg_rd_data;
    logic [7:0]  generation;
    logic        ev_cfg_notify_change;

    virtio_devcfg #(
        .DEV_CFG_SIZE(DEV_CFG_SIZE)
    ) device_cfg (
        .clk(clk),
        .rst(rst),
        .state(state),
        .state_mid(state_mid),
        .drv_wr(wr_device_cfg),
        .drv_word(wr_word[5:0]),
        .drv_data(wr_data),
        .drv_strb(wr_strb),
        .drv_rd(rd_device_cfg),
        .rd_word(rd_word[5:0]),
        .rd_data(device_cfg_rd_data),
        .dev_wr_valid(devcfg_wr_valid),
        .dev_wr_addr(devcfg_wr_addr),
        .dev_wr_data(devcfg_wr_data),
        .ev_resumed(ev_resumed),
        .ev_resumed_to_init(ev_resumed_to_init),
        .ev_reset_done(ev_reset_done),
        .generation(generation),
        .cfg_notify(ev_cfg_notify_change)
    );

    // -- interrupts
    logic [7:0] isr;

    virtio_irq #(
        .NUM_QUEUES(NUM_QUEUES),
        .CFG_IRQ_COUNT_WIDTH(CFG_IRQ_COUNT_WIDTH)
    ) irq (
        .clk(clk),
        .rst(rst),
        .state(state),
        .ev_reset_start(ev_reset_start),
        .ev_reset_done(ev_reset_done),
        .msix_enable(msix_enable),
        .cfg_notify(ev_cfg_notify_change || ev_cfg_notify_needs_reset),
        .config_msix_vector(config_msix_vector),
        .q_msix_vector(q_msix_vector),
        .used_notify_valid(used_notify_valid),
        .used_notify_ready(used_notify_ready),
        .used_notify_queue(used_notify_queue),
        .isr_read(rd_isr),
        .isr(isr),
        .intx(intx),
        .irq_valid(irq_valid),
        .irq_ready(irq_ready),
        .irq_vector(irq_vector),
        .msg_idle(msg_idle)
    );

    // -- read multiplexer: every field in its own byte lanes (SPEC 5.1)
    assign rd_data = rd_word == W_DEVICE_FEATURE_SELECT ? device_feature_select :
                     rd_word == W_DEVICE_FEATURE ? device_feature_read :
                     rd_word == W_DRIVER_FEATURE_SELECT ? driver_feature_select :
                     rd_word == W_DRIVER_FEATURE ? driver_feature_read :
                     rd_word == W_CONFIG_VECTOR ? {16'(NUM_QUEUES), config_msix_vector} :
                     rd_word == W_STATUS ? {queue_select, generation, presented} :
                     rd_word[9:6] == 4'd0 ? queue_rd_data :
                     rd_word == W_ISR ? {24'd0, isr} :
                     rd_word[9:6] == REGION_DEVICE_CFG ? device_cfg_rd_data :
                     32'd0;  // the notify window and unused space (rules 8.6, 8.7)

endmodule
`default_nettype wire
