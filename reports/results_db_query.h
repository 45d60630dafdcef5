/* Aggregate reads of a results database for the summary page over many
 * seeds (reports/runs_report.h): every metric of every run grouped by
 * (scenario, metric), and failures grouped by (scenario, violated property).
 *
 * Owns: the statements of one call; nothing between calls.
 * Must never: write to the database, or hold more than RDB_GROUP_VALUES_MAX
 * values of one group in memory (more are counted, not kept). */
#ifndef ZABLAB_REPORTS_RESULTS_DB_QUERY_H
#define ZABLAB_REPORTS_RESULTS_DB_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "reports/results_db.h"

/* Values of one (scenario, metric) group kept for its distribution. */
#define RDB_GROUP_VALUES_MAX (1u << 20)

/* The kind given to failing runs that recorded no violation. */
#define RDB_KIND_ERROR "(error: run not carried out)"
#define RDB_KIND_UNNAMED "(failed: no property recorded)"

struct rdb_metric_group {
    const char *scenario;
    const char *name;          /* "commits", "latency_us.commit.p99", ... */
    const double *values;      /* ascending; the smallest n_kept values */
    size_t n_kept;
    size_t n_total;            /* runs with this metric; > n_kept when over the cap */
};
typedef int (*rdb_group_fn)(const struct rdb_metric_group *g, void *ctx);

/* Calls fn per (scenario, metric) in (scenario, name) order with the values
 * of every run (fixed columns and run_metrics alike). fn returns nonzero to
 * stop (that value is returned). Returns 0, or -1 with rdb_errmsg(db). */
int rdb_each_metric_group(struct rdb *db, rdb_group_fn fn, void *ctx);

/* One way a scenario failed: the runs (fail or error) that violated
 * `property`, or RDB_KIND_ERROR / RDB_KIND_UNNAMED for runs without a
 * violation row. first_seed is the smallest seed (unsigned) among them and
 * first_replay that run's replay command ("" if none was recorded). */
struct rdb_failure_kind {
    const char *scenario;
    const char *property;
    int64_t runs;
    uint64_t first_seed;
    const char *first_replay;
    const char *first_bugs;
};
typedef int (*rdb_kind_fn)(const struct rdb_failure_kind *k, void *ctx);

/* Calls fn per failure kind, by scenario, then most runs first, then
 * property. Same return convention as rdb_each_metric_group. */
int rdb_each_failure_kind(struct rdb *db, rdb_kind_fn fn, void *ctx);

#endif
