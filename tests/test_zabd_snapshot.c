/* zabd's periodic snapshots, end to end on loopback: with a small snapCount
 * every server stores zablab.snap from a forked child (reaped: no zombie,
 * no temporary file left), the load goes on meanwhile, and after SIGKILL of
 * the whole ensemble each server starts from its snapshot plus the log tail
 * with every acknowledged znode back; the log rolls to a new segment at each
 * snapshot and the segments a snapshot covers are deleted. Also: snapCount is
 * validated like the other keys. Every process is started and killed by its PID; every wait is
 * bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include "server/config.h"
#include "tests/zabd/client.h"
#include "tests/zabd/harness.h"

#define ELECTION_BOUND_MS 15000u
#define EXIT_BOUND_MS 5000u
#define CALL_MS 5000u
#define NODES 400

static struct zh_cluster cl;

static int teardown(void **state)
{
    (void)state;
    for (int id = 1; id <= cl.n; id++)
        if (cl.pid[id])
            zh_stop(&cl, id, SIGTERM, EXIT_BOUND_MS);
    zh_cluster_destroy(&cl);
    return 0;
}

static long read_log(int id, char *text, size_t cap)
{
    char path[400];
    snprintf(path, sizeof path, "%s/s%d/zabd.log", cl.dir, id);
    return zh_read_file(path, text, cap);
}

static int count_in_log(int id, const char *needle)
{
    static char text[1 << 20];
    if (read_log(id, text, sizeof text) < 0)
        return 0;
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Children of pid that are zombies (exited, not reaped). */
static int zombies_of(pid_t pid)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (zh_read_file(path, buf, sizeof buf) <= 0)
            continue;
        const char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == pid && state == 'Z')
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* Names in a server's version-2 folder: how many contain `part`, and the
 * highest N of those named zablab.log.N (zablab.log counts as 0). */
static int files_in(int id, const char *part, long *max_seq)
{
    char dir[400];
    zh_server_dir(&cl, id, dir, sizeof dir);
    strncat(dir, "/version-2", sizeof dir - strlen(dir) - 1);
    DIR *d = opendir(dir);
    int n = 0;
    *max_seq = -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, part))
            continue;
        n++;
        if (strncmp(e->d_name, "zablab.log", 10) == 0) {
            long seq = e->d_name[10] == '.' ? strtol(e->d_name + 11, NULL, 10) : 0;
            if (seq > *max_seq)
                *max_seq = seq;
        }
    }
    if (d)
        closedir(d);
    return n;
}

static int tmp_files_in(int id)
{
    long unused;
    return files_in(id, ".tmp", &unused);
}

/* Log segment files (zablab.log, zablab.log.N), and the highest N. */
static int segments_in(int id, long *max_seq)
{
    return files_in(id, "zablab.log", max_seq);
}

static void open_on(struct zc *c, int id)
{
    memset(c, 0, sizeof *c);
    if (zc_open(c, cl.client_port[id], 0, 4000, CALL_MS) != 0)
        fail_msg("connect to s%d: %s", id, c->why);
}

static void snapshots_in_children_then_restart(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, "4lw.commands.whitelist=*\nsnapCount=40\n"), 0);
    for (int id = 1; id <= 3; id++)
        assert_true(zh_start(&cl, id) > 0);
    assert_int_not_equal(zh_wait_ensemble(&cl, 0xe, ELECTION_BOUND_MS), 0);
    struct zc c;
    open_on(&c, 1);
    char path[64], data[64];
    assert_int_equal(zc_create(&c, "/s", "", 0, NULL, 0), ZOK);
    for (int i = 0; i < NODES; i++) {
        snprintf(path, sizeof path, "/s/n%04d", i);
        snprintf(data, sizeof data, "value-%d", i);
        assert_int_equal(zc_create(&c, path, data, 0, NULL, 0), ZOK);
    }
    zc_close(&c);
    /* Every server took several snapshots (400 txns, one per 40) and reaped
     * every child. */
    uint64_t end = zh_now_ms() + 5000;
    int ok = 0;
    while (!ok && zh_now_ms() < end) {
        ok = 1;
        for (int id = 1; id <= 3; id++)
            ok &= count_in_log(id, "SNAPSHOT zxid=") >= 3 && zombies_of(cl.pid[id]) == 0 &&
                  tmp_files_in(id) == 0;
        if (!ok)
            zh_sleep_ms(50);
    }
    for (int id = 1; id <= 3; id++) {
        fprintf(stderr, "  s%d: %d snapshots, %d zombies, %d tmp files\n", id,
                count_in_log(id, "SNAPSHOT zxid="), zombies_of(cl.pid[id]), tmp_files_in(id));
        assert_true(count_in_log(id, "SNAPSHOT zxid=") >= 3);
        assert_int_equal(zombies_of(cl.pid[id]), 0);
        assert_int_equal(tmp_files_in(id), 0);
        /* The log rolled at each snapshot and what the snapshots cover is gone. */
        long max_seq;
        int segs = segments_in(id, &max_seq);
        fprintf(stderr, "  s%d: %d log segments, newest zablab.log.%ld\n", id, segs, max_seq);
        assert_true(max_seq >= 3);
        assert_true(segs >= 1 && segs <= 3);
        /* mntr says the same. */
        char m[ZH_REPLY_MAX];
        assert_true(zh_4lw(cl.client_port[id], "mntr", m, sizeof m, 2000) > 0);
        const char *sn = strstr(m, "zablab_snapshots\t"), *sg = strstr(m, "zablab_log_segments\t");
        assert_non_null(sn);
        assert_non_null(sg);
        assert_true(strtol(sn + strlen("zablab_snapshots\t"), NULL, 10) >= 3);
        assert_int_equal(strtol(sg + strlen("zablab_log_segments\t"), NULL, 10), segs);
    }
    /* Crash everyone; each restarts from its snapshot plus the log tail. */
    for (int id = 1; id <= 3; id++)
        assert_true(zh_stop(&cl, id, SIGKILL, EXIT_BOUND_MS) != -1);
    for (int id = 1; id <= 3; id++)
        assert_true(zh_start(&cl, id) > 0);
    assert_int_not_equal(zh_wait_ensemble(&cl, 0xe, ELECTION_BOUND_MS), 0);
    for (int id = 1; id <= 3; id++) {
        static char text[1 << 20];
        assert_true(read_log(id, text, sizeof text) > 0);
        const char *last = NULL;
        for (const char *p = strstr(text, " snapshot bytes"); p; p = strstr(p + 1, " snapshot bytes"))
            last = p;
        assert_non_null(last);
        const char *num = last;
        while (num > text && num[-1] >= '0' && num[-1] <= '9')
            num--;
        assert_true(strtoull(num, NULL, 10) > 0);   /* started from a snapshot */
    }
    for (int id = 1; id <= 3; id++) {
        open_on(&c, id);
        for (int i = 0; i < NODES; i += 37) {
            char got[64];
            snprintf(path, sizeof path, "/s/n%04d", i);
            snprintf(data, sizeof data, "value-%d", i);
            assert_int_equal(zc_get(&c, path, false, got, sizeof got, NULL), ZOK);
            assert_string_equal(got, data);
        }
        char kids[1 << 14];
        assert_int_equal(zc_children(&c, "/s", kids, sizeof kids), ZOK);
        int n = 0;
        for (const char *p = kids; (p = strstr(p, "n0")); p++)
            n++;
        assert_int_equal(n, NODES);
        zc_close(&c);
    }
}

static void snap_count_is_validated(void **state)
{
    (void)state;
    static struct cfg c;
    char err[256];
    const char *good = "tickTime=100\ninitLimit=5\nsyncLimit=2\ndataDir=/tmp/x\nclientPort=2181\n"
                       "snapCount=500\n";
    assert_int_equal(cfg_parse(&c, "zoo.cfg", good, strlen(good), err, sizeof err), 0);
    assert_int_equal(c.snap_count, 500);
    const char *bad = "tickTime=100\ninitLimit=5\nsyncLimit=2\ndataDir=/tmp/x\nclientPort=2181\n"
                      "snapCount=1\n";
    assert_int_equal(cfg_parse(&c, "zoo.cfg", bad, strlen(bad), err, sizeof err), -1);
    assert_non_null(strstr(err, "zoo.cfg:6:"));
    assert_non_null(strstr(err, "snapCount"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snap_count_is_validated),
        cmocka_unit_test_teardown(snapshots_in_children_then_restart, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
