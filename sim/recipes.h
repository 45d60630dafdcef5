/* sim/recipes: ZooKeeper recipes run by simulated clients (sim/client.h):
 * the lock (ephemeral-sequential child, watch the predecessor only: no herd
 * effect), the queue (persistent-sequential children, consumers take the
 * lowest by getData + delete), configuration watch (one writer, watchers
 * re-read on every NodeDataChanged) and leader election (the lock's shape
 * under /election, the lowest leads) and a barrier (rounds: every party
 * creates an ephemeral child of /barrier/rK; whoever sees all parties
 * creates /barrier/rK/ready; a party passes on seeing all or `ready`).
 *
 * Each recipe client records what it believed into the run's client history
 * (simc_history) as recipe outcomes (check/recipes.h judges them) under its
 * own process id, RCP_PROCESS_BASE + the client's process, so that its
 * outcomes never interleave with the znode operations simc records for the
 * same client. It also records the connection-state changes it saw.
 *
 * Owns: the recipe state of every recipe client, their timers' tickets.
 * Must never: reach into a server, use randomness (delays are derived from
 * client indices), or leave an outcome invoked twice without completing it.
 * A client whose session expires opens a new one and starts over. */
#ifndef ZABLAB_SIM_RECIPES_H
#define ZABLAB_SIM_RECIPES_H

#include <stddef.h>
#include <stdint.h>

#include "sim/client.h"
#include "sim/scenario.h"
#include "sim/scenario_run.h"

#define RCP_PROCESS_BASE  1000000   /* recipe process = base + simc_process */
#define RCP_CLIENTS_MAX   (SCN_MAX_RECIPES * SCN_MAX_RECIPE_CLIENTS)
#define RCP_TICKETS_MAX   1024      /* callbacks and timers in flight, all clients */
#define RCP_CHILDREN_MAX  1024      /* children of a recipe znode considered at once */

/* Planted client-side bugs, for tests that the checkers catch them. */
#define RCP_BUG_LOCK_IGNORES_DISCONNECT (1u << 0)  /* holder keeps the lock when Disconnected */
#define RCP_BUG_QUEUE_EARLY_DEQUEUE     (1u << 1)  /* records a dequeue before its delete */
#define RCP_BUG_CONFIG_NO_REWATCH       (1u << 2)  /* watcher never re-reads after a change */
#define RCP_BUG_BARRIER_EARLY           (1u << 3)  /* passes with one party still missing */

struct rcp_options {
    sim_time_ns hold_ns;        /* lock / leadership hold (unless the recipe sets one); 0 = 400ms */
    sim_time_ns period_ns;      /* producer / config writer period; 0 = default 150ms */
    sim_time_ns quiet_ns;       /* tail without new writes before the run ends; 0 = 3s */
    sim_time_ns end_ns;         /* the run's end */
    uint32_t bugs;              /* RCP_BUG_* */
    FILE *history_out;          /* the run's JSON Lines history file, or NULL */
};

struct rcp_run;

/* Attaches recipe clients to cs: recipe r (in scenario order) uses clients
 * first_client + sum of the earlier recipes' clients, onwards; each takes
 * over its client's callbacks and connects. NULL on bad arguments (too few
 * clients) or out of memory. */
struct rcp_run *rcp_start(struct sim_clients *cs, const struct scn_recipe *recipes, int n_recipes,
                          int first_client, const struct rcp_options *opt);
void rcp_free(struct rcp_run *r);

/* Clients rcp_start needs for these recipes. */
int rcp_clients_needed(const struct scn_recipe *recipes, int n_recipes);

/* The client (simc index) holding the lock recipe's lock now, or -1: the
 * target of a scenario's `isolate lock-holder`. */
int rcp_lock_holder(const struct rcp_run *r);

struct rcp_stats {
    uint64_t acquisitions, releases, enqueued, dequeued, config_writes, config_reads;
    uint64_t leaderships, restarts, final_reads, barrier_passes;
};
const struct rcp_stats *rcp_stats(const struct rcp_run *r);

/* ---- the scenario runner's hook (sim/scenario_run.c) ----------------- */

struct recipes;

/* Starts the scenario's recipes on clients first.. of cs (the workload has
 * 0..first-1): hold times from the recipe lines, a quiet tail of
 * min(3s, run/3) before the run's end; outcomes also go to history_out
 * (the file simc writes, NULL for none). 0 with *out set (NULL when there is
 * nothing to run), or -1 with a message. */
int recipes_attach(const struct scenario *s, struct sim_clients *cs, int first,
                   FILE *history_out, struct recipes **out, char *err, size_t errlen);
/* Verdict of expectation kind at the end of the run (lock-exclusive,
 * queue-exact, config-converges, leader-unique), judged by check/recipes.h
 * on the client history; SRUN_NOT_JUDGED with a reason for other kinds. */
enum srun_verdict recipes_judge(struct recipes *r, enum scn_expect_kind kind, char *detail,
                                size_t len);
/* simc index of the lock holder now (for `isolate lock-holder`), or -1. */
int recipes_lock_holder(const struct recipes *r);
void recipes_free(struct recipes *r);

#endif
