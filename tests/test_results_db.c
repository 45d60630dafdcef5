/* reports/results_db: schema creation, insert and read back, atomic inserts,
 * concurrent writers in separate processes, merging shards, the regression
 * comparison, and clean errors on files that are not ours. Every test works
 * in its own mkdtemp directory, removed afterwards. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "reports/results_db.h"
#include "reports/stats.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/zablab-rdb-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/runs.db", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[512];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void path_in(const struct fixture *fx, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", fx->dir, name);
}

static struct rdb *open_ok(const char *path)
{
    struct rdb *db = NULL;
    char err[RDB_ERR_MAX] = "";
    int rc = rdb_open(path, &db, err, sizeof err);
    if (rc != 0)
        print_error("rdb_open(%s): %s\n", path, err);
    assert_int_equal(rc, 0);
    assert_non_null(db);
    return db;
}

/* A run whose fields all differ from each other and from zero, so a
 * swapped or dropped column shows up in the read-back comparison. */
static struct rdb_run sample_run(const char *scenario, uint64_t seed, enum rdb_verdict v)
{
    struct rdb_run r = {
        .scenario = scenario, .scenario_hash = 0x0123456789abcdefull, .seed = seed,
        .version = "0.1.0", .bugs = "", .verdict = v, .trace_hash = 0xfedcba9876543210ull ^ seed,
        .started_at = "2026-11-23T09:00:00Z", .replay = "zablab run x.scn --seed 1",
        .duration_ms = 11, .simulated_ms = 12000, .events = 13, .elections = 2, .max_epoch = 3,
        .commits = 15, .ops_ok = 16, .ops_fail = 17, .ops_info = 18,
    };
    return r;
}

static int64_t insert_ok(struct rdb *db, const struct rdb_run *r)
{
    int64_t id = -1;
    int rc = rdb_insert_run_id(db, r, &id);
    if (rc != 0)
        print_error("insert: %s\n", rdb_errmsg(db));
    assert_int_equal(rc, 0);
    assert_true(id > 0);
    return id;
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -999;
    assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
}

/* ---- schema ---- */

static void schema_is_created_in_wal_mode(void **state)
{
    struct fixture *fx = *state;
    struct rdb *db = open_ok(fx->path);
    assert_int_equal(rdb_count_runs(db), 0);
    rdb_close(db);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE type='table' "
                             "AND name IN ('runs','violations','faults','run_metrics',"
                             "'schema_version')"), 5);
    assert_int_equal(sql_int(fx->path, "SELECT version FROM schema_version"), RDB_SCHEMA_VERSION);
    assert_int_equal(sql_int(fx->path, "PRAGMA application_id"), RDB_APPLICATION_ID);
    /* WAL is a property of the file: a plain connection sees it too. */
    assert_int_equal(sql_int(fx->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    /* Opening again (either mode) validates instead of re-creating. */
    char err[RDB_ERR_MAX];
    assert_int_equal(rdb_open_mode(fx->path, RDB_OPEN_EXISTING, &db, err, sizeof err), 0);
    rdb_close(db);
    db = open_ok(fx->path);
    rdb_close(db);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM schema_version"), 1);
}

/* ---- insert and read back ---- */

static void run_round_trips(void **state)
{
    struct fixture *fx = *state;
    struct rdb *db = open_ok(fx->path);
    const struct rdb_violation viol[2] = {
        {"one-leader-per-epoch", 5000000, "1,2", "epoch 3 has leaders 1 and 2"},
        {"acked-write-lost", 7000000, "3", "zxid 0x300000002 missing"},
    };
    const struct rdb_fault faults[1] = {{1000000, "partition", "{1,2}|{3}", "both ways"}};
    const double lat[5] = {100, 200, 300, 400, 1000};
    struct stats_summary s;
    assert_int_equal(stats_summarize(lat, 5, &s, NULL, 0), 0);
    struct rdb_metric metrics[8];
    size_t nm = 0;
    assert_int_equal(rdb_metrics_add_latency(metrics, 8, &nm, "create", &s), 0);
    assert_int_equal(nm, 5);
    /* Not enough room for a second kind: refused, count unchanged. */
    assert_int_equal(rdb_metrics_add_latency(metrics, 8, &nm, "getData", &s), -1);
    assert_int_equal(nm, 5);

    struct rdb_run r = sample_run("elect-3", UINT64_MAX - 5, RDB_VERDICT_FAIL);
    r.bugs = "skip-fsync-before-ack";
    r.violations = viol;
    r.n_violations = 2;
    r.faults = faults;
    r.n_faults = 1;
    r.metrics = metrics;
    r.n_metrics = nm;
    int64_t id = insert_ok(db, &r);

    struct rdb_run *got = NULL;
    assert_int_equal(rdb_load_run(db, id, &got), 0);
    assert_int_equal(got->id, id);
    assert_int_equal(strlen(got->uid), 32);
    assert_string_equal(got->scenario, "elect-3");
    assert_true(got->scenario_hash == r.scenario_hash);
    assert_true(got->seed == UINT64_MAX - 5);
    assert_true(got->trace_hash == r.trace_hash);
    assert_string_equal(got->version, "0.1.0");
    assert_string_equal(got->bugs, "skip-fsync-before-ack");
    assert_int_equal(got->verdict, RDB_VERDICT_FAIL);
    assert_string_equal(got->started_at, "2026-11-23T09:00:00Z");
    assert_string_equal(got->replay, r.replay);
    const int64_t want[9] = {11, 12000, 13, 2, 3, 15, 16, 17, 18};
    const int64_t have[9] = {got->duration_ms, got->simulated_ms, got->events, got->elections,
                             got->max_epoch, got->commits, got->ops_ok, got->ops_fail,
                             got->ops_info};
    assert_memory_equal(want, have, sizeof want);
    assert_int_equal(got->n_violations, 2);
    assert_string_equal(got->violations[0].property, "one-leader-per-epoch");
    assert_int_equal(got->violations[1].sim_time_ns, 7000000);
    assert_string_equal(got->violations[1].nodes, "3");
    assert_string_equal(got->violations[1].details, "zxid 0x300000002 missing");
    assert_int_equal(got->n_faults, 1);
    assert_string_equal(got->faults[0].kind, "partition");
    assert_string_equal(got->faults[0].target, "{1,2}|{3}");
    assert_int_equal(got->n_metrics, 5);
    /* Sorted by name: max, n, p50, p90, p99. */
    assert_string_equal(got->metrics[0].name, "latency_us.create.max");
    assert_true(got->metrics[0].value == 1000.0);
    assert_string_equal(got->metrics[2].name, "latency_us.create.p50");
    assert_true(got->metrics[2].value == 300.0);
    assert_string_equal(got->metrics[3].name, "latency_us.create.p90");
    assert_true(fabs(got->metrics[3].value - 760.0) < 1e-9);
    rdb_run_free(got);

    assert_int_equal(rdb_load_run(db, id + 100, &got), -1);
    assert_null(got);
    assert_non_null(strstr(rdb_errmsg(db), "no run with id"));
    rdb_close(db);
}

static const struct rdb_metric *metric_named(const struct rdb_metric *m, size_t n,
                                             const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(m[i].name, name))
            return &m[i];
    return NULL;
}

static void latency_metrics_per_kind(void **state)
{
    (void)state;
    const char *const names[3] = {"create", "getData", "delete"};
    const int kinds[6] = {0, 1, 0, 1, 1, 0};
    const double lat[6] = {10, 1, 30, 2, 3, 20};
    struct rdb_metric m[12];
    size_t n = 0;
    assert_int_equal(rdb_metrics_add_latencies(m, 12, &n, kinds, lat, 6, names, 3), 0);
    /* delete has no samples, so only two kinds of five metrics each. */
    assert_int_equal(n, 10);
    assert_true(metric_named(m, n, "latency_us.create.p50")->value == 20.0);
    assert_true(metric_named(m, n, "latency_us.create.max")->value == 30.0);
    assert_true(metric_named(m, n, "latency_us.getData.n")->value == 3.0);
    assert_true(metric_named(m, n, "latency_us.getData.p50")->value == 2.0);
    assert_null(metric_named(m, n, "latency_us.delete.n"));
    /* Too little room, or a kind out of range: refused, count unchanged. */
    size_t n2 = 0;
    assert_int_equal(rdb_metrics_add_latencies(m, 7, &n2, kinds, lat, 6, names, 3), -1);
    assert_int_equal(n2, 0);
    const int bad[1] = {3};
    assert_int_equal(rdb_metrics_add_latencies(m, 12, &n2, bad, lat, 1, names, 3), -1);
    assert_int_equal(n2, 0);
}

static void started_at_defaults_to_now(void **state)
{
    struct fixture *fx = *state;
    struct rdb *db = open_ok(fx->path);
    struct rdb_run r = sample_run("s", 1, RDB_VERDICT_PASS);
    r.started_at = NULL;
    int64_t id = insert_ok(db, &r);
    struct rdb_run *got = NULL;
    assert_int_equal(rdb_load_run(db, id, &got), 0);
    assert_int_equal(strlen(got->started_at), 20);
    assert_int_equal(got->started_at[10], 'T');
    assert_int_equal(got->started_at[19], 'Z');
    rdb_run_free(got);
    rdb_close(db);
}

/* A run that fails half-way must leave nothing behind. */
static void bad_runs_store_nothing(void **state)
{
    struct fixture *fx = *state;
    struct rdb *db = open_ok(fx->path);
    struct rdb_run r = sample_run("", 1, RDB_VERDICT_PASS);
    assert_int_equal(rdb_insert_run(db, &r), -1);
    assert_non_null(strstr(rdb_errmsg(db), "scenario"));

    r = sample_run("s", 1, (enum rdb_verdict)7);
    assert_int_equal(rdb_insert_run(db, &r), -1);

    struct rdb_metric m[2] = {{"latency_us.get.p50", NAN}, {"x", 1}};
    r = sample_run("s", 1, RDB_VERDICT_PASS);
    r.metrics = m;
    r.n_metrics = 1;
    assert_int_equal(rdb_insert_run(db, &r), -1);
    assert_non_null(strstr(rdb_errmsg(db), "NaN"));

    snprintf(m[0].name, sizeof m[0].name, "commits");
    m[0].value = 1;
    assert_int_equal(rdb_insert_run(db, &r), -1);
    assert_non_null(strstr(rdb_errmsg(db), "column"));

    /* Duplicate names pass validation and fail in SQL, after the run row
     * and a violation were written: the transaction must undo them. */
    const struct rdb_violation v = {"p", 1, "", ""};
    snprintf(m[0].name, sizeof m[0].name, "x");
    r.metrics = m;
    r.n_metrics = 2;
    r.violations = &v;
    r.n_violations = 1;
    assert_int_equal(rdb_insert_run(db, &r), -1);
    assert_int_equal(rdb_count_runs(db), 0);
    rdb_close(db);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM violations"), 0);

    db = open_ok(fx->path);
    r.n_metrics = 1;
    insert_ok(db, &r);
    assert_int_equal(rdb_count_runs(db), 1);
    rdb_close(db);
}

/* ---- listing ---- */

struct list_ctx {
    int n;
    int failed;
    int64_t violations;
    uint64_t seed_sum;
};

static int count_run(const struct rdb_run *run, void *ctx)
{
    struct list_ctx *c = ctx;
    c->n++;
    c->failed += run->verdict != RDB_VERDICT_PASS;
    c->violations += (int64_t)run->n_violations;
    c->seed_sum += run->seed;
    return 0;
}

struct sum_ctx {
    int n;
    struct rdb_scenario_summary first;
    char first_name[32];
};

static int take_summary(const struct rdb_scenario_summary *s, void *ctx)
{
    struct sum_ctx *c = ctx;
    if (c->n++ == 0) {
        c->first = *s;
        snprintf(c->first_name, sizeof c->first_name, "%s", s->scenario);
    }
    return 0;
}

static void list_filters(void **state)
{
    struct fixture *fx = *state;
    struct rdb *db = open_ok(fx->path);
    const struct rdb_violation v = {"p", 1, "", ""};
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct rdb_run r = sample_run(seed <= 4 ? "alpha" : "beta", seed,
                                      seed == 2 ? RDB_VERDICT_FAIL
                                      : seed == 5 ? RDB_VERDICT_ERROR : RDB_VERDICT_PASS);
        if (seed == 2) {
            r.violations = &v;
            r.n_violations = 1;
        }
        insert_ok(db, &r);
    }
    struct list_ctx c = {0};
    assert_int_equal(rdb_list(db, NULL, count_run, &c), 0);
    assert_int_equal(c.n, 6);
    assert_int_equal(c.failed, 2);
    assert_int_equal(c.violations, 1);
    assert_int_equal(c.seed_sum, 21);

    memset(&c, 0, sizeof c);
    struct rdb_filter f = {.scenario = "alpha"};
    assert_int_equal(rdb_list(db, &f, count_run, &c), 0);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.seed_sum, 10);

    memset(&c, 0, sizeof c);
    f = (struct rdb_filter){.failed_only = true};
    assert_int_equal(rdb_list(db, &f, count_run, &c), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.seed_sum, 7);

    memset(&c, 0, sizeof c);
    f = (struct rdb_filter){.limit = 3};
    assert_int_equal(rdb_list(db, &f, count_run, &c), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.seed_sum, 6);

    struct sum_ctx sc = {0};
    assert_int_equal(rdb_summarize(db, NULL, take_summary, &sc), 0);
    assert_int_equal(sc.n, 2);
    assert_string_equal(sc.first_name, "alpha");
    assert_int_equal(sc.first.runs, 4);
    assert_int_equal(sc.first.pass, 3);
    assert_int_equal(sc.first.fail, 1);
    assert_int_equal(sc.first.error, 0);
    assert_int_equal(sc.first.seeds, 4);
    rdb_close(db);
}

/* ---- concurrent writers ---- */

#define WRITERS 3
#define RUNS_PER_WRITER 120

/* Child body: opens the (possibly not yet existing) file itself and writes
 * its runs; exit status 0 only if every insert succeeded. */
static void writer_child(const char *path, int writer, int go_fd)
{
    char byte;
    /* Wait until the parent releases every writer at once. */
    if (read(go_fd, &byte, 1) < 0)
        _exit(10);
    struct rdb *db = NULL;
    char err[RDB_ERR_MAX];
    if (rdb_open(path, &db, err, sizeof err) != 0) {
        fprintf(stderr, "writer %d: %s\n", writer, err);
        _exit(11);
    }
    for (int i = 0; i < RUNS_PER_WRITER; i++) {
        struct rdb_run r = sample_run("concurrent", (uint64_t)(writer * 1000 + i),
                                      RDB_VERDICT_PASS);
        const struct rdb_violation v = {"p", i, "", "planted"};
        r.violations = &v;
        r.n_violations = 1;
        if (rdb_insert_run(db, &r) != 0) {
            fprintf(stderr, "writer %d run %d: %s\n", writer, i, rdb_errmsg(db));
            _exit(12);
        }
    }
    rdb_close(db);
    _exit(0);
}

static void concurrent_processes_lose_nothing(void **state)
{
    struct fixture *fx = *state;
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(go[1]);
            writer_child(fx->path, w, go[0]);
        }
    }
    close(go[0]);
    close(go[1]); /* EOF releases every child at the same moment */
    for (int w = 0; w < WRITERS; w++) {
        int status = 0;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM runs"), WRITERS * RUNS_PER_WRITER);
    assert_int_equal(sql_int(fx->path, "SELECT count(DISTINCT seed) FROM runs"),
                     WRITERS * RUNS_PER_WRITER);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM violations v JOIN runs r "
                             "ON r.id = v.run_id"), WRITERS * RUNS_PER_WRITER);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT integrity_check = 'ok' FROM pragma_integrity_check"), 1);
}

/* ---- merging ---- */

static void make_shard(const char *path, uint64_t first_seed, int n, bool with_failure)
{
    struct rdb *db = open_ok(path);
    const struct rdb_violation v = {"nothing-acked-lost", 42, "2", "shard violation"};
    const struct rdb_fault fault = {7, "crash", "node 2", ""};
    const struct rdb_metric m = {"latency_us.create.p99", 1234.5};
    for (int i = 0; i < n; i++) {
        bool fail = with_failure && i == 0;
        struct rdb_run r = sample_run("merge-me", first_seed + (uint64_t)i,
                                      fail ? RDB_VERDICT_FAIL : RDB_VERDICT_PASS);
        r.violations = &v;
        r.n_violations = fail;
        r.faults = &fault;
        r.n_faults = 1;
        r.metrics = &m;
        r.n_metrics = 1;
        insert_ok(db, &r);
    }
    rdb_close(db);
}

static int find_failed(const struct rdb_run *run, void *ctx)
{
    *(int64_t *)ctx = run->id;
    return 0;
}

static void merge_two_shards(void **state)
{
    struct fixture *fx = *state;
    char s1[160], s2[160], all[160];
    path_in(fx, "shard1.db", s1, sizeof s1);
    path_in(fx, "shard2.db", s2, sizeof s2);
    path_in(fx, "all.db", all, sizeof all);
    make_shard(s1, 1, 3, true);
    make_shard(s2, 100, 2, false);

    struct rdb *db = open_ok(all);
    struct rdb_merge_stats st;
    assert_int_equal(rdb_merge(db, s1, &st), 0);
    assert_int_equal(st.runs_added, 3);
    assert_int_equal(rdb_merge(db, s2, &st), 0);
    assert_int_equal(st.runs_added, 2);
    assert_int_equal(rdb_count_runs(db), 5);

    /* The child rows followed their runs to the new ids. */
    int64_t failed_id = 0;
    struct rdb_filter f = {.failed_only = true};
    assert_int_equal(rdb_list(db, &f, find_failed, &failed_id), 0);
    struct rdb_run *got = NULL;
    assert_int_equal(rdb_load_run(db, failed_id, &got), 0);
    assert_true(got->seed == 1);
    assert_int_equal(got->n_violations, 1);
    assert_string_equal(got->violations[0].details, "shard violation");
    assert_int_equal(got->n_faults, 1);
    assert_int_equal(got->n_metrics, 1);
    assert_true(got->metrics[0].value == 1234.5);
    rdb_run_free(got);

    /* Merging a shard again adds nothing. */
    assert_int_equal(rdb_merge(db, s1, &st), 0);
    assert_int_equal(st.runs_added, 0);
    assert_int_equal(st.runs_present, 3);
    assert_int_equal(rdb_count_runs(db), 5);

    /* Into itself, a missing file, a garbage file: errors, nothing changes. */
    assert_int_equal(rdb_merge(db, all, &st), RDB_MERGE_BAD_SHARD);
    assert_non_null(strstr(rdb_errmsg(db), "being merged into"));
    char missing[160];
    path_in(fx, "missing.db", missing, sizeof missing);
    assert_int_equal(rdb_merge(db, missing, NULL), RDB_MERGE_BAD_SHARD);
    assert_int_equal(rdb_count_runs(db), 5);
    rdb_close(db);
    assert_int_equal(sql_int(all, "SELECT count(*) FROM violations"), 1);
    assert_int_equal(sql_int(all, "SELECT count(*) FROM faults"), 5);
    assert_int_equal(sql_int(all, "SELECT count(*) FROM run_metrics"), 5);
}

/* ---- comparing ---- */

static int64_t add_run(struct rdb *db, const char *scenario, uint64_t seed, enum rdb_verdict v,
                       int64_t commits, double p99)
{
    struct rdb_run r = sample_run(scenario, seed, v);
    struct rdb_metric m = {"latency_us.create.p99", p99};
    r.commits = commits;
    r.metrics = &m;
    r.n_metrics = 1;
    return insert_ok(db, &r);
}

static const struct rdb_metric_change *find_metric(const struct rdb_compare_report *rep,
                                                   const char *scenario, const char *name)
{
    for (size_t i = 0; i < rep->n_metrics; i++)
        if (!strcmp(rep->metrics[i].scenario, scenario) && !strcmp(rep->metrics[i].name, name))
            return &rep->metrics[i];
    return NULL;
}

static void compare_finds_planted_changes(void **state)
{
    struct fixture *fx = *state;
    char oldp[160];
    path_in(fx, "old.db", oldp, sizeof oldp);
    struct rdb *old = open_ok(oldp), *cur = open_ok(fx->path);
    /* old: elect seeds 1..6 (6 fails), sync seeds 1..3. */
    for (uint64_t s = 1; s <= 6; s++)
        add_run(old, "elect", s, s == 6 ? RDB_VERDICT_FAIL : RDB_VERDICT_PASS,
                (int64_t)s * 10, 100.0);
    for (uint64_t s = 1; s <= 3; s++)
        add_run(old, "sync", s, RDB_VERDICT_PASS, 5, 50.0);
    /* new: elect seed 3 fails (planted), seed 6 passes (fixed); seed 3 also
     * has a passing rerun, which must not hide the failure. sync gains seed 4. */
    int64_t planted = 0;
    for (uint64_t s = 1; s <= 6; s++) {
        int64_t id = add_run(cur, "elect", s, s == 3 ? RDB_VERDICT_FAIL : RDB_VERDICT_PASS,
                             (int64_t)s * 20, 150.0);
        if (s == 3)
            planted = id;
    }
    add_run(cur, "elect", 3, RDB_VERDICT_PASS, 60, 150.0);
    for (uint64_t s = 1; s <= 4; s++)
        add_run(cur, "sync", s, RDB_VERDICT_PASS, 5, 50.0);

    struct rdb_compare_report rep;
    assert_int_equal(rdb_compare(old, cur, &rep), 0);
    assert_int_equal(rep.n_new_failures, 1);
    assert_string_equal(rep.new_failures[0].scenario, "elect");
    assert_true(rep.new_failures[0].seed == 3);
    assert_int_equal(rep.new_failures[0].old_verdict, RDB_VERDICT_PASS);
    assert_int_equal(rep.new_failures[0].new_verdict, RDB_VERDICT_FAIL);
    assert_int_equal(rep.new_failures[0].new_run_id, planted);
    assert_int_equal(rep.n_fixed, 1);
    assert_string_equal(rep.fixed[0].scenario, "elect");
    assert_true(rep.fixed[0].seed == 6);
    assert_int_equal(rep.still_failing, 0);
    assert_int_equal(rep.pairs_old, 9);
    assert_int_equal(rep.pairs_new, 10);
    assert_int_equal(rep.pairs_common, 9);
    assert_false(rep.truncated);

    /* Median commits of elect: old 10..60 -> 35; new 20,40,60,60,80,100,120 -> 60. */
    const struct rdb_metric_change *mc = find_metric(&rep, "elect", "commits");
    assert_non_null(mc);
    assert_true(mc->old_median == 35.0);
    assert_true(mc->new_median == 60.0);
    assert_true(fabs(mc->rel_change - 25.0 / 35.0) < 1e-12);
    assert_int_equal(mc->n_old, 6);
    assert_int_equal(mc->n_new, 7);
    mc = find_metric(&rep, "elect", "latency_us.create.p99");
    assert_non_null(mc);
    assert_true(fabs(mc->rel_change - 0.5) < 1e-12);
    mc = find_metric(&rep, "sync", "commits");
    assert_non_null(mc);
    assert_true(mc->rel_change == 0.0);
    rdb_compare_free(&rep);

    /* Swapped roles: the fix becomes the new failure and vice versa. */
    assert_int_equal(rdb_compare(cur, old, &rep), 0);
    assert_int_equal(rep.n_new_failures, 1);
    assert_true(rep.new_failures[0].seed == 6);
    assert_int_equal(rep.n_fixed, 1);
    assert_true(rep.fixed[0].seed == 3);
    rdb_compare_free(&rep);

    /* An error verdict counts as a new failure too. */
    add_run(cur, "sync", 2, RDB_VERDICT_ERROR, 5, 50.0);
    assert_int_equal(rdb_compare(old, cur, &rep), 0);
    assert_int_equal(rep.n_new_failures, 2);
    assert_string_equal(rep.new_failures[1].scenario, "sync");
    assert_int_equal(rep.new_failures[1].new_verdict, RDB_VERDICT_ERROR);
    rdb_compare_free(&rep);
    rdb_close(old);
    rdb_close(cur);
}



/* A merge that fails part-way (a planted trigger refuses one fault row of
 * the second run) must leave the target as it was. */
static void failed_merge_adds_nothing(void **state)
{
    struct fixture *fx = *state;
    char shard[160];
    path_in(fx, "shard.db", shard, sizeof shard);
    make_shard(shard, 1, 3, false);
    sql_exec(shard, "UPDATE faults SET kind = 'boom' WHERE run_id = 2");
    struct rdb *db = open_ok(fx->path);
    insert_ok(db, &(struct rdb_run){.scenario = "pre", .version = "v"});
    rdb_close(db);
    sql_exec(fx->path, "CREATE TRIGGER refuse_boom BEFORE INSERT ON faults "
                       "WHEN NEW.kind = 'boom' BEGIN SELECT RAISE(ABORT, 'planted'); END");
    db = open_ok(fx->path);
    struct rdb_merge_stats st;
    assert_int_equal(rdb_merge(db, shard, &st), -1);
    assert_non_null(strstr(rdb_errmsg(db), "planted"));
    assert_int_equal(st.runs_added, 0);
    assert_int_equal(rdb_count_runs(db), 1);
    rdb_close(db);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM faults"), 0);
    /* The attachment was released: the shard can be merged once the cause is gone. */
    sql_exec(fx->path, "DROP TRIGGER refuse_boom");
    db = open_ok(fx->path);
    assert_int_equal(rdb_merge(db, shard, &st), 0);
    assert_int_equal(st.runs_added, 3);
    rdb_close(db);
}

static void merge_refuses_other_schema_version(void **state)
{
    struct fixture *fx = *state;
    char shard[160];
    path_in(fx, "v2.db", shard, sizeof shard);
    make_shard(shard, 1, 2, false);
    sql_exec(shard, "UPDATE schema_version SET version = 2");
    struct rdb *db = open_ok(fx->path);
    assert_int_equal(rdb_merge(db, shard, NULL), RDB_MERGE_BAD_SHARD);
    assert_non_null(strstr(rdb_errmsg(db), "schema version 2"));
    assert_int_equal(rdb_count_runs(db), 0);
    rdb_close(db);
}

/* Over-long text is cut below RDB_TEXT_MAX without splitting a UTF-8
 * character; the run is still stored. */
static void long_text_is_cut_at_a_character(void **state)
{
    struct fixture *fx = *state;
    size_t len = RDB_TEXT_MAX + 100;
    char *details = malloc(len + 1);
    assert_non_null(details);
    memset(details, 'a', len);
    details[len] = '\0';
    /* A 2-byte character (U+00E9) straddling the cut position. */
    details[RDB_TEXT_MAX - 2] = (char)0xc3;
    details[RDB_TEXT_MAX - 1] = (char)0xa9;
    const struct rdb_violation v = {"p", 1, "", details};
    struct rdb_run r = sample_run("long", 1, RDB_VERDICT_FAIL);
    r.violations = &v;
    r.n_violations = 1;
    struct rdb *db = open_ok(fx->path);
    int64_t id = insert_ok(db, &r);
    struct rdb_run *got = NULL;
    assert_int_equal(rdb_load_run(db, id, &got), 0);
    assert_int_equal(strlen(got->violations[0].details), RDB_TEXT_MAX - 2);
    assert_memory_equal(got->violations[0].details, details, RDB_TEXT_MAX - 2);
    rdb_run_free(got);
    rdb_close(db);
    free(details);
}

static int stop_after_two(const struct rdb_run *run, void *ctx)
{
    (void)run;
    return ++*(int *)ctx == 2 ? 7 : 0;
}

static void list_callback_can_stop(void **state)
{
    struct fixture *fx = *state;
    struct rdb *db = open_ok(fx->path);
    for (uint64_t s = 0; s < 5; s++)
        add_run(db, "stop", s, RDB_VERDICT_PASS, 1, 1.0);
    int seen = 0;
    assert_int_equal(rdb_list(db, NULL, stop_after_two, &seen), 7);
    assert_int_equal(seen, 2);
    rdb_close(db);
}

/* ---- the `zablab runs` command (needs the binary: $ZABLAB_BIN or bin/zablab) ---- */

static const char *zablab_bin(void)
{
    const char *bin = getenv("ZABLAB_BIN");
    if (bin && *bin)
        return bin;
    return access("bin/zablab", X_OK) == 0 ? "bin/zablab" : NULL;
}

/* Runs `zablab runs ARGS...` with stdout to out_path; returns its exit code. */
static int run_cli(const char *out_path, ...)
{
    const char *argv[16] = {zablab_bin(), "runs"};
    int argc = 2;
    va_list ap;
    va_start(ap, out_path);
    const char *a;
    while (argc < 15 && (a = va_arg(ap, const char *)) != NULL)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(99);
        execv(argv[0], (char *const *)argv);
        _exit(98);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static bool file_contains(const char *path, const char *needle)
{
    char buf[8192];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void runs_command_exit_codes(void **state)
{
    struct fixture *fx = *state;
    if (!zablab_bin())
        skip();
    char out[160], oldp[160], shard[160], junk[160], missing[160];
    path_in(fx, "out.txt", out, sizeof out);
    path_in(fx, "old.db", oldp, sizeof oldp);
    path_in(fx, "shard.db", shard, sizeof shard);
    path_in(fx, "junk.db", junk, sizeof junk);
    path_in(fx, "missing.db", missing, sizeof missing);
    struct rdb *old = open_ok(oldp), *cur = open_ok(fx->path);
    for (uint64_t s = 1; s <= 3; s++) {
        add_run(old, "cli-elect", s, RDB_VERDICT_PASS, 10, 1.0);
        add_run(cur, "cli-elect", s, s == 2 ? RDB_VERDICT_FAIL : RDB_VERDICT_PASS, 10, 1.0);
    }
    rdb_close(old);
    rdb_close(cur);
    make_shard(shard, 50, 2, false);
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("this is not a database, just text long enough to look like a header\n", f);
    fclose(f);

    assert_int_equal(run_cli(out, "--help", NULL), 0);
    assert_int_equal(run_cli(out, NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--bogus", NULL), 2);
    assert_int_equal(run_cli(out, "--db", missing, NULL), 2);
    assert_int_equal(run_cli(out, "--db", junk, NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--compare", junk, NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--merge", junk, NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--merge", "--failed", NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--compare", oldp, "--failed", NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--limit", "0", NULL), 2);
    assert_int_equal(run_cli(out, "--db", fx->path, "--format", "xml", NULL), 2);

    assert_int_equal(run_cli(out, "--db", fx->path, "--failed", NULL), 0);
    assert_true(file_contains(out, "cli-elect"));
    assert_true(file_contains(out, "zablab run x.scn --seed 1")); /* the replay line */

    assert_int_equal(run_cli(out, "--db", fx->path, "--compare", oldp, NULL), 1);
    assert_true(file_contains(out, "new failures: 1"));
    assert_int_equal(run_cli(out, "--db", oldp, "--compare", fx->path, NULL), 0);
    assert_true(file_contains(out, "fixed: 1"));

    assert_int_equal(run_cli(out, "--db", fx->path, "--merge", shard, NULL), 0);
    assert_int_equal(run_cli(out, "--db", fx->path, "--format", "json", NULL), 0);
    json_error_t jerr;
    json_t *doc = json_load_file(out, 0, &jerr);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "runs")), 5);
    assert_int_equal(json_array_size(json_object_get(doc, "scenarios")), 2);
    json_decref(doc);
}

/* ---- files that are not ours ---- */

static void expect_open_error(const char *path, enum rdb_open_mode mode, const char *needle)
{
    struct rdb *db = (struct rdb *)1;
    char err[RDB_ERR_MAX] = "";
    assert_int_equal(rdb_open_mode(path, mode, &db, err, sizeof err), -1);
    assert_null(db);
    if (!strstr(err, needle))
        print_error("error '%s' lacks '%s'\n", err, needle);
    assert_non_null(strstr(err, needle));
}

static void foreign_files_give_clean_errors(void **state)
{
    struct fixture *fx = *state;
    char garbage[160], foreign[160], missing[160], future[160];
    path_in(fx, "garbage.db", garbage, sizeof garbage);
    path_in(fx, "foreign.db", foreign, sizeof foreign);
    path_in(fx, "missing.db", missing, sizeof missing);
    path_in(fx, "future.db", future, sizeof future);

    FILE *f = fopen(garbage, "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc((i * 131 + 7) & 0xff, f);
    fclose(f);
    expect_open_error(garbage, RDB_OPEN_CREATE, "not a zablab results database");
    expect_open_error(garbage, RDB_OPEN_EXISTING, "not an SQLite file");

    sql_exec(foreign, "CREATE TABLE customers(id INTEGER, name TEXT);"
                      "INSERT INTO customers VALUES (1, 'x');");
    struct stat before, after;
    assert_int_equal(stat(foreign, &before), 0);
    expect_open_error(foreign, RDB_OPEN_CREATE, "not a zablab results database");
    assert_int_equal(stat(foreign, &after), 0);
    /* Untouched: same size, still a rollback-journal file with its one table. */
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(sql_int(foreign, "SELECT journal_mode = 'delete' FROM pragma_journal_mode"), 1);
    assert_int_equal(sql_int(foreign, "SELECT count(*) FROM sqlite_master"), 1);

    expect_open_error(missing, RDB_OPEN_EXISTING, "No such file");
    struct stat sb;
    assert_int_equal(stat(missing, &sb), -1);

    struct rdb *db = open_ok(future);
    rdb_close(db);
    sql_exec(future, "UPDATE schema_version SET version = 99");
    expect_open_error(future, RDB_OPEN_CREATE, "schema version 99");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schema_is_created_in_wal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(run_round_trips, setup, teardown),
        cmocka_unit_test(latency_metrics_per_kind),
        cmocka_unit_test_setup_teardown(started_at_defaults_to_now, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_runs_store_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_processes_lose_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_two_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_finds_planted_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_files_give_clean_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_merge_adds_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_refuses_other_schema_version, setup, teardown),
        cmocka_unit_test_setup_teardown(long_text_is_cut_at_a_character, setup, teardown),
        cmocka_unit_test_setup_teardown(list_callback_can_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(runs_command_exit_codes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
