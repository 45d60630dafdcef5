/* The simulated ensemble's event loop: one event in, one replica (or, in zk
 * mode, zk_server) input, its output batch carried out as simulated I/O,
 * then the invariants. Client endpoints' frames go to sim/cluster_conn.c
 * (server end) and to the client hooks (client end). */
#include "sim/cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zab_msg.h"
#include "sim/cluster_conn.h"

#define DEFAULT_SCHED_CAPACITY (1u << 20)
#define CHECK_INTERVAL_NS (100 * SIM_NS_PER_MS)

static void run_output(struct cluster *c, int id);

const struct replica *cluster_rep(const struct cluster *c, int id)
{
    return c->zks ? zks_replica(&c->zks[id]) : &c->reps[id];
}

struct zk_server *cluster_zk(struct cluster *c, int id)
{
    return c->zks ? &c->zks[id] : NULL;
}

uint64_t cluster_local_ms(struct cluster *c, int id)
{
    return sim_node_local_ns(&c->nodes[id], c->sched.now) / SIM_NS_PER_MS;
}

bool cluster_is_up(const struct cluster *c, int id)
{
    return c->nodes[id].up && c->rep_live[id];
}

int cluster_leader(const struct cluster *c)
{
    int best = 0;
    for (int id = 1; id <= c->n; id++) {
        if (!cluster_is_up(c, id))
            continue;
        const struct replica *r = cluster_rep(c, id);
        if (r->state != REP_LEADING || r->phase != REP_PHASE_BROADCAST)
            continue;
        if (!best || r->established_epoch > cluster_rep(c, best)->established_epoch)
            best = id;
    }
    return best;
}

static void internal_error(struct cluster *c, const char *what, const char *detail)
{
    if (c->internal_error)
        return;
    c->internal_error = true;
    snprintf(c->err, sizeof c->err, "%.40s: %.200s", what, detail);
    sim_trace_event(&c->trace, c->sched.now, -1, "internal-error", "\"what\":\"%s\"", what);
}

void cluster_disturbed(struct cluster *c, const char *what, int node)
{
    c->last_disturbance_ns = c->sched.now;
    c->stats.faults++;
    if (c->n_fault_recs < CLUSTER_FAULT_RECS_MAX) {
        struct cluster_fault_rec *f = &c->fault_recs[c->n_fault_recs++];
        f->t = c->sched.now;
        f->node = node;
        snprintf(f->what, sizeof f->what, "%s", what);
    }
    sim_trace_event(&c->trace, c->sched.now, -1, "fault", "\"what\":\"%s\"", what);
}

/* ---- replica lifecycle ---- */

/* The ensemble's session-password key, derived from the seed alone so that
 * every server (and every restart) agrees. */
static void derive_secret(uint64_t seed, uint8_t *out, uint32_t len)
{
    uint64_t x = seed ^ 0x7a61626c61627a6bull;
    for (uint32_t i = 0; i < len; i += 8) {
        x += 0x9e3779b97f4a7c15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        for (uint32_t b = 0; b < 8 && i + b < len; b++)
            out[i + b] = (uint8_t)(z >> (8 * b));
    }
}

static int server_init(struct cluster *c, int id, const struct replica_config *rc, char *err,
                       size_t errlen)
{
    if (!c->zks)
        return replica_init(&c->reps[id], rc, err, errlen);
    struct zks_config zc = {
        .rep = *rc,
        .min_session_timeout_ms = c->cfg.min_session_timeout_ms,
        .max_session_timeout_ms = c->cfg.max_session_timeout_ms,
        /* Small bounds keep a restart cheap; clients are few. */
        .conns_max = (uint32_t)c->cfg.clients + 8,
        .outstanding_per_conn_max = 512,
        .forwarded_max = 4096,
        .max_sessions = (uint32_t)c->cfg.clients * 4 + 64,
        .secret_len = 16,
    };
    derive_secret(c->cfg.seed, zc.secret, zc.secret_len);
    return zks_init(&c->zks[id], &zc, err, errlen);
}

static int server_start(struct cluster *c, int id, const struct replica_durable *d, char *err,
                        size_t errlen)
{
    uint64_t now_ms = cluster_local_ms(c, id);
    if (c->zks)
        return zks_start(&c->zks[id], now_ms, d, err, errlen);
    return replica_start(&c->reps[id], now_ms, d, err, errlen);
}

static void server_free(struct cluster *c, int id)
{
    if (c->zks)
        zks_free(&c->zks[id]);
    else
        replica_free(&c->reps[id]);
}

static int start_replica(struct cluster *c, int id)
{
    struct replica_config rc = {
        .id = id,
        .n_servers = c->n,
        .tick_ms = c->cfg.tick_ms,
        .init_limit = c->cfg.init_limit,
        .sync_limit = c->cfg.sync_limit,
        .bugs = c->cfg.bugs,
        /* Periodic snapshots keep the unsnapshotted tail of a log short, so a
         * restarted server's log plus a DIFF fit in its in-memory window. */
        .log_entries_max = 16384,
        .log_bytes_max = 16u << 20,
        .snapshot_every = 1000,
    };
    for (int s = c->cfg.voters + 1; s <= c->n; s++)
        rc.roles[s] = QUORUM_OBSERVER;
    char err[256];
    if (server_init(c, id, &rc, err, sizeof err) != REP_OK) {
        internal_error(c, "replica_init", err);
        return -1;
    }
    struct sim_disk *d = &c->disks[id];
    struct replica_durable dur = {0};
    uint64_t zxid;
    disk_durable_log(d, &dur.log, &dur.log_len);
    if (disk_snapshot(d, &dur.snapshot, &dur.snapshot_len, &zxid) != 0)
        dur.snapshot_len = 0;
    dur.has_accepted_epoch = disk_epoch(d, "acceptedEpoch", &dur.accepted_epoch) == 0;
    dur.has_current_epoch = disk_epoch(d, "currentEpoch", &dur.current_epoch) == 0;
    if (server_start(c, id, &dur, err, sizeof err) != REP_OK) {
        /* A server that finds its disk inconsistent refuses to start: that is
         * the safe outcome, recorded, and the node stays down. */
        char esc[300];
        sim_json_escape(esc, sizeof esc, err);
        sim_trace_event(&c->trace, c->sched.now, id, "start-refused", "\"error\":\"%s\"", esc);
        server_free(c, id);
        c->stats.start_failures++;
        /* Crashes, torn tails and lost unsynced writes are what a server
         * must recover from; refusing such a disk loses availability. */
        if (!c->chk.failed) {
            c->chk.failed = true;
            struct chk_violation *v = &c->chk.violation;
            snprintf(v->property, sizeof v->property, "START_REFUSED");
            v->t_ns = c->sched.now;
            v->nodes[0] = id;
            snprintf(v->detail, sizeof v->detail,
                     "s%d refused to restart from a disk that only crashes touched: %.200s", id, err);
        }
        return -1;
    }
    c->rep_live[id] = true;
    c->timer_armed_ms[id] = 0;
    c->cause = (struct cluster_cause){.kind = CC_START};
    if (!c->cfg.no_invariants)
        chk_zab_on_start(&c->chk, c->sched.now, cluster_rep(c, id));
    run_output(c, id);
    return 0;
}

void cluster_crash(struct cluster *c, int id, enum disk_crash_mode mode)
{
    if (!c->nodes[id].up)
        return;
    sim_node_crash(&c->nodes[id]);
    c->deferred_n[id] = 0; /* what a stalled process had not handled dies with it */
    net_endpoint_down(&c->net, c->sched.now, id - 1);
    size_t kept = disk_crash(&c->disks[id], mode, &c->rng_faults);
    if (c->rep_live[id])
        server_free(c, id);
    c->rep_live[id] = false;
    cconn_server_reset(c, id);
    c->stats.crashes++;
    static const char *const modes[] = {"keep", "drop", "torn"};
    sim_trace_event(&c->trace, c->sched.now, id, "crash", "\"unsynced\":\"%s\",\"kept_bytes\":%zu",
                    modes[mode], kept);
    cluster_disturbed(c, "crash", id);
}

void cluster_restart(struct cluster *c, int id)
{
    if (c->nodes[id].up)
        return;
    sim_node_restart(&c->nodes[id]);
    net_endpoint_up(&c->net, id - 1);
    c->stats.restarts++;
    sim_trace_event(&c->trace, c->sched.now, id, "restart", NULL);
    cluster_disturbed(c, "restart", id);
    start_replica(c, id);
}

/* ---- output batch -> simulated I/O ---- */

/* A message's kind name for the trace. The first byte is the kind (the
 * core's encoding); decoding the whole message (a snapshot can be
 * megabytes) just for its name would cost every send and delivery. */
static const char *msg_name(const struct cluster *c, const uint8_t *bytes, size_t len)
{
    if (!c->zks)
        return len ? zab_msg_kind_str(bytes[0]) : "EMPTY";
    if (len >= 2 && bytes[0] == ZKS_TAG_REPLICA)
        return zab_msg_kind_str(bytes[1]);
    return len && bytes[0] == ZKS_TAG_SERVER ? "ZKS" : "EMPTY";
}

/* The ZAB message kind (for holds and crash points): past the layer tag in
 * zk mode, where server-layer messages have none (0). */
static uint32_t msg_kind(const struct cluster *c, const uint8_t *bytes, size_t len)
{
    if (!c->zks)
        return len ? bytes[0] : 0;
    return len >= 2 && bytes[0] == ZKS_TAG_REPLICA ? bytes[1] : 0;
}

static void do_send(struct cluster *c, int id, const struct rep_action *a)
{
    uint32_t kind = msg_kind(c, a->bytes, a->len); /* the ZAB message kind, for holds */
    if (kind >= NET_KINDS_MAX)
        kind = 0;
    enum net_status st = net_send_kind(&c->net, c->sched.now, id - 1, a->peer - 1, kind, a->bytes,
                                       a->len);
    if (st < 0) {
        internal_error(c, "net_send", c->net.err);
        return;
    }
    /* seq pairs this record with its "recv" (or with nothing: lost). */
    const struct net_link *l = &c->net.links[net_link_id(&c->net, id - 1, a->peer - 1)];
    sim_trace_event(&c->trace, c->sched.now, id, "send",
                    "\"to\":%d,\"msg\":\"%s\",\"seq\":%" PRIu64 ",\"len\":%zu%s", a->peer,
                    msg_name(c, a->bytes, a->len), l->seq_head + l->msg_count - 1, a->len,
                    st == NET_LOST_AT_SEND ? ",\"lost\":true" : "");
}

static void do_disconnect(struct cluster *c, int id, int peer)
{
    if (!net_connection_open(&c->net, id - 1, peer - 1))
        return;
    c->self_break_gen[id][peer] = net_generation(&c->net, id - 1, peer - 1) + 1;
    net_drop(&c->net, c->sched.now, id - 1, peer - 1);
}

static void do_disk(struct cluster *c, int id, const struct rep_action *a)
{
    struct sim_disk *d = &c->disks[id];
    sim_time_ns now = c->sched.now;
    enum disk_status st = DISK_OK;
    switch (a->kind) {
    case REP_ACT_LOG_APPEND: st = disk_append(d, now, a->bytes, a->len, a->op_id); break;
    case REP_ACT_LOG_FSYNC: st = disk_fsync(d, now, a->op_id); break;
    case REP_ACT_LOG_TRUNCATE: st = disk_truncate(d, now, a->value, a->op_id); break;
    case REP_ACT_EPOCH_WRITE:
        st = disk_write_epoch(d, now, a->which == REP_EPOCH_ACCEPTED ? "acceptedEpoch" : "currentEpoch",
                              a->value, a->op_id);
        break;
    case REP_ACT_SNAPSHOT_WRITE:
        st = disk_write_snapshot(d, now, a->bytes, a->len, a->value, a->op_id);
        break;
    default: break;
    }
    if (st < 0)
        internal_error(c, "disk", d->err);
}

static void arm_timer(struct cluster *c, int id, uint64_t timer_ms)
{
    if (timer_ms == 0 || timer_ms == c->timer_armed_ms[id])
        return;
    c->timer_armed_ms[id] = timer_ms;
    sim_time_ns at = sim_node_global_at(&c->nodes[id], c->sched.now, timer_ms * SIM_NS_PER_MS);
    enum sim_sched_status st = sim_sched_push(&c->sched, at, CEV_TIMER, id, ++c->timer_gen[id],
                                              c->nodes[id].incarnation);
    if (st != SIM_SCHED_OK)
        internal_error(c, "timer", sim_sched_status_str(st));
}

static void trace_rep_event(struct cluster *c, int id, const struct rep_event *ev)
{
    char buf[160];
    rep_event_describe(ev, buf, sizeof buf);
    char esc[200];
    sim_json_escape(esc, sizeof esc, buf);
    sim_trace_event(&c->trace, c->sched.now, id, rep_event_name(ev->kind),
                    "\"peer\":%d,\"a\":%" PRIu64 ",\"b\":%" PRIu64 ",\"text\":\"%s\"", ev->peer,
                    ev->a, ev->b, esc);
}

static void record_commit_latency(struct cluster *c, sim_time_ns ns)
{
    if (c->commit_lat_n == c->commit_lat_cap) {
        size_t cap = c->commit_lat_cap ? c->commit_lat_cap * 2 : 4096;
        double *p = realloc(c->commit_lat_us, cap * sizeof *p);
        if (!p)
            return; /* a metric, not a correctness matter */
        c->commit_lat_us = p;
        c->commit_lat_cap = cap;
    }
    c->commit_lat_us[c->commit_lat_n++] = (double)ns / 1000.0;
}

static void count_event(struct cluster *c, int id, const struct rep_event *ev)
{
    switch (ev->kind) {
    case REP_EV_ELECTED:
        if (ev->b == REP_LEADING)
            c->stats.elections++;
        break;
    case REP_EV_ESTABLISHED:
        c->stats.established++;
        if (ev->a > c->stats.max_epoch)
            c->stats.max_epoch = ev->a;
        break;
    case REP_EV_COMMITTED:
        if (cluster_rep(c, id)->state == REP_LEADING) {
            c->stats.commits_seen++;
            /* Entries of an older leader can no longer be judged here. */
            while (c->pending_n && (c->pending[c->pending_head].leader != id ||
                                    c->pending[c->pending_head].zxid <= ev->a)) {
                if (c->pending[c->pending_head].leader == id)
                    record_commit_latency(c, c->sched.now - c->pending[c->pending_head].t);
                c->pending_head = (c->pending_head + 1) % CLUSTER_PENDING_MAX;
                c->pending_n--;
            }
        }
        break;
    default:
        break;
    }
}

static void run_events_actions(struct cluster *c, int id, const struct rep_event *events,
                               uint32_t n_events, const struct rep_action *actions,
                               uint32_t n_actions)
{
    for (uint32_t i = 0; i < n_events; i++) {
        trace_rep_event(c, id, &events[i]);
        count_event(c, id, &events[i]);
    }
    for (uint32_t i = 0; i < n_actions && !c->internal_error; i++) {
        const struct rep_action *a = &actions[i];
        if (a->kind == REP_ACT_SEND)
            do_send(c, id, a);
        else if (a->kind == REP_ACT_DISCONNECT)
            do_disconnect(c, id, a->peer);
        else
            do_disk(c, id, a);
    }
}

/* What the step hook and the checker see of a zk_server batch: the
 * replica's actions with the layer tag stripped from its messages, and
 * server-layer messages left out (they are not ZAB's). */
static int build_view(struct cluster *c, const struct zks_output *o, struct replica_out *view)
{
    if (o->n_actions > c->view_cap) {
        uint32_t cap = o->n_actions * 2;
        struct rep_action *p = realloc(c->view_actions, cap * sizeof *p);
        if (!p)
            return -1;
        c->view_actions = p;
        c->view_cap = cap;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < o->n_actions; i++) {
        struct rep_action a = o->actions[i];
        if (a.kind == REP_ACT_SEND) {
            if (a.len < 1 || a.bytes[0] != ZKS_TAG_REPLICA)
                continue;
            a.bytes++;
            a.len--;
        }
        c->view_actions[k++] = a;
    }
    *view = (struct replica_out){.actions = c->view_actions, .n_actions = k, .events = o->events,
                                 .n_events = o->n_events, .n_events_dropped = o->n_events_dropped,
                                 .timer_ms = o->timer_ms};
    return 0;
}

static void run_output_zk(struct cluster *c, int id)
{
    struct zk_server *s = &c->zks[id];
    const struct zks_output *o = zks_output(s);
    run_events_actions(c, id, o->events, o->n_events, o->actions, o->n_actions);
    cconn_server_outputs(c, id, o);
    arm_timer(c, id, o->timer_ms);
    struct replica_out view;
    if (build_view(c, o, &view) != 0) {
        internal_error(c, "step view", "out of memory");
        zks_output_clear(s);
        return;
    }
    if (!c->cfg.no_invariants)
        chk_zab_after_step(&c->chk, c->sched.now, zks_replica(s), &view);
    if (c->step_hook)
        c->step_hook(c->user_ctx, c, id, &c->cause, &view);
    zks_output_clear(s);
}

static void run_output(struct cluster *c, int id)
{
    if (c->zks) {
        run_output_zk(c, id);
    } else {
        struct replica *r = &c->reps[id];
        const struct replica_out *out = replica_output(r);
        run_events_actions(c, id, out->events, out->n_events, out->actions, out->n_actions);
        arm_timer(c, id, out->timer_ms);
        if (!c->cfg.no_invariants)
            chk_zab_after_step(&c->chk, c->sched.now, r, out);
        if (c->step_hook)
            c->step_hook(c->user_ctx, c, id, &c->cause, out);
        replica_output_clear(r);
    }
    if (c->crash_after_step[id]) {
        enum disk_crash_mode mode = (enum disk_crash_mode)(c->crash_after_step[id] - 1);
        c->crash_after_step[id] = 0;
        cluster_crash(c, id, mode);
    }
}

void cluster_server_output(struct cluster *c, int id)
{
    run_output(c, id);
}

void cluster_crash_after_step(struct cluster *c, int id, enum disk_crash_mode mode)
{
    c->crash_after_step[id] = 1 + (int)mode;
}

/* ---- event dispatch ---- */

static void on_deliver(struct cluster *c, const struct sim_event *ev)
{
    int from, to;
    const uint8_t *bytes;
    size_t len;
    if (net_deliver(&c->net, ev, &from, &to, &bytes, &len) != NET_DELIVERED)
        return;
    if (to >= c->n) { /* a server frame reaches a client */
        if (c->client_deliver)
            c->client_deliver(c->client_ctx, c, to - c->n, from + 1, bytes, len);
        return;
    }
    int id = to + 1;
    if (!c->rep_live[id])
        return;
    if (from >= c->n) { /* a client frame reaches a server */
        cconn_server_frame(c, id, from - c->n, bytes, len);
        return;
    }
    sim_trace_event(&c->trace, c->sched.now, id, "recv",
                    "\"from\":%d,\"msg\":\"%s\",\"seq\":%" PRIu64 ",\"len\":%zu", from + 1,
                    msg_name(c, bytes, len), ev->b, len);
    c->cause = (struct cluster_cause){.kind = CC_MESSAGE, .peer = from + 1, .msg = bytes, .msg_len = len};
    if (c->zks) {
        /* The hook sees the replica's message without its layer tag. */
        bool rep_msg = len >= 1 && bytes[0] == ZKS_TAG_REPLICA;
        c->cause.msg = rep_msg ? bytes + 1 : NULL;
        c->cause.msg_len = rep_msg ? len - 1 : 0;
        zks_on_message(&c->zks[id], cluster_local_ms(c, id), from + 1, bytes, len);
    } else {
        replica_on_message(&c->reps[id], cluster_local_ms(c, id), from + 1, bytes, len);
    }
    run_output(c, id);
}

static void on_broken(struct cluster *c, const struct sim_event *ev)
{
    if (ev->node >= c->n) { /* a client learns its connection broke */
        if (c->client_broken)
            c->client_broken(c->client_ctx, c, ev->node - c->n, (int)ev->a + 1, (uint32_t)ev->b);
        return;
    }
    int id = ev->node + 1, peer = (int)ev->a + 1;
    if (!c->rep_live[id])
        return;
    if (peer > c->n) {
        cconn_server_broken(c, id, peer - 1 - c->n, (uint32_t)ev->b);
        return;
    }
    if (c->self_break_gen[id][peer] == (uint32_t)ev->b + 1) {
        c->self_break_gen[id][peer] = 0; /* its own DISCONNECT */
        return;
    }
    sim_trace_event(&c->trace, c->sched.now, id, "conn-broken", "\"peer\":%d", peer);
    c->cause = (struct cluster_cause){.kind = CC_CONN_BREAK, .peer = peer};
    if (c->zks)
        zks_on_conn_break(&c->zks[id], cluster_local_ms(c, id), peer);
    else
        replica_on_conn_break(&c->reps[id], cluster_local_ms(c, id), peer);
    run_output(c, id);
}

static void on_disk_done(struct cluster *c, const struct sim_event *ev)
{
    int id = ev->node;
    struct disk_completion done;
    if (!disk_complete(&c->disks[id], ev, &done) || !c->rep_live[id])
        return;
    if (done.status == DISK_ENOSPC) {
        /* ZooKeeper exits on a failed log write; so does this server. */
        sim_trace_event(&c->trace, c->sched.now, id, "disk-full-exit", NULL);
        cluster_crash(c, id, DISK_CRASH_KEEP);
        return;
    }
    c->cause = (struct cluster_cause){.kind = CC_DISK, .disk_op = (int)done.kind};
    if (c->zks)
        zks_on_disk_done(&c->zks[id], cluster_local_ms(c, id), done.op_id);
    else
        replica_on_disk_done(&c->reps[id], cluster_local_ms(c, id), done.op_id);
    run_output(c, id);
}

static void on_timer(struct cluster *c, const struct sim_event *ev)
{
    int id = ev->node;
    if (ev->a != c->timer_gen[id] || ev->b != c->nodes[id].incarnation || !c->rep_live[id])
        return;
    c->timer_armed_ms[id] = 0;
    c->cause = (struct cluster_cause){.kind = CC_TIMER};
    if (c->zks)
        zks_on_timer(&c->zks[id], cluster_local_ms(c, id));
    else
        replica_on_timer(&c->reps[id], cluster_local_ms(c, id));
    run_output(c, id);
}

/* ---- workload: opaque proposals to the current leader ---- */

static sim_time_ns next_arrival(struct cluster *c)
{
    double u = sim_rng_uniform(&c->rng_workload);
    double gap_s = -__builtin_log(1.0 - u) / c->cfg.propose_rate_per_s;
    return (sim_time_ns)(gap_s * (double)SIM_NS_PER_S) + 1;
}

static void on_propose(struct cluster *c)
{
    sim_sched_after(&c->sched, next_arrival(c), CEV_PROPOSE, -1, 0, 0);
    int id = cluster_leader(c);
    if (!id || !sim_node_runnable(&c->nodes[id], c->sched.now)) {
        c->stats.proposals_refused++;
        return;
    }
    uint8_t payload[24];
    uint64_t seq = ++c->propose_seq, salt = sim_rng_below(&c->rng_workload, UINT64_MAX);
    memcpy(payload, "prop", 4);
    memcpy(payload + 4, &seq, 8);
    memcpy(payload + 12, &salt, 8);
    uint64_t zxid;
    struct replica *r = &c->reps[id];
    c->cause = (struct cluster_cause){.kind = CC_PROPOSE};
    int rc = replica_propose(r, cluster_local_ms(c, id), payload, 20, &zxid);
    if (rc != REP_OK) {
        c->stats.proposals_refused++;
        run_output(c, id);
        return;
    }
    c->stats.proposals++;
    if (c->pending_n < CLUSTER_PENDING_MAX) {
        uint32_t at = (c->pending_head + c->pending_n) % CLUSTER_PENDING_MAX;
        c->pending[at] = (struct cluster_pending){zxid, r->established_epoch, id, c->sched.now};
        c->pending_n++;
    }
    sim_trace_event(&c->trace, c->sched.now, id, "propose", "\"zxid\":\"0x%" PRIx64 "\"", zxid);
    run_output(c, id);
}

/* ---- liveness: with a quorum connected and quiet for the bound, a leader
 * is established and pending proposals commit ---- */

static bool quorum_connected(const struct cluster *c)
{
    int up[CLUSTER_SERVERS_MAX + 1], k = 0;
    for (int id = 1; id <= c->cfg.voters; id++)
        if (cluster_is_up(c, id))
            up[k++] = id;
    /* Largest set of mutually reachable up voters, greedily from each seed:
     * exact for partitions into groups, which is what faults produce. */
    for (int i = 0; i < k; i++) {
        int members = 1;
        for (int j = 0; j < k; j++)
            if (j != i && net_reachable(&c->net, up[i] - 1, up[j] - 1) &&
                net_reachable(&c->net, up[j] - 1, up[i] - 1))
                members++;
        if (members > c->cfg.voters / 2)
            return true;
    }
    return false;
}

static void liveness_fail(struct cluster *c, const char *property, int node, uint64_t zxid,
                          const char *detail)
{
    c->liveness_failed = true;
    struct chk_violation *v = &c->liveness;
    snprintf(v->property, sizeof v->property, "%s", property);
    v->t_ns = c->sched.now;
    v->nodes[0] = node;
    v->zxid = zxid;
    snprintf(v->detail, sizeof v->detail, "%s", detail);
}

static void on_check(struct cluster *c)
{
    sim_sched_after(&c->sched, CHECK_INTERVAL_NS, CEV_CHECK, -1, 0, 0);
    int leader = cluster_leader(c);
    if (leader && c->leaderless_since_ns != SIM_TIME_NEVER) {
        c->stats.leaderless_ns += c->sched.now - c->leaderless_since_ns;
        c->leaderless_since_ns = SIM_TIME_NEVER;
    } else if (!leader && c->leaderless_since_ns == SIM_TIME_NEVER) {
        c->leaderless_since_ns = c->sched.now;
    }
    sim_time_ns bound = c->cfg.liveness_bound_ns;
    if (!bound || c->sched.now - c->last_disturbance_ns < bound || !quorum_connected(c))
        return;
    char d[CHK_DETAIL_MAX];
    if (!leader) {
        snprintf(d, sizeof d, "a quorum was connected and undisturbed for %" PRIu64
                 " ms but no leader was established", sim_ns_to_ms(bound));
        liveness_fail(c, "LIVENESS_LEADER", 0, 0, d);
        return;
    }
    while (c->pending_n) {
        struct cluster_pending *p = &c->pending[c->pending_head];
        if (p->leader == leader && p->epoch == cluster_rep(c, leader)->established_epoch)
            break;
        c->pending_head = (c->pending_head + 1) % CLUSTER_PENDING_MAX; /* its leader is gone */
        c->pending_n--;
    }
    if (c->pending_n) {
        const struct cluster_pending *p = &c->pending[c->pending_head];
        sim_time_ns since = p->t > c->last_disturbance_ns ? p->t : c->last_disturbance_ns;
        if (c->sched.now - since >= bound) {
            snprintf(d, sizeof d, "proposal 0x%" PRIx64 " by s%d is not committed %" PRIu64
                     " ms after the cluster became stable", p->zxid, leader,
                     sim_ns_to_ms(c->sched.now - since));
            liveness_fail(c, "LIVENESS_COMMIT", leader, p->zxid, d);
        }
    }
}

/* ---- the loop ---- */

/* The server an event is for (1-based), or 0 for global events. */
static int event_server(const struct sim_event *ev)
{
    switch (ev->kind) {
    case CEV_NET_DELIVER:
    case CEV_NET_BROKEN: return ev->node + 1; /* 0 for client endpoints: see caller */
    case CEV_DISK_DONE:
    case CEV_TIMER: return ev->node;
    default: return 0;
    }
}

/* A stalled process handles nothing until it resumes. */
static void defer(struct cluster *c, int id, const struct sim_event *ev)
{
    if (c->deferred_n[id] == CLUSTER_DEFERRED_MAX) {
        internal_error(c, "pause", "too many events for a stalled server");
        return;
    }
    uint32_t at = (c->deferred_head[id] + c->deferred_n[id]) % CLUSTER_DEFERRED_MAX;
    c->deferred[id][at] = *ev;
    c->deferred_n[id]++;
    if (!c->resume_armed[id]) {
        c->resume_armed[id] = true;
        sim_time_ns t = c->nodes[id].paused_until > c->sched.now ? c->nodes[id].paused_until
                                                                  : c->sched.now;
        sim_sched_push(&c->sched, t, CEV_RESUME, id, 0, 0);
    }
}

static void dispatch(struct cluster *c, const struct sim_event *ev);

static void on_resume(struct cluster *c, int id)
{
    c->resume_armed[id] = false;
    if (!c->nodes[id].up) {
        c->deferred_n[id] = 0; /* crashed while stalled: all of it is gone */
        return;
    }
    if (!sim_node_runnable(&c->nodes[id], c->sched.now)) {
        c->resume_armed[id] = true; /* the stall was extended */
        sim_sched_push(&c->sched, c->nodes[id].paused_until, CEV_RESUME, id, 0, 0);
        return;
    }
    while (c->deferred_n[id] && !cluster_failed(c)) {
        struct sim_event ev = c->deferred[id][c->deferred_head[id]];
        c->deferred_head[id] = (c->deferred_head[id] + 1) % CLUSTER_DEFERRED_MAX;
        c->deferred_n[id]--;
        dispatch(c, &ev);
    }
}

bool cluster_step(struct cluster *c)
{
    if (cluster_failed(c))
        return false;
    struct sim_event ev;
    if (sim_sched_peek_time(&c->sched) > c->cfg.run_ns || !sim_sched_pop(&c->sched, &ev))
        return false;
    c->stats.events++;
    int id = event_server(&ev);
    if (id > c->n)
        id = 0; /* a client endpoint: clients never stall */
    if (id && c->nodes[id].up && (c->deferred_n[id] || !sim_node_runnable(&c->nodes[id], ev.time))) {
        defer(c, id, &ev);
        return true;
    }
    dispatch(c, &ev);
    return !cluster_failed(c);
}

void cluster_run(struct cluster *c)
{
    while (cluster_step(c))
        ;
}

static void dispatch(struct cluster *c, const struct sim_event *ev)
{
    switch (ev->kind) {
    case CEV_NET_DELIVER: on_deliver(c, ev); break;
    case CEV_NET_BROKEN: on_broken(c, ev); break;
    case CEV_DISK_DONE: on_disk_done(c, ev); break;
    case CEV_TIMER: on_timer(c, ev); break;
    case CEV_PROPOSE: on_propose(c); break;
    case CEV_CHECK: on_check(c); break;
    case CEV_RESUME: on_resume(c, ev->node); break;
    default:
        if (ev->kind >= CEV_CLIENT) {
            if (c->client_event)
                c->client_event(c->client_ctx, c, ev);
        } else if (c->user_event)
            c->user_event(c->user_ctx, c, ev);
        break;
    }
}

/* ---- construction ---- */

static int init_disks(struct cluster *c, char *err, size_t errlen)
{
    for (int id = 1; id <= c->n; id++) {
        if (sim_rng_open(&c->rng_disk[id], c->cfg.seed, "disk", (uint32_t)id) != 0)
            return -1;
        struct net_latency epoch_lat = c->cfg.disk_fsync_latency;
        epoch_lat.p1 *= 2;
        epoch_lat.p2 *= (epoch_lat.kind == NET_LAT_UNIFORM) ? 2 : 1;
        struct disk_config dc = {
            .node = id,
            .ev_done = CEV_DISK_DONE,
            .write_latency = c->cfg.disk_write_latency,
            .fsync_latency = c->cfg.disk_fsync_latency,
            .epoch_latency = epoch_lat,
            .snapshot_latency = epoch_lat,
            .log_bytes_max = 256u << 20,
            .queued_bytes_max = 64u << 20,
            .ops_max = 1u << 16,
        };
        if (disk_init(&c->disks[id], &dc, &c->sched, &c->rng_disk[id], err, errlen) != 0)
            return -1;
        sim_node_init(&c->nodes[id], id);
        c->deferred[id] = malloc(CLUSTER_DEFERRED_MAX * sizeof(struct sim_event));
        if (!c->deferred[id]) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int init_net(struct cluster *c, int endpoints, char *err, size_t errlen)
{
    struct net_config nc = {
        .endpoints = endpoints,
        .ev_deliver = CEV_NET_DELIVER,
        .ev_broken = CEV_NET_BROKEN,
        .bytes_max = 512u << 20,
        .msg_bytes_max = 16u << 20,
        .latency = c->cfg.net_latency,
        .loss_p = c->cfg.loss_p,
        /* Immediate: the core names peers, not connections, so each end must
         * hear of a break before any message of the next connection (which
         * takes at least one latency to arrive). */
        .break_notice_ns = 0,
    };
    return net_init(&c->net, &nc, &c->sched, &c->rng_net, err, errlen);
}

int cluster_init(struct cluster *c, const struct cluster_config *cfg, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->n = cfg->voters + cfg->observers;
    if (c->n < 1 || c->n > CLUSTER_SERVERS_MAX || cfg->voters < 1) {
        snprintf(err, errlen, "cluster size %d out of range 1..%d", c->n, CLUSTER_SERVERS_MAX);
        return -1;
    }
    if (sim_sched_init(&c->sched, cfg->sched_capacity ? cfg->sched_capacity
                                                      : DEFAULT_SCHED_CAPACITY) != 0 ||
        sim_rng_open(&c->rng_net, cfg->seed, "network", 0) != 0 ||
        sim_rng_open(&c->rng_faults, cfg->seed, "faults", 0) != 0 ||
        sim_rng_open(&c->rng_workload, cfg->seed, "workload", 0) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sim_trace_init(&c->trace, cfg->trace_out);
    chk_zab_init(&c->chk, c->n);
    c->leaderless_since_ns = 0;
    if (cfg->zk && (cfg->clients < 0 || cfg->clients > CLUSTER_CLIENTS_MAX)) {
        snprintf(err, errlen, "clients %d out of range 0..%d", cfg->clients, CLUSTER_CLIENTS_MAX);
        return -1;
    }
    if (!cfg->zk)
        c->cfg.clients = 0;
    if (cfg->zk && cconn_init(c, err, errlen) != 0)
        return -1;
    int endpoints = c->n + c->cfg.clients < 2 ? 2 : c->n + c->cfg.clients;
    if (init_net(c, endpoints, err, errlen) != 0 || init_disks(c, err, errlen) != 0)
        return -1;
    if (cfg->zk) /* bare-mode traces stay byte-for-byte what they were */
        sim_trace_event(&c->trace, 0, -1, "start",
                        "\"seed\":%" PRIu64 ",\"voters\":%d,\"observers\":%d,\"tick_ms\":%u,"
                        "\"bugs\":%u,\"zk\":true,\"clients\":%d",
                        cfg->seed, cfg->voters, cfg->observers, cfg->tick_ms, cfg->bugs, cfg->clients);
    else
        sim_trace_event(&c->trace, 0, -1, "start",
                        "\"seed\":%" PRIu64 ",\"voters\":%d,\"observers\":%d,\"tick_ms\":%u,\"bugs\":%u",
                        cfg->seed, cfg->voters, cfg->observers, cfg->tick_ms, cfg->bugs);
    for (int id = 1; id <= c->n; id++)
        start_replica(c, id);
    if (cfg->propose_rate_per_s > 0 && !cfg->zk) /* zk: clients write */
        sim_sched_after(&c->sched, next_arrival(c), CEV_PROPOSE, -1, 0, 0);
    sim_sched_after(&c->sched, CHECK_INTERVAL_NS, CEV_CHECK, -1, 0, 0);
    if (c->internal_error) {
        snprintf(err, errlen, "%s", c->err);
        return -1;
    }
    return 0;
}

void cluster_free(struct cluster *c)
{
    for (int id = 1; id <= c->n; id++) {
        if (c->rep_live[id])
            server_free(c, id);
        disk_free(&c->disks[id]);
        free(c->deferred[id]);
        sim_rng_close(&c->rng_disk[id]);
    }
    net_free(&c->net);
    cconn_free(c);
    chk_zab_free(&c->chk);
    free(c->commit_lat_us);
    sim_rng_close(&c->rng_net);
    sim_rng_close(&c->rng_faults);
    sim_rng_close(&c->rng_workload);
    sim_sched_free(&c->sched);
}
