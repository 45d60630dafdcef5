/* Latency distributions for simulated messages and disk operations.
 *
 * Owns: the description of one distribution (plain data, copyable) and its
 * textual spec. Each sample is drawn from the sim_rng stream the caller
 * passes, so which stream pays for a draw is the caller's decision.
 * Must never: keep a generator of its own, read a clock, or return a
 * negative or unbounded delay (every sample is clamped to
 * [0, NET_LATENCY_MAX_NS]).
 *
 * Spec grammar (whitespace-separated; durations need a unit ns|us|ms|s):
 *   constant D                 always D
 *   uniform LO HI              uniform on [LO, HI], LO <= HI
 *   normal MEAN SD             normal, truncated at 0 by redrawing; MEAN >= 0
 *   lognormal MU SIGMA         exp(N(MU, SIGMA)) milliseconds; MU, SIGMA are
 *                              plain numbers (natural log of milliseconds)
 *   lognormal MEDIAN SIGMA     the same with MU = ln(MEDIAN) when the first
 *                              parameter carries a unit, e.g. "lognormal 2ms 0.5"
 *   pareto SCALE SHAPE         Pareto type I: SCALE (a duration) is the minimum,
 *                              SHAPE > 0 the tail index (mean finite if > 1) */
#ifndef ZABLAB_NET_LATENCY_H
#define ZABLAB_NET_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"
#include "sim/sched.h"

/* One hour: a cap so that a heavy-tailed draw can never overflow time. */
#define NET_LATENCY_MAX_NS (3600ull * SIM_NS_PER_S)
/* Redraws of a truncated normal before giving up and returning 0. With
 * MEAN >= 0 each draw is accepted with probability >= 1/2. */
#define NET_LATENCY_REDRAWS_MAX 64

enum net_latency_kind {
    NET_LAT_CONSTANT,
    NET_LAT_UNIFORM,
    NET_LAT_NORMAL,
    NET_LAT_LOGNORMAL,
    NET_LAT_PARETO,
};

/* Parameters in nanoseconds (as doubles), except lognormal's mu/sigma,
 * which are the parameters of ln(latency in ms), and pareto's shape. */
struct net_latency {
    enum net_latency_kind kind;
    double p1; /* constant: d_ns; uniform: lo_ns; normal: mean_ns; lognormal: mu; pareto: scale_ns */
    double p2; /* uniform: hi_ns; normal: sd_ns; lognormal: sigma; pareto: shape */
};

struct net_latency net_latency_constant(sim_time_ns d_ns);

/* Draws one latency in ns from `rng`. Constant draws consume nothing. */
sim_time_ns net_latency_sample(const struct net_latency *lat, struct sim_rng *rng);

/* Parses `spec` into *out. Returns 0, or -1 with a message in err and, in
 * *err_col, the 0-based column in `spec` where the problem starts, so the
 * caller can report file:line:col. *out is untouched on error. */
int net_latency_parse(struct net_latency *out, const char *spec, char *err, size_t err_cap,
                      size_t *err_col);

/* Theoretical mean and variance (ns, ns^2) of the untruncated, unclamped
 * distribution; INFINITY where it does not exist (heavy Pareto tails). For
 * a normal, the mean and variance of the version truncated at 0. */
double net_latency_mean_ns(const struct net_latency *lat);
double net_latency_variance_ns2(const struct net_latency *lat);

/* Writes a spec that parses back to the same distribution. */
void net_latency_format(const struct net_latency *lat, char *buf, size_t cap);

/* Parses one duration token such as "250us" into ns. Returns 0 or -1. */
int net_duration_parse(const char *tok, size_t len, double *ns_out);

#endif
