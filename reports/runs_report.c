/* The summary page over many seeds (reports/runs_report.h). Two passes:
 * first the database is aggregated into a bounded in-memory summary (counts
 * per scenario, failure kinds, per-metric percentiles and histograms, never
 * the runs themselves); then the page is written scenario by scenario,
 * reading only the first failing runs of each from the database.
 *
 * Owns: the summary (freed before returning) and DIR/index.html.
 * Must never: keep a per-run array, list more than failures_max runs of a
 * scenario, or reference anything outside the page. */
#include "reports/runs_report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/report_internal.h"
#include "reports/results_db_query.h"
#include "reports/stats.h"

#define DETAIL_CHARS_MAX 300

struct rrun_metric {
    char name[RDB_METRIC_NAME_MAX];
    struct stats_summary s;
    double p25, p75;
    size_t n_total;
    bool finite;                 /* all values finite: the histogram is drawn */
    uint64_t bins[RRUN_HIST_BINS];
    double lo, hi;
};

struct rrun_kind {
    char *property, *replay, *bugs;
    int64_t runs;
    uint64_t first_seed;
};

struct rrun_scenario {
    char *name;
    int64_t runs, pass, fail, error, seeds;
    struct rrun_kind kinds[RRUN_KINDS_MAX];
    uint32_t n_kinds, kinds_more;
    struct rrun_metric *metrics; /* RRUN_METRICS_MAX, only for sections */
    uint32_t n_metrics, metrics_more;
};

struct rrun_sum {
    struct rrun_scenario *sc;
    uint32_t n_sc, rows_more;
    int64_t runs, pass, fail, error;
    bool oom;
    char err[256];
};

/* ---- pass 1: the aggregate ---------------------------------------------- */

static int on_summary(const struct rdb_scenario_summary *s, void *ctx)
{
    struct rrun_sum *u = ctx;
    u->runs += s->runs, u->pass += s->pass, u->fail += s->fail, u->error += s->error;
    if (u->n_sc >= RRUN_ROWS_MAX) {
        u->rows_more++;
        return 0;
    }
    struct rrun_scenario *sc = &u->sc[u->n_sc];
    memset(sc, 0, sizeof *sc);
    sc->name = strdup(s->scenario);
    if (u->n_sc < RRUN_SECTIONS_MAX)
        sc->metrics = calloc(RRUN_METRICS_MAX, sizeof *sc->metrics);
    if (!sc->name || (u->n_sc < RRUN_SECTIONS_MAX && !sc->metrics)) {
        free(sc->name), free(sc->metrics);
        u->oom = true;
        return -1;
    }
    sc->runs = s->runs, sc->pass = s->pass, sc->fail = s->fail, sc->error = s->error;
    sc->seeds = s->seeds;
    u->n_sc++;
    return 0;
}

/* Scenarios come sorted by SQLite's binary collation, which is strcmp's. */
static struct rrun_scenario *find_scenario(struct rrun_sum *u, const char *name)
{
    uint32_t lo = 0, hi = u->n_sc;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(u->sc[mid].name, name);
        if (c == 0)
            return &u->sc[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int on_kind(const struct rdb_failure_kind *k, void *ctx)
{
    struct rrun_sum *u = ctx;
    struct rrun_scenario *sc = find_scenario(u, k->scenario);
    if (!sc)
        return 0;
    if (sc->n_kinds >= RRUN_KINDS_MAX) {
        sc->kinds_more++;
        return 0;
    }
    struct rrun_kind *d = &sc->kinds[sc->n_kinds];
    d->property = strdup(k->property), d->replay = strdup(k->first_replay), d->bugs = strdup(k->first_bugs);
    d->runs = k->runs, d->first_seed = k->first_seed;
    sc->n_kinds++;
    if (!d->property || !d->replay || !d->bugs) {
        u->oom = true;
        return -1;
    }
    return 0;
}

static void metric_histogram(struct rrun_metric *m, const double *v, size_t n)
{
    m->lo = v[0], m->hi = v[n - 1];
    m->finite = isfinite(m->lo) && isfinite(m->hi);
    if (!m->finite)
        return;
    if (m->lo == m->hi) { /* one value: a single bar in the middle bin */
        m->bins[RRUN_HIST_BINS / 2] = n;
        return;
    }
    struct stats_histogram *h = malloc(sizeof *h);
    char err[128];
    if (!h || stats_histogram(v, n, m->lo, m->hi, RRUN_HIST_BINS, STATS_SCALE_LINEAR, h, err, sizeof err) != 0) {
        m->finite = false;
        free(h);
        return;
    }
    for (int b = 0; b < RRUN_HIST_BINS; b++)
        m->bins[b] = h->counts[b];
    m->bins[RRUN_HIST_BINS - 1] += h->overflow; /* the maximum itself */
    free(h);
}

static int on_group(const struct rdb_metric_group *g, void *ctx)
{
    struct rrun_sum *u = ctx;
    struct rrun_scenario *sc = find_scenario(u, g->scenario);
    if (!sc || !sc->metrics || !g->n_kept)
        return 0;
    if (sc->n_metrics >= RRUN_METRICS_MAX) {
        sc->metrics_more++;
        return 0;
    }
    struct rrun_metric *m = &sc->metrics[sc->n_metrics];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", g->name);
    if (stats_summarize(g->values, g->n_kept, &m->s, u->err, sizeof u->err) != 0)
        return 0; /* NaN cannot be stored; anything else: leave the metric out */
    m->p25 = stats_quantile_sorted(g->values, g->n_kept, 0.25);
    m->p75 = stats_quantile_sorted(g->values, g->n_kept, 0.75);
    m->n_total = g->n_total;
    metric_histogram(m, g->values, g->n_kept);
    sc->n_metrics++;
    return 0;
}

static void sum_free(struct rrun_sum *u)
{
    for (uint32_t i = 0; u->sc && i < u->n_sc; i++) {
        struct rrun_scenario *sc = &u->sc[i];
        for (uint32_t k = 0; k < sc->n_kinds; k++)
            free(sc->kinds[k].property), free(sc->kinds[k].replay), free(sc->kinds[k].bugs);
        free(sc->name);
        free(sc->metrics);
    }
    free(u->sc);
}

static int sum_build(struct rdb *db, struct rrun_sum *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    u->sc = calloc(RRUN_ROWS_MAX, sizeof *u->sc);
    int rc = u->sc ? 0 : -1;
    if (rc == 0)
        rc = rdb_summarize(db, NULL, on_summary, u);
    if (rc == 0)
        rc = rdb_each_failure_kind(db, on_kind, u);
    if (rc == 0)
        rc = rdb_each_metric_group(db, on_group, u);
    if (rc != 0)
        snprintf(err, errlen, "%s", !u->sc || u->oom ? "runs report: out of memory" : rdb_errmsg(db));
    return rc;
}

/* ---- pass 2: the page ----------------------------------------------------- */

static const char page_css[] =
    "table.scen td.num,table.metrics td.num,table.kinds td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tr.sc-row.failing td:first-child a{color:var(--bad);font-weight:700}\n"
    "code.cmd{display:inline-block;background:#0f131c;color:#e7ecf5;padding:2px 8px;border-radius:5px;"
    "font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;cursor:copy;margin:1px 0}\n"
    "code.cmd.copied{background:#1f8a4c}\n"
    "td.detail{max-width:420px;font-size:12.5px;color:var(--muted)}\n"
    "svg.dist rect.bin{fill:#7a6ad8}svg.dist line{stroke:#1d2330}svg.dist rect.box{fill:#cfd8ea;stroke:#1d2330}\n"
    "svg.passbar rect.p{fill:var(--good)}svg.passbar rect.f{fill:var(--bad)}svg.passbar rect.e{fill:#f0a04b}\n"
    "p.more{font-weight:600}\n"
    "body.only-failing section.scenario.passing,body.only-failing tr.sc-row.passing{display:none}\n";

static const char page_js[] =
    "(function () {\n"
    "  'use strict';\n"
    "  document.querySelectorAll('code.cmd').forEach(function (c) {\n"
    "    c.title = 'click to copy';\n"
    "    c.addEventListener('click', function () {\n"
    "      if (navigator.clipboard) navigator.clipboard.writeText(c.textContent).then(function () {\n"
    "        c.classList.add('copied'); setTimeout(function () { c.classList.remove('copied'); }, 800);\n"
    "      });\n"
    "    });\n"
    "  });\n"
    "  var only = document.getElementById('only-failing');\n"
    "  if (only) only.addEventListener('change', function () {\n"
    "    document.body.classList.toggle('only-failing', only.checked);\n"
    "  });\n"
    "  document.body.setAttribute('data-rendered', '1');\n"
    "})();\n";

struct writer {
    FILE *f;
    struct rdb *db;
    const struct rrun_opts *o;
    const struct rrun_sum *u;
    size_t failures_max;
    int rc;
};

static void write_head(const struct writer *w)
{
    FILE *f = w->f;
    const struct rrun_sum *u = w->u;
    int64_t bad = u->fail + u->error;
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
               "content=\"width=device-width, initial-scale=1\"><title>zablab runs: ");
    rep_esc(f, w->o->db_label);
    fprintf(f, "</title>\n<style>%s\n%s</style></head>\n<body>\n<header><h1>zablab runs<span class=\"seed\">", rep_css(),
            page_css);
    rep_esc(f, w->o->db_label);
    fprintf(f, "</span><span class=\"badge %s\" id=\"verdict\">%s</span></h1>\n", bad ? "fail" : "pass",
            !u->runs ? "NO RUNS" : bad ? "FAILURES" : "ALL PASS");
    fprintf(f, "<div class=\"summary\" id=\"totals\"><b data-total=\"runs\">%" PRId64 "</b> runs of <b "
               "data-total=\"scenarios\">%u</b> scenarios &#183; <b data-total=\"pass\">%" PRId64 "</b> pass &#183; "
               "<b data-total=\"fail\">%" PRId64 "</b> fail &#183; <b data-total=\"error\">%" PRId64 "</b> error</div>\n"
               "</header>\n<main>\n", u->runs, u->n_sc + u->rows_more, u->pass, u->fail, u->error);
}

/* A bar of the scenario's verdicts, 120 px wide. */
static void write_passbar(FILE *f, const struct rrun_scenario *sc)
{
    double w = 120.0, t = (double)(sc->runs ? sc->runs : 1);
    double p = w * (double)sc->pass / t, x = w * (double)sc->fail / t, e = w * (double)sc->error / t;
    fprintf(f, "<svg class=\"passbar\" width=\"120\" height=\"10\"><rect class=\"p\" x=\"0\" y=\"0\" width=\"%.1f\" "
               "height=\"10\"/><rect class=\"f\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"10\"/><rect class=\"e\" "
               "x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"10\"/></svg>", p, p, x, p + x, e);
}

static void write_overview_row(FILE *f, const struct rrun_scenario *sc, uint32_t i)
{
    bool failing = sc->fail + sc->error > 0;
    fprintf(f, "<tr class=\"sc-row %s\" data-scenario=\"", failing ? "failing" : "passing");
    rep_esc(f, sc->name);
    if (i < RRUN_SECTIONS_MAX)
        fprintf(f, "\"><td><a href=\"#sc-%u\">", i + 1);
    else
        fprintf(f, "\"><td><a>");
    rep_esc(f, sc->name);
    fprintf(f, "</a></td><td class=\"num n-runs\">%" PRId64 "</td><td class=\"num n-pass\">%" PRId64 "</td><td "
               "class=\"num n-fail\">%" PRId64 "</td><td class=\"num n-error\">%" PRId64 "</td><td class=\"num "
               "n-seeds\">%" PRId64 "</td><td>", sc->runs, sc->pass, sc->fail, sc->error, sc->seeds);
    write_passbar(f, sc);
    fprintf(f, "</td><td>");
    for (uint32_t k = 0; k < sc->n_kinds && k < 4; k++) {
        fprintf(f, "%s", k ? ", " : "");
        rep_esc(f, sc->kinds[k].property);
        fprintf(f, " &#215;%" PRId64, sc->kinds[k].runs);
    }
    if (sc->n_kinds + sc->kinds_more > 4)
        fprintf(f, ", &#8230;");
    fprintf(f, "</td></tr>\n");
}

static void write_overview(const struct writer *w)
{
    FILE *f = w->f;
    fprintf(f, "<section id=\"overview\"><h2>Scenarios</h2>\n");
    if (!w->u->n_sc) {
        fprintf(f, "<p class=\"note\" id=\"empty\">The database holds no runs. Record some with <code>zablab "
                   "explore SCENARIO --seeds 1..100 --db FILE</code>.</p></section>\n");
        return;
    }
    fprintf(f, "<p class=\"note\">Each scenario's runs over its seeds. A run fails when a property was violated; "
               "an error is a run that could not be carried out. Click a scenario for its failures and metrics."
               "</p><label class=\"note\"><input type=\"checkbox\" id=\"only-failing\"> only failing scenarios"
               "</label>\n<table class=\"scen\"><tr><th>scenario</th><th>runs</th><th>pass</th><th>fail</th>"
               "<th>error</th><th>seeds</th><th></th><th>failure kinds</th></tr>\n");
    for (uint32_t i = 0; i < w->u->n_sc; i++)
        write_overview_row(f, &w->u->sc[i], i);
    fprintf(f, "</table>\n");
    if (w->u->rows_more)
        fprintf(f, "<p class=\"more\">and %u more scenarios not shown (zablab runs --db FILE lists them)</p>\n",
                w->u->rows_more);
    if (w->u->n_sc > RRUN_SECTIONS_MAX)
        fprintf(f, "<p class=\"note\">Details below for the first %d scenarios.</p>\n", RRUN_SECTIONS_MAX);
    fprintf(f, "</section>\n");
}

/* Commands are shown as typed; the shell quoting of odd names is the
 * recording command's business (the replay column is stored ready to run). */
static void write_cmd(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<code class=\"cmd %s\">", cls);
    rep_esc(f, text);
    fprintf(f, "</code>");
}

/* "scenarios/leader-crash.scn" -> "leader-crash": safe in a path. */
static void slug(const char *scenario, char *out, size_t cap)
{
    const char *base = strrchr(scenario, '/');
    base = base ? base + 1 : scenario;
    size_t n = 0;
    for (; *base && n + 1 < cap && n < 48; base++) {
        if (!strcmp(base, ".scn"))
            break;
        char c = *base;
        out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.'
                       ? c
                       : '_';
    }
    out[n] = 0;
    if (!n)
        snprintf(out, cap, "run");
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The replay command of a run: the recorded one, else one built from the
 * scenario path (only when the scenario is a .scn path). "" when neither. */
static void replay_of(const char *scenario, uint64_t seed, const char *bugs, const char *recorded, char *out,
                      size_t cap)
{
    out[0] = 0;
    if (recorded && *recorded) {
        snprintf(out, cap, "%s", recorded);
        return;
    }
    if (!ends_with(scenario, ".scn"))
        return;
    size_t o = (size_t)snprintf(out, cap, "zablab replay %s --seed %" PRIu64, scenario, seed);
    char list[512];
    snprintf(list, sizeof list, "%s", bugs ? bugs : "");
    for (char *save = NULL, *b = strtok_r(list, ",", &save); b && o < cap; b = strtok_r(NULL, ",", &save))
        o += (size_t)snprintf(out + o, cap - o, " --bug %s", b);
}

static void write_commands(const struct writer *w, const char *scenario, uint64_t seed, const char *bugs,
                           const char *recorded)
{
    char replay[1024], report[1400], name[64];
    replay_of(scenario, seed, bugs, recorded, replay, sizeof replay);
    if (!*replay) {
        fprintf(w->f, "<span class=\"note\">no replay command recorded</span>");
        return;
    }
    write_cmd(w->f, "replay", replay);
    if (strncmp(replay, "zablab replay ", 14) != 0)
        return;
    slug(scenario, name, sizeof name);
    snprintf(report, sizeof report, "%s --report %s/%s-seed%" PRIu64, replay,
             w->o->report_root ? w->o->report_root : "out", name, seed);
    fprintf(w->f, "<br>");
    write_cmd(w->f, "report", report);
}

static void write_kinds(const struct writer *w, const struct rrun_scenario *sc)
{
    FILE *f = w->f;
    if (!sc->n_kinds)
        return;
    fprintf(f, "<h3>Failure kinds</h3><table class=\"kinds\"><tr><th>violated property</th><th>runs</th>"
               "<th>first seed</th><th>replay the first</th></tr>\n");
    for (uint32_t k = 0; k < sc->n_kinds; k++) {
        const struct rrun_kind *d = &sc->kinds[k];
        fprintf(f, "<tr class=\"kind\" data-property=\"");
        rep_esc(f, d->property);
        fprintf(f, "\"><td class=\"bad\">");
        rep_esc(f, d->property);
        fprintf(f, "</td><td class=\"num k-runs\">%" PRId64 "</td><td class=\"num k-seed\">%" PRIu64 "</td><td>",
                d->runs, d->first_seed);
        write_commands(w, sc->name, d->first_seed, d->bugs, d->replay);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
    if (sc->kinds_more)
        fprintf(f, "<p class=\"more\">and %u more kinds</p>\n", sc->kinds_more);
}

/* Free text cut at a character boundary: a UTF-8 sequence is never split. */
static void write_detail(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (n <= DETAIL_CHARS_MAX) {
        rep_esc(f, s);
        return;
    }
    size_t cut = DETAIL_CHARS_MAX;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    char *copy = strndup(s, cut);
    rep_esc(f, copy ? copy : "");
    free(copy);
    fprintf(f, "&#8230;");
}

static void write_failure_row(const struct writer *w, const struct rdb_run *r)
{
    FILE *f = w->f;
    char t[32] = "-";
    const struct rdb_violation *v = r->n_violations ? &r->violations[0] : NULL;
    if (v && v->sim_time_ns >= 0)
        rep_fmt_time(t, sizeof t, v->sim_time_ns);
    fprintf(f, "<tr class=\"failure\" data-seed=\"%" PRIu64 "\"><td class=\"num\">%" PRIu64 "</td><td class=\"bad\">%s"
               "</td><td>", r->seed, r->seed, rdb_verdict_name(r->verdict));
    rep_esc(f, *r->bugs ? r->bugs : "-");
    fprintf(f, "</td><td>");
    rep_esc(f, v ? v->property : "-");
    fprintf(f, "</td><td class=\"num\">%s</td><td class=\"detail\">", t);
    write_detail(f, v ? v->details : "");
    fprintf(f, "</td><td>");
    write_commands(w, r->scenario, r->seed, r->bugs, r->replay);
    fprintf(f, "</td></tr>\n");
}

static int on_failure(const struct rdb_run *brief, void *ctx)
{
    struct writer *w = ctx;
    struct rdb_run *full = NULL;
    if (rdb_load_run(w->db, brief->id, &full) != 0)
        return -1;
    write_failure_row(w, full);
    rdb_run_free(full);
    return 0;
}

static int write_failures(struct writer *w, const struct rrun_scenario *sc)
{
    FILE *f = w->f;
    int64_t failing = sc->fail + sc->error;
    if (!failing)
        return 0;
    fprintf(f, "<h3>Failing runs</h3><table class=\"failures\"><tr><th>seed</th><th>verdict</th><th>bugs</th>"
               "<th>property</th><th>at</th><th>detail</th><th>commands (click to copy)</th></tr>\n");
    struct rdb_filter flt = {.scenario = sc->name, .failed_only = true, .limit = w->failures_max};
    if (rdb_list(w->db, &flt, on_failure, w) != 0)
        return -1;
    fprintf(f, "</table>\n");
    if ((uint64_t)failing > w->failures_max) {
        fprintf(f, "<p class=\"more\" data-more=\"%" PRId64 "\">and %" PRId64 " more failing runs not listed: "
                   "<code>zablab runs --db ", failing - (int64_t)w->failures_max, failing - (int64_t)w->failures_max);
        rep_esc(f, w->o->db_label);
        fprintf(f, " --scenario ");
        rep_esc(f, sc->name);
        fprintf(f, " --failed</code> lists them all</p>\n");
    }
    return 0;
}

static void fmt_num(char *buf, size_t cap, double v)
{
    if (!isfinite(v))
        snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.4g", v);
}

/* Histogram (top) and box plot (bottom: min-max whiskers, p25-p75 box,
 * median line, p99 tick), 160x40 px. */
static void write_dist(FILE *f, const struct rrun_metric *m)
{
    if (!m->finite) {
        fprintf(f, "<span class=\"note\">not drawn: infinite values</span>");
        return;
    }
    uint64_t peak = 1;
    for (int b = 0; b < RRUN_HIST_BINS; b++)
        peak = m->bins[b] > peak ? m->bins[b] : peak;
    double bw = 160.0 / RRUN_HIST_BINS, span = m->hi > m->lo ? m->hi - m->lo : 1.0;
    fprintf(f, "<svg class=\"dist\" width=\"160\" height=\"40\" viewBox=\"0 0 160 40\">");
    for (int b = 0; b < RRUN_HIST_BINS; b++) {
        if (!m->bins[b])
            continue;
        double h = 22.0 * (double)m->bins[b] / (double)peak;
        fprintf(f, "<rect class=\"bin\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%" PRIu64
                   " runs</title></rect>", b * bw, 23.0 - h, bw - 0.6, h, m->bins[b]);
    }
#define BX(v) (m->hi > m->lo ? 1.0 + 158.0 * ((v) - m->lo) / span : 80.0)
    fprintf(f, "<line x1=\"%.1f\" y1=\"33\" x2=\"%.1f\" y2=\"33\"/><rect class=\"box\" x=\"%.1f\" y=\"28\" "
               "width=\"%.1f\" height=\"10\"/><line x1=\"%.1f\" y1=\"27\" x2=\"%.1f\" y2=\"39\" stroke-width=\"2\"/>"
               "<line x1=\"%.1f\" y1=\"29\" x2=\"%.1f\" y2=\"37\" stroke-dasharray=\"2 1\"/></svg>",
            BX(m->lo), BX(m->hi), BX(m->p25), fmax(1.0, BX(m->p75) - BX(m->p25)), BX(m->s.p50), BX(m->s.p50),
            BX(m->s.p99), BX(m->s.p99));
#undef BX
}

static void write_metrics(const struct writer *w, const struct rrun_scenario *sc)
{
    FILE *f = w->f;
    if (!sc->n_metrics)
        return;
    fprintf(f, "<h3>Metrics across seeds</h3><table class=\"metrics\"><tr><th>metric</th><th>runs</th><th>min</th>"
               "<th>p50</th><th>p90</th><th>p99</th><th>max</th><th>distribution (box: p25&#8211;p75, bar: median, "
               "dashed: p99)</th></tr>\n");
    uint32_t n_const = 0;
    for (uint32_t i = 0; i < sc->n_metrics; i++) {
        const struct rrun_metric *m = &sc->metrics[i];
        if (m->s.min == m->s.max) { /* shown together below: a row each would only repeat one number */
            n_const++;
            continue;
        }
        char v[5][32];
        const double vals[5] = {m->s.min, m->s.p50, m->s.p90, m->s.p99, m->s.max};
        for (int k = 0; k < 5; k++)
            fmt_num(v[k], sizeof v[k], vals[k]);
        fprintf(f, "<tr class=\"metric\" data-metric=\"");
        rep_esc(f, m->name);
        fprintf(f, "\"><td>");
        rep_esc(f, m->name);
        fprintf(f, "</td><td class=\"num\">%zu%s</td><td class=\"num\">%s</td><td class=\"num m-p50\">%s</td><td "
                   "class=\"num\">%s</td><td class=\"num m-p99\">%s</td><td class=\"num m-max\">%s</td><td>",
                m->n_total, m->n_total > m->s.n ? "*" : "", v[0], v[1], v[2], v[3], v[4]);
        write_dist(f, m);
        fprintf(f, "</td></tr>\n");
    }
    if (n_const) {
        fprintf(f, "<tr class=\"metric-const\"><td colspan=\"8\">the same in every run:");
        for (uint32_t i = 0; i < sc->n_metrics; i++) {
            const struct rrun_metric *m = &sc->metrics[i];
            char v[32];
            if (m->s.min != m->s.max)
                continue;
            fmt_num(v, sizeof v, m->s.min);
            fprintf(f, " <span data-metric=\"");
            rep_esc(f, m->name);
            fprintf(f, "\">");
            rep_esc(f, m->name);
            fprintf(f, " <b>%s</b></span>", v);
        }
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
    if (sc->metrics_more)
        fprintf(f, "<p class=\"more\">and %u more metrics</p>\n", sc->metrics_more);
}

static int write_section(struct writer *w, const struct rrun_scenario *sc, uint32_t i)
{
    FILE *f = w->f;
    bool failing = sc->fail + sc->error > 0;
    fprintf(f, "<section class=\"scenario %s\" id=\"sc-%u\" data-scenario=\"", failing ? "failing" : "passing", i + 1);
    rep_esc(f, sc->name);
    fprintf(f, "\"><h2>");
    rep_esc(f, sc->name);
    fprintf(f, " <span class=\"badge %s\">%" PRId64 " / %" PRId64 " pass</span></h2>\n", failing ? "fail" : "pass",
            sc->pass, sc->runs);
    write_kinds(w, sc);
    if (write_failures(w, sc) != 0)
        return -1;
    write_metrics(w, sc);
    fprintf(f, "</section>\n");
    return 0;
}

static int write_page(struct writer *w)
{
    write_head(w);
    write_overview(w);
    for (uint32_t i = 0; i < w->u->n_sc && i < RRUN_SECTIONS_MAX; i++)
        if (write_section(w, &w->u->sc[i], i) != 0)
            return -1;
    fprintf(w->f, "</main>\n<footer class=\"note\" style=\"padding:0 24px 24px\">zablab runs report &#183; ");
    rep_esc(w->f, w->o->db_label);
    fprintf(w->f, "</footer>\n<script>%s</script>\n</body></html>\n", page_js);
    return ferror(w->f) ? -1 : 0;
}

static int write_file(struct writer *w, const char *dir, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(w->f = fopen(tmp, "w"))) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = write_page(w);
    if (rc != 0 && *rdb_errmsg(w->db))
        snprintf(err, errlen, "%s", rdb_errmsg(w->db));
    else if (rc != 0)
        snprintf(err, errlen, "%s: write failed", path);
    if (fclose(w->f) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        remove(tmp);
    return rc;
}

int rrun_write(struct rdb *db, const char *dir, const struct rrun_opts *o, char *err, size_t errlen)
{
    if (!db || !dir || !o) {
        snprintf(err, errlen, "runs report: a database and an output directory are required");
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct rrun_sum u;
    int rc = sum_build(db, &u, err, errlen);
    if (rc == 0) {
        struct rrun_opts opts = *o;
        if (!opts.db_label)
            opts.db_label = "runs.db";
        struct writer w = {.db = db, .o = &opts, .u = &u, .failures_max = o->failures_max};
        if (!w.failures_max)
            w.failures_max = RRUN_FAILURES_DEFAULT;
        if (w.failures_max > RRUN_FAILURES_MAX)
            w.failures_max = RRUN_FAILURES_MAX;
        rc = write_file(&w, dir, err, errlen);
    }
    sum_free(&u);
    return rc;
}
