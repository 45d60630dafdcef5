/* `zablab check` and `zablab gen-history` end to end: exit codes 0/1/2, the
 * JSON verdict, and generated histories piped into the checker. Needs the
 * binary: ZABLAB_BIN (set by `make test`), else bin/zablab. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define DATA "tests/data/histories/"

static const char *bin(void)
{
    const char *b = getenv("ZABLAB_BIN");
    return b && *b ? b : "bin/zablab";
}

/* Runs "zablab ARGS", returns the exit code; stdout goes to out. */
static int run(const char *args, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", bin(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void exit_codes(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(run("check " DATA "zk/ok-basic.jsonl", out, sizeof out), 0);
    assert_int_equal(run("check " DATA "zk/read-backwards-own-write.jsonl", out, sizeof out), 1);
    assert_non_null(strstr(out, "session 7 read /k"));
    assert_int_equal(run("check " DATA "malformed/double-invoke.jsonl", out, sizeof out), 2);
    assert_int_equal(run("check", out, sizeof out), 2);
    assert_int_equal(run("check " DATA "zk/ok-basic.jsonl --checker sideways", out, sizeof out), 2);
    assert_int_equal(run("check " DATA "reg/stale-read.edn --model register", out, sizeof out), 1);
    assert_int_equal(run("check --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "5 unknown"));
    assert_int_equal(run("check " DATA "zk/sync-strict-only.jsonl --sync-mode strict", out, sizeof out), 1);
    assert_int_equal(run("check " DATA "zk/sync-strict-only.jsonl --sync-mode zk", out, sizeof out), 0);
}

static void json_output(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(run("check " DATA "zk/ok-stale-other-session.jsonl --checker all --format json",
                         out, sizeof out), 1);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "exit")), 1);
    json_t *res = json_object_get(root, "results");
    assert_int_equal(json_array_size(res), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "verdict")), "ok");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 1), "verdict")), "violation");
    json_decref(root);
}

static void generated_histories_through_the_cli(void **state)
{
    (void)state;
    static char out[65536];
    char args[512];
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/zablab-cli-test-%d.jsonl", (int)getpid());
    snprintf(args, sizeof args, "gen-history --model zk --ops 200 --procs 6 --crash-rate 0.1 --seed 4 > %s", tmp);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "check %s", tmp);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "gen-history --model zk --ops 200 --procs 6 --crash-rate 0.1 --seed 4 "
             "--plant never-written > %s", tmp);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "check %s", tmp);
    assert_int_equal(run(args, out, sizeof out), 1);
    snprintf(args, sizeof args, "gen-history --model register --ops 100 --procs 5 --crash-rate 0.2 "
             "--seed 2 --format edn > %s.edn", tmp);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "check %s.edn", tmp);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_int_equal(run("gen-history --model zk --format edn", out, sizeof out), 2);
    assert_int_equal(run("gen-history --model register --plant non-fifo", out, sizeof out), 2);
    remove(tmp);
    snprintf(args, sizeof args, "%s.edn", tmp);
    remove(args);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_codes),
        cmocka_unit_test(json_output),
        cmocka_unit_test(generated_histories_through_the_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
