`default_nettype none
// ISR status byte of the virtio-pci transport and the INTx level (SPEC 5.1, ISR and "Interrupt delivery").
// Bit 0: queue interrupt, bit 1: configuration interrupt, bits 7:2 read 0. An ISR read returns the byte as it was
// (the `isr` output in the read's cycle) and clears it; a set in the same cycle as the read survives the clear, so
// no notification is lost. Golden model: virtio_golden.isr.IsrModel.
module virtio_isr (
    input  wire        clk,
    input  wire        rst,          // synchronous, active high
    input  wire        set_queue,    // pulse: a used-buffer notification delivered with MSI-X disabled
    input  wire        set_config,   // pulse: a configuration-change notification (with or without MSI-X)
    input  wire        read_clear,   // pulse: an ISR read
    input  wire        msix_enable,  // MSI-X Enable of the PCIe endpoint
    output logic [7:0] isr,
    output logic       intx          // (isr != 0) && !msix_enable, continuously
);

    logic [7:0] set_bits;

    always_comb begin
        set_bits = 8'h00;
        if (set_queue) set_bits = set_bits | 8'(virtio_pkg::ISR_QUEUE);
        if (set_config) set_bits = set_bits | 8'(virtio_pkg::ISR_CONFIG);
    end

    always_ff @(posedge clk) begin
        if (rst) isr <= 8'h00;
        else if (read_clear) isr <= set_bits;
        else isr <= isr | set_bits;
    end

    assign intx = (isr != 8'h00) && !msix_enable;

endmodule
`default_nettype wire
