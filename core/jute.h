/* jute: the primitive encoding of ZooKeeper's client protocol (big-endian
 * int/long, one-byte bool, length-prefixed buffer/ustring, count-prefixed
 * vector) over caller-owned bounded buffers.
 *
 * Owns: bounds checking of every read and write. A reader never touches a
 * byte outside [p, p+len); a writer never touches one outside [p, p+cap).
 * Errors are sticky: after the first failure every later call is a no-op that
 * returns zero/null, so a decoder may read a whole record and check `err`
 * once at the end.
 * Never: allocate, copy payload bytes on read (results point into the input),
 * or abort on bad input. */
#ifndef ZABLAB_CORE_JUTE_H
#define ZABLAB_CORE_JUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status values shared with core/zk_proto (which adds its own above 16). */
enum jute_err {
    JUTE_OK = 0,
    JUTE_E_SHORT = 1,      /* fewer bytes left than the field needs */
    JUTE_E_NEG_LEN = 2,    /* a length or count below -1 */
    JUTE_E_TOO_LONG = 3,   /* a length above the remaining bytes or len_max */
    JUTE_E_COUNT = 4,      /* a vector count that cannot fit the remaining bytes */
    JUTE_E_OVERFLOW = 5,   /* writer: the output buffer is full */
    JUTE_E_ARG = 6,        /* writer: a length the encoding cannot express */
};

const char *jute_strerror(int err);

/* A length-prefixed byte run inside some packet. len == -1 is jute's null
 * (kazoo sends it for empty data); ptr is then NULL. Never NUL-terminated. */
struct jute_buf {
    const uint8_t *ptr;
    int32_t len;
};

/* A ustring: same wire form as a buffer, UTF-8 by convention (not checked
 * here; path validation belongs to the data tree). */
struct jute_str {
    const char *ptr;
    int32_t len;
};

struct jute_rd {
    const uint8_t *p;
    size_t len, pos;
    int err;
    /* Largest buffer/ustring accepted (0 = bounded only by the remaining
     * bytes). Lets a server enforce jute.maxbuffer per field. */
    size_t len_max;
};

struct jute_wr {
    uint8_t *p;
    size_t cap, pos;
    int err;
};

void jute_rd_init(struct jute_rd *rd, const void *data, size_t len);
static inline size_t jute_rd_left(const struct jute_rd *rd)
{
    return rd->err ? 0 : rd->len - rd->pos;
}
int32_t jute_rd_int(struct jute_rd *rd);
int64_t jute_rd_long(struct jute_rd *rd);
bool jute_rd_bool(struct jute_rd *rd);
struct jute_buf jute_rd_buf(struct jute_rd *rd);
struct jute_str jute_rd_str(struct jute_rd *rd);
/* Reads a vector count: -1 (null) or 0..N where N * elem_min_bytes fits the
 * remaining bytes. elem_min_bytes is the smallest encoding of one element
 * (4 for a ustring), so a forged count of 2^31 fails here, before any caller
 * sizes an array from it. */
int32_t jute_rd_count(struct jute_rd *rd, size_t elem_min_bytes);
/* Marks the reader failed with err unless it already failed. */
void jute_rd_fail(struct jute_rd *rd, int err);

void jute_wr_init(struct jute_wr *wr, void *buf, size_t cap);
void jute_wr_int(struct jute_wr *wr, int32_t v);
void jute_wr_long(struct jute_wr *wr, int64_t v);
void jute_wr_bool(struct jute_wr *wr, bool v);
/* len == -1 writes null (data ignored); len < -1 sets JUTE_E_ARG. */
void jute_wr_bytes(struct jute_wr *wr, const void *data, int32_t len);
void jute_wr_buf(struct jute_wr *wr, struct jute_buf b);
void jute_wr_str(struct jute_wr *wr, struct jute_str s);
/* Writes a C string as a ustring; NULL writes null. */
void jute_wr_cstr(struct jute_wr *wr, const char *s);
void jute_wr_raw(struct jute_wr *wr, const void *data, size_t len);
/* Overwrites 4 bytes at an earlier offset (a frame length placeholder). */
void jute_wr_patch_int(struct jute_wr *wr, size_t at, int32_t v);

/* Convenience constructors; jute_str_c points at a NUL-terminated string. */
struct jute_str jute_str_c(const char *s);
bool jute_str_eq(struct jute_str s, const char *c);

#endif
