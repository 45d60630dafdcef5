/* nlw: no-lost-writes against one server's durable images (see nlw.h). */
#include "sim/nlw.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log_record.h"
#include "core/storage.h"
#include "core/txn.h"
#include "core/zk_sm.h"

struct rec { uint64_t zxid; const uint8_t *payload; uint32_t len; };

struct recs {
    struct rec *v;
    size_t n, cap;           /* cap: at most log_len / LOG_RECORD_HEADER_BYTES */
};

static int collect(void *ctx, const struct log_record *r, size_t offset)
{
    (void)offset;
    struct recs *rs = ctx;
    if (rs->n == rs->cap)
        return -2;           /* cannot happen: cap covers every possible record */
    rs->v[rs->n++] = (struct rec){r->zxid, r->payload, r->payload_len};
    return 0;
}

static const struct rec *find_rec(const struct recs *rs, uint64_t zxid)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->v[mid].zxid == zxid)
            return &rs->v[mid];
        if (rs->v[mid].zxid < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- a txn's effect on a later tree ---- */

/* pzxid of the nearest ancestor of path[0..len) that exists (0: none). */
static uint64_t ancestor_pzxid(const struct tree *t, const char *path, uint32_t len)
{
    while (len > 1) {
        uint32_t p = len - 1;
        while (p > 0 && path[p] != '/')
            p--;
        len = p ? p : 1;     /* the parent: up to its last '/', or the root */
        const struct tree_node *n = tree_get(t, path, len);
        if (n)
            return (uint64_t)n->stat.pzxid;
    }
    return 0;
}

static bool is_create(int32_t type)
{
    return type == ZOO_CREATE_OP || type == ZOO_CREATE2_OP || type == ZOO_CREATE_CONTAINER_OP ||
           type == ZOO_CREATE_TTL_OP;
}

static int op_effect(const struct tree *t, const struct zk_txn_op *op, uint64_t z, char *detail,
                     size_t len)
{
    const struct tree_node *n = tree_get(t, op->path, op->path_len);
    uint64_t czxid = n ? (uint64_t)n->stat.czxid : 0;
    const char *why = NULL;
    if (is_create(op->type) || op->type == ZOO_SETDATA_OP) {
        if (!n && ancestor_pzxid(t, op->path, op->path_len) <= z)
            why = "is gone, and no later change of its parent's children explains it";
        else if (n && is_create(op->type) && czxid < z)
            why = "exists from an earlier create";
        else if (n && op->type == ZOO_SETDATA_OP && czxid <= z &&
                 ((uint64_t)n->stat.mzxid < z || n->stat.version < op->version))
            why = "does not carry the set (mzxid or version behind it)";
    } else if (op->type == ZOO_DELETE_OP || op->type == ZOO_DELETE_CONTAINER_OP) {
        if (n && czxid <= z)
            why = "still exists";
        else if (!n && ancestor_pzxid(t, op->path, op->path_len) < z)
            why = "is gone, but its parent never saw the delete";
    }
    if (!why)
        return 0;
    snprintf(detail, len, "%.*s %s", (int)(op->path_len > 120 ? 120 : op->path_len), op->path, why);
    return 1;
}

static bool path_twice(const struct zk_txn *x, uint32_t i)
{
    for (uint32_t j = 0; j < x->op_count; j++)
        if (j != i && x->ops[j].path_len == x->ops[i].path_len &&
            !memcmp(x->ops[j].path, x->ops[i].path, x->ops[i].path_len))
            return true;
    return false;
}

int nlw_effect_present(const struct tree *t, const uint8_t *txn, uint32_t txn_len, uint64_t zxid,
                       char *detail, size_t len)
{
    struct zk_txn x;
    if (zk_txn_decode(&x, txn, txn_len, NULL, 0) != ZOK) {
        snprintf(detail, len, "the txn does not decode");
        return 1;
    }
    int rc = 0;
    if (x.type == ZOO_MULTI_OP) {
        /* A path a multi touches twice has no single expected end state. */
        for (uint32_t i = 0; i < x.op_count && !rc; i++)
            if (!path_twice(&x, i))
                rc = op_effect(t, &x.ops[i], zxid, detail, len);
    } else if (x.type == ZOO_ERROR_OP) {
        snprintf(detail, len, "the txn is an error txn");
        rc = 1;
    } else if (is_create(x.type) || x.type == ZOO_SETDATA_OP || x.type == ZOO_DELETE_OP ||
               x.type == ZOO_DELETE_CONTAINER_OP) {
        rc = op_effect(t, &x.op, zxid, detail, len);
    }
    zk_txn_free(&x);
    return rc;
}

/* ---- one server ---- */

static int same_write(const struct rec *r, const struct nlw_write *w)
{
    struct zk_txn x;
    if (zk_txn_decode(&x, r->payload, r->len, NULL, 0) != ZOK)
        return 0;
    int same = x.session_id == w->session && x.cxid == w->xid && x.type != ZOO_ERROR_OP;
    zk_txn_free(&x);
    return same;
}

static int load_snapshot(const struct nlw_durable *d, struct zk_sm *sm, uint64_t *zxid,
                         char *detail, size_t len)
{
    const uint8_t *body;
    size_t body_len;
    char err[160];
    if (storage_snapshot_decode(d->snapshot, d->snapshot_len, zxid, &body, &body_len, err,
                                sizeof err) != 0 ||
        zk_sm_snapshot_load(sm, body, body_len, err, sizeof err) != ZOK) {
        snprintf(detail, len, "snapshot does not load: %s", err);
        return -1;
    }
    return 0;
}

struct one {
    int id;
    const struct recs *rs;
    const struct zk_sm *sm;  /* NULL: no snapshot */
    uint64_t snap_zxid, last_zxid;
    nlw_ref_fn *ref;
    void *ref_ctx;
    struct nlw_stats *st;
};

static int check_snapshot(const struct one *o, const struct nlw_write *w, const struct rec *r,
                          char *detail, size_t len)
{
    uint32_t tl = r ? r->len : 0;
    const uint8_t *txn = r ? r->payload : o->ref ? o->ref(o->ref_ctx, w->zxid, &tl) : NULL;
    if (!txn) {
        o->st->unverified++;
        return 0;
    }
    char why[200];
    if (nlw_effect_present(&o->sm->tree, txn, tl, w->zxid, why, sizeof why) == 0) {
        o->st->in_snapshot++;
        return 0;
    }
    snprintf(detail, len, "client %d's write at zxid 0x%" PRIx64 " is not in s%d's snapshot "
             "(0x%" PRIx64 "): %s", w->client + 1, w->zxid, o->id, o->snap_zxid, why);
    return 1;
}

static int check_write(const struct one *o, const struct nlw_write *w, char *detail, size_t len)
{
    const struct rec *r = find_rec(o->rs, w->zxid);
    if (r) {
        o->st->in_log++;
        if (!same_write(r, w)) {
            snprintf(detail, len, "zxid 0x%" PRIx64 " acknowledged to client %d (session 0x%" PRIx64
                     ", xid %d) holds another txn in s%d's durable log", w->zxid, w->client + 1,
                     (uint64_t)w->session, w->xid, o->id);
            return 1;
        }
    }
    /* The snapshot is judged even when the log still has the record: a
     * restart starts from it and replays only what follows. */
    if (o->sm && w->zxid <= o->snap_zxid)
        return check_snapshot(o, w, r, detail, len);
    if (r)
        return 0;
    if (o->last_zxid > w->zxid) {
        snprintf(detail, len, "client %d's write (session 0x%" PRIx64 ", xid %d) acknowledged at "
                 "zxid 0x%" PRIx64 " is missing from s%d's durable state, which reaches 0x%" PRIx64,
                 w->client + 1, (uint64_t)w->session, w->xid, w->zxid, o->id, o->last_zxid);
        return 1;
    }
    o->st->not_reached++;
    return 0;
}

int nlw_check_durable(int id, const struct nlw_durable *d, const struct nlw_write *w, uint32_t n,
                      nlw_ref_fn *ref, void *ref_ctx, struct nlw_stats *st, char *detail,
                      size_t len)
{
    struct nlw_stats dummy = {0};
    struct recs rs = {0};
    struct zk_sm sm;
    bool have_sm = false;
    int rc = 0;
    char err[160];
    rs.cap = d->log_len / LOG_RECORD_HEADER_BYTES + 1;
    rs.v = malloc(rs.cap * sizeof *rs.v);
    struct log_scan scan;
    if (!rs.v) {
        snprintf(detail, len, "out of memory");
        return -1;
    }
    if (log_scan(d->log, d->log ? d->log_len : 0, &scan, collect, &rs, err, sizeof err) != 0) {
        snprintf(detail, len, "s%d's durable log does not scan: %s", id, err);
        free(rs.v);
        return -1;
    }
    struct one o = {id, &rs, NULL, 0, rs.n ? rs.v[rs.n - 1].zxid : 0, ref, ref_ctx,
                    st ? st : &dummy};
    if (d->snapshot && d->snapshot_len) {
        if (zk_sm_init(&sm, NULL) != ZOK) {
            free(rs.v);
            snprintf(detail, len, "out of memory");
            return -1;
        }
        have_sm = true;
        rc = load_snapshot(d, &sm, &o.snap_zxid, detail, len);
        o.sm = &sm;
        if (o.snap_zxid > o.last_zxid)
            o.last_zxid = o.snap_zxid;
    }
    for (uint32_t k = 0; rc == 0 && k < n; k++)
        rc = check_write(&o, &w[k], detail, len);
    if (have_sm)
        zk_sm_free(&sm);
    free(rs.v);
    return rc;
}
