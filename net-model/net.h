/* The simulated network between N endpoints (servers and clients alike; the
 * driver maps its ids to 0..N-1). It models TCP, not UDP.
 *
 * Owns: one connection per unordered pair {a, b} (a generation number and
 * an open flag) with two directional links a->b and b->a; each link holds
 * its in-flight messages in a FIFO ring of headers and a ring of bytes
 * (grown on demand, never per message once warm, bounded in total by
 * bytes_max); fault state (directed cuts, down endpoints, clogs, holds,
 * loss, per-link latency, the "broken network" switch); per-link counters.
 * Messages are opaque byte blobs. Memory: endpoints^2 link structs plus
 * the rings, so keep endpoints to what the run uses.
 * Must never: read a clock or draw randomness except from the stream given
 * at init; deliver a message of a connection after that connection broke;
 * deliver out of order on a connection, except across kinds under a hold,
 * or when the broken network is on.
 *
 * Semantics, precisely:
 * - A connection is opened implicitly by the first message sent on it and
 *   stays open until it breaks. Breaking it loses every message in flight in
 *   both directions, bumps the generation (the next connection starts
 *   empty), closes it, and schedules a "broken" event to each end still up,
 *   break_notice_ns later (event: node = endpoint told, a = the peer,
 *   b = the generation that ended).
 * - Delivery time of a message = now + latency sample (+ clog extra while
 *   the link is clogged at send time), then raised to the previous delivery
 *   time on the link, so that messages of one connection arrive in send
 *   order (ties pop in push order in the scheduler). Event: node = to,
 *   a = link id, b = message sequence number on the link.
 * - Faults that cut paths accumulate in one matrix of directed cuts: a
 *   partition cuts both ways between every two endpoints placed in
 *   different groups (an endpoint listed in no group gets no cut, so it
 *   keeps reaching everyone; a driver that wants "unlisted servers form one
 *   more side" lists them as a group), a one-way block cuts from->to only,
 *   and a later partition adds to the earlier ones rather than replacing
 *   them. from->to is reachable unless cut or either end is down.
 *   Adding a cut or taking an endpoint down breaks every open connection
 *   that becomes blocked in either direction (TCP would time out: pings
 *   stop flowing).
 * - Sending across a blocked path loses the message. If the connection is
 *   open it breaks (both ends told); if closed, only the sender is told (a
 *   failed connect). The same happens when a send draws a loss (loss_p):
 *   loss in a TCP world is a connection drop, never a silent gap.
 * - A one-way block from->to is asymmetric on purpose: to->from traffic
 *   still flows (reopening the connection), while every send from->to is
 *   lost and breaks it again. Real TCP would lose both directions; the
 *   model keeps the asymmetry a scenario asked for.
 * - net_heal removes every cut (partitions and one-way blocks) and every
 *   clog; connections stay closed until the next send reopens them.
 * - The broken network (off by default) duplicates a message with
 *   probability dup_p (an extra delivery with its own latency) and, with
 *   probability reorder_p, lets a message skip the FIFO raise so it may
 *   overtake earlier ones. ZAB's assumptions do not hold while it is on. */
#ifndef ZABLAB_NET_NET_H
#define ZABLAB_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net-model/latency.h"
#include "sim/rng.h"
#include "sim/sched.h"

#define NET_ENDPOINTS_MAX 1024
/* Wildcard endpoint for net_set_latency / net_set_loss. */
#define NET_ANY (-1)
/* Group id of an endpoint not listed in a partition: reaches everyone. */
#define NET_GROUP_NONE (-1)
/* A link ring larger than this is freed at the first small send after it
 * empties, so one huge message (a snapshot) does not pin its memory for
 * the rest of the run. */
#define NET_RING_KEEP_BYTES (64u * 1024u)
#define NET_ERR_MAX 192
/* Message kinds the hold fault can tell apart (the driver's own numbering). */
#define NET_KINDS_MAX 64
#define NET_KIND_ANY UINT64_MAX

struct net_config {
    int endpoints;               /* 2..NET_ENDPOINTS_MAX */
    uint32_t ev_deliver;         /* event kind of a delivery */
    uint32_t ev_broken;          /* event kind of a "connection broken" notice */
    size_t bytes_max;            /* all links' ring memory (bytes + headers) together */
    uint32_t msg_bytes_max;      /* largest single message */
    struct net_latency latency;  /* default latency of every link */
    double loss_p;               /* default per-message loss (connection drop) chance */
    sim_time_ns break_notice_ns; /* delay between a break and each end learning of it */
};

struct net_link_stats {
    uint64_t sent;            /* messages handed to net_send */
    uint64_t delivered;       /* deliveries returned by net_deliver (duplicates count) */
    uint64_t lost;            /* messages lost at send or in flight */
    uint64_t duplicated;      /* extra deliveries scheduled by the broken network */
    uint64_t bytes_sent;
    uint64_t bytes_delivered;
    uint64_t breaks;          /* connection breaks seen by this direction */
    uint64_t held;            /* deliveries stopped by a hold */
};

struct net_msg {
    uint32_t off;     /* start in the link's byte ring */
    uint32_t len;
    uint16_t pending; /* delivery events still to come */
    uint16_t held;    /* deliveries stopped by a hold, awaiting release */
    uint16_t released; /* of `pending`, deliveries scheduled by a release */
    uint8_t kind;     /* the driver's message kind, < NET_KINDS_MAX */
};

struct net_link {
    struct net_msg *msgs;  /* ring of headers, msg_cap a power of two */
    uint32_t msg_cap, msg_head, msg_count;
    uint64_t seq_head;     /* sequence number of msgs[msg_head] */
    uint8_t *buf;          /* ring of bytes, buf_cap a power of two */
    uint32_t buf_cap, buf_head, buf_used;
    sim_time_ns last_deliver_ns;
    struct net_latency latency;
    double loss_p;
    sim_time_ns clog_extra_ns, clog_until_ns;
    uint64_t hold_mask;    /* bit k: messages of kind k are held at delivery */
    uint32_t released_pending; /* released deliveries not yet popped */
    struct net_link_stats stats;
};

struct net_conn {
    uint32_t generation;
    bool open;
};

struct net {
    struct net_config cfg;
    struct sim_sched *sched;
    struct sim_rng *rng;
    int n;
    struct net_link *links;  /* n*n, index from*n+to */
    struct net_conn *conns;  /* n*n, index lo*n+hi */
    uint8_t *cut;            /* n*n: cut[from*n+to] = messages from->to are dropped */
    uint8_t *down;           /* n: endpoints down */
    uint8_t *scratch;        /* msg_bytes_max: a delivered message that wraps */
    size_t bytes_used;       /* ring memory charged against bytes_max */
    double dup_p, reorder_p; /* broken network; both 0 unless enabled */
    char err[NET_ERR_MAX];   /* detail of the last error */
};

enum net_status {
    NET_OK = 0,
    NET_LOST_AT_SEND = 1,   /* not an error: a fault ate the message */
    NET_ERR_ENDPOINT = -1,  /* bad endpoint id, or from == to */
    NET_ERR_TOO_BIG = -2,   /* message longer than msg_bytes_max */
    NET_ERR_FULL = -3,      /* bytes_max reached */
    NET_ERR_SCHED = -4,     /* the scheduler refused the event */
    NET_ERR_CONFIG = -5,
};

enum net_outcome { NET_DELIVERED = 0, NET_LOST = 1, NET_HELD = 2 };

/* Returns 0, or -1 with a message in err. `sched` and `rng` are borrowed. */
int net_init(struct net *n, const struct net_config *cfg, struct sim_sched *sched,
             struct sim_rng *rng, char *err, size_t err_cap);
void net_free(struct net *n);

/* Sends len bytes from -> to at simulated time now (the scheduler's now).
 * The bytes are copied. NET_OK: a delivery event is scheduled.
 * NET_LOST_AT_SEND: a fault lost it and a broken notice is scheduled.
 * Negative: an error, detail in n->err. */
enum net_status net_send(struct net *n, sim_time_ns now, int from, int to, const void *bytes,
                         size_t len);
/* The same, tagging the message with the driver's kind (< NET_KINDS_MAX)
 * so that net_hold can single it out; net_send uses kind 0. */
enum net_status net_send_kind(struct net *n, sim_time_ns now, int from, int to, uint32_t kind,
                              const void *bytes, size_t len);

/* Resolves a delivery event. NET_DELIVERED: *bytes and *len hold the message,
 * valid until the next call into this net. NET_LOST: the message died with
 * its connection; nothing to do (it was already counted as lost).
 * NET_HELD: not now; nothing to do. Either a hold on its kind stopped it
 * (it stays in flight until net_release, or is lost if the connection
 * breaks first), or it was due at the same instant as an earlier message of
 * its kind that a release had just rescheduled, and it was put after it. */
enum net_outcome net_deliver(struct net *n, const struct sim_event *ev, int *from, int *to,
                             const uint8_t **bytes, size_t *len);

/* ---- faults ---- */
int net_drop(struct net *n, sim_time_ns now, int a, int b);
/* group_of[e] is e's group, or NET_GROUP_NONE. Adds a cut, both ways,
 * between every two endpoints in different groups; cuts already in force
 * stay (partitions accumulate until net_heal). */
int net_partition(struct net *n, sim_time_ns now, const int *group_of);
/* The same from lists: groups[g] has lens[g] members. An endpoint listed
 * twice or out of range is an error (message in n->err). */
int net_partition_groups(struct net *n, sim_time_ns now, const int *const *groups,
                         const size_t *lens, size_t ngroups);
int net_block(struct net *n, sim_time_ns now, int from, int to);
void net_heal(struct net *n);
/* Messages sent a<->b before `until` take extra_ns longer. */
int net_clog(struct net *n, int a, int b, sim_time_ns extra_ns, sim_time_ns until);
/* A crashed endpoint: its connections break (peers told) and sends to it
 * fail until net_endpoint_up. */
int net_endpoint_down(struct net *n, sim_time_ns now, int e);
int net_endpoint_up(struct net *n, int e);
/* Holds messages of the kinds in kind_mask (bit k = kind k; NET_KIND_ANY
 * for all) on from->to: they stop at their delivery time and wait, in
 * order, while other kinds keep flowing. net_release lifts the hold for the
 * kinds in kind_mask and delivers what it kept at `now`, in send order. A
 * connection that breaks meanwhile loses them, as TCP would. */
int net_hold(struct net *n, int from, int to, uint64_t kind_mask);
int net_release(struct net *n, sim_time_ns now, int from, int to, uint64_t kind_mask);
/* Per-link settings; from/to may be NET_ANY. */
int net_set_latency(struct net *n, int from, int to, const struct net_latency *lat);
int net_set_loss(struct net *n, int from, int to, double p);
/* The broken network; (0, 0) turns it off. */
void net_set_broken(struct net *n, double dup_p, double reorder_p);

/* ---- inspection ---- */
bool net_reachable(const struct net *n, int from, int to);
uint32_t net_generation(const struct net *n, int a, int b);
bool net_connection_open(const struct net *n, int a, int b);
const struct net_link_stats *net_stats(const struct net *n, int from, int to);
/* All links' counters summed (breaks count once per direction). */
struct net_link_stats net_stats_total(const struct net *n);
/* Messages in flight on from->to (not yet delivered or lost; held ones
 * included). */
uint32_t net_in_flight(const struct net *n, int from, int to);
static inline uint64_t net_link_id(const struct net *n, int from, int to)
{
    return (uint64_t)from * (uint64_t)n->n + (uint64_t)to;
}
const char *net_status_str(enum net_status st);

#endif
