/* zabd's read-only mode with a real client nobody here wrote: runs
 * tests/real/kazoo_readonly.py (kazoo read_only=True against a 3-server
 * zabd ensemble with readonlymode.enabled; two servers SIGKILLed; reads on
 * the survivor in CONNECTED_RO, a write fails with NotReadOnlyCallError; the
 * two restart and kazoo gets a read-write session). Skipped only when
 * python3-kazoo is not installed (exit 77). Bounded by the script's own
 * waits; processes are started and stopped by PID there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/real_run.h"

static void kazoo_read_only_mode(void **state)
{
    (void)state;
    char *argv[] = {"tests/real/kazoo_readonly.py", NULL};
    int rc = real_run_script(argv);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kazoo_read_only_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
