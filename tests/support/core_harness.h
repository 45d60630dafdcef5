/* A small deterministic in-memory driver for the replica, for unit tests
 * only (the real simulator lives in sim/). FIFO queues per ordered pair of
 * servers, a disk per server (written vs fsynced bytes, epoch files, a
 * snapshot), a seeded xorshift that picks which event happens next, crash =
 * drop volatile state (and maybe tear the unsynced tail) and restart from
 * the durable bytes. Also checks a few safety invariants after every step. */
#ifndef ZABLAB_TESTS_CORE_HARNESS_H
#define ZABLAB_TESTS_CORE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/replica.h"

#define CH_SERVERS_MAX 9
#define CH_COMMITTED_SLOTS (1u << 16)   /* recording stops at 3/4 full */

struct ch_msg;

struct ch_queue {
    struct ch_msg *head, *tail;
    size_t n;
};

struct ch_pending_op {
    uint64_t op_id;
    int kind;
    int which;
    uint64_t value;
    uint8_t *bytes;
    size_t len;
};

struct ch_disk {
    uint8_t *log;          /* written (page cache) */
    size_t log_len, log_cap;
    size_t dlen;           /* log[0, dlen) is fsynced ... */
    uint8_t *dlog;         /* ... unless a truncation cut below dlen: then this copy is */
    size_t dlog_len;
    int detached;
    uint8_t *snap;
    size_t snap_len;
    int has_accepted, has_current;
    uint64_t accepted, current;
    struct ch_pending_op *ops;      /* pending: ops[ops_head, n_ops) */
    size_t ops_head, n_ops, ops_cap;
    /* A REP_SNAPSHOT_BY_DRIVER snapshot, serialized when the action ran and
     * completed at a random later step, out of order with ops[] (op_id 0 =
     * none), as zabd's forked writer does. */
    struct ch_pending_op driver_snap;
};

struct ch_node {
    struct replica r;
    int up;
    struct ch_disk disk;
    uint64_t timer_ms;
    uint64_t events[32];   /* count per rep_event_kind */
};

struct core_harness {
    int n;
    struct ch_node nodes[CH_SERVERS_MAX + 1];
    struct ch_queue q[CH_SERVERS_MAX + 1][CH_SERVERS_MAX + 1];   /* q[from][to] */
    uint8_t blocked[CH_SERVERS_MAX + 1][CH_SERVERS_MAX + 1];
    uint8_t clogged[CH_SERVERS_MAX + 1][CH_SERVERS_MAX + 1];  /* held, not lost: only timeouts notice */
    struct replica_config cfg;
    uint64_t rng;
    uint64_t now_ms;
    int disk_delayed;      /* 1: disk completions are scheduled events */
    int tear_on_crash;     /* 1: a crash keeps a random part of the unsynced log tail */
    int trace;             /* print events to stderr */
    uint32_t drop_permille; /* "broken network": lose messages without breaking the connection */
    uint8_t disk_paused[CH_SERVERS_MAX + 1];   /* 1: this server's disk ops never complete */
    uint64_t steps;
    /* invariant bookkeeping */
    uint64_t leader_of_epoch[256];
    uint64_t max_accepted[CH_SERVERS_MAX + 1], max_current[CH_SERVERS_MAX + 1];
    /* every txn seen committed anywhere: open addressing, zxid -> payload hash */
    uint64_t *committed_zxid, *committed_hash;
    size_t n_committed;
    uint64_t checked_hi[CH_SERVERS_MAX + 1];        /* per node: commit index already checked */
    uint64_t checked_epoch[CH_SERVERS_MAX + 1];     /* per node: establishment already checked */
    uint64_t max_established;                      /* highest epoch any leader established */
    int recheck;                                   /* an old-epoch commit was first seen late */
    char violation[256];
    uint64_t sync_seen[4];  /* count of SYNC_SENT by enum zab_sync_kind */
    int last_sync_kind[CH_SERVERS_MAX + 1];  /* per learner: last SYNC_SENT kind, -1 none */
    uint64_t last_sync_zxid[CH_SERVERS_MAX + 1];
};

/* cfg: everything but id (filled per node); n_servers taken from n. */
struct core_harness *ch_new(int n, uint64_t seed, const struct replica_config *cfg);
void ch_free(struct core_harness *h);
int ch_start(struct core_harness *h, int id);          /* (re)start from its disk; 0 ok */
void ch_crash(struct core_harness *h, int id);
/* Cut (or restore) every link between id and the others. */
void ch_isolate(struct core_harness *h, int id, int on);
void ch_block(struct core_harness *h, int a, int b, int on);
/* Hold (or release) messages between a and b without breaking the connection. */
void ch_clog(struct core_harness *h, int a, int b, int on);

/* One scheduling step; returns 0 if nothing could happen (after advancing time). */
int ch_step(struct core_harness *h);
/* Steps until pred(h, arg) or max_steps; returns 1 if pred became true. */
int ch_run_until(struct core_harness *h, int (*pred)(struct core_harness *, void *), void *arg,
                uint64_t max_steps);
void ch_run_steps(struct core_harness *h, uint64_t steps);

/* The established leader in BROADCAST (if exactly one), else 0. */
int ch_leader(const struct core_harness *h);
int ch_propose(struct core_harness *h, int id, const char *text, uint64_t *zxid);
/* 1 if every up node is in BROADCAST and has applied `zxid`. */
int ch_all_applied(const struct core_harness *h, uint64_t zxid);

/* predicates for ch_run_until */
int ch_pred_leader(struct core_harness *h, void *arg);          /* any established leader, all up nodes in BROADCAST */
int ch_pred_applied(struct core_harness *h, void *zxid_ptr);    /* ch_all_applied */
int ch_pred_node_applied(struct core_harness *h, void *arg);    /* arg: uint64_t[2] = {id, zxid} */

#endif
