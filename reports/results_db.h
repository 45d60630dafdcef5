/* The results database: one SQLite file in which `zablab explore` records
 * every run (scenario, seed, verdict, trace hash, metrics, violations,
 * faults), and from which `zablab runs` lists, merges and compares.
 *
 * Owns: the schema (versioned, tagged with an SQLite application_id), the
 * connection and its prepared statements, and the last error message.
 * Several processes may write one file at once: the file is in WAL mode,
 * every connection waits on locks (busy_timeout) and each run is written in
 * one transaction, so a run is either wholly present or absent.
 * Must never: modify a file that is not a zablab results database, or store
 * part of a run. Wall-clock time appears only as run metadata (started_at,
 * duration_ms), never as an input to a simulated run. */
#ifndef ZABLAB_REPORTS_RESULTS_DB_H
#define ZABLAB_REPORTS_RESULTS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reports/stats.h"

#define RDB_SCHEMA_VERSION 1
/* SQLite header application_id: "ZABL". Tells our files from other SQLite files. */
#define RDB_APPLICATION_ID 0x5A41424C
/* How long a writer waits for another process's transaction to finish. */
#define RDB_BUSY_TIMEOUT_MS 60000
/* Per-run limits on child rows; a run over them is refused, not cut. */
#define RDB_CHILD_MAX 100000
/* Longer text (violation/fault details, replay command) is cut at a UTF-8
 * character boundary below this many bytes. */
#define RDB_TEXT_MAX 65536
#define RDB_METRIC_NAME_MAX 64
#define RDB_ERR_MAX 512
/* Bound on the entries one comparison report may hold (then `truncated`). */
#define RDB_COMPARE_ITEMS_MAX 1000000

enum rdb_verdict {
    RDB_VERDICT_PASS = 0,
    RDB_VERDICT_FAIL = 1,  /* a property was violated */
    RDB_VERDICT_ERROR = 2, /* the run could not be carried out (bad input, internal error) */
};

struct rdb_violation {
    const char *property;  /* e.g. "one-leader-per-epoch" */
    int64_t sim_time_ns;   /* simulated time at which the checker caught it */
    const char *nodes;     /* the servers involved, e.g. "1,3"; "" if none */
    const char *details;   /* free text */
};

struct rdb_fault {
    int64_t sim_time_ns;
    const char *kind;      /* e.g. "crash", "partition", "torn-write" */
    const char *target;    /* e.g. "node 2", "{1,2}|{3}" */
    const char *details;
};

/* Named numeric result. Latency percentiles use "latency_us.<op>.<stat>"
 * (see rdb_metrics_add_latency); the names of the fixed columns of `runs`
 * (simulated_ms, events, commits, ...) are reserved. */
struct rdb_metric {
    char name[RDB_METRIC_NAME_MAX];
    double value;          /* finite or infinite; NaN is refused */
};

/* One run. Text pointers are borrowed: insert copies them; listing callbacks
 * get pointers valid only during the call. NULL text counts as "". */
struct rdb_run {
    int64_t id;                /* set by reads; ignored by insert */
    const char *uid;           /* set by reads; insert generates it */
    const char *scenario;      /* scenario name (required) */
    uint64_t scenario_hash;    /* hash of the scenario text; stored as 16 hex digits */
    uint64_t seed;             /* stored as the same 64 bits in an SQLite INTEGER */
    const char *version;       /* zablab binary version (required) */
    const char *bugs;          /* planted bugs enabled, comma-separated; "" for none */
    enum rdb_verdict verdict;
    uint64_t trace_hash;       /* stored as 16 hex digits */
    const char *started_at;    /* "YYYY-MM-DDTHH:MM:SSZ" (UTC); NULL on insert: now */
    const char *replay;        /* the exact command that replays this run */
    int64_t duration_ms;       /* wall-clock duration of the run */
    int64_t simulated_ms;      /* simulated time covered */
    int64_t events;            /* scheduler events processed */
    int64_t elections;         /* leader elections completed */
    int64_t max_epoch;         /* highest epoch established */
    int64_t commits;           /* transactions committed (by the last leader's view) */
    int64_t ops_ok;            /* client operations that succeeded */
    int64_t ops_fail;          /* client operations that definitely failed */
    int64_t ops_info;          /* outcome unknown (timeout, connection loss) */
    size_t n_violations;
    const struct rdb_violation *violations;
    size_t n_faults;
    const struct rdb_fault *faults;
    size_t n_metrics;
    const struct rdb_metric *metrics;
};

struct rdb;

enum rdb_open_mode {
    RDB_OPEN_CREATE = 0,   /* create the file and schema if missing */
    RDB_OPEN_EXISTING = 1, /* the file must exist and be a zablab database */
};

/* Opens (creating if needed) a results database. Returns 0, or -1 with a
 * message in err: not an SQLite file, an SQLite file that is not ours, a
 * schema version this binary does not know, I/O errors. */
int rdb_open(const char *path, struct rdb **out, char *err, size_t errlen);
int rdb_open_mode(const char *path, enum rdb_open_mode mode, struct rdb **out,
                  char *err, size_t errlen);
void rdb_close(struct rdb *db);

/* The message of the last failed call on db. */
const char *rdb_errmsg(const struct rdb *db);

const char *rdb_verdict_name(enum rdb_verdict v);
int rdb_verdict_parse(const char *s, enum rdb_verdict *out);

/* Stores a run with its violations, faults and metrics in one transaction.
 * Returns 0 (and the new id in *id_out if not NULL), or -1 (nothing stored). */
int rdb_insert_run(struct rdb *db, const struct rdb_run *run);
int rdb_insert_run_id(struct rdb *db, const struct rdb_run *run, int64_t *id_out);

/* Appends latency_us.<op>.{n,p50,p90,p99,max} for one op kind to metrics[*n]
 * (capacity cap). Returns 0, or -1 if it does not fit or the name is too long. */
int rdb_metrics_add_latency(struct rdb_metric *metrics, size_t cap, size_t *n,
                            const char *op_kind, const struct stats_summary *s);

/* Summarizes samples per op kind (sample i: kinds[i] in 0..n_kinds-1,
 * latency_us[i]) and appends latency_us.<kind_names[k]>.* for each kind that
 * has samples. Returns 0, or -1 on bad samples or too little room; then *n
 * is unchanged (entries past it may have been written). */
int rdb_metrics_add_latencies(struct rdb_metric *metrics, size_t cap, size_t *n,
                              const int *kinds, const double *latency_us, size_t n_samples,
                              const char *const *kind_names, size_t n_kinds);

/* Reads one run with all its child rows. Free with rdb_run_free. */
int rdb_load_run(struct rdb *db, int64_t id, struct rdb_run **out);
void rdb_run_free(struct rdb_run *run);

struct rdb_filter {
    const char *scenario;  /* NULL: every scenario */
    bool failed_only;      /* verdict fail or error */
    size_t limit;          /* 0: no limit */
};

/* Calls fn for each run matching f, in id order. The run passed has its
 * n_violations/n_faults/n_metrics set but no child arrays. fn returns
 * nonzero to stop (that value is returned). Returns 0, or -1 on error. */
typedef int (*rdb_run_fn)(const struct rdb_run *run, void *ctx);
int rdb_list(struct rdb *db, const struct rdb_filter *f, rdb_run_fn fn, void *ctx);

struct rdb_scenario_summary {
    const char *scenario;
    int64_t runs;
    int64_t pass;
    int64_t fail;
    int64_t error;
    int64_t seeds;         /* distinct seeds */
};
typedef int (*rdb_summary_fn)(const struct rdb_scenario_summary *s, void *ctx);
/* Per-scenario counts, scenarios in name order (honours f->scenario only). */
int rdb_summarize(struct rdb *db, const struct rdb_filter *f, rdb_summary_fn fn, void *ctx);

/* Number of runs stored, or -1 on error. */
int64_t rdb_count_runs(struct rdb *db);

struct rdb_merge_stats {
    int64_t runs_added;
    int64_t runs_present;  /* already in db (same uid): merging twice is harmless */
};
/* Copies every run of the database at other_path (a shard) into db in one
 * transaction. stats may be NULL. Returns 0; RDB_MERGE_BAD_SHARD if
 * other_path is missing, not a zablab database of this schema version, or
 * db's own file; -1 on a database error. */
#define RDB_MERGE_BAD_SHARD (-2)
int rdb_merge(struct rdb *db, const char *other_path, struct rdb_merge_stats *stats);

/* A (scenario, seed) whose verdict differs between the two databases. The
 * verdict of a pair is its worst run: fail over error over pass. */
struct rdb_change {
    char *scenario;
    uint64_t seed;
    enum rdb_verdict old_verdict;
    enum rdb_verdict new_verdict;
    int64_t old_run_id;    /* worst run of the pair in old */
    int64_t new_run_id;    /* worst run of the pair in new */
};

/* Median over all runs of a scenario of one metric, in old and in new. */
struct rdb_metric_change {
    char *scenario;
    char name[RDB_METRIC_NAME_MAX];
    double old_median;
    double new_median;
    double rel_change;     /* (new-old)/|old|; 0 if both 0; +-INFINITY if old is 0 */
    size_t n_old;
    size_t n_new;
};

struct rdb_compare_report {
    struct rdb_change *new_failures;   /* pass in old, fail or error in new */
    size_t n_new_failures;
    struct rdb_change *fixed;          /* fail or error in old, pass in new */
    size_t n_fixed;
    struct rdb_metric_change *metrics; /* every (scenario, metric) in both */
    size_t n_metrics;
    size_t pairs_old;                  /* distinct (scenario, seed) in old */
    size_t pairs_new;
    size_t pairs_common;
    size_t still_failing;              /* not pass in both */
    bool truncated;                    /* RDB_COMPARE_ITEMS_MAX was reached */
};

/* Regression report of cur against old. Errors are reported on cur.
 * Free with rdb_compare_free (also after a failure). */
int rdb_compare(struct rdb *old, struct rdb *cur, struct rdb_compare_report *out);
void rdb_compare_free(struct rdb_compare_report *r);

#endif
