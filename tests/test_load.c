/* Tests of `zablab load` (cli/cmd_load.c, compiled in) against
 * tests/support/zk_fake: exact op counts, the pipelining depth, error
 * replies, a server that closes or falls silent, refused connections, usage
 * errors, and the percentile arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cmd_load.c"

#include <jansson.h>

#include "tests/support/zk_fake.h"

/* Runs cmd_load with the given args (NULL-terminated) against host:port and
 * returns its exit code; its stdout is parsed as one JSON object into *out
 * when out is non-NULL (NULL stays when stdout held none). */
static int run_load(int port, json_t **out, ...)
{
    char hosts[64];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", port);
    char *argv[32] = {"load", "--hosts", hosts, "--format", "json"};
    int argc = 5;
    va_list ap;
    va_start(ap, out);
    for (const char *a = va_arg(ap, const char *); a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(1);
    dup2(fileno(tmp), 1);
    int rc = cmd_load(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    if (out) {
        rewind(tmp);
        json_error_t jerr;
        *out = json_loadf(tmp, JSON_DISABLE_EOF_CHECK, &jerr);
    }
    fclose(tmp);
    return rc;
}

static long long jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_non_null(v);
    return json_integer_value(v);
}

static void test_exact_ops_each_kind(void **state)
{
    (void)state;
    static const char *ops[] = {"create", "setData", "getData"};
    for (int i = 0; i < 3; i++) {
        int port;
        struct zk_fake *f = zk_fake_start(NULL, &port);
        assert_non_null(f);
        json_t *j = NULL;
        int rc = run_load(port, &j, "--op", ops[i], "--ops", "500", "--outstanding", "16",
                          "--sessions", "4", NULL);
        assert_int_equal(rc, 0);
        assert_non_null(j);
        assert_int_equal(jint(j, "ops"), 500);
        assert_int_equal(jint(j, "errors"), 0);
        assert_int_equal(jint(j, "sessions"), 4);
        assert_string_equal(json_string_value(json_object_get(j, "op")), ops[i]);
        double rate = json_real_value(json_object_get(j, "ops_per_s"));
        assert_true(rate > 0);
        assert_true(json_real_value(json_object_get(j, "p50_ms")) <=
                    json_real_value(json_object_get(j, "p99_ms")));
        /* setData/getData create 16 keys per session (+ 2 parents) first. */
        uint64_t setup = i == 0 ? 2 : 2 + 4 * LOAD_KEYS_PER_SESSION;
        assert_true(zk_fake_requests(f) >= 500 + setup);
        json_decref(j);
        zk_fake_stop(f);
    }
}

/* A server that stops answering after 5 replies has received exactly the
 * pipelined window beyond them: proof that N requests really are in flight. */
static void test_pipelining_depth(void **state)
{
    (void)state;
    struct zk_fake_opts fo = {.silent_after = 2 + 5};
    int port;
    struct zk_fake *f = zk_fake_start(&fo, &port);
    assert_non_null(f);
    int rc = run_load(port, NULL, "--op", "create", "--ops", "1000", "--outstanding", "8",
                      "--sessions", "1", "--timeout-ms", "300", NULL);
    assert_int_equal(rc, 1);
    /* 2 set-up creates + 5 answered + 8 in flight; the close is not a reply. */
    uint64_t got = zk_fake_requests(f);
    assert_true(got == 2 + 5 + 8 || got == 2 + 5 + 8 + 1);
    zk_fake_stop(f);
}

static void test_error_replies_counted(void **state)
{
    (void)state;
    struct zk_fake_opts fo = {.fail_every = 10};
    int port;
    struct zk_fake *f = zk_fake_start(&fo, &port);
    assert_non_null(f);
    json_t *j = NULL;
    /* getData first creates 16 keys; the 10th reply fails, so the set-up
     * stops with a message and no report. */
    int rc = run_load(port, &j, "--op", "getData", "--ops", "100", "--sessions", "1", NULL);
    assert_int_equal(rc, 1);
    assert_null(j);
    zk_fake_stop(f);
    /* create: replies 1-2 are the set-up creates, then 98 measured ones of
     * which replies 10, 20, ..., 100 fail: 10 errors. */
    f = zk_fake_start(&fo, &port);
    assert_non_null(f);
    rc = run_load(port, &j, "--op", "create", "--ops", "98", "--sessions", "1", NULL);
    assert_int_equal(rc, 1);
    assert_int_equal(jint(j, "ops"), 98);
    assert_int_equal(jint(j, "errors"), 10);
    assert_int_equal(jint(j, "first_error"), ZBADVERSION);
    json_decref(j);
    zk_fake_stop(f);
}

static void test_server_closes(void **state)
{
    (void)state;
    struct zk_fake_opts fo = {.close_after = 20};
    int port;
    struct zk_fake *f = zk_fake_start(&fo, &port);
    assert_non_null(f);
    json_t *j = NULL;
    int rc = run_load(port, &j, "--op", "create", "--ops", "100", "--outstanding", "4",
                      "--sessions", "1", NULL);
    assert_int_equal(rc, 1);
    assert_null(j); /* no report: the run failed */
    zk_fake_stop(f);
}

static void test_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd); /* the port is now (almost surely) closed */
    assert_int_equal(run_load(ntohs(sa.sin_port), NULL, "--ops", "1", NULL), 1);
}

static void test_usage(void **state)
{
    (void)state;
    char *no_hosts[] = {"load", "--ops", "5", NULL};
    assert_int_equal(cmd_load(3, no_hosts), 2);
    char *bad_op[] = {"load", "--hosts", "127.0.0.1:1", "--op", "delete", NULL};
    assert_int_equal(cmd_load(5, bad_op), 2);
    char *zero[] = {"load", "--hosts", "127.0.0.1:1", "--outstanding", "0", NULL};
    assert_int_equal(cmd_load(5, zero), 2);
    char *too_many[] = {"load", "--hosts", "127.0.0.1:1", "--sessions", "257", NULL};
    assert_int_equal(cmd_load(5, too_many), 2);
    char *bad_host[] = {"load", "--hosts", "127.0.0.1", NULL};
    assert_int_equal(cmd_load(3, bad_host), 2);
    char *bad_prefix[] = {"load", "--hosts", "127.0.0.1:1", "--prefix", "rel", NULL};
    assert_int_equal(cmd_load(5, bad_prefix), 2);
    char *dangling[] = {"load", "--hosts", NULL};
    assert_int_equal(cmd_load(2, dangling), 2);
}

static void test_percentiles(void **state)
{
    (void)state;
    uint32_t a[100];
    for (int i = 0; i < 100; i++)
        a[i] = (uint32_t)(i + 1) * 1000; /* 1..100 ms */
    assert_true(load_pct_ms(a, 100, 50) == 50.0);
    assert_true(load_pct_ms(a, 100, 99) == 99.0);
    assert_true(load_pct_ms(a, 100, 100) == 100.0);
    uint32_t one = 7000;
    assert_true(load_pct_ms(&one, 1, 50) == 7.0);
    assert_true(load_pct_ms(&one, 1, 99) == 7.0);
    assert_true(load_pct_ms(NULL, 0, 50) == 0.0);
    uint32_t three[] = {1000, 2000, 3000};
    assert_true(load_pct_ms(three, 3, 50) == 2.0);
    assert_true(load_pct_ms(three, 3, 99) == 3.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_ops_each_kind),
        cmocka_unit_test(test_pipelining_depth),
        cmocka_unit_test(test_error_replies_counted),
        cmocka_unit_test(test_server_closes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_percentiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
