/* zk_wire (server side): frame payloads -> zk_server inputs, zk_server
 * outputs -> frames, and the growable output buffer both sides share.
 * The client side is in core/zk_wire_client.c.
 *
 * Owns: the op -> zk_request field mapping, the error policy stated in
 * core/zk_wire.h, and the storage of a decoded request (one block, sized by
 * a measuring pass before anything is copied).
 * Never: I/O, clocks, globals; never truncate a string (a NUL inside one
 * is an error for the xid); never keep a pointer into the caller's payload. */
#include "core/zk_wire.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/zk_wire_internal.h"

_Static_assert((int)ZOO_CREATE_OP == (int)ZOO_CREATE_OP && (int)ZOO_MULTI_OP == (int)ZOO_MULTI_OP &&
                   (int)ZOO_CLOSE_SESSION_OP == (int)ZOO_CLOSE_SESSION_OP &&
                   (int)ZOO_SETWATCHES2_OP == (int)ZOO_SETWATCHES2_OP &&
                   (int)ZOO_WHO_AM_I_OP == (int)ZOO_WHO_AM_I_OP,
               "zk_types and zk_proto opcodes must agree");
_Static_assert(SESSION_PASSWD_LEN == ZKP_PASSWD_LEN, "password lengths must agree");

/* ---- output buffer ------------------------------------------------------- */

void zkw_buf_free(struct zkw_buf *b)
{
    if (b == NULL)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool buf_reserve(struct zkw_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

/* Runs fn on the free tail of b, growing b until the frame fits (at most
 * ZKW_FRAME_MAX). A failed attempt leaves b->len unchanged. */
int zkw_buf_write(struct zkw_buf *b, zkw_wr_fn *fn, const void *arg)
{
    size_t want = 256;
    for (;;) {
        if (!buf_reserve(b, want))
            return -1;
        struct jute_wr wr;
        jute_wr_init(&wr, b->p + b->len, b->cap - b->len);
        fn(&wr, arg);
        if (wr.err == JUTE_OK && wr.pos <= ZKW_FRAME_MAX) {
            b->len += wr.pos;
            return 0;
        }
        if (wr.err != JUTE_E_OVERFLOW || want >= ZKW_FRAME_MAX)
            return -1;
        want = 2 * (b->cap - b->len);
        if (want > ZKW_FRAME_MAX)
            want = ZKW_FRAME_MAX;
    }
}

/* ---- decoding requests: classification and storage ----------------------- */

enum op_class {
    OPC_UNIMPLEMENTED,  /* answered ZUNIMPLEMENTED without parsing the body */
    OPC_CLIENT,         /* a zk_request */
    OPC_MULTI,
    OPC_MULTI_READ,     /* getData/getChildren only */
    OPC_SET_WATCHES,
};

static enum op_class op_class_of(int32_t op)
{
    switch (op) {
    case ZOO_CREATE_OP: case ZOO_DELETE_OP: case ZOO_EXISTS_OP: case ZOO_GETDATA_OP:
    case ZOO_SETDATA_OP: case ZOO_GETACL_OP: case ZOO_SETACL_OP: case ZOO_GETCHILDREN_OP:
    case ZOO_SYNC_OP: case ZOO_PING_OP: case ZOO_GETCHILDREN2_OP: case ZOO_CHECK_OP:
    case ZOO_CREATE2_OP: case ZOO_CHECK_WATCHES_OP: case ZOO_REMOVE_WATCHES_OP:
    case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP: case ZOO_SETAUTH_OP:
    case ZOO_GET_EPHEMERALS_OP: case ZOO_GET_ALL_CHILDREN_NUMBER_OP: case ZOO_ADD_WATCH_OP:
    case ZOO_WHO_AM_I_OP: case ZOO_CLOSE_SESSION_OP:
        return OPC_CLIENT;
    case ZOO_MULTI_OP: return OPC_MULTI;
    case ZOO_MULTI_READ_OP: return OPC_MULTI_READ;
    case ZOO_SETWATCHES_OP: case ZOO_SETWATCHES2_OP: return OPC_SET_WATCHES;
    default: return OPC_UNIMPLEMENTED;
    }
}

/* Which wire fields of a (non-multi) request land in which zk_request
 * fields. Shared by the measuring and the copying pass. */
struct req_view {
    const struct jute_str *path;
    const struct jute_buf *data;
    const struct zkp_acl_vec *acl;
    int32_t flags, version;
    int64_t ttl_ms;
};

static void view_of(const struct zkp_request *r, struct req_view *v)
{
    const union zkp_request_body *u = &r->u;
    *v = (struct req_view){ .version = -1, .ttl_ms = -1 };
    switch (r->op) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        *v = (struct req_view){ &u->create.path, &u->create.data, &u->create.acl,
                                u->create.flags, -1,
                                r->op == ZOO_CREATE_TTL_OP ? u->create.ttl_ms : -1 };
        break;
    case ZOO_GETACL_OP: case ZOO_SYNC_OP: case ZOO_GET_EPHEMERALS_OP:
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP:
        v->path = &u->path.path;
        break;
    case ZOO_EXISTS_OP: case ZOO_GETDATA_OP: case ZOO_GETCHILDREN_OP: case ZOO_GETCHILDREN2_OP:
        v->path = &u->path_watch.path;
        v->flags = u->path_watch.watch ? 1 : 0;
        break;
    case ZOO_DELETE_OP: case ZOO_CHECK_OP:
        v->path = &u->path_version.path;
        v->version = u->path_version.version;
        break;
    case ZOO_SETDATA_OP:
        v->path = &u->set_data.path;
        v->data = &u->set_data.data;
        v->version = u->set_data.version;
        break;
    case ZOO_SETACL_OP:
        v->path = &u->set_acl.path;
        v->acl = &u->set_acl.acl;
        v->version = u->set_acl.version;
        break;
    case ZOO_CHECK_WATCHES_OP: case ZOO_REMOVE_WATCHES_OP: case ZOO_ADD_WATCH_OP:
        v->path = &u->path_type.path;
        v->flags = u->path_type.type;
        break;
    case ZOO_SETAUTH_OP:
        v->path = &u->auth.scheme;
        v->data = &u->auth.auth;
        break;
    default: /* ping, closeSession, whoAmI: no body */
        break;
    }
}

/* Bump allocator over the request's one block; the measuring pass makes
 * running out an internal error. */
struct wmem {
    uint8_t *base;
    size_t cap, used;
};

static void *wm_alloc(struct wmem *m, size_t n)
{
    size_t start = (m->used + 7u) & ~(size_t)7u;
    assert(start <= m->cap && n <= m->cap - start);
    m->used = start + n;
    return m->base + start;
}

/* Upper bound of what one wm_alloc of n bytes uses. */
static size_t m_bytes(size_t n) { return n + 8u; }
static size_t m_run(int32_t len) { return m_bytes((len > 0 ? (size_t)len : 0) + 1u); }

static size_t measure_simple(const struct zkp_request *r)
{
    struct req_view v;
    view_of(r, &v);
    size_t n = 0;
    if (v.path)
        n += m_run(v.path->len);
    if (v.data)
        n += m_run(v.data->len);
    if (v.acl && v.acl->count > 0) /* conv_acl refuses more than ZK_ACL_MAX first */
        n += m_bytes((size_t)(v.acl->count < (int32_t)ZK_ACL_MAX ? v.acl->count : (int32_t)ZK_ACL_MAX) *
                     sizeof(struct zk_acl));
    return n;
}

static size_t measure_str_vec(const struct zkp_str_vec *v)
{
    if (v->count <= 0)
        return 0;
    size_t n = m_bytes((size_t)v->count * sizeof(char *));
    for (int32_t i = 0; i < v->count; i++)
        n += m_run(v->items[i].len);
    return n;
}

static size_t measure(const struct zkp_request *r)
{
    size_t n = 8;
    if (r->op == ZOO_MULTI_OP || r->op == ZOO_MULTI_READ_OP) {
        n += m_bytes((size_t)r->u.multi.count * sizeof(struct zk_request));
        for (int32_t i = 0; i < r->u.multi.count; i++)
            n += measure_simple(&r->u.multi.ops[i]);
    } else if (op_class_of(r->op) == OPC_SET_WATCHES) {
        const struct zkp_set_watches_req *s = &r->u.set_watches;
        n += measure_str_vec(&s->data_watches) + measure_str_vec(&s->exist_watches) +
             measure_str_vec(&s->child_watches) + measure_str_vec(&s->persistent_watches) +
             measure_str_vec(&s->persistent_recursive_watches);
    } else {
        n += measure_simple(r);
    }
    return n;
}

/* ---- decoding requests: copying into zk_request ------------------------- */

/* A NUL-terminated copy. NUL inside or longer than max: BADARGUMENTS
 * (a truncated path would name another node). Null (-1) is "". */
static int copy_cstr(struct wmem *m, struct jute_str s, size_t max, const char **out,
                     const char **why)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    if (n > max) {
        *why = "string longer than ZK_PATH_MAX";
        return ZBADARGUMENTS;
    }
    if (n && memchr(s.ptr, 0, n)) {
        *why = "NUL byte inside a string";
        return ZBADARGUMENTS;
    }
    char *p = wm_alloc(m, n + 1);
    if (n)
        memcpy(p, s.ptr, n);
    p[n] = '\0';
    *out = p;
    return ZOK;
}

static const uint8_t *copy_buf(struct wmem *m, struct jute_buf b, uint32_t *len)
{
    size_t n = b.len > 0 ? (size_t)b.len : 0;
    uint8_t *p = wm_alloc(m, n + 1);
    if (n)
        memcpy(p, b.ptr, n);
    *len = (uint32_t)n;
    return p;
}

/* Copies s into a fixed char array of cap bytes; false if it does not fit
 * or holds a NUL. */
static bool fixed_copy(char *dst, size_t cap, struct jute_str s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    if (n >= cap || (n && memchr(s.ptr, 0, n)))
        return false;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
    return true;
}

static int conv_acl(struct wmem *m, const struct zkp_acl_vec *v, struct zk_request *q,
                    const char **why)
{
    if (v->count <= 0)
        return ZOK;
    if ((uint32_t)v->count > ZK_ACL_MAX) {
        *why = "more than ZK_ACL_MAX ACL entries";
        return ZINVALIDACL;
    }
    struct zk_acl *acl = wm_alloc(m, (size_t)v->count * sizeof *acl);
    for (int32_t i = 0; i < v->count; i++) {
        memset(&acl[i], 0, sizeof acl[i]);
        acl[i].perms = v->items[i].perms;
        if (!fixed_copy(acl[i].id.scheme, sizeof acl[i].id.scheme, v->items[i].scheme) ||
            !fixed_copy(acl[i].id.id, sizeof acl[i].id.id, v->items[i].id)) {
            *why = "ACL scheme or id too long or holding a NUL byte";
            return ZINVALIDACL;
        }
    }
    q->acl = acl;
    q->acl_count = (uint32_t)v->count;
    return ZOK;
}

static int conv_simple(struct wmem *m, const struct zkp_request *r, int32_t xid,
                       struct zk_request *q, const char **why)
{
    struct req_view v;
    view_of(r, &v);
    memset(q, 0, sizeof *q);
    q->type = r->op;
    q->cxid = xid;
    q->flags = v.flags;
    q->version = v.version;
    q->ttl_ms = v.ttl_ms;
    int rc = ZOK;
    /* getEphemerals: null or empty prefix means every ephemeral node. */
    bool all = r->op == ZOO_GET_EPHEMERALS_OP && v.path && v.path->len <= 0;
    if (v.path && !all)
        rc = copy_cstr(m, *v.path, ZK_PATH_MAX, &q->path, why);
    if (rc == ZOK && v.data)
        q->data = copy_buf(m, *v.data, &q->data_len);
    if (rc == ZOK && v.acl)
        rc = conv_acl(m, v.acl, q, why);
    return rc;
}

static bool multi_sub_ok(int32_t op)
{
    switch (op) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
    case ZOO_DELETE_OP: case ZOO_SETDATA_OP: case ZOO_CHECK_OP:
        return true;
    default:
        return false;
    }
}

static bool multi_read_sub_ok(int32_t op)
{
    return op == ZOO_GETDATA_OP || op == ZOO_GETCHILDREN_OP;
}

/* multi and multiRead: the top request keeps r->op. */
static int conv_multi(struct wmem *m, const struct zkp_request *r, int32_t xid,
                      struct zk_request *q, const char **why)
{
    const struct zkp_multi_req *mr = &r->u.multi;
    memset(q, 0, sizeof *q);
    q->type = r->op;
    q->cxid = xid;
    q->version = -1;
    q->ttl_ms = -1;
    if (mr->count <= 0)
        return ZOK;
    struct zk_request *ops = wm_alloc(m, (size_t)mr->count * sizeof *ops);
    for (int32_t i = 0; i < mr->count; i++) {
        int rc = conv_simple(m, &mr->ops[i], xid, &ops[i], why);
        if (rc != ZOK)
            return rc;
    }
    q->ops = ops;
    q->op_count = (uint32_t)mr->count;
    return ZOK;
}

static int conv_watch_list(struct wmem *m, const struct zkp_str_vec *v, struct watch_list *out,
                           const char **why)
{
    out->paths = NULL;
    out->count = 0;
    if (v->count <= 0)
        return ZOK;
    const char **paths = wm_alloc(m, (size_t)v->count * sizeof *paths);
    for (int32_t i = 0; i < v->count; i++) {
        int rc = copy_cstr(m, v->items[i], ZK_PATH_MAX, &paths[i], why);
        if (rc != ZOK)
            return rc;
    }
    out->paths = paths;
    out->count = (uint32_t)v->count;
    return ZOK;
}

static int conv_set_watches(struct wmem *m, const struct zkp_request *r, int32_t xid,
                            struct zks_set_watches *sw, const char **why)
{
    const struct zkp_set_watches_req *s = &r->u.set_watches;
    memset(sw, 0, sizeof *sw);
    sw->xid = xid;
    sw->relative_zxid = s->relative_zxid;
    int rc = conv_watch_list(m, &s->data_watches, &sw->data, why);
    if (rc == ZOK)
        rc = conv_watch_list(m, &s->exist_watches, &sw->exist, why);
    if (rc == ZOK)
        rc = conv_watch_list(m, &s->child_watches, &sw->child, why);
    if (rc == ZOK)
        rc = conv_watch_list(m, &s->persistent_watches, &sw->persistent, why);
    if (rc == ZOK)
        rc = conv_watch_list(m, &s->persistent_recursive_watches, &sw->recursive, why);
    return rc;
}

/* ---- decoding requests: entry points ------------------------------------- */

/* Decodes the body after the header into zr, its vectors in a heap arena
 * (*arena_mem, the caller frees it) that grows while it is too small: the
 * first try fits ordinary requests; the bound (16 bytes of vectors per byte
 * of body covers the densest layout) keeps a forged one from costing more. */
static int decode_body(const struct jute_rd *rd0, int32_t op, struct zkp_request *zr,
                       void **arena_mem)
{
    size_t left = jute_rd_left(rd0);
    size_t cap = 2 * left + 256, max = 16 * left + 4096;
    *arena_mem = NULL;
    for (;;) {
        void *mem = malloc(cap);
        if (mem == NULL)
            return ZKP_E_ARENA_FULL;
        struct zkp_arena a;
        zkp_arena_init(&a, mem, cap);
        struct jute_rd rd = *rd0;
        int err = zkp_decode_request_body(&rd, op, zr, &a);
        if (err == ZKP_E_ARENA_FULL && cap < max) {
            free(mem);
            cap = 2 * cap < max ? 2 * cap : max;
            continue;
        }
        if (!err && jute_rd_left(&rd) != 0)
            err = ZKP_E_TRAILING;
        *arena_mem = mem;
        return err;
    }
}

/* Checks done before measuring: what the connection must not survive
 * (ZMARSHALLINGERROR) and what only this xid fails. */
static int precheck(const struct zkp_request *zr, const char **why)
{
    bool reads = zr->op == ZOO_MULTI_READ_OP;
    if (zr->op != ZOO_MULTI_OP && !reads)
        return ZOK;
    if ((uint32_t)zr->u.multi.count > ZK_MULTI_MAX) {
        *why = "multi with more than ZK_MULTI_MAX operations";
        return ZMARSHALLINGERROR;
    }
    for (int32_t i = 0; i < zr->u.multi.count; i++) {
        int32_t op = zr->u.multi.ops[i].op;
        if (reads ? !multi_read_sub_ok(op) : !multi_sub_ok(op)) {
            *why = reads ? "write operation inside multiRead" : "read operation inside multi";
            return ZBADARGUMENTS;
        }
    }
    return ZOK;
}

static int convert(const struct zkp_request *zr, struct zkw_request *out)
{
    int rc = precheck(zr, &out->why);
    if (rc != ZOK)
        return rc;
    size_t need = measure(zr);
    out->mem = malloc(need);
    if (out->mem == NULL) {
        out->why = "out of memory";
        return ZMARSHALLINGERROR;
    }
    struct wmem m = { out->mem, need, 0 };
    if (op_class_of(zr->op) == OPC_SET_WATCHES) {
        out->kind = ZKW_REQ_SET_WATCHES;
        return conv_set_watches(&m, zr, out->xid, &out->sw, &out->why);
    }
    out->kind = ZKW_REQ_CLIENT;
    if (zr->op == ZOO_MULTI_OP || zr->op == ZOO_MULTI_READ_OP)
        return conv_multi(&m, zr, out->xid, &out->req, &out->why);
    return conv_simple(&m, zr, out->xid, &out->req, &out->why);
}

static void request_clear_keep_header(struct zkw_request *r)
{
    free(r->mem);
    r->mem = NULL;
    r->kind = ZKW_REQ_NONE;
    memset(&r->req, 0, sizeof r->req);
    memset(&r->sw, 0, sizeof r->sw);
}

int zkw_decode_request(const uint8_t *payload, size_t len, const struct zkw_limits *lim,
                       struct zkw_request *out)
{
    memset(out, 0, sizeof *out);
    out->why = "";
    struct jute_rd rd;
    jute_rd_init(&rd, payload, len);
    rd.len_max = lim && lim->field_max ? lim->field_max : ZKP_PACKET_MAX_DEFAULT;
    int32_t xid = jute_rd_int(&rd);
    int32_t op = jute_rd_int(&rd);
    if (rd.err) {
        out->why = "request shorter than its 8-byte header";
        return ZMARSHALLINGERROR;
    }
    out->has_header = true;
    out->xid = xid;
    out->op = op;
    if (op_class_of(op) == OPC_UNIMPLEMENTED) {
        out->why = "opcode not implemented";
        return ZUNIMPLEMENTED;
    }
    struct zkp_request zr;
    void *arena = NULL;
    int err = decode_body(&rd, op, &zr, &arena);
    int rc;
    if (err) {
        out->why = zkp_strerror(err);
        rc = ZMARSHALLINGERROR;
    } else {
        rc = convert(&zr, out);
    }
    free(arena);
    if (rc != ZOK)
        request_clear_keep_header(out);
    return rc;
}

void zkw_request_free(struct zkw_request *r)
{
    if (r == NULL)
        return;
    free(r->mem);
    memset(r, 0, sizeof *r);
}

/* ---- ConnectRequest -------------------------------------------------------- */

int zkw_decode_connect(const uint8_t *payload, size_t len, struct zkw_connect *out)
{
    memset(out, 0, sizeof *out);
    struct zkp_connect_req r;
    if (zkp_decode_connect_req(payload, len, &r) != JUTE_OK)
        return ZMARSHALLINGERROR;
    out->protocol_version = r.protocol_version;
    out->req.session_id = r.session_id;
    out->req.last_zxid_seen = r.last_zxid_seen;
    out->req.timeout_ms = r.timeout_ms;
    /* Any other length stays all zero: for an existing session that is a
     * wrong password, which zk_server answers as an expired session. */
    if (r.passwd.len == SESSION_PASSWD_LEN)
        memcpy(out->req.passwd, r.passwd.ptr, SESSION_PASSWD_LEN);
    out->read_only = r.read_only;
    out->req.read_only = r.read_only;
    out->long_form = r.has_read_only;
    return ZOK;
}

/* ---- zks_out -> frame ------------------------------------------------------ */

void zkw_stat_to_wire(const struct zk_stat *s, struct zkp_stat *w)
{
    *w = (struct zkp_stat){ s->czxid, s->mzxid, s->ctime_ms, s->mtime_ms, s->version,
                            s->cversion, s->aversion, s->ephemeral_owner, s->data_length,
                            s->num_children, s->pzxid };
}

/* A string longer than jute can express gets length -2, which the writer
 * refuses (JUTE_E_ARG): the frame fails instead of going out wrong. */
static struct jute_str zs(struct zks_str s)
{
    if (s.s == NULL || s.len > INT32_MAX)
        return (struct jute_str){ "", s.s == NULL ? 0 : -2 };
    return (struct jute_str){ s.s, (int32_t)s.len };
}

static struct jute_str fixed_str(const char *s, size_t cap)
{
    return (struct jute_str){ s, (int32_t)strnlen(s, cap) };
}

/* Temporary arrays a REPLY body needs in zk_proto's shapes. */
struct resp_tmp {
    struct zkp_acl *acl;
    struct jute_str *strs;
    struct zkp_multi_result *ops;
    struct jute_str *op_strs;         /* multiRead getChildren results, back to back */
    struct zkp_client_info *ids;
};

static void resp_tmp_free(struct resp_tmp *t)
{
    free(t->acl);
    free(t->strs);
    free(t->ops);
    free(t->op_strs);
    free(t->ids);
}

static void *tmp_array(uint32_t n, size_t size, bool *oom)
{
    if (n == 0)
        return NULL;
    void *p = calloc(n, size);
    *oom |= p == NULL;
    return p;
}

/* Counts go out only with their arrays: a count without one (never made
 * by zk_server) is written as an empty vector rather than read from NULL. */
static void resp_vectors(const struct zks_out *o, struct zkp_response *r, struct resp_tmp *t)
{
    uint32_t n_acl = t->acl ? o->acl_count : 0, n_strs = t->strs ? o->n_strs : 0;
    uint32_t n_ops = t->ops ? o->n_ops : 0, n_ids = t->ids ? o->n_ids : 0;
    for (uint32_t i = 0; i < n_acl; i++) {
        const struct zk_acl *a = &o->acl[i];
        t->acl[i] = (struct zkp_acl){ a->perms, fixed_str(a->id.scheme, sizeof a->id.scheme),
                                      fixed_str(a->id.id, sizeof a->id.id) };
    }
    r->acl = (struct zkp_acl_vec){ t->acl, (int32_t)n_acl };
    for (uint32_t i = 0; i < n_strs; i++)
        t->strs[i] = zs(o->strs[i]);
    r->children = (struct zkp_str_vec){ t->strs, (int32_t)n_strs };
    uint32_t used = 0;
    for (uint32_t i = 0; i < n_ops; i++) {
        const struct zks_op_result *x = &o->ops[i];
        struct zkp_multi_result *y = &t->ops[i];
        *y = (struct zkp_multi_result){ .op = x->type, .err = x->err, .path = zs(x->path) };
        zkw_stat_to_wire(&x->stat, &y->stat);
        y->data = (struct jute_buf){ x->data, x->data ? (int32_t)x->data_len : 0 };
        uint32_t k = x->strs && t->op_strs ? x->n_strs : 0;
        for (uint32_t j = 0; j < k; j++)
            t->op_strs[used + j] = zs(x->strs[j]);
        y->children = (struct zkp_str_vec){ k ? t->op_strs + used : NULL, (int32_t)k };
        used += k;
    }
    r->multi.items = t->ops;
    r->multi.count = (int32_t)n_ops;
    for (uint32_t i = 0; i < n_ids; i++) {
        const struct zk_id *d = &o->ids[i];
        t->ids[i] = (struct zkp_client_info){ fixed_str(d->scheme, sizeof d->scheme),
                                              fixed_str(d->id, sizeof d->id) };
    }
    r->clients.items = t->ids;
    r->clients.count = (int32_t)n_ids;
}

/* zks_out REPLY -> zk_proto's response; -1 when out of memory or when a
 * count cannot be expressed. */
static int resp_build(const struct zks_out *o, struct zkp_response *r, struct resp_tmp *t)
{
    memset(r, 0, sizeof *r);
    memset(t, 0, sizeof *t);
    if (o->acl_count > INT32_MAX || o->n_strs > INT32_MAX || o->n_ops > INT32_MAX ||
        o->n_ids > INT32_MAX || o->data_len > INT32_MAX)
        return -1;
    bool oom = false;
    t->acl = o->acl ? tmp_array(o->acl_count, sizeof *t->acl, &oom) : NULL;
    t->strs = o->strs ? tmp_array(o->n_strs, sizeof *t->strs, &oom) : NULL;
    t->ops = o->ops ? tmp_array(o->n_ops, sizeof *t->ops, &oom) : NULL;
    uint64_t n_op_strs = 0;
    for (uint32_t i = 0; o->ops && i < o->n_ops; i++) {
        if (o->ops[i].data_len > INT32_MAX)
            return -1;
        n_op_strs += o->ops[i].strs ? o->ops[i].n_strs : 0;
    }
    if (n_op_strs > INT32_MAX)
        return -1;
    t->op_strs = tmp_array((uint32_t)n_op_strs, sizeof *t->op_strs, &oom);
    t->ids = o->ids ? tmp_array(o->n_ids, sizeof *t->ids, &oom) : NULL;
    if (oom)
        return -1;
    r->op = o->op;
    r->path = zs(o->path);
    zkw_stat_to_wire(&o->stat, &r->stat);
    r->data = (struct jute_buf){ o->data, o->data ? (int32_t)o->data_len : 0 };
    r->number = o->number;
    resp_vectors(o, r, t);
    return 0;
}

struct out_ctx {
    const struct zks_out *o;
    bool long_form;
    const struct zkp_reply_header *h;
    const struct zkp_response *resp;
};

static void wr_connected(struct jute_wr *wr, const void *arg)
{
    const struct out_ctx *c = arg;
    struct zkp_connect_resp r = { 0, c->o->timeout_ms, c->o->session_id,
                                  { c->o->passwd, SESSION_PASSWD_LEN }, c->o->read_only };
    size_t mark = zkp_frame_begin(wr);
    zkp_encode_connect_resp(wr, &r, c->long_form);
    zkp_frame_end(wr, mark);
}

static void wr_reply(struct jute_wr *wr, const void *arg)
{
    const struct out_ctx *c = arg;
    zkp_encode_reply_frame(wr, c->h, c->resp);
}

static void wr_watch(struct jute_wr *wr, const void *arg)
{
    const struct out_ctx *c = arg;
    zkp_encode_notification_frame(wr, c->o->zxid, c->o->event, ZOO_STATE_SYNC_CONNECTED,
                                  zs(c->o->path));
}

static int encode_reply(const struct zks_out *o, struct zkw_buf *b)
{
    struct zkp_reply_header h = { o->xid, o->zxid, o->err };
    struct out_ctx c = { o, false, &h, NULL };
    if (o->err != ZOK)
        return zkw_buf_write(b, wr_reply, &c);
    struct zkp_response r;
    struct resp_tmp t;
    int rc = resp_build(o, &r, &t);
    if (rc == 0) {
        c.resp = &r;
        rc = zkw_buf_write(b, wr_reply, &c);
    }
    resp_tmp_free(&t);
    return rc;
}

int zkw_encode_out(const struct zks_out *o, bool long_form, struct zkw_buf *b)
{
    struct out_ctx c = { o, long_form, NULL, NULL };
    switch (o->kind) {
    case ZKS_OUT_CONNECTED: return zkw_buf_write(b, wr_connected, &c);
    case ZKS_OUT_REPLY: return encode_reply(o, b);
    case ZKS_OUT_WATCH: return zkw_buf_write(b, wr_watch, &c);
    case ZKS_OUT_CLOSE: return 0;
    default: return -1;
    }
}

int zkw_encode_error(int32_t xid, int64_t zxid, int32_t err, struct zkw_buf *b)
{
    struct zkp_reply_header h = { xid, zxid, err };
    struct out_ctx c = { NULL, false, &h, NULL };
    return zkw_buf_write(b, wr_reply, &c);
}
