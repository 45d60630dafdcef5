/* ZAB's safety invariants, checked incrementally after every simulated
 * event (design.md "What is checked"; protocol reference §1.2-1.5).
 *
 * Owns: the ghost state no single server has: the committed history as the
 * union of what every server applied (zxid -> txn hash and the state digest
 * after it), the leader that established each epoch, and per-server floors
 * (epochs, applied zxid) that must never move backwards.
 * Must never: change a replica, or rescan a whole history per event. Each
 * step costs O(events of that step x log(history)); a leader's establishment
 * costs O(committed txns above its snapshot).
 *
 * Checked:
 *   LEADER_UNIQUE      at most one leader establishes each epoch
 *   AGREEMENT          no two servers apply different txns at one zxid
 *   STATE_DIGEST       servers that applied the same zxid have equal digests
 *   LEADER_COMPLETE    an established leader's log holds every txn committed
 *                      anywhere before (so nothing acknowledged is lost)
 *   PRIMARY_ORDER      a server applies zxids strictly increasing (so an
 *                      older epoch's txn never follows a newer one)
 *   EPOCH_ORDER        acceptedEpoch >= currentEpoch
 *   EPOCH_MONOTONIC    acceptedEpoch/currentEpoch never decrease, not even
 *                      across a crash (they are persisted before used)
 *   COMMIT_MONOTONIC   a server's committed zxid never decreases while up
 *   TRUNC_APPLIED      a server never truncates below what it applied */
#ifndef ZABLAB_CHECK_ZAB_INVARIANTS_H
#define ZABLAB_CHECK_ZAB_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/replica.h"

#define CHK_DETAIL_MAX 320

struct chk_violation {
    char property[24];
    uint64_t t_ns;
    int nodes[2];            /* servers involved; 0 = none */
    uint64_t zxid;
    char detail[CHK_DETAIL_MAX];
};

struct chk_ghost_entry {
    uint64_t zxid;
    uint64_t hash;           /* txn payload hash */
    uint64_t digest;         /* state digest after applying it */
    bool has_digest;         /* known only where a step ended on it */
    int first_node;          /* the first server seen applying it */
};

struct chk_node_floor {
    uint64_t accepted_epoch, current_epoch;  /* survive crashes */
    uint64_t applied_zxid;                   /* this incarnation */
    uint64_t applied_hi_seen;                /* absolute log index checked up to */
    uint64_t committed_zxid;                 /* this incarnation */
};

struct chk_epoch_leader { uint64_t epoch; int leader; };

struct chk_zab {
    int n_servers;
    struct chk_ghost_entry *ghost;   /* sorted by zxid */
    size_t ghost_len, ghost_cap;
    struct chk_epoch_leader *epochs;
    size_t epochs_len, epochs_cap;
    struct chk_node_floor floor[REP_SERVERS_MAX + 1];
    bool failed;
    struct chk_violation violation;  /* the first one */
    uint64_t checks;                 /* steps checked */
};

int chk_zab_init(struct chk_zab *c, int n_servers);
void chk_zab_free(struct chk_zab *c);

/* A server (re)started: this incarnation's floors reset, the durable ones
 * (epochs) are checked against what it had before. */
void chk_zab_on_start(struct chk_zab *c, uint64_t t_ns, const struct replica *r);

/* After a replica processed one input: `out` is the batch it produced. */
void chk_zab_after_step(struct chk_zab *c, uint64_t t_ns, const struct replica *r,
                        const struct replica_out *out);

/* Committed history as seen so far, for reports and tests. */
static inline size_t chk_zab_committed(const struct chk_zab *c) { return c->ghost_len; }
const struct chk_ghost_entry *chk_zab_find(const struct chk_zab *c, uint64_t zxid);

#endif
