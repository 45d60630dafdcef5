/* Private seams between replica.c (inputs, outputs, log, roles), zab_leader.c,
 * zab_follower.c and storage.c. Not for drivers. */
#ifndef ZABLAB_CORE_REPLICA_INTERNAL_H
#define ZABLAB_CORE_REPLICA_INTERNAL_H

#include "core/replica.h"
#include "core/zab_msg.h"

/* What to do when a waited-for disk op completes. */
enum rep_cont {
    REP_CONT_NONE = 0,
    REP_CONT_LEADER_ACCEPTED,     /* acceptedEpoch written: send LEADERINFO */
    REP_CONT_LEADER_CURRENT,      /* currentEpoch written: sync the learners */
    REP_CONT_LEADER_SELF_SYNCED,  /* own initial history fsynced: count own NEWLEADER ACK */
    REP_CONT_FOLLOWER_ACCEPTED,   /* acceptedEpoch written: send ACKEPOCH */
    REP_CONT_NL_FSYNC,            /* NEWLEADER: log durable -> write currentEpoch */
    REP_CONT_NL_EPOCH,            /* NEWLEADER: currentEpoch durable -> ACK NEWLEADER */
    REP_CONT_NL_EPOCH_FIRST,      /* BUG_EPOCH_BEFORE_FSYNC: epoch written -> fsync log */
    REP_CONT_NL_FSYNC_LAST,       /* BUG_EPOCH_BEFORE_FSYNC: fsync done -> ACK */
};

static inline int rep_bug(const struct replica *r, enum zab_bug b)
{
    return (r->cfg.bugs & ZAB_BUG_BIT(b)) != 0;
}

/* The acceptedEpoch this server has promised: the durable value, or a
 * higher one whose write is still in flight (a slow disk can hold several
 * writes from earlier role sessions; they complete in issue order, so a new
 * write must never be lower than one already issued). */
static inline uint64_t rep_accepted_promised(const struct replica *r)
{
    return r->accepted_epoch_issued > r->accepted_epoch ? r->accepted_epoch_issued
                                                        : r->accepted_epoch;
}

static inline uint64_t rep_tick_ms(const struct replica *r, uint32_t ticks)
{
    return (uint64_t)r->cfg.tick_ms * ticks;
}

static inline struct rep_entry *rep_entry_at(struct replica *r, uint64_t abs)
{
    return &r->log[abs - r->log_lo];
}

static inline int rep_is_voter(const struct replica *r, int id)
{
    return quorum_is_voter(&r->qv, id);
}

/* ---- outputs (replica.c) ---- */
void rep_send(struct replica *r, int peer, const struct zab_msg *m);
void rep_send_simple(struct replica *r, int peer, int kind, uint64_t zxid);
void rep_disconnect(struct replica *r, int peer);
void rep_event(struct replica *r, int kind, int peer, uint64_t a, uint64_t b);
uint64_t rep_disk_epoch(struct replica *r, int which, uint64_t epoch, int cont);
uint64_t rep_disk_fsync(struct replica *r, int cont);
void rep_disk_snapshot(struct replica *r, const uint8_t *sm_bytes, size_t len, uint64_t zxid);
uint8_t *rep_out_reserve(struct replica *r, size_t n, size_t *off);
void rep_disk_truncate(struct replica *r, uint64_t offset);

/* ---- log (replica.c) ---- */
uint64_t rep_last_zxid(const struct replica *r);
uint64_t rep_vote_zxid(const struct replica *r);
int64_t rep_log_find(const struct replica *r, uint64_t zxid);
int rep_log_append(struct replica *r, uint64_t zxid, const uint8_t *payload, uint32_t len);
void rep_log_issue_appends(struct replica *r);
void rep_log_truncate_after(struct replica *r, uint64_t zxid);
void rep_log_reset_to_snapshot(struct replica *r, uint64_t zxid);
const uint8_t *rep_entry_payload(const struct replica *r, const struct rep_entry *e);
void rep_commit_to(struct replica *r, uint64_t abs_hi);

/* ---- roles (replica.c) ---- */
void rep_go_looking(struct replica *r, uint64_t now_ms, int reason);
void rep_send_vote(struct replica *r, int peer);

/* ---- leader (zab_leader.c) ---- */
void zab_leader_start(struct replica *r, uint64_t now_ms);
void zab_leader_on_msg(struct replica *r, uint64_t now_ms, int from, const struct zab_msg *m);
void zab_leader_on_conn_break(struct replica *r, uint64_t now_ms, int peer);
void zab_leader_on_timer(struct replica *r, uint64_t now_ms);
void zab_leader_on_disk(struct replica *r, uint64_t now_ms, const struct rep_disk_wait *w, int live);
uint64_t zab_leader_deadline(const struct replica *r);
int zab_leader_propose(struct replica *r, uint64_t now_ms, const uint8_t *payload, size_t len,
                       uint64_t *zxid_out);

/* ---- follower/observer (zab_follower.c) ---- */
void zab_follower_start(struct replica *r, uint64_t now_ms, int leader);
void zab_follower_on_msg(struct replica *r, uint64_t now_ms, int from, const struct zab_msg *m);
void zab_follower_on_timer(struct replica *r, uint64_t now_ms);
void zab_follower_on_disk(struct replica *r, uint64_t now_ms, const struct rep_disk_wait *w, int live);
uint64_t zab_follower_deadline(const struct replica *r);

/* ---- recovery (storage.c) ---- */
int rep_recover(struct replica *r, const struct replica_durable *d, char *err, size_t errlen);

#endif
