/* `zablab gen-history`: writes a generated history (valid, or with exactly
 * one planted anomaly) to stdout, for trying and benchmarking the checkers.
 * Exit codes: 0 written, 2 bad usage or no place to plant the anomaly.
 * Owns argument parsing only; generation lives in check/hist_gen.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/hist_gen.h"
#include "cli/commands.h"

static void gen_usage(FILE *out)
{
    fprintf(out,
        "usage: zablab gen-history --model register|kv|zk --ops N --procs P\n"
        "                          --crash-rate X --seed S [--keys K] [--values V]\n"
        "                          [--plant ANOMALY] [--no-zxids] [--format edn|jsonl]\n"
        "\n"
        "Writes a history to stdout. Register and kv histories are linearizable;\n"
        "zk histories come from a model of a leader and lagging followers and\n"
        "satisfy ZooKeeper's contract. --plant adds exactly one anomaly:\n"
        "  stale-read-after-sync read-backwards lost-write duplicate-sequential\n"
        "  failed-write-visible non-fifo never-written late-watch\n"
        "(register/kv: lost-write, failed-write-visible, never-written.)\n"
        "  --keys    kv keys / zk znodes (default 5)\n"
        "  --values  register values drawn from [0,V) (default: all distinct)\n"
        "  --format  edn (register/kv only) or jsonl (default)\n");
}

static int num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_gen_args(int argc, char **argv, struct chk_gen_opts *o, bool *edn)
{
    double v;
    bool ok;
    memset(o, 0, sizeof *o);
    o->n_ops = 100, o->n_procs = 5, o->seed = 1;
    *edn = false;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            gen_usage(stdout);
            return 0;
        }
        if (!strcmp(k, "--no-zxids")) {
            o->no_zxids = true;
            continue;
        }
        ok = a != NULL;
        if (!ok) {
        } else if (!strcmp(k, "--model")) {
            o->model = chk_model_parse(a, &ok);
        } else if (!strcmp(k, "--ops")) {
            ok = num(a, 1, 1 << 24, &v) == 0, o->n_ops = (uint32_t)v;
        } else if (!strcmp(k, "--procs")) {
            ok = num(a, 1, 1024, &v) == 0, o->n_procs = (uint32_t)v;
        } else if (!strcmp(k, "--crash-rate")) {
            ok = num(a, 0, 1, &o->crash_rate) == 0;
        } else if (!strcmp(k, "--seed")) {
            ok = num(a, 0, 1e18, &v) == 0, o->seed = (uint64_t)v;
        } else if (!strcmp(k, "--keys")) {
            ok = num(a, 1, 100000, &v) == 0, o->n_keys = (uint32_t)v;
        } else if (!strcmp(k, "--values")) {
            ok = num(a, 0, 1e9, &v) == 0, o->value_range = (uint32_t)v;
        } else if (!strcmp(k, "--plant")) {
            o->plant = chk_anomaly_parse(a, &ok);
        } else if (!strcmp(k, "--format")) {
            ok = !strcmp(a, "edn") || !strcmp(a, "jsonl");
            *edn = !strcmp(a, "edn");
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "zablab gen-history: bad option %s%s%s\n", k, a ? " " : "", a ? a : "");
            gen_usage(stderr);
            return 2;
        }
        i++;
    }
    if (*edn && o->model == CHK_MODEL_ZK) {
        fprintf(stderr, "zablab gen-history: EDN carries register and kv histories only\n");
        return 2;
    }
    return -1;
}

int cmd_gen_history(int argc, char **argv)
{
    struct chk_gen_opts o;
    bool edn;
    int rc = parse_gen_args(argc, argv, &o, &edn);
    if (rc >= 0)
        return rc;
    char err[512];
    struct chk_history *h = chk_gen_history(&o, err, sizeof err);
    if (!h) {
        fprintf(stderr, "zablab gen-history: %s\n", err);
        return 2;
    }
    for (uint32_t e = 0; e < h->n_events; e++)
        if (edn)
            chk_edn_write_event(stdout, h, &h->events[e]);
        else
            chk_jsonl_write_event(stdout, h, &h->events[e]);
    chk_history_free(h);
    return fflush(stdout) ? 3 : 0;
}
