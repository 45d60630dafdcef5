/* Watch manager: ZooKeeper's trigger table (every write op x every watch
 * kind), one-shot consumption, NodeDeleted once per connection, recursive
 * ancestors, deterministic order, setWatches with relativeZxid,
 * check/remove (NOWATCHER), disconnect, and the per-connection bound. */
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

struct want_ev {
    uint64_t conn;
    int32_t type;
    const char *path;
};

static void expect_events(const struct zkh *h, const struct want_ev *want, uint32_t n, const char *what)
{
    if (h->wout.count != n)
        fail_msg("%s: %u events, want %u", what, h->wout.count, n);
    for (uint32_t i = 0; i < n; i++) {
        const struct watch_event *e = &h->wout.events[i];
        const char *p = watch_out_str(&h->wout, e->path_off);
        if (e->conn != want[i].conn || e->type != want[i].type || strcmp(p, want[i].path) != 0)
            fail_msg("%s: event %u is (%llu, %d, %s), want (%llu, %d, %s)", what, i,
                     (unsigned long long)e->conn, e->type, p,
                     (unsigned long long)want[i].conn, want[i].type, want[i].path);
        assert_int_equal(e->zxid, h->zxid);
    }
}

/* conn 1 data, 2 child, 3 persistent, 4 persistent-recursive, all on /x. */
static void watch_all_kinds(struct zkh *h, bool child_too)
{
    watch_add(&h->wm, 1, "/x", 2, WATCH_DATA);
    if (child_too)
        watch_add(&h->wm, 2, "/x", 2, WATCH_CHILD);
    watch_add(&h->wm, 3, "/x", 2, WATCH_PERSISTENT);
    watch_add(&h->wm, 4, "/x", 2, WATCH_RECURSIVE);
}

enum scenario { S_CREATE, S_DELETE, S_SET, S_SETACL, S_CREATE_KID, S_DELETE_KID, S_SET_KID, S_N };

static void run_scenario(struct zkh *h, enum scenario s)
{
    struct zk_request r;
    switch (s) {
    case S_CREATE: assert_int_equal(zkh_create(h, "/x", NULL, 0), ZOK); break;
    case S_DELETE: assert_int_equal(zkh_delete(h, "/x", -1), ZOK); break;
    case S_SET: assert_int_equal(zkh_set(h, "/x", "d", -1), ZOK); break;
    case S_SETACL:
        r = zkh_req(h, ZOO_SETACL_OP, "/x");
        assert_int_equal(zkh_submit(h, &r), ZOK);
        break;
    case S_CREATE_KID: assert_int_equal(zkh_create(h, "/x/k", NULL, 0), ZOK); break;
    case S_DELETE_KID: assert_int_equal(zkh_delete(h, "/x/k", -1), ZOK); break;
    case S_SET_KID: assert_int_equal(zkh_set(h, "/x/k", "d", -1), ZOK); break;
    default: fail();
    }
}

static void trigger_table(void **state)
{
    (void)state;
    static const struct want_ev create[] = {
        {1, ZOO_EVENT_CREATED, "/x"}, {3, ZOO_EVENT_CREATED, "/x"}, {4, ZOO_EVENT_CREATED, "/x"}};
    static const struct want_ev del[] = {
        {1, ZOO_EVENT_DELETED, "/x"}, {2, ZOO_EVENT_DELETED, "/x"},
        {3, ZOO_EVENT_DELETED, "/x"}, {4, ZOO_EVENT_DELETED, "/x"}};
    static const struct want_ev set[] = {
        {1, ZOO_EVENT_DATA_CHANGED, "/x"}, {3, ZOO_EVENT_DATA_CHANGED, "/x"},
        {4, ZOO_EVENT_DATA_CHANGED, "/x"}};
    static const struct want_ev ckid[] = {
        {4, ZOO_EVENT_CREATED, "/x/k"}, {2, ZOO_EVENT_CHILD_CHANGED, "/x"},
        {3, ZOO_EVENT_CHILD_CHANGED, "/x"}};
    static const struct want_ev dkid[] = {
        {4, ZOO_EVENT_DELETED, "/x/k"}, {2, ZOO_EVENT_CHILD_CHANGED, "/x"},
        {3, ZOO_EVENT_CHILD_CHANGED, "/x"}};
    static const struct want_ev skid[] = {{4, ZOO_EVENT_DATA_CHANGED, "/x/k"}};
    static const struct { const struct want_ev *ev; uint32_t n; const char *name; } table[S_N] = {
        [S_CREATE] = {create, 3, "create"}, [S_DELETE] = {del, 4, "delete"},
        [S_SET] = {set, 3, "setData"}, [S_SETACL] = {NULL, 0, "setACL"},
        [S_CREATE_KID] = {ckid, 3, "create child"}, [S_DELETE_KID] = {dkid, 3, "delete child"},
        [S_SET_KID] = {skid, 1, "setData child"},
    };
    for (int s = 0; s < S_N; s++) {
        struct zkh h;
        zkh_init(&h, false, false);
        if (s != S_CREATE)
            assert_int_equal(zkh_create(&h, "/x", NULL, 0), ZOK);
        if (s == S_DELETE_KID || s == S_SET_KID)
            assert_int_equal(zkh_create(&h, "/x/k", NULL, 0), ZOK);
        watch_all_kinds(&h, s != S_CREATE);
        run_scenario(&h, (enum scenario)s);
        expect_events(&h, table[s].ev, table[s].n, table[s].name);
        /* One-shot watches that fired are gone; persistent ones stay. */
        for (uint32_t i = 0; i < table[s].n; i++) {
            uint64_t c = table[s].ev[i].conn;
            if (c == 1 || c == 2)
                assert_int_equal(watch_bits(&h.wm, c, "/x", 2), 0);
        }
        assert_int_equal(watch_bits(&h.wm, 3, "/x", 2), WATCH_PERSISTENT);
        assert_int_equal(watch_bits(&h.wm, 4, "/x", 2), WATCH_RECURSIVE);
        zkh_free(&h);
    }
}

static void deleted_once_and_ordering(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    assert_int_equal(zkh_create(&h, "/a", NULL, 0), ZOK);
    assert_int_equal(zkh_create(&h, "/a/b", NULL, 0), ZOK);
    /* conn 9 holds data + child on /a/b and recursive on / and /a. */
    watch_add(&h.wm, 9, "/a/b", 4, WATCH_DATA | WATCH_CHILD);
    watch_add(&h.wm, 9, "/", 1, WATCH_RECURSIVE);
    watch_add(&h.wm, 9, "/a", 2, WATCH_RECURSIVE);
    watch_add(&h.wm, 7, "/a/b", 4, WATCH_DATA);
    watch_add(&h.wm, 3, "/", 1, WATCH_RECURSIVE);
    watch_add(&h.wm, 5, "/a", 2, WATCH_CHILD);
    assert_int_equal(zkh_delete(&h, "/a/b", -1), ZOK);
    static const struct want_ev want[] = {
        {3, ZOO_EVENT_DELETED, "/a/b"}, {7, ZOO_EVENT_DELETED, "/a/b"},
        {9, ZOO_EVENT_DELETED, "/a/b"}, {5, ZOO_EVENT_CHILD_CHANGED, "/a"}};
    expect_events(&h, want, 4, "delete");
    /* The recursive watch on /a does not get /a's NodeChildrenChanged. */
    assert_int_equal(watch_bits(&h.wm, 9, "/a", 2), WATCH_RECURSIVE);
    zkh_free(&h);
}

static void set_watches_relative_zxid(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    assert_int_equal(zkh_create(&h, "/a", NULL, 0), ZOK);
    int64_t z1 = h.zxid;
    assert_int_equal(zkh_create(&h, "/b", NULL, 0), ZOK);
    assert_int_equal(zkh_set(&h, "/b", "x", -1), ZOK);
    assert_int_equal(zkh_create(&h, "/b/k", NULL, 0), ZOK);
    const char *data[] = {"/a", "/b", "/gone"};
    const char *exist[] = {"/a", "/nothere"};
    const char *child[] = {"/a", "/b", "/gone"};
    const char *pers[] = {"/p"};
    const char *rec[] = {"/r"};
    struct watch_list dl = {data, 3}, el = {exist, 2}, cl = {child, 3}, pl = {pers, 1}, rl = {rec, 1};
    watch_out_reset(&h.wout);
    assert_int_equal(watch_set_watches(&h.wm, &h.sm.tree, 42, z1, &dl, &el, &cl, &pl, &rl, h.zxid, &h.wout), ZOK);
    static const struct want_ev want[] = {
        {42, ZOO_EVENT_DATA_CHANGED, "/b"}, {42, ZOO_EVENT_DELETED, "/gone"},
        {42, ZOO_EVENT_CREATED, "/a"},
        {42, ZOO_EVENT_CHILD_CHANGED, "/b"}, {42, ZOO_EVENT_DELETED, "/gone"}};
    expect_events(&h, want, 5, "setWatches");
    assert_int_equal(watch_bits(&h.wm, 42, "/a", 2), WATCH_DATA | WATCH_CHILD);
    assert_int_equal(watch_bits(&h.wm, 42, "/nothere", 8), WATCH_DATA);
    assert_int_equal(watch_bits(&h.wm, 42, "/b", 2), 0);
    assert_int_equal(watch_bits(&h.wm, 42, "/p", 2), WATCH_PERSISTENT);
    assert_int_equal(watch_bits(&h.wm, 42, "/r", 2), WATCH_RECURSIVE);
    /* With an up-to-date relativeZxid everything is re-registered. */
    watch_out_reset(&h.wout);
    const char *b[] = {"/b"};
    struct watch_list bl = {b, 1};
    assert_int_equal(watch_set_watches(&h.wm, &h.sm.tree, 43, h.zxid, &bl, NULL, &bl, NULL, NULL, h.zxid, &h.wout), ZOK);
    assert_int_equal(h.wout.count, 0);
    assert_int_equal(watch_bits(&h.wm, 43, "/b", 2), WATCH_DATA | WATCH_CHILD);
    /* The re-registered exist watch fires when the node appears. */
    assert_int_equal(zkh_create(&h, "/nothere", NULL, 0), ZOK);
    static const struct want_ev later[] = {{42, ZOO_EVENT_CREATED, "/nothere"}};
    expect_events(&h, later, 1, "create after setWatches");
    zkh_free(&h);
}

static void check_remove_and_disconnect(void **state)
{
    (void)state;
    struct watch_mgr wm;
    watch_init(&wm, 0);
    watch_add(&wm, 1, "/a", 2, WATCH_DATA | WATCH_CHILD);
    watch_add(&wm, 1, "/p", 2, WATCH_PERSISTENT);
    watch_add(&wm, 2, "/a", 2, WATCH_DATA);
    assert_int_equal(watch_check(&wm, 1, "/a", 2, ZOO_WATCHER_CHILDREN), ZOK);
    assert_int_equal(watch_check(&wm, 2, "/a", 2, ZOO_WATCHER_CHILDREN), ZNOWATCHER);
    assert_int_equal(watch_check(&wm, 3, "/a", 2, ZOO_WATCHER_ANY), ZNOWATCHER);
    assert_int_equal(watch_check(&wm, 1, "/a", 2, 9), ZBADARGUMENTS);
    assert_int_equal(watch_check(&wm, 1, "/p", 2, ZOO_WATCHER_PERSISTENT), ZOK);
    assert_int_equal(watch_check(&wm, 1, "/p", 2, ZOO_WATCHER_PERSISTENT_RECURSIVE), ZNOWATCHER);
    assert_int_equal(watch_remove(&wm, 1, "/a", 2, ZOO_WATCHER_DATA), ZOK);
    assert_int_equal(watch_bits(&wm, 1, "/a", 2), WATCH_CHILD);
    assert_int_equal(watch_remove(&wm, 1, "/a", 2, ZOO_WATCHER_DATA), ZNOWATCHER);
    assert_int_equal(watch_remove(&wm, 1, "/a", 2, ZOO_WATCHER_ANY), ZOK);
    assert_int_equal(watch_bits(&wm, 1, "/a", 2), 0);
    assert_int_equal(watch_conn_count(&wm, 1), 1);
    assert_int_equal(watch_count_total(&wm), 2);
    watch_remove_conn(&wm, 1);
    assert_int_equal(watch_count_total(&wm), 1);
    assert_int_equal(watch_conn_count(&wm, 1), 0);
    assert_int_equal(watch_bits(&wm, 1, "/p", 2), 0);
    struct watch_out out;
    watch_out_init(&out);
    assert_int_equal(watch_trigger(&wm, ZOO_EVENT_DATA_CHANGED, "/a", 2, 7, NULL, 0, NULL, &out), ZOK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.events[0].conn, 2);
    assert_int_equal(out.events[0].zxid, 7);
    watch_out_free(&out);
    watch_free(&wm);
}

static void clone_is_independent(void **state)
{
    (void)state;
    struct watch_mgr wm, c;
    watch_init(&wm, 0);
    watch_add(&wm, 1, "/a", 2, WATCH_DATA);
    watch_add(&wm, 2, "/a", 2, WATCH_PERSISTENT);
    watch_add(&wm, 1, "/b", 2, WATCH_CHILD);
    watch_remove(&wm, 1, "/b", 2, ZOO_WATCHER_CHILDREN); /* leaves a free slot */
    assert_int_equal(watch_clone(&c, &wm), ZOK);
    struct watch_out out;
    watch_out_init(&out);
    assert_int_equal(watch_trigger(&wm, ZOO_EVENT_DATA_CHANGED, "/a", 2, 5, NULL, 0, NULL, &out), ZOK);
    assert_int_equal(out.count, 2);
    assert_int_equal(watch_bits(&wm, 1, "/a", 2), 0);
    assert_int_equal(watch_bits(&c, 1, "/a", 2), WATCH_DATA);
    watch_out_reset(&out);
    assert_int_equal(watch_trigger(&c, ZOO_EVENT_DATA_CHANGED, "/a", 2, 5, NULL, 0, NULL, &out), ZOK);
    assert_int_equal(out.count, 2);
    assert_int_equal(watch_add(&c, 3, "/new", 4, WATCH_DATA), ZOK);
    assert_int_equal(watch_bits(&wm, 3, "/new", 4), 0);
    watch_out_free(&out);
    watch_free(&wm);
    watch_free(&c);
}

static void listings_sorted(void **state)
{
    (void)state;
    struct watch_mgr wm;
    watch_init(&wm, 0);
    watch_add(&wm, 5, "/z", 2, WATCH_DATA);
    watch_add(&wm, 5, "/a/b", 4, WATCH_CHILD);
    watch_add(&wm, 5, "/m", 2, WATCH_PERSISTENT);
    watch_add(&wm, 9, "/m", 2, WATCH_DATA);
    watch_add(&wm, 2, "/m", 2, WATCH_DATA);
    const char *paths[4];
    assert_int_equal(watch_paths_of(&wm, 5, paths, 4), 3);
    assert_string_equal(paths[0], "/a/b");
    assert_string_equal(paths[1], "/m");
    assert_string_equal(paths[2], "/z");
    uint64_t conns[4];
    assert_int_equal(watch_conns_on(&wm, "/m", 2, conns, 4), 3);
    assert_int_equal(conns[0], 2);
    assert_int_equal(conns[1], 5);
    assert_int_equal(conns[2], 9);
    assert_int_equal(watch_conns_on(&wm, "/none", 5, conns, 4), 0);
    watch_free(&wm);
}

static void per_connection_bound(void **state)
{
    (void)state;
    struct watch_mgr wm;
    watch_init(&wm, 2);
    assert_int_equal(watch_add(&wm, 1, "/a", 2, WATCH_DATA), ZOK);
    assert_int_equal(watch_add(&wm, 1, "/b", 2, WATCH_DATA), ZOK);
    assert_int_equal(watch_add(&wm, 1, "/c", 2, WATCH_DATA), ZTHROTTLEDOP);
    assert_int_equal(watch_add(&wm, 1, "/a", 2, WATCH_CHILD), ZOK); /* same path */
    assert_int_equal(watch_add(&wm, 2, "/c", 2, WATCH_DATA), ZOK);
    assert_int_equal(watch_bits(&wm, 1, "/c", 2), 0);
    assert_int_equal(watch_add(&wm, 3, "/d", 2, 0), ZBADARGUMENTS);
    assert_int_equal(watch_add(&wm, 3, "/d", 2, 64), ZBADARGUMENTS);
    assert_int_equal(wm.path_live, 3);
    watch_free(&wm);
}

static void many_paths_stress(void **state)
{
    (void)state;
    struct watch_mgr wm;
    watch_init(&wm, 0);
    char p[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(p, sizeof p, "/n/%d", i);
        assert_int_equal(watch_add(&wm, (uint64_t)(i % 7), p, strlen(p), WATCH_DATA), ZOK);
    }
    struct watch_out out;
    watch_out_init(&out);
    for (int i = 0; i < 5000; i += 2) {
        snprintf(p, sizeof p, "/n/%d", i);
        assert_int_equal(watch_trigger(&wm, ZOO_EVENT_DATA_CHANGED, p, strlen(p), 1, NULL, 0, NULL, &out), ZOK);
    }
    assert_int_equal(out.count, 2500);
    for (int i = 0; i < 5000; i++) {
        snprintf(p, sizeof p, "/n/%d", i);
        assert_int_equal(watch_bits(&wm, (uint64_t)(i % 7), p, strlen(p)), (i % 2) ? WATCH_DATA : 0);
    }
    assert_int_equal(wm.path_live, 2500);
    watch_out_free(&out);
    watch_free(&wm);
}


/* Test filter: conn 1 is alice (digest), every other conn is anonymous. */
static bool filter_may_read(void *ctx, uint64_t conn, const struct zk_acl *acl, uint32_t n)
{
    const struct zk_id *alice = ctx;
    return acl_check(acl, n, ZOO_PERM_READ, alice, conn == 1 ? 1 : 0) == ZOK;
}

static void events_only_to_readers(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    struct zk_id alice;
    memset(&alice, 0, sizeof alice);
    strcpy(alice.scheme, "digest");
    acl_digest_id("alice:pw", 8, alice.id, sizeof alice.id);
    struct watch_filter f = {filter_may_read, &alice};
    h.filter = &f;
    struct zk_acl acl[2] = {{ZOO_PERM_READ, {"digest", ""}}, {ZOO_PERM_WRITE | ZOO_PERM_DELETE, {"world", "anyone"}}};
    strcpy(acl[0].id.id, alice.id);
    struct zk_request r = zkh_req(&h, ZOO_CREATE_OP, "/secret");
    r.acl = acl;
    r.acl_count = 2;
    assert_int_equal(zkh_submit(&h, &r), ZOK);
    for (uint64_t c = 1; c <= 2; c++) {
        watch_add(&h.wm, c, "/secret", 7, WATCH_DATA);
        watch_add(&h.wm, c, "/", 1, WATCH_RECURSIVE | WATCH_CHILD);
    }
    assert_int_equal(zkh_set(&h, "/secret", "x", -1), ZOK);
    static const struct want_ev set[] = {{1, ZOO_EVENT_DATA_CHANGED, "/secret"}};
    expect_events(&h, set, 1, "setData on a secret node");
    assert_int_equal(watch_bits(&h.wm, 2, "/secret", 7), 0); /* consumed, not delivered */
    /* Delete: the node's last ACL decides; the root's children change is open. */
    assert_int_equal(zkh_delete(&h, "/secret", -1), ZOK);
    static const struct want_ev del[] = {
        {1, ZOO_EVENT_DELETED, "/secret"}, {1, ZOO_EVENT_CHILD_CHANGED, "/"},
        {2, ZOO_EVENT_CHILD_CHANGED, "/"}};
    expect_events(&h, del, 3, "delete of a secret node");
    assert_int_equal(h.out.triggers[0].acl_count, 2);
    zkh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trigger_table),
        cmocka_unit_test(deleted_once_and_ordering),
        cmocka_unit_test(set_watches_relative_zxid),
        cmocka_unit_test(check_remove_and_disconnect),
        cmocka_unit_test(per_connection_bound),
        cmocka_unit_test(listings_sorted),
        cmocka_unit_test(clone_is_independent),
        cmocka_unit_test(many_paths_stress),
        cmocka_unit_test(events_only_to_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
