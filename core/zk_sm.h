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
};

/* cfg NULL: defaults. */
int zk_sm_init(struct zk_sm *sm, const struct zk_sm_config *cfg);
void zk_sm_free(struct zk_sm *sm);
int zk_sm_clone(struct zk_sm *dst, const struct zk_sm *src);

/* Applies the txn committed at zxid. ZOK: applied (per-op outcomes, which
 * may be errors, are in out). ZBADARGUMENTS: zxid not above lastApplied or
 * not the txn's own zxid; ZMARSHALLINGERROR: undecodable bytes;
 * ZSYSTEMERROR: out of memory. On any error the state is unchanged. */
int zk_sm_apply(struct zk_sm *sm, uint64_t zxid, const uint8_t *txn, size_t len,
                struct zk_apply_out *out);

uint64_t zk_sm_digest(const struct zk_sm *sm);
static inline uint64_t zk_sm_last_applied(const struct zk_sm *sm) { return sm->last_applied; }
const struct zk_sm_session *zk_sm_session(const struct zk_sm *sm, int64_t id);

/* Snapshot: "ZSM1" | u32 version | u64 last_applied | u32 n | n x (i64 id,
 * i32 timeout) | blob tree snapshot | u32 crc32c. */
size_t zk_sm_snapshot_size(const struct zk_sm *sm);
int zk_sm_snapshot_write(const struct zk_sm *sm, uint8_t *buf, size_t cap, size_t *len);
/* Replaces *sm (initialised or zeroed). On error *sm is left as it was
 * and err says "offset N: why". */
int zk_sm_snapshot_load(struct zk_sm *sm, const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
