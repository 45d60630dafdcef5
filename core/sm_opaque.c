/* Placeholder state machine: the "state" is a running digest of applied txns.
 * Enough for ZAB's invariants (same zxid applied => same digest) until the
 * znode tree plugs in through the same struct sm_ops. Never does I/O. */
#include "core/sm_opaque.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


uint64_t sm_hash64(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    /* splitmix64 finaliser: FNV alone mixes the last bytes weakly */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

uint64_t sm_digest_fold(uint64_t digest, uint64_t zxid, uint64_t payload_hash)
{
    uint8_t buf[24];
    for (int i = 0; i < 8; i++) {
        buf[i] = (uint8_t)(digest >> (8 * i));
        buf[8 + i] = (uint8_t)(zxid >> (8 * i));
        buf[16 + i] = (uint8_t)(payload_hash >> (8 * i));
    }
    return sm_hash64(buf, sizeof buf);
}

static void *opaque_create(void)
{
    return calloc(1, sizeof(struct sm_opaque));
}

static void opaque_destroy(void *sm)
{
    free(sm);
}

static void *opaque_clone(const void *sm)
{
    struct sm_opaque *c = malloc(sizeof *c);
    if (c)
        memcpy(c, sm, sizeof *c);
    return c;
}

static int opaque_apply(void *sm, uint64_t zxid, const uint8_t *txn, size_t len)
{
    struct sm_opaque *s = sm;
    s->digest = sm_digest_fold(s->digest, zxid, sm_hash64(txn, len));
    s->last_applied = zxid;
    s->n_applied++;
    return 0;
}

static uint64_t opaque_digest(const void *sm)
{
    return ((const struct sm_opaque *)sm)->digest;
}

static uint64_t opaque_last_applied(const void *sm)
{
    return ((const struct sm_opaque *)sm)->last_applied;
}

static size_t opaque_snapshot_size(const void *sm)
{
    (void)sm;
    return SM_OPAQUE_SNAPSHOT_BYTES;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int opaque_snapshot_write(const void *sm, uint8_t *buf, size_t cap, size_t *len)
{
    const struct sm_opaque *s = sm;
    if (cap < SM_OPAQUE_SNAPSHOT_BYTES)
        return -1;
    buf[0] = 'Z', buf[1] = 'S', buf[2] = 'M', buf[3] = 'O';
    put_u64(buf + 4, s->digest);
    put_u64(buf + 12, s->last_applied);
    put_u64(buf + 20, s->n_applied);
    *len = SM_OPAQUE_SNAPSHOT_BYTES;
    return 0;
}

static int opaque_snapshot_load(void *sm, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct sm_opaque *s = sm;
    if (len != SM_OPAQUE_SNAPSHOT_BYTES || memcmp(buf, "ZSMO", 4) != 0) {
        snprintf(err, errlen, "opaque snapshot: bad size %zu or magic", len);
        return -1;
    }
    s->digest = get_u64(buf + 4);
    s->last_applied = get_u64(buf + 12);
    s->n_applied = get_u64(buf + 20);
    return 0;
}

const struct sm_ops sm_opaque_ops = {
    .name = "opaque",
    .create = opaque_create,
    .destroy = opaque_destroy,
    .clone = opaque_clone,
    .apply = opaque_apply,
    .digest = opaque_digest,
    .last_applied = opaque_last_applied,
    .snapshot_size = opaque_snapshot_size,
    .snapshot_write = opaque_snapshot_write,
    .snapshot_load = opaque_snapshot_load,
};
