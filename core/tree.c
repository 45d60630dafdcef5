/* tree: node storage (chunks), the path index, the ACL intern table,
 * children ordering, the ephemeral index and the incremental digest.
 * Snapshot encoding is in tree_snap.c. Every mutation goes through
 * node_rehash() so the digest never drifts. Memory per node matters
 * (issue #8): one allocation per node for path + data, shared ACL lists,
 * no per-leaf children array. */
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

/* ---- node storage ---------------------------------------------------- */

static struct tree_node *nd(const struct tree *t, uint32_t i)
{
    return &t->chunks[i >> TREE_CHUNK_SHIFT][i & (TREE_CHUNK_NODES - 1)];
}

static bool node_live(const struct tree_node *n)
{
    return n->path != NULL;
}

/* ---- digest -------------------------------------------------------- */

static uint64_t node_hash(const struct tree *t, const struct tree_node *n)
{
    uint64_t h = hash64_bytes(0x7a61626c6162ull, n->path, n->path_len);
    h = hash64_bytes(h, tree_node_data(n), tree_node_data_len(n));
    const struct zk_stat *s = &n->stat;
    h = hash64_word(h, (uint64_t)s->czxid);
    h = hash64_word(h, (uint64_t)s->mzxid);
    h = hash64_word(h, (uint64_t)s->ctime_ms);
    h = hash64_word(h, (uint64_t)s->mtime_ms);
    h = hash64_word(h, (uint64_t)(uint32_t)s->version << 32 | (uint32_t)s->cversion);
    h = hash64_word(h, (uint64_t)(uint32_t)s->aversion);
    h = hash64_word(h, (uint64_t)s->ephemeral_owner);
    h = hash64_word(h, (uint64_t)s->pzxid);
    uint32_t acl_count;
    const struct zk_acl *acl = tree_node_acl(t, n, &acl_count);
    h = hash64_word(h, acl_count);
    for (uint32_t i = 0; i < acl_count; i++) {
        const struct zk_acl *a = &acl[i];
        h = hash64_word(h, (uint64_t)(uint32_t)a->perms);
        h = hash64_bytes(h, a->id.scheme, strlen(a->id.scheme));
        h = hash64_bytes(h, a->id.id, strlen(a->id.id));
    }
    return hash64_fmix(h);
}

/* Replaces n's share of the digest after a change to it; old_hash is
 * node_hash() from before the change. Hashes are recomputed rather than
 * stored (8 bytes a node): a change costs one extra hash of the node. */
static void node_rehash(struct tree *t, const struct tree_node *n, uint64_t old_hash)
{
    t->digest += node_hash(t, n) - old_hash;
}

uint64_t tree_digest_recompute(const struct tree *t)
{
    uint64_t d = 0;
    for (uint32_t i = 0; i < t->node_high; i++)
        if (node_live(nd(t, i)))
            d += node_hash(t, nd(t, i));
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
        const struct tree_node *n = nd(t, v - 1);
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
        const struct tree_node *n = nd(t, old[i] - 1);
        bool found;
        uint32_t s = index_find_slot(t, n->path, n->path_len, &found);
        assert(!found);
        slots[s] = old[i];
    }
    free(old);
    return ZOK;
}

/* Backward-shift deletion keeps probe chains intact without tombstones.
 * home(v) is the home slot of the entry v (mask applied by the caller). */
static void slots_remove(uint32_t *slots, uint32_t cap, uint32_t i,
                         uint64_t (*home)(const struct tree *, uint32_t), const struct tree *t)
{
    uint32_t mask = cap - 1;
    uint32_t j = i;
    for (;;) {
        slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (slots[j] == 0)
                return;
            uint32_t h = (uint32_t)home(t, slots[j]) & mask;
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            bool stays = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
            if (!stays)
                break;
        }
        slots[i] = slots[j];
        i = j;
    }
}

static uint64_t path_home(const struct tree *t, uint32_t v)
{
    const struct tree_node *n = nd(t, v - 1);
    return hash64_path(n->path, n->path_len);
}

static void index_remove(struct tree *t, const char *path, size_t len)
{
    bool found;
    uint32_t i = index_find_slot(t, path, len, &found);
    assert(found);
    slots_remove(t->slots, t->slot_cap, i, path_home, t);
}

/* Index of the node at path, TREE_NONE if there is none. */
static uint32_t index_lookup(const struct tree *t, const char *path, size_t len)
{
    if (t->slot_cap == 0)
        return TREE_NONE;
    bool found;
    uint32_t s = index_find_slot(t, path, len, &found);
    return found ? t->slots[s] - 1 : TREE_NONE;
}

static const struct tree_node *index_get(const struct tree *t, const char *path, size_t len)
{
    uint32_t i = index_lookup(t, path, len);
    return i == TREE_NONE ? NULL : nd(t, i);
}

const struct tree_node *tree_get(const struct tree *t, const char *path, size_t len)
{
    return index_get(t, path, len);
}

const struct tree_node *tree_node_at(const struct tree *t, uint32_t index)
{
    if (index >= t->node_high || !node_live(nd(t, index)))
        return NULL;
    return nd(t, index);
}

uint32_t tree_index_of(const struct tree *t, const struct tree_node *n)
{
    uint32_t i = index_lookup(t, n->path, n->path_len);
    assert(i != TREE_NONE && nd(t, i) == n);
    return i;
}

const struct tree_node *tree_child(const struct tree *t, const struct tree_node *n, uint32_t i)
{
    return i < tree_node_child_count(n) ? nd(t, n->kids->idx[i]) : NULL;
}

/* ---- ACL intern table ---------------------------------------------------- */

static size_t acl_str_len(const char *s, size_t max)
{
    return strnlen(s, max - 1);
}

/* Hash of a list as stored (strings cut to their field size - 1). */
static uint64_t acl_key(const struct zk_acl *acl, uint32_t count)
{
    uint64_t h = hash64_word(0x61636c73ull, count);
    for (uint32_t i = 0; i < count; i++) {
        h = hash64_word(h, (uint64_t)(uint32_t)acl[i].perms);
        h = hash64_bytes(h, acl[i].id.scheme, acl_str_len(acl[i].id.scheme, ZK_SCHEME_MAX));
        h = hash64_word(h, 0);
        h = hash64_bytes(h, acl[i].id.id, acl_str_len(acl[i].id.id, ZK_ID_MAX));
    }
    return hash64_fmix(h);
}

static bool acl_str_eq(const char *a, const char *b, size_t max)
{
    size_t la = acl_str_len(a, max);
    return la == acl_str_len(b, max) && memcmp(a, b, la) == 0;
}

static bool acl_list_eq(const struct tree_acl_list *l, const struct zk_acl *acl, uint32_t count)
{
    if (l->count != count)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const struct zk_acl *a = &l->acl[i];
        if (a->perms != acl[i].perms || !acl_str_eq(a->id.scheme, acl[i].id.scheme, ZK_SCHEME_MAX) ||
            !acl_str_eq(a->id.id, acl[i].id.id, ZK_ID_MAX))
            return false;
    }
    return true;
}

static uint32_t acl_find_slot(const struct tree *t, const struct zk_acl *acl, uint32_t count,
                              uint64_t key, bool *found)
{
    uint32_t mask = t->acl_slot_cap - 1;
    for (uint32_t i = (uint32_t)key & mask;; i = (i + 1) & mask) {
        uint32_t v = t->acl_slots[i];
        *found = v != 0 && t->acls[v - 1].key == key && acl_list_eq(&t->acls[v - 1], acl, count);
        if (v == 0 || *found)
            return i;
    }
}

static int acl_index_grow(struct tree *t)
{
    uint32_t cap = t->acl_slot_cap ? t->acl_slot_cap * 2 : 16;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return ZSYSTEMERROR;
    for (uint32_t id = 0; id < t->acl_high; id++) {
        if (t->acls[id].refs == 0)
            continue;
        uint32_t s = (uint32_t)t->acls[id].key & (cap - 1);
        while (slots[s] != 0)
            s = (s + 1) & (cap - 1);
        slots[s] = id + 1;
    }
    free(t->acl_slots);
    t->acl_slots = slots;
    t->acl_slot_cap = cap;
    return ZOK;
}

/* Room for one more list: an entry and index load <= 1/2. */
static int acl_reserve(struct tree *t)
{
    if ((t->acl_live + 1) * 2 > t->acl_slot_cap && acl_index_grow(t) != ZOK)
        return ZSYSTEMERROR;
    if (t->acl_free != TREE_NONE || t->acl_high < t->acl_cap)
        return ZOK;
    uint32_t cap = t->acl_cap ? t->acl_cap * 2 : 8;
    struct tree_acl_list *a = realloc(t->acls, (size_t)cap * sizeof *a);
    if (a == NULL)
        return ZSYSTEMERROR;
    t->acls = a;
    t->acl_cap = cap;
    return ZOK;
}

/* A stored copy: strings cut to their field and NUL-padded, so equal lists
 * are equal bytes. */
static struct zk_acl *acl_copy(const struct zk_acl *acl, uint32_t count)
{
    if (count == 0)
        return NULL;
    struct zk_acl *c = calloc(count, sizeof *c);
    if (c == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++) {
        c[i].perms = acl[i].perms;
        memcpy(c[i].id.scheme, acl[i].id.scheme, acl_str_len(acl[i].id.scheme, ZK_SCHEME_MAX));
        memcpy(c[i].id.id, acl[i].id.id, acl_str_len(acl[i].id.id, ZK_ID_MAX));
    }
    return c;
}

/* The id of a list equal to acl, sharing an existing one when there is
 * one; takes a reference. */
static int acl_intern(struct tree *t, const struct zk_acl *acl, uint32_t count, uint32_t *id)
{
    if (acl_reserve(t) != ZOK)
        return ZSYSTEMERROR;
    uint64_t key = acl_key(acl, count);
    bool found;
    uint32_t s = acl_find_slot(t, acl, count, key, &found);
    if (found) {
        *id = t->acl_slots[s] - 1;
        t->acls[*id].refs++;
        return ZOK;
    }
    struct zk_acl *copy = acl_copy(acl, count);
    if (count && copy == NULL)
        return ZSYSTEMERROR;
    if (t->acl_free != TREE_NONE) {
        *id = t->acl_free;
        t->acl_free = t->acls[*id].next_free;
    } else {
        *id = t->acl_high++;
    }
    t->acls[*id] = (struct tree_acl_list){copy, count, 1, TREE_NONE, key};
    t->acl_slots[s] = *id + 1;
    t->acl_live++;
    return ZOK;
}

static uint64_t acl_home(const struct tree *t, uint32_t v)
{
    return t->acls[v - 1].key;
}

/* Drops a reference; the last one frees the list. */
static void acl_release(struct tree *t, uint32_t id)
{
    struct tree_acl_list *l = &t->acls[id];
    assert(l->refs > 0);
    if (--l->refs > 0)
        return;
    bool found;
    uint32_t s = acl_find_slot(t, l->acl, l->count, l->key, &found);
    assert(found && t->acl_slots[s] == id + 1);
    slots_remove(t->acl_slots, t->acl_slot_cap, s, acl_home, t);
    free(l->acl);
    *l = (struct tree_acl_list){NULL, 0, 0, t->acl_free, 0};
    t->acl_free = id;
    t->acl_live--;
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
    uint32_t lo = 0, hi = tree_node_child_count(n);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct tree_node *c = nd(t, n->kids->idx[mid]);
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

/* Room for one more child of p: capacity doubles from 4, so a node with
 * many children costs at most twice 4 bytes each. */
static int kids_reserve(struct tree_node *p)
{
    uint32_t count = tree_node_child_count(p);
    if (p->kids != NULL && count < p->kids->cap)
        return ZOK;
    uint32_t cap = p->kids ? p->kids->cap * 2 : 4;
    struct tree_kids *k = realloc(p->kids, sizeof *k + (size_t)cap * sizeof k->idx[0]);
    if (k == NULL)
        return ZSYSTEMERROR;
    k->cap = cap;
    p->kids = k;
    return ZOK;
}

static int child_insert(struct tree *t, uint32_t parent, uint32_t child)
{
    struct tree_node *p = nd(t, parent);
    const struct tree_node *c = nd(t, child);
    bool found;
    uint32_t pos = child_pos(t, p, tree_node_name(c), c->path_len - c->name_off, &found);
    assert(!found);
    if (kids_reserve(p) != ZOK)
        return ZSYSTEMERROR;
    uint32_t count = tree_node_child_count(p);
    memmove(p->kids->idx + pos + 1, p->kids->idx + pos, (count - pos) * sizeof p->kids->idx[0]);
    p->kids->idx[pos] = child;
    p->stat.num_children = (int32_t)(count + 1);
    return ZOK;
}

/* The last child gone, the array goes too: a parent emptied of a million
 * children does not keep their 4 MB. */
static void child_remove(struct tree *t, uint32_t parent, uint32_t child)
{
    struct tree_node *p = nd(t, parent);
    const struct tree_node *c = nd(t, child);
    bool found;
    uint32_t pos = child_pos(t, p, tree_node_name(c), c->path_len - c->name_off, &found);
    assert(found && p->kids->idx[pos] == child);
    uint32_t count = tree_node_child_count(p) - 1;
    memmove(p->kids->idx + pos, p->kids->idx + pos + 1, (count - pos) * sizeof p->kids->idx[0]);
    p->stat.num_children = (int32_t)count;
    if (count == 0) {
        free(p->kids);
        p->kids = NULL;
    }
}

static int eph_cmp(const struct tree *t, int64_t owner, const struct tree_node *n, const struct tree_eph *e)
{
    if (owner != e->owner)
        return owner < e->owner ? -1 : 1;
    const struct tree_node *m = &*nd(t, e->node);
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
    const struct tree_node *n = nd(t, node);
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
    const struct tree_node *n = nd(t, node);
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
    return nd(t, t->eph[k].node);
}

uint32_t tree_ephemerals(const struct tree *t, int64_t owner, const struct tree_node **out, uint32_t cap)
{
    uint32_t lo = eph_first(t, owner);
    uint32_t n = 0;
    for (uint32_t i = lo; i < t->eph_count && t->eph[i].owner == owner; i++, n++)
        if (n < cap)
            out[n] = nd(t, t->eph[i].node);
    return n;
}

/* ---- node allocation --------------------------------------------------- */

static int node_alloc(struct tree *t, uint32_t *out)
{
    if (t->free_head != TREE_NONE) {
        *out = t->free_head;
        t->free_head = nd(t, *out)->parent;
        return ZOK;
    }
    if (t->node_high == t->chunk_count << TREE_CHUNK_SHIFT) {
        if (t->chunk_count == t->chunk_cap) {
            uint32_t cap = t->chunk_cap ? t->chunk_cap * 2 : 4;
            struct tree_node **c = realloc(t->chunks, (size_t)cap * sizeof *c);
            if (c == NULL)
                return ZSYSTEMERROR;
            t->chunks = c;
            t->chunk_cap = cap;
        }
        struct tree_node *chunk = malloc(TREE_CHUNK_NODES * sizeof *chunk);
        if (chunk == NULL)
            return ZSYSTEMERROR;
        t->chunks[t->chunk_count++] = chunk;
    }
    *out = t->node_high++;
    return ZOK;
}

/* Frees a node's buffers and its ACL reference, and puts the slot on the
 * free list. */
static void node_release(struct tree *t, uint32_t idx)
{
    struct tree_node *n = nd(t, idx);
    free(n->path);
    free(n->kids);
    acl_release(t, n->acl);
    memset(n, 0, sizeof *n);
    n->parent = t->free_head;
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

/* path, NUL, data in one block. */
static char *node_blob(const char *path, size_t len, const uint8_t *data, uint32_t data_len)
{
    char *b = malloc(len + 1 + data_len);
    if (b == NULL)
        return NULL;
    memcpy(b, path, len);
    b[len] = '\0';
    if (data_len > 0)
        memcpy(b + len + 1, data, data_len);
    return b;
}

static int node_set_acl(struct tree *t, struct tree_node *n, const struct zk_acl *acl, uint32_t count)
{
    uint32_t id;
    if (acl_intern(t, acl, count, &id) != ZOK)
        return ZSYSTEMERROR;
    acl_release(t, n->acl);
    n->acl = id;
    return ZOK;
}

static int node_set_data(struct tree *t, struct tree_node *n, const uint8_t *data, uint32_t len)
{
    char *b = node_blob(n->path, n->path_len, data, len);
    if (b == NULL)
        return ZSYSTEMERROR;
    t->data_bytes -= tree_node_data_len(n);
    free(n->path);
    n->path = b;
    n->stat.data_length = (int32_t)len;
    t->data_bytes += len;
    return ZOK;
}

/* ---- insertion and removal ---------------------------------------------- */

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
        uint32_t p = index_lookup(t, path, zk_path_parent_len(path, len));
        if (p == TREE_NONE)
            return ZNONODE;
        if (tree_owner_is_session(nd(t, p)->stat.ephemeral_owner))
            return ZNOCHILDRENFOREPHEMERALS;
        *parent = p;
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

/* Allocates and fills node *idx (not yet linked anywhere). */
static int node_make(struct tree *t, const char *path, size_t len, const uint8_t *data,
                     uint32_t data_len, const struct zk_acl *acl, uint32_t acl_count,
                     uint32_t *idx)
{
    uint32_t acl_id;
    if (acl_intern(t, acl, acl_count, &acl_id) != ZOK)
        return ZSYSTEMERROR;
    char *blob = node_blob(path, len, data, data_len);
    if (blob == NULL || node_alloc(t, idx) != ZOK) {
        free(blob);
        acl_release(t, acl_id);
        return ZSYSTEMERROR;
    }
    struct tree_node *n = nd(t, *idx);
    memset(n, 0, sizeof *n);
    n->path = blob;
    n->path_len = (uint32_t)len;
    n->name_off = (uint32_t)zk_path_basename_off(path, len);
    n->acl = acl_id;
    return ZOK;
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
        rc = node_make(t, path, len, data, data_len, acl, acl_count, &idx);
    if (rc != ZOK)
        return rc;
    struct tree_node *n = nd(t, idx);
    n->stat = *stat;
    n->stat.data_length = (int32_t)data_len;
    n->stat.num_children = 0;
    n->parent = parent;
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
    t->data_bytes += len + data_len;
    owner_count(t, stat->ephemeral_owner, 1);
    t->digest += node_hash(t, n);
    return ZOK;
oom:
    node_release(t, idx);
    return ZSYSTEMERROR;
}

static void node_unlink(struct tree *t, uint32_t idx)
{
    struct tree_node *n = nd(t, idx);
    t->digest -= node_hash(t, n);
    if (tree_owner_is_session(n->stat.ephemeral_owner))
        eph_remove(t, idx);
    owner_count(t, n->stat.ephemeral_owner, -1);
    if (n->parent != TREE_NONE)
        child_remove(t, n->parent, idx);
    index_remove(t, n->path, n->path_len);
    t->data_bytes -= n->path_len + tree_node_data_len(n);
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
    struct tree_node *p = nd(t, n->parent);
    uint64_t old_hash = node_hash(t, p);
    /* As DataTree.createNode, a replayed create never moves cversion back;
     * compared as serial numbers so the signed wrap at INT32_MAX goes on
     * (ZooKeeper's plain '>' would get stuck there). */
    if ((int32_t)((uint32_t)parent_cversion - (uint32_t)p->stat.cversion) > 0) {
        p->stat.cversion = parent_cversion;
        p->stat.pzxid = zxid;
    }
    node_rehash(t, p, old_hash);
    if (out != NULL)
        *out = n->stat;
    return ZOK;
}

int tree_delete(struct tree *t, const char *path, size_t len, int64_t zxid)
{
    uint32_t idx = index_lookup(t, path, len);
    if (idx == TREE_NONE)
        return ZNONODE;
    const struct tree_node *n = nd(t, idx);
    if (n->parent == TREE_NONE)
        return ZBADARGUMENTS;
    if (tree_node_child_count(n) > 0)
        return ZNOTEMPTY;
    uint32_t parent = n->parent;
    node_unlink(t, idx);
    struct tree_node *p = nd(t, parent);
    uint64_t old_hash = node_hash(t, p);
    if (zxid > p->stat.pzxid)
        p->stat.pzxid = zxid;
    node_rehash(t, p, old_hash);
    return ZOK;
}

int tree_set_data(struct tree *t, const char *path, size_t len,
                  const uint8_t *data, uint32_t data_len, int32_t version,
                  int64_t zxid, int64_t time_ms, struct zk_stat *out)
{
    uint32_t idx = index_lookup(t, path, len);
    if (idx == TREE_NONE)
        return ZNONODE;
    if (data_len > t->cfg.data_max)
        return ZBADARGUMENTS;
    struct tree_node *n = nd(t, idx);
    uint64_t old_hash = node_hash(t, n);
    if (node_set_data(t, n, data, data_len) != ZOK)
        return ZSYSTEMERROR;
    n->stat.version = version;
    n->stat.mzxid = zxid;
    n->stat.mtime_ms = time_ms;
    node_rehash(t, n, old_hash);
    if (out != NULL)
        *out = n->stat;
    return ZOK;
}

int tree_set_acl(struct tree *t, const char *path, size_t len,
                 const struct zk_acl *acl, uint32_t acl_count, int32_t aversion,
                 struct zk_stat *out)
{
    uint32_t idx = index_lookup(t, path, len);
    if (idx == TREE_NONE)
        return ZNONODE;
    if (acl_count > ZK_ACL_MAX)
        return ZBADARGUMENTS;
    struct tree_node *n = nd(t, idx);
    uint64_t old_hash = node_hash(t, n);
    if (node_set_acl(t, n, acl, acl_count) != ZOK)
        return ZSYSTEMERROR;
    n->stat.aversion = aversion;
    node_rehash(t, n, old_hash);
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
    t->acl_free = TREE_NONE;
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
    uint32_t used = t->chunk_count << TREE_CHUNK_SHIFT;
    if (t->node_high < used)
        used = t->node_high;
    for (uint32_t i = 0; i < used; i++) {
        free(nd(t, i)->path);
        free(nd(t, i)->kids);
    }
    for (uint32_t c = 0; c < t->chunk_count; c++)
        free(t->chunks[c]);
    free(t->chunks);
    for (uint32_t id = 0; id < t->acl_high; id++)
        free(t->acls[id].acl);
    free(t->acls);
    free(t->acl_slots);
    free(t->slots);
    free(t->eph);
    memset(t, 0, sizeof *t);
    t->free_head = TREE_NONE;
    t->acl_free = TREE_NONE;
}

/* Copies chunk c of src into dst (dst->chunks has room); buffers of every
 * copied node are owned by dst even when this fails half way. */
static int clone_chunk(struct tree *dst, const struct tree *src, uint32_t c)
{
    uint32_t lo = c << TREE_CHUNK_SHIFT;
    uint32_t n = src->node_high - lo < TREE_CHUNK_NODES ? src->node_high - lo : TREE_CHUNK_NODES;
    struct tree_node *ch = malloc(TREE_CHUNK_NODES * sizeof *ch);
    if (ch == NULL)
        return ZSYSTEMERROR;
    memcpy(ch, src->chunks[c], n * sizeof *ch);
    for (uint32_t i = 0; i < n; i++)
        ch[i].path = NULL, ch[i].kids = NULL;
    dst->chunks[c] = ch;
    dst->chunk_count = c + 1;
    for (uint32_t i = 0; i < n; i++) {
        const struct tree_node *s = &src->chunks[c][i];
        if (!node_live(s))
            continue;
        ch[i].path = dup_bytes(s->path, s->path_len + 1u + tree_node_data_len(s), 0);
        if (ch[i].path == NULL)
            return ZSYSTEMERROR;
        uint32_t kids = tree_node_child_count(s);
        if (kids == 0)
            continue;
        ch[i].kids = dup_bytes(s->kids, sizeof *s->kids + kids * sizeof s->kids->idx[0], 0);
        if (ch[i].kids == NULL)
            return ZSYSTEMERROR;
        ch[i].kids->cap = kids;
    }
    return ZOK;
}

static int clone_acls(struct tree *dst, const struct tree *src)
{
    dst->acls = dup_bytes(src->acls, (size_t)src->acl_cap * sizeof *src->acls, 0);
    if (dst->acls == NULL)
        return src->acl_cap ? ZSYSTEMERROR : ZOK;
    for (uint32_t id = 0; id < src->acl_high; id++)
        dst->acls[id].acl = NULL;
    dst->acl_high = src->acl_high;
    for (uint32_t id = 0; id < src->acl_high; id++) {
        const struct tree_acl_list *l = &src->acls[id];
        dst->acls[id].acl = dup_bytes(l->acl, (size_t)l->count * sizeof *l->acl, 0);
        if (l->count && dst->acls[id].acl == NULL)
            return ZSYSTEMERROR;
    }
    return ZOK;
}

int tree_clone(struct tree *dst, const struct tree *src)
{
    *dst = *src;
    dst->chunks = NULL, dst->chunk_count = 0;
    dst->acls = NULL, dst->acl_high = 0;
    dst->slots = dup_bytes(src->slots, (size_t)src->slot_cap * sizeof *src->slots, 0);
    dst->acl_slots = dup_bytes(src->acl_slots, (size_t)src->acl_slot_cap * sizeof *src->acl_slots, 0);
    dst->eph = dup_bytes(src->eph, (size_t)src->eph_cap * sizeof *src->eph, 0);
    dst->chunks = calloc(src->chunk_cap ? src->chunk_cap : 1, sizeof *dst->chunks);
    int rc = (dst->slots == NULL || (src->acl_slot_cap && dst->acl_slots == NULL) ||
              (src->eph_cap && dst->eph == NULL) || dst->chunks == NULL) ? ZSYSTEMERROR : ZOK;
    if (rc == ZOK)
        rc = clone_acls(dst, src);
    for (uint32_t c = 0; c < src->chunk_count && rc == ZOK; c++)
        rc = clone_chunk(dst, src, c);
    if (rc != ZOK) {
        tree_free(dst);
        return ZSYSTEMERROR;
    }
    return ZOK;
}

/* ---- traversal --------------------------------------------------------------- */

uint32_t tree_root(const struct tree *t)
{
    return index_lookup(t, "/", 1);
}

/* Depth-first, children in name order, no stack: after a leaf, climb until
 * a node has a next sibling (found by binary search in its parent). */
uint32_t tree_preorder_next(const struct tree *t, uint32_t idx)
{
    const struct tree_node *n = nd(t, idx);
    if (tree_node_child_count(n) > 0)
        return n->kids->idx[0];
    while (n->parent != TREE_NONE) {
        const struct tree_node *p = nd(t, n->parent);
        bool found;
        uint32_t pos = child_pos(t, p, tree_node_name(n), n->path_len - n->name_off, &found);
        assert(found);
        if (pos + 1 < tree_node_child_count(p))
            return p->kids->idx[pos + 1];
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
        const struct tree_node *x = nd(t, i);
        int64_t owner = x->stat.ephemeral_owner;
        if (tree_node_child_count(x) > 0)
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
        const struct tree_node *n = nd(t, i);
        const struct zk_stat *st = &n->stat;
        char *at = used < cap ? buf + used : NULL;
        size_t room = used < cap ? cap - used : 0;
        int w = snprintf(at, room,
                         "%s czxid=0x%llx mzxid=0x%llx pzxid=0x%llx ctime=%lld mtime=%lld version=%d "
                         "cversion=%d aversion=%d owner=0x%llx children=%u data=%u\n",
                         n->path, (unsigned long long)st->czxid, (unsigned long long)st->mzxid,
                         (unsigned long long)st->pzxid, (long long)st->ctime_ms, (long long)st->mtime_ms,
                         st->version, st->cversion, st->aversion,
                         (unsigned long long)st->ephemeral_owner, tree_node_child_count(n),
                         tree_node_data_len(n));
        if (w > 0)
            used += (size_t)w;
    }
    if (cap > 0 && used >= cap)
        buf[cap - 1] = '\0';
    return used;
}
