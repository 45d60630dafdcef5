/* Durable-state formats other than log records: the snapshot file (a sealed
 * envelope around the state machine's own snapshot bytes), and restart
 * recovery of a replica from what survived on disk. Shared by the simulator
 * and zabd. Never touches files: bytes in, bytes out. */
#ifndef ZABLAB_CORE_STORAGE_H
#define ZABLAB_CORE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

/* Snapshot file, little-endian:
 *   "ZSNP" | u32 version(1) | u64 zxid | u32 sm_len | u32 crc32c(bytes 0..19 + sm) | sm bytes */
#define STORAGE_SNAPSHOT_HEADER_BYTES 24u
#define STORAGE_SNAPSHOT_VERSION 1u

static inline size_t storage_snapshot_size(size_t sm_len)
{
    return STORAGE_SNAPSHOT_HEADER_BYTES + sm_len;
}

/* Returns bytes written, 0 if cap is too small. sm may already sit at
 * buf + STORAGE_SNAPSHOT_HEADER_BYTES: then only the header is written
 * (sealing in place saves a copy of the whole state). */
size_t storage_snapshot_encode(uint8_t *buf, size_t cap, uint64_t zxid, const uint8_t *sm,
                               size_t sm_len);
/* 0 and the parts on success; -1 with "snapshot: ..." in err. */
int storage_snapshot_decode(const uint8_t *buf, size_t len, uint64_t *zxid,
                            const uint8_t **sm, size_t *sm_len, char *err, size_t errlen);

#endif
