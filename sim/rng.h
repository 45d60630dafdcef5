/* Random streams for one simulated run. One master seed; each concern
 * (network, faults, workload, disk, each node, each client) draws from its
 * own GSL generator whose seed is derived from (master seed, concern name,
 * index). Adding a client therefore never changes the network's draws.
 *
 * Owns: the gsl_rng of each stream. Must never: use rand(), the wall clock,
 * or any state shared between streams. */
#ifndef ZABLAB_SIM_RNG_H
#define ZABLAB_SIM_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

struct sim_rng {
    gsl_rng *g;
    uint64_t seed; /* the derived seed, for traces and replay */
};

/* The 64-bit seed of stream (concern, index) under `master`. Pure. */
uint64_t sim_rng_derive(uint64_t master, const char *concern, uint32_t index);

/* Creates the stream; returns 0 or -1 on allocation failure. */
int sim_rng_open(struct sim_rng *r, uint64_t master, const char *concern, uint32_t index);
void sim_rng_close(struct sim_rng *r);

/* Uniform in [0, 1). */
double sim_rng_uniform(struct sim_rng *r);
/* Uniform integer in [0, n), n > 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* True with probability p. */
int sim_rng_chance(struct sim_rng *r, double p);

/* splitmix64 finaliser, exposed for hashing small keys deterministically. */
uint64_t sim_mix64(uint64_t x);

#endif
