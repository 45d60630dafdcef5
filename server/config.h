/* config: zabd's reader of zoo.cfg-style files (Java properties subset) and
 * of the myid file, with ZooKeeper's defaults.
 *
 * Owns: struct cfg, a plain fixed-size value (no heap) that zabd fills once
 * at start-up. Errors come back as "file:line:col: message" in a caller
 * buffer; keys ZooKeeper would accept but zabd does not use become warnings,
 * as ZooKeeper tolerates unknown keys.
 * Never: exit, print, or keep state between calls. Only cfg_load and
 * cfg_load_myid touch the filesystem. */
#ifndef ZABLAB_SERVER_CONFIG_H
#define ZABLAB_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_SERVERS_MAX 32
#define CFG_HOST_MAX 256
#define CFG_PATH_MAX 1024
#define CFG_LINE_MAX 4096       /* longer lines are an error */
#define CFG_FILE_MAX (1u << 20) /* cfg_load refuses larger files */
#define CFG_WARN_MAX 16         /* later warnings are counted, not kept */
#define CFG_MSG_MAX 256
#define CFG_SECRET_MAX 64      /* bytes of the session-password key (ZKS_SECRET_MAX) */

/* ZooKeeper's defaults (QuorumPeerConfig, ZooKeeperServer). */
#define CFG_TICK_TIME_MS_DEFAULT 3000
#define CFG_MAX_CLIENT_CNXNS_DEFAULT 60
#define CFG_JUTE_MAX_BUFFER_DEFAULT 0xfffffu
/* zabd's own per-connection bounds (ZooKeeper has no per-connection keys). */
#define CFG_OUTSTANDING_PER_CONN_DEFAULT 1000u   /* ZKS_OUTSTANDING_PER_CONN_DEFAULT */
#define CFG_OUTSTANDING_PER_CONN_MAX 1000000u
#define CFG_WRITE_QUEUE_BYTES_MAX (1ull << 30)

enum cfg_role { CFG_ROLE_PARTICIPANT = 0, CFG_ROLE_OBSERVER = 1 };

struct cfg_server {
    int64_t id;
    char host[CFG_HOST_MAX];
    uint16_t quorum_port;
    uint16_t election_port;
    enum cfg_role role;
    char client_host[CFG_HOST_MAX]; /* "" when not given */
    uint16_t client_port;           /* 0 when not given */
    int line;                       /* where it was declared */
};

struct cfg_warnings {
    int count;   /* kept in msg[] */
    int dropped; /* beyond CFG_WARN_MAX */
    char msg[CFG_WARN_MAX][CFG_MSG_MAX];
};

struct cfg {
    int32_t tick_time_ms;
    int32_t init_limit_ticks;  /* 0 = not set (required with servers) */
    int32_t sync_limit_ticks;  /* 0 = not set (required with servers) */
    char data_dir[CFG_PATH_MAX];
    char data_log_dir[CFG_PATH_MAX]; /* defaults to data_dir */
    uint16_t client_port;            /* 0 = not set */
    char client_port_address[CFG_HOST_MAX]; /* defaults to 0.0.0.0 */
    int32_t max_client_cnxns;
    int32_t snap_count;             /* txns between snapshots; 0 = zabd's default */
    int32_t min_session_timeout_ms;  /* defaults to 2 ticks */
    int32_t max_session_timeout_ms;  /* defaults to 20 ticks */
    /* Bit (1u << w) for each enum zkp_4lw word allowed; default srvr. */
    uint32_t four_lw_allowed;
    uint32_t jute_max_buffer;
    /* readonlymode.enabled (ZooKeeper's system property, accepted here as
     * a key): a server without a quorum serves read-only sessions. It also
     * whitelists isro, as ZooKeeper does. */
    bool read_only_enabled;
    /* zablab.outstandingPerConnection: requests queued or in flight per
     * connection before zabd stops reading it (back-pressure). */
    uint32_t outstanding_per_conn;
    /* zablab.connectionWriteQueueBytes: replies queued for a client that
     * does not read before it is disconnected; 0 = max(8 MiB, 4 x
     * jute.maxbuffer). Must be at least 2 x jute.maxbuffer. */
    uint64_t write_queue_bytes;
    /* `secret`: the ensemble-wide key of session passwords (zabd's own key,
     * not ZooKeeper's). Empty = not set: zabd derives an insecure one from
     * the server list and warns. */
    char secret[CFG_SECRET_MAX + 1];
    uint32_t secret_len;
    int server_count; /* 0 = standalone */
    struct cfg_server servers[CFG_SERVERS_MAX];
    int64_t my_id;    /* -1 until cfg_parse_myid (standalone: stays -1) */
    char source_name[CFG_PATH_MAX]; /* the file name used in messages */
    struct cfg_warnings warnings;
};

/* Parses zoo.cfg text. `name` is used in messages. Returns 0, or -1 with
 * "name:line:col: message" in err. Fills defaults and derived values. */
int cfg_parse(struct cfg *c, const char *name, const char *text, size_t len, char *err,
              size_t err_cap);

/* Parses the myid file's text, checks the id is in the server list and
 * settles this server's client port. Returns 0 or -1 with a message. */
int cfg_parse_myid(struct cfg *c, const char *name, const char *text, size_t len, char *err,
                   size_t err_cap);

/* Reads and parses the file at path, then, when servers are listed,
 * <dataDir>/myid. Returns 0 or -1 with a message. */
int cfg_load(struct cfg *c, const char *path, char *err, size_t err_cap);

/* This server's entry (after cfg_parse_myid), or NULL when standalone. */
const struct cfg_server *cfg_self(const struct cfg *c);

#endif
