/* A simulated disk for one node: an append-only log file, a small store of
 * named 64-bit values (acceptedEpoch, currentEpoch), and a snapshot store.
 *
 * Owns: the log's page-cache view and its durable image, the queue of
 * issued operations and the bytes they carry, the epoch and snapshot
 * stores, and the slow/full fault state.
 * Must never: read a clock or draw randomness except from the stream the
 * caller passes to disk_crash; make anything durable that was not fsynced
 * (log) or whose atomic write had not completed (epochs, snapshot).
 *
 * Model:
 * - The disk is one serial device. Operations execute in issue order; each
 *   completes max(now, previous completion) + a latency drawn (from the
 *   caller's stream, at issue) from its distribution, times the slow-down
 *   factor if issued during a slow period. Each completion is a scheduler
 *   event (kind ev_done, node = the disk's node, a = the caller's op id,
 *   b = the disk's own op sequence); the driver passes it to disk_complete,
 *   which applies the operation's effect at that moment.
 * - Append: at completion the bytes are in the page cache (the unsynced
 *   tail). Fsync: at completion everything completed before it, appends
 *   and truncations, is durable. Truncate(offset): at completion the file
 *   is cut in the page cache; the cut is durable after the next fsync.
 * - Epoch write: tmp+rename with fsyncs, so the new value is durable
 *   exactly at completion; a crash before leaves the old value (and, unless
 *   the crash drops unsynced data, the "name.tmp" file with the new value).
 *   Snapshot write: atomic, durable at completion, replaces the previous.
 * - Crash: queued operations vanish (their calls never returned). The log
 *   keeps its durable image plus, by mode: KEEP all of the page cache;
 *   DROP nothing more; TORN a uniformly random prefix of the unsynced tail,
 *   its last 1..8 bytes garbled with probability 1/2; TORN_LAST the same
 *   applied to the last completed append only, every earlier unsynced byte
 *   kept (a power cut in the middle of the last write). When a truncation
 *   is not yet synced, the "unsynced tail" starts at the truncation point:
 *   the cut may have reached the disk with part of what followed.
 * - Full disk: while set, appends, epoch and snapshot writes complete with
 *   DISK_ENOSPC and change nothing; fsync and truncate still succeed. An
 *   append beyond log_bytes_max also completes with DISK_ENOSPC. */
#ifndef ZABLAB_SIM_DISK_H
#define ZABLAB_SIM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net-model/latency.h"
#include "sim/rng.h"
#include "sim/sched.h"

#define DISK_EPOCH_NAMES_MAX 8
#define DISK_EPOCH_NAME_MAX 31
#define DISK_ERR_MAX 160
#define DISK_GARBLE_BYTES_MAX 8

struct disk_config {
    int node;
    uint32_t ev_done;
    struct net_latency write_latency;    /* append and truncate */
    struct net_latency fsync_latency;
    struct net_latency epoch_latency;    /* a whole atomic epoch-file update */
    struct net_latency snapshot_latency; /* a whole atomic snapshot write */
    size_t log_bytes_max;                /* file size limit (ENOSPC beyond) */
    size_t queued_bytes_max;             /* bytes carried by queued appends/snapshots */
    uint32_t ops_max;                    /* queued operations */
};

enum disk_op_kind {
    DISK_OP_APPEND,
    DISK_OP_FSYNC,
    DISK_OP_TRUNCATE,
    DISK_OP_EPOCH,
    DISK_OP_SNAPSHOT,
};

enum disk_status {
    DISK_OK = 0,
    DISK_ENOSPC = 1,       /* completion status: the write did not happen */
    DISK_ERR_QUEUE = -1,   /* ops_max or queued_bytes_max reached */
    DISK_ERR_SCHED = -2,   /* the scheduler refused the completion event */
    DISK_ERR_ARG = -3,     /* bad name, too many names, ... */
};

enum disk_crash_mode {
    DISK_CRASH_KEEP,      /* the whole page cache reaches the disk */
    DISK_CRASH_DROP,      /* nothing unsynced survives */
    DISK_CRASH_TORN,      /* a random prefix of the unsynced tail survives */
    DISK_CRASH_TORN_LAST, /* earlier unsynced writes survive, the last is torn */
};

struct disk_completion {
    uint64_t op_id;
    enum disk_op_kind kind;
    enum disk_status status; /* DISK_OK or DISK_ENOSPC */
};

struct disk_op {
    enum disk_op_kind kind;
    uint64_t op_id;
    uint64_t arg;  /* truncate: offset; epoch: value; snapshot: zxid */
    uint32_t len;  /* bytes carried in the queued-bytes buffer */
    int epoch_slot;
};

struct disk_epoch {
    char name[DISK_EPOCH_NAME_MAX + 1];
    bool present, tmp_present;
    uint64_t value, tmp_value;
};

struct disk_buf {
    uint8_t *bytes;
    size_t len, cap;
};

struct disk_stats {
    uint64_t appends, fsyncs, truncates, epoch_writes, snapshot_writes, enospc, crashes;
    uint64_t bytes_appended;
};

struct sim_disk {
    struct disk_config cfg;
    struct sim_sched *sched;
    struct sim_rng *rng;      /* latency draws */
    struct disk_buf cache;    /* the file as the running process sees it */
    struct disk_buf durable;  /* what a crash cannot take away */
    size_t dirty_from;        /* cache and durable agree on [0, dirty_from) */
    size_t last_write_start;  /* where the last completed append began */
    struct disk_op *ops;      /* ring, ops_max */
    uint32_t op_head, op_count;
    uint64_t op_seq_head;     /* disk sequence number of ops[op_head] */
    struct disk_buf queued;   /* bytes of queued appends/snapshots, FIFO */
    size_t queued_front;      /* consumed prefix of `queued` */
    sim_time_ns busy_until;
    struct disk_epoch epochs[DISK_EPOCH_NAMES_MAX];
    struct disk_buf snapshot;
    bool snapshot_present;
    uint64_t snapshot_zxid;
    double slow_factor;
    sim_time_ns slow_until;
    bool full;
    struct disk_stats stats;
    char err[DISK_ERR_MAX];
};

/* Returns 0, or -1 with a message. `sched` and `rng` are borrowed; `rng`
 * pays for latency draws (the node's disk stream). */
int disk_init(struct sim_disk *d, const struct disk_config *cfg, struct sim_sched *sched,
              struct sim_rng *rng, char *err, size_t err_cap);
void disk_free(struct sim_disk *d);

enum disk_status disk_append(struct sim_disk *d, sim_time_ns now, const void *bytes, size_t len,
                             uint64_t op_id);
enum disk_status disk_fsync(struct sim_disk *d, sim_time_ns now, uint64_t op_id);
enum disk_status disk_truncate(struct sim_disk *d, sim_time_ns now, uint64_t offset, uint64_t op_id);
enum disk_status disk_write_epoch(struct sim_disk *d, sim_time_ns now, const char *name, uint64_t value,
                                  uint64_t op_id);
enum disk_status disk_write_snapshot(struct sim_disk *d, sim_time_ns now, const void *bytes, size_t len,
                                     uint64_t zxid, uint64_t op_id);

/* Applies the completed operation of `ev`. Returns true with *out filled,
 * or false for a completion of an operation lost in a crash (ignore it). */
bool disk_complete(struct sim_disk *d, const struct sim_event *ev, struct disk_completion *out);

/* Power loss: see the model above. `rng` decides torn lengths and garbling
 * (the fault stream). Returns the number of unsynced log bytes kept. */
size_t disk_crash(struct sim_disk *d, enum disk_crash_mode mode, struct sim_rng *rng);

/* ---- faults ---- */
/* Operations issued before `until` take `factor` times longer. */
void disk_slow(struct sim_disk *d, double factor, sim_time_ns until);
void disk_set_full(struct sim_disk *d, bool full);

/* ---- reading ---- */
/* Byte pointers returned below are never NULL (an empty file gives a valid
 * pointer and len 0) and stay valid until the next call on this disk. */
/* The durable image (after a crash: exactly what the restarted node finds). */
void disk_durable_log(const struct sim_disk *d, const uint8_t **bytes, size_t *len);
/* The page-cache view a running process reads. */
void disk_log(const struct sim_disk *d, const uint8_t **bytes, size_t *len);
size_t disk_unsynced_bytes(const struct sim_disk *d);
/* 0 and *value if the named value is durable; -1 if absent. */
int disk_epoch(const struct sim_disk *d, const char *name, uint64_t *value);
/* 0 and *value if a crash left "name.tmp" behind; -1 if not. */
int disk_epoch_tmp(const struct sim_disk *d, const char *name, uint64_t *value);
/* 0 with the latest complete snapshot, -1 if none was ever completed. */
int disk_snapshot(const struct sim_disk *d, const uint8_t **bytes, size_t *len, uint64_t *zxid);
uint32_t disk_queued_ops(const struct sim_disk *d);

const char *disk_status_str(enum disk_status st);
const char *disk_op_kind_str(enum disk_op_kind k);

#endif
