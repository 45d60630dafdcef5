/* check/history: the in-memory client history that every checker reads.
 * Owns: the event list (invoke / ok / fail / info / watch, in real-time
 * order), the string table (paths, keys, values as small integer ids), the
 * pairing of invocations with completions into operations, and the JSON Lines
 * writer that simulated clients call while they run.
 * Must never: judge a history (that is the checkers' job), abort on bad input
 * (errors are values with a "file:line:col: message"), or depend on pointer
 * values (string ids are assigned in first-seen order, so they are stable). */
#ifndef ZABLAB_CHECK_HISTORY_H
#define ZABLAB_CHECK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Id of an interned string; 0 means "no string" (a nil value). */
typedef uint32_t chk_str;

/* Limits: a history above these is rejected with an error, not truncated. */
#define CHK_EVENTS_MAX   (1u << 26)
#define CHK_LINE_MAX     (1u << 20)   /* bytes in one input line */
#define CHK_CHILDREN_MAX 4096         /* names in one getChildren result */
#define CHK_SUBS_MAX     64           /* sub-operations in one multi */

enum chk_type { CHK_INVOKE, CHK_OK, CHK_FAIL, CHK_INFO, CHK_WATCH };

/* Operation kinds. Register: read write cas. Key-value: get put append.
 * ZooKeeper: the rest. CHK_F_CLOSE is a session close (or an expiry the
 * client learnt about), which removes the session's ephemerals. */
enum chk_f {
    CHK_F_NONE = 0,
    CHK_F_READ, CHK_F_WRITE, CHK_F_CAS,
    CHK_F_GET, CHK_F_PUT, CHK_F_APPEND,
    CHK_F_CREATE, CHK_F_DELETE, CHK_F_SET_DATA, CHK_F_GET_DATA, CHK_F_EXISTS,
    CHK_F_GET_CHILDREN, CHK_F_CHECK, CHK_F_MULTI, CHK_F_SYNC, CHK_F_CLOSE,
    /* Recipe outcomes (check/recipes.h), Jepsen style: what a recipe client
     * believed, not the znode operations it used to get there. key = the
     * recipe's znode (/lock, /q, /config, /election). */
    CHK_F_ACQUIRE,       /* lock: ok = the client holds it */
    CHK_F_RELEASE,       /* lock: invoke = the client stops acting as holder */
    CHK_F_ENQUEUE,       /* queue: sval = the element; ok = acknowledged */
    CHK_F_DEQUEUE,       /* queue: ok sval = the element taken (its delete succeeded) */
    CHK_F_QUEUE_READ,    /* queue: ok names = the elements still queued at the end */
    CHK_F_CONFIG_WRITE,  /* config: ival = the version written */
    CHK_F_CONFIG_READ,   /* config: ok ival = the version the client observed */
    CHK_F_LEAD,          /* election: ok = the client believes it leads */
    CHK_F_RESIGN,        /* election: invoke = the client stops acting as leader */
    CHK_F_ENTER,         /* barrier: ival = round, ival2 = parties; ok = passed it */
    CHK_F_COUNT
};

/* Is f one of the recipe kinds above (judged by check/recipes.h, ignored by
 * the ZooKeeper and linearizability checkers)? */
#define CHK_F_IS_RECIPE(f) ((f) >= CHK_F_ACQUIRE && (f) < CHK_F_COUNT)

/* ZooKeeper create-mode bits (CreateMode 0..3 map onto them directly). */
#define CHK_MODE_EPHEMERAL  1u
#define CHK_MODE_SEQUENTIAL 2u

/* ZooKeeper error codes the checkers understand as observations. */
#define CHK_ZOK          0
#define CHK_ZRUNTIMEINCONSISTENCY (-2)
#define CHK_ZNONODE      (-101)
#define CHK_ZBADVERSION  (-103)
#define CHK_ZNOCHILDRENFOREPHEMERALS (-108)
#define CHK_ZNODEEXISTS  (-110)
#define CHK_ZNOTEMPTY    (-111)

/* Watch event types (Watcher.Event.EventType). */
#define CHK_WATCH_CREATED  1
#define CHK_WATCH_DELETED  2
#define CHK_WATCH_CHANGED  3
#define CHK_WATCH_CHILDREN 4
/* EventType None: a connection-state change of the session (ZooKeeper
 * delivers these to the default watcher with a null path); the state is in
 * chk_event.state. */
#define CHK_WATCH_NONE     (-1)

/* Connection states (Watcher.Event.KeeperState codes). */
#define CHK_STATE_DISCONNECTED  0
#define CHK_STATE_SYNC_CONNECTED 3
#define CHK_STATE_EXPIRED       (-112)
#define CHK_STATE_CLOSED        7
/* Did the client lose its session or connection? (Curator's rule: a lock
 * holder or leader that sees this must stop acting as one.) */
#define CHK_STATE_IS_LOSS(s) ((s) == CHK_STATE_DISCONNECTED || (s) == CHK_STATE_EXPIRED \
                              || (s) == CHK_STATE_CLOSED)
const char *chk_state_name(int32_t state);
int chk_state_parse(const char *s, size_t len, int32_t *out);

/* One sub-operation of a multi: arguments and, on the completion, result. */
struct chk_sub {
    enum chk_f f;            /* CREATE, DELETE, SET_DATA or CHECK */
    chk_str path;
    chk_str data;
    int32_t version;         /* expected version, -1 = any */
    uint8_t mode;
    int32_t err;             /* result: per-op error, 0 = OK */
    chk_str result_path;     /* result of a create */
};

/* One line of a history. Which fields mean something depends on f and type;
 * docs/history-format.md lists them. */
struct chk_event {
    uint32_t line, col;      /* where it came from (0 when built in memory) */
    enum chk_type type;
    enum chk_f f;
    int64_t process;
    int64_t session;         /* ZooKeeper session; equals process if absent */
    int64_t time_ns;
    uint64_t zxid;
    bool has_time, has_zxid;
    bool nil;                /* register/kv: value is nil */
    bool watch;              /* read registers a watch */
    bool has_version;        /* a version came with the event */
    bool has_value;          /* value / data field present */
    uint8_t mode;            /* create mode bits */
    int64_t ival, ival2;     /* register: value; cas: ival -> ival2 */
    chk_str key;             /* kv key or ZooKeeper path */
    chk_str sval;            /* kv value or ZooKeeper data */
    int32_t version;         /* expected (invoke) or resulting (ok) version */
    int32_t err;             /* ZooKeeper error code of the result, 0 = OK */
    int32_t watch_type;      /* CHK_WATCH_*, for type CHK_WATCH */
    int32_t state;           /* CHK_STATE_*, for watch_type CHK_WATCH_NONE */
    chk_str result_path;     /* create: actual path */
    uint32_t n_children, n_subs;
    uint32_t children;       /* index of the first name in h->names */
    uint32_t subs;           /* index of the first sub-op in h->subs */
};

enum chk_status { CHK_ST_OK, CHK_ST_FAIL, CHK_ST_INFO };

/* An invocation paired with its completion. ret == CHK_NONE when the
 * outcome is unknown (info, or never completed): it may or may not have
 * taken effect, at any time after its invocation. */
#define CHK_NONE UINT32_MAX
struct chk_op {
    uint32_t inv, ret;       /* event indices; their order is real time */
    enum chk_f f;
    enum chk_status status;
    int64_t process, session;
};

struct chk_history {
    const char *name;        /* file name used in messages */
    struct chk_event *events;
    uint32_t n_events, cap_events;
    struct chk_op *ops;
    uint32_t n_ops;
    chk_str *names;          /* getChildren results, flattened */
    uint32_t n_names, cap_names;
    struct chk_sub *subs;    /* multi sub-ops, flattened */
    uint32_t n_subs, cap_subs;
    /* string table */
    char *str_bytes;
    size_t str_len, str_cap;
    uint32_t *str_off;       /* offset of string id i in str_bytes */
    uint32_t *str_size;
    uint32_t n_strs, cap_strs;
    uint32_t *str_hash;      /* open addressing: slot -> id, 0 empty */
    uint32_t str_hash_cap;
};

/* Verdicts of every checker; the values are the `zablab check` exit codes. */
enum chk_verdict {
    CHK_VERDICT_OK = 0,          /* the history satisfies the property */
    CHK_VERDICT_VIOLATION = 1,   /* it does not; the message shows why */
    CHK_VERDICT_BAD_INPUT = 2,   /* malformed history or usage */
    CHK_VERDICT_INTERNAL = 3,    /* out of memory or a bug */
    CHK_VERDICT_UNKNOWN = 5,     /* budget exhausted before a verdict */
};
const char *chk_verdict_name(enum chk_verdict v);

enum chk_format { CHK_FMT_AUTO, CHK_FMT_JSONL, CHK_FMT_EDN };

struct chk_history *chk_history_new(const char *name);
void chk_history_free(struct chk_history *h);

/* Interns a string; returns its id (>= 1), or 0 if out of memory. */
chk_str chk_str_intern(struct chk_history *h, const char *s, size_t len);
const char *chk_str_get(const struct chk_history *h, chk_str id);
uint32_t chk_str_len(const struct chk_history *h, chk_str id);

/* Appends an event (copied). Returns its index, or CHK_NONE when full. */
uint32_t chk_history_add(struct chk_history *h, const struct chk_event *ev);
/* Appends getChildren names / multi sub-ops for the next event to point at;
 * returns the index of the first one, or CHK_NONE when out of memory. */
uint32_t chk_history_add_names(struct chk_history *h, const chk_str *names, uint32_t n);
uint32_t chk_history_add_subs(struct chk_history *h, const struct chk_sub *subs, uint32_t n);

/* Pairs invocations with completions into h->ops (in invocation order).
 * Errors: a process invoking while it has an operation pending, a completion
 * without an invocation, a completion of a different kind. Returns 0, or -1
 * with "file:line:col: message" in err. */
int chk_history_pair(struct chk_history *h, char *err, size_t errlen);

/* Reads a file (or "-" for stdin) in the given format, then pairs it.
 * CHK_FMT_AUTO picks EDN when the first non-blank byte is '{' followed by
 * ':' or a '#' tag, JSON Lines otherwise. Returns NULL with err set. */
struct chk_history *chk_history_load(const char *path, enum chk_format fmt,
                                     char *err, size_t errlen);
/* Parses text already in memory (used by tests). */
struct chk_history *chk_history_parse(const char *name, const char *text, size_t len,
                                      enum chk_format fmt, char *err, size_t errlen);

/* Format-specific line parsers (history_jsonl.c, history_edn.c): parse one
 * line into *ev. Return 1 for an event, 0 for a line to skip (blank, a
 * nemesis event), -1 on error with "name:line:col: message". */
int chk_jsonl_parse_line(struct chk_history *h, const char *line, size_t len,
                         uint32_t lineno, struct chk_event *ev, char *err, size_t errlen);
int chk_edn_parse_line(struct chk_history *h, const char *line, size_t len,
                       uint32_t lineno, struct chk_event *ev, char *err, size_t errlen);

/* Writers: one event per line. */
int chk_jsonl_write_event(FILE *out, const struct chk_history *h, const struct chk_event *ev);
int chk_edn_write_event(FILE *out, const struct chk_history *h, const struct chk_event *ev);

/* Streaming JSON Lines writer for simulated clients: open, append, close.
 * Strings are given as C strings in struct chk_record so the caller needs no
 * string table. Every append is written through (a crash keeps the prefix). */
struct chk_record_sub {
    enum chk_f f;
    const char *path, *data, *result_path;
    int32_t version, err;
    uint8_t mode;
};
struct chk_record {
    enum chk_type type;
    enum chk_f f;
    int64_t process, session;
    int64_t time_ns;
    uint64_t zxid;
    bool has_zxid;
    bool nil, watch, has_version, has_value;
    uint8_t mode;
    int64_t ival, ival2;
    const char *key;          /* kv key or ZooKeeper path */
    const char *sval;         /* value or data */
    int32_t version, err, watch_type;
    int32_t state;            /* CHK_STATE_*, for watch_type CHK_WATCH_NONE */
    const char *result_path;
    const char *const *children;
    uint32_t n_children;
    const struct chk_record_sub *subs;   /* multi */
    uint32_t n_subs;
};
struct chk_writer;
struct chk_writer *chk_writer_open(const char *path, char *err, size_t errlen);
int chk_writer_append(struct chk_writer *w, const struct chk_record *rec);
int chk_writer_close(struct chk_writer *w);

/* Did the op take place with a known outcome? ok, or a fail that carries a
 * ZooKeeper error (NONODE, BADVERSION, ...): such an error is an observation
 * of the state, not a "did not happen". */
bool chk_op_observed(const struct chk_history *h, const struct chk_op *op);

/* Names used by both formats and in messages. */
const char *chk_f_name(enum chk_f f);
enum chk_f chk_f_parse(const char *s, size_t len);
const char *chk_type_name(enum chk_type t);
const char *chk_zerr_name(int32_t err);
int chk_zerr_parse(const char *s, size_t len, int32_t *out);
bool chk_f_is_write(enum chk_f f);

/* Formats a time for messages: "t=4.100s", or "line 12" when untimed. */
void chk_fmt_when(const struct chk_event *ev, char *buf, size_t len);

#endif
