/* overlay: an append-only array with a moving head, plus an open-addressing
 * index from path to the sequence number of its newest record. The index is
 * kept exact: dropping or rolling back a record that the index points to
 * removes the entry or re-points it at the path's previous record. */
#include "core/overlay.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash64.h"

int overlay_init(struct overlay *ov, uint32_t max)
{
    memset(ov, 0, sizeof *ov);
    ov->max = max;
    ov->slot_cap = 64;
    ov->slots = calloc(ov->slot_cap, sizeof *ov->slots);
    return ov->slots ? ZOK : ZSYSTEMERROR;
}

static void rec_release(struct overlay_rec *r)
{
    free(r->path);
    free(r->acl);
    r->path = NULL;
    r->acl = NULL;
}

void overlay_free(struct overlay *ov)
{
    for (uint32_t i = ov->head; i < ov->end; i++)
        rec_release(&ov->recs[i]);
    free(ov->recs);
    free(ov->slots);
    memset(ov, 0, sizeof *ov);
}

void overlay_reset(struct overlay *ov)
{
    for (uint32_t i = ov->head; i < ov->end; i++)
        rec_release(&ov->recs[i]);
    ov->seq_base += ov->end;
    ov->head = ov->end = 0;
    memset(ov->slots, 0, ov->slot_cap * sizeof *ov->slots);
    ov->slot_used = 0;
}

int overlay_clone(struct overlay *dst, const struct overlay *src)
{
    *dst = *src;
    dst->recs = src->cap ? calloc(src->cap, sizeof *dst->recs) : NULL;
    dst->slots = malloc(src->slot_cap * sizeof *dst->slots);
    bool ok = dst->slots != NULL && (src->cap == 0 || dst->recs != NULL);
    if (ok)
        memcpy(dst->slots, src->slots, src->slot_cap * sizeof *dst->slots);
    /* Records outside [head, end) stay zeroed so free never sees them. */
    dst->head = dst->end = src->head;
    for (uint32_t i = src->head; ok && i < src->end; i++) {
        const struct overlay_rec *r = &src->recs[i];
        struct overlay_rec *d = &dst->recs[i];
        *d = *r;
        d->path = malloc(r->path_len + 1u);
        d->acl = r->acl_count ? malloc(r->acl_count * sizeof *r->acl) : NULL;
        ok = d->path != NULL && (r->acl_count == 0 || d->acl != NULL);
        if (ok) {
            memcpy(d->path, r->path, r->path_len + 1u);
            if (r->acl_count)
                memcpy(d->acl, r->acl, r->acl_count * sizeof *r->acl);
        }
        dst->end = i + 1;
    }
    if (!ok) {
        overlay_free(dst);
        return ZSYSTEMERROR;
    }
    return ZOK;
}

static const struct overlay_rec *rec_of(const struct overlay *ov, uint64_t slot)
{
    return &ov->recs[slot - 1 - ov->seq_base];
}

/* Slot holding path, or the empty slot where it would go. */
static uint32_t idx_find(const struct overlay *ov, const char *path, uint32_t len, bool *found)
{
    uint32_t mask = ov->slot_cap - 1;
    uint32_t i = (uint32_t)hash64_path(path, len) & mask;
    for (;; i = (i + 1) & mask) {
        if (ov->slots[i] == 0) {
            *found = false;
            return i;
        }
        const struct overlay_rec *r = rec_of(ov, ov->slots[i]);
        if (r->path_len == len && memcmp(r->path, path, len) == 0) {
            *found = true;
            return i;
        }
    }
}

static void idx_remove_at(struct overlay *ov, uint32_t i)
{
    uint32_t mask = ov->slot_cap - 1, j = i;
    ov->slot_used--;
    for (;;) {
        ov->slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (ov->slots[j] == 0)
                return;
            const struct overlay_rec *r = rec_of(ov, ov->slots[j]);
            uint32_t home = (uint32_t)hash64_path(r->path, r->path_len) & mask;
            bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        ov->slots[i] = ov->slots[j];
        i = j;
    }
}

static int idx_grow(struct overlay *ov)
{
    uint32_t old_cap = ov->slot_cap;
    uint64_t *old = ov->slots;
    ov->slots = calloc((size_t)old_cap * 2, sizeof *ov->slots);
    if (ov->slots == NULL) {
        ov->slots = old;
        return ZSYSTEMERROR;
    }
    ov->slot_cap = old_cap * 2;
    for (uint32_t k = 0; k < old_cap; k++) {
        if (old[k] == 0)
            continue;
        const struct overlay_rec *r = rec_of(ov, old[k]);
        bool found;
        ov->slots[idx_find(ov, r->path, r->path_len, &found)] = old[k];
    }
    free(old);
    return ZOK;
}

const struct overlay_rec *overlay_find(const struct overlay *ov, const char *path, uint32_t len)
{
    bool found;
    uint32_t i = idx_find(ov, path, len, &found);
    return found ? rec_of(ov, ov->slots[i]) : NULL;
}

static int recs_reserve(struct overlay *ov)
{
    if (ov->end < ov->cap)
        return ZOK;
    if (ov->head > 0) { /* reuse the dropped front before growing */
        memmove(ov->recs, ov->recs + ov->head, (ov->end - ov->head) * sizeof *ov->recs);
        ov->seq_base += ov->head;
        ov->end -= ov->head;
        ov->head = 0;
        if (ov->end < ov->cap)
            return ZOK;
    }
    uint32_t cap = ov->cap ? ov->cap * 2 : 64;
    struct overlay_rec *r = realloc(ov->recs, cap * sizeof *r);
    if (r == NULL)
        return ZSYSTEMERROR;
    ov->recs = r;
    ov->cap = cap;
    return ZOK;
}

int overlay_add(struct overlay *ov, const struct overlay_rec *rec)
{
    if (overlay_count(ov) >= ov->max)
        return ZTHROTTLEDOP;
    if (recs_reserve(ov) != ZOK)
        return ZSYSTEMERROR;
    if ((ov->slot_used + 1) * 2 > ov->slot_cap && idx_grow(ov) != ZOK)
        return ZSYSTEMERROR;
    struct overlay_rec *r = &ov->recs[ov->end];
    *r = *rec;
    r->path = malloc(rec->path_len + 1u);
    r->acl = rec->acl_count ? malloc(rec->acl_count * sizeof *rec->acl) : NULL;
    if (r->path == NULL || (rec->acl_count && r->acl == NULL)) {
        rec_release(r);
        return ZSYSTEMERROR;
    }
    memcpy(r->path, rec->path, rec->path_len);
    r->path[rec->path_len] = '\0';
    if (rec->acl_count)
        memcpy(r->acl, rec->acl, rec->acl_count * sizeof *rec->acl);
    uint64_t seq = ov->seq_base + ov->end;
    ov->end++;
    bool found;
    uint32_t i = idx_find(ov, r->path, r->path_len, &found);
    if (!found)
        ov->slot_used++;
    ov->slots[i] = seq + 1;
    return ZOK;
}

/* The record at position k is going away: fix the index if it pointed
 * there (to the previous live record of the path, searched backwards from
 * `from` exclusive, or nothing). */
static void idx_forget(struct overlay *ov, uint32_t k, uint32_t lo, uint32_t from)
{
    const struct overlay_rec *r = &ov->recs[k];
    bool found;
    uint32_t i = idx_find(ov, r->path, r->path_len, &found);
    assert(found);
    if (ov->slots[i] != ov->seq_base + k + 1)
        return;
    for (uint32_t m = from; m-- > lo;) {
        const struct overlay_rec *o = &ov->recs[m];
        if (o->path_len == r->path_len && memcmp(o->path, r->path, r->path_len) == 0) {
            ov->slots[i] = ov->seq_base + m + 1;
            return;
        }
    }
    idx_remove_at(ov, i);
}

void overlay_truncate(struct overlay *ov, uint64_t mark)
{
    assert(mark >= ov->seq_base + ov->head && mark <= ov->seq_base + ov->end);
    while (ov->seq_base + ov->end > mark) {
        uint32_t k = ov->end - 1;
        idx_forget(ov, k, ov->head, k);
        rec_release(&ov->recs[k]);
        ov->end--;
    }
}

void overlay_retag(struct overlay *ov, uint64_t mark, int64_t zxid)
{
    for (uint32_t k = ov->head; k < ov->end; k++)
        if (ov->seq_base + k >= mark)
            ov->recs[k].zxid = zxid;
}

void overlay_applied(struct overlay *ov, int64_t zxid)
{
    while (ov->head < ov->end && ov->recs[ov->head].zxid <= zxid) {
        /* Older records of the path are gone already: no re-pointing. */
        idx_forget(ov, ov->head, ov->head, ov->head);
        rec_release(&ov->recs[ov->head]);
        ov->head++;
    }
    if (ov->head == ov->end) {
        ov->seq_base += ov->end;
        ov->head = ov->end = 0;
    }
}
