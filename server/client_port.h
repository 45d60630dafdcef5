/* client_port: zabd's client listener. A fresh connection whose first 4
 * bytes are a known four-letter word gets ZooKeeper's text reply and is
 * closed. Any other connection is a ZooKeeper session: length-prefixed
 * frames (at most jute.maxbuffer bytes each), the first one the
 * ConnectRequest; each frame is handed whole to the server's frame
 * callback, and the server hands back client outputs (zks_out) that are
 * encoded (core/zk_wire.h) onto the connection's write queue in order.
 *
 * Owns: the listening socket, up to CPORT_CONNS_MAX connections, their
 * bounded read and write buffers, maxClientCnxns per remote address, and
 * the list of connections that went away and must still be reported to
 * the core. Never: decides anything about sessions or requests (that is
 * core/zk_server.c, reached only through the callbacks), or reports a
 * connection's end to the server from inside an output batch (cport_deliver
 * may run in one; the report waits for cport_report_gone). */
#ifndef ZABLAB_SERVER_CLIENT_PORT_H
#define ZABLAB_SERVER_CLIENT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/zk_proto.h"
#include "core/zk_server.h"
#include "core/zk_wire.h"
#include "server/config.h"
#include "server/loop.h"

#define ZABD_VERSION "0.2.0"
#define CPORT_CONNS_MAX 1000u          /* open connections (< LOOP_FDS_MAX); more: closed */
#define CPORT_HANDSHAKE_MS 10000u      /* to send a word or a whole ConnectRequest */
#define CPORT_DRAIN_MS 5000u           /* a closing connection that does not read is cut */
#define CPORT_HOUSEKEEPING_MS 500u
#define CPORT_READ_BYTES 65536u        /* one recv */
#define CPORT_OUT_BYTES_MIN (8u << 20) /* write queue bound: max(this, 4 x jute.maxbuffer) */
#define CPORT_4LW_REPLY_MAX (1u << 20) /* a longer four-letter-word reply is cut */
#define CPORT_LAT_PENDING 32u          /* requests timed per connection; more in flight go untimed */

/* Request latency (srvr/stat/mntr), from the moment zabd hands a request
 * frame to the server to the moment its reply is queued on the connection,
 * on CLOCK_MONOTONIC in nanoseconds (ZooKeeper's resolution is 1 ms, too
 * coarse for loopback: a read takes about a microsecond here). Shown in ms
 * with 6 decimals. srst zeroes it. */
struct cport_latency {
    uint64_t count, total_ns, min_ns, max_ns;
};

/* What the four-letter words report, filled on demand by the server. */
struct cport_view {
    int server_id;
    int serving;               /* 0: "not currently serving requests" */
    bool read_only;            /* read-only mode (zks_read_only_mode): mode "read-only", isro "ro" */
    const char *mode;          /* "leader" | "follower" | "observer" | "standalone" */
    uint64_t zxid;             /* last applied zxid */
    uint64_t node_count, ephemerals, data_bytes;
    uint32_t connections, outstanding;     /* client connections known to the core */
    uint32_t watches, watch_paths, watch_conns;
    uint64_t accepted_epoch, current_epoch;
    uint32_t learners, synced_followers;   /* leader only */
    uint64_t fdatasyncs, fsync_actions;    /* group commit counters */
    uint64_t snapshots, snapshot_forks;    /* stored by a child / children started */
    uint32_t log_segments;                 /* txn log files now */
    uint64_t log_rolls;
    const struct cfg *cfg;     /* for conf; may be NULL */
};

/* One session connection as the core sees it (for cons). */
struct cport_conn_info {
    int64_t session_id;        /* 0 until the session is open */
    int32_t timeout_ms;
    uint32_t queued;           /* requests queued or in flight */
    uint32_t watches;
};

/* What the frame callback did with a frame. */
enum cport_frame_verdict {
    CPORT_FRAME_TAKEN = 0,     /* consumed */
    CPORT_FRAME_LATER,         /* not now (too many outstanding): keep it, stop reading, retry */
    CPORT_FRAME_CLOSE,         /* bad frame (the callback logged why): close the connection */
};

struct cport_callbacks {
    void (*view)(void *arg, struct cport_view *v);
    void (*conn_info)(void *arg, uint64_t conn, struct cport_conn_info *out);
    /* A whole session frame (payload without the length); first = the
     * ConnectRequest. Runs outside any output batch; may call into the core
     * and execute its batch (which may cport_deliver to this very
     * connection, even close it). */
    enum cport_frame_verdict (*frame)(void *arg, uint64_t conn, const char *peer_text,
                                      const uint8_t *payload, size_t len, bool first);
    /* A connection the core knows (its first frame was taken) ended without
     * a CLOSE from the core. Called only from cport_report_gone. */
    void (*gone)(void *arg, uint64_t conn);
    void *arg;
};

struct cport_limits {
    uint32_t max_per_addr;     /* maxClientCnxns; 0 = unlimited */
    uint32_t frame_max;        /* jute.maxbuffer */
    size_t out_bytes_max;      /* 0: max(CPORT_OUT_BYTES_MIN, 4 x frame_max) */
    uint32_t four_lw_allowed;  /* bit (1u << enum zkp_4lw) */
};

enum cport_kind { CPORT_K_NEW = 0, CPORT_K_4LW, CPORT_K_SESSION };

struct cport;

struct cport_conn {
    struct cport *owner;
    int fd;                    /* -1 = free */
    uint64_t id;               /* the core's connection id: (sequence << 16) | slot */
    uint8_t kind;              /* enum cport_kind */
    bool known;                /* the core has its first frame (report its end) */
    bool long_form;            /* ConnectRequest carried readOnly: echo it */
    bool closing;              /* flush, then close */
    bool paused;               /* frames wait in `in`; not reading */
    bool dirty;                /* in the flush list */
    uint64_t since_ms;         /* accepted, or closing since */
    struct zkw_buf in;         /* received bytes not yet consumed (in.p[0..in.len)) */
    struct zkw_buf out;        /* bytes to send from out_off */
    size_t out_off;
    uint64_t recved, sent;     /* frames */
    char peer_text[64];        /* "ip:port" */
    char addr[48];             /* "ip", for maxClientCnxns */
    /* Requests being timed, in arrival order (replies match them by xid:
     * pings and auth are answered ahead of queued requests). */
    int32_t lat_xid[CPORT_LAT_PENDING];
    uint64_t lat_t_ns[CPORT_LAT_PENDING];
    uint32_t lat_n;
};

struct cport {
    struct loop *loop;
    int listen_fd;
    bool listen_paused;        /* accept ran out of descriptors: resumed by housekeeping */
    struct cport_limits lim;
    struct cport_callbacks cb;
    uint64_t timer;
    uint64_t next_seq;
    uint64_t packets_received, packets_sent;
    struct cport_latency lat;
    struct cport_conn conns[CPORT_CONNS_MAX];
    uint32_t dirty[CPORT_CONNS_MAX];    /* slots with output to flush */
    uint32_t n_dirty;
    uint64_t gone[CPORT_CONNS_MAX];     /* known connections to report as gone */
    uint32_t n_gone;
    uint32_t n_paused;
};

int cport_init(struct cport *c, struct loop *l, const char *host, uint16_t port,
               const struct cport_limits *lim, const struct cport_callbacks *cb, char *err,
               size_t errlen);
void cport_shutdown(struct cport *c);

/* One client output of the core's batch: encoded onto its connection's
 * write queue (a CLOSE: flush what is queued, then close). Outputs for a
 * connection that is gone are dropped. A queue past its bound closes the
 * connection (logged) and queues its end for cport_report_gone. */
void cport_deliver(struct cport *c, const struct zks_out *o);
/* The connection's ConnectRequest carried readOnly: so must the response. */
void cport_set_long_form(struct cport *c, uint64_t conn, bool long_form);
/* After a batch: write what cport_deliver queued. */
void cport_flush_dirty(struct cport *c);
/* Outside any batch: reports ended connections to cb.gone and retries the
 * frames of paused connections. Returns how many it handled (0: nothing
 * to do, the caller may sleep). */
uint32_t cport_report_gone(struct cport *c);
uint32_t cport_resume_paused(struct cport *c);

/* srst: zeroes the latency and packet counters. */
void cport_reset_stats(struct cport *c);
/* The text reply to word w (which must be allowed) for view v; cons and
 * wchs also list connections. Always NUL-terminates; returns the length
 * (cut at cap - 1). */
size_t cport_reply(const struct cport *c, const struct cport_view *v, enum zkp_4lw w,
                   const char *peer_text, char *out, size_t cap);

#endif
