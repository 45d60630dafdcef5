/* bench_load: `zablab load` as its own binary (cli/cmd_load.c compiled in),
 * so the load tool runs before the cli dispatches it, and its headroom
 * benchmark: the load tool against tests/support/zk_fake (a server that
 * answers at once), to show how many requests/s the tool itself can drive.
 *   build/tests/bench_load LOAD_ARGS...        same as `zablab load LOAD_ARGS...`
 *   build/tests/bench_load --headroom [SECONDS] the matrix against zk_fake */
#include "cli/cmd_load.c"

#include "tests/support/zk_fake.h"

static int bench_headroom(int seconds)
{
    static const char *ops[] = {"create", "setData", "getData"};
    static const char *outs[] = {"1", "64"};
    int port;
    struct zk_fake *f = zk_fake_start(NULL, &port);
    if (!f) {
        fprintf(stderr, "bench_load: cannot start zk_fake\n");
        return 1;
    }
    char hosts[64], secs[16];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", port);
    snprintf(secs, sizeof secs, "%d", seconds);
    int rc = 0;
    for (size_t i = 0; i < 3 && !rc; i++) {
        for (size_t j = 0; j < 2 && !rc; j++) {
            char *argv[] = {"load", "--hosts", hosts, "--op", (char *)ops[i], "--sessions", "4",
                            "--outstanding", (char *)outs[j], "--seconds", secs,
                            "--format", "json", NULL};
            rc = cmd_load(13, argv);
        }
    }
    zk_fake_stop(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--headroom"))
        return bench_headroom(argc >= 3 ? atoi(argv[2]) : 2);
    return cmd_load(argc, argv);
}
