/* Fast Leader Election, as ZooKeeper's FastLeaderElection.lookForLeader but
 * event-driven: each notification or timer is one call. Owns the round,
 * the proposal and the vote tables; returns what to send. Never sends,
 * never reads a clock. */
#include "core/fle.h"

#include <string.h>

int fle_vote_beats(const struct quorum_verifier *qv, const struct fle_vote *nv,
                   const struct fle_vote *cv, int buggy_1419)
{
    if (!quorum_is_voter(qv, nv->leader))
        return 0;                       /* an observer (weight 0) never wins */
    if (!quorum_is_voter(qv, cv->leader))
        return 1;                       /* anything valid beats "no candidate" */
    if (buggy_1419)
        return nv->peer_epoch > cv->peer_epoch ||
               (nv->peer_epoch == cv->peer_epoch && nv->zxid > cv->zxid) ||
               (nv->zxid == cv->zxid && nv->leader > cv->leader);
    if (nv->peer_epoch != cv->peer_epoch)
        return nv->peer_epoch > cv->peer_epoch;
    if (nv->zxid != cv->zxid)
        return nv->zxid > cv->zxid;
    return nv->leader > cv->leader;
}

static int vote_same(const struct fle_vote *a, const struct fle_vote *b)
{
    return a->leader == b->leader && a->zxid == b->zxid && a->peer_epoch == b->peer_epoch;
}

/* Out-of-election votes agree on the leader and its epoch only (ZOOKEEPER-1805):
 * members advertise their own zxid, which differs. */
static int vote_same_ooe(const struct fle_vote *a, const struct fle_vote *b)
{
    return a->leader == b->leader && a->peer_epoch == b->peer_epoch;
}

static int slots_quorum(const struct fle_params *p, const struct fle_slot *slots,
                        const struct fle_vote *v, int ooe)
{
    uint32_t mask = 0;
    for (int id = 1; id <= p->qv->n_servers; id++) {
        const struct fle_slot *s = &slots[id];
        if (!s->valid)
            continue;
        if (ooe ? vote_same_ooe(&s->vote, v) : vote_same(&s->vote, v))
            mask |= quorum_bit(id);
    }
    return quorum_contains_quorum(p->qv, mask);
}

/* ZooKeeper's checkLeader: a remote leader must itself have said LEADING;
 * if it is me, the votes must be from my current round. */
static int check_leader(const struct fle *f, const struct fle_params *p,
                        const struct fle_slot *slots, int leader, uint64_t round)
{
    if (leader != p->my_id) {
        if (leader < 1 || leader > p->qv->n_servers)
            return 0;
        return slots[leader].valid && slots[leader].state == FLE_LEADING;
    }
    return f->round == round;
}

static void set_self_slot(struct fle *f, const struct fle_params *p)
{
    struct fle_slot *s = &f->recv[p->my_id];
    s->valid = quorum_is_voter(p->qv, p->my_id);
    s->state = FLE_LOOKING;
    s->vote = f->vote;
    s->round = f->round;
}

static void rearm_resend(struct fle *f, const struct fle_params *p, uint64_t now_ms)
{
    f->resend_interval_ms = p->finalize_wait_ms;
    f->resend_at_ms = now_ms + f->resend_interval_ms;
}

static void check_finalize(struct fle *f, const struct fle_params *p, uint64_t now_ms, int changed);

int fle_start(struct fle *f, const struct fle_params *p, uint64_t now_ms,
              const struct fle_vote *initial)
{
    uint64_t round = f->round + 1;
    memset(f, 0, sizeof *f);
    f->round = round;
    f->vote = *initial;
    set_self_slot(f, p);
    rearm_resend(f, p, now_ms);
    /* A lone voter is its own quorum: it must not wait for votes that will
     * never come. */
    check_finalize(f, p, now_ms, 1);
    return FLE_ACT_SEND_ALL;
}

/* After my vote or the table changed: start (or keep) the finalize wait. */
static void check_finalize(struct fle *f, const struct fle_params *p, uint64_t now_ms, int changed)
{
    if (changed)
        f->finalize_at_ms = 0;
    if (slots_quorum(p, f->recv, &f->vote, 0)) {
        if (f->finalize_at_ms == 0)
            f->finalize_at_ms = now_ms + p->finalize_wait_ms;
    } else {
        f->finalize_at_ms = 0;
    }
}

static int on_looking_vote(struct fle *f, const struct fle_params *p, uint64_t now_ms, int from,
                           const struct fle_notification *n, const struct fle_vote *initial)
{
    int act = 0, changed = 0;
    int bug = p->buggy_order_1419;
    if (n->round > f->round) {
        f->round = n->round;
        memset(f->recv, 0, sizeof f->recv);
        f->vote = fle_vote_beats(p->qv, &n->vote, initial, bug) ? n->vote : *initial;
        act |= FLE_ACT_SEND_ALL;
        changed = 1;
    } else if (n->round < f->round) {
        return FLE_ACT_REPLY;              /* stale round: tell it where we are */
    } else if (fle_vote_beats(p->qv, &n->vote, &f->vote, bug)) {
        f->vote = n->vote;
        act |= FLE_ACT_SEND_ALL;
        changed = 1;
    }
    struct fle_slot *s = &f->recv[from];
    s->valid = 1, s->state = n->state, s->vote = n->vote, s->round = n->round;
    set_self_slot(f, p);
    if (changed)
        rearm_resend(f, p, now_ms);
    check_finalize(f, p, now_ms, changed);
    return act;
}

static int on_settled_vote(struct fle *f, const struct fle_params *p, int from,
                           const struct fle_notification *n, int *leader_out)
{
    struct fle_slot s = {1, n->state, n->vote, n->round};
    if (n->round == f->round) {
        f->recv[from] = s;
        if (slots_quorum(p, f->recv, &n->vote, 0) &&
            check_leader(f, p, f->recv, n->vote.leader, n->round)) {
            f->vote = n->vote;
            *leader_out = n->vote.leader;
            return FLE_ACT_DECIDED;
        }
    }
    /* Joining an ensemble that already works (ZOOKEEPER-1732). */
    f->ooe[from] = s;
    if (slots_quorum(p, f->ooe, &n->vote, 1) &&
        check_leader(f, p, f->ooe, n->vote.leader, n->round)) {
        f->round = n->round;
        f->vote = n->vote;
        *leader_out = n->vote.leader;
        return FLE_ACT_DECIDED;
    }
    return 0;
}

int fle_on_notification(struct fle *f, const struct fle_params *p, uint64_t now_ms,
                        int from_id, const struct fle_notification *n,
                        const struct fle_vote *initial, int *leader_out)
{
    if (from_id < 1 || from_id > p->qv->n_servers || from_id == p->my_id)
        return 0;
    /* Non-voters get our vote back but never count (WorkerReceiver). */
    if (!quorum_is_voter(p->qv, from_id))
        return FLE_ACT_REPLY;
    if (n->state != FLE_OBSERVING && n->vote.leader != 0 && !quorum_is_voter(p->qv, n->vote.leader))
        return 0;
    switch (n->state) {
    case FLE_LOOKING:
        return on_looking_vote(f, p, now_ms, from_id, n, initial);
    case FLE_FOLLOWING:
    case FLE_LEADING:
        return on_settled_vote(f, p, from_id, n, leader_out);
    default:
        return 0;
    }
}

int fle_on_timer(struct fle *f, const struct fle_params *p, uint64_t now_ms, int *leader_out)
{
    if (f->finalize_at_ms && now_ms >= f->finalize_at_ms) {
        f->finalize_at_ms = 0;
        if (slots_quorum(p, f->recv, &f->vote, 0)) {
            *leader_out = f->vote.leader;
            return FLE_ACT_DECIDED;
        }
    }
    if (f->resend_at_ms && now_ms >= f->resend_at_ms) {
        uint64_t next = 2ull * f->resend_interval_ms;
        if (next > p->notification_interval_max_ms)
            next = p->notification_interval_max_ms;
        f->resend_interval_ms = (uint32_t)next;
        f->resend_at_ms = now_ms + f->resend_interval_ms;
        return FLE_ACT_SEND_ALL;
    }
    return 0;
}

uint64_t fle_next_deadline_ms(const struct fle *f)
{
    uint64_t a = f->finalize_at_ms, b = f->resend_at_ms;
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}
