/* Swarm mutation of a scenario: see swarm.h. Restarts and heals are always
 * kept, so that every crash and cut can still be undone and the run can be
 * judged for liveness. */
#include "cli/swarm.h"

#include "sim/rng.h"

static uint64_t next(uint64_t *x)
{
    *x += 0x9e3779b97f4a7c15ull;
    return sim_mix64(*x);
}

static bool always_kept(enum scn_action a)
{
    return a == SCN_ACT_RESTART || a == SCN_ACT_HEAL || a == SCN_ACT_RELEASE;
}

uint32_t swarm_apply(struct scenario *s, uint64_t seed)
{
    uint64_t x = seed ^ 0x5377a2d00000001ull;
    uint32_t keep = 0;
    for (int a = 0; a < SCN_ACT_COUNT_; a++)
        if (always_kept((enum scn_action)a) || (next(&x) & 1))
            keep |= 1u << a;
    for (int i = s->event_count - 1; i >= 0; i--) {
        struct scn_event *ev = &s->events[i];
        if (!(keep & (1u << ev->action))) {
            scn_remove_event(s, i);
            continue;
        }
        /* intensity in [0.5, 2): durations and delays scale together */
        double f = 0.5 + 1.5 * (double)(next(&x) >> 11) / 9007199254740992.0;
        ev->duration_ns = (uint64_t)((double)ev->duration_ns * f);
        ev->delay_ns = (uint64_t)((double)ev->delay_ns * f);
        if (ev->factor)
            ev->factor = (uint32_t)((double)ev->factor * f) + 1;
    }
    return keep;
}
