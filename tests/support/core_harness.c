/* In-memory deterministic driver for replica tests; see core_harness.h.
 * Test support only: allocates freely, prints only when trace is set. */
#include "tests/support/core_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/storage.h"
#include "core/zab_msg.h"

struct ch_msg {
    struct ch_msg *next;
    int is_break;
    size_t len;
    uint8_t bytes[];
};

static uint64_t xorshift(struct core_harness *h)
{
    uint64_t x = h->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    h->rng = x;
    return x;
}

static void q_push(struct ch_queue *q, const uint8_t *b, size_t len, int is_break)
{
    struct ch_msg *m = malloc(sizeof *m + len);
    assert(m);
    m->next = NULL, m->is_break = is_break, m->len = len;
    if (len)
        memcpy(m->bytes, b, len);
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->n++;
}

static struct ch_msg *q_pop(struct ch_queue *q)
{
    struct ch_msg *m = q->head;
    if (!m)
        return NULL;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    return m;
}

static void q_clear(struct ch_queue *q)
{
    struct ch_msg *m;
    while ((m = q_pop(q)))
        free(m);
}

/* ---- disk ---------------------------------------------------------------- */

static void buf_set(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len)
{
    free(*dst);
    *dst = malloc(len ? len : 1);
    assert(*dst);
    if (len)
        memcpy(*dst, src, len);
    *dst_len = len;
}

static void log_append(struct ch_disk *d, const uint8_t *b, size_t len)
{
    if (d->log_len + len > d->log_cap) {
        size_t cap = d->log_cap ? d->log_cap : 4096;
        while (cap < d->log_len + len)
            cap *= 2;
        d->log = realloc(d->log, cap);
        assert(d->log);
        d->log_cap = cap;
    }
    memcpy(d->log + d->log_len, b, len);
    d->log_len += len;
}

static void push_op(struct ch_disk *d, const struct rep_action *a)
{
    if (d->n_ops == d->ops_cap && d->ops_head > 0) {
        memmove(d->ops, d->ops + d->ops_head, (d->n_ops - d->ops_head) * sizeof *d->ops);
        d->n_ops -= d->ops_head;
        d->ops_head = 0;
    }
    if (d->n_ops == d->ops_cap) {
        d->ops_cap = d->ops_cap ? d->ops_cap * 2 : 16;
        d->ops = realloc(d->ops, d->ops_cap * sizeof *d->ops);
        assert(d->ops);
    }
    struct ch_pending_op *op = &d->ops[d->n_ops++];
    memset(op, 0, sizeof *op);
    op->op_id = a->op_id, op->kind = a->kind, op->which = a->which, op->value = a->value;
    if (a->len) {
        op->bytes = malloc(a->len);
        assert(op->bytes);
        memcpy(op->bytes, a->bytes, a->len);
        op->len = a->len;
    }
}

static void op_take_effect(struct ch_disk *d, const struct ch_pending_op *op)
{
    switch (op->kind) {
    case REP_ACT_LOG_FSYNC:
        d->dlen = d->log_len;      /* everything written so far is durable */
        d->detached = 0;
        break;
    case REP_ACT_EPOCH_WRITE:
        if (op->which == REP_EPOCH_ACCEPTED)
            d->has_accepted = 1, d->accepted = op->value;
        else
            d->has_current = 1, d->current = op->value;
        break;
    case REP_ACT_SNAPSHOT_WRITE:
        buf_set(&d->snap, &d->snap_len, op->bytes, op->len);
        break;
    default:
        break;
    }
}

static void drop_ops(struct ch_disk *d)
{
    free(d->driver_snap.bytes);
    memset(&d->driver_snap, 0, sizeof d->driver_snap);
    for (size_t i = d->ops_head; i < d->n_ops; i++)
        free(d->ops[i].bytes);
    d->ops_head = d->n_ops = 0;
}

/* ---- invariants ----------------------------------------------------------- */

static void violate(struct core_harness *h, const char *what)
{
    if (!h->violation[0])
        snprintf(h->violation, sizeof h->violation, "step %llu: %s",
                 (unsigned long long)h->steps, what);
}

/* Slot of zxid in the committed table (its own or the empty one where it goes). */
static size_t committed_slot(const struct core_harness *h, uint64_t zxid)
{
    size_t i = (size_t)(zxid * 0x9e3779b97f4a7c15ull >> 48) & (CH_COMMITTED_SLOTS - 1);
    while (h->committed_zxid[i] && h->committed_zxid[i] != zxid)
        i = (i + 1) & (CH_COMMITTED_SLOTS - 1);
    return i;
}

/* New commits on node i agree with what anyone else committed at that zxid. */
static void check_committed(struct core_harness *h, int id, struct replica *r)
{
    uint64_t from = h->checked_hi[id];
    if (from < r->log_lo || from > r->commit_hi)
        from = r->log_lo;
    for (uint64_t abs = from; abs < r->commit_hi; abs++) {
        const struct rep_entry *e = &r->log[abs - r->log_lo];
        size_t k = committed_slot(h, e->zxid);
        if (h->committed_zxid[k]) {
            if (h->committed_hash[k] != e->hash)
                violate(h, "two servers committed different txns at one zxid");
        } else if (h->n_committed < CH_COMMITTED_SLOTS / 4 * 3) {
            h->committed_zxid[k] = e->zxid;
            h->committed_hash[k] = e->hash;
            h->n_committed++;
            if (zxid_epoch(e->zxid) < h->max_established)
                h->recheck = 1;      /* leaders established earlier must hold it too */
        }
    }
    h->checked_hi[id] = r->commit_hi;
}

/* Every txn committed anywhere is in the log of every leader established
 * later (LeaderLogCompleteness): nothing committed is ever lost. Checked
 * once per establishment: later commits come from that leader itself. */
static void check_leader_complete(struct core_harness *h, int id, struct replica *r)
{
    if (!r->established_epoch || r->phase != REP_PHASE_BROADCAST ||
        h->checked_epoch[id] == r->established_epoch)
        return;
    h->checked_epoch[id] = r->established_epoch;
    for (size_t i = 0; i < CH_COMMITTED_SLOTS; i++) {
        uint64_t z = h->committed_zxid[i];
        if (!z || z <= r->log_base_zxid || zxid_epoch(z) > r->established_epoch)
            continue;
        uint64_t lo = r->log_lo, hi = r->log_hi;
        int found = 0;
        while (lo < hi && !found) {
            uint64_t mid = lo + (hi - lo) / 2, mz = r->log[mid - r->log_lo].zxid;
            found = mz == z;
            if (mz < z)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!found)
            violate(h, "an established leader lacks a committed txn");
    }
}

static void check_invariants(struct core_harness *h)
{
    if (h->recheck) {
        memset(h->checked_epoch, 0, sizeof h->checked_epoch);
        h->recheck = 0;
    }
    for (int i = 1; i <= h->n; i++) {
        struct ch_node *nd = &h->nodes[i];
        if (!nd->up)
            continue;
        struct replica *r = &nd->r;
        if (r->accepted_epoch < r->current_epoch)
            violate(h, "acceptedEpoch < currentEpoch");
        if (r->accepted_epoch < h->max_accepted[i] || r->current_epoch < h->max_current[i])
            violate(h, "an epoch went backwards");
        h->max_accepted[i] = r->accepted_epoch;
        h->max_current[i] = r->current_epoch;
        /* Log records only: a SNAP-synced snapshot may be from the new epoch
         * before currentEpoch is written (recovery finishes that write). */
        uint64_t written = r->log_appended_hi > r->log_lo
                               ? r->log[r->log_appended_hi - 1 - r->log_lo].zxid
                               : 0;
        /* Older epochs' history from a sync may be logged before currentEpoch
         * (it must be durable first); the new epoch's own txns may not. */
        if (zxid_epoch(written) > r->current_epoch && zxid_epoch(written) >= r->accepted_epoch)
            violate(h, "the log on disk holds a txn of an epoch not yet joined");
        if (r->established_epoch && r->established_epoch < 256) {
            uint64_t *slot = &h->leader_of_epoch[r->established_epoch];
            if (*slot && *slot != (uint64_t)i)
                violate(h, "two leaders established in one epoch");
            *slot = (uint64_t)i;
        }
        if (r->established_epoch > h->max_established)
            h->max_established = r->established_epoch;
        check_committed(h, i, r);
        check_leader_complete(h, i, r);
        for (int j = 1; j < i; j++) {
            struct replica *o = &h->nodes[j].r;
            if (h->nodes[j].up && o->zxid_applied == r->zxid_applied &&
                replica_digest(o) != replica_digest(r))
                violate(h, "same applied zxid, different digests");
        }
    }
}

/* ---- driving a node ------------------------------------------------------- */

static void deliver_outputs(struct core_harness *h, int id);

static void note_events(struct core_harness *h, int id, const struct replica_out *o)
{
    for (uint32_t i = 0; i < o->n_events; i++) {
        const struct rep_event *ev = &o->events[i];
        if (ev->kind < 32)
            h->nodes[id].events[ev->kind]++;
        if (ev->kind == REP_EV_SYNC_SENT && ev->a < 4) {
            h->sync_seen[ev->a]++;
            h->last_sync_kind[ev->peer] = (int)ev->a;
            h->last_sync_zxid[ev->peer] = ev->b;
        }
        if (h->trace) {
            char buf[160];
            fprintf(stderr, "[%6llu ms] s%d %s\n", (unsigned long long)h->now_ms, id,
                    rep_event_describe(ev, buf, sizeof buf));
        }
    }
}

static void complete_one(struct core_harness *h, int id)
{
    struct ch_disk *d = &h->nodes[id].disk;
    assert(d->n_ops > d->ops_head);
    struct ch_pending_op op = d->ops[d->ops_head++];
    if (d->ops_head == d->n_ops)
        d->ops_head = d->n_ops = 0;
    op_take_effect(d, &op);
    free(op.bytes);
    replica_on_disk_done(&h->nodes[id].r, h->now_ms, op.op_id);
    deliver_outputs(h, id);
}

/* What zabd's child process does: the state machine as it is now, in the
 * snapshot envelope, labeled with its own last applied zxid. */
static void driver_snapshot(struct core_harness *h, int id, const struct rep_action *a)
{
    struct replica *r = &h->nodes[id].r;
    struct ch_disk *d = &h->nodes[id].disk;
    assert(d->driver_snap.op_id == 0 && "one driver snapshot at a time");
    size_t cap = r->cfg.sm->snapshot_size(r->sm), len = 0;
    uint8_t *sm = malloc(cap ? cap : 1);
    assert(sm && r->cfg.sm->snapshot_write(r->sm, sm, cap, &len) == 0);
    assert(r->zxid_applied >= a->value);
    size_t n = storage_snapshot_size(len);
    d->driver_snap.bytes = malloc(n);
    assert(d->driver_snap.bytes);
    storage_snapshot_encode(d->driver_snap.bytes, n, r->zxid_applied, sm, len);
    free(sm);
    d->driver_snap.len = n;
    d->driver_snap.op_id = a->op_id;
    d->driver_snap.kind = REP_ACT_SNAPSHOT_WRITE;
}

static void complete_driver_snapshot(struct core_harness *h, int id)
{
    struct ch_disk *d = &h->nodes[id].disk;
    struct ch_pending_op op = d->driver_snap;
    memset(&d->driver_snap, 0, sizeof d->driver_snap);
    op_take_effect(d, &op);
    free(op.bytes);
    replica_on_disk_done(&h->nodes[id].r, h->now_ms, op.op_id);
    deliver_outputs(h, id);
}

static void do_action(struct core_harness *h, int id, const struct rep_action *a)
{
    struct ch_disk *d = &h->nodes[id].disk;
    switch (a->kind) {
    case REP_ACT_SEND:
        if (h->blocked[id][a->peer])
            q_push(&h->q[a->peer][id], NULL, 0, 1);   /* connect fails: id hears a break */
        else
            q_push(&h->q[id][a->peer], a->bytes, a->len, 0);
        return;
    case REP_ACT_DISCONNECT:
        q_clear(&h->q[id][a->peer]);
        q_clear(&h->q[a->peer][id]);
        q_push(&h->q[id][a->peer], NULL, 0, 1);
        return;
    case REP_ACT_LOG_APPEND:
        log_append(d, a->bytes, a->len);
        break;
    case REP_ACT_LOG_TRUNCATE:
        assert(a->value <= d->log_len);
        if (!d->detached && a->value < d->dlen) {
            /* the cut is not durable until the next fsync: keep the old bytes */
            buf_set(&d->dlog, &d->dlog_len, d->log, d->dlen);
            d->detached = 1;
        }
        d->log_len = a->value;
        break;
    case REP_ACT_SNAPSHOT_WRITE:
        if (a->which == REP_SNAPSHOT_BY_DRIVER) {
            driver_snapshot(h, id, a);
            return;
        }
        free(d->driver_snap.bytes);   /* superseded: abandoned, never reported */
        memset(&d->driver_snap, 0, sizeof d->driver_snap);
        break;
    default:
        break;
    }
    push_op(d, a);
}

static void deliver_outputs(struct core_harness *h, int id)
{
    struct ch_node *nd = &h->nodes[id];
    const struct replica_out *o = replica_output(&nd->r);
    note_events(h, id, o);
    for (uint32_t i = 0; i < o->n_actions; i++)
        do_action(h, id, &o->actions[i]);
    nd->timer_ms = o->timer_ms;
    replica_output_clear(&nd->r);
    if (!h->disk_delayed && !h->disk_paused[id]) {
        while (nd->disk.n_ops > nd->disk.ops_head)
            complete_one(h, id);
        if (nd->disk.driver_snap.op_id)
            complete_driver_snapshot(h, id);
    }
}

/* ---- lifetime --------------------------------------------------------------- */

struct core_harness *ch_new(int n, uint64_t seed, const struct replica_config *cfg)
{
    assert(n >= 1 && n <= CH_SERVERS_MAX);
    struct core_harness *h = calloc(1, sizeof *h);
    assert(h);
    h->n = n;
    h->cfg = *cfg;
    h->cfg.n_servers = n;
    h->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    h->now_ms = 1000;
    h->committed_zxid = calloc(CH_COMMITTED_SLOTS, sizeof *h->committed_zxid);
    h->committed_hash = calloc(CH_COMMITTED_SLOTS, sizeof *h->committed_hash);
    assert(h->committed_zxid && h->committed_hash);
    for (int i = 0; i <= CH_SERVERS_MAX; i++)
        h->last_sync_kind[i] = -1;
    return h;
}

void ch_free(struct core_harness *h)
{
    for (int i = 1; i <= h->n; i++) {
        struct ch_node *nd = &h->nodes[i];
        if (nd->up)
            replica_free(&nd->r);
        drop_ops(&nd->disk);
        free(nd->disk.ops), free(nd->disk.log), free(nd->disk.dlog), free(nd->disk.snap);
        for (int j = 1; j <= h->n; j++)
            q_clear(&h->q[i][j]);
    }
    free(h->committed_zxid);
    free(h->committed_hash);
    free(h);
}

int ch_start(struct core_harness *h, int id)
{
    struct ch_node *nd = &h->nodes[id];
    assert(!nd->up);
    struct replica_config c = h->cfg;
    c.id = id;
    char err[256];
    int rc = replica_init(&nd->r, &c, err, sizeof err);
    assert(rc == 0);
    struct ch_disk *d = &nd->disk;
    struct replica_durable du = {d->log, d->log_len, d->snap, d->snap_len,
                                 d->has_accepted, d->accepted, d->has_current, d->current};
    rc = replica_start(&nd->r, h->now_ms, &du, err, sizeof err);
    if (rc != 0) {
        if (h->trace)
            fprintf(stderr, "s%d refused to start: %s\n", id, err);
        replica_free(&nd->r);
        return rc;
    }
    nd->up = 1;
    h->checked_hi[id] = 0;
    h->checked_epoch[id] = 0;
    deliver_outputs(h, id);
    return 0;
}

void ch_crash(struct core_harness *h, int id)
{
    struct ch_node *nd = &h->nodes[id];
    if (!nd->up)
        return;
    replica_free(&nd->r);
    nd->up = 0;
    struct ch_disk *d = &nd->disk;
    drop_ops(d);
    /* survivors: the durable bytes, plus (when tearing) part of the unsynced tail */
    const uint8_t *src = d->detached ? d->dlog : d->log;
    size_t keep = d->detached ? d->dlog_len : d->dlen;
    if (h->tear_on_crash && !d->detached && d->log_len > d->dlen)
        keep += xorshift(h) % (d->log_len - d->dlen + 1);
    uint8_t *copy = malloc(keep ? keep : 1);
    assert(copy);
    if (keep)
        memcpy(copy, src, keep);
    free(d->log);
    d->log = copy, d->log_len = keep, d->log_cap = keep ? keep : 1;
    d->dlen = keep;
    d->detached = 0;
    for (int j = 1; j <= h->n; j++) {
        if (j == id)
            continue;
        q_clear(&h->q[id][j]);
        q_clear(&h->q[j][id]);
        q_push(&h->q[id][j], NULL, 0, 1);
    }
}

void ch_block(struct core_harness *h, int a, int b, int on)
{
    h->blocked[a][b] = h->blocked[b][a] = (uint8_t)on;
    if (on) {
        q_clear(&h->q[a][b]);
        q_clear(&h->q[b][a]);
        q_push(&h->q[a][b], NULL, 0, 1);
        q_push(&h->q[b][a], NULL, 0, 1);
    }
}

void ch_clog(struct core_harness *h, int a, int b, int on)
{
    h->clogged[a][b] = h->clogged[b][a] = (uint8_t)on;
}

void ch_isolate(struct core_harness *h, int id, int on)
{
    for (int j = 1; j <= h->n; j++)
        if (j != id)
            ch_block(h, id, j, on);
}

/* ---- scheduling -------------------------------------------------------------- */

static void deliver_from_queue(struct core_harness *h, int from, int to)
{
    struct ch_msg *m = q_pop(&h->q[from][to]);
    struct ch_node *nd = &h->nodes[to];
    if (!m->is_break && h->drop_permille && xorshift(h) % 1000 < h->drop_permille) {
        free(m);                 /* lost in a broken network */
        return;
    }
    if (nd->up) {
        if (m->is_break)
            replica_on_conn_break(&nd->r, h->now_ms, from);
        else
            replica_on_message(&nd->r, h->now_ms, from, m->bytes, m->len);
        deliver_outputs(h, to);
    } else if (!m->is_break) {
        q_push(&h->q[to][from], NULL, 0, 1);   /* nobody home: the sender's connection breaks */
    }
    free(m);
}

enum { EV_QUEUE, EV_DISK, EV_TIMER, EV_SNAP };

int ch_step(struct core_harness *h)
{
    int kinds[512], a[512], b[512], n = 0;
    for (int i = 1; i <= h->n; i++) {
        struct ch_node *nd = &h->nodes[i];
        for (int j = 1; j <= h->n; j++)
            if (h->q[i][j].n && !h->clogged[i][j] && n < 512)
                kinds[n] = EV_QUEUE, a[n] = i, b[n] = j, n++;
        if (nd->up && nd->disk.n_ops > nd->disk.ops_head && !h->disk_paused[i] && n < 512)
            kinds[n] = EV_DISK, a[n] = i, b[n] = 0, n++;
        if (nd->up && nd->disk.driver_snap.op_id && !h->disk_paused[i] && n < 512)
            kinds[n] = EV_SNAP, a[n] = i, b[n] = 0, n++;
        if (nd->up && nd->timer_ms && nd->timer_ms <= h->now_ms && n < 512)
            kinds[n] = EV_TIMER, a[n] = i, b[n] = 0, n++;
    }
    h->steps++;
    h->now_ms += xorshift(h) % 3;       /* time passes while messages fly */
    if (n == 0) {
        uint64_t next = UINT64_MAX;
        for (int i = 1; i <= h->n; i++)
            if (h->nodes[i].up && h->nodes[i].timer_ms && h->nodes[i].timer_ms < next)
                next = h->nodes[i].timer_ms;
        if (next != UINT64_MAX && next > h->now_ms)
            h->now_ms = next;
        return 0;
    }
    int k = (int)(xorshift(h) % (uint64_t)n);
    if (kinds[k] == EV_QUEUE) {
        deliver_from_queue(h, a[k], b[k]);
    } else if (kinds[k] == EV_DISK) {
        complete_one(h, a[k]);
    } else if (kinds[k] == EV_SNAP) {
        complete_driver_snapshot(h, a[k]);
    } else {
        replica_on_timer(&h->nodes[a[k]].r, h->now_ms);
        deliver_outputs(h, a[k]);
    }
    check_invariants(h);
    return 1;
}

int ch_run_until(struct core_harness *h, int (*pred)(struct core_harness *, void *), void *arg,
                uint64_t max_steps)
{
    for (uint64_t s = 0; s < max_steps; s++) {
        if (pred(h, arg))
            return 1;
        ch_step(h);
    }
    return pred(h, arg);
}

void ch_run_steps(struct core_harness *h, uint64_t steps)
{
    for (uint64_t s = 0; s < steps; s++)
        ch_step(h);
}

/* ---- queries ----------------------------------------------------------------- */

int ch_leader(const struct core_harness *h)
{
    int leader = 0;
    for (int i = 1; i <= h->n; i++) {
        const struct replica *r = &h->nodes[i].r;
        if (h->nodes[i].up && r->state == REP_LEADING && r->phase == REP_PHASE_BROADCAST) {
            if (leader)
                return 0;
            leader = i;
        }
    }
    return leader;
}

int ch_propose(struct core_harness *h, int id, const char *text, uint64_t *zxid)
{
    struct ch_node *nd = &h->nodes[id];
    int rc = replica_propose(&nd->r, h->now_ms, (const uint8_t *)text, strlen(text), zxid);
    deliver_outputs(h, id);
    return rc;
}

int ch_all_applied(const struct core_harness *h, uint64_t zxid)
{
    for (int i = 1; i <= h->n; i++) {
        const struct ch_node *nd = &h->nodes[i];
        if (!nd->up)
            continue;
        if (nd->r.phase != REP_PHASE_BROADCAST || nd->r.zxid_applied < zxid)
            return 0;
    }
    return 1;
}

int ch_pred_leader(struct core_harness *h, void *arg)
{
    (void)arg;
    if (!ch_leader(h))
        return 0;
    for (int i = 1; i <= h->n; i++)
        if (h->nodes[i].up && h->nodes[i].r.phase != REP_PHASE_BROADCAST)
            return 0;
    return 1;
}

int ch_pred_applied(struct core_harness *h, void *zxid_ptr)
{
    return ch_all_applied(h, *(const uint64_t *)zxid_ptr);
}

int ch_pred_node_applied(struct core_harness *h, void *arg)
{
    const uint64_t *v = arg;
    const struct ch_node *nd = &h->nodes[v[0]];
    return nd->up && nd->r.phase == REP_PHASE_BROADCAST && nd->r.zxid_applied >= v[1];
}
