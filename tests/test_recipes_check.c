/* Recipe checkers on hand-written histories: each property has clean
 * histories that must pass and planted violations that must be caught with
 * a message naming the culprits; plus the JSON Lines / EDN round trip of
 * recipe outcomes and connection-state events, and the filtered history the
 * ZooKeeper checker reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/history.h"
#include "check/linearizable.h"
#include "check/recipes.h"
#include "check/zk_consistency.h"

static struct chk_history *parse_fmt(const char *text, enum chk_format fmt)
{
    char err[512] = "";
    struct chk_history *h = chk_history_parse("t", text, strlen(text), fmt, err, sizeof err);
    if (!h)
        fail_msg("parse failed: %s", err);
    return h;
}

static struct chk_history *parse(const char *text)
{
    return parse_fmt(text, CHK_FMT_JSONL);
}

static enum chk_verdict judge(enum chk_recipe_kind k, const char *text, struct chk_recipe_result *r)
{
    struct chk_history *h = parse(text);
    enum chk_verdict v = chk_recipe_check(h, k, r);
    chk_history_free(h);
    return v;
}

#define ACQ(p, t) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"acquire\",\"path\":\"/lock\"}\n"
#define REL(p, t) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"release\",\"path\":\"/lock\"}\n"
#define LOSS(p, s) "{\"type\":\"watch\",\"process\":" #p ",\"event\":\"None\",\"state\":\"" s "\"}\n"

static void lock_clean_handover_passes(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *h = ACQ(1, "invoke") ACQ(2, "invoke") ACQ(1, "ok")
                    REL(1, "invoke") REL(1, "ok") ACQ(2, "ok") REL(2, "invoke") REL(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, h, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 2);
    assert_string_equal(r.property, "lock-exclusive");
}

static void lock_two_holders_caught(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *h = ACQ(1, "invoke") ACQ(2, "invoke") ACQ(1, "ok") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, h, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "process 2"));
    assert_non_null(strstr(r.msg, "process 1"));
    assert_non_null(strstr(r.msg, "/lock"));
}

/* Curator's rule: a holder that saw Disconnected has given the lock up. */
static void lock_disconnect_ends_the_hold(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *ok = ACQ(1, "invoke") ACQ(1, "ok") LOSS(1, "Disconnected") ACQ(2, "invoke") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, ok, &r), CHK_VERDICT_OK);
    const char *expired = ACQ(1, "invoke") ACQ(1, "ok") LOSS(1, "Expired") ACQ(2, "invoke") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, expired, &r), CHK_VERDICT_OK);
    /* another process's disconnect says nothing about the holder */
    const char *bad = ACQ(1, "invoke") ACQ(1, "ok") LOSS(3, "Disconnected") ACQ(2, "invoke") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, bad, &r), CHK_VERDICT_VIOLATION);
    /* reconnecting does not give the lock back: the holder must acquire anew */
    const char *re = ACQ(1, "invoke") ACQ(1, "ok") LOSS(1, "Disconnected") LOSS(1, "SyncConnected")
                     ACQ(2, "invoke") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, re, &r), CHK_VERDICT_OK);
}

/* A client that ignores Disconnected records its release late: caught. */
static void lock_holder_ignoring_disconnect_caught(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *h = ACQ(1, "invoke") ACQ(1, "ok") ACQ(2, "invoke") ACQ(2, "ok") REL(1, "invoke");
    assert_int_equal(judge(CHK_RECIPE_LOCK, h, &r), CHK_VERDICT_VIOLATION);
}

static void lock_unknown_or_failed_acquire_is_not_a_hold(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *h = ACQ(1, "invoke") ACQ(1, "info") ACQ(3, "invoke") ACQ(3, "fail")
                    ACQ(2, "invoke") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LOCK, h, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 1);
    /* two different locks may be held at once */
    const char *keys =
        "{\"type\":\"invoke\",\"process\":1,\"f\":\"acquire\",\"path\":\"/a\"}\n"
        "{\"type\":\"ok\",\"process\":1,\"f\":\"acquire\",\"path\":\"/a\"}\n"
        "{\"type\":\"invoke\",\"process\":2,\"f\":\"acquire\",\"path\":\"/b\"}\n"
        "{\"type\":\"ok\",\"process\":2,\"f\":\"acquire\",\"path\":\"/b\"}\n";
    assert_int_equal(judge(CHK_RECIPE_LOCK, keys, &r), CHK_VERDICT_OK);
}

#define LEAD(p, t) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"lead\",\"path\":\"/election\"}\n"
#define RESIGN(p, t) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"resign\",\"path\":\"/election\"}\n"

static void leader_unique_clean_and_planted(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *ok = LEAD(1, "invoke") LEAD(2, "invoke") LEAD(1, "ok") LOSS(1, "Disconnected")
                     LEAD(2, "ok") RESIGN(2, "invoke") RESIGN(2, "ok") LEAD(1, "invoke") LEAD(1, "ok");
    assert_int_equal(judge(CHK_RECIPE_LEADER, ok, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 3);
    const char *bad = LEAD(1, "invoke") LEAD(2, "invoke") LEAD(1, "ok") LEAD(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LEADER, bad, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "leadership of /election"));
    /* lock outcomes are not leadership: the leader checker ignores them */
    const char *locks = ACQ(1, "invoke") ACQ(2, "invoke") ACQ(1, "ok") ACQ(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_LEADER, locks, &r), CHK_VERDICT_OK);
}

#define ENQ(p, t, v) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"enqueue\",\"path\":\"/q\",\"value\":\"" v "\"}\n"
#define DEQ(p, t, v) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"dequeue\",\"path\":\"/q\",\"value\":\"" v "\"}\n"
#define DEQ0(p) "{\"type\":\"invoke\",\"process\":" #p ",\"f\":\"dequeue\",\"path\":\"/q\"}\n"
#define FINAL(vals) "{\"type\":\"invoke\",\"process\":9,\"f\":\"queue-read\",\"path\":\"/q\"}\n" \
                    "{\"type\":\"ok\",\"process\":9,\"f\":\"queue-read\",\"path\":\"/q\",\"values\":[" vals "]}\n"

static void queue_clean_passes(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *h = ENQ(1, "invoke", "a") ENQ(1, "ok", "a") ENQ(1, "invoke", "b") ENQ(1, "ok", "b")
                    ENQ(1, "invoke", "c") ENQ(1, "ok", "c")
                    DEQ0(2) DEQ(2, "ok", "a") DEQ0(2) DEQ(2, "info", "b")
                    FINAL("\"c\"");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, h, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 3);
    assert_non_null(strstr(r.msg, "none lost"));
    /* an unacknowledged (info) enqueue may be gone: not a loss */
    const char *maybe = ENQ(1, "invoke", "x") ENQ(1, "info", "x") FINAL("");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, maybe, &r), CHK_VERDICT_OK);
    /* without a final read, losses are not judged, and the message says so */
    const char *nofinal = ENQ(1, "invoke", "a") ENQ(1, "ok", "a");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, nofinal, &r), CHK_VERDICT_OK);
    assert_non_null(strstr(r.msg, "not judged"));
}

static void queue_planted_violations_caught(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *twice = ENQ(1, "invoke", "a") ENQ(1, "ok", "a") DEQ0(2) DEQ(2, "ok", "a")
                        DEQ0(3) DEQ(3, "ok", "a");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, twice, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "dequeued twice"));
    const char *lost = ENQ(1, "invoke", "a") ENQ(1, "ok", "a") ENQ(1, "invoke", "b") ENQ(1, "ok", "b")
                       DEQ0(2) DEQ(2, "ok", "a") FINAL("");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, lost, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "\"b\" was lost"));
    const char *still = ENQ(1, "invoke", "a") ENQ(1, "ok", "a") DEQ0(2) DEQ(2, "ok", "a") FINAL("\"a\"");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, still, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "still in the queue"));
    const char *phantom = DEQ0(2) DEQ(2, "ok", "z");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, phantom, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "never enqueued"));
    const char *early = DEQ0(2) DEQ(2, "ok", "a") ENQ(1, "invoke", "a") ENQ(1, "ok", "a");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, early, &r), CHK_VERDICT_VIOLATION);
    const char *refused = ENQ(1, "invoke", "a") ENQ(1, "fail", "a") DEQ0(2) DEQ(2, "ok", "a");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, refused, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "failed definitely"));
    const char *ghost = FINAL("\"g\"");
    assert_int_equal(judge(CHK_RECIPE_QUEUE, ghost, &r), CHK_VERDICT_VIOLATION);
}

#define CW(v, t) "{\"type\":\"" t "\",\"process\":0,\"f\":\"config-write\",\"path\":\"/config\",\"value\":" #v "}\n"
#define CR(p, s, t, v) "{\"type\":\"" t "\",\"process\":" #p ",\"session\":" #s ",\"f\":\"config-read\",\"path\":\"/config\"" v "}\n"
#define SEEN(p, s, v) CR(p, s, "invoke", "") CR(p, s, "ok", ",\"value\":" #v)

static void config_converges_clean(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *h = CW(1, "invoke") CW(1, "ok") SEEN(1, 11, 1) SEEN(2, 12, 0)
                    CW(2, "invoke") CW(2, "ok") SEEN(1, 11, 2) SEEN(2, 12, 2);
    assert_int_equal(judge(CHK_RECIPE_CONFIG, h, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 2);
    /* a watcher that lost its connection at the end is not judged */
    const char *gone = CW(1, "invoke") CW(1, "ok") SEEN(1, 11, 0) LOSS(1, "Expired")
                       CW(2, "invoke") CW(2, "ok") SEEN(2, 12, 2);
    assert_int_equal(judge(CHK_RECIPE_CONFIG, gone, &r), CHK_VERDICT_OK);
    /* a new session may start behind: monotonic only within one session */
    const char *fresh = CW(1, "invoke") CW(1, "ok") CW(2, "invoke") CW(2, "ok")
                        SEEN(1, 11, 2) SEEN(1, 13, 1) SEEN(1, 13, 2);
    assert_int_equal(judge(CHK_RECIPE_CONFIG, fresh, &r), CHK_VERDICT_OK);
}

static void config_planted_violations_caught(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *stale = CW(1, "invoke") CW(1, "ok") SEEN(1, 11, 1) SEEN(2, 12, 1)
                        CW(2, "invoke") CW(2, "ok") SEEN(1, 11, 2);
    assert_int_equal(judge(CHK_RECIPE_CONFIG, stale, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "watcher process 2"));
    assert_non_null(strstr(r.msg, "version 2"));
    /* reconnected after a loss: judged again */
    const char *back = CW(1, "invoke") CW(1, "ok") SEEN(2, 12, 1) LOSS(2, "Disconnected")
                       LOSS(2, "SyncConnected") CW(2, "invoke") CW(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_CONFIG, back, &r), CHK_VERDICT_VIOLATION);
    /* still reading at the end: not judged; the same watcher idle: judged */
    const char *reading = CW(1, "invoke") CW(1, "ok") SEEN(2, 12, 0) CW(2, "invoke") CW(2, "ok")
                          CR(2, 12, "invoke", "");
    assert_int_equal(judge(CHK_RECIPE_CONFIG, reading, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 0);
    const char *idle = CW(1, "invoke") CW(1, "ok") SEEN(2, 12, 0) CW(2, "invoke") CW(2, "ok");
    assert_int_equal(judge(CHK_RECIPE_CONFIG, idle, &r), CHK_VERDICT_VIOLATION);
    const char *never = CW(1, "invoke") CW(1, "ok") SEEN(1, 11, 7);
    assert_int_equal(judge(CHK_RECIPE_CONFIG, never, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "never written"));
    const char *backwards = CW(1, "invoke") CW(1, "ok") CW(2, "invoke") CW(2, "ok")
                            SEEN(1, 11, 2) SEEN(1, 11, 1) SEEN(1, 11, 2);
    assert_int_equal(judge(CHK_RECIPE_CONFIG, backwards, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "back in time"));
}

#define ENTER(p, t, round) "{\"type\":\"" t "\",\"process\":" #p ",\"f\":\"enter\",\"path\":\"/barrier\",\"value\":[" #round ",3]}\n"

static void barrier_sync_clean_and_planted(void **state)
{
    (void)state;
    struct chk_recipe_result r;
    const char *ok = ENTER(1, "invoke", 0) ENTER(2, "invoke", 0) ENTER(3, "invoke", 0)
                     ENTER(3, "ok", 0) ENTER(1, "ok", 0) ENTER(2, "ok", 0)
                     ENTER(1, "invoke", 1) ENTER(2, "invoke", 1) ENTER(3, "invoke", 1) ENTER(2, "ok", 1);
    assert_int_equal(judge(CHK_RECIPE_BARRIER, ok, &r), CHK_VERDICT_OK);
    assert_int_equal(r.n_judged, 4);
    /* process 3 passes round 1 with only two arrivals */
    const char *early = ENTER(1, "invoke", 0) ENTER(2, "invoke", 0) ENTER(3, "invoke", 0)
                        ENTER(1, "ok", 0) ENTER(2, "ok", 0) ENTER(3, "ok", 0)
                        ENTER(2, "invoke", 1) ENTER(3, "invoke", 1) ENTER(3, "ok", 1) ENTER(1, "invoke", 1);
    assert_int_equal(judge(CHK_RECIPE_BARRIER, early, &r), CHK_VERDICT_VIOLATION);
    assert_non_null(strstr(r.msg, "round 1: process 3"));
    assert_non_null(strstr(r.msg, "only 2 of its 3"));
    /* one process entering twice counts once */
    const char *twice = ENTER(1, "invoke", 0) ENTER(1, "info", 0) ENTER(1, "invoke", 0)
                        ENTER(2, "invoke", 0) ENTER(2, "ok", 0);
    assert_int_equal(judge(CHK_RECIPE_BARRIER, twice, &r), CHK_VERDICT_VIOLATION);
}

static char *write_all(const struct chk_history *h, enum chk_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    for (uint32_t e = 0; e < h->n_events; e++) {
        int rc = fmt == CHK_FMT_EDN ? chk_edn_write_event(f, h, &h->events[e])
                                    : chk_jsonl_write_event(f, h, &h->events[e]);
        assert_int_equal(rc, 0);
    }
    fclose(f);
    return buf;
}

/* Writing then reading gives the same events and the same verdicts. */
static void formats_round_trip(void **state)
{
    (void)state;
    const char *text = ACQ(1, "invoke") ACQ(1, "ok") LOSS(1, "Disconnected")
                       ENQ(2, "invoke", "e1") ENQ(2, "ok", "e1") CW(3, "invoke") CW(3, "ok")
                       SEEN(4, 44, 3) FINAL("\"e1\",\"e2\"") LEAD(5, "invoke") LEAD(5, "ok")
                       ENTER(6, "invoke", 4);
    struct chk_history *h = parse(text);
    for (int fmt = CHK_FMT_JSONL; fmt <= CHK_FMT_EDN; fmt++) {
        char *out = write_all(h, (enum chk_format)fmt);
        struct chk_history *h2 = parse_fmt(out, (enum chk_format)fmt);
        assert_int_equal(h2->n_events, h->n_events);
        for (uint32_t e = 0; e < h->n_events; e++) {
            const struct chk_event *a = &h->events[e], *b = &h2->events[e];
            assert_int_equal(a->type, b->type);
            assert_int_equal(a->f, b->f);
            assert_int_equal(a->process, b->process);
            assert_int_equal(a->session, b->session);
            assert_int_equal(a->state, b->state);
            assert_int_equal(a->watch_type, b->watch_type);
            assert_int_equal(a->ival, b->ival);
            assert_int_equal(a->ival2, b->ival2);
            assert_string_equal(chk_str_get(h, a->key), chk_str_get(h2, b->key));
            assert_string_equal(chk_str_get(h, a->sval), chk_str_get(h2, b->sval));
            assert_int_equal(a->n_children, b->n_children);
            for (uint32_t i = 0; i < a->n_children; i++)
                assert_string_equal(chk_str_get(h, h->names[a->children + i]),
                                    chk_str_get(h2, h2->names[b->children + i]));
        }
        free(out);
        chk_history_free(h2);
    }
    assert_int_equal(h->events[2].state, CHK_STATE_DISCONNECTED);
    assert_int_equal(h->events[2].watch_type, CHK_WATCH_NONE);
    chk_history_free(h);
}

static void malformed_recipe_lines_rejected(void **state)
{
    (void)state;
    static const struct { const char *text; enum chk_format fmt; const char *want; } cases[] = {
        {"{\"type\":\"watch\",\"process\":1,\"event\":\"None\"}\n", CHK_FMT_JSONL,
         "t:1:29: a \"None\" event needs \"state\""},
        {"{\"type\":\"watch\",\"process\":1,\"event\":\"None\",\"state\":\"Sleepy\"}\n", CHK_FMT_JSONL,
         "t:1:44: a \"None\" event needs \"state\""},
        {"{\"type\":\"ok\",\"process\":1,\"f\":\"dequeue\",\"values\":[\"a\"]}\n", CHK_FMT_JSONL,
         "t:1:40: \"values\" belongs to queue-read"},
        {"{\"type\":\"invoke\",\"process\":1,\"f\":\"config-write\",\"value\":\"x\"}\n", CHK_FMT_JSONL,
         "t:1:49: config-write \"value\" must be an integer version"},
        {"{:process 1, :type :watch}\n", CHK_FMT_EDN, "t:1:1: a :watch line needs :state"},
        {"{\"type\":\"invoke\",\"process\":1,\"f\":\"enter\",\"value\":3}\n", CHK_FMT_JSONL,
         "t:1:42: enter \"value\" must be [round, parties] integers"},
        {"{:process 1, :type :ok, :f :queue-read, :value 3}\n", CHK_FMT_EDN,
         "t:1:48: :queue-read :value must be a vector"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        struct chk_history *h = chk_history_parse("t", cases[i].text, strlen(cases[i].text),
                                                  cases[i].fmt, err, sizeof err);
        if (h)
            fail_msg("case %zu accepted", i);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)))
            fail_msg("case %zu:\n  got  %s\n  want %s...", i, err, cases[i].want);
    }
}

/* The ZooKeeper checker reads the znode operations only. */
static void without_recipes_keeps_the_rest(void **state)
{
    (void)state;
    const char *text =
        "{\"type\":\"invoke\",\"process\":1,\"f\":\"create\",\"path\":\"/a\",\"data\":\"x\"}\n"
        ACQ(7, "invoke")
        "{\"type\":\"ok\",\"process\":1,\"f\":\"create\",\"path\":\"/a\",\"created\":\"/a\"}\n"
        ACQ(7, "ok") LOSS(7, "Disconnected")
        "{\"type\":\"watch\",\"process\":1,\"event\":\"NodeCreated\",\"path\":\"/a\"}\n";
    struct chk_history *h = parse(text);
    assert_int_equal(h->n_ops, 2);
    char err[256];
    struct chk_history *c = chk_history_without_recipes(h, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->n_events, 3);
    assert_int_equal(c->n_ops, 1);
    assert_int_equal(c->ops[0].f, CHK_F_CREATE);
    assert_string_equal(chk_str_get(c, c->events[1].result_path), "/a");
    assert_int_equal(c->events[2].watch_type, CHK_WATCH_CREATED);
    assert_false(chk_recipe_present(c, CHK_RECIPE_LOCK));
    assert_true(chk_recipe_present(h, CHK_RECIPE_LOCK));
    assert_false(chk_recipe_present(h, CHK_RECIPE_QUEUE));
    chk_history_free(c);
    chk_history_free(h);
}

/* The zk and linearizability checkers judge a mixed history by its znode
 * operations only: the recipe outcomes neither break nor hide anything. */
static void zk_checkers_skip_recipe_outcomes(void **state)
{
    (void)state;
    const char *ok =
        "{\"type\":\"invoke\",\"process\":1,\"f\":\"create\",\"path\":\"/a\",\"data\":\"x\"}\n"
        ACQ(7, "invoke")
        "{\"type\":\"ok\",\"process\":1,\"f\":\"create\",\"path\":\"/a\",\"created\":\"/a\"}\n"
        ACQ(7, "ok") LOSS(7, "Disconnected")
        "{\"type\":\"invoke\",\"process\":2,\"f\":\"getData\",\"path\":\"/a\"}\n"
        "{\"type\":\"ok\",\"process\":2,\"f\":\"getData\",\"path\":\"/a\",\"data\":\"x\",\"version\":0}\n";
    static struct chk_zk_result zr;
    struct chk_zk_opts zo = {CHK_SYNC_ZK, 0, 0, false};
    struct chk_history *h = parse(ok);
    assert_int_equal(chk_zk_check(h, &zo, &zr), CHK_VERDICT_OK);
    struct chk_lin_opts lo = {CHK_MODEL_ZK, 0, 0};
    static struct chk_lin_result lr;
    assert_int_equal(chk_linearizable(h, &lo, &lr), CHK_VERDICT_OK);
    chk_lin_result_free(&lr);
    chk_history_free(h);
    /* a stale read is still caught with recipe outcomes around it */
    const char *bad =
        "{\"type\":\"invoke\",\"process\":1,\"f\":\"create\",\"path\":\"/a\",\"data\":\"x\"}\n"
        "{\"type\":\"ok\",\"process\":1,\"f\":\"create\",\"path\":\"/a\",\"created\":\"/a\"}\n"
        ACQ(7, "invoke") ACQ(7, "ok")
        "{\"type\":\"invoke\",\"process\":1,\"f\":\"getData\",\"path\":\"/a\"}\n"
        "{\"type\":\"fail\",\"process\":1,\"f\":\"getData\",\"path\":\"/a\",\"err\":\"NONODE\"}\n";
    h = parse(bad);
    assert_int_equal(chk_zk_check(h, &zo, &zr), CHK_VERDICT_VIOLATION);
    assert_int_equal(chk_linearizable(h, &lo, &lr), CHK_VERDICT_VIOLATION);
    chk_lin_result_free(&lr);
    chk_history_free(h);
}

static void names_parse(void **state)
{
    (void)state;
    enum chk_recipe_kind k;
    assert_int_equal(chk_recipe_parse("queue", &k), 0);
    assert_int_equal(k, CHK_RECIPE_QUEUE);
    assert_int_equal(chk_recipe_parse("leader-unique", &k), 0);
    assert_int_equal(k, CHK_RECIPE_LEADER);
    assert_int_equal(chk_recipe_parse("mutex", &k), -1);
    assert_string_equal(chk_recipe_property(CHK_RECIPE_CONFIG), "config-converges");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lock_clean_handover_passes),
        cmocka_unit_test(lock_two_holders_caught),
        cmocka_unit_test(lock_disconnect_ends_the_hold),
        cmocka_unit_test(lock_holder_ignoring_disconnect_caught),
        cmocka_unit_test(lock_unknown_or_failed_acquire_is_not_a_hold),
        cmocka_unit_test(leader_unique_clean_and_planted),
        cmocka_unit_test(queue_clean_passes),
        cmocka_unit_test(queue_planted_violations_caught),
        cmocka_unit_test(config_converges_clean),
        cmocka_unit_test(config_planted_violations_caught),
        cmocka_unit_test(barrier_sync_clean_and_planted),
        cmocka_unit_test(formats_round_trip),
        cmocka_unit_test(malformed_recipe_lines_rejected),
        cmocka_unit_test(without_recipes_keeps_the_rest),
        cmocka_unit_test(zk_checkers_skip_recipe_outcomes),
        cmocka_unit_test(names_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
