/* Quorum verifier: majority (and weighted) quorums over server ids 1..n.
 * Owns membership and the quorum test; never looks at messages. */
#include "core/quorum.h"

#include <string.h>

static int quorum_finish(struct quorum_verifier *qv)
{
    qv->weight_total = 0;
    for (int id = 1; id <= qv->n_servers; id++) {
        if (qv->weight[id] == 0)
            qv->role[id] = QUORUM_OBSERVER;
        qv->weight_total += qv->weight[id];
    }
    return qv->weight_total > 0 ? 0 : -1;
}

int quorum_init_majority(struct quorum_verifier *qv, int n_servers, const uint8_t *roles)
{
    memset(qv, 0, sizeof *qv);
    if (n_servers < 1 || n_servers > QUORUM_SERVERS_MAX)
        return -1;
    qv->n_servers = n_servers;
    for (int id = 1; id <= n_servers; id++) {
        int observer = roles && roles[id] == QUORUM_OBSERVER;
        qv->role[id] = observer ? QUORUM_OBSERVER : QUORUM_VOTER;
        qv->weight[id] = observer ? 0 : 1;
    }
    return quorum_finish(qv);
}

int quorum_init_weighted(struct quorum_verifier *qv, int n_servers, const uint32_t *weights)
{
    memset(qv, 0, sizeof *qv);
    if (n_servers < 1 || n_servers > QUORUM_SERVERS_MAX || !weights)
        return -1;
    qv->n_servers = n_servers;
    for (int id = 1; id <= n_servers; id++) {
        qv->weight[id] = weights[id];
        qv->role[id] = QUORUM_VOTER;
    }
    return quorum_finish(qv);
}

int quorum_is_voter(const struct quorum_verifier *qv, int id)
{
    return id >= 1 && id <= qv->n_servers && qv->weight[id] > 0;
}

int quorum_contains_quorum(const struct quorum_verifier *qv, uint32_t mask)
{
    uint64_t w = 0;
    for (int id = 1; id <= qv->n_servers; id++)
        if (mask & (1u << id))
            w += qv->weight[id];
    /* strictly more than half: any two quorums then share a voter */
    return 2 * w > qv->weight_total;
}

uint32_t quorum_voter_mask(const struct quorum_verifier *qv)
{
    uint32_t m = 0;
    for (int id = 1; id <= qv->n_servers; id++)
        if (qv->weight[id] > 0)
            m |= 1u << id;
    return m;
}
