/* jute primitives: golden big-endian bytes, null/empty/negative lengths,
 * bounds at every offset, sticky errors, writer overflow without writing past
 * the buffer's end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/jute.h"

static void reads_big_endian(void **state)
{
    (void)state;
    const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0xff, 0xff, 0xff, 0xfe,
                          0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x02 };
    struct jute_rd rd;
    jute_rd_init(&rd, b, sizeof b);
    assert_int_equal(jute_rd_int(&rd), 0x12345678);
    assert_int_equal(jute_rd_int(&rd), -2);
    assert_true(jute_rd_long(&rd) == 0x0102030405060708LL);
    assert_false(jute_rd_bool(&rd));
    assert_true(jute_rd_bool(&rd)); /* any non-zero byte is true */
    assert_int_equal(rd.err, JUTE_OK);
    assert_int_equal(jute_rd_left(&rd), 0);
}

static void writes_big_endian(void **state)
{
    (void)state;
    uint8_t out[32];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    jute_wr_int(&wr, -2);
    jute_wr_long(&wr, (int64_t)0x8000000000000001ULL);
    jute_wr_bool(&wr, true);
    jute_wr_cstr(&wr, "ab");
    const uint8_t want[] = { 0xff, 0xff, 0xff, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x01,
                             0, 0, 0, 2, 'a', 'b' };
    assert_int_equal(wr.err, JUTE_OK);
    assert_int_equal(wr.pos, sizeof want);
    assert_memory_equal(out, want, sizeof want);
}

static void null_and_empty_buffers(void **state)
{
    (void)state;
    const uint8_t b[] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, 'x', 'y', 'z' };
    struct jute_rd rd;
    jute_rd_init(&rd, b, sizeof b);
    struct jute_buf n = jute_rd_buf(&rd);
    assert_int_equal(n.len, -1);
    assert_null(n.ptr);
    struct jute_str e = jute_rd_str(&rd);
    assert_int_equal(e.len, 0);
    assert_non_null(e.ptr);
    struct jute_str s = jute_rd_str(&rd);
    assert_int_equal(s.len, 3);
    assert_ptr_equal(s.ptr, (const char *)b + 12); /* zero copy */
    assert_true(jute_str_eq(s, "xyz"));
    assert_false(jute_str_eq(s, "xy"));
    assert_int_equal(rd.err, JUTE_OK);

    uint8_t out[8];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    jute_wr_bytes(&wr, NULL, -1);
    jute_wr_bytes(&wr, "", 0);
    assert_memory_equal(out, b, 8);
}

static void rejects_bad_lengths(void **state)
{
    (void)state;
    struct jute_rd rd;
    const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xfe, 'a', 'b' };
    jute_rd_init(&rd, neg, sizeof neg);
    jute_rd_buf(&rd);
    assert_int_equal(rd.err, JUTE_E_NEG_LEN);

    const uint8_t minint[] = { 0x80, 0, 0, 0 };
    jute_rd_init(&rd, minint, sizeof minint);
    jute_rd_str(&rd);
    assert_int_equal(rd.err, JUTE_E_NEG_LEN);

    const uint8_t longer[] = { 0, 0, 0, 3, 'a', 'b' };
    jute_rd_init(&rd, longer, sizeof longer);
    struct jute_str s = jute_rd_str(&rd);
    assert_int_equal(rd.err, JUTE_E_TOO_LONG);
    assert_null(s.ptr);

    const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 'a' };
    jute_rd_init(&rd, huge, sizeof huge);
    jute_rd_buf(&rd);
    assert_int_equal(rd.err, JUTE_E_TOO_LONG);

    /* Fits the packet but not the configured per-field maximum. */
    const uint8_t four[] = { 0, 0, 0, 4, 'a', 'b', 'c', 'd' };
    jute_rd_init(&rd, four, sizeof four);
    rd.len_max = 3;
    jute_rd_buf(&rd);
    assert_int_equal(rd.err, JUTE_E_TOO_LONG);
    jute_rd_init(&rd, four, sizeof four);
    rd.len_max = 4;
    assert_int_equal(jute_rd_buf(&rd).len, 4);
    assert_int_equal(rd.err, JUTE_OK);
}

static void vector_counts_are_bounded(void **state)
{
    (void)state;
    struct jute_rd rd;
    /* 2 elements of >= 4 bytes need 8 bytes; only 7 follow. */
    const uint8_t b[] = { 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 };
    jute_rd_init(&rd, b, sizeof b);
    assert_int_equal(jute_rd_count(&rd, 4), -1);
    assert_int_equal(rd.err, JUTE_E_COUNT);
    jute_rd_init(&rd, b, sizeof b);
    assert_int_equal(jute_rd_count(&rd, 3), 2);
    assert_int_equal(rd.err, JUTE_OK);

    const uint8_t big[] = { 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    jute_rd_init(&rd, big, sizeof big);
    jute_rd_count(&rd, 1);
    assert_int_equal(rd.err, JUTE_E_COUNT);

    const uint8_t nul[] = { 0xff, 0xff, 0xff, 0xff };
    jute_rd_init(&rd, nul, sizeof nul);
    assert_int_equal(jute_rd_count(&rd, 4), -1);
    assert_int_equal(rd.err, JUTE_OK);

    const uint8_t neg[] = { 0xff, 0xff, 0xff, 0x00 };
    jute_rd_init(&rd, neg, sizeof neg);
    jute_rd_count(&rd, 4);
    assert_int_equal(rd.err, JUTE_E_NEG_LEN);
}

/* A record of every primitive, cut at every length: only the full length
 * decodes; every shorter one fails with JUTE_E_SHORT or JUTE_E_TOO_LONG. */
static void truncation_at_every_offset(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct jute_wr wr;
    jute_wr_init(&wr, buf, sizeof buf);
    jute_wr_int(&wr, 7);
    jute_wr_long(&wr, -9);
    jute_wr_bool(&wr, true);
    jute_wr_cstr(&wr, "hello");
    jute_wr_bytes(&wr, NULL, -1);
    assert_int_equal(wr.err, JUTE_OK);
    for (size_t cut = 0; cut <= wr.pos; cut++) {
        struct jute_rd rd;
        jute_rd_init(&rd, buf, cut);
        int32_t i = jute_rd_int(&rd);
        int64_t l = jute_rd_long(&rd);
        bool b = jute_rd_bool(&rd);
        struct jute_str s = jute_rd_str(&rd);
        struct jute_buf n = jute_rd_buf(&rd);
        if (cut == wr.pos) {
            assert_int_equal(rd.err, JUTE_OK);
            assert_int_equal(i, 7);
            assert_true(l == -9);
            assert_true(b);
            assert_true(jute_str_eq(s, "hello"));
            assert_int_equal(n.len, -1);
        } else {
            assert_true(rd.err == JUTE_E_SHORT || rd.err == JUTE_E_TOO_LONG);
            assert_true(rd.pos <= cut);
        }
    }
}

static void errors_are_sticky(void **state)
{
    (void)state;
    const uint8_t b[] = { 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8 };
    struct jute_rd rd;
    jute_rd_init(&rd, b, sizeof b);
    jute_rd_str(&rd); /* length 9 > 8 remaining */
    assert_int_equal(rd.err, JUTE_E_TOO_LONG);
    size_t pos = rd.pos;
    assert_int_equal(jute_rd_int(&rd), 0);
    assert_int_equal(jute_rd_left(&rd), 0);
    assert_int_equal(rd.pos, pos);
    assert_int_equal(rd.err, JUTE_E_TOO_LONG); /* first error wins */
}

/* Writes the same record into every capacity from 0 up: each too-small
 * buffer reports overflow, and no byte past the capacity changes. */
static void writer_overflow_never_writes_past_cap(void **state)
{
    (void)state;
    enum { FULL = 4 + 8 + 1 + 4 + 5 };
    for (size_t cap = 0; cap <= FULL; cap++) {
        uint8_t buf[FULL + 8];
        memset(buf, 0xaa, sizeof buf);
        struct jute_wr wr;
        jute_wr_init(&wr, buf, cap);
        jute_wr_int(&wr, 1);
        jute_wr_long(&wr, 2);
        jute_wr_bool(&wr, true);
        jute_wr_cstr(&wr, "abcde");
        if (cap == FULL)
            assert_int_equal(wr.err, JUTE_OK);
        else
            assert_int_equal(wr.err, JUTE_E_OVERFLOW);
        assert_true(wr.pos <= cap);
        for (size_t i = cap; i < sizeof buf; i++)
            assert_int_equal(buf[i], 0xaa);
    }
}

static void writer_rejects_unencodable_length(void **state)
{
    (void)state;
    uint8_t buf[8];
    struct jute_wr wr;
    jute_wr_init(&wr, buf, sizeof buf);
    jute_wr_bytes(&wr, "x", -5);
    assert_int_equal(wr.err, JUTE_E_ARG);
    assert_int_equal(wr.pos, 0);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void round_trip_many_values(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int iter = 0; iter < 2000; iter++) {
        int32_t i = (int32_t)xorshift(&seed);
        int64_t l = (int64_t)xorshift(&seed);
        uint8_t data[40];
        size_t n = xorshift(&seed) % sizeof data;
        for (size_t k = 0; k < n; k++)
            data[k] = (uint8_t)xorshift(&seed);
        uint8_t buf[64];
        struct jute_wr wr;
        jute_wr_init(&wr, buf, sizeof buf);
        jute_wr_int(&wr, i);
        jute_wr_long(&wr, l);
        jute_wr_bytes(&wr, data, (int32_t)n);
        assert_int_equal(wr.err, JUTE_OK);
        assert_int_equal(wr.pos, 16 + n);
        struct jute_rd rd;
        jute_rd_init(&rd, buf, wr.pos);
        assert_int_equal(jute_rd_int(&rd), i);
        assert_true(jute_rd_long(&rd) == l);
        struct jute_buf b = jute_rd_buf(&rd);
        assert_int_equal(b.len, (int32_t)n);
        if (n)
            assert_memory_equal(b.ptr, data, n);
        assert_int_equal(jute_rd_left(&rd), 0);
    }
}

static void patch_int_rewrites_prefix(void **state)
{
    (void)state;
    uint8_t buf[8];
    struct jute_wr wr;
    jute_wr_init(&wr, buf, sizeof buf);
    jute_wr_int(&wr, 0);
    jute_wr_int(&wr, 5);
    jute_wr_patch_int(&wr, 0, 0x01020304);
    const uint8_t want[] = { 1, 2, 3, 4, 0, 0, 0, 5 };
    assert_memory_equal(buf, want, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_big_endian),
        cmocka_unit_test(writes_big_endian),
        cmocka_unit_test(null_and_empty_buffers),
        cmocka_unit_test(rejects_bad_lengths),
        cmocka_unit_test(vector_counts_are_bounded),
        cmocka_unit_test(truncation_at_every_offset),
        cmocka_unit_test(errors_are_sticky),
        cmocka_unit_test(writer_overflow_never_writes_past_cap),
        cmocka_unit_test(writer_rejects_unencodable_length),
        cmocka_unit_test(round_trip_many_values),
        cmocka_unit_test(patch_int_rewrites_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
