/* sim/client: simulated ZooKeeper client processes that speak the wire
 * protocol to the simulated ensemble (sim/cluster.h with zk on), with the
 * behaviour of ZooKeeper 3.8's ClientCnxn: random server order, connect and
 * read timeouts, pings when idle, pipelined requests answered in xid order,
 * failover to another server with the same session (lastZxidSeen, password,
 * setWatches), SESSIONEXPIRED ends the session.
 *
 * Owns: every client of a run, their connections' client ends, pending
 * request queues, watch registrations, a one-shot timer pool for workloads
 * and recipes, the "clients" rng stream, and the client history (in memory,
 * and optionally as JSON Lines through chk_writer).
 * Must never: reach into a server's state (only frames over the simulated
 * network), read the wall clock, or draw from any other rng stream (adding
 * clients must not change the network's or the faults' draws).
 *
 * Clients are network endpoints n .. n+clients-1 (n = servers). Callbacks
 * run from inside the cluster's event loop: they may issue new requests and
 * timers, never step the cluster. Pointers in a simc_result are valid only
 * during the callback. */
#ifndef ZABLAB_SIM_CLIENT_H
#define ZABLAB_SIM_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check/history.h"
#include "core/zk_types.h"
#include "sim/cluster.h"
#include "sim/sched.h"

#define SIMC_CLIENTS_MAX 512       /* clients in one run */
#define SIMC_PENDING_MAX 256       /* requests in flight per client; beyond: ZTHROTTLEDOP */
#define SIMC_TIMERS_MAX 4096       /* simc_after pool; full -> -1 */
#define SIMC_WATCHES_MAX 1024      /* registered one-shot watches per client (re-sent on reconnect) */

struct sim_clients;                 /* every client of a run; owns a derived rng stream "clients" */
struct sim_client;                  /* one client process: at most one session at a time */

enum simc_state {
    SIMC_IDLE,                      /* no session yet */
    SIMC_CONNECTING,                /* looking for a server for a new or existing session */
    SIMC_CONNECTED,
    SIMC_DISCONNECTED,              /* conn lost, session may live: reconnecting */
    SIMC_EXPIRED,                   /* the server said SESSIONEXPIRED; connect again for a new one */
    SIMC_CLOSED,                    /* closeSession done (or given up) */
};

/* One op of a multi's result. */
struct simc_sub { int32_t type, err; const char *path; struct zk_stat stat; };

/* A completed request. err: the reply's error (multi: first failing op's
 * error, 0 if all succeeded), or ZCONNECTIONLOSS / ZSESSIONEXPIRED /
 * ZTHROTTLEDOP / ZBADARGUMENTS from the client itself. zxid: the reply
 * header's zxid (0 when no reply came). path: create's created path, sync's
 * path. */
struct simc_result {
    int32_t err;
    uint64_t zxid;
    const char *path;
    const uint8_t *data;
    uint32_t data_len;
    bool has_stat;
    struct zk_stat stat;
    const char *const *children;
    uint32_t n_children;
    const struct simc_sub *subs;
    uint32_t n_subs;
};                                  /* valid during the callback */

typedef void simc_done_fn(void *arg, struct sim_client *cl, const struct simc_result *r);
typedef void simc_watch_fn(void *arg, struct sim_client *cl, int32_t event_type, const char *path);
typedef void simc_state_fn(void *arg, struct sim_client *cl, enum simc_state st);

/* Clients for cluster c (which must run with cfg.zk and have endpoints for
 * them: cluster_config.clients >= n_clients). Takes over c's user_event hook
 * for its own events (chaining the previous one). NULL on bad arguments or
 * out of memory. */
struct sim_clients *simc_new(struct cluster *c, int n_clients, int32_t session_timeout_ms,
                             FILE *history_out /* NULL ok */);
void simc_free(struct sim_clients *cs);
int simc_count(const struct sim_clients *cs);
struct sim_client *simc_get(struct sim_clients *cs, int index);          /* 0-based */
int simc_index(const struct sim_client *cl);                             /* 0-based */
int64_t simc_process(const struct sim_client *cl);                       /* history process id */
void simc_set_callbacks(struct sim_client *cl, simc_state_fn *st, simc_watch_fn *w, void *arg);

/* All requests return 0 when queued (done will be called exactly once,
 * possibly with ZCONNECTIONLOSS), or a negative ZooKeeper error and no
 * callback: ZSESSIONEXPIRED/ZCONNECTIONLOSS when there is no session
 * (IDLE/EXPIRED/CLOSED), ZTHROTTLEDOP when the pending queue is full,
 * ZBADARGUMENTS on a bad argument. done may be NULL. Requests issued while
 * CONNECTING/DISCONNECTED are queued and sent once connected. */
int simc_connect(struct sim_client *cl);             /* new session on a random server */
int simc_create(struct sim_client *cl, const char *path, const void *data, uint32_t len,
                int32_t mode, simc_done_fn *done, void *arg);
int simc_delete(struct sim_client *cl, const char *path, int32_t version, simc_done_fn *done,
                void *arg);
int simc_set_data(struct sim_client *cl, const char *path, const void *data, uint32_t len,
                  int32_t version, simc_done_fn *done, void *arg);
int simc_get_data(struct sim_client *cl, const char *path, bool watch, simc_done_fn *done,
                  void *arg);
int simc_exists(struct sim_client *cl, const char *path, bool watch, simc_done_fn *done, void *arg);
int simc_get_children(struct sim_client *cl, const char *path, bool watch, simc_done_fn *done,
                      void *arg);
int simc_sync(struct sim_client *cl, const char *path, simc_done_fn *done, void *arg);
/* ops: create/delete/setData/check requests (type, path, data, flags =
 * create mode, version). At most CHK_SUBS_MAX ops. */
int simc_multi(struct sim_client *cl, const struct zk_request *ops, uint32_t n, simc_done_fn *done,
               void *arg);
int simc_close(struct sim_client *cl, simc_done_fn *done, void *arg);   /* closeSession */

enum simc_state simc_state(const struct sim_client *cl);
int64_t simc_session(const struct sim_client *cl);
/* Server (1-based) the client is connected or connecting to; 0 if none. */
int simc_server(const struct sim_client *cl);
/* Requests issued and not yet completed. */
uint32_t simc_pending(const struct sim_client *cl);

/* A one-shot timer for workloads and recipes (bounded pool; -1 when full,
 * else a handle >= 0). */
int simc_after(struct sim_clients *cs, sim_time_ns delay, void (*fn)(void *arg), void *arg);
sim_time_ns simc_now(const struct sim_clients *cs);
struct cluster *simc_cluster(struct sim_clients *cs);
struct chk_history *simc_history(struct sim_clients *cs);              /* recorded so far */

/* no-lost-writes: every write a client saw succeed is, on every server that
 * is up and in BROADCAST (and on the leader), in the log at the reply's zxid
 * with the same txn (session and cxid), or already in its snapshot. Returns
 * 0 (holds), 1 (violated: detail says which write and server), or -1 when
 * it cannot judge (no server in BROADCAST; detail says why). */
int simc_check_no_lost_writes(struct sim_clients *cs, char *detail, size_t len);
/* Writes acknowledged so far. */
uint32_t simc_acked_count(const struct sim_clients *cs);

/* Counters for summaries and tests. */
struct simc_stats {
    uint64_t requests, replies, conn_losses, connects, reconnects, refusals;
    uint64_t expiries, watches, pings, timeouts;
    uint64_t ops_ok, ops_fail, ops_info;
    uint64_t xid_out_of_order;        /* replies not in request order (must stay 0) */
};
const struct simc_stats *simc_stats(const struct sim_clients *cs);

#endif
