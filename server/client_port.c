/* client_port: see client_port.h. */
#include "server/client_port.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

static void server_stats(const struct cport *c, const struct cport_view *v, struct text *t)
{
    add(t, "Latency min/avg/max: 0/0.0/0\n");
    add(t, "Received: %llu\n", (unsigned long long)c->packets_received);
    add(t, "Sent: %llu\n", (unsigned long long)c->packets_sent);
    add(t, "Connections: 0\n");
    add(t, "Outstanding: 0\n");
    add(t, "Zxid: 0x%llx\n", (unsigned long long)v->zxid);
    add(t, "Mode: %s\n", v->mode);
    add(t, "Node count: %llu\n", (unsigned long long)v->node_count);
    if (strcmp(v->mode, "leader") == 0)
        add(t, "Proposal sizes last/min/max: -1/-1/-1\n");
}

static void reply_stat(const struct cport *c, const struct cport_view *v, int with_clients,
                       const char *peer_text, struct text *t)
{
    if (!v->serving) {
        add(t, "This ZooKeeper instance is not currently serving requests\n");
        return;
    }
    add(t, "Zookeeper version: %s-zablab, built on unknown\n", ZABD_VERSION);
    if (with_clients)
        add(t, "Clients:\n /%s[0](queued=0,recved=1,sent=0)\n\n", peer_text);
    server_stats(c, v, t);
}

static void reply_mntr(const struct cport *c, const struct cport_view *v, struct text *t)
{
    if (!v->serving) {
        add(t, "This ZooKeeper instance is not currently serving requests\n");
        return;
    }
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_NOFILE, &rl);
    add(t, "zk_version\t%s-zablab, built on unknown\n", ZABD_VERSION);
    add(t, "zk_avg_latency\t0.0\nzk_max_latency\t0\nzk_min_latency\t0\n");
    add(t, "zk_packets_received\t%llu\n", (unsigned long long)c->packets_received);
    add(t, "zk_packets_sent\t%llu\n", (unsigned long long)c->packets_sent);
    add(t, "zk_num_alive_connections\t0\nzk_outstanding_requests\t0\n");
    add(t, "zk_server_state\t%s\n", v->mode);
    add(t, "zk_znode_count\t%llu\n", (unsigned long long)v->node_count);
    add(t, "zk_watch_count\t0\nzk_ephemerals_count\t0\nzk_approximate_data_size\t0\n");
    add(t, "zk_open_file_descriptor_count\t%llu\n", open_fd_count());
    add(t, "zk_max_file_descriptor_count\t%llu\n", (unsigned long long)rl.rlim_cur);
    if (strcmp(v->mode, "leader") == 0) {
        add(t, "zk_learners\t%u\n", v->learners);
        add(t, "zk_synced_followers\t%u\n", v->synced_followers);
        add(t, "zk_pending_syncs\t0\n");
    }
    add(t, "zablab_accepted_epoch\t%llu\n", (unsigned long long)v->accepted_epoch);
    add(t, "zablab_current_epoch\t%llu\n", (unsigned long long)v->current_epoch);
    add(t, "zablab_fdatasyncs\t%llu\n", (unsigned long long)v->fdatasyncs);
    add(t, "zablab_fsync_actions\t%llu\n", (unsigned long long)v->fsync_actions);
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
    case ZKP_4LW_ISRO: add(&t, "rw"); break;
    default:
        add(&t, "%s is not supported by zabd yet.\n", zkp_4lw_name(w));
        break;
    }
    return t.len;
}

/* ---- connections ------------------------------------------------------------------ */

static void conn_close(struct cport *c, struct cport_conn *k)
{
    loop_fd_del(c->loop, k->fd);
    close(k->fd);
    k->fd = -1;
}

static struct cport_conn *conn_of_fd(struct cport *c, int fd)
{
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++)
        if (c->conns[i].fd == fd)
            return &c->conns[i];
    return NULL;
}

/* Writes what is left of the reply; closes when done or on error. */
static void conn_flush(struct cport *c, struct cport_conn *k)
{
    while (k->reply_off < k->reply_len) {
        ssize_t n = send(k->fd, k->reply + k->reply_off, k->reply_len - k->reply_off,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            loop_fd_set_mask(c->loop, k->fd, LOOP_WRITABLE);
            return;
        }
        if (n <= 0)
            break;
        k->reply_off += (size_t)n;
    }
    c->packets_sent++;
    conn_close(c, k);
}

static void conn_answer(struct cport *c, struct cport_conn *k)
{
    bool need_more = false;
    enum zkp_4lw w = zkp_four_letter_word(k->first, k->got, &need_more);
    if (need_more)
        return;
    c->packets_received++;
    if (w == ZKP_4LW_NONE) {
        slog_info("client port: %s sent a session request; sessions are not served yet: "
                  "closing", k->peer_text);
        conn_close(c, k);
        return;
    }
    if (!(c->allowed_mask & (1u << w))) {
        k->reply_len = (size_t)snprintf(k->reply, sizeof k->reply,
                                        "%s is not executed because it is not in the "
                                        "whitelist.\n", zkp_4lw_name(w));
    } else {
        struct cport_view v;
        memset(&v, 0, sizeof v);
        v.mode = "standalone";
        c->view(c->view_arg, &v);
        k->reply_len = cport_reply(c, &v, w, k->peer_text, k->reply, sizeof k->reply);
    }
    k->reply_off = 0;
    loop_fd_set_mask(c->loop, k->fd, 0);
    conn_flush(c, k);
}

static void on_conn_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l;
    struct cport *c = arg;
    struct cport_conn *k = conn_of_fd(c, fd);
    if (!k)
        return;
    if (k->reply_len > 0) {
        if (mask & (LOOP_WRITABLE | LOOP_ERROR))
            conn_flush(c, k);
        return;
    }
    ssize_t n = recv(fd, k->first + k->got, sizeof k->first - k->got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c, k);
        return;
    }
    k->got += (size_t)n;
    conn_answer(c, k);
}

static void peer_name(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[64], serv[16];
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, cap, "unknown");
        return;
    }
    snprintf(out, cap, "%s:%s", host, serv);
}

static void on_listen_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)mask;
    struct cport *c = arg;
    for (uint32_t tries = 0; tries < CPORT_CONNS_MAX; tries++) {
        int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s < 0)
            return;
        struct cport_conn *k = conn_of_fd(c, -1);
        if (!k || loop_fd_add(l, s, LOOP_READABLE, on_conn_event, c) != 0) {
            slog_warn("client port: %u connections open: closing a new one", CPORT_CONNS_MAX);
            close(s);
            continue;
        }
        memset(k, 0, sizeof *k);
        k->fd = s;
        k->since_ms = loop_clock_ms();
        peer_name(s, k->peer_text, sizeof k->peer_text);
    }
}

static void on_housekeeping(struct loop *l, uint64_t timer_id, void *arg)
{
    (void)timer_id;
    struct cport *c = arg;
    uint64_t now_ms = loop_clock_ms();
    for (uint32_t i = 0; i < CPORT_CONNS_MAX; i++)
        if (c->conns[i].fd >= 0 && now_ms - c->conns[i].since_ms > CPORT_IDLE_MS)
            conn_close(c, &c->conns[i]);
    c->timer = loop_timer_add(l, now_ms + CPORT_HOUSEKEEPING_MS, on_housekeeping, c);
}

int cport_init(struct cport *c, struct loop *l, const char *host, uint16_t port,
               uint32_t allowed_mask, cport_view_fn *view, void *view_arg, char *err,
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
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0 ||
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
    c->allowed_mask = allowed_mask;
    c->view = view;
    c->view_arg = view_arg;
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
            conn_close(c, &c->conns[i]);
    loop_fd_del(c->loop, c->listen_fd);
    close(c->listen_fd);
    c->listen_fd = -1;
    c->loop = NULL;
}
