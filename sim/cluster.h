/* A simulated ZooKeeper ensemble: N replicas of the core (core/replica.h)
 * on simulated nodes, disks and a FIFO network, driven by one scheduler and
 * checked after every event.
 *
 * Owns: the run's scheduler, random streams, network, disks, nodes and
 * replicas; the mapping of replica outputs to simulated I/O; fault
 * injection; the opaque-proposal workload; the liveness watch; the trace.
 * Must never: decide anything about the protocol (that is core/'s), read
 * the wall clock, or draw randomness outside its derived streams.
 *
 * Endpoint ids on the network: server s (1-based) is endpoint s-1; with
 * zk on, client k (0-based) is endpoint n+k.
 *
 * Two modes. Bare (cfg.zk false): every server is a bare replica over the
 * opaque state machine, fed by the opaque-proposal workload. zk: every
 * server is a zk_server (core/zk_server.h) and simulated clients
 * (sim/client.h) talk to it with wire frames; zk_server peer messages carry
 * a one-byte layer tag, which traces, holds and the step hook look past. */
#ifndef ZABLAB_SIM_CLUSTER_H
#define ZABLAB_SIM_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check/zab_invariants.h"
#include "core/replica.h"
#include "core/zk_server.h"
#include "net-model/net.h"
#include "sim/disk.h"
#include "sim/node.h"
#include "sim/rng.h"
#include "sim/sched.h"
#include "sim/trace.h"

#define CLUSTER_SERVERS_MAX REP_SERVERS_MAX
#define CLUSTER_PENDING_MAX 4096   /* proposals watched for liveness */
#define CLUSTER_DEFERRED_MAX 65536 /* events held for one stalled server */
#define CLUSTER_CLIENTS_MAX 512    /* client endpoints in zk mode */
#define CLUSTER_FAULT_RECS_MAX 512 /* faults remembered for results (all are traced) */

struct cluster_fault_rec { sim_time_ns t; int node; char what[16]; };

enum cluster_ev {
    CEV_NET_DELIVER = 1,
    CEV_NET_BROKEN,
    CEV_DISK_DONE,
    CEV_TIMER,        /* a = timer generation, b = incarnation */
    CEV_PROPOSE,      /* workload tick */
    CEV_CHECK,        /* periodic liveness check */
    CEV_RESUME,       /* node = server whose stall may be over */
    CEV_USER,         /* first kind free for layers above (faults, scripts) */
    /* Kinds from here on belong to the simulated clients (sim/client.c);
     * they go to client_event, never to user_event. */
    CEV_CLIENT = CEV_USER + 32,
};

struct cluster_config {
    uint64_t seed;
    int voters, observers;
    uint32_t tick_ms, init_limit, sync_limit;
    uint32_t bugs;                    /* ZAB_BUG_BIT set */
    struct net_latency net_latency;
    double loss_p;
    struct net_latency disk_write_latency, disk_fsync_latency;
    sim_time_ns run_ns;
    double propose_rate_per_s;        /* opaque workload; 0 = none */
    sim_time_ns liveness_bound_ns;    /* 0 = no liveness check */
    FILE *trace_out;                  /* NULL: hash only */
    size_t sched_capacity;            /* 0 = default */
    /* zk mode */
    bool zk;                          /* servers are zk_servers; propose_rate ignored */
    int clients;                      /* client endpoints (zk only), <= CLUSTER_CLIENTS_MAX */
    int32_t min_session_timeout_ms;   /* 0: 2 x tick */
    int32_t max_session_timeout_ms;   /* 0: 20 x tick */
    /* Run without the ZAB invariant checker (tests of the client-level
     * checkers, which must then catch a planted bug on their own). */
    bool no_invariants;
};

struct cluster_stats {
    uint64_t events, proposals, proposals_refused, commits_seen;
    uint64_t elections, established, max_epoch;
    uint64_t crashes, restarts, start_failures, faults;
    sim_time_ns leaderless_ns;        /* time with no established leader */
};

struct cluster_pending { uint64_t zxid, epoch; int leader; sim_time_ns t; };

/* What made a replica step. */
enum cluster_cause_kind { CC_START, CC_MESSAGE, CC_CONN_BREAK, CC_DISK, CC_TIMER, CC_PROPOSE };
struct cluster_cause {
    enum cluster_cause_kind kind;
    int peer;                   /* CC_MESSAGE: sender; CC_CONN_BREAK: the peer */
    const uint8_t *msg;         /* CC_MESSAGE: the bytes (valid during the hook) */
    size_t msg_len;
    int disk_op;                /* CC_DISK: enum disk_op_kind completed */
};

struct cluster {
    struct cluster_config cfg;
    int n;                              /* servers */
    struct sim_sched sched;
    struct sim_trace trace;
    struct sim_rng rng_net, rng_faults, rng_workload;
    struct sim_rng rng_disk[CLUSTER_SERVERS_MAX + 1];
    struct net net;
    struct sim_node nodes[CLUSTER_SERVERS_MAX + 1];
    struct sim_disk disks[CLUSTER_SERVERS_MAX + 1];
    /* Bare mode only; read replicas through cluster_rep (both modes). */
    struct replica reps[CLUSTER_SERVERS_MAX + 1];
    /* zk mode: servers 1..n (NULL in bare mode). */
    struct zk_server *zks;
    /* zk mode: server end of each client connection, [server * clients + k]:
     * the net generation it belongs to, and its state. */
    struct cluster_cconn *cconn;
    struct rep_action *view_actions;  /* the step hook's view of a zk batch */
    uint32_t view_cap;
    bool rep_live[CLUSTER_SERVERS_MAX + 1];
    uint64_t timer_gen[CLUSTER_SERVERS_MAX + 1];
    uint64_t timer_armed_ms[CLUSTER_SERVERS_MAX + 1];
    /* Events that reached a stalled (paused) server, in arrival order; they
     * are handled, in that order, when it resumes. One FIFO per server keeps
     * every connection's order even when a pause is extended. */
    struct sim_event *deferred[CLUSTER_SERVERS_MAX + 1];
    uint32_t deferred_head[CLUSTER_SERVERS_MAX + 1], deferred_n[CLUSTER_SERVERS_MAX + 1];
    bool resume_armed[CLUSTER_SERVERS_MAX + 1];
    /* A DISCONNECT's initiator is not told of the break it caused. */
    uint32_t self_break_gen[CLUSTER_SERVERS_MAX + 1][CLUSTER_SERVERS_MAX + 1];
    struct chk_zab chk;
    /* liveness */
    sim_time_ns last_disturbance_ns;
    sim_time_ns leaderless_since_ns;   /* SIM_TIME_NEVER when a leader is up */
    struct cluster_pending pending[CLUSTER_PENDING_MAX];
    uint32_t pending_head, pending_n;
    bool liveness_failed;
    struct chk_violation liveness;
    uint64_t propose_seq;
    struct cluster_stats stats;
    struct cluster_fault_rec fault_recs[CLUSTER_FAULT_RECS_MAX];
    uint32_t n_fault_recs;
    /* commit latency of each workload proposal, microseconds (for reports) */
    double *commit_lat_us;
    size_t commit_lat_n, commit_lat_cap;
    /* Events of kind CEV_USER and above go to the layer that scheduled
     * them (the scenario runner, the chaos generator, client sessions). */
    void (*user_event)(void *ctx, struct cluster *c, const struct sim_event *ev);
    void *user_ctx;
    /* Called after every replica step with what caused it and what it
     * produced: how scripted crashes find their protocol point. It may ask
     * for a crash with cluster_crash_after_step, never crash a node itself. */
    void (*step_hook)(void *ctx, struct cluster *c, int id, const struct cluster_cause *cause,
                      const struct replica_out *out);
    struct cluster_cause cause;       /* of the step being run */
    int crash_after_step[CLUSTER_SERVERS_MAX + 1];   /* 0, or 1 + enum disk_crash_mode */
    /* Simulated clients (sim/client.c) plug in here: frames and breaks seen
     * by a client endpoint, and events of kind >= CEV_CLIENT. */
    void (*client_deliver)(void *ctx, struct cluster *c, int client, int server,
                           const uint8_t *bytes, size_t len);
    void (*client_broken)(void *ctx, struct cluster *c, int client, int server, uint32_t gen);
    void (*client_event)(void *ctx, struct cluster *c, const struct sim_event *ev);
    void *client_ctx;
    struct zkw_buf *wbuf;             /* scratch for encoding server frames */
    bool internal_error;
    char err[256];
};

/* Server end of one client connection (zk mode). */
enum cluster_cconn_state { CCONN_NONE = 0, CCONN_OPEN, CCONN_CLOSED /* by the server */ };
struct cluster_cconn {
    uint32_t gen;
    uint8_t state;                    /* enum cluster_cconn_state */
    bool long_form;                   /* the ConnectRequest carried readOnly */
};

/* The message a server sends after its last frame when it closes a client
 * connection (a FIN after the data): a length of -1, which no frame has,
 * then the reason (zks CLOSE's err) as a big-endian int32, so traces can
 * say why. */
#define CLUSTER_CLOSE_MARKER_LEN 8
bool cluster_is_close_marker(const uint8_t *bytes, size_t len, int32_t *reason);

/* Builds the ensemble and starts every server. 0, or -1 with a message. */
int cluster_init(struct cluster *c, const struct cluster_config *cfg, char *err, size_t errlen);
void cluster_free(struct cluster *c);

/* Processes one event; false when the queue is empty, the run's time is up,
 * a violation was found, or an internal error happened. */
bool cluster_step(struct cluster *c);
/* Steps until false. */
void cluster_run(struct cluster *c);

static inline bool cluster_failed(const struct cluster *c)
{
    return c->chk.failed || c->liveness_failed || c->internal_error;
}

/* ---- faults (at the scheduler's now) ---- */
void cluster_crash(struct cluster *c, int id, enum disk_crash_mode mode);
void cluster_restart(struct cluster *c, int id);
/* Crashes `id` once the current step's output has been carried out: its
 * messages are then still in flight and die with its connections, and its
 * disk operations are still queued and die with the process. */
void cluster_crash_after_step(struct cluster *c, int id, enum disk_crash_mode mode);
void cluster_pause(struct cluster *c, int id, sim_time_ns duration);
void cluster_skew(struct cluster *c, int id, int64_t delta_ns);
void cluster_drift(struct cluster *c, int id, int64_t drift_ppm);
void cluster_drop(struct cluster *c, int a, int b);
void cluster_clog(struct cluster *c, int a, int b, sim_time_ns extra, sim_time_ns duration);
/* group_of[id] for ids 1..n (0-based groups; -1 = reaches everyone). */
void cluster_partition(struct cluster *c, const int *group_of);
/* The same, and client k (0-based) joins group client_group[k] (k <
 * cfg.clients; NET_GROUP_NONE: it keeps reaching every server). A client is
 * cut from every server outside its group; its connection breaks and it goes
 * through connection loss (and, if cut long enough, session expiry). */
void cluster_partition_clients(struct cluster *c, const int *group_of, const int *client_group);
void cluster_block(struct cluster *c, int from, int to);
void cluster_heal(struct cluster *c);
/* zk mode: cuts client k (0-based) off from every server, both ways, until
 * cluster_heal (its connection breaks; other clients are untouched). */
void cluster_isolate_client(struct cluster *c, int k);
/* Marks a disturbance for the liveness watch and the fault log (every
 * fault calls it); node 0 = the whole cluster. */
void cluster_disturbed(struct cluster *c, const char *what, int node);

/* ---- queries ---- */
/* Server id's replica (either mode); valid while the server is live. */
const struct replica *cluster_rep(const struct cluster *c, int id);
/* zk mode: the server (NULL in bare mode). */
struct zk_server *cluster_zk(struct cluster *c, int id);
/* Network endpoint of client k (0-based). */
static inline int cluster_client_endpoint(const struct cluster *c, int k) { return c->n + k; }
/* Connection id a server gives client k's connection of net generation gen. */
static inline uint64_t cluster_conn_id(int k, uint32_t gen)
{
    return ((uint64_t)(uint32_t)(k + 1) << 32) | (uint64_t)gen;
}
/* The established leader in BROADCAST with the highest epoch that is up, or 0. */
int cluster_leader(const struct cluster *c);
bool cluster_is_up(const struct cluster *c, int id);
static inline sim_time_ns cluster_now(const struct cluster *c) { return c->sched.now; }
uint64_t cluster_local_ms(struct cluster *c, int id);

#endif
