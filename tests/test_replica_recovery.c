/* End-to-end recovery in the in-memory harness: a leader crash leads to a
 * new epoch with nothing committed lost; a follower that fell behind is
 * synced by DIFF, one that diverged by TRUNC, one far behind by SNAP; a
 * whole-cluster restart recovers from the durable bytes; random crashes,
 * torn tails and partitions never break the harness's safety checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/core_harness.h"

static struct replica_config base_cfg(void)
{
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100;
    c.init_limit = 10;
    c.sync_limit = 5;
    c.finalize_wait_ms = 20;
    c.notification_interval_max_ms = 400;
    return c;
}

static struct core_harness *cluster(int n, uint64_t seed, const struct replica_config *c, int delayed)
{
    struct core_harness *h = ch_new(n, seed, c);
    h->disk_delayed = delayed;
    for (int i = 1; i <= n; i++)
        assert_int_equal(ch_start(h, i), 0);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
    return h;
}

/* Proposes k txns on the current leader and waits until the listed nodes
 * (0-terminated; NULL = all up) applied the last one. Returns its zxid. */
static uint64_t commit_some(struct core_harness *h, int k, const int *wait_for)
{
    int l = ch_leader(h);
    assert_true(l > 0);
    uint64_t z = 0;
    char txt[48];
    for (int i = 0; i < k; i++) {
        snprintf(txt, sizeof txt, "s%llu-txn-%d", (unsigned long long)h->steps, i);
        assert_int_equal(ch_propose(h, l, txt, &z), 0);
        ch_run_steps(h, 3);
    }
    if (!wait_for) {
        assert_true(ch_run_until(h, ch_pred_applied, &z, 300000));
    } else {
        for (const int *w = wait_for; *w; w++) {
            uint64_t arg[2] = {(uint64_t)*w, z};
            assert_true(ch_run_until(h, ch_pred_node_applied, arg, 300000));
        }
    }
    return z;
}

static void assert_converged(struct core_harness *h, uint64_t z)
{
    assert_true(ch_run_until(h, ch_pred_applied, &z, 300000));
    int l = ch_leader(h);
    assert_true(l > 0);
    uint64_t last = h->nodes[l].r.zxid_applied;
    assert_true(ch_run_until(h, ch_pred_applied, &last, 300000));
    uint64_t d = replica_digest(&h->nodes[l].r);
    for (int i = 1; i <= h->n; i++) {
        if (!h->nodes[i].up)
            continue;
        assert_int_equal(h->nodes[i].r.zxid_applied, last);
        assert_int_equal(replica_digest(&h->nodes[i].r), d);
    }
    assert_string_equal(h->violation, "");
}

/* Crashes every server and restarts it from its durable bytes: a leader is
 * elected, everyone converges on the last commit z and the digest d. */
static void restart_all_recovers(struct core_harness *h, uint64_t z, uint64_t d)
{
    for (int i = 1; i <= h->n; i++)
        ch_crash(h, i);
    for (int i = 1; i <= h->n; i++)
        assert_int_equal(ch_start(h, i), 0);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
    assert_converged(h, z);
    int l = ch_leader(h);
    assert_int_equal(h->nodes[l].r.zxid_applied, z);
    assert_int_equal(replica_digest(&h->nodes[l].r), d);
}

static int other_than(int n, int a, int b)
{
    for (int i = 1; i <= n; i++)
        if (i != a && i != b)
            return i;
    return 0;
}

static void leader_crash_new_epoch(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct replica_config c = base_cfg();
        struct core_harness *h = cluster(3, seed, &c, (int)(seed & 1));
        uint64_t z = commit_some(h, 5, NULL);
        int l = ch_leader(h);
        uint64_t epoch = h->nodes[l].r.established_epoch;
        uint64_t digest = replica_digest(&h->nodes[l].r);
        ch_crash(h, l);
        assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
        int l2 = ch_leader(h);
        assert_true(l2 != l);
        assert_true(h->nodes[l2].r.established_epoch > epoch);
        /* nothing committed is lost: the new leader applied z with the same digest */
        assert_true(h->nodes[l2].r.zxid_applied >= z);
        if (h->nodes[l2].r.zxid_applied == z)
            assert_int_equal(replica_digest(&h->nodes[l2].r), digest);
        uint64_t z2 = commit_some(h, 3, NULL);
        assert_int_equal(zxid_epoch(z2), h->nodes[l2].r.established_epoch);
        assert_int_equal(ch_start(h, l), 0);
        assert_converged(h, z2);
        ch_free(h);
    }
}

static void follower_behind_gets_diff(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct replica_config c = base_cfg();
        struct core_harness *h = cluster(3, seed, &c, (int)(seed & 1));
        commit_some(h, 3, NULL);
        int l = ch_leader(h), f = other_than(3, l, 0), g = other_than(3, l, f);
        ch_isolate(h, f, 1);
        int wait[] = {l, g, 0};
        uint64_t z = commit_some(h, 4, wait);
        ch_isolate(h, f, 0);
        assert_converged(h, z);
        assert_int_equal(h->last_sync_kind[f], ZAB_SYNC_DIFF);
        assert_int_equal(ch_leader(h), l);
        ch_free(h);
    }
}

static int pred_new_leader(struct core_harness *h, void *old)
{
    int l = ch_leader(h);
    return l > 0 && l != *(int *)old;
}

static void diverged_old_leader_gets_trunc(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct replica_config c = base_cfg();
        struct core_harness *h = cluster(3, seed, &c, 0);
        commit_some(h, 3, NULL);
        int l = ch_leader(h);
        ch_isolate(h, l, 1);
        uint64_t orphan;
        assert_int_equal(ch_propose(h, l, "never-committed", &orphan), 0);
        assert_int_equal(replica_last_zxid(&h->nodes[l].r), orphan);
        assert_true(ch_run_until(h, pred_new_leader, &l, 300000));
        int l2 = ch_leader(h);
        assert_true(l2 > 0 && l2 != l);
        int f = other_than(3, l, l2);
        int wait[] = {l2, f, 0};
        uint64_t z = commit_some(h, 2, wait);
        ch_isolate(h, l, 0);
        assert_converged(h, z);
        assert_int_equal(h->last_sync_kind[l], ZAB_SYNC_TRUNC_DIFF);
        assert_true(h->last_sync_zxid[l] < orphan);
        for (uint32_t i = 0; i < replica_log_count(&h->nodes[l].r); i++)
            assert_true(replica_log_entry(&h->nodes[l].r, i)->zxid != orphan);
        ch_free(h);
    }
}

static void far_behind_gets_snap(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct replica_config c = base_cfg();
        c.log_entries_max = 16;
        c.snapshot_every = 4;
        struct core_harness *h = cluster(3, seed, &c, (int)(seed & 1));
        commit_some(h, 2, NULL);
        int l = ch_leader(h), f = other_than(3, l, 0), g = other_than(3, l, f);
        ch_isolate(h, f, 1);
        int wait[] = {l, g, 0};
        uint64_t z = 0;
        for (int i = 0; i < 12; i++)
            z = commit_some(h, 3, wait);
        assert_true(h->nodes[l].r.log_base_zxid > h->nodes[f].r.zxid_applied);
        ch_isolate(h, f, 0);
        assert_converged(h, z);
        assert_int_equal(h->last_sync_kind[f], ZAB_SYNC_SNAP);
        ch_free(h);
    }
}

static void whole_cluster_restart(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct replica_config c = base_cfg();
        c.log_entries_max = 32;
        c.snapshot_every = (seed & 1) ? 5 : 0;
        struct core_harness *h = cluster(3, seed, &c, 1);
        uint64_t z = commit_some(h, 7, NULL);
        restart_all_recovers(h, z, replica_digest(&h->nodes[1].r));
        ch_free(h);
    }
}

/* Random crashes (with torn unsynced tails), restarts and partitions, then
 * healing: the harness's checks hold at every step and everyone converges. */
static void chaos_converges(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 18; seed++) {
        struct replica_config c = base_cfg();
        c.log_entries_max = 64;
        c.snapshot_every = 8;
        c.snapshot_by_driver = seed > 6;   /* zabd's way for half the seeds */
        int n = (seed % 3 == 0) ? 5 : 3;
        struct core_harness *h = ch_new(n, seed, &c);
        h->disk_delayed = 1;
        h->tear_on_crash = 1;
        for (int i = 1; i <= n; i++)
            assert_int_equal(ch_start(h, i), 0);
        char txt[32];
        for (int round = 0; round < 40; round++) {
            ch_run_steps(h, 200);
            int l = ch_leader(h);
            uint64_t z;
            snprintf(txt, sizeof txt, "chaos-%d", round);
            if (l)
                ch_propose(h, l, txt, &z);
            uint64_t dice = h->rng % 10;
            int victim = 1 + (int)((h->rng >> 8) % (uint64_t)n);
            if (dice == 0)
                ch_crash(h, victim);
            else if (dice == 1 && !h->nodes[victim].up)
                assert_int_equal(ch_start(h, victim), 0);
            else if (dice == 2)
                ch_isolate(h, victim, 1);
            else if (dice == 3)
                ch_isolate(h, victim, 0);
            assert_string_equal(h->violation, "");
        }
        for (int i = 1; i <= n; i++) {
            ch_isolate(h, i, 0);
            if (!h->nodes[i].up)
                assert_int_equal(ch_start(h, i), 0);
        }
        assert_true(ch_run_until(h, ch_pred_leader, NULL, 500000));
        uint64_t z = commit_some(h, 1, NULL);
        assert_converged(h, z);
        ch_free(h);
    }
}

/* zabd's periodic snapshots: serialized by the driver and completed out of
 * order with the log ops, at any later step, or lost in a crash. Safety
 * holds at every step, snapshots do happen and shrink the in-memory log, and
 * a whole-cluster restart from what they left recovers every commit. */
static void driver_snapshots_out_of_order(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct replica_config c = base_cfg();
        c.log_entries_max = 32;
        c.snapshot_every = 5;
        c.snapshot_by_driver = 1;
        struct core_harness *h = cluster(3, seed, &c, 1);
        h->tear_on_crash = 1;
        uint64_t z = 0;
        for (int round = 0; round < 30; round++) {
            z = commit_some(h, 3, NULL);
            if (round % 7 == 3) {
                int v = 1 + (int)(seed + (uint64_t)round) % 3;
                ch_crash(h, v);
                assert_int_equal(ch_start(h, v), 0);
                assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
            }
            assert_string_equal(h->violation, "");
        }
        int l = ch_leader(h);
        assert_true(h->nodes[l].r.snapshot_zxid > 0);
        assert_true(replica_log_count(&h->nodes[l].r) < 32);
        assert_int_equal(h->nodes[l].r.cfg.snapshot_by_driver, 1);
        for (int i = 1; i <= 3; i++)
            assert_non_null(h->nodes[i].disk.snap);
        restart_all_recovers(h, z, replica_digest(&h->nodes[l].r));
        ch_free(h);
    }
}

/* Silence without a connection break: only the tick-based limits notice. */
static void timeouts_without_breaks(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct replica_config c = base_cfg();
        struct core_harness *h = cluster(3, seed, &c, (int)(seed & 1));
        commit_some(h, 2, NULL);
        int l = ch_leader(h), f = other_than(3, l, 0), g = other_than(3, l, f);
        uint64_t t0 = h->now_ms, quits = h->nodes[f].events[REP_EV_FOLLOWER_QUIT];
        ch_clog(h, l, f, 1);
        /* the follower gives up after syncLimit ticks; the leader drops it */
        while (h->nodes[f].events[REP_EV_FOLLOWER_QUIT] == quits)
            ch_step(h);
        uint64_t waited = h->now_ms - t0;
        /* counted from the last message heard (pings come every tick/2) */
        assert_true(waited >= (uint64_t)(c.sync_limit - 1) * c.tick_ms);
        assert_true(waited <= (uint64_t)(c.sync_limit + 2) * c.tick_ms);
        assert_int_equal(ch_leader(h), l);              /* l and g are still a quorum */
        /* now the leader loses g too: it must step down */
        ch_clog(h, l, g, 1);
        uint64_t downs = h->nodes[l].events[REP_EV_STEP_DOWN];
        t0 = h->now_ms;
        while (h->nodes[l].events[REP_EV_STEP_DOWN] == downs)
            ch_step(h);
        assert_true(h->now_ms - t0 <= (uint64_t)(c.sync_limit + 2) * c.tick_ms);
        ch_clog(h, l, f, 0);
        ch_clog(h, l, g, 0);
        assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
        assert_converged(h, commit_some(h, 1, NULL));
        ch_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_crash_new_epoch),
        cmocka_unit_test(follower_behind_gets_diff),
        cmocka_unit_test(diverged_old_leader_gets_trunc),
        cmocka_unit_test(far_behind_gets_snap),
        cmocka_unit_test(whole_cluster_restart),
        cmocka_unit_test(chaos_converges),
        cmocka_unit_test(driver_snapshots_out_of_order),
        cmocka_unit_test(timeouts_without_breaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
