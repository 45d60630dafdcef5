/* overlay: the leader's outstanding changes (ZooKeeper's outstandingChanges
 * and outstandingChangesForPath): change records of txns proposed but not
 * yet applied, oldest first, with a path index to the newest record of each
 * path so a lookup is O(1) however deep the pipeline is.
 *
 * Owns: the records (path and ACL copies) and the index. Records are
 * addressed by a 64-bit sequence number that never repeats, so dropping
 * applied records from the front does not renumber the others.
 * Never: look at the tree (prep falls back to it when a path has no
 * record), or keep more than `max` records (overlay_add says ZTHROTTLEDOP). */
#ifndef ZABLAB_CORE_OVERLAY_H
#define ZABLAB_CORE_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/zk_types.h"

struct overlay_rec {
    int64_t zxid;
    char *path;
    uint32_t path_len;
    bool exists;              /* false: deleted by an outstanding txn */
    struct zk_stat stat;
    int32_t child_count;
    struct zk_acl *acl;
    uint32_t acl_count;
};

struct overlay {
    uint32_t max;
    struct overlay_rec *recs; /* live: [head, end) */
    uint32_t head;
    uint32_t end;
    uint32_t cap;
    uint64_t seq_base;        /* sequence number of recs[0] */
    uint64_t *slots;          /* seq + 1 of the newest record per path; 0 empty */
    uint32_t slot_cap;        /* power of two, load <= 1/2 */
    uint32_t slot_used;
};

int overlay_init(struct overlay *ov, uint32_t max);
void overlay_free(struct overlay *ov);
void overlay_reset(struct overlay *ov);
int overlay_clone(struct overlay *dst, const struct overlay *src);

/* Newest record for path, or NULL. Valid until the next change. */
const struct overlay_rec *overlay_find(const struct overlay *ov, const char *path, uint32_t len);
/* Appends a record (copies path and ACL): ZOK, ZTHROTTLEDOP, ZSYSTEMERROR. */
int overlay_add(struct overlay *ov, const struct overlay_rec *rec);

/* A point to roll back to (a sequence number, stable while records are
 * added), and the rollback (drops every record added after it). */
static inline uint64_t overlay_mark(const struct overlay *ov) { return ov->seq_base + ov->end; }
void overlay_truncate(struct overlay *ov, uint64_t mark);
/* Sets the zxid of every record added after mark. */
void overlay_retag(struct overlay *ov, uint64_t mark, int64_t zxid);
/* Drops records of txns with zxid <= zxid (they are in the tree now). */
void overlay_applied(struct overlay *ov, int64_t zxid);

static inline uint32_t overlay_count(const struct overlay *ov) { return ov->end - ov->head; }
/* The i-th live record, oldest first. */
static inline const struct overlay_rec *overlay_at(const struct overlay *ov, uint32_t i)
{
    return &ov->recs[ov->head + i];
}

#endif
