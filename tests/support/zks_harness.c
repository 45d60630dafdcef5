/* zks_harness: in-memory ensemble of zk_servers for tests (see the header).
 * Test code only: aborts on out-of-memory. */
#include "tests/support/zks_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct zk_acl zksh_open_acl = {ZOO_PERM_ALL, {"world", "anyone"}};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

struct zksh_client *zksh_client(struct zksh *h, uint64_t conn)
{
    for (int i = 0; i < ZKSH_CLIENTS_MAX; i++)
        if (h->clients[i].conn == conn)
            return &h->clients[i];
    return NULL;
}

static struct zksh_client *client_new(struct zksh *h, uint64_t conn, int srv)
{
    struct zksh_client *c = zksh_client(h, conn);
    for (int i = 0; c == NULL && i < ZKSH_CLIENTS_MAX; i++)
        if (h->clients[i].conn == 0)
            c = &h->clients[i];
    /* Full: recycle the oldest entry of a connection that is gone. */
    for (int i = 0; c == NULL && i < ZKSH_CLIENTS_MAX; i++)
        if (!h->clients[i].open && (!h->up[h->clients[i].srv] ||
                                    !zks_conn_session(&h->srv[h->clients[i].srv], h->clients[i].conn)))
            c = &h->clients[i];
    if (c == NULL)
        abort();
    memset(c, 0, sizeof *c);
    c->conn = conn;
    c->srv = srv;
    return c;
}

/* ---- recording ------------------------------------------------------------ */

static void record_body(struct zksh_rec *r, const struct zks_out *o)
{
    copy_str(r->path, sizeof r->path, o->path.s ? o->path.s : "", o->path.len);
    r->has_stat = o->has_stat;
    r->stat = o->stat;
    r->data_len = o->data_len;
    copy_str(r->data, sizeof r->data, (const char *)o->data, o->data ? o->data_len : 0);
    size_t used = 0;
    for (uint32_t i = 0; i < o->n_strs; i++) {
        const struct zks_str *s = &o->strs[i];
        if (used + s->len + 2 >= sizeof r->strs)
            break;
        if (i)
            r->strs[used++] = ',';
        memcpy(r->strs + used, s->s, s->len);
        used += s->len;
    }
    r->strs[used] = '\0';
    r->n_strs = o->n_strs;
    r->n_ops = o->n_ops;
    for (uint32_t i = 0; i < o->n_ops && i < ZKSH_OPS_MAX; i++) {
        r->ops[i].type = o->ops[i].type;
        r->ops[i].err = o->ops[i].err;
        copy_str(r->ops[i].path, sizeof r->ops[i].path, o->ops[i].path.s, o->ops[i].path.len);
    }
    r->number = o->number;
    r->acl_count = o->acl_count;
    r->n_ids = o->n_ids;
}

static void record(struct zksh *h, int srv, const struct zks_out *o)
{
    if (h->n_recs == h->recs_cap) {
        h->recs_cap = h->recs_cap ? h->recs_cap * 2 : 256;
        h->recs = xrealloc(h->recs, h->recs_cap * sizeof *h->recs);
    }
    struct zksh_rec *r = &h->recs[h->n_recs++];
    memset(r, 0, sizeof *r);
    r->seq = ++h->seq;
    r->kind = o->kind;
    r->srv = srv;
    r->conn = o->conn;
    r->xid = o->xid;
    r->op = o->op;
    r->err = o->err;
    r->zxid = o->zxid;
    r->event = o->event;
    r->timeout_ms = o->timeout_ms;
    r->session_id = o->session_id;
    r->read_only = o->read_only;
    memcpy(r->passwd, o->passwd, sizeof r->passwd);
    record_body(r, o);
    struct zksh_client *c = zksh_client(h, o->conn);
    if (c == NULL || c->srv != srv)
        return;
    if (o->kind == ZKS_OUT_CONNECTED && o->timeout_ms > 0) {
        c->open = true;
        c->session = o->session_id;
        memcpy(c->passwd, o->passwd, sizeof c->passwd);
    } else if (o->kind == ZKS_OUT_CLOSE) {
        c->open = false;
    } else if (o->kind == ZKS_OUT_REPLY && o->zxid > c->last_zxid) {
        c->last_zxid = o->zxid;
    }
}

/* ---- executing a batch -------------------------------------------------------- */

static void disk_action(struct zksh *h, int i, const struct rep_action *a)
{
    struct zksh_disk *d = &h->disk[i];
    switch (a->kind) {
    case REP_ACT_LOG_APPEND:
        d->log = xrealloc(d->log, d->log_len + a->len);
        memcpy(d->log + d->log_len, a->bytes, a->len);
        d->log_len += a->len;
        break;
    case REP_ACT_LOG_TRUNCATE:
        if (a->value < d->log_len)
            d->log_len = a->value;
        break;
    case REP_ACT_EPOCH_WRITE:
        if (a->which == REP_EPOCH_ACCEPTED) {
            d->has_acc = true;
            d->acc = a->value;
        } else {
            d->has_cur = true;
            d->cur = a->value;
        }
        break;
    case REP_ACT_SNAPSHOT_WRITE:
        d->snap = xrealloc(d->snap, a->len);
        memcpy(d->snap, a->bytes, a->len);
        d->snap_len = a->len;
        break;
    default:
        break;
    }
    if (h->n_dq == h->dq_cap) {
        h->dq_cap = h->dq_cap ? h->dq_cap * 2 : 256;
        h->dq = xrealloc(h->dq, h->dq_cap * sizeof *h->dq);
    }
    h->dq[h->n_dq].srv = i;
    h->dq[h->n_dq].op_id = a->op_id;
    h->n_dq++;
}

static void drop_link(struct zksh *h, int a, int b)
{
    uint32_t k = 0;
    for (uint32_t j = 0; j < h->n_msgs; j++) {
        struct zksh_msg *m = &h->msgs[j];
        if ((m->from == a && m->to == b) || (m->from == b && m->to == a))
            free(m->bytes);
        else
            h->msgs[k++] = *m;
    }
    h->n_msgs = k;
}

static void process(struct zksh *h, int i);

static void send_msg(struct zksh *h, int from, const struct rep_action *a)
{
    if (a->peer < 1 || a->peer > h->n || !h->up[a->peer])
        return;
    if (h->n_msgs == h->msgs_cap) {
        h->msgs_cap = h->msgs_cap ? h->msgs_cap * 2 : 256;
        h->msgs = xrealloc(h->msgs, h->msgs_cap * sizeof *h->msgs);
    }
    struct zksh_msg *m = &h->msgs[h->n_msgs++];
    m->from = from;
    m->to = a->peer;
    m->len = a->len;
    m->bytes = xrealloc(NULL, a->len);
    memcpy(m->bytes, a->bytes, a->len);
}

static void process(struct zksh *h, int i)
{
    struct zk_server *s = &h->srv[i];
    const struct zks_output *o = zks_output(s);
    int broken[ZKSH_N_MAX + 1] = {0};
    for (uint32_t k = 0; k < o->n_actions; k++) {
        const struct rep_action *a = &o->actions[k];
        if (a->kind == REP_ACT_SEND)
            send_msg(h, i, a);
        else if (a->kind == REP_ACT_DISCONNECT) {
            drop_link(h, i, a->peer);
            if (a->peer >= 1 && a->peer <= h->n)
                broken[a->peer] = 1;
        } else
            disk_action(h, i, a);
    }
    for (uint32_t k = 0; k < o->n_client; k++)
        record(h, i, &o->client[k]);
    h->timer_ms[i] = o->timer_ms;
    zks_output_clear(s);
    for (int p = 1; p <= h->n; p++) {
        if (broken[p] && h->up[p]) {
            zks_on_conn_break(&h->srv[p], h->now_ms, i);
            process(h, p);
        }
    }
}

/* ---- stepping ------------------------------------------------------------------- */

static bool step(struct zksh *h)
{
    if (h->n_dq > 0) {
        int i = h->dq[0].srv;
        uint64_t op = h->dq[0].op_id;
        memmove(h->dq, h->dq + 1, (h->n_dq - 1) * sizeof *h->dq);
        h->n_dq--;
        if (h->up[i]) {
            zks_on_disk_done(&h->srv[i], h->now_ms, op);
            process(h, i);
        }
        return true;
    }
    for (uint32_t j = 0; j < h->n_msgs; j++) {
        struct zksh_msg m = h->msgs[j];
        if (h->hold[m.from][m.to])
            continue;
        memmove(h->msgs + j, h->msgs + j + 1, (h->n_msgs - j - 1) * sizeof *h->msgs);
        h->n_msgs--;
        if (h->up[m.to]) {
            zks_on_message(&h->srv[m.to], h->now_ms, m.from, m.bytes, m.len);
            process(h, m.to);
        }
        free(m.bytes);
        return true;
    }
    return false;
}

void zksh_settle(struct zksh *h)
{
    for (int guard = 0; guard < 1000000 && step(h); guard++)
        ;
}

static void fire_due(struct zksh *h)
{
    for (int i = 1; i <= h->n; i++) {
        if (h->up[i] && h->timer_ms[i] && h->timer_ms[i] <= h->now_ms) {
            zks_on_timer(&h->srv[i], h->now_ms);
            process(h, i);
        }
    }
}

void zksh_advance(struct zksh *h, uint64_t ms)
{
    uint64_t target = h->now_ms + ms;
    for (int guard = 0; guard < 100000; guard++) {
        zksh_settle(h);
        uint64_t t = 0;
        for (int i = 1; i <= h->n; i++)
            if (h->up[i] && h->timer_ms[i] && (t == 0 || h->timer_ms[i] < t))
                t = h->timer_ms[i];
        if (t == 0 || t > target)
            break;
        h->now_ms = t > h->now_ms ? t : h->now_ms + 1;
        if (h->now_ms > target)
            break;
        fire_due(h);
    }
    if (h->now_ms < target)
        h->now_ms = target;
    fire_due(h);
    zksh_settle(h);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void start_server(struct zksh *h, int i)
{
    struct zks_config c = h->cfg;
    c.rep.id = i;
    char err[200];
    if (zks_init(&h->srv[i], &c, err, sizeof err) != 0) {
        fprintf(stderr, "zks_init %d: %s\n", i, err);
        abort();
    }
    struct zksh_disk *d = &h->disk[i];
    struct replica_durable dur = {d->log, d->log_len, d->snap, d->snap_len,
                                  d->has_acc, d->acc, d->has_cur, d->cur};
    if (zks_start(&h->srv[i], h->now_ms, &dur, err, sizeof err) != 0) {
        fprintf(stderr, "zks_start %d: %s\n", i, err);
        abort();
    }
    h->up[i] = true;
    process(h, i);
}

bool zksh_all_serving(const struct zksh *h)
{
    for (int i = 1; i <= h->n; i++)
        if (h->up[i] && !zks_serving(&h->srv[i]))
            return false;
    return true;
}

bool zksh_init(struct zksh *h, int n)
{
    return zksh_init_roles(h, n, NULL);
}

bool zksh_init_roles(struct zksh *h, int n, const uint8_t *roles)
{
    memset(h, 0, sizeof *h);
    for (int i = 1; roles && i <= n; i++)
        h->cfg.rep.roles[i] = roles[i];
    h->n = n;
    h->now_ms = 1000000;
    h->cfg.rep.n_servers = n;
    h->cfg.rep.tick_ms = 100;
    h->cfg.rep.init_limit = 10;
    h->cfg.rep.sync_limit = 5;
    memcpy(h->cfg.secret, "zablab-test-secret", 18);
    h->cfg.secret_len = 18;
    for (int i = 1; i <= n; i++)
        start_server(h, i);
    for (int k = 0; k < 200 && !(zksh_leader(h) && zksh_all_serving(h)); k++)
        zksh_advance(h, 100);
    return zksh_leader(h) != 0 && zksh_all_serving(h);
}

void zksh_free(struct zksh *h)
{
    for (int i = 1; i <= h->n; i++) {
        if (h->up[i])
            zks_free(&h->srv[i]);
        free(h->disk[i].log);
        free(h->disk[i].snap);
    }
    for (uint32_t j = 0; j < h->n_msgs; j++)
        free(h->msgs[j].bytes);
    free(h->msgs);
    free(h->dq);
    free(h->recs);
    memset(h, 0, sizeof *h);
}

int zksh_leader(const struct zksh *h)
{
    for (int i = 1; i <= h->n; i++)
        if (h->up[i] && zks_serving(&h->srv[i]) && zks_replica(&h->srv[i])->state == REP_LEADING)
            return i;
    return 0;
}

int zksh_follower(const struct zksh *h, int skip)
{
    int l = zksh_leader(h);
    for (int i = 1; i <= h->n; i++)
        if (h->up[i] && i != l && i != skip)
            return i;
    return 0;
}

/* ---- clients ------------------------------------------------------------------------------ */

int zksh_connect(struct zksh *h, int srv, uint64_t conn, int64_t session, const uint8_t *passwd,
                 int64_t last_zxid, int32_t timeout_ms)
{
    struct zksh_client *c = client_new(h, conn, srv);
    struct zks_connect_req req = {.session_id = session, .last_zxid_seen = last_zxid,
                                  .timeout_ms = timeout_ms, .read_only = h->connect_read_only};
    if (passwd)
        memcpy(req.passwd, passwd, SESSION_PASSWD_LEN);
    c->last_zxid = last_zxid;
    int rc = zks_client_connect(&h->srv[srv], h->now_ms, conn, &req);
    process(h, srv);
    return rc;
}

int64_t zksh_open(struct zksh *h, int srv, uint64_t conn)
{
    zksh_connect(h, srv, conn, 0, NULL, 0, 1000);
    zksh_settle(h);
    struct zksh_client *c = zksh_client(h, conn);
    return c && c->open ? c->session : 0;
}

int zksh_reconnect(struct zksh *h, uint64_t old_conn, int srv, uint64_t new_conn)
{
    struct zksh_client *o = zksh_client(h, old_conn);
    if (o == NULL)
        return ZBADARGUMENTS;
    int64_t session = o->session, last = o->last_zxid;
    uint8_t pw[SESSION_PASSWD_LEN];
    memcpy(pw, o->passwd, sizeof pw);
    int rc = zksh_connect(h, srv, new_conn, session, pw, last, 1000);
    zksh_settle(h);
    return rc;
}

int zksh_request(struct zksh *h, uint64_t conn, const struct zk_request *req)
{
    struct zksh_client *c = zksh_client(h, conn);
    if (c == NULL)
        return ZBADARGUMENTS;
    int rc = zks_client_request(&h->srv[c->srv], h->now_ms, conn, req);
    process(h, c->srv);
    return rc;
}

void zksh_disconnect(struct zksh *h, uint64_t conn)
{
    struct zksh_client *c = zksh_client(h, conn);
    if (c == NULL)
        return;
    if (h->up[c->srv]) {
        zks_client_disconnect(&h->srv[c->srv], h->now_ms, conn);
        process(h, c->srv);
    }
    c->open = false;
}

struct zk_request zksh_rq(int32_t type, int32_t xid, const char *path)
{
    struct zk_request r = {.type = type, .cxid = xid, .path = path, .version = -1, .ttl_ms = -1};
    if (type == ZOO_CREATE_OP || type == ZOO_CREATE2_OP || type == ZOO_CREATE_CONTAINER_OP ||
        type == ZOO_CREATE_TTL_OP || type == ZOO_SETACL_OP) {
        r.acl = &zksh_open_acl;
        r.acl_count = 1;
    }
    return r;
}

static int reply_err(const struct zksh *h, uint64_t conn, int32_t xid)
{
    const struct zksh_rec *r = zksh_find(h, ZKS_OUT_REPLY, conn, xid);
    return r ? r->err : INT32_MIN;
}

int zksh_create(struct zksh *h, uint64_t conn, int32_t xid, const char *path, const char *data,
                int32_t flags)
{
    struct zk_request r = zksh_rq(ZOO_CREATE_OP, xid, path);
    r.data = (const uint8_t *)data;
    r.data_len = data ? (uint32_t)strlen(data) : 0;
    r.flags = flags;
    zksh_request(h, conn, &r);
    zksh_settle(h);
    return reply_err(h, conn, xid);
}

int zksh_get(struct zksh *h, uint64_t conn, int32_t xid, const char *path, bool watch)
{
    struct zk_request r = zksh_rq(ZOO_GETDATA_OP, xid, path);
    r.flags = watch ? 1 : 0;
    zksh_request(h, conn, &r);
    zksh_settle(h);
    return reply_err(h, conn, xid);
}

/* ---- queries --------------------------------------------------------------------------------- */

const struct zksh_rec *zksh_find(const struct zksh *h, uint8_t kind, uint64_t conn, int32_t xid)
{
    for (uint32_t i = 0; i < h->n_recs; i++) {
        const struct zksh_rec *r = &h->recs[i];
        if (r->kind == kind && r->conn == conn && (xid == INT32_MIN || r->xid == xid))
            return r;
    }
    return NULL;
}

int zksh_index(const struct zksh *h, const struct zksh_rec *r)
{
    return r ? (int)(r - h->recs) : -1;
}

uint32_t zksh_count(const struct zksh *h, uint8_t kind, uint64_t conn)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->n_recs; i++)
        n += h->recs[i].kind == kind && h->recs[i].conn == conn;
    return n;
}

/* ---- faults ------------------------------------------------------------------------------------ */

void zksh_hold(struct zksh *h, int from, int to, bool on)
{
    h->hold[from][to] = on;
}

void zksh_crash(struct zksh *h, int srv)
{
    if (!h->up[srv])
        return;
    h->up[srv] = false;
    zks_free(&h->srv[srv]);
    h->timer_ms[srv] = 0;
    for (int p = 1; p <= h->n; p++)
        if (p != srv)
            drop_link(h, srv, p);
    uint32_t k = 0;
    for (uint32_t j = 0; j < h->n_dq; j++)
        if (h->dq[j].srv != srv)
            h->dq[k++] = h->dq[j];
    h->n_dq = k;
    for (int i = 0; i < ZKSH_CLIENTS_MAX; i++)
        if (h->clients[i].conn && h->clients[i].srv == srv)
            h->clients[i].open = false;
    for (int p = 1; p <= h->n; p++) {
        if (p != srv && h->up[p]) {
            zks_on_conn_break(&h->srv[p], h->now_ms, srv);
            process(h, p);
        }
    }
}

void zksh_restart(struct zksh *h, int srv)
{
    if (!h->up[srv])
        start_server(h, srv);
}
