/* Simulated runs of the replication core under faults: thousands of seeds
 * of the chaos mix on 3, 5 and 7 servers must show no safety or liveness
 * violation; every planted protocol bug must be caught within a stated
 * number of seeds; the same seed must give the same trace.
 *
 * A failing seed prints the command that replays it with a full trace:
 *   build/tests/test_sim_zab replay CONFIG SEED [BUG]                     */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zab_common.h"
#include "sim/chaos.h"
#include "sim/cluster.h"

#if defined(__SANITIZE_ADDRESS__)
#define SEED_DIVISOR 10 /* sanitizer builds run a tenth of the seeds */
#else
#define SEED_DIVISOR 1
#endif

struct sim_profile {
    const char *name;
    int voters, observers;
    struct chaos_config chaos;
    double rate_per_s;
    sim_time_ns run_ns;
};

#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S

/* Each profile guards one family of faults. */
static const struct sim_profile profiles[] = {
    {"crash-loop-3", 3, 0, {.mean_gap_ns = 700 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.3}, 200, 12 * S},
    {"crash-loop-5", 5, 0, {.mean_gap_ns = 500 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.3}, 200, 12 * S},
    {"crash-loop-7", 7, 0, {.mean_gap_ns = 400 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.3}, 200, 12 * S},
    {"power-loss-3", 3, 0, {.mean_gap_ns = 300 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.6, .max_down = 2, .power_loss_p = 0.3}, 300, 12 * S},
    {"power-loss-5", 5, 0, {.mean_gap_ns = 300 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.6, .max_down = 2, .power_loss_p = 0.3}, 300, 12 * S},
    {"fast-chaos-3", 3, 0, {.mean_gap_ns = 150 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.6, .power_loss_p = 0.3}, 300, 12 * S},
    {"observers-3+2", 3, 2, {.mean_gap_ns = 500 * MS, .quiet_tail_ns = 4 * S, .torn_p = 0.3, .drop_p = 0.3}, 200, 12 * S},
};

static const struct sim_profile *profile(const char *name)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (!strcmp(profiles[i].name, name))
            return &profiles[i];
    return NULL;
}

struct run_result {
    bool failed;
    char property[24];
    char detail[CHK_DETAIL_MAX];
    uint64_t trace_hash, committed, established, crashes, restarts;
};

static void run_profile(const struct sim_profile *p, uint64_t seed, uint32_t bugs, FILE *trace,
                        struct run_result *res)
{
    static struct cluster c;
    static struct chaos ch;
    struct cluster_config cfg = {
        .seed = seed, .voters = p->voters, .observers = p->observers,
        .tick_ms = 50, .init_limit = 10, .sync_limit = 5, .bugs = bugs,
        .net_latency = {.kind = NET_LAT_UNIFORM, .p1 = 200e3, .p2 = 2e6},
        .disk_write_latency = {.kind = NET_LAT_CONSTANT, .p1 = 50e3},
        .disk_fsync_latency = {.kind = NET_LAT_UNIFORM, .p1 = 500e3, .p2 = 3e6},
        .run_ns = p->run_ns, .propose_rate_per_s = p->rate_per_s,
        .liveness_bound_ns = 3 * S, .trace_out = trace,
    };
    char err[256];
    memset(res, 0, sizeof *res);
    assert_int_equal(cluster_init(&c, &cfg, err, sizeof err), 0);
    chaos_install(&ch, &c, &p->chaos);
    cluster_run(&c);
    assert_false(c.internal_error);
    const struct chk_violation *v = c.chk.failed ? &c.chk.violation
                                  : c.liveness_failed ? &c.liveness : NULL;
    if (v) {
        res->failed = true;
        snprintf(res->property, sizeof res->property, "%s", v->property);
        snprintf(res->detail, sizeof res->detail, "%s", v->detail);
    }
    res->trace_hash = sim_trace_hash(&c.trace);
    res->committed = chk_zab_committed(&c.chk);
    res->established = c.stats.established;
    res->crashes = c.stats.crashes;
    res->restarts = c.stats.restarts;
    cluster_free(&c);
}

static void sweep(const char *name, uint64_t seeds)
{
    const struct sim_profile *p = profile(name);
    assert_non_null(p);
    uint64_t n = seeds / SEED_DIVISOR, committed = 0, failures = 0, crashes = 0, restarts = 0;
    for (uint64_t seed = 1; seed <= n; seed++) {
        struct run_result r;
        run_profile(p, seed, 0, NULL, &r);
        committed += r.committed;
        crashes += r.crashes;
        restarts += r.restarts;
        if (r.failed) {
            failures++;
            print_error("%s seed %" PRIu64 ": %s: %s\n  replay: build/tests/test_sim_zab replay %s %" PRIu64 "\n",
                        name, seed, r.property, r.detail, name, seed);
        }
        assert_true(r.established >= 1);
    }
    print_message("%s: %" PRIu64 " seeds, %" PRIu64 " txns committed, %" PRIu64 " failures\n", name,
                  n, committed, failures);
    assert_int_equal(failures, 0);
    assert_true(committed > n * 100); /* the runs did real work */
    assert_true(crashes > n / 2);     /* and the faults happened */
    assert_true(restarts * 10 >= crashes * 9); /* crashed servers came back */
}

/* 2,100 seeds in all (a tenth under sanitizers). */
static void crash_loop_3(void **st) { (void)st; sweep("crash-loop-3", 400); }
static void crash_loop_5(void **st) { (void)st; sweep("crash-loop-5", 300); }
static void crash_loop_7(void **st) { (void)st; sweep("crash-loop-7", 200); }
static void power_loss_3(void **st) { (void)st; sweep("power-loss-3", 400); }
static void power_loss_5(void **st) { (void)st; sweep("power-loss-5", 300); }
static void fast_chaos_3(void **st) { (void)st; sweep("fast-chaos-3", 300); }
static void observers(void **st) { (void)st; sweep("observers-3+2", 200); }

/* ---- planted bugs: each is caught within a stated number of seeds ----
 * These are the bugs that random chaos finds; the others need a precise
 * crash point and are caught by the scenario catalog (scenarios/bug-*.scn,
 * tests/test_bug_catalog.c). */

struct planted {
    enum zab_bug bug;
    const char *profile;
    uint64_t within_seeds;
    const char *properties; /* any of these names */
};

static const struct planted planted[] = {
    {ZAB_BUG_ACK_BEFORE_FSYNC, "power-loss-3", 40, "LEADER_COMPLETE AGREEMENT STATE_DIGEST"},
    {ZAB_BUG_COMMIT_BEFORE_QUORUM, "power-loss-3", 40, "LEADER_COMPLETE AGREEMENT STATE_DIGEST"},
    {ZAB_BUG_SKIP_TRUNC, "power-loss-3", 40, "AGREEMENT STATE_DIGEST LEADER_COMPLETE"},
    {ZAB_BUG_EPOCH_FILE_1653, "fast-chaos-3", 40, "START_REFUSED"},
};

static void planted_bugs_are_caught(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        const struct planted *pb = &planted[i];
        const struct sim_profile *p = profile(pb->profile);
        uint64_t found = 0;
        struct run_result r;
        for (uint64_t seed = 1; seed <= pb->within_seeds && !found; seed++) {
            run_profile(p, seed, ZAB_BUG_BIT(pb->bug), NULL, &r);
            if (r.failed)
                found = seed;
        }
        if (!found)
            print_error("bug %s not caught within %" PRIu64 " seeds of %s\n",
                        zab_bug_name(pb->bug), pb->within_seeds, pb->profile);
        assert_true(found > 0);
        print_message("bug %s caught at seed %" PRIu64 " of %s: %s: %s\n", zab_bug_name(pb->bug),
                      found, pb->profile, r.property, r.detail);
        assert_non_null(strstr(pb->properties, r.property));
        /* The same seed without the bug passes: the bug, not the seed, broke it. */
        run_profile(p, found, 0, NULL, &r);
        assert_false(r.failed);
    }
}

/* ---- determinism ---- */

static char *trace_of(const struct sim_profile *p, uint64_t seed, size_t *len, uint64_t *hash)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    struct run_result r;
    run_profile(p, seed, 0, f, &r);
    fclose(f);
    *hash = r.trace_hash;
    return buf;
}

static void same_seed_same_trace(void **st)
{
    (void)st;
    const struct sim_profile *p = profile("power-loss-5");
    size_t l1, l2, l3;
    uint64_t h1, h2, h3;
    char *a = trace_of(p, 7, &l1, &h1), *b = trace_of(p, 7, &l2, &h2), *c = trace_of(p, 8, &l3, &h3);
    assert_true(l1 > 10000);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    assert_int_equal(h1, h2);
    assert_int_not_equal(h1, h3);
    /* Hash-only runs (no trace file) hash the same records. */
    struct run_result r;
    run_profile(p, 7, 0, NULL, &r);
    assert_int_equal(r.trace_hash, h1);
    free(a);
    free(b);
    free(c);
}

static int replay(int argc, char **argv)
{
    const struct sim_profile *p = argc > 3 ? profile(argv[2]) : NULL;
    if (!p) {
        fprintf(stderr, "usage: test_sim_zab replay PROFILE SEED [BUG_NAME]\n");
        return 2;
    }
    uint32_t bugs = 0;
    if (argc > 4) {
        int b = zab_bug_lookup(argv[4]);
        if (b < 0)
            return 2;
        bugs = ZAB_BUG_BIT(b);
    }
    struct run_result r;
    run_profile(p, strtoull(argv[3], NULL, 10), bugs, stdout, &r);
    fprintf(stderr, "%s %s\ntrace hash %016" PRIx64 "\n", r.failed ? r.property : "ok",
            r.failed ? r.detail : "", r.trace_hash);
    return r.failed;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "replay"))
        return replay(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_trace),
        cmocka_unit_test(planted_bugs_are_caught),
        cmocka_unit_test(crash_loop_3),
        cmocka_unit_test(crash_loop_5),
        cmocka_unit_test(crash_loop_7),
        cmocka_unit_test(power_loss_3),
        cmocka_unit_test(power_loss_5),
        cmocka_unit_test(fast_chaos_3),
        cmocka_unit_test(observers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
