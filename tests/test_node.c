/* Simulated node: clock offset and drift, monotonic reading under negative
 * skew, the inverse used to arm timers, and the lifecycle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/node.h"

#define MS SIM_NS_PER_MS
#define S SIM_NS_PER_S

static void offset_and_drift(void **state)
{
    (void)state;
    struct sim_node n;
    sim_node_init(&n, 3);
    assert_int_equal(n.id, 3);
    assert_int_equal(sim_node_local_ns(&n, 10 * MS), 10 * MS);
    sim_node_skew(&n, 10 * MS, 5 * MS);
    assert_int_equal(sim_node_local_ns(&n, 10 * MS), 15 * MS);
    assert_int_equal(sim_node_local_ns(&n, 20 * MS), 25 * MS);
    sim_node_set_drift(&n, 20 * MS, 100); /* 100 ppm fast */
    assert_int_equal(sim_node_local_ns(&n, 20 * MS + S), 25 * MS + S + 100000);
    sim_node_set_drift(&n, 20 * MS + S, -200);
    assert_int_equal(sim_node_local_ns(&n, 20 * MS + 2 * S), 25 * MS + 2 * S + 100000 - 200000);
}

/* A backwards step makes the clock stand still, never run backwards. */
static void monotonic_under_negative_skew(void **state)
{
    (void)state;
    struct sim_node n;
    sim_node_init(&n, 0);
    assert_int_equal(sim_node_local_ns(&n, 100 * MS), 100 * MS);
    sim_node_skew(&n, 100 * MS, -30 * MS);
    uint64_t prev = 0;
    for (sim_time_ns t = 100 * MS; t <= 200 * MS; t += MS) {
        uint64_t l = sim_node_local_ns(&n, t);
        assert_true(l >= prev);
        prev = l;
        if (t <= 130 * MS)
            assert_int_equal(l, 100 * MS); /* stands still until caught up */
        else
            assert_int_equal(l, t - 30 * MS);
    }
}

/* global_at(L) is the first simulated time at which the clock reads >= L. */
static void global_at_is_the_inverse(void **state)
{
    (void)state;
    const int64_t drifts[] = {0, 1, 250, -250, 99999, -500000};
    for (size_t d = 0; d < sizeof drifts / sizeof drifts[0]; d++) {
        struct sim_node n;
        sim_node_init(&n, 0);
        sim_node_skew(&n, 0, 3 * MS + 7);
        sim_node_set_drift(&n, 1 * MS, drifts[d]);
        sim_time_ns now = 2 * MS;
        uint64_t base = sim_node_local_ns(&n, now);
        for (uint64_t delta = 1; delta < 10 * S; delta = delta * 3 + 1) {
            uint64_t target = base + delta;
            sim_time_ns t = sim_node_global_at(&n, now, target);
            assert_true(t >= now);
            struct sim_node probe = n;
            assert_true(sim_node_local_ns(&probe, t) >= target);
            if (t > now) {
                probe = n;
                assert_true(sim_node_local_ns(&probe, t - 1) < target);
            }
        }
        /* A reading already passed fires at once. */
        assert_int_equal(sim_node_global_at(&n, now, base), now);
    }
}

/* After a backwards step the timer waits for the clock to catch up. */
static void global_at_after_negative_skew(void **state)
{
    (void)state;
    struct sim_node n;
    sim_node_init(&n, 0);
    assert_int_equal(sim_node_local_ns(&n, 50 * MS), 50 * MS);
    sim_node_skew(&n, 50 * MS, -20 * MS);
    assert_int_equal(sim_node_global_at(&n, 50 * MS, 50 * MS), 50 * MS); /* floor already there */
    assert_int_equal(sim_node_global_at(&n, 50 * MS, 60 * MS), 80 * MS);
}

/* A step back past the clock's zero clamps instead of wrapping. */
static void negative_skew_below_zero_clamps(void **state)
{
    (void)state;
    struct sim_node n;
    sim_node_init(&n, 0);
    sim_node_skew(&n, 10 * MS, -30 * MS);
    assert_int_equal(sim_node_local_ns(&n, 10 * MS), 0);
    assert_int_equal(sim_node_local_ns(&n, 15 * MS), 5 * MS);
}

static void lifecycle(void **state)
{
    (void)state;
    struct sim_node n;
    sim_node_init(&n, 1);
    assert_true(sim_node_runnable(&n, 0));
    assert_int_equal(n.incarnation, 0);
    sim_node_pause(&n, 100);
    assert_false(sim_node_runnable(&n, 99));
    assert_true(sim_node_runnable(&n, 100));
    sim_node_pause(&n, 50); /* a shorter pause does not shorten the stall */
    assert_false(sim_node_runnable(&n, 99));
    sim_node_pause(&n, 300);
    assert_false(sim_node_runnable(&n, 200));
    sim_node_crash(&n);
    assert_false(n.up);
    assert_int_equal(n.incarnation, 1);
    assert_false(sim_node_runnable(&n, 1000));
    sim_node_restart(&n);
    assert_true(sim_node_runnable(&n, 1000));
    assert_true(sim_node_runnable(&n, 200)); /* the crash ended the pause */
    sim_node_crash(&n);
    sim_node_restart(&n);
    assert_int_equal(n.incarnation, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offset_and_drift),
        cmocka_unit_test(monotonic_under_negative_skew),
        cmocka_unit_test(global_at_is_the_inverse),
        cmocka_unit_test(global_at_after_negative_skew),
        cmocka_unit_test(negative_skew_below_zero_clamps),
        cmocka_unit_test(lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
