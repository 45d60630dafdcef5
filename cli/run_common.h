/* What `run`, `replay` and `explore` share: loading a scenario with its
 * errors as file:line:col, running it, printing the summary (text or JSON),
 * the replay command, and recording a run in the results database. */
#ifndef ZABLAB_CLI_RUN_COMMON_H
#define ZABLAB_CLI_RUN_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/results_db.h"
#include "sim/scenario.h"
#include "sim/scenario_run.h"

/* Parses and validates FILE; prints the error and returns -1 (exit 2). */
int rc_load(const char *path, struct scenario *s);

/* Options every run-type command takes: --bug NAME and --format text|json.
 * 1 when `arg` was one of them (value consumed), 0 when it is not, -1 on a
 * bad value (message printed). */
int rc_common_option(const char *arg, const char *val, uint32_t *bugs, bool *json);

/* The argument loop every run-type command shares. rc_next_arg reads
 * argv[*i]: --help/-h (RC_ARG_HELP); one of `flags` (NULL-terminated;
 * RC_ARG_FLAG, *arg set); the first word not starting with '-' while *file
 * is NULL (RC_ARG_FILE, *file set); else an option with its value
 * (RC_ARG_VALUE, *arg and *val set, *i advanced past the value), or
 * RC_ARG_ERROR with "needs a value" printed. */
enum rc_arg_kind { RC_ARG_ERROR = -1, RC_ARG_HELP = 1, RC_ARG_FLAG, RC_ARG_FILE, RC_ARG_VALUE };
int rc_next_arg(int argc, char **argv, int *i, const char *const *flags, const char **file,
                const char **arg, const char **val);
/* An option the command itself does not take: --bug and --format through
 * rc_common_option, anything else "unknown option". 0, or -1 (printed). */
int rc_other_option(const char *arg, const char *val, uint32_t *bugs, bool *json);

/* A non-negative decimal seed; 0 or -1 (message printed, naming `opt`). */
int rc_parse_seed(const char *opt, const char *s, uint64_t *out);

/* Parses a comma list or repeated --bug NAME into bits; -1 on an unknown name. */
int rc_bug_bits(const char *name, uint32_t *bits);

/* "zablab replay FILE --seed N [--bug B]..." */
void rc_replay_command(const char *path, uint64_t seed, uint32_t bugs, char *buf, size_t cap);

void rc_print_text(FILE *out, const char *path, const struct scenario *s,
                   const struct srun_result *r, double wall_s, uint32_t bugs);
void rc_print_json(FILE *out, const char *path, const struct scenario *s,
                   const struct srun_result *r, double wall_s, uint32_t bugs);

/* Inserts one run (one transaction). 0 or -1 with a message on stderr. */
int rc_record(struct rdb *db, const char *path, const struct scenario *s,
              const struct srun_result *r, double wall_s, uint32_t bugs);

/* Exit code of a finished run: 0 all expectations hold, 1 violated, 3 internal. */
int rc_exit_code(int run_rc, const struct srun_result *r);

double rc_wall_seconds(void);

/* "leader within 3s after heal": expectation i of s in words. */
void rc_expect_label(const struct scenario *s, int i, char *buf, size_t cap);

#endif
