/* bytes: bounds-checked little-endian writer and reader for zablab's own
 * binary formats (txns, snapshots). A writer past its capacity or a reader
 * past its end sets a sticky failure flag instead of touching memory, so
 * callers check once at the end.
 * Owns nothing. Never allocates. */
#ifndef ZABLAB_CORE_BYTES_H
#define ZABLAB_CORE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct bytes_w {
    uint8_t *buf;   /* NULL: only count */
    size_t cap;
    size_t len;
    bool overflow;
};

struct bytes_r {
    const uint8_t *buf;
    size_t len;
    size_t off;
    bool short_read;
};

static inline void bytes_w_raw(struct bytes_w *w, const void *p, size_t n)
{
    if (w->buf != NULL) {
        if (n > w->cap - w->len || w->len > w->cap) {
            w->overflow = true;
            return;
        }
        if (n > 0)
            memcpy(w->buf + w->len, p, n);
    }
    w->len += n;
}

static inline void bytes_w_u64(struct bytes_w *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    bytes_w_raw(w, b, 8);
}

static inline void bytes_w_u32(struct bytes_w *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    bytes_w_raw(w, b, 4);
}

static inline void bytes_w_u8(struct bytes_w *w, uint8_t v)
{
    bytes_w_raw(w, &v, 1);
}

/* Length-prefixed (u32) byte string. */
static inline void bytes_w_blob(struct bytes_w *w, const void *p, size_t n)
{
    bytes_w_u32(w, (uint32_t)n);
    bytes_w_raw(w, p, n);
}

static inline const uint8_t *bytes_r_raw(struct bytes_r *r, size_t n)
{
    if (r->short_read || n > r->len - r->off) {
        r->short_read = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->off;
    r->off += n;
    return p;
}

static inline uint64_t bytes_r_u64(struct bytes_r *r)
{
    const uint8_t *p = bytes_r_raw(r, 8);
    uint64_t v = 0;
    for (int i = 7; p != NULL && i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint32_t bytes_r_u32(struct bytes_r *r)
{
    const uint8_t *p = bytes_r_raw(r, 4);
    uint32_t v = 0;
    for (int i = 3; p != NULL && i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint8_t bytes_r_u8(struct bytes_r *r)
{
    const uint8_t *p = bytes_r_raw(r, 1);
    return p ? p[0] : 0;
}

/* Length-prefixed byte string of at most `max` bytes; a longer length is
 * a failure (never an allocation or a read past the end). */
static inline const uint8_t *bytes_r_blob(struct bytes_r *r, uint32_t max, uint32_t *n)
{
    *n = bytes_r_u32(r);
    if (r->short_read || *n > max) {
        r->short_read = true;
        *n = 0;
        return NULL;
    }
    return bytes_r_raw(r, *n);
}

#endif
