/* Incremental ZAB invariant checks; see the header for the list. The ghost
 * committed history is a zxid-sorted array: commits arrive almost always in
 * increasing zxid order, so insertion is an append and lookups are binary
 * searches. */
#include "check/zab_invariants.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int chk_zab_init(struct chk_zab *c, int n_servers)
{
    memset(c, 0, sizeof *c);
    c->n_servers = n_servers;
    return 0;
}

void chk_zab_free(struct chk_zab *c)
{
    free(c->ghost);
    free(c->epochs);
    memset(c, 0, sizeof *c);
}

static void fail(struct chk_zab *c, const char *property, uint64_t t_ns, int a, int b,
                 uint64_t zxid, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void fail(struct chk_zab *c, const char *property, uint64_t t_ns, int a, int b,
                 uint64_t zxid, const char *fmt, ...)
{
    if (c->failed)
        return; /* the first violation is the one that matters */
    c->failed = true;
    struct chk_violation *v = &c->violation;
    snprintf(v->property, sizeof v->property, "%s", property);
    v->t_ns = t_ns;
    v->nodes[0] = a;
    v->nodes[1] = b;
    v->zxid = zxid;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
}

/* Index of the first ghost entry with zxid >= z. */
static size_t ghost_lower(const struct chk_zab *c, uint64_t z)
{
    size_t lo = 0, hi = c->ghost_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->ghost[mid].zxid < z)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct chk_ghost_entry *chk_zab_find(const struct chk_zab *c, uint64_t zxid)
{
    size_t i = ghost_lower(c, zxid);
    return (i < c->ghost_len && c->ghost[i].zxid == zxid) ? &c->ghost[i] : NULL;
}

static struct chk_ghost_entry *ghost_insert(struct chk_zab *c, size_t at)
{
    if (c->ghost_len == c->ghost_cap) {
        size_t cap = c->ghost_cap ? c->ghost_cap * 2 : 1024;
        struct chk_ghost_entry *g = realloc(c->ghost, cap * sizeof *g);
        if (!g)
            abort(); /* the checker cannot continue blind */
        c->ghost = g;
        c->ghost_cap = cap;
    }
    memmove(&c->ghost[at + 1], &c->ghost[at], (c->ghost_len - at) * sizeof *c->ghost);
    c->ghost_len++;
    return &c->ghost[at];
}

/* The replica's log entry for zxid, or NULL (binary search; zxids increase). */
static const struct rep_entry *log_find(const struct replica *r, uint64_t zxid)
{
    uint32_t lo = 0, hi = replica_log_count(r);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct rep_entry *e = replica_log_entry(r, mid);
        if (e->zxid == zxid)
            return e;
        if (e->zxid < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Records or checks one applied txn against the ghost history. The digest
 * is known only for the last txn a step applied (0 = unknown). */
static void ghost_applied(struct chk_zab *c, uint64_t t, int node, uint64_t zxid, uint64_t hash,
                          bool has_digest, uint64_t digest)
{
    size_t at = ghost_lower(c, zxid);
    if (at < c->ghost_len && c->ghost[at].zxid == zxid) {
        struct chk_ghost_entry *g = &c->ghost[at];
        if (hash != g->hash)
            fail(c, "AGREEMENT", t, node, g->first_node, zxid,
                 "s%d and s%d applied different txns at zxid 0x%" PRIx64, node, g->first_node,
                 zxid);
        else if (has_digest && g->has_digest && digest != g->digest)
            fail(c, "STATE_DIGEST", t, node, g->first_node, zxid,
                 "s%d and s%d have different state digests after zxid 0x%" PRIx64
                 " (%016" PRIx64 " vs %016" PRIx64 ")",
                 node, g->first_node, zxid, digest, g->digest);
        else if (has_digest && !g->has_digest) {
            g->digest = digest;
            g->has_digest = true;
        }
        return;
    }
    struct chk_ghost_entry *g = ghost_insert(c, at);
    *g = (struct chk_ghost_entry){.zxid = zxid, .hash = hash, .digest = digest,
                                  .has_digest = has_digest, .first_node = node};
}

/* Walks the log entries this step applied (absolute indices
 * [seen, applied_hi)), state-based so no trace event can be missed. */
static void check_applied(struct chk_zab *c, uint64_t t, const struct replica *r)
{
    struct chk_node_floor *f = &c->floor[r->id];
    if (r->zxid_applied < f->applied_zxid)
        fail(c, "PRIMARY_ORDER", t, r->id, 0, r->zxid_applied,
             "s%d applied state went back from zxid 0x%" PRIx64 " to 0x%" PRIx64, r->id,
             f->applied_zxid, r->zxid_applied);
    uint64_t from = f->applied_hi_seen > r->log_lo ? f->applied_hi_seen : r->log_lo;
    if (r->zxid_applied == f->applied_zxid && r->applied_hi == f->applied_hi_seen)
        return;
    for (uint64_t i = from; i < r->applied_hi; i++) {
        const struct rep_entry *e = replica_log_entry(r, (uint32_t)(i - r->log_lo));
        if (!e || e->zxid <= f->applied_zxid)
            continue;
        bool last = e->zxid == r->zxid_applied;
        ghost_applied(c, t, r->id, e->zxid, e->hash, last, last ? replica_digest(r) : 0);
    }
    if (r->zxid_applied > f->applied_zxid) {
        /* A jump with no log entry (snapshot load): compare the digest. */
        const struct chk_ghost_entry *g = chk_zab_find(c, r->zxid_applied);
        uint64_t d = replica_digest(r);
        if (g && g->has_digest && g->digest != d)
            fail(c, "STATE_DIGEST", t, r->id, g->first_node, g->zxid,
                 "s%d holds a state at zxid 0x%" PRIx64 " whose digest differs from s%d's",
                 r->id, g->zxid, g->first_node);
    }
    f->applied_zxid = r->zxid_applied;
    f->applied_hi_seen = r->applied_hi;
}

static int epoch_leader(struct chk_zab *c, uint64_t epoch, int leader)
{
    for (size_t i = 0; i < c->epochs_len; i++)
        if (c->epochs[i].epoch == epoch)
            return c->epochs[i].leader;
    if (c->epochs_len == c->epochs_cap) {
        size_t cap = c->epochs_cap ? c->epochs_cap * 2 : 64;
        struct chk_epoch_leader *e = realloc(c->epochs, cap * sizeof *e);
        if (!e)
            abort();
        c->epochs = e;
        c->epochs_cap = cap;
    }
    c->epochs[c->epochs_len++] = (struct chk_epoch_leader){epoch, leader};
    return leader;
}

/* LeaderLogCompleteness: every txn committed anywhere so far must be in the
 * new leader's history (in its log, or below its snapshot base). */
static void check_leader_complete(struct chk_zab *c, uint64_t t, const struct replica *r)
{
    uint64_t base = r->log_base_zxid;
    for (size_t i = ghost_lower(c, base + 1); i < c->ghost_len; i++) {
        const struct chk_ghost_entry *g = &c->ghost[i];
        const struct rep_entry *e = log_find(r, g->zxid);
        if (!e) {
            fail(c, "LEADER_COMPLETE", t, r->id, g->first_node, g->zxid,
                 "s%d established epoch %" PRIu64 " without txn 0x%" PRIx64
                 " that s%d had committed: a committed write is lost",
                 r->id, r->established_epoch, g->zxid, g->first_node);
            return;
        }
        if (g->hash && e->hash != g->hash) {
            fail(c, "LEADER_COMPLETE", t, r->id, g->first_node, g->zxid,
                 "s%d established epoch %" PRIu64 " with a different txn at 0x%" PRIx64
                 " than the one s%d committed",
                 r->id, r->established_epoch, g->zxid, g->first_node);
            return;
        }
    }
}

static void on_event(struct chk_zab *c, uint64_t t, const struct replica *r,
                     const struct rep_event *ev)
{
    switch (ev->kind) {
    case REP_EV_ESTABLISHED: {
        int prev = epoch_leader(c, ev->a, r->id);
        if (prev != r->id)
            fail(c, "LEADER_UNIQUE", t, r->id, prev, ev->a << 32,
                 "s%d and s%d both established epoch %" PRIu64, prev, r->id, ev->a);
        check_leader_complete(c, t, r);
        break;
    }
    case REP_EV_TRUNC_BELOW_APPLIED:
        fail(c, "TRUNC_APPLIED", t, r->id, 0, ev->a,
             "s%d truncated its log to 0x%" PRIx64 " below its applied zxid 0x%" PRIx64, r->id,
             ev->a, ev->b);
        break;
    default:
        break;
    }
}

static void check_epochs(struct chk_zab *c, uint64_t t, const struct replica *r)
{
    struct chk_node_floor *f = &c->floor[r->id];
    if (r->accepted_epoch < r->current_epoch)
        fail(c, "EPOCH_ORDER", t, r->id, 0, 0,
             "s%d has acceptedEpoch %" PRIu64 " < currentEpoch %" PRIu64, r->id,
             r->accepted_epoch, r->current_epoch);
    if (r->accepted_epoch < f->accepted_epoch || r->current_epoch < f->current_epoch)
        fail(c, "EPOCH_MONOTONIC", t, r->id, 0, 0,
             "s%d epochs went backwards: accepted %" PRIu64 " -> %" PRIu64 ", current %" PRIu64
             " -> %" PRIu64,
             r->id, f->accepted_epoch, r->accepted_epoch, f->current_epoch, r->current_epoch);
    f->accepted_epoch = r->accepted_epoch;
    f->current_epoch = r->current_epoch;
    if (r->zxid_committed < f->committed_zxid)
        fail(c, "COMMIT_MONOTONIC", t, r->id, 0, r->zxid_committed,
             "s%d committed zxid went back from 0x%" PRIx64 " to 0x%" PRIx64, r->id,
             f->committed_zxid, r->zxid_committed);
    f->committed_zxid = r->zxid_committed;
}

void chk_zab_on_start(struct chk_zab *c, uint64_t t_ns, const struct replica *r)
{
    struct chk_node_floor *f = &c->floor[r->id];
    f->applied_zxid = 0;
    f->applied_hi_seen = 0;
    f->committed_zxid = 0;
    check_epochs(c, t_ns, r);
    check_applied(c, t_ns, r);
}

void chk_zab_after_step(struct chk_zab *c, uint64_t t_ns, const struct replica *r,
                        const struct replica_out *out)
{
    c->checks++;
    for (uint32_t i = 0; i < out->n_events; i++)
        on_event(c, t_ns, r, &out->events[i]);
    check_epochs(c, t_ns, r);
    check_applied(c, t_ns, r);
}
