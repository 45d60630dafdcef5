/* Session tracker: timeout negotiation, tick-bucket expiry, touch, expiry
 * order and closing state, check codes, id generation and passwords. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/session.h"
#include "core/zk_types.h"

static struct session_tracker mk(uint32_t max_sessions)
{
    struct session_tracker tr;
    struct session_config cfg = {.tick_ms = 2000, .server_id = 3, .max_sessions = max_sessions};
    assert_int_equal(session_init(&tr, &cfg, 1000), ZOK);
    return tr;
}

static void negotiation_clamps(void **state)
{
    (void)state;
    struct session_tracker tr = mk(0);
    assert_int_equal(session_negotiate_timeout(&tr, 100), 4000);
    assert_int_equal(session_negotiate_timeout(&tr, 4000), 4000);
    assert_int_equal(session_negotiate_timeout(&tr, 15000), 15000);
    assert_int_equal(session_negotiate_timeout(&tr, 40000), 40000);
    assert_int_equal(session_negotiate_timeout(&tr, 40001), 40000);
    assert_int_equal(session_negotiate_timeout(&tr, -5), 4000);
    session_free(&tr);
    struct session_config bad = {.tick_ms = 0};
    assert_int_equal(session_init(&tr, &bad, 0), ZBADARGUMENTS);
    struct session_config sid255 = {.tick_ms = 100, .server_id = 255};
    assert_int_equal(session_init(&tr, &sid255, 0), ZBADARGUMENTS);
    struct session_config inverted = {.tick_ms = 100, .min_timeout_ms = 900, .max_timeout_ms = 800};
    assert_int_equal(session_init(&tr, &inverted, 0), ZBADARGUMENTS);
}

static void ids_as_zookeeper(void **state)
{
    (void)state;
    int64_t ms = 0x0000018b2c3d4e5fll;
    uint64_t want = (((uint64_t)ms << 24) >> 8) | ((uint64_t)7 << 56);
    assert_int_equal(session_initial_id(ms, 7), (int64_t)want);
    /* The top byte is the server id, the next 40 bits the time. */
    assert_int_equal((uint64_t)session_initial_id(ms, 7) >> 56, 7);
    assert_int_not_equal(session_initial_id(ms, 7), session_initial_id(ms, 8));
    assert_int_not_equal(session_initial_id(ms, 7), session_initial_id(ms + 1, 7));
    struct session_tracker tr = mk(0);
    int32_t to = 5000;
    int64_t a, b;
    assert_int_equal(session_create(&tr, &to, 1, 1000, &a), ZOK);
    assert_int_equal(session_create(&tr, &to, 1, 1000, &b), ZOK);
    assert_int_equal(a, session_initial_id(1000, 3));
    assert_int_equal(b, a + 1);
    session_free(&tr);
}

static void expiry_buckets_and_touch(void **state)
{
    (void)state;
    struct session_tracker tr = mk(0);
    assert_int_equal(session_round_expiry(&tr, 5000), 6000);
    assert_int_equal(session_round_expiry(&tr, 5999), 6000);
    assert_int_equal(session_round_expiry(&tr, 6000), 8000);
    int32_t to = 5000;
    int64_t id;
    assert_int_equal(session_create(&tr, &to, 1, 1000, &id), ZOK);
    assert_int_equal(session_get(&tr, id)->expiry_ms, 8000); /* 6000 -> next tick */
    assert_int_equal(session_next_expiry_ms(&tr), 8000);
    int64_t out[4];
    assert_int_equal(session_expired(&tr, 7999, out, 4), 0);
    assert_int_equal(session_touch(&tr, id, 4000), ZOK);
    assert_int_equal(session_get(&tr, id)->expiry_ms, 10000);
    assert_int_equal(session_expired(&tr, 8000, out, 4), 0);
    assert_int_equal(session_expired(&tr, 10000, out, 4), 1);
    assert_int_equal(out[0], id);
    /* Closing: touches fail, checks say expired, not reported twice. */
    assert_int_equal(session_touch(&tr, id, 10001), ZSESSIONEXPIRED);
    assert_int_equal(session_check(&tr, id, 1), ZSESSIONEXPIRED);
    assert_int_equal(session_expired(&tr, 99999, out, 4), 0);
    assert_int_equal(session_next_expiry_ms(&tr), INT64_MAX);
    session_remove(&tr, id);
    assert_int_equal(session_check(&tr, id, 1), ZUNKNOWNSESSION);
    assert_int_equal(session_touch(&tr, id, 1), ZUNKNOWNSESSION);
    session_free(&tr);
}

static void expired_in_id_order_bounded(void **state)
{
    (void)state;
    struct session_tracker tr = mk(0);
    /* Tracked out of order; all in the same bucket. */
    int64_t ids[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++)
        assert_int_equal(session_track(&tr, ids[i], 4000, 1, 1000), ZOK);
    assert_int_equal(session_track(&tr, 60, 40000, 1, 1000), ZOK); /* later */
    int64_t out[3];
    assert_int_equal(session_expired(&tr, 6000, out, 3), 3);
    assert_int_equal(out[0], 10);
    assert_int_equal(out[1], 20);
    assert_int_equal(out[2], 30);
    assert_int_equal(session_expired(&tr, 6000, out, 3), 2);
    assert_int_equal(out[0], 40);
    assert_int_equal(out[1], 50);
    assert_int_equal(session_check(&tr, 60, 1), ZOK);
    session_free(&tr);
}

static void check_codes_and_bound(void **state)
{
    (void)state;
    struct session_tracker tr = mk(2);
    int32_t to = 4000;
    int64_t a, b, c;
    assert_int_equal(session_create(&tr, &to, 7, 0, &a), ZOK);
    assert_int_equal(session_create(&tr, &to, 7, 0, &b), ZOK);
    assert_int_equal(session_create(&tr, &to, 7, 0, &c), ZTHROTTLEDOP);
    assert_int_equal(session_check(&tr, a, 7), ZOK);
    assert_int_equal(session_check(&tr, a, 8), ZSESSIONMOVED);
    assert_int_equal(session_set_owner(&tr, a, 8), ZOK);
    assert_int_equal(session_check(&tr, a, 8), ZOK);
    assert_int_equal(session_check(&tr, 12345, 8), ZUNKNOWNSESSION);
    session_set_closing(&tr, b);
    assert_int_equal(session_set_owner(&tr, b, 8), ZSESSIONEXPIRED);
    /* A session the new leader learned from the log has no owner yet: the
     * first checker claims it. */
    session_remove(&tr, b);
    assert_int_equal(session_track(&tr, 777, 4000, SESSION_OWNER_NONE, 0), ZOK);
    assert_int_equal(session_check(&tr, 777, 3), ZOK);
    assert_int_equal(session_get(&tr, 777)->owner, 3);
    assert_int_equal(session_check(&tr, 777, 4), ZSESSIONMOVED);
    session_free(&tr);
}

static void passwords_deterministic_and_keyed(void **state)
{
    (void)state;
    uint8_t p1[16], p2[16], p3[16], p4[16];
    session_password(42, (const uint8_t *)"secret", 6, p1);
    session_password(42, (const uint8_t *)"secret", 6, p2);
    session_password(43, (const uint8_t *)"secret", 6, p3);
    session_password(42, (const uint8_t *)"secreT", 6, p4);
    assert_memory_equal(p1, p2, 16);
    assert_memory_not_equal(p1, p3, 16);
    assert_memory_not_equal(p1, p4, 16);
    assert_true(session_password_ok(42, (const uint8_t *)"secret", 6, p1, 16));
    assert_false(session_password_ok(43, (const uint8_t *)"secret", 6, p1, 16));
    assert_false(session_password_ok(42, (const uint8_t *)"secret", 6, p1, 15));
    p1[15] ^= 1;
    assert_false(session_password_ok(42, (const uint8_t *)"secret", 6, p1, 16));
}

static void clone_is_independent(void **state)
{
    (void)state;
    struct session_tracker tr = mk(0), c;
    int32_t to = 4000;
    int64_t a;
    assert_int_equal(session_create(&tr, &to, 1, 0, &a), ZOK);
    assert_int_equal(session_clone(&c, &tr), ZOK);
    session_set_closing(&tr, a);
    assert_int_equal(session_check(&tr, a, 1), ZSESSIONEXPIRED);
    assert_int_equal(session_check(&c, a, 1), ZOK);
    int64_t b1, b2;
    assert_int_equal(session_create(&tr, &to, 1, 0, &b1), ZOK);
    assert_int_equal(session_create(&c, &to, 1, 0, &b2), ZOK);
    assert_int_equal(b1, b2); /* same id stream from the same state */
    session_free(&tr);
    session_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(negotiation_clamps),
        cmocka_unit_test(ids_as_zookeeper),
        cmocka_unit_test(expiry_buckets_and_touch),
        cmocka_unit_test(expired_in_id_order_bounded),
        cmocka_unit_test(check_codes_and_bound),
        cmocka_unit_test(passwords_deterministic_and_keyed),
        cmocka_unit_test(clone_is_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
