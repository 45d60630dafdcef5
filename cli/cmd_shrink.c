/* `zablab shrink FILE --seed N -o min.scn`: minimises a failing run to a
 * small reproducer. Every candidate is a whole scenario run with the same
 * seed; a candidate is kept only if it fails with the same property. Steps,
 * each repeated until nothing more goes: cut the run just after the
 * violation, drop timeline events (halves, then one by one), lower the
 * workload rate, drop clients. The result names the seed and the bugs, so
 * `zablab run min.scn` fails by itself. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_common.h"
#include "core/zab_common.h"

struct shrink {
    uint64_t seed;
    uint32_t bugs;
    char property[24];
    uint64_t runs;
    struct srun_result r;
};

/* True when `s` still fails with the property being chased. */
static bool still_fails(struct shrink *k, const struct scenario *s)
{
    char err[256];
    if (scn_check(s, err, sizeof err) != 0) /* e.g. `after heal` with no heal left */
        return false;
    struct srun_options opt = {.seed = k->seed, .seed_given = true, .extra_bugs = k->bugs};
    k->runs++;
    if (srun_run(s, &opt, &k->r) != 0)
        return false;
    return k->r.violated && !strcmp(k->r.property, k->property);
}

static bool cut_run(struct shrink *k, struct scenario *s)
{
    if (!still_fails(k, s))
        return false;
    /* the next whole millisecond at least 1ms past the violation */
    uint64_t t = (k->r.violation_t_ns / 1000000 + 2) * 1000000;
    if (t >= s->run_ns)
        return false;
    struct scenario c = *s;
    c.run_ns = t;
    for (int i = c.event_count - 1; i >= 0; i--)
        if (c.events[i].at_ns > t)
            scn_remove_event(&c, i);
    if (!still_fails(k, &c))
        return false;
    *s = c;
    return true;
}

/* Removes runs of `chunk` events while the failure persists. */
static bool drop_events(struct shrink *k, struct scenario *s, int chunk)
{
    bool any = false;
    for (int i = 0; i + chunk <= s->event_count;) {
        struct scenario c = *s;
        for (int j = 0; j < chunk; j++)
            scn_remove_event(&c, i);
        if (still_fails(k, &c)) {
            *s = c;
            any = true;
        } else {
            i += chunk;
        }
    }
    return any;
}

static bool lower_load(struct shrink *k, struct scenario *s)
{
    bool any = false;
    while (s->rate_per_s > 1) {
        struct scenario c = *s;
        c.rate_per_s /= 2;
        if (!still_fails(k, &c))
            break;
        *s = c;
        any = true;
    }
    while (s->clients > 1) {
        struct scenario c = *s;
        c.clients--;
        if (!still_fails(k, &c))
            break;
        *s = c;
        any = true;
    }
    return any;
}

/* Expectations other than the one that failed only pin events in place
 * (`after heal` needs a heal): drop them one by one. */
static void drop_expectations(struct shrink *k, struct scenario *s)
{
    for (int i = s->expect_count - 1; i >= 0; i--) {
        enum scn_expect_kind kind = s->expects[i].kind;
        if (kind == SCN_EXPECT_SAFETY || kind == SCN_EXPECT_PROGRESS_WITHIN)
            continue;
        struct scenario c = *s;
        memmove(&c.expects[i], &c.expects[i + 1], (size_t)(c.expect_count - i - 1) * sizeof c.expects[0]);
        c.expect_count--;
        if (still_fails(k, &c))
            *s = c;
    }
}

static void minimise(struct shrink *k, struct scenario *s)
{
    bool progress = true;
    drop_expectations(k, s);
    while (progress) {
        progress = cut_run(k, s);
        for (int chunk = s->event_count / 2; chunk >= 1; chunk /= 2)
            progress |= drop_events(k, s, chunk);
        progress |= lower_load(k, s);
    }
}

static void bake_in(struct scenario *s, uint64_t seed, uint32_t bugs)
{
    s->seed = seed;
    for (int b = 0; b < ZAB_BUG_COUNT && s->bug_count < SCN_MAX_BUGS; b++) {
        if (!(bugs & ZAB_BUG_BIT(b)))
            continue;
        bool present = false;
        for (int i = 0; i < s->bug_count; i++)
            present |= zab_bug_lookup(s->bugs[i]) == b;
        if (present)
            continue;
        /* the scenario spelling: lower case with dashes */
        char *dst = s->bugs[s->bug_count++];
        const char *src = zab_bug_name(b);
        size_t i = 0;
        for (; src[i] && i + 1 < SCN_NAME_MAX; i++)
            dst[i] = src[i] == '_' ? '-' : (char)tolower((unsigned char)src[i]);
        dst[i] = '\0';
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: zablab shrink FILE --seed N -o MIN.scn [--bug NAME]...\n"
                 "Minimises a failing run (fewer faults, less load, shorter run) while the same\n"
                 "property still fails, and writes a scenario that fails by itself.\n"
                 "exit: 0 written, 1 the run does not fail (nothing to shrink), 2 bad usage or\n"
                 "input, 3 internal error.\n");
}

int cmd_shrink(int argc, char **argv)
{
    const char *file = NULL, *outp = NULL;
    static struct shrink k;
    bool seed_given = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 0;
        }
        if (arg[0] != '-' && !file) {
            file = arg;
        } else if (val && !strcmp(arg, "--seed")) {
            if (rc_parse_seed("--seed", val, &k.seed) != 0)
                return 2;
            seed_given = true;
            i++;
        } else if (val && !strcmp(arg, "-o")) {
            outp = val;
            i++;
        } else if (val && !strcmp(arg, "--bug")) {
            if (rc_bug_bits(val, &k.bugs) != 0)
                return 2;
            i++;
        } else {
            fprintf(stderr, "zablab: unexpected argument '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    if (!file || !outp || !seed_given) {
        usage(stderr);
        return 2;
    }
    static struct scenario s;
    if (rc_load(file, &s) != 0)
        return 2;
    struct srun_options opt = {.seed = k.seed, .seed_given = true, .extra_bugs = k.bugs};
    if (srun_run(&s, &opt, &k.r) != 0) {
        fprintf(stderr, "zablab: %s\n", k.r.err);
        return 3;
    }
    if (!k.r.violated) {
        fprintf(stderr, "zablab: %s with seed %" PRIu64 " does not fail; nothing to shrink\n", file, k.seed);
        return 1;
    }
    snprintf(k.property, sizeof k.property, "%s", k.r.property);
    int events0 = s.event_count;
    uint64_t run0 = s.run_ns;
    minimise(&k, &s);
    bake_in(&s, k.seed, k.bugs);
    FILE *f = fopen(outp, "w");
    if (!f) {
        fprintf(stderr, "zablab: cannot write %s: %s\n", outp, strerror(errno));
        return 2;
    }
    fprintf(f, "# Shrunk by `zablab shrink %s --seed %" PRIu64 "`: fails with %s.\n", file, k.seed,
            k.property);
    scn_print(&s, f);
    fclose(f);
    printf("shrunk %s: %d -> %d timeline events, run %.3fs -> %.3fs, %" PRIu64 " candidate runs\n",
           file, events0, s.event_count, (double)run0 / 1e9, (double)s.run_ns / 1e9, k.runs);
    printf("still fails with %s; wrote %s (zablab run %s)\n", k.property, outp, outp);
    return 0;
}
