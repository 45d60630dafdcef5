/* no-lost-writes for simulated clients (see simc_check_no_lost_writes in
 * sim/client.h): the acknowledged writes against the servers' logs. */
#include <inttypes.h>
#include <stdio.h>

#include <stdlib.h>

#include "core/log_record.h"
#include "core/txn.h"
#include "sim/client_internal.h"

/* Index of the log entry with this zxid, or -1 (binary search: the in-memory
 * log is in zxid order). */
static int64_t find_entry(const struct replica *r, uint64_t zxid)
{
    uint32_t lo = 0, hi = replica_log_count(r);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t z = replica_log_entry(r, mid)->zxid;
        if (z == zxid)
            return mid;
        if (z < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* 0 when server id holds write a; else 1 with detail. */
static int check_one(const struct replica *r, int id, const struct nlw_write *a, char *detail,
                     size_t len)
{
    uint32_t n = replica_log_count(r);
    uint64_t oldest = n ? replica_log_entry(r, 0)->zxid : UINT64_MAX;
    if (replica_last_zxid(r) < a->zxid) {
        snprintf(detail, len, "client %d's write (session 0x%" PRIx64 ", xid %d) acknowledged at zxid "
                 "0x%" PRIx64 " is missing on s%d, whose log ends at 0x%" PRIx64,
                 a->client + 1, (uint64_t)a->session, a->xid, a->zxid, id, replica_last_zxid(r));
        return 1;
    }
    if (a->zxid < oldest)
        return 0; /* folded into the snapshot; the invariant checker compares those */
    int64_t i = find_entry(r, a->zxid);
    if (i < 0) {
        snprintf(detail, len, "client %d's write acknowledged at zxid 0x%" PRIx64 " is not in s%d's "
                 "log (another history took that place)", a->client + 1, a->zxid, id);
        return 1;
    }
    uint32_t plen;
    const uint8_t *p = replica_log_payload(r, (uint32_t)i, &plen);
    struct zk_txn txn;
    if (zk_txn_decode(&txn, p, plen, NULL, 0) != 0) {
        snprintf(detail, len, "s%d's log entry 0x%" PRIx64 " does not decode as a txn", id, a->zxid);
        return 1;
    }
    bool same = txn.session_id == a->session && txn.cxid == a->xid && txn.type != ZOO_ERROR_OP;
    int64_t sess = txn.session_id;
    int32_t cxid = txn.cxid;
    zk_txn_free(&txn);
    if (!same) {
        snprintf(detail, len, "zxid 0x%" PRIx64 " acknowledged to client %d (session 0x%" PRIx64
                 ", xid %d) holds another txn on s%d (session 0x%" PRIx64 ", xid %d)",
                 a->zxid, a->client + 1, (uint64_t)a->session, a->xid, id, (uint64_t)sess, cxid);
        return 1;
    }
    return 0;
}

/* ---- every server's durable state ---- */

struct ref_rec { uint64_t zxid; const uint8_t *p; uint32_t len; };

/* Every txn some log still holds (in-memory logs of live servers, durable
 * logs of all), sorted by zxid: where a snapshot-covered write's txn is
 * looked up. Pointers stay valid while nothing runs. */
struct ref_index { struct ref_rec *v; size_t n, cap; };

static int ref_add(struct ref_index *ix, uint64_t zxid, const uint8_t *p, uint32_t len)
{
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 4096;
        struct ref_rec *v = realloc(ix->v, cap * sizeof *v);
        if (!v)
            return -1;
        ix->v = v;
        ix->cap = cap;
    }
    ix->v[ix->n++] = (struct ref_rec){zxid, p, len};
    return 0;
}

static int ref_collect(void *ctx, const struct log_record *r, size_t offset)
{
    (void)offset;
    return ref_add(ctx, r->zxid, r->payload, r->payload_len) ? -2 : 0;
}

static int ref_cmp(const void *a, const void *b)
{
    const struct ref_rec *x = a, *y = b;
    return x->zxid < y->zxid ? -1 : x->zxid > y->zxid;
}

static void ref_build(struct cluster *c, struct ref_index *ix)
{
    for (int id = 1; id <= c->n; id++) {
        if (cluster_is_up(c, id)) {
            const struct replica *r = cluster_rep(c, id);
            for (uint32_t i = 0; i < replica_log_count(r); i++) {
                uint32_t len;
                const uint8_t *p = replica_log_payload(r, i, &len);
                ref_add(ix, replica_log_entry(r, i)->zxid, p, len);
            }
        }
        const uint8_t *log;
        size_t log_len;
        struct log_scan scan;
        char err[160];
        disk_durable_log(&c->disks[id], &log, &log_len);
        log_scan(log, log_len, &scan, ref_collect, ix, err, sizeof err);
    }
    if (ix->n)
        qsort(ix->v, ix->n, sizeof ix->v[0], ref_cmp);
}

static const uint8_t *ref_find(void *ctx, uint64_t zxid, uint32_t *len)
{
    const struct ref_index *ix = ctx;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->v[mid].zxid == zxid) {
            *len = ix->v[mid].len;
            return ix->v[mid].p;
        }
        if (ix->v[mid].zxid < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Every server, crashed ones too: what a restart would find must keep every
 * acknowledged write it has reached (sim/nlw.h). 0, or 1 with detail. */
static int check_durable(struct sim_clients *cs, struct nlw_stats *st, char *detail, size_t len)
{
    struct cluster *c = cs->c;
    struct ref_index ix = {0};
    ref_build(c, &ix);
    int rc = 0;
    for (int id = 1; id <= c->n && rc != 1; id++) {
        struct nlw_durable d = {0};
        uint64_t zxid;
        disk_durable_log(&c->disks[id], &d.log, &d.log_len);
        if (disk_snapshot(&c->disks[id], &d.snapshot, &d.snapshot_len, &zxid) != 0)
            d.snapshot_len = 0;
        char why[300];
        int v = nlw_check_durable(id, &d, cs->acked, cs->n_acked, ref_find, &ix, st, why, sizeof why);
        if (v == 1) {
            snprintf(detail, len, "%s", why);
            rc = 1;
        }
    }
    free(ix.v);
    return rc;
}

int simc_check_no_lost_writes(struct sim_clients *cs, char *detail, size_t len)
{
    struct cluster *c = cs->c;
    int judged = 0;
    for (int id = 1; id <= c->n; id++) {
        if (!cluster_is_up(c, id))
            continue;
        const struct replica *r = cluster_rep(c, id);
        bool serving = r->phase == REP_PHASE_BROADCAST &&
                       (r->state == REP_LEADING || r->state == REP_FOLLOWING ||
                        r->state == REP_OBSERVING);
        if (!serving)
            continue;
        judged++;
        for (uint32_t k = 0; k < cs->n_acked; k++)
            if (check_one(r, id, &cs->acked[k], detail, len))
                return 1;
    }
    struct nlw_stats st = {0};
    if (check_durable(cs, &st, detail, len))
        return 1;
    if (!judged) {
        snprintf(detail, len, "no server is up and serving at the end of the run");
        return -1;
    }
    if (cs->acked_full)
        snprintf(detail, len, "only the first %u acknowledged writes were kept", cs->n_acked);
    else
        snprintf(detail, len, "%u acknowledged writes on %d serving servers; durable state of "
                 "%d servers: %u in logs, %u verified in snapshots, %u in snapshots unverified",
                 cs->n_acked, judged, c->n, st.in_log, st.in_snapshot, st.unverified);
    return 0;
}

uint32_t simc_acked_count(const struct sim_clients *cs) { return cs->n_acked; }

/* The zxid of the closeSession txn that ended `session`, from the newest
 * end of any live server's in-memory log; 0 when no log holds it. Only the
 * simulator can know it (the client never does): it lets the history of an
 * expiry carry the same zxid witness as every other write. */
uint64_t simc_find_close_zxid(struct cluster *c, int64_t session)
{
    for (int id = 1; id <= c->n; id++) {
        if (!cluster_is_up(c, id))
            continue;
        const struct replica *r = cluster_rep(c, id);
        for (uint32_t i = replica_log_count(r); i-- > 0;) {
            uint32_t plen;
            const uint8_t *p = replica_log_payload(r, i, &plen);
            struct zk_txn txn;
            if (zk_txn_decode(&txn, p, plen, NULL, 0) != 0)
                continue;
            bool hit = txn.type == ZOO_CLOSE_SESSION_OP && txn.session_id == session;
            uint64_t z = (uint64_t)txn.zxid;
            zk_txn_free(&txn);
            if (hit)
                return z ? z : replica_log_entry(r, i)->zxid;
        }
    }
    return 0;
}
