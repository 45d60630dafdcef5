/* Determinism of the simulation kernel, through the toy driver: the same
 * seed gives a byte-identical trace and the same hash; another seed gives
 * another trace; clients with their own streams do not move the network's
 * (or anything else's) draws. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "sim/toy.h"

struct run {
    struct toy_result res;
    char *trace;
    size_t len;
};

static void run_toy(uint64_t seed, int clients, struct run *r)
{
    FILE *f = open_memstream(&r->trace, &r->len);
    assert_non_null(f);
    struct toy_config cfg = {
        .seed = seed, .nodes = 5, .clients = clients, .duration_ns = 2 * SIM_NS_PER_S,
        .ping_interval_ns = 5 * SIM_NS_PER_MS, .latency = "lognormal 0.5ms 0.6",
        .disk = true, .faults = true, .trace = true, .trace_out = f,
    };
    int rc = toy_run(&cfg, &r->res);
    fclose(f);
    if (rc != 0)
        fail_msg("toy failed: %s", r->res.err);
}

static void same_seed_same_bytes_and_hash(void **state)
{
    (void)state;
    struct run a, b;
    run_toy(42, 0, &a);
    run_toy(42, 0, &b);
    assert_true(a.len > 100000);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.trace, b.trace, a.len);
    assert_true(a.res.trace_hash == b.res.trace_hash);
    assert_int_equal(a.res.events, b.res.events);
    /* The run was not trivial: every kind of fault happened. */
    assert_true(a.res.crashes > 0 && a.res.restarts > 0 && a.res.pauses > 0);
    assert_true(a.res.partitions > 0 && a.res.lost > 0 && a.res.delivered > 1000);
    assert_true(a.res.appends > 100 && a.res.fsyncs > 10);
    free(a.trace);
    free(b.trace);
}

static void another_seed_another_trace(void **state)
{
    (void)state;
    struct run a, b;
    run_toy(42, 0, &a);
    run_toy(43, 0, &b);
    assert_true(a.res.trace_hash != b.res.trace_hash);
    assert_true(a.len != b.len || memcmp(a.trace, b.trace, a.len) != 0);
    free(a.trace);
    free(b.trace);
}

/* Hashing does not depend on whether the records are also written. */
static void hash_without_output_is_the_same(void **state)
{
    (void)state;
    struct run a;
    run_toy(7, 0, &a);
    struct toy_config cfg = {
        .seed = 7, .nodes = 5, .duration_ns = 2 * SIM_NS_PER_S, .ping_interval_ns = 5 * SIM_NS_PER_MS,
        .latency = "lognormal 0.5ms 0.6", .disk = true, .faults = true, .trace = true,
    };
    struct toy_result res;
    assert_int_equal(toy_run(&cfg, &res), 0);
    assert_true(res.trace_hash == a.res.trace_hash);
    assert_int_equal(res.records, a.res.records);
    free(a.trace);
}

/* Drops every line that a client wrote. */
static size_t strip_clients(char *buf, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        char *nl = memchr(buf + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;
        char save = buf[i + l - 1];
        buf[i + l - 1] = '\0';
        int is_client = strstr(buf + i, "\"kind\":\"client_think\"") != NULL;
        buf[i + l - 1] = save;
        if (!is_client) {
            memmove(buf + out, buf + i, l);
            out += l;
        }
        i += l;
    }
    return out;
}

static void clients_do_not_move_other_draws(void **state)
{
    (void)state;
    struct run without, with;
    run_toy(99, 0, &without);
    run_toy(99, 3, &with);
    assert_true(with.res.trace_hash != without.res.trace_hash); /* the clients are there */
    size_t stripped = strip_clients(with.trace, with.len);
    assert_true(stripped < with.len);
    assert_int_equal(stripped, without.len);
    assert_memory_equal(with.trace, without.trace, stripped);
    free(without.trace);
    free(with.trace);
}

/* Every record is one JSON object per line, time never decreasing. */
static void trace_is_json_lines_in_time_order(void **state)
{
    (void)state;
    struct run a;
    run_toy(5, 2, &a);
    size_t lines = 0;
    json_int_t prev_t = 0;
    for (char *p = a.trace, *end = a.trace + a.len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        json_error_t err;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &err);
        if (!o)
            fail_msg("line %zu: %s", lines + 1, err.text);
        json_t *t = json_object_get(o, "t_ns");
        assert_true(json_is_integer(t));
        assert_true(json_integer_value(t) >= prev_t);
        prev_t = json_integer_value(t);
        assert_true(json_is_string(json_object_get(o, "kind")));
        json_decref(o);
        lines++;
        p = nl + 1;
    }
    assert_int_equal(lines, a.res.records);
    free(a.trace);
}

static void bad_config_is_an_error(void **state)
{
    (void)state;
    struct toy_result res;
    struct toy_config cfg = {.seed = 1, .nodes = 1, .ping_interval_ns = 1};
    assert_int_equal(toy_run(&cfg, &res), -1);
    assert_non_null(strstr(res.err, "nodes"));
    cfg.nodes = 3;
    cfg.latency = "gaussian 1ms";
    assert_int_equal(toy_run(&cfg, &res), -1);
    assert_non_null(strstr(res.err, "unknown distribution"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_bytes_and_hash),
        cmocka_unit_test(another_seed_another_trace),
        cmocka_unit_test(hash_without_output_is_the_same),
        cmocka_unit_test(clients_do_not_move_other_draws),
        cmocka_unit_test(trace_is_json_lines_in_time_order),
        cmocka_unit_test(bad_config_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
