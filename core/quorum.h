/* Quorum verifier: which sets of servers form a quorum. Owns the membership
 * (voter/observer, weights) and the quorum test only; never knows about
 * messages or phases. Majority of voter weights today; weighted/hierarchical
 * verifiers can be added behind the same two calls. Server ids are 1..n
 * (ZooKeeper's myid); a set of servers is a bitmask with bit (1u << id). */
#ifndef ZABLAB_CORE_QUORUM_H
#define ZABLAB_CORE_QUORUM_H

#include <stdint.h>

#define QUORUM_SERVERS_MAX 15 /* ids 1..15 fit a uint32_t mask */

enum quorum_role { QUORUM_VOTER = 0, QUORUM_OBSERVER = 1 };

struct quorum_verifier {
    int n_servers;                              /* ids 1..n_servers */
    uint8_t role[QUORUM_SERVERS_MAX + 1];       /* enum quorum_role, index by id */
    uint32_t weight[QUORUM_SERVERS_MAX + 1];    /* 0 for observers */
    uint64_t weight_total;
};

/* Majority verifier; roles may be NULL (all voters). Returns 0, or -1 if
 * n_servers is out of range or there is no voter. */
int quorum_init_majority(struct quorum_verifier *qv, int n_servers, const uint8_t *roles);
/* Weighted verifier (ZooKeeper's weight= config): quorum = more than half the
 * total weight. weights indexed by id; a weight of 0 makes a non-voter. */
int quorum_init_weighted(struct quorum_verifier *qv, int n_servers, const uint32_t *weights);

int quorum_is_voter(const struct quorum_verifier *qv, int id);
int quorum_contains_quorum(const struct quorum_verifier *qv, uint32_t mask);
uint32_t quorum_voter_mask(const struct quorum_verifier *qv);

static inline uint32_t quorum_bit(int id)
{
    return (id > 0 && id <= QUORUM_SERVERS_MAX) ? (1u << id) : 0u;
}

#endif
