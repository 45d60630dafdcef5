/* Txn-log record codec and log-image scan (torn-tail detection). Shared by
 * the simulator's disk recovery and zabd. Owns the byte layout (see
 * log_record.h); never touches files. */
#include "core/log_record.h"

#include <stdio.h>
#include <string.h>

#include "core/crc32c.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* CRC over header bytes [0,24) and the payload. */
static uint32_t record_crc(const uint8_t *hdr, const uint8_t *payload, uint32_t len)
{
    uint32_t c = crc32c_update(0, hdr, 24);
    return crc32c_update(c, payload, len);
}

size_t log_record_encode(uint8_t *buf, size_t cap, uint64_t zxid, uint32_t epoch,
                         const uint8_t *payload, uint32_t payload_len)
{
    if (payload_len > LOG_RECORD_PAYLOAD_MAX || cap < log_record_size(payload_len))
        return 0;
    put_u32(buf, LOG_RECORD_MAGIC);
    put_u32(buf + 4, payload_len);
    put_u64(buf + 8, zxid);
    put_u32(buf + 16, epoch);
    put_u32(buf + 20, 0);
    if (payload_len)
        memcpy(buf + LOG_RECORD_HEADER_BYTES, payload, payload_len);
    put_u32(buf + 24, record_crc(buf, buf + LOG_RECORD_HEADER_BYTES, payload_len));
    put_u32(buf + 28, 0);
    return log_record_size(payload_len);
}

enum log_decode_status log_record_decode(const uint8_t *buf, size_t len,
                                         struct log_record *rec, size_t *used)
{
    if (len < LOG_RECORD_HEADER_BYTES)
        return LOG_DECODE_SHORT;
    if (get_u32(buf) != LOG_RECORD_MAGIC)
        return LOG_DECODE_BAD_MAGIC;
    uint32_t plen = get_u32(buf + 4);
    if (plen > LOG_RECORD_PAYLOAD_MAX)
        return LOG_DECODE_BAD_LENGTH;
    if (len - LOG_RECORD_HEADER_BYTES < plen)
        return LOG_DECODE_SHORT;
    const uint8_t *payload = buf + LOG_RECORD_HEADER_BYTES;
    if (get_u32(buf + 24) != record_crc(buf, payload, plen) || get_u32(buf + 20) != 0 ||
        get_u32(buf + 28) != 0)
        return LOG_DECODE_BAD_CRC;
    rec->zxid = get_u64(buf + 8);
    rec->epoch = get_u32(buf + 16);
    rec->payload = payload;
    rec->payload_len = plen;
    *used = log_record_size(plen);
    return LOG_DECODE_OK;
}

static const char *decode_status_str(enum log_decode_status s)
{
    switch (s) {
    case LOG_DECODE_OK: return "ok";
    case LOG_DECODE_SHORT: return "short record";
    case LOG_DECODE_BAD_MAGIC: return "bad magic";
    case LOG_DECODE_BAD_CRC: return "checksum mismatch";
    case LOG_DECODE_BAD_LENGTH: return "payload length over the maximum";
    }
    return "?";
}

/* After a bad record at `off`: does any valid record start later? Then the
 * damage is inside the log, not a torn tail. Scans byte by byte (only on the
 * failure path, once per recovery): a damaged header hides where the next
 * record starts. */
static int valid_record_follows(const uint8_t *buf, size_t len, size_t off)
{
    for (size_t p = off + 1; p + LOG_RECORD_HEADER_BYTES <= len; p++) {
        if (get_u32(buf + p) != LOG_RECORD_MAGIC)
            continue;
        struct log_record rec;
        size_t used;
        if (log_record_decode(buf + p, len - p, &rec, &used) == LOG_DECODE_OK)
            return 1;
    }
    return 0;
}

int log_scan(const uint8_t *buf, size_t len, struct log_scan *out,
             int (*on_record)(void *ctx, const struct log_record *rec, size_t offset),
             void *ctx, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    uint64_t prev_zxid = 0;
    while (off < len) {
        struct log_record rec;
        size_t used = 0;
        enum log_decode_status st = log_record_decode(buf + off, len - off, &rec, &used);
        if (st != LOG_DECODE_OK) {
            if (valid_record_follows(buf, len, off)) {
                snprintf(err, errlen, "log:%zu: %s in the middle of the log", off,
                         decode_status_str(st));
                return -1;
            }
            out->torn = 1;           /* the crash tore the last write: cut it */
            break;
        }
        if (out->n_records > 0 && rec.zxid <= prev_zxid) {
            snprintf(err, errlen, "log:%zu: zxid 0x%llx does not follow 0x%llx", off,
                     (unsigned long long)rec.zxid, (unsigned long long)prev_zxid);
            return -1;
        }
        if (on_record) {
            int rc = on_record(ctx, &rec, off);
            if (rc)
                return rc;
        }
        prev_zxid = rec.zxid;
        off += used;
        out->n_records++;
        out->valid_bytes = off;
    }
    return 0;
}
