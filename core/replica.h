/* The replica: one ZooKeeper server's replication core (FLE + ZAB discovery,
 * sync, broadcast + recovery), sans-I/O. Both drivers (the simulator and
 * zabd) and the future explorer run exactly this code.
 *
 * Owns: all protocol state of one server and its volatile copy of the log.
 * Never: reads a clock, draws a random number, touches a file or socket.
 * It is told what happened (start, message, connection break, timer, disk
 * completion, client proposal) and answers with an output batch.
 *
 * Server ids are 1..n_servers (ZooKeeper's myid); 0 means "none".
 *
 * ---- Driver contract --------------------------------------------------
 * After every input call, read replica_output() and execute its actions in
 * order, then call replica_output_clear(). The batch's pointers stay valid
 * until the next input or output_clear (a batch not cleared keeps growing). The core never emits an action
 * that depends on an incomplete disk op: an ACK that promises durability is
 * emitted only in the batch produced by replica_on_disk_done() for the fsync
 * it depends on. So the driver may execute every action immediately, in order.
 *
 *  SEND(peer, bytes)    queue bytes on the FIFO connection to peer. If there
 *                       is no live connection, open one (a fresh connection
 *                       starts empty). Loss is only by connection break.
 *  DISCONNECT(peer)     break the connection to peer now: drop what is in
 *                       flight both ways; the PEER gets on_conn_break(me)
 *                       (the initiator does not). Later SENDs open a new one.
 *  LOG_APPEND(bytes)    append encoded log records at the end of the log
 *                       file (volatile until a later LOG_FSYNC completes).
 *  LOG_FSYNC            make every earlier append/truncate durable.
 *  LOG_TRUNCATE(offset) cut the log file to `offset` bytes.
 *  EPOCH_WRITE(which, value)  atomically and durably replace the
 *                       acceptedEpoch / currentEpoch file (tmp+rename+fsync).
 *  SNAPSHOT_WRITE(bytes, zxid) atomically and durably store a snapshot
 *                       (replaces the previous one). With which ==
 *                       REP_SNAPSHOT_BY_DRIVER (only when the config sets
 *                       snapshot_by_driver) there are no bytes: the driver
 *                       serializes the state machine itself before its next
 *                       input to the replica (zabd forks, so the event loop
 *                       never stalls on a large tree), labels the snapshot
 *                       with the state's own last applied zxid (>= value),
 *                       and reports this op whenever it is durable, out of
 *                       order with the log ops: it is not in their queue.
 *                       A SNAPSHOT_WRITE with bytes (a SNAP sync) supersedes
 *                       one still in flight: the driver stops it, makes sure
 *                       its file never lands after the new one, and never
 *                       reports it.
 * Every disk action carries op_id (increasing). Disk ops complete in the
 * order issued (one queue per server); call replica_on_disk_done(op_id) for
 * each, in order (one call with the highest finished op_id also completes
 * every earlier op: handy for group commit). On a crash, pending ops and
 * in-flight completions are lost; the restarted replica (replica_init +
 * replica_start) numbers from 1 again.
 *
 * timer_ms in the batch: the absolute local time at which the replica wants
 * replica_on_timer (0 = none). Calling on_timer early or twice is harmless.
 * ----------------------------------------------------------------------- */
#ifndef ZABLAB_CORE_REPLICA_H
#define ZABLAB_CORE_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "core/fle.h"
#include "core/quorum.h"
#include "core/sm_opaque.h"
#include "core/zab_common.h"
#include "core/zxid.h"

#define REP_SERVERS_MAX QUORUM_SERVERS_MAX

/* Defaults; every bound is a config field. */
#define REP_LOG_ENTRIES_DEFAULT 1024u
#define REP_LOG_BYTES_DEFAULT (1u << 20)
#define REP_PAYLOAD_BYTES_DEFAULT (64u << 10)
#define REP_EVENTS_MAX 64u          /* trace events per output batch; extra ones are counted, not kept */

enum rep_state {
    REP_LOOKING = FLE_LOOKING,
    REP_FOLLOWING = FLE_FOLLOWING,
    REP_LEADING = FLE_LEADING,
    REP_OBSERVING = FLE_OBSERVING,
};

enum rep_phase {
    REP_PHASE_ELECTION = 0,
    REP_PHASE_DISCOVERY = 1,
    REP_PHASE_SYNC = 2,
    REP_PHASE_BROADCAST = 3,
};

/* Error values of replica_start / replica_propose. */
enum rep_err {
    REP_OK = 0,
    REP_ERR_NOT_LEADER = -1,     /* propose: not an established leader in BROADCAST */
    REP_ERR_FULL = -2,           /* propose: a quarter of the log is uncommitted, or the log
                                    or payload arena is full; retry after commits */
    REP_ERR_TOO_BIG = -3,        /* propose: payload over payload_bytes_max */
    REP_ERR_CORRUPT = -4,        /* start: durable data is corrupt */
    REP_ERR_EPOCH = -5,          /* start: epoch files inconsistent with the log */
    REP_ERR_CONFIG = -6,         /* init/start: bad configuration */
    REP_ERR_NOMEM = -7,
};

struct replica_config {
    int id;                                   /* 1..n_servers */
    int n_servers;                            /* <= REP_SERVERS_MAX */
    uint8_t roles[REP_SERVERS_MAX + 1];       /* enum quorum_role by id; zeroed = all voters */
    uint32_t tick_ms;                         /* ZooKeeper tickTime, e.g. 2000 */
    uint32_t init_limit;                      /* ticks for discovery+sync */
    uint32_t sync_limit;                      /* ticks of silence tolerated in broadcast */
    uint32_t finalize_wait_ms;                /* FLE; 0 = 200 */
    uint32_t notification_interval_max_ms;    /* FLE back-off cap; 0 = 60000 */
    uint32_t log_entries_max;                 /* in-memory log entries; 0 = default */
    uint32_t log_bytes_max;                   /* in-memory payload bytes; 0 = default */
    uint32_t payload_bytes_max;               /* one txn; 0 = default */
    uint32_t snapshot_every;                  /* snapshot after this many applied txns; 0 = only when the log is full */
    uint8_t snapshot_by_driver;               /* periodic snapshots: see SNAPSHOT_WRITE above */
    uint32_t zxid_counter_max;                /* force a new epoch past this counter; 0 = ZXID_COUNTER_MAX */
    uint32_t bugs;                            /* ZAB_BUG_BIT(...) set */
    const struct sm_ops *sm;                  /* NULL = sm_opaque_ops */
};

/* What survived on the server's disk, handed to replica_start. Any pointer may
 * be NULL with length 0 (file absent). The replica copies what it keeps. */
struct replica_durable {
    const uint8_t *log;          size_t log_len;
    const uint8_t *snapshot;     size_t snapshot_len;   /* SNAPSHOT_WRITE bytes */
    int has_accepted_epoch;      uint64_t accepted_epoch;
    int has_current_epoch;       uint64_t current_epoch;
};

enum rep_action_kind {
    REP_ACT_SEND = 1,
    REP_ACT_DISCONNECT,
    REP_ACT_LOG_APPEND,
    REP_ACT_LOG_FSYNC,
    REP_ACT_LOG_TRUNCATE,
    REP_ACT_EPOCH_WRITE,
    REP_ACT_SNAPSHOT_WRITE,   /* which: 0, or REP_SNAPSHOT_BY_DRIVER */
};

enum rep_epoch_file { REP_EPOCH_ACCEPTED = 0, REP_EPOCH_CURRENT = 1 };
#define REP_SNAPSHOT_BY_DRIVER 1u   /* SNAPSHOT_WRITE.which: no bytes, see the contract */

struct rep_action {
    uint8_t kind;            /* enum rep_action_kind */
    uint8_t which;           /* EPOCH_WRITE: enum rep_epoch_file; SNAPSHOT_WRITE: 0 or BY_DRIVER */
    int peer;                /* SEND, DISCONNECT */
    uint64_t op_id;          /* disk actions; 0 otherwise */
    uint64_t value;          /* EPOCH_WRITE: epoch; TRUNCATE: byte offset; SNAPSHOT_WRITE: zxid;
                                LOG_APPEND: zxid of the record; LOG_FSYNC: log end offset */
    const uint8_t *bytes;    /* SEND, LOG_APPEND, SNAPSHOT_WRITE; valid until output_clear */
    size_t len;
    size_t bytes_off;        /* internal: offset of bytes in the output arena */
};

/* Trace/narration events, in the order they happened. */
enum rep_event_kind {
    REP_EV_STARTED = 1,        /* a = last zxid, b = currentEpoch */
    REP_EV_LOG_TORN,           /* a = bytes kept, b = bytes cut */
    REP_EV_LOOKING,            /* a = round */
    REP_EV_ELECTED,            /* peer = leader, a = round, b = enum rep_state taken */
    REP_EV_EPOCH_ACCEPTED,     /* a = epoch (written to file, then memory) */
    REP_EV_EPOCH_CURRENT,      /* a = epoch */
    REP_EV_LEADER_ABANDON,     /* peer = follower more recent than me */
    REP_EV_SYNC_SENT,          /* peer = learner, a = enum zab_sync_kind, b = zxid (trunc/snap/diff) */
    REP_EV_SYNC_RECEIVED,      /* peer = leader, a = enum zab_sync_kind, b = zxid */
    REP_EV_ESTABLISHED,        /* a = epoch: a quorum ACKed NEWLEADER */
    REP_EV_UPTODATE,           /* peer = leader, a = epoch */
    REP_EV_PROPOSED,           /* a = zxid */
    REP_EV_COMMITTED,          /* a = zxid */
    REP_EV_APPLIED,            /* a = zxid, b = digest after */
    REP_EV_SNAPSHOT,           /* a = zxid (durable) */
    REP_EV_LEARNER_DROPPED,    /* peer, a = reason (enum rep_drop) */
    REP_EV_STEP_DOWN,          /* a = reason (enum rep_drop) */
    REP_EV_FOLLOWER_QUIT,      /* peer = leader, a = reason (enum rep_drop) */
    REP_EV_PROTOCOL_ERROR,     /* peer, a = message kind: an unexpected message was ignored */
    REP_EV_TRUNC_BELOW_APPLIED,/* a = truncation zxid, b = last applied (should never happen) */
};

enum rep_drop {
    REP_DROP_TIMEOUT = 1,      /* init/sync limit passed */
    REP_DROP_CONN_BREAK,
    REP_DROP_NO_QUORUM,        /* leader lost its quorum */
    REP_DROP_EPOCH_STALE,      /* LEADERINFO epoch < acceptedEpoch */
    REP_DROP_COUNTER_EXHAUSTED,/* zxid counter rollover: a new epoch is needed */
    REP_DROP_LOG_FULL,
    REP_DROP_FOLLOWER_AHEAD,   /* a follower is more recent than the leader */
    REP_DROP_NEW_CONNECTION,   /* learner reconnected */
    REP_DROP_PROTOCOL,         /* unrecoverable unexpected message */
};

struct rep_event {
    uint8_t kind;              /* enum rep_event_kind */
    int peer;
    uint64_t a, b;
};

struct replica_out {
    const struct rep_action *actions;
    uint32_t n_actions;
    const struct rep_event *events;
    uint32_t n_events;
    uint32_t n_events_dropped;   /* over REP_EVENTS_MAX in this batch */
    uint64_t timer_ms;           /* absolute; 0 = no timer wanted */
};

/* One in-memory log entry. */
struct rep_entry {
    uint64_t zxid;
    uint64_t hash;             /* sm_hash64(payload) */
    uint64_t file_off;         /* byte offset of its record in the log file (if appended) */
    uint32_t payload_off;      /* into the payload arena */
    uint32_t payload_len;
    uint32_t ack_mask;         /* leader: servers that ACKed it (bit by id) */
};

/* Leader-side view of one learner (ZooKeeper's LearnerHandler). */
enum rep_learner_state {
    REP_LH_NONE = 0,
    REP_LH_INFO,               /* FOLLOWERINFO received */
    REP_LH_LEADERINFO_SENT,
    REP_LH_EPOCH_ACKED,        /* ACKEPOCH received, waiting for currentEpoch to persist */
    REP_LH_SYNCING,            /* sync stream + NEWLEADER sent; proposals go to it */
    REP_LH_NEWLEADER_ACKED,    /* counted in the NEWLEADER quorum */
    REP_LH_UPTODATE,           /* UPTODATE sent: in broadcast */
};

struct rep_learner {
    uint8_t state;             /* enum rep_learner_state */
    uint8_t observer;
    uint8_t epoch_valid;       /* ACKEPOCH carried a currentEpoch (not ZooKeeper's -1) */
    uint64_t accepted_epoch;   /* from FOLLOWERINFO */
    uint64_t current_epoch;    /* from ACKEPOCH */
    uint64_t last_zxid;        /* from ACKEPOCH */
    uint64_t last_heard_ms;
    uint8_t nl_ack_missed;     /* BUG_ACK_ORDER_4685: the first ACK after NEWLEADER was another one */
};

/* A disk op whose completion the replica waits on. */
struct rep_disk_wait {
    uint64_t op_id;
    uint8_t kind;              /* enum rep_action_kind */
    uint8_t cont;              /* continuation (replica.c private enum) */
    uint8_t which;
    uint32_t session;          /* role session it belongs to (stale continuations skip their sends) */
    uint64_t value;            /* epoch / zxid */
    uint64_t log_hi;           /* FSYNC: absolute log index covered */
};

struct replica {
    /* ---- configuration (read-only after init) ---- */
    struct replica_config cfg;
    struct quorum_verifier qv;

    /* ---- public state for the invariant checker (read-only outside core) ---- */
    int id;
    uint8_t state;             /* enum rep_state */
    uint8_t phase;             /* enum rep_phase */
    int leader_id;             /* leader followed/observed (self when leading); 0 = none */
    uint64_t accepted_epoch;   /* memory copy; the file is always written first */
    uint64_t current_epoch;
    uint64_t accepted_epoch_issued; /* highest acceptedEpoch write issued (may not be durable yet) */
    uint64_t established_epoch;/* leading: epoch in which a quorum ACKed NEWLEADER; else 0 */
    struct fle fle;            /* fle.vote is the current vote, fle.round the logical clock */
    /* In-memory log: absolute indices [log_lo, log_hi); entry i at log[i - log_lo]. */
    uint64_t log_lo, log_hi;
    uint64_t log_appended_hi;  /* entries issued to disk (LOG_APPEND) */
    uint64_t log_durable_hi;   /* entries covered by a completed fsync */
    uint64_t log_base_zxid;    /* zxid just before log_lo (covered by the snapshot/state) */
    uint64_t log_file_end;     /* byte size of the log file after issued ops */
    struct rep_entry *log;     /* capacity cfg.log_entries_max */
    uint8_t *payload;          /* arena, capacity cfg.log_bytes_max */
    uint32_t payload_used;
    uint64_t commit_hi;        /* absolute index: entries below are known committed */
    uint64_t applied_hi;       /* entries below are applied to the state machine */
    uint64_t zxid_committed;   /* last committed zxid known here */
    uint64_t zxid_applied;     /* last applied zxid (== sm last_applied) */
    uint64_t zxid_reported;    /* ZK-2355 bug only: a lastProcessedZxid that ran ahead of the log */
    uint64_t snapshot_zxid;    /* zxid of the last durable snapshot */
    void *sm;                  /* state machine instance (cfg.sm ops) */

    /* ---- leader ---- */
    struct rep_learner learners[REP_SERVERS_MAX + 1];
    uint64_t epoch_proposed;   /* new epoch chosen in discovery, 0 = not yet */
    uint32_t info_mask;        /* voters (incl. me) whose FOLLOWERINFO counts for the epoch */
    uint32_t epoch_ack_mask;   /* voters (incl. me) that ACKed the epoch */
    uint32_t newleader_ack_mask;
    uint64_t next_counter;     /* next zxid counter to propose in established_epoch */
    uint64_t lead_since_ms;
    uint64_t ping_at_ms;
    uint8_t current_write_pending; /* currentEpoch write issued after the ACKEPOCH quorum */

    /* ---- follower / observer ---- */
    uint64_t follow_epoch;     /* epoch from LEADERINFO being synced to */
    uint8_t sync_kind;         /* enum zab_sync_kind received */
    uint8_t sync_started;      /* a DIFF/TRUNC/SNAP arrived */
    uint8_t newleader_seen;
    uint8_t newleader_acked;
    uint64_t ack_hi;           /* absolute index: proposals ACKed below this */
    uint64_t leader_heard_ms;
    uint64_t follow_since_ms;
    uint64_t pending_commit_zxid; /* highest COMMIT/UPTODATE zxid received */
    uint8_t appends_deferred;  /* BUG_DIFF_LOG_AFTER_ACK: sync txns not yet issued to disk */

    /* ---- FOLLOWERINFO that arrived while LOOKING (a connect to a leader-to-be) ---- */
    uint8_t finfo_pending[REP_SERVERS_MAX + 1];
    uint64_t finfo_epoch[REP_SERVERS_MAX + 1];
    uint8_t finfo_observer[REP_SERVERS_MAX + 1];

    /* ---- disk ops in flight ---- */
    uint64_t next_op_id;
    struct rep_disk_wait *waits;   /* ring, capacity waits_cap */
    uint32_t waits_cap, waits_head, waits_n;
    uint32_t session;          /* bumped on every role change */
    uint64_t snapshot_pending_zxid;
    uint64_t snapshot_driver_op;  /* op id of a REP_SNAPSHOT_BY_DRIVER in flight, 0 = none */
    uint64_t snapshot_driver_zxid;
    uint32_t applied_since_snapshot;
    uint8_t started;
    uint64_t *scratch_zxids;   /* log_entries_max; for zab_sync_decide */

    /* ---- output batch ---- */
    struct rep_action *actions;
    uint32_t n_actions, actions_cap;
    uint8_t *out_bytes;
    size_t out_used, out_cap;
    struct rep_event events[REP_EVENTS_MAX];
    uint32_t n_events, n_events_dropped;
    struct replica_out out;
};

/* Allocates the replica's bounded buffers. 0, or a REP_ERR_* on a bad config
 * (message in err). A replica must be freed with replica_free. */
int replica_init(struct replica *r, const struct replica_config *cfg, char *err, size_t errlen);
void replica_free(struct replica *r);
/* Deep copy (for the explorer). dst must not be initialised; free it later. */
int replica_clone(struct replica *dst, const struct replica *src);
/* 64-bit hash of the protocol state (not the pending output batch): equal
 * states hash equal, for the explorer's visited set. */
uint64_t replica_hash(const struct replica *r);

/* Start or restart from the durable state: loads the snapshot, scans the log
 * (CRC32C per record), cuts a torn tail (emits LOG_TRUNCATE), replays,
 * checks the epoch files, then enters LOOKING. Corrupt data or inconsistent
 * epochs -> REP_ERR_CORRUPT / REP_ERR_EPOCH with a message; the replica must
 * not be used further. */
int replica_start(struct replica *r, uint64_t now_ms, const struct replica_durable *d,
                  char *err, size_t errlen);

void replica_on_message(struct replica *r, uint64_t now_ms, int from_id,
                        const uint8_t *msg, size_t len);
void replica_on_conn_break(struct replica *r, uint64_t now_ms, int peer_id);
void replica_on_timer(struct replica *r, uint64_t now_ms);
void replica_on_disk_done(struct replica *r, uint64_t now_ms, uint64_t op_id);
/* Established leader in BROADCAST only (else REP_ERR_NOT_LEADER). On success
 * *zxid_out is the txn's zxid; committed later (watch REP_EV_COMMITTED). */
int replica_propose(struct replica *r, uint64_t now_ms, const uint8_t *payload, size_t len,
                    uint64_t *zxid_out);

const struct replica_out *replica_output(struct replica *r);
void replica_output_clear(struct replica *r);

/* ---- small accessors for the checker and traces ---- */
uint64_t replica_last_zxid(const struct replica *r);          /* last zxid in the log (or base) */
uint64_t replica_durable_last_zxid(const struct replica *r);  /* last fsynced zxid */
uint64_t replica_digest(const struct replica *r);             /* state-machine digest */
uint32_t replica_log_count(const struct replica *r);          /* entries in memory */
uint32_t replica_log_durable_count(const struct replica *r);  /* oldest entries known fsynced */
const struct rep_entry *replica_log_entry(const struct replica *r, uint32_t i); /* 0 = oldest */
const uint8_t *replica_log_payload(const struct replica *r, uint32_t i, uint32_t *len);

const char *rep_state_name(int state);
const char *rep_phase_name(int phase);
const char *rep_event_name(int kind);
/* "ELECTED leader=2 round=3 as FOLLOWING"; always NUL-terminates. */
char *rep_event_describe(const struct rep_event *ev, char *buf, size_t cap);

#endif
