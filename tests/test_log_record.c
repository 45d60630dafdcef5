/* Log records and recovery: round trip; a torn last record cut at every byte
 * offset keeps exactly the complete records; damage in the middle is an
 * error; zxids must increase; snapshot envelope; replica_start recovery
 * (torn tail -> LOG_TRUNCATE action, snapshot + replay, epoch-file checks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/log_record.h"
#include "core/replica.h"
#include "core/storage.h"

static uint8_t img[8192];

/* Writes n records (payload "txn-<i>" of varying length) and returns the image size;
 * ends[i] = offset just after record i. */
static size_t build_log(int n, uint32_t epoch, size_t *ends)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        char p[64];
        int len = snprintf(p, sizeof p, "txn-%d-%.*s", i, i * 3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        size_t w = log_record_encode(img + off, sizeof img - off, zxid_make(epoch, (uint32_t)i + 1),
                                     epoch, (const uint8_t *)p, (uint32_t)len);
        assert_true(w > 0);
        off += w;
        if (ends)
            ends[i] = off;
    }
    return off;
}

static void round_trip(void **state)
{
    (void)state;
    uint8_t buf[128];
    const char *p = "hello";
    size_t w = log_record_encode(buf, sizeof buf, 0x100000007ull, 1, (const uint8_t *)p, 5);
    assert_int_equal(w, LOG_RECORD_HEADER_BYTES + 5);
    struct log_record rec;
    size_t used = 0;
    assert_int_equal(log_record_decode(buf, w, &rec, &used), LOG_DECODE_OK);
    assert_int_equal(used, w);
    assert_int_equal(rec.zxid, 0x100000007ull);
    assert_int_equal(rec.epoch, 1);
    assert_int_equal(rec.payload_len, 5);
    assert_memory_equal(rec.payload, p, 5);
    assert_int_equal(log_record_encode(buf, w - 1, 1, 1, (const uint8_t *)p, 5), 0);
    /* every single-bit flip is detected */
    for (size_t i = 0; i < w; i++)
        for (int b = 0; b < 8; b++) {
            buf[i] ^= (uint8_t)(1u << b);
            assert_int_not_equal(log_record_decode(buf, w, &rec, &used), LOG_DECODE_OK);
            buf[i] ^= (uint8_t)(1u << b);
        }
}

static void torn_tail_at_every_offset(void **state)
{
    (void)state;
    size_t ends[6];
    size_t total = build_log(6, 1, ends);
    for (size_t cut = ends[4]; cut <= total; cut++) {
        struct log_scan s;
        char err[128] = "";
        assert_int_equal(log_scan(img, cut, &s, NULL, NULL, err, sizeof err), 0);
        int complete = cut == total;
        assert_int_equal(s.n_records, complete ? 6 : 5);
        assert_int_equal(s.valid_bytes, complete ? total : ends[4]);
        assert_int_equal(s.torn, cut != ends[4] && !complete);
    }
}

static void garbage_tail_is_torn(void **state)
{
    (void)state;
    size_t ends[3];
    size_t total = build_log(3, 1, ends);
    memset(img + total, 0xab, 40);
    struct log_scan s;
    char err[128];
    assert_int_equal(log_scan(img, total + 40, &s, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(s.n_records, 3);
    assert_true(s.torn);
}

static void damage_in_the_middle_is_an_error(void **state)
{
    (void)state;
    size_t ends[4];
    size_t total = build_log(4, 1, ends);
    img[ends[0] + LOG_RECORD_HEADER_BYTES] ^= 0x40;      /* payload of record 2 */
    struct log_scan s;
    char err[128] = "";
    assert_int_equal(log_scan(img, total, &s, NULL, NULL, err, sizeof err), -1);
    char want[32];
    snprintf(want, sizeof want, "log:%zu:", ends[0]);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "checksum"));
}

static void zxids_must_increase(void **state)
{
    (void)state;
    size_t off = log_record_encode(img, sizeof img, 0x100000002ull, 1, (const uint8_t *)"a", 1);
    off += log_record_encode(img + off, sizeof img - off, 0x100000001ull, 1, (const uint8_t *)"b", 1);
    struct log_scan s;
    char err[128] = "";
    assert_int_equal(log_scan(img, off, &s, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not follow"));
}

static void huge_length_rejected(void **state)
{
    (void)state;
    size_t w = log_record_encode(img, sizeof img, 1, 0, (const uint8_t *)"a", 1);
    img[4] = 0xff, img[5] = 0xff, img[6] = 0xff, img[7] = 0x7f;
    struct log_record rec;
    size_t used;
    assert_int_equal(log_record_decode(img, w, &rec, &used), LOG_DECODE_BAD_LENGTH);
    assert_int_equal(log_record_decode(img, 10, &rec, &used), LOG_DECODE_SHORT);
}

static void snapshot_envelope(void **state)
{
    (void)state;
    uint8_t buf[64];
    const uint8_t sm[] = {1, 2, 3, 4, 5};
    size_t w = storage_snapshot_encode(buf, sizeof buf, 0x300000009ull, sm, sizeof sm);
    assert_int_equal(w, STORAGE_SNAPSHOT_HEADER_BYTES + 5);
    uint64_t z;
    const uint8_t *p;
    size_t n;
    char err[128];
    assert_int_equal(storage_snapshot_decode(buf, w, &z, &p, &n, err, sizeof err), 0);
    assert_int_equal(z, 0x300000009ull);
    assert_int_equal(n, 5);
    assert_memory_equal(p, sm, 5);
    for (size_t i = 0; i < w; i++) {
        buf[i] ^= 1;
        assert_int_equal(storage_snapshot_decode(buf, w, &z, &p, &n, err, sizeof err), -1);
        buf[i] ^= 1;
    }
    assert_int_equal(storage_snapshot_decode(buf, w - 1, &z, &p, &n, err, sizeof err), -1);
}

/* ---- recovery through replica_start ---- */

static struct replica_config cfg3(uint32_t bugs)
{
    struct replica_config c;
    memset(&c, 0, sizeof c);
    c.id = 1, c.n_servers = 3, c.tick_ms = 100, c.init_limit = 10, c.sync_limit = 5;
    c.bugs = bugs;
    return c;
}

static const struct rep_action *find_action(const struct replica_out *o, int kind)
{
    for (uint32_t i = 0; i < o->n_actions; i++)
        if (o->actions[i].kind == kind)
            return &o->actions[i];
    return NULL;
}

static void start_cuts_torn_tail(void **state)
{
    (void)state;
    size_t ends[5];
    size_t total = build_log(5, 1, ends);
    for (size_t cut = ends[3] + 1; cut < total; cut += 7) {
        struct replica r;
        struct replica_config c = cfg3(0);
        char err[160];
        assert_int_equal(replica_init(&r, &c, err, sizeof err), 0);
        struct replica_durable d = {img, cut, NULL, 0, 1, 1, 1, 1};
        assert_int_equal(replica_start(&r, 0, &d, err, sizeof err), 0);
        assert_int_equal(replica_last_zxid(&r), zxid_make(1, 4));
        assert_int_equal(replica_log_count(&r), 4);
        const struct rep_action *t = find_action(replica_output(&r), REP_ACT_LOG_TRUNCATE);
        assert_non_null(t);
        assert_int_equal(t->value, ends[3]);
        assert_int_equal(r.state, REP_LOOKING);
        assert_int_equal(r.fle.vote.zxid, zxid_make(1, 4));
        replica_free(&r);
    }
}

static void start_with_snapshot_skips_covered_records(void **state)
{
    (void)state;
    size_t total = build_log(5, 1, NULL);
    /* a placeholder-SM snapshot at (1,3): digest arbitrary, last_applied (1,3) */
    uint8_t sm[SM_OPAQUE_SNAPSHOT_BYTES] = {'Z', 'S', 'M', 'O'};
    uint64_t last = zxid_make(1, 3);
    for (int i = 0; i < 8; i++)
        sm[12 + i] = (uint8_t)(last >> (8 * i));
    uint8_t snap[64];
    size_t sn = storage_snapshot_encode(snap, sizeof snap, last, sm, sizeof sm);
    struct replica r;
    struct replica_config c = cfg3(0);
    char err[160];
    assert_int_equal(replica_init(&r, &c, err, sizeof err), 0);
    struct replica_durable d = {img, total, snap, sn, 1, 1, 1, 1};
    assert_int_equal(replica_start(&r, 0, &d, err, sizeof err), 0);
    assert_int_equal(replica_log_count(&r), 2);
    assert_int_equal(replica_log_entry(&r, 0)->zxid, zxid_make(1, 4));
    assert_int_equal(r.zxid_applied, last);
    assert_int_equal(r.log_base_zxid, last);
    replica_free(&r);
}

static int start_rc(const struct replica_durable *d, uint32_t bugs, char *err, size_t n,
                    struct replica *out)
{
    struct replica_config c = cfg3(bugs);
    assert_int_equal(replica_init(out, &c, err, n), 0);
    return replica_start(out, 0, d, err, n);
}

static void epoch_file_checks(void **state)
{
    (void)state;
    size_t total = build_log(3, 2, NULL);       /* last zxid (2,3) */
    char err[160];
    struct replica r;
    /* acceptedEpoch < currentEpoch: refuse */
    struct replica_durable bad = {img, total, NULL, 0, 1, 2, 1, 3};
    assert_int_equal(start_rc(&bad, 0, err, sizeof err, &r), REP_ERR_EPOCH);
    assert_non_null(strstr(err, "acceptedEpoch"));
    replica_free(&r);
    /* missing files default to the last zxid's epoch */
    struct replica_durable none = {img, total, NULL, 0, 0, 0, 0, 0};
    assert_int_equal(start_rc(&none, 0, err, sizeof err, &r), 0);
    assert_int_equal(r.accepted_epoch, 2);
    assert_int_equal(r.current_epoch, 2);
    replica_free(&r);
    /* log ahead of currentEpoch (crash between NEWLEADER fsync and epoch write):
     * finish the write; the 1653 bug refuses to start instead */
    struct replica_durable ahead = {img, total, NULL, 0, 1, 2, 1, 1};
    assert_int_equal(start_rc(&ahead, 0, err, sizeof err, &r), 0);
    const struct rep_action *w = find_action(replica_output(&r), REP_ACT_EPOCH_WRITE);
    assert_non_null(w);
    assert_int_equal(w->which, REP_EPOCH_CURRENT);
    assert_int_equal(w->value, 2);
    assert_int_equal(r.current_epoch, 1);               /* file first, memory after */
    replica_on_disk_done(&r, 1, w->op_id);
    assert_int_equal(r.current_epoch, 2);
    replica_free(&r);
    assert_int_equal(start_rc(&ahead, ZAB_BUG_BIT(ZAB_BUG_EPOCH_FILE_1653), err, sizeof err, &r),
                     REP_ERR_EPOCH);
    assert_non_null(strstr(err, "older than the last zxid"));
    replica_free(&r);
    /* the log ahead of even acceptedEpoch cannot be explained: refuse */
    struct replica_durable worse = {img, total, NULL, 0, 1, 1, 1, 1};
    assert_int_equal(start_rc(&worse, 0, err, sizeof err, &r), REP_ERR_EPOCH);
    replica_free(&r);
}

static void corrupt_inputs_refused(void **state)
{
    (void)state;
    size_t ends[4];
    size_t total = build_log(4, 1, ends);
    img[ends[1] + 3] ^= 0x10;                     /* header of record 3: bad magic mid-log */
    char err[160];
    struct replica r;
    struct replica_durable d = {img, total, NULL, 0, 1, 1, 1, 1};
    assert_int_equal(start_rc(&d, 0, err, sizeof err, &r), REP_ERR_CORRUPT);
    assert_non_null(strstr(err, "log:"));
    replica_free(&r);
    uint8_t junk[40];
    memset(junk, 7, sizeof junk);
    struct replica_durable s = {NULL, 0, junk, sizeof junk, 0, 0, 0, 0};
    assert_int_equal(start_rc(&s, 0, err, sizeof err, &r), REP_ERR_CORRUPT);
    assert_non_null(strstr(err, "snapshot"));
    replica_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(torn_tail_at_every_offset),
        cmocka_unit_test(garbage_tail_is_torn),
        cmocka_unit_test(damage_in_the_middle_is_an_error),
        cmocka_unit_test(zxids_must_increase),
        cmocka_unit_test(huge_length_rejected),
        cmocka_unit_test(snapshot_envelope),
        cmocka_unit_test(start_cuts_torn_tail),
        cmocka_unit_test(start_with_snapshot_skips_covered_records),
        cmocka_unit_test(epoch_file_checks),
        cmocka_unit_test(corrupt_inputs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
