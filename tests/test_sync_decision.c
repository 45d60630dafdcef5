/* The leader's sync decision table (LearnerHandler.syncFollower):
 * follower equal / behind / ahead / diverged / at a new-epoch zxid /
 * behind the log window, and the epoch-boundary SNAP fallback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/zab_common.h"
#include "core/zxid.h"

#define Z(e, c) (((uint64_t)(e) << 32) | (uint64_t)(c))

struct row {
    const char *name;
    uint64_t base;
    uint64_t peer;
    enum zab_sync_kind kind;
    uint64_t trunc;
    uint32_t send_from;
};

/* Leader log: (1,1) (1,2) (1,3) (2,1) (2,2), after base. */
static const uint64_t log5[] = {Z(1, 1), Z(1, 2), Z(1, 3), Z(2, 1), Z(2, 2)};

static void table(void **state)
{
    (void)state;
    const struct row rows[] = {
        {"equal", 0, Z(2, 2), ZAB_SYNC_DIFF, 0, 5},
        {"empty follower, full log", 0, 0, ZAB_SYNC_DIFF, 0, 0},
        {"behind in the same epoch", 0, Z(1, 2), ZAB_SYNC_DIFF, 0, 2},
        {"behind across an epoch", 0, Z(1, 3), ZAB_SYNC_DIFF, 0, 3},
        {"behind by one", 0, Z(2, 1), ZAB_SYNC_DIFF, 0, 4},
        {"ahead in my epoch", 0, Z(2, 7), ZAB_SYNC_TRUNC, Z(2, 2), 5},
        {"ahead in a newer epoch", 0, Z(3, 1), ZAB_SYNC_TRUNC, Z(2, 2), 5},
        {"diverged tail (ZK-1154)", 0, Z(1, 4), ZAB_SYNC_TRUNC_DIFF, Z(1, 3), 3},
        {"diverged, longer tail", 0, Z(1, 9), ZAB_SYNC_TRUNC_DIFF, Z(1, 3), 3},
        {"at a new-epoch zxid", 0, Z(2, 0), ZAB_SYNC_DIFF, 0, 3},
        {"behind the log window", Z(1, 1), 0, ZAB_SYNC_SNAP, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        const uint64_t *lg = log5;
        uint32_t n = 5;
        if (r->base) {            /* the window starts after base: drop (1,1) */
            lg = log5 + 1;
            n = 4;
        }
        struct zab_sync_plan p = zab_sync_decide(lg, n, r->base, r->peer);
        if (p.kind != r->kind)
            fail_msg("%s: kind %s, want %s", r->name, zab_sync_kind_name(p.kind),
                     zab_sync_kind_name(r->kind));
        if (r->kind == ZAB_SYNC_TRUNC || r->kind == ZAB_SYNC_TRUNC_DIFF)
            assert_int_equal(p.trunc_zxid, r->trunc);
        if (r->kind == ZAB_SYNC_DIFF || r->kind == ZAB_SYNC_TRUNC_DIFF) {
            if (p.send_from != r->send_from)
                fail_msg("%s: send_from %u, want %u", r->name, p.send_from, r->send_from);
        }
    }
}

static void diverged_across_epoch_boundary_is_snap(void **state)
{
    (void)state;
    /* leader: (1,1) (1,2) (3,1); follower has (2,3) nobody else has: the last
     * common zxid (1,2) is in another epoch, so no TRUNC is sent. */
    const uint64_t lg[] = {Z(1, 1), Z(1, 2), Z(3, 1)};
    struct zab_sync_plan p = zab_sync_decide(lg, 3, 0, Z(2, 3));
    assert_int_equal(p.kind, ZAB_SYNC_SNAP);
}

static void empty_leader_log(void **state)
{
    (void)state;
    struct zab_sync_plan p = zab_sync_decide(NULL, 0, 0, 0);
    assert_int_equal(p.kind, ZAB_SYNC_DIFF);
    assert_int_equal(p.send_from, 0);
    p = zab_sync_decide(NULL, 0, Z(4, 2), Z(4, 2));        /* all in the snapshot, equal */
    assert_int_equal(p.kind, ZAB_SYNC_DIFF);
    p = zab_sync_decide(NULL, 0, Z(4, 2), Z(4, 1));        /* behind the snapshot */
    assert_int_equal(p.kind, ZAB_SYNC_SNAP);
    p = zab_sync_decide(NULL, 0, Z(4, 2), Z(4, 3));        /* ahead of everything */
    assert_int_equal(p.kind, ZAB_SYNC_TRUNC);
    assert_int_equal(p.trunc_zxid, Z(4, 2));
}

static void follower_at_base_gets_whole_window(void **state)
{
    (void)state;
    struct zab_sync_plan p = zab_sync_decide(log5 + 1, 4, Z(1, 1), Z(1, 1));
    assert_int_equal(p.kind, ZAB_SYNC_DIFF);
    assert_int_equal(p.send_from, 0);
}

static void names_and_bug_table(void **state)
{
    (void)state;
    assert_string_equal(zab_sync_kind_name(ZAB_SYNC_TRUNC_DIFF), "TRUNC+DIFF");
    for (int i = 0; i < ZAB_BUG_COUNT; i++) {
        assert_non_null(zab_bug_name(i));
        assert_non_null(zab_bug_describe(i));
        assert_int_equal(zab_bug_lookup(zab_bug_name(i)), i);
    }
    assert_null(zab_bug_name(ZAB_BUG_COUNT));
    assert_int_equal(zab_bug_lookup("BUG_SKIP_TRUNC"), ZAB_BUG_SKIP_TRUNC);
    assert_int_equal(zab_bug_lookup("vote_order_1419"), ZAB_BUG_VOTE_ORDER_1419);
    assert_int_equal(zab_bug_lookup("NO_SUCH_BUG"), -1);
    assert_int_equal(zab_bug_lookup(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(diverged_across_epoch_boundary_is_snap),
        cmocka_unit_test(empty_leader_log),
        cmocka_unit_test(follower_at_base_gets_whole_window),
        cmocka_unit_test(names_and_bug_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
