/* client_port: zabd's client listener. For now it serves ZooKeeper's
 * four-letter words (ruok srvr stat mntr conf isro) on a fresh connection:
 * the first 4 bytes name the word, zabd writes the text reply in
 * ZooKeeper's format and closes. Any other first bytes (a session request)
 * are logged and the connection closed: the session protocol is not wired
 * in yet.
 *
 * Owns: the listening socket and up to CPORT_CONNS_MAX connections, each
 * with a bounded reply buffer. Never: touches the replica; what it reports
 * comes from a view callback the server fills. */
#ifndef ZABLAB_SERVER_CLIENT_PORT_H
#define ZABLAB_SERVER_CLIENT_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/zk_proto.h"
#include "server/config.h"
#include "server/loop.h"

#define ZABD_VERSION "0.1.0"
#define CPORT_CONNS_MAX 64u            /* more: the new connection is closed at once */
#define CPORT_REPLY_BYTES_MAX 8192u    /* a longer reply is cut */
#define CPORT_IDLE_MS 5000u            /* a connection silent this long is closed */
#define CPORT_HOUSEKEEPING_MS 500u

/* What the four-letter words report, filled on demand by the server. */
struct cport_view {
    int server_id;
    int serving;               /* 0: "not currently serving requests" */
    const char *mode;          /* "leader" | "follower" | "observer" | "standalone" */
    uint64_t zxid;             /* last zxid in the log */
    uint64_t node_count, ephemerals, data_bytes;
    uint32_t connections, outstanding;     /* client connections known to the core */
    uint32_t watches, watch_paths, watch_conns;
    uint64_t accepted_epoch, current_epoch;
    uint32_t learners, synced_followers;   /* leader only */
    uint64_t fdatasyncs, fsync_actions;    /* group commit counters */
    const struct cfg *cfg;     /* for conf; may be NULL */
};

typedef void cport_view_fn(void *arg, struct cport_view *v);

struct cport_conn {
    int fd;                    /* -1 = free */
    uint64_t since_ms;
    uint8_t first[4];
    size_t got;
    char reply[CPORT_REPLY_BYTES_MAX];
    size_t reply_len, reply_off;
    char peer_text[96];
};

struct cport {
    struct loop *loop;
    int listen_fd;
    uint32_t allowed_mask;     /* bit (1u << enum zkp_4lw) */
    cport_view_fn *view;
    void *view_arg;
    uint64_t timer;
    uint64_t packets_received, packets_sent;
    struct cport_conn conns[CPORT_CONNS_MAX];
};

int cport_init(struct cport *c, struct loop *l, const char *host, uint16_t port,
               uint32_t allowed_mask, cport_view_fn *view, void *view_arg, char *err,
               size_t errlen);
void cport_shutdown(struct cport *c);

/* The text reply to word w (which must be allowed) for view v. Always
 * NUL-terminates; returns the length (cut at cap - 1). */
size_t cport_reply(const struct cport *c, const struct cport_view *v, enum zkp_4lw w,
                   const char *peer_text, char *out, size_t cap);

#endif
