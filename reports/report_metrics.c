/* The metrics part of the report: latency percentiles and histograms per
 * operation kind (reports/stats.h), commit throughput over time, elections
 * (leaderless stretch -> established leader) and the time without one.
 *
 * Owns: transient sample arrays, freed before return.
 * Must never: fail the whole report because one metric has no data (an
 * empty metric is shown as such). */
#include "reports/report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/stats.h"

#define HIST_BINS 24
#define THROUGHPUT_BUCKETS 150
#define ELECTION_ROWS_MAX 60

struct samples { int *kinds; double *values; size_t n; };

static void bars_svg(FILE *f, const uint64_t *counts, size_t n, double w, double h, const char *lo,
                     const char *hi, const char *cls)
{
    uint64_t peak = 1;
    for (size_t i = 0; i < n; i++)
        if (counts[i] > peak)
            peak = counts[i];
    double bw = (w - 2) / (double)(n ? n : 1);
    fprintf(f, "<svg class=\"bars %s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\">", cls, w,
            h + 14, w, h + 14);
    for (size_t i = 0; i < n; i++) {
        double bh = (double)counts[i] / (double)peak * (h - 4);
        if (counts[i])
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%llu</title></rect>",
                    1 + i * bw, h - bh, bw > 1.5 ? bw - 0.5 : bw, bh, (unsigned long long)counts[i]);
    }
    fprintf(f, "<line x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/><text x=\"0\" y=\"%.0f\">%s</text>"
               "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text><text x=\"%.0f\" y=\"9\" "
               "text-anchor=\"end\">peak %llu</text></svg>", h, w, h, h + 12, lo, w, h + 12, hi, w,
            (unsigned long long)peak);
}

/* Without a history, the simulated clients' requests of the trace: from
 * sending to an answer without error, per op (kind = op index + 1). */
static void collect_trace_clients(const struct rmod *m, struct samples *s)
{
    for (uint32_t i = 0; i < m->n_cmsgs; i++) {
        const struct rmod_cmsg *c = &m->cmsgs[i];
        if (c->t_send_ns < 0 || c->t_recv_ns < 0 || c->err != 0 || c->op + 1 >= STATS_KINDS_MAX)
            continue;
        s->kinds[s->n] = c->op + 1;
        s->values[s->n++] = (double)(c->t_recv_ns - c->t_send_ns) / 1e6;
    }
}

static int collect(const struct rmod *m, const struct rhist *h, struct samples *s)
{
    size_t cap = m->n_commits + (h ? h->n_ops : m->n_cmsgs);
    s->kinds = malloc((cap ? cap : 1) * sizeof *s->kinds);
    s->values = malloc((cap ? cap : 1) * sizeof *s->values);
    s->n = 0;
    if (!s->kinds || !s->values)
        return -1;
    for (uint32_t i = 0; i < m->n_commits; i++)
        s->kinds[s->n] = 0, s->values[s->n++] = m->commit_latency_ms[i];
    for (uint32_t i = 0; h && i < h->n_ops; i++) {
        const struct rhist_op *op = &h->ops[i];
        if (op->status != RHIST_OK || op->kind + 1 >= STATS_KINDS_MAX)
            continue;
        s->kinds[s->n] = op->kind + 1;
        s->values[s->n++] = (double)(op->t_ret_ns - op->t_inv_ns) / 1e6;
    }
    if (!h)
        collect_trace_clients(m, s);
    return 0;
}

static void kind_histogram(FILE *f, const struct samples *s, int kind, const struct stats_summary *sum)
{
    double *vals = malloc(sum->n * sizeof *vals);
    if (!vals)
        return;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->kinds[i] == kind)
            vals[n++] = s->values[i];
    double lo = sum->min > 0.001 ? sum->min : 0.001, hi = sum->max * 1.0001;
    if (hi <= lo * 1.01)
        hi = lo * 2;
    struct stats_histogram *hg = malloc(sizeof *hg);
    char err[128], a[32], b[32];
    if (hg && stats_histogram(vals, n, lo, hi, HIST_BINS, STATS_SCALE_LOG, hg, err, sizeof err) == 0) {
        hg->counts[0] += hg->underflow;
        snprintf(a, sizeof a, "%.3g ms", lo), snprintf(b, sizeof b, "%.3g ms (log scale)", hi);
        bars_svg(f, hg->counts, hg->n_bins, 300, 70, a, b, "hist");
    }
    free(hg);
    free(vals);
}

static void latency_section(FILE *f, const struct rmod *m, const struct rhist *h)
{
    struct samples s;
    int n_kinds = 1 + (h ? h->n_kinds : m->n_cop_names);
    if (n_kinds > STATS_KINDS_MAX)
        n_kinds = STATS_KINDS_MAX;
    struct stats_summary sums[STATS_KINDS_MAX];
    char err[128];
    fprintf(f, "<h3>Latency</h3><p class=\"note\">commit: a proposal on its leader, from PROPOSED "
               "to COMMITTED. Client kinds: %s.</p>\n", h ? "invocation to ok completion (the history)"
                                                         : "request sent to answer without error, as the "
                                                           "simulated client saw it (the trace)");
    if (collect(m, h, &s) < 0 ||
        stats_summarize_by_kind(s.kinds, s.values, s.n, (size_t)n_kinds, sums, err, sizeof err) < 0) {
        fprintf(f, "<p>no latency data</p>");
        free(s.kinds), free(s.values);
        return;
    }
    fprintf(f, "<table class=\"lat\"><tr><th>kind</th><th>n</th><th>p50 ms</th><th>p90 ms</th>"
               "<th>p99 ms</th><th>max ms</th><th>histogram</th></tr>\n");
    for (int k = 0; k < n_kinds; k++) {
        fprintf(f, "<tr><td>");
        rep_esc(f, k == 0 ? "commit" : h ? h->kinds[k - 1] : m->cop_names[k - 1]);
        if (sums[k].n == 0) {
            fprintf(f, "</td><td>0</td><td colspan=\"5\">no completed operations</td></tr>\n");
            continue;
        }
        fprintf(f, "</td><td>%zu</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>", sums[k].n,
                sums[k].p50, sums[k].p90, sums[k].p99, sums[k].max);
        kind_histogram(f, &s, k, &sums[k]);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
    free(s.kinds), free(s.values);
}

static void throughput_section(FILE *f, const struct rmod *m)
{
    int64_t end = m->t_end_ns > 0 ? m->t_end_ns : 1;
    int64_t bucket = end / THROUGHPUT_BUCKETS;
    if (bucket < 1000000)
        bucket = 1000000;
    struct stats_throughput *tp = malloc(sizeof *tp);
    char err[128], hi[48];
    fprintf(f, "<h3>Commit throughput</h3>");
    if (!tp || stats_throughput(m->commit_t_ns, m->n_commits, 0, end + 1, bucket, tp, err, sizeof err) < 0) {
        fprintf(f, "<p>no throughput data</p>");
        free(tp);
        return;
    }
    fprintf(f, "<p class=\"note\">commits per %.0f ms on the leader; mean %.1f/s over the run. Gaps are "
               "stretches without a leader.</p>", (double)bucket / 1e6, tp->mean_per_s);
    rep_fmt_time(hi, sizeof hi, end);
    bars_svg(f, tp->counts, tp->n_buckets, 1000, 90, "0s", hi, "tput");
    free(tp);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void election_rows(FILE *f, const struct rmod *m)
{
    fprintf(f, "<table class=\"elections\"><tr><th>#</th><th>leaderless from</th><th>leader established</th>"
               "<th>duration</th><th>leader</th><th>epoch</th></tr>\n");
    for (uint32_t i = 0; i < m->n_elections && i < ELECTION_ROWS_MAX; i++) {
        const struct rmod_election *e = &m->elections[i];
        char a[32], b[32] = "never";
        rep_fmt_time(a, sizeof a, e->t0_ns);
        if (e->t1_ns >= 0)
            rep_fmt_time(b, sizeof b, e->t1_ns);
        fprintf(f, "<tr><td>%u</td><td><a href=\"#\" data-goto=\"%lld\">%s</a></td><td>%s</td>", i + 1,
                (long long)(e->t0_ns / 1000), a, b);
        if (e->t1_ns >= 0)
            fprintf(f, "<td>%.1f ms</td><td>s%d</td><td>%u</td></tr>\n", (double)(e->t1_ns - e->t0_ns) / 1e6,
                    e->leader, e->epoch);
        else
            fprintf(f, "<td>until the end</td><td>-</td><td>-</td></tr>\n");
    }
    fprintf(f, "</table>\n");
}

static void elections_section(FILE *f, const struct rmod *m)
{
    double durs[RMOD_ELECTIONS_MAX];
    size_t n = 0;
    for (uint32_t i = 0; i < m->n_elections; i++)
        if (m->elections[i].t1_ns >= 0)
            durs[n++] = (double)(m->elections[i].t1_ns - m->elections[i].t0_ns) / 1e6;
    qsort(durs, n, sizeof durs[0], cmp_double);
    double end = m->t_end_ns > 0 ? (double)m->t_end_ns : 1;
    fprintf(f, "<h3>Elections</h3><div class=\"kpis\"><div><b>%u</b>leaderless stretches</div>"
               "<div><b>%.1f ms</b>median election (LOOKING &#8594; ESTABLISHED)</div>"
               "<div><b>%.1f ms</b>longest</div><div><b>%.3fs</b>without a leader (%.1f%% of the run)</div>"
               "<div><b>%u</b>highest epoch</div></div>\n", m->n_elections,
            n ? stats_quantile_sorted(durs, n, 0.5) : 0.0, n ? durs[n - 1] : 0.0,
            (double)m->leaderless_ns / 1e9, 100.0 * (double)m->leaderless_ns / end, m->max_epoch);
    election_rows(f, m);
}

static void messages_section(FILE *f, const struct rmod *m)
{
    fprintf(f, "<h3>Messages</h3><div class=\"kpis\">");
    for (int c = 0; c < TRD_MC_COUNT; c++)
        if (m->msgs_by_class[c])
            fprintf(f, "<div><b class=\"mcl%d\">%llu</b>%s</div>", c, (unsigned long long)m->msgs_by_class[c],
                    trd_msg_class_name((enum trd_msg_class)c));
    fprintf(f, "<div><b>%llu</b>lost</div><div><b>%llu / %llu / %llu</b>syncs by DIFF / TRUNC / SNAP</div>"
               "</div>\n", (unsigned long long)m->msgs_lost, (unsigned long long)(m->n_sync[0]),
            (unsigned long long)(m->n_sync[1] + m->n_sync[2]), (unsigned long long)m->n_sync[3]);
}

void rep_metrics_write(FILE *f, const struct rmod *m, const struct rhist *h)
{
    fprintf(f, "<section id=\"metrics\"><h2>Metrics</h2>\n");
    latency_section(f, m, h);
    throughput_section(f, m);
    elections_section(f, m);
    messages_section(f, m);
    fprintf(f, "</section>\n");
}
