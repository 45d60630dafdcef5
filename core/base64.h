/* base64: standard alphabet with '=' padding (RFC 4648), as Java's
 * Base64.getEncoder() produces for ZooKeeper digest ids.
 * Owns nothing. Never allocates. */
#ifndef ZABLAB_CORE_BASE64_H
#define ZABLAB_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes, excluding the NUL. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the encoding and a NUL into out (cap bytes). Returns the encoded
 * length, or -1 if cap < BASE64_ENCODED_LEN(len) + 1. */
long base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
