/* zk_server: lifecycle, the glue to the replica, role changes and the
 * output batch of a ZooKeeper server (see zk_server.h for the contract).
 *
 * Every input runs as: bind the state machine to this server, call the
 * replica (its applies reach zks_on_applied as they happen), move the
 * replica's output into the batch in order, notice role changes (leaving
 * BROADCAST closes every client connection, as ZooKeeper's learners and
 * leaders do when they stop serving), then the periodic duties (leader
 * session expiry, learner session touches), unbind.
 *
 * Owns: the batch arenas. Never: reorder the replica's actions (its
 * persistence-before-send obligations stand), or send a server-layer message
 * from inside an apply (it would overtake the replica's earlier sends). */
#include "core/zk_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zks_internal.h"

#define ZKS_EVENTS_MAX 1024u        /* trace events kept per batch; more are counted */
#define ZKS_TXN_BUF_INITIAL (64u << 10)
/* A batch that carried a snapshot or a sync stream grew the byte arena to
 * the size of the state; past this it is freed when the batch is cleared
 * rather than kept resident (zks_out_bytes starts it again at 4 KiB). */
#define ZKS_OUT_KEEP_BYTES (1u << 20)

void zks_note(struct zk_server *s, const char *what)
{
    snprintf(s->last_error, sizeof s->last_error, "%s", what);
}

/* ---- arenas ------------------------------------------------------------------- */

bool zks_grow(void **p, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return true;
    if (need > UINT32_MAX / 2)
        return false;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * size);
    if (q == NULL)
        return false;
    *p = q;
    *cap = n;
    return true;
}

uint32_t zks_out_bytes(struct zk_server *s, const void *p, size_t n)
{
    struct zks_outbuf *b = &s->ob;
    if (n > UINT32_MAX - b->bytes_used)
        return UINT32_MAX;
    if (b->bytes_used + n > b->bytes_cap) {
        size_t cap = b->bytes_cap ? b->bytes_cap : 4096;
        while (cap < b->bytes_used + n)
            cap *= 2;
        uint8_t *q = realloc(b->bytes, cap);
        if (q == NULL)
            return UINT32_MAX;
        b->bytes = q;
        b->bytes_cap = cap;
    }
    uint32_t off = (uint32_t)b->bytes_used;
    if (n)
        memcpy(b->bytes + off, p, n);
    b->bytes_used += n;
    return off;
}

static struct rep_action *action_new(struct zk_server *s)
{
    struct zks_outbuf *b = &s->ob;
    if (!zks_grow((void **)&b->actions, &b->actions_cap, b->n_actions + 1, sizeof *b->actions))
        return NULL;
    struct rep_action *a = &b->actions[b->n_actions++];
    memset(a, 0, sizeof *a);
    return a;
}

struct zks_out *zks_out_new(struct zk_server *s, uint8_t kind, uint64_t conn)
{
    struct zks_outbuf *b = &s->ob;
    if (!zks_grow((void **)&b->client, &b->client_cap, b->n_client + 1, sizeof *b->client)) {
        zks_note(s, "out of memory for a client output");
        return NULL;
    }
    struct zks_out *o = &b->client[b->n_client++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->conn = conn;
    return o;
}

/* Copies one replica action; SEND bytes get the replica layer tag. */
static void copy_action(struct zk_server *s, const struct rep_action *ra)
{
    struct rep_action *a = action_new(s);
    if (a == NULL) {
        zks_note(s, "out of memory for an action");
        return;
    }
    *a = *ra;
    a->bytes = NULL;
    a->len = 0;
    a->bytes_off = 0;
    if (ra->kind == REP_ACT_SEND) {
        uint8_t tag = ZKS_TAG_REPLICA;
        uint32_t off = zks_out_bytes(s, &tag, 1);
        if (zks_out_bytes(s, ra->bytes, ra->len) == UINT32_MAX || off == UINT32_MAX) {
            s->ob.n_actions--;
            zks_note(s, "out of memory for a send");
            return;
        }
        a->bytes_off = off;
        a->len = ra->len + 1;
    } else if (ra->len) {
        uint32_t off = zks_out_bytes(s, ra->bytes, ra->len);
        if (off == UINT32_MAX) {
            s->ob.n_actions--;
            zks_note(s, "out of memory for a disk action");
            return;
        }
        a->bytes_off = off;
        a->len = ra->len;
    }
}

void zks_send(struct zk_server *s, int peer, const struct zks_msg *m)
{
    if (peer <= 0 || peer == s->rep.id)
        return;
    size_t n = zks_msg_encode(m, NULL, 0);
    uint8_t *tmp = malloc(n);
    uint32_t off = UINT32_MAX;
    if (tmp != NULL) {
        zks_msg_encode(m, tmp, n);
        off = zks_out_bytes(s, tmp, n);
        free(tmp);
    }
    struct rep_action *a = off == UINT32_MAX ? NULL : action_new(s);
    if (a == NULL) {
        zks_note(s, "out of memory for a peer message");
        return;
    }
    a->kind = REP_ACT_SEND;
    a->peer = peer;
    a->bytes_off = off;
    a->len = n;
}

/* ---- roles ---------------------------------------------------------------------- */

static bool replica_serves(const struct replica *r)
{
    if (r->phase != REP_PHASE_BROADCAST)
        return false;
    if (r->state == REP_LEADING)
        return r->established_epoch != 0;
    return r->state == REP_FOLLOWING || r->state == REP_OBSERVING;
}

static void stop_serving(struct zk_server *s)
{
    s->serving = false;
    zks_conn_close_all(s, ZCONNECTIONLOSS);
    zks_leader_stop(s);
    s->forwarded = 0;
}

static void start_serving(struct zk_server *s)
{
    s->serving = true;
    s->serve_state = s->rep.state;
    s->serve_epoch = s->rep.current_epoch;
    s->serve_leader = s->rep.leader_id;
    s->forwarded = 0;
    s->touch_at_ms = s->now_ms + (s->cfg.rep.tick_ms / 2 ? s->cfg.rep.tick_ms / 2 : 1);
    if (s->rep.state == REP_LEADING)
        zks_leader_start(s);
}

/* ZooKeeper runs its read-only server only while the peer is LOOKING:
 * leaving LOOKING (to follow, lead or sync) shuts it and its sessions. */
static void looking_update(struct zk_server *s)
{
    bool looking = s->rep.state == REP_LOOKING;
    if (looking && !s->looking) {
        s->looking = true;
        s->looking_since_ms = s->now_ms;
        return;
    }
    if (looking || !s->looking)
        return;
    s->looking = false;
    for (uint32_t i = 0; i < s->conn_high; i++)
        if (s->conns[i].id && s->conns[i].read_only)
            zks_conn_close(s, &s->conns[i], ZCONNECTIONLOSS);
}

static void role_update(struct zk_server *s)
{
    const struct replica *r = &s->rep;
    bool now = replica_serves(r);
    if (s->serving && (!now || r->state != s->serve_state || r->current_epoch != s->serve_epoch ||
                       r->leader_id != s->serve_leader))
        stop_serving(s);
    looking_update(s);
    if (!s->serving && now)
        start_serving(s);
}

bool zks_read_only_mode(const struct zk_server *s, uint64_t now_ms)
{
    return s->cfg.read_only_enabled && !s->serving && s->looking &&
           now_ms >= s->looking_since_ms + s->cfg.read_only_delay_ms;
}

void zks_after_replica(struct zk_server *s)
{
    const struct replica_out *o = replica_output(&s->rep);
    for (uint32_t i = 0; i < o->n_actions; i++)
        copy_action(s, &o->actions[i]);
    struct zks_outbuf *b = &s->ob;
    b->n_events_dropped += o->n_events_dropped;
    for (uint32_t i = 0; i < o->n_events; i++) {
        if (b->n_events >= ZKS_EVENTS_MAX ||
            !zks_grow((void **)&b->events, &b->events_cap, b->n_events + 1, sizeof *b->events)) {
            b->n_events_dropped++;
            continue;
        }
        b->events[b->n_events++] = o->events[i];
    }
    replica_output_clear(&s->rep);
    role_update(s);
}

/* ---- input framing ---------------------------------------------------------------- */

void zks_enter(struct zk_server *s, uint64_t now_ms)
{
    s->now_ms = now_ms;
    if (s->rep.sm)
        zks_smw(s)->srv = s;
}

void zks_leave(struct zk_server *s)
{
    if (s->submit_pending)
        zks_conn_submit_pending(s);
    if (s->serving && s->serve_state == REP_LEADING)
        zks_leader_tick(s);
    else if (s->serving)
        zks_learner_tick(s);
    if (s->rep.sm)
        zks_smw(s)->srv = NULL;
}

void zks_on_message(struct zk_server *s, uint64_t now_ms, int from_id, const uint8_t *msg, size_t len)
{
    zks_enter(s, now_ms);
    if (len >= 1 && msg[0] == ZKS_TAG_REPLICA) {
        replica_on_message(&s->rep, now_ms, from_id, msg + 1, len - 1);
        zks_after_replica(s);
    } else if (len >= 1 && msg[0] == ZKS_TAG_SERVER) {
        struct zks_msg m;
        if (zks_msg_decode(msg + 1, len - 1, &m) == ZOK)
            zks_on_peer_msg(s, from_id, &m);
        else
            zks_note(s, "malformed server-layer peer message ignored");
    } else {
        zks_note(s, "peer message with an unknown layer tag ignored");
    }
    zks_leave(s);
}

void zks_on_conn_break(struct zk_server *s, uint64_t now_ms, int peer_id)
{
    zks_enter(s, now_ms);
    replica_on_conn_break(&s->rep, now_ms, peer_id);
    zks_after_replica(s);
    zks_leave(s);
}

void zks_on_timer(struct zk_server *s, uint64_t now_ms)
{
    zks_enter(s, now_ms);
    replica_on_timer(&s->rep, now_ms);
    zks_after_replica(s);
    zks_leave(s);
}

void zks_on_disk_done(struct zk_server *s, uint64_t now_ms, uint64_t op_id)
{
    zks_enter(s, now_ms);
    replica_on_disk_done(&s->rep, now_ms, op_id);
    zks_after_replica(s);
    zks_leave(s);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int config_fill(struct zks_config *c, char *err, size_t errlen)
{
    int32_t tick = (int32_t)c->rep.tick_ms;
    if (tick <= 0 || c->rep.tick_ms > INT32_MAX / 40) {
        snprintf(err, errlen, "tick_ms must be in 1..%d", INT32_MAX / 40);
        return -1;
    }
    if (c->rep.id < 1 || c->rep.id > 254) {
        snprintf(err, errlen, "server id %d: must be 1..254 (session ids carry it)", c->rep.id);
        return -1;
    }
    c->min_session_timeout_ms = c->min_session_timeout_ms ? c->min_session_timeout_ms : 2 * tick;
    c->max_session_timeout_ms = c->max_session_timeout_ms ? c->max_session_timeout_ms : 20 * tick;
    if (c->min_session_timeout_ms <= 0 || c->max_session_timeout_ms < c->min_session_timeout_ms) {
        snprintf(err, errlen, "session timeouts: need 0 < min <= max");
        return -1;
    }
    if (c->secret_len > ZKS_SECRET_MAX) {
        snprintf(err, errlen, "secret_len %u over %u", c->secret_len, ZKS_SECRET_MAX);
        return -1;
    }
    c->conns_max = c->conns_max ? c->conns_max : ZKS_CONNS_MAX_DEFAULT;
    c->outstanding_per_conn_max = c->outstanding_per_conn_max ? c->outstanding_per_conn_max
                                                              : ZKS_OUTSTANDING_PER_CONN_DEFAULT;
    c->forwarded_max = c->forwarded_max ? c->forwarded_max : ZKS_FORWARDED_MAX_DEFAULT;
    c->watches_per_conn_max = c->watches_per_conn_max ? c->watches_per_conn_max
                                                      : WATCH_MAX_PER_CONN_DEFAULT;
    c->max_sessions = c->max_sessions ? c->max_sessions : SESSION_MAX_DEFAULT;
    if (c->read_only_delay_ms == 0)
        c->read_only_delay_ms = c->rep.tick_ms > 2000 ? c->rep.tick_ms : 2000;
    c->rep.sm = &zks_sm_ops;
    return 0;
}

int zks_init(struct zk_server *s, const struct zks_config *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (config_fill(&s->cfg, err, errlen) != 0)
        return REP_ERR_CONFIG;
    int rc = replica_init(&s->rep, &s->cfg.rep, err, errlen);
    if (rc != REP_OK)
        return rc;
    watch_out_init(&s->wout);
    s->conns = calloc(s->cfg.conns_max, sizeof *s->conns);
    s->scratch_ids = calloc(s->cfg.conns_max + ZKS_TOUCH_MAX, sizeof *s->scratch_ids);
    s->txn_buf = malloc(ZKS_TXN_BUF_INITIAL);
    s->txn_cap = ZKS_TXN_BUF_INITIAL;
    if (s->conns == NULL || s->scratch_ids == NULL || s->txn_buf == NULL ||
        prep_init(&s->prep, &s->cfg.prep) != ZOK ||
        watch_init(&s->watches, s->cfg.watches_per_conn_max) != ZOK) {
        snprintf(err, errlen, "out of memory");
        zks_free(s);
        return REP_ERR_NOMEM;
    }
    return 0;
}

void zks_free(struct zk_server *s)
{
    if (s->rep.sm)
        replica_free(&s->rep);
    for (uint32_t i = 0; s->conns && i < s->cfg.conns_max; i++)
        zks_conn_release(&s->conns[i]);
    free(s->conns);
    free(s->scratch_ids);
    free(s->txn_buf);
    prep_free(&s->prep);
    if (s->tracker_live)
        session_free(&s->tracker);
    watch_free(&s->watches);
    watch_out_free(&s->wout);
    struct zks_outbuf *b = &s->ob;
    free(b->actions);
    free(b->client);
    free(b->events);
    free(b->bytes);
    free(b->strs);
    free(b->acls);
    free(b->ops);
    free(b->ids);
    memset(s, 0, sizeof *s);
}

static int conn_copy(struct zks_conn *d, const struct zks_conn *c)
{
    *d = *c;
    d->q = NULL;
    if (c->q_cap == 0)
        return 0;
    if ((d->q = calloc(c->q_cap, sizeof *d->q)) == NULL)
        return -1;
    memcpy(d->q, c->q, c->q_cap * sizeof *d->q);
    for (uint32_t i = 0; i < c->q_cap; i++)
        d->q[i].req = NULL;
    for (uint32_t i = 0; i < c->q_n; i++) {
        uint32_t k = (c->q_head + i) % c->q_cap;
        if (c->q[k].req == NULL)
            continue;
        if ((d->q[k].req = malloc(c->q[k].req_len)) == NULL)
            return -1;
        memcpy(d->q[k].req, c->q[k].req, c->q[k].req_len);
    }
    return 0;
}

int zks_clone(struct zk_server *dst, const struct zk_server *src)
{
    memset(dst, 0, sizeof *dst);
    dst->cfg = src->cfg;
    if (replica_clone(&dst->rep, &src->rep) != 0)
        return -1;
    dst->serving = src->serving;
    dst->serve_state = src->serve_state;
    dst->serve_epoch = src->serve_epoch;
    dst->serve_leader = src->serve_leader;
    dst->conn_count = src->conn_count;
    dst->conn_high = src->conn_high;
    dst->next_session_id = src->next_session_id;
    dst->forwarded = src->forwarded;
    dst->touch_at_ms = src->touch_at_ms;
    dst->now_ms = src->now_ms;
    dst->expire_retry = src->expire_retry;
    dst->sync_waiting = src->sync_waiting;
    dst->submit_pending = src->submit_pending;
    dst->looking = src->looking;
    dst->looking_since_ms = src->looking_since_ms;
    watch_out_init(&dst->wout);
    dst->conns = calloc(src->cfg.conns_max, sizeof *dst->conns);
    dst->scratch_ids = calloc(src->cfg.conns_max + ZKS_TOUCH_MAX, sizeof *dst->scratch_ids);
    dst->txn_buf = malloc(ZKS_TXN_BUF_INITIAL);
    dst->txn_cap = ZKS_TXN_BUF_INITIAL;
    bool ok = dst->conns && dst->scratch_ids && dst->txn_buf &&
              prep_clone(&dst->prep, &src->prep) == ZOK &&
              watch_clone(&dst->watches, &src->watches) == ZOK;
    for (uint32_t i = 0; ok && i < src->cfg.conns_max; i++)
        ok = conn_copy(&dst->conns[i], &src->conns[i]) == 0;
    if (ok && src->tracker_live) {
        ok = session_clone(&dst->tracker, &src->tracker) == ZOK;
        dst->tracker_live = ok;
    }
    if (!ok) {
        zks_free(dst);
        return -1;
    }
    return 0;
}

int zks_start(struct zk_server *s, uint64_t now_ms, const struct replica_durable *d,
              char *err, size_t errlen)
{
    zks_enter(s, now_ms);
    s->serving = false;
    for (uint32_t i = 0; i < s->cfg.conns_max; i++)
        if (s->conns[i].id)
            watch_remove_conn(&s->watches, s->conns[i].id);
    for (uint32_t i = 0; i < s->cfg.conns_max; i++)
        zks_conn_release(&s->conns[i]);
    s->conn_count = 0;
    s->conn_high = 0;
    s->looking = false;
    zks_leader_stop(s);
    s->next_session_id = session_initial_id((int64_t)now_ms, (uint8_t)s->cfg.rep.id);
    int rc = replica_start(&s->rep, now_ms, d, err, errlen);
    zks_after_replica(s);
    zks_leave(s);
    return rc;
}

/* ---- output ---------------------------------------------------------------------------- */

static void resolve_str(const struct zks_outbuf *b, struct zks_str *str)
{
    str->s = str->len ? (const char *)b->bytes + str->off : "";
}

static void resolve_client(struct zks_outbuf *b, struct zks_out *o)
{
    resolve_str(b, &o->path);
    o->data = o->data_len ? b->bytes + o->data_off : NULL;
    o->strs = o->n_strs ? b->strs + o->strs_first : NULL;
    for (uint32_t k = 0; k < o->n_strs; k++)
        resolve_str(b, &b->strs[o->strs_first + k]);
    o->acl = o->acl_count ? b->acls + o->acl_first : NULL;
    o->ops = o->n_ops ? b->ops + o->ops_first : NULL;
    for (uint32_t k = 0; k < o->n_ops; k++) {
        struct zks_op_result *r = &b->ops[o->ops_first + k];
        resolve_str(b, &r->path);
        r->data = r->data_len ? b->bytes + r->data_off : NULL;
        r->strs = r->n_strs ? b->strs + r->strs_first : NULL;
        for (uint32_t j = 0; j < r->n_strs; j++)
            resolve_str(b, &b->strs[r->strs_first + j]);
    }
    o->ids = o->n_ids ? b->ids + o->ids_first : NULL;
}

static uint64_t min_deadline(uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

const struct zks_output *zks_output(struct zk_server *s)
{
    struct zks_outbuf *b = &s->ob;
    for (uint32_t i = 0; i < b->n_actions; i++)
        b->actions[i].bytes = b->actions[i].len ? b->bytes + b->actions[i].bytes_off : NULL;
    for (uint32_t i = 0; i < b->n_client; i++)
        resolve_client(b, &b->client[i]);
    b->out.actions = b->actions;
    b->out.n_actions = b->n_actions;
    b->out.client = b->client;
    b->out.n_client = b->n_client;
    b->out.events = b->events;
    b->out.n_events = b->n_events;
    b->out.n_events_dropped = b->n_events_dropped;
    uint64_t t = replica_output(&s->rep)->timer_ms;
    if (s->serving && s->serve_state != REP_LEADING && s->conn_count > 0)
        t = min_deadline(t, s->touch_at_ms);
    if (s->serving && s->serve_state == REP_LEADING)
        t = min_deadline(t, zks_leader_deadline(s));
    b->out.timer_ms = t;
    return &b->out;
}

void zks_output_clear(struct zk_server *s)
{
    struct zks_outbuf *b = &s->ob;
    b->n_actions = b->n_client = b->n_events = b->n_events_dropped = 0;
    b->n_strs = b->n_acls = b->n_ops = b->n_ids = 0;
    b->bytes_used = 0;
    if (b->bytes_cap > ZKS_OUT_KEEP_BYTES) {
        free(b->bytes);
        b->bytes = NULL;
        b->bytes_cap = 0;
    }
    memset(&b->out, 0, sizeof b->out);
}

/* ---- queries ------------------------------------------------------------------------------ */

const struct zk_sm *zks_sm(const struct zk_server *s)
{
    return &zks_smw(s)->zk;
}

uint64_t zks_last_applied(const struct zk_server *s)
{
    return zk_sm_last_applied(zks_sm(s));
}

void zks_session_password(const struct zk_server *s, int64_t session_id,
                          uint8_t out[SESSION_PASSWD_LEN])
{
    session_password(session_id, s->cfg.secret, s->cfg.secret_len, out);
}

static uint64_t fold(uint64_t h, uint64_t v)
{
    return sm_digest_fold(h, v, 0);
}

static uint64_t conn_hash(uint64_t h, const struct zks_conn *c)
{
    h = fold(fold(fold(h, c->id), c->state), (uint64_t)c->session_id);
    h = fold(fold(fold(h, (uint64_t)c->timeout_ms), c->auth_count), c->read_only);
    for (uint32_t k = 0; k < c->q_n; k++) {
        const struct zks_pending *e = &c->q[(c->q_head + k) % c->q_cap];
        h = fold(fold(fold(h, (uint64_t)(uint32_t)e->xid), (uint64_t)(uint32_t)e->op), e->stage);
        h = fold(fold(h, (uint64_t)(uint32_t)e->err), e->wait_zxid);
    }
    return h;
}

uint64_t zks_state_hash(const struct zk_server *s)
{
    uint64_t h = fold(replica_digest(&s->rep), s->rep.zxid_applied);
    h = fold(fold(fold(h, replica_last_zxid(&s->rep)), s->serving), s->looking);
    h = fold(fold(h, (uint64_t)s->next_session_id), s->forwarded);
    for (uint32_t i = 0; i < s->conn_high; i++)
        h = s->conns[i].id ? conn_hash(fold(h, i), &s->conns[i]) : h;
    for (uint32_t i = 0; s->tracker_live && i < s->tracker.count; i++) {
        const struct session *t = &s->tracker.s[i];
        h = fold(fold(fold(h, (uint64_t)t->id), (uint64_t)t->expiry_ms), t->owner);
        h = fold(h, t->closing);
    }
    return h;
}

char *zks_out_describe(const struct zks_out *o, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    int n = snprintf(buf, cap, "%s conn=%llu", zks_out_kind_name(o->kind), (unsigned long long)o->conn);
    size_t used = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    switch (o->kind) {
    case ZKS_OUT_CONNECTED:
        snprintf(buf + used, cap - used, " session=0x%llx timeout=%d%s",
                 (unsigned long long)o->session_id, o->timeout_ms, o->read_only ? " read-only" : "");
        break;
    case ZKS_OUT_REPLY:
        snprintf(buf + used, cap - used, " xid=%d op=%d err=%s zxid=0x%llx%s%.*s", o->xid, o->op,
                 zk_err_name(o->err), (unsigned long long)o->zxid, o->path.len ? " path=" : "",
                 (int)o->path.len, o->path.len ? o->path.s : "");
        break;
    case ZKS_OUT_WATCH:
        snprintf(buf + used, cap - used, " event=%d zxid=0x%llx path=%.*s", o->event,
                 (unsigned long long)o->zxid, (int)o->path.len, o->path.len ? o->path.s : "");
        break;
    case ZKS_OUT_CLOSE:
        snprintf(buf + used, cap - used, " reason=%s", zk_err_name(o->err));
        break;
    default:
        break;
    }
    return buf;
}

const char *zks_out_kind_name(int kind)
{
    static const char *const names[] = {"?", "CONNECTED", "REPLY", "WATCH", "CLOSE"};
    return kind >= ZKS_OUT_CONNECTED && kind <= ZKS_OUT_CLOSE ? names[kind] : "?";
}
