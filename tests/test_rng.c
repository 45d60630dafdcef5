/* Derived random streams: reproducible, distinct per concern and index, and
 * independent (drawing from one never moves another). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/rng.h"

static void derivation_is_pure_and_distinct(void **state)
{
    (void)state;
    uint64_t a = sim_rng_derive(1, "network", 0);
    assert_true(a == sim_rng_derive(1, "network", 0));
    assert_true(a != sim_rng_derive(2, "network", 0));
    assert_true(a != sim_rng_derive(1, "network", 1));
    assert_true(a != sim_rng_derive(1, "faults", 0));
    assert_true(a != sim_rng_derive(1, "networK", 0));
    /* No collisions among many nodes' and clients' streams. */
    uint64_t seen[400];
    size_t n = 0;
    for (uint32_t i = 0; i < 200; i++) {
        seen[n++] = sim_rng_derive(7, "node", i);
        seen[n++] = sim_rng_derive(7, "client", i);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_true(seen[i] != seen[j]);
}

static void same_seed_same_sequence(void **state)
{
    (void)state;
    struct sim_rng a, b;
    assert_int_equal(sim_rng_open(&a, 123, "workload", 3), 0);
    assert_int_equal(sim_rng_open(&b, 123, "workload", 3), 0);
    assert_true(a.seed == b.seed);
    for (int i = 0; i < 10000; i++)
        assert_true(sim_rng_below(&a, 1000003) == sim_rng_below(&b, 1000003));
    sim_rng_close(&a);
    sim_rng_close(&b);
}

/* The network's draws are the same whether or not another stream exists
 * and is drawn from in between: adding a client cannot perturb them. */
static void streams_are_independent(void **state)
{
    (void)state;
    enum { N = 1000 };
    uint64_t alone[N];
    struct sim_rng net;
    assert_int_equal(sim_rng_open(&net, 99, "network", 0), 0);
    for (int i = 0; i < N; i++)
        alone[i] = sim_rng_below(&net, UINT32_MAX);
    sim_rng_close(&net);

    struct sim_rng client, net2;
    assert_int_equal(sim_rng_open(&client, 99, "client", 0), 0);
    assert_int_equal(sim_rng_open(&net2, 99, "network", 0), 0);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        uint64_t c = sim_rng_below(&client, UINT32_MAX);
        uint64_t x = sim_rng_below(&net2, UINT32_MAX);
        assert_true(x == alone[i]);
        differ += c != x;
    }
    assert_true(differ > N - 5); /* the client stream is a different sequence */
    sim_rng_close(&client);
    sim_rng_close(&net2);
}

static void ranges_and_chances(void **state)
{
    (void)state;
    struct sim_rng r;
    assert_int_equal(sim_rng_open(&r, 4, "test", 0), 0);
    int counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t x = sim_rng_below(&r, 10);
        assert_true(x < 10);
        counts[x]++;
        double u = sim_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
    }
    for (int i = 0; i < 10; i++)
        assert_true(counts[i] > 9000 && counts[i] < 11000);
    uint64_t big = (1ull << 40) + 17;
    for (int i = 0; i < 1000; i++)
        assert_true(sim_rng_below(&r, big) < big);
    int hits = 0;
    for (int i = 0; i < 100000; i++)
        hits += sim_rng_chance(&r, 0.25);
    assert_true(hits > 24000 && hits < 26000);
    for (int i = 0; i < 1000; i++) {
        assert_false(sim_rng_chance(&r, 0.0));
        assert_true(sim_rng_chance(&r, 1.0));
    }
    sim_rng_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derivation_is_pure_and_distinct),
        cmocka_unit_test(same_seed_same_sequence),
        cmocka_unit_test(streams_are_independent),
        cmocka_unit_test(ranges_and_chances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
