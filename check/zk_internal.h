/* check/zk_internal: what zk_consistency.c (witness judge, messages) and
 * zk_search.c (search judge) share. Not part of the public API. */
#ifndef ZABLAB_CHECK_ZK_INTERNAL_H
#define ZABLAB_CHECK_ZK_INTERNAL_H

#include <time.h>

#include "check/model_zk.h"
#include "check/zk_consistency.h"

/* What an operation is to the checker. */
enum zk_kind {
    ZK_SKIP,        /* did not happen (fail without error) or unknown read */
    ZK_WRITE,       /* acknowledged write that took effect */
    ZK_OBS,         /* read, or a write that returned an error: observes only */
    ZK_SYNC,        /* completed sync */
    ZK_INFO,        /* write with unknown outcome: may or may not take effect */
};

struct zk_ctx {
    struct chk_history *h;
    const struct chk_zk_opts *opts;
    struct chk_zk_result *res;
    struct timespec start;
    uint8_t *kind;            /* per op: enum zk_kind */
    uint32_t *sess_of;        /* per op: session index */
    uint32_t n_sess;
    int64_t *sess_id;
    uint32_t *sess_start;     /* ops of session s: sess_ops[sess_start[s] .. sess_start[s+1]) */
    uint32_t *sess_ops;       /* in issue (invocation) order */
    uint32_t *op_of_ev;       /* per event: op index, CHK_NONE for watches */
    uint32_t *sess_map;       /* session id -> index + 1, open addressing */
    uint32_t sess_map_cap;
    struct zk_tree tree;
    bool zxid_constrained;    /* search only orders that follow the zxids */
    /* Left by a zxid-constrained search that found a violation: where the
     * deepest order it reached placed the unknown-outcome writes (each op
     * and how many zxid writes came before it), for the replay to follow. */
    uint32_t *guide_op, *guide_zdone;
    uint32_t n_guide;
    uint32_t guide_horizon;   /* zxid writes the deepest order had placed */
    bool guided;              /* the replay follows the guide up to its horizon */
};

/* "session 7 read /k = "3" (version 2) at t=4.100s" */
void zkc_words(const struct zk_ctx *c, uint32_t op, char *buf, size_t len);
/* Sets the verdict to a violation with rule and message; ops named are
 * recorded in res->shown. Returns CHK_VERDICT_VIOLATION. */
enum chk_verdict zkc_violation(struct zk_ctx *c, const char *rule, const uint32_t *ops,
                               uint32_t n_ops, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Rule-specific explanations that need no order: a value never written, a
 * failed write whose value was read, a sequential name handed out twice. */
enum chk_verdict zkc_explain_values(struct zk_ctx *c);
bool zkc_over_budget(const struct zk_ctx *c);
/* Stable linear sort of ops by 64-bit keys (keys[i] belongs to ops[i]). */
int zkc_sort_by_key(uint32_t *ops, const uint64_t *keys, uint32_t n);

#endif
