/* check/recipes: the recipe checkers (lock-exclusive, leader-unique,
 * queue-exact, config-converges), one pass over the events in line order,
 * which is real-time order. Owns the verdict messages. Must never modify
 * the history or read past its arrays; every table it builds is bounded by
 * the history's own sizes or by the limits in recipes.h. */
#include "check/recipes.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const model_names[CHK_RECIPE_COUNT] = {"lock", "queue", "config", "leader",
                                                          "barrier"};
static const char *const properties[CHK_RECIPE_COUNT] = {
    "lock-exclusive", "queue-exact", "config-converges", "leader-unique", "barrier-sync"};

const char *chk_recipe_model_name(enum chk_recipe_kind k)
{
    return (unsigned)k < CHK_RECIPE_COUNT ? model_names[k] : "?";
}

const char *chk_recipe_property(enum chk_recipe_kind k)
{
    return (unsigned)k < CHK_RECIPE_COUNT ? properties[k] : "?";
}

int chk_recipe_parse(const char *s, enum chk_recipe_kind *out)
{
    for (int k = 0; k < CHK_RECIPE_COUNT; k++)
        if (!strcmp(s, model_names[k]) || !strcmp(s, properties[k])) {
            *out = (enum chk_recipe_kind)k;
            return 0;
        }
    return -1;
}

static bool f_of_kind(enum chk_f f, enum chk_recipe_kind k)
{
    switch (k) {
    case CHK_RECIPE_LOCK: return f == CHK_F_ACQUIRE || f == CHK_F_RELEASE;
    case CHK_RECIPE_QUEUE:
        return f == CHK_F_ENQUEUE || f == CHK_F_DEQUEUE || f == CHK_F_QUEUE_READ;
    case CHK_RECIPE_CONFIG: return f == CHK_F_CONFIG_WRITE || f == CHK_F_CONFIG_READ;
    case CHK_RECIPE_LEADER: return f == CHK_F_LEAD || f == CHK_F_RESIGN;
    case CHK_RECIPE_BARRIER: return f == CHK_F_ENTER;
    default: return false;
    }
}

bool chk_recipe_present(const struct chk_history *h, enum chk_recipe_kind k)
{
    for (uint32_t e = 0; e < h->n_events; e++)
        if (h->events[e].type != CHK_WATCH && f_of_kind(h->events[e].f, k))
            return true;
    return false;
}

static enum chk_verdict finish(struct chk_recipe_result *r, enum chk_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    r->verdict = v;
    return v;
}

static void result_init(struct chk_recipe_result *r, enum chk_recipe_kind k)
{
    memset(r, 0, sizeof *r);
    snprintf(r->property, sizeof r->property, "%s", properties[k]);
}

/* "t=4.100s (line 12)", or without the line for a history built in memory. */
static void where(const struct chk_event *ev, char *buf, size_t len)
{
    char t[40];
    chk_fmt_when(ev, t, sizeof t);
    if (ev->line && ev->has_time)
        snprintf(buf, len, "%s (line %u)", t, ev->line);
    else
        snprintf(buf, len, "%s", t);
}

static bool is_loss(const struct chk_event *ev)
{
    return ev->type == CHK_WATCH && ev->watch_type == CHK_WATCH_NONE && CHK_STATE_IS_LOSS(ev->state);
}

/* ---- lock-exclusive and leader-unique --------------------------------- */

struct hold {
    chk_str key;
    int64_t process;
    uint32_t since;          /* event index of the acquire/lead ok */
};

struct excl {
    const struct chk_history *h;
    enum chk_f begin, end;
    const char *noun;        /* "lock", "leadership of" */
    struct hold holds[CHK_RECIPE_HOLDS_MAX];
    uint32_t n;
};

/* Ends every hold of process (on key, or on any key when key is 0). */
static void excl_drop(struct excl *x, int64_t process, chk_str key)
{
    for (uint32_t i = 0; i < x->n;) {
        if (x->holds[i].process == process && (key == 0 || x->holds[i].key == key))
            x->holds[i] = x->holds[--x->n];   /* order of holds does not matter */
        else
            i++;
    }
}

static enum chk_verdict excl_violation(struct excl *x, const struct hold *old, uint32_t e,
                                       struct chk_recipe_result *r)
{
    const struct chk_history *h = x->h;
    const struct chk_event *ev = &h->events[e], *was = &h->events[old->since];
    char t_new[64], t_old[64];
    where(ev, t_new, sizeof t_new);
    where(was, t_old, sizeof t_old);
    return finish(r, CHK_VERDICT_VIOLATION,
                  "%s %s: process %" PRId64 " (session 0x%" PRIx64 ") got it at %s "
                  "while process %" PRId64 " (session 0x%" PRIx64 ") still held it: it got it at "
                  "%s and had neither released it nor seen its connection lost",
                  x->noun, chk_str_get(h, ev->key), ev->process, (uint64_t)ev->session, t_new,
                  old->process, (uint64_t)was->session, t_old);
}

/* One event; returns a verdict other than OK to stop. */
static enum chk_verdict excl_step(struct excl *x, uint32_t e, struct chk_recipe_result *r)
{
    const struct chk_event *ev = &x->h->events[e];
    if (is_loss(ev)) {
        excl_drop(x, ev->process, 0);
        return CHK_VERDICT_OK;
    }
    if (ev->type == CHK_WATCH || (ev->f != x->begin && ev->f != x->end))
        return CHK_VERDICT_OK;
    if (ev->type == CHK_INVOKE) {
        /* a release, or a fresh attempt: either way the old belief is over */
        excl_drop(x, ev->process, ev->key);
        return CHK_VERDICT_OK;
    }
    if (ev->f != x->begin || ev->type != CHK_OK)
        return CHK_VERDICT_OK;
    for (uint32_t i = 0; i < x->n; i++)
        if (x->holds[i].key == ev->key && x->holds[i].process != ev->process)
            return excl_violation(x, &x->holds[i], e, r);
    excl_drop(x, ev->process, ev->key);
    if (x->n == CHK_RECIPE_HOLDS_MAX)
        return finish(r, CHK_VERDICT_UNKNOWN, "more than %d holds at once: not judged",
                      CHK_RECIPE_HOLDS_MAX);
    x->holds[x->n++] = (struct hold){ev->key, ev->process, e};
    r->n_judged++;
    return CHK_VERDICT_OK;
}

static enum chk_verdict exclusive(const struct chk_history *h, enum chk_recipe_kind k,
                                  struct chk_recipe_result *r)
{
    result_init(r, k);
    struct excl *x = malloc(sizeof *x);
    if (!x)
        return finish(r, CHK_VERDICT_INTERNAL, "out of memory");
    x->h = h;
    x->n = 0;
    x->begin = k == CHK_RECIPE_LOCK ? CHK_F_ACQUIRE : CHK_F_LEAD;
    x->end = k == CHK_RECIPE_LOCK ? CHK_F_RELEASE : CHK_F_RESIGN;
    x->noun = k == CHK_RECIPE_LOCK ? "lock" : "leadership of";
    enum chk_verdict v = CHK_VERDICT_OK;
    for (uint32_t e = 0; e < h->n_events && v == CHK_VERDICT_OK; e++)
        v = excl_step(x, e, r);
    free(x);
    if (v != CHK_VERDICT_OK)
        return v;
    return finish(r, CHK_VERDICT_OK, "%u %s, never two holders at once", r->n_judged,
                  k == CHK_RECIPE_LOCK ? "acquisitions" : "leaderships");
}

enum chk_verdict chk_lock_exclusive(const struct chk_history *h, struct chk_recipe_result *r)
{
    return exclusive(h, CHK_RECIPE_LOCK, r);
}

enum chk_verdict chk_leader_unique(const struct chk_history *h, struct chk_recipe_result *r)
{
    return exclusive(h, CHK_RECIPE_LEADER, r);
}

/* ---- queue-exact ------------------------------------------------------ */

/* Per element (indexed by its string id): what happened to it. */
struct elem {
    uint32_t enq_inv, enq_ok, enq_fail;  /* event indices, CHK_NONE = never */
    uint32_t deq_ok, deq_maybe;
    uint32_t final;                      /* queue-read event that still lists it */
};

static void when(const struct chk_history *h, uint32_t e, char *buf, size_t len)
{
    char t[64];
    where(&h->events[e], t, sizeof t);
    snprintf(buf, len, "%s by process %" PRId64, t, h->events[e].process);
}

static enum chk_verdict queue_dequeued(const struct chk_history *h, struct elem *el, uint32_t e,
                                       struct chk_recipe_result *r)
{
    const struct chk_event *ev = &h->events[e];
    struct elem *x = &el[ev->sval];
    const char *v = chk_str_get(h, ev->sval);
    char a[128], b[128];
    when(h, e, a, sizeof a);
    if (x->deq_ok != CHK_NONE) {
        when(h, x->deq_ok, b, sizeof b);
        return finish(r, CHK_VERDICT_VIOLATION, "element \"%s\" dequeued twice: at %s and again "
                      "at %s", v, b, a);
    }
    if (x->enq_inv == CHK_NONE)
        return finish(r, CHK_VERDICT_VIOLATION, "element \"%s\" dequeued at %s was never "
                      "enqueued (before then)", v, a);
    if (x->enq_fail != CHK_NONE) {
        when(h, x->enq_fail, b, sizeof b);
        return finish(r, CHK_VERDICT_VIOLATION, "element \"%s\" dequeued at %s, but its enqueue "
                      "failed definitely at %s", v, a, b);
    }
    x->deq_ok = e;
    return CHK_VERDICT_OK;
}

static enum chk_verdict queue_scan(const struct chk_history *h, struct elem *el, uint32_t *last_read,
                                   struct chk_recipe_result *r)
{
    for (uint32_t e = 0; e < h->n_events; e++) {
        const struct chk_event *ev = &h->events[e];
        if (ev->type == CHK_WATCH || ev->sval >= h->n_strs)
            continue;
        struct elem *x = &el[ev->sval];
        if (ev->f == CHK_F_ENQUEUE && ev->sval) {
            if (ev->type == CHK_INVOKE && x->enq_inv == CHK_NONE)
                x->enq_inv = e;
            else if (ev->type == CHK_OK)
                x->enq_ok = e;
            else if (ev->type == CHK_FAIL && ev->err == 0)
                x->enq_fail = e;
        } else if (ev->f == CHK_F_DEQUEUE && ev->sval && ev->type == CHK_OK) {
            if (queue_dequeued(h, el, e, r) != CHK_VERDICT_OK)
                return r->verdict;
        } else if (ev->f == CHK_F_DEQUEUE && ev->sval && ev->type == CHK_INFO) {
            x->deq_maybe = e;
        } else if (ev->f == CHK_F_QUEUE_READ && ev->type == CHK_OK) {
            *last_read = e;              /* the last read of the run is the final one */
        }
    }
    return CHK_VERDICT_OK;
}

static enum chk_verdict queue_final(const struct chk_history *h, struct elem *el, uint32_t rd,
                                    struct chk_recipe_result *r)
{
    const struct chk_event *ev = &h->events[rd];
    char a[128], b[128];
    when(h, rd, a, sizeof a);
    for (uint32_t i = 0; i < ev->n_children; i++) {
        chk_str s = h->names[ev->children + i];
        struct elem *x = &el[s];
        if (x->enq_inv == CHK_NONE)
            return finish(r, CHK_VERDICT_VIOLATION, "element \"%s\" is in the final queue read "
                          "at %s but was never enqueued", chk_str_get(h, s), a);
        if (x->deq_ok != CHK_NONE) {
            when(h, x->deq_ok, b, sizeof b);
            return finish(r, CHK_VERDICT_VIOLATION, "element \"%s\" was dequeued at %s but is "
                          "still in the queue at %s: it will be delivered twice",
                          chk_str_get(h, s), b, a);
        }
        x->final = rd;
    }
    for (chk_str s = 1; s < h->n_strs; s++) {
        const struct elem *x = &el[s];
        if (x->enq_ok == CHK_NONE || x->deq_ok != CHK_NONE || x->deq_maybe != CHK_NONE
            || x->final != CHK_NONE)
            continue;
        when(h, x->enq_ok, b, sizeof b);
        return finish(r, CHK_VERDICT_VIOLATION, "element \"%s\" was lost: its enqueue was "
                      "acknowledged at %s, it was never dequeued and is not in the final queue "
                      "read at %s", chk_str_get(h, s), b, a);
    }
    return CHK_VERDICT_OK;
}

enum chk_verdict chk_queue_exact(const struct chk_history *h, struct chk_recipe_result *r)
{
    result_init(r, CHK_RECIPE_QUEUE);
    struct elem *el = malloc(((size_t)h->n_strs + 1) * sizeof *el);
    if (!el)
        return finish(r, CHK_VERDICT_INTERNAL, "out of memory");
    memset(el, 0xff, ((size_t)h->n_strs + 1) * sizeof *el);   /* every index CHK_NONE */
    uint32_t last_read = CHK_NONE;
    enum chk_verdict v = queue_scan(h, el, &last_read, r);
    if (v == CHK_VERDICT_OK && last_read != CHK_NONE)
        v = queue_final(h, el, last_read, r);
    uint32_t acked = 0, dequeued = 0;
    for (chk_str s = 1; s < h->n_strs; s++) {
        acked += el[s].enq_ok != CHK_NONE;
        dequeued += el[s].deq_ok != CHK_NONE;
    }
    free(el);
    r->n_judged = acked;
    if (v != CHK_VERDICT_OK)
        return v;
    return finish(r, CHK_VERDICT_OK, "%u elements acknowledged, %u dequeued once each%s", acked,
                  dequeued, last_read == CHK_NONE ? "; no final queue-read, so losses were not "
                  "judged" : ", none lost");
}

/* ---- config-converges ------------------------------------------------- */

struct watcher {
    int64_t process;
    int64_t session;         /* of its last read */
    int64_t version;         /* last observed */
    uint32_t last_read;      /* event index, CHK_NONE = never read */
    bool lost;               /* its last connection event was a loss */
    bool pending;            /* a config-read invoked and not completed */
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static struct watcher *watcher_of(struct watcher *w, uint32_t n, int64_t process)
{
    uint32_t lo = 0, hi = n;                 /* w is sorted by process */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (w[mid].process < process)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && w[lo].process == process ? &w[lo] : NULL;
}

/* Sorted distinct processes of the history, and sorted written versions. */
static int config_tables(const struct chk_history *h, struct watcher **wout, uint32_t *nw,
                         int64_t **vout, uint32_t *nv)
{
    int64_t *p = malloc(((size_t)h->n_events + 1) * sizeof *p);
    int64_t *v = malloc(((size_t)h->n_events + 1) * sizeof *v);
    struct watcher *w = calloc((size_t)h->n_events + 1, sizeof *w);
    if (!p || !v || !w) {
        free(p), free(v), free(w);
        return -1;
    }
    uint32_t np = 0, n_v = 0;
    for (uint32_t e = 0; e < h->n_events; e++) {
        const struct chk_event *ev = &h->events[e];
        p[np++] = ev->process;
        if (ev->type == CHK_INVOKE && ev->f == CHK_F_CONFIG_WRITE && ev->has_value)
            v[n_v++] = ev->ival;
    }
    qsort(p, np, sizeof *p, cmp_i64);
    qsort(v, n_v, sizeof *v, cmp_i64);
    *nw = 0;
    for (uint32_t i = 0; i < np; i++)
        if (i == 0 || p[i] != p[i - 1])
            w[(*nw)++] = (struct watcher){.process = p[i], .last_read = CHK_NONE};
    free(p);
    *wout = w;
    *vout = v;
    *nv = n_v;
    return 0;
}

static enum chk_verdict config_read(const struct chk_history *h, struct watcher *w, uint32_t e,
                                    const int64_t *versions, uint32_t nv,
                                    struct chk_recipe_result *r)
{
    const struct chk_event *ev = &h->events[e];
    char a[128], b[128];
    when(h, e, a, sizeof a);
    if (ev->ival != 0 && !bsearch(&ev->ival, versions, nv, sizeof *versions, cmp_i64))
        return finish(r, CHK_VERDICT_VIOLATION, "config %s: version %" PRId64 " observed at %s "
                      "was never written", chk_str_get(h, ev->key), ev->ival, a);
    if (w->last_read != CHK_NONE && w->session == ev->session && ev->ival < w->version) {
        when(h, w->last_read, b, sizeof b);
        return finish(r, CHK_VERDICT_VIOLATION, "config %s: session 0x%" PRIx64 " observed "
                      "version %" PRId64 " at %s after version %" PRId64 " at %s: a session "
                      "never goes back in time", chk_str_get(h, ev->key), (uint64_t)ev->session,
                      ev->ival, a, w->version, b);
    }
    w->session = ev->session;
    w->version = ev->ival;
    w->last_read = e;
    w->lost = false;
    return CHK_VERDICT_OK;
}

static enum chk_verdict config_scan(const struct chk_history *h, struct watcher *w, uint32_t nw,
                                    const int64_t *versions, uint32_t nv, uint32_t *last_write,
                                    struct chk_recipe_result *r)
{
    for (uint32_t e = 0; e < h->n_events; e++) {
        const struct chk_event *ev = &h->events[e];
        struct watcher *x = watcher_of(w, nw, ev->process);
        if (!x)
            continue;                    /* cannot happen: the table holds every process */
        if (ev->f == CHK_F_CONFIG_READ && ev->type != CHK_WATCH)
            x->pending = ev->type == CHK_INVOKE;
        if (ev->type == CHK_WATCH && ev->watch_type == CHK_WATCH_NONE)
            x->lost = CHK_STATE_IS_LOSS(ev->state);
        else if (ev->type == CHK_OK && ev->f == CHK_F_CONFIG_WRITE && ev->has_value
                 && (*last_write == CHK_NONE || ev->ival >= h->events[*last_write].ival))
            *last_write = e;
        else if (ev->type == CHK_OK && ev->f == CHK_F_CONFIG_READ && ev->has_value
                 && config_read(h, x, e, versions, nv, r) != CHK_VERDICT_OK)
            return r->verdict;
    }
    return CHK_VERDICT_OK;
}

static enum chk_verdict config_final(const struct chk_history *h, const struct watcher *w,
                                     uint32_t nw, uint32_t lw, struct chk_recipe_result *r)
{
    const struct chk_event *wr = &h->events[lw];
    char a[128], b[128];
    for (uint32_t i = 0; i < nw; i++) {
        if (w[i].last_read == CHK_NONE)
            continue;
        if (w[i].lost || w[i].pending)
            continue;                /* not live, or still reading when the history ends */
        r->n_judged++;
        if (w[i].version >= wr->ival)
            continue;
        when(h, w[i].last_read, a, sizeof a);
        when(h, lw, b, sizeof b);
        return finish(r, CHK_VERDICT_VIOLATION, "config %s: watcher process %" PRId64 " (session "
                      "0x%" PRIx64 ") is still connected at the end but last observed version %"
                      PRId64 " at %s; the last write, version %" PRId64 ", was acknowledged at %s",
                      chk_str_get(h, wr->key), w[i].process, (uint64_t)w[i].session,
                      w[i].version, a, wr->ival, b);
    }
    return CHK_VERDICT_OK;
}

enum chk_verdict chk_config_converges(const struct chk_history *h, struct chk_recipe_result *r)
{
    result_init(r, CHK_RECIPE_CONFIG);
    struct watcher *w;
    int64_t *versions;
    uint32_t nw, nv, last_write = CHK_NONE;
    if (config_tables(h, &w, &nw, &versions, &nv))
        return finish(r, CHK_VERDICT_INTERNAL, "out of memory");
    enum chk_verdict v = config_scan(h, w, nw, versions, nv, &last_write, r);
    if (v == CHK_VERDICT_OK && last_write != CHK_NONE)
        v = config_final(h, w, nw, last_write, r);
    free(w);
    free(versions);
    if (v != CHK_VERDICT_OK)
        return v;
    if (last_write == CHK_NONE)
        return finish(r, CHK_VERDICT_OK, "no acknowledged config write: nothing to converge on");
    return finish(r, CHK_VERDICT_OK, "%u connected watchers judged; each ended on version %" PRId64
                  " or later", r->n_judged, h->events[last_write].ival);
}

/* ---- barrier-sync ----------------------------------------------------- */

/* An enter invocation, for counting who arrived at a round. */
struct arrival {
    chk_str key;
    int64_t round, process;
    uint32_t event;
};

static int cmp_arrival(const void *x, const void *y)
{
    const struct arrival *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->round != b->round)
        return a->round < b->round ? -1 : 1;
    if (a->process != b->process)
        return a->process < b->process ? -1 : 1;
    return (a->event > b->event) - (a->event < b->event);
}

/* Distinct processes whose first enter invocation of (key, round) comes
 * before event e; arr is sorted, so each process's first one leads its run. */
static uint32_t arrived(const struct arrival *arr, uint32_t n, chk_str key, int64_t round, uint32_t e)
{
    uint32_t lo = 0, hi = n, count = 0;
    while (lo < hi) {                    /* first entry of (key, round) */
        uint32_t mid = lo + (hi - lo) / 2;
        if (arr[mid].key < key || (arr[mid].key == key && arr[mid].round < round))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t i = lo; i < n && arr[i].key == key && arr[i].round == round; i++)
        if ((i == lo || arr[i].process != arr[i - 1].process) && arr[i].event < e)
            count++;
    return count;
}

static uint32_t collect_arrivals(const struct chk_history *h, struct arrival *arr, bool *capped)
{
    uint32_t n = 0;
    for (uint32_t e = 0; e < h->n_events; e++) {
        const struct chk_event *ev = &h->events[e];
        if (ev->type != CHK_INVOKE || ev->f != CHK_F_ENTER)
            continue;
        if (n == CHK_RECIPE_ENTERS_MAX) {
            *capped = true;
            break;
        }
        arr[n++] = (struct arrival){ev->key, ev->ival, ev->process, e};
    }
    qsort(arr, n, sizeof *arr, cmp_arrival);
    return n;
}

enum chk_verdict chk_barrier_sync(const struct chk_history *h, struct chk_recipe_result *r)
{
    result_init(r, CHK_RECIPE_BARRIER);
    struct arrival *arr = malloc(CHK_RECIPE_ENTERS_MAX * sizeof *arr);
    if (!arr)
        return finish(r, CHK_VERDICT_INTERNAL, "out of memory");
    bool capped = false;
    uint32_t n = collect_arrivals(h, arr, &capped);
    enum chk_verdict v = CHK_VERDICT_OK;
    if (capped) {                        /* missing arrivals would look like violations */
        free(arr);
        return finish(r, CHK_VERDICT_UNKNOWN, "more than %u enter invocations: not judged",
                      CHK_RECIPE_ENTERS_MAX);
    }
    for (uint32_t e = 0; e < h->n_events && v == CHK_VERDICT_OK; e++) {
        const struct chk_event *ev = &h->events[e];
        if (ev->type != CHK_OK || ev->f != CHK_F_ENTER)
            continue;
        r->n_judged++;
        uint32_t got = arrived(arr, n, ev->key, ev->ival, e);
        if ((int64_t)got < ev->ival2) {
            char t[64];
            where(ev, t, sizeof t);
            v = finish(r, CHK_VERDICT_VIOLATION, "barrier %s round %" PRId64 ": process %" PRId64
                       " passed it at %s when only %u of its %" PRId64 " parties had entered",
                       chk_str_get(h, ev->key), ev->ival, ev->process, t, got, ev->ival2);
        }
    }
    free(arr);
    if (v != CHK_VERDICT_OK)
        return v;
    return finish(r, CHK_VERDICT_OK, "%u passages, each after every party had entered",
                  r->n_judged);
}

enum chk_verdict chk_recipe_check(const struct chk_history *h, enum chk_recipe_kind k,
                                  struct chk_recipe_result *r)
{
    switch (k) {
    case CHK_RECIPE_LOCK: return chk_lock_exclusive(h, r);
    case CHK_RECIPE_QUEUE: return chk_queue_exact(h, r);
    case CHK_RECIPE_CONFIG: return chk_config_converges(h, r);
    case CHK_RECIPE_LEADER: return chk_leader_unique(h, r);
    case CHK_RECIPE_BARRIER: return chk_barrier_sync(h, r);
    default:
        result_init(r, CHK_RECIPE_LOCK);
        return finish(r, CHK_VERDICT_BAD_INPUT, "unknown recipe kind %d", (int)k);
    }
}

/* ---- the rest of the history for the other checkers -------------------- */

static bool is_recipe_event(const struct chk_event *ev)
{
    if (ev->type == CHK_WATCH)
        return ev->watch_type == CHK_WATCH_NONE;
    return CHK_F_IS_RECIPE(ev->f);
}

bool chk_history_has_recipes(const struct chk_history *h)
{
    for (uint32_t e = 0; e < h->n_events; e++)
        if (is_recipe_event(&h->events[e]))
            return true;
    return false;
}

struct chk_history *chk_history_without_recipes(const struct chk_history *h, char *err,
                                                size_t errlen)
{
    struct chk_history *c = chk_history_new(h->name);
    bool oom = c == NULL;
    /* interning in id order gives every string the same id as in h */
    for (chk_str s = 1; !oom && s < h->n_strs; s++)
        oom = chk_str_intern(c, chk_str_get(h, s), chk_str_len(h, s)) != s;
    if (!oom && h->n_names)
        oom = chk_history_add_names(c, h->names, h->n_names) == CHK_NONE;
    if (!oom && h->n_subs)
        oom = chk_history_add_subs(c, h->subs, h->n_subs) == CHK_NONE;
    for (uint32_t e = 0; !oom && e < h->n_events; e++)
        if (!is_recipe_event(&h->events[e]))
            oom = chk_history_add(c, &h->events[e]) == CHK_NONE;
    if (oom) {
        snprintf(err, errlen, "%s: out of memory", h->name);
        chk_history_free(c);
        return NULL;
    }
    if (chk_history_pair(c, err, errlen)) {
        chk_history_free(c);
        return NULL;
    }
    return c;
}
