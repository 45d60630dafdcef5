/* The simulated clients' part of the report model (reports/report_model.h):
 * pairs each c-send with the c-recv that answers it (same client, server
 * and xid; a "connected" frame answers the pending connect), keeps watch
 * events and unmatched server frames as frames of their own, and turns
 * c-session records into session bands along each client's lane.
 *
 * Owns: the model's client arrays. Must never: grow past RMOD_CMSGS_MAX /
 * RMOD_CSEGS_MAX (beyond, records are counted and `truncated` is set), or
 * wait for more than RMOD_CPENDING_MAX answers per client. */
#include "reports/report_model.h"

#include <stdlib.h>
#include <string.h>

const char *rmod_cstate_name(enum rmod_cstate s)
{
    static const char *const names[RMOD_CS_COUNT] = {"connected", "disconnected", "expired", "closed"};
    return (unsigned)s < RMOD_CS_COUNT ? names[s] : "?";
}

const char *rmod_cwhat_name(enum rmod_cwhat w)
{
    static const char *const names[RMOD_CW_COUNT] = {"none", "reply", "connected", "watch", "close"};
    return (unsigned)w < RMOD_CW_COUNT ? names[w] : "?";
}

static int cstate_of(const char *s)
{
    for (int i = 0; i < RMOD_CS_COUNT; i++)
        if (!strcmp(s, rmod_cstate_name((enum rmod_cstate)i)))
            return i;
    return -1;
}

static enum rmod_cwhat cwhat_of(const char *s)
{
    for (int i = 1; i < RMOD_CW_COUNT; i++)
        if (!strcmp(s, rmod_cwhat_name((enum rmod_cwhat)i)))
            return (enum rmod_cwhat)i;
    return RMOD_CW_REPLY; /* an answer of a kind this reader does not know */
}

static uint8_t op_index(struct rmod *m, const char *op)
{
    const char *name = *op ? op : "?";
    for (int i = 0; i < m->n_cop_names; i++)
        if (!strcmp(m->cop_names[i], name))
            return (uint8_t)i;
    if (m->n_cop_names >= RMOD_OP_NAMES_MAX)
        return RMOD_OP_NAMES_MAX - 1;
    snprintf(m->cop_names[m->n_cop_names], sizeof m->cop_names[0], "%s", name);
    return (uint8_t)m->n_cop_names++;
}

/* A new frame; NULL at the maximum (counted) or on OOM (*oom). */
static struct rmod_cmsg *cmsg_add(struct rmod *m, bool *oom)
{
    if (m->n_cmsgs == m->cap_cmsgs) {
        if (m->n_cmsgs >= RMOD_CMSGS_MAX) {
            m->truncated = true;
            return NULL;
        }
        uint32_t ncap = m->cap_cmsgs ? m->cap_cmsgs * 2 : 1024;
        ncap = ncap > RMOD_CMSGS_MAX ? RMOD_CMSGS_MAX : ncap;
        void *p = realloc(m->cmsgs, (size_t)ncap * sizeof *m->cmsgs);
        if (!p) {
            *oom = true;
            return NULL;
        }
        m->cmsgs = p, m->cap_cmsgs = ncap;
    }
    struct rmod_cmsg *c = &m->cmsgs[m->n_cmsgs++];
    memset(c, 0, sizeof *c);
    c->t_send_ns = c->t_recv_ns = -1;
    return c;
}

static void pending_remove(struct rmod_clane *l, uint32_t k)
{
    memmove(&l->pending[k], &l->pending[k + 1], (l->n_pending - k - 1) * sizeof l->pending[0]);
    l->n_pending--;
}

static int on_c_send(struct rmod *m, const struct trd_rec *r)
{
    bool oom = false;
    struct rmod_cmsg *c = cmsg_add(m, &oom);
    m->c_requests++;
    if (!c)
        return oom ? -1 : 0;
    c->t_send_ns = r->t_ns, c->xid = r->a, c->len = r->len;
    c->client = (uint16_t)r->client, c->server = (uint8_t)r->peer, c->op = op_index(m, r->msg);
    struct rmod_clane *l = &m->clanes[r->client];
    if (l->n_pending == RMOD_CPENDING_MAX) { /* the oldest gives up waiting */
        pending_remove(l, 0);
        m->c_unanswered++;
    }
    l->pending[l->n_pending++] = m->n_cmsgs - 1;
    return 0;
}

/* The pending request a server frame answers, or -1: "connected" answers
 * the connect and "close" the closeSession (both carry no xid of the
 * request); a reply carries its request's xid. */
static int match_pending(const struct rmod *m, const struct rmod_clane *l, const struct trd_rec *r,
                         enum rmod_cwhat w)
{
    for (uint32_t k = 0; k < l->n_pending; k++) {
        const struct rmod_cmsg *c = &m->cmsgs[l->pending[k]];
        const char *op = m->cop_names[c->op];
        if (c->server != r->peer)
            continue;
        if (w == RMOD_CW_CONNECTED ? !strcmp(op, "connect")
            : w == RMOD_CW_CLOSE   ? !strcmp(op, "closeSession")
                                   : c->xid == r->a)
            return (int)k;
    }
    return -1;
}

static int on_c_recv(struct rmod *m, const struct trd_rec *r)
{
    enum rmod_cwhat w = cwhat_of(r->text);
    struct rmod_clane *l = &m->clanes[r->client];
    int k = w == RMOD_CW_WATCH ? -1 : match_pending(m, l, r, w);
    if (k >= 0) {
        struct rmod_cmsg *c = &m->cmsgs[l->pending[k]];
        c->t_recv_ns = r->t_ns, c->what = (uint8_t)w, c->err = (int32_t)r->b;
        pending_remove(l, (uint32_t)k);
        return 0;
    }
    bool oom = false;
    struct rmod_cmsg *c = cmsg_add(m, &oom);
    m->c_watches += w == RMOD_CW_WATCH;
    if (!c)
        return oom ? -1 : 0;
    c->t_recv_ns = r->t_ns, c->xid = r->a, c->err = (int32_t)r->b, c->len = r->len;
    c->client = (uint16_t)r->client, c->server = (uint8_t)r->peer, c->what = (uint8_t)w;
    c->op = op_index(m, *r->msg ? r->msg : rmod_cwhat_name(w));
    return 0;
}

static void cseg_close(struct rmod *m, struct rmod_clane *l, int client, int64_t t)
{
    if (l->since_ns < 0)
        return;
    if (m->n_csegs < RMOD_CSEGS_MAX)
        m->csegs[m->n_csegs++] = (struct rmod_cseg){l->since_ns, t, l->session, (uint16_t)client,
                                                   (uint8_t)l->server, (uint8_t)l->state};
    else
        m->truncated = true;
    l->since_ns = -1;
}

static void on_c_session(struct rmod *m, const struct trd_rec *r)
{
    struct rmod_clane *l = &m->clanes[r->client];
    int st = cstate_of(r->text);
    if (st < 0)
        return; /* a state this reader does not know: the band goes on */
    cseg_close(m, l, r->client, r->t_ns);
    l->since_ns = r->t_ns, l->state = st, l->server = r->peer;
    l->session = strtoull(r->session, NULL, 16);
    if (st != RMOD_CS_CONNECTED) { /* the connection is gone: nothing more will answer */
        m->c_unanswered += l->n_pending;
        l->n_pending = 0;
    }
}

int rmod_client_add(struct rmod *m, const struct trd_rec *r)
{
    if (r->client > m->n_clients)
        m->n_clients = r->client;
    m->clanes[r->client].seen = true;
    switch (r->kind) {
    case TRD_C_SEND: return on_c_send(m, r);
    case TRD_C_RECV: return on_c_recv(m, r);
    case TRD_C_SESSION: on_c_session(m, r); return 0;
    default: return 0;
    }
}

int rmod_clients_init(struct rmod *m)
{
    m->csegs = calloc(RMOD_CSEGS_MAX, sizeof *m->csegs);
    m->clanes = calloc(TRD_CLIENTS_MAX + 1, sizeof *m->clanes);
    if (!m->csegs || !m->clanes)
        return -1;
    for (int c = 0; c <= TRD_CLIENTS_MAX; c++)
        m->clanes[c].since_ns = -1;
    return 0;
}

void rmod_clients_finish(struct rmod *m)
{
    for (int c = 1; c <= m->n_clients; c++) {
        cseg_close(m, &m->clanes[c], c, m->t_end_ns);
        m->c_unanswered += m->clanes[c].n_pending;
    }
}

void rmod_clients_free(struct rmod *m)
{
    free(m->cmsgs);
    free(m->csegs);
    free(m->clanes);
}
