`default_nettype none
// AXI4-Lite slave front end of the register block: one transaction at a time, a write executes at the edge that
// completes the later of its AW and W handshakes, a read samples `rd_data` at its AR handshake. A write the core
// marks with `wr_hold` (the write of 0 to device_status, SUS-13) gets no response and blocks every channel until
// `hold_release`.
module virtio_axil_slave (
    input  wire         clk,
    input  wire         rst,

    /* verilator lint_off UNUSEDSIGNAL */  // protection bits carry nothing for this slave; addresses are word-wide
    input  wire  [11:0] s_axil_awaddr,
    input  wire  [2:0]  s_axil_awprot,
    input  wire  [11:0] s_axil_araddr,
    input  wire  [2:0]  s_axil_arprot,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire         s_axil_awvalid,
    output logic        s_axil_awready,
    input  wire  [31:0] s_axil_wdata,
    input  wire  [3:0]  s_axil_wstrb,
    input  wire         s_axil_wvalid,
    output logic        s_axil_wready,
    output logic [1:0]  s_axil_bresp,
    output logic        s_axil_bvalid,
    input  wire         s_axil_bready,
    input  wire         s_axil_arvalid,
    output logic        s_axil_arready,
    output logic [31:0] s_axil_rdata,
    output logic [1:0]  s_axil_rresp,
    output logic        s_axil_rvalid,
    input  wire         s_axil_rready,

    output logic        wr_en,        // a write executes at this edge
    output logic [9:0]  wr_word,      // its word address (byte address [11:2])
    output logic [31:0] wr_data,
    output logic [3:0]  wr_strb,
    input  wire         wr_hold,      // this write started a device reset: withhold its response
    input  wire         hold_release, // the reset completes at this edge
    output logic        rd_en,        // a read is accepted at this edge
    output logic [9:0]  rd_word,
    input  wire  [31:0] rd_data       // the word at rd_word, during the rd_en cycle
);

    localparam logic [1:0] FE_IDLE = 2'd0;  // ready for a transaction
    localparam logic [1:0] FE_BRESP = 2'd1; // write response owed
    localparam logic [1:0] FE_RRESP = 2'd2; // read response owed
    localparam logic [1:0] FE_HOLD = 2'd3;  // device reset running: nothing accepted, response withheld

    logic [1:0]  fe_state;
    logic        aw_held;
    logic        w_held;
    logic [9:0]  aw_word_q;
    logic [31:0] w_data_q;
    logic [3:0]  w_strb_q;
    logic        idle;

    assign idle = fe_state == FE_IDLE;
    assign s_axil_awready = idle && !aw_held;
    assign s_axil_wready = idle && !w_held;
    // A write (even half of one) takes precedence over a read offered in the same cycle.
    assign s_axil_arready = idle && !aw_held && !w_held && !s_axil_awvalid && !s_axil_wvalid;

    assign wr_en = idle && (aw_held || s_axil_awvalid) && (w_held || s_axil_wvalid);
    assign wr_word = aw_held ? aw_word_q : s_axil_awaddr[11:2];
    assign wr_data = w_held ? w_data_q : s_axil_wdata;
    assign wr_strb = w_held ? w_strb_q : s_axil_wstrb;
    assign rd_en = s_axil_arvalid && s_axil_arready;
    assign rd_word = s_axil_araddr[11:2];

    assign s_axil_bvalid = fe_state == FE_BRESP;
    assign s_axil_rvalid = fe_state == FE_RRESP;
    assign s_axil_bresp = 2'b00;
    assign s_axil_rresp = 2'b00;

    always_ff @(posedge clk) begin
        if (rst) begin
            fe_state <= FE_IDLE;
            aw_held <= 1'b0;
            w_held <= 1'b0;
            aw_word_q <= '0;
            w_data_q <= '0;
            w_strb_q <= '0;
            s_axil_rdata <= '0;
        end else begin
            case (fe_state)
                FE_IDLE: begin
                    if (wr_en) begin
                        aw_held <= 1'b0;
                        w_held <= 1'b0;
                        fe_state <= wr_hold ? FE_HOLD : FE_BRESP;
                    end else begin
                        if (s_axil_awvalid && s_axil_awready) begin
                            aw_held <= 1'b1;
                            aw_word_q <= s_axil_awaddr[11:2];
                        end
                        if (s_axil_wvalid && s_axil_wready) begin
                            w_held <= 1'b1;
                            w_data_q <= s_axil_wdata;
                            w_strb_q <= s_axil_wstrb;
                        end
                        if (rd_en) begin
                            s_axil_rdata <= rd_data;
                            fe_state <= FE_RRESP;
                        end
                    end
                end
                FE_BRESP: if (s_axil_bready) fe_state <= FE_IDLE;
                FE_RRESP: if (s_axil_rready) fe_state <= FE_IDLE;
                default: if (hold_release) fe_state <= FE_BRESP;  // FE_HOLD (SUS-13)
            endcase
        end
    end

endmodule
`default_nettype wire
