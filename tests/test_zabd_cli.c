/* `zablab cluster start|status|stop` against real zabd processes: start
 * writes the files and PIDs, status shows one leader and two followers,
 * stop terminates exactly the recorded PIDs, and a PID that is not one of
 * the cluster's servers is never signalled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/zabd/harness.h"

static char zablab[1024];
static char dir[256];
static int base_port;

static int find_zablab(void)
{
    const char *env = getenv("ZABLAB_BIN");
    snprintf(zablab, sizeof zablab, "%s", env && *env ? env : "bin/zablab");
    char zabd[1024];
    if (access(zablab, X_OK) != 0 || zh_find_zabd(zabd, sizeof zabd) != 0)
        return -1;
    return setenv("ZABD_BIN", zabd, 1);
}

/* A base port P with P..P+2, P+100..P+102, P+200..P+202 all free now, all
 * below the ephemeral range. */
static int pick_base_port(void)
{
    int span = zh_ephemeral_low() - 20000 - 300;
    if (span < 100)
        return -1;
    uint32_t x = (uint32_t)getpid() * 2654435761u ^ (uint32_t)zh_now_ms();
    for (int attempt = 0; attempt < 200; attempt++) {
        x = x * 1103515245u + 12345u;
        int p = 20000 + (int)((x >> 8) % (uint32_t)span);
        int ok = 1;
        for (int k = 0; k < 9 && ok; k++) {
            int fd = zh_hold_port((uint16_t)(p + (k / 3) * 100 + k % 3));
            ok = fd >= 0;
            if (fd >= 0)
                close(fd);
        }
        if (ok)
            return p;
    }
    return -1;
}

/* Runs `zablab cluster ARGS --dir dir`, captures stdout; exit code or -1. */
static int run(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' cluster %s --dir '%s' 2>&1", zablab, args, dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count(const char *text, const char *word)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, word)) != NULL; p += strlen(word))
        n++;
    return n;
}

static int process_is_running(long pid)
{
    char path[64], buf[16];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf, f);   /* a zombie has an empty cmdline */
    fclose(f);
    return n > 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/zabd-cli.XXXXXX");
    if (find_zablab() != 0 || !mkdtemp(dir))
        return -1;
    base_port = pick_base_port();
    return base_port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char out[4096];
    run("stop", out, sizeof out);   /* whatever is still recorded */
    if (!getenv("ZABD_TEST_KEEP"))
        nftw(dir, zh_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void start_status_stop(void **state)
{
    (void)state;
    char args[128], out[4096];
    snprintf(args, sizeof args, "start --servers 3 --base-port %d --tick-ms 100", base_port);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_int_equal(count(out, "pid "), 3);
    /* A second start while they run is refused. */
    assert_int_equal(run(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "still run"));

    uint64_t end = zh_now_ms() + 15000;
    int rc;
    while ((rc = run("status", out, sizeof out)) != 0 || count(out, " leader ") != 1) {
        assert_true(zh_now_ms() < end);
        zh_sleep_ms(100);
    }
    assert_int_equal(count(out, " follower "), 2);

    struct { int id; long pid; int port; } m[3];
    char path[400], text[256];
    snprintf(path, sizeof path, "%s/pids", dir);
    assert_true(zh_read_file(path, text, sizeof text) > 0);
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        int used = 0;
        assert_int_equal(sscanf(p, "%d %ld %d\n%n", &m[i].id, &m[i].pid, &m[i].port, &used), 3);
        assert_int_equal(m[i].port, base_port + m[i].id - 1);
        assert_true(process_is_running(m[i].pid));
        p += used;
    }
    assert_int_equal(run("stop", out, sizeof out), 0);
    assert_int_equal(count(out, "stopped"), 3);
    for (int i = 0; i < 3; i++)
        assert_false(process_is_running(m[i].pid));
    assert_int_equal(access(path, F_OK), -1);
    /* Nothing answers any more. */
    snprintf(args, sizeof args, "status --base-port %d", base_port);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_int_equal(count(out, "down"), 3);
}

static void stop_never_signals_a_foreign_pid(void **state)
{
    (void)state;
    /* Plant this test's own PID (and its parent's) as "servers". */
    char path[400], text[128], out[4096];
    snprintf(path, sizeof path, "%s/pids", dir);
    int n = snprintf(text, sizeof text, "1 %ld %d\n2 %ld %d\n", (long)getpid(), base_port,
                     (long)getppid(), base_port + 1);
    assert_int_equal(zh_write_file(path, text, (size_t)n), 0);
    assert_int_equal(run("stop", out, sizeof out), 0);
    assert_null(strstr(out, "stopped"));
    assert_true(process_is_running(getpid()));
    assert_true(process_is_running(getppid()));
}

static void bad_usage(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(run("launch", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown action 'launch'"));
    assert_int_equal(run("start --servers 99", out, sizeof out), 2);
    assert_non_null(strstr(out, "--servers wants 1..15"));
    assert_int_equal(run("stop", out, sizeof out), 2);
    assert_non_null(strstr(out, "nothing was started there"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(start_status_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_never_signals_a_foreign_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_usage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
