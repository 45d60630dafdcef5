/* Benchmarks of the checkers (`make bench`): medians of several runs on
 * generated histories, printed side by side with the targets of issue 5 and
 * with the command that regenerates each history. Verdicts are checked too
 * (valid histories must pass, planted ones must fail), never timings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/hist_gen.h"
#include "check/linearizable.h"
#include "check/zk_consistency.h"

#define RUNS 5

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static struct chk_history *gen(struct chk_gen_opts o)
{
    char err[256];
    struct chk_history *h = chk_gen_history(&o, err, sizeof err);
    if (!h) {
        fprintf(stderr, "bench: %s\n", err);
        exit(3);
    }
    return h;
}

static void row(const char *what, double ms, const char *target, const char *porcupine, const char *cmd)
{
    printf("%-34s %10.2f ms   %-12s %-14s %s\n", what, ms, target, porcupine, cmd);
}

/* 100 single-register cas histories, ~80 ops, up to 20 pending, many crashes. */
static int bench_register_set(void)
{
    enum { N = 100 };
    struct chk_history *hs[N];
    for (int i = 0; i < N; i++)
        hs[i] = gen((struct chk_gen_opts){.model = CHK_MODEL_REGISTER, .n_ops = 80, .n_procs = 20,
                                          .crash_rate = 0.3, .seed = (uint64_t)i + 1, .value_range = 5});
    double total[RUNS], hardest[RUNS];
    int bad = 0;
    for (int r = 0; r < RUNS; r++) {
        total[r] = hardest[r] = 0;
        for (int i = 0; i < N; i++) {
            struct chk_lin_opts o = {.model = CHK_MODEL_REGISTER};
            struct chk_lin_result res;
            double t0 = now_ms();
            bad += chk_linearizable(hs[i], &o, &res) != CHK_VERDICT_OK;
            double dt = now_ms() - t0;
            total[r] += dt;
            hardest[r] = dt > hardest[r] ? dt : hardest[r];
            chk_lin_result_free(&res);
        }
    }
    const char *cmd = "zablab gen-history --model register --ops 80 --procs 20 --crash-rate 0.3 "
                      "--values 5 --seed 1..100";
    row("register: 100 histories, total", median(total, RUNS), "< 40 ms", "~400 ms", cmd);
    row("register: hardest single", median(hardest, RUNS), "< 15 ms", "<= 150 ms", "(same set)");
    for (int i = 0; i < N; i++)
        chk_history_free(hs[i]);
    return bad;
}

/* The same set with one planted anomaly each: every one must be caught. */
static int bench_register_planted(void)
{
    enum { N = 100 };
    int caught = 0, planted = 0;
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        t[r] = 0;
        for (int i = 0; i < N; i++) {
            char err[256];
            struct chk_gen_opts g = {.model = CHK_MODEL_REGISTER, .n_ops = 80, .n_procs = 20, .crash_rate = 0.3,
                                     .seed = (uint64_t)i + 1, .plant = (enum chk_anomaly)(i % 3 == 0
                                     ? CHK_PLANT_LOST_WRITE : i % 3 == 1 ? CHK_PLANT_FAILED_WRITE_VISIBLE
                                     : CHK_PLANT_NEVER_WRITTEN)};
            struct chk_history *h = chk_gen_history(&g, err, sizeof err);
            if (!h)
                continue;
            struct chk_lin_opts o = {.model = CHK_MODEL_REGISTER};
            struct chk_lin_result res;
            double t0 = now_ms();
            enum chk_verdict v = chk_linearizable(h, &o, &res);
            t[r] += now_ms() - t0;
            if (r == 0) {
                planted++;
                caught += v == CHK_VERDICT_VIOLATION;
            }
            chk_lin_result_free(&res);
            chk_history_free(h);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "register planted: %d/%d caught", caught, planted);
    row(what, median(t, RUNS), "all caught", "-", "... --values 0 --plant lost-write|failed-write-visible|never-written");
    return planted - caught;
}

static int bench_kv(void)
{
    struct chk_history *h = gen((struct chk_gen_opts){.model = CHK_MODEL_KV, .n_ops = 1700, .n_procs = 50,
                                                      .crash_rate = 0.05, .seed = 1, .n_keys = 10});
    double t[RUNS];
    int bad = 0;
    for (int r = 0; r < RUNS; r++) {
        struct chk_lin_opts o = {.model = CHK_MODEL_KV};
        struct chk_lin_result res;
        double t0 = now_ms();
        bad += chk_linearizable(h, &o, &res) != CHK_VERDICT_OK;
        t[r] = now_ms() - t0;
        chk_lin_result_free(&res);
    }
    row("kv: 1700 ops, 50 clients, by key", median(t, RUNS), "< 20 ms", "~180 ms",
        "zablab gen-history --model kv --ops 1700 --procs 50 --crash-rate 0.05 --keys 10 --seed 1");
    chk_history_free(h);
    return bad;
}

static int bench_zk(uint32_t n_ops)
{
    struct chk_history *h = gen((struct chk_gen_opts){.model = CHK_MODEL_ZK, .n_ops = n_ops, .n_procs = 16,
                                                      .crash_rate = 0.01, .seed = 1});
    double t[RUNS];
    int bad = 0;
    static struct chk_zk_result res;
    for (int r = 0; r < RUNS; r++) {
        struct chk_zk_opts o = {.sync_mode = CHK_SYNC_ZK};
        double t0 = now_ms();
        bad += chk_zk_check(h, &o, &res) != CHK_VERDICT_OK;
        t[r] = now_ms() - t0;
    }
    double ms = median(t, RUNS);
    char what[64], cmd[200], rate[32];
    snprintf(what, sizeof what, "zk checker: %u ops", n_ops);
    snprintf(rate, sizeof rate, "%.2f Mops/s", n_ops / ms / 1e3);
    snprintf(cmd, sizeof cmd, "zablab gen-history --model zk --ops %u --procs 16 --crash-rate 0.01 --seed 1",
             n_ops);
    printf("%-34s %10.2f ms   %-12s %-14s %s\n", what, ms, "> 1 Mops/s", rate, cmd);
    chk_history_free(h);
    return bad;
}

int main(void)
{
    printf("checkers, single core, median of %d runs (generation not timed)\n", RUNS);
    printf("%-34s %13s   %-12s %-14s %s\n", "workload", "median", "target", "Porcupine/rate",
           "history (reproduce)");
    int bad = bench_register_set();
    bad += bench_register_planted();
    bad += bench_kv();
    bad += bench_zk(100000);
    bad += bench_zk(1000000);
    if (bad)
        printf("VERDICTS WRONG: %d\n", bad);
    return bad ? 1 : 0;
}
