/* tree_snap: the tree's snapshot encoding. Layout (little-endian):
 *   "ZTRE" | u32 version | u32 node_count | u64 digest |
 *   node_count x { blob path | blob data | 5 x i64 (czxid mzxid ctime mtime
 *   pzxid) | 3 x i32 (version cversion aversion) | i64 ephemeralOwner |
 *   acl list } | u32 crc32c of all preceding bytes.
 * Nodes are in preorder, so a parent always precedes its children and the
 * loader can insert them one by one. Loading trusts nothing: sizes are
 * bounded by the config, the CRC and then the digest must match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acl.h"
#include "core/bytes.h"
#include "core/crc32c.h"
#include "core/tree.h"

#define SNAP_MAGIC 0x45525a54u /* "ZTRE" little-endian */

static void snap_node_write(struct bytes_w *w, const struct tree *t, const struct tree_node *n)
{
    uint32_t acl_count;
    const struct zk_acl *acl = tree_node_acl(t, n, &acl_count);
    bytes_w_blob(w, n->path, n->path_len);
    bytes_w_blob(w, tree_node_data(n), tree_node_data_len(n));
    bytes_w_u64(w, (uint64_t)n->stat.czxid);
    bytes_w_u64(w, (uint64_t)n->stat.mzxid);
    bytes_w_u64(w, (uint64_t)n->stat.ctime_ms);
    bytes_w_u64(w, (uint64_t)n->stat.mtime_ms);
    bytes_w_u64(w, (uint64_t)n->stat.pzxid);
    bytes_w_u32(w, (uint32_t)n->stat.version);
    bytes_w_u32(w, (uint32_t)n->stat.cversion);
    bytes_w_u32(w, (uint32_t)n->stat.aversion);
    bytes_w_u64(w, (uint64_t)n->stat.ephemeral_owner);
    acl_write(w, acl, acl_count);
}

static void snap_write_all(const struct tree *t, struct bytes_w *w)
{
    bytes_w_u32(w, SNAP_MAGIC);
    bytes_w_u32(w, TREE_SNAPSHOT_VERSION);
    bytes_w_u32(w, t->live_count);
    bytes_w_u64(w, t->digest);
    for (uint32_t i = tree_root(t); i != TREE_NONE; i = tree_preorder_next(t, i))
        snap_node_write(w, t, tree_node_at(t, i));
}

size_t tree_snapshot_size(const struct tree *t)
{
    struct bytes_w w = {0};
    snap_write_all(t, &w);
    return w.len + 4;
}

int tree_snapshot_write(const struct tree *t, uint8_t *buf, size_t cap, size_t *len)
{
    if (cap < 4)
        return ZBADARGUMENTS;
    struct bytes_w w = {.buf = buf, .cap = cap - 4};
    snap_write_all(t, &w);
    if (w.overflow)
        return ZBADARGUMENTS;
    uint32_t crc = crc32c(buf, w.len);
    w.cap = cap;
    bytes_w_u32(&w, crc);
    *len = w.len;
    return ZOK;
}

static int snap_fail(struct tree *t, char *err, size_t errlen, size_t off, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "offset %zu: %s", off, why);
    tree_free(t);
    return ZMARSHALLINGERROR;
}

/* One node record; returns NULL on success or the reason it is bad. */
static const char *snap_node_read(struct tree *t, struct bytes_r *r, uint32_t i, struct zk_acl *acl)
{
    uint32_t plen, dlen, acl_count;
    const uint8_t *path = bytes_r_blob(r, ZK_PATH_MAX, &plen);
    const uint8_t *data = bytes_r_blob(r, t->cfg.data_max, &dlen);
    struct zk_stat st;
    memset(&st, 0, sizeof st);
    st.czxid = (int64_t)bytes_r_u64(r);
    st.mzxid = (int64_t)bytes_r_u64(r);
    st.ctime_ms = (int64_t)bytes_r_u64(r);
    st.mtime_ms = (int64_t)bytes_r_u64(r);
    st.pzxid = (int64_t)bytes_r_u64(r);
    st.version = (int32_t)bytes_r_u32(r);
    st.cversion = (int32_t)bytes_r_u32(r);
    st.aversion = (int32_t)bytes_r_u32(r);
    st.ephemeral_owner = (int64_t)bytes_r_u64(r);
    if (r->short_read || !acl_read(r, acl, ZK_ACL_MAX, &acl_count))
        return "truncated or oversized node record";
    if (i == 0 && !(plen == 1 && path[0] == '/'))
        return "first node is not the root";
    int rc = tree_insert_raw(t, (const char *)path, plen, data, dlen, acl, acl_count, &st);
    switch (rc) {
    case ZOK: return NULL;
    case ZNODEEXISTS: return "duplicate path";
    case ZNONODE: return "node before its parent";
    case ZNOCHILDRENFOREPHEMERALS: return "child of an ephemeral node";
    case ZQUOTAEXCEEDED: return "more nodes than node_max";
    case ZSYSTEMERROR: return "out of memory";
    default: return "invalid path or data";
    }
}

int tree_snapshot_load(struct tree *t, const struct tree_config *cfg,
                       const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (tree_init_empty(t, cfg) != ZOK)
        return snap_fail(t, err, errlen, 0, "out of memory");
    if (len < 24)
        return snap_fail(t, err, errlen, len, "too short for a snapshot header");
    struct bytes_r tail = {.buf = buf, .len = len, .off = len - 4};
    if (bytes_r_u32(&tail) != crc32c(buf, len - 4))
        return snap_fail(t, err, errlen, len - 4, "checksum mismatch");
    struct bytes_r r = {.buf = buf, .len = len - 4};
    if (bytes_r_u32(&r) != SNAP_MAGIC)
        return snap_fail(t, err, errlen, 0, "bad magic");
    if (bytes_r_u32(&r) != TREE_SNAPSHOT_VERSION)
        return snap_fail(t, err, errlen, 4, "unsupported version");
    uint32_t count = bytes_r_u32(&r);
    uint64_t digest = bytes_r_u64(&r);
    if (count == 0 || count > t->cfg.node_max)
        return snap_fail(t, err, errlen, 8, "node count out of range");
    struct zk_acl *acl = malloc(ZK_ACL_MAX * sizeof *acl);
    if (acl == NULL)
        return snap_fail(t, err, errlen, r.off, "out of memory");
    for (uint32_t i = 0; i < count; i++) {
        size_t at = r.off;
        const char *why = snap_node_read(t, &r, i, acl);
        if (why != NULL) {
            free(acl);
            return snap_fail(t, err, errlen, at, why);
        }
    }
    free(acl);
    if (r.off != r.len)
        return snap_fail(t, err, errlen, r.off, "trailing bytes after the last node");
    if (tree_digest_recompute(t) != digest || t->digest != digest)
        return snap_fail(t, err, errlen, 16, "digest mismatch");
    return ZOK;
}
