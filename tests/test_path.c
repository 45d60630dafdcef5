/* Path validation as ZooKeeper's PathUtils.validatePath, table driven, and
 * the parent/basename helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/path.h"
#include "core/zk_types.h"

struct path_case {
    const char *path;
    int want;
};

static const struct path_case path_cases[] = {
    {"/", ZOK},
    {"/a", ZOK},
    {"/a/b/c", ZOK},
    {"/zookeeper/quota", ZOK},
    {"/a.b", ZOK},
    {"/...", ZOK},
    {"/a/.b", ZOK},
    {"/a/b..", ZOK},
    {"/caf\xc3\xa9", ZOK},          /* U+00E9 */
    {"/\xe4\xb8\xad", ZOK},          /* U+4E2D */
    {"", ZBADARGUMENTS},
    {"a", ZBADARGUMENTS},
    {"a/b", ZBADARGUMENTS},
    {"/a/", ZBADARGUMENTS},
    {"//", ZBADARGUMENTS},
    {"/a//b", ZBADARGUMENTS},
    {"/.", ZBADARGUMENTS},
    {"/..", ZBADARGUMENTS},
    {"/a/./b", ZBADARGUMENTS},
    {"/a/../b", ZBADARGUMENTS},
    {"/a/..", ZBADARGUMENTS},
    {"/a\x01", ZBADARGUMENTS},
    {"/a\x1f", ZBADARGUMENTS},
    {"/a\x7f", ZBADARGUMENTS},
    {"/a\xc2\x85", ZBADARGUMENTS},   /* U+0085 */
    {"/a\xef\xbf\xb0", ZBADARGUMENTS}, /* U+FFF0 */
    {"/a\xee\x80\x80", ZBADARGUMENTS}, /* U+E000 private use */
    {"/a\xf0\x9f\x98\x80", ZBADARGUMENTS}, /* emoji: surrogates in Java */
    {"/a\xc3", ZBADARGUMENTS},       /* truncated UTF-8 */
    {"/a\xc0\xaf", ZBADARGUMENTS},   /* overlong '/' */
    {"/a\xff", ZBADARGUMENTS},
};

static void validate_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
        const struct path_case *c = &path_cases[i];
        int got = zk_path_validate(c->path, strlen(c->path));
        if (got != c->want)
            fail_msg("path %zu \"%s\": got %d want %d", i, c->path, got, c->want);
    }
}

static void embedded_nul_rejected(void **state)
{
    (void)state;
    assert_int_equal(zk_path_validate("/a\0b", 4), ZBADARGUMENTS);
    assert_int_equal(zk_path_validate(NULL, 0), ZBADARGUMENTS);
}

static void length_bound(void **state)
{
    (void)state;
    static char buf[ZK_PATH_MAX + 2];
    memset(buf, 'x', sizeof buf);
    buf[0] = '/';
    assert_int_equal(zk_path_validate(buf, ZK_PATH_MAX), ZOK);
    assert_int_equal(zk_path_validate(buf, ZK_PATH_MAX + 1), ZBADARGUMENTS);
}

static void sequential_allows_trailing_slash(void **state)
{
    (void)state;
    assert_int_equal(zk_path_validate_create("/q/", 3, true), ZOK);
    assert_int_equal(zk_path_validate_create("/q/", 3, false), ZBADARGUMENTS);
    assert_int_equal(zk_path_validate_create("/q/.", 4, true), ZOK);
    assert_int_equal(zk_path_validate_create("/q//", 4, true), ZBADARGUMENTS);
    assert_int_equal(zk_path_validate_create("/q/./", 5, true), ZBADARGUMENTS);
}

static void parent_and_basename(void **state)
{
    (void)state;
    assert_int_equal(zk_path_parent_len("/a/bc", 5), 2);
    assert_int_equal(zk_path_parent_len("/a", 2), 1);
    assert_int_equal(zk_path_parent_len("/", 1), 0);
    assert_int_equal(zk_path_basename_off("/a/bc", 5), 3);
    assert_int_equal(zk_path_basename_off("/x", 2), 1);
    assert_true(zk_path_is_prefix("/a", 2, "/a/b", 4));
    assert_true(zk_path_is_prefix("/a", 2, "/a", 2));
    assert_false(zk_path_is_prefix("/a", 2, "/ab", 3));
    assert_true(zk_path_is_prefix("/", 1, "/ab", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate_table),
        cmocka_unit_test(embedded_nul_rejected),
        cmocka_unit_test(length_bound),
        cmocka_unit_test(sequential_allows_trailing_slash),
        cmocka_unit_test(parent_and_basename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
