/* zablab command entry point: dispatches to one function per subcommand.
 * Owns argument dispatch only; every subcommand lives in its own cli/cmd_*.c.
 * Exit codes (all subcommands): 0 ok, 1 property violated, 2 bad usage or
 * input, 3 internal error. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run a scenario once (deterministic for a seed)"},
    {"replay", cmd_replay, "run a scenario again with a given seed, with its trace"},
    {"explore", cmd_explore, "run a scenario over many seeds (parallel, sharded, swarm)"},
    {"shrink", cmd_shrink, "minimise a failing run to a small scenario"},
    {"bugs", cmd_bugs, "list the planted protocol bugs"},
    {"version", cmd_version, "print the version"},
    {"runs", cmd_runs, "list, merge and compare recorded runs"},
    {"scenario", cmd_scenario, "check or format scenario files"},
    {"cluster", cmd_cluster, "start, stop or query a local zabd ensemble"},
    {"check", cmd_check, "judge a history: linearizability, ZooKeeper consistency"},
    {"gen-history", cmd_gen_history, "generate a history, valid or with a planted anomaly"},
    {"load", cmd_load, "drive an ensemble with pipelined requests: throughput, latency"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: zablab COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'zablab COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "zablab: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
