/* One replica driven by hand, message by message, checking the exact order
 * of its actions: the leader's discovery and sync, the follower's NEWLEADER
 * ordering (fsync, then currentEpoch, then ACK), ACK only after fsync, and
 * the leader abandoning when a follower is more recent. Reads like the
 * message-sequence charts in docs/protocol.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/replica.h"
#include "core/zab_msg.h"

static struct replica R;

static void start(int id, uint32_t bugs, uint64_t accepted, uint64_t current)
{
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.id = id, c.n_servers = 3, c.tick_ms = 100, c.init_limit = 10, c.sync_limit = 5;
    c.finalize_wait_ms = 20, c.bugs = bugs;
    char err[128];
    assert_int_equal(replica_init(&R, &c, err, sizeof err), 0);
    struct replica_durable d = {NULL, 0, NULL, 0, 1, accepted, 1, current};
    assert_int_equal(replica_start(&R, 0, &d, err, sizeof err), 0);
    replica_output_clear(&R);
}

static void feed(int from, struct zab_msg m)
{
    uint8_t buf[256];
    size_t n = zab_msg_encode(&m, buf, sizeof buf);
    assert_true(n > 0);
    replica_on_message(&R, 10, from, buf, n);
}

static void vote_from(int from, int state, int leader, uint64_t round)
{
    struct zab_msg m = {.kind = ZAB_MSG_NOTIFICATION};
    m.note.state = (uint8_t)state, m.note.vote.leader = leader, m.note.round = round;
    m.note.vote.peer_epoch = R.current_epoch;
    feed(from, m);
}

/* The current batch as "SEND:2:LEADERINFO EPOCH:accepted=1 ..."; clears it. */
static char trace[2048];

static const char *take(void)
{
    const struct replica_out *o = replica_output(&R);
    size_t n = 0;
    trace[0] = '\0';
    for (uint32_t i = 0; i < o->n_actions && n < sizeof trace; i++) {
        const struct rep_action *a = &o->actions[i];
        const char *sep = n ? " " : "";
        switch (a->kind) {
        case REP_ACT_SEND:
            n += (size_t)snprintf(trace + n, sizeof trace - n, "%sSEND:%d:%s", sep, a->peer,
                                  zab_msg_kind_name(a->bytes, a->len));
            break;
        case REP_ACT_DISCONNECT:
            n += (size_t)snprintf(trace + n, sizeof trace - n, "%sDISCONNECT:%d", sep, a->peer);
            break;
        case REP_ACT_EPOCH_WRITE:
            n += (size_t)snprintf(trace + n, sizeof trace - n, "%sEPOCH:%s=%llu", sep,
                                  a->which ? "current" : "accepted", (unsigned long long)a->value);
            break;
        default: {
            const char *k = a->kind == REP_ACT_LOG_APPEND     ? "APPEND"
                            : a->kind == REP_ACT_LOG_FSYNC    ? "FSYNC"
                            : a->kind == REP_ACT_LOG_TRUNCATE ? "TRUNCATE"
                                                              : "SNAPSHOT";
            n += (size_t)snprintf(trace + n, sizeof trace - n, "%s%s", sep, k);
            break;
        }
        }
    }
    replica_output_clear(&R);
    return trace;
}

/* Completes every disk op issued so far. */
static void disk_done_all(void)
{
    replica_on_disk_done(&R, 20, R.next_op_id - 1);
}

static void become_leader_of(void)
{
    /* 1 and 2 vote for 3 in round 1: quorum; decision after the finalize wait */
    vote_from(1, FLE_LOOKING, 3, 1);
    vote_from(2, FLE_LOOKING, 3, 1);
    take();
    replica_on_timer(&R, 100);
    assert_int_equal(R.state, REP_LEADING);
    assert_int_equal(R.phase, REP_PHASE_DISCOVERY);
}

static void leader_discovery_and_sync(void **state)
{
    (void)state;
    start(3, 0, 0, 0);
    become_leader_of();
    assert_string_equal(take(), "");
    feed(1, (struct zab_msg){.kind = ZAB_MSG_FOLLOWERINFO, .epoch = 0});
    /* quorum {3,1}: new epoch = max(0,0)+1, persisted before LEADERINFO */
    assert_string_equal(take(), "EPOCH:accepted=1");
    assert_int_equal(R.accepted_epoch, 0);             /* memory follows the file */
    disk_done_all();
    assert_int_equal(R.accepted_epoch, 1);
    assert_string_equal(take(), "SEND:1:LEADERINFO");
    feed(1, (struct zab_msg){.kind = ZAB_MSG_ACKEPOCH, .flag = 1, .epoch = 0, .zxid = 0});
    assert_string_equal(take(), "EPOCH:current=1");
    disk_done_all();
    /* own log fsynced for the NEWLEADER quorum, then the sync stream */
    assert_string_equal(take(), "FSYNC SEND:1:DIFF SEND:1:NEWLEADER");
    feed(1, (struct zab_msg){.kind = ZAB_MSG_ACK, .zxid = zxid_make(1, 0)});
    assert_int_equal(R.established_epoch, 0);          /* my own fsync is not done yet */
    assert_string_equal(take(), "");
    disk_done_all();
    assert_int_equal(R.established_epoch, 1);
    assert_int_equal(R.phase, REP_PHASE_BROADCAST);
    assert_string_equal(take(), "SEND:1:UPTODATE");
    /* a late joiner is synced at once; proposals reach it */
    feed(2, (struct zab_msg){.kind = ZAB_MSG_FOLLOWERINFO, .epoch = 0});
    assert_string_equal(take(), "SEND:2:LEADERINFO");
    uint64_t z;
    assert_int_equal(replica_propose(&R, 30, (const uint8_t *)"t", 1, &z), 0);
    assert_string_equal(take(), "APPEND FSYNC SEND:1:PROPOSAL");
    feed(2, (struct zab_msg){.kind = ZAB_MSG_ACKEPOCH, .flag = 1, .epoch = 0, .zxid = 0});
    assert_string_equal(take(), "SEND:2:DIFF SEND:2:PROPOSAL SEND:2:NEWLEADER");
    /* follower 1's ACK alone is not a quorum: my own ACK waits for my fsync */
    feed(1, (struct zab_msg){.kind = ZAB_MSG_ACK, .zxid = z});
    assert_int_equal(R.zxid_committed, 0);
    disk_done_all();
    assert_int_equal(R.zxid_committed, z);
    assert_string_equal(take(), "SEND:1:COMMIT SEND:2:COMMIT");
    replica_free(&R);
}

static void leader_abandons_for_more_recent_follower(void **state)
{
    (void)state;
    start(3, 0, 2, 2);
    become_leader_of();
    feed(1, (struct zab_msg){.kind = ZAB_MSG_FOLLOWERINFO, .epoch = 4});
    assert_string_equal(take(), "EPOCH:accepted=5");
    disk_done_all();
    take();
    /* follower 1 has currentEpoch 4 > my 2: I must not lead */
    feed(1, (struct zab_msg){.kind = ZAB_MSG_ACKEPOCH, .flag = 1, .epoch = 4, .zxid = 0});
    assert_int_equal(R.state, REP_LOOKING);
    const char *t = take();
    assert_non_null(strstr(t, "DISCONNECT:1"));
    assert_null(strstr(t, "EPOCH:current"));
    replica_free(&R);
}

static void follow(int bugs)
{
    start(1, (uint32_t)bugs, 0, 0);
    vote_from(3, FLE_LEADING, 3, 1);
    vote_from(2, FLE_FOLLOWING, 3, 1);
    assert_int_equal(R.state, REP_FOLLOWING);
    assert_string_equal(take(), "SEND:3:FOLLOWERINFO");
    feed(3, (struct zab_msg){.kind = ZAB_MSG_LEADERINFO, .epoch = 1});
    assert_string_equal(take(), "EPOCH:accepted=1");
    disk_done_all();
    assert_string_equal(take(), "SEND:3:ACKEPOCH");
    feed(3, (struct zab_msg){.kind = ZAB_MSG_DIFF, .zxid = 0});
    static const uint8_t p[] = "x";
    /* a proposal of the new epoch forwarded during sync */
    feed(3, (struct zab_msg){.kind = ZAB_MSG_PROPOSAL, .zxid = zxid_make(1, 1), .data = p,
                             .data_len = 1});
    assert_string_equal(take(), "");                  /* held: epoch 1 > currentEpoch 0 */
    feed(3, (struct zab_msg){.kind = ZAB_MSG_NEWLEADER, .zxid = zxid_make(1, 0)});
}

static void follower_newleader_order(void **state)
{
    (void)state;
    follow(0);
    /* log durable, then currentEpoch, then ACK */
    assert_string_equal(take(), "FSYNC");
    disk_done_all();
    assert_string_equal(take(), "EPOCH:current=1");
    assert_int_equal(R.current_epoch, 0);
    disk_done_all();
    assert_int_equal(R.current_epoch, 1);
    /* the held proposal is written now; its ACK waits for its fsync */
    assert_string_equal(take(), "APPEND FSYNC SEND:3:ACK");
    disk_done_all();
    assert_string_equal(take(), "SEND:3:ACK");
    feed(3, (struct zab_msg){.kind = ZAB_MSG_UPTODATE, .zxid = 0});
    assert_int_equal(R.phase, REP_PHASE_BROADCAST);
    feed(3, (struct zab_msg){.kind = ZAB_MSG_COMMIT, .zxid = zxid_make(1, 1)});
    assert_int_equal(R.zxid_applied, zxid_make(1, 1));
    replica_free(&R);
}

static void follower_epoch_before_fsync_bug(void **state)
{
    (void)state;
    follow(ZAB_BUG_BIT(ZAB_BUG_EPOCH_BEFORE_FSYNC));
    assert_string_equal(take(), "EPOCH:current=1");   /* ZOOKEEPER-4643: epoch first */
    disk_done_all();
    assert_string_equal(take(), "APPEND FSYNC");
    disk_done_all();
    assert_string_equal(take(), "SEND:3:ACK SEND:3:ACK");
    replica_free(&R);
}

static void follower_diff_log_after_ack_bug(void **state)
{
    (void)state;
    follow(ZAB_BUG_BIT(ZAB_BUG_DIFF_LOG_AFTER_ACK));
    assert_string_equal(take(), "EPOCH:current=1");
    disk_done_all();
    assert_string_equal(take(), "SEND:3:ACK");        /* ACK with nothing on disk */
    feed(3, (struct zab_msg){.kind = ZAB_MSG_UPTODATE, .zxid = 0});
    assert_string_equal(take(), "APPEND FSYNC");      /* logged only now */
    replica_free(&R);
}

static void follower_acks_after_fsync_only(void **state)
{
    (void)state;
    follow(0);
    disk_done_all();
    disk_done_all();
    disk_done_all();
    take();
    feed(3, (struct zab_msg){.kind = ZAB_MSG_UPTODATE, .zxid = 0});
    static const uint8_t p[] = "y";
    feed(3, (struct zab_msg){.kind = ZAB_MSG_PROPOSAL, .zxid = zxid_make(1, 2), .data = p,
                             .data_len = 1});
    assert_string_equal(take(), "APPEND FSYNC");
    disk_done_all();
    assert_string_equal(take(), "SEND:3:ACK");
    replica_free(&R);
    /* and with the planted bug the ACK leaves with the append */
    follow(ZAB_BUG_BIT(ZAB_BUG_ACK_BEFORE_FSYNC));
    disk_done_all();
    disk_done_all();
    disk_done_all();
    take();
    feed(3, (struct zab_msg){.kind = ZAB_MSG_UPTODATE, .zxid = 0});
    feed(3, (struct zab_msg){.kind = ZAB_MSG_PROPOSAL, .zxid = zxid_make(1, 2), .data = p,
                             .data_len = 1});
    assert_string_equal(take(), "APPEND FSYNC SEND:3:ACK");
    replica_free(&R);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_discovery_and_sync),
        cmocka_unit_test(leader_abandons_for_more_recent_follower),
        cmocka_unit_test(follower_newleader_order),
        cmocka_unit_test(follower_epoch_before_fsync_bug),
        cmocka_unit_test(follower_diff_log_after_ack_bug),
        cmocka_unit_test(follower_acks_after_fsync_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
