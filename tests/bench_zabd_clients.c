/* A sanity figure, not the benchmark (that is `make bench-real`): creates
 * with 100-byte values from the tiny test client (tests/zabd/client.h) over
 * loopback against a 3-server zabd ensemble with fsync on, at 1 and at 64
 * requests in flight on one connection, on the leader and on a follower.
 * Prints ops/s. Starts and stops its own processes by PID.
 *
 *   ./build/tests/bench_zabd_clients [SECONDS_PER_RUN]   (default 3) */
#include "tests/zabd/client.h"
#include "tests/zabd/harness.h"

static struct zh_cluster cl;

/* Creates for `seconds` keeping `window` in flight; ops/s, or -1. */
static double create_loop(uint16_t port, const char *prefix, uint32_t window, double seconds)
{
    struct zc c;
    memset(&c, 0, sizeof c);
    if (zc_open(&c, port, 0, 10000, 5000) != 0) {
        fprintf(stderr, "connect: %s\n", c.why);
        return -1;
    }
    char value[101], path[64];
    memset(value, 'v', 100);
    value[100] = '\0';
    uint64_t start = zh_now_ms(), end = start + (uint64_t)(seconds * 1000);
    uint64_t sent = 0, done = 0;
    int failed = 0;
    while (!failed) {
        while (c.p_n < window && zh_now_ms() < end) {
            snprintf(path, sizeof path, "%s-%llu", prefix, (unsigned long long)sent++);
            struct zk_request r = zc_create_req(path, value, 0);
            if (zc_send(&c, &r) == INT32_MIN)
                failed = 1;
        }
        if (c.p_n == 0)
            break;
        struct zkw_reply rep;
        if (zc_recv(&c, &rep, 10000) != 0) {
            fprintf(stderr, "reply: %s\n", c.why);
            failed = 1;
            break;
        }
        if (rep.err != ZOK) {
            fprintf(stderr, "create failed: %d\n", rep.err);
            failed = 1;
        }
        zkw_reply_free(&rep);
        done++;
    }
    double secs = (double)(zh_now_ms() - start) / 1000.0;
    zc_close(&c);
    return failed ? -1 : (double)done / secs;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    if (seconds <= 0 || seconds > 600)
        seconds = 3.0;
    if (zh_cluster_init(&cl, 3, 100, "4lw.commands.whitelist=*\nsecret=bench\n") != 0) {
        fprintf(stderr, "cannot set up the ensemble (zabd built?)\n");
        return 1;
    }
    for (int id = 1; id <= 3; id++)
        zh_start(&cl, id);
    int leader = zh_wait_ensemble(&cl, (1u << 1) | (1u << 2) | (1u << 3), 15000);
    int rc = leader ? 0 : 1;
    int follower = leader == 1 ? 2 : 1;
    struct { const char *name; int id; uint32_t window; } runs[] = {
        {"leader, 1 in flight", leader, 1},
        {"leader, 64 in flight", leader, 64},
        {"follower, 1 in flight", follower, 1},
        {"follower, 64 in flight", follower, 64},
    };
    printf("creates, 100-byte values, 3 zabd servers on loopback, fsync on, %.0f s each\n",
           seconds);
    for (size_t i = 0; i < sizeof runs / sizeof runs[0] && !rc; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "/b%zu", i);
        double ops = create_loop(cl.client_port[runs[i].id], prefix, runs[i].window, seconds);
        if (ops < 0)
            rc = 1;
        else
            printf("  %-24s %9.0f ops/s\n", runs[i].name, ops);
    }
    char r[ZH_REPLY_MAX];
    if (!rc && zh_4lw(cl.client_port[leader], "mntr", r, sizeof r, 2000) > 0) {
        const char *a = strstr(r, "zablab_fdatasyncs\t"), *b = strstr(r, "zablab_fsync_actions\t");
        if (a && b)
            printf("  leader: %llu fdatasyncs for %llu fsync actions\n",
                   strtoull(a + 18, NULL, 10), strtoull(b + 21, NULL, 10));
    }
    for (int id = 1; id <= 3; id++)
        zh_stop(&cl, id, SIGTERM, 5000);
    if (rc)
        setenv("ZABD_TEST_KEEP", "1", 1);
    zh_cluster_destroy(&cl);
    return rc;
}
