/* Shared ZAB logic with no state: the planted-bug table and the leader's
 * sync decision. Pure; never does I/O. */
#include "core/zab_common.h"

#include <ctype.h>
#include <string.h>

#include "core/zxid.h"

struct zab_bug_info {
    const char *name;
    const char *describe;
};

static const struct zab_bug_info zab_bugs[ZAB_BUG_COUNT] = {
    [ZAB_BUG_ACK_BEFORE_FSYNC] = {"ACK_BEFORE_FSYNC",
        "a follower ACKs (and the leader counts its own ACK) before the proposal is fsynced"},
    [ZAB_BUG_COMMIT_BEFORE_QUORUM] = {"COMMIT_BEFORE_QUORUM",
        "the leader commits a proposal on its own ACK, without waiting for a quorum"},
    [ZAB_BUG_ACCEPT_STALE_LEADERINFO] = {"ACCEPT_STALE_LEADERINFO",
        "a follower accepts LEADERINFO with an epoch older than its acceptedEpoch"},
    [ZAB_BUG_SKIP_TRUNC] = {"SKIP_TRUNC",
        "the leader sends DIFF instead of TRUNC to a diverged follower (ZOOKEEPER-1154)"},
    [ZAB_BUG_EPOCH_BEFORE_FSYNC] = {"EPOCH_BEFORE_FSYNC",
        "at NEWLEADER currentEpoch is persisted before the synced log is fsynced (ZOOKEEPER-4643)"},
    [ZAB_BUG_DIFF_LOG_AFTER_ACK] = {"DIFF_LOG_AFTER_ACK",
        "NEWLEADER is ACKed before the DIFF txns are durable; they are logged at UPTODATE (ZOOKEEPER-3911/4646)"},
    [ZAB_BUG_VOTE_ORDER_1419] = {"VOTE_ORDER_1419",
        "FLE vote order compares ids even when epochs differ: not transitive (ZOOKEEPER-1419)"},
    [ZAB_BUG_EPOCH_FILE_1653] = {"EPOCH_FILE_1653",
        "new-epoch txns reach the log before currentEpoch is written, and restart then refuses to start (ZOOKEEPER-1653)"},
    [ZAB_BUG_SYNC_LASTPROCESSED_2355] = {"SYNC_LASTPROCESSED_2355",
        "a DIFF sets the follower's lastProcessedZxid to the leader's zxid before the txns arrive (ZOOKEEPER-2355)"},
    [ZAB_BUG_ACK_ORDER_4685] = {"ACK_ORDER_4685",
        "a follower ACKs the DIFF's txns before NEWLEADER, and the leader takes that first ACK for the NEWLEADER ACK (ZOOKEEPER-4685)"},
};

const char *zab_bug_name(int i)
{
    return (i >= 0 && i < ZAB_BUG_COUNT) ? zab_bugs[i].name : NULL;
}

const char *zab_bug_describe(int i)
{
    return (i >= 0 && i < ZAB_BUG_COUNT) ? zab_bugs[i].describe : NULL;
}

/* Case-insensitive, with '-' and '_' equal: scenario files spell bugs
 * "ack-before-fsync", the command line "ACK_BEFORE_FSYNC". */
static int same_name_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int x = *a == '-' ? '_' : toupper((unsigned char)*a);
        int y = *b == '-' ? '_' : toupper((unsigned char)*b);
        if (x != y)
            return 0;
    }
    return *a == *b;
}

int zab_bug_lookup(const char *name)
{
    if (!name)
        return -1;
    if (!strncmp(name, "BUG_", 4) || !strncmp(name, "bug_", 4) || !strncmp(name, "bug-", 4))
        name += 4;
    for (int i = 0; i < ZAB_BUG_COUNT; i++)
        if (same_name_nocase(name, zab_bugs[i].name))
            return i;
    return -1;
}

const char *zab_sync_kind_name(enum zab_sync_kind k)
{
    switch (k) {
    case ZAB_SYNC_DIFF: return "DIFF";
    case ZAB_SYNC_TRUNC: return "TRUNC";
    case ZAB_SYNC_TRUNC_DIFF: return "TRUNC+DIFF";
    case ZAB_SYNC_SNAP: return "SNAP";
    }
    return "?";
}

/* Index of the first entry > zxid (binary search; the log is increasing). */
static uint32_t first_after(const uint64_t *zx, uint32_t n, uint64_t zxid)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (zx[mid] <= zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct zab_sync_plan zab_sync_decide(const uint64_t *log_zxids, uint32_t n,
                                     uint64_t base_zxid, uint64_t peer_last_zxid)
{
    struct zab_sync_plan p = {ZAB_SYNC_DIFF, 0, n};
    uint64_t last = n ? log_zxids[n - 1] : base_zxid;
    if (peer_last_zxid == last)
        return p;                                   /* in sync: empty DIFF */
    if (peer_last_zxid > last) {
        p.kind = ZAB_SYNC_TRUNC;                    /* follower ahead: cut it back */
        p.trunc_zxid = last;
        return p;
    }
    if (peer_last_zxid < base_zxid) {
        p.kind = ZAB_SYNC_SNAP;                     /* behind what my log still holds */
        return p;
    }
    uint32_t i = first_after(log_zxids, n, peer_last_zxid);
    uint64_t prev = i ? log_zxids[i - 1] : base_zxid;
    if (prev == peer_last_zxid) {
        p.send_from = i;                            /* peer's last is in my log */
        return p;
    }
    /* The peer has a tail I never had. A peer at e<<32 has nothing in epoch e. */
    if (zxid_is_epoch_start(peer_last_zxid) && peer_last_zxid != 0) {
        p.send_from = i;
        return p;
    }
    /* ZooKeeper never sends a TRUNC that crosses an epoch boundary: SNAP. */
    if (zxid_epoch(prev) != zxid_epoch(peer_last_zxid)) {
        p.kind = ZAB_SYNC_SNAP;
        return p;
    }
    p.kind = ZAB_SYNC_TRUNC_DIFF;
    p.trunc_zxid = prev;
    p.send_from = i;
    return p;
}
