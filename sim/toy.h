/* A throw-away driver that exercises the simulation kernel without the
 * replication core: N nodes ping random peers over the simulated network,
 * answer pings with pongs, log every ping to their simulated disk with an
 * fsync every few appends, and suffer crashes, restarts, pauses, clock
 * skew and partitions from a fault schedule. Optional clients only think
 * (draw from their own streams), which shows that adding one never moves
 * the network's draws.
 *
 * Owns: everything of one run, allocated at start and freed at the end.
 * Must never: read the wall clock or anything else outside the seed; its
 * trace is a pure function of the configuration. Used by the determinism
 * test and the kernel benchmark; not a protocol. */
#ifndef ZABLAB_SIM_TOY_H
#define ZABLAB_SIM_TOY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sched.h"

#define TOY_NODES_MAX 512
#define TOY_CLIENTS_MAX 64

struct toy_config {
    uint64_t seed;
    int nodes;                 /* 2..TOY_NODES_MAX */
    int clients;               /* 0..TOY_CLIENTS_MAX */
    sim_time_ns duration_ns;   /* simulated time to run */
    sim_time_ns ping_interval_ns;
    const char *latency;       /* network latency spec; NULL = "uniform 200us 2ms" */
    bool disk;                 /* log pings to disk */
    bool faults;               /* crash/restart/pause/skew/partition schedule */
    bool trace;                /* record (and hash) every event */
    FILE *trace_out;           /* NULL: hash only */
    size_t sched_capacity;     /* 0: a default sized for nodes */
};

struct toy_result {
    uint64_t trace_hash;
    uint64_t records;
    uint64_t events;           /* scheduler events processed */
    uint64_t sent, delivered, lost;
    uint64_t crashes, restarts, pauses, partitions;
    uint64_t appends, fsyncs;
    size_t sched_high_water;
    char err[192];
};

/* Runs one simulation. Returns 0, or -1 with a message in out->err. */
int toy_run(const struct toy_config *cfg, struct toy_result *out);

#endif
