/* check/hist_gen: generator of valid histories from a sequential model, with
 * random concurrency and crashed clients, and of mutated histories with
 * exactly one planted anomaly. The checkers' tests and benchmarks use it.
 * Register and kv histories are linearizable by construction (each op takes
 * effect at a random point while it is pending). ZooKeeper histories come
 * from a small model of ZooKeeper itself: a leader log and three replicas
 * that lag behind; each session reads from its replica, its own writes and
 * syncs bring the replica up to date, and zxids are the log positions.
 * Owns its GSL random stream (seeded; same options -> same history).
 * Must never: depend on anything but its options (no clock, no rand()). */
#ifndef ZABLAB_CHECK_HIST_GEN_H
#define ZABLAB_CHECK_HIST_GEN_H

#include "check/history.h"
#include "check/model.h"

enum chk_anomaly {
    CHK_PLANT_NONE,
    CHK_PLANT_STALE_AFTER_SYNC,     /* zk: a read after sync misses a write completed before it */
    CHK_PLANT_READ_BACKWARDS,       /* zk: a session reads older than its own write */
    CHK_PLANT_LOST_WRITE,           /* an acknowledged write disappears */
    CHK_PLANT_DUP_SEQUENTIAL,       /* zk: two creates get the same sequential name */
    CHK_PLANT_FAILED_WRITE_VISIBLE, /* a failed write's value is read */
    CHK_PLANT_NON_FIFO,             /* zk: a session's writes applied out of issue order */
    CHK_PLANT_NEVER_WRITTEN,        /* a read returns a value nobody wrote */
    CHK_PLANT_LATE_WATCH,           /* zk: a watch event arrives after a read that saw the change */
    CHK_PLANT_COUNT
};

struct chk_gen_opts {
    enum chk_model_kind model;
    uint32_t n_ops;           /* operations invoked */
    uint32_t n_procs;         /* concurrent client processes (max pending ops) */
    double crash_rate;        /* probability that an op ends with unknown outcome */
    uint64_t seed;
    uint32_t n_keys;          /* kv keys / zk znodes; 0 = default (5) */
    uint32_t value_range;     /* register: values drawn from [0, range); 0 = unique */
    bool no_zxids;            /* zk: leave zxids out */
    enum chk_anomaly plant;
};

/* Builds a history (paired, ready for the checkers). On a planted anomaly the
 * history holds exactly one; when the generated history offers no place for
 * it, returns NULL with err saying so (try another seed). */
struct chk_history *chk_gen_history(const struct chk_gen_opts *opts, char *err, size_t errlen);

const char *chk_anomaly_name(enum chk_anomaly a);
enum chk_anomaly chk_anomaly_parse(const char *s, bool *ok);
/* Does this anomaly apply to the model? (sync, sessions, sequential names
 * and FIFO are ZooKeeper notions.) */
bool chk_anomaly_fits(enum chk_anomaly a, enum chk_model_kind model);

#endif
