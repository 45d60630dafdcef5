/* hash64: a small portable 64-bit streaming hash for digests and hash
 * indexes. Byte order is fixed (little-endian assembly), so a digest is the
 * same on every machine. Not cryptographic.
 * Owns nothing. Never allocates. */
#ifndef ZABLAB_CORE_HASH64_H
#define ZABLAB_CORE_HASH64_H

#include <stddef.h>
#include <stdint.h>

#define HASH64_K1 0x9e3779b97f4a7c15ull
#define HASH64_K2 0xc2b2ae3d27d4eb4full

static inline uint64_t hash64_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash64_word(uint64_t h, uint64_t w)
{
    h ^= w * HASH64_K1;
    h = (h << 31) | (h >> 33);
    return h * HASH64_K2 + 0x52dce729u;
}

/* Feeds len and then the bytes, so ("ab","c") and ("a","bc") differ. */
static inline uint64_t hash64_bytes(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    h = hash64_word(h, (uint64_t)len);
    while (len >= 8) {
        uint64_t w = 0;
        for (int i = 7; i >= 0; i--)
            w = (w << 8) | p[i];
        h = hash64_word(h, w);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = len; i > 0; i--)
        w = (w << 8) | p[i - 1];
    return hash64_word(h, w);
}

static inline uint64_t hash64_path(const char *path, size_t len)
{
    return hash64_fmix(hash64_bytes(0x1234567u, path, len));
}

#endif
