/* Benchmark: HTML report generation (and narration) for a run of at least
 * 100,000 trace records: 5 servers, a steady write load, the leader
 * crashed and restarted every 1.5 s. Then the same for 100,000 records of
 * simulated-client traffic (32 clients, 50,000 request/answer pairs), and
 * the PNG export of both diagrams when built with librsvg. Prints medians
 * of 3 runs; the lead records them in docs/benchmarks.md.
 *
 * usage: build/tests/bench_report [OUT_DIR]   (default /tmp/zablab-bench-report) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "reports/narrate.h"
#include "reports/report_html.h"
#include "reports/report_png.h"
#include "sim/cluster.h"

#define RUNS 3
#define RECORDS_MIN 100000

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

/* Writes the trace; returns its record count. */
static uint64_t simulate(const char *path)
{
    static struct cluster c;
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    struct cluster_config cfg = {
        .seed = 42, .voters = 5, .tick_ms = 50, .init_limit = 10, .sync_limit = 5,
        .net_latency = {.kind = NET_LAT_UNIFORM, .p1 = 200e3, .p2 = 2e6},
        .disk_write_latency = {.kind = NET_LAT_CONSTANT, .p1 = 50e3},
        .disk_fsync_latency = {.kind = NET_LAT_UNIFORM, .p1 = 500e3, .p2 = 3e6},
        .run_ns = 12 * SIM_NS_PER_S, .propose_rate_per_s = 400, .trace_out = f,
    };
    char err[256];
    if (cluster_init(&c, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    sim_time_ns next_fault = 1500 * SIM_NS_PER_MS;
    int down = 0;
    while (cluster_step(&c)) {
        if (cluster_now(&c) < next_fault)
            continue;
        next_fault += 1500 * SIM_NS_PER_MS;
        if (down) {
            cluster_restart(&c, down);
            down = 0;
        } else if ((down = cluster_leader(&c)) != 0) {
            cluster_crash(&c, down, DISK_CRASH_DROP);
        }
    }
    uint64_t records = c.trace.records;
    cluster_free(&c);
    fclose(f);
    return records;
}

/* 50,000 exchanges of 32 clients with 3 servers over 10 s: 100,001 records. */
static uint64_t client_trace(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fprintf(f, "{\"t_ns\":0,\"node\":-1,\"kind\":\"start\",\"seed\":1,\"voters\":3,\"observers\":0,\"tick_ms\":50}\n");
    for (int i = 0; i < 50000; i++) {
        long long t = (long long)i * 200000;
        int c = 1 + i % 32, s = 1 + i % 3;
        fprintf(f, "{\"t_ns\":%lld,\"node\":-1,\"kind\":\"c-send\",\"client\":%d,\"server\":%d,\"op\":\"getData\","
                   "\"xid\":%d,\"len\":30}\n", t, c, s, i);
        fprintf(f, "{\"t_ns\":%lld,\"node\":-1,\"kind\":\"c-recv\",\"client\":%d,\"server\":%d,\"what\":\"reply\","
                   "\"op\":\"getData\",\"xid\":%d,\"err\":0}\n", t + 150000, c, s, i);
    }
    fclose(f);
    return 100001;
}

/* Median of 3: the report (with diagram.svg) of trace, and of the PNG of
 * the SVG it wrote (negative when built without librsvg). */
static int bench_one(const char *trace, const char *dir, double *t_html, double *t_png)
{
    double th[RUNS], tp[RUNS];
    char err[256], svg[600], png[600];
    snprintf(svg, sizeof svg, "%s/diagram.svg", dir);
    snprintf(png, sizeof png, "%s/diagram.png", dir);
    for (int i = 0; i < RUNS; i++) {
        struct rep_html_input in = {.trace_path = trace, .scenario = "bench", .seed = 42, .svg = true};
        double t0 = now_s();
        if (rep_html_write(&in, dir, err, sizeof err) < 0) {
            fprintf(stderr, "bench_report: %s\n", err);
            return -1;
        }
        th[i] = now_s() - t0;
        tp[i] = -1;
        FILE *f = fopen(svg, "rb");
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        for (int ch; f && mem && (ch = fgetc(f)) != EOF;)
            fputc(ch, mem);
        if (f)
            fclose(f);
        if (mem)
            fclose(mem);
        t0 = now_s();
        if (rep_png_available() && rep_png_write(buf, len, REP_PNG_SCALE, png, err, sizeof err) == 0)
            tp[i] = now_s() - t0;
        free(buf);
    }
    qsort(th, RUNS, sizeof th[0], cmp);
    qsort(tp, RUNS, sizeof tp[0], cmp);
    *t_html = th[RUNS / 2], *t_png = tp[RUNS / 2];
    return 0;
}

static int bench_clients(const char *dir)
{
    char sub[560], trace[600];
    snprintf(sub, sizeof sub, "%s/clients", dir);
    mkdir(sub, 0777);
    snprintf(trace, sizeof trace, "%s/trace.jsonl", sub);
    uint64_t records = client_trace(trace);
    double t_html, t_png;
    if (!records || bench_one(trace, sub, &t_html, &t_png) < 0)
        return 1;
    printf("bench_report: %" PRIu64 " client trace records (32 clients); html report median of %d: %.3f s; "
           "diagram.png %s%.3f s\n", records, RUNS, t_html, t_png < 0 ? "(no librsvg) " : "", t_png);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/zablab-bench-report";
    char trace[512], html[600];
    mkdir(dir, 0777);
    snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
    uint64_t records = simulate(trace);
    if (records < RECORDS_MIN) {
        fprintf(stderr, "bench_report: only %" PRIu64 " records (want %d)\n", records, RECORDS_MIN);
        return 1;
    }
    double t_html[RUNS], t_narr[RUNS];
    char err[256];
    for (int i = 0; i < RUNS; i++) {
        struct rep_html_input in = {.trace_path = trace, .scenario = "bench", .seed = 42, .svg = true};
        double t0 = now_s();
        if (rep_html_write(&in, dir, err, sizeof err) < 0) {
            fprintf(stderr, "bench_report: %s\n", err);
            return 1;
        }
        t_html[i] = now_s() - t0;
        FILE *tf = fopen(trace, "r"), *out = fopen("/dev/null", "w");
        t0 = now_s();
        int rc = tf && out ? rep_narrate(tf, out, NULL, err, sizeof err) : -1;
        t_narr[i] = now_s() - t0;
        if (tf)
            fclose(tf);
        if (out)
            fclose(out);
        if (rc < 0)
            return 1;
    }
    qsort(t_html, RUNS, sizeof t_html[0], cmp);
    qsort(t_narr, RUNS, sizeof t_narr[0], cmp);
    snprintf(html, sizeof html, "%s/index.html", dir);
    struct stat st;
    long long size = stat(html, &st) == 0 ? (long long)st.st_size : -1;
    printf("bench_report: %" PRIu64 " trace records; html report (index.html + diagram.svg) median of %d: "
           "%.3f s (%.0f records/s); index.html %lld bytes; narration median %.3f s\n",
           records, RUNS, t_html[RUNS / 2], (double)records / t_html[RUNS / 2], size, t_narr[RUNS / 2]);
    double t_unused, t_png;
    if (bench_one(trace, dir, &t_unused, &t_png) < 0)
        return 1;
    printf("bench_report: diagram.png of that run median of %d: %s%.3f s\n", RUNS, t_png < 0 ? "(no librsvg) " : "",
           t_png);
    return bench_clients(dir);
}
