/* Results database: schema, opening and validation, inserting and reading
 * runs (see results_db.h). Merging and comparing live in
 * results_db_compare.c.
 *
 * Concurrency: every connection sets busy_timeout, so a writer waits for
 * another process's transaction instead of failing; writes go through
 * BEGIN IMMEDIATE so a transaction never has to upgrade a read lock (the
 * case that busy_timeout cannot resolve). */
#include "reports/results_db_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Switching to WAL needs a moment with no other connection active; retry
 * for up to RDB_WAL_TRIES * RDB_WAL_SLEEP_US (30 s). */
#define RDB_WAL_TRIES 600
#define RDB_WAL_SLEEP_US 50000

static const char rdb_schema_sql[] =
    "CREATE TABLE schema_version (\n"
    "  version INTEGER NOT NULL,\n"
    "  created_by TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  uid TEXT NOT NULL UNIQUE,\n"
    "  scenario TEXT NOT NULL,\n"
    "  scenario_hash TEXT NOT NULL CHECK (length(scenario_hash) = 16),\n"
    "  seed INTEGER NOT NULL,\n"
    "  version TEXT NOT NULL,\n"
    "  bugs TEXT NOT NULL DEFAULT '',\n"
    "  verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'error')),\n"
    "  trace_hash TEXT NOT NULL CHECK (length(trace_hash) = 16),\n"
    "  started_at TEXT NOT NULL,\n"
    "  replay TEXT NOT NULL DEFAULT '',\n"
    "  duration_ms INTEGER NOT NULL,\n"
    "  simulated_ms INTEGER NOT NULL,\n"
    "  events INTEGER NOT NULL,\n"
    "  elections INTEGER NOT NULL,\n"
    "  max_epoch INTEGER NOT NULL,\n"
    "  commits INTEGER NOT NULL,\n"
    "  ops_ok INTEGER NOT NULL,\n"
    "  ops_fail INTEGER NOT NULL,\n"
    "  ops_info INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX runs_by_scenario_seed ON runs(scenario, seed);\n"
    "CREATE INDEX runs_by_verdict ON runs(verdict);\n"
    "CREATE TABLE violations (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  property TEXT NOT NULL,\n"
    "  sim_time_ns INTEGER NOT NULL,\n"
    "  nodes TEXT NOT NULL,\n"
    "  details TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX violations_by_run ON violations(run_id);\n"
    "CREATE TABLE faults (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  sim_time_ns INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  target TEXT NOT NULL,\n"
    "  details TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX faults_by_run ON faults(run_id);\n"
    "CREATE TABLE run_metrics (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  value REAL NOT NULL,\n"
    "  PRIMARY KEY (run_id, name)\n"
    ") WITHOUT ROWID;\n"
    /* Every numeric result of a run as (name, value): the fixed columns and
     * run_metrics alike. rdb_compare's medians come from here. */
    "CREATE VIEW metric_values AS\n"
    "  SELECT id AS run_id, scenario, 'simulated_ms' AS name, simulated_ms AS value FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'events', events FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'elections', elections FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'max_epoch', max_epoch FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'commits', commits FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'ops_ok', ops_ok FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'ops_fail', ops_fail FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'ops_info', ops_info FROM runs\n"
    "  UNION ALL SELECT id, scenario, 'duration_ms', duration_ms FROM runs\n"
    "  UNION ALL SELECT m.run_id, r.scenario, m.name, m.value\n"
    "    FROM run_metrics m JOIN runs r ON r.id = m.run_id;\n";

static const char *const rdb_reserved_metric_names[] = {
    "simulated_ms", "events", "elections", "max_epoch", "commits",
    "ops_ok", "ops_fail", "ops_info", "duration_ms",
};

/* ---- errors and small helpers ------------------------------------------ */

int rdb_fail(struct rdb *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return -1;
}

int rdb_fail_sql(struct rdb *db, const char *what)
{
    return rdb_fail(db, "%s: %s: %s", db->path ? db->path : "results db", what,
                    sqlite3_errmsg(db->sql));
}

int rdb_exec(struct rdb *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->sql, sql, NULL, NULL, &msg) != SQLITE_OK) {
        rdb_fail(db, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->sql));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int rdb_prepare(struct rdb *db, const char *sql, sqlite3_stmt **st)
{
    if (*st)
        return 0;
    if (sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) != SQLITE_OK)
        return rdb_fail_sql(db, "prepare");
    return 0;
}

void rdb_rollback(struct rdb *db)
{
    if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

const char *rdb_errmsg(const struct rdb *db)
{
    return db ? db->err : "no database";
}

static const char *const rdb_verdict_names[] = {"pass", "fail", "error"};

const char *rdb_verdict_name(enum rdb_verdict v)
{
    return (unsigned)v < 3 ? rdb_verdict_names[v] : "?";
}

int rdb_verdict_parse(const char *s, enum rdb_verdict *out)
{
    for (int v = 0; v < 3; v++)
        if (s && !strcmp(s, rdb_verdict_names[v])) {
            *out = (enum rdb_verdict)v;
            return 0;
        }
    return -1;
}

static void rdb_hex64(uint64_t v, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, v);
}

static int rdb_parse_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || strlen(s) != 16)
        return -1;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

/* ---- opening and schema ------------------------------------------------ */

struct rdb_probe {
    int64_t application_id;
    int64_t objects;        /* entries in sqlite_master */
    int64_t version;        /* from schema_version, if ours */
};

static int rdb_query_int(struct rdb *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        rdb_fail_sql(db, sql);
        sqlite3_finalize(st);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        rdb_fail_sql(db, sql);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static int rdb_probe_reads(struct rdb *db, struct rdb_probe *p)
{
    if (rdb_query_int(db, "PRAGMA application_id", &p->application_id) != 0) {
        if ((sqlite3_errcode(db->sql) & 0xff) == SQLITE_NOTADB)
            rdb_fail(db, "%s: not a zablab results database (not an SQLite file)", db->path);
        return -1;
    }
    if (rdb_query_int(db, "SELECT count(*) FROM sqlite_master", &p->objects) != 0)
        return -1;
    if (p->application_id != RDB_APPLICATION_ID)
        return 0;
    if (rdb_query_int(db, "SELECT max(version) FROM schema_version", &p->version) != 0)
        return rdb_fail(db, "%s: zablab results database without a schema_version (damaged?)",
                        db->path);
    return 0;
}

/* The reads share one transaction: another process creating the schema
 * between them would otherwise show a half-made database (objects but no
 * application_id) and make us refuse a good file. */
static int rdb_probe(struct rdb *db, struct rdb_probe *p)
{
    memset(p, 0, sizeof *p);
    bool own_txn = sqlite3_get_autocommit(db->sql);
    if (own_txn && rdb_exec(db, "BEGIN") != 0)
        return -1;
    int rc = rdb_probe_reads(db, p);
    if (own_txn)
        rdb_rollback(db); /* read-only: nothing to keep */
    return rc;
}

static int rdb_set_wal(struct rdb *db)
{
    for (int i = 0; i < RDB_WAL_TRIES; i++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
        int is_wal = mode && !strcmp((const char *)mode, "wal");
        sqlite3_finalize(st);
        if (is_wal)
            return 0;
        if (rc == SQLITE_ROW)
            return rdb_fail(db, "%s: cannot switch to WAL mode (journal mode %s)", db->path,
                            mode ? (const char *)mode : "?");
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return rdb_fail_sql(db, "set WAL mode");
        usleep(RDB_WAL_SLEEP_US);
    }
    return rdb_fail(db, "%s: database stayed busy; cannot switch to WAL mode", db->path);
}

static int rdb_create_schema(struct rdb *db)
{
    char sql[256];
    if (rdb_exec(db, rdb_schema_sql) != 0)
        return -1;
    snprintf(sql, sizeof sql,
             "PRAGMA application_id=%d; PRAGMA user_version=%d;"
             "INSERT INTO schema_version(version, created_by) VALUES (%d, 'zablab');",
             RDB_APPLICATION_ID, RDB_SCHEMA_VERSION, RDB_SCHEMA_VERSION);
    return rdb_exec(db, sql);
}

/* Creates the schema in an empty file. Two processes may race here: the
 * IMMEDIATE transaction serializes them and the loser sees the winner's
 * schema when it probes again under the lock. */
static int rdb_init_fresh(struct rdb *db, struct rdb_probe *p)
{
    if (rdb_set_wal(db) != 0 || rdb_exec(db, "BEGIN IMMEDIATE") != 0)
        return -1;
    if (rdb_probe(db, p) != 0) {
        rdb_rollback(db);
        return -1;
    }
    if (p->application_id == 0 && p->objects == 0) {
        if (rdb_create_schema(db) != 0) {
            rdb_rollback(db);
            return -1;
        }
        p->application_id = RDB_APPLICATION_ID;
        p->version = RDB_SCHEMA_VERSION;
    }
    return rdb_exec(db, "COMMIT");
}

static int rdb_setup(struct rdb *db, enum rdb_open_mode mode)
{
    struct rdb_probe p;
    if (rdb_probe(db, &p) != 0)
        return -1;
    if (p.application_id == 0 && p.objects == 0) {
        if (mode == RDB_OPEN_EXISTING)
            return rdb_fail(db, "%s: empty database, not a zablab results database", db->path);
        if (rdb_init_fresh(db, &p) != 0)
            return -1;
    }
    if (p.application_id != RDB_APPLICATION_ID)
        return rdb_fail(db, "%s: not a zablab results database (SQLite application_id "
                        "0x%08" PRIx64 ", %" PRId64 " schema objects)",
                        db->path, (uint64_t)p.application_id & 0xffffffffu, p.objects);
    if (p.version != RDB_SCHEMA_VERSION)
        return rdb_fail(db, "%s: results database schema version %" PRId64
                        "; this zablab reads version %d", db->path, p.version,
                        RDB_SCHEMA_VERSION);
    if (rdb_set_wal(db) != 0)
        return -1;
    /* NORMAL is corruption-safe in WAL mode; a power loss may drop only the
     * last runs, which a re-run of those seeds reproduces. */
    return rdb_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
}

int rdb_open_mode(const char *path, enum rdb_open_mode mode, struct rdb **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    struct stat sb;
    if (!path || !*path) {
        snprintf(err, errlen, "results db: no path given");
        return -1;
    }
    if (mode == RDB_OPEN_EXISTING && stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct rdb *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int flags = SQLITE_OPEN_READWRITE | (mode == RDB_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
        rdb_close(db);
        return -1;
    }
    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, RDB_BUSY_TIMEOUT_MS);
    if (rdb_setup(db, mode) != 0) {
        snprintf(err, errlen, "%s", db->err);
        rdb_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

int rdb_open(const char *path, struct rdb **out, char *err, size_t errlen)
{
    return rdb_open_mode(path, RDB_OPEN_CREATE, out, err, errlen);
}

void rdb_close(struct rdb *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->ins_run);
    sqlite3_finalize(db->ins_violation);
    sqlite3_finalize(db->ins_fault);
    sqlite3_finalize(db->ins_metric);
    sqlite3_close(db->sql);
    free(db->path);
    free(db);
}

/* ---- inserting --------------------------------------------------------- */

static const char rdb_sql_insert_run[] =
    "INSERT INTO runs(" RDB_RUN_DATA_COLUMNS ") VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";
static const char rdb_sql_insert_violation[] =
    "INSERT INTO violations(run_id, property, sim_time_ns, nodes, details) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char rdb_sql_insert_fault[] =
    "INSERT INTO faults(run_id, sim_time_ns, kind, target, details) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char rdb_sql_insert_metric[] =
    "INSERT INTO run_metrics(run_id, name, value) VALUES (?1, ?2, ?3)";

static bool rdb_is_reserved_metric(const char *name)
{
    for (size_t i = 0; i < sizeof rdb_reserved_metric_names / sizeof *rdb_reserved_metric_names; i++)
        if (!strcmp(name, rdb_reserved_metric_names[i]))
            return true;
    return false;
}

static int rdb_check_children(struct rdb *db, const struct rdb_run *run)
{
    if (run->n_violations > RDB_CHILD_MAX || run->n_faults > RDB_CHILD_MAX ||
        run->n_metrics > RDB_CHILD_MAX)
        return rdb_fail(db, "run has more than %d violations, faults or metrics", RDB_CHILD_MAX);
    if ((run->n_violations && !run->violations) || (run->n_faults && !run->faults) ||
        (run->n_metrics && !run->metrics))
        return rdb_fail(db, "run has a child count but no array");
    for (size_t i = 0; i < run->n_violations; i++)
        if (!run->violations[i].property || !*run->violations[i].property)
            return rdb_fail(db, "violation %zu has no property name", i);
    for (size_t i = 0; i < run->n_faults; i++)
        if (!run->faults[i].kind || !*run->faults[i].kind)
            return rdb_fail(db, "fault %zu has no kind", i);
    for (size_t i = 0; i < run->n_metrics; i++) {
        const struct rdb_metric *m = &run->metrics[i];
        if (!memchr(m->name, '\0', sizeof m->name) || !m->name[0])
            return rdb_fail(db, "metric %zu has an empty or unterminated name", i);
        if (rdb_is_reserved_metric(m->name))
            return rdb_fail(db, "metric '%s' is a column of runs; use the field", m->name);
        if (isnan(m->value))
            return rdb_fail(db, "metric '%s' is NaN", m->name);
    }
    return 0;
}

static int rdb_check_run(struct rdb *db, const struct rdb_run *run)
{
    if (!run)
        return rdb_fail(db, "no run given");
    if (!run->scenario || !*run->scenario)
        return rdb_fail(db, "run has no scenario name");
    if (!run->version || !*run->version)
        return rdb_fail(db, "run has no binary version");
    if ((unsigned)run->verdict > RDB_VERDICT_ERROR)
        return rdb_fail(db, "run has verdict %d (not pass, fail or error)", (int)run->verdict);
    return rdb_check_children(db, run);
}

/* 128 random bits: merges recognise a run they already hold by its uid. */
static int rdb_make_uid(struct rdb *db, char out[33])
{
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return rdb_fail(db, "getrandom: %s", strerror(errno));
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

/* Binds text, NULL as "", cut below RDB_TEXT_MAX at a UTF-8 boundary. */
static int rdb_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s)
        s = "";
    size_t len = strnlen(s, RDB_TEXT_MAX);
    if (len >= RDB_TEXT_MAX) {
        len = RDB_TEXT_MAX - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    return sqlite3_bind_text(st, idx, s, (int)len, SQLITE_TRANSIENT);
}

static int rdb_bind_run(struct rdb *db, sqlite3_stmt *st, const struct rdb_run *run)
{
    char uid[33], shash[17], thash[17], now[32];
    if (rdb_make_uid(db, uid) != 0)
        return -1;
    rdb_hex64(run->scenario_hash, shash);
    rdb_hex64(run->trace_hash, thash);
    const char *started = run->started_at;
    if (!started || !*started) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        started = now;
    }
    int rc = rdb_bind_text(st, 1, uid) | rdb_bind_text(st, 2, run->scenario) |
             rdb_bind_text(st, 3, shash) | sqlite3_bind_int64(st, 4, (int64_t)run->seed) |
             rdb_bind_text(st, 5, run->version) | rdb_bind_text(st, 6, run->bugs) |
             rdb_bind_text(st, 7, rdb_verdict_name(run->verdict)) |
             rdb_bind_text(st, 8, thash) | rdb_bind_text(st, 9, started) |
             rdb_bind_text(st, 10, run->replay) |
             sqlite3_bind_int64(st, 11, run->duration_ms) |
             sqlite3_bind_int64(st, 12, run->simulated_ms) |
             sqlite3_bind_int64(st, 13, run->events) |
             sqlite3_bind_int64(st, 14, run->elections) |
             sqlite3_bind_int64(st, 15, run->max_epoch) |
             sqlite3_bind_int64(st, 16, run->commits) |
             sqlite3_bind_int64(st, 17, run->ops_ok) |
             sqlite3_bind_int64(st, 18, run->ops_fail) |
             sqlite3_bind_int64(st, 19, run->ops_info);
    /* SQLITE_OK is 0, so the OR of the codes is 0 only if all succeeded. */
    return rc == SQLITE_OK ? 0 : rdb_fail_sql(db, "bind run");
}

/* Steps a bound insert statement once and resets it for the next use. */
static int rdb_step_insert(struct rdb *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        rdb_fail_sql(db, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int rdb_insert_children(struct rdb *db, int64_t id, const struct rdb_run *run)
{
    for (size_t i = 0; i < run->n_violations; i++) {
        const struct rdb_violation *v = &run->violations[i];
        sqlite3_stmt *st = db->ins_violation;
        sqlite3_bind_int64(st, 1, id);
        rdb_bind_text(st, 2, v->property);
        sqlite3_bind_int64(st, 3, v->sim_time_ns);
        rdb_bind_text(st, 4, v->nodes);
        rdb_bind_text(st, 5, v->details);
        if (rdb_step_insert(db, st, "insert violation") != 0)
            return -1;
    }
    for (size_t i = 0; i < run->n_faults; i++) {
        const struct rdb_fault *f = &run->faults[i];
        sqlite3_stmt *st = db->ins_fault;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, f->sim_time_ns);
        rdb_bind_text(st, 3, f->kind);
        rdb_bind_text(st, 4, f->target);
        rdb_bind_text(st, 5, f->details);
        if (rdb_step_insert(db, st, "insert fault") != 0)
            return -1;
    }
    for (size_t i = 0; i < run->n_metrics; i++) {
        sqlite3_stmt *st = db->ins_metric;
        sqlite3_bind_int64(st, 1, id);
        rdb_bind_text(st, 2, run->metrics[i].name);
        sqlite3_bind_double(st, 3, run->metrics[i].value);
        if (rdb_step_insert(db, st, "insert metric") != 0)
            return -1;
    }
    return 0;
}

int rdb_insert_run_id(struct rdb *db, const struct rdb_run *run, int64_t *id_out)
{
    if (rdb_check_run(db, run) != 0)
        return -1;
    if (rdb_prepare(db, rdb_sql_insert_run, &db->ins_run) != 0 ||
        rdb_prepare(db, rdb_sql_insert_violation, &db->ins_violation) != 0 ||
        rdb_prepare(db, rdb_sql_insert_fault, &db->ins_fault) != 0 ||
        rdb_prepare(db, rdb_sql_insert_metric, &db->ins_metric) != 0)
        return -1;
    if (rdb_exec(db, "BEGIN IMMEDIATE") != 0)
        return -1;
    if (rdb_bind_run(db, db->ins_run, run) != 0 ||
        rdb_step_insert(db, db->ins_run, "insert run") != 0)
        goto fail;
    int64_t id = sqlite3_last_insert_rowid(db->sql);
    if (rdb_insert_children(db, id, run) != 0 || rdb_exec(db, "COMMIT") != 0)
        goto fail;
    if (id_out)
        *id_out = id;
    return 0;
fail:
    sqlite3_reset(db->ins_run);
    sqlite3_clear_bindings(db->ins_run);
    rdb_rollback(db);
    return -1;
}

int rdb_insert_run(struct rdb *db, const struct rdb_run *run)
{
    return rdb_insert_run_id(db, run, NULL);
}

int rdb_metrics_add_latency(struct rdb_metric *metrics, size_t cap, size_t *n,
                            const char *op_kind, const struct stats_summary *s)
{
    static const char *const stat_names[5] = {"n", "p50", "p90", "p99", "max"};
    const double values[5] = {(double)s->n, s->p50, s->p90, s->p99, s->max};
    if (!op_kind || !*op_kind || *n > cap || cap - *n < 5)
        return -1;
    for (int i = 0; i < 5; i++) {
        struct rdb_metric *m = &metrics[*n + (size_t)i];
        int len = snprintf(m->name, sizeof m->name, "latency_us.%s.%s", op_kind, stat_names[i]);
        if (len < 0 || (size_t)len >= sizeof m->name)
            return -1;
        m->value = values[i];
    }
    *n += 5;
    return 0;
}

int rdb_metrics_add_latencies(struct rdb_metric *metrics, size_t cap, size_t *n,
                              const int *kinds, const double *latency_us, size_t n_samples,
                              const char *const *kind_names, size_t n_kinds)
{
    struct stats_summary sums[STATS_KINDS_MAX];
    if (stats_summarize_by_kind(kinds, latency_us, n_samples, n_kinds, sums, NULL, 0) != 0)
        return -1;
    size_t added = *n;
    for (size_t k = 0; k < n_kinds; k++)
        if (sums[k].n && rdb_metrics_add_latency(metrics, cap, &added, kind_names[k],
                                                 &sums[k]) != 0)
            return -1;
    *n = added;
    return 0;
}

/* ---- reading ----------------------------------------------------------- */

static const char *rdb_col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? (const char *)s : "";
}

int rdb_row_to_run(struct rdb *db, sqlite3_stmt *st, struct rdb_run *run)
{
    memset(run, 0, sizeof *run);
    run->id = sqlite3_column_int64(st, 0);
    run->uid = rdb_col_text(st, 1);
    run->scenario = rdb_col_text(st, 2);
    run->seed = (uint64_t)sqlite3_column_int64(st, 4);
    run->version = rdb_col_text(st, 5);
    run->bugs = rdb_col_text(st, 6);
    run->started_at = rdb_col_text(st, 9);
    run->replay = rdb_col_text(st, 10);
    int64_t *ints[9] = {&run->duration_ms, &run->simulated_ms, &run->events, &run->elections,
                        &run->max_epoch, &run->commits, &run->ops_ok, &run->ops_fail,
                        &run->ops_info};
    for (int i = 0; i < 9; i++)
        *ints[i] = sqlite3_column_int64(st, 11 + i);
    if (rdb_parse_hex64(rdb_col_text(st, 3), &run->scenario_hash) != 0 ||
        rdb_parse_hex64(rdb_col_text(st, 8), &run->trace_hash) != 0 ||
        rdb_verdict_parse(rdb_col_text(st, 7), &run->verdict) != 0)
        return rdb_fail(db, "%s: run %" PRId64 " has a malformed hash or verdict", db->path,
                        run->id);
    return 0;
}

/* Child rows of a loaded run; each loader allocates its array (at most
 * RDB_CHILD_MAX entries) and duplicates the text. */
static char *rdb_dup_col(sqlite3_stmt *st, int col, bool *oom)
{
    char *s = strdup(rdb_col_text(st, col));
    if (!s)
        *oom = true;
    return s;
}

static int rdb_load_children(struct rdb *db, const char *sql, int64_t id, size_t elem_size,
                             void **arr, size_t *n,
                             void (*fill)(void *elem, sqlite3_stmt *st, bool *oom))
{
    sqlite3_stmt *st = NULL;
    *arr = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return rdb_fail_sql(db, "load run");
    }
    sqlite3_bind_int64(st, 1, id);
    size_t cap = 0;
    bool oom = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !oom && *n < RDB_CHILD_MAX) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            void *p = realloc(*arr, ncap * elem_size);
            if (!p) {
                oom = true;
                break;
            }
            *arr = p;
            cap = ncap;
        }
        void *elem = (char *)*arr + *n * elem_size;
        memset(elem, 0, elem_size);
        (*n)++;
        fill(elem, st, &oom);
    }
    int ok = !oom && (rc == SQLITE_DONE || rc == SQLITE_ROW);
    if (!ok)
        oom ? rdb_fail(db, "load run: out of memory") : rdb_fail_sql(db, "load run");
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static void rdb_fill_violation(void *elem, sqlite3_stmt *st, bool *oom)
{
    struct rdb_violation *v = elem;
    v->property = rdb_dup_col(st, 0, oom);
    v->sim_time_ns = sqlite3_column_int64(st, 1);
    v->nodes = rdb_dup_col(st, 2, oom);
    v->details = rdb_dup_col(st, 3, oom);
}

static void rdb_fill_fault(void *elem, sqlite3_stmt *st, bool *oom)
{
    struct rdb_fault *f = elem;
    f->sim_time_ns = sqlite3_column_int64(st, 0);
    f->kind = rdb_dup_col(st, 1, oom);
    f->target = rdb_dup_col(st, 2, oom);
    f->details = rdb_dup_col(st, 3, oom);
}

static void rdb_fill_metric(void *elem, sqlite3_stmt *st, bool *oom)
{
    struct rdb_metric *m = elem;
    (void)oom;
    snprintf(m->name, sizeof m->name, "%s", rdb_col_text(st, 0));
    m->value = sqlite3_column_double(st, 1);
}

static int rdb_load_all_children(struct rdb *db, struct rdb_run *run)
{
    void *arr;
    int rc = rdb_load_children(db, "SELECT property, sim_time_ns, nodes, details FROM violations "
                               "WHERE run_id = ?1 ORDER BY sim_time_ns, id", run->id,
                               sizeof(struct rdb_violation), &arr, &run->n_violations,
                               rdb_fill_violation);
    run->violations = arr;
    if (rc != 0)
        return -1;
    rc = rdb_load_children(db, "SELECT sim_time_ns, kind, target, details FROM faults "
                           "WHERE run_id = ?1 ORDER BY sim_time_ns, id", run->id,
                           sizeof(struct rdb_fault), &arr, &run->n_faults, rdb_fill_fault);
    run->faults = arr;
    if (rc != 0)
        return -1;
    rc = rdb_load_children(db, "SELECT name, value FROM run_metrics WHERE run_id = ?1 "
                           "ORDER BY name", run->id, sizeof(struct rdb_metric), &arr,
                           &run->n_metrics, rdb_fill_metric);
    run->metrics = arr;
    return rc;
}

/* The scalar text fields of a loaded run are owned copies. */
static int rdb_own_text(struct rdb_run *run)
{
    const char **fields[7] = {&run->uid, &run->scenario, &run->version, &run->bugs,
                              &run->started_at, &run->replay, NULL};
    int ok = 1;
    for (int i = 0; fields[i]; i++) {
        *fields[i] = strdup(*fields[i]);
        ok &= *fields[i] != NULL;
    }
    return ok ? 0 : -1;
}

static int rdb_load_row(struct rdb *db, sqlite3_stmt *st, struct rdb_run **out)
{
    struct rdb_run tmp;
    if (rdb_row_to_run(db, st, &tmp) != 0)
        return -1;
    struct rdb_run *run = malloc(sizeof *run);
    if (!run)
        return rdb_fail(db, "load run: out of memory");
    *run = tmp;
    /* From here every pointer in run is owned or NULL, so rdb_run_free is safe. */
    int rc = rdb_own_text(run);
    if (rc != 0)
        rdb_fail(db, "load run: out of memory");
    else
        rc = rdb_load_all_children(db, run);
    if (rc != 0) {
        rdb_run_free(run);
        return -1;
    }
    *out = run;
    return 0;
}

int rdb_load_run(struct rdb *db, int64_t id, struct rdb_run **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->sql, "SELECT " RDB_RUN_COLUMNS " FROM runs r WHERE r.id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return rdb_fail_sql(db, "load run");
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    int status = -1;
    if (rc == SQLITE_ROW)
        status = rdb_load_row(db, st, out);
    else if (rc == SQLITE_DONE)
        rdb_fail(db, "%s: no run with id %" PRId64, db->path, id);
    else
        rdb_fail_sql(db, "load run");
    sqlite3_finalize(st);
    return status;
}

/* Loaded runs own their text; the casts drop the const the struct carries
 * for borrowed input. */
void rdb_run_free(struct rdb_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; run->violations && i < run->n_violations; i++) {
        free((void *)run->violations[i].property);
        free((void *)run->violations[i].nodes);
        free((void *)run->violations[i].details);
    }
    for (size_t i = 0; run->faults && i < run->n_faults; i++) {
        free((void *)run->faults[i].kind);
        free((void *)run->faults[i].target);
        free((void *)run->faults[i].details);
    }
    free((void *)run->violations);
    free((void *)run->faults);
    free((void *)run->metrics);
    const char *texts[6] = {run->uid, run->scenario, run->version, run->bugs,
                            run->started_at, run->replay};
    for (int i = 0; i < 6; i++)
        free((void *)texts[i]);
    free(run);
}

/* ---- listing ----------------------------------------------------------- */

int rdb_list(struct rdb *db, const struct rdb_filter *f, rdb_run_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT " RDB_RUN_COLUMNS ", "
        "(SELECT count(*) FROM violations v WHERE v.run_id = r.id), "
        "(SELECT count(*) FROM faults x WHERE x.run_id = r.id), "
        "(SELECT count(*) FROM run_metrics m WHERE m.run_id = r.id) "
        "FROM runs r WHERE (?1 IS NULL OR r.scenario = ?1) "
        "AND (?2 = 0 OR r.verdict <> 'pass') ORDER BY r.id LIMIT ?3";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return rdb_fail_sql(db, "list runs");
    }
    if (f && f->scenario)
        sqlite3_bind_text(st, 1, f->scenario, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, f && f->failed_only);
    sqlite3_bind_int64(st, 3, f && f->limit ? (int64_t)f->limit : -1);
    int rc, status = 0;
    while (status == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct rdb_run run;
        if (rdb_row_to_run(db, st, &run) != 0) {
            status = -1;
            break;
        }
        run.n_violations = (size_t)sqlite3_column_int64(st, RDB_RUN_NCOLUMNS);
        run.n_faults = (size_t)sqlite3_column_int64(st, RDB_RUN_NCOLUMNS + 1);
        run.n_metrics = (size_t)sqlite3_column_int64(st, RDB_RUN_NCOLUMNS + 2);
        status = fn(&run, ctx);
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = rdb_fail_sql(db, "list runs");
    sqlite3_finalize(st);
    return status;
}

int rdb_summarize(struct rdb *db, const struct rdb_filter *f, rdb_summary_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT scenario, count(*), sum(verdict = 'pass'), sum(verdict = 'fail'), "
        "sum(verdict = 'error'), count(DISTINCT seed) FROM runs "
        "WHERE (?1 IS NULL OR scenario = ?1) GROUP BY scenario ORDER BY scenario";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return rdb_fail_sql(db, "summarize runs");
    }
    if (f && f->scenario)
        sqlite3_bind_text(st, 1, f->scenario, -1, SQLITE_TRANSIENT);
    int rc, status = 0;
    while (status == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct rdb_scenario_summary s = {
            .scenario = rdb_col_text(st, 0),
            .runs = sqlite3_column_int64(st, 1),
            .pass = sqlite3_column_int64(st, 2),
            .fail = sqlite3_column_int64(st, 3),
            .error = sqlite3_column_int64(st, 4),
            .seeds = sqlite3_column_int64(st, 5),
        };
        status = fn(&s, ctx);
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = rdb_fail_sql(db, "summarize runs");
    sqlite3_finalize(st);
    return status;
}

int64_t rdb_count_runs(struct rdb *db)
{
    int64_t n = -1;
    if (rdb_query_int(db, "SELECT count(*) FROM runs", &n) != 0)
        return -1;
    return n;
}
