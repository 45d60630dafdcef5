/* The scenario language: every statement parsed to the right fields, the
 * printer's round trip, the bounds, the broken-file corpus in
 * tests/data/scenarios-bad (each file's first line says the exact error it
 * must produce) and prefix/mutation fuzzing (no crash, always a clean
 * result). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

#define MS 1000000ull
#define S  1000000000ull

/* Every statement kind at least once; ids up to 6 (5 voters + 1 observer). */
static const char kitchen_sink[] =
    "# every statement kind\n"
    "seed 7\n"
    "tick 50ms\n"
    "init-limit 12\n"
    "sync-limit 4\n"
    "network latency lognormal 1ms 0.5   # trailing comment\n"
    "network loss 0.001\n"
    "network broken duplicate 0.01 reorder 0.25\n"
    "link 3-1 latency constant 20ms\n"
    "link 1-3 loss 0.5\n"
    "link 2-4 loss 1\n"
    "disk fsync latency uniform 1ms 5ms\n"
    "disk write latency constant 10us\n"
    "disk torn-write-probability 0.5\n"
    "disk lost-write-probability 0.125\n"
    "clients 5\n"
    "workload mix create=1 set=3 get=5 delete=1 cas=2 multi=1 sync=1\n"
    "keys 10\n"
    "rate 200/s\n"
    "session-timeout 3s\n"
    "recipe lock 3\n"
    "recipe queue\n"
    "recipe config-watch 4\n"
    "bug skip-fsync-before-ack\n"
    "bug epoch_reuse\n"
    "crash 2 at after-newleader-received\n"
    "crash leader at after-fsync-before-ack count 3\n"
    "at 12s skew 3 +250ms\n"
    "at 2s crash leader\n"
    "at 3s partition {1,2} {3,4,5}\n"
    "at 3s partition one-way 1 -> 2\n"
    "at 3.5s partition {6}\n"
    "at 4s clog 1-3 200ms for 2s\n"
    "at 5s restart all\n"
    "at 6s pause 2 for 800ms\n"
    "at 7s skew 4 -1.5ms\n"
    "at 7s drift 5 -200ppm\n"
    "at 8s torn-write 4\n"
    "at 9s heal\n"
    "at 10s drop 2-1\n"
    "at 11s slow-disk 2 x10 for 1s\n"
    "at 12s disk-full 3 for 1s\n"
    "at 13s isolate minority\n"
    "at 13s crash a follower\n"
    "at 13s crash followers\n"
    "at 13s crash majority\n"
    "at 13s crash random 2\n"
    "at 14s crash 1,2,6\n"
    "at 1s hold PROPOSAL 1 -> 2\n"
    "at 2s release proposal 1 -> 2\n"
    "at 15s crash 4 at after-current-epoch-persisted once\n"
    "every 3s crash random 1\n"
    "every 500ms from 1s until 9s drop 4-5\n"
    "expect safety\n"
    "expect leader within 3s after heal\n"
    "expect leader within 5s\n"
    "expect progress within 4s after start\n"
    "expect linearizable\n"
    "expect zk-consistency\n"
    "expect lock-exclusive\n"
    "expect no-lost-writes\n"
    "expect violation\n"
    "run 30s\n"
    "cluster voters 5 observers 1\n";

static struct scenario sc, sc2;
static char err[512];

static void parse_ok(const char *text, struct scenario *s)
{
    int rc = scn_parse(text, strlen(text), "t.scn", s, err, sizeof err);
    if (rc != 0)
        fail_msg("parse failed: %s", err);
}

static void parse_err(const char *text, const char *expect_msg)
{
    int rc = scn_parse(text, strlen(text), "t.scn", &sc, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_string_equal(err, expect_msg);
}

static const struct scn_event *find_event(const struct scenario *s, uint64_t at_ns,
                                          enum scn_action a, int nth)
{
    for (int i = 0; i < s->event_count; i++)
        if (s->events[i].at_ns == at_ns && s->events[i].action == a && nth-- == 0)
            return &s->events[i];
    fail_msg("no event %d at %llu", (int)a, (unsigned long long)at_ns);
    return NULL;
}

#define BIT(id) (1u << (id))

static void settings_parsed(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    assert_int_equal(sc.seed, 7);
    assert_int_equal(sc.voters, 5);
    assert_int_equal(sc.observers, 1);
    assert_int_equal(sc.tick_ns, 50 * MS);
    assert_int_equal(sc.init_limit, 12);
    assert_int_equal(sc.sync_limit, 4);
    assert_int_equal(sc.run_ns, 30 * S);
    assert_string_equal(sc.net_latency.text, "lognormal 1ms 0.5");
    assert_int_equal(sc.net_latency.line, 6);
    assert_int_equal(sc.net_latency.col, 17);
    assert_int_equal(sc.net_loss_ppb, 1000000);
    assert_int_equal(sc.net_duplicate_ppb, 10000000);
    assert_int_equal(sc.net_reorder_ppb, 250000000);
    assert_int_equal(sc.link_count, 2);
    assert_int_equal(sc.links[0].a, 1);
    assert_int_equal(sc.links[0].b, 3);
    assert_int_equal(sc.links[0].fields, SCN_LINK_LATENCY | SCN_LINK_LOSS);
    assert_string_equal(sc.links[0].latency.text, "constant 20ms");
    assert_int_equal(sc.links[0].latency.col, 18);
    assert_int_equal(sc.links[0].loss_ppb, 500000000);
    assert_int_equal(sc.links[1].fields, SCN_LINK_LOSS);
    assert_int_equal(sc.links[1].loss_ppb, SCN_PPB_ONE);
    assert_string_equal(sc.disk_fsync_latency.text, "uniform 1ms 5ms");
    assert_string_equal(sc.disk_write_latency.text, "constant 10us");
    assert_int_equal(sc.disk_torn_write_ppb, 500000000);
    assert_int_equal(sc.disk_lost_write_ppb, 125000000);
}

static void workload_parsed(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    assert_int_equal(sc.clients, 5);
    static const uint32_t mix[SCN_OP_COUNT_] = {1, 3, 5, 1, 2, 1, 1, 0, 0};
    assert_memory_equal(sc.mix_weight, mix, sizeof mix);
    assert_int_equal(sc.keys, 10);
    assert_int_equal(sc.rate_per_s, 200);
    assert_int_equal(sc.session_timeout_ns, 3 * S);
    assert_int_equal(sc.recipe_count, 3);
    assert_int_equal(sc.recipes[0].kind, SCN_RECIPE_LOCK);
    assert_int_equal(sc.recipes[0].clients, 3);
    assert_int_equal(sc.recipes[1].kind, SCN_RECIPE_QUEUE);
    assert_int_equal(sc.recipes[1].clients, 2);
    assert_int_equal(sc.recipes[2].kind, SCN_RECIPE_CONFIG_WATCH);
    assert_int_equal(sc.recipes[2].clients, 4);
    assert_int_equal(sc.bug_count, 2);
    assert_string_equal(sc.bugs[0], "skip-fsync-before-ack");
    assert_string_equal(sc.bugs[1], "epoch_reuse");
    assert_int_equal(sc.expect_count, 9);
    assert_int_equal(sc.expects[1].kind, SCN_EXPECT_LEADER_WITHIN);
    assert_int_equal(sc.expects[1].within_ns, 3 * S);
    assert_int_equal(sc.expects[1].anchor, SCN_ANCHOR_HEAL);
    assert_int_equal(sc.expects[2].anchor, SCN_ANCHOR_START);
    assert_int_equal(sc.expects[3].kind, SCN_EXPECT_PROGRESS_WITHIN);
    assert_int_equal(sc.expects[8].kind, SCN_EXPECT_VIOLATION);
}

static void fault_events_parsed(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    const struct scn_event *e = find_event(&sc, 2 * S, SCN_ACT_CRASH, 0);
    assert_int_equal(e->target.kind, SCN_TGT_LEADER);
    assert_int_equal(e->pos.line, 29);
    e = find_event(&sc, 3 * S, SCN_ACT_PARTITION, 0);
    assert_int_equal(e->group_count, 2);
    assert_int_equal(e->group_mask[0], BIT(1) | BIT(2));
    assert_int_equal(e->group_mask[1], BIT(3) | BIT(4) | BIT(5));
    e = find_event(&sc, 3500 * MS, SCN_ACT_PARTITION, 0);
    assert_int_equal(e->group_count, 1);
    assert_int_equal(e->group_mask[0], BIT(6));
    e = find_event(&sc, 3 * S, SCN_ACT_ONE_WAY, 0);
    assert_int_equal(e->target.ids_mask, BIT(1));
    assert_int_equal(e->target_to.ids_mask, BIT(2));
    e = find_event(&sc, 4 * S, SCN_ACT_CLOG, 0);
    assert_int_equal(e->link_a, 1);
    assert_int_equal(e->link_b, 3);
    assert_int_equal(e->delay_ns, 200 * MS);
    assert_int_equal(e->duration_ns, 2 * S);
    assert_int_equal(find_event(&sc, 5 * S, SCN_ACT_RESTART, 0)->target.kind, SCN_TGT_ALL);
    e = find_event(&sc, 6 * S, SCN_ACT_PAUSE, 0);
    assert_int_equal(e->target.ids_mask, BIT(2));
    assert_int_equal(e->duration_ns, 800 * MS);
    assert_int_equal(find_event(&sc, 7 * S, SCN_ACT_SKEW, 0)->skew_ns, -1500000);
    assert_int_equal(find_event(&sc, 12 * S, SCN_ACT_SKEW, 0)->skew_ns, 250 * (int64_t)MS);
    assert_int_equal(find_event(&sc, 7 * S, SCN_ACT_DRIFT, 0)->drift_ppm, -200);
    assert_int_equal(find_event(&sc, 8 * S, SCN_ACT_TORN_WRITE, 0)->target.ids_mask, BIT(4));
    find_event(&sc, 9 * S, SCN_ACT_HEAL, 0);
    e = find_event(&sc, 10 * S, SCN_ACT_DROP, 0);
    assert_int_equal(e->link_a, 1);
    assert_int_equal(e->link_b, 2);
    e = find_event(&sc, 11 * S, SCN_ACT_SLOW_DISK, 0);
    assert_int_equal(e->factor, 10);
    assert_int_equal(e->duration_ns, 1 * S);
    assert_int_equal(find_event(&sc, 12 * S, SCN_ACT_DISK_FULL, 0)->duration_ns, 1 * S);
}

static void targets_parsed(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    assert_int_equal(find_event(&sc, 13 * S, SCN_ACT_ISOLATE, 0)->target.kind, SCN_TGT_MINORITY);
    assert_int_equal(find_event(&sc, 13 * S, SCN_ACT_CRASH, 0)->target.kind, SCN_TGT_FOLLOWER);
    assert_int_equal(find_event(&sc, 13 * S, SCN_ACT_CRASH, 1)->target.kind, SCN_TGT_FOLLOWERS);
    assert_int_equal(find_event(&sc, 13 * S, SCN_ACT_CRASH, 2)->target.kind, SCN_TGT_MAJORITY);
    const struct scn_event *e = find_event(&sc, 13 * S, SCN_ACT_CRASH, 3);
    assert_int_equal(e->target.kind, SCN_TGT_RANDOM);
    assert_int_equal(e->target.count, 2);
    e = find_event(&sc, 14 * S, SCN_ACT_CRASH, 0);
    assert_int_equal(e->target.kind, SCN_TGT_IDS);
    assert_int_equal(e->target.ids_mask, BIT(1) | BIT(2) | BIT(6));
}

static void scripted_and_periodic_parsed(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    const struct scn_event *e = find_event(&sc, 0, SCN_ACT_CRASH_AT_POINT, 0);
    assert_int_equal(e->target.ids_mask, BIT(2));
    assert_int_equal(e->point, SCN_POINT_AFTER_NEWLEADER_RECEIVED);
    assert_int_equal(e->point_count, 1);
    e = find_event(&sc, 0, SCN_ACT_CRASH_AT_POINT, 1);
    assert_int_equal(e->target.kind, SCN_TGT_LEADER);
    assert_int_equal(e->point, SCN_POINT_AFTER_FSYNC_BEFORE_ACK);
    assert_int_equal(e->point_count, 3);
    e = find_event(&sc, 15 * S, SCN_ACT_CRASH_AT_POINT, 0);
    assert_int_equal(e->point, SCN_POINT_AFTER_CURRENT_EPOCH_PERSISTED);
    e = find_event(&sc, 1 * S, SCN_ACT_HOLD, 0);
    assert_int_equal(e->msg_kind, SCN_MSG_PROPOSAL);
    assert_int_equal(e->target.ids_mask, BIT(1));
    assert_int_equal(e->target_to.ids_mask, BIT(2));
    e = find_event(&sc, 2 * S, SCN_ACT_RELEASE, 0);
    assert_int_equal(e->msg_kind, SCN_MSG_PROPOSAL);
    e = find_event(&sc, 3 * S, SCN_ACT_CRASH, 0);
    assert_int_equal(e->every_ns, 3 * S);
    assert_int_equal(e->until_ns, 0);
    assert_int_equal(e->target.kind, SCN_TGT_RANDOM);
    e = find_event(&sc, 1 * S, SCN_ACT_DROP, 0);
    assert_int_equal(e->every_ns, 500 * MS);
    assert_int_equal(e->until_ns, 9 * S);
}

/* Events come out sorted by time; equal times keep file order. */
static void events_sorted_stably(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    for (int i = 1; i < sc.event_count; i++) {
        assert_true(sc.events[i - 1].at_ns <= sc.events[i].at_ns);
        if (sc.events[i - 1].at_ns == sc.events[i].at_ns)
            assert_true(sc.events[i - 1].pos.line < sc.events[i].pos.line);
    }
}

static void defaults_when_absent(void **state)
{
    (void)state;
    parse_ok("# nothing but a comment\n\n   \n", &sc);
    assert_int_equal(sc.voters, SCN_DEFAULT_VOTERS);
    assert_int_equal(sc.observers, 0);
    assert_int_equal(sc.tick_ns, SCN_DEFAULT_TICK_NS);
    assert_int_equal(sc.run_ns, SCN_DEFAULT_RUN_NS);
    assert_int_equal(sc.seed, SCN_DEFAULT_SEED);
    assert_int_equal(sc.event_count, 0);
    assert_int_equal(sc.net_latency.text[0], '\0');
    assert_int_equal(sc.mix_weight[SCN_OP_GET], 5);
    /* no cluster line: 3 voters, so server 4 is out of range */
    parse_err("at 1s crash 4\n", "t.scn:1:13: server 4 is out of range 1..3 (cluster voters 3 "
              "observers 0)");
}

static void durations(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t ns; } ok[] = {
        {"0s", 0}, {"1ns", 1}, {"7us", 7000}, {"2ms", 2 * MS}, {"1.5s", 1500 * MS},
        {"0.25ms", 250000}, {"2m", 120 * S}, {"1.000000001s", S + 1}, {"0.5us", 500},
        {"18446744073709551615ns", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "seed 1 # %s\nsession-timeout %s\n", ok[i].text, ok[i].text);
        if (ok[i].ns == 0) {
            parse_err(text, "t.scn:2:17: the session timeout must be longer than 0");
            continue;
        }
        parse_ok(text, &sc);
        assert_int_equal(sc.session_timeout_ns, ok[i].ns);
    }
    parse_ok("at 0s heal\n", &sc);
    assert_int_equal(sc.events[0].at_ns, 0);
    parse_err("tick 1.5ns\n", "t.scn:1:6: duration '1.5ns' is not a whole number of nanoseconds");
    parse_err("tick 200\n", "t.scn:1:6: duration '200' needs a unit (ns, us, ms, s or m)");
    parse_err("tick 2sec\n", "t.scn:1:7: unknown time unit 'sec' (use ns, us, ms, s or m)");
    parse_err("tick 18446744073709551616ns\n",
              "t.scn:1:6: duration '18446744073709551616ns' is too large");
    parse_err("tick 400000000000m\n", "t.scn:1:6: duration '400000000000m' is too large");
    parse_err("tick 0ms\n", "t.scn:1:6: the tick length must be longer than 0");
    parse_err("tick ms\n", "t.scn:1:6: expected a duration like 200ms, got 'ms'");
}

static void format_duration_picks_largest_unit(void **state)
{
    (void)state;
    char b[32];
    scn_format_duration(0, b, sizeof b);
    assert_string_equal(b, "0s");
    scn_format_duration(1500 * MS, b, sizeof b);
    assert_string_equal(b, "1500ms");
    scn_format_duration(120 * S, b, sizeof b);
    assert_string_equal(b, "2m");
    scn_format_duration(S + 1, b, sizeof b);
    assert_string_equal(b, "1000000001ns");
}

/* cluster and run may come after the statements they bound. */
static void order_of_cluster_and_run_does_not_matter(void **state)
{
    (void)state;
    parse_ok("at 20s crash 7\nrun 30s\ncluster voters 7\n", &sc);
    assert_int_equal(sc.events[0].target.ids_mask, BIT(7));
    parse_err("at 31s crash 7\nrun 30s\ncluster voters 7\n",
              "t.scn:1:4: time 31s is after the end of the run (run 30s)");
    parse_err("at 2s crash 8\nrun 30s\ncluster voters 7\n",
              "t.scn:1:13: server 8 is out of range 1..7 (cluster voters 7 observers 0)");
}

static char *print_to_string(const struct scenario *s)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(scn_print(s, f), 0);
    fclose(f);
    return buf;
}

static void round_trip(const char *text)
{
    parse_ok(text, &sc);
    char *printed = print_to_string(&sc);
    if (scn_parse(printed, strlen(printed), "printed", &sc2, err, sizeof err) != 0)
        fail_msg("printed text does not parse: %s\n%s", err, printed);
    assert_true(scn_equal(&sc, &sc2));
    char *again = print_to_string(&sc2);
    assert_string_equal(printed, again); /* canonical: printing is a fixed point */
    free(printed);
    free(again);
}

/* Clients named in partitions and isolations: groups, order, printing. */
static void client_cuts(void **state)
{
    (void)state;
    static const char text[] =
        "cluster voters 5\nclients 3\nrecipe lock 2\n"
        "at 1s partition {4, 5, c1,c5} {1,2,3,c3}\n"
        "at 2s partition {c2} {1,2}\n"
        "at 3s isolate c4,2,c1\n"
        "at 4s heal\n";
    parse_ok(text, &sc);
    const struct scn_event *e = find_event(&sc, 1 * S, SCN_ACT_PARTITION, 0);
    assert_int_equal(e->group_count, 2);
    assert_int_equal(e->group_mask[0], BIT(4) | BIT(5));
    assert_int_equal(e->client_count, 3);
    assert_int_equal(e->clients[0].client, 1);
    assert_int_equal(e->clients[0].group, 0);
    assert_int_equal(e->clients[1].client, 5);
    assert_int_equal(e->clients[1].group, 0);
    assert_int_equal(e->clients[2].client, 3);
    assert_int_equal(e->clients[2].group, 1);
    e = find_event(&sc, 2 * S, SCN_ACT_PARTITION, 0);
    assert_int_equal(e->group_mask[0], 0); /* a group of clients only */
    assert_int_equal(e->clients[0].client, 2);
    e = find_event(&sc, 3 * S, SCN_ACT_ISOLATE, 0);
    assert_int_equal(e->target.kind, SCN_TGT_IDS);
    assert_int_equal(e->target.ids_mask, BIT(2));
    assert_int_equal(e->client_count, 2);
    assert_int_equal(e->clients[1].client, 1);
    char *printed = print_to_string(&sc);
    assert_non_null(strstr(printed, "at 1s partition {4,5,c1,c5} {1,2,3,c3}\n"));
    assert_non_null(strstr(printed, "at 2s partition {c2} {1,2}\n"));
    assert_non_null(strstr(printed, "at 3s isolate 2,c4,c1\n"));
    free(printed);
    round_trip(text);
    /* A different client, or the same client in another group, is another scenario. */
    static struct scenario other;
    parse_ok("cluster voters 5\nclients 3\nrecipe lock 2\n"
             "at 1s partition {4,5,c1,c5} {1,2,3,c2}\n"
             "at 2s partition {c2} {1,2}\nat 3s isolate c4,2,c1\nat 4s heal\n", &other);
    assert_false(scn_equal(&sc, &other));
    parse_err("cluster voters 3\nclients 2\nat 1s isolate c1,c1\n",
              "t.scn:3:18: client c1 is listed twice");
    parse_err("cluster voters 3\nclients 2\nat 1s crash c1\n",
              "t.scn:3:13: expected a server target (ids like 1,2, leader, follower, followers, "
              "minority, majority, random N, all), got 'c1'");
}

static void printer_round_trip(void **state)
{
    (void)state;
    round_trip(kitchen_sink);
    round_trip("");
    round_trip("cluster voters 1\nrun 1m\nat 0.5s crash 1\n");
}

/* scn_equal must see a change in any field the printer writes, or the round
 * trip test above could pass with a lossy printer. */
static void equal_detects_differences(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    sc2 = sc;
    assert_true(scn_equal(&sc, &sc2));
    sc2.events[3].pos.line = 999;
    assert_true(scn_equal(&sc, &sc2)); /* positions are not content */
    sc2.events[3].at_ns++;
    assert_false(scn_equal(&sc, &sc2));
    sc2 = sc;
    sc2.links[0].latency.text[0] = 'X';
    assert_false(scn_equal(&sc, &sc2));
    sc2 = sc;
    sc2.mix_weight[SCN_OP_CHILDREN] = 1;
    assert_false(scn_equal(&sc, &sc2));
    sc2 = sc;
    sc2.expects[1].anchor = SCN_ANCHOR_START;
    assert_false(scn_equal(&sc, &sc2));
    sc2 = sc;
    sc2.bugs[1][0] = 'x';
    assert_false(scn_equal(&sc, &sc2));
}

static void remove_event_keeps_order(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    sc2 = sc;
    int n = sc.event_count;
    assert_int_equal(scn_remove_event(&sc2, 2), 0);
    assert_int_equal(sc2.event_count, n - 1);
    assert_int_equal(sc2.events[1].pos.line, sc.events[1].pos.line);
    assert_int_equal(sc2.events[2].pos.line, sc.events[3].pos.line);
    assert_int_equal(sc2.events[n - 2].pos.line, sc.events[n - 1].pos.line);
    assert_int_equal(scn_remove_event(&sc2, n - 1), -1);
    assert_int_equal(scn_remove_event(&sc2, -1), -1);
    /* a shrunk scenario still prints and parses back */
    char *printed = print_to_string(&sc2);
    round_trip(printed);
    free(printed);
}

static void world_helpers(void **state)
{
    (void)state;
    parse_ok(kitchen_sink, &sc);
    assert_string_equal(scn_link_latency(&sc, 3, 1)->text, "constant 20ms");
    assert_string_equal(scn_link_latency(&sc, 1, 3)->text, "constant 20ms");
    assert_string_equal(scn_link_latency(&sc, 2, 4)->text, "lognormal 1ms 0.5"); /* loss only */
    assert_int_equal(scn_link_loss_ppb(&sc, 4, 2), SCN_PPB_ONE);
    assert_int_equal(scn_link_loss_ppb(&sc, 1, 2), 1000000);
    /* every 500ms from 1s until 9s: 1s, 1.5s, ..., 9s = 17 firings */
    const struct scn_event *e = find_event(&sc, 1 * S, SCN_ACT_DROP, 0);
    uint64_t t = 0;
    uint32_t k = 0;
    while (scn_event_firing_ns(&sc, e, k, &t)) {
        assert_int_equal(t, 1 * S + k * 500 * MS);
        k++;
    }
    assert_int_equal(k, 17);
    /* every 3s in a 30s run: 3s..30s = 10 firings */
    e = find_event(&sc, 3 * S, SCN_ACT_CRASH, 0);
    for (k = 0; scn_event_firing_ns(&sc, e, k, &t); k++)
        ;
    assert_int_equal(k, 10);
    assert_int_equal(t, 30 * S);
    e = find_event(&sc, 2 * S, SCN_ACT_CRASH, 0); /* one-shot */
    assert_true(scn_event_firing_ns(&sc, e, 0, &t));
    assert_int_equal(t, 2 * S);
    assert_false(scn_event_firing_ns(&sc, e, 1, &t));
    scn_text_error(&sc, &sc.net_latency, 10, "bad sigma", err, sizeof err);
    assert_string_equal(err, "t.scn:6:27: bad sigma");
}

/* A scenario built in code gets the same checks as a file. */
static void check_validates_built_scenarios(void **state)
{
    (void)state;
    scn_init(&sc);
    sc.voters = 5;
    sc.run_ns = 10 * S;
    struct scn_event *e = &sc.events[sc.event_count++];
    e->at_ns = 2 * S;
    e->action = SCN_ACT_PARTITION;
    e->group_count = 2;
    e->group_mask[0] = BIT(1) | BIT(2);
    e->group_mask[1] = BIT(3) | BIT(4) | BIT(5);
    assert_int_equal(scn_check(&sc, err, sizeof err), 0);
    e->group_mask[1] |= BIT(2); /* overlapping groups */
    assert_int_equal(scn_check(&sc, err, sizeof err), -1);
    assert_non_null(strstr(err, "server 2 is in two partition groups"));
    e->group_mask[1] &= ~BIT(2);
    e->at_ns = 11 * S; /* beyond the run */
    assert_int_equal(scn_check(&sc, err, sizeof err), -1);
    assert_non_null(strstr(err, "after the end of the run"));
    e->at_ns = 2 * S;
    sc.voters = 4; /* server 5 no longer exists */
    assert_int_equal(scn_check(&sc, err, sizeof err), -1);
    assert_non_null(strstr(err, "server 5 is out of range 1..4"));
}

static void errors_have_positions_and_suggestions(void **state)
{
    (void)state;
    parse_err("\n\ncrsh 2\n", "t.scn:3:1: unknown statement 'crsh' (did you mean 'crash'?)");
    parse_err("at 1s partiton {1} {2}\n",
              "t.scn:1:7: unknown action 'partiton' (did you mean 'partition'?)");
    parse_err("at 1s crash 2 at after-fsync-befor-ack\n",
              "t.scn:1:18: unknown protocol point 'after-fsync-befor-ack' (did you mean "
              "'after-fsync-before-ack'?)");
    parse_err("at 1s hold PROPOSL 1 -> 2\n",
              "t.scn:1:12: unknown message kind 'PROPOSL' (did you mean 'PROPOSAL'?)");
    parse_err("at 1s hold proposl 1 -> 2\n",
              "t.scn:1:12: unknown message kind 'proposl' (did you mean 'PROPOSAL'?)");
    parse_err("Cluster voters 3\n",
              "t.scn:1:1: unknown statement 'Cluster' (did you mean 'cluster'?)");
    parse_err("zzzzzz\n", "t.scn:1:1: unknown statement 'zzzzzz'");
    parse_err("tick 5ms\r\ntick 6ms\r\n", "t.scn:2:1: duplicate 'tick' (first at line 1)");
    parse_err("at 1s crash leader\tjunk\n",
              "t.scn:1:20: unexpected 'junk' after the end of the statement");
    parse_err("at 1s crash", "t.scn:1:12: expected a server target at the end of the line");
}

/* Lines, statements and events are bounded, and the bound is an error. */
static void bounds(void **state)
{
    (void)state;
    char line[SCN_LINE_MAX + 8];
    memset(line, ' ', sizeof line);
    memcpy(line, "at 1s heal", 10);
    line[SCN_LINE_MAX + 1] = '\n';
    line[SCN_LINE_MAX + 2] = '\0';
    parse_err(line, "t.scn:1:257: line longer than 256 bytes");
    line[SCN_LINE_MAX] = '\n'; /* exactly at the bound: fine */
    line[SCN_LINE_MAX + 1] = '\0';
    parse_ok(line, &sc);
    assert_int_equal(sc.event_count, 1);

    size_t cap = (SCN_MAX_STATEMENTS + 2) * 16;
    char *text = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < SCN_MAX_EVENTS + 1; i++)
        n += (size_t)snprintf(text + n, cap - n, "at 1s heal\n");
    parse_err(text, "t.scn:257:1: more than 256 timeline events");
    n = 0;
    for (int i = 0; i < SCN_MAX_STATEMENTS + 1; i++)
        n += (size_t)snprintf(text + n, cap - n, "bug b%d\n", i);
    parse_err(text, "t.scn:1025:1: more than 1024 statements");
    free(text);
}

/* ---------------------------------------------------- the bad corpus */

static const char *corpus_dir(void)
{
    const char *env = getenv("SCN_BAD_DIR");
    return env ? env : "tests/data/scenarios-bad";
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first line of each file: "# error: LINE:COL: message". */
static void check_bad_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char head[512];
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    head[strcspn(head, "\n")] = '\0';
    const char *tag = "# error: ";
    if (strncmp(head, tag, strlen(tag)) != 0)
        fail_msg("%s: first line must be '# error: LINE:COL: message'", path);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s:%s", path, head + strlen(tag));
    if (scn_parse_file(path, &sc, err, sizeof err) == 0)
        fail_msg("%s: parsed, but should fail with: %s", path, expected);
    if (strcmp(err, expected) != 0)
        fail_msg("%s:\n  expected: %s\n  got:      %s", path, expected, err);
}

static void bad_corpus(void **state)
{
    (void)state;
    DIR *d = opendir(corpus_dir());
    if (!d)
        fail_msg("cannot open %s (run from the repository root)", corpus_dir());
    char *names[256];
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d)) && count < 256) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".scn") == 0)
            names[count++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)count, sizeof names[0], cmp_names);
    assert_true(count >= 25);
    for (int i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", corpus_dir(), names[i]);
        check_bad_file(path);
        free(names[i]);
    }
}

static void missing_file(void **state)
{
    (void)state;
    assert_int_equal(scn_parse_file("/nonexistent/x.scn", &sc, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/x.scn: cannot open: No such file or directory");
    assert_int_equal(scn_parse_file("scenarios", &sc, err, sizeof err), -1);
    assert_string_equal(err, "scenarios: cannot read: Is a directory");
}

/* Every example in scenarios/ parses and round-trips. */
static void examples_parse(void **state)
{
    (void)state;
    DIR *d = opendir("scenarios");
    if (!d)
        fail_msg("cannot open scenarios/ (run from the repository root)");
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || strcmp(de->d_name + len - 4, ".scn") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "scenarios/%s", de->d_name);
        if (scn_parse_file(path, &sc, err, sizeof err) != 0)
            fail_msg("%s", err);
        /* the catalog's convention: a file opens with what it teaches or guards */
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char first[8] = "";
        if (!fgets(first, sizeof first, f) || first[0] != '#')
            fail_msg("%s: must open with a comment saying what it teaches or guards", path);
        fclose(f);
        char *printed = print_to_string(&sc);
        assert_int_equal(scn_parse(printed, strlen(printed), "p", &sc2, err, sizeof err), 0);
        assert_true(scn_equal(&sc, &sc2));
        free(printed);
        count++;
    }
    closedir(d);
    assert_true(count >= 4);
}

/* ------------------------------------------------------------- fuzzing */

/* A clean result: 0 (and then the printed form parses back equal), or -1
 * with "t.scn:L:C: msg". */
static void parse_cleanly(const char *text, size_t len)
{
    int rc = scn_parse(text, len, "t.scn", &sc, err, sizeof err);
    if (rc == 0) {
        char *printed = print_to_string(&sc);
        if (scn_parse(printed, strlen(printed), "printed", &sc2, err, sizeof err) != 0)
            fail_msg("accepted input prints as text that fails: %s\n%s", err, printed);
        assert_true(scn_equal(&sc, &sc2));
        free(printed);
        return;
    }
    assert_int_equal(rc, -1);
    int line = 0, col = 0, used = 0;
    assert_int_equal(sscanf(err, "t.scn:%d:%d: %n", &line, &col, &used), 2);
    assert_true(used > 0 && err[used] != '\0');
    assert_true(line >= 1 && col >= 1);
}

static void every_prefix_parses_or_fails_cleanly(void **state)
{
    (void)state;
    size_t n = strlen(kitchen_sink);
    char *copy = malloc(n); /* exact size, so ASan sees any read past len */
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(copy, kitchen_sink, cut);
        parse_cleanly(copy, cut);
    }
    free(copy);
}

static void mutations_parse_or_fail_cleanly(void **state)
{
    (void)state;
    static const char bytes[] = {'\0', '{', '}', ',', '9', ' ', '\n', '-', '>', '#', '\xff', '.'};
    size_t n = strlen(kitchen_sink);
    char *copy = malloc(n);
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t b = 0; b < sizeof bytes; b++) {
            memcpy(copy, kitchen_sink, n);
            copy[pos] = bytes[b];
            parse_cleanly(copy, n);
        }
    }
    free(copy);
}

/* Deterministic fuzzing: splice language fragments into valid files at
 * random places (fixed seed, so a failure reproduces). */
static uint64_t fuzz_state = 0x9e3779b97f4a7c15ull;

static uint64_t fuzz_next(void)
{
    fuzz_state ^= fuzz_state << 13;
    fuzz_state ^= fuzz_state >> 7;
    fuzz_state ^= fuzz_state << 17;
    return fuzz_state;
}

static const char *const fuzz_words[] = {
    "at ", "every ", "1s", "0s", "crash ", "leader", "{", "}", "1,2", "->", "partition ",
    "heal", "9", "-", "+5ms", "#", "\n", "all", "random ", "once", "count ", "after ",
    "within ", "1-2", "6", "32", "0.5", "1.0000000001", "x10", " for ", "run 1s\n",
    "cluster voters 1\n", "cluster voters 31\n", ",", "=", "99999999999999999999",
    "expect ", "one-way ", "minority", "hold ", "ANY ", "  ", "\r\n", "\t", "recipe lock",
};

static size_t fuzz_edit(char *buf, size_t len, size_t cap)
{
    size_t pos = len ? (size_t)(fuzz_next() % len) : 0;
    size_t cut = (size_t)(fuzz_next() % 6);
    if (pos + cut > len)
        cut = len - pos;
    const char *w = fuzz_words[fuzz_next() % (sizeof fuzz_words / sizeof fuzz_words[0])];
    size_t wl = (fuzz_next() % 4 == 0) ? 0 : strlen(w); /* a quarter are pure deletions */
    if (len - cut + wl > cap)
        return len;
    memmove(buf + pos + wl, buf + pos + cut, len - pos - cut);
    memcpy(buf + pos, w, wl);
    return len - cut + wl;
}

static void spliced_inputs_parse_or_fail_cleanly(void **state)
{
    (void)state;
    size_t n = strlen(kitchen_sink), cap = n + 256;
    char *buf = malloc(cap);
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, kitchen_sink, n);
        size_t len = n;
        int edits = 1 + (int)(fuzz_next() % 3);
        for (int e = 0; e < edits; e++)
            len = fuzz_edit(buf, len, cap);
        char *exact = malloc(len ? len : 1); /* exact size: ASan catches overreads */
        memcpy(exact, buf, len);
        parse_cleanly(exact, len);
        accepted += scn_parse(exact, len, "t.scn", &sc, err, sizeof err) == 0;
        free(exact);
    }
    free(buf);
    /* the fuzzer must reach both outcomes, or it tests nothing */
    assert_true(accepted > 500);
    assert_true(accepted < 19500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settings_parsed),
        cmocka_unit_test(workload_parsed),
        cmocka_unit_test(fault_events_parsed),
        cmocka_unit_test(targets_parsed),
        cmocka_unit_test(scripted_and_periodic_parsed),
        cmocka_unit_test(events_sorted_stably),
        cmocka_unit_test(defaults_when_absent),
        cmocka_unit_test(durations),
        cmocka_unit_test(format_duration_picks_largest_unit),
        cmocka_unit_test(order_of_cluster_and_run_does_not_matter),
        cmocka_unit_test(printer_round_trip),
        cmocka_unit_test(client_cuts),
        cmocka_unit_test(equal_detects_differences),
        cmocka_unit_test(remove_event_keeps_order),
        cmocka_unit_test(world_helpers),
        cmocka_unit_test(check_validates_built_scenarios),
        cmocka_unit_test(errors_have_positions_and_suggestions),
        cmocka_unit_test(bounds),
        cmocka_unit_test(bad_corpus),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(examples_parse),
        cmocka_unit_test(every_prefix_parses_or_fails_cleanly),
        cmocka_unit_test(mutations_parse_or_fail_cleanly),
        cmocka_unit_test(spliced_inputs_parse_or_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
