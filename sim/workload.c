/* The scenario workload on simulated clients (see sim/workload.h). */
#include "sim/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wl_client {
    struct workload *w;
    struct sim_client *cl;
    int idx;                      /* within the workload */
    bool busy, due;
    bool made_root;               /* /w created (or seen) by this client */
    sim_time_ns started;
    uint64_t seq;                 /* this client's write counter (unique values) */
    char key[32];                 /* cas: the key being incremented */
};

struct workload {
    struct sim_clients *cs;
    struct cluster *c;
    struct workload_config cfg;
    struct wl_client *cl;
    int n;
    uint64_t total_weight;
    struct wl_stats stats;
};

static void issue(struct wl_client *wc);
static void schedule_next(struct wl_client *wc);

static void record_latency(struct workload *w, sim_time_ns ns)
{
    struct wl_stats *s = &w->stats;
    if (s->lat_n == s->lat_cap) {
        size_t cap = s->lat_cap ? s->lat_cap * 2 : 1024;
        double *p = realloc(s->lat_us, cap * sizeof *p);
        if (!p)
            return;
        s->lat_us = p;
        s->lat_cap = cap;
    }
    s->lat_us[s->lat_n++] = (double)ns / 1000.0;
}

/* An op ended: count it, then the next one when its arrival came meanwhile. */
static void finish(struct wl_client *wc, const struct simc_result *r)
{
    struct workload *w = wc->w;
    wc->busy = false;
    if (r->err == ZOK)
        w->stats.ok++;
    else if (r->err == ZCONNECTIONLOSS || r->err == ZSESSIONEXPIRED)
        w->stats.unknown++;
    else
        w->stats.failed++;
    record_latency(w, simc_now(w->cs) - wc->started);
    if (wc->due) {
        wc->due = false;
        issue(wc);
    }
}

static void on_done(void *arg, struct sim_client *cl, const struct simc_result *r)
{
    (void)cl;
    struct wl_client *wc = arg;
    if (r->err == ZOK || r->err == ZNODEEXISTS)
        wc->made_root = true;
    finish(wc, r);
}

static void on_cas_set(void *arg, struct sim_client *cl, const struct simc_result *r)
{
    (void)cl;
    finish(arg, r);
}

/* cas, step 2: write value+1 with the version read. */
static void on_cas_get(void *arg, struct sim_client *cl, const struct simc_result *r)
{
    struct wl_client *wc = arg;
    if (r->err != ZOK || !r->has_stat) {
        finish(wc, r);
        return;
    }
    char buf[24];
    memcpy(buf, r->data, r->data_len < sizeof buf - 1 ? r->data_len : sizeof buf - 1);
    buf[r->data_len < sizeof buf - 1 ? r->data_len : sizeof buf - 1] = '\0';
    long long v = strtoll(buf, NULL, 10);
    char out[24];
    int len = snprintf(out, sizeof out, "%lld", v + 1);
    if (simc_set_data(cl, wc->key, out, (uint32_t)len, r->stat.version, on_cas_set, wc) != 0) {
        struct simc_result fail = {.err = ZCONNECTIONLOSS};
        finish(wc, &fail);
    }
}

static enum scn_op draw_op(struct workload *w)
{
    uint64_t x = sim_rng_below(&w->c->rng_workload, w->total_weight), acc = 0;
    for (int op = 0; op < SCN_OP_COUNT_; op++) {
        acc += w->cfg.weight[op];
        if (x < acc)
            return (enum scn_op)op;
    }
    return SCN_OP_GET;
}

static void key_of(struct workload *w, char *buf, size_t len)
{
    snprintf(buf, len, "/w/k%u", (unsigned)sim_rng_below(&w->c->rng_workload, w->cfg.keys));
}

static int start_op(struct wl_client *wc, enum scn_op op)
{
    struct workload *w = wc->w;
    struct sim_client *cl = wc->cl;
    char key[32], key2[32], val[40];
    key_of(w, key, sizeof key);
    int vlen = snprintf(val, sizeof val, "c%d-%llu", simc_index(cl) + 1,
                        (unsigned long long)++wc->seq);
    bool watch = sim_rng_chance(&w->c->rng_workload, w->cfg.watch_p);
    switch (op) {
    case SCN_OP_CREATE: return simc_create(cl, key, val, (uint32_t)vlen, ZOO_PERSISTENT, on_done, wc);
    case SCN_OP_SET: return simc_set_data(cl, key, val, (uint32_t)vlen, -1, on_done, wc);
    case SCN_OP_GET: return simc_get_data(cl, key, watch, on_done, wc);
    case SCN_OP_DELETE: return simc_delete(cl, key, -1, on_done, wc);
    case SCN_OP_EXISTS: return simc_exists(cl, key, watch, on_done, wc);
    case SCN_OP_CHILDREN: return simc_get_children(cl, "/w", watch, on_done, wc);
    case SCN_OP_SYNC: return simc_sync(cl, "/w", on_done, wc);
    case SCN_OP_CAS:
        snprintf(wc->key, sizeof wc->key, "%s", key);
        return simc_get_data(cl, wc->key, false, on_cas_get, wc);
    case SCN_OP_MULTI: {
        key_of(w, key2, sizeof key2);
        struct zk_request ops[2] = {
            {.type = ZOO_CREATE_OP, .path = key, .data = (const uint8_t *)val,
             .data_len = (uint32_t)vlen, .flags = ZOO_PERSISTENT, .version = -1},
            {.type = ZOO_SETDATA_OP, .path = key2, .data = (const uint8_t *)val,
             .data_len = (uint32_t)vlen, .version = -1},
        };
        return simc_multi(cl, ops, 2, on_done, wc);
    }
    default: return ZBADARGUMENTS;
    }
}

static void issue(struct wl_client *wc)
{
    struct workload *w = wc->w;
    if (w->cfg.stop_ns && simc_now(w->cs) >= w->cfg.stop_ns)
        return;
    enum simc_state st = simc_state(wc->cl);
    if (st == SIMC_EXPIRED || st == SIMC_CLOSED || st == SIMC_IDLE) {
        simc_connect(wc->cl); /* a new session, as an application would */
        wc->made_root = false;
    }
    wc->busy = true;
    wc->started = simc_now(w->cs);
    w->stats.issued++;
    int rc = wc->made_root ? start_op(wc, draw_op(w))
                           : simc_create(wc->cl, "/w", "", 0, ZOO_PERSISTENT, on_done, wc);
    if (rc != 0) {
        wc->busy = false;
        w->stats.refused++;
    }
}

static void on_arrival(void *arg)
{
    struct wl_client *wc = arg;
    schedule_next(wc);
    if (wc->busy)
        wc->due = true; /* one op at a time: it starts when this one ends */
    else
        issue(wc);
}

static void schedule_next(struct wl_client *wc)
{
    struct workload *w = wc->w;
    double rate = w->cfg.rate_per_s / (double)w->n;
    double u = sim_rng_uniform(&w->c->rng_workload);
    sim_time_ns gap = (sim_time_ns)(-log(1.0 - u) / rate * (double)SIM_NS_PER_S) + 1;
    if (w->cfg.stop_ns && simc_now(w->cs) + gap >= w->cfg.stop_ns)
        return;
    if (simc_after(w->cs, gap, on_arrival, wc) < 0)
        w->stats.refused++;
}

static void on_watch(void *arg, struct sim_client *cl, int32_t type, const char *path)
{
    (void)cl;
    (void)type;
    (void)path;
    struct wl_client *wc = arg;
    wc->w->stats.watches++;
}

struct workload *wl_new(struct sim_clients *cs, int first, int n, const struct workload_config *cfg)
{
    if (!cs || n <= 0 || first < 0 || first + n > simc_count(cs) || cfg->keys < 1 ||
        cfg->keys > WL_KEYS_MAX || cfg->rate_per_s <= 0)
        return NULL;
    struct workload *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cs = cs;
    w->c = simc_cluster(cs);
    w->cfg = *cfg;
    w->n = n;
    for (int op = 0; op < SCN_OP_COUNT_; op++)
        w->total_weight += cfg->weight[op];
    w->cl = calloc((size_t)n, sizeof *w->cl);
    if (!w->cl || !w->total_weight) {
        wl_free(w);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        w->cl[i] = (struct wl_client){.w = w, .cl = simc_get(cs, first + i), .idx = i};
        simc_set_callbacks(w->cl[i].cl, NULL, on_watch, &w->cl[i]);
    }
    return w;
}

void wl_start(struct workload *w)
{
    for (int i = 0; i < w->n; i++) {
        simc_connect(w->cl[i].cl);
        schedule_next(&w->cl[i]);
    }
}

const struct wl_stats *wl_stats(const struct workload *w) { return &w->stats; }

void wl_free(struct workload *w)
{
    if (!w)
        return;
    free(w->stats.lat_us);
    free(w->cl);
    free(w);
}
