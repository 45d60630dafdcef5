/* Log records: the on-disk (and simulated-disk) format of the txn log, shared
 * by the simulator and zabd. Owns encode/decode of one record and the scan of
 * a whole log image that finds the valid prefix and a torn tail. Never touches
 * files: the caller hands in bytes.
 *
 * Record layout, little-endian, 32-byte header then payload:
 *   u32 magic 'ZREC' | u32 payload_len | u64 zxid | u32 epoch | u32 flags(0)
 *   | u32 crc32c(header bytes 0..23 + payload) | u32 reserved(0) | payload */
#ifndef ZABLAB_CORE_LOG_RECORD_H
#define ZABLAB_CORE_LOG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define LOG_RECORD_MAGIC 0x4345525au          /* "ZREC" read little-endian */
#define LOG_RECORD_HEADER_BYTES 32u
#define LOG_RECORD_PAYLOAD_MAX (1u << 20)      /* jute.maxbuffer-sized txns */

struct log_record {
    uint64_t zxid;
    uint32_t epoch;            /* the epoch of the leader that proposed it */
    const uint8_t *payload;    /* points into the scanned buffer */
    uint32_t payload_len;
};

static inline size_t log_record_size(uint32_t payload_len)
{
    return LOG_RECORD_HEADER_BYTES + (size_t)payload_len;
}

/* Encodes into buf (cap bytes). Returns bytes written, or 0 if it does not fit
 * or payload_len > LOG_RECORD_PAYLOAD_MAX. */
size_t log_record_encode(uint8_t *buf, size_t cap, uint64_t zxid, uint32_t epoch,
                         const uint8_t *payload, uint32_t payload_len);

enum log_decode_status {
    LOG_DECODE_OK = 0,
    LOG_DECODE_SHORT = 1,      /* fewer bytes than the record claims: torn */
    LOG_DECODE_BAD_MAGIC = 2,
    LOG_DECODE_BAD_CRC = 3,
    LOG_DECODE_BAD_LENGTH = 4, /* payload_len over the maximum */
};

/* Decodes the record at buf. On OK fills rec and *used. */
enum log_decode_status log_record_decode(const uint8_t *buf, size_t len,
                                         struct log_record *rec, size_t *used);

/* Result of scanning a whole log image. */
struct log_scan {
    size_t n_records;          /* complete, valid records in the prefix */
    size_t valid_bytes;        /* length of that prefix: truncate the file here */
    int torn;                  /* 1 if bytes after valid_bytes were cut */
};

/* Walks records from offset 0. Calls on_record (if not NULL) for each valid
 * record in order; a nonzero return stops the scan with that value. A bad or
 * short record at the end is a torn tail (cut). A bad record followed by
 * a further valid record is corruption: returns -1 with a message
 * "log:OFFSET: ..." in err. zxids must strictly increase (else -1). */
int log_scan(const uint8_t *buf, size_t len, struct log_scan *out,
             int (*on_record)(void *ctx, const struct log_record *rec, size_t offset),
             void *ctx, char *err, size_t errlen);

#endif
