/* Scheduler: (time, insertion) order, capacity bound, no pushing into the
 * past, and reuse of the fixed event array over millions of events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/rng.h"
#include "sim/sched.h"

static void ties_pop_in_insertion_order(void **state)
{
    (void)state;
    struct sim_sched s;
    assert_int_equal(sim_sched_init(&s, 16), 0);
    /* Three at t=10 pushed interleaved with earlier and later ones. */
    assert_int_equal(sim_sched_push(&s, 10, 1, 0, 100, 0), SIM_SCHED_OK);
    assert_int_equal(sim_sched_push(&s, 20, 9, 0, 900, 0), SIM_SCHED_OK);
    assert_int_equal(sim_sched_push(&s, 10, 2, 0, 200, 0), SIM_SCHED_OK);
    assert_int_equal(sim_sched_push(&s, 5, 7, 0, 700, 0), SIM_SCHED_OK);
    assert_int_equal(sim_sched_push(&s, 10, 3, 0, 300, 0), SIM_SCHED_OK);
    const uint64_t want_a[] = {700, 100, 200, 300, 900};
    struct sim_event ev;
    for (size_t i = 0; i < 5; i++) {
        assert_true(sim_sched_pop(&s, &ev));
        assert_int_equal(ev.a, want_a[i]);
        assert_int_equal(s.now, ev.time);
    }
    assert_false(sim_sched_pop(&s, &ev));
    assert_true(sim_sched_peek_time(&s) == SIM_TIME_NEVER);
    sim_sched_free(&s);
}

static int cmp_time_then_seq(const void *x, const void *y)
{
    const struct sim_event *a = x, *b = y;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Random times with many ties: the pop order equals a sort by (time, seq). */
static void random_pushes_match_sorted_reference(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct sim_sched s;
    struct sim_event *ref = malloc(N * sizeof *ref);
    assert_non_null(ref);
    assert_int_equal(sim_sched_init(&s, N), 0);
    struct sim_rng rng;
    assert_int_equal(sim_rng_open(&rng, 5, "test", 0), 0);
    for (uint64_t i = 0; i < N; i++) {
        sim_time_ns t = sim_rng_below(&rng, 50); /* ~100 events per time value */
        assert_int_equal(sim_sched_push(&s, t, 0, -1, i, 0), SIM_SCHED_OK);
        ref[i] = (struct sim_event){.time = t, .seq = i, .a = i};
    }
    qsort(ref, N, sizeof *ref, cmp_time_then_seq);
    struct sim_event ev;
    for (size_t i = 0; i < N; i++) {
        assert_true(sim_sched_pop(&s, &ev));
        assert_int_equal(ev.a, ref[i].a);
        assert_int_equal(ev.time, ref[i].time);
    }
    sim_rng_close(&rng);
    sim_sched_free(&s);
    free(ref);
}

static void capacity_bound_is_an_error(void **state)
{
    (void)state;
    struct sim_sched s;
    assert_int_equal(sim_sched_init(&s, 4), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sim_sched_push(&s, 100 - (sim_time_ns)i, 0, 0, (uint64_t)i, 0), SIM_SCHED_OK);
    assert_int_equal(sim_sched_push(&s, 1, 0, 0, 99, 0), SIM_SCHED_FULL);
    assert_int_equal(sim_sched_pending(&s), 4);
    assert_non_null(strstr(sim_sched_status_str(SIM_SCHED_FULL), "full"));
    /* The refused event left no trace: the four pop in order. */
    struct sim_event ev;
    for (int i = 3; i >= 0; i--) {
        assert_true(sim_sched_pop(&s, &ev));
        assert_int_equal(ev.a, (uint64_t)i);
    }
    /* Room again after popping. */
    assert_int_equal(sim_sched_push(&s, 200, 0, 0, 5, 0), SIM_SCHED_OK);
    sim_sched_free(&s);
    /* Impossible capacities are errors, not aborts. */
    assert_int_equal(sim_sched_init(&s, 0), -1);
    assert_int_equal(sim_sched_init(&s, SIZE_MAX / 8), -1);
}

static void pushing_into_the_past_is_refused(void **state)
{
    (void)state;
    struct sim_sched s;
    assert_int_equal(sim_sched_init(&s, 8), 0);
    assert_int_equal(sim_sched_push(&s, 50, 0, 0, 0, 0), SIM_SCHED_OK);
    struct sim_event ev;
    assert_true(sim_sched_pop(&s, &ev));
    assert_int_equal(s.now, 50);
    assert_int_equal(sim_sched_push(&s, 49, 0, 0, 0, 0), SIM_SCHED_PAST);
    assert_int_equal(sim_sched_pending(&s), 0);
    assert_int_equal(sim_sched_push(&s, 50, 0, 0, 0, 0), SIM_SCHED_OK); /* now itself is fine */
    assert_int_equal(sim_sched_after(&s, 7, 0, 0, 1, 0), SIM_SCHED_OK);
    assert_true(sim_sched_pop(&s, &ev) && ev.time == 50);
    assert_true(sim_sched_pop(&s, &ev) && ev.time == 57 && ev.a == 1);
    /* An infinite delay saturates instead of wrapping into the past. */
    assert_int_equal(sim_sched_after(&s, UINT64_MAX, 0, 0, 2, 0), SIM_SCHED_OK);
    assert_true(sim_sched_peek_time(&s) == SIM_TIME_NEVER);
    sim_sched_free(&s);
}

/* Millions of events through a 64-slot queue: order holds, the array is
 * reused (high water never exceeds capacity), ASan sees no stray access. */
static void small_pool_reused_for_millions(void **state)
{
    (void)state;
    enum { CAP = 64, TOTAL = 3000000 };
    struct sim_sched s;
    assert_int_equal(sim_sched_init(&s, CAP), 0);
    struct sim_rng rng;
    assert_int_equal(sim_rng_open(&rng, 11, "test", 0), 0);
    for (uint64_t i = 0; i < CAP / 2; i++)
        assert_int_equal(sim_sched_after(&s, sim_rng_below(&rng, 1000), 0, 0, 0, 0), SIM_SCHED_OK);
    struct sim_event ev, prev = {0};
    uint64_t popped = 0;
    while (popped < TOTAL) {
        assert_true(sim_sched_pop(&s, &ev));
        assert_true(ev.time > prev.time || (ev.time == prev.time && ev.seq > prev.seq) || popped == 0);
        prev = ev;
        popped++;
        assert_int_equal(sim_sched_after(&s, sim_rng_below(&rng, 4) * 250, 0, 0, popped, 0), SIM_SCHED_OK);
    }
    assert_int_equal(s.popped, TOTAL);
    assert_true(s.high_water <= CAP);
    assert_int_equal(sim_sched_pending(&s), CAP / 2);
    sim_rng_close(&rng);
    sim_sched_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ties_pop_in_insertion_order),
        cmocka_unit_test(random_pushes_match_sorted_reference),
        cmocka_unit_test(capacity_bound_is_an_error),
        cmocka_unit_test(pushing_into_the_past_is_refused),
        cmocka_unit_test(small_pool_reused_for_millions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
