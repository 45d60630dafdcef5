/* prep: one function per write op, each checking in ZooKeeper's order
 * (session, path, ACL fix-up, parent/node existence, permission, version,
 * structure) so the first failing check gives ZooKeeper's error code. */
#include "core/prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/path.h"

struct prep_op {
    struct zk_txn_op op;
    uint32_t path_off;  /* into p->names */
    uint32_t acl_off;   /* into p->acls */
};

/* A node as prep sees it: the newest overlay record, else the tree. */
struct prep_rec {
    bool exists;
    struct zk_stat stat;
    int32_t child_count;
    const struct zk_acl *acl;
    uint32_t acl_count;
};

struct prep_ctx {
    struct prep *p;
    const struct tree *t;
    struct session_tracker *tr;
    const struct zk_request *req; /* top level: session, auth, owner */
    int64_t zxid;
    int64_t time_ms;
};

int prep_init(struct prep *p, const struct prep_config *cfg)
{
    memset(p, 0, sizeof *p);
    if (cfg != NULL)
        p->cfg = *cfg;
    if (p->cfg.data_max == 0)
        p->cfg.data_max = ZK_DATA_MAX_DEFAULT;
    if (p->cfg.max_outstanding == 0)
        p->cfg.max_outstanding = PREP_OUTSTANDING_MAX_DEFAULT;
    p->ops = calloc(ZK_MULTI_MAX, sizeof *p->ops);
    p->txn_ops = calloc(ZK_MULTI_MAX, sizeof *p->txn_ops);
    if (p->ops == NULL || p->txn_ops == NULL || overlay_init(&p->ov, p->cfg.max_outstanding) != ZOK) {
        prep_free(p);
        return ZSYSTEMERROR;
    }
    return ZOK;
}

void prep_free(struct prep *p)
{
    overlay_free(&p->ov);
    free(p->ops);
    free(p->txn_ops);
    free(p->names);
    free(p->acls);
    free(p->close_paths);
    memset(p, 0, sizeof *p);
}

int prep_clone(struct prep *dst, const struct prep *src)
{
    int rc = prep_init(dst, &src->cfg);
    if (rc != ZOK)
        return rc;
    overlay_free(&dst->ov);
    rc = overlay_clone(&dst->ov, &src->ov);
    if (rc != ZOK) {
        overlay_init(&dst->ov, src->cfg.max_outstanding);
        prep_free(dst);
    }
    return rc;
}

void prep_reset(struct prep *p)
{
    overlay_reset(&p->ov);
}

void prep_applied(struct prep *p, int64_t zxid)
{
    overlay_applied(&p->ov, zxid);
}

void prep_retag_last(struct prep *p, int64_t zxid)
{
    if (p->last_mark >= overlay_mark(&p->ov) - overlay_count(&p->ov))
        overlay_retag(&p->ov, p->last_mark, zxid);
}

void prep_cancel_last(struct prep *p)
{
    /* Records before the mark may have been applied and dropped already. */
    if (p->last_mark >= overlay_mark(&p->ov) - overlay_count(&p->ov))
        overlay_truncate(&p->ov, p->last_mark);
}

/* ---- overlay ------------------------------------------------------------ */

static bool rec_get(const struct prep_ctx *c, const char *path, size_t len, struct prep_rec *r)
{
    const struct overlay_rec *ch = overlay_find(&c->p->ov, path, (uint32_t)len);
    if (ch != NULL) {
        *r = (struct prep_rec){ch->exists, ch->stat, ch->child_count, ch->acl, ch->acl_count};
        return r->exists;
    }
    const struct tree_node *n = tree_get(c->t, path, len);
    if (n == NULL) {
        memset(r, 0, sizeof *r);
        return false;
    }
    uint32_t acl_count;
    const struct zk_acl *acl = tree_node_acl(c->t, n, &acl_count);
    *r = (struct prep_rec){true, n->stat, (int32_t)tree_node_child_count(n), acl, acl_count};
    return true;
}

static int change_add(struct prep_ctx *c, const char *path, size_t len, const struct prep_rec *r)
{
    struct overlay_rec rec = {
        .zxid = c->zxid, .path = (char *)path, .path_len = (uint32_t)len, .exists = r->exists,
        .stat = r->stat, .child_count = r->child_count, .acl = (struct zk_acl *)r->acl,
        .acl_count = r->acl_count,
    };
    return overlay_add(&c->p->ov, &rec);
}

/* ---- scratch arenas ---------------------------------------------------------- */

static int names_add(struct prep *p, const char *s, size_t len, uint32_t *off)
{
    size_t need = p->names_len + len + 1;
    if (need > p->names_cap) {
        size_t cap = p->names_cap ? p->names_cap : 1024;
        while (cap < need)
            cap *= 2;
        char *n = realloc(p->names, cap);
        if (n == NULL)
            return ZSYSTEMERROR;
        p->names = n;
        p->names_cap = cap;
    }
    memcpy(p->names + p->names_len, s, len);
    p->names[p->names_len + len] = '\0';
    *off = (uint32_t)p->names_len;
    p->names_len = need;
    return ZOK;
}

/* Fixes up a requested ACL into the arena; returns count or an error. */
static int acls_fixup(struct prep_ctx *c, const struct zk_request *r, uint32_t *off)
{
    struct prep *p = c->p;
    if (p->acl_used + ZK_ACL_MAX > p->acl_cap) {
        uint32_t cap = p->acl_cap ? p->acl_cap * 2 : 4 * ZK_ACL_MAX;
        while (cap < p->acl_used + ZK_ACL_MAX)
            cap *= 2;
        struct zk_acl *a = realloc(p->acls, cap * sizeof *a);
        if (a == NULL)
            return ZSYSTEMERROR;
        p->acls = a;
        p->acl_cap = cap;
    }
    int n = acl_fixup(r->acl, r->acl_count, c->req->auth, c->req->auth_count,
                      p->acls + p->acl_used, ZK_ACL_MAX);
    if (n < 0)
        return n;
    *off = p->acl_used;
    p->acl_used += (uint32_t)n;
    return n;
}

/* ---- shared checks ----------------------------------------------------------- */

static int check_session(const struct prep_ctx *c)
{
    if (c->tr == NULL)
        return ZOK;
    return session_check(c->tr, c->req->session_id, c->req->owner);
}

static int32_t version_next(int32_t v)
{
    int32_t n = (int32_t)((uint32_t)v + 1u);
    return n == -1 ? 0 : n; /* ZOOKEEPER-4743: -1 means "any", never a version */
}

static int check_version(int32_t current, int32_t expected)
{
    return expected == -1 || expected == current ? ZOK : ZBADVERSION;
}

static bool path_is_special(const char *path, size_t len)
{
    static const char *const special[] = {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"};
    for (int i = 0; i < 4; i++)
        if (strlen(special[i]) == len && memcmp(special[i], path, len) == 0)
            return true;
    return false;
}

static const struct zk_acl *op_acl(const struct prep *p, const struct prep_op *o)
{
    return p->acls + o->acl_off;
}

/* ---- create -------------------------------------------------------------------- */

struct create_mode {
    bool ephemeral, sequential, ttl, container;
};

/* CreateMode.fromFlag + validateCreateRequest's TTL rules. */
static int create_mode_parse(const struct prep_ctx *c, const struct zk_request *r, struct create_mode *m)
{
    if (r->flags < ZOO_PERSISTENT || r->flags > ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL)
        return ZBADARGUMENTS;
    m->ephemeral = r->flags == ZOO_EPHEMERAL || r->flags == ZOO_EPHEMERAL_SEQUENTIAL;
    m->sequential = r->flags == ZOO_PERSISTENT_SEQUENTIAL || r->flags == ZOO_EPHEMERAL_SEQUENTIAL ||
                    r->flags == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL;
    bool ttl_mode = r->flags == ZOO_PERSISTENT_WITH_TTL || r->flags == ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL;
    m->ttl = r->type == ZOO_CREATE_TTL_OP;
    m->container = r->type == ZOO_CREATE_CONTAINER_OP;
    if (ttl_mode && !c->p->cfg.extended_types)
        return ZUNIMPLEMENTED;
    if (ttl_mode != m->ttl)
        return ZBADARGUMENTS;
    if (m->ttl && (r->ttl_ms <= 0 || r->ttl_ms > ZK_TTL_MAX_MS))
        return ZBADARGUMENTS;
    return ZOK;
}

/* The final path: the requested one, plus "%010d" of the parent's cversion
 * for sequential nodes (a signed int, so it wraps to "-2147483648"). */
static int create_name(struct prep *p, const struct zk_request *r, size_t len, bool seq,
                       int32_t parent_cversion, uint32_t *off, uint32_t *out_len)
{
    char buf[ZK_PATH_MAX + 16];
    memcpy(buf, r->path, len);
    size_t n = len;
    if (seq)
        n += (size_t)snprintf(buf + len, sizeof buf - len, "%010d", (int)parent_cversion);
    *out_len = (uint32_t)n;
    return names_add(p, buf, n, off);
}

static int64_t create_owner(const struct prep_ctx *c, const struct zk_request *r, const struct create_mode *m)
{
    if (m->container)
        return ZK_OWNER_CONTAINER;
    if (m->ttl)
        return tree_ttl_owner(r->ttl_ms);
    return m->ephemeral ? c->req->session_id : 0;
}

static int create_overlay(struct prep_ctx *c, const char *parent, size_t plen, struct prep_rec *pr,
                          struct prep_op *o, int32_t new_cversion)
{
    pr->child_count++;
    pr->stat.cversion = new_cversion;
    pr->stat.pzxid = c->zxid;
    int rc = change_add(c, parent, plen, pr);
    if (rc != ZOK)
        return rc;
    struct prep_rec nr = {
        .exists = true,
        .stat = {.czxid = c->zxid, .mzxid = c->zxid, .pzxid = c->zxid, .ctime_ms = c->time_ms,
                 .mtime_ms = c->time_ms, .ephemeral_owner = o->op.ephemeral_owner},
        .acl = op_acl(c->p, o),
        .acl_count = o->op.acl_count,
    };
    return change_add(c, c->p->names + o->path_off, o->op.path_len, &nr);
}

static int prep_create(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o)
{
    struct create_mode m;
    int rc = create_mode_parse(c, r, &m);
    if (rc == ZOK)
        rc = check_session(c);
    size_t len = r->path ? strlen(r->path) : 0;
    if (rc == ZOK)
        rc = zk_path_validate_create(r->path, len, m.sequential);
    if (rc == ZOK && (r->data_len > c->p->cfg.data_max || (r->data == NULL && r->data_len > 0)))
        rc = ZBADARGUMENTS;
    int n = rc == ZOK ? acls_fixup(c, r, &o->acl_off) : rc;
    if (n < 0)
        return n;
    if (len == 1 && !m.sequential)
        return ZNODEEXISTS; /* "/" always exists */
    size_t plen = zk_path_parent_len(r->path, len);
    if (plen == 0)
        plen = 1; /* sequential under "/": the parent is the root */
    struct prep_rec pr, nr;
    if (!rec_get(c, r->path, plen, &pr))
        return ZNONODE;
    rc = acl_check(pr.acl, pr.acl_count, ZOO_PERM_CREATE, c->req->auth, c->req->auth_count);
    if (rc == ZOK)
        rc = create_name(c->p, r, len, m.sequential, pr.stat.cversion, &o->path_off, &o->op.path_len);
    if (rc == ZOK)
        rc = zk_path_validate(c->p->names + o->path_off, o->op.path_len);
    if (rc != ZOK)
        return rc;
    if (rec_get(c, c->p->names + o->path_off, o->op.path_len, &nr))
        return ZNODEEXISTS;
    if (tree_owner_is_session(pr.stat.ephemeral_owner))
        return ZNOCHILDRENFOREPHEMERALS;
    int32_t new_cversion = (int32_t)((uint32_t)pr.stat.cversion + 1u);
    o->op.type = r->type;
    o->op.data = r->data;
    o->op.data_len = r->data_len;
    o->op.acl_count = (uint32_t)n;
    o->op.ephemeral_owner = create_owner(c, r, &m);
    o->op.parent_cversion = new_cversion;
    return create_overlay(c, r->path, plen, &pr, o, new_cversion);
}

/* ---- delete, setData, setACL, check ------------------------------------------------ */

static int prep_delete(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o)
{
    int rc = check_session(c);
    size_t len = r->path ? strlen(r->path) : 0;
    if (rc == ZOK && (zk_path_validate(r->path, len) != ZOK || path_is_special(r->path, len)))
        rc = ZBADARGUMENTS;
    if (rc != ZOK)
        return rc;
    size_t plen = zk_path_parent_len(r->path, len);
    struct prep_rec pr, nr;
    if (!rec_get(c, r->path, plen, &pr))
        return ZNONODE;
    rc = acl_check(pr.acl, pr.acl_count, ZOO_PERM_DELETE, c->req->auth, c->req->auth_count);
    if (rc != ZOK)
        return rc;
    if (!rec_get(c, r->path, len, &nr))
        return ZNONODE;
    rc = check_version(nr.stat.version, r->version);
    if (rc != ZOK)
        return rc;
    if (nr.child_count > 0)
        return ZNOTEMPTY;
    rc = names_add(c->p, r->path, len, &o->path_off);
    if (rc != ZOK)
        return rc;
    o->op.type = ZOO_DELETE_OP;
    o->op.path_len = (uint32_t)len;
    pr.child_count--;
    pr.stat.pzxid = c->zxid;
    rc = change_add(c, r->path, plen, &pr);
    struct prep_rec gone = {0};
    return rc == ZOK ? change_add(c, r->path, len, &gone) : rc;
}

/* Session and path checks shared by setData/setACL/check. */
static int prep_node_common(struct prep_ctx *c, const struct zk_request *r, size_t *len)
{
    int rc = check_session(c);
    *len = r->path ? strlen(r->path) : 0;
    if (rc == ZOK && zk_path_validate(r->path, *len) != ZOK)
        rc = ZBADARGUMENTS;
    return rc;
}

static int prep_set_data(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o)
{
    size_t len;
    struct prep_rec nr;
    int rc = prep_node_common(c, r, &len);
    if (rc == ZOK && (r->data_len > c->p->cfg.data_max || (r->data == NULL && r->data_len > 0)))
        rc = ZBADARGUMENTS;
    if (rc != ZOK)
        return rc;
    if (!rec_get(c, r->path, len, &nr))
        return ZNONODE;
    rc = acl_check(nr.acl, nr.acl_count, ZOO_PERM_WRITE, c->req->auth, c->req->auth_count);
    if (rc == ZOK)
        rc = check_version(nr.stat.version, r->version);
    if (rc == ZOK)
        rc = names_add(c->p, r->path, len, &o->path_off);
    if (rc != ZOK)
        return rc;
    o->op.type = ZOO_SETDATA_OP;
    o->op.path_len = (uint32_t)len;
    o->op.data = r->data;
    o->op.data_len = r->data_len;
    o->op.version = version_next(nr.stat.version);
    nr.stat.version = o->op.version;
    nr.stat.mzxid = c->zxid;
    nr.stat.mtime_ms = c->time_ms;
    return change_add(c, r->path, len, &nr);
}

static int prep_set_acl(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o)
{
    size_t len;
    struct prep_rec nr;
    int rc = prep_node_common(c, r, &len);
    int n = rc == ZOK ? acls_fixup(c, r, &o->acl_off) : rc;
    if (n < 0)
        return n;
    if (!rec_get(c, r->path, len, &nr))
        return ZNONODE;
    rc = acl_check(nr.acl, nr.acl_count, ZOO_PERM_ADMIN, c->req->auth, c->req->auth_count);
    if (rc == ZOK)
        rc = check_version(nr.stat.aversion, r->version);
    if (rc == ZOK)
        rc = names_add(c->p, r->path, len, &o->path_off);
    if (rc != ZOK)
        return rc;
    o->op.type = ZOO_SETACL_OP;
    o->op.path_len = (uint32_t)len;
    o->op.acl_count = (uint32_t)n;
    o->op.version = version_next(nr.stat.aversion);
    nr.stat.aversion = o->op.version;
    nr.acl = op_acl(c->p, o);
    nr.acl_count = (uint32_t)n;
    return change_add(c, r->path, len, &nr);
}

static int prep_check(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o)
{
    size_t len;
    struct prep_rec nr;
    int rc = prep_node_common(c, r, &len);
    if (rc != ZOK)
        return rc;
    if (!rec_get(c, r->path, len, &nr))
        return ZNONODE;
    rc = acl_check(nr.acl, nr.acl_count, ZOO_PERM_READ, c->req->auth, c->req->auth_count);
    if (rc == ZOK)
        rc = check_version(nr.stat.version, r->version);
    if (rc == ZOK)
        rc = names_add(c->p, r->path, len, &o->path_off);
    if (rc != ZOK)
        return rc;
    o->op.type = ZOO_CHECK_OP;
    o->op.path_len = (uint32_t)len;
    o->op.version = nr.stat.version;
    return ZOK;
}

/* deleteContainer: issued by the container/TTL reaper, not by clients. */
static int prep_delete_container(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o)
{
    size_t len = r->path ? strlen(r->path) : 0;
    if (zk_path_validate(r->path, len) != ZOK || path_is_special(r->path, len))
        return ZBADARGUMENTS;
    struct prep_rec nr, pr;
    if (!rec_get(c, r->path, len, &nr))
        return ZNONODE;
    if (nr.child_count > 0)
        return ZNOTEMPTY;
    /* As ZooKeeper: only a session's ephemeral is refused (BADVERSION);
     * the reaper is trusted to name containers and expired TTL nodes. */
    if (tree_owner_is_session(nr.stat.ephemeral_owner))
        return ZBADVERSION;
    size_t plen = zk_path_parent_len(r->path, len);
    if (!rec_get(c, r->path, plen, &pr))
        return ZNONODE;
    int rc = names_add(c->p, r->path, len, &o->path_off);
    if (rc != ZOK)
        return rc;
    o->op.type = ZOO_DELETE_CONTAINER_OP;
    o->op.path_len = (uint32_t)len;
    pr.child_count--;
    pr.stat.pzxid = c->zxid;
    rc = change_add(c, r->path, plen, &pr);
    struct prep_rec gone = {0};
    return rc == ZOK ? change_add(c, r->path, len, &gone) : rc;
}

static bool prep_is_write(int32_t type)
{
    switch (type) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
    case ZOO_DELETE_OP: case ZOO_SETDATA_OP: case ZOO_SETACL_OP: case ZOO_CHECK_OP:
    case ZOO_MULTI_OP: case ZOO_DELETE_CONTAINER_OP: case ZOO_CREATE_SESSION_OP:
    case ZOO_CLOSE_SESSION_OP:
        return true;
    default:
        return false;
    }
}

/* One op; ZOK or the error the client gets. o->op is filled on success. */
static int prep_one(struct prep_ctx *c, const struct zk_request *r, struct prep_op *o, bool in_multi)
{
    memset(o, 0, sizeof *o);
    switch (r->type) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        return prep_create(c, r, o);
    case ZOO_DELETE_OP:
        return prep_delete(c, r, o);
    case ZOO_SETDATA_OP:
        return prep_set_data(c, r, o);
    case ZOO_CHECK_OP:
        return prep_check(c, r, o);
    case ZOO_SETACL_OP:
        return in_multi ? ZMARSHALLINGERROR : prep_set_acl(c, r, o);
    case ZOO_DELETE_CONTAINER_OP:
        return in_multi ? ZMARSHALLINGERROR : prep_delete_container(c, r, o);
    default:
        return in_multi ? ZMARSHALLINGERROR : ZUNIMPLEMENTED;
    }
}

/* ---- closeSession ------------------------------------------------------------------- */

static uint32_t close_pos(const struct prep *p, const char *path, size_t len, bool *found)
{
    uint32_t lo = 0, hi = p->close_count;
    *found = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct zk_txn_path *q = &p->close_paths[mid];
        size_t m = q->len < len ? q->len : len;
        int r = memcmp(q->path, path, m);
        if (r == 0)
            r = q->len < len ? -1 : q->len > len;
        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds or removes a path in the sorted close set; strings must be stable
 * for the rest of the call (tree paths, overlay paths). */
static int close_set(struct prep *p, const char *path, size_t len, bool add)
{
    bool found;
    uint32_t i = close_pos(p, path, len, &found);
    if (!add) {
        if (found) {
            memmove(p->close_paths + i, p->close_paths + i + 1, (p->close_count - i - 1) * sizeof *p->close_paths);
            p->close_count--;
        }
        return ZOK;
    }
    if (found)
        return ZOK;
    if (p->close_count == p->close_cap) {
        uint32_t cap = p->close_cap ? p->close_cap * 2 : 16;
        if (cap > ZK_TXN_CLOSE_PATHS_MAX)
            return ZTHROTTLEDOP;
        struct zk_txn_path *n = realloc(p->close_paths, cap * sizeof *n);
        if (n == NULL)
            return ZSYSTEMERROR;
        p->close_paths = n;
        p->close_cap = cap;
    }
    memmove(p->close_paths + i + 1, p->close_paths + i, (p->close_count - i) * sizeof *p->close_paths);
    p->close_paths[i] = (struct zk_txn_path){path, (uint32_t)len};
    p->close_count++;
    return ZOK;
}

/* The session's ephemerals: the tree's, then the outstanding changes in
 * order (a pending delete removes, a pending ephemeral create adds). */
static int close_gather(struct prep_ctx *c, uint32_t *overlay_end)
{
    struct prep *p = c->p;
    int64_t sid = c->req->session_id;
    uint32_t n = tree_ephemerals(c->t, sid, NULL, 0);
    const struct tree_node **nodes = n ? malloc(n * sizeof *nodes) : NULL;
    if (n && nodes == NULL)
        return ZSYSTEMERROR;
    tree_ephemerals(c->t, sid, nodes, n);
    int rc = ZOK;
    for (uint32_t i = 0; i < n && rc == ZOK; i++)
        rc = close_set(p, nodes[i]->path, nodes[i]->path_len, true);
    free(nodes);
    *overlay_end = overlay_count(&p->ov);
    for (uint32_t i = 0; i < *overlay_end && rc == ZOK; i++) {
        const struct overlay_rec *ch = overlay_at(&p->ov, i);
        if (!ch->exists)
            rc = close_set(p, ch->path, ch->path_len, false);
        else if (ch->stat.ephemeral_owner == sid)
            rc = close_set(p, ch->path, ch->path_len, true);
    }
    return rc;
}

static int prep_close_session(struct prep_ctx *c, struct zk_txn *txn)
{
    struct prep *p = c->p;
    uint32_t overlay_end;
    int rc = close_gather(c, &overlay_end);
    for (uint32_t i = 0; i < p->close_count && rc == ZOK; i++) {
        const char *path = p->close_paths[i].path;
        size_t len = p->close_paths[i].len;
        size_t plen = zk_path_parent_len(path, len);
        struct prep_rec pr;
        if (rec_get(c, path, plen, &pr)) {
            pr.child_count--;
            pr.stat.pzxid = c->zxid;
            rc = change_add(c, path, plen, &pr);
        }
        struct prep_rec gone = {0};
        if (rc == ZOK)
            rc = change_add(c, path, len, &gone);
    }
    if (rc != ZOK)
        return rc;
    if (c->tr != NULL)
        session_set_closing(c->tr, c->req->session_id);
    txn->paths = p->close_paths;
    txn->path_count = p->close_count;
    return ZOK;
}

/* ---- multi and the request ------------------------------------------------------------ */

static bool multi_op_allowed(int32_t type)
{
    return type == ZOO_CREATE_OP || type == ZOO_CREATE2_OP || type == ZOO_CREATE_CONTAINER_OP ||
           type == ZOO_CREATE_TTL_OP || type == ZOO_DELETE_OP || type == ZOO_SETDATA_OP ||
           type == ZOO_CHECK_OP;
}

static bool request_level(int rc)
{
    return rc == ZTHROTTLEDOP || rc == ZSYSTEMERROR;
}

static struct zk_txn_op op_fixed(const struct prep *p, const struct prep_op *o)
{
    struct zk_txn_op op = o->op;
    op.path = p->names + o->path_off;
    op.acl = op.acl_count ? p->acls + o->acl_off : NULL;
    return op;
}

/* Problems with the multi as a whole, found before any op is looked at:
 * too many ops or a type that cannot be in a multi (ZooKeeper cannot even
 * deserialize it: MARSHALLINGERROR), or more data in total than one
 * request may carry (BADARGUMENTS; ZooKeeper's packet limit). */
static int multi_whole_check(const struct prep *p, const struct zk_request *req)
{
    uint32_t n = req->op_count;
    if (n > ZK_MULTI_MAX || (n > 0 && req->ops == NULL))
        return ZMARSHALLINGERROR;
    uint64_t data = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!multi_op_allowed(req->ops[i].type))
            return ZMARSHALLINGERROR;
        data += req->ops[i].data_len;
    }
    return data > p->cfg.data_max ? ZBADARGUMENTS : ZOK;
}

static int prep_multi(struct prep_ctx *c, struct zk_txn *txn, int32_t *err, bool *whole)
{
    struct prep *p = c->p;
    const struct zk_request *req = c->req;
    uint32_t n = req->op_count;
    *err = multi_whole_check(p, req);
    if (*err != ZOK) {
        *whole = true; /* the caller turns it into a single error txn */
        return ZOK;
    }
    uint64_t start = overlay_mark(&p->ov);
    uint32_t failed = n;
    for (uint32_t i = 0; i < n; i++) {
        int rc = prep_one(c, &req->ops[i], &p->ops[i], true);
        if (request_level(rc))
            return rc;
        if (rc != ZOK) {
            failed = i;
            *err = rc;
            overlay_truncate(&p->ov, start);
            break;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (failed == n) {
            p->txn_ops[i] = op_fixed(p, &p->ops[i]);
            continue;
        }
        memset(&p->txn_ops[i], 0, sizeof p->txn_ops[i]);
        p->txn_ops[i].type = ZOO_ERROR_OP;
        p->txn_ops[i].err = i < failed ? ZOK : i == failed ? *err : ZRUNTIMEINCONSISTENCY;
    }
    txn->ops = p->txn_ops;
    txn->op_count = n;
    return ZOK;
}

static int prep_build(struct prep_ctx *c, struct zk_txn *txn, int32_t *err, bool *whole)
{
    const struct zk_request *req = c->req;
    switch (req->type) {
    case ZOO_CREATE_SESSION_OP:
        txn->timeout_ms = req->timeout_ms;
        return ZOK;
    case ZOO_CLOSE_SESSION_OP:
        return prep_close_session(c, txn);
    case ZOO_MULTI_OP:
        return prep_multi(c, txn, err, whole);
    default: {
        int rc = prep_one(c, req, &c->p->ops[0], false);
        if (rc == ZOK)
            txn->op = op_fixed(c->p, &c->p->ops[0]);
        else if (!request_level(rc))
            *err = rc;
        return request_level(rc) ? rc : ZOK;
    }
    }
}

int prep_request(struct prep *p, const struct tree *t, struct session_tracker *tr,
                 const struct zk_request *req, int64_t zxid, int64_t time_ms,
                 uint8_t *txn_buf, size_t cap, struct prep_result *res)
{
    memset(res, 0, sizeof *res);
    p->names_len = 0;
    p->acl_used = 0;
    p->close_count = 0;
    if (!prep_is_write(req->type)) {
        res->err = ZUNIMPLEMENTED;
        return ZOK;
    }
    struct prep_ctx c = {p, t, tr, req, zxid, time_ms};
    struct zk_txn txn = {.session_id = req->session_id, .cxid = req->cxid, .zxid = zxid,
                         .time_ms = time_ms, .type = req->type};
    uint64_t start = overlay_mark(&p->ov);
    p->last_mark = start;
    int32_t err = ZOK;
    bool whole = req->type != ZOO_MULTI_OP; /* a single op's failure fails it all */
    int rc = prep_build(&c, &txn, &err, &whole);
    if (rc != ZOK) {
        overlay_truncate(&p->ov, start);
        res->err = rc;
        return rc == ZTHROTTLEDOP ? ZOK : rc;
    }
    if (err != ZOK && whole) {
        overlay_truncate(&p->ov, start);
        memset(&txn.op, 0, sizeof txn.op);
        txn.ops = NULL;
        txn.op_count = 0;
        txn.type = txn.op.type = ZOO_ERROR_OP;
        txn.op.err = err;
    }
    res->err = err;
    if (zk_txn_encode(&txn, txn_buf, cap, &res->txn_len) != ZOK) {
        overlay_truncate(&p->ov, start);
        res->txn_len = zk_txn_encoded_size(&txn); /* grow to this and retry */
        return ZBADARGUMENTS;
    }
    res->has_txn = true;
    return ZOK;
}
