/* Streaming reader of simulator traces (docs/trace-format.md): one JSON
 * Lines record at a time, decoded with jansson into a flat struct.
 *
 * Owns: one line buffer of TRD_LINE_MAX bytes and the line counter.
 * Must never: keep more than one record in memory (a report aggregates as
 * it reads), abort on bad input (a bad line is an error value with
 * "file:line:col: message"), or trust node ids without a bound check. */
#ifndef ZABLAB_REPORTS_TRACE_READ_H
#define ZABLAB_REPORTS_TRACE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRD_LINE_MAX 8192      /* the simulator cuts records at 2048 bytes */
#define TRD_SERVERS_MAX 32     /* node ids are 1..TRD_SERVERS_MAX */
#define TRD_TEXT_MAX 256
#define TRD_CLIENTS_MAX 512     /* simulated client ids are 1..TRD_CLIENTS_MAX */

enum trd_kind {
    TRD_OTHER = 0,             /* a kind this reader does not know: skipped by users */
    TRD_START, TRD_FAULT, TRD_CRASH, TRD_RESTART, TRD_START_REFUSED, TRD_PAUSE,
    TRD_SKEW, TRD_DRIFT, TRD_PARTITION, TRD_BLOCK, TRD_DROP, TRD_CLOG, TRD_HEAL,
    TRD_DISK_FULL_EXIT, TRD_INTERNAL_ERROR,
    TRD_SEND, TRD_RECV, TRD_CONN_BROKEN, TRD_PROPOSE,
    /* simulated ZooKeeper clients (node -1): a request frame sent, a server
     * frame received, a session state change */
    TRD_C_SEND, TRD_C_RECV, TRD_C_SESSION,
    /* replica events (upper-case kinds) */
    TRD_STARTED, TRD_LOG_TORN, TRD_LOOKING, TRD_ELECTED, TRD_EPOCH_ACCEPTED,
    TRD_EPOCH_CURRENT, TRD_SYNC_SENT, TRD_SYNC_RECEIVED, TRD_ESTABLISHED,
    TRD_UPTODATE, TRD_PROPOSED, TRD_COMMITTED, TRD_APPLIED, TRD_SNAPSHOT,
    TRD_LEARNER_DROPPED, TRD_STEP_DOWN, TRD_FOLLOWER_QUIT, TRD_PROTOCOL_ERROR,
    TRD_KIND_COUNT
};

/* Message families, as the diagram colours them. */
enum trd_msg_class {
    TRD_MC_ELECTION = 0, TRD_MC_DISCOVERY, TRD_MC_SYNC, TRD_MC_BROADCAST,
    TRD_MC_PING, TRD_MC_CLIENT, TRD_MC_OTHER, TRD_MC_COUNT
};

/* ELECTED's b: the state taken. */
enum trd_role { TRD_ROLE_FOLLOWING = 1, TRD_ROLE_LEADING = 2, TRD_ROLE_OBSERVING = 3 };

struct trd_rec {
    int64_t t_ns;
    int node;                  /* 1..TRD_SERVERS_MAX, or -1 for the run */
    enum trd_kind kind;
    char kind_name[32];
    /* send: to; recv: from; conn-broken/drop/clog: peer; block: to;
     * replica events: peer; c-*: server. 0 when absent. */
    int peer;
    int client;                /* c-*: 1..TRD_CLIENTS_MAX; else 0 */
    uint64_t seq;
    uint32_t len;
    bool lost;
    char msg[24];              /* message name (send/recv); c-send/c-recv: op */
    enum trd_msg_class msg_class;
    /* replica events: a, b. pause: a = ms. skew: a = ns. drift: a = ppm.
     * clog: a = extra_ms, b = ms. crash: a = kept_bytes. start: a = seed,
     * b = voters; c = observers, d = tick_ms. c-send/c-recv: a = xid;
     * c-recv: b = err. */
    int64_t a, b, c, d;
    /* replica events: text; crash: unsynced; fault: what; errors: error;
     * c-recv: what (connected|reply|watch|close); c-session: state
     * (connected|disconnected|expired|closed). */
    char text[TRD_TEXT_MAX];
    char session[20];          /* c-session: the session id, hex as written */
    int group_of[TRD_SERVERS_MAX + 1];   /* partition: [1..n_group] */
    int n_group;
};

struct trd_reader {
    FILE *f;
    char name[128];
    uint64_t line;
    char buf[TRD_LINE_MAX];
};

void trd_init(struct trd_reader *r, FILE *f, const char *name);

/* Reads the next record: 1, 0 at end of input, -1 with "name:line:col:
 * message" in err. Blank lines are skipped. */
int trd_next(struct trd_reader *r, struct trd_rec *rec, char *err, size_t errlen);

const char *trd_kind_name(enum trd_kind k);
enum trd_msg_class trd_msg_class_of(const char *msg);
const char *trd_msg_class_name(enum trd_msg_class c);

#endif
