/* watch: the server's watch manager (WatchManager + WatcherModeManager):
 * one-shot data/exist and child watches, persistent and persistent-
 * recursive watches (addWatch), per (connection, path).
 *
 * Triggering follows ZooKeeper's table: NodeCreated/NodeDataChanged go to
 * data, persistent and recursive (on the path or any ancestor) watchers;
 * NodeDeleted also to child watchers of the path, each connection once;
 * NodeChildrenChanged (on the parent) to child and persistent watchers,
 * never to recursive ones. One-shot watches are removed when they fire.
 * Events of one trigger come out sorted by connection id, so the output
 * never depends on memory layout.
 *
 * Owns: registrations (a path table with an open-addressing index used only
 * for lookup), per-connection counts (bounded by max_per_conn), and the
 * event output buffers.
 * Never: touch the tree except to read it in setWatches, or deliver events
 * (the driver sends them). Watches are not replicated state: they live on
 * the server the client is connected to and are not in the digest. */
#ifndef ZABLAB_CORE_WATCH_H
#define ZABLAB_CORE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/apply.h"
#include "core/tree.h"
#include "core/zk_types.h"

#define WATCH_DATA 1u        /* getData/exists(watch=true): one-shot */
#define WATCH_CHILD 2u       /* getChildren(watch=true): one-shot */
#define WATCH_PERSISTENT 4u  /* addWatch mode 0 */
#define WATCH_RECURSIVE 8u   /* addWatch mode 1 */
#define WATCH_MAX_PER_CONN_DEFAULT 65536u

struct watch_reg {
    uint64_t conn;
    uint32_t bits;
};

struct watch_path {
    char *path;
    uint32_t len;
    struct watch_reg *regs;   /* sorted by conn */
    uint32_t reg_count;
    uint32_t reg_cap;
    bool live;
    uint32_t next_free;
};

struct watch_conn {
    uint64_t conn;
    uint32_t count;           /* registrations (conn, path) */
};

struct watch_event {
    uint64_t conn;
    int32_t type;             /* enum zk_event */
    int64_t zxid;
    uint32_t path_off;        /* into watch_out.strings */
    uint32_t path_len;
};

struct watch_out {
    struct watch_event *events;
    uint32_t count;
    uint32_t cap;
    char *strings;
    size_t strings_len;
    size_t strings_cap;
};

struct watch_mgr {
    uint32_t max_per_conn;
    struct watch_path *paths;
    uint32_t path_cap;
    uint32_t path_high;
    uint32_t path_live;
    uint32_t free_head;
    uint32_t *slots;          /* path index + 1; 0 empty */
    uint32_t slot_cap;
    struct watch_conn *conns; /* sorted by conn */
    uint32_t conn_count;
    uint32_t conn_cap;
    uint32_t recursive_count; /* regs with WATCH_RECURSIVE: 0 skips ancestor walks */
    uint64_t *scratch;        /* connections collected by one trigger */
    uint32_t scratch_cap;
};

int watch_init(struct watch_mgr *wm, uint32_t max_per_conn);
void watch_free(struct watch_mgr *wm);
/* Deep copy (the explorer copies whole servers). */
int watch_clone(struct watch_mgr *dst, const struct watch_mgr *src);

void watch_out_init(struct watch_out *out);
void watch_out_reset(struct watch_out *out);
void watch_out_free(struct watch_out *out);
static inline const char *watch_out_str(const struct watch_out *out, uint32_t off)
{
    return out->strings + off;
}

/* Registers `bits` (WATCH_*, not 0) for conn on path. ZOK, ZBADARGUMENTS
 * for bad bits, or ZTHROTTLEDOP when
 * the connection already holds max_per_conn registrations (nothing added),
 * ZSYSTEMERROR when out of memory. Registering again is a no-op. */
int watch_add(struct watch_mgr *wm, uint64_t conn, const char *path, size_t len, uint32_t bits);

/* Who may see an event: ZooKeeper (3.8.4+, CVE-2024-23944) delivers a
 * notification only to connections with READ on the node it is about.
 * may_read gets the node's ACL at trigger time; the driver answers with
 * its connection's auth ids (e.g. acl_check(..., ZOO_PERM_READ, ...)).
 * A NULL filter or callback delivers to everyone. A one-shot watch whose
 * event is withheld is still consumed. */
struct watch_filter {
    bool (*may_read)(void *ctx, uint64_t conn, const struct zk_acl *acl, uint32_t acl_count);
    void *ctx;
};

/* Fires `event` on path at zxid; appends the events to out. acl is the
 * node's ACL for the filter (may be NULL with acl_count 0). */
int watch_trigger(struct watch_mgr *wm, int32_t event, const char *path, size_t len,
                  int64_t zxid, const struct zk_acl *acl, uint32_t acl_count,
                  const struct watch_filter *filter, struct watch_out *out);
/* Fires every trigger of an applied txn, in order, at its zxid. */
int watch_trigger_applied(struct watch_mgr *wm, const struct zk_apply_out *applied,
                          const struct watch_filter *filter, struct watch_out *out);

/* checkWatches / removeWatches with a WatcherType (enum zk_watcher_type):
 * Children matches child watches, Data data watches, Any everything,
 * Persistent and PersistentRecursive their own kind. ZOK or ZNOWATCHER;
 * ZBADARGUMENTS for an unknown type. */
int watch_check(const struct watch_mgr *wm, uint64_t conn, const char *path, size_t len, int32_t type);
int watch_remove(struct watch_mgr *wm, uint64_t conn, const char *path, size_t len, int32_t type);

/* Drops every registration of a connection (it closed). */
void watch_remove_conn(struct watch_mgr *wm, uint64_t conn);

/* Registrations of conn (for wchc/wchs and tests). */
uint32_t watch_conn_count(const struct watch_mgr *wm, uint64_t conn);
/* All registrations of all connections (4lw wchs, mntr zk_watch_count). */
uint32_t watch_count_total(const struct watch_mgr *wm);
/* For the wchc/wchp four-letter words: the paths conn watches (sorted
 * bytewise when cap holds them all), and the connections watching a path,
 * sorted by id. Each writes up to cap entries and returns the total. Path pointers are valid until
 * the next change to the manager. */
uint32_t watch_paths_of(const struct watch_mgr *wm, uint64_t conn, const char **out, uint32_t cap);
uint32_t watch_conns_on(const struct watch_mgr *wm, const char *path, size_t len, uint64_t *out, uint32_t cap);
/* Bits conn holds on path exactly (0 if none). */
uint32_t watch_bits(const struct watch_mgr *wm, uint64_t conn, const char *path, size_t len);

/* One list of a SetWatches/SetWatches2 request. */
struct watch_list {
    const char *const *paths; /* NUL-terminated */
    uint32_t count;
};

/* Reconnect: re-registers the client's watches against the current tree
 * (DataTree.setWatches): a data watch fires NodeDeleted if the node is gone
 * or NodeDataChanged if mzxid > relative_zxid, else is registered; an exist
 * watch fires NodeCreated if the node exists, else is registered; a child
 * watch fires NodeDeleted if gone or NodeChildrenChanged if pzxid >
 * relative_zxid, else is registered; persistent ones are registered.
 * Immediate events carry `zxid` (the server's last processed). */
int watch_set_watches(struct watch_mgr *wm, const struct tree *t, uint64_t conn,
                      int64_t relative_zxid, const struct watch_list *data,
                      const struct watch_list *exist, const struct watch_list *child,
                      const struct watch_list *persistent,
                      const struct watch_list *recursive, int64_t zxid,
                      struct watch_out *out);

#endif
