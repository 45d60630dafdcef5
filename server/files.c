/* files: see files.h. This half opens, reads back and writes whole files;
 * files_sync.c runs the disk actions and the writer thread. */
#include "server/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const epoch_names[] = {"acceptedEpoch", "currentEpoch"};

int files_io_fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

/* mkdir -p: ZooKeeper creates a missing dataDir too. */
static int make_dir(const char *path, char *err, size_t errlen)
{
    char p[FILES_PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return files_io_fail(err, errlen, "cannot create folder", p);
        *s = '/';
    }
    if (mkdir(p, 0755) == 0 || errno == EEXIST)
        return 0;
    return files_io_fail(err, errlen, "cannot create folder", path);
}

static int join(char *out, size_t cap, const char *a, const char *b, char *err, size_t errlen)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "path too long: %s/%s", a, b);
        return -1;
    }
    return 0;
}

int files_open(struct files *f, const char *data_dir, const char *data_log_dir, char *err,
               size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->log.fd = f->log_dir_fd = f->dir_fd = f->event_fd = -1;
    if (join(f->dir, sizeof f->dir, data_dir, "version-2", err, errlen) ||
        join(f->log_dir, sizeof f->log_dir, data_log_dir, "version-2", err, errlen))
        return -1;
    if (make_dir(data_dir, err, errlen) || make_dir(f->dir, err, errlen) ||
        make_dir(data_log_dir, err, errlen) || make_dir(f->log_dir, err, errlen))
        return -1;
    f->pending = calloc(FILES_PENDING_MAX, sizeof *f->pending);
    if (!f->pending) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    f->log_dir_fd = f->dir_fd < 0 ? -1 : open(f->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dir_fd < 0 || f->log_dir_fd < 0) {
        files_io_fail(err, errlen, "cannot open folder", f->dir_fd < 0 ? f->dir : f->log_dir);
        files_close(f);
        return -1;
    }
    if (segs_open(&f->log, f->log_dir, f->log_dir_fd, err, errlen) != 0 ||
        files_writer_start(f, err, errlen) != 0) {
        files_close(f);
        return -1;
    }
    return 0;
}

void files_close(struct files *f)
{
    files_writer_stop(f);   /* first: the thread may be using the descriptors */
    segs_close(&f->log);
    if (f->log_dir_fd >= 0)
        close(f->log_dir_fd);
    if (f->dir_fd >= 0)
        close(f->dir_fd);
    free(f->pending);
    f->pending = NULL;
    f->log_dir_fd = f->dir_fd = -1;
}

/* ---- reading ----------------------------------------------------------------- */

/* Reads a whole file into a malloc'd buffer. 1 = absent, 0 = read, -1 = error. */
static int read_all(const char *path, size_t max_bytes, uint8_t **buf, size_t *len, char *err,
                    size_t errlen)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : files_io_fail(err, errlen, "cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return files_io_fail(err, errlen, "cannot stat", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        snprintf(err, errlen, "%s: %lld bytes, over the limit of %zu", path,
                 (long long)st.st_size, max_bytes);
        close(fd);
        return -1;
    }
    size_t want = (size_t)st.st_size;
    uint8_t *b = malloc(want ? want : 1);
    size_t got = 0;
    while (b && got < want) {
        ssize_t n = read(fd, b + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    *buf = b;
    *len = got;   /* a file that shrank while read: what is there */
    return 0;
}

int files_parse_epoch(const char *text, size_t len, uint64_t *value)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *value = v;
    return 0;
}

static int load_epoch(struct files *f, int which, int *has, uint64_t *value, char *err,
                      size_t errlen)
{
    char path[FILES_PATH_MAX];
    if (join(path, sizeof path, f->dir, epoch_names[which], err, errlen))
        return -1;
    uint8_t *buf;
    size_t len;
    int rc = read_all(path, FILES_EPOCH_BYTES_MAX, &buf, &len, err, errlen);
    *has = 0;
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    rc = files_parse_epoch((const char *)buf, len, value);
    free(buf);
    if (rc != 0) {
        snprintf(err, errlen, "%s:1:1: expected a decimal epoch number", path);
        return -1;
    }
    *has = 1;
    return 0;
}

int files_load(struct files *f, struct files_durable *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct replica_durable *d = &out->d;
    size_t len;
    if (segs_read_all(&f->log, FILES_LOG_BYTES_MAX, &out->log_buf, &len, err, errlen) < 0)
        return -1;
    d->log = out->log_buf;
    d->log_len = len;
    char path[FILES_PATH_MAX];
    if (join(path, sizeof path, f->dir, FILES_SNAPSHOT_NAME, err, errlen) ||
        read_all(path, FILES_SNAPSHOT_BYTES_MAX, &out->snap_buf, &len, err, errlen) < 0 ||
        load_epoch(f, REP_EPOCH_ACCEPTED, &d->has_accepted_epoch, &d->accepted_epoch, err,
                   errlen) ||
        load_epoch(f, REP_EPOCH_CURRENT, &d->has_current_epoch, &d->current_epoch, err,
                   errlen)) {
        files_durable_free(out);
        return -1;
    }
    d->snapshot = out->snap_buf;
    d->snapshot_len = out->snap_buf ? len : 0;
    return 0;
}

void files_durable_free(struct files_durable *fd)
{
    free(fd->log_buf);
    free(fd->snap_buf);
    memset(fd, 0, sizeof *fd);
}

/* ---- writing ----------------------------------------------------------------- */

int files_write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int files_replace_durably(const struct files *f, const char *name, const uint8_t *bytes,
                          size_t len, char *err, size_t errlen)
{
    char path[FILES_PATH_MAX], tmp[FILES_PATH_MAX + 32];
    if (join(path, sizeof path, f->dir, name, err, errlen))
        return -1;
    /* The pid keeps a snapshot child's file apart from the server's own. */
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return files_io_fail(err, errlen, "cannot create", tmp);
    if (files_write_all(fd, bytes, len) != 0 || fsync(fd) != 0) {
        files_io_fail(err, errlen, "cannot write", tmp);
        close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return files_io_fail(err, errlen, "cannot rename to", path);
    if (fsync(f->dir_fd) != 0)
        return files_io_fail(err, errlen, "cannot fsync folder", f->dir);
    return 0;
}

int files_write_epoch(const struct files *f, const char *name, uint64_t value, char *err,
                      size_t errlen)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)value);
    return files_replace_durably(f, name, (const uint8_t *)text, (size_t)n, err, errlen);
}

