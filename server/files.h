/* files: the replica's disk actions on real files, and the start-up read of
 * what survived. Layout (ZooKeeper's names where ZooKeeper has the file):
 *   <dataDir>/version-2/acceptedEpoch, currentEpoch   decimal text
 *   <dataDir>/version-2/zablab.snap                   core/storage.h envelope
 *   <dataLogDir>/version-2/zablab.log                 core/log_record.h records
 *
 * Owns: the open log fd, the directory fds, and the FIFO of disk ops whose
 * completion the replica has not been told yet.
 * Never: decides anything about the protocol (what to write and when comes
 * from replica actions) or reports a completion out of issue order.
 *
 * The I/O is synchronous, in the event loop: LOG_APPEND and LOG_TRUNCATE
 * change the file at once; LOG_FSYNC is deferred to files_sync, which
 * coalesces every fsync issued since the last call into one fdatasync (group
 * commit); EPOCH_WRITE and SNAPSHOT_WRITE are durable when execute returns
 * (tmp, fsync, rename, fsync of the directory). An I/O error is returned to
 * the caller, which stops the server: after a failed fsync the page cache
 * state is unknown, and serving on would risk acknowledging lost data. */
#ifndef ZABLAB_SERVER_FILES_H
#define ZABLAB_SERVER_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "core/replica.h"

#define FILES_PATH_MAX 1100
#define FILES_PENDING_MAX 65536u          /* disk ops awaiting their completion report */
#define FILES_LOG_BYTES_MAX (1ull << 30)  /* files_load refuses a larger log */
#define FILES_SNAPSHOT_BYTES_MAX (256u << 20)
#define FILES_EPOCH_BYTES_MAX 64u

struct files_op {
    uint64_t op_id;
    uint8_t kind;      /* enum rep_action_kind */
};

struct files {
    char dir[FILES_PATH_MAX];       /* <dataDir>/version-2 */
    char log_dir[FILES_PATH_MAX];   /* <dataLogDir>/version-2 */
    char log_path[FILES_PATH_MAX];
    int log_fd;
    int dir_fd;
    struct files_op *pending;       /* FIFO, capacity FILES_PENDING_MAX */
    uint32_t n_pending;
    uint32_t n_fsync_pending;       /* LOG_FSYNC among pending */
    /* Counters for mntr. */
    uint64_t fdatasyncs;            /* real fdatasync calls */
    uint64_t fsync_actions;         /* LOG_FSYNC actions covered by them */
    uint64_t bytes_appended;
};

/* What files_load read; buffers are malloc'd, free with files_durable_free. */
struct files_durable {
    struct replica_durable d;
    uint8_t *log_buf;
    uint8_t *snap_buf;
};

/* Creates the version-2 folders if needed and opens the log (creating it).
 * 0, or -1 with a message. */
int files_open(struct files *f, const char *data_dir, const char *data_log_dir, char *err,
               size_t errlen);
void files_close(struct files *f);

/* Reads log, snapshot and epoch files. A malformed epoch file or an
 * oversized file is an error (-1 with "path: message"). */
int files_load(struct files *f, struct files_durable *out, char *err, size_t errlen);
void files_durable_free(struct files_durable *fd);

/* Performs one disk action (other kinds are ignored, returning 0) and queues
 * its completion. -1 with a message on an I/O error or a full queue. */
int files_execute(struct files *f, const struct rep_action *a, char *err, size_t errlen);

/* One fdatasync if any LOG_FSYNC is pending. Then moves every pending op id,
 * in issue order, into done[] (cap >= FILES_PENDING_MAX is always enough) and
 * returns how many. -1 with a message on an I/O error. */
int files_sync(struct files *f, uint64_t *done, uint32_t cap, char *err, size_t errlen);

/* Writes the decimal epoch to <dir>/<name> atomically and durably. */
int files_write_epoch(struct files *f, const char *name, uint64_t value, char *err,
                      size_t errlen);
/* Parses an epoch file's text: decimal digits, optional trailing newline. */
int files_parse_epoch(const char *text, size_t len, uint64_t *value);

#endif
