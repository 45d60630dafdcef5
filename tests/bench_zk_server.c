/* bench_zk_server: throughput of the whole server pipeline on one core:
 * three zk_servers in the in-memory test harness (tests/support/
 * zks_harness: FIFO queue, instant disks), clients on a follower. Writes
 * go client -> follower -> leader prep/propose -> ZAB -> apply on all three
 * -> reply; reads are answered locally. Includes the harness's own copying,
 * so the numbers are for comparison between versions only. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/zks_harness.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double secs)
{
    printf("%-40s %8ld ops %8.3f s %12.0f ops/s\n", what, n, secs, n / secs);
}

static int32_t next_xid = 1;

/* n writes from `clients` connections, `batch` in flight per client:
 * creates of new nodes (the tree grows, and with it the replica's periodic
 * snapshots), or setData on one node per client (steady state). */
static void bench_writes(struct zksh *h, bool create, int clients, int n, int batch)
{
    char path[64];
    double t0 = now_s();
    for (int done = 0; done < n;) {
        for (int c = 0; c < clients; c++) {
            for (int b = 0; b < batch && done < n; b++, done++) {
                snprintf(path, sizeof path, create ? "/w%d-%d" : "/w%d-0", c, done);
                struct zk_request r = zksh_rq(create ? ZOO_CREATE_OP : ZOO_SETDATA_OP, next_xid++, path);
                r.data = (const uint8_t *)"0123456789abcdef";
                r.data_len = 16;
                zksh_request(h, (uint64_t)(100 + c), &r);
            }
        }
        zksh_settle(h);
        h->n_recs = 0;   /* keep the recording small */
    }
    double t = now_s() - t0;
    char what[80];
    snprintf(what, sizeof what, "%s via follower, %d x %d in flight", create ? "create" : "setData",
             clients, batch);
    report(what, n, t);
}

static void bench_reads(struct zksh *h, int n)
{
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        struct zk_request r = zksh_rq(ZOO_GETDATA_OP, i + 1, "/w0-0");
        zksh_request(h, 100, &r);
        if ((i & 1023) == 0)
            h->n_recs = 0;
    }
    report("getData on a follower (local)", n, now_s() - t0);
}

int main(void)
{
    struct zksh *h = calloc(1, sizeof *h);
    if (h == NULL || !zksh_init(h, 3)) {
        fprintf(stderr, "bench_zk_server: ensemble did not start\n");
        return 1;
    }
    int f = zksh_follower(h, 0);
    for (int c = 0; c < 8; c++)
        if (zksh_open(h, f, (uint64_t)(100 + c)) == 0) {
            fprintf(stderr, "bench_zk_server: session refused\n");
            return 1;
        }
    for (int c = 0; c < 8; c++) {
        char path[32];
        snprintf(path, sizeof path, "/w%d-0", c);
        struct zk_request r = zksh_rq(ZOO_CREATE_OP, next_xid++, path);
        zksh_request(h, (uint64_t)(100 + c), &r);
    }
    zksh_settle(h);
    bench_writes(h, false, 1, 5000, 1);
    bench_writes(h, false, 1, 20000, 100);
    bench_writes(h, false, 8, 20000, 50);
    bench_writes(h, true, 8, 5000, 50);
    bench_reads(h, 200000);
    zksh_free(h);
    free(h);
    return 0;
}
