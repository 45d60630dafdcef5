/* Simulated disk: what survives a crash (fsynced data always; the unsynced
 * tail kept, dropped or torn as told), recovery cutting a torn record by its
 * checksum, truncation durability, atomic epoch and snapshot stores, the
 * serial device's timing, and slow/full faults. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/crc32c.h"
#include "sim/disk.h"

#define MS SIM_NS_PER_MS
enum { EV_DISK = 7, DONE_MAX = 256 };

struct harness {
    struct sim_sched sched;
    struct sim_rng rng, faults;
    struct sim_disk disk;
    struct disk_completion done[DONE_MAX];
    sim_time_ns done_t[DONE_MAX];
    size_t ndone, nstale;
};

static struct harness *h_new(uint64_t seed, size_t log_max)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(sim_sched_init(&h->sched, 1024), 0);
    assert_int_equal(sim_rng_open(&h->rng, seed, "disk", 0), 0);
    assert_int_equal(sim_rng_open(&h->faults, seed, "faults", 0), 0);
    struct disk_config cfg = {
        .node = 2, .ev_done = EV_DISK,
        .write_latency = net_latency_constant(1 * MS),
        .fsync_latency = net_latency_constant(5 * MS),
        .epoch_latency = net_latency_constant(3 * MS),
        .snapshot_latency = net_latency_constant(20 * MS),
        .log_bytes_max = log_max, .queued_bytes_max = 1 << 16, .ops_max = 64,
    };
    char err[200];
    assert_int_equal(disk_init(&h->disk, &cfg, &h->sched, &h->rng, err, sizeof err), 0);
    return h;
}

static void h_free(struct harness *h)
{
    disk_free(&h->disk);
    sim_rng_close(&h->rng);
    sim_rng_close(&h->faults);
    sim_sched_free(&h->sched);
    free(h);
}

static void h_run(struct harness *h, sim_time_ns until)
{
    struct sim_event ev;
    while (sim_sched_peek_time(&h->sched) <= until && sim_sched_pop(&h->sched, &ev)) {
        assert_int_equal(ev.kind, EV_DISK);
        assert_int_equal(ev.node, 2);
        struct disk_completion c;
        if (!disk_complete(&h->disk, &ev, &c)) {
            h->nstale++;
            continue;
        }
        assert_true(h->ndone < DONE_MAX);
        h->done_t[h->ndone] = ev.time;
        h->done[h->ndone++] = c;
        assert_int_equal(c.op_id, ev.a);
    }
}

static void h_drain(struct harness *h) { h_run(h, SIM_TIME_NEVER - 1); }

static void append_str(struct harness *h, const char *s, uint64_t op)
{
    assert_int_equal(disk_append(&h->disk, h->sched.now, s, strlen(s), op), DISK_OK);
}

static void assert_durable(const struct harness *h, const char *want)
{
    const uint8_t *b;
    size_t len;
    disk_durable_log(&h->disk, &b, &len);
    assert_int_equal(len, strlen(want));
    if (len)
        assert_memory_equal(b, want, len);
}

static void assert_log(const struct harness *h, const char *want)
{
    const uint8_t *b;
    size_t len;
    disk_log(&h->disk, &b, &len);
    assert_int_equal(len, strlen(want));
    if (len)
        assert_memory_equal(b, want, len);
}

/* ---- crash modes ---- */

static void crash_keeps_fsynced_drops_unsynced(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    append_str(h, "AAAA", 1);
    assert_int_equal(disk_fsync(&h->disk, h->sched.now, 2), DISK_OK);
    h_drain(h);
    append_str(h, "BBBB", 3);
    h_drain(h);
    append_str(h, "CCCC", 4); /* still queued at the crash */
    assert_log(h, "AAAABBBB");
    assert_durable(h, "AAAA");
    assert_int_equal(disk_unsynced_bytes(&h->disk), 4);
    assert_int_equal(disk_crash(&h->disk, DISK_CRASH_DROP, &h->faults), 0);
    assert_durable(h, "AAAA");
    assert_log(h, "AAAA");
    h_drain(h);
    assert_int_equal(h->nstale, 1); /* CCCC's completion belongs to the dead */
    assert_int_equal(disk_queued_ops(&h->disk), 0);
    h_free(h);
}

static void crash_keep_mode_keeps_the_cache(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    append_str(h, "AAAA", 1);
    assert_int_equal(disk_fsync(&h->disk, h->sched.now, 2), DISK_OK);
    append_str(h, "BBBB", 3);
    h_drain(h);
    append_str(h, "CCCC", 4);
    assert_int_equal(disk_crash(&h->disk, DISK_CRASH_KEEP, &h->faults), 4);
    assert_durable(h, "AAAABBBB"); /* CCCC never left the queue */
    assert_log(h, "AAAABBBB");
    assert_int_equal(disk_unsynced_bytes(&h->disk), 0);
    h_free(h);
}

/* Torn: a prefix of the unsynced tail survives, its last bytes possibly
 * garbled; the fsynced part is never touched. Over many seeds every shape
 * appears. */
static void crash_tears_the_unsynced_tail(void **state)
{
    (void)state;
    char tail[101];
    for (int i = 0; i < 100; i++)
        tail[i] = (char)('a' + i % 26);
    tail[100] = '\0';
    int empty = 0, partial = 0, garbled = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        struct harness *h = h_new(seed, 1 << 20);
        append_str(h, "SYNCED", 1);
        assert_int_equal(disk_fsync(&h->disk, 0, 2), DISK_OK);
        append_str(h, tail, 3);
        h_drain(h);
        size_t kept = disk_crash(&h->disk, DISK_CRASH_TORN, &h->faults);
        const uint8_t *b;
        size_t len;
        disk_durable_log(&h->disk, &b, &len);
        assert_int_equal(len, 6 + kept);
        assert_memory_equal(b, "SYNCED", 6);
        size_t diff = 0, first_diff = kept;
        for (size_t i = 0; i < kept; i++)
            if (b[6 + i] != (uint8_t)tail[i]) {
                diff++;
                if (first_diff == kept)
                    first_diff = i;
            }
        /* Garbling touches only the last <= 8 kept bytes. */
        assert_true(diff == 0 || kept - first_diff <= DISK_GARBLE_BYTES_MAX);
        empty += kept == 0;
        partial += kept > 0 && kept < 100;
        garbled += diff > 0;
        h_free(h);
    }
    assert_true(empty > 0);
    assert_true(partial > 200);
    assert_true(garbled > 100);
}

/* TORN_LAST: every unsynced write but the last survives whole. */
static void torn_last_tears_only_the_last_write(void **state)
{
    (void)state;
    int partial = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        struct harness *h = h_new(seed, 1 << 20);
        append_str(h, "SYNCED", 1);
        assert_int_equal(disk_fsync(&h->disk, 0, 2), DISK_OK);
        append_str(h, "kept-whole", 3);
        append_str(h, "0123456789abcdef", 4);
        h_drain(h);
        size_t kept = disk_crash(&h->disk, DISK_CRASH_TORN_LAST, &h->faults);
        const uint8_t *b;
        size_t len;
        disk_durable_log(&h->disk, &b, &len);
        assert_true(kept >= 10 && kept <= 26);
        assert_int_equal(len, 6 + kept);
        assert_memory_equal(b, "SYNCEDkept-whole", 16);
        partial += kept > 10 && kept < 26;
        h_free(h);
    }
    assert_true(partial > 100);
}

/* ---- recovery by checksum (a test-only framing: len, crc32c, payload) ---- */

static size_t frame(uint8_t *out, const char *payload)
{
    uint32_t len = (uint32_t)strlen(payload), crc = crc32c(payload, len);
    memcpy(out, &len, 4);
    memcpy(out + 4, &crc, 4);
    memcpy(out + 8, payload, len);
    return 8 + len;
}

/* Returns the number of intact records and the offset where they end. */
static size_t recover(const uint8_t *b, size_t len, size_t *valid_end)
{
    size_t off = 0, n = 0;
    while (off + 8 <= len) {
        uint32_t rlen, crc;
        memcpy(&rlen, b + off, 4);
        memcpy(&crc, b + off + 4, 4);
        if (rlen > len - off - 8 || crc32c(b + off + 8, rlen) != crc)
            break;
        off += 8 + rlen;
        n++;
    }
    *valid_end = off;
    return n;
}

static void recovery_cuts_a_torn_record(void **state)
{
    (void)state;
    static const char *payloads[] = {"zxid=1 create /a", "zxid=2 set /a x", "zxid=3 delete /b",
                                     "zxid=4 create /c with a longer body", "zxid=5 set /c y"};
    int cut_partial = 0, cut_garbled = 0, all_five = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        struct harness *h = h_new(seed, 1 << 20);
        uint8_t rec[128];
        for (int i = 0; i < 5; i++) {
            size_t n = frame(rec, payloads[i]);
            assert_int_equal(disk_append(&h->disk, h->sched.now, rec, n, (uint64_t)i), DISK_OK);
            if (i == 2)
                assert_int_equal(disk_fsync(&h->disk, h->sched.now, 100), DISK_OK);
        }
        h_drain(h);
        size_t kept = disk_crash(&h->disk, DISK_CRASH_TORN, &h->faults);
        const uint8_t *b;
        size_t len, end;
        disk_durable_log(&h->disk, &b, &len);
        size_t n = recover(b, len, &end);
        assert_true(n >= 3); /* fsynced records always come back */
        assert_true(n <= 5);
        size_t off = 0;
        for (size_t i = 0; i < n; i++) { /* and they are the records written */
            size_t want = frame(rec, payloads[i]);
            assert_memory_equal(b + off, rec, want);
            off += want;
        }
        all_five += n == 5;
        if (end < len) {
            /* The cut: either a partial record or a garbled one; the bytes
             * after `end` fail the check, so truncating there is safe. */
            uint32_t rlen;
            if (len - end >= 4)
                memcpy(&rlen, b + end, 4);
            if (len - end < 8 || rlen > len - end - 8) {
                cut_partial++;
            } else {
                /* A whole-looking record that fails its checksum really
                 * differs from the one written: no false alarm. */
                size_t want = frame(rec, payloads[n]);
                assert_true(len - end != want || memcmp(b + end, rec, want) != 0);
                cut_garbled++;
            }
        }
        (void)kept;
        h_free(h);
    }
    assert_true(cut_partial > 500);
    assert_true(cut_garbled > 10);
    assert_true(all_five > 0);
}

/* ---- truncate ---- */

static void truncate_is_durable_after_fsync(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    append_str(h, "0123456789", 1);
    assert_int_equal(disk_fsync(&h->disk, 0, 2), DISK_OK);
    assert_int_equal(disk_truncate(&h->disk, 0, 4, 3), DISK_OK);
    append_str(h, "xy", 4);
    h_drain(h);
    assert_log(h, "0123xy");
    assert_durable(h, "0123456789");
    /* Crash before the fsync: the cut never happened. */
    assert_int_equal(disk_crash(&h->disk, DISK_CRASH_DROP, &h->faults), 0);
    assert_log(h, "0123456789");

    assert_int_equal(disk_truncate(&h->disk, h->sched.now, 4, 5), DISK_OK);
    append_str(h, "xy", 6);
    assert_int_equal(disk_fsync(&h->disk, h->sched.now, 7), DISK_OK);
    h_drain(h);
    assert_durable(h, "0123xy");
    assert_int_equal(disk_crash(&h->disk, DISK_CRASH_DROP, &h->faults), 0);
    assert_log(h, "0123xy");
    /* Truncating beyond the end changes nothing. */
    assert_int_equal(disk_truncate(&h->disk, h->sched.now, 100, 8), DISK_OK);
    h_drain(h);
    assert_log(h, "0123xy");
    h_free(h);
}

/* A torn crash with an unsynced cut: the durable prefix below the cut
 * survives, and what is above is a prefix of the new content. */
static void torn_crash_after_unsynced_truncate(void **state)
{
    (void)state;
    for (uint64_t seed = 0; seed < 50; seed++) {
        struct harness *h = h_new(seed, 1 << 20);
        append_str(h, "0123456789", 1);
        assert_int_equal(disk_fsync(&h->disk, 0, 2), DISK_OK);
        assert_int_equal(disk_truncate(&h->disk, 0, 4, 3), DISK_OK);
        append_str(h, "xyzw", 4);
        h_drain(h);
        size_t kept = disk_crash(&h->disk, DISK_CRASH_TORN, &h->faults);
        const uint8_t *b;
        size_t len;
        disk_durable_log(&h->disk, &b, &len);
        assert_int_equal(len, 4 + kept);
        assert_memory_equal(b, "0123", 4);
        h_free(h);
    }
}

/* ---- serial device timing ---- */

static void operations_complete_in_order_and_fsync_covers_prior_appends(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    append_str(h, "ab", 1);
    append_str(h, "cd", 2);
    assert_int_equal(disk_fsync(&h->disk, 0, 3), DISK_OK);
    append_str(h, "ef", 4);
    h_drain(h);
    assert_int_equal(h->ndone, 4);
    const sim_time_ns want_t[] = {1 * MS, 2 * MS, 7 * MS, 8 * MS};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(h->done[i].op_id, i + 1);
        assert_int_equal(h->done_t[i], want_t[i]);
        assert_int_equal(h->done[i].status, DISK_OK);
    }
    assert_int_equal(h->done[2].kind, DISK_OP_FSYNC);
    assert_durable(h, "abcd");
    assert_log(h, "abcdef");
    h_free(h);
}

static void slow_disk_multiplies_latency_for_a_period(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    disk_slow(&h->disk, 10.0, 50 * MS);
    append_str(h, "a", 1);
    h_drain(h);
    assert_int_equal(h->done_t[0], 10 * MS);
    h_run(h, 60 * MS);
    assert_int_equal(disk_append(&h->disk, 60 * MS, "b", 1, 2), DISK_OK);
    h_drain(h);
    assert_int_equal(h->done_t[1], 61 * MS);
    h_free(h);
}

static void full_disk_fails_writes_not_syncs(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 16);
    append_str(h, "12345678", 1);
    assert_int_equal(disk_write_epoch(&h->disk, 0, "currentEpoch", 3, 2), DISK_OK);
    h_drain(h);
    disk_set_full(&h->disk, true);
    append_str(h, "more", 3);
    assert_int_equal(disk_write_epoch(&h->disk, h->sched.now, "currentEpoch", 4, 4), DISK_OK);
    assert_int_equal(disk_write_snapshot(&h->disk, h->sched.now, "snap", 4, 9, 5), DISK_OK);
    assert_int_equal(disk_fsync(&h->disk, h->sched.now, 6), DISK_OK);
    h_drain(h);
    assert_int_equal(h->done[2].status, DISK_ENOSPC);
    assert_int_equal(h->done[3].status, DISK_ENOSPC);
    assert_int_equal(h->done[4].status, DISK_ENOSPC);
    assert_int_equal(h->done[5].status, DISK_OK);
    assert_durable(h, "12345678");
    uint64_t v;
    assert_int_equal(disk_epoch(&h->disk, "currentEpoch", &v), 0);
    assert_int_equal(v, 3); /* the failed write left the old value */
    const uint8_t *sb;
    size_t sl;
    assert_int_equal(disk_snapshot(&h->disk, &sb, &sl, &v), -1);
    /* Space back, but the file limit (16 bytes) still applies. */
    disk_set_full(&h->disk, false);
    append_str(h, "12345678", 7);
    append_str(h, "9", 8);
    h_drain(h);
    assert_int_equal(h->done[6].status, DISK_OK);
    assert_int_equal(h->done[7].status, DISK_ENOSPC);
    assert_int_equal(h->disk.stats.enospc, 4);
    h_free(h);
}

/* ---- epoch and snapshot stores ---- */

static void epoch_store_is_atomic(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    uint64_t v;
    assert_int_equal(disk_epoch(&h->disk, "acceptedEpoch", &v), -1);
    assert_int_equal(disk_write_epoch(&h->disk, 0, "acceptedEpoch", 5, 1), DISK_OK);
    h_run(h, 2 * MS);
    assert_int_equal(disk_epoch(&h->disk, "acceptedEpoch", &v), -1); /* not before completion */
    h_drain(h);
    assert_int_equal(disk_epoch(&h->disk, "acceptedEpoch", &v), 0);
    assert_int_equal(v, 5);
    /* Crash mid-write, dropping unsynced data: old value, no tmp. */
    assert_int_equal(disk_write_epoch(&h->disk, h->sched.now, "acceptedEpoch", 6, 2), DISK_OK);
    disk_crash(&h->disk, DISK_CRASH_DROP, &h->faults);
    assert_int_equal(disk_epoch(&h->disk, "acceptedEpoch", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(disk_epoch_tmp(&h->disk, "acceptedEpoch", &v), -1);
    /* Crash mid-write, keeping: old value plus the tmp file. */
    assert_int_equal(disk_write_epoch(&h->disk, h->sched.now, "acceptedEpoch", 7, 3), DISK_OK);
    disk_crash(&h->disk, DISK_CRASH_KEEP, &h->faults);
    assert_int_equal(disk_epoch(&h->disk, "acceptedEpoch", &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(disk_epoch_tmp(&h->disk, "acceptedEpoch", &v), 0);
    assert_int_equal(v, 7);
    /* A completed write replaces both. */
    assert_int_equal(disk_write_epoch(&h->disk, h->sched.now, "acceptedEpoch", 8, 4), DISK_OK);
    h_drain(h);
    assert_int_equal(disk_epoch(&h->disk, "acceptedEpoch", &v), 0);
    assert_int_equal(v, 8);
    assert_int_equal(disk_epoch_tmp(&h->disk, "acceptedEpoch", &v), -1);
    /* Names are independent and bounded. */
    assert_int_equal(disk_epoch(&h->disk, "currentEpoch", &v), -1);
    assert_int_equal(disk_write_epoch(&h->disk, h->sched.now, "", 1, 5), DISK_ERR_ARG);
    char name[16];
    int ok = 0;
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "e%d", i);
        ok += disk_write_epoch(&h->disk, h->sched.now, name, 1, 6) == DISK_OK;
    }
    assert_int_equal(ok, DISK_EPOCH_NAMES_MAX - 1);
    h_free(h);
}

static void snapshot_store_is_atomic(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    const uint8_t *b;
    size_t len;
    uint64_t zxid;
    assert_int_equal(disk_write_snapshot(&h->disk, 0, "first", 5, 0x100000005ull, 1), DISK_OK);
    h_drain(h);
    assert_int_equal(disk_snapshot(&h->disk, &b, &len, &zxid), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(b, "first", 5);
    assert_int_equal(zxid, 0x100000005ull);
    assert_int_equal(disk_write_snapshot(&h->disk, h->sched.now, "second!", 7, 0x200000001ull, 2), DISK_OK);
    h_run(h, h->sched.now + 19 * MS);
    disk_crash(&h->disk, DISK_CRASH_KEEP, &h->faults);
    h_drain(h);
    assert_int_equal(disk_snapshot(&h->disk, &b, &len, &zxid), 0);
    assert_memory_equal(b, "first", 5);
    assert_int_equal(zxid, 0x100000005ull);
    assert_int_equal(disk_write_snapshot(&h->disk, h->sched.now, "second!", 7, 0x200000001ull, 3), DISK_OK);
    h_drain(h);
    assert_int_equal(disk_snapshot(&h->disk, &b, &len, &zxid), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(b, "second!", 7);
    h_free(h);
}

static void queue_bounds_are_errors(void **state)
{
    (void)state;
    struct harness *h = h_new(1, 1 << 20);
    enum disk_status st = DISK_OK;
    int n = 0;
    while (st == DISK_OK && n < 1000) {
        st = disk_fsync(&h->disk, 0, (uint64_t)n);
        n += st == DISK_OK;
    }
    assert_int_equal(st, DISK_ERR_QUEUE);
    assert_int_equal(n, 64);
    assert_non_null(strstr(h->disk.err, "ops_max"));
    h_drain(h);
    static uint8_t big[1 << 16];
    assert_int_equal(disk_append(&h->disk, h->sched.now, big, sizeof big, 1), DISK_OK);
    assert_int_equal(disk_append(&h->disk, h->sched.now, big, 1, 2), DISK_ERR_QUEUE);
    h_drain(h);
    /* Queued bytes are reused after completion. */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(disk_append(&h->disk, h->sched.now, big, sizeof big / 2, 3), DISK_OK);
        assert_int_equal(disk_append(&h->disk, h->sched.now, big, sizeof big / 2, 4), DISK_OK);
        h_drain(h);
    }
    assert_int_equal(h->disk.stats.bytes_appended, 11 * sizeof big);
    h_free(h);
}

/* ---- randomized against a reference model ---- */

enum { MODEL_MAX = 1 << 16, OPS_TRACKED = 1 << 16 };

struct model_op {
    enum disk_op_kind kind;
    uint64_t arg;
    uint8_t data[64];
    size_t len;
};

struct model {
    uint8_t cache[MODEL_MAX], durable[MODEL_MAX];
    size_t cache_len, durable_len, base; /* base: start of the unsynced tail */
    struct model_op ops[OPS_TRACKED];
};

static void model_complete(struct model *m, const struct disk_completion *c)
{
    const struct model_op *op = &m->ops[c->op_id % OPS_TRACKED];
    assert_int_equal(op->kind, c->kind);
    if (c->kind == DISK_OP_APPEND && c->status == DISK_OK) {
        memcpy(m->cache + m->cache_len, op->data, op->len);
        m->cache_len += op->len;
    } else if (c->kind == DISK_OP_FSYNC) {
        memcpy(m->durable, m->cache, m->cache_len);
        m->durable_len = m->base = m->cache_len;
    } else if (c->kind == DISK_OP_TRUNCATE && op->arg < m->cache_len) {
        m->cache_len = op->arg;
        if (m->base > m->cache_len)
            m->base = m->cache_len;
    }
}

/* Checks a torn crash's result against the model, then adopts it. */
static void model_check_torn(struct model *m, const uint8_t *b, size_t len)
{
    assert_true(len >= m->base);
    assert_true(len <= m->cache_len);
    if (m->base)
        assert_memory_equal(b, m->durable, m->base);
    size_t exact = len > m->base + DISK_GARBLE_BYTES_MAX ? len - DISK_GARBLE_BYTES_MAX : m->base;
    if (exact > m->base)
        assert_memory_equal(b + m->base, m->cache + m->base, exact - m->base);
    memcpy(m->durable, b, len);
    memcpy(m->cache, b, len);
    m->durable_len = m->cache_len = m->base = len;
}

static void model_crash(struct model *m, struct harness *h, enum disk_crash_mode mode)
{
    disk_crash(&h->disk, mode, &h->faults);
    const uint8_t *b;
    size_t len;
    disk_durable_log(&h->disk, &b, &len);
    if (mode == DISK_CRASH_TORN || mode == DISK_CRASH_TORN_LAST) {
        model_check_torn(m, b, len);
        return;
    }
    if (mode == DISK_CRASH_KEEP) {
        memcpy(m->durable, m->cache, m->cache_len);
        m->durable_len = m->cache_len;
    } else {
        memcpy(m->cache, m->durable, m->durable_len);
        m->cache_len = m->durable_len;
    }
    m->base = m->durable_len;
    assert_int_equal(len, m->durable_len);
    if (len)
        assert_memory_equal(b, m->durable, len);
}

static void issue_random(struct model *m, struct harness *h, struct sim_rng *r, uint64_t id)
{
    struct model_op *op = &m->ops[id % OPS_TRACKED];
    uint64_t x = sim_rng_below(r, 10);
    if (x < 6) {
        op->kind = DISK_OP_APPEND;
        op->len = 1 + sim_rng_below(r, sizeof op->data);
        for (size_t i = 0; i < op->len; i++)
            op->data[i] = (uint8_t)sim_rng_below(r, 256);
        assert_int_equal(disk_append(&h->disk, h->sched.now, op->data, op->len, id), DISK_OK);
    } else if (x < 8) {
        op->kind = DISK_OP_FSYNC;
        assert_int_equal(disk_fsync(&h->disk, h->sched.now, id), DISK_OK);
    } else {
        op->kind = DISK_OP_TRUNCATE;
        op->arg = sim_rng_below(r, m->cache_len + 64);
        assert_int_equal(disk_truncate(&h->disk, h->sched.now, op->arg, id), DISK_OK);
    }
}

static void random_ops_match_reference_model(void **state)
{
    (void)state;
    struct model *m = calloc(1, sizeof *m);
    struct harness *h = h_new(3, MODEL_MAX);
    assert_non_null(m);
    struct sim_rng r;
    assert_int_equal(sim_rng_open(&r, 3, "ops", 0), 0);
    int crashes = 0;
    for (uint64_t step = 1; step < 20000; step++) {
        uint64_t x = sim_rng_below(&r, 100);
        if (x < 45 && m->cache_len < MODEL_MAX - 4096 && disk_queued_ops(&h->disk) < 60) {
            issue_random(m, h, &r, step);
        } else if (x < 47) {
            model_crash(m, h, (enum disk_crash_mode)sim_rng_below(&r, 4));
            crashes++;
        } else {
            struct sim_event ev;
            struct disk_completion c;
            if (sim_sched_pop(&h->sched, &ev) && disk_complete(&h->disk, &ev, &c))
                model_complete(m, &c);
        }
        const uint8_t *b;
        size_t len;
        disk_log(&h->disk, &b, &len);
        assert_int_equal(len, m->cache_len);
        if (len)
            assert_memory_equal(b, m->cache, len);
        assert_int_equal(disk_unsynced_bytes(&h->disk), m->cache_len - m->base);
    }
    assert_true(crashes > 100);
    sim_rng_close(&r);
    h_free(h);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_keeps_fsynced_drops_unsynced),
        cmocka_unit_test(crash_keep_mode_keeps_the_cache),
        cmocka_unit_test(crash_tears_the_unsynced_tail),
        cmocka_unit_test(torn_last_tears_only_the_last_write),
        cmocka_unit_test(recovery_cuts_a_torn_record),
        cmocka_unit_test(truncate_is_durable_after_fsync),
        cmocka_unit_test(torn_crash_after_unsynced_truncate),
        cmocka_unit_test(operations_complete_in_order_and_fsync_covers_prior_appends),
        cmocka_unit_test(slow_disk_multiplies_latency_for_a_period),
        cmocka_unit_test(full_disk_fails_writes_not_syncs),
        cmocka_unit_test(epoch_store_is_atomic),
        cmocka_unit_test(snapshot_store_is_atomic),
        cmocka_unit_test(queue_bounds_are_errors),
        cmocka_unit_test(random_ops_match_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
