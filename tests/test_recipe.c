/* End to end through prep, apply, reads, watches and session expiry: the
 * ZooKeeper lock recipe (ephemeral sequential children, each waiter
 * watching its predecessor with exists). Exactly one holder at a time, the
 * lock passes in sequence order, and a holder's session expiry hands it on
 * through the watch its successor set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/read.h"
#include "tests/support/zkh.h"

enum { CLIENTS = 4 };

struct client {
    int64_t session;
    char node[64];          /* our lock node */
    bool holds;
    bool waiting;
};

static int64_t connect(struct zkh *h, int64_t now_ms)
{
    int32_t to = 6000;
    int64_t id;
    assert_int_equal(session_create(&h->tr, &to, 0, now_ms, &id), ZOK);
    h->session = id;
    struct zk_request cs = zkh_req(h, ZOO_CREATE_SESSION_OP, NULL);
    cs.timeout_ms = to;
    assert_int_equal(zkh_submit(h, &cs), ZOK);
    return id;
}

/* The recipe's check step: am I first? else watch my predecessor. */
static void check_lock(struct zkh *h, struct client *c, uint64_t conn)
{
    struct read_ctx rc = {&h->sm.tree, &h->wm, conn, NULL, 0};
    const struct tree_node *dir;
    assert_int_equal(read_get_children(&rc, "/lock", false, &dir), ZOK);
    const char *mine = c->node + strlen("/lock/");
    const char *pred = NULL;
    for (uint32_t i = 0; i < tree_node_child_count(dir); i++) {
        const char *name = tree_node_name(tree_child(&h->sm.tree, dir, i));
        if (strcmp(name, mine) == 0)
            break;
        pred = name; /* children are sorted, sequence numbers are fixed width */
    }
    if (pred == NULL) {
        c->holds = true;
        c->waiting = false;
        return;
    }
    char p[64];
    snprintf(p, sizeof p, "/lock/%s", pred);
    struct zk_stat st;
    int rc2 = read_exists(&rc, p, true, &st);
    if (rc2 == ZNONODE) {
        check_lock(h, c, conn); /* predecessor vanished meanwhile: retry */
        return;
    }
    assert_int_equal(rc2, ZOK);
    c->waiting = true;
}

static int holders(const struct client *c)
{
    int n = 0;
    for (int i = 0; i < CLIENTS; i++)
        n += c[i].holds;
    return n;
}

/* Delivers the last apply's events: a deleted predecessor wakes its waiter. */
static void deliver(struct zkh *h, struct client *c)
{
    for (uint32_t i = 0; i < h->wout.count; i++) {
        const struct watch_event *e = &h->wout.events[i];
        if (e->type != ZOO_EVENT_DELETED)
            continue;
        uint64_t conn = e->conn;
        assert_true(conn >= 1 && conn <= CLIENTS);
        check_lock(h, &c[conn - 1], conn);
    }
}

static void lock_passes_in_order(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, true, false);
    struct client c[CLIENTS];
    memset(c, 0, sizeof c);
    h.session = connect(&h, 0);
    assert_int_equal(zkh_create(&h, "/lock", NULL, 0), ZOK);
    for (int i = 0; i < CLIENTS; i++) {
        c[i].session = connect(&h, 0);
        h.session = c[i].session;
        assert_int_equal(zkh_create(&h, "/lock/n-", NULL, ZOO_EPHEMERAL_SEQUENTIAL), ZOK);
        snprintf(c[i].node, sizeof c[i].node, "%s", zkh_created(&h));
    }
    for (int i = 0; i < CLIENTS; i++)
        check_lock(&h, &c[i], (uint64_t)i + 1);
    assert_true(c[0].holds);
    assert_int_equal(holders(c), 1);
    /* Client 0 releases by deleting its node. */
    h.session = c[0].session;
    assert_int_equal(zkh_delete(&h, c[0].node, -1), ZOK);
    c[0].holds = false;
    deliver(&h, c);
    assert_true(c[1].holds);
    assert_int_equal(holders(c), 1);
    /* Client 2 gives up early (its node goes away): 3 must re-watch 1. */
    h.session = c[2].session;
    assert_int_equal(zkh_delete(&h, c[2].node, -1), ZOK);
    deliver(&h, c);
    assert_false(c[3].holds);
    assert_true(c[3].waiting);
    /* Client 1's session expires: its ephemeral goes, 3 gets the lock. */
    for (int i = 0; i < CLIENTS; i++)
        if (i != 1)
            session_touch(&h.tr, c[i].session, 10000);
    int64_t expired[CLIENTS + 1];
    uint32_t n = session_expired(&h.tr, 10000, expired, CLIENTS + 1);
    assert_true(n >= 1);
    for (uint32_t k = 0; k < n; k++) {
        if (expired[k] != c[1].session)
            continue;
        h.session = expired[k];
        struct zk_request cl = zkh_req(&h, ZOO_CLOSE_SESSION_OP, NULL);
        assert_int_equal(zkh_submit(&h, &cl), ZOK);
        session_remove(&h.tr, expired[k]);
        c[1].holds = false;
        deliver(&h, c);
    }
    assert_true(c[3].holds);
    assert_int_equal(holders(c), 1);
    assert_null(zkh_node(&h, c[1].node));
    zkh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lock_passes_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
