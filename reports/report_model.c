/* Aggregates a trace into the model reports draw (reports/report_model.h):
 * state bands from the replica events, fault bands from the fault records,
 * send/recv pairing by (from, to, seq), leaderless stretches, commit
 * latency on the leader.
 *
 * Owns: the model's arrays. Must never: grow an array past its stated
 * maximum (records beyond are counted and `truncated` is set). */
#include "reports/report_model.h"

#include <stdlib.h>
#include <string.h>

#define LINKS_DIM (TRD_SERVERS_MAX + 1)

const char *rmod_state_name(enum rmod_state s)
{
    static const char *const names[RMOD_ST_COUNT] = {
        "DOWN", "LOOKING", "FOLLOWING (syncing)", "FOLLOWING", "LEADING (discovery)",
        "LEADING", "OBSERVING", "RECOVERING"};
    return (unsigned)s < RMOD_ST_COUNT ? names[s] : "?";
}

const char *rmod_fault_name(enum rmod_fault_kind k)
{
    static const char *const names[RMOD_F_COUNT] = {
        "crashed", "crashed, torn write", "paused", "partitioned", "clogged", "blocked",
        "connection dropped", "clock skew", "clock drift", "start refused", "disk full"};
    return (unsigned)k < RMOD_F_COUNT ? names[k] : "?";
}

/* Growable array with a hard maximum: 1 kept, 0 at the maximum, -1 on OOM. */
static int grow(void **arr, uint32_t n, uint32_t *cap, size_t elem, uint32_t max)
{
    if (n < *cap)
        return 1;
    if (n >= max)
        return 0;
    uint32_t ncap = *cap ? *cap * 2 : 1024;
    if (ncap > max)
        ncap = max;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 1;
}

/* ---- state bands ---- */

static void seg_close(struct rmod *m, int node, int64_t t)
{
    if (m->cur_since[node] < 0)
        return;
    if (t > m->cur_since[node]) {
        if (m->n_segs < RMOD_SEGS_MAX) {
            m->segs[m->n_segs++] = (struct rmod_seg){m->cur_since[node], t, (uint8_t)node,
                                                    (uint8_t)m->cur_state[node], m->cur_epoch[node]};
        } else {
            m->truncated = true;
        }
    }
    m->cur_since[node] = -1;
}

static void set_state(struct rmod *m, int node, int64_t t, enum rmod_state st, uint32_t epoch)
{
    if (m->cur_since[node] >= 0 && m->cur_state[node] == (int)st && m->cur_epoch[node] == epoch)
        return;
    seg_close(m, node, t);
    m->cur_state[node] = (int)st;
    m->cur_epoch[node] = epoch;
    /* DOWN is drawn as a fault band, not a state band. */
    m->cur_since[node] = st == RMOD_ST_DOWN ? -1 : t;
}

/* ---- faults ---- */

static void quorum_looking(struct rmod *m, int64_t t);

static struct rmod_fault *fault_add(struct rmod *m, int64_t t0, int64_t t1, int node, int peer,
                                    enum rmod_fault_kind k)
{
    if (m->n_faults >= RMOD_FAULTS_MAX) {
        m->truncated = true;
        return NULL;
    }
    struct rmod_fault *f = &m->faults[m->n_faults++];
    memset(f, 0, sizeof *f);
    f->t0_ns = t0, f->t1_ns = t1;
    f->node = (uint8_t)(node > 0 ? node : 0), f->peer = (uint8_t)peer, f->kind = (uint8_t)k;
    f->group = -1;
    snprintf(f->label, sizeof f->label, "%s", rmod_fault_name(k));
    return f;
}

static void partition_end(struct rmod *m, int64_t t)
{
    for (int s = 1; s <= TRD_SERVERS_MAX; s++) {
        if (m->open_partition[s]) {
            m->faults[m->open_partition[s] - 1].t1_ns = t;
            m->open_partition[s] = 0;
        }
    }
}

static void on_partition(struct rmod *m, const struct trd_rec *r)
{
    partition_end(m, r->t_ns);
    for (int s = 1; s <= r->n_group; s++) {
        if (r->group_of[s] < 0)
            continue;
        struct rmod_fault *f = fault_add(m, r->t_ns, -1, s, 0, RMOD_F_PARTITION);
        if (!f)
            return;
        f->group = (int16_t)r->group_of[s];
        snprintf(f->label, sizeof f->label, "partitioned: side %c", 'A' + (r->group_of[s] % 26));
        m->open_partition[s] = (int)m->n_faults;
    }
}

static void on_crash(struct rmod *m, const struct trd_rec *r)
{
    bool torn = !strcmp(r->text, "torn");
    struct rmod_fault *f = fault_add(m, r->t_ns, -1, r->node, 0, torn ? RMOD_F_TORN : RMOD_F_CRASH);
    if (f) {
        snprintf(f->label, sizeof f->label, "crashed (unsynced tail: %.12s)", r->text[0] ? r->text : "?");
        m->open_crash[r->node] = (int)m->n_faults;
    }
    set_state(m, r->node, r->t_ns, RMOD_ST_DOWN, 0);
    m->crashes++;
    quorum_looking(m, r->t_ns);
    if (m->leader == r->node) {
        m->leader = 0;
        m->leaderless_since_ns = r->t_ns;
    }
}

static void on_fault(struct rmod *m, const struct trd_rec *r)
{
    struct rmod_fault *f = NULL;
    switch (r->kind) {
    case TRD_CRASH: on_crash(m, r); break;
    case TRD_RESTART:
        if (m->open_crash[r->node])
            m->faults[m->open_crash[r->node] - 1].t1_ns = r->t_ns;
        m->open_crash[r->node] = 0;
        m->restarts++;
        set_state(m, r->node, r->t_ns, RMOD_ST_BOOT, 0);
        break;
    case TRD_PAUSE:
        if ((f = fault_add(m, r->t_ns, r->t_ns + r->a * 1000000, r->node, 0, RMOD_F_PAUSE)))
            snprintf(f->label, sizeof f->label, "paused %lld ms", (long long)r->a);
        break;
    case TRD_CLOG:
        if ((f = fault_add(m, r->t_ns, r->t_ns + r->b * 1000000, r->node, r->peer, RMOD_F_CLOG)))
            snprintf(f->label, sizeof f->label, "link to s%d clogged +%lld ms", r->peer, (long long)r->a);
        break;
    case TRD_BLOCK:
        if ((f = fault_add(m, r->t_ns, -1, r->node, r->peer, RMOD_F_BLOCK)))
            snprintf(f->label, sizeof f->label, "messages to s%d blocked", r->peer);
        break;
    case TRD_DROP:
        if ((f = fault_add(m, r->t_ns, r->t_ns, r->node, r->peer, RMOD_F_DROP)))
            snprintf(f->label, sizeof f->label, "connection to s%d dropped", r->peer);
        break;
    case TRD_SKEW:
        if ((f = fault_add(m, r->t_ns, r->t_ns, r->node, 0, RMOD_F_SKEW)))
            snprintf(f->label, sizeof f->label, "clock steps %+.0f ms", (double)r->a / 1e6);
        break;
    case TRD_DRIFT:
        if ((f = fault_add(m, r->t_ns, r->t_ns, r->node, 0, RMOD_F_DRIFT)))
            snprintf(f->label, sizeof f->label, "clock drifts %lld ppm", (long long)r->a);
        break;
    case TRD_START_REFUSED: fault_add(m, r->t_ns, r->t_ns, r->node, 0, RMOD_F_REFUSED); break;
    case TRD_DISK_FULL_EXIT: fault_add(m, r->t_ns, r->t_ns, r->node, 0, RMOD_F_DISK_FULL); break;
    case TRD_PARTITION: on_partition(m, r); break;
    case TRD_HEAL:
        partition_end(m, r->t_ns);
        for (uint32_t i = 0; i < m->n_faults; i++)
            if (m->faults[i].t1_ns < 0 && (m->faults[i].kind == RMOD_F_BLOCK || m->faults[i].kind == RMOD_F_CLOG))
                m->faults[i].t1_ns = r->t_ns;
        break;
    default: break;
    }
}

/* ---- messages ---- */

static int name_index(struct rmod *m, const char *name)
{
    for (int i = 0; i < m->n_names; i++)
        if (!strcmp(m->names[i], name))
            return i;
    if (m->n_names >= RMOD_MSG_NAMES_MAX)
        return RMOD_MSG_NAMES_MAX - 1;
    snprintf(m->names[m->n_names], sizeof m->names[0], "%s", name);
    return m->n_names++;
}

static struct rmod_link_queue *link_q(struct rmod *m, int from, int to)
{
    return &m->links[from * LINKS_DIM + to];
}

static int on_send(struct rmod *m, const struct trd_rec *r)
{
    m->msgs_total++;
    m->msgs_by_class[r->msg_class]++;
    int g = grow((void **)&m->msgs, m->n_msgs, &m->cap_msgs, sizeof *m->msgs, RMOD_MSGS_MAX);
    if (g < 0)
        return -1;
    if (g == 0) {
        m->truncated = true;
        return 0;
    }
    uint32_t i = m->n_msgs++;
    m->msgs[i] = (struct rmod_msg){r->t_ns, -1, r->seq, r->len, (uint8_t)r->node, (uint8_t)r->peer,
                                   (uint8_t)r->msg_class, (uint8_t)name_index(m, r->msg)};
    if (r->lost) {
        m->msgs_lost++;
        return 0;
    }
    struct rmod_link_queue *q = link_q(m, r->node, r->peer);
    if (!q->idx && !(q->idx = malloc(RMOD_LINK_PENDING_MAX * sizeof *q->idx)))
        return -1;
    if (q->n == RMOD_LINK_PENDING_MAX) { /* the oldest is given up as lost */
        q->head = (q->head + 1) % RMOD_LINK_PENDING_MAX, q->n--;
        m->msgs_lost++;
    }
    q->idx[(q->head + q->n++) % RMOD_LINK_PENDING_MAX] = i;
    return 0;
}

/* FIFO per link: sends older than the received one never arrived. */
static void on_recv(struct rmod *m, const struct trd_rec *r)
{
    struct rmod_link_queue *q = link_q(m, r->peer, r->node);
    while (q->n > 0) {
        struct rmod_msg *msg = &m->msgs[q->idx[q->head]];
        q->head = (q->head + 1) % RMOD_LINK_PENDING_MAX, q->n--;
        if (msg->seq == r->seq) {
            msg->t_recv_ns = r->t_ns;
            return;
        }
        m->msgs_lost++;
    }
    m->recv_unpaired++;
}

/* ---- elections and commits ---- */

static void leader_lost(struct rmod *m, int node, int64_t t)
{
    if (m->leader == node) {
        m->leader = 0;
        m->leaderless_since_ns = t;
    }
}

/* A leader is gone for the ensemble once a quorum of voters is looking or
 * down, even if the old leader has not noticed yet (it may be paused). */
static void quorum_looking(struct rmod *m, int64_t t)
{
    int voters = m->voters > 0 ? m->voters : m->n_servers, away = 0;
    for (int s = 1; s <= voters && s <= TRD_SERVERS_MAX; s++) {
        int st = m->cur_state[s];
        away += st == RMOD_ST_LOOKING || st == RMOD_ST_DOWN || st == RMOD_ST_BOOT;
    }
    if (away >= voters / 2 + 1 && m->leaderless_since_ns < 0) {
        m->leader = 0;
        m->leaderless_since_ns = t;
    }
}

static void on_established(struct rmod *m, const struct trd_rec *r)
{
    uint32_t epoch = (uint32_t)r->a;
    set_state(m, r->node, r->t_ns, RMOD_ST_LEADING, epoch);
    if (m->leaderless_since_ns >= 0) {
        if (m->n_elections < RMOD_ELECTIONS_MAX)
            m->elections[m->n_elections++] = (struct rmod_election){m->leaderless_since_ns, r->t_ns,
                                                                    r->node, epoch};
        else
            m->truncated = true;
        m->leaderless_ns += r->t_ns - m->leaderless_since_ns;
        m->leaderless_since_ns = -1;
    }
    m->leader = r->node, m->leader_epoch = epoch;
}

static int on_proposed(struct rmod *m, const struct trd_rec *r)
{
    struct rmod_prop_queue *q = &m->props[r->node];
    m->proposals++;
    if (!q->q && !(q->q = malloc(RMOD_PROPOSED_MAX * sizeof *q->q)))
        return -1;
    if (q->n == RMOD_PROPOSED_MAX)
        q->head = (q->head + 1) % RMOD_PROPOSED_MAX, q->n--;
    q->q[(q->head + q->n++) % RMOD_PROPOSED_MAX] = (struct rmod_prop){(uint64_t)r->a, r->t_ns};
    return 0;
}

static int on_committed(struct rmod *m, const struct trd_rec *r)
{
    if (m->cur_state[r->node] != RMOD_ST_LEADING)
        return 0; /* one commit counted once: on its leader */
    struct rmod_prop_queue *q = &m->props[r->node];
    m->commits_total++;
    while (q->n > 0 && q->q[q->head].zxid < (uint64_t)r->a)
        q->head = (q->head + 1) % RMOD_PROPOSED_MAX, q->n--;
    if (q->n == 0 || q->q[q->head].zxid != (uint64_t)r->a)
        return 0;
    int64_t t_prop = q->q[q->head].t_ns;
    q->head = (q->head + 1) % RMOD_PROPOSED_MAX, q->n--;
    if (m->n_commits >= RMOD_COMMITS_MAX) {
        m->truncated = true;
        return 0;
    }
    if (m->n_commits % 4096 == 0) {
        size_t ncap = (size_t)m->n_commits + 4096;
        int64_t *t = realloc(m->commit_t_ns, ncap * sizeof *t);
        if (t)
            m->commit_t_ns = t;
        double *l = realloc(m->commit_latency_ms, ncap * sizeof *l);
        if (l)
            m->commit_latency_ms = l;
        if (!t || !l)
            return -1;
    }
    m->commit_t_ns[m->n_commits] = r->t_ns;
    m->commit_latency_ms[m->n_commits++] = (double)(r->t_ns - t_prop) / 1e6;
    return 0;
}

static void on_elected(struct rmod *m, const struct trd_rec *r)
{
    uint32_t epoch = m->cur_epoch[r->node];
    if (r->b == TRD_ROLE_LEADING)
        set_state(m, r->node, r->t_ns, RMOD_ST_LEADING_DISCOVERY, epoch);
    else if (r->b == TRD_ROLE_OBSERVING)
        set_state(m, r->node, r->t_ns, RMOD_ST_OBSERVING, epoch);
    else
        set_state(m, r->node, r->t_ns, RMOD_ST_FOLLOWING_SYNC, epoch);
}

static int on_replica_event(struct rmod *m, const struct trd_rec *r)
{
    int n = r->node, st = m->cur_state[n];
    switch (r->kind) {
    case TRD_LOOKING:
        m->n_looking++;
        leader_lost(m, n, r->t_ns);
        set_state(m, n, r->t_ns, RMOD_ST_LOOKING, m->cur_epoch[n]);
        quorum_looking(m, r->t_ns);
        break;
    case TRD_ELECTED: on_elected(m, r); break;
    case TRD_EPOCH_ACCEPTED: case TRD_EPOCH_CURRENT:
        if (r->a > m->max_epoch)
            m->max_epoch = (uint32_t)r->a;
        /* The band being drawn (discovery/sync) is for the new epoch. */
        m->cur_epoch[n] = (uint32_t)r->a;
        break;
    case TRD_SYNC_RECEIVED:
        if (r->a >= 0 && r->a < 4)
            m->n_sync[r->a]++;
        break;
    case TRD_UPTODATE:
        if (st == RMOD_ST_FOLLOWING_SYNC)
            set_state(m, n, r->t_ns, RMOD_ST_FOLLOWING, (uint32_t)r->a);
        break;
    case TRD_ESTABLISHED: on_established(m, r); break;
    case TRD_STEP_DOWN: case TRD_FOLLOWER_QUIT:
        /* back to LOOKING (the LOOKING record that follows changes nothing) */
        leader_lost(m, n, r->t_ns);
        set_state(m, n, r->t_ns, RMOD_ST_LOOKING, m->cur_epoch[n]);
        quorum_looking(m, r->t_ns);
        break;
    case TRD_PROPOSED: return on_proposed(m, r);
    case TRD_COMMITTED: return on_committed(m, r);
    default: break;
    }
    return 0;
}

static int model_init(struct rmod *m)
{
    memset(m, 0, sizeof *m);
    m->segs = calloc(RMOD_SEGS_MAX, sizeof *m->segs);
    m->faults = calloc(RMOD_FAULTS_MAX, sizeof *m->faults);
    m->elections = calloc(RMOD_ELECTIONS_MAX, sizeof *m->elections);
    m->links = calloc((size_t)LINKS_DIM * LINKS_DIM, sizeof *m->links);
    m->props = calloc(LINKS_DIM, sizeof *m->props);
    for (int s = 0; s <= TRD_SERVERS_MAX; s++)
        m->cur_since[s] = -1;
    m->leaderless_since_ns = 0;
    if (rmod_clients_init(m) < 0)
        return -1;
    return m->segs && m->faults && m->elections && m->links && m->props ? 0 : -1;
}

static int model_add(struct rmod *m, const struct trd_rec *r)
{
    m->records++;
    if (r->t_ns > m->t_end_ns)
        m->t_end_ns = r->t_ns;
    if (r->node > m->n_servers)
        m->n_servers = r->node;
    if (r->kind == TRD_START) {
        m->seed = (uint64_t)r->a, m->voters = (int)r->b, m->observers = (int)r->c;
        if (m->voters + m->observers > m->n_servers && m->voters + m->observers <= TRD_SERVERS_MAX)
            m->n_servers = m->voters + m->observers;
        return 0;
    }
    if (r->kind == TRD_SEND)
        return on_send(m, r);
    if (r->kind == TRD_C_SEND || r->kind == TRD_C_RECV || r->kind == TRD_C_SESSION)
        return rmod_client_add(m, r);
    if (r->kind == TRD_RECV) {
        on_recv(m, r);
        return 0;
    }
    if (r->kind >= TRD_STARTED && r->node > 0)
        return on_replica_event(m, r);
    if (r->kind == TRD_OTHER)
        m->unknown_records++;
    else if (r->kind != TRD_FAULT && r->kind != TRD_CONN_BROKEN && r->kind != TRD_PROPOSE &&
             (r->node > 0 || r->kind == TRD_PARTITION || r->kind == TRD_HEAL))
        on_fault(m, r);
    return 0;
}

static void model_finish(struct rmod *m)
{
    for (int s = 1; s <= m->n_servers; s++)
        seg_close(m, s, m->t_end_ns);
    for (uint32_t i = 0; i < m->n_faults; i++)
        if (m->faults[i].t1_ns < 0)
            m->faults[i].t1_ns = m->t_end_ns;
    for (int i = 0; i < LINKS_DIM * LINKS_DIM; i++)
        m->msgs_lost += m->links[i].n; /* never arrived before the run ended */
    rmod_clients_finish(m);
    if (m->leaderless_since_ns >= 0) {
        m->leaderless_ns += m->t_end_ns - m->leaderless_since_ns;
        if (m->n_elections < RMOD_ELECTIONS_MAX)
            m->elections[m->n_elections++] = (struct rmod_election){m->leaderless_since_ns, -1, 0, 0};
    }
}

int rmod_build(struct rmod *m, FILE *trace, const char *name, char *err, size_t errlen)
{
    if (model_init(m) < 0) {
        rmod_free(m);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct trd_reader *rd = malloc(sizeof *rd); /* its line buffer is too big for a stack */
    if (!rd) {
        rmod_free(m);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    trd_init(rd, trace, name);
    struct trd_rec rec;
    int rc;
    while ((rc = trd_next(rd, &rec, err, errlen)) == 1) {
        if (model_add(m, &rec) < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    free(rd);
    if (rc < 0) {
        rmod_free(m);
        return -1;
    }
    model_finish(m);
    return 0;
}

void rmod_free(struct rmod *m)
{
    free(m->segs);
    free(m->faults);
    free(m->elections);
    free(m->msgs);
    if (m->links)
        for (int i = 0; i < LINKS_DIM * LINKS_DIM; i++)
            free(m->links[i].idx);
    free(m->links);
    if (m->props)
        for (int i = 0; i < LINKS_DIM; i++)
            free(m->props[i].q);
    free(m->props);
    free(m->commit_t_ns);
    free(m->commit_latency_ms);
    rmod_clients_free(m);
    memset(m, 0, sizeof *m);
}
