/* Writes the run report: DIR/index.html (and DIR/diagram.svg with --svg).
 * The page is one file: CSS and script inline, the data as compact JSON,
 * the whole-run overview as static SVG so that the picture is there even
 * without JavaScript.
 *
 * Owns: the model and history while writing; the output files.
 * Must never: reference anything outside the page, or leave a half-written
 * index.html behind (it writes a temporary file and renames it). */
#include "reports/report_html.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports/narrate.h"
#include "reports/report_png.h"
#include "reports/report_internal.h"

#define OVERVIEW_WIDTH_PX 1400.0
#define NARRATION_LINES_MAX 3000

struct page {
    const struct rep_html_input *in;
    struct rmod m;
    struct rhist h;
    bool has_hist;
};

static bool all_pass(const struct rep_html_input *in)
{
    if (in->violation)
        return false;
    for (size_t i = 0; i < in->n_verdicts; i++)
        if (!in->verdicts[i].pass)
            return false;
    return true;
}

static void write_header(FILE *f, const struct page *p)
{
    const struct rep_html_input *in = p->in;
    const char *name = in->scenario ? in->scenario : "run";
    bool pass = all_pass(in);
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>zablab: ");
    rep_esc(f, name);
    fprintf(f, " seed %" PRIu64 "</title>\n<style>%s\n%s</style></head>\n<body>\n<header><h1>", in->seed,
            rep_css(), rep_svg_css());
    rep_esc(f, name);
    fprintf(f, "<span class=\"seed\">seed %" PRIu64 "</span><span class=\"badge %s\" id=\"verdict\">%s</span></h1>\n",
            in->seed, pass ? "pass" : "fail", pass ? "PASS" : "FAIL");
    fprintf(f, "<div class=\"summary\">%d servers (%d voters, %d observers) &#183; %.3fs simulated &#183; "
               "%" PRIu64 " trace records &#183; %" PRIu64 " txns committed &#183; %u leaderless stretches "
               "&#183; %" PRIu64 " crashes &#183; %" PRIu64 " messages (%" PRIu64 " lost)%s</div>\n",
            p->m.n_servers, p->m.voters, p->m.observers, (double)p->m.t_end_ns / 1e9, p->m.records,
            p->m.commits_total, p->m.n_elections, p->m.crashes, p->m.msgs_total, p->m.msgs_lost,
            p->m.truncated ? " &#183; <b>some records beyond the report's limits were counted, not drawn</b>" : "");
    if (p->m.n_clients)
        fprintf(f, "<div class=\"summary\" id=\"client-summary\">%d clients &#183; %" PRIu64 " requests (%" PRIu64
                   " without an answer) &#183; %" PRIu64 " watch events &#183; %u session changes</div>\n",
                p->m.n_clients, p->m.c_requests, p->m.c_unanswered, p->m.c_watches, p->m.n_csegs);
    if (in->replay_command) {
        fprintf(f, "<div class=\"replay\"><span>replay:</span><code id=\"replay\">");
        rep_esc(f, in->replay_command);
        fprintf(f, "</code><button data-copy=\"replay\">copy</button></div>\n");
    }
    fprintf(f, "</header>\n<main>\n");
}

static void write_verdicts(FILE *f, const struct rep_html_input *in)
{
    fprintf(f, "<section id=\"verdicts\"><h2>Expectations</h2>\n");
    if (!in->n_verdicts) {
        fprintf(f, "<p class=\"note\">The scenario stated no expectations.</p></section>\n");
        return;
    }
    fprintf(f, "<table><tr><th>expectation</th><th>verdict</th><th>detail</th></tr>\n");
    for (size_t i = 0; i < in->n_verdicts; i++) {
        const struct rep_verdict *v = &in->verdicts[i];
        fprintf(f, "<tr class=\"verdict\"><td>");
        rep_esc(f, v->name);
        fprintf(f, "</td><td class=\"%s\">%s</td><td>", v->pass ? "ok" : "bad", v->pass ? "pass" : "FAIL");
        rep_esc(f, v->detail);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table></section>\n");
}

static void write_violation_ops(FILE *f, const struct page *p, const struct rep_violation *v)
{
    if (!v->n_ops)
        return;
    fprintf(f, "<h3>Operations involved</h3><table class=\"ops\"><tr><th>op</th><th>client</th>"
               "<th>operation</th><th>invoked</th><th>completed</th><th>outcome</th></tr>\n");
    for (size_t i = 0; i < v->n_ops; i++) {
        uint32_t k = v->ops[i];
        if (!p->has_hist || k >= p->h.n_ops) {
            fprintf(f, "<tr class=\"viol\"><td>#%u</td><td colspan=\"5\">not in the history</td></tr>\n", k);
            continue;
        }
        const struct rhist_op *op = &p->h.ops[k];
        char a[32], b[32] = "-";
        rep_fmt_time(a, sizeof a, op->t_inv_ns);
        if (op->t_ret_ns >= 0)
            rep_fmt_time(b, sizeof b, op->t_ret_ns);
        fprintf(f, "<tr class=\"viol\"><td><a href=\"#\" data-goto=\"%lld\">#%u</a></td><td>c%" PRId64 "</td><td>",
                (long long)(op->t_inv_ns / 1000), k, op->process);
        rep_esc(f, op->label);
        fprintf(f, "</td><td class=\"t\">%s</td><td class=\"t\">%s</td><td>%s</td></tr>\n", a, b,
                rhist_status_name(op->status));
    }
    fprintf(f, "</table>\n");
}

static void write_violation(FILE *f, const struct page *p)
{
    const struct rep_violation *v = p->in->violation;
    if (!v)
        return;
    fprintf(f, "<section id=\"violation\" class=\"violation-box\"><h2>Violation</h2><div class=\"prop\">");
    rep_esc(f, v->property ? v->property : "violation");
    fprintf(f, "</div><p class=\"note\">");
    rep_esc(f, rep_property_explained(v->property));
    fprintf(f, "</p><p class=\"explanation\">");
    rep_esc(f, v->detail);
    fprintf(f, "</p><p>");
    if (v->t_ns >= 0) {
        char t[32];
        rep_fmt_time(t, sizeof t, v->t_ns);
        fprintf(f, "at <a href=\"#\" data-goto=\"%lld\" data-span=\"2000000\">t=%s</a> ", (long long)(v->t_ns / 1000), t);
    }
    for (int i = 0, shown = 0; i < v->n_nodes && i < REP_VIOLATION_NODES_MAX; i++) {
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup |= v->nodes[k] == v->nodes[i];
        if (!dup && v->nodes[i] > 0)
            fprintf(f, "%s s%d", shown++ ? "," : "on", v->nodes[i]);
    }
    fprintf(f, "</p>\n");
    write_violation_ops(f, p, v);
    fprintf(f, "</section>\n");
}

static void write_legend(FILE *f, const struct page *p)
{
    static const char *const states[][2] = {
        {"st1", "LOOKING"}, {"st4", "LEADING (discovery/sync)"}, {"st5", "LEADING (established)"},
        {"st2", "FOLLOWING (syncing)"}, {"st3", "FOLLOWING"}, {"st6", "OBSERVING"}, {"st7", "recovering"}};
    static const char *const faults[][2] = {
        {"#3b4252", "crashed"}, {"#a0522d", "crashed, torn write"}, {"#9aa3b5", "paused"},
        {"#f3b5ae", "partitioned"}, {"#f8d08e", "clogged"}, {"#d0312d", "no established leader (top strip)"}};
    fprintf(f, "<div class=\"legend\">");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        fprintf(f, "<span><svg width=\"18\" height=\"10\"><rect class=\"st %s\" width=\"18\" height=\"10\"/></svg> %s</span>",
                states[i][0], states[i][1]);
    fprintf(f, "</div><div class=\"legend\">");
    for (int c = 0; c < TRD_MC_COUNT - 1; c++)
        fprintf(f, "<span><svg width=\"18\" height=\"10\"><line class=\"mc%d\" x1=\"0\" y1=\"5\" x2=\"18\" y2=\"5\" "
                   "stroke-width=\"3\"/></svg> %s</span>", c, trd_msg_class_name((enum trd_msg_class)c));
    fprintf(f, "<span>&#10005; lost message</span>");
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        fprintf(f, "<span><i style=\"background:%s\"></i>%s</span>", faults[i][0], faults[i][1]);
    fprintf(f, "</div>\n");
    if (!p->m.n_clients)
        return;
    fprintf(f, "<div class=\"legend\" id=\"client-legend\"><span>client session:</span>");
    for (int s = 0; s < RMOD_CS_COUNT; s++)
        fprintf(f, "<span><svg width=\"18\" height=\"6\"><rect class=\"cs cs%d\" width=\"18\" height=\"6\"/></svg> %s</span>",
                s, rmod_cstate_name((enum rmod_cstate)s));
    fprintf(f, "<span>dashed pink: watch event</span></div>\n");
}

static void write_diagram(FILE *f, const struct page *p)
{
    fprintf(f, "<section id=\"diagram\"><h2>Space-time diagram</h2>\n<p class=\"note\">One lane per server%s%s; "
               "time runs left to right. Arrows are messages from send to receive; bands along a lane are the "
               "server's state (with its epoch). Hover anything for details. Wheel or +/- to zoom, drag or "
               "arrow keys to pan, 0 to fit.</p>\n<div class=\"toolbar\"><button data-zoom=\"0.5\">zoom in</button>"
               "<button data-zoom=\"2\">zoom out</button><button data-zoom=\"fit\">whole run</button>%s"
               "<span class=\"range\" id=\"st-range\"></span></div>\n",
            p->has_hist || p->m.n_clients ? " and one per client" : "",
            p->m.n_clients ? " (a client's request goes to its server and the answer comes back, drawn at half the "
                             "round trip since the trace has the client's times only; the strip under a client's lane "
                             "is its session state)" : "",
            p->in->violation && p->in->violation->t_ns >= 0 ? "<button data-goto-viol>violation</button>" : "");
    write_legend(f, p);
    fprintf(f, "<div id=\"st-wrap\"><noscript>The interactive diagram needs JavaScript; the overview below "
               "shows the whole run.</noscript></div>\n<h3>Whole run (click to move the window)</h3>"
               "<div id=\"overview\">\n");
    struct rsvg_opts o = {.width_px = OVERVIEW_WIDTH_PX};
    rsvg_write(f, &p->m, p->has_hist ? &p->h : NULL, p->in->violation, &o);
    fprintf(f, "</div></section>\n");
}

static void write_history(FILE *f, const struct page *p)
{
    if (!p->has_hist)
        return;
    fprintf(f, "<section id=\"history\"><h2>Client history</h2><p class=\"note\">%u operations by %d clients. "
               "In the diagram each client has a lane; a bar runs from invocation to completion. Dashed bars "
               "are indeterminate (info: the client does not know whether it took effect, or it never "
               "completed).%s</p>\n<table><tr><th>client</th><th>ops</th><th>ok</th><th>fail</th>"
               "<th>indeterminate</th></tr>\n", p->h.n_ops, p->h.n_procs,
            p->in->violation && p->in->violation->n_ops ? " Operations of the violation are outlined in red." : "");
    for (int l = 0; l < p->h.n_procs && l < 64; l++) {
        unsigned n[4] = {0, 0, 0, 0};
        for (uint32_t i = 0; i < p->h.n_ops; i++)
            if (p->h.ops[i].lane == l)
                n[p->h.ops[i].status]++;
        fprintf(f, "<tr><td>c%" PRId64 "</td><td>%u</td><td>%u</td><td>%u</td><td>%u</td></tr>\n", p->h.procs[l],
                n[0] + n[1] + n[2] + n[3], n[0], n[1], n[2] + n[3]);
    }
    fprintf(f, "</table></section>\n");
}

#define CLIENT_ROWS_MAX 64

struct client_row { uint32_t requests, answered, errors, unanswered, watches, sessions; int last_state; };

/* The simulated clients of the trace, one row each: what they sent, what
 * came back, how their sessions went. */
static void write_clients(FILE *f, const struct page *p)
{
    const struct rmod *m = &p->m;
    if (!m->n_clients)
        return;
    int n = m->n_clients < CLIENT_ROWS_MAX ? m->n_clients : CLIENT_ROWS_MAX;
    struct client_row rows[CLIENT_ROWS_MAX + 1];
    memset(rows, 0, sizeof rows);
    for (int c = 0; c <= n; c++)
        rows[c].last_state = -1;
    for (uint32_t i = 0; i < m->n_cmsgs; i++) {
        const struct rmod_cmsg *c = &m->cmsgs[i];
        if (c->client > n)
            continue;
        struct client_row *r = &rows[c->client];
        r->watches += c->t_send_ns < 0 && c->what == RMOD_CW_WATCH;
        if (c->t_send_ns < 0)
            continue;
        r->requests++;
        r->answered += c->t_recv_ns >= 0;
        r->unanswered += c->t_recv_ns < 0;
        r->errors += c->t_recv_ns >= 0 && c->err != 0;
    }
    for (uint32_t i = 0; i < m->n_csegs; i++)
        if (m->csegs[i].client <= n) {
            rows[m->csegs[i].client].sessions += m->csegs[i].state == RMOD_CS_CONNECTED;
            rows[m->csegs[i].client].last_state = m->csegs[i].state;
        }
    fprintf(f, "<section id=\"clients\"><h2>Simulated clients</h2><p class=\"note\">From the trace: requests each "
               "client sent, answers that reached it (and how many carried an error code), requests left without "
               "an answer (connection lost, session ended, run ended), watch events, connections made, and the "
               "state its session was in at the end.</p>\n<table><tr><th>client</th><th>requests</th><th>answered"
               "</th><th>errors</th><th>no answer</th><th>watch events</th><th>connections</th><th>at the end</th>"
               "</tr>\n");
    for (int c = 1; c <= n; c++) {
        const struct client_row *r = &rows[c];
        if (!m->clanes[c].seen)
            continue;
        fprintf(f, "<tr class=\"client-row\" data-client=\"%d\"><td>c%d</td><td>%u</td><td>%u</td><td>%u</td><td>%u"
                   "</td><td>%u</td><td>%u</td><td>%s</td></tr>\n", c, c, r->requests, r->answered, r->errors,
                r->unanswered, r->watches, r->sessions,
                r->last_state >= 0 ? rmod_cstate_name((enum rmod_cstate)r->last_state) : "-");
    }
    fprintf(f, "</table>%s</section>\n", m->n_clients > n ? "<p class=\"more\">(first 64 clients)</p>" : "");
}

static void write_narration(FILE *f, const struct page *p)
{
    FILE *t = fopen(p->in->trace_path, "r");
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!t || !mem) {
        if (t)
            fclose(t);
        if (mem)
            fclose(mem);
        free(buf);
        return;
    }
    struct rep_narrate_opts o = {.trace_name = p->in->trace_path, .violation = p->in->violation,
                                 .max_lines = NARRATION_LINES_MAX};
    int rc = rep_narrate(t, mem, &o, err, sizeof err);
    fclose(t);
    fclose(mem);
    fprintf(f, "<section id=\"narration\"><h2>What happened, in words</h2><details%s><summary>%s</summary>"
               "<pre class=\"narration\">", p->m.records < 20000 ? " open" : "",
            "the run told step by step (zablab replay ... --narrate prints the same)");
    rep_esc(f, rc == 0 ? buf : err);
    fprintf(f, "</pre></details></section>\n");
    free(buf);
}

static int write_page(FILE *f, const struct page *p)
{
    write_header(f, p);
    write_violation(f, p);
    write_diagram(f, p);
    write_verdicts(f, p->in);
    write_history(f, p);
    write_clients(f, p);
    rep_metrics_write(f, &p->m, p->has_hist ? &p->h : NULL);
    write_narration(f, p);
    fprintf(f, "</main>\n<div id=\"tip\"></div>\n<footer class=\"note\" style=\"padding:0 24px 24px\">zablab report "
               "&#183; trace ");
    rep_esc(f, p->in->trace_path);
    fprintf(f, "</footer>\n");
    rep_data_write(f, &p->m, p->has_hist ? &p->h : NULL, p->in->violation);
    fprintf(f, "<script>%s</script>\n</body></html>\n", rep_js());
    return ferror(f) ? -1 : 0;
}

static int load(struct page *p, char *err, size_t errlen)
{
    FILE *t = fopen(p->in->trace_path, "r");
    if (!t) {
        snprintf(err, errlen, "%s: %s", p->in->trace_path, strerror(errno));
        return -1;
    }
    int rc = rmod_build(&p->m, t, p->in->trace_path, err, errlen);
    fclose(t);
    if (rc < 0 || !p->in->history_path)
        return rc;
    FILE *hf = fopen(p->in->history_path, "r");
    if (!hf) {
        snprintf(err, errlen, "%s: %s", p->in->history_path, strerror(errno));
        rmod_free(&p->m);
        return -1;
    }
    rc = rhist_read(&p->h, hf, p->in->history_path, err, errlen);
    fclose(hf);
    if (rc < 0)
        rmod_free(&p->m);
    p->has_hist = rc == 0;
    return rc;
}

/* Writes through a temporary name so a reader never sees half a file. */
static int write_file(const char *dir, const char *name, const struct page *p, bool svg, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = 0;
    if (svg) {
        char title[256];
        snprintf(title, sizeof title, "%s, seed %" PRIu64, p->in->scenario ? p->in->scenario : "run", p->in->seed);
        struct rsvg_opts o = {.width_px = OVERVIEW_WIDTH_PX, .standalone = true, .title = title};
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        rsvg_write(f, &p->m, p->has_hist ? &p->h : NULL, p->in->violation, &o);
        rc = ferror(f) ? -1 : 0;
    } else {
        rc = write_page(f, p);
    }
    if (fclose(f) != 0 || rc < 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* diagram.png: the diagram.svg just written, rendered in-process. */
static int write_png(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/diagram.svg", dir);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int rc = -1;
    if (f && mem) {
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, n, mem);
        rc = ferror(f) ? -1 : 0;
    }
    if (f)
        fclose(f);
    if (mem)
        fclose(mem);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot read back", path);
    snprintf(path, sizeof path, "%s/diagram.png", dir);
    if (rc == 0)
        rc = rep_png_write(buf, len, REP_PNG_SCALE, path, err, errlen);
    free(buf);
    return rc;
}

int rep_html_write(const struct rep_html_input *in, const char *dir, char *err, size_t errlen)
{
    if (!in || !in->trace_path || !dir) {
        snprintf(err, errlen, "report: a trace path and an output directory are required");
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct page *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->in = in;
    int rc = load(p, err, errlen);
    if (rc == 0) {
        rc = write_file(dir, "index.html", p, false, err, errlen);
        if (rc == 0 && in->svg)
            rc = write_file(dir, "diagram.svg", p, true, err, errlen);
        if (rc == 0 && in->svg && in->png)
            rc = write_png(dir, err, errlen);
        rmod_free(&p->m);
        if (p->has_hist)
            rhist_free(&p->h);
    }
    free(p);
    return rc;
}
