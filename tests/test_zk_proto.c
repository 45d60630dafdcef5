/* ZooKeeper client records: golden byte strings written by hand from the
 * jute layouts (so an encoder bug cannot hide behind a matching decoder bug),
 * hand-computed body sizes for every request opcode, round trips of every
 * request and response, and a corpus of malformed packets that must each be
 * rejected with an error value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/zk_proto.h"

#define S(lit) ((struct jute_str){ (lit), (int32_t)sizeof(lit) - 1 })
#define B(lit) ((struct jute_buf){ (const uint8_t *)(lit), (int32_t)sizeof(lit) - 1 })
#define NULL_STR_VEC ((struct zkp_str_vec){ NULL, -1 })

static uint8_t arena_mem[16384];

static struct zkp_arena fresh_arena(void)
{
    struct zkp_arena a;
    zkp_arena_init(&a, arena_mem, sizeof arena_mem);
    return a;
}

/* ---- golden bytes ------------------------------------------------------- */

/* A new-session handshake as the C client (HANDSHAKE_REQ_SIZE 45) and kazoo
 * send it: version 0, lastZxidSeen 0, timeout 30000 ms, session 0, 16 zero
 * password bytes, readOnly false. */
static const uint8_t golden_connect_req[] = {
    0x00, 0x00, 0x00, 0x2d,                         /* frame length 45 */
    0x00, 0x00, 0x00, 0x00,                         /* protocolVersion */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* lastZxidSeen */
    0x00, 0x00, 0x75, 0x30,                         /* timeOut 30000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* sessionId */
    0x00, 0x00, 0x00, 0x10,                         /* passwd length 16 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x00,                                           /* readOnly */
};

static void golden_connect_request(void **state)
{
    (void)state;
    struct zkp_frame f;
    assert_int_equal(zkp_frame_next(golden_connect_req, sizeof golden_connect_req,
                                    ZKP_PACKET_MAX_DEFAULT, &f), JUTE_OK);
    assert_true(f.ready);
    assert_int_equal(f.payload_len, ZKP_CONNECT_REQ_LEN);
    assert_int_equal(f.consumed, sizeof golden_connect_req);
    struct zkp_connect_req cr;
    assert_int_equal(zkp_decode_connect_req(f.payload, f.payload_len, &cr), JUTE_OK);
    assert_int_equal(cr.protocol_version, 0);
    assert_true(cr.last_zxid_seen == 0);
    assert_int_equal(cr.timeout_ms, 30000);
    assert_true(cr.session_id == 0);
    assert_int_equal(cr.passwd.len, ZKP_PASSWD_LEN);
    assert_true(cr.has_read_only);
    assert_false(cr.read_only);

    uint8_t out[64];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    size_t mark = zkp_frame_begin(&wr);
    zkp_encode_connect_req(&wr, &cr);
    assert_int_equal(zkp_frame_end(&wr, mark), JUTE_OK);
    assert_int_equal(wr.pos, sizeof golden_connect_req);
    assert_memory_equal(out, golden_connect_req, sizeof golden_connect_req);
}

/* Pre-3.4 clients send 44 bytes: no readOnly. */
static void golden_connect_request_without_read_only(void **state)
{
    (void)state;
    uint8_t pkt[sizeof golden_connect_req - 1];
    memcpy(pkt, golden_connect_req, sizeof pkt);
    pkt[3] = 0x2c;
    struct zkp_frame f;
    assert_int_equal(zkp_frame_next(pkt, sizeof pkt, ZKP_PACKET_MAX_DEFAULT, &f), JUTE_OK);
    assert_true(f.ready);
    struct zkp_connect_req cr;
    assert_int_equal(zkp_decode_connect_req(f.payload, f.payload_len, &cr), JUTE_OK);
    assert_false(cr.has_read_only);
    assert_int_equal(cr.timeout_ms, 30000);
    /* One byte too many after readOnly is not a handshake. */
    uint8_t longer[ZKP_CONNECT_REQ_LEN + 1];
    memcpy(longer, golden_connect_req + 4, ZKP_CONNECT_REQ_LEN);
    longer[ZKP_CONNECT_REQ_LEN] = 0;
    assert_int_equal(zkp_decode_connect_req(longer, sizeof longer, &cr), ZKP_E_TRAILING);
}

static const uint8_t golden_connect_resp[] = {
    0x00, 0x00, 0x00, 0x25,                         /* frame length 37 */
    0x00, 0x00, 0x00, 0x00,                         /* protocolVersion */
    0x00, 0x00, 0x27, 0x10,                         /* timeOut 10000 */
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* sessionId */
    0x00, 0x00, 0x00, 0x10,
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    0x01,                                           /* readOnly */
};

static void golden_connect_response(void **state)
{
    (void)state;
    static const uint8_t pw[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    struct zkp_connect_resp r = { 0, 10000, 0x0123456789abcdefLL, { pw, 16 }, true };
    uint8_t out[64];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    size_t mark = zkp_frame_begin(&wr);
    zkp_encode_connect_resp(&wr, &r, true);
    assert_int_equal(zkp_frame_end(&wr, mark), JUTE_OK);
    assert_int_equal(wr.pos, sizeof golden_connect_resp);
    assert_memory_equal(out, golden_connect_resp, sizeof golden_connect_resp);

    struct zkp_connect_resp back;
    bool has_ro;
    assert_int_equal(zkp_decode_connect_resp(out + 4, wr.pos - 4, &back, &has_ro), JUTE_OK);
    assert_true(has_ro);
    assert_true(back.session_id == r.session_id);
    assert_memory_equal(back.passwd.ptr, pw, 16);

    /* Without readOnly for an old client: one byte shorter, length 36. */
    jute_wr_init(&wr, out, sizeof out);
    mark = zkp_frame_begin(&wr);
    zkp_encode_connect_resp(&wr, &r, false);
    zkp_frame_end(&wr, mark);
    assert_int_equal(wr.pos, sizeof golden_connect_resp - 1);
    assert_int_equal(out[3], 0x24);
}

static const struct zkp_stat sample_stat = {
    .czxid = 0x100000002LL, .mzxid = 0x100000005LL,
    .ctime_ms = 0x18bcfe56800LL, .mtime_ms = 0x18bcfe56801LL,
    .version = 3, .cversion = 0, .aversion = 0,
    .ephemeral_owner = 0x0123456789abcdefLL,
    .data_length = 2, .num_children = 0, .pzxid = 0x100000002LL,
};

static const uint8_t golden_get_data_reply[] = {
    0x00, 0x00, 0x00, 0x5a,                         /* frame length 90 */
    0x00, 0x00, 0x00, 0x01,                         /* xid 1 */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, /* zxid */
    0x00, 0x00, 0x00, 0x00,                         /* err 0 */
    0x00, 0x00, 0x00, 0x02, 'h', 'i',               /* data */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* czxid */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, /* mzxid */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* ctime */
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x01, /* mtime */
    0x00, 0x00, 0x00, 0x03,                         /* version */
    0x00, 0x00, 0x00, 0x00,                         /* cversion */
    0x00, 0x00, 0x00, 0x00,                         /* aversion */
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, /* ephemeralOwner */
    0x00, 0x00, 0x00, 0x02,                         /* dataLength */
    0x00, 0x00, 0x00, 0x00,                         /* numChildren */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* pzxid */
};

static void golden_get_data_reply_with_stat(void **state)
{
    (void)state;
    struct zkp_response resp;
    memset(&resp, 0, sizeof resp);
    resp.op = ZOO_GETDATA_OP;
    resp.data = B("hi");
    resp.stat = sample_stat;
    struct zkp_reply_header h = { 1, 0x100000005LL, ZOK };
    uint8_t out[128];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    assert_int_equal(zkp_encode_reply_frame(&wr, &h, &resp), JUTE_OK);
    assert_int_equal(wr.pos, sizeof golden_get_data_reply);
    assert_memory_equal(out, golden_get_data_reply, sizeof golden_get_data_reply);

    struct jute_rd rd;
    jute_rd_init(&rd, golden_get_data_reply + 4, sizeof golden_get_data_reply - 4);
    struct zkp_reply_header h2;
    zkp_decode_reply_header(&rd, &h2);
    struct zkp_response back;
    struct zkp_arena a = fresh_arena();
    assert_int_equal(zkp_decode_response_body(&rd, ZOO_GETDATA_OP, &back, &a), JUTE_OK);
    assert_int_equal(jute_rd_left(&rd), 0);
    assert_true(h2.zxid == 0x100000005LL);
    assert_int_equal(back.data.len, 2);
    assert_true(back.stat.ephemeral_owner == sample_stat.ephemeral_owner);
    assert_true(back.stat.mtime_ms == sample_stat.mtime_ms);
    assert_int_equal(back.stat.version, 3);
    assert_true(back.stat.pzxid == sample_stat.pzxid);
}

/* A failed request's reply is the header alone, even if a body is given. */
static void golden_error_reply_has_no_body(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x07,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff, 0xff, 0x9b,
    };
    struct zkp_response resp;
    memset(&resp, 0, sizeof resp);
    resp.op = ZOO_GETDATA_OP;
    struct zkp_reply_header h = { 7, 9, ZNONODE };
    uint8_t out[128];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    assert_int_equal(zkp_encode_reply_frame(&wr, &h, &resp), JUTE_OK);
    assert_int_equal(wr.pos, sizeof want);
    assert_memory_equal(out, want, sizeof want);
}

static void golden_notification(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x1e,
        0xff, 0xff, 0xff, 0xff,                         /* xid -1 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, /* zxid */
        0x00, 0x00, 0x00, 0x00,                         /* err */
        0x00, 0x00, 0x00, 0x03,                         /* NodeDataChanged */
        0x00, 0x00, 0x00, 0x03,                         /* SyncConnected */
        0x00, 0x00, 0x00, 0x02, '/', 'a',
    };
    uint8_t out[64];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    assert_int_equal(zkp_encode_notification_frame(&wr, 0x10000000aLL,
                                                   ZKP_EVENT_NODE_DATA_CHANGED,
                                                   ZKP_STATE_SYNC_CONNECTED, S("/a")),
                     JUTE_OK);
    assert_int_equal(wr.pos, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    struct jute_rd rd;
    jute_rd_init(&rd, out + 4 + 16, wr.pos - 20);
    struct zkp_watcher_event ev;
    zkp_decode_watcher_event(&rd, &ev);
    assert_int_equal(rd.err, JUTE_OK);
    assert_int_equal(ev.type, ZKP_EVENT_NODE_DATA_CHANGED);
    assert_true(jute_str_eq(ev.path, "/a"));
}

/* multi{create("/a", null, [ALL world:anyone], EPHEMERAL), check("/a", 2)}
 * as kazoo's transaction writes it (sub-op headers carry err -1). */
static const uint8_t golden_multi_req[] = {
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x0e,                   /* xid 5, multi */
    0x00, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff,             /* hdr create */
    0x00, 0x00, 0x00, 0x02, '/', 'a',                                 /* path */
    0xff, 0xff, 0xff, 0xff,                                           /* data null */
    0x00, 0x00, 0x00, 0x01,                                           /* 1 ACL */
    0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x05, 'w', 'o', 'r', 'l', 'd',
    0x00, 0x00, 0x00, 0x06, 'a', 'n', 'y', 'o', 'n', 'e',
    0x00, 0x00, 0x00, 0x01,                                           /* flags */
    0x00, 0x00, 0x00, 0x0d, 0x00, 0xff, 0xff, 0xff, 0xff,             /* hdr check */
    0x00, 0x00, 0x00, 0x02, '/', 'a', 0x00, 0x00, 0x00, 0x02,
    0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff,             /* done */
};

static void golden_multi_request(void **state)
{
    (void)state;
    struct zkp_request req;
    struct zkp_arena a = fresh_arena();
    assert_int_equal(zkp_decode_request(golden_multi_req, sizeof golden_multi_req, &req, &a),
                     JUTE_OK);
    assert_int_equal(req.xid, 5);
    assert_int_equal(req.op, ZOO_MULTI_OP);
    assert_int_equal(req.u.multi.count, 2);
    const struct zkp_request *c = &req.u.multi.ops[0];
    assert_int_equal(c->op, ZOO_CREATE_OP);
    assert_true(jute_str_eq(c->u.create.path, "/a"));
    assert_int_equal(c->u.create.data.len, -1);
    assert_int_equal(c->u.create.acl.count, 1);
    assert_int_equal(c->u.create.acl.items[0].perms, 31);
    assert_true(jute_str_eq(c->u.create.acl.items[0].scheme, "world"));
    assert_true(jute_str_eq(c->u.create.acl.items[0].id, "anyone"));
    assert_int_equal(c->u.create.flags, 1);
    const struct zkp_request *k = &req.u.multi.ops[1];
    assert_int_equal(k->op, ZOO_CHECK_OP);
    assert_int_equal(k->u.path_version.version, 2);

    uint8_t out[256];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    zkp_encode_request(&wr, &req);
    assert_int_equal(wr.err, JUTE_OK);
    assert_int_equal(wr.pos, sizeof golden_multi_req);
    assert_memory_equal(out, golden_multi_req, sizeof golden_multi_req);
}

/* A failed multi: op 0 gets ErrorResult(0), op 1 its error -101. */
static void golden_multi_response(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00,     /* hdr error, err 0 */
        0x00, 0x00, 0x00, 0x00,                                   /* ErrorResponse 0 */
        0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0x9b,     /* hdr error, -101 */
        0xff, 0xff, 0xff, 0x9b,
        0xff, 0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0xff,     /* done */
    };
    struct zkp_multi_result res[2];
    memset(res, 0, sizeof res);
    res[0].op = ZOO_ERROR_OP;
    res[0].err = ZOK;
    res[1].op = ZOO_ERROR_OP;
    res[1].err = ZNONODE;
    struct zkp_response resp;
    memset(&resp, 0, sizeof resp);
    resp.op = ZOO_MULTI_OP;
    resp.multi.items = res;
    resp.multi.count = 2;
    uint8_t out[128];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    zkp_encode_response_body(&wr, &resp);
    assert_int_equal(wr.err, JUTE_OK);
    assert_int_equal(wr.pos, sizeof want);
    assert_memory_equal(out, want, sizeof want);
}

/* ---- every request opcode ----------------------------------------------- */

static struct zkp_acl sample_acls[2];
static struct jute_str sample_paths[2];
static struct jute_str sample_one_path[1];
static struct zkp_request sample_write_ops[4];
static struct zkp_request sample_read_ops[2];

static void fill_body(struct zkp_request *r, int32_t op);

static void init_samples(void)
{
    sample_acls[0] = (struct zkp_acl){ 31, S("world"), S("anyone") };
    sample_acls[1] = (struct zkp_acl){ 1, S("digest"), S("u:xyz") };
    sample_paths[0] = S("/a");
    sample_paths[1] = S("/b/c");
    sample_one_path[0] = S("/a");
    const int32_t w[4] = { ZOO_CREATE_OP, ZOO_SETDATA_OP, ZOO_CHECK_OP, ZOO_DELETE_OP };
    for (int i = 0; i < 4; i++)
        fill_body(&sample_write_ops[i], w[i]);
    fill_body(&sample_read_ops[0], ZOO_GETDATA_OP);
    fill_body(&sample_read_ops[1], ZOO_GETCHILDREN_OP);
}

/* Path "/zab/node" is 13 bytes on the wire, data "hello" 9, the two ACLs 50. */
static void fill_body(struct zkp_request *r, int32_t op)
{
    memset(r, 0, sizeof *r);
    r->op = op;
    union zkp_request_body *u = &r->u;
    struct jute_str p = S("/zab/node");
    struct zkp_acl_vec acl = { sample_acls, 2 };
    switch (op) {
    case ZOO_CREATE_OP: case ZOO_CREATE2_OP: case ZOO_CREATE_CONTAINER_OP: case ZOO_CREATE_TTL_OP:
        u->create = (struct zkp_create_req){ p, B("hello"), acl, 3, 0 };
        if (op == ZOO_CREATE_TTL_OP)
            u->create.ttl_ms = 60000;
        break;
    case ZOO_GETACL_OP: case ZOO_SYNC_OP: case ZOO_GET_EPHEMERALS_OP:
    case ZOO_GET_ALL_CHILDREN_NUMBER_OP:
        u->path.path = p;
        break;
    case ZOO_EXISTS_OP: case ZOO_GETDATA_OP: case ZOO_GETCHILDREN_OP: case ZOO_GETCHILDREN2_OP:
        u->path_watch = (struct zkp_path_watch_req){ p, true };
        break;
    case ZOO_DELETE_OP: case ZOO_CHECK_OP:
        u->path_version = (struct zkp_path_version_req){ p, 4 };
        break;
    case ZOO_SETDATA_OP: u->set_data = (struct zkp_set_data_req){ p, B("hello"), -1 }; break;
    case ZOO_SETACL_OP: u->set_acl = (struct zkp_set_acl_req){ p, acl, 2 }; break;
    case ZOO_CHECK_WATCHES_OP: case ZOO_REMOVE_WATCHES_OP: case ZOO_ADD_WATCH_OP:
        u->path_type = (struct zkp_path_type_req){ p, 1 };
        break;
    case ZOO_SETAUTH_OP: u->auth = (struct zkp_auth_req){ 0, S("digest"), B("u:p") }; break;
    case ZOO_SETWATCHES_OP: case ZOO_SETWATCHES2_OP:
        u->set_watches.relative_zxid = 0x200000001LL;
        u->set_watches.data_watches = (struct zkp_str_vec){ sample_paths, 2 };
        u->set_watches.exist_watches = (struct zkp_str_vec){ NULL, 0 };
        u->set_watches.child_watches = NULL_STR_VEC;
        u->set_watches.persistent_watches = (struct zkp_str_vec){ sample_one_path, 1 };
        u->set_watches.persistent_recursive_watches = (struct zkp_str_vec){ NULL, 0 };
        break;
    case ZOO_MULTI_OP: u->multi = (struct zkp_multi_req){ sample_write_ops, 4 }; break;
    case ZOO_MULTI_READ_OP: u->multi = (struct zkp_multi_req){ sample_read_ops, 2 }; break;
    default: break;
    }
}

/* Body sizes computed by hand from the layouts (see fill_body). */
static const struct { int32_t op; size_t body_len; } request_sizes[] = {
    { ZOO_CREATE_OP, 76 }, { ZOO_CREATE2_OP, 76 }, { ZOO_CREATE_CONTAINER_OP, 76 },
    { ZOO_CREATE_TTL_OP, 84 }, { ZOO_DELETE_OP, 17 }, { ZOO_EXISTS_OP, 14 },
    { ZOO_GETDATA_OP, 14 }, { ZOO_SETDATA_OP, 26 }, { ZOO_GETACL_OP, 13 },
    { ZOO_SETACL_OP, 67 }, { ZOO_GETCHILDREN_OP, 14 }, { ZOO_GETCHILDREN2_OP, 14 },
    { ZOO_GET_ALL_CHILDREN_NUMBER_OP, 13 }, { ZOO_GET_EPHEMERALS_OP, 13 },
    { ZOO_CHECK_OP, 17 }, { ZOO_MULTI_OP, 181 }, { ZOO_MULTI_READ_OP, 55 },
    { ZOO_SYNC_OP, 13 }, { ZOO_SETAUTH_OP, 21 }, { ZOO_SETWATCHES_OP, 34 },
    { ZOO_SETWATCHES2_OP, 48 }, { ZOO_ADD_WATCH_OP, 17 }, { ZOO_REMOVE_WATCHES_OP, 17 },
    { ZOO_CHECK_WATCHES_OP, 17 }, { ZOO_CLOSE_SESSION_OP, 0 }, { ZOO_PING_OP, 0 },
    { ZOO_WHO_AM_I_OP, 0 },
};
#define N_REQUEST_SIZES (sizeof request_sizes / sizeof request_sizes[0])

static size_t encode_sample(int32_t op, uint8_t *out, size_t cap)
{
    struct zkp_request r;
    fill_body(&r, op);
    r.xid = 42;
    struct jute_wr wr;
    jute_wr_init(&wr, out, cap);
    zkp_encode_request(&wr, &r);
    assert_int_equal(wr.err, JUTE_OK);
    return wr.pos;
}

/* Encode, check the hand-computed size, decode, re-encode: same bytes. */
static void every_request_round_trips(void **state)
{
    (void)state;
    init_samples();
    for (size_t i = 0; i < N_REQUEST_SIZES; i++) {
        int32_t op = request_sizes[i].op;
        uint8_t a_buf[512], b_buf[512];
        size_t n = encode_sample(op, a_buf, sizeof a_buf);
        if (n != 8 + request_sizes[i].body_len)
            fail_msg("op %d: %zu bytes, want %zu", op, n, 8 + request_sizes[i].body_len);
        struct zkp_request back;
        struct zkp_arena a = fresh_arena();
        int rc = zkp_decode_request(a_buf, n, &back, &a);
        if (rc != JUTE_OK)
            fail_msg("op %d: decode: %s", op, zkp_strerror(rc));
        assert_int_equal(back.xid, 42);
        assert_int_equal(back.op, op);
        struct jute_wr wr;
        jute_wr_init(&wr, b_buf, sizeof b_buf);
        zkp_encode_request(&wr, &back);
        assert_int_equal(wr.pos, n);
        assert_memory_equal(a_buf, b_buf, n);
    }
}

static void decoded_fields_match(void **state)
{
    (void)state;
    init_samples();
    uint8_t buf[512];
    struct zkp_request r;
    struct zkp_arena a = fresh_arena();
    size_t n = encode_sample(ZOO_CREATE_TTL_OP, buf, sizeof buf);
    assert_int_equal(zkp_decode_request(buf, n, &r, &a), JUTE_OK);
    assert_true(jute_str_eq(r.u.create.path, "/zab/node"));
    assert_memory_equal(r.u.create.data.ptr, "hello", 5);
    assert_int_equal(r.u.create.acl.count, 2);
    assert_true(jute_str_eq(r.u.create.acl.items[1].id, "u:xyz"));
    assert_int_equal(r.u.create.flags, 3);
    assert_true(r.u.create.ttl_ms == 60000);

    n = encode_sample(ZOO_SETWATCHES2_OP, buf, sizeof buf);
    assert_int_equal(zkp_decode_request(buf, n, &r, &a), JUTE_OK);
    const struct zkp_set_watches_req *sw = &r.u.set_watches;
    assert_true(sw->relative_zxid == 0x200000001LL);
    assert_int_equal(sw->data_watches.count, 2);
    assert_true(jute_str_eq(sw->data_watches.items[1], "/b/c"));
    assert_int_equal(sw->exist_watches.count, 0);
    assert_int_equal(sw->child_watches.count, -1);
    assert_int_equal(sw->persistent_watches.count, 1);

    /* v1 setWatches leaves the persistent lists null. */
    n = encode_sample(ZOO_SETWATCHES_OP, buf, sizeof buf);
    assert_int_equal(zkp_decode_request(buf, n, &r, &a), JUTE_OK);
    assert_int_equal(r.u.set_watches.persistent_watches.count, -1);

    n = encode_sample(ZOO_MULTI_OP, buf, sizeof buf);
    assert_int_equal(zkp_decode_request(buf, n, &r, &a), JUTE_OK);
    assert_int_equal(r.u.multi.count, 4);
    assert_int_equal(r.u.multi.ops[1].op, ZOO_SETDATA_OP);
    assert_int_equal(r.u.multi.ops[1].u.set_data.version, -1);
    assert_int_equal(r.u.multi.ops[3].op, ZOO_DELETE_OP);
    assert_int_equal(r.u.multi.ops[3].u.path_version.version, 4);
    assert_true(jute_str_eq(r.u.multi.ops[0].u.create.acl.items[0].scheme, "world"));

    n = encode_sample(ZOO_SETAUTH_OP, buf, sizeof buf);
    assert_int_equal(zkp_decode_request(buf, n, &r, &a), JUTE_OK);
    assert_true(jute_str_eq(r.u.auth.scheme, "digest"));
    assert_int_equal(r.u.auth.auth.len, 3);
}

/* Ping as clients send it: RequestHeader{-2, 11}, nothing else. */
static void op_names(void **state)
{
    (void)state;
    assert_string_equal(zkp_op_name(ZOO_GETDATA_OP), "getData");
    assert_string_equal(zkp_op_name(ZOO_CLOSE_SESSION_OP), "closeSession");
    assert_string_equal(zkp_op_name(ZOO_WHO_AM_I_OP), "whoAmI");
    assert_string_equal(zkp_op_name(10), "unknown");
    /* Every opcode the decoder knows has a name. */
    for (size_t i = 0; i < N_REQUEST_SIZES; i++)
        assert_string_not_equal(zkp_op_name(request_sizes[i].op), "unknown");
}

static void golden_ping(void **state)
{
    (void)state;
    static const uint8_t ping[] = { 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x0b };
    struct zkp_request r;
    assert_int_equal(zkp_decode_request(ping, sizeof ping, &r, NULL), JUTE_OK);
    assert_int_equal(r.xid, ZKP_XID_PING);
    assert_int_equal(r.op, ZOO_PING_OP);
}

/* ---- every response opcode ---------------------------------------------- */

static struct zkp_client_info sample_who[2];
static struct zkp_multi_result sample_mres[7];

/* A response with every field set; the encoder picks what op needs. */
static void fill_response(struct zkp_response *r, int32_t op)
{
    sample_who[0] = (struct zkp_client_info){ S("ip"), S("127.0.0.1") };
    sample_who[1] = (struct zkp_client_info){ S("digest"), S("bob") };
    const int32_t mops[7] = { ZOO_CREATE_OP, ZOO_CREATE2_OP, ZOO_SETDATA_OP, ZOO_DELETE_OP,
                              ZOO_CHECK_OP, ZOO_GETDATA_OP, ZOO_GETCHILDREN_OP };
    for (int i = 0; i < 7; i++) {
        memset(&sample_mres[i], 0, sizeof sample_mres[i]);
        sample_mres[i].op = mops[i];
        sample_mres[i].path = S("/m");
        sample_mres[i].stat = sample_stat;
        sample_mres[i].data = B("dd");
        sample_mres[i].children = (struct zkp_str_vec){ sample_paths, 2 };
    }
    memset(r, 0, sizeof *r);
    r->op = op;
    r->path = S("/p");
    r->stat = sample_stat;
    r->data = B("xyz");
    r->acl = (struct zkp_acl_vec){ sample_acls, 2 };
    r->children = (struct zkp_str_vec){ sample_paths, 2 };
    r->number = 12345;
    r->clients.items = sample_who;
    r->clients.count = 2;
    r->multi.items = sample_mres;
    r->multi.count = 7;
}

/* Expected body sizes: path "/p" = 6, stat 68, data "xyz" 7, children
 * ["/a","/b/c"] 18, ACLs 50. */
static const struct { int32_t op; size_t len; } response_sizes[] = {
    { ZOO_CREATE_OP, 6 }, { ZOO_CREATE2_OP, 74 }, { ZOO_CREATE_CONTAINER_OP, 74 },
    { ZOO_CREATE_TTL_OP, 74 }, { ZOO_SYNC_OP, 6 }, { ZOO_EXISTS_OP, 68 },
    { ZOO_SETDATA_OP, 68 }, { ZOO_SETACL_OP, 68 }, { ZOO_GETDATA_OP, 75 },
    { ZOO_GETACL_OP, 118 }, { ZOO_GETCHILDREN_OP, 18 }, { ZOO_GET_EPHEMERALS_OP, 18 },
    { ZOO_GETCHILDREN2_OP, 86 }, { ZOO_GET_ALL_CHILDREN_NUMBER_OP, 4 },
    { ZOO_ADD_WATCH_OP, 4 }, { ZOO_WHO_AM_I_OP, 4 + 4 + 2 + 4 + 9 + 4 + 6 + 4 + 3 },
    { ZOO_DELETE_OP, 0 }, { ZOO_CHECK_OP, 0 }, { ZOO_PING_OP, 0 },
    { ZOO_SETWATCHES_OP, 0 }, { ZOO_CLOSE_SESSION_OP, 0 },
    /* 7 headers + create 6 + create2 74 + setData 68 + getData 74 +
     * getChildren 18 + terminator. */
    { ZOO_MULTI_OP, 7 * 9 + 6 + 74 + 68 + 74 + 18 + 9 },
};

static void every_response_round_trips(void **state)
{
    (void)state;
    init_samples();
    for (size_t i = 0; i < sizeof response_sizes / sizeof response_sizes[0]; i++) {
        struct zkp_response r;
        fill_response(&r, response_sizes[i].op);
        uint8_t a_buf[1024], b_buf[1024];
        struct jute_wr wr;
        jute_wr_init(&wr, a_buf, sizeof a_buf);
        zkp_encode_response_body(&wr, &r);
        assert_int_equal(wr.err, JUTE_OK);
        if (wr.pos != response_sizes[i].len)
            fail_msg("op %d: %zu bytes, want %zu", r.op, wr.pos, response_sizes[i].len);
        struct zkp_response back;
        struct zkp_arena a = fresh_arena();
        struct jute_rd rd;
        jute_rd_init(&rd, a_buf, wr.pos);
        assert_int_equal(zkp_decode_response_body(&rd, r.op, &back, &a), JUTE_OK);
        assert_int_equal(jute_rd_left(&rd), 0);
        struct jute_wr wr2;
        jute_wr_init(&wr2, b_buf, sizeof b_buf);
        zkp_encode_response_body(&wr2, &back);
        assert_int_equal(wr2.pos, wr.pos);
        assert_memory_equal(a_buf, b_buf, wr.pos);
        if (r.op == ZOO_MULTI_OP) {
            assert_int_equal(back.multi.count, 7);
            assert_true(jute_str_eq(back.multi.items[1].path, "/m"));
            assert_int_equal(back.multi.items[6].children.count, 2);
        }
        if (r.op == ZOO_WHO_AM_I_OP)
            assert_true(jute_str_eq(back.clients.items[1].user, "bob"));
    }
}

/* Every proper prefix of every response body is rejected. */
static void truncated_response_bodies_rejected(void **state)
{
    (void)state;
    init_samples();
    for (size_t i = 0; i < sizeof response_sizes / sizeof response_sizes[0]; i++) {
        struct zkp_response r;
        fill_response(&r, response_sizes[i].op);
        uint8_t full[1024];
        struct jute_wr wr;
        jute_wr_init(&wr, full, sizeof full);
        zkp_encode_response_body(&wr, &r);
        for (size_t cut = 0; cut < wr.pos; cut++) {
            uint8_t *p = test_malloc(cut ? cut : 1);
            memcpy(p, full, cut);
            struct jute_rd rd;
            jute_rd_init(&rd, p, cut);
            struct zkp_response back;
            struct zkp_arena a = fresh_arena();
            if (zkp_decode_response_body(&rd, r.op, &back, &a) == JUTE_OK)
                fail_msg("response op %d cut at %zu of %zu accepted", r.op, cut, wr.pos);
            test_free(p);
        }
    }
}

static void arena_bounds_and_alignment(void **state)
{
    (void)state;
    uint8_t mem[64];
    struct zkp_arena a;
    zkp_arena_init(&a, mem, sizeof mem);
    uint8_t *one = zkp_arena_alloc(&a, 1, 1);
    uint8_t *two = zkp_arena_alloc(&a, 1, 8);
    assert_ptr_equal(one, mem);
    assert_ptr_equal(two, mem + 8); /* aligned to 8 */
    assert_null(zkp_arena_alloc(&a, SIZE_MAX / 2, 4)); /* n * size overflows */
    assert_null(zkp_arena_alloc(&a, 49, 1));           /* 16 + 49 > 64 */
    assert_non_null(zkp_arena_alloc(&a, 48, 1));       /* exactly full */
    assert_int_equal(a.used, 64);
    assert_null(zkp_arena_alloc(&a, 1, 1));
    assert_null(zkp_arena_alloc(NULL, 1, 1));
}

/* ---- malformed packets -------------------------------------------------- */

/* Every proper prefix of every valid request is rejected; no prefix is
 * mistaken for a complete record. Run under ASan this also shows no read
 * past the end. Each prefix is copied to an exact-size heap buffer so ASan
 * sees the true end. */
static void truncated_requests_rejected_at_every_offset(void **state)
{
    (void)state;
    init_samples();
    for (size_t i = 0; i < N_REQUEST_SIZES; i++) {
        uint8_t full[512];
        size_t n = encode_sample(request_sizes[i].op, full, sizeof full);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *p = test_malloc(cut ? cut : 1);
            memcpy(p, full, cut);
            struct zkp_request r;
            struct zkp_arena a = fresh_arena();
            int rc = zkp_decode_request(p, cut, &r, &a);
            if (rc == JUTE_OK)
                fail_msg("op %d cut at %zu of %zu accepted", request_sizes[i].op, cut, n);
            test_free(p);
        }
    }
}

static void truncated_connect_rejected(void **state)
{
    (void)state;
    const uint8_t *body = golden_connect_req + 4;
    for (size_t cut = 0; cut < ZKP_CONNECT_REQ_LEN; cut++) {
        struct zkp_connect_req cr;
        int rc = zkp_decode_connect_req(body, cut, &cr);
        if (cut == ZKP_CONNECT_REQ_LEN_OLD)
            assert_int_equal(rc, JUTE_OK); /* the pre-3.4 form */
        else if (rc == JUTE_OK)
            fail_msg("connect cut at %zu accepted", cut);
    }
}

static void truncated_responses_rejected(void **state)
{
    (void)state;
    const uint8_t *body = golden_get_data_reply + 4 + 16;
    size_t n = sizeof golden_get_data_reply - 20;
    for (size_t cut = 0; cut < n; cut++) {
        struct jute_rd rd;
        jute_rd_init(&rd, body, cut);
        struct zkp_response r;
        struct zkp_arena a = fresh_arena();
        assert_int_not_equal(zkp_decode_response_body(&rd, ZOO_GETDATA_OP, &r, &a), JUTE_OK);
    }
}

static void framing_rejects_bad_lengths(void **state)
{
    (void)state;
    struct zkp_frame f;
    const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xf0, 1, 2 };
    assert_int_equal(zkp_frame_next(neg, sizeof neg, ZKP_PACKET_MAX_DEFAULT, &f),
                     ZKP_E_FRAME_NEG);
    const uint8_t big[] = { 0x00, 0x10, 0x00, 0x00 }; /* 1 MiB = max + 1 */
    assert_int_equal(zkp_frame_next(big, sizeof big, ZKP_PACKET_MAX_DEFAULT, &f),
                     ZKP_E_FRAME_TOO_BIG);
    const uint8_t at_max[] = { 0x00, 0x0f, 0xff, 0xff };
    assert_int_equal(zkp_frame_next(at_max, sizeof at_max, ZKP_PACKET_MAX_DEFAULT, &f), JUTE_OK);
    assert_false(f.ready);
    /* Partial header and partial payload both ask for more bytes. */
    for (size_t len = 0; len < sizeof golden_connect_req; len++) {
        assert_int_equal(zkp_frame_next(golden_connect_req, len, 4096, &f), JUTE_OK);
        assert_false(f.ready);
    }
}

/* Two frames back to back in one stream come out one at a time. */
static void framing_splits_a_stream(void **state)
{
    (void)state;
    uint8_t stream[2 * sizeof golden_connect_req];
    memcpy(stream, golden_connect_req, sizeof golden_connect_req);
    memcpy(stream + sizeof golden_connect_req, golden_connect_req, sizeof golden_connect_req);
    size_t off = 0;
    int frames = 0;
    while (off < sizeof stream) {
        struct zkp_frame f;
        assert_int_equal(zkp_frame_next(stream + off, sizeof stream - off, 4096, &f), JUTE_OK);
        assert_true(f.ready);
        assert_int_equal(f.payload_len, 45);
        off += f.consumed;
        frames++;
    }
    assert_int_equal(frames, 2);
}

static void garbage_before_handshake(void **state)
{
    (void)state;
    const uint8_t http[] = "GET / HTTP/1.1\r\n";
    bool more;
    assert_int_equal(zkp_four_letter_word(http, sizeof http - 1, &more), ZKP_4LW_NONE);
    assert_false(more);
    struct zkp_frame f;
    assert_int_equal(zkp_frame_next(http, sizeof http - 1, ZKP_PACKET_MAX_DEFAULT, &f),
                     ZKP_E_FRAME_TOO_BIG);
    /* A small length whose body is not a handshake. */
    const uint8_t junk[] = { 0, 0, 0, 5, 1, 2, 3, 4, 5 };
    assert_int_equal(zkp_frame_next(junk, sizeof junk, ZKP_PACKET_MAX_DEFAULT, &f), JUTE_OK);
    assert_true(f.ready);
    struct zkp_connect_req cr;
    assert_int_not_equal(zkp_decode_connect_req(f.payload, f.payload_len, &cr), JUTE_OK);
    /* A handshake whose password length is negative. */
    uint8_t bad[ZKP_CONNECT_REQ_LEN];
    memcpy(bad, golden_connect_req + 4, sizeof bad);
    bad[24] = 0xff, bad[25] = 0xff, bad[26] = 0xff, bad[27] = 0xfe;
    assert_int_equal(zkp_decode_connect_req(bad, sizeof bad, &cr), JUTE_E_NEG_LEN);
}

static void four_letter_words(void **state)
{
    (void)state;
    static const char *words[] = { "ruok", "srvr", "stat", "mntr", "conf", "cons", "wchs",
                                   "isro", "dump", "envi", "crst", "srst", "dirs", "wchc",
                                   "wchp", "hash" };
    bool more;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        enum zkp_4lw w = zkp_four_letter_word((const uint8_t *)words[i], 4, &more);
        assert_int_not_equal(w, ZKP_4LW_NONE);
        assert_string_equal(zkp_4lw_name(w), words[i]);
        /* As a frame length every word is far above the packet maximum. */
        struct zkp_frame f;
        assert_int_equal(zkp_frame_next((const uint8_t *)words[i], 4, ZKP_PACKET_MAX_DEFAULT, &f),
                         ZKP_E_FRAME_TOO_BIG);
    }
    assert_int_equal(zkp_four_letter_word((const uint8_t *)"ruo", 3, &more), ZKP_4LW_NONE);
    assert_true(more);
    assert_int_equal(zkp_four_letter_word((const uint8_t *)"RUOK", 4, &more), ZKP_4LW_NONE);
    assert_int_equal(zkp_four_letter_word((const uint8_t *)"gtmk", 4, &more), ZKP_4LW_NONE);
    assert_int_equal(zkp_four_letter_word(golden_connect_req, 4, &more), ZKP_4LW_NONE);
}

static void unknown_opcode_keeps_xid(void **state)
{
    (void)state;
    const uint8_t pkt[] = { 0, 0, 0, 9, 0, 0, 0, 99, 0, 0, 0, 0 };
    struct zkp_request r;
    assert_int_equal(zkp_decode_request(pkt, sizeof pkt, &r, NULL), ZKP_E_UNKNOWN_OP);
    assert_int_equal(r.xid, 9);
    assert_int_equal(r.op, 99);
    const int32_t unknown[] = { 10, 16, 20, 23, 99, 102, 108, -10, -1, 0x7fffffff };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        struct jute_rd rd;
        jute_rd_init(&rd, pkt, sizeof pkt);
        assert_int_equal(zkp_decode_request_body(&rd, unknown[i], &r, NULL), ZKP_E_UNKNOWN_OP);
    }
}

static void negative_lengths_inside_records(void **state)
{
    (void)state;
    /* getData with path length -2. */
    const uint8_t p1[] = { 0, 0, 0, 1, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe, 0 };
    struct zkp_request r;
    assert_int_equal(zkp_decode_request(p1, sizeof p1, &r, NULL), JUTE_E_NEG_LEN);
    /* setData with data length INT32_MIN. */
    const uint8_t p2[] = { 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 1, '/', 0x80, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(zkp_decode_request(p2, sizeof p2, &r, NULL), JUTE_E_NEG_LEN);
    /* create with ACL count -7. */
    const uint8_t p3[] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, '/', 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xf9, 0, 0, 0, 0 };
    assert_int_equal(zkp_decode_request(p3, sizeof p3, &r, NULL), JUTE_E_NEG_LEN);
}

static void huge_vector_counts(void **state)
{
    (void)state;
    /* setWatches with 2^31-1 data watches and a few bytes. */
    const uint8_t p[] = { 0xff, 0xff, 0xff, 0xf8, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 0,
                          0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0 };
    struct zkp_request r;
    struct zkp_arena a = fresh_arena();
    assert_int_equal(zkp_decode_request(p, sizeof p, &r, &a), JUTE_E_COUNT);
    assert_int_equal(a.used, 0);
    /* setACL with 1000 ACLs claimed, 0 present. */
    const uint8_t q[] = { 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, '/', 0, 0, 0x03, 0xe8,
                          0, 0, 0, 0 };
    assert_int_equal(zkp_decode_request(q, sizeof q, &r, &a), JUTE_E_COUNT);
}

/* Enough valid paths to overflow a small arena: a clean ARENA_FULL. */
static void arena_exhaustion_is_an_error(void **state)
{
    (void)state;
    uint8_t pkt[8 + 8 + 4 + 64 * 6 + 8];
    struct jute_wr wr;
    jute_wr_init(&wr, pkt, sizeof pkt);
    jute_wr_int(&wr, -8);
    jute_wr_int(&wr, ZOO_SETWATCHES_OP);
    jute_wr_long(&wr, 0);
    jute_wr_int(&wr, 64);
    for (int i = 0; i < 64; i++)
        jute_wr_cstr(&wr, "/x");
    jute_wr_int(&wr, 0);
    jute_wr_int(&wr, 0);
    assert_int_equal(wr.err, JUTE_OK);
    uint8_t small[64 * sizeof(struct jute_str) - 1];
    struct zkp_arena a;
    zkp_arena_init(&a, small, sizeof small);
    struct zkp_request r;
    assert_int_equal(zkp_decode_request(pkt, wr.pos, &r, &a), ZKP_E_ARENA_FULL);
    uint8_t enough[64 * sizeof(struct jute_str)];
    zkp_arena_init(&a, enough, sizeof enough);
    assert_int_equal(zkp_decode_request(pkt, wr.pos, &r, &a), JUTE_OK);
    assert_int_equal(r.u.set_watches.data_watches.count, 64);
    assert_true(jute_str_eq(r.u.set_watches.data_watches.items[63], "/x"));
}

static void multi_malformations(void **state)
{
    (void)state;
    struct zkp_request r;
    struct zkp_arena a = fresh_arena();
    /* Without the terminating header (cut just before it). */
    size_t no_end = sizeof golden_multi_req - 9;
    assert_int_equal(zkp_decode_request(golden_multi_req, no_end, &r, &a), ZKP_E_MULTI_END);
    /* Terminator cut in half. */
    assert_int_equal(zkp_decode_request(golden_multi_req, no_end + 4, &r, &a), ZKP_E_MULTI_END);
    /* A sub-op type that multi does not allow (sync = 9). */
    uint8_t bad[sizeof golden_multi_req];
    memcpy(bad, golden_multi_req, sizeof bad);
    bad[11] = ZOO_SYNC_OP;
    assert_int_equal(zkp_decode_request(bad, sizeof bad, &r, &a), ZKP_E_MULTI_OP);
    /* A nested multi. */
    bad[11] = ZOO_MULTI_OP;
    assert_int_equal(zkp_decode_request(bad, sizeof bad, &r, &a), ZKP_E_MULTI_OP);
    /* Bytes after the terminator. */
    uint8_t longer[sizeof golden_multi_req + 1];
    memcpy(longer, golden_multi_req, sizeof golden_multi_req);
    longer[sizeof golden_multi_req] = 0;
    assert_int_equal(zkp_decode_request(longer, sizeof longer, &r, &a), ZKP_E_TRAILING);
    /* An empty multi (terminator only) is valid. */
    const uint8_t empty[] = { 0, 0, 0, 1, 0, 0, 0, 14, 0xff, 0xff, 0xff, 0xff, 1,
                              0xff, 0xff, 0xff, 0xff };
    assert_int_equal(zkp_decode_request(empty, sizeof empty, &r, &a), JUTE_OK);
    assert_int_equal(r.u.multi.count, 0);
}

static void trailing_bytes_rejected(void **state)
{
    (void)state;
    const uint8_t ping_plus[] = { 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11, 0 };
    struct zkp_request r;
    assert_int_equal(zkp_decode_request(ping_plus, sizeof ping_plus, &r, NULL), ZKP_E_TRAILING);
    const uint8_t short_hdr[] = { 0, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(zkp_decode_request(short_hdr, sizeof short_hdr, &r, NULL), JUTE_E_SHORT);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random byte mutations of every valid request: decoding never crashes
 * (ASan watches), and whatever decodes re-encodes to a packet that decodes
 * to the same re-encoding (no half-decoded state leaks out). */
static void mutated_requests_never_crash(void **state)
{
    (void)state;
    init_samples();
    uint64_t seed = 0x243f6a8885a308d3ULL;
    int accepted = 0, rejected = 0;
    for (size_t i = 0; i < N_REQUEST_SIZES; i++) {
        uint8_t full[512];
        size_t n = encode_sample(request_sizes[i].op, full, sizeof full);
        for (int iter = 0; iter < 300; iter++) {
            uint8_t *p = test_malloc(n);
            memcpy(p, full, n);
            int flips = 1 + (int)(xorshift(&seed) % 3);
            for (int k = 0; k < flips; k++)
                p[xorshift(&seed) % n] ^= (uint8_t)(1u << (xorshift(&seed) % 8));
            struct zkp_request r;
            struct zkp_arena a = fresh_arena();
            if (zkp_decode_request(p, n, &r, &a) == JUTE_OK) {
                accepted++;
                uint8_t o1[1024], o2[1024];
                struct jute_wr w1;
                jute_wr_init(&w1, o1, sizeof o1);
                zkp_encode_request(&w1, &r);
                assert_int_equal(w1.err, JUTE_OK);
                struct zkp_request r2;
                static uint8_t arena2[16384];
                struct zkp_arena a2;
                zkp_arena_init(&a2, arena2, sizeof arena2);
                assert_int_equal(zkp_decode_request(o1, w1.pos, &r2, &a2), JUTE_OK);
                struct jute_wr w2;
                jute_wr_init(&w2, o2, sizeof o2);
                zkp_encode_request(&w2, &r2);
                assert_int_equal(w2.pos, w1.pos);
                assert_memory_equal(o1, o2, w1.pos);
            } else {
                rejected++;
            }
            test_free(p);
        }
    }
    /* Both outcomes must occur, or the mutation loop tests nothing. */
    assert_true(accepted > 0);
    assert_true(rejected > 0);
}

static void encoder_reports_overflow(void **state)
{
    (void)state;
    init_samples();
    uint8_t full[512];
    size_t n = encode_sample(ZOO_MULTI_OP, full, sizeof full);
    for (size_t cap = 0; cap < n; cap++) {
        uint8_t out[512];
        struct zkp_request r;
        fill_body(&r, ZOO_MULTI_OP);
        r.xid = 42;
        struct jute_wr wr;
        jute_wr_init(&wr, out, cap);
        zkp_encode_request(&wr, &r);
        assert_int_equal(wr.err, JUTE_E_OVERFLOW);
    }
    struct zkp_reply_header h = { 1, 1, 0 };
    struct zkp_response resp;
    memset(&resp, 0, sizeof resp);
    resp.op = 12345;
    uint8_t out[64];
    struct jute_wr wr;
    jute_wr_init(&wr, out, sizeof out);
    assert_int_equal(zkp_encode_reply_frame(&wr, &h, &resp), ZKP_E_UNKNOWN_OP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_connect_request),
        cmocka_unit_test(golden_connect_request_without_read_only),
        cmocka_unit_test(golden_connect_response),
        cmocka_unit_test(golden_get_data_reply_with_stat),
        cmocka_unit_test(golden_error_reply_has_no_body),
        cmocka_unit_test(golden_notification),
        cmocka_unit_test(golden_multi_request),
        cmocka_unit_test(golden_multi_response),
        cmocka_unit_test(golden_ping),
        cmocka_unit_test(op_names),
        cmocka_unit_test(every_request_round_trips),
        cmocka_unit_test(decoded_fields_match),
        cmocka_unit_test(every_response_round_trips),
        cmocka_unit_test(truncated_requests_rejected_at_every_offset),
        cmocka_unit_test(truncated_connect_rejected),
        cmocka_unit_test(truncated_responses_rejected),
        cmocka_unit_test(truncated_response_bodies_rejected),
        cmocka_unit_test(arena_bounds_and_alignment),
        cmocka_unit_test(framing_rejects_bad_lengths),
        cmocka_unit_test(framing_splits_a_stream),
        cmocka_unit_test(garbage_before_handshake),
        cmocka_unit_test(four_letter_words),
        cmocka_unit_test(unknown_opcode_keeps_xid),
        cmocka_unit_test(negative_lengths_inside_records),
        cmocka_unit_test(huge_vector_counts),
        cmocka_unit_test(arena_exhaustion_is_an_error),
        cmocka_unit_test(multi_malformations),
        cmocka_unit_test(trailing_bytes_rejected),
        cmocka_unit_test(mutated_requests_never_crash),
        cmocka_unit_test(encoder_reports_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
