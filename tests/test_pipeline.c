/* Differential test of prep's outstanding-changes overlay: the same random
 * request stream is prepared (a) with every txn applied before the next
 * request and (b) with up to K txns proposed but not yet applied. The
 * overlay must make (b) see exactly what (a) sees: same error codes, the
 * same txn bytes, the same final digest. */
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

static const char *const names[] = {"/a", "/a/x", "/a/y", "/b", "/b/x", "/a/x/z", "/q", "/q/"};

struct gen {
    struct zk_request req;
    struct zk_request ops[3];
    char path[32];
};

/* One random write; sessions 1..3 own ephemerals, session 3 closes now and
 * then (and comes back: ids are reused, which is fine for the overlay). */
static void gen_request(const struct zkh *h, uint32_t *seed, struct gen *g)
{
    uint32_t k = lcg(seed);
    const char *p = names[(k >> 3) % 8];
    g->req = zkh_req(h, ZOO_CREATE_OP, p);
    g->req.session_id = 1 + (int64_t)((k >> 6) % 3);
    switch (k % 8) {
    case 0: case 1:
        g->req.flags = (int32_t)((k >> 9) % 4);
        if (p[strlen(p) - 1] == '/')
            g->req.flags |= ZOO_PERSISTENT_SEQUENTIAL;
        break;
    case 2: g->req.type = ZOO_DELETE_OP; g->req.version = (int32_t)((k >> 9) % 3) - 1; break;
    case 3:
        g->req.type = ZOO_SETDATA_OP;
        g->req.version = (int32_t)((k >> 9) % 3) - 1;
        g->req.data = (const uint8_t *)"abc";
        g->req.data_len = (k >> 11) % 4;
        break;
    case 4: g->req.type = ZOO_SETACL_OP; g->req.version = (int32_t)((k >> 9) % 2) - 1; break;
    case 5: g->req.type = ZOO_CHECK_OP; g->req.version = (int32_t)((k >> 9) % 2) - 1; break;
    case 6: {
        g->req.type = ZOO_MULTI_OP;
        g->req.ops = g->ops;
        g->req.op_count = 1 + (k >> 9) % 3;
        for (uint32_t i = 0; i < g->req.op_count; i++) {
            uint32_t j = lcg(seed);
            g->ops[i] = zkh_req(h, (j % 3) == 0 ? ZOO_DELETE_OP : (j % 3) == 1 ? ZOO_CREATE_OP : ZOO_SETDATA_OP,
                                names[(j >> 4) % 7]);
            g->ops[i].flags = (int32_t)((j >> 8) % 2);
        }
        break;
    }
    default: g->req.type = ZOO_CLOSE_SESSION_OP; g->req.session_id = 3; g->req.path = NULL; break;
    }
}

static uint32_t seq_created; /* sequential children seen under /q, all runs */

static void run(uint32_t seed, int steps, uint32_t window, int *errs, uint8_t **txns, size_t *lens,
                uint64_t *digest)
{
    struct zkh h;
    zkh_init(&h, false, false);
    int n_txn = 0;
    for (int i = 0; i < steps; i++) {
        struct gen g;
        gen_request(&h, &seed, &g);
        uint32_t before = h.queued;
        errs[i] = zkh_propose(&h, &g.req);
        if (h.queued > before) {
            const struct zkh_pending *q = &h.queue[h.queued - 1];
            txns[n_txn] = malloc(q->len);
            memcpy(txns[n_txn], q->bytes, q->len);
            lens[n_txn++] = q->len;
        }
        while (h.queued >= window)
            assert_int_equal(zkh_apply_next(&h), ZOK);
    }
    while (h.queued > 0)
        assert_int_equal(zkh_apply_next(&h), ZOK);
    assert_int_equal(prep_outstanding(&h.prep), 0);
    *digest = zk_sm_digest(&h.sm);
    const struct tree_node *q = zkh_node(&h, "/q");
    seq_created += q ? (uint32_t)q->stat.cversion : 0;
    txns[n_txn] = NULL;
    zkh_free(&h);
}

static void pipelined_equals_serial(void **state)
{
    (void)state;
    enum { STEPS = 600 };
    static int errs_a[STEPS], errs_b[STEPS];
    static uint8_t *tx_a[STEPS + 1], *tx_b[STEPS + 1];
    static size_t len_a[STEPS], len_b[STEPS];
    const uint32_t windows[] = {2, 5, 17, 60};
    for (uint32_t seed = 1; seed <= 6; seed++) {
        uint64_t da, db;
        run(seed, STEPS, 1, errs_a, tx_a, len_a, &da);
        for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
            run(seed, STEPS, windows[w], errs_b, tx_b, len_b, &db);
            for (int i = 0; i < STEPS; i++)
                if (errs_a[i] != errs_b[i])
                    fail_msg("seed %u window %u step %d: serial %s, pipelined %s", seed, windows[w], i,
                             zk_err_name(errs_a[i]), zk_err_name(errs_b[i]));
            int i = 0;
            for (; tx_a[i] != NULL; i++) {
                assert_non_null(tx_b[i]);
                assert_int_equal(len_a[i], len_b[i]);
                assert_memory_equal(tx_a[i], tx_b[i], len_a[i]);
                free(tx_b[i]);
            }
            assert_null(tx_b[i]);
            assert_int_equal(da, db);
        }
        int ok = 0, kinds = 0;
        bool seen[200] = {false};
        for (int i = 0; i < STEPS; i++) {
            ok += errs_a[i] == ZOK;
            if (!seen[-errs_a[i] % 200]) {
                seen[-errs_a[i] % 200] = true;
                kinds++;
            }
        }
        /* The stream must exercise both success and several error codes. */
        assert_true(ok > STEPS / 10);
        assert_true(kinds >= 5);
        for (int i = 0; tx_a[i] != NULL; i++)
            free(tx_a[i]);
    }
    assert_true(seq_created > 0); /* sequential names were exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipelined_equals_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
