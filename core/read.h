/* read: the read side of a server (FinalRequestProcessor's read cases):
 * exists, getData, getChildren(2), getACL, getAllChildrenNumber,
 * getEphemerals and addWatch, answered from the local tree, registering
 * watches with the connection's watch manager as ZooKeeper does:
 * exists registers a data watch even when the node is missing; getData and
 * getChildren register nothing when the node is missing (NONODE).
 *
 * Owns nothing: results borrow from the tree (valid until its next change).
 * Never: change the tree, or check sessions (the caller does, as ZooKeeper's
 * prep step does for reads). */
#ifndef ZABLAB_CORE_READ_H
#define ZABLAB_CORE_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tree.h"
#include "core/watch.h"
#include "core/zk_types.h"

/* Who is reading: the connection (for watches) and its authenticated ids. */
struct read_ctx {
    const struct tree *tree;
    struct watch_mgr *watches;  /* NULL: watch flags are ignored */
    uint64_t conn;
    const struct zk_id *auth;
    uint32_t auth_count;
};

/* ZOK with *stat, ZNONODE (watch still set), ZBADARGUMENTS, or
 * ZTHROTTLEDOP when the connection is at its watch bound. */
int read_exists(const struct read_ctx *c, const char *path, bool watch, struct zk_stat *stat);
/* ZOK with *node (data, stat), ZNONODE, ZNOAUTH (READ), ZBADARGUMENTS. */
int read_get_data(const struct read_ctx *c, const char *path, bool watch, const struct tree_node **node);
/* ZOK with *node (children via tree_child, stat), else as read_get_data. */
int read_get_children(const struct read_ctx *c, const char *path, bool watch, const struct tree_node **node);
/* Needs READ or ADMIN; without ADMIN, digest ids come back as "user:x".
 * Copies at most cap entries into out (*count = the node's ACL size). */
int read_get_acl(const struct read_ctx *c, const char *path, struct zk_acl *out, uint32_t cap,
                 uint32_t *count, struct zk_stat *stat);
/* All descendants of path (for "/": every node but the root). READ. */
int read_all_children_number(const struct read_ctx *c, const char *path, int32_t *number);
/* The session's ephemerals whose path starts with prefix (a plain string
 * prefix, as ZooKeeper; NULL, "" or "/" means all), sorted; returns the
 * total, writes up to cap. */
uint32_t read_ephemerals(const struct read_ctx *c, int64_t session, const char *prefix,
                         const struct tree_node **out, uint32_t cap);
/* addWatch: mode 0 persistent, 1 persistent-recursive. No existence or
 * ACL check (as ZooKeeper 3.8). ZOK, ZBADARGUMENTS, ZTHROTTLEDOP. */
int read_add_watch(const struct read_ctx *c, const char *path, int32_t mode);

#endif
