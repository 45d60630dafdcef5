/* zk_sm: the ZooKeeper state machine as the replication core sees it:
 * opaque txn bytes in at a zxid, results and watch triggers out, a digest
 * for cross-server comparison, and snapshots.
 *
 * Owns: the data tree, the committed session table (id -> timeout, from
 * createSession/closeSession txns), and lastAppliedZxid.
 * Never: look at watches, clocks or the leader's live session tracker;
 * accept a txn whose zxid is not above lastApplied (zxids never go back). */
#ifndef ZABLAB_CORE_ZK_SM_H
#define ZABLAB_CORE_ZK_SM_H

#include <stddef.h>
#include <stdint.h>

#include "core/apply.h"
#include "core/session.h"
#include "core/tree.h"

#define ZK_SM_SNAPSHOT_VERSION 1u

struct zk_sm_config {
    struct tree_config tree;
    uint32_t max_sessions;    /* 0: 65536 */
};

struct zk_sm_session {
    int64_t id;
    int32_t timeout_ms;
};

struct zk_sm {
    struct tree tree;
    struct zk_sm_session *sessions; /* sorted by id */
    uint32_t session_count;
    uint32_t session_cap;
    uint32_t max_sessions;
    uint64_t session_digest;        /* sum of per-session hashes */
    uint64_t last_applied;
    struct zk_apply_out last;       /* outcome of the last zk_sm_op_apply; not state */
};

/* cfg NULL: defaults. */
int zk_sm_init(struct zk_sm *sm, const struct zk_sm_config *cfg);
void zk_sm_free(struct zk_sm *sm);
int zk_sm_clone(struct zk_sm *dst, const struct zk_sm *src);

/* Applies the txn committed at zxid; czxid/mzxid/pzxid are stamped with
 * this zxid whatever the txn header says. ZOK: applied (per-op outcomes,
 * which may be errors, are in out). A committed txn always counts as
 * applied, so every replica stays in step even on bad input: undecodable
 * bytes are a no-op that only advances lastApplied (ZMARSHALLINGERROR).
 * ZBADARGUMENTS: zxid not above lastApplied (nothing changes);
 * ZSYSTEMERROR: out of memory. */
int zk_sm_apply(struct zk_sm *sm, uint64_t zxid, const uint8_t *txn, size_t len,
                struct zk_apply_out *out);

uint64_t zk_sm_digest(const struct zk_sm *sm);
static inline uint64_t zk_sm_last_applied(const struct zk_sm *sm) { return sm->last_applied; }
const struct zk_sm_session *zk_sm_session(const struct zk_sm *sm, int64_t id);

/* A new leader's tracker: every committed session, owner unset, expiry
 * counted from now_ms (ZooKeeper restarts the clocks on a new leader too).
 * ZOK, or the first error from session_track (ZTHROTTLEDOP when full). */
int zk_sm_track_sessions(const struct zk_sm *sm, struct session_tracker *tr, int64_t now_ms);

/* Snapshot: "ZSM1" | u32 version | u64 last_applied | u32 n | n x (i64 id,
 * i32 timeout) | blob tree snapshot | u32 crc32c. */
size_t zk_sm_snapshot_size(const struct zk_sm *sm);
int zk_sm_snapshot_write(const struct zk_sm *sm, uint8_t *buf, size_t cap, size_t *len);
/* Replaces *sm (initialised or zeroed). On error *sm is left as it was
 * and err says "offset N: why". */
int zk_sm_snapshot_load(struct zk_sm *sm, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* The same operations with the signatures of the replication core's
 * struct sm_ops (core/sm_opaque.h), so plugging the tree in is:
 *   const struct sm_ops zk_sm_ops = {"zk", zk_sm_op_create, zk_sm_op_destroy,
 *       zk_sm_op_clone, zk_sm_op_apply, zk_sm_op_digest, zk_sm_op_last_applied,
 *       zk_sm_op_snapshot_size, zk_sm_op_snapshot_write, zk_sm_op_snapshot_load};
 * zk_sm_op_apply keeps the per-op results and watch triggers in sm->last
 * for the server to read right after (zk_sm_last_out). */
void *zk_sm_op_create(void);
void zk_sm_op_destroy(void *sm);
void *zk_sm_op_clone(const void *sm);
int zk_sm_op_apply(void *sm, uint64_t zxid, const uint8_t *txn, size_t len);
uint64_t zk_sm_op_digest(const void *sm);
uint64_t zk_sm_op_last_applied(const void *sm);
size_t zk_sm_op_snapshot_size(const void *sm);
int zk_sm_op_snapshot_write(const void *sm, uint8_t *buf, size_t cap, size_t *len);
int zk_sm_op_snapshot_load(void *sm, const uint8_t *buf, size_t len, char *err, size_t errlen);
static inline const struct zk_apply_out *zk_sm_last_out(const struct zk_sm *sm) { return &sm->last; }

#endif
