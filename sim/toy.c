/* The toy ping/gossip driver: one event loop dispatching on a closed enum
 * of event kinds, each handler short. Every handled event writes one trace
 * record (when tracing), so the trace hash covers the whole run. */
#include "sim/toy.h"

#include <stdlib.h>
#include <string.h>

#include "net-model/net.h"
#include "sim/disk.h"
#include "sim/node.h"
#include "sim/rng.h"
#include "sim/trace.h"

enum toy_event {
    TOY_EV_DELIVER = 1,
    TOY_EV_BROKEN,
    TOY_EV_DISK,
    TOY_EV_TICK,      /* a = incarnation */
    TOY_EV_DEFERRED,  /* arrived while paused: a = incarnation<<40|kind<<32|from, b = seq */
    TOY_EV_FAULT,
    TOY_EV_RESTART,   /* node restarts */
    TOY_EV_HEAL,
    TOY_EV_CLIENT,    /* a = client index */
};

enum toy_msg_kind { TOY_PING = 1, TOY_PONG = 2 };

#define TOY_FSYNC_EVERY 4
#define TOY_RECORD_BYTES 16

struct toy_msg {
    uint32_t kind;
    uint32_t from;
    uint64_t seq;
};

struct toy_node {
    struct sim_node node;
    struct sim_rng rng;   /* peer choice, jitter */
    struct sim_rng drng;  /* disk latency */
    struct sim_disk disk;
    uint64_t ping_seq, op_seq, appends_since_sync;
};

struct toy {
    const struct toy_config *cfg;
    struct toy_result *res;
    struct sim_sched sched;
    struct sim_rng net_rng, fault_rng;
    struct sim_rng clients[TOY_CLIENTS_MAX];
    struct net net;
    struct sim_trace tr;
    struct toy_node *nodes;
    int n;
};

#define REC(t, node, kind, ...)                                                  \
    do {                                                                         \
        if (toy->cfg->trace)                                                     \
            sim_trace_event(&toy->tr, (t), (node), (kind), __VA_ARGS__);          \
    } while (0)

static int fail(struct toy *toy, const char *what, const char *detail)
{
    snprintf(toy->res->err, sizeof toy->res->err, "toy: %.30s: %.150s", what, detail);
    return -1;
}

/* ---- node actions ---- */

static int arm_tick(struct toy *toy, int i, sim_time_ns now)
{
    struct toy_node *tn = &toy->nodes[i];
    /* Timers run on the node's own clock: skew and drift move them. */
    uint64_t jitter = sim_rng_below(&tn->rng, toy->cfg->ping_interval_ns / 4 + 1);
    uint64_t local = sim_node_local_ns(&tn->node, now) + toy->cfg->ping_interval_ns + jitter;
    sim_time_ns at = sim_node_global_at(&tn->node, now, local);
    if (sim_sched_push(&toy->sched, at, TOY_EV_TICK, i, tn->node.incarnation, 0) != SIM_SCHED_OK)
        return fail(toy, "tick", sim_sched_status_str(SIM_SCHED_FULL));
    return 0;
}

static int send_msg(struct toy *toy, sim_time_ns now, int from, int to, uint32_t kind, uint64_t seq)
{
    struct toy_msg m = {.kind = kind, .from = (uint32_t)from, .seq = seq};
    enum net_status st = net_send(&toy->net, now, from, to, &m, sizeof m);
    toy->res->sent++;
    REC(now, from, "send", "\"to\":%d,\"msg\":\"%s\",\"seq\":%llu,\"lost\":%d", to,
        kind == TOY_PING ? "PING" : "PONG", (unsigned long long)seq, st == NET_LOST_AT_SEND);
    if (st < 0)
        return fail(toy, "send", toy->net.err);
    return 0;
}

static int log_ping(struct toy *toy, sim_time_ns now, int i, uint64_t seq)
{
    struct toy_node *tn = &toy->nodes[i];
    if (!toy->cfg->disk)
        return 0;
    uint8_t rec[TOY_RECORD_BYTES] = {'P'};
    memcpy(rec + 8, &seq, sizeof seq);
    if (disk_append(&tn->disk, now, rec, sizeof rec, ++tn->op_seq) != DISK_OK)
        return fail(toy, "append", tn->disk.err);
    toy->res->appends++;
    if (++tn->appends_since_sync < TOY_FSYNC_EVERY)
        return 0;
    tn->appends_since_sync = 0;
    toy->res->fsyncs++;
    if (disk_fsync(&tn->disk, now, ++tn->op_seq) != DISK_OK)
        return fail(toy, "fsync", tn->disk.err);
    return 0;
}

static int on_tick(struct toy *toy, const struct sim_event *ev)
{
    struct toy_node *tn = &toy->nodes[ev->node];
    if (!tn->node.up || ev->a != tn->node.incarnation)
        return 0; /* a timer of a previous life */
    if (!sim_node_runnable(&tn->node, ev->time)) {
        REC(ev->time, ev->node, "tick_stalled", NULL);
        return sim_sched_push(&toy->sched, tn->node.paused_until, TOY_EV_TICK, ev->node, ev->a, 0)
                       == SIM_SCHED_OK ? 0 : fail(toy, "tick", "scheduler full");
    }
    int peer = (int)sim_rng_below(&tn->rng, (uint64_t)toy->n - 1);
    if (peer >= ev->node)
        peer++;
    uint64_t seq = ++tn->ping_seq;
    REC(ev->time, ev->node, "tick", "\"local_ns\":%llu",
        (unsigned long long)sim_node_local_ns(&tn->node, ev->time));
    if (send_msg(toy, ev->time, ev->node, peer, TOY_PING, seq) || log_ping(toy, ev->time, ev->node, seq))
        return -1;
    return arm_tick(toy, ev->node, ev->time);
}

static int handle_msg(struct toy *toy, sim_time_ns now, int to, const struct toy_msg *m)
{
    REC(now, to, "recv", "\"from\":%u,\"msg\":\"%s\",\"seq\":%llu", m->from,
        m->kind == TOY_PING ? "PING" : "PONG", (unsigned long long)m->seq);
    if (m->kind == TOY_PING)
        return send_msg(toy, now, to, (int)m->from, TOY_PONG, m->seq);
    return 0;
}

static int on_deliver(struct toy *toy, const struct sim_event *ev)
{
    int from, to;
    const uint8_t *bytes;
    size_t len;
    if (net_deliver(&toy->net, ev, &from, &to, &bytes, &len) == NET_LOST) {
        toy->res->lost++;
        REC(ev->time, ev->node, "lost", NULL);
        return 0;
    }
    toy->res->delivered++;
    struct toy_msg m;
    if (len != sizeof m)
        return fail(toy, "deliver", "message of the wrong size");
    memcpy(&m, bytes, sizeof m);
    struct toy_node *tn = &toy->nodes[to];
    if (!sim_node_runnable(&tn->node, ev->time)) {
        /* A stalled process reads its socket when it resumes. */
        REC(ev->time, to, "deferred", "\"from\":%d", from);
        uint64_t a = ((uint64_t)tn->node.incarnation << 40) | ((uint64_t)m.kind << 32) | m.from;
        return sim_sched_push(&toy->sched, tn->node.paused_until, TOY_EV_DEFERRED, to, a, m.seq)
                       == SIM_SCHED_OK ? 0 : fail(toy, "defer", "scheduler full");
    }
    return handle_msg(toy, ev->time, to, &m);
}

static int on_deferred(struct toy *toy, const struct sim_event *ev)
{
    struct toy_node *tn = &toy->nodes[ev->node];
    if (!tn->node.up || (ev->a >> 40) != tn->node.incarnation)
        return 0; /* the process that would have read it died */
    struct toy_msg m = {.kind = (uint32_t)((ev->a >> 32) & 0xff), .from = (uint32_t)ev->a, .seq = ev->b};
    return handle_msg(toy, ev->time, ev->node, &m);
}

static int on_disk(struct toy *toy, const struct sim_event *ev)
{
    struct toy_node *tn = &toy->nodes[ev->node];
    struct disk_completion c;
    if (!disk_complete(&tn->disk, ev, &c)) {
        REC(ev->time, ev->node, "disk_stale", NULL);
        return 0;
    }
    REC(ev->time, ev->node, "disk_done", "\"op\":\"%s\",\"id\":%llu,\"status\":%d,\"unsynced\":%zu",
        disk_op_kind_str(c.kind), (unsigned long long)c.op_id, (int)c.status,
        disk_unsynced_bytes(&tn->disk));
    return 0;
}

/* ---- faults ---- */

static int crash_node(struct toy *toy, sim_time_ns now, int i)
{
    struct toy_node *tn = &toy->nodes[i];
    enum disk_crash_mode mode = (enum disk_crash_mode)sim_rng_below(&toy->fault_rng, 4);
    size_t kept = toy->cfg->disk ? disk_crash(&tn->disk, mode, &toy->fault_rng) : 0;
    sim_node_crash(&tn->node);
    if (net_endpoint_down(&toy->net, now, i) != 0)
        return fail(toy, "crash", toy->net.err);
    toy->res->crashes++;
    REC(now, i, "crash", "\"mode\":%d,\"kept\":%zu,\"incarnation\":%u", (int)mode, kept,
        tn->node.incarnation);
    sim_time_ns down_ns = 5 * SIM_NS_PER_MS + sim_rng_below(&toy->fault_rng, 50 * SIM_NS_PER_MS);
    return sim_sched_after(&toy->sched, down_ns, TOY_EV_RESTART, i, 0, 0) == SIM_SCHED_OK
                   ? 0 : fail(toy, "crash", "scheduler full");
}

static int on_restart(struct toy *toy, const struct sim_event *ev)
{
    struct toy_node *tn = &toy->nodes[ev->node];
    sim_node_restart(&tn->node);
    net_endpoint_up(&toy->net, ev->node);
    toy->res->restarts++;
    const uint8_t *b = NULL;
    size_t len = 0;
    if (toy->cfg->disk)
        disk_durable_log(&tn->disk, &b, &len);
    /* Recovery: whole records only; a torn tail is cut. */
    REC(ev->time, ev->node, "restart", "\"records\":%zu,\"torn_bytes\":%zu", len / TOY_RECORD_BYTES,
        len % TOY_RECORD_BYTES);
    tn->appends_since_sync = 0;
    return arm_tick(toy, ev->node, ev->time);
}

static int partition_halves(struct toy *toy, sim_time_ns now)
{
    int *g = malloc((size_t)toy->n * sizeof *g);
    if (!g)
        return fail(toy, "partition", "out of memory");
    for (int i = 0; i < toy->n; i++)
        g[i] = (int)sim_rng_below(&toy->fault_rng, 2);
    int rc = net_partition(&toy->net, now, g);
    free(g);
    if (rc != 0)
        return fail(toy, "partition", toy->net.err);
    toy->res->partitions++;
    REC(now, -1, "partition", NULL);
    sim_time_ns heal_ns = 10 * SIM_NS_PER_MS + sim_rng_below(&toy->fault_rng, 40 * SIM_NS_PER_MS);
    return sim_sched_after(&toy->sched, heal_ns, TOY_EV_HEAL, -1, 0, 0) == SIM_SCHED_OK
                   ? 0 : fail(toy, "partition", "scheduler full");
}

static int on_fault(struct toy *toy, const struct sim_event *ev)
{
    int i = (int)sim_rng_below(&toy->fault_rng, (uint64_t)toy->n);
    struct toy_node *tn = &toy->nodes[i];
    int rc = 0;
    switch (sim_rng_below(&toy->fault_rng, 4)) {
    case 0:
        if (tn->node.up)
            rc = crash_node(toy, ev->time, i);
        break;
    case 1: {
        sim_time_ns until = ev->time + sim_rng_below(&toy->fault_rng, 30 * SIM_NS_PER_MS);
        sim_node_pause(&tn->node, until);
        toy->res->pauses++;
        REC(ev->time, i, "pause", "\"until_ns\":%llu", (unsigned long long)until);
        break;
    }
    case 2: {
        int64_t skew = (int64_t)sim_rng_below(&toy->fault_rng, 20 * SIM_NS_PER_MS) - 10 * (int64_t)SIM_NS_PER_MS;
        sim_node_skew(&tn->node, ev->time, skew);
        REC(ev->time, i, "skew", "\"delta_ns\":%lld", (long long)skew);
        break;
    }
    default:
        rc = partition_halves(toy, ev->time);
    }
    sim_time_ns next = 20 * SIM_NS_PER_MS + sim_rng_below(&toy->fault_rng, 80 * SIM_NS_PER_MS);
    if (rc == 0 && sim_sched_after(&toy->sched, next, TOY_EV_FAULT, -1, 0, 0) != SIM_SCHED_OK)
        rc = fail(toy, "fault", "scheduler full");
    return rc;
}

static int on_client(struct toy *toy, const struct sim_event *ev)
{
    struct sim_rng *r = &toy->clients[ev->a];
    uint64_t think_ns = SIM_NS_PER_MS + sim_rng_below(r, 10 * SIM_NS_PER_MS);
    REC(ev->time, -1, "client_think", "\"client\":%llu,\"think_ns\":%llu", (unsigned long long)ev->a,
        (unsigned long long)think_ns);
    return sim_sched_after(&toy->sched, think_ns, TOY_EV_CLIENT, -1, ev->a, 0) == SIM_SCHED_OK
                   ? 0 : fail(toy, "client", "scheduler full");
}

static int dispatch(struct toy *toy, const struct sim_event *ev)
{
    switch ((enum toy_event)ev->kind) {
    case TOY_EV_DELIVER: return on_deliver(toy, ev);
    case TOY_EV_BROKEN:
        REC(ev->time, ev->node, "broken", "\"peer\":%llu,\"gen\":%llu", (unsigned long long)ev->a,
            (unsigned long long)ev->b);
        return 0;
    case TOY_EV_DISK: return on_disk(toy, ev);
    case TOY_EV_TICK: return on_tick(toy, ev);
    case TOY_EV_DEFERRED: return on_deferred(toy, ev);
    case TOY_EV_FAULT: return on_fault(toy, ev);
    case TOY_EV_RESTART: return on_restart(toy, ev);
    case TOY_EV_HEAL:
        net_heal(&toy->net);
        REC(ev->time, -1, "heal", NULL);
        return 0;
    case TOY_EV_CLIENT: return on_client(toy, ev);
    }
    return fail(toy, "dispatch", "unknown event kind");
}

/* ---- setup ---- */

static int open_nodes(struct toy *toy)
{
    const struct toy_config *cfg = toy->cfg;
    struct disk_config dc = {
        .ev_done = TOY_EV_DISK,
        .write_latency = {.kind = NET_LAT_UNIFORM, .p1 = 20e3, .p2 = 100e3},
        .fsync_latency = {.kind = NET_LAT_LOGNORMAL, .p1 = 0.0, .p2 = 0.5},
        .epoch_latency = net_latency_constant(SIM_NS_PER_MS),
        .snapshot_latency = net_latency_constant(10 * SIM_NS_PER_MS),
        .log_bytes_max = 64u << 20, .queued_bytes_max = 1u << 20, .ops_max = 4096,
    };
    char err[160];
    for (int i = 0; i < toy->n; i++) {
        struct toy_node *tn = &toy->nodes[i];
        sim_node_init(&tn->node, i);
        if (sim_rng_open(&tn->rng, cfg->seed, "node", (uint32_t)i) != 0 ||
            sim_rng_open(&tn->drng, cfg->seed, "disk", (uint32_t)i) != 0)
            return fail(toy, "setup", "out of memory");
        dc.node = i;
        if (cfg->disk && disk_init(&tn->disk, &dc, &toy->sched, &tn->drng, err, sizeof err) != 0)
            return fail(toy, "setup", err);
        if (arm_tick(toy, i, 0) != 0)
            return -1;
    }
    return 0;
}

static int open_world(struct toy *toy)
{
    const struct toy_config *cfg = toy->cfg;
    size_t cap = cfg->sched_capacity ? cfg->sched_capacity : (size_t)toy->n * 64 + 4096;
    if (sim_sched_init(&toy->sched, cap) != 0 || sim_rng_open(&toy->net_rng, cfg->seed, "network", 0) != 0 ||
        sim_rng_open(&toy->fault_rng, cfg->seed, "faults", 0) != 0)
        return fail(toy, "setup", "out of memory");
    struct net_config nc = {
        .endpoints = toy->n, .ev_deliver = TOY_EV_DELIVER, .ev_broken = TOY_EV_BROKEN,
        .bytes_max = 64u << 20, .msg_bytes_max = 1024,
    };
    char err[200];
    size_t col;
    if (net_latency_parse(&nc.latency, cfg->latency ? cfg->latency : "uniform 200us 2ms", err, sizeof err,
                          &col) != 0)
        return fail(toy, "latency", err);
    if (net_init(&toy->net, &nc, &toy->sched, &toy->net_rng, err, sizeof err) != 0)
        return fail(toy, "setup", err);
    toy->nodes = calloc((size_t)toy->n, sizeof *toy->nodes);
    if (!toy->nodes)
        return fail(toy, "setup", "out of memory");
    if (open_nodes(toy) != 0)
        return -1;
    for (int c = 0; c < cfg->clients; c++) {
        if (sim_rng_open(&toy->clients[c], cfg->seed, "client", (uint32_t)c) != 0)
            return fail(toy, "setup", "out of memory");
        if (sim_sched_push(&toy->sched, 0, TOY_EV_CLIENT, -1, (uint64_t)c, 0) != SIM_SCHED_OK)
            return fail(toy, "setup", "scheduler full");
    }
    if (cfg->faults && sim_sched_push(&toy->sched, 10 * SIM_NS_PER_MS, TOY_EV_FAULT, -1, 0, 0) != SIM_SCHED_OK)
        return fail(toy, "setup", "scheduler full");
    return 0;
}

static void close_world(struct toy *toy)
{
    if (toy->nodes) {
        for (int i = 0; i < toy->n; i++) {
            if (toy->cfg->disk)
                disk_free(&toy->nodes[i].disk);
            sim_rng_close(&toy->nodes[i].rng);
            sim_rng_close(&toy->nodes[i].drng);
        }
        free(toy->nodes);
    }
    for (int c = 0; c < toy->cfg->clients; c++)
        sim_rng_close(&toy->clients[c]);
    net_free(&toy->net);
    sim_rng_close(&toy->net_rng);
    sim_rng_close(&toy->fault_rng);
    sim_sched_free(&toy->sched);
}

int toy_run(const struct toy_config *cfg, struct toy_result *out)
{
    *out = (struct toy_result){0};
    struct toy toy = {.cfg = cfg, .res = out, .n = cfg->nodes};
    if (cfg->nodes < 2 || cfg->nodes > TOY_NODES_MAX || cfg->clients < 0 || cfg->clients > TOY_CLIENTS_MAX ||
        cfg->ping_interval_ns == 0)
        return fail(&toy, "config", "need 2..512 nodes, 0..64 clients, a ping interval");
    sim_trace_init(&toy.tr, cfg->trace_out);
    int rc = open_world(&toy);
    struct sim_event ev;
    while (rc == 0 && sim_sched_peek_time(&toy.sched) <= cfg->duration_ns && sim_sched_pop(&toy.sched, &ev)) {
        out->events++;
        rc = dispatch(&toy, &ev);
    }
    out->trace_hash = sim_trace_hash(&toy.tr);
    out->records = toy.tr.records;
    out->sched_high_water = toy.sched.high_water;
    close_world(&toy);
    return rc;
}
