/* sim/workload: the scenario's client workload (`clients N`, `workload mix
 * ...`, `rate N/s`, `keys N`) on simulated clients (sim/client.h): every
 * client runs one operation at a time (a Jepsen process), ops drawn by
 * weight over keys /w/k0 .. /w/k{keys-1}, arrivals at the total rate.
 * `cas` is a versioned counter increment: getData, then setData with the
 * version read. A client whose session expires opens a new one.
 *
 * Owns: its clients' op state and the arrival timers. Draws only from the
 * cluster's "workload" stream (unused by zk-mode clusters otherwise).
 * Must never: touch servers, or run more than one op per client at once. */
#ifndef ZABLAB_SIM_WORKLOAD_H
#define ZABLAB_SIM_WORKLOAD_H

#include <stdint.h>

#include "sim/client.h"
#include "sim/scenario.h"

#define WL_KEYS_MAX 4096

struct workload_config {
    uint32_t weight[SCN_OP_COUNT_];   /* by enum scn_op */
    uint32_t keys;                    /* 1..WL_KEYS_MAX */
    double rate_per_s;                /* all clients together */
    sim_time_ns stop_ns;              /* no new op after this (0 = never) */
    double watch_p;                   /* chance a read sets a watch */
};

struct wl_stats {
    uint64_t issued, ok, failed, unknown, refused;
    uint64_t watches;
    /* latency of completed ops, microseconds (for summaries) */
    double *lat_us;
    size_t lat_n, lat_cap;
};

struct workload;

/* Drives clients first .. first+n-1 of cs. NULL on bad arguments / memory. */
struct workload *wl_new(struct sim_clients *cs, int first, int n, const struct workload_config *cfg);
/* Connects every client and schedules the first arrivals. */
void wl_start(struct workload *w);
const struct wl_stats *wl_stats(const struct workload *w);
void wl_free(struct workload *w);

#endif
