/* The state-machine seam between ZAB and what it replicates, plus the
 * placeholder state machine used until the znode tree (core/zk_sm.h) plugs in.
 * ZAB only ever calls the operations in struct sm_ops; the txn bytes are
 * opaque to it. Owns: the interface and the placeholder (digest = running
 * hash of applied payloads in zxid order). Never does I/O. */
#ifndef ZABLAB_CORE_SM_OPAQUE_H
#define ZABLAB_CORE_SM_OPAQUE_H

#include <stddef.h>
#include <stdint.h>

/* A replicated state machine. Every instance is heap-owned by the replica
 * (create/destroy/clone), so a replica copy can deep-copy it. */
struct sm_ops {
    const char *name;
    void *(*create)(void);                       /* empty initial state; NULL on OOM */
    void (*destroy)(void *sm);
    void *(*clone)(const void *sm);              /* deep copy; NULL on OOM */
    /* Applies one committed txn; zxids arrive strictly increasing. 0 or -1 on a
     * txn the machine rejects (it still counts as applied: ZAB already committed it). */
    int (*apply)(void *sm, uint64_t zxid, const uint8_t *txn, size_t len);
    uint64_t (*digest)(const void *sm);
    uint64_t (*last_applied)(const void *sm);
    size_t (*snapshot_size)(const void *sm);
    int (*snapshot_write)(const void *sm, uint8_t *buf, size_t cap, size_t *len);
    int (*snapshot_load)(void *sm, const uint8_t *buf, size_t len, char *err, size_t errlen);
};

/* The placeholder. */
extern const struct sm_ops sm_opaque_ops;

struct sm_opaque {
    uint64_t digest;          /* running hash over (zxid, payload hash) in zxid order */
    uint64_t last_applied;    /* zxid */
    uint64_t n_applied;
};

#define SM_OPAQUE_SNAPSHOT_BYTES 28u   /* magic(4) + digest + last_applied + n_applied */

/* 64-bit hash of a byte string (FNV-1a with a final avalanche); stable across
 * machines: the digest of a run must not depend on the host. */
uint64_t sm_hash64(const void *data, size_t len);
/* Folds one applied txn into a running digest. */
uint64_t sm_digest_fold(uint64_t digest, uint64_t zxid, uint64_t payload_hash);

#endif
