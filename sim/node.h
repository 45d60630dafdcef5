/* A simulated machine's lifecycle and clock, independent of what runs on it.
 *
 * Owns: up/down state, the incarnation number (bumped at every crash, so
 * events addressed to a previous life are recognised and dropped), pauses
 * (a stalled process: nothing it would do happens until it resumes), and the
 * node's local clock (offset and drift against simulated time).
 * Must never: hold protocol state; that belongs to the replica the driver
 * runs on this node, and is thrown away at a crash by the driver.
 *
 * The local clock is monotonic, as the CLOCK_MONOTONIC a real server reads:
 * a skew that would move it backwards makes it stand still until simulated
 * time catches up. */
#ifndef ZABLAB_SIM_NODE_H
#define ZABLAB_SIM_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sched.h"

struct sim_node {
    int id;
    bool up;
    uint32_t incarnation;
    sim_time_ns paused_until;    /* 0 when running */
    /* local(t) = base_local + (t - base_global) * (1 + drift_ppm / 1e6) */
    sim_time_ns base_global;
    uint64_t base_local;
    int64_t drift_ppm;
    uint64_t last_local;         /* monotonic floor */
};

void sim_node_init(struct sim_node *n, int id);

/* The node's clock reading at simulated time t (ns). */
uint64_t sim_node_local_ns(struct sim_node *n, sim_time_ns t);
/* The simulated time at which the node's clock will read `local` (>= now). */
sim_time_ns sim_node_global_at(const struct sim_node *n, sim_time_ns now, uint64_t local);

/* Steps the clock by delta_ns at time t (positive or negative). */
void sim_node_skew(struct sim_node *n, sim_time_ns t, int64_t delta_ns);
/* Sets the clock's rate error from time t on. */
void sim_node_set_drift(struct sim_node *n, sim_time_ns t, int64_t drift_ppm);

void sim_node_crash(struct sim_node *n);
void sim_node_restart(struct sim_node *n);
/* Stalls the node until `until`; a second pause extends the stall. */
void sim_node_pause(struct sim_node *n, sim_time_ns until);
/* True when the node is up and not stalled at time t. */
bool sim_node_runnable(const struct sim_node *n, sim_time_ns t);

#endif
