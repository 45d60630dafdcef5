/* zabd: the real-socket driver of the ZooKeeper server core. Reads zoo.cfg
 * and myid, restores the server (core/zk_server.h: replica + znode tree +
 * sessions + watches) from its files, then runs one epoll loop that feeds it
 * peer messages, connection breaks, timer firings, disk completions and
 * client frames, and carries out the actions it answers with.
 *
 * Owns: the process (signals, exit codes), the clock handed to the core and
 * the wiring of loop, peer links, files and client port to one struct
 * zk_server. Never: decides anything about the protocol (that is core/) or
 * calls into the server while an output batch is being executed.
 *
 * Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 usage, 2 configuration or
 * I/O error, 3 the durable state is corrupt or inconsistent: zabd refuses to
 * start rather than serve wrong data. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log_record.h"
#include "core/zk_server.h"
#include "server/client_port.h"
#include "server/config.h"
#include "server/files.h"
#include "server/log.h"
#include "server/loop.h"
#include "server/peer.h"
#include "server/snapshot_child.h"

#define EXIT_USAGE 1
#define EXIT_CONFIG 2
#define EXIT_REFUSED 3

/* The in-memory txn log: the leader keeps at most a quarter of it in flight
 * (uncommitted; more is answered ZTHROTTLEDOP) and snapshots when it is full,
 * so a long log means fewer snapshots and room for many pipelining clients. */
#define ZABD_LOG_ENTRIES 65536u
#define ZABD_LOG_BYTES (32u << 20)
#define ZABD_DATA_MAX (LOG_RECORD_PAYLOAD_MAX - (16u << 10)) /* largest znode data */

struct zabd {
    struct cfg cfg;
    struct loop *loop;
    struct zk_server srv;
    int srv_ready;
    /* The core's clock: CLOCK_MONOTONIC shifted so that it reads as Unix
     * milliseconds at start-up. Monotonic (timers never jump with the wall
     * clock) yet znode ctime/mtime and session ids look like ZooKeeper's. */
    uint64_t clock_offset_ms;
    struct files files;
    struct snapchild snap;
    struct peer_set peers;
    int peers_ready;
    struct cport cport;
    int cport_ready;
    int sig_fd;
    uint64_t rep_timer_id, rep_timer_ms;
    uint64_t *done;          /* FILES_PENDING_MAX op ids, for files_sync */
    int exit_code;           /* set by a fatal error: the loop stops */
};

static void process_output(struct zabd *z);
static void start_snapshot(struct zabd *z, const struct rep_action *a);

static uint64_t core_now_ms(const struct zabd *z)
{
    return loop_clock_ms() + z->clock_offset_ms;
}

static void fatal(struct zabd *z, int code, const char *msg)
{
    slog_error("%s: stopping", msg);
    if (!z->exit_code)
        z->exit_code = code;
    loop_stop(z->loop);
}

/* ---- replica output ------------------------------------------------------------- */

/* Per-txn events (proposed, acked, committed, applied) are debug: at
 * thousands of writes per second, logging them at info would cost more than
 * the writes. Role changes, syncs and snapshots are info; anomalies warn. */
static enum slog_level event_level(uint8_t kind)
{
    switch (kind) {
    case REP_EV_PROPOSED:
    case REP_EV_COMMITTED:
    case REP_EV_APPLIED:
        return SLOG_DEBUG;
    case REP_EV_PROTOCOL_ERROR:
    case REP_EV_TRUNC_BELOW_APPLIED:
    case REP_EV_LOG_TORN:
        return SLOG_WARN;
    default:
        return SLOG_INFO;
    }
}

static void log_events(const struct zks_output *o)
{
    for (uint32_t i = 0; i < o->n_events; i++) {
        const struct rep_event *ev = &o->events[i];
        enum slog_level level = event_level(ev->kind);
        if (!slog_enabled(level))
            continue;
        char buf[200];
        rep_event_describe(ev, buf, sizeof buf);
        slog(level, "%s", buf);
    }
    if (o->n_events_dropped)
        slog_debug("(%u more events in this batch not shown)", o->n_events_dropped);
}

static void on_replica_timer(struct loop *l, uint64_t timer_id, void *arg)
{
    (void)l, (void)timer_id;
    struct zabd *z = arg;
    z->rep_timer_id = 0;
    z->rep_timer_ms = 0;
    if (z->exit_code)
        return;
    zks_on_timer(&z->srv, core_now_ms(z));
    process_output(z);
}

/* at_ms is on the core's clock; the loop's timers are on the monotonic one. */
static void arm_timer(struct zabd *z, uint64_t at_ms)
{
    if (at_ms == z->rep_timer_ms && (z->rep_timer_id || at_ms == 0))
        return;
    if (z->rep_timer_id)
        loop_timer_cancel(z->loop, z->rep_timer_id);
    z->rep_timer_id = 0;
    z->rep_timer_ms = at_ms;
    if (at_ms) {
        uint64_t at_loop_ms = at_ms > z->clock_offset_ms ? at_ms - z->clock_offset_ms : 1;
        z->rep_timer_id = loop_timer_add(z->loop, at_loop_ms, on_replica_timer, z);
        if (!z->rep_timer_id)
            fatal(z, EXIT_CONFIG, "timer heap full");
    }
}

/* A periodic snapshot: a forked child stores the state as it is right now
 * (before any further input reaches the core). If fork fails, the state is
 * serialized here and stored by the writer thread in issue order instead. */
static void start_snapshot(struct zabd *z, const struct rep_action *a)
{
    char err[512];
    const struct replica *r = zks_replica(&z->srv);
    uint64_t t0_ms = loop_clock_ms();
    if (snapchild_start(&z->snap, &z->files, r, a->op_id, err, sizeof err) == 0) {
        uint64_t took_ms = loop_clock_ms() - t0_ms;
        /* fork copies page tables: slow on some hypervisors, so say so */
        slog(took_ms >= 50 ? SLOG_WARN : SLOG_DEBUG, "snapshot at zxid 0x%llx: child %d, fork took %llu ms",
             (unsigned long long)z->snap.zxid, (int)z->snap.pid, (unsigned long long)took_ms);
        return;
    }
    slog_warn("snapshot in a child process failed (%s): storing it from the server", err);
    uint8_t *env;
    size_t n;
    int ok = snapchild_encode(r, &env, &n, err, sizeof err) == 0;
    if (ok) {
        struct rep_action b = *a;   /* the same op id: completed in issue order instead */
        b.which = 0, b.bytes = env, b.len = n;
        ok = files_execute(&z->files, &b, err, sizeof err) == 0;
        free(env);
    }
    if (!ok)
        fatal(z, EXIT_CONFIG, err);
}

/* The snapshot child exited (SIGCHLD): its op completes, out of order with
 * the log ops, as the core expects (replica.h). A failed child stops the
 * server like any failed write. */
static void reap_snapshot(struct zabd *z)
{
    char err[512];
    int rc = snapchild_poll(&z->snap, err, sizeof err);
    if (rc < 0) {
        fatal(z, EXIT_CONFIG, err);
    } else if (rc > 0) {
        slog_debug("snapshot at zxid 0x%llx stored", (unsigned long long)z->snap.zxid);
        files_note_snapshot(&z->files, z->snap.zxid);
        zks_on_disk_done(&z->srv, core_now_ms(z), z->snap.op_id);
        process_output(z);
    }
}

/* Executes one batch in order. Sends and client replies are queued at once
 * and written before the loop sleeps: the core never emits one that waits on
 * an incomplete disk op (replica.h, driver contract; zk_server.h for client
 * outputs), so none needs holding back. */
static void process_output(struct zabd *z)
{
    const struct zks_output *o = zks_output(&z->srv);
    log_events(o);
    for (uint32_t i = 0; i < o->n_actions && !z->exit_code; i++) {
        const struct rep_action *a = &o->actions[i];
        char err[512];
        if (a->kind == REP_ACT_SEND) {
            peer_send(&z->peers, a->peer, a->bytes, a->len);
        } else if (a->kind == REP_ACT_DISCONNECT) {
            peer_disconnect(&z->peers, a->peer);
        } else if (a->kind == REP_ACT_SNAPSHOT_WRITE && a->which == REP_SNAPSHOT_BY_DRIVER) {
            start_snapshot(z, a);
        } else {
            if (a->kind == REP_ACT_SNAPSHOT_WRITE)
                snapchild_abandon(&z->snap, &z->files);   /* superseded: see snapshot_child.h */
            if (files_execute(&z->files, a, err, sizeof err) != 0)
                fatal(z, EXIT_CONFIG, err);
        }
    }
    for (uint32_t i = 0; i < o->n_client && !z->exit_code && z->cport_ready; i++)
        cport_deliver(&z->cport, &o->client[i]);   /* written before the loop sleeps */
    if (!z->exit_code)
        arm_timer(z, o->timer_ms);
    zks_output_clear(&z->srv);
}

/* Before every sleep: hand the disk ops issued in this iteration to the
 * writer thread (one fdatasync for all their fsyncs) and deliver, in issue
 * order, the completions of the batch it finished. A completion may issue
 * more disk ops (the next batch) or break a link; breaks are delivered first
 * in each round, since what the replica does about them may need the disk
 * too. Never waits for the device: a batch still running wakes the loop
 * through the writer's eventfd. Bounded: a core that kept issuing ops would
 * resume next wake-up. */
static void deliver_ready(struct zabd *z)
{
    for (uint32_t round = 0; round < 1000 && !z->exit_code; round++) {
        if (z->peers_ready)
            peer_deliver_breaks(&z->peers);
        uint32_t clients = 0;
        if (z->cport_ready)
            clients = cport_report_gone(&z->cport) + cport_resume_paused(&z->cport);
        int n = 0;
        if (z->files.n_pending > 0) {
            char err[512];
            n = files_sync(&z->files, z->done, FILES_PENDING_MAX, err, sizeof err);
            if (n < 0) {
                fatal(z, EXIT_CONFIG, err);
                return;
            }
        }
        for (int i = 0; i < n && !z->exit_code; i++) {
            zks_on_disk_done(&z->srv, core_now_ms(z), z->done[i]);
            process_output(z);
        }
        if (n == 0 && clients == 0)
            return;
    }
}

static void before_sleep(struct loop *l, void *arg)
{
    (void)l;
    struct zabd *z = arg;
    /* Then what this iteration queued, one send per peer link and per client
     * connection; a link that breaks on it is reported before sleeping (a
     * client connection that fails is reported next iteration). */
    for (int k = 0; k < 4 && !z->exit_code; k++) {
        deliver_ready(z);
        if (z->cport_ready)
            cport_flush_dirty(&z->cport);
        if (!z->peers_ready)
            return;
        peer_flush(&z->peers);
        if (!z->peers.breaks_pending)
            return;
    }
}

/* The writer finished a batch: before_sleep, right after this, takes it. */
static void on_disk_event(struct loop *l, int fd, int mask, void *arg)
{
    (void)l, (void)fd, (void)mask;
    struct zabd *z = arg;
    files_drain_event(&z->files);
}

/* ---- peer and signal callbacks ----------------------------------------------------- */

static void on_peer_message(void *arg, int peer, const uint8_t *msg, size_t len)
{
    struct zabd *z = arg;
    if (z->exit_code)
        return;
    zks_on_message(&z->srv, core_now_ms(z), peer, msg, len);
    process_output(z);
}

static void on_peer_break(void *arg, int peer)
{
    struct zabd *z = arg;
    if (z->exit_code)
        return;
    slog_debug("connection to server %d broke", peer);
    zks_on_conn_break(&z->srv, core_now_ms(z), peer);
    process_output(z);
}

static void on_signal(struct loop *l, int fd, int mask, void *arg)
{
    (void)mask;
    struct zabd *z = arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            reap_snapshot(z);
            continue;
        }
        slog_info("signal %u: shutting down", si.ssi_signo);
        loop_stop(l);
    }
}

/* ---- client sessions: frames <-> core/zk_wire.h <-> zk_server ------------------------ */

static enum cport_frame_verdict client_connect(struct zabd *z, uint64_t conn, const char *peer,
                                               const uint8_t *payload, size_t len)
{
    struct zkw_connect cr;
    if (zkw_decode_connect(payload, len, &cr) != ZOK) {
        slog_warn("client %s: malformed ConnectRequest (%zu bytes): closing", peer, len);
        return CPORT_FRAME_CLOSE;
    }
    cport_set_long_form(&z->cport, conn, cr.long_form);
    /* The ip id ZooKeeper's ip ACLs match: the address without the port. */
    struct zk_id ip;
    memset(&ip, 0, sizeof ip);
    snprintf(ip.scheme, sizeof ip.scheme, "ip");
    snprintf(ip.id, sizeof ip.id, "%s", peer);
    char *colon = strrchr(ip.id, ':');
    if (colon)
        *colon = '\0';
    cr.req.auth = &ip;
    cr.req.auth_count = 1;
    int rc = zks_client_connect(&z->srv, core_now_ms(z), conn, &cr.req);
    if (rc == ZSESSIONEXPIRED)
        slog_info("client %s: session 0x%llx expired or wrong password", peer,
                  (unsigned long long)cr.req.session_id);
    else if (rc != ZOK)
        slog_info("client %s: connect refused (%d)", peer, rc);
    process_output(z);
    return CPORT_FRAME_TAKEN;
}

/* A request zk_wire rejected with an error for its xid (not a parse error):
 * answered here with that error, in order - so only once everything before
 * it is answered and the session is open. */
static enum cport_frame_verdict answer_locally(struct zabd *z, uint64_t conn, const char *peer,
                                               const struct zkw_request *r, int err)
{
    if (zks_conn_session(&z->srv, conn) == 0 || zks_conn_outstanding(&z->srv, conn) > 0)
        return CPORT_FRAME_LATER;
    slog_info("client %s: xid %d op %d answered %d: %s", peer, r->xid, r->op, err, r->why);
    struct zks_out o;
    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_REPLY;
    o.conn = conn;
    o.xid = r->xid;
    o.op = r->op;
    o.zxid = (int64_t)zks_last_applied(&z->srv);
    o.err = err;
    cport_deliver(&z->cport, &o);
    cport_flush_dirty(&z->cport);
    return CPORT_FRAME_TAKEN;
}

static enum cport_frame_verdict on_client_frame(void *arg, uint64_t conn, const char *peer,
                                                const uint8_t *payload, size_t len, bool first)
{
    struct zabd *z = arg;
    if (z->exit_code)
        return CPORT_FRAME_CLOSE;
    if (first)
        return client_connect(z, conn, peer, payload, len);
    /* Stop reading before the core's per-connection bound closes it. */
    if (zks_conn_outstanding(&z->srv, conn) >= z->srv.cfg.outstanding_per_conn_max)
        return CPORT_FRAME_LATER;
    struct zkw_limits lim = {z->cfg.jute_max_buffer};
    struct zkw_request r;
    int rc = zkw_decode_request(payload, len, &lim, &r);
    enum cport_frame_verdict v = CPORT_FRAME_TAKEN;
    if (rc == ZOK && r.kind == ZKW_REQ_SET_WATCHES) {
        zks_client_set_watches(&z->srv, core_now_ms(z), conn, &r.sw);
        process_output(z);
    } else if (rc == ZOK) {
        zks_client_request(&z->srv, core_now_ms(z), conn, &r.req);
        process_output(z);
    } else if (rc == ZMARSHALLINGERROR) {
        slog_warn("client %s: malformed request (%zu bytes, xid %d, op %d): %s: closing", peer,
                  len, r.has_header ? r.xid : 0, r.has_header ? r.op : 0, r.why);
        v = CPORT_FRAME_CLOSE;
    } else {
        v = answer_locally(z, conn, peer, &r, rc);
    }
    zkw_request_free(&r);
    return v;
}

static void on_client_gone(void *arg, uint64_t conn)
{
    struct zabd *z = arg;
    if (z->exit_code)
        return;
    zks_client_disconnect(&z->srv, core_now_ms(z), conn);
    process_output(z);
}

static void client_info(void *arg, uint64_t conn, struct cport_conn_info *out)
{
    struct zabd *z = arg;
    for (uint32_t i = 0; i < z->srv.conn_high; i++) {
        const struct zks_conn *k = &z->srv.conns[i];
        if (k->id != conn)
            continue;
        out->session_id = zks_conn_session(&z->srv, conn);
        out->timeout_ms = k->timeout_ms;
        out->queued = k->q_n;
        out->watches = watch_conn_count(&z->srv.watches, conn);
        return;
    }
}

/* ---- what the four-letter words show -------------------------------------------------- */

static void fill_view(void *arg, struct cport_view *v)
{
    struct zabd *z = arg;
    const struct replica *r = zks_replica(&z->srv);
    const struct zk_sm *sm = zks_sm(&z->srv);
    v->server_id = r->id;
    v->cfg = &z->cfg;
    v->serving = zks_serving(&z->srv);
    v->read_only = zks_read_only_mode(&z->srv, core_now_ms(z));  /* ro: read-only mode */
    if (z->cfg.server_count == 0)
        v->mode = "standalone";
    else if (r->state == REP_LEADING)
        v->mode = "leader";
    else if (r->state == REP_OBSERVING)
        v->mode = "observer";
    else
        v->mode = "follower";
    v->zxid = zks_last_applied(&z->srv);
    v->node_count = tree_node_count(&sm->tree);
    v->ephemerals = sm->tree.eph_count;
    v->data_bytes = sm->tree.data_bytes;
    v->connections = zks_conn_count(&z->srv);
    v->watches = watch_count_total(&z->srv.watches);
    v->watch_paths = z->srv.watches.path_live;
    v->watch_conns = z->srv.watches.conn_count;
    for (uint32_t i = 0; i < z->srv.conn_high; i++)
        v->outstanding += z->srv.conns[i].id ? z->srv.conns[i].q_n : 0;
    v->accepted_epoch = r->accepted_epoch;
    v->current_epoch = r->current_epoch;
    for (int id = 1; id <= r->cfg.n_servers && r->state == REP_LEADING; id++) {
        if (id == r->id || r->learners[id].state == REP_LH_NONE)
            continue;
        v->learners++;
        if (r->learners[id].state == REP_LH_UPTODATE && !r->learners[id].observer)
            v->synced_followers++;
    }
    v->fdatasyncs = z->files.fdatasyncs;
    v->snapshots = z->snap.done;
    v->snapshot_forks = z->snap.forks;
    v->log_segments = z->files.log.n;
    v->log_rolls = z->files.log.rolled;
    v->fsync_actions = z->files.fsync_actions;
}

/* ---- start-up ---------------------------------------------------------------------- */

/* The core numbers servers 1..n: zoo.cfg must list exactly those ids. */
static int make_replica_config(const struct cfg *c, struct replica_config *rc, char *err,
                               size_t errlen)
{
    memset(rc, 0, sizeof *rc);
    int n = c->server_count ? c->server_count : 1;
    if (n > REP_SERVERS_MAX) {
        snprintf(err, errlen, "%.200s: %d servers listed; zabd supports at most %d", c->source_name,
                 n, REP_SERVERS_MAX);
        return -1;
    }
    for (int i = 0; i < c->server_count; i++) {
        const struct cfg_server *s = &c->servers[i];
        if (s->id < 1 || s->id > n) {
            snprintf(err, errlen, "%.200s:%d: server.%lld: zabd needs the server ids to be 1..%d",
                     c->source_name, s->line, (long long)s->id, n);
            return -1;
        }
        rc->roles[s->id] = s->role == CFG_ROLE_OBSERVER ? QUORUM_OBSERVER : QUORUM_VOTER;
    }
    rc->id = c->server_count ? (int)c->my_id : 1;
    rc->n_servers = n;
    if (c->server_count == 0)
        rc->roles[1] = QUORUM_VOTER;
    rc->tick_ms = (uint32_t)c->tick_time_ms;
    rc->init_limit = (uint32_t)(c->init_limit_ticks > 0 ? c->init_limit_ticks : 10);
    rc->sync_limit = (uint32_t)(c->sync_limit_ticks > 0 ? c->sync_limit_ticks : 5);
    return 0;
}

static int open_peers(struct zabd *z, char *err, size_t errlen)
{
    if (z->cfg.server_count == 0)
        return 0;
    static struct peer_addr addrs[REP_SERVERS_MAX + 1];
    for (int i = 0; i < z->cfg.server_count; i++) {
        const struct cfg_server *s = &z->cfg.servers[i];
        if (peer_resolve(&addrs[s->id], s->host, s->election_port, err, errlen) != 0)
            return -1;
    }
    struct peer_callbacks cb = {on_peer_message, on_peer_break, z};
    if (peer_init(&z->peers, z->loop, (int)z->cfg.my_id, z->cfg.server_count, addrs, &cb, err,
                  errlen) != 0)
        return -1;
    z->peers_ready = 1;
    return 0;
}

static int open_signals(struct zabd *z, char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);   /* the snapshot child finished */
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
        (z->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
        loop_fd_add(z->loop, z->sig_fd, LOOP_READABLE, on_signal, z) != 0) {
        snprintf(err, errlen, "cannot watch signals: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The session-password key: `secret` from zoo.cfg, else one derived from
 * the server list. The derived one is the same on every server (so sessions
 * move between servers) but anyone who can read the list can compute it and
 * forge a session's password: it is logged as insecure. */
static void make_secret(const struct cfg *c, struct zks_config *sc)
{
    if (c->secret_len) {
        memcpy(sc->secret, c->secret, c->secret_len);
        sc->secret_len = c->secret_len;
        return;
    }
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "zablab-insecure-default");
    for (int i = 0; i < c->server_count && len < sizeof text; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "|%lld=%s:%u:%u",
                                (long long)c->servers[i].id, c->servers[i].host,
                                c->servers[i].quorum_port, c->servers[i].election_port);
    if (len >= sizeof text)
        len = sizeof text - 1;
    /* Fold into ZKS_SECRET_MAX bytes (the core hashes it again with SHA-1). */
    memset(sc->secret, 0, sizeof sc->secret);
    for (size_t i = 0; i < len; i++) {
        uint8_t *b = &sc->secret[i % ZKS_SECRET_MAX];
        *b = (uint8_t)(*b * 31u + (uint8_t)text[i]);
    }
    sc->secret_len = ZKS_SECRET_MAX;
    slog_warn("no 'secret' in %s: session passwords use a key derived from the server list, "
              "which anyone who knows the list can compute (insecure; set secret=...)",
              c->source_name);
}

static int make_server_config(const struct cfg *c, struct zks_config *sc, char *err,
                              size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    if (make_replica_config(c, &sc->rep, err, errlen) != 0)
        return -1;
    /* One txn is one log record (at most LOG_RECORD_PAYLOAD_MAX): a node's
     * data may be as large as a packet, less room for the path, ACLs and
     * headers that travel with it in the txn. */
    sc->rep.payload_bytes_max = LOG_RECORD_PAYLOAD_MAX;
    sc->rep.log_bytes_max = ZABD_LOG_BYTES;
    sc->rep.log_entries_max = ZABD_LOG_ENTRIES;
    sc->rep.snapshot_by_driver = 1;
    /* snapCount, at most half the log: the other half absorbs the proposals
     * that arrive while the child writes the snapshot. */
    uint32_t every = ZABD_LOG_ENTRIES / 2;
    if (c->snap_count > 0 && (uint32_t)c->snap_count < every)
        every = (uint32_t)c->snap_count;
    /* Servers of one ensemble apply the same txns: with one period they would
     * all write a snapshot at once, on disks that are often shared (as in
     * ZooKeeper, which randomizes snapCount). Each server's period is a bit
     * shorter than the one before, so their snapshots drift apart. */
    uint32_t n = (uint32_t)sc->rep.n_servers, id = (uint32_t)sc->rep.id;
    if (n > 1 && id >= 1 && every >= 4 * n)
        every -= (uint32_t)((uint64_t)every * (id - 1) / (2 * n));
    sc->rep.snapshot_every = every;
    sc->prep.data_max = c->jute_max_buffer < ZABD_DATA_MAX ? c->jute_max_buffer : ZABD_DATA_MAX;
    sc->min_session_timeout_ms = c->min_session_timeout_ms;
    sc->max_session_timeout_ms = c->max_session_timeout_ms;
    sc->conns_max = CPORT_CONNS_MAX;
    sc->read_only_enabled = c->read_only_enabled;            /* ro: readonlymode.enabled */
    sc->outstanding_per_conn_max = c->outstanding_per_conn;  /* ro: zablab.outstandingPerConnection */
    make_secret(c, sc);
    return 0;
}

/* Reads the files and starts the server. Returns 0 or an exit code. */
static int start_server(struct zabd *z, char *err, size_t errlen)
{
    struct zks_config sc;
    if (make_server_config(&z->cfg, &sc, err, errlen) != 0)
        return EXIT_CONFIG;
    if (zks_init(&z->srv, &sc, err, errlen) != 0)
        return EXIT_CONFIG;
    z->srv_ready = 1;
    if (files_open(&z->files, z->cfg.data_dir, z->cfg.data_log_dir, err, errlen) != 0)
        return EXIT_CONFIG;
    struct files_durable fd;
    if (files_load(&z->files, &fd, err, errlen) != 0)
        return EXIT_REFUSED;
    slog_info("read %zu log bytes, %zu snapshot bytes, acceptedEpoch %s%llu, currentEpoch %s%llu",
              fd.d.log_len, fd.d.snapshot_len, fd.d.has_accepted_epoch ? "" : "(none) ",
              (unsigned long long)fd.d.accepted_epoch, fd.d.has_current_epoch ? "" : "(none) ",
              (unsigned long long)fd.d.current_epoch);
    int rs = zks_start(&z->srv, core_now_ms(z), &fd.d, err, errlen);
    files_durable_free(&fd);
    if (rs == REP_ERR_CORRUPT || rs == REP_ERR_EPOCH)
        return EXIT_REFUSED;
    return rs == REP_OK ? 0 : EXIT_CONFIG;
}

static int setup(struct zabd *z, const char *config_path, char *err, size_t errlen)
{
    if (cfg_load(&z->cfg, config_path, err, errlen) != 0)
        return EXIT_CONFIG;
    char tag[32];
    snprintf(tag, sizeof tag, "s%lld", (long long)(z->cfg.server_count ? z->cfg.my_id : 1));
    slog_set_tag(tag);
    for (int i = 0; i < z->cfg.warnings.count; i++)
        slog_warn("%s", z->cfg.warnings.msg[i]);
    z->done = calloc(FILES_PENDING_MAX, sizeof *z->done);
    z->loop = loop_new(err, errlen);
    if (!z->done || !z->loop)
        return EXIT_CONFIG;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t wall_ms = (uint64_t)wall.tv_sec * 1000u + (uint64_t)wall.tv_nsec / 1000000u;
    uint64_t mono_ms = loop_clock_ms();
    z->clock_offset_ms = wall_ms > mono_ms ? wall_ms - mono_ms : 0;
    int rc = start_server(z, err, errlen);
    if (rc != 0)
        return rc;
    if (open_signals(z, err, errlen) != 0 || open_peers(z, err, errlen) != 0)
        return EXIT_CONFIG;
    if (loop_fd_add(z->loop, files_event_fd(&z->files), LOOP_READABLE, on_disk_event, z) != 0) {
        snprintf(err, errlen, "cannot watch the disk writer's eventfd");
        return EXIT_CONFIG;
    }
    struct cport_limits lim = {
        .max_per_addr = (uint32_t)z->cfg.max_client_cnxns,
        .frame_max = z->cfg.jute_max_buffer,
        .four_lw_allowed = z->cfg.four_lw_allowed,
        .out_bytes_max = (size_t)z->cfg.write_queue_bytes,  /* ro: zablab.connectionWriteQueueBytes */
    };
    struct cport_callbacks cb = {fill_view, client_info, on_client_frame, on_client_gone, z};
    if (z->cfg.client_port && cport_init(&z->cport, z->loop, z->cfg.client_port_address,
                                         z->cfg.client_port, &lim, &cb, err, errlen) != 0)
        return EXIT_CONFIG;
    z->cport_ready = z->cfg.client_port != 0;
    loop_set_before_sleep(z->loop, before_sleep, z);
    return 0;
}

static void teardown(struct zabd *z)
{
    if (z->files.pending)
        snapchild_abandon(&z->snap, &z->files);   /* the last stored snapshot stays */
    if (z->cport_ready)
        cport_shutdown(&z->cport);
    if (z->peers_ready)
        peer_shutdown(&z->peers);
    if (z->files.pending)
        files_close(&z->files);   /* writes and syncs what was appended */
    if (z->srv_ready)
        zks_free(&z->srv);
    loop_free(z->loop);
    free(z->done);
}

static int usage(void)
{
    fprintf(stderr, "usage: zabd [--log-level debug|info|warn|error] CONFIG_FILE\n"
                    "  CONFIG_FILE  zoo.cfg (tickTime, initLimit, syncLimit, dataDir, clientPort,\n"
                    "               maxClientCnxns, jute.maxbuffer, secret (session-password key,\n"
                    "               same on every server), server.N=host:quorumPort:electionPort\n"
                    "               [:observer]); myid in dataDir. See docs/zabd.md.\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            if (slog_set_level_name(argv[++i]) != 0)
                return usage();
        } else if (argv[i][0] == '-' || config_path) {
            return usage();
        } else {
            config_path = argv[i];
        }
    }
    if (!config_path)
        return usage();
    /* Fixed thresholds: glibc would otherwise raise them to the size of the
     * largest block freed (a snapshot received in a SNAP sync, tens of MB)
     * and keep later blocks that large resident after free. */
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    static struct zabd z;   /* large (cfg, peer buffers): not on the stack */
    z.sig_fd = -1;
    char err[1024];
    int rc = setup(&z, config_path, err, sizeof err);
    if (rc != 0) {
        slog_error("%s", err);
        if (rc == EXIT_REFUSED)
            slog_error("refusing to start: the files under %s need attention", z.cfg.data_dir);
        teardown(&z);
        return rc;
    }
    slog_info("zabd %s: server %d of %d, client port %u, tickTime %d ms", ZABD_VERSION,
              zks_replica(&z.srv)->id, zks_replica(&z.srv)->cfg.n_servers, z.cfg.client_port,
              z.cfg.tick_time_ms);
    process_output(&z);   /* what zks_start asked for */
    if (loop_run(z.loop) != 0 && !z.exit_code)
        z.exit_code = EXIT_CONFIG;
    rc = z.exit_code;
    if (z.sig_fd >= 0)
        close(z.sig_fd);
    teardown(&z);
    slog_info("exit %d", rc);
    return rc;
}
