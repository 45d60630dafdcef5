/* libFuzzer harness for core/zk_wire: the server-side decoders
 * (zkw_decode_request, zkw_decode_connect) and the client-side reply
 * decoders on arbitrary bytes. The first input byte picks the target and a
 * field_max / op; the rest is the payload. Not part of `make test` (needs
 * clang -fsanitize=fuzzer); see docs/wire-protocol.md for the build line.
 *
 * Beyond "no crash, no leak", it checks the error policy: only the
 * documented codes come back, a refused request owns no memory, xid/op are
 * those of the first 8 bytes, and a request that decodes re-encodes
 * (zkw_encode_request / zkw_encode_set_watches) to a frame that decodes
 * to the same op, xid and field values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/zk_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int32_t be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int32_t fuzz_op_of(void *arg, int32_t xid)
{
    (void)xid;
    return *(const int32_t *)arg;
}

static void same_request(const struct zk_request *a, const struct zk_request *b)
{
    if (a->type != b->type || a->cxid != b->cxid || a->flags != b->flags ||
        a->version != b->version || a->data_len != b->data_len || a->acl_count != b->acl_count ||
        a->op_count != b->op_count || (a->path == NULL) != (b->path == NULL))
        __builtin_trap();
    if (a->path && strcmp(a->path, b->path) != 0)
        __builtin_trap();
    if (a->data_len && memcmp(a->data, b->data, a->data_len) != 0)
        __builtin_trap();
    for (uint32_t i = 0; i < a->op_count; i++)
        same_request(&a->ops[i], &b->ops[i]);
}

static void check_reencodes(const struct zkw_request *r)
{
    struct zkw_buf b = { 0 };
    int rc = r->kind == ZKW_REQ_CLIENT ? zkw_encode_request(&r->req, &b)
                                       : zkw_encode_set_watches(r->xid, &r->sw, &b);
    if (rc != 0 || b.len < 4)
        __builtin_trap();
    struct zkw_request again;
    if (zkw_decode_request(b.p + 4, b.len - 4, NULL, &again) != ZOK)
        __builtin_trap();
    if (again.xid != r->xid || again.kind != r->kind)
        __builtin_trap();
    if (r->kind == ZKW_REQ_CLIENT)
        same_request(&r->req, &again.req);
    else if (again.sw.data.count != r->sw.data.count || again.sw.child.count != r->sw.child.count)
        __builtin_trap();
    zkw_request_free(&again);
    zkw_buf_free(&b);
}

static void fuzz_request(uint8_t sel, const uint8_t *p, size_t n)
{
    struct zkw_limits lim = { (size_t)(sel & 0x3f) * 16 };
    struct zkw_request r;
    int rc = zkw_decode_request(p, n, &lim, &r);
    if (rc != ZOK && rc != ZMARSHALLINGERROR && rc != ZUNIMPLEMENTED && rc != ZBADARGUMENTS &&
        rc != ZINVALIDACL)
        __builtin_trap();
    if (r.has_header != (n >= 8) || (rc != ZOK && (r.mem != NULL || r.kind != ZKW_REQ_NONE)))
        __builtin_trap();
    if (n >= 8 && (r.xid != be32(p) || r.op != be32(p + 4)))
        __builtin_trap();
    if (rc == ZOK)
        check_reencodes(&r);
    zkw_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct zkw_connect c;
    struct zkw_reply r;
    int32_t op = (int32_t)(sel >> 2) - 11; /* -11 .. 52 */
    switch (sel & 3) {
    case 0: fuzz_request(sel, p, n); break;
    case 1:
        if (zkw_decode_connect(p, n, &c) != ZOK && zkw_decode_connect(p, n, &c) != ZMARSHALLINGERROR)
            __builtin_trap();
        break;
    case 2:
        zkw_decode_reply(p, n, fuzz_op_of, &op, &r);
        zkw_reply_free(&r);
        break;
    default:
        zkw_decode_connect_resp(p, n, &r);
        zkw_reply_free(&r);
        break;
    }
    return 0;
}
