/* check/zk_search: the ZooKeeper contract judged without a zxid witness.
 * A depth-first search, with an explicit stack, over the sessions' chains of
 * operations: at each point the next operation of some session takes effect.
 * Reads and syncs are placed as soon as they fit (placing a read that fits
 * now is never worse than later: it changes no state and only unblocks its
 * session); writes respect real time among writes (and syncs, in strict
 * mode); unknown-outcome writes are placed or skipped. Configurations (heads
 * of all chains + tree fingerprint, 128 bits) are memoized.
 * Owns the search memory. Must never recurse or run past its budget. */
#include "check/zk_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { ACT_PLACE, ACT_SKIP };

struct choice {
    uint32_t sess;
    uint8_t act;
};

struct frame {
    uint32_t choice_first, n_choices, next;
    uint32_t trail_mark, tree_mark, wdone, zdone;
    uint64_t hh;
};

struct trail {
    uint32_t sess, op;        /* op placed (CHK_NONE: skipped) */
};

struct memo128 {
    uint64_t *a, *b;          /* a == 0 && b == 0: empty */
    uint32_t cap, n;
    uint64_t bytes_max;
};

struct srch {
    struct zk_ctx *c;
    uint32_t *head;           /* per session: ops taken so far */
    uint64_t hh;              /* hash of the heads */
    uint32_t *need;           /* per op: constraint writes that must precede it */
    uint32_t *rank;           /* per op: index in the constraint list, or CHK_NONE */
    uint8_t *placed;          /* per constraint index */
    uint32_t n_cons, wdone;
    uint32_t *zrank;          /* zxid-constrained: write -> index in zxid order;
                                 observation -> writes with zxid <= its zxid */
    uint32_t zdone;           /* writes placed (in zxid order) */
    struct trail *trail;
    uint32_t n_trail;
    struct frame *frames;
    uint32_t n_frames;
    struct choice *choices;
    uint32_t n_choices, cap_choices;
    struct memo128 memo;
    uint32_t depth, best_depth;
    uint32_t *best_blocked, n_best_blocked;
    uint32_t *info_op, *info_z, n_info;   /* unknown writes placed on this path */
    uint32_t *best_info_op, *best_info_z, n_best_info, best_zdone;
    bool keep_guide;          /* copy them at each deeper point (small histories) */
};

static uint64_t head_key(uint32_t s, uint32_t head)
{
    return zkt_mix(((uint64_t)s << 32) | head);
}

static int memo_add(struct memo128 *m, uint64_t a, uint64_t b)
{
    if (!a && !b)
        a = 1;
    if ((m->n + 1) * 4 > m->cap * 3) {
        uint32_t cap = m->cap ? m->cap * 2 : 4096;
        if ((uint64_t)cap * 16 > m->bytes_max)
            return -1;
        uint64_t *na = calloc(cap, 8), *nb = calloc(cap, 8);
        if (!na || !nb) {
            free(na), free(nb);
            return -1;
        }
        for (uint32_t i = 0; i < m->cap; i++) {
            if (!m->a[i] && !m->b[i])
                continue;
            uint32_t j = (uint32_t)m->a[i] & (cap - 1);
            while (na[j] || nb[j])
                j = (j + 1) & (cap - 1);
            na[j] = m->a[i], nb[j] = m->b[i];
        }
        free(m->a), free(m->b);
        m->a = na, m->b = nb, m->cap = cap;
    }
    uint32_t i = (uint32_t)a & (m->cap - 1);
    for (; m->a[i] || m->b[i]; i = (i + 1) & (m->cap - 1))
        if (m->a[i] == a && m->b[i] == b)
            return 0;
    m->a[i] = a, m->b[i] = b, m->n++;
    return 1;
}

static uint32_t head_op(const struct srch *s, uint32_t sess)
{
    const struct zk_ctx *c = s->c;
    uint32_t k = c->sess_start[sess] + s->head[sess];
    return k < c->sess_start[sess + 1] ? c->sess_ops[k] : CHK_NONE;
}

static void advance(struct srch *s, uint32_t sess, uint32_t op_placed)
{
    s->trail[s->n_trail++] = (struct trail){sess, op_placed};
    s->hh ^= head_key(sess, s->head[sess]) ^ head_key(sess, s->head[sess] + 1);
    s->head[sess]++;
    s->depth++;
    if (op_placed != CHK_NONE && s->c->kind[op_placed] == ZK_WRITE)
        s->zdone++;
    if (op_placed != CHK_NONE && s->c->kind[op_placed] == ZK_INFO && s->info_op) {
        s->info_op[s->n_info] = op_placed;
        s->info_z[s->n_info++] = s->zdone;
    }
    uint32_t r = op_placed == CHK_NONE ? CHK_NONE : s->rank[op_placed];
    if (r != CHK_NONE) {
        s->placed[r] = 1;
        while (s->wdone < s->n_cons && s->placed[s->wdone])
            s->wdone++;
    }
}

static void undo_to(struct srch *s, const struct frame *f)
{
    while (s->n_trail > f->trail_mark) {
        struct trail t = s->trail[--s->n_trail];
        s->head[t.sess]--;
        s->depth--;
        if (t.op != CHK_NONE && s->rank[t.op] != CHK_NONE)
            s->placed[s->rank[t.op]] = 0;
        if (t.op != CHK_NONE && s->c->kind[t.op] == ZK_INFO && s->info_op)
            s->n_info--;
    }
    zkt_undo(&s->c->tree, f->tree_mark);
    s->wdone = f->wdone;
    s->zdone = f->zdone;
    s->hh = f->hh;
}

static bool apply_checked(struct srch *s, uint32_t op, bool check)
{
    struct zk_ctx *c = s->c;
    const struct chk_op *o = &c->h->ops[op];
    struct zk_res r;
    uint32_t mark = zkt_mark(&c->tree);
    bool ok = zkt_apply(&c->tree, c->h, &c->h->events[o->inv], o->session, &r) == 0
        && (!check || zkt_res_matches(c->h, &c->h->events[o->ret], &r));
    if (!ok || c->kind[op] == ZK_OBS)
        zkt_undo(&c->tree, mark);       /* observations never change the tree */
    return ok;
}

/* With a zxid witness, writes go in zxid order and an observation with a
 * zxid sits right after the writes up to it. */
static bool z_ready(const struct srch *s, uint32_t op)
{
    return !s->zrank || s->zrank[op] == CHK_NONE || s->zrank[op] == s->zdone;
}

/* Places every read, sync and skip that fits now, until nothing moves. */
static void forced(struct srch *s)
{
    struct zk_ctx *c = s->c;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint32_t sess = 0; sess < c->n_sess; sess++) {
            for (uint32_t op; (op = head_op(s, sess)) != CHK_NONE;) {
                uint8_t k = c->kind[op];
                if (k == ZK_SKIP)
                    advance(s, sess, CHK_NONE);
                else if (k == ZK_OBS && z_ready(s, op) && apply_checked(s, op, true))
                    advance(s, sess, op);
                else if (k == ZK_SYNC && s->wdone >= s->need[op])
                    advance(s, sess, op);
                else
                    break;
                moved = true;
            }
        }
    }
}

/* With zxids, an observation must sit right after the writes up to its
 * zxid: once the order has moved past that point, it can never be placed. */
static bool missed_window(const struct srch *s)
{
    if (!s->zrank)
        return false;
    for (uint32_t sess = 0; sess < s->c->n_sess; sess++) {
        uint32_t op = head_op(s, sess);
        if (op != CHK_NONE && s->c->kind[op] == ZK_OBS && s->zrank[op] != CHK_NONE && s->zrank[op] < s->zdone)
            return true;
    }
    return false;
}

static bool all_done(const struct srch *s)
{
    for (uint32_t sess = 0; sess < s->c->n_sess; sess++)
        if (head_op(s, sess) != CHK_NONE)
            return false;
    return true;
}

static void note_best(struct srch *s)
{
    if (s->depth <= s->best_depth && s->n_best_blocked)
        return;
    s->best_depth = s->depth;
    s->best_zdone = s->zdone;

    s->n_best_blocked = 0;
    if (s->keep_guide) {
        memcpy(s->best_info_op, s->info_op, s->n_info * sizeof *s->info_op);
        memcpy(s->best_info_z, s->info_z, s->n_info * sizeof *s->info_z);
        s->n_best_info = s->n_info;
    }
    for (uint32_t sess = 0; sess < s->c->n_sess && s->n_best_blocked < 6; sess++) {
        uint32_t op = head_op(s, sess);
        if (op != CHK_NONE)
            s->best_blocked[s->n_best_blocked++] = op;
    }
}

static int push_choices(struct srch *s)
{
    struct zk_ctx *c = s->c;
    uint32_t first = s->n_choices;
    if (s->n_choices + 2 * c->n_sess + 2 > s->cap_choices) {
        uint32_t cap = (s->n_choices + 2 * c->n_sess + 2) * 2;
        struct choice *ch = realloc(s->choices, (size_t)cap * sizeof *ch);
        if (!ch)
            return -1;
        s->choices = ch;
        s->cap_choices = cap;
    }
    for (uint32_t sess = 0; sess < c->n_sess; sess++) {
        uint32_t op = head_op(s, sess);
        if (op == CHK_NONE || s->wdone < s->need[op])
            continue;
        if (c->kind[op] == ZK_WRITE && z_ready(s, op) && apply_checked(s, op, true)) {
            zkt_undo(&c->tree, s->frames[s->n_frames].tree_mark);
            s->choices[s->n_choices++] = (struct choice){sess, ACT_PLACE};
        } else if (c->kind[op] == ZK_INFO) {
            s->choices[s->n_choices++] = (struct choice){sess, ACT_PLACE};
        }
    }
    for (uint32_t sess = 0; sess < c->n_sess; sess++) {
        uint32_t op = head_op(s, sess);
        if (op != CHK_NONE && c->kind[op] == ZK_INFO)
            s->choices[s->n_choices++] = (struct choice){sess, ACT_SKIP};
    }
    return (int)(s->n_choices - first);
}

static void take(struct srch *s, struct choice ch)
{
    uint32_t op = head_op(s, ch.sess);
    if (ch.act == ACT_SKIP) {
        advance(s, ch.sess, CHK_NONE);
        return;
    }
    apply_checked(s, op, s->c->kind[op] == ZK_WRITE);
    advance(s, ch.sess, op);
}

/* Returns 1 when a new frame was opened (or the end reached: 2), 0 on a
 * dead end, -1 when the budget ran out. */
static int expand(struct srch *s)
{
    struct zk_ctx *c = s->c;
    forced(s);
    if (all_done(s))
        return 2;
    note_best(s);             /* a missed window is the deepest news too */
    if (missed_window(s))
        return 0;
    struct frame *f = &s->frames[s->n_frames];
    *f = (struct frame){s->n_choices, 0, 0, s->n_trail, zkt_mark(&c->tree), s->wdone, s->zdone, s->hh};
    int r = memo_add(&s->memo, c->tree.fp1 ^ s->hh, c->tree.fp2 + zkt_mix(s->hh));
    if (r <= 0)
        return r;
    int nc = push_choices(s);
    if (nc < 0)
        return -1;
    f->n_choices = (uint32_t)nc;
    if (f->n_choices == 0) {
        s->n_choices = f->choice_first;
        return 0;
    }
    s->n_frames++;
    return 1;
}

static enum chk_verdict run(struct srch *s)
{
    int r = expand(s);
    for (;;) {
        if (r == 2)
            return CHK_VERDICT_OK;
        if (r < 0 || ((++s->c->res->steps & 255) == 0 && zkc_over_budget(s->c)))
            return CHK_VERDICT_UNKNOWN;
        if (s->n_frames == 0)
            return CHK_VERDICT_VIOLATION;
        struct frame *f = &s->frames[s->n_frames - 1];
        undo_to(s, f);
        if (f->next == f->n_choices) {
            s->n_choices = f->choice_first;
            s->n_frames--;
            r = 0;
            continue;
        }
        take(s, s->choices[f->choice_first + f->next++]);
        r = expand(s);
    }
}

static int cmp_ret(const void *a, const void *b, void *arg)
{
    const struct chk_history *h = arg;
    uint32_t x = h->ops[*(const uint32_t *)a].ret, y = h->ops[*(const uint32_t *)b].ret;
    return x < y ? -1 : x > y;
}

/* Writes (and, in strict mode, syncs) that completed: a write or sync may
 * take effect only after every one of them that completed before it began. */
static int build_constraints(struct srch *s)
{
    struct zk_ctx *c = s->c;
    const struct chk_history *h = c->h;
    uint32_t *cons = malloc((h->n_ops + 1) * sizeof *cons);
    if (!cons)
        return -1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        s->rank[i] = CHK_NONE;
        if (c->kind[i] == ZK_WRITE || (c->kind[i] == ZK_SYNC && c->opts->sync_mode == CHK_SYNC_STRICT))
            cons[n++] = i;
    }
    qsort_r(cons, n, sizeof *cons, cmp_ret, (void *)h);
    for (uint32_t k = 0; k < n; k++)
        s->rank[cons[k]] = k;
    s->n_cons = n;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        uint32_t lo = 0, hi = n;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (h->ops[cons[mid]].ret < h->ops[i].inv)
                lo = mid + 1;
            else
                hi = mid;
        }
        s->need[i] = c->kind[i] == ZK_OBS ? 0 : lo;
    }
    free(cons);
    return 0;
}

static int cmp_zxid(const void *a, const void *b, void *arg)
{
    const struct chk_history *h = arg;
    uint64_t x = h->events[h->ops[*(const uint32_t *)a].ret].zxid;
    uint64_t y = h->events[h->ops[*(const uint32_t *)b].ret].zxid;
    return x < y ? -1 : x > y;
}

static int build_zrank(struct srch *s)
{
    struct zk_ctx *c = s->c;
    const struct chk_history *h = c->h;
    uint32_t *wz = malloc((h->n_ops + 1) * sizeof *wz), n = 0;
    s->zrank = malloc((h->n_ops + 1) * sizeof *s->zrank);
    if (!wz || !s->zrank) {
        free(wz);
        return -1;
    }
    for (uint32_t i = 0; i < h->n_ops; i++)
        if (c->kind[i] == ZK_WRITE)
            wz[n++] = i;
    qsort_r(wz, n, sizeof *wz, cmp_zxid, (void *)h);
    for (uint32_t i = 0; i < h->n_ops; i++) {
        const struct chk_op *o = &h->ops[i];
        s->zrank[i] = CHK_NONE;
        if (c->kind[i] != ZK_OBS || !h->events[o->ret].has_zxid)
            continue;
        uint32_t lo = 0, hi = n;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (h->events[h->ops[wz[mid]].ret].zxid <= h->events[o->ret].zxid)
                lo = mid + 1;
            else
                hi = mid;
        }
        s->zrank[i] = lo;
    }
    for (uint32_t k = 0; k < n; k++)
        s->zrank[wz[k]] = k;
    free(wz);
    return 0;
}

static enum chk_verdict report(struct srch *s)
{

    struct zk_ctx *c = s->c;
    char list[4096] = "", w[512];
    size_t used = 0;
    for (uint32_t i = 0; i < s->n_best_blocked; i++) {
        zkc_words(c, s->best_blocked[i], w, sizeof w);
        int n = snprintf(list + used, sizeof list - used, "\n  %s", w);
        if (n < 0 || (size_t)n >= sizeof list - used)
            break;
        used += (size_t)n;
    }
    return zkc_violation(c, "ordered-sequential-consistency", s->best_blocked, s->n_best_blocked,
                         "no single order of the operations fits every session's view: at best "
                         "%u of %u operations can be placed, and then none of these can go next:%s",
                         s->best_depth, c->h->n_ops, list);
}

enum chk_verdict zkc_search(struct zk_ctx *c)
{
    enum chk_verdict v = c->zxid_constrained ? CHK_VERDICT_OK : zkc_explain_values(c);
    if (v != CHK_VERDICT_OK)
        return v;
    const struct chk_history *h = c->h;
    struct srch s = {0};
    s.c = c;
    uint32_t n = h->n_ops + 2;
    s.head = calloc(c->n_sess + 1, sizeof *s.head);
    s.need = malloc(n * sizeof *s.need), s.rank = malloc(n * sizeof *s.rank);
    s.placed = calloc(n, 1);
    s.trail = malloc(n * sizeof *s.trail);
    s.frames = malloc(n * sizeof *s.frames);
    s.best_blocked = malloc(8 * sizeof *s.best_blocked);
    /* the guide costs a copy of the placed unknown writes at each deeper
     * point: kept for histories small enough that this stays cheap */
    s.keep_guide = c->zxid_constrained && h->n_ops <= 200000;
    if (s.keep_guide) {
        s.info_op = malloc(n * sizeof *s.info_op), s.info_z = malloc(n * sizeof *s.info_z);
        s.best_info_op = malloc(n * sizeof *s.best_info_op), s.best_info_z = malloc(n * sizeof *s.best_info_z);
        s.keep_guide = s.info_op && s.info_z && s.best_info_op && s.best_info_z;
    }
    s.memo.bytes_max = c->opts->memo_bytes_max ? c->opts->memo_bytes_max : (1ull << 30);
    v = CHK_VERDICT_INTERNAL;
    if (s.head && s.need && s.rank && s.placed && s.trail && s.frames && s.best_blocked
        && build_constraints(&s) == 0 && (!c->zxid_constrained || build_zrank(&s) == 0)) {
        for (uint32_t sess = 0; sess < c->n_sess; sess++)
            s.hh ^= head_key(sess, 0);
        v = run(&s);
        if (v == CHK_VERDICT_VIOLATION)
            v = report(&s);
        if (v == CHK_VERDICT_OK && s.keep_guide) {   /* the whole order: a full guide */
            memcpy(s.best_info_op, s.info_op, s.n_info * sizeof *s.info_op);
            memcpy(s.best_info_z, s.info_z, s.n_info * sizeof *s.info_z);
            s.n_best_info = s.n_info;
            s.best_zdone = s.zdone;
        }
        if ((v == CHK_VERDICT_VIOLATION || v == CHK_VERDICT_OK) && s.keep_guide) {
            c->guide_op = s.best_info_op, c->guide_zdone = s.best_info_z, c->n_guide = s.n_best_info;
            c->guide_horizon = s.best_zdone;
            s.best_info_op = s.best_info_z = NULL;
        }
    }
    free(s.head), free(s.need), free(s.rank), free(s.placed), free(s.trail), free(s.frames);
    free(s.choices), free(s.best_blocked), free(s.memo.a), free(s.memo.b), free(s.zrank);
    free(s.info_op), free(s.info_z), free(s.best_info_op), free(s.best_info_z);
    return v;
}
