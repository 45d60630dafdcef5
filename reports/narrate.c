/* Narration of a trace in plain words (reports/narrate.h). Reads records
 * one at a time; keeps a few integers per server (role, leader, pending
 * reasons) and two small buffers: a group of servers doing the same thing
 * at the same instant ("s1, s2 and s4 follow s3"), and the running commit
 * summary, printed when the window ends or before any other line so that
 * lines stay in time order.
 *
 * Owns: its context (on the stack of rep_narrate).
 * Must never: print a line per commit, or more than max_lines lines. */
#include "reports/narrate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reports/trace_read.h"

#define SHAPES 16                 /* recent line shapes remembered for loop folding */
#define REPEAT_WINDOW_NS 60000000 /* the same step again within 60 ms is a loop */

enum role { R_NONE = 0, R_LOOKING, R_FOLLOWING, R_LEADING, R_OBSERVING, R_DOWN };
enum group_tmpl { G_NONE = 0, G_BOOT, G_LOOKING, G_FOLLOW, G_OBSERVE };

struct server {
    enum role role;
    int leader;
    bool established, restarting;
    bool boot_pending;             /* STARTED seen, its first LOOKING not yet */
    uint64_t boot_zxid; int64_t boot_epoch;
    char quit_reason[64];          /* FOLLOWER_QUIT or STEP_DOWN seen, LOOKING not yet */
    bool stepped_down;
};

struct narr {
    FILE *out;
    const struct rep_narrate_opts *o;
    size_t lines, omitted, max_lines;
    struct server s[TRD_SERVERS_MAX + 1];
    /* a group of servers doing the same at the same instant */
    enum group_tmpl g_tmpl; int64_t g_t, g_k1, g_k2; int g_nodes[TRD_SERVERS_MAX]; int g_n;
    /* the running commit summary */
    int64_t c_t0, c_t1, c_window_end; uint64_t c_commits, c_proposals, c_zxid0, c_zxid1; int c_leader;
    /* run totals */
    int64_t t_end, leaderless_since, leaderless_ns;
    uint64_t commits, elections;
    uint32_t max_epoch;
    int voters;
    int leader;                    /* the established leader the ensemble follows, 0 = none */
    bool violation_marked;
    /* loop folding: a line whose shape (zxids and rounds left out) was said
     * moments ago is counted, not printed */
    uint64_t shape[SHAPES]; int64_t shape_t[SHAPES]; int shape_next;
    uint64_t folded; int64_t fold_t0, fold_t1;
};

const char *rep_property_explained(const char *p)
{
    static const char *const table[][2] = {
        {"AGREEMENT", "no two servers commit different transactions at the same zxid, and committed histories are prefixes of each other"},
        {"LEADER_COMPLETE", "a transaction committed (and acknowledged) is in the history of every leader established afterwards: nothing acknowledged is lost"},
        {"LEADER_UNIQUE", "at most one leader is established per epoch"},
        {"PRIMARY_ORDER", "each server delivers a leader's transactions in zxid order, never an older epoch's after a newer one"},
        {"STATE_DIGEST", "servers that applied the same zxid have identical data trees"},
        {"EPOCH_MONOTONIC", "acceptedEpoch >= currentEpoch on every server, and epochs never go backwards"},
        {"EPOCH_ORDER", "acceptedEpoch >= currentEpoch on every server"},
        {"COMMIT_MONOTONIC", "a server's committed zxid never goes backwards"},
        {"TRUNC_APPLIED", "a server never truncates a transaction it has already applied"},
        {"START_REFUSED", "a server refused its own disk at start-up although the disk was not corrupted on purpose"},
        {"LIVENESS", "with a quorum connected and stable for long enough, a leader is established and pending writes commit in time"},
        {"linearizable", "writes take effect atomically at one instant between their invocation and completion"},
        {"zk-consistency", "ZooKeeper's contract: linearizable writes, FIFO sessions, reads never older than what the session saw, sync then read sees prior writes"},
        {"lock-exclusive", "no two clients hold the lock at once"},
        {"leader-unique", "no two clients believe they lead at once"},
        {"queue-exact", "no queue element is lost or taken twice"},
        {"config-converges", "every connected watcher ends on the last configuration"},
        {"no-lost-writes", "every write acknowledged to a client survives"},
    };
    for (size_t i = 0; p && i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i][0], p))
            return table[i][1];
    return "a property the checkers guard (see docs/semantics.md)";
}

static void emit_raw(struct narr *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit_raw(struct narr *n, const char *fmt, ...)
{
    if (n->lines >= n->max_lines) {
        n->omitted++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(n->out, fmt, ap);
    va_end(ap);
    fputc('\n', n->out);
    n->lines++;
}

static void names_list(char *buf, size_t cap, const int *nodes, int count)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < count && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%ss%d",
                                i == 0 ? "" : i == count - 1 ? " and " : ", ", nodes[i]);
}

static void fold_flush(struct narr *n);

static bool folds(struct narr *n, int64_t t, const char *line);
static void commits_flush(struct narr *n);

static void group_flush(struct narr *n)
{
    if (n->g_tmpl == G_NONE)
        return;
    char who[256], line[512] = "";
    names_list(who, sizeof who, n->g_nodes, n->g_n);
    const char *s = n->g_n == 1 ? "s" : "";
    switch (n->g_tmpl) {
    case G_BOOT:
        snprintf(line, sizeof line, "%s start%s with an empty log and begin%s an election (LOOKING, round %" PRId64 ")",
                 who, s, s, n->g_k1);
        break;
    case G_LOOKING:
        snprintf(line, sizeof line, "%s start%s an election: LOOKING in round %" PRId64 ", voting for %s", who, s,
                 n->g_k1, n->g_n == 1 ? "itself" : "themselves");
        break;
    case G_FOLLOW: snprintf(line, sizeof line, "%s follow%s s%" PRId64 " (round %" PRId64 ")", who, s, n->g_k1, n->g_k2); break;
    case G_OBSERVE: snprintf(line, sizeof line, "%s observe%s s%" PRId64, who, s, n->g_k1); break;
    default: break;
    }
    int64_t t = n->g_t;
    n->g_tmpl = G_NONE, n->g_n = 0;
    if (folds(n, t, line))
        return;
    commits_flush(n);
    fold_flush(n);
    emit_raw(n, "t=%.3fs %s", (double)t / 1e9, line);
}

/* Proposals that have not committed yet are only told when the window
 * ends (force): between two other lines they keep accumulating. */
static void commits_flush_when(struct narr *n, bool force)
{
    if (!n->c_commits && (!n->c_proposals || !force))
        return;
    fold_flush(n);
    char when[64], zx[64];
    if (n->c_t0 == n->c_t1)
        snprintf(when, sizeof when, "t=%.3fs", (double)n->c_t0 / 1e9);
    else
        snprintf(when, sizeof when, "t=%.3f-%.3fs", (double)n->c_t0 / 1e9, (double)n->c_t1 / 1e9);
    if (n->c_zxid0 == n->c_zxid1)
        snprintf(zx, sizeof zx, "zxid 0x%" PRIx64, n->c_zxid0);
    else
        snprintf(zx, sizeof zx, "zxid 0x%" PRIx64 "..0x%" PRIx64, n->c_zxid0, n->c_zxid1);
    if (n->c_commits)
        emit_raw(n, "%s s%d commits %" PRIu64 " txn%s (%s)%s", when, n->c_leader, n->c_commits,
                 n->c_commits == 1 ? "" : "s", zx,
                 n->c_proposals > n->c_commits ? "; more are proposed and waiting for a quorum" : "");
    else
        emit_raw(n, "%s s%d proposes %" PRIu64 " txn%s but none commits yet", when, n->c_leader, n->c_proposals,
                 n->c_proposals == 1 ? "" : "s");
    n->c_commits = n->c_proposals = 0;
}

static void commits_flush(struct narr *n) { commits_flush_when(n, false); }

/* FNV-1a over the line without its zxids and round numbers. */
static uint64_t shape_of(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        if (s[0] == '0' && s[1] == 'x') {
            s++;
            while (s[1] && strchr("0123456789abcdef", s[1]))
                s++;
            continue;
        }
        if (!strncmp(s, "round ", 6)) {
            s += 5;
            while (s[1] >= '0' && s[1] <= '9')
                s++;
            continue;
        }
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

static void fold_flush(struct narr *n)
{
    if (!n->folded)
        return;
    if (n->folded == 1)
        emit_raw(n, "t=%.3fs (1 more line like one just above)", (double)n->fold_t0 / 1e9);
    else
        emit_raw(n, "t=%.3f-%.3fs (%" PRIu64 " more lines like the ones just above: the same steps repeating)",
                 (double)n->fold_t0 / 1e9, (double)n->fold_t1 / 1e9, n->folded);
    n->folded = 0;
}

/* true when this line repeats one said within REPEAT_WINDOW_NS. */
static bool folds(struct narr *n, int64_t t, const char *line)
{
    uint64_t h = shape_of(line);
    for (int i = 0; i < SHAPES; i++) {
        if (n->shape[i] == h && n->shape_t[i] >= 0 && t - n->shape_t[i] <= REPEAT_WINDOW_NS) {
            n->shape_t[i] = t;
            if (!n->folded++)
                n->fold_t0 = t;
            n->fold_t1 = t;
            return true;
        }
    }
    n->shape[n->shape_next] = h, n->shape_t[n->shape_next] = t;
    n->shape_next = (n->shape_next + 1) % SHAPES;
    return false;
}

/* Every ordinary line goes through here: pending summaries first. */
static void say(struct narr *n, int64_t t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct narr *n, int64_t t, const char *fmt, ...)
{
    group_flush(n);
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (folds(n, t, buf))
        return;
    commits_flush(n);
    fold_flush(n);
    emit_raw(n, "t=%.3fs %s", (double)t / 1e9, buf);
}

static void group_add(struct narr *n, int64_t t, enum group_tmpl g, int64_t k1, int64_t k2, int node)
{
    if (n->g_tmpl != g || n->g_t != t || n->g_k1 != k1 || n->g_k2 != k2 || n->g_n >= TRD_SERVERS_MAX) {
        group_flush(n);
        n->g_tmpl = g, n->g_t = t, n->g_k1 = k1, n->g_k2 = k2;
    }
    n->g_nodes[n->g_n++] = node;
}

static void commit_add(struct narr *n, const struct trd_rec *r, bool commit)
{
    if (n->c_commits + n->c_proposals > 0 && (r->t_ns >= n->c_window_end || n->c_leader != r->node))
        commits_flush_when(n, true);
    group_flush(n);
    if (n->c_commits + n->c_proposals == 0) {
        int64_t w = n->o && n->o->commit_window_ns > 0 ? n->o->commit_window_ns : 1000000000;
        n->c_t0 = r->t_ns, n->c_leader = r->node, n->c_window_end = (r->t_ns / w + 1) * w;
    }
    n->c_t1 = r->t_ns;
    if (commit) {
        if (!n->c_commits)
            n->c_zxid0 = (uint64_t)r->a;
        n->c_zxid1 = (uint64_t)r->a;
        n->c_commits++;
        n->commits++;
    } else {
        n->c_proposals++;
    }
}

static const char *sync_name(int64_t k)
{
    static const char *const names[] = {"DIFF", "TRUNC", "TRUNC+DIFF", "SNAP"};
    return k >= 0 && k < 4 ? names[k] : "?";
}

/* The reason a replica event gives in parentheses, e.g. "(timeout)". */
static void reason_of(const char *text, char *dst, size_t cap)
{
    const char *a = strchr(text, '('), *b = a ? strchr(a, ')') : NULL;
    if (a && b && b > a + 1)
        snprintf(dst, cap, "%.*s", (int)(b - a - 1), a + 1);
    else
        snprintf(dst, cap, "no reason given");
}

static void leader_gone(struct narr *n, int node, int64_t t)
{
    if (n->leader == node && n->leaderless_since < 0)
        n->leaderless_since = t;
    if (n->leader == node)
        n->leader = 0;
    n->s[node].established = false;
}

/* The ensemble is without a leader once a quorum of voters is looking or
 * down, even if the old leader has not noticed yet (it may be paused). */
static void quorum_looking(struct narr *n, int64_t t)
{
    int voters = n->voters > 0 ? n->voters : 0, away = 0;
    for (int s = 1; s <= voters && s <= TRD_SERVERS_MAX; s++)
        away += n->s[s].role == R_LOOKING || n->s[s].role == R_DOWN || n->s[s].role == R_NONE;
    if (voters > 0 && away >= voters / 2 + 1 && n->leaderless_since < 0) {
        n->leaderless_since = t;
        n->leader = 0;
    }
}

static void on_looking(struct narr *n, const struct trd_rec *r)
{
    struct server *s = &n->s[r->node];
    if (s->boot_pending && !s->restarting && s->boot_zxid == 0 && s->boot_epoch == 0)
        group_add(n, r->t_ns, G_BOOT, r->a, 0, r->node);
    else if (s->boot_pending)
        say(n, r->t_ns, "s%d %s from its disk (last logged zxid 0x%" PRIx64 ", currentEpoch %" PRId64
                        ") and starts an election (round %" PRId64 ")", r->node,
            s->restarting ? "restarts and recovers" : "starts", s->boot_zxid, s->boot_epoch, r->a);
    else if (s->quit_reason[0] && s->stepped_down)
        say(n, r->t_ns, "s%d stops leading (%s) and starts an election (round %" PRId64 ")", r->node,
            s->quit_reason, r->a);
    else if (s->quit_reason[0])
        say(n, r->t_ns, "s%d notices its leader s%d is gone (%s) and starts an election (round %" PRId64 ")",
            r->node, s->leader, s->quit_reason, r->a);
    else
        group_add(n, r->t_ns, G_LOOKING, r->a, 0, r->node);
    s->quit_reason[0] = 0, s->stepped_down = false;
    s->boot_pending = s->restarting = false;
    leader_gone(n, r->node, r->t_ns);
    s->role = R_LOOKING;
    n->elections++;
    quorum_looking(n, r->t_ns);
}

static void on_elected(struct narr *n, const struct trd_rec *r)
{
    struct server *s = &n->s[r->node];
    s->leader = r->peer;
    if (r->b == TRD_ROLE_LEADING) {
        s->role = R_LEADING;
        say(n, r->t_ns, "s%d has the highest (epoch, zxid) among the votes it received and becomes LEADING "
                        "in round %" PRId64, r->node, r->a);
    } else if (r->b == TRD_ROLE_OBSERVING) {
        s->role = R_OBSERVING;
        group_add(n, r->t_ns, G_OBSERVE, r->peer, 0, r->node);
    } else {
        s->role = R_FOLLOWING;
        group_add(n, r->t_ns, G_FOLLOW, r->peer, r->a, r->node);
    }
}

static void on_sync(struct narr *n, const struct trd_rec *r)
{
    switch (r->a) {
    case 0: say(n, r->t_ns, "s%d is synced by DIFF up to zxid 0x%" PRIx64 ": s%d sends the txns it is missing",
                r->node, (uint64_t)r->b, r->peer); break;
    case 1: say(n, r->t_ns, "s%d is told to TRUNC its log back to zxid 0x%" PRIx64 ": it holds txns the new "
                            "leader s%d does not have, which were never committed", r->node, (uint64_t)r->b, r->peer); break;
    case 2: say(n, r->t_ns, "s%d is told to TRUNC back to zxid 0x%" PRIx64 " and then gets a DIFF from s%d",
                r->node, (uint64_t)r->b, r->peer); break;
    case 3: say(n, r->t_ns, "s%d is too far behind for a DIFF: s%d sends a full SNAP up to zxid 0x%" PRIx64,
                r->node, r->peer, (uint64_t)r->b); break;
    default: say(n, r->t_ns, "s%d is synced by %s", r->node, sync_name(r->a)); break;
    }
}

static void on_established(struct narr *n, const struct trd_rec *r)
{
    struct server *s = &n->s[r->node];
    s->established = true;
    n->leader = r->node;
    if ((uint32_t)r->a > n->max_epoch)
        n->max_epoch = (uint32_t)r->a;
    if (n->leaderless_since >= 0) {
        int64_t gap = r->t_ns - n->leaderless_since;
        n->leaderless_ns += gap;
        n->leaderless_since = -1;
        say(n, r->t_ns, "s%d is established as leader of epoch %" PRId64 " (a quorum acknowledged NEWLEADER); "
                        "the ensemble was without a leader for %.0f ms", r->node, r->a, (double)gap / 1e6);
    } else {
        say(n, r->t_ns, "s%d is established as leader of epoch %" PRId64 " (a quorum acknowledged NEWLEADER)",
            r->node, r->a);
    }
}

/* Told together with the election it starts (the next LOOKING). */
static void on_started(struct narr *n, const struct trd_rec *r)
{
    struct server *s = &n->s[r->node];
    s->boot_pending = true;
    s->boot_zxid = (uint64_t)r->a, s->boot_epoch = r->b;
    s->role = R_NONE;
}

static void on_crash(struct narr *n, const struct trd_rec *r)
{
    struct server *s = &n->s[r->node];
    const char *what = !strcmp(r->text, "drop") ? "what it had not fsynced is lost (drop)"
                     : !strcmp(r->text, "torn") ? "its last unsynced write is torn: the log ends in half a record (torn)"
                     : "its unsynced writes happen to survive (keep)";
    bool was_leader = s->role == R_LEADING && s->established;
    leader_gone(n, r->node, r->t_ns);
    say(n, r->t_ns, "s%d crashes; %s%s", r->node, what, was_leader ? "; it was the leader" : "");
    s->role = R_DOWN;
    s->quit_reason[0] = 0;
    quorum_looking(n, r->t_ns);
}

static void on_partition(struct narr *n, const struct trd_rec *r)
{
    char groups[512] = "";
    size_t len = 0;
    for (int g = 0; g < TRD_SERVERS_MAX; g++) {
        int nodes[TRD_SERVERS_MAX], k = 0;
        for (int s = 1; s <= r->n_group; s++)
            if (r->group_of[s] == g)
                nodes[k++] = s;
        if (!k)
            continue;
        char who[200];
        names_list(who, sizeof who, nodes, k);
        len += (size_t)snprintf(groups + len, sizeof groups - len, "%s{%s}", len ? " | " : "", who);
        if (len >= sizeof groups)
            break;
    }
    say(n, r->t_ns, "the network splits: %s; messages between the sides are lost", groups);
}

static void on_fault(struct narr *n, const struct trd_rec *r)
{
    switch (r->kind) {
    case TRD_CRASH: on_crash(n, r); break;
    case TRD_RESTART: n->s[r->node].restarting = true; break;
    case TRD_PAUSE: say(n, r->t_ns, "s%d stalls for %" PRId64 " ms (like a long GC pause); it neither sends nor "
                                    "handles anything meanwhile", r->node, r->a); break;
    case TRD_SKEW: say(n, r->t_ns, "s%d's clock jumps %s by %.0f ms", r->node, r->a >= 0 ? "forward" : "back",
                       (double)(r->a >= 0 ? r->a : -r->a) / 1e6); break;
    case TRD_DRIFT: say(n, r->t_ns, "s%d's clock starts drifting by %" PRId64 " ppm", r->node, r->a); break;
    case TRD_PARTITION: on_partition(n, r); break;
    case TRD_HEAL: say(n, r->t_ns, "the network heals: every cut and clog is removed"); break;
    case TRD_BLOCK: say(n, r->t_ns, "messages from s%d to s%d are blocked (one way)", r->node, r->peer); break;
    case TRD_DROP: say(n, r->t_ns, "the connection between s%d and s%d breaks; what was in flight on it is lost",
                       r->node, r->peer); break;
    case TRD_CLOG: say(n, r->t_ns, "the link between s%d and s%d slows down by %" PRId64 " ms for %" PRId64 " ms",
                       r->node, r->peer, r->a, r->b); break;
    case TRD_START_REFUSED: say(n, r->t_ns, "s%d refuses to start from its disk: %s", r->node, r->text); break;
    case TRD_DISK_FULL_EXIT: say(n, r->t_ns, "s%d's disk is full; the write fails and it exits", r->node); break;
    case TRD_INTERNAL_ERROR: say(n, r->t_ns, "the simulator itself failed: %s", r->text); break;
    default: break;
    }
}

static void on_protocol_error(struct narr *n, const struct trd_rec *r)
{
    static const char *const kinds[] = {"?", "NOTIFICATION", "FOLLOWERINFO", "LEADERINFO", "ACKEPOCH", "DIFF",
                                        "TRUNC", "SNAP", "PROPOSAL", "ACK", "COMMIT", "NEWLEADER", "UPTODATE",
                                        "PING", "INFORM"};
    const char *k = r->a > 0 && r->a < (int64_t)(sizeof kinds / sizeof kinds[0]) ? kinds[r->a] : "message";
    if (r->a == 10)
        say(n, r->t_ns, "s%d gets a COMMIT for zxid 0x%" PRIx64 ", a proposal it does not have, and refuses it",
            r->node, (uint64_t)r->b);
    else
        say(n, r->t_ns, "s%d refuses a %s it did not expect at this point", r->node, k);
}

static void on_replica(struct narr *n, const struct trd_rec *r)
{
    struct server *s = &n->s[r->node];
    switch (r->kind) {
    case TRD_STARTED: on_started(n, r); break;
    case TRD_LOG_TORN: say(n, r->t_ns, "s%d finds a torn record at the end of its log and cuts it: keeps %" PRId64
                                       " bytes, drops %" PRId64, r->node, r->a, r->b); break;
    case TRD_LOOKING: on_looking(n, r); break;
    case TRD_ELECTED: on_elected(n, r); break;
    case TRD_EPOCH_ACCEPTED:
        if (s->role == R_LEADING && !s->established)
            say(n, r->t_ns, "s%d proposes epoch %" PRId64 " to its followers (a quorum sent FOLLOWERINFO)",
                r->node, r->a);
        break;
    case TRD_SYNC_RECEIVED: on_sync(n, r); break;
    case TRD_ESTABLISHED: on_established(n, r); break;
    case TRD_PROPOSED: if (s->role == R_LEADING) commit_add(n, r, false); break;
    case TRD_COMMITTED: if (s->role == R_LEADING) commit_add(n, r, true); break;
    case TRD_FOLLOWER_QUIT: reason_of(r->text, s->quit_reason, sizeof s->quit_reason); break;
    case TRD_STEP_DOWN:
        reason_of(r->text, s->quit_reason, sizeof s->quit_reason);
        s->stepped_down = true;
        leader_gone(n, r->node, r->t_ns);
        break;
    case TRD_LEARNER_DROPPED: {
        char why[64];
        reason_of(r->text, why, sizeof why);
        say(n, r->t_ns, "s%d drops its follower s%d (%s)", r->node, r->peer, why);
        break;
    }
    case TRD_PROTOCOL_ERROR: on_protocol_error(n, r); break;
    default: break;
    }
}

/* Client sessions: only their state changes are told, never each request. */
static void on_client_session(struct narr *n, const struct trd_rec *r)
{
    const char *sess = r->session[0] ? r->session : "?";
    const char *pre = strncmp(sess, "0x", 2) ? "0x" : "";
    if (!strcmp(r->text, "connected"))
        say(n, r->t_ns, "client c%d is connected to s%d (session %s%s)", r->client, r->peer, pre, sess);
    else if (!strcmp(r->text, "disconnected"))
        say(n, r->t_ns, "client c%d loses its connection to s%d; session %s%s lives on until it expires, so it "
                        "looks for another server", r->client, r->peer, pre, sess);
    else if (!strcmp(r->text, "expired"))
        say(n, r->t_ns, "client c%d's session %s%s has expired: its ephemeral nodes are gone and it needs a new "
                        "session", r->client, pre, sess);
    else if (!strcmp(r->text, "closed"))
        say(n, r->t_ns, "client c%d closes its session %s%s", r->client, pre, sess);
}

static void mark_violation(struct narr *n, int64_t t)
{
    const struct rep_violation *v = n->o ? n->o->violation : NULL;
    if (!v || n->violation_marked || v->t_ns < 0 || t < v->t_ns)
        return;
    n->violation_marked = true;
    say(n, v->t_ns, "!! the checker finds a violation of %s here (explained at the end)",
        v->property ? v->property : "a property");
}

static void on_record(struct narr *n, const struct trd_rec *r)
{
    if (r->t_ns > n->t_end)
        n->t_end = r->t_ns;
    mark_violation(n, r->t_ns);
    if (r->kind == TRD_START) {
        n->voters = r->b > 0 && r->b <= TRD_SERVERS_MAX ? (int)r->b : 0;
        say(n, r->t_ns, "the run starts: %" PRId64 " voting server%s%s, seed %" PRId64 ", tick %" PRId64 " ms",
            r->b, r->b == 1 ? "" : "s", r->c ? " plus observers" : "", r->a, r->d);
        return;
    }
    if (r->node > 0 && r->kind >= TRD_STARTED)
        on_replica(n, r);
    else if (r->kind == TRD_C_SESSION)
        on_client_session(n, r);
    else if (r->kind != TRD_SEND && r->kind != TRD_RECV && r->kind != TRD_CONN_BROKEN &&
             r->kind != TRD_FAULT && r->kind != TRD_PROPOSE && r->kind != TRD_OTHER &&
             r->kind != TRD_C_SEND && r->kind != TRD_C_RECV && r->kind != TRD_C_SESSION)
        on_fault(n, r);
}

static void explain_violation(struct narr *n)
{
    const struct rep_violation *v = n->o ? n->o->violation : NULL;
    if (!v)
        return;
    char who[256] = "";
    int nodes[REP_VIOLATION_NODES_MAX], k = 0;
    for (int i = 0; i < v->n_nodes && i < REP_VIOLATION_NODES_MAX; i++) {
        bool dup = false;
        for (int j = 0; j < k; j++)
            dup |= nodes[j] == v->nodes[i];
        if (!dup && v->nodes[i] > 0)
            nodes[k++] = v->nodes[i];
    }
    if (k > 0)
        names_list(who, sizeof who, nodes, k);
    emit_raw(n, "VIOLATION of %s%s%s: %s.", v->property ? v->property : "a property",
             who[0] ? " involving " : "", who, rep_property_explained(v->property));
    if (v->t_ns >= 0)
        emit_raw(n, "  when: t=%.3fs", (double)v->t_ns / 1e9);
    if (v->detail && v->detail[0])
        emit_raw(n, "  the checker says: %s", v->detail);
    for (size_t i = 0; i < v->n_ops && i < 32; i++)
        emit_raw(n, "  client operation #%u is part of it", v->ops[i]);
}

static void finish(struct narr *n)
{
    group_flush(n);
    commits_flush_when(n, true);
    fold_flush(n);
    if (n->leaderless_since >= 0)
        n->leaderless_ns += n->t_end - n->leaderless_since;
    emit_raw(n, "t=%.3fs the run ends: %" PRIu64 " txns committed; highest epoch %u; %" PRIu64
                " server elections started; %.3fs in all without an established leader",
             (double)n->t_end / 1e9, n->commits, n->max_epoch, n->elections, (double)n->leaderless_ns / 1e9);
    explain_violation(n);
    if (n->omitted)
        fprintf(n->out, "(%zu more lines left out; the limit is %zu)\n", n->omitted, n->max_lines);
}

int rep_narrate(FILE *trace, FILE *out, const struct rep_narrate_opts *opts, char *err, size_t errlen)
{
    struct narr *n = calloc(1, sizeof *n);
    struct trd_reader *rd = malloc(sizeof *rd);
    if (!n || !rd) {
        free(n), free(rd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n->out = out, n->o = opts;
    n->max_lines = opts && opts->max_lines ? opts->max_lines : 20000;
    n->leaderless_since = 0;
    for (int i = 0; i < SHAPES; i++)
        n->shape_t[i] = -1;
    trd_init(rd, trace, opts && opts->trace_name ? opts->trace_name : "trace");
    struct trd_rec rec;
    int rc;
    while ((rc = trd_next(rd, &rec, err, errlen)) == 1)
        on_record(n, &rec);
    if (rc == 0) {
        mark_violation(n, INT64_MAX);
        finish(n);
    }
    free(rd);
    free(n);
    return rc < 0 ? -1 : 0;
}
