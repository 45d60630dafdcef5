/* CRC-32C (Castagnoli), the checksum on every log and snapshot record.
 * Shared by the simulated disk's recovery and zabd's files, so a torn tail is
 * detected the same way in both. Pure function; table built at compile time. */
#ifndef ZABLAB_CORE_CRC32C_H
#define ZABLAB_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a running CRC: start with crc = 0. */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
/* The table-driven path, always available; crc32c_update gives the same
 * result through the CPU's crc32 instruction where it has one. */
uint32_t crc32c_update_portable(uint32_t crc, const void *data, size_t len);
/* 1 when crc32c_update uses the CPU instruction (for tests and benchmarks). */
int crc32c_hardware(void);

static inline uint32_t crc32c(const void *data, size_t len)
{
    return crc32c_update(0, data, len);
}

#endif
