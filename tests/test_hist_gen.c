/* The history generator: deterministic per seed, honest about its options,
 * and the histories it makes have the shape the checkers' tests rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/hist_gen.h"

static char *render(const struct chk_gen_opts *o)
{
    char err[256], *buf = NULL;
    size_t len = 0;
    struct chk_history *h = chk_gen_history(o, err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    FILE *m = open_memstream(&buf, &len);
    for (uint32_t i = 0; i < h->n_events; i++)
        chk_jsonl_write_event(m, h, &h->events[i]);
    fclose(m);
    chk_history_free(h);
    return buf;
}

static void same_seed_same_bytes(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        struct chk_gen_opts o = {.model = (enum chk_model_kind)m, .n_ops = 300, .n_procs = 7,
                                 .crash_rate = 0.2, .seed = 42};
        char *a = render(&o), *b = render(&o);
        assert_string_equal(a, b);
        o.seed = 43;
        char *c = render(&o);
        assert_true(strcmp(a, c) != 0);
        free(a), free(b), free(c);
    }
}

static void shape_follows_options(void **state)
{
    (void)state;
    char err[256];
    struct chk_gen_opts o = {.model = CHK_MODEL_REGISTER, .n_ops = 500, .n_procs = 9, .seed = 3};
    struct chk_history *h = chk_gen_history(&o, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(h->n_ops, 500);
    uint32_t pending = 0, max_pending = 0, info = 0;
    for (uint32_t e = 0; e < h->n_events; e++) {
        pending += h->events[e].type == CHK_INVOKE ? 1 : 0;
        pending -= h->events[e].type != CHK_INVOKE ? 1 : 0;
        max_pending = pending > max_pending ? pending : max_pending;
        info += h->events[e].type == CHK_INFO;
    }
    assert_int_equal(info, 0);                     /* crash rate 0 */
    assert_true(max_pending <= 9 && max_pending >= 5);
    chk_history_free(h);
    o.crash_rate = 0.5;
    h = chk_gen_history(&o, err, sizeof err);
    info = 0;
    for (uint32_t i = 0; i < h->n_ops; i++)
        info += h->ops[i].status == CHK_ST_INFO;
    assert_true(info > 50 && info < 250);          /* about a quarter end unknown */
    chk_history_free(h);
}

static void zk_zxids_are_log_positions(void **state)
{
    (void)state;
    char err[256];
    struct chk_gen_opts o = {.model = CHK_MODEL_ZK, .n_ops = 400, .n_procs = 6, .crash_rate = 0.1, .seed = 9};
    struct chk_history *h = chk_gen_history(&o, err, sizeof err);
    assert_non_null(h);
    uint8_t *seen = calloc(h->n_ops + 2, 1);
    uint32_t writes = 0;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        const struct chk_op *op = &h->ops[i];
        if (op->status != CHK_ST_OK || !chk_f_is_write(op->f) || h->events[op->ret].err)
            continue;
        uint64_t z = h->events[op->ret].zxid;
        assert_int_equal(z >> 32, 1);              /* epoch 1 */
        uint32_t counter = (uint32_t)z;
        assert_true(counter >= 1 && counter <= h->n_ops);
        assert_false(seen[counter]);               /* one write per zxid */
        seen[counter] = 1;
        writes++;
    }
    assert_true(writes > 50);
    free(seen);
    chk_history_free(h);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    char err[256];
    struct chk_gen_opts o = {.model = CHK_MODEL_REGISTER, .n_ops = 0, .n_procs = 3, .seed = 1};
    assert_null(chk_gen_history(&o, err, sizeof err));
    o.n_ops = 10, o.crash_rate = 1.5;
    assert_null(chk_gen_history(&o, err, sizeof err));
    o.crash_rate = 0, o.plant = CHK_PLANT_STALE_AFTER_SYNC;   /* sync is a zk notion */
    assert_null(chk_gen_history(&o, err, sizeof err));
    assert_non_null(strstr(err, "does not fit"));
    assert_false(chk_anomaly_fits(CHK_PLANT_NON_FIFO, CHK_MODEL_KV));
    assert_true(chk_anomaly_fits(CHK_PLANT_NEVER_WRITTEN, CHK_MODEL_KV));
    bool ok;
    assert_int_equal(chk_anomaly_parse("duplicate-sequential", &ok), CHK_PLANT_DUP_SEQUENTIAL);
    assert_true(ok);
    chk_anomaly_parse("nonsense", &ok);
    assert_false(ok);
}

static void a_plant_changes_exactly_one_completion(void **state)
{
    (void)state;
    char err[256];
    struct chk_gen_opts o = {.model = CHK_MODEL_ZK, .n_ops = 300, .n_procs = 6, .crash_rate = 0.1, .seed = 5};
    char *clean = render(&o);
    for (int a = CHK_PLANT_STALE_AFTER_SYNC; a < CHK_PLANT_COUNT; a++) {
        o.plant = (enum chk_anomaly)a;
        struct chk_history *h = chk_gen_history(&o, err, sizeof err);
        if (!h)
            continue;
        chk_history_free(h);
        char *dirty = render(&o);
        int diff = 0;                              /* count differing lines */
        char *p = clean, *q = dirty;
        while (*p && *q) {
            char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
            diff += (pe - p != qe - q) || memcmp(p, q, (size_t)(pe - p));
            p = pe + 1, q = qe + 1;
        }
        /* non-fifo swaps the zxids of two writes; late-watch moves one line
         * down (every line between differs); the others touch one line */
        if (a == CHK_PLANT_LATE_WATCH)
            assert_true(diff >= 2);
        else
            assert_int_equal(diff, a == CHK_PLANT_NON_FIFO ? 2 : 1);
        free(dirty);
    }
    free(clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_bytes),
        cmocka_unit_test(shape_follows_options),
        cmocka_unit_test(zk_zxids_are_log_positions),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(a_plant_changes_exactly_one_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
