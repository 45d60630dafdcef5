/* zks_harness: an in-memory ensemble of zk_servers for tests: one global
 * FIFO of peer messages (so every link is FIFO), links that can be held
 * (messages wait, nothing is lost), instant disks whose completions are
 * delivered as the next events, one shared clock advanced explicitly, and
 * a recording of every client output (with copies of its strings) plus a
 * tiny client table (session, password, last zxid seen per connection).
 * Test code only. */
#ifndef ZABLAB_TESTS_ZKS_HARNESS_H
#define ZABLAB_TESTS_ZKS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/zk_server.h"

#define ZKSH_N_MAX 5
#define ZKSH_CLIENTS_MAX 256
#define ZKSH_STR_MAX 512
#define ZKSH_OPS_MAX 16

struct zksh_rec {
    uint64_t seq;
    uint8_t kind;              /* enum zks_out_kind */
    int srv;
    uint64_t conn;
    int32_t xid, op, err;
    int64_t zxid;
    int32_t event;
    int32_t timeout_ms;
    int64_t session_id;
    bool read_only;            /* CONNECTED: a read-only session */
    uint8_t passwd[SESSION_PASSWD_LEN];
    char path[ZKSH_STR_MAX];
    bool has_stat;
    struct zk_stat stat;
    char data[ZKSH_STR_MAX];
    uint32_t data_len;
    char strs[ZKSH_STR_MAX];   /* list joined with ',' */
    uint32_t n_strs;
    uint32_t n_ops;
    struct { int32_t type, err; char path[64]; } ops[ZKSH_OPS_MAX];
    int32_t number;
    uint32_t acl_count, n_ids;
};

struct zksh_client {
    uint64_t conn;
    int srv;
    bool open;
    int64_t session;
    uint8_t passwd[SESSION_PASSWD_LEN];
    int64_t last_zxid;
};

struct zksh_msg {
    int from, to;
    uint8_t *bytes;
    size_t len;
};

struct zksh_disk {
    uint8_t *log;
    size_t log_len;
    uint8_t *snap;
    size_t snap_len;
    bool has_acc, has_cur;
    uint64_t acc, cur;
};

struct zksh {
    int n;
    uint64_t now_ms;
    struct zks_config cfg;     /* template; id filled per server */
    struct zk_server srv[ZKSH_N_MAX + 1];
    bool up[ZKSH_N_MAX + 1];
    uint64_t timer_ms[ZKSH_N_MAX + 1];
    struct zksh_disk disk[ZKSH_N_MAX + 1];
    bool hold[ZKSH_N_MAX + 1][ZKSH_N_MAX + 1];
    struct zksh_msg *msgs;
    uint32_t n_msgs, msgs_cap;
    struct { int srv; uint64_t op_id; } *dq;
    uint32_t n_dq, dq_cap;
    struct zksh_rec *recs;
    uint32_t n_recs, recs_cap;
    struct zksh_client clients[ZKSH_CLIENTS_MAX];
    uint64_t seq;
    bool connect_read_only;    /* zksh_connect asks for read-only sessions */
};

/* n servers (tick 100 ms, sessions 200..2000 ms); runs until every server
 * serves. False if that does not happen within 20 simulated seconds. */
bool zksh_init(struct zksh *h, int n);
/* As zksh_init with roles[id] (enum quorum_role) for ids 1..n. */
bool zksh_init_roles(struct zksh *h, int n, const uint8_t *roles);
/* True once every server that is up serves clients. */
bool zksh_all_serving(const struct zksh *h);
void zksh_free(struct zksh *h);

/* Delivers messages and disk completions until none is left (held links
 * keep theirs). No time passes. */
void zksh_settle(struct zksh *h);
/* Moves the clock forward by ms, firing timers in order and settling. */
void zksh_advance(struct zksh *h, uint64_t ms);
int zksh_leader(const struct zksh *h);
/* A server other than the leader (the first one up). */
int zksh_follower(const struct zksh *h, int skip);

/* Clients. The conn id is the caller's choice (unique across the test). */
int zksh_connect(struct zksh *h, int srv, uint64_t conn, int64_t session, const uint8_t *passwd,
                 int64_t last_zxid, int32_t timeout_ms);
/* New session on srv; settles; returns the session id (0 if refused). */
int64_t zksh_open(struct zksh *h, int srv, uint64_t conn);
/* Reconnects the session of old_conn on srv as new_conn; settles; returns
 * zks_client_connect's value. */
int zksh_reconnect(struct zksh *h, uint64_t old_conn, int srv, uint64_t new_conn);
int zksh_request(struct zksh *h, uint64_t conn, const struct zk_request *req);
void zksh_disconnect(struct zksh *h, uint64_t conn);
struct zksh_client *zksh_client(struct zksh *h, uint64_t conn);

/* A request with version -1, ttl -1 and OPEN_ACL_UNSAFE when acl is needed. */
struct zk_request zksh_rq(int32_t type, int32_t xid, const char *path);
extern const struct zk_acl zksh_open_acl;

/* Shortcuts that send and settle; return the reply's err (or INT32_MIN if
 * there is no reply). */
int zksh_create(struct zksh *h, uint64_t conn, int32_t xid, const char *path, const char *data,
                int32_t flags);
int zksh_get(struct zksh *h, uint64_t conn, int32_t xid, const char *path, bool watch);

/* Records: the first one of kind for conn with xid (xid ignored for
 * CONNECTED/WATCH/CLOSE when xid == INT32_MIN); NULL if none. */
const struct zksh_rec *zksh_find(const struct zksh *h, uint8_t kind, uint64_t conn, int32_t xid);
/* Index of a record (for order checks), or -1. */
int zksh_index(const struct zksh *h, const struct zksh_rec *r);
uint32_t zksh_count(const struct zksh *h, uint8_t kind, uint64_t conn);

/* Faults. */
void zksh_hold(struct zksh *h, int from, int to, bool on);
void zksh_crash(struct zksh *h, int srv);
void zksh_restart(struct zksh *h, int srv);

#endif
