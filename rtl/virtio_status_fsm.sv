`default_nettype none
// The engine state and the presented device_status P (rule 8.4 in both SUSPEND_MODEs, SUS-03..SUS-16).
// Order within one cycle (rule 8.12): the status write, then the NEEDS_RESET causes, then the timed transitions
// (drain end, resume completion, reset completion), which happen only if the first two left the state alone.
// The ev_* outputs are combinational: they name what happens at this clock edge, for the other blocks.
// Golden model: virtio_golden.status.decide_status_write and virtio_golden.core.DeviceCore.
module virtio_status_fsm #(
    parameter int SUSPEND_MODE = virtio_pkg::DEFAULT_SUSPEND_MODE,
    parameter int RESUME_LATENCY = virtio_pkg::DEFAULT_RESUME_LATENCY,
    parameter int SUSPEND_DRAIN_TIMEOUT = virtio_pkg::DEFAULT_SUSPEND_DRAIN_TIMEOUT
) (
    input  wire        clk,
    input  wire        rst,

    input  wire        status_wr,          // driver write of device_status (byte lane 0 of word 0x14)
    input  wire  [7:0] status_wdata,
    input  wire        suspend_negotiated, // F_SUSPEND accepted at the FEATURES_OK write
    input  wire        features_valid,     // SPEC 3.3 judged on the stored driver features
    input  wire        fault,              // fault_inj or eng_error this cycle
    input  wire        stopped,            // engine: drain finished
    input  wire        eng_idle,           // engine: nothing outstanding
    input  wire        irq_idle,           // no configuration message pending or offered
    input  wire        irq_offered,        // irq_valid
    input  wire        flip_block,         // a drain end must wait (same-cycle devcfg or notify, queue reset running)

    output logic [2:0] state,
    output logic [7:0] presented,
    output logic [2:0] state_after_write,  // after this cycle's status write, before the faults
    output logic [2:0] state_mid,          // after the status write and the faults, before the timed transitions

    output logic       ev_features_ok,     // FEATURES_OK accepted: freeze the negotiated set
    output logic       ev_reset_start,     // write of 0: RESET_PENDING (SUS-13)
    output logic       ev_reset_done,      // reset completion: every rule 8.5 value
    output logic       ev_enter_running,   // DRIVER_OK accepted in INIT: scan every enabled queue (rule 8.7)
    output logic       ev_suspended,       // SUSPENDED entered: perform the latched queue resets (SUS-17)
    output logic       ev_resumed,         // resume completion, to RUNNING or (ev_resumed_to_init) INIT
    output logic       ev_resumed_to_init,
    output logic       ev_halted,          // HALTED entered
    output logic       ev_cfg_notify,      // the NEEDS_RESET configuration notification (SUS-12)

    output logic       stop_req,
    output logic       draining,
    output logic       halt,
    output logic       resume
);

    localparam logic [2:0] INIT = 3'(virtio_pkg::ST_INIT);
    localparam logic [2:0] RUNNING = 3'(virtio_pkg::ST_RUNNING);
    localparam logic [2:0] SUSPENDING = 3'(virtio_pkg::ST_SUSPENDING);
    localparam logic [2:0] SUSPENDED = 3'(virtio_pkg::ST_SUSPENDED);
    localparam logic [2:0] RESUMING = 3'(virtio_pkg::ST_RESUMING);
    localparam logic [2:0] HALTED = 3'(virtio_pkg::ST_HALTED);
    localparam logic [2:0] RESET_PENDING = 3'(virtio_pkg::ST_RESET_PENDING);

    localparam logic [7:0] DRIVER_OK = 8'(virtio_pkg::S_DRIVER_OK);
    localparam logic [7:0] SUSPEND = 8'(virtio_pkg::S_SUSPEND);
    localparam logic [7:0] NEEDS_RESET = 8'(virtio_pkg::S_NEEDS_RESET);
    localparam logic [7:0] FAILED = 8'(virtio_pkg::S_FAILED);
    localparam logic [7:0] DRIVER_BITS = 8'(virtio_pkg::S_DRIVER_BITS);
    localparam bit MODE_RFC = SUSPEND_MODE == virtio_pkg::MODE_RFC;

    localparam int RL_W = $clog2(RESUME_LATENCY + 1);
    localparam int WD_W = SUSPEND_DRAIN_TIMEOUT > 0 ? $clog2(SUSPEND_DRAIN_TIMEOUT + 1) : 1;

    logic [RL_W-1:0] resume_count;    // cycles of RESUMING left
    logic            resume_to_init;  // mode-RFC resume of a device suspended before DRIVER_OK (SUS-11)
    logic [WD_W-1:0] watchdog_count;  // cycles of SUSPENDING left before the watchdog fires (SUS-22)
    logic            stop_fresh;      // first cycle of stop_req: `stopped` is not sampled yet
    logic            abort_wait;      // HALTED after a NEEDS_RESET drain abort: forced notifications first (SUS-12)

    // The decision is built in stages of continuous assignments (Icarus 11 can loop forever on an always_comb that
    // assigns a variable more than once per pass): W (the status write), F (the faults), T (the timed transitions).

    // -- stage W: rule 8.4 for the status write
    logic [7:0] w;
    logic [7:0] merged;               // B of rule 8.4 "merge": W & 0x0F, FEATURES_OK dropped on refusal
    logic       features_set;         // FEATURES_OK 0 -> 1 requested
    logic       q14;                  // DRIVER_OK without FEATURES_OK (Q14)
    logic       eligible;             // SUS-03, judged on P before the write
    logic       write;                // a status write (none can arrive in RESET_PENDING)
    logic       w_reset;              // column 0 (SUS-13)
    logic       w_failed;             // column FAILED (SUS-15)
    logic       w_merge;              // INIT or RUNNING, any other non-zero W: merge (rule 8.4)
    logic       w_resume_start;       // SUSPENDED: DRIVER_OK written, or the mode-RFC W == P & ~SUSPEND (SUS-11)
    logic       w_resume_to_init;
    logic       w_q14;
    logic       w_suspended;          // mode RFC from INIT: SUSPENDED in the same update
    logic       w_suspend_latch;      // RUNNING -> SUSPENDING (SUS-04)
    logic       w_enter_running;      // DRIVER_OK accepted in INIT
    logic       w_halted;
    logic [2:0] w_state;
    logic [7:0] w_presented;

    assign w = status_wdata;
    assign features_set = w[3] && !presented[3];
    assign merged = w & DRIVER_BITS & ~(features_set && !features_valid ? 8'(virtio_pkg::S_FEATURES_OK) : 8'h00);
    assign q14 = merged[2] && !presented[3] && !merged[3];
    assign eligible = w[4] && suspend_negotiated && (MODE_RFC ? presented[3] : presented[2]);
    assign write = status_wr && state != RESET_PENDING;
    assign w_reset = write && w == 8'h00;
    assign w_failed = write && w[7];
    assign w_merge = write && w != 8'h00 && !w[7] && (state == INIT || state == RUNNING);
    assign w_resume_start = write && w != 8'h00 && !w[7] && state == SUSPENDED &&
                            (w[2] || (MODE_RFC && w == (presented & ~SUSPEND)));
    assign w_resume_to_init = !w[2];
    assign w_q14 = w_merge && q14;
    assign w_suspended = w_merge && !q14 && eligible && state == INIT;
    assign w_suspend_latch = w_merge && !q14 && eligible && state == RUNNING;
    assign w_enter_running = w_merge && !q14 && !eligible && state == INIT && merged[2];
    assign w_halted = (w_failed && state != HALTED) || w_q14;
    assign w_state = w_reset ? RESET_PENDING :
                     w_failed || w_q14 ? HALTED :
                     w_resume_start ? RESUMING :
                     w_suspended ? SUSPENDED :
                     w_suspend_latch ? SUSPENDING :
                     w_enter_running ? RUNNING : state;
    assign w_presented = w_failed ? presented | FAILED :
                         w_q14 ? presented | (merged & ~DRIVER_OK) | NEEDS_RESET :
                         w_suspended ? presented | merged | SUSPEND :
                         w_merge ? presented | merged : presented;
    assign ev_features_ok = w_merge && features_set && features_valid;  // SPEC 3.3
    assign ev_reset_start = w_reset;

    // -- stage F: NEEDS_RESET causes after the register access (rule 8.12); ignored in HALTED, RESET_PENDING
    logic       watchdog_fire;
    logic       needs_reset_halt;     // NEEDS_RESET raised by a fault this cycle
    logic       halt_from_draining;
    logic [2:0] f_state;
    logic [7:0] f_presented;
    logic       abort_done;           // the aborted drain's forced notifications are handed over
    logic       abort_wait_next;

    assign watchdog_fire = SUSPEND_DRAIN_TIMEOUT > 0 && state == SUSPENDING && watchdog_count == WD_W'(1);
    assign needs_reset_halt = (fault || watchdog_fire) && w_state != HALTED && w_state != RESET_PENDING;
    assign halt_from_draining = needs_reset_halt && w_state == SUSPENDING;
    assign f_state = needs_reset_halt ? HALTED : w_state;
    assign f_presented = needs_reset_halt ? w_presented | NEEDS_RESET : w_presented;
    assign abort_done = abort_wait && !halt && stopped && w_state == HALTED;
    assign abort_wait_next = (abort_wait && !abort_done && w_state == HALTED) || halt_from_draining;

    assign state_after_write = w_state;
    assign state_mid = f_state;
    assign ev_halted = w_halted || needs_reset_halt;
    assign ev_enter_running = w_enter_running && !needs_reset_halt;
    // SUS-12: one configuration notification iff DRIVER_OK is shown; after the forced ones of an aborted drain.
    assign ev_cfg_notify = (needs_reset_halt && !halt_from_draining && f_presented[2]) || abort_done;

    // -- stage T: timed transitions (rule 8.4, second table), only if stages W and F left the state alone
    logic       timed;
    logic       drain_end;
    logic [2:0] state_next;
    logic [7:0] presented_next;

    assign timed = f_state == state;
    assign drain_end = timed && state == SUSPENDING && stop_req && !stop_fresh && stopped && irq_idle && !flip_block;
    assign ev_resumed = timed && state == RESUMING && resume_count == RL_W'(1);
    assign ev_resumed_to_init = resume_to_init;
    assign ev_reset_done = timed && state == RESET_PENDING && !halt && eng_idle && !irq_offered;
    assign ev_suspended = (w_suspended && !needs_reset_halt) || drain_end;
    assign state_next = drain_end ? SUSPENDED :
                        ev_resumed ? (resume_to_init ? INIT : RUNNING) :
                        ev_reset_done ? INIT : f_state;
    assign presented_next = drain_end ? (MODE_RFC ? presented | SUSPEND : (presented | SUSPEND) & ~DRIVER_OK) :
                            ev_resumed ? (resume_to_init ? presented & ~SUSPEND : (presented & ~SUSPEND) | DRIVER_OK) :
                            ev_reset_done ? 8'h00 : f_presented;

    always_ff @(posedge clk) begin
        if (rst) begin
            state <= INIT;
            presented <= 8'h00;
            resume_count <= '0;
            resume_to_init <= 1'b0;
            watchdog_count <= '0;
            stop_fresh <= 1'b0;
            abort_wait <= 1'b0;
            stop_req <= 1'b0;
            draining <= 1'b0;
            halt <= 1'b0;
            resume <= 1'b0;
        end else begin
            state <= state_next;
            presented <= presented_next;
            if (w_resume_start && !needs_reset_halt) begin
                resume_count <= RL_W'(RESUME_LATENCY);
                resume_to_init <= w_resume_to_init;
            end else if (state == RESUMING) begin
                resume_count <= resume_count - 1'b1;
            end
            if (w_suspend_latch) watchdog_count <= WD_W'(SUSPEND_DRAIN_TIMEOUT);
            else if (state == SUSPENDING) watchdog_count <= watchdog_count - 1'b1;
            abort_wait <= abort_wait_next;
            stop_req <= state_next == SUSPENDING || abort_wait_next;
            stop_fresh <= w_suspend_latch;
            draining <= state_next == SUSPENDING;
            halt <= ev_halted || ev_reset_start;
            resume <= ev_resumed && !resume_to_init;
        end
    end

endmodule
`default_nettype wire
