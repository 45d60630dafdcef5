/* One scenario run: settings -> cluster, timeline -> faults, expectations ->
 * verdicts. Timeline events are scheduled one firing at a time (event index
 * in `a`, firing number in `b`), so a long `every` costs one queue slot. */
#include "sim/scenario_run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "core/zab_common.h"
#include "core/zab_msg.h"

enum { SEV_TIMELINE = CEV_FAULT, SEV_UNDO_FULL, SEV_LEADER_DEADLINE };

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
            snprintf(err, errlen, "%s: unknown bug '%s' (see 'zablab bugs')", s->filename,
                     s->bugs[i]);
            return -1;
        }
    if (s->voters + s->observers > CLUSTER_SERVERS_MAX) {
        snprintf(err, errlen, "%s: at most %d servers are simulated", s->filename,
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
            if (cluster_is_up(c, id) && c->reps[id].state == REP_LEADING)
                l = id;
        if (l)
            ids[k++] = l;
        return k;
    }
    case SCN_TGT_FOLLOWER:
    case SCN_TGT_FOLLOWERS:
        for (int id = 1; id <= c->n; id++)
            if (cluster_is_up(c, id) && c->reps[id].state == REP_FOLLOWING)
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

static void partition(struct srun *sr, const struct scn_event *ev)
{
    int group_of[CLUSTER_SERVERS_MAX + 1];
    for (int id = 1; id <= sr->c->n; id++) {
        group_of[id] = ev->group_count; /* unlisted servers form one more side */
        for (int g = 0; g < ev->group_count; g++)
            if (ev->group_mask[g] & (1u << id))
                group_of[id] = g;
    }
    cluster_partition(sr->c, group_of);
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
            cluster_disturbed(c, "slow-disk");
            break;
        case SCN_ACT_DISK_FULL:
            disk_set_full(&c->disks[id], true);
            sim_sched_after(&c->sched, ev->duration_ns, SEV_UNDO_FULL, -1, (uint64_t)id, 0);
            cluster_disturbed(c, "disk-full");
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
    int n = resolve(sr, &ev->target, ids);
    if (ev->action == SCN_ACT_ISOLATE) {
        isolate(sr, ids, n);
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
