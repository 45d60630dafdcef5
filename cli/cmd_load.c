/* `zablab load`: a lean load generator that speaks ZooKeeper's client
 * protocol itself (core/zk_proto.h) over plain non-blocking sockets and one
 * epoll loop: S sessions, N requests outstanding in total (pipelined, split
 * over the sessions), one operation kind (create, setData or getData) with
 * V-byte values, for D seconds or N operations; prints throughput and the
 * p50/p99/max latency (text or JSON).
 *
 * Owns: its sessions and the scratch subtree PREFIX/run-<pid> it creates
 * (left in place: a benchmark measures the server with the data it wrote).
 * Never: blocks on one session while others wait (after the set-up phase),
 * keeps more than the stated maxima (LOAD_* below), or hides an error
 * reply: any non-zero reply error makes the exit code 1.
 *
 * Replies on one ZooKeeper session come back in request order, so each
 * session keeps its send times in a FIFO ring; a latency is the time from
 * queueing the request on the socket to reading its reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/jute.h"
#include "core/zk_proto.h"

int cmd_load(int argc, char **argv); /* also declared in cli/commands.h */

#define LOAD_HOSTS_MAX 16
#define LOAD_SESSIONS_MAX 256
#define LOAD_OUTSTANDING_MAX 16384       /* in total, over all sessions */
#define LOAD_VALUE_MAX (512u * 1024u)
#define LOAD_SAMPLES_MAX (1u << 24)       /* latencies kept: 64 MiB; more are counted only */
#define LOAD_KEYS_PER_SESSION 16
#define LOAD_PATH_MAX 256
#define LOAD_RUN_DIR_MAX 160              /* prefix (<= 128) + "/run-" + pid */
#define LOAD_REQ_OVERHEAD 512             /* a request frame beyond its value */
#define LOAD_SESSION_TIMEOUT_MS 30000
#define LOAD_SECONDS_MAX 3600

enum load_op { LOAD_CREATE, LOAD_SET_DATA, LOAD_GET_DATA };

struct load_opts {
    struct sockaddr_in hosts[LOAD_HOSTS_MAX];
    int nhosts;
    enum load_op op;
    int sessions, outstanding;
    uint32_t value_bytes;
    int64_t duration_ms;   /* 0: bounded by ops */
    uint64_t ops;          /* 0: bounded by time */
    int64_t timeout_ms;    /* no reply for this long while waiting: fail */
    bool json;
    const char *prefix;
};

struct load_conn {
    int fd;
    int id;
    uint32_t slots, inflight;
    int64_t *sent_ns;      /* ring of send times, slots entries */
    uint32_t ring_head;
    int32_t xid;
    uint64_t seq;
    uint8_t *rbuf, *wbuf;
    size_t rlen, rcap, wlen, woff, wcap;
    bool want_out;
};

struct load_run {
    const struct load_opts *o;
    struct load_conn *conns;
    int nconns;
    int epfd;
    uint8_t *value;
    char run_dir[LOAD_RUN_DIR_MAX];
    uint64_t issued, done, errors;
    int32_t first_err;
    uint32_t *lat_us;
    size_t nlat, lat_cap;
    int64_t max_ns;
    int64_t t_start_ns, t_end_ns, deadline_ns, last_progress_ns;
    char err[512];
};

static int64_t load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *load_op_name(enum load_op op)
{
    return op == LOAD_CREATE ? "create" : op == LOAD_SET_DATA ? "setData" : "getData";
}

/* ---- options ---------------------------------------------------------------- */

static int load_usage(FILE *out)
{
    fprintf(out,
        "usage: zablab load --hosts H:P[,H:P...] [--op create|setData|getData]\n"
        "                   [--sessions S] [--outstanding N] [--value-bytes B]\n"
        "                   [--seconds D | --ops N] [--timeout-ms T] [--prefix PATH]\n"
        "                   [--format text|json]\n"
        "Drives a ZooKeeper ensemble (zabd or Apache ZooKeeper) with pipelined requests.\n"
        "  --hosts        servers (IPv4 or localhost); session i uses host i mod count\n"
        "  --op           request kind (default create); setData/getData use 16 keys\n"
        "                 per session, created first\n"
        "  --sessions     sessions (default 4, at most %d); at most N are used\n"
        "  --outstanding  requests in flight in total, split over the sessions\n"
        "                 (default 1, at most %d)\n"
        "  --value-bytes  data size of create/setData (default 100)\n"
        "  --seconds      run this long (default 5), or --ops: run this many requests\n"
        "  --timeout-ms   fail when no reply comes for this long (default 10000)\n"
        "  --prefix       parent of the scratch nodes (default /zablab-load)\n"
        "exit: 0 ok, 1 a connection failed, timed out or a reply carried an error, 2 usage\n",
        LOAD_SESSIONS_MAX, LOAD_OUTSTANDING_MAX);
    return out == stdout ? 0 : 2;
}

static int load_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int load_parse_hosts(const char *list, struct load_opts *o)
{
    char buf[1024];
    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    o->nhosts = 0;
    for (char *save = NULL, *h = strtok_r(buf, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(h, ':');
        uint64_t port;
        if (!colon || o->nhosts == LOAD_HOSTS_MAX)
            return -1;
        *colon = '\0';
        if (load_parse_u64(colon + 1, 1, 65535, &port))
            return -1;
        struct sockaddr_in *sa = &o->hosts[o->nhosts++];
        memset(sa, 0, sizeof *sa);
        sa->sin_family = AF_INET;
        sa->sin_port = htons((uint16_t)port);
        const char *ip = strcmp(h, "localhost") ? h : "127.0.0.1";
        if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
            return -1;
    }
    return o->nhosts > 0 ? 0 : -1;
}

static int load_parse_op(const char *s, enum load_op *op)
{
    if (!strcmp(s, "create"))
        *op = LOAD_CREATE;
    else if (!strcmp(s, "setData") || !strcmp(s, "set"))
        *op = LOAD_SET_DATA;
    else if (!strcmp(s, "getData") || !strcmp(s, "get"))
        *op = LOAD_GET_DATA;
    else
        return -1;
    return 0;
}

/* One "--name value" pair; returns 0, or -1 with a message printed. */
static int load_parse_pair(const char *name, const char *v, struct load_opts *o)
{
    uint64_t n = 0;
    int bad = 0;
    if (!strcmp(name, "--hosts"))
        bad = load_parse_hosts(v, o);
    else if (!strcmp(name, "--op"))
        bad = load_parse_op(v, &o->op);
    else if (!strcmp(name, "--sessions"))
        bad = load_parse_u64(v, 1, LOAD_SESSIONS_MAX, &n), o->sessions = (int)n;
    else if (!strcmp(name, "--outstanding"))
        bad = load_parse_u64(v, 1, LOAD_OUTSTANDING_MAX, &n), o->outstanding = (int)n;
    else if (!strcmp(name, "--value-bytes"))
        bad = load_parse_u64(v, 0, LOAD_VALUE_MAX, &n), o->value_bytes = (uint32_t)n;
    else if (!strcmp(name, "--seconds"))
        bad = load_parse_u64(v, 1, LOAD_SECONDS_MAX, &n), o->duration_ms = (int64_t)n * 1000;
    else if (!strcmp(name, "--ops"))
        bad = load_parse_u64(v, 1, UINT64_C(1) << 40, &n), o->ops = n, o->duration_ms = 0;
    else if (!strcmp(name, "--timeout-ms"))
        bad = load_parse_u64(v, 100, 3600000, &n), o->timeout_ms = (int64_t)n;
    else if (!strcmp(name, "--prefix"))
        bad = (v[0] != '/' || strlen(v) > 128 || v[1] == '\0') ? -1 : (o->prefix = v, 0);
    else if (!strcmp(name, "--format"))
        bad = !strcmp(v, "json") ? (o->json = true, 0) : !strcmp(v, "text") ? 0 : -1;
    else {
        fprintf(stderr, "load: unknown option %s\n", name);
        return -1;
    }
    if (bad)
        fprintf(stderr, "load: bad value for %s: '%s'\n", name, v);
    return bad ? -1 : 0;
}

/* Returns -1 to go on, or an exit code. */
static int load_parse_args(int argc, char **argv, struct load_opts *o)
{
    memset(o, 0, sizeof *o);
    o->op = LOAD_CREATE;
    o->sessions = 4;
    o->outstanding = 1;
    o->value_bytes = 100;
    o->duration_ms = 5000;
    o->timeout_ms = 10000;
    o->prefix = "/zablab-load";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return load_usage(stdout);
        if (i + 1 >= argc) {
            fprintf(stderr, "load: %s wants a value\n", argv[i]);
            return load_usage(stderr);
        }
        if (load_parse_pair(argv[i], argv[i + 1], o))
            return load_usage(stderr);
        i++;
    }
    if (o->nhosts == 0) {
        fprintf(stderr, "load: --hosts is required\n");
        return load_usage(stderr);
    }
    return -1;
}

/* ---- requests ---------------------------------------------------------------- */

static void load_key_path(const struct load_run *r, int conn, uint64_t n, char *out)
{
    snprintf(out, LOAD_PATH_MAX, "%s/k%d-%u", r->run_dir, conn,
             (unsigned)(n % LOAD_KEYS_PER_SESSION));
}

/* Appends one framed request to wr. path/value are the op's arguments. */
static int load_encode(struct jute_wr *wr, int32_t xid, int32_t op, const char *path,
                       const uint8_t *value, uint32_t value_len)
{
    static const struct zkp_acl open_acl_proto = {31, {"world", 5}, {"anyone", 6}};
    struct zkp_acl acl = open_acl_proto;
    struct zkp_request rq;
    memset(&rq, 0, sizeof rq);
    rq.xid = xid;
    rq.op = op;
    struct jute_buf data = {value, (int32_t)value_len};
    if (op == ZOO_CREATE_OP) {
        rq.u.create.path = jute_str_c(path);
        rq.u.create.data = data;
        rq.u.create.acl = (struct zkp_acl_vec){&acl, 1};
    } else if (op == ZOO_SETDATA_OP) {
        rq.u.set_data.path = jute_str_c(path);
        rq.u.set_data.data = data;
        rq.u.set_data.version = -1;
    } else if (op == ZOO_GETDATA_OP) {
        rq.u.path_watch.path = jute_str_c(path);
    }
    size_t mark = zkp_frame_begin(wr);
    zkp_encode_request(wr, &rq);
    return zkp_frame_end(wr, mark);
}

/* Queues the next measured request of connection c. */
static int load_queue_next(struct load_run *r, struct load_conn *c)
{
    char path[LOAD_PATH_MAX];
    int32_t op;
    c->seq++;
    if (r->o->op == LOAD_CREATE) {
        snprintf(path, sizeof path, "%s/c%d-%llu", r->run_dir, c->id,
                 (unsigned long long)c->seq);
        op = ZOO_CREATE_OP;
    } else {
        load_key_path(r, c->id, c->seq, path);
        op = r->o->op == LOAD_SET_DATA ? ZOO_SETDATA_OP : ZOO_GETDATA_OP;
    }
    struct jute_wr wr;
    jute_wr_init(&wr, c->wbuf + c->wlen, c->wcap - c->wlen);
    if (load_encode(&wr, ++c->xid, op, path, r->value, r->o->value_bytes))
        return snprintf(r->err, sizeof r->err, "request does not fit its buffer"), -1;
    c->wlen += wr.pos;
    c->sent_ns[(c->ring_head + c->inflight) % c->slots] = load_now_ns();
    c->inflight++;
    r->issued++;
    return 0;
}

/* ---- blocking set-up: handshake and one request at a time --------------------- */

static int load_io_all(int fd, uint8_t *buf, size_t len, bool writing, int64_t timeout_ms)
{
    size_t done = 0;
    while (done < len) {
        struct pollfd p = {fd, writing ? POLLOUT : POLLIN, 0};
        int n = poll(&p, 1, (int)timeout_ms);
        if (n <= 0)
            return -1;
        ssize_t k = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
                            : recv(fd, buf + done, len - done, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

/* Reads one frame's payload into buf (cap bytes); returns its length or -1. */
static ssize_t load_read_frame(int fd, uint8_t *buf, size_t cap, int64_t timeout_ms)
{
    uint8_t hdr[4];
    if (load_io_all(fd, hdr, 4, false, timeout_ms))
        return -1;
    uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (n > cap || load_io_all(fd, buf, n, false, timeout_ms))
        return -1;
    return (ssize_t)n;
}

static int load_connect(struct load_run *r, const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa)) {
        snprintf(r->err, sizeof r->err, "connect to %s:%d: %s", inet_ntoa(sa->sin_addr),
                 ntohs(sa->sin_port), strerror(errno));
        close(fd);
        return -1;
    }
    uint8_t buf[128];
    struct jute_wr wr;
    jute_wr_init(&wr, buf, sizeof buf);
    struct zkp_connect_req req = {0, 0, LOAD_SESSION_TIMEOUT_MS, 0, {NULL, 0}, false, true};
    static const uint8_t zero_pw[ZKP_PASSWD_LEN];
    req.passwd = (struct jute_buf){zero_pw, ZKP_PASSWD_LEN};
    size_t mark = zkp_frame_begin(&wr);
    zkp_encode_connect_req(&wr, &req);
    zkp_frame_end(&wr, mark);
    struct zkp_connect_resp resp;
    bool has_ro;
    ssize_t n = -1;
    if (!wr.err && !load_io_all(fd, buf, wr.pos, true, r->o->timeout_ms))
        n = load_read_frame(fd, buf, sizeof buf, r->o->timeout_ms);
    if (n < 0 || zkp_decode_connect_resp(buf, (size_t)n, &resp, &has_ro) ||
        resp.session_id == 0 || resp.timeout_ms <= 0) {
        snprintf(r->err, sizeof r->err, "no session from %s:%d (server not serving?)",
                 inet_ntoa(sa->sin_addr), ntohs(sa->sin_port));
        close(fd);
        return -1;
    }
    return fd;
}

/* One request, waiting for its reply. Returns the reply's error code, or
 * ZCONNECTIONLOSS when the exchange failed. */
static int32_t load_call(struct load_run *r, int fd, int32_t xid, int32_t op, const char *path,
                         const uint8_t *value, uint32_t len)
{
    size_t cap = len + LOAD_REQ_OVERHEAD + LOAD_PATH_MAX;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return ZCONNECTIONLOSS;
    struct jute_wr wr;
    jute_wr_init(&wr, buf, cap);
    int32_t result = ZCONNECTIONLOSS;
    if (!load_encode(&wr, xid, op, path, value, len) &&
        !load_io_all(fd, buf, wr.pos, true, r->o->timeout_ms)) {
        ssize_t n = load_read_frame(fd, buf, cap, r->o->timeout_ms);
        struct jute_rd rd;
        struct zkp_reply_header h;
        jute_rd_init(&rd, buf, n > 0 ? (size_t)n : 0);
        if (n >= 16 && !zkp_decode_reply_header(&rd, &h) && h.xid == xid)
            result = h.err;
    }
    free(buf);
    return result;
}

/* Creates PREFIX, PREFIX/run-<pid> and, for setData/getData, the keys. */
static int load_setup_tree(struct load_run *r, int fd)
{
    int32_t xid = 1;
    int32_t e = load_call(r, fd, xid++, ZOO_CREATE_OP, r->o->prefix, NULL, 0);
    if (e != ZOK && e != ZNODEEXISTS)
        return snprintf(r->err, sizeof r->err, "create %s: error %d", r->o->prefix, e), -1;
    e = load_call(r, fd, xid++, ZOO_CREATE_OP, r->run_dir, NULL, 0);
    if (e != ZOK && e != ZNODEEXISTS)
        return snprintf(r->err, sizeof r->err, "create %s: error %d", r->run_dir, e), -1;
    if (r->o->op == LOAD_CREATE)
        return 0;
    for (int c = 0; c < r->nconns; c++) {
        for (int k = 0; k < LOAD_KEYS_PER_SESSION; k++) {
            char path[LOAD_PATH_MAX];
            load_key_path(r, c, (uint64_t)k, path);
            e = load_call(r, fd, xid++, ZOO_CREATE_OP, path, r->value, r->o->value_bytes);
            if (e != ZOK && e != ZNODEEXISTS)
                return snprintf(r->err, sizeof r->err, "create %s: error %d", path, e), -1;
        }
    }
    return 0;
}

static void load_close_session(int fd, int32_t xid)
{
    uint8_t buf[16];
    struct jute_wr wr;
    jute_wr_init(&wr, buf, sizeof buf);
    struct zkp_request rq = {.xid = xid, .op = ZOO_CLOSE_SESSION_OP};
    size_t mark = zkp_frame_begin(&wr);
    zkp_encode_request(&wr, &rq);
    if (!zkp_frame_end(&wr, mark))
        (void)!send(fd, buf, wr.pos, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* ---- the measured loop ------------------------------------------------------- */

static bool load_may_issue(const struct load_run *r, int64_t now)
{
    if (r->o->ops)
        return r->issued < r->o->ops;
    return now < r->deadline_ns;
}

static void load_record(struct load_run *r, int64_t lat_ns)
{
    if (lat_ns > r->max_ns)
        r->max_ns = lat_ns;
    if (r->nlat == r->lat_cap) {
        size_t cap = r->lat_cap ? r->lat_cap * 2 : 65536;
        if (cap > LOAD_SAMPLES_MAX)
            return; /* beyond the bound: counted in done, not in the percentiles */
        uint32_t *p = realloc(r->lat_us, cap * sizeof *p);
        if (!p)
            return;
        r->lat_us = p;
        r->lat_cap = cap;
    }
    int64_t us = lat_ns / 1000;
    r->lat_us[r->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int load_flush(struct load_run *r, struct load_conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t k = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN)
            break;
        if (k <= 0)
            return snprintf(r->err, sizeof r->err, "session %d: send: %s", c->id,
                            strerror(errno)), -1;
        c->woff += (size_t)k;
    }
    if (c->woff == c->wlen)
        c->woff = c->wlen = 0;
    bool want = c->wlen > 0;
    if (want != c->want_out) {
        struct epoll_event ev = {EPOLLIN | (want ? EPOLLOUT : 0), {.ptr = c}};
        epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want;
    }
    return 0;
}

static int load_fill(struct load_run *r, struct load_conn *c, int64_t now)
{
    /* Compact first so a full window always fits. */
    if (c->woff > 0 && c->woff == c->wlen)
        c->woff = c->wlen = 0;
    while (c->inflight < c->slots && load_may_issue(r, now) &&
           c->wcap - c->wlen >= r->o->value_bytes + LOAD_REQ_OVERHEAD) {
        if (load_queue_next(r, c))
            return -1;
    }
    return load_flush(r, c);
}

/* Handles one reply payload of connection c. */
static int load_on_reply(struct load_run *r, struct load_conn *c, const uint8_t *p, size_t n,
                         int64_t now)
{
    struct jute_rd rd;
    struct zkp_reply_header h;
    jute_rd_init(&rd, p, n);
    if (zkp_decode_reply_header(&rd, &h))
        return snprintf(r->err, sizeof r->err, "session %d: bad reply header", c->id), -1;
    if (h.xid == ZKP_XID_NOTIFICATION || h.xid == ZKP_XID_PING)
        return 0;
    if (c->inflight == 0)
        return snprintf(r->err, sizeof r->err, "session %d: reply xid %d with nothing pending",
                        c->id, h.xid), -1;
    load_record(r, now - c->sent_ns[c->ring_head]);
    c->ring_head = (c->ring_head + 1) % c->slots;
    c->inflight--;
    r->done++;
    if (h.err != ZOK) {
        if (r->errors++ == 0)
            r->first_err = h.err;
    }
    r->last_progress_ns = now;
    return 0;
}

static int load_on_readable(struct load_run *r, struct load_conn *c)
{
    ssize_t k = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (k <= 0)
        return snprintf(r->err, sizeof r->err, "session %d: the server closed the connection",
                        c->id), -1;
    c->rlen += (size_t)k;
    int64_t now = load_now_ns();
    size_t off = 0;
    for (;;) {
        struct zkp_frame f;
        int e = zkp_frame_next(c->rbuf + off, c->rlen - off, c->rcap - 4, &f);
        if (e)
            return snprintf(r->err, sizeof r->err, "session %d: bad frame: %s", c->id,
                            zkp_strerror(e)), -1;
        if (!f.ready)
            break;
        if (load_on_reply(r, c, f.payload, f.payload_len, now))
            return -1;
        off += f.consumed;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return load_fill(r, c, now);
}

static uint64_t load_inflight(const struct load_run *r)
{
    uint64_t n = 0;
    for (int i = 0; i < r->nconns; i++)
        n += r->conns[i].inflight;
    return n;
}

static int load_loop(struct load_run *r)
{
    struct epoll_event evs[64];
    int64_t now = load_now_ns();
    r->t_start_ns = r->last_progress_ns = now;
    r->deadline_ns = now + r->o->duration_ms * 1000000;
    for (int i = 0; i < r->nconns; i++)
        if (load_fill(r, &r->conns[i], now))
            return -1;
    while (load_inflight(r) > 0) {
        int n = epoll_wait(r->epfd, evs, 64, 100);
        if (n < 0 && errno != EINTR)
            return snprintf(r->err, sizeof r->err, "epoll_wait: %s", strerror(errno)), -1;
        for (int i = 0; i < n; i++) {
            struct load_conn *c = evs[i].data.ptr;
            if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && load_on_readable(r, c))
                return -1;
            if ((evs[i].events & EPOLLOUT) && load_flush(r, c))
                return -1;
        }
        now = load_now_ns();
        if (now - r->last_progress_ns > r->o->timeout_ms * 1000000)
            return snprintf(r->err, sizeof r->err, "no reply for %lld ms with %llu pending",
                            (long long)r->o->timeout_ms,
                            (unsigned long long)load_inflight(r)), -1;
    }
    r->t_end_ns = load_now_ns();
    return 0;
}

/* ---- set-up, report, tear-down ------------------------------------------------ */

static int load_open_conns(struct load_run *r)
{
    const struct load_opts *o = r->o;
    r->nconns = o->sessions < o->outstanding ? o->sessions : o->outstanding;
    r->conns = calloc((size_t)r->nconns, sizeof *r->conns);
    if (!r->conns)
        return snprintf(r->err, sizeof r->err, "out of memory"), -1;
    for (int i = 0; i < r->nconns; i++) {
        struct load_conn *c = &r->conns[i];
        c->fd = -1;
        c->id = i;
        c->slots = (uint32_t)(o->outstanding / r->nconns + (i < o->outstanding % r->nconns));
        c->rcap = o->value_bytes + 65536;
        c->wcap = (size_t)c->slots * (o->value_bytes + LOAD_REQ_OVERHEAD + LOAD_PATH_MAX);
        c->sent_ns = calloc(c->slots, sizeof *c->sent_ns);
        c->rbuf = malloc(c->rcap);
        c->wbuf = malloc(c->wcap);
        if (!c->sent_ns || !c->rbuf || !c->wbuf)
            return snprintf(r->err, sizeof r->err, "out of memory"), -1;
        c->fd = load_connect(r, &o->hosts[i % o->nhosts]);
        if (c->fd < 0)
            return -1;
        c->xid = 1000;
    }
    return 0;
}

static int load_arm(struct load_run *r)
{
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0)
        return snprintf(r->err, sizeof r->err, "epoll_create1: %s", strerror(errno)), -1;
    for (int i = 0; i < r->nconns; i++) {
        struct load_conn *c = &r->conns[i];
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {EPOLLIN, {.ptr = c}};
        if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, c->fd, &ev))
            return snprintf(r->err, sizeof r->err, "epoll_ctl: %s", strerror(errno)), -1;
    }
    return 0;
}

static int load_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples, in ms. */
static double load_pct_ms(const uint32_t *sorted, size_t n, double pct)
{
    if (n == 0)
        return 0.0;
    size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1] / 1000.0;
}

static void load_report(struct load_run *r)
{
    const struct load_opts *o = r->o;
    qsort(r->lat_us, r->nlat, sizeof *r->lat_us, load_cmp_u32);
    double secs = (double)(r->t_end_ns - r->t_start_ns) / 1e9;
    double rate = secs > 0 ? (double)r->done / secs : 0.0;
    double p50 = load_pct_ms(r->lat_us, r->nlat, 50), p99 = load_pct_ms(r->lat_us, r->nlat, 99);
    double max = (double)r->max_ns / 1e6;
    if (o->json) {
        printf("{\"op\":\"%s\",\"sessions\":%d,\"outstanding\":%d,\"value_bytes\":%u,"
               "\"ops\":%llu,\"errors\":%llu,\"first_error\":%d,\"seconds\":%.3f,"
               "\"ops_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
               load_op_name(o->op), r->nconns, o->outstanding, o->value_bytes,
               (unsigned long long)r->done, (unsigned long long)r->errors, r->first_err, secs,
               rate, p50, p99, max);
        return;
    }
    printf("load: %s x %llu in %.2f s over %d sessions, %d outstanding, %u-byte values\n",
           load_op_name(o->op), (unsigned long long)r->done, secs, r->nconns, o->outstanding,
           o->value_bytes);
    printf("throughput %.0f ops/s; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms; errors %llu\n",
           rate, p50, p99, max, (unsigned long long)r->errors);
    if (r->errors)
        printf("first error reply: %d\n", r->first_err);
}

static void load_free(struct load_run *r)
{
    for (int i = 0; r->conns && i < r->nconns; i++) {
        struct load_conn *c = &r->conns[i];
        if (c->fd >= 0) {
            load_close_session(c->fd, ++c->xid);
            close(c->fd);
        }
        free(c->sent_ns);
        free(c->rbuf);
        free(c->wbuf);
    }
    free(r->conns);
    free(r->lat_us);
    free(r->value);
    if (r->epfd >= 0)
        close(r->epfd);
}

static int load_prepare(struct load_run *r)
{
    r->value = malloc(r->o->value_bytes + 1);
    if (!r->value)
        return snprintf(r->err, sizeof r->err, "out of memory"), -1;
    for (uint32_t i = 0; i < r->o->value_bytes; i++)
        r->value[i] = (uint8_t)('a' + i % 26);
    snprintf(r->run_dir, sizeof r->run_dir, "%s/run-%ld", r->o->prefix, (long)getpid());
    if (load_open_conns(r))
        return -1;
    if (load_setup_tree(r, r->conns[0].fd))
        return -1;
    return load_arm(r);
}

int cmd_load(int argc, char **argv)
{
    struct load_opts o;
    int rc = load_parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct load_run r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.epfd = -1;
    rc = 0;
    if (load_prepare(&r) || load_loop(&r)) {
        fprintf(stderr, "load: %s\n", r.err);
        rc = 1;
    } else {
        load_report(&r);
        rc = r.errors ? 1 : 0;
    }
    fflush(stdout);
    load_free(&r);
    return rc;
}
