/* tree: the znode tree (ZooKeeper's DataTree) as plain, copyable data.
 *
 * Owns: every node (path, data, Stat, ACL list, children sorted by name),
 * a path -> node hash index (open addressing; used for lookup only, never
 * iterated, so its layout cannot leak into any output), the per-session
 * ephemeral index (sorted by owner then path), the 4lw counters, and an
 * order-independent state digest maintained on every change.
 *
 * Nodes live in chunks and refer to each other by index, so a clone is a
 * deep copy with no pointer fix-ups beyond the per-node buffers. ACL lists
 * are interned (refcounted, shared between nodes; a change to one node's
 * ACL never changes another's). Memory per node is kept small on purpose
 * (issue #8): see tests/bench_mem.c. Pointers returned by tree_get() and
 * friends are valid until the next change to the tree.
 *
 * Never: decide ZooKeeper policy (ACL checks, versions, sequential names:
 * that is prep's job; the tree does what an already-validated txn says),
 * perform I/O, or depend on pointer values or hash order. */
#ifndef ZABLAB_CORE_TREE_H
#define ZABLAB_CORE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/zk_types.h"

#define TREE_NONE UINT32_MAX
#define TREE_NODE_MAX_DEFAULT (1u << 22)
#define TREE_SNAPSHOT_VERSION 1u

struct tree_config {
    uint32_t data_max;  /* largest data of one node (jute.maxbuffer) */
    uint32_t node_max;  /* most nodes the tree will hold */
};

/* Fills the defaults: 1 MiB - 1 of data, TREE_NODE_MAX_DEFAULT nodes. */
void tree_config_default(struct tree_config *cfg);

/* Children of a node: indices sorted by name (bytewise). The count is the
 * owner's stat.num_children; allocated on the first child. */
struct tree_kids {
    uint32_t cap;
    uint32_t idx[];
};

/* 104 bytes: everything variable-sized lives in one allocation (path, NUL,
 * data), the ACL list is shared through the tree's intern table, and the
 * data and child counts are the Stat's own fields, and the node's share
 * of the digest is recomputed when it changes rather than stored. */
struct tree_node {
    char *path;             /* path, NUL, then data; NULL while the slot is free */
    struct tree_kids *kids; /* NULL until the node has had a child */
    struct zk_stat stat;    /* data_length and num_children kept in sync */
    uint32_t path_len;
    uint32_t name_off;      /* offset of the last component in path */
    uint32_t acl;           /* id in the tree's ACL intern table: tree_node_acl() */
    uint32_t parent;        /* index, TREE_NONE for the root; free-list link when free */
};

struct tree_eph {
    int64_t owner;
    uint32_t node;
};

/* One interned ACL list, shared by every node with equal content (most
 * trees have a handful: world:anyone, read-only, a few digests). Ids are
 * an allocation detail: never part of the digest, the snapshot or any
 * output, so two trees with equal nodes may number their lists apart. */
struct tree_acl_list {
    struct zk_acl *acl;     /* count entries, strings NUL-padded; NULL if count == 0 */
    uint32_t count;
    uint32_t refs;          /* nodes using it; 0 = free entry */
    uint32_t next_free;     /* free-list link when refs == 0 */
    uint64_t key;           /* content hash (intern index) */
};

/* Nodes live in fixed-size chunks: growing never moves (or copies) a
 * node, so a big tree needs no huge realloc'd block. */
#define TREE_CHUNK_SHIFT 10u
#define TREE_CHUNK_NODES (1u << TREE_CHUNK_SHIFT)

struct tree {
    struct tree_config cfg;
    struct tree_node **chunks; /* chunk_count chunks of TREE_CHUNK_NODES */
    uint32_t chunk_count;
    uint32_t chunk_cap;
    uint32_t node_high;     /* entries ever used */
    uint32_t live_count;
    uint32_t free_head;
    uint32_t *slots;        /* path index: node + 1, 0 = empty */
    uint32_t slot_cap;      /* power of two, load <= 1/2 */
    struct tree_acl_list *acls; /* ACL intern table, by id */
    uint32_t acl_high;      /* entries ever used */
    uint32_t acl_cap;
    uint32_t acl_live;      /* lists with refs > 0 */
    uint32_t acl_free;
    uint32_t *acl_slots;    /* content index: id + 1, 0 = empty */
    uint32_t acl_slot_cap;  /* power of two, load <= 1/2 */
    struct tree_eph *eph;   /* sorted by (owner, path) */
    uint32_t eph_count;
    uint32_t eph_cap;
    uint32_t container_count;
    uint32_t ttl_count;
    uint64_t digest;
    uint64_t data_bytes;    /* sum of path + data lengths (4lw) */
};

/* A new tree with "/", "/zookeeper", "/zookeeper/quota" and
 * "/zookeeper/config" (read-only ACL, like ZooKeeper's). */
int tree_init(struct tree *t, const struct tree_config *cfg);
void tree_free(struct tree *t);
/* A tree with no nodes at all, not even "/": the snapshot loader's start. */
int tree_init_empty(struct tree *t, const struct tree_config *cfg);
/* Inserts a node with exactly the given Stat (data_length and num_children
 * are derived), leaving the parent's Stat alone: for the initial nodes and
 * snapshot loading. The parent must exist (except for "/"). */
int tree_insert_raw(struct tree *t, const char *path, size_t len,
                    const uint8_t *data, uint32_t data_len,
                    const struct zk_acl *acl, uint32_t acl_count,
                    const struct zk_stat *stat);
int tree_clone(struct tree *dst, const struct tree *src);

const struct tree_node *tree_get(const struct tree *t, const char *path, size_t len);
const struct tree_node *tree_node_at(const struct tree *t, uint32_t index);
/* The i-th child (sorted by name) of n, or NULL past the end. */
const struct tree_node *tree_child(const struct tree *t, const struct tree_node *n, uint32_t i);
/* Index of a live node of t (tree_node_at's inverse). */
uint32_t tree_index_of(const struct tree *t, const struct tree_node *n);
/* Name of a node: the last component of its path. */
static inline const char *tree_node_name(const struct tree_node *n)
{
    return n->path + n->name_off;
}
static inline const uint8_t *tree_node_data(const struct tree_node *n)
{
    return (const uint8_t *)n->path + n->path_len + 1;
}
static inline uint32_t tree_node_data_len(const struct tree_node *n)
{
    return (uint32_t)n->stat.data_length;
}
static inline uint32_t tree_node_child_count(const struct tree_node *n)
{
    return (uint32_t)n->stat.num_children;
}
/* The node's ACL list (shared storage: read only); *count gets its length. */
static inline const struct zk_acl *tree_node_acl(const struct tree *t, const struct tree_node *n,
                                                 uint32_t *count)
{
    *count = t->acls[n->acl].count;
    return t->acls[n->acl].acl;
}
/* Distinct ACL lists in use (test hook: back to the initial number once
 * the nodes that brought new lists are gone). */
static inline uint32_t tree_acl_list_count(const struct tree *t) { return t->acl_live; }

/* Creates a node. owner: session id for ephemerals, ZK_OWNER_CONTAINER,
 * a TTL owner, or 0. The parent's cversion becomes parent_cversion (if
 * larger, as DataTree.createNode does) and its pzxid the zxid.
 * Returns ZOK, ZNONODE (no parent), ZNODEEXISTS, ZBADARGUMENTS (data or
 * ACL too large), ZNOCHILDRENFOREPHEMERALS, ZQUOTAEXCEEDED (node_max),
 * ZSYSTEMERROR (out of memory). out (optional) gets the new Stat. */
int tree_create(struct tree *t, const char *path, size_t len,
                const uint8_t *data, uint32_t data_len,
                const struct zk_acl *acl, uint32_t acl_count, int64_t owner,
                int32_t parent_cversion, int64_t zxid, int64_t time_ms,
                struct zk_stat *out);
/* Deletes a leaf; the parent's pzxid becomes zxid if larger. cversion is
 * not changed (ZooKeeper 3.8 bumps it only on creates).
 * ZOK, ZNONODE, ZNOTEMPTY, ZBADARGUMENTS (the root). */
int tree_delete(struct tree *t, const char *path, size_t len, int64_t zxid);
/* Replaces the data; version becomes `version`, mzxid/mtime updated. */
int tree_set_data(struct tree *t, const char *path, size_t len,
                  const uint8_t *data, uint32_t data_len, int32_t version,
                  int64_t zxid, int64_t time_ms, struct zk_stat *out);
/* Replaces the ACL; aversion becomes `aversion`. */
int tree_set_acl(struct tree *t, const char *path, size_t len,
                 const struct zk_acl *acl, uint32_t acl_count, int32_t aversion,
                 struct zk_stat *out);

/* Preorder walk (children by name): start at tree_root(), TREE_NONE ends. */
uint32_t tree_root(const struct tree *t);
uint32_t tree_preorder_next(const struct tree *t, uint32_t index);

/* Ephemerals of `owner`, sorted by path: writes up to cap node pointers,
 * returns how many there are in total. */
uint32_t tree_ephemerals(const struct tree *t, int64_t owner,
                         const struct tree_node **out, uint32_t cap);

/* ContainerManager's candidates at now_ms: containers that have had a
 * child (cversion > 0) and have none now, and childless TTL nodes not
 * modified for longer than their TTL. Preorder; writes up to cap, returns
 * how many it wrote. The leader turns them into deleteContainer requests. */
uint32_t tree_reap_candidates(const struct tree *t, int64_t now_ms,
                              const struct tree_node **out, uint32_t cap);

/* The i-th ephemeral (by path) of owner, NULL past the last. */
const struct tree_node *tree_ephemeral_at(const struct tree *t, int64_t owner, uint32_t i);

static inline uint32_t tree_node_count(const struct tree *t) { return t->live_count; }
static inline uint32_t tree_ephemeral_count(const struct tree *t) { return t->eph_count; }
static inline uint64_t tree_approx_data_size(const struct tree *t) { return t->data_bytes; }

/* Sum of per-node hashes of (path, data, persisted Stat, ACL): equal for
 * equal trees whatever order built them, kept up to date on every change. */
static inline uint64_t tree_digest(const struct tree *t) { return t->digest; }
/* Recomputes the digest from scratch (tests and snapshot loading). */
uint64_t tree_digest_recompute(const struct tree *t);

/* Human-readable listing, one node per line in preorder:
 *   <path> czxid=0x.. mzxid=0x.. pzxid=0x.. ctime=.. mtime=.. version=..
 *   cversion=.. aversion=.. owner=0x.. children=.. data=<len>
 * Writes at most cap bytes (NUL-terminated when cap > 0) and returns the
 * length the whole listing needs, like snprintf. For traces and teaching. */
size_t tree_dump(const struct tree *t, char *buf, size_t cap);

/* Snapshot: versioned, little-endian, preorder, CRC-32C trailer.
 * write fails with ZBADARGUMENTS if cap < tree_snapshot_size(). load
 * replaces *t (a freshly zeroed or freed tree) and on error leaves it empty
 * (freed) with a message "offset N: why" in err. */
size_t tree_snapshot_size(const struct tree *t);
int tree_snapshot_write(const struct tree *t, uint8_t *buf, size_t cap, size_t *len);
int tree_snapshot_load(struct tree *t, const struct tree_config *cfg,
                       const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Owner classification (EphemeralType). */
static inline bool tree_owner_is_container(int64_t owner) { return owner == ZK_OWNER_CONTAINER; }
static inline bool tree_owner_is_ttl(int64_t owner)
{
    return ((uint64_t)owner & ZK_OWNER_EXT_MASK) == ZK_OWNER_TTL_BITS;
}
static inline bool tree_owner_is_session(int64_t owner)
{
    return owner != 0 && !tree_owner_is_container(owner) && !tree_owner_is_ttl(owner);
}
static inline int64_t tree_ttl_owner(int64_t ttl_ms)
{
    return (int64_t)(ZK_OWNER_TTL_BITS | ((uint64_t)ttl_ms & (uint64_t)ZK_TTL_MAX_MS));
}

#endif
