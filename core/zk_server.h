/* zk_server: one ZooKeeper server = one replica (core/replica.h) + the
 * ZooKeeper state machine (core/zk_sm.h) + its client connections, as one
 * sans-I/O state machine. Inputs in (everything the replica takes, plus
 * client connect / request / disconnect), one output batch out: the
 * replica's peer and disk actions, and client outputs (connect responses,
 * replies, watch notifications, "close this connection").
 *
 * Owns: the replica, the leader's prep overlay and session tracker, the
 * watch manager, connections and their per-session request queues, the
 * zks_ peer-message layer (forwarded requests, session touches,
 * revalidation, sync), and the output batch.
 * Never: read a clock, draw a random number, touch a file or socket, or
 * depend on pointer values. The state is plain data; zks_clone deep-copies.
 *
 * ---- Driver contract ---------------------------------------------------
 * Call an input, then read zks_output(), carry out its actions exactly as
 * the replica's contract says (core/replica.h: SEND, DISCONNECT, disk ops,
 * disk completions reported with zks_on_disk_done in order), deliver the
 * client outputs to their connections in batch order, then call
 * zks_output_clear(). Peer messages in SEND actions already carry this
 * layer's one-byte tag: hand received bytes to zks_on_message unchanged.
 * A client output never depends on an incomplete disk op (a write is
 * answered only after it is committed, i.e. durable on a quorum), so the
 * driver may deliver client outputs as soon as it reads them.
 *
 * Client outputs of one connection must be delivered in batch order: a
 * watch notification always comes before the reply of any read that
 * observes the change. After a CLOSE output the driver closes the socket
 * (after flushing what was queued before it) and must not call
 * zks_client_disconnect for that connection (the server already forgot it).
 * A connection the peer closes is reported with zks_client_disconnect.
 *
 * Connection ids are chosen by the driver (any non-zero uint64_t, unique
 * among this server's open connections). Times are the node's local clock
 * in milliseconds.
 * ------------------------------------------------------------------------ */
#ifndef ZABLAB_CORE_ZK_SERVER_H
#define ZABLAB_CORE_ZK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/prep.h"
#include "core/replica.h"
#include "core/session.h"
#include "core/watch.h"
#include "core/zk_sm.h"
#include "core/zk_types.h"

/* Bounds (every one is a config field; 0 = this default). */
#define ZKS_CONNS_MAX_DEFAULT 1024u           /* client connections per server */
#define ZKS_OUTSTANDING_PER_CONN_DEFAULT 1000u /* queued + in-flight requests per connection */
#define ZKS_FORWARDED_MAX_DEFAULT 8192u       /* writes/syncs in flight from this server */
#define ZKS_SECRET_MAX 64u
#define ZKS_TAG_REPLICA 0x5au                 /* first byte of a replica (FLE/ZAB) message */
#define ZKS_TAG_SERVER 0xa5u                  /* first byte of a zk_server-layer message */

/* The plain ZooKeeper state machine in struct sm_ops form (for drivers that
 * run a bare replica over the znode tree). zk_server plugs in its own
 * wrapper around the same functions, which also answers clients. */
extern const struct sm_ops zk_sm_ops;

struct zks_config {
    struct replica_config rep;        /* .sm is ignored: the server plugs its own in */
    struct prep_config prep;
    int32_t min_session_timeout_ms;   /* 0: 2 x tick */
    int32_t max_session_timeout_ms;   /* 0: 20 x tick */
    uint32_t max_sessions;            /* leader's tracker; 0: SESSION_MAX_DEFAULT */
    uint32_t conns_max;               /* 0: ZKS_CONNS_MAX_DEFAULT */
    uint32_t outstanding_per_conn_max;/* 0: ZKS_OUTSTANDING_PER_CONN_DEFAULT */
    uint32_t forwarded_max;           /* 0: ZKS_FORWARDED_MAX_DEFAULT */
    uint32_t watches_per_conn_max;    /* 0: WATCH_MAX_PER_CONN_DEFAULT */
    /* ZooKeeper's readonlymode.enabled: a server that has been LOOKING for
     * read_only_delay_ms (0: max(2000 ms, one tick), ZooKeeper's wait)
     * takes readOnly=true connects as read-only sessions (see
     * zks_client_connect). */
    bool read_only_enabled;
    uint32_t read_only_delay_ms;
    /* Ensemble-wide key for session passwords: identical on every server, so
     * a session can reconnect anywhere. */
    uint8_t secret[ZKS_SECRET_MAX];
    uint32_t secret_len;
};

/* ---- client inputs ---------------------------------------------------- */

/* A ConnectRequest. */
struct zks_connect_req {
    int64_t session_id;               /* 0 = new session */
    uint8_t passwd[SESSION_PASSWD_LEN];
    int64_t last_zxid_seen;
    int32_t timeout_ms;               /* requested; negotiated into [min, max] */
    bool read_only;                   /* the client accepts a read-only session */
    const struct zk_id *auth;         /* ids the driver vouches for (e.g. ip); copied, <= ZK_AUTH_MAX */
    uint32_t auth_count;
};

/* SetWatches / SetWatches2 (xid -8), sent by a client after reconnecting. */
struct zks_set_watches {
    int32_t xid;
    int64_t relative_zxid;
    struct watch_list data, exist, child, persistent, recursive;
};

/* ---- client outputs --------------------------------------------------- */

enum zks_out_kind {
    /* ConnectResponse: timeout_ms, session_id, passwd. timeout_ms == 0 means
     * the session is expired or invalid (session_id 0, zero passwd); a
     * CLOSE follows. */
    ZKS_OUT_CONNECTED = 1,
    /* ReplyHeader{xid, zxid, err} + the op's response body when err == 0
     * (multi: err is 0 and the per-op results carry the errors). */
    ZKS_OUT_REPLY,
    /* Notification (xid -1): event, path, zxid of the change; state is
     * always SyncConnected. */
    ZKS_OUT_WATCH,
    /* Close the connection after sending everything before this output.
     * err says why: ZOK (closeSession done), ZSESSIONEXPIRED, ZSESSIONMOVED,
     * ZCONNECTIONLOSS (server not serving / lost its leader / refused this
     * client: try another server), ZTHROTTLEDOP (a bound was hit),
     * ZAUTHFAILED, ZMARSHALLINGERROR (a request the server cannot parse). */
    ZKS_OUT_CLOSE,
};

/* A string inside the output batch (not NUL-terminated; valid until
 * zks_output_clear). off is internal. */
struct zks_str {
    const char *s;
    uint32_t len;
    uint32_t off;
};

/* One op of a multi or multiRead reply: type is the op, or ZOO_ERROR_OP
 * with err set (multi: the multi failed, err is OK before the failing op,
 * its code, and RUNTIMEINCONSISTENCY after; multiRead: that read failed,
 * the others stand on their own). */
struct zks_op_result {
    int32_t type;
    int32_t err;
    struct zks_str path;              /* create*: the created path */
    struct zk_stat stat;              /* create2/createTTL/createContainer, setData, getData */
    const uint8_t *data;              /* multiRead getData */
    uint32_t data_len;
    const struct zks_str *strs;       /* multiRead getChildren: the children */
    uint32_t n_strs;
    uint32_t data_off, strs_first;    /* internal */
};

struct zks_out {
    uint8_t kind;                     /* enum zks_out_kind */
    uint64_t conn;
    int32_t xid;                      /* REPLY */
    int32_t op;                       /* REPLY: the request's op (enum zk_op) */
    int64_t zxid;                     /* REPLY: server's last applied zxid; WATCH: the change's */
    int32_t err;                      /* REPLY: header err; CLOSE: reason */
    /* CONNECTED */
    int32_t timeout_ms;
    int64_t session_id;
    uint8_t passwd[SESSION_PASSWD_LEN];
    bool read_only;                   /* a read-only session (ConnectResponse readOnly) */
    /* WATCH */
    int32_t event;                    /* enum zk_event */
    /* REPLY bodies (which fields are set depends on op; see
     * docs/server-pipeline.md):
     *   create/createContainer/createTTL: path; create2: path + stat
     *   setData, setACL, exists: stat; getData: data + stat
     *   getChildren: strs; getChildren2: strs + stat; getEphemerals: strs
     *   getACL: acl + stat; getAllChildrenNumber: number
     *   multi, multiRead: ops; sync: path; whoAmI: ids
     *   delete, check, closeSession, ping, setWatches, addWatch,
     *   checkWatches, removeWatches, setAuth: header only. */
    bool has_stat;
    struct zk_stat stat;
    struct zks_str path;              /* also WATCH's path */
    const uint8_t *data;
    uint32_t data_len;
    const struct zks_str *strs;
    uint32_t n_strs;
    const struct zk_acl *acl;
    uint32_t acl_count;
    const struct zks_op_result *ops;
    uint32_t n_ops;
    const struct zk_id *ids;
    uint32_t n_ids;
    int32_t number;
    /* internal: offsets of the above in the batch's arenas */
    uint32_t data_off, strs_first, acl_first, ops_first, ids_first;
};

struct zks_output {
    /* Replica and server-layer actions, in order (replica.h's contract). */
    const struct rep_action *actions;
    uint32_t n_actions;
    /* Client outputs, in order. */
    const struct zks_out *client;
    uint32_t n_client;
    /* The replica's trace events of this batch. */
    const struct rep_event *events;
    uint32_t n_events;
    uint32_t n_events_dropped;
    uint64_t timer_ms;                /* absolute; 0 = none wanted */
};

/* ---- internal state (read-only outside core; plain data) -------------- */

enum zks_conn_state {
    ZKS_CONN_FREE = 0,
    ZKS_CONN_NEW,                     /* createSession submitted, waiting for its commit */
    ZKS_CONN_REVALIDATE,              /* reconnect: waiting for the leader's verdict */
    ZKS_CONN_OPEN,                    /* session established: requests flow */
};

/* One request of a connection's queue, in arrival order. */
struct zks_pending {
    int32_t xid;
    int32_t op;
    uint8_t stage;                    /* private (zk_server.c) */
    int32_t err;                      /* result when done without a txn */
    uint64_t wait_zxid;               /* sync: answer once applied >= this */
    uint8_t *req;                     /* encoded request while it waits (heap) */
    uint32_t req_len;
    uint32_t out_idx;                 /* private */
};

struct zks_conn {
    uint64_t id;                      /* 0 = free slot */
    uint8_t state;                    /* enum zks_conn_state */
    bool touched;                     /* activity since the last touch flush */
    int64_t session_id;
    int32_t timeout_ms;
    uint32_t auth_count;
    struct zk_id auth[ZK_AUTH_MAX];
    bool needs_submit;                /* queued writes wait for submission (private) */
    bool read_only;                   /* a read-only session: reads only, never the leader's */
    struct zks_pending *q;            /* ring, grown up to outstanding_per_conn_max */
    uint32_t q_head, q_n, q_cap;
};

/* Output arenas, grown on demand (memory held from batch to batch). */
struct zks_outbuf {
    struct rep_action *actions;
    uint32_t n_actions, actions_cap;
    struct zks_out *client;
    uint32_t n_client, client_cap;
    struct rep_event *events;
    uint32_t n_events, events_cap, n_events_dropped;
    uint8_t *bytes;                   /* SEND/disk bytes and client strings/data */
    size_t bytes_used, bytes_cap;
    struct zks_str *strs;
    uint32_t n_strs, strs_cap;
    struct zk_acl *acls;
    uint32_t n_acls, acls_cap;
    struct zks_op_result *ops;
    uint32_t n_ops, ops_cap;
    struct zk_id *ids;
    uint32_t n_ids, ids_cap;
    struct zks_output out;
};

struct zk_server {
    struct zks_config cfg;
    struct replica rep;
    /* Role as this layer last saw it: a change closes every connection. */
    bool serving;
    uint8_t serve_state;              /* enum rep_state while serving */
    uint64_t serve_epoch;             /* replica's current epoch while serving */
    int serve_leader;
    /* leader only (valid while serving as leader) */
    struct prep prep;
    struct session_tracker tracker;
    bool tracker_live;
    uint8_t *txn_buf;
    size_t txn_cap;
    /* every server */
    struct watch_mgr watches;
    struct watch_out wout;            /* scratch for triggers */
    struct zks_conn *conns;           /* capacity conns_max */
    uint32_t conn_count;
    uint32_t conn_high;               /* slots at or above this are free (bounds scans) */
    int64_t next_session_id;
    uint32_t forwarded;               /* writes/syncs in flight from this server */
    uint64_t touch_at_ms;             /* follower: next touch flush */
    uint32_t sync_waiting;            /* queue entries waiting for an applied zxid */
    bool submit_pending;              /* some connection has needs_submit */
    bool expire_retry;                /* leader: a closeSession could not be proposed */
    uint64_t now_ms;                  /* time of the current input */
    bool looking;                     /* the replica is LOOKING (read-only mode may apply) */
    uint64_t looking_since_ms;
    int64_t *scratch_ids;             /* conns_max: expired sessions / touches */
    struct zks_outbuf ob;
    char last_error[160];             /* last internal problem, for traces */
};

/* ---- lifecycle ---------------------------------------------------------- */

/* 0, or a REP_ERR_* / -1 with a message. Must be freed with zks_free. */
int zks_init(struct zk_server *s, const struct zks_config *cfg, char *err, size_t errlen);
void zks_free(struct zk_server *s);
/* Deep copy (the explorer copies whole servers); dst uninitialised. 0 or -1.
 * The copy starts with an empty output batch: copy between batches. */
int zks_clone(struct zk_server *dst, const struct zk_server *src);
/* As replica_start; every connection is forgotten (a restart). */
int zks_start(struct zk_server *s, uint64_t now_ms, const struct replica_durable *d,
              char *err, size_t errlen);

/* ---- replica inputs (peer bytes arrive with their layer tag) ---------- */
void zks_on_message(struct zk_server *s, uint64_t now_ms, int from_id, const uint8_t *msg, size_t len);
void zks_on_conn_break(struct zk_server *s, uint64_t now_ms, int peer_id);
void zks_on_timer(struct zk_server *s, uint64_t now_ms);
void zks_on_disk_done(struct zk_server *s, uint64_t now_ms, uint64_t op_id);

/* ---- client inputs ------------------------------------------------------- */

/* A new connection sends its ConnectRequest. ZOK: accepted, a CONNECTED
 * follows in this or a later batch (after the createSession commits, or the
 * leader revalidates the session) - possibly an expired one (timeout 0)
 * followed by a CLOSE. Otherwise the outcome is already in the batch:
 *   ZCONNECTIONLOSS  CLOSE: not serving, or the client has seen a zxid this
 *                    server has not applied yet (it must try another one)
 *   ZTHROTTLEDOP     CLOSE: conns_max, forwarded_max or the tracker is full
 *   ZAUTHFAILED      CLOSE: more than ZK_AUTH_MAX driver ids
 *   ZSESSIONEXPIRED  CONNECTED(timeout 0) + CLOSE: bad password, or (on the
 *                    leader) a session that is unknown or closing
 *   ZBADARGUMENTS    no output: conn id 0 or already open here.
 * Read-only mode (cfg.read_only_enabled, zks_read_only_mode true): a
 * connect with read_only set is answered at once with a read-only
 * CONNECTED (read_only true): a new session gets a local id that no other
 * server knows; a known session id with its right password keeps it. The
 * session serves reads (and watches) from the last applied state; writes,
 * multi and sync are answered ZNOTREADONLY, closeSession closes only the
 * connection. Nothing of it reaches the leader. When the replica leaves
 * LOOKING, every read-only connection is closed (ZCONNECTIONLOSS): clients
 * reconnect and, on a serving server, get real sessions (a local id is
 * answered as expired there, so the client starts a new session). A connect
 * without read_only is refused while not serving, as before. */
int zks_client_connect(struct zk_server *s, uint64_t now_ms, uint64_t conn_id,
                       const struct zks_connect_req *req);

/* One request on a connection (opened or opening). req->cxid is the xid,
 * req->type the op; req->session_id, auth and owner are ignored (the
 * connection's are used). Fields by op, beyond zk_request's write fields:
 *   exists, getData, getChildren, getChildren2: flags = 1 to set a watch
 *   checkWatches, removeWatches: flags = WatcherType (enum zk_watcher_type)
 *   addWatch: flags = mode (enum zk_add_watch_mode)
 *   getEphemerals: path = prefix (NULL/"/" = all)
 *   setAuth (100): path = scheme, data/data_len = auth bytes ("digest":
 *       "user:password"); a bad one answers AUTHFAILED and closes
 *   ping (11), sync (9), whoAmI (107), getACL, getAllChildrenNumber,
 *   create*, delete, setData, setACL, multi (ops/op_count), closeSession.
 *   multiRead (22): ops/op_count of getData and getChildren (flags = 1 to
 *       set a watch), answered from the local tree like any read: one
 *       result per op, a failed op as ZOO_ERROR_OP with its code (the
 *       reply's header err stays OK); another op type answers ZBADARGUMENTS.
 * Replies come in request order (pings and setAuth, which ZooKeeper clients
 * do not queue, are answered at once). ZOK if taken; otherwise the request
 * was refused as a whole and a CLOSE is in the batch (unknown connection
 * gives ZBADARGUMENTS and no output). */
int zks_client_request(struct zk_server *s, uint64_t now_ms, uint64_t conn_id,
                       const struct zk_request *req);
/* SetWatches/SetWatches2 (the lists are copied). Queued like a request. */
int zks_client_set_watches(struct zk_server *s, uint64_t now_ms, uint64_t conn_id,
                           const struct zks_set_watches *sw);
/* The client's socket closed: its watches and queue are dropped; the session
 * lives on until it expires or the client reconnects. */
void zks_client_disconnect(struct zk_server *s, uint64_t now_ms, uint64_t conn_id);

/* ---- output ----------------------------------------------------------- */
const struct zks_output *zks_output(struct zk_server *s);
void zks_output_clear(struct zk_server *s);

/* ---- queries -------------------------------------------------------------- */
static inline const struct replica *zks_replica(const struct zk_server *s) { return &s->rep; }
/* The applied state machine (tree + committed sessions). */
const struct zk_sm *zks_sm(const struct zk_server *s);
/* Serving clients: in BROADCAST (as an established leader, follower or observer). */
static inline bool zks_serving(const struct zk_server *s) { return s->serving; }
/* Read-only mode: enabled, not serving, LOOKING for at least the delay
 * (ZooKeeper's ReadOnlyZooKeeperServer is up; isro answers "ro"). */
bool zks_read_only_mode(const struct zk_server *s, uint64_t now_ms);
/* Last applied zxid (the state machine's; what replies carry). */
uint64_t zks_last_applied(const struct zk_server *s);
static inline uint32_t zks_conn_count(const struct zk_server *s) { return s->conn_count; }
/* Session of an open connection (0 if none or unknown), and its queue length
 * (a driver can stop reading a socket near outstanding_per_conn_max). */
int64_t zks_conn_session(const struct zk_server *s, uint64_t conn_id);
uint32_t zks_conn_outstanding(const struct zk_server *s, uint64_t conn_id);
/* Password the ensemble derives for a session id (tests, tools). */
void zks_session_password(const struct zk_server *s, int64_t session_id,
                          uint8_t out[SESSION_PASSWD_LEN]);
const char *zks_out_kind_name(int kind);
/* A hash of this layer's state plus the replica's digest and zxids, for an
 * explorer's visited set: connections and their queues (ids, stages,
 * xids), the leader's tracker (ids, expiries, owners, closing), counters.
 * Equal states give equal hashes on every host. */
uint64_t zks_state_hash(const struct zk_server *s);
/* One line for traces, e.g. "REPLY conn=11 xid=1 op=1 err=OK zxid=0x100000002
 * path=/a"; always NUL-terminates; call after zks_output (pointers resolved). */
char *zks_out_describe(const struct zks_out *o, char *buf, size_t cap);

#endif
