/* apply: one switch over txn types, one helper per op. A multi whose
 * sub-ops include an error record (prep found a failure) applies nothing:
 * every op reports OK before the failure, the failure's own code, and
 * RUNTIMEINCONSISTENCY after it, as DataTree.processTxn does. */
#include "core/apply.h"

#include <stdlib.h>
#include <string.h>

#include "core/path.h"

void zk_apply_out_init(struct zk_apply_out *out)
{
    memset(out, 0, sizeof *out);
}

void zk_apply_out_reset(struct zk_apply_out *out)
{
    out->type = 0;
    out->session_id = 0;
    out->cxid = 0;
    out->zxid = 0;
    out->err = ZOK;
    out->result_count = 0;
    out->trigger_count = 0;
    out->strings_len = 0;
    out->acls_len = 0;
}

void zk_apply_out_free(struct zk_apply_out *out)
{
    free(out->results);
    free(out->triggers);
    free(out->strings);
    free(out->acls);
    memset(out, 0, sizeof *out);
}

static bool out_grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (q == NULL)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static bool out_str(struct zk_apply_out *out, const char *s, uint32_t len, uint32_t *off)
{
    size_t need = out->strings_len + len + 1;
    if (need > out->strings_cap) {
        size_t c = out->strings_cap ? out->strings_cap : 256;
        while (c < need)
            c *= 2;
        char *q = realloc(out->strings, c);
        if (q == NULL)
            return false;
        out->strings = q;
        out->strings_cap = c;
    }
    *off = (uint32_t)out->strings_len;
    memcpy(out->strings + out->strings_len, s, len);
    out->strings[out->strings_len + len] = '\0';
    out->strings_len = need;
    return true;
}

static struct zk_op_result *out_result(struct zk_apply_out *out, int32_t type, int32_t err)
{
    if (!out_grow((void **)&out->results, &out->result_cap, out->result_count + 1, sizeof *out->results))
        return NULL;
    struct zk_op_result *r = &out->results[out->result_count++];
    memset(r, 0, sizeof *r);
    r->type = err == ZOK ? type : ZOO_ERROR_OP;
    r->err = err;
    if (err != ZOK && out->err == ZOK)
        out->err = err;
    return r;
}

/* Copies the ACL of node `path` (if it exists) into the arena. */
static bool out_acl_of(struct zk_apply_out *out, const struct tree *t, const char *path, uint32_t len,
                       uint32_t *off, uint32_t *count)
{
    const struct tree_node *n = tree_get(t, path, len);
    *off = out->acls_len;
    *count = 0;
    const struct zk_acl *acl = n ? tree_node_acl(t, n, count) : NULL;
    if (*count == 0)
        return true;
    if (!out_grow((void **)&out->acls, &out->acls_cap, out->acls_len + *count, sizeof *out->acls))
        return false;
    memcpy(out->acls + out->acls_len, acl, *count * sizeof *acl);
    out->acls_len += *count;
    return true;
}

static bool out_trigger(struct zk_apply_out *out, int32_t event, const char *path, uint32_t len,
                        uint32_t acl_off, uint32_t acl_count)
{
    if (!out_grow((void **)&out->triggers, &out->trigger_cap, out->trigger_count + 1, sizeof *out->triggers))
        return false;
    struct zk_trigger *tr = &out->triggers[out->trigger_count];
    tr->event = event;
    tr->path_len = len;
    tr->acl_off = acl_off;
    tr->acl_count = acl_count;
    if (!out_str(out, path, len, &tr->path_off))
        return false;
    out->trigger_count++;
    return true;
}

/* A trigger about the node at path, with its current ACL. */
static bool out_trigger_node(struct zk_apply_out *out, const struct tree *t, int32_t event,
                             const char *path, uint32_t len)
{
    uint32_t off, count;
    return out_acl_of(out, t, path, len, &off, &count) && out_trigger(out, event, path, len, off, count);
}

/* ---- one op each ------------------------------------------------------ */

static int apply_create(struct tree *t, const struct zk_txn *txn, const struct zk_txn_op *op,
                        struct zk_apply_out *out)
{
    struct zk_stat st;
    memset(&st, 0, sizeof st);
    int err = tree_create(t, op->path, op->path_len, op->data, op->data_len, op->acl,
                          op->acl_count, op->ephemeral_owner, op->parent_cversion,
                          txn->zxid, txn->time_ms, &st);
    struct zk_op_result *r = out_result(out, op->type, err);
    if (r == NULL)
        return ZSYSTEMERROR;
    if (err != ZOK)
        return ZOK;
    r->stat = st;
    r->path_len = op->path_len;
    if (!out_str(out, op->path, op->path_len, &r->path_off))
        return ZSYSTEMERROR;
    uint32_t plen = (uint32_t)zk_path_parent_len(op->path, op->path_len);
    if (!out_trigger_node(out, t, ZOO_EVENT_CREATED, op->path, op->path_len) ||
        !out_trigger_node(out, t, ZOO_EVENT_CHILD_CHANGED, op->path, plen))
        return ZSYSTEMERROR;
    return ZOK;
}

static int apply_delete_path(struct tree *t, int64_t zxid, int32_t type, const char *path,
                             uint32_t len, struct zk_apply_out *out, bool record)
{
    /* The deleted node's ACL must be captured before it is gone. */
    uint32_t acl_off, acl_count;
    if (!out_acl_of(out, t, path, len, &acl_off, &acl_count))
        return ZSYSTEMERROR;
    int err = tree_delete(t, path, len, zxid);
    if (record && out_result(out, type, err) == NULL)
        return ZSYSTEMERROR;
    if (err != ZOK)
        return ZOK;
    uint32_t plen = (uint32_t)zk_path_parent_len(path, len);
    if (!out_trigger(out, ZOO_EVENT_DELETED, path, len, acl_off, acl_count) ||
        !out_trigger_node(out, t, ZOO_EVENT_CHILD_CHANGED, path, plen))
        return ZSYSTEMERROR;
    return ZOK;
}

static int apply_set_data(struct tree *t, const struct zk_txn *txn, const struct zk_txn_op *op,
                          struct zk_apply_out *out)
{
    struct zk_stat st;
    memset(&st, 0, sizeof st);
    int err = tree_set_data(t, op->path, op->path_len, op->data, op->data_len, op->version,
                            txn->zxid, txn->time_ms, &st);
    struct zk_op_result *r = out_result(out, op->type, err);
    if (r == NULL)
        return ZSYSTEMERROR;
    r->stat = st;
    if (err == ZOK && !out_trigger_node(out, t, ZOO_EVENT_DATA_CHANGED, op->path, op->path_len))
        return ZSYSTEMERROR;
    return ZOK;
}

static int apply_set_acl(struct tree *t, const struct zk_txn_op *op, struct zk_apply_out *out)
{
    struct zk_stat st;
    memset(&st, 0, sizeof st);
    int err = tree_set_acl(t, op->path, op->path_len, op->acl, op->acl_count, op->version, &st);
    struct zk_op_result *r = out_result(out, op->type, err);
    if (r == NULL)
        return ZSYSTEMERROR;
    r->stat = st;
    return ZOK;
}

static int apply_op(struct tree *t, const struct zk_txn *txn, const struct zk_txn_op *op,
                    struct zk_apply_out *out)
{
    switch (op->type) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        return apply_create(t, txn, op, out);
    case ZOO_DELETE_OP: case ZOO_DELETE_CONTAINER_OP:
        return apply_delete_path(t, txn->zxid, op->type, op->path, op->path_len, out, true);
    case ZOO_SETDATA_OP:
        return apply_set_data(t, txn, op, out);
    case ZOO_SETACL_OP:
        return apply_set_acl(t, op, out);
    case ZOO_CHECK_OP:
        return out_result(out, op->type, ZOK) ? ZOK : ZSYSTEMERROR;
    case ZOO_ERROR_OP:
        return out_result(out, ZOO_ERROR_OP, op->err) ? ZOK : ZSYSTEMERROR;
    default:
        return out_result(out, ZOO_ERROR_OP, ZUNIMPLEMENTED) ? ZOK : ZSYSTEMERROR;
    }
}

static int apply_multi(struct tree *t, const struct zk_txn *txn, struct zk_apply_out *out)
{
    /* The failing op is the first error record with a non-OK code; error
     * records with OK before it stand for ops that would have succeeded. */
    uint32_t failed_at = txn->op_count;
    for (uint32_t i = 0; i < txn->op_count; i++)
        if (txn->ops[i].type == ZOO_ERROR_OP && txn->ops[i].err != ZOK) {
            failed_at = i;
            break;
        }
    for (uint32_t i = 0; i < txn->op_count; i++) {
        const struct zk_txn_op *op = &txn->ops[i];
        int rc;
        if (failed_at == txn->op_count) {
            rc = apply_op(t, txn, op, out);
        } else {
            int32_t err = i < failed_at ? ZOK : i == failed_at ? op->err : ZRUNTIMEINCONSISTENCY;
            struct zk_op_result *r = out_result(out, ZOO_ERROR_OP, err);
            if (r != NULL)
                r->type = ZOO_ERROR_OP; /* ErrorResult even for OK ones */
            rc = r ? ZOK : ZSYSTEMERROR;
        }
        if (rc != ZOK)
            return rc;
    }
    return ZOK;
}

static int apply_close_session(struct tree *t, const struct zk_txn *txn, struct zk_apply_out *out)
{
    for (uint32_t i = 0; i < txn->path_count; i++) {
        const struct zk_txn_path *p = &txn->paths[i];
        const struct tree_node *n = tree_get(t, p->path, p->len);
        /* Only the closing session's own ephemerals, whatever the list says. */
        if (n == NULL || n->stat.ephemeral_owner != txn->session_id)
            continue;
        int rc = apply_delete_path(t, txn->zxid, ZOO_DELETE_OP, p->path, p->len, out, false);
        if (rc != ZOK)
            return rc;
    }
    return out_result(out, ZOO_CLOSE_SESSION_OP, ZOK) ? ZOK : ZSYSTEMERROR;
}

int apply_txn(struct tree *t, const struct zk_txn *txn, struct zk_apply_out *out)
{
    zk_apply_out_reset(out);
    out->type = txn->type;
    out->session_id = txn->session_id;
    out->cxid = txn->cxid;
    out->zxid = txn->zxid;
    switch (txn->type) {
    case ZOO_MULTI_OP:
        return apply_multi(t, txn, out);
    case ZOO_CLOSE_SESSION_OP:
        return apply_close_session(t, txn, out);
    case ZOO_CREATE_SESSION_OP:
        return out_result(out, ZOO_CREATE_SESSION_OP, ZOK) ? ZOK : ZSYSTEMERROR;
    default:
        return apply_op(t, txn, &txn->op, out);
    }
}
