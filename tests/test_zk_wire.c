/* Tests of core/zk_wire: client-encode -> server-decode round trips for
 * every op (fields compared one by one), server-encode of every zks_out
 * kind -> client-decode, frames checked byte by byte against hand-built
 * jute layouts, a corpus of malformed payloads (never a crash, always the
 * documented code with the header's xid/op), and a real one-server
 * zk_server driven through zk_wire only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tree.h"
#include "core/zk_proto.h"
#include "core/zk_server.h"
#include "core/zk_wire.h"

/* ---- helpers ----------------------------------------------------------------- */

/* The only frame in b (asserts there is exactly one). */
static const uint8_t *one_frame(const struct zkw_buf *b, size_t *len)
{
    struct zkp_frame f;
    assert_int_equal(zkp_frame_next(b->p, b->len, 64u << 20, &f), 0);
    assert_true(f.ready);
    assert_int_equal(f.consumed, b->len);
    *len = f.payload_len;
    return f.payload;
}

static struct zk_request rq(int32_t type, int32_t xid, const char *path)
{
    struct zk_request r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.cxid = xid;
    r.path = path;
    r.version = -1;
    r.ttl_ms = -1;
    return r;
}

static const struct zk_acl acl2[2] = {
    { ZOO_PERM_ALL, { "world", "anyone" } },
    { ZOO_PERM_READ | ZOO_PERM_ADMIN, { "digest", "bob:Xv3yzv4dQ2ZZ0b8kYb7l0B4m2Ls=" } },
};

static void assert_acl_equal(const struct zk_acl *a, const struct zk_acl *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(a[i].perms, b[i].perms);
        assert_string_equal(a[i].id.scheme, b[i].id.scheme);
        assert_string_equal(a[i].id.id, b[i].id.id);
    }
}

static void assert_req_equal(const struct zk_request *want, const struct zk_request *got)
{
    assert_int_equal(got->type, want->type);
    assert_int_equal(got->cxid, want->cxid);
    if (want->path == NULL)
        assert_null(got->path);
    else
        assert_string_equal(got->path, want->path);
    assert_int_equal(got->data_len, want->data_len);
    if (want->data_len)
        assert_memory_equal(got->data, want->data, want->data_len);
    assert_int_equal(got->acl_count, want->acl_count);
    assert_acl_equal(want->acl, got->acl, want->acl_count);
    assert_int_equal(got->flags, want->flags);
    assert_int_equal(got->version, want->version);
    assert_int_equal(got->ttl_ms, want->ttl_ms);
    assert_int_equal(got->op_count, want->op_count);
    for (uint32_t i = 0; i < want->op_count; i++)
        assert_req_equal(&want->ops[i], &got->ops[i]);
    /* Identity fields are the connection's, never the wire's. */
    assert_int_equal(got->session_id, 0);
    assert_null(got->auth);
    assert_int_equal(got->owner, 0);
}

/* Encodes in, decodes it as the server, and checks that nothing of the
 * decoded request points into the (then overwritten) frame. */
static void roundtrip(const struct zk_request *in, struct zkw_request *out)
{
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_request(in, &b), 0);
    size_t n;
    const uint8_t *p = one_frame(&b, &n);
    int rc = zkw_decode_request(p, n, NULL, out);
    memset(b.p, 0xee, b.len);
    zkw_buf_free(&b);
    assert_int_equal(rc, ZOK);
    assert_true(out->has_header);
    assert_int_equal(out->xid, in->cxid);
    assert_int_equal(out->op, in->type);
    assert_int_equal(out->kind, ZKW_REQ_CLIENT);
    assert_string_equal(out->why, "");
}

static void check_roundtrip(const struct zk_request *in)
{
    struct zkw_request out;
    roundtrip(in, &out);
    assert_req_equal(in, &out.req);
    zkw_request_free(&out);
    assert_null(out.mem);
}

/* ---- round trips, op by op ------------------------------------------------------- */

static void test_roundtrip_creates(void **state)
{
    (void)state;
    static const int32_t ops[] = { ZOO_CREATE_OP, ZOO_CREATE2_OP, ZOO_CREATE_CONTAINER_OP,
                                   ZOO_CREATE_TTL_OP };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct zk_request r = rq(ops[i], (int32_t)i + 1, "/app/lock-");
        r.data = (const uint8_t *)"pay\0load";
        r.data_len = 8;
        r.acl = acl2;
        r.acl_count = 2;
        r.flags = ops[i] == ZOO_CREATE_TTL_OP ? ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL
                                              : ZOO_EPHEMERAL_SEQUENTIAL;
        if (ops[i] == ZOO_CREATE_TTL_OP)
            r.ttl_ms = 86400000;
        check_roundtrip(&r);
    }
}

static void test_roundtrip_path_ops(void **state)
{
    (void)state;
    /* Ops whose body is a path and maybe a watch flag / version / type. */
    struct zk_request r;
    r = rq(ZOO_DELETE_OP, 10, "/d"); r.version = 3; check_roundtrip(&r);
    r = rq(ZOO_CHECK_OP, 11, "/c"); r.version = 0; check_roundtrip(&r);
    r = rq(ZOO_EXISTS_OP, 12, "/e"); r.flags = 1; check_roundtrip(&r);
    r = rq(ZOO_EXISTS_OP, 13, "/e"); check_roundtrip(&r);
    r = rq(ZOO_GETDATA_OP, 14, "/g"); r.flags = 1; check_roundtrip(&r);
    r = rq(ZOO_GETCHILDREN_OP, 15, "/"); check_roundtrip(&r);
    r = rq(ZOO_GETCHILDREN2_OP, 16, "/x/y"); r.flags = 1; check_roundtrip(&r);
    r = rq(ZOO_GETACL_OP, 17, "/acl"); check_roundtrip(&r);
    r = rq(ZOO_SYNC_OP, 18, "/s"); check_roundtrip(&r);
    r = rq(ZOO_GET_ALL_CHILDREN_NUMBER_OP, 19, "/n"); check_roundtrip(&r);
    r = rq(ZOO_GET_EPHEMERALS_OP, 20, "/pre"); check_roundtrip(&r);
    r = rq(ZOO_GET_EPHEMERALS_OP, 21, NULL); check_roundtrip(&r);
    r = rq(ZOO_CHECK_WATCHES_OP, 22, "/w"); r.flags = ZOO_WATCHER_DATA; check_roundtrip(&r);
    r = rq(ZOO_REMOVE_WATCHES_OP, 23, "/w"); r.flags = ZOO_WATCHER_ANY; check_roundtrip(&r);
    r = rq(ZOO_ADD_WATCH_OP, 24, "/p"); r.flags = ZOO_ADD_WATCH_PERSISTENT_RECURSIVE; check_roundtrip(&r);
    r = rq(ZOO_PING_OP, -2, NULL); check_roundtrip(&r);
    r = rq(ZOO_WHO_AM_I_OP, 25, NULL); check_roundtrip(&r);
    r = rq(ZOO_CLOSE_SESSION_OP, 26, NULL); check_roundtrip(&r);
}

static void test_roundtrip_set_ops(void **state)
{
    (void)state;
    struct zk_request r = rq(ZOO_SETDATA_OP, 30, "/sd");
    r.data = (const uint8_t *)"new";
    r.data_len = 3;
    r.version = 41;
    check_roundtrip(&r);
    r = rq(ZOO_SETACL_OP, 31, "/sa");
    r.acl = acl2;
    r.acl_count = 2;
    r.version = 2;
    check_roundtrip(&r);
    r = rq(ZOO_SETAUTH_OP, -4, "digest");
    r.data = (const uint8_t *)"bob:secret";
    r.data_len = 10;
    check_roundtrip(&r);
}

static void test_roundtrip_multi(void **state)
{
    (void)state;
    struct zk_request ops[6];
    ops[0] = rq(ZOO_CREATE_OP, 40, "/m/a");
    ops[0].data = (const uint8_t *)"A";
    ops[0].data_len = 1;
    ops[0].acl = acl2;
    ops[0].acl_count = 1;
    ops[0].flags = ZOO_EPHEMERAL;
    ops[1] = rq(ZOO_CREATE2_OP, 40, "/m/b");
    ops[1].data = (const uint8_t *)"";
    ops[1].acl = acl2 + 1;
    ops[1].acl_count = 1;
    ops[2] = rq(ZOO_DELETE_OP, 40, "/m/c");
    ops[2].version = 5;
    ops[3] = rq(ZOO_SETDATA_OP, 40, "/m/d");
    ops[3].data = (const uint8_t *)"DD";
    ops[3].data_len = 2;
    ops[3].version = 1;
    ops[4] = rq(ZOO_CHECK_OP, 40, "/m");
    ops[4].version = 9;
    ops[5] = rq(ZOO_CREATE_TTL_OP, 40, "/m/t");
    ops[5].data = (const uint8_t *)"T";
    ops[5].data_len = 1;
    ops[5].acl = acl2;
    ops[5].acl_count = 2;
    ops[5].flags = ZOO_PERSISTENT_WITH_TTL;
    ops[5].ttl_ms = 1000;
    struct zk_request m = rq(ZOO_MULTI_OP, 40, NULL);
    m.ops = ops;
    m.op_count = 6;
    check_roundtrip(&m);
    /* An empty multi is legal. */
    m.op_count = 0;
    m.ops = NULL;
    check_roundtrip(&m);
}

static void test_roundtrip_set_watches(void **state)
{
    (void)state;
    const char *data[] = { "/a", "/b/c" }, *exist[] = { "/gone" }, *child[] = { "/", "/x", "/y" };
    const char *pers[] = { "/p" }, *rec[] = { "/r1", "/r2" };
    struct zks_set_watches sw;
    memset(&sw, 0, sizeof sw);
    sw.relative_zxid = 0x500000007ll;
    sw.data = (struct watch_list){ data, 2 };
    sw.exist = (struct watch_list){ exist, 1 };
    sw.child = (struct watch_list){ child, 3 };
    for (int v2 = 0; v2 < 2; v2++) {
        if (v2) {
            sw.persistent = (struct watch_list){ pers, 1 };
            sw.recursive = (struct watch_list){ rec, 2 };
        }
        struct zkw_buf b = { 0 };
        assert_int_equal(zkw_encode_set_watches(-8, &sw, &b), 0);
        size_t n;
        const uint8_t *p = one_frame(&b, &n);
        struct zkw_request out;
        assert_int_equal(zkw_decode_request(p, n, NULL, &out), ZOK);
        zkw_buf_free(&b);
        assert_int_equal(out.kind, ZKW_REQ_SET_WATCHES);
        assert_int_equal(out.op, v2 ? ZOO_SETWATCHES2_OP : ZOO_SETWATCHES_OP);
        assert_int_equal(out.xid, -8);
        assert_int_equal(out.sw.xid, -8);
        assert_int_equal(out.sw.relative_zxid, 0x500000007ll);
        const struct watch_list *want[5] = { &sw.data, &sw.exist, &sw.child, &sw.persistent, &sw.recursive };
        const struct watch_list *got[5] = { &out.sw.data, &out.sw.exist, &out.sw.child,
                                            &out.sw.persistent, &out.sw.recursive };
        for (int l = 0; l < 5; l++) {
            assert_int_equal(got[l]->count, want[l]->count);
            for (uint32_t i = 0; i < want[l]->count; i++)
                assert_string_equal(got[l]->paths[i], want[l]->paths[i]);
        }
        zkw_request_free(&out);
    }
}

static void test_connect_roundtrip(void **state)
{
    (void)state;
    for (int lf = 0; lf < 2; lf++) {
        struct zkw_connect c;
        memset(&c, 0, sizeof c);
        c.req.session_id = 0x1122334455667788ll;
        c.req.last_zxid_seen = 0x300000009ll;
        c.req.timeout_ms = 30000;
        for (int i = 0; i < SESSION_PASSWD_LEN; i++)
            c.req.passwd[i] = (uint8_t)(0xa0 + i);
        c.read_only = lf;
        c.long_form = lf;
        struct zkw_buf b = { 0 };
        assert_int_equal(zkw_encode_connect(&c, &b), 0);
        size_t n;
        const uint8_t *p = one_frame(&b, &n);
        assert_int_equal(n, lf ? ZKP_CONNECT_REQ_LEN : ZKP_CONNECT_REQ_LEN_OLD);
        struct zkw_connect d;
        assert_int_equal(zkw_decode_connect(p, n, &d), ZOK);
        assert_int_equal(d.req.session_id, c.req.session_id);
        assert_int_equal(d.req.last_zxid_seen, c.req.last_zxid_seen);
        assert_int_equal(d.req.timeout_ms, 30000);
        assert_memory_equal(d.req.passwd, c.req.passwd, SESSION_PASSWD_LEN);
        assert_int_equal(d.read_only, lf);
        assert_int_equal(d.req.read_only, lf);   /* what zks_client_connect sees */
        assert_int_equal(d.long_form, lf);
        assert_null(d.req.auth);
        zkw_buf_free(&b);
    }
}

/* ---- hand-built frames ---------------------------------------------------------- */

/* An independent big-endian writer, so a codec bug cannot hide behind
 * the same bug on both sides. */
struct hb {
    uint8_t b[32768];
    size_t n;
};

static void hb_u8(struct hb *h, uint8_t v)
{
    assert_true(h->n < sizeof h->b);
    h->b[h->n++] = v;
}

static void hb_i32(struct hb *h, int32_t v)
{
    for (int s = 24; s >= 0; s -= 8)
        hb_u8(h, (uint8_t)((uint32_t)v >> s));
}

static void hb_i64(struct hb *h, int64_t v)
{
    for (int s = 56; s >= 0; s -= 8)
        hb_u8(h, (uint8_t)((uint64_t)v >> s));
}

/* len -1 writes jute's null; otherwise len bytes of s. */
static void hb_bytes(struct hb *h, const void *s, int32_t len)
{
    hb_i32(h, len);
    for (int32_t i = 0; i < len; i++)
        hb_u8(h, ((const uint8_t *)s)[i]);
}

static void hb_str(struct hb *h, const char *s) { hb_bytes(h, s, (int32_t)strlen(s)); }

static void hb_stat(struct hb *h, int64_t base)
{
    hb_i64(h, base + 1); hb_i64(h, base + 2); hb_i64(h, base + 3); hb_i64(h, base + 4);
    hb_i32(h, 5); hb_i32(h, 6); hb_i32(h, 7);
    hb_i64(h, base + 8);
    hb_i32(h, 9); hb_i32(h, 10);
    hb_i64(h, base + 11);
}

static struct zk_stat stat_of(int64_t base)
{
    return (struct zk_stat){ base + 1, base + 2, base + 3, base + 4, 5, 6, 7, base + 8, 9, 10, base + 11 };
}

static void assert_wire_stat(const struct zkp_stat *w, int64_t base)
{
    struct zk_stat s = stat_of(base);
    assert_int_equal(w->czxid, s.czxid);
    assert_int_equal(w->mzxid, s.mzxid);
    assert_int_equal(w->ctime_ms, s.ctime_ms);
    assert_int_equal(w->mtime_ms, s.mtime_ms);
    assert_int_equal(w->version, s.version);
    assert_int_equal(w->cversion, s.cversion);
    assert_int_equal(w->aversion, s.aversion);
    assert_int_equal(w->ephemeral_owner, s.ephemeral_owner);
    assert_int_equal(w->data_length, s.data_length);
    assert_int_equal(w->num_children, s.num_children);
    assert_int_equal(w->pzxid, s.pzxid);
}

static void hb_open_acl(struct hb *h)
{
    hb_i32(h, 1);
    hb_i32(h, ZOO_PERM_ALL);
    hb_str(h, "world");
    hb_str(h, "anyone");
}

static int decode_hb(const struct hb *h, struct zkw_request *out)
{
    return zkw_decode_request(h->b, h->n, NULL, out);
}

static void test_kazoo_nulls(void **state)
{
    (void)state;
    /* kazoo writes empty data as null (-1) in setData and create. */
    struct hb h = { .n = 0 };
    hb_i32(&h, 7); hb_i32(&h, ZOO_SETDATA_OP);
    hb_str(&h, "/k"); hb_bytes(&h, NULL, -1); hb_i32(&h, -1);
    struct zkw_request out;
    assert_int_equal(decode_hb(&h, &out), ZOK);
    assert_string_equal(out.req.path, "/k");
    assert_non_null(out.req.data);
    assert_int_equal(out.req.data_len, 0);
    assert_int_equal(out.req.version, -1);
    zkw_request_free(&out);

    h.n = 0;
    hb_i32(&h, 8); hb_i32(&h, ZOO_CREATE_OP);
    hb_str(&h, "/k"); hb_bytes(&h, NULL, -1); hb_open_acl(&h); hb_i32(&h, ZOO_EPHEMERAL);
    assert_int_equal(decode_hb(&h, &out), ZOK);
    assert_non_null(out.req.data);
    assert_int_equal(out.req.data_len, 0);
    assert_int_equal(out.req.acl_count, 1);
    assert_string_equal(out.req.acl[0].id.id, "anyone");
    assert_int_equal(out.req.flags, ZOO_EPHEMERAL);
    assert_int_equal(out.req.ttl_ms, -1);
    zkw_request_free(&out);

    /* A null path is "" (the tree rejects it); a null getEphemerals prefix
     * means every node; a null ACL vector is no ACL. */
    h.n = 0;
    hb_i32(&h, 9); hb_i32(&h, ZOO_CREATE_OP);
    hb_bytes(&h, NULL, -1); hb_bytes(&h, "x", 1); hb_i32(&h, -1); hb_i32(&h, 0);
    assert_int_equal(decode_hb(&h, &out), ZOK);
    assert_string_equal(out.req.path, "");
    assert_int_equal(out.req.acl_count, 0);
    assert_null(out.req.acl);
    zkw_request_free(&out);
    h.n = 0;
    hb_i32(&h, 10); hb_i32(&h, ZOO_GET_EPHEMERALS_OP); hb_bytes(&h, NULL, -1);
    assert_int_equal(decode_hb(&h, &out), ZOK);
    assert_null(out.req.path);
    zkw_request_free(&out);
}

/* A path with a NUL byte is refused for its xid, never cut short to
 * another path. */
static void test_nul_in_strings(void **state)
{
    (void)state;
    struct hb h = { .n = 0 };
    hb_i32(&h, 33); hb_i32(&h, ZOO_DELETE_OP); hb_bytes(&h, "/a\0/b", 5); hb_i32(&h, -1);
    struct zkw_request out;
    assert_int_equal(decode_hb(&h, &out), ZBADARGUMENTS);
    assert_true(out.has_header);
    assert_int_equal(out.xid, 33);
    assert_int_equal(out.op, ZOO_DELETE_OP);
    assert_int_equal(out.kind, ZKW_REQ_NONE);
    assert_null(out.req.path);
    assert_true(strlen(out.why) > 0);
    zkw_request_free(&out);

    /* Inside a multi sub-op. */
    h.n = 0;
    hb_i32(&h, 34); hb_i32(&h, ZOO_MULTI_OP);
    hb_i32(&h, ZOO_CHECK_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/ok"); hb_i32(&h, 1);
    hb_i32(&h, ZOO_DELETE_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_bytes(&h, "/x\0", 3); hb_i32(&h, 1);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    assert_int_equal(decode_hb(&h, &out), ZBADARGUMENTS);
    assert_int_equal(out.xid, 34);
    zkw_request_free(&out);

    /* In a SetWatches list. */
    h.n = 0;
    hb_i32(&h, -8); hb_i32(&h, ZOO_SETWATCHES_OP); hb_i64(&h, 1);
    hb_i32(&h, 1); hb_bytes(&h, "/w\0z", 4); hb_i32(&h, 0); hb_i32(&h, 0);
    assert_int_equal(decode_hb(&h, &out), ZBADARGUMENTS);
    assert_int_equal(out.xid, -8);
    zkw_request_free(&out);

    /* In an ACL id: INVALIDACL. */
    h.n = 0;
    hb_i32(&h, 35); hb_i32(&h, ZOO_SETACL_OP); hb_str(&h, "/a");
    hb_i32(&h, 1); hb_i32(&h, 31); hb_str(&h, "world"); hb_bytes(&h, "any\0one", 7); hb_i32(&h, -1);
    assert_int_equal(decode_hb(&h, &out), ZINVALIDACL);
    zkw_request_free(&out);

    /* Data may hold NUL bytes: it is a buffer, not a string. */
    h.n = 0;
    hb_i32(&h, 36); hb_i32(&h, ZOO_SETDATA_OP); hb_str(&h, "/a"); hb_bytes(&h, "\0\0x", 3); hb_i32(&h, 2);
    assert_int_equal(decode_hb(&h, &out), ZOK);
    assert_int_equal(out.req.data_len, 3);
    assert_memory_equal(out.req.data, "\0\0x", 3);
    zkw_request_free(&out);
}

static void test_connect_password_policy(void **state)
{
    (void)state;
    uint8_t pw17[17];
    memset(pw17, 0x5a, sizeof pw17);
    /* 15 and 17 byte passwords (both forms of the handshake) and null. */
    int32_t lens[] = { 15, 17, -1, 0 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        struct hb h = { .n = 0 };
        hb_i32(&h, 0); hb_i64(&h, 0x42); hb_i32(&h, 6000); hb_i64(&h, 0x77);
        hb_bytes(&h, pw17, lens[k]);
        hb_u8(&h, 0);
        struct zkw_connect c;
        assert_int_equal(zkw_decode_connect(h.b, h.n, &c), ZOK);
        assert_int_equal(c.req.session_id, 0x77);
        static const uint8_t zero[SESSION_PASSWD_LEN];
        assert_memory_equal(c.req.passwd, zero, SESSION_PASSWD_LEN);
    }
    /* Short and trailing-garbage handshakes close. */
    struct hb h = { .n = 0 };
    hb_i32(&h, 0); hb_i64(&h, 0); hb_i32(&h, 6000); hb_i64(&h, 0);
    hb_bytes(&h, pw17, 16);
    struct zkw_connect c;
    for (size_t cut = 0; cut < h.n; cut++)
        assert_int_equal(zkw_decode_connect(h.b, cut, &c), ZMARSHALLINGERROR);
    hb_u8(&h, 1);
    hb_u8(&h, 9);
    assert_int_equal(zkw_decode_connect(h.b, h.n, &c), ZMARSHALLINGERROR);
    assert_int_equal(zkw_decode_connect(h.b, h.n - 1, &c), ZOK);
    assert_true(c.read_only);
    assert_true(c.long_form);
}

/* ---- malformed payloads ------------------------------------------------------------ */

/* Every strict prefix of a valid payload closes the connection, and the
 * header's xid/op are reported exactly when its 8 bytes were there. */
static void check_every_cut(const uint8_t *p, size_t n, int32_t xid, int32_t op)
{
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, p, cut);
        struct zkw_request out;
        int rc = zkw_decode_request(copy, cut, NULL, &out);
        assert_int_equal(rc, ZMARSHALLINGERROR);
        assert_int_equal(out.kind, ZKW_REQ_NONE);
        assert_null(out.mem);
        assert_int_equal(out.has_header, cut >= 8);
        if (cut >= 8) {
            assert_int_equal(out.xid, xid);
            assert_int_equal(out.op, op);
        }
        zkw_request_free(&out);
        free(copy);
    }
    struct zkw_request out;
    assert_int_equal(zkw_decode_request(p, n, NULL, &out), ZOK);
    zkw_request_free(&out);
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    struct zk_request c = rq(ZOO_CREATE_OP, 70, "/trunc");
    c.data = (const uint8_t *)"dd";
    c.data_len = 2;
    c.acl = acl2;
    c.acl_count = 2;
    struct zk_request ops[3] = { c, rq(ZOO_DELETE_OP, 71, "/x"), rq(ZOO_CHECK_OP, 71, "/y") };
    struct zk_request m = rq(ZOO_MULTI_OP, 71, NULL);
    m.ops = ops;
    m.op_count = 3;
    struct zkw_buf b = { 0 };
    size_t n;
    assert_int_equal(zkw_encode_request(&c, &b), 0);
    const uint8_t *p = one_frame(&b, &n);
    check_every_cut(p, n, 70, ZOO_CREATE_OP);
    b.len = 0;
    assert_int_equal(zkw_encode_request(&m, &b), 0);
    p = one_frame(&b, &n);
    check_every_cut(p, n, 71, ZOO_MULTI_OP);
    const char *paths[] = { "/a", "/bb" };
    struct zks_set_watches sw;
    memset(&sw, 0, sizeof sw);
    sw.data = (struct watch_list){ paths, 2 };
    sw.persistent = (struct watch_list){ paths, 1 };
    b.len = 0;
    assert_int_equal(zkw_encode_set_watches(-8, &sw, &b), 0);
    p = one_frame(&b, &n);
    check_every_cut(p, n, -8, ZOO_SETWATCHES2_OP);
    zkw_buf_free(&b);
}

static void expect(const struct hb *h, const struct zkw_limits *lim, int rc, int32_t xid, int32_t op)
{
    struct zkw_request out;
    assert_int_equal(zkw_decode_request(h->b, h->n, lim, &out), rc);
    assert_true(out.has_header);
    assert_int_equal(out.xid, xid);
    assert_int_equal(out.op, op);
    if (rc != ZOK) {
        assert_int_equal(out.kind, ZKW_REQ_NONE);
        assert_true(strlen(out.why) > 0);
    }
    zkw_request_free(&out);
}

static void test_bad_lengths_and_counts(void **state)
{
    (void)state;
    struct hb h = { .n = 0 };
    /* Negative string length below -1. */
    hb_i32(&h, 1); hb_i32(&h, ZOO_GETDATA_OP); hb_i32(&h, -5); hb_u8(&h, 0);
    expect(&h, NULL, ZMARSHALLINGERROR, 1, ZOO_GETDATA_OP);
    /* A length far beyond the payload. */
    h.n = 0;
    hb_i32(&h, 2); hb_i32(&h, ZOO_GETDATA_OP); hb_i32(&h, INT32_MAX); hb_u8(&h, 0);
    expect(&h, NULL, ZMARSHALLINGERROR, 2, ZOO_GETDATA_OP);
    /* ACL count 2^31 - 1 and INT32_MIN. */
    int32_t counts[] = { INT32_MAX, INT32_MIN, -2 };
    for (size_t k = 0; k < 3; k++) {
        h.n = 0;
        hb_i32(&h, 3); hb_i32(&h, ZOO_CREATE_OP); hb_str(&h, "/a"); hb_bytes(&h, "", 0);
        hb_i32(&h, counts[k]); hb_i32(&h, 0);
        expect(&h, NULL, ZMARSHALLINGERROR, 3, ZOO_CREATE_OP);
    }
    /* SetWatches with a forged list count. */
    h.n = 0;
    hb_i32(&h, -8); hb_i32(&h, ZOO_SETWATCHES_OP); hb_i64(&h, 0); hb_i32(&h, INT32_MAX);
    expect(&h, NULL, ZMARSHALLINGERROR, -8, ZOO_SETWATCHES_OP);
    /* Trailing bytes after a complete body. */
    h.n = 0;
    hb_i32(&h, 4); hb_i32(&h, ZOO_SYNC_OP); hb_str(&h, "/"); hb_u8(&h, 0);
    expect(&h, NULL, ZMARSHALLINGERROR, 4, ZOO_SYNC_OP);
    /* A multi with no terminating header. */
    h.n = 0;
    hb_i32(&h, 5); hb_i32(&h, ZOO_MULTI_OP);
    hb_i32(&h, ZOO_DELETE_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/a"); hb_i32(&h, -1);
    expect(&h, NULL, ZMARSHALLINGERROR, 5, ZOO_MULTI_OP);
    /* A nested multi. */
    h.n = 0;
    hb_i32(&h, 6); hb_i32(&h, ZOO_MULTI_OP);
    hb_i32(&h, ZOO_MULTI_OP); hb_u8(&h, 0); hb_i32(&h, -1);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    expect(&h, NULL, ZMARSHALLINGERROR, 6, ZOO_MULTI_OP);
    /* Fewer than 8 bytes: no header at all. */
    struct zkw_request out;
    assert_int_equal(zkw_decode_request(h.b, 7, NULL, &out), ZMARSHALLINGERROR);
    assert_false(out.has_header);
    zkw_request_free(&out);
    assert_int_equal(zkw_decode_request(NULL, 0, NULL, &out), ZMARSHALLINGERROR);
    zkw_request_free(&out);
}

static void test_field_max(void **state)
{
    (void)state;
    struct zkw_limits lim = { 10 };
    struct hb h = { .n = 0 };
    hb_i32(&h, 1); hb_i32(&h, ZOO_SETDATA_OP); hb_str(&h, "/a");
    hb_bytes(&h, "0123456789", 10); hb_i32(&h, -1);
    expect(&h, &lim, ZOK, 1, ZOO_SETDATA_OP);
    h.n = 0;
    hb_i32(&h, 1); hb_i32(&h, ZOO_SETDATA_OP); hb_str(&h, "/a");
    hb_bytes(&h, "0123456789X", 11); hb_i32(&h, -1);
    expect(&h, &lim, ZMARSHALLINGERROR, 1, ZOO_SETDATA_OP);
    expect(&h, NULL, ZOK, 1, ZOO_SETDATA_OP);
    /* The bound holds for paths inside multi too. */
    h.n = 0;
    hb_i32(&h, 2); hb_i32(&h, ZOO_MULTI_OP);
    hb_i32(&h, ZOO_CHECK_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/0123456789"); hb_i32(&h, 1);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    expect(&h, &lim, ZMARSHALLINGERROR, 2, ZOO_MULTI_OP);
    expect(&h, NULL, ZOK, 2, ZOO_MULTI_OP);
}

static void test_unimplemented_and_refused(void **state)
{
    (void)state;
    struct hb h = { .n = 0 };
    int32_t unknown[] = { 999, ZOO_RECONFIG_OP, ZOO_SASL_OP, ZOO_CREATE_SESSION_OP,
                          ZOO_DELETE_CONTAINER_OP, ZOO_NOTIFY_OP, -1 };
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0]; k++) {
        h.n = 0;
        hb_i32(&h, 50 + (int32_t)k); hb_i32(&h, unknown[k]); hb_str(&h, "garbage");
        expect(&h, NULL, ZUNIMPLEMENTED, 50 + (int32_t)k, unknown[k]);
    }
    /* multiRead of reads decodes; unparseable closes; a write inside it
     * is BADARGUMENTS for the xid. */
    h.n = 0;
    hb_i32(&h, 60); hb_i32(&h, ZOO_MULTI_READ_OP);
    hb_i32(&h, ZOO_GETDATA_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/a"); hb_u8(&h, 1);
    hb_i32(&h, ZOO_GETCHILDREN_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/b"); hb_u8(&h, 0);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    struct zkw_request mr;
    assert_int_equal(decode_hb(&h, &mr), ZOK);
    assert_int_equal(mr.req.type, ZOO_MULTI_READ_OP);
    assert_int_equal(mr.req.op_count, 2);
    assert_int_equal(mr.req.ops[0].type, ZOO_GETDATA_OP);
    assert_string_equal(mr.req.ops[0].path, "/a");
    assert_int_equal(mr.req.ops[0].flags, 1);
    assert_int_equal(mr.req.ops[1].type, ZOO_GETCHILDREN_OP);
    assert_string_equal(mr.req.ops[1].path, "/b");
    assert_int_equal(mr.req.ops[1].flags, 0);
    zkw_request_free(&mr);
    h.n -= 9;
    expect(&h, NULL, ZMARSHALLINGERROR, 60, ZOO_MULTI_READ_OP);
    h.n = 0;
    hb_i32(&h, 60); hb_i32(&h, ZOO_MULTI_READ_OP);
    hb_i32(&h, ZOO_DELETE_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/a"); hb_i32(&h, -1);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    expect(&h, NULL, ZBADARGUMENTS, 60, ZOO_MULTI_READ_OP);
    /* A read inside multi: BADARGUMENTS for the xid. */
    h.n = 0;
    hb_i32(&h, 61); hb_i32(&h, ZOO_MULTI_OP);
    hb_i32(&h, ZOO_GETDATA_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_str(&h, "/a"); hb_u8(&h, 0);
    hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
    expect(&h, NULL, ZBADARGUMENTS, 61, ZOO_MULTI_OP);
    /* More than ZK_ACL_MAX entries: INVALIDACL; exactly ZK_ACL_MAX is fine. */
    for (uint32_t n_acl = ZK_ACL_MAX; n_acl <= ZK_ACL_MAX + 1; n_acl++) {
        h.n = 0;
        hb_i32(&h, 62); hb_i32(&h, ZOO_SETACL_OP); hb_str(&h, "/a"); hb_i32(&h, (int32_t)n_acl);
        for (uint32_t i = 0; i < n_acl; i++) {
            hb_i32(&h, 1); hb_str(&h, "ip"); hb_str(&h, "10.0.0.1");
        }
        hb_i32(&h, -1);
        expect(&h, NULL, n_acl > ZK_ACL_MAX ? ZINVALIDACL : ZOK, 62, ZOO_SETACL_OP);
    }
    /* An ACL scheme longer than zk_id holds. */
    h.n = 0;
    hb_i32(&h, 63); hb_i32(&h, ZOO_SETACL_OP); hb_str(&h, "/a"); hb_i32(&h, 1);
    hb_i32(&h, 1); hb_str(&h, "a-scheme-name-of-more-than-31-chars"); hb_str(&h, "x"); hb_i32(&h, -1);
    expect(&h, NULL, ZINVALIDACL, 63, ZOO_SETACL_OP);
}

static void test_long_path_and_big_multi(void **state)
{
    (void)state;
    static struct hb h;
    char *path = malloc(ZK_PATH_MAX + 2);
    assert_non_null(path);
    path[0] = '/';
    memset(path + 1, 'p', ZK_PATH_MAX);
    path[ZK_PATH_MAX] = '\0';          /* exactly ZK_PATH_MAX bytes */
    h.n = 0;
    hb_i32(&h, 80); hb_i32(&h, ZOO_EXISTS_OP); hb_str(&h, path); hb_u8(&h, 1);
    expect(&h, NULL, ZOK, 80, ZOO_EXISTS_OP);
    path[ZK_PATH_MAX] = 'p';
    path[ZK_PATH_MAX + 1] = '\0';
    h.n = 0;
    hb_i32(&h, 81); hb_i32(&h, ZOO_EXISTS_OP); hb_str(&h, path); hb_u8(&h, 1);
    expect(&h, NULL, ZBADARGUMENTS, 81, ZOO_EXISTS_OP);
    free(path);
    /* ZK_MULTI_MAX ops pass, one more closes. */
    for (uint32_t n_ops = ZK_MULTI_MAX; n_ops <= ZK_MULTI_MAX + 1; n_ops++) {
        h.n = 0;
        hb_i32(&h, 82); hb_i32(&h, ZOO_MULTI_OP);
        for (uint32_t i = 0; i < n_ops; i++) {
            hb_i32(&h, ZOO_CHECK_OP); hb_u8(&h, 0); hb_i32(&h, -1); hb_bytes(&h, NULL, -1); hb_i32(&h, 0);
        }
        hb_i32(&h, -1); hb_u8(&h, 1); hb_i32(&h, -1);
        struct zkw_request out;
        int rc = zkw_decode_request(h.b, h.n, NULL, &out);
        assert_int_equal(rc, n_ops > ZK_MULTI_MAX ? ZMARSHALLINGERROR : ZOK);
        if (rc == ZOK) {
            assert_int_equal(out.req.op_count, n_ops);
            assert_string_equal(out.req.ops[n_ops - 1].path, "");
            assert_int_equal(out.req.ops[n_ops - 1].type, ZOO_CHECK_OP);
            assert_int_equal(out.req.ops[n_ops - 1].cxid, 82);
        }
        zkw_request_free(&out);
    }
}

/* Deterministic garbage: nothing crashes, every result is one of the
 * documented codes, and a refused request owns no memory. */
static void test_random_bytes(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t buf[96];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)(iter % (int)sizeof buf);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        if (n >= 8 && (iter & 1)) { /* a plausible opcode half of the time */
            static const int32_t ops[] = { 1, 2, 5, 7, 14, 15, 21, 22, 100, 101, 105 };
            int32_t op = ops[(x >> 20) % (sizeof ops / sizeof ops[0])];
            buf[4] = 0, buf[5] = 0, buf[6] = (uint8_t)(op >> 8), buf[7] = (uint8_t)op;
        }
        struct zkw_request out;
        int rc = zkw_decode_request(buf, n, NULL, &out);
        assert_true(rc == ZOK || rc == ZMARSHALLINGERROR || rc == ZUNIMPLEMENTED ||
                    rc == ZBADARGUMENTS || rc == ZINVALIDACL);
        assert_int_equal(rc == ZOK, out.kind != ZKW_REQ_NONE);
        zkw_request_free(&out);
        struct zkw_connect c;
        rc = zkw_decode_connect(buf, n, &c);
        assert_true(rc == ZOK || rc == ZMARSHALLINGERROR);
    }
}

/* ---- zks_out -> frame -> client decode ------------------------------------------------ */

struct xid_map {
    int32_t xid[32], op[32];
    int n;
};

static int32_t op_of(void *arg, int32_t xid)
{
    const struct xid_map *m = arg;
    for (int i = 0; i < m->n; i++)
        if (m->xid[i] == xid)
            return m->op[i];
    return ZOO_ERROR_OP;
}

static struct zks_out reply_out(int32_t xid, int32_t op, int32_t err)
{
    struct zks_out o;
    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_REPLY;
    o.conn = 9;
    o.xid = xid;
    o.op = op;
    o.zxid = 0x200000005ll;
    o.err = err;
    return o;
}

/* Encodes o, decodes it as a client whose only outstanding xid is o's. */
static void out_roundtrip(const struct zks_out *o, struct zkw_reply *r)
{
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_out(o, true, &b), 0);
    size_t n;
    const uint8_t *p = one_frame(&b, &n);
    struct xid_map m = { { o->xid }, { o->op }, 1 };
    assert_int_equal(zkw_decode_reply(p, n, op_of, &m, r), ZOK);
    memset(b.p, 0xee, b.len);
    zkw_buf_free(&b);
    assert_int_equal(r->kind, o->kind == ZKS_OUT_WATCH ? ZKW_REPLY_WATCH : ZKW_REPLY_REPLY);
    assert_int_equal(r->xid, o->kind == ZKS_OUT_WATCH ? -1 : o->xid);
    assert_int_equal(r->zxid, o->zxid);
    assert_int_equal(r->err, o->kind == ZKS_OUT_WATCH ? 0 : o->err);
}

static struct zks_str zstr(const char *s) { return (struct zks_str){ s, (uint32_t)strlen(s), 0 }; }

static bool jeq(struct jute_str s, const char *c)
{
    return s.len == (int32_t)strlen(c) && memcmp(s.ptr, c, (size_t)s.len) == 0;
}

static void test_out_data_replies(void **state)
{
    (void)state;
    struct zkw_reply r;
    struct zks_out o = reply_out(5, ZOO_GETDATA_OP, ZOK);
    o.has_stat = true;
    o.stat = stat_of(100);
    o.data = (const uint8_t *)"v\0x";
    o.data_len = 3;
    out_roundtrip(&o, &r);
    assert_int_equal(r.op, ZOO_GETDATA_OP);
    assert_int_equal(r.body.data.len, 3);
    assert_memory_equal(r.body.data.ptr, "v\0x", 3);
    assert_wire_stat(&r.body.stat, 100);
    zkw_reply_free(&r);

    struct zks_str kids[3] = { zstr("a"), zstr("bb"), zstr("lock-0000000001") };
    o = reply_out(6, ZOO_GETCHILDREN2_OP, ZOK);
    o.strs = kids;
    o.n_strs = 3;
    o.has_stat = true;
    o.stat = stat_of(200);
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.children.count, 3);
    for (int i = 0; i < 3; i++)
        assert_true(jeq(r.body.children.items[i], kids[i].s));
    assert_wire_stat(&r.body.stat, 200);
    zkw_reply_free(&r);

    o = reply_out(7, ZOO_GETACL_OP, ZOK);
    o.acl = acl2;
    o.acl_count = 2;
    o.has_stat = true;
    o.stat = stat_of(300);
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.acl.count, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r.body.acl.items[i].perms, acl2[i].perms);
        assert_true(jeq(r.body.acl.items[i].scheme, acl2[i].id.scheme));
        assert_true(jeq(r.body.acl.items[i].id, acl2[i].id.id));
    }
    assert_wire_stat(&r.body.stat, 300);
    zkw_reply_free(&r);

    o = reply_out(8, ZOO_CREATE2_OP, ZOK);
    o.path = zstr("/q/item-0000000004");
    o.has_stat = true;
    o.stat = stat_of(400);
    out_roundtrip(&o, &r);
    assert_true(jeq(r.body.path, "/q/item-0000000004"));
    assert_wire_stat(&r.body.stat, 400);
    zkw_reply_free(&r);

    o = reply_out(9, ZOO_CREATE_OP, ZOK);
    o.path = zstr("/plain");
    out_roundtrip(&o, &r);
    assert_true(jeq(r.body.path, "/plain"));
    zkw_reply_free(&r);

    o = reply_out(10, ZOO_GET_ALL_CHILDREN_NUMBER_OP, ZOK);
    o.number = 12345;
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.number, 12345);
    zkw_reply_free(&r);

    o = reply_out(11, ZOO_SYNC_OP, ZOK);
    o.path = zstr("/synced");
    out_roundtrip(&o, &r);
    assert_true(jeq(r.body.path, "/synced"));
    zkw_reply_free(&r);
}

static void test_out_other_replies(void **state)
{
    (void)state;
    struct zkw_reply r;
    /* exists on a missing node: header only, err NONODE. */
    struct zks_out o = reply_out(12, ZOO_EXISTS_OP, ZNONODE);
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_out(&o, true, &b), 0);
    assert_int_equal(b.len, 4 + 16);
    zkw_buf_free(&b);
    out_roundtrip(&o, &r);
    assert_int_equal(r.err, ZNONODE);
    zkw_reply_free(&r);

    o = reply_out(13, ZOO_EXISTS_OP, ZOK);
    o.has_stat = true;
    o.stat = stat_of(500);
    out_roundtrip(&o, &r);
    assert_wire_stat(&r.body.stat, 500);
    zkw_reply_free(&r);

    struct zk_id ids[2] = { { "ip", "127.0.0.1" }, { "digest", "bob" } };
    o = reply_out(14, ZOO_WHO_AM_I_OP, ZOK);
    o.ids = ids;
    o.n_ids = 2;
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.clients.count, 2);
    assert_true(jeq(r.body.clients.items[1].auth_scheme, "digest"));
    assert_true(jeq(r.body.clients.items[1].user, "bob"));
    zkw_reply_free(&r);

    /* Header-only ops, and reserved xids the client needs no map for. */
    int32_t plain[] = { ZOO_DELETE_OP, ZOO_CHECK_OP, ZOO_CLOSE_SESSION_OP, ZOO_REMOVE_WATCHES_OP,
                        ZOO_CHECK_WATCHES_OP, ZOO_ADD_WATCH_OP, ZOO_SETDATA_OP };
    for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++) {
        o = reply_out(20 + (int32_t)k, plain[k], ZOK);
        out_roundtrip(&o, &r);
        assert_int_equal(r.op, plain[k]);
        zkw_reply_free(&r);
    }
    int32_t reserved[][2] = { { -2, ZOO_PING_OP }, { -4, ZOO_SETAUTH_OP }, { -8, ZOO_SETWATCHES_OP } };
    for (int k = 0; k < 3; k++) {
        o = reply_out(reserved[k][0], reserved[k][1], ZOK);
        assert_int_equal(zkw_encode_out(&o, true, &b), 0);
        size_t n;
        const uint8_t *p = one_frame(&b, &n);
        assert_int_equal(zkw_decode_reply(p, n, NULL, NULL, &r), ZOK);
        assert_int_equal(r.op, reserved[k][1]);
        zkw_reply_free(&r);
        zkw_buf_free(&b);
    }
    /* An xid the client never sent is a protocol error. */
    o = reply_out(99, ZOO_GETDATA_OP, ZNONODE);
    assert_int_equal(zkw_encode_out(&o, true, &b), 0);
    size_t n;
    const uint8_t *p = one_frame(&b, &n);
    struct xid_map none = { { 0 }, { 0 }, 0 };
    assert_int_equal(zkw_decode_reply(p, n, op_of, &none, &r), ZMARSHALLINGERROR);
    zkw_reply_free(&r);
    zkw_buf_free(&b);
}

static void test_out_multi_replies(void **state)
{
    (void)state;
    struct zkw_reply r;
    struct zks_out o;
    /* A failed multi: every result is an error entry. */
    struct zks_op_result res[3] = {
        { .type = ZOO_ERROR_OP, .err = ZOK },
        { .type = ZOO_ERROR_OP, .err = ZNODEEXISTS },
        { .type = ZOO_ERROR_OP, .err = ZRUNTIMEINCONSISTENCY },
    };
    o = reply_out(15, ZOO_MULTI_OP, ZOK);
    o.ops = res;
    o.n_ops = 3;
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.multi.count, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.body.multi.items[i].op, ZOO_ERROR_OP);
        assert_int_equal(r.body.multi.items[i].err, res[i].err);
    }
    zkw_reply_free(&r);

    /* A successful multi: per-op bodies. */
    struct zks_op_result ok[4] = {
        { .type = ZOO_CREATE_OP, .path = zstr("/m/a") },
        { .type = ZOO_CREATE2_OP, .path = zstr("/m/b"), .stat = stat_of(600) },
        { .type = ZOO_SETDATA_OP, .stat = stat_of(700) },
        { .type = ZOO_DELETE_OP },
    };
    o = reply_out(16, ZOO_MULTI_OP, ZOK);
    o.ops = ok;
    o.n_ops = 4;
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.multi.count, 4);
    assert_true(jeq(r.body.multi.items[0].path, "/m/a"));
    assert_true(jeq(r.body.multi.items[1].path, "/m/b"));
    assert_wire_stat(&r.body.multi.items[1].stat, 600);
    assert_wire_stat(&r.body.multi.items[2].stat, 700);
    assert_int_equal(r.body.multi.items[3].op, ZOO_DELETE_OP);
    zkw_reply_free(&r);

    /* multiRead: getData (data + Stat), getChildren (names), an error. */
    struct zks_str kids[2] = { zstr("x"), zstr("yy") };
    struct zks_op_result rd[3] = {
        { .type = ZOO_GETDATA_OP, .stat = stat_of(800), .data = (const uint8_t *)"abc", .data_len = 3 },
        { .type = ZOO_GETCHILDREN_OP, .strs = kids, .n_strs = 2 },
        { .type = ZOO_ERROR_OP, .err = ZNONODE },
    };
    o = reply_out(17, ZOO_MULTI_READ_OP, ZOK);
    o.ops = rd;
    o.n_ops = 3;
    out_roundtrip(&o, &r);
    assert_int_equal(r.body.multi.count, 3);
    assert_int_equal(r.body.multi.items[0].op, ZOO_GETDATA_OP);
    assert_int_equal(r.body.multi.items[0].data.len, 3);
    assert_memory_equal(r.body.multi.items[0].data.ptr, "abc", 3);
    assert_wire_stat(&r.body.multi.items[0].stat, 800);
    assert_int_equal(r.body.multi.items[1].op, ZOO_GETCHILDREN_OP);
    assert_int_equal(r.body.multi.items[1].children.count, 2);
    assert_true(jeq(r.body.multi.items[1].children.items[0], "x"));
    assert_true(jeq(r.body.multi.items[1].children.items[1], "yy"));
    assert_int_equal(r.body.multi.items[2].op, ZOO_ERROR_OP);
    assert_int_equal(r.body.multi.items[2].err, ZNONODE);
    zkw_reply_free(&r);
}

static void test_out_watch_connected_close(void **state)
{
    (void)state;
    struct zks_out o;
    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_WATCH;
    o.zxid = 0x300000001ll;
    o.event = ZOO_EVENT_CHILD_CHANGED;
    o.path = zstr("/parent");
    struct zkw_reply r;
    out_roundtrip(&o, &r);
    assert_int_equal(r.event.type, ZOO_EVENT_CHILD_CHANGED);
    assert_int_equal(r.event.state, ZOO_STATE_SYNC_CONNECTED);
    assert_true(jeq(r.event.path, "/parent"));
    zkw_reply_free(&r);

    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_CONNECTED;
    o.timeout_ms = 4000;
    o.session_id = 0x100000abcdll;
    for (int i = 0; i < SESSION_PASSWD_LEN; i++)
        o.passwd[i] = (uint8_t)(i * 7);
    for (int lf = 0; lf < 2; lf++) {
        struct zkw_buf b = { 0 };
        assert_int_equal(zkw_encode_out(&o, lf, &b), 0);
        size_t n;
        const uint8_t *p = one_frame(&b, &n);
        assert_int_equal(n, lf ? ZKP_CONNECT_RESP_LEN : ZKP_CONNECT_RESP_LEN - 1);
        assert_int_equal(zkw_decode_connect_resp(p, n, &r), ZOK);
        assert_int_equal(r.kind, ZKW_REPLY_CONNECTED);
        assert_int_equal(r.long_form, lf);
        assert_int_equal(r.connect.timeout_ms, 4000);
        assert_int_equal(r.connect.session_id, o.session_id);
        assert_int_equal(r.connect.passwd.len, SESSION_PASSWD_LEN);
        assert_memory_equal(r.connect.passwd.ptr, o.passwd, SESSION_PASSWD_LEN);
        assert_false(r.connect.read_only);
        zkw_reply_free(&r);
        zkw_buf_free(&b);
    }
    /* A read-only session: readOnly true, the last byte of the long form. */
    o.read_only = true;
    struct zkw_buf rb = { 0 };
    assert_int_equal(zkw_encode_out(&o, true, &rb), 0);
    size_t rn;
    const uint8_t *rp = one_frame(&rb, &rn);
    assert_int_equal(rn, ZKP_CONNECT_RESP_LEN);
    assert_int_equal(rp[rn - 1], 1);
    assert_int_equal(zkw_decode_connect_resp(rp, rn, &r), ZOK);
    assert_true(r.connect.read_only);
    zkw_reply_free(&r);
    zkw_buf_free(&rb);

    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_CLOSE;
    o.err = ZSESSIONEXPIRED;
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_out(&o, true, &b), 0);
    assert_int_equal(b.len, 0);
    /* Frames append: two outputs, two frames, in order. */
    struct zks_out w;
    memset(&w, 0, sizeof w);
    w.kind = ZKS_OUT_WATCH;
    w.event = ZOO_EVENT_DELETED;
    w.path = zstr("/x");
    struct zks_out e = reply_out(3, ZOO_GETDATA_OP, ZNONODE);
    assert_int_equal(zkw_encode_out(&w, true, &b), 0);
    assert_int_equal(zkw_encode_out(&e, true, &b), 0);
    struct zkp_frame f;
    assert_int_equal(zkp_frame_next(b.p, b.len, 1000, &f), 0);
    assert_true(f.ready);
    assert_int_equal(zkw_decode_reply(f.payload, f.payload_len, NULL, NULL, &r), ZOK);
    assert_int_equal(r.kind, ZKW_REPLY_WATCH);
    zkw_reply_free(&r);
    assert_int_equal(zkp_frame_next(b.p + f.consumed, b.len - f.consumed, 1000, &f), 0);
    assert_true(f.ready);
    assert_int_equal(f.payload_len, 16);
    zkw_buf_free(&b);
    /* Unknown kind: -1, nothing appended. */
    o.kind = 77;
    assert_int_equal(zkw_encode_out(&o, true, &b), -1);
    assert_int_equal(b.len, 0);
    zkw_buf_free(&b);
}

/* Client-side bad input: truncated server frames, and requests that
 * cannot be encoded. */
static void test_client_side_errors(void **state)
{
    (void)state;
    struct zks_str kids[2] = { zstr("a"), zstr("b") };
    struct zks_out o = reply_out(4, ZOO_GETCHILDREN2_OP, ZOK);
    o.strs = kids;
    o.n_strs = 2;
    o.has_stat = true;
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_out(&o, true, &b), 0);
    struct xid_map m = { { 4 }, { ZOO_GETCHILDREN2_OP }, 1 };
    struct zkw_reply r;
    for (size_t cut = 0; cut < b.len - 4; cut++) {
        assert_int_equal(zkw_decode_reply(b.p + 4, cut, op_of, &m, &r), ZMARSHALLINGERROR);
        assert_null(r.mem);
        zkw_reply_free(&r);
    }
    assert_int_equal(zkw_decode_reply(b.p + 4, b.len - 4, op_of, &m, &r), ZOK);
    zkw_reply_free(&r);
    /* One byte too many. */
    uint8_t *more = calloc(1, b.len - 3);
    assert_non_null(more);
    memcpy(more, b.p + 4, b.len - 4);
    assert_int_equal(zkw_decode_reply(more, b.len - 3, op_of, &m, &r), ZMARSHALLINGERROR);
    free(more);
    zkw_buf_free(&b);
    for (size_t cut = 0; cut < ZKP_CONNECT_RESP_LEN - 1; cut++)
        assert_int_equal(zkw_decode_connect_resp((const uint8_t *)"0123456789012345678901234567890123456", cut, &r),
                         ZMARSHALLINGERROR);

    struct zk_request q = rq(ZOO_SETWATCHES_OP, 1, "/x");   /* not a zk_request op */
    assert_int_equal(zkw_encode_request(&q, &b), -1);
    q = rq(999, 1, "/x");
    assert_int_equal(zkw_encode_request(&q, &b), -1);
    struct zk_request inner = rq(ZOO_MULTI_OP, 2, NULL);
    q = rq(ZOO_MULTI_OP, 2, NULL);
    q.ops = &inner;
    q.op_count = 1;
    assert_int_equal(zkw_encode_request(&q, &b), -1);
    q.ops = NULL;
    assert_int_equal(zkw_encode_request(&q, &b), -1);
    assert_int_equal(b.len, 0);
    zkw_buf_free(&b);
}

/* ---- byte-for-byte against jute layouts ------------------------------------------------ */

static void assert_frame_bytes(const struct zks_out *o, bool long_form, const struct hb *want)
{
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_out(o, long_form, &b), 0);
    assert_int_equal(b.len, 4 + want->n);
    struct hb len = { .n = 0 };
    hb_i32(&len, (int32_t)want->n);
    assert_memory_equal(b.p, len.b, 4);
    assert_memory_equal(b.p + 4, want->b, want->n);
    zkw_buf_free(&b);
}

static void test_golden_frames(void **state)
{
    (void)state;
    /* GetDataResponse: ReplyHeader{xid, zxid, err} + buffer data + Stat. */
    struct zks_out o = reply_out(5, ZOO_GETDATA_OP, ZOK);
    o.zxid = 0x100000002ll;
    o.has_stat = true;
    o.stat = stat_of(0);
    o.data = (const uint8_t *)"hi";
    o.data_len = 2;
    struct hb want = { .n = 0 };
    hb_i32(&want, 5); hb_i64(&want, 0x100000002ll); hb_i32(&want, 0);
    hb_bytes(&want, "hi", 2); hb_stat(&want, 0);
    assert_int_equal(want.n, 16 + 6 + 68);
    assert_frame_bytes(&o, true, &want);

    /* Notification: ReplyHeader{-1, zxid, 0} + WatcherEvent{type, state, path}. */
    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_WATCH;
    o.zxid = 0x100000003ll;
    o.event = ZOO_EVENT_DATA_CHANGED;
    o.path = zstr("/w");
    want.n = 0;
    hb_i32(&want, -1); hb_i64(&want, 0x100000003ll); hb_i32(&want, 0);
    hb_i32(&want, 3); hb_i32(&want, 3); hb_str(&want, "/w");
    assert_frame_bytes(&o, true, &want);

    /* ConnectResponse{protocolVersion, timeOut, sessionId, passwd[, readOnly]}. */
    memset(&o, 0, sizeof o);
    o.kind = ZKS_OUT_CONNECTED;
    o.timeout_ms = 4000;
    o.session_id = 0x1234;
    for (int i = 0; i < SESSION_PASSWD_LEN; i++)
        o.passwd[i] = (uint8_t)i;
    want.n = 0;
    hb_i32(&want, 0); hb_i32(&want, 4000); hb_i64(&want, 0x1234); hb_bytes(&want, o.passwd, 16);
    assert_frame_bytes(&o, false, &want);
    hb_u8(&want, 0);
    assert_frame_bytes(&o, true, &want);

}

static void test_golden_request_and_error(void **state)
{
    (void)state;
    struct hb want = { .n = 0 };
    /* Error reply from zkw_encode_error: the header alone. */
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_error(77, 0x10, ZUNIMPLEMENTED, &b), 0);
    want.n = 0;
    hb_i32(&want, 16); hb_i32(&want, 77); hb_i64(&want, 0x10); hb_i32(&want, ZUNIMPLEMENTED);
    assert_int_equal(b.len, want.n);
    assert_memory_equal(b.p, want.b, want.n);
    zkw_buf_free(&b);

    /* A create request as ZooKeeper clients write it. */
    struct zk_request r = rq(ZOO_CREATE_OP, 3, "/n");
    r.data = (const uint8_t *)"d";
    r.data_len = 1;
    r.acl = acl2;
    r.acl_count = 1;
    r.flags = ZOO_EPHEMERAL;
    assert_int_equal(zkw_encode_request(&r, &b), 0);
    want.n = 0;
    hb_i32(&want, 3); hb_i32(&want, 1); hb_str(&want, "/n"); hb_bytes(&want, "d", 1);
    hb_open_acl(&want); hb_i32(&want, 1);
    assert_int_equal(b.len, 4 + want.n);
    assert_memory_equal(b.p + 4, want.b, want.n);
    zkw_buf_free(&b);
}

/* ---- a real zk_server driven through zk_wire only ------------------------------------- */

/* One standalone server with an instant disk; every client output goes
 * through zkw_encode_out into one byte stream (the "socket"). */
struct drv {
    struct zk_server s;
    uint64_t now_ms, timer_ms;
    uint64_t dq[4096];
    uint32_t n_dq;
    struct zkw_buf wire;
    uint64_t conn;
    bool long_form;             /* the connection's handshake form */
    bool closed;
    int32_t close_err;
};

static void drv_process(struct drv *d)
{
    const struct zks_output *o = zks_output(&d->s);
    for (uint32_t k = 0; k < o->n_actions; k++) {
        const struct rep_action *a = &o->actions[k];
        if (a->kind != REP_ACT_SEND && a->kind != REP_ACT_DISCONNECT) {
            assert_true(d->n_dq < sizeof d->dq / sizeof d->dq[0]);
            d->dq[d->n_dq++] = a->op_id;
        }
    }
    for (uint32_t k = 0; k < o->n_client; k++) {
        assert_int_equal(zkw_encode_out(&o->client[k], d->long_form, &d->wire), 0);
        if (o->client[k].kind == ZKS_OUT_CLOSE) {
            d->closed = true;
            d->close_err = o->client[k].err;
        }
    }
    d->timer_ms = o->timer_ms;
    zks_output_clear(&d->s);
}

static void drv_settle(struct drv *d)
{
    while (d->n_dq) {
        uint64_t op = d->dq[0];
        memmove(d->dq, d->dq + 1, (d->n_dq - 1) * sizeof d->dq[0]);
        d->n_dq--;
        zks_on_disk_done(&d->s, d->now_ms, op);
        drv_process(d);
    }
}

static void drv_advance(struct drv *d, uint64_t ms)
{
    uint64_t target = d->now_ms + ms;
    drv_settle(d);
    while (d->timer_ms && d->timer_ms <= target) {
        d->now_ms = d->timer_ms > d->now_ms ? d->timer_ms : d->now_ms + 1;
        zks_on_timer(&d->s, d->now_ms);
        drv_process(d);
        drv_settle(d);
    }
    d->now_ms = target;
}

/* Takes the next frame off the wire; false if there is none. */
static bool drv_next(struct drv *d, uint8_t *payload, size_t cap, size_t *len)
{
    struct zkp_frame f;
    assert_int_equal(zkp_frame_next(d->wire.p, d->wire.len, cap, &f), 0);
    if (!f.ready)
        return false;
    memcpy(payload, f.payload, f.payload_len);
    *len = f.payload_len;
    memmove(d->wire.p, d->wire.p + f.consumed, d->wire.len - f.consumed);
    d->wire.len -= f.consumed;
    return true;
}

/* The client side: encode, let the server decode and take it. */
static void drv_send(struct drv *d, const struct zk_request *r, struct xid_map *m)
{
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_request(r, &b), 0);
    size_t n;
    const uint8_t *p = one_frame(&b, &n);
    struct zkw_request in;
    assert_int_equal(zkw_decode_request(p, n, NULL, &in), ZOK);
    zkw_buf_free(&b);
    assert_int_equal(zks_client_request(&d->s, d->now_ms, d->conn, &in.req), ZOK);
    zkw_request_free(&in);
    drv_process(d);
    drv_settle(d);
    m->xid[m->n] = r->cxid;
    m->op[m->n] = r->type;
    m->n++;
}

static void drv_reply(struct drv *d, struct xid_map *m, struct zkw_reply *r)
{
    uint8_t buf[4096];
    size_t n;
    assert_true(drv_next(d, buf, sizeof buf, &n));
    assert_int_equal(zkw_decode_reply(buf, n, op_of, m, r), ZOK);
}

/* Handshake through frames on connection conn; returns the decoded
 * ConnectResponse in r. */
static void drv_connect(struct drv *d, uint64_t conn, const struct zkw_connect *c, struct zkw_reply *r)
{
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_connect(c, &b), 0);
    size_t n;
    const uint8_t *p = one_frame(&b, &n);
    struct zkw_connect sc;
    assert_int_equal(zkw_decode_connect(p, n, &sc), ZOK);
    zkw_buf_free(&b);
    d->conn = conn;
    d->long_form = sc.long_form;
    assert_int_equal(zks_client_connect(&d->s, d->now_ms, conn, &sc.req), ZOK);
    drv_process(d);
    drv_settle(d);
    uint8_t buf[256];
    assert_true(drv_next(d, buf, sizeof buf, &n));
    assert_int_equal(zkw_decode_connect_resp(buf, n, r), ZOK);
    assert_int_equal(r->long_form, c->long_form);
}

/* multiRead: served from the tree in one reply, a missing node is an
 * error result beside the good ones, and its getChildren watch fires. */
static void drv_multi_read(struct drv *d, struct xid_map *m)
{
    struct zkw_reply r;
    struct zk_request rops[3] = { rq(ZOO_GETDATA_OP, 12, "/w"), rq(ZOO_GETCHILDREN_OP, 12, "/w"),
                                  rq(ZOO_GETDATA_OP, 12, "/none") };
    rops[1].flags = 1;
    struct zk_request q = rq(ZOO_MULTI_READ_OP, 12, NULL);
    q.ops = rops;
    q.op_count = 3;
    int64_t before = (int64_t)zks_last_applied(&d->s);
    drv_send(d, &q, m);
    assert_int_equal((int64_t)zks_last_applied(&d->s), before);   /* no txn */
    drv_reply(d, m, &r);
    assert_int_equal(r.xid, 12);
    assert_int_equal(r.err, ZOK);
    assert_int_equal(r.body.multi.count, 3);
    assert_int_equal(r.body.multi.items[0].op, ZOO_GETDATA_OP);
    assert_int_equal(r.body.multi.items[0].data.len, 2);
    assert_memory_equal(r.body.multi.items[0].data.ptr, "v3", 2);
    assert_int_equal(r.body.multi.items[0].stat.version, 2);
    assert_int_equal(r.body.multi.items[1].op, ZOO_GETCHILDREN_OP);
    assert_int_equal(r.body.multi.items[1].children.count, 1);
    assert_true(jeq(r.body.multi.items[1].children.items[0], "a"));
    assert_int_equal(r.body.multi.items[2].op, ZOO_ERROR_OP);
    assert_int_equal(r.body.multi.items[2].err, ZNONODE);
    zkw_reply_free(&r);

    q = rq(ZOO_CREATE_OP, 13, "/w/b");
    q.acl = acl2;
    q.acl_count = 1;
    drv_send(d, &q, m);
    drv_reply(d, m, &r);
    assert_int_equal(r.kind, ZKW_REPLY_WATCH);
    assert_int_equal(r.event.type, ZOO_EVENT_CHILD_CHANGED);
    assert_true(jeq(r.event.path, "/w"));
    zkw_reply_free(&r);
    drv_reply(d, m, &r);
    assert_int_equal(r.xid, 13);
    assert_int_equal(r.err, ZOK);
    zkw_reply_free(&r);
}

/* Ping, multi and getChildren2 on an open session, then a reconnect that
 * re-registers a watch with SetWatches: the change it missed fires. */
static void drv_more_ops(struct drv *d, struct xid_map *m, int64_t old_zxid, const uint8_t *pw,
                         int64_t sid)
{
    struct zkw_reply r;
    struct zk_request q = rq(ZOO_PING_OP, -2, NULL);
    drv_send(d, &q, m);
    drv_reply(d, m, &r);
    assert_int_equal(r.xid, -2);
    assert_int_equal(r.op, ZOO_PING_OP);
    zkw_reply_free(&r);

    struct zk_request ops[2] = { rq(ZOO_CREATE_OP, 10, "/w/a"), rq(ZOO_SETDATA_OP, 10, "/w") };
    ops[0].acl = acl2;
    ops[0].acl_count = 1;
    ops[1].data = (const uint8_t *)"v3";
    ops[1].data_len = 2;
    q = rq(ZOO_MULTI_OP, 10, NULL);
    q.ops = ops;
    q.op_count = 2;
    drv_send(d, &q, m);
    drv_reply(d, m, &r);
    assert_int_equal(r.err, ZOK);
    assert_int_equal(r.body.multi.count, 2);
    assert_int_equal(r.body.multi.items[0].op, ZOO_CREATE_OP);
    assert_true(jeq(r.body.multi.items[0].path, "/w/a"));
    assert_int_equal(r.body.multi.items[1].op, ZOO_SETDATA_OP);
    assert_int_equal(r.body.multi.items[1].stat.version, 2);
    int64_t last = r.zxid;
    zkw_reply_free(&r);

    q = rq(ZOO_GETCHILDREN2_OP, 11, "/w");
    drv_send(d, &q, m);
    drv_reply(d, m, &r);
    assert_int_equal(r.body.children.count, 1);
    assert_true(jeq(r.body.children.items[0], "a"));
    assert_int_equal(r.body.stat.num_children, 1);
    zkw_reply_free(&r);

    drv_multi_read(d, m);

    zks_client_disconnect(&d->s, d->now_ms, d->conn);
    drv_process(d);
    struct zkw_connect c;
    memset(&c, 0, sizeof c);
    c.req.session_id = sid;
    memcpy(c.req.passwd, pw, SESSION_PASSWD_LEN);
    c.req.last_zxid_seen = last;
    c.req.timeout_ms = 1000;
    drv_connect(d, 2, &c, &r);
    assert_int_equal(r.connect.session_id, sid);
    zkw_reply_free(&r);

    const char *paths[] = { "/w" };
    struct zks_set_watches sw;
    memset(&sw, 0, sizeof sw);
    sw.relative_zxid = old_zxid;
    sw.data = (struct watch_list){ paths, 1 };
    struct zkw_buf b = { 0 };
    assert_int_equal(zkw_encode_set_watches(-8, &sw, &b), 0);
    size_t n;
    const uint8_t *p = one_frame(&b, &n);
    struct zkw_request in;
    assert_int_equal(zkw_decode_request(p, n, NULL, &in), ZOK);
    assert_int_equal(in.kind, ZKW_REQ_SET_WATCHES);
    assert_int_equal(zks_client_set_watches(&d->s, d->now_ms, d->conn, &in.sw), ZOK);
    zkw_request_free(&in);
    zkw_buf_free(&b);
    drv_process(d);
    drv_settle(d);
    drv_reply(d, m, &r);
    assert_int_equal(r.kind, ZKW_REPLY_WATCH);
    assert_int_equal(r.event.type, ZOO_EVENT_DATA_CHANGED);
    zkw_reply_free(&r);
    drv_reply(d, m, &r);
    assert_int_equal(r.xid, -8);
    assert_int_equal(r.err, ZOK);
    zkw_reply_free(&r);
}

/* A standalone server, started and serving. */
static struct drv *drv_start(void)
{
    struct drv *d = calloc(1, sizeof *d);
    assert_non_null(d);
    struct zks_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.rep.id = 1;
    cfg.rep.n_servers = 1;
    cfg.rep.tick_ms = 100;
    cfg.rep.init_limit = 10;
    cfg.rep.sync_limit = 5;
    memcpy(cfg.secret, "zk-wire-test", 12);
    cfg.secret_len = 12;
    char err[200];
    assert_int_equal(zks_init(&d->s, &cfg, err, sizeof err), 0);
    d->now_ms = 1000000;
    struct replica_durable dur;
    memset(&dur, 0, sizeof dur);
    assert_int_equal(zks_start(&d->s, d->now_ms, &dur, err, sizeof err), 0);
    drv_process(d);
    for (int i = 0; i < 200 && !zks_serving(&d->s); i++)
        drv_advance(d, 100);
    assert_true(zks_serving(&d->s));
    return d;
}

static void test_real_server(void **state)
{
    (void)state;
    struct drv *d = drv_start();

    /* Connect: ConnectRequest frame in, ConnectResponse frame out. */
    struct zkw_connect c;
    memset(&c, 0, sizeof c);
    c.req.timeout_ms = 1000;
    c.long_form = true;
    struct zkw_reply r;
    drv_connect(d, 1, &c, &r);
    assert_int_not_equal(r.connect.session_id, 0);
    assert_int_equal(r.connect.timeout_ms, 1000);
    uint8_t pw[SESSION_PASSWD_LEN];
    zks_session_password(&d->s, r.connect.session_id, pw);
    assert_memory_equal(r.connect.passwd.ptr, pw, SESSION_PASSWD_LEN);
    assert_int_equal(zks_conn_session(&d->s, 1), r.connect.session_id);
    zkw_reply_free(&r);

    struct xid_map m = { .n = 0 };
    struct zk_request q = rq(ZOO_CREATE_OP, 1, "/w");
    q.data = (const uint8_t *)"v1";
    q.data_len = 2;
    q.acl = acl2;
    q.acl_count = 1;
    drv_send(d, &q, &m);
    drv_reply(d, &m, &r);
    assert_int_equal(r.xid, 1);
    assert_int_equal(r.err, ZOK);
    assert_true(jeq(r.body.path, "/w"));
    int64_t create_zxid = r.zxid;
    assert_true(create_zxid > 0);
    zkw_reply_free(&r);

    q = rq(ZOO_GETDATA_OP, 2, "/w");
    q.flags = 1;
    drv_send(d, &q, &m);
    drv_reply(d, &m, &r);
    assert_int_equal(r.err, ZOK);
    assert_int_equal(r.body.data.len, 2);
    assert_memory_equal(r.body.data.ptr, "v1", 2);
    assert_int_equal(r.body.stat.czxid, create_zxid);
    zkw_reply_free(&r);

    /* A change fires the watch: the notification comes before the reply. */
    q = rq(ZOO_SETDATA_OP, 3, "/w");
    q.data = (const uint8_t *)"v2";
    q.data_len = 2;
    drv_send(d, &q, &m);
    drv_reply(d, &m, &r);
    assert_int_equal(r.kind, ZKW_REPLY_WATCH);
    assert_int_equal(r.event.type, ZOO_EVENT_DATA_CHANGED);
    assert_true(jeq(r.event.path, "/w"));
    int64_t watch_zxid = r.zxid;
    zkw_reply_free(&r);
    drv_reply(d, &m, &r);
    assert_int_equal(r.kind, ZKW_REPLY_REPLY);
    assert_int_equal(r.xid, 3);
    assert_int_equal(r.body.stat.version, 1);
    assert_int_equal(r.body.stat.mzxid, watch_zxid);
    zkw_reply_free(&r);

    /* exists on a missing node: NONODE, no body. */
    q = rq(ZOO_EXISTS_OP, 4, "/none");
    drv_send(d, &q, &m);
    drv_reply(d, &m, &r);
    assert_int_equal(r.err, ZNONODE);
    zkw_reply_free(&r);

    uint8_t pw_copy[SESSION_PASSWD_LEN];
    memcpy(pw_copy, pw, SESSION_PASSWD_LEN);
    drv_more_ops(d, &m, create_zxid, pw_copy, zks_conn_session(&d->s, 1));

    /* closeSession: its reply, then the server closes (no bytes). */
    q = rq(ZOO_CLOSE_SESSION_OP, 5, NULL);
    drv_send(d, &q, &m);
    drv_reply(d, &m, &r);
    assert_int_equal(r.xid, 5);
    assert_int_equal(r.err, ZOK);
    zkw_reply_free(&r);
    assert_true(d->closed);
    assert_int_equal(d->close_err, ZOK);
    assert_int_equal(d->wire.len, 0);
    assert_non_null(tree_get(&zks_sm(&d->s)->tree, "/w", 2));

    zkw_buf_free(&d->wire);
    zks_free(&d->s);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_creates),
        cmocka_unit_test(test_roundtrip_path_ops),
        cmocka_unit_test(test_roundtrip_set_ops),
        cmocka_unit_test(test_roundtrip_multi),
        cmocka_unit_test(test_roundtrip_set_watches),
        cmocka_unit_test(test_connect_roundtrip),
        cmocka_unit_test(test_kazoo_nulls),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_connect_password_policy),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bad_lengths_and_counts),
        cmocka_unit_test(test_field_max),
        cmocka_unit_test(test_unimplemented_and_refused),
        cmocka_unit_test(test_long_path_and_big_multi),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_out_data_replies),
        cmocka_unit_test(test_out_other_replies),
        cmocka_unit_test(test_out_multi_replies),
        cmocka_unit_test(test_out_watch_connected_close),
        cmocka_unit_test(test_client_side_errors),
        cmocka_unit_test(test_golden_frames),
        cmocka_unit_test(test_golden_request_and_error),
        cmocka_unit_test(test_real_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
