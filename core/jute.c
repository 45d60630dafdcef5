/* jute primitives: bounds-checked big-endian reads and writes. Owns nothing
 * but the cursor in the caller's buffer. Must never read or write outside it,
 * never allocate, never trust a length from the wire before comparing it with
 * what is left. */
#include "core/jute.h"

#include <assert.h>
#include <string.h>

const char *jute_strerror(int err)
{
    switch (err) {
    case JUTE_OK: return "ok";
    case JUTE_E_SHORT: return "truncated record";
    case JUTE_E_NEG_LEN: return "negative length";
    case JUTE_E_TOO_LONG: return "length exceeds remaining bytes or limit";
    case JUTE_E_COUNT: return "vector count exceeds remaining bytes";
    case JUTE_E_OVERFLOW: return "output buffer full";
    case JUTE_E_ARG: return "length not encodable";
    default: return "unknown jute error";
    }
}

void jute_rd_init(struct jute_rd *rd, const void *data, size_t len)
{
    assert(data != NULL || len == 0);
    rd->p = data;
    rd->len = len;
    rd->pos = 0;
    rd->err = JUTE_OK;
    rd->len_max = 0;
}

void jute_rd_fail(struct jute_rd *rd, int err)
{
    if (rd->err == JUTE_OK)
        rd->err = err;
}

/* Returns a pointer to n readable bytes and advances, or NULL on failure. */
static const uint8_t *rd_take(struct jute_rd *rd, size_t n)
{
    if (rd->err)
        return NULL;
    if (rd->len - rd->pos < n) {
        rd->err = JUTE_E_SHORT;
        return NULL;
    }
    const uint8_t *at = rd->p + rd->pos;
    rd->pos += n;
    return at;
}

int32_t jute_rd_int(struct jute_rd *rd)
{
    const uint8_t *b = rd_take(rd, 4);
    if (!b)
        return 0;
    uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return (int32_t)v;
}

int64_t jute_rd_long(struct jute_rd *rd)
{
    const uint8_t *b = rd_take(rd, 8);
    if (!b)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

/* Any non-zero byte is true, as Java's DataInput.readBoolean reads it. */
bool jute_rd_bool(struct jute_rd *rd)
{
    const uint8_t *b = rd_take(rd, 1);
    return b ? *b != 0 : false;
}

/* Reads a length prefix and returns a pointer to that many bytes; *len_out
 * is -1 for null. On any failure returns NULL with *len_out = -1. */
static const uint8_t *rd_lenbytes(struct jute_rd *rd, int32_t *len_out)
{
    *len_out = -1;
    int32_t n = jute_rd_int(rd);
    if (rd->err || n == -1)
        return NULL;
    if (n < -1) {
        jute_rd_fail(rd, JUTE_E_NEG_LEN);
        return NULL;
    }
    if ((size_t)n > rd->len - rd->pos || (rd->len_max && (size_t)n > rd->len_max)) {
        jute_rd_fail(rd, JUTE_E_TOO_LONG);
        return NULL;
    }
    const uint8_t *at = rd_take(rd, (size_t)n);
    *len_out = n;
    /* A zero-length run still gets a non-NULL pointer so "empty" and
     * "null" stay distinguishable by ptr as well as by len. */
    return at;
}

struct jute_buf jute_rd_buf(struct jute_rd *rd)
{
    struct jute_buf b;
    b.ptr = rd_lenbytes(rd, &b.len);
    return b;
}

struct jute_str jute_rd_str(struct jute_rd *rd)
{
    struct jute_str s;
    s.ptr = (const char *)rd_lenbytes(rd, &s.len);
    return s;
}

int32_t jute_rd_count(struct jute_rd *rd, size_t elem_min_bytes)
{
    assert(elem_min_bytes > 0);
    int32_t n = jute_rd_int(rd);
    if (rd->err)
        return -1;
    if (n < -1) {
        jute_rd_fail(rd, JUTE_E_NEG_LEN);
        return -1;
    }
    if (n > 0 && (size_t)n > (rd->len - rd->pos) / elem_min_bytes) {
        jute_rd_fail(rd, JUTE_E_COUNT);
        return -1;
    }
    return n;
}

void jute_wr_init(struct jute_wr *wr, void *buf, size_t cap)
{
    assert(buf != NULL || cap == 0);
    wr->p = buf;
    wr->cap = cap;
    wr->pos = 0;
    wr->err = JUTE_OK;
}

static uint8_t *wr_take(struct jute_wr *wr, size_t n)
{
    if (wr->err)
        return NULL;
    if (wr->cap - wr->pos < n) {
        wr->err = JUTE_E_OVERFLOW;
        return NULL;
    }
    uint8_t *at = wr->p + wr->pos;
    wr->pos += n;
    return at;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

void jute_wr_int(struct jute_wr *wr, int32_t v)
{
    uint8_t *b = wr_take(wr, 4);
    if (b)
        put_be32(b, (uint32_t)v);
}

void jute_wr_long(struct jute_wr *wr, int64_t v)
{
    uint8_t *b = wr_take(wr, 8);
    if (!b)
        return;
    put_be32(b, (uint32_t)((uint64_t)v >> 32));
    put_be32(b + 4, (uint32_t)v);
}

void jute_wr_bool(struct jute_wr *wr, bool v)
{
    uint8_t *b = wr_take(wr, 1);
    if (b)
        *b = v ? 1 : 0;
}

void jute_wr_raw(struct jute_wr *wr, const void *data, size_t len)
{
    if (len == 0)
        return;
    uint8_t *b = wr_take(wr, len);
    if (b)
        memcpy(b, data, len);
}

void jute_wr_bytes(struct jute_wr *wr, const void *data, int32_t len)
{
    if (len < -1) {
        if (!wr->err)
            wr->err = JUTE_E_ARG;
        return;
    }
    /* Check the whole field first so a failed write leaves no half field. */
    size_t need = 4 + (len > 0 ? (size_t)len : 0);
    if (!wr->err && wr->cap - wr->pos < need) {
        wr->err = JUTE_E_OVERFLOW;
        return;
    }
    jute_wr_int(wr, len);
    if (len > 0)
        jute_wr_raw(wr, data, (size_t)len);
}

void jute_wr_buf(struct jute_wr *wr, struct jute_buf b)
{
    jute_wr_bytes(wr, b.ptr, b.len);
}

void jute_wr_str(struct jute_wr *wr, struct jute_str s)
{
    jute_wr_bytes(wr, s.ptr, s.len);
}

void jute_wr_cstr(struct jute_wr *wr, const char *s)
{
    jute_wr_str(wr, jute_str_c(s));
}

void jute_wr_patch_int(struct jute_wr *wr, size_t at, int32_t v)
{
    if (wr->err)
        return;
    assert(at + 4 <= wr->pos);
    put_be32(wr->p + at, (uint32_t)v);
}

struct jute_str jute_str_c(const char *s)
{
    struct jute_str r = { s, -1 };
    if (s) {
        size_t n = strlen(s);
        r.len = n > INT32_MAX ? -1 : (int32_t)n;
        if (r.len < 0)
            r.ptr = NULL;
    }
    return r;
}

bool jute_str_eq(struct jute_str s, const char *c)
{
    if (!c)
        return s.len == -1;
    size_t n = strlen(c);
    return s.len >= 0 && (size_t)s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}
