/* tree: node storage, the path index, children ordering, the ephemeral
 * index and the incremental digest. Snapshot encoding is in tree_snap.c.
 * Every mutation goes through node_rehash() so the digest never drifts. */
#include "core/tree.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash64.h"
#include "core/path.h"

void tree_config_default(struct tree_config *cfg)
{
    cfg->data_max = ZK_DATA_MAX_DEFAULT;
    cfg->node_max = TREE_NODE_MAX_DEFAULT;
}

/* ---- digest -------------------------------------------------------- */

static uint64_t node_hash(const struct tree_node *n)
{
    uint64_t h = hash64_bytes(0x7a61626c6162ull, n->path, n->path_len);
    h = hash64_bytes(h, n->data, n->data_len);
    const struct zk_stat *s = &n->stat;
    h = hash64_word(h, (uint64_t)s->czxid);
    h = hash64_word(h, (uint64_t)s->mzxid);
    h = hash64_word(h, (uint64_t)s->ctime_ms);
    h = hash64_word(h, (uint64_t)s->mtime_ms);
    h = hash64_word(h, (uint64_t)(uint32_t)s->version << 32 | (uint32_t)s->cversion);
    h = hash64_word(h, (uint64_t)(uint32_t)s->aversion);
    h = hash64_word(h, (uint64_t)s->ephemeral_owner);
    h = hash64_word(h, (uint64_t)s->pzxid);
    h = hash64_word(h, n->acl_count);
    for (uint32_t i = 0; i < n->acl_count; i++) {
        const struct zk_acl *a = &n->acl[i];
        h = hash64_word(h, (uint64_t)(uint32_t)a->perms);
        h = hash64_bytes(h, a->id.scheme, strlen(a->id.scheme));
        h = hash64_bytes(h, a->id.id, strlen(a->id.id));
    }
    return hash64_fmix(h);
}

/* Replaces n's share of the digest after a change to it. */
static void node_rehash(struct tree *t, struct tree_node *n)
{
    t->digest -= n->hash;
    n->hash = node_hash(n);
    t->digest += n->hash;
}

uint64_t tree_digest_recompute(const struct tree *t)
{
    uint64_t d = 0;
    for (uint32_t i = 0; i < t->node_high; i++)
        if (t->nodes[i].live)
            d += node_hash(&t->nodes[i]);
    return d;
}

/* ---- path index ------------------------------------------------------ */

static uint32_t index_find_slot(const struct tree *t, const char *path, size_t len, bool *found)
{
    uint32_t mask = t->slot_cap - 1;
    uint32_t i = (uint32_t)hash64_path(path, len) & mask;
    for (;;) {
        uint32_t v = t->slots[i];
        if (v == 0) {
            *found = false;
            return i;
        }
        const struct tree_node *n = &t->nodes[v - 1];
        if (n->path_len == len && memcmp(n->path, path, len) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int index_grow(struct tree *t)
{
    uint32_t cap = t->slot_cap ? t->slot_cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return ZSYSTEMERROR;
    uint32_t *old = t->slots;
    uint32_t old_cap = t->slot_cap;
    t->slots = slots;
    t->slot_cap = cap;
    for (uint32_t i = 0; i < old_cap; i++) {
        if (old[i] == 0)
            continue;
        const struct tree_node *n = &t->nodes[old[i] - 1];
        bool found;
        uint32_t s = index_find_slot(t, n->path, n->path_len, &found);
        assert(!found);
        slots[s] = old[i];
    }
    free(old);
    return ZOK;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void index_remove(struct tree *t, const char *path, size_t len)
{
    bool found;
    uint32_t i = index_find_slot(t, path, len, &found);
    assert(found);
    uint32_t mask = t->slot_cap - 1;
    uint32_t j = i;
    for (;;) {
        t->slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (t->slots[j] == 0)
                return;
            const struct tree_node *n = &t->nodes[t->slots[j] - 1];
            uint32_t home = (uint32_t)hash64_path(n->path, n->path_len) & mask;
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

static const struct tree_node *index_get(const struct tree *t, const char *path, size_t len)
{
    if (t->slot_cap == 0)
        return NULL;
    bool found;
    uint32_t s = index_find_slot(t, path, len, &found);
    return found ? &t->nodes[t->slots[s] - 1] : NULL;
}

const struct tree_node *tree_get(const struct tree *t, const char *path, size_t len)
{
    return index_get(t, path, len);
}

const struct tree_node *tree_node_at(const struct tree *t, uint32_t index)
{
    if (index >= t->node_high || !t->nodes[index].live)
        return NULL;
    return &t->nodes[index];
}

const struct tree_node *tree_child(const struct tree *t, const struct tree_node *n, uint32_t i)
{
    return i < n->child_count ? &t->nodes[n->children[i]] : NULL;
}

/* ---- children and ephemerals ----------------------------------------- */

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t m = alen < blen ? alen : blen;
    int c = memcmp(a, b, m);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Position of `name` among n's children (insertion point if absent). */
static uint32_t child_pos(const struct tree *t, const struct tree_node *n,
                          const char *name, size_t nlen, bool *found)
{
    uint32_t lo = 0, hi = n->child_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct tree_node *c = &t->nodes[n->children[mid]];
        int r = name_cmp(tree_node_name(c), c->path_len - c->name_off, name, nlen);
        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int child_insert(struct tree *t, uint32_t parent, uint32_t child)
{
    struct tree_node *p = &t->nodes[parent];
    const struct tree_node *c = &t->nodes[child];
    bool found;
    uint32_t pos = child_pos(t, p, tree_node_name(c), c->path_len - c->name_off, &found);
    assert(!found);
    if (p->child_count == p->child_cap) {
        uint32_t cap = p->child_cap ? p->child_cap * 2 : 4;
        uint32_t *ch = realloc(p->children, cap * sizeof *ch);
        if (ch == NULL)
            return ZSYSTEMERROR;
        p->children = ch;
        p->child_cap = cap;
    }
    memmove(p->children + pos + 1, p->children + pos, (p->child_count - pos) * sizeof *p->children);
    p->children[pos] = child;
    p->child_count++;
    p->stat.num_children = (int32_t)p->child_count;
    return ZOK;
}

static void child_remove(struct tree *t, uint32_t parent, uint32_t child)
{
    struct tree_node *p = &t->nodes[parent];
    const struct tree_node *c = &t->nodes[child];
    bool found;
    uint32_t pos = child_pos(t, p, tree_node_name(c), c->path_len - c->name_off, &found);
    assert(found && p->children[pos] == child);
    memmove(p->children + pos, p->children + pos + 1, (p->child_count - pos - 1) * sizeof *p->children);
    p->child_count--;
    p->stat.num_children = (int32_t)p->child_count;
}

static int eph_cmp(const struct tree *t, int64_t owner, const struct tree_node *n, const struct tree_eph *e)
{
    if (owner != e->owner)
        return owner < e->owner ? -1 : 1;
    const struct tree_node *m = &t->nodes[e->node];
    return name_cmp(n->path, n->path_len, m->path, m->path_len);
}

static uint32_t eph_pos(const struct tree *t, int64_t owner, const struct tree_node *n)
{
    uint32_t lo = 0, hi = t->eph_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (eph_cmp(t, owner, n, &t->eph[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int eph_add(struct tree *t, uint32_t node)
{
    const struct tree_node *n = &t->nodes[node];
    if (t->eph_count == t->eph_cap) {
        uint32_t cap = t->eph_cap ? t->eph_cap * 2 : 16;
        struct tree_eph *e = realloc(t->eph, cap * sizeof *e);
        if (e == NULL)
            return ZSYSTEMERROR;
        t->eph = e;
        t->eph_cap = cap;
    }
    uint32_t pos = eph_pos(t, n->stat.ephemeral_owner, n);
    memmove(t->eph + pos + 1, t->eph + pos, (t->eph_count - pos) * sizeof *t->eph);
    t->eph[pos] = (struct tree_eph){n->stat.ephemeral_owner, node};
    t->eph_count++;
    return ZOK;
}

static void eph_remove(struct tree *t, uint32_t node)
{
    const struct tree_node *n = &t->nodes[node];
    uint32_t pos = eph_pos(t, n->stat.ephemeral_owner, n);
    assert(pos < t->eph_count && t->eph[pos].node == node);
    memmove(t->eph + pos, t->eph + pos + 1, (t->eph_count - pos - 1) * sizeof *t->eph);
    t->eph_count--;
}

static uint32_t eph_first(const struct tree *t, int64_t owner)
{
    uint32_t lo = 0, hi = t->eph_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->eph[mid].owner < owner)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct tree_node *tree_ephemeral_at(const struct tree *t, int64_t owner, uint32_t i)
{
    uint32_t k = eph_first(t, owner) + i;
    if (k >= t->eph_count || t->eph[k].owner != owner)
        return NULL;
    return &t->nodes[t->eph[k].node];
}

uint32_t tree_ephemerals(const struct tree *t, int64_t owner, const struct tree_node **out, uint32_t cap)
{
    uint32_t lo = eph_first(t, owner);
    uint32_t n = 0;
    for (uint32_t i = lo; i < t->eph_count && t->eph[i].owner == owner; i++, n++)
        if (n < cap)
            out[n] = &t->nodes[t->eph[i].node];
    return n;
}

/* ---- node allocation --------------------------------------------------- */

static int node_alloc(struct tree *t, uint32_t *out)
{
    if (t->free_head != TREE_NONE) {
        *out = t->free_head;
        t->free_head = t->nodes[*out].next_free;
        return ZOK;
    }
    if (t->node_high == t->node_cap) {
        uint32_t cap = t->node_cap ? t->node_cap * 2 : 16;
        struct tree_node *n = realloc(t->nodes, (size_t)cap * sizeof *n);
        if (n == NULL)
            return ZSYSTEMERROR;
        t->nodes = n;
        t->node_cap = cap;
    }
    *out = t->node_high++;
    return ZOK;
}

static void node_release_buffers(struct tree_node *n)
{
    free(n->path);
    free(n->data);
    free(n->acl);
    free(n->children);
}

static void node_release(struct tree *t, uint32_t idx)
{
    struct tree_node *n = &t->nodes[idx];
    node_release_buffers(n);
    memset(n, 0, sizeof *n);
    n->live = false;
    n->next_free = t->free_head;
    t->free_head = idx;
}

static void *dup_bytes(const void *src, size_t len, size_t extra)
{
    if (len + extra == 0)
        return NULL;
    void *p = malloc(len + extra);
    if (p != NULL && len > 0)
        memcpy(p, src, len);
    return p;
}

static int node_set_acl(struct tree_node *n, const struct zk_acl *acl, uint32_t count)
{
    struct zk_acl *copy = count ? dup_bytes(acl, count * sizeof *acl, 0) : NULL;
    if (count && copy == NULL)
        return ZSYSTEMERROR;
    for (uint32_t i = 0; i < count; i++) {
        copy[i].id.scheme[ZK_SCHEME_MAX - 1] = '\0';
        copy[i].id.id[ZK_ID_MAX - 1] = '\0';
    }
    free(n->acl);
    n->acl = copy;
    n->acl_count = count;
    return ZOK;
}

static int node_set_data(struct tree *t, struct tree_node *n, const uint8_t *data, uint32_t len)
{
    uint8_t *copy = dup_bytes(data, len, 0);
    if (len && copy == NULL)
        return ZSYSTEMERROR;
    t->data_bytes -= n->data_len;
    free(n->data);
    n->data = copy;
    n->data_len = len;
    n->stat.data_length = (int32_t)len;
    t->data_bytes += len;
    return ZOK;
}

/* ---- insertion and removal ---------------------------------------------- */

static uint32_t node_index(const struct tree *t, const struct tree_node *n)
{
    return (uint32_t)(n - t->nodes);
}

/* Checks that cannot fail half way: run before anything is allocated. */
static int insert_precheck(const struct tree *t, const char *path, size_t len,
                           uint32_t data_len, uint32_t acl_count, uint32_t *parent)
{
    if (zk_path_validate(path, len) != ZOK)
        return ZBADARGUMENTS;
    if (data_len > t->cfg.data_max || acl_count > ZK_ACL_MAX)
        return ZBADARGUMENTS;
    if (index_get(t, path, len) != NULL)
        return ZNODEEXISTS;
    *parent = TREE_NONE;
    if (len > 1) {
        const struct tree_node *p = index_get(t, path, zk_path_parent_len(path, len));
        if (p == NULL)
            return ZNONODE;
        if (tree_owner_is_session(p->stat.ephemeral_owner))
            return ZNOCHILDRENFOREPHEMERALS;
        *parent = node_index(t, p);
    } else if (t->live_count != 0) {
        return ZNODEEXISTS;
    }
    if (t->live_count >= t->cfg.node_max)
        return ZQUOTAEXCEEDED;
    return ZOK;
}

static int insert_reserve(struct tree *t)
{
    if ((t->live_count + 1) * 2 > t->slot_cap)
        return index_grow(t);
    return ZOK;
}

static void owner_count(struct tree *t, int64_t owner, int delta)
{
    if (tree_owner_is_container(owner))
        t->container_count += (uint32_t)delta;
    else if (tree_owner_is_ttl(owner))
        t->ttl_count += (uint32_t)delta;
}

int tree_insert_raw(struct tree *t, const char *path, size_t len,
                    const uint8_t *data, uint32_t data_len,
                    const struct zk_acl *acl, uint32_t acl_count,
                    const struct zk_stat *stat)
{
    uint32_t parent, idx;
    int rc = insert_precheck(t, path, len, data_len, acl_count, &parent);
    if (rc == ZOK)
        rc = insert_reserve(t);
    if (rc == ZOK)
        rc = node_alloc(t, &idx);
    if (rc != ZOK)
        return rc;
    struct tree_node *n = &t->nodes[idx];
    memset(n, 0, sizeof *n);
    n->path = dup_bytes(path, len, 1);
    n->stat = *stat;
    n->stat.data_length = 0;
    n->stat.num_children = 0;
    n->parent = parent;
    n->next_free = TREE_NONE;
    if (n->path == NULL || node_set_acl(n, acl, acl_count) != ZOK ||
        node_set_data(t, n, data, data_len) != ZOK)
        goto oom;
    n->path[len] = '\0';
    n->path_len = (uint32_t)len;
    n->name_off = (uint32_t)zk_path_basename_off(path, len);
    n->live = true;
    if (parent != TREE_NONE && child_insert(t, parent, idx) != ZOK)
        goto oom;
    if (tree_owner_is_session(stat->ephemeral_owner) && eph_add(t, idx) != ZOK) {
        if (parent != TREE_NONE)
            child_remove(t, parent, idx);
        goto oom;
    }
    bool found;
    uint32_t slot = index_find_slot(t, path, len, &found);
    t->slots[slot] = idx + 1;
    t->live_count++;
    t->data_bytes += len;
    owner_count(t, stat->ephemeral_owner, 1);
    n->hash = 0;
    node_rehash(t, n);
    return ZOK;
oom:
    t->data_bytes -= n->data_len;
    node_release(t, idx);
    return ZSYSTEMERROR;
}

static void node_unlink(struct tree *t, uint32_t idx)
{
    struct tree_node *n = &t->nodes[idx];
    t->digest -= n->hash;
    if (tree_owner_is_session(n->stat.ephemeral_owner))
        eph_remove(t, idx);
    owner_count(t, n->stat.ephemeral_owner, -1);
    if (n->parent != TREE_NONE)
        child_remove(t, n->parent, idx);
    index_remove(t, n->path, n->path_len);
    t->data_bytes -= n->path_len + n->data_len;
    t->live_count--;
    node_release(t, idx);
}

/* ---- public mutations ----------------------------------------------------- */

int tree_create(struct tree *t, const char *path, size_t len,
                const uint8_t *data, uint32_t data_len,
                const struct zk_acl *acl, uint32_t acl_count, int64_t owner,
                int32_t parent_cversion, int64_t zxid, int64_t time_ms,
                struct zk_stat *out)
{
    struct zk_stat st = {
        .czxid = zxid, .mzxid = zxid, .ctime_ms = time_ms, .mtime_ms = time_ms,
        .ephemeral_owner = owner, .pzxid = zxid,
    };
    if (len <= 1)
        return len == 1 ? ZNODEEXISTS : ZBADARGUMENTS;
    int rc = tree_insert_raw(t, path, len, data, data_len, acl, acl_count, &st);
    if (rc != ZOK)
        return rc;
    const struct tree_node *n = index_get(t, path, len);
    struct tree_node *p = &t->nodes[n->parent];
    /* As DataTree.createNode, a replayed create never moves cversion back;
     * compared as serial numbers so the signed wrap at INT32_MAX goes on
     * (ZooKeeper's plain '>' would get stuck there). */
    if ((int32_t)((uint32_t)parent_cversion - (uint32_t)p->stat.cversion) > 0) {
        p->stat.cversion = parent_cversion;
        p->stat.pzxid = zxid;
    }
    node_rehash(t, p);
    if (out != NULL)
        *out = n->stat;
    return ZOK;
}

int tree_delete(struct tree *t, const char *path, size_t len, int64_t zxid)
{
    const struct tree_node *n = index_get(t, path, len);
    if (n == NULL)
        return ZNONODE;
    if (n->parent == TREE_NONE)
        return ZBADARGUMENTS;
    if (n->child_count > 0)
        return ZNOTEMPTY;
    uint32_t parent = n->parent;
    node_unlink(t, node_index(t, n));
    struct tree_node *p = &t->nodes[parent];
    if (zxid > p->stat.pzxid)
        p->stat.pzxid = zxid;
    node_rehash(t, p);
    return ZOK;
}

int tree_set_data(struct tree *t, const char *path, size_t len,
                  const uint8_t *data, uint32_t data_len, int32_t version,
                  int64_t zxid, int64_t time_ms, struct zk_stat *out)
{
    const struct tree_node *cn = index_get(t, path, len);
    if (cn == NULL)
        return ZNONODE;
    if (data_len > t->cfg.data_max)
        return ZBADARGUMENTS;
    struct tree_node *n = &t->nodes[node_index(t, cn)];
    if (node_set_data(t, n, data, data_len) != ZOK)
        return ZSYSTEMERROR;
    n->stat.version = version;
    n->stat.mzxid = zxid;
    n->stat.mtime_ms = time_ms;
    node_rehash(t, n);
    if (out != NULL)
        *out = n->stat;
    return ZOK;
}

int tree_set_acl(struct tree *t, const char *path, size_t len,
                 const struct zk_acl *acl, uint32_t acl_count, int32_t aversion,
                 struct zk_stat *out)
{
    const struct tree_node *cn = index_get(t, path, len);
    if (cn == NULL)
        return ZNONODE;
    if (acl_count > ZK_ACL_MAX)
        return ZBADARGUMENTS;
    struct tree_node *n = &t->nodes[node_index(t, cn)];
    if (node_set_acl(n, acl, acl_count) != ZOK)
        return ZSYSTEMERROR;
    n->stat.aversion = aversion;
    node_rehash(t, n);
    if (out != NULL)
        *out = n->stat;
    return ZOK;
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void acl_world(struct zk_acl *a, int32_t perms)
{
    memset(a, 0, sizeof *a);
    a->perms = perms;
    strcpy(a->id.scheme, "world");
    strcpy(a->id.id, "anyone");
}

int tree_init_empty(struct tree *t, const struct tree_config *cfg)
{
    memset(t, 0, sizeof *t);
    if (cfg != NULL)
        t->cfg = *cfg;
    else
        tree_config_default(&t->cfg);
    t->free_head = TREE_NONE;
    return index_grow(t);
}

int tree_init(struct tree *t, const struct tree_config *cfg)
{
    int rc = tree_init_empty(t, cfg);
    if (rc != ZOK)
        return rc;
    struct zk_acl open, ro;
    acl_world(&open, ZOO_PERM_ALL);
    acl_world(&ro, ZOO_PERM_READ);
    struct zk_stat zero;
    memset(&zero, 0, sizeof zero);
    static const char *const paths[] = {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"};
    for (int i = 0; i < 4 && rc == ZOK; i++)
        rc = tree_insert_raw(t, paths[i], strlen(paths[i]), NULL, 0, i == 3 ? &ro : &open, 1, &zero);
    if (rc != ZOK)
        tree_free(t);
    return rc;
}

void tree_free(struct tree *t)
{
    for (uint32_t i = 0; i < t->node_high; i++)
        if (t->nodes[i].live)
            node_release_buffers(&t->nodes[i]);
    free(t->nodes);
    free(t->slots);
    free(t->eph);
    memset(t, 0, sizeof *t);
    t->free_head = TREE_NONE;
}

static int node_copy(struct tree_node *dst, const struct tree_node *src)
{
    *dst = *src;
    dst->path = dup_bytes(src->path, src->path_len + 1u, 0);
    dst->data = dup_bytes(src->data, src->data_len, 0);
    dst->acl = dup_bytes(src->acl, src->acl_count * sizeof *src->acl, 0);
    dst->children = dup_bytes(src->children, src->child_count * sizeof *src->children, 0);
    dst->child_cap = src->child_count;
    bool ok = dst->path != NULL && (src->data_len == 0 || dst->data != NULL) &&
              (src->acl_count == 0 || dst->acl != NULL) &&
              (src->child_count == 0 || dst->children != NULL);
    if (!ok) {
        node_release_buffers(dst);
        dst->live = false;
    }
    return ok ? ZOK : ZSYSTEMERROR;
}

int tree_clone(struct tree *dst, const struct tree *src)
{
    *dst = *src;
    dst->nodes = dup_bytes(src->nodes, (size_t)src->node_cap * sizeof *src->nodes, 0);
    dst->slots = dup_bytes(src->slots, (size_t)src->slot_cap * sizeof *src->slots, 0);
    dst->eph = dup_bytes(src->eph, (size_t)src->eph_cap * sizeof *src->eph, 0);
    if (dst->nodes == NULL || dst->slots == NULL || (src->eph_cap && dst->eph == NULL)) {
        free(dst->nodes);
        free(dst->slots);
        free(dst->eph);
        memset(dst, 0, sizeof *dst);
        return ZSYSTEMERROR;
    }
    for (uint32_t i = 0; i < src->node_high; i++) {
        if (!src->nodes[i].live)
            continue;
        if (node_copy(&dst->nodes[i], &src->nodes[i]) != ZOK) {
            for (uint32_t j = i + 1; j < src->node_high; j++)
                dst->nodes[j].live = false;
            tree_free(dst);
            return ZSYSTEMERROR;
        }
    }
    return ZOK;
}

/* ---- traversal --------------------------------------------------------------- */

uint32_t tree_root(const struct tree *t)
{
    const struct tree_node *r = index_get(t, "/", 1);
    return r ? node_index(t, r) : TREE_NONE;
}

/* Depth-first, children in name order, no stack: after a leaf, climb until
 * a node has a next sibling (found by binary search in its parent). */
uint32_t tree_preorder_next(const struct tree *t, uint32_t idx)
{
    const struct tree_node *n = &t->nodes[idx];
    if (n->child_count > 0)
        return n->children[0];
    while (n->parent != TREE_NONE) {
        const struct tree_node *p = &t->nodes[n->parent];
        bool found;
        uint32_t pos = child_pos(t, p, tree_node_name(n), n->path_len - n->name_off, &found);
        assert(found);
        if (pos + 1 < p->child_count)
            return p->children[pos + 1];
        n = p;
    }
    return TREE_NONE;
}

uint32_t tree_reap_candidates(const struct tree *t, int64_t now_ms,
                              const struct tree_node **out, uint32_t cap)
{
    uint32_t n = 0;
    if (t->container_count == 0 && t->ttl_count == 0)
        return 0;
    for (uint32_t i = tree_root(t); i != TREE_NONE && n < cap; i = tree_preorder_next(t, i)) {
        const struct tree_node *x = &t->nodes[i];
        int64_t owner = x->stat.ephemeral_owner;
        if (x->child_count > 0)
            continue;
        bool dead_container = tree_owner_is_container(owner) && x->stat.cversion > 0;
        int64_t ttl_ms = (int64_t)((uint64_t)owner & (uint64_t)ZK_TTL_MAX_MS);
        bool dead_ttl = tree_owner_is_ttl(owner) && now_ms - x->stat.mtime_ms > ttl_ms;
        if (dead_container || dead_ttl)
            out[n++] = x;
    }
    return n;
}

size_t tree_dump(const struct tree *t, char *buf, size_t cap)
{
    size_t used = 0;
    for (uint32_t i = tree_root(t); i != TREE_NONE; i = tree_preorder_next(t, i)) {
        const struct tree_node *n = &t->nodes[i];
        const struct zk_stat *st = &n->stat;
        char *at = used < cap ? buf + used : NULL;
        size_t room = used < cap ? cap - used : 0;
        int w = snprintf(at, room,
                         "%s czxid=0x%llx mzxid=0x%llx pzxid=0x%llx ctime=%lld mtime=%lld version=%d "
                         "cversion=%d aversion=%d owner=0x%llx children=%u data=%u\n",
                         n->path, (unsigned long long)st->czxid, (unsigned long long)st->mzxid,
                         (unsigned long long)st->pzxid, (long long)st->ctime_ms, (long long)st->mtime_ms,
                         st->version, st->cversion, st->aversion,
                         (unsigned long long)st->ephemeral_owner, n->child_count, n->data_len);
        if (w > 0)
            used += (size_t)w;
    }
    if (cap > 0 && used >= cap)
        buf[cap - 1] = '\0';
    return used;
}
