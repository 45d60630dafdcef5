/* Benchmark of the simulated ensemble (`make bench`): a 5-server cluster
 * under a steady proposal load, without faults and with the standard chaos
 * mix. Prints simulated seconds per wall second and simulator events per
 * second, the median of several runs (different seeds), side by side. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/chaos.h"
#include "sim/cluster.h"

#define RUNS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct sample { double sim_per_wall, events_per_s, commits_per_wall_s; };

static struct sample one(uint64_t seed, bool chaos, double rate)
{
    static struct cluster c;
    static struct chaos ch;
    struct cluster_config cfg = {
        .seed = seed, .voters = 5, .tick_ms = 50, .init_limit = 10, .sync_limit = 5,
        .net_latency = {.kind = NET_LAT_UNIFORM, .p1 = 200e3, .p2 = 2e6},
        .disk_write_latency = {.kind = NET_LAT_CONSTANT, .p1 = 50e3},
        .disk_fsync_latency = {.kind = NET_LAT_UNIFORM, .p1 = 500e3, .p2 = 3e6},
        .run_ns = 60 * SIM_NS_PER_S, .propose_rate_per_s = rate,
    };
    char err[256];
    if (cluster_init(&c, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(3);
    }
    if (chaos) {
        struct chaos_config cc = {.mean_gap_ns = 700 * SIM_NS_PER_MS, .quiet_tail_ns = 5 * SIM_NS_PER_S,
                                  .torn_p = 0.3, .drop_p = 0.3, .power_loss_p = 0.05};
        chaos_install(&ch, &c, &cc);
    }
    double t0 = now_s();
    cluster_run(&c);
    double wall = now_s() - t0;
    if (cluster_failed(&c)) {
        fprintf(stderr, "seed %" PRIu64 ": the benchmark run failed a check\n", seed);
        exit(1);
    }
    struct sample s = {(double)c.sched.now / 1e9 / wall, (double)c.stats.events / wall,
                       (double)chk_zab_committed(&c.chk) / wall};
    cluster_free(&c);
    return s;
}

static void bench(const char *name, bool chaos, double rate)
{
    double a[RUNS], b[RUNS], d[RUNS];
    for (int i = 0; i < RUNS; i++) {
        struct sample s = one((uint64_t)i + 1, chaos, rate);
        a[i] = s.sim_per_wall;
        b[i] = s.events_per_s;
        d[i] = s.commits_per_wall_s;
    }
    qsort(a, RUNS, sizeof a[0], cmp);
    qsort(b, RUNS, sizeof b[0], cmp);
    qsort(d, RUNS, sizeof d[0], cmp);
    printf("%-34s %10.1f sim-s/wall-s %12.0f events/s %10.0f commits/wall-s\n", name, a[RUNS / 2],
           b[RUNS / 2], d[RUNS / 2]);
}

int main(void)
{
    printf("cluster benchmark: 5 servers, 60 simulated seconds per run, median of %d seeds\n", RUNS);
    bench("steady 1000 proposals/s, no faults", false, 1000);
    bench("steady 1000 proposals/s, chaos mix", true, 1000);
    bench("steady 200 proposals/s, no faults", false, 200);
    return 0;
}
