/* Read side: watch registration rules of exists/getData/getChildren, READ
 * and ADMIN checks, digest masking in getACL, descendant counts,
 * getEphemerals prefixes, addWatch modes, and the container/TTL reaper. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/acl.h"
#include "core/read.h"
#include "tests/support/zkh.h"

static struct read_ctx ctx(struct zkh *h, uint64_t conn)
{
    return (struct read_ctx){&h->sm.tree, &h->wm, conn, h->auth, h->auth_count};
}

static void watch_registration_rules(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    assert_int_equal(zkh_create(&h, "/a", "data", 0), ZOK);
    struct read_ctx c = ctx(&h, 7);
    struct zk_stat st;
    const struct tree_node *n;
    /* exists on a missing node: NONODE, but the watch is set. */
    assert_int_equal(read_exists(&c, "/missing", true, &st), ZNONODE);
    assert_int_equal(watch_bits(&h.wm, 7, "/missing", 8), WATCH_DATA);
    /* getData / getChildren on a missing node: no watch. */
    assert_int_equal(read_get_data(&c, "/gone", true, &n), ZNONODE);
    assert_int_equal(read_get_children(&c, "/gone", true, &n), ZNONODE);
    assert_int_equal(watch_bits(&h.wm, 7, "/gone", 5), 0);
    assert_int_equal(read_get_data(&c, "/a", true, &n), ZOK);
    assert_int_equal(tree_node_data_len(n), 4);
    assert_memory_equal(tree_node_data(n), "data", 4);
    assert_int_equal(read_get_children(&c, "/", true, &n), ZOK);
    assert_int_equal(tree_node_child_count(n), 2);
    assert_string_equal(tree_node_name(tree_child(&h.sm.tree, n, 0)), "a");
    assert_int_equal(watch_bits(&h.wm, 7, "/a", 2), WATCH_DATA);
    assert_int_equal(watch_bits(&h.wm, 7, "/", 1), WATCH_CHILD);
    assert_int_equal(read_exists(&c, "/a", false, &st), ZOK);
    assert_int_equal(st.data_length, 4);
    assert_int_equal(read_exists(&c, "bad", true, &st), ZBADARGUMENTS);
    /* The exist watch fires on create. */
    assert_int_equal(zkh_create(&h, "/missing", NULL, 0), ZOK);
    assert_int_equal(h.wout.count, 2);
    assert_int_equal(h.wout.events[0].type, ZOO_EVENT_CREATED);
    assert_int_equal(h.wout.events[1].type, ZOO_EVENT_CHILD_CHANGED);
    zkh_free(&h);
}

static void read_permissions_and_acl_masking(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    char alice[64];
    acl_digest_id("alice:pw", 8, alice, sizeof alice);
    struct zk_acl acl[2] = {{ZOO_PERM_ALL, {"digest", ""}}, {ZOO_PERM_WRITE, {"world", "anyone"}}};
    strcpy(acl[0].id.id, alice);
    struct zk_request r = zkh_req(&h, ZOO_CREATE_OP, "/s");
    r.acl = acl;
    r.acl_count = 2;
    assert_int_equal(zkh_submit(&h, &r), ZOK);
    struct read_ctx anon = ctx(&h, 1);
    const struct tree_node *n;
    struct zk_acl out[4];
    uint32_t count;
    struct zk_stat st;
    int32_t num;
    assert_int_equal(read_get_data(&anon, "/s", true, &n), ZNOAUTH);
    assert_int_equal(watch_bits(&h.wm, 1, "/s", 2), 0);
    assert_int_equal(read_get_children(&anon, "/s", false, &n), ZNOAUTH);
    assert_int_equal(read_get_acl(&anon, "/s", out, 4, &count, &st), ZNOAUTH);
    assert_int_equal(read_all_children_number(&anon, "/s", &num), ZNOAUTH);
    assert_int_equal(read_exists(&anon, "/s", false, &st), ZOK); /* no ACL on exists */
    /* READ without ADMIN: digest ids masked. */
    struct zk_acl ro = {ZOO_PERM_READ, {"world", "anyone"}};
    tree_set_acl(&h.sm.tree, "/s", 2, (struct zk_acl[]){acl[0], ro}, 2, 1, NULL);
    assert_int_equal(read_get_acl(&anon, "/s", out, 4, &count, &st), ZOK);
    assert_int_equal(count, 2);
    assert_string_equal(out[0].id.id, "alice:x");
    assert_int_equal(st.aversion, 1);
    memset(&h.auth[0], 0, sizeof h.auth[0]);
    strcpy(h.auth[0].scheme, "digest");
    strcpy(h.auth[0].id, alice);
    h.auth_count = 1;
    struct read_ctx al = ctx(&h, 2);
    assert_int_equal(read_get_acl(&al, "/s", out, 4, &count, &st), ZOK);
    assert_string_equal(out[0].id.id, alice);
    assert_int_equal(read_get_data(&al, "/s", false, &n), ZOK);
    zkh_free(&h);
}

static void counts_and_ephemerals(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    assert_int_equal(zkh_create(&h, "/a", NULL, 0), ZOK);
    assert_int_equal(zkh_create(&h, "/a/b", NULL, 0), ZOK);
    assert_int_equal(zkh_create(&h, "/a/b/c", NULL, 0), ZOK);
    assert_int_equal(zkh_create(&h, "/a/d", NULL, ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zkh_create(&h, "/ab", NULL, ZOO_EPHEMERAL), ZOK);
    assert_int_equal(zkh_create(&h, "/z", NULL, ZOO_EPHEMERAL), ZOK);
    struct read_ctx c = ctx(&h, 1);
    int32_t n;
    assert_int_equal(read_all_children_number(&c, "/a", &n), ZOK);
    assert_int_equal(n, 3);
    assert_int_equal(read_all_children_number(&c, "/a/b/c", &n), ZOK);
    assert_int_equal(n, 0);
    assert_int_equal(read_all_children_number(&c, "/", &n), ZOK);
    assert_int_equal(n, (int32_t)tree_node_count(&h.sm.tree) - 1);
    assert_int_equal(read_all_children_number(&c, "/nope", &n), ZNONODE);
    const struct tree_node *e[8];
    assert_int_equal(read_ephemerals(&c, h.session, "/a", e, 8), 2); /* string prefix */
    assert_string_equal(e[0]->path, "/a/d");
    assert_string_equal(e[1]->path, "/ab");
    assert_int_equal(read_ephemerals(&c, h.session, "/", e, 8), 3);
    assert_int_equal(read_ephemerals(&c, h.session, NULL, e, 1), 3);
    assert_int_equal(read_ephemerals(&c, h.session + 1, NULL, e, 8), 0);
    zkh_free(&h);
}

static void add_watch_modes(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    struct read_ctx c = ctx(&h, 3);
    assert_int_equal(read_add_watch(&c, "/p", ZOO_ADD_WATCH_PERSISTENT), ZOK);
    assert_int_equal(read_add_watch(&c, "/r", ZOO_ADD_WATCH_PERSISTENT_RECURSIVE), ZOK);
    assert_int_equal(read_add_watch(&c, "/r", 2), ZBADARGUMENTS);
    assert_int_equal(read_add_watch(&c, "r", 0), ZBADARGUMENTS);
    assert_int_equal(watch_bits(&h.wm, 3, "/p", 2), WATCH_PERSISTENT);
    assert_int_equal(zkh_create(&h, "/r", NULL, 0), ZOK);
    assert_int_equal(zkh_create(&h, "/r/x", NULL, 0), ZOK);
    assert_int_equal(h.wout.count, 1);
    assert_int_equal(h.wout.events[0].type, ZOO_EVENT_CREATED);
    assert_string_equal(watch_out_str(&h.wout, h.wout.events[0].path_off), "/r/x");
    zkh_free(&h);
}

static void reaper_candidates(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, true);
    struct zk_request c = zkh_req(&h, ZOO_CREATE_CONTAINER_OP, "/never");
    c.flags = ZOO_CONTAINER;
    assert_int_equal(zkh_submit(&h, &c), ZOK);
    c.path = "/used";
    assert_int_equal(zkh_submit(&h, &c), ZOK);
    assert_int_equal(zkh_create(&h, "/used/kid", NULL, 0), ZOK);
    struct zk_request t = zkh_req(&h, ZOO_CREATE_TTL_OP, "/ttl");
    t.flags = ZOO_PERSISTENT_WITH_TTL;
    t.ttl_ms = 1000;
    assert_int_equal(zkh_submit(&h, &t), ZOK);
    int64_t born = zkh_node(&h, "/ttl")->stat.mtime_ms;
    const struct tree_node *out[8];
    assert_int_equal(tree_reap_candidates(&h.sm.tree, born + 1000, out, 8), 0);
    assert_int_equal(tree_reap_candidates(&h.sm.tree, born + 1001, out, 8), 1);
    assert_string_equal(out[0]->path, "/ttl");
    assert_int_equal(zkh_delete(&h, "/used/kid", -1), ZOK);
    assert_int_equal(tree_reap_candidates(&h.sm.tree, born, out, 8), 1);
    assert_string_equal(out[0]->path, "/used"); /* "/never" never had a child */
    assert_int_equal(tree_reap_candidates(&h.sm.tree, born + 5000, out, 1), 1);
    zkh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(watch_registration_rules),
        cmocka_unit_test(read_permissions_and_acl_masking),
        cmocka_unit_test(counts_and_ephemerals),
        cmocka_unit_test(add_watch_modes),
        cmocka_unit_test(reaper_candidates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
