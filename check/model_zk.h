/* check/model_zk: the znode tree as a sequential specification, shared by the
 * ZooKeeper consistency checker and (as a linearizability model) by the
 * black-box checker. Owns a mutable tree with an undo log and an incremental
 * 128-bit fingerprint, so that a search can apply, compare and roll back.
 * Semantics follow ZooKeeper's DataTree (reference §2.5): sequential names
 * from the parent's cversion, version checks with -1 = any, NOTEMPTY,
 * NOCHILDRENFOREPHEMERALS, multi all-or-nothing, close removing ephemerals.
 * Must never: allocate per read, or depend on pointer values. Paths are
 * interned in the history's string table (append-only: ids never change). */
#ifndef ZABLAB_CHECK_MODEL_ZK_H
#define ZABLAB_CHECK_MODEL_ZK_H

#include "check/history.h"

#define ZKT_NONE UINT32_MAX

struct zk_node {
    chk_str path, name;        /* full path and last component */
    uint32_t parent;           /* node index, ZKT_NONE for "/" */
    bool exists;
    chk_str data;
    int32_t version, cversion;
    int64_t owner;             /* ephemeral owner session, 0 = persistent */
    uint32_t n_children;
    uint64_t child_hash;       /* XOR of mixed child-name ids */
};

struct zk_undo {
    uint32_t node;
    struct zk_node old;
};

/* Nodes a session ever created as ephemeral (a superset of its live ones:
 * close checks each), so that closing a session costs its own ephemerals. */
struct zk_eph {
    int64_t session;
    uint32_t *nodes;
    uint32_t n, cap;
};

struct zk_tree {
    struct chk_history *strs;  /* string table (not owned) */
    struct zk_eph *eph;        /* open addressing by session; session 0 = empty */
    uint32_t eph_cap, eph_n;
    struct zk_node *nodes;
    uint32_t n, cap;
    uint32_t *by_path;         /* string id -> node index + 1 */
    uint32_t by_cap;
    uint64_t fp1, fp2;         /* fingerprint of the existing nodes */
    struct zk_undo *undo;
    uint32_t n_undo, cap_undo;
};

/* The outcome of one operation, computed by the tree. */
struct zk_res {
    int32_t err;
    chk_str created;           /* create */
    int32_t version;           /* setData: new version; getData/exists: version */
    chk_str data;              /* getData */
    uint32_t n_children;
    uint64_t children_hash;
    uint32_t n_subs;
    int32_t sub_err[CHK_SUBS_MAX];
    chk_str sub_created[CHK_SUBS_MAX];
};

int zkt_init(struct zk_tree *t, struct chk_history *strs);
void zkt_free(struct zk_tree *t);
/* Node index of an interned path, or ZKT_NONE if the tree never saw it. */
uint32_t zkt_find(const struct zk_tree *t, chk_str path);
/* Applies the operation described by inv (an invoke event) of session;
 * reads change nothing. Returns 0, or -1 when out of memory. */
int zkt_apply(struct zk_tree *t, const struct chk_history *h, const struct chk_event *inv,
              int64_t session, struct zk_res *res);
/* Does the completion event ret show the outcome res? Fields the event does
 * not carry are not compared. */
bool zkt_res_matches(const struct chk_history *h, const struct chk_event *ret, const struct zk_res *res);
uint32_t zkt_mark(const struct zk_tree *t);
void zkt_undo(struct zk_tree *t, uint32_t mark);
/* Hash of a getChildren name list, comparable with zk_node.child_hash. */
uint64_t zkt_names_hash(const chk_str *names, uint32_t n);
uint64_t zkt_mix(uint64_t x);

#endif
