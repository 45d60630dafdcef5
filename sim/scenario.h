/* The scenario language: parser, canonical printer and the plain-data
 * `struct scenario` they produce and consume (docs/scenarios.md is the
 * language reference).
 *
 * Owns: the text format, its error messages ("file:line:col: message", the
 * column of the offending token) and every bound on a scenario's size.
 * Must never: run anything, draw random numbers, or judge what belongs to
 * another module: latency-distribution specs are kept as raw text with their
 * position (the world checks them with net-model's parser), bug names are
 * free identifiers (the core's table validates them).
 *
 * The struct holds no pointers and only bounded arrays, so a shrinker may
 * copy it with `=` and delete events with scn_remove_event(). Positions
 * (line, col) are kept for error reports only; scn_equal() ignores them, so
 * parse(print(s)) equals s. */
#ifndef ZABLAB_SIM_SCENARIO_H
#define ZABLAB_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bounds. Input beyond any of them is an error, never a truncation. */
#define SCN_MAX_SERVERS    31      /* voters + observers; ids fit a uint32 mask */
#define SCN_MAX_EVENTS     256     /* timeline entries (at, every, crash-at-point) */
#define SCN_MAX_GROUPS     8       /* explicit groups in one partition */
#define SCN_MAX_LINKS      32      /* per-link overrides */
#define SCN_MAX_BUGS       16
#define SCN_MAX_EXPECTS    16
#define SCN_MAX_RECIPES    8
#define SCN_MAX_CLIENTS    256     /* workload clients */
#define SCN_MAX_RECIPE_CLIENTS 16  /* clients of one recipe */
/* Every simulated client a scenario can have (workload + recipes); they are
 * named c1..cN: workload clients first, then each recipe's in file order. */
#define SCN_MAX_ALL_CLIENTS (SCN_MAX_CLIENTS + SCN_MAX_RECIPES * SCN_MAX_RECIPE_CLIENTS)
#define SCN_MAX_EVENT_CLIENTS 32   /* clients named in one partition or isolate */
#define SCN_MAX_STATEMENTS 1024    /* non-blank, non-comment lines */
#define SCN_LINE_MAX       256     /* bytes per line, newline excluded */
#define SCN_LINE_TOKENS_MAX 64
#define SCN_FILE_MAX       (1u << 20) /* bytes, for scn_parse_file */
#define SCN_TEXT_MAX       128     /* raw distribution spec, NUL included */
#define SCN_NAME_MAX       48      /* bug names, NUL included */
#define SCN_FILENAME_MAX   256
#define SCN_FIRINGS_MAX    10000   /* firings of one `every` within the run */
#define SCN_PPB_ONE        1000000000u /* probability 1 in parts per billion */

/* Defaults for statements a file leaves out (docs/scenarios.md). */
#define SCN_DEFAULT_VOTERS      3
#define SCN_DEFAULT_TICK_NS     100000000ull   /* 100ms */
#define SCN_DEFAULT_INIT_LIMIT  10
#define SCN_DEFAULT_SYNC_LIMIT  5
#define SCN_DEFAULT_RUN_NS      10000000000ull /* 10s */
#define SCN_DEFAULT_SEED        1
#define SCN_DEFAULT_KEYS        10
#define SCN_DEFAULT_RATE_PER_S  100
#define SCN_DEFAULT_SESSION_TIMEOUT_NS 4000000000ull /* 4s */

/* A position in the scenario file; 1-based, columns count bytes. */
struct scn_pos {
    int line, col;
};

/* A spec kept verbatim for another module to parse; empty text = not given.
 * `col` is the column of text[0], so an error at offset k of the text is at
 * column col + k of the file. */
struct scn_text {
    char text[SCN_TEXT_MAX];
    int line, col;
};

/* Which servers an action applies to. Symbolic kinds are resolved by the
 * world when the event fires (with its fault random stream). */
enum scn_target_kind {
    SCN_TGT_IDS,       /* explicit ids: `1,2` */
    SCN_TGT_LEADER,    /* the current leader, if any */
    SCN_TGT_FOLLOWER,  /* one follower (`follower`, `a follower`) */
    SCN_TGT_FOLLOWERS, /* every follower */
    SCN_TGT_MINORITY,  /* floor((voters-1)/2) voters */
    SCN_TGT_MAJORITY,  /* floor(voters/2)+1 voters */
    SCN_TGT_RANDOM,    /* `random N`: N servers */
    SCN_TGT_ALL,
    SCN_TGT_LOCK_HOLDER, /* `isolate lock-holder`: the client holding the lock recipe's lock */
    SCN_TGT_COUNT_
};

struct scn_target {
    enum scn_target_kind kind;
    uint32_t count;    /* SCN_TGT_RANDOM only */
    uint32_t ids_mask; /* SCN_TGT_IDS only: bit i = server i (1-based) */
};

enum scn_action {
    SCN_ACT_CRASH,          /* target */
    SCN_ACT_CRASH_AT_POINT, /* target, point, point_count: arm a crash at a protocol point */
    SCN_ACT_RESTART,        /* target (crashed ones) */
    SCN_ACT_PARTITION,      /* groups[]; unlisted servers form one more side */
    SCN_ACT_ONE_WAY,        /* messages target -> target_to are cut */
    SCN_ACT_ISOLATE,        /* target cut off from every other server */
    SCN_ACT_HEAL,           /* removes partitions, one-way cuts and clogs */
    SCN_ACT_CLOG,           /* link_a-link_b: delay_ns extra for duration_ns */
    SCN_ACT_DROP,           /* link_a-link_b: the connection breaks */
    SCN_ACT_PAUSE,          /* target for duration_ns */
    SCN_ACT_SKEW,           /* target's clock steps by skew_ns */
    SCN_ACT_DRIFT,          /* target's clock rate error becomes drift_ppm */
    SCN_ACT_TORN_WRITE,     /* target loses power; its unsynced tail is torn */
    SCN_ACT_SLOW_DISK,      /* target's disk latencies x factor for duration_ns */
    SCN_ACT_DISK_FULL,      /* target's writes fail for duration_ns */
    SCN_ACT_HOLD,           /* msg_kind from target to target_to held back */
    SCN_ACT_RELEASE,        /* ... and delivered again, in order */
    SCN_ACT_COUNT_
};

/* Message kinds for hold/release: FLE's VOTE, the ZAB quorum packets, ANY. */
enum scn_msg_kind {
    SCN_MSG_ANY, SCN_MSG_VOTE, SCN_MSG_REQUEST, SCN_MSG_PROPOSAL, SCN_MSG_ACK,
    SCN_MSG_COMMIT, SCN_MSG_PING, SCN_MSG_REVALIDATE, SCN_MSG_SYNC, SCN_MSG_INFORM,
    SCN_MSG_NEWLEADER, SCN_MSG_FOLLOWERINFO, SCN_MSG_UPTODATE, SCN_MSG_DIFF,
    SCN_MSG_TRUNC, SCN_MSG_SNAP, SCN_MSG_OBSERVERINFO, SCN_MSG_LEADERINFO,
    SCN_MSG_ACKEPOCH,
    SCN_MSG_COUNT_
};

/* Named protocol points where a scripted crash can strike. Append new points
 * at the end (before SCN_POINT_COUNT_) and to the name table in scenario.c. */
enum scn_crash_point {
    SCN_POINT_AFTER_VOTE_SENT,
    SCN_POINT_AFTER_LEADERINFO_RECEIVED,
    SCN_POINT_AFTER_ACCEPTED_EPOCH_PERSISTED,
    SCN_POINT_AFTER_ACKEPOCH_SENT,
    SCN_POINT_AFTER_EPOCH_QUORUM,            /* leader: ACKEPOCH quorum, before currentEpoch */
    SCN_POINT_AFTER_SYNC_SENT,               /* leader: DIFF/TRUNC/SNAP queued */
    SCN_POINT_AFTER_DIFF_RECEIVED,
    SCN_POINT_AFTER_TRUNC_RECEIVED,
    SCN_POINT_AFTER_SNAP_RECEIVED,
    SCN_POINT_AFTER_NEWLEADER_RECEIVED,
    SCN_POINT_AFTER_CURRENT_EPOCH_PERSISTED,
    SCN_POINT_AFTER_NEWLEADER_ACK_SENT,
    SCN_POINT_AFTER_UPTODATE_RECEIVED,
    SCN_POINT_AFTER_PROPOSAL_SENT,           /* leader */
    SCN_POINT_AFTER_PROPOSAL_RECEIVED,
    SCN_POINT_AFTER_FSYNC_BEFORE_ACK,
    SCN_POINT_AFTER_ACK_SENT,
    SCN_POINT_AFTER_COMMIT_QUORUM,           /* leader: quorum of ACKs, before COMMIT sent */
    SCN_POINT_AFTER_COMMIT_SENT,
    SCN_POINT_AFTER_COMMIT_RECEIVED,
    SCN_POINT_DURING_SNAPSHOT_WRITE,
    SCN_POINT_COUNT_
};

/* A client named in a partition group or an isolate list. */
struct scn_client_ref {
    uint16_t client;       /* 1-based: c1 is client index 0 */
    uint8_t group;         /* PARTITION: its group; ISOLATE: 0 */
    uint16_t col;          /* column of the name, for range errors; not compared */
};

struct scn_event {
    uint64_t at_ns;        /* first firing (0 for a top-level crash-at-point) */
    uint64_t every_ns;     /* 0: fires once; else the period */
    uint64_t until_ns;     /* periodic only: no firing after this; 0 = run end */
    enum scn_action action;
    struct scn_target target;
    struct scn_target target_to;      /* ONE_WAY, HOLD, RELEASE */
    int link_a, link_b;               /* CLOG, DROP: ids, link_a < link_b */
    int group_count;                  /* PARTITION */
    uint32_t group_mask[SCN_MAX_GROUPS];
    /* PARTITION, ISOLATE: clients named (c1..), in file order. A partition
     * cuts a named client from every server outside its group; clients not
     * named keep reaching every server. ISOLATE cuts each from every server. */
    int client_count;
    struct scn_client_ref clients[SCN_MAX_EVENT_CLIENTS];
    uint64_t duration_ns;             /* CLOG, PAUSE, SLOW_DISK, DISK_FULL */
    uint64_t delay_ns;                /* CLOG */
    int64_t skew_ns;                  /* SKEW */
    int64_t drift_ppm;                /* DRIFT */
    uint32_t factor;                  /* SLOW_DISK */
    enum scn_msg_kind msg_kind;       /* HOLD, RELEASE */
    enum scn_crash_point point;       /* CRASH_AT_POINT */
    uint32_t point_count;             /* CRASH_AT_POINT: fires at most this often */
    struct scn_pos pos;               /* the statement's first token */
};

enum scn_link_field { SCN_LINK_LATENCY = 1u << 0, SCN_LINK_LOSS = 1u << 1 };

/* A per-link override; links are undirected, a < b. */
struct scn_link {
    int a, b;
    uint32_t fields;       /* enum scn_link_field bits that are set */
    struct scn_text latency;
    uint32_t loss_ppb;
    struct scn_pos pos;
};

enum scn_op {
    SCN_OP_CREATE, SCN_OP_SET, SCN_OP_GET, SCN_OP_DELETE, SCN_OP_CAS, SCN_OP_MULTI,
    SCN_OP_SYNC, SCN_OP_EXISTS, SCN_OP_CHILDREN,
    SCN_OP_COUNT_
};

enum scn_recipe_kind {
    SCN_RECIPE_LOCK, SCN_RECIPE_QUEUE, SCN_RECIPE_CONFIG_WATCH, SCN_RECIPE_BARRIER,
    SCN_RECIPE_LEADER_ELECTION,
    SCN_RECIPE_COUNT_
};

struct scn_recipe {
    enum scn_recipe_kind kind;
    uint32_t clients;      /* its own sessions, besides the workload clients */
    uint64_t hold_ns;      /* lock / leader-election: how long a holder keeps it; 0 = default */
};

enum scn_expect_kind {
    SCN_EXPECT_SAFETY, SCN_EXPECT_LINEARIZABLE, SCN_EXPECT_ZK_CONSISTENCY,
    SCN_EXPECT_LOCK_EXCLUSIVE, SCN_EXPECT_NO_LOST_WRITES,
    SCN_EXPECT_LEADER_WITHIN,   /* a leader established within_ns after anchor */
    SCN_EXPECT_PROGRESS_WITHIN, /* pending writes commit within_ns after anchor */
    SCN_EXPECT_VIOLATION,       /* the run must find a violation (planted bugs) */
    SCN_EXPECT_QUEUE_EXACT,     /* recipe queue: no element lost or taken twice */
    SCN_EXPECT_CONFIG_CONVERGES,/* recipe config-watch: live watchers end on the last version */
    SCN_EXPECT_LEADER_UNIQUE,   /* recipe leader-election: one believed leader at a time */
    SCN_EXPECT_BARRIER_SYNC,    /* recipe barrier: nobody passes before every party entered */
    SCN_EXPECT_COUNT_
};

enum scn_anchor { SCN_ANCHOR_START, SCN_ANCHOR_HEAL };

struct scn_expect {
    enum scn_expect_kind kind;
    uint64_t within_ns;    /* *_WITHIN only */
    enum scn_anchor anchor;/* *_WITHIN only; HEAL = after every heal event */
    struct scn_pos pos;
};

struct scenario {
    char filename[SCN_FILENAME_MAX];   /* for error reports; not compared */
    uint64_t seed;
    /* cluster: ids 1..voters are voters, voters+1..voters+observers observers */
    int voters, observers;
    uint64_t tick_ns;
    int init_limit, sync_limit;        /* in ticks */
    uint64_t run_ns;
    /* network */
    struct scn_text net_latency;
    uint32_t net_loss_ppb;
    uint32_t net_duplicate_ppb, net_reorder_ppb; /* "broken network" only */
    int link_count;
    struct scn_link links[SCN_MAX_LINKS];
    /* disks (every server's) */
    struct scn_text disk_fsync_latency;
    struct scn_text disk_write_latency;
    uint32_t disk_torn_write_ppb;      /* at a crash, the unsynced tail is torn */
    uint32_t disk_lost_write_ppb;      /* at a crash, the unsynced tail is lost */
    /* clients and workload */
    int clients;
    uint32_t mix_weight[SCN_OP_COUNT_];
    uint32_t keys;
    uint32_t rate_per_s;               /* all workload clients together */
    uint64_t session_timeout_ns;
    int recipe_count;
    struct scn_recipe recipes[SCN_MAX_RECIPES];
    /* planted bugs */
    int bug_count;
    char bugs[SCN_MAX_BUGS][SCN_NAME_MAX];
    /* timeline, sorted by at_ns (stable: file order within one time) */
    int event_count;
    struct scn_event events[SCN_MAX_EVENTS];
    int expect_count;
    struct scn_expect expects[SCN_MAX_EXPECTS];
};

/* Parses `len` bytes of scenario text. Returns 0 and fills *out, or -1 with
 * "file:line:col: message" in err (filename NULL reads "<input>"); on error
 * *out holds defaults plus whatever was parsed, and nothing should run. */
int scn_parse(const char *text, size_t len, const char *filename, struct scenario *out,
              char *err, size_t errlen);
/* Reads and parses a file of at most SCN_FILE_MAX bytes. */
int scn_parse_file(const char *path, struct scenario *out, char *err, size_t errlen);
/* Writes canonical text that parses back to an equal scenario. 0 or -1. */
int scn_print(const struct scenario *s, FILE *out);
/* Releases nothing today (the struct is plain data); resets it to defaults. */
void scn_free(struct scenario *s);

/* Every field at its default, no events. */
void scn_init(struct scenario *s);
/* True when a and b describe the same scenario (positions and filename ignored). */
bool scn_equal(const struct scenario *a, const struct scenario *b);
/* Validates a scenario built in code (swarm testing, the shrinker) by the
 * same rules as a file: prints it and parses the text back. 0, or -1 with
 * "<generated>:line:col: message" (a line of scn_print's output) in err. */
int scn_check(const struct scenario *s, char *err, size_t errlen);
/* Deletes event i, keeping the order of the rest. 0, or -1 if out of range. */
int scn_remove_event(struct scenario *s, int i);

/* Helpers for the world that runs a scenario. */

/* The latency spec and loss of link a-b (either order): the link's override
 * if it has one, else the network-wide setting. An empty text means "not
 * given": the network model's default applies. */
const struct scn_text *scn_link_latency(const struct scenario *s, int a, int b);
uint32_t scn_link_loss_ppb(const struct scenario *s, int a, int b);

/* The k-th firing time (k = 0, 1, ...) of an event: false when there is no
 * k-th firing within the run (a one-shot event fires only for k = 0). */
bool scn_event_firing_ns(const struct scenario *s, const struct scn_event *ev, uint32_t k,
                         uint64_t *t_ns);

/* Formats "file:line:col: message" for an error another module's parser found
 * at byte `offset` of a raw spec (e.g. net-model rejecting a distribution). */
void scn_text_error(const struct scenario *s, const struct scn_text *t, int offset,
                    const char *message, char *err, size_t errlen);

/* Names, for traces and reports. Never NULL ("?" when out of range). */
const char *scn_action_name(enum scn_action a);
const char *scn_msg_kind_name(enum scn_msg_kind k);
const char *scn_crash_point_name(enum scn_crash_point p);
const char *scn_op_name(enum scn_op op);
const char *scn_recipe_name(enum scn_recipe_kind k);
const char *scn_expect_name(enum scn_expect_kind k);

/* "1500ms", "2s", "0s": the largest unit that divides exactly. */
void scn_format_duration(uint64_t ns, char *buf, size_t buflen);

#endif
