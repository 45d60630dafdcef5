/* sim/recipes: the recipe clients' state machines. Every client runs one
 * request at a time; each callback and timer carries a ticket (client,
 * generation) so that anything issued before the client lost its connection
 * or session is ignored once it has started over. Tickets come from a
 * bounded free list and go back when their callback runs. */
#include "sim/recipes.h"

#include "check/recipes.h"

#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MS ((sim_time_ns)1000000)
#define RETRY_NS (100 * MS)          /* after an error, before starting over */
#define NAME_MAX_LEN 64
#define VALUE_MAX_LEN 48

enum rcp_role { R_LOCK, R_LEADER, R_PRODUCER, R_CONSUMER, R_CFG_WRITER, R_CFG_WATCHER, R_BARRIER };

struct rcp_client;
typedef void rcp_step_fn(struct rcp_client *c, const struct simc_result *res);

struct rcp_client {
    struct rcp_run *run;
    struct sim_client *cl;
    enum rcp_role role;
    int idx;                         /* within its recipe */
    int64_t process;                 /* history process of its outcomes */
    uint32_t gen;                    /* bumped whenever it starts over */
    bool waiting_connect;            /* start over on the next CONNECTED */
    bool holds;                      /* lock held / leading */
    bool reading, reread;            /* config watcher */
    bool waiting_watch;              /* lock: waiting for the predecessor to go */
    enum chk_f open_f;               /* outcome invoked, not yet completed */
    const char *dir;                 /* its recipe's znode */
    char prefix[16];                 /* "c3-": its children (protected names) */
    char node[NAME_MAX_LEN + 16];    /* its own child, or the element being taken */
    char value[VALUE_MAX_LEN];       /* element / version of the open outcome */
    uint64_t seq;                    /* producer: elements; writer: versions */
    sim_time_ns hold_ns;             /* lock / leadership hold; barrier: pause between rounds */
    int parties;                     /* barrier: clients of the recipe */
    rcp_step_fn *next;               /* where the pending request's reply goes */
};

struct rcp_ticket {
    struct rcp_client *c;
    uint32_t gen;
    int32_t next_free;               /* -1 = end of the free list; -2 = in use */
};

struct rcp_run {
    struct sim_clients *cs;
    struct rcp_options opt;
    struct rcp_client clients[RCP_CLIENTS_MAX];
    int n;
    struct rcp_ticket tickets[RCP_TICKETS_MAX];
    int32_t free_head;
    struct rcp_stats stats;
    bool final_done;
    /* the final queue read: names, then their values */
    char (*names)[NAME_MAX_LEN];
    char (*values)[VALUE_MAX_LEN];
    uint32_t n_names, n_read;
};

/* ---- tickets, recording -------------------------------------------------- */

static struct rcp_ticket *ticket_new(struct rcp_client *c)
{
    struct rcp_run *r = c->run;
    if (r->free_head < 0)
        return NULL;
    struct rcp_ticket *t = &r->tickets[r->free_head];
    r->free_head = t->next_free;
    *t = (struct rcp_ticket){c, c->gen, -2};
    return t;
}

/* Returns the ticket's client if it is still current, and frees the ticket. */
static struct rcp_client *ticket_take(void *arg)
{
    struct rcp_ticket *t = arg;
    struct rcp_client *c = t->c;
    struct rcp_run *r = c->run;
    bool current = t->gen == c->gen;
    t->next_free = r->free_head;
    r->free_head = (int32_t)(t - r->tickets);
    return current ? c : NULL;
}

/* Into the run's history, and written through to its JSON Lines file (if
 * any) at once, so that the file keeps the real-time order. */
static void hist_append(struct rcp_client *c, struct chk_history *h, const struct chk_event *ev)
{
    uint32_t i = chk_history_add(h, ev);
    if (i != CHK_NONE && c->run->opt.history_out) {
        chk_jsonl_write_event(c->run->opt.history_out, h, &h->events[i]);
        fflush(c->run->opt.history_out);
    }
}

static void rec(struct rcp_client *c, enum chk_type type, enum chk_f f, const char *sval,
                const int64_t *ival)
{
    struct chk_history *h = simc_history(c->run->cs);
    if (!h)
        return;
    struct chk_event ev = {.type = type, .f = f, .process = c->process,
                           .session = simc_session(c->cl), .time_ns = (int64_t)simc_now(c->run->cs),
                           .has_time = true, .version = -1};
    ev.key = chk_str_intern(h, c->dir, strlen(c->dir));
    if (sval && sval[0]) {
        ev.sval = chk_str_intern(h, sval, strlen(sval));
        ev.has_value = true;
    }
    if (ival) {
        ev.ival = *ival;
        ev.has_value = true;
    }
    hist_append(c, h, &ev);
    if (type == CHK_INVOKE)
        c->open_f = f;
    else if (f == c->open_f)
        c->open_f = CHK_F_NONE;
}

static bool config_kind(enum chk_f f)
{
    return f == CHK_F_CONFIG_WRITE || f == CHK_F_CONFIG_READ;
}

/* A barrier enter outcome: the round and the number of parties. */
static void rec_enter(struct rcp_client *c, enum chk_type type)
{
    struct chk_history *h = simc_history(c->run->cs);
    if (h) {
        struct chk_event ev = {.type = type, .f = CHK_F_ENTER, .process = c->process,
                               .session = simc_session(c->cl),
                               .time_ns = (int64_t)simc_now(c->run->cs), .has_time = true,
                               .version = -1, .has_value = true, .ival = (int64_t)c->seq,
                               .ival2 = c->parties};
        ev.key = chk_str_intern(h, c->dir, strlen(c->dir));
        hist_append(c, h, &ev);
    }
    c->open_f = type == CHK_INVOKE ? CHK_F_ENTER : CHK_F_NONE;
}

/* Completes the open outcome (if any) as type, with the value it carries. */
static void rec_close(struct rcp_client *c, enum chk_type type)
{
    if (c->open_f == CHK_F_ENTER) {
        rec_enter(c, type);
        return;
    }
    if (c->open_f == CHK_F_NONE)
        return;
    int64_t v = strtoll(c->value, NULL, 10);
    bool has = c->value[0] != 0;
    enum chk_f f = c->open_f;
    rec(c, type, f, config_kind(f) ? NULL : (has ? c->value : NULL), config_kind(f) && has ? &v : NULL);
}

static void rec_state(struct rcp_client *c, int32_t state)
{
    struct chk_history *h = simc_history(c->run->cs);
    if (!h)
        return;
    struct chk_event ev = {.type = CHK_WATCH, .process = c->process, .session = simc_session(c->cl),
                           .time_ns = (int64_t)simc_now(c->run->cs), .has_time = true,
                           .watch_type = CHK_WATCH_NONE, .state = state, .version = -1};
    hist_append(c, h, &ev);
}

/* ---- plumbing: requests, timers, starting over ---------------------------- */

static void begin(struct rcp_client *c);
static void lost(struct rcp_client *c);

static void on_done(void *arg, struct sim_client *cl, const struct simc_result *res)
{
    (void)cl;
    struct rcp_client *c = ticket_take(arg);
    if (!c)
        return;
    if (res->err == ZCONNECTIONLOSS || res->err == ZSESSIONEXPIRED || res->err == ZTHROTTLEDOP) {
        lost(c);
        return;
    }
    rcp_step_fn *next = c->next;
    c->next = NULL;
    next(c, res);
}

/* Issues the result of simc_xxx(..., on_done, t): a refusal is a loss. */
static void issued(struct rcp_client *c, struct rcp_ticket *t, int rc)
{
    if (rc == 0)
        return;
    ticket_take(t);
    lost(c);
}

#define REQUEST(c, step, call)                                   \
    do {                                                         \
        struct rcp_ticket *t_ = ticket_new(c);                   \
        if (!t_) {                                               \
            lost(c);                                             \
            break;                                               \
        }                                                        \
        (c)->next = (step);                                      \
        issued((c), t_, (call));                                 \
    } while (0)

static void on_timer(void *arg)
{
    struct rcp_client *c = ticket_take(arg);
    if (c && c->next) {
        rcp_step_fn *next = c->next;
        c->next = NULL;
        next(c, NULL);
    }
}

/* Runs step after delay (unless the client starts over meanwhile). */
static void after(struct rcp_client *c, sim_time_ns delay, rcp_step_fn *step)
{
    struct rcp_ticket *t = ticket_new(c);
    if (!t)
        return;                      /* pool exhausted: this client stalls (bounded) */
    c->next = step;
    if (simc_after(c->run->cs, delay, on_timer, t) < 0)
        ticket_take(t);
}

static void restart_step(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    begin(c);
}

/* The connection or session is gone, or a request failed oddly: whatever
 * the client believed is over (Curator's rule), start over when connected. */
static void lost(struct rcp_client *c)
{
    rec_close(c, CHK_INFO);
    c->gen++;
    c->holds = false;
    c->reading = c->reread = c->waiting_watch = false;
    c->next = NULL;
    c->run->stats.restarts++;
    enum simc_state st = simc_state(c->cl);
    c->waiting_connect = st != SIMC_CONNECTED;
    if (st == SIMC_CONNECTED)
        after(c, RETRY_NS, restart_step);
    else if (st == SIMC_EXPIRED || st == SIMC_CLOSED || st == SIMC_IDLE)
        simc_connect(c->cl);
}

static void on_state(void *arg, struct sim_client *cl, enum simc_state st)
{
    (void)cl;
    struct rcp_client *c = arg;
    switch (st) {
    case SIMC_CONNECTED:
        rec_state(c, CHK_STATE_SYNC_CONNECTED);
        if (c->waiting_connect) {
            /* not from inside the callback: the client library may still
             * have setWatches to send, which must go before our reads */
            c->waiting_connect = false;
            after(c, 0, restart_step);
        }
        break;
    case SIMC_DISCONNECTED:
        if ((c->run->opt.bugs & RCP_BUG_LOCK_IGNORES_DISCONNECT) && c->role == R_LOCK && c->holds)
            break;                   /* planted bug: keeps acting as holder */
        rec_state(c, CHK_STATE_DISCONNECTED);
        lost(c);
        break;
    case SIMC_EXPIRED:
        rec_state(c, CHK_STATE_EXPIRED);
        lost(c);
        break;
    case SIMC_CLOSED:
        rec_state(c, CHK_STATE_CLOSED);
        lost(c);
        break;
    default:
        break;
    }
}

static bool quiet(const struct rcp_client *c)
{
    const struct rcp_options *o = &c->run->opt;
    return simc_now(c->run->cs) + o->quiet_ns >= o->end_ns;
}

/* A deterministic pause that differs per client, so clients do not move in
 * lock step (no randomness: the recipes own no rng stream). */
static sim_time_ns idle_ns(const struct rcp_client *c)
{
    return c->run->opt.period_ns + (sim_time_ns)(c->idx * 37 % 101) * MS;
}

/* ---- lock and leader election ------------------------------------------- */

static uint64_t seq_of(const char *name)
{
    size_t n = strlen(name);
    return n >= 10 ? strtoull(name + n - 10, NULL, 10) : 0;
}

static void mutex_check(struct rcp_client *c, const struct simc_result *res);
static void mutex_acquire(struct rcp_client *c, const struct simc_result *res);

static enum chk_f mutex_begin_f(const struct rcp_client *c)
{
    return c->role == R_LOCK ? CHK_F_ACQUIRE : CHK_F_LEAD;
}

static void mutex_released(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;                       /* OK or NONODE: either way the node is gone */
    rec(c, CHK_OK, c->role == R_LOCK ? CHK_F_RELEASE : CHK_F_RESIGN, NULL, NULL);
    c->run->stats.releases++;
    c->node[0] = 0;
    after(c, idle_ns(c), mutex_acquire);
}

static void mutex_release(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    c->value[0] = 0;
    rec(c, CHK_INVOKE, c->role == R_LOCK ? CHK_F_RELEASE : CHK_F_RESIGN, NULL, NULL);
    c->holds = false;
    REQUEST(c, mutex_released, simc_delete(c->cl, c->node, -1, on_done, t_));
}

static void mutex_pred_exists(struct rcp_client *c, const struct simc_result *res)
{
    if (res->err == ZNONODE)
        REQUEST(c, mutex_check, simc_get_children(c->cl, c->dir, false, on_done, t_));
    else
        c->waiting_watch = true;     /* until the predecessor's NodeDeleted (on_watch) */
}

static void mutex_check(struct rcp_client *c, const struct simc_result *res)
{
    const char *mine = strrchr(c->node, '/') + 1;
    const char *pred = NULL;
    uint64_t my_seq = seq_of(mine), pred_seq = 0;
    bool present = false;
    for (uint32_t i = 0; res && res->err == ZOK && i < res->n_children; i++) {
        uint64_t s = seq_of(res->children[i]);
        present |= !strcmp(res->children[i], mine);
        if (s < my_seq && (!pred || s > pred_seq)) {
            pred = res->children[i];
            pred_seq = s;
        }
    }
    if (!present) {                  /* our node is gone: the session must be too */
        lost(c);
        return;
    }
    if (!pred) {
        c->holds = true;
        rec(c, CHK_OK, mutex_begin_f(c), NULL, NULL);
        if (c->role == R_LOCK)
            c->run->stats.acquisitions++;
        else
            c->run->stats.leaderships++;
        after(c, c->hold_ns, mutex_release);
        return;
    }
    /* watch only the predecessor: no herd effect when the holder leaves */
    char path[NAME_MAX_LEN + 16];
    snprintf(path, sizeof path, "%s/%s", c->dir, pred);
    REQUEST(c, mutex_pred_exists, simc_exists(c->cl, path, true, on_done, t_));
}

static void mutex_created(struct rcp_client *c, const struct simc_result *res)
{
    if (res->err != ZOK || !res->path) {
        lost(c);
        return;
    }
    snprintf(c->node, sizeof c->node, "%s", res->path);
    REQUEST(c, mutex_check, simc_get_children(c->cl, c->dir, false, on_done, t_));
}

static void mutex_acquire(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    char path[NAME_MAX_LEN];
    snprintf(path, sizeof path, "%s/%s", c->dir, c->prefix);
    c->value[0] = 0;
    rec(c, CHK_INVOKE, mutex_begin_f(c), NULL, NULL);
    REQUEST(c, mutex_created, simc_create(c->cl, path, "", 0, ZOO_EPHEMERAL_SEQUENTIAL, on_done, t_));
}

/* Protected names: after a lost connection our old node may still exist
 * (the session lived on); delete every child with our prefix first, or we
 * would wait behind ourselves. */
static void mutex_cleanup(struct rcp_client *c, const struct simc_result *res)
{
    for (uint32_t i = 0; res && res->err == ZOK && i < res->n_children; i++)
        if (!strncmp(res->children[i], c->prefix, strlen(c->prefix))) {
            char path[NAME_MAX_LEN + 16];
            snprintf(path, sizeof path, "%s/%s", c->dir, res->children[i]);
            REQUEST(c, restart_step, simc_delete(c->cl, path, -1, on_done, t_));
            return;                  /* then list again: one delete at a time */
        }
    mutex_acquire(c, NULL);
}

/* ---- queue ------------------------------------------------------------- */

static void produce(struct rcp_client *c, const struct simc_result *res);

static void produced(struct rcp_client *c, const struct simc_result *res)
{
    /* a server's error reply (not a lost connection: on_done handles those)
     * means the create was refused */
    rec(c, res->err == ZOK ? CHK_OK : CHK_FAIL, CHK_F_ENQUEUE, c->value, NULL);
    if (res->err == ZOK)
        c->run->stats.enqueued++;
    after(c, idle_ns(c), produce);
}

static void produce(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    if (quiet(c))
        return;                      /* the tail is for the final read */
    snprintf(c->value, sizeof c->value, "p%" PRId64 "-%" PRIu64, c->process - RCP_PROCESS_BASE,
             ++c->seq);
    rec(c, CHK_INVOKE, CHK_F_ENQUEUE, c->value, NULL);
    char path[NAME_MAX_LEN];
    snprintf(path, sizeof path, "%s/e-", c->dir);
    REQUEST(c, produced, simc_create(c->cl, path, c->value, (uint32_t)strlen(c->value),
                                     ZOO_PERSISTENT_SEQUENTIAL, on_done, t_));
}

static void consume(struct rcp_client *c, const struct simc_result *res);
static void final_read(struct rcp_client *c, const struct simc_result *res);

static void consume_deleted(struct rcp_client *c, const struct simc_result *res)
{
    if (res->err == ZNONODE) {       /* another consumer took it: look again */
        c->value[0] = 0;
        if (c->open_f == CHK_F_NONE)  /* the planted early record closed it */
            rec(c, CHK_INVOKE, CHK_F_DEQUEUE, NULL, NULL);
        REQUEST(c, consume, simc_get_children(c->cl, c->dir, false, on_done, t_));
        return;
    }
    if (!(c->run->opt.bugs & RCP_BUG_QUEUE_EARLY_DEQUEUE))
        rec(c, CHK_OK, CHK_F_DEQUEUE, c->value, NULL);
    c->run->stats.dequeued++;
    after(c, idle_ns(c), consume);
}

static void consume_got(struct rcp_client *c, const struct simc_result *res)
{
    if (res->err != ZOK) {           /* gone meanwhile */
        REQUEST(c, consume, simc_get_children(c->cl, c->dir, false, on_done, t_));
        return;
    }
    uint32_t n = res->data_len < VALUE_MAX_LEN - 1 ? res->data_len : VALUE_MAX_LEN - 1;
    memcpy(c->value, res->data, n);
    c->value[n] = 0;
    if (c->run->opt.bugs & RCP_BUG_QUEUE_EARLY_DEQUEUE)
        rec(c, CHK_OK, CHK_F_DEQUEUE, c->value, NULL);   /* planted: before the delete */
    REQUEST(c, consume_deleted, simc_delete(c->cl, c->node, -1, on_done, t_));
}

/* res: a getChildren reply, or NULL to start a new dequeue. */
static void consume(struct rcp_client *c, const struct simc_result *res)
{
    if (!res) {
        if (quiet(c)) {
            if (c->idx == 0 && !c->run->final_done)
                after(c, c->run->opt.quiet_ns / 2, final_read);
            return;
        }
        c->value[0] = 0;
        rec(c, CHK_INVOKE, CHK_F_DEQUEUE, NULL, NULL);
        REQUEST(c, consume, simc_get_children(c->cl, c->dir, false, on_done, t_));
        return;
    }
    const char *low = NULL;
    for (uint32_t i = 0; res->err == ZOK && i < res->n_children; i++)
        if (!low || seq_of(res->children[i]) < seq_of(low))
            low = res->children[i];
    if (!low) {
        rec(c, CHK_FAIL, CHK_F_DEQUEUE, NULL, NULL);   /* empty: nothing taken */
        after(c, idle_ns(c), consume);
        return;
    }
    snprintf(c->node, sizeof c->node, "%s/%s", c->dir, low);
    REQUEST(c, consume_got, simc_get_data(c->cl, c->node, false, on_done, t_));
}

static void final_done(struct rcp_client *c)
{
    struct rcp_run *r = c->run;
    struct chk_history *h = simc_history(r->cs);
    chk_str vals[RCP_CHILDREN_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; h && i < r->n_read; i++)
        if (r->values[i][0])
            vals[n++] = chk_str_intern(h, r->values[i], strlen(r->values[i]));
    struct chk_event ev = {.type = CHK_OK, .f = CHK_F_QUEUE_READ, .process = c->process,
                           .session = simc_session(c->cl), .time_ns = (int64_t)simc_now(r->cs),
                           .has_time = true, .version = -1};
    if (h) {
        ev.key = chk_str_intern(h, c->dir, strlen(c->dir));
        ev.children = chk_history_add_names(h, vals, n);
        ev.n_children = ev.children == CHK_NONE ? 0 : n;
        hist_append(c, h, &ev);
    }
    c->open_f = CHK_F_NONE;
    r->final_done = true;
    r->stats.final_reads++;
}

/* One getData after another over the names listed, then the record. */
static void final_value(struct rcp_client *c, const struct simc_result *res)
{
    struct rcp_run *r = c->run;
    if (res) {                       /* the reply for names[n_read] */
        uint32_t len = res->err == ZOK ? res->data_len : 0;   /* NONODE: gone, skip */
        len = len < VALUE_MAX_LEN - 1 ? len : VALUE_MAX_LEN - 1;
        memcpy(r->values[r->n_read], res->data, len);
        r->values[r->n_read++][len] = 0;
    }
    if (r->n_read == r->n_names) {
        final_done(c);
        return;
    }
    char path[2 * NAME_MAX_LEN];
    snprintf(path, sizeof path, "%s/%s", c->dir, r->names[r->n_read]);
    REQUEST(c, final_value, simc_get_data(c->cl, path, false, on_done, t_));
}

static void final_listed(struct rcp_client *c, const struct simc_result *res)
{
    struct rcp_run *r = c->run;
    if (res->err != ZOK || res->n_children > RCP_CHILDREN_MAX) {
        rec(c, CHK_INFO, CHK_F_QUEUE_READ, NULL, NULL);   /* cannot tell: losses not judged */
        r->final_done = true;
        return;
    }
    r->n_names = res->n_children;
    r->n_read = 0;
    for (uint32_t i = 0; i < res->n_children; i++)
        snprintf(r->names[i], NAME_MAX_LEN, "%s", res->children[i]);
    final_value(c, NULL);
}

static void final_synced(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    REQUEST(c, final_listed, simc_get_children(c->cl, c->dir, false, on_done, t_));
}

/* sync first: the read must see every delete committed before it. */
static void final_read(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    if (c->run->final_done)
        return;
    c->value[0] = 0;
    rec(c, CHK_INVOKE, CHK_F_QUEUE_READ, NULL, NULL);
    REQUEST(c, final_synced, simc_sync(c->cl, c->dir, on_done, t_));
}

/* ---- configuration ---------------------------------------------------- */

static void config_write(struct rcp_client *c, const struct simc_result *res);

static void config_written(struct rcp_client *c, const struct simc_result *res)
{
    rec_close(c, res->err == ZOK ? CHK_OK : CHK_INFO);
    c->run->stats.config_writes += res->err == ZOK;
    after(c, idle_ns(c), config_write);
}

static void config_write(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    if (quiet(c))
        return;                      /* the tail lets every watcher catch up */
    snprintf(c->value, sizeof c->value, "%" PRIu64, ++c->seq);
    int64_t v = (int64_t)c->seq;
    rec(c, CHK_INVOKE, CHK_F_CONFIG_WRITE, NULL, &v);
    REQUEST(c, config_written, simc_set_data(c->cl, c->dir, c->value, (uint32_t)strlen(c->value),
                                             -1, on_done, t_));
}

static void config_read(struct rcp_client *c, const struct simc_result *res);

static void config_got(struct rcp_client *c, const struct simc_result *res)
{
    c->reading = false;
    if (res->err != ZOK) {           /* not created yet: look again soon */
        rec(c, CHK_FAIL, CHK_F_CONFIG_READ, NULL, NULL);
        after(c, idle_ns(c), config_read);
        return;
    }
    uint32_t n = res->data_len < VALUE_MAX_LEN - 1 ? res->data_len : VALUE_MAX_LEN - 1;
    memcpy(c->value, res->data, n);
    c->value[n] = 0;
    rec_close(c, CHK_OK);
    c->run->stats.config_reads++;
    if (c->reread) {                 /* a change was announced while we read */
        c->reread = false;
        config_read(c, NULL);
    }
}

static void config_read(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    bool watch = !(c->run->opt.bugs & RCP_BUG_CONFIG_NO_REWATCH) || c->seq++ == 0;
    c->reading = true;
    c->value[0] = 0;
    rec(c, CHK_INVOKE, CHK_F_CONFIG_READ, NULL, NULL);
    REQUEST(c, config_got, simc_get_data(c->cl, c->dir, watch, on_done, t_));
}

static void config_created(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;                       /* OK or NODEEXISTS */
    config_write(c, NULL);
}

/* ---- barrier -------------------------------------------------------- */

static void barrier_round_dir(const struct rcp_client *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s/r%" PRIu64, c->dir, c->seq);
}

static void barrier_enter(struct rcp_client *c, const struct simc_result *res);

static void barrier_passed(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;                       /* ready: OK or NODEEXISTS */
    c->waiting_watch = false;
    rec_close(c, CHK_OK);
    c->run->stats.barrier_passes++;
    c->seq++;
    after(c, c->hold_ns + (sim_time_ns)(c->idx * 37 % 101) * MS, barrier_enter);
}

static void barrier_look(struct rcp_client *c, const struct simc_result *res)
{
    uint32_t members = 0;
    bool ready = false;
    for (uint32_t i = 0; res->err == ZOK && i < res->n_children; i++) {
        ready |= !strcmp(res->children[i], "ready");
        members += strcmp(res->children[i], "ready") != 0;
    }
    int need = c->parties - ((c->run->opt.bugs & RCP_BUG_BARRIER_EARLY) ? 1 : 0);
    if (ready) {
        barrier_passed(c, NULL);
    } else if ((int)members >= need) {
        /* everyone is here: say so for those still waiting, then pass */
        char path[NAME_MAX_LEN];
        barrier_round_dir(c, path, sizeof path);
        strncat(path, "/ready", sizeof path - strlen(path) - 1);
        REQUEST(c, barrier_passed, simc_create(c->cl, path, "", 0, ZOO_PERSISTENT, on_done, t_));
    } else {
        c->waiting_watch = true;     /* NodeChildrenChanged brings us back */
    }
}

static void barrier_joined(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;                       /* OK, or NODEEXISTS: our node from before a lost connection */
    char dir[NAME_MAX_LEN];
    barrier_round_dir(c, dir, sizeof dir);
    REQUEST(c, barrier_look, simc_get_children(c->cl, dir, true, on_done, t_));
}

static void barrier_dir_ready(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;                       /* OK or NODEEXISTS */
    char path[NAME_MAX_LEN];
    barrier_round_dir(c, path, sizeof path);
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%.*s", (int)strlen(c->prefix) - 1,
             c->prefix);
    REQUEST(c, barrier_joined, simc_create(c->cl, path, "", 0, ZOO_EPHEMERAL, on_done, t_));
}

/* Round c->seq: invoke enter, make the round's directory, join it. */
static void barrier_enter(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;
    if (quiet(c))
        return;
    rec_enter(c, CHK_INVOKE);
    char dir[NAME_MAX_LEN];
    barrier_round_dir(c, dir, sizeof dir);
    REQUEST(c, barrier_dir_ready, simc_create(c->cl, dir, "", 0, ZOO_PERSISTENT, on_done, t_));
}

/* ---- starting, watches ------------------------------------------------ */

static void on_watch(void *arg, struct sim_client *cl, int32_t type, const char *path)
{
    (void)cl;
    (void)path;
    struct rcp_client *c = arg;
    if ((c->role == R_LOCK || c->role == R_LEADER) && c->waiting_watch && type == ZOO_EVENT_DELETED) {
        c->waiting_watch = false;
        REQUEST(c, mutex_check, simc_get_children(c->cl, c->dir, false, on_done, t_));
    } else if (c->role == R_BARRIER && c->waiting_watch && type == ZOO_EVENT_CHILD_CHANGED) {
        c->waiting_watch = false;
        barrier_joined(c, NULL);
    } else if (c->role == R_CFG_WATCHER && !(c->run->opt.bugs & RCP_BUG_CONFIG_NO_REWATCH)
               && (type == ZOO_EVENT_DATA_CHANGED || type == ZOO_EVENT_CREATED)) {
        if (c->reading)
            c->reread = true;
        else if (!c->next)
            config_read(c, NULL);
    }
}

static void parent_ready(struct rcp_client *c, const struct simc_result *res)
{
    (void)res;                       /* OK or NODEEXISTS: the parent is there */
    switch (c->role) {
    case R_LOCK: case R_LEADER:
        REQUEST(c, mutex_cleanup, simc_get_children(c->cl, c->dir, false, on_done, t_));
        break;
    case R_PRODUCER: produce(c, NULL); break;
    case R_CONSUMER: consume(c, NULL); break;
    case R_CFG_WRITER:
        REQUEST(c, config_created, simc_create(c->cl, c->dir, "0", 1, ZOO_PERSISTENT, on_done, t_));
        break;
    case R_CFG_WATCHER: config_read(c, NULL); break;
    case R_BARRIER: barrier_enter(c, NULL); break;
    }
}

/* (Re)starts the client's recipe from the top, in its current session. */
static void begin(struct rcp_client *c)
{
    c->gen++;
    c->next = NULL;
    if (c->role == R_CFG_WATCHER || c->role == R_CFG_WRITER) {
        parent_ready(c, NULL);       /* /config is the recipe's node itself */
        return;
    }
    REQUEST(c, parent_ready, simc_create(c->cl, c->dir, "", 0, ZOO_PERSISTENT, on_done, t_));
}

int rcp_clients_needed(const struct scn_recipe *recipes, int n_recipes)
{
    int n = 0;
    for (int i = 0; i < n_recipes; i++)
        n += (int)recipes[i].clients;
    return n;
}

static void role_of(enum scn_recipe_kind k, int idx, int n, enum rcp_role *role, const char **dir)
{
    switch (k) {
    case SCN_RECIPE_LOCK: *role = R_LOCK; *dir = "/lock"; break;
    case SCN_RECIPE_LEADER_ELECTION: *role = R_LEADER; *dir = "/election"; break;
    case SCN_RECIPE_BARRIER: *role = R_BARRIER; *dir = "/barrier"; break;
    case SCN_RECIPE_QUEUE:           /* half producers (at least one), the rest consumers */
        *role = idx < (n + 1) / 2 ? R_PRODUCER : R_CONSUMER;
        *dir = "/q";
        break;
    default:
        *role = idx == 0 ? R_CFG_WRITER : R_CFG_WATCHER;
        *dir = "/config";
        break;
    }
}

static void client_init(struct rcp_run *r, struct rcp_client *c, const struct scn_recipe *rec,
                        int idx, struct sim_client *cl)
{
    enum scn_recipe_kind k = rec->kind;
    int n = (int)rec->clients;
    memset(c, 0, sizeof *c);
    c->hold_ns = rec->hold_ns ? rec->hold_ns : r->opt.hold_ns;
    c->parties = n;
    c->run = r;
    c->cl = cl;
    c->idx = idx;
    c->process = RCP_PROCESS_BASE + simc_process(cl);
    role_of(k, idx, n, &c->role, &c->dir);
    if (c->role == R_CONSUMER)       /* consumer 0 does the final read */
        c->idx = idx - (n + 1) / 2;
    snprintf(c->prefix, sizeof c->prefix, "c%d-", simc_index(cl));
    c->waiting_connect = true;
    simc_set_callbacks(cl, on_state, on_watch, c);
}

struct rcp_run *rcp_start(struct sim_clients *cs, const struct scn_recipe *recipes, int n_recipes,
                          int first_client, const struct rcp_options *opt)
{
    int need = rcp_clients_needed(recipes, n_recipes);
    if (!cs || n_recipes < 0 || need > RCP_CLIENTS_MAX || first_client < 0
        || first_client + need > simc_count(cs))
        return NULL;
    struct rcp_run *r = calloc(1, sizeof *r);
    if (r) {
        r->names = calloc(RCP_CHILDREN_MAX, sizeof *r->names);
        r->values = calloc(RCP_CHILDREN_MAX, sizeof *r->values);
    }
    if (!r || !r->names || !r->values) {
        rcp_free(r);
        return NULL;
    }
    r->cs = cs;
    r->opt = *opt;
    r->opt.hold_ns = opt->hold_ns ? opt->hold_ns : 400 * MS;
    r->opt.period_ns = opt->period_ns ? opt->period_ns : 150 * MS;
    r->opt.quiet_ns = opt->quiet_ns ? opt->quiet_ns : 3000 * MS;
    for (int i = 0; i < RCP_TICKETS_MAX; i++)
        r->tickets[i].next_free = i + 1 < RCP_TICKETS_MAX ? i + 1 : -1;
    for (int i = 0, next = first_client; i < n_recipes; i++) {
        for (int j = 0; j < (int)recipes[i].clients; j++)
            client_init(r, &r->clients[r->n++], &recipes[i], j, simc_get(cs, next++));
    }
    for (int i = 0; i < r->n; i++)
        simc_connect(r->clients[i].cl);
    return r;
}

void rcp_free(struct rcp_run *r)
{
    if (!r)
        return;
    free(r->names);
    free(r->values);
    free(r);
}

int rcp_lock_holder(const struct rcp_run *r)
{
    for (int i = 0; r && i < r->n; i++)
        if (r->clients[i].role == R_LOCK && r->clients[i].holds)
            return simc_index(r->clients[i].cl);
    return -1;
}

const struct rcp_stats *rcp_stats(const struct rcp_run *r)
{
    return &r->stats;
}

/* ---- the scenario runner's hook ------------------------------------------ */

struct recipes {
    struct sim_clients *cs;
    struct rcp_run *run;
};

int recipes_attach(const struct scenario *s, struct sim_clients *cs, int first,
                   FILE *history_out, struct recipes **out, char *err, size_t errlen)
{
    *out = NULL;
    if (rcp_clients_needed(s->recipes, s->recipe_count) == 0)
        return 0;
    struct rcp_options opt = {.end_ns = s->run_ns, .quiet_ns = s->run_ns / 3,
                              .history_out = history_out};
    if (opt.quiet_ns > 3000 * MS)
        opt.quiet_ns = 3000 * MS;
    struct recipes *r = calloc(1, sizeof *r);
    if (r)
        r->run = rcp_start(cs, s->recipes, s->recipe_count, first, &opt);
    if (!r || !r->run) {
        free(r);
        snprintf(err, errlen, "%.200s: cannot start the recipes (%d clients from client %d)",
                 s->filename, rcp_clients_needed(s->recipes, s->recipe_count), first);
        return -1;
    }
    r->cs = cs;
    *out = r;
    return 0;
}

static int judged_recipe(enum scn_expect_kind kind)
{
    switch (kind) {
    case SCN_EXPECT_LOCK_EXCLUSIVE: return CHK_RECIPE_LOCK;
    case SCN_EXPECT_QUEUE_EXACT: return CHK_RECIPE_QUEUE;
    case SCN_EXPECT_CONFIG_CONVERGES: return CHK_RECIPE_CONFIG;
    case SCN_EXPECT_LEADER_UNIQUE: return CHK_RECIPE_LEADER;
    case SCN_EXPECT_BARRIER_SYNC: return CHK_RECIPE_BARRIER;
    default: return -1;
    }
}

enum srun_verdict recipes_judge(struct recipes *r, enum scn_expect_kind kind, char *detail,
                                size_t len)
{
    int k = judged_recipe(kind);
    if (k < 0 || !r) {
        snprintf(detail, len, "%s", k < 0 ? "not a recipe expectation"
                                          : "no recipe clients ran in this run");
        return SRUN_NOT_JUDGED;
    }
    struct chk_history *h = simc_history(r->cs);
    static struct chk_recipe_result res;   /* 1 KiB message; runs are sequential */
    enum chk_verdict v = h ? chk_recipe_check(h, (enum chk_recipe_kind)k, &res) : CHK_VERDICT_INTERNAL;
    snprintf(detail, len, "%s", h ? res.msg : "no client history");
    return v == CHK_VERDICT_OK ? SRUN_PASS : v == CHK_VERDICT_VIOLATION ? SRUN_FAIL : SRUN_NOT_JUDGED;
}

int recipes_lock_holder(const struct recipes *r)
{
    return r ? rcp_lock_holder(r->run) : -1;
}

void recipes_free(struct recipes *r)
{
    if (!r)
        return;
    rcp_free(r->run);
    free(r);
}
