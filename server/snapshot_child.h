/* snapshot_child: the periodic snapshot (REP_SNAPSHOT_BY_DRIVER) serialized
 * and stored by a forked child process, so the event loop never stalls on a
 * large tree: fork copies page tables, not the tree, and the child sees the
 * state exactly as of the fork (copy-on-write), however the parent goes on.
 *
 * Owns: the child's pid and the op id it completes; the child's temporary
 * file (zablab.snap.<pid>.tmp) until it is renamed over zablab.snap.
 * Never: lets a child outlive the server (PR_SET_PDEATHSIG) or rename after
 * a newer snapshot was stored (snapchild_abandon kills and reaps it first),
 * or reports an op it abandoned. */
#ifndef ZABLAB_SERVER_SNAPSHOT_CHILD_H
#define ZABLAB_SERVER_SNAPSHOT_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/replica.h"
#include "server/files.h"

struct snapchild {
    pid_t pid;            /* 0 = none running */
    uint64_t op_id;
    uint64_t zxid;        /* what the child stores: the state's last applied zxid */
    uint64_t forks, done, failures, abandoned;   /* counters for logs and mntr */
};

/* Forks a child that stores the replica's state machine as it is now.
 * 0 = started; -1 = fork failed (err says why: the caller stores the
 * snapshot another way). Only one child at a time. */
int snapchild_start(struct snapchild *c, const struct files *f, const struct replica *r,
                    uint64_t op_id, char *err, size_t errlen);

/* Reaps a finished child without waiting. 1 = stored (c->op_id done), 0 =
 * none finished, -1 = the child failed (err: its exit status). */
int snapchild_poll(struct snapchild *c, char *err, size_t errlen);

/* A newer snapshot is about to be stored: kill the child and wait for it,
 * remove its temporary file; its op is never reported. No-op with no child. */
void snapchild_abandon(struct snapchild *c, const struct files *f);

/* The snapshot file's bytes for the state as it is now (the envelope around
 * the state machine's own, labeled with its last applied zxid), malloc'd.
 * The child stores them; the server uses it when fork fails. */
int snapchild_encode(const struct replica *r, uint8_t **out, size_t *out_len, char *err,
                     size_t errlen);

#endif
