/* `zablab runs`: lists the runs recorded in a results database, merges
 * shard databases into one, compares two databases for regressions, and
 * writes the summary page over many seeds (--report DIR,
 * reports/runs_report.h).
 *
 * Owns: option parsing and output formatting (text or JSON) only; every
 * query lives in reports/results_db. Exit codes: 0 ok, 1 the comparison
 * found new failures, 2 bad usage or input (missing file, not a zablab
 * database), 3 internal error. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "reports/results_db.h"
#include "reports/runs_report.h"

enum { RUNS_OK = 0, RUNS_REGRESSED = 1, RUNS_USAGE = 2, RUNS_INTERNAL = 3 };

struct runs_opts {
    const char *db_path;
    const char *scenario;
    const char *compare_path;
    const char *report_dir;
    bool failed_only;
    bool json;
    size_t limit;
    const char **merge_paths; /* points into argv */
    int n_merge;
};

static void runs_usage(FILE *out)
{
    fprintf(out,
            "usage: zablab runs --db FILE [--scenario NAME] [--failed] [--limit N]\n"
            "                   [--compare OLD.db] [--merge SHARD.db...] [--format text|json]\n"
            "                   [--report DIR [--limit N]]\n"
            "\n"
            "Lists the runs recorded in a results database (default), merges shard\n"
            "databases into it (--merge; FILE is created if missing), or compares it\n"
            "with an older database (--compare): new failures, fixed runs and the\n"
            "change of each metric's median per scenario. With --report, writes\n"
            "DIR/index.html: pass/fail per scenario, failure kinds, the failing runs\n"
            "with their replay commands, and metric distributions across seeds.\n"
            "\n"
            "  --db FILE         the results database (required)\n"
            "  --scenario NAME   list only runs of this scenario\n"
            "  --failed          list only runs that failed or errored\n"
            "  --limit N         list at most N runs\n"
            "  --compare OLD.db  regression report of FILE against OLD.db\n"
            "  --merge SHARD...  copy every run of each shard into FILE (idempotent)\n"
            "  --format FMT      text (default) or json\n"
            "  --report DIR      write the summary page DIR/index.html; --limit N then\n"
            "                    lists at most N failing runs per scenario (default 20)\n"
            "\n"
            "exit: 0 ok, 1 --compare found new failures, 2 bad usage or input,\n"
            "      3 internal error\n");
}

/* Accepts "--name VALUE" and "--name=VALUE"; advances *i past the value. */
static const char *runs_optval(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0)
        return NULL;
    if (argv[*i][len] == '=')
        return argv[*i] + len + 1;
    if (argv[*i][len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "zablab runs: %s needs a value\n", name);
        return "";
    }
    return argv[++*i];
}

static int runs_parse_limit(const char *s, size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v == 0) {
        fprintf(stderr, "zablab runs: --limit needs a positive integer, got '%s'\n", s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Options that take a value; 1 if argv[*i] was one, -1 on a bad value. */
static int runs_parse_valued(int argc, char **argv, int *i, struct runs_opts *o)
{
    const char *v;
    if ((v = runs_optval(argc, argv, i, "--db")))
        o->db_path = v;
    else if ((v = runs_optval(argc, argv, i, "--scenario")))
        o->scenario = v;
    else if ((v = runs_optval(argc, argv, i, "--compare")))
        o->compare_path = v;
    else if ((v = runs_optval(argc, argv, i, "--report")))
        o->report_dir = v;
    else if ((v = runs_optval(argc, argv, i, "--limit"))) {
        if (!*v || runs_parse_limit(v, &o->limit) != 0)
            return -1;
    } else if ((v = runs_optval(argc, argv, i, "--format"))) {
        if (strcmp(v, "json") && strcmp(v, "text")) {
            fprintf(stderr, "zablab runs: --format is text or json, got '%s'\n", v);
            return -1;
        }
        o->json = !strcmp(v, "json");
    } else
        return 0;
    return *v ? 1 : -1;
}

/* Returns 0 to run, 1 if --help was asked, -1 on bad usage. */
static int runs_parse(int argc, char **argv, struct runs_opts *o)
{
    for (int i = 1; i < argc; i++) {
        int rc = runs_parse_valued(argc, argv, &i, o);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
        if (!strcmp(argv[i], "--failed")) {
            o->failed_only = true;
        } else if (!strncmp(argv[i], "--merge=", 8) && argv[i][8]) {
            o->merge_paths[o->n_merge++] = argv[i] + 8;
        } else if (!strcmp(argv[i], "--merge")) {
            /* Every following argument up to the next option is a shard. */
            int before = o->n_merge;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                o->merge_paths[o->n_merge++] = argv[++i];
            if (o->n_merge == before) {
                fprintf(stderr, "zablab runs: --merge needs at least one shard file\n");
                return -1;
            }
        } else {
            fprintf(stderr, "zablab runs: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!o->db_path) {
        fprintf(stderr, "zablab runs: --db FILE is required\n");
        return -1;
    }
    /* Filters shape the listing only; silently ignoring them elsewhere would
     * let a user believe a comparison was restricted when it was not. */
    if ((o->n_merge || o->compare_path) && (o->scenario || o->failed_only || o->limit)) {
        fprintf(stderr, "zablab runs: --scenario, --failed and --limit apply to listing only\n");
        return -1;
    }
    if (o->report_dir && (o->compare_path || o->scenario || o->failed_only || o->json)) {
        fprintf(stderr, "zablab runs: --report covers the whole database; it does not combine with "
                        "--compare, --scenario, --failed or --format\n");
        return -1;
    }
    return 0;
}

/* ---- JSON helpers ------------------------------------------------------ */

/* Text from the database as a JSON string. JSON needs UTF-8: invalid bytes
 * (a scenario name is whatever the user typed) become '?' rather than
 * making the whole document fail. */
static json_t *runs_json_str(const char *text)
{
    json_t *j = json_string(text ? text : "");
    if (j)
        return j;
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
            *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Seeds are unsigned 64-bit: a JSON integer when it fits int64, else a string. */
static json_t *runs_json_seed(uint64_t seed)
{
    if (seed <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)seed);
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, seed);
    return json_string(buf);
}

static json_t *runs_json_hex(uint64_t v)
{
    char buf[17];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return json_string(buf);
}

/* Infinity and NaN have no JSON form: null. */
static json_t *runs_json_real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Prints one element of a streamed JSON array; returns -1 on failure. */
static int runs_json_emit(json_t *obj, bool *first)
{
    if (!obj)
        return -1;
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!s)
        return -1;
    printf("%s%s", *first ? "\n" : ",\n", s);
    *first = false;
    free(s);
    return 0;
}

static json_t *runs_json_violations(const struct rdb_run *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n_violations; i++) {
        const struct rdb_violation *v = &r->violations[i];
        json_array_append_new(arr, json_pack("{s:o, s:I, s:o, s:o}", "property",
                                             runs_json_str(v->property), "sim_time_ns",
                                             (json_int_t)v->sim_time_ns, "nodes",
                                             runs_json_str(v->nodes), "details",
                                             runs_json_str(v->details)));
    }
    return arr;
}

/* ---- listing ----------------------------------------------------------- */

struct runs_list_ctx {
    struct rdb *db;
    const struct runs_opts *o;
    bool first;
    int64_t shown;
};

static json_t *runs_json_run(const struct rdb_run *r, const struct rdb_run *full)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "scenario", runs_json_str(r->scenario));
    json_object_set_new(o, "scenario_hash", runs_json_hex(r->scenario_hash));
    json_object_set_new(o, "seed", runs_json_seed(r->seed));
    json_object_set_new(o, "verdict", json_string(rdb_verdict_name(r->verdict)));
    json_object_set_new(o, "version", runs_json_str(r->version));
    json_object_set_new(o, "bugs", runs_json_str(r->bugs));
    json_object_set_new(o, "trace_hash", runs_json_hex(r->trace_hash));
    json_object_set_new(o, "started_at", runs_json_str(r->started_at));
    json_object_set_new(o, "replay", runs_json_str(r->replay));
    const char *names[9] = {"duration_ms", "simulated_ms", "events", "elections", "max_epoch",
                            "commits", "ops_ok", "ops_fail", "ops_info"};
    const int64_t vals[9] = {r->duration_ms, r->simulated_ms, r->events, r->elections,
                             r->max_epoch, r->commits, r->ops_ok, r->ops_fail, r->ops_info};
    for (int i = 0; i < 9; i++)
        json_object_set_new(o, names[i], json_integer(vals[i]));
    json_object_set_new(o, "n_violations", json_integer((json_int_t)r->n_violations));
    json_object_set_new(o, "n_faults", json_integer((json_int_t)r->n_faults));
    if (full)
        json_object_set_new(o, "violations", runs_json_violations(full));
    return o;
}

static void runs_text_run(const struct rdb_run *r, const struct rdb_run *full)
{
    printf("%6" PRId64 "  %-24s %20" PRIu64 "  %-5s %4zu %10" PRId64 " %10" PRId64
           "  %016" PRIx64 "  %s\n",
           r->id, r->scenario, r->seed, rdb_verdict_name(r->verdict), r->n_violations,
           r->simulated_ms, r->events, r->trace_hash, r->started_at);
    if (!full)
        return;
    if (full->n_violations) {
        const struct rdb_violation *v = &full->violations[0];
        printf("        violated: %s at %" PRId64 " ns (nodes %s) %s\n", v->property,
               v->sim_time_ns, *v->nodes ? v->nodes : "-", v->details);
    }
    if (*full->replay)
        printf("        replay:   %s\n", full->replay);
}

/* Failing runs are shown with their violations and replay command. */
static int runs_list_one(const struct rdb_run *r, void *ctxp)
{
    struct runs_list_ctx *ctx = ctxp;
    struct rdb_run *full = NULL;
    if (r->verdict != RDB_VERDICT_PASS && rdb_load_run(ctx->db, r->id, &full) != 0)
        return -1;
    int rc = 0;
    if (ctx->o->json && (rc = runs_json_emit(runs_json_run(r, full), &ctx->first)) != 0)
        fprintf(stderr, "zablab runs: cannot encode run %" PRId64 " as JSON\n", r->id);
    else if (!ctx->o->json)
        runs_text_run(r, full);
    rdb_run_free(full);
    ctx->shown++;
    return rc;
}

static int runs_summary_one(const struct rdb_scenario_summary *s, void *ctxp)
{
    struct runs_list_ctx *ctx = ctxp;
    if (!ctx->o->json) {
        printf("%-24s %8" PRId64 " %8" PRId64 " %8" PRId64 " %8" PRId64 " %8" PRId64 "\n",
               s->scenario, s->runs, s->pass, s->fail, s->error, s->seeds);
        return 0;
    }
    return runs_json_emit(json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "scenario",
                                    runs_json_str(s->scenario),
                                    "runs", (json_int_t)s->runs, "pass", (json_int_t)s->pass,
                                    "fail", (json_int_t)s->fail, "error", (json_int_t)s->error,
                                    "seeds", (json_int_t)s->seeds),
                          &ctx->first);
}

static int runs_list(struct rdb *db, const struct runs_opts *o)
{
    struct runs_list_ctx ctx = {.db = db, .o = o, .first = true};
    struct rdb_filter f = {.scenario = o->scenario, .failed_only = o->failed_only,
                           .limit = o->limit};
    if (o->json)
        printf("{\"runs\":[");
    else
        printf("%6s  %-24s %20s  %-5s %4s %10s %10s  %-16s  %s\n", "ID", "SCENARIO", "SEED",
               "VERDICT", "VIOL", "SIM_MS", "EVENTS", "TRACE_HASH", "STARTED_AT");
    if (rdb_list(db, &f, runs_list_one, &ctx) != 0)
        return -1;
    ctx.first = true;
    if (o->json)
        printf("],\n\"scenarios\":[");
    else
        printf("\n%-24s %8s %8s %8s %8s %8s\n", "SCENARIO", "RUNS", "PASS", "FAIL", "ERROR",
               "SEEDS");
    if (rdb_summarize(db, &f, runs_summary_one, &ctx) != 0)
        return -1;
    if (o->json)
        printf("]}\n");
    else if (ctx.shown == 0)
        printf("(no runs)\n");
    return 0;
}

/* ---- merging ----------------------------------------------------------- */

static int runs_merge(struct rdb *db, const struct runs_opts *o)
{
    json_t *arr = o->json ? json_array() : NULL;
    int status = RUNS_OK;
    for (int i = 0; i < o->n_merge && status == RUNS_OK; i++) {
        struct rdb_merge_stats st;
        int rc = rdb_merge(db, o->merge_paths[i], &st);
        if (rc != 0) {
            fprintf(stderr, "zablab runs: %s\n", rdb_errmsg(db));
            status = rc == RDB_MERGE_BAD_SHARD ? RUNS_USAGE : RUNS_INTERNAL;
        } else if (arr)
            json_array_append_new(arr, json_pack("{s:o, s:I, s:I}", "shard",
                                                 runs_json_str(o->merge_paths[i]),
                                                 "added", (json_int_t)st.runs_added,
                                                 "present", (json_int_t)st.runs_present));
        else
            printf("merged %s: %" PRId64 " runs added, %" PRId64 " already present\n",
                   o->merge_paths[i], st.runs_added, st.runs_present);
    }
    if (arr && status == RUNS_OK) {
        json_t *doc = json_pack("{s:o, s:I}", "merged", arr, "total_runs",
                                (json_int_t)rdb_count_runs(db));
        json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        printf("\n");
        json_decref(doc);
    } else if (arr)
        json_decref(arr);
    else if (status == RUNS_OK)
        printf("%s now holds %" PRId64 " runs\n", o->db_path, rdb_count_runs(db));
    return status;
}

/* ---- comparing --------------------------------------------------------- */

static void runs_text_change(struct rdb *cur, const struct rdb_change *c)
{
    printf("  %-24s seed %-20" PRIu64 " %s -> %s\n", c->scenario, c->seed,
           rdb_verdict_name(c->old_verdict), rdb_verdict_name(c->new_verdict));
    struct rdb_run *full = NULL;
    if (c->new_verdict == RDB_VERDICT_PASS || rdb_load_run(cur, c->new_run_id, &full) != 0)
        return;
    if (full->n_violations)
        printf("      violated: %s (%s)\n", full->violations[0].property,
               full->violations[0].details);
    if (*full->replay)
        printf("      replay:   %s\n", full->replay);
    rdb_run_free(full);
}

static void runs_text_compare(struct rdb *cur, const struct rdb_compare_report *r)
{
    printf("new failures: %zu\n", r->n_new_failures);
    for (size_t i = 0; i < r->n_new_failures; i++)
        runs_text_change(cur, &r->new_failures[i]);
    printf("fixed: %zu\n", r->n_fixed);
    for (size_t i = 0; i < r->n_fixed; i++)
        runs_text_change(cur, &r->fixed[i]);
    printf("still failing: %zu\n", r->still_failing);
    printf("(scenario, seed) pairs: %zu old, %zu new, %zu in both\n", r->pairs_old, r->pairs_new,
           r->pairs_common);
    size_t changed = 0;
    for (size_t i = 0; i < r->n_metrics; i++)
        changed += r->metrics[i].rel_change != 0.0;
    printf("\nmetric medians that changed: %zu of %zu\n", changed, r->n_metrics);
    if (changed)
        printf("  %-24s %-28s %14s %14s %9s\n", "SCENARIO", "METRIC", "OLD", "NEW", "CHANGE");
    for (size_t i = 0; i < r->n_metrics; i++) {
        const struct rdb_metric_change *m = &r->metrics[i];
        if (m->rel_change == 0.0)
            continue;
        printf("  %-24s %-28s %14.6g %14.6g ", m->scenario, m->name, m->old_median,
               m->new_median);
        if (isfinite(m->rel_change))
            printf("%+8.1f%%\n", 100.0 * m->rel_change);
        else
            printf("%9s\n", "(from 0)");
    }
    if (r->truncated)
        printf("(report truncated at %d entries per list)\n", RDB_COMPARE_ITEMS_MAX);
}

static json_t *runs_json_changes(const struct rdb_change *c, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:o, s:o, s:s, s:s, s:I, s:I}",
                                             "scenario", runs_json_str(c[i].scenario),
                                             "seed", runs_json_seed(c[i].seed),
                                             "old_verdict", rdb_verdict_name(c[i].old_verdict),
                                             "new_verdict", rdb_verdict_name(c[i].new_verdict),
                                             "old_run_id", (json_int_t)c[i].old_run_id,
                                             "new_run_id", (json_int_t)c[i].new_run_id));
    return arr;
}

static void runs_json_compare(const struct rdb_compare_report *r)
{
    json_t *metrics = json_array();
    for (size_t i = 0; metrics && i < r->n_metrics; i++) {
        const struct rdb_metric_change *m = &r->metrics[i];
        json_array_append_new(metrics, json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
                                                 "scenario", runs_json_str(m->scenario),
                                                 "metric", runs_json_str(m->name),
                                                 "old_median", runs_json_real(m->old_median),
                                                 "new_median", runs_json_real(m->new_median),
                                                 "rel_change", runs_json_real(m->rel_change),
                                                 "n_old", (json_int_t)m->n_old,
                                                 "n_new", (json_int_t)m->n_new));
    }
    json_t *doc = json_pack("{s:o, s:o, s:I, s:{s:I, s:I, s:I}, s:o, s:b}",
                            "new_failures", runs_json_changes(r->new_failures, r->n_new_failures),
                            "fixed", runs_json_changes(r->fixed, r->n_fixed),
                            "still_failing", (json_int_t)r->still_failing,
                            "pairs", "old", (json_int_t)r->pairs_old, "new",
                            (json_int_t)r->pairs_new, "common", (json_int_t)r->pairs_common,
                            "metrics", metrics, "truncated", (int)r->truncated);
    json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    printf("\n");
    json_decref(doc);
}

static int runs_compare(struct rdb *cur, const struct runs_opts *o)
{
    struct rdb *old = NULL;
    char err[RDB_ERR_MAX];
    if (rdb_open_mode(o->compare_path, RDB_OPEN_EXISTING, &old, err, sizeof err) != 0) {
        fprintf(stderr, "zablab runs: %s\n", err);
        return RUNS_USAGE;
    }
    struct rdb_compare_report rep;
    int rc = rdb_compare(old, cur, &rep);
    int status = RUNS_INTERNAL;
    if (rc != 0)
        fprintf(stderr, "zablab runs: compare: %s\n", rdb_errmsg(cur));
    else {
        if (o->json)
            runs_json_compare(&rep);
        else
            runs_text_compare(cur, &rep);
        status = rep.n_new_failures ? RUNS_REGRESSED : RUNS_OK;
    }
    rdb_compare_free(&rep);
    rdb_close(old);
    return status;
}

/* ---- the summary page --------------------------------------------------- */

static int runs_report(struct rdb *db, const struct runs_opts *o)
{
    struct rrun_opts ro = {.db_label = o->db_path, .failures_max = o->limit};
    char err[RDB_ERR_MAX + 256];
    if (rrun_write(db, o->report_dir, &ro, err, sizeof err) != 0) {
        fprintf(stderr, "zablab runs: %s\n", err);
        return RUNS_USAGE;
    }
    printf("wrote %s/index.html\n", o->report_dir);
    return RUNS_OK;
}

/* ---- entry ------------------------------------------------------------- */

static int runs_main(const struct runs_opts *o)
{
    struct rdb *db = NULL;
    char err[RDB_ERR_MAX];
    /* Merging may start a new combined file; the other modes only read. */
    enum rdb_open_mode mode = o->n_merge ? RDB_OPEN_CREATE : RDB_OPEN_EXISTING;
    if (rdb_open_mode(o->db_path, mode, &db, err, sizeof err) != 0) {
        fprintf(stderr, "zablab runs: %s\n", err);
        return RUNS_USAGE;
    }
    int status = RUNS_OK;
    if (o->n_merge)
        status = runs_merge(db, o);
    if (status == RUNS_OK && o->report_dir)
        status = runs_report(db, o);
    else if (status == RUNS_OK && o->compare_path)
        status = runs_compare(db, o);
    else if (status == RUNS_OK && !o->n_merge && runs_list(db, o) != 0) {
        fflush(stdout);
        fprintf(stderr, "zablab runs: %s\n", rdb_errmsg(db));
        status = RUNS_INTERNAL;
    }
    rdb_close(db);
    return status;
}

int cmd_runs(int argc, char **argv)
{
    struct runs_opts o = {0};
    o.merge_paths = calloc((size_t)argc, sizeof *o.merge_paths);
    if (!o.merge_paths) {
        fprintf(stderr, "zablab runs: out of memory\n");
        return RUNS_INTERNAL;
    }
    int rc = runs_parse(argc, argv, &o);
    int status;
    if (rc > 0) {
        runs_usage(stdout);
        status = RUNS_OK;
    } else if (rc < 0) {
        fprintf(stderr, "try 'zablab runs --help'\n");
        status = RUNS_USAGE;
    } else
        status = runs_main(&o);
    free(o.merge_paths);
    return status;
}
