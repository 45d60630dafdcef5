/* The znode tree: Stat bookkeeping, children order, ephemeral index,
 * digest order-independence and sensitivity, clone, snapshots (round trip
 * and a corpus of corrupt inputs), an index stress against a model, and
 * ACL interning (shared storage, isolation, refcounts, clones). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/crc32c.h"
#include "core/path.h"
#include "core/tree.h"

static struct zk_acl open_acl(void)
{
    struct zk_acl a;
    memset(&a, 0, sizeof a);
    a.perms = ZOO_PERM_ALL;
    strcpy(a.id.scheme, "world");
    strcpy(a.id.id, "anyone");
    return a;
}

static int mk(struct tree *t, const char *p, const char *data, int64_t owner, int64_t zxid)
{
    struct zk_acl a = open_acl();
    size_t len = strlen(p);
    const struct tree_node *parent = tree_get(t, p, zk_path_parent_len(p, len));
    int32_t cv = parent ? parent->stat.cversion + 1 : 0;
    return tree_create(t, p, len, (const uint8_t *)data, data ? (uint32_t)strlen(data) : 0,
                       &a, 1, owner, cv, zxid, zxid * 10, NULL);
}

static const struct tree_node *get(const struct tree *t, const char *p)
{
    return tree_get(t, p, strlen(p));
}

static void initial_nodes(void **state)
{
    (void)state;
    struct tree t;
    assert_int_equal(tree_init(&t, NULL), ZOK);
    assert_int_equal(tree_node_count(&t), 4);
    const struct tree_node *root = get(&t, "/");
    assert_non_null(root);
    assert_int_equal(root->stat.num_children, 1);
    assert_string_equal(tree_node_name(tree_child(&t, root, 0)), "zookeeper");
    assert_int_equal(get(&t, "/zookeeper")->stat.num_children, 2);
    assert_non_null(get(&t, "/zookeeper/quota"));
    const struct tree_node *cfg = get(&t, "/zookeeper/config");
    assert_non_null(cfg);
    uint32_t acl_count;
    assert_int_equal(tree_node_acl(&t, cfg, &acl_count)[0].perms, ZOO_PERM_READ);
    assert_int_equal(acl_count, 1);
    assert_int_equal(tree_digest(&t), tree_digest_recompute(&t));
    tree_free(&t);
}

static void create_sets_stat_and_parent(void **state)
{
    (void)state;
    struct tree t;
    tree_init(&t, NULL);
    struct zk_acl a = open_acl();
    struct zk_stat st;
    assert_int_equal(tree_create(&t, "/a", 2, (const uint8_t *)"xyz", 3, &a, 1, 0, 1, 0x100000005ll, 777, &st), ZOK);
    assert_int_equal(st.czxid, 0x100000005ll);
    assert_int_equal(st.mzxid, 0x100000005ll);
    assert_int_equal(st.pzxid, 0x100000005ll);
    assert_int_equal(st.ctime_ms, 777);
    assert_int_equal(st.mtime_ms, 777);
    assert_int_equal(st.version, 0);
    assert_int_equal(st.cversion, 0);
    assert_int_equal(st.aversion, 0);
    assert_int_equal(st.data_length, 3);
    assert_int_equal(st.num_children, 0);
    const struct tree_node *root = get(&t, "/");
    assert_int_equal(root->stat.cversion, 1);
    assert_int_equal(root->stat.pzxid, 0x100000005ll);
    assert_int_equal(root->stat.num_children, 2);
    /* A replayed create with an older cversion never moves it back. */
    assert_int_equal(tree_create(&t, "/b", 2, NULL, 0, &a, 1, 0, 1, 0x100000006ll, 1, NULL), ZOK);
    assert_int_equal(get(&t, "/")->stat.cversion, 1);
    assert_int_equal(get(&t, "/")->stat.pzxid, 0x100000005ll);
    assert_int_equal(tree_create(&t, "/a", 2, NULL, 0, &a, 1, 0, 9, 7, 1, NULL), ZNODEEXISTS);
    assert_int_equal(tree_create(&t, "/x/y", 4, NULL, 0, &a, 1, 0, 9, 7, 1, NULL), ZNONODE);
    assert_int_equal(tree_create(&t, "/", 1, NULL, 0, &a, 1, 0, 9, 7, 1, NULL), ZNODEEXISTS);
    assert_int_equal(tree_create(&t, "/bad/", 5, NULL, 0, &a, 1, 0, 9, 7, 1, NULL), ZBADARGUMENTS);
    tree_free(&t);
}

static void delete_updates_pzxid_not_cversion(void **state)
{
    (void)state;
    struct tree t;
    tree_init(&t, NULL);
    assert_int_equal(mk(&t, "/a", NULL, 0, 1), ZOK);
    assert_int_equal(mk(&t, "/a/b", NULL, 0, 2), ZOK);
    assert_int_equal(tree_delete(&t, "/a", 2, 3), ZNOTEMPTY);
    assert_int_equal(tree_delete(&t, "/a/b", 4, 3), ZOK);
    const struct tree_node *a = get(&t, "/a");
    assert_int_equal(a->stat.cversion, 1);
    assert_int_equal(a->stat.pzxid, 3);
    assert_int_equal(a->stat.num_children, 0);
    assert_int_equal(tree_delete(&t, "/a/b", 4, 4), ZNONODE);
    assert_int_equal(tree_delete(&t, "/", 1, 4), ZBADARGUMENTS);
    assert_int_equal(tree_digest(&t), tree_digest_recompute(&t));
    tree_free(&t);
}

static void set_data_and_acl(void **state)
{
    (void)state;
    struct tree t;
    struct tree_config cfg;
    tree_config_default(&cfg);
    cfg.data_max = 8;
    tree_init(&t, &cfg);
    mk(&t, "/a", "1", 0, 1);
    struct zk_stat st;
    assert_int_equal(tree_set_data(&t, "/a", 2, (const uint8_t *)"hello", 5, 1, 2, 50, &st), ZOK);
    assert_int_equal(st.version, 1);
    assert_int_equal(st.mzxid, 2);
    assert_int_equal(st.czxid, 1);
    assert_int_equal(st.mtime_ms, 50);
    assert_int_equal(st.data_length, 5);
    assert_memory_equal(tree_node_data(get(&t, "/a")), "hello", 5);
    assert_int_equal(tree_set_data(&t, "/a", 2, (const uint8_t *)"123456789", 9, 2, 3, 60, NULL), ZBADARGUMENTS);
    assert_int_equal(mk(&t, "/big", "123456789", 0, 4), ZBADARGUMENTS);
    struct zk_acl r = open_acl();
    r.perms = ZOO_PERM_READ;
    assert_int_equal(tree_set_acl(&t, "/a", 2, &r, 1, 1, &st), ZOK);
    assert_int_equal(st.aversion, 1);
    assert_int_equal(st.mzxid, 2);
    uint32_t acl_count;
    assert_int_equal(tree_node_acl(&t, get(&t, "/a"), &acl_count)[0].perms, ZOO_PERM_READ);
    assert_int_equal(tree_set_data(&t, "/none", 5, NULL, 0, 1, 3, 1, NULL), ZNONODE);
    assert_int_equal(tree_set_acl(&t, "/none", 5, &r, 1, 1, NULL), ZNONODE);
    tree_free(&t);
}

static void children_sorted_and_ephemerals(void **state)
{
    (void)state;
    struct tree t;
    tree_init(&t, NULL);
    const char *names[] = {"/m", "/b", "/zz", "/a", "/b0", "/B"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(mk(&t, names[i], NULL, (i % 2) ? 0x55 : 0x44, i + 1), ZOK);
    const struct tree_node *root = get(&t, "/");
    const char *want[] = {"B", "a", "b", "b0", "m", "zookeeper", "zz"};
    assert_int_equal(tree_node_child_count(root), 7);
    for (uint32_t i = 0; i < 7; i++)
        assert_string_equal(tree_node_name(tree_child(&t, root, i)), want[i]);
    const struct tree_node *e[8];
    assert_int_equal(tree_ephemerals(&t, 0x44, e, 8), 3);
    assert_string_equal(e[0]->path, "/b0");
    assert_string_equal(e[1]->path, "/m");
    assert_string_equal(e[2]->path, "/zz");
    assert_int_equal(tree_ephemerals(&t, 0x55, e, 1), 3);
    assert_string_equal(e[0]->path, "/B");
    assert_int_equal(tree_ephemerals(&t, 0x66, e, 8), 0);
    assert_int_equal(tree_ephemeral_count(&t), 6);
    assert_int_equal(mk(&t, "/a/child", NULL, 0, 9), ZNOCHILDRENFOREPHEMERALS);
    tree_delete(&t, "/m", 2, 10);
    assert_int_equal(tree_ephemerals(&t, 0x44, e, 8), 2);
    assert_int_equal(tree_ephemeral_count(&t), 5);
    /* Containers and TTL nodes are not session ephemerals. */
    assert_int_equal(mk(&t, "/c", NULL, ZK_OWNER_CONTAINER, 11), ZOK);
    assert_int_equal(mk(&t, "/ttl", NULL, tree_ttl_owner(5000), 12), ZOK);
    assert_int_equal(tree_ephemeral_count(&t), 5);
    assert_int_equal(t.container_count, 1);
    assert_int_equal(t.ttl_count, 1);
    assert_int_equal(mk(&t, "/c/kid", NULL, 0, 13), ZOK);
    tree_free(&t);
}

static void build_a(struct tree *t)
{
    tree_init(t, NULL);
    mk(t, "/x", "1", 0, 1);
    mk(t, "/y", "2", 0, 2);
    mk(t, "/x/k", "3", 0, 3);
}

static void digest_order_independent_and_sensitive(void **state)
{
    (void)state;
    struct zk_acl a = open_acl();
    struct tree t1, t2;
    build_a(&t1);
    /* Same final state built in another order, with explicit stats. */
    tree_init(&t2, NULL);
    tree_create(&t2, "/y", 2, (const uint8_t *)"2", 1, &a, 1, 0, 2, 2, 20, NULL);
    tree_create(&t2, "/x", 2, (const uint8_t *)"1", 1, &a, 1, 0, 1, 1, 10, NULL);
    tree_create(&t2, "/x/k", 4, (const uint8_t *)"3", 1, &a, 1, 0, 1, 3, 30, NULL);
    assert_int_equal(get(&t2, "/")->stat.pzxid, 2); /* /x's older cversion left it */
    assert_int_equal(tree_digest(&t1), tree_digest(&t2));
    struct tree t3;
    tree_init(&t3, NULL);
    tree_create(&t3, "/x", 2, (const uint8_t *)"1", 1, &a, 1, 0, 1, 1, 10, NULL);
    tree_create(&t3, "/x/k", 4, (const uint8_t *)"3", 1, &a, 1, 0, 1, 3, 30, NULL);
    tree_create(&t3, "/y", 2, (const uint8_t *)"2", 1, &a, 1, 0, 2, 2, 20, NULL);
    assert_int_equal(tree_digest(&t1), tree_digest(&t3));
    assert_int_equal(tree_digest(&t3), tree_digest_recompute(&t3));
    uint64_t base = tree_digest(&t1);
    /* Every single change moves the digest; undoing data restores it. */
    tree_set_data(&t1, "/y", 2, (const uint8_t *)"3", 1, 0, 2, 20, NULL);
    assert_int_not_equal(tree_digest(&t1), base);
    tree_set_data(&t1, "/y", 2, (const uint8_t *)"2", 1, 0, 2, 20, NULL);
    assert_int_equal(tree_digest(&t1), base);
    tree_set_data(&t1, "/y", 2, (const uint8_t *)"2", 1, 1, 2, 20, NULL);
    assert_int_not_equal(tree_digest(&t1), base);
    tree_set_data(&t1, "/y", 2, (const uint8_t *)"2", 1, 0, 2, 21, NULL);
    assert_int_not_equal(tree_digest(&t1), base);
    tree_set_data(&t1, "/y", 2, (const uint8_t *)"2", 1, 0, 2, 20, NULL);
    assert_int_equal(tree_digest(&t1), base);
    struct zk_acl r = a;
    r.perms = ZOO_PERM_READ;
    tree_set_acl(&t1, "/y", 2, &r, 1, 0, NULL);
    assert_int_not_equal(tree_digest(&t1), base);
    tree_set_acl(&t1, "/y", 2, &a, 1, 0, NULL);
    assert_int_equal(tree_digest(&t1), base);
    tree_delete(&t1, "/x/k", 4, 3);
    assert_int_not_equal(tree_digest(&t1), base);
    tree_free(&t1);
    tree_free(&t2);
    tree_free(&t3);
}

static void clone_is_deep(void **state)
{
    (void)state;
    struct tree t, c;
    build_a(&t);
    assert_int_equal(tree_clone(&c, &t), ZOK);
    assert_int_equal(tree_digest(&c), tree_digest(&t));
    mk(&c, "/z", "q", 0x77, 9);
    tree_set_data(&c, "/x", 2, (const uint8_t *)"changed", 7, 1, 9, 9, NULL);
    assert_int_not_equal(tree_digest(&c), tree_digest(&t));
    assert_null(get(&t, "/z"));
    assert_memory_equal(tree_node_data(get(&t, "/x")), "1", 1);
    assert_int_equal(tree_digest(&t), tree_digest_recompute(&t));
    assert_int_equal(tree_digest(&c), tree_digest_recompute(&c));
    tree_free(&t);
    assert_int_equal(tree_ephemeral_count(&c), 1);
    tree_free(&c);
}

static uint8_t *snap(const struct tree *t, size_t *len)
{
    size_t cap = tree_snapshot_size(t);
    uint8_t *buf = malloc(cap);
    assert_int_equal(tree_snapshot_write(t, buf, cap, len), ZOK);
    assert_int_equal(*len, cap);
    assert_int_equal(tree_snapshot_write(t, buf, cap - 1, len), ZBADARGUMENTS);
    assert_int_equal(tree_snapshot_write(t, buf, cap, len), ZOK);
    return buf;
}

static void snapshot_round_trip(void **state)
{
    (void)state;
    struct tree t, u;
    build_a(&t);
    mk(&t, "/e", "eph", 0x99, 7);
    mk(&t, "/c", NULL, ZK_OWNER_CONTAINER, 8);
    size_t len;
    uint8_t *buf = snap(&t, &len);
    char err[128];
    assert_int_equal(tree_snapshot_load(&u, NULL, buf, len, err, sizeof err), ZOK);
    assert_int_equal(tree_digest(&u), tree_digest(&t));
    assert_int_equal(tree_node_count(&u), tree_node_count(&t));
    assert_int_equal(tree_ephemeral_count(&u), 1);
    assert_int_equal(u.container_count, 1);
    assert_int_equal(get(&u, "/")->stat.cversion, get(&t, "/")->stat.cversion);
    assert_int_equal(get(&u, "/x")->stat.num_children, 1);
    assert_int_equal(tree_approx_data_size(&u), tree_approx_data_size(&t));
    /* Writing the loaded tree gives the same bytes. */
    size_t len2;
    uint8_t *buf2 = snap(&u, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf);
    free(buf2);
    tree_free(&t);
    tree_free(&u);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-seal a modified body with a correct CRC so the parser, not the
 * checksum, is what must reject it. */
static void reseal(uint8_t *buf, size_t len)
{
    put_u32(buf + len - 4, crc32c(buf, len - 4));
}

/* Deterministic LCG: the stress must replay identically. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Random byte changes with a valid CRC: the parser itself must reject them
 * (or, if it accepts, hand back a consistent tree), never crash. */
static void snapshot_resealed_mutations(void **state)
{
    (void)state;
    struct tree t, u;
    build_a(&t);
    mk(&t, "/e", "eph", 0x99, 7);
    size_t len;
    uint8_t *good = snap(&t, &len);
    uint8_t *b = malloc(len);
    uint32_t seed = 17;
    char err[128];
    int rejected = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(b, good, len);
        int flips = 1 + (int)(lcg(&seed) % 4);
        for (int f = 0; f < flips; f++)
            b[lcg(&seed) % (len - 4)] = (uint8_t)lcg(&seed);
        reseal(b, len);
        if (tree_snapshot_load(&u, NULL, b, len, err, sizeof err) != ZOK) {
            rejected++;
            assert_non_null(strstr(err, "offset"));
            continue;
        }
        assert_int_equal(tree_digest(&u), tree_digest_recompute(&u));
        assert_non_null(tree_get(&u, "/", 1));
        tree_free(&u);
    }
    assert_true(rejected > 2900); /* the digest check catches nearly all */
    free(b);
    free(good);
    tree_free(&t);
}

static void snapshot_corrupt_inputs_rejected(void **state)
{
    (void)state;
    struct tree t, u;
    build_a(&t);
    size_t len;
    uint8_t *good = snap(&t, &len);
    uint8_t *b = malloc(len);
    char err[128];
    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(tree_snapshot_load(&u, NULL, good, cut, err, sizeof err), ZOK);
        assert_int_equal(tree_node_count(&u), 0);
    }
    /* Every single bit flip (CRC must catch it). */
    for (size_t i = 0; i < len; i++) {
        memcpy(b, good, len);
        b[i] ^= 0x10;
        assert_int_not_equal(tree_snapshot_load(&u, NULL, b, len, err, sizeof err), ZOK);
    }
    /* Resealed semantic corruptions. */
    memcpy(b, good, len);
    put_u32(b + 8, 0x7fffffff); /* node count */
    reseal(b, len);
    assert_int_not_equal(tree_snapshot_load(&u, NULL, b, len, err, sizeof err), ZOK);
    memcpy(b, good, len);
    put_u32(b + 20, 0xfffffff0u); /* first path length: huge */
    reseal(b, len);
    assert_int_not_equal(tree_snapshot_load(&u, NULL, b, len, err, sizeof err), ZOK);
    assert_non_null(strstr(err, "offset 20"));
    memcpy(b, good, len);
    b[16] ^= 1; /* stored digest */
    reseal(b, len);
    assert_int_not_equal(tree_snapshot_load(&u, NULL, b, len, err, sizeof err), ZOK);
    assert_non_null(strstr(err, "digest"));
    memcpy(b, good, len);
    b[4] = 9; /* version */
    reseal(b, len);
    assert_int_not_equal(tree_snapshot_load(&u, NULL, b, len, err, sizeof err), ZOK);
    assert_non_null(strstr(err, "version"));
    /* A tree with a data limit smaller than the snapshot's data. */
    struct tree_config small;
    tree_config_default(&small);
    small.data_max = 0;
    assert_int_not_equal(tree_snapshot_load(&u, &small, good, len, err, sizeof err), ZOK);
    free(b);
    free(good);
    tree_free(&t);
}


static void index_stress_against_model(void **state)
{
    (void)state;
    struct tree t;
    tree_init(&t, NULL);
    enum { N = 3000 };
    static bool present[N];
    memset(present, 0, sizeof present);
    uint32_t seed = 42;
    char p[32];
    int64_t zxid = 1;
    for (int step = 0; step < 40000; step++) {
        uint32_t k = lcg(&seed) % N;
        snprintf(p, sizeof p, "/n%u", k);
        if (present[k]) {
            assert_int_equal(tree_delete(&t, p, strlen(p), zxid++), ZOK);
            present[k] = false;
        } else {
            assert_int_equal(mk(&t, p, p, 0, zxid++), ZOK);
            present[k] = true;
        }
    }
    uint32_t live = 0;
    for (int k = 0; k < N; k++) {
        snprintf(p, sizeof p, "/n%d", k);
        const struct tree_node *n = get(&t, p);
        assert_true((n != NULL) == present[k]);
        live += present[k];
        if (n != NULL)
            assert_string_equal(n->path, p);
    }
    assert_int_equal(tree_node_count(&t), live + 4);
    assert_int_equal(tree_digest(&t), tree_digest_recompute(&t));
    /* Preorder visits every node once, parents first. */
    uint32_t seen = 0;
    for (uint32_t i = tree_root(&t); i != TREE_NONE; i = tree_preorder_next(&t, i))
        seen++;
    assert_int_equal(seen, tree_node_count(&t));
    tree_free(&t);
}

static void dump_lists_preorder(void **state)
{
    (void)state;
    struct tree t;
    tree_init(&t, NULL);
    mk(&t, "/b", "xy", 0, 0x100000001ll);
    mk(&t, "/a", NULL, 0x42, 0x100000002ll);
    char buf[2048];
    size_t n = tree_dump(&t, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    /* Preorder, children by name. */
    const char *order[] = {"/ ", "/a ", "/b ", "/zookeeper ", "/zookeeper/config ", "/zookeeper/quota "};
    const char *line = buf;
    for (int i = 0; i < 6; i++) {
        assert_memory_equal(line, order[i], strlen(order[i]));
        line = strchr(line, '\n') + 1;
    }
    assert_string_equal(line, "");
    assert_non_null(strstr(buf, "/a czxid=0x100000002 mzxid=0x100000002 pzxid=0x100000002 ctime=42949672980 "));
    assert_non_null(strstr(buf, "owner=0x42 children=0 data=0\n/b "));
    assert_non_null(strstr(buf, "/b czxid=0x100000001"));
    assert_non_null(strstr(buf, "data=2\n"));
    /* Truncation: snprintf semantics. */
    char small[10];
    assert_int_equal(tree_dump(&t, small, sizeof small), n);
    assert_int_equal(strlen(small), 9);
    assert_int_equal(tree_dump(&t, NULL, 0), n);
    tree_free(&t);
}

static void node_max_bound(void **state)
{
    (void)state;
    struct tree_config cfg;
    tree_config_default(&cfg);
    cfg.node_max = 5;
    struct tree t;
    tree_init(&t, &cfg);
    assert_int_equal(mk(&t, "/a", NULL, 0, 1), ZOK);
    assert_int_equal(mk(&t, "/b", NULL, 0, 2), ZQUOTAEXCEEDED);
    tree_free(&t);
}

static struct zk_acl digest_acl(const char *user, int32_t perms)
{
    struct zk_acl a;
    memset(&a, 0, sizeof a);
    a.perms = perms;
    strcpy(a.id.scheme, "digest");
    snprintf(a.id.id, sizeof a.id.id, "%s:hash", user);
    return a;
}

static const struct zk_acl *acl_of(const struct tree *t, const char *p, uint32_t *count)
{
    return tree_node_acl(t, get(t, p), count);
}

/* Equal lists share one copy; a setACL on one node never shows on another;
 * the last node using a list frees it. */
static void acl_lists_interned_and_isolated(void **state)
{
    (void)state;
    struct tree t;
    assert_int_equal(tree_init(&t, NULL), ZOK);
    assert_int_equal(tree_acl_list_count(&t), 2); /* open, read-only /zookeeper/config */
    assert_int_equal(mk(&t, "/a", "x", 0, 1), ZOK);
    assert_int_equal(mk(&t, "/b", "y", 0, 2), ZOK);
    /* Bytes after the NUL are not part of the ACL: still the same list. */
    struct zk_acl junk = open_acl();
    memset(junk.id.id + 7, 'Z', sizeof junk.id.id - 7);
    assert_int_equal(tree_create(&t, "/c", 2, NULL, 0, &junk, 1, 0, 3, 3, 30, NULL), ZOK);
    assert_int_equal(tree_acl_list_count(&t), 2);
    uint32_t na, nb, nc;
    assert_ptr_equal(acl_of(&t, "/a", &na), acl_of(&t, "/b", &nb));
    assert_ptr_equal(acl_of(&t, "/a", &na), acl_of(&t, "/c", &nc));
    assert_string_equal(acl_of(&t, "/c", &nc)[0].id.id, "anyone");

    struct zk_acl two[2] = {digest_acl("bob", ZOO_PERM_ALL), open_acl()};
    two[1].perms = ZOO_PERM_READ;
    assert_int_equal(tree_set_acl(&t, "/a", 2, two, 2, 1, NULL), ZOK);
    assert_int_equal(tree_acl_list_count(&t), 3);
    assert_int_equal(acl_of(&t, "/b", &nb)[0].perms, ZOO_PERM_ALL);
    assert_int_equal(nb, 1);
    assert_int_equal(acl_of(&t, "/a", &na)[1].perms, ZOO_PERM_READ);
    assert_int_equal(na, 2);
    /* Same content as /zookeeper/config's list: shared with it. */
    struct zk_acl ro = open_acl();
    ro.perms = ZOO_PERM_READ;
    assert_int_equal(tree_set_acl(&t, "/b", 2, &ro, 1, 1, NULL), ZOK);
    assert_ptr_equal(acl_of(&t, "/b", &nb), acl_of(&t, "/zookeeper/config", &na));
    assert_int_equal(acl_of(&t, "/c", &nc)[0].perms, ZOO_PERM_ALL);
    assert_int_equal(tree_acl_list_count(&t), 3);
    assert_int_equal(tree_digest(&t), tree_digest_recompute(&t));
    /* Setting a list to itself keeps it (the new reference comes first). */
    assert_int_equal(tree_set_acl(&t, "/a", 2, acl_of(&t, "/a", &na), na, 2, NULL), ZOK);
    assert_int_equal(acl_of(&t, "/a", &na)[0].perms, ZOO_PERM_ALL);
    assert_int_equal(tree_acl_list_count(&t), 3);
    assert_int_equal(tree_delete(&t, "/a", 2, 9), ZOK);
    assert_int_equal(tree_acl_list_count(&t), 2);
    assert_int_equal(tree_delete(&t, "/b", 2, 10), ZOK);
    assert_int_equal(tree_delete(&t, "/c", 2, 11), ZOK);
    assert_int_equal(tree_acl_list_count(&t), 2);
    tree_free(&t);
}

/* Many distinct lists: the intern index grows, and deleting every other
 * node (backward-shift removal) keeps the rest findable and shared. */
static void acl_refcounts_return_to_zero(void **state)
{
    (void)state;
    enum { N = 600 };
    struct tree t;
    assert_int_equal(tree_init(&t, NULL), ZOK);
    char p[32], user[16];
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof p, "/n%d", i);
        snprintf(user, sizeof user, "u%d", i % (N / 2));
        struct zk_acl a = digest_acl(user, ZOO_PERM_ALL);
        assert_int_equal(tree_create(&t, p, strlen(p), NULL, 0, &a, 1, 0, i + 1, i + 1, 0, NULL), ZOK);
    }
    assert_int_equal(tree_acl_list_count(&t), 2 + N / 2);
    for (int i = 0; i < N / 2; i += 2) {
        snprintf(p, sizeof p, "/n%d", i);
        assert_int_equal(tree_delete(&t, p, strlen(p), N + i), ZOK);
    }
    assert_int_equal(tree_acl_list_count(&t), 2 + N / 2); /* /n(i + N/2) still holds each */
    for (int i = 0; i < N / 2; i += 2) {
        snprintf(p, sizeof p, "/n%d", i + N / 2);
        assert_int_equal(tree_delete(&t, p, strlen(p), 2 * N + i), ZOK);
    }
    assert_int_equal(tree_acl_list_count(&t), 2 + N / 4);
    for (int i = 1; i < N / 2; i += 2) {
        snprintf(p, sizeof p, "/n%d", i);
        snprintf(user, sizeof user, "u%d", i);
        struct zk_acl a = digest_acl(user, ZOO_PERM_ALL);
        uint32_t c;
        assert_int_equal(tree_create(&t, "/probe", 6, NULL, 0, &a, 1, 0, 1, 3 * N, 0, NULL), ZOK);
        assert_ptr_equal(acl_of(&t, "/probe", &c), acl_of(&t, p, &c));
        assert_int_equal(tree_delete(&t, "/probe", 6, 3 * N), ZOK);
    }
    assert_int_equal(tree_acl_list_count(&t), 2 + N / 4);
    for (int i = 1; i < N; i += 2) {
        snprintf(p, sizeof p, "/n%d", i);
        assert_int_equal(tree_delete(&t, p, strlen(p), 4 * N + i), ZOK);
    }
    assert_int_equal(tree_acl_list_count(&t), 2);
    assert_int_equal(tree_digest(&t), tree_digest_recompute(&t));
    tree_free(&t);
}

/* A clone has its own lists: changing or freeing one side leaves the
 * other intact (ASan catches a shared buffer). */
static void clone_acls_independent(void **state)
{
    (void)state;
    struct tree t, u;
    assert_int_equal(tree_init(&t, NULL), ZOK);
    struct zk_acl a = digest_acl("carol", ZOO_PERM_ALL);
    assert_int_equal(tree_create(&t, "/d", 2, NULL, 0, &a, 1, 0, 1, 1, 0, NULL), ZOK);
    assert_int_equal(mk(&t, "/d/e", "v", 0, 2), ZOK);
    assert_int_equal(tree_clone(&u, &t), ZOK);
    uint32_t n;
    assert_ptr_not_equal(acl_of(&t, "/d", &n), acl_of(&u, "/d", &n));
    struct zk_acl ro = open_acl();
    ro.perms = ZOO_PERM_READ;
    assert_int_equal(tree_set_acl(&u, "/d", 2, &ro, 1, 1, NULL), ZOK);
    assert_string_equal(acl_of(&t, "/d", &n)[0].id.id, "carol:hash");
    assert_int_equal(tree_acl_list_count(&t), 3);
    assert_int_equal(tree_acl_list_count(&u), 2);
    assert_int_equal(mk(&u, "/d/f", "w", 0, 3), ZOK);
    assert_null(get(&t, "/d/f"));
    tree_free(&t);
    assert_string_equal(acl_of(&u, "/d", &n)[0].id.id, "anyone");
    assert_memory_equal(tree_node_data(get(&u, "/d/e")), "v", 1);
    assert_int_equal(tree_digest(&u), tree_digest_recompute(&u));
    tree_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initial_nodes),
        cmocka_unit_test(create_sets_stat_and_parent),
        cmocka_unit_test(delete_updates_pzxid_not_cversion),
        cmocka_unit_test(set_data_and_acl),
        cmocka_unit_test(children_sorted_and_ephemerals),
        cmocka_unit_test(digest_order_independent_and_sensitive),
        cmocka_unit_test(clone_is_deep),
        cmocka_unit_test(snapshot_round_trip),
        cmocka_unit_test(snapshot_corrupt_inputs_rejected),
        cmocka_unit_test(snapshot_resealed_mutations),
        cmocka_unit_test(index_stress_against_model),
        cmocka_unit_test(node_max_bound),
        cmocka_unit_test(dump_lists_preorder),
        cmocka_unit_test(acl_lists_interned_and_isolated),
        cmocka_unit_test(acl_refcounts_return_to_zero),
        cmocka_unit_test(clone_acls_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
