/* server/peer: real loopback links between peer sets in one process. FIFO
 * delivery both ways on exactly one link per pair (the larger id dials),
 * what the smaller side queued before the dial is delivered, a dead peer and
 * a DISCONNECT are reported as breaks on the other side only, a message for
 * a peer that never connects is dropped with a break after the wait bound,
 * and bad hellos / frame lengths close the connection. The modules are
 * compiled in (tests link the library only, which holds no server/ code). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/log.h"
#include "server/loop.h"
#include "server/peer.h"

/* Big-endian helpers for building frames by hand (the peer module keeps its
 * own private copies). */
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
#include "tests/zabd/harness.h"

#define N 3

struct rec {
    int msgs[N + 1];             /* count by sender */
    int breaks[N + 1];
    uint32_t next_seq[N + 1];    /* FIFO check: payload is a sequence number */
    int out_of_order;
};

static struct loop *lp;
static struct peer_set sets[N + 1];
static struct rec recs[N + 1];
static struct peer_addr addrs[N + 1];
static uint16_t ports[N];

static void on_message(void *arg, int peer, const uint8_t *msg, size_t len)
{
    struct rec *r = arg;
    uint32_t seq = 0;
    if (len == 4)
        seq = get_u32(msg);
    if (seq != r->next_seq[peer])
        r->out_of_order++;
    r->next_seq[peer] = seq + 1;
    r->msgs[peer]++;
}

static void on_break(void *arg, int peer)
{
    struct rec *r = arg;
    r->breaks[peer]++;
}

static void start_set(int id)
{
    char err[256];
    struct peer_callbacks cb = {on_message, on_break, &recs[id]};
    assert_int_equal(peer_init(&sets[id], lp, id, N, addrs, &cb, err, sizeof err), 0);
}

/* What zabd's before-sleep hook does for its links. */
static void flush_all(struct loop *l, void *arg)
{
    (void)l, (void)arg;
    for (int id = 1; id <= N; id++)
        if (sets[id].loop)
            peer_flush(&sets[id]);
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    memset(recs, 0, sizeof recs);
    memset(sets, 0, sizeof sets);
    slog_set_level(SLOG_WARN);
    lp = loop_new(err, sizeof err);
    if (!lp || zh_free_ports(ports, N) != 0)
        return -1;
    loop_set_before_sleep(lp, flush_all, NULL);
    for (int id = 1; id <= N; id++)
        if (peer_resolve(&addrs[id], "127.0.0.1", ports[id - 1], err, sizeof err) != 0)
            return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int id = 1; id <= N; id++)
        peer_shutdown(&sets[id]);
    loop_free(lp);
    return 0;
}

/* Runs the loop until *flag >= want or timeout; returns whether it got there. */
static int run_until(const int *flag, int want, unsigned timeout_ms)
{
    uint64_t end = zh_now_ms() + timeout_ms;
    while (*flag < want && zh_now_ms() < end)
        loop_run_once(lp, 10);
    return *flag >= want;
}

static void run_for(unsigned ms)
{
    uint64_t end = zh_now_ms() + ms;
    while (zh_now_ms() < end)
        loop_run_once(lp, 10);
}

static void send_seq(int from, int to, uint32_t seq)
{
    uint8_t b[4];
    put_u32(b, seq);
    peer_send(&sets[from], to, b, 4);
}

static void fifo_both_ways_one_link_per_pair(void **state)
{
    (void)state;
    start_set(1);
    /* The smaller id queues before the larger one even exists. */
    for (uint32_t i = 0; i < 5; i++)
        send_seq(1, 2, i);
    start_set(2);
    assert_true(run_until(&recs[2].msgs[1], 5, 3000));
    for (uint32_t i = 0; i < 1000; i++) {
        send_seq(1, 2, 5 + i);
        send_seq(2, 1, i);
    }
    assert_true(run_until(&recs[2].msgs[1], 1005, 5000));
    assert_true(run_until(&recs[1].msgs[2], 1000, 5000));
    assert_int_equal(recs[1].out_of_order + recs[2].out_of_order, 0);
    assert_int_equal(recs[1].breaks[2] + recs[2].breaks[1], 0);
    /* One link: 2 dialed 1, 1 accepted; no second socket anywhere. */
    assert_true(peer_link_up(&sets[1], 2) && peer_link_up(&sets[2], 1));
    assert_int_equal(sets[2].links[1].dialer, 1);
    assert_int_equal(sets[1].links[2].dialer, 0);
    for (uint32_t i = 0; i < PEER_ACCEPTS_MAX; i++)
        assert_int_equal(sets[1].accepts[i].fd, -1);
    assert_int_equal(sets[2].listen_fd >= 0, 1);
}

static void dead_peer_and_disconnect_are_breaks_on_the_other_side(void **state)
{
    (void)state;
    start_set(1);
    start_set(2);
    start_set(3);
    send_seq(3, 1, 0);
    send_seq(1, 3, 0);
    assert_true(run_until(&recs[1].msgs[3], 1, 3000));
    assert_true(run_until(&recs[3].msgs[1], 1, 3000));
    /* DISCONNECT from 3: 1 hears a break, 3 does not. */
    peer_disconnect(&sets[3], 1);
    assert_true(run_until(&recs[1].breaks[3], 1, 3000));
    run_for(100);
    assert_int_equal(recs[3].breaks[1], 0);
    /* Later sends open a new link (3 redials) and arrive in order. */
    send_seq(3, 1, 1);
    assert_true(run_until(&recs[1].msgs[3], 2, 3000));
    assert_int_equal(recs[1].out_of_order, 0);
    /* Server 2 dies: 1 and 3 each hear exactly one break from 2. */
    send_seq(2, 1, 0);
    assert_true(run_until(&recs[1].msgs[2], 1, 3000));
    uint64_t end = zh_now_ms() + 3000;
    while (!peer_link_up(&sets[3], 2) && zh_now_ms() < end)
        loop_run_once(lp, 10);
    assert_true(peer_link_up(&sets[3], 2));
    peer_shutdown(&sets[2]);
    assert_true(run_until(&recs[1].breaks[2], 1, 3000));
    assert_true(run_until(&recs[3].breaks[2], 1, 3000));
    run_for(300);   /* 3 keeps redialing 2 silently: nothing queued, no break */
    assert_int_equal(recs[1].breaks[2], 1);
    assert_int_equal(recs[3].breaks[2], 1);
}

static void unanswered_queue_is_dropped_with_a_break(void **state)
{
    (void)state;
    start_set(1);
    send_seq(1, 3, 0);   /* 3 never starts: 1 cannot dial a larger id */
    uint64_t t0 = zh_now_ms();
    assert_true(run_until(&recs[1].breaks[3], 1, PEER_LINK_WAIT_MS + 1000));
    assert_true(zh_now_ms() - t0 >= PEER_LINK_WAIT_MS);
    assert_int_equal(buf_len(&sets[1].links[3].out), 0);
    /* The dialing side: 3 sends to 2 which is down; the failed connect is a break. */
    start_set(3);
    send_seq(3, 2, 0);
    assert_true(run_until(&recs[3].breaks[2], 1, 3000));
}

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void hello(uint8_t *h, uint32_t magic, uint32_t from, uint32_t to)
{
    put_u32(h, magic);
    put_u32(h + 4, PEER_HELLO_VERSION);
    put_u32(h + 8, from);
    put_u32(h + 12, to);
}

/* Runs the loop until the raw socket sees EOF; 1 if it did. */
static int closed_by_peer(int fd)
{
    uint64_t end = zh_now_ms() + 3000;
    while (zh_now_ms() < end) {
        loop_run_once(lp, 10);
        char b[64];
        ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (n == 0)
            return 1;
    }
    return 0;
}

static void bad_hellos_and_frames_close_the_connection(void **state)
{
    (void)state;
    start_set(1);
    uint8_t h[PEER_HELLO_BYTES + 16];
    /* Wrong magic; a sender id below mine (only larger ids dial); wrong target. */
    uint32_t cases[3][3] = {{0x12345678u, 2, 1}, {PEER_HELLO_MAGIC, 1, 1},
                            {PEER_HELLO_MAGIC, 2, 3}};
    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(ports[0]);
        hello(h, cases[i][0], cases[i][1], cases[i][2]);
        assert_int_equal(send(fd, h, PEER_HELLO_BYTES, 0), PEER_HELLO_BYTES);
        assert_true(closed_by_peer(fd));
        close(fd);
    }
    assert_int_equal(recs[1].breaks[2], 0);
    /* A good hello as server 2, one good frame, then a zero-length frame. */
    int fd = raw_connect(ports[0]);
    hello(h, PEER_HELLO_MAGIC, 2, 1);
    put_u32(h + 16, 4);
    put_u32(h + 20, 0);          /* payload: seq 0 */
    put_u32(h + 24, 0);          /* bad: length 0 */
    assert_int_equal(send(fd, h, 28, 0), 28);
    assert_true(closed_by_peer(fd));
    close(fd);
    assert_int_equal(recs[1].msgs[2], 1);
    assert_int_equal(recs[1].breaks[2], 1);
    /* An oversized length is refused the same way, before any allocation. */
    fd = raw_connect(ports[0]);
    hello(h, PEER_HELLO_MAGIC, 2, 1);
    put_u32(h + 16, PEER_FRAME_BYTES_MAX + 1);
    assert_int_equal(send(fd, h, 20, 0), 20);
    assert_true(closed_by_peer(fd));
    close(fd);
    assert_int_equal(recs[1].breaks[2], 2);
}

static void new_link_replaces_the_old_one(void **state)
{
    (void)state;
    start_set(1);
    uint8_t h[PEER_HELLO_BYTES];
    hello(h, PEER_HELLO_MAGIC, 3, 1);
    int old_fd = raw_connect(ports[0]);
    assert_int_equal(send(old_fd, h, sizeof h, 0), (ssize_t)sizeof h);
    run_for(100);
    assert_true(peer_link_up(&sets[1], 3));
    /* Server 3 "restarted": its new connection replaces the old one. */
    int new_fd = raw_connect(ports[0]);
    assert_int_equal(send(new_fd, h, sizeof h, 0), (ssize_t)sizeof h);
    assert_true(closed_by_peer(old_fd));
    assert_int_equal(recs[1].breaks[3], 1);
    assert_true(peer_link_up(&sets[1], 3));
    /* Frames sent by 1 now go to the new connection. */
    send_seq(1, 3, 0);
    run_for(100);
    uint8_t b[8];
    assert_int_equal(recv(new_fd, b, sizeof b, MSG_DONTWAIT), 8);
    assert_int_equal(get_u32(b), 4);
    assert_int_equal(get_u32(b + 4), 0);
    close(old_fd);
    close(new_fd);
}

/* The smaller side nudges: the larger one dials at once even deep in its
 * back-off; a nudge to a live link changes nothing. */
static void nudge_skips_the_back_off(void **state)
{
    (void)state;
    start_set(2);
    run_for(300);                       /* 2 dials 1 in vain: back-off grows */
    assert_true(sets[2].links[1].backoff_ms > PEER_BACKOFF_MIN_MS);
    sets[2].links[1].dial_at_ms = loop_clock_ms() + 60000;   /* as if backed off for long */
    start_set(1);
    uint64_t t0 = zh_now_ms();
    send_seq(1, 2, 0);
    assert_true(run_until(&recs[2].msgs[1], 1, 1500));
    assert_true(zh_now_ms() - t0 < 1500);
    assert_true(sets[1].links[2].nudges >= 1);
    assert_int_equal(sets[2].links[1].backoff_ms, PEER_BACKOFF_MIN_MS);
    /* A stray nudge (as server 1) while the link is up: ignored. */
    uint8_t h[PEER_HELLO_BYTES];
    put_u32(h, PEER_NUDGE_MAGIC);
    put_u32(h + 4, PEER_HELLO_VERSION);
    put_u32(h + 8, 1);
    put_u32(h + 12, 2);
    int fd = raw_connect(ports[1]);
    assert_int_equal(send(fd, h, sizeof h, 0), (ssize_t)sizeof h);
    assert_true(closed_by_peer(fd));
    close(fd);
    run_for(100);
    assert_true(peer_link_up(&sets[2], 1) && peer_link_up(&sets[1], 2));
    assert_int_equal(recs[1].breaks[2] + recs[2].breaks[1], 0);
    send_seq(1, 2, 1);
    assert_true(run_until(&recs[2].msgs[1], 2, 1000));
    assert_int_equal(recs[2].out_of_order, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fifo_both_ways_one_link_per_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_peer_and_disconnect_are_breaks_on_the_other_side,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(unanswered_queue_is_dropped_with_a_break, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_hellos_and_frames_close_the_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(new_link_replaces_the_old_one, setup, teardown),
        cmocka_unit_test_setup_teardown(nudge_skips_the_back_off, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
