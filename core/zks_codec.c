/* zks_codec: byte formats of the zk_server layer (see zks_codec.h).
 * Little-endian, via core/bytes.h. A request record:
 *   u8 ZKS_REC_REQUEST | u32 total ACL entries | op | u32 n_auth, n x (blob
 *   scheme, blob id) | u64 owner | u32 n_ops | n_ops x op
 * where op = i32 type, i64 session, i32 cxid, str path, blob data, acl list,
 * i32 flags, i32 version, i64 ttl, i32 timeout; str = u8 present + blob
 * holding the string and its NUL (so decoding is zero copy).
 * Owns nothing beyond decoded arrays. Never reads past the input. */
#include "core/zks_codec.h"

#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/bytes.h"

#define ACL_ENTRY_MIN_BYTES 12u   /* perms + two empty blobs */

static void w_str(struct bytes_w *w, const char *s)
{
    bytes_w_u8(w, s != NULL);
    if (s != NULL)
        bytes_w_blob(w, s, strlen(s) + 1);
}

static const char *r_str(struct bytes_r *r, uint32_t max)
{
    if (bytes_r_u8(r) == 0)
        return NULL;
    uint32_t n;
    const uint8_t *p = bytes_r_blob(r, max + 1, &n);
    if (p == NULL || n == 0 || p[n - 1] != '\0' || memchr(p, '\0', n - 1) != NULL) {
        r->short_read = true;
        return NULL;
    }
    return (const char *)p;
}

static void w_op(struct bytes_w *w, const struct zk_request *q)
{
    bytes_w_u32(w, (uint32_t)q->type);
    bytes_w_u64(w, (uint64_t)q->session_id);
    bytes_w_u32(w, (uint32_t)q->cxid);
    w_str(w, q->path);
    bytes_w_blob(w, q->data, q->data ? q->data_len : 0);
    acl_write(w, q->acl, q->acl ? q->acl_count : 0);
    bytes_w_u32(w, (uint32_t)q->flags);
    bytes_w_u32(w, (uint32_t)q->version);
    bytes_w_u64(w, (uint64_t)q->ttl_ms);
    bytes_w_u32(w, (uint32_t)q->timeout_ms);
}

size_t zks_req_encode(const struct zk_request *req, uint8_t *buf, size_t cap)
{
    struct bytes_w w = {buf, cap, 0, false};
    uint32_t n_ops = req->ops ? req->op_count : 0;
    uint64_t acls = req->acl ? req->acl_count : 0;
    for (uint32_t i = 0; i < n_ops; i++)
        acls += req->ops[i].acl ? req->ops[i].acl_count : 0;
    bytes_w_u8(&w, ZKS_REC_REQUEST);
    bytes_w_u32(&w, (uint32_t)acls);
    w_op(&w, req);
    uint32_t n_auth = req->auth && req->auth_count <= ZK_AUTH_MAX ? req->auth_count : 0;
    bytes_w_u32(&w, n_auth);
    for (uint32_t i = 0; i < n_auth; i++) {
        bytes_w_blob(&w, req->auth[i].scheme, strnlen(req->auth[i].scheme, ZK_SCHEME_MAX - 1));
        bytes_w_blob(&w, req->auth[i].id, strnlen(req->auth[i].id, ZK_ID_MAX - 1));
    }
    bytes_w_u64(&w, req->owner);
    bytes_w_u32(&w, n_ops);
    for (uint32_t i = 0; i < n_ops; i++)
        w_op(&w, &req->ops[i]);
    return w.len;
}

/* Reads one op; its ACLs go to d->acls from *acl_used on. */
static bool r_op(struct bytes_r *r, struct zks_req_dec *d, uint32_t acl_total,
                 uint32_t *acl_used, struct zk_request *q)
{
    memset(q, 0, sizeof *q);
    q->type = (int32_t)bytes_r_u32(r);
    q->session_id = (int64_t)bytes_r_u64(r);
    q->cxid = (int32_t)bytes_r_u32(r);
    q->path = r_str(r, ZK_PATH_MAX);
    q->data = bytes_r_blob(r, UINT32_MAX, &q->data_len);
    if (r->short_read)
        return false;
    uint32_t n;
    struct zk_acl *at = d->acls ? d->acls + *acl_used : NULL;
    if (!acl_read(r, at, acl_total - *acl_used, &n))
        return false;
    q->acl = n ? at : NULL;
    q->acl_count = n;
    *acl_used += n;
    q->flags = (int32_t)bytes_r_u32(r);
    q->version = (int32_t)bytes_r_u32(r);
    q->ttl_ms = (int64_t)bytes_r_u64(r);
    q->timeout_ms = (int32_t)bytes_r_u32(r);
    return !r->short_read;
}

static bool r_auth(struct bytes_r *r, struct zks_req_dec *d)
{
    uint32_t n = bytes_r_u32(r);
    if (r->short_read || n > ZK_AUTH_MAX)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sl, il;
        const uint8_t *s = bytes_r_blob(r, ZK_SCHEME_MAX - 1, &sl);
        const uint8_t *id = bytes_r_blob(r, ZK_ID_MAX - 1, &il);
        if (r->short_read)
            return false;
        memset(&d->auth[i], 0, sizeof d->auth[i]);
        memcpy(d->auth[i].scheme, s, sl);
        memcpy(d->auth[i].id, id, il);
    }
    d->req.auth = n ? d->auth : NULL;
    d->req.auth_count = n;
    return true;
}

int zks_req_decode(const uint8_t *buf, size_t len, struct zks_req_dec *d)
{
    memset(d, 0, sizeof *d);
    struct bytes_r r = {buf, len, 0, false};
    if (bytes_r_u8(&r) != ZKS_REC_REQUEST)
        return ZMARSHALLINGERROR;
    uint32_t acl_total = bytes_r_u32(&r);
    if (r.short_read || (uint64_t)acl_total * ACL_ENTRY_MIN_BYTES > len)
        return ZMARSHALLINGERROR;
    if (acl_total && (d->acls = calloc(acl_total, sizeof *d->acls)) == NULL)
        return ZSYSTEMERROR;
    uint32_t acl_used = 0;
    if (!r_op(&r, d, acl_total, &acl_used, &d->req) || !r_auth(&r, d))
        return ZMARSHALLINGERROR;
    d->req.owner = bytes_r_u64(&r);
    uint32_t n_ops = bytes_r_u32(&r);
    if (r.short_read || n_ops > ZK_MULTI_MAX || (uint64_t)n_ops * 40u > len)
        return ZMARSHALLINGERROR;
    if (n_ops && (d->ops = calloc(n_ops, sizeof *d->ops)) == NULL)
        return ZSYSTEMERROR;
    for (uint32_t i = 0; i < n_ops; i++)
        if (!r_op(&r, d, acl_total, &acl_used, &d->ops[i]))
            return ZMARSHALLINGERROR;
    d->req.ops = d->ops;
    d->req.op_count = n_ops;
    if (r.off != len || acl_used != acl_total)
        return ZMARSHALLINGERROR;
    return ZOK;
}

void zks_req_dec_free(struct zks_req_dec *d)
{
    free(d->ops);
    free(d->acls);
    d->ops = NULL;
    d->acls = NULL;
}

/* ---- SetWatches ---------------------------------------------------------------- */

static const struct watch_list *sw_list(const struct zks_set_watches *sw, int i)
{
    const struct watch_list *l[5] = {&sw->data, &sw->exist, &sw->child, &sw->persistent,
                                     &sw->recursive};
    return l[i];
}

size_t zks_sw_encode(const struct zks_set_watches *sw, uint8_t *buf, size_t cap)
{
    struct bytes_w w = {buf, cap, 0, false};
    bytes_w_u8(&w, ZKS_REC_SET_WATCHES);
    bytes_w_u32(&w, (uint32_t)sw->xid);
    bytes_w_u64(&w, (uint64_t)sw->relative_zxid);
    for (int i = 0; i < 5; i++) {
        const struct watch_list *l = sw_list(sw, i);
        uint32_t n = l->paths ? l->count : 0;
        bytes_w_u32(&w, n);
        for (uint32_t j = 0; j < n; j++)
            w_str(&w, l->paths[j] ? l->paths[j] : "");
    }
    return w.len;
}

int zks_sw_decode(const uint8_t *buf, size_t len, struct zks_sw_dec *d)
{
    memset(d, 0, sizeof *d);
    struct bytes_r r = {buf, len, 0, false};
    if (bytes_r_u8(&r) != ZKS_REC_SET_WATCHES)
        return ZMARSHALLINGERROR;
    d->sw.xid = (int32_t)bytes_r_u32(&r);
    d->sw.relative_zxid = (int64_t)bytes_r_u64(&r);
    /* Each path costs at least 6 bytes, which bounds the total. */
    size_t total_max = len / 6 + 1;
    if (total_max > ZKS_WATCH_PATHS_MAX)
        total_max = ZKS_WATCH_PATHS_MAX;
    if ((d->paths = calloc(total_max, sizeof *d->paths)) == NULL)
        return ZSYSTEMERROR;
    size_t used = 0;
    for (int i = 0; i < 5; i++) {
        struct watch_list *l = (struct watch_list *)sw_list(&d->sw, i);
        uint32_t n = bytes_r_u32(&r);
        if (r.short_read || n > total_max - used)
            return ZMARSHALLINGERROR;
        for (uint32_t j = 0; j < n; j++)
            if ((d->paths[used + j] = r_str(&r, ZK_PATH_MAX)) == NULL)
                return ZMARSHALLINGERROR;
        l->paths = n ? d->paths + used : NULL;
        l->count = n;
        used += n;
    }
    return r.off == len && !r.short_read ? ZOK : ZMARSHALLINGERROR;
}

void zks_sw_dec_free(struct zks_sw_dec *d)
{
    free(d->paths);
    d->paths = NULL;
}

/* ---- peer messages -------------------------------------------------------------- */

size_t zks_msg_encode(const struct zks_msg *m, uint8_t *buf, size_t cap)
{
    struct bytes_w w = {buf, cap, 0, false};
    bytes_w_u8(&w, ZKS_TAG_SERVER);
    bytes_w_u8(&w, m->kind);
    bytes_w_u8(&w, m->valid);
    bytes_w_u64(&w, (uint64_t)m->session_id);
    bytes_w_u32(&w, (uint32_t)m->cxid);
    bytes_w_u32(&w, (uint32_t)m->type);
    bytes_w_u32(&w, (uint32_t)m->err);
    bytes_w_u32(&w, (uint32_t)m->timeout_ms);
    bytes_w_u64(&w, m->conn);
    bytes_w_u64(&w, m->zxid);
    bytes_w_blob(&w, m->body, m->body ? m->body_len : 0);
    return w.len;
}

int zks_msg_decode(const uint8_t *buf, size_t len, struct zks_msg *m)
{
    memset(m, 0, sizeof *m);
    struct bytes_r r = {buf, len, 0, false};
    m->kind = bytes_r_u8(&r);
    m->valid = bytes_r_u8(&r);
    m->session_id = (int64_t)bytes_r_u64(&r);
    m->cxid = (int32_t)bytes_r_u32(&r);
    m->type = (int32_t)bytes_r_u32(&r);
    m->err = (int32_t)bytes_r_u32(&r);
    m->timeout_ms = (int32_t)bytes_r_u32(&r);
    m->conn = bytes_r_u64(&r);
    m->zxid = bytes_r_u64(&r);
    m->body = bytes_r_blob(&r, UINT32_MAX, &m->body_len);
    if (r.short_read || r.off != len || m->kind < ZKS_MSG_REQUEST || m->kind > ZKS_MSG_MOVED)
        return ZMARSHALLINGERROR;
    return ZOK;
}

const char *zks_msg_name(int kind)
{
    static const char *const names[] = {"?", "REQUEST", "REQ_FAIL", "TOUCH", "REVALIDATE",
                                        "REVALIDATE_REPLY", "SYNC", "SYNC_REPLY", "MOVED"};
    return kind >= 1 && kind <= ZKS_MSG_MOVED ? names[kind] : "?";
}
