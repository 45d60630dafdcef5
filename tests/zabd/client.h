/* A tiny blocking ZooKeeper client for tests, on core/zk_wire.h's client
 * side over a real loopback socket: connect (new session or resume one),
 * send requests (pipelined), receive replies in order, collect watch
 * notifications on the way. Every wait is bounded.
 *
 * Header-only (static functions) like tests/zabd/harness.h: test binaries
 * link the library only. Test code: no recovery beyond "fail and say why". */
#ifndef ZABLAB_TESTS_ZABD_CLIENT_H
#define ZABLAB_TESTS_ZABD_CLIENT_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/zk_wire.h"
#include "tests/zabd/harness.h"

#define ZC_PENDING_MAX 4096u
#define ZC_EVENTS_MAX 64u
#define ZC_FRAME_MAX (8u << 20)

struct zc_event {
    int32_t type;
    int64_t zxid;
    char path[256];
};

struct zc {
    int fd;
    int64_t session_id;
    uint8_t passwd[SESSION_PASSWD_LEN];
    int32_t timeout_ms;
    int64_t last_zxid;
    int32_t next_xid;
    int32_t pend_xid[ZC_PENDING_MAX], pend_op[ZC_PENDING_MAX];
    uint32_t p_head, p_n;
    uint8_t *in;
    size_t in_len, in_cap;
    struct zc_event events[ZC_EVENTS_MAX];
    uint32_t n_events;
    struct zkw_buf out;
    char why[160];         /* last failure */
};

static inline int zc_dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline int zc_send_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Waits for the next whole frame; its payload is c->in[4..4+*len). 0, or
 * -1 on timeout, close (why says which) or a bad length. */
static inline int zc_next_frame(struct zc *c, size_t *len, unsigned wait_ms)
{
    uint64_t end = zh_now_ms() + wait_ms;
    for (;;) {
        struct zkp_frame f;
        if (zkp_frame_next(c->in, c->in_len, ZC_FRAME_MAX, &f) != 0) {
            snprintf(c->why, sizeof c->why, "bad frame length from the server");
            return -1;
        }
        if (f.ready) {
            *len = f.payload_len;
            return 0;
        }
        if (c->in_cap - c->in_len < 65536) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 1u << 17;
            uint8_t *p = realloc(c->in, cap);
            if (!p)
                return -1;
            c->in = p;
            c->in_cap = cap;
        }
        uint64_t now = zh_now_ms();
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (now >= end || poll(&pf, 1, (int)(end - now)) <= 0) {
            snprintf(c->why, sizeof c->why, "timeout after %u ms", wait_ms);
            return -1;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n <= 0) {
            snprintf(c->why, sizeof c->why, "connection closed by the server");
            return -1;
        }
        c->in_len += (size_t)n;
    }
}

static inline void zc_consume(struct zc *c, size_t payload_len)
{
    size_t used = 4 + payload_len;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

/* Is the server's side closed (EOF within wait_ms, everything before it
 * drained)? */
static inline bool zc_closed_by_server(struct zc *c, unsigned wait_ms)
{
    uint64_t end = zh_now_ms() + wait_ms;
    uint8_t buf[4096];
    for (;;) {
        uint64_t now = zh_now_ms();
        struct pollfd pf = {c->fd, POLLIN, 0};
        if (now >= end || poll(&pf, 1, (int)(end - now)) <= 0)
            return false;
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n <= 0)
            return true;
    }
}

static inline void zc_close(struct zc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    zkw_buf_free(&c->out);
}

/* Opens a connection and a session: session_id 0 = new, else resume it
 * with c->passwd. 0 when CONNECTED with a timeout > 0; -1 otherwise (why). */
static inline int zc_open(struct zc *c, uint16_t port, int64_t session_id, int32_t timeout_ms,
                          unsigned wait_ms)
{
    uint8_t passwd[SESSION_PASSWD_LEN];
    memcpy(passwd, c->passwd, sizeof passwd);
    int64_t last_zxid = session_id ? c->last_zxid : 0;
    struct zc_event keep[ZC_EVENTS_MAX];
    uint32_t n_keep = c->n_events;
    memcpy(keep, c->events, sizeof keep);
    memset(c, 0, sizeof *c);
    memcpy(c->events, keep, sizeof keep);
    c->n_events = n_keep;
    memcpy(c->passwd, passwd, sizeof passwd);
    c->next_xid = 1;
    c->last_zxid = last_zxid;
    c->fd = zc_dial(port);
    if (c->fd < 0) {
        snprintf(c->why, sizeof c->why, "cannot connect to port %u", port);
        return -1;
    }
    struct zkw_connect cr;
    memset(&cr, 0, sizeof cr);
    cr.req.session_id = session_id;
    if (session_id)
        memcpy(cr.req.passwd, passwd, sizeof passwd);
    cr.req.last_zxid_seen = last_zxid;
    cr.req.timeout_ms = timeout_ms;
    cr.long_form = true;
    size_t len;
    if (zkw_encode_connect(&cr, &c->out) != 0 || zc_send_all(c->fd, c->out.p, c->out.len) != 0 ||
        zc_next_frame(c, &len, wait_ms) != 0)
        return -1;
    c->out.len = 0;
    struct zkw_reply r;
    int rc = zkw_decode_connect_resp(c->in + 4, len, &r);
    zc_consume(c, len);
    if (rc != ZOK) {
        snprintf(c->why, sizeof c->why, "bad ConnectResponse");
        return -1;
    }
    c->timeout_ms = r.connect.timeout_ms;
    if (c->timeout_ms > 0) {        /* an expired answer carries id 0 and zeros */
        c->session_id = r.connect.session_id;
        if (r.connect.passwd.len == SESSION_PASSWD_LEN)
            memcpy(c->passwd, r.connect.passwd.ptr, SESSION_PASSWD_LEN);
    }
    zkw_reply_free(&r);
    if (c->timeout_ms <= 0) {
        snprintf(c->why, sizeof c->why, "session expired (timeout 0)");
        return -1;
    }
    return 0;
}

static inline int32_t zc_op_of_xid(void *arg, int32_t xid)
{
    struct zc *c = arg;
    if (c->p_n == 0 || c->pend_xid[c->p_head] != xid)
        return ZOO_ERROR_OP;            /* out of order: a failure */
    return c->pend_op[c->p_head];
}

/* Sends one request (its cxid is assigned here unless it is a reserved
 * xid < 0); returns the xid, or INT32_MIN on failure. */
static inline int32_t zc_send(struct zc *c, const struct zk_request *req)
{
    struct zk_request r = *req;
    if (r.cxid >= 0)
        r.cxid = c->next_xid++;
    if (c->p_n == ZC_PENDING_MAX)
        return INT32_MIN;
    c->out.len = 0;
    if (zkw_encode_request(&r, &c->out) != 0 || zc_send_all(c->fd, c->out.p, c->out.len) != 0) {
        snprintf(c->why, sizeof c->why, "cannot send op %d", r.type);
        return INT32_MIN;
    }
    uint32_t tail = (c->p_head + c->p_n) % ZC_PENDING_MAX;
    c->pend_xid[tail] = r.cxid;
    c->pend_op[tail] = r.type;
    c->p_n++;
    return r.cxid;
}

/* The next reply (watch notifications before it are collected in
 * c->events). The caller frees *out with zkw_reply_free. 0 or -1 (why). */
static inline int zc_recv(struct zc *c, struct zkw_reply *out, unsigned wait_ms)
{
    for (;;) {
        size_t len;
        if (zc_next_frame(c, &len, wait_ms) != 0)
            return -1;
        int rc = zkw_decode_reply(c->in + 4, len, zc_op_of_xid, c, out);
        zc_consume(c, len);
        if (rc != ZOK) {
            snprintf(c->why, sizeof c->why, "undecodable reply (out of order?)");
            return -1;
        }
        if (out->zxid > c->last_zxid)
            c->last_zxid = out->zxid;
        if (out->kind == ZKW_REPLY_WATCH) {
            if (c->n_events < ZC_EVENTS_MAX) {
                struct zc_event *e = &c->events[c->n_events++];
                e->type = out->event.type;
                e->zxid = out->zxid;
                int n = out->event.path.len > 0 ? out->event.path.len : 0;
                snprintf(e->path, sizeof e->path, "%.*s", n, out->event.path.ptr);
            }
            zkw_reply_free(out);
            continue;
        }
        if (c->p_n && c->pend_xid[c->p_head] == out->xid) {
            c->p_head = (c->p_head + 1) % ZC_PENDING_MAX;
            c->p_n--;
        }
        return 0;
    }
}

/* Send and wait for its reply: the reply's err, or INT32_MIN on failure. */
static inline int32_t zc_call(struct zc *c, const struct zk_request *req, struct zkw_reply *out,
                              unsigned wait_ms)
{
    int32_t xid = zc_send(c, req);
    if (xid == INT32_MIN || zc_recv(c, out, wait_ms) != 0)
        return INT32_MIN;
    if (out->xid != xid) {
        snprintf(c->why, sizeof c->why, "reply xid %d, expected %d", out->xid, xid);
        zkw_reply_free(out);
        return INT32_MIN;
    }
    return out->err;
}

static const struct zk_acl zc_open_acl = {ZOO_PERM_ALL, {"world", "anyone"}};

static inline struct zk_request zc_req(int32_t type, const char *path)
{
    struct zk_request r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.path = path;
    r.version = -1;
    r.ttl_ms = -1;
    return r;
}

static inline struct zk_request zc_create_req(const char *path, const char *data, int32_t flags)
{
    struct zk_request r = zc_req(ZOO_CREATE_OP, path);
    r.data = (const uint8_t *)data;
    r.data_len = data ? (uint32_t)strlen(data) : 0;
    r.acl = &zc_open_acl;
    r.acl_count = 1;
    r.flags = flags;
    return r;
}

/* Convenience calls: the err (INT32_MIN on failure). */
static inline int32_t zc_create(struct zc *c, const char *path, const char *data, int32_t flags,
                                char *created, size_t cap)
{
    struct zk_request r = zc_create_req(path, data, flags);
    struct zkw_reply rep;
    int32_t err = zc_call(c, &r, &rep, 5000);
    if (err == ZOK && created)
        snprintf(created, cap, "%.*s", rep.body.path.len, rep.body.path.ptr);
    if (err != INT32_MIN)
        zkw_reply_free(&rep);
    return err;
}

static inline int32_t zc_get(struct zc *c, const char *path, bool watch, char *data, size_t cap,
                             struct zkp_stat *st)
{
    struct zk_request r = zc_req(ZOO_GETDATA_OP, path);
    r.flags = watch ? 1 : 0;
    struct zkw_reply rep;
    int32_t err = zc_call(c, &r, &rep, 5000);
    if (err == ZOK && data) {
        int n = rep.body.data.len > 0 ? rep.body.data.len : 0;
        snprintf(data, cap, "%.*s", n, (const char *)rep.body.data.ptr);
    }
    if (err == ZOK && st)
        *st = rep.body.stat;
    if (err != INT32_MIN)
        zkw_reply_free(&rep);
    return err;
}

static inline int32_t zc_set(struct zc *c, const char *path, const char *data, int32_t version)
{
    struct zk_request r = zc_req(ZOO_SETDATA_OP, path);
    r.data = (const uint8_t *)data;
    r.data_len = (uint32_t)strlen(data);
    r.version = version;
    struct zkw_reply rep;
    int32_t err = zc_call(c, &r, &rep, 5000);
    if (err != INT32_MIN)
        zkw_reply_free(&rep);
    return err;
}

static inline int32_t zc_simple(struct zc *c, int32_t type, const char *path, int32_t flags)
{
    struct zk_request r = zc_req(type, path);
    r.flags = flags;
    struct zkw_reply rep;
    int32_t err = zc_call(c, &r, &rep, 5000);
    if (err != INT32_MIN)
        zkw_reply_free(&rep);
    return err;
}

/* getChildren: names joined with ',' (sorted as the server sends them). */
static inline int32_t zc_children(struct zc *c, const char *path, char *out, size_t cap)
{
    struct zk_request r = zc_req(ZOO_GETCHILDREN_OP, path);
    struct zkw_reply rep;
    int32_t err = zc_call(c, &r, &rep, 5000);
    if (err == ZOK) {
        size_t len = 0;
        out[0] = '\0';
        for (int32_t i = 0; i < rep.body.children.count && len + 1 < cap; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%.*s", i ? "," : "",
                                    rep.body.children.items[i].len,
                                    rep.body.children.items[i].ptr);
    }
    if (err != INT32_MIN)
        zkw_reply_free(&rep);
    return err;
}

#endif
