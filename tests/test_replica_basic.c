/* End-to-end: 3 and 5 replicas in the in-memory harness elect a leader and
 * commit proposals on every server, in order, with identical digests. */
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

static struct core_harness *cluster(int n, uint64_t seed, const struct replica_config *c)
{
    struct core_harness *h = ch_new(n, seed, c);
    for (int i = 1; i <= n; i++)
        assert_int_equal(ch_start(h, i), 0);
    return h;
}

static void elect_and_commit(int n, uint64_t seed)
{
    struct replica_config c = base_cfg();
    struct core_harness *h = cluster(n, seed, &c);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 200000));
    int l = ch_leader(h);
    assert_true(l >= 1);
    /* the leader with the highest id wins among equal empty logs */
    assert_int_equal(l, n);
    uint64_t z = 0;
    char txt[32];
    for (int k = 0; k < 10; k++) {
        snprintf(txt, sizeof txt, "txn-%d", k);
        assert_int_equal(ch_propose(h, l, txt, &z), 0);
        ch_run_steps(h, (uint64_t)(h->rng % 7));
    }
    assert_int_equal(zxid_counter(z), 10);
    assert_true(ch_run_until(h, ch_pred_applied, &z, 200000));
    uint64_t d = replica_digest(&h->nodes[1].r);
    for (int i = 1; i <= n; i++) {
        assert_int_equal(h->nodes[i].r.zxid_applied, z);
        assert_int_equal(replica_digest(&h->nodes[i].r), d);
        assert_int_equal(h->nodes[i].r.current_epoch, zxid_epoch(z));
        /* all txns durable on a quorum at least; here on all after quiescence */
    }
    assert_string_equal(h->violation, "");
    ch_free(h);
}

static void three_replicas(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++)
        elect_and_commit(3, seed);
}

static void five_replicas(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 10; seed++)
        elect_and_commit(5, seed);
}

static int pred_all_broadcast(struct core_harness *h, void *arg)
{
    (void)arg;
    if (!ch_leader(h))
        return 0;
    for (int i = 1; i <= h->n; i++)
        if (h->nodes[i].up && h->nodes[i].r.phase != REP_PHASE_BROADCAST)
            return 0;
    return 1;
}

/* 3 voters + 1 observer: the observer never leads, applies every committed
 * txn (via INFORM), and never counts towards a quorum. */
static void observer_follows_but_never_counts(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct replica_config c = base_cfg();
        c.roles[4] = QUORUM_OBSERVER;
        struct core_harness *h = cluster(4, seed, &c);
        assert_true(ch_run_until(h, pred_all_broadcast, NULL, 200000));
        int l = ch_leader(h);
        assert_int_equal(l, 3);                      /* the observer (id 4) cannot win */
        assert_int_equal(h->nodes[4].r.state, REP_OBSERVING);
        uint64_t z = 0;
        for (int k = 0; k < 5; k++)
            assert_int_equal(ch_propose(h, l, "obs", &z), 0);
        assert_true(ch_run_until(h, ch_pred_applied, &z, 200000));
        assert_int_equal(replica_digest(&h->nodes[4].r), replica_digest(&h->nodes[l].r));
        /* leader + observer only: no quorum, nothing commits, the leader steps down */
        for (int i = 1; i <= 2; i++)
            ch_crash(h, i);
        uint64_t z2;
        if (ch_propose(h, l, "lost", &z2) == 0) {
            ch_run_steps(h, 3000);
            assert_true(h->nodes[l].r.zxid_committed < z2);
            assert_true(h->nodes[4].r.zxid_applied < z2);
        }
        assert_int_not_equal(h->nodes[l].r.state, REP_LEADING);
        assert_string_equal(h->violation, "");
        ch_free(h);
    }
}

/* Hash of everything a run did: every action of every node, in order. */
static uint64_t run_fingerprint(uint64_t seed)
{
    struct replica_config c = base_cfg();
    struct core_harness *h = cluster(3, seed, &c);
    h->disk_delayed = 1;
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 200000));
    uint64_t z = 0;
    for (int k = 0; k < 5; k++)
        assert_int_equal(ch_propose(h, ch_leader(h), "det", &z), 0);
    ch_crash(h, ch_leader(h));
    ch_run_steps(h, 3000);
    uint64_t fp = h->steps ^ (h->now_ms << 20);
    for (int i = 1; i <= 3; i++) {
        const struct replica *r = &h->nodes[i].r;
        if (!h->nodes[i].up)
            continue;
        uint64_t v[6] = {r->state, r->current_epoch, r->zxid_committed, replica_digest(r),
                         r->fle.round, (uint64_t)r->leader_id};
        fp = sm_digest_fold(fp, (uint64_t)i, sm_hash64(v, sizeof v));
        for (int k = 0; k < 32; k++)
            fp = sm_digest_fold(fp, (uint64_t)k, h->nodes[i].events[k]);
    }
    ch_free(h);
    return fp;
}

static void same_seed_same_run(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++)
        assert_int_equal(run_fingerprint(seed), run_fingerprint(seed));
    assert_int_not_equal(run_fingerprint(1), run_fingerprint(2));
}

static int actions_equal(const struct replica_out *a, const struct replica_out *b)
{
    if (a->n_actions != b->n_actions || a->timer_ms != b->timer_ms || a->n_events != b->n_events)
        return 0;
    for (uint32_t i = 0; i < a->n_actions; i++) {
        const struct rep_action *x = &a->actions[i], *y = &b->actions[i];
        if (x->kind != y->kind || x->peer != y->peer || x->op_id != y->op_id ||
            x->value != y->value || x->len != y->len ||
            (x->len && memcmp(x->bytes, y->bytes, x->len) != 0))
            return 0;
    }
    return 1;
}

/* A clone taken mid-run reacts to the same inputs exactly like the original,
 * and changing the clone leaves the original untouched (explorer support). */
static void clone_is_deep_and_equivalent(void **state)
{
    (void)state;
    struct replica_config c = base_cfg();
    struct core_harness *h = cluster(3, 5, &c);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 200000));
    int l = ch_leader(h);
    uint64_t z;
    assert_int_equal(ch_propose(h, l, "before-clone", &z), 0);
    struct replica *orig = &h->nodes[l].r, copy;
    assert_int_equal(replica_clone(&copy, orig), 0);
    assert_int_equal(replica_digest(&copy), replica_digest(orig));
    assert_int_equal(replica_hash(&copy), replica_hash(orig));
    uint64_t z1, z2;
    assert_int_equal(replica_propose(orig, h->now_ms, (const uint8_t *)"p", 1, &z1), 0);
    assert_int_equal(replica_propose(&copy, h->now_ms, (const uint8_t *)"p", 1, &z2), 0);
    assert_int_equal(z1, z2);
    assert_true(actions_equal(replica_output(orig), replica_output(&copy)));
    replica_output_clear(&copy);
    /* diverge the copy: the original must not see it */
    uint32_t count = replica_log_count(orig);
    assert_int_equal(replica_propose(&copy, h->now_ms, (const uint8_t *)"only-copy", 9, &z2), 0);
    assert_int_equal(replica_log_count(orig), count);
    assert_int_equal(replica_log_count(&copy), count + 1);
    assert_int_not_equal(replica_hash(&copy), replica_hash(orig));
    replica_free(&copy);
    ch_run_steps(h, 10);                 /* the original still runs (outputs pending) */
    assert_true(ch_run_until(h, ch_pred_applied, &z1, 200000));
    ch_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_replicas),
        cmocka_unit_test(five_replicas),
        cmocka_unit_test(observer_follows_but_never_counts),
        cmocka_unit_test(same_seed_same_run),
        cmocka_unit_test(clone_is_deep_and_equivalent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
