/* zkh: a test harness for the ZooKeeper data model: a leader's prep, the
 * state machine, a session tracker and a watch manager wired together the
 * way a server wires them, with a queue of proposed-but-not-applied txns so
 * tests can exercise the outstanding-changes overlay. Test code only. */
#ifndef ZABLAB_TESTS_ZKH_H
#define ZABLAB_TESTS_ZKH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/prep.h"
#include "core/session.h"
#include "core/watch.h"
#include "core/zk_sm.h"

#define ZKH_QUEUE_MAX 64
#define ZKH_TXN_CAP (2u << 20)

struct zkh_pending {
    uint8_t *bytes;
    size_t len;
    int64_t zxid;
};

struct zkh {
    struct zk_sm sm;
    struct prep prep;
    struct session_tracker tr;
    bool sessions;            /* prep checks sessions through tr */
    struct watch_mgr wm;
    struct watch_out wout;    /* events of the last apply */
    const struct watch_filter *filter; /* NULL: deliver to everyone */
    struct zk_apply_out out;  /* outcome of the last apply */
    int64_t zxid;             /* last zxid handed to prep */
    int64_t time_ms;
    struct zkh_pending queue[ZKH_QUEUE_MAX];
    uint32_t queued;
    struct zk_id auth[ZK_AUTH_MAX];
    uint32_t auth_count;
    int64_t session;          /* default session of requests */
    uint8_t *buf;
};

void zkh_init(struct zkh *h, bool sessions, bool extended_types);
void zkh_free(struct zkh *h);

/* A request with the harness's session and auth filled in. */
struct zk_request zkh_req(const struct zkh *h, int32_t type, const char *path);

/* Prep + apply at once. Returns the request's error (prep's verdict);
 * h->out holds the apply results, h->wout the watch events. */
int zkh_submit(struct zkh *h, const struct zk_request *req);
/* Prep only: the txn is queued. Returns the request's error. */
int zkh_propose(struct zkh *h, const struct zk_request *req);
/* Apply the oldest queued txn. Returns zk_sm_apply's status. */
int zkh_apply_next(struct zkh *h);

/* Shortcuts; return the error code. */
int zkh_create(struct zkh *h, const char *path, const char *data, int32_t flags);
int zkh_delete(struct zkh *h, const char *path, int32_t version);
int zkh_set(struct zkh *h, const char *path, const char *data, int32_t version);
/* Path created by the last apply's first result. */
const char *zkh_created(const struct zkh *h);
const struct tree_node *zkh_node(const struct zkh *h, const char *path);

#endif
