/* The follower (and observer) side of ZAB: FOLLOWERINFO, LEADERINFO ->
 * ACKEPOCH, receiving the sync stream, the NEWLEADER ordering (log durable,
 * then currentEpoch, then ACK), UPTODATE, and broadcast (ACK after fsync,
 * COMMIT in order). Owns the follower's sync flags. Never ACKs anything whose
 * durability it has not seen completed (unless a planted bug says so). */
#include <string.h>

#include "core/replica_internal.h"

static int is_observer(const struct replica *r)
{
    return r->state == REP_OBSERVING;
}

static void quit(struct replica *r, uint64_t now_ms, int reason)
{
    rep_go_looking(r, now_ms, reason);
}

void zab_follower_start(struct replica *r, uint64_t now_ms, int leader)
{
    r->leader_id = leader;
    r->phase = REP_PHASE_DISCOVERY;
    r->follow_since_ms = now_ms;
    r->leader_heard_ms = now_ms;
    r->ack_hi = r->log_hi;
    struct zab_msg m = {.kind = ZAB_MSG_FOLLOWERINFO, .epoch = rep_accepted_promised(r),
                        .flag = (uint8_t)is_observer(r)};
    rep_send(r, leader, &m);
}

static void send_ackepoch(struct replica *r, int valid)
{
    struct zab_msg m = {.kind = ZAB_MSG_ACKEPOCH, .flag = (uint8_t)valid,
                        .epoch = valid ? r->current_epoch : 0, .zxid = rep_vote_zxid(r)};
    rep_send(r, r->leader_id, &m);
    r->phase = REP_PHASE_SYNC;
}

static void on_leaderinfo(struct replica *r, uint64_t now_ms, uint64_t epoch)
{
    if (r->phase != REP_PHASE_DISCOVERY || r->follow_epoch) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, ZAB_MSG_LEADERINFO, r->phase);
        return;
    }
    r->follow_epoch = epoch;
    /* Compared with the promised value, not the durable one: an earlier,
     * higher write may still be in flight, and a lower one issued after it
     * would move the file (and memory) backwards. */
    uint64_t promised = rep_accepted_promised(r);
    if (epoch > promised ||
        (epoch < promised && rep_bug(r, ZAB_BUG_ACCEPT_STALE_LEADERINFO))) {
        /* acceptedEpoch to file first; ACKEPOCH only once it is durable. */
        rep_disk_epoch(r, REP_EPOCH_ACCEPTED, epoch, REP_CONT_FOLLOWER_ACCEPTED);
    } else if (epoch == promised) {
        send_ackepoch(r, 0);          /* ZooKeeper's currentEpoch = -1: not counted */
    } else {
        quit(r, now_ms, REP_DROP_EPOCH_STALE);
    }
}

/* ---- sync stream --------------------------------------------------------- */

static void on_sync_start(struct replica *r, uint64_t now_ms, const struct zab_msg *m)
{
    if (r->phase != REP_PHASE_SYNC || r->sync_started) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, m->kind, r->phase);
        return;
    }
    r->sync_started = 1;
    switch (m->kind) {
    case ZAB_MSG_DIFF:
        r->sync_kind = ZAB_SYNC_DIFF;
        /* ZOOKEEPER-2355: the old code moved lastProcessedZxid before the txns came. */
        if (rep_bug(r, ZAB_BUG_SYNC_LASTPROCESSED_2355) && m->zxid > rep_vote_zxid(r))
            r->zxid_reported = m->zxid;
        break;
    case ZAB_MSG_TRUNC:
        r->sync_kind = ZAB_SYNC_TRUNC;
        if (m->zxid < r->log_base_zxid) {
            /* My snapshot is past the cut point: I cannot truncate (ZooKeeper exits). */
            rep_event(r, REP_EV_TRUNC_BELOW_APPLIED, r->leader_id, m->zxid, r->log_base_zxid);
            quit(r, now_ms, REP_DROP_PROTOCOL);
            return;
        }
        rep_log_truncate_after(r, m->zxid);
        r->zxid_reported = 0;
        break;
    default: {
        char err[128];
        r->sync_kind = ZAB_SYNC_SNAP;
        if (r->cfg.sm->snapshot_load(r->sm, m->data, m->data_len, err, sizeof err) < 0) {
            rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, m->kind, 0);
            quit(r, now_ms, REP_DROP_PROTOCOL);
            return;
        }
        rep_log_reset_to_snapshot(r, m->zxid);
        rep_disk_snapshot(r, m->data, m->data_len, m->zxid);
        r->zxid_reported = 0;
        break;
    }
    }
    r->ack_hi = r->log_hi;
    rep_event(r, REP_EV_SYNC_RECEIVED, r->leader_id, r->sync_kind, m->zxid);
}

/* Sends ACKs for this epoch's proposals that are durable (ZOOKEEPER-4685:
 * only after the NEWLEADER ACK; the initial history needs none). */
static void send_acks(struct replica *r)
{
    if (!r->newleader_acked || is_observer(r))
        return;
    uint64_t hi = rep_bug(r, ZAB_BUG_ACK_BEFORE_FSYNC) ? r->log_appended_hi : r->log_durable_hi;
    for (uint64_t abs = r->ack_hi < r->log_lo ? r->log_lo : r->ack_hi; abs < hi; abs++) {
        uint64_t zxid = rep_entry_at(r, abs)->zxid;
        if (zxid_epoch(zxid) == r->follow_epoch)
            rep_send_simple(r, r->leader_id, ZAB_MSG_ACK, zxid);
    }
    if (hi > r->ack_hi)
        r->ack_hi = hi;
}

/* ZOOKEEPER-4685 (planted): the old SyncRequestProcessor ACKed every txn it
 * logged, the DIFF's older-epoch ones included, and could do so before the
 * QuorumPeer thread sent the ACK of NEWLEADER. */
static void ack_synced_early(struct replica *r)
{
    if (is_observer(r))
        return;
    for (uint64_t abs = r->ack_hi < r->log_lo ? r->log_lo : r->ack_hi; abs < r->log_durable_hi; abs++)
        rep_send_simple(r, r->leader_id, ZAB_MSG_ACK, rep_entry_at(r, abs)->zxid);
    if (r->log_durable_hi > r->ack_hi)
        r->ack_hi = r->log_durable_hi;
}

static void on_proposal(struct replica *r, uint64_t now_ms, const struct zab_msg *m)
{
    /* Observers get PROPOSALs only inside the sync stream, INFORMs after it. */
    int ok = r->sync_started && r->phase >= REP_PHASE_SYNC &&
             (m->kind == ZAB_MSG_PROPOSAL ? (!is_observer(r) || !r->newleader_seen) : is_observer(r));
    if (!ok) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, m->kind, r->phase);
        return;
    }
    uint64_t last = rep_last_zxid(r);
    if (m->zxid <= last)
        return;                       /* already have it (duplicate in the sync stream) */
    /* (The 2355 bug predates this check; keep it out of its way.) */
    int hole = zxid_epoch(m->zxid) == zxid_epoch(last) ? m->zxid != last + 1
                                                        : zxid_counter(m->zxid) != 1;
    if (hole && !rep_bug(r, ZAB_BUG_SYNC_LASTPROCESSED_2355)) {
        /* A hole: within an epoch counters are consecutive, and an epoch's first
         * txn is (e,1). Only a lossy link does that; resync rather than diverge
         * (ZOOKEEPER-4925 checks the same-epoch half). */
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, m->kind, m->zxid);
        quit(r, now_ms, REP_DROP_PROTOCOL);
        return;
    }
    if (m->data_len > r->cfg.payload_bytes_max ||
        rep_log_append(r, m->zxid, m->data, m->data_len) < 0) {
        quit(r, now_ms, REP_DROP_LOG_FULL);
        return;
    }
    if (r->appends_deferred || (!r->newleader_seen && rep_bug(r, ZAB_BUG_DIFF_LOG_AFTER_ACK))) {
        r->appends_deferred = 1;      /* ZOOKEEPER-3911: logged only at UPTODATE */
    } else {
        rep_log_issue_appends(r);
        if (r->newleader_seen)
            rep_disk_fsync(r, REP_CONT_NONE);
    }
    if (m->kind == ZAB_MSG_INFORM) {
        rep_commit_to(r, r->log_hi);  /* INFORM carries a committed txn */
        return;
    }
    send_acks(r);                     /* only does something under ACK_BEFORE_FSYNC */
}

static void on_commit(struct replica *r, uint64_t now_ms, uint64_t zxid)
{
    if (zxid <= r->zxid_committed)
        return;
    int64_t abs = rep_log_find(r, zxid);
    if (abs < 0) {
        /* Committing what I never got: my copy is incomplete (FollowerZooKeeperServer
         * treats this as fatal). Resync. */
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, ZAB_MSG_COMMIT, zxid);
        quit(r, now_ms, REP_DROP_PROTOCOL);
        return;
    }
    if (r->pending_commit_zxid < zxid)
        r->pending_commit_zxid = zxid;
    rep_commit_to(r, (uint64_t)abs + 1);
}

/* NEWLEADER: make what the leader sent durable, then persist currentEpoch,
 * then ACK (ZOOKEEPER-4643/4646/4785). Each step waits for the previous disk op. */
static void on_newleader(struct replica *r, const struct zab_msg *m)
{
    if (r->phase != REP_PHASE_SYNC || !r->sync_started || r->newleader_seen ||
        m->zxid != zxid_make((uint32_t)r->follow_epoch, 0)) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, ZAB_MSG_NEWLEADER, r->phase);
        return;
    }
    r->newleader_seen = 1;
    if (rep_bug(r, ZAB_BUG_DIFF_LOG_AFTER_ACK)) {
        rep_disk_epoch(r, REP_EPOCH_CURRENT, r->follow_epoch, REP_CONT_NL_EPOCH);
        return;
    }
    if (rep_bug(r, ZAB_BUG_EPOCH_BEFORE_FSYNC)) {
        rep_disk_epoch(r, REP_EPOCH_CURRENT, r->follow_epoch, REP_CONT_NL_EPOCH_FIRST);
        return;
    }
    rep_log_issue_appends(r);
    rep_disk_fsync(r, REP_CONT_NL_FSYNC);
}

static void ack_newleader(struct replica *r)
{
    rep_send_simple(r, r->leader_id, ZAB_MSG_ACK, zxid_make((uint32_t)r->follow_epoch, 0));
    r->newleader_acked = 1;
    send_acks(r);
}

static void on_uptodate(struct replica *r, uint64_t zxid)
{
    if (!r->newleader_acked || r->phase != REP_PHASE_SYNC) {
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, ZAB_MSG_UPTODATE, r->phase);
        return;
    }
    r->phase = REP_PHASE_BROADCAST;
    r->fle.vote.peer_epoch = r->follow_epoch;      /* updateElectionVote */
    r->fle.vote.leader = r->leader_id;
    rep_event(r, REP_EV_UPTODATE, r->leader_id, r->follow_epoch, zxid);
    if (r->appends_deferred) {
        r->appends_deferred = 0;
        rep_log_issue_appends(r);
        rep_disk_fsync(r, REP_CONT_NONE);
    }
    if (zxid > r->zxid_committed) {
        int64_t abs = rep_log_find(r, zxid);
        if (abs >= 0)
            rep_commit_to(r, (uint64_t)abs + 1);
        else
            rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, ZAB_MSG_UPTODATE, zxid);
    }
}

void zab_follower_on_msg(struct replica *r, uint64_t now_ms, int from, const struct zab_msg *m)
{
    (void)from;
    r->leader_heard_ms = now_ms;
    switch (m->kind) {
    case ZAB_MSG_LEADERINFO: on_leaderinfo(r, now_ms, m->epoch); return;
    case ZAB_MSG_DIFF:
    case ZAB_MSG_TRUNC:
    case ZAB_MSG_SNAP: on_sync_start(r, now_ms, m); return;
    case ZAB_MSG_PROPOSAL:
    case ZAB_MSG_INFORM: on_proposal(r, now_ms, m); return;
    case ZAB_MSG_COMMIT: on_commit(r, now_ms, m->zxid); return;
    case ZAB_MSG_NEWLEADER: on_newleader(r, m); return;
    case ZAB_MSG_UPTODATE: on_uptodate(r, m->zxid); return;
    case ZAB_MSG_PING:
        rep_send_simple(r, r->leader_id, ZAB_MSG_PING, r->zxid_committed);
        return;
    default:
        rep_event(r, REP_EV_PROTOCOL_ERROR, r->leader_id, m->kind, r->phase);
        return;
    }
}

void zab_follower_on_disk(struct replica *r, uint64_t now_ms, const struct rep_disk_wait *w,
                          int live)
{
    (void)now_ms;
    if (!live)
        return;
    switch (w->cont) {
    case REP_CONT_FOLLOWER_ACCEPTED:
        send_ackepoch(r, 1);
        return;
    case REP_CONT_NL_FSYNC:
        if (rep_bug(r, ZAB_BUG_ACK_ORDER_4685))
            ack_synced_early(r);
        rep_disk_epoch(r, REP_EPOCH_CURRENT, r->follow_epoch, REP_CONT_NL_EPOCH);
        return;
    case REP_CONT_NL_EPOCH_FIRST:
        rep_log_issue_appends(r);
        rep_disk_fsync(r, REP_CONT_NL_FSYNC_LAST);
        return;
    case REP_CONT_NL_EPOCH:
    case REP_CONT_NL_FSYNC_LAST:
        if (!r->appends_deferred && r->log_appended_hi < r->log_hi) {
            /* this epoch's proposals, held back until currentEpoch was durable */
            rep_log_issue_appends(r);
            rep_disk_fsync(r, REP_CONT_NONE);
        }
        ack_newleader(r);
        return;
    default:
        if (w->kind == REP_ACT_LOG_FSYNC)
            send_acks(r);
        return;
    }
}

void zab_follower_on_timer(struct replica *r, uint64_t now_ms)
{
    if (now_ms >= zab_follower_deadline(r))
        quit(r, now_ms, REP_DROP_TIMEOUT);
}

uint64_t zab_follower_deadline(const struct replica *r)
{
    uint32_t ticks = r->phase == REP_PHASE_BROADCAST ? r->cfg.sync_limit : r->cfg.init_limit;
    return r->leader_heard_ms + rep_tick_ms(r, ticks);
}
