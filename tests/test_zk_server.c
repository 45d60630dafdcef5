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

#include "core/quorum.h"
#include "core/tree.h"
#include "core/zk_server.h"
#include "core/zks_codec.h"
#include "core/zks_internal.h"
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
        assert_memory_equal(tree_node_data(n), "hello", 5);
        assert_int_equal(n->stat.czxid, rep->zxid);
    }
    assert_int_equal(zks_last_applied(&H->srv[f]), (uint64_t)rep->zxid);
    /* The trace line of a reply. */
    struct zks_out o = {.kind = ZKS_OUT_REPLY, .conn = 11, .xid = 1, .op = 15, .err = ZNODEEXISTS,
                        .zxid = 0x100000002, .path = {"/a", 2, 0}};
    char line[128];
    assert_string_equal(zks_out_describe(&o, line, sizeof line),
                        "REPLY conn=11 xid=1 op=15 err=NODEEXISTS zxid=0x100000002 path=/a");
    assert_string_equal(zks_out_describe(&o, line, 6), "REPLY");
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


/* ---- error codes through the whole pipeline ---------------------------------- */

static int send_wait(uint64_t conn, struct zk_request *r)
{
    zksh_request(H, conn, r);
    zksh_settle(H);
    const struct zksh_rec *rep = zksh_find(H, ZKS_OUT_REPLY, conn, r->cxid);
    return rep ? rep->err : INT32_MIN;
}

static void test_error_codes(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 41);
    assert_int_equal(zksh_create(H, 41, 1, "/e", "x", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_create(H, 41, 2, "/e", "x", ZOO_PERSISTENT), ZNODEEXISTS);
    assert_int_equal(zksh_create(H, 41, 3, "/missing/child", "", ZOO_PERSISTENT), ZNONODE);
    assert_int_equal(zksh_create(H, 41, 4, "bad", "", ZOO_PERSISTENT), ZBADARGUMENTS);
    assert_int_equal(zksh_create(H, 41, 5, "/eph", "", ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zksh_create(H, 41, 6, "/eph/c", "", ZOO_PERSISTENT), ZNOCHILDRENFOREPHEMERALS);
    assert_int_equal(zksh_create(H, 41, 7, "/e/c", "", ZOO_PERSISTENT), ZOK);
    struct zk_request d = zksh_rq(ZOO_DELETE_OP, 8, "/e");
    assert_int_equal(send_wait(41, &d), ZNOTEMPTY);
    struct zk_request sd = zksh_rq(ZOO_SETDATA_OP, 9, "/e");
    sd.version = 7;
    assert_int_equal(send_wait(41, &sd), ZBADVERSION);
    sd.cxid = 10;
    sd.version = 0;
    sd.data = (const uint8_t *)"new";
    sd.data_len = 3;
    assert_int_equal(send_wait(41, &sd), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 41, 10)->stat.version, 1);
    struct zk_request na = zksh_rq(ZOO_CREATE_OP, 11, "/noacl");
    na.acl_count = 0;
    na.acl = NULL;
    assert_int_equal(send_wait(41, &na), ZINVALIDACL);
    /* A node only digest:alice may touch. */
    struct zk_acl alice = {ZOO_PERM_ALL, {"digest", ""}};
    snprintf(alice.id.id, sizeof alice.id.id, "%s", "alice:lrkqd3tSpbkQ8y1ZaDtBrXZNp4I=");
    struct zk_request pa = zksh_rq(ZOO_CREATE_OP, 12, "/priv");
    pa.acl = &alice;
    assert_int_equal(send_wait(41, &pa), ZOK);
    struct zk_request g = zksh_rq(ZOO_GETDATA_OP, 13, "/priv");
    assert_int_equal(send_wait(41, &g), ZNOAUTH);
    struct zk_request sp = zksh_rq(ZOO_SETDATA_OP, 14, "/priv");
    assert_int_equal(send_wait(41, &sp), ZNOAUTH);
    struct zk_request rc = zksh_rq(ZOO_RECONFIG_OP, 15, "/");
    assert_int_equal(send_wait(41, &rc), ZUNIMPLEMENTED);
    d.cxid = 16;
    d.path = "/e/c";
    assert_int_equal(send_wait(41, &d), ZOK);
    d.cxid = 17;
    assert_int_equal(send_wait(41, &d), ZNONODE);
    struct zk_request sa = zksh_rq(ZOO_SETACL_OP, 18, "/e");
    sa.version = 0;
    assert_int_equal(send_wait(41, &sa), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 41, 18)->stat.aversion, 1);
    /* A txn over the replica's payload bound (64 KiB by default). */
    static uint8_t big[70000];
    struct zk_request bg = zksh_rq(ZOO_CREATE_OP, 19, "/big");
    bg.data = big;
    bg.data_len = sizeof big;
    assert_int_equal(send_wait(41, &bg), ZBADARGUMENTS);
    assert_null(node_on(1, "/big"));
    /* Every server applied the same txns: equal digests. */
    for (int i = 2; i <= 3; i++)
        assert_int_equal(zk_sm_digest(zks_sm(&H->srv[1])), zk_sm_digest(zks_sm(&H->srv[i])));
}

static void test_auth_digest(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 51);
    struct zk_acl alice = {ZOO_PERM_ALL, {"auth", ""}};
    struct zk_request au = zksh_rq(ZOO_SETAUTH_OP, -4, "digest");
    au.data = (const uint8_t *)"alice:secret";
    au.data_len = 12;
    zksh_request(H, 51, &au);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 51, -4)->err, ZOK);
    struct zk_request pa = zksh_rq(ZOO_CREATE_OP, 1, "/mine");
    pa.acl = &alice;
    assert_int_equal(send_wait(51, &pa), ZOK);
    struct zk_request g = zksh_rq(ZOO_GETDATA_OP, 2, "/mine");
    assert_int_equal(send_wait(51, &g), ZOK);
    struct zk_request w = zksh_rq(ZOO_WHO_AM_I_OP, 3, NULL);
    assert_int_equal(send_wait(51, &w), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 51, 3)->n_ids, 1);
    /* Another session without the id is refused. */
    zksh_open(H, f, 52);
    struct zk_request g2 = zksh_rq(ZOO_GETDATA_OP, 1, "/mine");
    assert_int_equal(send_wait(52, &g2), ZNOAUTH);
    /* A bad auth packet: AUTHFAILED, then the connection is closed. */
    struct zk_request bad = zksh_rq(ZOO_SETAUTH_OP, -4, "digest");
    bad.data = (const uint8_t *)"nocolon";
    bad.data_len = 7;
    zksh_request(H, 52, &bad);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 52, -4)->err, ZAUTHFAILED);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 52, INT32_MIN)->err, ZAUTHFAILED);
}

/* ---- ordering -------------------------------------------------------------------- */

static void test_read_waits_for_own_write(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 61);
    struct zk_request c = zksh_rq(ZOO_CREATE_OP, 1, "/q");
    struct zk_request e = zksh_rq(ZOO_EXISTS_OP, 2, "/q");
    struct zk_request c2 = zksh_rq(ZOO_CREATE_OP, 3, "/q2");
    struct zk_request e2 = zksh_rq(ZOO_EXISTS_OP, 4, "/q2");
    zksh_request(H, 61, &c);
    zksh_request(H, 61, &e);
    zksh_request(H, 61, &c2);
    zksh_request(H, 61, &e2);
    /* The read is held behind the write: nothing answered yet. */
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 61, 2));
    assert_int_equal(zks_conn_outstanding(&H->srv[f], 61), 4);
    zksh_settle(H);
    const struct zksh_rec *r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = zksh_find(H, ZKS_OUT_REPLY, 61, i + 1);
        assert_non_null(r[i]);
        assert_int_equal(r[i]->err, ZOK);
        if (i)
            assert_true(zksh_index(H, r[i - 1]) < zksh_index(H, r[i]));
    }
    /* The first exists saw /q but ran before /q2 was applied. */
    assert_true(r[1]->zxid < r[2]->zxid);
    assert_int_equal(r[1]->zxid, r[0]->zxid);
}

static void test_watch_before_read_reply(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 71);
    zksh_open(H, f2, 72);
    assert_int_equal(zksh_create(H, 71, 1, "/w", "v0", ZOO_PERSISTENT), ZOK);
    zksh_settle(H);
    assert_int_equal(zksh_get(H, 72, 1, "/w", true), ZOK);
    /* 71 changes /w; 72 then queues a read behind its own write, so the
     * read runs after the change is applied on f2. */
    struct zk_request sd = zksh_rq(ZOO_SETDATA_OP, 2, "/w");
    sd.data = (const uint8_t *)"v1";
    sd.data_len = 2;
    zksh_request(H, 71, &sd);
    struct zk_request c = zksh_rq(ZOO_CREATE_OP, 2, "/other");
    struct zk_request g = zksh_rq(ZOO_GETDATA_OP, 3, "/w");
    zksh_request(H, 72, &c);
    zksh_request(H, 72, &g);
    zksh_settle(H);
    const struct zksh_rec *ev = zksh_find(H, ZKS_OUT_WATCH, 72, INT32_MIN);
    const struct zksh_rec *rd = zksh_find(H, ZKS_OUT_REPLY, 72, 3);
    assert_non_null(ev);
    assert_non_null(rd);
    assert_int_equal(ev->event, ZOO_EVENT_DATA_CHANGED);
    assert_string_equal(ev->path, "/w");
    assert_int_equal(ev->zxid, zksh_find(H, ZKS_OUT_REPLY, 71, 2)->zxid);
    assert_string_equal(rd->data, "v1");
    assert_true(zksh_index(H, ev) < zksh_index(H, rd));
    assert_true(zksh_index(H, ev) < zksh_index(H, zksh_find(H, ZKS_OUT_REPLY, 72, 2)));
    /* One-shot: a second change fires nothing more. */
    sd.cxid = 3;
    sd.data = (const uint8_t *)"v2";
    zksh_request(H, 71, &sd);
    zksh_settle(H);
    assert_int_equal(zksh_count(H, ZKS_OUT_WATCH, 72), 1);
}

static void test_sync_then_read(void **state)
{
    (void)state;
    int l = zksh_leader(H), f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 81);
    zksh_open(H, f2, 82);
    zksh_hold(H, l, f2, true);            /* f2 falls behind (still serving) */
    assert_int_equal(zksh_create(H, 81, 1, "/s", "x", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_get(H, 82, 1, "/s", false), ZNONODE);   /* stale read is allowed */
    struct zk_request sy = zksh_rq(ZOO_SYNC_OP, 2, "/s");
    zksh_request(H, 82, &sy);
    struct zk_request g = zksh_rq(ZOO_GETDATA_OP, 3, "/s");
    zksh_request(H, 82, &g);
    zksh_settle(H);
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 82, 2));
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 82, 3));
    assert_true(zks_serving(&H->srv[f2]));
    zksh_hold(H, l, f2, false);
    zksh_settle(H);
    const struct zksh_rec *rs = zksh_find(H, ZKS_OUT_REPLY, 82, 2);
    const struct zksh_rec *rg = zksh_find(H, ZKS_OUT_REPLY, 82, 3);
    assert_non_null(rs);
    assert_non_null(rg);
    assert_int_equal(rs->err, ZOK);
    assert_string_equal(rs->path, "/s");
    assert_int_equal(rg->err, ZOK);
    assert_string_equal(rg->data, "x");
    assert_true(zksh_index(H, rs) < zksh_index(H, rg));
}

static void test_sync_on_leader(void **state)
{
    (void)state;
    int l = zksh_leader(H);
    zksh_open(H, l, 91);
    assert_int_equal(zksh_create(H, 91, 1, "/ls", "", ZOO_PERSISTENT), ZOK);
    struct zk_request sy = zksh_rq(ZOO_SYNC_OP, 2, "/ls");
    zksh_request(H, 91, &sy);
    zksh_settle(H);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 91, 2)->err, ZOK);
    assert_int_equal(zksh_get(H, 91, 3, "/ls", false), ZOK);
}

/* ---- multi ---------------------------------------------------------------------------- */

static void test_multi(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 101);
    assert_int_equal(zksh_create(H, 101, 1, "/m", "", ZOO_PERSISTENT), ZOK);
    struct zk_request ops[3] = {zksh_rq(ZOO_CREATE_OP, 0, "/m/a"), zksh_rq(ZOO_SETDATA_OP, 0, "/m"),
                                zksh_rq(ZOO_CHECK_OP, 0, "/m")};
    ops[1].data = (const uint8_t *)"d";
    ops[1].data_len = 1;
    ops[2].version = 1;
    struct zk_request m = zksh_rq(ZOO_MULTI_OP, 2, NULL);
    m.ops = ops;
    m.op_count = 3;
    assert_int_equal(send_wait(101, &m), ZOK);
    const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, 101, 2);
    assert_int_equal(r->n_ops, 3);
    assert_int_equal(r->ops[0].type, ZOO_CREATE_OP);
    assert_string_equal(r->ops[0].path, "/m/a");
    assert_int_equal(r->ops[1].type, ZOO_SETDATA_OP);
    assert_int_equal(r->ops[2].err, ZOK);
    /* A failing multi: nothing applied, per-op errors, header OK. */
    struct zk_request bad[3] = {zksh_rq(ZOO_CREATE_OP, 0, "/m/b"), zksh_rq(ZOO_CREATE_OP, 0, "/m/a"),
                                zksh_rq(ZOO_DELETE_OP, 0, "/m")};
    m.cxid = 3;
    m.ops = bad;
    assert_int_equal(send_wait(101, &m), ZOK);
    r = zksh_find(H, ZKS_OUT_REPLY, 101, 3);
    assert_int_equal(r->n_ops, 3);
    assert_int_equal(r->ops[0].err, ZOK);
    assert_int_equal(r->ops[1].err, ZNODEEXISTS);
    assert_int_equal(r->ops[2].err, ZRUNTIMEINCONSISTENCY);
    for (int i = 1; i <= 3; i++) {
        assert_null(node_on(i, "/m/b"));
        assert_int_equal(node_on(i, "/m")->stat.version, 1);
    }
}

/* ---- sessions -------------------------------------------------------------------------- */

/* Advances time in 200 ms steps; the listed connections ping at each step. */
static void keepalive(const uint64_t *conns, int n, uint64_t total_ms)
{
    for (uint64_t t = 0; t < total_ms; t += 200) {
        for (int i = 0; i < n; i++) {
            struct zksh_client *c = zksh_client(H, conns[i]);
            if (c && c->open) {
                struct zk_request p = zksh_rq(ZOO_PING_OP, -2, NULL);
                zksh_request(H, conns[i], &p);
            }
        }
        zksh_advance(H, 200);
    }
}

static void test_pings_keep_session_alive(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    int64_t sid = zksh_open(H, f, 111);
    assert_int_equal(zksh_create(H, 111, 1, "/alive", "", ZOO_EPHEMERAL), ZOK);
    uint64_t c[] = {111};
    keepalive(c, 1, 5000);                 /* 5 x the 1 s timeout */
    assert_true(zksh_client(H, 111)->open);
    for (int i = 1; i <= 3; i++) {
        assert_non_null(node_on(i, "/alive"));
        assert_non_null(zk_sm_session(zks_sm(&H->srv[i]), sid));
    }
}

static void test_expiry_removes_ephemerals_and_fires_watches(void **state)
{
    (void)state;
    int l = zksh_leader(H), f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    int64_t sid = zksh_open(H, f1, 121);
    zksh_open(H, f2, 122);
    zksh_open(H, l, 123);
    assert_int_equal(zksh_create(H, 121, 1, "/eph", "", ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zksh_create(H, 121, 2, "/eph2", "", ZOO_EPHEMERAL), ZOK);
    zksh_settle(H);
    assert_int_equal(zksh_get(H, 122, 1, "/eph", true), ZOK);
    struct zk_request ch = zksh_rq(ZOO_GETCHILDREN_OP, 1, "/");
    ch.flags = 1;
    zksh_request(H, 123, &ch);
    zksh_settle(H);
    uint64_t alive[] = {122, 123};
    keepalive(alive, 2, 3000);             /* 121 stays connected but silent */
    const struct zksh_rec *cl = zksh_find(H, ZKS_OUT_CLOSE, 121, INT32_MIN);
    assert_non_null(cl);
    assert_int_equal(cl->err, ZSESSIONEXPIRED);
    for (int i = 1; i <= 3; i++) {
        assert_null(node_on(i, "/eph"));
        assert_null(node_on(i, "/eph2"));
        assert_null(zk_sm_session(zks_sm(&H->srv[i]), sid));
    }
    const struct zksh_rec *w = zksh_find(H, ZKS_OUT_WATCH, 122, INT32_MIN);
    assert_non_null(w);
    assert_int_equal(w->event, ZOO_EVENT_DELETED);
    assert_string_equal(w->path, "/eph");
    const struct zksh_rec *w2 = zksh_find(H, ZKS_OUT_WATCH, 123, INT32_MIN);
    assert_non_null(w2);
    assert_int_equal(w2->event, ZOO_EVENT_CHILD_CHANGED);
    assert_string_equal(w2->path, "/");
    assert_true(zksh_client(H, 122)->open);
    /* The expired session cannot come back. */
    zksh_reconnect(H, 121, f2, 124);
    const struct zksh_rec *con = zksh_find(H, ZKS_OUT_CONNECTED, 124, INT32_MIN);
    assert_non_null(con);
    assert_int_equal(con->timeout_ms, 0);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 124, INT32_MIN)->err, ZSESSIONEXPIRED);
}

static void test_disconnected_session_expires(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 131);
    assert_int_equal(zksh_create(H, 131, 1, "/gone", "", ZOO_EPHEMERAL), ZOK);
    zksh_disconnect(H, 131);
    assert_null(zksh_find(H, ZKS_OUT_CLOSE, 131, INT32_MIN));   /* the driver closed it */
    assert_int_equal(zks_conn_count(&H->srv[f]), 0);
    zksh_advance(H, 500);
    assert_non_null(node_on(f, "/gone"));  /* not before the timeout */
    zksh_advance(H, 2000);
    for (int i = 1; i <= 3; i++)
        assert_null(node_on(i, "/gone"));
}

static void test_reconnect_other_server_keeps_session(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    int64_t sid = zksh_open(H, f1, 141);
    assert_int_equal(zksh_create(H, 141, 1, "/mine", "", ZOO_EPHEMERAL), ZOK);
    zksh_disconnect(H, 141);
    zksh_advance(H, 300);
    assert_int_equal(zksh_reconnect(H, 141, f2, 142), ZOK);
    const struct zksh_rec *con = zksh_find(H, ZKS_OUT_CONNECTED, 142, INT32_MIN);
    assert_non_null(con);
    assert_int_equal(con->session_id, sid);
    assert_int_equal(con->timeout_ms, 1000);
    assert_int_equal(zks_conn_session(&H->srv[f2], 142), sid);
    assert_int_equal(zksh_create(H, 142, 1, "/mine2", "", ZOO_EPHEMERAL), ZOK);
    assert_int_equal(node_on(f2, "/mine2")->stat.ephemeral_owner, sid);
    uint64_t c[] = {142};
    keepalive(c, 1, 3000);
    for (int i = 1; i <= 3; i++)
        assert_non_null(node_on(i, "/mine"));
}

static void test_reconnect_to_stale_server_refused(void **state)
{
    (void)state;
    int l = zksh_leader(H), f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 151);
    zksh_hold(H, l, f2, true);
    assert_int_equal(zksh_create(H, 151, 1, "/new", "", ZOO_PERSISTENT), ZOK);
    assert_true((uint64_t)zksh_client(H, 151)->last_zxid > zks_last_applied(&H->srv[f2]));
    zksh_disconnect(H, 151);
    assert_int_equal(zksh_reconnect(H, 151, f2, 152), ZCONNECTIONLOSS);
    assert_true(zks_serving(&H->srv[f2]));
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 152, INT32_MIN)->err, ZCONNECTIONLOSS);
    assert_null(zksh_find(H, ZKS_OUT_CONNECTED, 152, INT32_MIN));
    zksh_hold(H, l, f2, false);
    zksh_settle(H);
    assert_int_equal(zksh_reconnect(H, 151, f2, 153), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_CONNECTED, 153, INT32_MIN)->timeout_ms, 1000);
}

static void test_session_moved(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1), l = zksh_leader(H);
    zksh_open(H, f1, 161);
    assert_int_equal(zksh_create(H, 161, 1, "/mv", "", ZOO_PERSISTENT), ZOK);
    /* The client moves to f2 while its old connection is still up. */
    assert_int_equal(zksh_reconnect(H, 161, f2, 162), ZOK);
    const struct zksh_rec *cl = zksh_find(H, ZKS_OUT_CLOSE, 161, INT32_MIN);
    assert_non_null(cl);
    assert_int_equal(cl->err, ZSESSIONMOVED);
    assert_int_equal(zksh_create(H, 162, 1, "/mv/a", "", ZOO_PERSISTENT), ZOK);
    /* ... and to the leader, then back to f2 on one server twice. */
    assert_int_equal(zksh_reconnect(H, 162, l, 163), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 162, INT32_MIN)->err, ZSESSIONMOVED);
    assert_int_equal(zksh_reconnect(H, 163, l, 164), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 163, INT32_MIN)->err, ZSESSIONMOVED);
    assert_int_equal(zksh_create(H, 164, 1, "/mv/b", "", ZOO_PERSISTENT), ZOK);
}

static void test_bad_password_is_expired(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    int64_t sid = zksh_open(H, f, 171);
    uint8_t pw[SESSION_PASSWD_LEN] = {0};
    assert_int_equal(zksh_connect(H, f, 172, sid, pw, 0, 1000), ZSESSIONEXPIRED);
    assert_int_equal(zksh_find(H, ZKS_OUT_CONNECTED, 172, INT32_MIN)->timeout_ms, 0);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 172, INT32_MIN)->err, ZSESSIONEXPIRED);
    assert_true(zksh_client(H, 171)->open);   /* the real owner is untouched */
}

static void test_close_session(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    int64_t sid = zksh_open(H, f, 181);
    assert_int_equal(zksh_create(H, 181, 1, "/bye", "", ZOO_EPHEMERAL), ZOK);
    struct zk_request c = zksh_rq(ZOO_CLOSE_SESSION_OP, 2, NULL);
    zksh_request(H, 181, &c);
    zksh_settle(H);
    const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, 181, 2);
    const struct zksh_rec *cl = zksh_find(H, ZKS_OUT_CLOSE, 181, INT32_MIN);
    assert_non_null(r);
    assert_non_null(cl);
    assert_int_equal(r->err, ZOK);
    assert_int_equal(cl->err, ZOK);
    assert_true(zksh_index(H, r) < zksh_index(H, cl));
    for (int i = 1; i <= 3; i++) {
        assert_null(node_on(i, "/bye"));
        assert_null(zk_sm_session(zks_sm(&H->srv[i]), sid));
    }
}

static void test_set_watches_on_reconnect(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 191);
    zksh_open(H, f2, 192);
    assert_int_equal(zksh_create(H, 191, 1, "/sw", "a", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_get(H, 191, 2, "/sw", true), ZOK);
    zksh_disconnect(H, 191);
    struct zk_request sd = zksh_rq(ZOO_SETDATA_OP, 1, "/sw");
    assert_int_equal(send_wait(192, &sd), ZOK);
    assert_int_equal(zksh_count(H, ZKS_OUT_WATCH, 191), 0);
    assert_int_equal(zksh_reconnect(H, 191, f2, 193), ZOK);
    const char *paths[] = {"/sw"};
    struct zks_set_watches sw = {.xid = -8, .relative_zxid = zksh_client(H, 191)->last_zxid};
    sw.data.paths = paths;
    sw.data.count = 1;
    zks_client_set_watches(&H->srv[f2], H->now_ms, 193, &sw);
    zksh_settle(H);
    zks_output(&H->srv[f2]);
    /* The harness records outputs when it processes a server. */
    struct zk_request p = zksh_rq(ZOO_PING_OP, -2, NULL);
    zksh_request(H, 193, &p);
    const struct zksh_rec *w = zksh_find(H, ZKS_OUT_WATCH, 193, INT32_MIN);
    const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, 193, -8);
    assert_non_null(w);
    assert_non_null(r);
    assert_int_equal(w->event, ZOO_EVENT_DATA_CHANGED);
    assert_true(zksh_index(H, w) < zksh_index(H, r));
}

/* ---- leader change -------------------------------------------------------------------------- */

static void test_leader_crash_session_survives(void **state)
{
    (void)state;
    int l = zksh_leader(H), f1 = zksh_follower(H, 0);
    int64_t sid = zksh_open(H, f1, 201);
    assert_int_equal(zksh_create(H, 201, 1, "/keep", "", ZOO_EPHEMERAL), ZOK);
    zksh_crash(H, l);
    /* Learners that lost their leader stop serving and drop clients. */
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 201, INT32_MIN)->err, ZCONNECTIONLOSS);
    assert_false(zks_serving(&H->srv[f1]));
    assert_int_equal(zksh_connect(H, f1, 202, 0, NULL, 0, 1000), ZCONNECTIONLOSS);
    for (int k = 0; k < 100 && !(zksh_leader(H) && zksh_all_serving(H)); k++)
        zksh_advance(H, 100);
    int nl = zksh_leader(H);
    assert_int_not_equal(nl, 0);
    assert_int_not_equal(nl, l);
    assert_int_equal(zksh_reconnect(H, 201, nl, 203), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_CONNECTED, 203, INT32_MIN)->session_id, sid);
    assert_non_null(node_on(nl, "/keep"));
    /* The new leader tracks it: once silent, it expires there. */
    zksh_disconnect(H, 203);
    zksh_advance(H, 3000);
    assert_null(node_on(nl, "/keep"));
}

/* ---- the lock recipe ------------------------------------------------------------------------- */

static const char *lowest_child(uint64_t conn, int32_t xid)
{
    struct zk_request c = zksh_rq(ZOO_GETCHILDREN_OP, xid, "/lock");
    send_wait(conn, &c);
    const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, conn, xid);
    static char first[64];
    const char *comma = strchr(r->strs, ',');
    size_t n = comma ? (size_t)(comma - r->strs) : strlen(r->strs);
    snprintf(first, sizeof first, "%.*s", (int)n, r->strs);
    return first;
}

static void test_lock_recipe_two_sessions(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 211);
    zksh_open(H, f2, 212);
    assert_int_equal(zksh_create(H, 211, 1, "/lock", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_create(H, 211, 2, "/lock/n-", "", ZOO_EPHEMERAL_SEQUENTIAL), ZOK);
    assert_int_equal(zksh_create(H, 212, 1, "/lock/n-", "", ZOO_EPHEMERAL_SEQUENTIAL), ZOK);
    const char *a = zksh_find(H, ZKS_OUT_REPLY, 211, 2)->path;
    const char *b = zksh_find(H, ZKS_OUT_REPLY, 212, 1)->path;
    assert_string_equal(a, "/lock/n-0000000000");
    assert_string_equal(b, "/lock/n-0000000001");
    /* A holds (lowest); B watches A's node. */
    assert_string_equal(lowest_child(211, 3), "n-0000000000");
    assert_string_equal(lowest_child(212, 2), "n-0000000000");
    struct zk_request ex = zksh_rq(ZOO_EXISTS_OP, 3, a);
    ex.flags = 1;
    assert_int_equal(send_wait(212, &ex), ZOK);
    /* A releases by closing its session. */
    struct zk_request cs = zksh_rq(ZOO_CLOSE_SESSION_OP, 4, NULL);
    assert_int_equal(send_wait(211, &cs), ZOK);
    const struct zksh_rec *w = zksh_find(H, ZKS_OUT_WATCH, 212, INT32_MIN);
    assert_non_null(w);
    assert_int_equal(w->event, ZOO_EVENT_DELETED);
    assert_string_equal(w->path, a);
    /* On the event B re-reads and now holds the lock; never both. */
    assert_string_equal(lowest_child(212, 4), "n-0000000001");
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 212, 4)->n_strs, 1);
}

/* ---- watches API ------------------------------------------------------------------------------ */

static void test_persistent_watches_and_removal(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 221);
    zksh_open(H, f2, 222);
    struct zk_request aw = zksh_rq(ZOO_ADD_WATCH_OP, 1, "/tree");
    aw.flags = ZOO_ADD_WATCH_PERSISTENT_RECURSIVE;
    assert_int_equal(send_wait(222, &aw), ZOK);
    struct zk_request cw = zksh_rq(ZOO_CHECK_WATCHES_OP, 2, "/tree");
    cw.flags = ZOO_WATCHER_PERSISTENT_RECURSIVE;
    assert_int_equal(send_wait(222, &cw), ZOK);
    assert_int_equal(zksh_create(H, 221, 1, "/tree", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_create(H, 221, 2, "/tree/a", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_create(H, 221, 3, "/tree/a/b", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_count(H, ZKS_OUT_WATCH, 222), 3);   /* recursive: all three, no child events */
    struct zk_request rw = zksh_rq(ZOO_REMOVE_WATCHES_OP, 3, "/tree");
    rw.flags = ZOO_WATCHER_PERSISTENT_RECURSIVE;
    assert_int_equal(send_wait(222, &rw), ZOK);
    cw.cxid = 4;
    assert_int_equal(send_wait(222, &cw), ZNOWATCHER);
    assert_int_equal(zksh_create(H, 221, 4, "/tree/c", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_count(H, ZKS_OUT_WATCH, 222), 3);
    /* getEphemerals lists this session's ephemerals only. */
    assert_int_equal(zksh_create(H, 221, 5, "/tree/e1", "", ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zksh_create(H, 222, 5, "/tree/e2", "", ZOO_EPHEMERAL), ZOK);
    struct zk_request ge = zksh_rq(ZOO_GET_EPHEMERALS_OP, 6, "/");
    assert_int_equal(send_wait(221, &ge), ZOK);
    assert_string_equal(zksh_find(H, ZKS_OUT_REPLY, 221, 6)->strs, "/tree/e1");
}

static void test_watches_dropped_on_disconnect(void **state)
{
    (void)state;
    int f1 = zksh_follower(H, 0);
    zksh_open(H, f1, 231);
    zksh_open(H, f1, 232);
    assert_int_equal(zksh_create(H, 231, 1, "/d", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_get(H, 232, 1, "/d", true), ZOK);
    assert_int_equal(watch_conn_count(&H->srv[f1].watches, 232), 1);
    zksh_disconnect(H, 232);
    assert_int_equal(watch_conn_count(&H->srv[f1].watches, 232), 0);
    struct zk_request sd = zksh_rq(ZOO_SETDATA_OP, 2, "/d");
    assert_int_equal(send_wait(231, &sd), ZOK);
    assert_int_equal(zksh_count(H, ZKS_OUT_WATCH, 232), 0);
}

/* ---- bounds and refusals ------------------------------------------------------------------------ */

static void test_outstanding_bound_closes(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 241);
    H->srv[f].cfg.outstanding_per_conn_max = 3;
    for (int i = 1; i <= 3; i++) {
        struct zk_request c = zksh_rq(ZOO_CREATE_OP, i, "/b");
        assert_int_equal(zksh_request(H, 241, &c), ZOK);
    }
    assert_int_equal(zks_conn_outstanding(&H->srv[f], 241), 3);
    struct zk_request c = zksh_rq(ZOO_CREATE_OP, 4, "/b");
    assert_int_equal(zksh_request(H, 241, &c), ZTHROTTLEDOP);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 241, INT32_MIN)->err, ZTHROTTLEDOP);
    assert_int_equal(H->srv[f].forwarded, 0);       /* nothing left counted */
    zksh_settle(H);
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 241, 1));  /* answers for a closed connection are dropped */
    assert_non_null(node_on(f, "/b"));
}

static void test_forwarded_bound_throttles_in_order(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 251);
    H->srv[f].cfg.forwarded_max = 2;
    const char *paths[] = {"/t1", "/t2", "/t3"};
    for (int i = 0; i < 3; i++) {
        struct zk_request c = zksh_rq(ZOO_CREATE_OP, i + 1, paths[i]);
        zksh_request(H, 251, &c);
    }
    zksh_settle(H);
    const struct zksh_rec *r1 = zksh_find(H, ZKS_OUT_REPLY, 251, 1);
    const struct zksh_rec *r3 = zksh_find(H, ZKS_OUT_REPLY, 251, 3);
    assert_int_equal(r1->err, ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 251, 2)->err, ZOK);
    assert_int_equal(r3->err, ZTHROTTLEDOP);
    assert_true(zksh_index(H, r1) < zksh_index(H, r3));
    assert_null(node_on(f, "/t3"));
}

static void test_connection_bound_and_bad_ids(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    H->srv[f].cfg.conns_max = 2;
    assert_int_not_equal(zksh_open(H, f, 261), 0);
    assert_int_not_equal(zksh_open(H, f, 262), 0);
    assert_int_equal(zksh_connect(H, f, 263, 0, NULL, 0, 1000), ZTHROTTLEDOP);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 263, INT32_MIN)->err, ZTHROTTLEDOP);
    struct zks_connect_req rq = {0};
    assert_int_equal(zks_client_connect(&H->srv[f], H->now_ms, 261, &rq), ZBADARGUMENTS);
    assert_int_equal(zks_client_connect(&H->srv[f], H->now_ms, 0, &rq), ZBADARGUMENTS);
    struct zk_request p = zksh_rq(ZOO_PING_OP, -2, NULL);
    assert_int_equal(zks_client_request(&H->srv[f], H->now_ms, 999, &p), ZBADARGUMENTS);
    const struct zks_output *o = zks_output(&H->srv[f]);
    assert_int_equal(o->n_client, 0);
    zks_output_clear(&H->srv[f]);
    /* Timeouts are clamped into [2, 20] ticks. */
    zksh_disconnect(H, 262);
    zksh_connect(H, f, 264, 0, NULL, 0, 5);
    zksh_settle(H);
    assert_int_equal(zksh_find(H, ZKS_OUT_CONNECTED, 264, INT32_MIN)->timeout_ms, 200);
    zksh_disconnect(H, 264);
    zksh_connect(H, f, 265, 0, NULL, 0, 1000000);
    zksh_settle(H);
    assert_int_equal(zksh_find(H, ZKS_OUT_CONNECTED, 265, INT32_MIN)->timeout_ms, 2000);
}

/* ---- robustness ---------------------------------------------------------------------------------- */

static void test_garbage_peer_messages_ignored(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0), l = zksh_leader(H);
    zksh_open(H, f, 271);
    uint64_t x = 88172645463325252ull;
    uint8_t buf[96];
    for (int k = 0; k < 2000; k++) {
        size_t len = (size_t)(k % 96);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        if (len)
            buf[0] = ZKS_TAG_SERVER;
        if (len > 1)
            buf[1] = (uint8_t)(1 + k % 8);    /* mostly known kinds, random fields */
        int to = k % 2 ? l : f;
        zks_on_message(&H->srv[to], H->now_ms, k % 2 ? f : l, buf, len);
        zks_output_clear(&H->srv[to]);
    }
    assert_true(zksh_all_serving(H));
    assert_int_equal(zksh_create(H, 271, 1, "/still", "", ZOO_PERSISTENT), ZOK);
}

static void test_codec_round_trip_and_truncation(void **state)
{
    (void)state;
    struct zk_request ops[2] = {zksh_rq(ZOO_CREATE_OP, 0, "/a"), zksh_rq(ZOO_SETDATA_OP, 0, "/b")};
    ops[1].data = (const uint8_t *)"xyz";
    ops[1].data_len = 3;
    struct zk_id auth = {"digest", "u:h"};
    struct zk_request m = zksh_rq(ZOO_MULTI_OP, 7, NULL);
    m.ops = ops;
    m.op_count = 2;
    m.session_id = 0x1234;
    m.auth = &auth;
    m.auth_count = 1;
    size_t n = zks_req_encode(&m, NULL, 0);
    uint8_t *b = malloc(n);
    assert_int_equal(zks_req_encode(&m, b, n), n);
    struct zks_req_dec d;
    assert_int_equal(zks_req_decode(b, n, &d), ZOK);
    assert_int_equal(d.req.type, ZOO_MULTI_OP);
    assert_int_equal(d.req.cxid, 7);
    assert_int_equal(d.req.session_id, 0x1234);
    assert_int_equal(d.req.op_count, 2);
    assert_string_equal(d.req.ops[0].path, "/a");
    assert_int_equal(d.req.ops[0].acl_count, 1);
    assert_string_equal(d.req.ops[0].acl[0].id.scheme, "world");
    assert_memory_equal(d.req.ops[1].data, "xyz", 3);
    assert_string_equal(d.req.auth[0].id, "u:h");
    zks_req_dec_free(&d);
    for (size_t cut = 0; cut < n; cut++) {
        assert_int_not_equal(zks_req_decode(b, cut, &d), ZOK);
        zks_req_dec_free(&d);
    }
    b[n - 1] ^= 0xff;                    /* corrupt the last op's timeout: still decodes */
    assert_int_equal(zks_req_decode(b, n, &d), ZOK);
    zks_req_dec_free(&d);
    free(b);
    struct zks_msg msg = {.kind = ZKS_MSG_SYNC_REPLY, .session_id = 5, .cxid = 9, .zxid = 77};
    uint8_t mb[128];
    size_t mn = zks_msg_encode(&msg, mb, sizeof mb);
    assert_int_equal(mb[0], ZKS_TAG_SERVER);
    struct zks_msg back;
    assert_int_equal(zks_msg_decode(mb + 1, mn - 1, &back), ZOK);
    assert_int_equal(back.zxid, 77);
    assert_int_equal(back.cxid, 9);
    assert_int_not_equal(zks_msg_decode(mb + 1, mn - 2, &back), ZOK);
    mb[1] = 99;
    assert_int_not_equal(zks_msg_decode(mb + 1, mn - 1, &back), ZOK);
}

static void test_clone_is_independent(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 281);
    assert_int_equal(zksh_create(H, 281, 1, "/c", "", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zksh_get(H, 281, 2, "/c", true), ZOK);
    struct zk_request c = zksh_rq(ZOO_CREATE_OP, 3, "/c2");
    zksh_request(H, 281, &c);        /* in flight when copied */
    struct zk_server *copy = calloc(1, sizeof *copy);
    assert_int_equal(zks_clone(copy, &H->srv[f]), 0);
    assert_int_equal(zks_state_hash(copy), zks_state_hash(&H->srv[f]));
    assert_int_equal(zk_sm_digest(zks_sm(copy)), zk_sm_digest(zks_sm(&H->srv[f])));
    assert_int_equal(zks_conn_count(copy), 1);
    assert_int_equal(zks_conn_outstanding(copy, 281), 1);
    assert_int_equal(watch_conn_count(&copy->watches, 281), 1);
    zksh_settle(H);
    assert_int_equal(zksh_find(H, ZKS_OUT_REPLY, 281, 3)->err, ZOK);
    assert_int_equal(zks_conn_outstanding(copy, 281), 1);   /* the copy did not move */
    assert_int_not_equal(zks_state_hash(copy), zks_state_hash(&H->srv[f]));
    zksh_disconnect(H, 281);
    assert_int_equal(zks_conn_count(copy), 1);
    zks_free(copy);
    free(copy);
}

/* The same script twice gives the same outputs, byte for byte. */
static uint64_t script_hash(void)
{
    struct zksh *h = calloc(1, sizeof *h);
    struct zksh *save = H;
    H = h;
    assert_true(zksh_init(h, 3));
    int f1 = zksh_follower(h, 0), f2 = zksh_follower(h, f1);
    zksh_open(h, f1, 1);
    zksh_open(h, f2, 2);
    zksh_create(h, 1, 1, "/x", "1", ZOO_EPHEMERAL);
    zksh_get(h, 2, 1, "/x", true);
    zksh_disconnect(h, 1);
    uint64_t keep[] = {2};
    keepalive(keep, 1, 3000);
    uint64_t hash = 1469598103934665603ull;
    for (uint32_t i = 0; i < h->n_recs; i++) {
        const struct zksh_rec *r = &h->recs[i];
        uint64_t v[] = {r->kind, r->conn, (uint64_t)r->xid, (uint64_t)r->err, (uint64_t)r->zxid,
                        (uint64_t)r->event, (uint64_t)r->session_id};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            hash = (hash ^ v[k]) * 1099511628211ull;
    }
    hash ^= zk_sm_digest(zks_sm(&h->srv[f1]));
    zksh_free(h);
    free(h);
    H = save;
    return hash;
}

static void test_deterministic(void **state)
{
    (void)state;
    uint64_t a = script_hash(), b = script_hash();
    assert_int_equal(a, b);
}

/* ---- more pipeline paths ------------------------------------------------------------------------- */

static void test_observer_serves_and_forwards(void **state)
{
    (void)state;
    struct zksh *h = calloc(1, sizeof *h), *save = H;
    uint8_t roles[ZKSH_N_MAX + 1] = {0, QUORUM_VOTER, QUORUM_VOTER, QUORUM_VOTER, QUORUM_OBSERVER};
    H = h;
    assert_true(zksh_init_roles(h, 4, roles));
    assert_int_equal(zks_replica(&h->srv[4])->state, REP_OBSERVING);
    assert_true(zks_serving(&h->srv[4]));
    zksh_open(h, 4, 301);
    assert_int_equal(zksh_create(h, 301, 1, "/obs", "o", ZOO_EPHEMERAL), ZOK);
    for (int i = 1; i <= 4; i++)
        assert_non_null(node_on(i, "/obs"));
    struct zk_request sy = zksh_rq(ZOO_SYNC_OP, 2, "/obs");
    assert_int_equal(send_wait(301, &sy), ZOK);
    uint64_t c[] = {301};
    keepalive(c, 1, 3000);                     /* touches flow from the observer too */
    assert_non_null(node_on(1, "/obs"));
    zksh_free(h);
    free(h);
    H = save;
}

static void test_multi_with_read_op_is_marshalling_error(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    zksh_open(H, f, 311);
    struct zk_request ops[2] = {zksh_rq(ZOO_CREATE_OP, 0, "/mr"), zksh_rq(ZOO_GETDATA_OP, 0, "/mr")};
    struct zk_request m = zksh_rq(ZOO_MULTI_OP, 1, NULL);
    m.ops = ops;
    m.op_count = 2;
    assert_int_equal(send_wait(311, &m), ZMARSHALLINGERROR);
    assert_null(node_on(f, "/mr"));
    struct zk_request t = zksh_rq(ZOO_CREATE_TTL_OP, 2, "/ttl");
    t.flags = ZOO_PERSISTENT_WITH_TTL;
    t.ttl_ms = 1000;
    assert_int_equal(send_wait(311, &t), ZUNIMPLEMENTED);     /* extended types off */
    struct zk_request cc = zksh_rq(ZOO_CREATE_CONTAINER_OP, 3, "/cont");
    cc.flags = ZOO_CONTAINER;
    assert_int_equal(send_wait(311, &cc), ZOK);
    const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, 311, 3);
    assert_string_equal(r->path, "/cont");
    assert_true(r->has_stat);
    assert_int_equal(r->stat.ephemeral_owner, ZK_OWNER_CONTAINER);
}

static void test_write_from_old_owner_refused(void **state)
{
    (void)state;
    int l = zksh_leader(H), f1 = zksh_follower(H, 0), f2 = zksh_follower(H, f1);
    zksh_open(H, f1, 321);
    uint64_t d0 = zk_sm_digest(zks_sm(&H->srv[l]));
    zksh_hold(H, f1, l, true);               /* the write waits on f1's link */
    struct zk_request c = zksh_rq(ZOO_CREATE_OP, 1, "/late");
    zksh_request(H, 321, &c);
    assert_int_equal(zksh_reconnect(H, 321, f2, 322), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 321, INT32_MIN)->err, ZSESSIONMOVED);
    uint64_t applied = zks_last_applied(&H->srv[l]);
    zksh_hold(H, f1, l, false);
    zksh_settle(H);
    /* The leader committed it as a SESSIONMOVED error txn: a zxid, no node. */
    assert_true(zks_last_applied(&H->srv[l]) > applied);
    for (int i = 1; i <= 3; i++)
        assert_null(node_on(i, "/late"));
    assert_int_equal(zk_sm_digest(zks_sm(&H->srv[l])), d0);
}

static void test_nothing_before_connect_response(void **state)
{
    (void)state;
    int f = zksh_follower(H, 0);
    /* A client primes the connection: connect, auth, setWatches, a read,
     * a ping, all before the ConnectResponse arrives. */
    assert_int_equal(zksh_connect(H, f, 331, 0, NULL, 0, 1000), ZOK);
    struct zk_request au = zksh_rq(ZOO_SETAUTH_OP, -4, "digest");
    au.data = (const uint8_t *)"bob:pw";
    au.data_len = 6;
    zksh_request(H, 331, &au);
    struct zks_set_watches sw = {.xid = -8};
    zks_client_set_watches(&H->srv[f], H->now_ms, 331, &sw);
    struct zk_request g = zksh_rq(ZOO_EXISTS_OP, 1, "/");
    zksh_request(H, 331, &g);
    struct zk_request p = zksh_rq(ZOO_PING_OP, -2, NULL);
    zksh_request(H, 331, &p);
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 331, INT32_MIN));
    zksh_settle(H);
    const struct zksh_rec *con = zksh_find(H, ZKS_OUT_CONNECTED, 331, INT32_MIN);
    assert_non_null(con);
    int32_t xids[] = {-4, -8, 1, -2};
    int prev = zksh_index(H, con);
    for (int i = 0; i < 4; i++) {
        const struct zksh_rec *r = zksh_find(H, ZKS_OUT_REPLY, 331, xids[i]);
        assert_non_null(r);
        assert_int_equal(r->err, ZOK);
        assert_true(zksh_index(H, r) > prev);
        prev = zksh_index(H, r);
    }
    /* A bad auth before the response: just the close. */
    assert_int_equal(zksh_connect(H, f, 332, 0, NULL, 0, 1000), ZOK);
    struct zk_request bad = zksh_rq(ZOO_SETAUTH_OP, -4, "ip");
    zksh_request(H, 332, &bad);
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 332, INT32_MIN));
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 332, INT32_MIN)->err, ZAUTHFAILED);
    zksh_settle(H);
    assert_null(zksh_find(H, ZKS_OUT_CONNECTED, 332, INT32_MIN));
    assert_int_equal(H->srv[f].forwarded, 0);
}

static void isolate(int srv, bool on)
{
    for (int p = 1; p <= H->n; p++) {
        if (p != srv) {
            zksh_hold(H, srv, p, on);
            zksh_hold(H, p, srv, on);
        }
    }
}

static void test_partitioned_leader_stops_serving(void **state)
{
    (void)state;
    int l = zksh_leader(H), f1 = zksh_follower(H, 0);
    int64_t sid = zksh_open(H, l, 341);
    zksh_open(H, f1, 342);
    assert_int_equal(zksh_create(H, 341, 1, "/p", "", ZOO_EPHEMERAL), ZOK);
    isolate(l, true);
    struct zk_request c = zksh_rq(ZOO_CREATE_OP, 2, "/minority");
    zksh_request(H, 341, &c);                /* cannot commit without a quorum */
    for (int k = 0; k < 40 && !(zksh_leader(H) && zksh_leader(H) != l); k++)
        zksh_advance(H, 100);
    int nl = zksh_leader(H);
    assert_int_not_equal(nl, 0);
    assert_int_not_equal(nl, l);
    assert_false(zks_serving(&H->srv[l]));
    assert_int_equal(zksh_find(H, ZKS_OUT_CLOSE, 341, INT32_MIN)->err, ZCONNECTIONLOSS);
    assert_null(zksh_find(H, ZKS_OUT_REPLY, 341, 2));
    /* The majority goes on; the session is still there (fresh timeout). */
    assert_int_equal(zksh_reconnect(H, 341, nl, 343), ZOK);
    assert_int_equal(zksh_find(H, ZKS_OUT_CONNECTED, 343, INT32_MIN)->session_id, sid);
    assert_int_equal(zksh_create(H, 343, 1, "/majority", "", ZOO_PERSISTENT), ZOK);
    isolate(l, false);
    for (int k = 0; k < 60 && !zksh_all_serving(H); k++)
        zksh_advance(H, 100);
    assert_true(zksh_all_serving(H));
    zksh_settle(H);
    for (int i = 1; i <= 3; i++) {
        assert_non_null(node_on(i, "/majority"));
        assert_null(node_on(i, "/minority"));
        assert_non_null(node_on(i, "/p"));
    }
}

/* ---- randomized workload with crashes --------------------------------------------------------- */

#define ST_CLIENTS 6
#define ST_PENDING 64
#define ST_SEEDS 4

struct st_client {
    uint64_t conn;
    int32_t next_xid;
    int32_t pending[ST_PENDING];
    int n_pending;
    bool closed;
};

static uint64_t st_rng = 0x9e3779b97f4a7c15ull;

static uint32_t st_rand(uint32_t n)
{
    st_rng ^= st_rng << 13;
    st_rng ^= st_rng >> 7;
    st_rng ^= st_rng << 17;
    return (uint32_t)(st_rng % n);
}

/* A session never sees an older state than it already saw (replies carry
 * the server's applied zxid; reconnects to a server behind are refused). */
#define ST_SESSIONS 512
static struct { int64_t session; int64_t zxid; } st_seen[ST_SESSIONS];
static int st_n_seen;

static bool st_zxid_monotonic(const struct zksh_rec *r)
{
    struct zksh_client *zc = zksh_client(H, r->conn);
    if (zc == NULL || zc->session == 0)
        return true;
    for (int i = 0; i < st_n_seen; i++) {
        if (st_seen[i].session == zc->session) {
            if (r->zxid < st_seen[i].zxid)
                return false;
            st_seen[i].zxid = r->zxid;
            return true;
        }
    }
    if (st_n_seen < ST_SESSIONS) {
        st_seen[st_n_seen].session = zc->session;
        st_seen[st_n_seen++].zxid = r->zxid;
    }
    return true;
}

/* Checks every new record: a connection's replies come back in the order
 * the requests were sent (what ZooKeeper clients require), nothing after a
 * CLOSE. */
static void st_check(struct st_client *cl, uint32_t *seen)
{
    for (; *seen < H->n_recs; (*seen)++) {
        const struct zksh_rec *r = &H->recs[*seen];
        struct st_client *c = NULL;
        for (int i = 0; i < ST_CLIENTS; i++)
            if (cl[i].conn == r->conn)
                c = &cl[i];
        if (c == NULL)
            continue;
        assert_false(c->closed);
        if (r->kind == ZKS_OUT_CLOSE) {
            c->closed = true;
        } else if (r->kind == ZKS_OUT_REPLY && r->xid != -4 && !st_zxid_monotonic(r)) {
            fail_msg("session of conn %llu went back in time: zxid 0x%llx", (unsigned long long)r->conn,
                     (unsigned long long)r->zxid);
        }
        if (r->kind == ZKS_OUT_REPLY && r->xid > 0) {
            assert_true(c->n_pending > 0);
            assert_int_equal(r->xid, c->pending[0]);
            memmove(c->pending, c->pending + 1, (size_t)(c->n_pending - 1) * sizeof c->pending[0]);
            c->n_pending--;
        }
    }
}

static void st_request(struct st_client *c)
{
    static const char *const keys[] = {"/k0", "/k1", "/k2", "/k0/c", "/k1/c"};
    const char *k = keys[st_rand(5)];
    int32_t xid = c->next_xid++;
    uint32_t what = st_rand(8);
    struct zk_request r;
    switch (what) {
    case 0: r = zksh_rq(ZOO_CREATE_OP, xid, k); r.flags = (int32_t)st_rand(4); break;
    case 1: r = zksh_rq(ZOO_DELETE_OP, xid, k); break;
    case 2: r = zksh_rq(ZOO_SETDATA_OP, xid, k); r.data = (const uint8_t *)"v"; r.data_len = 1; break;
    case 3: r = zksh_rq(ZOO_GETDATA_OP, xid, k); r.flags = 1; break;
    case 4: r = zksh_rq(ZOO_EXISTS_OP, xid, k); r.flags = 1; break;
    case 5: r = zksh_rq(ZOO_SYNC_OP, xid, k); break;
    case 6: r = zksh_rq(ZOO_GETCHILDREN2_OP, xid, "/"); break;
    default: r = zksh_rq(ZOO_CREATE2_OP, xid, "/seq-"); r.flags = ZOO_EPHEMERAL_SEQUENTIAL; break;
    }
    assert_true(c->n_pending < ST_PENDING);
    c->pending[c->n_pending++] = xid;
    zksh_request(H, c->conn, &r);
}

static int st_serving_server(void)
{
    int cand[ZKSH_N_MAX], n = 0;
    for (int i = 1; i <= H->n; i++)
        if (H->up[i] && zks_serving(&H->srv[i]))
            cand[n++] = i;
    return n ? cand[st_rand((uint32_t)n)] : 0;
}

/* A client whose server crashed sees its socket die. */
static bool st_gone(const struct st_client *c)
{
    struct zksh_client *zc = zksh_client(H, c->conn);
    return zc == NULL || !H->up[zc->srv] || zks_conn_find(&H->srv[zc->srv], c->conn) == NULL;
}

static void st_step(struct st_client *cl, uint64_t *next_conn, int *down)
{
    struct st_client *c = &cl[st_rand(ST_CLIENTS)];
    if (c->conn && !c->closed && st_gone(c))
        c->closed = true;
    bool move = c->conn && !c->closed && zksh_client(H, c->conn) && zksh_client(H, c->conn)->open &&
                st_rand(25) == 0;
    if (c->closed || c->conn == 0 || move) {
        int srv = st_serving_server();
        if (srv) {
            uint64_t old = c->conn;
            memset(c, 0, sizeof *c);
            c->conn = (*next_conn)++;
            c->next_xid = 1;
            struct zksh_client *zc = old ? zksh_client(H, old) : NULL;
            if (zc && zc->session && st_rand(2))
                zksh_reconnect(H, old, srv, c->conn);
            else
                zksh_connect(H, srv, c->conn, 0, NULL, 0, 600);
        }
    } else if (zksh_client(H, c->conn) && zksh_client(H, c->conn)->open && c->n_pending < ST_PENDING - 1) {
        st_request(c);
    }
    uint32_t roll = st_rand(60);
    if (roll == 0 && *down == 0) {
        *down = (int)(1 + st_rand((uint32_t)H->n));
        zksh_crash(H, *down);
    } else if (roll == 1 && *down != 0) {
        zksh_restart(H, *down);
        *down = 0;
    } else if (roll < 5) {
        int a = (int)(1 + st_rand(3)), b = (int)(1 + st_rand(3));
        if (a != b)
            zksh_hold(H, a, b, true);
    } else if (roll < 7) {
        for (int a = 1; a <= 3; a++)
            for (int b = 1; b <= 3; b++)
                zksh_hold(H, a, b, false);
    }
    if (st_rand(3) == 0)
        zksh_settle(H);
    if (st_rand(4) == 0)
        zksh_advance(H, 50);
}

static void st_run(uint64_t seed)
{
    st_rng = seed;
    st_n_seen = 0;
    struct st_client cl[ST_CLIENTS];
    memset(cl, 0, sizeof cl);
    uint64_t next_conn = 1000;
    int down = 0;
    uint32_t seen = H->n_recs;
    for (int step = 0; step < 3000; step++) {
        st_step(cl, &next_conn, &down);
        st_check(cl, &seen);
    }
    /* Heal and let everything finish. */
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            zksh_hold(H, a, b, false);
    if (down)
        zksh_restart(H, down);
    for (int k = 0; k < 100 && !(zksh_leader(H) && zksh_all_serving(H)); k++)
        zksh_advance(H, 100);
    assert_true(zksh_all_serving(H));
    zksh_settle(H);
    st_check(cl, &seen);
    for (int i = 0; i < ST_CLIENTS; i++)
        if (!cl[i].closed && cl[i].conn && zksh_client(H, cl[i].conn)->open)
            assert_int_equal(cl[i].n_pending, 0);
    uint32_t kinds[5] = {0};
    for (uint32_t i = 0; i < H->n_recs; i++)
        kinds[H->recs[i].kind]++;
    if (getenv("ZKS_STRESS_VERBOSE"))
        for (int i = 0; i < ST_CLIENTS; i++) {
            struct zksh_client *zc = zksh_client(H, cl[i].conn);
            fprintf(stderr, "client %d conn %llu closed %d pending %d open %d srv %d\n", i,
                    (unsigned long long)cl[i].conn, cl[i].closed, cl[i].n_pending, zc ? zc->open : -1,
                    zc ? zc->srv : -1);
        }
    if (getenv("ZKS_STRESS_VERBOSE"))
        fprintf(stderr, "connected %u replies %u watches %u closes %u zxid %llx\n", kinds[1], kinds[2],
                kinds[3], kinds[4], (unsigned long long)zks_last_applied(&H->srv[1]));
    assert_true(kinds[ZKS_OUT_REPLY] > 200);
    uint64_t d = zk_sm_digest(zks_sm(&H->srv[1]));
    for (int i = 2; i <= 3; i++) {
        assert_int_equal(zks_last_applied(&H->srv[i]), zks_last_applied(&H->srv[1]));
        assert_int_equal(zk_sm_digest(zks_sm(&H->srv[i])), d);
    }
}

static void test_random_workload_with_crashes(void **state)
{
    for (uint64_t seed = 1; seed <= ST_SEEDS; seed++) {
        if (seed > 1)
            assert_int_equal(setup(state), 0);
        st_run(seed * 0x9e3779b97f4a7c15ull);
        if (seed < ST_SEEDS)
            teardown(state);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_on_follower_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_local_and_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_answered_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_waits_for_own_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_before_read_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_on_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pings_keep_session_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_removes_ephemerals_and_fires_watches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnected_session_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_other_server_keeps_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_to_stale_server_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_password_is_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_watches_on_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leader_crash_session_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_recipe_two_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent_watches_and_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watches_dropped_on_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outstanding_bound_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forwarded_bound_throttles_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_bound_and_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_peer_messages_ignored, setup, teardown),
        cmocka_unit_test(test_codec_round_trip_and_truncation),
        cmocka_unit_test_setup_teardown(test_clone_is_independent, setup, teardown),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_observer_serves_and_forwards),
        cmocka_unit_test_setup_teardown(test_multi_with_read_op_is_marshalling_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_from_old_owner_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_before_connect_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partitioned_leader_stops_serving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_workload_with_crashes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
