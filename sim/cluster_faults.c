/* Fault injection on a running ensemble: each fault changes the simulated
 * world (nodes, links, clocks), is written to the trace, and marks a
 * disturbance for the liveness watch. None touches a replica's state. */
#include <inttypes.h>

#include "sim/cluster.h"

void cluster_pause(struct cluster *c, int id, sim_time_ns duration)
{
    sim_node_pause(&c->nodes[id], c->sched.now + duration);
    sim_trace_event(&c->trace, c->sched.now, id, "pause", "\"ms\":%" PRIu64,
                    sim_ns_to_ms(duration));
    cluster_disturbed(c, "pause", id);
}

void cluster_skew(struct cluster *c, int id, int64_t delta_ns)
{
    sim_node_skew(&c->nodes[id], c->sched.now, delta_ns);
    sim_trace_event(&c->trace, c->sched.now, id, "skew", "\"ns\":%" PRId64, delta_ns);
    cluster_disturbed(c, "skew", id);
}

void cluster_drift(struct cluster *c, int id, int64_t drift_ppm)
{
    sim_node_set_drift(&c->nodes[id], c->sched.now, drift_ppm);
    sim_trace_event(&c->trace, c->sched.now, id, "drift", "\"ppm\":%" PRId64, drift_ppm);
    cluster_disturbed(c, "drift", id);
}

void cluster_drop(struct cluster *c, int a, int b)
{
    net_drop(&c->net, c->sched.now, a - 1, b - 1);
    sim_trace_event(&c->trace, c->sched.now, a, "drop", "\"peer\":%d", b);
    cluster_disturbed(c, "drop", a);
}

void cluster_clog(struct cluster *c, int a, int b, sim_time_ns extra, sim_time_ns duration)
{
    net_clog(&c->net, a - 1, b - 1, extra, c->sched.now + duration);
    sim_trace_event(&c->trace, c->sched.now, a, "clog",
                    "\"peer\":%d,\"extra_ms\":%" PRIu64 ",\"ms\":%" PRIu64, b,
                    sim_ns_to_ms(extra), sim_ns_to_ms(duration));
    cluster_disturbed(c, "clog", a);
}

/* Group of every endpoint and the trace's description of the servers' groups. */
static void server_groups(const struct cluster *c, const int *group_of, int *groups, char *desc,
                          size_t cap)
{
    size_t o = 0;
    desc[0] = '\0';
    for (int id = 1; id <= c->n; id++) {
        groups[id - 1] = group_of[id];
        o += (size_t)snprintf(desc + o, cap - o, "%s%d", id > 1 ? "," : "", group_of[id]);
        if (o >= cap)
            o = cap - 1;
    }
    for (int e = c->n; e < c->net.n; e++)
        groups[e] = NET_GROUP_NONE;
}

void cluster_partition(struct cluster *c, const int *group_of)
{
    int groups[NET_ENDPOINTS_MAX];
    char desc[128];
    server_groups(c, group_of, groups, desc, sizeof desc);
    net_partition(&c->net, c->sched.now, groups);
    sim_trace_event(&c->trace, c->sched.now, -1, "partition", "\"group_of\":[%s]", desc);
    cluster_disturbed(c, "partition", 0);
}

void cluster_partition_clients(struct cluster *c, const int *group_of, const int *client_group)
{
    int groups[NET_ENDPOINTS_MAX];
    char desc[128], cdesc[512];
    size_t o = 0;
    server_groups(c, group_of, groups, desc, sizeof desc);
    cdesc[0] = '\0';
    for (int k = 0; c->zks && k < c->cfg.clients; k++) {
        if (client_group[k] == NET_GROUP_NONE)
            continue;
        groups[cluster_client_endpoint(c, k)] = client_group[k];
        o += (size_t)snprintf(cdesc + o, sizeof cdesc - o, "%sc%d:%d", o ? "," : "", k + 1,
                              client_group[k]);
        if (o >= sizeof cdesc)
            o = sizeof cdesc - 1;
    }
    net_partition(&c->net, c->sched.now, groups);
    sim_trace_event(&c->trace, c->sched.now, -1, "partition",
                    "\"group_of\":[%s],\"clients\":\"%s\"", desc, cdesc);
    cluster_disturbed(c, "partition", 0);
}

void cluster_block(struct cluster *c, int from, int to)
{
    net_block(&c->net, c->sched.now, from - 1, to - 1);
    sim_trace_event(&c->trace, c->sched.now, from, "block", "\"to\":%d", to);
    cluster_disturbed(c, "block", from);
}

void cluster_heal(struct cluster *c)
{
    net_heal(&c->net);
    sim_trace_event(&c->trace, c->sched.now, -1, "heal", NULL);
    cluster_disturbed(c, "heal", 0);
}
