/* Throughput of server/peer links: two peer sets in one process and one
 * epoll loop over loopback, server 2 sending to server 1 with at most 4 MiB
 * queued (the bench applies the back-pressure zabd leaves to the core).
 * Not built by the Makefile (it compiles server/ code into itself):
 *   cc -std=c11 -O2 -D_GNU_SOURCE -I. tests/zabd/peer_bench.c -o /tmp/peer_bench
 *   /tmp/peer_bench [MESSAGE_BYTES [COUNT]] */
#include "server/log.c"
#include "server/loop.c"
#include "server/peer.c"
#include "tests/zabd/harness.h"

static long delivered, breaks;

static void on_msg(void *arg, int peer, const uint8_t *msg, size_t len)
{
    (void)arg, (void)peer, (void)msg, (void)len;
    delivered++;
}

static void on_brk(void *arg, int peer)
{
    (void)arg, (void)peer;
    breaks++;
}

int main(int argc, char **argv)
{
    size_t size = argc > 1 ? (size_t)atol(argv[1]) : 100;
    long count = argc > 2 ? atol(argv[2]) : 200000;
    if (size < 1 || size > (1u << 20) || count < 1)
        return fprintf(stderr, "usage: peer_bench [1..1048576 [COUNT]]\n"), 2;
    char err[256];
    struct loop *l = loop_new(err, sizeof err);
    uint16_t ports[2];
    static struct peer_addr addrs[3];
    static struct peer_set a, b;
    struct peer_callbacks cb = {on_msg, on_brk, NULL};
    if (!l || zh_free_ports(ports, 2) != 0 ||
        peer_resolve(&addrs[1], "127.0.0.1", ports[0], err, sizeof err) != 0 ||
        peer_resolve(&addrs[2], "127.0.0.1", ports[1], err, sizeof err) != 0 ||
        peer_init(&a, l, 1, 2, addrs, &cb, err, sizeof err) != 0 ||
        peer_init(&b, l, 2, 2, addrs, &cb, err, sizeof err) != 0)
        return fprintf(stderr, "setup: %s\n", err), 1;
    uint64_t end = zh_now_ms() + 5000;
    while (!peer_link_up(&a, 2) && zh_now_ms() < end)
        loop_run_once(l, 10);
    static uint8_t msg[1u << 20];
    memset(msg, 7, size);
    uint64_t t0 = zh_now_ms();
    long sent = 0;
    while (delivered < count && breaks == 0 && zh_now_ms() < t0 + 60000) {
        while (sent < count && buf_len(&b.links[1].out) < (4u << 20)) {
            peer_send(&b, 1, msg, size);
            sent++;
        }
        loop_run_once(l, 1);
    }
    uint64_t ms = zh_now_ms() - t0;
    if (ms == 0)
        ms = 1;
    printf("%zu-byte messages: %ld in %llu ms = %.0f msg/s, %.1f MB/s%s\n", size, delivered,
           (unsigned long long)ms, delivered * 1000.0 / (double)ms,
           delivered * (double)size / 1000.0 / (double)ms, breaks ? " (link broke)" : "");
    peer_shutdown(&a);
    peer_shutdown(&b);
    loop_free(l);
    return delivered == count ? 0 : 1;
}
