/* The black-box linearizability checker: hand-written histories with their
 * expected verdicts, a brute-force cross-check on thousands of small random
 * histories (valid or not), generated valid histories, planted anomalies,
 * counterexamples and the budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/hist_gen.h"
#include "check/linearizable.h"

#define DATA "tests/data/histories/"

static void manifest_linear_cases(void **state)
{
    (void)state;
    FILE *f = fopen(DATA "expect.txt", "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *fields[6], *p = line;
        for (int i = 0; i < 6; i++)
            fields[i] = strsep(&p, "|");
        if (strcmp(fields[1], "linear"))
            continue;
        char path[512], err[512];
        snprintf(path, sizeof path, DATA "%s", fields[0]);
        struct chk_history *h = chk_history_load(path, CHK_FMT_AUTO, err, sizeof err);
        if (!h)
            fail_msg("%s", err);
        bool zk = strstr(fields[0], "zk/") != NULL, kv = strstr(fields[0], "kv") != NULL;
        struct chk_lin_opts o = {.model = zk ? CHK_MODEL_ZK : kv ? CHK_MODEL_KV : CHK_MODEL_REGISTER};
        struct chk_lin_result r;
        enum chk_verdict v = chk_linearizable(h, &o, &r);
        if (strcmp(chk_verdict_name(v), fields[3]))
            fail_msg("%s: got %s: %s", fields[0], chk_verdict_name(v), r.msg);
        if (strcmp(fields[5], "-") && !strstr(r.msg, fields[5]))
            fail_msg("%s: message lacks \"%s\":\n%s", fields[0], fields[5], r.msg);
        chk_lin_result_free(&r);
        chk_history_free(h);
        n++;
    }
    fclose(f);
    assert_true(n >= 8);
}

/* ---- brute force -------------------------------------------------------- */

struct brute {
    struct chk_model m;
    const struct chk_history *h;
    struct chk_lin_op ops[16];
    uint32_t n;
    bool placed[16];
};

/* Tries every order that respects real time; unknown ops may be left out. */
static bool brute_from(struct brute *b, int64_t state, uint32_t left_ok)
{
    if (left_ok == 0)
        return true;
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->placed[i])
            continue;
        bool ready = true;        /* every op that returned before i began is placed */
        for (uint32_t j = 0; j < b->n && ready; j++)
            if (!b->placed[j] && b->ops[j].ok && b->h->ops[b->ops[j].op].ret < b->h->ops[b->ops[i].op].inv)
                ready = false;
        int64_t next;
        if (!ready || !chk_model_step(&b->m, state, &b->ops[i], &next))
            continue;
        b->placed[i] = true;
        bool ok = brute_from(b, next, left_ok - b->ops[i].ok);
        b->placed[i] = false;
        if (ok)
            return true;
    }
    return false;
}

/* One key at a time for kv (key 0 = the register). */
static bool brute_key(const struct chk_history *h, enum chk_model_kind kind, chk_str key)
{
    struct brute b = {.h = h};
    assert_int_equal(chk_model_init(&b.m, kind, h), 0);
    uint32_t left = 0;
    char err[128];
    for (uint32_t i = 0; i < h->n_ops; i++) {
        if (h->ops[i].status == CHK_ST_FAIL || chk_model_partition(&b.m, i) != key)
            continue;
        assert_int_equal(chk_model_prepare(&b.m, i, &b.ops[b.n], err, sizeof err), 0);
        left += b.ops[b.n++].ok;
    }
    bool ok = brute_from(&b, b.m.init, left);
    chk_model_free(&b.m);
    return ok;
}

static bool brute_linearizable(const struct chk_history *h, enum chk_model_kind kind)
{
    if (kind != CHK_MODEL_KV)
        return brute_key(h, kind, 0);
    return brute_key(h, kind, chk_str_intern((struct chk_history *)h, "a", 1))
        && brute_key(h, kind, chk_str_intern((struct chk_history *)h, "b", 1));
}

/* A random small register history: random interleaving, random results. */
static struct chk_history *random_history(unsigned *seed, bool kv)
{
    struct chk_history *h = chk_history_new("random");
    int pending[3] = {-1, -1, -1};
    struct chk_event inv[3];
    uint32_t n_ops = 0, target = 3 + (uint32_t)(rand_r(seed) % 7);
    chk_str keys[2] = {chk_str_intern(h, "a", 1), chk_str_intern(h, "b", 1)};
    chk_str vals[3] = {0, chk_str_intern(h, "x", 1), chk_str_intern(h, "y", 1)};
    while (n_ops < target || pending[0] >= 0 || pending[1] >= 0 || pending[2] >= 0) {
        int p = rand_r(seed) % 3;
        struct chk_event e = {.process = p, .session = p, .version = -1, .has_value = true};
        if (pending[p] < 0 && n_ops < target) {
            int k = rand_r(seed) % 3;
            e.type = CHK_INVOKE;
            e.f = kv ? (k == 0 ? CHK_F_GET : k == 1 ? CHK_F_PUT : CHK_F_APPEND)
                     : (k == 0 ? CHK_F_READ : k == 1 ? CHK_F_WRITE : CHK_F_CAS);
            e.ival = rand_r(seed) % 3, e.ival2 = rand_r(seed) % 3;
            e.key = keys[rand_r(seed) % 2];
            e.sval = vals[1 + rand_r(seed) % 2];
            e.nil = e.f == CHK_F_READ || e.f == CHK_F_GET;
            inv[p] = e;
            pending[p] = (int)n_ops++;
        } else if (pending[p] >= 0) {
            e = inv[p];
            int t = rand_r(seed) % 10;
            e.type = t < 6 ? CHK_OK : t < 8 ? CHK_INFO : CHK_FAIL;
            if (e.f == CHK_F_READ && e.type == CHK_OK) {
                e.nil = rand_r(seed) % 4 == 0;
                e.ival = rand_r(seed) % 3;
            }
            if (e.f == CHK_F_GET && e.type == CHK_OK)
                e.sval = 0;              /* filled below from a few plausible values */
            if (e.f == CHK_F_GET && e.type == CHK_OK) {
                static const char *const g[] = {"", "x", "y", "xy", "yx", "xx"};
                const char *s = g[rand_r(seed) % 6];
                e.sval = *s ? chk_str_intern(h, s, strlen(s)) : 0;
            }
            pending[p] = -1;
        } else {
            continue;
        }
        chk_history_add(h, &e);
    }
    char err[128];
    assert_int_equal(chk_history_pair(h, err, sizeof err), 0);
    return h;
}

static void cross_check(bool kv, int rounds)
{
    unsigned seed = kv ? 99 : 7;
    int bad = 0, good = 0;
    for (int i = 0; i < rounds; i++) {
        struct chk_history *h = random_history(&seed, kv);
        struct chk_lin_opts o = {.model = kv ? CHK_MODEL_KV : CHK_MODEL_REGISTER};
        struct chk_lin_result r;
        enum chk_verdict v = chk_linearizable(h, &o, &r);
        bool want = brute_linearizable(h, o.model);
        if ((v == CHK_VERDICT_OK) != want) {
            for (uint32_t e = 0; e < h->n_events; e++)
                chk_jsonl_write_event(stderr, h, &h->events[e]);
            fail_msg("round %d: checker says %s, brute force says %s\n%s", i, chk_verdict_name(v),
                     want ? "ok" : "violation", r.msg);
        }
        if (v == CHK_VERDICT_VIOLATION) {
            assert_true(r.n_stuck > 0);   /* a counterexample names what cannot be placed */
            bad++;
        } else {
            good++;
        }
        chk_lin_result_free(&r);
        chk_history_free(h);
    }
    assert_true(bad > rounds / 10);       /* the random mix holds both kinds */
    assert_true(good > rounds / 10);
}

static void agrees_with_brute_force_register(void **state)
{
    (void)state;
    cross_check(false, 5000);
}

static void agrees_with_brute_force_kv(void **state)
{
    (void)state;
    cross_check(true, 3000);
}

static void generated_valid_histories_pass(void **state)
{
    (void)state;
    char err[256];
    for (uint64_t seed = 1; seed <= 40; seed++) {
        enum chk_model_kind m = seed % 2 ? CHK_MODEL_REGISTER : CHK_MODEL_KV;
        struct chk_gen_opts g = {.model = m, .n_ops = 150, .n_procs = 8, .crash_rate = 0.2,
                                 .seed = seed, .value_range = m == CHK_MODEL_REGISTER ? 4 : 0};
        struct chk_history *h = chk_gen_history(&g, err, sizeof err);
        assert_non_null(h);
        struct chk_lin_opts o = {.model = m};
        struct chk_lin_result r;
        if (chk_linearizable(h, &o, &r) != CHK_VERDICT_OK)
            fail_msg("seed %llu: %s", (unsigned long long)seed, r.msg);
        chk_lin_result_free(&r);
        chk_history_free(h);
    }
}

static void planted_anomalies_are_caught(void **state)
{
    (void)state;
    const enum chk_anomaly kinds[] = {CHK_PLANT_LOST_WRITE, CHK_PLANT_FAILED_WRITE_VISIBLE,
                                      CHK_PLANT_NEVER_WRITTEN};
    char err[256];
    for (int m = 0; m < 2; m++)
        for (size_t k = 0; k < 3; k++) {
            int planted = 0;
            for (uint64_t seed = 1; seed <= 60 && planted < 12; seed++) {
                struct chk_gen_opts g = {.model = m ? CHK_MODEL_KV : CHK_MODEL_REGISTER, .n_ops = 120,
                                         .n_procs = 6, .crash_rate = 0.15, .seed = seed, .plant = kinds[k]};
                struct chk_history *h = chk_gen_history(&g, err, sizeof err);
                if (!h)
                    continue;            /* no place for it in this one */
                struct chk_lin_opts o = {.model = g.model};
                struct chk_lin_result r;
                if (chk_linearizable(h, &o, &r) != CHK_VERDICT_VIOLATION)
                    fail_msg("%s seed %llu not caught: %s", chk_anomaly_name(kinds[k]),
                             (unsigned long long)seed, r.msg);
                assert_true(r.n_stuck > 0);
                chk_lin_result_free(&r);
                chk_history_free(h);
                planted++;
            }
            assert_true(planted >= 10);
        }
}

static void counterexample_names_the_stale_read(void **state)
{
    (void)state;
    char err[256];
    struct chk_history *h = chk_history_load(DATA "reg/stale-read.edn", CHK_FMT_AUTO, err, sizeof err);
    assert_non_null(h);
    struct chk_lin_opts o = {.model = CHK_MODEL_REGISTER};
    struct chk_lin_result r;
    assert_int_equal(chk_linearizable(h, &o, &r), CHK_VERDICT_VIOLATION);
    assert_int_equal(r.n_prefix, 2);      /* both writes linearize */
    assert_int_equal(r.prefix[0], 0);
    assert_int_equal(r.prefix[1], 1);
    assert_int_equal(r.n_stuck, 1);
    assert_int_equal(r.stuck[0], 2);      /* the read of 1 */
    assert_non_null(strstr(r.msg, "ending in state 2"));
    chk_lin_result_free(&r);
    chk_history_free(h);
}

static void memory_budget_gives_unknown(void **state)
{
    (void)state;
    char err[256];
    struct chk_gen_opts g = {.model = CHK_MODEL_REGISTER, .n_ops = 80, .n_procs = 20,
                             .crash_rate = 0.3, .seed = 3, .value_range = 5};
    struct chk_history *h = chk_gen_history(&g, err, sizeof err);
    assert_non_null(h);
    struct chk_lin_opts o = {.model = CHK_MODEL_REGISTER, .memo_bytes_max = 1};
    struct chk_lin_result r;
    assert_int_equal(chk_linearizable(h, &o, &r), CHK_VERDICT_UNKNOWN);
    assert_non_null(strstr(r.msg, "unknown"));
    o.memo_bytes_max = 0;
    assert_int_equal(chk_linearizable(h, &o, &r), CHK_VERDICT_OK);
    chk_lin_result_free(&r);
    chk_history_free(h);
}

static void kv_is_split_by_key(void **state)
{
    (void)state;
    char err[256];
    struct chk_gen_opts g = {.model = CHK_MODEL_KV, .n_ops = 400, .n_procs = 10, .crash_rate = 0.1,
                             .seed = 5, .n_keys = 7};
    struct chk_history *h = chk_gen_history(&g, err, sizeof err);
    assert_non_null(h);
    struct chk_lin_opts o = {.model = CHK_MODEL_KV};
    struct chk_lin_result r;
    assert_int_equal(chk_linearizable(h, &o, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_partitions, 7);
    chk_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(manifest_linear_cases),
        cmocka_unit_test(agrees_with_brute_force_register),
        cmocka_unit_test(agrees_with_brute_force_kv),
        cmocka_unit_test(generated_valid_histories_pass),
        cmocka_unit_test(planted_anomalies_are_caught),
        cmocka_unit_test(counterexample_names_the_stale_read),
        cmocka_unit_test(memory_budget_gives_unknown),
        cmocka_unit_test(kv_is_split_by_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
