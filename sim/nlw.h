/* nlw: the no-lost-writes check on one server's durable state, as a
 * restart would find it (the snapshot file, then the valid prefix of the
 * log file). simc_check_no_lost_writes (sim/client_check.c) runs it on every
 * server, crashed ones included; tests plant violations through it directly.
 *
 * For each acknowledged write at zxid Z:
 *  - a durable log record at Z must hold that write's txn (same session and
 *    cxid, not an error txn): a zxid names one proposal of one leader, so
 *    any other txn there is another history;
 *  - a write covered by the snapshot (Z <= its zxid) must have left its
 *    effect in the snapshot's tree, judged with the txn itself (from a log
 *    that still holds it) and the zxid stamps: a created node still there
 *    with czxid >= Z, a set node with mzxid >= Z and the new version, a
 *    deleted node gone (or created again later), and where a node is gone,
 *    its nearest ancestor's pzxid shows a later child change;
 *  - a durable state that reaches past Z (a later record or snapshot) must
 *    hold Z: logs are written in zxid order and every later leader had Z.
 * Owns: nothing beyond the call. Must never: modify the disk images, or
 * judge a server whose durable state has not reached Z (it may simply lag). */
#ifndef ZABLAB_SIM_NLW_H
#define ZABLAB_SIM_NLW_H

#include <stddef.h>
#include <stdint.h>

/* A write a client saw succeed. */
struct nlw_write {
    uint64_t zxid;
    int64_t session;
    int32_t xid, op;
    int client;            /* 0-based; reported as client+1 */
};

/* A server's durable images; NULL/0 for an absent file. */
struct nlw_durable {
    const uint8_t *log;
    size_t log_len;
    const uint8_t *snapshot;
    size_t snapshot_len;
};

/* Finds the txn bytes committed at zxid in some log that still holds them
 * (NULL: none does). */
typedef const uint8_t *nlw_ref_fn(void *ctx, uint64_t zxid, uint32_t *len);

struct nlw_stats {
    uint32_t in_log;         /* write found in the durable log */
    uint32_t in_snapshot;    /* effect verified in the snapshot */
    uint32_t unverified;     /* covered by the snapshot, no log holds its txn */
    uint32_t not_reached;    /* durable state ends before the write */
};

/* 0 when server `id`'s durable state keeps every write; 1 with detail on a
 * lost or replaced write; -1 with detail when the images do not decode
 * (a restart would refuse them too: not this check's verdict). Stats are
 * added to *st (may be NULL). */
int nlw_check_durable(int id, const struct nlw_durable *d, const struct nlw_write *w, uint32_t n,
                      nlw_ref_fn *ref, void *ref_ctx, struct nlw_stats *st, char *detail,
                      size_t len);

/* A txn's effect on a tree at a later state (exposed for tests). 0 present,
 * 1 missing with detail. */
struct tree;
int nlw_effect_present(const struct tree *t, const uint8_t *txn, uint32_t txn_len, uint64_t zxid,
                       char *detail, size_t len);

#endif
