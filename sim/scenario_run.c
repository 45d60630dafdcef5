/* One scenario run: settings -> cluster, timeline -> faults, expectations ->
 * verdicts. Timeline events are scheduled one firing at a time (event index
 * in `a`, firing number in `b`), so a long `every` costs one queue slot. */
#include "sim/scenario_run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "check/zk_consistency.h"
#include "core/zab_common.h"
#include "core/zab_msg.h"
#include "sim/client.h"
#include "sim/recipes.h"
#include "sim/workload.h"

enum { SEV_TIMELINE = CEV_USER, SEV_UNDO_FULL, SEV_LEADER_DEADLINE };

#define WINDOWS_MAX 64
#define DEFAULT_NET_LATENCY "uniform 200us 2ms"
#define DEFAULT_FSYNC_LATENCY "uniform 500us 3ms"
#define DEFAULT_WRITE_LATENCY "constant 50us"

struct point_arm { int id; enum scn_crash_point point; uint32_t left; };

struct leader_window { sim_time_ns deadline; bool satisfied, judged; int expect; };

struct srun {
    const struct scenario *s;
    struct cluster *c;
    struct point_arm arms[SCN_MAX_EVENTS];
    int n_arms;
    struct leader_window windows[WINDOWS_MAX];
    int n_windows;
    bool leader_fail;
    char leader_detail[200];
    /* zk mode: clients, workload, recipes and their verdicts */
    struct sim_clients *cs;
    struct workload *wl;
    struct recipes *rec;
    enum srun_verdict zk_verdict, nlw_verdict;
    char zk_detail[200], nlw_detail[200];
};

uint64_t srun_scenario_hash(const struct scenario *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    uint64_t h = 0xcbf29ce484222325ull;
    if (f) {
        scn_print(s, f);
        fclose(f);
        for (size_t i = 0; i < len; i++)
            h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ull;
    }
    free(buf);
    return h;
}

static int parse_latency(const struct scenario *s, const struct scn_text *t, const char *dflt,
                         struct net_latency *out, char *err, size_t errlen)
{
    char msg[160];
    size_t col = 0;
    const char *spec = t->text[0] ? t->text : dflt;
    if (net_latency_parse(out, spec, msg, sizeof msg, &col) == 0)
        return 0;
    if (t->text[0])
        scn_text_error(s, t, (int)col, msg, err, errlen);
    else
        snprintf(err, errlen, "internal default latency '%s': %s", dflt, msg);
    return -1;
}

int srun_validate(const struct scenario *s, char *err, size_t errlen)
{
    struct net_latency lat;
    if (parse_latency(s, &s->net_latency, DEFAULT_NET_LATENCY, &lat, err, errlen) ||
        parse_latency(s, &s->disk_fsync_latency, DEFAULT_FSYNC_LATENCY, &lat, err, errlen) ||
        parse_latency(s, &s->disk_write_latency, DEFAULT_WRITE_LATENCY, &lat, err, errlen))
        return -1;
    for (int i = 0; i < s->link_count; i++)
        if ((s->links[i].fields & SCN_LINK_LATENCY) &&
            parse_latency(s, &s->links[i].latency, DEFAULT_NET_LATENCY, &lat, err, errlen))
            return -1;
    for (int i = 0; i < s->bug_count; i++)
        if (zab_bug_lookup(s->bugs[i]) < 0) {
            snprintf(err, errlen, "%.200s: unknown bug '%s' (see 'zablab bugs')", s->filename,
                     s->bugs[i]);
            return -1;
        }
    if (s->voters + s->observers > CLUSTER_SERVERS_MAX) {
        snprintf(err, errlen, "%.200s: at most %d servers are simulated", s->filename,
                 CLUSTER_SERVERS_MAX);
        return -1;
    }
    return 0;
}

/* ---- targets ---- */

static void shuffle(struct cluster *c, int *ids, int k)
{
    for (int i = k - 1; i > 0; i--) {
        int j = (int)sim_rng_below(&c->rng_faults, (uint64_t)i + 1);
        int t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }
}

/* Resolves a target into ids (returns how many). */
static int resolve(struct srun *sr, const struct scn_target *t, int *ids)
{
    struct cluster *c = sr->c;
    int k = 0, voters = c->cfg.voters;
    switch (t->kind) {
    case SCN_TGT_IDS:
        for (int id = 1; id <= c->n; id++)
            if (t->ids_mask & (1u << id))
                ids[k++] = id;
        return k;
    case SCN_TGT_LEADER: {
        int l = cluster_leader(c);
        for (int id = 1; !l && id <= c->n; id++)
            if (cluster_is_up(c, id) && cluster_rep(c, id)->state == REP_LEADING)
                l = id;
        if (l)
            ids[k++] = l;
        return k;
    }
    case SCN_TGT_FOLLOWER:
    case SCN_TGT_FOLLOWERS:
        for (int id = 1; id <= c->n; id++)
            if (cluster_is_up(c, id) && cluster_rep(c, id)->state == REP_FOLLOWING)
                ids[k++] = id;
        shuffle(c, ids, k);
        return t->kind == SCN_TGT_FOLLOWER && k > 1 ? 1 : k;
    case SCN_TGT_MINORITY:
    case SCN_TGT_MAJORITY:
        for (int id = 1; id <= voters; id++)
            ids[k++] = id;
        shuffle(c, ids, k);
        return t->kind == SCN_TGT_MINORITY ? (voters - 1) / 2 : voters / 2 + 1;
    case SCN_TGT_RANDOM:
        for (int id = 1; id <= c->n; id++)
            ids[k++] = id;
        shuffle(c, ids, k);
        return (int)t->count < k ? (int)t->count : k;
    case SCN_TGT_ALL:
    default:
        for (int id = 1; id <= c->n; id++)
            ids[k++] = id;
        return k;
    }
}

static enum disk_crash_mode crash_mode(struct srun *sr)
{
    double u = sim_rng_uniform(&sr->c->rng_faults);
    double torn = sr->s->disk_torn_write_ppb / 1e9, lost = sr->s->disk_lost_write_ppb / 1e9;
    return u < torn ? DISK_CRASH_TORN : u < torn + lost ? DISK_CRASH_DROP : DISK_CRASH_KEEP;
}

/* SCN message kinds that exist on zablab's peer wire, as a net kind mask. */
static uint64_t msg_mask(enum scn_msg_kind k)
{
    static const int map[SCN_MSG_COUNT_] = {
        [SCN_MSG_VOTE] = ZAB_MSG_NOTIFICATION, [SCN_MSG_PROPOSAL] = ZAB_MSG_PROPOSAL,
        [SCN_MSG_ACK] = ZAB_MSG_ACK, [SCN_MSG_COMMIT] = ZAB_MSG_COMMIT,
        [SCN_MSG_PING] = ZAB_MSG_PING, [SCN_MSG_INFORM] = ZAB_MSG_INFORM,
        [SCN_MSG_NEWLEADER] = ZAB_MSG_NEWLEADER, [SCN_MSG_FOLLOWERINFO] = ZAB_MSG_FOLLOWERINFO,
        [SCN_MSG_UPTODATE] = ZAB_MSG_UPTODATE, [SCN_MSG_DIFF] = ZAB_MSG_DIFF,
        [SCN_MSG_TRUNC] = ZAB_MSG_TRUNC, [SCN_MSG_SNAP] = ZAB_MSG_SNAP,
        [SCN_MSG_LEADERINFO] = ZAB_MSG_LEADERINFO, [SCN_MSG_ACKEPOCH] = ZAB_MSG_ACKEPOCH,
    };
    if (k == SCN_MSG_ANY)
        return NET_KIND_ANY;
    return map[k] ? (1ull << map[k]) : 0;
}

/* ---- the timeline ---- */

/* Clients a scenario names: c1 is client index 0. Names beyond the run's
 * clients (a bare-mode run of a scenario with clients) are ignored. */
static void partition(struct srun *sr, const struct scn_event *ev)
{
    int group_of[CLUSTER_SERVERS_MAX + 1];
    for (int id = 1; id <= sr->c->n; id++) {
        group_of[id] = ev->group_count; /* unlisted servers form one more side */
        for (int g = 0; g < ev->group_count; g++)
            if (ev->group_mask[g] & (1u << id))
                group_of[id] = g;
    }
    if (ev->client_count == 0) {
        cluster_partition(sr->c, group_of);
        return;
    }
    int client_group[CLUSTER_CLIENTS_MAX];
    int n = sr->c->cfg.clients < CLUSTER_CLIENTS_MAX ? sr->c->cfg.clients : CLUSTER_CLIENTS_MAX;
    for (int k = 0; k < n; k++)
        client_group[k] = NET_GROUP_NONE;
    for (int i = 0; i < ev->client_count; i++)
        if (ev->clients[i].client <= n)
            client_group[ev->clients[i].client - 1] = ev->clients[i].group;
    cluster_partition_clients(sr->c, group_of, client_group);
}

/* `isolate c1,c2`: each client cut off from every server until a heal. */
static void isolate_clients(struct srun *sr, const struct scn_event *ev)
{
    for (int i = 0; i < ev->client_count; i++)
        if (ev->clients[i].client <= sr->c->cfg.clients)
            cluster_isolate_client(sr->c, ev->clients[i].client - 1);
}

static void isolate(struct srun *sr, const int *ids, int k)
{
    int group_of[CLUSTER_SERVERS_MAX + 1];
    for (int id = 1; id <= sr->c->n; id++)
        group_of[id] = 0;
    for (int i = 0; i < k; i++)
        group_of[ids[i]] = 1 + i; /* each target alone */
    cluster_partition(sr->c, group_of);
}

static void open_leader_windows(struct srun *sr, enum scn_anchor anchor)
{
    struct cluster *c = sr->c;
    for (int i = 0; i < sr->s->expect_count && sr->n_windows < WINDOWS_MAX; i++) {
        const struct scn_expect *e = &sr->s->expects[i];
        if (e->kind != SCN_EXPECT_LEADER_WITHIN || e->anchor != anchor)
            continue;
        struct leader_window *w = &sr->windows[sr->n_windows];
        *w = (struct leader_window){.deadline = c->sched.now + e->within_ns,
                                    .satisfied = cluster_leader(c) != 0, .expect = i};
        sim_sched_push(&c->sched, w->deadline, SEV_LEADER_DEADLINE, -1, (uint64_t)sr->n_windows, 0);
        sr->n_windows++;
    }
}

static void fire_on(struct srun *sr, const struct scn_event *ev, const int *ids, int k)
{
    struct cluster *c = sr->c;
    int to[CLUSTER_SERVERS_MAX + 1], kt = 0;
    if (ev->action == SCN_ACT_ONE_WAY || ev->action == SCN_ACT_HOLD || ev->action == SCN_ACT_RELEASE)
        kt = resolve(sr, &ev->target_to, to);
    for (int i = 0; i < k; i++) {
        int id = ids[i];
        switch (ev->action) {
        case SCN_ACT_CRASH: cluster_crash(c, id, crash_mode(sr)); break;
        case SCN_ACT_TORN_WRITE: cluster_crash(c, id, DISK_CRASH_TORN); break;
        case SCN_ACT_RESTART: cluster_restart(c, id); break;
        case SCN_ACT_PAUSE: cluster_pause(c, id, ev->duration_ns); break;
        case SCN_ACT_SKEW: cluster_skew(c, id, ev->skew_ns); break;
        case SCN_ACT_DRIFT: cluster_drift(c, id, ev->drift_ppm); break;
        case SCN_ACT_SLOW_DISK:
            disk_slow(&c->disks[id], (double)ev->factor, c->sched.now + ev->duration_ns);
            cluster_disturbed(c, "slow-disk", id);
            break;
        case SCN_ACT_DISK_FULL:
            disk_set_full(&c->disks[id], true);
            sim_sched_after(&c->sched, ev->duration_ns, SEV_UNDO_FULL, -1, (uint64_t)id, 0);
            cluster_disturbed(c, "disk-full", id);
            break;
        case SCN_ACT_CRASH_AT_POINT:
            if (sr->n_arms < SCN_MAX_EVENTS)
                sr->arms[sr->n_arms++] = (struct point_arm){id, ev->point, ev->point_count ? ev->point_count : 1};
            break;
        case SCN_ACT_ONE_WAY:
            for (int j = 0; j < kt; j++)
                if (to[j] != id)
                    cluster_block(c, id, to[j]);
            break;
        case SCN_ACT_HOLD:
        case SCN_ACT_RELEASE:
            for (int j = 0; j < kt; j++) {
                if (to[j] == id)
                    continue;
                if (ev->action == SCN_ACT_HOLD)
                    net_hold(&c->net, id - 1, to[j] - 1, msg_mask(ev->msg_kind));
                else
                    net_release(&c->net, c->sched.now, id - 1, to[j] - 1, msg_mask(ev->msg_kind));
            }
            sim_trace_event(&c->trace, c->sched.now, id, ev->action == SCN_ACT_HOLD ? "hold" : "release",
                            "\"msg\":\"%s\"", scn_msg_kind_name(ev->msg_kind));
            break;
        default: break;
        }
    }
}

static void fire(struct srun *sr, int index, uint32_t k)
{
    struct cluster *c = sr->c;
    const struct scn_event *ev = &sr->s->events[index];
    uint64_t next;
    if (scn_event_firing_ns(sr->s, ev, k + 1, &next))
        sim_sched_push(&c->sched, next, SEV_TIMELINE, -1, (uint64_t)index, k + 1);
    int ids[CLUSTER_SERVERS_MAX + 1];
    switch (ev->action) {
    case SCN_ACT_PARTITION: partition(sr, ev); return;
    case SCN_ACT_HEAL:
        cluster_heal(c);
        open_leader_windows(sr, SCN_ANCHOR_HEAL);
        return;
    case SCN_ACT_CLOG: cluster_clog(c, ev->link_a, ev->link_b, ev->delay_ns, ev->duration_ns); return;
    case SCN_ACT_DROP: cluster_drop(c, ev->link_a, ev->link_b); return;
    default: break;
    }
    if (ev->target.kind == SCN_TGT_LOCK_HOLDER) {   /* a client, not a server */
        int holder = recipes_lock_holder(sr->rec);
        if (holder >= 0)
            cluster_isolate_client(c, holder);
        else
            sim_trace_event(&c->trace, c->sched.now, -1, "no-target",
                            "\"action\":\"isolate lock-holder\"");
        return;
    }
    int n = resolve(sr, &ev->target, ids);
    if (ev->action == SCN_ACT_ISOLATE) {
        if (n > 0 || ev->client_count == 0)
            isolate(sr, ids, n);
        isolate_clients(sr, ev);
        return;
    }
    if (n == 0)
        sim_trace_event(&c->trace, c->sched.now, -1, "no-target", "\"action\":\"%s\"",
                        scn_action_name(ev->action));
    fire_on(sr, ev, ids, n);
}

static void judge_window(struct srun *sr, int w)
{
    struct leader_window *lw = &sr->windows[w];
    if (lw->judged)
        return;
    lw->judged = true;
    if (lw->satisfied || cluster_leader(sr->c))
        return;
    if (!sr->leader_fail)
        snprintf(sr->leader_detail, sizeof sr->leader_detail,
                 "no leader was established by t=%.3fs", (double)lw->deadline / 1e9);
    sr->leader_fail = true;
}

static void on_user_event(void *ctx, struct cluster *c, const struct sim_event *ev)
{
    struct srun *sr = ctx;
    switch (ev->kind) {
    case SEV_TIMELINE: fire(sr, (int)ev->a, (uint32_t)ev->b); break;
    case SEV_UNDO_FULL: disk_set_full(&c->disks[ev->a], false); break;
    case SEV_LEADER_DEADLINE: judge_window(sr, (int)ev->a); break;
    default: break;
    }
}

/* ---- scripted crashes at protocol points ---- */

static bool has_event(const struct replica_out *out, int kind, int64_t a)
{
    for (uint32_t i = 0; i < out->n_events; i++)
        if (out->events[i].kind == kind && (a < 0 || out->events[i].a == (uint64_t)a))
            return true;
    return false;
}

static bool sent_kind(const struct replica_out *out, int kind)
{
    for (uint32_t i = 0; i < out->n_actions; i++)
        if (out->actions[i].kind == REP_ACT_SEND && out->actions[i].len &&
            out->actions[i].bytes[0] == kind)
            return true;
    return false;
}

static bool issued(const struct replica_out *out, int action)
{
    for (uint32_t i = 0; i < out->n_actions; i++)
        if (out->actions[i].kind == action)
            return true;
    return false;
}

static bool epoch_write_issued(const struct replica_out *out, int which)
{
    for (uint32_t i = 0; i < out->n_actions; i++)
        if (out->actions[i].kind == REP_ACT_EPOCH_WRITE && out->actions[i].which == which)
            return true;
    return false;
}

/* Whether the step sent an ACK for exactly this zxid (the NEWLEADER ACK is
 * the ACK of (epoch, 0); proposal ACKs may share its step). */
static bool sent_ack_of(const struct replica_out *out, uint64_t zxid)
{
    for (uint32_t i = 0; i < out->n_actions; i++) {
        const struct rep_action *a = &out->actions[i];
        struct zab_msg m;
        if (a->kind == REP_ACT_SEND && a->len && a->bytes[0] == ZAB_MSG_ACK &&
            zab_msg_decode(a->bytes, a->len, &m, NULL, 0) == 0 && m.zxid == zxid)
            return true;
    }
    return false;
}

/* Whether this step is the protocol point. "Sent" points crash in the step
 * that sent the message: it is then in flight and dies with the crash. */
static bool at_point(enum scn_crash_point p, const struct replica *r,
                     const struct cluster_cause *cause, const struct replica_out *out)
{
    int got = cause->kind == CC_MESSAGE && cause->msg_len ? cause->msg[0] : 0;
    bool follower = r->state == REP_FOLLOWING || r->state == REP_OBSERVING;
    bool leader = r->state == REP_LEADING;
    switch (p) {
    case SCN_POINT_AFTER_VOTE_SENT: return sent_kind(out, ZAB_MSG_NOTIFICATION);
    case SCN_POINT_AFTER_LEADERINFO_RECEIVED: return got == ZAB_MSG_LEADERINFO;
    /* The leader persists acceptedEpoch too, when it chooses the epoch: not this point. */
    case SCN_POINT_AFTER_ACCEPTED_EPOCH_PERSISTED:
        return follower && has_event(out, REP_EV_EPOCH_ACCEPTED, -1);
    case SCN_POINT_AFTER_ACKEPOCH_SENT: return sent_kind(out, ZAB_MSG_ACKEPOCH);
    /* The step that issues the currentEpoch write; the acceptedEpoch write
     * when the epoch is chosen (a FOLLOWERINFO quorum) comes earlier. */
    case SCN_POINT_AFTER_EPOCH_QUORUM:
        return leader && epoch_write_issued(out, REP_EPOCH_CURRENT) && r->epoch_proposed &&
               r->current_epoch < r->epoch_proposed;
    case SCN_POINT_AFTER_SYNC_SENT: return has_event(out, REP_EV_SYNC_SENT, -1);
    case SCN_POINT_AFTER_DIFF_RECEIVED: return got == ZAB_MSG_DIFF;
    case SCN_POINT_AFTER_TRUNC_RECEIVED: return got == ZAB_MSG_TRUNC;
    case SCN_POINT_AFTER_SNAP_RECEIVED: return got == ZAB_MSG_SNAP;
    case SCN_POINT_AFTER_NEWLEADER_RECEIVED: return got == ZAB_MSG_NEWLEADER;
    case SCN_POINT_AFTER_CURRENT_EPOCH_PERSISTED:
        return follower && has_event(out, REP_EV_EPOCH_CURRENT, -1);
    /* By the ACK itself: with BUG_EPOCH_BEFORE_FSYNC it follows an fsync,
     * not the currentEpoch write. */
    case SCN_POINT_AFTER_NEWLEADER_ACK_SENT:
        return follower && r->follow_epoch &&
               sent_ack_of(out, zxid_make((uint32_t)r->follow_epoch, 0));
    case SCN_POINT_AFTER_UPTODATE_RECEIVED: return got == ZAB_MSG_UPTODATE;
    /* A new proposal, not the PROPOSALs of a sync stream. */
    case SCN_POINT_AFTER_PROPOSAL_SENT:
        return leader && has_event(out, REP_EV_PROPOSED, -1) && sent_kind(out, ZAB_MSG_PROPOSAL);
    case SCN_POINT_AFTER_PROPOSAL_RECEIVED: return got == ZAB_MSG_PROPOSAL;
    case SCN_POINT_AFTER_FSYNC_BEFORE_ACK:
        return follower && cause->kind == CC_DISK && cause->disk_op == DISK_OP_FSYNC;
    case SCN_POINT_AFTER_ACK_SENT: return follower && sent_kind(out, ZAB_MSG_ACK);
    case SCN_POINT_AFTER_COMMIT_QUORUM:
        return r->state == REP_LEADING && has_event(out, REP_EV_COMMITTED, -1);
    case SCN_POINT_AFTER_COMMIT_SENT: return sent_kind(out, ZAB_MSG_COMMIT);
    case SCN_POINT_AFTER_COMMIT_RECEIVED: return got == ZAB_MSG_COMMIT;
    case SCN_POINT_DURING_SNAPSHOT_WRITE: return issued(out, REP_ACT_SNAPSHOT_WRITE);
    default: return false;
    }
}

static void on_step(void *ctx, struct cluster *c, int id, const struct cluster_cause *cause,
                    const struct replica_out *out)
{
    struct srun *sr = ctx;
    if (has_event(out, REP_EV_ESTABLISHED, -1))
        for (int w = 0; w < sr->n_windows; w++)
            if (!sr->windows[w].judged)
                sr->windows[w].satisfied = true;
    for (int i = 0; i < sr->n_arms; i++) {
        struct point_arm *a = &sr->arms[i];
        if (a->id != id || !a->left || !at_point(a->point, cluster_rep(c, id), cause, out))
            continue;
        a->left--;
        sim_trace_event(&c->trace, c->sched.now, id, "crash-point", "\"point\":\"%s\"",
                        scn_crash_point_name(a->point));
        cluster_crash_after_step(c, id, crash_mode(sr));
        return;
    }
}

/* ---- building and judging ---- */

static int build_config(const struct scenario *s, const struct srun_options *opt,
                        struct cluster_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = opt->seed_given ? opt->seed : s->seed;
    cfg->voters = s->voters;
    cfg->observers = s->observers;
    cfg->tick_ms = (uint32_t)(s->tick_ns / SIM_NS_PER_MS);
    cfg->init_limit = (uint32_t)s->init_limit;
    cfg->sync_limit = (uint32_t)s->sync_limit;
    cfg->bugs = opt->extra_bugs;
    for (int i = 0; i < s->bug_count; i++)
        cfg->bugs |= ZAB_BUG_BIT(zab_bug_lookup(s->bugs[i]));
    cfg->loss_p = s->net_loss_ppb / 1e9;
    cfg->run_ns = s->run_ns;
    cfg->propose_rate_per_s = s->clients > 0 ? s->rate_per_s : 0;
    cfg->trace_out = opt->trace_out;
    cfg->no_invariants = opt->no_invariants;
    int recipe_clients = 0;
    for (int i = 0; i < s->recipe_count; i++)
        recipe_clients += (int)s->recipes[i].clients;
    cfg->zk = opt->zk_mode > 0 || (opt->zk_mode == 0 && (s->clients > 0 || s->recipe_count > 0));
    cfg->clients = cfg->zk ? s->clients + recipe_clients : 0;
    for (int i = 0; i < s->expect_count; i++)
        if (s->expects[i].kind == SCN_EXPECT_PROGRESS_WITHIN)
            cfg->liveness_bound_ns = s->expects[i].within_ns;
    if (cfg->tick_ms == 0) {
        snprintf(err, errlen, "%.200s: tick must be at least 1ms", s->filename);
        return -1;
    }
    return parse_latency(s, &s->net_latency, DEFAULT_NET_LATENCY, &cfg->net_latency, err, errlen) ||
           parse_latency(s, &s->disk_fsync_latency, DEFAULT_FSYNC_LATENCY, &cfg->disk_fsync_latency, err, errlen) ||
           parse_latency(s, &s->disk_write_latency, DEFAULT_WRITE_LATENCY, &cfg->disk_write_latency, err, errlen);
}

static void apply_links(const struct scenario *s, struct cluster *c)
{
    for (int i = 0; i < s->link_count; i++) {
        const struct scn_link *l = &s->links[i];
        struct net_latency lat;
        char msg[160];
        size_t col;
        if ((l->fields & SCN_LINK_LATENCY) &&
            net_latency_parse(&lat, l->latency.text, msg, sizeof msg, &col) == 0) {
            net_set_latency(&c->net, l->a - 1, l->b - 1, &lat);
            net_set_latency(&c->net, l->b - 1, l->a - 1, &lat);
        }
        if (l->fields & SCN_LINK_LOSS) {
            net_set_loss(&c->net, l->a - 1, l->b - 1, l->loss_ppb / 1e9);
            net_set_loss(&c->net, l->b - 1, l->a - 1, l->loss_ppb / 1e9);
        }
    }
    if (s->net_duplicate_ppb || s->net_reorder_ppb)
        net_set_broken(&c->net, s->net_duplicate_ppb / 1e9, s->net_reorder_ppb / 1e9);
}

static void commit_latency(struct cluster *c, struct srun_result *res)
{
    size_t n = c->commit_lat_n;
    if (!n)
        return;
    gsl_sort(c->commit_lat_us, 1, n);
    res->commit_p50_us = gsl_stats_quantile_from_sorted_data(c->commit_lat_us, 1, n, 0.5);
    res->commit_p99_us = gsl_stats_quantile_from_sorted_data(c->commit_lat_us, 1, n, 0.99);
    res->commit_max_us = c->commit_lat_us[n - 1];
}

static bool lost_write(const char *property)
{
    return !strcmp(property, "LEADER_COMPLETE") || !strcmp(property, "AGREEMENT") ||
           !strcmp(property, "STATE_DIGEST");
}

static void judge(const struct srun *sr, struct srun_result *res)
{
    bool expects_violation = false;
    res->all_pass = true;
    res->n_expect = sr->s->expect_count;
    for (int i = 0; i < sr->s->expect_count; i++) {
        const struct scn_expect *e = &sr->s->expects[i];
        struct srun_expect_result *x = &res->expects[i];
        x->kind = e->kind;
        x->verdict = SRUN_PASS;
        switch (e->kind) {
        case SCN_EXPECT_SAFETY:
        case SCN_EXPECT_PROGRESS_WITHIN:
            if (res->violated)
                x->verdict = SRUN_FAIL;
            break;
        case SCN_EXPECT_NO_LOST_WRITES:
            if (res->violated && lost_write(res->property))
                x->verdict = SRUN_FAIL;
            else if (sr->cs) {
                x->verdict = sr->nlw_verdict;
                snprintf(x->detail, sizeof x->detail, "%s", sr->nlw_detail);
            }
            break;
        case SCN_EXPECT_LINEARIZABLE:
        case SCN_EXPECT_ZK_CONSISTENCY:
            x->verdict = sr->cs ? sr->zk_verdict : SRUN_NOT_JUDGED;
            if (!sr->cs)
                snprintf(x->detail, sizeof x->detail, "needs recorded client operations; this "
                         "run drives the core with opaque proposals");
            else if (e->kind == SCN_EXPECT_LINEARIZABLE) /* ZooKeeper promises it for writes */
                snprintf(x->detail, sizeof x->detail, "writes, by the zk checker: %.150s",
                         sr->zk_detail);
            else
                snprintf(x->detail, sizeof x->detail, "%s", sr->zk_detail);
            break;
        case SCN_EXPECT_LEADER_WITHIN:
            if (sr->leader_fail) {
                x->verdict = SRUN_FAIL;
                snprintf(x->detail, sizeof x->detail, "%s", sr->leader_detail);
            }
            break;
        case SCN_EXPECT_VIOLATION:
            x->verdict = res->violated ? SRUN_PASS : SRUN_FAIL;
            if (!res->violated)
                snprintf(x->detail, sizeof x->detail, "the run found no violation");
            break;
        default:
            x->verdict = recipes_judge(sr->rec, e->kind, x->detail, sizeof x->detail);
            break;
        }
        if (x->verdict == SRUN_FAIL)
            res->all_pass = false;
        if (e->kind == SCN_EXPECT_VIOLATION)
            expects_violation = true;
    }
    /* Safety is always judged; only `expect violation` makes one welcome. */
    if (res->violated && !expects_violation)
        res->all_pass = false;
}

static void collect(struct cluster *c, struct srun_result *res)
{
    const struct chk_violation *v = c->chk.failed ? &c->chk.violation
                                  : c->liveness_failed ? &c->liveness : NULL;
    if (v) {
        res->violated = true;
        snprintf(res->property, sizeof res->property, "%s", v->property);
        snprintf(res->detail, sizeof res->detail, "%s", v->detail);
        res->violation_t_ns = v->t_ns;
        res->violation_nodes[0] = v->nodes[0];
        res->violation_nodes[1] = v->nodes[1];
    }
    res->internal_error = c->internal_error;
    if (c->internal_error)
        snprintf(res->err, sizeof res->err, "%s", c->err);
    res->trace_hash = sim_trace_hash(&c->trace);
    res->sim_ns = c->sched.now;
    res->events = c->stats.events;
    res->commits = chk_zab_committed(&c->chk);
    res->stats = c->stats;
    res->faults_injected = c->stats.faults;
    res->n_faults = c->n_fault_recs;
    memcpy(res->faults, c->fault_recs, c->n_fault_recs * sizeof c->fault_recs[0]);
    commit_latency(c, res);
}

/* ---- zk mode: clients, workload, recipes ---- */

static int start_clients(struct srun *sr, const struct srun_options *opt, char *err, size_t errlen)
{
    const struct scenario *s = sr->s;
    int32_t timeout_ms = (int32_t)(s->session_timeout_ns / SIM_NS_PER_MS);
    sr->cs = simc_new(sr->c, sr->c->cfg.clients, timeout_ms > 0 ? timeout_ms : 4000,
                      opt->history_out);
    if (!sr->cs) {
        snprintf(err, errlen, "%.200s: cannot create %d simulated clients", s->filename,
                 sr->c->cfg.clients);
        return -1;
    }
    if (s->clients > 0) {
        struct workload_config wc = {.keys = s->keys ? s->keys : 1,
                                     .rate_per_s = s->rate_per_s ? s->rate_per_s : 1,
                                     .watch_p = 0.2};
        memcpy(wc.weight, s->mix_weight, sizeof wc.weight);
        sr->wl = wl_new(sr->cs, 0, s->clients, &wc);
        if (!sr->wl) {
            snprintf(err, errlen, "%.200s: bad workload (keys 1..%d, a positive rate and mix)",
                     s->filename, WL_KEYS_MAX);
            return -1;
        }
        wl_start(sr->wl);
    }
    /* Recipes attach here; sim/recipes.h belongs to the recipes engineer. */
    if (s->recipe_count > 0 && recipes_attach(s, sr->cs, s->clients, opt->history_out, &sr->rec,
                                                  err, errlen) != 0)
        return -1;
    return 0;
}

static void stop_clients(struct srun *sr)
{
    recipes_free(sr->rec);
    wl_free(sr->wl);
    simc_free(sr->cs);
    sr->rec = NULL;
    sr->wl = NULL;
    sr->cs = NULL;
}

/* ZooKeeper's contract on the recorded history (writes linearizable,
 * ordered sequential consistency for the rest), with the zxid witness. */
static void judge_history(struct srun *sr)
{
    struct chk_history *h = simc_history(sr->cs);
    char err[256];
    sr->zk_verdict = SRUN_NOT_JUDGED;
    if (chk_history_pair(h, err, sizeof err) != 0) {
        snprintf(sr->zk_detail, sizeof sr->zk_detail, "history does not pair: %.150s", err);
        return;
    }
    static struct chk_zk_result zr; /* large message buffer */
    struct chk_zk_opts zo = {.sync_mode = CHK_SYNC_ZK, .budget_ms = 10000};
    enum chk_verdict v = chk_zk_check(h, &zo, &zr);
    sr->zk_verdict = v == CHK_VERDICT_OK ? SRUN_PASS
                   : v == CHK_VERDICT_VIOLATION ? SRUN_FAIL : SRUN_NOT_JUDGED;
    snprintf(sr->zk_detail, sizeof sr->zk_detail, "%.190s", zr.msg);
}

static void judge_clients(struct srun *sr, struct srun_result *res)
{
    bool judge_zk = false, judge_nlw = false;
    for (int i = 0; i < sr->s->expect_count; i++) {
        enum scn_expect_kind k = sr->s->expects[i].kind;
        judge_zk |= k == SCN_EXPECT_LINEARIZABLE || k == SCN_EXPECT_ZK_CONSISTENCY;
        judge_nlw |= k == SCN_EXPECT_NO_LOST_WRITES;
    }
    if (judge_zk)
        judge_history(sr);
    if (judge_nlw) {
        int v = simc_check_no_lost_writes(sr->cs, sr->nlw_detail, sizeof sr->nlw_detail);
        sr->nlw_verdict = v == 0 ? SRUN_PASS : v == 1 ? SRUN_FAIL : SRUN_NOT_JUDGED;
    }
    const struct simc_stats *st = simc_stats(sr->cs);
    res->zk = true;
    res->client_ok = st->ops_ok;
    res->client_fail = st->ops_fail;
    res->client_info = st->ops_info;
    res->client_watches = st->watches;
    res->client_conn_losses = st->conn_losses;
    res->client_expiries = st->expiries;
    res->acked_writes = simc_acked_count(sr->cs);
    if (sr->wl) {
        const struct wl_stats *ws = wl_stats(sr->wl);
        if (ws->lat_n) {
            gsl_sort(ws->lat_us, 1, ws->lat_n);
            res->op_p50_us = gsl_stats_quantile_from_sorted_data(ws->lat_us, 1, ws->lat_n, 0.5);
            res->op_p99_us = gsl_stats_quantile_from_sorted_data(ws->lat_us, 1, ws->lat_n, 0.99);
        }
    }
}

int srun_run(const struct scenario *s, const struct srun_options *opt, struct srun_result *res)
{
    memset(res, 0, sizeof *res);
    struct cluster_config cfg;
    if (build_config(s, opt, &cfg, res->err, sizeof res->err) != 0)
        return -1;
    res->seed = cfg.seed;
    struct cluster *c = malloc(sizeof *c);
    struct srun *sr = calloc(1, sizeof *sr);
    if (!c || !sr || cluster_init(c, &cfg, res->err, sizeof res->err) != 0) {
        free(c);
        free(sr);
        return -1;
    }
    sr->s = s;
    sr->c = c;
    c->user_event = on_user_event;
    c->step_hook = on_step;
    c->user_ctx = sr;
    apply_links(s, c);
    for (int i = 0; i < s->event_count; i++) {
        uint64_t t;
        if (scn_event_firing_ns(s, &s->events[i], 0, &t))
            sim_sched_push(&c->sched, t, SEV_TIMELINE, -1, (uint64_t)i, 0);
    }
    open_leader_windows(sr, SCN_ANCHOR_START);
    if (cfg.zk && start_clients(sr, opt, res->err, sizeof res->err) != 0) {
        stop_clients(sr);
        cluster_free(c);
        free(c);
        free(sr);
        return -1;
    }
    cluster_run(c);
    if (sr->cs)
        judge_clients(sr, res);
    for (int w = 0; w < sr->n_windows; w++)
        if (sr->windows[w].deadline <= c->sched.now || c->sched.now >= s->run_ns)
            judge_window(sr, w);
    collect(c, res);
    judge(sr, res);
    int rc = res->internal_error ? -1 : 0;
    stop_clients(sr);
    cluster_free(c);
    free(c);
    free(sr);
    return rc;
}
