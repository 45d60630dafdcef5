/* check/model_zk: znode tree with undo and fingerprint (see model_zk.h), and
 * the glue that makes it a linearizability model (state = interned
 * serialization of the tree; meant for small histories). */
#include "check/model_zk.h"
#include "check/model.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ZKERR_BADARGUMENTS (-8)

uint64_t zkt_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void node_fp(const struct zk_node *n, uint64_t *a, uint64_t *b)
{
    if (!n->exists) {
        *a = *b = 0;
        return;
    }
    uint64_t x = zkt_mix(n->path);
    x = zkt_mix(x ^ n->data);
    x = zkt_mix(x ^ (uint32_t)n->version);
    x = zkt_mix(x ^ ((uint64_t)(uint32_t)n->cversion << 32));
    x = zkt_mix(x ^ (uint64_t)n->owner);
    *a = x;
    *b = zkt_mix(x ^ 0x243f6a8885a308d3ull);
}

static void fp_toggle(struct zk_tree *t, uint32_t i)
{
    uint64_t a, b;
    node_fp(&t->nodes[i], &a, &b);
    t->fp1 ^= a;
    t->fp2 ^= b;
}

/* Before changing node i: log it for undo and take it out of the print. */
static int begin(struct zk_tree *t, uint32_t i)
{
    if (t->n_undo == t->cap_undo) {
        uint32_t c = t->cap_undo ? t->cap_undo * 2 : 256;
        struct zk_undo *u = realloc(t->undo, (size_t)c * sizeof *u);
        if (!u)
            return -1;
        t->undo = u;
        t->cap_undo = c;
    }
    t->undo[t->n_undo++] = (struct zk_undo){i, t->nodes[i]};
    fp_toggle(t, i);
    return 0;
}

uint32_t zkt_mark(const struct zk_tree *t)
{
    return t->n_undo;
}

void zkt_undo(struct zk_tree *t, uint32_t mark)
{
    while (t->n_undo > mark) {
        struct zk_undo *u = &t->undo[--t->n_undo];
        fp_toggle(t, u->node);
        t->nodes[u->node] = u->old;
        fp_toggle(t, u->node);
    }
}

uint32_t zkt_find(const struct zk_tree *t, chk_str path)
{
    return path < t->by_cap && t->by_path[path] ? t->by_path[path] - 1 : ZKT_NONE;
}

static bool path_valid(const char *p, uint32_t len)
{
    if (len == 0 || p[0] != '/')
        return false;
    if (len == 1)
        return true;
    if (p[len - 1] == '/')
        return false;
    for (uint32_t i = 1; i < len; i++)
        if (p[i] == '/' && p[i - 1] == '/')
            return false;
    return true;
}

/* Node of path, allocated (not existing) if new. ZKT_NONE when invalid or
 * out of memory. May move t->nodes. */
static uint32_t node_get(struct zk_tree *t, chk_str path)
{
    uint32_t i = zkt_find(t, path);
    if (i != ZKT_NONE)
        return i;
    const char *s = chk_str_get(t->strs, path);
    uint32_t len = chk_str_len(t->strs, path);
    if (!path_valid(s, len))
        return ZKT_NONE;
    uint32_t parent = ZKT_NONE;
    chk_str name = 0;
    if (len > 1) {
        uint32_t cut = len - 1;
        while (s[cut] != '/')
            cut--;
        chk_str pp = chk_str_intern(t->strs, s, cut ? cut : 1);
        name = chk_str_intern(t->strs, chk_str_get(t->strs, path) + cut + 1, len - cut - 1);
        parent = pp && name ? node_get(t, pp) : ZKT_NONE;
        if (parent == ZKT_NONE)
            return ZKT_NONE;
    }
    if (t->n == t->cap) {
        uint32_t c = t->cap ? t->cap * 2 : 64;
        struct zk_node *nn = realloc(t->nodes, (size_t)c * sizeof *nn);
        if (!nn)
            return ZKT_NONE;
        t->nodes = nn;
        t->cap = c;
    }
    if (path >= t->by_cap) {
        uint32_t c = t->by_cap ? t->by_cap : 256;
        while (c <= path)
            c *= 2;
        uint32_t *b = realloc(t->by_path, (size_t)c * sizeof *b);
        if (!b)
            return ZKT_NONE;
        memset(b + t->by_cap, 0, (size_t)(c - t->by_cap) * sizeof *b);
        t->by_path = b;
        t->by_cap = c;
    }
    i = t->n++;
    t->nodes[i] = (struct zk_node){.path = path, .name = name, .parent = parent};
    t->by_path[path] = i + 1;
    return i;
}

static int make_node(struct zk_tree *t, const char *path, int64_t owner)
{
    uint32_t i = node_get(t, chk_str_intern(t->strs, path, strlen(path)));
    if (i == ZKT_NONE || begin(t, i))
        return -1;
    t->nodes[i].exists = true;
    t->nodes[i].owner = owner;
    fp_toggle(t, i);
    uint32_t p = t->nodes[i].parent;
    if (p != ZKT_NONE) {
        if (begin(t, p))
            return -1;
        t->nodes[p].n_children++;
        t->nodes[p].cversion++;
        t->nodes[p].child_hash ^= zkt_mix(t->nodes[i].name);
        fp_toggle(t, p);
    }
    return 0;
}

int zkt_init(struct zk_tree *t, struct chk_history *strs)
{
    memset(t, 0, sizeof *t);
    t->strs = strs;
    /* ZooKeeper's initial tree (reference §2.5): "ls /" shows [zookeeper]. */
    if (make_node(t, "/", 0) || make_node(t, "/zookeeper", 0)
        || make_node(t, "/zookeeper/quota", 0) || make_node(t, "/zookeeper/config", 0))
        return -1;
    t->n_undo = 0;
    return 0;
}

void zkt_free(struct zk_tree *t)
{
    for (uint32_t i = 0; i < t->eph_cap; i++)
        free(t->eph[i].nodes);
    free(t->eph);
    free(t->nodes);
    free(t->by_path);
    free(t->undo);
    memset(t, 0, sizeof *t);
}

static bool live(const struct zk_tree *t, uint32_t i)
{
    return i != ZKT_NONE && t->nodes[i].exists;
}

static int32_t version_check(const struct zk_node *n, int32_t expected)
{
    return expected == -1 || expected == n->version ? 0 : CHK_ZBADVERSION;
}

static struct zk_eph *eph_slot(const struct zk_tree *t, int64_t session)
{
    uint32_t i = (uint32_t)zkt_mix((uint64_t)session) & (t->eph_cap - 1);
    while (t->eph[i].session && t->eph[i].session != session)
        i = (i + 1) & (t->eph_cap - 1);
    return &t->eph[i];
}

static int eph_add(struct zk_tree *t, int64_t session, uint32_t node)
{
    if (session == 0)
        return 0;                        /* session 0 cannot own ephemerals here */
    if ((t->eph_n + 1) * 2 > t->eph_cap) {
        struct zk_tree old = *t;
        t->eph_cap = t->eph_cap ? t->eph_cap * 2 : 64;
        t->eph = calloc(t->eph_cap, sizeof *t->eph);
        if (!t->eph) {
            *t = old;
            return -1;
        }
        for (uint32_t i = 0; i < old.eph_cap; i++)
            if (old.eph[i].session)
                *eph_slot(t, old.eph[i].session) = old.eph[i];
        free(old.eph);
    }
    struct zk_eph *e = eph_slot(t, session);
    if (!e->session) {
        e->session = session;
        t->eph_n++;
    }
    if (e->n == e->cap) {
        uint32_t c = e->cap ? e->cap * 2 : 4;
        uint32_t *nn = realloc(e->nodes, (size_t)c * sizeof *nn);
        if (!nn)
            return -1;
        e->nodes = nn;
        e->cap = c;
    }
    e->nodes[e->n++] = node;
    return 0;
}

static int32_t op_create(struct zk_tree *t, chk_str path, chk_str data, uint8_t mode,
                         int64_t session, chk_str *created)
{
    uint32_t i = node_get(t, path);
    if (i == ZKT_NONE || t->nodes[i].parent == ZKT_NONE)
        return i == ZKT_NONE ? ZKERR_BADARGUMENTS : CHK_ZNODEEXISTS;
    uint32_t p = t->nodes[i].parent;
    if (!live(t, p))
        return CHK_ZNONODE;
    if (t->nodes[p].owner)
        return CHK_ZNOCHILDRENFOREPHEMERALS;
    if (mode & CHK_MODE_SEQUENTIAL) {
        char buf[4096 + 16];
        uint32_t len = chk_str_len(t->strs, path);
        if (len > 4096)
            return ZKERR_BADARGUMENTS;
        int n = snprintf(buf, sizeof buf, "%s%010d", chk_str_get(t->strs, path), t->nodes[p].cversion);
        path = chk_str_intern(t->strs, buf, (size_t)n);
        i = path ? node_get(t, path) : ZKT_NONE;
        if (i == ZKT_NONE)
            return ZKERR_BADARGUMENTS;
    }
    if (t->nodes[i].exists)
        return CHK_ZNODEEXISTS;
    if (begin(t, i) || begin(t, p))
        return CHK_ZRUNTIMEINCONSISTENCY;
    struct zk_node *n = &t->nodes[i];
    n->exists = true;
    n->data = data;
    n->version = n->cversion = 0;
    n->owner = (mode & CHK_MODE_EPHEMERAL) ? session : 0;
    n->n_children = 0;
    n->child_hash = 0;
    t->nodes[p].cversion++;
    t->nodes[p].n_children++;
    t->nodes[p].child_hash ^= zkt_mix(n->name);
    fp_toggle(t, i);
    fp_toggle(t, p);
    *created = path;
    if ((mode & CHK_MODE_EPHEMERAL) && eph_add(t, session, i))
        return CHK_ZRUNTIMEINCONSISTENCY;
    return 0;
}

static int32_t remove_node(struct zk_tree *t, uint32_t i)
{
    uint32_t p = t->nodes[i].parent;
    if (begin(t, i) || begin(t, p))
        return CHK_ZRUNTIMEINCONSISTENCY;
    t->nodes[i].exists = false;
    t->nodes[p].n_children--;
    t->nodes[p].child_hash ^= zkt_mix(t->nodes[i].name);
    fp_toggle(t, i);
    fp_toggle(t, p);
    return 0;
}

static int32_t op_delete(struct zk_tree *t, chk_str path, int32_t version)
{
    uint32_t i = zkt_find(t, path);
    if (!live(t, i))
        return CHK_ZNONODE;
    if (t->nodes[i].parent == ZKT_NONE)
        return ZKERR_BADARGUMENTS;
    int32_t e = version_check(&t->nodes[i], version);
    if (e)
        return e;
    if (t->nodes[i].n_children)
        return CHK_ZNOTEMPTY;
    return remove_node(t, i);
}

static int32_t op_set(struct zk_tree *t, chk_str path, chk_str data, int32_t version, int32_t *out)
{
    uint32_t i = zkt_find(t, path);
    if (!live(t, i))
        return CHK_ZNONODE;
    int32_t e = version_check(&t->nodes[i], version);
    if (e)
        return e;
    if (begin(t, i))
        return CHK_ZRUNTIMEINCONSISTENCY;
    t->nodes[i].data = data;
    t->nodes[i].version = t->nodes[i].version == INT32_MAX ? 0 : t->nodes[i].version + 1;
    fp_toggle(t, i);
    *out = t->nodes[i].version;
    return 0;
}

static int32_t op_close(struct zk_tree *t, int64_t session)
{
    if (!t->eph_cap)
        return 0;
    const struct zk_eph *e = eph_slot(t, session);
    for (uint32_t k = 0; e->session == session && k < e->n; k++) {
        uint32_t i = e->nodes[k];
        if (t->nodes[i].exists && t->nodes[i].owner == session && remove_node(t, i))
            return CHK_ZRUNTIMEINCONSISTENCY;
    }
    return 0;
}

static int32_t op_sub(struct zk_tree *t, const struct chk_sub *s, int64_t session, chk_str *created)
{
    uint32_t i;
    int32_t v;
    switch (s->f) {
    case CHK_F_CREATE: return op_create(t, s->path, s->data, s->mode, session, created);
    case CHK_F_DELETE: return op_delete(t, s->path, s->version);
    case CHK_F_SET_DATA: return op_set(t, s->path, s->data, s->version, &v);
    case CHK_F_CHECK:
        i = zkt_find(t, s->path);
        return !live(t, i) ? CHK_ZNONODE : version_check(&t->nodes[i], s->version);
    default: return ZKERR_BADARGUMENTS;
    }
}

/* All or nothing: on the first error roll back; earlier ops report OK and
 * later ones RUNTIMEINCONSISTENCY (reference §2.5, Multi). */
static void op_multi(struct zk_tree *t, const struct chk_history *h, const struct chk_event *inv,
                     int64_t session, struct zk_res *res)
{
    uint32_t mark = zkt_mark(t);
    res->n_subs = inv->n_subs;
    memset(res->sub_err, 0, inv->n_subs * sizeof *res->sub_err);
    memset(res->sub_created, 0, inv->n_subs * sizeof *res->sub_created);
    for (uint32_t k = 0; k < inv->n_subs; k++) {
        int32_t e = op_sub(t, &h->subs[inv->subs + k], session, &res->sub_created[k]);
        res->sub_err[k] = e;
        if (!e)
            continue;
        zkt_undo(t, mark);
        for (uint32_t j = 0; j < k; j++)
            res->sub_err[j] = 0, res->sub_created[j] = 0;
        for (uint32_t j = k + 1; j < inv->n_subs; j++)
            res->sub_err[j] = CHK_ZRUNTIMEINCONSISTENCY;
        res->sub_created[k] = 0;
        res->err = e;
        return;
    }
}

static void op_read(const struct zk_tree *t, const struct chk_event *inv, struct zk_res *res)
{
    uint32_t i = zkt_find(t, inv->key);
    if (!live(t, i)) {
        res->err = CHK_ZNONODE;
        return;
    }
    const struct zk_node *n = &t->nodes[i];
    res->version = n->version;
    res->data = n->data;
    res->n_children = n->n_children;
    res->children_hash = n->child_hash;
    if (inv->f == CHK_F_CHECK)
        res->err = version_check(n, inv->version);
}

int zkt_apply(struct zk_tree *t, const struct chk_history *h, const struct chk_event *inv,
              int64_t session, struct zk_res *res)
{
    memset(res, 0, offsetof(struct zk_res, sub_err));
    switch (inv->f) {
    case CHK_F_CREATE:
        res->err = op_create(t, inv->key, inv->sval, inv->mode, session, &res->created);
        break;
    case CHK_F_DELETE: res->err = op_delete(t, inv->key, inv->version); break;
    case CHK_F_SET_DATA: res->err = op_set(t, inv->key, inv->sval, inv->version, &res->version); break;
    case CHK_F_CLOSE: res->err = op_close(t, session); break;
    case CHK_F_MULTI: op_multi(t, h, inv, session, res); break;
    case CHK_F_SYNC: break;
    case CHK_F_GET_DATA: case CHK_F_EXISTS: case CHK_F_GET_CHILDREN: case CHK_F_CHECK:
        op_read(t, inv, res);
        break;
    default:
        res->err = ZKERR_BADARGUMENTS;
    }
    return res->err == CHK_ZRUNTIMEINCONSISTENCY && inv->f != CHK_F_MULTI ? -1 : 0;
}

uint64_t zkt_names_hash(const chk_str *names, uint32_t n)
{
    uint64_t x = 0;
    for (uint32_t i = 0; i < n; i++)
        x ^= zkt_mix(names[i]);
    return x;
}

static bool multi_matches(const struct chk_history *h, const struct chk_event *ret, const struct zk_res *res)
{
    if (ret->n_subs == 0)
        return true;
    if (ret->n_subs != res->n_subs)
        return false;
    for (uint32_t k = 0; k < ret->n_subs; k++) {
        const struct chk_sub *s = &h->subs[ret->subs + k];
        if (s->err != res->sub_err[k] || (s->result_path && s->result_path != res->sub_created[k]))
            return false;
    }
    return true;
}

bool zkt_res_matches(const struct chk_history *h, const struct chk_event *ret, const struct zk_res *res)
{
    if (ret->f == CHK_F_MULTI)
        return ret->err == res->err && multi_matches(h, ret, res);
    if (ret->err != res->err)
        return false;
    if (res->err)
        return true;
    switch (ret->f) {
    case CHK_F_CREATE: return !ret->result_path || ret->result_path == res->created;
    case CHK_F_SET_DATA: case CHK_F_EXISTS:
        return !ret->has_version || ret->version == res->version;
    case CHK_F_GET_DATA:
        return ret->sval == res->data && (!ret->has_version || ret->version == res->version);
    case CHK_F_GET_CHILDREN:
        return ret->n_children == res->n_children
            && zkt_names_hash(h->names + ret->children, ret->n_children) == res->children_hash;
    default:
        return true;
    }
}

/* ---- linearizability model: state = interned serialization ------------ */

struct zkm {
    struct zk_tree t;
    int64_t cached;           /* state the tree currently holds, -1 = none */
};

struct zk_rec {
    uint32_t node;
    chk_str data;
    int32_t version, cversion;
    int64_t owner;
};

static int64_t zkm_encode(struct chk_model *m, struct zkm *z)
{
    size_t n = 0;
    for (uint32_t i = 0; i < z->t.n; i++)
        n += z->t.nodes[i].exists;
    struct zk_rec *r = calloc(n + 1, sizeof *r);
    if (!r)
        return -1;
    size_t k = 0;
    for (uint32_t i = 0; i < z->t.n; i++) {
        const struct zk_node *nd = &z->t.nodes[i];
        if (nd->exists)
            r[k++] = (struct zk_rec){i, nd->data, nd->version, nd->cversion, nd->owner};
    }
    chk_str id = chk_str_intern(m->strs, (const char *)r, k * sizeof *r);
    free(r);
    return id ? (int64_t)id : -1;
}

static void zkm_decode(struct chk_model *m, struct zkm *z, int64_t state)
{
    const struct zk_rec *r = (const struct zk_rec *)chk_str_get(m->strs, (chk_str)state);
    size_t n = chk_str_len(m->strs, (chk_str)state) / sizeof *r;
    struct zk_tree *t = &z->t;
    for (uint32_t i = 0; i < t->n; i++) {
        t->nodes[i].exists = false;
        t->nodes[i].n_children = 0;
        t->nodes[i].child_hash = 0;
    }
    for (size_t k = 0; k < n; k++) {
        struct zk_rec rec;
        memcpy(&rec, r + k, sizeof rec);   /* interned bytes may be unaligned */
        struct zk_node *nd = &t->nodes[rec.node];
        nd->exists = true;
        nd->data = rec.data;
        nd->version = rec.version;
        nd->cversion = rec.cversion;
        nd->owner = rec.owner;
    }
    t->fp1 = t->fp2 = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        struct zk_node *nd = &t->nodes[i];
        if (!nd->exists)
            continue;
        fp_toggle(t, i);
        if (nd->parent != ZKT_NONE) {
            t->nodes[nd->parent].n_children++;
            t->nodes[nd->parent].child_hash ^= zkt_mix(nd->name);
        }
    }
    t->n_undo = 0;
    z->cached = state;
}

int chk_zkm_init(struct chk_model *m)
{
    struct zkm *z = calloc(1, sizeof *z);
    if (!z)
        return -1;
    m->zk = z;
    /* The tree interns generated sequential names in the history's table:
     * append-only, so existing ids (and so the history) do not change. */
    if (zkt_init(&z->t, (struct chk_history *)m->h))
        return -1;
    m->init = zkm_encode(m, z);
    z->cached = m->init;
    return m->init < 0 ? -1 : 0;
}

void chk_zkm_free(struct chk_model *m)
{
    struct zkm *z = m->zk;
    if (z)
        zkt_free(&z->t);
    free(z);
    m->zk = NULL;
}

int chk_zkm_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out, char *err, size_t errlen)
{
    const struct chk_op *o = &m->h->ops[op];
    if (o->f < CHK_F_CREATE) {
        const struct chk_event *inv = &m->h->events[o->inv];
        snprintf(err, errlen, "%s:%u:%u: %s is not a ZooKeeper operation", m->h->name, inv->line,
                 inv->col, chk_f_name(o->f));
        return -1;
    }
    out->a = o->session;
    return 0;
}

bool chk_zkm_step(struct chk_model *m, int64_t state, const struct chk_lin_op *op, int64_t *next)
{
    struct zkm *z = m->zk;
    const struct chk_op *o = &m->h->ops[op->op];
    if (z->cached != state)
        zkm_decode(m, z, state);
    uint32_t mark = zkt_mark(&z->t);
    struct zk_res res;
    if (zkt_apply(&z->t, m->h, &m->h->events[o->inv], o->session, &res) == 0
        && (o->ret == CHK_NONE || zkt_res_matches(m->h, &m->h->events[o->ret], &res))) {
        *next = zkm_encode(m, z);
        z->cached = *next;
        z->t.n_undo = 0;
        return *next >= 0;
    }
    zkt_undo(&z->t, mark);
    return false;
}

void chk_zkm_describe(const struct chk_model *m, int64_t state, char *buf, size_t len)
{
    size_t n = chk_str_len(m->strs, (chk_str)state) / sizeof(struct zk_rec);
    snprintf(buf, len, "a tree of %zu znodes", n);
}
