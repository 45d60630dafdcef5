/* Runs one scenario (sim/scenario.h) on a simulated ensemble (sim/cluster.h)
 * for one seed: builds the cluster from the scenario's settings, fires its
 * timeline (resolving symbolic targets such as `leader` when they fire),
 * arms scripted crashes at protocol points, and judges every expectation.
 *
 * With clients (zk mode) it also builds the simulated clients
 * (sim/client.h), the workload (sim/workload.h) and the recipes hook
 * (sim/recipes.h), and judges the client expectations on their history.
 *
 * Owns: the timeline state of one run and its verdicts. Must never: judge
 * the protocol itself (the invariant checker and check/ do) or use
 * randomness other than the cluster's fault stream (clients and workload
 * draw from their own streams). */
#ifndef ZABLAB_SIM_SCENARIO_RUN_H
#define ZABLAB_SIM_SCENARIO_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cluster.h"
#include "sim/scenario.h"

enum srun_verdict { SRUN_PASS, SRUN_FAIL, SRUN_NOT_JUDGED };

struct srun_expect_result {
    enum scn_expect_kind kind;
    enum srun_verdict verdict;
    char detail[200];
};

struct srun_options {
    uint64_t seed;               /* replaces the scenario's seed */
    bool seed_given;
    uint32_t extra_bugs;         /* ZAB_BUG_BIT set from --bug */
    FILE *trace_out;             /* NULL: hash only */
    FILE *history_out;           /* client history as JSON Lines (zk mode); NULL: none */
    /* Servers are zk_servers with simulated clients (sim/client.h) when the
     * scenario has clients or recipes (0, auto), always (1) or never (-1:
     * the bare replicas and opaque proposals of earlier versions). */
    int zk_mode;
    /* Run without the ZAB invariant checker, so that only the client-level
     * checks judge (tests showing those catch a planted bug on their own). */
    bool no_invariants;
};

struct srun_result {
    bool violated;               /* a safety or liveness property failed */
    bool internal_error;
    char property[24];
    char detail[CHK_DETAIL_MAX];
    uint64_t violation_t_ns;
    int violation_nodes[2];
    int n_expect;
    struct srun_expect_result expects[SCN_MAX_EXPECTS];
    bool all_pass;
    uint64_t seed, trace_hash, sim_ns, events, commits;
    struct cluster_stats stats;
    /* zk mode: the simulated clients */
    bool zk;
    uint64_t client_ok, client_fail, client_info, client_watches, acked_writes;
    uint64_t client_conn_losses, client_expiries;
    double op_p50_us, op_p99_us;  /* workload op latency (invoke to completion) */
    /* commit latency of the workload's proposals, microseconds */
    double commit_p50_us, commit_p99_us, commit_max_us;
    uint64_t faults_injected;
    uint32_t n_faults;
    struct cluster_fault_rec faults[CLUSTER_FAULT_RECS_MAX];
    char err[256];               /* internal error / setup error */
};

/* Checks what only a run can check (distribution specs, bug names) and
 * prints "file:line:col: message" into err. 0 ok, -1 bad. */
int srun_validate(const struct scenario *s, char *err, size_t errlen);

/* Runs the scenario. Returns 0 when the run completed (verdicts in *res),
 * -1 on a setup or internal error (message in res->err). */
int srun_run(const struct scenario *s, const struct srun_options *opt, struct srun_result *res);

/* FNV-1a hash of the canonical text of the scenario (for results). */
uint64_t srun_scenario_hash(const struct scenario *s);

#endif
