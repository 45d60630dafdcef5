/* Real clients nobody here wrote, against a 3-server zabd ensemble of this
 * build: kazoo (Debian's python3-kazoo; tests/real/run_kazoo.sh: CRUD, multi,
 * ephemeral and sequential nodes, watches, the Lock, Election, Counter and
 * Queue recipes, a session surviving the SIGKILL of its server) and the
 * Apache C client's CLI (zookeeper-bin's cli_mt; tests/real/run_c_client.sh:
 * create, get, set, ls, delete). A test is skipped only when its client is
 * not installed (exit 77). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/real_run.h"

static void run_expecting_success(char *script)
{
    char *argv[] = {script, NULL};
    int rc = real_run_script(argv);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
}

static void test_kazoo_suite_against_zabd(void **state)
{
    (void)state;
    run_expecting_success("tests/real/run_kazoo.sh");
}

static void test_c_client_against_zabd(void **state)
{
    (void)state;
    run_expecting_success("tests/real/run_c_client.sh");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kazoo_suite_against_zabd),
        cmocka_unit_test(test_c_client_against_zabd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
