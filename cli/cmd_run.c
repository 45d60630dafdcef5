/* `zablab run FILE` and `zablab replay FILE --seed N`: one deterministic run
 * of a scenario, its summary, verdicts and (on failure) the replay command.
 * replay is run with the seed required and the trace on by default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run_common.h"
#include "cli/swarm.h"
#include "reports/narrate.h"
#include "reports/report_html.h"
#include "reports/report_png.h"

struct run_args {
    const char *file, *trace, *report, *history;
    uint64_t seed;
    bool seed_given, json, replay, swarm, svg, narrate;
    uint32_t bugs;
};

static void usage(FILE *out, bool replay)
{
    if (replay)
        fprintf(out, "usage: zablab replay FILE --seed N [--trace OUT.jsonl|-] [--report DIR]\n"
                     "                      [--history OUT.jsonl]\n"
                     "                      [--bug NAME]... [--swarm] [--narrate] [--svg]\n"
                     "                      [--format text|json]\n"
                     "Runs FILE again with seed N, exactly as before, with its full trace.\n");
    else
        fprintf(out, "usage: zablab run FILE [--seed N] [--trace OUT.jsonl|-] [--report DIR]\n"
                     "                   [--history OUT.jsonl]\n"
                     "                   [--bug NAME]... [--swarm] [--narrate] [--svg]\n"
                     "                   [--format text|json]\n"
                     "One deterministic simulated run of a scenario file (docs/scenarios.md).\n");
    fprintf(out, "exit: 0 every expectation holds, 1 a property was violated, 2 bad usage or\n"
                 "input, 3 internal error.\n");
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const char *const flags[] = {"--swarm", "--svg", "--narrate", NULL};
    for (int i = 1; i < argc; i++) {
        const char *arg, *val;
        switch (rc_next_arg(argc, argv, &i, flags, &a->file, &arg, &val)) {
        case RC_ARG_HELP: return 1;
        case RC_ARG_ERROR: return -1;
        case RC_ARG_FILE: continue;
        case RC_ARG_FLAG:
            a->swarm |= !strcmp(arg, "--swarm");
            a->svg |= !strcmp(arg, "--svg");
            a->narrate |= !strcmp(arg, "--narrate");
            continue;
        default: break;
        }
        if (!strcmp(arg, "--seed")) {
            if (rc_parse_seed("--seed", val, &a->seed) != 0)
                return -1;
            a->seed_given = true;
        } else if (!strcmp(arg, "--trace")) {
            a->trace = val;
        } else if (!strcmp(arg, "--history")) {
            a->history = val;
        } else if (!strcmp(arg, "--report")) {
            a->report = val;
        } else if (rc_other_option(arg, val, &a->bugs, &a->json) != 0) {
            return -1;
        }
    }
    if (!a->file) {
        fprintf(stderr, "zablab: no scenario file given\n");
        return -1;
    }
    if (a->replay && !a->seed_given) {
        fprintf(stderr, "zablab: replay needs --seed N (the seed printed by the failing run)\n");
        return -1;
    }
    return 0;
}

static FILE *open_trace(const struct run_args *a, char *path, size_t cap)
{
    if (a->trace && !strcmp(a->trace, "-"))
        return stdout;
    if (a->trace)
        snprintf(path, cap, "%s", a->trace);
    else if (a->report)
        snprintf(path, cap, "%s/trace.jsonl", a->report);
    else if (a->narrate)
        snprintf(path, cap, "/tmp/zablab-narrate-%d.jsonl", (int)getpid());
    else
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "zablab: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

/* mkdir -p: the report folder and its parents. */
static int mkdir_p(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static int narrate(const char *trace_path, const struct rep_violation *v)
{
    char err[512];
    FILE *f = fopen(trace_path, "r");
    if (!f) {
        fprintf(stderr, "zablab: cannot read %s: %s\n", trace_path, strerror(errno));
        return -1;
    }
    struct rep_narrate_opts o = {.trace_name = trace_path, .violation = v};
    int rc = rep_narrate(f, stdout, &o, err, sizeof err);
    fclose(f);
    if (rc != 0)
        fprintf(stderr, "zablab: narrate: %s\n", err);
    return rc;
}

static int write_report(const struct run_args *a, const struct scenario *s,
                        const struct srun_result *r, const char *trace_path,
                        const struct rep_violation *v, FILE *out)
{
    static struct rep_verdict verdicts[SCN_MAX_EXPECTS + 1];
    static char labels[SCN_MAX_EXPECTS + 1][96];
    size_t n = 0;
    snprintf(labels[n], sizeof labels[n], "safety (always checked)");
    verdicts[n] = (struct rep_verdict){labels[n], !r->violated,
                                       r->violated ? r->detail : NULL};
    n++;
    for (int i = 0; i < r->n_expect; i++, n++) {
        rc_expect_label(s, i, labels[n], sizeof labels[n]);
        verdicts[n] = (struct rep_verdict){labels[n], r->expects[i].verdict != SRUN_FAIL,
                                           r->expects[i].detail[0] ? r->expects[i].detail : NULL};
    }
    char cmd[512], err[512];
    rc_replay_command(a->file, r->seed, a->bugs, cmd, sizeof cmd);
    struct rep_html_input in = {.trace_path = trace_path, .scenario = a->file, .seed = r->seed,
                                .verdicts = verdicts, .n_verdicts = n, .replay_command = cmd,
                                .violation = v, .svg = a->svg,
                                .png = a->svg && rep_png_available()};
    if (rep_html_write(&in, a->report, err, sizeof err) != 0) {
        fprintf(stderr, "zablab: report: %s\n", err);
        return -1;
    }
    fprintf(out, "report: %s/index.html\n", a->report);
    return 0;
}

static int run_main(int argc, char **argv, bool replay)
{
    struct run_args a = {.replay = replay};
    int pr = parse_args(argc, argv, &a);
    if (pr != 0) {
        usage(pr > 0 ? stdout : stderr, replay);
        return pr > 0 ? 0 : 2;
    }
    static struct scenario s;
    if (rc_load(a.file, &s) != 0)
        return 2;
    if (a.swarm) /* the same mutation explore --swarm applied to this seed */
        swarm_apply(&s, a.seed_given ? a.seed : s.seed);
    if (a.report && mkdir_p(a.report) != 0) {
        fprintf(stderr, "zablab: cannot create %s: %s\n", a.report, strerror(errno));
        return 2;
    }
    char trace_path[1024] = "";
    FILE *trace = open_trace(&a, trace_path, sizeof trace_path);
    if ((a.trace || a.report) && !trace)
        return 2;
    FILE *history = NULL;
    if (a.history && !(history = fopen(a.history, "w"))) {
        fprintf(stderr, "zablab: cannot write %s: %s\n", a.history, strerror(errno));
        if (trace && trace != stdout)
            fclose(trace);
        return 2;
    }
    struct srun_options opt = {.seed = a.seed, .seed_given = a.seed_given, .extra_bugs = a.bugs,
                               .trace_out = trace, .history_out = history};
    static struct srun_result r;
    double t0 = rc_wall_seconds();
    int rc = srun_run(&s, &opt, &r);
    double wall = rc_wall_seconds() - t0;
    if (trace && trace != stdout)
        fclose(trace);
    if (history)
        fclose(history);
    if (rc != 0 && !r.internal_error) {
        fprintf(stderr, "zablab: %s\n", r.err);
        return 2;
    }
    FILE *out = trace == stdout ? stderr : stdout;
    if (a.json)
        rc_print_json(out, a.file, &s, &r, wall, a.bugs);
    else
        rc_print_text(out, a.file, &s, &r, wall, a.bugs);
    struct rep_violation v = {.property = r.property, .t_ns = (int64_t)r.violation_t_ns,
                              .detail = r.detail};
    for (int i = 0; i < 2; i++)
        if (r.violation_nodes[i] > 0)
            v.nodes[v.n_nodes++] = r.violation_nodes[i];
    if (a.narrate && narrate(trace_path, r.violated ? &v : NULL) != 0)
        return 3;
    if (a.report && write_report(&a, &s, &r, trace_path, r.violated ? &v : NULL, out) != 0)
        return 3;
    if (trace_path[0] && !a.json && !(a.narrate && !a.trace && !a.report))
        fprintf(out, "trace: %s\n", trace_path);
    if (a.history && !a.json)
        fprintf(out, "history: %s%s\n", a.history,
                r.zk ? "" : " (empty: this scenario has no clients)");
    if (a.narrate && !a.trace && !a.report)
        unlink(trace_path);
    return rc_exit_code(rc, &r);
}

int cmd_run(int argc, char **argv)
{
    return run_main(argc, argv, false);
}

int cmd_replay(int argc, char **argv)
{
    return run_main(argc, argv, true);
}
