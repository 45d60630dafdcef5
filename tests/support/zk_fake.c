/* zk_fake: see zk_fake.h. Bounded: at most ZKF_CONNS_MAX connections, each
 * with one read buffer of ZKF_BUF bytes and one reply buffer; a client that
 * sends a frame larger than that, or does not read its replies, is closed. */
#include "tests/support/zk_fake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/jute.h"
#include "core/zk_proto.h"

#define ZKF_CONNS_MAX 512
#define ZKF_BUF (1u << 20)

struct zkf_conn {
    int fd;
    int slot;
    bool handshaken;
    uint32_t replies;
    uint8_t *rbuf, *wbuf;
    size_t rlen, wlen;
};

struct zk_fake {
    struct zk_fake_opts o;
    int lfd, epfd, stopfd;
    pthread_t thread;
    _Atomic uint64_t requests;
    int64_t next_session;
    struct zkf_conn *conns[ZKF_CONNS_MAX];
    uint8_t arena_mem[64 * 1024];
};

static void zkf_close(struct zk_fake *f, struct zkf_conn *c)
{
    epoll_ctl(f->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    f->conns[c->slot] = NULL;
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

static void zkf_handshake(struct zk_fake *f, struct zkf_conn *c, struct jute_wr *wr)
{
    static const uint8_t pw[ZKP_PASSWD_LEN];
    struct zkp_connect_resp resp = {0, 30000, ++f->next_session, {pw, ZKP_PASSWD_LEN}, false};
    size_t mark = zkp_frame_begin(wr);
    zkp_encode_connect_resp(wr, &resp, true);
    zkp_frame_end(wr, mark);
    c->handshaken = true;
}

/* Answers one request frame; returns false when the connection must close. */
static bool zkf_answer(struct zk_fake *f, struct zkf_conn *c, const uint8_t *p, size_t n,
                       struct jute_wr *wr)
{
    struct zkp_arena arena;
    zkp_arena_init(&arena, f->arena_mem, sizeof f->arena_mem);
    struct zkp_request rq;
    if (zkp_decode_request(p, n, &rq, &arena))
        return false;
    uint32_t k = ++c->replies;
    atomic_fetch_add(&f->requests, 1);
    if (f->o.silent_after && k > f->o.silent_after)
        return true;
    struct zkp_reply_header h = {rq.xid, (int64_t)k, ZOK};
    if (f->o.fail_every && k % f->o.fail_every == 0)
        h.err = ZBADVERSION;
    struct zkp_response resp;
    memset(&resp, 0, sizeof resp);
    resp.op = rq.op;
    if (rq.op == ZOO_CREATE_OP)
        resp.path = rq.u.create.path;
    resp.stat.czxid = resp.stat.mzxid = (int64_t)k;
    if (rq.op == ZOO_PING_OP || rq.op == ZOO_CLOSE_SESSION_OP)
        h.zxid = 0;
    zkp_encode_reply_frame(wr, &h, &resp);
    if (rq.op == ZOO_CLOSE_SESSION_OP)
        return false;
    return !(f->o.close_after && k >= f->o.close_after);
}

static bool zkf_on_readable(struct zk_fake *f, struct zkf_conn *c)
{
    ssize_t k = recv(c->fd, c->rbuf + c->rlen, ZKF_BUF - c->rlen, 0);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (k <= 0)
        return false;
    c->rlen += (size_t)k;
    struct jute_wr wr;
    jute_wr_init(&wr, c->wbuf, ZKF_BUF);
    size_t off = 0;
    bool keep = true;
    while (keep && !wr.err) {
        struct zkp_frame fr;
        if (zkp_frame_next(c->rbuf + off, c->rlen - off, ZKF_BUF - 4, &fr))
            return false;
        if (!fr.ready || ZKF_BUF - wr.pos < 4096)
            break;
        if (!c->handshaken)
            zkf_handshake(f, c, &wr);
        else
            keep = zkf_answer(f, c, fr.payload, fr.payload_len, &wr);
        off += fr.consumed;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    /* The client reads while it writes, so a blocking send cannot wedge. */
    int fl = fcntl(c->fd, F_GETFL);
    fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
    bool sent = wr.err == 0 && send(c->fd, c->wbuf, wr.pos, MSG_NOSIGNAL) == (ssize_t)wr.pos;
    fcntl(c->fd, F_SETFL, fl);
    return sent && keep;
}

static void zkf_accept(struct zk_fake *f)
{
    int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int slot = 0;
    while (slot < ZKF_CONNS_MAX && f->conns[slot])
        slot++;
    struct zkf_conn *c = slot < ZKF_CONNS_MAX ? calloc(1, sizeof *c) : NULL;
    if (c) {
        c->rbuf = malloc(ZKF_BUF);
        c->wbuf = malloc(ZKF_BUF);
    }
    if (!c || !c->rbuf || !c->wbuf) {
        if (c) {
            free(c->rbuf);
            free(c->wbuf);
        }
        free(c);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->slot = slot;
    f->conns[slot] = c;
    struct epoll_event ev = {EPOLLIN, {.ptr = c}};
    if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev))
        zkf_close(f, c);
}

static void *zkf_main(void *arg)
{
    struct zk_fake *f = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(f->epfd, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &f->stopfd)
                return NULL;
            if (p == &f->lfd)
                zkf_accept(f);
            else if (!zkf_on_readable(f, p))
                zkf_close(f, p);
        }
    }
}

struct zk_fake *zk_fake_start(const struct zk_fake_opts *opts, int *port)
{
    struct zk_fake *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (opts)
        f->o = *opts;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    f->epfd = epoll_create1(EPOLL_CLOEXEC);
    f->stopfd = eventfd(0, EFD_CLOEXEC);
    struct epoll_event lev = {EPOLLIN, {.ptr = &f->lfd}}, sev = {EPOLLIN, {.ptr = &f->stopfd}};
    if (f->lfd < 0 || f->epfd < 0 || f->stopfd < 0 ||
        bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(f->lfd, 128) ||
        getsockname(f->lfd, (struct sockaddr *)&sa, &len) ||
        epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->lfd, &lev) ||
        epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->stopfd, &sev) ||
        pthread_create(&f->thread, NULL, zkf_main, f)) {
        close(f->lfd);
        close(f->epfd);
        close(f->stopfd);
        free(f);
        return NULL;
    }
    *port = ntohs(sa.sin_port);
    return f;
}

uint64_t zk_fake_requests(const struct zk_fake *f)
{
    return atomic_load(&f->requests);
}

void zk_fake_stop(struct zk_fake *f)
{
    uint64_t one = 1;
    (void)!write(f->stopfd, &one, sizeof one);
    pthread_join(f->thread, NULL);
    for (int i = 0; i < ZKF_CONNS_MAX; i++)
        if (f->conns[i])
            zkf_close(f, f->conns[i]);
    close(f->lfd);
    close(f->epfd);
    close(f->stopfd);
    free(f);
}
