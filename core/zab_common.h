/* ZAB pieces shared by the leader and follower code and by the CLI: the
 * planted-bug table, and the leader's pure sync decision (DIFF / TRUNC /
 * TRUNC+DIFF / SNAP). Owns no state. Never does I/O. */
#ifndef ZABLAB_CORE_ZAB_COMMON_H
#define ZABLAB_CORE_ZAB_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Planted bugs: each bit restores one known-wrong ordering from ZooKeeper's
 * history so that the invariant checker can be shown to catch it. All off by
 * default. Bit i = 1u << i, i in [0, ZAB_BUG_COUNT). */
enum zab_bug {
    ZAB_BUG_ACK_BEFORE_FSYNC = 0,      /* ACK a proposal (follower) / count own ACK (leader) before fsync */
    ZAB_BUG_COMMIT_BEFORE_QUORUM,      /* leader commits on its own ACK, without a quorum */
    ZAB_BUG_ACCEPT_STALE_LEADERINFO,   /* follower accepts LEADERINFO with epoch < acceptedEpoch */
    ZAB_BUG_SKIP_TRUNC,                /* leader sends DIFF instead of TRUNC to a diverged follower (ZK-1154) */
    ZAB_BUG_EPOCH_BEFORE_FSYNC,        /* currentEpoch persisted before the synced log is fsynced (ZK-4643) */
    ZAB_BUG_DIFF_LOG_AFTER_ACK,        /* ACK NEWLEADER before DIFF txns are durable (ZK-3911/4646) */
    ZAB_BUG_VOTE_ORDER_1419,           /* FLE predicate ignores epoch in the id tie-break (ZK-1419) */
    ZAB_BUG_EPOCH_FILE_1653,           /* new-epoch records logged before currentEpoch; restart then refuses (ZK-1653) */
    ZAB_BUG_SYNC_LASTPROCESSED_2355,   /* DIFF sets lastProcessedZxid to the leader's (ZK-2355) */
    ZAB_BUG_ACK_ORDER_4685,            /* sync txns ACKed before NEWLEADER's ACK, which the leader then misses (ZK-4685) */
    ZAB_BUG_COUNT
};

#define ZAB_BUG_BIT(b) (1u << (b))

const char *zab_bug_name(int i);          /* "ACK_BEFORE_FSYNC"...; NULL if out of range */
const char *zab_bug_describe(int i);      /* one line; NULL if out of range */
/* Bug index by name (case-insensitive, with or without a "BUG_" prefix), -1 if unknown. */
int zab_bug_lookup(const char *name);

/* ---- the leader's sync decision (LearnerHandler.syncFollower) ---- */

enum zab_sync_kind {
    ZAB_SYNC_DIFF = 0,        /* send entries from send_from (maybe none) */
    ZAB_SYNC_TRUNC = 1,       /* follower ahead: truncate to trunc_zxid, send nothing */
    ZAB_SYNC_TRUNC_DIFF = 2,  /* follower diverged: truncate to trunc_zxid, then send from send_from */
    ZAB_SYNC_SNAP = 3,        /* follower too far behind or unsyncable: full snapshot */
};

struct zab_sync_plan {
    enum zab_sync_kind kind;
    uint64_t trunc_zxid;      /* TRUNC, TRUNC_DIFF */
    uint32_t send_from;       /* DIFF, TRUNC_DIFF: index into the leader's log */
};

/* log_zxids[0..n) is the leader's in-memory log (strictly increasing), which
 * starts right after base_zxid (the zxid its snapshot covers; 0 = from the
 * beginning). peer_last_zxid is the follower's last zxid from ACKEPOCH.
 * Pure; always returns a plan. */
struct zab_sync_plan zab_sync_decide(const uint64_t *log_zxids, uint32_t n,
                                     uint64_t base_zxid, uint64_t peer_last_zxid);
const char *zab_sync_kind_name(enum zab_sync_kind k);

#endif
