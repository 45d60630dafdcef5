/* zks_leader: the write path and sessions of a zk_server: the leader preps
 * each write against the applied tree plus its outstanding changes and
 * proposes it through ZAB (PrepRequestProcessor + Leader.propose); learners
 * forward writes, syncs, session touches and reconnect revalidations to the
 * leader over the peer channel. The leader's session tracker is rebuilt
 * from the committed session table whenever this server starts leading
 * (every session gets a fresh timeout, as in ZooKeeper).
 *
 * Owns: the prep overlay and session tracker (valid only while serving as
 * leader) and the server-layer peer protocol (core/zks_codec.h).
 * Never: propose from inside an apply, or trust a peer message (malformed
 * ones are dropped and noted; a request from a server that is not
 * following this leader is ignored, and its client will fail over). */
#include <stdlib.h>
#include <string.h>

#include "core/zks_internal.h"
#include "core/zxid.h"

/* ---- role start/stop --------------------------------------------------------- */

void zks_leader_start(struct zk_server *s)
{
    prep_reset(&s->prep);
    if (s->tracker_live)
        session_free(&s->tracker);
    s->tracker_live = false;
    s->expire_retry = false;
    struct session_config sc = {
        .tick_ms = (int32_t)s->cfg.rep.tick_ms,
        .min_timeout_ms = s->cfg.min_session_timeout_ms,
        .max_timeout_ms = s->cfg.max_session_timeout_ms,
        .max_sessions = s->cfg.max_sessions,
        .server_id = (uint8_t)s->cfg.rep.id,
    };
    if (session_init(&s->tracker, &sc, (int64_t)s->now_ms) != ZOK) {
        zks_note(s, "leader: session tracker init failed");
        return;
    }
    s->tracker_live = true;
    if (zk_sm_track_sessions(zks_sm(s), &s->tracker, (int64_t)s->now_ms) != ZOK)
        zks_note(s, "leader: not every committed session fits the tracker");
}

void zks_leader_stop(struct zk_server *s)
{
    prep_reset(&s->prep);
    if (s->tracker_live)
        session_free(&s->tracker);
    s->tracker_live = false;
    s->expire_retry = false;
}

/* ---- proposing ----------------------------------------------------------------- */

static int map_propose_err(int rc)
{
    switch (rc) {
    case REP_ERR_NOT_LEADER: return ZCONNECTIONLOSS;
    case REP_ERR_FULL: return ZTHROTTLEDOP;
    case REP_ERR_TOO_BIG: return ZBADARGUMENTS;
    default: return ZSYSTEMERROR;
    }
}

static int prep_into_buf(struct zk_server *s, const struct zk_request *req, uint64_t zxid,
                         struct prep_result *res)
{
    int rc = prep_request(&s->prep, zks_tree(s), &s->tracker, req, (int64_t)zxid,
                          (int64_t)s->now_ms, s->txn_buf, s->txn_cap, res);
    if (rc == ZBADARGUMENTS && res->txn_len > s->txn_cap) {
        uint8_t *b = realloc(s->txn_buf, res->txn_len);
        if (b == NULL)
            return ZSYSTEMERROR;
        s->txn_buf = b;
        s->txn_cap = res->txn_len;
        rc = prep_request(&s->prep, zks_tree(s), &s->tracker, req, (int64_t)zxid,
                          (int64_t)s->now_ms, s->txn_buf, s->txn_cap, res);
    }
    return rc;
}

/* Prep + propose one request for a client of server `origin`. ZOK once
 * proposed, else the error its client gets (nothing was proposed). */
static int leader_propose(struct zk_server *s, int origin, const struct zk_request *in)
{
    if (!zks_is_leader(s) || !s->tracker_live)
        return ZCONNECTIONLOSS;
    struct zk_request req = *in;
    req.owner = (uint64_t)origin;
    bool tracked = false;
    if (req.type == ZOO_CREATE_SESSION_OP) {
        int rc = session_track(&s->tracker, req.session_id, req.timeout_ms, req.owner,
                               (int64_t)s->now_ms);
        if (rc != ZOK)
            return rc;
        tracked = true;
    }
    uint64_t predicted = zxid_make((uint32_t)s->rep.established_epoch, (uint32_t)s->rep.next_counter);
    struct prep_result res;
    int err = prep_into_buf(s, &req, predicted, &res);
    if (err == ZOK && !res.has_txn)
        err = res.err;
    if (err == ZOK) {
        uint64_t zxid = 0;
        int rc = replica_propose(&s->rep, s->now_ms, s->txn_buf, res.txn_len, &zxid);
        if (rc != REP_OK) {
            prep_cancel_last(&s->prep);
            err = map_propose_err(rc);
        } else if (zxid != predicted) {
            prep_retag_last(&s->prep, (int64_t)zxid);
        }
        zks_after_replica(s);
    }
    if (err != ZOK && tracked && s->tracker_live)
        session_remove(&s->tracker, req.session_id);
    return err;
}

int zks_submit_write(struct zk_server *s, const struct zk_request *req)
{
    if (!s->serving)
        return ZCONNECTIONLOSS;
    if (zks_is_leader(s))
        return leader_propose(s, s->rep.id, req);
    size_t n = zks_req_encode(req, NULL, 0);
    uint8_t *body = malloc(n);
    if (body == NULL)
        return ZSYSTEMERROR;
    zks_req_encode(req, body, n);
    struct zks_msg m = {.kind = ZKS_MSG_REQUEST, .session_id = req->session_id, .cxid = req->cxid,
                        .type = req->type, .body = body, .body_len = (uint32_t)n};
    zks_send(s, s->serve_leader, &m);
    free(body);
    return ZOK;
}

int zks_submit_sync(struct zk_server *s, int64_t session_id, int32_t cxid, uint64_t *wait_zxid)
{
    *wait_zxid = 0;
    if (!s->serving)
        return ZCONNECTIONLOSS;
    if (zks_is_leader(s)) {
        /* Everything proposed so far must be applied before the answer. */
        *wait_zxid = replica_last_zxid(&s->rep);
        return ZOK;
    }
    struct zks_msg m = {.kind = ZKS_MSG_SYNC, .session_id = session_id, .cxid = cxid};
    zks_send(s, s->serve_leader, &m);
    return ZOK;
}

/* ---- sessions ------------------------------------------------------------------------- */

void zks_touch_local(struct zk_server *s, int64_t session_id)
{
    if (zks_is_leader(s) && s->tracker_live)
        session_touch(&s->tracker, session_id, (int64_t)s->now_ms);
}

/* ZooKeeper's revalidateSession + setOwner: valid if the session is tracked
 * and not closing; the server that owned it before learns it moved. */
static bool leader_revalidate(struct zk_server *s, int origin, int64_t session_id)
{
    if (!s->tracker_live)
        return false;
    const struct session *ss = session_get(&s->tracker, session_id);
    if (ss == NULL || ss->closing)
        return false;
    uint64_t old = ss->owner;
    session_touch(&s->tracker, session_id, (int64_t)s->now_ms);
    session_set_owner(&s->tracker, session_id, (uint64_t)origin);
    if (old != SESSION_OWNER_NONE && old != (uint64_t)origin) {
        if (old == (uint64_t)s->rep.id) {
            zks_conn_moved(s, session_id);
        } else {
            struct zks_msg m = {.kind = ZKS_MSG_MOVED, .session_id = session_id};
            zks_send(s, (int)old, &m);
        }
    }
    return true;
}

int zks_revalidate(struct zk_server *s, uint64_t conn, int64_t session_id, int32_t timeout_ms)
{
    if (zks_is_leader(s))
        return leader_revalidate(s, s->rep.id, session_id) ? 1 : 0;
    struct zks_msg m = {.kind = ZKS_MSG_REVALIDATE, .session_id = session_id, .conn = conn,
                        .timeout_ms = timeout_ms};
    zks_send(s, s->serve_leader, &m);
    return -1;
}

static void close_expired(struct zk_server *s, int64_t id)
{
    struct zk_request req = {.type = ZOO_CLOSE_SESSION_OP, .session_id = id, .cxid = 0,
                             .version = -1, .ttl_ms = -1};
    if (leader_propose(s, s->rep.id, &req) != ZOK && zks_is_leader(s))
        s->expire_retry = true;
}

/* Expired sessions become closeSession txns (their ephemerals go with them). */
void zks_leader_tick(struct zk_server *s)
{
    if (!s->tracker_live)
        return;
    if (s->expire_retry) {
        /* Proposals were refused earlier (log full): close every session
         * still marked closing; a duplicate closeSession is harmless. */
        s->expire_retry = false;
        uint32_t n = 0, cap = s->cfg.conns_max + ZKS_TOUCH_MAX;
        for (uint32_t i = 0; i < s->tracker.count && n < cap; i++)
            if (s->tracker.s[i].closing)
                s->scratch_ids[n++] = s->tracker.s[i].id;
        for (uint32_t i = 0; i < n && zks_is_leader(s); i++)
            close_expired(s, s->scratch_ids[i]);
    }
    uint32_t cap = s->cfg.conns_max + ZKS_TOUCH_MAX, n;
    do {
        if (!s->tracker_live)
            return;
        n = session_expired(&s->tracker, (int64_t)s->now_ms, s->scratch_ids, cap);
        for (uint32_t i = 0; i < n && zks_is_leader(s); i++)
            close_expired(s, s->scratch_ids[i]);
    } while (n == cap && zks_is_leader(s));
}

uint64_t zks_leader_deadline(const struct zk_server *s)
{
    if (!s->tracker_live)
        return 0;
    if (s->expire_retry)
        return s->now_ms + s->cfg.rep.tick_ms;
    int64_t t = session_next_expiry_ms(&s->tracker);
    return t == INT64_MAX || t < 0 ? 0 : (uint64_t)t;
}

/* Learners send the sessions their clients kept alive, every tick/2 (as
 * ZooKeeper piggybacks them on PING replies). */
void zks_learner_tick(struct zk_server *s)
{
    if (!s->serving || zks_is_leader(s) || s->now_ms < s->touch_at_ms)
        return;
    uint32_t half = s->cfg.rep.tick_ms / 2 ? s->cfg.rep.tick_ms / 2 : 1;
    s->touch_at_ms = s->now_ms + half;
    uint32_t n = 0;
    for (uint32_t i = 0; i <= s->conn_high; i++) {
        bool end = i == s->conn_high;
        if (!end) {
            struct zks_conn *c = &s->conns[i];
            if (!c->id || !c->touched || c->state != ZKS_CONN_OPEN)
                continue;
            c->touched = false;
            s->scratch_ids[n++] = c->session_id;
        }
        if (n > 0 && (end || n == ZKS_TOUCH_MAX)) {
            uint8_t *body = malloc((size_t)n * 8);
            if (body == NULL)
                return;
            for (uint32_t k = 0; k < n; k++)
                for (int b = 0; b < 8; b++)
                    body[k * 8 + b] = (uint8_t)((uint64_t)s->scratch_ids[k] >> (8 * b));
            struct zks_msg m = {.kind = ZKS_MSG_TOUCH, .body = body, .body_len = n * 8};
            zks_send(s, s->serve_leader, &m);
            free(body);
            n = 0;
        }
    }
}

/* ---- peer messages ---------------------------------------------------------------------- */

static void leader_on_request(struct zk_server *s, int from, const struct zks_msg *m)
{
    struct zks_req_dec d;
    int rc = zks_req_decode(m->body, m->body_len, &d);
    if (rc == ZOK) {
        if (d.req.type != ZOO_CREATE_SESSION_OP)
            session_touch(&s->tracker, d.req.session_id, (int64_t)s->now_ms);
        rc = leader_propose(s, from, &d.req);
    }
    zks_req_dec_free(&d);
    if (rc != ZOK && zks_is_leader(s)) {
        struct zks_msg f = {.kind = ZKS_MSG_REQ_FAIL, .session_id = m->session_id, .cxid = m->cxid,
                            .type = m->type, .err = rc};
        zks_send(s, from, &f);
    }
}

static void leader_on_msg(struct zk_server *s, int from, const struct zks_msg *m)
{
    switch (m->kind) {
    case ZKS_MSG_REQUEST:
        leader_on_request(s, from, m);
        return;
    case ZKS_MSG_TOUCH:
        for (uint32_t k = 0; k + 8 <= m->body_len && s->tracker_live; k += 8) {
            uint64_t v = 0;
            for (int b = 7; b >= 0; b--)
                v = (v << 8) | m->body[k + (uint32_t)b];
            session_touch(&s->tracker, (int64_t)v, (int64_t)s->now_ms);
        }
        return;
    case ZKS_MSG_REVALIDATE: {
        struct zks_msg r = {.kind = ZKS_MSG_REVALIDATE_REPLY, .session_id = m->session_id,
                            .conn = m->conn, .timeout_ms = m->timeout_ms,
                            .valid = leader_revalidate(s, from, m->session_id)};
        zks_send(s, from, &r);
        return;
    }
    case ZKS_MSG_SYNC: {
        struct zks_msg r = {.kind = ZKS_MSG_SYNC_REPLY, .session_id = m->session_id, .cxid = m->cxid,
                            .zxid = replica_last_zxid(&s->rep)};
        zks_send(s, from, &r);
        return;
    }
    default:
        zks_note(s, "leader: unexpected server-layer message ignored");
    }
}

static void learner_on_msg(struct zk_server *s, const struct zks_msg *m)
{
    switch (m->kind) {
    case ZKS_MSG_REQ_FAIL:
        zks_conn_req_failed(s, m->session_id, m->cxid, m->type, m->err);
        return;
    case ZKS_MSG_REVALIDATE_REPLY: {
        struct zks_conn *c = zks_conn_find(s, m->conn);
        if (c && c->state == ZKS_CONN_REVALIDATE && c->session_id == m->session_id)
            zks_conn_opened(s, c, m->valid != 0);
        return;
    }
    case ZKS_MSG_SYNC_REPLY:
        zks_conn_sync_reply(s, m->session_id, m->cxid, m->zxid);
        return;
    case ZKS_MSG_MOVED:
        zks_conn_moved(s, m->session_id);
        return;
    default:
        zks_note(s, "learner: unexpected server-layer message ignored");
    }
}

void zks_on_peer_msg(struct zk_server *s, int from, const struct zks_msg *m)
{
    if (!s->serving) {
        zks_note(s, "server-layer message while not serving ignored");
        return;
    }
    if (zks_is_leader(s))
        leader_on_msg(s, from, m);
    else if (from == s->serve_leader)
        learner_on_msg(s, m);
    else
        zks_note(s, "server-layer message from a server that is not my leader ignored");
}
