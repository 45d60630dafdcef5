/* CRC-32C against published check values (RFC 3720 appendix B.4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/crc32c.h"

static void check_value_123456789(void **state)
{
    (void)state;
    assert_int_equal(crc32c("123456789", 9), 0xe3069283u);
}

static void rfc3720_zeros_and_ones(void **state)
{
    (void)state;
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    assert_int_equal(crc32c(buf, sizeof buf), 0x8a9136aau);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(crc32c(buf, sizeof buf), 0x62a8ab43u);
}

static void incremental_equals_whole(void **state)
{
    (void)state;
    const char *s = "the quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    uint32_t whole = crc32c(s, n);
    for (size_t cut = 0; cut <= n; cut++)
        assert_int_equal(crc32c_update(crc32c(s, cut), s + cut, n - cut), whole);
}

/* The instruction path and the table path agree on every length and every
 * misalignment (the word loop, the byte tail and the seam between them). */
static void hardware_matches_portable(void **state)
{
    (void)state;
    uint8_t buf[600];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += (len < 40 ? 1 : 37)) {
            uint32_t seed = (uint32_t)(len * 2654435761u);
            assert_int_equal(crc32c_update(seed, buf + off, len),
                             crc32c_update_portable(seed, buf + off, len));
        }
    assert_int_equal(crc32c_update_portable(0, "123456789", 9), 0xe3069283u);
    print_message("crc32c: %s path\n", crc32c_hardware() ? "sse4.2" : "portable");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_value_123456789),
        cmocka_unit_test(rfc3720_zeros_and_ones),
        cmocka_unit_test(incremental_equals_whole),
        cmocka_unit_test(hardware_matches_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
