/* The compact data the page's script draws its zoomable window from:
 * flat integer arrays (times in microseconds) inside one
 * <script type="application/json"> element, never one DOM node per event.
 *
 * Owns: nothing. Must never: emit "</" inside the script element (strings
 * escape '<' as \u003c). */
#include "reports/report_internal.h"

#include <inttypes.h>
#include <stdlib.h>

void rep_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

void rep_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Folded order: by client ((id-1) % TRD_CLIENTS_MAX), then id. */
static int64_t fold_key(int64_t id) { return id >= 1 ? (id - 1) % TRD_CLIENTS_MAX : id - TRD_CLIENTS_MAX; }

static int cmp_folded(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b, kx = fold_key(x), ky = fold_key(y);
    return kx != ky ? (kx < ky ? -1 : 1) : (x < y ? -1 : x > y);
}

static int lane_of(const struct rep_clanes *c, int64_t id)
{
    const int64_t *p = bsearch(&id, c->ids, (size_t)c->n, sizeof id, c->fold ? cmp_folded : cmp_i64);
    return p ? (int)(p - c->ids) : -1;
}

void rep_clanes_build(struct rep_clanes *c, const struct rmod *m, const struct rhist *h)
{
    c->n = 0;
    for (int i = 0; h && i < h->n_procs && c->n < REP_CLIENT_LANES_MAX; i++)
        c->ids[c->n++] = h->procs[i];
    for (int k = 1; m->clanes && k <= m->n_clients && c->n < REP_CLIENT_LANES_MAX; k++) {
        bool dup = false;
        for (int i = 0; h && i < h->n_procs && !dup; i++)
            dup = h->procs[i] == k;
        if (m->clanes[k].seen && !dup)
            c->ids[c->n++] = k;
    }
    c->fold = m->n_clients > 0;
    qsort(c->ids, (size_t)c->n, sizeof c->ids[0], c->fold ? cmp_folded : cmp_i64);
    for (int i = 0; i < c->n; i++) {
        int64_t id = c->ids[i];
        if (c->fold && id > TRD_CLIENTS_MAX)
            snprintf(c->labels[i], sizeof c->labels[i], "c%" PRId64 ".%" PRId64, (id - 1) % TRD_CLIENTS_MAX + 1,
                     (id - 1) / TRD_CLIENTS_MAX + 1);
        else
            snprintf(c->labels[i], sizeof c->labels[i], "c%" PRId64, id);
    }
    for (int i = 0; h && i < h->n_procs && i < REP_CLIENT_LANES_MAX; i++)
        c->of_proc[i] = lane_of(c, h->procs[i]);
    for (int k = 0; k <= TRD_CLIENTS_MAX; k++)
        c->of_client[k] = k >= 1 && k <= m->n_clients ? lane_of(c, k) : -1;
}

static long long us(int64_t t_ns) { return t_ns < 0 ? -1 : (long long)(t_ns / 1000); }

static void write_servers(FILE *f, const struct rmod *m)
{
    fprintf(f, "\"n\":%d,\"t_end\":%lld,\"seed\":%" PRIu64 ",\"states\":[", m->n_servers,
            us(m->t_end_ns), m->seed);
    for (int s = 0; s < RMOD_ST_COUNT; s++)
        fprintf(f, "%s\"%s\"", s ? "," : "", rmod_state_name((enum rmod_state)s));
    fprintf(f, "],\"segs\":[");
    for (uint32_t i = 0; i < m->n_segs; i++) {
        const struct rmod_seg *s = &m->segs[i];
        fprintf(f, "%s%d,%lld,%lld,%d,%u", i ? "," : "", s->node, us(s->t0_ns), us(s->t1_ns), s->state,
                s->epoch);
    }
    fprintf(f, "],\"faults\":[");
    for (uint32_t i = 0; i < m->n_faults; i++) {
        const struct rmod_fault *ft = &m->faults[i];
        fprintf(f, "%s[%d,%lld,%lld,%d,%d,", i ? "," : "", ft->node, us(ft->t0_ns), us(ft->t1_ns),
                ft->kind, ft->peer);
        rep_json_str(f, ft->label);
        fputc(']', f);
    }
    fprintf(f, "],\"elections\":[");
    for (uint32_t i = 0; i < m->n_elections; i++) {
        const struct rmod_election *e = &m->elections[i];
        fprintf(f, "%s[%lld,%lld,%d,%u]", i ? "," : "", us(e->t0_ns), us(e->t1_ns), e->leader, e->epoch);
    }
    fputc(']', f);
}

static void write_msgs(FILE *f, const struct rmod *m)
{
    fprintf(f, ",\"mnames\":[");
    for (int i = 0; i < m->n_names; i++) {
        fputs(i ? "," : "", f);
        rep_json_str(f, m->names[i]);
    }
    fprintf(f, "],\"mclasses\":[");
    for (int c = 0; c < TRD_MC_COUNT; c++)
        fprintf(f, "%s\"%s\"", c ? "," : "", trd_msg_class_name((enum trd_msg_class)c));
    /* 7 numbers per message: send, recv (-1 lost), from, to, name, class, len */
    fprintf(f, "],\"msgs\":[");
    for (uint32_t i = 0; i < m->n_msgs; i++) {
        const struct rmod_msg *g = &m->msgs[i];
        fprintf(f, "%s%lld,%lld,%d,%d,%d,%d,%u", i ? "," : "", us(g->t_send_ns), us(g->t_recv_ns),
                g->from, g->to, g->name, g->cls, g->len);
        if (i % 64 == 63)
            fputc('\n', f);
    }
    fputc(']', f);
}

static void write_hist(FILE *f, const struct rhist *h, const struct rep_clanes *cl)
{
    if (!h) {
        fprintf(f, ",\"hist\":null");
        return;
    }
    fprintf(f, ",\"hist\":{\"lanes\":[");
    for (int i = 0; i < h->n_procs; i++)
        fprintf(f, "%s%" PRId64, i ? "," : "", h->procs[i]);
    fprintf(f, "],\"kinds\":[");
    for (int i = 0; i < h->n_kinds; i++) {
        fputs(i ? "," : "", f);
        rep_json_str(f, h->kinds[i]);
    }
    /* 5 numbers per op: client lane (index into clanes, -1 not drawn),
     * invoke, return (-1 never), status, kind */
    fprintf(f, "],\"ops\":[");
    for (uint32_t i = 0; i < h->n_ops; i++) {
        const struct rhist_op *op = &h->ops[i];
        fprintf(f, "%s%d,%lld,%lld,%d,%d", i ? "," : "", op->lane < REP_CLIENT_LANES_MAX ? cl->of_proc[op->lane] : -1,
                us(op->t_inv_ns), us(op->t_ret_ns), op->status, op->kind);
    }
    fprintf(f, "],\"labels\":[");
    for (uint32_t i = 0; i < h->n_ops; i++) {
        fputs(i ? "," : "", f);
        rep_json_str(f, h->ops[i].label);
    }
    fprintf(f, "]}");
}

/* Client lanes and the simulated clients' frames and sessions. */
static void write_clients(FILE *f, const struct rmod *m, const struct rep_clanes *cl)
{
    fprintf(f, ",\"clanes\":[");
    for (int i = 0; i < cl->n; i++)
        fprintf(f, "%s%" PRId64, i ? "," : "", cl->ids[i]);
    fprintf(f, "],\"clabels\":[");
    for (int i = 0; i < cl->n; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", cl->labels[i]);
    fprintf(f, "],\"cops\":[");
    for (int i = 0; i < m->n_cop_names; i++) {
        fputs(i ? "," : "", f);
        rep_json_str(f, m->cop_names[i]);
    }
    fprintf(f, "],\"cstates\":[");
    for (int i = 0; i < RMOD_CS_COUNT; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", rmod_cstate_name((enum rmod_cstate)i));
    fprintf(f, "],\"cwhats\":[");
    for (int i = 0; i < RMOD_CW_COUNT; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", rmod_cwhat_name((enum rmod_cwhat)i));
    /* 8 numbers per frame: send (-1: server-initiated), recv (-1: no
     * answer), lane, server, op, what, err, xid; in order of first time */
    fprintf(f, "],\"cmsgs\":[");
    int k = 0;
    for (uint32_t i = 0; i < m->n_cmsgs; i++) {
        const struct rmod_cmsg *c = &m->cmsgs[i];
        int lane = cl->of_client[c->client];
        if (lane < 0)
            continue;
        fprintf(f, "%s%lld,%lld,%d,%d,%d,%d,%d,%" PRId64 "%s", k++ ? "," : "", us(c->t_send_ns), us(c->t_recv_ns),
                lane, c->server, c->op, c->what, c->err, c->xid, i % 64 == 63 ? "\n" : "");
    }
    /* 5 numbers per session band: lane, from, to, state, server; csess: ids */
    fprintf(f, "],\"csegs\":[");
    k = 0;
    for (uint32_t i = 0; i < m->n_csegs; i++) {
        const struct rmod_cseg *c = &m->csegs[i];
        if (cl->of_client[c->client] >= 0)
            fprintf(f, "%s%d,%lld,%lld,%d,%d", k++ ? "," : "", cl->of_client[c->client], us(c->t0_ns), us(c->t1_ns),
                    c->state, c->server);
    }
    fprintf(f, "],\"csess\":[");
    k = 0;
    for (uint32_t i = 0; i < m->n_csegs; i++)
        if (cl->of_client[m->csegs[i].client] >= 0)
            fprintf(f, "%s\"0x%" PRIx64 "\"", k++ ? "," : "", m->csegs[i].session);
    fputc(']', f);
}

static void write_violation(FILE *f, const struct rep_violation *v)
{
    if (!v) {
        fprintf(f, ",\"viol\":null");
        return;
    }
    fprintf(f, ",\"viol\":{\"t\":%lld,\"property\":", v->t_ns < 0 ? -1LL : us(v->t_ns));
    rep_json_str(f, v->property ? v->property : "violation");
    fprintf(f, ",\"detail\":");
    rep_json_str(f, v->detail ? v->detail : "");
    fprintf(f, ",\"nodes\":[");
    for (int i = 0; i < v->n_nodes && i < REP_VIOLATION_NODES_MAX; i++)
        fprintf(f, "%s%d", i ? "," : "", v->nodes[i]);
    fprintf(f, "],\"ops\":[");
    for (size_t i = 0; i < v->n_ops; i++)
        fprintf(f, "%s%u", i ? "," : "", v->ops[i]);
    fprintf(f, "]}");
}

void rep_data_write(FILE *f, const struct rmod *m, const struct rhist *h, const struct rep_violation *v)
{
    struct rep_clanes *cl = malloc(sizeof *cl);
    if (!cl)
        return;
    rep_clanes_build(cl, m, h);
    fprintf(f, "<script type=\"application/json\" id=\"zl-data\">{");
    write_servers(f, m);
    write_msgs(f, m);
    write_hist(f, h, cl);
    write_clients(f, m, cl);
    write_violation(f, v);
    fprintf(f, "}</script>\n");
    free(cl);
}
