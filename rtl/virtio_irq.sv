`default_nettype none
// Interrupt delivery of the virtio-pci transport (SPEC 5.1 "Interrupt delivery", SUS-25).
// A configuration-change notification sets ISR bit 1 and, with MSI-X enabled and a vector other than NO_VECTOR,
// queues one message {config_msix_vector}. A used-buffer notification from the engine sets ISR bit 0 (MSI-X
// disabled) or is offered as {queue_msix_vector[q]} (nothing for NO_VECTOR). One message is offered at a time;
// waiting configuration messages go first. Used notifications are delivered only in RUNNING, SUSPENDING and HALTED
// (the forced ones of an aborted drain) and dropped elsewhere, so no interrupt starts while suspended.
module virtio_irq #(
    parameter int NUM_QUEUES = virtio_pkg::DEFAULT_NUM_QUEUES,
    parameter int CFG_IRQ_COUNT_WIDTH = 8
) (
    input  wire                     clk,
    input  wire                     rst,

    input  wire  [2:0]              state,
    input  wire                     ev_reset_start,    // no message starts after the write of 0 (rule 8.5)
    input  wire                     ev_reset_done,     // ISR = 0
    input  wire                     msix_enable,
    input  wire                     cfg_notify,        // a configuration-change notification at this edge
    input  wire  [15:0]             config_msix_vector,
    input  wire  [NUM_QUEUES*16-1:0] q_msix_vector,
    input  wire                     used_notify_valid,
    output logic                    used_notify_ready,
    input  wire  [15:0]             used_notify_queue,
    input  wire                     isr_read,          // ISR read-to-clear at this edge
    output logic [7:0]              isr,
    output logic                    intx,
    output logic                    irq_valid,
    input  wire                     irq_ready,
    output logic [15:0]             irq_vector,
    output logic                    msg_idle           // no message waiting or offered
);

    localparam logic [2:0] RUNNING = 3'(virtio_pkg::ST_RUNNING);
    localparam logic [2:0] SUSPENDING = 3'(virtio_pkg::ST_SUSPENDING);
    localparam logic [2:0] HALTED = 3'(virtio_pkg::ST_HALTED);
    localparam logic [15:0] NO_VECTOR = 16'(virtio_pkg::NO_VECTOR);

    logic [CFG_IRQ_COUNT_WIDTH-1:0] cfg_waiting;  // configuration messages not yet offered
    logic        delivering;                       // used notifications are delivered in this state
    logic [15:0] used_vector;
    logic        used_as_message;
    logic        used_to_isr;
    logic        take_used;
    logic        take_cfg;
    logic        cfg_queue;                        // this notification needs a message

    localparam int QI_W = NUM_QUEUES > 1 ? $clog2(NUM_QUEUES) : 1;
    logic used_queue_exists;

    assign used_queue_exists = 32'(used_notify_queue) < NUM_QUEUES;
    assign used_vector = used_queue_exists ? q_msix_vector[16*used_notify_queue[QI_W-1:0] +: 16] : NO_VECTOR;
    assign delivering = (state == RUNNING || state == SUSPENDING || state == HALTED) && !ev_reset_start;
    assign used_as_message = delivering && msix_enable && used_vector != NO_VECTOR;
    assign used_to_isr = delivering && !msix_enable && used_queue_exists;
    assign take_cfg = !irq_valid && cfg_waiting != '0 && !ev_reset_start;
    // A message slot is free when nothing is offered and no configuration message waits.
    assign used_notify_ready = !used_as_message || (!irq_valid && cfg_waiting == '0);
    assign take_used = used_notify_valid && used_as_message && used_notify_ready;
    assign cfg_queue = cfg_notify && msix_enable && config_msix_vector != NO_VECTOR;
    assign msg_idle = cfg_waiting == '0 && !irq_valid;

    always_ff @(posedge clk) begin
        if (rst) begin
            cfg_waiting <= '0;
            irq_valid <= 1'b0;
            irq_vector <= '0;
        end else begin
            if (irq_valid && irq_ready) irq_valid <= 1'b0;
            if (take_cfg) begin
                // The vector is read now; a mapping changed to NO_VECTOR meanwhile drops the message.
                irq_valid <= config_msix_vector != NO_VECTOR;
                irq_vector <= config_msix_vector;
            end else if (take_used) begin
                irq_valid <= 1'b1;
                irq_vector <= used_vector;
            end
            if (ev_reset_start) cfg_waiting <= '0;
            else if (cfg_queue && !take_cfg && cfg_waiting != '1) cfg_waiting <= cfg_waiting + 1'b1;
            else if (take_cfg && !cfg_queue) cfg_waiting <= cfg_waiting - 1'b1;
        end
    end

    virtio_isr isr_byte (
        .clk(clk),
        .rst(rst || ev_reset_done),
        .set_queue(used_notify_valid && used_to_isr),
        .set_config(cfg_notify),
        .read_clear(isr_read),
        .msix_enable(msix_enable),
        .isr(isr),
        .intx(intx)
    );

endmodule
`default_nettype wire
