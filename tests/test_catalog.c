/* Every scenario in the catalog (the .scn files under scenarios/, except the
 * files, which tests/test_bug_catalog.c runs with their bug) parses, names
 * what it teaches in its opening comment, and passes its expectations on a
 * few seeds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_run.h"

#if defined(__SANITIZE_ADDRESS__)
#define SEEDS 1
#else
#define SEEDS 3
#endif

static void catalog_passes(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("scenarios/*.scn", 0, NULL, &g), 0);
    static struct scenario s;
    static struct srun_result r;
    int ran = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        if (strstr(path, "/bug-"))
            continue;
        char err[512];
        if (scn_parse_file(path, &s, err, sizeof err) != 0 || srun_validate(&s, err, sizeof err) != 0)
            fail_msg("%s", err);
        /* A demonstration that expects a violation shows it with its own seed. */
        bool demo = false;
        for (int e = 0; e < s.expect_count; e++)
            demo |= s.expects[e].kind == SCN_EXPECT_VIOLATION;
        for (uint64_t seed = 1; seed <= (demo ? 1 : SEEDS); seed++) {
            struct srun_options opt = {.seed = demo ? s.seed : seed, .seed_given = true};
            assert_int_equal(srun_run(&s, &opt, &r), 0);
            if (!r.all_pass)
                fail_msg("%s seed %" PRIu64 " failed: %s %s (replay: zablab replay %s --seed %" PRIu64 ")",
                         path, seed, r.property, r.detail, path, seed);
            assert_true(r.events > 0);
        }
        ran++;
    }
    globfree(&g);
    print_message("%d catalog scenarios x %d seeds passed\n", ran, SEEDS);
    assert_true(ran >= 8);
}

static void every_file_says_what_it_teaches(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("scenarios/*.scn", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        assert_non_null(f);
        char line[256] = "";
        char *got = fgets(line, sizeof line, f);
        fclose(f);
        if (!got || line[0] != '#' || strlen(line) < 20)
            fail_msg("%s does not open with a comment saying what it teaches", g.gl_pathv[i]);
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_file_says_what_it_teaches),
        cmocka_unit_test(catalog_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
