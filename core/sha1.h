/* sha1: SHA-1 (FIPS 180-4), used only for ZooKeeper's digest ACL ids
 * (base64(sha1("user:password"))) and session passwords. Not for security
 * beyond what ZooKeeper itself offers.
 * Owns: the hashing context. Never allocates. */
#ifndef ZABLAB_CORE_SHA1_H
#define ZABLAB_CORE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

struct sha1_ctx {
    uint32_t h[5];
    uint64_t total_len;
    uint8_t block[64];
    size_t block_len;
};

void sha1_init(struct sha1_ctx *ctx);
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len);
void sha1_final(struct sha1_ctx *ctx, uint8_t out[SHA1_DIGEST_LEN]);
void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);

#endif
