/* Private seams between the files of the zk_server layer: zk_server.c
 * (lifecycle, replica glue, roles, output batch), zks_conn.c (connections,
 * queues, reads, replies), zks_leader.c (prep/propose, session tracker,
 * peer messages) and zks_sm.c (the state-machine wrapper). Not for drivers. */
#ifndef ZABLAB_CORE_ZKS_INTERNAL_H
#define ZABLAB_CORE_ZKS_INTERNAL_H

#include "core/zk_server.h"
#include "core/zks_codec.h"

/* struct zks_pending.stage */
enum zks_stage {
    ZKS_ST_QUEUED = 1,       /* waiting (read behind a write, or connection not open) */
    ZKS_ST_INFLIGHT,         /* write/sync submitted, waiting for commit / leader */
    ZKS_ST_SYNC_WAIT,        /* sync: leader answered, waiting for apply >= wait_zxid */
    ZKS_ST_DONE,             /* answered without a txn: err holds the result */
};

/* The state machine the replica runs: the zk state machine plus a binding
 * to the server, set only while a server input is being handled, so that
 * every applied txn is seen by the server (replies, watches, leader state). */
struct zks_sm {
    struct zk_sm zk;
    struct zk_server *srv;
};
extern const struct sm_ops zks_sm_ops;

static inline struct zks_sm *zks_smw(const struct zk_server *s)
{
    return (struct zks_sm *)s->rep.sm;
}
static inline const struct tree *zks_tree(const struct zk_server *s)
{
    return &zks_smw(s)->zk.tree;
}
static inline bool zks_is_leader(const struct zk_server *s)
{
    return s->serving && s->serve_state == REP_LEADING;
}

/* ---- zk_server.c ---- */
/* After every replica call: move its output into the batch (tagging SENDs)
 * and notice role changes. */
void zks_after_replica(struct zk_server *s);
void zks_send(struct zk_server *s, int peer, const struct zks_msg *m);
/* Grows the array *p (elements of size bytes, capacity *cap) by doubling
 * from 16 until it holds need; false (array unchanged) on OOM or need
 * above UINT32_MAX / 2. The one array-growth helper of this layer. */
bool zks_grow(void **p, uint32_t *cap, uint32_t need, size_t size);
/* Appends raw bytes to the batch arena; returns the offset (UINT32_MAX on OOM). */
uint32_t zks_out_bytes(struct zk_server *s, const void *p, size_t n);
struct zks_out *zks_out_new(struct zk_server *s, uint8_t kind, uint64_t conn);
void zks_note(struct zk_server *s, const char *what);
/* Every input is framed by enter (binds the state machine) and leave
 * (deferred submissions, periodic duties, unbind). */
void zks_enter(struct zk_server *s, uint64_t now_ms);
void zks_leave(struct zk_server *s);

/* ---- zks_conn.c ---- */
struct zks_conn *zks_conn_find(struct zk_server *s, uint64_t id);
struct zks_conn *zks_conn_by_session(struct zk_server *s, int64_t session_id, uint8_t state);
void zks_conn_close(struct zk_server *s, struct zks_conn *c, int32_t reason);
void zks_conn_close_all(struct zk_server *s, int32_t reason);
/* Frees a slot's queue (no output, no watch cleanup). */
void zks_conn_release(struct zks_conn *c);
/* Submits queued writes of connections marked needs_submit. */
void zks_conn_submit_pending(struct zk_server *s);
void zks_conn_opened(struct zk_server *s, struct zks_conn *c, bool valid);
void zks_conn_flush(struct zk_server *s, struct zks_conn *c);
void zks_conn_flush_syncs(struct zk_server *s);
/* A submitted write or sync got its answer without a txn. */
void zks_conn_req_failed(struct zk_server *s, int64_t session_id, int32_t cxid, int32_t type,
                         int32_t err);
void zks_conn_sync_reply(struct zk_server *s, int64_t session_id, int32_t cxid, uint64_t zxid);
void zks_conn_moved(struct zk_server *s, int64_t session_id);
void zks_on_applied(struct zk_server *s, const struct zk_apply_out *out);
bool zks_is_write_op(int32_t op);

/* ---- zks_leader.c ---- */
/* Submits a write or a createSession from a client of this server: leader
 * preps and proposes, a learner forwards. ZOK, or the error to answer. */
int zks_submit_write(struct zk_server *s, const struct zk_request *req);
/* Sync of a local session: returns ZOK with *wait_zxid known (leader) or
 * after forwarding (learner: *wait_zxid = 0 until the SYNC_REPLY). */
int zks_submit_sync(struct zk_server *s, int64_t session_id, int32_t cxid, uint64_t *wait_zxid);
/* Reconnect of a known session on this server: leader decides at once
 * (returns 1 valid / 0 invalid), a learner asks (returns -1: pending). */
int zks_revalidate(struct zk_server *s, uint64_t conn, int64_t session_id, int32_t timeout_ms);
void zks_touch_local(struct zk_server *s, int64_t session_id);
void zks_leader_start(struct zk_server *s);
void zks_leader_stop(struct zk_server *s);
void zks_leader_tick(struct zk_server *s);
void zks_learner_tick(struct zk_server *s);
void zks_on_peer_msg(struct zk_server *s, int from, const struct zks_msg *m);
uint64_t zks_leader_deadline(const struct zk_server *s);

#endif
