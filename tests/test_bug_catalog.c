/* The planted-bug catalog: for every planted protocol bug (core/zab_common.h)
 * a scenario in scenarios/bug-*.scn builds the precise order of crashes and
 * deliveries that the historical ZooKeeper bug needed. Run with its bug, the
 * scenario must fail within a stated number of seeds, and with one of the
 * properties the scenario's header names; run without it, every one of those
 * seeds must pass. So each scenario shows both that the checker catches the
 * bug and that the fixed core survives the same trigger.
 *
 * Runs from the repository root (as `make test` does). A failing entry
 * prints the command that replays it with a full trace. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zab_common.h"
#include "sim/scenario.h"
#include "sim/scenario_run.h"

/* Sanitizer builds stop at the first catching seed (each run costs ~0.15 s
 * there); normal builds also check every remaining seed without the bug. */
#if defined(__SANITIZE_ADDRESS__)
#define STOP_AT_FIRST_CATCH true
#else
#define STOP_AT_FIRST_CATCH false
#endif

struct catalog_entry {
    enum zab_bug bug;
    const char *file;
    uint64_t within_seeds;     /* some seed in 1..within_seeds must catch it */
    const char *properties;    /* space-separated: the ones that may catch it */
};

static const struct catalog_entry catalog[] = {
    {ZAB_BUG_ACK_BEFORE_FSYNC, "scenarios/bug-ack-before-fsync.scn", 5, "LEADER_COMPLETE"},
    {ZAB_BUG_COMMIT_BEFORE_QUORUM, "scenarios/bug-commit-before-quorum.scn", 5, "LEADER_COMPLETE"},
    {ZAB_BUG_ACCEPT_STALE_LEADERINFO, "scenarios/bug-accept-stale-leaderinfo.scn", 5,
     "EPOCH_MONOTONIC EPOCH_ORDER"},
    {ZAB_BUG_SKIP_TRUNC, "scenarios/bug-skip-trunc.scn", 5, "STATE_DIGEST AGREEMENT LEADER_COMPLETE"},
    {ZAB_BUG_EPOCH_BEFORE_FSYNC, "scenarios/bug-epoch-before-fsync.scn", 5, "LEADER_COMPLETE"},
    {ZAB_BUG_DIFF_LOG_AFTER_ACK, "scenarios/bug-diff-log-after-ack.scn", 5, "LEADER_COMPLETE"},
    {ZAB_BUG_VOTE_ORDER_1419, "scenarios/bug-vote-order-1419.scn", 5, "LIVENESS_LEADER"},
    {ZAB_BUG_EPOCH_FILE_1653, "scenarios/bug-epoch-file-1653.scn", 5, "START_REFUSED"},
    {ZAB_BUG_SYNC_LASTPROCESSED_2355, "scenarios/bug-sync-lastprocessed-2355.scn", 5, "STATE_DIGEST"},
    {ZAB_BUG_ACK_ORDER_4685, "scenarios/bug-ack-order-4685.scn", 5, "LIVENESS_LEADER"},
};

#define N_CATALOG (sizeof catalog / sizeof catalog[0])

/* Whether `word` is one of the space-separated words in `list`. */
static bool word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        size_t k = strcspn(p, " ");
        if (k == n && k && !strncmp(p, word, n))
            return true;
        p += k;
    }
    return false;
}

static struct scenario *load(const char *path)
{
    struct scenario *s = calloc(1, sizeof *s);
    char err[512];
    assert_non_null(s);
    if (scn_parse_file(path, s, err, sizeof err) != 0) {
        print_error("%s: %s\n", path, err);
        fail();
    }
    if (srun_validate(s, err, sizeof err) != 0) {
        print_error("%s\n", err);
        fail();
    }
    return s;
}

static void run(const struct scenario *s, uint64_t seed, uint32_t bugs, struct srun_result *r)
{
    struct srun_options opt = {.seed = seed, .seed_given = true, .extra_bugs = bugs};
    int rc = srun_run(s, &opt, r);
    if (rc != 0)
        print_error("%s seed %" PRIu64 ": %s\n", s->filename, seed, r->err);
    assert_int_equal(rc, 0);
    assert_false(r->internal_error);
}

/* Runs one entry; returns the first seed that caught the bug. */
static uint64_t check_entry(const struct catalog_entry *e, struct srun_result *r)
{
    struct scenario *s = load(e->file);
    /* The bug comes from the test (--bug), never from the file: without it
     * the file is a regression scenario for the fixed core. */
    assert_int_equal(s->bug_count, 0);
    uint64_t caught = 0;
    for (uint64_t seed = 1; seed <= e->within_seeds; seed++) {
        run(s, seed, ZAB_BUG_BIT(e->bug), r);
        if (r->violated && !caught && !word_in(e->properties, r->property))
            print_message("%s seed %" PRIu64 ": caught by %s, not one of {%s}\n",
                          zab_bug_name(e->bug), seed, r->property, e->properties);
        if (!caught && r->violated && word_in(e->properties, r->property)) {
            caught = seed;
            print_message("%-26s caught at seed %" PRIu64 " by %s: %s\n", zab_bug_name(e->bug),
                          seed, r->property, r->detail);
        }
        /* Without the bug the same trigger is survived. */
        run(s, seed, 0, r);
        if (r->violated || !r->all_pass)
            print_error("%s without its bug fails at seed %" PRIu64 ": %s: %s\n"
                        "  replay: zablab replay %s --seed %" PRIu64 " --trace t.jsonl\n",
                        e->file, seed, r->property, r->detail, e->file, seed);
        assert_false(r->violated);
        assert_true(r->all_pass);
        if (caught && STOP_AT_FIRST_CATCH)
            break;
    }
    if (!caught)
        print_error("bug %s not caught by %s within %" PRIu64 " seeds (expected {%s})\n"
                    "  replay: zablab replay %s --seed 1 --bug %s --trace t.jsonl\n",
                    zab_bug_name(e->bug), e->file, e->within_seeds, e->properties, e->file,
                    zab_bug_name(e->bug));
    scn_free(s);
    free(s);
    return caught;
}

static void every_planted_bug_is_caught_by_its_scenario(void **st)
{
    (void)st;
    struct srun_result *r = malloc(sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i < N_CATALOG; i++)
        assert_true(check_entry(&catalog[i], r) > 0);
    free(r);
}

/* A new switch without a scenario, or a scenario without an entry, fails. */
static void catalog_covers_every_bug_and_file(void **st)
{
    (void)st;
    for (int b = 0; b < ZAB_BUG_COUNT; b++) {
        int n = 0;
        for (size_t i = 0; i < N_CATALOG; i++)
            n += (int)catalog[i].bug == b;
        if (n != 1)
            print_error("bug %s has %d catalog entries\n", zab_bug_name(b), n);
        assert_int_equal(n, 1);
    }
    glob_t g;
    assert_int_equal(glob("scenarios/bug-*.scn", 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, N_CATALOG);
    for (size_t k = 0; k < g.gl_pathc; k++) {
        bool listed = false;
        for (size_t i = 0; i < N_CATALOG; i++)
            listed |= !strcmp(catalog[i].file, g.gl_pathv[k]);
        if (!listed)
            print_error("%s is not in the catalog\n", g.gl_pathv[k]);
        assert_true(listed);
    }
    globfree(&g);
}

/* The scenario files name what they reproduce: the header comment mentions
 * the switch and the property the catalog expects first. */
static void scenario_headers_name_bug_and_property(void **st)
{
    (void)st;
    for (size_t i = 0; i < N_CATALOG; i++) {
        FILE *f = fopen(catalog[i].file, "r");
        assert_non_null(f);
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char first[32];
        size_t k = strcspn(catalog[i].properties, " ");
        snprintf(first, sizeof first, "%.*s", (int)k, catalog[i].properties);
        assert_int_equal(buf[0], '#');
        assert_non_null(strstr(buf, zab_bug_name(catalog[i].bug)));
        assert_non_null(strstr(buf, first));
        assert_non_null(strstr(buf, "Caught by:"));
    }
}

/* ---- scripted crash points strike where docs/scenarios.md says ---- */

/* Runs scenario text for one seed with a trace in memory; returns the trace
 * (malloc'd, NUL-terminated). */
static char *trace_of(const char *text, uint32_t bugs)
{
    struct scenario *s = calloc(1, sizeof *s);
    struct srun_result *r = malloc(sizeof *r);
    char err[512], *buf = NULL;
    size_t len = 0;
    assert_non_null(s);
    assert_non_null(r);
    if (scn_parse(text, strlen(text), "crash-point-test", s, err, sizeof err) != 0) {
        print_error("%s\n", err);
        fail();
    }
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct srun_options opt = {.seed = 1, .seed_given = true, .extra_bugs = bugs, .trace_out = f};
    assert_int_equal(srun_run(s, &opt, r), 0);
    fclose(f);
    scn_free(s);
    free(s);
    free(r);
    return buf;
}

/* The trace records of the step in which `node` hit its crash point (the
 * records just before "crash-point" with the same time and node), joined;
 * NULL if it never did. */
static char *crash_step(const char *trace, int node, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "\"node\":%d,\"kind\":\"crash-point\"", node);
    const char *hit = strstr(trace, key);
    if (!hit)
        return NULL;
    const char *line = hit;
    while (line > trace && line[-1] != '\n')
        line--;
    char prefix[96];                              /* {"t_ns":T,"node":N, */
    size_t plen = (size_t)(hit - line);
    snprintf(prefix, sizeof prefix, "%.*s", (int)plen, line);
    out[0] = '\0';
    for (const char *l = line; l > trace;) {
        const char *prev = l - 1;                 /* the '\n' ending the previous record */
        while (prev > trace && prev[-1] != '\n')
            prev--;
        if (strncmp(prev, prefix, plen) != 0)
            break;
        strncat(out, prev, (size_t)(l - prev) < cap - strlen(out) - 1 ? (size_t)(l - prev)
                                                                     : cap - strlen(out) - 1);
        l = prev;
    }
    return out;
}

#define SCN_BASE "cluster voters 3\ntick 50ms\nrun 3s\nclients 1\nrate 20/s\n"

/* after-epoch-quorum is the currentEpoch write after a quorum of ACKEPOCHs,
 * not the acceptedEpoch write when the epoch is chosen. */
static void crash_point_epoch_quorum_follows_ackepochs(void **st)
{
    (void)st;
    char step[4096];
    char *t = trace_of(SCN_BASE "crash 3 at after-epoch-quorum once\n", 0);
    assert_non_null(crash_step(t, 3, step, sizeof step));
    assert_non_null(strstr(step, "\"msg\":\"ACKEPOCH\""));
    assert_null(strstr(step, "FOLLOWERINFO"));
    free(t);
}

/* after-accepted-epoch-persisted is a follower's point: the leader also
 * persists acceptedEpoch, and must not crash there. */
static void crash_point_accepted_epoch_is_a_followers(void **st)
{
    (void)st;
    char step[4096];
    char *t = trace_of(SCN_BASE "crash 3 at after-accepted-epoch-persisted once\n", 0);
    assert_null(crash_step(t, 3, step, sizeof step));   /* 3 leads epoch 1 */
    free(t);
    t = trace_of(SCN_BASE "crash 1 at after-accepted-epoch-persisted once\n", 0);
    assert_non_null(crash_step(t, 1, step, sizeof step));
    assert_non_null(strstr(step, "EPOCH_ACCEPTED"));
    free(t);
}

/* after-newleader-ack-sent strikes on the NEWLEADER ACK itself, also where
 * BUG_EPOCH_BEFORE_FSYNC sends it after an fsync instead of the epoch write. */
static void crash_point_newleader_ack_by_the_ack(void **st)
{
    (void)st;
    char step[4096];
    uint32_t bugs[2] = {0, ZAB_BUG_BIT(ZAB_BUG_EPOCH_BEFORE_FSYNC)};
    for (int i = 0; i < 2; i++) {
        char *t = trace_of(SCN_BASE "crash 1 at after-newleader-ack-sent once\n", bugs[i]);
        assert_non_null(crash_step(t, 1, step, sizeof step));
        assert_non_null(strstr(step, "\"msg\":\"ACK\""));
        free(t);
    }
}

/* after-proposal-sent is a new proposal, not the PROPOSALs of a sync stream
 * to a rejoining follower. */
static void crash_point_proposal_sent_is_a_new_proposal(void **st)
{
    (void)st;
    char step[4096];
    char *t = trace_of(SCN_BASE "at 0.5s crash 1\nat 1s restart 1\n"
                                "at 1s crash 3 at after-proposal-sent once\n", 0);
    assert_non_null(crash_step(t, 3, step, sizeof step));
    assert_non_null(strstr(step, "PROPOSED"));
    assert_null(strstr(step, "SYNC_SENT"));
    free(t);
}

/* ---- regression: a real core bug found by scripted-fault fuzzing ----
 * Server 1's disk is 100x slow while it hops between would-be leaders: it
 * issued acceptedEpoch writes 2 and 3 (both still queued), then compared a
 * LEADERINFO(2) with its durable acceptedEpoch (1) and issued a write of 2
 * again. The writes completed in order 2, 3, 2: acceptedEpoch went back.
 * Fixed by comparing with the promised (durable or in-flight) value. */
static void slow_epoch_writes_never_move_accepted_epoch_back(void **st)
{
    (void)st;
    static const char text[] =
        "cluster voters 3\ntick 50ms\nrun 9s\n"
        "disk torn-write-probability 0.3\nclients 1\nrate 150/s\n"
        "at 1.111s pause 1 for 400ms\n"
        "at 1.502s crash 3 at after-accepted-epoch-persisted count 1\n"
        "at 2.172s release ANY all -> all\n"
        "at 2.774s hold PROPOSAL 1 -> 3\n"
        "at 3.546s crash 3 at after-proposal-received count 1\n"
        "at 3.897s slow-disk 1 x100 for 200ms\n"
        "at 4.508s partition {3}\n"
        "at 4.949s torn-write 3\n"
        "at 6.2s release ANY all -> all\nat 6.2s heal\nat 6.3s restart all\n"
        "expect safety\n";
    struct scenario *s = calloc(1, sizeof *s);
    struct srun_result *r = malloc(sizeof *r);
    char err[512];
    assert_non_null(s);
    assert_non_null(r);
    assert_int_equal(scn_parse(text, strlen(text), "slow-epoch", s, err, sizeof err), 0);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        run(s, seed, 0, r);
        if (r->violated)
            print_error("seed %" PRIu64 ": %s: %s\n", seed, r->property, r->detail);
        assert_false(r->violated);
    }
    scn_free(s);
    free(s);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_epoch_writes_never_move_accepted_epoch_back),
        cmocka_unit_test(crash_point_epoch_quorum_follows_ackepochs),
        cmocka_unit_test(crash_point_accepted_epoch_is_a_followers),
        cmocka_unit_test(crash_point_newleader_ack_by_the_ack),
        cmocka_unit_test(crash_point_proposal_sent_is_a_new_proposal),
        cmocka_unit_test(catalog_covers_every_bug_and_file),
        cmocka_unit_test(scenario_headers_name_bug_and_property),
        cmocka_unit_test(every_planted_bug_is_caught_by_its_scenario),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
