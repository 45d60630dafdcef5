/* Stream derivation by splitmix64 over (master, FNV-1a of the concern name,
 * index); generators are GSL's MT19937 seeded with the derived value. */
#include "sim/rng.h"

#include <assert.h>

uint64_t sim_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

uint64_t sim_rng_derive(uint64_t master, const char *concern, uint32_t index)
{
    return sim_mix64(sim_mix64(master) ^ sim_mix64(fnv1a(concern) + index));
}

int sim_rng_open(struct sim_rng *r, uint64_t master, const char *concern, uint32_t index)
{
    r->seed = sim_rng_derive(master, concern, index);
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g)
        return -1;
    /* MT19937 takes an unsigned long seed; fold to 32 bits so the stream is
     * the same where unsigned long is 32 bits wide. */
    gsl_rng_set(r->g, (unsigned long)((r->seed ^ (r->seed >> 32)) & 0xffffffffu));
    return 0;
}

void sim_rng_close(struct sim_rng *r)
{
    if (r->g)
        gsl_rng_free(r->g);
    r->g = NULL;
}

double sim_rng_uniform(struct sim_rng *r)
{
    return gsl_rng_uniform(r->g);
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    assert(n > 0);
    if (n <= 0xffffffffull)
        return gsl_rng_uniform_int(r->g, (unsigned long)n);
    uint64_t hi = gsl_rng_get(r->g), lo = gsl_rng_get(r->g);
    return ((hi << 32) | lo) % n;
}

int sim_rng_chance(struct sim_rng *r, double p)
{
    if (p <= 0.0)
        return 0;
    if (p >= 1.0)
        return 1;
    return gsl_rng_uniform(r->g) < p;
}
