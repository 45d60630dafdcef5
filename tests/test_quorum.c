/* Quorum verifier: majority over voters (every subset checked against a
 * popcount oracle), observers never count, weighted quorums. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/quorum.h"

static int popcount(uint32_t m)
{
    int c = 0;
    for (; m; m &= m - 1)
        c++;
    return c;
}

static void majority_every_subset(void **state)
{
    (void)state;
    for (int n = 1; n <= 7; n++) {
        struct quorum_verifier qv;
        assert_int_equal(quorum_init_majority(&qv, n, NULL), 0);
        for (uint32_t sub = 0; sub < (1u << n); sub++) {
            uint32_t mask = sub << 1;            /* ids start at 1 */
            assert_int_equal(quorum_contains_quorum(&qv, mask), 2 * popcount(sub) > n);
        }
    }
}

static void any_two_quorums_intersect(void **state)
{
    (void)state;
    struct quorum_verifier qv;
    assert_int_equal(quorum_init_majority(&qv, 5, NULL), 0);
    for (uint32_t a = 0; a < 32; a++)
        for (uint32_t b = 0; b < 32; b++)
            if (quorum_contains_quorum(&qv, a << 1) && quorum_contains_quorum(&qv, b << 1))
                assert_true((a & b) != 0);
}

static void observers_never_count(void **state)
{
    (void)state;
    uint8_t roles[QUORUM_SERVERS_MAX + 1] = {0};
    roles[4] = QUORUM_OBSERVER;
    roles[5] = QUORUM_OBSERVER;
    struct quorum_verifier qv;
    assert_int_equal(quorum_init_majority(&qv, 5, roles), 0);
    assert_false(quorum_is_voter(&qv, 4));
    assert_true(quorum_is_voter(&qv, 3));
    assert_false(quorum_is_voter(&qv, 0));
    assert_false(quorum_is_voter(&qv, 6));
    /* 3 voters: {1,2} is a quorum, {1,4,5} is not */
    assert_true(quorum_contains_quorum(&qv, quorum_bit(1) | quorum_bit(2)));
    assert_false(quorum_contains_quorum(&qv, quorum_bit(1) | quorum_bit(4) | quorum_bit(5)));
    assert_int_equal(quorum_voter_mask(&qv), quorum_bit(1) | quorum_bit(2) | quorum_bit(3));
}

static void weighted(void **state)
{
    (void)state;
    uint32_t w[QUORUM_SERVERS_MAX + 1] = {0, 3, 1, 1, 0};
    struct quorum_verifier qv;
    assert_int_equal(quorum_init_weighted(&qv, 4, w), 0);
    assert_true(quorum_contains_quorum(&qv, quorum_bit(1)));       /* 3 of 5 */
    assert_false(quorum_contains_quorum(&qv, quorum_bit(2) | quorum_bit(3) | quorum_bit(4)));
    assert_false(quorum_is_voter(&qv, 4));
}

static void bad_configs(void **state)
{
    (void)state;
    struct quorum_verifier qv;
    uint8_t all_obs[QUORUM_SERVERS_MAX + 1];
    memset(all_obs, QUORUM_OBSERVER, sizeof all_obs);
    assert_int_equal(quorum_init_majority(&qv, 0, NULL), -1);
    assert_int_equal(quorum_init_majority(&qv, QUORUM_SERVERS_MAX + 1, NULL), -1);
    assert_int_equal(quorum_init_majority(&qv, 3, all_obs), -1);
    assert_int_equal(quorum_bit(0), 0);
    assert_int_equal(quorum_bit(16), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(majority_every_subset),
        cmocka_unit_test(any_two_quorums_intersect),
        cmocka_unit_test(observers_never_count),
        cmocka_unit_test(weighted),
        cmocka_unit_test(bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
