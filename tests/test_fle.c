/* Fast Leader Election: the vote order (a strict total order; the 1419
 * variant is not), and the election steps driven by hand: adoption of better
 * votes, newer rounds, the finalize wait, back-off, joining an established
 * ensemble (out-of-election votes + checkLeader). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/fle.h"

static struct quorum_verifier qv5;

static int setup(void **state)
{
    (void)state;
    return quorum_init_majority(&qv5, 5, NULL);
}

static struct fle_vote V(int leader, uint64_t zxid, uint64_t epoch)
{
    struct fle_vote v = {leader, zxid, epoch};
    return v;
}

static void order_table(void **state)
{
    (void)state;
    struct {
        struct fle_vote a, b;
        int a_beats_b;
    } rows[] = {
        {V(1, 5, 2), V(2, 9, 1), 1},     /* higher epoch wins over higher zxid */
        {V(1, 9, 1), V(2, 5, 1), 1},     /* same epoch: higher zxid */
        {V(3, 5, 1), V(2, 5, 1), 1},     /* same epoch and zxid: higher id */
        {V(2, 5, 1), V(3, 5, 1), 0},
        {V(2, 5, 1), V(2, 5, 1), 0},     /* irreflexive */
        {V(1, 0, 0), V(0, 0, 0), 1},     /* anything valid beats "no candidate" */
        {V(6, 9, 9), V(1, 0, 0), 0},     /* id 6 is not a voter in a 5-server ensemble */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(fle_vote_beats(&qv5, &rows[i].a, &rows[i].b, 0), rows[i].a_beats_b);
}

static void observers_never_win(void **state)
{
    (void)state;
    uint8_t roles[QUORUM_SERVERS_MAX + 1] = {0};
    roles[3] = QUORUM_OBSERVER;
    struct quorum_verifier qv;
    assert_int_equal(quorum_init_majority(&qv, 3, roles), 0);
    struct fle_vote obs = V(3, 100, 100), voter = V(1, 0, 0);
    assert_false(fle_vote_beats(&qv, &obs, &voter, 0));
    assert_true(fle_vote_beats(&qv, &voter, &obs, 0));
}

/* Every vote over a small domain: returns 1 if `beats` is a strict total order. */
static int is_strict_total_order(int buggy)
{
    struct fle_vote d[5 * 3 * 3];
    int n = 0;
    for (int id = 1; id <= 5; id++)
        for (uint64_t z = 1; z <= 3; z++)
            for (uint64_t e = 1; e <= 3; e++)
                d[n++] = V(id, z, e);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int ij = fle_vote_beats(&qv5, &d[i], &d[j], buggy);
            int ji = fle_vote_beats(&qv5, &d[j], &d[i], buggy);
            if (i == j && ij)
                return 0;
            if (i != j && ij == ji)
                return 0;                /* both or neither: not asymmetric/total */
            for (int k = 0; k < n && ij; k++)
                if (fle_vote_beats(&qv5, &d[j], &d[k], buggy) &&
                    !fle_vote_beats(&qv5, &d[i], &d[k], buggy))
                    return 0;            /* not transitive */
        }
    return 1;
}

static void correct_order_is_total(void **state)
{
    (void)state;
    assert_true(is_strict_total_order(0));
}

static void order_1419_is_broken(void **state)
{
    (void)state;
    assert_false(is_strict_total_order(1));
    /* the concrete cycle: a higher epoch beats, and a higher id beats back */
    struct fle_vote a = V(2, 5, 2), b = V(3, 5, 1);
    assert_true(fle_vote_beats(&qv5, &a, &b, 1));
    assert_true(fle_vote_beats(&qv5, &b, &a, 1));
    assert_true(fle_vote_beats(&qv5, &a, &b, 0));
    assert_false(fle_vote_beats(&qv5, &b, &a, 0));
}

static struct fle_params P(int id, const struct quorum_verifier *qv)
{
    struct fle_params p = {id, qv, 200, 1600, 0};
    return p;
}

static struct fle_notification N(int state, struct fle_vote v, uint64_t round)
{
    struct fle_notification n = {(uint8_t)state, v, round};
    return n;
}

static void adopts_better_vote_and_finalizes_after_wait(void **state)
{
    (void)state;
    struct quorum_verifier qv3;
    quorum_init_majority(&qv3, 3, NULL);
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(1, &qv3);
    struct fle_vote mine = V(1, 10, 1);
    assert_int_equal(fle_start(&f, &p, 0, &mine), FLE_ACT_SEND_ALL);
    assert_int_equal(f.round, 1);
    int leader = 0;
    /* server 3 proposes itself with a higher zxid: adopt and broadcast */
    struct fle_notification n3 = N(FLE_LOOKING, V(3, 20, 1), 1);
    assert_int_equal(fle_on_notification(&f, &p, 5, 3, &n3, &mine, &leader), FLE_ACT_SEND_ALL);
    assert_int_equal(f.vote.leader, 3);
    /* {1,3} agree: a quorum, but the decision waits finalize_wait */
    assert_int_equal(f.finalize_at_ms, 205);
    assert_int_equal(fle_on_timer(&f, &p, 204, &leader) & FLE_ACT_DECIDED, 0);
    assert_int_equal(fle_on_timer(&f, &p, 205, &leader), FLE_ACT_DECIDED);
    assert_int_equal(leader, 3);
}

static void better_vote_during_wait_restarts_it(void **state)
{
    (void)state;
    struct quorum_verifier qv3;
    quorum_init_majority(&qv3, 3, NULL);
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(1, &qv3);
    struct fle_vote mine = V(1, 10, 1);
    fle_start(&f, &p, 0, &mine);
    int leader = 0;
    struct fle_notification n2 = N(FLE_LOOKING, V(1, 10, 1), 1);
    fle_on_notification(&f, &p, 1, 2, &n2, &mine, &leader);
    assert_int_equal(f.finalize_at_ms, 201);
    struct fle_notification n3 = N(FLE_LOOKING, V(3, 10, 2), 1);
    assert_int_equal(fle_on_notification(&f, &p, 50, 3, &n3, &mine, &leader), FLE_ACT_SEND_ALL);
    assert_int_equal(f.vote.leader, 3);
    /* only {1,3} vote for 3 now: still a quorum, wait restarted from t=50 */
    assert_int_equal(f.finalize_at_ms, 250);
    assert_int_equal(fle_on_timer(&f, &p, 201, &leader) & FLE_ACT_DECIDED, 0);
}

static void newer_round_resets_and_older_round_gets_reply(void **state)
{
    (void)state;
    struct quorum_verifier qv3;
    quorum_init_majority(&qv3, 3, NULL);
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(2, &qv3);
    struct fle_vote mine = V(2, 50, 3);
    fle_start(&f, &p, 0, &mine);
    int leader = 0;
    struct fle_notification newer = N(FLE_LOOKING, V(1, 10, 1), 7);
    assert_int_equal(fle_on_notification(&f, &p, 1, 1, &newer, &mine, &leader), FLE_ACT_SEND_ALL);
    assert_int_equal(f.round, 7);
    assert_int_equal(f.vote.leader, 2);   /* my own vote is better than the sender's */
    struct fle_notification older = N(FLE_LOOKING, V(3, 99, 9), 6);
    assert_int_equal(fle_on_notification(&f, &p, 2, 3, &older, &mine, &leader), FLE_ACT_REPLY);
    assert_int_equal(f.vote.leader, 2);
}

static void joins_established_ensemble(void **state)
{
    (void)state;
    struct quorum_verifier qv3;
    quorum_init_majority(&qv3, 3, NULL);
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(1, &qv3);
    struct fle_vote mine = V(1, 0, 0);
    fle_start(&f, &p, 0, &mine);
    int leader = 0;
    /* follower 2 says it follows 3 (round 4), but 3 itself has not said LEADING */
    struct fle_notification f2 = N(FLE_FOLLOWING, V(3, 7, 2), 4);
    assert_int_equal(fle_on_notification(&f, &p, 1, 2, &f2, &mine, &leader), 0);
    struct fle_notification l3 = N(FLE_LEADING, V(3, 9, 2), 4);
    assert_int_equal(fle_on_notification(&f, &p, 2, 3, &l3, &mine, &leader), FLE_ACT_DECIDED);
    assert_int_equal(leader, 3);
    assert_int_equal(f.round, 4);
}

static void no_leader_vote_no_join(void **state)
{
    (void)state;
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(1, &qv5);
    struct fle_vote mine = V(1, 0, 0);
    fle_start(&f, &p, 0, &mine);
    int leader = 0;
    /* three followers of 5 (a quorum of 5) but 5 never confirmed: checkLeader fails */
    for (int id = 2; id <= 4; id++) {
        struct fle_notification n = N(FLE_FOLLOWING, V(5, 1, 1), 3);
        assert_int_equal(fle_on_notification(&f, &p, 1, id, &n, &mine, &leader), 0);
    }
}

static void backoff_doubles_to_cap(void **state)
{
    (void)state;
    struct quorum_verifier qv3;
    quorum_init_majority(&qv3, 3, NULL);
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(1, &qv3);
    struct fle_vote mine = V(1, 0, 0);
    fle_start(&f, &p, 0, &mine);
    int leader = 0;
    uint64_t t = 0;
    uint32_t expect[] = {400, 800, 1600, 1600};
    for (int i = 0; i < 4; i++) {
        t = f.resend_at_ms;
        assert_int_equal(fle_on_timer(&f, &p, t, &leader), FLE_ACT_SEND_ALL);
        assert_int_equal(f.resend_interval_ms, expect[i]);
        assert_int_equal(fle_next_deadline_ms(&f), t + expect[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_table),
        cmocka_unit_test(observers_never_win),
        cmocka_unit_test(correct_order_is_total),
        cmocka_unit_test(order_1419_is_broken),
        cmocka_unit_test(adopts_better_vote_and_finalizes_after_wait),
        cmocka_unit_test(better_vote_during_wait_restarts_it),
        cmocka_unit_test(newer_round_resets_and_older_round_gets_reply),
        cmocka_unit_test(joins_established_ensemble),
        cmocka_unit_test(no_leader_vote_no_join),
        cmocka_unit_test(backoff_doubles_to_cap),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
