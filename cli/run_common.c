/* Shared by the run-type subcommands; see run_common.h. The wall clock is
 * read here, in the CLI, for durations only: it never reaches a simulation. */
#include "cli/run_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/zab_common.h"

double rc_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int rc_load(const char *path, struct scenario *s)
{
    char err[512];
    if (scn_parse_file(path, s, err, sizeof err) != 0 || srun_validate(s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

int rc_bug_bits(const char *name, uint32_t *bits)
{
    int b = zab_bug_lookup(name);
    if (b < 0) {
        fprintf(stderr, "zablab: unknown bug '%s' (see 'zablab bugs')\n", name);
        return -1;
    }
    *bits |= ZAB_BUG_BIT(b);
    return 0;
}

int rc_common_option(const char *arg, const char *val, uint32_t *bugs, bool *json)
{
    if (!strcmp(arg, "--bug"))
        return rc_bug_bits(val, bugs) == 0 ? 1 : -1;
    if (strcmp(arg, "--format"))
        return 0;
    if (strcmp(val, "json") && strcmp(val, "text")) {
        fprintf(stderr, "zablab: --format is text or json\n");
        return -1;
    }
    *json = !strcmp(val, "json");
    return 1;
}

int rc_next_arg(int argc, char **argv, int *i, const char *const *flags, const char **file,
                const char **arg, const char **val)
{
    *arg = argv[*i];
    *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(*arg, "--help") || !strcmp(*arg, "-h"))
        return RC_ARG_HELP;
    for (int f = 0; flags && flags[f]; f++)
        if (!strcmp(*arg, flags[f]))
            return RC_ARG_FLAG;
    if ((*arg)[0] != '-' && !*file) {
        *file = *arg;
        return RC_ARG_FILE;
    }
    if (!*val) {
        fprintf(stderr, "zablab: %s needs a value\n", *arg);
        return RC_ARG_ERROR;
    }
    (*i)++;
    return RC_ARG_VALUE;
}

int rc_other_option(const char *arg, const char *val, uint32_t *bugs, bool *json)
{
    int c = rc_common_option(arg, val, bugs, json);
    if (c > 0)
        return 0;
    if (c == 0)
        fprintf(stderr, "zablab: unknown option '%s'\n", arg);
    return -1;
}

int rc_parse_seed(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || !*s || *s == '-') {
        fprintf(stderr, "zablab: %s: '%s' is not a non-negative integer\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

void rc_replay_command(const char *path, uint64_t seed, uint32_t bugs, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "zablab replay %s --seed %" PRIu64, path, seed);
    for (int b = 0; b < ZAB_BUG_COUNT && o < cap; b++)
        if (bugs & ZAB_BUG_BIT(b))
            o += (size_t)snprintf(buf + o, cap - o, " --bug %s", zab_bug_name(b));
}

static const char *verdict_word(enum srun_verdict v)
{
    return v == SRUN_PASS ? "pass" : v == SRUN_FAIL ? "FAIL" : "not judged";
}

void rc_expect_label(const struct scenario *s, int i, char *buf, size_t cap)
{
    const struct scn_expect *e = &s->expects[i];
    char d[32];
    if (e->kind == SCN_EXPECT_LEADER_WITHIN || e->kind == SCN_EXPECT_PROGRESS_WITHIN) {
        scn_format_duration(e->within_ns, d, sizeof d);
        snprintf(buf, cap, "%s within %s after %s", scn_expect_name(e->kind), d,
                 e->anchor == SCN_ANCHOR_HEAL ? "heal" : "start");
    } else {
        snprintf(buf, cap, "%s", scn_expect_name(e->kind));
    }
}

void rc_print_text(FILE *out, const char *path, const struct scenario *s,
                   const struct srun_result *r, double wall_s, uint32_t bugs)
{
    fprintf(out, "scenario %s  seed %" PRIu64 "\n", path, r->seed);
    fprintf(out, "cluster  %d voters, %d observers, tick %" PRIu64 "ms; %.3fs simulated in %.2fs (%" PRIu64 " events)\n",
            s->voters, s->observers, s->tick_ns / 1000000, (double)r->sim_ns / 1e9, wall_s, r->events);
    fprintf(out, "protocol %" PRIu64 " elections, highest epoch %" PRIu64 ", %" PRIu64 " txns committed",
            r->stats.elections, r->stats.max_epoch, r->commits);
    /* Opaque proposals exist only without clients (bare-replica runs). */
    if (!r->zk)
        fprintf(out, ", %" PRIu64 " proposals (%" PRIu64 " refused: no leader)", r->stats.proposals,
                r->stats.proposals_refused);
    fputc('\n', out);
    if (r->zk)
        fprintf(out, "clients  %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64 " unknown; %" PRIu64
                " writes acknowledged; %" PRIu64 " watches; %" PRIu64 " connection losses, %" PRIu64
                " expiries",
                r->client_ok, r->client_fail, r->client_info, r->acked_writes, r->client_watches,
                r->client_conn_losses, r->client_expiries);
    /* Latencies are those of workload ops; recipe-only runs have none. */
    if (r->zk && r->op_p99_us > 0)
        fprintf(out, "; workload op p50 %.2fms p99 %.2fms\n", r->op_p50_us / 1000, r->op_p99_us / 1000);
    else if (r->zk)
        fputc('\n', out);
    if (r->commit_max_us > 0)
        fprintf(out, "latency  commit p50 %.2fms  p99 %.2fms  max %.2fms\n", r->commit_p50_us / 1000,
                r->commit_p99_us / 1000, r->commit_max_us / 1000);
    fprintf(out, "faults   %" PRIu64 " injected; %" PRIu64 " crashes, %" PRIu64 " restarts; %.3fs without a leader\n",
            r->faults_injected, r->stats.crashes, r->stats.restarts, (double)r->stats.leaderless_ns / 1e9);
    if (r->violated)
        fprintf(out, "VIOLATION %s at t=%.3fs: %s\n", r->property, (double)r->violation_t_ns / 1e9, r->detail);
    for (int i = 0; i < r->n_expect; i++) {
        char label[96];
        rc_expect_label(s, i, label, sizeof label);
        fprintf(out, "expect   %-36s %s%s%s\n", label, verdict_word(r->expects[i].verdict),
                r->expects[i].detail[0] ? ": " : "", r->expects[i].detail);
    }
    fprintf(out, "trace hash %016" PRIx64 "\n", r->trace_hash);
    if (!r->all_pass) {
        char cmd[512];
        rc_replay_command(path, r->seed, bugs, cmd, sizeof cmd);
        fprintf(out, "replay: %s --trace trace.jsonl\n", cmd);
    }
    fprintf(out, "verdict: %s\n", r->all_pass ? "PASS" : "FAIL");
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void rc_print_json(FILE *out, const char *path, const struct scenario *s,
                   const struct srun_result *r, double wall_s, uint32_t bugs)
{
    char cmd[512];
    rc_replay_command(path, r->seed, bugs, cmd, sizeof cmd);
    fprintf(out, "{\"scenario\":");
    json_str(out, path);
    fprintf(out, ",\"seed\":%" PRIu64 ",\"verdict\":\"%s\",\"trace_hash\":\"%016" PRIx64 "\"",
            r->seed, r->all_pass ? "pass" : "fail", r->trace_hash);
    fprintf(out, ",\"simulated_s\":%.6f,\"wall_s\":%.3f,\"events\":%" PRIu64 ",\"elections\":%" PRIu64
            ",\"max_epoch\":%" PRIu64 ",\"commits\":%" PRIu64 ",\"faults\":%" PRIu64,
            (double)r->sim_ns / 1e9, wall_s, r->events, r->stats.elections, r->stats.max_epoch,
            r->commits, r->faults_injected);
    fprintf(out, ",\"commit_latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
            r->commit_p50_us / 1000, r->commit_p99_us / 1000, r->commit_max_us / 1000);
    if (r->zk)
        fprintf(out, ",\"clients\":{\"ok\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"unknown\":%" PRIu64
                ",\"acked_writes\":%" PRIu64 ",\"watches\":%" PRIu64 ",\"conn_losses\":%" PRIu64
                ",\"expiries\":%" PRIu64 ",\"op_latency_ms\":{\"p50\":%.3f,\"p99\":%.3f}}",
                r->client_ok, r->client_fail, r->client_info, r->acked_writes, r->client_watches,
                r->client_conn_losses, r->client_expiries, r->op_p50_us / 1000, r->op_p99_us / 1000);
    fprintf(out, ",\"violation\":");
    if (r->violated) {
        fprintf(out, "{\"property\":");
        json_str(out, r->property);
        fprintf(out, ",\"t_s\":%.6f,\"nodes\":[%d,%d],\"detail\":", (double)r->violation_t_ns / 1e9,
                r->violation_nodes[0], r->violation_nodes[1]);
        json_str(out, r->detail);
        fputc('}', out);
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ",\"expectations\":[");
    for (int i = 0; i < r->n_expect; i++) {
        char label[96];
        rc_expect_label(s, i, label, sizeof label);
        fprintf(out, "%s{\"expect\":", i ? "," : "");
        json_str(out, label);
        fprintf(out, ",\"verdict\":\"%s\",\"detail\":", r->expects[i].verdict == SRUN_PASS ? "pass"
                     : r->expects[i].verdict == SRUN_FAIL ? "fail" : "not-judged");
        json_str(out, r->expects[i].detail);
        fputc('}', out);
    }
    fprintf(out, "],\"replay\":");
    json_str(out, cmd);
    fprintf(out, "}\n");
}

static void bug_list(uint32_t bugs, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int b = 0; b < ZAB_BUG_COUNT && o < cap; b++)
        if (bugs & ZAB_BUG_BIT(b))
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? "," : "", zab_bug_name(b));
}

int rc_record(struct rdb *db, const char *path, const struct scenario *s,
              const struct srun_result *r, double wall_s, uint32_t bugs)
{
    char cmd[512], bugbuf[256], nodes[32];
    rc_replay_command(path, r->seed, bugs, cmd, sizeof cmd);
    bug_list(bugs, bugbuf, sizeof bugbuf);
    snprintf(nodes, sizeof nodes, "%d,%d", r->violation_nodes[0], r->violation_nodes[1]);
    struct rdb_violation v = {r->property, (int64_t)r->violation_t_ns, nodes, r->detail};
    static struct rdb_fault faults[CLUSTER_FAULT_RECS_MAX];
    static char targets[CLUSTER_FAULT_RECS_MAX][16];
    for (uint32_t i = 0; i < r->n_faults; i++) {
        snprintf(targets[i], sizeof targets[i], r->faults[i].node ? "s%d" : "cluster", r->faults[i].node);
        faults[i] = (struct rdb_fault){(int64_t)r->faults[i].t, r->faults[i].what, targets[i], ""};
    }
    struct rdb_metric metrics[4];
    size_t nm = 0;
    if (r->commit_max_us > 0) {
        metrics[nm++] = (struct rdb_metric){"latency_us.commit.p50", r->commit_p50_us};
        metrics[nm++] = (struct rdb_metric){"latency_us.commit.p99", r->commit_p99_us};
        metrics[nm++] = (struct rdb_metric){"latency_us.commit.max", r->commit_max_us};
    }
    metrics[nm++] = (struct rdb_metric){"leaderless_ms", (double)r->stats.leaderless_ns / 1e6};
    struct rdb_run run = {
        .scenario = path, .scenario_hash = srun_scenario_hash(s), .seed = r->seed,
        .version = ZABLAB_VERSION, .bugs = bugbuf,
        .verdict = r->internal_error ? RDB_VERDICT_ERROR : r->all_pass ? RDB_VERDICT_PASS : RDB_VERDICT_FAIL,
        .trace_hash = r->trace_hash, .replay = cmd, .duration_ms = (int64_t)(wall_s * 1000),
        .simulated_ms = (int64_t)(r->sim_ns / 1000000), .events = (int64_t)r->events,
        .elections = (int64_t)r->stats.elections, .max_epoch = (int64_t)r->stats.max_epoch,
        .commits = (int64_t)r->commits, .n_violations = r->violated ? 1 : 0, .violations = &v,
        .n_faults = r->n_faults, .faults = faults, .n_metrics = nm, .metrics = metrics,
    };
    if (rdb_insert_run(db, &run) != 0) {
        fprintf(stderr, "zablab: results database: %s\n", rdb_errmsg(db));
        return -1;
    }
    return 0;
}

int rc_exit_code(int run_rc, const struct srun_result *r)
{
    if (run_rc != 0 || r->internal_error)
        return 3;
    return r->all_pass ? 0 : 1;
}
