/* read: each read is lookup -> ACL -> watch registration -> answer, in the
 * order FinalRequestProcessor does them. */
#include "core/read.h"

#include <string.h>

#include "core/acl.h"
#include "core/path.h"

static int read_lookup(const struct read_ctx *c, const char *path, size_t *len,
                       const struct tree_node **node)
{
    *len = path ? strlen(path) : 0;
    if (zk_path_validate(path, *len) != ZOK)
        return ZBADARGUMENTS;
    *node = tree_get(c->tree, path, *len);
    return *node ? ZOK : ZNONODE;
}

static int read_watch(const struct read_ctx *c, const char *path, size_t len, uint32_t bits)
{
    if (c->watches == NULL)
        return ZOK;
    return watch_add(c->watches, c->conn, path, len, bits);
}

int read_exists(const struct read_ctx *c, const char *path, bool watch, struct zk_stat *stat)
{
    size_t len;
    const struct tree_node *n;
    int rc = read_lookup(c, path, &len, &n);
    if (rc == ZBADARGUMENTS)
        return rc;
    if (watch) {
        int w = read_watch(c, path, len, WATCH_DATA);
        if (w != ZOK)
            return w;
    }
    if (n != NULL)
        *stat = n->stat;
    return rc;
}

static int read_node_watched(const struct read_ctx *c, const char *path, bool watch, uint32_t bits,
                             const struct tree_node **node)
{
    size_t len;
    int rc = read_lookup(c, path, &len, node);
    if (rc != ZOK)
        return rc;
    uint32_t acl_count;
    const struct zk_acl *acl = tree_node_acl(c->tree, *node, &acl_count);
    rc = acl_check(acl, acl_count, ZOO_PERM_READ, c->auth, c->auth_count);
    if (rc == ZOK && watch)
        rc = read_watch(c, path, len, bits);
    return rc;
}

int read_get_data(const struct read_ctx *c, const char *path, bool watch, const struct tree_node **node)
{
    return read_node_watched(c, path, watch, WATCH_DATA, node);
}

int read_get_children(const struct read_ctx *c, const char *path, bool watch, const struct tree_node **node)
{
    return read_node_watched(c, path, watch, WATCH_CHILD, node);
}

int read_get_acl(const struct read_ctx *c, const char *path, struct zk_acl *out, uint32_t cap,
                 uint32_t *count, struct zk_stat *stat)
{
    size_t len;
    const struct tree_node *n;
    int rc = read_lookup(c, path, &len, &n);
    if (rc != ZOK)
        return rc;
    uint32_t acl_count;
    const struct zk_acl *acl = tree_node_acl(c->tree, n, &acl_count);
    rc = acl_check(acl, acl_count, ZOO_PERM_READ | ZOO_PERM_ADMIN, c->auth, c->auth_count);
    if (rc != ZOK)
        return rc;
    bool admin = acl_check(acl, acl_count, ZOO_PERM_ADMIN, c->auth, c->auth_count) == ZOK;
    *count = acl_count;
    *stat = n->stat;
    for (uint32_t i = 0; i < acl_count && i < cap; i++) {
        out[i] = acl[i];
        char *colon = strchr(out[i].id.id, ':');
        /* Hide the password hash from readers without ADMIN. */
        if (!admin && strcmp(out[i].id.scheme, "digest") == 0 && colon != NULL &&
            (size_t)(colon - out[i].id.id) + 2 < ZK_ID_MAX) {
            colon[1] = 'x';
            colon[2] = '\0';
        }
    }
    return ZOK;
}

int read_all_children_number(const struct read_ctx *c, const char *path, int32_t *number)
{
    size_t len;
    const struct tree_node *n;
    int rc = read_lookup(c, path, &len, &n);
    if (rc != ZOK)
        return rc;
    uint32_t acl_count;
    const struct zk_acl *acl = tree_node_acl(c->tree, n, &acl_count);
    rc = acl_check(acl, acl_count, ZOO_PERM_READ, c->auth, c->auth_count);
    if (rc != ZOK)
        return rc;
    if (len == 1) {
        *number = (int32_t)tree_node_count(c->tree) - 1;
        return ZOK;
    }
    /* Preorder from the node until the walk leaves its subtree. */
    int32_t k = 0;
    uint32_t i = tree_index_of(c->tree, n);
    for (i = tree_preorder_next(c->tree, i); i != TREE_NONE; i = tree_preorder_next(c->tree, i)) {
        const struct tree_node *d = tree_node_at(c->tree, i);
        if (!zk_path_is_prefix(path, len, d->path, d->path_len))
            break;
        k++;
    }
    *number = k;
    return ZOK;
}

uint32_t read_ephemerals(const struct read_ctx *c, int64_t session, const char *prefix,
                         const struct tree_node **out, uint32_t cap)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    bool all = plen == 0 || (plen == 1 && prefix[0] == '/');
    uint32_t n = 0;
    const struct tree_node *e;
    for (uint32_t i = 0; (e = tree_ephemeral_at(c->tree, session, i)) != NULL; i++) {
        if (!all && (e->path_len < plen || memcmp(e->path, prefix, plen) != 0))
            continue;
        if (n < cap)
            out[n] = e;
        n++;
    }
    return n;
}

int read_add_watch(const struct read_ctx *c, const char *path, int32_t mode)
{
    size_t len = path ? strlen(path) : 0;
    if (zk_path_validate(path, len) != ZOK)
        return ZBADARGUMENTS;
    if (mode == ZOO_ADD_WATCH_PERSISTENT)
        return read_watch(c, path, len, WATCH_PERSISTENT);
    if (mode == ZOO_ADD_WATCH_PERSISTENT_RECURSIVE)
        return read_watch(c, path, len, WATCH_RECURSIVE);
    return ZBADARGUMENTS;
}
