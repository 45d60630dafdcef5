/* zks_codec: the byte formats of the zk_server layer: client requests
 * queued inside a connection or forwarded to the leader (a struct
 * zk_request, or a SetWatches), and the server-layer peer messages that
 * share the replica's peer connection (forwarded request, refusal, session
 * touches, revalidation, sync, session moved).
 *
 * Owns: encoders/decoders only. Decoded requests point into the encoded
 * bytes (zero copy) except their op/ACL/path arrays, which are heap-owned by
 * the decoded struct (zks_req_dec_free).
 * Never: trust input: every count is checked against the bytes left and
 * ZooKeeper's bounds; bad bytes give ZMARSHALLINGERROR. */
#ifndef ZABLAB_CORE_ZKS_CODEC_H
#define ZABLAB_CORE_ZKS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/watch.h"
#include "core/zk_server.h"
#include "core/zk_types.h"

#define ZKS_REC_REQUEST 1u
#define ZKS_REC_SET_WATCHES 2u
#define ZKS_WATCH_PATHS_MAX 65536u   /* paths in one SetWatches */
#define ZKS_TOUCH_MAX 8192u          /* session ids in one TOUCH message */

/* Bytes needed, and writes them when cap suffices (buf may be NULL to
 * count). */
size_t zks_req_encode(const struct zk_request *req, uint8_t *buf, size_t cap);

struct zks_req_dec {
    struct zk_request req;
    struct zk_request *ops;          /* op_count */
    struct zk_acl *acls;             /* every ACL of the request and its ops */
    struct zk_id auth[ZK_AUTH_MAX];
};
/* ZOK, ZMARSHALLINGERROR (bad bytes), ZSYSTEMERROR (out of memory). The
 * decoded struct needs zks_req_dec_free in every case. */
int zks_req_decode(const uint8_t *buf, size_t len, struct zks_req_dec *out);
void zks_req_dec_free(struct zks_req_dec *d);

size_t zks_sw_encode(const struct zks_set_watches *sw, uint8_t *buf, size_t cap);
struct zks_sw_dec {
    struct zks_set_watches sw;
    const char **paths;              /* backing store of the five lists */
};
int zks_sw_decode(const uint8_t *buf, size_t len, struct zks_sw_dec *out);
void zks_sw_dec_free(struct zks_sw_dec *d);
/* First byte of an encoded record (ZKS_REC_*), 0 if empty. */
static inline uint8_t zks_rec_kind(const uint8_t *buf, size_t len) { return len ? buf[0] : 0; }

/* ---- peer messages (after the ZKS_TAG_SERVER byte) ---- */
enum zks_msg_kind {
    ZKS_MSG_REQUEST = 1,         /* learner -> leader: body = encoded request */
    ZKS_MSG_REQ_FAIL,            /* leader -> learner: session, cxid, type, err (no txn made) */
    ZKS_MSG_TOUCH,               /* learner -> leader: body = n x i64 session ids */
    ZKS_MSG_REVALIDATE,          /* learner -> leader: session, conn, timeout */
    ZKS_MSG_REVALIDATE_REPLY,    /* leader -> learner: session, conn, timeout, valid */
    ZKS_MSG_SYNC,                /* learner -> leader: session, cxid */
    ZKS_MSG_SYNC_REPLY,          /* leader -> learner: session, cxid, zxid to wait for */
    ZKS_MSG_MOVED,               /* leader -> old owner: session */
};

struct zks_msg {
    uint8_t kind;                /* enum zks_msg_kind */
    uint8_t valid;
    int64_t session_id;
    int32_t cxid;
    int32_t type;
    int32_t err;
    int32_t timeout_ms;
    uint64_t conn;
    uint64_t zxid;
    const uint8_t *body;
    uint32_t body_len;
};

/* Tagged message bytes (ZKS_TAG_SERVER first); buf NULL to count. */
size_t zks_msg_encode(const struct zks_msg *m, uint8_t *buf, size_t cap);
/* Decodes bytes after the tag. ZOK or ZMARSHALLINGERROR. */
int zks_msg_decode(const uint8_t *buf, size_t len, struct zks_msg *m);
const char *zks_msg_name(int kind);

#endif
