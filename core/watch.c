/* watch: registrations per path, an index for lookup, and the trigger
 * table. A trigger first collects the connections to notify (from the path
 * and, for recursive watches, its ancestors), then sorts and de-duplicates
 * them, so each connection gets one event per trigger in conn order. */
#include "core/watch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash64.h"
#include "core/path.h"

#define WATCH_NONE UINT32_MAX

int watch_init(struct watch_mgr *wm, uint32_t max_per_conn)
{
    memset(wm, 0, sizeof *wm);
    wm->max_per_conn = max_per_conn ? max_per_conn : WATCH_MAX_PER_CONN_DEFAULT;
    wm->free_head = WATCH_NONE;
    wm->slot_cap = 64;
    wm->slots = calloc(wm->slot_cap, sizeof *wm->slots);
    return wm->slots ? ZOK : ZSYSTEMERROR;
}

void watch_free(struct watch_mgr *wm)
{
    for (uint32_t i = 0; i < wm->path_high; i++) {
        if (wm->paths[i].live) {
            free(wm->paths[i].path);
            free(wm->paths[i].regs);
        }
    }
    free(wm->paths);
    free(wm->slots);
    free(wm->conns);
    free(wm->scratch);
    memset(wm, 0, sizeof *wm);
}

static void *watch_dup(const void *src, size_t len)
{
    if (len == 0)
        return NULL;
    void *p = malloc(len);
    if (p != NULL)
        memcpy(p, src, len);
    return p;
}

int watch_clone(struct watch_mgr *dst, const struct watch_mgr *src)
{
    *dst = *src;
    dst->scratch = NULL;
    dst->scratch_cap = 0;
    dst->slots = watch_dup(src->slots, src->slot_cap * sizeof *src->slots);
    dst->conns = watch_dup(src->conns, src->conn_cap * sizeof *src->conns);
    dst->paths = src->path_cap ? calloc(src->path_cap, sizeof *dst->paths) : NULL;
    bool ok = dst->slots && (!src->conn_cap || dst->conns) && (!src->path_cap || dst->paths);
    dst->path_high = 0;
    for (uint32_t i = 0; ok && i < src->path_high; i++) {
        const struct watch_path *sp = &src->paths[i];
        struct watch_path *dp = &dst->paths[i];
        *dp = *sp;
        dst->path_high = i + 1;
        if (!sp->live)
            continue;
        dp->path = watch_dup(sp->path, sp->len + 1u);
        dp->regs = watch_dup(sp->regs, sp->reg_cap * sizeof *sp->regs);
        ok = dp->path != NULL && (sp->reg_cap == 0 || dp->regs != NULL);
    }
    if (!ok) {
        watch_free(dst);
        return ZSYSTEMERROR;
    }
    return ZOK;
}

void watch_out_init(struct watch_out *out)
{
    memset(out, 0, sizeof *out);
}

void watch_out_reset(struct watch_out *out)
{
    out->count = 0;
    out->strings_len = 0;
}

void watch_out_free(struct watch_out *out)
{
    free(out->events);
    free(out->strings);
    memset(out, 0, sizeof *out);
}

static int out_event(struct watch_out *out, uint64_t conn, int32_t type, int64_t zxid,
                     const char *path, size_t len)
{
    if (out->count == out->cap) {
        uint32_t cap = out->cap ? out->cap * 2 : 16;
        struct watch_event *e = realloc(out->events, cap * sizeof *e);
        if (e == NULL)
            return ZSYSTEMERROR;
        out->events = e;
        out->cap = cap;
    }
    size_t need = out->strings_len + len + 1;
    if (need > out->strings_cap) {
        size_t cap = out->strings_cap ? out->strings_cap : 256;
        while (cap < need)
            cap *= 2;
        char *s = realloc(out->strings, cap);
        if (s == NULL)
            return ZSYSTEMERROR;
        out->strings = s;
        out->strings_cap = cap;
    }
    memcpy(out->strings + out->strings_len, path, len);
    out->strings[out->strings_len + len] = '\0';
    out->events[out->count++] = (struct watch_event){conn, type, zxid, (uint32_t)out->strings_len, (uint32_t)len};
    out->strings_len = need;
    return ZOK;
}

/* ---- path index ------------------------------------------------------- */

static uint32_t idx_find(const struct watch_mgr *wm, const char *path, size_t len, bool *found)
{
    uint32_t mask = wm->slot_cap - 1;
    uint32_t i = (uint32_t)hash64_path(path, len) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t v = wm->slots[i];
        if (v == 0) {
            *found = false;
            return i;
        }
        const struct watch_path *p = &wm->paths[v - 1];
        if (p->len == len && memcmp(p->path, path, len) == 0) {
            *found = true;
            return i;
        }
    }
}

static int idx_grow(struct watch_mgr *wm)
{
    uint32_t cap = wm->slot_cap * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return ZSYSTEMERROR;
    free(wm->slots);
    wm->slots = slots;
    wm->slot_cap = cap;
    for (uint32_t i = 0; i < wm->path_high; i++) {
        if (!wm->paths[i].live)
            continue;
        bool found;
        uint32_t s = idx_find(wm, wm->paths[i].path, wm->paths[i].len, &found);
        slots[s] = i + 1;
    }
    return ZOK;
}

static void idx_remove(struct watch_mgr *wm, const char *path, size_t len)
{
    bool found;
    uint32_t i = idx_find(wm, path, len, &found);
    assert(found);
    uint32_t mask = wm->slot_cap - 1, j = i;
    for (;;) {
        wm->slots[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (wm->slots[j] == 0)
                return;
            const struct watch_path *p = &wm->paths[wm->slots[j] - 1];
            uint32_t home = (uint32_t)hash64_path(p->path, p->len) & mask;
            bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        wm->slots[i] = wm->slots[j];
        i = j;
    }
}

static struct watch_path *path_get(const struct watch_mgr *wm, const char *path, size_t len)
{
    bool found;
    uint32_t s = idx_find(wm, path, len, &found);
    return found ? &wm->paths[wm->slots[s] - 1] : NULL;
}

static struct watch_path *path_get_or_add(struct watch_mgr *wm, const char *path, size_t len)
{
    struct watch_path *p = path_get(wm, path, len);
    if (p != NULL)
        return p;
    if ((wm->path_live + 1) * 2 > wm->slot_cap && idx_grow(wm) != ZOK)
        return NULL;
    uint32_t idx;
    if (wm->free_head != WATCH_NONE) {
        idx = wm->free_head;
        wm->free_head = wm->paths[idx].next_free;
    } else {
        if (wm->path_high == wm->path_cap) {
            uint32_t cap = wm->path_cap ? wm->path_cap * 2 : 16;
            struct watch_path *np = realloc(wm->paths, cap * sizeof *np);
            if (np == NULL)
                return NULL;
            wm->paths = np;
            wm->path_cap = cap;
        }
        idx = wm->path_high++;
    }
    p = &wm->paths[idx];
    memset(p, 0, sizeof *p);
    p->path = malloc(len + 1);
    if (p->path == NULL) {
        p->next_free = wm->free_head;
        wm->free_head = idx;
        return NULL;
    }
    memcpy(p->path, path, len);
    p->path[len] = '\0';
    p->len = (uint32_t)len;
    p->live = true;
    bool found;
    wm->slots[idx_find(wm, path, len, &found)] = idx + 1;
    wm->path_live++;
    return p;
}

static void path_drop_if_empty(struct watch_mgr *wm, struct watch_path *p)
{
    if (p->reg_count > 0)
        return;
    idx_remove(wm, p->path, p->len);
    free(p->path);
    free(p->regs);
    uint32_t idx = (uint32_t)(p - wm->paths);
    memset(p, 0, sizeof *p);
    p->next_free = wm->free_head;
    wm->free_head = idx;
    wm->path_live--;
}

/* ---- per-connection counts ------------------------------------------------ */

static uint32_t conn_pos(const struct watch_mgr *wm, uint64_t conn, bool *found)
{
    uint32_t lo = 0, hi = wm->conn_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (wm->conns[mid].conn < conn)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < wm->conn_count && wm->conns[lo].conn == conn;
    return lo;
}

uint32_t watch_conn_count(const struct watch_mgr *wm, uint64_t conn)
{
    bool found;
    uint32_t i = conn_pos(wm, conn, &found);
    return found ? wm->conns[i].count : 0;
}

uint32_t watch_count_total(const struct watch_mgr *wm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < wm->conn_count; i++)
        n += wm->conns[i].count;
    return n;
}

static int conn_adjust(struct watch_mgr *wm, uint64_t conn, int delta)
{
    bool found;
    uint32_t i = conn_pos(wm, conn, &found);
    if (!found) {
        assert(delta > 0);
        if (wm->conn_count == wm->conn_cap) {
            uint32_t cap = wm->conn_cap ? wm->conn_cap * 2 : 16;
            struct watch_conn *c = realloc(wm->conns, cap * sizeof *c);
            if (c == NULL)
                return ZSYSTEMERROR;
            wm->conns = c;
            wm->conn_cap = cap;
        }
        memmove(wm->conns + i + 1, wm->conns + i, (wm->conn_count - i) * sizeof *wm->conns);
        wm->conns[i] = (struct watch_conn){conn, 0};
        wm->conn_count++;
    }
    wm->conns[i].count = (uint32_t)((int64_t)wm->conns[i].count + delta);
    if (wm->conns[i].count == 0) {
        memmove(wm->conns + i, wm->conns + i + 1, (wm->conn_count - i - 1) * sizeof *wm->conns);
        wm->conn_count--;
    }
    return ZOK;
}

/* ---- registrations ---------------------------------------------------------- */

static uint32_t reg_pos(const struct watch_path *p, uint64_t conn, bool *found)
{
    uint32_t lo = 0, hi = p->reg_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->regs[mid].conn < conn)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < p->reg_count && p->regs[lo].conn == conn;
    return lo;
}

/* Sets a registration's bits; removes it (and maybe the path) at zero. */
static void reg_set_bits(struct watch_mgr *wm, struct watch_path *p, uint32_t i, uint32_t bits)
{
    struct watch_reg *r = &p->regs[i];
    if ((r->bits & WATCH_RECURSIVE) && !(bits & WATCH_RECURSIVE))
        wm->recursive_count--;
    if (!(r->bits & WATCH_RECURSIVE) && (bits & WATCH_RECURSIVE))
        wm->recursive_count++;
    r->bits = bits;
    if (bits != 0)
        return;
    uint64_t conn = r->conn;
    memmove(p->regs + i, p->regs + i + 1, (p->reg_count - i - 1) * sizeof *p->regs);
    p->reg_count--;
    conn_adjust(wm, conn, -1);
}

int watch_add(struct watch_mgr *wm, uint64_t conn, const char *path, size_t len, uint32_t bits)
{
    if (bits == 0 || (bits & ~(WATCH_DATA | WATCH_CHILD | WATCH_PERSISTENT | WATCH_RECURSIVE)) != 0)
        return ZBADARGUMENTS;
    struct watch_path *p = path_get(wm, path, len);
    bool found = false;
    uint32_t i = p ? reg_pos(p, conn, &found) : 0;
    if (found) {
        reg_set_bits(wm, p, i, p->regs[i].bits | bits);
        return ZOK;
    }
    if (watch_conn_count(wm, conn) >= wm->max_per_conn)
        return ZTHROTTLEDOP;
    p = path_get_or_add(wm, path, len);
    if (p == NULL)
        return ZSYSTEMERROR;
    i = reg_pos(p, conn, &found);
    if (p->reg_count == p->reg_cap) {
        uint32_t cap = p->reg_cap ? p->reg_cap * 2 : 4;
        struct watch_reg *r = realloc(p->regs, cap * sizeof *r);
        if (r == NULL || conn_adjust(wm, conn, 1) != ZOK) {
            if (r != NULL)
                p->regs = r;
            path_drop_if_empty(wm, p);
            return ZSYSTEMERROR;
        }
        p->regs = r;
        p->reg_cap = cap;
    } else if (conn_adjust(wm, conn, 1) != ZOK) {
        return ZSYSTEMERROR;
    }
    memmove(p->regs + i + 1, p->regs + i, (p->reg_count - i) * sizeof *p->regs);
    p->regs[i] = (struct watch_reg){conn, 0};
    p->reg_count++;
    reg_set_bits(wm, p, i, bits);
    return ZOK;
}

uint32_t watch_bits(const struct watch_mgr *wm, uint64_t conn, const char *path, size_t len)
{
    const struct watch_path *p = path_get(wm, path, len);
    bool found = false;
    uint32_t i = p ? reg_pos(p, conn, &found) : 0;
    return found ? p->regs[i].bits : 0;
}

/* ---- triggering ------------------------------------------------------------- */

static int scratch_push(struct watch_mgr *wm, uint32_t *n, uint64_t conn)
{
    if (*n == wm->scratch_cap) {
        uint32_t cap = wm->scratch_cap ? wm->scratch_cap * 2 : 16;
        uint64_t *s = realloc(wm->scratch, cap * sizeof *s);
        if (s == NULL)
            return ZSYSTEMERROR;
        wm->scratch = s;
        wm->scratch_cap = cap;
    }
    wm->scratch[(*n)++] = conn;
    return ZOK;
}

/* Which bits of a registration on the event's own path fire, and which of
 * them are consumed (one-shot). */
static void trigger_masks(int32_t event, uint32_t *fire, uint32_t *consume)
{
    switch (event) {
    case ZOO_EVENT_CHILD_CHANGED:
        *fire = WATCH_CHILD | WATCH_PERSISTENT;
        *consume = WATCH_CHILD;
        break;
    case ZOO_EVENT_DELETED:
        *fire = WATCH_DATA | WATCH_CHILD | WATCH_PERSISTENT | WATCH_RECURSIVE;
        *consume = WATCH_DATA | WATCH_CHILD;
        break;
    default: /* created, data changed */
        *fire = WATCH_DATA | WATCH_PERSISTENT | WATCH_RECURSIVE;
        *consume = WATCH_DATA;
        break;
    }
}

static int collect_own(struct watch_mgr *wm, int32_t event, const char *path, size_t len, uint32_t *n)
{
    struct watch_path *p = path_get(wm, path, len);
    if (p == NULL)
        return ZOK;
    uint32_t fire, consume;
    trigger_masks(event, &fire, &consume);
    for (uint32_t i = 0; i < p->reg_count;) {
        uint32_t bits = p->regs[i].bits;
        if (bits & fire) {
            if (scratch_push(wm, n, p->regs[i].conn) != ZOK)
                return ZSYSTEMERROR;
        }
        uint32_t left = bits & ~consume;
        if (left != bits) {
            reg_set_bits(wm, p, i, left);
            if (left == 0)
                continue; /* the entry at i was removed */
        }
        i++;
    }
    path_drop_if_empty(wm, p);
    return ZOK;
}

static int collect_ancestors(struct watch_mgr *wm, const char *path, size_t len, uint32_t *n)
{
    size_t plen = zk_path_parent_len(path, len);
    while (plen > 0) {
        const struct watch_path *p = path_get(wm, path, plen);
        for (uint32_t i = 0; p != NULL && i < p->reg_count; i++)
            if ((p->regs[i].bits & WATCH_RECURSIVE) && scratch_push(wm, n, p->regs[i].conn) != ZOK)
                return ZSYSTEMERROR;
        plen = zk_path_parent_len(path, plen);
    }
    return ZOK;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int watch_trigger(struct watch_mgr *wm, int32_t event, const char *path, size_t len,
                  int64_t zxid, const struct zk_acl *acl, uint32_t acl_count,
                  const struct watch_filter *filter, struct watch_out *out)
{
    uint32_t n = 0;
    int rc = collect_own(wm, event, path, len, &n);
    if (rc == ZOK && event != ZOO_EVENT_CHILD_CHANGED && wm->recursive_count > 0)
        rc = collect_ancestors(wm, path, len, &n);
    if (rc != ZOK)
        return rc;
    if (n > 1)
        qsort(wm->scratch, n, sizeof *wm->scratch, u64_cmp);
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && wm->scratch[i] == wm->scratch[i - 1])
            continue;
        if (filter != NULL && filter->may_read != NULL &&
            !filter->may_read(filter->ctx, wm->scratch[i], acl, acl_count))
            continue;
        rc = out_event(out, wm->scratch[i], event, zxid, path, len);
        if (rc != ZOK)
            return rc;
    }
    return ZOK;
}

int watch_trigger_applied(struct watch_mgr *wm, const struct zk_apply_out *applied,
                          const struct watch_filter *filter, struct watch_out *out)
{
    for (uint32_t i = 0; i < applied->trigger_count; i++) {
        const struct zk_trigger *t = &applied->triggers[i];
        int rc = watch_trigger(wm, t->event, zk_apply_out_str(applied, t->path_off), t->path_len,
                               applied->zxid, zk_apply_out_acl(applied, t->acl_off), t->acl_count,
                               filter, out);
        if (rc != ZOK)
            return rc;
    }
    return ZOK;
}

/* ---- check / remove ------------------------------------------------------------ */

static int type_mask(int32_t type, uint32_t *mask)
{
    switch (type) {
    case ZOO_WATCHER_CHILDREN: *mask = WATCH_CHILD; return ZOK;
    case ZOO_WATCHER_DATA: *mask = WATCH_DATA; return ZOK;
    case ZOO_WATCHER_ANY: *mask = WATCH_DATA | WATCH_CHILD | WATCH_PERSISTENT | WATCH_RECURSIVE; return ZOK;
    case ZOO_WATCHER_PERSISTENT: *mask = WATCH_PERSISTENT; return ZOK;
    case ZOO_WATCHER_PERSISTENT_RECURSIVE: *mask = WATCH_RECURSIVE; return ZOK;
    default: return ZBADARGUMENTS;
    }
}

int watch_check(const struct watch_mgr *wm, uint64_t conn, const char *path, size_t len, int32_t type)
{
    uint32_t mask;
    if (type_mask(type, &mask) != ZOK)
        return ZBADARGUMENTS;
    return (watch_bits(wm, conn, path, len) & mask) ? ZOK : ZNOWATCHER;
}

int watch_remove(struct watch_mgr *wm, uint64_t conn, const char *path, size_t len, int32_t type)
{
    uint32_t mask;
    if (type_mask(type, &mask) != ZOK)
        return ZBADARGUMENTS;
    struct watch_path *p = path_get(wm, path, len);
    bool found = false;
    uint32_t i = p ? reg_pos(p, conn, &found) : 0;
    if (!found || !(p->regs[i].bits & mask))
        return ZNOWATCHER;
    reg_set_bits(wm, p, i, p->regs[i].bits & ~mask);
    path_drop_if_empty(wm, p);
    return ZOK;
}

void watch_remove_conn(struct watch_mgr *wm, uint64_t conn)
{
    for (uint32_t k = 0; k < wm->path_high && watch_conn_count(wm, conn) > 0; k++) {
        struct watch_path *p = &wm->paths[k];
        if (!p->live)
            continue;
        bool found;
        uint32_t i = reg_pos(p, conn, &found);
        if (!found)
            continue;
        reg_set_bits(wm, p, i, 0);
        path_drop_if_empty(wm, p);
    }
}

/* ---- setWatches -------------------------------------------------------------------- */

enum sw_kind { SW_DATA, SW_EXIST, SW_CHILD };

static int sw_one(struct watch_mgr *wm, const struct tree *t, uint64_t conn, enum sw_kind kind,
                  const char *path, int64_t rel, int64_t zxid, struct watch_out *out)
{
    size_t len = strlen(path);
    const struct tree_node *n = tree_get(t, path, len);
    int32_t ev = 0;
    if (kind == SW_DATA)
        ev = !n ? ZOO_EVENT_DELETED : n->stat.mzxid > rel ? ZOO_EVENT_DATA_CHANGED : 0;
    else if (kind == SW_EXIST)
        ev = n ? ZOO_EVENT_CREATED : 0;
    else
        ev = !n ? ZOO_EVENT_DELETED : n->stat.pzxid > rel ? ZOO_EVENT_CHILD_CHANGED : 0;
    if (ev != 0)
        return out_event(out, conn, ev, zxid, path, len);
    return watch_add(wm, conn, path, len, kind == SW_CHILD ? WATCH_CHILD : WATCH_DATA);
}

int watch_set_watches(struct watch_mgr *wm, const struct tree *t, uint64_t conn,
                      int64_t relative_zxid, const struct watch_list *data,
                      const struct watch_list *exist, const struct watch_list *child,
                      const struct watch_list *persistent,
                      const struct watch_list *recursive, int64_t zxid,
                      struct watch_out *out)
{
    const struct watch_list *lists[3] = {data, exist, child};
    for (int k = 0; k < 3; k++)
        for (uint32_t i = 0; lists[k] && i < lists[k]->count; i++) {
            int rc = sw_one(wm, t, conn, (enum sw_kind)k, lists[k]->paths[i], relative_zxid, zxid, out);
            if (rc != ZOK)
                return rc;
        }
    const struct watch_list *plists[2] = {persistent, recursive};
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; plists[k] && i < plists[k]->count; i++) {
            const char *p = plists[k]->paths[i];
            int rc = watch_add(wm, conn, p, strlen(p), k ? WATCH_RECURSIVE : WATCH_PERSISTENT);
            if (rc != ZOK)
                return rc;
        }
    return ZOK;
}

/* ---- listings ------------------------------------------------------------------------ */

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

uint32_t watch_paths_of(const struct watch_mgr *wm, uint64_t conn, const char **out, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < wm->path_high; k++) {
        const struct watch_path *p = &wm->paths[k];
        bool found = false;
        if (p->live)
            reg_pos(p, conn, &found);
        if (!found)
            continue;
        if (n < cap)
            out[n] = p->path;
        n++;
    }
    /* Only a complete list can be sorted into the true first cap entries. */
    if (n <= cap && n > 1)
        qsort(out, n, sizeof *out, str_ptr_cmp);
    return n;
}

uint32_t watch_conns_on(const struct watch_mgr *wm, const char *path, size_t len, uint64_t *out, uint32_t cap)
{
    const struct watch_path *p = path_get(wm, path, len);
    if (p == NULL)
        return 0;
    for (uint32_t i = 0; i < p->reg_count && i < cap; i++)
        out[i] = p->regs[i].conn;
    return p->reg_count;
}
