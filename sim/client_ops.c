/* Simulated clients' requests: argument checks, the simc_* request calls,
 * turning a decoded reply into a simc_result, watch registrations and the
 * one-shot timer pool (see sim/client.h). */
#include <stdlib.h>
#include <string.h>

#include "sim/client_internal.h"

static const struct zk_acl open_acl = {.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}};

/* ---- watches ---- */

void simc_watches_clear(struct simc_watches *w)
{
    for (uint32_t i = 0; i < w->n; i++)
        free(w->paths[i]);
    free(w->paths);
    memset(w, 0, sizeof *w);
}

void simc_watches_remove(struct simc_watches *w, const char *path)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (!strcmp(w->paths[i], path)) {
            free(w->paths[i]);
            w->paths[i] = w->paths[--w->n];
            return;
        }
}

/* Bounded: past SIMC_WATCHES_MAX the watch lives on the server only and is
 * not re-registered after a reconnect. */
static void watches_add(struct simc_watches *w, const char *path)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (!strcmp(w->paths[i], path))
            return;
    if (w->n == SIMC_WATCHES_MAX)
        return;
    if (w->n == w->cap) {
        uint32_t cap = w->cap ? w->cap * 2 : 8;
        char **p = realloc(w->paths, cap * sizeof *p);
        if (!p)
            return;
        w->paths = p;
        w->cap = cap;
    }
    size_t n = strlen(path);
    char *s = malloc(n + 1);
    if (!s)
        return;
    memcpy(s, path, n + 1);
    w->paths[w->n++] = s;
}

/* ---- results ---- */

static char *jstr(const struct jute_str *s)
{
    int32_t n = s->len > 0 ? s->len : 0;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s->ptr, (size_t)n);
    p[n] = '\0';
    return p;
}

static struct zk_stat to_stat(const struct zkp_stat *s)
{
    return (struct zk_stat){s->czxid, s->mzxid, s->ctime_ms, s->mtime_ms, s->version, s->cversion,
                            s->aversion, s->ephemeral_owner, s->data_length, s->num_children,
                            s->pzxid};
}

static bool has_stat(int32_t op)
{
    return op == ZOO_EXISTS_OP || op == ZOO_GETDATA_OP || op == ZOO_SETDATA_OP ||
           op == ZOO_CREATE2_OP || op == ZOO_GETCHILDREN2_OP;
}

/* Heap copies a result points at, freed after the callback. */
struct result_mem {
    char *path;
    char **children;
    uint32_t n_children;
    struct simc_sub *subs;
    char **sub_paths;
    uint32_t n_subs;
};

static void result_mem_free(struct result_mem *m)
{
    free(m->path);
    for (uint32_t i = 0; i < m->n_children; i++)
        free(m->children[i]);
    free(m->children);
    for (uint32_t i = 0; i < m->n_subs; i++)
        free(m->sub_paths[i]);
    free(m->sub_paths);
    free(m->subs);
}

static void fill_multi(const struct zkp_response *b, struct simc_result *res, struct result_mem *m)
{
    uint32_t n = b->multi.count > 0 ? (uint32_t)b->multi.count : 0;
    m->subs = calloc(n ? n : 1, sizeof *m->subs);
    m->sub_paths = calloc(n ? n : 1, sizeof *m->sub_paths);
    if (!m->subs || !m->sub_paths)
        return;
    m->n_subs = n;
    for (uint32_t i = 0; i < n; i++) {
        const struct zkp_multi_result *it = &b->multi.items[i];
        m->subs[i] = (struct simc_sub){.type = it->op, .err = it->err, .stat = to_stat(&it->stat)};
        if (it->path.len > 0 && it->path.ptr)
            m->subs[i].path = m->sub_paths[i] = jstr(&it->path);
        if (res->err == ZOK && it->err != ZOK)
            res->err = it->err; /* the first failing op's error */
    }
    res->subs = m->subs;
    res->n_subs = n;
}

static void fill_body(const struct zkw_reply *rep, struct simc_result *res, struct result_mem *m)
{
    const struct zkp_response *b = &rep->body;
    int32_t op = rep->op;
    if (has_stat(op)) {
        res->has_stat = true;
        res->stat = to_stat(&b->stat);
    }
    if (op == ZOO_CREATE_OP || op == ZOO_CREATE2_OP || op == ZOO_SYNC_OP)
        res->path = m->path = jstr(&b->path);
    if (op == ZOO_GETDATA_OP) {
        res->data = b->data.len > 0 ? b->data.ptr : (const uint8_t *)"";
        res->data_len = b->data.len > 0 ? (uint32_t)b->data.len : 0;
    }
    if (op == ZOO_GETCHILDREN_OP || op == ZOO_GETCHILDREN2_OP) {
        uint32_t n = b->children.count > 0 ? (uint32_t)b->children.count : 0;
        m->children = calloc(n ? n : 1, sizeof *m->children);
        if (m->children) {
            for (uint32_t i = 0; i < n; i++)
                m->children[i] = jstr(&b->children.items[i]);
            m->n_children = n;
            res->children = (const char *const *)m->children;
            res->n_children = n;
        }
    }
    if (op == ZOO_MULTI_OP)
        fill_multi(b, res, m);
}

static void register_watch(struct sim_client *cl, const struct simc_req *r, int32_t err)
{
    if (!r->watch || !r->path)
        return;
    if (r->op == ZOO_EXISTS_OP && err == ZNONODE)
        watches_add(&cl->w[SIMC_W_EXIST], r->path);
    else if (err != ZOK)
        return;
    else if (r->op == ZOO_EXISTS_OP || r->op == ZOO_GETDATA_OP)
        watches_add(&cl->w[SIMC_W_DATA], r->path);
    else if (r->op == ZOO_GETCHILDREN_OP || r->op == ZOO_GETCHILDREN2_OP)
        watches_add(&cl->w[SIMC_W_CHILD], r->path);
}

static bool is_write_op(int32_t op)
{
    return op == ZOO_CREATE_OP || op == ZOO_CREATE2_OP || op == ZOO_DELETE_OP ||
           op == ZOO_SETDATA_OP || op == ZOO_MULTI_OP;
}

static void remember_ack(struct sim_client *cl, const struct simc_req *r, uint64_t zxid)
{
    struct sim_clients *cs = cl->cs;
    if (cs->n_acked == cs->acked_cap) {
        uint32_t cap = cs->acked_cap ? cs->acked_cap * 2 : 1024;
        struct nlw_write *p = cap <= SIMC_ACKED_MAX ? realloc(cs->acked, cap * sizeof *p) : NULL;
        if (!p) {
            cs->acked_full = true; /* the check then says it is partial */
            return;
        }
        cs->acked = p;
        cs->acked_cap = cap;
    }
    cs->acked[cs->n_acked++] = (struct nlw_write){zxid, r->session, r->xid, r->op, cl->k};
}

void simc_deliver_result(struct sim_client *cl, struct simc_req *head, const struct zkw_reply *rep)
{
    struct simc_result res = {.err = rep->err, .zxid = (uint64_t)rep->zxid};
    struct result_mem m = {0};
    if (rep->err == ZOK)
        fill_body(rep, &res, &m);
    register_watch(cl, head, rep->err);
    if (res.err == ZOK && is_write_op(head->op))
        remember_ack(cl, head, res.zxid);
    bool closed = head->op == ZOO_CLOSE_SESSION_OP && rep->err == ZOK;
    simc_complete_head(cl, &res, true);
    result_mem_free(&m);
    if (closed && cl->st != SIMC_CLOSED) {
        cl->conn_up = false; /* the server closes it; nothing more to read */
        cl->closing = false;
        struct cluster *c = cl->cs->c;
        net_drop(&c->net, c->sched.now, cluster_client_endpoint(c, cl->k), cl->server - 1);
        simc_set_state(cl, SIMC_CLOSED);
    }
}

/* ---- requests ---- */

static bool path_ok(const char *path) { return path && path[0] == '/'; }

int simc_create(struct sim_client *cl, const char *path, const void *data, uint32_t len,
                int32_t mode, simc_done_fn *done, void *arg)
{
    if (!path_ok(path) || mode < 0 || mode > ZOO_EPHEMERAL_SEQUENTIAL)
        return ZBADARGUMENTS;
    struct zk_request r = {.type = ZOO_CREATE_OP, .path = path, .data = data ? data : "",
                           .data_len = len, .acl = &open_acl, .acl_count = 1, .flags = mode,
                           .version = -1, .ttl_ms = -1};
    return simc_submit(cl, &r, CHK_F_CREATE, false, done, arg);
}

int simc_delete(struct sim_client *cl, const char *path, int32_t version, simc_done_fn *done,
                void *arg)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    struct zk_request r = {.type = ZOO_DELETE_OP, .path = path, .version = version, .ttl_ms = -1};
    return simc_submit(cl, &r, CHK_F_DELETE, false, done, arg);
}

int simc_set_data(struct sim_client *cl, const char *path, const void *data, uint32_t len,
                  int32_t version, simc_done_fn *done, void *arg)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    struct zk_request r = {.type = ZOO_SETDATA_OP, .path = path, .data = data ? data : "",
                           .data_len = len, .version = version, .ttl_ms = -1};
    return simc_submit(cl, &r, CHK_F_SET_DATA, false, done, arg);
}

static int read_op(struct sim_client *cl, int32_t op, enum chk_f f, const char *path, bool watch,
                   simc_done_fn *done, void *arg)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    struct zk_request r = {.type = op, .path = path, .flags = watch ? 1 : 0, .version = -1,
                           .ttl_ms = -1};
    return simc_submit(cl, &r, f, watch, done, arg);
}

int simc_get_data(struct sim_client *cl, const char *path, bool watch, simc_done_fn *done, void *arg)
{
    return read_op(cl, ZOO_GETDATA_OP, CHK_F_GET_DATA, path, watch, done, arg);
}

int simc_exists(struct sim_client *cl, const char *path, bool watch, simc_done_fn *done, void *arg)
{
    return read_op(cl, ZOO_EXISTS_OP, CHK_F_EXISTS, path, watch, done, arg);
}

int simc_get_children(struct sim_client *cl, const char *path, bool watch, simc_done_fn *done,
                      void *arg)
{
    return read_op(cl, ZOO_GETCHILDREN_OP, CHK_F_GET_CHILDREN, path, watch, done, arg);
}

int simc_sync(struct sim_client *cl, const char *path, simc_done_fn *done, void *arg)
{
    return read_op(cl, ZOO_SYNC_OP, CHK_F_SYNC, path, false, done, arg);
}

int simc_multi(struct sim_client *cl, const struct zk_request *ops, uint32_t n, simc_done_fn *done,
               void *arg)
{
    if (!ops || n == 0 || n > CHK_SUBS_MAX)
        return ZBADARGUMENTS;
    struct zk_request sub[CHK_SUBS_MAX];
    for (uint32_t i = 0; i < n; i++) {
        int32_t t = ops[i].type;
        if (t != ZOO_CREATE_OP && t != ZOO_DELETE_OP && t != ZOO_SETDATA_OP && t != ZOO_CHECK_OP)
            return ZBADARGUMENTS;
        if (!path_ok(ops[i].path))
            return ZBADARGUMENTS;
        sub[i] = ops[i];
        if (t == ZOO_CREATE_OP && !sub[i].acl_count) {
            sub[i].acl = &open_acl;
            sub[i].acl_count = 1;
        }
        if ((t == ZOO_CREATE_OP || t == ZOO_SETDATA_OP) && !sub[i].data)
            sub[i].data = (const uint8_t *)"";
        sub[i].ttl_ms = -1;
    }
    struct zk_request r = {.type = ZOO_MULTI_OP, .ops = sub, .op_count = n, .version = -1,
                           .ttl_ms = -1};
    return simc_submit(cl, &r, CHK_F_MULTI, false, done, arg);
}

int simc_close(struct sim_client *cl, simc_done_fn *done, void *arg)
{
    struct zk_request r = {.type = ZOO_CLOSE_SESSION_OP, .version = -1, .ttl_ms = -1};
    return simc_submit(cl, &r, CHK_F_CLOSE, false, done, arg);
}

/* ---- timers ---- */

void simc_timers_init(struct sim_clients *cs)
{
    cs->n_free_timers = SIMC_TIMERS_MAX;
    for (uint32_t i = 0; i < SIMC_TIMERS_MAX; i++)
        cs->free_timers[i] = SIMC_TIMERS_MAX - 1 - i; /* slot 0 is taken first */
}

int simc_after(struct sim_clients *cs, sim_time_ns delay, void (*fn)(void *arg), void *arg)
{
    if (!fn || !cs->n_free_timers)
        return -1;
    uint32_t slot = cs->free_timers[--cs->n_free_timers];
    struct simc_timer *t = &cs->timers[slot];
    t->fn = fn;
    t->arg = arg;
    t->used = true;
    t->gen++;
    if (sim_sched_after(&cs->c->sched, delay, SIMC_EV_TIMER, -1, slot, t->gen) != 0) {
        t->used = false;
        cs->free_timers[cs->n_free_timers++] = slot;
        return -1;
    }
    return (int)slot;
}

void simc_timer_fire(struct sim_clients *cs, uint32_t slot, uint64_t gen)
{
    if (slot >= SIMC_TIMERS_MAX || !cs->timers[slot].used || cs->timers[slot].gen != gen)
        return;
    struct simc_timer t = cs->timers[slot];
    cs->timers[slot].used = false;
    cs->free_timers[cs->n_free_timers++] = slot;
    t.fn(t.arg);
}
