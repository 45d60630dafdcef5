/* log_segments: see log_segments.h. */
#include "server/log_segments.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log_record.h"

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

static void seg_path(const struct segs *g, uint32_t seq, char *out, size_t cap)
{
    if (seq == 0)
        snprintf(out, cap, "%s/%s", g->dir, SEGS_BASE_NAME);
    else
        snprintf(out, cap, "%s/%s.%u", g->dir, SEGS_BASE_NAME, seq);
}

/* "zablab.log" -> 0, "zablab.log.N" -> N (N >= 1, no leading zero), else -1. */
static long seq_of_name(const char *name)
{
    size_t b = strlen(SEGS_BASE_NAME);
    if (strncmp(name, SEGS_BASE_NAME, b) != 0)
        return -1;
    if (name[b] == '\0')
        return 0;
    if (name[b] != '.' || name[b + 1] < '1' || name[b + 1] > '9')
        return -1;
    long v = 0;
    for (const char *p = name + b + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static int by_seq(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int open_last(struct segs *g, int create, char *err, size_t errlen)
{
    seg_path(g, g->s[g->n - 1].seq, g->path, sizeof g->path);
    g->fd = open(g->path, O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    return g->fd < 0 ? fail(err, errlen, "cannot open log", g->path) : 0;
}

static int scan_dir(struct segs *g, char *err, size_t errlen)
{
    DIR *d = opendir(g->dir);
    if (!d)
        return fail(err, errlen, "cannot list", g->dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        long seq = seq_of_name(e->d_name);
        if (seq < 0)
            continue;
        if (g->n == SEGS_MAX) {
            closedir(d);
            snprintf(err, errlen, "%s: more than %u log segments", g->dir, SEGS_MAX);
            return -1;
        }
        g->s[g->n++] = (struct seg){(uint32_t)seq, 0, 0, UINT64_MAX};
    }
    closedir(d);
    qsort(g->s, g->n, sizeof g->s[0], by_seq);
    uint64_t start = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        char p[SEGS_PATH_MAX];
        struct stat st;
        seg_path(g, g->s[i].seq, p, sizeof p);
        if (stat(p, &st) != 0)
            return fail(err, errlen, "cannot stat", p);
        g->s[i].start = start;
        g->s[i].size = (uint64_t)st.st_size;
        start += g->s[i].size;
    }
    return 0;
}

int segs_open(struct segs *g, const char *dir, int dir_fd, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->fd = -1;
    g->dir_fd = dir_fd;
    snprintf(g->dir, sizeof g->dir, "%s", dir);
    if (scan_dir(g, err, errlen) != 0)
        return -1;
    int create = g->n == 0;
    if (create)
        g->s[g->n++] = (struct seg){0, 0, 0, 0};
    return open_last(g, create, err, errlen);
}

void segs_close(struct segs *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
}

static uint64_t max_record_zxid(const uint8_t *p, size_t len)
{
    uint64_t max = 0;
    size_t off = 0, used;
    struct log_record rec;
    while (off < len && log_record_decode(p + off, len - off, &rec, &used) == LOG_DECODE_OK) {
        if (rec.zxid > max)
            max = rec.zxid;
        off += used;
    }
    /* A segment with undecodable bytes is kept until the core cuts them. */
    return off == len ? max : UINT64_MAX;
}

int segs_read_all(struct segs *g, size_t max, uint8_t **buf, size_t *len, char *err,
                  size_t errlen)
{
    uint64_t total = segs_end(g);
    *buf = NULL;
    *len = 0;
    if (total > max) {
        snprintf(err, errlen, "%s: %llu log bytes in %u segments, over the limit of %zu", g->dir,
                 (unsigned long long)total, g->n, max);
        return -1;
    }
    uint8_t *b = malloc(total ? (size_t)total : 1);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory for %llu log bytes", g->dir,
                 (unsigned long long)total);
        return -1;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        char p[SEGS_PATH_MAX];
        seg_path(g, g->s[i].seq, p, sizeof p);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        size_t want = (size_t)g->s[i].size, got = 0;
        while (fd >= 0 && got < want) {
            ssize_t n = pread(fd, b + g->s[i].start + got, want - got, (off_t)got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (fd >= 0)
            close(fd);
        if (got != want) {
            free(b);
            return fail(err, errlen, "cannot read", p);
        }
        g->s[i].max_zxid = max_record_zxid(b + g->s[i].start, want);
    }
    *buf = b;
    *len = (size_t)total;
    return 0;
}

void segs_appended(struct segs *g, size_t len, uint64_t max_zxid)
{
    struct seg *s = &g->s[g->n - 1];
    s->size += len;
    if (s->max_zxid != UINT64_MAX && max_zxid > s->max_zxid)
        s->max_zxid = max_zxid;
}

int segs_truncate(struct segs *g, uint64_t off, char *err, size_t errlen)
{
    uint32_t i = g->n - 1;
    while (i > 0 && g->s[i].start > off)
        i--;
    int deleted = i != g->n - 1;
    if (deleted) {
        /* Back into an older segment: the later ones go, this one is cut and
         * written from now on. */
        segs_close(g);
        for (uint32_t k = g->n - 1; k > i; k--) {
            char p[SEGS_PATH_MAX];
            seg_path(g, g->s[k].seq, p, sizeof p);
            if (unlink(p) != 0 && errno != ENOENT)
                return fail(err, errlen, "cannot delete", p);
        }
        g->n = i + 1;
        if (open_last(g, 0, err, errlen) != 0)
            return -1;
    }
    struct seg *s = &g->s[g->n - 1];
    uint64_t keep = off > s->start ? off - s->start : 0;
    if (ftruncate(g->fd, (off_t)keep) != 0)
        return fail(err, errlen, "cannot truncate", g->path);
    s->size = keep;
    /* The deletions must be durable before anything is appended: segments
     * coming back after a crash would put stale records after the cut. */
    if (deleted && g->dir_fd >= 0 && fsync(g->dir_fd) != 0)
        return fail(err, errlen, "cannot fsync folder", g->dir);
    return 0;
}

int segs_roll(struct segs *g, char *err, size_t errlen)
{
    struct seg *last = &g->s[g->n - 1];
    if (g->n == SEGS_MAX || last->size == 0)
        return 0;
    if (fdatasync(g->fd) != 0)
        return fail(err, errlen, "fdatasync failed on", g->path);
    struct seg next = {last->seq + 1, last->start + last->size, 0, 0};
    char p[SEGS_PATH_MAX];
    seg_path(g, next.seq, p, sizeof p);
    int fd = open(p, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, errlen, "cannot create log", p);
    if (g->dir_fd >= 0 && fsync(g->dir_fd) != 0) {
        close(fd);
        unlink(p);
        return fail(err, errlen, "cannot fsync folder", g->dir);
    }
    close(g->fd);
    g->fd = fd;
    g->s[g->n++] = next;
    snprintf(g->path, sizeof g->path, "%s", p);
    g->rolled++;
    return 0;
}

uint32_t segs_drop_covered(struct segs *g, uint64_t zxid)
{
    uint32_t k = 0;
    while (k + 1 < g->n && g->s[k].max_zxid != UINT64_MAX && g->s[k].max_zxid <= zxid) {
        char p[SEGS_PATH_MAX];
        seg_path(g, g->s[k].seq, p, sizeof p);
        if (unlink(p) != 0 && errno != ENOENT)
            break;   /* kept: read again next start-up, which is harmless */
        k++;
    }
    if (k > 0) {
        memmove(g->s, g->s + k, (g->n - k) * sizeof g->s[0]);
        g->n -= k;
        g->dropped += k;
    }
    return k;
}
