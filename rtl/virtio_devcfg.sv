`default_nettype none
// Device-specific configuration at BAR 0x300 (DEV_CFG_SIZE bytes) with its change rules: device-side words applied,
// latched or deferred by engine state (rule 8.10, SUS-08), the cfg_change_pending latch (latest value per word
// wins), cfg_dirty and config_generation (SPEC 2.6). Words 0 and 1 are read-only to the driver, the others
// read/write; driver writes only in INIT and RUNNING (SUS-09). Within a cycle a driver read sees the value before a
// device-side write, and a device-side write wins over a driver write of the same byte.
module virtio_devcfg #(
    parameter int DEV_CFG_SIZE = virtio_pkg::DEFAULT_DEV_CFG_SIZE
) (
    input  wire         clk,
    input  wire         rst,

    input  wire  [2:0]  state,
    input  wire  [2:0]  state_mid,      // after this cycle's status write and faults: routes device-side changes
    input  wire         drv_wr,         // driver write to the window (word < 64)
    input  wire  [5:0]  drv_word,
    input  wire  [31:0] drv_data,
    input  wire  [3:0]  drv_strb,
    input  wire         drv_rd,         // driver read accepted in the window
    input  wire  [5:0]  rd_word,
    output logic [31:0] rd_data,        // 0 beyond DEV_CFG_SIZE
    input  wire         dev_wr_valid,   // devcfg_wr_*
    /* verilator lint_off UNUSEDSIGNAL */  // bits [1:0]: the device-side word is aligned (rule 8.10)
    input  wire  [7:0]  dev_wr_addr,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire  [31:0] dev_wr_data,
    input  wire         ev_resumed,
    input  wire         ev_resumed_to_init,
    input  wire         ev_reset_done,
    output logic [7:0]  generation,
    output logic        cfg_notify      // a configuration-change notification at this edge
);

    localparam int WORDS = DEV_CFG_SIZE / 4;
    localparam logic [2:0] INIT = 3'(virtio_pkg::ST_INIT);
    localparam logic [2:0] RUNNING = 3'(virtio_pkg::ST_RUNNING);
    localparam logic [2:0] SUSPENDING = 3'(virtio_pkg::ST_SUSPENDING);

    logic [31:0] word_r [WORDS];
    logic [31:0] pending_data [WORDS];
    logic [WORDS-1:0] pending;          // cfg_change_pending, per word
    logic        cfg_dirty;

    logic        dev_in_range;
    logic        dev_apply;             // applied now (INIT, RUNNING, SUSPENDING)
    logic        dev_latch;             // latched (SUSPENDED, RESUMING, HALTED, RESET_PENDING)
    logic        flush;                 // the latched words are applied at this edge (resume or reset completion)
    logic [WORDS-1:0] latched_all;      // pending, with this cycle's latched word
    logic        rd_counts;             // a device-config read (rule 8.10)

    localparam int WI_W = WORDS > 1 ? $clog2(WORDS) : 1;

    assign dev_in_range = 32'(dev_wr_addr[7:2]) < WORDS;
    assign dev_apply = dev_wr_valid && dev_in_range &&
                       (state_mid == INIT || state_mid == RUNNING || state_mid == SUSPENDING);
    assign dev_latch = dev_wr_valid && dev_in_range && !dev_apply;
    assign flush = ev_resumed || ev_reset_done;
    for (genvar i = 0; i < WORDS; i++) begin : g_latch
        assign latched_all[i] = pending[i] || (dev_latch && dev_wr_addr[7:2] == 6'(i));
    end
    assign rd_counts = drv_rd && 32'(rd_word) < WORDS;
    // Rule 8.10: a notification for a change applied in RUNNING or SUSPENDING, and exactly one for the changes
    // latched while suspended, at resume completion to RUNNING (SUS-08); none at reset completion.
    assign cfg_notify = (dev_apply && (state_mid == RUNNING || state_mid == SUSPENDING)) ||
                        (ev_resumed && !ev_resumed_to_init && |latched_all);
    assign rd_data = 32'(rd_word) < WORDS ? word_r[rd_word[WI_W-1:0]] : 32'd0;

    always_ff @(posedge clk) begin
        for (int i = 0; i < WORDS; i++) begin
            if (drv_wr && i >= 2 && drv_word == 6'(i) && (state == INIT || state == RUNNING)) begin
                for (int b = 0; b < 4; b++) if (drv_strb[b]) word_r[i][8*b +: 8] <= drv_data[8*b +: 8];
            end
            if (dev_apply && dev_wr_addr[7:2] == 6'(i)) word_r[i] <= dev_wr_data;
            if (dev_latch && dev_wr_addr[7:2] == 6'(i)) pending_data[i] <= dev_wr_data;
            if (flush) begin
                if (latched_all[i]) word_r[i] <= (dev_latch && dev_wr_addr[7:2] == 6'(i)) ? dev_wr_data : pending_data[i];
                pending[i] <= 1'b0;
            end else begin
                pending[i] <= latched_all[i];
            end
        end
        if (rst) begin  // the configuration itself keeps its value over a device reset (rule 8.5)
            for (int i = 0; i < WORDS; i++) word_r[i] <= '0;
            pending <= '0;
            cfg_dirty <= 1'b0;
            generation <= 8'd0;
        end else if (ev_reset_done) begin
            cfg_dirty <= |latched_all;  // SPEC 2.6: a latched change applied at the reset shows a new generation
            generation <= 8'd0;
        end else begin
            if (rd_counts && cfg_dirty) generation <= generation + 8'd1;
            cfg_dirty <= (cfg_dirty && !rd_counts) || dev_apply || (ev_resumed && |latched_all);
        end
    end

endmodule
`default_nettype wire
