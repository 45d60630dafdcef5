/* Peer message codec: round trip of every kind, truncation at every length
 * and trailing bytes rejected, hostile lengths rejected, names/describe, and
 * a replica fed garbage drops the connection instead of crashing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/replica.h"
#include "core/zab_msg.h"

static struct zab_msg sample(int kind)
{
    static const uint8_t data[] = "payload-bytes";
    struct zab_msg m;
    memset(&m, 0, sizeof m);
    m.kind = (uint8_t)kind;
    m.zxid = 0x0000000500000007ull;
    m.epoch = 9;
    m.flag = 1;
    m.note.state = FLE_FOLLOWING;
    m.note.vote.leader = 3;
    m.note.vote.zxid = 0x200000004ull;
    m.note.vote.peer_epoch = 2;
    m.note.round = 11;
    if (kind == ZAB_MSG_SNAP || kind == ZAB_MSG_PROPOSAL || kind == ZAB_MSG_INFORM) {
        m.data = data;
        m.data_len = sizeof data;
    }
    return m;
}

static void round_trip_all_kinds(void **state)
{
    (void)state;
    for (int k = ZAB_MSG_KIND_MIN; k <= ZAB_MSG_KIND_MAX; k++) {
        struct zab_msg m = sample(k), d;
        uint8_t buf[128];
        size_t n = zab_msg_encode(&m, buf, sizeof buf);
        assert_int_equal(n, zab_msg_size(&m));
        char err[128];
        assert_int_equal(zab_msg_decode(buf, n, &d, err, sizeof err), 0);
        assert_int_equal(d.kind, k);
        switch (k) {
        case ZAB_MSG_NOTIFICATION:
            assert_int_equal(d.note.state, m.note.state);
            assert_int_equal(d.note.vote.leader, 3);
            assert_int_equal(d.note.vote.zxid, m.note.vote.zxid);
            assert_int_equal(d.note.vote.peer_epoch, 2);
            assert_int_equal(d.note.round, 11);
            break;
        case ZAB_MSG_FOLLOWERINFO:
            assert_int_equal(d.epoch, 9);
            assert_int_equal(d.flag, 1);
            break;
        case ZAB_MSG_LEADERINFO:
            assert_int_equal(d.epoch, 9);
            break;
        case ZAB_MSG_ACKEPOCH:
            assert_int_equal(d.epoch, 9);
            assert_int_equal(d.flag, 1);
            assert_int_equal(d.zxid, m.zxid);
            break;
        default:
            assert_int_equal(d.zxid, m.zxid);
            assert_int_equal(d.data_len, m.data_len);
            if (m.data_len)
                assert_memory_equal(d.data, m.data, m.data_len);
            break;
        }
        assert_string_equal(zab_msg_kind_name(buf, n), zab_msg_kind_str(k));
        /* every proper prefix and one extra byte are rejected */
        for (size_t cut = 0; cut < n; cut++)
            assert_int_equal(zab_msg_decode(buf, cut, &d, err, sizeof err), -1);
        buf[n] = 0;
        assert_int_equal(zab_msg_decode(buf, n + 1, &d, err, sizeof err), -1);
        assert_int_equal(zab_msg_encode(&m, buf, n - 1), 0);
    }
}

static void hostile_bytes(void **state)
{
    (void)state;
    char err[128];
    struct zab_msg d;
    uint8_t unknown[] = {0x7f, 0, 0};
    assert_int_equal(zab_msg_decode(unknown, sizeof unknown, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown"));
    /* PROPOSAL claiming 4 GiB of data */
    uint8_t big[] = {ZAB_MSG_PROPOSAL, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 'x'};
    assert_int_equal(zab_msg_decode(big, sizeof big, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "data length"));
    /* NOTIFICATION with a server state out of range */
    struct zab_msg m = sample(ZAB_MSG_NOTIFICATION);
    uint8_t buf[64];
    size_t n = zab_msg_encode(&m, buf, sizeof buf);
    buf[1] = 9;
    assert_int_equal(zab_msg_decode(buf, n, &d, err, sizeof err), -1);
    assert_int_equal(zab_msg_decode(NULL, 0, &d, err, sizeof err), -1);
    assert_string_equal(zab_msg_kind_name(big, sizeof big), "MALFORMED");
}

static void describe(void **state)
{
    (void)state;
    struct zab_msg m = sample(ZAB_MSG_PROPOSAL);
    uint8_t buf[64];
    size_t n = zab_msg_encode(&m, buf, sizeof buf);
    char line[128];
    zab_msg_describe(buf, n, line, sizeof line);
    assert_string_equal(line, "PROPOSAL 0x500000007 (14 bytes)");
    m = sample(ZAB_MSG_NOTIFICATION);
    n = zab_msg_encode(&m, buf, sizeof buf);
    zab_msg_describe(buf, n, line, sizeof line);
    assert_non_null(strstr(line, "FOLLOWING"));
    assert_non_null(strstr(line, "leader 3"));
    zab_msg_describe(buf, 3, line, sizeof line);
    assert_non_null(strstr(line, "MALFORMED"));
    char tiny[4];
    zab_msg_describe(buf, n, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 3);
}

static void replica_drops_garbage_sender(void **state)
{
    (void)state;
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.id = 1, c.n_servers = 3, c.tick_ms = 100, c.init_limit = 10, c.sync_limit = 5;
    struct replica r;
    char err[128];
    assert_int_equal(replica_init(&r, &c, err, sizeof err), 0);
    struct replica_durable d;
    memset(&d, 0, sizeof d);
    assert_int_equal(replica_start(&r, 0, &d, err, sizeof err), 0);
    replica_output_clear(&r);
    uint8_t junk[] = {ZAB_MSG_COMMIT, 1, 2};
    replica_on_message(&r, 5, 2, junk, sizeof junk);
    const struct replica_out *o = replica_output(&r);
    assert_int_equal(o->n_actions, 1);
    assert_int_equal(o->actions[0].kind, REP_ACT_DISCONNECT);
    assert_int_equal(o->actions[0].peer, 2);
    assert_int_equal(o->n_events, 1);
    assert_int_equal(o->events[0].kind, REP_EV_PROTOCOL_ERROR);
    replica_output_clear(&r);
    /* messages from ids outside the ensemble are ignored */
    replica_on_message(&r, 6, 9, junk, sizeof junk);
    replica_on_message(&r, 6, 1, junk, sizeof junk);
    assert_int_equal(replica_output(&r)->n_actions, 0);
    replica_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_all_kinds),
        cmocka_unit_test(hostile_bytes),
        cmocka_unit_test(describe),
        cmocka_unit_test(replica_drops_garbage_sender),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
