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
 * Where the I/O happens: LOG_APPEND, LOG_TRUNCATE and EPOCH_WRITE run in the
 * event loop (appends are gathered and reach the page cache in one write()
 * per loop iteration, before the batch that syncs them; epoch writes are
 * rare). What waits on the device runs on one writer thread
 * (files_sync.c): a batch is every op queued since the last one, and the
 * thread performs at most one fdatasync for all its LOG_FSYNCs (group commit)
 * plus the batch's snapshot file, if any, while the loop goes on reading,
 * forwarding and proposing. Completions are handed out in issue order once
 * their batch is done. An I/O error is returned to the caller, which stops
 * the server: after a failed fsync the page cache state is unknown, and
 * serving on would risk acknowledging lost data. */
#ifndef ZABLAB_SERVER_FILES_H
#define ZABLAB_SERVER_FILES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/replica.h"
#include "server/log_segments.h"

#define FILES_PATH_MAX 1100
#define FILES_PENDING_MAX 65536u          /* disk ops awaiting their completion report */
#define FILES_LOG_BYTES_MAX (1ull << 30)  /* files_load refuses a larger log */
#define FILES_SNAPSHOT_BYTES_MAX (256u << 20)
#define FILES_EPOCH_BYTES_MAX 64u
#define FILES_SNAPSHOT_NAME "zablab.snap"
#define FILES_APPEND_BUF_BYTES (1u << 20) /* appends gathered into one write() */

struct files_op {
    uint64_t op_id;
    uint8_t kind;      /* enum rep_action_kind */
    uint8_t *bytes;    /* SNAPSHOT_WRITE: our copy, freed once written */
    size_t len;
    uint64_t zxid;     /* SNAPSHOT_WRITE: the snapshot's zxid */
};

enum files_job_state { FILES_JOB_IDLE, FILES_JOB_RUNNING, FILES_JOB_DONE };

/* The writer thread's one batch. Guarded by files.mu; the loop fills it and
 * moves IDLE -> RUNNING, the thread moves RUNNING -> DONE, the loop takes the
 * result and moves DONE -> IDLE. */
struct files_job {
    enum files_job_state state;
    uint32_t n_ops;            /* pending ops it covers, right after the ready ones */
    int log_fd;                /* the segment to fdatasync */
    uint32_t n_fsync;          /* LOG_FSYNC among them */
    const uint8_t *snap;       /* snapshot bytes to store first, or NULL */
    size_t snap_len;
    int failed;
    char err[512];
};

struct files {
    char dir[FILES_PATH_MAX];       /* <dataDir>/version-2 */
    char log_dir[FILES_PATH_MAX];   /* <dataLogDir>/version-2 */
    struct segs log;                /* the txn log's segment files */
    int log_dir_fd;
    int dir_fd;
    struct files_op *pending;       /* FIFO, capacity FILES_PENDING_MAX */
    uint32_t n_pending;
    uint32_t n_ready;               /* leading pending ops complete, not yet handed out */
    uint8_t *abuf;                  /* appends not yet written, FILES_APPEND_BUF_BYTES */
    size_t abuf_len;
    uint64_t abuf_max_zxid;         /* highest record zxid in abuf */
    uint64_t roll_zxid;             /* a snapshot at this zxid is durable: roll the log
                                       when the writer is idle; 0 = none pending */
    /* The writer thread and its wake-ups. */
    int event_fd;                   /* readable when a batch is done */
    int writer_started;
    int quit;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv_job, cv_done;
    struct files_job job;
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

/* Never blocks on the device. Takes a finished batch's result; when the
 * writer is idle, starts the next batch (or completes at once the ops that
 * need no wait: appends, truncates, epoch writes). Then moves up to cap
 * completed op ids, in issue order, into done[] and returns how many.
 * -1 with a message on an I/O error. */
int files_sync(struct files *f, uint64_t *done, uint32_t cap, char *err, size_t errlen);
/* As files_sync, but waits for the writer when nothing is complete yet and
 * ops are pending (tests and shutdown). */
int files_sync_wait(struct files *f, uint64_t *done, uint32_t cap, char *err, size_t errlen);
/* Readable when the writer finished a batch: watch it in the event loop and
 * call files_drain_event, then files_sync. */
int files_event_fd(const struct files *f);
void files_drain_event(struct files *f);

/* The writer thread's lifetime (files_open / files_close call these). */
int files_writer_start(struct files *f, char *err, size_t errlen);
void files_writer_stop(struct files *f);

/* A snapshot at zxid is durable: once the writer is idle the log rolls to a
 * new segment and the segments the snapshot covers are deleted. In-order
 * snapshot writes call it themselves; zabd calls it for its forked ones. */
void files_note_snapshot(struct files *f, uint64_t zxid);

/* Shared by both halves of the module. */
int files_io_fail(char *err, size_t errlen, const char *what, const char *path);
int files_write_all(int fd, const uint8_t *p, size_t len);
/* tmp file, fsync, rename over name, fsync the folder: after a crash either
 * the old or the new content is there, never a mix. Thread-safe for
 * different names (it reads only the folder path and descriptor). */
int files_replace_durably(const struct files *f, const char *name, const uint8_t *bytes,
                          size_t len, char *err, size_t errlen);

/* Writes the decimal epoch to <dir>/<name> atomically and durably. */
int files_write_epoch(const struct files *f, const char *name, uint64_t value, char *err,
                      size_t errlen);
/* Parses an epoch file's text: decimal digits, optional trailing newline. */
int files_parse_epoch(const char *text, size_t len, uint64_t *value);

#endif
