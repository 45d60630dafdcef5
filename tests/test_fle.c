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

/* The election steps, driven by hand: each case starts one server's FLE
 * and feeds it notifications and timer firings; every step's expectations
 * are checked (ANY: not checked). */
#define ANY (-1)
#define MAX_STEPS 4

struct step {
    char kind;                 /* 'n': notification from `from`; 't': timer */
    uint64_t t_ms;
    int from;
    struct fle_notification n;
    int act_mask, act;         /* (returned action & act_mask) == act; mask 0: unchecked */
    int vote_leader;           /* f.vote.leader after the step, or ANY */
    int64_t round, finalize_at_ms; /* or ANY */
    int leader;                /* the decided leader, or ANY */
};

struct election_case {
    const char *name;
    int servers, id;
    struct fle_vote mine;
    struct step steps[MAX_STEPS];
};

#define ALL (~0)
#define NOTE(t, from, st, l, z, e, rd) 'n', t, from, {(uint8_t)(st), {l, z, e}, rd}
#define TIMER(t) 't', t, 0, {0, {0, 0, 0}, 0}

static const struct election_case election_cases[] = {
    {"adopts a better vote, finalizes after the wait", 3, 1, {1, 10, 1}, {
        /* 3 proposes itself with a higher zxid: adopt and broadcast; {1,3}
         * agree, a quorum, but the decision waits finalize_wait */
        {NOTE(5, 3, FLE_LOOKING, 3, 20, 1, 1), ALL, FLE_ACT_SEND_ALL, 3, ANY, 205, ANY},
        {TIMER(204), FLE_ACT_DECIDED, 0, ANY, ANY, ANY, ANY},
        {TIMER(205), ALL, FLE_ACT_DECIDED, ANY, ANY, ANY, 3},
    }},
    {"a better vote during the wait restarts it", 3, 1, {1, 10, 1}, {
        {NOTE(1, 2, FLE_LOOKING, 1, 10, 1, 1), 0, 0, ANY, ANY, 201, ANY},
        /* only {1,3} vote for 3 now: still a quorum, wait restarted from t=50 */
        {NOTE(50, 3, FLE_LOOKING, 3, 10, 2, 1), ALL, FLE_ACT_SEND_ALL, 3, ANY, 250, ANY},
        {TIMER(201), FLE_ACT_DECIDED, 0, ANY, ANY, ANY, ANY},
    }},
    {"a newer round resets, an older round gets a reply", 3, 2, {2, 50, 3}, {
        /* my own vote is better than the sender's */
        {NOTE(1, 1, FLE_LOOKING, 1, 10, 1, 7), ALL, FLE_ACT_SEND_ALL, 2, 7, ANY, ANY},
        {NOTE(2, 3, FLE_LOOKING, 3, 99, 9, 6), ALL, FLE_ACT_REPLY, 2, ANY, ANY, ANY},
    }},
    {"joins an established ensemble", 3, 1, {1, 0, 0}, {
        /* follower 2 says it follows 3 (round 4), but 3 itself has not said LEADING */
        {NOTE(1, 2, FLE_FOLLOWING, 3, 7, 2, 4), ALL, 0, ANY, ANY, ANY, ANY},
        {NOTE(2, 3, FLE_LEADING, 3, 9, 2, 4), ALL, FLE_ACT_DECIDED, ANY, 4, ANY, 3},
    }},
    {"no leader's own vote, no join", 5, 1, {1, 0, 0}, {
        /* three followers of 5 (a quorum of 5) but 5 never confirmed: checkLeader fails */
        {NOTE(1, 2, FLE_FOLLOWING, 5, 1, 1, 3), ALL, 0, ANY, ANY, ANY, ANY},
        {NOTE(1, 3, FLE_FOLLOWING, 5, 1, 1, 3), ALL, 0, ANY, ANY, ANY, ANY},
        {NOTE(1, 4, FLE_FOLLOWING, 5, 1, 1, 3), ALL, 0, ANY, ANY, ANY, ANY},
    }},
};

#define STEP_EQ(got, want)                                                                   \
    do {                                                                                     \
        if ((int64_t)(got) != (int64_t)(want))                                               \
            fail_msg("%s, step %d: %s is %lld, want %lld", c->name, i, #got, (long long)(got), \
                     (long long)(want));                                                     \
    } while (0)

static void run_election_case(const struct election_case *c)
{
    struct quorum_verifier qv;
    assert_int_equal(quorum_init_majority(&qv, c->servers, NULL), 0);
    struct fle f;
    memset(&f, 0, sizeof f);
    struct fle_params p = P(c->id, &qv);
    struct fle_vote mine = c->mine;
    assert_int_equal(fle_start(&f, &p, 0, &mine), FLE_ACT_SEND_ALL);
    assert_int_equal(f.round, 1);
    int leader = 0;
    for (int i = 0; i < MAX_STEPS && c->steps[i].kind; i++) {
        const struct step *s = &c->steps[i];
        int act = s->kind == 'n'
                      ? fle_on_notification(&f, &p, s->t_ms, s->from, &s->n, &mine, &leader)
                      : fle_on_timer(&f, &p, s->t_ms, &leader);
        STEP_EQ(act & s->act_mask, s->act);
        if (s->vote_leader != ANY)
            STEP_EQ(f.vote.leader, s->vote_leader);
        if (s->round != ANY)
            STEP_EQ(f.round, s->round);
        if (s->finalize_at_ms != ANY)
            STEP_EQ(f.finalize_at_ms, s->finalize_at_ms);
        if (s->leader != ANY)
            STEP_EQ(leader, s->leader);
    }
}

static void election_steps(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof election_cases / sizeof election_cases[0]; i++)
        run_election_case(&election_cases[i]);
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
        cmocka_unit_test(election_steps),
        cmocka_unit_test(backoff_doubles_to_cap),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
