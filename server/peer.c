/* peer: see peer.h. */
#include "server/peer.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"

static void on_link_event(struct loop *l, int fd, int mask, void *arg);
static void on_nudge_event(struct loop *l, int fd, int mask, void *arg);

/* ---- byte helpers ---------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t buf_len(const struct peer_buf *b)
{
    return b->tail - b->head;
}

static void buf_clear(struct peer_buf *b)
{
    b->head = b->tail = 0;
}

/* Makes room for n more bytes, up to max total. 0 or -1 (over max / OOM). */
static int buf_reserve(struct peer_buf *b, size_t n, size_t max)
{
    if (buf_len(b) + n > max)
        return -1;
    if (b->head > 0 && b->tail + n > b->cap) {
        memmove(b->p, b->p + b->head, buf_len(b));
        b->tail -= b->head;
        b->head = 0;
    }
    if (b->tail + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->tail + n)
        cap *= 2;
    if (cap > max)
        cap = max;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_free(struct peer_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* An empty buffer that once held a burst (a sync stream, a backlog of
 * proposals to a slow follower) gives its memory back instead of keeping
 * up to PEER_QUEUE_BYTES_MAX resident for the life of the link. */
#define PEER_BUF_KEEP_BYTES (1u << 20)

static void buf_trim(struct peer_buf *b)
{
    if (b->cap > PEER_BUF_KEEP_BYTES)
        buf_free(b);
    else
        buf_clear(b);
}

/* ---- addresses and sockets ----------------------------------------------------- */

int peer_resolve(struct peer_addr *a, const char *host, uint16_t port, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    int rc = getaddrinfo(host, port_text, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
    a->sa_len = res->ai_addrlen;
    snprintf(a->text, sizeof a->text, "%s:%u", host, port);
    freeaddrinfo(res);
    return 0;
}

static int set_socket_options(int fd)
{
    int one = 1, idle_s = PEER_KEEPALIVE_IDLE_S, intvl_s = PEER_KEEPALIVE_INTERVAL_S,
        cnt = PEER_KEEPALIVE_COUNT;
    unsigned user_timeout_ms = PEER_USER_TIMEOUT_MS;
    /* Small ZAB messages (ACK, COMMIT) must not wait for Nagle. Keepalive and
     * the user timeout turn a silently dead peer (no FIN, no RST: a cut
     * cable, a partition) into a break within seconds, not TCP's minutes. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl_s, sizeof intvl_s) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0)
        return -1;
    return setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
                      sizeof user_timeout_ms);
}

/* ---- link life cycle ------------------------------------------------------- */

static int link_id(const struct peer_set *ps, const struct peer_link *lk)
{
    return (int)(lk - ps->links);
}

/* Closes the socket. report: the user hears a break (later, via
 * peer_deliver_breaks). keep_queue: frames queued stay for the next link. */
static void link_close(struct peer_set *ps, struct peer_link *lk, int report, int keep_queue)
{
    int id = link_id(ps, lk);
    if (lk->fd >= 0) {
        loop_fd_del(ps->loop, lk->fd);
        close(lk->fd);
    }
    lk->fd = -1;
    lk->gen++;
    lk->state = PEER_DOWN;
    buf_clear(&lk->in);
    if (!keep_queue)
        buf_clear(&lk->out);
    if (report) {
        lk->breaks++;
        ps->breaks_pending |= 1u << id;
    }
    if (lk->dialer)
        lk->dial_at_ms = loop_clock_ms() + lk->backoff_ms;
}

/* Output is written by peer_flush before the loop sleeps (one send per link
 * per loop iteration, with no epoll round); EPOLLOUT is asked for only when
 * the socket buffer is full. */
static void link_want_write(struct peer_set *ps, struct peer_link *lk)
{
    if (lk->fd >= 0 && lk->state == PEER_UP && buf_len(&lk->out) > 0)
        ps->dirty |= 1u << link_id(ps, lk);
}

/* Puts the hello in front of whatever was queued while the link was down. */
static int queue_hello(struct peer_set *ps, struct peer_link *lk)
{
    if (buf_reserve(&lk->out, PEER_HELLO_BYTES, PEER_QUEUE_BYTES_MAX + PEER_HELLO_BYTES) != 0)
        return -1;
    struct peer_buf *b = &lk->out;
    memmove(b->p + b->head + PEER_HELLO_BYTES, b->p + b->head, buf_len(b));
    uint8_t *h = b->p + b->head;
    put_u32(h, PEER_HELLO_MAGIC);
    put_u32(h + 4, PEER_HELLO_VERSION);
    put_u32(h + 8, (uint32_t)ps->my_id);
    put_u32(h + 12, (uint32_t)link_id(ps, lk));
    b->tail += PEER_HELLO_BYTES;
    return 0;
}

static void dial(struct peer_set *ps, struct peer_link *lk)
{
    int id = link_id(ps, lk);
    const struct peer_addr *a = &ps->addrs[id];
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || set_socket_options(fd) != 0 || loop_fd_add(ps->loop, fd, LOOP_WRITABLE,
                                                             on_link_event, ps) != 0) {
        slog_warn("peer %d: cannot create a socket: %s", id, strerror(errno));
        if (fd >= 0)
            close(fd);
        lk->dial_at_ms = loop_clock_ms() + lk->backoff_ms;
        return;
    }
    lk->fd = fd;
    lk->gen++;
    lk->state = PEER_CONNECTING;
    lk->since_ms = loop_clock_ms();
    int rc = connect(fd, (const struct sockaddr *)&a->sa, a->sa_len);
    if (rc != 0 && errno != EINPROGRESS) {
        slog_debug("peer %d: connect %s: %s", id, a->text, strerror(errno));
        lk->backoff_ms = lk->backoff_ms * 2 > PEER_BACKOFF_MAX_MS ? PEER_BACKOFF_MAX_MS
                                                                  : lk->backoff_ms * 2;
        link_close(ps, lk, buf_len(&lk->out) > 0, 0);
        return;
    }
    if (queue_hello(ps, lk) != 0)
        link_close(ps, lk, 1, 0);
}

/* The dialer's connect finished (writable): success or failure. */
static void connect_done(struct peer_set *ps, struct peer_link *lk)
{
    int id = link_id(ps, lk);
    int so_err = 0;
    socklen_t len = sizeof so_err;
    if (getsockopt(lk->fd, SOL_SOCKET, SO_ERROR, &so_err, &len) != 0)
        so_err = errno;
    if (so_err != 0) {
        slog_debug("peer %d: connect %s: %s", id, ps->addrs[id].text, strerror(so_err));
        lk->backoff_ms = lk->backoff_ms * 2 > PEER_BACKOFF_MAX_MS ? PEER_BACKOFF_MAX_MS
                                                                  : lk->backoff_ms * 2;
        /* Frames queued were sent "on" this connection: they are lost. */
        link_close(ps, lk, buf_len(&lk->out) > PEER_HELLO_BYTES, 0);
        return;
    }
    lk->state = PEER_UP;
    lk->backoff_ms = PEER_BACKOFF_MIN_MS;
    loop_fd_set_mask(ps->loop, lk->fd, LOOP_READABLE | LOOP_WRITABLE);
    slog_info("link to server %d (%s) up, dialed", id, ps->addrs[id].text);
}

static struct peer_link *link_of_fd(struct peer_set *ps, int fd)
{
    for (int id = 1; id <= ps->n_servers; id++)
        if (ps->links[id].fd == fd)
            return &ps->links[id];
    return NULL;
}

/* ---- nudges: the smaller side asks to be dialed --------------------------------- */

static void nudge_close(struct peer_set *ps, struct peer_link *lk)
{
    if (lk->nudge_fd < 0)
        return;
    loop_fd_del(ps->loop, lk->nudge_fd);
    close(lk->nudge_fd);
    lk->nudge_fd = -1;
}

/* Fire and forget: failures are silent, the wait bound still applies. */
static void nudge(struct peer_set *ps, struct peer_link *lk)
{
    uint64_t now_ms = loop_clock_ms();
    if (lk->dialer || lk->state != PEER_DOWN || lk->nudge_fd >= 0 || now_ms < lk->nudge_at_ms)
        return;
    lk->nudge_at_ms = now_ms + PEER_NUDGE_EVERY_MS;
    const struct peer_addr *a = &ps->addrs[link_id(ps, lk)];
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (loop_fd_add(ps->loop, fd, LOOP_WRITABLE, on_nudge_event, ps) != 0) {
        close(fd);
        return;
    }
    lk->nudge_fd = fd;
    lk->nudge_sent = 0;
    lk->nudges++;
    put_u32(lk->nudge, PEER_NUDGE_MAGIC);
    put_u32(lk->nudge + 4, PEER_HELLO_VERSION);
    put_u32(lk->nudge + 8, (uint32_t)ps->my_id);
    put_u32(lk->nudge + 12, (uint32_t)link_id(ps, lk));
    if (connect(fd, (const struct sockaddr *)&a->sa, a->sa_len) != 0 && errno != EINPROGRESS)
        nudge_close(ps, lk);
}

static void on_nudge_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l;
    struct peer_set *ps = arg;
    struct peer_link *lk = NULL;
    for (int id = 1; id <= ps->n_servers && !lk; id++)
        if (ps->links[id].nudge_fd == fd)
            lk = &ps->links[id];
    if (!lk)
        return;
    int so_err = 0;
    socklen_t len = sizeof so_err;
    if ((mask & LOOP_ERROR) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) != 0 ||
        so_err != 0) {
        nudge_close(ps, lk);
        return;
    }
    ssize_t n = send(fd, lk->nudge + lk->nudge_sent, PEER_HELLO_BYTES - lk->nudge_sent,
                     MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        lk->nudge_sent += (size_t)n;
    if (n <= 0 || lk->nudge_sent == PEER_HELLO_BYTES)
        nudge_close(ps, lk);   /* the bytes still arrive before the FIN */
}

/* The larger side got a nudge from `from`: dial now, whatever the back-off
 * says. A link that is connecting or up is left alone: the nudge may have
 * crossed our own dial (the nudger sent it before our hello arrived), and a
 * link that is really dead breaks by itself (keepalive, user timeout). */
static void nudged(struct peer_set *ps, int from)
{
    struct peer_link *lk = &ps->links[from];
    if (lk->state != PEER_DOWN)
        return;
    lk->backoff_ms = PEER_BACKOFF_MIN_MS;
    dial(ps, lk);
}

/* ---- reading and writing ------------------------------------------------------ */

static int link_write(struct peer_set *ps, struct peer_link *lk)
{
    struct peer_buf *b = &lk->out;
    while (buf_len(b) > 0) {
        ssize_t n = send(lk->fd, b->p + b->head, buf_len(b), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        b->head += (size_t)n;
    }
    buf_trim(b);
    loop_fd_set_mask(ps->loop, lk->fd, LOOP_READABLE);
    return 0;
}

void peer_flush(struct peer_set *ps)
{
    while (ps->dirty) {
        int id = __builtin_ctz(ps->dirty);
        ps->dirty &= ~(1u << id);
        struct peer_link *lk = &ps->links[id];
        if (lk->fd < 0 || lk->state != PEER_UP || buf_len(&lk->out) == 0)
            continue;
        if (link_write(ps, lk) != 0) {
            slog_info("link to server %d broke", id);
            link_close(ps, lk, 1, 0);
        } else if (buf_len(&lk->out) > 0) {
            loop_fd_set_mask(ps->loop, lk->fd, LOOP_READABLE | LOOP_WRITABLE);
        }
    }
}

/* Hands every whole frame in the input buffer to the user. Stops when the
 * link changed under a callback (DISCONNECT, or a send that overflowed). */
static int deliver_frames(struct peer_set *ps, struct peer_link *lk)
{
    uint32_t gen = lk->gen;
    int id = link_id(ps, lk);
    struct peer_buf *b = &lk->in;
    while (buf_len(b) >= 4) {
        uint32_t len = get_u32(b->p + b->head);
        if (len == 0 || len > PEER_FRAME_BYTES_MAX) {
            slog_warn("peer %d: bad frame length %u: closing the link", id, len);
            return -1;
        }
        if (buf_len(b) < 4u + len)
            return 0;
        const uint8_t *msg = b->p + b->head + 4;
        b->head += 4u + len;   /* before the callback, which may reset the buffer */
        lk->msgs_received++;
        ps->in_callback++;
        ps->cb.on_message(ps->cb.arg, id, msg, len);
        ps->in_callback--;
        if (lk->gen != gen)
            return 1;
    }
    return 0;
}

static int link_read(struct peer_set *ps, struct peer_link *lk)
{
    const size_t in_max = 4u + PEER_FRAME_BYTES_MAX;
    size_t budget = PEER_READ_BUDGET_BYTES;
    uint32_t gen = lk->gen;
    while (budget > 0 && lk->gen == gen) {
        size_t room = in_max - buf_len(&lk->in);
        size_t want = room < 65536 ? room : 65536;
        if (want == 0 || buf_reserve(&lk->in, want, in_max) != 0)
            return -1;
        ssize_t n = recv(lk->fd, lk->in.p + lk->in.tail, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;   /* EOF or error: the connection broke */
        lk->in.tail += (size_t)n;
        budget -= (size_t)n < budget ? (size_t)n : budget;
        int rc = deliver_frames(ps, lk);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (buf_len(&lk->in) == 0)
            buf_trim(&lk->in);
        /* A short read drained the socket: the epoll is level-triggered, so
         * more data wakes us again; asking now would only get EAGAIN. */
        if ((size_t)n < want)
            return 0;
    }
    return 0;
}

static void on_link_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l;
    struct peer_set *ps = arg;
    struct peer_link *lk = link_of_fd(ps, fd);
    if (!lk)
        return;
    peer_deliver_breaks(ps);   /* an older break is told before newer news */
    if (lk->fd != fd)
        return;
    int id = link_id(ps, lk);
    if (lk->state == PEER_CONNECTING) {
        if (mask & (LOOP_WRITABLE | LOOP_ERROR))
            connect_done(ps, lk);
        if (lk->state != PEER_UP) {
            peer_deliver_breaks(ps);
            return;
        }
    }
    uint32_t gen = lk->gen;
    int failed = 0;
    if ((mask & LOOP_WRITABLE) && link_write(ps, lk) != 0)
        failed = 1;
    if (!failed && (mask & LOOP_READABLE) && link_read(ps, lk) != 0)
        failed = 1;
    if (failed && lk->gen == gen) {
        slog_info("link to server %d broke", id);
        link_close(ps, lk, 1, 0);
    }
    peer_deliver_breaks(ps);
}

/* ---- accepting --------------------------------------------------------------- */

static void accept_drop(struct peer_set *ps, struct peer_accept *a)
{
    loop_fd_del(ps->loop, a->fd);
    close(a->fd);
    a->fd = -1;
}

/* The hello is complete and valid: this socket becomes the link to `from`. */
static void adopt(struct peer_set *ps, struct peer_accept *a, int from)
{
    struct peer_link *lk = &ps->links[from];
    int fd = a->fd;
    loop_fd_del(ps->loop, fd);
    a->fd = -1;
    if (lk->state != PEER_DOWN) {
        slog_info("server %d connected again: the old link broke", from);
        link_close(ps, lk, 1, 0);
    }
    if (loop_fd_add(ps->loop, fd, LOOP_READABLE, on_link_event, ps) != 0) {
        close(fd);
        return;
    }
    lk->fd = fd;
    lk->gen++;
    lk->state = PEER_UP;
    link_want_write(ps, lk);
    slog_info("link from server %d up, accepted", from);
}

static int hello_sender(const struct peer_set *ps, const uint8_t *h)
{
    uint32_t from = get_u32(h + 8);
    if (get_u32(h) != PEER_HELLO_MAGIC || get_u32(h + 4) != PEER_HELLO_VERSION ||
        get_u32(h + 12) != (uint32_t)ps->my_id || from <= (uint32_t)ps->my_id ||
        from > (uint32_t)ps->n_servers)
        return -1;
    return (int)from;
}

static void on_accept_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l, (void)mask;
    struct peer_set *ps = arg;
    struct peer_accept *a = NULL;
    for (uint32_t i = 0; i < PEER_ACCEPTS_MAX; i++)
        if (ps->accepts[i].fd == fd)
            a = &ps->accepts[i];
    if (!a)
        return;
    ssize_t n = recv(fd, a->hello + a->got, PEER_HELLO_BYTES - a->got, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        accept_drop(ps, a);
        return;
    }
    a->got += (size_t)n;
    if (a->got < PEER_HELLO_BYTES)
        return;
    uint32_t nudger = get_u32(a->hello + 8);
    if (get_u32(a->hello) == PEER_NUDGE_MAGIC && get_u32(a->hello + 4) == PEER_HELLO_VERSION &&
        get_u32(a->hello + 12) == (uint32_t)ps->my_id && nudger >= 1 &&
        nudger < (uint32_t)ps->my_id) {
        accept_drop(ps, a);
        nudged(ps, (int)nudger);
        peer_deliver_breaks(ps);
        return;
    }
    int from = hello_sender(ps, a->hello);
    if (from < 0) {
        slog_warn("peer port: bad hello (magic %08x, from %u, to %u): closing", get_u32(a->hello),
                  get_u32(a->hello + 8), get_u32(a->hello + 12));
        accept_drop(ps, a);
        return;
    }
    adopt(ps, a, from);
    peer_deliver_breaks(ps);
}

static void on_listen_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)mask;
    struct peer_set *ps = arg;
    for (uint32_t k = 0; k < PEER_ACCEPTS_MAX; k++) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0)
            return;
        struct peer_accept *a = NULL;
        for (uint32_t i = 0; i < PEER_ACCEPTS_MAX && !a; i++)
            if (ps->accepts[i].fd < 0)
                a = &ps->accepts[i];
        if (!a || set_socket_options(c) != 0 ||
            loop_fd_add(l, c, LOOP_READABLE, on_accept_event, ps) != 0) {
            slog_warn("peer port: %s: closing a new connection",
                      a ? "cannot watch it" : "too many connections owe their hello");
            close(c);
            continue;
        }
        a->fd = c;
        a->got = 0;
        a->since_ms = loop_clock_ms();
    }
}

/* ---- housekeeping: dials, timeouts ----------------------------------------------- */

static void housekeep_link(struct peer_set *ps, struct peer_link *lk, uint64_t now_ms)
{
    int id = link_id(ps, lk);
    if (lk->dialer && lk->state == PEER_DOWN && now_ms >= lk->dial_at_ms) {
        dial(ps, lk);
    } else if (lk->state == PEER_CONNECTING && now_ms - lk->since_ms > PEER_LINK_WAIT_MS) {
        slog_debug("peer %d: connect timed out", id);
        lk->backoff_ms = lk->backoff_ms * 2 > PEER_BACKOFF_MAX_MS ? PEER_BACKOFF_MAX_MS
                                                                  : lk->backoff_ms * 2;
        link_close(ps, lk, buf_len(&lk->out) > PEER_HELLO_BYTES, 0);
    } else if (!lk->dialer && lk->state == PEER_DOWN && buf_len(&lk->out) > 0) {
        if (now_ms - lk->since_ms > PEER_LINK_WAIT_MS) {
            slog_debug("peer %d: no link within %u ms: dropping what was queued", id,
                       PEER_LINK_WAIT_MS);
            link_close(ps, lk, 1, 0);
        } else {
            nudge(ps, lk);
        }
    }
}

static void on_housekeeping(struct loop *l, uint64_t timer_id, void *arg)
{
    (void)timer_id;
    struct peer_set *ps = arg;
    uint64_t now_ms = loop_clock_ms();
    for (uint32_t i = 0; i < PEER_ACCEPTS_MAX; i++)
        if (ps->accepts[i].fd >= 0 && now_ms - ps->accepts[i].since_ms > PEER_LINK_WAIT_MS)
            accept_drop(ps, &ps->accepts[i]);
    for (int id = 1; id <= ps->n_servers; id++)
        if (id != ps->my_id)
            housekeep_link(ps, &ps->links[id], now_ms);
    peer_deliver_breaks(ps);
    ps->housekeeping_timer = loop_timer_add(l, now_ms + PEER_HOUSEKEEPING_MS, on_housekeeping, ps);
}

/* ---- public API ------------------------------------------------------------------ */

static int listen_on(const struct peer_addr *a, char *err, size_t errlen)
{
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)&a->sa, a->sa_len) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", a->text, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int peer_init(struct peer_set *ps, struct loop *l, int my_id, int n_servers,
              const struct peer_addr *addrs, const struct peer_callbacks *cb, char *err,
              size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    ps->listen_fd = -1;
    if (my_id < 1 || my_id > n_servers || n_servers > REP_SERVERS_MAX || n_servers > 31) {
        snprintf(err, errlen, "peer: id %d of %d servers out of range", my_id, n_servers);
        return -1;
    }
    ps->loop = l;
    ps->my_id = my_id;
    ps->n_servers = n_servers;
    ps->cb = *cb;
    for (int id = 0; id <= REP_SERVERS_MAX; id++) {
        ps->links[id].fd = -1;
        ps->links[id].nudge_fd = -1;
        ps->links[id].dialer = id < my_id;
        ps->links[id].backoff_ms = PEER_BACKOFF_MIN_MS;
    }
    for (uint32_t i = 0; i < PEER_ACCEPTS_MAX; i++)
        ps->accepts[i].fd = -1;
    memcpy(ps->addrs, addrs, sizeof ps->addrs[0] * (size_t)(n_servers + 1));
    ps->listen_fd = listen_on(&ps->addrs[my_id], err, errlen);
    if (ps->listen_fd < 0)
        return -1;
    if (loop_fd_add(l, ps->listen_fd, LOOP_READABLE, on_listen_event, ps) != 0) {
        snprintf(err, errlen, "peer: cannot watch the listener");
        close(ps->listen_fd);
        ps->listen_fd = -1;
        return -1;
    }
    ps->housekeeping_timer = loop_timer_add(l, loop_clock_ms(), on_housekeeping, ps);
    return 0;
}

void peer_shutdown(struct peer_set *ps)
{
    if (!ps->loop)
        return;
    loop_timer_cancel(ps->loop, ps->housekeeping_timer);
    for (uint32_t i = 0; i < PEER_ACCEPTS_MAX; i++)
        if (ps->accepts[i].fd >= 0)
            accept_drop(ps, &ps->accepts[i]);
    for (int id = 1; id <= ps->n_servers; id++) {
        struct peer_link *lk = &ps->links[id];
        if (lk->fd >= 0)
            link_close(ps, lk, 0, 0);
        nudge_close(ps, lk);
        buf_free(&lk->in);
        buf_free(&lk->out);
    }
    if (ps->listen_fd >= 0) {
        loop_fd_del(ps->loop, ps->listen_fd);
        close(ps->listen_fd);
    }
    ps->listen_fd = -1;
    ps->loop = NULL;
}

void peer_send(struct peer_set *ps, int peer, const uint8_t *msg, size_t len)
{
    if (peer < 1 || peer > ps->n_servers || peer == ps->my_id)
        return;
    struct peer_link *lk = &ps->links[peer];
    if (len == 0 || len > PEER_FRAME_BYTES_MAX ||
        buf_reserve(&lk->out, 4 + len, PEER_QUEUE_BYTES_MAX) != 0) {
        slog_warn("peer %d: cannot queue a %zu-byte message (queue %zu bytes): breaking the link",
                  peer, len, buf_len(&lk->out));
        link_close(ps, lk, 1, 0);
        return;
    }
    if (!lk->dialer && lk->state == PEER_DOWN && buf_len(&lk->out) == 0)
        lk->since_ms = loop_clock_ms();
    put_u32(lk->out.p + lk->out.tail, (uint32_t)len);
    memcpy(lk->out.p + lk->out.tail + 4, msg, len);
    lk->out.tail += 4 + len;
    lk->msgs_sent++;
    if (lk->dialer && lk->state == PEER_DOWN && loop_clock_ms() >= lk->dial_at_ms)
        dial(ps, lk);
    else if (!lk->dialer && lk->state == PEER_DOWN)
        nudge(ps, lk);
    link_want_write(ps, lk);
}

void peer_disconnect(struct peer_set *ps, int peer)
{
    if (peer < 1 || peer > ps->n_servers || peer == ps->my_id)
        return;
    struct peer_link *lk = &ps->links[peer];
    if (lk->state != PEER_DOWN || buf_len(&lk->out) > 0)
        slog_debug("peer %d: disconnect", peer);
    link_close(ps, lk, 0, 0);
}

void peer_deliver_breaks(struct peer_set *ps)
{
    if (ps->in_callback)
        return;
    while (ps->breaks_pending) {
        int id = __builtin_ctz(ps->breaks_pending);
        ps->breaks_pending &= ~(1u << id);
        ps->in_callback++;
        ps->cb.on_break(ps->cb.arg, id);
        ps->in_callback--;
    }
}

int peer_link_up(const struct peer_set *ps, int peer)
{
    return peer >= 1 && peer <= ps->n_servers && ps->links[peer].state == PEER_UP;
}
