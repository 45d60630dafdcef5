/* Simulated ZooKeeper clients (see sim/client.h): ClientCnxn's behaviour
 * over the simulated network. One net message is one wire frame. */
#include "sim/client.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/zk_wire.h"
#include "sim/client_internal.h"

/* ---- small helpers ---- */

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static struct cluster *CL(struct sim_client *cl) { return cl->cs->c; }
static sim_time_ns now_ns(struct sim_client *cl) { return cl->cs->c->sched.now; }
static int endpoint(struct sim_client *cl) { return cluster_client_endpoint(CL(cl), cl->k); }

static const char *op_name(int32_t op)
{
    if (op == ZOO_CLOSE_SESSION_OP)
        return "closeSession";
    if (op == ZOO_PING_OP)
        return "ping";
    return zkp_op_name(op);
}

static const char *state_name(enum simc_state st)
{
    static const char *const names[] = {"idle", "connecting", "connected",
                                        "disconnected", "expired", "closed"};
    return names[st];
}

/* c-session trace record + the owner's state callback. */
void simc_set_state(struct sim_client *cl, enum simc_state st)
{
    if (cl->st == st)
        return;
    cl->st = st;
    if (st == SIMC_CONNECTED || st == SIMC_DISCONNECTED || st == SIMC_EXPIRED || st == SIMC_CLOSED)
        sim_trace_event(&CL(cl)->trace, now_ns(cl), -1, "c-session",
                        "\"client\":%d,\"server\":%d,\"session\":\"0x%" PRIx64 "\",\"state\":\"%s\"",
                        cl->k + 1, cl->server, (uint64_t)cl->session, state_name(st));
    if (cl->on_state)
        cl->on_state(cl->cb_arg, cl, st);
}

/* ---- sending ---- */

static void trace_send(struct sim_client *cl, const char *op, int32_t xid, size_t len)
{
    sim_trace_event(&CL(cl)->trace, now_ns(cl), -1, "c-send",
                    "\"client\":%d,\"server\":%d,\"op\":\"%s\",\"xid\":%d,\"len\":%zu", cl->k + 1,
                    cl->server, op, xid, len);
}

/* One frame on the current connection. A send that a fault eats is told
 * by a broken notice; an error of the net (full) is a connection loss. */
static int send_frame(struct sim_client *cl, const uint8_t *p, size_t len)
{
    struct cluster *c = CL(cl);
    enum net_status st = net_send(&c->net, c->sched.now, endpoint(cl), cl->server - 1, p, len);
    cl->last_send = now_ns(cl);
    return st < 0 ? -1 : 0;
}

static void send_ping(struct sim_client *cl)
{
    struct zk_request r = {.type = ZOO_PING_OP, .cxid = SIMC_XID_PING, .version = -1, .ttl_ms = -1};
    struct zkw_buf *b = &cl->cs->buf;
    b->len = 0;
    if (zkw_encode_request(&r, b) != 0)
        return;
    trace_send(cl, "ping", SIMC_XID_PING, b->len);
    cl->cs->stats.pings++;
    send_frame(cl, b->p, b->len);
}

static void send_set_watches(struct sim_client *cl)
{
    if (!cl->w[0].n && !cl->w[1].n && !cl->w[2].n)
        return;
    struct zks_set_watches sw = {.xid = SIMC_XID_SET_WATCHES, .relative_zxid = cl->last_zxid};
    struct watch_list *lists[3] = {&sw.data, &sw.exist, &sw.child};
    for (int i = 0; i < 3; i++) {
        lists[i]->paths = (const char *const *)cl->w[i].paths;
        lists[i]->count = cl->w[i].n;
    }
    struct zkw_buf *b = &cl->cs->buf;
    b->len = 0;
    if (zkw_encode_set_watches(SIMC_XID_SET_WATCHES, &sw, b) != 0)
        return;
    trace_send(cl, "setWatches", SIMC_XID_SET_WATCHES, b->len);
    send_frame(cl, b->p, b->len);
}

static struct simc_req *req_at(struct sim_client *cl, uint32_t i)
{
    return &cl->q[(cl->q_head + i) % SIMC_PENDING_MAX];
}

/* Sends every queued request not yet sent, in order. */
static void flush_queue(struct sim_client *cl)
{
    for (uint32_t i = 0; i < cl->q_n && cl->st == SIMC_CONNECTED && cl->conn_up; i++) {
        struct simc_req *r = req_at(cl, i);
        if (r->sent)
            continue;
        r->sent = true;
        r->session = cl->session;
        trace_send(cl, op_name(r->op), r->xid, r->frame_len);
        if (send_frame(cl, r->frame, r->frame_len) != 0)
            break;
    }
}

/* ---- history ---- */

static void hist_add(struct sim_clients *cs, struct chk_event *ev)
{
    if (!cs->h)
        return;
    ev->time_ns = (int64_t)cs->c->sched.now;
    ev->has_time = true;
    if (chk_history_add(cs->h, ev) == CHK_NONE) {
        cs->hist_full = true;
        return;
    }
    if (cs->out)
        chk_jsonl_write_event(cs->out, cs->h, ev);
}

static chk_str intern(struct sim_clients *cs, const void *s, size_t len)
{
    return cs->h && s ? chk_str_intern(cs->h, (const char *)s, len) : 0;
}

static int64_t lane_process(struct sim_client *cl, uint32_t lane)
{
    return (int64_t)(cl->k + 1) + (int64_t)lane * SIMC_CLIENTS_MAX;
}

static uint32_t lane_take(struct sim_client *cl)
{
    for (uint32_t i = 0; i < SIMC_PENDING_MAX + 1; i++)
        if (!cl->lane_busy[i]) {
            cl->lane_busy[i] = true;
            return i;
        }
    return 0; /* unreachable: lanes outnumber pending requests */
}

static void invoke_subs(struct sim_clients *cs, const struct zk_request *ops, uint32_t n,
                        struct chk_event *ev)
{
    struct chk_sub subs[CHK_SUBS_MAX];
    for (uint32_t i = 0; i < n; i++) {
        const struct zk_request *o = &ops[i];
        subs[i] = (struct chk_sub){.path = intern(cs, o->path, o->path ? strlen(o->path) : 0),
                                   .version = o->version, .mode = (uint8_t)(o->flags & 3)};
        switch (o->type) {
        case ZOO_CREATE_OP:
        case ZOO_CREATE2_OP: subs[i].f = CHK_F_CREATE; break;
        case ZOO_DELETE_OP: subs[i].f = CHK_F_DELETE; break;
        case ZOO_SETDATA_OP: subs[i].f = CHK_F_SET_DATA; break;
        default: subs[i].f = CHK_F_CHECK; break;
        }
        if (subs[i].f == CHK_F_CREATE || subs[i].f == CHK_F_SET_DATA)
            subs[i].data = intern(cs, o->data ? (const char *)o->data : "", o->data_len);
    }
    ev->n_subs = n;
    ev->subs = cs->h ? chk_history_add_subs(cs->h, subs, n) : 0;
}

/* The invocation line of a request (f != NONE). */
static void record_invoke(struct sim_client *cl, struct simc_req *r, const struct zk_request *zr)
{
    struct sim_clients *cs = cl->cs;
    r->lane = lane_take(cl);
    struct chk_event ev = {.type = CHK_INVOKE, .f = r->f, .process = lane_process(cl, r->lane),
                           .session = r->hist_session, .watch = r->watch};
    if (zr->path)
        ev.key = intern(cs, zr->path, strlen(zr->path));
    if (r->f == CHK_F_CREATE || r->f == CHK_F_SET_DATA) {
        ev.sval = intern(cs, zr->data ? (const char *)zr->data : "", zr->data_len);
        ev.has_value = true;
    }
    if (r->f == CHK_F_CREATE)
        ev.mode = (uint8_t)(zr->flags & 3);
    if (r->f == CHK_F_DELETE || r->f == CHK_F_SET_DATA) {
        ev.version = zr->version;
        ev.has_version = true;
    }
    if (r->f == CHK_F_MULTI)
        invoke_subs(cs, zr->ops, zr->op_count, &ev);
    r->inv_subs = ev.subs;
    r->n_subs = ev.n_subs;
    r->inv_key = ev.key;
    hist_add(cs, &ev);
}

static bool observed_err(int32_t err)
{
    return err == ZNONODE || err == ZNODEEXISTS || err == ZBADVERSION || err == ZNOTEMPTY ||
           err == ZNOCHILDRENFOREPHEMERALS || err == ZRUNTIMEINCONSISTENCY || err == ZNOAUTH ||
           err == ZBADARGUMENTS || err == ZINVALIDACL;
}

static void complete_subs(struct sim_clients *cs, const struct simc_req *r,
                          const struct simc_result *res, struct chk_event *ev)
{
    struct chk_sub subs[CHK_SUBS_MAX];
    uint32_t n = r->n_subs;
    memcpy(subs, &cs->h->subs[r->inv_subs], n * sizeof subs[0]);
    for (uint32_t i = 0; i < n && i < res->n_subs; i++) {
        subs[i].err = res->subs[i].err;
        if (res->subs[i].path)
            subs[i].result_path = intern(cs, res->subs[i].path, strlen(res->subs[i].path));
    }
    ev->n_subs = n;
    ev->subs = chk_history_add_subs(cs->h, subs, n);
}

static void complete_ok_fields(struct sim_clients *cs, const struct simc_req *r,
                               const struct simc_result *res, struct chk_event *ev)
{
    if (r->f == CHK_F_CREATE && res->path)
        ev->result_path = intern(cs, res->path, strlen(res->path));
    if ((r->f == CHK_F_SET_DATA || r->f == CHK_F_GET_DATA || r->f == CHK_F_EXISTS) &&
        res->has_stat) {
        ev->version = res->stat.version;
        ev->has_version = true;
    }
    if (r->f == CHK_F_GET_DATA) {
        ev->sval = intern(cs, res->data ? (const char *)res->data : "", res->data_len);
        ev->has_value = true;
    }
    if (r->f == CHK_F_GET_CHILDREN) {
        chk_str names[CHK_CHILDREN_MAX];
        uint32_t n = res->n_children < CHK_CHILDREN_MAX ? res->n_children : CHK_CHILDREN_MAX;
        for (uint32_t i = 0; i < n; i++)
            names[i] = intern(cs, res->children[i], strlen(res->children[i]));
        ev->n_children = n;
        ev->children = chk_history_add_names(cs->h, names, n);
    }
}

/* The completion line: ok, fail with a ZooKeeper error (an observation),
 * fail without one (a read that lost its connection: did not happen), or
 * info (a write whose outcome is unknown). */
static void record_complete(struct sim_client *cl, struct simc_req *r, const struct simc_result *res,
                            bool replied)
{
    struct sim_clients *cs = cl->cs;
    cl->lane_busy[r->lane] = false;
    if (!cs->h)
        return;
    struct chk_event ev = {.f = r->f, .process = lane_process(cl, r->lane), .session = r->hist_session,
                           .key = r->inv_key};
    bool is_write = chk_f_is_write(r->f) || r->f == CHK_F_CLOSE;
    if (replied && res->err == ZOK) {
        ev.type = CHK_OK;
    } else if (replied && (observed_err(res->err) || r->f == CHK_F_MULTI)) {
        ev.type = CHK_FAIL;
        ev.err = res->err;
    } else {
        ev.type = is_write ? CHK_INFO : CHK_FAIL;
        replied = false;
    }
    if (replied) {
        ev.zxid = res->zxid;
        ev.has_zxid = true;
        if (ev.type == CHK_OK)
            complete_ok_fields(cs, r, res, &ev);
        if (r->f == CHK_F_MULTI)
            complete_subs(cs, r, res, &ev);
    }
    if (ev.type == CHK_OK)
        cs->stats.ops_ok++;
    else if (ev.type == CHK_FAIL)
        cs->stats.ops_fail++;
    else
        cs->stats.ops_info++;
    hist_add(cs, &ev);
}

/* ---- the request queue ---- */

static void req_release(struct simc_req *r)
{
    free(r->frame);
    free(r->path);
    memset(r, 0, sizeof *r);
}

/* Pops the head request and completes it (callback after the history line,
 * so a callback's next invocation comes after this completion). */
void simc_complete_head(struct sim_client *cl, const struct simc_result *res, bool replied)
{
    struct simc_req r = *req_at(cl, 0);
    memset(req_at(cl, 0), 0, sizeof r);
    cl->q_head = (cl->q_head + 1) % SIMC_PENDING_MAX;
    cl->q_n--;
    if (r.f != CHK_F_NONE)
        record_complete(cl, &r, res, replied);
    if (r.done)
        r.done(r.arg, cl, res);
    req_release(&r);
}

/* Every request in flight or queued ends with err (connection loss or
 * expiry), in order. */
static void fail_all(struct sim_client *cl, int32_t err)
{
    uint32_t n = cl->q_n;
    for (uint32_t i = 0; i < n && cl->q_n; i++) {
        struct simc_result res = {.err = err};
        simc_complete_head(cl, &res, false);
    }
}

/* The session a request invoked now belongs to in the history. Before the
 * first handshake of a session its id is unknown: a provisional id, unique
 * per client and session, stands in (negative: never a real session id). */
static int64_t history_session(struct sim_client *cl)
{
    if (cl->session)
        return cl->session;
    return -(int64_t)(((uint64_t)(cl->k + 1) << 32) | cl->sessions_begun);
}

/* Queues a request (encoded now: its bytes do not change on a resend). */
int simc_submit(struct sim_client *cl, const struct zk_request *zr, enum chk_f f, bool watch,
                simc_done_fn *done, void *arg)
{
    if (cl->st == SIMC_IDLE || cl->st == SIMC_CLOSED)
        return ZCONNECTIONLOSS;
    if (cl->st == SIMC_EXPIRED)
        return ZSESSIONEXPIRED;
    if (cl->closing)
        return ZSESSIONEXPIRED; /* ZooKeeper: the handle is closing */
    if (cl->q_n >= SIMC_PENDING_MAX)
        return ZTHROTTLEDOP;
    struct zk_request r = *zr;
    r.cxid = cl->next_xid;
    struct zkw_buf b = {0};
    if (zkw_encode_request(&r, &b) != 0) {
        zkw_buf_free(&b);
        return ZBADARGUMENTS;
    }
    cl->next_xid = cl->next_xid == INT32_MAX ? 1 : cl->next_xid + 1;
    struct simc_req *q = req_at(cl, cl->q_n);
    *q = (struct simc_req){.xid = r.cxid, .op = r.type, .f = f, .watch = watch, .frame = b.p,
                           .frame_len = (uint32_t)b.len, .path = dup_str(r.path),
                           .hist_session = history_session(cl), .done = done, .arg = arg};
    cl->q_n++;
    cl->cs->stats.requests++;
    if (r.type == ZOO_CLOSE_SESSION_OP)
        cl->closing = true;
    if (f != CHK_F_NONE)
        record_invoke(cl, q, &r);
    flush_queue(cl);
    return 0;
}

/* ---- connection life ---- */

static sim_time_ns connect_timeout_ns(struct sim_client *cl)
{
    int servers = CL(cl)->n;
    return (sim_time_ns)cl->timeout_ms * SIM_NS_PER_MS / (uint64_t)servers;
}

static sim_time_ns read_timeout_ns(struct sim_client *cl)
{
    return (sim_time_ns)cl->timeout_ms * SIM_NS_PER_MS * 2 / 3;
}

static sim_time_ns next_deadline(struct sim_client *cl)
{
    if (cl->conn_up && !cl->handshake)
        return cl->conn_started + connect_timeout_ns(cl);
    if (cl->conn_up) {
        sim_time_ns rd = cl->last_recv + read_timeout_ns(cl);
        sim_time_ns ping = cl->last_send + read_timeout_ns(cl) / 2;
        return rd < ping ? rd : ping;
    }
    if (cl->st == SIMC_CONNECTING || cl->st == SIMC_DISCONNECTED)
        return cl->next_attempt_at;
    return SIM_TIME_NEVER;
}

static void arm(struct sim_client *cl)
{
    sim_time_ns t = next_deadline(cl);
    if (t == SIM_TIME_NEVER || (cl->wake_armed && cl->wake_at == t))
        return;
    if (t < now_ns(cl))
        t = now_ns(cl);
    cl->wake_gen++;
    cl->wake_at = t;
    cl->wake_armed = true;
    sim_sched_push(&CL(cl)->sched, t, SIMC_EV_WAKE, cl->k, cl->wake_gen, 0);
}

static void close_invoke(struct sim_client *cl);

/* The connection is gone (broken, timed out, closed by the server). */
static void conn_lost(struct sim_client *cl, bool drop)
{
    if (!cl->conn_up)
        return;
    if (drop) {
        struct cluster *c = CL(cl);
        net_drop(&c->net, c->sched.now, endpoint(cl), cl->server - 1);
    }
    cl->conn_up = false;
    cl->cs->stats.conn_losses++;
    if (!cl->handshake)
        cl->cs->stats.refusals++;
    bool had_session = cl->st == SIMC_CONNECTED;
    cl->handshake = false;
    if (cl->closing && had_session) {
        fail_all(cl, ZCONNECTIONLOSS);
        simc_set_state(cl, SIMC_CLOSED);
        return;
    }
    /* ClientCnxn waits a random while before the next server. */
    sim_time_ns spin = (sim_time_ns)cl->timeout_ms * SIM_NS_PER_MS / 4;
    if (spin > SIMC_SPIN_MAX_NS)
        spin = SIMC_SPIN_MAX_NS;
    cl->next_attempt_at = now_ns(cl) + sim_rng_below(&cl->cs->rng, spin + 1);
    if (had_session) {
        close_invoke(cl);
        simc_set_state(cl, SIMC_DISCONNECTED);
    }
    fail_all(cl, ZCONNECTIONLOSS);
    arm(cl);
}

static void attempt(struct sim_client *cl)
{
    struct cluster *c = CL(cl);
    cl->server = cl->order[cl->order_pos % c->n];
    cl->order_pos++;
    struct zkw_connect conn = {.req = {.session_id = cl->session, .last_zxid_seen = cl->last_zxid,
                                       .timeout_ms = cl->cs->session_timeout_ms},
                               .long_form = true};
    memcpy(conn.req.passwd, cl->passwd, sizeof cl->passwd);
    struct zkw_buf *b = &cl->cs->buf;
    b->len = 0;
    if (zkw_encode_connect(&conn, b) != 0)
        return;
    cl->conn_up = true;
    cl->handshake = false;
    cl->conn_started = cl->last_recv = now_ns(cl);
    cl->cs->stats.connects++;
    if (cl->session)
        cl->cs->stats.reconnects++;
    trace_send(cl, "connect", 0, b->len);
    int rc = send_frame(cl, b->p, b->len);
    cl->gen = net_generation(&c->net, endpoint(cl), cl->server - 1);
    if (rc != 0)
        conn_lost(cl, false);
}

static void on_wake(struct sim_client *cl, uint64_t gen)
{
    if (gen != cl->wake_gen)
        return;
    cl->wake_armed = false;
    sim_time_ns now = now_ns(cl);
    if (cl->conn_up && !cl->handshake) {
        if (now >= cl->conn_started + connect_timeout_ns(cl)) {
            cl->cs->stats.timeouts++;
            conn_lost(cl, true);
        }
    } else if (cl->conn_up) {
        if (now >= cl->last_recv + read_timeout_ns(cl)) {
            cl->cs->stats.timeouts++;
            conn_lost(cl, true);
        } else if (now >= cl->last_send + read_timeout_ns(cl) / 2) {
            send_ping(cl);
        }
    } else if ((cl->st == SIMC_CONNECTING || cl->st == SIMC_DISCONNECTED) &&
               now >= cl->next_attempt_at) {
        attempt(cl);
    }
    arm(cl);
}

/* The server says the session is gone. */
/* History of a possible expiry: invoked when the connection of a live
 * session is lost, since the session may expire from then on. */
static void close_invoke(struct sim_client *cl)
{
    if (cl->close_pending || !cl->session)
        return;
    cl->close_pending = true;
    cl->close_lane = lane_take(cl);
    struct chk_event ev = {.type = CHK_INVOKE, .f = CHK_F_CLOSE, .session = cl->session,
                           .process = lane_process(cl, cl->close_lane)};
    hist_add(cl->cs, &ev);
}

/* expired: the session ended (ok, with the closeSession txn's zxid when the
 * ensemble still has it); else it lives on (fail: it did not happen). */
static void close_complete(struct sim_client *cl, bool expired)
{
    if (!cl->close_pending)
        close_invoke(cl);
    if (!cl->close_pending)
        return;
    cl->close_pending = false;
    struct chk_event ev = {.type = expired ? CHK_OK : CHK_FAIL, .f = CHK_F_CLOSE,
                           .session = cl->session, .process = lane_process(cl, cl->close_lane)};
    if (expired) {
        ev.zxid = simc_find_close_zxid(CL(cl), cl->session);
        ev.has_zxid = ev.zxid != 0;
    }
    hist_add(cl->cs, &ev);
    cl->lane_busy[cl->close_lane] = false;
}

/* The server says the session is gone. */
static void on_session_expired(struct sim_client *cl)
{
    cl->cs->stats.expiries++;
    fail_all(cl, ZSESSIONEXPIRED); /* before conn_lost would fail them as a loss */
    cl->handshake = true;          /* not a refused connection */
    conn_lost(cl, true);
    for (int i = 0; i < 3; i++)
        simc_watches_clear(&cl->w[i]);
    close_complete(cl, true);
    simc_set_state(cl, SIMC_EXPIRED);
}

static void on_connected(struct sim_client *cl, const uint8_t *payload, size_t len)
{
    struct zkw_reply rep = {0};
    if (zkw_decode_connect_resp(payload, len, &rep) != ZOK) {
        zkw_reply_free(&rep);
        conn_lost(cl, true);
        return;
    }
    const struct zkp_connect_resp *cr = &rep.connect;
    bool expired = cr->timeout_ms <= 0;
    sim_trace_event(&CL(cl)->trace, now_ns(cl), -1, "c-recv",
                    "\"client\":%d,\"server\":%d,\"what\":\"connected\",\"op\":\"connect\","
                    "\"xid\":0,\"err\":%d",
                    cl->k + 1, cl->server, expired ? ZSESSIONEXPIRED : ZOK);
    if (expired) {
        zkw_reply_free(&rep);
        on_session_expired(cl);
        return;
    }
    bool reconnect = cl->session != 0;
    cl->session = cr->session_id;
    if (cr->passwd.len == SESSION_PASSWD_LEN)
        memcpy(cl->passwd, cr->passwd.ptr, SESSION_PASSWD_LEN);
    cl->timeout_ms = cr->timeout_ms;
    zkw_reply_free(&rep);
    cl->handshake = true;
    if (reconnect)
        close_complete(cl, false);
    /* ZooKeeper's client primes a reconnected socket with SetWatches before
     * any request: a request the owner issues from its CONNECTED callback
     * must not overtake the re-registration (its reply could then arrive
     * before a watch event that happened while the client was away). */
    if (reconnect)
        send_set_watches(cl);
    simc_set_state(cl, SIMC_CONNECTED);
    flush_queue(cl);
}

/* ---- replies ---- */

static int32_t op_of_xid(void *arg, int32_t xid)
{
    struct sim_client *cl = arg;
    for (uint32_t i = 0; i < cl->q_n; i++)
        if (req_at(cl, i)->sent && req_at(cl, i)->xid == xid)
            return req_at(cl, i)->op;
    return ZOO_ERROR_OP;
}

static void on_reply(struct sim_client *cl, const struct zkw_reply *rep)
{
    sim_trace_event(&CL(cl)->trace, now_ns(cl), -1, "c-recv",
                    "\"client\":%d,\"server\":%d,\"what\":\"reply\",\"op\":\"%s\",\"xid\":%d,"
                    "\"err\":%d",
                    cl->k + 1, cl->server, op_name(rep->op), rep->xid, rep->err);
    if (rep->xid == SIMC_XID_PING || rep->xid == SIMC_XID_SET_WATCHES)
        return;
    struct simc_req *head = cl->q_n ? req_at(cl, 0) : NULL;
    if (!head || !head->sent || head->xid != rep->xid) {
        /* ClientCnxn: "Xid out of order" is an IOException: reconnect. */
        cl->cs->stats.xid_out_of_order++;
        conn_lost(cl, true);
        return;
    }
    if (rep->zxid > cl->last_zxid)
        cl->last_zxid = rep->zxid;
    cl->cs->stats.replies++;
    simc_deliver_result(cl, head, rep);
}

static void on_watch(struct sim_client *cl, const struct zkw_reply *rep)
{
    char path[ZK_PATH_MAX + 1];
    int32_t len = rep->event.path.len > 0 ? rep->event.path.len : 0;
    if ((uint32_t)len > ZK_PATH_MAX)
        len = ZK_PATH_MAX;
    memcpy(path, rep->event.path.ptr ? rep->event.path.ptr : "", (size_t)len);
    path[len] = '\0';
    int32_t type = rep->event.type;
    sim_trace_event(&CL(cl)->trace, now_ns(cl), -1, "c-recv",
                    "\"client\":%d,\"server\":%d,\"what\":\"watch\",\"op\":\"notification\","
                    "\"xid\":-1,\"err\":0,\"event\":%d",
                    cl->k + 1, cl->server, type);
    cl->cs->stats.watches++;
    /* One-shot watches this event consumes (ZKWatchManager.materialize). */
    if (type == ZOO_EVENT_CREATED || type == ZOO_EVENT_DATA_CHANGED || type == ZOO_EVENT_DELETED) {
        simc_watches_remove(&cl->w[SIMC_W_DATA], path);
        simc_watches_remove(&cl->w[SIMC_W_EXIST], path);
    }
    if (type == ZOO_EVENT_CHILD_CHANGED || type == ZOO_EVENT_DELETED)
        simc_watches_remove(&cl->w[SIMC_W_CHILD], path);
    struct chk_event ev = {.type = CHK_WATCH, .process = simc_process(cl), .session = cl->session,
                           .watch_type = type, .zxid = (uint64_t)rep->zxid, .has_zxid = true,
                           .key = intern(cl->cs, path, strlen(path))};
    hist_add(cl->cs, &ev);
    if (cl->on_watch)
        cl->on_watch(cl->cb_arg, cl, type, path);
}

static void on_frame(struct sim_client *cl, const uint8_t *bytes, size_t len)
{
    cl->last_recv = now_ns(cl);
    int32_t reason;
    if (cluster_is_close_marker(bytes, len, &reason)) {
        sim_trace_event(&CL(cl)->trace, now_ns(cl), -1, "c-recv",
                        "\"client\":%d,\"server\":%d,\"what\":\"close\",\"op\":\"close\","
                        "\"xid\":0,\"err\":%d",
                        cl->k + 1, cl->server, reason);
        conn_lost(cl, true); /* the FIN after the data */
        return;
    }
    if (len < 4) {
        conn_lost(cl, true);
        return;
    }
    if (!cl->handshake) {
        on_connected(cl, bytes + 4, len - 4);
        return;
    }
    struct zkw_reply rep = {0};
    if (zkw_decode_reply(bytes + 4, len - 4, op_of_xid, cl, &rep) != ZOK) {
        zkw_reply_free(&rep);
        conn_lost(cl, true);
        return;
    }
    if (rep.kind == ZKW_REPLY_WATCH)
        on_watch(cl, &rep);
    else if (rep.kind == ZKW_REPLY_REPLY)
        on_reply(cl, &rep);
    zkw_reply_free(&rep);
}

/* ---- cluster hooks ---- */

static void hook_deliver(void *ctx, struct cluster *c, int client, int server, const uint8_t *bytes,
                         size_t len)
{
    struct sim_clients *cs = ctx;
    if (client < 0 || client >= cs->n)
        return;
    struct sim_client *cl = &cs->cl[client];
    /* A frame of a connection the client already gave up is not its. */
    if (!cl->conn_up || server != cl->server ||
        net_generation(&c->net, endpoint(cl), server - 1) != cl->gen)
        return;
    on_frame(cl, bytes, len);
    arm(cl);
}

static void hook_broken(void *ctx, struct cluster *c, int client, int server, uint32_t gen)
{
    (void)c;
    struct sim_clients *cs = ctx;
    if (client < 0 || client >= cs->n)
        return;
    struct sim_client *cl = &cs->cl[client];
    if (!cl->conn_up || server != cl->server || gen != cl->gen)
        return;
    conn_lost(cl, false);
}

static void hook_event(void *ctx, struct cluster *c, const struct sim_event *ev)
{
    (void)c;
    struct sim_clients *cs = ctx;
    if (ev->kind == SIMC_EV_WAKE && ev->node >= 0 && ev->node < cs->n)
        on_wake(&cs->cl[ev->node], ev->a);
    else if (ev->kind == SIMC_EV_TIMER)
        simc_timer_fire(cs, (uint32_t)ev->a, ev->b);
}

/* ---- public API ---- */

static void shuffle_servers(struct sim_client *cl)
{
    int n = CL(cl)->n;
    for (int i = 0; i < n; i++)
        cl->order[i] = i + 1;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sim_rng_below(&cl->cs->rng, (uint64_t)i + 1);
        int t = cl->order[i];
        cl->order[i] = cl->order[j];
        cl->order[j] = t;
    }
}

struct sim_clients *simc_new(struct cluster *c, int n_clients, int32_t session_timeout_ms,
                             FILE *history_out)
{
    if (!c || !c->zks || n_clients < 0 || n_clients > c->cfg.clients ||
        n_clients > SIMC_CLIENTS_MAX || session_timeout_ms <= 0)
        return NULL;
    struct sim_clients *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->c = c;
    cs->n = n_clients;
    cs->session_timeout_ms = session_timeout_ms;
    cs->out = history_out;
    cs->cl = calloc((size_t)(n_clients ? n_clients : 1), sizeof *cs->cl);
    cs->h = chk_history_new("simulated clients");
    if (!cs->cl || !cs->h || sim_rng_open(&cs->rng, c->cfg.seed, "clients", 0) != 0) {
        simc_free(cs);
        return NULL;
    }
    cs->rng_open = true;
    for (int k = 0; k < n_clients; k++) {
        struct sim_client *cl = &cs->cl[k];
        cl->cs = cs;
        cl->k = k;
        cl->next_xid = 1;
        cl->timeout_ms = session_timeout_ms;
        shuffle_servers(cl);
    }
    simc_timers_init(cs);
    c->client_deliver = hook_deliver;
    c->client_broken = hook_broken;
    c->client_event = hook_event;
    c->client_ctx = cs;
    return cs;
}

void simc_free(struct sim_clients *cs)
{
    if (!cs)
        return;
    if (cs->c && cs->c->client_ctx == cs) {
        cs->c->client_deliver = NULL;
        cs->c->client_broken = NULL;
        cs->c->client_event = NULL;
        cs->c->client_ctx = NULL;
    }
    for (int k = 0; cs->cl && k < cs->n; k++) {
        struct sim_client *cl = &cs->cl[k];
        for (uint32_t i = 0; i < cl->q_n; i++)
            req_release(req_at(cl, i));
        for (int i = 0; i < 3; i++)
            simc_watches_clear(&cl->w[i]);
    }
    free(cs->cl);
    free(cs->acked);
    chk_history_free(cs->h);
    if (cs->rng_open)
        sim_rng_close(&cs->rng);
    zkw_buf_free(&cs->buf);
    free(cs);
}

int simc_count(const struct sim_clients *cs) { return cs->n; }

struct sim_client *simc_get(struct sim_clients *cs, int index)
{
    return index >= 0 && index < cs->n ? &cs->cl[index] : NULL;
}

int simc_index(const struct sim_client *cl) { return cl->k; }
int64_t simc_process(const struct sim_client *cl) { return (int64_t)cl->k + 1; }
enum simc_state simc_state(const struct sim_client *cl) { return cl->st; }
int64_t simc_session(const struct sim_client *cl) { return cl->session; }
uint32_t simc_pending(const struct sim_client *cl) { return cl->q_n; }
sim_time_ns simc_now(const struct sim_clients *cs) { return cs->c->sched.now; }
struct cluster *simc_cluster(struct sim_clients *cs) { return cs->c; }
struct chk_history *simc_history(struct sim_clients *cs) { return cs->h; }
const struct simc_stats *simc_stats(const struct sim_clients *cs) { return &cs->stats; }

int simc_server(const struct sim_client *cl) { return cl->conn_up ? cl->server : 0; }

void simc_set_callbacks(struct sim_client *cl, simc_state_fn *st, simc_watch_fn *w, void *arg)
{
    cl->on_state = st;
    cl->on_watch = w;
    cl->cb_arg = arg;
}

int simc_connect(struct sim_client *cl)
{
    if (cl->st == SIMC_CONNECTING || cl->st == SIMC_CONNECTED || cl->st == SIMC_DISCONNECTED)
        return ZBADARGUMENTS;
    cl->session = 0;
    cl->sessions_begun++;
    memset(cl->passwd, 0, sizeof cl->passwd);
    cl->last_zxid = 0;
    cl->closing = false;
    cl->timeout_ms = cl->cs->session_timeout_ms;
    for (int i = 0; i < 3; i++)
        simc_watches_clear(&cl->w[i]);
    simc_set_state(cl, SIMC_CONNECTING);
    cl->next_attempt_at = now_ns(cl);
    attempt(cl);
    arm(cl);
    return 0;
}
