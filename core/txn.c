/* txn: encoder and two-pass decoder. The first decode pass validates the
 * whole record and counts its ACL entries and sub-ops; only then are the
 * arrays allocated (exact sizes) and the second pass fills them, so a
 * hostile length can never cause a large allocation. */
#include "core/txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/bytes.h"

bool zk_txn_op_type_valid(int32_t type, bool in_multi)
{
    switch (type) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP:
    case ZOO_CREATE_TTL_OP: case ZOO_DELETE_OP: case ZOO_SETDATA_OP:
    case ZOO_CHECK_OP: case ZOO_ERROR_OP:
        return true;
    case ZOO_DELETE_CONTAINER_OP: case ZOO_SETACL_OP: case ZOO_MULTI_OP:
    case ZOO_CREATE_SESSION_OP: case ZOO_CLOSE_SESSION_OP:
        return !in_multi;
    default:
        return false;
    }
}

static bool txn_is_create(int32_t type)
{
    return type == ZOO_CREATE_OP || type == ZOO_CREATE2_OP ||
           type == ZOO_CREATE_CONTAINER_OP || type == ZOO_CREATE_TTL_OP;
}

/* ---- encode ---------------------------------------------------------- */

static void txn_w_op(struct bytes_w *w, const struct zk_txn_op *op)
{
    switch (op->type) {
    case ZOO_ERROR_OP:
        bytes_w_u32(w, (uint32_t)op->err);
        return;
    case ZOO_DELETE_OP: case ZOO_DELETE_CONTAINER_OP:
        bytes_w_blob(w, op->path, op->path_len);
        return;
    case ZOO_SETDATA_OP:
        bytes_w_blob(w, op->path, op->path_len);
        bytes_w_blob(w, op->data, op->data_len);
        bytes_w_u32(w, (uint32_t)op->version);
        return;
    case ZOO_SETACL_OP:
        bytes_w_blob(w, op->path, op->path_len);
        acl_write(w, op->acl, op->acl_count);
        bytes_w_u32(w, (uint32_t)op->version);
        return;
    case ZOO_CHECK_OP:
        bytes_w_blob(w, op->path, op->path_len);
        bytes_w_u32(w, (uint32_t)op->version);
        return;
    default: /* creates */
        bytes_w_blob(w, op->path, op->path_len);
        bytes_w_blob(w, op->data, op->data_len);
        acl_write(w, op->acl, op->acl_count);
        bytes_w_u64(w, (uint64_t)op->ephemeral_owner);
        bytes_w_u32(w, (uint32_t)op->parent_cversion);
        return;
    }
}

static bool txn_w_all(const struct zk_txn *t, struct bytes_w *w)
{
    if (!zk_txn_op_type_valid(t->type, false))
        return false;
    bytes_w_u8(w, ZK_TXN_FORMAT);
    bytes_w_u32(w, (uint32_t)t->type);
    bytes_w_u64(w, (uint64_t)t->session_id);
    bytes_w_u32(w, (uint32_t)t->cxid);
    bytes_w_u64(w, (uint64_t)t->zxid);
    bytes_w_u64(w, (uint64_t)t->time_ms);
    switch (t->type) {
    case ZOO_CREATE_SESSION_OP:
        bytes_w_u32(w, (uint32_t)t->timeout_ms);
        break;
    case ZOO_CLOSE_SESSION_OP:
        if (t->path_count > ZK_TXN_CLOSE_PATHS_MAX)
            return false;
        bytes_w_u32(w, t->path_count);
        for (uint32_t i = 0; i < t->path_count; i++)
            bytes_w_blob(w, t->paths[i].path, t->paths[i].len);
        break;
    case ZOO_MULTI_OP:
        if (t->op_count > ZK_MULTI_MAX)
            return false;
        bytes_w_u32(w, t->op_count);
        for (uint32_t i = 0; i < t->op_count; i++) {
            if (!zk_txn_op_type_valid(t->ops[i].type, true))
                return false;
            bytes_w_u32(w, (uint32_t)t->ops[i].type);
            txn_w_op(w, &t->ops[i]);
        }
        break;
    default:
        if (t->op.type != t->type)
            return false;
        txn_w_op(w, &t->op);
        break;
    }
    return true;
}

size_t zk_txn_encoded_size(const struct zk_txn *txn)
{
    struct bytes_w w = {0};
    return txn_w_all(txn, &w) ? w.len : 0;
}

int zk_txn_encode(const struct zk_txn *txn, uint8_t *buf, size_t cap, size_t *len)
{
    struct bytes_w w = {.buf = buf, .cap = cap};
    if (!txn_w_all(txn, &w) || w.overflow)
        return ZBADARGUMENTS;
    *len = w.len;
    return ZOK;
}

/* ---- decode ---------------------------------------------------------- */

struct txn_dec {
    struct bytes_r r;
    struct zk_acl *acl_store;   /* NULL in the counting pass */
    uint32_t acl_used;
    const char *why;
};

static const char *txn_r_path(struct txn_dec *d, uint32_t *len)
{
    const uint8_t *p = bytes_r_blob(&d->r, ZK_PATH_MAX, len);
    if (d->r.short_read && d->why == NULL)
        d->why = "path truncated or longer than ZK_PATH_MAX";
    return (const char *)p;
}

static void txn_r_acl(struct txn_dec *d, struct zk_txn_op *op)
{
    struct zk_acl *out = d->acl_store ? d->acl_store + d->acl_used : NULL;
    if (!acl_read(&d->r, out, ZK_ACL_MAX, &op->acl_count)) {
        d->r.short_read = true;
        if (d->why == NULL)
            d->why = "bad ACL list";
        return;
    }
    op->acl = d->acl_store ? out : NULL;
    d->acl_used += op->acl_count;
}

static void txn_r_op(struct txn_dec *d, struct zk_txn_op *op)
{
    struct bytes_r *r = &d->r;
    if (op->type == ZOO_ERROR_OP) {
        op->err = (int32_t)bytes_r_u32(r);
        return;
    }
    op->path = txn_r_path(d, &op->path_len);
    if (op->type == ZOO_SETDATA_OP || txn_is_create(op->type))
        op->data = bytes_r_blob(r, UINT32_MAX, &op->data_len);
    if (op->type == ZOO_SETACL_OP || txn_is_create(op->type))
        txn_r_acl(d, op);
    if (txn_is_create(op->type)) {
        op->ephemeral_owner = (int64_t)bytes_r_u64(r);
        op->parent_cversion = (int32_t)bytes_r_u32(r);
    } else if (op->type == ZOO_SETDATA_OP || op->type == ZOO_SETACL_OP ||
               op->type == ZOO_CHECK_OP) {
        op->version = (int32_t)bytes_r_u32(r);
    }
}

static void txn_r_close(struct txn_dec *d, struct zk_txn *t, bool fill)
{
    uint32_t n = bytes_r_u32(&d->r);
    /* Each path costs at least its 4-byte length: bounds n by the input. */
    if (n > ZK_TXN_CLOSE_PATHS_MAX || n > (d->r.len - d->r.off) / 4) {
        d->r.short_read = true;
        d->why = "closeSession path count out of range";
        return;
    }
    t->path_count = n;
    for (uint32_t i = 0; i < n && !d->r.short_read; i++) {
        uint32_t len;
        const char *p = txn_r_path(d, &len);
        if (fill)
            t->paths[i] = (struct zk_txn_path){p, len};
    }
}

static void txn_r_multi(struct txn_dec *d, struct zk_txn *t, bool fill)
{
    uint32_t n = bytes_r_u32(&d->r);
    if (n > ZK_MULTI_MAX || n > (d->r.len - d->r.off) / 4) {
        d->r.short_read = true;
        d->why = "multi op count out of range";
        return;
    }
    t->op_count = n;
    for (uint32_t i = 0; i < n && !d->r.short_read; i++) {
        struct zk_txn_op tmp, *op = fill ? &t->ops[i] : &tmp;
        memset(op, 0, sizeof *op);
        op->type = (int32_t)bytes_r_u32(&d->r);
        if (!d->r.short_read && !zk_txn_op_type_valid(op->type, true)) {
            d->r.short_read = true;
            d->why = "sub-op type not allowed in multi";
            return;
        }
        txn_r_op(d, op);
    }
}

static void txn_r_all(struct txn_dec *d, struct zk_txn *t, bool fill)
{
    struct bytes_r *r = &d->r;
    if (bytes_r_u8(r) != ZK_TXN_FORMAT && !r->short_read) {
        r->short_read = true;
        d->why = "unknown txn format version";
        return;
    }
    t->type = (int32_t)bytes_r_u32(r);
    t->session_id = (int64_t)bytes_r_u64(r);
    t->cxid = (int32_t)bytes_r_u32(r);
    t->zxid = (int64_t)bytes_r_u64(r);
    t->time_ms = (int64_t)bytes_r_u64(r);
    if (r->short_read)
        return;
    if (!zk_txn_op_type_valid(t->type, false)) {
        r->short_read = true;
        d->why = "unknown txn type";
        return;
    }
    if (t->type == ZOO_CREATE_SESSION_OP) {
        t->timeout_ms = (int32_t)bytes_r_u32(r);
    } else if (t->type == ZOO_CLOSE_SESSION_OP) {
        txn_r_close(d, t, fill);
    } else if (t->type == ZOO_MULTI_OP) {
        txn_r_multi(d, t, fill);
    } else {
        t->op.type = t->type;
        txn_r_op(d, &t->op);
    }
}

static int txn_dec_fail(struct zk_txn *t, const struct txn_dec *d, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "offset %zu: %s", d->r.off,
                 d->why ? d->why : (d->r.off < d->r.len ? "trailing bytes" : "truncated"));
    zk_txn_free(t);
    return ZMARSHALLINGERROR;
}

int zk_txn_decode(struct zk_txn *txn, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    memset(txn, 0, sizeof *txn);
    struct txn_dec d = {.r = {.buf = buf, .len = len}};
    txn_r_all(&d, txn, false);
    if (d.r.short_read || d.r.off != len)
        return txn_dec_fail(txn, &d, err, errlen);
    uint32_t acl_total = d.acl_used, ops = txn->op_count, paths = txn->path_count;
    memset(txn, 0, sizeof *txn);
    txn->owned[0] = ops ? calloc(ops, sizeof *txn->ops) : NULL;
    txn->owned[1] = acl_total ? calloc(acl_total, sizeof(struct zk_acl)) : NULL;
    txn->owned[2] = paths ? calloc(paths, sizeof *txn->paths) : NULL;
    if ((ops && !txn->owned[0]) || (acl_total && !txn->owned[1]) || (paths && !txn->owned[2])) {
        zk_txn_free(txn);
        return ZSYSTEMERROR;
    }
    txn->ops = txn->owned[0];
    txn->paths = txn->owned[2];
    d = (struct txn_dec){.r = {.buf = buf, .len = len}, .acl_store = txn->owned[1]};
    txn_r_all(&d, txn, true);
    return ZOK;
}

void zk_txn_free(struct zk_txn *txn)
{
    for (int i = 0; i < 3; i++)
        free(txn->owned[i]);
    memset(txn, 0, sizeof *txn);
}
