/* Each chaos tick picks one fault kind and a target from the fault stream,
 * and schedules its undo (restart, heal) a random while later. */
#include "sim/chaos.h"

enum chaos_ev { CH_TICK = CEV_USER, CH_RESTART, CH_HEAL, CH_POWER_ON };

static sim_time_ns draw_gap(struct chaos *ch)
{
    double u = sim_rng_uniform(&ch->c->rng_faults);
    return (sim_time_ns)((0.25 + 1.5 * u) * (double)ch->cfg.mean_gap_ns) + 1;
}

static int random_up(struct chaos *ch)
{
    struct cluster *c = ch->c;
    int ids[CLUSTER_SERVERS_MAX], k = 0;
    for (int id = 1; id <= c->n; id++)
        if (c->nodes[id].up)
            ids[k++] = id;
    return k ? ids[sim_rng_below(&c->rng_faults, (uint64_t)k)] : 0;
}

static enum disk_crash_mode draw_mode(struct chaos *ch)
{
    double u = sim_rng_uniform(&ch->c->rng_faults);
    return u < ch->cfg.torn_p ? DISK_CRASH_TORN
         : u < ch->cfg.torn_p + ch->cfg.drop_p ? DISK_CRASH_DROP
                                               : DISK_CRASH_KEEP;
}

static void do_crash(struct chaos *ch)
{
    struct cluster *c = ch->c;
    int max_down = ch->cfg.max_down ? ch->cfg.max_down : (c->cfg.voters - 1) / 2;
    if (ch->down >= max_down)
        return;
    /* Crash the leader half the time: that is where the bugs live. */
    int id = cluster_leader(c);
    if (!id || sim_rng_chance(&c->rng_faults, 0.5))
        id = random_up(ch);
    if (!id)
        return;
    cluster_crash(c, id, draw_mode(ch));
    ch->down++;
    sim_time_ns later = draw_gap(ch) * 2;
    sim_sched_after(&c->sched, later, CH_RESTART, -1, (uint64_t)id, 0);
}

/* Every server loses power at once: only what was fsynced survives. This
 * is the fault that tells "acknowledged" from "durable". */
static void do_power_loss(struct chaos *ch)
{
    struct cluster *c = ch->c;
    if (ch->powered_off)
        return;
    for (int id = 1; id <= c->n; id++)
        cluster_crash(c, id, draw_mode(ch));
    ch->powered_off = true;
    sim_sched_after(&c->sched, draw_gap(ch), CH_POWER_ON, -1, 0, 0);
}

static void do_partition(struct chaos *ch)
{
    struct cluster *c = ch->c;
    if (ch->partitioned)
        return;
    int group_of[CLUSTER_SERVERS_MAX + 1];
    for (int id = 1; id <= c->n; id++)
        group_of[id] = (int)sim_rng_below(&c->rng_faults, 2);
    cluster_partition(c, group_of);
    ch->partitioned = true;
    sim_sched_after(&c->sched, draw_gap(ch) * 2, CH_HEAL, -1, 0, 0);
}

static void tick(struct chaos *ch)
{
    struct cluster *c = ch->c;
    sim_time_ns next = c->sched.now + draw_gap(ch);
    if (next + ch->cfg.quiet_tail_ns < c->cfg.run_ns)
        sim_sched_push(&c->sched, next, CH_TICK, -1, 0, 0);
    int a = random_up(ch), b = random_up(ch);
    if (sim_rng_chance(&c->rng_faults, ch->cfg.power_loss_p)) {
        do_power_loss(ch);
        return;
    }
    switch (sim_rng_below(&c->rng_faults, 6)) {
    case 0:
    case 1: do_crash(ch); break;
    case 2: do_partition(ch); break;
    case 3:
        if (a && b && a != b)
            cluster_drop(c, a, b);
        break;
    case 4:
        if (a)
            cluster_pause(c, a, (sim_time_ns)c->cfg.tick_ms * SIM_NS_PER_MS *
                                    (1 + sim_rng_below(&c->rng_faults, 2 * c->cfg.sync_limit)));
        break;
    case 5:
        if (a)
            cluster_skew(c, a, (int64_t)sim_rng_below(&c->rng_faults, 500) * (int64_t)SIM_NS_PER_MS);
        break;
    }
}

static void on_event(void *ctx, struct cluster *c, const struct sim_event *ev)
{
    struct chaos *ch = ctx;
    switch (ev->kind) {
    case CH_TICK: tick(ch); break;
    case CH_RESTART:
        if (!ch->powered_off)
            cluster_restart(c, (int)ev->a);
        ch->down--;
        break;
    case CH_POWER_ON:
        for (int id = 1; id <= c->n; id++)
            cluster_restart(c, id);
        ch->powered_off = false;
        break;
    case CH_HEAL:
        cluster_heal(c);
        ch->partitioned = false;
        break;
    default: break;
    }
}

/* Crashes at the protocol steps where ZAB's historical bugs live: around
 * sync, NEWLEADER and the epoch writes. The restart comes a while later. */
static bool at_sync_point(const struct replica_out *out)
{
    for (uint32_t i = 0; i < out->n_events; i++)
        switch (out->events[i].kind) {
        case REP_EV_SYNC_RECEIVED:
        case REP_EV_EPOCH_CURRENT:
        case REP_EV_EPOCH_ACCEPTED:
        case REP_EV_UPTODATE:
        case REP_EV_ESTABLISHED:
            return true;
        default:
            break;
        }
    return false;
}

static void on_step(void *ctx, struct cluster *c, int id, const struct cluster_cause *cause,
                    const struct replica_out *out)
{
    struct chaos *ch = ctx;
    (void)cause;
    if (!at_sync_point(out))
        return;
    int max_down = ch->cfg.max_down ? ch->cfg.max_down : (c->cfg.voters - 1) / 2;
    if (ch->down >= max_down || ch->powered_off || !sim_rng_chance(&c->rng_faults, ch->cfg.point_crash_p))
        return;
    if (c->sched.now + ch->cfg.quiet_tail_ns >= c->cfg.run_ns)
        return;
    cluster_crash_after_step(c, id, draw_mode(ch));
    ch->down++;
    sim_sched_after(&c->sched, draw_gap(ch), CH_RESTART, -1, (uint64_t)id, 0);
}

void chaos_install(struct chaos *ch, struct cluster *c, const struct chaos_config *cfg)
{
    ch->cfg = *cfg;
    ch->c = c;
    ch->down = 0;
    ch->partitioned = false;
    ch->powered_off = false;
    c->user_event = on_event;
    c->user_ctx = ch;
    if (cfg->point_crash_p > 0)
        c->step_hook = on_step;
    sim_sched_after(&c->sched, draw_gap(ch), CH_TICK, -1, 0, 0);
}
