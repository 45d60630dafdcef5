/* Results database: merging shard files and comparing two databases (see
 * results_db.h).
 *
 * Both the comparison of verdicts and of metric medians are merge-joins of
 * two sorted streams, one per database, so memory stays proportional to the
 * report (and one group of metric values), not to the databases. The order
 * of both streams is SQLite's BINARY collation (memcmp, like strcmp for
 * text without NULs) and signed 64-bit seeds, which the join below mirrors.
 *
 * Must never: leave a half-merged shard behind (one transaction per merge),
 * or merge a file into itself. */
#include "reports/results_db_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- merging ----------------------------------------------------------- */

static const char rdb_sql_merge_runs[] = "SELECT id FROM shard.runs ORDER BY id";
static const char rdb_sql_merge_run[] =
    "INSERT INTO main.runs(" RDB_RUN_DATA_COLUMNS ") SELECT " RDB_RUN_DATA_COLUMNS
    " FROM shard.runs WHERE id = ?1 ON CONFLICT(uid) DO NOTHING";
static const char *const rdb_sql_merge_children[3] = {
    "INSERT INTO main.violations(run_id, property, sim_time_ns, nodes, details) "
    "SELECT ?1, property, sim_time_ns, nodes, details FROM shard.violations "
    "WHERE run_id = ?2 ORDER BY id",
    "INSERT INTO main.faults(run_id, sim_time_ns, kind, target, details) "
    "SELECT ?1, sim_time_ns, kind, target, details FROM shard.faults "
    "WHERE run_id = ?2 ORDER BY id",
    "INSERT INTO main.run_metrics(run_id, name, value) "
    "SELECT ?1, name, value FROM shard.run_metrics WHERE run_id = ?2",
};

static bool rdb_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

struct rdb_merge_stmts {
    sqlite3_stmt *runs;
    sqlite3_stmt *run;
    sqlite3_stmt *child[3];
};

static void rdb_merge_finalize(struct rdb_merge_stmts *m)
{
    sqlite3_finalize(m->runs);
    sqlite3_finalize(m->run);
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(m->child[i]);
}

static int rdb_merge_prepare(struct rdb *db, struct rdb_merge_stmts *m)
{
    if (rdb_prepare(db, rdb_sql_merge_runs, &m->runs) != 0 ||
        rdb_prepare(db, rdb_sql_merge_run, &m->run) != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        if (rdb_prepare(db, rdb_sql_merge_children[i], &m->child[i]) != 0)
            return -1;
    return 0;
}

/* Copies one shard run and its children; counts it as added or present. */
static int rdb_merge_one(struct rdb *db, struct rdb_merge_stmts *m, int64_t shard_id,
                         struct rdb_merge_stats *stats)
{
    sqlite3_bind_int64(m->run, 1, shard_id);
    int rc = sqlite3_step(m->run);
    sqlite3_reset(m->run);
    if (rc != SQLITE_DONE)
        return rdb_fail_sql(db, "merge run");
    if (sqlite3_changes(db->sql) == 0) {
        stats->runs_present++;
        return 0;
    }
    int64_t new_id = sqlite3_last_insert_rowid(db->sql);
    for (int i = 0; i < 3; i++) {
        sqlite3_bind_int64(m->child[i], 1, new_id);
        sqlite3_bind_int64(m->child[i], 2, shard_id);
        rc = sqlite3_step(m->child[i]);
        sqlite3_reset(m->child[i]);
        if (rc != SQLITE_DONE)
            return rdb_fail_sql(db, "merge run details");
    }
    stats->runs_added++;
    return 0;
}

static int rdb_merge_attached(struct rdb *db, struct rdb_merge_stats *stats)
{
    struct rdb_merge_stmts m = {0};
    int status = -1;
    if (rdb_merge_prepare(db, &m) != 0 || rdb_exec(db, "BEGIN IMMEDIATE") != 0)
        goto out;
    int rc;
    while ((rc = sqlite3_step(m.runs)) == SQLITE_ROW)
        if (rdb_merge_one(db, &m, sqlite3_column_int64(m.runs, 0), stats) != 0)
            break;
    if (rc == SQLITE_ROW) /* rdb_merge_one failed and said why */
        goto out;
    if (rc != SQLITE_DONE) {
        rdb_fail_sql(db, "read shard");
        goto out;
    }
    sqlite3_finalize(m.runs);
    m.runs = NULL;
    status = rdb_exec(db, "COMMIT");
out:
    rdb_merge_finalize(&m);
    if (status != 0) {
        rdb_rollback(db);
        memset(stats, 0, sizeof *stats);
    }
    return status;
}

int rdb_merge(struct rdb *db, const char *other_path, struct rdb_merge_stats *stats)
{
    struct rdb_merge_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    /* Validate the shard (ours, same schema version) before attaching it. */
    char err[RDB_ERR_MAX];
    struct rdb *shard = NULL;
    if (rdb_open_mode(other_path, RDB_OPEN_EXISTING, &shard, err, sizeof err) != 0) {
        rdb_fail(db, "merge: %s", err);
        return RDB_MERGE_BAD_SHARD;
    }
    rdb_close(shard);
    if (rdb_same_file(db->path, other_path)) {
        rdb_fail(db, "merge: %s is the database being merged into", other_path);
        return RDB_MERGE_BAD_SHARD;
    }
    sqlite3_stmt *st = NULL;
    if (rdb_prepare(db, "ATTACH DATABASE ?1 AS shard", &st) != 0)
        return -1;
    sqlite3_bind_text(st, 1, other_path, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rdb_fail_sql(db, "attach shard");
    int status = rdb_merge_attached(db, stats);
    /* DETACH is harmless after a failure; keep the first error message. */
    sqlite3_exec(db->sql, "DETACH DATABASE shard", NULL, NULL, NULL);
    return status;
}

/* ---- comparing: growable report arrays --------------------------------- */

/* Appends one zeroed element; NULL (and r->truncated) at the bound or on
 * allocation failure (then *oom). */
static void *rdb_push(void **arr, size_t *n, size_t elem_size, bool *truncated, bool *oom)
{
    if (*n >= RDB_COMPARE_ITEMS_MAX) {
        *truncated = true;
        return NULL;
    }
    /* Capacity is 16, 32, 64, ...: the array is full exactly when n is one
     * of those. */
    if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
        size_t cap = *n ? *n * 2 : 16;
        void *p = realloc(*arr, cap * elem_size);
        if (!p) {
            *oom = true;
            return NULL;
        }
        *arr = p;
    }
    void *elem = (char *)*arr + (*n)++ * elem_size;
    memset(elem, 0, elem_size);
    return elem;
}

void rdb_compare_free(struct rdb_compare_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_new_failures; i++)
        free(r->new_failures[i].scenario);
    for (size_t i = 0; i < r->n_fixed; i++)
        free(r->fixed[i].scenario);
    for (size_t i = 0; i < r->n_metrics; i++)
        free(r->metrics[i].scenario);
    free(r->new_failures);
    free(r->fixed);
    free(r->metrics);
    memset(r, 0, sizeof *r);
}

/* ---- comparing: verdicts per (scenario, seed) -------------------------- */

static const char rdb_sql_pairs[] =
    "SELECT scenario, seed, "
    "CASE WHEN sum(verdict = 'fail') > 0 THEN 1 WHEN sum(verdict = 'error') > 0 THEN 2 "
    "ELSE 0 END, "
    "coalesce(max(CASE WHEN verdict = 'fail' THEN id END), "
    "max(CASE WHEN verdict = 'error' THEN id END), max(id)) "
    "FROM runs GROUP BY scenario, seed ORDER BY scenario, seed";

static int rdb_pair_cmp(sqlite3_stmt *a, sqlite3_stmt *b)
{
    int c = strcmp((const char *)sqlite3_column_text(a, 0),
                   (const char *)sqlite3_column_text(b, 0));
    if (c)
        return c;
    int64_t sa = sqlite3_column_int64(a, 1), sb = sqlite3_column_int64(b, 1);
    return (sa > sb) - (sa < sb);
}

static int rdb_record_change(struct rdb *cur, struct rdb_compare_report *r, sqlite3_stmt *o,
                             sqlite3_stmt *n)
{
    enum rdb_verdict vo = (enum rdb_verdict)sqlite3_column_int(o, 2);
    enum rdb_verdict vn = (enum rdb_verdict)sqlite3_column_int(n, 2);
    bool oom = false;
    struct rdb_change *c = NULL;
    if (vo == RDB_VERDICT_PASS && vn != RDB_VERDICT_PASS)
        c = rdb_push((void **)&r->new_failures, &r->n_new_failures, sizeof *c,
                     &r->truncated, &oom);
    else if (vo != RDB_VERDICT_PASS && vn == RDB_VERDICT_PASS)
        c = rdb_push((void **)&r->fixed, &r->n_fixed, sizeof *c, &r->truncated, &oom);
    else if (vo != RDB_VERDICT_PASS)
        r->still_failing++;
    if (c) {
        c->scenario = strdup((const char *)sqlite3_column_text(n, 0));
        c->seed = (uint64_t)sqlite3_column_int64(n, 1);
        c->old_verdict = vo;
        c->new_verdict = vn;
        c->old_run_id = sqlite3_column_int64(o, 3);
        c->new_run_id = sqlite3_column_int64(n, 3);
        oom |= c->scenario == NULL;
    }
    return oom ? rdb_fail(cur, "compare: out of memory") : 0;
}

static int rdb_compare_pairs(struct rdb *old, struct rdb *cur, struct rdb_compare_report *r)
{
    sqlite3_stmt *o = NULL, *n = NULL;
    int status = -1;
    if (rdb_prepare(old, rdb_sql_pairs, &o) != 0) {
        rdb_fail(cur, "%s", old->err);
        goto out;
    }
    if (rdb_prepare(cur, rdb_sql_pairs, &n) != 0)
        goto out;
    int ro = sqlite3_step(o), rn = sqlite3_step(n);
    while (ro == SQLITE_ROW || rn == SQLITE_ROW) {
        int c = ro != SQLITE_ROW ? 1 : rn != SQLITE_ROW ? -1 : rdb_pair_cmp(o, n);
        if (c == 0) {
            r->pairs_common++;
            if (rdb_record_change(cur, r, o, n) != 0)
                goto out;
        }
        if (c <= 0) {
            r->pairs_old++;
            ro = sqlite3_step(o);
        }
        if (c >= 0) {
            r->pairs_new++;
            rn = sqlite3_step(n);
        }
    }
    if (ro != SQLITE_DONE) {
        rdb_fail_sql(old, "compare");
        rdb_fail(cur, "%s", old->err);
    } else if (rn != SQLITE_DONE)
        rdb_fail_sql(cur, "compare");
    else
        status = 0;
out:
    sqlite3_finalize(o);
    sqlite3_finalize(n);
    return status;
}

/* ---- comparing: metric medians per (scenario, metric) ------------------ */

static const char rdb_sql_metric_values[] =
    "SELECT scenario, name, value FROM metric_values ORDER BY scenario, name, value";

/* Reads metric_values one (scenario, name) group at a time. */
struct rdb_groups {
    struct rdb *db;
    sqlite3_stmt *st;
    int rc;              /* result of the last step */
    char *scenario;      /* current group, owned */
    char *name;
    double median;
    size_t n;
    double *values;      /* the group's values, ascending (SQL sorted them) */
    size_t cap;
};

static int rdb_groups_open(struct rdb_groups *g, struct rdb *db)
{
    memset(g, 0, sizeof *g);
    g->db = db;
    if (rdb_prepare(db, rdb_sql_metric_values, &g->st) != 0)
        return -1;
    g->rc = sqlite3_step(g->st);
    return 0;
}

static void rdb_groups_close(struct rdb_groups *g)
{
    sqlite3_finalize(g->st);
    free(g->scenario);
    free(g->name);
    free(g->values);
    memset(g, 0, sizeof *g);
}

static bool rdb_groups_row_matches(const struct rdb_groups *g)
{
    return !strcmp((const char *)sqlite3_column_text(g->st, 0), g->scenario) &&
           !strcmp((const char *)sqlite3_column_text(g->st, 1), g->name);
}

/* Advances to the next group: 1 if there is one, 0 at the end, -1 on error. */
static int rdb_groups_next(struct rdb_groups *g)
{
    if (g->rc == SQLITE_DONE)
        return 0;
    if (g->rc != SQLITE_ROW)
        return rdb_fail_sql(g->db, "read metrics");
    free(g->scenario);
    free(g->name);
    g->scenario = strdup((const char *)sqlite3_column_text(g->st, 0));
    g->name = strdup((const char *)sqlite3_column_text(g->st, 1));
    if (!g->scenario || !g->name)
        return rdb_fail(g->db, "compare: out of memory");
    g->n = 0;
    while (g->rc == SQLITE_ROW && rdb_groups_row_matches(g)) {
        if (g->n == g->cap) {
            size_t cap = g->cap ? g->cap * 2 : 64;
            double *p = cap <= STATS_SAMPLES_MAX ? realloc(g->values, cap * sizeof *p) : NULL;
            if (!p)
                return rdb_fail(g->db, "compare: too many values of %s in %s", g->name,
                                g->scenario);
            g->values = p;
            g->cap = cap;
        }
        g->values[g->n++] = sqlite3_column_double(g->st, 2);
        g->rc = sqlite3_step(g->st);
    }
    g->median = stats_quantile_sorted(g->values, g->n, 0.5);
    return 1;
}

static int rdb_group_cmp(const struct rdb_groups *a, const struct rdb_groups *b)
{
    int c = strcmp(a->scenario, b->scenario);
    return c ? c : strcmp(a->name, b->name);
}

static double rdb_rel_change(double old_v, double new_v)
{
    if (old_v == new_v)
        return 0.0;
    if (old_v == 0.0)
        return new_v > 0 ? INFINITY : -INFINITY;
    return (new_v - old_v) / fabs(old_v);
}

static int rdb_record_metric(struct rdb *cur, struct rdb_compare_report *r,
                             const struct rdb_groups *o, const struct rdb_groups *n)
{
    bool oom = false;
    struct rdb_metric_change *m = rdb_push((void **)&r->metrics, &r->n_metrics, sizeof *m,
                                           &r->truncated, &oom);
    if (!m)
        return oom ? rdb_fail(cur, "compare: out of memory") : 0;
    m->scenario = strdup(n->scenario);
    if (!m->scenario)
        return rdb_fail(cur, "compare: out of memory");
    snprintf(m->name, sizeof m->name, "%s", n->name);
    m->old_median = o->median;
    m->new_median = n->median;
    m->rel_change = rdb_rel_change(o->median, n->median);
    m->n_old = o->n;
    m->n_new = n->n;
    return 0;
}

static int rdb_compare_metrics(struct rdb *old, struct rdb *cur, struct rdb_compare_report *r)
{
    struct rdb_groups o, n;
    int status = -1;
    if (rdb_groups_open(&o, old) != 0) {
        rdb_fail(cur, "%s", old->err);
        rdb_groups_close(&o);
        return -1;
    }
    if (rdb_groups_open(&n, cur) != 0)
        goto out;
    int ho = rdb_groups_next(&o), hn = rdb_groups_next(&n);
    while (ho == 1 && hn == 1) {
        int c = rdb_group_cmp(&o, &n);
        if (c == 0 && rdb_record_metric(cur, r, &o, &n) != 0)
            goto out;
        if (c <= 0)
            ho = rdb_groups_next(&o);
        if (c >= 0)
            hn = rdb_groups_next(&n);
    }
    if (ho < 0)
        rdb_fail(cur, "%s", old->err);
    else if (hn >= 0)
        status = 0;
out:
    rdb_groups_close(&o);
    rdb_groups_close(&n);
    return status;
}

int rdb_compare(struct rdb *old, struct rdb *cur, struct rdb_compare_report *out)
{
    memset(out, 0, sizeof *out);
    if (rdb_compare_pairs(old, cur, out) != 0 || rdb_compare_metrics(old, cur, out) != 0)
        return -1;
    return 0;
}
