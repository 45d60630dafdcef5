/* libFuzzer harness for everything that reads untrusted bytes: the frame
 * splitter, the request and handshake decoders, the response decoder and the
 * zoo.cfg parser. The first input byte picks the target; the rest is the
 * input. Not part of `make test` (needs clang -fsanitize=fuzzer); see
 * docs/wire-protocol.md for the build line.
 *
 * Beyond "no crash", it checks one property: a request that decodes
 * re-encodes to bytes that decode and re-encode to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/zk_proto.h"
#include "server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t arena_a[1 << 16];
static uint8_t arena_b[1 << 16];
static uint8_t out_a[1 << 17];
static uint8_t out_b[1 << 17];

static void check_request_reencodes(const struct zkp_request *req)
{
    struct jute_wr w1;
    jute_wr_init(&w1, out_a, sizeof out_a);
    zkp_encode_request(&w1, req);
    if (w1.err)
        __builtin_trap();
    struct zkp_request again;
    struct zkp_arena a;
    zkp_arena_init(&a, arena_b, sizeof arena_b);
    if (zkp_decode_request(out_a, w1.pos, &again, &a) != JUTE_OK)
        __builtin_trap();
    struct jute_wr w2;
    jute_wr_init(&w2, out_b, sizeof out_b);
    zkp_encode_request(&w2, &again);
    if (w2.pos != w1.pos || memcmp(out_a, out_b, w1.pos) != 0)
        __builtin_trap();
}

/* Splits the stream into frames as a connection would, decoding each. */
static void fuzz_stream(const uint8_t *p, size_t n)
{
    bool more;
    zkp_four_letter_word(p, n, &more);
    for (int frames = 0; frames < 64; frames++) {
        struct zkp_frame f;
        if (zkp_frame_next(p, n, 4096, &f) != JUTE_OK || !f.ready)
            return;
        struct zkp_request req;
        struct zkp_arena a;
        zkp_arena_init(&a, arena_a, sizeof arena_a);
        if (frames == 0) {
            struct zkp_connect_req cr;
            zkp_decode_connect_req(f.payload, f.payload_len, &cr);
        } else if (zkp_decode_request(f.payload, f.payload_len, &req, &a) == JUTE_OK) {
            check_request_reencodes(&req);
        }
        p += f.consumed;
        n -= f.consumed;
    }
}

static void fuzz_response(const uint8_t *p, size_t n)
{
    if (n < 1)
        return;
    static const int32_t ops[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 17, 18, 19,
                                   21, 22, 100, 101, 103, 104, 105, 106, 107, -11, 99 };
    int32_t op = ops[p[0] % (sizeof ops / sizeof ops[0])];
    struct jute_rd rd;
    jute_rd_init(&rd, p + 1, n - 1);
    struct zkp_reply_header h;
    zkp_decode_reply_header(&rd, &h);
    struct zkp_response resp;
    struct zkp_arena a;
    zkp_arena_init(&a, arena_a, sizeof arena_a);
    zkp_decode_response_body(&rd, op, &resp, &a);
}

static void fuzz_config(const uint8_t *p, size_t n)
{
    static struct cfg c;
    char err[256];
    if (cfg_parse(&c, "fuzz.cfg", (const char *)p, n, err, sizeof err) == 0 &&
        c.server_count > 0)
        cfg_parse_myid(&c, "myid", "1", 1, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Copy to an exact-size heap block so ASan sees the true end. */
    uint8_t *p = malloc(size - 1 ? size - 1 : 1);
    if (!p)
        return 0;
    memcpy(p, data + 1, size - 1);
    switch (data[0] % 3) {
    case 0: fuzz_stream(p, size - 1); break;
    case 1: fuzz_response(p, size - 1); break;
    default: fuzz_config(p, size - 1); break;
    }
    free(p);
    return 0;
}
