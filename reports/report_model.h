/* The aggregate of one run's trace that reports draw: per-server state
 * bands, fault bands, paired messages, elections, commit latencies.
 * Built by streaming the trace once (reports/trace_read.h).
 *
 * Owns: its arrays (freed by rmod_free). Every array has a stated maximum;
 * beyond it records are counted, not kept, and `truncated` says so.
 * Must never: keep the trace's records themselves, or depend on anything
 * but the trace's content (the same trace gives the same model). */
#ifndef ZABLAB_REPORTS_REPORT_MODEL_H
#define ZABLAB_REPORTS_REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/trace_read.h"

#define RMOD_MSGS_MAX (4u * 1024u * 1024u)
#define RMOD_SEGS_MAX 65536u
#define RMOD_FAULTS_MAX 16384u
#define RMOD_ELECTIONS_MAX 4096u
#define RMOD_COMMITS_MAX (4u * 1024u * 1024u)
#define RMOD_LINK_PENDING_MAX 4096u   /* unpaired sends per directed link */
#define RMOD_PROPOSED_MAX 65536u      /* uncommitted proposals per leader */
#define RMOD_MSG_NAMES_MAX 32
#define RMOD_CMSGS_MAX (1u << 20)     /* client round trips and server frames */
#define RMOD_CSEGS_MAX 65536u         /* client session bands */
#define RMOD_CPENDING_MAX 64u         /* unanswered requests per client; older ones give up */
#define RMOD_OP_NAMES_MAX 32          /* client op names; further ones share the last slot */

enum rmod_state {
    RMOD_ST_DOWN = 0,        /* crashed, not yet restarted */
    RMOD_ST_LOOKING,
    RMOD_ST_FOLLOWING_SYNC,  /* elected a leader, not yet UPTODATE */
    RMOD_ST_FOLLOWING,
    RMOD_ST_LEADING_DISCOVERY, /* elected leader, quorum has not ACKed NEWLEADER */
    RMOD_ST_LEADING,         /* established */
    RMOD_ST_OBSERVING,
    RMOD_ST_BOOT,            /* started or restarted, not yet LOOKING */
    RMOD_ST_COUNT
};

enum rmod_fault_kind {
    RMOD_F_CRASH = 0, RMOD_F_TORN, RMOD_F_PAUSE, RMOD_F_PARTITION, RMOD_F_CLOG,
    RMOD_F_BLOCK, RMOD_F_DROP, RMOD_F_SKEW, RMOD_F_DRIFT, RMOD_F_REFUSED,
    RMOD_F_DISK_FULL, RMOD_F_COUNT
};

struct rmod_seg {
    int64_t t0_ns, t1_ns;
    uint8_t node, state;
    uint32_t epoch;
};

struct rmod_fault {
    int64_t t0_ns, t1_ns;    /* equal for instant faults (drop, skew) */
    uint8_t node, peer, kind;
    int16_t group;           /* partition: this server's group */
    char label[64];
};

struct rmod_msg {
    int64_t t_send_ns, t_recv_ns;   /* t_recv_ns < 0: lost */
    uint64_t seq;
    uint32_t len;
    uint8_t from, to, cls, name;    /* name: index into model names[] */
};

/* A simulated ZooKeeper client's session, as its lane shows it. */
enum rmod_cstate {
    RMOD_CS_CONNECTED = 0, RMOD_CS_DISCONNECTED, RMOD_CS_EXPIRED, RMOD_CS_CLOSED, RMOD_CS_COUNT
};

/* What came back for a client frame (RMOD_CW_NONE: nothing reached the client). */
enum rmod_cwhat {
    RMOD_CW_NONE = 0, RMOD_CW_REPLY, RMOD_CW_CONNECTED, RMOD_CW_WATCH, RMOD_CW_CLOSE, RMOD_CW_COUNT
};

/* One request and its answer, or a frame the server sent on its own (a
 * watch event): then t_send_ns < 0. The trace has client-side times only;
 * the server's side of the exchange is not recorded. Kept in the order of
 * their first time (t_send_ns, else t_recv_ns). */
struct rmod_cmsg {
    int64_t t_send_ns, t_recv_ns;   /* t_recv_ns < 0: no answer reached the client */
    int64_t xid;
    int32_t err;
    uint32_t len;
    uint16_t client;
    uint8_t server, op, what;       /* op: index into cop_names[] */
};

struct rmod_cseg {
    int64_t t0_ns, t1_ns;
    uint64_t session;
    uint16_t client;
    uint8_t server, state;
};

struct rmod_clane {                 /* a client's open session band */
    int64_t since_ns;               /* < 0: none open */
    uint64_t session;
    int state, server;
    bool seen;                      /* any c-* record named this client */
    uint32_t pending[RMOD_CPENDING_MAX], n_pending;  /* cmsg indices awaiting an answer */
};

struct rmod_election {
    int64_t t0_ns, t1_ns;    /* leaderless from t0; t1 < 0: no leader at the end */
    int leader;
    uint32_t epoch;
};

struct rmod_link_queue { uint32_t head, n; uint32_t *idx; };
struct rmod_prop { uint64_t zxid; int64_t t_ns; };
struct rmod_prop_queue { uint32_t head, n; struct rmod_prop *q; };

struct rmod {
    int n_servers, voters, observers;
    uint64_t seed;
    int64_t t_end_ns;
    uint64_t records, unknown_records;
    bool truncated;
    /* state bands */
    struct rmod_seg *segs; uint32_t n_segs;
    int cur_state[TRD_SERVERS_MAX + 1];
    uint32_t cur_epoch[TRD_SERVERS_MAX + 1];
    int64_t cur_since[TRD_SERVERS_MAX + 1];
    /* faults */
    struct rmod_fault *faults; uint32_t n_faults;
    int open_crash[TRD_SERVERS_MAX + 1];        /* fault index + 1 */
    int open_partition[TRD_SERVERS_MAX + 1];
    /* messages */
    struct rmod_msg *msgs; uint32_t n_msgs, cap_msgs;
    uint64_t msgs_total, msgs_lost, recv_unpaired;
    char names[RMOD_MSG_NAMES_MAX][24]; int n_names;
    struct rmod_link_queue *links;              /* (n+1)*(n+1), by from*(MAX+1)+to */
    uint64_t msgs_by_class[TRD_MC_COUNT];
    /* elections */
    struct rmod_election *elections; uint32_t n_elections;
    int leader; uint32_t leader_epoch; int64_t leaderless_since_ns;
    int64_t leaderless_ns;
    uint32_t max_epoch;
    uint64_t n_looking, n_sync[4];
    /* commits on the leader */
    struct rmod_prop_queue *props;
    int64_t *commit_t_ns; double *commit_latency_ms; uint32_t n_commits;
    uint64_t proposals, commits_total, crashes, restarts;
    /* simulated clients (c-send / c-recv / c-session records) */
    int n_clients;                              /* highest client id seen */
    struct rmod_cmsg *cmsgs; uint32_t n_cmsgs, cap_cmsgs;
    struct rmod_cseg *csegs; uint32_t n_csegs;
    struct rmod_clane *clanes;                  /* [TRD_CLIENTS_MAX + 1] */
    char cop_names[RMOD_OP_NAMES_MAX][24]; int n_cop_names;
    uint64_t c_requests, c_unanswered, c_watches;
};

/* Reads the whole trace into m. 0, or -1 with "file:line:col: message". */
int rmod_build(struct rmod *m, FILE *trace, const char *name, char *err, size_t errlen);
void rmod_free(struct rmod *m);

const char *rmod_state_name(enum rmod_state s);
const char *rmod_fault_name(enum rmod_fault_kind k);
const char *rmod_cstate_name(enum rmod_cstate s);

/* The client half (reports/report_model_clients.c), called by rmod_build. */
int rmod_clients_init(struct rmod *m);
int rmod_client_add(struct rmod *m, const struct trd_rec *r);
void rmod_clients_finish(struct rmod *m);
void rmod_clients_free(struct rmod *m);
const char *rmod_cwhat_name(enum rmod_cwhat w);

#endif
