/* check/zk_consistency: the ZooKeeper contract checker (see the header).
 * This file: classification of operations, the zxid-witness judge (verify,
 * replay, place every observation, watches), plain-words messages. The
 * witness-free search lives in zk_search.c. */
#include "check/zk_internal.h"
#include "check/recipes.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *chk_sync_mode_name(enum chk_sync_mode m)
{
    return m == CHK_SYNC_STRICT ? "strict" : "zk";
}

bool zkc_over_budget(const struct zk_ctx *c)
{
    if (c->opts->budget_ms <= 0)
        return false;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t ms = (int64_t)(t.tv_sec - c->start.tv_sec) * 1000 + (t.tv_nsec - c->start.tv_nsec) / 1000000;
    return ms > c->opts->budget_ms;
}

/* ---- words -------------------------------------------------------------- */

static void quote(const struct chk_history *h, chk_str s, char *buf, size_t len)
{
    snprintf(buf, len, "\"%.60s\"", chk_str_get(h, s));
}

static void words_result(const struct zk_ctx *c, const struct chk_op *o, const struct chk_event *inv,
                         const struct chk_event *ret, char *w, size_t len)
{
    const struct chk_history *h = c->h;
    const char *path = chk_str_get(h, inv->key);
    char q[80];
    switch (o->f) {
    case CHK_F_GET_DATA:
        quote(h, ret->sval, q, sizeof q);
        snprintf(w, len, "read %s = %s (version %d)", path, q, ret->version);
        break;
    case CHK_F_EXISTS:
        snprintf(w, len, "saw %s exist (version %d)", path, ret->version);
        break;
    case CHK_F_GET_CHILDREN:
        snprintf(w, len, "listed %u children of %s", ret->n_children, path);
        break;
    case CHK_F_CREATE:
        quote(h, inv->sval, q, sizeof q);
        if (inv->mode & CHK_MODE_SEQUENTIAL)
            snprintf(w, len, "created %s as %s", path, chk_str_get(h, ret->result_path));
        else
            snprintf(w, len, "created %s = %s", path, q);
        break;
    case CHK_F_SET_DATA:
        quote(h, inv->sval, q, sizeof q);
        snprintf(w, len, "wrote %s = %s (version %d)", path, q, ret->version);
        break;
    case CHK_F_DELETE: snprintf(w, len, "deleted %s", path); break;
    case CHK_F_CHECK: snprintf(w, len, "checked %s version %d", path, inv->version); break;
    case CHK_F_SYNC: snprintf(w, len, "synced"); break;
    case CHK_F_CLOSE: snprintf(w, len, "closed its session"); break;
    case CHK_F_MULTI: snprintf(w, len, "ran a multi of %u ops", inv->n_subs); break;
    default: snprintf(w, len, "%s %s", chk_f_name(o->f), path);
    }
}

void zkc_words(const struct zk_ctx *c, uint32_t op, char *buf, size_t len)
{
    const struct chk_history *h = c->h;
    const struct chk_op *o = &h->ops[op];
    const struct chk_event *inv = &h->events[o->inv];
    const struct chk_event *ret = o->ret != CHK_NONE ? &h->events[o->ret] : NULL;
    char w[256], t[40], z[48] = "";
    if (!ret) {
        char q[80];
        quote(h, inv->sval, q, sizeof q);
        snprintf(w, sizeof w, "%s %s%s%s (outcome unknown)", chk_f_name(o->f), chk_str_get(h, inv->key),
                 inv->has_value ? " = " : "", inv->has_value ? q : "");
    } else if (o->status == CHK_ST_FAIL && ret->err == 0) {
        char q[80];
        quote(h, inv->sval, q, sizeof q);
        snprintf(w, sizeof w, "%s %s%s%s failed (definitely not applied)", chk_f_name(o->f),
                 chk_str_get(h, inv->key), inv->has_value ? " = " : "", inv->has_value ? q : "");
    } else if (ret->err && o->f != CHK_F_MULTI) {
        snprintf(w, sizeof w, "%s %s got %s", chk_f_name(o->f), chk_str_get(h, inv->key),
                 chk_zerr_name(ret->err));
    } else {
        words_result(c, o, inv, ret, w, sizeof w);
    }
    chk_fmt_when(ret ? ret : inv, t, sizeof t);
    if (ret && ret->has_zxid)
        snprintf(z, sizeof z, ", zxid 0x%" PRIx64, ret->zxid);
    snprintf(buf, len, "session %" PRId64 " %s at %s%s", o->session, w, t, z);
}

enum chk_verdict zkc_violation(struct zk_ctx *c, const char *rule, const uint32_t *ops,
                               uint32_t n_ops, const char *fmt, ...)
{
    struct chk_zk_result *r = c->res;
    va_list ap;
    int n = snprintf(r->msg, sizeof r->msg, "violation of %s (judged %s, sync mode %s): ", rule,
                     r->used_zxids ? "with the verified zxid witness" : "without zxids, by search",
                     chk_sync_mode_name(r->sync_mode));
    if (n > 0 && (size_t)n < sizeof r->msg) {
        va_start(ap, fmt);
        vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    r->rule = rule;
    r->n_shown = 0;
    for (uint32_t i = 0; i < n_ops && i < CHK_ZK_SHOW_MAX; i++)
        r->shown[r->n_shown++] = ops[i];
    return r->verdict = CHK_VERDICT_VIOLATION;
}

/* ---- value explanations (no order needed) ------------------------------- */

/* Data values written to path by some operation other than fail-without-error
 * (unknown-outcome writes may have happened). */
static bool data_written(const struct zk_ctx *c, chk_str path, chk_str data, bool *by_failed,
                         uint32_t *failed_op)
{
    const struct chk_history *h = c->h;
    bool ok = false;
    *by_failed = false;
    if (data == 0)
        return true;                     /* empty data: every create without data */
    for (uint32_t i = 0; i < h->n_ops && !ok; i++) {
        const struct chk_op *o = &h->ops[i];
        const struct chk_event *inv = &h->events[o->inv];
        bool hit = (o->f == CHK_F_SET_DATA || o->f == CHK_F_CREATE) && inv->sval == data
            && (inv->key == path || (o->f == CHK_F_CREATE && (inv->mode & CHK_MODE_SEQUENTIAL)));
        for (uint32_t k = 0; o->f == CHK_F_MULTI && k < inv->n_subs && !hit; k++)
            hit = c->h->subs[inv->subs + k].data == data;
        if (!hit)
            continue;
        if (c->kind[i] == ZK_SKIP && o->f != CHK_F_GET_DATA) {
            *by_failed = true;
            *failed_op = i;
        } else {
            ok = true;
        }
    }
    return ok;
}

static enum chk_verdict explain_read_value(struct zk_ctx *c, uint32_t i)
{
    const struct chk_history *h = c->h;
    const struct chk_op *o = &h->ops[i];
    const struct chk_event *inv = &h->events[o->inv], *ret = &h->events[o->ret];
    bool by_failed;
    uint32_t failed_op = 0;
    char a[512], b[512];
    if (data_written(c, inv->key, ret->sval, &by_failed, &failed_op))
        return CHK_VERDICT_OK;
    zkc_words(c, i, a, sizeof a);
    if (by_failed) {
        uint32_t ops[2] = {failed_op, i};
        zkc_words(c, failed_op, b, sizeof b);
        return zkc_violation(c, "failed-write-visible", ops, 2,
                             "%s; yet %s: a write that failed took effect", b, a);
    }
    return zkc_violation(c, "value-never-written", &i, 1, "%s, but no operation ever wrote that "
                         "value to %s", a, chk_str_get(h, inv->key));
}

/* Two creates that were handed the same sequential name, with no delete of
 * that name by anyone in between: ZooKeeper never reuses a sequence number. */
static enum chk_verdict explain_duplicate_names(struct zk_ctx *c)
{
    const struct chk_history *h = c->h;
    uint32_t *last = calloc(h->n_strs + 1, sizeof *last);   /* name -> op + 1 */
    enum chk_verdict v = CHK_VERDICT_OK;
    if (!last)
        return CHK_VERDICT_INTERNAL;
    for (uint32_t e = 0; e < h->n_events && v == CHK_VERDICT_OK; e++) {
        const struct chk_event *ev = &h->events[e];
        if (ev->type != CHK_INVOKE && ev->f == CHK_F_DELETE && ev->key < h->n_strs)
            last[ev->key] = 0;           /* any delete attempt may free the name */
        if (ev->type != CHK_OK || ev->f != CHK_F_CREATE || ev->err || !ev->result_path
            || ev->result_path >= h->n_strs)
            continue;
        uint32_t op = c->op_of_ev[e];
        if (op == CHK_NONE || !(h->events[h->ops[op].inv].mode & CHK_MODE_SEQUENTIAL))
            continue;
        if (last[ev->result_path]) {
            uint32_t ops[2] = {last[ev->result_path] - 1, op};
            char a[512], b[512];
            zkc_words(c, ops[0], a, sizeof a);
            zkc_words(c, ops[1], b, sizeof b);
            v = zkc_violation(c, "duplicate-sequential-name", ops, 2, "%s; then %s: the same "
                              "sequential name was handed out twice", a, b);
        }
        last[ev->result_path] = op + 1;
    }
    free(last);
    return v;
}

enum chk_verdict zkc_explain_values(struct zk_ctx *c)
{
    const struct chk_history *h = c->h;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        const struct chk_op *o = &h->ops[i];
        if (o->f != CHK_F_GET_DATA || c->kind[i] != ZK_OBS || h->events[o->ret].err)
            continue;
        enum chk_verdict v = explain_read_value(c, i);
        if (v != CHK_VERDICT_OK)
            return v;
    }
    return explain_duplicate_names(c);
}

/* ---- classification ---------------------------------------------------- */

static enum zk_kind classify(const struct chk_history *h, const struct chk_op *o)
{
    bool write = chk_f_is_write(o->f);
    if (o->f < CHK_F_CREATE)
        return ZK_SKIP;
    if (o->status == CHK_ST_INFO)
        return write ? ZK_INFO : ZK_SKIP;
    if (!chk_op_observed(h, o))
        return ZK_SKIP;                  /* failed: definitely did not happen */
    if (o->f == CHK_F_SYNC)
        return ZK_SYNC;
    const struct chk_event *ret = &h->events[o->ret];
    return write && ret->err == 0 ? ZK_WRITE : ZK_OBS;
}

/* Session id -> index, open addressing; indices in first-seen order. */
static uint32_t *sess_slot(const struct zk_ctx *c, int64_t id)
{
    uint32_t i = (uint32_t)zkt_mix((uint64_t)id) & (c->sess_map_cap - 1);
    while (c->sess_map[i] && c->sess_id[c->sess_map[i] - 1] != id)
        i = (i + 1) & (c->sess_map_cap - 1);
    return &c->sess_map[i];
}

static uint32_t sess_index(const struct zk_ctx *c, int64_t id)
{
    uint32_t v = *sess_slot(c, id);
    return v ? v - 1 : CHK_NONE;
}

static int build_sessions(struct zk_ctx *c)
{
    const struct chk_history *h = c->h;
    c->sess_map_cap = 64;
    while (c->sess_map_cap < 2 * (h->n_ops + 1))
        c->sess_map_cap *= 2;
    c->sess_map = calloc(c->sess_map_cap, sizeof *c->sess_map);
    c->sess_id = malloc((h->n_ops + 1) * sizeof *c->sess_id);
    c->sess_of = malloc((h->n_ops + 1) * sizeof *c->sess_of);
    c->sess_ops = malloc((h->n_ops + 1) * sizeof *c->sess_ops);
    c->sess_start = calloc(h->n_ops + 3, sizeof *c->sess_start);
    if (!c->sess_map || !c->sess_id || !c->sess_of || !c->sess_ops || !c->sess_start)
        return -1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        uint32_t *slot = sess_slot(c, h->ops[i].session);
        if (!*slot) {
            c->sess_id[n] = h->ops[i].session;
            *slot = ++n;
        }
        c->sess_of[i] = *slot - 1;
        c->sess_start[c->sess_of[i] + 2]++;
    }
    c->n_sess = n;
    for (uint32_t s = 2; s <= n + 1; s++)
        c->sess_start[s] += c->sess_start[s - 1];
    for (uint32_t i = 0; i < h->n_ops; i++)   /* ops are in invocation order already */
        c->sess_ops[c->sess_start[c->sess_of[i] + 1]++] = i;
    return 0;
}

/* ---- the zxid-witness judge -------------------------------------------- */

struct snap {
    uint32_t k;               /* position in the write order */
    uint32_t writer;          /* op that made this state, CHK_NONE initially */
    struct zk_node st;
};

struct wit {
    uint32_t *wz, n_w;        /* acknowledged writes, by zxid */
    uint32_t *oz, n_oz;       /* observations carrying a zxid, by zxid */
    uint32_t *infos, n_info;  /* unknown-outcome writes, by invocation */
    uint8_t *inserted;        /* per op: info write placed in the order */
    uint32_t *pos;            /* per op: position in the write order */
    uint32_t *seq, seq_len;   /* the write order: seq[k] = op at position k */
    struct snap *snaps;
    uint32_t n_snaps, cap_snaps;
    uint32_t *last_k;         /* per node: position of its latest snapshot */
    uint32_t cap_nodes;
    uint32_t *node_first;     /* after replay: snaps of node n are */
    uint32_t *node_snaps;     /*   node_snaps[node_first[n] .. node_first[n+1]) */
    bool zxid_fault;          /* the zxids themselves failed verification */
    uint32_t *pos_hi;         /* guided: last position of an observation's gap */
};

struct keyed {
    uint64_t key;
    uint32_t op;
};

/* Stable LSD radix sort of ops by key, 16 bits a pass, skipping passes in
 * which every key has the same digit (the epoch bits, mostly): linear. */
int zkc_sort_by_key(uint32_t *ops, const uint64_t *keys, uint32_t n)
{
    struct keyed *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
    uint32_t *count = malloc(65537 * sizeof *count);
    if (!a || !b || !count) {
        free(a), free(b), free(count);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++)
        a[i] = (struct keyed){keys[i], ops[i]};
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65537 * sizeof *count);
        for (uint32_t i = 0; i < n; i++)
            count[((a[i].key >> shift) & 0xffff) + 1]++;
        if (n && count[((a[0].key >> shift) & 0xffff) + 1] == n)
            continue;
        for (uint32_t d = 1; d <= 65536; d++)
            count[d] += count[d - 1];
        for (uint32_t i = 0; i < n; i++)
            b[count[(a[i].key >> shift) & 0xffff]++] = a[i];
        struct keyed *t = a;
        a = b, b = t;
    }
    for (uint32_t i = 0; i < n; i++)
        ops[i] = a[i].op;
    free(a), free(b), free(count);
    return 0;
}

static int sort_by_zxid(const struct chk_history *h, uint32_t *ops, uint32_t n)
{
    uint64_t *keys = malloc((n + 1) * sizeof *keys);
    if (!keys)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        keys[i] = h->events[h->ops[ops[i]].ret].zxid;
    int rc = zkc_sort_by_key(ops, keys, n);
    free(keys);
    return rc;
}

static const char *tail_words(const char *w)
{
    const char *sp = strchr(w + 8, ' ');   /* skip "session N " */
    return sp ? sp + 1 : w;
}

/* Witness check 1: acknowledged writes have distinct zxids, ordered as real
 * time orders them, and as each session issued them. */
static enum chk_verdict verify_zxids(struct zk_ctx *c, struct wit *w)
{
    const struct chk_history *h = c->h;
    char a[512], b[512];
    uint32_t latest = CHK_NONE;          /* write invoked last among lower zxids */
    for (uint32_t s = 0; s < c->n_sess; s++) {
        uint32_t prev = CHK_NONE;
        for (uint32_t k = c->sess_start[s]; k < c->sess_start[s + 1]; k++) {
            uint32_t op = c->sess_ops[k];
            if (c->kind[op] != ZK_WRITE)
                continue;
            if (prev != CHK_NONE && h->events[h->ops[prev].ret].zxid > h->events[h->ops[op].ret].zxid) {
                uint32_t ops[2] = {prev, op};
                zkc_words(c, prev, a, sizeof a), zkc_words(c, op, b, sizeof b);
                return zkc_violation(c, "session-fifo", ops, 2, "%s, issued before: %s; but the "
                                     "later-issued write took effect first (smaller zxid): the "
                                     "session's operations were not applied in issue order", a, tail_words(b));
            }
            prev = op;
        }
    }
    for (uint32_t i = 0; i < w->n_w; i++) {
        uint32_t op = w->wz[i];
        const struct chk_op *o = &h->ops[op];
        if (i > 0 && h->events[h->ops[w->wz[i - 1]].ret].zxid == h->events[o->ret].zxid) {
            uint32_t ops[2] = {w->wz[i - 1], op};
            zkc_words(c, ops[0], a, sizeof a), zkc_words(c, op, b, sizeof b);
            return zkc_violation(c, "zxid-unique", ops, 2, "%s; %s: two writes were acknowledged "
                                 "with the same zxid", a, b);
        }
        if (latest != CHK_NONE && h->ops[latest].inv > o->ret) {
            uint32_t ops[2] = {op, latest};
            zkc_words(c, op, a, sizeof a), zkc_words(c, latest, b, sizeof b);
            return zkc_violation(c, "linearizable-writes", ops, 2, "%s completed before %s was "
                                 "even invoked, yet the later write has the smaller zxid: the "
                                 "write order contradicts real time", a, b);
        }
        if (latest == CHK_NONE || o->inv > h->ops[latest].inv)
            latest = op;
    }
    return CHK_VERDICT_OK;
}

static int ensure_nodes(struct wit *w, uint32_t n)
{
    if (n <= w->cap_nodes)
        return 0;
    uint32_t c = w->cap_nodes ? w->cap_nodes : 256;
    while (c < n)
        c *= 2;
    uint32_t *l = realloc(w->last_k, (size_t)c * sizeof *l);
    if (!l)
        return -1;
    memset(l + w->cap_nodes, 0xff, (size_t)(c - w->cap_nodes) * sizeof *l);
    w->last_k = l;
    w->cap_nodes = c;
    return 0;
}

static int push_snap(struct wit *w, uint32_t k, uint32_t writer, const struct zk_node *st)
{
    if (w->n_snaps == w->cap_snaps) {
        uint32_t c = w->cap_snaps ? w->cap_snaps * 2 : 1024;
        struct snap *s = realloc(w->snaps, (size_t)c * sizeof *s);
        if (!s)
            return -1;
        w->snaps = s;
        w->cap_snaps = c;
    }
    w->snaps[w->n_snaps++] = (struct snap){k, writer, *st};
    return 0;
}

/* After op took position k: remember the new state of every node it changed. */
static int record_write(struct zk_ctx *c, struct wit *w, uint32_t op)
{
    struct zk_tree *t = &c->tree;
    uint32_t k = ++w->seq_len;
    w->seq[k] = op;
    w->pos[op] = k;
    if (ensure_nodes(w, t->n))
        return -1;
    for (uint32_t u = 0; u < t->n_undo; u++) {
        uint32_t n = t->undo[u].node;
        if (w->last_k[n] == k)
            continue;
        if (w->last_k[n] == UINT32_MAX && push_snap(w, 0, CHK_NONE, &t->undo[u].old))
            return -1;
        if (push_snap(w, k, op, &t->nodes[n]))
            return -1;
        w->last_k[n] = k;
    }
    t->n_undo = 0;                       /* the witness judge never rolls back a placed write */
    return 0;
}

static bool eval_now(struct zk_ctx *c, uint32_t op)
{
    const struct chk_op *o = &c->h->ops[op];
    struct zk_res r;
    uint32_t mark = zkt_mark(&c->tree);
    int rc = zkt_apply(&c->tree, c->h, &c->h->events[o->inv], o->session, &r);
    bool ok = rc == 0 && zkt_res_matches(c->h, &c->h->events[o->ret], &r);
    zkt_undo(&c->tree, mark);
    return ok;
}

/* Could a write to path a change what an operation on path b sees? Same
 * path, parent and child, or a sequential prefix and its names. */
static bool paths_related(const struct chk_history *h, chk_str a, chk_str b)
{
    if (a == b)
        return true;
    uint32_t la = chk_str_len(h, a), lb = chk_str_len(h, b);
    const char *sa = chk_str_get(h, a), *sb = chk_str_get(h, b);
    return la < lb ? !memcmp(sa, sb, la) : !memcmp(sa, sb, lb);
}

/* Does op's result hold after applying the info writes cand[0..n)? Leaves
 * the tree as it was. */
static bool explains(struct zk_ctx *c, uint32_t op, bool is_write, const uint32_t *cand, uint32_t n)
{
    const struct chk_history *h = c->h;
    const struct chk_op *o = &h->ops[op];
    uint32_t mark = zkt_mark(&c->tree);
    struct zk_res r;
    for (uint32_t i = 0; i < n; i++)
        zkt_apply(&c->tree, h, &h->events[h->ops[cand[i]].inv], h->ops[cand[i]].session, &r);
    bool ok = zkt_apply(&c->tree, h, &h->events[o->inv], o->session, &r) == 0
        && zkt_res_matches(h, &h->events[o->ret], &r);
    zkt_undo(&c->tree, mark);
    (void)is_write;
    return ok;
}

#define INFO_TRY_MAX 16

/* Tries the unknown-outcome writes that could explain op's result, one or
 * two of them (latest invoked first, at most INFO_TRY_MAX), placing them
 * right before op: the latest point they can take effect without changing
 * what earlier operations saw. A greedy choice: see docs/checkers.md. */
static bool place_info_for(struct zk_ctx *c, struct wit *w, uint32_t op, bool is_write)
{
    const struct chk_history *h = c->h;
    const struct chk_op *o = &h->ops[op];
    chk_str key = h->events[o->inv].key;
    uint32_t cand[INFO_TRY_MAX], n = 0, pick[2], n_pick = 0;
    for (uint32_t i = w->n_info; i-- > 0 && n < INFO_TRY_MAX;) {
        uint32_t io = w->infos[i];
        const struct chk_event *iinv = &h->events[h->ops[io].inv];
        if (w->inserted[io] || h->ops[io].inv > o->ret)
            continue;
        if (paths_related(h, iinv->key, key) || iinv->f == CHK_F_MULTI || iinv->f == CHK_F_CLOSE)
            cand[n++] = io;
    }
    for (uint32_t a = 0; a < n && !n_pick; a++)
        if (explains(c, op, is_write, &cand[a], 1))
            pick[0] = cand[a], n_pick = 1;
    for (uint32_t a = 0; a < n && !n_pick; a++)
        for (uint32_t b = 0; b < n && !n_pick; b++) {
            uint32_t two[2] = {cand[b], cand[a]};   /* earlier-invoked first */
            if (a != b && h->ops[two[0]].inv < h->ops[two[1]].inv && explains(c, op, is_write, two, 2))
                pick[0] = two[0], pick[1] = two[1], n_pick = 2;
        }
    for (uint32_t k = 0; k < n_pick; k++) {
        struct zk_res r;
        zkt_apply(&c->tree, h, &h->events[h->ops[pick[k]].inv], h->ops[pick[k]].session, &r);
        w->inserted[pick[k]] = 1;
        if (record_write(c, w, pick[k]))
            return false;
    }
    return n_pick > 0;
}

/* The latest writer of op's path so far, for messages. */
static uint32_t last_writer_of(const struct zk_ctx *c, const struct wit *w, chk_str path)
{
    uint32_t n = zkt_find(&c->tree, path);
    if (n == ZKT_NONE || n >= w->cap_nodes || w->last_k[n] == UINT32_MAX)
        return CHK_NONE;
    return w->seq[w->last_k[n]];
}

static enum chk_verdict replay_mismatch(struct zk_ctx *c, struct wit *w, uint32_t op, bool is_write)
{
    enum chk_verdict v = zkc_explain_values(c);
    if (v != CHK_VERDICT_OK)
        return v;
    const struct chk_history *h = c->h;
    char a[512], b[512];
    uint32_t lw = last_writer_of(c, w, h->events[h->ops[op].inv].key);
    zkc_words(c, op, a, sizeof a);
    if (lw == CHK_NONE)
        snprintf(b, sizeof b, "that znode had not been written by then");
    else
        zkc_words(c, lw, b, sizeof b);
    uint32_t ops[2] = {lw, op};
    const char *rule = is_write ? "linearizable-writes" : "read-sees-write-order";
    if (is_write && h->ops[op].f == CHK_F_SET_DATA && lw != CHK_NONE && h->ops[lw].f == CHK_F_SET_DATA
        && h->ops[lw].ret != CHK_NONE     /* an unknown-outcome write has no version to compare */
        && h->events[h->ops[op].ret].version <= h->events[h->ops[lw].ret].version)
        rule = "lost-acknowledged-write";
    if (!strcmp(rule, "lost-acknowledged-write"))
        return zkc_violation(c, rule, ops, 2, "%s; but before it, in zxid order, %s: the version "
                             "shows that this acknowledged write was lost", a, b);
    return zkc_violation(c, rule, lw == CHK_NONE ? ops + 1 : ops, lw == CHK_NONE ? 1 : 2,
                         "%s, but in zxid order the write before it on that path is: %s; no order "
                         "of the unknown-outcome writes explains the result", a, b);
}

/* Does op's result hold now, placing unknown-outcome writes if needed? */
static bool explained(struct zk_ctx *c, struct wit *w, uint32_t op)
{
    return eval_now(c, op) || (place_info_for(c, w, op, false) && eval_now(c, op));
}

static enum chk_verdict replay_write(struct zk_ctx *c, struct wit *w, uint32_t op)
{
    const struct chk_history *h = c->h;
    const struct chk_op *o = &h->ops[op];
    uint32_t mark = zkt_mark(&c->tree);
    struct zk_res r;
    if (zkt_apply(&c->tree, h, &h->events[o->inv], o->session, &r))
        return CHK_VERDICT_INTERNAL;
    if (!zkt_res_matches(h, &h->events[o->ret], &r)) {
        zkt_undo(&c->tree, mark);
        if (!place_info_for(c, w, op, true))
            return replay_mismatch(c, w, op, true);
        zkt_apply(&c->tree, h, &h->events[o->inv], o->session, &r);
    }
    return record_write(c, w, op) ? CHK_VERDICT_INTERNAL : CHK_VERDICT_OK;
}

static enum chk_verdict replay(struct zk_ctx *c, struct wit *w)
{
    const struct chk_history *h = c->h;
    uint32_t i = 0, j = 0;
    while (i < w->n_w || j < w->n_oz) {
        bool obs_first = j < w->n_oz && (i == w->n_w || h->events[h->ops[w->oz[j]].ret].zxid
                                                        < h->events[h->ops[w->wz[i]].ret].zxid);
        if (obs_first) {
            uint32_t op = w->oz[j++];
            if (!explained(c, w, op))
                return replay_mismatch(c, w, op, false);
            w->pos[op] = w->seq_len;
            continue;
        }
        enum chk_verdict v = replay_write(c, w, w->wz[i]);
        i++;
        if (v != CHK_VERDICT_OK)
            return v;
    }
    return CHK_VERDICT_OK;
}

/* Places observations of one gap between zxid writes (level) against the
 * unknown-outcome writes the search put in that gap, in the search's order:
 * each observation at the first prefix of them where it holds. */
static enum chk_verdict guided_level(struct zk_ctx *c, struct wit *w, uint32_t level,
                                     uint32_t first, uint32_t end)
{
    const struct chk_history *h = c->h;
    for (uint32_t k = 0;; k++) {
        for (uint32_t j = first; j < end; j++)
            if (w->pos[w->oz[j]] == UINT32_MAX && eval_now(c, w->oz[j]))
                w->pos[w->oz[j]] = w->seq_len;
        for (uint32_t j = first; j < end; j++)
            w->pos_hi[w->oz[j]] = w->seq_len;   /* the gap ends after the last one */
        while (k < c->n_guide && c->guide_zdone[k] != level)
            k++;
        if (k == c->n_guide)
            break;
        uint32_t io = c->guide_op[k];
        struct zk_res r;
        zkt_apply(&c->tree, h, &h->events[h->ops[io].inv], h->ops[io].session, &r);
        w->inserted[io] = 1;
        if (record_write(c, w, io))
            return CHK_VERDICT_INTERNAL;
    }
    for (uint32_t j = first; j < end; j++)
        if (w->pos[w->oz[j]] == UINT32_MAX)
            return replay_mismatch(c, w, w->oz[j], false);
    return CHK_VERDICT_OK;
}

/* The replay again, following where the search's deepest order placed the
 * unknown-outcome writes, up to how far that order got (its horizon). */
static enum chk_verdict replay_guided(struct zk_ctx *c, struct wit *w)
{
    const struct chk_history *h = c->h;
    uint32_t j = 0;
    for (uint32_t level = 0; level <= c->guide_horizon && level <= w->n_w; level++) {
        uint32_t first = j;
        while (j < w->n_oz && (level == w->n_w || h->events[h->ops[w->oz[j]].ret].zxid
                                                  < h->events[h->ops[w->wz[level]].ret].zxid))
            j++;
        enum chk_verdict v = guided_level(c, w, level, first, j);
        if (v != CHK_VERDICT_OK || level == w->n_w || level == c->guide_horizon)
            return v;
        const struct chk_op *o = &h->ops[w->wz[level]];
        struct zk_res r;
        if (zkt_apply(&c->tree, h, &h->events[o->inv], o->session, &r))
            return CHK_VERDICT_INTERNAL;
        if (!zkt_res_matches(h, &h->events[o->ret], &r))
            return replay_mismatch(c, w, w->wz[level], true);
        if (record_write(c, w, w->wz[level]))
            return CHK_VERDICT_INTERNAL;
    }
    return CHK_VERDICT_OK;
}

/* ---- placing observations without a zxid, and the session pass --------- */

/* Node index that a snapshot belongs to: stored via the tree's by_path. */
static uint32_t snap_node(const struct zk_ctx *c, const struct snap *s)
{
    return zkt_find(&c->tree, s->st.path);
}

static int build_view(const struct zk_ctx *c, struct wit *w)
{
    uint32_t n = c->tree.n;
    w->node_first = calloc(n + 2, sizeof *w->node_first);
    w->node_snaps = malloc((w->n_snaps + 1) * sizeof *w->node_snaps);
    if (!w->node_first || !w->node_snaps)
        return -1;
    for (uint32_t i = 0; i < w->n_snaps; i++)
        w->node_first[snap_node(c, &w->snaps[i]) + 2]++;
    for (uint32_t i = 2; i <= n + 1; i++)
        w->node_first[i] += w->node_first[i - 1];
    for (uint32_t i = 0; i < w->n_snaps; i++)
        w->node_snaps[w->node_first[snap_node(c, &w->snaps[i]) + 1]++] = i;
    return 0;
}

/* State of node at position q (ZKT_NONE: a path never created). */
static struct zk_node node_at(const struct zk_ctx *c, const struct wit *w, uint32_t node, uint32_t q)
{
    struct zk_node none = {0};
    if (node == ZKT_NONE)
        return none;
    uint32_t lo = w->node_first[node], hi = w->node_first[node + 1];
    if (lo == hi)
        return c->tree.nodes[node];     /* never changed */
    while (hi - lo > 1) {                /* last snapshot with k <= q */
        uint32_t mid = lo + (hi - lo) / 2;
        if (w->snaps[w->node_snaps[mid]].k <= q)
            lo = mid;
        else
            hi = mid;
    }
    return w->snaps[w->node_snaps[lo]].st;
}

static uint32_t next_break(const struct wit *w, uint32_t node, uint32_t q)
{
    if (node == ZKT_NONE)
        return UINT32_MAX;
    for (uint32_t i = w->node_first[node]; i < w->node_first[node + 1]; i++)
        if (w->snaps[w->node_snaps[i]].k > q)
            return w->snaps[w->node_snaps[i]].k;
    return UINT32_MAX;
}

static uint32_t parent_node(struct zk_ctx *c, chk_str path)
{
    uint32_t n = zkt_find(&c->tree, path);
    if (n != ZKT_NONE)
        return c->tree.nodes[n].parent;
    const char *s = chk_str_get(c->h, path);
    const char *slash = strrchr(s, '/');
    if (!slash || slash == s)
        return zkt_find(&c->tree, chk_str_intern(c->h, "/", 1));
    return zkt_find(&c->tree, chk_str_intern(c->h, s, (size_t)(slash - s)));
}

static int32_t vcheck(const struct zk_node *n, int32_t expected)
{
    return expected == -1 || expected == n->version ? 0 : CHK_ZBADVERSION;
}

static bool obs_at(struct zk_ctx *c, const struct wit *w, uint32_t op, uint32_t q)
{
    const struct chk_history *h = c->h;
    const struct chk_event *inv = &h->events[h->ops[op].inv];
    struct zk_node nd = node_at(c, w, zkt_find(&c->tree, inv->key), q);
    struct zk_res r;
    memset(&r, 0, offsetof(struct zk_res, sub_err));
    switch (inv->f) {
    case CHK_F_GET_DATA: case CHK_F_EXISTS: case CHK_F_GET_CHILDREN: case CHK_F_CHECK:
        r.err = !nd.exists ? CHK_ZNONODE : inv->f == CHK_F_CHECK ? vcheck(&nd, inv->version) : 0;
        r.version = nd.version, r.data = nd.data;
        r.n_children = nd.n_children, r.children_hash = nd.child_hash;
        break;
    case CHK_F_CREATE: {
        struct zk_node pr = node_at(c, w, parent_node(c, inv->key), q);
        r.err = !pr.exists ? CHK_ZNONODE : pr.owner ? CHK_ZNOCHILDRENFOREPHEMERALS
            : (!(inv->mode & CHK_MODE_SEQUENTIAL) && nd.exists) ? CHK_ZNODEEXISTS : 0;
        break;
    }
    case CHK_F_DELETE:
        r.err = !nd.exists ? CHK_ZNONODE : vcheck(&nd, inv->version) ? CHK_ZBADVERSION
            : nd.n_children ? CHK_ZNOTEMPTY : 0;
        break;
    case CHK_F_SET_DATA:
        r.err = !nd.exists ? CHK_ZNONODE : vcheck(&nd, inv->version);
        break;
    default:
        return true;                     /* multi errors: not placed without a zxid */
    }
    return zkt_res_matches(h, &h->events[h->ops[op].ret], &r);
}

/* Smallest position in [from, to] where op's result holds, or UINT32_MAX. */
static uint32_t find_pos(struct zk_ctx *c, const struct wit *w, uint32_t op, uint32_t from, uint32_t to)
{
    const struct chk_event *inv = &c->h->events[c->h->ops[op].inv];
    uint32_t n1 = zkt_find(&c->tree, inv->key);
    uint32_t n2 = inv->f == CHK_F_CREATE ? parent_node(c, inv->key) : ZKT_NONE;
    for (uint32_t q = from; q <= to;) {
        if (obs_at(c, w, op, q))
            return q;
        uint32_t b1 = next_break(w, n1, q), b2 = next_break(w, n2, q);
        q = b1 < b2 ? b1 : b2;
    }
    return UINT32_MAX;
}

struct sess_state {
    uint32_t p;               /* earliest position the session may still see */
    uint32_t p_op;            /* op that set p */
    uint32_t sync_write;      /* when a sync set p: the write that forced it */
    uint32_t sync_op, sync_bound, sync_bound_write;   /* the strongest sync so far */
};

/* The session's latest own write to op's path placed after position q, if
 * it came before op in issue order. */
static uint32_t own_newer_write(const struct zk_ctx *c, const struct wit *w, uint32_t op, uint32_t q)
{
    const struct chk_history *h = c->h;
    uint32_t s = c->sess_of[op];
    chk_str key = h->events[h->ops[op].inv].key;
    for (uint32_t k = c->sess_start[s + 1]; k-- > c->sess_start[s];) {
        uint32_t o = c->sess_ops[k];
        if (o < op && c->kind[o] == ZK_WRITE && w->pos[o] > q && h->events[h->ops[o].inv].key == key)
            return o;
    }
    return CHK_NONE;
}

static enum chk_verdict stale(struct zk_ctx *c, const struct wit *w, const struct sess_state *st,
                              uint32_t op, uint32_t q)
{
    char a[512], b[512], d[512], e[512];
    zkc_words(c, op, a, sizeof a);
    uint32_t own = own_newer_write(c, w, op, q);
    if (own != CHK_NONE) {
        /* reading past one's own write is the plainest way to say it */
        uint32_t ops[2] = {own, op};
        zkc_words(c, own, b, sizeof b);
        return zkc_violation(c, "session-monotonic-reads", ops, 2, "%s, older than what the "
                             "session had already seen: earlier it %s", a, tail_words(b));
    }
    if (st->sync_op != CHK_NONE && st->sync_bound > q) {
        /* the sync alone forbids this read: say so, it is the sharper rule */
        uint32_t n = zkt_find(&c->tree, c->h->events[c->h->ops[op].inv].key);
        uint32_t k = next_break(w, n, q);
        uint32_t missed = k <= st->sync_bound ? w->seq[k] : st->sync_bound_write;
        uint32_t ops[4] = {missed, st->sync_bound_write, st->sync_op, op};
        zkc_words(c, st->sync_op, b, sizeof b);
        zkc_words(c, st->sync_bound_write, d, sizeof d);
        zkc_words(c, missed, e, sizeof e);
        if (missed == st->sync_bound_write)
            return zkc_violation(c, "read-after-sync", ops + 1, 3, "%s; but earlier the session %s, "
                                 "which began after this write had completed: %s", a, tail_words(b), d);
        return zkc_violation(c, "read-after-sync", ops, 4,
                             "%s; but earlier the session %s, which began after this write had "
                             "completed: %s; so the read must reflect the write order at least that "
                             "far, and by then this write had changed the znode: %s", a,
                             tail_words(b), d, e);
    }
    zkc_words(c, st->p_op, b, sizeof b);
    uint32_t ops[2] = {st->p_op, op};
    return zkc_violation(c, "session-monotonic-reads", ops, 2, "%s, older than what the session "
                         "had already seen: earlier it %s", a, tail_words(b));
}

/* Sync bounds: the latest-placed write that completed before `at`. */
struct sync_index {
    uint32_t *by_ret, *pref_arg;   /* writes by completion; argmax of pos over prefixes */
    uint32_t *by_inv, *suf_min;    /* writes by invocation; min pos over suffixes */
    uint32_t n;
};

static uint32_t bound_before(const struct zk_ctx *c, const struct wit *w, const struct sync_index *x,
                             uint32_t ev, uint32_t *writer)
{
    uint32_t lo = 0, hi = x->n;          /* count of writes with ret < ev */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->h->ops[x->by_ret[mid]].ret < ev)
            lo = mid + 1;
        else
            hi = mid;
    }
    *writer = lo ? x->pref_arg[lo - 1] : CHK_NONE;
    return lo ? w->pos[*writer] : 0;
}

static uint32_t first_after(const struct zk_ctx *c, const struct sync_index *x, uint32_t ev)
{
    uint32_t lo = 0, hi = x->n;          /* first write with inv > ev */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->h->ops[x->by_inv[mid]].inv <= ev)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->n ? x->suf_min[lo] : UINT32_MAX;
}

/* A read without zxid that no placed write explains: did an unknown-outcome
 * write, not placed by the replay, write exactly what it read? Then the read
 * is taken as explained (lenient: see docs/checkers.md). */
static bool info_wrote(const struct zk_ctx *c, const struct wit *w, uint32_t op)
{
    const struct chk_history *h = c->h;
    const struct chk_event *inv = &h->events[h->ops[op].inv], *ret = &h->events[h->ops[op].ret];
    if (inv->f != CHK_F_GET_DATA || ret->err)
        return false;
    for (uint32_t i = 0; i < w->n_info; i++) {
        const struct chk_event *ie = &h->events[h->ops[w->infos[i]].inv];
        if (!w->inserted[w->infos[i]] && ie->key == inv->key && ie->sval == ret->sval
            && h->ops[w->infos[i]].inv < h->ops[op].ret)
            return true;
    }
    return false;
}

static enum chk_verdict session_obs(struct zk_ctx *c, struct wit *w, struct sess_state *st, uint32_t op)
{
    uint32_t q = w->pos[op];
    if (c->guided && q != UINT32_MAX && w->pos_hi[op] != UINT32_MAX) {
        /* guided: anywhere in its gap, among the unknown writes placed there */
        uint32_t lo = q, hi = w->pos_hi[op];
        q = find_pos(c, w, op, st->p > lo ? st->p : lo, hi);
        if (q == UINT32_MAX)
            q = lo;                      /* not at or after p: reported as stale below */
    } else if (q == UINT32_MAX) {
        q = find_pos(c, w, op, st->p, w->seq_len);
    }
    if (q != UINT32_MAX && q >= st->p) {
        w->pos[op] = q;                  /* kept for the watch rule */
        st->p = q;
        st->p_op = op;
        st->sync_write = CHK_NONE;
        return CHK_VERDICT_OK;
    }
    uint32_t old = w->pos[op] != UINT32_MAX ? w->pos[op]
        : st->p > 0 ? find_pos(c, w, op, 0, st->p - 1) : UINT32_MAX;
    if (old == UINT32_MAX && info_wrote(c, w, op))
        return CHK_VERDICT_OK;           /* an unknown-outcome write left that value */
    if (old != UINT32_MAX && st->p_op != CHK_NONE)
        return stale(c, w, st, op, old);
    enum chk_verdict v = zkc_explain_values(c);
    if (v != CHK_VERDICT_OK)
        return v;
    char a[512];
    zkc_words(c, op, a, sizeof a);
    return zkc_violation(c, "read-sees-write-order", &op, 1, "%s, but no point of the write "
                         "order shows that result", a);
}

static enum chk_verdict session_write(struct zk_ctx *c, const struct wit *w, struct sess_state *st, uint32_t op)
{
    uint32_t q = w->pos[op];
    if (q > st->p || st->p_op == CHK_NONE) {
        st->p = q;
        st->p_op = op;
        st->sync_write = CHK_NONE;
        return CHK_VERDICT_OK;
    }
    char a[512], b[512];
    uint32_t ops[2] = {st->p_op, op};
    zkc_words(c, st->p_op, a, sizeof a);
    zkc_words(c, op, b, sizeof b);
    return zkc_violation(c, "session-fifo", ops, 2, "%s, which already reflects later writes; then "
                         "it %s, yet that write is ordered before what the session had seen: the "
                         "session's operations did not take effect in issue order", a, tail_words(b));
}

static enum chk_verdict session_sync(struct zk_ctx *c, const struct wit *w, const struct sync_index *x,
                                     struct sess_state *st, uint32_t op)
{
    uint32_t writer;
    uint32_t b = bound_before(c, w, x, c->h->ops[op].inv, &writer);
    if (b > st->p) {
        st->p = b;
        st->p_op = op;
        st->sync_write = writer;
    }
    if (b > st->sync_bound || st->sync_op == CHK_NONE) {
        st->sync_op = op;
        st->sync_bound = b;
        st->sync_bound_write = writer;
    }
    if (c->opts->sync_mode == CHK_SYNC_STRICT && st->p >= first_after(c, x, c->h->ops[op].ret)) {
        char a[512];
        zkc_words(c, op, a, sizeof a);
        return zkc_violation(c, "sync-linearizable", &op, 1, "%s, but the session had already "
                             "seen a write that was invoked only after the sync completed (strict "
                             "mode orders sync like a write)", a);
    }
    return CHK_VERDICT_OK;
}

static int build_sync_index(struct zk_ctx *c, const struct wit *w, struct sync_index *x)
{
    x->n = w->n_w;
    x->by_ret = malloc((x->n + 1) * sizeof *x->by_ret);
    x->pref_arg = malloc((x->n + 1) * sizeof *x->pref_arg);
    x->by_inv = malloc((x->n + 1) * sizeof *x->by_inv);
    x->suf_min = malloc((x->n + 1) * sizeof *x->suf_min);
    if (!x->by_ret || !x->pref_arg || !x->by_inv || !x->suf_min)
        return -1;
    memcpy(x->by_ret, w->wz, x->n * sizeof *x->by_ret);
    uint64_t *keys = malloc((x->n + 1) * sizeof *keys);
    if (!keys)
        return -1;
    for (uint32_t i = 0; i < x->n; i++)
        keys[i] = c->h->ops[x->by_ret[i]].ret;
    int rc = zkc_sort_by_key(x->by_ret, keys, x->n);
    free(keys);
    if (rc)
        return -1;
    for (uint32_t i = 0; i < x->n; i++) {
        uint32_t best = i ? x->pref_arg[i - 1] : x->by_ret[0];
        x->pref_arg[i] = w->pos[x->by_ret[i]] > w->pos[best] ? x->by_ret[i] : best;
    }
    uint32_t k = 0;                      /* ops are in invocation order */
    for (uint32_t i = 0; i < c->h->n_ops; i++)
        if (c->kind[i] == ZK_WRITE)
            x->by_inv[k++] = i;
    for (uint32_t i = x->n; i-- > 0;) {
        uint32_t p = w->pos[x->by_inv[i]];
        x->suf_min[i] = i + 1 < x->n && x->suf_min[i + 1] < p ? x->suf_min[i + 1] : p;
    }
    return 0;
}

static enum chk_verdict sessions_pass(struct zk_ctx *c, struct wit *w, const struct sync_index *x)
{
    for (uint32_t s = 0; s < c->n_sess; s++) {
        struct sess_state st = {0, CHK_NONE, CHK_NONE, CHK_NONE, 0, CHK_NONE};
        for (uint32_t k = c->sess_start[s]; k < c->sess_start[s + 1]; k++) {
            uint32_t op = c->sess_ops[k];
            enum chk_verdict v = CHK_VERDICT_OK;
            bool unplaced = w->pos[op] == UINT32_MAX && (c->kind[op] == ZK_WRITE
                || (c->kind[op] == ZK_OBS && c->h->events[c->h->ops[op].ret].has_zxid));
            if (c->guided && unplaced)
                break;                   /* beyond the guided replay's horizon */
            switch (c->kind[op]) {
            case ZK_WRITE: v = session_write(c, w, &st, op); break;
            case ZK_OBS: v = session_obs(c, w, &st, op); break;
            case ZK_SYNC: v = session_sync(c, w, x, &st, op); break;
            default: break;                  /* unknown outcome: placed by replay, if at all */
            }
            if (v != CHK_VERDICT_OK)
                return v;
        }
    }
    return CHK_VERDICT_OK;
}

/* ---- watches ------------------------------------------------------------ */

static uint32_t write_with_zxid(const struct zk_ctx *c, const struct wit *w, uint64_t zxid)
{
    uint32_t lo = 0, hi = w->n_w;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        uint64_t z = c->h->events[c->h->ops[w->wz[mid]].ret].zxid;
        if (z == zxid)
            return w->wz[mid];
        if (z < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return CHK_NONE;
}

/* The watch must be delivered before any response of its session that
 * already reflects the change, if the watch was registered before it. */
static enum chk_verdict watch_before_reads(struct zk_ctx *c, const struct wit *w, uint32_t s,
                                           uint32_t e, uint32_t wop)
{
    const struct chk_history *h = c->h;
    const struct chk_event *ev = &h->events[e];
    uint32_t wp = w->pos[wop], reg = CHK_NONE;
    for (uint32_t k = c->sess_start[s]; k < c->sess_start[s + 1]; k++) {
        uint32_t op = c->sess_ops[k];
        const struct chk_op *o = &h->ops[op];
        if (o->inv > e)
            break;
        if (o->ret == CHK_NONE || o->ret > e)
            continue;
        if (h->events[o->inv].watch && h->events[o->inv].key == ev->key && w->pos[op] < wp) {
            reg = op;
            continue;
        }
        bool placed = c->kind[op] == ZK_WRITE || c->kind[op] == ZK_OBS;
        if (reg != CHK_NONE && o->inv > h->ops[reg].ret && placed && w->pos[op] != UINT32_MAX
            && w->pos[op] >= wp) {
            char a[512], b[512], t[40];
            uint32_t ops[3] = {reg, wop, op};
            zkc_words(c, op, a, sizeof a);
            zkc_words(c, wop, b, sizeof b);
            chk_fmt_when(ev, t, sizeof t);
            return zkc_violation(c, "watch-before-read", ops, 3, "%s, which already reflects the "
                                 "change %s; but the session's watch event for that change came "
                                 "only later, at %s", a, b, t);
        }
    }
    return CHK_VERDICT_OK;
}

static enum chk_verdict check_watches(struct zk_ctx *c, const struct wit *w)
{
    const struct chk_history *h = c->h;
    uint64_t *last = calloc(c->n_sess + 1, sizeof *last);
    uint32_t *last_ev = malloc((c->n_sess + 1) * sizeof *last_ev);
    enum chk_verdict v = CHK_VERDICT_OK;
    if (!last || !last_ev)
        v = CHK_VERDICT_INTERNAL;
    else
        memset(last_ev, 0xff, (c->n_sess + 1) * sizeof *last_ev);
    for (uint32_t e = 0; e < h->n_events && v == CHK_VERDICT_OK; e++) {
        const struct chk_event *ev = &h->events[e];
        if (ev->type != CHK_WATCH || !ev->has_zxid)
            continue;
        uint32_t s = sess_index(c, ev->session);
        if (s == CHK_NONE)
            continue;
        /* one txn may fire several events (a delete: the node and its
         * parent), so equal zxids are fine; going back is not */
        if (last_ev[s] != UINT32_MAX && ev->zxid < last[s]) {
            char t1[40], t2[40];
            chk_fmt_when(ev, t1, sizeof t1);
            chk_fmt_when(&h->events[last_ev[s]], t2, sizeof t2);
            v = zkc_violation(c, "watch-order", NULL, 0, "session %" PRId64 " received a watch "
                              "event for %s (zxid 0x%" PRIx64 ") at %s after one for zxid 0x%" PRIx64
                              " at %s: watch events must arrive in write order", ev->session,
                              chk_str_get(h, ev->key), ev->zxid, t1, last[s], t2);
            break;
        }
        last[s] = ev->zxid;
        last_ev[s] = e;
        uint32_t wop = write_with_zxid(c, w, ev->zxid);
        if (wop != CHK_NONE)
            v = watch_before_reads(c, w, s, e, wop);
    }
    free(last);
    free(last_ev);
    return v;
}

/* The replay places unknown-outcome writes greedily; before reporting a
 * violation that may come from a wrong guess, search every placement of
 * them (still following the verified zxids). */
static enum chk_verdict judge_witness(struct zk_ctx *c);

/* The replay places unknown-outcome writes greedily; before reporting a
 * violation that may come from a wrong guess, search every placement of
 * them (still following the verified zxids). If the search confirms it,
 * replay once more placing them where the search's deepest order did, so
 * that the message names the operation that really cannot be placed. */
static enum chk_verdict confirm_by_search(struct zk_ctx *c)
{
    struct chk_zk_result *r = c->res;
    struct chk_zk_result *saved = malloc(sizeof *saved);
    if (!saved)
        return CHK_VERDICT_INTERNAL;
    *saved = *r;
    zkt_free(&c->tree);
    if (zkt_init(&c->tree, c->h)) {
        free(saved);
        return CHK_VERDICT_INTERNAL;
    }
    c->zxid_constrained = true;
    enum chk_verdict v = zkc_search(c);
    uint64_t steps = r->steps;
    if (v == CHK_VERDICT_UNKNOWN) {
        *r = *saved;
        size_t n = strlen(r->msg);
        snprintf(r->msg + n, sizeof r->msg - n, " [unconfirmed: the search over unknown-"
                 "outcome writes ran out of budget]");
        r->verdict = CHK_VERDICT_UNKNOWN;
    } else if (v == CHK_VERDICT_VIOLATION) {
        zkt_free(&c->tree);
        c->guided = true;
        bool sharper = c->guide_op && zkt_init(&c->tree, c->h) == 0
            && judge_witness(c) == CHK_VERDICT_VIOLATION;
        if (!sharper)
            *r = *saved;                 /* the replay's first guess names it */
    } else if (v == CHK_VERDICT_OK && c->guide_op) {
        /* the order is fine: replay it as the search found it, to check the
         * watches (which the search does not judge) */
        zkt_free(&c->tree);
        c->guided = true;
        if (zkt_init(&c->tree, c->h) == 0 && judge_witness(c) == CHK_VERDICT_VIOLATION)
            v = strncmp(r->rule, "watch", 5) ? CHK_VERDICT_OK : CHK_VERDICT_VIOLATION;
    }
    r->steps = steps;
    free(saved);
    return v;
}

static enum chk_verdict judge_witness(struct zk_ctx *c)
{
    const struct chk_history *h = c->h;
    struct wit w = {0};
    struct sync_index x = {0};
    uint32_t n = h->n_ops + 2;
    w.wz = malloc(n * sizeof *w.wz), w.oz = malloc(n * sizeof *w.oz);
    w.infos = malloc(n * sizeof *w.infos), w.inserted = calloc(n, 1);
    w.pos = malloc(n * sizeof *w.pos), w.seq = malloc(n * sizeof *w.seq);
    w.pos_hi = malloc(n * sizeof *w.pos_hi);
    enum chk_verdict v = CHK_VERDICT_INTERNAL;
    if (w.wz && w.oz && w.infos && w.inserted && w.pos && w.seq && w.pos_hi) {
        memset(w.pos, 0xff, n * sizeof *w.pos);
        memset(w.pos_hi, 0xff, n * sizeof *w.pos_hi);
        for (uint32_t i = 0; i < h->n_ops; i++) {
            if (c->kind[i] == ZK_WRITE)
                w.wz[w.n_w++] = i;
            else if (c->kind[i] == ZK_OBS && h->events[h->ops[i].ret].has_zxid)
                w.oz[w.n_oz++] = i;
            else if (c->kind[i] == ZK_INFO)
                w.infos[w.n_info++] = i;
        }
        v = sort_by_zxid(h, w.wz, w.n_w) || sort_by_zxid(h, w.oz, w.n_oz) ? CHK_VERDICT_INTERNAL
                                                                          : verify_zxids(c, &w);
        w.zxid_fault = v != CHK_VERDICT_OK;
        if (v == CHK_VERDICT_OK)
            v = c->guided ? replay_guided(c, &w) : replay(c, &w);
        if (v == CHK_VERDICT_OK)
            v = build_view(c, &w) || build_sync_index(c, &w, &x) ? CHK_VERDICT_INTERNAL
                                                                 : sessions_pass(c, &w, &x);
        /* the search judges the order, not watches: confirm before them */
        if (v == CHK_VERDICT_VIOLATION && w.n_info > 0 && !w.zxid_fault && !c->guided)
            v = confirm_by_search(c);
        if (v == CHK_VERDICT_OK && w.node_first)
            v = check_watches(c, &w);
    }
    free(w.wz), free(w.oz), free(w.infos), free(w.inserted), free(w.pos), free(w.seq), free(w.pos_hi);
    free(w.snaps), free(w.last_k), free(w.node_first), free(w.node_snaps);
    free(x.by_ret), free(x.pref_arg), free(x.by_inv), free(x.suf_min);
    return v;
}

/* ---- entry point -------------------------------------------------------- */

static int setup(struct zk_ctx *c)
{
    const struct chk_history *h = c->h;
    c->kind = malloc(h->n_ops + 1);
    c->op_of_ev = malloc((h->n_events + 1) * sizeof *c->op_of_ev);
    if (!c->kind || !c->op_of_ev || build_sessions(c) || zkt_init(&c->tree, c->h))
        return -1;
    memset(c->op_of_ev, 0xff, (h->n_events + 1) * sizeof *c->op_of_ev);
    for (uint32_t i = 0; i < h->n_ops; i++) {
        c->kind[i] = (uint8_t)classify(h, &h->ops[i]);
        c->op_of_ev[h->ops[i].inv] = i;
        if (h->ops[i].ret != CHK_NONE)
            c->op_of_ev[h->ops[i].ret] = i;
    }
    return 0;
}

static bool has_witness(const struct zk_ctx *c)
{
    const struct chk_history *h = c->h;
    if (c->opts->ignore_zxids)
        return false;
    for (uint32_t i = 0; i < h->n_ops; i++)
        if (c->kind[i] == ZK_WRITE && !h->events[h->ops[i].ret].has_zxid)
            return false;
    return true;
}

static bool zk_only(struct chk_history *h, struct chk_zk_result *res)
{
    for (uint32_t i = 0; i < h->n_ops; i++)
        if (h->ops[i].f < CHK_F_CREATE) {
            const struct chk_event *ev = &h->events[h->ops[i].inv];
            snprintf(res->msg, sizeof res->msg, "%s:%u:%u: %s is not a ZooKeeper operation; the zk "
                     "checker reads create/delete/setData/getData/exists/getChildren/check/multi/"
                     "sync/close", h->name, ev->line, ev->col, chk_f_name(h->ops[i].f));
            return false;
        }
    return true;
}

enum chk_verdict chk_zk_check(struct chk_history *h, const struct chk_zk_opts *opts,
                              struct chk_zk_result *res)
{
    if (chk_history_has_recipes(h)) {
        /* recipe outcomes are the recipe checkers' (check/recipes.h): judge
         * the znode operations without them */
        char err[256];
        struct chk_history *zk = chk_history_without_recipes(h, err, sizeof err);
        if (!zk) {
            memset(res, 0, sizeof *res);
            res->rule = "";
            snprintf(res->msg, sizeof res->msg, "%s", err);
            return res->verdict = CHK_VERDICT_INTERNAL;
        }
        enum chk_verdict v = chk_zk_check(zk, opts, res);
        chk_history_free(zk);
        return v;
    }
    memset(res, 0, sizeof *res);
    res->rule = "";
    res->sync_mode = opts->sync_mode;
    if (!zk_only(h, res))
        return res->verdict = CHK_VERDICT_BAD_INPUT;
    struct zk_ctx c = {0};
    c.h = h;
    c.opts = opts;
    c.res = res;
    clock_gettime(CLOCK_MONOTONIC, &c.start);
    enum chk_verdict v = CHK_VERDICT_INTERNAL;
    if (setup(&c) == 0) {
        res->used_zxids = has_witness(&c);
        v = res->used_zxids ? judge_witness(&c) : zkc_search(&c);
    }
    if (v == CHK_VERDICT_OK) {
        res->rule = "";
        res->n_shown = 0;
    }
    if (v == CHK_VERDICT_OK)
        snprintf(res->msg, sizeof res->msg, "consistent with ZooKeeper's ordered sequential "
                 "consistency (%u operations, %u sessions; judged %s; sync mode %s)", h->n_ops,
                 c.n_sess, res->used_zxids ? "with the verified zxid witness" : "without zxids, by search",
                 chk_sync_mode_name(opts->sync_mode));
    else if (v == CHK_VERDICT_UNKNOWN)
        snprintf(res->msg, sizeof res->msg, "unknown: without zxids the search ran out of its "
                 "budget after %" PRIu64 " steps (sync mode %s); no violation found so far",
                 res->steps, chk_sync_mode_name(opts->sync_mode));
    else if (v == CHK_VERDICT_INTERNAL && !res->msg[0])
        snprintf(res->msg, sizeof res->msg, "internal error (out of memory?)");
    free(c.guide_op), free(c.guide_zdone);
    free(c.kind), free(c.op_of_ev), free(c.sess_of), free(c.sess_id), free(c.sess_start), free(c.sess_ops);
    free(c.sess_map);
    zkt_free(&c.tree);
    return res->verdict = v;
}
