/* The standard chaos mix: random crashes and restarts, partitions and
 * heals, connection drops, pauses and clock skews, drawn from the run's
 * fault stream at a configurable mean interval, always leaving the cluster
 * a chance to recover (every fault is undone after a while, and the last
 * stretch of the run is quiet so liveness can be judged).
 *
 * Owns: only its own schedule. Must never: touch replicas directly; it
 * acts through the cluster_* fault functions. */
#ifndef ZABLAB_SIM_CHAOS_H
#define ZABLAB_SIM_CHAOS_H

#include "sim/cluster.h"

struct chaos_config {
    sim_time_ns mean_gap_ns;     /* mean time between faults */
    sim_time_ns quiet_tail_ns;   /* no faults in the last stretch of the run */
    double torn_p;               /* chance a crash tears the unsynced tail */
    double drop_p;               /* else chance it drops it (else keeps it) */
    int max_down;                /* servers down at once (0 = a minority) */
    double power_loss_p;         /* chance a tick is a whole-cluster power loss */
    double point_crash_p;        /* chance a server crashes right at a sync/epoch step */
};

struct chaos {
    struct chaos_config cfg;
    struct cluster *c;
    int down;                    /* servers crashed by chaos */
    bool powered_off;            /* a whole-cluster power loss is in progress */
    bool partitioned;
};

/* Installs the chaos generator as the cluster's user-event handler. */
void chaos_install(struct chaos *ch, struct cluster *c, const struct chaos_config *cfg);

#endif
