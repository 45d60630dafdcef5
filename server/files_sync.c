/* files_sync: the disk actions of server/files.h and the writer thread that
 * waits on the device for them.
 *
 * Owns: the pending-op FIFO's progress (ready / in the writer's batch /
 * queued), the writer thread, its eventfd, the snapshot copies until written.
 * Never: reports a completion before its op is durable or out of issue
 * order, or touches the FIFO from the writer thread (the batch it works on
 * is a copy in files.job). */
#include "server/files.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const char *const epoch_file[] = {"acceptedEpoch", "currentEpoch"};

static int flush_appends(struct files *f, char *err, size_t errlen);

/* ---- the writer thread ----------------------------------------------------- */

static void run_job(struct files *f, const struct files_job *j, struct files_job *out)
{
    out->failed = 0;
    if (j->snap && files_replace_durably(f, FILES_SNAPSHOT_NAME, j->snap, j->snap_len, out->err,
                                         sizeof out->err) != 0) {
        out->failed = 1;
        return;
    }
    /* One fdatasync covers every append and truncate issued before the batch
     * was handed over, so it completes all the batch's LOG_FSYNC actions. */
    if (j->n_fsync > 0 && fdatasync(j->log_fd) != 0) {
        files_io_fail(out->err, sizeof out->err, "fdatasync failed on the log in", f->log_dir);
        out->failed = 1;
    }
}

static void *writer_main(void *arg)
{
    struct files *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->quit && f->job.state != FILES_JOB_RUNNING)
            pthread_cond_wait(&f->cv_job, &f->mu);
        if (f->quit)
            break;
        struct files_job j = f->job, res;
        pthread_mutex_unlock(&f->mu);
        run_job(f, &j, &res);
        pthread_mutex_lock(&f->mu);
        f->job.failed = res.failed;
        if (res.failed)
            memcpy(f->job.err, res.err, sizeof res.err);
        f->job.state = FILES_JOB_DONE;
        pthread_cond_signal(&f->cv_done);
        uint64_t one = 1;
        if (write(f->event_fd, &one, sizeof one) < 0 && errno != EAGAIN) {
            /* the counter is saturated or closed: files_sync polls state anyway */
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int files_writer_start(struct files *f, char *err, size_t errlen)
{
    f->abuf = malloc(FILES_APPEND_BUF_BYTES);
    if (!f->abuf) {
        snprintf(err, errlen, "out of memory for the append buffer");
        return -1;
    }
    f->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->event_fd < 0)
        return files_io_fail(err, errlen, "cannot create eventfd for", f->log_dir);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv_job, NULL);
    pthread_cond_init(&f->cv_done, NULL);
    /* The thread takes no signals: zabd reads them (SIGCHLD too) from a
     * signalfd, which sees only those blocked in every thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&f->writer, NULL, writer_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the disk writer thread: %s", strerror(rc));
        return -1;
    }
    f->writer_started = 1;
    return 0;
}

/* Lets the current batch finish (its ops stay unreported: nobody waits on
 * them any more), then joins the thread. */
void files_writer_stop(struct files *f)
{
    if (f->writer_started) {
        pthread_mutex_lock(&f->mu);
        f->quit = 1;
        pthread_cond_signal(&f->cv_job);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->writer, NULL);
        pthread_cond_destroy(&f->cv_job);
        pthread_cond_destroy(&f->cv_done);
        pthread_mutex_destroy(&f->mu);
        f->writer_started = 0;
    }
    if (f->event_fd >= 0)
        close(f->event_fd);
    f->event_fd = -1;
    /* A clean stop leaves every append written and durable, though nobody
     * waits on them any more. */
    char err[256];
    if (f->log.fd >= 0 && flush_appends(f, err, sizeof err) != 0)
        fprintf(stderr, "zabd: %s\n", err);
    else if (f->log.fd >= 0 && fdatasync(f->log.fd) != 0)
        fprintf(stderr, "zabd: fdatasync of %s at close: %s\n", f->log.path, strerror(errno));
    free(f->abuf);
    f->abuf = NULL;
    f->abuf_len = 0;
    for (uint32_t i = 0; f->pending && i < f->n_pending; i++) {
        free(f->pending[i].bytes);
        f->pending[i].bytes = NULL;
    }
}

int files_event_fd(const struct files *f)
{
    return f->event_fd;
}

void files_drain_event(struct files *f)
{
    uint64_t n;
    while (read(f->event_fd, &n, sizeof n) == (ssize_t)sizeof n) {
    }
}

/* ---- executing actions ------------------------------------------------------- */

/* Writes the gathered appends: before a truncate, before a batch is synced
 * or completed, and when the buffer is full. */
static int flush_appends(struct files *f, char *err, size_t errlen)
{
    if (f->abuf_len == 0)
        return 0;
    if (files_write_all(f->log.fd, f->abuf, f->abuf_len) != 0)
        return files_io_fail(err, errlen, "cannot append to", f->log.path);
    segs_appended(&f->log, f->abuf_len, f->abuf_max_zxid);
    f->bytes_appended += f->abuf_len;
    f->abuf_len = 0;
    f->abuf_max_zxid = 0;
    return 0;
}

static int append(struct files *f, const uint8_t *p, size_t len, uint64_t zxid, char *err,
                  size_t errlen)
{
    if (f->abuf_len + len > FILES_APPEND_BUF_BYTES && flush_appends(f, err, errlen) != 0)
        return -1;
    if (len > FILES_APPEND_BUF_BYTES || !f->abuf) {
        if (files_write_all(f->log.fd, p, len) != 0)
            return files_io_fail(err, errlen, "cannot append to", f->log.path);
        segs_appended(&f->log, len, zxid);
        f->bytes_appended += len;
        return 0;
    }
    memcpy(f->abuf + f->abuf_len, p, len);
    f->abuf_len += len;
    if (zxid > f->abuf_max_zxid)
        f->abuf_max_zxid = zxid;
    return 0;
}

/* Blocks until the writer is idle (rare: a truncation reaching back into an
 * older segment must not close the descriptor the writer syncs). */
static void wait_writer_idle(struct files *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->job.state == FILES_JOB_RUNNING)
        pthread_cond_wait(&f->cv_done, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static int truncate_log(struct files *f, uint64_t off, char *err, size_t errlen)
{
    if (flush_appends(f, err, errlen) != 0)
        return -1;
    const struct seg *last = &f->log.s[f->log.n - 1];
    if (off < last->start)
        wait_writer_idle(f);
    return segs_truncate(&f->log, off, err, errlen);
}

static int do_io(struct files *f, const struct rep_action *a, struct files_op *op, char *err,
                 size_t errlen)
{
    switch (a->kind) {
    case REP_ACT_LOG_APPEND:
        return append(f, a->bytes, a->len, a->value, err, errlen);
    case REP_ACT_LOG_TRUNCATE:
        return truncate_log(f, a->value, err, errlen);
    case REP_ACT_EPOCH_WRITE:
        if (a->which > REP_EPOCH_CURRENT) {
            snprintf(err, errlen, "EPOCH_WRITE of unknown file %u", a->which);
            return -1;
        }
        return files_write_epoch(f, epoch_file[a->which], a->value, err, errlen);
    case REP_ACT_SNAPSHOT_WRITE:
        /* The action's bytes live only until the core's next output: keep a
         * copy for the writer thread. */
        op->bytes = malloc(a->len ? a->len : 1);
        if (!op->bytes) {
            snprintf(err, errlen, "out of memory for a %zu-byte snapshot", a->len);
            return -1;
        }
        memcpy(op->bytes, a->bytes, a->len);
        op->len = a->len;
        op->zxid = a->value;
        return 0;
    default:   /* LOG_FSYNC: the writer's next batch */
        return 0;
    }
}

int files_execute(struct files *f, const struct rep_action *a, char *err, size_t errlen)
{
    if (a->kind < REP_ACT_LOG_APPEND || a->kind > REP_ACT_SNAPSHOT_WRITE)
        return 0;
    if (f->n_pending >= FILES_PENDING_MAX) {
        snprintf(err, errlen, "%u disk ops awaiting completion: queue full", f->n_pending);
        return -1;
    }
    struct files_op op = {a->op_id, a->kind, NULL, 0, 0};
    if (do_io(f, a, &op, err, errlen) != 0)
        return -1;
    f->pending[f->n_pending++] = op;
    return 0;
}

/* ---- completing them --------------------------------------------------------- */

/* Takes a finished batch: its ops become ready. -1 if the writer failed. */
static int absorb_done(struct files *f, char *err, size_t errlen)
{
    pthread_mutex_lock(&f->mu);
    int done = f->job.state == FILES_JOB_DONE, failed = f->job.failed;
    if (failed)
        snprintf(err, errlen, "%s", f->job.err);
    if (done && !failed) {
        f->n_ready += f->job.n_ops;
        if (f->job.n_fsync > 0) {
            f->fdatasyncs++;
            f->fsync_actions += f->job.n_fsync;
        }
        f->job.state = FILES_JOB_IDLE;
    }
    pthread_mutex_unlock(&f->mu);
    return failed ? -1 : 0;
}

/* With the writer idle: the next batch is the queued ops up to and including
 * the first snapshot. Ops that need no waiting complete at once. */
static void start_batch(struct files *f)
{
    uint32_t lo = f->n_ready, hi = lo, n_fsync = 0;
    const struct files_op *snap = NULL;
    while (hi < f->n_pending && !snap) {
        const struct files_op *op = &f->pending[hi++];
        if (op->kind == REP_ACT_LOG_FSYNC)
            n_fsync++;
        else if (op->kind == REP_ACT_SNAPSHOT_WRITE)
            snap = op;
    }
    if (hi == lo)
        return;
    if (n_fsync == 0 && !snap) {
        f->n_ready = hi;
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->job = (struct files_job){.state = FILES_JOB_RUNNING, .n_ops = hi - lo, .n_fsync = n_fsync,
                                .log_fd = f->log.fd,
                                .snap = snap ? snap->bytes : NULL, .snap_len = snap ? snap->len : 0};
    pthread_cond_signal(&f->cv_job);
    pthread_mutex_unlock(&f->mu);
}

static uint32_t hand_out(struct files *f, uint64_t *done, uint32_t cap)
{
    uint32_t n = f->n_ready < cap ? f->n_ready : cap;
    for (uint32_t i = 0; i < n; i++) {
        done[i] = f->pending[i].op_id;
        if (f->pending[i].kind == REP_ACT_SNAPSHOT_WRITE)
            files_note_snapshot(f, f->pending[i].zxid);
        free(f->pending[i].bytes);
    }
    if (n < f->n_pending)
        memmove(f->pending, f->pending + n, (f->n_pending - n) * sizeof *f->pending);
    f->n_pending -= n;
    f->n_ready -= n;
    return n;
}

static enum files_job_state job_state(struct files *f)
{
    pthread_mutex_lock(&f->mu);
    enum files_job_state s = f->job.state;
    pthread_mutex_unlock(&f->mu);
    return s;
}

void files_note_snapshot(struct files *f, uint64_t zxid)
{
    if (zxid > f->roll_zxid)
        f->roll_zxid = zxid;
}

/* With the writer idle (nobody else holds the log descriptor): start a new
 * segment, then delete those the snapshot covers. The closed segment is
 * made durable first (segs_roll), a short wait once per snapshot. */
static int roll_log(struct files *f, char *err, size_t errlen)
{
    uint64_t z = f->roll_zxid;
    f->roll_zxid = 0;
    if (flush_appends(f, err, errlen) != 0 || segs_roll(&f->log, err, errlen) != 0)
        return -1;
    segs_drop_covered(&f->log, z);
    return 0;
}

int files_sync(struct files *f, uint64_t *done, uint32_t cap, char *err, size_t errlen)
{
    if (absorb_done(f, err, errlen) != 0 || flush_appends(f, err, errlen) != 0)
        return -1;
    if (job_state(f) == FILES_JOB_IDLE) {
        if (f->roll_zxid && roll_log(f, err, errlen) != 0)
            return -1;
        start_batch(f);
    }
    return (int)hand_out(f, done, cap);
}

int files_sync_wait(struct files *f, uint64_t *done, uint32_t cap, char *err, size_t errlen)
{
    for (;;) {
        int n = files_sync(f, done, cap, err, errlen);
        if (n != 0 || f->n_pending == 0)
            return n;
        pthread_mutex_lock(&f->mu);
        while (f->job.state == FILES_JOB_RUNNING)
            pthread_cond_wait(&f->cv_done, &f->mu);
        pthread_mutex_unlock(&f->mu);
    }
}
