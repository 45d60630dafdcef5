/* Txn encoding: round trip of every txn type, and a corpus of malformed
 * bytes (every truncation, huge lengths and counts, bad types, nested
 * multi, trailing bytes, random mutations) rejected cleanly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/txn.h"

static const struct zk_acl acl2[2] = {{31, {"world", "anyone"}}, {1, {"digest", "u:abc="}}};

static struct zk_txn_op op_create(const char *path, const char *data)
{
    struct zk_txn_op op;
    memset(&op, 0, sizeof op);
    op.type = ZOO_CREATE_OP;
    op.path = path;
    op.path_len = (uint32_t)strlen(path);
    op.data = (const uint8_t *)data;
    op.data_len = (uint32_t)strlen(data);
    op.acl = acl2;
    op.acl_count = 2;
    op.ephemeral_owner = 0x1122334455667788ll;
    op.parent_cversion = -7;
    return op;
}

static struct zk_txn header(int32_t type)
{
    struct zk_txn t;
    memset(&t, 0, sizeof t);
    t.session_id = -5;
    t.cxid = 99;
    t.zxid = 0x300000004ll;
    t.time_ms = 1700000000123ll;
    t.type = type;
    return t;
}

static uint8_t *enc(const struct zk_txn *t, size_t *len)
{
    size_t cap = zk_txn_encoded_size(t);
    assert_true(cap > 0);
    uint8_t *buf = malloc(cap);
    assert_int_equal(zk_txn_encode(t, buf, cap, len), ZOK);
    assert_int_equal(*len, cap);
    assert_int_equal(zk_txn_encode(t, buf, cap - 1, len), ZBADARGUMENTS);
    assert_int_equal(zk_txn_encode(t, buf, cap, len), ZOK);
    return buf;
}

static void op_equal(const struct zk_txn_op *a, const struct zk_txn_op *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->path_len, b->path_len);
    if (a->path_len)
        assert_memory_equal(a->path, b->path, a->path_len);
    assert_int_equal(a->data_len, b->data_len);
    if (a->data_len)
        assert_memory_equal(a->data, b->data, a->data_len);
    assert_int_equal(a->acl_count, b->acl_count);
    for (uint32_t i = 0; i < a->acl_count; i++) {
        assert_int_equal(a->acl[i].perms, b->acl[i].perms);
        assert_string_equal(a->acl[i].id.scheme, b->acl[i].id.scheme);
        assert_string_equal(a->acl[i].id.id, b->acl[i].id.id);
    }
    assert_int_equal(a->ephemeral_owner, b->ephemeral_owner);
    assert_int_equal(a->parent_cversion, b->parent_cversion);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->err, b->err);
}

/* Builds one txn of each kind into t[]; returns how many. */
static int sample_txns(struct zk_txn *t, struct zk_txn_op *ops, struct zk_txn_path *paths)
{
    int n = 0;
    t[n] = header(ZOO_CREATE_OP);
    t[n++].op = op_create("/a/b", "data");
    t[n] = header(ZOO_CREATE_TTL_OP);
    t[n].op = op_create("/ttl", "");
    t[n++].op.type = ZOO_CREATE_TTL_OP;
    t[n] = header(ZOO_DELETE_OP);
    t[n].op = (struct zk_txn_op){.type = ZOO_DELETE_OP, .path = "/x", .path_len = 2};
    n++;
    t[n] = header(ZOO_SETDATA_OP);
    t[n].op = (struct zk_txn_op){.type = ZOO_SETDATA_OP, .path = "/x", .path_len = 2,
                                 .data = (const uint8_t *)"\0\1\2", .data_len = 3, .version = 12};
    n++;
    t[n] = header(ZOO_SETACL_OP);
    t[n].op = (struct zk_txn_op){.type = ZOO_SETACL_OP, .path = "/x", .path_len = 2,
                                 .acl = acl2, .acl_count = 1, .version = 3};
    n++;
    t[n] = header(ZOO_CHECK_OP);
    t[n].op = (struct zk_txn_op){.type = ZOO_CHECK_OP, .path = "/c", .path_len = 2, .version = 4};
    n++;
    t[n] = header(ZOO_ERROR_OP);
    t[n].op = (struct zk_txn_op){.type = ZOO_ERROR_OP, .err = ZNONODE};
    n++;
    t[n] = header(ZOO_CREATE_SESSION_OP);
    t[n++].timeout_ms = 30000;
    paths[0] = (struct zk_txn_path){"/e1", 3};
    paths[1] = (struct zk_txn_path){"/q/e2", 5};
    t[n] = header(ZOO_CLOSE_SESSION_OP);
    t[n].paths = paths;
    t[n++].path_count = 2;
    ops[0] = op_create("/m", "1");
    ops[1] = (struct zk_txn_op){.type = ZOO_DELETE_OP, .path = "/m", .path_len = 2};
    ops[2] = (struct zk_txn_op){.type = ZOO_ERROR_OP, .err = ZRUNTIMEINCONSISTENCY};
    t[n] = header(ZOO_MULTI_OP);
    t[n].ops = ops;
    t[n++].op_count = 3;
    return n;
}

static void round_trip_every_type(void **state)
{
    (void)state;
    struct zk_txn t[16], d;
    struct zk_txn_op ops[4];
    struct zk_txn_path paths[2];
    int n = sample_txns(t, ops, paths);
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *buf = enc(&t[i], &len);
        assert_int_equal(zk_txn_decode(&d, buf, len, NULL, 0), ZOK);
        assert_int_equal(d.type, t[i].type);
        assert_int_equal(d.session_id, t[i].session_id);
        assert_int_equal(d.cxid, t[i].cxid);
        assert_int_equal(d.zxid, t[i].zxid);
        assert_int_equal(d.time_ms, t[i].time_ms);
        assert_int_equal(d.timeout_ms, t[i].timeout_ms);
        assert_int_equal(d.op_count, t[i].op_count);
        for (uint32_t k = 0; k < d.op_count; k++)
            op_equal(&d.ops[k], &t[i].ops[k]);
        assert_int_equal(d.path_count, t[i].path_count);
        for (uint32_t k = 0; k < d.path_count; k++) {
            assert_int_equal(d.paths[k].len, t[i].paths[k].len);
            assert_memory_equal(d.paths[k].path, t[i].paths[k].path, d.paths[k].len);
        }
        if (t[i].type != ZOO_MULTI_OP && t[i].type != ZOO_CREATE_SESSION_OP &&
            t[i].type != ZOO_CLOSE_SESSION_OP)
            op_equal(&d.op, &t[i].op);
        zk_txn_free(&d);
        free(buf);
    }
}

static void unencodable_rejected(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len;
    struct zk_txn t = header(77);
    assert_int_equal(zk_txn_encode(&t, buf, sizeof buf, &len), ZBADARGUMENTS);
    struct zk_txn_op nested = {.type = ZOO_MULTI_OP};
    t = header(ZOO_MULTI_OP);
    t.ops = &nested;
    t.op_count = 1;
    assert_int_equal(zk_txn_encode(&t, buf, sizeof buf, &len), ZBADARGUMENTS);
    t = header(ZOO_DELETE_OP);
    t.op.type = ZOO_SETDATA_OP; /* body disagrees with header */
    assert_int_equal(zk_txn_encode(&t, buf, sizeof buf, &len), ZBADARGUMENTS);
}

static void every_truncation_rejected(void **state)
{
    (void)state;
    struct zk_txn t[16], d;
    struct zk_txn_op ops[4];
    struct zk_txn_path paths[2];
    int n = sample_txns(t, ops, paths);
    char err[96];
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *buf = enc(&t[i], &len);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
            memcpy(copy, buf, cut);
            assert_int_equal(zk_txn_decode(&d, copy, cut, err, sizeof err), ZMARSHALLINGERROR);
            assert_non_null(strstr(err, "offset"));
            zk_txn_free(&d);
            free(copy);
        }
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, buf, len);
        longer[len] = 0;
        assert_int_equal(zk_txn_decode(&d, longer, len + 1, err, sizeof err), ZMARSHALLINGERROR);
        assert_non_null(strstr(err, "trailing"));
        free(longer);
        free(buf);
    }
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#define HDR_LEN 33 /* u8 + i32 + i64 + i32 + i64 + i64 */

static void huge_lengths_and_bad_fields(void **state)
{
    (void)state;
    struct zk_txn d;
    char err[96];
    size_t len;
    struct zk_txn t = header(ZOO_CREATE_OP);
    t.op = op_create("/a", "x");
    uint8_t *buf = enc(&t, &len);
    uint8_t *b = malloc(len);
    /* path length 0xffffffff, then just above ZK_PATH_MAX */
    memcpy(b, buf, len);
    put_u32(b + HDR_LEN, 0xffffffffu);
    assert_int_equal(zk_txn_decode(&d, b, len, err, sizeof err), ZMARSHALLINGERROR);
    memcpy(b, buf, len);
    put_u32(b + HDR_LEN, ZK_PATH_MAX + 1);
    assert_int_equal(zk_txn_decode(&d, b, len, err, sizeof err), ZMARSHALLINGERROR);
    /* data length beyond the buffer */
    memcpy(b, buf, len);
    put_u32(b + HDR_LEN + 4 + 2, 0x7fffffffu);
    assert_int_equal(zk_txn_decode(&d, b, len, err, sizeof err), ZMARSHALLINGERROR);
    /* ACL count huge */
    memcpy(b, buf, len);
    put_u32(b + HDR_LEN + 4 + 2 + 4 + 1, 0x10000000u);
    assert_int_equal(zk_txn_decode(&d, b, len, err, sizeof err), ZMARSHALLINGERROR);
    assert_non_null(strstr(err, "ACL"));
    /* unknown format version and unknown type */
    memcpy(b, buf, len);
    b[0] = 2;
    assert_int_equal(zk_txn_decode(&d, b, len, err, sizeof err), ZMARSHALLINGERROR);
    memcpy(b, buf, len);
    put_u32(b + 1, 55);
    assert_int_equal(zk_txn_decode(&d, b, len, err, sizeof err), ZMARSHALLINGERROR);
    assert_non_null(strstr(err, "type"));
    free(b);
    free(buf);
    /* multi: huge count, nested multi, session op inside */
    uint8_t m[HDR_LEN + 16];
    memset(m, 0, sizeof m);
    m[0] = ZK_TXN_FORMAT;
    put_u32(m + 1, (uint32_t)ZOO_MULTI_OP);
    put_u32(m + HDR_LEN, 0xffffffffu);
    assert_int_equal(zk_txn_decode(&d, m, sizeof m, err, sizeof err), ZMARSHALLINGERROR);
    put_u32(m + HDR_LEN, 1);
    put_u32(m + HDR_LEN + 4, (uint32_t)ZOO_MULTI_OP);
    assert_int_equal(zk_txn_decode(&d, m, sizeof m, err, sizeof err), ZMARSHALLINGERROR);
    assert_non_null(strstr(err, "multi"));
    put_u32(m + HDR_LEN + 4, (uint32_t)ZOO_CLOSE_SESSION_OP);
    assert_int_equal(zk_txn_decode(&d, m, sizeof m, err, sizeof err), ZMARSHALLINGERROR);
    /* closeSession: count larger than the bytes could hold */
    put_u32(m + 1, (uint32_t)ZOO_CLOSE_SESSION_OP);
    put_u32(m + HDR_LEN, 1000);
    assert_int_equal(zk_txn_decode(&d, m, sizeof m, err, sizeof err), ZMARSHALLINGERROR);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Random mutations never crash or read out of bounds; anything accepted
 * re-encodes to exactly the same bytes. */
static void mutations_never_crash(void **state)
{
    (void)state;
    struct zk_txn t[16], d;
    struct zk_txn_op ops[4];
    struct zk_txn_path paths[2];
    int n = sample_txns(t, ops, paths);
    uint32_t seed = 7;
    int accepted = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *buf = enc(&t[i], &len);
        uint8_t *b = malloc(len);
        for (int round = 0; round < 400; round++) {
            memcpy(b, buf, len);
            int flips = 1 + (int)(lcg(&seed) % 3);
            for (int f = 0; f < flips; f++)
                b[lcg(&seed) % len] = (uint8_t)lcg(&seed);
            if (zk_txn_decode(&d, b, len, NULL, 0) == ZOK) {
                accepted++;
                size_t l2 = zk_txn_encoded_size(&d);
                if (l2 > 0) {
                    uint8_t *again = malloc(l2);
                    size_t got;
                    assert_int_equal(zk_txn_encode(&d, again, l2, &got), ZOK);
                    assert_int_equal(got, len);
                    assert_memory_equal(again, b, len);
                    free(again);
                }
            }
            zk_txn_free(&d);
        }
        free(b);
        free(buf);
    }
    assert_true(accepted > 0); /* some flips land in data bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_type),
        cmocka_unit_test(unencodable_rejected),
        cmocka_unit_test(every_truncation_rejected),
        cmocka_unit_test(huge_lengths_and_bad_fields),
        cmocka_unit_test(mutations_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
