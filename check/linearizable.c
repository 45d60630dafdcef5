/* check/linearizable: the Wing-Gong/Lowe search, iterative, memoized, per
 * partition. See linearizable.h for the contract; docs/checkers.md for the
 * algorithm in words. Owns the search memory of one check call. */
#include "check/linearizable.h"
#include "check/recipes.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One node of Lowe's entry list: the call or the return of an operation. */
struct ent {
    int32_t prev, next;
    int32_t match;            /* call -> its return entry, or -1 (unknown outcome) */
    uint32_t op;              /* index into part->ops */
    bool call;
};

struct part {
    chk_str key;
    struct chk_lin_op *ops;
    int32_t *twin;            /* unknown-outcome op: previous identical one, or -1 */
    uint32_t n_ops, n_ok;
    struct ent *ent;          /* ent[0] is the head sentinel */
    uint32_t n_ent;
};

/* Memo of (linearized set, state): open addressing, full compare. */
struct memo_slot {
    uint64_t hash;
    int64_t state;
    uint32_t bits;            /* offset in words + 1; 0 = empty */
    uint32_t flag;            /* search flag that restricts what may follow */
};
struct memo {
    struct memo_slot *slots;
    uint32_t cap, n;
    uint64_t *words;
    size_t n_words, cap_words;
    uint32_t wpb;             /* 64-bit words per bitset */
    uint64_t bytes, bytes_max;
};

struct lin_ctx {
    const struct chk_history *h;
    struct chk_model *m;
    const struct chk_lin_opts *opts;
    struct chk_lin_result *res;
    struct timespec start;
    uint64_t steps;
};

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;          /* splitmix64 finalizer */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int64_t elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int memo_init(struct memo *mm, uint32_t n_ops, uint64_t bytes_max)
{
    memset(mm, 0, sizeof *mm);
    mm->wpb = (n_ops + 63) / 64;
    if (mm->wpb == 0)
        mm->wpb = 1;
    mm->cap = 1024;
    mm->slots = calloc(mm->cap, sizeof *mm->slots);
    mm->bytes_max = bytes_max;
    mm->bytes = mm->cap * sizeof *mm->slots;
    return mm->slots ? 0 : -1;
}

static void memo_free(struct memo *mm)
{
    free(mm->slots);
    free(mm->words);
}

static int memo_grow(struct memo *mm)
{
    uint32_t cap = mm->cap * 2;
    if (mm->bytes + (uint64_t)cap * sizeof *mm->slots > mm->bytes_max)
        return -1;
    struct memo_slot *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < mm->cap; i++) {
        if (!mm->slots[i].bits)
            continue;
        uint32_t j = (uint32_t)mm->slots[i].hash & (cap - 1);
        while (s[j].bits)
            j = (j + 1) & (cap - 1);
        s[j] = mm->slots[i];
    }
    mm->bytes += (uint64_t)(cap - mm->cap) * sizeof *s;
    free(mm->slots);
    mm->slots = s;
    mm->cap = cap;
    return 0;
}

/* Returns 1 when (bits, state) is new and now recorded, 0 when seen, -1
 * when the memory budget is exhausted. */
static int memo_add(struct memo *mm, uint64_t hash, int64_t state, const uint64_t *bits, uint32_t flag)
{
    hash ^= flag * 0x9e3779b97f4a7c15ull;
    if ((mm->n + 1) * 4 > mm->cap * 3 && memo_grow(mm))
        return -1;
    uint32_t mask = mm->cap - 1, i = (uint32_t)hash & mask;
    for (; mm->slots[i].bits; i = (i + 1) & mask) {
        const struct memo_slot *s = &mm->slots[i];
        if (s->hash == hash && s->state == state && s->flag == flag
            && !memcmp(mm->words + s->bits - 1, bits, mm->wpb * sizeof *bits))
            return 0;
    }
    if (mm->n_words + mm->wpb > mm->cap_words) {
        size_t c = mm->cap_words ? mm->cap_words * 2 : 4096;
        if (mm->bytes + c * sizeof(uint64_t) > mm->bytes_max || c > UINT32_MAX - 1)
            return -1;
        uint64_t *w = realloc(mm->words, c * sizeof *w);
        if (!w)
            return -1;
        mm->bytes += (c - mm->cap_words) * sizeof *w;
        mm->words = w;
        mm->cap_words = c;
    }
    memcpy(mm->words + mm->n_words, bits, mm->wpb * sizeof *bits);
    mm->slots[i] = (struct memo_slot){hash, state, (uint32_t)mm->n_words + 1, flag};
    mm->n_words += mm->wpb;
    mm->n++;
    return 1;
}

/* Lowe's lift: take an operation's call and return out of the list. */
static void lift(struct ent *ent, int32_t e)
{
    ent[ent[e].prev].next = ent[e].next;
    if (ent[e].next >= 0)
        ent[ent[e].next].prev = ent[e].prev;
    int32_t r = ent[e].match;
    if (r >= 0) {
        ent[ent[r].prev].next = ent[r].next;
        if (ent[r].next >= 0)
            ent[ent[r].next].prev = ent[r].prev;
    }
}

/* Undoes lift, in the reverse order. */
static void unlift(struct ent *ent, int32_t e)
{
    int32_t r = ent[e].match;
    if (r >= 0) {
        ent[ent[r].prev].next = r;
        if (ent[r].next >= 0)
            ent[ent[r].next].prev = r;
    }
    ent[ent[e].prev].next = e;
    if (ent[e].next >= 0)
        ent[ent[e].next].prev = e;
}

struct search {
    int32_t *stack_ent;
    int64_t *stack_state;
    uint8_t *stack_must;
    uint8_t *stack_forced;    /* placed as an eager read: no alternative to try */
    uint32_t sp;
    uint64_t *bits;
    uint64_t *zkey;
    uint32_t *best;
    uint32_t n_best;
    int64_t best_state;
};

static void track_best(struct search *s, const struct part *p, int64_t state)
{
    if (s->sp <= s->n_best)
        return;
    for (uint32_t i = 0; i < s->sp; i++)
        s->best[i] = p->ent[s->stack_ent[i]].op;
    s->n_best = s->sp;
    s->best_state = state;
}

static bool blind(const struct chk_lin_op *op)
{
    return op->f == CHK_F_WRITE || op->f == CHK_F_PUT;
}

/* A completed op that fits the state and leaves it unchanged (a read) can
 * be placed now without loss: any order that places it later stays valid
 * with it moved here. So it is placed with no alternative tried. Returns
 * its entry, or -1. */
static int32_t eager_read(struct lin_ctx *c, const struct part *p, int64_t state)
{
    const struct ent *ent = p->ent;
    for (int32_t e = ent[0].next; e >= 0 && ent[e].call; e = ent[e].next) {
        const struct chk_lin_op *op = &p->ops[ent[e].op];
        int64_t next;
        if (op->ok && !blind(op) && op->f != CHK_F_APPEND && c->m->kind != CHK_MODEL_ZK
            && chk_model_step(c->m, state, op, &next) && next == state)
            return e;
    }
    return -1;
}

/* Where the search stands: the model state after the placed ops, the hash
 * of the placed set, completed ops still to place, and whether the last op
 * placed was an unknown-outcome write that the next op must consume. */
struct cursor {
    int64_t state;
    uint64_t zob;
    uint32_t remaining;
    bool must;
};

/* Places the op of entry e, leading to state next, unless (placed set,
 * next, next_must) was seen before. Returns 1 when placed, 0 when seen, -1
 * when the memo's memory budget is exhausted. */
static int place(struct part *p, struct search *s, struct memo *mm, struct cursor *cur, int32_t e,
                 int64_t next, bool forced, bool next_must)
{
    uint32_t op = p->ent[e].op;
    s->bits[op / 64] |= 1ull << (op % 64);
    int r = memo_add(mm, mix64((uint64_t)next) ^ cur->zob ^ s->zkey[op], next, s->bits, next_must);
    if (r <= 0) {
        s->bits[op / 64] &= ~(1ull << (op % 64));
        return r;
    }
    cur->zob ^= s->zkey[op];
    s->stack_ent[s->sp] = e;
    s->stack_must[s->sp] = cur->must;
    s->stack_forced[s->sp] = forced;
    s->stack_state[s->sp++] = cur->state;
    cur->must = next_must;
    cur->state = next;
    cur->remaining -= p->ops[op].ok;
    lift(p->ent, e);
    track_best(s, p, cur->state);
    return 1;
}

/* Undoes placements back to the latest one that has alternatives left (an
 * eager read has none). Returns the entry to resume the scan from, or -2
 * when nothing is left: the partition is not linearizable. */
static int32_t backtrack(struct part *p, struct search *s, struct cursor *cur)
{
    for (;;) {
        if (s->sp == 0)
            return -2;
        int32_t top = s->stack_ent[--s->sp];
        uint32_t op = p->ent[top].op;
        cur->state = s->stack_state[s->sp];
        cur->must = s->stack_must[s->sp];
        cur->zob ^= s->zkey[op];
        s->bits[op / 64] &= ~(1ull << (op % 64));
        cur->remaining += p->ops[op].ok;
        unlift(p->ent, top);
        if (!s->stack_forced[s->sp])
            return p->ent[top].next;
    }
}

/* May the op of call entry e go next? Identical unknown-outcome ops go in
 * invocation order (no deadline: any order of them is as good), and after
 * an unknown-outcome write only an op that depends on its value may follow
 * (were it a blind write, or nothing, the unknown write could be dropped). */
static bool may_place(const struct part *p, const struct search *s, const struct cursor *cur, int32_t e)
{
    uint32_t op = p->ent[e].op;
    int32_t tw = p->twin[op];
    bool canonical = tw < 0 || (s->bits[tw / 64] >> (tw % 64) & 1);
    return canonical && !(cur->must && blind(&p->ops[op]));
}

/* The search proper. Returns OK, VIOLATION, UNKNOWN or INTERNAL. */
static enum chk_verdict search_part(struct lin_ctx *c, struct part *p, struct search *s,
                                    struct memo *mm)
{
    struct cursor cur = {c->m->init, 0, p->n_ok, false};
    if (memo_add(mm, mix64((uint64_t)cur.state), cur.state, s->bits, 0) < 0)
        return CHK_VERDICT_UNKNOWN;
    int32_t e = p->ent[0].next;
    bool fresh = true;        /* a new configuration: look for an eager read */
    while (cur.remaining > 0) {
        if ((++c->steps & 1023) == 0 && c->opts->budget_ms > 0
            && elapsed_ms(&c->start) > c->opts->budget_ms)
            return CHK_VERDICT_UNKNOWN;
        if (e < 0)
            return CHK_VERDICT_INTERNAL;   /* a pending return entry must come first */
        int32_t eager = fresh ? eager_read(c, p, cur.state) : -1;
        fresh = false;
        int r = 0;
        int64_t next;
        if (eager >= 0) {
            /* a read consumes the value just written: no restriction after */
            r = place(p, s, mm, &cur, eager, cur.state, true, false);
        } else if (p->ent[e].call) {
            uint32_t op = p->ent[e].op;
            if (may_place(p, s, &cur, e) && chk_model_step(c->m, cur.state, &p->ops[op], &next))
                r = place(p, s, mm, &cur, e, next, false, !p->ops[op].ok && c->m->kind != CHK_MODEL_ZK);
            if (r == 0) {
                e = p->ent[e].next;
                continue;
            }
        }
        if (r < 0)
            return CHK_VERDICT_UNKNOWN;
        if (r == 0) {                    /* a return entry, or an eager read seen before */
            e = backtrack(p, s, &cur);
            if (e == -2)
                return CHK_VERDICT_VIOLATION;
            continue;
        }
        e = p->ent[0].next;
        fresh = true;
    }
    return CHK_VERDICT_OK;
}

void chk_describe_op(const struct chk_history *h, uint32_t op, char *buf, size_t len)
{
    const struct chk_op *o = &h->ops[op];
    const struct chk_event *inv = &h->events[o->inv];
    const struct chk_event *ret = o->ret != CHK_NONE ? &h->events[o->ret] : NULL;
    char what[256], t1[32], t2[32];
    switch (o->f) {
    case CHK_F_READ:
        if (ret && !ret->nil)
            snprintf(what, sizeof what, "read -> %" PRId64, ret->ival);
        else
            snprintf(what, sizeof what, ret ? "read -> nil" : "read -> ?");
        break;
    case CHK_F_WRITE:
        snprintf(what, sizeof what, "write %" PRId64, inv->ival);
        break;
    case CHK_F_CAS:
        snprintf(what, sizeof what, "cas %" PRId64 "->%" PRId64, inv->ival, inv->ival2);
        break;
    case CHK_F_GET:
        snprintf(what, sizeof what, "get %s -> %s%s%s", chk_str_get(h, inv->key), ret ? "\"" : "?",
                 ret ? chk_str_get(h, ret->sval) : "", ret ? "\"" : "");
        break;
    default:
        snprintf(what, sizeof what, "%s %s%s%s", chk_f_name(o->f), chk_str_get(h, inv->key),
                 inv->has_value ? " " : "", inv->has_value ? chk_str_get(h, inv->sval) : "");
    }
    chk_fmt_when(inv, t1, sizeof t1);
    if (ret)
        chk_fmt_when(ret, t2, sizeof t2);
    snprintf(buf, len, "process %" PRId64 " %s%s (invoked %s, %s%s)", o->process, what,
             o->status == CHK_ST_INFO ? " [outcome unknown]" : "", t1,
             ret ? "completed " : "never completed", ret ? t2 : "");
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Values some completed read or some cas could depend on. An unknown-outcome
 * write of any other value can be dropped: whatever follows it in a
 * linearization is a write, so removing it changes nothing observable. */
static int64_t *register_observed(const struct chk_lin_op *ops, uint32_t n, uint32_t *n_out)
{
    int64_t *v = malloc((n + 1) * sizeof *v);
    uint32_t k = 0;
    for (uint32_t i = 0; v && i < n; i++) {
        if (ops[i].f == CHK_F_READ && ops[i].ok)
            v[k++] = ops[i].r;
        else if (ops[i].f == CHK_F_CAS)
            v[k++] = ops[i].a;
    }
    if (v)
        qsort(v, k, sizeof *v, cmp_i64);
    *n_out = k;
    return v;
}

static bool droppable(const struct chk_model *m, const struct chk_lin_op *op,
                      const int64_t *obs, uint32_t n_obs)
{
    if (op->ok)
        return false;
    if (op->f == CHK_F_READ || op->f == CHK_F_GET || op->f == CHK_F_GET_DATA
        || op->f == CHK_F_EXISTS || op->f == CHK_F_GET_CHILDREN || op->f == CHK_F_SYNC)
        return true;                     /* an unknown read constrains nothing */
    if (m->kind != CHK_MODEL_REGISTER || !obs)
        return false;
    int64_t v = op->f == CHK_F_WRITE ? op->a : op->b;
    return !bsearch(&v, obs, n_obs, sizeof v, cmp_i64);
}

static int cmp_ent_ev(const void *a, const void *b, void *arg)
{
    const uint32_t *ev = arg;
    uint32_t x = ev[*(const uint32_t *)a], y = ev[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

/* Builds the entry list of a partition whose ops are already compiled. */
static int build_entries(const struct chk_history *h, struct part *p)
{
    uint32_t n = 0;
    uint32_t *ev = malloc(2 * p->n_ops * sizeof *ev + 1);
    uint32_t *order = malloc(2 * p->n_ops * sizeof *order + 1);
    p->ent = calloc(2 * p->n_ops + 1, sizeof *p->ent);
    if (!ev || !order || !p->ent) {
        free(ev);
        free(order);
        return -1;
    }
    for (uint32_t i = 0; i < p->n_ops; i++) {
        const struct chk_op *o = &h->ops[p->ops[i].op];
        ev[n] = o->inv, order[n] = n, p->ent[n + 1] = (struct ent){0, 0, -1, i, true}, n++;
        if (p->ops[i].ok)
            ev[n] = o->ret, order[n] = n, p->ent[n + 1] = (struct ent){0, 0, -1, i, false}, n++;
    }
    qsort_r(order, n, sizeof *order, cmp_ent_ev, ev);
    struct ent *tmp = malloc((n + 1) * sizeof *tmp);
    int32_t *where = malloc((p->n_ops + 1) * sizeof *where);
    if (!tmp || !where) {
        free(ev), free(order), free(tmp), free(where);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        tmp[i + 1] = p->ent[order[i] + 1];
    for (uint32_t i = 1; i <= n; i++) {
        tmp[i].prev = (int32_t)i - 1;
        tmp[i].next = i < n ? (int32_t)i + 1 : -1;
        if (tmp[i].call)
            where[tmp[i].op] = (int32_t)i;
        else
            tmp[where[tmp[i].op]].match = (int32_t)i;
    }
    tmp[0] = (struct ent){-1, n ? 1 : -1, -1, 0, false};
    free(p->ent);
    p->ent = tmp;
    p->n_ent = n;
    free(ev), free(order), free(where);
    return 0;
}

/* Compiles the ops of one partition, dropping those that cannot matter. */
static int compile_part(struct lin_ctx *c, struct part *p, const uint32_t *ops, uint32_t n)
{
    p->ops = malloc((n + 1) * sizeof *p->ops);
    if (!p->ops)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (chk_model_prepare(c->m, ops[i], &p->ops[i], c->res->msg, sizeof c->res->msg))
            return -2;
    uint32_t n_obs = 0;
    int64_t *obs = c->m->kind == CHK_MODEL_REGISTER ? register_observed(p->ops, n, &n_obs) : NULL;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!droppable(c->m, &p->ops[i], obs, n_obs))
            p->ops[k++] = p->ops[i];
    free(obs);
    p->n_ops = k;
    p->n_ok = 0;
    for (uint32_t i = 0; i < k; i++)
        p->n_ok += p->ops[i].ok;
    p->twin = malloc((k + 1) * sizeof *p->twin);
    if (!p->twin)
        return -1;
    for (uint32_t i = 0; i < k; i++) {
        p->twin[i] = -1;
        for (uint32_t j = i; j-- > 0 && !p->ops[i].ok;)
            if (!p->ops[j].ok && p->ops[j].f == p->ops[i].f && p->ops[j].a == p->ops[i].a
                && p->ops[j].b == p->ops[i].b && c->m->kind != CHK_MODEL_ZK) {
                p->twin[i] = (int32_t)j;
                break;
            }
    }
    return build_entries(c->h, p);
}

static void msg_add(struct chk_lin_result *res, const char *fmt, const char *text)
{
    size_t used = strlen(res->msg);
    if (used + 1 < sizeof res->msg)
        snprintf(res->msg + used, sizeof res->msg - used, fmt, text);
}

/* Turns the deepest point the search reached into a counterexample: the
 * longest linearizable prefix, then the earliest-returning operation left
 * out and every operation that could have gone before it. */
static void report_violation(struct lin_ctx *c, const struct part *p, const struct search *s)
{
    struct chk_lin_result *res = c->res;
    const struct chk_history *h = c->h;
    bool *in = calloc(p->n_ops + 1, sizeof *in);
    res->prefix = malloc((s->n_best + 1) * sizeof *res->prefix);
    res->stuck = malloc((p->n_ops + 1) * sizeof *res->stuck);
    if (!in || !res->prefix || !res->stuck) {
        free(in);
        return;
    }
    for (uint32_t i = 0; i < s->n_best; i++) {
        in[s->best[i]] = true;
        res->prefix[res->n_prefix++] = p->ops[s->best[i]].op;
    }
    uint32_t first_ret = CHK_NONE;
    for (uint32_t i = 0; i < p->n_ops; i++)
        if (!in[i] && p->ops[i].ok && h->ops[p->ops[i].op].ret < first_ret)
            first_ret = h->ops[p->ops[i].op].ret;
    for (uint32_t i = 0; i < p->n_ops; i++)
        if (!in[i] && h->ops[p->ops[i].op].inv < first_ret)
            res->stuck[res->n_stuck++] = p->ops[i].op;
    free(in);
    char line[512], st[128];
    chk_model_describe(c->m, s->best_state, st, sizeof st);
    snprintf(res->msg, sizeof res->msg, "not linearizable (model %s%s%s%s): %u of %u operations "
             "linearize, ending in state %s; last of them:\n", c->m->name,
             p->key ? ", key \"" : "", p->key ? chk_str_get(h, p->key) : "", p->key ? "\"" : "",
             s->n_best, p->n_ops, st);
    uint32_t from = s->n_best > 5 ? s->n_best - 5 : 0;
    for (uint32_t i = from; i < s->n_best; i++) {
        chk_describe_op(h, res->prefix[i], line, sizeof line);
        msg_add(res, "  %s\n", line);
    }
    msg_add(res, "%s", "then none of these can be placed next (the first one returned before "
            "any order could fit it in):\n");
    for (uint32_t i = 0; i < res->n_stuck && i < 16; i++) {
        chk_describe_op(h, res->stuck[i], line, sizeof line);
        msg_add(res, "  %s\n", line);
    }
}

static enum chk_verdict check_part(struct lin_ctx *c, struct part *p)
{
    struct search s = {0};
    struct memo mm;
    uint32_t n = p->n_ops + 1;
    s.stack_ent = malloc(n * sizeof *s.stack_ent);
    s.stack_state = malloc(n * sizeof *s.stack_state);
    s.stack_must = malloc(n * sizeof *s.stack_must);
    s.stack_forced = malloc(n * sizeof *s.stack_forced);
    s.best = malloc(n * sizeof *s.best);
    s.zkey = malloc(n * sizeof *s.zkey);
    s.bits = calloc((n + 63) / 64 + 1, sizeof *s.bits);
    uint64_t max = c->opts->memo_bytes_max ? c->opts->memo_bytes_max : (2ull << 30);
    enum chk_verdict v = CHK_VERDICT_INTERNAL;
    if (s.stack_ent && s.stack_state && s.stack_must && s.stack_forced && s.best && s.zkey && s.bits
        && memo_init(&mm, p->n_ops, max) == 0) {
        for (uint32_t i = 0; i < p->n_ops; i++)
            s.zkey[i] = mix64(0x5eed0000ull + i);
        s.best_state = c->m->init;
        v = search_part(c, p, &s, &mm);
        if (v == CHK_VERDICT_VIOLATION)
            report_violation(c, p, &s);
        memo_free(&mm);
    }
    free(s.stack_ent), free(s.stack_state), free(s.stack_must), free(s.stack_forced), free(s.best), free(s.zkey), free(s.bits);
    return v;
}

/* Failed ops did not happen; a ZooKeeper error result is still kept, since
 * it observes the tree. */
static bool keep_op(const struct lin_ctx *c, uint32_t i)
{
    return c->h->ops[i].status != CHK_ST_FAIL || chk_op_observed(c->h, &c->h->ops[i]);
}

/* Splits the non-failed ops into partitions (by kv key when allowed),
 * in order of first appearance. Returns the number of partitions. */
static uint32_t partition_ops(struct lin_ctx *c, uint32_t *order, uint32_t *starts)
{
    const struct chk_history *h = c->h;
    bool split = c->m->kind == CHK_MODEL_KV;   /* a kv state is one key's value */
    uint32_t n_keys = split ? h->n_strs + 1 : 1;
    uint32_t *count = calloc(n_keys + 1, sizeof *count);
    uint32_t *part_of = calloc(n_keys + 1, sizeof *part_of);
    uint32_t n_parts = 0, n = 0;
    if (!count || !part_of)
        goto out;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        if (!keep_op(c, i))
            continue;
        uint32_t k = split ? chk_model_partition(c->m, i) : 0;
        if (!count[k]++)
            part_of[k] = n_parts++;
        n++;
    }
    /* counting sort by partition, stable in invocation order */
    uint32_t *fill = calloc(n_parts + 1, sizeof *fill);
    if (!fill)
        goto out;
    for (uint32_t k = 0; k < n_keys; k++)
        if (count[k])
            fill[part_of[k] + 1] = count[k];
    for (uint32_t i = 1; i <= n_parts; i++)
        fill[i] += fill[i - 1];
    memcpy(starts, fill, (n_parts + 1) * sizeof *starts);
    for (uint32_t i = 0; i < h->n_ops; i++)
        if (keep_op(c, i))
            order[fill[part_of[split ? chk_model_partition(c->m, i) : 0]]++] = i;
    free(fill);
out:
    free(count);
    free(part_of);
    return n_parts;
}

enum chk_verdict chk_linearizable(const struct chk_history *h, const struct chk_lin_opts *opts,
                                  struct chk_lin_result *res)
{
    if (chk_history_has_recipes(h)) {
        /* recipe outcomes are the recipe checkers' (check/recipes.h); the
         * result's op indices then refer to the history without them */
        char err[256];
        struct chk_history *ops = chk_history_without_recipes(h, err, sizeof err);
        if (!ops) {
            memset(res, 0, sizeof *res);
            snprintf(res->msg, sizeof res->msg, "%s", err);
            return res->verdict = CHK_VERDICT_INTERNAL;
        }
        enum chk_verdict v = chk_linearizable(ops, opts, res);
        chk_history_free(ops);
        return v;
    }
    struct chk_model m;
    memset(res, 0, sizeof *res);
    struct lin_ctx c = {h, &m, opts, res, {0, 0}, 0};
    clock_gettime(CLOCK_MONOTONIC, &c.start);
    if (chk_model_init(&m, opts->model, h)) {
        snprintf(res->msg, sizeof res->msg, "out of memory");
        return res->verdict = CHK_VERDICT_INTERNAL;
    }
    uint32_t *order = malloc((h->n_ops + 1) * sizeof *order);
    uint32_t *starts = malloc((h->n_ops + 2) * sizeof *starts);
    enum chk_verdict v = CHK_VERDICT_INTERNAL;
    bool unknown = false;
    if (order && starts) {
        res->n_partitions = partition_ops(&c, order, starts);
        v = CHK_VERDICT_OK;
        for (uint32_t i = 0; i < res->n_partitions && v == CHK_VERDICT_OK; i++) {
            struct part p = {0};
            p.key = chk_model_partition(&m, order[starts[i]]);
            int rc = compile_part(&c, &p, order + starts[i], starts[i + 1] - starts[i]);
            v = rc == -2 ? CHK_VERDICT_BAD_INPUT : rc ? CHK_VERDICT_INTERNAL : check_part(&c, &p);
            if (v == CHK_VERDICT_VIOLATION)
                res->bad_key = p.key;
            if (v == CHK_VERDICT_UNKNOWN) {
                unknown = true;          /* keep looking for a definite violation */
                v = CHK_VERDICT_OK;
            }
            free(p.ops);
            free(p.ent);
            free(p.twin);
        }
    }
    if (v == CHK_VERDICT_OK && unknown)
        v = CHK_VERDICT_UNKNOWN;
    res->steps = c.steps;
    if (v == CHK_VERDICT_OK)
        snprintf(res->msg, sizeof res->msg, "linearizable (model %s, %u operations, %u partitions, "
                 "%" PRIu64 " steps)", m.name, h->n_ops, res->n_partitions, c.steps);
    else if (v == CHK_VERDICT_UNKNOWN)
        snprintf(res->msg, sizeof res->msg, "unknown: the search ran out of its %s budget "
                 "(model %s, %" PRIu64 " steps); no violation found so far",
                 opts->budget_ms > 0 && elapsed_ms(&c.start) > opts->budget_ms ? "time" : "memory",
                 m.name, c.steps);
    else if (v == CHK_VERDICT_INTERNAL && !res->msg[0])
        snprintf(res->msg, sizeof res->msg, "internal error (out of memory?)");
    free(order);
    free(starts);
    chk_model_free(&m);
    return res->verdict = v;
}

void chk_lin_result_free(struct chk_lin_result *res)
{
    free(res->prefix);
    free(res->stuck);
    res->prefix = res->stuck = NULL;
    res->n_prefix = res->n_stuck = 0;
}
