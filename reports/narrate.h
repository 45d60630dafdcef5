/* Narration: a plain-language account of a run, one line per protocol
 * step that matters ("t=1.204s s3 ... becomes LEADING in round 2"),
 * commits summarized per window rather than one line each, faults in
 * plain words, and the violation explained at the end. Read by students
 * learning ZAB and by engineers reading a failure.
 *
 * Owns: per-server state of the narration (a few integers per server).
 * Must never: keep the trace in memory, or print more than max_lines
 * lines (then it says how many it left out). */
#ifndef ZABLAB_REPORTS_NARRATE_H
#define ZABLAB_REPORTS_NARRATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/report_html.h"

struct rep_narrate_opts {
    const char *trace_name;                /* for error messages; NULL = "trace" */
    const struct rep_violation *violation; /* explained at the end; may be NULL */
    int64_t commit_window_ns;              /* 0 = one second */
    size_t max_lines;                      /* 0 = 20000 */
};

/* Reads the trace and writes the account to out. opts may be NULL.
 * 0, or -1 with "file:line:col: message" in err. */
int rep_narrate(FILE *trace, FILE *out, const struct rep_narrate_opts *opts, char *err, size_t errlen);

/* One sentence on what a checked property means, e.g. for "AGREEMENT"
 * "no two servers commit different transactions at the same zxid". */
const char *rep_property_explained(const char *property);

#endif
