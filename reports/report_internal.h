/* Shared by the report writers (reports/report_*.c): escaping, time
 * formatting, the static SVG renderer, the embedded data and assets.
 * Not for use outside reports/. */
#ifndef ZABLAB_REPORTS_REPORT_INTERNAL_H
#define ZABLAB_REPORTS_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reports/report_history.h"
#include "reports/report_html.h"
#include "reports/report_model.h"

/* Arrows per 4-pixel column beyond which a stretch is drawn as per-link
 * count bands instead of arrows. */
#define RSVG_ARROWS_PER_BIN 2
#define RSVG_BIN_PX 4
#define RSVG_BINS_MAX 2048

struct rsvg_opts {
    double width_px;
    bool standalone;             /* an SVG file of its own: carries its own <style> */
    const char *title;           /* standalone only */
};

/* Client lanes below the server lanes: the union of the history's
 * processes and the trace's simulated clients, ascending ids. When the
 * trace has simulated clients, history process p > TRD_CLIENTS_MAX is the
 * client's pipelined op lane ((p-1) / TRD_CLIENTS_MAX) of client
 * (p-1) % TRD_CLIENTS_MAX + 1 (sim/client.c numbers them so): its lane sits
 * under the client's and is labelled "c1.2". */
#define REP_CLIENT_LANES_MAX 1024
struct rep_clanes {
    int64_t ids[REP_CLIENT_LANES_MAX];
    char labels[REP_CLIENT_LANES_MAX][24];
    int n;
    bool fold;
    int of_proc[REP_CLIENT_LANES_MAX];     /* history lane -> client lane */
    int of_client[TRD_CLIENTS_MAX + 1];    /* trace client -> client lane, -1 none */
};
void rep_clanes_build(struct rep_clanes *c, const struct rmod *m, const struct rhist *h);

void rep_esc(FILE *f, const char *s);                /* XML/HTML text and attributes */
void rep_json_str(FILE *f, const char *s);           /* a JSON string safe inside <script> */
void rep_fmt_time(char *buf, size_t cap, int64_t t_ns);  /* "1.204s" */

/* The whole run as one SVG (aggregated): lanes, state bands, faults,
 * messages, client ops, the violation. */
void rsvg_write(FILE *f, const struct rmod *m, const struct rhist *h,
                const struct rep_violation *v, const struct rsvg_opts *o);

/* <script type="application/json" id="zl-data">...</script> */
void rep_data_write(FILE *f, const struct rmod *m, const struct rhist *h,
                    const struct rep_violation *v);

/* Metrics section: latency percentiles and histograms, throughput,
 * elections and time without a leader. */
void rep_metrics_write(FILE *f, const struct rmod *m, const struct rhist *h);

const char *rep_css(void);
const char *rep_js(void);
const char *rep_svg_css(void);

#endif
