/* The zablab command as a user meets it: exit codes, JSON output shape,
 * replay reproducing a failure and its trace hash, shrink producing a
 * smaller scenario that fails the same way, explore filling a database.
 * Runs the built binary ($ZABLAB_BIN, else bin/zablab) in a temporary
 * directory it removes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

static char bin[1024], dir[64];
#define LOSSY "tests/data/cli/power-loss.scn"
#define BUG "ACK_BEFORE_FSYNC"
static long long fail_seed; /* a seed of LOSSY that fails with BUG, found by explore */

/* Runs a shell command line, captures stdout into out; returns the exit code. */
static int run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    const char *env = getenv("ZABLAB_BIN");
    char *abs = realpath(env ? env : "bin/zablab", NULL);
    assert_non_null(abs);
    snprintf(bin, sizeof bin, "%s", abs);
    free(abs);
    snprintf(dir, sizeof dir, "/tmp/zablab-cli-XXXXXX");
    assert_non_null(mkdtemp(dir));
    static char out[65536];
    assert_int_equal(run(out, sizeof out, "%s explore " LOSSY " --seeds 1..40 --bug " BUG " --format json 2>/dev/null", bin), 1);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    fail_seed = json_integer_value(json_object_get(json_array_get(json_object_get(j, "failures"), 0), "seed"));
    json_decref(j);
    assert_true(fail_seed > 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128], out[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(out, sizeof out, "%s", cmd);
    return 0;
}

static void exit_codes(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(run(out, sizeof out, "%s run scenarios/demo.scn", bin), 0);
    assert_non_null(strstr(out, "verdict: PASS"));
    /* a planted bug that loses a committed write on this seed: exit 1 */
    assert_int_equal(run(out, sizeof out, "%s run " LOSSY " --seed %lld --bug " BUG, bin, fail_seed), 1);
    assert_non_null(strstr(out, "VIOLATION "));
    char want[256];
    snprintf(want, sizeof want, "replay: zablab replay " LOSSY " --seed %lld --bug " BUG, fail_seed);
    assert_non_null(strstr(out, want));
    /* the same seed without the bug passes */
    assert_int_equal(run(out, sizeof out, "%s run " LOSSY " --seed %lld", bin, fail_seed), 0);
    /* bad input: file:line:col and exit 2, nothing runs */
    FILE *f = fopen("/tmp/zablab-cli-bad.scn", "w");
    assert_non_null(f);
    fputs("cluster voters 3\nrun 5s\nat 2s crash leaderr\n", f);
    fclose(f);
    assert_int_equal(run(out, sizeof out, "%s run /tmp/zablab-cli-bad.scn 2>&1", bin), 2);
    assert_non_null(strstr(out, "/tmp/zablab-cli-bad.scn:3:"));
    unlink("/tmp/zablab-cli-bad.scn");
    assert_int_equal(run(out, sizeof out, "%s run 2>/dev/null", bin), 2);
    assert_int_equal(run(out, sizeof out, "%s run scenarios/demo.scn --seed -3 2>/dev/null", bin), 2);
    assert_int_equal(run(out, sizeof out, "%s run scenarios/demo.scn --bug NO_SUCH 2>/dev/null", bin), 2);
    assert_int_equal(run(out, sizeof out, "%s frobnicate 2>/dev/null", bin), 2);
    assert_int_equal(run(out, sizeof out, "%s run --help", bin), 0);
    assert_non_null(strstr(out, "usage: zablab run"));
}

static void json_shape(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(run(out, sizeof out, "%s run scenarios/demo.scn --format json", bin), 0);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "pass");
    assert_true(json_is_integer(json_object_get(j, "seed")));
    assert_true(json_is_string(json_object_get(j, "trace_hash")));
    assert_true(json_integer_value(json_object_get(j, "commits")) > 100);
    assert_true(json_is_null(json_object_get(j, "violation")));
    json_t *ex = json_object_get(j, "expectations");
    assert_true(json_is_array(ex) && json_array_size(ex) >= 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "verdict")), "pass");
    json_decref(j);
}

static char *field(char *out, const char *key)
{
    char *p = strstr(out, key);
    assert_non_null(p);
    return p + strlen(key);
}

static void replay_reproduces(void **state)
{
    (void)state;
    static char a[65536], b[65536];
    assert_int_equal(run(a, sizeof a, "%s run " LOSSY " --seed %lld --bug " BUG, bin, fail_seed), 1);
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(run(b, sizeof b, "cd %s && %s replay %s/" LOSSY " --seed %lld --bug " BUG " --trace t.jsonl",
                         dir, bin, cwd, fail_seed), 1);
    assert_memory_equal(field(a, "trace hash "), field(b, "trace hash "), 16);
    assert_memory_equal(field(a, "VIOLATION "), field(b, "VIOLATION "), 40);
    char path[128];
    snprintf(path, sizeof path, "%s/t.jsonl", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(run(a, sizeof a, "%s replay scenarios/demo.scn 2>/dev/null", bin), 2); /* --seed required */
}

static void shrink_is_smaller_and_fails_alike(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(run(out, sizeof out, "%s shrink " LOSSY " --seed %lld --bug " BUG " -o %s/min.scn", bin, fail_seed, dir), 0);
    int before, after;
    assert_int_equal(sscanf(strstr(out, ": ") + 2, "%d -> %d", &before, &after), 2);
    assert_true(after < before);
    /* the file fails by itself (seed and bug baked in), with the same property */
    assert_int_equal(run(out, sizeof out, "%s run %s/min.scn", bin, dir), 1);
    assert_non_null(strstr(out, "VIOLATION "));
    /* nothing to shrink: exit 1 */
    assert_int_equal(run(out, sizeof out, "%s shrink scenarios/demo.scn --seed 1 -o %s/x.scn 2>/dev/null", bin, dir), 1);
}

static void explore_fills_database(void **state)
{
    (void)state;
    static char out[65536];
    assert_int_equal(run(out, sizeof out, "%s explore scenarios/demo.scn --seeds 1..6 --jobs 2 --db %s/runs.db --format json 2>/dev/null", bin, dir), 0);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "seeds")), 6);
    assert_int_equal(json_integer_value(json_object_get(j, "passed")), 6);
    json_decref(j);
    /* shards split the seeds */
    assert_int_equal(run(out, sizeof out, "%s explore scenarios/demo.scn --seeds 1..6 --shard 2/3 --format json 2>/dev/null", bin), 0);
    j = json_loads(out, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "seeds")), 2);
    json_decref(j);
    assert_int_equal(run(out, sizeof out, "%s runs --db %s/runs.db", bin, dir), 0);
    assert_non_null(strstr(out, "scenarios/demo.scn"));
    /* a failing exploration exits 1 and names the replay */
    assert_int_equal(run(out, sizeof out, "%s explore " LOSSY " --seeds %lld..%lld --bug " BUG " 2>/dev/null", bin, fail_seed, fail_seed), 1);
    char want[64];
    snprintf(want, sizeof want, "seed %lld: ", fail_seed);
    assert_non_null(strstr(out, want));
    assert_int_equal(run(out, sizeof out, "%s explore scenarios/demo.scn --seeds 9..3 2>/dev/null", bin), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_codes),
        cmocka_unit_test(json_shape),
        cmocka_unit_test(replay_reproduces),
        cmocka_unit_test(shrink_is_smaller_and_fails_alike),
        cmocka_unit_test(explore_fills_database),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
