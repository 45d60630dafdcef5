/* Hostile requests never crash prep or apply: random op codes, flags,
 * versions, TTLs, paths (including invalid UTF-8, control characters,
 * relative components, over-long ones), ACLs and multi shapes. Every
 * answer must be a ZooKeeper error code, and the tree must stay
 * self-consistent (incremental digest = recomputed digest). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/zkh.h"

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static const char *const path_pool[] = {
    "/", "/a", "/a/b", "/a/b/c", "/z", "a", "", "/a/", "//", "/./x", "/a/..", "/\x01", "/\xc3",
    "/\xef\xbf\xbf", "/caf\xc3\xa9", "/zookeeper", "/zookeeper/config", "/zookeeper/quota/x", "/q/",
};

static char long_path[ZK_PATH_MAX + 8];

static const char *random_path(uint32_t *seed)
{
    uint32_t k = lcg(seed) % (sizeof path_pool / sizeof path_pool[0] + 1);
    return k < sizeof path_pool / sizeof path_pool[0] ? path_pool[k] : long_path;
}

static const int32_t types[] = {
    ZOO_CREATE_OP, ZOO_CREATE2_OP, ZOO_CREATE_CONTAINER_OP, ZOO_CREATE_TTL_OP, ZOO_DELETE_OP,
    ZOO_SETDATA_OP, ZOO_SETACL_OP, ZOO_CHECK_OP, ZOO_MULTI_OP, ZOO_DELETE_CONTAINER_OP,
    ZOO_CREATE_SESSION_OP, ZOO_CLOSE_SESSION_OP, ZOO_GETDATA_OP, 77, -3,
};

static const struct zk_acl acls[] = {
    {ZOO_PERM_ALL, {"world", "anyone"}}, {ZOO_PERM_READ, {"world", "anyone"}},
    {ZOO_PERM_ALL, {"auth", ""}}, {ZOO_PERM_ALL, {"digest", "u:x"}}, {ZOO_PERM_ALL, {"ip", "1.2.3.4/40"}},
    {-1, {"world", "anyone"}}, {0, {"bogus", "id"}},
};

static void random_request(uint32_t *seed, struct zk_request *r, struct zk_request *ops, bool nested_ok)
{
    static const uint8_t data[64] = "payload";
    memset(r, 0, sizeof *r);
    r->type = types[lcg(seed) % (sizeof types / sizeof types[0])];
    r->session_id = (int64_t)(lcg(seed) % 3);
    r->path = lcg(seed) % 20 ? random_path(seed) : NULL;
    r->data = lcg(seed) % 8 ? data : NULL;
    r->data_len = lcg(seed) % 10 ? lcg(seed) % 64 : 0;
    if (r->data == NULL)
        r->data_len = lcg(seed) % 2 ? 0 : 5;
    uint32_t a = lcg(seed) % 7;
    r->acl = &acls[a];
    r->acl_count = lcg(seed) % 8 ? 1 : 0;
    r->flags = (int32_t)(lcg(seed) % 9) - 1;
    r->version = (int32_t)(lcg(seed) % 5) - 2;
    r->ttl_ms = (int64_t)(lcg(seed) % 4) - 1;
    r->timeout_ms = (int32_t)lcg(seed);
    if (r->type == ZOO_MULTI_OP && nested_ok) {
        r->op_count = lcg(seed) % 5;
        for (uint32_t i = 0; i < r->op_count; i++)
            random_request(seed, &ops[i], NULL, false);
        r->ops = lcg(seed) % 10 ? ops : NULL;
    }
}

static void hostile_requests(void **state)
{
    (void)state;
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    struct zkh h;
    zkh_init(&h, false, true);
    uint32_t seed = 99;
    int ok = 0;
    for (int step = 0; step < 6000; step++) {
        struct zk_request r, ops[5];
        random_request(&seed, &r, ops, true);
        h.session = r.session_id;
        int err = lcg(&seed) % 3 ? zkh_submit(&h, &r) : zkh_propose(&h, &r);
        if (strcmp(zk_err_name(err), "UNKNOWN") == 0)
            fail_msg("step %d: %d is not a ZooKeeper error code", step, err);
        ok += err == ZOK;
        while (h.queued > 3)
            assert_int_equal(zkh_apply_next(&h), ZOK);
    }
    while (h.queued > 0)
        assert_int_equal(zkh_apply_next(&h), ZOK);
    assert_true(ok > 100);
    assert_int_equal(tree_digest(&h.sm.tree), tree_digest_recompute(&h.sm.tree));
    assert_int_equal(prep_outstanding(&h.prep), 0);
    zkh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
