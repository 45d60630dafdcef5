/* zxid: ZooKeeper's transaction id, epoch in the high 32 bits and a per-epoch
 * counter in the low 32 bits. Owns packing/unpacking only; never decides
 * anything about epochs. Pure inline functions. */
#ifndef ZABLAB_CORE_ZXID_H
#define ZABLAB_CORE_ZXID_H

#include <stdint.h>

/* A leader must not hand out a counter of 0xffffffff: ZooKeeper (ZOOKEEPER-1277)
 * forces a new epoch before the low bits would roll over. */
#define ZXID_COUNTER_MAX 0xfffffffeu

static inline uint64_t zxid_make(uint32_t epoch, uint32_t counter)
{
    return ((uint64_t)epoch << 32) | (uint64_t)counter;
}

static inline uint32_t zxid_epoch(uint64_t zxid)
{
    return (uint32_t)(zxid >> 32);
}

static inline uint32_t zxid_counter(uint64_t zxid)
{
    return (uint32_t)(zxid & 0xffffffffu);
}

/* True for e<<32: "nothing proposed yet in epoch e" (NEWLEADER's zxid). */
static inline int zxid_is_epoch_start(uint64_t zxid)
{
    return zxid_counter(zxid) == 0;
}

#endif
