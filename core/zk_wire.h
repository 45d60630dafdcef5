/* zk_wire: the translation between ZooKeeper's client wire protocol
 * (length-prefixed jute frames, core/zk_proto.h) and the zk_server state
 * machine's inputs and outputs (core/zk_server.h). Server side: a frame
 * payload becomes a zks_connect_req, a zk_request or a zks_set_watches; a
 * zks_out becomes one complete frame. Client side (simulated clients, load
 * tools, tests): the reverse.
 *
 * Owns: the mapping op <-> zk_request fields, the error policy for bad
 * client bytes (which error answers the xid, which closes the connection),
 * and the storage of decoded requests/replies (one heap block per decoded
 * frame, freed by zkw_request_free / zkw_reply_free).
 * Never: I/O, clocks, globals; never truncates a string silently (a NUL
 * inside a path is an error for that xid, not a shorter path); never reads
 * outside the payload it is given.
 *
 * ---- Error policy of zkw_decode_request (driver contract) -----------------
 *   ZOK               kind says which zks_ input to call.
 *   ZMARSHALLINGERROR the bytes do not parse (short, negative/huge lengths
 *                     or counts, trailing bytes, a field over field_max, a
 *                     bad multi): log, close the connection. xid/op are
 *                     valid iff has_header.
 *   any other code    (ZUNIMPLEMENTED, ZBADARGUMENTS, ZINVALIDACL): answer
 *                     xid with a header-only reply carrying that code and
 *                     keep the connection. ZUNIMPLEMENTED: an op zk_server
 *                     does not implement (reconfig, sasl, unknown
 *                     opcodes); ZBADARGUMENTS: a string with a NUL byte, a
 *                     path longer than ZK_PATH_MAX, a read op inside multi,
 *                     an op other than getData/getChildren inside
 *                     multiRead; ZINVALIDACL: more than ZK_ACL_MAX ACL entries or
 *                     a scheme/id longer than struct zk_id holds.
 * ------------------------------------------------------------------------ */
#ifndef ZABLAB_CORE_ZK_WIRE_H
#define ZABLAB_CORE_ZK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/zk_proto.h"
#include "core/zk_server.h"
#include "core/zk_types.h"

/* Largest encoded frame zkw_encode_* will produce (a larger one is -1). */
#define ZKW_FRAME_MAX (64u << 20)

/* Growable output buffer; zero-initialise it. Frames are appended. */
struct zkw_buf {
    uint8_t *p;
    size_t len, cap;
};
void zkw_buf_free(struct zkw_buf *b);

struct zkw_limits {
    /* Largest buffer/ustring inside a request (jute.maxbuffer); 0 = 0xfffff,
     * ZooKeeper's default (1 MiB - 1). */
    size_t field_max;
};

/* ---- server side ---------------------------------------------------------- */

/* A decoded ConnectRequest. Password: the wire passwd must be 16 bytes for
 * an existing session (session_id != 0); any other length is stored as an
 * all-zero password, which zk_server answers as an expired session (what
 * ZooKeeper does with a wrong password). For a new session the password is
 * ignored by the server and stored zeroed unless it is 16 bytes. A null
 * (-1) passwd is length 0. req.auth/auth_count are left NULL/0: the driver
 * fills in the ids it vouches for (e.g. ip). */
struct zkw_connect {
    struct zks_connect_req req;
    int32_t protocol_version;
    bool read_only;          /* the client asked for a read-only session (also req.read_only) */
    bool long_form;          /* the request carried readOnly: echo it */
};

/* ZOK or ZMARSHALLINGERROR (the driver closes the connection). */
int zkw_decode_connect(const uint8_t *payload, size_t len, struct zkw_connect *out);

enum zkw_req_kind {
    ZKW_REQ_NONE = 0,        /* nothing usable (error) */
    ZKW_REQ_CLIENT,          /* req: zks_client_request */
    ZKW_REQ_SET_WATCHES,     /* sw: zks_client_set_watches */
};

/* A decoded request frame. Strings are NUL-terminated copies; a null
 * ustring (len -1, as kazoo sends for "") is "", null data is an empty
 * (non-NULL) buffer, null vectors are empty. getEphemerals with a null or
 * empty prefix has path NULL (all). Everything points into `mem`. */
struct zkw_request {
    bool has_header;         /* the 8-byte RequestHeader was present */
    int32_t xid;
    int32_t op;
    uint8_t kind;            /* enum zkw_req_kind */
    struct zk_request req;
    struct zks_set_watches sw;
    const char *why;         /* static text: what was wrong ("" on ZOK), for logs */
    void *mem;               /* private: owned storage */
};

int zkw_decode_request(const uint8_t *payload, size_t len, const struct zkw_limits *lim,
                       struct zkw_request *out);
/* Safe on a zeroed struct and after a failed decode; leaves it zeroed. */
void zkw_request_free(struct zkw_request *r);

/* Appends one complete frame (length prefix included) for o. CONNECTED:
 * ConnectResponse{0, timeout, sessionId, passwd(16)} plus readOnly
 * (o->read_only) iff long_form; REPLY: ReplyHeader + the op's body (only when err == 0);
 * WATCH: ReplyHeader{-1, zxid, 0} + WatcherEvent{event, SyncConnected,
 * path}; CLOSE: nothing. o must come from zks_output() (pointers resolved).
 * 0, or -1 (out of memory, an op without a reply layout, over
 * ZKW_FRAME_MAX); on -1 b->len is unchanged. */
int zkw_encode_out(const struct zks_out *o, bool long_form, struct zkw_buf *b);

/* A header-only reply frame ReplyHeader{xid, zxid, err}: how a driver
 * answers a request zkw_decode_request refused with a code other than
 * ZMARSHALLINGERROR (zxid: zks_last_applied). 0 or -1. */
int zkw_encode_error(int32_t xid, int64_t zxid, int32_t err, struct zkw_buf *b);

/* ---- client side ------------------------------------------------------------ */

/* ConnectRequest frame from c->req (session_id, passwd, last_zxid_seen,
 * timeout_ms), c->protocol_version, and readOnly iff c->long_form. */
int zkw_encode_connect(const struct zkw_connect *c, struct zkw_buf *b);
/* RequestHeader{r->cxid, r->type} + body, multi with its sub-ops. NULL path
 * is written as a null ustring, NULL data as null, non-NULL data of length
 * 0 as an empty buffer. setAuth: path = scheme, data = auth. 0 or -1. */
int zkw_encode_request(const struct zk_request *r, struct zkw_buf *b);
/* SetWatches2 when the persistent or recursive list is non-empty, else
 * SetWatches. The sw->xid field is ignored (xid is the argument). */
int zkw_encode_set_watches(int32_t xid, const struct zks_set_watches *sw, struct zkw_buf *b);

enum zkw_reply_kind {
    ZKW_REPLY_NONE = 0,
    ZKW_REPLY_CONNECTED,
    ZKW_REPLY_REPLY,
    ZKW_REPLY_WATCH,
};

/* A decoded server frame; every pointer (strings, vectors) is into `mem`. */
struct zkw_reply {
    uint8_t kind;                    /* enum zkw_reply_kind */
    int32_t xid;                     /* REPLY, WATCH (-1) */
    int32_t op;                      /* REPLY: the op op_of_xid said */
    int64_t zxid;
    int32_t err;
    /* CONNECTED */
    struct zkp_connect_resp connect;
    bool long_form;
    /* REPLY with err == 0 (ping -2, auth -4, setWatches -8: no body) */
    struct zkp_response body;
    /* WATCH */
    struct zkp_watcher_event event;
    void *mem;                       /* private: owned storage */
};

/* ZOK or ZMARSHALLINGERROR. */
int zkw_decode_connect_resp(const uint8_t *payload, size_t len, struct zkw_reply *out);
/* A reply or notification frame payload. op_of_xid gives the op of an
 * outstanding xid >= 0 (or any xid not reserved); it may be NULL only if
 * the caller expects nothing but reserved xids. ZOK or ZMARSHALLINGERROR
 * (including an xid whose op op_of_xid returns as ZOO_ERROR_OP). */
int zkw_decode_reply(const uint8_t *payload, size_t len,
                     int32_t (*op_of_xid)(void *arg, int32_t xid), void *arg,
                     struct zkw_reply *out);
/* Safe on a zeroed struct and after a failed decode. */
void zkw_reply_free(struct zkw_reply *r);

#endif
