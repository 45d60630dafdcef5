/* bench_tree: throughput of the data model's hot paths on one core:
 * prep + apply of creates and setData (the leader's write path), tree
 * lookups, digest recomputation, snapshot write and load. Prints one line
 * per measurement; numbers are for comparison between versions only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/prep.h"
#include "core/zk_sm.h"

#define BENCH_NODES 100000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double secs)
{
    printf("%-34s %8ld ops %8.3f s %12.0f ops/s\n", what, n, secs, n / secs);
}

static int write_path(struct zk_sm *sm, struct prep *p, uint8_t *buf, int64_t *zxid,
                      int32_t type, const char *path, struct zk_apply_out *out)
{
    static const struct zk_acl open_acl = {ZOO_PERM_ALL, {"world", "anyone"}};
    struct zk_request r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.session_id = 1;
    r.path = path;
    r.data = (const uint8_t *)"0123456789abcdef";
    r.data_len = 16;
    r.acl = &open_acl;
    r.acl_count = 1;
    r.version = -1;
    struct prep_result res;
    (*zxid)++;
    if (prep_request(p, &sm->tree, NULL, &r, *zxid, *zxid, buf, 1 << 16, &res) != ZOK || !res.has_txn)
        return -1;
    int rc = zk_sm_apply(sm, (uint64_t)*zxid, buf, res.txn_len, out);
    prep_applied(p, *zxid);
    return rc == ZOK ? res.err : rc;
}

int main(void)
{
    struct zk_sm sm;
    struct prep p;
    struct zk_apply_out out;
    zk_sm_init(&sm, NULL);
    prep_init(&p, NULL);
    zk_apply_out_init(&out);
    uint8_t *buf = malloc(1 << 16);
    int64_t zxid = (int64_t)1 << 32;
    char path[64];
    write_path(&sm, &p, buf, &zxid, ZOO_CREATE_OP, "/b", &out);
    double t = now_s();
    for (int i = 0; i < BENCH_NODES; i++) {
        snprintf(path, sizeof path, "/b/n%07d", i);
        if (write_path(&sm, &p, buf, &zxid, ZOO_CREATE_OP, path, &out) != ZOK)
            return 1;
    }
    report("create (prep+encode+decode+apply)", BENCH_NODES, now_s() - t);
    t = now_s();
    for (int i = 0; i < BENCH_NODES; i++) {
        snprintf(path, sizeof path, "/b/n%07d", (i * 7919) % BENCH_NODES);
        if (write_path(&sm, &p, buf, &zxid, ZOO_SETDATA_OP, path, &out) != ZOK)
            return 1;
    }
    report("setData (prep+apply)", BENCH_NODES, now_s() - t);
    /* Pipelined: WINDOW txns outstanding before any is applied. */
    enum { WINDOW = 2000, ROUNDS = 10 };
    static uint8_t *pending[WINDOW];
    static size_t pending_len[WINDOW];
    t = now_s();
    for (int r = 0; r < ROUNDS; r++) {
        int64_t first = zxid + 1;
        for (int i = 0; i < WINDOW; i++) {
            static const struct zk_acl open_acl = {ZOO_PERM_ALL, {"world", "anyone"}};
            snprintf(path, sizeof path, "/b/p%02d-%05d", r, i);
            struct zk_request q;
            memset(&q, 0, sizeof q);
            q.type = ZOO_CREATE_OP;
            q.path = path;
            q.acl = &open_acl;
            q.acl_count = 1;
            struct prep_result res;
            zxid++;
            if (prep_request(&p, &sm.tree, NULL, &q, zxid, zxid, buf, 1 << 16, &res) != ZOK || !res.has_txn)
                return 1;
            pending[i] = malloc(res.txn_len);
            memcpy(pending[i], buf, res.txn_len);
            pending_len[i] = res.txn_len;
        }
        for (int i = 0; i < WINDOW; i++) {
            if (zk_sm_apply(&sm, (uint64_t)(first + i), pending[i], pending_len[i], &out) != ZOK)
                return 1;
            prep_applied(&p, first + i);
            free(pending[i]);
        }
    }
    report("create, 2000 outstanding", WINDOW * ROUNDS, now_s() - t);
    t = now_s();
    long found = 0;
    for (int i = 0; i < 10 * BENCH_NODES; i++) {
        int len = snprintf(path, sizeof path, "/b/n%07d", (i * 31) % BENCH_NODES);
        found += tree_get(&sm.tree, path, (size_t)len) != NULL;
    }
    report("tree_get", found, now_s() - t);
    t = now_s();
    uint64_t d = tree_digest_recompute(&sm.tree);
    report("digest recompute (nodes)", (long)tree_node_count(&sm.tree), now_s() - t);
    size_t cap = zk_sm_snapshot_size(&sm), len;
    uint8_t *snap = malloc(cap);
    t = now_s();
    zk_sm_snapshot_write(&sm, snap, cap, &len);
    report("snapshot write (nodes)", (long)tree_node_count(&sm.tree), now_s() - t);
    struct zk_sm loaded;
    zk_sm_init(&loaded, NULL);
    t = now_s();
    char err[128];
    if (zk_sm_snapshot_load(&loaded, snap, len, err, sizeof err) != ZOK)
        return 1;
    report("snapshot load (nodes)", (long)tree_node_count(&loaded.tree), now_s() - t);
    printf("snapshot bytes %zu, digest %016llx, equal after load: %s\n", len,
           (unsigned long long)d, zk_sm_digest(&loaded) == zk_sm_digest(&sm) ? "yes" : "NO");
    zk_sm_free(&loaded);
    free(snap);
    free(buf);
    zk_apply_out_free(&out);
    prep_free(&p);
    zk_sm_free(&sm);
    return 0;
}
