/* The durable-state no-lost-writes check (sim/nlw.h) on hand-built disk
 * images: a log of txn records and a snapshot of a zk_sm. Every kind of
 * loss it claims to catch is planted here, next to the look-alikes that
 * are not losses (a node deleted or created again later, a server that has
 * not reached the write). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log_record.h"
#include "core/storage.h"
#include "core/txn.h"
#include "core/zk_sm.h"
#include "core/zxid.h"
#include "sim/nlw.h"

#define SESSION 0x1234
#define TXN_MAX 512
#define OPS_MAX 16

static const struct zk_acl open_acl = {.perms = ZOO_PERM_ALL,
                                       .id = {.scheme = "world", .id = "anyone"}};

/* One txn: its zxid, encoded bytes. */
struct t { uint64_t zxid; uint8_t b[TXN_MAX]; size_t len; int32_t cxid; };

static struct t txns[OPS_MAX];
static int n_txns;

static uint64_t Z(uint32_t counter) { return zxid_make(1, counter); }

static void add(int32_t type, const char *path, int32_t version, int32_t cxid, int64_t session)
{
    assert_true(n_txns < OPS_MAX);
    struct t *t = &txns[n_txns];
    t->zxid = Z((uint32_t)n_txns + 1);
    t->cxid = cxid;
    struct zk_txn x = {.session_id = session, .cxid = cxid, .zxid = (int64_t)t->zxid,
                       .time_ms = 1000, .type = type};
    x.op = (struct zk_txn_op){.type = type, .path = path, .path_len = (uint32_t)strlen(path),
                              .data = (const uint8_t *)"d", .data_len = 1, .acl = &open_acl,
                              .acl_count = 1, .parent_cversion = n_txns + 1, .version = version};
    assert_int_equal(zk_txn_encode(&x, t->b, sizeof t->b, &t->len), ZOK);
    n_txns++;
}

/* /w, /w/a, set /w/a (version 1), /w/b, delete /w/b, /w/c: zxids 1..6. */
static void history(void)
{
    n_txns = 0;
    add(ZOO_CREATE_OP, "/w", 0, 1, SESSION);
    add(ZOO_CREATE_OP, "/w/a", 0, 2, SESSION);
    add(ZOO_SETDATA_OP, "/w/a", 1, 3, SESSION);
    add(ZOO_CREATE_OP, "/w/b", 0, 4, SESSION);
    add(ZOO_DELETE_OP, "/w/b", 0, 5, SESSION);
    add(ZOO_CREATE_OP, "/w/c", 0, 6, SESSION);
}

/* Log image of txns [from, to) (skip: one index left out, -1 none). */
static uint8_t *log_of(int from, int to, int skip, size_t *len)
{
    uint8_t *buf = malloc(OPS_MAX * (TXN_MAX + LOG_RECORD_HEADER_BYTES));
    size_t o = 0;
    for (int i = from; i < to; i++)
        if (i != skip)
            o += log_record_encode(buf + o, 1 << 20, txns[i].zxid, 1, txns[i].b,
                                   (uint32_t)txns[i].len);
    *len = o;
    return buf;
}

/* Snapshot after applying txns [0, to) except `skip`, at zxid of txn to-1. */
static uint8_t *snap_of(int to, int skip, size_t *len)
{
    struct zk_sm sm;
    struct zk_apply_out out;
    assert_int_equal(zk_sm_init(&sm, NULL), ZOK);
    zk_apply_out_init(&out);
    for (int i = 0; i < to; i++) {
        if (i == skip) /* undecodable bytes: a no-op that keeps zxids in step */
            assert_int_equal(zk_sm_apply(&sm, txns[i].zxid, (const uint8_t *)"", 0, &out),
                             ZMARSHALLINGERROR);
        else
            assert_int_equal(zk_sm_apply(&sm, txns[i].zxid, txns[i].b, txns[i].len, &out), ZOK);
    }
    size_t sl = zk_sm_snapshot_size(&sm), got;
    uint8_t *body = malloc(sl);
    assert_int_equal(zk_sm_snapshot_write(&sm, body, sl, &got), ZOK);
    uint8_t *buf = malloc(storage_snapshot_size(got));
    *len = storage_snapshot_encode(buf, storage_snapshot_size(got), txns[to - 1].zxid, body, got);
    assert_true(*len > 0);
    free(body);
    zk_apply_out_free(&out);
    zk_sm_free(&sm);
    return buf;
}

static const uint8_t *ref(void *ctx, uint64_t zxid, uint32_t *len)
{
    (void)ctx;
    for (int i = 0; i < n_txns; i++)
        if (txns[i].zxid == zxid) {
            *len = (uint32_t)txns[i].len;
            return txns[i].b;
        }
    return NULL;
}

static struct nlw_write w_of(int i)
{
    return (struct nlw_write){txns[i].zxid, SESSION, txns[i].cxid, 0, 2};
}

static int check(const struct nlw_durable *d, const struct nlw_write *w, int n,
                 struct nlw_stats *st, char *detail)
{
    return nlw_check_durable(3, d, w, (uint32_t)n, ref, NULL, st, detail, 300);
}

static void writes_all(struct nlw_write *w)
{
    for (int i = 0; i < n_txns; i++)
        w[i] = w_of(i);
}

static void clean_log_and_snapshot_pass(void **state)
{
    (void)state;
    history();
    struct nlw_write w[OPS_MAX];
    writes_all(w);
    struct nlw_durable d = {0};
    char detail[300];
    struct nlw_stats st = {0};
    d.log = log_of(0, n_txns, -1, &d.log_len);
    assert_int_equal(check(&d, w, n_txns, &st, detail), 0);
    assert_int_equal(st.in_log, (uint32_t)n_txns);
    d.snapshot = snap_of(n_txns, -1, &d.snapshot_len);
    memset(&st, 0, sizeof st);
    assert_int_equal(check(&d, w, n_txns, &st, detail), 0);
    assert_int_equal(st.in_snapshot, (uint32_t)n_txns);
    /* Only the snapshot: every write verified against it. */
    free((void *)d.log);
    d.log = NULL;
    d.log_len = 0;
    memset(&st, 0, sizeof st);
    assert_int_equal(check(&d, w, n_txns, &st, detail), 0);
    assert_int_equal(st.in_snapshot, (uint32_t)n_txns);
    free((void *)d.snapshot);
}

/* A log that ends before a write has not reached it: it may lag. */
static void lagging_server_is_not_judged(void **state)
{
    (void)state;
    history();
    struct nlw_write w[OPS_MAX];
    writes_all(w);
    struct nlw_durable d = {0};
    struct nlw_stats st = {0};
    char detail[300];
    d.log = log_of(0, 3, -1, &d.log_len);
    assert_int_equal(check(&d, w, n_txns, &st, detail), 0);
    assert_int_equal(st.not_reached, (uint32_t)n_txns - 3);
    free((void *)d.log);
}

static void another_txn_at_the_zxid_is_caught(void **state)
{
    (void)state;
    history();
    struct nlw_write w[OPS_MAX];
    writes_all(w);
    w[3].xid = 99; /* the client was told cxid 99 committed at zxid 4 */
    struct nlw_durable d = {0};
    char detail[300];
    d.log = log_of(0, n_txns, -1, &d.log_len);
    assert_int_equal(check(&d, w, n_txns, NULL, detail), 1);
    assert_non_null(strstr(detail, "holds another txn in s3's durable log"));
    free((void *)d.log);
}

/* A crashed server's log reaches past a write but lacks it. */
static void hole_in_durable_log_is_caught(void **state)
{
    (void)state;
    history();
    struct nlw_write w[OPS_MAX];
    writes_all(w);
    struct nlw_durable d = {0};
    char detail[300];
    d.log = log_of(0, n_txns, 2, &d.log_len);
    assert_int_equal(check(&d, w, n_txns, NULL, detail), 1);
    assert_non_null(strstr(detail, "missing from s3's durable state"));
    /* The same hole under a snapshot that lacks the write's effect. */
    d.snapshot = snap_of(n_txns, 2, &d.snapshot_len);
    assert_int_equal(check(&d, w, n_txns, NULL, detail), 1);
    assert_non_null(strstr(detail, "not in s3's snapshot"));
    free((void *)d.snapshot);
    free((void *)d.log);
}

/* Snapshots whose state lost one write: each kind of write. (A lost create
 * followed by other changes under the same parent is indistinguishable
 * from a later delete by the zxid stamps: the check leaves it be.) */
static void snapshot_without_effect_is_caught(void **state)
{
    (void)state;
    static const struct { int skip; const char *why; } cases[] = {
        {2, "does not carry the set"},  /* set lost: version behind */
        {4, "still exists"},            /* delete lost */
        {5, "/w/c is gone"},            /* last create lost */
    };
    history();
    struct nlw_write w[OPS_MAX];
    writes_all(w);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct nlw_durable d = {0};
        char detail[300] = "";
        d.snapshot = snap_of(n_txns, cases[c].skip, &d.snapshot_len);
        assert_int_equal(check(&d, &w[cases[c].skip], 1, NULL, detail), 1);
        if (!strstr(detail, cases[c].why))
            fail_msg("case %zu: '%s' lacks '%s'", c, detail, cases[c].why);
        /* Every other write is intact. */
        for (int i = 0; i < n_txns; i++)
            if (i != cases[c].skip)
                assert_int_equal(check(&d, &w[i], 1, NULL, detail), 0);
        free((void *)d.snapshot);
    }
}

/* Later history explains a missing or changed node: not a loss. */
static void later_changes_are_not_losses(void **state)
{
    (void)state;
    n_txns = 0;
    add(ZOO_CREATE_OP, "/w", 0, 1, SESSION);
    add(ZOO_CREATE_OP, "/w/a", 0, 2, SESSION);
    add(ZOO_SETDATA_OP, "/w/a", 1, 3, SESSION);
    add(ZOO_DELETE_OP, "/w/a", 0, 4, SESSION);
    add(ZOO_CREATE_OP, "/w/a", 0, 5, SESSION); /* created again */
    add(ZOO_CREATE_OP, "/w/x", 0, 6, SESSION);
    add(ZOO_DELETE_OP, "/w/x", 0, 7, SESSION);
    struct nlw_write w[OPS_MAX];
    writes_all(w);
    struct nlw_durable d = {0};
    struct nlw_stats st = {0};
    char detail[300];
    d.snapshot = snap_of(n_txns, -1, &d.snapshot_len);
    assert_int_equal(check(&d, w, n_txns, &st, detail), 0);
    assert_int_equal(st.in_snapshot, (uint32_t)n_txns);
    free((void *)d.snapshot);
}

/* Covered by a snapshot, with no log anywhere holding its txn: counted as
 * unverified, never silently as verified. */
static void unverifiable_is_counted(void **state)
{
    (void)state;
    history();
    struct nlw_write w = w_of(1);
    w.zxid = Z(2);
    struct nlw_durable d = {0};
    struct nlw_stats st = {0};
    char detail[300];
    d.snapshot = snap_of(n_txns, -1, &d.snapshot_len);
    assert_int_equal(nlw_check_durable(1, &d, &w, 1, NULL, NULL, &st, detail, sizeof detail), 0);
    assert_int_equal(st.unverified, 1);
    assert_int_equal(st.in_snapshot, 0);
    free((void *)d.snapshot);
}

static void bad_images_are_not_a_verdict(void **state)
{
    (void)state;
    history();
    struct nlw_write w = w_of(0);
    uint8_t junk[64];
    memset(junk, 0x5a, sizeof junk);
    struct nlw_durable d = {.snapshot = junk, .snapshot_len = sizeof junk};
    char detail[300];
    assert_int_equal(check(&d, &w, 1, NULL, detail), -1);
    assert_non_null(strstr(detail, "snapshot"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_log_and_snapshot_pass),
        cmocka_unit_test(lagging_server_is_not_judged),
        cmocka_unit_test(another_txn_at_the_zxid_is_caught),
        cmocka_unit_test(hole_in_durable_log_is_caught),
        cmocka_unit_test(snapshot_without_effect_is_caught),
        cmocka_unit_test(later_changes_are_not_losses),
        cmocka_unit_test(unverifiable_is_counted),
        cmocka_unit_test(bad_images_are_not_a_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
