/* Planted bugs: each scenario is run twice, with the bug off (the harness's
 * safety checks must stay quiet and the run must behave) and with it on (the
 * checks must fire, or the wrong ordering must be visible in the outputs).
 * Scenarios follow the ZooKeeper issues the bugs come from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/zab_msg.h"
#include "tests/support/core_harness.h"

static struct replica_config base_cfg(uint32_t bugs)
{
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100;
    c.init_limit = 10;
    c.sync_limit = 5;
    c.finalize_wait_ms = 20;
    c.notification_interval_max_ms = 400;
    c.bugs = bugs;
    return c;
}

static struct core_harness *cluster(uint64_t seed, uint32_t bugs)
{
    struct replica_config c = base_cfg(bugs);
    struct core_harness *h = ch_new(3, seed, &c);
    h->disk_delayed = 1;
    for (int i = 1; i <= 3; i++)
        assert_int_equal(ch_start(h, i), 0);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
    return h;
}

static uint64_t commit_on(struct core_harness *h, const char *txt, const int *nodes)
{
    uint64_t z;
    assert_int_equal(ch_propose(h, ch_leader(h), txt, &z), 0);
    for (const int *n = nodes; *n; n++) {
        uint64_t arg[2] = {(uint64_t)*n, z};
        assert_true(ch_run_until(h, ch_pred_node_applied, arg, 300000));
    }
    return z;
}

static int pred_leader_is(struct core_harness *h, void *id)
{
    return ch_leader(h) == *(int *)id;
}

static int pred_new_leader(struct core_harness *h, void *old)
{
    int l = ch_leader(h);
    return l > 0 && l != *(int *)old;
}

/* Runs until a leader is established (or a violation shows up). */
static int pred_leader_or_violation(struct core_harness *h, void *arg)
{
    (void)arg;
    return h->violation[0] || ch_leader(h) > 0;
}

/* ---- ACK_BEFORE_FSYNC: with every disk stalled nothing may commit ---- */

static int ack_before_fsync(uint64_t seed, uint32_t bugs)
{
    struct core_harness *h = cluster(seed, bugs);
    int all[] = {1, 2, 3, 0};
    commit_on(h, "t1", all);
    int l = ch_leader(h);
    for (int i = 1; i <= 3; i++)
        h->disk_paused[i] = 1;
    uint64_t x;
    assert_int_equal(ch_propose(h, l, "x", &x), 0);
    ch_run_steps(h, 300);
    int committed = h->nodes[l].r.zxid_committed >= x;
    for (int i = 1; i <= 3; i++)
        ch_crash(h, i);            /* unsynced appends are lost */
    for (int i = 1; i <= 3; i++) {
        h->disk_paused[i] = 0;
        assert_int_equal(ch_start(h, i), 0);
    }
    ch_run_until(h, pred_leader_or_violation, NULL, 300000);
    ch_run_steps(h, 2000);
    int caught = h->violation[0] != 0;
    if (!bugs)
        assert_false(committed);
    ch_free(h);
    return caught;
}

static void bug_ack_before_fsync(void **state)
{
    (void)state;
    int caught = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_false(ack_before_fsync(seed, 0));
        caught += ack_before_fsync(seed, ZAB_BUG_BIT(ZAB_BUG_ACK_BEFORE_FSYNC));
    }
    assert_int_equal(caught, 5);
}

/* ---- COMMIT_BEFORE_QUORUM: an isolated leader commits alone ---- */

static int commit_before_quorum(uint64_t seed, uint32_t bugs)
{
    struct core_harness *h = cluster(seed, bugs);
    int all[] = {1, 2, 3, 0};
    commit_on(h, "t1", all);
    int l = ch_leader(h);
    ch_isolate(h, l, 1);
    uint64_t x;
    assert_int_equal(ch_propose(h, l, "alone", &x), 0);
    ch_run_steps(h, 50);
    int committed = h->nodes[l].r.zxid_committed >= x;
    assert_true(ch_run_until(h, pred_new_leader, &l, 300000));
    int l2 = ch_leader(h);
    commit_on(h, "t2", (int[]){l2, 0});
    ch_isolate(h, l, 0);
    ch_run_steps(h, 3000);
    int caught = h->violation[0] != 0;
    if (!bugs)
        assert_false(committed);
    ch_free(h);
    return caught;
}

static void bug_commit_before_quorum(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_false(commit_before_quorum(seed, 0));
        assert_true(commit_before_quorum(seed, ZAB_BUG_BIT(ZAB_BUG_COMMIT_BEFORE_QUORUM)));
    }
}

/* ---- SKIP_TRUNC (ZOOKEEPER-1154): the old leader keeps its orphan txn ---- */

static int skip_trunc(uint64_t seed, uint32_t bugs)
{
    struct core_harness *h = cluster(seed, bugs);
    int all[] = {1, 2, 3, 0};
    commit_on(h, "t1", all);
    int l = ch_leader(h);
    ch_isolate(h, l, 1);
    uint64_t orphan;
    assert_int_equal(ch_propose(h, l, "orphan", &orphan), 0);
    assert_true(ch_run_until(h, pred_new_leader, &l, 300000));
    int l2 = ch_leader(h);
    commit_on(h, "t2", (int[]){l2, 0});
    ch_isolate(h, l, 0);
    uint64_t arg[2] = {(uint64_t)l, 0};
    arg[1] = h->nodes[l2].r.zxid_committed;
    ch_run_until(h, ch_pred_node_applied, arg, 300000);
    commit_on(h, "t3", all);
    int caught = h->violation[0] != 0;
    ch_free(h);
    return caught;
}

static void bug_skip_trunc(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_false(skip_trunc(seed, 0));
        assert_true(skip_trunc(seed, ZAB_BUG_BIT(ZAB_BUG_SKIP_TRUNC)));
    }
}

/* ---- DIFF_LOG_AFTER_ACK (ZOOKEEPER-4646/3911) ----
 * Leader 3 logs X alone; all crash; 3 and 2 come back, 3 leads and DIFFs X
 * to 2. The buggy 2 ACKs NEWLEADER before X is durable; 3 establishes, so X
 * is committed; 3 and 2 crash; 2 (now in the newer epoch) leads 1 without X. */

static int pred_current_epoch(struct core_harness *h, void *arg)
{
    const uint64_t *v = arg;
    return h->nodes[v[0]].up && h->nodes[v[0]].r.current_epoch >= v[1];
}

static int pred_established(struct core_harness *h, void *id)
{
    const struct replica *r = &h->nodes[*(int *)id].r;
    return r->established_epoch != 0 && r->phase == REP_PHASE_BROADCAST;
}

static int diff_log_after_ack(uint64_t seed, uint32_t bugs)
{
    struct core_harness *h = cluster(seed, bugs);
    int all[] = {1, 2, 3, 0};
    commit_on(h, "t1", all);
    int a = ch_leader(h);             /* highest id: 3 */
    assert_int_equal(a, 3);
    ch_isolate(h, a, 1);
    uint64_t x;
    assert_int_equal(ch_propose(h, a, "x", &x), 0);
    ch_run_steps(h, 20);
    for (int i = 1; i <= 3; i++)
        ch_crash(h, i);
    ch_isolate(h, a, 0);
    assert_int_equal(ch_start(h, 3), 0);
    assert_int_equal(ch_start(h, 2), 0);
    uint64_t want[2] = {2, h->nodes[3].r.current_epoch + 1};
    assert_true(ch_run_until(h, pred_current_epoch, want, 300000));
    h->disk_paused[2] = 1;           /* 2's disk stalls right after currentEpoch */
    int three = 3;
    int est = ch_run_until(h, pred_established, &three, 20000);
    ch_crash(h, 3);
    ch_crash(h, 2);
    h->disk_paused[2] = 0;
    assert_int_equal(ch_start(h, 2), 0);
    assert_int_equal(ch_start(h, 1), 0);
    ch_run_until(h, pred_leader_or_violation, NULL, 300000);
    ch_run_steps(h, 2000);
    int caught = h->violation[0] != 0;
    if (bugs)
        assert_true(est);            /* the premature ACK let 3 establish */
    ch_free(h);
    return caught;
}

static void bug_diff_log_after_ack(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_false(diff_log_after_ack(seed, 0));
        assert_true(diff_log_after_ack(seed, ZAB_BUG_BIT(ZAB_BUG_DIFF_LOG_AFTER_ACK)));
    }
}

/* ---- EPOCH_BEFORE_FSYNC (ZOOKEEPER-4643) ----
 * 3 commits X with 2 (1 isolated); 3 crashes; 2 leads and DIFFs X to 1; the
 * buggy 1 persists currentEpoch before X is durable and crashes; 2 crashes;
 * 1 (newer epoch, older zxid) beats 3 in FLE and truncates X from 3. */

static int epoch_before_fsync(uint64_t seed, uint32_t bugs)
{
    struct core_harness *h = cluster(seed, bugs);
    int all[] = {1, 2, 3, 0};
    commit_on(h, "t1", all);
    assert_int_equal(ch_leader(h), 3);
    ch_isolate(h, 1, 1);
    commit_on(h, "x", (int[]){3, 2, 0});
    ch_crash(h, 3);
    ch_isolate(h, 1, 0);
    int two = 2;
    uint64_t want[2] = {1, h->nodes[2].r.current_epoch + 1};
    assert_true(ch_run_until(h, pred_current_epoch, want, 300000));
    h->disk_paused[1] = 1;
    ch_run_steps(h, 30);
    ch_crash(h, 1);
    ch_crash(h, 2);
    h->disk_paused[1] = 0;
    (void)two;
    assert_int_equal(ch_start(h, 1), 0);
    assert_int_equal(ch_start(h, 3), 0);
    ch_run_until(h, pred_leader_or_violation, NULL, 300000);
    ch_run_steps(h, 2000);
    int caught = h->violation[0] != 0;
    ch_free(h);
    return caught;
}

static void bug_epoch_before_fsync(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_false(epoch_before_fsync(seed, 0));
        assert_true(epoch_before_fsync(seed, ZAB_BUG_BIT(ZAB_BUG_EPOCH_BEFORE_FSYNC)));
    }
}

/* ---- SYNC_LASTPROCESSED_2355: DIFF moves lastProcessedZxid early ----
 * Follower F gets DIFF, its connection breaks before the txns arrive; on
 * rejoin it claims the leader's zxid, gets an empty DIFF, and misses txns. */

static int pred_sync_started(struct core_harness *h, void *id)
{
    const struct replica *r = &h->nodes[*(int *)id].r;
    return r->sync_started && r->state == REP_FOLLOWING;
}

static int lastprocessed_2355(uint64_t seed, uint32_t bugs)
{
    struct core_harness *h = cluster(seed, bugs);
    int all[] = {1, 2, 3, 0};
    commit_on(h, "t1", all);
    int l = ch_leader(h), f = 1, g = 2;
    ch_isolate(h, f, 1);
    for (int k = 0; k < 3; k++)
        commit_on(h, "behind", (int[]){l, g, 0});
    ch_isolate(h, f, 0);
    assert_true(ch_run_until(h, pred_sync_started, &f, 300000));
    ch_block(h, f, l, 1);             /* the PROPOSALs after DIFF are lost */
    ch_run_steps(h, 50);
    ch_block(h, f, l, 0);
    assert_true(ch_run_until(h, pred_leader_is, &l, 300000));
    commit_on(h, "after", all);
    ch_run_steps(h, 500);
    int caught = h->violation[0] != 0;
    ch_free(h);
    return caught;
}

static void bug_sync_lastprocessed_2355(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_false(lastprocessed_2355(seed, 0));
        assert_true(lastprocessed_2355(seed, ZAB_BUG_BIT(ZAB_BUG_SYNC_LASTPROCESSED_2355)));
    }
}

/* ---- ACCEPT_STALE_LEADERINFO: driven by hand on one replica ---- */

static void feed(struct replica *r, int from, const struct zab_msg *m)
{
    uint8_t buf[256];
    size_t n = zab_msg_encode(m, buf, sizeof buf);
    assert_true(n > 0);
    replica_on_message(r, 10, from, buf, n);
}

static const struct rep_action *find_action(const struct replica_out *o, int kind)
{
    for (uint32_t i = 0; i < o->n_actions; i++)
        if (o->actions[i].kind == kind)
            return &o->actions[i];
    return NULL;
}

static int stale_leaderinfo(uint32_t bugs)
{
    struct replica_config c = base_cfg(bugs);
    c.id = 1, c.n_servers = 3;
    struct replica r;
    char err[128];
    assert_int_equal(replica_init(&r, &c, err, sizeof err), 0);
    struct replica_durable d = {NULL, 0, NULL, 0, 1, 5, 1, 4};
    assert_int_equal(replica_start(&r, 0, &d, err, sizeof err), 0);
    replica_output_clear(&r);
    /* 2 leads (it says so) and 3 follows 2: join them (out-of-election quorum) */
    struct zab_msg n = {.kind = ZAB_MSG_NOTIFICATION};
    n.note.vote.leader = 2, n.note.vote.peer_epoch = 4, n.note.round = 1;
    n.note.state = FLE_LEADING;
    feed(&r, 2, &n);
    n.note.state = FLE_FOLLOWING;
    feed(&r, 3, &n);
    assert_int_equal(r.state, REP_FOLLOWING);
    assert_int_equal(r.leader_id, 2);
    replica_output_clear(&r);
    struct zab_msg li = {.kind = ZAB_MSG_LEADERINFO, .epoch = 3};   /* < acceptedEpoch 5 */
    feed(&r, 2, &li);
    const struct rep_action *w = find_action(replica_output(&r), REP_ACT_EPOCH_WRITE);
    int accepted_stale = w && w->which == REP_EPOCH_ACCEPTED && w->value == 3;
    if (!bugs)
        assert_int_equal(r.state, REP_LOOKING);
    replica_free(&r);
    return accepted_stale;
}

static void bug_accept_stale_leaderinfo(void **state)
{
    (void)state;
    assert_false(stale_leaderinfo(0));
    assert_true(stale_leaderinfo(ZAB_BUG_BIT(ZAB_BUG_ACCEPT_STALE_LEADERINFO)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bug_ack_before_fsync),
        cmocka_unit_test(bug_commit_before_quorum),
        cmocka_unit_test(bug_skip_trunc),
        cmocka_unit_test(bug_diff_log_after_ack),
        cmocka_unit_test(bug_epoch_before_fsync),
        cmocka_unit_test(bug_sync_lastprocessed_2355),
        cmocka_unit_test(bug_accept_stale_leaderinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
