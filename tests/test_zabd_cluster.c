/* zabd end to end on loopback: a 3-server ensemble elects one leader, a
 * SIGKILLed leader is replaced within a bound and rejoins as a follower
 * after restart, SIGTERM stops every server cleanly; the four-letter words
 * answer in ZooKeeper's formats; on restart a torn log tail is cut and an
 * inconsistent epoch file makes zabd refuse to start (exit 3) with a message.
 * Every process is started and killed by its PID; every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log_record.h"
#include "tests/zabd/harness.h"

#define ELECTION_BOUND_MS 15000u
#define FAILOVER_BOUND_MS 10000u
#define EXIT_BOUND_MS 5000u

static struct zh_cluster cl;

static int teardown(void **state)
{
    (void)state;
    zh_cluster_destroy(&cl);
    return 0;
}

static uint32_t all_but(int n, int id)
{
    uint32_t mask = 0;
    for (int i = 1; i <= n; i++)
        if (i != id)
            mask |= 1u << i;
    return mask;
}

static void log_contains(int id, const char *needle)
{
    char path[400], text[1 << 16];
    snprintf(path, sizeof path, "%s/s%d/zabd.log", cl.dir, id);
    assert_true(zh_read_file(path, text, sizeof text) >= 0);
    if (!strstr(text, needle))
        fail_msg("s%d log lacks \"%s\":\n%s", id, needle, text);
}

static void failover_and_rejoin(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, "4lw.commands.whitelist=*\n"), 0);
    uint64_t t_start = zh_now_ms();
    for (int id = 1; id <= 3; id++)
        assert_true(zh_start(&cl, id) > 0);
    int leader = zh_wait_ensemble(&cl, all_but(3, 0), ELECTION_BOUND_MS);
    assert_int_not_equal(leader, 0);
    fprintf(stderr, "  first ensemble: leader %d after %llu ms\n", leader,
            (unsigned long long)(zh_now_ms() - t_start));

    /* Crash the leader: the two others must elect a new one between them. */
    uint64_t t0 = zh_now_ms();
    assert_int_not_equal(zh_stop(&cl, leader, SIGKILL, EXIT_BOUND_MS), -1);
    int leader2 = zh_wait_ensemble(&cl, all_but(3, leader), FAILOVER_BOUND_MS);
    assert_int_not_equal(leader2, 0);
    assert_int_not_equal(leader2, leader);
    fprintf(stderr, "  failover: server %d -> %d in %llu ms\n", leader, leader2,
            (unsigned long long)(zh_now_ms() - t0));

    /* Restart the old leader: it joins the new epoch as a follower. */
    assert_true(zh_start(&cl, leader) > 0);
    assert_int_equal(zh_wait_ensemble(&cl, all_but(3, 0), FAILOVER_BOUND_MS), leader2);
    assert_int_equal(zh_mode(&cl, leader), ZH_FOLLOWER);
    log_contains(leader, "as FOLLOWING");

    /* Epoch files: the new leader's epoch is durable on every server. */
    char path[400], text[64];
    for (int id = 1; id <= 3; id++) {
        snprintf(path, sizeof path, "%s/s%d/version-2/currentEpoch", cl.dir, id);
        assert_true(zh_read_file(path, text, sizeof text) > 0);
        assert_true(strtoull(text, NULL, 10) >= 2);
    }

    for (int id = 1; id <= 3; id++) {
        int st = zh_stop(&cl, id, SIGTERM, EXIT_BOUND_MS);
        assert_true(st != -1 && WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

static uint64_t mntr_value(int id, const char *key)
{
    char r[ZH_REPLY_MAX], want[64];
    if (zh_4lw(cl.client_port[id], "mntr", r, sizeof r, 2000) < 0)
        return UINT64_MAX;
    snprintf(want, sizeof want, "%s\t", key);
    const char *p = strstr(r, want);
    return p ? strtoull(p + strlen(want), NULL, 10) : UINT64_MAX;
}

/* Leaders die one after another; each time the survivors elect a new one in
 * a strictly newer epoch. Two of three down: no quorum, nobody serves; one
 * back: service resumes. */
static void repeated_failover_and_quorum_loss(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, "4lw.commands.whitelist=*\n"), 0);
    for (int id = 1; id <= 3; id++)
        assert_true(zh_start(&cl, id) > 0);
    int leader = zh_wait_ensemble(&cl, all_but(3, 0), ELECTION_BOUND_MS);
    assert_int_not_equal(leader, 0);
    uint64_t epoch = mntr_value(leader, "zablab_current_epoch");
    assert_true(epoch >= 1 && epoch != UINT64_MAX);
    for (int round = 0; round < 3; round++) {
        assert_int_not_equal(zh_stop(&cl, leader, SIGKILL, EXIT_BOUND_MS), -1);
        int next = zh_wait_ensemble(&cl, all_but(3, leader), FAILOVER_BOUND_MS);
        assert_int_not_equal(next, 0);
        uint64_t next_epoch = mntr_value(next, "zablab_current_epoch");
        assert_true(next_epoch > epoch && next_epoch != UINT64_MAX);
        assert_true(zh_start(&cl, leader) > 0);
        assert_int_equal(zh_wait_ensemble(&cl, all_but(3, 0), FAILOVER_BOUND_MS), next);
        leader = next;
        epoch = next_epoch;
    }
    /* Quorum loss: the last one standing stops serving. */
    int a = leader == 1 ? 2 : 1, b = 6 - leader - a;
    assert_int_not_equal(zh_stop(&cl, leader, SIGKILL, EXIT_BOUND_MS), -1);
    assert_int_not_equal(zh_stop(&cl, a, SIGKILL, EXIT_BOUND_MS), -1);
    uint64_t end = zh_now_ms() + FAILOVER_BOUND_MS;
    while (zh_mode(&cl, b) != ZH_NOT_SERVING && zh_now_ms() < end)
        zh_sleep_ms(50);
    assert_int_equal(zh_mode(&cl, b), ZH_NOT_SERVING);
    /* One comes back: a quorum of two again. */
    assert_true(zh_start(&cl, a) > 0);
    assert_int_not_equal(zh_wait_ensemble(&cl, (1u << a) | (1u << b), FAILOVER_BOUND_MS), 0);
}

/* A leader paused (SIGSTOP) past syncLimit is replaced; resumed, it finds
 * itself without a quorum, steps down and follows the new leader. */
static void paused_leader_is_replaced_and_rejoins(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, NULL), 0);
    for (int id = 1; id <= 3; id++)
        assert_true(zh_start(&cl, id) > 0);
    int leader = zh_wait_ensemble(&cl, all_but(3, 0), ELECTION_BOUND_MS);
    assert_int_not_equal(leader, 0);
    assert_int_equal(kill(cl.pid[leader], SIGSTOP), 0);
    int next = zh_wait_ensemble(&cl, all_but(3, leader), FAILOVER_BOUND_MS);
    assert_int_equal(kill(cl.pid[leader], SIGCONT), 0);
    assert_int_not_equal(next, 0);
    assert_int_not_equal(next, leader);
    assert_int_equal(zh_wait_ensemble(&cl, all_but(3, 0), FAILOVER_BOUND_MS), next);
    assert_int_equal(zh_mode(&cl, leader), ZH_FOLLOWER);
    log_contains(leader, "STEP_DOWN");
}

/* 3 voters + 1 observer: the observer observes and losing it costs nothing. */
static void observer_observes(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init_roles(&cl, 4, 100, "4lw.commands.whitelist=*\n", 1u << 4), 0);
    for (int id = 1; id <= 4; id++)
        assert_true(zh_start(&cl, id) > 0);
    int leader = zh_wait_ensemble(&cl, all_but(3, 0), ELECTION_BOUND_MS);
    assert_int_not_equal(leader, 0);
    uint64_t end = zh_now_ms() + FAILOVER_BOUND_MS;
    while (zh_mode(&cl, 4) != ZH_OBSERVER && zh_now_ms() < end)
        zh_sleep_ms(50);
    assert_int_equal(zh_mode(&cl, 4), ZH_OBSERVER);
    char r[ZH_REPLY_MAX];
    assert_true(zh_4lw(cl.client_port[4], "conf", r, sizeof r, 2000) > 0);
    assert_non_null(strstr(r, "peerType=1\n"));
    assert_non_null(strstr(r, ":observer\n"));
    assert_int_not_equal(zh_stop(&cl, 4, SIGKILL, EXIT_BOUND_MS), -1);
    zh_sleep_ms(300);
    assert_int_equal(zh_wait_ensemble(&cl, all_but(3, 0), FAILOVER_BOUND_MS), leader);
}

/* A one-server ensemble elects itself (it is its own quorum) and serves. */
static void standalone_serves(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 1, 100, NULL), 0);
    assert_true(zh_start(&cl, 1) > 0);
    assert_int_equal(zh_wait_ensemble(&cl, all_but(1, 0), ELECTION_BOUND_MS), 1);
}

static void four_letter_words(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, "4lw.commands.whitelist=*\n"), 0);
    for (int id = 1; id <= 3; id++)
        assert_true(zh_start(&cl, id) > 0);
    int leader = zh_wait_ensemble(&cl, all_but(3, 0), ELECTION_BOUND_MS);
    assert_int_not_equal(leader, 0);
    int follower = leader == 1 ? 2 : 1;
    char r[ZH_REPLY_MAX];
    assert_true(zh_4lw(cl.client_port[leader], "ruok", r, sizeof r, 2000) >= 0);
    assert_string_equal(r, "imok");
    assert_true(zh_4lw(cl.client_port[leader], "isro", r, sizeof r, 2000) >= 0);
    assert_string_equal(r, "rw");
    assert_true(zh_4lw(cl.client_port[leader], "srvr", r, sizeof r, 2000) > 0);
    assert_non_null(strstr(r, "Zookeeper version: "));
    assert_non_null(strstr(r, "\nZxid: 0x"));
    assert_non_null(strstr(r, "\nNode count: "));
    assert_null(strstr(r, "Clients:"));
    assert_true(zh_4lw(cl.client_port[follower], "stat", r, sizeof r, 2000) > 0);
    assert_non_null(strstr(r, "Clients:\n /127.0.0.1:"));
    assert_non_null(strstr(r, "Mode: follower\n"));
    assert_true(zh_4lw(cl.client_port[leader], "mntr", r, sizeof r, 2000) > 0);
    assert_non_null(strstr(r, "zk_server_state\tleader\n"));
    assert_non_null(strstr(r, "zk_synced_followers\t2\n"));
    assert_true(zh_4lw(cl.client_port[follower], "conf", r, sizeof r, 2000) > 0);
    char want[64];
    snprintf(want, sizeof want, "serverId=%d\n", follower);
    assert_non_null(strstr(r, want));
    snprintf(want, sizeof want, "clientPort=%u\n", cl.client_port[follower]);
    assert_non_null(strstr(r, want));
    assert_non_null(strstr(r, "tickTime=100\n"));
    /* Not a word, so a session frame: a negative length is closed at once
     * without a reply (sessions: tests/test_zabd_clients.c). */
    assert_int_equal(zh_ask(cl.client_port[leader], "\xff\xff\xff\xfe", 4, r, sizeof r, 2000), 0);
    log_contains(leader, "negative frame length");
    /* The server still answers afterwards. */
    assert_int_equal(zh_mode(&cl, leader), ZH_LEADER);
}

/* Writes a log of `records` valid records of epoch 1 and, if torn_bytes > 0,
 * that many bytes of one more; returns the valid length. */
static size_t write_log(int id, int records, size_t torn_bytes)
{
    static uint8_t buf[4096];
    size_t len = 0;
    for (int i = 1; i <= records + (torn_bytes > 0); i++) {
        char payload[32];
        int n = snprintf(payload, sizeof payload, "txn-%d", i);
        size_t w = log_record_encode(buf + len, sizeof buf - len, (1ull << 32) | (uint64_t)i, 1,
                                     (const uint8_t *)payload, (uint32_t)n);
        assert_true(w > torn_bytes);
        len += i <= records ? w : torn_bytes;
    }
    char path[400];
    snprintf(path, sizeof path, "%s/s%d/version-2", cl.dir, id);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/s%d/version-2/zablab.log", cl.dir, id);
    assert_int_equal(zh_write_file(path, buf, len), 0);
    size_t valid = 0;
    for (int i = 0; i < records; i++)
        valid += log_record_size((uint32_t)strlen("txn-1"));
    return valid;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void torn_log_tail_is_cut(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, NULL), 0);
    size_t valid = write_log(1, 3, 20);
    char path[400];
    snprintf(path, sizeof path, "%s/s1/version-2/zablab.log", cl.dir);
    assert_int_equal(file_size(path), (long)(valid + 20));
    assert_true(zh_start(&cl, 1) > 0);
    uint64_t end = zh_now_ms() + EXIT_BOUND_MS;
    while (file_size(path) != (long)valid && zh_now_ms() < end)
        zh_sleep_ms(20);
    assert_int_equal(file_size(path), (long)valid);
    /* Alone it cannot be elected: it answers but does not serve. The default
     * whitelist allows srvr only. */
    char r[ZH_REPLY_MAX];
    end = zh_now_ms() + EXIT_BOUND_MS;
    while (zh_4lw(cl.client_port[1], "srvr", r, sizeof r, 1000) < 0 && zh_now_ms() < end)
        zh_sleep_ms(20);
    assert_string_equal(r, "This ZooKeeper instance is not currently serving requests\n");
    assert_true(zh_4lw(cl.client_port[1], "ruok", r, sizeof r, 1000) > 0);
    assert_string_equal(r, "ruok is not executed because it is not in the whitelist.\n");
    int st = zh_stop(&cl, 1, SIGTERM, EXIT_BOUND_MS);
    assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    log_contains(1, "LOG_TORN");
    /* The kept records are intact: a second start cuts nothing more. */
    assert_true(zh_start(&cl, 1) > 0);
    zh_sleep_ms(300);
    st = zh_stop(&cl, 1, SIGTERM, EXIT_BOUND_MS);
    assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(file_size(path), (long)valid);
}

static void write_epochs(int id, const char *accepted, const char *current)
{
    char path[400];
    snprintf(path, sizeof path, "%s/s%d/version-2", cl.dir, id);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/s%d/version-2/acceptedEpoch", cl.dir, id);
    assert_int_equal(zh_write_file(path, accepted, strlen(accepted)), 0);
    snprintf(path, sizeof path, "%s/s%d/version-2/currentEpoch", cl.dir, id);
    assert_int_equal(zh_write_file(path, current, strlen(current)), 0);
}

static void expect_refusal(int id, const char *message)
{
    assert_true(zh_start(&cl, id) > 0);
    int st = zh_wait_exit(cl.pid[id], EXIT_BOUND_MS);
    assert_true(st != -1);
    cl.pid[id] = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 3);
    log_contains(id, message);
    log_contains(id, "refusing to start");
}

static void inconsistent_epochs_refuse_to_start(void **state)
{
    (void)state;
    assert_int_equal(zh_cluster_init(&cl, 3, 100, NULL), 0);
    write_epochs(1, "1\n", "2\n");
    expect_refusal(1, "acceptedEpoch 1 < currentEpoch 2");
    write_epochs(2, "x7\n", "2\n");
    expect_refusal(2, "acceptedEpoch:1:1: expected a decimal epoch number");
    /* A log whose records are newer than both epoch files. */
    write_log(3, 2, 0);
    write_epochs(3, "0", "0");
    expect_refusal(3, "older than the last zxid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(failover_and_rejoin, teardown),
        cmocka_unit_test_teardown(repeated_failover_and_quorum_loss, teardown),
        cmocka_unit_test_teardown(paused_leader_is_replaced_and_rejoins, teardown),
        cmocka_unit_test_teardown(observer_observes, teardown),
        cmocka_unit_test_teardown(standalone_serves, teardown),
        cmocka_unit_test_teardown(four_letter_words, teardown),
        cmocka_unit_test_teardown(torn_log_tail_is_cut, teardown),
        cmocka_unit_test_teardown(inconsistent_epochs_refuse_to_start, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
