/* Kernel benchmark: scheduler throughput under a many-node ping workload
 * (the bare scheduler, and the toy driver with the network model), and the
 * memory of a million pending events. Prints the median of several runs.
 * Wall-clock timing is fine here: this measures the simulator, it is not
 * part of a simulated run. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "sim/rng.h"
#include "sim/sched.h"
#include "sim/toy.h"

#define RUNS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Bare scheduler: `nodes` nodes each keep `inflight` pings pending; popping
 * one schedules the reply after a pseudo-random latency (splitmix64 of the
 * event count, so no RNG library cost hides the scheduler's). */
static double bench_sched(int nodes, int inflight, uint64_t events)
{
    struct sim_sched s;
    if (sim_sched_init(&s, (size_t)nodes * (size_t)inflight + 16) != 0)
        return 0;
    for (int i = 0; i < nodes; i++)
        for (int k = 0; k < inflight; k++)
            sim_sched_push(&s, sim_mix64((uint64_t)(i * inflight + k)) % 1000000, 1, i, 0, 0);
    struct sim_event ev;
    double t0 = now_s();
    for (uint64_t n = 0; n < events; n++) {
        sim_sched_pop(&s, &ev);
        uint64_t lat_ns = 100000 + sim_mix64(n) % 1900000; /* 0.1 .. 2 ms */
        int peer = (int)((ev.node + 1 + (int)(sim_mix64(n ^ 0x5555) % (uint64_t)(nodes - 1))) % nodes);
        sim_sched_after(&s, lat_ns, 1, peer, ev.a + 1, 0);
    }
    double dt = now_s() - t0;
    sim_sched_free(&s);
    return (double)events / dt;
}

/* The toy driver with the network model; `full` adds disks, faults and
 * the hashed trace (no output file). */
static double bench_toy(int nodes, bool full, double *events_out)
{
    struct toy_config cfg = {
        .seed = 1, .nodes = nodes, .duration_ns = 2 * SIM_NS_PER_S,
        .ping_interval_ns = SIM_NS_PER_MS, .latency = "uniform 100us 2ms",
        .disk = full, .faults = full, .trace = full,
    };
    struct toy_result res;
    double t0 = now_s();
    if (toy_run(&cfg, &res) != 0) {
        fprintf(stderr, "toy: %s\n", res.err);
        return 0;
    }
    double dt = now_s() - t0;
    *events_out = (double)res.events;
    return (double)res.events / dt;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A million pending events: bytes by construction, and the RSS growth. */
static void bench_memory(void)
{
    const size_t million = 1000000;
    long rss0 = max_rss_kb();
    struct sim_sched s;
    if (sim_sched_init(&s, million) != 0)
        return;
    for (size_t i = 0; i < million; i++)
        sim_sched_push(&s, sim_mix64(i) % SIM_NS_PER_S, 1, (int32_t)(i % 1000), i, 0);
    long rss1 = max_rss_kb();
    printf("memory: 1e6 pending events: capacity*sizeof(event) = %zu bytes (%zu B/event); "
           "peak RSS growth = %.1f MiB\n",
           s.cap * sizeof *s.heap, sizeof *s.heap, (double)(rss1 - rss0) / 1024.0);
    sim_sched_free(&s);
}

int main(void)
{
    double v[RUNS];
    const int nodes_list[] = {100, 1000};
    for (size_t k = 0; k < sizeof nodes_list / sizeof nodes_list[0]; k++) {
        int nodes = nodes_list[k];
        for (int r = 0; r < RUNS; r++)
            v[r] = bench_sched(nodes, 4, 5000000);
        printf("sched: %d nodes x 4 pings in flight, 5e6 events: median %.2f M events/s\n", nodes,
               median(v, RUNS) / 1e6);
    }
    double events = 0;
    for (int r = 0; r < RUNS; r++)
        v[r] = bench_toy(100, false, &events);
    printf("toy+net: 100 nodes pinging every 1ms, 2 s simulated (%.0f events): median %.2f M events/s\n",
           events, median(v, RUNS) / 1e6);
    for (int r = 0; r < RUNS; r++)
        v[r] = bench_toy(100, true, &events);
    printf("toy+net+disk+faults+trace hash: same workload (%.0f events): median %.2f M events/s\n",
           events, median(v, RUNS) / 1e6);
    bench_memory();
    return 0;
}
