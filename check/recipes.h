/* check/recipes: judges what ZooKeeper recipe clients believed, from the
 * recipe outcomes in a history (CHK_F_ACQUIRE .. CHK_F_RESIGN and the
 * connection-state events the clients saw). One checker per recipe:
 *   lock-exclusive   no two processes hold one lock at once
 *   leader-unique    no two processes believe they lead one election at once
 *   queue-exact      every element dequeued at most once; none acknowledged lost
 *   config-converges every live watcher ends on the last config version
 *   barrier-sync     nobody passes a barrier round before all parties entered it
 * Owns only the verdict and its message. Must never: modify the history,
 * abort on odd input (a history of only some kinds simply has less to judge),
 * or depend on pointer values. */
#ifndef ZABLAB_CHECK_RECIPES_H
#define ZABLAB_CHECK_RECIPES_H

#include <stdint.h>

#include "check/history.h"

enum chk_recipe_kind {
    CHK_RECIPE_LOCK,         /* lock-exclusive */
    CHK_RECIPE_QUEUE,        /* queue-exact */
    CHK_RECIPE_CONFIG,       /* config-converges */
    CHK_RECIPE_LEADER,       /* leader-unique */
    CHK_RECIPE_BARRIER,      /* barrier-sync */
    CHK_RECIPE_COUNT
};

/* Bounds: locks held (or leaderships believed) at one moment over all keys,
 * and distinct config versions written. Above them the verdict is UNKNOWN
 * with a message saying which bound was hit. */
#define CHK_RECIPE_HOLDS_MAX    4096
#define CHK_RECIPE_VERSIONS_MAX (1u << 20)

struct chk_recipe_result {
    enum chk_verdict verdict;
    char property[32];       /* "lock-exclusive", ... */
    char msg[1024];          /* why, with times and lines; or a summary when ok */
    uint32_t n_judged;       /* acquisitions / elements / watchers judged */
};

/* Short names used by `zablab check --model` and by messages. */
const char *chk_recipe_model_name(enum chk_recipe_kind k);   /* lock queue config leader */
const char *chk_recipe_property(enum chk_recipe_kind k);     /* lock-exclusive ... */
int chk_recipe_parse(const char *s, enum chk_recipe_kind *out);

/* Does the history hold any outcome of this recipe? */
bool chk_recipe_present(const struct chk_history *h, enum chk_recipe_kind k);

/* A holder's interval (lock or leadership) is [acquire/lead ok, the earliest
 * of: its release/resign invocation, a connection loss (Disconnected,
 * Expired, Closed) recorded by the same process, its next acquire/lead
 * invocation]. Curator's rule: a client must treat a suspended connection as
 * a lost lock, so any overlap of two processes' intervals on one key is a
 * real violation. */
enum chk_verdict chk_lock_exclusive(const struct chk_history *h, struct chk_recipe_result *r);
enum chk_verdict chk_leader_unique(const struct chk_history *h, struct chk_recipe_result *r);

/* Every element whose dequeue is ok is dequeued once, after its enqueue was
 * invoked, and was not refused (enqueue fail). With a final queue-read (the
 * last one per queue), every acknowledged element is either dequeued, or
 * still queued, or its dequeue's outcome is unknown (info); and no element
 * both dequeued and still queued. Without a final read losses are not judged
 * (the message says so). */
enum chk_verdict chk_queue_exact(const struct chk_history *h, struct chk_recipe_result *r);

/* Every observed version was written (or is 0, the initial one); a process
 * never observes an older version after a newer one within one session; and
 * every watcher process still connected at the end (its last connection
 * event is not a loss) and not in the middle of a read last observed a
 * version >= the highest acknowledged config-write. The caller leaves a
 * quiet tail after the last write. */
enum chk_verdict chk_config_converges(const struct chk_history *h, struct chk_recipe_result *r);

/* Every enter ok of round k (of a barrier key) comes after enter
 * invocations of round k by at least `parties` distinct processes: nobody
 * passes the barrier before everyone has arrived. Bound: at most
 * CHK_RECIPE_ENTERS_MAX enter invocations (beyond: UNKNOWN). */
#define CHK_RECIPE_ENTERS_MAX (1u << 16)
enum chk_verdict chk_barrier_sync(const struct chk_history *h, struct chk_recipe_result *r);

/* Dispatch by kind. */
enum chk_verdict chk_recipe_check(const struct chk_history *h, enum chk_recipe_kind k,
                                  struct chk_recipe_result *r);

/* Does h hold any recipe outcome or connection-state event? */
bool chk_history_has_recipes(const struct chk_history *h);

/* A copy of h without recipe outcomes and connection-state events, paired
 * again: what the ZooKeeper and linearizability checkers read. NULL with err
 * set when out of memory or when pairing fails. */
struct chk_history *chk_history_without_recipes(const struct chk_history *h, char *err,
                                                size_t errlen);

#endif
