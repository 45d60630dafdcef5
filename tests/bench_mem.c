/* bench_mem: memory of the znode tree (issue #8). Builds the tree zabd
 * holds after `zablab load --op create --ops 100000`: 100k znodes of
 * 100-byte data under one parent, world:anyone, paths shaped like the load
 * tool's. Prints heap bytes per znode as glibc's allocator counts them
 * (mallinfo2: bytes in use, so malloc's per-chunk overhead is included),
 * the same after a clone, and the peak extra heap of one snapshot write.
 * Numbers are for docs/benchmarks.md; nothing here is timed or asserted. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tree.h"

#define BENCH_NODES 100000
#define BENCH_DATA_BYTES 100
#define BENCH_PARENT "/zablab-load/run-123456"

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void line(const char *what, size_t bytes, size_t nodes)
{
    printf("%-36s %12zu bytes %8.1f bytes/znode\n", what, bytes, (double)bytes / (double)nodes);
}

static int build(struct tree *t)
{
    static const struct zk_acl open_acl = {ZOO_PERM_ALL, {"world", "anyone"}};
    uint8_t data[BENCH_DATA_BYTES];
    memset(data, 'x', sizeof data);
    if (tree_init(t, NULL) != ZOK)
        return -1;
    int64_t zxid = (int64_t)1 << 32;
    const char *dirs[] = {"/zablab-load", BENCH_PARENT};
    for (int i = 0; i < 2; i++, zxid++)
        if (tree_create(t, dirs[i], strlen(dirs[i]), NULL, 0, &open_acl, 1, 0, 1, zxid, zxid,
                        NULL) != ZOK)
            return -1;
    char path[96];
    for (int i = 0; i < BENCH_NODES; i++, zxid++) {
        int len = snprintf(path, sizeof path, "%s/c%d-%d", BENCH_PARENT, i % 4, i);
        if (tree_create(t, path, (size_t)len, data, sizeof data, &open_acl, 1, 0, i + 2, zxid,
                        zxid, NULL) != ZOK)
            return -1;
    }
    return 0;
}

int main(void)
{
    /* Keep every block on the heap proper so mallinfo2 sees all of it. */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    struct tree t, c;
    size_t base = heap_in_use();
    if (build(&t) != 0) {
        fprintf(stderr, "bench_mem: building the tree failed\n");
        return 1;
    }
    size_t built = heap_in_use();
    printf("tree of %u znodes, %d-byte data, world:anyone; sizeof(struct tree_node) = %zu\n",
           tree_node_count(&t), BENCH_DATA_BYTES, sizeof(struct tree_node));
    line("heap after build", built - base, BENCH_NODES);
    size_t payload = (size_t)tree_approx_data_size(&t);
    line("  of which path + data bytes", payload, BENCH_NODES);
    if (tree_clone(&c, &t) != ZOK) {
        fprintf(stderr, "bench_mem: clone failed\n");
        return 1;
    }
    line("heap of a clone", heap_in_use() - built, BENCH_NODES);
    tree_free(&c);
    size_t cap = tree_snapshot_size(&t), len = 0;
    uint8_t *snap = malloc(cap);
    if (snap == NULL || tree_snapshot_write(&t, snap, cap, &len) != ZOK) {
        fprintf(stderr, "bench_mem: snapshot failed\n");
        return 1;
    }
    line("snapshot bytes", len, BENCH_NODES);
    free(snap);
    tree_free(&t);
    line("heap left after tree_free", heap_in_use() - base, BENCH_NODES);
    return 0;
}
