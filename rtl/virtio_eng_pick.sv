`default_nettype none
// Round-robin picker: the first set bit of `req` at or after `start` (wrapping), as an index. With start = 0 it is
// a plain lowest-set-bit encoder. Used by the engine for the queue scheduler, free tags, free chain slots and the
// forced notifications.
module virtio_eng_pick #(
    parameter int  N  = 4,
    localparam int IW = (N > 1) ? $clog2(N) : 1
) (
    input  wire  [N-1:0]  req,
    input  wire  [IW-1:0] start,
    output logic          found,
    output logic [IW-1:0] idx
);
    logic [N-1:0]   rotated;
    logic [N-1:0]   lowest;

    assign rotated = N'({req, req} >> start);
    assign lowest = rotated & (~rotated + N'(1));
    assign found = |req;

    // index of the one-hot `lowest`
    function automatic logic [IW:0] encode(input logic [N-1:0] onehot);
        encode = '0;
        for (int k = 0; k < N; k++) encode = encode | (onehot[k] ? (IW+1)'(k) : '0);
    endfunction

    logic [IW:0] sum;
    assign sum = encode(lowest) + (IW+1)'(start);
    assign idx = (sum >= (IW+1)'(N)) ? IW'(sum - (IW+1)'(N)) : IW'(sum);
endmodule

`default_nettype wire
