/* zk_wire (client side): zk_request / zks_set_watches / ConnectRequest ->
 * frames, and server frames -> struct zkw_reply, for the simulator's
 * clients, load tools and tests.
 *
 * Owns: the reverse of the server side's op mapping (the same fields by
 * op) and the storage of a decoded reply (a copy of the payload plus an
 * arena for its vectors, one heap block).
 * Never: I/O, clocks, globals; never keep a pointer into the caller's
 * payload. */
#include <stdlib.h>
#include <string.h>

#include "core/zk_wire.h"
#include "core/zk_wire_internal.h"

/* ---- requests -------------------------------------------------------------- */

static struct jute_buf data_of(const uint8_t *p, uint32_t len)
{
    if (p == NULL)
        return (struct jute_buf){ NULL, -1 };
    /* Over INT32_MAX: -2 makes the writer fail rather than cut the data. */
    return (struct jute_buf){ p, len > INT32_MAX ? -2 : (int32_t)len };
}

/* ACLs of q into store (q->acl_count entries; none when q->acl is NULL,
 * matching acl_total's count). */
static struct zkp_acl_vec acl_of(const struct zk_request *q, struct zkp_acl *store)
{
    uint32_t n = q->acl ? q->acl_count : 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct zk_acl *a = &q->acl[i];
        store[i] = (struct zkp_acl){ a->perms,
                                     { a->id.scheme, (int32_t)strnlen(a->id.scheme, ZK_SCHEME_MAX) },
                                     { a->id.id, (int32_t)strnlen(a->id.id, ZK_ID_MAX) } };
    }
    return (struct zkp_acl_vec){ n ? store : NULL, (int32_t)n };
}

/* Fills r's body from q's fields for op q->type (not multi). -1 if the op
 * has no request layout a zk_request can carry. */
static int fill_simple(const struct zk_request *q, struct zkp_request *r, struct zkp_acl *acl)
{
    union zkp_request_body *u = &r->u;
    struct jute_str path = jute_str_c(q->path);
    memset(r, 0, sizeof *r);
    r->xid = q->cxid;
    r->op = q->type;
    switch (q->type) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        u->create = (struct zkp_create_req){ path, data_of(q->data, q->data_len), acl_of(q, acl),
                                             q->flags, q->type == ZOO_CREATE_TTL_OP ? q->ttl_ms : 0 };
        return 0;
    case ZOO_GETACL_OP: case ZOO_SYNC_OP: case ZOO_GET_EPHEMERALS_OP:
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP:
        u->path.path = path;
        return 0;
    case ZOO_EXISTS_OP: case ZOO_GETDATA_OP: case ZOO_GETCHILDREN_OP: case ZOO_GETCHILDREN2_OP:
        u->path_watch = (struct zkp_path_watch_req){ path, (q->flags & 1) != 0 };
        return 0;
    case ZOO_DELETE_OP: case ZOO_CHECK_OP:
        u->path_version = (struct zkp_path_version_req){ path, q->version };
        return 0;
    case ZOO_SETDATA_OP:
        u->set_data = (struct zkp_set_data_req){ path, data_of(q->data, q->data_len), q->version };
        return 0;
    case ZOO_SETACL_OP:
        u->set_acl = (struct zkp_set_acl_req){ path, acl_of(q, acl), q->version };
        return 0;
    case ZOO_CHECK_WATCHES_OP: case ZOO_REMOVE_WATCHES_OP: case ZOO_ADD_WATCH_OP:
        u->path_type = (struct zkp_path_type_req){ path, q->flags };
        return 0;
    case ZOO_SETAUTH_OP:
        u->auth = (struct zkp_auth_req){ 0, path, data_of(q->data, q->data_len) };
        return 0;
    case ZOO_PING_OP: case ZOO_CLOSE_SESSION_OP: case ZOO_WHO_AM_I_OP:
        return 0;
    default:
        return -1;
    }
}

static void wr_request(struct jute_wr *wr, const void *arg)
{
    size_t mark = zkp_frame_begin(wr);
    zkp_encode_request(wr, arg);
    zkp_frame_end(wr, mark);
}

static uint32_t acl_total(const struct zk_request *r)
{
    uint64_t n = r->acl ? r->acl_count : 0;
    for (uint32_t i = 0; r->ops && i < r->op_count; i++)
        n += r->ops[i].acl ? r->ops[i].acl_count : 0;
    return n > ZK_ACL_MAX * (uint64_t)(ZK_MULTI_MAX + 1) ? UINT32_MAX : (uint32_t)n;
}

int zkw_encode_request(const struct zk_request *r, struct zkw_buf *b)
{
    bool multi = r->type == ZOO_MULTI_OP || r->type == ZOO_MULTI_READ_OP;
    uint32_t n_ops = multi && r->ops ? r->op_count : 0, n_acl = acl_total(r);
    if (n_ops > ZK_MULTI_MAX || n_acl == UINT32_MAX || (multi && r->op_count && !r->ops))
        return -1;
    struct zkp_acl *acl = n_acl ? calloc(n_acl, sizeof *acl) : NULL;
    struct zkp_request *subs = n_ops ? calloc(n_ops, sizeof *subs) : NULL;
    int rc = (n_acl && !acl) || (n_ops && !subs) ? -1 : 0;
    struct zkp_request top;
    memset(&top, 0, sizeof top);
    top.xid = r->cxid;
    top.op = r->type;
    if (rc == 0 && multi) {
        uint32_t used = 0;
        for (uint32_t i = 0; i < n_ops && rc == 0; i++) {
            const struct zk_request *q = &r->ops[i];
            rc = fill_simple(q, &subs[i], acl ? acl + used : NULL);
            used += q->acl ? q->acl_count : 0;
        }
        top.u.multi = (struct zkp_multi_req){ subs, (int32_t)n_ops };
    } else if (rc == 0) {
        rc = fill_simple(r, &top, acl);
    }
    if (rc == 0)
        rc = zkw_buf_write(b, wr_request, &top);
    free(acl);
    free(subs);
    return rc;
}

/* jute strings of a watch list, in a fresh array (*store, freed by caller). */
static int str_vec_of(const struct watch_list *l, struct jute_str **store, struct zkp_str_vec *v)
{
    *store = NULL;
    *v = (struct zkp_str_vec){ NULL, 0 };
    if (l->count == 0 || l->paths == NULL)
        return 0;
    if (l->count > INT32_MAX || (*store = calloc(l->count, sizeof **store)) == NULL)
        return -1;
    for (uint32_t i = 0; i < l->count; i++)
        (*store)[i] = jute_str_c(l->paths[i]);
    *v = (struct zkp_str_vec){ *store, (int32_t)l->count };
    return 0;
}

int zkw_encode_set_watches(int32_t xid, const struct zks_set_watches *sw, struct zkw_buf *b)
{
    struct zkp_request r;
    memset(&r, 0, sizeof r);
    r.xid = xid;
    r.op = sw->persistent.count || sw->recursive.count ? ZOO_SETWATCHES2_OP : ZOO_SETWATCHES_OP;
    struct zkp_set_watches_req *s = &r.u.set_watches;
    s->relative_zxid = sw->relative_zxid;
    struct jute_str *st[5];
    int rc = str_vec_of(&sw->data, &st[0], &s->data_watches);
    rc |= str_vec_of(&sw->exist, &st[1], &s->exist_watches);
    rc |= str_vec_of(&sw->child, &st[2], &s->child_watches);
    rc |= str_vec_of(&sw->persistent, &st[3], &s->persistent_watches);
    rc |= str_vec_of(&sw->recursive, &st[4], &s->persistent_recursive_watches);
    if (rc == 0)
        rc = zkw_buf_write(b, wr_request, &r);
    for (int i = 0; i < 5; i++)
        free(st[i]);
    return rc ? -1 : 0;
}

static void wr_connect(struct jute_wr *wr, const void *arg)
{
    size_t mark = zkp_frame_begin(wr);
    zkp_encode_connect_req(wr, arg);
    zkp_frame_end(wr, mark);
}

int zkw_encode_connect(const struct zkw_connect *c, struct zkw_buf *b)
{
    struct zkp_connect_req r = { c->protocol_version, c->req.last_zxid_seen, c->req.timeout_ms,
                                 c->req.session_id, { c->req.passwd, SESSION_PASSWD_LEN },
                                 c->read_only, c->long_form };
    return zkw_buf_write(b, wr_connect, &r);
}

/* ---- replies ---------------------------------------------------------------- */

void zkw_reply_free(struct zkw_reply *r)
{
    if (r == NULL)
        return;
    free(r->mem);
    memset(r, 0, sizeof *r);
}

/* Copies the payload into r->mem, followed by arena_cap bytes of arena. */
static const uint8_t *reply_copy(struct zkw_reply *r, const uint8_t *payload, size_t len,
                                 size_t arena_cap, struct zkp_arena *a)
{
    size_t off = (len + 7u) & ~(size_t)7u;
    free(r->mem);
    r->mem = malloc(off + arena_cap + 1);
    if (r->mem == NULL)
        return NULL;
    if (len)
        memcpy(r->mem, payload, len);
    zkp_arena_init(a, (uint8_t *)r->mem + off, arena_cap);
    return r->mem;
}

int zkw_decode_connect_resp(const uint8_t *payload, size_t len, struct zkw_reply *out)
{
    memset(out, 0, sizeof *out);
    struct zkp_arena a;
    const uint8_t *p = reply_copy(out, payload, len, 0, &a);
    if (p == NULL || zkp_decode_connect_resp(p, len, &out->connect, &out->long_form) != JUTE_OK) {
        zkw_reply_free(out);
        return ZMARSHALLINGERROR;
    }
    out->kind = ZKW_REPLY_CONNECTED;
    return ZOK;
}

/* The op of a reply's xid: reserved xids have fixed ops (and no body). */
static int32_t reply_op(int32_t xid, int32_t (*op_of_xid)(void *, int32_t), void *arg)
{
    switch (xid) {
    case ZKP_XID_PING: return ZOO_PING_OP;
    case ZKP_XID_AUTH: return ZOO_SETAUTH_OP;
    case ZKP_XID_SET_WATCHES: return ZOO_SETWATCHES_OP;
    default: return op_of_xid ? op_of_xid(arg, xid) : ZOO_ERROR_OP;
    }
}

/* Body of a successful reply; the arena grows while too small, bounded by
 * 32 bytes of vectors per payload byte (denser than any layout needs). */
static int decode_reply_body(const uint8_t *payload, size_t len, struct zkw_reply *out)
{
    size_t cap = 2 * len + 256, max = 32 * len + 4096;
    for (;;) {
        struct zkp_arena a;
        const uint8_t *p = reply_copy(out, payload, len, cap, &a);
        if (p == NULL)
            return ZKP_E_ARENA_FULL;
        struct jute_rd rd;
        jute_rd_init(&rd, p, len);
        struct zkp_reply_header h;
        zkp_decode_reply_header(&rd, &h);
        int err = zkp_decode_response_body(&rd, out->op, &out->body, &a);
        if (err == ZKP_E_ARENA_FULL && cap < max) {
            cap = 2 * cap < max ? 2 * cap : max;
            continue;
        }
        if (!err && jute_rd_left(&rd) != 0)
            err = ZKP_E_TRAILING;
        return err;
    }
}

static int decode_header_only(const uint8_t *payload, size_t len, struct zkw_reply *out)
{
    struct zkp_arena a;
    const uint8_t *p = reply_copy(out, payload, len, 0, &a);
    if (p == NULL)
        return ZKP_E_ARENA_FULL;
    struct jute_rd rd;
    jute_rd_init(&rd, p, len);
    struct zkp_reply_header h;
    zkp_decode_reply_header(&rd, &h);
    if (out->kind == ZKW_REPLY_WATCH)
        zkp_decode_watcher_event(&rd, &out->event);
    if (!rd.err && jute_rd_left(&rd) != 0)
        rd.err = ZKP_E_TRAILING;
    return rd.err;
}

int zkw_decode_reply(const uint8_t *payload, size_t len,
                     int32_t (*op_of_xid)(void *arg, int32_t xid), void *arg,
                     struct zkw_reply *out)
{
    memset(out, 0, sizeof *out);
    struct jute_rd rd;
    jute_rd_init(&rd, payload, len);
    struct zkp_reply_header h;
    if (zkp_decode_reply_header(&rd, &h) != JUTE_OK)
        return ZMARSHALLINGERROR;
    out->xid = h.xid;
    out->zxid = h.zxid;
    out->err = h.err;
    int err;
    if (h.xid == ZKP_XID_NOTIFICATION) {
        out->kind = ZKW_REPLY_WATCH;
        err = decode_header_only(payload, len, out);
    } else {
        out->kind = ZKW_REPLY_REPLY;
        out->op = reply_op(h.xid, op_of_xid, arg);
        bool body = h.err == ZOK && h.xid != ZKP_XID_PING && h.xid != ZKP_XID_AUTH &&
                    h.xid != ZKP_XID_SET_WATCHES;
        if (out->op == ZOO_ERROR_OP)
            err = ZKP_E_UNKNOWN_OP;
        else
            err = body ? decode_reply_body(payload, len, out) : decode_header_only(payload, len, out);
    }
    if (err != JUTE_OK) {
        zkw_reply_free(out);
        return ZMARSHALLINGERROR;
    }
    return ZOK;
}
