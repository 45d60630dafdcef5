/* Recipes run by simulated clients against a simulated zk ensemble under
 * crash and partition faults: each must hold its property over a few seeds
 * (judged by check/recipes.h on the recorded history), and a recipe with a
 * planted client-side bug must be caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/recipes.h"
#include "sim/client.h"
#include "sim/cluster.h"
#include "sim/recipes.h"
#include "sim/scenario.h"
#include "sim/scenario_run.h"

#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S
#define SEEDS 3

static struct cluster_config zk_config(uint64_t seed, int clients, sim_time_ns run_ns)
{
    return (struct cluster_config){
        .seed = seed, .voters = 3, .tick_ms = 50, .init_limit = 10, .sync_limit = 5,
        .net_latency = {.kind = NET_LAT_UNIFORM, .p1 = 200e3, .p2 = 2e6},
        .disk_write_latency = {.kind = NET_LAT_CONSTANT, .p1 = 50e3},
        .disk_fsync_latency = {.kind = NET_LAT_UNIFORM, .p1 = 500e3, .p2 = 3e6},
        .run_ns = run_ns, .zk = true, .clients = clients,
    };
}

/* A fault plan: at time at_ns, do what. */
enum fault { F_CRASH_LEADER, F_RESTART_ALL, F_ISOLATE_MINORITY, F_ISOLATE_HOLDER, F_HEAL, F_END };
struct step { sim_time_ns at_ns; enum fault what; };

struct world {
    struct cluster c;
    struct sim_clients *cs;
    struct rcp_run *rr;
    struct chk_history *h;
};

/* The client (0-based) of the last process that got the lock, or -1. */
static int last_holder(struct world *w)
{
    struct chk_history *h = simc_history(w->cs);
    for (uint32_t e = h->n_events; e-- > 0;)
        if (h->events[e].type == CHK_OK && h->events[e].f == CHK_F_ACQUIRE)
            return (int)(h->events[e].process - RCP_PROCESS_BASE - 1);
    return -1;
}

/* Cuts one client endpoint off from every server, both ways. */
static void isolate_client(struct world *w, int k)
{
    int e = w->c.n + k;
    for (int s = 0; s < w->c.n; s++) {
        net_block(&w->c.net, w->c.sched.now, e, s);
        net_block(&w->c.net, w->c.sched.now, s, e);
    }
}

static void do_fault(struct world *w, enum fault f)
{
    struct cluster *c = &w->c;
    int l = cluster_leader(c);
    switch (f) {
    case F_CRASH_LEADER:
        if (l)
            cluster_crash(c, l, DISK_CRASH_DROP);
        break;
    case F_RESTART_ALL:
        for (int id = 1; id <= c->n; id++)
            if (!cluster_is_up(c, id))
                cluster_restart(c, id);
        break;
    case F_ISOLATE_MINORITY: {
        int group_of[CLUSTER_SERVERS_MAX + 1];
        for (int id = 1; id <= c->n; id++)
            group_of[id] = id == (l ? l : 1) ? 1 : 0;   /* the leader alone */
        cluster_partition(c, group_of);
        break;
    }
    case F_ISOLATE_HOLDER:
        if (last_holder(w) >= 0)
            isolate_client(w, last_holder(w));
        break;
    case F_HEAL: cluster_heal(c); break;
    case F_END: break;
    }
}

/* Runs recipes with the plan; leaves the paired history in w->h. */
static void run(struct world *w, uint64_t seed, const struct scn_recipe *rec, int n_rec,
                const struct rcp_options *opt0, const struct step *plan, int32_t session_ms)
{
    int clients = rcp_clients_needed(rec, n_rec);
    struct cluster_config cfg = zk_config(seed, clients, opt0->end_ns);
    char err[256];
    assert_int_equal(cluster_init(&w->c, &cfg, err, sizeof err), 0);
    w->cs = simc_new(&w->c, clients, session_ms, NULL);
    assert_non_null(w->cs);
    w->rr = rcp_start(w->cs, rec, n_rec, 0, opt0);
    assert_non_null(w->rr);
    for (int i = 0;; i++) {
        sim_time_ns until = plan[i].what == F_END ? opt0->end_ns : plan[i].at_ns;
        while (w->c.sched.now < until && cluster_step(&w->c))
            ;
        if (plan[i].what == F_END)
            break;
        do_fault(w, plan[i].what);
    }
    assert_false(w->c.internal_error);
    w->h = simc_history(w->cs);
    assert_int_equal(chk_history_pair(w->h, err, sizeof err), 0);
}

static void done(struct world *w)
{
    rcp_free(w->rr);
    simc_free(w->cs);
    cluster_free(&w->c);
}

static enum chk_verdict judge(struct world *w, enum chk_recipe_kind k, struct chk_recipe_result *r)
{
    enum chk_verdict v = chk_recipe_check(w->h, k, r);
    if (v != CHK_VERDICT_OK)
        print_message("%s: %s\n", r->property, r->msg);
    return v;
}

static const struct step faults[] = {
    {3 * S, F_CRASH_LEADER}, {5 * S, F_RESTART_ALL}, {7 * S, F_ISOLATE_MINORITY},
    {9 * S, F_HEAL}, {0, F_END},
};

static void lock_exclusive_under_faults(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_LOCK, 3, 0}};
    struct rcp_options opt = {.end_ns = 14 * S, .hold_ns = 300 * MS};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, rec, 1, &opt, faults, 2000);
        struct chk_recipe_result r;
        assert_int_equal(judge(&w, CHK_RECIPE_LOCK, &r), CHK_VERDICT_OK);
        assert_true(rcp_stats(w.rr)->acquisitions >= 5);   /* the lock moved around */
        done(&w);
    }
}

/* The holder is cut off until its session expires: the lock passes on. */
static const struct step holder_cut[] = {
    {2 * S, F_ISOLATE_HOLDER}, {7 * S, F_HEAL}, {0, F_END},
};

static void lock_holder_expiry(void **state, uint32_t bugs, enum chk_verdict want)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_LOCK, 2, 0}};
    struct rcp_options opt = {.end_ns = 12 * S, .hold_ns = 4 * S, .bugs = bugs};
    int caught = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, rec, 1, &opt, holder_cut, 1200);
        struct chk_recipe_result r;
        enum chk_verdict v = chk_recipe_check(w.h, CHK_RECIPE_LOCK, &r);
        if (want == CHK_VERDICT_OK)
            assert_int_equal(judge(&w, CHK_RECIPE_LOCK, &r), CHK_VERDICT_OK);
        caught += v == CHK_VERDICT_VIOLATION;
        if (v == CHK_VERDICT_VIOLATION)
            print_message("caught (seed %d): %s\n", (int)seed, r.msg);
        assert_true(simc_stats(w.cs)->expiries >= 1);   /* the holder's session did expire */
        done(&w);
    }
    if (want == CHK_VERDICT_VIOLATION)
        assert_true(caught >= 1);
}

static void lock_passes_on_after_holder_expiry(void **state)
{
    lock_holder_expiry(state, 0, CHK_VERDICT_OK);
}

static void lock_holder_ignoring_disconnect_is_caught(void **state)
{
    lock_holder_expiry(state, RCP_BUG_LOCK_IGNORES_DISCONNECT, CHK_VERDICT_VIOLATION);
}

static void queue_exact_under_faults(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_QUEUE, 4, 0}};
    struct rcp_options opt = {.end_ns = 14 * S, .period_ns = 100 * MS, .quiet_ns = 3 * S};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, rec, 1, &opt, faults, 2000);
        struct chk_recipe_result r;
        assert_int_equal(judge(&w, CHK_RECIPE_QUEUE, &r), CHK_VERDICT_OK);
        assert_int_equal(rcp_stats(w.rr)->final_reads, 1);   /* losses were judged */
        assert_true(rcp_stats(w.rr)->dequeued >= 10);
        assert_true(r.n_judged >= 20);
        done(&w);
    }
}

static void queue_early_dequeue_is_caught(void **state)
{
    (void)state;
    /* one producer, three consumers racing for the lowest element */
    static const struct scn_recipe rec[] = {{SCN_RECIPE_QUEUE, 2, 0}};
    struct rcp_options opt = {.end_ns = 10 * S, .period_ns = 50 * MS, .quiet_ns = 2 * S,
                              .bugs = RCP_BUG_QUEUE_EARLY_DEQUEUE};
    static const struct scn_recipe rec4[] = {{SCN_RECIPE_QUEUE, 6, 0}};
    int caught = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, seed == 1 ? rec : rec4, 1, &opt, faults, 2000);
        struct chk_recipe_result r;
        if (chk_recipe_check(w.h, CHK_RECIPE_QUEUE, &r) == CHK_VERDICT_VIOLATION) {
            caught++;
            print_message("caught (seed %d): %s\n", (int)seed, r.msg);
        }
        done(&w);
    }
    assert_true(caught >= 1);
}

static void config_converges_under_faults(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_CONFIG_WATCH, 4, 0}};
    struct rcp_options opt = {.end_ns = 14 * S, .period_ns = 200 * MS, .quiet_ns = 3 * S};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, rec, 1, &opt, faults, 2000);
        struct chk_recipe_result r;
        assert_int_equal(judge(&w, CHK_RECIPE_CONFIG, &r), CHK_VERDICT_OK);
        assert_true(rcp_stats(w.rr)->config_writes >= 10);
        assert_int_equal(r.n_judged, 3);                 /* three watchers judged */
        done(&w);
    }
}

static void config_watcher_without_rewatch_is_caught(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_CONFIG_WATCH, 3, 0}};
    struct rcp_options opt = {.end_ns = 8 * S, .period_ns = 200 * MS, .quiet_ns = 2 * S,
                              .bugs = RCP_BUG_CONFIG_NO_REWATCH};
    static const struct step none[] = {{0, F_END}};
    static struct world w;
    run(&w, 1, rec, 1, &opt, none, 2000);
    struct chk_recipe_result r;
    assert_int_equal(chk_recipe_check(w.h, CHK_RECIPE_CONFIG, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "last observed version"));
    done(&w);
}

static void leader_unique_under_faults(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_LEADER_ELECTION, 3, 0}};
    struct rcp_options opt = {.end_ns = 14 * S, .hold_ns = 500 * MS};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, rec, 1, &opt, faults, 2000);
        struct chk_recipe_result r;
        assert_int_equal(judge(&w, CHK_RECIPE_LEADER, &r), CHK_VERDICT_OK);
        assert_true(rcp_stats(w.rr)->leaderships >= 4);
        done(&w);
    }
}

static void barrier_sync_under_faults(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_BARRIER, 3, 200 * MS}};
    struct rcp_options opt = {.end_ns = 14 * S};
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        static struct world w;
        run(&w, seed, rec, 1, &opt, faults, 2000);
        struct chk_recipe_result r;
        assert_int_equal(judge(&w, CHK_RECIPE_BARRIER, &r), CHK_VERDICT_OK);
        assert_true(rcp_stats(w.rr)->barrier_passes >= 15);   /* rounds went by */
        done(&w);
    }
}

static void barrier_passing_early_is_caught(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {{SCN_RECIPE_BARRIER, 3, 200 * MS}};
    struct rcp_options opt = {.end_ns = 6 * S, .bugs = RCP_BUG_BARRIER_EARLY};
    static const struct step none[] = {{0, F_END}};
    static struct world w;
    run(&w, 1, rec, 1, &opt, none, 2000);
    struct chk_recipe_result r;
    assert_int_equal(chk_recipe_check(w.h, CHK_RECIPE_BARRIER, &r), CHK_VERDICT_VIOLATION);
    print_message("caught: %s\n", r.msg);
    assert_non_null(strstr(r.msg, "only 2 of its 3 parties"));
    done(&w);
}

/* All recipes at once, and the znode history without them is still
 * ZooKeeper-consistent enough to pair (the zk checker's input). */
static void recipes_side_by_side(void **state)
{
    (void)state;
    static const struct scn_recipe rec[] = {
        {SCN_RECIPE_LOCK, 2, 0}, {SCN_RECIPE_QUEUE, 2, 0}, {SCN_RECIPE_CONFIG_WATCH, 2, 0},
        {SCN_RECIPE_LEADER_ELECTION, 2, 0}, {SCN_RECIPE_BARRIER, 2, 0}};
    struct rcp_options opt = {.end_ns = 12 * S};
    static struct world w;
    run(&w, 7, rec, 5, &opt, faults, 2000);
    struct chk_recipe_result r;
    for (int k = 0; k < CHK_RECIPE_COUNT; k++) {
        assert_true(chk_recipe_present(w.h, (enum chk_recipe_kind)k));
        assert_int_equal(judge(&w, (enum chk_recipe_kind)k, &r), CHK_VERDICT_OK);
    }
    char err[256];
    struct chk_history *zk = chk_history_without_recipes(w.h, err, sizeof err);
    assert_non_null(zk);
    assert_true(zk->n_ops > 0 && zk->n_ops < w.h->n_ops);
    chk_history_free(zk);
    done(&w);
}

/* The scenario lines recipes add: good ones parse and print back, bad ones
 * get their file:line:col message. */
static void scenario_recipe_lines(void **state)
{
    (void)state;
    static struct scenario sc, back;
    char err[512];
    const char *good = "cluster voters 3\nrun 10s\nrecipe lock 3 hold 2s\nrecipe queue 4\n"
                       "recipe config-watch\nrecipe leader-election 2 hold 500ms\n"
                       "at 2s isolate lock-holder\nat 5s heal\nexpect lock-exclusive\n"
                       "expect queue-exact\nexpect config-converges\nexpect leader-unique\n";
    assert_int_equal(scn_parse(good, strlen(good), "g.scn", &sc, err, sizeof err), 0);
    assert_int_equal(sc.recipes[0].hold_ns, 2 * S);
    assert_int_equal(sc.recipes[3].hold_ns, 500 * MS);
    assert_int_equal(sc.expects[3].kind, SCN_EXPECT_LEADER_UNIQUE);
    assert_int_equal(sc.events[0].target.kind, SCN_TGT_LOCK_HOLDER);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(scn_print(&sc, f), 0);
    fclose(f);
    assert_int_equal(scn_parse(buf, len, "p.scn", &back, err, sizeof err), 0);
    assert_true(scn_equal(&sc, &back));
    free(buf);
    static const struct { const char *text, *want; } bad[] = {
        {"recipe lock\nexpect queue-exact\n", "b.scn:2:1: 'expect queue-exact' needs a 'recipe queue' statement"},
        {"recipe queue\nexpect leader-unique\n", "b.scn:2:1: 'expect leader-unique' needs a 'recipe leader-election' statement"},
        {"recipe lock\nexpect config-converges\n", "b.scn:2:1: 'expect config-converges' needs a 'recipe config-watch' statement"},
        {"recipe queue 2 hold 1s\n", "b.scn:1:16: 'hold' is for the lock, leader-election and barrier recipes"},
        {"recipe lock\nexpect barrier-sync\n", "b.scn:2:1: 'expect barrier-sync' needs a 'recipe barrier' statement"},
        {"recipe lock\nat 1s crash lock-holder\n", "b.scn:2:1: 'lock-holder' is a client: only 'isolate lock-holder' takes it"},
        {"recipe queue\nat 1s isolate lock-holder\n", "b.scn:2:1: 'isolate lock-holder' needs a 'recipe lock' statement"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(scn_parse(bad[i].text, strlen(bad[i].text), "b.scn", &sc, err, sizeof err), -1);
        if (strcmp(err, bad[i].want))
            fail_msg("case %zu:\n  got  %s\n  want %s", i, err, bad[i].want);
    }
}

/* A whole scenario: the lock holder is cut off until its session expires;
 * the run judges lock-exclusive with the recipe checker and passes. */
static void scenario_lock_holder_expiry(void **state)
{
    (void)state;
    const char *text = "cluster voters 3\ntick 50ms\nrun 12s\nsession-timeout 1500ms\n"
                       "recipe lock 2 hold 4s\nat 2s isolate lock-holder\nat 7s heal\n"
                       "expect safety\nexpect lock-exclusive\n";
    static struct scenario sc;
    static struct srun_result r;
    char err[512];
    assert_int_equal(scn_parse(text, strlen(text), "e.scn", &sc, err, sizeof err), 0);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        struct srun_options opt = {.seed = seed, .seed_given = true};
        assert_int_equal(srun_run(&sc, &opt, &r), 0);
        if (!r.all_pass)
            fail_msg("seed %d: %s %s", (int)seed, r.expects[1].detail, r.detail);
        assert_int_equal(r.expects[1].verdict, SRUN_PASS);
        assert_non_null(strstr(r.expects[1].detail, "never two holders"));
        assert_true(r.client_expiries >= 1);   /* the holder's session did expire */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lock_exclusive_under_faults),
        cmocka_unit_test(lock_passes_on_after_holder_expiry),
        cmocka_unit_test(lock_holder_ignoring_disconnect_is_caught),
        cmocka_unit_test(queue_exact_under_faults),
        cmocka_unit_test(queue_early_dequeue_is_caught),
        cmocka_unit_test(config_converges_under_faults),
        cmocka_unit_test(config_watcher_without_rewatch_is_caught),
        cmocka_unit_test(leader_unique_under_faults),
        cmocka_unit_test(barrier_sync_under_faults),
        cmocka_unit_test(barrier_passing_early_is_caught),
        cmocka_unit_test(recipes_side_by_side),
        cmocka_unit_test(scenario_recipe_lines),
        cmocka_unit_test(scenario_lock_holder_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
