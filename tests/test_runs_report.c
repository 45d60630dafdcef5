/* The summary page over many seeds (reports/runs_report.h): a database of
 * known runs, written with the rdb_* API, gives a page whose counts, failure
 * kinds, replay and report commands and metric percentiles match what was
 * stored; the page is self-contained; an empty database gives a page; a
 * database of 10,000 runs gives a page of bounded size that lists the first
 * failures of a scenario and counts the rest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports/results_db.h"
#include "reports/results_db_query.h"
#include "reports/runs_report.h"
#include "tests/support/tmpdir.h"

static int setup(void **st)
{
    (void)st;
    return tst_tmpdir_make("zablab-runsrep");
}

static int teardown(void **st)
{
    (void)st;
    return tst_tmpdir_remove();
}

/* The text from `start` to the next `end` (a copy; "" if start is absent). */
static char *between(const char *hay, const char *start, const char *end)
{
    const char *a = strstr(hay, start);
    if (!a)
        return strdup("");
    const char *b = strstr(a, end);
    return strndup(a, b ? (size_t)(b - a) : strlen(a));
}

static void assert_self_contained(const char *html)
{
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "@import"));
    assert_null(strstr(html, "src="));
}

static struct rdb *open_db(const char *name)
{
    char path[160], err[RDB_ERR_MAX];
    snprintf(path, sizeof path, "%s/%s", tst_tmpdir, name);
    struct rdb *db = NULL;
    if (rdb_open(path, &db, err, sizeof err) != 0)
        fail_msg("%s", err);
    return db;
}

struct run_spec {
    const char *scenario;
    uint64_t seed;
    enum rdb_verdict verdict;
    const char *property;    /* NULL: no violation row */
    const char *bugs;
    const char *replay;
};

static void add_run(struct rdb *db, const struct run_spec *s)
{
    struct rdb_violation v = {s->property, 1500000000, "1,3", "s1 and s3 committed different txns at 0x200000003"};
    struct rdb_metric m[2] = {{"latency_us.commit.p99", 100.0 * (double)s->seed}, {"leaderless_ms", 250}};
    struct rdb_run r = {
        .scenario = s->scenario, .scenario_hash = 0x1234, .seed = s->seed, .version = "test",
        .bugs = s->bugs ? s->bugs : "", .verdict = s->verdict, .trace_hash = 0xabc ^ s->seed,
        .started_at = "2026-11-23T09:00:00Z", .replay = s->replay ? s->replay : "", .duration_ms = 5,
        .simulated_ms = 10000, .events = 1000, .elections = 1 + (int64_t)(s->seed % 3), .max_epoch = 2,
        .commits = 10 * (int64_t)s->seed, .n_violations = s->property ? 1 : 0, .violations = &v,
        .n_metrics = 2, .metrics = m,
    };
    assert_int_equal(rdb_insert_run(db, &r), 0);
}

/* alpha: seeds 1..10; 3 fails AGREEMENT (replay recorded), 7 fails
 * LEADER_COMPLETE with a planted bug (no replay recorded), 9 is an error.
 * beta (not a path): seeds 1..5, 5 fails linearizable, nothing recorded. */
static struct rdb *known_db(const char *name)
{
    struct rdb *db = open_db(name);
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct run_spec s = {.scenario = "scenarios/alpha.scn", .seed = seed, .verdict = RDB_VERDICT_PASS};
        if (seed == 3)
            s.verdict = RDB_VERDICT_FAIL, s.property = "AGREEMENT",
            s.replay = "zablab replay scenarios/alpha.scn --seed 3";
        if (seed == 7)
            s.verdict = RDB_VERDICT_FAIL, s.property = "LEADER_COMPLETE", s.bugs = "SKIP_TRUNC";
        if (seed == 9)
            s.verdict = RDB_VERDICT_ERROR;
        add_run(db, &s);
    }
    for (uint64_t seed = 1; seed <= 5; seed++) {
        struct run_spec s = {.scenario = "beta", .seed = seed, .verdict = RDB_VERDICT_PASS};
        if (seed == 5)
            s.verdict = RDB_VERDICT_FAIL, s.property = "linearizable";
        add_run(db, &s);
    }
    return db;
}

static char *write_page(struct rdb *db, const char *sub, size_t failures_max, size_t *len)
{
    char dir[160], path[200], err[512];
    snprintf(dir, sizeof dir, "%s/%s", tst_tmpdir, sub);
    struct rrun_opts o = {.db_label = "runs.db", .failures_max = failures_max};
    if (rrun_write(db, dir, &o, err, sizeof err) != 0)
        fail_msg("%s", err);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tst_slurp(path, len);
    assert_non_null(html);
    return html;
}

static void counts_kinds_and_commands(void **st)
{
    (void)st;
    struct rdb *db = known_db("known.db");
    char *html = write_page(db, "known", 0, NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "data-total=\"runs\">15<"));
    assert_non_null(strstr(html, "data-total=\"fail\">3<"));
    assert_non_null(strstr(html, "data-total=\"error\">1<"));
    assert_non_null(strstr(html, ">FAILURES<"));
    char *row = between(html, "<tr class=\"sc-row failing\" data-scenario=\"scenarios/alpha.scn\"", "</tr>");
    assert_non_null(strstr(row, "n-runs\">10<"));
    assert_non_null(strstr(row, "n-pass\">7<"));
    assert_non_null(strstr(row, "n-fail\">2<"));
    assert_non_null(strstr(row, "n-error\">1<"));
    free(row);
    char *alpha = between(html, "data-scenario=\"scenarios/alpha.scn\"><h2>", "</section>");
    /* three kinds, each with its first seed and the command to replay it */
    assert_int_equal(tst_count(alpha, "<tr class=\"kind\""), 3);
    char *k = between(alpha, "data-property=\"AGREEMENT\"", "</tr>");
    assert_non_null(strstr(k, "k-runs\">1<"));
    assert_non_null(strstr(k, "k-seed\">3<"));
    assert_non_null(strstr(k, ">zablab replay scenarios/alpha.scn --seed 3</code>"));
    assert_non_null(strstr(k, ">zablab replay scenarios/alpha.scn --seed 3 --report out/alpha-seed3</code>"));
    free(k);
    k = between(alpha, "data-property=\"LEADER_COMPLETE\"", "</tr>");
    assert_non_null(strstr(k, ">zablab replay scenarios/alpha.scn --seed 7 --bug SKIP_TRUNC</code>"));
    free(k);
    k = between(alpha, "data-property=\"" RDB_KIND_ERROR "\"", "</tr>");
    assert_non_null(strstr(k, "k-seed\">9<"));
    free(k);
    /* the three failing runs listed, in seed order, none hidden */
    assert_int_equal(tst_count(alpha, "<tr class=\"failure\""), 3);
    assert_true(strstr(alpha, "data-seed=\"3\"") < strstr(alpha, "data-seed=\"7\""));
    assert_null(strstr(alpha, "data-seed=\"4\""));
    assert_null(strstr(alpha, "class=\"more\""));
    /* commits are 10*seed: median of 10..100 is 55, p99 99.1, max 100 */
    char *m = between(alpha, "data-metric=\"commits\"", "</tr>");
    assert_non_null(strstr(m, "m-p50\">55<"));
    assert_non_null(strstr(m, "m-p99\">99.1<"));
    assert_non_null(strstr(m, "m-max\">100<"));
    assert_non_null(strstr(m, "<svg class=\"dist\""));
    free(m);
    m = between(alpha, "data-metric=\"latency_us.commit.p99\"", "</tr>");
    assert_non_null(strstr(m, "m-p50\">550<"));
    free(m);
    /* metrics that never changed share one row */
    m = between(alpha, "<tr class=\"metric-const\">", "</tr>");
    assert_non_null(strstr(m, "<span data-metric=\"events\">events <b>1000</b></span>"));
    assert_non_null(strstr(m, "leaderless_ms <b>250</b>"));
    assert_null(strstr(m, "commits"));
    free(m);
    assert_int_equal(tst_count(alpha, "<tr class=\"metric\""), 3); /* commits, elections, latency */
    free(alpha);
    /* beta is not a path: no command can be built for it */
    char *beta = between(html, "data-scenario=\"beta\"><h2>", "</section>");
    assert_non_null(strstr(beta, "data-property=\"linearizable\""));
    assert_non_null(strstr(beta, "no replay command recorded"));
    assert_null(strstr(beta, "zablab replay"));
    free(beta);
    free(html);
    rdb_close(db);
}

static void failures_listed_are_bounded(void **st)
{
    (void)st;
    struct rdb *db = known_db("bounded.db");
    char *html = write_page(db, "bounded", 2, NULL);
    char *alpha = between(html, "data-scenario=\"scenarios/alpha.scn\"><h2>", "</section>");
    assert_int_equal(tst_count(alpha, "<tr class=\"failure\""), 2);
    assert_non_null(strstr(alpha, "data-more=\"1\""));
    assert_non_null(strstr(alpha, "zablab runs --db runs.db --scenario scenarios/alpha.scn --failed"));
    free(alpha);
    free(html);
    rdb_close(db);
}

static void empty_database_gives_a_page(void **st)
{
    (void)st;
    struct rdb *db = open_db("empty.db");
    char *html = write_page(db, "empty", 0, NULL);
    assert_self_contained(html);
    assert_non_null(strstr(html, "id=\"empty\""));
    assert_non_null(strstr(html, ">NO RUNS<"));
    assert_non_null(strstr(html, "data-total=\"runs\">0<"));
    assert_non_null(strstr(html, "</html>"));
    assert_null(strstr(html, "<section class=\"scenario"));
    free(html);
    rdb_close(db);
}

/* 10,000 runs, 3,000 failing in one scenario: 20 listed, the rest counted,
 * the page stays small. */
static void ten_thousand_runs_stay_bounded(void **st)
{
    (void)st;
    struct rdb *db = open_db("big.db");
    for (uint64_t seed = 1; seed <= 10000; seed++) {
        struct run_spec s = {.scenario = seed % 2 ? "scenarios/big.scn" : "scenarios/other.scn", .seed = seed,
                             .verdict = RDB_VERDICT_PASS};
        if (seed % 2 && seed % 5 < 3) /* 3 in 5 odd seeds: 3,000 */
            s.verdict = RDB_VERDICT_FAIL, s.property = seed % 3 ? "AGREEMENT" : "PRIMARY_ORDER";
        add_run(db, &s);
    }
    size_t len = 0;
    char *html = write_page(db, "big", 0, &len);
    assert_non_null(strstr(html, "data-total=\"runs\">10000<"));
    assert_non_null(strstr(html, "data-total=\"fail\">3000<"));
    char *big = between(html, "data-scenario=\"scenarios/big.scn\"><h2>", "</section>");
    assert_int_equal(tst_count(big, "<tr class=\"failure\""), RRUN_FAILURES_DEFAULT);
    char more[64];
    snprintf(more, sizeof more, "data-more=\"%d\"", 3000 - RRUN_FAILURES_DEFAULT);
    assert_non_null(strstr(big, more));
    assert_int_equal(tst_count(big, "<tr class=\"kind\""), 2);
    free(big);
    assert_true(len < 256 * 1024);
    free(html);
    rdb_close(db);
}

/* Names and details are the user's text: escaped, never markup. */
static void text_is_escaped(void **st)
{
    (void)st;
    struct rdb *db = open_db("esc.db");
    struct run_spec s = {.scenario = "x<script>alert(1)</script>&\"y", .seed = 1, .verdict = RDB_VERDICT_FAIL,
                         .property = "<b>P</b>", .replay = "zablab replay '<x>.scn' --seed 1"};
    add_run(db, &s);
    char *html = write_page(db, "esc", 0, NULL);
    assert_null(strstr(html, "<script>alert"));
    assert_null(strstr(html, "<b>P</b>"));
    assert_non_null(strstr(html, "x&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;y"));
    assert_non_null(strstr(html, "&lt;b&gt;P&lt;/b&gt;"));
    assert_non_null(strstr(html, "zablab replay &#39;&lt;x&gt;.scn&#39; --seed 1"));
    free(html);
    rdb_close(db);
}

static int count_groups(const struct rdb_metric_group *g, void *ctx)
{
    size_t *n = ctx;
    if (!strcmp(g->scenario, "scenarios/alpha.scn") && !strcmp(g->name, "elections")) {
        /* ascending values, every run */
        assert_int_equal(g->n_total, 10);
        for (size_t i = 1; i < g->n_kept; i++)
            assert_true(g->values[i - 1] <= g->values[i]);
    }
    (*n)++;
    return 0;
}

static void queries_group_metrics(void **st)
{
    (void)st;
    struct rdb *db = known_db("groups.db");
    size_t n = 0;
    assert_int_equal(rdb_each_metric_group(db, count_groups, &n), 0);
    /* 9 fixed columns + 2 named metrics, for each of two scenarios */
    assert_int_equal(n, 2 * 11);
    rdb_close(db);
}

static void unwritable_directory_is_an_error(void **st)
{
    (void)st;
    struct rdb *db = open_db("err.db");
    char err[256] = "";
    struct rrun_opts o = {0};
    assert_int_equal(rrun_write(db, "/nonexistent/dir/out", &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/out"));
    rdb_close(db);
}

/* Runs a shell command; its exit status, its stdout in out. */
static int run_cmd(char *out, size_t cap, const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* End to end: explore a planted bug into a database, write the page with
 * `zablab runs --report`, and run the replay command the page gives: it
 * fails the same way. */
static void cli_report_commands_replay(void **st)
{
    (void)st;
    const char *env = getenv("ZABLAB_BIN");
    char *bin = realpath(env ? env : "bin/zablab", NULL);
    if (!bin)
        skip(); /* no zablab binary built */
    static char cmd[2048], out[65536];
    snprintf(cmd, sizeof cmd, "%s explore scenarios/bug-skip-trunc.scn --bug SKIP_TRUNC --seeds 1..3 --db %s/cli.db "
             ">/dev/null 2>&1", bin, tst_tmpdir);
    assert_int_equal(run_cmd(out, sizeof out, cmd), 1);
    snprintf(cmd, sizeof cmd, "%s runs --db %s/cli.db --report %s/clirep", bin, tst_tmpdir, tst_tmpdir);
    assert_int_equal(run_cmd(out, sizeof out, cmd), 0);
    assert_non_null(strstr(out, "clirep/index.html"));
    snprintf(cmd, sizeof cmd, "%s/clirep/index.html", tst_tmpdir);
    char *html = tst_slurp(cmd, NULL);
    assert_non_null(html);
    assert_self_contained(html);
    const char *want = "zablab replay scenarios/bug-skip-trunc.scn --seed 1 --bug SKIP_TRUNC";
    assert_non_null(strstr(html, want));
    assert_non_null(strstr(html, "--seed 1 --bug SKIP_TRUNC --report out/bug-skip-trunc-seed1</code>"));
    free(html);
    /* the page's command, run: the same violation again */
    snprintf(cmd, sizeof cmd, "%s%s 2>&1", bin, want + strlen("zablab"));
    assert_int_equal(run_cmd(out, sizeof out, cmd), 1);
    assert_non_null(strstr(out, "STATE_DIGEST"));
    /* --report covers the whole database: no filters, no comparison */
    snprintf(cmd, sizeof cmd, "%s runs --db %s/cli.db --report %s/x --failed 2>/dev/null", bin, tst_tmpdir, tst_tmpdir);
    assert_int_equal(run_cmd(out, sizeof out, cmd), 2);
    snprintf(cmd, sizeof cmd, "%s runs --db %s/cli.db --report /nonexistent/dir/x 2>/dev/null", bin, tst_tmpdir);
    assert_int_equal(run_cmd(out, sizeof out, cmd), 2);
    free(bin);
}

/* `test_runs_report write DIR`: the known database's page, for
 * tests/report_browser.sh to open in a browser. */
static int write_sample(const char *dir)
{
    if (tst_tmpdir_make("zablab-runsrep") != 0)
        return 1;
    struct rdb *db = known_db("sample.db");
    struct rrun_opts o = {.db_label = "runs.db"};
    char err[512];
    int rc = rrun_write(db, dir, &o, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    rdb_close(db);
    teardown(NULL);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "write"))
        return write_sample(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_kinds_and_commands),
        cmocka_unit_test(failures_listed_are_bounded),
        cmocka_unit_test(empty_database_gives_a_page),
        cmocka_unit_test(ten_thousand_runs_stay_bounded),
        cmocka_unit_test(text_is_escaped),
        cmocka_unit_test(queries_group_metrics),
        cmocka_unit_test(unwritable_directory_is_an_error),
        cmocka_unit_test(cli_report_commands_replay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
