/* server/files: disk actions on real files. Group commit (several LOG_FSYNC
 * actions, one fdatasync, completions in issue order), append/truncate
 * contents, atomic epoch and snapshot files read back by files_load, strict
 * epoch parsing, and the bound on pending completions. The module is
 * compiled in (tests link the library only, which holds no server/ code). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>

#include "core/log_record.h"
#include "server/files.h"
#include "tests/zabd/harness.h"

static char dir[256];
static struct files f;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/zabd-files.XXXXXX");
    char err[256];
    if (!mkdtemp(dir) || files_open(&f, dir, dir, err, sizeof err) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    files_close(&f);
    nftw(dir, zh_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static struct rep_action act(uint8_t kind, uint64_t op_id, uint64_t value, const char *bytes)
{
    struct rep_action a;
    memset(&a, 0, sizeof a);
    a.kind = kind;
    a.op_id = op_id;
    a.value = value;
    a.bytes = (const uint8_t *)bytes;
    a.len = bytes ? strlen(bytes) : 0;
    return a;
}

static void exec_ok(struct rep_action a)
{
    char err[256];
    assert_int_equal(files_execute(&f, &a, err, sizeof err), 0);
}

static void group_commit_one_fdatasync_completions_in_order(void **state)
{
    (void)state;
    exec_ok(act(REP_ACT_LOG_APPEND, 1, 0, "aaaa"));
    exec_ok(act(REP_ACT_LOG_FSYNC, 2, 4, NULL));
    exec_ok(act(REP_ACT_LOG_APPEND, 3, 0, "bbbbbb"));
    exec_ok(act(REP_ACT_LOG_FSYNC, 4, 10, NULL));
    exec_ok(act(REP_ACT_LOG_TRUNCATE, 5, 7, NULL));
    exec_ok(act(REP_ACT_LOG_FSYNC, 6, 7, NULL));
    assert_int_equal(f.n_pending, 6);
    assert_int_equal(f.fdatasyncs, 0);   /* nothing synced before files_sync */
    uint64_t done[16];
    char err[256];
    assert_int_equal(files_sync_wait(&f, done, 16, err, sizeof err), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(done[i], (uint64_t)i + 1);
    assert_int_equal(f.fdatasyncs, 1);
    assert_int_equal(f.fsync_actions, 3);
    assert_int_equal(f.n_pending, 0);
    /* Appends after the truncate land at the new end (O_APPEND). */
    exec_ok(act(REP_ACT_LOG_APPEND, 7, 0, "c"));
    assert_int_equal(files_sync_wait(&f, done, 16, err, sizeof err), 1);
    assert_int_equal(f.fdatasyncs, 1);  /* no LOG_FSYNC pending: no fdatasync */
    char text[64];
    assert_int_equal(zh_read_file(f.log.path, text, sizeof text), 8);
    assert_string_equal(text, "aaaabbbc");
    /* A small cap hands out the oldest first and keeps the rest. */
    exec_ok(act(REP_ACT_LOG_FSYNC, 8, 8, NULL));
    exec_ok(act(REP_ACT_LOG_FSYNC, 9, 8, NULL));
    assert_int_equal(files_sync_wait(&f, done, 1, err, sizeof err), 1);
    assert_int_equal(done[0], 8);
    assert_int_equal(files_sync_wait(&f, done, 1, err, sizeof err), 1);
    assert_int_equal(done[0], 9);
}

/* files_sync never waits for the device: it hands a batch to the writer and
 * returns; an op that needs no wait, queued behind a running batch, still
 * completes after it; the eventfd says when a batch is done. */
static void writer_batches_keep_issue_order(void **state)
{
    (void)state;
    uint64_t done[8];
    char err[256];
    exec_ok(act(REP_ACT_LOG_APPEND, 1, 0, "xy"));
    exec_ok(act(REP_ACT_LOG_FSYNC, 2, 2, NULL));
    assert_int_equal(files_sync(&f, done, 8, err, sizeof err), 0);   /* handed over */
    exec_ok(act(REP_ACT_LOG_APPEND, 3, 0, "z"));
    struct pollfd p = {.fd = files_event_fd(&f), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    files_drain_event(&f);
    assert_int_equal(files_sync_wait(&f, done, 8, err, sizeof err), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(done[i], (uint64_t)i + 1);
    assert_int_equal(f.fdatasyncs, 1);
    assert_int_equal(f.n_pending, 0);
    /* A snapshot ends a batch: the fsync behind it waits for the next one. */
    exec_ok(act(REP_ACT_SNAPSHOT_WRITE, 4, 9, "snap"));
    exec_ok(act(REP_ACT_LOG_FSYNC, 5, 3, NULL));
    assert_int_equal(files_sync_wait(&f, done, 8, err, sizeof err), 1);
    assert_int_equal(done[0], 4);
    assert_int_equal(files_sync_wait(&f, done, 8, err, sizeof err), 1);
    assert_int_equal(done[0], 5);
    assert_int_equal(f.fdatasyncs, 2);
}

static void append_record(uint64_t op, uint64_t zxid, uint8_t *rec, size_t *len)
{
    char payload[16];
    int n = snprintf(payload, sizeof payload, "t%llu", (unsigned long long)zxid);
    *len = log_record_encode(rec, 64, zxid, 1, (const uint8_t *)payload, (uint32_t)n);
    struct rep_action a = act(REP_ACT_LOG_APPEND, op, zxid, NULL);
    a.bytes = rec, a.len = *len;
    exec_ok(a);
}

static int seg_exists(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/version-2/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* The log is one byte stream over segment files: a durable snapshot rolls it
 * and deletes what it covers; a truncation reaching back into an older
 * segment deletes the later ones; a restart reads the segments in numeric
 * order as one log. */
static void log_segments_roll_drop_truncate_reload(void **state)
{
    (void)state;
    uint8_t rec[10][64];
    size_t len[10], total = 0;
    uint64_t done[16];
    char err[256];
    for (int i = 0; i < 3; i++)
        append_record((uint64_t)i + 1, 0x100000001ull + (uint64_t)i, rec[i], &len[i]), total += len[i];
    exec_ok(act(REP_ACT_LOG_FSYNC, 4, total, NULL));
    assert_int_equal(files_sync_wait(&f, done, 16, err, sizeof err), 4);
    files_note_snapshot(&f, 0x100000002ull);   /* covers two of the three records */
    append_record(5, 0x100000004ull, rec[3], &len[3]), total += len[3];
    exec_ok(act(REP_ACT_LOG_FSYNC, 6, total, NULL));
    assert_int_equal(files_sync_wait(&f, done, 16, err, sizeof err), 2);
    /* Rolled once, after the buffered append reached segment 0, which holds
     * records above the snapshot: kept. */
    assert_int_equal(f.log.n, 2);
    assert_true(seg_exists("zablab.log") && seg_exists("zablab.log.1"));
    assert_int_equal(f.log.s[1].start, len[0] + len[1] + len[2] + len[3]);
    assert_int_equal(f.log.s[1].size, 0);
    files_note_snapshot(&f, 0x100000004ull);
    append_record(7, 0x100000005ull, rec[4], &len[4]), total += len[4];
    assert_int_equal(files_sync_wait(&f, done, 16, err, sizeof err), 1);
    assert_false(seg_exists("zablab.log"));           /* covered: deleted */
    assert_true(seg_exists("zablab.log.1") && seg_exists("zablab.log.2"));
    assert_int_equal(f.log.s[0].size, len[4]);
    /* Truncate back into segment 1, before its one record: segment 2 goes. */
    exec_ok(act(REP_ACT_LOG_TRUNCATE, 8, f.log.s[0].start, NULL));
    assert_false(seg_exists("zablab.log.2"));
    assert_int_equal(f.log.n, 1);
    assert_int_equal(f.log.s[0].size, 0);
    append_record(9, 0x200000001ull, rec[5], &len[5]);
    assert_int_equal(files_sync_wait(&f, done, 16, err, sizeof err), 2);
    /* A restart sees segment 1 alone, as one log from offset 0. */
    files_close(&f);
    assert_int_equal(files_open(&f, dir, dir, err, sizeof err), 0);
    struct files_durable d;
    assert_int_equal(files_load(&f, &d, err, sizeof err), 0);
    assert_int_equal(d.d.log_len, len[5]);
    assert_memory_equal(d.d.log, rec[5], len[5]);
    assert_int_equal(f.log.s[0].seq, 1);
    assert_true(f.log.s[0].max_zxid == 0x200000001ull);
    files_durable_free(&d);
}

/* Segments are ordered by number, not by name: .10 comes after .9. */
static void log_segments_numeric_order(void **state)
{
    (void)state;
    char path[1200], err[256];
    files_close(&f);
    uint8_t rec[3][64];
    size_t len[3];
    const char *names[] = {"zablab.log.9", "zablab.log.10", "zablab.log.11"};
    snprintf(path, sizeof path, "%s/version-2/zablab.log", dir);
    unlink(path);
    for (int i = 0; i < 3; i++) {
        len[i] = log_record_encode(rec[i], 64, 0x100000001ull + (uint64_t)i, 1, (const uint8_t *)"x", 1);
        snprintf(path, sizeof path, "%s/version-2/%s", dir, names[i]);
        assert_int_equal(zh_write_file(path, rec[i], len[i]), 0);
    }
    snprintf(path, sizeof path, "%s/version-2/zablab.log.x1", dir);   /* not a segment */
    assert_int_equal(zh_write_file(path, "junk", 4), 0);
    assert_int_equal(files_open(&f, dir, dir, err, sizeof err), 0);
    struct files_durable d;
    assert_int_equal(files_load(&f, &d, err, sizeof err), 0);
    assert_int_equal(d.d.log_len, len[0] + len[1] + len[2]);
    for (int i = 0, off = 0; i < 3; off += (int)len[i], i++)
        assert_memory_equal(d.d.log + off, rec[i], len[i]);
    assert_int_equal(f.log.n, 3);
    assert_int_equal(f.log.s[2].seq, 11);
    assert_string_equal(strrchr(f.log.path, '/') + 1, "zablab.log.11");
    files_durable_free(&d);
}

/* Appends still gathered in memory when the files close are written. */
static void close_writes_gathered_appends(void **state)
{
    (void)state;
    char err[256];
    exec_ok(act(REP_ACT_LOG_APPEND, 1, 0, "tail"));
    assert_int_equal(f.log.s[0].size, 0);   /* gathered, not yet written */
    files_close(&f);
    assert_int_equal(files_open(&f, dir, dir, err, sizeof err), 0);
    struct files_durable d;
    assert_int_equal(files_load(&f, &d, err, sizeof err), 0);
    assert_int_equal(d.d.log_len, 4);
    assert_memory_equal(d.d.log, "tail", 4);
    files_durable_free(&d);
}

static void epochs_and_snapshot_are_read_back(void **state)
{
    (void)state;
    struct files_durable d;
    char err[256];
    assert_int_equal(files_load(&f, &d, err, sizeof err), 0);
    assert_int_equal(d.d.has_accepted_epoch, 0);
    assert_int_equal(d.d.has_current_epoch, 0);
    assert_int_equal(d.d.log_len, 0);
    assert_null(d.d.snapshot);
    files_durable_free(&d);

    struct rep_action a = act(REP_ACT_EPOCH_WRITE, 1, 7, NULL);
    a.which = REP_EPOCH_ACCEPTED;
    exec_ok(a);
    a = act(REP_ACT_EPOCH_WRITE, 2, 6, NULL);
    a.which = REP_EPOCH_CURRENT;
    exec_ok(a);
    exec_ok(act(REP_ACT_SNAPSHOT_WRITE, 3, 0x700000001ull, "snapshot-bytes"));
    exec_ok(act(REP_ACT_LOG_APPEND, 4, 0, "rec"));
    uint64_t done[8];
    assert_int_equal(files_sync_wait(&f, done, 8, err, sizeof err), 4);   /* snapshot written */
    char path[1200], text[64];
    snprintf(path, sizeof path, "%s/version-2/acceptedEpoch", dir);
    assert_int_equal(zh_read_file(path, text, sizeof text), 2);
    assert_string_equal(text, "7\n");
    snprintf(path, sizeof path, "%s/version-2/acceptedEpoch.%d.tmp", dir, (int)getpid());
    assert_int_equal(access(path, F_OK), -1);   /* renamed, not left behind */

    assert_int_equal(files_load(&f, &d, err, sizeof err), 0);
    assert_int_equal(d.d.has_accepted_epoch, 1);
    assert_int_equal(d.d.accepted_epoch, 7);
    assert_int_equal(d.d.has_current_epoch, 1);
    assert_int_equal(d.d.current_epoch, 6);
    assert_int_equal(d.d.snapshot_len, strlen("snapshot-bytes"));
    assert_memory_equal(d.d.snapshot, "snapshot-bytes", d.d.snapshot_len);
    assert_int_equal(d.d.log_len, 3);
    assert_memory_equal(d.d.log, "rec", 3);
    files_durable_free(&d);

    a = act(REP_ACT_EPOCH_WRITE, 5, 1, NULL);
    a.which = 9;
    assert_int_equal(files_execute(&f, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown file"));
}

static void missing_folders_are_created(void **state)
{
    (void)state;
    char deep[512], log_dir[512], err[256], path[1200];
    snprintf(deep, sizeof deep, "%s/a/b/data", dir);
    snprintf(log_dir, sizeof log_dir, "%s/c/log", dir);
    struct files g;
    assert_int_equal(files_open(&g, deep, log_dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/version-2", deep);
    assert_int_equal(access(path, W_OK), 0);
    snprintf(path, sizeof path, "%s/version-2/zablab.log", log_dir);
    assert_int_equal(access(path, W_OK), 0);
    files_close(&g);
    /* A file where a folder must be: a clean error. */
    snprintf(path, sizeof path, "%s/plain", dir);
    assert_int_equal(zh_write_file(path, "x", 1), 0);
    snprintf(deep, sizeof deep, "%s/plain/data", dir);
    assert_int_equal(files_open(&g, deep, deep, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create folder"));
}

static void malformed_epoch_file_is_an_error(void **state)
{
    (void)state;
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/version-2/currentEpoch", dir);
    assert_int_equal(zh_write_file(path, "3 ", 2), 0);
    struct files_durable d;
    assert_int_equal(files_load(&f, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "currentEpoch:1:1: expected a decimal epoch number"));
    assert_null(d.log_buf);
}

static void epoch_parsing_is_strict(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(files_parse_epoch("12", 2, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(files_parse_epoch("0\n", 2, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(files_parse_epoch("18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    const char *bad[] = {"", "\n", "-1", "1a", "1\n\n", " 1", "18446744073709551616",
                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        assert_int_equal(files_parse_epoch(bad[i], strlen(bad[i]), &v), -1);
        assert_int_equal(v, 42);
    }
}

static void pending_completions_are_bounded(void **state)
{
    (void)state;
    char err[256];
    for (uint32_t i = 0; i < FILES_PENDING_MAX; i++)
        exec_ok(act(REP_ACT_LOG_FSYNC, i + 1, 0, NULL));
    struct rep_action a = act(REP_ACT_LOG_FSYNC, FILES_PENDING_MAX + 1, 0, NULL);
    assert_int_equal(files_execute(&f, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "queue full"));
    /* Non-disk actions are not queued. */
    a = act(REP_ACT_SEND, 0, 0, "x");
    f.n_pending = 0;
    assert_int_equal(files_execute(&f, &a, err, sizeof err), 0);
    assert_int_equal(f.n_pending, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(group_commit_one_fdatasync_completions_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(writer_batches_keep_issue_order, setup, teardown),
        cmocka_unit_test_setup_teardown(log_segments_roll_drop_truncate_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(log_segments_numeric_order, setup, teardown),
        cmocka_unit_test_setup_teardown(close_writes_gathered_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(epochs_and_snapshot_are_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_folders_are_created, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_epoch_file_is_an_error, setup, teardown),
        cmocka_unit_test(epoch_parsing_is_strict),
        cmocka_unit_test_setup_teardown(pending_completions_are_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
