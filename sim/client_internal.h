/* sim/client_internal: the state of simulated clients, shared by
 * sim/client.c (connections, history) and sim/client_ops.c (requests,
 * results, watches, timers). Private to those two files. */
#ifndef ZABLAB_SIM_CLIENT_INTERNAL_H
#define ZABLAB_SIM_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/zk_wire.h"
#include "sim/client.h"
#include "sim/nlw.h"
#include "sim/rng.h"

enum { SIMC_EV_WAKE = CEV_CLIENT, SIMC_EV_TIMER };

#define SIMC_XID_PING (-2)
#define SIMC_XID_SET_WATCHES (-8)
#define SIMC_SPIN_MAX_NS (1000 * SIM_NS_PER_MS) /* ClientCnxn's random pause before a reconnect */

/* A request queued or in flight. */
struct simc_req {
    int32_t xid, op;
    enum chk_f f;                 /* CHK_F_NONE: not recorded */
    bool sent, watch;
    uint32_t lane;                /* history process lane */
    int64_t session;              /* the session it was sent on (0 until sent) */
    int64_t hist_session;         /* the session named in the history */
    uint8_t *frame;               /* encoded frame (heap) */
    uint32_t frame_len;
    char *path;                   /* for watch registration */
    chk_str inv_key;
    uint32_t inv_subs, n_subs;    /* the invocation's multi sub-ops in the history */
    simc_done_fn *done;
    void *arg;
};

/* Paths with a registered one-shot watch (re-sent with setWatches). */
enum { SIMC_W_DATA, SIMC_W_EXIST, SIMC_W_CHILD };
struct simc_watches {
    char **paths;
    uint32_t n, cap;
};

struct sim_client {
    struct sim_clients *cs;
    int k;
    enum simc_state st;
    int64_t session;
    uint8_t passwd[SESSION_PASSWD_LEN];
    int32_t timeout_ms;           /* negotiated (requested until connected) */
    int64_t last_zxid;
    int order[CLUSTER_SERVERS_MAX];
    uint32_t order_pos;
    int server;                   /* of the current connection */
    uint32_t gen;                 /* its net generation */
    bool conn_up, handshake, closing;
    sim_time_ns conn_started, last_recv, last_send, next_attempt_at;
    sim_time_ns wake_at;
    uint64_t wake_gen;
    bool wake_armed;
    int32_t next_xid;
    uint32_t sessions_begun;      /* provisional history session ids */
    /* A session's connection was lost: a `close` is invoked in the history
     * (the session may be expiring now); it ends ok on expiry, fail (did
     * not happen) on a successful reconnect. */
    bool close_pending;
    uint32_t close_lane;
    struct simc_req q[SIMC_PENDING_MAX];
    uint32_t q_head, q_n;
    bool lane_busy[SIMC_PENDING_MAX + 1];
    struct simc_watches w[3];
    simc_state_fn *on_state;
    simc_watch_fn *on_watch;
    void *cb_arg;
};

struct simc_timer {
    void (*fn)(void *arg);
    void *arg;
    uint64_t gen;
    bool used;
};

/* A write a client saw succeed (struct nlw_write, sim/nlw.h): what
 * no-lost-writes checks on the servers. */
#define SIMC_ACKED_MAX (1u << 22)

struct sim_clients {
    struct cluster *c;
    int n;
    struct sim_client *cl;
    int32_t session_timeout_ms;
    struct sim_rng rng;
    bool rng_open;
    struct chk_history *h;
    bool hist_full;
    FILE *out;
    struct zkw_buf buf;
    struct simc_timer timers[SIMC_TIMERS_MAX];
    uint32_t free_timers[SIMC_TIMERS_MAX];
    uint32_t n_free_timers;
    struct simc_stats stats;
    struct nlw_write *acked;
    uint32_t n_acked, acked_cap;
    bool acked_full;
};

/* client.c */
void simc_set_state(struct sim_client *cl, enum simc_state st);
int simc_submit(struct sim_client *cl, const struct zk_request *zr, enum chk_f f, bool watch,
                simc_done_fn *done, void *arg);
/* client_check.c */
uint64_t simc_find_close_zxid(struct cluster *c, int64_t session);
/* client_ops.c */
void simc_deliver_result(struct sim_client *cl, struct simc_req *head, const struct zkw_reply *rep);
void simc_complete_head(struct sim_client *cl, const struct simc_result *res, bool replied);
void simc_watches_clear(struct simc_watches *w);
void simc_watches_remove(struct simc_watches *w, const char *path);
void simc_timers_init(struct sim_clients *cs);
void simc_timer_fire(struct sim_clients *cs, uint32_t slot, uint64_t gen);

#endif
