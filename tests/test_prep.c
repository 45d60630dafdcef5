/* Request -> txn -> apply against ZooKeeper's documented behaviour: every
 * write op and error code, Stat fields, sequential naming, ACLs, multi
 * atomicity, the outstanding-changes overlay, sessions and closeSession. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/acl.h"
#include "tests/support/zkh.h"

static int setup(void **state)
{
    struct zkh *h = malloc(sizeof *h);
    zkh_init(h, false, false);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    zkh_free(*state);
    free(*state);
    return 0;
}

static void create_stat_and_parent(void **state)
{
    struct zkh *h = *state;
    const struct tree_node *root = zkh_node(h, "/");
    int32_t cv = root->stat.cversion;
    assert_int_equal(zkh_create(h, "/a", "hello", ZOO_PERSISTENT), ZOK);
    int64_t z = h->zxid;
    const struct zk_op_result *r = &h->out.results[0];
    assert_int_equal(r->err, ZOK);
    assert_string_equal(zkh_created(h), "/a");
    assert_int_equal(r->stat.czxid, z);
    assert_int_equal(r->stat.mzxid, z);
    assert_int_equal(r->stat.pzxid, z);
    assert_int_equal(r->stat.ctime_ms, h->time_ms);
    assert_int_equal(r->stat.mtime_ms, h->time_ms);
    assert_int_equal(r->stat.version, 0);
    assert_int_equal(r->stat.cversion, 0);
    assert_int_equal(r->stat.aversion, 0);
    assert_int_equal(r->stat.ephemeral_owner, 0);
    assert_int_equal(r->stat.data_length, 5);
    assert_int_equal(r->stat.num_children, 0);
    root = zkh_node(h, "/");
    assert_int_equal(root->stat.cversion, cv + 1);
    assert_int_equal(root->stat.pzxid, z);
    assert_int_equal(root->stat.num_children, 2);
    assert_int_equal(zk_sm_last_applied(&h->sm), (uint64_t)z);
    /* Ephemeral owner is the session. */
    assert_int_equal(zkh_create(h, "/e", NULL, ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zkh_node(h, "/e")->stat.ephemeral_owner, h->session);
}

struct err_case {
    int32_t type;
    const char *path;
    int32_t version;
    int32_t flags;
    int want;
};

static void error_table(void **state)
{
    struct zkh *h = *state;
    assert_int_equal(zkh_create(h, "/a", "x", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zkh_create(h, "/a/b", "x", ZOO_PERSISTENT), ZOK);
    assert_int_equal(zkh_create(h, "/e", NULL, ZOO_EPHEMERAL), ZOK);
    static const struct err_case cases[] = {
        {ZOO_CREATE_OP, "/a", 0, ZOO_PERSISTENT, ZNODEEXISTS},
        {ZOO_CREATE_OP, "/x/y", 0, ZOO_PERSISTENT, ZNONODE},
        {ZOO_CREATE_OP, "bad", 0, ZOO_PERSISTENT, ZBADARGUMENTS},
        {ZOO_CREATE_OP, "/a/", 0, ZOO_PERSISTENT, ZBADARGUMENTS},
        {ZOO_CREATE_OP, "/a/../b", 0, ZOO_PERSISTENT, ZBADARGUMENTS},
        {ZOO_CREATE_OP, NULL, 0, ZOO_PERSISTENT, ZBADARGUMENTS},
        {ZOO_CREATE_OP, "/e/c", 0, ZOO_PERSISTENT, ZNOCHILDRENFOREPHEMERALS},
        {ZOO_CREATE_OP, "/", 0, ZOO_PERSISTENT, ZNODEEXISTS},
        {ZOO_CREATE_OP, "/zookeeper", 0, ZOO_PERSISTENT, ZNODEEXISTS},
        {ZOO_CREATE_OP, "/f", 0, 7, ZBADARGUMENTS},
        {ZOO_CREATE_OP, "/f", 0, -1, ZBADARGUMENTS},
        {ZOO_CREATE_TTL_OP, "/f", 0, ZOO_PERSISTENT_WITH_TTL, ZUNIMPLEMENTED},
        {ZOO_CREATE_OP, "/zookeeper/config/x", 0, ZOO_PERSISTENT, ZNOAUTH},
        {ZOO_DELETE_OP, "/nope", -1, 0, ZNONODE},
        {ZOO_DELETE_OP, "/a/b", 5, 0, ZBADVERSION},
        {ZOO_DELETE_OP, "/a", -1, 0, ZNOTEMPTY},
        {ZOO_DELETE_OP, "/zookeeper", -1, 0, ZBADARGUMENTS},
        {ZOO_DELETE_OP, "/zookeeper/quota", -1, 0, ZBADARGUMENTS},
        {ZOO_DELETE_OP, "/", -1, 0, ZBADARGUMENTS},
        {ZOO_DELETE_OP, "/x/y", -1, 0, ZNONODE},
        {ZOO_SETDATA_OP, "/a", 3, 0, ZBADVERSION},
        {ZOO_SETDATA_OP, "/nope", -1, 0, ZNONODE},
        {ZOO_SETDATA_OP, "//", -1, 0, ZBADARGUMENTS},
        {ZOO_SETDATA_OP, "/zookeeper/config", -1, 0, ZNOAUTH},
        {ZOO_SETACL_OP, "/a", 2, 0, ZBADVERSION},
        {ZOO_SETACL_OP, "/nope", -1, 0, ZNONODE},
        {ZOO_CHECK_OP, "/a", 0, 0, ZOK},
        {ZOO_CHECK_OP, "/a", 1, 0, ZBADVERSION},
        {ZOO_CHECK_OP, "/nope", -1, 0, ZNONODE},
        {ZOO_DELETE_CONTAINER_OP, "/e", -1, 0, ZBADVERSION},
        {ZOO_DELETE_CONTAINER_OP, "/a", -1, 0, ZNOTEMPTY},
        {ZOO_DELETE_CONTAINER_OP, "/zookeeper", -1, 0, ZBADARGUMENTS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct err_case *c = &cases[i];
        struct zk_request r = zkh_req(h, c->type, c->path);
        r.version = c->version;
        r.flags = c->flags;
        uint64_t digest = zk_sm_digest(&h->sm);
        uint64_t last = zk_sm_last_applied(&h->sm);
        int got = zkh_submit(h, &r);
        if (got != c->want)
            fail_msg("case %zu (%d %s): got %s want %s", i, c->type, c->path ? c->path : "NULL",
                     zk_err_name(got), zk_err_name(c->want));
        /* A failed write is an error txn: a zxid is used, nothing changes. */
        assert_int_equal(zk_sm_last_applied(&h->sm), last + 1);
        if (c->want != ZOK) {
            assert_int_equal(zk_sm_digest(&h->sm), digest);
            assert_int_equal(h->out.type, ZOO_ERROR_OP);
            assert_int_equal(h->out.err, c->want);
        }
    }
    /* Reads are not prep's: answered locally, no txn. */
    struct zk_request rd = zkh_req(h, ZOO_GETDATA_OP, "/a");
    uint64_t last = zk_sm_last_applied(&h->sm);
    assert_int_equal(zkh_submit(h, &rd), ZUNIMPLEMENTED);
    assert_int_equal(zk_sm_last_applied(&h->sm), last);
}

static void oversize_data_and_invalid_acl(void **state)
{
    struct zkh *h = *state;
    static uint8_t big[ZK_DATA_MAX_DEFAULT + 1];
    struct zk_request r = zkh_req(h, ZOO_CREATE_OP, "/big");
    r.data = big;
    r.data_len = sizeof big;
    assert_int_equal(zkh_submit(h, &r), ZBADARGUMENTS);
    r.data_len = sizeof big - 1;
    assert_int_equal(zkh_submit(h, &r), ZOK);
    struct zk_request s = zkh_req(h, ZOO_SETDATA_OP, "/big");
    s.data = big;
    s.data_len = sizeof big;
    assert_int_equal(zkh_submit(h, &s), ZBADARGUMENTS);
    struct zk_request nul = zkh_req(h, ZOO_CREATE_OP, "/nuldata");
    nul.data_len = 3; /* data NULL */
    assert_int_equal(zkh_submit(h, &nul), ZBADARGUMENTS);
    struct zk_request c = zkh_req(h, ZOO_CREATE_OP, "/noacl");
    c.acl_count = 0;
    assert_int_equal(zkh_submit(h, &c), ZINVALIDACL);
    struct zk_acl bad = {ZOO_PERM_ALL, {"nosuch", "x"}};
    c.acl = &bad;
    c.acl_count = 1;
    assert_int_equal(zkh_submit(h, &c), ZINVALIDACL);
    struct zk_acl auth = {ZOO_PERM_ALL, {"auth", ""}};
    c.acl = &auth; /* no authenticated id to stand for */
    assert_int_equal(zkh_submit(h, &c), ZINVALIDACL);
    struct zk_acl baddigest = {ZOO_PERM_ALL, {"digest", "nocolon"}};
    c.acl = &baddigest;
    assert_int_equal(zkh_submit(h, &c), ZINVALIDACL);
    static const char *const digest_ids[][2] = {
        {"a:b", "ok"}, {"a:b:", "ok"}, {":b", "ok"}, {"a:", "bad"}, {"a::b", "bad"}, {"a:b:c", "bad"}, {"", "bad"}};
    for (int i = 0; i < 7; i++) {
        struct zk_acl d = {ZOO_PERM_ALL, {"digest", ""}};
        strcpy(d.id.id, digest_ids[i][0]);
        char path[16];
        snprintf(path, sizeof path, "/dig%d", i);
        struct zk_request dr = zkh_req(h, ZOO_CREATE_OP, path);
        dr.acl = &d;
        dr.acl_count = 1;
        int want = strcmp(digest_ids[i][1], "ok") == 0 ? ZOK : ZINVALIDACL;
        if (zkh_submit(h, &dr) != want)
            fail_msg("digest id \"%s\" should be %s", digest_ids[i][0], digest_ids[i][1]);
    }
    struct zk_acl badip = {ZOO_PERM_ALL, {"ip", "300.1.1.1"}};
    c.acl = &badip;
    assert_int_equal(zkh_submit(h, &c), ZINVALIDACL);
    struct zk_request sa = zkh_req(h, ZOO_SETACL_OP, "/big");
    sa.acl_count = 0;
    assert_int_equal(zkh_submit(h, &sa), ZINVALIDACL);
}

static void set_data_and_acl_stats(void **state)
{
    struct zkh *h = *state;
    assert_int_equal(zkh_create(h, "/s", "1", ZOO_PERSISTENT), ZOK);
    int64_t cz = h->zxid;
    assert_int_equal(zkh_set(h, "/s", "22", 0), ZOK);
    const struct zk_stat *st = &h->out.results[0].stat;
    assert_int_equal(st->version, 1);
    assert_int_equal(st->mzxid, h->zxid);
    assert_int_equal(st->czxid, cz);
    assert_int_equal(st->mtime_ms, h->time_ms);
    assert_int_equal(st->data_length, 2);
    assert_int_equal(zkh_set(h, "/s", "333", -1), ZOK);
    assert_int_equal(h->out.results[0].stat.version, 2);
    assert_int_equal(zkh_set(h, "/s", "4", 1), ZBADVERSION);
    struct zk_request r = zkh_req(h, ZOO_SETACL_OP, "/s");
    r.version = 0;
    assert_int_equal(zkh_submit(h, &r), ZOK);
    assert_int_equal(h->out.results[0].stat.aversion, 1);
    assert_int_equal(h->out.results[0].stat.version, 2);
    assert_int_equal(zkh_submit(h, &r), ZBADVERSION);
    /* The version after -2 is 0: -1 means "any" and is never a version. */
    tree_set_data(&h->sm.tree, "/s", 2, NULL, 0, -2, h->zxid, 0, NULL);
    assert_int_equal(zkh_set(h, "/s", "x", -2), ZOK);
    assert_int_equal(zkh_node(h, "/s")->stat.version, 0);
    tree_set_data(&h->sm.tree, "/s", 2, NULL, 0, INT32_MAX, h->zxid, 0, NULL);
    assert_int_equal(zkh_set(h, "/s", "x", INT32_MAX), ZOK);
    assert_int_equal(zkh_node(h, "/s")->stat.version, INT32_MIN);
}

static void sequential_names(void **state)
{
    struct zkh *h = *state;
    assert_int_equal(zkh_create(h, "/q", NULL, ZOO_PERSISTENT), ZOK);
    assert_int_equal(zkh_create(h, "/q/n-", NULL, ZOO_PERSISTENT_SEQUENTIAL), ZOK);
    assert_string_equal(zkh_created(h), "/q/n-0000000000");
    assert_int_equal(zkh_create(h, "/q/n-", NULL, ZOO_EPHEMERAL_SEQUENTIAL), ZOK);
    assert_string_equal(zkh_created(h), "/q/n-0000000001");
    assert_non_null(zkh_node(h, "/q/n-0000000001"));
    /* Deleting children does not reuse numbers: cversion only grows. */
    assert_int_equal(zkh_delete(h, "/q/n-0000000001", -1), ZOK);
    assert_int_equal(zkh_delete(h, "/q/n-0000000000", -1), ZOK);
    assert_int_equal(zkh_node(h, "/q")->stat.cversion, 2);
    assert_int_equal(zkh_node(h, "/q")->stat.pzxid, h->zxid);
    /* A plain child create also bumps the counter. */
    assert_int_equal(zkh_create(h, "/q/plain", NULL, ZOO_PERSISTENT), ZOK);
    assert_int_equal(zkh_create(h, "/q/", NULL, ZOO_PERSISTENT_SEQUENTIAL), ZOK);
    assert_string_equal(zkh_created(h), "/q/0000000003");
    /* Sequential directly under the root. */
    int32_t rcv = zkh_node(h, "/")->stat.cversion;
    char want[32];
    snprintf(want, sizeof want, "/%010d", rcv);
    assert_int_equal(zkh_create(h, "/", NULL, ZOO_PERSISTENT_SEQUENTIAL), ZOK);
    assert_string_equal(zkh_created(h), want);
    /* Signed wrap of the counter, as %010d of a Java int. */
    struct zk_acl a = {ZOO_PERM_ALL, {"world", "anyone"}};
    tree_create(&h->sm.tree, "/w", 2, NULL, 0, &a, 1, 0, 0, h->zxid, 0, NULL);
    tree_create(&h->sm.tree, "/w/k", 4, NULL, 0, &a, 1, 0, INT32_MAX, h->zxid, 0, NULL);
    assert_int_equal(zkh_create(h, "/w/s", NULL, ZOO_PERSISTENT_SEQUENTIAL), ZOK);
    assert_string_equal(zkh_created(h), "/w/s2147483647");
    assert_int_equal(zkh_create(h, "/w/s", NULL, ZOO_PERSISTENT_SEQUENTIAL), ZOK);
    assert_string_equal(zkh_created(h), "/w/s-2147483648");
}

static void set_auth(struct zkh *h, const char *scheme, const char *id)
{
    memset(&h->auth[h->auth_count], 0, sizeof h->auth[0]);
    strcpy(h->auth[h->auth_count].scheme, scheme);
    strcpy(h->auth[h->auth_count].id, id);
    h->auth_count++;
}

static void acl_checks(void **state)
{
    struct zkh *h = *state;
    char alice[64];
    acl_digest_id("alice:pw", 8, alice, sizeof alice);
    struct zk_acl acl[2] = {{ZOO_PERM_ALL, {"digest", ""}}, {ZOO_PERM_READ, {"world", "anyone"}}};
    strcpy(acl[0].id.id, alice);
    struct zk_request r = zkh_req(h, ZOO_CREATE_OP, "/secret");
    r.acl = acl;
    r.acl_count = 2;
    assert_int_equal(zkh_submit(h, &r), ZOK);
    assert_int_equal(zkh_set(h, "/secret", "x", -1), ZNOAUTH);
    assert_int_equal(zkh_create(h, "/secret/kid", NULL, 0), ZNOAUTH);
    struct zk_request chk = zkh_req(h, ZOO_CHECK_OP, "/secret");
    assert_int_equal(zkh_submit(h, &chk), ZOK); /* READ is open */
    set_auth(h, "digest", "bob:AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_int_equal(zkh_set(h, "/secret", "x", -1), ZNOAUTH);
    set_auth(h, "digest", alice);
    assert_int_equal(zkh_set(h, "/secret", "x", -1), ZOK);
    assert_int_equal(zkh_create(h, "/secret/kid", NULL, 0), ZOK);
    /* auth scheme: replaced by the creator's authenticated digest ids. */
    struct zk_acl creator = {ZOO_PERM_ALL, {"auth", ""}};
    r = zkh_req(h, ZOO_CREATE_OP, "/mine");
    r.acl = &creator;
    r.acl_count = 1;
    assert_int_equal(zkh_submit(h, &r), ZOK);
    const struct tree_node *n = zkh_node(h, "/mine");
    uint32_t nacl_count;
    const struct zk_acl *nacl = tree_node_acl(&h->sm.tree, n, &nacl_count);
    assert_int_equal(nacl_count, 2);
    assert_string_equal(nacl[0].id.scheme, "digest");
    assert_string_equal(nacl[1].id.id, alice);
    h->auth_count = 0;
    assert_int_equal(zkh_delete(h, "/secret/kid", -1), ZNOAUTH);
    /* super bypasses every ACL. */
    set_auth(h, "super", "");
    assert_int_equal(zkh_delete(h, "/secret/kid", -1), ZOK);
    assert_int_equal(zkh_set(h, "/zookeeper/config", "x", -1), ZOK);
    h->auth_count = 0;
    /* ip ACLs match by prefix. */
    struct zk_acl ip = {ZOO_PERM_ALL, {"ip", "10.0.0.0/8"}};
    r = zkh_req(h, ZOO_CREATE_OP, "/net");
    r.acl = &ip;
    r.acl_count = 1;
    assert_int_equal(zkh_submit(h, &r), ZOK);
    set_auth(h, "ip", "11.1.2.3");
    assert_int_equal(zkh_set(h, "/net", "x", -1), ZNOAUTH);
    h->auth_count = 0;
    set_auth(h, "ip", "10.1.2.3");
    assert_int_equal(zkh_set(h, "/net", "x", -1), ZOK);
    /* setACL needs ADMIN. */
    struct zk_acl ro = {ZOO_PERM_READ | ZOO_PERM_WRITE, {"world", "anyone"}};
    r = zkh_req(h, ZOO_SETACL_OP, "/net");
    r.acl = &ro;
    r.acl_count = 1;
    assert_int_equal(zkh_submit(h, &r), ZOK);
    assert_int_equal(zkh_submit(h, &r), ZNOAUTH);
}

static void multi_success_one_zxid(void **state)
{
    struct zkh *h = *state;
    struct zk_request ops[4] = {
        zkh_req(h, ZOO_CREATE_OP, "/m"),
        zkh_req(h, ZOO_CREATE2_OP, "/m/kid"), /* sees /m through the overlay */
        zkh_req(h, ZOO_SETDATA_OP, "/m"),
        zkh_req(h, ZOO_CHECK_OP, "/m"),
    };
    ops[2].data = (const uint8_t *)"v";
    ops[2].data_len = 1;
    ops[2].version = 0;
    ops[3].version = 1; /* the pending setData made it 1 */
    struct zk_request m = zkh_req(h, ZOO_MULTI_OP, NULL);
    m.ops = ops;
    m.op_count = 4;
    int64_t before = h->zxid;
    assert_int_equal(zkh_submit(h, &m), ZOK);
    int64_t last = h->zxid - 1;
    assert_int_equal(h->zxid, before + 1);
    assert_int_equal(zk_sm_last_applied(&h->sm), (uint64_t)h->zxid);
    assert_int_equal(h->out.result_count, 4);
    assert_int_equal(h->out.results[0].type, ZOO_CREATE_OP);
    assert_int_equal(h->out.results[1].type, ZOO_CREATE2_OP);
    assert_string_equal(zk_apply_out_str(&h->out, h->out.results[1].path_off), "/m/kid");
    assert_int_equal(h->out.results[2].type, ZOO_SETDATA_OP);
    assert_int_equal(h->out.results[2].stat.version, 1);
    assert_int_equal(h->out.results[3].type, ZOO_CHECK_OP);
    for (int i = 0; i < 4; i++)
        assert_int_equal(h->out.results[i].err, ZOK);
    const struct tree_node *n = zkh_node(h, "/m");
    assert_int_equal(n->stat.czxid, last + 1);
    assert_int_equal(n->stat.mzxid, last + 1);
    assert_int_equal(zkh_node(h, "/m/kid")->stat.czxid, last + 1);
    assert_int_equal(prep_outstanding(&h->prep), 0);
}

static void multi_failure_applies_nothing(void **state)
{
    struct zkh *h = *state;
    assert_int_equal(zkh_create(h, "/keep", "k", 0), ZOK);
    struct zk_request ops[4] = {
        zkh_req(h, ZOO_CREATE_OP, "/f1"),
        zkh_req(h, ZOO_SETDATA_OP, "/keep"),
        zkh_req(h, ZOO_DELETE_OP, "/missing"),
        zkh_req(h, ZOO_CREATE_OP, "/f2"),
    };
    struct zk_request m = zkh_req(h, ZOO_MULTI_OP, NULL);
    m.ops = ops;
    m.op_count = 4;
    uint64_t digest = zk_sm_digest(&h->sm), last = zk_sm_last_applied(&h->sm);
    assert_int_equal(zkh_submit(h, &m), ZNONODE);
    assert_int_equal(zk_sm_last_applied(&h->sm), last + 1);
    assert_int_equal(zk_sm_digest(&h->sm), digest);
    assert_null(zkh_node(h, "/f1"));
    assert_int_equal(zkh_node(h, "/keep")->stat.version, 0);
    assert_int_equal(h->out.type, ZOO_MULTI_OP);
    assert_int_equal(h->out.result_count, 4);
    static const int want[4] = {ZOK, ZOK, ZNONODE, ZRUNTIMEINCONSISTENCY};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(h->out.results[i].type, ZOO_ERROR_OP);
        assert_int_equal(h->out.results[i].err, want[i]);
    }
    assert_int_equal(h->out.trigger_count, 0);
    /* The failed multi's overlay records were rolled back. */
    assert_int_equal(zkh_create(h, "/f1", NULL, 0), ZOK);
    /* setACL is not a multi op: the whole request is malformed. */
    struct zk_request bad[1] = {zkh_req(h, ZOO_SETACL_OP, "/keep")};
    m.ops = bad;
    m.op_count = 1;
    assert_int_equal(zkh_submit(h, &m), ZMARSHALLINGERROR);
    assert_int_equal(h->out.type, ZOO_ERROR_OP);
}

static void multi_data_limit_and_small_buffer(void **state)
{
    struct zkh *h = *state;
    static uint8_t half[ZK_DATA_MAX_DEFAULT / 2 + 1];
    struct zk_request ops[2] = {zkh_req(h, ZOO_CREATE_OP, "/h1"), zkh_req(h, ZOO_CREATE_OP, "/h2")};
    for (int i = 0; i < 2; i++) {
        ops[i].data = half;
        ops[i].data_len = sizeof half;
    }
    struct zk_request m = zkh_req(h, ZOO_MULTI_OP, NULL);
    m.ops = ops;
    m.op_count = 2;
    /* Two halves are more than one request may carry. */
    assert_int_equal(zkh_submit(h, &m), ZBADARGUMENTS);
    assert_int_equal(h->out.type, ZOO_ERROR_OP);
    assert_null(zkh_node(h, "/h1"));
    /* A buffer too small: told the size, nothing changes, retry works. */
    ops[1].data_len = 10;
    struct prep_result res;
    static uint8_t tiny[64], big[ZK_DATA_MAX_DEFAULT];
    uint32_t before = prep_outstanding(&h->prep);
    int64_t z = h->zxid + 1;
    assert_int_equal(prep_request(&h->prep, &h->sm.tree, NULL, &m, z, 1, tiny, sizeof tiny, &res), ZBADARGUMENTS);
    assert_false(res.has_txn);
    assert_true(res.txn_len > sizeof half);
    assert_int_equal(prep_outstanding(&h->prep), before);
    size_t need = res.txn_len;
    assert_int_equal(prep_request(&h->prep, &h->sm.tree, NULL, &m, z, 1, big, sizeof big, &res), ZOK);
    assert_true(res.has_txn);
    assert_int_equal(res.txn_len, need);
    assert_int_equal(zk_sm_apply(&h->sm, (uint64_t)z, big, res.txn_len, &h->out), ZOK);
    prep_applied(&h->prep, z);
    h->zxid = z;
    assert_non_null(zkh_node(h, "/h1"));
    assert_int_equal(tree_node_data_len(zkh_node(h, "/h2")), 10);
}

static void overlay_pipelining(void **state)
{
    struct zkh *h = *state;
    struct zk_request c = zkh_req(h, ZOO_CREATE_OP, "/p");
    assert_int_equal(zkh_propose(h, &c), ZOK);
    struct zk_request c2 = zkh_req(h, ZOO_CREATE_OP, "/p/c");
    assert_int_equal(zkh_propose(h, &c2), ZOK);
    assert_int_equal(zkh_propose(h, &c), ZNODEEXISTS);
    struct zk_request s = zkh_req(h, ZOO_SETDATA_OP, "/p");
    s.version = 0;
    assert_int_equal(zkh_propose(h, &s), ZOK);
    assert_int_equal(zkh_propose(h, &s), ZBADVERSION);
    struct zk_request d = zkh_req(h, ZOO_DELETE_OP, "/p");
    assert_int_equal(zkh_propose(h, &d), ZNOTEMPTY);
    struct zk_request seq = zkh_req(h, ZOO_CREATE_OP, "/p/s");
    seq.flags = ZOO_PERSISTENT_SEQUENTIAL;
    assert_int_equal(zkh_propose(h, &seq), ZOK);
    assert_int_equal(zkh_propose(h, &seq), ZOK);
    assert_null(zkh_node(h, "/p"));
    assert_true(prep_outstanding(&h->prep) > 0);
    while (h->queued > 0)
        assert_int_equal(zkh_apply_next(h), ZOK);
    assert_int_equal(prep_outstanding(&h->prep), 0);
    assert_int_equal(zkh_node(h, "/p")->stat.version, 1);
    assert_non_null(zkh_node(h, "/p/s0000000001"));
    assert_non_null(zkh_node(h, "/p/s0000000002"));
    assert_int_equal(zkh_node(h, "/p")->stat.num_children, 3);
    /* Pending delete then re-create under the same name. */
    struct zk_request dc = zkh_req(h, ZOO_DELETE_OP, "/p/c");
    assert_int_equal(zkh_propose(h, &dc), ZOK);
    assert_int_equal(zkh_propose(h, &dc), ZNONODE);
    assert_int_equal(zkh_propose(h, &c2), ZOK);
    while (h->queued > 0)
        assert_int_equal(zkh_apply_next(h), ZOK);
    assert_non_null(zkh_node(h, "/p/c"));
}

/* A copied leader (state machine + overlay) continues exactly like the
 * original: the explorer relies on this. */
static void clone_mid_pipeline(void **state)
{
    struct zkh *h = *state;
    struct zk_request a = zkh_req(h, ZOO_CREATE_OP, "/c");
    struct zk_request b = zkh_req(h, ZOO_CREATE_OP, "/c/s");
    b.flags = ZOO_PERSISTENT_SEQUENTIAL;
    assert_int_equal(zkh_propose(h, &a), ZOK);
    assert_int_equal(zkh_propose(h, &b), ZOK);
    struct prep pc;
    struct zk_sm sc;
    assert_int_equal(prep_clone(&pc, &h->prep), ZOK);
    assert_int_equal(zk_sm_clone(&sc, &h->sm), ZOK);
    assert_int_equal(prep_outstanding(&pc), prep_outstanding(&h->prep));
    /* Same next request on both: same txn bytes. */
    static uint8_t b1[4096], b2[4096];
    struct prep_result r1, r2;
    int64_t z = h->zxid + 1;
    assert_int_equal(prep_request(&h->prep, &h->sm.tree, NULL, &b, z, 5, b1, sizeof b1, &r1), ZOK);
    assert_int_equal(prep_request(&pc, &sc.tree, NULL, &b, z, 5, b2, sizeof b2, &r2), ZOK);
    assert_int_equal(r1.txn_len, r2.txn_len);
    assert_memory_equal(b1, b2, r1.txn_len);
    /* Diverge the original; the copy is unaffected. */
    prep_applied(&h->prep, z);
    assert_int_equal(prep_outstanding(&h->prep), 0);
    assert_true(prep_outstanding(&pc) > 0);
    prep_free(&pc);
    zk_sm_free(&sc);
    while (h->queued > 0)
        zkh_apply_next(h);
}

/* ZAB numbers proposals itself: prepare with a guess, then retag with the
 * real zxid, or cancel when the proposal is refused. */
static void retag_and_cancel(void **state)
{
    struct zkh *h = *state;
    static uint8_t buf[4096];
    struct prep_result res;
    struct zk_request a = zkh_req(h, ZOO_CREATE_OP, "/r");
    int64_t guess = h->zxid + 1, real = h->zxid + 7;
    assert_int_equal(prep_request(&h->prep, &h->sm.tree, NULL, &a, guess, 1, buf, sizeof buf, &res), ZOK);
    prep_retag_last(&h->prep, real);
    prep_applied(&h->prep, guess); /* the guess is not the real zxid: nothing dropped */
    assert_int_equal(prep_outstanding(&h->prep), 2);
    assert_int_equal(zk_sm_apply(&h->sm, (uint64_t)real, buf, res.txn_len, &h->out), ZOK);
    prep_applied(&h->prep, real);
    assert_int_equal(prep_outstanding(&h->prep), 0);
    h->zxid = real;
    assert_int_equal(zkh_node(h, "/r")->stat.czxid, real);
    /* A refused proposal: its records go, the next request does not see it. */
    struct zk_request b = zkh_req(h, ZOO_CREATE_OP, "/refused");
    assert_int_equal(prep_request(&h->prep, &h->sm.tree, NULL, &b, real + 1, 1, buf, sizeof buf, &res), ZOK);
    assert_int_equal(prep_outstanding(&h->prep), 2);
    prep_cancel_last(&h->prep);
    assert_int_equal(prep_outstanding(&h->prep), 0);
    struct zk_request kid = zkh_req(h, ZOO_CREATE_OP, "/refused/kid");
    assert_int_equal(zkh_submit(h, &kid), ZNONODE);
}

static void overlay_bound_throttles(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    prep_free(&h.prep);
    struct prep_config pc = {.max_outstanding = 4};
    prep_init(&h.prep, &pc);
    struct zk_request a = zkh_req(&h, ZOO_CREATE_OP, "/a");
    struct zk_request b = zkh_req(&h, ZOO_CREATE_OP, "/b");
    struct zk_request c = zkh_req(&h, ZOO_CREATE_OP, "/c");
    assert_int_equal(zkh_propose(&h, &a), ZOK);
    assert_int_equal(zkh_propose(&h, &b), ZOK);
    uint32_t q = h.queued;
    assert_int_equal(zkh_propose(&h, &c), ZTHROTTLEDOP);
    assert_int_equal(h.queued, q); /* no txn */
    assert_int_equal(prep_outstanding(&h.prep), 4);
    zkh_apply_next(&h);
    assert_int_equal(zkh_propose(&h, &c), ZOK);
    while (h.queued > 0)
        zkh_apply_next(&h);
    zkh_free(&h);
}

static void ttl_and_container(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, true);
    struct zk_request r = zkh_req(&h, ZOO_CREATE_TTL_OP, "/t");
    r.flags = ZOO_PERSISTENT_WITH_TTL;
    r.ttl_ms = 0;
    assert_int_equal(zkh_submit(&h, &r), ZBADARGUMENTS);
    r.ttl_ms = ZK_TTL_MAX_MS + 1;
    assert_int_equal(zkh_submit(&h, &r), ZBADARGUMENTS);
    r.ttl_ms = 5000;
    r.flags = ZOO_PERSISTENT;
    assert_int_equal(zkh_submit(&h, &r), ZBADARGUMENTS);
    r.flags = ZOO_PERSISTENT_WITH_TTL;
    assert_int_equal(zkh_submit(&h, &r), ZOK);
    assert_int_equal(zkh_node(&h, "/t")->stat.ephemeral_owner, tree_ttl_owner(5000));
    assert_true(tree_owner_is_ttl(zkh_node(&h, "/t")->stat.ephemeral_owner));
    struct zk_request c = zkh_req(&h, ZOO_CREATE_CONTAINER_OP, "/box");
    c.flags = ZOO_CONTAINER;
    assert_int_equal(zkh_submit(&h, &c), ZOK);
    assert_int_equal(zkh_node(&h, "/box")->stat.ephemeral_owner, ZK_OWNER_CONTAINER);
    assert_int_equal(zkh_create(&h, "/box/x", NULL, 0), ZOK);
    struct zk_request dc = zkh_req(&h, ZOO_DELETE_CONTAINER_OP, "/box");
    assert_int_equal(zkh_submit(&h, &dc), ZNOTEMPTY);
    assert_int_equal(zkh_delete(&h, "/box/x", -1), ZOK);
    assert_int_equal(zkh_submit(&h, &dc), ZOK);
    assert_null(zkh_node(&h, "/box"));
    zkh_free(&h);
}

static void session_checks(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, true, false);
    h.session = 777;
    assert_int_equal(zkh_create(&h, "/a", NULL, 0), ZUNKNOWNSESSION);
    int32_t to = 4000;
    int64_t sid;
    assert_int_equal(session_create(&h.tr, &to, 9, 1000, &sid), ZOK);
    h.session = sid;
    assert_int_equal(zkh_create(&h, "/a", NULL, 0), ZOK);
    session_set_owner(&h.tr, sid, 10);
    struct zk_request r = zkh_req(&h, ZOO_CREATE_OP, "/b");
    r.owner = 9;
    assert_int_equal(zkh_submit(&h, &r), ZSESSIONMOVED);
    session_set_closing(&h.tr, sid);
    assert_int_equal(zkh_create(&h, "/c", NULL, 0), ZSESSIONEXPIRED);
    assert_int_equal(zkh_set(&h, "/a", "x", -1), ZSESSIONEXPIRED);
    assert_int_equal(zkh_delete(&h, "/a", -1), ZSESSIONEXPIRED);
    zkh_free(&h);
}

static void close_session_with_outstanding_changes(void **state)
{
    struct zkh *h = *state;
    int64_t other = h->session + 1;
    assert_int_equal(zkh_create(h, "/e1", NULL, ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zkh_create(h, "/e2", NULL, ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zkh_create(h, "/d", NULL, 0), ZOK);
    int64_t mine = h->session;
    h->session = other;
    assert_int_equal(zkh_create(h, "/d/theirs", NULL, ZOO_EPHEMERAL), ZOK);
    h->session = mine;
    /* Outstanding: a delete of /e1 and a create of /d/e3. */
    struct zk_request d = zkh_req(h, ZOO_DELETE_OP, "/e1");
    assert_int_equal(zkh_propose(h, &d), ZOK);
    struct zk_request c = zkh_req(h, ZOO_CREATE_OP, "/d/e3");
    c.flags = ZOO_EPHEMERAL;
    assert_int_equal(zkh_propose(h, &c), ZOK);
    struct zk_request cl = zkh_req(h, ZOO_CLOSE_SESSION_OP, NULL);
    assert_int_equal(zkh_propose(h, &cl), ZOK);
    /* The close txn lists exactly /d/e3 and /e2, sorted. */
    struct zk_txn txn;
    const struct zkh_pending *q = &h->queue[h->queued - 1];
    assert_int_equal(zk_txn_decode(&txn, q->bytes, q->len, NULL, 0), ZOK);
    assert_int_equal(txn.path_count, 2);
    assert_memory_equal(txn.paths[0].path, "/d/e3", 5);
    assert_memory_equal(txn.paths[1].path, "/e2", 3);
    zk_txn_free(&txn);
    /* The overlay already sees them gone: a new create of /e2 is fine. */
    struct zk_request again = zkh_req(h, ZOO_CREATE_OP, "/e2");
    h->session = other;
    again.session_id = other;
    again.flags = ZOO_EPHEMERAL;
    assert_int_equal(zkh_propose(h, &again), ZOK);
    h->session = mine;
    zkh_apply_next(h);
    zkh_apply_next(h);
    watch_add(&h->wm, 5, "/d", 2, WATCH_CHILD);
    watch_add(&h->wm, 6, "/d/e3", 5, WATCH_DATA);
    zkh_apply_next(h); /* the close */
    assert_int_equal(h->out.type, ZOO_CLOSE_SESSION_OP);
    assert_null(zkh_node(h, "/e1"));
    assert_null(zkh_node(h, "/d/e3"));
    assert_non_null(zkh_node(h, "/d/theirs"));
    const struct tree_node *none[1];
    assert_int_equal(tree_ephemerals(&h->sm.tree, mine, none, 1), 0);
    assert_int_equal(tree_ephemerals(&h->sm.tree, other, none, 1), 1);
    /* Deleting /d/e3 fired its data watch and /d's child watch. */
    assert_int_equal(h->wout.count, 2);
    assert_int_equal(h->wout.events[0].conn, 6);
    assert_int_equal(h->wout.events[0].type, ZOO_EVENT_DELETED);
    assert_int_equal(h->wout.events[1].conn, 5);
    assert_int_equal(h->wout.events[1].type, ZOO_EVENT_CHILD_CHANGED);
    zkh_apply_next(h);
    assert_int_equal(zkh_node(h, "/e2")->stat.ephemeral_owner, other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_stat_and_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(error_table, setup, teardown),
        cmocka_unit_test_setup_teardown(oversize_data_and_invalid_acl, setup, teardown),
        cmocka_unit_test_setup_teardown(set_data_and_acl_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(sequential_names, setup, teardown),
        cmocka_unit_test_setup_teardown(acl_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(multi_success_one_zxid, setup, teardown),
        cmocka_unit_test_setup_teardown(multi_failure_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(overlay_pipelining, setup, teardown),
        cmocka_unit_test_setup_teardown(multi_data_limit_and_small_buffer, setup, teardown),
        cmocka_unit_test(overlay_bound_throttles),
        cmocka_unit_test_setup_teardown(retag_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(clone_mid_pipeline, setup, teardown),
        cmocka_unit_test(ttl_and_container),
        cmocka_unit_test(session_checks),
        cmocka_unit_test_setup_teardown(close_session_with_outstanding_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
