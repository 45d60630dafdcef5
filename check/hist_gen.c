/* check/hist_gen: valid and mutated histories (see hist_gen.h). */
#include "check/hist_gen.h"

#include <gsl/gsl_rng.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check/model_zk.h"

#define GEN_REPLICAS 3
#define GEN_OPS_MAX (1u << 24)
#define GEN_PROCS_MAX 1024
#define GEN_WATCHES_MAX 256   /* per follower; past it a read sets no watch */

static const char *const anomaly_names[CHK_PLANT_COUNT] = {
    "none", "stale-read-after-sync", "read-backwards", "lost-write", "duplicate-sequential",
    "failed-write-visible", "non-fifo", "never-written", "late-watch",
};

const char *chk_anomaly_name(enum chk_anomaly a)
{
    return (unsigned)a < CHK_PLANT_COUNT ? anomaly_names[a] : "?";
}

enum chk_anomaly chk_anomaly_parse(const char *s, bool *ok)
{
    for (int i = 0; i < CHK_PLANT_COUNT; i++)
        if (!strcmp(s, anomaly_names[i])) {
            *ok = true;
            return (enum chk_anomaly)i;
        }
    *ok = false;
    return CHK_PLANT_NONE;
}

bool chk_anomaly_fits(enum chk_anomaly a, enum chk_model_kind model)
{
    if (model == CHK_MODEL_ZK)
        return true;
    return a == CHK_PLANT_NONE || a == CHK_PLANT_LOST_WRITE || a == CHK_PLANT_FAILED_WRITE_VISIBLE
        || a == CHK_PLANT_NEVER_WRITTEN;
}

struct gop {
    uint32_t slot;            /* process slot */
    int64_t session;
    bool applied, done, dropped;
    uint32_t pos;             /* zk: log position it took / observed; reg/kv: apply order */
    struct chk_event inv, res;
    enum chk_type end;
};

struct gslot {
    int64_t process;
    bool busy;
    uint32_t op;
};

struct gen {
    gsl_rng *r;
    const struct chk_gen_opts *o;
    struct chk_history *h;
    struct gop *ops;
    uint32_t n_ops, n_done;
    struct gslot *slots;
    uint32_t n_slots;
    int64_t next_process;
    int64_t *sess_of_pair;    /* session id of slot pair i/2 */
    uint32_t *seen;           /* per session id (they are small): position seen */
    uint32_t cap_seen;
    int64_t next_session;
    int64_t clock_ns;
    uint32_t uniq;
    int64_t reg;
    chk_str *kv;
    chk_str *keys;            /* kv keys or zk paths */
    uint32_t n_keys;
    uint32_t *lin;            /* apply order of ops (all models) */
    uint32_t n_lin;
    struct zk_tree leader, rep[GEN_REPLICAS];
    uint32_t rep_at[GEN_REPLICAS];
    uint32_t *log, n_log;     /* write ops by log position (1-based) */
    struct gwatch {           /* one-shot watches set on each follower */
        int64_t session, process;
        chk_str path;
        bool child;
    } watches[GEN_REPLICAS][GEN_WATCHES_MAX];
    uint32_t n_watches[GEN_REPLICAS];
    chk_str seq_live[64];     /* sequential znodes alive at the leader, so that */
    uint32_t n_seq_live;      /*   deletes keep /q's child list bounded */
};

static chk_str gstr(struct gen *g, const char *s)
{
    return chk_str_intern(g->h, s, strlen(s));
}

static chk_str fresh_value(struct gen *g, const char *prefix)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%u", prefix, ++g->uniq);
    return gstr(g, buf);
}

/* ---- choosing operations ------------------------------------------------ */

static void pick_register(struct gen *g, struct chk_event *e)
{
    double x = gsl_rng_uniform(g->r);
    int64_t v = g->o->value_range ? (int64_t)gsl_rng_uniform_int(g->r, g->o->value_range) : ++g->uniq;
    e->has_value = true;
    if (x < 0.5) {
        e->f = CHK_F_READ;
        e->nil = true;
    } else if (x < 0.8) {
        e->f = CHK_F_WRITE;
        e->ival = v;
    } else {
        e->f = CHK_F_CAS;
        e->ival = g->o->value_range ? (int64_t)gsl_rng_uniform_int(g->r, g->o->value_range)
                                    : (gsl_rng_uniform(g->r) < 0.7 && g->reg != CHK_REG_NIL ? g->reg : v - 1);
        e->ival2 = v;
    }
}

static void pick_kv(struct gen *g, struct chk_event *e)
{
    double x = gsl_rng_uniform(g->r);
    e->key = g->keys[gsl_rng_uniform_int(g->r, g->n_keys)];
    if (x < 0.5) {
        e->f = CHK_F_GET;
        e->nil = true;
    } else {
        e->f = x < 0.75 ? CHK_F_PUT : CHK_F_APPEND;
        e->sval = fresh_value(g, e->f == CHK_F_PUT ? "v" : "x");
        e->has_value = true;
    }
}

/* A multi of a version check, a setData and a create: all or nothing. */
static void pick_multi(struct gen *g, struct chk_event *e)
{
    struct chk_sub subs[3];
    memset(subs, 0, sizeof subs);
    subs[0] = (struct chk_sub){.f = CHK_F_CHECK, .path = g->keys[gsl_rng_uniform_int(g->r, g->n_keys)],
                               .version = (int32_t)gsl_rng_uniform_int(g->r, 3) - 1};
    subs[1] = (struct chk_sub){.f = CHK_F_SET_DATA, .path = g->keys[gsl_rng_uniform_int(g->r, g->n_keys)],
                               .data = fresh_value(g, "m"), .version = -1};
    subs[2] = (struct chk_sub){.f = CHK_F_CREATE, .path = g->keys[gsl_rng_uniform_int(g->r, g->n_keys)],
                               .data = fresh_value(g, "m")};
    e->f = CHK_F_MULTI;
    e->key = 0;
    e->subs = chk_history_add_subs(g->h, subs, 3);
    e->n_subs = e->subs == CHK_NONE ? 0 : 3;
}

static void pick_zk(struct gen *g, struct chk_event *e, bool may_close)
{
    double x = gsl_rng_uniform(g->r);
    e->key = g->keys[gsl_rng_uniform_int(g->r, g->n_keys)];
    e->version = -1;
    e->watch = gsl_rng_uniform(g->r) < 0.25;
    if (x < 0.28) {
        e->f = CHK_F_GET_DATA;
    } else if (x < 0.50) {
        e->f = CHK_F_SET_DATA;
        e->sval = fresh_value(g, "v");
        e->has_value = true;
        if (gsl_rng_uniform(g->r) < 0.25)
            e->version = (int32_t)gsl_rng_uniform_int(g->r, 4), e->has_version = true;
    } else if (x < 0.70) {
        e->f = CHK_F_CREATE;
        bool seq = gsl_rng_uniform(g->r) < 0.4;
        if (seq)
            e->key = gstr(g, gsl_rng_uniform(g->r) < 0.1 ? "/q" : "/q/n-");
        e->mode = (uint8_t)((seq && e->key != gstr(g, "/q") ? CHK_MODE_SEQUENTIAL : 0)
                            | (gsl_rng_uniform(g->r) < 0.2 ? CHK_MODE_EPHEMERAL : 0));
        e->sval = fresh_value(g, "c");
        e->has_value = true;
        if ((e->mode & CHK_MODE_SEQUENTIAL) && g->n_seq_live >= 48) {
            e->f = CHK_F_DELETE;          /* bounded: retire the oldest instead */
            e->key = g->seq_live[0];
            e->mode = 0, e->sval = 0, e->has_value = false;
        }
    } else if (x < 0.77) {
        e->f = CHK_F_EXISTS;
    } else if (x < 0.84) {
        e->f = CHK_F_GET_CHILDREN;
        e->key = gstr(g, gsl_rng_uniform(g->r) < 0.5 ? "/" : "/q");
    } else if (x < 0.89) {
        e->f = CHK_F_DELETE;
        e->watch = false;
        if (g->n_seq_live && gsl_rng_uniform(g->r) < 0.5)
            e->key = g->seq_live[gsl_rng_uniform_int(g->r, g->n_seq_live)];
    } else if (x < 0.96) {
        e->f = CHK_F_SYNC;
        e->key = 0;
    } else if (x < 0.97) {
        e->f = CHK_F_CHECK;
        e->version = (int32_t)gsl_rng_uniform_int(g->r, 3);
        e->has_version = true;
    } else if (x < 0.985 || !may_close) {
        pick_multi(g, e);
    } else {
        e->f = CHK_F_CLOSE;
        e->key = 0;
    }
}

/* ---- applying operations to the ground truth ---------------------------- */

static uint32_t *seen_of(struct gen *g, int64_t session)
{
    if ((uint64_t)session >= g->cap_seen) {
        uint32_t c = g->cap_seen ? g->cap_seen * 2 : 64;
        while (c <= (uint64_t)session)
            c *= 2;
        uint32_t *s = realloc(g->seen, (size_t)c * sizeof *s);
        if (!s)
            return NULL;
        memset(s + g->cap_seen, 0, (size_t)(c - g->cap_seen) * sizeof *s);
        g->seen = s;
        g->cap_seen = c;
    }
    return &g->seen[session];
}

static void add_event(struct gen *g, struct chk_event *e);

/* Fires (and removes) follower r's watches on path of the given kind. */
static void fire(struct gen *g, uint32_t r, chk_str path, bool child, int32_t type, uint32_t pos)
{
    for (uint32_t i = 0; i < g->n_watches[r];) {
        struct gwatch *w = &g->watches[r][i];
        if (w->path != path || w->child != child) {
            i++;
            continue;
        }
        struct chk_event ev = {.type = CHK_WATCH, .process = w->process, .session = w->session,
                               .key = path, .watch_type = type, .version = -1,
                               .has_zxid = !g->o->no_zxids, .zxid = (1ull << 32) | pos};
        *w = g->watches[r][--g->n_watches[r]];
        add_event(g, &ev);
    }
}

/* ZooKeeper fires watches while a server applies the txn, before any reply
 * that reflects it: so here, as the follower applies log entry pos. */
static void fire_for(struct gen *g, uint32_t r, const struct chk_event *inv, const struct zk_res *res, uint32_t pos)
{
    const struct zk_tree *t = &g->rep[r];
    chk_str path = inv->f == CHK_F_CREATE ? res->created : inv->key;
    uint32_t n = zkt_find(t, path);
    chk_str parent = n != ZKT_NONE && t->nodes[n].parent != ZKT_NONE ? t->nodes[t->nodes[n].parent].path : 0;
    if (res->err || (inv->f != CHK_F_CREATE && inv->f != CHK_F_DELETE && inv->f != CHK_F_SET_DATA))
        return;
    int32_t type = inv->f == CHK_F_CREATE ? CHK_WATCH_CREATED : inv->f == CHK_F_DELETE ? CHK_WATCH_DELETED
                                                                                      : CHK_WATCH_CHANGED;
    fire(g, r, path, false, type, pos);
    if (inv->f == CHK_F_DELETE)
        fire(g, r, path, true, CHK_WATCH_DELETED, pos);
    if (inv->f != CHK_F_SET_DATA && parent)
        fire(g, r, parent, true, CHK_WATCH_CHILDREN, pos);
}

static void catch_up(struct gen *g, uint32_t r, uint32_t k)
{
    struct zk_res res;
    while (g->rep_at[r] < k && g->rep_at[r] < g->n_log) {
        const struct gop *w = &g->ops[g->log[++g->rep_at[r]]];
        zkt_apply(&g->rep[r], g->h, &w->inv, w->session, &res);
        g->rep[r].n_undo = 0;
        fire_for(g, r, &w->inv, &res, g->rep_at[r]);
    }
}

/* A read with a watch sets it on the follower that served it (exists sets
 * one on a missing node too; getData and getChildren only when it exists). */
static void set_watch(struct gen *g, uint32_t r, const struct gop *op, const struct zk_res *res)
{
    if (!op->inv.watch || g->n_watches[r] >= GEN_WATCHES_MAX || (res->err && op->inv.f != CHK_F_EXISTS))
        return;
    g->watches[r][g->n_watches[r]++] = (struct gwatch){op->session, op->inv.process, op->inv.key,
                                                       op->inv.f == CHK_F_GET_CHILDREN};
}

static void children_of(struct gen *g, const struct zk_tree *t, chk_str path, struct chk_event *e)
{
    chk_str names[CHK_CHILDREN_MAX];
    uint32_t n = 0, p = zkt_find(t, path);
    for (uint32_t i = 0; p != ZKT_NONE && i < t->n && n < CHK_CHILDREN_MAX; i++)
        if (t->nodes[i].exists && t->nodes[i].parent == p)
            names[n++] = t->nodes[i].name;
    e->children = chk_history_add_names(g->h, names, n);
    e->n_children = n;
}

static void fill_zk_result(struct gen *g, struct gop *op, const struct zk_tree *t, const struct zk_res *res)
{
    struct chk_event *e = &op->res;
    e->err = res->err;
    op->end = res->err ? CHK_FAIL : CHK_OK;
    if (op->inv.f == CHK_F_MULTI && op->inv.n_subs) {
        /* per-op results: arguments of the invocation, errors and names */
        struct chk_sub subs[CHK_SUBS_MAX];
        memcpy(subs, g->h->subs + op->inv.subs, op->inv.n_subs * sizeof *subs);
        for (uint32_t k = 0; k < op->inv.n_subs; k++)
            subs[k].err = res->sub_err[k], subs[k].result_path = res->sub_created[k];
        e->subs = chk_history_add_subs(g->h, subs, op->inv.n_subs);
        e->n_subs = e->subs == CHK_NONE ? 0 : op->inv.n_subs;
    }
    if (res->err)
        return;
    switch (op->inv.f) {
    case CHK_F_CREATE: e->result_path = res->created; break;
    case CHK_F_SET_DATA: case CHK_F_EXISTS:
        e->version = res->version, e->has_version = true;
        break;
    case CHK_F_GET_DATA:
        e->sval = res->data, e->has_value = true;
        e->version = res->version, e->has_version = true;
        break;
    case CHK_F_GET_CHILDREN: children_of(g, t, op->inv.key, e); break;
    default: break;
    }
}

static void track_sequential(struct gen *g, const struct chk_event *inv, const struct zk_res *res)
{
    if (res->err)
        return;
    if (inv->f == CHK_F_CREATE && (inv->mode & CHK_MODE_SEQUENTIAL) && g->n_seq_live < 64)
        g->seq_live[g->n_seq_live++] = res->created;
    for (uint32_t k = 0; inv->f == CHK_F_DELETE && k < g->n_seq_live; k++)
        if (g->seq_live[k] == inv->key) {
            memmove(g->seq_live + k, g->seq_live + k + 1, (g->n_seq_live - k - 1) * sizeof *g->seq_live);
            g->n_seq_live--;
            break;
        }
}

static void apply_zk(struct gen *g, uint32_t i)
{
    struct gop *op = &g->ops[i];
    struct zk_res res;
    uint32_t *seen = seen_of(g, op->session);
    uint32_t r = (uint32_t)(op->slot / 2) % GEN_REPLICAS;
    if (chk_f_is_write(op->inv.f)) {
        zkt_apply(&g->leader, g->h, &op->inv, op->session, &res);
        g->leader.n_undo = 0;
        if (res.err == 0)
            g->log[++g->n_log] = i;
        track_sequential(g, &op->inv, &res);
        op->pos = g->n_log;
        fill_zk_result(g, op, &g->leader, &res);
    } else if (op->inv.f == CHK_F_SYNC) {
        op->pos = g->n_log;
        op->end = CHK_OK;
    } else {
        /* a follower serves reads: never behind what the session has seen */
        catch_up(g, r, *seen + (uint32_t)gsl_rng_uniform_int(g->r, 3));
        zkt_apply(&g->rep[r], g->h, &op->inv, op->session, &res);
        op->pos = g->rep_at[r];
        fill_zk_result(g, op, &g->rep[r], &res);
        set_watch(g, r, op, &res);
    }
    if (op->pos > *seen)
        *seen = op->pos;
}

static uint32_t key_index(const struct gen *g, chk_str key)
{
    for (uint32_t k = 0; k < g->n_keys; k++)
        if (g->keys[k] == key)
            return k;
    return 0;
}

static void apply_kv(struct gen *g, struct gop *op)
{
    chk_str *v = &g->kv[key_index(g, op->inv.key)];
    op->end = CHK_OK;
    if (op->inv.f == CHK_F_GET) {
        op->res.sval = *v;
        op->res.nil = !*v;
        op->res.has_value = true;
    } else if (op->inv.f == CHK_F_PUT) {
        *v = op->inv.sval;
    } else {
        char buf[4096];
        int n = snprintf(buf, sizeof buf, "%s%s", chk_str_get(g->h, *v), chk_str_get(g->h, op->inv.sval));
        *v = chk_str_intern(g->h, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
    }
}

static void apply_register(struct gen *g, struct gop *op)
{
    op->end = CHK_OK;
    if (op->inv.f == CHK_F_READ) {
        op->res.nil = g->reg == CHK_REG_NIL;
        op->res.ival = g->reg;
        op->res.has_value = true;
    } else if (op->inv.f == CHK_F_WRITE) {
        g->reg = op->inv.ival;
    } else if (g->reg == op->inv.ival) {
        g->reg = op->inv.ival2;
    } else {
        op->end = CHK_FAIL;              /* cas saw another value: did not happen */
    }
}

static void apply_op(struct gen *g, uint32_t i)
{
    struct gop *op = &g->ops[i];
    op->applied = true;
    g->lin[g->n_lin++] = i;
    if (g->o->model == CHK_MODEL_ZK)
        apply_zk(g, i);
    else if (g->o->model == CHK_MODEL_KV)
        apply_kv(g, op);
    else
        apply_register(g, op);
    if (g->o->model != CHK_MODEL_ZK)
        op->pos = g->n_lin;
}

/* ---- the concurrent run ------------------------------------------------- */

static void add_event(struct gen *g, struct chk_event *e)
{
    g->clock_ns += 1000000 * (int64_t)(1 + gsl_rng_uniform_int(g->r, 3));
    e->time_ns = g->clock_ns;
    e->has_time = true;
    chk_history_add(g->h, e);
}

/* The op of the other process of the same session (zk pairs slots). */
static uint32_t partner_op(const struct gen *g, uint32_t slot)
{
    if (g->o->model != CHK_MODEL_ZK)
        return CHK_NONE;
    const struct gslot *p = &g->slots[slot ^ 1u];
    return (slot ^ 1u) < g->n_slots && p->busy ? p->op : CHK_NONE;
}

static bool can_apply(const struct gen *g, uint32_t slot)
{
    const struct gslot *s = &g->slots[slot];
    if (!s->busy || g->ops[s->op].applied || g->ops[s->op].dropped)
        return false;
    uint32_t o = partner_op(g, slot);    /* FIFO within a session */
    return o == CHK_NONE || o > s->op || g->ops[o].applied || g->ops[o].dropped;
}

static bool can_complete(const struct gen *g, uint32_t slot)
{
    const struct gslot *s = &g->slots[slot];
    if (!s->busy || !g->ops[s->op].applied)
        return false;
    uint32_t o = partner_op(g, slot);    /* replies in issue order too */
    return o == CHK_NONE || o > s->op;
}

static bool can_invoke(const struct gen *g, uint32_t slot)
{
    if (g->slots[slot].busy || g->n_ops >= g->o->n_ops)
        return false;
    uint32_t o = partner_op(g, slot);
    return o == CHK_NONE || g->ops[o].inv.f != CHK_F_CLOSE;
}

static void invoke(struct gen *g, uint32_t slot)
{
    struct gslot *s = &g->slots[slot];
    struct gop *op = &g->ops[g->n_ops];
    memset(op, 0, sizeof *op);
    op->slot = slot;
    op->session = g->o->model == CHK_MODEL_ZK ? g->sess_of_pair[slot / 2] : s->process;
    struct chk_event *e = &op->inv;
    e->type = CHK_INVOKE;
    e->process = s->process;
    e->session = op->session;
    e->version = -1;
    if (g->o->model == CHK_MODEL_REGISTER)
        pick_register(g, e);
    else if (g->o->model == CHK_MODEL_KV)
        pick_kv(g, e);
    else
        pick_zk(g, e, partner_op(g, slot) == CHK_NONE);
    e->watch &= e->f == CHK_F_GET_DATA || e->f == CHK_F_EXISTS || e->f == CHK_F_GET_CHILDREN;
    op->res = *e;
    op->res.watch = false;
    if (e->f != CHK_F_CREATE && e->f != CHK_F_SET_DATA && e->f != CHK_F_PUT && e->f != CHK_F_APPEND
        && e->f != CHK_F_WRITE && e->f != CHK_F_CAS) {
        op->res.has_value = false;
        op->res.sval = 0;
    }
    op->res.has_version = false;
    s->busy = true;
    s->op = g->n_ops++;
    add_event(g, e);
}

static void finish(struct gen *g, uint32_t slot, bool crashed)
{
    struct gslot *s = &g->slots[slot];
    struct gop *op = &g->ops[s->op];
    struct chk_event e = op->res;
    e.type = crashed ? CHK_INFO : op->end;
    if (g->o->model == CHK_MODEL_ZK && !crashed) {
        uint32_t r = (uint32_t)(slot / 2) % GEN_REPLICAS;
        catch_up(g, r, op->pos);         /* the reply leaves after the follower applied it */
        e.has_zxid = !g->o->no_zxids;
        e.zxid = (1ull << 32) | op->pos;
    }
    if (crashed) {
        e.err = 0, e.has_value = false, e.has_version = false, e.n_children = 0;
        e.result_path = 0, e.sval = 0, e.nil = true;
    }
    op->done = true;
    op->end = e.type;
    add_event(g, &e);
    s->busy = false;
    g->n_done++;
    if (crashed)
        s->process = g->next_process++;  /* Jepsen: a crashed client comes back as a new process */
    if (!crashed && op->inv.f == CHK_F_CLOSE)
        g->sess_of_pair[slot / 2] = g->next_session++;
}

static void step(struct gen *g)
{
    uint32_t cand[3][GEN_PROCS_MAX], n[3] = {0, 0, 0};
    for (uint32_t s = 0; s < g->n_slots; s++) {
        if (can_invoke(g, s))
            cand[0][n[0]++] = s;
        if (can_apply(g, s))
            cand[1][n[1]++] = s;
        if (can_complete(g, s))
            cand[2][n[2]++] = s;
    }
    uint32_t kinds[3], nk = 0;
    for (uint32_t k = 0; k < 3; k++)
        if (n[k])
            kinds[nk++] = k;
    if (nk == 0)
        return;
    uint32_t k = kinds[gsl_rng_uniform_int(g->r, nk)];
    uint32_t slot = cand[k][gsl_rng_uniform_int(g->r, n[k])];
    double crash = g->o->crash_rate;
    if (k == 0) {
        invoke(g, slot);
    } else if (k == 1 && g->ops[g->slots[slot].op].inv.f != CHK_F_CLOSE
               && gsl_rng_uniform(g->r) < crash / 2) {
        g->ops[g->slots[slot].op].dropped = true;   /* crashed before it reached anyone */
        finish(g, slot, true);
    } else if (k == 1) {
        apply_op(g, g->slots[slot].op);
    } else {
        bool closing = g->ops[g->slots[slot].op].inv.f == CHK_F_CLOSE;
        finish(g, slot, !closing && gsl_rng_uniform(g->r) < crash / 2);
    }
}

static int gen_init(struct gen *g, const struct chk_gen_opts *o)
{
    memset(g, 0, sizeof *g);
    g->o = o;
    g->r = gsl_rng_alloc(gsl_rng_mt19937);
    g->h = chk_history_new("generated");
    g->n_slots = o->n_procs;
    g->slots = calloc(g->n_slots + 1, sizeof *g->slots);
    g->sess_of_pair = calloc(g->n_slots / 2 + 2, sizeof *g->sess_of_pair);
    g->ops = calloc(o->n_ops + 1, sizeof *g->ops);
    g->lin = calloc(o->n_ops + 1, sizeof *g->lin);
    g->log = calloc(o->n_ops + 2, sizeof *g->log);
    g->n_keys = o->n_keys ? o->n_keys : 5;
    g->keys = calloc(g->n_keys, sizeof *g->keys);
    g->kv = calloc(g->n_keys, sizeof *g->kv);
    if (!g->r || !g->h || !g->slots || !g->sess_of_pair || !g->ops || !g->lin || !g->log || !g->keys || !g->kv)
        return -1;
    gsl_rng_set(g->r, (unsigned long)(o->seed ? o->seed : 1));
    for (uint32_t k = 0; k < g->n_keys; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, o->model == CHK_MODEL_ZK ? "/k%u" : "%u", k);
        g->keys[k] = gstr(g, buf);
    }
    for (uint32_t s = 0; s < g->n_slots; s++)
        g->slots[s].process = s;
    g->next_process = g->n_slots;
    for (uint32_t p = 0; p < g->n_slots / 2 + 1; p++)
        g->sess_of_pair[p] = p + 1;
    g->next_session = g->n_slots / 2 + 2;
    g->reg = CHK_REG_NIL;
    if (o->model == CHK_MODEL_ZK) {
        if (zkt_init(&g->leader, g->h))
            return -1;
        for (int r = 0; r < GEN_REPLICAS; r++)
            if (zkt_init(&g->rep[r], g->h))
                return -1;
    }
    return 0;
}

static void gen_free(struct gen *g)
{
    if (g->r)
        gsl_rng_free(g->r);
    free(g->slots), free(g->sess_of_pair), free(g->ops), free(g->lin), free(g->log);
    free(g->keys), free(g->kv), free(g->seen);
    zkt_free(&g->leader);
    for (int r = 0; r < GEN_REPLICAS; r++)
        zkt_free(&g->rep[r]);
}

static int plant(struct gen *g, enum chk_anomaly a, char *err, size_t errlen);

struct chk_history *chk_gen_history(const struct chk_gen_opts *o, char *err, size_t errlen)
{
    if (o->n_ops == 0 || o->n_ops > GEN_OPS_MAX || o->n_procs == 0 || o->n_procs > GEN_PROCS_MAX
        || o->crash_rate < 0 || o->crash_rate > 1 || !chk_anomaly_fits(o->plant, o->model)) {
        snprintf(err, errlen, "bad generator options (ops 1..%u, procs 1..%u, crash rate 0..1; "
                 "anomaly %s %s for model %s)", GEN_OPS_MAX, GEN_PROCS_MAX, chk_anomaly_name(o->plant),
                 chk_anomaly_fits(o->plant, o->model) ? "fits" : "does not fit", chk_model_name(o->model));
        return NULL;
    }
    struct gen g;
    struct chk_history *h = NULL;
    if (gen_init(&g, o) == 0) {
        while (g.n_done < o->n_ops)
            step(&g);
        if (chk_history_pair(g.h, err, errlen) == 0 && plant(&g, o->plant, err, errlen) == 0) {
            h = g.h;
            g.h = NULL;
        }
    } else {
        snprintf(err, errlen, "out of memory");
    }
    chk_history_free(g.h);
    gen_free(&g);
    return h;
}

/* ---- planting one anomaly ----------------------------------------------- */

static struct chk_event *ret_of(struct gen *g, uint32_t i)
{
    return &g->h->events[g->h->ops[i].ret];
}

static bool acked(const struct gen *g, uint32_t i)
{
    return g->ops[i].end == CHK_OK && g->ops[i].res.err == 0;
}

/* Result of getData(path) at log position k, computed on a fresh tree. */
static void zk_state_at(struct gen *g, chk_str path, uint32_t k, struct zk_res *res)
{
    struct zk_tree t;
    struct chk_event rd = {.type = CHK_INVOKE, .f = CHK_F_GET_DATA, .key = path, .version = -1};
    if (zkt_init(&t, g->h)) {
        res->err = CHK_ZNONODE;
        return;
    }
    for (uint32_t j = 1; j <= k; j++) {
        zkt_apply(&t, g->h, &g->ops[g->log[j]].inv, g->ops[g->log[j]].session, res);
        t.n_undo = 0;
    }
    zkt_apply(&t, g->h, &rd, 0, res);
    zkt_free(&t);
}

/* Makes read op i return the state of its path at log position k. */
static void set_read_to(struct gen *g, uint32_t i, uint32_t k)
{
    struct zk_res res;
    struct chk_event *e = ret_of(g, i);
    zk_state_at(g, e->key, k, &res);
    e->err = res.err;
    e->sval = res.err ? 0 : res.data;
    e->version = res.version;
    e->has_value = e->has_version = res.err == 0;
    e->type = res.err ? CHK_FAIL : CHK_OK;
    g->h->ops[i].status = res.err ? CHK_ST_FAIL : CHK_ST_OK;
    e->zxid = (1ull << 32) | k;
}

static bool is_get(const struct gen *g, uint32_t i, chk_str path)
{
    return g->ops[i].inv.f == CHK_F_GET_DATA && acked(g, i) && g->ops[i].inv.key == path;
}

/* Latest write to path in the log that completed before event ev. */
static uint32_t last_write_before(const struct gen *g, chk_str path, uint32_t ev)
{
    uint32_t best = 0;
    for (uint32_t j = 1; j <= g->n_log; j++) {
        const struct gop *w = &g->ops[g->log[j]];
        if (g->h->ops[g->log[j]].ret < ev && w->inv.key == path
            && (w->inv.f == CHK_F_SET_DATA || w->inv.f == CHK_F_CREATE))
            best = j;
    }
    return best;
}

/* Does an op of unknown outcome write path? The checker places those by
 * guessing and confirming by search; a plant elsewhere keeps its message
 * about the planted read. */
static bool info_touches(const struct gen *g, chk_str path)
{
    for (uint32_t i = 0; i < g->n_ops; i++)
        if (g->ops[i].end == CHK_INFO && chk_f_is_write(g->ops[i].inv.f)
            && (g->ops[i].inv.key == path || g->ops[i].inv.f == CHK_F_MULTI || g->ops[i].inv.f == CHK_F_CLOSE))
            return true;
    return false;
}

static int plant_stale_after_sync(struct gen *g)
{
    const struct chk_history *h = g->h;
    for (uint32_t s = 0; s < g->n_ops; s++) {
        if (g->ops[s].inv.f != CHK_F_SYNC || g->ops[s].end != CHK_OK)
            continue;
        for (uint32_t r = s + 1; r < g->n_ops; r++) {
            if (g->ops[r].session != g->ops[s].session || g->ops[r].inv.f != CHK_F_GET_DATA
                || !acked(g, r) || h->ops[r].inv < h->ops[s].ret)
                continue;
            chk_str path = g->ops[r].inv.key;
            uint32_t k = last_write_before(g, path, h->ops[s].inv);
            bool own = false;            /* the session's own write would be the plainer reason */
            for (uint32_t i = 0; i < r && k; i++)
                own |= g->ops[i].session == g->ops[s].session && g->ops[i].inv.key == path
                    && chk_f_is_write(g->ops[i].inv.f) && g->ops[i].pos >= k;
            if (k >= 1 && !own && !info_touches(g, path)) {
                set_read_to(g, r, k - 1);
                return 0;
            }
        }
    }
    return -1;
}

static int plant_read_backwards(struct gen *g)
{
    const struct chk_history *h = g->h;
    for (uint32_t w = 0; w < g->n_ops; w++) {
        if (g->ops[w].inv.f != CHK_F_SET_DATA || !acked(g, w))
            continue;
        for (uint32_t r = w + 1; r < g->n_ops; r++)
            if (g->ops[r].session == g->ops[w].session && is_get(g, r, g->ops[w].inv.key)
                && h->ops[r].inv > h->ops[w].ret) {
                set_read_to(g, r, g->ops[w].pos - 1);
                return 0;
            }
    }
    return -1;
}

/* Could an op of unknown outcome reset path's version (delete and create
 * again)? Then a repeated version would not prove a lost write. */
static bool info_on(const struct gen *g, chk_str path)
{
    for (uint32_t i = 0; i < g->n_ops; i++)
        if (g->ops[i].end == CHK_INFO && ((g->ops[i].inv.key == path && g->ops[i].inv.f != CHK_F_SET_DATA)
                                          || g->ops[i].inv.f == CHK_F_CLOSE))
            return true;
    return false;
}

static int plant_zk_lost_write(struct gen *g)
{
    for (uint32_t j = 1; j <= g->n_log; j++) {
        uint32_t w1 = g->log[j];
        if (g->ops[w1].inv.f != CHK_F_SET_DATA || g->ops[w1].end != CHK_OK || info_on(g, g->ops[w1].inv.key))
            continue;
        for (uint32_t k = j + 1; k <= g->n_log; k++) {
            uint32_t w2 = g->log[k];
            if (g->ops[w2].inv.key != g->ops[w1].inv.key && g->ops[w2].inv.f != CHK_F_CLOSE)
                continue;
            if (g->ops[w2].inv.f != CHK_F_SET_DATA || g->ops[w2].end != CHK_OK)
                break;
            ret_of(g, w2)->version = ret_of(g, w1)->version;   /* as if w1 never happened */
            return 0;
        }
    }
    return -1;
}

static int plant_dup_sequential(struct gen *g)
{
    for (uint32_t a = 0; a < g->n_ops; a++) {
        if (g->ops[a].inv.f != CHK_F_CREATE || !(g->ops[a].inv.mode & CHK_MODE_SEQUENTIAL) || !acked(g, a))
            continue;
        chk_str name = ret_of(g, a)->result_path;
        for (uint32_t b = a + 1; b < g->n_ops; b++) {
            if (g->ops[b].inv.f == CHK_F_DELETE && g->ops[b].inv.key == name)
                break;                   /* keep it a plain reuse of a live name */
            if (g->ops[b].inv.f == CHK_F_CREATE && (g->ops[b].inv.mode & CHK_MODE_SEQUENTIAL)
                && acked(g, b) && g->ops[b].inv.key == g->ops[a].inv.key
                && g->h->ops[b].inv > g->h->ops[a].ret) {
                ret_of(g, b)->result_path = name;
                return 0;
            }
        }
    }
    return -1;
}

static bool reads_value(const struct gen *g, uint32_t r, const struct gop *w)
{
    const struct gop *o = &g->ops[r];
    if (o->end != CHK_OK || o->res.err || g->h->ops[r].inv < g->h->ops[(uint32_t)(w - g->ops)].inv)
        return false;
    switch (w->inv.f) {
    case CHK_F_SET_DATA: return o->inv.f == CHK_F_GET_DATA && o->res.sval == w->inv.sval;
    case CHK_F_PUT: return o->inv.f == CHK_F_GET && o->res.sval == w->inv.sval;
    case CHK_F_WRITE: return o->inv.f == CHK_F_READ && !o->res.nil && o->res.ival == w->inv.ival;
    default: return false;
    }
}

static int plant_failed_visible(struct gen *g)
{
    for (uint32_t w = 0; w < g->n_ops; w++) {
        enum chk_f f = g->ops[w].inv.f;
        if ((f != CHK_F_SET_DATA && f != CHK_F_PUT && f != CHK_F_WRITE) || !acked(g, w))
            continue;
        for (uint32_t r = w + 1; r < g->n_ops; r++)
            if (reads_value(g, r, &g->ops[w])) {
                ret_of(g, w)->type = CHK_FAIL;
                g->h->ops[w].status = CHK_ST_FAIL;
                return 0;
            }
    }
    return -1;
}

static int plant_non_fifo(struct gen *g)
{
    for (int adjacent = 1; adjacent >= 0; adjacent--)
        for (uint32_t j = 1; j < g->n_log; j++)
            for (uint32_t k = j + 1; k <= (adjacent ? j + 1 : g->n_log); k++) {
                uint32_t a = g->log[j], b = g->log[k];
                if (g->ops[a].session != g->ops[b].session || !acked(g, a) || !acked(g, b) || a > b)
                    continue;
                uint64_t z = ret_of(g, a)->zxid;
                ret_of(g, a)->zxid = ret_of(g, b)->zxid;
                ret_of(g, b)->zxid = z;
                return 0;
            }
    return -1;
}

static int plant_never_written(struct gen *g)
{
    for (uint32_t r = 0; r < g->n_ops; r++) {
        struct gop *o = &g->ops[r];
        if (o->end != CHK_OK || o->res.err)
            continue;
        struct chk_event *e = ret_of(g, r);
        if (o->inv.f == CHK_F_READ) {
            e->nil = false, e->ival = -777777;
            return 0;
        }
        if (o->inv.f == CHK_F_GET || (o->inv.f == CHK_F_GET_DATA)) {
            e->sval = gstr(g, "never-written");
            e->nil = false, e->has_value = true;
            return 0;
        }
    }
    return -1;
}

/* Register/kv stale read: r reads the value of w0 although w, which
 * overwrote it, completed before r began (and w0 before w began). */
static int plant_stale_read(struct gen *g)
{
    const struct chk_history *h = g->h;
    for (uint32_t x = 2; x < g->n_lin; x++) {
        uint32_t r = g->lin[x];
        enum chk_f rf = g->ops[r].inv.f;
        if ((rf != CHK_F_READ && rf != CHK_F_GET) || g->ops[r].end != CHK_OK)
            continue;
        uint32_t w = CHK_NONE, w0 = CHK_NONE;
        for (uint32_t y = x; y-- > 0 && w0 == CHK_NONE;) {
            uint32_t c = g->lin[y];
            enum chk_f f = g->ops[c].inv.f;
            bool writes = (f == CHK_F_WRITE || f == CHK_F_PUT || (f == CHK_F_CAS && g->ops[c].end == CHK_OK))
                && (rf == CHK_F_READ || g->ops[c].inv.key == g->ops[r].inv.key);
            if (f == CHK_F_APPEND && g->ops[c].inv.key == g->ops[r].inv.key)
                break;
            if (writes && w == CHK_NONE)
                w = c;
            else if (writes)
                w0 = c;
        }
        if (w0 == CHK_NONE || g->ops[w0].inv.f == CHK_F_CAS || g->ops[w].end != CHK_OK
            || g->ops[w0].end != CHK_OK || h->ops[w].ret >= h->ops[r].inv || h->ops[w0].ret >= h->ops[w].inv)
            continue;
        struct chk_event *e = ret_of(g, r);
        e->ival = g->ops[w0].inv.ival;
        e->sval = g->ops[w0].inv.sval;
        e->nil = false;
        return 0;
    }
    return -1;
}

/* Delays watch event e past the first later reply of its session that
 * already reflects the change (the watch was set before that request). */
static int delay_watch(struct gen *g, uint32_t e)
{
    struct chk_history *h = g->h;
    const struct chk_event ev = h->events[e];
    uint32_t reg_ret = CHK_NONE;
    bool acked_change = false;           /* the checker knows the change by its zxid */
    for (uint32_t i = 0; i < h->n_ops; i++)
        acked_change |= h->ops[i].status == CHK_ST_OK && chk_f_is_write(h->ops[i].f)
            && h->events[h->ops[i].ret].zxid == ev.zxid;
    if (!acked_change)
        return -1;
    for (uint32_t i = 0; i < h->n_ops && h->ops[i].inv < e; i++)
        if (h->ops[i].session == ev.session && h->events[h->ops[i].inv].watch
            && h->events[h->ops[i].inv].key == ev.key && h->ops[i].ret != CHK_NONE && h->ops[i].ret < e)
            reg_ret = h->ops[i].ret;
    for (uint32_t i = 0; reg_ret != CHK_NONE && i < h->n_ops; i++) {
        const struct chk_op *o = &h->ops[i];
        if (o->session != ev.session || o->ret == CHK_NONE || o->ret <= e || o->inv <= reg_ret
            || o->status != CHK_ST_OK || o->f == CHK_F_SYNC || !h->events[o->ret].has_zxid
            || h->events[o->ret].zxid < ev.zxid)
            continue;
        uint32_t c = o->ret;
        bool crosses = false;            /* keep it out of order with the reply only */
        for (uint32_t x = e + 1; x < c; x++)
            crosses |= h->events[x].type == CHK_WATCH && h->events[x].session == ev.session;
        if (crosses)
            return -1;
        memmove(h->events + e, h->events + e + 1, (size_t)(c - e) * sizeof *h->events);
        h->events[c] = ev;
        h->events[c].time_ns = h->events[c - 1].time_ns;
        char err[128];
        return chk_history_pair(h, err, sizeof err);
    }
    return -1;
}

static int plant_late_watch(struct gen *g)
{
    for (uint32_t e = 0; e < g->h->n_events; e++)
        if (g->h->events[e].type == CHK_WATCH && g->h->events[e].has_zxid && delay_watch(g, e) == 0)
            return 0;
    return -1;
}

static int plant(struct gen *g, enum chk_anomaly a, char *err, size_t errlen)
{
    int rc = 0;
    bool zk = g->o->model == CHK_MODEL_ZK;
    if (a != CHK_PLANT_NONE && !zk && g->o->value_range) {
        snprintf(err, errlen, "planting needs unique values (value range 0)");
        return -1;
    }
    switch (a) {
    case CHK_PLANT_NONE: return 0;
    case CHK_PLANT_STALE_AFTER_SYNC: rc = plant_stale_after_sync(g); break;
    case CHK_PLANT_READ_BACKWARDS: rc = plant_read_backwards(g); break;
    case CHK_PLANT_LOST_WRITE: rc = zk ? plant_zk_lost_write(g) : plant_stale_read(g); break;
    case CHK_PLANT_DUP_SEQUENTIAL: rc = plant_dup_sequential(g); break;
    case CHK_PLANT_FAILED_WRITE_VISIBLE: rc = plant_failed_visible(g); break;
    case CHK_PLANT_NON_FIFO: rc = g->o->no_zxids ? -1 : plant_non_fifo(g); break;
    case CHK_PLANT_NEVER_WRITTEN: rc = plant_never_written(g); break;
    case CHK_PLANT_LATE_WATCH: rc = g->o->no_zxids ? -1 : plant_late_watch(g); break;
    default: rc = -1;
    }
    if (rc)
        snprintf(err, errlen, "this history (seed %" PRIu64 ") has no place to plant %s; try another "
                 "seed or more operations", g->o->seed, chk_anomaly_name(a));
    return rc;
}
