/* Simulated disk: a serial queue of operations whose effects land at their
 * completion events, over two images of the log (page cache and durable)
 * that agree on a known prefix, so fsync copies only what changed. */
#include "sim/disk.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_err(struct sim_disk *d, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_err(struct sim_disk *d, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Grows b to hold at least `need` bytes, never past `limit`. */
static int buf_reserve(struct disk_buf *b, size_t need, size_t limit)
{
    if (need <= b->cap)
        return 0;
    if (need > limit)
        return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    uint8_t *p = realloc(b->bytes, cap);
    if (!p)
        return -1;
    b->bytes = p;
    b->cap = cap;
    return 0;
}

int disk_init(struct sim_disk *d, const struct disk_config *cfg, struct sim_sched *sched,
              struct sim_rng *rng, char *err, size_t err_cap)
{
    *d = (struct sim_disk){0};
    if (cfg->ops_max == 0 || cfg->queued_bytes_max == 0 || cfg->log_bytes_max == 0) {
        snprintf(err, err_cap, "disk: ops_max, queued_bytes_max and log_bytes_max must be positive");
        return -1;
    }
    d->cfg = *cfg;
    d->sched = sched;
    d->rng = rng;
    d->slow_factor = 1.0;
    d->ops = calloc(cfg->ops_max, sizeof *d->ops);
    if (!d->ops) {
        snprintf(err, err_cap, "disk: out of memory");
        return -1;
    }
    return 0;
}

void disk_free(struct sim_disk *d)
{
    free(d->ops);
    free(d->cache.bytes);
    free(d->durable.bytes);
    free(d->queued.bytes);
    free(d->snapshot.bytes);
    *d = (struct sim_disk){0};
}

/* ---- issuing ---- */

static sim_time_ns op_latency(struct sim_disk *d, sim_time_ns now, const struct net_latency *lat)
{
    sim_time_ns t = net_latency_sample(lat, d->rng);
    if (now < d->slow_until && d->slow_factor != 1.0) {
        double scaled = (double)t * d->slow_factor;
        t = scaled >= (double)NET_LATENCY_MAX_NS ? NET_LATENCY_MAX_NS : (sim_time_ns)scaled;
    }
    return t;
}

/* Queues bytes for an append or snapshot; compacts the FIFO buffer when its
 * consumed front is most of it. */
static int queue_bytes(struct sim_disk *d, const void *bytes, size_t len)
{
    struct disk_buf *q = &d->queued;
    if (d->queued_front > 0 && d->queued_front >= q->len / 2) {
        memmove(q->bytes, q->bytes + d->queued_front, q->len - d->queued_front);
        q->len -= d->queued_front;
        d->queued_front = 0;
    }
    if (q->len - d->queued_front + len > d->cfg.queued_bytes_max)
        return -1;
    if (buf_reserve(q, q->len + len, d->cfg.queued_bytes_max + d->queued_front) != 0)
        return -1;
    if (len)
        memcpy(q->bytes + q->len, bytes, len);
    q->len += len;
    return 0;
}

static enum disk_status issue(struct sim_disk *d, sim_time_ns now, struct disk_op op,
                              const struct net_latency *lat, const void *bytes)
{
    if (d->op_count == d->cfg.ops_max)
        return (enum disk_status)set_err(d, DISK_ERR_QUEUE, "disk %d: %u operations queued (ops_max)",
                                         d->cfg.node, d->op_count);
    if (op.len && queue_bytes(d, bytes, op.len) != 0)
        return (enum disk_status)set_err(d, DISK_ERR_QUEUE, "disk %d: queued bytes would exceed %zu",
                                         d->cfg.node, d->cfg.queued_bytes_max);
    sim_time_ns start = now > d->busy_until ? now : d->busy_until;
    sim_time_ns done = start + op_latency(d, now, lat);
    uint64_t seq = d->op_seq_head + d->op_count;
    if (sim_sched_push(d->sched, done, d->cfg.ev_done, d->cfg.node, op.op_id, seq) != SIM_SCHED_OK) {
        d->queued.len -= op.len;
        return (enum disk_status)set_err(d, DISK_ERR_SCHED, "disk %d: scheduler refused a completion",
                                         d->cfg.node);
    }
    d->busy_until = done;
    d->ops[(d->op_head + d->op_count) % d->cfg.ops_max] = op;
    d->op_count++;
    return DISK_OK;
}

enum disk_status disk_append(struct sim_disk *d, sim_time_ns now, const void *bytes, size_t len,
                             uint64_t op_id)
{
    if (len > UINT32_MAX)
        return (enum disk_status)set_err(d, DISK_ERR_ARG, "disk %d: append of %zu bytes", d->cfg.node, len);
    struct disk_op op = {.kind = DISK_OP_APPEND, .op_id = op_id, .len = (uint32_t)len};
    return issue(d, now, op, &d->cfg.write_latency, bytes);
}

enum disk_status disk_fsync(struct sim_disk *d, sim_time_ns now, uint64_t op_id)
{
    struct disk_op op = {.kind = DISK_OP_FSYNC, .op_id = op_id};
    return issue(d, now, op, &d->cfg.fsync_latency, NULL);
}

enum disk_status disk_truncate(struct sim_disk *d, sim_time_ns now, uint64_t offset, uint64_t op_id)
{
    struct disk_op op = {.kind = DISK_OP_TRUNCATE, .op_id = op_id, .arg = offset};
    return issue(d, now, op, &d->cfg.write_latency, NULL);
}

static int epoch_slot(struct sim_disk *d, const char *name, bool create)
{
    int free_slot = -1;
    for (int i = 0; i < DISK_EPOCH_NAMES_MAX; i++) {
        if (d->epochs[i].name[0] == '\0') {
            if (free_slot < 0)
                free_slot = i;
        } else if (strcmp(d->epochs[i].name, name) == 0) {
            return i;
        }
    }
    if (!create || free_slot < 0)
        return -1;
    snprintf(d->epochs[free_slot].name, sizeof d->epochs[free_slot].name, "%s", name);
    return free_slot;
}

enum disk_status disk_write_epoch(struct sim_disk *d, sim_time_ns now, const char *name, uint64_t value,
                                  uint64_t op_id)
{
    size_t n = strlen(name);
    if (n == 0 || n > DISK_EPOCH_NAME_MAX)
        return (enum disk_status)set_err(d, DISK_ERR_ARG, "disk %d: epoch name must be 1..%d characters",
                                         d->cfg.node, DISK_EPOCH_NAME_MAX);
    int slot = epoch_slot(d, name, true);
    if (slot < 0)
        return (enum disk_status)set_err(d, DISK_ERR_ARG, "disk %d: more than %d epoch names",
                                         d->cfg.node, DISK_EPOCH_NAMES_MAX);
    struct disk_op op = {.kind = DISK_OP_EPOCH, .op_id = op_id, .arg = value, .epoch_slot = slot};
    return issue(d, now, op, &d->cfg.epoch_latency, NULL);
}

enum disk_status disk_write_snapshot(struct sim_disk *d, sim_time_ns now, const void *bytes, size_t len,
                                     uint64_t zxid, uint64_t op_id)
{
    if (len > UINT32_MAX)
        return (enum disk_status)set_err(d, DISK_ERR_ARG, "disk %d: snapshot of %zu bytes", d->cfg.node, len);
    struct disk_op op = {.kind = DISK_OP_SNAPSHOT, .op_id = op_id, .arg = zxid, .len = (uint32_t)len};
    return issue(d, now, op, &d->cfg.snapshot_latency, bytes);
}

/* ---- completing ---- */

static enum disk_status apply_append(struct sim_disk *d, const uint8_t *bytes, uint32_t len)
{
    if (d->full || d->cache.len + len > d->cfg.log_bytes_max ||
        buf_reserve(&d->cache, d->cache.len + len, d->cfg.log_bytes_max) != 0)
        return DISK_ENOSPC;
    if (len)
        memcpy(d->cache.bytes + d->cache.len, bytes, len);
    d->last_write_start = d->cache.len;
    d->cache.len += len;
    d->stats.bytes_appended += len;
    return DISK_OK;
}

static void apply_truncate(struct sim_disk *d, uint64_t offset)
{
    if (offset >= d->cache.len)
        return; /* truncation never extends a file */
    d->cache.len = (size_t)offset;
    if (d->dirty_from > d->cache.len)
        d->dirty_from = d->cache.len;
    if (d->last_write_start > d->cache.len)
        d->last_write_start = d->cache.len; /* the cut took the last write */
}

/* Makes the page cache durable: only [dirty_from, len) can differ. */
static void apply_fsync(struct sim_disk *d)
{
    size_t from = d->dirty_from;
    int rc = buf_reserve(&d->durable, d->cache.len, d->cfg.log_bytes_max);
    assert(rc == 0); /* the cache already fits under the same limit */
    (void)rc;
    if (d->cache.len > from)
        memcpy(d->durable.bytes + from, d->cache.bytes + from, d->cache.len - from);
    d->durable.len = d->cache.len;
    d->dirty_from = d->cache.len;
}

static enum disk_status apply_snapshot(struct sim_disk *d, const uint8_t *bytes, uint32_t len, uint64_t zxid)
{
    if (d->full || buf_reserve(&d->snapshot, len, d->cfg.queued_bytes_max) != 0)
        return DISK_ENOSPC;
    if (len)
        memcpy(d->snapshot.bytes, bytes, len);
    d->snapshot.len = len;
    d->snapshot_zxid = zxid;
    d->snapshot_present = true;
    return DISK_OK;
}

static enum disk_status apply(struct sim_disk *d, const struct disk_op *op, const uint8_t *bytes)
{
    struct disk_epoch *e;
    switch (op->kind) {
    case DISK_OP_APPEND: d->stats.appends++; return apply_append(d, bytes, op->len);
    case DISK_OP_FSYNC: d->stats.fsyncs++; apply_fsync(d); return DISK_OK;
    case DISK_OP_TRUNCATE: d->stats.truncates++; apply_truncate(d, op->arg); return DISK_OK;
    case DISK_OP_EPOCH:
        d->stats.epoch_writes++;
        if (d->full)
            return DISK_ENOSPC;
        e = &d->epochs[op->epoch_slot];
        e->present = true;
        e->value = op->arg;
        e->tmp_present = false; /* the rename consumed it */
        return DISK_OK;
    case DISK_OP_SNAPSHOT: d->stats.snapshot_writes++; return apply_snapshot(d, bytes, op->len, op->arg);
    }
    return DISK_OK;
}

bool disk_complete(struct sim_disk *d, const struct sim_event *ev, struct disk_completion *out)
{
    assert(ev->kind == d->cfg.ev_done);
    if (ev->b < d->op_seq_head)
        return false; /* issued before a crash */
    /* Serial device: completions arrive in issue order. */
    assert(ev->b == d->op_seq_head);
    assert(d->op_count > 0);
    struct disk_op *op = &d->ops[d->op_head];
    assert(op->op_id == ev->a);
    const uint8_t *bytes = d->queued.bytes ? d->queued.bytes + d->queued_front : NULL;
    enum disk_status st = apply(d, op, bytes);
    if (st == DISK_ENOSPC)
        d->stats.enospc++;
    d->queued_front += op->len;
    *out = (struct disk_completion){.op_id = op->op_id, .kind = op->kind, .status = st};
    d->op_head = (d->op_head + 1) % d->cfg.ops_max;
    d->op_count--;
    d->op_seq_head++;
    return true;
}

/* ---- crash ---- */

/* Bytes of the unsynced tail that survive, per mode; may garble them. */
static size_t surviving_tail(struct sim_disk *d, enum disk_crash_mode mode, struct sim_rng *rng)
{
    size_t base = d->dirty_from, tail = d->cache.len - base;
    assert(mode != DISK_CRASH_DROP);
    if (mode == DISK_CRASH_KEEP || tail == 0)
        return tail;
    /* The torn region: the whole unsynced tail, or only the last write. */
    size_t from = base;
    if (mode == DISK_CRASH_TORN_LAST && d->last_write_start > base)
        from = d->last_write_start;
    size_t torn = d->cache.len - from;
    size_t keep = (size_t)sim_rng_below(rng, (uint64_t)torn + 1);
    if (keep > 0 && sim_rng_chance(rng, 0.5)) {
        size_t span = keep < DISK_GARBLE_BYTES_MAX ? keep : DISK_GARBLE_BYTES_MAX;
        size_t g = 1 + (size_t)sim_rng_below(rng, span);
        for (size_t i = keep - g; i < keep; i++)
            d->cache.bytes[from + i] ^= (uint8_t)(1 + sim_rng_below(rng, 255));
    }
    return (from - base) + keep;
}

static void crash_epochs(struct sim_disk *d, enum disk_crash_mode mode)
{
    /* A queued epoch write that never completed: its tmp file survives
     * unless unsynced data is dropped. The newest such write wins. */
    for (uint32_t i = 0; i < d->op_count; i++) {
        const struct disk_op *op = &d->ops[(d->op_head + i) % d->cfg.ops_max];
        if (op->kind != DISK_OP_EPOCH || mode == DISK_CRASH_DROP)
            continue;
        d->epochs[op->epoch_slot].tmp_present = true;
        d->epochs[op->epoch_slot].tmp_value = op->arg;
    }
}

size_t disk_crash(struct sim_disk *d, enum disk_crash_mode mode, struct sim_rng *rng)
{
    crash_epochs(d, mode);
    size_t base = d->dirty_from, keep = 0;
    int rc;
    if (mode != DISK_CRASH_DROP) {
        /* durable := cache[0, base + keep); they already agree below base. */
        keep = surviving_tail(d, mode, rng);
        rc = buf_reserve(&d->durable, base + keep, d->cfg.log_bytes_max);
        assert(rc == 0);
        if (keep)
            memcpy(d->durable.bytes + base, d->cache.bytes + base, keep);
        d->durable.len = base + keep;
    }
    /* The restarted node's page cache starts as the durable image. */
    rc = buf_reserve(&d->cache, d->durable.len, d->cfg.log_bytes_max);
    assert(rc == 0);
    (void)rc;
    if (d->durable.len > base)
        memcpy(d->cache.bytes + base, d->durable.bytes + base, d->durable.len - base);
    d->cache.len = d->durable.len;
    d->dirty_from = d->durable.len;
    d->last_write_start = d->durable.len;
    /* Queued operations vanish; their completion events become stale. */
    d->op_seq_head += d->op_count;
    d->op_count = 0;
    d->op_head = 0;
    d->queued.len = 0;
    d->queued_front = 0;
    d->busy_until = 0;
    d->stats.crashes++;
    return keep;
}

/* ---- faults and reading ---- */

void disk_slow(struct sim_disk *d, double factor, sim_time_ns until)
{
    d->slow_factor = factor > 0 ? factor : 1.0;
    d->slow_until = until;
}

void disk_set_full(struct sim_disk *d, bool full) { d->full = full; }

/* Readers get a valid pointer even for an empty file, so that
 * memcpy(dst, bytes, 0) is never handed NULL. */
static const uint8_t no_bytes[1];

static const uint8_t *bytes_or_empty(const struct disk_buf *b)
{
    return b->bytes ? b->bytes : no_bytes;
}

void disk_durable_log(const struct sim_disk *d, const uint8_t **bytes, size_t *len)
{
    *bytes = bytes_or_empty(&d->durable);
    *len = d->durable.len;
}

void disk_log(const struct sim_disk *d, const uint8_t **bytes, size_t *len)
{
    *bytes = bytes_or_empty(&d->cache);
    *len = d->cache.len;
}

size_t disk_unsynced_bytes(const struct sim_disk *d) { return d->cache.len - d->dirty_from; }

int disk_epoch(const struct sim_disk *d, const char *name, uint64_t *value)
{
    int slot = epoch_slot((struct sim_disk *)d, name, false);
    if (slot < 0 || !d->epochs[slot].present)
        return -1;
    *value = d->epochs[slot].value;
    return 0;
}

int disk_epoch_tmp(const struct sim_disk *d, const char *name, uint64_t *value)
{
    int slot = epoch_slot((struct sim_disk *)d, name, false);
    if (slot < 0 || !d->epochs[slot].tmp_present)
        return -1;
    *value = d->epochs[slot].tmp_value;
    return 0;
}

int disk_snapshot(const struct sim_disk *d, const uint8_t **bytes, size_t *len, uint64_t *zxid)
{
    if (!d->snapshot_present)
        return -1;
    *bytes = bytes_or_empty(&d->snapshot);
    *len = d->snapshot.len;
    *zxid = d->snapshot_zxid;
    return 0;
}

uint32_t disk_queued_ops(const struct sim_disk *d) { return d->op_count; }

const char *disk_status_str(enum disk_status st)
{
    switch (st) {
    case DISK_OK: return "ok";
    case DISK_ENOSPC: return "no space left on device";
    case DISK_ERR_QUEUE: return "disk queue full (raise ops_max or queued_bytes_max)";
    case DISK_ERR_SCHED: return "scheduler refused an event (raise its capacity)";
    case DISK_ERR_ARG: return "bad disk request";
    }
    return "unknown";
}

const char *disk_op_kind_str(enum disk_op_kind k)
{
    switch (k) {
    case DISK_OP_APPEND: return "append";
    case DISK_OP_FSYNC: return "fsync";
    case DISK_OP_TRUNCATE: return "truncate";
    case DISK_OP_EPOCH: return "epoch";
    case DISK_OP_SNAPSHOT: return "snapshot";
    }
    return "?";
}
