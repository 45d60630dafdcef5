/* Aggregate reads for the many-seed summary page: metric groups and failure
 * kinds (reports/results_db_query.h). Read-only; one statement per call.
 *
 * Owns: the statement and the value buffer of one call.
 * Must never: write, or keep more than RDB_GROUP_VALUES_MAX values. */
#include "reports/results_db_query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reports/results_db_internal.h"

static const char rdb_sql_groups[] =
    "SELECT scenario, name, value FROM metric_values ORDER BY scenario, name, value";

/* A failing run counts once per property it violated; runs without a
 * violation row get a kind of their own. The smallest unsigned seed: seeds
 * >= 2^63 are stored negative, so non-negative ones come first. */
static const char rdb_sql_kinds[] =
    "WITH failing AS (\n"
    "  SELECT r.id, r.scenario, r.seed, r.replay, r.bugs,\n"
    "         COALESCE(v.property, CASE r.verdict WHEN 'error' THEN '" RDB_KIND_ERROR "'\n"
    "                                 ELSE '" RDB_KIND_UNNAMED "' END) AS kind\n"
    "  FROM runs r LEFT JOIN violations v ON v.run_id = r.id WHERE r.verdict <> 'pass'),\n"
    "kinds AS (\n"
    "  SELECT scenario, kind, COUNT(DISTINCT id) AS n,\n"
    "         COALESCE(MIN(CASE WHEN seed >= 0 THEN seed END), MIN(seed)) AS first_seed\n"
    "  FROM failing GROUP BY scenario, kind)\n"
    "SELECT k.scenario, k.kind, k.n, k.first_seed,\n"
    "  (SELECT f.replay FROM failing f WHERE f.scenario = k.scenario AND f.kind = k.kind\n"
    "     AND f.seed = k.first_seed ORDER BY f.id LIMIT 1),\n"
    "  (SELECT f.bugs FROM failing f WHERE f.scenario = k.scenario AND f.kind = k.kind\n"
    "     AND f.seed = k.first_seed ORDER BY f.id LIMIT 1)\n"
    "FROM kinds k ORDER BY k.scenario, k.n DESC, k.kind";

struct rdb_group_buf {
    char *scenario, *name;
    double *values;
    size_t n_kept, n_total, cap;
};

static int group_start(struct rdb_group_buf *g, sqlite3_stmt *st)
{
    free(g->scenario);
    free(g->name);
    g->scenario = strdup((const char *)sqlite3_column_text(st, 0));
    g->name = strdup((const char *)sqlite3_column_text(st, 1));
    g->n_kept = g->n_total = 0;
    return g->scenario && g->name ? 0 : -1;
}

static bool group_same(const struct rdb_group_buf *g, sqlite3_stmt *st)
{
    return g->scenario && !strcmp((const char *)sqlite3_column_text(st, 0), g->scenario) &&
           !strcmp((const char *)sqlite3_column_text(st, 1), g->name);
}

static int group_push(struct rdb_group_buf *g, double v)
{
    g->n_total++;
    if (g->n_kept >= RDB_GROUP_VALUES_MAX)
        return 0;
    if (g->n_kept == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 256;
        double *p = realloc(g->values, ncap * sizeof *p);
        if (!p)
            return -1;
        g->values = p, g->cap = ncap;
    }
    g->values[g->n_kept++] = v;
    return 0;
}

static int group_emit(const struct rdb_group_buf *g, rdb_group_fn fn, void *ctx)
{
    if (!g->scenario || !g->n_total)
        return 0;
    struct rdb_metric_group mg = {g->scenario, g->name, g->values, g->n_kept, g->n_total};
    return fn(&mg, ctx);
}

int rdb_each_metric_group(struct rdb *db, rdb_group_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (rdb_prepare(db, rdb_sql_groups, &st) != 0)
        return -1;
    struct rdb_group_buf g = {0};
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            continue;
        if (!group_same(&g, st)) {
            if ((rc = group_emit(&g, fn, ctx)) != 0)
                break;
            if (group_start(&g, st) != 0) {
                rc = rdb_fail(db, "metric groups: out of memory");
                break;
            }
        }
        if (group_push(&g, sqlite3_column_double(st, 2)) != 0)
            rc = rdb_fail(db, "metric groups: out of memory");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = rdb_fail_sql(db, "metric groups");
    else if (rc == 0)
        rc = group_emit(&g, fn, ctx);
    sqlite3_finalize(st);
    free(g.scenario), free(g.name), free(g.values);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

int rdb_each_failure_kind(struct rdb *db, rdb_kind_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (rdb_prepare(db, rdb_sql_kinds, &st) != 0)
        return -1;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct rdb_failure_kind k = {
            .scenario = col_text(st, 0), .property = col_text(st, 1),
            .runs = sqlite3_column_int64(st, 2), .first_seed = (uint64_t)sqlite3_column_int64(st, 3),
            .first_replay = col_text(st, 4), .first_bugs = col_text(st, 5),
        };
        if ((rc = fn(&k, ctx)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = rdb_fail_sql(db, "failure kinds");
    sqlite3_finalize(st);
    return rc;
}
