/* session: the leader's session tracker (SessionTrackerImpl + ExpiryQueue).
 *
 * Sessions have a negotiated timeout clamped into [min, max] (default
 * 2 x tick .. 20 x tick) and an expiry time rounded up to the next tick
 * boundary, as ExpiryQueue.roundToNextInterval does, so sessions expire in
 * tick-sized buckets. A touch moves the expiry forward. session_expired()
 * hands back the sessions whose time has come, in session-id order, and
 * marks them closing: from then on checks answer SESSIONEXPIRED, and a
 * closeSession txn is the caller's job. Unknown ids answer UNKNOWNSESSION,
 * an owner mismatch SESSIONMOVED.
 *
 * Session ids are ((now_ms << 24) >>> 8) | (server_id << 56), then +1 per
 * new session, unique across servers and restarts as in ZooKeeper. The
 * password is a keyed hash (SHA-1) of the id and an ensemble secret: any
 * server can recompute it. Times always come in as arguments.
 *
 * Owns: the tracked session table (bounded by max_sessions, sorted by id).
 * Never: read a clock, decide anything about the tree, or replicate itself
 * (the committed table lives in zk_sm; this is the leader's live view). */
#ifndef ZABLAB_CORE_SESSION_H
#define ZABLAB_CORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_PASSWD_LEN 16
#define SESSION_MAX_DEFAULT 65536u

struct session_config {
    int32_t tick_ms;
    int32_t min_timeout_ms;   /* 0: 2 x tick */
    int32_t max_timeout_ms;   /* 0: 20 x tick */
    uint32_t max_sessions;    /* 0: SESSION_MAX_DEFAULT */
    uint8_t server_id;        /* 0..254 (255 is refused) */
};

struct session {
    int64_t id;
    int32_t timeout_ms;
    int64_t expiry_ms;        /* multiple of tick_ms */
    uint64_t owner;
    bool closing;
};

struct session_tracker {
    struct session_config cfg;
    struct session *s;        /* sorted by id */
    uint32_t count;
    uint32_t cap;
    int64_t next_id;
};

int session_init(struct session_tracker *tr, const struct session_config *cfg, int64_t now_ms);
void session_free(struct session_tracker *tr);
/* Deep copy (the explorer copies whole replicas). */
int session_clone(struct session_tracker *dst, const struct session_tracker *src);

/* ZooKeeper's first id for a server: ((ms << 24) >>> 8) | (sid << 56),
 * skipping the container owner value. */
int64_t session_initial_id(int64_t now_ms, uint8_t server_id);
int32_t session_negotiate_timeout(const struct session_tracker *tr, int32_t requested_ms);
/* ExpiryQueue.roundToNextInterval. */
int64_t session_round_expiry(const struct session_tracker *tr, int64_t t_ms);

/* A new session with a fresh id: ZOK, or ZTHROTTLEDOP at max_sessions.
 * *timeout_ms is updated to the negotiated value. */
int session_create(struct session_tracker *tr, int32_t *timeout_ms, uint64_t owner,
                   int64_t now_ms, int64_t *id_out);
/* Tracks a known id (a createSession seen in the log, a new leader taking
 * over the committed table): ZOK, ZTHROTTLEDOP when full; re-tracking
 * updates timeout and expiry. */
int session_track(struct session_tracker *tr, int64_t id, int32_t timeout_ms,
                  uint64_t owner, int64_t now_ms);
/* Extends the expiry: ZOK, ZUNKNOWNSESSION, ZSESSIONEXPIRED (closing). */
int session_touch(struct session_tracker *tr, int64_t id, int64_t now_ms);
/* SessionTrackerImpl.checkSession: ZOK, ZUNKNOWNSESSION, ZSESSIONEXPIRED,
 * ZSESSIONMOVED (owner differs). A session without an owner yet
 * (SESSION_OWNER_NONE, e.g. tracked by a new leader from the committed
 * table) is claimed by the first owner that checks it, as in ZooKeeper. */
#define SESSION_OWNER_NONE 0u
int session_check(struct session_tracker *tr, int64_t id, uint64_t owner);
int session_set_owner(struct session_tracker *tr, int64_t id, uint64_t owner);
void session_set_closing(struct session_tracker *tr, int64_t id);
void session_remove(struct session_tracker *tr, int64_t id);
const struct session *session_get(const struct session_tracker *tr, int64_t id);

/* Sessions with expiry <= now that are not yet closing, in id order, up to
 * cap written to out (the rest stay for the next call); each is marked
 * closing. Returns how many were written. */
uint32_t session_expired(struct session_tracker *tr, int64_t now_ms, int64_t *out, uint32_t cap);
/* Earliest expiry among open sessions (INT64_MAX if none): the timer. */
int64_t session_next_expiry_ms(const struct session_tracker *tr);

/* Deterministic password: first 16 bytes of SHA-1(secret || id, big-endian). */
void session_password(int64_t id, const uint8_t *secret, size_t secret_len,
                      uint8_t out[SESSION_PASSWD_LEN]);

/* Reconnect check: the password the client presents matches the one the
 * ensemble derives for that id (compared without early exit). */
bool session_password_ok(int64_t id, const uint8_t *secret, size_t secret_len,
                         const uint8_t *passwd, size_t passwd_len);

#endif
