/* Fast Leader Election (ZooKeeper's FastLeaderElection), sans-I/O.
 * Owns: the logical clock (round), the current proposal, the received-vote
 * and out-of-election tables, the finalize-wait and re-send deadlines.
 * Never sends anything itself: each call returns flags telling the replica
 * what to send. Never reads clocks: now_ms is an argument. */
#ifndef ZABLAB_CORE_FLE_H
#define ZABLAB_CORE_FLE_H

#include <stdint.h>

#include "core/quorum.h"

/* Server state as carried in notifications (ZooKeeper's ServerState order). */
enum fle_server_state {
    FLE_LOOKING = 0,
    FLE_FOLLOWING = 1,
    FLE_LEADING = 2,
    FLE_OBSERVING = 3,
};

/* A vote: the proposed leader, its last logged zxid and its currentEpoch
 * (ZooKeeper's peerEpoch). leader 0 = "no candidate" (an observer's own). */
struct fle_vote {
    int32_t leader;
    uint64_t zxid;
    uint64_t peer_epoch;
};

struct fle_notification {
    uint8_t state;        /* enum fle_server_state of the sender */
    struct fle_vote vote;
    uint64_t round;       /* sender's logical clock (electionEpoch) */
};

/* One slot per server id: the last vote received from it. */
struct fle_slot {
    uint8_t valid;
    uint8_t state;
    struct fle_vote vote;
    uint64_t round;
};

struct fle {
    uint64_t round;                          /* logical clock */
    struct fle_vote vote;                    /* my current proposal */
    struct fle_slot recv[QUORUM_SERVERS_MAX + 1];   /* this round's votes */
    struct fle_slot ooe[QUORUM_SERVERS_MAX + 1];    /* out-of-election votes */
    uint64_t finalize_at_ms;                 /* 0 = no quorum yet */
    uint64_t resend_at_ms;
    uint32_t resend_interval_ms;             /* doubles up to the max: back-off */
};

struct fle_params {
    int my_id;
    const struct quorum_verifier *qv;
    uint32_t finalize_wait_ms;               /* ZooKeeper: 200 */
    uint32_t notification_interval_max_ms;   /* ZooKeeper: 60000 */
    int buggy_order_1419;                    /* BUG_VOTE_ORDER_1419 */
};

/* What the replica must do after an FLE call. */
enum fle_action {
    FLE_ACT_NONE = 0,
    FLE_ACT_SEND_ALL = 1 << 0,    /* send my vote to every voter (and back to sender) */
    FLE_ACT_REPLY = 1 << 1,       /* send my vote to the sender only */
    FLE_ACT_DECIDED = 1 << 2,     /* election over: *leader_out is the leader */
};

/* The vote order: 1 if (new) beats (cur) by (peer_epoch, zxid, id).
 * A candidate that is not a voter never wins. With buggy_1419 set, the
 * pre-ZOOKEEPER-1419 predicate (id tie-break ignores the epoch; not transitive). */
int fle_vote_beats(const struct quorum_verifier *qv, const struct fle_vote *new_vote,
                   const struct fle_vote *cur_vote, int buggy_1419);

/* Starts a new election round: round++, propose `initial` (self, or leader 0
 * for observers). Returns FLE_ACT_SEND_ALL. */
int fle_start(struct fle *f, const struct fle_params *p, uint64_t now_ms,
              const struct fle_vote *initial);

/* A notification from `from_id` while I am LOOKING. `initial` is my own
 * self-vote (used when adopting after a newer round). */
int fle_on_notification(struct fle *f, const struct fle_params *p, uint64_t now_ms,
                        int from_id, const struct fle_notification *n,
                        const struct fle_vote *initial, int *leader_out);

/* Timer while LOOKING: finalize after the wait, or re-send with back-off. */
int fle_on_timer(struct fle *f, const struct fle_params *p, uint64_t now_ms, int *leader_out);

/* The earliest deadline the FLE wants (0 = none). */
uint64_t fle_next_deadline_ms(const struct fle *f);

#endif
