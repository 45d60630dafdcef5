/* Tests of core/zk_server: three servers wired by the in-memory harness
 * (tests/support/zks_harness): forwarding, the full write pipeline and its
 * error codes, sessions (expiry, reconnect, moved, stale server), watches
 * and their order against replies, sync, multi, the lock recipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tree.h"
#include "core/zk_server.h"
#include "core/zks_codec.h"
#include "tests/support/zks_harness.h"

static struct zksh *H;

static int setup(void **state)
{
    (void)state;
    H = calloc(1, sizeof *H);
    if (H == NULL || !zksh_init(H, 3))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    zksh_free(H);
    free(H);
    return 0;
}

static const struct tree_node *node_on(int srv, const char *path)
{
    return tree_get(&zks_sm(&H->srv[srv])->tree, path, strlen(path));
}

/* ---- basic pipeline -------------------------------------------------------- */

static void test_create_on_follower_forwarded(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0), l = zksh_leader(H);
    assert_int_not_equal(f, 0);
    int64_t sid = zksh_open(H, f, 11);
    assert_int_not_equal(sid, 0);
    const struct zksh_rec *con = zksh_find(H, ZKS_OUT_CONNECTED, 11, INT32_MIN);
    assert_non_null(con);
    assert_int_equal(con->timeout_ms, 1000);
    uint8_t pw[SESSION_PASSWD_LEN];
    zks_session_password(&H->srv[l], sid, pw);
    assert_memory_equal(con->passwd, pw, SESSION_PASSWD_LEN);

    struct zk_request r = zksh_rq(ZOO_CREATE2_OP, 1, "/a");
    r.data = (const uint8_t *)"hello";
    r.data_len = 5;
    assert_int_equal(zksh_request(H, 11, &r), ZOK);
    /* Not answered before the txn went through the leader. */
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 11, 1));
    zksh_settle(H);
    const struct zksh_rec *rep = zksh_find(H, ZKS_OUT_REPLY, 11, 1);
    assert_non_null(rep);
    assert_int_equal(rep->err, ZOK);
    assert_int_equal(rep->srv, f);
    assert_string_equal(rep->path, "/a");
    assert_true(rep->has_stat);
    assert_int_equal(rep->stat.data_length, 5);
    assert_int_equal(rep->stat.czxid, rep->zxid);
    assert_int_equal(rep->stat.ephemeral_owner, 0);
    for (int i = 1; i <= 3; i++) {
        const struct tree_node *n = node_on(i, "/a");
        assert_non_null(n);
        assert_memory_equal(n->data, "hello", 5);
        assert_int_equal(n->stat.czxid, rep->zxid);
    }
    assert_int_equal(zks_last_applied(&H->srv[f]), (uint64_t)rep->zxid);
}

static void test_read_local_and_results(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 21);
    assert_int_equal(zksh_create(H, 21, 1, "/r", "data", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_create(H, 21, 2, "/r/x", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_create(H, 21, 3, "/r/s-", "", ZOO_PERSISTENT_SEQUENTIAL), ZOK);
    assert_string_equal(zksh_find(H, ZKS_OUT_REPLY, 21, 3)->path, "/r/s-0000000001");
    assert_int_equal(zksh_get(H, 21, 4, "/r", false), ZOK);
    const struct zksh_rec *g = zksh_find(H, ZKS_OUT_REPLY, 21, 4);
    assert_string_equal(g->data, "data");
    assert_int_equal(g->stat.num_children, 2);
    struct zk_request c = zksh_rq(ZOO_GETCHILDREN2_OP, 5, "/r");
    zksh_request(H, 21, &c);
    const struct zksh_rec *ch = zksh_find(H, ZKS_OUT_REPLY, 21, 5);
    assert_non_null(ch);   /* reads are answered at once, locally */
    assert_string_equal(ch->strs, "s-0000000001,x");
    assert_true(ch->has_stat);
    struct zk_request e = zksh_rq(ZOO_EXISTS_OP, 6, "/nope");
    zksh_request(H, 21, &e);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 21, 6)->err, ZNONODE);
    struct zk_request n = zksh_rq(ZOO_GET_ALL_CHILDREN_NUMBER_OP, 7, "/r");
    zksh_request(H, 21, &n);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 21, 7)->number, 2);
    struct zk_request a = zksh_rq(ZOO_GETACL_OP, 8, "/r");
    zksh_request(H, 21, &a);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 21, 8)->acl_count, 1);
}

static void test_ping_answered_at_once(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 31);
    struct zk_request p = zksh_rq(ZOO_PING_OP, -2, NULL);
    zksh_request(H, 31, &p);
    const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, 31, -2);
    assert_non_null(r);
    assert_int_equal(r->err, ZOK);
    assert_int_equal(r->zxid, (int64_t)zks_last_applied(&H->srv[f]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_on_follower_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_local_and_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_answered_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
