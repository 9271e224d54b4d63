`default_nettype none
// Bench-only delay stage for one valid/ready channel: every beat leaves exactly LATENCY cycles after it was
// accepted (1 = a register slice), in order, at one beat per cycle. A FIFO of LATENCY + 1 beats, each stamped
// with the cycle it came in, so the channel stays fully pipelined while the output side is ready; backpressure
// on the output holds the beats (they leave as soon as both their time has come and the output is ready).
// LATENCY 0 is a wire.
module bench_delay_line #(
    parameter int WIDTH   = 8,
    parameter int LATENCY = 16
) (
    /* verilator lint_off UNUSEDSIGNAL */  // both unused when LATENCY is 0 (the line is a wire)
    input  wire              clk,
    input  wire              rst,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire  [WIDTH-1:0] in_data,
    input  wire              in_valid,
    output logic             in_ready,
    output logic [WIDTH-1:0] out_data,
    output logic             out_valid,
    input  wire              out_ready
);

    if (LATENCY == 0) begin : g_wire
        assign out_data = in_data;
        assign out_valid = in_valid;
        assign in_ready = out_ready;
    end else begin : g_fifo
        localparam int DEPTH = LATENCY + 1;
        localparam int PW = $clog2(DEPTH);
        localparam logic [PW-1:0] LAST = PW'(DEPTH - 1);
        localparam logic [PW:0] FULL = (PW + 1)'(DEPTH);

        logic [WIDTH-1:0] data_q [DEPTH];
        logic [31:0]      stamp_q [DEPTH]; // cycle of entry; 32 bits: a beat would have to wait 2^32 cycles to alias
        logic [PW-1:0]    head_q;
        logic [PW-1:0]    tail_q;
        logic [PW:0]      count_q;
        logic [31:0]      now_q;
        logic             push;
        logic             pop;

        assign in_ready = count_q != FULL;
        assign out_valid = count_q != '0 && now_q - stamp_q[head_q] >= 32'(LATENCY);
        assign out_data = data_q[head_q];
        assign push = in_valid && in_ready;
        assign pop = out_valid && out_ready;

        always_ff @(posedge clk) begin
            now_q <= now_q + 32'd1;
            if (push) begin
                data_q[tail_q] <= in_data;
                stamp_q[tail_q] <= now_q;
                tail_q <= tail_q == LAST ? '0 : tail_q + 1'b1;
            end
            if (pop) begin
                head_q <= head_q == LAST ? '0 : head_q + 1'b1;
            end
            count_q <= count_q + (PW + 1)'(push) - (PW + 1)'(pop);
            if (rst) begin
                head_q <= '0;
                tail_q <= '0;
                count_q <= '0;
                now_q <= '0;
            end
        end
    end

endmodule
`default_nettype wire
