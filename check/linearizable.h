/* check/linearizable: black-box linearizability checker (Wing & Gong's
 * search with Lowe's entry list, as in Porcupine): memoizes (set of
 * linearized operations, model state), splits a history into independent
 * partitions where the model allows (kv: by key), and runs each search with
 * an explicit stack. Owns only its search memory.
 * Must never: recurse, run past its budget (it answers "unknown"), or report
 * a violation without the operations that show it. */
#ifndef ZABLAB_CHECK_LINEARIZABLE_H
#define ZABLAB_CHECK_LINEARIZABLE_H

#include "check/history.h"
#include "check/model.h"

struct chk_lin_opts {
    enum chk_model_kind model;
    int64_t budget_ms;          /* wall-clock budget for the whole check; 0 = none */
    uint64_t memo_bytes_max;    /* memory budget of the memo tables; 0 = 2 GiB */
};

#define CHK_MSG_MAX 8192

struct chk_lin_result {
    enum chk_verdict verdict;
    char msg[CHK_MSG_MAX];      /* one line for ok/unknown; a counterexample otherwise */
    uint32_t n_partitions;
    uint64_t steps;             /* model steps tried, over all partitions */
    chk_str bad_key;            /* failing partition (kv key), 0 for one partition */
    /* On a violation: the longest linearizable prefix of the failing
     * partition (op indices in linearization order) and the operations that
     * cannot be placed after it. Owned by the result. */
    uint32_t *prefix, n_prefix;
    uint32_t *stuck, n_stuck;
};

enum chk_verdict chk_linearizable(const struct chk_history *h, const struct chk_lin_opts *opts,
                                  struct chk_lin_result *res);
void chk_lin_result_free(struct chk_lin_result *res);

/* Describes op i of h in one line: "process 3 cas 1->2 (lines 7-9, t=...)". */
void chk_describe_op(const struct chk_history *h, uint32_t op, char *buf, size_t len);

#endif
