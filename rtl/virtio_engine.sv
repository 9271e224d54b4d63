`default_nettype none
// The split-virtqueue datapath engine (SPEC chapter 4, rules 8.1-8.3, 8.7, 8.9, 8.11): the control unit (scheduler,
// avail fetch, chain walker), the request unit (backend requests, gather), the completion unit (completions,
// scatter), the used writer (used ring, notifications), and here the state they share: chain slots, the buffer
// pool, the tag table, the DMA port arbiters, be_flush, and the handshake outputs to virtio_core. docs/rtl-engine.md
// is the users' reference.
module virtio_engine #(
    parameter int NUM_QUEUES     = virtio_pkg::DEFAULT_NUM_QUEUES,
    parameter int QUEUE_SIZE_MAX = virtio_pkg::DEFAULT_QUEUE_SIZE_MAX,
    parameter int AXI_DATA_WIDTH = virtio_pkg::DEFAULT_AXI_DATA_WIDTH,
    parameter int FETCH_AHEAD    = virtio_pkg::DEFAULT_FETCH_AHEAD,
    // The used writer publishes one element per used.idx write, which every USED_BATCH >= 1 allows (rule 8.3).
    /* verilator lint_off UNUSEDPARAM */
    parameter int USED_BATCH     = virtio_pkg::DEFAULT_USED_BATCH,
    /* verilator lint_on UNUSEDPARAM */
    parameter int MAX_CHAIN_LEN  = QUEUE_SIZE_MAX,
    parameter int TAG_WIDTH      = virtio_pkg::DEFAULT_TAG_WIDTH,
    parameter int BUF_DEPTH      = 1 << $clog2(MAX_CHAIN_LEN),
    localparam int NQ            = NUM_QUEUES,
    localparam int DW            = AXI_DATA_WIDTH,
    localparam int KW            = AXI_DATA_WIDTH / 8
) (
    input  wire                  clk,
    input  wire                  rst,

    // virtio_core: state and the drain / halt handshake (docs/rtl-core.md)
    input  wire  [2:0]           state,
    input  wire                  stop_req,
    input  wire                  draining,
    output logic                 stopped,
    input  wire                  halt,
    output logic                 eng_idle,
    output logic                 eng_error,

    // virtio_core: per-queue configuration, kicks, scans, queue reset, live counters, notifications
    input  wire  [NQ-1:0]        q_enable,
    input  wire  [NQ*16-1:0]     q_size,
    input  wire  [NQ*64-1:0]     q_desc,
    input  wire  [NQ*64-1:0]     q_driver,
    input  wire  [NQ*64-1:0]     q_device,
    input  wire                  feat_event_idx,
    input  wire                  feat_indirect_desc,
    input  wire  [NQ-1:0]        kick_pending,
    output logic [NQ-1:0]        kick_clear,
    input  wire  [NQ-1:0]        scan,
    input  wire  [NQ-1:0]        qreset_req,
    output logic [NQ-1:0]        qreset_done,
    input  wire  [NQ*16-1:0]     last_avail_idx,
    input  wire  [NQ*16-1:0]     shadow_used_idx,
    output logic [NQ-1:0]        avail_take,
    output logic [NQ-1:0]        used_publish,
    output logic [NQ*16-1:0]     used_publish_idx,
    output logic                 used_notify_valid,
    input  wire                  used_notify_ready,
    output logic [15:0]          used_notify_queue,

    // backend (rule 8.11)
    output logic                 be_req_valid,
    input  wire                  be_req_ready,
    output logic [15:0]          be_req_queue,
    output logic [15:0]          be_req_head,
    output logic [TAG_WIDTH-1:0] be_req_tag,
    output logic [32:0]          be_req_rd_len,
    output logic [32:0]          be_req_wr_len,
    output logic [DW-1:0]        be_rd_tdata,
    output logic [KW-1:0]        be_rd_tkeep,
    output logic                 be_rd_tvalid,
    input  wire                  be_rd_tready,
    output logic                 be_rd_tlast,
    input  wire                  be_cpl_valid,
    output logic                 be_cpl_ready,
    input  wire  [TAG_WIDTH-1:0] be_cpl_tag,
    input  wire  [32:0]          be_cpl_len,
    input  wire                  be_cpl_err,
    input  wire  [DW-1:0]        be_wr_tdata,
    input  wire  [KW-1:0]        be_wr_tkeep,
    input  wire                  be_wr_tvalid,
    output logic                 be_wr_tready,
    input  wire                  be_wr_tlast,
    output logic                 be_quiesce,
    output logic                 be_flush,
    output logic                 diag_cpl_len_err,
    output logic                 diag_cpl_bad_tag,

    // virtio_dma: control reads (port 0), gather reads (port 1), writes (immediate and stream)
    output logic                 rd0_cmd_valid,
    input  wire                  rd0_cmd_ready,
    output logic [63:0]          rd0_cmd_addr,
    output logic [31:0]          rd0_cmd_len,
    output logic                 rd0_cmd_last,
    input  wire  [DW-1:0]        rd0_tdata,
    // control reads have known lengths, so their tkeep carries nothing new
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire  [KW-1:0]        rd0_tkeep,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                  rd0_tlast,
    input  wire                  rd0_tvalid,
    output logic                 rd0_tready,
    input  wire                  rd0_terr,
    input  wire                  rd0_bus_end,    // the bus took the last R beat of a port-0 command (in order)
    output logic                 rd1_cmd_valid,
    input  wire                  rd1_cmd_ready,
    output logic [63:0]          rd1_cmd_addr,
    output logic [31:0]          rd1_cmd_len,
    output logic                 rd1_cmd_last,
    input  wire  [DW-1:0]        rd1_tdata,
    input  wire  [KW-1:0]        rd1_tkeep,
    input  wire                  rd1_tlast,
    input  wire                  rd1_tvalid,
    output logic                 rd1_tready,
    input  wire                  rd1_terr,
    output logic                 wr_cmd_valid,
    input  wire                  wr_cmd_ready,
    output logic [63:0]          wr_cmd_addr,
    output logic [31:0]          wr_cmd_len,
    output logic                 wr_cmd_imm,
    output logic [63:0]          wr_cmd_data,
    output logic [DW-1:0]        wr_tdata,
    output logic [KW-1:0]        wr_tkeep,
    output logic                 wr_tvalid,
    input  wire                  wr_tready,
    input  wire                  wr_done_valid,
    input  wire                  wr_done_err,
    output logic                 dma_freeze,     // no guest-memory access outside RUNNING and SUSPENDING
    input  wire                  dma_idle
);

    localparam int SLOTS = NQ * FETCH_AHEAD;                 // chains in flight at most (rule 8.1)
    localparam int QIW   = (NQ > 1) ? $clog2(NQ) : 1;
    localparam int SW    = (SLOTS > 1) ? $clog2(SLOTS) : 1;
    localparam int EW    = (BUF_DEPTH > 1) ? $clog2(BUF_DEPTH) : 1;
    localparam int CW    = $clog2(MAX_CHAIN_LEN + 2);
    localparam int NT    = 1 << TAG_WIDTH;
    localparam int QSW   = $clog2(SLOTS + 1);
    localparam int WOUT  = 8;                                 // write commands outstanding at most
    localparam int WOW   = $clog2(WOUT + 1);
    localparam int WOI   = $clog2(WOUT);
    localparam int SEQW  = 16;

    logic running;
    logic dma_ok;
    assign running = state == 3'(virtio_pkg::ST_RUNNING);
    assign dma_ok = running || state == 3'(virtio_pkg::ST_SUSPENDING);

    // ------------------------------------------------------------------ unit interconnect
    logic             ctl_error;
    logic             req_error;
    logic             cpl_error;
    logic             used_error;
    logic             scatter_error;
    logic             scatter_failed;
    logic             scatter_error_sent;
    logic             ctl_busy;
    logic [QIW-1:0]   ctl_queue;
    logic             req_busy;
    logic [QIW-1:0]   req_queue;
    logic             cpl_len_err;
    logic             cpl_busy;
    logic             cpl_bad_tag;
    logic             used_busy;
    logic [QIW-1:0]   used_queue;
    logic             used_marks;
    logic [NQ-1:0]    chain_retire;

    // ctl
    logic             ctl_rd_valid;
    logic             ctl_rd_ready;
    logic [63:0]      ctl_rd_addr;
    logic [31:0]      ctl_rd_len;
    logic             ctl_rd_beat;
    logic             ctl_wr_valid;
    logic             ctl_wr_ready;
    logic [63:0]      ctl_wr_addr;
    logic [63:0]      ctl_wr_data;
    logic             ctl_wr_done;
    logic             slot_free_found;
    logic [SW-1:0]    slot_free_id;
    logic             slot_alloc;
    logic [QIW-1:0]   alloc_queue;
    logic [15:0]      alloc_head;
    logic [SW-1:0]    walk_slot;
    logic             walk_done;
    logic             walk_abort;
    logic [EW-1:0]    walk_first;
    logic [EW-1:0]    walk_last;
    logic [EW-1:0]    walk_wr_first;
    logic [CW-1:0]    walk_nrd;
    logic [CW-1:0]    walk_nwr;
    logic [32:0]      walk_rd_len;
    logic [32:0]      walk_wr_len;
    logic             pool_push;
    logic             pool_ok;
    logic [EW-1:0]    pool_entry;
    logic [63:0]      pool_push_addr;
    logic [31:0]      pool_push_len;
    logic             pool_link;

    // req
    logic             wq_valid;
    logic [SW-1:0]    wq_head;
    logic             wq_pop;
    logic [SW-1:0]    req_slot;
    logic             req_drop;
    logic             req_gather_done;
    logic             tag_free_found;
    logic [TAG_WIDTH-1:0] tag_free_id;
    logic             tag_issue;
    logic [EW-1:0]    req_entry;
    logic             req_dma_busy;

    // cpl
    logic             tag_answer;
    logic [TAG_WIDTH-1:0] cpl_held_tag;
    logic [SW-1:0]    cpl_slot;
    logic [EW-1:0]    cpl_entry;
    logic             sc_valid;
    logic             sc_ready;
    logic [63:0]      sc_addr;
    logic [31:0]      sc_len;
    logic             uq_push;
    logic [SW-1:0]    uq_push_slot;
    logic [31:0]      uq_push_written;
    logic             uq_push_drop;

    // used
    logic             uq_valid;
    logic             uq_pop;
    logic [SW-1:0]    used_slot;
    logic             used_release;
    logic             used_wr_valid;
    logic             used_wr_ready;
    logic [63:0]      used_wr_addr;
    logic [3:0]       used_wr_len;
    logic [63:0]      used_wr_data;
    logic             used_wr_done;
    logic             used_rd_valid;
    logic             used_rd_ready;
    logic [63:0]      used_rd_addr;
    logic             used_rd_beat;
    logic [SEQW-1:0]  scat_issued;
    logic [SEQW-1:0]  scat_done;

    // ------------------------------------------------------------------ chain slots
    logic [SLOTS-1:0] s_alloc;      // in use
    logic [SLOTS-1:0] s_life;       // the chain is not yet published or abandoned
    logic [SLOTS-1:0] s_gather;     // the request unit still has to see it
    logic [SLOTS-1:0] s_dead;       // abandoned (HALTED or its queue's reset)
    logic [QIW-1:0]   s_queue [SLOTS];
    logic [15:0]      s_head [SLOTS];
    logic [EW-1:0]    s_first [SLOTS];
    logic [EW-1:0]    s_last [SLOTS];
    logic [EW-1:0]    s_wr_first [SLOTS];
    logic [CW-1:0]    s_nrd [SLOTS];
    logic [CW-1:0]    s_nwr [SLOTS];
    logic [32:0]      s_rd_len [SLOTS];
    logic [32:0]      s_wr_len [SLOTS];

    virtio_eng_pick #(.N(SLOTS)) slot_pick (.req(~s_alloc), .start(SW'(0)), .found(slot_free_found),
                                            .idx(slot_free_id));

    // a released slot returns its buffers to the pool, one slot per cycle, when the walker is not appending
    logic [SLOTS-1:0] s_releasable;
    logic             rel_found;
    logic [SW-1:0]    rel_slot;
    logic             rel_fire;
    logic [CW-1:0]    rel_count;
    assign s_releasable = s_alloc & ~s_life & ~s_gather;
    virtio_eng_pick #(.N(SLOTS)) release_pick (.req(s_releasable), .start(SW'(0)), .found(rel_found),
                                               .idx(rel_slot));
    assign rel_fire = rel_found && !(pool_push && pool_ok);
    assign rel_count = s_nrd[rel_slot] + s_nwr[rel_slot];

    // ------------------------------------------------------------------ buffer pool: linked lists of {addr, len}
    logic [63:0]      p_addr [BUF_DEPTH];
    logic [31:0]      p_len [BUF_DEPTH];
    logic [EW-1:0]    p_next [BUF_DEPTH];
    logic [EW:0]      fresh;        // entries never used so far: fresh .. BUF_DEPTH-1
    logic [EW-1:0]    free_head;    // list of returned entries
    logic [EW:0]      free_count;
    assign pool_ok = free_count != '0 || fresh != (EW+1)'(BUF_DEPTH);
    assign pool_entry = (free_count != '0) ? free_head : EW'(fresh);

    // ------------------------------------------------------------------ walked chains, completed chains
    logic [SW-1:0]    wq_mem [SLOTS];
    logic [SW-1:0]    wq_rd;
    logic [SW-1:0]    wq_wr;
    logic [QSW-1:0]   wq_count;
    assign wq_valid = wq_count != '0;
    assign wq_head = wq_mem[wq_rd];

    logic [SW-1:0]    uq_slot_mem [SLOTS];
    logic [31:0]      uq_written_mem [SLOTS];
    logic             uq_drop_mem [SLOTS];
    logic [SEQW-1:0]  uq_seq_mem [SLOTS];
    logic [SW-1:0]    uq_rd;
    logic [SW-1:0]    uq_wr;
    logic [QSW-1:0]   uq_count;
    assign uq_valid = uq_count != '0;

    // ------------------------------------------------------------------ tags (rule 8.11)
    logic [NT-1:0]    t_live;
    logic [NT-1:0]    t_void;
    logic [SW-1:0]    t_slot [NT];
    // a tag is free once its answer is accepted and its data packet is through (the answer is complete then)
    logic [NT-1:0]    t_held;
    assign t_held = cpl_busy ? NT'(1) << cpl_held_tag : '0;
    virtio_eng_pick #(.N(NT)) tag_pick (.req(~(t_live | t_void | t_held)), .start(TAG_WIDTH'(0)),
                                        .found(tag_free_found), .idx(tag_free_id));

    // ------------------------------------------------------------------ queue resets and be_flush
    logic [NQ-1:0]    qreset_seen;
    logic [NQ-1:0]    q_has_chain;
    logic [NQ:0]      flush_owed;
    logic [NQ:0]      flush_new;
    logic [NQ-1:0]    qreset_rise;
    assign qreset_rise = qreset_req & ~qreset_seen;

    function automatic logic [NQ:0] count_ones(input logic [NQ-1:0] bits);
        count_ones = '0;
        for (int q = 0; q < NQ; q++) count_ones = count_ones + (NQ+1)'(bits[q]);
    endfunction
    assign flush_new = (NQ+1)'(halt) + count_ones(qreset_rise);

    for (genvar q = 0; q < NQ; q++) begin : g_queue
        logic [SLOTS-1:0] mine;
        for (genvar s = 0; s < SLOTS; s++) begin : g_slot
            assign mine[s] = s_alloc[s] && (s_life[s] || s_gather[s]) && s_queue[s] == QIW'(q);
        end
        assign q_has_chain[q] = |mine;
        assign qreset_done[q] = qreset_req[q] && qreset_seen[q] && !q_has_chain[q] && !be_flush
                                && !(ctl_busy && ctl_queue == QIW'(q)) && !(used_busy && used_queue == QIW'(q))
                                && !(req_dma_busy && req_queue == QIW'(q));
    end

    // one cycle of be_flush per event, the first in the cycle of the event itself (rule 8.11)
    assign be_flush = flush_owed != '0 || flush_new != '0;

    always_ff @(posedge clk) begin
        qreset_seen <= qreset_req;
        flush_owed <= flush_owed + flush_new - (be_flush ? (NQ+1)'(1) : '0);
        if (rst) begin
            qreset_seen <= '0;
            flush_owed <= '0;
        end
    end

    // ------------------------------------------------------------------ slot, pool, queue and tag state
    always_ff @(posedge clk) begin
        // the walker takes a slot
        if (slot_alloc) begin
            s_alloc[slot_free_id] <= 1'b1;
            s_life[slot_free_id] <= 1'b1;
            s_gather[slot_free_id] <= 1'b0;
            s_dead[slot_free_id] <= 1'b0;
            s_queue[slot_free_id] <= alloc_queue;
            s_head[slot_free_id] <= alloc_head;
            s_nrd[slot_free_id] <= '0;
            s_nwr[slot_free_id] <= '0;
        end
        if (walk_done || walk_abort) begin
            s_first[walk_slot] <= walk_first;
            s_last[walk_slot] <= walk_last;
            s_wr_first[walk_slot] <= walk_wr_first;
            s_nrd[walk_slot] <= walk_nrd;
            s_nwr[walk_slot] <= walk_nwr;
            s_rd_len[walk_slot] <= walk_rd_len;
            s_wr_len[walk_slot] <= walk_wr_len;
        end
        if (walk_done) begin
            s_gather[walk_slot] <= 1'b1;
            wq_mem[wq_wr] <= walk_slot;
            wq_wr <= (wq_wr == SW'(SLOTS - 1)) ? '0 : wq_wr + SW'(1);
        end
        if (walk_abort) s_life[walk_slot] <= 1'b0;
        if (wq_pop) wq_rd <= (wq_rd == SW'(SLOTS - 1)) ? '0 : wq_rd + SW'(1);
        wq_count <= wq_count + (walk_done ? QSW'(1) : '0) - (wq_pop ? QSW'(1) : '0);
        if (req_drop) s_life[req_slot] <= 1'b0;
        if (req_gather_done) s_gather[req_slot] <= 1'b0;
        if (used_release) s_life[used_slot] <= 1'b0;

        // abandoned chains (SPEC 4.8, rule 8.9)
        for (int s = 0; s < SLOTS; s++) begin
            if (s_alloc[s] && (halt || qreset_req[s_queue[s]])) s_dead[s] <= 1'b1;
        end

        // the pool
        if (pool_push && pool_ok) begin
            p_addr[pool_entry] <= pool_push_addr;
            p_len[pool_entry] <= pool_push_len;
            if (pool_link) p_next[walk_last] <= pool_entry;
            if (free_count != '0) begin
                free_head <= p_next[free_head];
                free_count <= free_count - (EW+1)'(1);
            end else fresh <= fresh + (EW+1)'(1);
        end else if (rel_fire) begin
            s_alloc[rel_slot] <= 1'b0;
            if (rel_count != '0) begin
                p_next[s_last[rel_slot]] <= free_head;
                free_head <= s_first[rel_slot];
                free_count <= free_count + (EW+1)'(rel_count);
            end
        end

        // completed chains
        if (uq_push) begin
            uq_slot_mem[uq_wr] <= uq_push_slot;
            uq_written_mem[uq_wr] <= uq_push_written;
            uq_drop_mem[uq_wr] <= uq_push_drop;
            uq_seq_mem[uq_wr] <= scat_issued;  // every scatter write of the chain is issued by now
            uq_wr <= (uq_wr == SW'(SLOTS - 1)) ? '0 : uq_wr + SW'(1);
        end
        if (uq_pop) uq_rd <= (uq_rd == SW'(SLOTS - 1)) ? '0 : uq_rd + SW'(1);
        uq_count <= uq_count + (uq_push ? QSW'(1) : '0) - (uq_pop ? QSW'(1) : '0);

        // tags: a request makes its tag live (void when its chain was abandoned meanwhile); an abandoned chain's
        // tag becomes void; an answer frees the tag
        for (int t = 0; t < NT; t++) begin
            if (t_live[t] && s_dead[t_slot[t]] && !(tag_answer && be_cpl_tag == TAG_WIDTH'(t))) begin
                t_live[t] <= 1'b0;
                t_void[t] <= 1'b1;
                s_life[t_slot[t]] <= 1'b0;
            end
        end
        if (tag_issue) begin
            t_slot[be_req_tag] <= req_slot;
            if (s_dead[req_slot]) begin
                t_void[be_req_tag] <= 1'b1;
                s_life[req_slot] <= 1'b0;
            end else t_live[be_req_tag] <= 1'b1;
        end
        if (tag_answer) begin
            t_live[be_cpl_tag] <= 1'b0;
            t_void[be_cpl_tag] <= 1'b0;
        end

        if (rst) begin
            s_alloc <= '0;
            s_life <= '0;
            s_gather <= '0;
            s_dead <= '0;
            fresh <= '0;
            free_count <= '0;
            free_head <= '0;
            wq_rd <= '0;
            wq_wr <= '0;
            wq_count <= '0;
            uq_rd <= '0;
            uq_wr <= '0;
            uq_count <= '0;
            t_live <= '0;
            t_void <= '0;
        end
    end

    // ------------------------------------------------------------------ DMA read port 0: control and decision reads
    logic       rd0_lock_valid;
    logic       rd0_lock_used;
    logic       rd0_grant_used;
    logic [1:0] rd0_owner;      // owners of the reads in flight, oldest in bit 0 (1 = used writer)
    logic [1:0] rd0_count;
    logic [1:0] rd0_landed;     // the oldest reads in flight whose data the bus has already delivered
    logic       used_rd_landed;
    assign rd0_grant_used = rd0_lock_valid ? rd0_lock_used : used_rd_valid;
    assign rd0_cmd_valid = rd0_count != 2'd2 && (rd0_grant_used ? used_rd_valid : ctl_rd_valid);
    assign rd0_cmd_addr = rd0_grant_used ? used_rd_addr : ctl_rd_addr;
    assign rd0_cmd_len = rd0_grant_used ? 32'd2 : ctl_rd_len;
    assign rd0_cmd_last = 1'b1;
    assign ctl_rd_ready = !rd0_grant_used && rd0_count != 2'd2 && rd0_cmd_ready;
    assign used_rd_ready = rd0_grant_used && rd0_count != 2'd2 && rd0_cmd_ready;
    assign rd0_tready = 1'b1;
    assign used_rd_beat = rd0_tvalid && rd0_owner[0];
    assign ctl_rd_beat = rd0_tvalid && !rd0_owner[0];
    assign used_rd_landed = rd0_bus_end && rd0_owner[rd0_landed[0]];

    logic rd0_push;
    logic rd0_pop;
    assign rd0_push = rd0_cmd_valid && rd0_cmd_ready;
    assign rd0_pop = rd0_tvalid && rd0_tlast;

    always_ff @(posedge clk) begin
        rd0_lock_valid <= rd0_cmd_valid && !rd0_cmd_ready;
        rd0_lock_used <= rd0_grant_used;
        if (rd0_pop) rd0_owner <= {1'b0, rd0_owner[1]};
        if (rd0_push) rd0_owner[rd0_pop ? rd0_count[0] - 1'b1 : rd0_count[0]] <= rd0_grant_used;
        rd0_count <= rd0_count + (rd0_push ? 2'd1 : 2'd0) - (rd0_pop ? 2'd1 : 2'd0);
        // a read frozen before its last burst reached the bus never lands (its packet carries terr)
        rd0_landed <= rd0_landed + (rd0_bus_end ? 2'd1 : 2'd0) - (rd0_pop && rd0_landed != 2'd0 ? 2'd1 : 2'd0);
        if (rst) begin
            rd0_lock_valid <= 1'b0;
            rd0_owner <= '0;
            rd0_count <= '0;
            rd0_landed <= '0;
        end
    end

    // ------------------------------------------------------------- DMA write port: used writer, avail_event, scatter
    localparam logic [1:0] OWN_USED = 2'd0;
    localparam logic [1:0] OWN_CTL = 2'd1;
    localparam logic [1:0] OWN_SCATTER = 2'd2;
    logic [1:0]     wr_grant;
    logic           wr_lock_valid;
    logic [1:0]     wr_lock;
    logic [2*WOUT-1:0] wr_owner;  // owners of the commands in flight, oldest in bits [1:0]
    logic [WOW-1:0] wr_count;
    logic           wr_room;
    logic [1:0]     done_owner;
    assign wr_room = wr_count != WOW'(WOUT) && !scatter_failed;
    assign wr_grant = wr_lock_valid ? wr_lock : used_wr_valid ? OWN_USED : ctl_wr_valid ? OWN_CTL : OWN_SCATTER;
    assign wr_cmd_valid = wr_room && (wr_grant == OWN_USED ? used_wr_valid
                                      : wr_grant == OWN_CTL ? ctl_wr_valid : sc_valid);
    assign wr_cmd_addr = wr_grant == OWN_USED ? used_wr_addr : wr_grant == OWN_CTL ? ctl_wr_addr : sc_addr;
    assign wr_cmd_len = wr_grant == OWN_USED ? {28'd0, used_wr_len} : wr_grant == OWN_CTL ? 32'd2 : sc_len;
    assign wr_cmd_imm = wr_grant != OWN_SCATTER;
    assign wr_cmd_data = wr_grant == OWN_USED ? used_wr_data : ctl_wr_data;
    assign used_wr_ready = wr_room && wr_grant == OWN_USED && wr_cmd_ready;
    assign ctl_wr_ready = wr_room && wr_grant == OWN_CTL && wr_cmd_ready;
    assign sc_ready = wr_room && wr_grant == OWN_SCATTER && wr_cmd_ready;
    assign done_owner = wr_owner[1:0];
    assign used_wr_done = wr_done_valid && done_owner == OWN_USED;
    assign ctl_wr_done = wr_done_valid && done_owner == OWN_CTL;

    logic           wr_push;
    logic [WOI-1:0] wr_slot_in;   // where a new owner goes
    assign wr_push = wr_cmd_valid && wr_cmd_ready;
    assign wr_slot_in = WOI'(wr_count - (wr_done_valid ? WOW'(1) : '0));

    always_ff @(posedge clk) begin
        wr_lock_valid <= wr_cmd_valid && !wr_cmd_ready;
        wr_lock <= wr_grant;
        if (wr_push) wr_owner <= (wr_done_valid ? wr_owner >> 2 : wr_owner) | ((2*WOUT)'(wr_grant) << (2 * wr_slot_in));
        else if (wr_done_valid) wr_owner <= wr_owner >> 2;
        wr_count <= wr_count + (wr_push ? WOW'(1) : '0) - (wr_done_valid ? WOW'(1) : '0);
        if (wr_push && wr_grant == OWN_SCATTER) scat_issued <= scat_issued + SEQW'(1);
        // A failed scatter write freezes the writes; the error is raised once the completion's data packet has
        // ended, so HALTED (and its be_flush) never comes in the middle of that packet.
        if (wr_done_valid && done_owner == OWN_SCATTER && wr_done_err && dma_ok) scatter_failed <= 1'b1;
        scatter_error <= scatter_failed && !cpl_busy && !scatter_error_sent;
        if (scatter_failed && !cpl_busy) scatter_error_sent <= 1'b1;
        if (!dma_ok) begin
            scatter_failed <= 1'b0;
            scatter_error_sent <= 1'b0;
        end
        if (wr_done_valid && done_owner == OWN_SCATTER) scat_done <= scat_done + SEQW'(1);
        if (rst) begin
            wr_lock_valid <= 1'b0;
            wr_owner <= '0;
            wr_count <= '0;
            scat_issued <= '0;
            scat_done <= '0;
            scatter_error <= 1'b0;
            scatter_failed <= 1'b0;
            scatter_error_sent <= 1'b0;
        end
    end

    // ------------------------------------------------------------------ handshakes with the core
    logic quiet;
    assign quiet = !ctl_busy && !req_busy && !cpl_busy && s_alloc == '0 && !wq_valid && !uq_valid && dma_idle
                   && !rd0_cmd_valid && !rd1_cmd_valid && !wr_cmd_valid;
    assign stopped = stop_req && quiet && !used_busy && !used_marks && !used_notify_valid;
    assign eng_idle = dma_idle && !rd0_cmd_valid && !rd1_cmd_valid && !wr_cmd_valid && !used_notify_valid;
    assign eng_error = ctl_error || req_error || cpl_error || used_error || scatter_error;
    assign be_quiesce = draining;
    assign dma_freeze = !dma_ok;

    always_ff @(posedge clk) begin
        if (cpl_len_err) diag_cpl_len_err <= 1'b1;
        if (cpl_bad_tag) diag_cpl_bad_tag <= 1'b1;
        if (rst) begin
            diag_cpl_len_err <= 1'b0;
            diag_cpl_bad_tag <= 1'b0;
        end
    end

    // ------------------------------------------------------------------ units
    virtio_eng_ctl #(
        .NUM_QUEUES(NUM_QUEUES),
        .FETCH_AHEAD(FETCH_AHEAD),
        .MAX_CHAIN_LEN(MAX_CHAIN_LEN),
        .QUEUE_SIZE_MAX(QUEUE_SIZE_MAX),
        .AXI_DATA_WIDTH(AXI_DATA_WIDTH),
        .SLOTS(SLOTS),
        .BUF_DEPTH(BUF_DEPTH)
    ) ctl (
        .clk(clk),
        .rst(rst),
        .running(running),
        .dma_ok(dma_ok),
        .halt(halt),
        .q_enable(q_enable),
        .q_size(q_size),
        .q_desc(q_desc),
        .q_driver(q_driver),
        .q_device(q_device),
        .feat_event_idx(feat_event_idx),
        .feat_indirect_desc(feat_indirect_desc),
        .kick_pending(kick_pending),
        .kick_clear(kick_clear),
        .scan(scan),
        .qreset_req(qreset_req),
        .last_avail_idx(last_avail_idx),
        .avail_take(avail_take),
        .chain_retire(chain_retire),
        .error(ctl_error),
        .busy(ctl_busy),
        .busy_queue(ctl_queue),
        .rd_valid(ctl_rd_valid),
        .rd_ready(ctl_rd_ready),
        .rd_addr(ctl_rd_addr),
        .rd_len(ctl_rd_len),
        .rd_beat(ctl_rd_beat),
        .rd_data(rd0_tdata),
        .rd_last(rd0_tlast),
        .rd_err(rd0_terr),
        .wr_valid(ctl_wr_valid),
        .wr_ready(ctl_wr_ready),
        .wr_addr(ctl_wr_addr),
        .wr_data(ctl_wr_data),
        .wr_done(ctl_wr_done),
        .wr_err(wr_done_err),
        .slot_free_found(slot_free_found),
        .slot_free_id(slot_free_id),
        .slot_alloc(slot_alloc),
        .slot_queue(alloc_queue),
        .slot_head(alloc_head),
        .walk_slot(walk_slot),
        .walk_slot_dead(s_dead[walk_slot]),
        .walk_done(walk_done),
        .walk_abort(walk_abort),
        .walk_first(walk_first),
        .walk_last(walk_last),
        .walk_wr_first(walk_wr_first),
        .walk_nrd(walk_nrd),
        .walk_nwr(walk_nwr),
        .walk_rd_len(walk_rd_len),
        .walk_wr_len(walk_wr_len),
        .pool_push(pool_push),
        .pool_ok(pool_ok),
        .pool_entry(pool_entry),
        .pool_addr(pool_push_addr),
        .pool_len(pool_push_len),
        .pool_link(pool_link)
    );

    virtio_eng_req #(
        .NUM_QUEUES(NUM_QUEUES),
        .AXI_DATA_WIDTH(AXI_DATA_WIDTH),
        .TAG_WIDTH(TAG_WIDTH),
        .SLOTS(SLOTS),
        .BUF_DEPTH(BUF_DEPTH),
        .MAX_CHAIN_LEN(MAX_CHAIN_LEN)
    ) req (
        .clk(clk),
        .rst(rst),
        .dma_ok(dma_ok),
        .error(req_error),
        .wq_valid(wq_valid),
        .wq_slot(wq_head),
        .wq_pop(wq_pop),
        .cur_slot(req_slot),
        .s_queue(s_queue[req_slot]),
        .s_head(s_head[req_slot]),
        .s_rd_len(s_rd_len[req_slot]),
        .s_wr_len(s_wr_len[req_slot]),
        .s_nrd(s_nrd[req_slot]),
        .s_first(s_first[req_slot]),
        .s_dead(s_dead[req_slot]),
        .drop(req_drop),
        .gather_done(req_gather_done),
        .busy(req_busy),
        .busy_queue(req_queue),
        .dma_busy(req_dma_busy),
        .tag_free_found(tag_free_found),
        .tag_free_id(tag_free_id),
        .tag_issue(tag_issue),
        .be_req_valid(be_req_valid),
        .be_req_ready(be_req_ready),
        .be_req_queue(be_req_queue),
        .be_req_head(be_req_head),
        .be_req_tag(be_req_tag),
        .be_req_rd_len(be_req_rd_len),
        .be_req_wr_len(be_req_wr_len),
        .be_rd_tdata(be_rd_tdata),
        .be_rd_tkeep(be_rd_tkeep),
        .be_rd_tvalid(be_rd_tvalid),
        .be_rd_tready(be_rd_tready),
        .be_rd_tlast(be_rd_tlast),
        .pool_entry(req_entry),
        .pool_addr(p_addr[req_entry]),
        .pool_len(p_len[req_entry]),
        .pool_next(p_next[req_entry]),
        .rd1_cmd_valid(rd1_cmd_valid),
        .rd1_cmd_ready(rd1_cmd_ready),
        .rd1_cmd_addr(rd1_cmd_addr),
        .rd1_cmd_len(rd1_cmd_len),
        .rd1_cmd_last(rd1_cmd_last),
        .rd1_tdata(rd1_tdata),
        .rd1_tkeep(rd1_tkeep),
        .rd1_tlast(rd1_tlast),
        .rd1_tvalid(rd1_tvalid),
        .rd1_tready(rd1_tready),
        .rd1_terr(rd1_terr)
    );

    virtio_eng_cpl #(
        .AXI_DATA_WIDTH(AXI_DATA_WIDTH),
        .TAG_WIDTH(TAG_WIDTH),
        .SLOTS(SLOTS),
        .BUF_DEPTH(BUF_DEPTH)
    ) cpl (
        .clk(clk),
        .rst(rst),
        .dma_ok(dma_ok),
        .freeze(scatter_failed),
        .error(cpl_error),
        .len_err(cpl_len_err),
        .bad_tag(cpl_bad_tag),
        .busy(cpl_busy),
        .be_cpl_valid(be_cpl_valid),
        .be_cpl_ready(be_cpl_ready),
        .be_cpl_tag(be_cpl_tag),
        .be_cpl_len(be_cpl_len),
        .be_cpl_err(be_cpl_err),
        .be_wr_tdata(be_wr_tdata),
        .be_wr_tkeep(be_wr_tkeep),
        .be_wr_tvalid(be_wr_tvalid),
        .be_wr_tready(be_wr_tready),
        .be_wr_tlast(be_wr_tlast),
        .t_live(t_live[be_cpl_tag]),
        .t_void(t_void[be_cpl_tag]),
        .t_slot(t_slot[be_cpl_tag]),
        .tag_answer(tag_answer),
        .held_tag(cpl_held_tag),
        .cur_slot(cpl_slot),
        .s_wr_len(s_wr_len[cpl_slot]),
        .s_wr_first(s_wr_first[cpl_slot]),
        .s_dead(s_dead[cpl_slot]),
        .pool_entry(cpl_entry),
        .pool_addr(p_addr[cpl_entry]),
        .pool_len(p_len[cpl_entry]),
        .pool_next(p_next[cpl_entry]),
        .sc_valid(sc_valid),
        .sc_ready(sc_ready),
        .sc_addr(sc_addr),
        .sc_len(sc_len),
        .wr_tdata(wr_tdata),
        .wr_tkeep(wr_tkeep),
        .wr_tvalid(wr_tvalid),
        .wr_tready(wr_tready),
        .uq_push(uq_push),
        .uq_slot(uq_push_slot),
        .uq_written(uq_push_written),
        .uq_drop(uq_push_drop)
    );

    virtio_eng_used #(
        .NUM_QUEUES(NUM_QUEUES),
        .SLOTS(SLOTS),
        .SEQ_WIDTH(SEQW)
    ) used (
        .clk(clk),
        .rst(rst),
        .running(running),
        .dma_ok(dma_ok),
        .stop_req(stop_req),
        .drained(quiet),
        .error(used_error),
        .feat_event_idx(feat_event_idx),
        .scan(scan),
        .qreset_req(qreset_req),
        .q_size(q_size),
        .q_driver(q_driver),
        .q_device(q_device),
        .shadow_used_idx(shadow_used_idx),
        .uq_valid(uq_valid),
        .uq_slot(uq_slot_mem[uq_rd]),
        .uq_written(uq_written_mem[uq_rd]),
        .uq_drop(uq_drop_mem[uq_rd]),
        .uq_seq(uq_seq_mem[uq_rd]),
        .uq_pop(uq_pop),
        .scat_done(scat_done),
        .cur_slot(used_slot),
        .s_queue(s_queue[used_slot]),
        .s_head(s_head[used_slot]),
        .s_dead(s_dead[used_slot]),
        .release_slot(used_release),
        .busy(used_busy),
        .busy_queue(used_queue),
        .marks(used_marks),
        .wr_valid(used_wr_valid),
        .wr_ready(used_wr_ready),
        .wr_addr(used_wr_addr),
        .wr_len(used_wr_len),
        .wr_data(used_wr_data),
        .wr_done(used_wr_done),
        .wr_err(wr_done_err),
        .rd_valid(used_rd_valid),
        .rd_ready(used_rd_ready),
        .rd_addr(used_rd_addr),
        .rd_landed(used_rd_landed),
        .rd_beat(used_rd_beat),
        .rd_data(rd0_tdata[15:0]),
        .rd_last(rd0_tlast),
        .rd_err(rd0_terr),
        .used_publish(used_publish),
        .used_publish_idx(used_publish_idx),
        .used_notify_valid(used_notify_valid),
        .used_notify_ready(used_notify_ready),
        .used_notify_queue(used_notify_queue)
    );
    assign chain_retire = used_publish;
endmodule

`default_nettype wire
