/* SHA-1 against FIPS 180 examples, base64 against RFC 4648 vectors, and
 * ZooKeeper digest ids against values published in ZooKeeper's docs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/acl.h"
#include "core/base64.h"
#include "core/sha1.h"

static void hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < SHA1_DIGEST_LEN; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void fips_vectors(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } v[] = {
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[SHA1_DIGEST_LEN];
        char h[41];
        sha1(v[i].in, strlen(v[i].in), d);
        hex(d, h);
        assert_string_equal(h, v[i].want);
    }
}

static void million_a_in_odd_chunks(void **state)
{
    (void)state;
    static char buf[1000];
    memset(buf, 'a', sizeof buf);
    struct sha1_ctx c;
    sha1_init(&c);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        if (n > sizeof buf)
            n = sizeof buf;
        sha1_update(&c, buf, n);
        left -= n;
        step = step * 7 % 997 + 1;
    }
    uint8_t d[SHA1_DIGEST_LEN];
    char h[41];
    sha1_final(&c, d);
    hex(d, h);
    assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void base64_rfc4648(void **state)
{
    (void)state;
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        long n = base64_encode((const uint8_t *)in[i], strlen(in[i]), out, sizeof out);
        assert_int_equal(n, (long)strlen(want[i]));
        assert_string_equal(out, want[i]);
    }
    char tiny[4];
    assert_int_equal(base64_encode((const uint8_t *)"foo", 3, tiny, sizeof tiny), -1);
}

static void digest_ids(void **state)
{
    (void)state;
    char out[128];
    /* ZooKeeper's admin guide: super digest for password "admin". */
    assert_int_equal(acl_digest_id("super:admin", 11, out, sizeof out), ZOK);
    assert_string_equal(out, "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=");
    /* Independent derivation: base64 of the SHA-1 of the whole "u:p". */
    uint8_t d[SHA1_DIGEST_LEN];
    char b64[32], want[64];
    sha1("super:secret", 12, d);
    base64_encode(d, sizeof d, b64, sizeof b64);
    snprintf(want, sizeof want, "super:%s", b64);
    assert_int_equal(acl_digest_id("super:secret", 12, out, sizeof out), ZOK);
    assert_string_equal(out, want);
    assert_string_equal(out, "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
    assert_int_equal(acl_digest_id("nocolon", 7, out, sizeof out), ZBADARGUMENTS);
    assert_int_equal(acl_digest_id("a:b", 3, out, 8), ZBADARGUMENTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fips_vectors),
        cmocka_unit_test(million_a_in_odd_chunks),
        cmocka_unit_test(base64_rfc4648),
        cmocka_unit_test(digest_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
