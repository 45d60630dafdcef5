/* The state machine adapter the replication core calls: zxid ordering,
 * rejection without side effects, digest agreement between replicas fed the
 * same txns, snapshots (round trip and corruption), the session table, and
 * session expiry end to end (tracker -> closeSession -> ephemerals and
 * watches). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/zkh.h"

/* Proposes, keeps a copy of the txn bytes, applies. */
struct recorded {
    uint8_t *bytes[256];
    size_t len[256];
    int64_t zxid[256];
    int n;
};

static int record_submit(struct zkh *h, struct recorded *rec, const struct zk_request *r)
{
    uint32_t before = h->queued;
    int err = zkh_propose(h, r);
    if (h->queued > before) {
        struct zkh_pending *q = &h->queue[h->queued - 1];
        rec->bytes[rec->n] = malloc(q->len);
        memcpy(rec->bytes[rec->n], q->bytes, q->len);
        rec->len[rec->n] = q->len;
        rec->zxid[rec->n] = q->zxid;
        rec->n++;
        assert_int_equal(zkh_apply_next(h), ZOK);
    }
    return err;
}

static void recorded_free(struct recorded *rec)
{
    for (int i = 0; i < rec->n; i++)
        free(rec->bytes[i]);
    rec->n = 0;
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void random_workload(struct zkh *h, struct recorded *rec, uint32_t seed, int steps)
{
    char path[32];
    for (int i = 0; i < steps; i++) {
        uint32_t k = lcg(&seed);
        snprintf(path, sizeof path, k % 3 ? "/n%u" : "/n%u/k", (k >> 4) % 8);
        struct zk_request r = zkh_req(h, ZOO_CREATE_OP, path);
        switch (k % 5) {
        case 0: r.flags = (int32_t)((k >> 8) % 4); break;
        case 1: r.type = ZOO_DELETE_OP; break;
        case 2: r.type = ZOO_SETDATA_OP; r.data = (const uint8_t *)"xyz"; r.data_len = (k >> 9) % 4; break;
        case 3: r.type = ZOO_SETACL_OP; break;
        default: r.type = ZOO_CHECK_OP; r.version = (int32_t)((k >> 7) % 2); break;
        }
        record_submit(h, rec, &r);
    }
}

static void replicas_agree_on_digest(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    struct recorded rec = {0};
    random_workload(&h, &rec, 11, 200);
    struct zk_sm f;
    zk_sm_init(&f, NULL);
    struct zk_apply_out out;
    zk_apply_out_init(&out);
    for (int i = 0; i < rec.n; i++)
        assert_int_equal(zk_sm_apply(&f, (uint64_t)rec.zxid[i], rec.bytes[i], rec.len[i], &out), ZOK);
    assert_int_equal(zk_sm_digest(&f), zk_sm_digest(&h.sm));
    assert_int_equal(zk_sm_last_applied(&f), zk_sm_last_applied(&h.sm));
    assert_int_equal(tree_digest(&f.tree), tree_digest_recompute(&f.tree));
    assert_true(tree_node_count(&f.tree) > 4);
    /* A replica that skipped one effective txn disagrees. */
    struct zk_sm g;
    zk_sm_init(&g, NULL);
    int skipped = -1;
    for (int i = 0; i < rec.n; i++) {
        struct zk_txn t;
        zk_txn_decode(&t, rec.bytes[i], rec.len[i], NULL, 0);
        bool effective = t.type == ZOO_CREATE_OP && skipped < 0;
        zk_txn_free(&t);
        if (effective) {
            skipped = i;
            continue;
        }
        zk_sm_apply(&g, (uint64_t)rec.zxid[i], rec.bytes[i], rec.len[i], &out);
    }
    assert_true(skipped >= 0);
    assert_int_not_equal(zk_sm_digest(&g), zk_sm_digest(&f));
    zk_sm_free(&g);
    zk_apply_out_free(&out);
    zk_sm_free(&f);
    recorded_free(&rec);
    zkh_free(&h);
}

static void rejections_keep_replicas_in_step(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    struct recorded rec = {0};
    struct zk_request r = zkh_req(&h, ZOO_CREATE_OP, "/a");
    record_submit(&h, &rec, &r);
    uint64_t d = zk_sm_digest(&h.sm), last = zk_sm_last_applied(&h.sm);
    struct zk_apply_out out;
    zk_apply_out_init(&out);
    /* Same zxid again or an older one: refused, nothing changes. */
    assert_int_equal(zk_sm_apply(&h.sm, (uint64_t)rec.zxid[0], rec.bytes[0], rec.len[0], &out), ZBADARGUMENTS);
    assert_int_equal(zk_sm_apply(&h.sm, 1, rec.bytes[0], rec.len[0], &out), ZBADARGUMENTS);
    assert_int_equal(zk_sm_last_applied(&h.sm), last);
    /* Undecodable bytes, committed anyway: a no-op that still takes its
     * zxid, so every replica stays at the same point. */
    uint8_t junk[40];
    memset(junk, 0xab, sizeof junk);
    assert_int_equal(zk_sm_apply(&h.sm, last + 1, junk, sizeof junk, &out), ZMARSHALLINGERROR);
    assert_int_equal(zk_sm_apply(&h.sm, last + 2, rec.bytes[0], rec.len[0] - 1, &out), ZMARSHALLINGERROR);
    assert_int_equal(zk_sm_last_applied(&h.sm), last + 2);
    assert_int_equal(zk_sm_digest(&h.sm), d);
    /* A txn prepared under another zxid is stamped with its commit zxid. */
    struct zk_request b = zkh_req(&h, ZOO_CREATE_OP, "/b");
    assert_int_equal(zkh_propose(&h, &b), ZOK);
    const struct zkh_pending *q = &h.queue[0];
    assert_int_equal(zk_sm_apply(&h.sm, last + 9, q->bytes, q->len, &out), ZOK);
    assert_int_equal(zkh_node(&h, "/b")->stat.czxid, (int64_t)last + 9);
    assert_int_equal(zkh_node(&h, "/")->stat.pzxid, (int64_t)last + 9);
    zk_apply_out_free(&out);
    recorded_free(&rec);
    zkh_free(&h);
}

/* The struct sm_ops-shaped entry points the replication core plugs in. */
static void op_adapters(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    struct recorded rec = {0};
    random_workload(&h, &rec, 21, 60);
    void *sm = zk_sm_op_create();
    assert_non_null(sm);
    for (int i = 0; i < rec.n; i++)
        assert_int_equal(zk_sm_op_apply(sm, (uint64_t)rec.zxid[i], rec.bytes[i], rec.len[i]), 0);
    assert_int_equal(zk_sm_op_apply(sm, 1, rec.bytes[0], rec.len[0]), -1);
    assert_int_equal(zk_sm_op_digest(sm), zk_sm_digest(&h.sm));
    assert_int_equal(zk_sm_op_last_applied(sm), zk_sm_last_applied(&h.sm));
    /* The last apply's results are kept for the server. */
    const struct zk_apply_out *last = zk_sm_last_out(sm);
    assert_int_equal(last->zxid, rec.zxid[rec.n - 1]);
    void *copy = zk_sm_op_clone(sm);
    assert_non_null(copy);
    assert_int_equal(zk_sm_op_digest(copy), zk_sm_op_digest(sm));
    size_t cap = zk_sm_op_snapshot_size(sm), len;
    uint8_t *buf = malloc(cap);
    assert_int_equal(zk_sm_op_snapshot_write(sm, buf, cap, &len), 0);
    assert_int_equal(zk_sm_op_snapshot_write(sm, buf, cap - 1, &len), -1);
    void *fresh = zk_sm_op_create();
    char err[128];
    assert_int_equal(zk_sm_op_snapshot_load(fresh, buf, len, err, sizeof err), 0);
    assert_int_equal(zk_sm_op_digest(fresh), zk_sm_op_digest(sm));
    buf[len / 2] ^= 1;
    assert_int_equal(zk_sm_op_snapshot_load(fresh, buf, len, err, sizeof err), -1);
    free(buf);
    zk_sm_op_destroy(fresh);
    zk_sm_op_destroy(copy);
    zk_sm_op_destroy(sm);
    zk_sm_op_destroy(NULL);
    recorded_free(&rec);
    zkh_free(&h);
}

static void sessions_in_table_and_digest(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    uint64_t d0 = zk_sm_digest(&h.sm);
    struct zk_request cs = zkh_req(&h, ZOO_CREATE_SESSION_OP, NULL);
    cs.timeout_ms = 6000;
    assert_int_equal(zkh_submit(&h, &cs), ZOK);
    const struct zk_sm_session *s = zk_sm_session(&h.sm, h.session);
    assert_non_null(s);
    assert_int_equal(s->timeout_ms, 6000);
    uint64_t d1 = zk_sm_digest(&h.sm);
    assert_int_not_equal(d1, d0);
    assert_int_equal(zkh_create(&h, "/eph", NULL, ZOO_EPHEMERAL), ZOK);
    struct zk_request cl = zkh_req(&h, ZOO_CLOSE_SESSION_OP, NULL);
    assert_int_equal(zkh_submit(&h, &cl), ZOK);
    assert_null(zk_sm_session(&h.sm, h.session));
    assert_null(zkh_node(&h, "/eph"));
    /* A new leader rebuilds its tracker from the committed table. */
    struct zk_request cs2 = zkh_req(&h, ZOO_CREATE_SESSION_OP, NULL);
    cs2.session_id = 4242;
    cs2.timeout_ms = 9000;
    assert_int_equal(zkh_submit(&h, &cs2), ZOK);
    struct session_tracker tr;
    struct session_config sc = {.tick_ms = 1000};
    session_init(&tr, &sc, 0);
    assert_int_equal(zk_sm_track_sessions(&h.sm, &tr, 50000), ZOK);
    assert_non_null(session_get(&tr, 4242));
    assert_int_equal(session_get(&tr, 4242)->expiry_ms, 60000);
    assert_null(session_get(&tr, h.session));
    session_free(&tr);
    struct zk_request cl2 = zkh_req(&h, ZOO_CLOSE_SESSION_OP, NULL);
    cl2.session_id = 4242;
    assert_int_equal(zkh_submit(&h, &cl2), ZOK);
    /* The session table is empty again; only the tree moved on. */
    assert_int_equal(h.sm.session_count, 0);
    assert_int_equal(h.sm.session_digest, 0);
    assert_int_not_equal(zk_sm_digest(&h.sm), d1);
    zkh_free(&h);
}

static void snapshot_round_trip_and_corruption(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    struct recorded rec = {0};
    struct zk_request cs = zkh_req(&h, ZOO_CREATE_SESSION_OP, NULL);
    cs.timeout_ms = 4000;
    record_submit(&h, &rec, &cs);
    random_workload(&h, &rec, 5, 120);
    size_t cap = zk_sm_snapshot_size(&h.sm), len;
    uint8_t *buf = malloc(cap);
    assert_int_equal(zk_sm_snapshot_write(&h.sm, buf, cap - 1, &len), ZBADARGUMENTS);
    assert_int_equal(zk_sm_snapshot_write(&h.sm, buf, cap, &len), ZOK);
    assert_int_equal(len, cap);
    struct zk_sm s;
    zk_sm_init(&s, NULL);
    char err[160];
    assert_int_equal(zk_sm_snapshot_load(&s, buf, len, err, sizeof err), ZOK);
    assert_int_equal(zk_sm_digest(&s), zk_sm_digest(&h.sm));
    assert_int_equal(zk_sm_last_applied(&s), zk_sm_last_applied(&h.sm));
    assert_non_null(zk_sm_session(&s, h.session));
    /* The loaded replica continues with the same txns as the original. */
    struct recorded more = {0};
    random_workload(&h, &more, 99, 40);
    struct zk_apply_out out;
    zk_apply_out_init(&out);
    for (int i = 0; i < more.n; i++)
        assert_int_equal(zk_sm_apply(&s, (uint64_t)more.zxid[i], more.bytes[i], more.len[i], &out), ZOK);
    assert_int_equal(zk_sm_digest(&s), zk_sm_digest(&h.sm));
    /* Corruption: the target keeps its state. */
    uint64_t keep = zk_sm_digest(&s);
    uint8_t *b = malloc(len);
    for (size_t i = 0; i < len; i += 7) {
        memcpy(b, buf, len);
        b[i] ^= 0x5a;
        assert_int_not_equal(zk_sm_snapshot_load(&s, b, len, err, sizeof err), ZOK);
        assert_non_null(strstr(err, "offset"));
    }
    for (size_t cut = 0; cut < len; cut += 13)
        assert_int_not_equal(zk_sm_snapshot_load(&s, buf, cut, err, sizeof err), ZOK);
    assert_int_equal(zk_sm_digest(&s), keep);
    free(b);
    free(buf);
    zk_apply_out_free(&out);
    zk_sm_free(&s);
    recorded_free(&rec);
    recorded_free(&more);
    zkh_free(&h);
}

static void clone_is_independent(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, false, false);
    assert_int_equal(zkh_create(&h, "/a", "1", 0), ZOK);
    struct zk_sm c;
    assert_int_equal(zk_sm_clone(&c, &h.sm), ZOK);
    assert_int_equal(zk_sm_digest(&c), zk_sm_digest(&h.sm));
    assert_int_equal(zkh_set(&h, "/a", "2", -1), ZOK);
    assert_int_not_equal(zk_sm_digest(&c), zk_sm_digest(&h.sm));
    assert_int_equal(zk_sm_last_applied(&c) + 1, zk_sm_last_applied(&h.sm));
    zk_sm_free(&c);
    zkh_free(&h);
}

static int64_t open_session(struct zkh *h, int64_t now_ms, int32_t timeout_ms)
{
    int64_t id;
    assert_int_equal(session_create(&h->tr, &timeout_ms, 0, now_ms, &id), ZOK);
    h->session = id;
    struct zk_request cs = zkh_req(h, ZOO_CREATE_SESSION_OP, NULL);
    cs.timeout_ms = timeout_ms;
    assert_int_equal(zkh_submit(h, &cs), ZOK);
    return id;
}

static void expiry_removes_exactly_that_sessions_ephemerals(void **state)
{
    (void)state;
    struct zkh h;
    zkh_init(&h, true, false);
    int64_t a = open_session(&h, 1000, 4000);
    assert_int_equal(zkh_create(&h, "/locks", NULL, 0), ZOK);
    assert_int_equal(zkh_create(&h, "/locks/a-", NULL, ZOO_EPHEMERAL_SEQUENTIAL), ZOK);
    assert_int_equal(zkh_create(&h, "/a-only", NULL, ZOO_EPHEMERAL), ZOK);
    int64_t b = open_session(&h, 1000, 20000);
    assert_int_equal(zkh_create(&h, "/locks/b-", NULL, ZOO_EPHEMERAL_SEQUENTIAL), ZOK);
    watch_add(&h.wm, 100, "/locks", 6, WATCH_CHILD);
    watch_add(&h.wm, 101, "/a-only", 7, WATCH_DATA);
    watch_add(&h.wm, 102, "/locks/b-0000000001", 19, WATCH_DATA);
    /* b keeps touching, a goes silent. */
    assert_int_equal(session_touch(&h.tr, b, 6000), ZOK);
    int64_t expired[4];
    assert_int_equal(session_expired(&h.tr, 5999, expired, 4), 0);
    assert_int_equal(session_expired(&h.tr, 6000, expired, 4), 1);
    assert_int_equal(expired[0], a);
    h.session = a;
    assert_int_equal(zkh_create(&h, "/late", NULL, 0), ZSESSIONEXPIRED);
    struct zk_request cl = zkh_req(&h, ZOO_CLOSE_SESSION_OP, NULL);
    assert_int_equal(zkh_submit(&h, &cl), ZOK);
    session_remove(&h.tr, a);
    assert_null(zkh_node(&h, "/locks/a-0000000000"));
    assert_null(zkh_node(&h, "/a-only"));
    assert_non_null(zkh_node(&h, "/locks/b-0000000001"));
    assert_null(zk_sm_session(&h.sm, a));
    assert_non_null(zk_sm_session(&h.sm, b));
    /* Deleted paths in sorted order: /a-only then /locks/a-...; each fires
     * its NodeDeleted and its parent's NodeChildrenChanged. */
    assert_int_equal(h.wout.count, 2);
    assert_int_equal(h.wout.events[0].conn, 101);
    assert_int_equal(h.wout.events[0].type, ZOO_EVENT_DELETED);
    assert_int_equal(h.wout.events[1].conn, 100);
    assert_int_equal(h.wout.events[1].type, ZOO_EVENT_CHILD_CHANGED);
    assert_string_equal(watch_out_str(&h.wout, h.wout.events[1].path_off), "/locks");
    assert_int_equal(watch_bits(&h.wm, 102, "/locks/b-0000000001", 19), WATCH_DATA);
    assert_int_equal(tree_ephemeral_count(&h.sm.tree), 1);
    zkh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replicas_agree_on_digest),
        cmocka_unit_test(rejections_keep_replicas_in_step),
        cmocka_unit_test(op_adapters),
        cmocka_unit_test(sessions_in_table_and_digest),
        cmocka_unit_test(snapshot_round_trip_and_corruption),
        cmocka_unit_test(clone_is_independent),
        cmocka_unit_test(expiry_removes_exactly_that_sessions_ephemerals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
