/* zks_sm: the state machine a zk_server's replica runs: the ZooKeeper state
 * machine (core/zk_sm.h) plus a binding to the server so that each applied
 * txn's results and watch triggers reach the server the moment ZAB applies
 * it (replies and notifications then leave in commit order). Also defines
 * the plain zk_sm_ops for drivers running a bare replica over the tree.
 *
 * Owns: one heap-allocated struct zks_sm per replica.
 * Never: keep the binding across inputs (it is set by the server for the
 * length of one input only, so copying a server never copies a stale
 * pointer), or change what the zk state machine decides. */
#include <stdlib.h>

#include "core/zks_internal.h"

const struct sm_ops zk_sm_ops = {"zk", zk_sm_op_create, zk_sm_op_destroy, zk_sm_op_clone,
                                 zk_sm_op_apply, zk_sm_op_digest, zk_sm_op_last_applied,
                                 zk_sm_op_snapshot_size, zk_sm_op_snapshot_write,
                                 zk_sm_op_snapshot_load};

static void *w_create(void)
{
    struct zks_sm *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    if (zk_sm_init(&w->zk, NULL) != ZOK) {
        free(w);
        return NULL;
    }
    return w;
}

static void w_destroy(void *p)
{
    struct zks_sm *w = p;
    if (w == NULL)
        return;
    zk_sm_free(&w->zk);
    free(w);
}

static void *w_clone(const void *p)
{
    const struct zks_sm *src = p;
    struct zks_sm *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    if (zk_sm_clone(&w->zk, &src->zk) != ZOK) {
        free(w);
        return NULL;
    }
    w->srv = NULL;
    return w;
}

static int w_apply(void *p, uint64_t zxid, const uint8_t *txn, size_t len)
{
    struct zks_sm *w = p;
    int rc = zk_sm_op_apply(&w->zk, zxid, txn, len);
    /* Only a txn that really advanced lastApplied has a fresh outcome. */
    if (w->srv != NULL && zk_sm_last_applied(&w->zk) == zxid && zk_sm_last_out(&w->zk)->zxid == (int64_t)zxid)
        zks_on_applied(w->srv, zk_sm_last_out(&w->zk));
    return rc;
}

static uint64_t w_digest(const void *p) { return zk_sm_digest(&((const struct zks_sm *)p)->zk); }

static uint64_t w_last_applied(const void *p)
{
    return zk_sm_last_applied(&((const struct zks_sm *)p)->zk);
}

static size_t w_snapshot_size(const void *p)
{
    return zk_sm_snapshot_size(&((const struct zks_sm *)p)->zk);
}

static int w_snapshot_write(const void *p, uint8_t *buf, size_t cap, size_t *len)
{
    return zk_sm_op_snapshot_write(&((const struct zks_sm *)p)->zk, buf, cap, len);
}

static int w_snapshot_load(void *p, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    return zk_sm_op_snapshot_load(&((struct zks_sm *)p)->zk, buf, len, err, errlen);
}

const struct sm_ops zks_sm_ops = {"zk-server", w_create, w_destroy, w_clone, w_apply,
                                  w_digest, w_last_applied, w_snapshot_size,
                                  w_snapshot_write, w_snapshot_load};
