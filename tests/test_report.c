/* Reports: the HTML report of a real simulated run is one self-contained
 * file with a lane per server, arrows, and the violation highlighted when
 * there is one (and only then); dense runs are drawn as count strips, not
 * an element per message; the model pairs messages and derives states and
 * leaderless stretches; narration of a known trace says the expected
 * sentences; bad traces and histories give file:line:col errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/zab_common.h"
#include "reports/narrate.h"
#include "reports/report_history.h"
#include "reports/report_html.h"
#include "reports/report_model.h"
#include "reports/report_png.h"
#include "sim/chaos.h"
#include "sim/cluster.h"
#include "tests/support/tmpdir.h"

#define DATA "tests/data/report/"
#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S

static int setup(void **st)
{
    (void)st;
    return tst_tmpdir_make("zablab-report");
}

static int teardown(void **st)
{
    (void)st;
    return tst_tmpdir_remove();
}

/* A chaos run of the real simulator, its trace into `path`; the violation
 * (if any) into *v. The seeds used below draw no partition: sim/chaos.c's
 * heal event currently shares its kind with CEV_RESUME, which UBSan
 * rejects (reported to the lead). */
static bool simulate(const char *path, int voters, uint64_t seed, uint32_t bugs, sim_time_ns run_ns,
                     struct chk_violation *v)
{
    static struct cluster c;
    static struct chaos ch;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    struct cluster_config cfg = {
        .seed = seed, .voters = voters, .tick_ms = 50, .init_limit = 10, .sync_limit = 5, .bugs = bugs,
        .net_latency = {.kind = NET_LAT_UNIFORM, .p1 = 200e3, .p2 = 2e6},
        .disk_write_latency = {.kind = NET_LAT_CONSTANT, .p1 = 50e3},
        .disk_fsync_latency = {.kind = NET_LAT_UNIFORM, .p1 = 500e3, .p2 = 3e6},
        .run_ns = run_ns, .propose_rate_per_s = 300, .liveness_bound_ns = 3 * S, .trace_out = f,
    };
    struct chaos_config cc = {.mean_gap_ns = 300 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.6,
                              .max_down = 2, .power_loss_p = 0.3};
    char err[256];
    assert_int_equal(cluster_init(&c, &cfg, err, sizeof err), 0);
    chaos_install(&ch, &c, &cc);
    cluster_run(&c);
    bool failed = c.chk.failed;
    if (failed && v)
        *v = c.chk.violation;
    cluster_free(&c);
    fclose(f);
    return failed;
}

/* Nothing in the page may reach outside it. */
static void assert_self_contained(const char *html)
{
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "@import"));
    for (const char *p = html; (p = strstr(p, "src=")); p += 4)
        assert_true(!strncmp(p + 4, "\"data:", 6) || !strncmp(p + 4, "'data:", 6));
}

static void real_run_report_is_self_contained(void **st)
{
    (void)st;
    char trace[128], dir[128], path[160];
    snprintf(trace, sizeof trace, "%s/run.jsonl", tst_tmpdir);
    snprintf(dir, sizeof dir, "%s/ok", tst_tmpdir);
    assert_false(simulate(trace, 3, 8, 0, 6 * S, NULL));
    struct rep_verdict verdicts[] = {{"safety", true, NULL}, {"liveness", true, "leader within 3s"}};
    struct rep_html_input in = {.trace_path = trace, .scenario = "chaos-3", .seed = 2, .verdicts = verdicts,
                                .n_verdicts = 2, .replay_command = "zablab replay scenarios/chaos.scn --seed 2",
                                .svg = true};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tst_slurp(path, NULL);
    assert_non_null(html);
    assert_self_contained(html);
    /* a lane per server in the overview, no more */
    assert_int_equal(tst_count(html, "<g class=\"lane\" data-node=\""), 3);
    assert_non_null(strstr(html, "data-node=\"3\""));
    assert_null(strstr(html, "data-node=\"4\""));
    assert_true(tst_count(html, "class=\"arrow") + tst_count(html, "class=\"agg") > 10);
    assert_true(tst_count(html, "class=\"st st") >= 3);
    assert_non_null(strstr(html, "id=\"zl-data\""));
    assert_non_null(strstr(html, "zablab replay scenarios/chaos.scn --seed 2"));
    assert_non_null(strstr(html, ">PASS<"));
    /* no violation given: nothing highlighted */
    assert_null(strstr(html, "<g class=\"violation\" data-t-ns="));
    assert_null(strstr(html, "class=\"lane lane-hot\""));
    assert_null(strstr(html, "id=\"violation\""));
    free(html);
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    char *svg = tst_slurp(path, NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg xmlns="));
    assert_int_equal(tst_count(svg, "<g class=\"lane\" data-node=\""), 3);
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);
}

static void planted_bug_report_highlights_violation(void **st)
{
    (void)st;
    char trace[128], dir[128], path[160];
    snprintf(trace, sizeof trace, "%s/bug.jsonl", tst_tmpdir);
    snprintf(dir, sizeof dir, "%s/bug", tst_tmpdir);
    struct chk_violation cv;
    assert_true(simulate(trace, 3, 21, ZAB_BUG_BIT(ZAB_BUG_ACK_BEFORE_FSYNC), 12 * S, &cv));
    static const uint32_t ops[] = {1, 2};
    struct rep_violation v = {.property = cv.property, .t_ns = (int64_t)cv.t_ns, .nodes = {cv.nodes[0], cv.nodes[1]},
                              .n_nodes = cv.nodes[1] ? 2 : 1, .detail = cv.detail, .ops = ops, .n_ops = 2};
    struct rep_verdict verdicts[] = {{"safety", false, cv.detail}};
    struct rep_html_input in = {.trace_path = trace, .history_path = DATA "history.jsonl", .scenario = "planted",
                                .seed = 6, .verdicts = verdicts, .n_verdicts = 1, .violation = &v,
                                .replay_command = "zablab replay x --seed 6"};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tst_slurp(path, NULL);
    assert_non_null(html);
    assert_self_contained(html);
    char mark[64];
    snprintf(mark, sizeof mark, "<g class=\"violation\" data-t-ns=\"%lld\">", (long long)cv.t_ns);
    assert_non_null(strstr(html, mark));
    assert_non_null(strstr(html, ">FAIL<"));
    assert_non_null(strstr(html, cv.property));
    assert_true(tst_count(html, "class=\"lane lane-hot\"") >= 1);
    /* the two ops of the violation, outlined, in the overview and the table */
    assert_int_equal(tst_count(html, "class=\"op os0 viol\""), 2);
    assert_int_equal(tst_count(html, "<tr class=\"viol\">"), 2);
    assert_non_null(strstr(html, "getData /k -&gt; &#39;1&#39;"));
    /* client lanes: three processes */
    assert_non_null(strstr(html, "data-client=\"3\""));
    assert_null(strstr(html, "data-client=\"4\""));
    assert_non_null(strstr(html, "\"clanes\":[1,2,3]"));
    assert_non_null(strstr(html, "\"viol\":{\"t\":"));
    /* no svg asked for */
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    assert_int_equal(access(path, F_OK), -1);
    free(html);
}

/* 20,000 messages in one second: the overview cannot draw them one by one. */
static void dense_runs_are_aggregated(void **st)
{
    (void)st;
    char trace[128], dir[128], path[160];
    snprintf(trace, sizeof trace, "%s/dense.jsonl", tst_tmpdir);
    snprintf(dir, sizeof dir, "%s/dense", tst_tmpdir);
    FILE *f = fopen(trace, "w");
    assert_non_null(f);
    fprintf(f, "{\"t_ns\":0,\"node\":-1,\"kind\":\"start\",\"seed\":1,\"voters\":3,\"observers\":0,\"tick_ms\":50}\n");
    for (int i = 0; i < 20000; i++) {
        long long t = (long long)i * 50000;
        int from = 1 + i % 3, to = 1 + (i + 1) % 3;
        fprintf(f, "{\"t_ns\":%lld,\"node\":%d,\"kind\":\"send\",\"to\":%d,\"msg\":\"PING\",\"seq\":%d,\"len\":9}\n",
                t, from, to, i / 3);
        fprintf(f, "{\"t_ns\":%lld,\"node\":%d,\"kind\":\"recv\",\"from\":%d,\"msg\":\"PING\",\"seq\":%d,\"len\":9}\n",
                t + 40000, to, from, i / 3);
    }
    fclose(f);
    struct rep_html_input in = {.trace_path = trace, .scenario = "dense", .svg = true};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    char *svg = tst_slurp(path, NULL);
    assert_non_null(svg);
    size_t arrows = tst_count(svg, "class=\"arrow"), strips = tst_count(svg, "class=\"agg");
    assert_true(strips > 100);
    assert_true(arrows + strips < 3 * 400); /* per column and sender, not per message */
    assert_non_null(strstr(svg, "messages in this column"));
    free(svg);
}

static void model_pairs_messages_and_derives_states(void **st)
{
    (void)st;
    FILE *f = fopen(DATA "short.jsonl", "r");
    assert_non_null(f);
    struct rmod m;
    char err[256];
    assert_int_equal(rmod_build(&m, f, "short.jsonl", err, sizeof err), 0);
    fclose(f);
    assert_int_equal(m.n_servers, 3);
    assert_int_equal(m.n_msgs, 6);
    /* 3->1 seq 2 was overtaken by seq 3 (FIFO: lost); 3->2 lost at send */
    assert_int_equal(m.msgs_lost, 2);
    assert_int_equal(m.msgs[0].t_recv_ns, 1001000000); /* 3->1, received by s1 */
    assert_int_equal(m.msgs[1].t_recv_ns, 1001200000); /* 1->3 */
    assert_true(m.msgs[3].t_recv_ns < 0);
    assert_int_equal(m.msgs[4].t_recv_ns, 1302000000);
    /* one leaderless stretch ending at s3's ESTABLISHED, one open at the end */
    assert_int_equal(m.n_elections, 2);
    assert_int_equal(m.elections[0].t1_ns, 1240000000);
    assert_int_equal(m.elections[0].leader, 3);
    assert_int_equal(m.elections[0].epoch, 2);
    assert_int_equal(m.elections[1].t0_ns, 2000000000);
    assert_true(m.elections[1].t1_ns < 0);
    /* three commits with their latencies on the leader */
    assert_int_equal(m.n_commits, 3);
    assert_true(m.commit_latency_ms[0] > 9.99 && m.commit_latency_ms[0] < 10.01);
    assert_true(m.commit_latency_ms[2] > 29.99 && m.commit_latency_ms[2] < 30.01);
    /* s3 LEADING in epoch 2 from ESTABLISHED until its crash */
    bool leading = false;
    for (uint32_t i = 0; i < m.n_segs; i++)
        if (m.segs[i].node == 3 && m.segs[i].state == RMOD_ST_LEADING) {
            leading = true;
            assert_int_equal(m.segs[i].t0_ns, 1240000000);
            assert_int_equal(m.segs[i].t1_ns, 2000000000);
            assert_int_equal(m.segs[i].epoch, 2);
        }
    assert_true(leading);
    /* the crash band runs to the restart; the partition to the heal */
    int crash = 0, part = 0;
    for (uint32_t i = 0; i < m.n_faults; i++) {
        if (m.faults[i].kind == RMOD_F_CRASH) {
            crash++;
            assert_int_equal(m.faults[i].t1_ns, 2500000000);
        }
        if (m.faults[i].kind == RMOD_F_PARTITION) {
            part++;
            assert_int_equal(m.faults[i].t1_ns, 2800000000);
        }
    }
    assert_int_equal(crash, 1);
    assert_int_equal(part, 3);
    rmod_free(&m);
}

/* A paused leader still believes it leads; the ensemble has no leader as
 * soon as a quorum of voters is looking. Model and narration agree. */
static void stale_leader_counts_as_leaderless(void **st)
{
    (void)st;
    static const char trace[] =
        "{\"t_ns\":0,\"node\":-1,\"kind\":\"start\",\"seed\":1,\"voters\":3,\"observers\":0,\"tick_ms\":50}\n"
        "{\"t_ns\":0,\"node\":3,\"kind\":\"ELECTED\",\"peer\":3,\"a\":1,\"b\":2,\"text\":\"\"}\n"
        "{\"t_ns\":100000000,\"node\":3,\"kind\":\"ESTABLISHED\",\"peer\":0,\"a\":1,\"b\":0,\"text\":\"\"}\n"
        "{\"t_ns\":1000000000,\"node\":3,\"kind\":\"pause\",\"ms\":2000}\n"
        "{\"t_ns\":1300000000,\"node\":1,\"kind\":\"LOOKING\",\"peer\":0,\"a\":2,\"b\":0,\"text\":\"\"}\n"
        "{\"t_ns\":1300000000,\"node\":2,\"kind\":\"LOOKING\",\"peer\":0,\"a\":2,\"b\":0,\"text\":\"\"}\n"
        "{\"t_ns\":1500000000,\"node\":2,\"kind\":\"ELECTED\",\"peer\":2,\"a\":2,\"b\":2,\"text\":\"\"}\n"
        "{\"t_ns\":1500000000,\"node\":1,\"kind\":\"ELECTED\",\"peer\":2,\"a\":2,\"b\":1,\"text\":\"\"}\n"
        "{\"t_ns\":1600000000,\"node\":2,\"kind\":\"ESTABLISHED\",\"peer\":0,\"a\":2,\"b\":0,\"text\":\"\"}\n"
        "{\"t_ns\":3000000000,\"node\":3,\"kind\":\"LOOKING\",\"peer\":0,\"a\":2,\"b\":0,\"text\":\"\"}\n";
    FILE *f = fmemopen((void *)trace, sizeof trace - 1, "r");
    struct rmod m;
    char err[256];
    assert_int_equal(rmod_build(&m, f, "stale", err, sizeof err), 0);
    fclose(f);
    assert_int_equal(m.n_elections, 2);
    assert_int_equal(m.elections[1].t0_ns, 1300000000);
    assert_int_equal(m.elections[1].t1_ns, 1600000000);
    assert_int_equal(m.elections[1].leader, 2);
    /* the stale leader going LOOKING at 3s is not a new leaderless stretch */
    assert_int_equal(m.leaderless_ns, 100000000 + 300000000);
    rmod_free(&m);
    f = fmemopen((void *)trace, sizeof trace - 1, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(rep_narrate(f, out, NULL, err, sizeof err), 0);
    fclose(out);
    fclose(f);
    assert_non_null(strstr(buf, "s2 is established as leader of epoch 2 (a quorum acknowledged NEWLEADER); "
                                "the ensemble was without a leader for 300 ms"));
    assert_non_null(strstr(buf, "0.400s in all without an established leader"));
    free(buf);
}

static char *narrate_file(const char *path, const struct rep_narrate_opts *o)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(rep_narrate(f, out, o, err, sizeof err), 0);
    fclose(out);
    fclose(f);
    return buf;
}

static void narration_of_known_trace(void **st)
{
    (void)st;
    char *t = narrate_file(DATA "short.jsonl", NULL);
    static const char *const expect[] = {
        "t=1.204s s3 has the highest (epoch, zxid) among the votes it received and becomes LEADING in round 2",
        "t=1.204s s1 and s2 follow s3 (round 2)",
        "t=1.210s s3 proposes epoch 2 to its followers",
        "t=1.230s s1 is synced by DIFF up to zxid 0x100000005",
        "t=1.231s s2 is too far behind for a DIFF: s3 sends a full SNAP up to zxid 0x100000006",
        "t=1.240s s3 is established as leader of epoch 2 (a quorum acknowledged NEWLEADER)",
        "t=1.300-1.530s s3 commits 3 txns (zxid 0x200000001..0x200000003)",
        "t=2.000s s3 crashes; what it had not fsynced is lost (drop); it was the leader",
        "t=2.003s s1 notices its leader s3 is gone (connection break) and starts an election (round 3)",
        "t=2.500s s3 restarts and recovers from its disk (last logged zxid 0x200000003, currentEpoch 2)",
        "t=2.600s the network splits: {s1 and s2} | {s3}",
        "t=2.800s the network heals",
        "t=2.900s s2 stalls for 100 ms",
        "t=3.000s s2's clock jumps back by 40 ms",
        "t=3.100s the connection between s1 and s2 breaks",
        "the run ends: 3 txns committed; highest epoch 2",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        if (!strstr(t, expect[i]))
            print_error("missing: %s\n--- narration:\n%s", expect[i], t);
        assert_non_null(strstr(t, expect[i]));
    }
    /* one summary line, not a line per commit; no violation without one */
    assert_int_equal(tst_count(t, "commits"), 1);
    assert_null(strstr(t, "VIOLATION"));
    /* in time order: the election before the crash */
    assert_true(strstr(t, "becomes LEADING") < strstr(t, "s3 crashes"));
    free(t);
}

static void narration_explains_violation_and_bounds_lines(void **st)
{
    (void)st;
    struct rep_violation v = {.property = "AGREEMENT", .t_ns = 2100000000, .nodes = {1, 3}, .n_nodes = 2,
                              .detail = "s1 and s3 committed different txns at zxid 0x200000003"};
    struct rep_narrate_opts o = {.violation = &v};
    char *t = narrate_file(DATA "short.jsonl", &o);
    assert_non_null(strstr(t, "t=2.100s !! the checker finds a violation of AGREEMENT here"));
    assert_non_null(strstr(t, "VIOLATION of AGREEMENT involving s1 and s3: no two servers commit different"));
    assert_non_null(strstr(t, "the checker says: s1 and s3 committed different txns at zxid 0x200000003"));
    /* the marker sits between the 2.003s and the 2.500s lines */
    assert_true(strstr(t, "!! the checker") > strstr(t, "t=2.003s"));
    assert_true(strstr(t, "!! the checker") < strstr(t, "t=2.500s"));
    free(t);
    struct rep_narrate_opts few = {.max_lines = 3};
    t = narrate_file(DATA "short.jsonl", &few);
    assert_int_equal(tst_count(t, "\n"), 4);
    assert_non_null(strstr(t, "more lines left out"));
    free(t);
}

static void narration_of_real_run_is_summarized(void **st)
{
    (void)st;
    char trace[128];
    snprintf(trace, sizeof trace, "%s/narr.jsonl", tst_tmpdir);
    assert_false(simulate(trace, 5, 11, 0, 8 * S, NULL));
    char *t = narrate_file(trace, NULL);
    size_t lines = tst_count(t, "\n");
    FILE *f = fopen(trace, "r");
    size_t records = 0;
    for (int ch; (ch = fgetc(f)) != EOF;)
        records += ch == '\n';
    fclose(f);
    assert_true(records > 10000);
    assert_true(lines * 20 < records);
    assert_non_null(strstr(t, "is established as leader of epoch 1"));
    assert_non_null(strstr(t, " crashes; "));
    free(t);
}

/* tests/data/report/clients.jsonl: two simulated clients; c1 connects to
 * s1, creates, reads with a watch, gets the watch event, loses s1 with a
 * read outstanding and reconnects to s2; c2 writes and closes. */
static void client_records_pair_into_exchanges(void **st)
{
    (void)st;
    FILE *f = fopen(DATA "clients.jsonl", "r");
    assert_non_null(f);
    struct rmod m;
    char err[256];
    assert_int_equal(rmod_build(&m, f, "clients.jsonl", err, sizeof err), 0);
    fclose(f);
    assert_int_equal(m.n_servers, 3);
    assert_int_equal(m.n_clients, 2);
    assert_int_equal(m.n_cmsgs, 11);
    int answered = 0, unanswered = 0, watches = 0;
    for (uint32_t i = 0; i < m.n_cmsgs; i++) {
        const struct rmod_cmsg *c = &m.cmsgs[i];
        const char *op = m.cop_names[c->op];
        if (i > 0) /* in order of first time */
            assert_true((m.cmsgs[i - 1].t_send_ns >= 0 ? m.cmsgs[i - 1].t_send_ns : m.cmsgs[i - 1].t_recv_ns) <=
                        (c->t_send_ns >= 0 ? c->t_send_ns : c->t_recv_ns));
        if (c->t_send_ns < 0) {
            watches++;
            assert_int_equal(c->what, RMOD_CW_WATCH);
            assert_int_equal(c->t_recv_ns, 1631000000);
        } else if (c->t_recv_ns < 0) {
            unanswered++;
            assert_string_equal(op, "getData");
            assert_int_equal(c->xid, 3);
        } else {
            answered++;
        }
        if (!strcmp(op, "create")) {
            assert_int_equal(c->t_recv_ns - c->t_send_ns, 20000000);
            assert_int_equal(c->what, RMOD_CW_REPLY);
        }
        if (!strcmp(op, "connect") && c->server == 2 && c->client == 1) {
            assert_int_equal(c->what, RMOD_CW_CONNECTED);
            assert_int_equal(c->t_recv_ns, 2202000000);
        }
        if (!strcmp(op, "exists"))
            assert_int_equal(c->err, -101);
        if (!strcmp(op, "closeSession"))
            assert_int_equal(c->what, RMOD_CW_CLOSE);
    }
    assert_int_equal(answered, 9);
    assert_int_equal(unanswered, 1);
    assert_int_equal(watches, 1);
    assert_int_equal(m.c_unanswered, 1);
    /* sessions: c1 connected, disconnected (s1 crashed), connected to s2;
     * c2 connected, closed until the end */
    assert_int_equal(m.n_csegs, 5);
    int c1 = 0;
    for (uint32_t i = 0; i < m.n_csegs; i++) {
        const struct rmod_cseg *g = &m.csegs[i];
        if (g->client == 1 && c1++ == 1) {
            assert_int_equal(g->state, RMOD_CS_DISCONNECTED);
            assert_int_equal(g->t0_ns, 2000000000);
            assert_int_equal(g->t1_ns, 2202000000);
            assert_int_equal(g->session, 0x100);
        }
        if (g->client == 2 && g->state == RMOD_CS_CLOSED) {
            assert_int_equal(g->t0_ns, 2510000000);
            assert_int_equal(g->t1_ns, 3000000000);
            assert_int_equal(g->session, 0x200);
        }
    }
    assert_int_equal(c1, 3);
    rmod_free(&m);
    /* the narration tells the session changes, not each request */
    char *t = narrate_file(DATA "clients.jsonl", NULL);
    assert_non_null(strstr(t, "t=1.302s client c1 is connected to s1 (session 0x100)"));
    assert_non_null(strstr(t, "t=2.000s client c1 loses its connection to s1; session 0x100 lives on"));
    assert_non_null(strstr(t, "t=2.202s client c1 is connected to s2 (session 0x100)"));
    assert_non_null(strstr(t, "t=2.510s client c2 closes its session 0x200"));
    assert_null(strstr(t, "getData"));
    free(t);
}

static void client_lanes_and_arrows_drawn(void **st)
{
    (void)st;
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/clients", tst_tmpdir);
    struct rep_html_input in = {.trace_path = DATA "clients.jsonl", .scenario = "clients", .svg = true};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    char *svg = tst_slurp(path, NULL);
    assert_non_null(svg);
    /* a lane per client below the servers, with a lane line */
    assert_non_null(strstr(svg, "<g class=\"lane client-lane\" data-client=\"1\">"));
    assert_non_null(strstr(svg, "<g class=\"lane client-lane\" data-client=\"2\">"));
    assert_null(strstr(svg, "data-client=\"3\""));
    assert_int_equal(tst_count(svg, "class=\"lane-line client-line\""), 2);
    /* 8 answered exchanges (there and back) and a grey ping, 1 unanswered,
     * 1 watch event */
    assert_int_equal(tst_count(svg, "<line class=\"arrow mc5 creq\""), 8);
    assert_int_equal(tst_count(svg, "<line class=\"arrow mc5 crep\""), 8);
    assert_int_equal(tst_count(svg, "<line class=\"arrow mc4 creq\""), 1);
    assert_int_equal(tst_count(svg, "class=\"arrow lost mc5 creq\""), 1);
    assert_int_equal(tst_count(svg, "class=\"arrow mc5 cwatch\""), 1);
    assert_non_null(strstr(svg, "create c1&#8596;s1 xid 1"));
    /* session bands: 3 for c1, 2 for c2; one disconnected, one closed */
    assert_int_equal(tst_count(svg, "<rect class=\"cs cs"), 5);
    assert_int_equal(tst_count(svg, "<rect class=\"cs cs1\""), 1);
    assert_int_equal(tst_count(svg, "<rect class=\"cs cs3\""), 1);
    assert_non_null(strstr(svg, "c1 session 0x100 disconnected to s1"));
    free(svg);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tst_slurp(path, NULL);
    assert_non_null(html);
    assert_self_contained(html);
    assert_non_null(strstr(html, "\"clanes\":[1,2]"));
    assert_non_null(strstr(html, "\"csess\":[\"0x100\""));
    /* without a history, client latencies come from the trace: create took 20 ms */
    assert_non_null(strstr(html, "<tr><td>create</td><td>1</td><td>20.000</td>"));
    assert_non_null(strstr(html, "<tr><td>setData</td><td>1</td><td>30.000</td>"));
    /* the clients table: c1 sent 6 requests (2 connects, create, 2 reads,
     * exists), 5 answered, 1 with an error, 1 unanswered, 1 watch event,
     * 2 connections, connected at the end; c2 closed */
    assert_non_null(strstr(html, "<tr class=\"client-row\" data-client=\"1\"><td>c1</td><td>6</td><td>5</td><td>1</td>"
                                 "<td>1</td><td>1</td><td>2</td><td>connected</td></tr>"));
    assert_non_null(strstr(html, "data-client=\"2\"><td>c2</td><td>4</td><td>4</td><td>0</td><td>0</td><td>0</td>"
                                 "<td>1</td><td>closed</td></tr>"));
    free(html);
}

/* With simulated clients in the trace, history process 513 is client 1's
 * second op lane (sim/client.c): drawn right under c1, labelled c1.2. */
static void pipelined_history_lanes_fold_under_their_client(void **st)
{
    (void)st;
    char hist[128], dir[128], path[160];
    snprintf(hist, sizeof hist, "%s/fold.history", tst_tmpdir);
    snprintf(dir, sizeof dir, "%s/fold", tst_tmpdir);
    FILE *f = fopen(hist, "w");
    assert_non_null(f);
    fputs("{\"type\":\"invoke\",\"process\":2,\"f\":\"read\",\"path\":\"/a\",\"time\":1400000000}\n"
          "{\"type\":\"invoke\",\"process\":513,\"f\":\"read\",\"path\":\"/a\",\"time\":1410000000}\n"
          "{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"path\":\"/a\",\"time\":1420000000}\n"
          "{\"type\":\"ok\",\"process\":513,\"f\":\"read\",\"path\":\"/a\",\"time\":1430000000}\n", f);
    fclose(f);
    struct rep_html_input in = {.trace_path = DATA "clients.jsonl", .history_path = hist, .svg = true};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/index.html", dir);
    char *html = tst_slurp(path, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "\"clanes\":[1,513,2],\"clabels\":[\"c1\",\"c1.2\",\"c2\"]"));
    /* op 1 (process 513) is on lane 1, the second client lane */
    assert_non_null(strstr(html, "\"ops\":[2,1400000,-1,"));
    assert_non_null(strstr(html, ",1,1410000,1430000,"));
    free(html);
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    char *svg = tst_slurp(path, NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">c1.2</text>"));
    assert_true(strstr(svg, "data-client=\"513\"") < strstr(svg, "data-client=\"2\""));
    free(svg);
}

/* 4 clients, 6,000 exchanges in one second: count strips on client lanes. */
static void dense_client_traffic_is_aggregated(void **st)
{
    (void)st;
    char trace[128], dir[128], path[160];
    snprintf(trace, sizeof trace, "%s/cdense.jsonl", tst_tmpdir);
    snprintf(dir, sizeof dir, "%s/cdense", tst_tmpdir);
    FILE *f = fopen(trace, "w");
    assert_non_null(f);
    fprintf(f, "{\"t_ns\":0,\"node\":-1,\"kind\":\"start\",\"seed\":1,\"voters\":3,\"observers\":0,\"tick_ms\":50}\n");
    for (int i = 0; i < 6000; i++) {
        long long t = (long long)i * 160000;
        int c = 1 + i % 4, s = 1 + i % 3;
        fprintf(f, "{\"t_ns\":%lld,\"node\":-1,\"kind\":\"c-send\",\"client\":%d,\"server\":%d,\"op\":\"getData\","
                   "\"xid\":%d,\"len\":30}\n", t, c, s, i);
        fprintf(f, "{\"t_ns\":%lld,\"node\":-1,\"kind\":\"c-recv\",\"client\":%d,\"server\":%d,\"what\":\"reply\","
                   "\"op\":\"getData\",\"xid\":%d,\"err\":0}\n", t + 100000, c, s, i);
    }
    fclose(f);
    struct rep_html_input in = {.trace_path = trace, .scenario = "cdense", .svg = true};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    char *svg = tst_slurp(path, NULL);
    assert_non_null(svg);
    size_t arrows = tst_count(svg, "mc5 creq"), strips = tst_count(svg, "class=\"agg mf5\"");
    assert_true(strips > 100);
    assert_true(arrows + strips < 4 * 400); /* per column and client, not per exchange */
    assert_non_null(strstr(svg, "frames with the servers in this column"));
    free(svg);
}

/* --svg also writes diagram.png: a real PNG, the size of the SVG at
 * REP_PNG_SCALE, with the diagram painted on it. */
static void png_export_renders_the_diagram(void **st)
{
    (void)st;
    if (!rep_png_available())
        skip(); /* built without librsvg: see reports/report_png.h */
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/png", tst_tmpdir);
    struct rep_html_input in = {.trace_path = DATA "clients.jsonl", .scenario = "png", .svg = true, .png = true};
    char err[256];
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/diagram.png", dir);
    size_t len = 0;
    char *png = tst_slurp(path, &len);
    assert_non_null(png);
    assert_true(len > 1000);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(png + 12, "IHDR", 4);
    const unsigned char *u = (const unsigned char *)png;
    uint32_t w = (uint32_t)u[16] << 24 | (uint32_t)u[17] << 16 | (uint32_t)u[18] << 8 | u[19];
    uint32_t h = (uint32_t)u[20] << 24 | (uint32_t)u[21] << 16 | (uint32_t)u[22] << 8 | u[23];
    free(png);
    /* the SVG is 1400 wide; 3 server lanes and 2 client lanes make it taller than 3*40 */
    assert_int_equal(w, (uint32_t)(1400 * REP_PNG_SCALE));
    assert_true(h > (uint32_t)(5 * 30 * REP_PNG_SCALE) && h < w);
    int pw = 0, ph = 0;
    long ink = 0;
    assert_int_equal(rep_png_ink(path, &pw, &ph, &ink, err, sizeof err), 0);
    assert_int_equal(pw, (int)w);
    assert_int_equal(ph, (int)h);
    /* not blank: the state bands alone cover a good part of the picture */
    assert_true(ink > (long)pw * ph / 20);
    assert_true(ink < (long)pw * ph);
    /* bad SVG: an error, no file */
    snprintf(path, sizeof path, "%s/bad.png", dir);
    assert_int_equal(rep_png_write("<svg", 4, 1.0, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "png:"));
    assert_int_equal(access(path, F_OK), -1);
}

static void expect_trace_error(const char *text, const char *want)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct rmod m;
    char err[256] = "";
    assert_int_equal(rmod_build(&m, f, "bad.jsonl", err, sizeof err), -1);
    fclose(f);
    if (!strstr(err, want))
        print_error("error '%s' does not contain '%s'\n", err, want);
    assert_non_null(strstr(err, want));
}

/* Degenerate runs still give a page: an empty trace, a start line only, an
 * empty history. */
static void empty_runs_render(void **st)
{
    (void)st;
    static const char *const traces[] = {
        "",
        "{\"t_ns\":0,\"node\":-1,\"kind\":\"start\",\"seed\":1,\"voters\":3,\"observers\":0,\"tick_ms\":50}\n",
        "{\"t_ns\":5,\"node\":2,\"kind\":\"mystery\"}\n{\"t_ns\":6,\"node\":1,\"kind\":\"recv\",\"from\":2,"
        "\"msg\":\"PING\",\"seq\":9,\"len\":1}\n",
    };
    for (size_t i = 0; i < sizeof traces / sizeof traces[0]; i++) {
        char trace[128], hist[128], dir[128], path[160];
        snprintf(trace, sizeof trace, "%s/empty%zu.jsonl", tst_tmpdir, i);
        snprintf(hist, sizeof hist, "%s/empty%zu.history", tst_tmpdir, i);
        snprintf(dir, sizeof dir, "%s/empty%zu", tst_tmpdir, i);
        FILE *f = fopen(trace, "w");
        fputs(traces[i], f);
        fclose(f);
        f = fopen(hist, "w");
        fclose(f);
        struct rep_html_input in = {.trace_path = trace, .history_path = hist, .svg = true};
        char err[256];
        assert_int_equal(rep_html_write(&in, dir, err, sizeof err), 0);
        snprintf(path, sizeof path, "%s/index.html", dir);
        char *html = tst_slurp(path, NULL);
        assert_non_null(html);
        assert_non_null(strstr(html, "</html>"));
        assert_self_contained(html);
        free(html);
    }
}

static void bad_traces_give_positions(void **st)
{
    (void)st;
    expect_trace_error("{\"t_ns\":0,\"node\":1,\"kind\":\"restart\"}\n{\"t_ns\":1,\"node\":", "bad.jsonl:2:");
    expect_trace_error("\n\n[1,2]\n", "bad.jsonl:3:1: a record must be a JSON object");
    expect_trace_error("{\"t_ns\":0,\"kind\":\"crash\"}\n", "bad.jsonl:1:1: a record needs");
    expect_trace_error("{\"t_ns\":0,\"node\":99,\"kind\":\"crash\"}\n", "out of range");
    expect_trace_error("{\"t_ns\":0,\"node\":1,\"kind\":\"send\",\"to\":400}\n", "peer 400 out of range");
    expect_trace_error("{\"t_ns\":0,\"node\":-1,\"kind\":\"partition\",\"group_of\":3}\n", "group_of");
    expect_trace_error("{\"t_ns\":0,\"node\":-1,\"kind\":\"c-send\",\"client\":0,\"server\":1}\n",
                       "bad.jsonl:1:1: client 0 out of range");
    expect_trace_error("{\"t_ns\":0,\"node\":-1,\"kind\":\"c-recv\",\"client\":9999,\"server\":1}\n",
                       "client 9999 out of range");
    expect_trace_error("{\"t_ns\":0,\"node\":-1,\"kind\":\"c-session\",\"client\":1,\"server\":77}\n",
                       "peer 77 out of range");
    size_t n = TRD_LINE_MAX + 100;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{', big[n - 1] = '\n', big[n] = 0;
    expect_trace_error(big, "bad.jsonl:1:1: line longer than");
    free(big);
    /* an unreadable trace is an error from the report, not a crash */
    struct rep_html_input in = {.trace_path = "/nonexistent/trace.jsonl"};
    char err[256];
    char dir[128];
    snprintf(dir, sizeof dir, "%s/none", tst_tmpdir);
    assert_int_equal(rep_html_write(&in, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/trace.jsonl"));
}

static void expect_history_error(const char *text, const char *want)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct rhist h;
    char err[256] = "";
    assert_int_equal(rhist_read(&h, f, "h.jsonl", err, sizeof err), -1);
    fclose(f);
    if (!strstr(err, want))
        print_error("error '%s' does not contain '%s'\n", err, want);
    assert_non_null(strstr(err, want));
}

static void histories_pair_and_reject(void **st)
{
    (void)st;
    FILE *f = fopen(DATA "history.jsonl", "r");
    struct rhist h;
    char err[256];
    assert_int_equal(rhist_read(&h, f, "history.jsonl", err, sizeof err), 0);
    fclose(f);
    assert_int_equal(h.n_ops, 6);
    assert_int_equal(h.n_procs, 3);
    assert_int_equal(h.ops[2].status, RHIST_OK);
    assert_int_equal(h.ops[2].t_ret_ns - h.ops[2].t_inv_ns, 50000000);
    assert_int_equal(h.ops[3].status, RHIST_INFO);
    assert_int_equal(h.ops[4].status, RHIST_FAIL);
    assert_non_null(strstr(h.ops[4].label, "BADVERSION"));
    assert_int_equal(h.ops[5].status, RHIST_PENDING);
    assert_true(h.ops[5].t_ret_ns < 0);
    rhist_free(&h);
    expect_history_error("{\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"time\":5}\n",
                         "h.jsonl:1:1: completion without an invocation");
    expect_history_error("{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"time\":5}\n"
                         "{\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"time\":6}\n",
                         "h.jsonl:2:1: process 1 invokes before");
    expect_history_error("{\"type\":\"invoke\",\"process\":1,\"f\":\"read\"}\n", "integer time");
    expect_history_error("{\"type\":\"begin\",\"process\":1,\"time\":1}\n", "unknown type 'begin'");
    expect_history_error("{\"type\":\"invoke\",\"process\":1,\"time\":1", "h.jsonl:1:");
}

/* `test_report write DIR`: a report of a planted-bug run with a client
 * history, for tests/report_browser.sh to open in a browser. */
static int write_sample(const char *dir)
{
    char trace[512];
    snprintf(trace, sizeof trace, "%s.trace.jsonl", dir);
    struct chk_violation cv;
    if (!simulate(trace, 3, 21, ZAB_BUG_BIT(ZAB_BUG_ACK_BEFORE_FSYNC), 12 * S, &cv))
        return 1;
    /* a small client history around the violation, ops 1 and 2 in it */
    char hist[520];
    snprintf(hist, sizeof hist, "%s.history.jsonl", dir);
    FILE *h = fopen(hist, "w");
    if (!h)
        return 1;
    long long t = (long long)cv.t_ns - 1000000000LL;
    fprintf(h, "{\"type\":\"invoke\",\"process\":1,\"f\":\"create\",\"path\":\"/k\",\"data\":\"1\",\"time\":%lld}\n"
               "{\"type\":\"ok\",\"process\":1,\"f\":\"create\",\"path\":\"/k\",\"time\":%lld}\n"
               "{\"type\":\"invoke\",\"process\":2,\"f\":\"setData\",\"path\":\"/k\",\"data\":\"2\",\"time\":%lld}\n"
               "{\"type\":\"ok\",\"process\":2,\"f\":\"setData\",\"path\":\"/k\",\"time\":%lld}\n"
               "{\"type\":\"invoke\",\"process\":1,\"f\":\"getData\",\"path\":\"/k\",\"time\":%lld}\n"
               "{\"type\":\"ok\",\"process\":1,\"f\":\"getData\",\"path\":\"/k\",\"data\":\"1\",\"time\":%lld}\n"
               "{\"type\":\"invoke\",\"process\":3,\"f\":\"setData\",\"path\":\"/k\",\"data\":\"3\",\"time\":%lld}\n"
               "{\"type\":\"info\",\"process\":3,\"f\":\"setData\",\"path\":\"/k\",\"time\":%lld}\n",
            t, t + 30000000, t + 200000000, t + 260000000, t + 600000000, t + 640000000, t + 700000000,
            t + 1200000000);
    fclose(h);
    static const uint32_t ops[] = {1, 2};
    struct rep_violation v = {.property = cv.property, .t_ns = (int64_t)cv.t_ns, .nodes = {cv.nodes[0], cv.nodes[1]},
                              .n_nodes = cv.nodes[1] ? 2 : 1, .detail = cv.detail, .ops = ops, .n_ops = 2};
    struct rep_verdict verdicts[] = {{"safety", false, cv.detail}, {"liveness", true, NULL}};
    struct rep_html_input in = {.trace_path = trace, .history_path = hist,
                                .scenario = "power-loss-3 + ACK_BEFORE_FSYNC", .seed = 21, .verdicts = verdicts,
                                .n_verdicts = 2, .violation = &v, .svg = true,
                                .replay_command = "build/tests/test_sim_zab replay power-loss-3 21 ACK_BEFORE_FSYNC"};
    char err[256];
    if (rep_html_write(&in, dir, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s/index.html\n", dir);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "write"))
        return write_sample(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "write-clients")) { /* the client fixture's report */
        struct rep_html_input in = {.trace_path = DATA "clients.jsonl", .scenario = "clients (fixture)"};
        char err[256];
        if (rep_html_write(&in, argv[2], err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_run_report_is_self_contained),
        cmocka_unit_test(planted_bug_report_highlights_violation),
        cmocka_unit_test(dense_runs_are_aggregated),
        cmocka_unit_test(model_pairs_messages_and_derives_states),
        cmocka_unit_test(stale_leader_counts_as_leaderless),
        cmocka_unit_test(narration_of_known_trace),
        cmocka_unit_test(narration_explains_violation_and_bounds_lines),
        cmocka_unit_test(narration_of_real_run_is_summarized),
        cmocka_unit_test(empty_runs_render),
        cmocka_unit_test(bad_traces_give_positions),
        cmocka_unit_test(histories_pair_and_reject),
        cmocka_unit_test(client_records_pair_into_exchanges),
        cmocka_unit_test(client_lanes_and_arrows_drawn),
        cmocka_unit_test(dense_client_traffic_is_aggregated),
        cmocka_unit_test(pipelined_history_lanes_fold_under_their_client),
        cmocka_unit_test(png_export_renders_the_diagram),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
