/* Snapshot envelope codec and restart recovery: snapshot + log replay with a
 * torn tail cut, then the epoch-file checks ZooKeeper's loadDataBase makes.
 * Never touches files; the driver hands in bytes and executes the actions
 * (LOG_TRUNCATE, EPOCH_WRITE) that recovery emits. */
#include "core/storage.h"

#include <stdio.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/log_record.h"
#include "core/replica_internal.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t storage_snapshot_encode(uint8_t *buf, size_t cap, uint64_t zxid, const uint8_t *sm,
                               size_t sm_len)
{
    if (sm_len > 0xffffffffu || cap < storage_snapshot_size(sm_len))
        return 0;
    memcpy(buf, "ZSNP", 4);
    put_u32(buf + 4, STORAGE_SNAPSHOT_VERSION);
    put_u32(buf + 8, (uint32_t)zxid);
    put_u32(buf + 12, (uint32_t)(zxid >> 32));
    put_u32(buf + 16, (uint32_t)sm_len);
    if (sm_len && sm != buf + STORAGE_SNAPSHOT_HEADER_BYTES)
        memcpy(buf + STORAGE_SNAPSHOT_HEADER_BYTES, sm, sm_len);
    uint32_t c = crc32c_update(crc32c(buf, 20), buf + STORAGE_SNAPSHOT_HEADER_BYTES, sm_len);
    put_u32(buf + 20, c);
    return storage_snapshot_size(sm_len);
}

int storage_snapshot_decode(const uint8_t *buf, size_t len, uint64_t *zxid,
                            const uint8_t **sm, size_t *sm_len, char *err, size_t errlen)
{
    if (len < STORAGE_SNAPSHOT_HEADER_BYTES || memcmp(buf, "ZSNP", 4) != 0) {
        snprintf(err, errlen, "snapshot:0: bad magic or %zu bytes is too short", len);
        return -1;
    }
    if (get_u32(buf + 4) != STORAGE_SNAPSHOT_VERSION) {
        snprintf(err, errlen, "snapshot:4: unknown version %u", get_u32(buf + 4));
        return -1;
    }
    uint32_t n = get_u32(buf + 16);
    if (n != len - STORAGE_SNAPSHOT_HEADER_BYTES) {
        snprintf(err, errlen, "snapshot:16: length %u but %zu bytes follow", n,
                 len - STORAGE_SNAPSHOT_HEADER_BYTES);
        return -1;
    }
    uint32_t c = crc32c_update(crc32c(buf, 20), buf + STORAGE_SNAPSHOT_HEADER_BYTES, n);
    if (c != get_u32(buf + 20)) {
        snprintf(err, errlen, "snapshot:20: checksum mismatch");
        return -1;
    }
    *zxid = (uint64_t)get_u32(buf + 8) | (uint64_t)get_u32(buf + 12) << 32;
    *sm = buf + STORAGE_SNAPSHOT_HEADER_BYTES;
    *sm_len = n;
    return 0;
}

static int load_snapshot(struct replica *r, const struct replica_durable *d, char *err,
                         size_t errlen)
{
    if (!d->snapshot || d->snapshot_len == 0)
        return REP_OK;
    uint64_t zxid;
    const uint8_t *sm;
    size_t sm_len;
    if (storage_snapshot_decode(d->snapshot, d->snapshot_len, &zxid, &sm, &sm_len, err, errlen))
        return REP_ERR_CORRUPT;
    if (r->cfg.sm->snapshot_load(r->sm, sm, sm_len, err, errlen) < 0)
        return REP_ERR_CORRUPT;
    if (r->cfg.sm->last_applied(r->sm) != zxid) {
        snprintf(err, errlen, "snapshot: envelope zxid 0x%llx but state at 0x%llx",
                 (unsigned long long)zxid, (unsigned long long)r->cfg.sm->last_applied(r->sm));
        return REP_ERR_CORRUPT;
    }
    r->snapshot_zxid = r->log_base_zxid = zxid;
    r->zxid_applied = r->zxid_committed = zxid;
    return REP_OK;
}

struct replay_ctx {
    struct replica *r;
    char *err;
    size_t errlen;
};

static int replay_record(void *ctx, const struct log_record *rec, size_t offset)
{
    struct replay_ctx *c = ctx;
    struct replica *r = c->r;
    if (rec->zxid <= r->log_base_zxid)
        return 0;          /* covered by the snapshot */
    if (rec->payload_len > r->cfg.payload_bytes_max ||
        rep_log_append(r, rec->zxid, rec->payload, rec->payload_len) < 0) {
        snprintf(c->err, c->errlen, "log:%zu: record 0x%llx does not fit the in-memory log",
                 offset, (unsigned long long)rec->zxid);
        return REP_ERR_CORRUPT;
    }
    rep_entry_at(r, r->log_hi - 1)->file_off = offset;
    return 0;
}

static int replay_log(struct replica *r, const struct replica_durable *d, char *err,
                      size_t errlen)
{
    struct log_scan scan;
    struct replay_ctx ctx = {r, err, errlen};
    int rc = log_scan(d->log, d->log ? d->log_len : 0, &scan, replay_record, &ctx, err, errlen);
    if (rc != 0)
        return rc < 0 ? REP_ERR_CORRUPT : rc;
    r->log_file_end = scan.valid_bytes;
    if (scan.torn) {
        rep_disk_truncate(r, scan.valid_bytes);
        rep_event(r, REP_EV_LOG_TORN, 0, scan.valid_bytes, d->log_len - scan.valid_bytes);
    }
    r->log_appended_hi = r->log_hi;
    r->log_durable_hi = r->log_lo;      /* fsynced at start, see replica_start */
    r->commit_hi = r->applied_hi = r->log_lo;
    r->ack_hi = r->log_hi;
    return REP_OK;
}

/* ZooKeeper's loadDataBase checks. Missing files default to the last zxid's
 * epoch. A log ahead of currentEpoch means a crash between the NEWLEADER fsync
 * and the currentEpoch write: finish that write (what ZooKeeper's
 * currentEpoch.tmp recovery does); the 1653 bug refuses to start instead. */
static int check_epochs(struct replica *r, const struct replica_durable *d, char *err,
                        size_t errlen)
{
    uint64_t last_epoch = zxid_epoch(rep_last_zxid(r));
    uint64_t current = d->has_current_epoch ? d->current_epoch : last_epoch;
    uint64_t accepted = d->has_accepted_epoch ? d->accepted_epoch
                                               : (current > last_epoch ? current : last_epoch);
    if (accepted < current) {
        snprintf(err, errlen, "epochs: acceptedEpoch %llu < currentEpoch %llu",
                 (unsigned long long)accepted, (unsigned long long)current);
        return REP_ERR_EPOCH;
    }
    r->accepted_epoch = accepted;
    r->current_epoch = current;
    if (last_epoch <= current)
        return REP_OK;
    if (rep_bug(r, ZAB_BUG_EPOCH_FILE_1653) || accepted < last_epoch) {
        snprintf(err, errlen, "epochs: the current epoch %llu is older than the last zxid 0x%llx",
                 (unsigned long long)current, (unsigned long long)rep_last_zxid(r));
        return REP_ERR_EPOCH;
    }
    rep_disk_epoch(r, REP_EPOCH_CURRENT, last_epoch, REP_CONT_NONE);
    return REP_OK;
}

int rep_recover(struct replica *r, const struct replica_durable *d, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    int rc = load_snapshot(r, d, err, errlen);
    if (rc == REP_OK)
        rc = replay_log(r, d, err, errlen);
    if (rc == REP_OK)
        rc = check_epochs(r, d, err, errlen);
    return rc;
}
