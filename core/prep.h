/* prep: the leader's request -> txn step (ZooKeeper's PrepRequestProcessor).
 *
 * A write request is validated against the applied tree PLUS the
 * outstanding changes: txns already proposed but not yet applied. They are
 * kept in an overlay of change records (core/overlay.h: path, exists, Stat,
 * child count, ACL); a lookup takes the newest record for a path, else the
 * tree's node. Each successful op appends its records; records are
 * dropped once the txn that made them is applied (prep_applied, by zxid).
 *
 * The txn carries every decision (sequential name from the parent's
 * cversion, new versions, the parent's new cversion, ephemeral owner, the
 * ephemerals a closeSession removes), so applying it is deterministic.
 *
 * Failed writes become an error txn, as ZooKeeper commits an ErrorTxn
 * (it consumes a zxid; applying it changes nothing but lastApplied). A
 * failed multi becomes a multi of error records: OK before the failing op,
 * its code, RUNTIMEINCONSISTENCY after; its overlay records are rolled back.
 * Only two cases produce no txn: a non-write opcode (ZUNIMPLEMENTED: reads
 * are answered locally) and a full overlay (ZTHROTTLEDOP: retry later).
 *
 * Owns: the overlay and scratch space for building txns (bounded by
 * max_outstanding and ZK_MULTI_MAX). Borrows the tree and session tracker.
 * Never: modify the tree, read a clock (time and zxid come in), or keep
 * pointers into a request after the call. */
#ifndef ZABLAB_CORE_PREP_H
#define ZABLAB_CORE_PREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/overlay.h"
#include "core/session.h"
#include "core/tree.h"
#include "core/txn.h"
#include "core/zk_types.h"

#define PREP_OUTSTANDING_MAX_DEFAULT 16384u

struct prep_config {
    bool extended_types;      /* zookeeper.extendedTypesEnabled: TTL nodes */
    uint32_t data_max;        /* 0: ZK_DATA_MAX_DEFAULT */
    uint32_t max_outstanding; /* overlay records; 0: default */
};

struct prep_op;               /* scratch, private to prep.c */

struct prep {
    struct prep_config cfg;
    struct overlay ov;           /* outstanding changes, zxid order */
    uint64_t last_mark;          /* overlay mark before the last prepared txn */
    struct prep_op *ops;         /* ZK_MULTI_MAX, being built */
    struct zk_txn_op *txn_ops;   /* ZK_MULTI_MAX, handed to the encoder */
    char *names;                 /* resolved paths of the txn being built */
    size_t names_len;
    size_t names_cap;
    struct zk_acl *acls;         /* fixed-up ACLs of the txn being built */
    uint32_t acl_used;
    uint32_t acl_cap;
    struct zk_txn_path *close_paths;
    uint32_t close_count;
    uint32_t close_cap;
};

struct prep_result {
    int32_t err;              /* the request's outcome (also in the txn) */
    bool has_txn;             /* a txn was written: propose it at zxid */
    size_t txn_len;
};

int prep_init(struct prep *p, const struct prep_config *cfg);
void prep_free(struct prep *p);
/* Deep copy of the overlay; scratch space is fresh. */
int prep_clone(struct prep *dst, const struct prep *src);

/* Prepares one request at `zxid` (the zxid ZAB will give the txn; the
 * caller must propose it with exactly that zxid, in order). tr may be NULL
 * (no session checks). Returns ZOK with *res filled, or ZBADARGUMENTS if
 * cap is too small for the txn (res->txn_len says how much is needed:
 * grow the buffer and call again), ZSYSTEMERROR when out of memory: then
 * no txn was produced and the overlay is unchanged. */
int prep_request(struct prep *p, const struct tree *t, struct session_tracker *tr,
                 const struct zk_request *req, int64_t zxid, int64_t time_ms,
                 uint8_t *txn_buf, size_t cap, struct prep_result *res);

/* When ZAB numbers a proposal itself (replica_propose hands back the
 * zxid), prepare with the predicted zxid and then either confirm the real
 * one (retag: the overlay records of the last prepared txn take it) or,
 * if the proposal was refused, cancel them. Only the last prepared txn
 * can be retagged or cancelled; both are no-ops if it produced no records. */
void prep_retag_last(struct prep *p, int64_t zxid);
void prep_cancel_last(struct prep *p);

/* The txn with this zxid (and all older ones) has been applied. */
void prep_applied(struct prep *p, int64_t zxid);
/* Forget every outstanding change (leadership lost, or txns discarded). */
void prep_reset(struct prep *p);
static inline uint32_t prep_outstanding(const struct prep *p) { return overlay_count(&p->ov); }

#endif
