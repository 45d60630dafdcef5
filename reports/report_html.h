/* HTML report of one simulated run: a single self-contained index.html
 * (inline SVG, CSS and a little vanilla JavaScript; nothing fetched from
 * anywhere) with the space-time diagram, the client history, metrics,
 * elections, the verdicts and the replay command; optionally a standalone
 * diagram.svg of the whole run for slides. docs/reports.md says how to
 * read it.
 *
 * Owns: nothing between calls; the files it writes.
 * Must never: reference anything outside the file (no http(s), no <link>,
 * no src= other than data:), keep the trace in memory as records (it is
 * aggregated by reports/report_model.h), or abort on a bad trace or
 * history (errors come back as "file:line:col: message"). */
#ifndef ZABLAB_REPORTS_REPORT_HTML_H
#define ZABLAB_REPORTS_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One expectation of the scenario and how it fared. */
struct rep_verdict {
    const char *name;
    bool pass;
    const char *detail;          /* may be NULL */
};

#define REP_VIOLATION_NODES_MAX 8

/* The first violation the checkers found. */
struct rep_violation {
    const char *property;        /* e.g. "AGREEMENT", "linearizable" */
    int64_t t_ns;                /* simulated time; < 0 when not tied to a time */
    int nodes[REP_VIOLATION_NODES_MAX];
    int n_nodes;                 /* servers involved (1-based ids) */
    const char *detail;          /* the checker's explanation */
    const uint32_t *ops;         /* history op indices (i-th invocation, 0-based) */
    size_t n_ops;
};

struct rep_html_input {
    const char *trace_path;      /* required: JSON Lines trace */
    const char *history_path;    /* optional: JSON Lines client history */
    const char *scenario;        /* shown as the title */
    uint64_t seed;
    const struct rep_verdict *verdicts;
    size_t n_verdicts;
    const char *replay_command;  /* the exact command that replays this run */
    const struct rep_violation *violation; /* NULL when none */
    bool svg;                    /* also write DIR/diagram.svg */
    bool png;                    /* with svg: also DIR/diagram.png, the same picture
                                  * rendered by librsvg (reports/report_png.h); an
                                  * error when built without it */
};

/* Writes DIR/index.html (DIR is created if missing; its parent must exist)
 * and, with in->svg, DIR/diagram.svg. 0, or -1 with a message in err. */
int rep_html_write(const struct rep_html_input *in, const char *dir, char *err, size_t errlen);

#endif
