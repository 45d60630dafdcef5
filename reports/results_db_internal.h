/* Private to reports/results_db*.c: the connection struct and the helpers the
 * schema/insert half and the merge/compare half share. Nothing else may
 * include it. */
#ifndef ZABLAB_REPORTS_RESULTS_DB_INTERNAL_H
#define ZABLAB_REPORTS_RESULTS_DB_INTERNAL_H

#include <sqlite3.h>

#include "reports/results_db.h"

struct rdb {
    sqlite3 *sql;
    char *path;
    char err[RDB_ERR_MAX];
    /* Prepared once, on first use, and reused for every run. */
    sqlite3_stmt *ins_run;
    sqlite3_stmt *ins_violation;
    sqlite3_stmt *ins_fault;
    sqlite3_stmt *ins_metric;
};

/* The columns of `runs` in the order rdb_row_to_run reads them. */
#define RDB_RUN_COLUMNS                                                              \
    "r.id, r.uid, r.scenario, r.scenario_hash, r.seed, r.version, r.bugs, r.verdict, " \
    "r.trace_hash, r.started_at, r.replay, r.duration_ms, r.simulated_ms, r.events, "  \
    "r.elections, r.max_epoch, r.commits, r.ops_ok, r.ops_fail, r.ops_info"
#define RDB_RUN_NCOLUMNS 20

/* The copyable columns of `runs` (all but id), for merging. */
#define RDB_RUN_DATA_COLUMNS                                                     \
    "uid, scenario, scenario_hash, seed, version, bugs, verdict, trace_hash, "   \
    "started_at, replay, duration_ms, simulated_ms, events, elections, "         \
    "max_epoch, commits, ops_ok, ops_fail, ops_info"

int rdb_fail(struct rdb *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Formats "<what>: <sqlite message>" into db->err; returns -1. */
int rdb_fail_sql(struct rdb *db, const char *what);
int rdb_exec(struct rdb *db, const char *sql);
int rdb_prepare(struct rdb *db, const char *sql, sqlite3_stmt **st);
/* Rolls back an open transaction, keeping the first error message. */
void rdb_rollback(struct rdb *db);
/* Fills run's scalar fields from the current row (RDB_RUN_COLUMNS order);
 * text points into the statement. Returns 0, or -1 if a column is malformed. */
int rdb_row_to_run(struct rdb *db, sqlite3_stmt *st, struct rdb_run *run);

#endif
