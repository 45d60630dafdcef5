/* The simulated TCP-like network: per-link rings of in-flight messages,
 * connection generations, and the faults that break connections. All
 * randomness comes from the one stream passed at init, drawn in a fixed
 * order per send (loss, latency, reorder, duplicate), so a run's network
 * behaviour is a pure function of that stream and the call sequence. */
#include "net-model/net.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_CAP_MIN 8u
#define BUF_CAP_MIN 256u

static bool valid_endpoint(const struct net *n, int e) { return e >= 0 && e < n->n; }

static struct net_link *link_of(struct net *n, int from, int to)
{
    return &n->links[(size_t)from * (size_t)n->n + (size_t)to];
}

static struct net_conn *conn_of(struct net *n, int a, int b)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    return &n->conns[(size_t)lo * (size_t)n->n + (size_t)hi];
}

static int set_err(struct net *n, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int set_err(struct net *n, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->err, sizeof n->err, fmt, ap);
    va_end(ap);
    return rc;
}

int net_init(struct net *n, const struct net_config *cfg, struct sim_sched *sched,
             struct sim_rng *rng, char *err, size_t err_cap)
{
    *n = (struct net){0};
    if (cfg->endpoints < 2 || cfg->endpoints > NET_ENDPOINTS_MAX) {
        snprintf(err, err_cap, "net: %d endpoints (must be 2..%d)", cfg->endpoints, NET_ENDPOINTS_MAX);
        return -1;
    }
    if (cfg->msg_bytes_max == 0 || cfg->msg_bytes_max > (1u << 30) || cfg->bytes_max < cfg->msg_bytes_max) {
        snprintf(err, err_cap, "net: msg_bytes_max must be 1..2^30 and <= bytes_max");
        return -1;
    }
    if (!(cfg->loss_p >= 0 && cfg->loss_p <= 1)) {
        snprintf(err, err_cap, "net: loss probability must be in [0, 1]");
        return -1;
    }
    size_t e = (size_t)cfg->endpoints;
    n->cfg = *cfg;
    n->sched = sched;
    n->rng = rng;
    n->n = cfg->endpoints;
    n->links = calloc(e * e, sizeof *n->links);
    n->conns = calloc(e * e, sizeof *n->conns);
    n->cut = calloc(e * e, 1);
    n->down = calloc(e, 1);
    n->scratch = malloc(cfg->msg_bytes_max);
    if (!n->links || !n->conns || !n->cut || !n->down || !n->scratch) {
        net_free(n);
        snprintf(err, err_cap, "net: out of memory for %d endpoints", cfg->endpoints);
        return -1;
    }
    for (size_t i = 0; i < e * e; i++) {
        n->links[i].latency = cfg->latency;
        n->links[i].loss_p = cfg->loss_p;
    }
    return 0;
}

void net_free(struct net *n)
{
    if (n->links)
        for (size_t i = 0; i < (size_t)n->n * (size_t)n->n; i++) {
            free(n->links[i].msgs);
            free(n->links[i].buf);
        }
    free(n->links);
    free(n->conns);
    free(n->cut);
    free(n->down);
    free(n->scratch);
    *n = (struct net){0};
}

/* ---- rings ---- */

static uint32_t pow2_at_least(uint32_t x, uint32_t min)
{
    uint32_t c = min;
    while (c < x)
        c *= 2;
    return c;
}

static int grow_msgs(struct net *n, struct net_link *l)
{
    uint32_t cap = l->msg_cap ? l->msg_cap * 2 : MSG_CAP_MIN;
    size_t extra = (size_t)(cap - l->msg_cap) * sizeof *l->msgs;
    if (n->bytes_used + extra > n->cfg.bytes_max)
        return -1;
    struct net_msg *m = malloc((size_t)cap * sizeof *m);
    if (!m)
        return -1;
    for (uint32_t i = 0; i < l->msg_count; i++)
        m[i] = l->msgs[(l->msg_head + i) & (l->msg_cap - 1)];
    free(l->msgs);
    l->msgs = m;
    l->msg_head = 0;
    l->msg_cap = cap;
    n->bytes_used += extra;
    return 0;
}

/* Copies the live bytes to a bigger ring, rebasing every header's offset. */
static int grow_buf(struct net *n, struct net_link *l, uint32_t need)
{
    uint32_t cap = pow2_at_least(l->buf_used + need, l->buf_cap ? l->buf_cap * 2 : BUF_CAP_MIN);
    size_t extra = cap - l->buf_cap;
    if (n->bytes_used + extra > n->cfg.bytes_max)
        return -1;
    uint8_t *b = malloc(cap);
    if (!b)
        return -1;
    uint32_t first = l->buf_cap - l->buf_head < l->buf_used ? l->buf_cap - l->buf_head : l->buf_used;
    if (l->buf_used) {
        memcpy(b, l->buf + l->buf_head, first);
        memcpy(b + first, l->buf, l->buf_used - first);
    }
    for (uint32_t i = 0; i < l->msg_count; i++) {
        struct net_msg *m = &l->msgs[(l->msg_head + i) & (l->msg_cap - 1)];
        m->off = (m->off - l->buf_head) & (l->buf_cap - 1);
    }
    free(l->buf);
    l->buf = b;
    l->buf_head = 0;
    l->buf_cap = cap;
    n->bytes_used += extra;
    return 0;
}

static void ring_write(struct net_link *l, uint32_t off, const uint8_t *src, uint32_t len)
{
    uint32_t first = l->buf_cap - off < len ? l->buf_cap - off : len;
    memcpy(l->buf + off, src, first);
    memcpy(l->buf, src + first, len - first);
}

static void ring_release_memory_if_big(struct net *n, struct net_link *l)
{
    if (l->msg_count == 0 && l->buf_cap > NET_RING_KEEP_BYTES) {
        n->bytes_used -= l->buf_cap;
        free(l->buf);
        l->buf = NULL;
        l->buf_cap = l->buf_head = l->buf_used = 0;
    }
}

/* Appends a message; returns its header or NULL at the memory bound. */
static struct net_msg *ring_push(struct net *n, struct net_link *l, uint8_t kind, const void *bytes,
                                 uint32_t len)
{
    if (len <= NET_RING_KEEP_BYTES)
        ring_release_memory_if_big(n, l);
    if (l->msg_count == l->msg_cap && grow_msgs(n, l) != 0)
        return NULL;
    if (l->buf_cap - l->buf_used < len && grow_buf(n, l, len) != 0)
        return NULL;
    uint32_t off = l->buf_cap ? (l->buf_head + l->buf_used) & (l->buf_cap - 1) : 0;
    if (len)
        ring_write(l, off, bytes, len);
    l->buf_used += len;
    struct net_msg *m = &l->msgs[(l->msg_head + l->msg_count) & (l->msg_cap - 1)];
    *m = (struct net_msg){.off = off, .len = len, .pending = 1, .kind = kind};
    l->msg_count++;
    return m;
}

/* Undoes the last ring_push (the scheduler refused its event). */
static void ring_unpush(struct net_link *l)
{
    assert(l->msg_count > 0);
    l->msg_count--;
    l->buf_used -= l->msgs[(l->msg_head + l->msg_count) & (l->msg_cap - 1)].len;
}

/* Frees the leading run of finished messages. */
static void ring_advance(struct net_link *l)
{
    while (l->msg_count > 0) {
        struct net_msg *m = &l->msgs[l->msg_head];
        if (m->pending > 0 || m->held > 0)
            break;
        l->buf_head = l->buf_cap ? (l->buf_head + m->len) & (l->buf_cap - 1) : 0;
        l->buf_used -= m->len;
        l->msg_head = (l->msg_head + 1) & (l->msg_cap - 1);
        l->msg_count--;
        l->seq_head++;
    }
}

/* Loses everything in flight on the link: counted once, here. */
static void ring_clear(struct net *n, struct net_link *l)
{
    for (uint32_t i = 0; i < l->msg_count; i++) {
        const struct net_msg *m = &l->msgs[(l->msg_head + i) & (l->msg_cap - 1)];
        if (m->pending > 0 || m->held > 0)
            l->stats.lost++;
    }
    l->seq_head += l->msg_count;
    l->msg_count = 0;
    l->released_pending = 0;
    l->msg_head = 0;
    l->buf_head = l->buf_used = 0;
    l->last_deliver_ns = 0;
    ring_release_memory_if_big(n, l);
}

/* ---- connections ---- */

bool net_reachable(const struct net *n, int from, int to)
{
    if (n->down[from] || n->down[to])
        return false;
    return !n->cut[(size_t)from * (size_t)n->n + (size_t)to];
}

static int notify(struct net *n, sim_time_ns now, int who, int peer, uint32_t gen)
{
    if (n->down[who])
        return 0;
    sim_time_ns t = now + n->cfg.break_notice_ns;
    if (sim_sched_push(n->sched, t, n->cfg.ev_broken, who, (uint64_t)peer, gen) != SIM_SCHED_OK)
        return set_err(n, NET_ERR_SCHED, "net: scheduler refused a broken notice for %d (peer %d)", who, peer);
    return 0;
}

/* Breaks the a<->b connection: in-flight lost both ways, generation bumped,
 * both ends (if up) told. */
static int conn_break(struct net *n, sim_time_ns now, int a, int b)
{
    struct net_conn *c = conn_of(n, a, b);
    struct net_link *ab = link_of(n, a, b), *ba = link_of(n, b, a);
    ring_clear(n, ab);
    ring_clear(n, ba);
    ab->stats.breaks++;
    ba->stats.breaks++;
    uint32_t ended = c->generation++;
    c->open = false;
    int rc = notify(n, now, a, b, ended);
    return rc ? rc : notify(n, now, b, a, ended);
}

/* Breaks every open connection that the current fault state blocks. */
static int break_blocked(struct net *n, sim_time_ns now)
{
    for (int a = 0; a < n->n; a++)
        for (int b = a + 1; b < n->n; b++) {
            if (!conn_of(n, a, b)->open)
                continue;
            if (net_reachable(n, a, b) && net_reachable(n, b, a))
                continue;
            int rc = conn_break(n, now, a, b);
            if (rc)
                return rc;
        }
    return 0;
}

/* A message lost at send: an open connection breaks; a closed one was a
 * failed connect, which only the sender notices. */
static enum net_status lose_at_send(struct net *n, sim_time_ns now, int from, int to)
{
    link_of(n, from, to)->stats.lost++;
    struct net_conn *c = conn_of(n, from, to);
    int rc = c->open ? conn_break(n, now, from, to) : notify(n, now, from, to, c->generation);
    return rc ? (enum net_status)rc : NET_LOST_AT_SEND;
}

/* ---- send / deliver ---- */

/* A huge clog saturates at "never" instead of wrapping into the past. */
static sim_time_ns sat_add(sim_time_ns a, sim_time_ns b)
{
    return a > SIM_TIME_NEVER - b ? SIM_TIME_NEVER : a + b;
}

static sim_time_ns delivery_time(struct net *n, struct net_link *l, sim_time_ns now, bool fifo)
{
    sim_time_ns t = sat_add(now, net_latency_sample(&l->latency, n->rng));
    if (now < l->clog_until_ns)
        t = sat_add(t, l->clog_extra_ns);
    if (fifo && t < l->last_deliver_ns)
        t = l->last_deliver_ns;
    if (t > l->last_deliver_ns)
        l->last_deliver_ns = t;
    return t;
}

static enum net_status schedule_copy(struct net *n, struct net_link *l, sim_time_ns now, int to,
                                     uint64_t link, uint64_t seq, bool fifo)
{
    sim_time_ns t = delivery_time(n, l, now, fifo);
    if (sim_sched_push(n->sched, t, n->cfg.ev_deliver, to, link, seq) != SIM_SCHED_OK)
        return (enum net_status)set_err(n, NET_ERR_SCHED, "net: scheduler refused a delivery %d->%d",
                                        (int)(link / (uint64_t)n->n), to);
    return NET_OK;
}

static enum net_status enqueue(struct net *n, sim_time_ns now, int from, int to, uint8_t kind,
                               const void *bytes, uint32_t len)
{
    struct net_link *l = link_of(n, from, to);
    struct net_msg *m = ring_push(n, l, kind, bytes, len);
    if (!m)
        return (enum net_status)set_err(n, NET_ERR_FULL,
                                        "net: in-flight memory bound (bytes_max) reached on link %d->%d", from, to);
    uint64_t link = net_link_id(n, from, to), seq = l->seq_head + l->msg_count - 1;
    bool reorder = n->reorder_p > 0 && sim_rng_chance(n->rng, n->reorder_p);
    enum net_status st = schedule_copy(n, l, now, to, link, seq, !reorder);
    if (st != NET_OK) {
        ring_unpush(l);
        return st;
    }
    if (n->dup_p > 0 && sim_rng_chance(n->rng, n->dup_p)) {
        st = schedule_copy(n, l, now, to, link, seq, false);
        if (st != NET_OK)
            return st;
        m->pending++;
        l->stats.duplicated++;
    }
    conn_of(n, from, to)->open = true;
    return NET_OK;
}

enum net_status net_send(struct net *n, sim_time_ns now, int from, int to, const void *bytes,
                         size_t len)
{
    return net_send_kind(n, now, from, to, 0, bytes, len);
}

enum net_status net_send_kind(struct net *n, sim_time_ns now, int from, int to, uint32_t kind,
                              const void *bytes, size_t len)
{
    if (!valid_endpoint(n, from) || !valid_endpoint(n, to) || from == to)
        return (enum net_status)set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d->%d", from, to);
    if (kind >= NET_KINDS_MAX)
        return (enum net_status)set_err(n, NET_ERR_CONFIG, "net: message kind %u >= %d", kind, NET_KINDS_MAX);
    if (len > n->cfg.msg_bytes_max)
        return (enum net_status)set_err(n, NET_ERR_TOO_BIG, "net: message %d->%d longer than msg_bytes_max",
                                        from, to);
    struct net_link *l = link_of(n, from, to);
    l->stats.sent++;
    l->stats.bytes_sent += len;
    if (!net_reachable(n, from, to))
        return lose_at_send(n, now, from, to);
    if (l->loss_p > 0 && sim_rng_chance(n->rng, l->loss_p))
        return lose_at_send(n, now, from, to);
    return enqueue(n, now, from, to, (uint8_t)kind, bytes, (uint32_t)len);
}

static const uint8_t *message_bytes(struct net *n, const struct net_link *l, const struct net_msg *m)
{
    if (m->len == 0)
        return n->scratch;
    if (m->off + m->len <= l->buf_cap)
        return l->buf + m->off;
    uint32_t first = l->buf_cap - m->off;
    memcpy(n->scratch, l->buf + m->off, first);
    memcpy(n->scratch + first, l->buf, m->len - first);
    return n->scratch;
}

/* Whether a message before ring index idx, of the same kind, has a
 * released delivery still to come. */
static bool released_before(const struct net_link *l, uint32_t idx, uint8_t kind)
{
    for (uint32_t i = 0; i < idx; i++) {
        const struct net_msg *m = &l->msgs[(l->msg_head + i) & (l->msg_cap - 1)];
        if (m->kind == kind && m->released > 0)
            return true;
    }
    return false;
}

enum net_outcome net_deliver(struct net *n, const struct sim_event *ev, int *from, int *to,
                             const uint8_t **bytes, size_t *len)
{
    assert(ev->kind == n->cfg.ev_deliver);
    assert(ev->a < (uint64_t)n->n * (uint64_t)n->n);
    *from = (int)(ev->a / (uint64_t)n->n);
    *to = (int)(ev->a % (uint64_t)n->n);
    struct net_link *l = &n->links[ev->a];
    if (ev->b < l->seq_head)
        return NET_LOST; /* its connection broke; counted then */
    assert(ev->b - l->seq_head < l->msg_count);
    /* Every fault that blocks a path breaks the connections on it, so a
     * message still queued here is on a reachable path. */
    assert(net_reachable(n, *from, *to));
    uint32_t idx = (uint32_t)(ev->b - l->seq_head);
    struct net_msg *m = &l->msgs[(l->msg_head + idx) & (l->msg_cap - 1)];
    assert(m->pending > 0);
    if (m->released > 0) {
        m->released--;
        l->released_pending--;
    } else if (l->released_pending > 0 && released_before(l, idx, m->kind) &&
               sim_sched_push(n->sched, ev->time, ev->kind, ev->node, ev->a, ev->b) == SIM_SCHED_OK) {
        /* An earlier message of its kind was just released and is due at
         * this same instant: go after it, so each kind stays in order. */
        return NET_HELD;
    }
    m->pending--;
    if ((l->hold_mask >> m->kind) & 1) {
        m->held++;
        l->stats.held++;
        return NET_HELD;
    }
    l->stats.delivered++;
    l->stats.bytes_delivered += m->len;
    *len = m->len;
    /* Copy out before advancing: the pointer stays valid until the next
     * send writes into the freed space. */
    *bytes = message_bytes(n, l, m);
    ring_advance(l);
    return NET_DELIVERED;
}

/* ---- faults ---- */

int net_drop(struct net *n, sim_time_ns now, int a, int b)
{
    if (!valid_endpoint(n, a) || !valid_endpoint(n, b) || a == b)
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d<->%d", a, b);
    return conn_break(n, now, a, b);
}

int net_partition(struct net *n, sim_time_ns now, const int *group_of)
{
    for (int a = 0; a < n->n; a++)
        for (int b = 0; b < n->n; b++)
            if (group_of[a] >= 0 && group_of[b] >= 0 && group_of[a] != group_of[b])
                n->cut[(size_t)a * (size_t)n->n + (size_t)b] = 1;
    return break_blocked(n, now);
}

int net_partition_groups(struct net *n, sim_time_ns now, const int *const *groups,
                         const size_t *lens, size_t ngroups)
{
    int *g = malloc((size_t)n->n * sizeof *g);
    if (!g)
        return set_err(n, NET_ERR_CONFIG, "net: out of memory");
    for (int e = 0; e < n->n; e++)
        g[e] = NET_GROUP_NONE;
    int rc = 0;
    for (size_t i = 0; i < ngroups && rc == 0; i++)
        for (size_t j = 0; j < lens[i] && rc == 0; j++) {
            int e = groups[i][j];
            if (!valid_endpoint(n, e))
                rc = set_err(n, NET_ERR_ENDPOINT, "net: partition group %d names endpoint %d, out of range",
                             (int)i, e);
            else if (g[e] != NET_GROUP_NONE)
                rc = set_err(n, NET_ERR_CONFIG, "net: endpoint %d is in two partition groups (%d and more)",
                             e, g[e]);
            else
                g[e] = (int)i;
        }
    if (rc == 0)
        rc = net_partition(n, now, g);
    free(g);
    return rc;
}

int net_block(struct net *n, sim_time_ns now, int from, int to)
{
    if (!valid_endpoint(n, from) || !valid_endpoint(n, to) || from == to)
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d->%d", from, to);
    n->cut[(size_t)from * (size_t)n->n + (size_t)to] = 1;
    return break_blocked(n, now);
}

void net_heal(struct net *n)
{
    memset(n->cut, 0, (size_t)n->n * (size_t)n->n);
    for (size_t i = 0; i < (size_t)n->n * (size_t)n->n; i++)
        n->links[i].clog_extra_ns = n->links[i].clog_until_ns = 0;
}

int net_clog(struct net *n, int a, int b, sim_time_ns extra_ns, sim_time_ns until)
{
    if (!valid_endpoint(n, a) || !valid_endpoint(n, b) || a == b)
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d<->%d", a, b);
    struct net_link *ab = link_of(n, a, b), *ba = link_of(n, b, a);
    ab->clog_extra_ns = ba->clog_extra_ns = extra_ns;
    ab->clog_until_ns = ba->clog_until_ns = until;
    return 0;
}

int net_hold(struct net *n, int from, int to, uint64_t kind_mask)
{
    if (!valid_endpoint(n, from) || !valid_endpoint(n, to) || from == to)
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d->%d", from, to);
    link_of(n, from, to)->hold_mask |= kind_mask;
    return 0;
}

int net_release(struct net *n, sim_time_ns now, int from, int to, uint64_t kind_mask)
{
    if (!valid_endpoint(n, from) || !valid_endpoint(n, to) || from == to)
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d->%d", from, to);
    struct net_link *l = link_of(n, from, to);
    l->hold_mask &= ~kind_mask;
    uint64_t link = net_link_id(n, from, to);
    /* Ring order is send order, and equal times pop in push order. */
    for (uint32_t i = 0; i < l->msg_count; i++) {
        struct net_msg *m = &l->msgs[(l->msg_head + i) & (l->msg_cap - 1)];
        if (m->held == 0 || !((kind_mask >> m->kind) & 1))
            continue;
        for (; m->held > 0; m->held--, m->pending++, m->released++, l->released_pending++)
            if (sim_sched_push(n->sched, now, n->cfg.ev_deliver, to, link, l->seq_head + i) != SIM_SCHED_OK)
                return set_err(n, NET_ERR_SCHED, "net: scheduler refused a release %d->%d", from, to);
    }
    /* Later messages may not overtake what was just released. */
    if (l->last_deliver_ns < now)
        l->last_deliver_ns = now;
    return 0;
}

int net_endpoint_down(struct net *n, sim_time_ns now, int e)
{
    if (!valid_endpoint(n, e))
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoint %d", e);
    n->down[e] = 1;
    return break_blocked(n, now);
}

int net_endpoint_up(struct net *n, int e)
{
    if (!valid_endpoint(n, e))
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoint %d", e);
    n->down[e] = 0;
    return 0;
}

/* Applies fn to every link matching from/to (either may be NET_ANY). */
static int for_links(struct net *n, int from, int to, void (*fn)(struct net_link *, const void *),
                     const void *arg)
{
    if ((from != NET_ANY && !valid_endpoint(n, from)) || (to != NET_ANY && !valid_endpoint(n, to)))
        return set_err(n, NET_ERR_ENDPOINT, "net: bad endpoints %d->%d", from, to);
    for (int f = 0; f < n->n; f++)
        for (int t = 0; t < n->n; t++)
            if ((from == NET_ANY || f == from) && (to == NET_ANY || t == to) && f != t)
                fn(link_of(n, f, t), arg);
    return 0;
}

static void put_latency(struct net_link *l, const void *arg) { l->latency = *(const struct net_latency *)arg; }
static void put_loss(struct net_link *l, const void *arg) { l->loss_p = *(const double *)arg; }

int net_set_latency(struct net *n, int from, int to, const struct net_latency *lat)
{
    return for_links(n, from, to, put_latency, lat);
}

int net_set_loss(struct net *n, int from, int to, double p)
{
    if (!(p >= 0 && p <= 1))
        return set_err(n, NET_ERR_CONFIG, "net: loss probability out of [0, 1] on %d->%d", from, to);
    return for_links(n, from, to, put_loss, &p);
}

void net_set_broken(struct net *n, double dup_p, double reorder_p)
{
    n->dup_p = dup_p > 0 ? dup_p : 0;
    n->reorder_p = reorder_p > 0 ? reorder_p : 0;
}

/* ---- inspection ---- */

uint32_t net_generation(const struct net *n, int a, int b)
{
    return conn_of((struct net *)n, a, b)->generation;
}

bool net_connection_open(const struct net *n, int a, int b)
{
    return conn_of((struct net *)n, a, b)->open;
}

const struct net_link_stats *net_stats(const struct net *n, int from, int to)
{
    return &n->links[(size_t)from * (size_t)n->n + (size_t)to].stats;
}

struct net_link_stats net_stats_total(const struct net *n)
{
    struct net_link_stats t = {0};
    for (size_t i = 0; i < (size_t)n->n * (size_t)n->n; i++) {
        const struct net_link_stats *s = &n->links[i].stats;
        t.sent += s->sent;
        t.delivered += s->delivered;
        t.lost += s->lost;
        t.duplicated += s->duplicated;
        t.bytes_sent += s->bytes_sent;
        t.bytes_delivered += s->bytes_delivered;
        t.breaks += s->breaks;
        t.held += s->held;
    }
    return t;
}

uint32_t net_in_flight(const struct net *n, int from, int to)
{
    const struct net_link *l = &n->links[(size_t)from * (size_t)n->n + (size_t)to];
    uint32_t c = 0;
    for (uint32_t i = 0; i < l->msg_count; i++) {
        const struct net_msg *m = &l->msgs[(l->msg_head + i) & (l->msg_cap - 1)];
        c += m->pending > 0 || m->held > 0;
    }
    return c;
}

const char *net_status_str(enum net_status st)
{
    switch (st) {
    case NET_OK: return "ok";
    case NET_LOST_AT_SEND: return "message lost at send (connection broke)";
    case NET_ERR_ENDPOINT: return "bad endpoint";
    case NET_ERR_TOO_BIG: return "message larger than msg_bytes_max";
    case NET_ERR_FULL: return "network in-flight memory bound reached (raise bytes_max)";
    case NET_ERR_SCHED: return "scheduler refused an event (raise its capacity)";
    case NET_ERR_CONFIG: return "bad network configuration";
    }
    return "unknown";
}
