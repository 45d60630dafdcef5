/* The leader side of ZAB: discovery (FOLLOWERINFO -> LEADERINFO -> ACKEPOCH),
 * per-learner sync (DIFF/TRUNC/SNAP + NEWLEADER), establishment on a quorum
 * of NEWLEADER ACKs, and broadcast (PROPOSAL/ACK/COMMIT, in zxid order).
 * Owns the learner table and the proposal ack sets. Never counts an ACK that
 * promises durability before that durability exists (its own included). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/replica_internal.h"

static uint32_t me_bit(const struct replica *r)
{
    return quorum_bit(r->id);
}

static void step_down(struct replica *r, uint64_t now_ms, int reason)
{
    rep_go_looking(r, now_ms, reason);
}

/* ---- discovery -------------------------------------------------------- */

static void send_leaderinfo(struct replica *r, int id)
{
    struct zab_msg m = {.kind = ZAB_MSG_LEADERINFO, .epoch = r->epoch_proposed};
    rep_send(r, id, &m);
    r->learners[id].state = REP_LH_LEADERINFO_SENT;
}

/* epoch = max(acceptedEpoch over a quorum incl. me) + 1, persisted before use. */
static void maybe_choose_epoch(struct replica *r)
{
    if (r->epoch_proposed || !quorum_contains_quorum(&r->qv, r->info_mask))
        return;
    uint64_t max = rep_accepted_promised(r);
    for (int id = 1; id <= r->cfg.n_servers; id++)
        if ((r->info_mask & quorum_bit(id)) && id != r->id && r->learners[id].accepted_epoch > max)
            max = r->learners[id].accepted_epoch;
    r->epoch_proposed = max + 1;
    rep_disk_epoch(r, REP_EPOCH_ACCEPTED, r->epoch_proposed, REP_CONT_LEADER_ACCEPTED);
}

static void on_followerinfo(struct replica *r, uint64_t now_ms, int from, uint64_t accepted,
                            int observer)
{
    struct rep_learner *l = &r->learners[from];
    if (l->state != REP_LH_NONE)
        rep_event(r, REP_EV_LEARNER_DROPPED, from, REP_DROP_NEW_CONNECTION, 0);
    memset(l, 0, sizeof *l);
    l->state = REP_LH_INFO;
    l->observer = (uint8_t)(observer || !rep_is_voter(r, from));
    l->accepted_epoch = accepted;
    l->last_heard_ms = now_ms;
    if (r->epoch_proposed == 0) {
        if (!l->observer)
            r->info_mask |= quorum_bit(from);
        maybe_choose_epoch(r);
    } else if (r->accepted_epoch == r->epoch_proposed) {
        send_leaderinfo(r, from);    /* epoch already chosen and durable */
    }
}

void zab_leader_start(struct replica *r, uint64_t now_ms)
{
    r->leader_id = r->id;
    r->phase = REP_PHASE_DISCOVERY;
    r->lead_since_ms = now_ms;
    r->ping_at_ms = now_ms + r->cfg.tick_ms / 2;
    r->info_mask = me_bit(r);
    r->epoch_ack_mask = me_bit(r);
    for (int id = 1; id <= r->cfg.n_servers; id++) {
        if (!r->finfo_pending[id])
            continue;
        r->finfo_pending[id] = 0;
        on_followerinfo(r, now_ms, id, r->finfo_epoch[id], r->finfo_observer[id]);
    }
    maybe_choose_epoch(r);
}

/* ZooKeeper's StateSummary.isMoreRecentThan. */
static int more_recent(uint64_t epoch_a, uint64_t zxid_a, uint64_t epoch_b, uint64_t zxid_b)
{
    return epoch_a > epoch_b || (epoch_a == epoch_b && zxid_a > zxid_b);
}

static void sync_learner(struct replica *r, uint64_t now_ms, int id);

static void on_ackepoch(struct replica *r, uint64_t now_ms, int from, const struct zab_msg *m)
{
    struct rep_learner *l = &r->learners[from];
    if (l->state != REP_LH_LEADERINFO_SENT) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, from, m->kind, l->state);
        return;
    }
    l->epoch_valid = m->flag;
    l->current_epoch = m->epoch;
    l->last_zxid = m->zxid;
    l->state = REP_LH_EPOCH_ACKED;
    int quorum_done = r->current_write_pending || r->current_epoch == r->epoch_proposed;
    if (m->flag && !quorum_done) {
        if (more_recent(m->epoch, m->zxid, r->current_epoch, rep_last_zxid(r))) {
            /* A follower knows more than I do: I must not lead (waitForEpochAck). */
            rep_event(r, REP_EV_LEADER_ABANDON, from, m->epoch, m->zxid);
            step_down(r, now_ms, REP_DROP_FOLLOWER_AHEAD);
            return;
        }
        if (!l->observer)
            r->epoch_ack_mask |= quorum_bit(from);
    }
    if (r->current_epoch == r->epoch_proposed && !r->current_write_pending) {
        sync_learner(r, now_ms, from);
        return;
    }
    if (!quorum_done && quorum_contains_quorum(&r->qv, r->epoch_ack_mask)) {
        r->current_write_pending = 1;
        rep_disk_epoch(r, REP_EPOCH_CURRENT, r->epoch_proposed, REP_CONT_LEADER_CURRENT);
    }
}

/* ---- sync --------------------------------------------------------------- */

static void send_snap(struct replica *r, int id)
{
    size_t cap = r->cfg.sm->snapshot_size(r->sm), len = 0;
    uint8_t *tmp = malloc(cap ? cap : 1);
    assert(tmp && "snapshot buffer: out of memory");
    if (!tmp)
        abort();
    int rc = r->cfg.sm->snapshot_write(r->sm, tmp, cap, &len);
    assert(rc == 0);
    (void)rc;
    struct zab_msg m = {.kind = ZAB_MSG_SNAP, .zxid = r->zxid_applied, .data = tmp,
                        .data_len = (uint32_t)len};
    rep_send(r, id, &m);
    free(tmp);
}

/* Which plan, after the planted SKIP_TRUNC bug has had its say. */
static struct zab_sync_plan plan_for(struct replica *r, const struct rep_learner *l)
{
    uint32_t n = (uint32_t)(r->log_hi - r->log_lo);
    for (uint32_t i = 0; i < n; i++)
        r->scratch_zxids[i] = r->log[i].zxid;
    struct zab_sync_plan p = zab_sync_decide(r->scratch_zxids, n, r->log_base_zxid, l->last_zxid);
    if (rep_bug(r, ZAB_BUG_SKIP_TRUNC) && p.kind == ZAB_SYNC_TRUNC) {
        p.kind = ZAB_SYNC_DIFF;
        p.send_from = n;
    } else if (rep_bug(r, ZAB_BUG_SKIP_TRUNC) && p.kind == ZAB_SYNC_TRUNC_DIFF) {
        p.kind = ZAB_SYNC_DIFF;
    }
    /* A DIFF longer than half a learner's log cannot fit beside the entries
     * it has not snapshotted yet: it would fill the learner's log, the
     * learner would quit, and the next round would send the same DIFF
     * forever. Send the state instead, as ZooKeeper does when the txns to
     * send outweigh the snapshot (zookeeper.snapshotSizeFactor). */
    if ((p.kind == ZAB_SYNC_DIFF || p.kind == ZAB_SYNC_TRUNC_DIFF) &&
        n - p.send_from > r->cfg.log_entries_max / 2)
        p.kind = ZAB_SYNC_SNAP;
    return p;
}

/* Sends the sync stream: DIFF|TRUNC|SNAP, PROPOSALs, then NEWLEADER last
 * (ZOOKEEPER-3104: never NEWLEADER before the data it vouches for). */
static void sync_learner(struct replica *r, uint64_t now_ms, int id)
{
    struct rep_learner *l = &r->learners[id];
    struct zab_sync_plan p = plan_for(r, l);
    uint64_t from_abs = r->log_lo + p.send_from, zxid = rep_last_zxid(r);
    switch (p.kind) {
    case ZAB_SYNC_DIFF:
        rep_send_simple(r, id, ZAB_MSG_DIFF, zxid);
        break;
    case ZAB_SYNC_TRUNC:
    case ZAB_SYNC_TRUNC_DIFF:
        zxid = p.trunc_zxid;
        rep_send_simple(r, id, ZAB_MSG_TRUNC, zxid);
        break;
    case ZAB_SYNC_SNAP:
        zxid = r->zxid_applied;
        send_snap(r, id);
        from_abs = r->applied_hi;
        break;
    }
    /* Observers only ever see committed txns; the rest arrive as INFORM. Before
     * establishment the whole initial history counts: it commits at UPTODATE. */
    uint64_t to_abs = (l->observer && r->established_epoch) ? r->commit_hi : r->log_hi;
    for (uint64_t abs = from_abs; abs < to_abs; abs++) {
        struct rep_entry *e = rep_entry_at(r, abs);
        struct zab_msg m = {.kind = ZAB_MSG_PROPOSAL, .zxid = e->zxid,
                            .data = rep_entry_payload(r, e), .data_len = e->payload_len};
        rep_send(r, id, &m);
    }
    if (r->phase == REP_PHASE_BROADCAST && r->commit_hi > from_abs && !l->observer)
        rep_send_simple(r, id, ZAB_MSG_COMMIT, r->zxid_committed);
    rep_send_simple(r, id, ZAB_MSG_NEWLEADER, zxid_make((uint32_t)r->current_epoch, 0));
    l->state = REP_LH_SYNCING;
    l->last_heard_ms = now_ms;
    rep_event(r, REP_EV_SYNC_SENT, id, p.kind, zxid);
}

static void send_uptodate(struct replica *r, int id)
{
    rep_send_simple(r, id, ZAB_MSG_UPTODATE, r->zxid_committed);
    r->learners[id].state = REP_LH_UPTODATE;
}

/* A quorum (me included, after my own fsync) ACKed NEWLEADER: the initial
 * history is committed and broadcast may begin. */
static void maybe_establish(struct replica *r)
{
    if (r->established_epoch || !(r->newleader_ack_mask & me_bit(r)) ||
        !quorum_contains_quorum(&r->qv, r->newleader_ack_mask))
        return;
    r->established_epoch = r->current_epoch;
    r->phase = REP_PHASE_BROADCAST;
    r->next_counter = 1;
    r->fle.vote.peer_epoch = r->current_epoch;    /* updateElectionVote */
    rep_event(r, REP_EV_ESTABLISHED, 0, r->established_epoch, rep_last_zxid(r));
    rep_commit_to(r, r->log_hi);
    for (int id = 1; id <= r->cfg.n_servers; id++)
        if (r->learners[id].state == REP_LH_NEWLEADER_ACKED)
            send_uptodate(r, id);
}

/* ---- broadcast ---------------------------------------------------------- */

static void send_commit(struct replica *r, const struct rep_entry *e)
{
    for (int id = 1; id <= r->cfg.n_servers; id++) {
        struct rep_learner *l = &r->learners[id];
        if (l->state < REP_LH_SYNCING)
            continue;
        if (!l->observer) {
            rep_send_simple(r, id, ZAB_MSG_COMMIT, e->zxid);
            continue;
        }
        struct zab_msg m = {.kind = ZAB_MSG_INFORM, .zxid = e->zxid,
                            .data = rep_entry_payload(r, e), .data_len = e->payload_len};
        rep_send(r, id, &m);
    }
}

/* Commits strictly in zxid order: a proposal commits only when every earlier
 * one has (Leader.tryToCommit). */
static void try_commit(struct replica *r)
{
    if (r->phase != REP_PHASE_BROADCAST)
        return;
    uint64_t hi = r->commit_hi;
    while (hi < r->log_hi) {
        struct rep_entry *e = rep_entry_at(r, hi);
        int ok = rep_bug(r, ZAB_BUG_COMMIT_BEFORE_QUORUM)
                     ? (e->ack_mask & me_bit(r)) != 0
                     : quorum_contains_quorum(&r->qv, e->ack_mask);
        if (!ok)
            break;
        send_commit(r, e);
        hi++;
    }
    rep_commit_to(r, hi);
}

static void self_ack_durable(struct replica *r)
{
    uint64_t hi = rep_bug(r, ZAB_BUG_ACK_BEFORE_FSYNC) ? r->log_hi : r->log_durable_hi;
    for (uint64_t abs = r->commit_hi; abs < hi; abs++)
        rep_entry_at(r, abs)->ack_mask |= me_bit(r);
    try_commit(r);
}

static void on_ack(struct replica *r, int from, uint64_t zxid)
{
    struct rep_learner *l = &r->learners[from];
    int newleader_ack = zxid == zxid_make((uint32_t)r->current_epoch, 0) &&
                        r->current_epoch == r->epoch_proposed;
    if (!newleader_ack && l->state == REP_LH_SYNCING && !r->established_epoch &&
        rep_bug(r, ZAB_BUG_ACK_ORDER_4685)) {
        /* ZOOKEEPER-4685: LearnerHandler reads one packet as the NEWLEADER ACK;
         * another ACK there is logged and dropped, and this learner is never
         * counted for the new epoch (waitForNewLeaderAck). */
        l->nl_ack_missed = 1;
        return;
    }
    if (newleader_ack) {
        if (l->state != REP_LH_SYNCING)
            return;
        l->state = REP_LH_NEWLEADER_ACKED;
        if (!l->observer && !l->nl_ack_missed)
            r->newleader_ack_mask |= quorum_bit(from);
        if (r->established_epoch)
            send_uptodate(r, from);
        else
            maybe_establish(r);
        return;
    }
    /* Proposal ACKs count only from voters that passed NEWLEADER (ZOOKEEPER-4685). */
    if (l->state < REP_LH_NEWLEADER_ACKED || l->observer || r->phase != REP_PHASE_BROADCAST)
        return;
    int64_t abs = rep_log_find(r, zxid);
    if (abs < 0 || (uint64_t)abs < r->commit_hi)
        return;
    rep_entry_at(r, (uint64_t)abs)->ack_mask |= quorum_bit(from);
    try_commit(r);
}

int zab_leader_propose(struct replica *r, uint64_t now_ms, const uint8_t *payload, size_t len,
                       uint64_t *zxid_out)
{
    if (r->phase != REP_PHASE_BROADCAST || !r->established_epoch)
        return REP_ERR_NOT_LEADER;
    if (len > r->cfg.payload_bytes_max)
        return REP_ERR_TOO_BIG;
    /* Back-pressure: at most a quarter of the log in flight, so that followers,
     * whose commits lag mine, still have room for every proposal. */
    if (r->log_hi - r->commit_hi >= r->cfg.log_entries_max / 4)
        return REP_ERR_FULL;
    if (r->next_counter > r->cfg.zxid_counter_max) {
        /* ZOOKEEPER-1277: the counter would roll over; a new epoch is needed. */
        step_down(r, now_ms, REP_DROP_COUNTER_EXHAUSTED);
        return REP_ERR_NOT_LEADER;
    }
    uint64_t zxid = zxid_make((uint32_t)r->established_epoch, (uint32_t)r->next_counter);
    if (zxid <= rep_last_zxid(r)) {
        /* My log holds a zxid from a later epoch: only a lying peer (or a planted
         * bug) can cause that. Proposing would break zxid order: give up leading. */
        step_down(r, now_ms, REP_DROP_PROTOCOL);
        return REP_ERR_NOT_LEADER;
    }
    if (rep_log_append(r, zxid, payload, (uint32_t)len) < 0)
        return REP_ERR_FULL;
    r->next_counter++;
    rep_log_issue_appends(r);
    rep_disk_fsync(r, REP_CONT_NONE);
    struct rep_entry *e = rep_entry_at(r, r->log_hi - 1);
    for (int id = 1; id <= r->cfg.n_servers; id++) {
        const struct rep_learner *l = &r->learners[id];
        if (l->state >= REP_LH_SYNCING && !l->observer) {
            struct zab_msg m = {.kind = ZAB_MSG_PROPOSAL, .zxid = zxid,
                                .data = rep_entry_payload(r, e), .data_len = e->payload_len};
            rep_send(r, id, &m);
        }
    }
    rep_event(r, REP_EV_PROPOSED, 0, zxid, 0);
    if (rep_bug(r, ZAB_BUG_ACK_BEFORE_FSYNC))
        self_ack_durable(r);
    *zxid_out = zxid;
    return REP_OK;
}

/* ---- inputs ------------------------------------------------------------- */

void zab_leader_on_msg(struct replica *r, uint64_t now_ms, int from, const struct zab_msg *m)
{
    struct rep_learner *l = &r->learners[from];
    if (m->kind == ZAB_MSG_FOLLOWERINFO) {
        on_followerinfo(r, now_ms, from, m->epoch, m->flag);
        return;
    }
    if (l->state == REP_LH_NONE) {
        rep_disconnect(r, from);       /* not a learner of mine */
        return;
    }
    l->last_heard_ms = now_ms;
    switch (m->kind) {
    case ZAB_MSG_ACKEPOCH:
        on_ackepoch(r, now_ms, from, m);
        return;
    case ZAB_MSG_ACK:
        on_ack(r, from, m->zxid);
        return;
    case ZAB_MSG_PING:
        return;
    default:
        rep_event(r, REP_EV_PROTOCOL_ERROR, from, m->kind, l->state);
        return;
    }
}

void zab_leader_on_conn_break(struct replica *r, uint64_t now_ms, int peer)
{
    (void)now_ms;
    if (r->learners[peer].state != REP_LH_NONE)
        rep_event(r, REP_EV_LEARNER_DROPPED, peer, REP_DROP_CONN_BREAK, 0);
    memset(&r->learners[peer], 0, sizeof r->learners[peer]);
}

void zab_leader_on_disk(struct replica *r, uint64_t now_ms, const struct rep_disk_wait *w, int live)
{
    if (w->kind == REP_ACT_LOG_FSYNC && r->phase == REP_PHASE_BROADCAST)
        self_ack_durable(r);
    if (!live)
        return;
    switch (w->cont) {
    case REP_CONT_LEADER_ACCEPTED:
        for (int id = 1; id <= r->cfg.n_servers; id++)
            if (r->learners[id].state == REP_LH_INFO)
                send_leaderinfo(r, id);
        /* A leader that is a quorum by itself (a lone voter) has all the
         * epoch ACKs it will ever need. */
        if (!r->current_write_pending && quorum_contains_quorum(&r->qv, r->epoch_ack_mask)) {
            r->current_write_pending = 1;
            rep_disk_epoch(r, REP_EPOCH_CURRENT, r->epoch_proposed, REP_CONT_LEADER_CURRENT);
        }
        return;
    case REP_CONT_LEADER_CURRENT:
        r->current_write_pending = 0;
        r->phase = REP_PHASE_SYNC;
        rep_log_issue_appends(r);
        rep_disk_fsync(r, REP_CONT_LEADER_SELF_SYNCED);
        for (int id = 1; id <= r->cfg.n_servers; id++)
            if (r->learners[id].state == REP_LH_EPOCH_ACKED)
                sync_learner(r, now_ms, id);
        return;
    case REP_CONT_LEADER_SELF_SYNCED:
        r->newleader_ack_mask |= me_bit(r);
        maybe_establish(r);
        return;
    default:
        return;
    }
}

/* ---- time --------------------------------------------------------------- */

static int synced_quorum(const struct replica *r)
{
    uint32_t mask = me_bit(r);
    for (int id = 1; id <= r->cfg.n_servers; id++)
        if (r->learners[id].state >= REP_LH_NEWLEADER_ACKED && !r->learners[id].observer)
            mask |= quorum_bit(id);
    return quorum_contains_quorum(&r->qv, mask);
}

void zab_leader_on_timer(struct replica *r, uint64_t now_ms)
{
    if (r->phase != REP_PHASE_BROADCAST) {
        if (now_ms >= r->lead_since_ms + rep_tick_ms(r, r->cfg.init_limit))
            step_down(r, now_ms, REP_DROP_TIMEOUT);
        return;
    }
    uint64_t limit = rep_tick_ms(r, r->cfg.sync_limit);
    for (int id = 1; id <= r->cfg.n_servers; id++) {
        struct rep_learner *l = &r->learners[id];
        if (l->state == REP_LH_NONE || now_ms < l->last_heard_ms + limit)
            continue;
        rep_event(r, REP_EV_LEARNER_DROPPED, id, REP_DROP_TIMEOUT, 0);
        rep_disconnect(r, id);
        memset(l, 0, sizeof *l);
    }
    if (!synced_quorum(r)) {
        step_down(r, now_ms, REP_DROP_NO_QUORUM);
        return;
    }
    if (now_ms >= r->ping_at_ms) {
        r->ping_at_ms = now_ms + (r->cfg.tick_ms / 2 ? r->cfg.tick_ms / 2 : 1);
        for (int id = 1; id <= r->cfg.n_servers; id++)
            if (r->learners[id].state >= REP_LH_SYNCING)
                rep_send_simple(r, id, ZAB_MSG_PING, r->zxid_committed);
    }
}

uint64_t zab_leader_deadline(const struct replica *r)
{
    if (r->phase != REP_PHASE_BROADCAST)
        return r->lead_since_ms + rep_tick_ms(r, r->cfg.init_limit);
    uint64_t t = r->ping_at_ms;
    uint64_t limit = rep_tick_ms(r, r->cfg.sync_limit);
    for (int id = 1; id <= r->cfg.n_servers; id++) {
        const struct rep_learner *l = &r->learners[id];
        if (l->state != REP_LH_NONE && l->last_heard_ms + limit < t)
            t = l->last_heard_ms + limit;
    }
    return t;
}
