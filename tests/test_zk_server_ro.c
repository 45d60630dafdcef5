/* Read-only mode of zk_server (ZooKeeper's readonlymode.enabled), on the
 * in-memory ensemble of tests/support/zks_harness.h: a server that lost its
 * quorum and has been LOOKING for the delay takes readOnly connects as
 * read-only sessions that read the last applied state, answer writes and
 * syncs ZNOTREADONLY, and are closed when the server leaves LOOKING; a
 * local session id is then expired by the serving ensemble and a new
 * session is read-write. Without the setting, or without the client's
 * readOnly flag, nothing changes: the connect is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/support/zks_harness.h"

static struct zksh *new_ensemble(bool read_only_enabled)
{
    struct zksh *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_true(zksh_init(h, 3));
    h->cfg.read_only_enabled = read_only_enabled;   /* for restarts */
    for (int i = 1; i <= 3; i++)
        h->srv[i].cfg.read_only_enabled = read_only_enabled;
    return h;
}

/* Writes /a = "v1" through the leader; crashes everyone but one follower,
 * which is returned once it has stopped serving. */
static int lone_survivor(struct zksh *h)
{
    int leader = zksh_leader(h);
    assert_int_not_equal(zksh_open(h, leader, 1), 0);
    assert_int_equal(zksh_create(h, 1, 1, "/a", "v1", 0), ZOK);
    int survivor = zksh_follower(h, 0);
    assert_int_not_equal(zksh_open(h, survivor, 2), 0);
    assert_int_equal(zksh_get(h, 2, 1, "/a", false), ZOK);
    for (int i = 1; i <= 3; i++)
        if (i != survivor)
            zksh_crash(h, i);
    for (int k = 0; k < 100 && zks_serving(&h->srv[survivor]); k++)
        zksh_advance(h, 100);
    assert_false(zks_serving(&h->srv[survivor]));
    assert_int_equal(zks_replica(&h->srv[survivor])->state, REP_LOOKING);
    return survivor;
}

static const struct zksh_rec *connected(const struct zksh *h, uint64_t conn)
{
    return zksh_find(h, ZKS_OUT_CONNECTED, conn, INT32_MIN);
}

static int32_t reply_err(const struct zksh *h, uint64_t conn, int32_t xid)
{
    const struct zksh_rec *r = zksh_find(h, ZKS_OUT_REPLY, conn, xid);
    return r ? r->err : INT32_MIN;
}

static void refused_connects(struct zksh *h, int s)
{
    /* Before the delay: not yet read-only; a readOnly connect is refused. */
    assert_false(zks_read_only_mode(&h->srv[s], h->now_ms));
    h->connect_read_only = true;
    assert_int_equal(zksh_connect(h, s, 10, 0, NULL, 0, 1000), ZCONNECTIONLOSS);
    assert_null(connected(h, 10));
    zksh_advance(h, 2100);
    assert_true(zks_read_only_mode(&h->srv[s], h->now_ms));
    /* A client that does not accept read-only is refused as before. */
    h->connect_read_only = false;
    assert_int_equal(zksh_connect(h, s, 11, 0, NULL, 0, 1000), ZCONNECTIONLOSS);
    assert_null(connected(h, 11));
    const struct zksh_rec *c = zksh_find(h, ZKS_OUT_CLOSE, 11, INT32_MIN);
    assert_non_null(c);
    assert_int_equal(c->err, ZCONNECTIONLOSS);
}

/* Reads are served from the last applied state; writes, multi and sync
 * are NOTREADONLY, in request order. */
static void reads_and_refused_writes(struct zksh *h, uint64_t conn, int64_t before)
{
    assert_int_equal(zksh_get(h, conn, 1, "/a", true), ZOK);
    const struct zksh_rec *r = zksh_find(h, ZKS_OUT_REPLY, conn, 1);
    assert_string_equal(r->data, "v1");
    assert_int_equal(zksh_create(h, conn, 2, "/b", "x", 0), ZNOTREADONLY);
    struct zk_request q = zksh_rq(ZOO_SETDATA_OP, 3, "/a");
    zksh_request(h, conn, &q);
    q = zksh_rq(ZOO_GETCHILDREN_OP, 4, "/");
    zksh_request(h, conn, &q);
    q = zksh_rq(ZOO_SYNC_OP, 5, "/");
    zksh_request(h, conn, &q);
    struct zk_request sub = zksh_rq(ZOO_DELETE_OP, 6, "/a");
    q = zksh_rq(ZOO_MULTI_OP, 6, NULL);
    q.ops = &sub;
    q.op_count = 1;
    zksh_request(h, conn, &q);
    zksh_settle(h);
    assert_int_equal(reply_err(h, conn, 3), ZNOTREADONLY);
    assert_int_equal(reply_err(h, conn, 4), ZOK);
    assert_int_equal(reply_err(h, conn, 5), ZNOTREADONLY);
    assert_int_equal(reply_err(h, conn, 6), ZNOTREADONLY);
    const struct zksh_rec *r3 = zksh_find(h, ZKS_OUT_REPLY, conn, 3);
    const struct zksh_rec *r4 = zksh_find(h, ZKS_OUT_REPLY, conn, 4);
    const struct zksh_rec *r5 = zksh_find(h, ZKS_OUT_REPLY, conn, 5);
    assert_true(zksh_index(h, r3) < zksh_index(h, r4));
    assert_true(zksh_index(h, r4) < zksh_index(h, r5));
    assert_non_null(strstr(r4->strs, "a"));
    /* Nothing was written: the tree is as the quorum left it. */
    int s = zksh_client(h, conn)->srv;
    assert_int_equal((int64_t)zks_last_applied(&h->srv[s]), before);
    assert_null(tree_get(&zks_sm(&h->srv[s])->tree, "/b", 2));
}

static void read_only_session_on_lone_survivor(void **state)
{
    (void)state;
    struct zksh *h = new_ensemble(true);
    int s = lone_survivor(h);
    int64_t applied = (int64_t)zks_last_applied(&h->srv[s]);
    refused_connects(h, s);

    /* A new read-only session: a local id, readOnly in the response. */
    h->connect_read_only = true;
    assert_int_equal(zksh_connect(h, s, 20, 0, NULL, 0, 1000), ZOK);
    const struct zksh_rec *c = connected(h, 20);
    assert_non_null(c);
    assert_true(c->read_only);
    assert_true(c->timeout_ms > 0);
    assert_int_not_equal(c->session_id, 0);
    int64_t local_sid = c->session_id;
    reads_and_refused_writes(h, 20, applied);

    /* The session opened before the crash comes back read-only with its
     * own id; a wrong password is expired. */
    assert_int_equal(zksh_reconnect(h, 2, s, 21), ZOK);
    c = connected(h, 21);
    assert_true(c->read_only);
    assert_int_equal(c->session_id, zksh_client(h, 2)->session);
    uint8_t bad[SESSION_PASSWD_LEN] = {1};
    assert_int_equal(zksh_connect(h, s, 22, zksh_client(h, 2)->session, bad, 0, 1000),
                     ZSESSIONEXPIRED);
    assert_int_equal(connected(h, 22)->timeout_ms, 0);
    assert_int_equal(zks_conn_count(&h->srv[s]), 2);

    /* The quorum comes back: the read-only connections are closed. */
    for (int i = 1; i <= 3; i++)
        if (i != s)
            zksh_restart(h, i);
    for (int k = 0; k < 200 && !(zksh_leader(h) && zksh_all_serving(h)); k++)
        zksh_advance(h, 100);
    assert_true(zks_serving(&h->srv[s]));
    assert_false(zks_read_only_mode(&h->srv[s], h->now_ms));
    assert_int_equal(zksh_find(h, ZKS_OUT_CLOSE, 20, INT32_MIN)->err, ZCONNECTIONLOSS);
    assert_int_equal(zksh_find(h, ZKS_OUT_CLOSE, 21, INT32_MIN)->err, ZCONNECTIONLOSS);
    assert_int_equal(zks_conn_count(&h->srv[s]), 0);

    /* The local id means nothing to the ensemble: expired; a new session
     * is read-write and writes. */
    assert_int_equal(zksh_reconnect(h, 20, s, 23), ZOK);
    zksh_settle(h);
    c = connected(h, 23);
    assert_non_null(c);
    assert_int_equal(c->timeout_ms, 0);
    (void)local_sid;
    assert_int_equal(zksh_connect(h, s, 24, 0, NULL, 0, 1000), ZOK);
    zksh_settle(h);
    c = connected(h, 24);
    assert_non_null(c);
    assert_false(c->read_only);
    assert_true(c->timeout_ms > 0);
    assert_int_equal(zksh_create(h, 24, 1, "/b", "x", 0), ZOK);
    zksh_free(h);
    free(h);
}

/* A read-only session's closeSession closes only its connection; pings
 * are answered. */
static void read_only_close_and_ping(void **state)
{
    (void)state;
    struct zksh *h = new_ensemble(true);
    int s = lone_survivor(h);
    zksh_advance(h, 2100);
    h->connect_read_only = true;
    assert_int_equal(zksh_connect(h, s, 30, 0, NULL, 0, 1000), ZOK);
    struct zk_request q = zksh_rq(ZOO_PING_OP, -2, NULL);
    zksh_request(h, 30, &q);
    assert_int_equal(reply_err(h, 30, -2), ZOK);
    q = zksh_rq(ZOO_CLOSE_SESSION_OP, 7, NULL);
    zksh_request(h, 30, &q);
    zksh_settle(h);
    assert_int_equal(reply_err(h, 30, 7), ZOK);
    const struct zksh_rec *cl = zksh_find(h, ZKS_OUT_CLOSE, 30, INT32_MIN);
    assert_non_null(cl);
    assert_int_equal(cl->err, ZOK);
    assert_true(zksh_index(h, zksh_find(h, ZKS_OUT_REPLY, 30, 7)) < zksh_index(h, cl));
    assert_int_equal(zks_conn_count(&h->srv[s]), 0);
    zksh_free(h);
    free(h);
}

/* Without readonlymode.enabled a lone survivor refuses everyone. */
static void disabled_refuses_read_only_clients(void **state)
{
    (void)state;
    struct zksh *h = new_ensemble(false);
    int s = lone_survivor(h);
    zksh_advance(h, 5000);
    assert_false(zks_read_only_mode(&h->srv[s], h->now_ms));
    h->connect_read_only = true;
    assert_int_equal(zksh_connect(h, s, 40, 0, NULL, 0, 1000), ZCONNECTIONLOSS);
    assert_null(connected(h, 40));
    zksh_free(h);
    free(h);
}

/* A serving server ignores the flag: read-write session, writes work. */
static void serving_server_gives_read_write(void **state)
{
    (void)state;
    struct zksh *h = new_ensemble(true);
    h->connect_read_only = true;
    int f = zksh_follower(h, 0);
    assert_false(zks_read_only_mode(&h->srv[f], h->now_ms));
    assert_int_equal(zksh_connect(h, f, 50, 0, NULL, 0, 1000), ZOK);
    zksh_settle(h);
    const struct zksh_rec *c = connected(h, 50);
    assert_non_null(c);
    assert_false(c->read_only);
    assert_int_equal(zksh_create(h, 50, 1, "/rw", "x", 0), ZOK);
    zksh_free(h);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_only_session_on_lone_survivor),
        cmocka_unit_test(read_only_close_and_ping),
        cmocka_unit_test(disabled_refuses_read_only_clients),
        cmocka_unit_test(serving_server_gives_read_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
