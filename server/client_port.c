/* client_port: see client_port.h. Connections are addressed by the id the
 * core knows them by; a slot's id changes every time it is reused, so a late
 * output for a closed connection never reaches its successor. */
#include "server/client_port.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"

/* ---- reply text ------------------------------------------------------------------ */

struct text {
    char *p;
    size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

static unsigned long long open_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    unsigned long long n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;   /* minus the one opendir holds */
}

/* Latencies as ZooKeeper prints them: min and max in whole ms, avg in ms
 * with decimals (monitoring scripts parse min and max as integers); the
 * precise values are in mntr's zablab_*_latency_ns. All 0 before the first
 * reply. */
static double lat_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static unsigned long long lat_whole_ms(uint64_t ns)
{
    return (unsigned long long)(ns / 1000000u);
}

static double lat_avg_ms(const struct cport_latency *l)
{
    return l->count ? lat_ms(l->total_ns) / (double)l->count : 0.0;
}

static void server_stats(const struct cport *c, const struct cport_view *v, struct text *t)
{
    add(t, "Latency min/avg/max: %llu/%.4f/%llu\n", lat_whole_ms(c->lat.min_ns),
        lat_avg_ms(&c->lat), lat_whole_ms(c->lat.max_ns));
    add(t, "Received: %llu\n", (unsigned long long)c->packets_received);
    add(t, "Sent: %llu\n", (unsigned long long)c->packets_sent);
    add(t, "Connections: %u\n", v->connections);
    add(t, "Outstanding: %u\n", v->outstanding);
    add(t, "Zxid: 0x%llx\n", (unsigned long long)v->zxid);
    add(t, "Mode: %s\n", v->mode);
    add(t, "Node count: %llu\n", (unsigned long long)v->node_count);
    if (strcmp(v->mode, "leader") == 0)
        add(t, "Proposal sizes last/min/max: -1/-1/-1\n");
}

/* One line per open connection, in ZooKeeper's cons format: [1] marks a
 * session connection, [0] one that has not sent a ConnectRequest (such as
 * the one asking). */
static void list_conns(const struct cport *c, const char *peer_text, struct text *t)
{
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++) {
        const struct cport_conn *k = &c->conns[i];
        if (k->fd < 0 || strcmp(k->peer_text, peer_text) == 0)
            continue;
        struct cport_conn_info ci = {0, 0, 0, 0};
        if (k->known)
            c->cb.conn_info(c->cb.arg, k->id, &ci);
        if (k->kind != CPORT_K_SESSION) {
            add(t, " /%s[0](queued=0,recved=%llu,sent=%llu)\n", k->peer_text,
                (unsigned long long)k->recved, (unsigned long long)k->sent);
            continue;
        }
        add(t, " /%s[1](queued=%u,recved=%llu,sent=%llu,sid=0x%llx,to=%d,watches=%u)\n",
            k->peer_text, ci.queued, (unsigned long long)k->recved, (unsigned long long)k->sent,
            (unsigned long long)ci.session_id, ci.timeout_ms, ci.watches);
    }
    add(t, " /%s[0](queued=0,recved=1,sent=0)\n", peer_text);
}

static void reply_stat(const struct cport *c, const struct cport_view *v, int with_clients,
                       const char *peer_text, struct text *t)
{
    if (!v->serving && !v->read_only) {
        add(t, "This ZooKeeper instance is not currently serving requests\n");
        return;
    }
    add(t, "Zookeeper version: %s-zablab, built on unknown\n", ZABD_VERSION);
    if (with_clients) {
        add(t, "Clients:\n");
        list_conns(c, peer_text, t);
        add(t, "\n");
    }
    server_stats(c, v, t);
}

static void reply_mntr(const struct cport *c, const struct cport_view *v, struct text *t)
{
    if (!v->serving && !v->read_only) {
        add(t, "This ZooKeeper instance is not currently serving requests\n");
        return;
    }
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_NOFILE, &rl);
    add(t, "zk_version\t%s-zablab, built on unknown\n", ZABD_VERSION);
    add(t, "zk_avg_latency\t%.4f\nzk_max_latency\t%llu\nzk_min_latency\t%llu\n",
        lat_avg_ms(&c->lat), lat_whole_ms(c->lat.max_ns), lat_whole_ms(c->lat.min_ns));
    add(t, "zk_packets_received\t%llu\n", (unsigned long long)c->packets_received);
    add(t, "zk_packets_sent\t%llu\n", (unsigned long long)c->packets_sent);
    add(t, "zk_num_alive_connections\t%u\n", v->connections);
    add(t, "zk_outstanding_requests\t%u\n", v->outstanding);
    add(t, "zk_server_state\t%s\n", v->mode);
    add(t, "zk_znode_count\t%llu\n", (unsigned long long)v->node_count);
    add(t, "zk_watch_count\t%u\n", v->watches);
    add(t, "zk_ephemerals_count\t%llu\n", (unsigned long long)v->ephemerals);
    add(t, "zk_approximate_data_size\t%llu\n", (unsigned long long)v->data_bytes);
    add(t, "zk_open_file_descriptor_count\t%llu\n", open_fd_count());
    add(t, "zk_max_file_descriptor_count\t%llu\n", (unsigned long long)rl.rlim_cur);
    if (strcmp(v->mode, "leader") == 0) {
        add(t, "zk_learners\t%u\n", v->learners);
        add(t, "zk_synced_followers\t%u\n", v->synced_followers);
        add(t, "zk_pending_syncs\t0\n");
    }
    add(t, "zablab_accepted_epoch\t%llu\n", (unsigned long long)v->accepted_epoch);
    add(t, "zablab_current_epoch\t%llu\n", (unsigned long long)v->current_epoch);
    add(t, "zablab_min_latency_ns\t%llu\nzablab_avg_latency_ns\t%llu\n"
           "zablab_max_latency_ns\t%llu\n", (unsigned long long)c->lat.min_ns,
        (unsigned long long)(c->lat.count ? c->lat.total_ns / c->lat.count : 0),
        (unsigned long long)c->lat.max_ns);
    add(t, "zablab_fdatasyncs\t%llu\n", (unsigned long long)v->fdatasyncs);
    add(t, "zablab_fsync_actions\t%llu\n", (unsigned long long)v->fsync_actions);
    add(t, "zablab_snapshots\t%llu\n", (unsigned long long)v->snapshots);
    add(t, "zablab_snapshot_forks\t%llu\n", (unsigned long long)v->snapshot_forks);
    add(t, "zablab_log_segments\t%u\n", v->log_segments);
    add(t, "zablab_log_rolls\t%llu\n", (unsigned long long)v->log_rolls);
}

static void reply_conf(const struct cport_view *v, struct text *t)
{
    const struct cfg *g = v->cfg;
    if (!g)
        return;
    add(t, "clientPort=%u\n", g->client_port);
    add(t, "dataDir=%s/version-2\n", g->data_dir);
    add(t, "dataDirSize=0\n");
    add(t, "dataLogDir=%s/version-2\n", g->data_log_dir);
    add(t, "dataLogSize=0\n");
    add(t, "tickTime=%d\n", g->tick_time_ms);
    add(t, "maxClientCnxns=%d\n", g->max_client_cnxns);
    add(t, "minSessionTimeout=%d\n", g->min_session_timeout_ms);
    add(t, "maxSessionTimeout=%d\n", g->max_session_timeout_ms);
    add(t, "clientPortListenBacklog=-1\n");
    add(t, "serverId=%d\n", v->server_id);
    /* zabd's own keys (ZooKeeper has none like them). */
    add(t, "zablab.outstandingPerConnection=%u\n", g->outstanding_per_conn);
    add(t, "zablab.connectionWriteQueueBytes=%llu\n", (unsigned long long)g->write_queue_bytes);
    if (g->server_count == 0)
        return;
    add(t, "initLimit=%d\nsyncLimit=%d\nelectionAlg=3\n", g->init_limit_ticks,
        g->sync_limit_ticks);
    const struct cfg_server *me = cfg_self(g);
    if (me)
        add(t, "electionPort=%u\nquorumPort=%u\npeerType=%d\n", me->election_port,
            me->quorum_port, me->role == CFG_ROLE_OBSERVER ? 1 : 0);
    add(t, "membership: \n");
    for (int i = 0; i < g->server_count; i++) {
        const struct cfg_server *s = &g->servers[i];
        add(t, "server.%lld=%s:%u:%u:%s", (long long)s->id, s->host, s->quorum_port,
            s->election_port, s->role == CFG_ROLE_OBSERVER ? "observer" : "participant");
        /* ZooKeeper shows a client address only where server.N gave one. */
        if (s->client_port)
            add(t, ";%s:%u", s->client_host[0] ? s->client_host : "0.0.0.0", s->client_port);
        add(t, "\n");
    }
    add(t, "version=0\n");
}

size_t cport_reply(const struct cport *c, const struct cport_view *v, enum zkp_4lw w,
                   const char *peer_text, char *out, size_t cap)
{
    struct text t = {out, 0, cap};
    if (cap == 0)
        return 0;
    out[0] = '\0';
    switch (w) {
    case ZKP_4LW_RUOK: add(&t, "imok"); break;
    case ZKP_4LW_SRVR: reply_stat(c, v, 0, peer_text, &t); break;
    case ZKP_4LW_STAT: reply_stat(c, v, 1, peer_text, &t); break;
    case ZKP_4LW_MNTR: reply_mntr(c, v, &t); break;
    case ZKP_4LW_CONF: reply_conf(v, &t); break;
    /* ZooKeeper: "ro" from its read-only server, "rw" when serving, "null"
     * when no server runs (kazoo's read-only client looks for "rw"). */
    case ZKP_4LW_ISRO: add(&t, "%s", v->read_only ? "ro" : v->serving ? "rw" : "null"); break;
    case ZKP_4LW_CONS:
        list_conns(c, peer_text, &t);
        add(&t, "\n");
        break;
    case ZKP_4LW_SRST: add(&t, "Server stats reset.\n"); break;
    case ZKP_4LW_WCHS:
        add(&t, "%u connections watching %u paths\nTotal watches:%u\n", v->watch_conns,
            v->watch_paths, v->watches);
        break;
    default:
        add(&t, "%s is not supported by zabd yet.\n", zkp_4lw_name(w));
        break;
    }
    return t.len;
}

/* ---- connections ------------------------------------------------------------------ */

static struct cport_conn *conn_by_id(struct cport *c, uint64_t id)
{
    uint64_t slot = id & 0xffffu;
    if (slot >= CPORT_CONNS_MAX)
        return NULL;
    struct cport_conn *k = &c->conns[slot];
    return k->fd >= 0 && k->id == id ? k : NULL;
}

static void conn_free(struct cport *c, struct cport_conn *k)
{
    loop_fd_del(c->loop, k->fd);
    close(k->fd);
    k->fd = -1;
    if (k->paused)
        c->n_paused--;
    k->paused = false;
    k->dirty = false;
    zkw_buf_free(&k->in);
    zkw_buf_free(&k->out);
}

/* Closes now. A connection the core knows is queued to be reported. */
static void conn_end(struct cport *c, struct cport_conn *k)
{
    if (k->known) {
        if (c->n_gone < sizeof c->gone / sizeof c->gone[0])
            c->gone[c->n_gone++] = k->id;
        else
            slog_error("client port: end of connection %llu not reported (list full)",
                       (unsigned long long)k->id);
    }
    conn_free(c, k);
}

/* Read interest unless paused or closing; write interest while bytes wait. */
static void conn_update_mask(struct cport *c, struct cport_conn *k)
{
    int mask = (!k->paused && !k->closing ? LOOP_READABLE : 0) |
               (k->out_off < k->out.len ? LOOP_WRITABLE : 0);
    if (loop_fd_mask(c->loop, k->fd) != mask)
        loop_fd_set_mask(c->loop, k->fd, mask);
}

static size_t out_bound(const struct cport *c)
{
    return c->lim.out_bytes_max;
}

/* Sends what is queued; closes a closing connection once it is empty.
 * Returns false when the connection is gone. */
static bool conn_write(struct cport *c, struct cport_conn *k)
{
    while (k->out_off < k->out.len) {
        ssize_t n = send(k->fd, k->out.p + k->out_off, k->out.len - k->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            slog_debug("client %s: send: %s: closing", k->peer_text,
                       n < 0 ? strerror(errno) : "nothing sent");
            conn_end(c, k);
            return false;
        }
        k->out_off += (size_t)n;
    }
    if (k->out_off == k->out.len) {
        k->out_off = k->out.len = 0;
        if (k->out.cap > (1u << 20))
            zkw_buf_free(&k->out);   /* a big reply went out: give the memory back */
    } else if (k->out_off > k->out.len / 2) {
        memmove(k->out.p, k->out.p + k->out_off, k->out.len - k->out_off);
        k->out.len -= k->out_off;
        k->out_off = 0;
    }
    if (k->closing && k->out.len == 0) {
        conn_free(c, k);
        return false;
    }
    conn_update_mask(c, k);
    return true;
}

static void mark_dirty(struct cport *c, struct cport_conn *k)
{
    if (k->dirty)
        return;
    if (c->n_dirty == CPORT_CONNS_MAX) {   /* cannot happen within one batch: write now */
        conn_write(c, k);
        return;
    }
    k->dirty = true;
    c->dirty[c->n_dirty++] = (uint32_t)(k - c->conns);
}

/* ---- four-letter words ------------------------------------------------------------- */

static void answer_word(struct cport *c, struct cport_conn *k, enum zkp_4lw w)
{
    k->kind = CPORT_K_4LW;
    k->recved++;
    c->packets_received++;
    zkw_buf_free(&k->out);
    k->out.p = malloc(CPORT_4LW_REPLY_MAX);
    if (!k->out.p) {
        conn_end(c, k);
        return;
    }
    k->out.cap = CPORT_4LW_REPLY_MAX;
    if (!(c->lim.four_lw_allowed & (1u << w))) {
        k->out.len = (size_t)snprintf((char *)k->out.p, k->out.cap,
                                      "%s is not executed because it is not in the whitelist.\n",
                                      zkp_4lw_name(w));
    } else {
        struct cport_view v;
        memset(&v, 0, sizeof v);
        v.mode = "standalone";
        c->cb.view(c->cb.arg, &v);
        if (v.read_only)
            v.mode = "read-only";
        if (w == ZKP_4LW_SRST)
            cport_reset_stats(c);
        k->out.len = cport_reply(c, &v, w, k->peer_text, (char *)k->out.p, k->out.cap);
    }
    k->sent++;
    c->packets_sent++;
    k->closing = true;
    k->since_ms = loop_clock_ms();
    conn_write(c, k);
}

/* ---- session frames ------------------------------------------------------------------ */

static void log_bad_frame(const struct cport *c, const struct cport_conn *k, int rc)
{
    int32_t len = (int32_t)(((uint32_t)k->in.p[0] << 24) | ((uint32_t)k->in.p[1] << 16) |
                            ((uint32_t)k->in.p[2] << 8) | k->in.p[3]);
    slog_warn("client %s: %s (length %d, jute.maxbuffer %u)%s: closing", k->peer_text,
              zkp_strerror(rc), len, c->lim.frame_max,
              k->known ? "" : " before the handshake");
}

/* ---- latency ----------------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cport_reset_stats(struct cport *c)
{
    memset(&c->lat, 0, sizeof c->lat);
    c->packets_received = c->packets_sent = 0;
}

/* Starts timing a request frame (xid = its first 4 bytes); returns whether
 * it did (the table is bounded: requests beyond it go untimed). */
static bool lat_start(struct cport_conn *k, const uint8_t *payload, size_t len)
{
    if (len < 8 || k->lat_n == CPORT_LAT_PENDING)
        return false;
    int32_t xid = (int32_t)(((uint32_t)payload[0] << 24) | ((uint32_t)payload[1] << 16) |
                            ((uint32_t)payload[2] << 8) | payload[3]);
    k->lat_xid[k->lat_n] = xid;
    k->lat_t_ns[k->lat_n] = mono_ns();
    k->lat_n++;
    return true;
}

/* A reply for xid is queued: its request's latency counts. */
static void lat_done(struct cport *c, struct cport_conn *k, int32_t xid)
{
    for (uint32_t i = 0; i < k->lat_n; i++) {
        if (k->lat_xid[i] != xid)
            continue;
        uint64_t now = mono_ns(), t0 = k->lat_t_ns[i];
        uint64_t ns = now > t0 ? now - t0 : 0;
        struct cport_latency *l = &c->lat;
        l->min_ns = l->count == 0 || ns < l->min_ns ? ns : l->min_ns;
        l->max_ns = ns > l->max_ns ? ns : l->max_ns;
        l->total_ns += ns;
        l->count++;
        k->lat_n--;
        memmove(k->lat_xid + i, k->lat_xid + i + 1, (k->lat_n - i) * sizeof k->lat_xid[0]);
        memmove(k->lat_t_ns + i, k->lat_t_ns + i + 1, (k->lat_n - i) * sizeof k->lat_t_ns[0]);
        return;
    }
}

/* Hands every complete frame in `in` to the server, in order, until one
 * must wait. Returns false when the connection is gone. */
static bool conn_frames(struct cport *c, struct cport_conn *k)
{
    uint64_t id = k->id;
    size_t off = 0;
    while (!k->closing && !k->paused) {
        struct zkp_frame f;
        int rc = zkp_frame_next(k->in.p + off, k->in.len - off, c->lim.frame_max, &f);
        if (rc != 0) {
            memmove(k->in.p, k->in.p + off, k->in.len - off);   /* for the log line */
            log_bad_frame(c, k, rc);
            conn_end(c, k);
            return false;
        }
        if (!f.ready)
            break;
        bool first = !k->known;
        k->known = true;
        bool timed = !first && lat_start(k, f.payload, f.payload_len);
        enum cport_frame_verdict v =
            c->cb.frame(c->cb.arg, id, k->peer_text, f.payload, f.payload_len, first);
        if (conn_by_id(c, id) != k)
            return false;                /* the server's batch closed it */
        if (timed && v == CPORT_FRAME_LATER)
            k->lat_n--;                  /* timed again when it is taken */
        if (v == CPORT_FRAME_CLOSE) {
            conn_end(c, k);
            return false;
        }
        if (v == CPORT_FRAME_LATER) {
            k->paused = true;
            c->n_paused++;
            break;
        }
        off += f.consumed;
        k->recved++;
        c->packets_received++;
    }
    if (off) {
        memmove(k->in.p, k->in.p + off, k->in.len - off);
        k->in.len -= off;
    }
    conn_update_mask(c, k);
    return true;
}

/* A fresh connection: a word, or a session once 4 bytes say it is not one. */
static bool conn_input(struct cport *c, struct cport_conn *k)
{
    if (k->kind == CPORT_K_NEW) {
        bool need_more = false;
        size_t n = k->in.len < 4 ? k->in.len : 4;
        enum zkp_4lw w = zkp_four_letter_word(k->in.p, n, &need_more);
        if (need_more)
            return true;
        if (w != ZKP_4LW_NONE) {
            answer_word(c, k, w);
            return false;
        }
        k->kind = CPORT_K_SESSION;
    }
    if (k->kind != CPORT_K_SESSION)
        return true;                      /* a word's connection: nothing more is read */
    return conn_frames(c, k);
}

/* Room for one more recv, never beyond one whole frame plus one read. */
static bool in_reserve(const struct cport *c, struct cport_conn *k)
{
    size_t want = k->in.len + CPORT_READ_BYTES;
    if (want <= k->in.cap)
        return true;
    size_t max = 4u + (size_t)c->lim.frame_max + CPORT_READ_BYTES;
    size_t cap = k->in.cap ? k->in.cap * 2 : CPORT_READ_BYTES;
    if (cap < want)
        cap = want;
    if (cap > max)
        cap = max;
    if (cap < want)
        return false;
    uint8_t *p = realloc(k->in.p, cap);
    if (!p)
        return false;
    k->in.p = p;
    k->in.cap = cap;
    return true;
}

static void conn_read(struct cport *c, struct cport_conn *k)
{
    if (!in_reserve(c, k)) {
        slog_warn("client %s: no room for input: closing", k->peer_text);
        conn_end(c, k);
        return;
    }
    ssize_t n = recv(k->fd, k->in.p + k->in.len, CPORT_READ_BYTES, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (k->kind == CPORT_K_SESSION && k->in.len > 0)
            slog_warn("client %s: closed the connection inside a frame (%zu bytes pending)",
                      k->peer_text, k->in.len);
        else
            slog_debug("client %s: closed the connection", k->peer_text);
        conn_end(c, k);
        return;
    }
    k->in.len += (size_t)n;
    conn_input(c, k);
}

static void on_conn_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l, (void)fd;
    struct cport_conn *k = arg;
    struct cport *c = k->owner;
    if ((mask & LOOP_WRITABLE) && !conn_write(c, k))
        return;
    /* A reset or hang-up is reported whatever the interest: a connection
     * that is not reading must end here, or the loop would spin on it. */
    if ((mask & LOOP_ERROR) && (k->closing || k->paused)) {
        slog_debug("client %s: connection reset", k->peer_text);
        conn_end(c, k);
        return;
    }
    if ((mask & (LOOP_READABLE | LOOP_ERROR)) && !k->paused && !k->closing)
        conn_read(c, k);
}

/* ---- output from the core ------------------------------------------------------------ */

static const char *close_reason(int32_t err)
{
    switch (err) {
    case ZOK: return "session closed";
    case ZSESSIONEXPIRED: return "session expired";
    case ZSESSIONMOVED: return "session moved to another server";
    case ZCONNECTIONLOSS: return "server not serving or behind the client";
    case ZTHROTTLEDOP: return "a server bound was reached";
    case ZAUTHFAILED: return "authentication failed";
    case ZMARSHALLINGERROR: return "request could not be parsed";
    default: return "closed by the server";
    }
}

void cport_deliver(struct cport *c, const struct zks_out *o)
{
    struct cport_conn *k = conn_by_id(c, o->conn);
    if (!k || k->closing)
        return;
    if (o->kind == ZKS_OUT_CLOSE) {
        slog(o->err == ZOK ? SLOG_DEBUG : SLOG_INFO, "client %s: %s (%d): closing", k->peer_text,
             close_reason(o->err), o->err);
        k->known = false;             /* the core forgot it: nothing to report */
        k->closing = true;
        k->since_ms = loop_clock_ms();
        mark_dirty(c, k);
        return;
    }
    if (o->kind == ZKS_OUT_CONNECTED && o->timeout_ms > 0)
        slog(o->read_only ? SLOG_INFO : SLOG_DEBUG, "client %s: %ssession 0x%llx open, timeout %d ms",
             k->peer_text, o->read_only ? "read-only " : "", (unsigned long long)o->session_id,
             o->timeout_ms);
    if (zkw_encode_out(o, k->long_form, &k->out) != 0) {
        slog_error("client %s: cannot encode a reply (op %d): closing", k->peer_text, o->op);
        conn_end(c, k);
        return;
    }
    k->sent++;
    c->packets_sent++;
    if (o->kind == ZKS_OUT_REPLY)
        lat_done(c, k, o->xid);
    if (k->out.len - k->out_off > out_bound(c)) {
        slog_warn("client %s: does not read its replies (%zu bytes queued, bound %zu): closing",
                  k->peer_text, k->out.len - k->out_off, out_bound(c));
        conn_end(c, k);
        return;
    }
    mark_dirty(c, k);
}

void cport_flush_dirty(struct cport *c)
{
    for (uint32_t i = 0; i < c->n_dirty; i++) {
        struct cport_conn *k = &c->conns[c->dirty[i]];
        if (k->fd >= 0 && k->dirty) {
            k->dirty = false;
            conn_write(c, k);
        }
    }
    c->n_dirty = 0;
}

void cport_set_long_form(struct cport *c, uint64_t conn, bool long_form)
{
    struct cport_conn *k = conn_by_id(c, conn);
    if (k)
        k->long_form = long_form;
}

uint32_t cport_report_gone(struct cport *c)
{
    uint32_t n = 0;
    for (; n < c->n_gone; n++)         /* the list may grow while we report */
        c->cb.gone(c->cb.arg, c->gone[n]);
    c->n_gone = 0;
    return n;
}

uint32_t cport_resume_paused(struct cport *c)
{
    uint32_t progressed = 0;
    for (uint32_t i = 0; i < CPORT_CONNS_MAX && c->n_paused; i++) {
        struct cport_conn *k = &c->conns[i];
        if (k->fd < 0 || !k->paused)
            continue;
        k->paused = false;
        c->n_paused--;
        uint64_t before = k->recved, id = k->id;
        conn_frames(c, k);
        if (conn_by_id(c, id) != k || k->recved != before)
            progressed++;
    }
    return progressed;
}

/* ---- accepting ------------------------------------------------------------------------ */

static void peer_name(int fd, struct cport_conn *k)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[48], serv[16];
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(k->peer_text, sizeof k->peer_text, "unknown");
        snprintf(k->addr, sizeof k->addr, "unknown");
        return;
    }
    snprintf(k->peer_text, sizeof k->peer_text, "%s:%s", host, serv);
    snprintf(k->addr, sizeof k->addr, "%s", host);
}

static uint32_t conns_from(const struct cport *c, const char *addr)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++)
        n += c->conns[i].fd >= 0 && strcmp(c->conns[i].addr, addr) == 0;
    return n;
}

static struct cport_conn *free_slot(struct cport *c)
{
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++)
        if (c->conns[i].fd < 0)
            return &c->conns[i];
    return NULL;
}

static void accept_one(struct cport *c, int s)
{
    struct cport_conn probe;
    memset(&probe, 0, sizeof probe);
    peer_name(s, &probe);
    if (c->lim.max_per_addr && conns_from(c, probe.addr) >= c->lim.max_per_addr) {
        slog_warn("client port: too many connections from %s - max is %u: closing %s",
                  probe.addr, c->lim.max_per_addr, probe.peer_text);
        close(s);
        return;
    }
    struct cport_conn *k = free_slot(c);
    if (!k || loop_fd_add(c->loop, s, LOOP_READABLE, on_conn_event, k) != 0) {
        slog_warn("client port: %u connections open: closing %s", CPORT_CONNS_MAX,
                  probe.peer_text);
        close(s);
        return;
    }
    *k = probe;
    k->owner = c;
    k->fd = s;
    k->id = (++c->next_seq << 16) | (uint64_t)(k - c->conns);
    k->since_ms = loop_clock_ms();
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void on_listen_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l, (void)mask;
    struct cport *c = arg;
    for (uint32_t tries = 0; tries < 64; tries++) {
        int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* The pending connection stays queued and the listener readable:
             * stop listening until housekeeping, or the loop would spin. */
            slog_warn("client port: accept: %s: not accepting for %u ms", strerror(errno),
                      CPORT_HOUSEKEEPING_MS);
            loop_fd_set_mask(c->loop, fd, 0);
            c->listen_paused = true;
            return;
        }
        if (s < 0)
            return;
        accept_one(c, s);
    }
}

/* Connections that never finished their handshake, or do not take the
 * bytes of their last reply, are cut. */
static void on_housekeeping(struct loop *l, uint64_t timer_id, void *arg)
{
    (void)timer_id;
    struct cport *c = arg;
    uint64_t now_ms = loop_clock_ms();
    if (c->listen_paused) {
        c->listen_paused = false;
        loop_fd_set_mask(l, c->listen_fd, LOOP_READABLE);
    }
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++) {
        struct cport_conn *k = &c->conns[i];
        if (k->fd < 0)
            continue;
        if (k->closing && now_ms - k->since_ms > CPORT_DRAIN_MS) {
            slog_info("client %s: did not take its last %zu bytes in %u ms: cut", k->peer_text,
                      k->out.len - k->out_off, CPORT_DRAIN_MS);
            conn_end(c, k);
        } else if (!k->closing && !k->known && now_ms - k->since_ms > CPORT_HANDSHAKE_MS) {
            slog_info("client %s: no handshake in %u ms (%zu bytes received): closing",
                      k->peer_text, CPORT_HANDSHAKE_MS, k->in.len);
            conn_end(c, k);
        }
    }
    c->timer = loop_timer_add(l, now_ms + CPORT_HOUSEKEEPING_MS, on_housekeeping, c);
}

int cport_init(struct cport *c, struct loop *l, const char *host, uint16_t port,
               const struct cport_limits *lim, const struct cport_callbacks *cb, char *err,
               size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->listen_fd = -1;
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++)
        c->conns[i].fd = -1;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    int rc = getaddrinfo(host, port_text, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "client port: cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0 ||
        loop_fd_add(l, fd, LOOP_READABLE, on_listen_event, c) != 0) {
        snprintf(err, errlen, "client port: cannot listen on %s:%u: %s", host, port,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    c->loop = l;
    c->listen_fd = fd;
    c->lim = *lim;
    if (c->lim.frame_max == 0)
        c->lim.frame_max = ZKP_PACKET_MAX_DEFAULT;
    if (c->lim.out_bytes_max == 0) {
        size_t four = 4u * (size_t)c->lim.frame_max;
        c->lim.out_bytes_max = four > CPORT_OUT_BYTES_MIN ? four : CPORT_OUT_BYTES_MIN;
    }
    c->cb = *cb;
    c->timer = loop_timer_add(l, loop_clock_ms() + CPORT_HOUSEKEEPING_MS, on_housekeeping, c);
    return 0;
}

void cport_shutdown(struct cport *c)
{
    if (!c->loop)
        return;
    loop_timer_cancel(c->loop, c->timer);
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++)
        if (c->conns[i].fd >= 0)
            conn_free(c, &c->conns[i]);
    loop_fd_del(c->loop, c->listen_fd);
    close(c->listen_fd);
    c->listen_fd = -1;
    c->loop = NULL;
}
