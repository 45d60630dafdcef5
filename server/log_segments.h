/* log_segments: zabd's txn log as a run of files that the core sees as one
 * byte stream. The core numbers log bytes from the start of what it read at
 * start-up (LOG_TRUNCATE offsets, its entries' file_off); here those logical
 * offsets are mapped onto segment files, so that the log can be rolled at a
 * snapshot and the segments the snapshot covers deleted, as ZooKeeper rolls
 * log.<zxid> files.
 *
 * Files: <dir>/zablab.log (segment 0), zablab.log.1, zablab.log.2, ...; only
 * the last one is written.
 *
 * Owns: the segment list, the open descriptor of the last segment.
 * Never: deletes a segment holding a record above a durable snapshot's zxid,
 * or starts a new segment before the previous one is durable (a crash must
 * never leave a hole between segments: a hole followed by records would be
 * read back as a gapless history). */
#ifndef ZABLAB_SERVER_LOG_SEGMENTS_H
#define ZABLAB_SERVER_LOG_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

#define SEGS_MAX 64u
#define SEGS_DIR_MAX 1100
#define SEGS_PATH_MAX 1200
#define SEGS_BASE_NAME "zablab.log"

struct seg {
    uint32_t seq;
    uint64_t start;      /* logical offset of its first byte */
    uint64_t size;       /* bytes written to it */
    uint64_t max_zxid;   /* highest zxid of a record in it (UINT64_MAX = unknown) */
};

struct segs {
    char dir[SEGS_DIR_MAX];
    struct seg s[SEGS_MAX];
    uint32_t n;                  /* >= 1 once open */
    int fd;                      /* the last segment, O_APPEND; -1 when closed */
    int dir_fd;
    char path[SEGS_PATH_MAX];    /* the last segment's path */
    uint64_t rolled, dropped;    /* counters */
};

/* Finds the segments in dir (creating segment 0 if there is none) and opens
 * the last. dir_fd: the folder, for fsyncs. 0, or -1 with a message. */
int segs_open(struct segs *g, const char *dir, int dir_fd, char *err, size_t errlen);
void segs_close(struct segs *g);

/* All segments concatenated (malloc'd; at most max bytes, else -1), and each
 * segment's highest record zxid, read from its records. */
int segs_read_all(struct segs *g, size_t max, uint8_t **buf, size_t *len, char *err,
                  size_t errlen);

/* Bookkeeping after `len` bytes holding records up to zxid were written to
 * the last segment. */
void segs_appended(struct segs *g, size_t len, uint64_t max_zxid);

/* Cuts the log at logical offset `off`. Within the last segment: ftruncate.
 * Further back: later segments are deleted and the one holding `off` is cut
 * and written from then on. The caller guarantees nobody else uses the
 * descriptor meanwhile. 0, or -1 with a message. */
int segs_truncate(struct segs *g, uint64_t off, char *err, size_t errlen);

/* Makes the last segment durable and starts a new one (its directory entry
 * durable too). No-op at SEGS_MAX segments or when the last one is empty.
 * Same caller guarantee as segs_truncate. */
int segs_roll(struct segs *g, char *err, size_t errlen);

/* Deletes the segments before the last whose records are all <= zxid (they
 * are in a durable snapshot). Returns how many. */
uint32_t segs_drop_covered(struct segs *g, uint64_t zxid);

/* The logical end: where the next byte goes. */
static inline uint64_t segs_end(const struct segs *g)
{
    return g->n ? g->s[g->n - 1].start + g->s[g->n - 1].size : 0;
}

#endif
