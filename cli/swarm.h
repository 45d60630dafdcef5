/* Swarm testing for `zablab explore --swarm`: per seed, a different subset
 * of the scenario's fault kinds is switched on and each kept fault's
 * intensity (duration, delay, factor) is scaled, so that many seeds cover
 * many fault mixes instead of one. Pure function of (scenario, seed). */
#ifndef ZABLAB_CLI_SWARM_H
#define ZABLAB_CLI_SWARM_H

#include <stdint.h>

#include "sim/scenario.h"

/* Rewrites *s in place for this seed; returns the mask of actions kept
 * (bit = enum scn_action). */
uint32_t swarm_apply(struct scenario *s, uint64_t seed);

#endif
