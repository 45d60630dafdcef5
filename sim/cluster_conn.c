/* The server end of simulated client connections (see sim/cluster_conn.h).
 * One net message is one wire frame, 4-byte length included. */
#include "sim/cluster_conn.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/zk_wire.h"

bool cluster_is_close_marker(const uint8_t *bytes, size_t len, int32_t *reason)
{
    if (len != CLUSTER_CLOSE_MARKER_LEN || bytes[0] != 0xff || bytes[1] != 0xff ||
        bytes[2] != 0xff || bytes[3] != 0xff)
        return false;
    *reason = (int32_t)((uint32_t)bytes[4] << 24 | (uint32_t)bytes[5] << 16 |
                        (uint32_t)bytes[6] << 8 | bytes[7]);
    return true;
}

static struct cluster_cconn *cc_of(struct cluster *c, int id, int k)
{
    return &c->cconn[(size_t)id * (size_t)c->cfg.clients + (size_t)k];
}

int cconn_init(struct cluster *c, char *err, size_t errlen)
{
    c->zks = calloc((size_t)c->n + 1, sizeof *c->zks);
    size_t cells = ((size_t)c->n + 1) * (size_t)(c->cfg.clients ? c->cfg.clients : 1);
    c->cconn = calloc(cells, sizeof *c->cconn);
    c->wbuf = calloc(1, sizeof *c->wbuf);
    if (!c->zks || !c->cconn || !c->wbuf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void cconn_free(struct cluster *c)
{
    free(c->zks);
    free(c->cconn);
    if (c->wbuf)
        zkw_buf_free(c->wbuf);
    free(c->wbuf);
    free(c->view_actions);
    c->zks = NULL;
    c->cconn = NULL;
    c->wbuf = NULL;
    c->view_actions = NULL;
}

void cconn_server_reset(struct cluster *c, int id)
{
    if (!c->cconn)
        return;
    for (int k = 0; k < c->cfg.clients; k++)
        cc_of(c, id, k)->state = CCONN_NONE;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The server drops a connection itself (bytes it cannot parse). */
static void server_close(struct cluster *c, int id, int k, struct cluster_cconn *cc)
{
    uint64_t conn = cluster_conn_id(k, cc->gen);
    bool was_open = cc->state == CCONN_OPEN;
    cc->state = CCONN_CLOSED;
    net_drop(&c->net, c->sched.now, id - 1, cluster_client_endpoint(c, k));
    if (was_open) {
        zks_client_disconnect(&c->zks[id], cluster_local_ms(c, id), conn);
        cluster_server_output(c, id);
    }
}

static void on_connect_frame(struct cluster *c, int id, int k, struct cluster_cconn *cc,
                             const uint8_t *payload, size_t len)
{
    struct zkw_connect conn;
    if (zkw_decode_connect(payload, len, &conn) != ZOK) {
        sim_trace_event(&c->trace, c->sched.now, id, "c-bad-frame", "\"client\":%d", k + 1);
        server_close(c, id, k, cc);
        return;
    }
    cc->state = CCONN_OPEN;
    cc->long_form = conn.long_form;
    zks_client_connect(&c->zks[id], cluster_local_ms(c, id), cluster_conn_id(k, cc->gen), &conn.req);
    cluster_server_output(c, id);
}

/* A request the server answers at once with an error (policy of zk_wire). */
static void answer_error(struct cluster *c, int id, int k, struct cluster_cconn *cc,
                         const struct zkw_request *r, int32_t err)
{
    struct zks_out o = {.kind = ZKS_OUT_REPLY, .conn = cluster_conn_id(k, cc->gen), .xid = r->xid,
                        .op = r->op, .zxid = (int64_t)zks_last_applied(&c->zks[id]), .err = err};
    c->wbuf->len = 0;
    if (zkw_encode_out(&o, cc->long_form, c->wbuf) == 0)
        net_send(&c->net, c->sched.now, id - 1, cluster_client_endpoint(c, k), c->wbuf->p,
                 c->wbuf->len);
}

static void on_request_frame(struct cluster *c, int id, int k, struct cluster_cconn *cc,
                             const uint8_t *payload, size_t len)
{
    struct zkw_request r = {0};
    struct zkw_limits lim = {0};
    int rc = zkw_decode_request(payload, len, &lim, &r);
    uint64_t now_ms = cluster_local_ms(c, id), conn = cluster_conn_id(k, cc->gen);
    if (rc == ZOK && r.kind == ZKW_REQ_CLIENT)
        zks_client_request(&c->zks[id], now_ms, conn, &r.req);
    else if (rc == ZOK && r.kind == ZKW_REQ_SET_WATCHES)
        zks_client_set_watches(&c->zks[id], now_ms, conn, &r.sw);
    else if (rc == ZMARSHALLINGERROR || !r.has_header) {
        sim_trace_event(&c->trace, c->sched.now, id, "c-bad-frame", "\"client\":%d", k + 1);
        zkw_request_free(&r);
        server_close(c, id, k, cc);
        return;
    } else {
        answer_error(c, id, k, cc, &r, rc);
    }
    zkw_request_free(&r);
    cluster_server_output(c, id);
}

void cconn_server_frame(struct cluster *c, int id, int k, const uint8_t *bytes, size_t len)
{
    struct cluster_cconn *cc = cc_of(c, id, k);
    uint32_t gen = net_generation(&c->net, id - 1, cluster_client_endpoint(c, k));
    c->cause = (struct cluster_cause){.kind = CC_MESSAGE, .peer = cluster_client_endpoint(c, k) + 1};
    if (cc->state != CCONN_NONE && cc->gen == gen) {
        if (cc->state == CCONN_CLOSED)
            return; /* sent before our close reached the client */
    } else {
        if (cc->state == CCONN_OPEN) { /* a break we have not heard of yet */
            zks_client_disconnect(&c->zks[id], cluster_local_ms(c, id), cluster_conn_id(k, cc->gen));
            cluster_server_output(c, id);
        }
        cc->state = CCONN_NONE;
        cc->gen = gen;
    }
    if (len < 4 || be32(bytes) != len - 4) {
        server_close(c, id, k, cc);
        return;
    }
    if (cc->state == CCONN_NONE)
        on_connect_frame(c, id, k, cc, bytes + 4, len - 4);
    else
        on_request_frame(c, id, k, cc, bytes + 4, len - 4);
}

void cconn_server_broken(struct cluster *c, int id, int k, uint32_t gen)
{
    struct cluster_cconn *cc = cc_of(c, id, k);
    if (cc->gen != gen || cc->state == CCONN_NONE)
        return;
    bool was_open = cc->state == CCONN_OPEN;
    cc->state = CCONN_NONE;
    if (!was_open)
        return;
    c->cause = (struct cluster_cause){.kind = CC_CONN_BREAK, .peer = cluster_client_endpoint(c, k) + 1};
    zks_client_disconnect(&c->zks[id], cluster_local_ms(c, id), cluster_conn_id(k, gen));
    cluster_server_output(c, id);
}

static void send_out(struct cluster *c, int id, const struct zks_out *o)
{
    int k = (int)(o->conn >> 32) - 1;
    uint32_t gen = (uint32_t)o->conn;
    if (k < 0 || k >= c->cfg.clients)
        return;
    struct cluster_cconn *cc = cc_of(c, id, k);
    int ep = cluster_client_endpoint(c, k);
    /* A connection that broke (its notice still on the way) or was closed
     * takes nothing more: a send would open a new one. */
    if (cc->state != CCONN_OPEN || cc->gen != gen || !net_connection_open(&c->net, id - 1, ep) ||
        net_generation(&c->net, id - 1, ep) != gen)
        return;
    if (o->kind == ZKS_OUT_CLOSE) {
        cc->state = CCONN_CLOSED;
        uint32_t e = (uint32_t)o->err;
        uint8_t m[CLUSTER_CLOSE_MARKER_LEN] = {0xff, 0xff, 0xff, 0xff, (uint8_t)(e >> 24),
                                               (uint8_t)(e >> 16), (uint8_t)(e >> 8), (uint8_t)e};
        net_send(&c->net, c->sched.now, id - 1, ep, m, sizeof m);
        return;
    }
    c->wbuf->len = 0;
    if (zkw_encode_out(o, cc->long_form, c->wbuf) != 0) {
        sim_trace_event(&c->trace, c->sched.now, id, "c-encode-failed", "\"client\":%d,\"xid\":%d",
                        k + 1, o->xid);
        return;
    }
    enum net_status st = net_send(&c->net, c->sched.now, id - 1, ep, c->wbuf->p, c->wbuf->len);
    if (st < 0)
        sim_trace_event(&c->trace, c->sched.now, id, "c-send-failed", "\"client\":%d", k + 1);
}

void cconn_server_outputs(struct cluster *c, int id, const struct zks_output *o)
{
    for (uint32_t i = 0; i < o->n_client; i++)
        send_out(c, id, &o->client[i]);
}

void cluster_isolate_client(struct cluster *c, int k)
{
    if (!c->zks || k < 0 || k >= c->cfg.clients)
        return;
    int group_of[NET_ENDPOINTS_MAX];
    for (int e = 0; e < c->n + c->cfg.clients; e++)
        group_of[e] = e < c->n ? 0 : NET_GROUP_NONE;
    group_of[cluster_client_endpoint(c, k)] = 1;
    net_partition(&c->net, c->sched.now, group_of);
    sim_trace_event(&c->trace, c->sched.now, -1, "isolate-client", "\"client\":%d", k + 1);
    cluster_disturbed(c, "isolate-client", 0);
}
