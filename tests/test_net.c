/* The simulated network: FIFO per connection, partitions (both ways and one
 * way), connection drops, loss as drops, clogging, the broken network, the
 * memory bound, and payload integrity through ring wrap and growth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net-model/net.h"

#define MS SIM_NS_PER_MS
enum { EV_DELIVER = 1, EV_BROKEN = 2, EV_SEND = 3, EV_FAULT = 4 };
enum { LOG_MAX = 20000 };

struct delivery {
    sim_time_ns t;
    int from, to;
    uint64_t payload; /* first 8 bytes */
    size_t len;
};

struct notice {
    sim_time_ns t;
    int who, peer;
    uint32_t gen;
};

struct harness {
    struct sim_sched sched;
    struct sim_rng rng;
    struct net net;
    struct delivery del[LOG_MAX];
    size_t ndel;
    size_t nlost_events;
    struct notice brk[LOG_MAX];
    size_t nbrk;
};

static struct harness *h_new(int endpoints, const char *latency, size_t bytes_max)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(sim_sched_init(&h->sched, 1 << 16), 0);
    assert_int_equal(sim_rng_open(&h->rng, 2024, "network", 0), 0);
    struct net_config cfg = {
        .endpoints = endpoints, .ev_deliver = EV_DELIVER, .ev_broken = EV_BROKEN,
        .bytes_max = bytes_max, .msg_bytes_max = 4096,
    };
    char err[200];
    size_t col;
    assert_int_equal(net_latency_parse(&cfg.latency, latency, err, sizeof err, &col), 0);
    assert_int_equal(net_init(&h->net, &cfg, &h->sched, &h->rng, err, sizeof err), 0);
    return h;
}

static void h_free(struct harness *h)
{
    net_free(&h->net);
    sim_rng_close(&h->rng);
    sim_sched_free(&h->sched);
    free(h);
}

static enum net_status send_u64(struct harness *h, int from, int to, uint64_t payload)
{
    return net_send(&h->net, h->sched.now, from, to, &payload, sizeof payload);
}

/* Runs every event up to and including time `until`. EV_SEND events send
 * a->b with payload = the event's seq (ev.b carries from*256+to). */
static void h_run(struct harness *h, sim_time_ns until)
{
    struct sim_event ev;
    while (sim_sched_peek_time(&h->sched) <= until && sim_sched_pop(&h->sched, &ev)) {
        if (ev.kind == EV_DELIVER) {
            int from, to;
            const uint8_t *bytes;
            size_t len;
            enum net_outcome out = net_deliver(&h->net, &ev, &from, &to, &bytes, &len);
            h->nlost_events += out == NET_LOST;
            if (out != NET_DELIVERED)
                continue;
            assert_true(h->ndel < LOG_MAX);
            struct delivery *d = &h->del[h->ndel++];
            *d = (struct delivery){.t = ev.time, .from = from, .to = to, .len = len};
            memcpy(&d->payload, bytes, len < 8 ? len : 8);
            assert_int_equal(ev.node, to);
        } else if (ev.kind == EV_BROKEN) {
            assert_true(h->nbrk < LOG_MAX);
            h->brk[h->nbrk++] = (struct notice){ev.time, ev.node, (int)ev.a, (uint32_t)ev.b};
        } else if (ev.kind == EV_SEND) {
            int from = (int)(ev.b / 256), to = (int)(ev.b % 256);
            enum net_status st = send_u64(h, from, to, ev.a);
            assert_true(st == NET_OK || st == NET_LOST_AT_SEND);
        }
    }
}

static void schedule_send(struct harness *h, sim_time_ns t, int from, int to, uint64_t payload)
{
    assert_int_equal(sim_sched_push(&h->sched, t, EV_SEND, from, payload, (uint64_t)(from * 256 + to)),
                     SIM_SCHED_OK);
}

static size_t count_notices(const struct harness *h, int who, int peer)
{
    size_t c = 0;
    for (size_t i = 0; i < h->nbrk; i++)
        c += h->brk[i].who == who && h->brk[i].peer == peer;
    return c;
}

/* ---- FIFO ---- */

static void fifo_per_connection_under_random_latency(void **state)
{
    (void)state;
    struct harness *h = h_new(3, "uniform 1ms 20ms", 1 << 20);
    /* 0->1 and 2->1 interleaved; gaps much shorter than the latency spread. */
    for (uint64_t i = 0; i < 3000; i++) {
        schedule_send(h, i * 100 * SIM_NS_PER_US, 0, 1, i);
        schedule_send(h, i * 100 * SIM_NS_PER_US + 7, 2, 1, i);
    }
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 6000);
    uint64_t next[3] = {0, 0, 0};
    int crossings = 0; /* proof that latency really varied: links interleave */
    for (size_t i = 0; i < h->ndel; i++) {
        const struct delivery *d = &h->del[i];
        assert_int_equal(d->payload, next[d->from]);
        next[d->from]++;
        if (i > 0 && d->from != h->del[i - 1].from)
            crossings++;
        /* Never earlier than the minimum latency after its send. */
        assert_true(d->t >= d->payload * 100 * SIM_NS_PER_US + MS);
    }
    assert_true(crossings > 100);
    assert_int_equal(net_stats(&h->net, 0, 1)->delivered, 3000);
    assert_int_equal(net_stats(&h->net, 0, 1)->bytes_delivered, 3000 * 8);
    assert_int_equal(h->nbrk, 0);
    h_free(h);
}

/* Random sizes through a small ring: growth, wrap-around and the scratch
 * copy all hand back the exact bytes. */
static void payload_integrity_through_wrap_and_growth(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "uniform 1us 3ms", 1 << 22);
    struct sim_rng sizes;
    assert_int_equal(sim_rng_open(&sizes, 5, "sizes", 0), 0);
    uint8_t buf[4096];
    uint64_t sent = 0, checked = 0, wrapped = 0;
    for (int round = 0; round < 400; round++) {
        int burst = 1 + (int)sim_rng_below(&sizes, 20);
        for (int k = 0; k < burst; k++, sent++) {
            size_t len = 8 + sim_rng_below(&sizes, round % 50 == 0 ? 4000 : 300);
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(sent * 31 + i * 7);
            memcpy(buf, &sent, 8);
            assert_int_equal(net_send(&h->net, h->sched.now, 0, 1, buf, len), NET_OK);
        }
        struct sim_event ev;
        while (sim_sched_pending(&h->sched) > sim_rng_below(&sizes, 5) && sim_sched_pop(&h->sched, &ev)) {
            int from, to;
            const uint8_t *bytes;
            size_t len;
            assert_int_equal(net_deliver(&h->net, &ev, &from, &to, &bytes, &len), NET_DELIVERED);
            uint64_t seq;
            wrapped += bytes == h->net.scratch; /* the message straddled the ring's end */
            memcpy(&seq, bytes, 8);
            assert_int_equal(seq, checked);
            for (size_t i = 8; i < len; i++)
                assert_int_equal(bytes[i], (uint8_t)(seq * 31 + i * 7));
            checked++;
        }
    }
    assert_true(checked > sent / 2);
    assert_true(wrapped > 10);
    sim_rng_close(&sizes);
    h_free(h);
}

/* ---- partitions ---- */

static void nothing_crosses_a_partition_until_heal(void **state)
{
    (void)state;
    struct harness *h = h_new(4, "constant 5ms", 1 << 20);
    /* One message in flight 0->1 and one 1->2 when the partition starts. */
    assert_int_equal(send_u64(h, 0, 1, 100), NET_OK);
    assert_int_equal(send_u64(h, 1, 2, 200), NET_OK);
    h_run(h, 1 * MS);
    const int g0[] = {0}, g1[] = {1, 2};
    const int *groups[] = {g0, g1};
    const size_t lens[] = {1, 2};
    assert_int_equal(net_partition_groups(&h->net, h->sched.now, groups, lens, 2), 0);
    /* In flight across it: lost, both ends told, generation bumped. */
    assert_int_equal(net_generation(&h->net, 0, 1), 1);
    assert_int_equal(net_generation(&h->net, 1, 2), 0);
    assert_int_equal(send_u64(h, 0, 1, 101), NET_LOST_AT_SEND);
    assert_int_equal(send_u64(h, 2, 0, 102), NET_LOST_AT_SEND);
    assert_int_equal(send_u64(h, 1, 2, 201), NET_OK);
    /* 3 is listed nowhere: it reaches both sides. */
    assert_int_equal(send_u64(h, 3, 0, 300), NET_OK);
    assert_int_equal(send_u64(h, 3, 1, 301), NET_OK);
    h_run(h, 20 * MS);
    for (size_t i = 0; i < h->ndel; i++) /* nothing to or from 0 but 3's */
        assert_true(!(h->del[i].from == 0 || h->del[i].to == 0) || h->del[i].from == 3);
    assert_int_equal(h->ndel, 2 + 2 - 1 + 1); /* 200, 201, 301, and 300 (3->0) */
    assert_int_equal(count_notices(h, 0, 1), 2); /* the break, then the failed send */
    assert_int_equal(count_notices(h, 1, 0), 1);
    assert_int_equal(count_notices(h, 2, 0), 1);  /* failed connect: sender only */
    assert_int_equal(count_notices(h, 0, 2), 0);
    assert_int_equal(net_stats(&h->net, 0, 1)->lost, 2);
    net_heal(&h->net);
    size_t before = h->ndel;
    sim_time_ns healed_at = h->sched.now;
    assert_int_equal(send_u64(h, 0, 1, 103), NET_OK);
    assert_int_equal(send_u64(h, 2, 0, 104), NET_OK);
    h_run(h, 40 * MS);
    assert_int_equal(h->ndel, before + 2);
    assert_int_equal(h->del[before].payload, 103);
    assert_int_equal(h->del[before].t, healed_at + 5 * MS);
    h_free(h);
}

static void one_way_block(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 1 << 20);
    assert_int_equal(net_block(&h->net, 0, 0, 1), 0);
    assert_false(net_reachable(&h->net, 0, 1));
    assert_true(net_reachable(&h->net, 1, 0));
    for (uint64_t i = 0; i < 10; i++) {
        schedule_send(h, i * 10 * MS, 1, 0, i);
        schedule_send(h, i * 10 * MS + 5 * MS, 0, 1, 100 + i);
    }
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 10);
    for (size_t i = 0; i < h->ndel; i++) {
        assert_int_equal(h->del[i].from, 1);
        assert_int_equal(h->del[i].payload, i);
    }
    assert_int_equal(net_stats(&h->net, 0, 1)->lost, 10);
    assert_int_equal(net_stats(&h->net, 0, 1)->delivered, 0);
    /* Each 0->1 send broke the connection 1->0 had reopened. */
    assert_int_equal(net_generation(&h->net, 0, 1), 10);
    net_heal(&h->net);
    assert_int_equal(send_u64(h, 0, 1, 999), NET_OK);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->del[h->ndel - 1].payload, 999);
    h_free(h);
}

/* Partitions add cuts; heal removes all of them and the clogs too. */
static void partitions_accumulate_until_heal(void **state)
{
    (void)state;
    struct harness *h = h_new(3, "constant 1ms", 1 << 20);
    const int first[] = {0, 1, NET_GROUP_NONE};  /* 0 | 1, 2 unlisted */
    const int second[] = {NET_GROUP_NONE, 0, 1}; /* 1 | 2, 0 unlisted */
    assert_int_equal(net_partition(&h->net, 0, first), 0);
    assert_int_equal(net_partition(&h->net, 0, second), 0);
    assert_false(net_reachable(&h->net, 0, 1)); /* the first cut stays */
    assert_false(net_reachable(&h->net, 1, 0));
    assert_false(net_reachable(&h->net, 1, 2));
    assert_true(net_reachable(&h->net, 0, 2));
    assert_true(net_reachable(&h->net, 2, 0));
    assert_int_equal(net_clog(&h->net, 0, 2, 100 * MS, SIM_TIME_NEVER), 0);
    net_heal(&h->net);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            if (a != b)
                assert_true(net_reachable(&h->net, a, b));
    assert_int_equal(send_u64(h, 0, 2, 1), NET_OK);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 1);
    assert_int_equal(h->del[0].t, 1 * MS); /* the clog went with the heal */
    h_free(h);
}

/* ---- hold and release ---- */

enum { KIND_VOTE = 1, KIND_ACK = 2 };

static void send_kind(struct harness *h, int from, int to, uint32_t kind, uint64_t payload)
{
    assert_int_equal(net_send_kind(&h->net, h->sched.now, from, to, kind, &payload, sizeof payload), NET_OK);
}

static void hold_stops_one_kind_and_release_delivers_in_order(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 1 << 20);
    assert_int_equal(net_hold(&h->net, 0, 1, 1ull << KIND_ACK), 0);
    send_kind(h, 0, 1, KIND_ACK, 1);
    send_kind(h, 0, 1, KIND_VOTE, 2);
    send_kind(h, 0, 1, KIND_ACK, 3);
    send_kind(h, 1, 0, KIND_ACK, 4); /* the other direction is not held */
    h_run(h, 10 * MS);
    assert_int_equal(h->ndel, 2);
    assert_int_equal(h->del[0].payload, 2);
    assert_int_equal(h->del[1].payload, 4);
    assert_int_equal(net_in_flight(&h->net, 0, 1), 2);
    assert_int_equal(net_stats(&h->net, 0, 1)->held, 2);
    assert_int_equal(net_release(&h->net, 20 * MS, 0, 1, 1ull << KIND_ACK), 0);
    send_kind(h, 0, 1, KIND_ACK, 5); /* sent after: arrives after the released ones */
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 5);
    assert_int_equal(h->del[2].payload, 1);
    assert_int_equal(h->del[3].payload, 3);
    assert_int_equal(h->del[2].t, 20 * MS);
    assert_int_equal(h->del[4].payload, 5);
    assert_true(h->del[4].t >= 20 * MS);
    assert_int_equal(net_in_flight(&h->net, 0, 1), 0);
    h_free(h);
}

/* Moves simulated time to t with a no-op event. */
static void advance(struct harness *h, sim_time_ns t)
{
    assert_int_equal(sim_sched_push(&h->sched, t, EV_FAULT, -1, 0, 0), SIM_SCHED_OK);
    h_run(h, t);
    assert_int_equal(h->sched.now, t);
}

/* A later message of the held kind falls due while the hold is on: it is
 * held too, and the release delivers both in send order. */
static void release_keeps_kind_order(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 1 << 20);
    assert_int_equal(net_hold(&h->net, 0, 1, 1ull << KIND_ACK), 0);
    send_kind(h, 0, 1, KIND_ACK, 1);
    advance(h, 9 * MS);
    send_kind(h, 0, 1, KIND_ACK, 2); /* due at 10ms, held then */
    h_run(h, 10 * MS);
    assert_int_equal(h->ndel, 0);
    assert_int_equal(net_stats(&h->net, 0, 1)->held, 2);
    assert_int_equal(net_release(&h->net, h->sched.now, 0, 1, NET_KIND_ANY), 0);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 2);
    assert_int_equal(h->del[0].payload, 1);
    assert_int_equal(h->del[1].payload, 2);
    h_free(h);
}

/* The release fires at the very instant a later message of the held kind
 * is due, and that message's event was pushed before the release
 * rescheduled the held one: it still arrives after the released one. */
static void tie_with_a_release_goes_after_it(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 1 << 20);
    assert_int_equal(net_hold(&h->net, 0, 1, 1ull << KIND_ACK), 0);
    send_kind(h, 0, 1, KIND_ACK, 1);
    enum { EV_RELEASE = 9 };
    assert_int_equal(sim_sched_push(&h->sched, 10 * MS, EV_RELEASE, -1, 0, 0), SIM_SCHED_OK);
    advance(h, 9 * MS);
    send_kind(h, 0, 1, KIND_ACK, 2); /* its event: 10ms, after the release's */
    struct sim_event ev;
    assert_true(sim_sched_pop(&h->sched, &ev));
    assert_int_equal(ev.kind, EV_RELEASE);
    assert_int_equal(net_release(&h->net, ev.time, 0, 1, NET_KIND_ANY), 0);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 2);
    assert_int_equal(h->del[0].payload, 1);
    assert_int_equal(h->del[1].payload, 2);
    assert_int_equal(h->del[1].t, 10 * MS);
    h_free(h);
}

static void held_messages_die_with_their_connection(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 1 << 20);
    assert_int_equal(net_hold(&h->net, 0, 1, NET_KIND_ANY), 0);
    send_kind(h, 0, 1, KIND_VOTE, 1);
    send_kind(h, 0, 1, KIND_ACK, 2);
    h_run(h, 10 * MS);
    assert_int_equal(h->ndel, 0);
    assert_int_equal(net_drop(&h->net, h->sched.now, 0, 1), 0);
    assert_int_equal(net_stats(&h->net, 0, 1)->lost, 2);
    assert_int_equal(net_release(&h->net, h->sched.now, 0, 1, NET_KIND_ANY), 0);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 0);
    assert_int_equal(net_in_flight(&h->net, 0, 1), 0);
    assert_int_equal(net_send_kind(&h->net, h->sched.now, 0, 1, NET_KINDS_MAX, "x", 1), NET_ERR_CONFIG);
    h_free(h);
}

/* ---- drops ---- */

static void drop_loses_exactly_the_in_flight(void **state)
{
    (void)state;
    struct harness *h = h_new(3, "constant 10ms", 1 << 20);
    assert_int_equal(send_u64(h, 0, 1, 1), NET_OK); /* delivered at 10ms, before the drop */
    h_run(h, 12 * MS);
    assert_int_equal(h->ndel, 1);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(send_u64(h, 0, 1, 10 + i), NET_OK);
    for (uint64_t i = 0; i < 2; i++)
        assert_int_equal(send_u64(h, 1, 0, 20 + i), NET_OK);
    assert_int_equal(send_u64(h, 0, 2, 30), NET_OK);
    assert_int_equal(net_in_flight(&h->net, 0, 1), 3);
    h_run(h, 15 * MS);
    sim_time_ns dropped_at = h->sched.now;
    assert_int_equal(net_drop(&h->net, dropped_at, 0, 1), 0);
    assert_int_equal(net_in_flight(&h->net, 0, 1), 0);
    assert_int_equal(net_in_flight(&h->net, 1, 0), 0);
    assert_int_equal(net_generation(&h->net, 1, 0), 1);
    assert_false(net_connection_open(&h->net, 0, 1));
    /* The next connection starts empty and works. */
    assert_int_equal(send_u64(h, 1, 0, 40), NET_OK);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(net_stats(&h->net, 0, 1)->lost, 3);
    assert_int_equal(net_stats(&h->net, 1, 0)->lost, 2);
    assert_int_equal(net_stats(&h->net, 0, 2)->lost, 0);
    assert_int_equal(h->nlost_events, 5);
    assert_int_equal(h->ndel, 3); /* 1, 30, 40 */
    assert_int_equal(h->del[1].payload, 30);
    assert_int_equal(h->del[2].payload, 40);
    assert_int_equal(h->nbrk, 2);
    assert_int_equal(count_notices(h, 0, 1), 1);
    assert_int_equal(count_notices(h, 1, 0), 1);
    assert_int_equal(h->brk[0].gen, 0);
    assert_int_equal(h->brk[0].t, dropped_at);
    h_free(h);
}

static void endpoint_down_breaks_and_refuses(void **state)
{
    (void)state;
    struct harness *h = h_new(3, "constant 2ms", 1 << 20);
    assert_int_equal(send_u64(h, 0, 1, 1), NET_OK);
    assert_int_equal(send_u64(h, 2, 1, 2), NET_OK);
    assert_int_equal(net_endpoint_down(&h->net, 0, 1), 0);
    h_run(h, 10 * MS);
    assert_int_equal(h->ndel, 0);
    assert_int_equal(count_notices(h, 0, 1), 1);
    assert_int_equal(count_notices(h, 2, 1), 1);
    assert_int_equal(count_notices(h, 1, 0) + count_notices(h, 1, 2), 0); /* the dead are not told */
    assert_int_equal(send_u64(h, 0, 1, 3), NET_LOST_AT_SEND);
    assert_int_equal(net_endpoint_up(&h->net, 1), 0);
    assert_int_equal(send_u64(h, 0, 1, 4), NET_OK);
    h_run(h, 20 * MS);
    assert_int_equal(h->ndel, 1);
    assert_int_equal(h->del[0].payload, 4);
    h_free(h);
}

/* ---- loss ---- */

static void loss_probability_is_a_connection_drop(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 1 << 20);
    assert_int_equal(net_set_loss(&h->net, 0, 1, 0.1), 0);
    enum { N = 10000 };
    int lost = 0;
    for (int i = 0; i < N; i++) {
        enum net_status st = send_u64(h, 0, 1, (uint64_t)i);
        assert_true(st == NET_OK || st == NET_LOST_AT_SEND);
        lost += st == NET_LOST_AT_SEND;
        h_run(h, h->sched.now + 2 * MS);
    }
    double sd = sqrt(N * 0.1 * 0.9);
    assert_true(fabs(lost - N * 0.1) < 4 * sd);
    assert_int_equal(h->ndel, N - lost);
    assert_int_equal(net_stats(&h->net, 0, 1)->lost, lost);
    /* The sender hears of every loss (nothing in flight, so the receiver's
     * side had a closed or idle connection). */
    assert_true(count_notices(h, 0, 1) == (size_t)lost);
    assert_int_equal(net_stats(&h->net, 1, 0)->lost, 0);
    assert_int_equal(net_set_loss(&h->net, 0, 1, 1.5), NET_ERR_CONFIG);
    h_free(h);
}

/* ---- clog and per-link latency ---- */

static void clog_delays_both_directions_and_keeps_fifo(void **state)
{
    (void)state;
    struct harness *h = h_new(3, "constant 1ms", 1 << 20);
    assert_int_equal(net_clog(&h->net, 0, 1, 50 * MS, 10 * MS), 0);
    schedule_send(h, 0, 0, 1, 1);       /* 0 + 1 + 50 = 51 */
    schedule_send(h, 0, 1, 0, 2);       /* other direction too: 51 */
    schedule_send(h, 0, 0, 2, 3);       /* not clogged: 1 */
    schedule_send(h, 20 * MS, 0, 1, 4); /* clog over, but FIFO behind #1: 51 */
    schedule_send(h, 60 * MS, 0, 1, 5); /* 61 */
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 5);
    const uint64_t want_payload[] = {3, 1, 2, 4, 5};
    const sim_time_ns want_t[] = {1 * MS, 51 * MS, 51 * MS, 51 * MS, 61 * MS};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(h->del[i].payload, want_payload[i]);
        assert_int_equal(h->del[i].t, want_t[i]);
    }
    h_free(h);
}

static void per_link_latency_override(void **state)
{
    (void)state;
    struct harness *h = h_new(3, "constant 1ms", 1 << 20);
    struct net_latency seven = net_latency_constant(7 * MS);
    assert_int_equal(net_set_latency(&h->net, 0, 1, &seven), 0);
    struct net_latency three = net_latency_constant(3 * MS);
    assert_int_equal(net_set_latency(&h->net, NET_ANY, 2, &three), 0);
    send_u64(h, 0, 1, 1);
    send_u64(h, 1, 0, 2);
    send_u64(h, 0, 2, 3);
    send_u64(h, 1, 2, 4);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 4);
    for (size_t i = 0; i < 4; i++) {
        sim_time_ns want = h->del[i].payload == 1 ? 7 * MS : h->del[i].payload == 2 ? 1 * MS : 3 * MS;
        assert_int_equal(h->del[i].t, want);
    }
    assert_int_equal(net_set_latency(&h->net, 5, 1, &seven), NET_ERR_ENDPOINT);
    h_free(h);
}

/* ---- broken network ---- */

static int count_out_of_order(const struct harness *h, size_t *dups)
{
    int inversions = 0;
    uint64_t max_seen = 0;
    *dups = 0;
    static uint8_t seen[4000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < h->ndel; i++) {
        uint64_t p = h->del[i].payload;
        if (seen[p]++)
            (*dups)++;
        if (i > 0 && p < max_seen)
            inversions++;
        if (p > max_seen)
            max_seen = p;
    }
    return inversions;
}

static void broken_network_only_when_enabled(void **state)
{
    (void)state;
    size_t dups;
    struct harness *h = h_new(2, "uniform 1ms 10ms", 1 << 20);
    for (uint64_t i = 0; i < 2000; i++)
        schedule_send(h, i * 50 * SIM_NS_PER_US, 0, 1, i);
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, 2000);
    assert_int_equal(count_out_of_order(h, &dups), 0);
    assert_int_equal(dups, 0);
    h_free(h);

    h = h_new(2, "uniform 1ms 10ms", 1 << 20);
    net_set_broken(&h->net, 0.05, 0.3);
    for (uint64_t i = 0; i < 2000; i++)
        schedule_send(h, i * 50 * SIM_NS_PER_US, 0, 1, i);
    h_run(h, SIM_TIME_NEVER - 1);
    int inversions = count_out_of_order(h, &dups);
    assert_true(inversions > 50);
    assert_true(dups > 30);
    assert_int_equal(dups, net_stats(&h->net, 0, 1)->duplicated);
    assert_int_equal(h->ndel, 2000 + dups);
    assert_int_equal(net_in_flight(&h->net, 0, 1), 0);
    h_free(h);
}

/* ---- bounds and errors ---- */

static void memory_bound_is_a_clear_error(void **state)
{
    (void)state;
    struct harness *h = h_new(2, "constant 1ms", 8192);
    uint8_t big[4096] = {0};
    enum net_status st = NET_OK;
    int sent = 0;
    while (st == NET_OK && sent < 100) {
        st = net_send(&h->net, h->sched.now, 0, 1, big, 1000);
        sent += st == NET_OK;
    }
    assert_int_equal(st, NET_ERR_FULL);
    assert_true(sent >= 3 && sent < 8);
    assert_non_null(strstr(h->net.err, "bytes_max"));
    /* Space comes back once delivered. */
    h_run(h, SIM_TIME_NEVER - 1);
    assert_int_equal(h->ndel, (size_t)sent);
    assert_int_equal(net_send(&h->net, h->sched.now, 0, 1, big, 1000), NET_OK);
    assert_int_equal(net_send(&h->net, h->sched.now, 0, 1, big, 4097), NET_ERR_TOO_BIG);
    assert_int_equal(net_send(&h->net, h->sched.now, 0, 0, big, 1), NET_ERR_ENDPOINT);
    assert_int_equal(net_send(&h->net, h->sched.now, 0, 2, big, 1), NET_ERR_ENDPOINT);
    h_free(h);
}

static void bad_config_and_groups(void **state)
{
    (void)state;
    struct sim_sched s;
    struct sim_rng r;
    struct net n;
    char err[200] = "";
    assert_int_equal(sim_sched_init(&s, 16), 0);
    assert_int_equal(sim_rng_open(&r, 1, "network", 0), 0);
    struct net_config cfg = {.endpoints = 1, .bytes_max = 1 << 20, .msg_bytes_max = 1024,
                             .latency = net_latency_constant(MS)};
    assert_int_equal(net_init(&n, &cfg, &s, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "endpoints"));
    cfg.endpoints = 3;
    cfg.loss_p = 2;
    assert_int_equal(net_init(&n, &cfg, &s, &r, err, sizeof err), -1);
    cfg.loss_p = 0;
    assert_int_equal(net_init(&n, &cfg, &s, &r, err, sizeof err), 0);
    const int g0[] = {0, 1}, g1[] = {1, 2};
    const int *groups[] = {g0, g1};
    const size_t lens[] = {2, 2};
    assert_int_equal(net_partition_groups(&n, 0, groups, lens, 2), NET_ERR_CONFIG);
    assert_non_null(strstr(n.err, "two partition groups"));
    const int g2[] = {7};
    const int *groups2[] = {g2};
    assert_int_equal(net_partition_groups(&n, 0, groups2, lens, 1), NET_ERR_ENDPOINT);
    assert_true(net_reachable(&n, 0, 2)); /* a rejected partition changed nothing */
    net_free(&n);
    sim_rng_close(&r);
    sim_sched_free(&s);
}

/* ---- randomized: conservation and no delivery across a break ---- */

struct tagged {
    uint32_t gen;  /* connection generation at send time */
    uint32_t from;
    uint64_t seq;  /* per-link send counter */
};

static void check_conservation(const struct net *n, int e)
{
    for (int a = 0; a < e; a++)
        for (int b = 0; b < e; b++) {
            if (a == b)
                continue;
            const struct net_link_stats *st = net_stats(n, a, b);
            assert_int_equal(st->sent, st->delivered + st->lost + net_in_flight(n, a, b));
        }
}

/* Random sends, drops, partitions, blocks, crashes, holds, releases and
 * heals, interleaved with deliveries. After every step: sent = delivered +
 * lost + in flight on every link. On every delivery: the message belongs to
 * the connection's current generation, and its link's sequence only
 * increases within its kind. */
static void random_faults_keep_invariants(void **state)
{
    (void)state;
    enum { E = 5, STEPS = 20000 };
    struct harness *h = h_new(E, "lognormal 1ms 0.8", 1 << 22);
    assert_int_equal(net_set_loss(&h->net, NET_ANY, NET_ANY, 0.01), 0);
    struct sim_rng ops;
    assert_int_equal(sim_rng_open(&ops, 77, "ops", 0), 0);
    uint64_t next_seq[E][E] = {{0}}, last_seen[E][E][3] = {{{0}}};
    uint64_t delivered = 0;
    for (int step = 0; step < STEPS; step++) {
        uint64_t r = sim_rng_below(&ops, 1000);
        int a = (int)sim_rng_below(&ops, E), b = (int)((a + 1 + (int)sim_rng_below(&ops, E - 1)) % E);
        sim_time_ns now = h->sched.now;
        if (r < 400) {
            struct tagged t = {net_generation(&h->net, a, b), (uint32_t)a, ++next_seq[a][b]};
            enum net_status st = net_send_kind(&h->net, now, a, b, (uint32_t)(t.seq % 3), &t, sizeof t);
            assert_true(st == NET_OK || st == NET_LOST_AT_SEND);
        } else if (r < 405) {
            assert_int_equal(net_drop(&h->net, now, a, b), 0);
        } else if (r < 408) {
            int g[E];
            for (int i = 0; i < E; i++)
                g[i] = (int)sim_rng_below(&ops, 3) - 1; /* -1: unlisted */
            assert_int_equal(net_partition(&h->net, now, g), 0);
        } else if (r < 411) {
            assert_int_equal(net_block(&h->net, now, a, b), 0);
        } else if (r < 414) {
            assert_int_equal(net_endpoint_down(&h->net, now, a), 0);
        } else if (r < 420) {
            assert_int_equal(net_hold(&h->net, a, b, 1ull << sim_rng_below(&ops, 3)), 0);
        } else if (r < 430) {
            assert_int_equal(net_release(&h->net, now, a, b, NET_KIND_ANY), 0);
        } else if (r < 450) {
            net_heal(&h->net);
            for (int i = 0; i < E; i++)
                net_endpoint_up(&h->net, i);
        } else {
            struct sim_event ev;
            if (!sim_sched_pop(&h->sched, &ev) || ev.kind != EV_DELIVER)
                continue;
            int from, to;
            const uint8_t *bytes;
            size_t len;
            if (net_deliver(&h->net, &ev, &from, &to, &bytes, &len) != NET_DELIVERED)
                continue;
            struct tagged t;
            assert_int_equal(len, sizeof t);
            memcpy(&t, bytes, sizeof t);
            assert_int_equal(t.from, from);
            assert_int_equal(t.gen, net_generation(&h->net, from, to));
            /* Holds reorder kinds against each other, never within one. */
            assert_true(t.seq > last_seen[from][to][t.seq % 3]);
            last_seen[from][to][t.seq % 3] = t.seq;
            delivered++;
        }
        check_conservation(&h->net, E);
    }
    struct net_link_stats tot = net_stats_total(&h->net);
    assert_true(delivered > 1000);
    assert_true(tot.lost > 100);
    assert_int_equal(tot.delivered, delivered);
    assert_true(tot.held > 50);
    sim_rng_close(&ops);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_per_connection_under_random_latency),
        cmocka_unit_test(payload_integrity_through_wrap_and_growth),
        cmocka_unit_test(nothing_crosses_a_partition_until_heal),
        cmocka_unit_test(one_way_block),
        cmocka_unit_test(partitions_accumulate_until_heal),
        cmocka_unit_test(hold_stops_one_kind_and_release_delivers_in_order),
        cmocka_unit_test(release_keeps_kind_order),
        cmocka_unit_test(tie_with_a_release_goes_after_it),
        cmocka_unit_test(held_messages_die_with_their_connection),
        cmocka_unit_test(drop_loses_exactly_the_in_flight),
        cmocka_unit_test(endpoint_down_breaks_and_refuses),
        cmocka_unit_test(loss_probability_is_a_connection_drop),
        cmocka_unit_test(clog_delays_both_directions_and_keeps_fifo),
        cmocka_unit_test(per_link_latency_override),
        cmocka_unit_test(broken_network_only_when_enabled),
        cmocka_unit_test(memory_bound_is_a_clear_error),
        cmocka_unit_test(bad_config_and_groups),
        cmocka_unit_test(random_faults_keep_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
