/* zks_conn: client connections of a zk_server: the handshake (new session
 * through a createSession txn, reconnect through the leader's verdict),
 * each connection's request queue, and the answers.
 *
 * Ordering (ZooKeeper's CommitProcessor rule): a connection's requests are
 * answered strictly in arrival order. Writes (and syncs) are submitted as
 * they arrive, so a session's writes pipeline; a read waits in the queue
 * until everything before it has been answered and then runs against the
 * tree as it is at that moment, so a session always sees its own writes and
 * never a later one. Watch notifications fired by a txn are emitted while
 * the txn is applied, before any reply that observes it.
 *
 * Owns: the connection table (conns_max slots) and queues (each grown up
 * to outstanding_per_conn_max entries).
 * Never: call into the replica from inside an apply (submissions that
 * become possible there are deferred to the end of the input). */
#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/read.h"
#include "core/zks_internal.h"

/* ---- table --------------------------------------------------------------------- */

struct zks_conn *zks_conn_find(struct zk_server *s, uint64_t id)
{
    if (id == 0)
        return NULL;
    for (uint32_t i = 0; i < s->conn_high; i++)
        if (s->conns[i].id == id)
            return &s->conns[i];
    return NULL;
}

/* state 0 matches any live connection. */
struct zks_conn *zks_conn_by_session(struct zk_server *s, int64_t session_id, uint8_t state)
{
    for (uint32_t i = 0; i < s->conn_high && session_id != 0; i++) {
        struct zks_conn *c = &s->conns[i];
        if (c->id && c->session_id == session_id && (state == 0 || c->state == state))
            return c;
    }
    return NULL;
}

int64_t zks_conn_session(const struct zk_server *s, uint64_t conn_id)
{
    struct zks_conn *c = zks_conn_find((struct zk_server *)s, conn_id);
    return c && c->state == ZKS_CONN_OPEN ? c->session_id : 0;
}

uint32_t zks_conn_outstanding(const struct zk_server *s, uint64_t conn_id)
{
    struct zks_conn *c = zks_conn_find((struct zk_server *)s, conn_id);
    return c ? c->q_n : 0;
}

bool zks_is_write_op(int32_t op)
{
    switch (op) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
    case ZOO_DELETE_OP: case ZOO_SETDATA_OP: case ZOO_SETACL_OP: case ZOO_CHECK_OP:
    case ZOO_MULTI_OP: case ZOO_CLOSE_SESSION_OP:
        return true;
    default:
        return false;
    }
}

static bool is_submitted_op(int32_t op)
{
    return zks_is_write_op(op) || op == ZOO_SYNC_OP;
}

/* ---- queue ----------------------------------------------------------------------- */

static struct zks_pending *q_at(const struct zks_conn *c, uint32_t i)
{
    return &c->q[(c->q_head + i) % c->q_cap];
}

static struct zks_pending *q_push(struct zk_server *s, struct zks_conn *c)
{
    if (c->q_n >= s->cfg.outstanding_per_conn_max)
        return NULL;
    if (c->q_n == c->q_cap) {
        uint32_t cap = c->q_cap ? c->q_cap * 2 : 8;
        if (cap > s->cfg.outstanding_per_conn_max)
            cap = s->cfg.outstanding_per_conn_max;
        struct zks_pending *q = calloc(cap, sizeof *q);
        if (q == NULL)
            return NULL;
        for (uint32_t i = 0; i < c->q_n; i++)
            q[i] = *q_at(c, i);
        free(c->q);
        c->q = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    struct zks_pending *e = q_at(c, c->q_n);
    memset(e, 0, sizeof *e);
    c->q_n++;
    return e;
}

/* Leaving a counted stage keeps the server's counters exact. */
static void entry_uncount(struct zk_server *s, struct zks_pending *e)
{
    if ((e->stage == ZKS_ST_INFLIGHT || e->stage == ZKS_ST_SYNC_WAIT) && s->forwarded)
        s->forwarded--;
    if (e->stage == ZKS_ST_SYNC_WAIT && s->sync_waiting)
        s->sync_waiting--;
}

static void q_pop(struct zk_server *s, struct zks_conn *c)
{
    struct zks_pending *e = q_at(c, 0);
    entry_uncount(s, e);
    free(e->req);
    memset(e, 0, sizeof *e);
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_n--;
}

void zks_conn_release(struct zks_conn *c)
{
    for (uint32_t i = 0; i < c->q_n && c->q; i++)
        free(q_at(c, i)->req);
    free(c->q);
    memset(c, 0, sizeof *c);
}

/* Finds the in-flight entry a txn or leader answer is about. */
static struct zks_pending *q_find(const struct zks_conn *c, int32_t xid, int32_t op, uint8_t stage)
{
    for (uint32_t i = 0; i < c->q_n; i++) {
        struct zks_pending *e = q_at(c, i);
        if (e->xid == xid && e->stage == stage && (op == 0 || e->op == op))
            return e;
    }
    return NULL;
}

/* ---- closing ----------------------------------------------------------------------- */

void zks_conn_close(struct zk_server *s, struct zks_conn *c, int32_t reason)
{
    struct zks_out *o = zks_out_new(s, ZKS_OUT_CLOSE, c->id);
    if (o)
        o->err = reason;
    for (uint32_t i = 0; i < c->q_n; i++)
        entry_uncount(s, q_at(c, i));
    if (c->state == ZKS_CONN_NEW && s->forwarded)
        s->forwarded--;
    watch_remove_conn(&s->watches, c->id);
    zks_conn_release(c);
    if (s->conn_count)
        s->conn_count--;
    while (s->conn_high > 0 && s->conns[s->conn_high - 1].id == 0)
        s->conn_high--;
}

void zks_conn_close_all(struct zk_server *s, int32_t reason)
{
    for (uint32_t i = 0; i < s->conn_high; i++)
        if (s->conns[i].id)
            zks_conn_close(s, &s->conns[i], reason);
}

void zks_conn_moved(struct zk_server *s, int64_t session_id)
{
    struct zks_conn *c = zks_conn_by_session(s, session_id, ZKS_CONN_OPEN);
    if (c)
        zks_conn_close(s, c, ZSESSIONMOVED);
}

/* ---- output helpers ------------------------------------------------------------------ */

static struct zks_out *reply_new(struct zk_server *s, const struct zks_conn *c, int32_t xid,
                                 int32_t op, int32_t err)
{
    struct zks_out *o = zks_out_new(s, ZKS_OUT_REPLY, c->id);
    if (o) {
        o->xid = xid;
        o->op = op;
        o->err = err;
        o->zxid = (int64_t)zks_last_applied(s);
    }
    return o;
}

static void out_path(struct zk_server *s, struct zks_out *o, const char *p, size_t n)
{
    uint32_t off = zks_out_bytes(s, p, n);
    if (off != UINT32_MAX) {
        o->path.off = off;
        o->path.len = (uint32_t)n;
    }
}

/* Appends one string to o's list; the strings of one output are contiguous. */
static void out_add_str(struct zk_server *s, struct zks_out *o, const char *p, size_t n)
{
    struct zks_outbuf *b = &s->ob;
    if (o->n_strs == 0)
        o->strs_first = b->n_strs;
    uint32_t off = zks_out_bytes(s, p, n);
    if (off == UINT32_MAX || !zks_grow((void **)&b->strs, &b->strs_cap, b->n_strs + 1, sizeof *b->strs))
        return;
    b->strs[b->n_strs++] = (struct zks_str){NULL, (uint32_t)n, off};
    o->n_strs++;
}

static void emit_watch_events(struct zk_server *s, const struct watch_out *w)
{
    for (uint32_t i = 0; i < w->count; i++) {
        const struct watch_event *ev = &w->events[i];
        struct zks_out *o = zks_out_new(s, ZKS_OUT_WATCH, ev->conn);
        if (o == NULL)
            return;
        o->event = ev->type;
        o->zxid = ev->zxid;
        out_path(s, o, watch_out_str(w, ev->path_off), ev->path_len);
    }
}

static bool may_read(void *ctx, uint64_t conn, const struct zk_acl *acl, uint32_t acl_count)
{
    struct zk_server *s = ctx;
    struct zks_conn *c = zks_conn_find(s, conn);
    return c && acl_check(acl, acl_count, ZOO_PERM_READ, c->auth, c->auth_count) == ZOK;
}

/* ---- handshake --------------------------------------------------------------------------- */

static int refuse(struct zk_server *s, uint64_t conn_id, int32_t reason)
{
    struct zks_out *o = zks_out_new(s, ZKS_OUT_CLOSE, conn_id);
    if (o)
        o->err = reason;
    return reason;
}

static int32_t negotiate(const struct zk_server *s, int32_t requested_ms)
{
    if (requested_ms < s->cfg.min_session_timeout_ms)
        return s->cfg.min_session_timeout_ms;
    if (requested_ms > s->cfg.max_session_timeout_ms)
        return s->cfg.max_session_timeout_ms;
    return requested_ms;
}

static struct zks_conn *conn_alloc(struct zk_server *s, uint64_t id, const struct zks_connect_req *req)
{
    for (uint32_t i = 0; i < s->cfg.conns_max; i++) {
        struct zks_conn *c = &s->conns[i];
        if (c->id)
            continue;
        memset(c, 0, sizeof *c);
        c->id = id;
        c->timeout_ms = negotiate(s, req->timeout_ms);
        c->auth_count = req->auth ? req->auth_count : 0;
        if (c->auth_count)
            memcpy(c->auth, req->auth, c->auth_count * sizeof *c->auth);
        s->conn_count++;
        if (i + 1 > s->conn_high)
            s->conn_high = i + 1;
        return c;
    }
    return NULL;
}

static int64_t new_session_id(struct zk_server *s)
{
    int64_t id = s->next_session_id++;
    if (id == 0 || id == ZK_OWNER_CONTAINER)
        id = s->next_session_id++;
    return id;
}

static int connect_new(struct zk_server *s, struct zks_conn *c)
{
    uint64_t id = c->id;
    if (s->forwarded >= s->cfg.forwarded_max) {
        zks_conn_close(s, c, ZTHROTTLEDOP);
        return ZTHROTTLEDOP;
    }
    c->state = ZKS_CONN_NEW;
    c->session_id = new_session_id(s);
    s->forwarded++;
    struct zk_request r = {.type = ZOO_CREATE_SESSION_OP, .session_id = c->session_id,
                           .cxid = 0, .timeout_ms = c->timeout_ms, .ttl_ms = -1, .version = -1};
    int rc = zks_submit_write(s, &r);
    if (rc != ZOK) {
        c = zks_conn_find(s, id);     /* the replica call may have closed it */
        if (c)
            zks_conn_close(s, c, rc == ZTHROTTLEDOP ? ZTHROTTLEDOP : ZCONNECTIONLOSS);
        return rc;
    }
    return ZOK;
}

static void connected_expired(struct zk_server *s, struct zks_conn *c)
{
    struct zks_out *o = zks_out_new(s, ZKS_OUT_CONNECTED, c->id);
    if (o)
        o->timeout_ms = 0;
    zks_conn_close(s, c, ZSESSIONEXPIRED);
}

static int connect_again(struct zk_server *s, struct zks_conn *c, const struct zks_connect_req *req)
{
    if (!session_password_ok(req->session_id, s->cfg.secret, s->cfg.secret_len, req->passwd,
                             SESSION_PASSWD_LEN)) {
        connected_expired(s, c);
        return ZSESSIONEXPIRED;
    }
    /* The same session on another connection of this server: that one is
     * stale (ZooKeeper closes it as the client reconnects). */
    for (uint32_t i = 0; i < s->conn_high; i++) {
        struct zks_conn *o = &s->conns[i];
        if (o->id && o != c && o->session_id == req->session_id)
            zks_conn_close(s, o, ZSESSIONMOVED);
    }
    c->session_id = req->session_id;
    c->state = ZKS_CONN_REVALIDATE;
    int v = zks_revalidate(s, c->id, c->session_id, c->timeout_ms);
    if (v >= 0)
        zks_conn_opened(s, c, v == 1);
    return v == 0 ? ZSESSIONEXPIRED : ZOK;
}

/* Read-only mode (ZooKeeper's ReadOnlyZooKeeperServer): the session opens
 * at once and stays on this server; the leader never hears of it. A known
 * session id keeps its id if the password is right (ZooKeeper's read-only
 * server accepts the sessions its database knows; the password is the only
 * proof this layer can check). */
static int connect_read_only(struct zk_server *s, struct zks_conn *c, const struct zks_connect_req *req)
{
    c->read_only = true;
    if (req->session_id == 0) {
        c->session_id = new_session_id(s);
    } else if (!session_password_ok(req->session_id, s->cfg.secret, s->cfg.secret_len,
                                    req->passwd, SESSION_PASSWD_LEN)) {
        connected_expired(s, c);
        return ZSESSIONEXPIRED;
    } else {
        for (uint32_t i = 0; i < s->conn_high; i++) {
            struct zks_conn *o = &s->conns[i];
            if (o->id && o != c && o->session_id == req->session_id)
                zks_conn_close(s, o, ZSESSIONMOVED);
        }
        c->session_id = req->session_id;
    }
    zks_conn_opened(s, c, true);
    return ZOK;
}

static int connect_inner(struct zk_server *s, uint64_t conn_id, const struct zks_connect_req *req)
{
    if (conn_id == 0 || zks_conn_find(s, conn_id) != NULL)
        return ZBADARGUMENTS;
    bool read_only = !s->serving && req->read_only && zks_read_only_mode(s, s->now_ms);
    if (!s->serving && !read_only)
        return refuse(s, conn_id, ZCONNECTIONLOSS);
    /* The client saw a newer state than ours: it must try another server. */
    if (req->last_zxid_seen > 0 && (uint64_t)req->last_zxid_seen > zks_last_applied(s))
        return refuse(s, conn_id, ZCONNECTIONLOSS);
    if (req->auth_count > ZK_AUTH_MAX)
        return refuse(s, conn_id, ZAUTHFAILED);
    struct zks_conn *c = s->conn_count < s->cfg.conns_max ? conn_alloc(s, conn_id, req) : NULL;
    if (c == NULL)
        return refuse(s, conn_id, ZTHROTTLEDOP);
    if (read_only)
        return connect_read_only(s, c, req);
    return req->session_id == 0 ? connect_new(s, c) : connect_again(s, c, req);
}

int zks_client_connect(struct zk_server *s, uint64_t now_ms, uint64_t conn_id,
                       const struct zks_connect_req *req)
{
    zks_enter(s, now_ms);
    int rc = connect_inner(s, conn_id, req);
    zks_leave(s);
    return rc;
}

void zks_conn_opened(struct zk_server *s, struct zks_conn *c, bool valid)
{
    if (!valid) {
        connected_expired(s, c);
        return;
    }
    if (c->state == ZKS_CONN_NEW && s->forwarded)
        s->forwarded--;
    c->state = ZKS_CONN_OPEN;
    c->touched = true;
    struct zks_out *o = zks_out_new(s, ZKS_OUT_CONNECTED, c->id);
    if (o) {
        o->timeout_ms = c->timeout_ms;
        o->session_id = c->session_id;
        o->read_only = c->read_only;
        zks_session_password(s, c->session_id, o->passwd);
    }
    zks_touch_local(s, c->session_id);
    if (c->q_n) {
        c->needs_submit = true;
        s->submit_pending = true;
    }
}

void zks_client_disconnect(struct zk_server *s, uint64_t now_ms, uint64_t conn_id)
{
    zks_enter(s, now_ms);
    struct zks_conn *c = zks_conn_find(s, conn_id);
    if (c) {
        size_t n = s->ob.n_client;
        zks_conn_close(s, c, ZOK);
        s->ob.n_client = n;           /* the driver already knows: no CLOSE output */
    }
    zks_leave(s);
}

/* ---- submission ------------------------------------------------------------------------------ */

/* Submits the queued write/sync entry with this xid. The replica call may
 * close connections, so everything is looked up again afterwards. */
static void submit_entry(struct zk_server *s, struct zks_conn *c, struct zks_pending *e)
{
    int64_t sid = c->session_id;
    int32_t xid = e->xid, op = e->op;
    if (s->forwarded >= s->cfg.forwarded_max) {
        e->stage = ZKS_ST_DONE;
        e->err = ZTHROTTLEDOP;
        return;
    }
    e->stage = ZKS_ST_INFLIGHT;
    s->forwarded++;
    if (op == ZOO_SYNC_OP) {
        uint64_t wait = 0;
        int rc = zks_submit_sync(s, sid, xid, &wait);
        if (rc != ZOK)
            zks_conn_req_failed(s, sid, xid, op, rc);
        else if (wait != 0 || zks_is_leader(s))
            zks_conn_sync_reply(s, sid, xid, wait);
        return;
    }
    /* The entry gives up its bytes now: the replica call below may close
     * the connection and free its queue. */
    uint8_t *blob = e->req;
    uint32_t len = e->req_len;
    e->req = NULL;
    e->req_len = 0;
    struct zks_req_dec d;
    int rc = zks_req_decode(blob, len, &d);
    if (rc == ZOK)
        rc = zks_submit_write(s, &d.req);
    zks_req_dec_free(&d);
    free(blob);
    if (rc != ZOK)
        zks_conn_req_failed(s, sid, xid, op, rc);
}

/* Submits every queued write/sync of c in order (c must be OPEN). Each
 * pass submits the first one left (at most outstanding_per_conn_max passes:
 * every submission moves an entry out of QUEUED). */
static void submit_queued(struct zk_server *s, uint64_t conn_id)
{
    for (;;) {
        struct zks_conn *c = zks_conn_find(s, conn_id);
        if (c == NULL || c->state != ZKS_CONN_OPEN)
            return;
        c->needs_submit = false;
        struct zks_pending *e = NULL;
        for (uint32_t i = 0; i < c->q_n && e == NULL; i++)
            if (q_at(c, i)->stage == ZKS_ST_QUEUED && is_submitted_op(q_at(c, i)->op))
                e = q_at(c, i);
        if (e == NULL)
            return;
        submit_entry(s, c, e);
    }
}

void zks_conn_submit_pending(struct zk_server *s)
{
    s->submit_pending = false;
    for (uint32_t i = 0; i < s->conn_high; i++) {
        struct zks_conn *c = &s->conns[i];
        if (!c->id || !c->needs_submit)
            continue;
        uint64_t id = c->id;
        submit_queued(s, id);
        c = zks_conn_find(s, id);
        if (c)
            zks_conn_flush(s, c);
    }
}

/* ---- reads ---------------------------------------------------------------------------------- */

static void reply_children(struct zk_server *s, struct zks_out *o, const struct tree_node *n,
                           bool with_stat)
{
    const struct tree *t = zks_tree(s);
    for (uint32_t i = 0;; i++) {
        const struct tree_node *ch = tree_child(t, n, i);
        if (ch == NULL)
            break;
        out_add_str(s, o, tree_node_name(ch), ch->path_len - ch->name_off);
    }
    o->has_stat = with_stat;
    o->stat = n->stat;
}

static void reply_acl(struct zk_server *s, struct zks_out *o, const struct zk_acl *acl, uint32_t n)
{
    struct zks_outbuf *b = &s->ob;
    if (!zks_grow((void **)&b->acls, &b->acls_cap, b->n_acls + n, sizeof *b->acls))
        return;
    o->acl_first = b->n_acls;
    memcpy(b->acls + b->n_acls, acl, n * sizeof *acl);
    b->n_acls += n;
    o->acl_count = n;
}

static void reply_ids(struct zk_server *s, struct zks_out *o, const struct zks_conn *c)
{
    struct zks_outbuf *b = &s->ob;
    if (!zks_grow((void **)&b->ids, &b->ids_cap, b->n_ids + c->auth_count, sizeof *b->ids))
        return;
    o->ids_first = b->n_ids;
    memcpy(b->ids + b->n_ids, c->auth, c->auth_count * sizeof *c->auth);
    b->n_ids += c->auth_count;
    o->n_ids = c->auth_count;
}

static void read_ephemerals_reply(struct zk_server *s, struct zks_conn *c, const struct read_ctx *rc,
                                  int32_t xid, const char *prefix)
{
    uint32_t n = read_ephemerals(rc, c->session_id, prefix, NULL, 0);
    const struct tree_node **nodes = n ? malloc(n * sizeof *nodes) : NULL;
    struct zks_out *o = reply_new(s, c, xid, ZOO_GET_EPHEMERALS_OP, n && !nodes ? ZSYSTEMERROR : ZOK);
    if (o == NULL || (n && nodes == NULL)) {
        free(nodes);
        return;
    }
    read_ephemerals(rc, c->session_id, prefix, nodes, n);
    for (uint32_t i = 0; i < n; i++)
        out_add_str(s, o, nodes[i]->path, nodes[i]->path_len);
    free(nodes);
}

static void read_data_reply(struct zk_server *s, struct zks_conn *c, const struct read_ctx *rc,
                            const struct zk_request *r)
{
    const struct tree_node *n = NULL;
    bool watch = (r->flags & 1) != 0;
    int err = r->type == ZOO_GETDATA_OP ? read_get_data(rc, r->path, watch, &n)
                                        : read_get_children(rc, r->path, watch, &n);
    struct zks_out *o = reply_new(s, c, r->cxid, r->type, err);
    if (o == NULL || err != ZOK)
        return;
    if (r->type != ZOO_GETDATA_OP) {
        reply_children(s, o, n, r->type == ZOO_GETCHILDREN2_OP);
        return;
    }
    uint32_t off = zks_out_bytes(s, tree_node_data(n), tree_node_data_len(n));
    if (off != UINT32_MAX) {
        o->data_off = off;
        o->data_len = tree_node_data_len(n);
    }
    o->has_stat = true;
    o->stat = n->stat;
}

static void read_misc_reply(struct zk_server *s, struct zks_conn *c, const struct read_ctx *rc,
                            const struct zk_request *r)
{
    struct zk_stat st;
    int32_t num = 0;
    int err;
    size_t plen = r->path ? strlen(r->path) : 0;
    switch (r->type) {
    case ZOO_EXISTS_OP: err = read_exists(rc, r->path, (r->flags & 1) != 0, &st); break;
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP: err = read_all_children_number(rc, r->path, &num); break;
    case ZOO_ADD_WATCH_OP: err = read_add_watch(rc, r->path, r->flags); break;
    case ZOO_CHECK_WATCHES_OP: err = watch_check(&s->watches, c->id, r->path, plen, r->flags); break;
    case ZOO_REMOVE_WATCHES_OP: err = watch_remove(&s->watches, c->id, r->path, plen, r->flags); break;
    default: err = ZUNIMPLEMENTED; break;
    }
    struct zks_out *o = reply_new(s, c, r->cxid, r->type, err);
    if (o == NULL || err != ZOK)
        return;
    o->number = num;
    if (r->type == ZOO_EXISTS_OP) {
        o->has_stat = true;
        o->stat = st;
    }
}

/* Appends one string to a multiRead result's list (contiguous per result). */
static void op_add_str(struct zk_server *s, uint32_t op_idx, const char *p, size_t n)
{
    struct zks_outbuf *b = &s->ob;
    uint32_t off = zks_out_bytes(s, p, n);
    if (off == UINT32_MAX || !zks_grow((void **)&b->strs, &b->strs_cap, b->n_strs + 1, sizeof *b->strs))
        return;
    struct zks_op_result *d = &b->ops[op_idx];
    if (d->n_strs == 0)
        d->strs_first = b->n_strs;
    b->strs[b->n_strs++] = (struct zks_str){NULL, (uint32_t)n, off};
    d->n_strs++;
}

/* One read of a multiRead into result slot op_idx: ZooKeeper's multiRead
 * runs getData and getChildren as the plain reads would (watches
 * included) and turns a failure into an ErrorResult for that op only. */
static void multi_read_one(struct zk_server *s, const struct read_ctx *rc, uint32_t op_idx,
                           const struct zk_request *q)
{
    const struct tree_node *n = NULL;
    bool watch = (q->flags & 1) != 0;
    int err = ZBADARGUMENTS;
    if (q->path && q->type == ZOO_GETDATA_OP)
        err = read_get_data(rc, q->path, watch, &n);
    else if (q->path && q->type == ZOO_GETCHILDREN_OP)
        err = read_get_children(rc, q->path, watch, &n);
    struct zks_op_result *d = &s->ob.ops[op_idx];
    memset(d, 0, sizeof *d);
    d->type = err == ZOK ? q->type : ZOO_ERROR_OP;
    d->err = err;
    if (err != ZOK)
        return;
    if (q->type == ZOO_GETDATA_OP) {
        uint32_t off = zks_out_bytes(s, tree_node_data(n), tree_node_data_len(n));
        d = &s->ob.ops[op_idx];
        if (off != UINT32_MAX) {
            d->data_off = off;
            d->data_len = tree_node_data_len(n);
        }
        d->stat = n->stat;
        return;
    }
    const struct tree *t = zks_tree(s);
    for (uint32_t i = 0;; i++) {
        const struct tree_node *ch = tree_child(t, n, i);
        if (ch == NULL)
            break;
        op_add_str(s, op_idx, tree_node_name(ch), ch->path_len - ch->name_off);
    }
}

static void read_multi_reply(struct zk_server *s, struct zks_conn *c, const struct read_ctx *rc,
                             const struct zk_request *r)
{
    struct zks_outbuf *b = &s->ob;
    uint32_t n = r->ops ? r->op_count : 0;
    for (uint32_t i = 0; i < n; i++) {
        if (r->ops[i].type != ZOO_GETDATA_OP && r->ops[i].type != ZOO_GETCHILDREN_OP) {
            reply_new(s, c, r->cxid, r->type, ZBADARGUMENTS);
            return;
        }
    }
    if (!zks_grow((void **)&b->ops, &b->ops_cap, b->n_ops + n, sizeof *b->ops)) {
        reply_new(s, c, r->cxid, r->type, ZSYSTEMERROR);
        return;
    }
    struct zks_out *o = reply_new(s, c, r->cxid, r->type, ZOK);
    if (o == NULL)
        return;
    uint32_t first = b->n_ops;
    b->n_ops += n;
    for (uint32_t i = 0; i < n; i++)
        multi_read_one(s, rc, first + i, &r->ops[i]);
    o->ops_first = first;
    o->n_ops = n;
}

static void read_op(struct zk_server *s, struct zks_conn *c, const struct zk_request *r)
{
    struct read_ctx rc = {zks_tree(s), &s->watches, c->id, c->auth, c->auth_count};
    if (r->type == ZOO_WHO_AM_I_OP) {
        struct zks_out *o = reply_new(s, c, r->cxid, r->type, ZOK);
        if (o)
            reply_ids(s, o, c);
        return;
    }
    if (r->type == ZOO_GET_EPHEMERALS_OP) {
        read_ephemerals_reply(s, c, &rc, r->cxid, r->path);
        return;
    }
    if (r->type == ZOO_MULTI_READ_OP) {
        read_multi_reply(s, c, &rc, r);
        return;
    }
    if (r->path == NULL) {
        reply_new(s, c, r->cxid, r->type, ZBADARGUMENTS);
        return;
    }
    if (r->type == ZOO_GETDATA_OP || r->type == ZOO_GETCHILDREN_OP || r->type == ZOO_GETCHILDREN2_OP) {
        read_data_reply(s, c, &rc, r);
    } else if (r->type == ZOO_GETACL_OP) {
        struct zk_acl acl[ZK_ACL_MAX];
        struct zk_stat st;
        uint32_t n = 0;
        int err = read_get_acl(&rc, r->path, acl, ZK_ACL_MAX, &n, &st);
        struct zks_out *o = reply_new(s, c, r->cxid, r->type, err);
        if (o && err == ZOK) {
            reply_acl(s, o, acl, n < ZK_ACL_MAX ? n : ZK_ACL_MAX);
            o->has_stat = true;
            o->stat = st;
        }
    } else {
        read_misc_reply(s, c, &rc, r);
    }
}

static void exec_set_watches(struct zk_server *s, struct zks_conn *c, const struct zks_pending *e)
{
    struct zks_sw_dec d;
    int rc = zks_sw_decode(e->req, e->req_len, &d);
    if (rc == ZOK) {
        watch_out_reset(&s->wout);
        rc = watch_set_watches(&s->watches, zks_tree(s), c->id, d.sw.relative_zxid, &d.sw.data,
                               &d.sw.exist, &d.sw.child, &d.sw.persistent, &d.sw.recursive,
                               (int64_t)zks_last_applied(s), &s->wout);
        emit_watch_events(s, &s->wout);
    }
    zks_sw_dec_free(&d);
    reply_new(s, c, e->xid, e->op, rc);
}

static void exec_read(struct zk_server *s, struct zks_conn *c, const struct zks_pending *e)
{
    if (zks_rec_kind(e->req, e->req_len) == ZKS_REC_SET_WATCHES) {
        exec_set_watches(s, c, e);
        return;
    }
    struct zks_req_dec d;
    int rc = zks_req_decode(e->req, e->req_len, &d);
    if (rc == ZOK) {
        d.req.cxid = e->xid;
        read_op(s, c, &d.req);
    } else {
        reply_new(s, c, e->xid, e->op, rc);
    }
    zks_req_dec_free(&d);
}

static void reply_sync(struct zk_server *s, struct zks_conn *c, const struct zks_pending *e)
{
    struct zks_req_dec d;
    int rc = zks_req_decode(e->req, e->req_len, &d);
    struct zks_out *o = reply_new(s, c, e->xid, ZOO_SYNC_OP, rc);
    if (o && rc == ZOK && d.req.path)
        out_path(s, o, d.req.path, strlen(d.req.path));
    zks_req_dec_free(&d);
}

/* ---- answering in order ------------------------------------------------------------------------ */

static bool closes_connection(int32_t err)
{
    return err == ZSESSIONEXPIRED || err == ZSESSIONMOVED;
}

/* Answers from the head of c's queue everything that can be answered now. */
void zks_conn_flush(struct zk_server *s, struct zks_conn *c)
{
    while (c->q_n > 0 && c->state == ZKS_CONN_OPEN) {
        struct zks_pending *e = q_at(c, 0);
        if (e->stage == ZKS_ST_DONE) {
            int32_t err = e->err;
            reply_new(s, c, e->xid, e->op, err);
            q_pop(s, c);
            if (closes_connection(err)) {
                zks_conn_close(s, c, err);
                return;
            }
            continue;
        }
        if (e->stage == ZKS_ST_SYNC_WAIT) {
            if (zks_last_applied(s) < e->wait_zxid)
                return;
            reply_sync(s, c, e);
            q_pop(s, c);
            continue;
        }
        if (e->stage != ZKS_ST_QUEUED)
            return;
        if (is_submitted_op(e->op)) {
            c->needs_submit = true;
            s->submit_pending = true;
            return;
        }
        exec_read(s, c, e);
        q_pop(s, c);
    }
}

void zks_conn_flush_syncs(struct zk_server *s)
{
    for (uint32_t i = 0; i < s->conn_high && s->sync_waiting; i++) {
        struct zks_conn *c = &s->conns[i];
        if (c->id && c->q_n && q_at(c, 0)->stage == ZKS_ST_SYNC_WAIT)
            zks_conn_flush(s, c);
    }
}

void zks_conn_req_failed(struct zk_server *s, int64_t session_id, int32_t cxid, int32_t type,
                         int32_t err)
{
    if (type == ZOO_CREATE_SESSION_OP) {
        struct zks_conn *c = zks_conn_by_session(s, session_id, ZKS_CONN_NEW);
        if (c)
            zks_conn_close(s, c, err == ZTHROTTLEDOP ? ZTHROTTLEDOP : ZCONNECTIONLOSS);
        return;
    }
    struct zks_conn *c = zks_conn_by_session(s, session_id, ZKS_CONN_OPEN);
    struct zks_pending *e = c ? q_find(c, cxid, type, ZKS_ST_INFLIGHT) : NULL;
    if (e == NULL)
        return;
    entry_uncount(s, e);
    e->stage = ZKS_ST_DONE;
    e->err = err;
    zks_conn_flush(s, c);
}

void zks_conn_sync_reply(struct zk_server *s, int64_t session_id, int32_t cxid, uint64_t zxid)
{
    struct zks_conn *c = zks_conn_by_session(s, session_id, ZKS_CONN_OPEN);
    struct zks_pending *e = c ? q_find(c, cxid, ZOO_SYNC_OP, ZKS_ST_INFLIGHT) : NULL;
    if (e == NULL)
        return;
    e->stage = ZKS_ST_SYNC_WAIT;
    e->wait_zxid = zxid;
    s->sync_waiting++;
    zks_conn_flush(s, c);
}

/* ---- applied txns ---------------------------------------------------------------------------------- */

static void reply_multi(struct zk_server *s, struct zks_out *o, const struct zk_apply_out *out)
{
    struct zks_outbuf *b = &s->ob;
    if (!zks_grow((void **)&b->ops, &b->ops_cap, b->n_ops + out->result_count, sizeof *b->ops))
        return;
    o->ops_first = b->n_ops;
    for (uint32_t i = 0; i < out->result_count; i++) {
        const struct zk_op_result *r = &out->results[i];
        struct zks_op_result *d = &b->ops[b->n_ops++];
        memset(d, 0, sizeof *d);
        d->type = r->type;
        d->err = r->err;
        d->stat = r->stat;
        if (r->path_len) {
            uint32_t off = zks_out_bytes(s, zk_apply_out_str(out, r->path_off), r->path_len);
            if (off != UINT32_MAX)
                d->path = (struct zks_str){NULL, r->path_len, off};
        }
    }
    o->n_ops = out->result_count;
}

/* The reply of a write from its applied outcome; returns the header err. */
static int32_t reply_applied(struct zk_server *s, struct zks_conn *c, const struct zks_pending *e,
                             const struct zk_apply_out *out)
{
    int32_t err = out->type == ZOO_MULTI_OP ? ZOK : out->err;
    struct zks_out *o = reply_new(s, c, e->xid, e->op, err);
    if (o == NULL || err != ZOK)
        return err;
    if (out->type == ZOO_MULTI_OP) {
        reply_multi(s, o, out);
        return err;
    }
    if (out->result_count == 0)
        return err;
    const struct zk_op_result *r = &out->results[0];
    switch (e->op) {
    case ZOO_CREATE_OP:
        out_path(s, o, zk_apply_out_str(out, r->path_off), r->path_len);
        break;
    case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        out_path(s, o, zk_apply_out_str(out, r->path_off), r->path_len);
        o->has_stat = true;
        o->stat = r->stat;
        break;
    case ZOO_SETDATA_OP: case ZOO_SETACL_OP:
        o->has_stat = true;
        o->stat = r->stat;
        break;
    default:
        break;
    }
    return err;
}

static void applied_close_session(struct zk_server *s, const struct zk_apply_out *out)
{
    struct zks_conn *c = zks_conn_by_session(s, out->session_id, 0);
    if (c == NULL)
        return;
    struct zks_pending *e = c->state == ZKS_CONN_OPEN
                                ? q_find(c, out->cxid, ZOO_CLOSE_SESSION_OP, ZKS_ST_INFLIGHT) : NULL;
    if (e == NULL) {                  /* the leader expired it */
        zks_conn_close(s, c, ZSESSIONEXPIRED);
        return;
    }
    entry_uncount(s, e);
    e->stage = ZKS_ST_DONE;
    e->err = ZOK;
    uint64_t id = c->id;
    zks_conn_flush(s, c);
    c = zks_conn_find(s, id);
    if (c)
        zks_conn_close(s, c, ZOK);
}

static void applied_answer(struct zk_server *s, const struct zk_apply_out *out)
{
    if (out->type == ZOO_CREATE_SESSION_OP) {
        struct zks_conn *c = zks_conn_by_session(s, out->session_id, ZKS_CONN_NEW);
        if (c && out->err == ZOK)
            zks_conn_opened(s, c, true);
        else if (c)
            zks_conn_close(s, c, ZTHROTTLEDOP);
        return;
    }
    if (out->type == ZOO_CLOSE_SESSION_OP) {
        applied_close_session(s, out);
        return;
    }
    struct zks_conn *c = zks_conn_by_session(s, out->session_id, ZKS_CONN_OPEN);
    if (c == NULL)
        return;
    zks_conn_flush(s, c);             /* answers due before this one go first */
    if (c->id == 0)
        return;
    struct zks_pending *e = q_find(c, out->cxid, 0, ZKS_ST_INFLIGHT);
    if (e == NULL || !zks_is_write_op(e->op))
        return;
    if (e != q_at(c, 0)) {
        /* Cannot happen (a session's writes commit in order, after the
         * answers queued before them); keep the order, lose only the body. */
        zks_note(s, "write applied behind an unanswered request");
        entry_uncount(s, e);
        e->stage = ZKS_ST_DONE;
        e->err = out->type == ZOO_MULTI_OP ? ZOK : out->err;
        return;
    }
    int32_t err = reply_applied(s, c, e, out);
    q_pop(s, c);
    if (closes_connection(err))
        zks_conn_close(s, c, err);
    else
        zks_conn_flush(s, c);
}

void zks_on_applied(struct zk_server *s, const struct zk_apply_out *out)
{
    if (!s->serving)
        return;
    if (zks_is_leader(s)) {
        prep_applied(&s->prep, out->zxid);
        if (out->type == ZOO_CLOSE_SESSION_OP && s->tracker_live)
            session_remove(&s->tracker, out->session_id);
    }
    struct watch_filter f = {may_read, s};
    watch_out_reset(&s->wout);
    if (watch_trigger_applied(&s->watches, out, &f, &s->wout) != ZOK)
        zks_note(s, "watch trigger failed (out of memory)");
    emit_watch_events(s, &s->wout);
    if (s->sync_waiting)
        zks_conn_flush_syncs(s);
    applied_answer(s, out);
}

/* ---- client requests ----------------------------------------------------------------------------------- */

/* Pings and auth replies are not in a client's queue of pending requests,
 * so they need no ordering, except that nothing may precede the
 * ConnectResponse: before it they wait in the queue as answered entries. */
static int answer_now_or_queue(struct zk_server *s, struct zks_conn *c, int32_t xid, int32_t op)
{
    if (c->state == ZKS_CONN_OPEN) {
        reply_new(s, c, xid, op, ZOK);
        return ZOK;
    }
    struct zks_pending *e = q_push(s, c);
    if (e == NULL) {
        zks_conn_close(s, c, ZTHROTTLEDOP);
        return ZTHROTTLEDOP;
    }
    e->xid = xid;
    e->op = op;
    e->stage = ZKS_ST_DONE;
    e->err = ZOK;
    return ZOK;
}

static int do_auth(struct zk_server *s, struct zks_conn *c, const struct zk_request *r)
{
    char id[ZK_ID_MAX];
    bool ok = r->path && strcmp(r->path, "digest") == 0 && r->data &&
              acl_digest_id((const char *)r->data, r->data_len, id, sizeof id) == ZOK;
    bool dup = false;
    for (uint32_t i = 0; ok && i < c->auth_count; i++)
        dup |= strcmp(c->auth[i].scheme, "digest") == 0 && strcmp(c->auth[i].id, id) == 0;
    if (ok && !dup && c->auth_count < ZK_AUTH_MAX) {
        struct zk_id *d = &c->auth[c->auth_count++];
        memset(d, 0, sizeof *d);
        memcpy(d->scheme, "digest", 7);
        memcpy(d->id, id, strnlen(id, ZK_ID_MAX - 1));
    }
    if (!ok) {
        /* Before the ConnectResponse nothing may be sent but the close. */
        if (c->state == ZKS_CONN_OPEN)
            reply_new(s, c, r->cxid, ZOO_SETAUTH_OP, ZAUTHFAILED);
        zks_conn_close(s, c, ZAUTHFAILED);
        return ZAUTHFAILED;
    }
    return answer_now_or_queue(s, c, r->cxid, ZOO_SETAUTH_OP);
}

static struct zks_pending *enqueue_blob(struct zk_server *s, struct zks_conn *c, int32_t xid,
                                        int32_t op, uint8_t *blob, size_t len)
{
    struct zks_pending *e = blob ? q_push(s, c) : NULL;
    if (e == NULL) {
        free(blob);
        return NULL;
    }
    e->xid = xid;
    e->op = op;
    e->stage = ZKS_ST_QUEUED;
    e->req = blob;
    e->req_len = (uint32_t)len;
    return e;
}

/* A write, multi or sync on a read-only session: ZNOTREADONLY in order
 * (ZooKeeper's ReadOnlyRequestProcessor); closeSession: its reply, then
 * the connection closes (the session was never global). */
static int read_only_write(struct zk_server *s, struct zks_conn *c, const struct zk_request *req)
{
    struct zks_pending *e = q_push(s, c);
    if (e == NULL) {
        zks_conn_close(s, c, ZTHROTTLEDOP);
        return ZTHROTTLEDOP;
    }
    bool close = req->type == ZOO_CLOSE_SESSION_OP;
    e->xid = req->cxid;
    e->op = req->type;
    e->stage = ZKS_ST_DONE;
    e->err = close ? ZOK : ZNOTREADONLY;
    uint64_t id = c->id;
    zks_conn_flush(s, c);
    c = zks_conn_find(s, id);
    if (close && c)
        zks_conn_close(s, c, ZOK);
    return ZOK;
}

static int request_inner(struct zk_server *s, uint64_t conn_id, const struct zk_request *req)
{
    struct zks_conn *c = zks_conn_find(s, conn_id);
    if (c == NULL)
        return ZBADARGUMENTS;
    c->touched = true;
    if (c->state == ZKS_CONN_OPEN)
        zks_touch_local(s, c->session_id);
    if (req->type == ZOO_PING_OP)
        return answer_now_or_queue(s, c, req->cxid, ZOO_PING_OP);
    if (req->type == ZOO_SETAUTH_OP)
        return do_auth(s, c, req);
    if (c->read_only && is_submitted_op(req->type))
        return read_only_write(s, c, req);
    struct zk_request r = *req;
    r.session_id = c->session_id;
    r.auth = c->auth_count ? c->auth : NULL;
    r.auth_count = c->auth_count;
    r.owner = 0;
    size_t n = zks_req_encode(&r, NULL, 0);
    uint8_t *blob = malloc(n);
    if (blob)
        zks_req_encode(&r, blob, n);
    struct zks_pending *e = enqueue_blob(s, c, req->cxid, req->type, blob, n);
    if (e == NULL) {
        zks_conn_close(s, c, ZTHROTTLEDOP);
        return ZTHROTTLEDOP;
    }
    if (c->state == ZKS_CONN_OPEN && is_submitted_op(req->type))
        submit_entry(s, c, e);
    c = zks_conn_find(s, conn_id);
    if (c)
        zks_conn_flush(s, c);
    return ZOK;
}

int zks_client_request(struct zk_server *s, uint64_t now_ms, uint64_t conn_id,
                       const struct zk_request *req)
{
    zks_enter(s, now_ms);
    int rc = request_inner(s, conn_id, req);
    zks_leave(s);
    return rc;
}

int zks_client_set_watches(struct zk_server *s, uint64_t now_ms, uint64_t conn_id,
                           const struct zks_set_watches *sw)
{
    zks_enter(s, now_ms);
    int rc = ZOK;
    struct zks_conn *c = zks_conn_find(s, conn_id);
    if (c == NULL) {
        rc = ZBADARGUMENTS;
    } else {
        size_t n = zks_sw_encode(sw, NULL, 0);
        uint8_t *blob = malloc(n);
        if (blob)
            zks_sw_encode(sw, blob, n);
        bool v2 = sw->persistent.count || sw->recursive.count;
        if (enqueue_blob(s, c, sw->xid, v2 ? ZOO_SETWATCHES2_OP : ZOO_SETWATCHES_OP, blob, n) == NULL) {
            zks_conn_close(s, c, ZTHROTTLEDOP);
            rc = ZTHROTTLEDOP;
        } else {
            zks_conn_flush(s, c);
        }
    }
    zks_leave(s);
    return rc;
}
