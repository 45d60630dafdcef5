/* ZooKeeper client-protocol records over jute primitives. Owns the mapping
 * opcode -> record layout for requests, responses and multi sub-records.
 * Must never read beyond a packet, allocate outside the caller's arena, or
 * accept a record with bytes left over (a short or long record means the two
 * sides disagree about the layout, and guessing would corrupt the session). */
#include "core/zk_proto.h"

#include <assert.h>
#include <string.h>

/* Smallest wire sizes of vector elements, used to bound counts. */
#define ACL_MIN_BYTES 12u   /* perms + two ustring lengths */
#define STR_MIN_BYTES 4u
#define MULTI_HDR_BYTES 9u  /* int type + bool done + int err */

const char *zkp_strerror(int err)
{
    switch (err) {
    case ZKP_E_UNKNOWN_OP: return "unknown opcode";
    case ZKP_E_TRAILING: return "bytes after end of record";
    case ZKP_E_ARENA_FULL: return "decoded vectors exceed the arena";
    case ZKP_E_MULTI_OP: return "operation not allowed inside multi";
    case ZKP_E_MULTI_END: return "multi without terminating header";
    case ZKP_E_FRAME_NEG: return "negative frame length";
    case ZKP_E_FRAME_TOO_BIG: return "frame length exceeds maximum";
    default: return jute_strerror(err);
    }
}

const char *zkp_op_name(int32_t op)
{
    switch (op) {
    case ZOO_NOTIFY_OP: return "notification";
    case ZOO_CREATE_OP: return "create";
    case ZOO_DELETE_OP: return "delete";
    case ZOO_EXISTS_OP: return "exists";
    case ZOO_GETDATA_OP: return "getData";
    case ZOO_SETDATA_OP: return "setData";
    case ZOO_GETACL_OP: return "getACL";
    case ZOO_SETACL_OP: return "setACL";
    case ZOO_GETCHILDREN_OP: return "getChildren";
    case ZOO_SYNC_OP: return "sync";
    case ZOO_PING_OP: return "ping";
    case ZOO_GETCHILDREN2_OP: return "getChildren2";
    case ZOO_CHECK_OP: return "check";
    case ZOO_MULTI_OP: return "multi";
    case ZOO_CREATE2_OP: return "create2";
    case ZOO_RECONFIG_OP: return "reconfig";
    case ZOO_CHECK_WATCHES_OP: return "checkWatches";
    case ZOO_REMOVE_WATCHES_OP: return "removeWatches";
    case ZOO_CREATE_CONTAINER_OP: return "createContainer";
    case ZOO_DELETE_CONTAINER_OP: return "deleteContainer";
    case ZOO_CREATE_TTL_OP: return "createTTL";
    case ZOO_MULTI_READ_OP: return "multiRead";
    case ZOO_SETAUTH_OP: return "auth";
    case ZOO_SETWATCHES_OP: return "setWatches";
    case ZOO_SASL_OP: return "sasl";
    case ZOO_GET_EPHEMERALS_OP: return "getEphemerals";
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP: return "getAllChildrenNumber";
    case ZOO_SETWATCHES2_OP: return "setWatches2";
    case ZOO_ADD_WATCH_OP: return "addWatch";
    case ZOO_WHO_AM_I_OP: return "whoAmI";
    case ZOO_CREATE_SESSION_OP: return "createSession";
    case ZOO_CLOSE_SESSION_OP: return "closeSession";
    case ZOO_ERROR_OP: return "error";
    default: return "unknown";
    }
}

/* ---- arena -------------------------------------------------------------- */

void zkp_arena_init(struct zkp_arena *a, void *mem, size_t cap)
{
    assert(mem != NULL || cap == 0);
    a->base = mem;
    a->cap = cap;
    a->used = 0;
}

void *zkp_arena_alloc(struct zkp_arena *a, size_t n, size_t size)
{
    if (!a || !a->base)
        return NULL;
    size_t start = (a->used + 7u) & ~(size_t)7u;
    if (start > a->cap || (size && n > (a->cap - start) / size))
        return NULL;
    a->used = start + n * size;
    return a->base + start;
}

/* Allocates an array for a decoded vector, failing the reader if it cannot.
 * count 0 still returns a valid (non-NULL) pointer when space allows. */
static void *rd_alloc(struct jute_rd *rd, struct zkp_arena *arena, int32_t count, size_t size)
{
    if (rd->err || count <= 0)
        return NULL;
    void *p = zkp_arena_alloc(arena, (size_t)count, size);
    if (!p)
        jute_rd_fail(rd, ZKP_E_ARENA_FULL);
    return p;
}

/* ---- data records -------------------------------------------------------- */

void zkp_encode_stat(struct jute_wr *wr, const struct zkp_stat *st)
{
    jute_wr_long(wr, st->czxid);
    jute_wr_long(wr, st->mzxid);
    jute_wr_long(wr, st->ctime_ms);
    jute_wr_long(wr, st->mtime_ms);
    jute_wr_int(wr, st->version);
    jute_wr_int(wr, st->cversion);
    jute_wr_int(wr, st->aversion);
    jute_wr_long(wr, st->ephemeral_owner);
    jute_wr_int(wr, st->data_length);
    jute_wr_int(wr, st->num_children);
    jute_wr_long(wr, st->pzxid);
}

void zkp_decode_stat(struct jute_rd *rd, struct zkp_stat *st)
{
    st->czxid = jute_rd_long(rd);
    st->mzxid = jute_rd_long(rd);
    st->ctime_ms = jute_rd_long(rd);
    st->mtime_ms = jute_rd_long(rd);
    st->version = jute_rd_int(rd);
    st->cversion = jute_rd_int(rd);
    st->aversion = jute_rd_int(rd);
    st->ephemeral_owner = jute_rd_long(rd);
    st->data_length = jute_rd_int(rd);
    st->num_children = jute_rd_int(rd);
    st->pzxid = jute_rd_long(rd);
}

static void rd_acl_vec(struct jute_rd *rd, struct zkp_acl_vec *v, struct zkp_arena *arena)
{
    v->count = jute_rd_count(rd, ACL_MIN_BYTES);
    v->items = rd_alloc(rd, arena, v->count, sizeof *v->items);
    for (int32_t i = 0; i < v->count && !rd->err; i++) {
        v->items[i].perms = jute_rd_int(rd);
        v->items[i].scheme = jute_rd_str(rd);
        v->items[i].id = jute_rd_str(rd);
    }
    if (rd->err)
        v->count = -1, v->items = NULL;
}

static void wr_acl_vec(struct jute_wr *wr, const struct zkp_acl_vec *v)
{
    jute_wr_int(wr, v->count < 0 ? -1 : v->count);
    for (int32_t i = 0; i < v->count; i++) {
        jute_wr_int(wr, v->items[i].perms);
        jute_wr_str(wr, v->items[i].scheme);
        jute_wr_str(wr, v->items[i].id);
    }
}

static void rd_str_vec(struct jute_rd *rd, struct zkp_str_vec *v, struct zkp_arena *arena)
{
    v->count = jute_rd_count(rd, STR_MIN_BYTES);
    v->items = rd_alloc(rd, arena, v->count, sizeof *v->items);
    for (int32_t i = 0; i < v->count && !rd->err; i++)
        v->items[i] = jute_rd_str(rd);
    if (rd->err)
        v->count = -1, v->items = NULL;
}

static void wr_str_vec(struct jute_wr *wr, const struct zkp_str_vec *v)
{
    jute_wr_int(wr, v->count < 0 ? -1 : v->count);
    for (int32_t i = 0; i < v->count; i++)
        jute_wr_str(wr, v->items[i]);
}

/* ---- handshake ---------------------------------------------------------- */

int zkp_decode_connect_req(const uint8_t *payload, size_t len, struct zkp_connect_req *out)
{
    struct jute_rd rd;
    jute_rd_init(&rd, payload, len);
    memset(out, 0, sizeof *out);
    out->protocol_version = jute_rd_int(&rd);
    out->last_zxid_seen = jute_rd_long(&rd);
    out->timeout_ms = jute_rd_int(&rd);
    out->session_id = jute_rd_long(&rd);
    out->passwd = jute_rd_buf(&rd);
    /* Pre-3.4 clients stop here; newer ones append readOnly. */
    if (jute_rd_left(&rd) >= 1) {
        out->read_only = jute_rd_bool(&rd);
        out->has_read_only = true;
    }
    if (!rd.err && jute_rd_left(&rd) != 0)
        rd.err = ZKP_E_TRAILING;
    return rd.err;
}

void zkp_encode_connect_req(struct jute_wr *wr, const struct zkp_connect_req *req)
{
    jute_wr_int(wr, req->protocol_version);
    jute_wr_long(wr, req->last_zxid_seen);
    jute_wr_int(wr, req->timeout_ms);
    jute_wr_long(wr, req->session_id);
    jute_wr_buf(wr, req->passwd);
    if (req->has_read_only)
        jute_wr_bool(wr, req->read_only);
}

void zkp_encode_connect_resp(struct jute_wr *wr, const struct zkp_connect_resp *resp,
                             bool with_read_only)
{
    jute_wr_int(wr, resp->protocol_version);
    jute_wr_int(wr, resp->timeout_ms);
    jute_wr_long(wr, resp->session_id);
    jute_wr_buf(wr, resp->passwd);
    if (with_read_only)
        jute_wr_bool(wr, resp->read_only);
}

int zkp_decode_connect_resp(const uint8_t *payload, size_t len, struct zkp_connect_resp *out,
                            bool *has_read_only)
{
    struct jute_rd rd;
    jute_rd_init(&rd, payload, len);
    memset(out, 0, sizeof *out);
    *has_read_only = false;
    out->protocol_version = jute_rd_int(&rd);
    out->timeout_ms = jute_rd_int(&rd);
    out->session_id = jute_rd_long(&rd);
    out->passwd = jute_rd_buf(&rd);
    if (jute_rd_left(&rd) >= 1) {
        out->read_only = jute_rd_bool(&rd);
        *has_read_only = true;
    }
    if (!rd.err && jute_rd_left(&rd) != 0)
        rd.err = ZKP_E_TRAILING;
    return rd.err;
}

/* ---- request bodies ----------------------------------------------------- */

/* Wire layout families: every request opcode maps to exactly one. */
enum req_layout {
    LAY_UNKNOWN, LAY_NONE, LAY_CREATE, LAY_CREATE_TTL, LAY_PATH, LAY_PATH_WATCH,
    LAY_PATH_VERSION, LAY_SET_DATA, LAY_SET_ACL, LAY_PATH_TYPE, LAY_AUTH,
    LAY_SET_WATCHES, LAY_SET_WATCHES2, LAY_MULTI,
};

static enum req_layout req_layout_of(int32_t op)
{
    switch (op) {
    case ZOO_PING_OP: case ZOO_CLOSE_SESSION_OP: case ZOO_WHO_AM_I_OP:
        return LAY_NONE;
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP:
        return LAY_CREATE;
    case ZOO_CREATE_TTL_OP: return LAY_CREATE_TTL;
    case ZOO_GETACL_OP: case ZOO_SYNC_OP: case ZOO_GET_EPHEMERALS_OP:
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP:
        return LAY_PATH;
    case ZOO_EXISTS_OP: case ZOO_GETDATA_OP: case ZOO_GETCHILDREN_OP:
    case ZOO_GETCHILDREN2_OP:
        return LAY_PATH_WATCH;
    case ZOO_DELETE_OP: case ZOO_CHECK_OP: return LAY_PATH_VERSION;
    case ZOO_SETDATA_OP: return LAY_SET_DATA;
    case ZOO_SETACL_OP: return LAY_SET_ACL;
    case ZOO_CHECK_WATCHES_OP: case ZOO_REMOVE_WATCHES_OP: case ZOO_ADD_WATCH_OP:
        return LAY_PATH_TYPE;
    case ZOO_SETAUTH_OP: return LAY_AUTH;
    case ZOO_SETWATCHES_OP: return LAY_SET_WATCHES;
    case ZOO_SETWATCHES2_OP: return LAY_SET_WATCHES2;
    case ZOO_MULTI_OP: case ZOO_MULTI_READ_OP: return LAY_MULTI;
    default: return LAY_UNKNOWN;
    }
}

/* MultiOperationRecord accepts these sub-op types and nothing else. */
static bool multi_sub_op_allowed(int32_t op)
{
    switch (op) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP:
    case ZOO_CREATE_TTL_OP: case ZOO_DELETE_OP: case ZOO_SETDATA_OP:
    case ZOO_CHECK_OP: case ZOO_GETDATA_OP: case ZOO_GETCHILDREN_OP:
        return true;
    default:
        return false;
    }
}

static void rd_create(struct jute_rd *rd, struct zkp_create_req *c, bool ttl,
                      struct zkp_arena *arena)
{
    c->path = jute_rd_str(rd);
    c->data = jute_rd_buf(rd);
    rd_acl_vec(rd, &c->acl, arena);
    c->flags = jute_rd_int(rd);
    c->ttl_ms = ttl ? jute_rd_long(rd) : 0;
}

static void rd_set_watches(struct jute_rd *rd, struct zkp_set_watches_req *s, bool v2,
                           struct zkp_arena *arena)
{
    s->relative_zxid = jute_rd_long(rd);
    rd_str_vec(rd, &s->data_watches, arena);
    rd_str_vec(rd, &s->exist_watches, arena);
    rd_str_vec(rd, &s->child_watches, arena);
    s->persistent_watches = (struct zkp_str_vec){ NULL, -1 };
    s->persistent_recursive_watches = (struct zkp_str_vec){ NULL, -1 };
    if (v2) {
        rd_str_vec(rd, &s->persistent_watches, arena);
        rd_str_vec(rd, &s->persistent_recursive_watches, arena);
    }
}

static void rd_multi(struct jute_rd *rd, struct zkp_multi_req *m, struct zkp_arena *arena);

/* Decodes the fields of one non-multi layout. */
static void rd_simple_body(struct jute_rd *rd, enum req_layout lay, struct zkp_request *req,
                           struct zkp_arena *arena)
{
    switch (lay) {
    case LAY_NONE: break;
    case LAY_CREATE: rd_create(rd, &req->u.create, false, arena); break;
    case LAY_CREATE_TTL: rd_create(rd, &req->u.create, true, arena); break;
    case LAY_PATH: req->u.path.path = jute_rd_str(rd); break;
    case LAY_PATH_WATCH:
        req->u.path_watch.path = jute_rd_str(rd);
        req->u.path_watch.watch = jute_rd_bool(rd);
        break;
    case LAY_PATH_VERSION:
        req->u.path_version.path = jute_rd_str(rd);
        req->u.path_version.version = jute_rd_int(rd);
        break;
    case LAY_SET_DATA:
        req->u.set_data.path = jute_rd_str(rd);
        req->u.set_data.data = jute_rd_buf(rd);
        req->u.set_data.version = jute_rd_int(rd);
        break;
    case LAY_SET_ACL:
        req->u.set_acl.path = jute_rd_str(rd);
        rd_acl_vec(rd, &req->u.set_acl.acl, arena);
        req->u.set_acl.version = jute_rd_int(rd);
        break;
    case LAY_PATH_TYPE:
        req->u.path_type.path = jute_rd_str(rd);
        req->u.path_type.type = jute_rd_int(rd);
        break;
    case LAY_AUTH:
        req->u.auth.type = jute_rd_int(rd);
        req->u.auth.scheme = jute_rd_str(rd);
        req->u.auth.auth = jute_rd_buf(rd);
        break;
    case LAY_SET_WATCHES: rd_set_watches(rd, &req->u.set_watches, false, arena); break;
    case LAY_SET_WATCHES2: rd_set_watches(rd, &req->u.set_watches, true, arena); break;
    case LAY_MULTI: case LAY_UNKNOWN: assert(0); break;
    }
}

int zkp_decode_request_body(struct jute_rd *rd, int32_t op, struct zkp_request *req,
                            struct zkp_arena *arena)
{
    memset(&req->u, 0, sizeof req->u);
    req->op = op;
    enum req_layout lay = req_layout_of(op);
    if (lay == LAY_UNKNOWN)
        jute_rd_fail(rd, ZKP_E_UNKNOWN_OP);
    else if (lay == LAY_MULTI)
        rd_multi(rd, &req->u.multi, arena);
    else
        rd_simple_body(rd, lay, req, arena);
    return rd->err;
}

/* Reads a MultiHeader; *done set on the terminator. A header that is cut
 * off is reported as a missing terminator, the more useful diagnosis. */
static int32_t rd_multi_header(struct jute_rd *rd, bool *done, int32_t *err)
{
    if (!rd->err && jute_rd_left(rd) < MULTI_HDR_BYTES)
        jute_rd_fail(rd, ZKP_E_MULTI_END);
    int32_t type = jute_rd_int(rd);
    *done = jute_rd_bool(rd);
    *err = jute_rd_int(rd);
    return type;
}

/* Decodes one multi sub-op (header already read). */
static void rd_multi_sub(struct jute_rd *rd, int32_t type, struct zkp_request *sub,
                         struct zkp_arena *arena)
{
    if (!multi_sub_op_allowed(type)) {
        jute_rd_fail(rd, ZKP_E_MULTI_OP);
        return;
    }
    memset(sub, 0, sizeof *sub);
    sub->op = type;
    rd_simple_body(rd, req_layout_of(type), sub, arena);
}

/* Two passes: the first counts sub-ops (releasing any arena space they
 * used), so the second can place them in one contiguous array. Each sub-op
 * consumes at least MULTI_HDR_BYTES, so both loops end within len/9 steps. */
static void rd_multi(struct jute_rd *rd, struct zkp_multi_req *m, struct zkp_arena *arena)
{
    struct jute_rd scan = *rd;
    size_t mark = arena ? arena->used : 0;
    int32_t n = 0;
    bool done = false;
    int32_t hdr_err;
    while (!scan.err) {
        int32_t type = rd_multi_header(&scan, &done, &hdr_err);
        if (scan.err || done)
            break;
        struct zkp_request tmp;
        rd_multi_sub(&scan, type, &tmp, arena);
        if (arena)
            arena->used = mark;
        n++;
    }
    m->count = 0;
    m->ops = NULL;
    if (scan.err) {
        jute_rd_fail(rd, scan.err);
        return;
    }
    m->ops = rd_alloc(rd, arena, n, sizeof *m->ops);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        int32_t type = rd_multi_header(rd, &done, &hdr_err);
        rd_multi_sub(rd, type, &m->ops[i], arena);
    }
    rd_multi_header(rd, &done, &hdr_err);
    assert(rd->err || done);
    m->count = rd->err ? 0 : n;
}

int zkp_decode_request(const uint8_t *payload, size_t len, struct zkp_request *req,
                       struct zkp_arena *arena)
{
    struct jute_rd rd;
    jute_rd_init(&rd, payload, len);
    memset(req, 0, sizeof *req);
    req->xid = jute_rd_int(&rd);
    req->op = jute_rd_int(&rd);
    if (rd.err)
        return rd.err;
    int32_t op = req->op;
    zkp_decode_request_body(&rd, op, req, arena);
    if (!rd.err && jute_rd_left(&rd) != 0)
        rd.err = ZKP_E_TRAILING;
    return rd.err;
}

/* ---- request encoding (client side, tests, simulated clients) ---------- */

static void wr_create(struct jute_wr *wr, const struct zkp_create_req *c, bool ttl)
{
    jute_wr_str(wr, c->path);
    jute_wr_buf(wr, c->data);
    wr_acl_vec(wr, &c->acl);
    jute_wr_int(wr, c->flags);
    if (ttl)
        jute_wr_long(wr, c->ttl_ms);
}

static void wr_set_watches(struct jute_wr *wr, const struct zkp_set_watches_req *s, bool v2)
{
    jute_wr_long(wr, s->relative_zxid);
    wr_str_vec(wr, &s->data_watches);
    wr_str_vec(wr, &s->exist_watches);
    wr_str_vec(wr, &s->child_watches);
    if (v2) {
        wr_str_vec(wr, &s->persistent_watches);
        wr_str_vec(wr, &s->persistent_recursive_watches);
    }
}

static void wr_request_body(struct jute_wr *wr, const struct zkp_request *req);

static void wr_multi(struct jute_wr *wr, const struct zkp_multi_req *m)
{
    for (int32_t i = 0; i < m->count; i++) {
        jute_wr_int(wr, m->ops[i].op);
        jute_wr_bool(wr, false);
        jute_wr_int(wr, -1);
        if (req_layout_of(m->ops[i].op) == LAY_MULTI) {
            if (!wr->err)
                wr->err = ZKP_E_MULTI_OP;
            return;
        }
        wr_request_body(wr, &m->ops[i]);
    }
    jute_wr_int(wr, -1);
    jute_wr_bool(wr, true);
    jute_wr_int(wr, -1);
}

static void wr_request_body(struct jute_wr *wr, const struct zkp_request *req)
{
    const union zkp_request_body *u = &req->u;
    switch (req_layout_of(req->op)) {
    case LAY_NONE: break;
    case LAY_CREATE: wr_create(wr, &u->create, false); break;
    case LAY_CREATE_TTL: wr_create(wr, &u->create, true); break;
    case LAY_PATH: jute_wr_str(wr, u->path.path); break;
    case LAY_PATH_WATCH:
        jute_wr_str(wr, u->path_watch.path);
        jute_wr_bool(wr, u->path_watch.watch);
        break;
    case LAY_PATH_VERSION:
        jute_wr_str(wr, u->path_version.path);
        jute_wr_int(wr, u->path_version.version);
        break;
    case LAY_SET_DATA:
        jute_wr_str(wr, u->set_data.path);
        jute_wr_buf(wr, u->set_data.data);
        jute_wr_int(wr, u->set_data.version);
        break;
    case LAY_SET_ACL:
        jute_wr_str(wr, u->set_acl.path);
        wr_acl_vec(wr, &u->set_acl.acl);
        jute_wr_int(wr, u->set_acl.version);
        break;
    case LAY_PATH_TYPE:
        jute_wr_str(wr, u->path_type.path);
        jute_wr_int(wr, u->path_type.type);
        break;
    case LAY_AUTH:
        jute_wr_int(wr, u->auth.type);
        jute_wr_str(wr, u->auth.scheme);
        jute_wr_buf(wr, u->auth.auth);
        break;
    case LAY_SET_WATCHES: wr_set_watches(wr, &u->set_watches, false); break;
    case LAY_SET_WATCHES2: wr_set_watches(wr, &u->set_watches, true); break;
    case LAY_MULTI: wr_multi(wr, &u->multi); break;
    case LAY_UNKNOWN:
        if (!wr->err)
            wr->err = ZKP_E_UNKNOWN_OP;
        break;
    }
}

void zkp_encode_request(struct jute_wr *wr, const struct zkp_request *req)
{
    jute_wr_int(wr, req->xid);
    jute_wr_int(wr, req->op);
    wr_request_body(wr, req);
}

/* ---- responses ---------------------------------------------------------- */

void zkp_encode_reply_header(struct jute_wr *wr, const struct zkp_reply_header *h)
{
    jute_wr_int(wr, h->xid);
    jute_wr_long(wr, h->zxid);
    jute_wr_int(wr, h->err);
}

int32_t zkp_decode_reply_header(struct jute_rd *rd, struct zkp_reply_header *h)
{
    h->xid = jute_rd_int(rd);
    h->zxid = jute_rd_long(rd);
    h->err = jute_rd_int(rd);
    return rd->err;
}

/* Response body layouts (FinalRequestProcessor's choice of record per op). */
enum resp_layout {
    RL_UNKNOWN, RL_NONE, RL_PATH, RL_PATH_STAT, RL_STAT, RL_DATA_STAT, RL_ACL_STAT,
    RL_CHILDREN, RL_CHILDREN_STAT, RL_NUMBER, RL_CLIENTS, RL_MULTI,
};

static enum resp_layout resp_layout_of(int32_t op)
{
    switch (op) {
    case ZOO_DELETE_OP: case ZOO_CHECK_OP: case ZOO_SETWATCHES_OP: case ZOO_SETWATCHES2_OP:
    case ZOO_CHECK_WATCHES_OP: case ZOO_REMOVE_WATCHES_OP: case ZOO_SETAUTH_OP:
    case ZOO_CLOSE_SESSION_OP: case ZOO_PING_OP:
        return RL_NONE;
    case ZOO_CREATE_OP: case ZOO_SYNC_OP: return RL_PATH;
    case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        return RL_PATH_STAT;
    case ZOO_EXISTS_OP: case ZOO_SETDATA_OP: case ZOO_SETACL_OP: return RL_STAT;
    case ZOO_GETDATA_OP: return RL_DATA_STAT;
    case ZOO_GETACL_OP: return RL_ACL_STAT;
    case ZOO_GETCHILDREN_OP: case ZOO_GET_EPHEMERALS_OP: return RL_CHILDREN;
    case ZOO_GETCHILDREN2_OP: return RL_CHILDREN_STAT;
    /* addWatch answers with an ErrorResponse{err}: one int, like the count. */
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP: case ZOO_ADD_WATCH_OP: return RL_NUMBER;
    case ZOO_WHO_AM_I_OP: return RL_CLIENTS;
    case ZOO_MULTI_OP: case ZOO_MULTI_READ_OP: return RL_MULTI;
    default: return RL_UNKNOWN;
    }
}

/* Body of one multi result, keyed by the result's own type. */
static void wr_multi_result_body(struct jute_wr *wr, const struct zkp_multi_result *r)
{
    switch (r->op) {
    case ZOO_CREATE_OP: jute_wr_str(wr, r->path); break;
    case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        jute_wr_str(wr, r->path);
        zkp_encode_stat(wr, &r->stat);
        break;
    case ZOO_SETDATA_OP: zkp_encode_stat(wr, &r->stat); break;
    case ZOO_DELETE_OP: case ZOO_CHECK_OP: break;
    case ZOO_ERROR_OP: jute_wr_int(wr, r->err); break;
    case ZOO_GETDATA_OP:
        jute_wr_buf(wr, r->data);
        zkp_encode_stat(wr, &r->stat);
        break;
    case ZOO_GETCHILDREN_OP: wr_str_vec(wr, &r->children); break;
    default:
        if (!wr->err)
            wr->err = ZKP_E_MULTI_OP;
        break;
    }
}

static void wr_multi_results(struct jute_wr *wr, const struct zkp_response *resp)
{
    for (int32_t i = 0; i < resp->multi.count; i++) {
        const struct zkp_multi_result *r = &resp->multi.items[i];
        jute_wr_int(wr, r->op);
        jute_wr_bool(wr, false);
        jute_wr_int(wr, r->op == ZOO_ERROR_OP ? r->err : 0);
        wr_multi_result_body(wr, r);
    }
    jute_wr_int(wr, -1);
    jute_wr_bool(wr, true);
    jute_wr_int(wr, -1);
}

static void wr_clients(struct jute_wr *wr, const struct zkp_response *resp)
{
    jute_wr_int(wr, resp->clients.count < 0 ? -1 : resp->clients.count);
    for (int32_t i = 0; i < resp->clients.count; i++) {
        jute_wr_str(wr, resp->clients.items[i].auth_scheme);
        jute_wr_str(wr, resp->clients.items[i].user);
    }
}

void zkp_encode_response_body(struct jute_wr *wr, const struct zkp_response *resp)
{
    switch (resp_layout_of(resp->op)) {
    case RL_NONE: break;
    case RL_PATH: jute_wr_str(wr, resp->path); break;
    case RL_PATH_STAT:
        jute_wr_str(wr, resp->path);
        zkp_encode_stat(wr, &resp->stat);
        break;
    case RL_STAT: zkp_encode_stat(wr, &resp->stat); break;
    case RL_DATA_STAT:
        jute_wr_buf(wr, resp->data);
        zkp_encode_stat(wr, &resp->stat);
        break;
    case RL_ACL_STAT:
        wr_acl_vec(wr, &resp->acl);
        zkp_encode_stat(wr, &resp->stat);
        break;
    case RL_CHILDREN: wr_str_vec(wr, &resp->children); break;
    case RL_CHILDREN_STAT:
        wr_str_vec(wr, &resp->children);
        zkp_encode_stat(wr, &resp->stat);
        break;
    case RL_NUMBER: jute_wr_int(wr, resp->number); break;
    case RL_CLIENTS: wr_clients(wr, resp); break;
    case RL_MULTI: wr_multi_results(wr, resp); break;
    case RL_UNKNOWN:
        if (!wr->err)
            wr->err = ZKP_E_UNKNOWN_OP;
        break;
    }
}

static void rd_multi_result_body(struct jute_rd *rd, struct zkp_multi_result *r,
                                 struct zkp_arena *arena)
{
    switch (r->op) {
    case ZOO_CREATE_OP: r->path = jute_rd_str(rd); break;
    case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        r->path = jute_rd_str(rd);
        zkp_decode_stat(rd, &r->stat);
        break;
    case ZOO_SETDATA_OP: zkp_decode_stat(rd, &r->stat); break;
    case ZOO_DELETE_OP: case ZOO_CHECK_OP: break;
    case ZOO_ERROR_OP: r->err = jute_rd_int(rd); break;
    case ZOO_GETDATA_OP:
        r->data = jute_rd_buf(rd);
        zkp_decode_stat(rd, &r->stat);
        break;
    case ZOO_GETCHILDREN_OP: rd_str_vec(rd, &r->children, arena); break;
    default: jute_rd_fail(rd, ZKP_E_MULTI_OP); break;
    }
}

/* Reads one result header and body into r; returns true on the terminator. */
static bool rd_multi_result(struct jute_rd *rd, struct zkp_multi_result *r,
                            struct zkp_arena *arena)
{
    bool done;
    memset(r, 0, sizeof *r);
    r->op = rd_multi_header(rd, &done, &r->err);
    if (rd->err || done)
        return true;
    rd_multi_result_body(rd, r, arena);
    return false;
}

/* Same two-pass shape as rd_multi. */
static void rd_multi_results(struct jute_rd *rd, struct zkp_response *resp,
                             struct zkp_arena *arena)
{
    struct jute_rd scan = *rd;
    size_t mark = arena ? arena->used : 0;
    int32_t n = 0;
    struct zkp_multi_result tmp;
    while (!rd_multi_result(&scan, &tmp, arena)) {
        if (arena)
            arena->used = mark;
        n++;
    }
    resp->multi.count = 0;
    resp->multi.items = NULL;
    if (scan.err) {
        jute_rd_fail(rd, scan.err);
        return;
    }
    resp->multi.items = rd_alloc(rd, arena, n, sizeof *resp->multi.items);
    for (int32_t i = 0; i < n && !rd->err; i++)
        rd_multi_result(rd, &resp->multi.items[i], arena);
    rd_multi_result(rd, &tmp, arena);
    resp->multi.count = rd->err ? 0 : n;
}

static void rd_clients(struct jute_rd *rd, struct zkp_response *resp, struct zkp_arena *arena)
{
    int32_t n = jute_rd_count(rd, 2 * STR_MIN_BYTES);
    resp->clients.items = rd_alloc(rd, arena, n, sizeof *resp->clients.items);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        resp->clients.items[i].auth_scheme = jute_rd_str(rd);
        resp->clients.items[i].user = jute_rd_str(rd);
    }
    resp->clients.count = rd->err ? -1 : n;
}

int zkp_decode_response_body(struct jute_rd *rd, int32_t op, struct zkp_response *resp,
                             struct zkp_arena *arena)
{
    memset(resp, 0, sizeof *resp);
    resp->op = op;
    enum resp_layout lay = resp_layout_of(op);
    if (lay == RL_PATH || lay == RL_PATH_STAT)
        resp->path = jute_rd_str(rd);
    if (lay == RL_DATA_STAT)
        resp->data = jute_rd_buf(rd);
    if (lay == RL_ACL_STAT)
        rd_acl_vec(rd, &resp->acl, arena);
    if (lay == RL_CHILDREN || lay == RL_CHILDREN_STAT)
        rd_str_vec(rd, &resp->children, arena);
    if (lay == RL_PATH_STAT || lay == RL_STAT || lay == RL_DATA_STAT || lay == RL_ACL_STAT ||
        lay == RL_CHILDREN_STAT)
        zkp_decode_stat(rd, &resp->stat);
    if (lay == RL_NUMBER)
        resp->number = jute_rd_int(rd);
    if (lay == RL_CLIENTS)
        rd_clients(rd, resp, arena);
    if (lay == RL_MULTI)
        rd_multi_results(rd, resp, arena);
    if (lay == RL_UNKNOWN)
        jute_rd_fail(rd, ZKP_E_UNKNOWN_OP);
    return rd->err;
}

int zkp_encode_reply_frame(struct jute_wr *wr, const struct zkp_reply_header *h,
                           const struct zkp_response *resp)
{
    size_t mark = zkp_frame_begin(wr);
    zkp_encode_reply_header(wr, h);
    /* A failed request carries the header only; clients read no body. */
    if (h->err == ZOK && resp)
        zkp_encode_response_body(wr, resp);
    return zkp_frame_end(wr, mark);
}

int zkp_encode_notification_frame(struct jute_wr *wr, int64_t zxid, int32_t type,
                                  int32_t state, struct jute_str path)
{
    size_t mark = zkp_frame_begin(wr);
    struct zkp_reply_header h = { ZKP_XID_NOTIFICATION, zxid, ZOK };
    zkp_encode_reply_header(wr, &h);
    jute_wr_int(wr, type);
    jute_wr_int(wr, state);
    jute_wr_str(wr, path);
    return zkp_frame_end(wr, mark);
}

void zkp_decode_watcher_event(struct jute_rd *rd, struct zkp_watcher_event *ev)
{
    ev->type = jute_rd_int(rd);
    ev->state = jute_rd_int(rd);
    ev->path = jute_rd_str(rd);
}

/* ---- framing ------------------------------------------------------------ */

int zkp_frame_next(const uint8_t *stream, size_t len, size_t payload_max, struct zkp_frame *out)
{
    memset(out, 0, sizeof *out);
    if (len < 4)
        return JUTE_OK;
    struct jute_rd rd;
    jute_rd_init(&rd, stream, 4);
    int32_t n = jute_rd_int(&rd);
    if (n < 0)
        return ZKP_E_FRAME_NEG;
    if ((size_t)n > payload_max)
        return ZKP_E_FRAME_TOO_BIG;
    if (len - 4 < (size_t)n)
        return JUTE_OK;
    out->ready = true;
    out->payload = stream + 4;
    out->payload_len = (size_t)n;
    out->consumed = 4 + (size_t)n;
    return JUTE_OK;
}

size_t zkp_frame_begin(struct jute_wr *wr)
{
    size_t mark = wr->pos;
    jute_wr_int(wr, 0);
    return mark;
}

int zkp_frame_end(struct jute_wr *wr, size_t mark)
{
    if (wr->err)
        return wr->err;
    size_t body = wr->pos - mark - 4;
    if (body > INT32_MAX) {
        wr->err = JUTE_E_ARG;
        return wr->err;
    }
    jute_wr_patch_int(wr, mark, (int32_t)body);
    return JUTE_OK;
}

/* ---- four-letter words -------------------------------------------------- */

static const char fourlw_names[ZKP_4LW_COUNT][5] = {
    "", "ruok", "srvr", "stat", "mntr", "conf", "cons", "wchs", "isro", "dump",
    "envi", "crst", "srst", "dirs", "wchc", "wchp", "hash",
};

const char *zkp_4lw_name(enum zkp_4lw w)
{
    return (unsigned)w < ZKP_4LW_COUNT ? fourlw_names[w] : "";
}

enum zkp_4lw zkp_4lw_from_name(const char *s, size_t len)
{
    if (len != 4)
        return ZKP_4LW_NONE;
    for (int w = 1; w < ZKP_4LW_COUNT; w++)
        if (memcmp(s, fourlw_names[w], 4) == 0)
            return (enum zkp_4lw)w;
    return ZKP_4LW_NONE;
}

/* A word's four ASCII bytes read as a length are ~1.9e9, far above any
 * sane jute.maxbuffer, so a word and a real handshake frame never collide. */
enum zkp_4lw zkp_four_letter_word(const uint8_t *first, size_t len, bool *need_more)
{
    *need_more = len < 4;
    if (len < 4)
        return ZKP_4LW_NONE;
    return zkp_4lw_from_name((const char *)first, 4);
}
