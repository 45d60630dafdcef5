/* zabd serves ZooKeeper clients, end to end on loopback: a tiny client on
 * core/zk_wire.h's client side (tests/zabd/client.h) over real sockets
 * against 1- and 3-server ensembles of real zabd processes - CRUD,
 * ephemeral and sequential nodes, a data watch, multi, sync, a write through
 * a follower, a session resumed on another server after its server was
 * SIGKILLed; a corpus of malformed input against a live server (each bad
 * connection closed with a log line while a good client keeps working);
 * the connection limits; and the Apache C client's CLI (cli_mt), when
 * installed. Every process is started and killed by its PID; every wait is
 * bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/zabd/client.h"
#include "tests/zabd/harness.h"

#define ELECTION_BOUND_MS 15000u
#define FAILOVER_BOUND_MS 10000u
#define EXIT_BOUND_MS 5000u
#define CALL_MS 5000u

static struct zh_cluster cl;

static bool log_has(int id, const char *needle);

/* Stops every server with SIGTERM: each must exit 0, and no log may carry
 * a sanitizer report (under `make test`'s ASan run, zabd is built with it
 * too and checks leaks at exit). */
static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    for (int id = 1; id <= cl.n; id++) {
        if (!cl.pid[id])
            continue;
        int st = zh_stop(&cl, id, SIGTERM, EXIT_BOUND_MS);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "s%d did not exit cleanly (status %d)\n", id, st);
            bad = 1;
        }
    }
    for (int id = 1; id <= cl.n; id++) {
        if (log_has(id, "Sanitizer") || log_has(id, "runtime error:")) {
            fprintf(stderr, "s%d: sanitizer report in %s/s%d/zabd.log\n", id, cl.dir, id);
            bad = 1;
        }
    }
    if (bad)
        setenv("ZABD_TEST_KEEP", "1", 1);
    zh_cluster_destroy(&cl);
    return bad ? -1 : 0;
}

static uint32_t all_of(int n)
{
    uint32_t mask = 0;
    for (int i = 1; i <= n; i++)
        mask |= 1u << i;
    return mask;
}

/* Starts an n-server ensemble with `extra` zoo.cfg lines; returns the leader. */
static int start_ensemble(int n, const char *extra)
{
    char cfg[512];
    /* Sessions outlive a failover on a loaded machine (20 ticks would be 2 s). */
    snprintf(cfg, sizeof cfg,
             "4lw.commands.whitelist=*\nmaxSessionTimeout=10000\nsecret=test-secret-%d\n%s",
             (int)getpid(), extra ? extra : "");
    assert_int_equal(zh_cluster_init(&cl, n, 100, cfg), 0);
    for (int id = 1; id <= n; id++)
        assert_true(zh_start(&cl, id) > 0);
    int leader = zh_wait_ensemble(&cl, all_of(n), ELECTION_BOUND_MS);
    assert_int_not_equal(leader, 0);
    return leader;
}

static bool log_has(int id, const char *needle)
{
    char path[400];
    static char text[1 << 20];
    snprintf(path, sizeof path, "%s/s%d/zabd.log", cl.dir, id);
    return zh_read_file(path, text, sizeof text) >= 0 && strstr(text, needle) != NULL;
}

/* Log lines arrive asynchronously: wait (bounded) for one. */
static void wait_log(int id, const char *needle)
{
    uint64_t end = zh_now_ms() + 3000;
    while (!log_has(id, needle) && zh_now_ms() < end)
        zh_sleep_ms(20);
    if (!log_has(id, needle))
        fail_msg("s%d log lacks \"%s\"", id, needle);
}

static void open_on(struct zc *c, int id)
{
    memset(c, 0, sizeof *c);
    if (zc_open(c, cl.client_port[id], 0, 4000, CALL_MS) != 0)
        fail_msg("connect to s%d: %s", id, c->why);
    assert_true(c->session_id != 0);
}

#define CALL_OK(expr) assert_int_equal((expr), ZOK)

/* ---- CRUD on one server ------------------------------------------------------ */

/* multiRead (22) as raw frames: /app holds "v1" and three children. */
static void multi_read_over_socket(struct zc *a)
{
    struct zk_request ops[3] = { zc_req(ZOO_GETDATA_OP, "/app"), zc_req(ZOO_GETCHILDREN_OP, "/app"),
                                 zc_req(ZOO_GETCHILDREN_OP, "/missing") };
    struct zk_request q = zc_req(ZOO_MULTI_READ_OP, NULL);
    q.ops = ops;
    q.op_count = 3;
    struct zkw_reply rep;
    CALL_OK(zc_call(a, &q, &rep, CALL_MS));
    assert_int_equal(rep.body.multi.count, 3);
    assert_int_equal(rep.body.multi.items[0].op, ZOO_GETDATA_OP);
    assert_int_equal(rep.body.multi.items[0].data.len, 2);
    assert_memory_equal(rep.body.multi.items[0].data.ptr, "v1", 2);
    assert_int_equal(rep.body.multi.items[0].stat.version, 1);
    assert_int_equal(rep.body.multi.items[1].op, ZOO_GETCHILDREN_OP);
    assert_int_equal(rep.body.multi.items[1].children.count, 3);
    assert_int_equal(rep.body.multi.items[2].op, ZOO_ERROR_OP);
    assert_int_equal(rep.body.multi.items[2].err, ZNONODE);
    zkw_reply_free(&rep);
    /* A write inside multiRead: that xid fails, the connection stays. */
    struct zk_request bad[1] = { zc_req(ZOO_DELETE_OP, "/app/p") };
    q.ops = bad;
    q.op_count = 1;
    assert_int_equal(zc_call(a, &q, &rep, CALL_MS), ZBADARGUMENTS);
    zkw_reply_free(&rep);
    CALL_OK(zc_simple(a, ZOO_EXISTS_OP, "/app/p", 0));
}

static void one_server_crud_ephemeral_sequential(void **state)
{
    (void)state;
    start_ensemble(1, NULL);
    struct zc a, b;
    open_on(&a, 1);
    char path[256], data[256];
    struct zkp_stat st;
    memset(&st, 0, sizeof st);
    CALL_OK(zc_create(&a, "/app", "v0", 0, path, sizeof path));
    assert_string_equal(path, "/app");
    assert_int_equal(zc_create(&a, "/app", "again", 0, NULL, 0), ZNODEEXISTS);
    CALL_OK(zc_get(&a, "/app", false, data, sizeof data, &st));
    assert_string_equal(data, "v0");
    assert_int_equal(st.version, 0);
    assert_true(st.mzxid > 0 && st.czxid == st.mzxid);
    /* ctime is wall-clock milliseconds, as ZooKeeper's. */
    assert_true(st.ctime_ms > 1600000000000LL);
    CALL_OK(zc_set(&a, "/app", "v1", 0));
    assert_int_equal(zc_set(&a, "/app", "v2", 0), ZBADVERSION);
    CALL_OK(zc_get(&a, "/app", false, data, sizeof data, &st));
    assert_string_equal(data, "v1");
    assert_int_equal(st.version, 1);
    CALL_OK(zc_simple(&a, ZOO_EXISTS_OP, "/app", 0));
    assert_int_equal(zc_simple(&a, ZOO_EXISTS_OP, "/nope", 0), ZNONODE);
    /* Ephemeral + sequential children. */
    CALL_OK(zc_create(&a, "/app/e-", "", ZOO_EPHEMERAL_SEQUENTIAL, path, sizeof path));
    assert_int_equal(strlen(path), strlen("/app/e-0000000000"));
    assert_int_equal(strncmp(path, "/app/e-", 7), 0);
    char second[256];
    CALL_OK(zc_create(&a, "/app/e-", "", ZOO_EPHEMERAL_SEQUENTIAL, second, sizeof second));
    assert_true(strcmp(second, path) > 0);
    CALL_OK(zc_create(&a, "/app/p", "", 0, NULL, 0));
    char kids[1024];
    CALL_OK(zc_children(&a, "/app", kids, sizeof kids));
    assert_non_null(strstr(kids, path + 5));
    assert_non_null(strstr(kids, second + 5));
    assert_non_null(strstr(kids, "p"));
    assert_int_equal(zc_simple(&a, ZOO_DELETE_OP, "/app", 0), ZNOTEMPTY);
    multi_read_over_socket(&a);
    /* Another session sees them; closing the first removes its ephemerals. */
    open_on(&b, 1);
    CALL_OK(zc_simple(&b, ZOO_EXISTS_OP, path, 0));
    struct zk_request close_req = zc_req(ZOO_CLOSE_SESSION_OP, NULL);
    struct zkw_reply rep;
    CALL_OK(zc_call(&a, &close_req, &rep, CALL_MS));
    zkw_reply_free(&rep);
    assert_true(zc_closed_by_server(&a, 3000));
    zc_close(&a);
    assert_int_equal(zc_simple(&b, ZOO_EXISTS_OP, path, 0), ZNONODE);
    assert_int_equal(zc_simple(&b, ZOO_EXISTS_OP, second, 0), ZNONODE);
    CALL_OK(zc_simple(&b, ZOO_DELETE_OP, "/app/p", 0));
    CALL_OK(zc_simple(&b, ZOO_DELETE_OP, "/app", 0));
    assert_int_equal(zc_simple(&b, ZOO_EXISTS_OP, "/app", 0), ZNONODE);
    /* The four-letter words now see the tree and the connections. */
    char r[ZH_REPLY_MAX];
    assert_true(zh_4lw(cl.client_port[1], "cons", r, sizeof r, 2000) > 0);
    char sid[64];
    snprintf(sid, sizeof sid, "sid=0x%llx", (unsigned long long)b.session_id);
    assert_non_null(strstr(r, sid));
    assert_true(zh_4lw(cl.client_port[1], "mntr", r, sizeof r, 2000) > 0);
    assert_non_null(strstr(r, "zk_num_alive_connections\t1\n"));
    zc_close(&b);
}

/* ---- latency counters ------------------------------------------------------------ */

/* The number after `key` in a four-letter-word reply (-1 if absent). */
static double reply_num(const char *reply, const char *key)
{
    const char *p = strstr(reply, key);
    return p ? strtod(p + strlen(key), NULL) : -1.0;
}

static void latency_counters_and_srst(void **state)
{
    (void)state;
    start_ensemble(1, NULL);
    char r[ZH_REPLY_MAX];
    assert_true(zh_4lw(cl.client_port[1], "mntr", r, sizeof r, 2000) > 0);
    assert_true(reply_num(r, "zablab_max_latency_ns\t") == 0.0);
    struct zc a;
    open_on(&a, 1);
    CALL_OK(zc_create(&a, "/lat", "v", 0, NULL, 0));
    char data[64];
    struct zkp_stat st;
    for (int i = 0; i < 20; i++)
        CALL_OK(zc_get(&a, "/lat", false, data, sizeof data, &st));
    assert_true(zh_4lw(cl.client_port[1], "mntr", r, sizeof r, 2000) > 0);
    /* The precise counters, in ns. */
    double mn = reply_num(r, "zablab_min_latency_ns\t"), avg = reply_num(r, "zablab_avg_latency_ns\t");
    double mx = reply_num(r, "zablab_max_latency_ns\t");
    assert_true(mn > 0.0);
    assert_true(avg >= mn);
    assert_true(mx >= avg);
    assert_true(mx < 10e9);              /* no request took 10 s */
    /* ZooKeeper's keys agree with them: min and max in whole ms, avg in ms. */
    assert_true(reply_num(r, "zk_min_latency\t") == (double)((long long)mn / 1000000));
    assert_true(reply_num(r, "zk_max_latency\t") == (double)((long long)mx / 1000000));
    double zavg = reply_num(r, "zk_avg_latency\t");
    assert_true(zavg >= avg / 1e6 - 0.001 && zavg <= avg / 1e6 + 0.001);
    /* srvr prints them in ZooKeeper's shape: integer/decimal/integer. */
    assert_true(zh_4lw(cl.client_port[1], "srvr", r, sizeof r, 2000) > 0);
    const char *l = strstr(r, "Latency min/avg/max: ");
    assert_non_null(l);
    long long smn, smx;
    double savg;
    char tail;
    assert_int_equal(sscanf(l, "Latency min/avg/max: %lld/%lf/%lld%c", &smn, &savg, &smx, &tail), 4);
    assert_int_equal(tail, '\n');
    assert_true(smn == (long long)mn / 1000000 && smx == (long long)mx / 1000000);
    assert_true(savg >= (double)smn && savg <= (double)smx + 1.0);
    assert_true(zh_4lw(cl.client_port[1], "srst", r, sizeof r, 2000) > 0);
    assert_string_equal(r, "Server stats reset.\n");
    assert_true(zh_4lw(cl.client_port[1], "mntr", r, sizeof r, 2000) > 0);
    assert_true(reply_num(r, "zk_min_latency\t") == 0.0);
    assert_true(reply_num(r, "zk_avg_latency\t") == 0.0);
    assert_true(reply_num(r, "zk_max_latency\t") == 0.0);
    assert_true(reply_num(r, "zk_packets_received\t") == 1.0);   /* this mntr */
    /* Counting starts again. */
    CALL_OK(zc_get(&a, "/lat", false, data, sizeof data, &st));
    assert_true(zh_4lw(cl.client_port[1], "mntr", r, sizeof r, 2000) > 0);
    assert_true(reply_num(r, "zablab_max_latency_ns\t") > 0.0);
    zc_close(&a);
}

/* ---- three servers -------------------------------------------------------------- */

static int a_follower(int leader, int skip)
{
    for (int id = 1; id <= cl.n; id++)
        if (id != leader && id != skip)
            return id;
    return 0;
}

/* Waits (bounded) for a watch event on c, pinging so frames flow. */
static bool wait_event(struct zc *c, int32_t type, const char *path)
{
    uint64_t end = zh_now_ms() + CALL_MS;
    while (zh_now_ms() < end) {
        for (uint32_t i = 0; i < c->n_events; i++)
            if (c->events[i].type == type && strcmp(c->events[i].path, path) == 0)
                return true;
        struct zk_request ping = zc_req(ZOO_PING_OP, NULL);
        ping.cxid = -2;
        struct zkw_reply rep;
        if (zc_call(c, &ping, &rep, CALL_MS) == INT32_MIN)
            return false;
        zkw_reply_free(&rep);
        zh_sleep_ms(20);
    }
    return false;
}

static void three_servers_watch_multi_sync_follower_write(void **state)
{
    (void)state;
    int leader = start_ensemble(3, NULL);
    int f1 = a_follower(leader, 0), f2 = a_follower(leader, f1);
    struct zc a, b;
    open_on(&a, f1);
    open_on(&b, f2);
    /* A write through a follower, forwarded to the leader. */
    CALL_OK(zc_create(&a, "/w", "0", 0, NULL, 0));
    /* b (another follower): sync, then the read sees it. */
    CALL_OK(zc_simple(&b, ZOO_SYNC_OP, "/w", 0));
    char data[64];
    CALL_OK(zc_get(&b, "/w", true, data, sizeof data, NULL));
    assert_string_equal(data, "0");
    /* Data watch: a's change fires b's watch once. */
    CALL_OK(zc_set(&a, "/w", "1", -1));
    assert_true(wait_event(&b, ZOO_EVENT_DATA_CHANGED, "/w"));
    uint32_t events = b.n_events;
    CALL_OK(zc_set(&a, "/w", "2", -1));
    CALL_OK(zc_simple(&b, ZOO_SYNC_OP, "/w", 0));
    CALL_OK(zc_get(&b, "/w", false, data, sizeof data, NULL));
    assert_string_equal(data, "2");
    assert_int_equal(b.n_events, events);    /* one-shot */
    /* multi: all or nothing. */
    struct zk_request ops[3] = {zc_create_req("/m1", "x", 0), zc_create_req("/m2", "y", 0),
                                zc_req(ZOO_CHECK_OP, "/w")};
    ops[2].version = 2;
    struct zk_request multi = zc_req(ZOO_MULTI_OP, NULL);
    multi.ops = ops;
    multi.op_count = 3;
    struct zkw_reply rep;
    CALL_OK(zc_call(&a, &multi, &rep, CALL_MS));
    assert_int_equal(rep.body.multi.count, 3);
    assert_int_equal(rep.body.multi.items[0].err, ZOK);
    assert_int_equal(rep.body.multi.items[0].path.len, 3);
    zkw_reply_free(&rep);
    ops[0] = zc_create_req("/m3", "z", 0);
    ops[1] = zc_create_req("/m1", "dup", 0);   /* fails: the whole multi fails */
    CALL_OK(zc_call(&a, &multi, &rep, CALL_MS));
    assert_int_equal(rep.body.multi.count, 3);
    assert_int_equal(rep.body.multi.items[1].err, ZNODEEXISTS);
    zkw_reply_free(&rep);
    assert_int_equal(zc_simple(&a, ZOO_EXISTS_OP, "/m3", 0), ZNONODE);
    CALL_OK(zc_simple(&b, ZOO_SYNC_OP, "/", 0));
    CALL_OK(zc_simple(&b, ZOO_EXISTS_OP, "/m2", 0));
    /* The leader's wchs counts no watch of b (b is on a follower). */
    char r[ZH_REPLY_MAX];
    CALL_OK(zc_get(&b, "/m1", true, data, sizeof data, NULL));
    assert_true(zh_4lw(cl.client_port[f2], "wchs", r, sizeof r, 2000) > 0);
    assert_non_null(strstr(r, "1 connections watching 1 paths\nTotal watches:1\n"));
    zc_close(&a);
    zc_close(&b);
}

/* The server holding a session dies; the client resumes the same session
 * on another server, its ephemeral node intact. */
static void session_resumes_on_another_server_after_sigkill(void **state)
{
    (void)state;
    int leader = start_ensemble(3, NULL);
    int victim = a_follower(leader, 0);
    struct zc c;
    memset(&c, 0, sizeof c);
    if (zc_open(&c, cl.client_port[victim], 0, 6000, CALL_MS) != 0)
        fail_msg("connect: %s", c.why);
    char eph[64];
    CALL_OK(zc_create(&c, "/owner", "me", ZOO_EPHEMERAL, eph, sizeof eph));
    int64_t sid = c.session_id;
    assert_int_not_equal(zh_stop(&cl, victim, SIGKILL, EXIT_BOUND_MS), -1);
    zc_close(&c);
    int other = a_follower(leader, victim);
    if (zc_open(&c, cl.client_port[other], sid, 6000, CALL_MS) != 0)
        fail_msg("resume on s%d: %s", other, c.why);
    assert_true(c.session_id == sid);
    char data[64];
    CALL_OK(zc_get(&c, "/owner", false, data, sizeof data, NULL));
    assert_string_equal(data, "me");
    CALL_OK(zc_set(&c, "/owner", "still me", -1));
    /* A wrong password for the same id is refused (timeout 0, closed). */
    struct zc bad;
    memset(&bad, 0, sizeof bad);
    memset(bad.passwd, 0x5a, sizeof bad.passwd);
    assert_int_equal(zc_open(&bad, cl.client_port[leader], sid, 6000, CALL_MS), -1);
    assert_non_null(strstr(bad.why, "expired"));
    assert_true(zc_closed_by_server(&bad, 3000));
    zc_close(&bad);
    wait_log(leader, "expired or wrong password");
    /* The session is unharmed by the attempt. */
    CALL_OK(zc_get(&c, "/owner", false, data, sizeof data, NULL));
    assert_string_equal(data, "still me");
    /* Now the leader dies: every server stops serving and drops its
     * clients; the session resumes on the survivor once a new leader
     * (with the survivor and the restarted first victim) serves. */
    assert_int_not_equal(zh_stop(&cl, leader, SIGKILL, EXIT_BOUND_MS), -1);
    assert_true(zh_start(&cl, victim) > 0);
    assert_true(zc_closed_by_server(&c, FAILOVER_BOUND_MS));
    zc_close(&c);
    uint64_t end = zh_now_ms() + FAILOVER_BOUND_MS;
    int resumed = -1;
    while (resumed != 0 && zh_now_ms() < end) {
        resumed = zc_open(&c, cl.client_port[other], sid, 6000, CALL_MS);
        if (resumed != 0) {
            zc_close(&c);
            zh_sleep_ms(100);
        }
    }
    if (resumed != 0)
        fail_msg("resume after leader loss: %s", c.why);
    CALL_OK(zc_get(&c, "/owner", false, data, sizeof data, NULL));
    assert_string_equal(data, "still me");
    CALL_OK(zc_set(&c, "/owner", "after failover", -1));
    zc_close(&c);
}

/* A client's watch survives the loss of its server: after resuming on
 * another server it re-registers it with SetWatches (as every ZooKeeper
 * client does), and a change made while it was away fires at once. */
static void watches_restored_with_set_watches(void **state)
{
    (void)state;
    int leader = start_ensemble(3, NULL);
    int victim = a_follower(leader, 0), other = a_follower(leader, victim);
    struct zc c, w;
    open_on(&c, victim);
    open_on(&w, leader);
    CALL_OK(zc_create(&c, "/sw", "0", 0, NULL, 0));
    CALL_OK(zc_get(&c, "/sw", true, NULL, 0, NULL));
    int64_t sid = c.session_id;
    assert_int_not_equal(zh_stop(&cl, victim, SIGKILL, EXIT_BOUND_MS), -1);
    zc_close(&c);
    CALL_OK(zc_set(&w, "/sw", "changed while away", -1));
    if (zc_open(&c, cl.client_port[other], sid, 6000, CALL_MS) != 0)
        fail_msg("resume: %s", c.why);
    const char *paths[] = {"/sw"};
    struct zks_set_watches sw;
    memset(&sw, 0, sizeof sw);
    sw.relative_zxid = c.last_zxid;
    sw.data.paths = paths;
    sw.data.count = 1;
    c.out.len = 0;
    assert_int_equal(zkw_encode_set_watches(ZKP_XID_SET_WATCHES, &sw, &c.out), 0);
    assert_int_equal(zc_send_all(c.fd, c.out.p, c.out.len), 0);
    c.pend_xid[c.p_head] = ZKP_XID_SET_WATCHES, c.pend_op[c.p_head] = ZOO_SETWATCHES_OP;
    c.p_n = 1;
    struct zkw_reply rep;
    assert_int_equal(zc_recv(&c, &rep, CALL_MS), 0);
    assert_int_equal(rep.xid, ZKP_XID_SET_WATCHES);
    assert_int_equal(rep.err, ZOK);
    zkw_reply_free(&rep);
    assert_true(wait_event(&c, ZOO_EVENT_DATA_CHANGED, "/sw"));
    zc_close(&c);
    zc_close(&w);
}

/* ---- malformed input ------------------------------------------------------------------ */

/* A raw connection that sends `bytes`, then expects the server to close it. */
static void expect_closed_after(uint16_t port, const void *bytes, size_t len)
{
    struct zc raw;
    memset(&raw, 0, sizeof raw);
    raw.fd = zc_dial(port);
    assert_true(raw.fd >= 0);
    assert_int_equal(zc_send_all(raw.fd, bytes, len), 0);
    assert_true(zc_closed_by_server(&raw, 3000));
    zc_close(&raw);
}

/* The well-behaved client still works. */
static void good_client_works(struct zc *good, int round)
{
    char v[32], data[32];
    snprintf(v, sizeof v, "r%d", round);
    CALL_OK(zc_set(good, "/good", v, -1));
    CALL_OK(zc_get(good, "/good", false, data, sizeof data, NULL));
    assert_string_equal(data, v);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A valid handshake on a raw connection (so the next bytes are requests). */
static void raw_session(struct zc *raw, uint16_t port)
{
    memset(raw, 0, sizeof *raw);
    if (zc_open(raw, port, 0, 4000, CALL_MS) != 0)
        fail_msg("raw session: %s", raw->why);
}

static void malformed_input_closes_only_that_connection(void **state)
{
    (void)state;
    start_ensemble(1, NULL);
    uint16_t port = cl.client_port[1];
    struct zc good;
    open_on(&good, 1);
    CALL_OK(zc_create(&good, "/good", "", 0, NULL, 0));
    int round = 0;
    uint8_t buf[2048];

    /* Oversized length (over jute.maxbuffer), before any handshake. */
    put_be32(buf, 0x00100000u + 1);
    expect_closed_after(port, buf, 4);
    wait_log(1, "frame length exceeds maximum");
    good_client_works(&good, round++);

    /* Negative length. */
    put_be32(buf, 0xfffffff0u);
    expect_closed_after(port, buf, 4);
    wait_log(1, "negative frame length");
    good_client_works(&good, round++);

    /* Garbage before the handshake: an HTTP request. */
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    expect_closed_after(port, http, strlen(http));
    wait_log(1, "before the handshake");
    good_client_works(&good, round++);

    /* A ConnectRequest frame whose body is not one (too short). */
    put_be32(buf, 10);
    memset(buf + 4, 0, 10);
    expect_closed_after(port, buf, 14);
    wait_log(1, "malformed ConnectRequest");
    good_client_works(&good, round++);

    /* A truncated frame, then the client closes. */
    struct zc raw;
    raw_session(&raw, port);
    put_be32(buf, 100);
    memset(buf + 4, 7, 30);
    assert_int_equal(zc_send_all(raw.fd, buf, 34), 0);
    zc_close(&raw);
    wait_log(1, "closed the connection inside a frame");
    good_client_works(&good, round++);

    /* A request whose body does not parse (getData with a path length past
     * the frame): closed. */
    raw_session(&raw, port);
    put_be32(buf, 16);
    put_be32(buf + 4, 1);            /* xid */
    put_be32(buf + 8, ZOO_GETDATA_OP);
    put_be32(buf + 12, 1000);        /* path length */
    memcpy(buf + 16, "/abc", 4);
    assert_int_equal(zc_send_all(raw.fd, buf, 20), 0);
    assert_true(zc_closed_by_server(&raw, 3000));
    zc_close(&raw);
    wait_log(1, "malformed request");
    good_client_works(&good, round++);

    /* An unknown opcode: answered ZUNIMPLEMENTED for its xid (zk_wire's
     * policy, as ZooKeeper), logged; the connection stays usable. */
    raw_session(&raw, port);
    struct zk_request odd = zc_req(999, "/x");
    struct zkw_reply rep;
    odd.type = ZOO_PING_OP;   /* encodable; the opcode is patched below */
    raw.out.len = 0;
    assert_int_equal(zkw_encode_request(&odd, &raw.out), 0);
    put_be32(raw.out.p + 4, 7);      /* xid 7 */
    put_be32(raw.out.p + 8, 999);    /* op 999 */
    assert_int_equal(zc_send_all(raw.fd, raw.out.p, raw.out.len), 0);
    raw.pend_xid[0] = 7, raw.pend_op[0] = ZOO_PING_OP, raw.p_n = 1;
    assert_int_equal(zc_recv(&raw, &rep, CALL_MS), 0);
    assert_int_equal(rep.xid, 7);
    assert_int_equal(rep.err, ZUNIMPLEMENTED);
    zkw_reply_free(&rep);
    wait_log(1, "op 999 answered -6");
    CALL_OK(zc_simple(&raw, ZOO_EXISTS_OP, "/good", 0));
    zc_close(&raw);
    good_client_works(&good, round++);

    /* 1000 bytes of junk on a fresh connection, and 1000 after a handshake
     * (fixed seed): the server must survive both; a fresh connection's junk
     * starts with a length that is refused, so that one is closed. */
    uint32_t x = 12345;
    for (int i = 0; i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    buf[0] |= 0x80;                  /* a negative length, whatever else follows */
    expect_closed_after(port, buf, 1000);
    good_client_works(&good, round++);
    raw_session(&raw, port);
    assert_int_equal(zc_send_all(raw.fd, buf + 1, 999), 0);
    zc_closed_by_server(&raw, 1000);  /* either way: closed or waiting for more */
    zc_close(&raw);
    good_client_works(&good, round++);
    assert_int_equal(zh_mode(&cl, 1), ZH_LEADER);
    zc_close(&good);
}

/* maxClientCnxns per address, a client that never reads its replies, and
 * a configured jute.maxbuffer. */
static void limits_per_address_and_unread_replies(void **state)
{
    (void)state;
    start_ensemble(1, "maxClientCnxns=3\njute.maxbuffer=2000000\n"
                      "zablab.connectionWriteQueueBytes=4000000\n");
    uint16_t port = cl.client_port[1];
    struct zc c1, c2, c3;
    open_on(&c1, 1);
    open_on(&c2, 1);
    open_on(&c3, 1);
    struct zc fourth;
    memset(&fourth, 0, sizeof fourth);
    assert_int_equal(zc_open(&fourth, port, 0, 4000, CALL_MS), -1);
    zc_close(&fourth);
    wait_log(1, "too many connections from 127.0.0.1 - max is 3");
    /* A 900 kB node read over and over by c2, which never reads: c2 is cut
     * once its queue passes the bound; c1 is unaffected. */
    static char big[900 * 1024];
    memset(big, 'b', sizeof big - 1);
    CALL_OK(zc_create(&c1, "/big", big, 0, NULL, 0));
    struct zk_request get = zc_req(ZOO_GETDATA_OP, "/big");
    bool cut = false;
    for (int i = 0; i < 200 && !cut; i++)
        cut = zc_send(&c2, &get) == INT32_MIN;
    wait_log(1, "does not read its replies");
    wait_log(1, "bound 4000000)");     /* the configured bound, not max(8 MiB, 4 x 2000000) */
    char data[16];
    CALL_OK(zc_simple(&c1, ZOO_EXISTS_OP, "/big", 0));
    CALL_OK(zc_set(&c1, "/big", "small", -1));
    CALL_OK(zc_get(&c3, "/big", false, data, sizeof data, NULL));
    assert_string_equal(data, "small");
    /* A frame over this ensemble's jute.maxbuffer (but under the default
     * ZooKeeper would use elsewhere, so the key is really read). */
    zc_close(&c2);
    open_on(&c2, 1);
    static char huge[2000 * 1024];
    memset(huge, 'h', sizeof huge - 1);
    struct zk_request set = zc_req(ZOO_SETDATA_OP, "/big");
    set.data = (const uint8_t *)huge;
    set.data_len = (uint32_t)strlen(huge);
    zc_send(&c2, &set);                 /* may fail half-way: the server closes */
    assert_true(zc_closed_by_server(&c2, 3000));
    wait_log(1, "jute.maxbuffer 2000000");
    CALL_OK(zc_get(&c1, "/big", false, data, sizeof data, NULL));
    assert_string_equal(data, "small");
    zc_close(&c1);
    zc_close(&c2);
    zc_close(&c3);
}

/* 3000 writes sent before any reply is read: past the configured 200
 * queued per connection (zablab.outstandingPerConnection, shown by conf),
 * zabd stops reading the socket instead of dropping the connection; every
 * reply arrives, in order. */
static void pipelined_burst_is_paced_not_dropped(void **state)
{
    (void)state;
    int leader = start_ensemble(3, "zablab.outstandingPerConnection=200\n");
    char conf[ZH_REPLY_MAX];
    assert_true(zh_4lw(cl.client_port[leader], "conf", conf, sizeof conf, 2000) > 0);
    assert_non_null(strstr(conf, "zablab.outstandingPerConnection=200\n"));
    struct zc c;
    open_on(&c, a_follower(leader, 0));
    CALL_OK(zc_create(&c, "/burst", "", 0, NULL, 0));
    enum { BURST = 3000 };
    char path[64];
    for (int i = 0; i < BURST; i++) {
        snprintf(path, sizeof path, "/burst/n%d", i);
        struct zk_request r = zc_create_req(path, "v", 0);
        assert_int_not_equal(zc_send(&c, &r), INT32_MIN);
    }
    for (int i = 0; i < BURST; i++) {
        struct zkw_reply rep;
        if (zc_recv(&c, &rep, 20000) != 0)
            fail_msg("reply %d: %s", i, c.why);
        if (rep.err != ZOK)
            fail_msg("reply %d: err %d", i, rep.err);
        snprintf(path, sizeof path, "/burst/n%d", i);
        assert_int_equal(rep.body.path.len, (int)strlen(path));
        assert_memory_equal(rep.body.path.ptr, path, strlen(path));
        zkw_reply_free(&rep);
    }
    struct zk_request num = zc_req(ZOO_GET_ALL_CHILDREN_NUMBER_OP, "/burst");
    struct zkw_reply rep;
    CALL_OK(zc_call(&c, &num, &rep, CALL_MS));
    assert_int_equal(rep.body.number, BURST);
    zkw_reply_free(&rep);
    zc_close(&c);
}

/* ---- the Apache C client's CLI ------------------------------------------------------ */

#define CLI_MT "/usr/lib/zookeeper/bin/cli_mt"

/* Runs `cli_mt -h HOSTS -c CMD` (batch mode: one command, waits for its
 * completion), bounded by timeout(1); its output in out. Exit status. */
static int cli_mt(const char *hosts, const char *cmd, char *out, size_t cap)
{
    char line[1024];
    snprintf(line, sizeof line, "timeout 20 %s -h %s -c '%s' 2>&1", CLI_MT, hosts, cmd);
    FILE *p = popen(line, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void apache_c_client_cli(void **state)
{
    (void)state;
    if (access(CLI_MT, X_OK) != 0)
        skip();    /* Debian package zookeeper-bin not installed */
    start_ensemble(3, NULL);
    char hosts[128], out[8192];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%u,127.0.0.1:%u,127.0.0.1:%u", cl.client_port[1],
             cl.client_port[2], cl.client_port[3]);
    /* cli_mt's create takes no data (it writes "new"); set writes ours. */
    assert_int_equal(cli_mt(hosts, "create /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "[/capi]: rc = 0"));
    assert_int_equal(cli_mt(hosts, "get /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "/capi: rc = 0"));
    assert_non_null(strstr(out, "\nnew\n"));
    assert_int_equal(cli_mt(hosts, "set /capi written-by-cli_mt", out, sizeof out), 0);
    assert_non_null(strstr(out, "/capi: rc = 0"));
    assert_non_null(strstr(out, "version=1"));
    assert_int_equal(cli_mt(hosts, "get /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "value_len = 17\nwritten-by-cli_mt\n"));
    assert_int_equal(cli_mt(hosts, "create +s /capi/seq-", out, sizeof out), 0);
    assert_non_null(strstr(out, "name = /capi/seq-0000000000"));
    assert_int_equal(cli_mt(hosts, "ls /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "/capi: rc = 0"));
    assert_non_null(strstr(out, "\tseq-0000000000\n"));
    assert_int_equal(cli_mt(hosts, "delete /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "/capi: rc = -111"));   /* not empty */
    assert_int_equal(cli_mt(hosts, "delete /capi/seq-0000000000", out, sizeof out), 0);
    assert_int_equal(cli_mt(hosts, "delete /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "/capi: rc = 0"));
    assert_int_equal(cli_mt(hosts, "get /capi", out, sizeof out), 0);
    assert_non_null(strstr(out, "/capi: rc = -101"));
    /* What it wrote is what our own client reads, from every server. */
    struct zc c;
    for (int id = 1; id <= 3; id++) {
        open_on(&c, id);
        CALL_OK(zc_simple(&c, ZOO_SYNC_OP, "/", 0));
        assert_int_equal(zc_simple(&c, ZOO_EXISTS_OP, "/capi", 0), ZNONODE);
        zc_close(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(one_server_crud_ephemeral_sequential, teardown),
        cmocka_unit_test_teardown(latency_counters_and_srst, teardown),
        cmocka_unit_test_teardown(three_servers_watch_multi_sync_follower_write, teardown),
        cmocka_unit_test_teardown(session_resumes_on_another_server_after_sigkill, teardown),
        cmocka_unit_test_teardown(watches_restored_with_set_watches, teardown),
        cmocka_unit_test_teardown(malformed_input_closes_only_that_connection, teardown),
        cmocka_unit_test_teardown(limits_per_address_and_unread_replies, teardown),
        cmocka_unit_test_teardown(pipelined_burst_is_paced_not_dropped, teardown),
        cmocka_unit_test_teardown(apache_c_client_cli, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
