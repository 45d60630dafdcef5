/* sim/recipes: ZooKeeper recipes (lock, queue, election, config watch,
 * barrier) run by their own simulated clients during a scenario, and the
 * judges of the expectations only they can decide (lock-exclusive, ...).
 *
 * OWNED BY THE RECIPES ENGINEER (branch `recipes`). The simclient branch
 * only created this header and a stub (sim/recipes.c) so that the scenario
 * runner has its hook: sim/scenario_run.c calls recipes_attach after the
 * workload is built when scn->recipe_count > 0, recipes_judge for every
 * expectation it cannot judge itself, and recipes_free at the end. Replace
 * the stub freely; keep these three signatures (or extend them together
 * with sim/scenario_run.c).
 *
 * Clients: the scenario's workload uses clients 0 .. s->clients-1; the
 * recipes get clients first .. first + sum(recipes[i].clients) - 1 of cs
 * (sessions not yet connected). */
#ifndef ZABLAB_SIM_RECIPES_H
#define ZABLAB_SIM_RECIPES_H

#include <stddef.h>

#include "sim/client.h"
#include "sim/scenario.h"
#include "sim/scenario_run.h"

struct recipes;

/* Starts the scenario's recipes on clients first.. of cs. 0 with *out set
 * (NULL is fine when there is nothing to run), or -1 with a message. */
int recipes_attach(const struct scenario *s, struct sim_clients *cs, int first,
                   struct recipes **out, char *err, size_t errlen);
/* Verdict of expectation `kind` at the end of the run; SRUN_NOT_JUDGED
 * with a reason when recipes do not judge that kind. */
enum srun_verdict recipes_judge(struct recipes *r, enum scn_expect_kind kind, char *detail,
                                size_t len);
void recipes_free(struct recipes *r);

#endif
