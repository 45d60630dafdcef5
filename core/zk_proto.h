/* zk_proto: the records of ZooKeeper's client wire protocol (module
 * org.apache.zookeeper.proto of zookeeper.jute) as a server reads and writes
 * them: the session handshake, request/reply headers, every request body a
 * server must accept, every response body it sends, watch notifications,
 * length-prefixed framing and four-letter-word detection.
 *
 * Owns: wire-level structs (independent of the data tree's own types; the
 * server maps between them) and their encode/decode functions.
 * Decoding is zero copy: strings and buffers in a decoded struct point into
 * the packet, which must outlive the struct. Vectors (ACLs, paths, multi
 * ops, results) are placed in a caller-provided arena, never malloc'd, so a
 * packet can cost at most the arena's size.
 * Never: allocate, perform I/O, interpret paths or semantics (that is the
 * tree's job), or accept bytes after the end of a record. */
#ifndef ZABLAB_CORE_ZK_PROTO_H
#define ZABLAB_CORE_ZK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jute.h"
#include "core/zk_types.h"   /* opcodes (enum zk_op) and error codes (enum zk_err) */

/* jute.maxbuffer default: the largest frame payload a server accepts. */
#define ZKP_PACKET_MAX_DEFAULT 0xfffffu
#define ZKP_PASSWD_LEN 16
/* Body sizes of the handshake: with and without the trailing readOnly. */
#define ZKP_CONNECT_REQ_LEN 45
#define ZKP_CONNECT_REQ_LEN_OLD 44
#define ZKP_CONNECT_RESP_LEN 37
#define ZKP_STAT_LEN 68

/* Decoder/encoder statuses beyond jute's (enum jute_err). */
enum zkp_err {
    ZKP_E_UNKNOWN_OP = 16,    /* opcode not a request this server decodes */
    ZKP_E_TRAILING = 17,      /* bytes left after the record ended */
    ZKP_E_ARENA_FULL = 18,    /* vectors do not fit the caller's arena */
    ZKP_E_MULTI_OP = 19,      /* sub-op type not allowed inside multi */
    ZKP_E_MULTI_END = 20,     /* multi ended without its done header */
    ZKP_E_FRAME_NEG = 21,     /* frame length negative */
    ZKP_E_FRAME_TOO_BIG = 22, /* frame length above the configured maximum */
    ZKP_E_CONNECT_LEN = 23,   /* handshake body neither 44 nor 45 bytes */
};

/* Human-readable text for any jute_err or zkp_err value. */
const char *zkp_strerror(int err);

/* Opcodes and error codes are core/zk_types.h's (enum zk_op, enum zk_err),
 * shared with the server side. */

/* Reserved xids (ClientCnxn): normal requests use xid >= 1. */
enum zkp_xid {
    ZKP_XID_NOTIFICATION = -1,
    ZKP_XID_PING = -2,
    ZKP_XID_AUTH = -4,
    ZKP_XID_SET_WATCHES = -8,
};

/* Watch event types and keeper states as sent in WatcherEvent. */
enum zkp_event_type {
    ZKP_EVENT_NONE = -1,
    ZKP_EVENT_NODE_CREATED = 1,
    ZKP_EVENT_NODE_DELETED = 2,
    ZKP_EVENT_NODE_DATA_CHANGED = 3,
    ZKP_EVENT_NODE_CHILDREN_CHANGED = 4,
};
enum zkp_keeper_state {
    ZKP_STATE_DISCONNECTED = 0,
    ZKP_STATE_SYNC_CONNECTED = 3,
    ZKP_STATE_AUTH_FAILED = 4,
    ZKP_STATE_CONNECTED_READ_ONLY = 5,
    ZKP_STATE_EXPIRED = -112,
    ZKP_STATE_CLOSED = 7,
};

/* ---- bump arena for decoded vectors ------------------------------------ */

/* Caller-owned memory; decoders carve aligned arrays from it. Reset `used`
 * to 0 to reuse it for the next packet. */
struct zkp_arena {
    uint8_t *base;
    size_t cap;
    size_t used;
};

void zkp_arena_init(struct zkp_arena *a, void *mem, size_t cap);
/* Returns n * size bytes aligned to 8, or NULL when they do not fit. */
void *zkp_arena_alloc(struct zkp_arena *a, size_t n, size_t size);

/* ---- data records --------------------------------------------------------- */

struct zkp_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime_ms;
    int64_t mtime_ms;
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner;
    int32_t data_length;
    int32_t num_children;
    int64_t pzxid;
};

struct zkp_acl {
    int32_t perms;
    struct jute_str scheme;
    struct jute_str id;
};

/* count == -1 is a null vector (items NULL). */
struct zkp_acl_vec {
    struct zkp_acl *items;
    int32_t count;
};

struct zkp_str_vec {
    struct jute_str *items;
    int32_t count;
};

/* ---- handshake ---------------------------------------------------------- */

struct zkp_connect_req {
    int32_t protocol_version;
    int64_t last_zxid_seen;
    int32_t timeout_ms;
    int64_t session_id;
    struct jute_buf passwd;
    bool read_only;
    bool has_read_only; /* false for the 44-byte pre-3.4 form */
};

struct zkp_connect_resp {
    int32_t protocol_version;
    int32_t timeout_ms;
    int64_t session_id;
    struct jute_buf passwd;
    bool read_only;
};

/* Decodes a whole handshake payload (frame body, no length prefix). */
int zkp_decode_connect_req(const uint8_t *payload, size_t len, struct zkp_connect_req *out);
void zkp_encode_connect_req(struct jute_wr *wr, const struct zkp_connect_req *req);
/* with_read_only: echo the form the client used (false for 44-byte clients). */
void zkp_encode_connect_resp(struct jute_wr *wr, const struct zkp_connect_resp *resp,
                             bool with_read_only);
int zkp_decode_connect_resp(const uint8_t *payload, size_t len, struct zkp_connect_resp *out,
                            bool *has_read_only);

/* ---- requests ----------------------------------------------------------- */

struct zkp_request;

/* Request bodies, grouped by wire layout; the comment names the opcodes. */
struct zkp_create_req { /* create, create2, createContainer, createTTL */
    struct jute_str path;
    struct jute_buf data;
    struct zkp_acl_vec acl;
    int32_t flags;
    int64_t ttl_ms; /* createTTL only; 0 otherwise */
};
struct zkp_path_req { /* getACL, sync, getEphemerals, getAllChildrenNumber */
    struct jute_str path;
};
struct zkp_path_watch_req { /* exists, getData, getChildren, getChildren2 */
    struct jute_str path;
    bool watch;
};
struct zkp_path_version_req { /* delete, check */
    struct jute_str path;
    int32_t version;
};
struct zkp_set_data_req {
    struct jute_str path;
    struct jute_buf data;
    int32_t version;
};
struct zkp_set_acl_req {
    struct jute_str path;
    struct zkp_acl_vec acl;
    int32_t version;
};
struct zkp_path_type_req { /* checkWatches, removeWatches (type), addWatch (mode) */
    struct jute_str path;
    int32_t type;
};
struct zkp_auth_req {
    int32_t type;
    struct jute_str scheme;
    struct jute_buf auth;
};
struct zkp_set_watches_req { /* setWatches; setWatches2 adds the last two */
    int64_t relative_zxid;
    struct zkp_str_vec data_watches;
    struct zkp_str_vec exist_watches;
    struct zkp_str_vec child_watches;
    struct zkp_str_vec persistent_watches;
    struct zkp_str_vec persistent_recursive_watches;
};
struct zkp_multi_req { /* multi, multiRead: ops never nest */
    struct zkp_request *ops;
    int32_t count;
};

/* The body of a request; which member is valid follows from the op (see
 * the comments on each struct). Ops without a body: ping, closeSession,
 * whoAmI. */
union zkp_request_body {
    struct zkp_create_req create;
    struct zkp_path_req path;
    struct zkp_path_watch_req path_watch;
    struct zkp_path_version_req path_version;
    struct zkp_set_data_req set_data;
    struct zkp_set_acl_req set_acl;
    struct zkp_path_type_req path_type;
    struct zkp_auth_req auth;
    struct zkp_set_watches_req set_watches;
    struct zkp_multi_req multi;
};

/* One request. xid/op come from the RequestHeader (for a multi sub-op: op
 * from the MultiHeader, xid 0). */
struct zkp_request {
    int32_t xid;
    int32_t op;
    union zkp_request_body u;
};

/* "getData", "multi", ... for logs and traces; "unknown" otherwise. */
const char *zkp_op_name(int32_t op);

/* Decodes the body of opcode `op` from rd into req->u (req->op is set).
 * Unknown opcode -> ZKP_E_UNKNOWN_OP. Does not check for trailing bytes. */
int zkp_decode_request_body(struct jute_rd *rd, int32_t op, struct zkp_request *req,
                            struct zkp_arena *arena);
/* Decodes a whole frame payload: RequestHeader + body, nothing after it.
 * req->xid and req->op are valid whenever the 8-byte header was present,
 * even on error, so the server can answer that xid with an error code. */
int zkp_decode_request(const uint8_t *payload, size_t len, struct zkp_request *req,
                       struct zkp_arena *arena);
/* The client side: RequestHeader + body. */
void zkp_encode_request(struct jute_wr *wr, const struct zkp_request *req);

/* ---- responses ---------------------------------------------------------- */

struct zkp_reply_header {
    int32_t xid;
    int64_t zxid;
    int32_t err;
};

struct zkp_client_info {
    struct jute_str auth_scheme;
    struct jute_str user;
};

struct zkp_response;

/* One multi result. op is the sub-op's type, or ZOO_ERROR_OP with err set. */
struct zkp_multi_result {
    int32_t op;
    int32_t err;
    struct jute_str path;        /* create, create2 family */
    struct zkp_stat stat;        /* create2 family, setData, getData */
    struct jute_buf data;        /* getData (multiRead) */
    struct zkp_str_vec children; /* getChildren (multiRead) */
};

struct zkp_response {
    int32_t op; /* which body layout follows the header (the request's op) */
    struct jute_str path;                /* create*, sync */
    struct zkp_stat stat;                /* many */
    struct jute_buf data;                /* getData */
    struct zkp_acl_vec acl;              /* getACL */
    struct zkp_str_vec children;         /* getChildren(2), getEphemerals */
    int32_t number;                      /* getAllChildrenNumber, addWatch's ErrorResponse */
    struct {
        struct zkp_client_info *items;
        int32_t count;
    } clients;                           /* whoAmI */
    struct {
        struct zkp_multi_result *items;
        int32_t count;
    } multi;                             /* multi, multiRead */
};

/* Writes the body (no header) of a successful reply to opcode resp->op.
 * Ops whose reply has no body write nothing. Unknown op -> sets wr->err to
 * ZKP_E_UNKNOWN_OP. */
void zkp_encode_response_body(struct jute_wr *wr, const struct zkp_response *resp);
/* Decodes a response body of opcode op (client side / tests). */
int zkp_decode_response_body(struct jute_rd *rd, int32_t op, struct zkp_response *resp,
                             struct zkp_arena *arena);

void zkp_encode_reply_header(struct jute_wr *wr, const struct zkp_reply_header *h);
int32_t zkp_decode_reply_header(struct jute_rd *rd, struct zkp_reply_header *h);
void zkp_encode_stat(struct jute_wr *wr, const struct zkp_stat *st);
void zkp_decode_stat(struct jute_rd *rd, struct zkp_stat *st);

/* Writes a whole reply frame: length, ReplyHeader and, only if h->err is 0
 * and resp is non-NULL, the body. Returns wr->err. */
int zkp_encode_reply_frame(struct jute_wr *wr, const struct zkp_reply_header *h,
                           const struct zkp_response *resp);
/* Writes a whole watch-notification frame: ReplyHeader{-1, zxid, 0} +
 * WatcherEvent{type, state, path}. Returns wr->err. */
int zkp_encode_notification_frame(struct jute_wr *wr, int64_t zxid, int32_t type,
                                  int32_t state, struct jute_str path);

struct zkp_watcher_event {
    int32_t type;
    int32_t state;
    struct jute_str path;
};
void zkp_decode_watcher_event(struct jute_rd *rd, struct zkp_watcher_event *ev);

/* ---- framing ------------------------------------------------------------ */

/* Frame boundaries: returns JUTE_OK and sets *ready when stream starts with
 * a complete frame (payload at stream+4, payload_len bytes, consumed bytes
 * in total); JUTE_OK with *ready false when more bytes are needed; an error
 * for a negative or oversized length (the connection must be closed). */
struct zkp_frame {
    bool ready;
    const uint8_t *payload;
    size_t payload_len;
    size_t consumed;
};
int zkp_frame_next(const uint8_t *stream, size_t len, size_t payload_max, struct zkp_frame *out);
/* Reserves a length prefix; zkp_frame_end fills it with the bytes since. */
size_t zkp_frame_begin(struct jute_wr *wr);
int zkp_frame_end(struct jute_wr *wr, size_t mark);

/* ---- four-letter words -------------------------------------------------- */

enum zkp_4lw {
    ZKP_4LW_NONE = 0,
    ZKP_4LW_RUOK, ZKP_4LW_SRVR, ZKP_4LW_STAT, ZKP_4LW_MNTR, ZKP_4LW_CONF,
    ZKP_4LW_CONS, ZKP_4LW_WCHS, ZKP_4LW_ISRO, ZKP_4LW_DUMP, ZKP_4LW_ENVI,
    ZKP_4LW_CRST, ZKP_4LW_SRST, ZKP_4LW_DIRS, ZKP_4LW_WCHC, ZKP_4LW_WCHP,
    ZKP_4LW_HASH,
    ZKP_4LW_COUNT
};
/* Classifies the first bytes of a fresh connection. Returns a word, or
 * ZKP_4LW_NONE when the 4 bytes are not a known word (treat as a frame
 * length). With fewer than 4 bytes sets *need_more instead. */
enum zkp_4lw zkp_four_letter_word(const uint8_t *first, size_t len, bool *need_more);
const char *zkp_4lw_name(enum zkp_4lw w);
/* "ruok" -> ZKP_4LW_RUOK; ZKP_4LW_NONE if unknown. */
enum zkp_4lw zkp_4lw_from_name(const char *s, size_t len);

#endif
