/* The summary page over many seeds: `zablab runs --db FILE --report DIR`
 * writes DIR/index.html from a results database (reports/results_db.h):
 * per scenario the pass/fail counts, the failure kinds (violated property,
 * how many runs, the first seed and its replay command), the failing runs
 * with the exact commands that replay them and write their run report, and
 * the distribution of every recorded metric across seeds (percentiles from
 * libgsl, a small histogram and box plot each). docs/reports.md says how to
 * read it.
 *
 * Owns: the aggregate of one database while writing; the output file.
 * Must never: reference anything outside the page (no http(s), no <link>,
 * no src=), grow with the number of runs beyond its stated bounds (failing
 * runs listed per scenario, scenarios drawn, metrics per scenario), or
 * leave a half-written index.html behind. */
#ifndef ZABLAB_REPORTS_RUNS_REPORT_H
#define ZABLAB_REPORTS_RUNS_REPORT_H

#include <stddef.h>

#include "reports/results_db.h"

/* Failing runs listed per scenario when the caller asks for 0. */
#define RRUN_FAILURES_DEFAULT 20
#define RRUN_FAILURES_MAX 1000
/* Scenarios with a section of their own; further ones are rows of the
 * overview table only (at most RRUN_ROWS_MAX rows, then a count). */
#define RRUN_SECTIONS_MAX 200
#define RRUN_ROWS_MAX 5000
#define RRUN_KINDS_MAX 32       /* failure kinds per scenario, then a count */
#define RRUN_METRICS_MAX 48     /* metrics per scenario, then a count */
#define RRUN_HIST_BINS 24

struct rrun_opts {
    const char *db_label;         /* shown in the title and in commands: the db path */
    size_t failures_max;          /* failing runs listed per scenario; 0: default */
    const char *report_root;      /* where the suggested run reports go; NULL: "out" */
};

/* Writes DIR/index.html (DIR is created if missing; its parent must exist).
 * Returns 0, or -1 with a message in err. */
int rrun_write(struct rdb *db, const char *dir, const struct rrun_opts *o, char *err, size_t errlen);

#endif
