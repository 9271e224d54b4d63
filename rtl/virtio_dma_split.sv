`default_nettype none
// Burst splitter of the DMA block (virtio_dma): cuts one byte-range command [addr, addr+len) into AXI INCR bursts
// of at most MAX_BURST_BEATS beats that never cross a 4 KiB boundary. One burst is offered per cycle; the next
// command is taken once the last burst of the current one has left. `user` travels unchanged with every burst.
// EXACT = 0 (writes, gather reads): full bus words (size log2(KW)); a burst starts at the word holding its first
//   byte; only the first burst of a command can start inside a word (lo > 0), only the last can end inside one.
// EXACT = 1 (control reads): each burst's AXI range [addr, addr + beats * 2^size) is exactly a piece of the
//   command, with size the largest 2^s <= KW dividing both the burst's address and its byte count (narrow beats
//   where the alignment needs them). Per burst, at the remaining range [a, a+rem):
//   - rem above what one burst of a's alignment s_a may take (4 KiB, MAX_BURST_BEATS << s_a): that much, size s_a;
//   - else the rest in one burst at the size of min(s_a, alignment of rem), if MAX_BURST_BEATS beats hold it;
//   - else a head of whole 2^s units, s = min(s_a, log2 of rem rounded down); the tail follows in later bursts.
module virtio_dma_split #(
    parameter int DATA_WIDTH = 64,
    parameter int MAX_BURST_BEATS = 16,
    parameter int USER_WIDTH = 1,
    parameter int EXACT = 0
) (
    input  wire                                clk,
    input  wire                                rst,           // synchronous, active high
    input  wire                                cmd_valid,
    output logic                               cmd_ready,
    input  wire  [63:0]                        cmd_addr,
    input  wire  [31:0]                        cmd_len,       // bytes, >= 1
    input  wire  [USER_WIDTH-1:0]              cmd_user,
    output logic                               burst_valid,
    input  wire                                burst_ready,
    output logic [63:0]                        burst_addr,    // EXACT 0: aligned down to the bus word
    output logic [7:0]                         burst_len,     // beats - 1 (AXI AxLEN)
    output logic [2:0]                         burst_size,    // log2 of the bytes per beat (AXI AxSIZE)
    output logic [$clog2(DATA_WIDTH/8)-1:0]    burst_lo,      // lane of the first byte in the first beat
    output logic [$clog2(DATA_WIDTH/8)-1:0]    burst_hi_m1,   // lane of the last byte in the last beat
    output logic                               burst_first,   // first burst of its command
    output logic                               burst_last,    // last burst of its command
    output logic [USER_WIDTH-1:0]              burst_user
);

    localparam int KW = DATA_WIDTH / 8;
    localparam int OFF_W = $clog2(KW);
    localparam int BEAT_W = 13;  // holds 4096 (bytes to a 4 KiB boundary) and MAX_BURST_BEATS << OFF_W
    localparam logic [BEAT_W-1:0] WORDS_PER_4K = BEAT_W'(4096 / KW);
    localparam logic [BEAT_W-1:0] MAX_BEATS = BEAT_W'(MAX_BURST_BEATS);
    localparam logic [2:0] SIZE_FULL_WORD = 3'(OFF_W);

    logic                  active;
    logic [63:0]           addr_q;     // next byte to cover
    logic [31:0]           rem_q;      // bytes left, >= 1 while active
    logic                  first_q;
    logic [USER_WIDTH-1:0] user_q;

    logic [63:0]           next_addr;  // addr_q after this burst
    logic [31:0]           covered;    // bytes of the command this burst covers when it is not the last
    logic                  take;

    // log2 of the largest power of two <= KW dividing `bits` (KW when bits are 0)
    function automatic logic [2:0] align_log2(input logic [OFF_W-1:0] bits);
        align_log2 = SIZE_FULL_WORD;
        for (int k = OFF_W - 1; k >= 0; k--) if (bits[k]) align_log2 = 3'(k);
    endfunction
    // log2 of `bits` rounded down (bits >= 1); KW when bits are 0, which stands for "KW or more"
    function automatic logic [2:0] floor_log2(input logic [OFF_W-1:0] bits);
        floor_log2 = SIZE_FULL_WORD;
        for (int k = 0; k < OFF_W; k++) if (bits[k]) floor_log2 = 3'(k);
    endfunction

    assign take = burst_valid && burst_ready;
    assign cmd_ready = !active;
    assign burst_valid = active;
    assign burst_first = first_q;
    assign burst_user = user_q;

    if (EXACT != 0) begin : g_exact
        logic [2:0]        size_addr, size_rem_align, size_all, size_rem_floor, size_head;
        logic [BEAT_W-1:0] to_4k, max_at_addr, cap, max_at_all, bytes, size_mask;
        logic              over_cap, fits;

        assign size_addr = align_log2(addr_q[OFF_W-1:0]);
        assign size_rem_align = align_log2(rem_q[OFF_W-1:0]);
        assign size_all = size_rem_align < size_addr ? size_rem_align : size_addr;
        assign size_rem_floor = rem_q >= 32'(KW) ? SIZE_FULL_WORD : floor_log2(rem_q[OFF_W-1:0]);
        assign size_head = size_rem_floor < size_addr ? size_rem_floor : size_addr;
        assign to_4k = BEAT_W'(4096) - BEAT_W'(addr_q[11:0]);
        assign max_at_addr = MAX_BEATS << size_addr;
        assign cap = to_4k < max_at_addr ? to_4k : max_at_addr;
        assign max_at_all = MAX_BEATS << size_all;
        assign over_cap = rem_q > 32'(cap);
        assign fits = rem_q <= 32'(max_at_all);  // with !over_cap: rem_q <= cap <= 4096

        assign burst_last = !over_cap && fits;
        assign burst_size = over_cap ? size_addr : fits ? size_all : size_head;
        assign size_mask = ~({BEAT_W{1'b1}} << burst_size);
        assign bytes = over_cap ? cap : rem_q[BEAT_W-1:0] & (fits ? '1 : ~size_mask);
        assign burst_len = 8'((bytes >> burst_size) - 1'b1);
        assign burst_addr = addr_q;
        assign burst_lo = addr_q[OFF_W-1:0];
        assign burst_hi_m1 = addr_q[OFF_W-1:0] + OFF_W'(bytes) - 1'b1;
        assign covered = 32'(bytes);
        assign next_addr = addr_q + 64'(bytes);
    end else begin : g_word
        logic [OFF_W-1:0]    off;
        logic [32:0]         span_bytes;  // from the word start to the end of the command
        logic [32:0]         last_byte;   // span_bytes - 1
        logic [33-OFF_W-1:0] span_words;
        logic [BEAT_W-1:0]   words_to_4k, limit, beats;

        assign off = addr_q[OFF_W-1:0];
        assign span_bytes = {1'b0, rem_q} + 33'(off);
        assign last_byte = span_bytes - 33'd1;
        assign span_words = last_byte[32:OFF_W] + 1'b1;
        assign words_to_4k = WORDS_PER_4K - BEAT_W'(addr_q[11:OFF_W]);
        assign limit = words_to_4k < MAX_BEATS ? words_to_4k : MAX_BEATS;
        assign burst_last = span_words <= (33-OFF_W)'(limit);
        assign beats = burst_last ? BEAT_W'(span_words) : limit;

        assign burst_size = SIZE_FULL_WORD;
        assign burst_len = 8'(beats - 1'b1);
        assign burst_addr = {addr_q[63:OFF_W], {OFF_W{1'b0}}};
        assign burst_lo = off;
        assign burst_hi_m1 = burst_last ? last_byte[OFF_W-1:0] : '1;
        assign covered = (32'(beats) << OFF_W) - 32'(off);
        assign next_addr = {addr_q[63:OFF_W] + (64-OFF_W)'(beats), {OFF_W{1'b0}}};
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            active <= 1'b0;
        end else if (cmd_valid && cmd_ready) begin
            active <= 1'b1;
            addr_q <= cmd_addr;
            rem_q <= cmd_len;
            first_q <= 1'b1;
            user_q <= cmd_user;
        end else if (take) begin
            active <= !burst_last;
            addr_q <= next_addr;
            rem_q <= rem_q - covered;
            first_q <= 1'b0;
        end
    end

endmodule
`default_nettype wire
