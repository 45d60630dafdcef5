/* zk_sm: txn bytes -> decode -> apply to the tree, plus the session table,
 * with every rejection happening before anything changes. */
#include "core/zk_sm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crc32c.h"
#include "core/hash64.h"
#include "core/txn.h"

#define ZK_SM_MAGIC 0x314d535au /* "ZSM1" */
#define ZK_SM_SESSIONS_DEFAULT 65536u

int zk_sm_init(struct zk_sm *sm, const struct zk_sm_config *cfg)
{
    memset(sm, 0, sizeof *sm);
    sm->max_sessions = cfg && cfg->max_sessions ? cfg->max_sessions : ZK_SM_SESSIONS_DEFAULT;
    return tree_init(&sm->tree, cfg ? &cfg->tree : NULL);
}

void zk_sm_free(struct zk_sm *sm)
{
    tree_free(&sm->tree);
    free(sm->sessions);
    zk_apply_out_free(&sm->last);
    memset(sm, 0, sizeof *sm);
}

int zk_sm_clone(struct zk_sm *dst, const struct zk_sm *src)
{
    *dst = *src;
    dst->sessions = NULL;
    zk_apply_out_init(&dst->last);
    if (src->session_cap) {
        dst->sessions = malloc(src->session_cap * sizeof *dst->sessions);
        if (dst->sessions == NULL)
            return ZSYSTEMERROR;
        memcpy(dst->sessions, src->sessions, src->session_count * sizeof *dst->sessions);
    }
    if (tree_clone(&dst->tree, &src->tree) != ZOK) {
        free(dst->sessions);
        memset(dst, 0, sizeof *dst);
        return ZSYSTEMERROR;
    }
    return ZOK;
}

static uint64_t session_hash(const struct zk_sm_session *s)
{
    return hash64_fmix(hash64_word(hash64_word(0x5e55u, (uint64_t)s->id), (uint64_t)(uint32_t)s->timeout_ms));
}

uint64_t zk_sm_digest(const struct zk_sm *sm)
{
    return hash64_fmix(tree_digest(&sm->tree) ^ hash64_fmix(sm->session_digest + 1));
}

static uint32_t sess_pos(const struct zk_sm *sm, int64_t id, bool *found)
{
    uint32_t lo = 0, hi = sm->session_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sm->sessions[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < sm->session_count && sm->sessions[lo].id == id;
    return lo;
}

const struct zk_sm_session *zk_sm_session(const struct zk_sm *sm, int64_t id)
{
    bool found;
    uint32_t i = sess_pos(sm, id, &found);
    return found ? &sm->sessions[i] : NULL;
}

/* Adds or updates; ZTHROTTLEDOP when the table is full (same on every
 * server, so deterministic). */
static int sess_add(struct zk_sm *sm, int64_t id, int32_t timeout_ms)
{
    bool found;
    uint32_t i = sess_pos(sm, id, &found);
    if (found) {
        sm->session_digest -= session_hash(&sm->sessions[i]);
        sm->sessions[i].timeout_ms = timeout_ms;
        sm->session_digest += session_hash(&sm->sessions[i]);
        return ZOK;
    }
    if (sm->session_count >= sm->max_sessions)
        return ZTHROTTLEDOP;
    if (sm->session_count == sm->session_cap) {
        uint32_t cap = sm->session_cap ? sm->session_cap * 2 : 16;
        struct zk_sm_session *s = realloc(sm->sessions, cap * sizeof *s);
        if (s == NULL)
            return ZSYSTEMERROR;
        sm->sessions = s;
        sm->session_cap = cap;
    }
    memmove(sm->sessions + i + 1, sm->sessions + i, (sm->session_count - i) * sizeof *sm->sessions);
    sm->sessions[i] = (struct zk_sm_session){id, timeout_ms};
    sm->session_count++;
    sm->session_digest += session_hash(&sm->sessions[i]);
    return ZOK;
}

static void sess_remove(struct zk_sm *sm, int64_t id)
{
    bool found;
    uint32_t i = sess_pos(sm, id, &found);
    if (!found)
        return;
    sm->session_digest -= session_hash(&sm->sessions[i]);
    memmove(sm->sessions + i, sm->sessions + i + 1, (sm->session_count - i - 1) * sizeof *sm->sessions);
    sm->session_count--;
}

/* A committed txn that cannot be applied still takes its zxid. */
static int sm_apply_noop(struct zk_sm *sm, uint64_t zxid, int err, struct zk_apply_out *out)
{
    zk_apply_out_reset(out);
    out->type = ZOO_ERROR_OP;
    out->zxid = (int64_t)zxid;
    out->err = err;
    sm->last_applied = zxid;
    return err;
}

int zk_sm_apply(struct zk_sm *sm, uint64_t zxid, const uint8_t *bytes, size_t len,
                struct zk_apply_out *out)
{
    if (zxid <= sm->last_applied)
        return ZBADARGUMENTS;
    struct zk_txn txn;
    int rc = zk_txn_decode(&txn, bytes, len, NULL, 0);
    if (rc == ZSYSTEMERROR)
        return rc;
    if (rc != ZOK)
        return sm_apply_noop(sm, zxid, ZMARSHALLINGERROR, out);
    /* The commit zxid is the truth: the leader may have prepared the txn
     * before ZAB numbered it (the header's zxid is then only a hint). */
    txn.zxid = (int64_t)zxid;
    rc = apply_txn(&sm->tree, &txn, out);
    if (rc == ZOK && txn.type == ZOO_CREATE_SESSION_OP) {
        int err = sess_add(sm, txn.session_id, txn.timeout_ms);
        if (err != ZOK && out->result_count > 0)
            out->results[0].err = out->err = err;
    } else if (rc == ZOK && txn.type == ZOO_CLOSE_SESSION_OP) {
        sess_remove(sm, txn.session_id);
    }
    zk_txn_free(&txn);
    if (rc == ZOK)
        sm->last_applied = zxid;
    return rc;
}

int zk_sm_track_sessions(const struct zk_sm *sm, struct session_tracker *tr, int64_t now_ms)
{
    for (uint32_t i = 0; i < sm->session_count; i++) {
        const struct zk_sm_session *s = &sm->sessions[i];
        int rc = session_track(tr, s->id, s->timeout_ms, SESSION_OWNER_NONE, now_ms);
        if (rc != ZOK)
            return rc;
    }
    return ZOK;
}

/* ---- snapshots ------------------------------------------------------------------- */

static void sm_write_head(const struct zk_sm *sm, struct bytes_w *w)
{
    bytes_w_u32(w, ZK_SM_MAGIC);
    bytes_w_u32(w, ZK_SM_SNAPSHOT_VERSION);
    bytes_w_u64(w, sm->last_applied);
    bytes_w_u32(w, sm->session_count);
    for (uint32_t i = 0; i < sm->session_count; i++) {
        bytes_w_u64(w, (uint64_t)sm->sessions[i].id);
        bytes_w_u32(w, (uint32_t)sm->sessions[i].timeout_ms);
    }
}

size_t zk_sm_snapshot_size(const struct zk_sm *sm)
{
    struct bytes_w w = {0};
    sm_write_head(sm, &w);
    return w.len + 4 + tree_snapshot_size(&sm->tree) + 4;
}

int zk_sm_snapshot_write(const struct zk_sm *sm, uint8_t *buf, size_t cap, size_t *len)
{
    if (cap < zk_sm_snapshot_size(sm))
        return ZBADARGUMENTS;
    struct bytes_w w = {.buf = buf, .cap = cap};
    sm_write_head(sm, &w);
    size_t tree_at = w.len + 4, tree_len;
    int rc = tree_snapshot_write(&sm->tree, buf + tree_at, cap - tree_at - 4, &tree_len);
    if (rc != ZOK)
        return rc;
    bytes_w_u32(&w, (uint32_t)tree_len);
    w.len += tree_len;
    bytes_w_u32(&w, crc32c(buf, w.len));
    if (w.overflow)
        return ZBADARGUMENTS;
    *len = w.len;
    return ZOK;
}

static int sm_fail(char *err, size_t errlen, size_t off, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "offset %zu: %s", off, why);
    return ZMARSHALLINGERROR;
}

static int sm_read_sessions(struct zk_sm *n, struct bytes_r *r, char *err, size_t errlen)
{
    uint32_t count = bytes_r_u32(r);
    if (r->short_read || count > n->max_sessions || count > (r->len - r->off) / 12)
        return sm_fail(err, errlen, r->off, "session count out of range");
    for (uint32_t i = 0; i < count; i++) {
        int64_t id = (int64_t)bytes_r_u64(r);
        int32_t to = (int32_t)bytes_r_u32(r);
        if (i > 0 && id <= n->sessions[n->session_count - 1].id)
            return sm_fail(err, errlen, r->off - 12, "sessions not sorted or duplicated");
        if (sess_add(n, id, to) != ZOK)
            return sm_fail(err, errlen, r->off - 12, "out of memory");
    }
    return ZOK;
}

int zk_sm_snapshot_load(struct zk_sm *sm, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (len < 28)
        return sm_fail(err, errlen, len, "too short for a state machine snapshot");
    struct bytes_r tail = {.buf = buf, .len = len, .off = len - 4};
    if (bytes_r_u32(&tail) != crc32c(buf, len - 4))
        return sm_fail(err, errlen, len - 4, "checksum mismatch");
    struct bytes_r r = {.buf = buf, .len = len - 4};
    if (bytes_r_u32(&r) != ZK_SM_MAGIC)
        return sm_fail(err, errlen, 0, "bad magic");
    if (bytes_r_u32(&r) != ZK_SM_SNAPSHOT_VERSION)
        return sm_fail(err, errlen, 4, "unsupported version");
    struct zk_sm n;
    memset(&n, 0, sizeof n);
    n.max_sessions = sm->max_sessions ? sm->max_sessions : ZK_SM_SESSIONS_DEFAULT;
    n.last_applied = bytes_r_u64(&r);
    int rc = sm_read_sessions(&n, &r, err, errlen);
    uint32_t tree_len = 0;
    const uint8_t *tree_bytes = rc == ZOK ? bytes_r_blob(&r, UINT32_MAX, &tree_len) : NULL;
    if (rc == ZOK && (r.short_read || r.off != r.len))
        rc = sm_fail(err, errlen, r.off, "bad tree snapshot length");
    if (rc == ZOK) {
        char terr[128];
        struct tree_config cfg = sm->tree.cfg;
        if (cfg.node_max == 0)
            tree_config_default(&cfg);
        rc = tree_snapshot_load(&n.tree, &cfg, tree_bytes, tree_len, terr, sizeof terr);
        if (rc != ZOK)
            sm_fail(err, errlen, (size_t)(tree_bytes - buf), terr);
    }
    if (rc != ZOK) {
        free(n.sessions);
        tree_free(&n.tree);
        return rc;
    }
    zk_sm_free(sm);
    *sm = n;
    return ZOK;
}

/* ---- struct sm_ops adapters ------------------------------------------------------ */

void *zk_sm_op_create(void)
{
    struct zk_sm *sm = malloc(sizeof *sm);
    if (sm != NULL && zk_sm_init(sm, NULL) != ZOK) {
        free(sm);
        sm = NULL;
    }
    return sm;
}

void zk_sm_op_destroy(void *sm)
{
    if (sm != NULL)
        zk_sm_free(sm);
    free(sm);
}

void *zk_sm_op_clone(const void *src)
{
    struct zk_sm *sm = malloc(sizeof *sm);
    if (sm != NULL && zk_sm_clone(sm, src) != ZOK) {
        free(sm);
        sm = NULL;
    }
    return sm;
}

int zk_sm_op_apply(void *sm, uint64_t zxid, const uint8_t *txn, size_t len)
{
    struct zk_sm *m = sm;
    return zk_sm_apply(m, zxid, txn, len, &m->last) == ZOK ? 0 : -1;
}

uint64_t zk_sm_op_digest(const void *sm) { return zk_sm_digest(sm); }
uint64_t zk_sm_op_last_applied(const void *sm) { return zk_sm_last_applied(sm); }
size_t zk_sm_op_snapshot_size(const void *sm) { return zk_sm_snapshot_size(sm); }

int zk_sm_op_snapshot_write(const void *sm, uint8_t *buf, size_t cap, size_t *len)
{
    return zk_sm_snapshot_write(sm, buf, cap, len) == ZOK ? 0 : -1;
}

int zk_sm_op_snapshot_load(void *sm, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    return zk_sm_snapshot_load(sm, buf, len, err, errlen) == ZOK ? 0 : -1;
}
