/* zk_types: the vocabulary of ZooKeeper's data model shared by the tree,
 * txns, request preparation, watches and sessions: error codes, opcodes,
 * create modes, ACL permissions and ids, watch event types, the Stat record,
 * and the plain request/result structs the leader's prep step consumes.
 *
 * Owns: constants and plain structs only (no functions with state).
 * Never: depend on wire encoding (core/zk_proto.h maps to it), allocate,
 * or carry pointers that outlive the call they are passed to. */
#ifndef ZABLAB_CORE_ZK_TYPES_H
#define ZABLAB_CORE_ZK_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes as returned in ReplyHeader.err (KeeperException.Code). */
enum zk_err {
    ZOK = 0,
    ZSYSTEMERROR = -1,
    ZRUNTIMEINCONSISTENCY = -2,
    ZDATAINCONSISTENCY = -3,
    ZCONNECTIONLOSS = -4,
    ZMARSHALLINGERROR = -5,
    ZUNIMPLEMENTED = -6,
    ZOPERATIONTIMEOUT = -7,
    ZBADARGUMENTS = -8,
    ZUNKNOWNSESSION = -12,
    ZNEWCONFIGNOQUORUM = -13,
    ZRECONFIGINPROGRESS = -14,
    ZAPIERROR = -100,
    ZNONODE = -101,
    ZNOAUTH = -102,
    ZBADVERSION = -103,
    ZNOCHILDRENFOREPHEMERALS = -108,
    ZNODEEXISTS = -110,
    ZNOTEMPTY = -111,
    ZSESSIONEXPIRED = -112,
    ZINVALIDCALLBACK = -113,
    ZINVALIDACL = -114,
    ZAUTHFAILED = -115,
    ZSESSIONMOVED = -118,
    ZNOTREADONLY = -119,
    ZEPHEMERALONLOCALSESSION = -120,
    ZNOWATCHER = -121,
    ZREQUESTTIMEOUT = -122,
    ZRECONFIGDISABLED = -123,
    ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
    ZQUOTAEXCEEDED = -125,
    ZTHROTTLEDOP = -127,
};

/* Symbolic name of an error code ("NONODE"), "UNKNOWN" otherwise. */
const char *zk_err_name(int err);

/* Opcodes (ZooDefs.OpCode). */
enum zk_op {
    ZOO_NOTIFY_OP = 0,
    ZOO_CREATE_OP = 1,
    ZOO_DELETE_OP = 2,
    ZOO_EXISTS_OP = 3,
    ZOO_GETDATA_OP = 4,
    ZOO_SETDATA_OP = 5,
    ZOO_GETACL_OP = 6,
    ZOO_SETACL_OP = 7,
    ZOO_GETCHILDREN_OP = 8,
    ZOO_SYNC_OP = 9,
    ZOO_PING_OP = 11,
    ZOO_GETCHILDREN2_OP = 12,
    ZOO_CHECK_OP = 13,
    ZOO_MULTI_OP = 14,
    ZOO_CREATE2_OP = 15,
    ZOO_RECONFIG_OP = 16,
    ZOO_CHECK_WATCHES_OP = 17,
    ZOO_REMOVE_WATCHES_OP = 18,
    ZOO_CREATE_CONTAINER_OP = 19,
    ZOO_DELETE_CONTAINER_OP = 20,
    ZOO_CREATE_TTL_OP = 21,
    ZOO_MULTI_READ_OP = 22,
    ZOO_SETAUTH_OP = 100,
    ZOO_SETWATCHES_OP = 101,
    ZOO_SASL_OP = 102,
    ZOO_GET_EPHEMERALS_OP = 103,
    ZOO_GET_ALL_CHILDREN_NUMBER_OP = 104,
    ZOO_SETWATCHES2_OP = 105,
    ZOO_ADD_WATCH_OP = 106,
    ZOO_WHO_AM_I_OP = 107,
    ZOO_CREATE_SESSION_OP = -10,
    ZOO_CLOSE_SESSION_OP = -11,
    ZOO_ERROR_OP = -1,
};

/* CreateMode flags (CreateMode.java). */
enum zk_create_mode {
    ZOO_PERSISTENT = 0,
    ZOO_EPHEMERAL = 1,
    ZOO_PERSISTENT_SEQUENTIAL = 2,
    ZOO_EPHEMERAL_SEQUENTIAL = 3,
    ZOO_CONTAINER = 4,
    ZOO_PERSISTENT_WITH_TTL = 5,
    ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

/* ACL permission bits (ZooDefs.Perms). */
enum zk_perm {
    ZOO_PERM_READ = 1,
    ZOO_PERM_WRITE = 2,
    ZOO_PERM_CREATE = 4,
    ZOO_PERM_DELETE = 8,
    ZOO_PERM_ADMIN = 16,
    ZOO_PERM_ALL = 31,
};

/* Watch event types (Watcher.Event.EventType). */
enum zk_event {
    ZOO_EVENT_NONE = -1,
    ZOO_EVENT_CREATED = 1,
    ZOO_EVENT_DELETED = 2,
    ZOO_EVENT_DATA_CHANGED = 3,
    ZOO_EVENT_CHILD_CHANGED = 4,
    ZOO_EVENT_DATA_WATCH_REMOVED = 5,
    ZOO_EVENT_CHILD_WATCH_REMOVED = 6,
    ZOO_EVENT_PERSISTENT_WATCH_REMOVED = 7,
};

/* KeeperState value carried by every server-sent watch event. */
#define ZOO_STATE_SYNC_CONNECTED 3

/* WatcherType for checkWatches/removeWatches. */
enum zk_watcher_type {
    ZOO_WATCHER_CHILDREN = 1,
    ZOO_WATCHER_DATA = 2,
    ZOO_WATCHER_ANY = 3,
    ZOO_WATCHER_PERSISTENT = 4,
    ZOO_WATCHER_PERSISTENT_RECURSIVE = 5,
};

/* addWatch modes (AddWatchMode). */
enum zk_add_watch_mode {
    ZOO_ADD_WATCH_PERSISTENT = 0,
    ZOO_ADD_WATCH_PERSISTENT_RECURSIVE = 1,
};

/* Special ephemeralOwner values (EphemeralType): a container node, and a
 * TTL node: top byte 0xff (extended), next byte 0x00 (TTL feature), low 48
 * bits the TTL in ms. */
#define ZK_OWNER_CONTAINER ((int64_t)INT64_MIN)
#define ZK_OWNER_EXT_MASK ((uint64_t)0xffff000000000000ull)
#define ZK_OWNER_TTL_BITS ((uint64_t)0xff00000000000000ull)
#define ZK_TTL_MAX_MS ((int64_t)0x0000ffffffffffffll)

/* Bounds. A path longer than ZK_PATH_MAX is rejected with BADARGUMENTS
 * (ZooKeeper has no such limit below jute.maxbuffer; see docs/semantics.md). */
#define ZK_PATH_MAX 4096u
#define ZK_DATA_MAX_DEFAULT 0xfffffu /* jute.maxbuffer: 1 MiB - 1 */
#define ZK_SCHEME_MAX 32u
#define ZK_ID_MAX 256u
#define ZK_ACL_MAX 32u
#define ZK_MULTI_MAX 1024u
#define ZK_AUTH_MAX 8u

/* A principal: scheme ("world", "digest", "ip", "auth", "super") and id. */
struct zk_id {
    char scheme[ZK_SCHEME_MAX];
    char id[ZK_ID_MAX];
};

struct zk_acl {
    int32_t perms;
    struct zk_id id;
};

/* The Stat record, field order as in jute (68 bytes on the wire). */
struct zk_stat {
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

/* A write request as the leader's prep step sees it: decoded from the wire
 * by someone else. Strings are NUL-terminated; pointers are borrowed. */
struct zk_request {
    int32_t type;          /* enum zk_op */
    int64_t session_id;
    int32_t cxid;
    const char *path;
    const uint8_t *data;
    uint32_t data_len;
    const struct zk_acl *acl;
    uint32_t acl_count;
    int32_t flags;         /* enum zk_create_mode */
    int32_t version;       /* expected version, -1 = any */
    int64_t ttl_ms;        /* createTTL only; -1 otherwise */
    int32_t timeout_ms;    /* createSession only: negotiated timeout */
    const struct zk_request *ops; /* multi only */
    uint32_t op_count;
    /* The connection's authenticated ids (ip, digest, super): checked
     * against ACLs and substituted for the "auth" scheme. */
    const struct zk_id *auth;
    uint32_t auth_count;
    uint64_t owner;        /* server/connection that owns the session */
};

#endif
