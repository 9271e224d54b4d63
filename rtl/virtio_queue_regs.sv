`default_nettype none
// Per-queue registers of the virtio-pci common configuration (SPEC 5.1, words 0x18-0x43) and the per-queue latches:
// write acceptance per engine state (rule 8.6), the live vq-state counters (SUS-19), kicks (rule 8.7), scans
// (entries into RUNNING, SUS-10) and queue reset (SPEC 4.8, SUS-17). Fields are addressed through queue_select;
// with queue_select >= NUM_QUEUES they read 0 and ignore writes.
module virtio_queue_regs #(
    parameter int NUM_QUEUES = virtio_pkg::DEFAULT_NUM_QUEUES,
    parameter int QUEUE_SIZE_MAX = virtio_pkg::DEFAULT_QUEUE_SIZE_MAX,
    parameter int MSIX_VECTORS = virtio_pkg::DEFAULT_MSIX_VECTORS,
    parameter int VQ_STATE_REGS = virtio_pkg::DEFAULT_VQ_STATE_REGS
) (
    input  wire                     clk,
    input  wire                     rst,

    input  wire  [2:0]              state,
    input  wire                     features_ok_shown,   // P has FEATURES_OK (vq-state window 1)
    input  wire                     ring_reset,          // VIRTIO_F_RING_RESET negotiated
    input  wire                     locked,              // SUSPENDED_CFG_LOCK in SUSPENDED / RESUMING
    input  wire  [15:0]             queue_select,

    input  wire                     wr_en,               // a register write of the common configuration
    input  wire  [9:0]              wr_word,
    input  wire  [31:0]             wr_data,
    input  wire  [3:0]              wr_strb,
    input  wire                     kick,                // a kick of queue kick_queue (notify window)
    input  wire  [5:0]              kick_queue,
    input  wire  [9:0]              rd_word,
    output logic [31:0]             rd_data,             // the queue field word at rd_word (0 elsewhere)

    input  wire                     ev_enter_running,
    input  wire                     ev_suspended,
    input  wire                     ev_resumed,
    input  wire                     ev_resumed_to_init,
    input  wire                     ev_halted,
    input  wire                     ev_reset_start,
    input  wire                     ev_reset_done,
    output logic                    qreset_running,      // a queue reset waits for the engine (holds the drain end)

    output logic [NUM_QUEUES-1:0]    q_enable,
    output logic [NUM_QUEUES*16-1:0] q_size,
    output logic [NUM_QUEUES*64-1:0] q_desc,
    output logic [NUM_QUEUES*64-1:0] q_driver,
    output logic [NUM_QUEUES*64-1:0] q_device,
    output logic [NUM_QUEUES*16-1:0] q_msix_vector,
    output logic [NUM_QUEUES-1:0]    kick_pending,
    input  wire  [NUM_QUEUES-1:0]    kick_clear,
    output logic [NUM_QUEUES-1:0]    scan,
    output logic [NUM_QUEUES-1:0]    qreset_req,
    input  wire  [NUM_QUEUES-1:0]    qreset_done,
    output logic [NUM_QUEUES*16-1:0] last_avail_idx,
    output logic [NUM_QUEUES*16-1:0] shadow_used_idx,
    input  wire  [NUM_QUEUES-1:0]    avail_take,
    input  wire  [NUM_QUEUES-1:0]    used_publish,
    input  wire  [NUM_QUEUES*16-1:0] used_publish_idx
);

    localparam logic [2:0] INIT = 3'(virtio_pkg::ST_INIT);
    localparam logic [2:0] RUNNING = 3'(virtio_pkg::ST_RUNNING);
    localparam logic [2:0] SUSPENDING = 3'(virtio_pkg::ST_SUSPENDING);
    localparam logic [2:0] SUSPENDED = 3'(virtio_pkg::ST_SUSPENDED);
    localparam logic [2:0] RESUMING = 3'(virtio_pkg::ST_RESUMING);
    localparam logic [2:0] HALTED = 3'(virtio_pkg::ST_HALTED);
    localparam logic [15:0] NO_VECTOR = 16'(virtio_pkg::NO_VECTOR);
    localparam logic [15:0] SIZE_MAX = 16'(QUEUE_SIZE_MAX);

    // Word indices (byte offset / 4) of the per-queue words.
    localparam logic [9:0] W_SIZE_VECTOR = 10'(virtio_pkg::CC_QUEUE_SIZE / 4);
    localparam logic [9:0] W_ENABLE = 10'(virtio_pkg::CC_QUEUE_ENABLE / 4);
    localparam logic [9:0] W_DESC_LO = 10'(virtio_pkg::CC_QUEUE_DESC_LO / 4);
    localparam logic [9:0] W_DESC_HI = 10'(virtio_pkg::CC_QUEUE_DESC_HI / 4);
    localparam logic [9:0] W_DRIVER_LO = 10'(virtio_pkg::CC_QUEUE_DRIVER_LO / 4);
    localparam logic [9:0] W_DRIVER_HI = 10'(virtio_pkg::CC_QUEUE_DRIVER_HI / 4);
    localparam logic [9:0] W_DEVICE_LO = 10'(virtio_pkg::CC_QUEUE_DEVICE_LO / 4);
    localparam logic [9:0] W_DEVICE_HI = 10'(virtio_pkg::CC_QUEUE_DEVICE_HI / 4);
    localparam logic [9:0] W_RESET = 10'(virtio_pkg::CC_QUEUE_RESET / 4);
    localparam logic [9:0] W_VQ_STATE = 10'(virtio_pkg::CC_QUEUE_AVAIL_STATE / 4);

    logic [15:0] size_r [NUM_QUEUES];
    logic [15:0] vector_r [NUM_QUEUES];
    logic        enable_r [NUM_QUEUES];
    logic [63:0] desc_r [NUM_QUEUES];
    logic [63:0] driver_r [NUM_QUEUES];
    logic [63:0] device_r [NUM_QUEUES];
    logic [15:0] avail_r [NUM_QUEUES];
    logic [15:0] used_r [NUM_QUEUES];
    logic [NUM_QUEUES-1:0] reset_latched;  // queue_reset written in SUSPENDING / RESUMING (SUS-17)
    logic [NUM_QUEUES-1:0] reset_busy;     // queue reset waiting for qreset_done; registers reset then
    logic [NUM_QUEUES-1:0] scan_pending;

    // -- the selected queue and the merged values of this write (SPEC 5.1 byte lanes). All combinational logic
    // here is continuous assignments: Icarus 11 can loop forever on always_comb blocks that assign a variable more
    // than once per pass or call a function.
    logic [NUM_QUEUES-1:0] selected;
    logic        any_selected;
    logic        sel_enable;
    logic [15:0] sel_size;
    logic [15:0] sel_vector;
    logic [63:0] sel_desc;
    logic [63:0] sel_driver;
    logic [63:0] sel_device;
    logic [15:0] sel_avail;
    logic [15:0] sel_used;
    logic        sel_reset_read;

    localparam int QI_W = NUM_QUEUES > 1 ? $clog2(NUM_QUEUES) : 1;
    logic [QI_W-1:0] sel_index;   // valid only with any_selected

    for (genvar q = 0; q < NUM_QUEUES; q++) begin : g_select
        assign selected[q] = queue_select == 16'(q);
    end
    assign any_selected = |selected;
    assign sel_index = queue_select[QI_W-1:0];
    assign sel_enable = enable_r[sel_index];
    assign sel_size = size_r[sel_index];
    assign sel_vector = vector_r[sel_index];
    assign sel_desc = desc_r[sel_index];
    assign sel_driver = driver_r[sel_index];
    assign sel_device = device_r[sel_index];
    assign sel_avail = avail_r[sel_index];
    assign sel_used = used_r[sel_index];
    assign sel_reset_read = reset_latched[sel_index] || reset_busy[sel_index];

    logic [31:0] lane_mask;         // the written byte lanes
    logic [15:0] merged_vector;
    logic        configurable;      // INIT / RUNNING with the selected queue disabled (rule 8.6)
    logic        wr_lo;             // the write strobes the low 16-bit field of its word
    logic        wr_hi;             // ... the high one
    logic [15:0] new_size;
    logic [15:0] new_vector;        // stored form (rule 8.6)
    logic [15:0] new_enable;
    logic [15:0] new_reset;
    logic [15:0] new_avail;
    logic [15:0] new_used;
    logic        size_ok;
    logic        set_size;
    logic        set_vector;
    logic        set_enable;
    logic        address_write;     // a write to a queue address word is accepted (rule 8.6)
    logic [5:0]  set_address;       // desc lo/hi, driver lo/hi, device lo/hi
    logic [31:0] old_address_half;
    logic [31:0] new_address_half;
    logic        reset_write;       // queue_reset = 1 honoured in this state
    logic        vq_state_window;   // SUS-19 windows 1-3
    logic        set_avail;
    logic        set_used;

    assign lane_mask = {{8{wr_strb[3]}}, {8{wr_strb[2]}}, {8{wr_strb[1]}}, {8{wr_strb[0]}}};
    assign new_size = (sel_size & ~lane_mask[15:0]) | (wr_data[15:0] & lane_mask[15:0]);
    assign merged_vector = (sel_vector & ~lane_mask[31:16]) | (wr_data[31:16] & lane_mask[31:16]);
    // Rule 8.6: 0..MSIX_VECTORS-1 and NO_VECTOR are stored as written, anything else as NO_VECTOR.
    assign new_vector = (32'(merged_vector) < MSIX_VECTORS || merged_vector == NO_VECTOR) ? merged_vector : NO_VECTOR;
    assign new_enable = ({15'd0, sel_enable} & ~lane_mask[15:0]) | (wr_data[15:0] & lane_mask[15:0]);
    assign new_reset = ({15'd0, sel_reset_read} & ~lane_mask[31:16]) | (wr_data[31:16] & lane_mask[31:16]);
    assign new_avail = (sel_avail & ~lane_mask[15:0]) | (wr_data[15:0] & lane_mask[15:0]);
    assign new_used = (sel_used & ~lane_mask[31:16]) | (wr_data[31:16] & lane_mask[31:16]);
    assign new_address_half = (old_address_half & ~lane_mask) | (wr_data & lane_mask);

    assign configurable = any_selected && !sel_enable && (state == INIT || state == RUNNING);
    assign wr_lo = wr_en && any_selected && !locked && |wr_strb[1:0];
    assign wr_hi = wr_en && any_selected && !locked && |wr_strb[3:2];
    assign size_ok = new_size != 16'd0 && (new_size & (new_size - 16'd1)) == 16'd0 && new_size <= SIZE_MAX;
    assign set_size = wr_lo && wr_word == W_SIZE_VECTOR && configurable && size_ok;
    assign set_vector = wr_hi && wr_word == W_SIZE_VECTOR && configurable;
    assign set_enable = wr_lo && wr_word == W_ENABLE && new_enable == 16'd1 && !sel_enable &&
                        (state == INIT || state == RUNNING) &&
                        sel_desc[3:0] == 4'd0 && sel_driver[0] == 1'b0 && sel_device[1:0] == 2'd0;  // SPEC 4.1
    assign address_write = wr_en && |wr_strb && configurable;
    assign set_address[0] = address_write && wr_word == W_DESC_LO;
    assign set_address[1] = address_write && wr_word == W_DESC_HI;
    assign set_address[2] = address_write && wr_word == W_DRIVER_LO;
    assign set_address[3] = address_write && wr_word == W_DRIVER_HI;
    assign set_address[4] = address_write && wr_word == W_DEVICE_LO;
    assign set_address[5] = address_write && wr_word == W_DEVICE_HI;
    assign old_address_half = set_address[0] ? sel_desc[31:0] : set_address[1] ? sel_desc[63:32] :
                              set_address[2] ? sel_driver[31:0] : set_address[3] ? sel_driver[63:32] :
                              set_address[4] ? sel_device[31:0] : sel_device[63:32];
    assign reset_write = wr_hi && wr_word == W_RESET && new_reset == 16'd1 && ring_reset;  // SUS-17
    assign vq_state_window = VQ_STATE_REGS != 0 &&
                             ((state == INIT && features_ok_shown && !sel_enable) ||
                              state == SUSPENDED || (state == RUNNING && !sel_enable));
    assign set_avail = wr_lo && wr_word == W_VQ_STATE && vq_state_window;
    assign set_used = wr_hi && wr_word == W_VQ_STATE && vq_state_window;

    // -- queue reset: performed at once when nothing of the queue can be outstanding, else via the engine
    logic [NUM_QUEUES-1:0] reset_latch_now;
    logic [NUM_QUEUES-1:0] reset_idle;      // registers reset at this edge
    logic [NUM_QUEUES-1:0] reset_live;      // registers reset at qreset_done
    logic [NUM_QUEUES-1:0] reset_finish;    // a live reset completes at this edge
    logic [NUM_QUEUES-1:0] scan_set;
    logic                  latching;

    logic [NUM_QUEUES-1:0] latched_all;     // latched resets, with this cycle's
    logic [NUM_QUEUES-1:0] write_now;       // a queue_reset write performed now (not latched)
    logic                  scan_all;        // an entry into RUNNING for every enabled queue

    assign latching = state == SUSPENDING || state == RESUMING;
    assign reset_latch_now = selected & {NUM_QUEUES{reset_write && latching}};
    assign write_now = selected & {NUM_QUEUES{reset_write && !latching}};
    assign latched_all = reset_latched | reset_latch_now;
    assign reset_idle = (write_now & {NUM_QUEUES{state == INIT || state == SUSPENDED}}) |
                        (latched_all & {NUM_QUEUES{ev_suspended || ev_resumed}});
    assign reset_live = (write_now & {NUM_QUEUES{state == RUNNING || state == HALTED}}) |
                        (latched_all & {NUM_QUEUES{ev_halted}});
    assign reset_finish = reset_busy & qreset_done & qreset_req;
    assign scan_all = ev_enter_running || (ev_resumed && !ev_resumed_to_init);
    for (genvar q = 0; q < NUM_QUEUES; q++) begin : g_scan
        assign scan_set[q] = (scan_all && enable_r[q] && !reset_idle[q]) ||
                             (set_enable && selected[q] && state == RUNNING);  // rule 8.7
    end

    assign qreset_running = |reset_busy;

    always_ff @(posedge clk) begin
        for (int q = 0; q < NUM_QUEUES; q++) begin
            if (selected[q]) begin
                if (set_size) size_r[q] <= new_size;
                if (set_vector) vector_r[q] <= new_vector;
                if (set_enable) enable_r[q] <= 1'b1;
                if (set_address[0]) desc_r[q][31:0] <= new_address_half;
                if (set_address[1]) desc_r[q][63:32] <= new_address_half;
                if (set_address[2]) driver_r[q][31:0] <= new_address_half;
                if (set_address[3]) driver_r[q][63:32] <= new_address_half;
                if (set_address[4]) device_r[q][31:0] <= new_address_half;
                if (set_address[5]) device_r[q][63:32] <= new_address_half;
                if (set_avail) avail_r[q] <= new_avail;
                if (set_used) used_r[q] <= new_used;
            end
            // The engine's updates of the live counters win over a same-cycle driver write.
            if (avail_take[q]) avail_r[q] <= avail_r[q] + 16'd1;
            if (used_publish[q]) used_r[q] <= used_publish_idx[16*q +: 16];
            if (kick && kick_queue == 6'(q) && enable_r[q] && state != HALTED) kick_pending[q] <= 1'b1;
            else if (kick_clear[q]) kick_pending[q] <= 1'b0;

            if (reset_latch_now[q]) reset_latched[q] <= 1'b1;
            if (reset_live[q]) begin
                reset_busy[q] <= 1'b1;
                reset_latched[q] <= 1'b0;
            end
            if (reset_idle[q] || reset_live[q]) qreset_req[q] <= 1'b1;
            else if (qreset_done[q]) qreset_req[q] <= 1'b0;
            if (scan_set[q]) scan_pending[q] <= 1'b1;
            else if (scan[q] || state != RUNNING) scan_pending[q] <= 1'b0;

            // Rule 8.5 per-queue reset values: queue reset, device reset completion, rst.
            if (rst || ev_reset_done || reset_idle[q] || reset_finish[q]) begin
                size_r[q] <= SIZE_MAX;
                vector_r[q] <= NO_VECTOR;
                enable_r[q] <= 1'b0;
                desc_r[q] <= '0;
                driver_r[q] <= '0;
                device_r[q] <= '0;
                avail_r[q] <= '0;
                used_r[q] <= '0;
                kick_pending[q] <= 1'b0;
                reset_latched[q] <= 1'b0;
                reset_busy[q] <= 1'b0;
                scan_pending[q] <= 1'b0;
            end
            if (rst || ev_reset_start) begin  // the engine abandons everything at a reset start (halt)
                qreset_req[q] <= 1'b0;
                reset_busy[q] <= 1'b0;
            end
        end
    end

    for (genvar q = 0; q < NUM_QUEUES; q++) begin : g_outputs
        assign q_enable[q] = enable_r[q];
        assign q_size[16*q +: 16] = size_r[q];
        assign q_desc[64*q +: 64] = desc_r[q];
        assign q_driver[64*q +: 64] = driver_r[q];
        assign q_device[64*q +: 64] = device_r[q];
        assign q_msix_vector[16*q +: 16] = vector_r[q];
        assign last_avail_idx[16*q +: 16] = avail_r[q];
        assign shadow_used_idx[16*q +: 16] = used_r[q];
    end
    assign scan = scan_pending & ~qreset_req & {NUM_QUEUES{state == RUNNING}};

    assign rd_data = !any_selected ? 32'd0 :
                     rd_word == W_SIZE_VECTOR ? {sel_vector, sel_size} :
                     rd_word == W_ENABLE ? {queue_select, 15'd0, sel_enable} :  // queue_notify_off = q (rule 8.7)
                     rd_word == W_DESC_LO ? sel_desc[31:0] :
                     rd_word == W_DESC_HI ? sel_desc[63:32] :
                     rd_word == W_DRIVER_LO ? sel_driver[31:0] :
                     rd_word == W_DRIVER_HI ? sel_driver[63:32] :
                     rd_word == W_DEVICE_LO ? sel_device[31:0] :
                     rd_word == W_DEVICE_HI ? sel_device[63:32] :
                     rd_word == W_RESET ? {15'd0, sel_reset_read, 16'd0} :
                     rd_word == W_VQ_STATE && VQ_STATE_REGS != 0 ? {sel_used, sel_avail} : 32'd0;

endmodule
`default_nettype wire
