/* peer: the TCP links between servers that carry the replica's messages
 * (FLE notifications and ZAB quorum traffic on one link per pair).
 *
 * Owns: one listening socket (the election port), one link per other
 * server, each with a bounded outgoing queue and a bounded input buffer.
 * Never: looks inside a message (bytes from the core go out as they came) or
 * calls back into its user from inside peer_send/peer_disconnect (breaks
 * found there are reported from the next loop callback).
 *
 * Exactly one link per pair: the server with the larger id always dials the
 * smaller one (ZooKeeper keeps only the connection from the larger sid to
 * the smaller) and keeps it up, reconnecting with exponential back-off
 * (PEER_BACKOFF_MIN_MS doubling to PEER_BACKOFF_MAX_MS). The smaller side
 * never keeps a connection; what it sends while no link exists waits up to
 * PEER_LINK_WAIT_MS for the larger side to dial, then is dropped and
 * reported as a connection break, as a failed connect is on the dialing side.
 * Meanwhile it nudges the larger side (as ZooKeeper's smaller sid connects
 * only to be called back): a short connection carrying a nudge hello (magic
 * "ZABN") that makes the larger side, if it has no link, dial at once,
 * skipping its back-off.
 * A new link from a peer that already has one replaces it (the old one
 * broke, e.g. the peer restarted); the break of the old one is reported
 * before anything arrives on the new one.
 *
 * Wire: the dialer first sends a hello (16 bytes, big-endian: magic "ZABL",
 * u32 version 1, u32 sender id, u32 receiver id); then both directions carry
 * frames `u32 length | message` with 1 <= length <= PEER_FRAME_BYTES_MAX.
 * A bad hello or frame closes the link. Not wire-compatible with Java
 * ZooKeeper's quorum or election ports. */
#ifndef ZABLAB_SERVER_PEER_H
#define ZABLAB_SERVER_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/replica.h"
#include "core/zab_msg.h"
#include "server/loop.h"

#define PEER_FRAME_BYTES_MAX (ZAB_MSG_DATA_MAX + 4096u)
#define PEER_QUEUE_BYTES_MAX (2u * PEER_FRAME_BYTES_MAX) /* over it: the link is broken */
#define PEER_BACKOFF_MIN_MS 25u
#define PEER_BACKOFF_MAX_MS 1000u
#define PEER_LINK_WAIT_MS 2000u          /* connect, hello, and waiting for a dial */
#define PEER_HOUSEKEEPING_MS 25u
#define PEER_KEEPALIVE_IDLE_S 2          /* a silent link is probed after this */
#define PEER_KEEPALIVE_INTERVAL_S 1
#define PEER_KEEPALIVE_COUNT 3           /* unanswered probes before the break */
#define PEER_USER_TIMEOUT_MS 5000u       /* unacknowledged data this long: break */
#define PEER_ACCEPTS_MAX 16u             /* accepted sockets still owing their hello */
#define PEER_READ_BUDGET_BYTES (256u << 10) /* per readable event, for fairness */
#define PEER_HELLO_BYTES 16u
#define PEER_HELLO_MAGIC 0x5a41424cu     /* "ZABL" */
#define PEER_NUDGE_MAGIC 0x5a41424eu     /* "ZABN": smaller id asks to be dialed now */
#define PEER_NUDGE_EVERY_MS 100u         /* at most one nudge per peer this often */
#define PEER_HELLO_VERSION 1u

struct peer_callbacks {
    void (*on_message)(void *arg, int peer, const uint8_t *msg, size_t len);
    void (*on_break)(void *arg, int peer);
    void *arg;
};

struct peer_addr {
    struct sockaddr_storage sa;
    socklen_t sa_len;
    char text[300];          /* "host:port" for logs */
};

struct peer_buf {
    uint8_t *p;
    size_t head, tail, cap;  /* bytes [head, tail) are live */
};

enum peer_link_state { PEER_DOWN = 0, PEER_CONNECTING = 1, PEER_UP = 2 };

struct peer_link {
    int fd;
    uint8_t state;           /* enum peer_link_state */
    uint8_t dialer;          /* 1: I dial this peer (my id is larger) */
    uint32_t gen;            /* bumped whenever the socket changes */
    struct peer_buf out;     /* queued frames (after the hello, when dialing) */
    struct peer_buf in;      /* received bytes not yet a whole frame */
    uint64_t backoff_ms;
    uint64_t dial_at_ms;     /* dialer: next attempt not before */
    uint64_t since_ms;       /* CONNECTING: connect start; DOWN acceptor: first queued frame */
    int nudge_fd;            /* smaller side: connection carrying a nudge, or -1 */
    uint8_t nudge[PEER_HELLO_BYTES];
    size_t nudge_sent;
    uint64_t nudge_at_ms;    /* next nudge not before */
    uint64_t msgs_sent, msgs_received, breaks, nudges;
};

struct peer_accept {
    int fd;                  /* -1 = free slot */
    uint64_t since_ms;
    uint8_t hello[PEER_HELLO_BYTES];
    size_t got;
};

struct peer_set {
    struct loop *loop;
    int my_id, n_servers;
    int listen_fd;
    struct peer_addr addrs[REP_SERVERS_MAX + 1];
    struct peer_link links[REP_SERVERS_MAX + 1];
    struct peer_accept accepts[PEER_ACCEPTS_MAX];
    uint32_t breaks_pending;           /* bit per peer id: break not yet reported */
    uint32_t dirty;                    /* bit per peer id: output queued, not yet flushed */
    uint64_t housekeeping_timer;
    int in_callback;                   /* depth of calls into the user */
    struct peer_callbacks cb;
};

/* Resolves host:port (at start-up only: may block on DNS). */
int peer_resolve(struct peer_addr *a, const char *host, uint16_t port, char *err, size_t errlen);

/* Binds the listener on addrs[my_id] and arms housekeeping. addrs is
 * indexed by id 1..n_servers. 0, or -1 with a message. */
int peer_init(struct peer_set *ps, struct loop *l, int my_id, int n_servers,
              const struct peer_addr *addrs, const struct peer_callbacks *cb, char *err,
              size_t errlen);
void peer_shutdown(struct peer_set *ps);

/* Queues one message for peer (framing added here). Never calls back. */
void peer_send(struct peer_set *ps, int peer, const uint8_t *msg, size_t len);
/* Drops the link to peer and everything queued; the peer sees the break,
 * this side reports none. Never calls back. */
void peer_disconnect(struct peer_set *ps, int peer);
/* Reports breaks found inside peer_send (call when not inside the user). */
void peer_deliver_breaks(struct peer_set *ps);
/* Writes what peer_send queued, one send per link; call before the loop
 * sleeps. A link whose socket is full waits for EPOLLOUT; one that fails
 * breaks (reported by peer_deliver_breaks). */
void peer_flush(struct peer_set *ps);

int peer_link_up(const struct peer_set *ps, int peer);

#endif
