/* Node lifecycle and local clock. Integer arithmetic only, so the clock
 * reading is the same on every machine. */
#include "sim/node.h"

#include <assert.h>

void sim_node_init(struct sim_node *n, int id)
{
    *n = (struct sim_node){.id = id, .up = true};
}

static uint64_t raw_local(const struct sim_node *n, sim_time_ns t)
{
    assert(t >= n->base_global);
    uint64_t d = t - n->base_global;
    int64_t extra = (int64_t)((__int128)d * n->drift_ppm / 1000000);
    return n->base_local + d + (uint64_t)extra;
}

uint64_t sim_node_local_ns(struct sim_node *n, sim_time_ns t)
{
    uint64_t l = raw_local(n, t);
    if (l < n->last_local)
        l = n->last_local;
    n->last_local = l;
    return l;
}

sim_time_ns sim_node_global_at(const struct sim_node *n, sim_time_ns now, uint64_t local)
{
    /* The reading is max(raw, last_local): already there if either is. */
    if (local <= n->last_local || raw_local(n, now) >= local)
        return now;
    /* Invert the linear clock, then correct the rounding so that a timer
     * fires neither early nor late. */
    __int128 num = (__int128)(local - n->base_local) * 1000000;
    sim_time_ns t = n->base_global + (sim_time_ns)(num / (1000000 + n->drift_ppm));
    if (t < now)
        t = now;
    /* Integer division rounds toward zero, which for a negative drift can
     * land one past the first time the clock reaches `local`: step back
     * first, then forward, so the answer is exactly the earliest time. */
    while (t > now && raw_local(n, t - 1) >= local)
        t--;
    while (raw_local(n, t) < local)
        t++;
    return t;
}

static void rebase(struct sim_node *n, sim_time_ns t)
{
    n->base_local = raw_local(n, t);
    n->base_global = t;
}

void sim_node_skew(struct sim_node *n, sim_time_ns t, int64_t delta_ns)
{
    rebase(n, t);
    /* A step below zero would wrap the unsigned reading to ~2^64; a clock
     * cannot read before its zero, so it is clamped there. */
    if (delta_ns < 0 && (uint64_t)(-(delta_ns + 1)) >= n->base_local)
        n->base_local = 0;
    else
        n->base_local = (uint64_t)((int64_t)n->base_local + delta_ns);
}

void sim_node_set_drift(struct sim_node *n, sim_time_ns t, int64_t drift_ppm)
{
    assert(drift_ppm > -1000000);
    rebase(n, t);
    n->drift_ppm = drift_ppm;
}

void sim_node_crash(struct sim_node *n)
{
    n->up = false;
    n->incarnation++;
    n->paused_until = 0;
}

void sim_node_restart(struct sim_node *n)
{
    n->up = true;
}

void sim_node_pause(struct sim_node *n, sim_time_ns until)
{
    if (until > n->paused_until)
        n->paused_until = until;
}

bool sim_node_runnable(const struct sim_node *n, sim_time_ns t)
{
    return n->up && t >= n->paused_until;
}
