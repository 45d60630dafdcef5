/* Robustness: replicas fed well-formed but unexpected messages (any kind,
 * plausible and implausible epochs/zxids, from any peer, in any state) and
 * random bytes never crash, assert or hang; after the noise stops the
 * cluster still elects a leader and commits. (A lying peer may break safety;
 * that is not what this checks.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/zab_msg.h"
#include "tests/support/core_harness.h"

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t plausible_zxid(const struct core_harness *h, int to, uint64_t *s)
{
    const struct replica *r = &h->nodes[to].r;
    uint64_t base = h->nodes[to].up ? replica_last_zxid(r) : 0;
    switch (rnd(s) % 5) {
    case 0: return base;
    case 1: return base + 1;
    case 2: return base ? base - 1 : 0;
    case 3: return zxid_make((uint32_t)(zxid_epoch(base) + 1), 0);
    default: return rnd(s);
    }
}

static void inject(struct core_harness *h, uint64_t *s)
{
    int from = 1 + (int)(rnd(s) % (uint64_t)h->n), to = 1 + (int)(rnd(s) % (uint64_t)h->n);
    if (from == to || !h->nodes[to].up)
        return;
    static const uint8_t data[40] = "fuzz-payload";
    uint8_t buf[128];
    size_t n;
    if (rnd(s) % 8 == 0) {
        n = 1 + rnd(s) % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rnd(s);
    } else {
        struct zab_msg m;
        memset(&m, 0, sizeof m);
        m.kind = (uint8_t)(ZAB_MSG_KIND_MIN + rnd(s) % ZAB_MSG_KIND_MAX);
        uint64_t e = h->nodes[to].r.accepted_epoch;
        m.epoch = (rnd(s) & 1) ? e + (rnd(s) % 3) - 1 : rnd(s) % 4;
        m.zxid = plausible_zxid(h, to, s);
        m.flag = (uint8_t)(rnd(s) % 2);
        m.note.state = (uint8_t)(rnd(s) % 4);
        m.note.vote.leader = (int32_t)(rnd(s) % (uint64_t)(h->n + 2));
        m.note.vote.zxid = plausible_zxid(h, to, s);
        m.note.vote.peer_epoch = e + rnd(s) % 2;
        m.note.round = h->nodes[to].r.fle.round + rnd(s) % 3 - 1;
        if (m.kind == ZAB_MSG_PROPOSAL || m.kind == ZAB_MSG_INFORM || m.kind == ZAB_MSG_SNAP) {
            m.data = data;
            m.data_len = (uint32_t)(rnd(s) % sizeof data);
            if (m.kind == ZAB_MSG_SNAP && rnd(s) % 2) {
                /* sometimes a well-formed placeholder snapshot */
                static uint8_t snap[SM_OPAQUE_SNAPSHOT_BYTES] = {'Z', 'S', 'M', 'O'};
                for (int i = 0; i < 8; i++)
                    snap[12 + i] = (uint8_t)(m.zxid >> (8 * i));
                m.data = snap;
                m.data_len = sizeof snap;
            }
        }
        n = zab_msg_encode(&m, buf, sizeof buf);
        assert_true(n > 0);
    }
    replica_on_message(&h->nodes[to].r, h->now_ms, from, buf, n);
    /* route the replica's reaction through the harness as usual */
    ch_run_steps(h, 1);
}

static void fuzz_cluster(uint64_t seed)
{
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100, c.init_limit = 10, c.sync_limit = 5, c.finalize_wait_ms = 20;
    c.notification_interval_max_ms = 400;
    c.log_entries_max = 32;
    c.snapshot_every = 6;
    int n = 3 + (int)(seed % 3);
    struct core_harness *h = ch_new(n, seed, &c);
    h->disk_delayed = (int)(seed & 1);
    for (int i = 1; i <= n; i++)
        assert_int_equal(ch_start(h, i), 0);
    uint64_t s = seed * 7919 + 13;
    for (int round = 0; round < 300; round++) {
        ch_run_steps(h, 20);
        int l = ch_leader(h);
        uint64_t z;
        if (l)
            ch_propose(h, l, "real", &z);
        for (int k = 0; k < 3; k++)
            inject(h, &s);
        if (rnd(&s) % 40 == 0) {
            int v = 1 + (int)(rnd(&s) % (uint64_t)n);
            if (h->nodes[v].up)
                ch_crash(h, v);
            else
                ch_start(h, v);       /* may refuse: the fuzz can plant bad epochs */
        }
    }
    ch_free(h);
}

static void unexpected_messages_never_crash(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 24; seed++)
        fuzz_cluster(seed);
}

/* After noise confined to the election (bogus votes), a clean cluster still converges. */
static void recovers_after_vote_noise(void **state)
{
    (void)state;
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100, c.init_limit = 10, c.sync_limit = 5, c.finalize_wait_ms = 20;
    c.notification_interval_max_ms = 400;
    struct core_harness *h = ch_new(3, 99, &c);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(ch_start(h, i), 0);
    uint64_t s = 12345;
    for (int k = 0; k < 200; k++) {
        struct zab_msg m = {.kind = ZAB_MSG_NOTIFICATION};
        m.note.state = FLE_LOOKING;
        m.note.vote.leader = 1 + (int32_t)(rnd(&s) % 3);
        m.note.round = rnd(&s) % 3;
        uint8_t buf[64];
        size_t n = zab_msg_encode(&m, buf, sizeof buf);
        int to = 1 + (int)(rnd(&s) % 3), from = 1 + (int)(rnd(&s) % 3);
        if (to != from)
            replica_on_message(&h->nodes[to].r, h->now_ms, from, buf, n);
        ch_run_steps(h, 2);
    }
    assert_true(ch_run_until(h, ch_pred_leader, NULL, 300000));
    uint64_t z;
    assert_int_equal(ch_propose(h, ch_leader(h), "after-noise", &z), 0);
    assert_true(ch_run_until(h, ch_pred_applied, &z, 300000));
    ch_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unexpected_messages_never_crash),
        cmocka_unit_test(recovers_after_vote_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
