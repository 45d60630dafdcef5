/* apply: applies one committed txn to the tree (DataTree.processTxn):
 * creates, deletes, data and ACL changes, Stat updates, killSession, and
 * multi. Returns what FinalRequestProcessor needs to answer the client
 * (per-op results) and the watch triggers the change fired, in the order
 * ZooKeeper fires them.
 *
 * Owns: the output buffers inside struct zk_apply_out (reused across calls,
 * grown on demand, released by zk_apply_out_free).
 * Never: validate ZooKeeper policy (prep did), touch sessions (zk_sm does),
 * or look at watches (the watch manager maps triggers to connections). */
#ifndef ZABLAB_CORE_APPLY_H
#define ZABLAB_CORE_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "core/tree.h"
#include "core/txn.h"
#include "core/zk_types.h"

/* Strings (paths) in an apply output are offsets into out->strings, which
 * may move as it grows; read them with zk_apply_out_str(). */
struct zk_op_result {
    int32_t type;           /* op type, ZOO_ERROR_OP when it failed */
    int32_t err;
    uint32_t path_off;      /* create: the created path */
    uint32_t path_len;
    struct zk_stat stat;    /* create, setData, setACL: Stat afterwards */
};

/* A watch trigger, with the ACL of the node it is about at that moment
 * (the deleted node's last ACL, the parent's for NodeChildrenChanged), so
 * the server can deliver events only to readers (CVE-2024-23944 fix). */
struct zk_trigger {
    int32_t event;          /* enum zk_event */
    uint32_t path_off;
    uint32_t path_len;
    uint32_t acl_off;       /* into out->acls */
    uint32_t acl_count;
};

struct zk_apply_out {
    int32_t type;           /* the txn's type */
    int64_t session_id;
    int32_t cxid;
    int64_t zxid;
    int32_t err;            /* first non-OK result (multi: as rc.err) */
    struct zk_op_result *results;
    uint32_t result_count;
    uint32_t result_cap;
    struct zk_trigger *triggers;
    uint32_t trigger_count;
    uint32_t trigger_cap;
    char *strings;
    size_t strings_len;
    size_t strings_cap;
    struct zk_acl *acls;
    uint32_t acls_len;
    uint32_t acls_cap;
};

void zk_apply_out_init(struct zk_apply_out *out);
void zk_apply_out_reset(struct zk_apply_out *out);
void zk_apply_out_free(struct zk_apply_out *out);
static inline const char *zk_apply_out_str(const struct zk_apply_out *out, uint32_t off)
{
    return out->strings + off;
}
static inline const struct zk_acl *zk_apply_out_acl(const struct zk_apply_out *out, uint32_t off)
{
    return out->acls + off;
}

/* Applies txn at txn->zxid. Returns ZOK (per-op errors are in out), or
 * ZSYSTEMERROR if the output could not grow. createSession has no effect
 * on the tree; closeSession deletes the listed paths. */
int apply_txn(struct tree *t, const struct zk_txn *txn, struct zk_apply_out *out);

#endif
