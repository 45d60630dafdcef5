/* zxid packing, and counter exhaustion forcing a new epoch (ZOOKEEPER-1277). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/zxid.h"
#include "tests/support/core_harness.h"

static void pack_unpack(void **state)
{
    (void)state;
    const uint32_t epochs[] = {0, 1, 2, 0x7fffffffu, 0xffffffffu};
    const uint32_t counters[] = {0, 1, 5, 0xfffffffeu, 0xffffffffu};
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++) {
            uint64_t z = zxid_make(epochs[i], counters[j]);
            assert_int_equal(zxid_epoch(z), epochs[i]);
            assert_int_equal(zxid_counter(z), counters[j]);
            assert_int_equal(zxid_is_epoch_start(z), counters[j] == 0);
        }
    assert_int_equal(zxid_make(1, 2), 0x100000002ull);
}

static void order_is_epoch_then_counter(void **state)
{
    (void)state;
    /* any zxid of a later epoch is larger, whatever the counters */
    assert_true(zxid_make(2, 0) > zxid_make(1, 0xffffffffu));
    assert_true(zxid_make(1, 2) > zxid_make(1, 1));
    assert_int_equal(ZXID_COUNTER_MAX, 0xfffffffeu);
}

static void exhaustion_forces_new_epoch(void **state)
{
    (void)state;
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100, c.init_limit = 10, c.sync_limit = 5, c.finalize_wait_ms = 20;
    c.notification_interval_max_ms = 400;
    c.zxid_counter_max = 3;
    struct core_harness *h = ch_new(3, 7, &c);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(ch_start(h, i), 0);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 100000));
    int l = ch_leader(h);
    uint64_t epoch = h->nodes[l].r.established_epoch, z = 0;
    for (int k = 1; k <= 3; k++) {
        assert_int_equal(ch_propose(h, l, "x", &z), 0);
        assert_int_equal(zxid_counter(z), (uint32_t)k);
    }
    assert_true(ch_run_until(h, ch_pred_applied, &z, 100000));
    assert_int_equal(ch_propose(h, l, "y", &z), REP_ERR_NOT_LEADER);
    assert_int_equal(h->nodes[l].r.state, REP_LOOKING);
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 100000));
    l = ch_leader(h);
    assert_true(h->nodes[l].r.established_epoch > epoch);
    assert_int_equal(ch_propose(h, l, "y", &z), 0);
    assert_int_equal(z, zxid_make((uint32_t)h->nodes[l].r.established_epoch, 1));
    assert_string_equal(h->violation, "");
    ch_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_unpack),
        cmocka_unit_test(order_is_epoch_then_counter),
        cmocka_unit_test(exhaustion_forces_new_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
