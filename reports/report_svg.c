/* The static space-time diagram: the whole run in one SVG, aggregated so
 * that its size does not grow with the number of messages beyond
 * RSVG_BINS_MAX columns times the links. The interactive page draws a
 * window of the same picture in JavaScript; this one is the overview and
 * the --svg export.
 *
 * Owns: nothing. Must never: emit an element per message in a dense
 * stretch (beyond RSVG_ARROWS_PER_BIN per column it draws count bands). */
#include "reports/report_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEFT_PX 64.0
#define RIGHT_PX 16.0
#define TOP_PX 30.0
#define LANE_PX 40.0
#define CLIENT_LANE_PX 18.0
#define CLIENT_LANES_DRAWN_MAX 64

struct geo {
    double w, left, plot_w;
    int64_t t0, t1;
    int n_servers, n_clients;    /* n_clients: client lanes drawn */
    double height;
    const struct rep_clanes *cl;
};

static double gx(const struct geo *g, int64_t t)
{
    double span = (double)(g->t1 > g->t0 ? g->t1 - g->t0 : 1);
    return g->left + (double)(t - g->t0) / span * g->plot_w;
}

static double lane_y(int node) { return TOP_PX + (node - 1) * LANE_PX + LANE_PX / 2; }

static double client_y(const struct geo *g, int lane)
{
    return TOP_PX + g->n_servers * LANE_PX + 14 + lane * CLIENT_LANE_PX + CLIENT_LANE_PX / 2;
}

void rep_fmt_time(char *buf, size_t cap, int64_t t_ns)
{
    snprintf(buf, cap, "%.3fs", (double)t_ns / 1e9);
}

static void nice_step(int64_t span_ns, int64_t *step)
{
    const int64_t steps[] = {1000, 10000, 100000, 1000000, 10000000, 100000000, 250000000,
                             500000000, 1000000000, 2000000000, 5000000000, 10000000000,
                             30000000000, 60000000000};
    *step = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span_ns / steps[i] <= 14) {
            *step = steps[i];
            return;
        }
}

static void draw_axis(FILE *f, const struct geo *g)
{
    int64_t step;
    nice_step(g->t1 - g->t0, &step);
    fprintf(f, "<g class=\"axis\">");
    for (int64_t t = (g->t0 / step) * step; t <= g->t1 && step > 0; t += step) {
        if (t < g->t0)
            continue;
        double x = gx(g, t);
        char lab[32];
        rep_fmt_time(lab, sizeof lab, t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x, TOP_PX - 6, x, g->height - 4,
                x, TOP_PX - 10, lab);
    }
    fprintf(f, "</g>\n");
}

static void draw_lanes(FILE *f, const struct geo *g, const struct rep_violation *v)
{
    for (int s = 1; s <= g->n_servers; s++) {
        bool hot = false;
        for (int i = 0; v && i < v->n_nodes && i < REP_VIOLATION_NODES_MAX; i++)
            hot |= v->nodes[i] == s;
        double y = lane_y(s);
        fprintf(f, "<g class=\"lane%s\" data-node=\"%d\"><text class=\"lane-label\" x=\"%.1f\" "
                   "y=\"%.1f\">s%d</text><line class=\"lane-line\" x1=\"%.1f\" y1=\"%.1f\" "
                   "x2=\"%.1f\" y2=\"%.1f\"/></g>\n", hot ? " lane-hot" : "", s, g->left - 10,
                y + 4, s, g->left, y, g->left + g->plot_w, y);
    }
}

static void draw_segs(FILE *f, const struct geo *g, const struct rmod *m)
{
    fprintf(f, "<g class=\"states\">");
    for (uint32_t i = 0; i < m->n_segs; i++) {
        const struct rmod_seg *s = &m->segs[i];
        double x0 = gx(g, s->t0_ns), x1 = gx(g, s->t1_ns), y = lane_y(s->node);
        char a[24], b[24];
        rep_fmt_time(a, sizeof a, s->t0_ns), rep_fmt_time(b, sizeof b, s->t1_ns);
        fprintf(f, "<rect class=\"st st%d\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\">"
                   "<title>s%d %s, epoch %u, %s to %s</title></rect>", s->state, x0, y - 9,
                x1 - x0 > 0.3 ? x1 - x0 : 0.3, 18.0, s->node, rmod_state_name(s->state), s->epoch, a, b);
        if (x1 - x0 > 70 && (s->state == RMOD_ST_LEADING || s->state == RMOD_ST_FOLLOWING ||
                             s->state == RMOD_ST_OBSERVING || s->state == RMOD_ST_LOOKING))
            fprintf(f, "<text class=\"st-label%s\" x=\"%.1f\" y=\"%.1f\">%s%s%.0u</text>",
                    s->state == RMOD_ST_LEADING ? " dark" : "", x0 + 4, y + 4, s->state == RMOD_ST_LOOKING ? "LOOKING" : rmod_state_name(s->state),
                    s->state == RMOD_ST_LOOKING ? "" : " e", s->state == RMOD_ST_LOOKING ? 0 : s->epoch);
    }
    fprintf(f, "</g>\n");
}

static void draw_faults(FILE *f, const struct geo *g, const struct rmod *m)
{
    fprintf(f, "<g class=\"faults\">");
    for (uint32_t i = 0; i < m->n_faults; i++) {
        const struct rmod_fault *ft = &m->faults[i];
        if (ft->node < 1 || ft->node > g->n_servers)
            continue;
        double x0 = gx(g, ft->t0_ns), x1 = gx(g, ft->t1_ns), y = lane_y(ft->node);
        char a[24];
        rep_fmt_time(a, sizeof a, ft->t0_ns);
        if (ft->t1_ns > ft->t0_ns)
            fprintf(f, "<rect class=\"fault fk%d\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\">",
                    ft->kind, x0, y - LANE_PX / 2 + 1, x1 - x0 > 1 ? x1 - x0 : 1, LANE_PX - 2);
        else
            fprintf(f, "<path class=\"fault-mark fk%d\" d=\"M%.1f %.1f l-4 -7 h8 z\">", ft->kind, x0,
                    y - 10);
        fprintf(f, "<title>s%d ", ft->node);
        rep_esc(f, ft->label);
        fprintf(f, " at %s</title>%s\n", a, ft->t1_ns > ft->t0_ns ? "</rect>" : "</path>");
    }
    fprintf(f, "</g>\n");
}

static void draw_arrow(FILE *f, const struct geo *g, const struct rmod *m, const struct rmod_msg *msg)
{
    double x1 = gx(g, msg->t_send_ns), y1 = lane_y(msg->from), y2 = lane_y(msg->to);
    char a[24], b[24] = "never (lost)";
    rep_fmt_time(a, sizeof a, msg->t_send_ns);
    if (msg->t_recv_ns >= 0) {
        rep_fmt_time(b, sizeof b, msg->t_recv_ns);
        fprintf(f, "<line class=\"arrow mc%d\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\">", msg->cls,
                x1, y1, gx(g, msg->t_recv_ns), y2);
    } else {
        double x2 = x1 + 10, ym = y1 + (y2 - y1) * 0.4;
        fprintf(f, "<path class=\"arrow lost mc%d\" d=\"M%.2f %.1f L%.2f %.1f m-3 -3 l6 6 m0 -6 l-6 6\">",
                msg->cls, x1, y1, x2, ym);
    }
    fprintf(f, "<title>%s s%d&#8594;s%d seq %" PRIu64 ", %u bytes; sent %s, received %s</title>%s",
            m->names[msg->name], msg->from, msg->to, msg->seq, msg->len, a, b,
            msg->t_recv_ns >= 0 ? "</line>" : "</path>");
}

/* One dense column: a strip per sender under its lane, darker with more
 * messages; the hover lists the links. */
static void flush_bin(FILE *f, const struct geo *g, int bin, uint32_t *counts, uint8_t *cls, uint32_t peak)
{
    int n = g->n_servers, dim = TRD_SERVERS_MAX + 1;
    double x = g->left + bin * RSVG_BIN_PX;
    for (int a = 1; a <= n; a++) {
        uint32_t total = 0;
        for (int b = 1; b <= n; b++)
            total += counts[a * dim + b];
        if (!total)
            continue;
        double op = 0.45 * (0.25 + 0.75 * fmin(1.0, log(1.0 + total) / log(1.0 + peak))); /* .agg's 0.45 */
        fprintf(f, "<rect class=\"agg mf%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" "
                   "fill-opacity=\"%.3f\"><title>s%d sent %u messages in this column:", cls[a * dim], x,
                lane_y(a) + 10, RSVG_BIN_PX - 0.5, op, a, total);
        for (int b = 1; b <= n; b++)
            if (counts[a * dim + b])
                fprintf(f, " to s%d %u", b, counts[a * dim + b]);
        fprintf(f, "</title></rect>");
    }
    memset(counts, 0, (size_t)dim * dim * sizeof *counts);
}

static int bin_of(const struct geo *g, int64_t t, int n_bins)
{
    int b = (int)((gx(g, t) - g->left) / RSVG_BIN_PX);
    return b < 0 ? 0 : b >= n_bins ? n_bins - 1 : b;
}

static void draw_messages(FILE *f, const struct geo *g, const struct rmod *m)
{
    int n_bins = (int)(g->plot_w / RSVG_BIN_PX) + 1;
    if (n_bins > RSVG_BINS_MAX)
        n_bins = RSVG_BINS_MAX;
    uint32_t *per_bin = calloc((size_t)n_bins, sizeof *per_bin);
    uint32_t *counts = calloc((TRD_SERVERS_MAX + 1) * (TRD_SERVERS_MAX + 1), sizeof *counts);
    uint8_t *cls = calloc((TRD_SERVERS_MAX + 1) * (TRD_SERVERS_MAX + 1), 1);
    if (!per_bin || !counts || !cls)
        goto out;
    uint32_t peak = 1;
    for (uint32_t i = 0; i < m->n_msgs; i++) {
        uint32_t c = ++per_bin[bin_of(g, m->msgs[i].t_send_ns, n_bins)];
        peak = c > peak ? c : peak;
    }
    fprintf(f, "<g class=\"msgs\">");
    int cur = -1;
    for (uint32_t i = 0; i < m->n_msgs; i++) {
        const struct rmod_msg *msg = &m->msgs[i];
        if (msg->from > g->n_servers || msg->to > g->n_servers)
            continue;
        int b = bin_of(g, msg->t_send_ns, n_bins);
        if (b != cur && cur >= 0 && per_bin[cur] > RSVG_ARROWS_PER_BIN)
            flush_bin(f, g, cur, counts, cls, peak);
        cur = b;
        if (per_bin[b] <= RSVG_ARROWS_PER_BIN) {
            draw_arrow(f, g, m, msg);
        } else {
            counts[msg->from * (TRD_SERVERS_MAX + 1) + msg->to]++;
            cls[msg->from * (TRD_SERVERS_MAX + 1)] = msg->cls; /* the sender's latest kind */
        }
    }
    if (cur >= 0 && per_bin[cur] > RSVG_ARROWS_PER_BIN)
        flush_bin(f, g, cur, counts, cls, peak);
    fprintf(f, "</g>\n");
out:
    free(per_bin), free(counts), free(cls);
}

static bool op_in_violation(const struct rep_violation *v, uint32_t i)
{
    for (size_t k = 0; v && k < v->n_ops; k++)
        if (v->ops[k] == i)
            return true;
    return false;
}

static void draw_client_lanes(FILE *f, const struct geo *g, const struct rmod *m)
{
    for (int l = 0; l < g->n_clients; l++) {
        int64_t id = g->cl->ids[l];
        double y = client_y(g, l);
        bool traced = id >= 1 && id <= TRD_CLIENTS_MAX && g->cl->of_client[id] == l && m->clanes[id].seen;
        fprintf(f, "<g class=\"lane client-lane\" data-client=\"%" PRId64 "\"><text class=\"lane-label\" "
                   "x=\"%.1f\" y=\"%.1f\">%s</text>", id, g->left - 10, y + 4, g->cl->labels[l]);
        if (traced)
            fprintf(f, "<line class=\"lane-line client-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    g->left, y, g->left + g->plot_w, y);
        fprintf(f, "</g>");
    }
}

/* Session bands: a thin strip under the client's lane line. */
static void draw_sessions(FILE *f, const struct geo *g, const struct rmod *m)
{
    fprintf(f, "<g class=\"sessions\">");
    for (uint32_t i = 0; i < m->n_csegs; i++) {
        const struct rmod_cseg *c = &m->csegs[i];
        int lane = g->cl->of_client[c->client];
        if (lane < 0 || lane >= g->n_clients)
            continue;
        double x0 = gx(g, c->t0_ns), x1 = gx(g, c->t1_ns), y = client_y(g, lane);
        char a[24], b[24];
        rep_fmt_time(a, sizeof a, c->t0_ns), rep_fmt_time(b, sizeof b, c->t1_ns);
        fprintf(f, "<rect class=\"cs cs%d\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"4\"><title>c%d session "
                   "0x%" PRIx64 " %s%s%.0d, %s to %s</title></rect>", c->state, x0, y + 3, x1 - x0 > 0.5 ? x1 - x0 : 0.5,
                c->client, c->session, rmod_cstate_name(c->state), c->server ? " to s" : "", c->server, a, b);
    }
    fprintf(f, "</g>\n");
}

static int64_t cmsg_t0(const struct rmod_cmsg *c) { return c->t_send_ns >= 0 ? c->t_send_ns : c->t_recv_ns; }

/* A request and its answer: to the server lane at half the round trip
 * (the trace has only the client's times), and back. */
static void draw_cmsg(FILE *f, const struct geo *g, const struct rmod *m, const struct rmod_cmsg *c, int lane)
{
    double yc = client_y(g, lane), ys = lane_y(c->server);
    char a[24] = "-", b[24] = "no answer";
    if (c->t_send_ns >= 0)
        rep_fmt_time(a, sizeof a, c->t_send_ns);
    if (c->t_recv_ns >= 0)
        rep_fmt_time(b, sizeof b, c->t_recv_ns);
    const char *op = m->cop_names[c->op];
    int cls = strcmp(op, "ping") ? TRD_MC_CLIENT : TRD_MC_PING; /* keep-alives are grey, as between servers */
    if (c->t_send_ns < 0) { /* a frame the server sent on its own: drawn at its arrival */
        double x = gx(g, c->t_recv_ns);
        fprintf(f, "<line class=\"arrow mc%d cwatch\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"><title>%s "
                   "s%d&#8594;c%d (%s), received %s</title></line>", cls, x, ys, x, yc, op, c->server, c->client,
                rmod_cwhat_name(c->what), b);
        return;
    }
    double x0 = gx(g, c->t_send_ns);
    if (c->t_recv_ns < 0) {
        fprintf(f, "<path class=\"arrow lost mc%d creq\" d=\"M%.2f %.1f L%.2f %.1f m-3 -3 l6 6 m0 -6 l-6 6\"><title>%s "
                   "c%d&#8594;s%d xid %" PRId64 ", sent %s; no answer reached the client</title></path>", cls, x0, yc,
                x0 + 10, yc + (ys - yc) * 0.4, op, c->client, c->server, c->xid, a);
        return;
    }
    double x1 = gx(g, c->t_recv_ns), xm = (x0 + x1) / 2;
    fprintf(f, "<g class=\"cexch\"><title>%s c%d&#8596;s%d xid %" PRId64 ": sent %s, %s %s (err %d)</title><line "
               "class=\"arrow mc%d creq\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/><line class=\"arrow mc%d "
               "crep\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/></g>", op, c->client, c->server, c->xid, a,
            rmod_cwhat_name(c->what), b, c->err, cls, x0, yc, xm, ys, cls, xm, ys, x1, yc);
}

/* One dense column of client traffic: a strip on each busy client lane. */
static void flush_cbin(FILE *f, const struct geo *g, int bin, uint32_t *per_lane, uint32_t peak)
{
    for (int l = 0; l < g->n_clients; l++) {
        if (!per_lane[l])
            continue;
        double op = 0.45 * (0.25 + 0.75 * fmin(1.0, log(1.0 + per_lane[l]) / log(1.0 + peak)));
        fprintf(f, "<rect class=\"agg mf5\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" fill-opacity=\"%.3f\">"
                   "<title>%s exchanged %u frames with the servers in this column</title></rect>",
                g->left + bin * RSVG_BIN_PX, client_y(g, l) - 4, RSVG_BIN_PX - 0.5, op, g->cl->labels[l], per_lane[l]);
        per_lane[l] = 0;
    }
}

static void draw_client_msgs(FILE *f, const struct geo *g, const struct rmod *m)
{
    int n_bins = (int)(g->plot_w / RSVG_BIN_PX) + 1;
    n_bins = n_bins > RSVG_BINS_MAX ? RSVG_BINS_MAX : n_bins;
    uint32_t *per_bin = calloc((size_t)n_bins, sizeof *per_bin);
    uint32_t *per_lane = calloc((size_t)g->n_clients + 1, sizeof *per_lane);
    if (!per_bin || !per_lane)
        goto out;
    uint32_t peak = 1;
    for (uint32_t i = 0; i < m->n_cmsgs; i++) {
        uint32_t c = ++per_bin[bin_of(g, cmsg_t0(&m->cmsgs[i]), n_bins)];
        peak = c > peak ? c : peak;
    }
    fprintf(f, "<g class=\"cmsgs\">");
    int cur = -1;
    for (uint32_t i = 0; i < m->n_cmsgs; i++) {
        const struct rmod_cmsg *c = &m->cmsgs[i];
        int lane = g->cl->of_client[c->client];
        if (lane < 0 || lane >= g->n_clients || c->server < 1 || c->server > g->n_servers)
            continue;
        int b = bin_of(g, cmsg_t0(c), n_bins);
        if (b != cur && cur >= 0 && per_bin[cur] > RSVG_ARROWS_PER_BIN)
            flush_cbin(f, g, cur, per_lane, peak);
        cur = b;
        if (per_bin[b] <= RSVG_ARROWS_PER_BIN)
            draw_cmsg(f, g, m, c, lane);
        else
            per_lane[lane]++;
    }
    if (cur >= 0 && per_bin[cur] > RSVG_ARROWS_PER_BIN)
        flush_cbin(f, g, cur, per_lane, peak);
    fprintf(f, "</g>\n");
out:
    free(per_bin), free(per_lane);
}

static void draw_ops(FILE *f, const struct geo *g, const struct rhist *h, const struct rep_violation *v)
{
    fprintf(f, "<g class=\"ops\">");
    for (uint32_t i = 0; i < h->n_ops; i++) {
        const struct rhist_op *op = &h->ops[i];
        int lane = op->lane < REP_CLIENT_LANES_MAX ? g->cl->of_proc[op->lane] : -1;
        if (lane < 0 || lane >= g->n_clients)
            continue;
        int64_t t1 = op->t_ret_ns >= 0 ? op->t_ret_ns : g->t1;
        double x0 = gx(g, op->t_inv_ns), x1 = gx(g, t1), y = client_y(g, lane);
        bool hot = op_in_violation(v, i);
        if (!hot && h->n_ops > 4000 && i % (h->n_ops / 4000 + 1))
            continue; /* the overview samples very long histories */
        fprintf(f, "<rect class=\"op os%d%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"10\"><title>op #%u ",
                op->status, hot ? " viol" : "", x0, y - 5, x1 - x0 > 1 ? x1 - x0 : 1, i);
        rep_esc(f, op->label);
        fprintf(f, " (%s)</title></rect>", rhist_status_name(op->status));
    }
    fprintf(f, "</g>\n");
}

static void draw_clients(FILE *f, const struct geo *g, const struct rmod *m, const struct rhist *h,
                         const struct rep_violation *v)
{
    draw_client_lanes(f, g, m);
    draw_sessions(f, g, m);
    draw_client_msgs(f, g, m);
    if (h)
        draw_ops(f, g, h, v);
}

static void draw_violation(FILE *f, const struct geo *g, const struct rep_violation *v)
{
    if (!v || v->t_ns < 0)
        return;
    double x = gx(g, v->t_ns);
    bool right = x > g->left + g->plot_w - 160;
    fprintf(f, "<g class=\"violation\" data-t-ns=\"%lld\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
               "<text x=\"%.1f\" y=\"%.1f\"%s>", (long long)v->t_ns, x, TOP_PX - 4, x, g->height - 4,
            right ? x - 4 : x + 4, TOP_PX + 10, right ? " text-anchor=\"end\"" : "");
    rep_esc(f, v->property ? v->property : "violation");
    fprintf(f, " violated</text><title>");
    rep_esc(f, v->detail ? v->detail : "");
    fprintf(f, "</title></g>\n");
}

void rsvg_write(FILE *f, const struct rmod *m, const struct rhist *h, const struct rep_violation *v,
                const struct rsvg_opts *o)
{
    struct rep_clanes *cl = malloc(sizeof *cl);
    if (!cl)
        return;
    rep_clanes_build(cl, m, h);
    struct geo g = {.w = o->width_px, .left = LEFT_PX, .t0 = 0, .t1 = m->t_end_ns > 0 ? m->t_end_ns : 1,
                    .n_servers = m->n_servers, .cl = cl};
    if (v && v->t_ns > g.t1)
        g.t1 = v->t_ns;
    if (h && h->t_max_ns > g.t1)
        g.t1 = h->t_max_ns;
    g.plot_w = g.w - LEFT_PX - RIGHT_PX;
    g.n_clients = cl->n < CLIENT_LANES_DRAWN_MAX ? cl->n : CLIENT_LANES_DRAWN_MAX;
    g.height = TOP_PX + g.n_servers * LANE_PX + (g.n_clients ? 14 + g.n_clients * CLIENT_LANE_PX : 0) + 8;
    fprintf(f, "<svg %sclass=\"spacetime\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
               "role=\"img\">\n", o->standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "",
            g.w, g.height, g.w, g.height);
    if (o->standalone) {
        fprintf(f, "<style>%s</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n", rep_svg_css());
        if (o->title) {
            fprintf(f, "<text class=\"svg-title\" x=\"8\" y=\"14\">");
            rep_esc(f, o->title);
            fprintf(f, "</text>\n");
        }
    }
    /* The hatches crash bands are filled with (the page's script defines the
     * same for its window). */
    fprintf(f, "<defs><pattern id=\"hatch-crash\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
               "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#3b4252\" opacity=\".25\"/>"
               "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#3b4252\" stroke-width=\"2.5\"/></pattern>"
               "<pattern id=\"hatch-torn\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
               "patternTransform=\"rotate(-45)\"><rect width=\"6\" height=\"6\" fill=\"#a0522d\" opacity=\".3\"/>"
               "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a0522d\" stroke-width=\"2.5\"/></pattern></defs>\n");
    draw_axis(f, &g);
    draw_lanes(f, &g, v);
    draw_faults(f, &g, m);
    draw_segs(f, &g, m);
    draw_messages(f, &g, m);
    if (g.n_clients)
        draw_clients(f, &g, m, h, v);
    draw_violation(f, &g, v);
    fprintf(f, "</svg>\n");
    free(cl);
}
