/* check/zk_consistency: checks a zablab history against ZooKeeper's
 * contract, ordered sequential consistency (Lev-Ari et al., IPL 2017):
 * writes linearizable; each session's operations take effect in issue order;
 * a read sees the state at a point of the write order no earlier than what
 * its session already saw or wrote; after sync, a read sees every write that
 * completed before the sync began; watch events arrive in write order and
 * before a read that reflects the change; indeterminate writes may or may not
 * have happened.
 * Two ways to judge (docs/checkers.md):
 *  - with a zxid witness (every acknowledged write carries its zxid): the
 *    zxids are first verified (unique, consistent with real time and with
 *    each session's issue order), then the writes are replayed in zxid order
 *    and every observation is placed; linear in the history length;
 *  - without one: a memoized search over the sessions' operation chains,
 *    bounded by the budget (answer "unknown" past it).
 * Owns only the memory of one call. Must never: trust zxids it has not
 * verified, split the check by znode, or report a violation without the
 * operations that show it, in plain words. */
#ifndef ZABLAB_CHECK_ZK_CONSISTENCY_H
#define ZABLAB_CHECK_ZK_CONSISTENCY_H

#include "check/history.h"
#include "check/linearizable.h"

enum chk_sync_mode {
    CHK_SYNC_STRICT,   /* sync is ordered like a write, both ways in real time */
    CHK_SYNC_ZK,       /* ZooKeeper's guarantee only: reads after a sync see the
                          writes that completed before the sync began */
};

struct chk_zk_opts {
    enum chk_sync_mode sync_mode;
    int64_t budget_ms;          /* search budget without a witness; 0 = none */
    uint64_t memo_bytes_max;    /* 0 = 1 GiB */
    bool ignore_zxids;          /* judge as if no zxids were recorded */
};

#define CHK_ZK_SHOW_MAX 8

struct chk_zk_result {
    enum chk_verdict verdict;
    char msg[CHK_MSG_MAX];
    const char *rule;           /* short rule name of a violation, "" otherwise */
    bool used_zxids;            /* judged with the verified zxid witness */
    enum chk_sync_mode sync_mode;
    uint32_t shown[CHK_ZK_SHOW_MAX];   /* the operations the message names */
    uint32_t n_shown;
    uint64_t steps;
};

/* The history is not const: the tree interns generated sequential names in
 * its string table (append-only; nothing already there changes). */
enum chk_verdict chk_zk_check(struct chk_history *h, const struct chk_zk_opts *opts,
                              struct chk_zk_result *res);
const char *chk_sync_mode_name(enum chk_sync_mode m);

/* Internal: the two judges and shared helpers (zk_consistency.c, zk_search.c). */
struct zk_ctx;
enum chk_verdict zkc_search(struct zk_ctx *c);

#endif
