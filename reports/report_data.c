/* The compact data the page's script draws its zoomable window from:
 * flat integer arrays (times in microseconds) inside one
 * <script type="application/json"> element, never one DOM node per event.
 *
 * Owns: nothing. Must never: emit "</" inside the script element (strings
 * escape '<' as \u003c). */
#include "reports/report_internal.h"

#include <inttypes.h>

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

static void write_hist(FILE *f, const struct rhist *h)
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
    /* 5 numbers per op: lane, invoke, return (-1 never), status, kind */
    fprintf(f, "],\"ops\":[");
    for (uint32_t i = 0; i < h->n_ops; i++) {
        const struct rhist_op *op = &h->ops[i];
        fprintf(f, "%s%d,%lld,%lld,%d,%d", i ? "," : "", op->lane, us(op->t_inv_ns), us(op->t_ret_ns),
                op->status, op->kind);
    }
    fprintf(f, "],\"labels\":[");
    for (uint32_t i = 0; i < h->n_ops; i++) {
        fputs(i ? "," : "", f);
        rep_json_str(f, h->ops[i].label);
    }
    fprintf(f, "]}");
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
    fprintf(f, "<script type=\"application/json\" id=\"zl-data\">{");
    write_servers(f, m);
    write_msgs(f, m);
    write_hist(f, h);
    write_violation(f, v);
    fprintf(f, "}</script>\n");
}
