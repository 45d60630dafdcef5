/* Replica: the input entry points, the output batch, the in-memory log and
 * role changes. Role-specific protocol steps live in zab_leader.c and
 * zab_follower.c, recovery in storage.c. Never performs I/O: every effect
 * is an action in the output batch (see replica.h for the driver contract). */
#include "core/replica.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log_record.h"
#include "core/replica_internal.h"
#include "core/storage.h"

/* The output arena starts small and is cut back to that after a batch that
 * needed more than REP_OUT_KEEP_BYTES (a snapshot, a sync stream). */
#define REP_OUT_INITIAL_BYTES 4096u
#define REP_OUT_KEEP_BYTES (1u << 20)

/* ------------------------------------------------------------------ */
/* configuration and lifetime                                          */

static int config_normalise(struct replica_config *c, char *err, size_t errlen)
{
    if (c->n_servers < 1 || c->n_servers > REP_SERVERS_MAX || c->id < 1 || c->id > c->n_servers) {
        snprintf(err, errlen, "config: id %d / n_servers %d out of range (1..%d)", c->id,
                 c->n_servers, REP_SERVERS_MAX);
        return -1;
    }
    if (c->tick_ms == 0 || c->init_limit == 0 || c->sync_limit == 0) {
        snprintf(err, errlen, "config: tick_ms, init_limit and sync_limit must be > 0");
        return -1;
    }
    if (!c->finalize_wait_ms)
        c->finalize_wait_ms = 200;
    if (!c->notification_interval_max_ms)
        c->notification_interval_max_ms = 60000;
    if (!c->log_entries_max)
        c->log_entries_max = REP_LOG_ENTRIES_DEFAULT;
    if (!c->log_bytes_max)
        c->log_bytes_max = REP_LOG_BYTES_DEFAULT;
    if (!c->payload_bytes_max)
        c->payload_bytes_max = REP_PAYLOAD_BYTES_DEFAULT;
    if (!c->zxid_counter_max || c->zxid_counter_max > ZXID_COUNTER_MAX)
        c->zxid_counter_max = ZXID_COUNTER_MAX;
    if (!c->sm)
        c->sm = &sm_opaque_ops;
    if (c->payload_bytes_max > LOG_RECORD_PAYLOAD_MAX || c->payload_bytes_max > c->log_bytes_max ||
        c->log_entries_max < 4) {
        snprintf(err, errlen, "config: payload_bytes_max %u must be <= log_bytes_max %u and %u",
                 c->payload_bytes_max, c->log_bytes_max, LOG_RECORD_PAYLOAD_MAX);
        return -1;
    }
    return 0;
}

int replica_init(struct replica *r, const struct replica_config *cfg, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    if (config_normalise(&r->cfg, err, errlen) < 0)
        return REP_ERR_CONFIG;
    if (quorum_init_majority(&r->qv, r->cfg.n_servers, r->cfg.roles) < 0) {
        snprintf(err, errlen, "config: no voter among %d servers", r->cfg.n_servers);
        return REP_ERR_CONFIG;
    }
    r->id = r->cfg.id;
    r->waits_cap = r->cfg.log_entries_max + 64;
    r->actions_cap = 64;
    r->out_cap = REP_OUT_INITIAL_BYTES;
    r->log = calloc(r->cfg.log_entries_max, sizeof *r->log);
    r->scratch_zxids = calloc(r->cfg.log_entries_max, sizeof *r->scratch_zxids);
    r->payload = malloc(r->cfg.log_bytes_max);
    r->waits = calloc(r->waits_cap, sizeof *r->waits);
    r->actions = calloc(r->actions_cap, sizeof *r->actions);
    r->out_bytes = malloc(r->out_cap);
    r->sm = r->cfg.sm->create();
    if (!r->log || !r->scratch_zxids || !r->payload || !r->waits || !r->actions ||
        !r->out_bytes || !r->sm) {
        replica_free(r);
        snprintf(err, errlen, "out of memory");
        return REP_ERR_NOMEM;
    }
    r->next_op_id = 1;
    r->state = REP_LOOKING;
    return REP_OK;
}

void replica_free(struct replica *r)
{
    free(r->log);
    free(r->scratch_zxids);
    free(r->payload);
    free(r->waits);
    free(r->actions);
    free(r->out_bytes);
    if (r->sm)
        r->cfg.sm->destroy(r->sm);
    r->log = NULL, r->scratch_zxids = NULL, r->payload = NULL, r->waits = NULL;
    r->actions = NULL, r->out_bytes = NULL, r->sm = NULL;
}

static void *dup_bytes(const void *src, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

int replica_clone(struct replica *dst, const struct replica *src)
{
    *dst = *src;
    dst->log = dup_bytes(src->log, src->cfg.log_entries_max * sizeof *src->log);
    dst->scratch_zxids = calloc(src->cfg.log_entries_max, sizeof *src->scratch_zxids);
    dst->payload = dup_bytes(src->payload, src->cfg.log_bytes_max);
    dst->waits = dup_bytes(src->waits, src->waits_cap * sizeof *src->waits);
    dst->actions = dup_bytes(src->actions, src->actions_cap * sizeof *src->actions);
    dst->out_bytes = dup_bytes(src->out_bytes, src->out_cap);
    dst->sm = src->cfg.sm->clone(src->sm);
    if (!dst->log || !dst->scratch_zxids || !dst->payload || !dst->waits || !dst->actions ||
        !dst->out_bytes || !dst->sm) {
        replica_free(dst);
        return REP_ERR_NOMEM;
    }
    return REP_OK;
}

static uint64_t hash_fold(uint64_t h, const void *p, size_t n)
{
    return sm_digest_fold(h, n, sm_hash64(p, n));
}

uint64_t replica_hash(const struct replica *r)
{
    uint64_t scalars[] = {
        r->state, r->phase, (uint64_t)r->leader_id, r->accepted_epoch, r->current_epoch,
        r->accepted_epoch_issued,
        r->established_epoch, r->log_hi - r->log_lo, r->log_appended_hi - r->log_lo,
        r->log_durable_hi - r->log_lo, r->log_base_zxid, r->commit_hi - r->log_lo,
        r->applied_hi - r->log_lo, r->zxid_reported, r->snapshot_zxid, r->epoch_proposed,
        r->info_mask, r->epoch_ack_mask, r->newleader_ack_mask, r->next_counter,
        r->current_write_pending, r->follow_epoch, r->sync_kind, r->sync_started,
        r->newleader_seen, r->newleader_acked, r->ack_hi - r->log_lo, r->appends_deferred,
        r->snapshot_pending_zxid, r->waits_n, r->cfg.sm->digest(r->sm)};
    uint64_t h = hash_fold(0, scalars, sizeof scalars);
    /* field by field: struct padding must not leak into the hash */
    uint64_t vote[4] = {r->fle.round, (uint64_t)(int64_t)r->fle.vote.leader, r->fle.vote.zxid,
                        r->fle.vote.peer_epoch};
    h = hash_fold(h, vote, sizeof vote);
    for (uint64_t abs = r->log_lo; abs < r->log_hi; abs++) {
        const struct rep_entry *e = &r->log[abs - r->log_lo];
        uint64_t v[3] = {e->zxid, e->hash, e->ack_mask};
        h = hash_fold(h, v, sizeof v);
    }
    for (int id = 1; id <= r->cfg.n_servers; id++) {
        const struct rep_learner *l = &r->learners[id];
        uint64_t v[7] = {l->state, l->observer, l->epoch_valid, l->accepted_epoch,
                         l->current_epoch, l->last_zxid, l->nl_ack_missed};
        h = hash_fold(h, v, sizeof v);
    }
    return h;
}

/* ------------------------------------------------------------------ */
/* output batch                                                        */

uint8_t *rep_out_reserve(struct replica *r, size_t n, size_t *off)
{
    if (r->out_used + n > r->out_cap) {
        size_t cap = r->out_cap;
        while (cap < r->out_used + n)
            cap *= 2;
        uint8_t *p = realloc(r->out_bytes, cap);
        assert(p && "output arena: out of memory");
        if (!p)
            abort();
        r->out_bytes = p, r->out_cap = cap;
    }
    *off = r->out_used;
    r->out_used += n;
    return r->out_bytes + *off;
}

static struct rep_action *push_action(struct replica *r, int kind)
{
    if (r->n_actions == r->actions_cap) {
        /* Bounded by the log size times the cluster size: a sync stream is the largest batch. */
        uint32_t cap = r->actions_cap * 2;
        struct rep_action *a = realloc(r->actions, cap * sizeof *a);
        assert(a && "action list: out of memory");
        if (!a)
            abort();
        r->actions = a, r->actions_cap = cap;
    }
    struct rep_action *a = &r->actions[r->n_actions++];
    memset(a, 0, sizeof *a);
    a->kind = (uint8_t)kind;
    return a;
}

void rep_send(struct replica *r, int peer, const struct zab_msg *m)
{
    assert(peer >= 1 && peer <= r->cfg.n_servers && peer != r->id);
    size_t n = zab_msg_size(m), off;
    uint8_t *p = rep_out_reserve(r, n, &off);
    size_t w = zab_msg_encode(m, p, n);
    assert(w == n);
    (void)w;
    struct rep_action *a = push_action(r, REP_ACT_SEND);
    a->peer = peer, a->bytes_off = off, a->len = n;
}

void rep_send_simple(struct replica *r, int peer, int kind, uint64_t zxid)
{
    struct zab_msg m = {.kind = (uint8_t)kind, .zxid = zxid};
    rep_send(r, peer, &m);
}

void rep_disconnect(struct replica *r, int peer)
{
    struct rep_action *a = push_action(r, REP_ACT_DISCONNECT);
    a->peer = peer;
}

void rep_event(struct replica *r, int kind, int peer, uint64_t a, uint64_t b)
{
    if (r->n_events == REP_EVENTS_MAX) {
        r->n_events_dropped++;
        return;
    }
    struct rep_event *e = &r->events[r->n_events++];
    e->kind = (uint8_t)kind, e->peer = peer, e->a = a, e->b = b;
}

static struct rep_disk_wait *push_wait(struct replica *r, uint64_t op_id, int kind, int cont)
{
    /* At most one fsync per input plus a few epoch/snapshot writes: the ring
     * (log_entries_max + 64) cannot fill unless the disk never completes. */
    assert(r->waits_n < r->waits_cap && "disk wait ring full");
    struct rep_disk_wait *w = &r->waits[(r->waits_head + r->waits_n) % r->waits_cap];
    r->waits_n++;
    memset(w, 0, sizeof *w);
    w->op_id = op_id, w->kind = (uint8_t)kind, w->cont = (uint8_t)cont, w->session = r->session;
    return w;
}

uint64_t rep_disk_epoch(struct replica *r, int which, uint64_t epoch, int cont)
{
    struct rep_action *a = push_action(r, REP_ACT_EPOCH_WRITE);
    a->op_id = r->next_op_id++, a->which = (uint8_t)which, a->value = epoch;
    struct rep_disk_wait *w = push_wait(r, a->op_id, REP_ACT_EPOCH_WRITE, cont);
    w->which = (uint8_t)which, w->value = epoch;
    if (which == REP_EPOCH_ACCEPTED && epoch > r->accepted_epoch_issued)
        r->accepted_epoch_issued = epoch;
    return a->op_id;
}

uint64_t rep_disk_fsync(struct replica *r, int cont)
{
    struct rep_action *a = push_action(r, REP_ACT_LOG_FSYNC);
    a->op_id = r->next_op_id++, a->value = r->log_file_end;
    struct rep_disk_wait *w = push_wait(r, a->op_id, REP_ACT_LOG_FSYNC, cont);
    w->log_hi = r->log_appended_hi;
    return a->op_id;
}

void rep_disk_snapshot(struct replica *r, const uint8_t *sm_bytes, size_t len, uint64_t zxid)
{
    size_t n = storage_snapshot_size(len), off;
    /* sm_bytes may be the tail of the last reservation (maybe_snapshot):
     * then the same bytes are reserved again and sealed in place. */
    uint8_t *p = rep_out_reserve(r, n, &off);
    storage_snapshot_encode(p, n, zxid, sm_bytes, len);
    struct rep_action *a = push_action(r, REP_ACT_SNAPSHOT_WRITE);
    a->op_id = r->next_op_id++, a->value = zxid, a->bytes_off = off, a->len = n;
    struct rep_disk_wait *w = push_wait(r, a->op_id, REP_ACT_SNAPSHOT_WRITE, REP_CONT_NONE);
    w->value = zxid;
    r->snapshot_pending_zxid = zxid;
    /* It supersedes a driver snapshot still in flight: the driver abandons
     * that one and never reports it (replica.h). */
    r->snapshot_driver_op = 0;
}

void rep_disk_truncate(struct replica *r, uint64_t offset)
{
    struct rep_action *a = push_action(r, REP_ACT_LOG_TRUNCATE);
    a->op_id = r->next_op_id++, a->value = offset;
    r->log_file_end = offset;
}

static uint64_t next_deadline(const struct replica *r)
{
    switch (r->state) {
    case REP_LOOKING: return fle_next_deadline_ms(&r->fle);
    case REP_LEADING: return zab_leader_deadline(r);
    default: return zab_follower_deadline(r);
    }
}

const struct replica_out *replica_output(struct replica *r)
{
    for (uint32_t i = 0; i < r->n_actions; i++) {
        struct rep_action *a = &r->actions[i];
        a->bytes = a->len ? r->out_bytes + a->bytes_off : NULL;
    }
    r->out.actions = r->actions;
    r->out.n_actions = r->n_actions;
    r->out.events = r->events;
    r->out.n_events = r->n_events;
    r->out.n_events_dropped = r->n_events_dropped;
    r->out.timer_ms = r->started ? next_deadline(r) : 0;
    return &r->out;
}

void replica_output_clear(struct replica *r)
{
    r->n_actions = 0;
    r->out_used = 0;
    /* A snapshot or a sync stream can grow the arena to the size of the
     * whole state; do not keep that resident between batches. */
    if (r->out_cap > REP_OUT_KEEP_BYTES) {
        uint8_t *p = realloc(r->out_bytes, REP_OUT_INITIAL_BYTES);
        if (p) {
            r->out_bytes = p;
            r->out_cap = REP_OUT_INITIAL_BYTES;
        }
    }
    r->n_events = 0;
    r->n_events_dropped = 0;
    memset(&r->out, 0, sizeof r->out);
}

/* ------------------------------------------------------------------ */
/* the in-memory log                                                   */

uint64_t rep_last_zxid(const struct replica *r)
{
    return r->log_hi > r->log_lo ? r->log[r->log_hi - 1 - r->log_lo].zxid : r->log_base_zxid;
}

/* The zxid this server advertises (votes, ACKEPOCH): its log tail, unless the
 * ZOOKEEPER-2355 bug let lastProcessedZxid run ahead of it. */
uint64_t rep_vote_zxid(const struct replica *r)
{
    uint64_t z = rep_last_zxid(r);
    return r->zxid_reported > z ? r->zxid_reported : z;
}

int64_t rep_log_find(const struct replica *r, uint64_t zxid)
{
    uint64_t lo = r->log_lo, hi = r->log_hi;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t z = r->log[mid - r->log_lo].zxid;
        if (z == zxid)
            return (int64_t)mid;
        if (z < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const uint8_t *rep_entry_payload(const struct replica *r, const struct rep_entry *e)
{
    return r->payload + e->payload_off;
}

/* Drops the n oldest entries (already covered by a durable snapshot). */
static void log_drop_front(struct replica *r, uint64_t n)
{
    uint64_t count = r->log_hi - r->log_lo;
    assert(n <= count);
    if (n == 0)
        return;
    uint32_t shift = n < count ? r->log[n].payload_off : r->payload_used;
    memmove(r->payload, r->payload + shift, r->payload_used - shift);
    r->payload_used -= shift;
    r->log_base_zxid = r->log[n - 1].zxid;
    memmove(r->log, r->log + n, (count - n) * sizeof *r->log);
    for (uint64_t i = 0; i < count - n; i++)
        r->log[i].payload_off -= shift;
    r->log_lo += n;
    /* dropped entries live on in the snapshot: durable either way */
    if (r->log_appended_hi < r->log_lo)
        r->log_appended_hi = r->log_lo;
    if (r->log_durable_hi < r->log_lo)
        r->log_durable_hi = r->log_lo;
    if (r->ack_hi < r->log_lo)
        r->ack_hi = r->log_lo;
}

/* Compacts entries covered by the durable snapshot, keeping `keep` of them
 * so that slightly-behind followers can still get a DIFF. */
static void log_compact(struct replica *r, uint64_t keep)
{
    uint64_t n = 0;
    while (r->log_lo + n < r->log_hi && r->log_lo + n < r->applied_hi &&
           r->log[n].zxid <= r->snapshot_zxid)
        n++;
    log_drop_front(r, n > keep ? n - keep : 0);
}

int rep_log_append(struct replica *r, uint64_t zxid, const uint8_t *payload, uint32_t len)
{
    assert(zxid > rep_last_zxid(r));
    uint64_t count = r->log_hi - r->log_lo;
    if (count == r->cfg.log_entries_max || r->payload_used + len > r->cfg.log_bytes_max) {
        log_compact(r, 0);
        count = r->log_hi - r->log_lo;
        if (count == r->cfg.log_entries_max || r->payload_used + len > r->cfg.log_bytes_max)
            return -1;
    }
    struct rep_entry *e = &r->log[count];
    memset(e, 0, sizeof *e);
    e->zxid = zxid;
    e->hash = sm_hash64(payload, len);
    e->payload_off = r->payload_used;
    e->payload_len = len;
    if (len)
        memcpy(r->payload + r->payload_used, payload, len);
    r->payload_used += len;
    r->log_hi++;
    return 0;
}

/* Writes the in-memory entries that are not on disk yet, in order. A record
 * of an epoch above currentEpoch is held back until currentEpoch catches up
 * (the follower's NEWLEADER step), so that on disk epoch(last zxid) never
 * exceeds currentEpoch; the ZOOKEEPER-1653 bug restores the old order. */
void rep_log_issue_appends(struct replica *r)
{
    /* The new epoch's own txns (proposed while this follower syncs) wait
     * until currentEpoch is persisted: the log never holds a txn of an epoch
     * this server has not joined (ZOOKEEPER-1653). Older epochs' txns in the
     * sync stream are logged as they arrive, because they must be durable
     * BEFORE currentEpoch is persisted and NEWLEADER ACKed (ZOOKEEPER-4643/
     * 4646); a crash in between leaves a log ahead of currentEpoch but
     * behind acceptedEpoch, which recovery accepts (check_epochs). */
    int hold = !rep_bug(r, ZAB_BUG_EPOCH_FILE_1653);
    for (uint64_t abs = r->log_appended_hi; abs < r->log_hi; abs++) {
        struct rep_entry *e = rep_entry_at(r, abs);
        uint64_t epoch = zxid_epoch(e->zxid);
        if (hold && epoch > r->current_epoch && epoch >= r->accepted_epoch)
            break;
        size_t n = log_record_size(e->payload_len), off;
        uint8_t *p = rep_out_reserve(r, n, &off);
        size_t w = log_record_encode(p, n, e->zxid, zxid_epoch(e->zxid),
                                     r->payload + e->payload_off, e->payload_len);
        assert(w == n);
        (void)w;
        struct rep_action *a = push_action(r, REP_ACT_LOG_APPEND);
        a->op_id = r->next_op_id++, a->value = e->zxid, a->bytes_off = off, a->len = n;
        e->file_off = r->log_file_end;
        r->log_file_end += n;
        r->log_appended_hi = abs + 1;
    }
}

static void clamp_pending_fsyncs(struct replica *r, uint64_t hi)
{
    for (uint32_t i = 0; i < r->waits_n; i++) {
        struct rep_disk_wait *w = &r->waits[(r->waits_head + i) % r->waits_cap];
        if (w->kind == REP_ACT_LOG_FSYNC && w->log_hi > hi)
            w->log_hi = hi;
    }
}

/* Cuts every entry after zxid, in memory and (if written) in the file. */
void rep_log_truncate_after(struct replica *r, uint64_t zxid)
{
    uint64_t hi = r->log_lo;
    while (hi < r->log_hi && rep_entry_at(r, hi)->zxid <= zxid)
        hi++;
    if (hi == r->log_hi)
        return;
    if (r->applied_hi > hi) {
        /* Never in a correct run: committed txns are in every later leader's log. */
        rep_event(r, REP_EV_TRUNC_BELOW_APPLIED, 0, zxid, r->zxid_applied);
        r->applied_hi = hi;
    }
    if (r->commit_hi > hi) {
        r->commit_hi = hi;
        r->zxid_committed = hi > r->log_lo ? rep_entry_at(r, hi - 1)->zxid : r->log_base_zxid;
    }
    if (r->log_appended_hi > hi) {
        rep_disk_truncate(r, rep_entry_at(r, hi)->file_off);
        r->log_appended_hi = hi;
    }
    if (r->log_durable_hi > hi)
        r->log_durable_hi = hi;
    if (r->ack_hi > hi)
        r->ack_hi = hi;
    clamp_pending_fsyncs(r, hi);
    r->payload_used = rep_entry_at(r, hi)->payload_off;
    r->log_hi = hi;
}

/* SNAP sync: the state now comes from a snapshot at zxid; the log restarts
 * after it. Entries above zxid are cut from the file; older records stay in
 * the file but are skipped on replay (they are <= the snapshot zxid). */
void rep_log_reset_to_snapshot(struct replica *r, uint64_t zxid)
{
    rep_log_truncate_after(r, zxid);
    r->applied_hi = r->log_hi;    /* not a truncation below applied: replaced wholesale */
    log_drop_front(r, r->log_hi - r->log_lo);
    r->log_base_zxid = zxid;
    r->log_appended_hi = r->log_durable_hi = r->log_hi;
    r->commit_hi = r->applied_hi = r->ack_hi = r->log_hi;
    r->zxid_committed = r->zxid_applied = zxid;
}

/* The driver serializes this one off the event loop and reports it out of
 * order: it is kept out of the waits queue, which completes in order. */
static void request_driver_snapshot(struct replica *r)
{
    struct rep_action *a = push_action(r, REP_ACT_SNAPSHOT_WRITE);
    a->op_id = r->next_op_id++, a->which = REP_SNAPSHOT_BY_DRIVER, a->value = r->zxid_applied;
    r->snapshot_pending_zxid = r->snapshot_driver_zxid = r->zxid_applied;
    r->snapshot_driver_op = a->op_id;
}

static void maybe_snapshot(struct replica *r)
{
    if (r->snapshot_pending_zxid || r->zxid_applied <= r->snapshot_zxid)
        return;
    uint64_t count = r->log_hi - r->log_lo;
    int pressure = count * 4 >= (uint64_t)r->cfg.log_entries_max * 3 ||
                   (uint64_t)r->payload_used * 4 >= (uint64_t)r->cfg.log_bytes_max * 3;
    int periodic = r->cfg.snapshot_every && r->applied_since_snapshot >= r->cfg.snapshot_every;
    if (!pressure && !periodic)
        return;
    if (r->cfg.snapshot_by_driver) {
        request_driver_snapshot(r);
        return;
    }
    /* Serialized straight into the output arena behind the file header and
     * sealed in place: one copy of the state in memory, not two. */
    size_t cap = r->cfg.sm->snapshot_size(r->sm), len = 0, off;
    size_t used = r->out_used;
    uint8_t *p = rep_out_reserve(r, storage_snapshot_size(cap), &off);
    uint8_t *sm = p + STORAGE_SNAPSHOT_HEADER_BYTES;
    if (r->cfg.sm->snapshot_write(r->sm, sm, cap, &len) != 0 || len > cap) {
        r->out_used = used;  /* retried after the next apply */
        return;
    }
    r->out_used = used;
    rep_disk_snapshot(r, sm, len, r->zxid_applied);
}

void rep_commit_to(struct replica *r, uint64_t abs_hi)
{
    if (abs_hi > r->log_hi)
        abs_hi = r->log_hi;
    while (r->commit_hi < abs_hi) {
        r->zxid_committed = rep_entry_at(r, r->commit_hi)->zxid;
        rep_event(r, REP_EV_COMMITTED, 0, r->zxid_committed, 0);
        r->commit_hi++;
    }
    while (r->applied_hi < r->commit_hi) {
        struct rep_entry *e = rep_entry_at(r, r->applied_hi);
        r->cfg.sm->apply(r->sm, e->zxid, rep_entry_payload(r, e), e->payload_len);
        r->zxid_applied = e->zxid;
        r->applied_hi++;
        r->applied_since_snapshot++;
    }
    maybe_snapshot(r);
}

/* ------------------------------------------------------------------ */
/* roles                                                               */

void rep_send_vote(struct replica *r, int peer)
{
    struct zab_msg m = {.kind = ZAB_MSG_NOTIFICATION};
    m.note.state = r->state;
    m.note.vote = r->fle.vote;
    m.note.round = r->fle.round;
    rep_send(r, peer, &m);
}

static void send_vote_all(struct replica *r)
{
    for (int id = 1; id <= r->cfg.n_servers; id++)
        if (id != r->id && rep_is_voter(r, id))
            rep_send_vote(r, id);
}

static struct fle_params fle_params_of(const struct replica *r)
{
    struct fle_params p = {r->id, &r->qv, r->cfg.finalize_wait_ms,
                           r->cfg.notification_interval_max_ms,
                           rep_bug(r, ZAB_BUG_VOTE_ORDER_1419)};
    return p;
}

static struct fle_vote initial_vote(const struct replica *r)
{
    struct fle_vote v = {0, 0, 0};
    if (rep_is_voter(r, r->id)) {
        v.leader = r->id;
        v.zxid = rep_vote_zxid(r);
        v.peer_epoch = r->current_epoch;
    }
    return v;
}

static void clear_role_state(struct replica *r)
{
    memset(r->learners, 0, sizeof r->learners);
    r->epoch_proposed = 0;
    r->info_mask = r->epoch_ack_mask = r->newleader_ack_mask = 0;
    r->established_epoch = 0;
    r->current_write_pending = 0;
    r->next_counter = 0;
    r->follow_epoch = 0;
    r->sync_kind = 0;
    r->sync_started = r->newleader_seen = r->newleader_acked = 0;
    r->pending_commit_zxid = 0;
    r->leader_id = 0;
    r->session++;
}

void rep_go_looking(struct replica *r, uint64_t now_ms, int reason)
{
    if (r->state == REP_LEADING) {
        for (int id = 1; id <= r->cfg.n_servers; id++)
            if (r->learners[id].state != REP_LH_NONE)
                rep_disconnect(r, id);
        rep_event(r, REP_EV_STEP_DOWN, 0, (uint64_t)reason, 0);
    } else if (r->state == REP_FOLLOWING || r->state == REP_OBSERVING) {
        if (r->leader_id)
            rep_disconnect(r, r->leader_id);
        rep_event(r, REP_EV_FOLLOWER_QUIT, r->leader_id, (uint64_t)reason, 0);
    }
    if (r->appends_deferred) {
        rep_log_issue_appends(r);    /* keep the file in step with memory */
        r->appends_deferred = 0;
    }
    clear_role_state(r);
    memset(r->finfo_pending, 0, sizeof r->finfo_pending);
    r->state = REP_LOOKING;
    r->phase = REP_PHASE_ELECTION;
    struct fle_params p = fle_params_of(r);
    struct fle_vote v = initial_vote(r);
    fle_start(&r->fle, &p, now_ms, &v);
    rep_event(r, REP_EV_LOOKING, 0, r->fle.round, 0);
    send_vote_all(r);
}

static void decide(struct replica *r, uint64_t now_ms, int leader)
{
    clear_role_state(r);
    if (leader == r->id) {
        r->state = REP_LEADING;
        rep_event(r, REP_EV_ELECTED, leader, r->fle.round, REP_LEADING);
        zab_leader_start(r, now_ms);
        return;
    }
    r->state = rep_is_voter(r, r->id) ? REP_FOLLOWING : REP_OBSERVING;
    rep_event(r, REP_EV_ELECTED, leader, r->fle.round, r->state);
    for (int id = 1; id <= r->cfg.n_servers; id++)
        if (r->finfo_pending[id])
            rep_disconnect(r, id);      /* they connected to a leader-to-be that is not */
    memset(r->finfo_pending, 0, sizeof r->finfo_pending);
    zab_follower_start(r, now_ms, leader);
}

static void apply_fle_actions(struct replica *r, uint64_t now_ms, int act, int from, int leader)
{
    if (act & FLE_ACT_SEND_ALL) {
        send_vote_all(r);
        if (from && !rep_is_voter(r, from))
            rep_send_vote(r, from);
    }
    if ((act & FLE_ACT_REPLY) && from)
        rep_send_vote(r, from);
    if (act & FLE_ACT_DECIDED)
        decide(r, now_ms, leader);
}

static void on_notification(struct replica *r, uint64_t now_ms, int from,
                            const struct fle_notification *n)
{
    if (r->state != REP_LOOKING) {
        /* Settled servers answer a LOOKING peer with their vote so it can join. */
        if (n->state == FLE_LOOKING)
            rep_send_vote(r, from);
        return;
    }
    struct fle_params p = fle_params_of(r);
    struct fle_vote v = initial_vote(r);
    int leader = 0;
    int act = fle_on_notification(&r->fle, &p, now_ms, from, n, &v, &leader);
    apply_fle_actions(r, now_ms, act, from, leader);
}

/* ------------------------------------------------------------------ */
/* inputs                                                              */

int replica_start(struct replica *r, uint64_t now_ms, const struct replica_durable *d,
                  char *err, size_t errlen)
{
    assert(!r->started);
    int rc = rep_recover(r, d, err, errlen);
    if (rc != REP_OK)
        return rc;
    r->started = 1;
    rep_event(r, REP_EV_STARTED, 0, rep_last_zxid(r), r->current_epoch);
    /* What survived a crash may not have been fsynced: make it so before it
     * is vouched for (votes are fine, ACKs are not). */
    if (r->log_appended_hi > r->log_durable_hi)
        rep_disk_fsync(r, REP_CONT_NONE);
    rep_go_looking(r, now_ms, 0);
    return REP_OK;
}

static void on_zab_message(struct replica *r, uint64_t now_ms, int from, const struct zab_msg *m)
{
    switch (r->state) {
    case REP_LOOKING:
        /* A learner that decided before us: remember its connect until we decide. */
        if (m->kind == ZAB_MSG_FOLLOWERINFO) {
            r->finfo_pending[from] = 1;
            r->finfo_epoch[from] = m->epoch;
            r->finfo_observer[from] = m->flag;
        }
        return;
    case REP_LEADING:
        zab_leader_on_msg(r, now_ms, from, m);
        return;
    default:
        if (from != r->leader_id) {
            rep_disconnect(r, from);    /* a stale leader or a stray learner */
            return;
        }
        zab_follower_on_msg(r, now_ms, from, m);
        return;
    }
}

void replica_on_message(struct replica *r, uint64_t now_ms, int from_id, const uint8_t *msg,
                        size_t len)
{
    if (!r->started || from_id < 1 || from_id > r->cfg.n_servers || from_id == r->id)
        return;
    struct zab_msg m;
    char err[128];
    if (zab_msg_decode(msg, len, &m, err, sizeof err) < 0) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, from_id, 0, 0);
        rep_disconnect(r, from_id);
        return;
    }
    if (m.kind == ZAB_MSG_NOTIFICATION)
        on_notification(r, now_ms, from_id, &m.note);
    else
        on_zab_message(r, now_ms, from_id, &m);
}

void replica_on_conn_break(struct replica *r, uint64_t now_ms, int peer_id)
{
    if (!r->started || peer_id < 1 || peer_id > r->cfg.n_servers || peer_id == r->id)
        return;
    switch (r->state) {
    case REP_LOOKING:
        r->finfo_pending[peer_id] = 0;
        return;
    case REP_LEADING:
        zab_leader_on_conn_break(r, now_ms, peer_id);
        return;
    default:
        if (peer_id == r->leader_id)
            rep_go_looking(r, now_ms, REP_DROP_CONN_BREAK);
        return;
    }
}

void replica_on_timer(struct replica *r, uint64_t now_ms)
{
    if (!r->started)
        return;
    if (r->state == REP_LOOKING) {
        struct fle_params p = fle_params_of(r);
        int leader = 0;
        int act = fle_on_timer(&r->fle, &p, now_ms, &leader);
        apply_fle_actions(r, now_ms, act, 0, leader);
    } else if (r->state == REP_LEADING) {
        zab_leader_on_timer(r, now_ms);
    } else {
        zab_follower_on_timer(r, now_ms);
    }
}

/* What every completion means regardless of role: file first, then memory. */
static void snapshot_done(struct replica *r, uint64_t zxid)
{
    if (zxid > r->snapshot_zxid)
        r->snapshot_zxid = zxid;
    /* A SNAP sync's in-order write may have been issued meanwhile: it stays
     * pending until its own completion. */
    if (r->snapshot_pending_zxid == zxid)
        r->snapshot_pending_zxid = 0;
    r->applied_since_snapshot = 0;
    rep_event(r, REP_EV_SNAPSHOT, 0, zxid, 0);
    log_compact(r, r->cfg.log_entries_max / 4);
}

static void disk_done_common(struct replica *r, const struct rep_disk_wait *w)
{
    switch (w->kind) {
    case REP_ACT_LOG_FSYNC: {
        uint64_t hi = w->log_hi < r->log_appended_hi ? w->log_hi : r->log_appended_hi;
        if (hi > r->log_durable_hi)
            r->log_durable_hi = hi;
        break;
    }
    case REP_ACT_EPOCH_WRITE:
        if (w->which == REP_EPOCH_ACCEPTED) {
            r->accepted_epoch = w->value;
            rep_event(r, REP_EV_EPOCH_ACCEPTED, 0, w->value, 0);
        } else {
            r->current_epoch = w->value;
            rep_event(r, REP_EV_EPOCH_CURRENT, 0, w->value, 0);
        }
        break;
    case REP_ACT_SNAPSHOT_WRITE:
        snapshot_done(r, w->value);
        break;
    default:
        break;
    }
}

void replica_on_disk_done(struct replica *r, uint64_t now_ms, uint64_t op_id)
{
    if (!r->started)
        return;
    if (op_id == r->snapshot_driver_op && op_id != 0) {
        r->snapshot_driver_op = 0;
        snapshot_done(r, r->snapshot_driver_zxid);
        return;
    }
    /* Completions arrive in issue order; ops nobody waits on are skipped. */
    while (r->waits_n && r->waits[r->waits_head].op_id <= op_id) {
        struct rep_disk_wait w = r->waits[r->waits_head];
        r->waits_head = (r->waits_head + 1) % r->waits_cap;
        r->waits_n--;
        if (r->waits_n == 0)
            r->waits_head = 0;   /* an idle ring restarts at the front: only its busiest depth stays resident */
        disk_done_common(r, &w);
        int live = w.session == r->session;
        if (r->state == REP_LEADING)
            zab_leader_on_disk(r, now_ms, &w, live);
        else if (r->state == REP_FOLLOWING || r->state == REP_OBSERVING)
            zab_follower_on_disk(r, now_ms, &w, live);
    }
}

int replica_propose(struct replica *r, uint64_t now_ms, const uint8_t *payload, size_t len,
                    uint64_t *zxid_out)
{
    if (!r->started || r->state != REP_LEADING)
        return REP_ERR_NOT_LEADER;
    return zab_leader_propose(r, now_ms, payload, len, zxid_out);
}

/* ------------------------------------------------------------------ */
/* accessors and names                                                 */

uint64_t replica_last_zxid(const struct replica *r)
{
    return rep_last_zxid(r);
}

uint64_t replica_durable_last_zxid(const struct replica *r)
{
    return r->log_durable_hi > r->log_lo ? r->log[r->log_durable_hi - 1 - r->log_lo].zxid
                                         : r->log_base_zxid;
}

uint64_t replica_digest(const struct replica *r)
{
    return r->cfg.sm->digest(r->sm);
}

uint32_t replica_log_count(const struct replica *r)
{
    return (uint32_t)(r->log_hi - r->log_lo);
}

uint32_t replica_log_durable_count(const struct replica *r)
{
    return (uint32_t)(r->log_durable_hi - r->log_lo);
}

const struct rep_entry *replica_log_entry(const struct replica *r, uint32_t i)
{
    return i < replica_log_count(r) ? &r->log[i] : NULL;
}

const uint8_t *replica_log_payload(const struct replica *r, uint32_t i, uint32_t *len)
{
    const struct rep_entry *e = replica_log_entry(r, i);
    *len = e ? e->payload_len : 0;
    return e ? r->payload + e->payload_off : NULL;
}

const char *rep_state_name(int state)
{
    static const char *const n[] = {"LOOKING", "FOLLOWING", "LEADING", "OBSERVING"};
    return state >= 0 && state <= 3 ? n[state] : "?";
}

const char *rep_phase_name(int phase)
{
    static const char *const n[] = {"ELECTION", "DISCOVERY", "SYNC", "BROADCAST"};
    return phase >= 0 && phase <= 3 ? n[phase] : "?";
}

static const char *const rep_event_names[] = {
    [REP_EV_STARTED] = "STARTED", [REP_EV_LOG_TORN] = "LOG_TORN",
    [REP_EV_LOOKING] = "LOOKING", [REP_EV_ELECTED] = "ELECTED",
    [REP_EV_EPOCH_ACCEPTED] = "EPOCH_ACCEPTED", [REP_EV_EPOCH_CURRENT] = "EPOCH_CURRENT",
    [REP_EV_LEADER_ABANDON] = "LEADER_ABANDON", [REP_EV_SYNC_SENT] = "SYNC_SENT",
    [REP_EV_SYNC_RECEIVED] = "SYNC_RECEIVED", [REP_EV_ESTABLISHED] = "ESTABLISHED",
    [REP_EV_UPTODATE] = "UPTODATE", [REP_EV_PROPOSED] = "PROPOSED",
    [REP_EV_COMMITTED] = "COMMITTED", [REP_EV_APPLIED] = "APPLIED",
    [REP_EV_SNAPSHOT] = "SNAPSHOT", [REP_EV_LEARNER_DROPPED] = "LEARNER_DROPPED",
    [REP_EV_STEP_DOWN] = "STEP_DOWN", [REP_EV_FOLLOWER_QUIT] = "FOLLOWER_QUIT",
    [REP_EV_PROTOCOL_ERROR] = "PROTOCOL_ERROR", [REP_EV_TRUNC_BELOW_APPLIED] = "TRUNC_BELOW_APPLIED",
};

const char *rep_event_name(int kind)
{
    int n = (int)(sizeof rep_event_names / sizeof rep_event_names[0]);
    return kind > 0 && kind < n && rep_event_names[kind] ? rep_event_names[kind] : "?";
}

static const char *drop_name(uint64_t reason)
{
    static const char *const n[] = {"start", "timeout", "connection break", "no quorum",
                                    "stale epoch", "zxid counter exhausted", "log full",
                                    "follower ahead", "new connection", "protocol error"};
    return reason < sizeof n / sizeof n[0] ? n[reason] : "?";
}

char *rep_event_describe(const struct rep_event *ev, char *buf, size_t cap)
{
    const char *k = rep_event_name(ev->kind);
    unsigned long long a = (unsigned long long)ev->a, b = (unsigned long long)ev->b;
    switch (ev->kind) {
    case REP_EV_ELECTED:
        snprintf(buf, cap, "%s leader=%d round=%llu as %s", k, ev->peer, a, rep_state_name((int)b));
        break;
    case REP_EV_SYNC_SENT:
    case REP_EV_SYNC_RECEIVED:
        snprintf(buf, cap, "%s %s=%d %s zxid=0x%llx", k,
                 ev->kind == REP_EV_SYNC_SENT ? "learner" : "leader", ev->peer,
                 zab_sync_kind_name((enum zab_sync_kind)a), b);
        break;
    case REP_EV_STEP_DOWN:
    case REP_EV_LEARNER_DROPPED:
    case REP_EV_FOLLOWER_QUIT:
        snprintf(buf, cap, "%s peer=%d (%s)", k, ev->peer, drop_name(ev->a));
        break;
    case REP_EV_PROPOSED:
    case REP_EV_COMMITTED:
    case REP_EV_APPLIED:
    case REP_EV_SNAPSHOT:
        snprintf(buf, cap, "%s zxid=0x%llx", k, a);
        break;
    default:
        snprintf(buf, cap, "%s peer=%d a=%llu b=%llu", k, ev->peer, a, b);
        break;
    }
    return buf;
}
