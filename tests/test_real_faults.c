/* Faults on real processes: tests/real/run_fault_loop.sh against a 3-server
 * zabd ensemble of this build: kazoo clients record a history while the
 * leader and followers are SIGKILLed and restarted (3 rounds); the history
 * must pass `zablab check --model zk` and no acknowledged write may be lost;
 * then a planted lost write and a planted stale read must both be reported.
 * Skipped only when kazoo is not installed (exit 77). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/real_run.h"

static void test_fault_loop_against_zabd(void **state)
{
    (void)state;
    char *argv[] = {"tests/real/run_fault_loop.sh", "--rounds", "3", NULL};
    int rc = real_run_script(argv);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_loop_against_zabd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
