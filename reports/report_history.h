/* Client histories for reports: reads the JSON Lines history the simulated
 * clients record (docs/history-format.md: type invoke/ok/fail/info,
 * process, f, time in ns, plus per-op fields) and pairs each invocation
 * with its completion into one bar per operation.
 *
 * Owns: the op array and the lane (process) table. Op i is the i-th
 * invocation in the file, the numbering violations use.
 * Must never: judge the history (check/ does that), or abort on bad input:
 * errors are "file:line:col: message". */
#ifndef ZABLAB_REPORTS_REPORT_HISTORY_H
#define ZABLAB_REPORTS_REPORT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RHIST_OPS_MAX (1u << 22)
#define RHIST_LANES_MAX 1024
#define RHIST_KINDS_MAX 32
#define RHIST_LINE_MAX (1u << 16)

enum rhist_status { RHIST_OK = 0, RHIST_FAIL, RHIST_INFO, RHIST_PENDING };

struct rhist_op {
    int64_t t_inv_ns, t_ret_ns;   /* t_ret_ns < 0: never completed */
    int64_t process;
    uint16_t lane, kind;          /* lane: index into procs[]; kind into kinds[] */
    uint8_t status;               /* enum rhist_status */
    char label[72];               /* "create /k '1' -> ok /k" */
};

struct rhist {
    struct rhist_op *ops; uint32_t n_ops, cap_ops;
    int64_t procs[RHIST_LANES_MAX]; uint32_t open_op[RHIST_LANES_MAX]; int n_procs;
    char kinds[RHIST_KINDS_MAX][20]; int n_kinds;
    int64_t t_min_ns, t_max_ns;
};

int rhist_read(struct rhist *h, FILE *in, const char *name, char *err, size_t errlen);
void rhist_free(struct rhist *h);
const char *rhist_status_name(enum rhist_status s);

#endif
