/* txn: the transaction record ZAB replicates for the ZooKeeper state
 * machine: a header (session, cxid, zxid, time, type) and a body per type,
 * in a compact binary encoding of zablab's own (not jute).
 *
 * A txn carries its results already resolved by the leader (the sequential
 * name, the new version, the parent's new cversion, the ephemeral owner,
 * the list of ephemerals a closeSession deletes), so applying it to the
 * same state gives the same result on every server, every time.
 *
 * Encoding (little-endian): u8 format version | i32 type | i64 session |
 * i32 cxid | i64 zxid | i64 time_ms | body. Bodies:
 *   create*: blob path, blob data, acl list, i64 owner, i32 parent_cversion
 *   delete, deleteContainer: blob path
 *   setData: blob path, blob data, i32 version (the new one)
 *   setACL: blob path, acl list, i32 aversion (the new one)
 *   check: blob path, i32 version
 *   error: i32 err
 *   createSession: i32 timeout_ms
 *   closeSession: u32 n, n x blob path
 *   multi: u32 n, n x (i32 type, body of that type); no nested multi.
 *
 * Owns: decoded txns own their op/ACL/path arrays (zk_txn_free); strings
 * and data point into the decoded buffer (zero copy), which must outlive
 * the txn.
 * Never: trust input: every length is checked against what is left and
 * against ZooKeeper's bounds; bad bytes give ZMARSHALLINGERROR + message. */
#ifndef ZABLAB_CORE_TXN_H
#define ZABLAB_CORE_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/zk_types.h"

#define ZK_TXN_FORMAT 1u
#define ZK_TXN_CLOSE_PATHS_MAX (1u << 20)

struct zk_txn_op {
    int32_t type;            /* enum zk_op */
    const char *path;        /* not NUL-terminated after decode */
    uint32_t path_len;
    const uint8_t *data;
    uint32_t data_len;
    const struct zk_acl *acl;
    uint32_t acl_count;
    int64_t ephemeral_owner; /* create*: session, container, TTL or 0 */
    int32_t parent_cversion; /* create*: the parent's new cversion */
    int32_t version;         /* setData/setACL: new version; check: expected */
    int32_t err;             /* error */
};

struct zk_txn_path {
    const char *path;
    uint32_t len;
};

struct zk_txn {
    int64_t session_id;
    int32_t cxid;
    int64_t zxid;
    int64_t time_ms;
    int32_t type;
    struct zk_txn_op op;           /* every non-multi txn except sessions */
    struct zk_txn_op *ops;         /* multi */
    uint32_t op_count;
    int32_t timeout_ms;            /* createSession */
    struct zk_txn_path *paths;     /* closeSession: ephemerals to delete */
    uint32_t path_count;
    void *owned[3];                /* arrays allocated by decode */
};

/* Bytes zk_txn_encode will write. */
size_t zk_txn_encoded_size(const struct zk_txn *txn);
/* ZOK, or ZBADARGUMENTS if cap is too small or the txn is not encodable
 * (unknown type, nested multi, too many ops). */
int zk_txn_encode(const struct zk_txn *txn, uint8_t *buf, size_t cap, size_t *len);
/* ZOK, or ZMARSHALLINGERROR with "offset N: why" in err. On error the txn
 * holds nothing that needs freeing (zk_txn_free is still safe). */
int zk_txn_decode(struct zk_txn *txn, const uint8_t *buf, size_t len, char *err, size_t errlen);
void zk_txn_free(struct zk_txn *txn);

/* True for the op types a txn (or a multi's sub-txn) can carry. */
bool zk_txn_op_type_valid(int32_t type, bool in_multi);

#endif
