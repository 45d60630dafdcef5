/* snapshot_child: see snapshot_child.h. */
#include "server/snapshot_child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/storage.h"

enum { CHILD_OK = 0, CHILD_FAILED = 3, CHILD_ORPHAN = 4 };

int snapchild_encode(const struct replica *r, uint8_t **out, size_t *out_len, char *err,
                     size_t errlen)
{
    size_t cap = r->cfg.sm->snapshot_size(r->sm), len = 0;
    uint8_t *sm = malloc(cap ? cap : 1);
    if (!sm || r->cfg.sm->snapshot_write(r->sm, sm, cap, &len) != 0) {
        free(sm);
        snprintf(err, errlen, "cannot serialize a %zu-byte snapshot", cap);
        return -1;
    }
    size_t n = storage_snapshot_size(len);
    uint8_t *env = malloc(n);
    if (!env) {
        free(sm);
        snprintf(err, errlen, "out of memory for a %zu-byte snapshot", n);
        return -1;
    }
    storage_snapshot_encode(env, n, r->zxid_applied, sm, len);
    free(sm);
    *out = env;
    *out_len = n;
    return 0;
}

static int store(const struct files *f, const struct replica *r, char *err, size_t errlen)
{
    uint8_t *env;
    size_t n;
    if (snapchild_encode(r, &env, &n, err, errlen) != 0)
        return -1;
    int rc = files_replace_durably(f, FILES_SNAPSHOT_NAME, env, n, err, errlen);
    free(env);
    return rc;
}

static void child_main(const struct files *f, const struct replica *r, pid_t parent)
{
    /* Die with the server: a snapshot landing after a restart could
     * overwrite a newer one. The check closes the race with an early exit. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(CHILD_ORPHAN);
    /* Lowest CPU priority: on a busy machine the servers' event loops go
     * first and the snapshot takes the idle time; it has half a log of
     * headroom (see main.c). Failure to lower it is harmless. */
    if (setpriority(PRIO_PROCESS, 0, 19) != 0) {
    }
    char err[512];
    if (store(f, r, err, sizeof err) != 0) {
        fprintf(stderr, "zabd snapshot child: %s\n", err);
        _exit(CHILD_FAILED);
    }
    _exit(CHILD_OK);
}

int snapchild_start(struct snapchild *c, const struct files *f, const struct replica *r,
                    uint64_t op_id, char *err, size_t errlen)
{
    if (c->pid) {
        snprintf(err, errlen, "a snapshot child (pid %d) is still running", (int)c->pid);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        child_main(f, r, parent);
    c->pid = pid;
    c->op_id = op_id;
    c->zxid = r->zxid_applied;
    c->forks++;
    return 0;
}

int snapchild_poll(struct snapchild *c, char *err, size_t errlen)
{
    if (!c->pid)
        return 0;
    int status = 0;
    pid_t got = waitpid(c->pid, &status, WNOHANG);
    if (got == 0 || (got < 0 && errno == EINTR))
        return 0;
    c->pid = 0;
    if (got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK) {
        c->done++;
        return 1;
    }
    c->failures++;
    if (got < 0)
        snprintf(err, errlen, "snapshot child: waitpid: %s", strerror(errno));
    else if (WIFSIGNALED(status))
        snprintf(err, errlen, "snapshot child killed by signal %d", WTERMSIG(status));
    else
        snprintf(err, errlen, "snapshot child exited with status %d", WEXITSTATUS(status));
    return -1;
}

void snapchild_abandon(struct snapchild *c, const struct files *f)
{
    if (!c->pid)
        return;
    kill(c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    char tmp[FILES_PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s/%s.%d.tmp", f->dir, FILES_SNAPSHOT_NAME, (int)c->pid);
    unlink(tmp);
    c->pid = 0;
    c->abandoned++;
}
