/* `zablab explore FILE --seeds A..B`: the scenario over many seeds, in
 * parallel processes (--jobs), a slice of the seed space (--shard I/N, so an
 * external runner can spread it over machines and merge the databases),
 * optionally swarm-mutated per seed, each run recorded in a results
 * database. Workers report one line per seed through a pipe; the parent
 * draws progress and collects failures. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run_common.h"
#include "cli/swarm.h"

#define JOBS_MAX 64
#define FAILURES_SHOWN 20

struct explore_args {
    const char *file, *db;
    uint64_t from, to;
    int jobs, shard, shards;
    bool swarm, json, seeds_given;
    uint32_t bugs;
};

struct tally {
    uint64_t done, pass, fail, error, total;
    uint64_t fail_seeds[FAILURES_SHOWN];
    char fail_props[FAILURES_SHOWN][24];
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: zablab explore FILE --seeds A..B [--jobs N] [--shard I/N] [--db runs.db]\n"
            "                      [--swarm] [--bug NAME]... [--format text|json]\n"
            "Runs FILE once per seed in A..B (inclusive). --shard I/N keeps the seeds whose\n"
            "position in A..B is I-1 modulo N (1 <= I <= N). --swarm switches a random subset of\n"
            "the scenario's fault kinds on per seed and scales their intensity.\n"
            "exit: 0 all seeds passed, 1 some seed failed, 2 bad usage or input, 3 internal error.\n");
}

static int parse_range(const char *v, uint64_t *a, uint64_t *b)
{
    char *end;
    errno = 0;
    *a = strtoull(v, &end, 10);
    if (errno || end == v || strncmp(end, "..", 2))
        return -1;
    const char *rest = end + 2;
    *b = strtoull(rest, &end, 10);
    return (errno || end == rest || *end || *b < *a || *v == '-' || *rest == '-') ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct explore_args *a)
{
    static const char *const flags[] = {"--swarm", NULL};
    for (int i = 1; i < argc; i++) {
        const char *arg, *val;
        switch (rc_next_arg(argc, argv, &i, flags, &a->file, &arg, &val)) {
        case RC_ARG_HELP: return 1;
        case RC_ARG_ERROR: return -1;
        case RC_ARG_FILE: continue;
        case RC_ARG_FLAG: a->swarm = true; continue;
        default: break;
        }
        if (!strcmp(arg, "--seeds")) {
            if (parse_range(val, &a->from, &a->to) != 0) {
                fprintf(stderr, "zablab: --seeds wants A..B with A <= B, got '%s'\n", val);
                return -1;
            }
            a->seeds_given = true;
        } else if (!strcmp(arg, "--jobs")) {
            a->jobs = atoi(val);
            if (a->jobs < 1 || a->jobs > JOBS_MAX) {
                fprintf(stderr, "zablab: --jobs is 1..%d\n", JOBS_MAX);
                return -1;
            }
        } else if (!strcmp(arg, "--shard")) {
            if (sscanf(val, "%d/%d", &a->shard, &a->shards) != 2 || a->shards < 1 ||
                a->shard < 1 || a->shard > a->shards) {
                fprintf(stderr, "zablab: --shard wants I/N with 1 <= I <= N, got '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(arg, "--db")) {
            a->db = val;
        } else if (rc_other_option(arg, val, &a->bugs, &a->json) != 0) {
            return -1;
        }
    }
    if (!a->file || !a->seeds_given) {
        fprintf(stderr, "zablab: explore needs FILE and --seeds A..B\n");
        return -1;
    }
    return 0;
}

static bool mine(const struct explore_args *a, uint64_t seed, int worker)
{
    uint64_t pos = seed - a->from;
    if (pos % (uint64_t)a->shards != (uint64_t)(a->shard - 1))
        return false;
    return (pos / (uint64_t)a->shards) % (uint64_t)a->jobs == (uint64_t)worker;
}

/* One worker: runs its seeds and writes "seed verdict property\n" lines. */
static int worker(const struct explore_args *a, const struct scenario *base, int w, FILE *out)
{
    struct rdb *db = NULL;
    char err[RDB_ERR_MAX];
    if (a->db && rdb_open(a->db, &db, err, sizeof err) != 0) {
        fprintf(stderr, "zablab: %s\n", err);
        return 3;
    }
    static struct scenario s;
    static struct srun_result r;
    for (uint64_t seed = a->from; seed <= a->to && seed >= a->from; seed++) {
        if (!mine(a, seed, w))
            continue;
        s = *base;
        if (a->swarm)
            swarm_apply(&s, seed);
        struct srun_options opt = {.seed = seed, .seed_given = true, .extra_bugs = a->bugs};
        double t0 = rc_wall_seconds();
        int rc = srun_run(&s, &opt, &r);
        if (db)
            rc_record(db, a->file, &s, &r, rc_wall_seconds() - t0, a->bugs);
        const char *verdict = rc != 0 ? "error" : r.all_pass ? "pass" : "fail";
        fprintf(out, "%" PRIu64 " %s %s\n", seed, verdict, r.violated ? r.property : "-");
        fflush(out);
        if (seed == UINT64_MAX)
            break;
    }
    rdb_close(db);
    return 0;
}

static void count_line(struct tally *t, const char *line)
{
    uint64_t seed;
    char verdict[16], prop[24];
    if (sscanf(line, "%" SCNu64 " %15s %23s", &seed, verdict, prop) != 3)
        return;
    t->done++;
    if (!strcmp(verdict, "pass"))
        t->pass++;
    else if (!strcmp(verdict, "error"))
        t->error++;
    else {
        if (t->fail < FAILURES_SHOWN) {
            t->fail_seeds[t->fail] = seed;
            snprintf(t->fail_props[t->fail], sizeof t->fail_props[0], "%s", prop);
        }
        t->fail++;
    }
}

static void progress(const struct tally *t, double elapsed, bool tty, bool final)
{
    static uint64_t last_pct = 0;
    double rate = elapsed > 0 ? (double)t->done / elapsed : 0;
    double eta = rate > 0 ? (double)(t->total - t->done) / rate : 0;
    if (tty) {
        int filled = t->total ? (int)(30 * t->done / t->total) : 30;
        fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " seeds  %.1f/s  failures %" PRIu64 "  ETA %.0fs ",
                filled, "##############################", 30 - filled, "", t->done, t->total, rate,
                t->fail + t->error, eta);
        if (final)
            fputc('\n', stderr);
        return;
    }
    uint64_t pct = t->total ? 100 * t->done / t->total : 100;
    if (final || pct >= last_pct + 10) {
        last_pct = pct;
        fprintf(stderr, "explore: %" PRIu64 "/%" PRIu64 " seeds, %.1f/s, %" PRIu64 " failures\n", t->done,
                t->total, rate, t->fail + t->error);
    }
}

/* Forks the workers and reads their lines until every pipe closes. */
static int run_workers(const struct explore_args *a, const struct scenario *s, struct tally *t)
{
    int fds[JOBS_MAX];
    pid_t pids[JOBS_MAX];
    for (int w = 0; w < a->jobs; w++) {
        int p[2];
        if (pipe(p) != 0)
            return 3;
        fflush(NULL);
        pids[w] = fork();
        if (pids[w] < 0)
            return 3;
        if (pids[w] == 0) {
            close(p[0]);
            FILE *out = fdopen(p[1], "w");
            _exit(out ? worker(a, s, w, out) : 3);
        }
        close(p[1]);
        fds[w] = p[0];
    }
    bool tty = isatty(2);
    double t0 = rc_wall_seconds(), last = 0;
    char buf[JOBS_MAX][256];
    size_t used[JOBS_MAX] = {0};
    int open_n = a->jobs;
    while (open_n > 0) {
        struct pollfd pf[JOBS_MAX];
        for (int w = 0; w < a->jobs; w++)
            pf[w] = (struct pollfd){.fd = fds[w], .events = POLLIN};
        if (poll(pf, (nfds_t)a->jobs, 500) < 0 && errno != EINTR)
            break;
        for (int w = 0; w < a->jobs; w++) {
            if (fds[w] < 0 || !(pf[w].revents & (POLLIN | POLLHUP)))
                continue;
            ssize_t n = read(fds[w], buf[w] + used[w], sizeof buf[w] - used[w] - 1);
            if (n <= 0) {
                close(fds[w]);
                fds[w] = -1;
                open_n--;
                continue;
            }
            used[w] += (size_t)n;
            buf[w][used[w]] = '\0';
            char *nl;
            while ((nl = strchr(buf[w], '\n'))) {
                *nl = '\0';
                count_line(t, buf[w]);
                used[w] -= (size_t)(nl + 1 - buf[w]);
                memmove(buf[w], nl + 1, used[w] + 1);
            }
        }
        double now = rc_wall_seconds() - t0;
        if (now - last > 0.1) {
            progress(t, now, tty, false);
            last = now;
        }
    }
    int rc = 0;
    for (int w = 0; w < a->jobs; w++) {
        int st;
        if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 3;
    }
    progress(t, rc_wall_seconds() - t0, tty, true);
    return rc;
}

static void report(const struct explore_args *a, const struct tally *t, double wall)
{
    char cmd[512];
    if (a->json) {
        printf("{\"scenario\":\"%s\",\"seeds\":%" PRIu64 ",\"passed\":%" PRIu64 ",\"failed\":%" PRIu64
               ",\"errors\":%" PRIu64 ",\"wall_s\":%.3f,\"swarm\":%s,\"failures\":[",
               a->file, t->done, t->pass, t->fail, t->error, wall, a->swarm ? "true" : "false");
        for (uint64_t i = 0; i < t->fail && i < FAILURES_SHOWN; i++) {
            rc_replay_command(a->file, t->fail_seeds[i], a->bugs, cmd, sizeof cmd);
            printf("%s{\"seed\":%" PRIu64 ",\"property\":\"%s\",\"replay\":\"%s%s\"}", i ? "," : "",
                   t->fail_seeds[i], t->fail_props[i], cmd, a->swarm ? " --swarm" : "");
        }
        printf("]}\n");
        return;
    }
    printf("explored %s: %" PRIu64 " seeds in %.1fs (%.1f/s): %" PRIu64 " passed, %" PRIu64
           " failed, %" PRIu64 " errors\n", a->file, t->done, wall, wall > 0 ? (double)t->done / wall : 0,
           t->pass, t->fail, t->error);
    for (uint64_t i = 0; i < t->fail && i < FAILURES_SHOWN; i++) {
        rc_replay_command(a->file, t->fail_seeds[i], a->bugs, cmd, sizeof cmd);
        printf("  seed %" PRIu64 ": %s   replay: %s%s\n", t->fail_seeds[i], t->fail_props[i], cmd,
               a->swarm ? " --swarm" : "");
    }
    if (a->db)
        printf("results: %s (zablab runs --db %s)\n", a->db, a->db);
}

int cmd_explore(int argc, char **argv)
{
    struct explore_args a = {.jobs = 1, .shard = 1, .shards = 1};
    int pr = parse_args(argc, argv, &a);
    if (pr != 0) {
        usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? 0 : 2;
    }
    static struct scenario s;
    if (rc_load(a.file, &s) != 0)
        return 2;
    if (a.db) { /* create the schema once, before workers race for it */
        struct rdb *db;
        char err[RDB_ERR_MAX];
        if (rdb_open(a.db, &db, err, sizeof err) != 0) {
            fprintf(stderr, "zablab: %s\n", err);
            return 2;
        }
        rdb_close(db);
    }
    struct tally t = {0};
    for (uint64_t seed = a.from; seed <= a.to && seed >= a.from; seed++) {
        if ((seed - a.from) % (uint64_t)a.shards == (uint64_t)(a.shard - 1))
            t.total++;
        if (seed == UINT64_MAX)
            break;
    }
    double t0 = rc_wall_seconds();
    int rc = run_workers(&a, &s, &t);
    report(&a, &t, rc_wall_seconds() - t0);
    if (rc != 0)
        return 3;
    if (t.error)
        return 3;
    return t.fail ? 1 : 0;
}
