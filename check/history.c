/* check/history: event storage, string interning, pairing, file loading.
 * Owns the chk_history memory. Must never abort on bad input: every error is
 * returned as a value with "file:line:col: message". */
#include "check/history.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const f_names[CHK_F_COUNT] = {
    [CHK_F_NONE] = "none",
    [CHK_F_READ] = "read", [CHK_F_WRITE] = "write", [CHK_F_CAS] = "cas",
    [CHK_F_GET] = "get", [CHK_F_PUT] = "put", [CHK_F_APPEND] = "append",
    [CHK_F_CREATE] = "create", [CHK_F_DELETE] = "delete",
    [CHK_F_SET_DATA] = "setData", [CHK_F_GET_DATA] = "getData",
    [CHK_F_EXISTS] = "exists", [CHK_F_GET_CHILDREN] = "getChildren",
    [CHK_F_CHECK] = "check", [CHK_F_MULTI] = "multi", [CHK_F_SYNC] = "sync",
    [CHK_F_CLOSE] = "close",
    [CHK_F_ACQUIRE] = "acquire", [CHK_F_RELEASE] = "release",
    [CHK_F_ENQUEUE] = "enqueue", [CHK_F_DEQUEUE] = "dequeue", [CHK_F_QUEUE_READ] = "queue-read",
    [CHK_F_CONFIG_WRITE] = "config-write", [CHK_F_CONFIG_READ] = "config-read",
    [CHK_F_LEAD] = "lead", [CHK_F_RESIGN] = "resign", [CHK_F_ENTER] = "enter",
};

static const struct { int32_t code; const char *name; } states[] = {
    {CHK_STATE_DISCONNECTED, "Disconnected"}, {CHK_STATE_SYNC_CONNECTED, "SyncConnected"},
    {CHK_STATE_EXPIRED, "Expired"}, {CHK_STATE_CLOSED, "Closed"},
};

const char *chk_state_name(int32_t state)
{
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (states[i].code == state)
            return states[i].name;
    return "?";
}

int chk_state_parse(const char *s, size_t len, int32_t *out)
{
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strlen(states[i].name) == len && !strncasecmp(states[i].name, s, len)) {
            *out = states[i].code;
            return 0;
        }
    return -1;
}

const char *chk_f_name(enum chk_f f)
{
    return (f > CHK_F_NONE && f < CHK_F_COUNT) ? f_names[f] : "?";
}

enum chk_f chk_f_parse(const char *s, size_t len)
{
    for (int f = CHK_F_READ; f < CHK_F_COUNT; f++)
        if (strlen(f_names[f]) == len && !memcmp(f_names[f], s, len))
            return (enum chk_f)f;
    return CHK_F_NONE;
}

const char *chk_verdict_name(enum chk_verdict v)
{
    switch (v) {
    case CHK_VERDICT_OK: return "ok";
    case CHK_VERDICT_VIOLATION: return "violation";
    case CHK_VERDICT_BAD_INPUT: return "bad input";
    case CHK_VERDICT_UNKNOWN: return "unknown";
    default: return "internal error";
    }
}

const char *chk_type_name(enum chk_type t)
{
    static const char *const n[] = {"invoke", "ok", "fail", "info", "watch"};
    return (unsigned)t < 5 ? n[t] : "?";
}

static const struct { int32_t code; const char *name; } zerrs[] = {
    {CHK_ZOK, "OK"}, {CHK_ZRUNTIMEINCONSISTENCY, "RUNTIMEINCONSISTENCY"},
    {CHK_ZNONODE, "NONODE"}, {CHK_ZBADVERSION, "BADVERSION"},
    {CHK_ZNOCHILDRENFOREPHEMERALS, "NOCHILDRENFOREPHEMERALS"},
    {CHK_ZNODEEXISTS, "NODEEXISTS"}, {CHK_ZNOTEMPTY, "NOTEMPTY"},
    {-4, "CONNECTIONLOSS"}, {-7, "OPERATIONTIMEOUT"}, {-112, "SESSIONEXPIRED"},
    {-8, "BADARGUMENTS"}, {-102, "NOAUTH"},
};

const char *chk_zerr_name(int32_t err)
{
    for (size_t i = 0; i < sizeof zerrs / sizeof zerrs[0]; i++)
        if (zerrs[i].code == err)
            return zerrs[i].name;
    return "ERROR";
}

int chk_zerr_parse(const char *s, size_t len, int32_t *out)
{
    for (size_t i = 0; i < sizeof zerrs / sizeof zerrs[0]; i++)
        if (strlen(zerrs[i].name) == len && !memcmp(zerrs[i].name, s, len)) {
            *out = zerrs[i].code;
            return 0;
        }
    return -1;
}

bool chk_f_is_write(enum chk_f f)
{
    switch (f) {
    case CHK_F_WRITE: case CHK_F_CAS: case CHK_F_PUT: case CHK_F_APPEND:
    case CHK_F_CREATE: case CHK_F_DELETE: case CHK_F_SET_DATA:
    case CHK_F_MULTI: case CHK_F_CLOSE:
        return true;
    default:
        return false;
    }
}

bool chk_op_observed(const struct chk_history *h, const struct chk_op *op)
{
    if (op->status == CHK_ST_OK)
        return true;
    return op->status == CHK_ST_FAIL && op->ret != CHK_NONE && h->events[op->ret].err != 0;
}

void chk_fmt_when(const struct chk_event *ev, char *buf, size_t len)
{
    if (ev->has_time)
        snprintf(buf, len, "t=%.3fs", (double)ev->time_ns / 1e9);
    else
        snprintf(buf, len, "line %u", ev->line);
}

struct chk_history *chk_history_new(const char *name)
{
    struct chk_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->name = name ? name : "<memory>";
    return h;
}

void chk_history_free(struct chk_history *h)
{
    if (!h)
        return;
    free(h->events);
    free(h->ops);
    free(h->names);
    free(h->subs);
    free(h->str_bytes);
    free(h->str_off);
    free(h->str_size);
    free(h->str_hash);
    free(h);
}

/* Grows *p (elements of size sz) to hold at least need; doubling. */
static int grow(void **p, uint32_t *cap, uint32_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    uint32_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > UINT32_MAX / 2)
            return -1;
        c *= 2;
    }
    void *n = realloc(*p, (size_t)c * sz);
    if (!n)
        return -1;
    *p = n;
    *cap = c;
    return 0;
}

static uint32_t str_hash_fn(const char *s, size_t len)
{
    uint32_t x = 2166136261u;            /* FNV-1a: deterministic, no seed */
    for (size_t i = 0; i < len; i++)
        x = (x ^ (uint8_t)s[i]) * 16777619u;
    return x;
}

static int str_rehash(struct chk_history *h)
{
    uint32_t cap = h->str_hash_cap ? h->str_hash_cap * 2 : 256;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (uint32_t id = 1; id < h->n_strs; id++) {
        uint32_t i = str_hash_fn(h->str_bytes + h->str_off[id], h->str_size[id]) & (cap - 1);
        while (t[i])
            i = (i + 1) & (cap - 1);
        t[i] = id;
    }
    free(h->str_hash);
    h->str_hash = t;
    h->str_hash_cap = cap;
    return 0;
}

chk_str chk_str_intern(struct chk_history *h, const char *s, size_t len)
{
    if (h->n_strs == 0)
        h->n_strs = 1;                   /* id 0 is reserved for "none" */
    if ((h->n_strs + 1) * 2 > h->str_hash_cap && str_rehash(h))
        return 0;
    uint32_t mask = h->str_hash_cap - 1;
    uint32_t i = str_hash_fn(s, len) & mask;
    for (; h->str_hash[i]; i = (i + 1) & mask) {
        uint32_t id = h->str_hash[i];
        if (h->str_size[id] == len && !memcmp(h->str_bytes + h->str_off[id], s, len))
            return id;
    }
    if (len > UINT32_MAX / 2 || h->str_len + len + 1 > UINT32_MAX)
        return 0;
    if (h->n_strs + 1 > h->cap_strs) {
        uint32_t c = h->cap_strs ? h->cap_strs * 2 : 256;
        uint32_t *o = realloc(h->str_off, (size_t)c * sizeof *o);
        if (o)
            h->str_off = o;
        uint32_t *z = o ? realloc(h->str_size, (size_t)c * sizeof *z) : NULL;
        if (!z)
            return 0;
        h->str_size = z;
        h->cap_strs = c;
    }
    /* s may point into our own bytes (a suffix of an interned path): keep
     * its offset, since growing the buffer moves it */
    uintptr_t sp = (uintptr_t)s, base = (uintptr_t)h->str_bytes;
    bool inside = h->str_bytes && sp >= base && sp < base + h->str_cap;
    size_t inside_off = inside ? (size_t)(sp - base) : 0;
    while (h->str_len + len + 1 > h->str_cap) {
        size_t c = h->str_cap ? h->str_cap * 2 : 4096;
        char *b = realloc(h->str_bytes, c);
        if (!b)
            return 0;
        h->str_bytes = b;
        h->str_cap = c;
    }
    if (inside)
        s = h->str_bytes + inside_off;
    uint32_t id = h->n_strs++;
    h->str_off[id] = (uint32_t)h->str_len;
    h->str_size[id] = (uint32_t)len;
    memcpy(h->str_bytes + h->str_len, s, len);
    h->str_bytes[h->str_len + len] = 0;
    h->str_len += len + 1;
    h->str_hash[i] = id;
    return id;
}

const char *chk_str_get(const struct chk_history *h, chk_str id)
{
    if (id == 0 || id >= h->n_strs)
        return "";
    return h->str_bytes + h->str_off[id];
}

uint32_t chk_str_len(const struct chk_history *h, chk_str id)
{
    return (id == 0 || id >= h->n_strs) ? 0 : h->str_size[id];
}

uint32_t chk_history_add(struct chk_history *h, const struct chk_event *ev)
{
    if (h->n_events >= CHK_EVENTS_MAX)
        return CHK_NONE;
    if (grow((void **)&h->events, &h->cap_events, h->n_events + 1, sizeof *ev))
        return CHK_NONE;
    h->events[h->n_events] = *ev;
    return h->n_events++;
}

uint32_t chk_history_add_names(struct chk_history *h, const chk_str *names, uint32_t n)
{
    if (grow((void **)&h->names, &h->cap_names, h->n_names + n + 1, sizeof *names))
        return CHK_NONE;
    uint32_t first = h->n_names;
    memcpy(h->names + first, names, (size_t)n * sizeof *names);
    h->n_names += n;
    return first;
}

uint32_t chk_history_add_subs(struct chk_history *h, const struct chk_sub *subs, uint32_t n)
{
    if (grow((void **)&h->subs, &h->cap_subs, h->n_subs + n + 1, sizeof *subs))
        return CHK_NONE;
    uint32_t first = h->n_subs;
    memcpy(h->subs + first, subs, (size_t)n * sizeof *subs);
    h->n_subs += n;
    return first;
}

static void fail_at(char *err, size_t errlen, const struct chk_history *h,
                    const struct chk_event *ev, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "%s:%u:%u: ", h->name, ev->line, ev->col ? ev->col : 1);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Pending invocations, one per process, in a small open-addressing map. */
struct pend_map {
    int64_t *proc;
    uint32_t *op;                        /* CHK_NONE = slot empty */
    uint32_t cap;
};

static uint32_t pend_slot(const struct pend_map *m, int64_t proc)
{
    uint64_t x = (uint64_t)proc * 0x9e3779b97f4a7c15ull;
    uint32_t i = (uint32_t)(x >> 32) & (m->cap - 1);
    while (m->op[i] != CHK_NONE && m->proc[i] != proc)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* Deleting from linear probing: re-insert the cluster that follows. */
static void pend_del(struct pend_map *m, uint32_t i)
{
    m->op[i] = CHK_NONE;
    for (uint32_t j = (i + 1) & (m->cap - 1); m->op[j] != CHK_NONE; j = (j + 1) & (m->cap - 1)) {
        int64_t p = m->proc[j];
        uint32_t o = m->op[j];
        m->op[j] = CHK_NONE;
        uint32_t k = pend_slot(m, p);
        m->proc[k] = p;
        m->op[k] = o;
    }
}

static int pair_one(struct chk_history *h, struct pend_map *m, uint32_t e,
                    char *err, size_t errlen)
{
    const struct chk_event *ev = &h->events[e];
    uint32_t s = pend_slot(m, ev->process);
    if (ev->type == CHK_INVOKE) {
        if (m->op[s] != CHK_NONE) {
            const struct chk_event *pe = &h->events[h->ops[m->op[s]].inv];
            fail_at(err, errlen, h, ev, "process %lld invokes %s while its %s invoked at line %u "
                    "has not completed", (long long)ev->process, chk_f_name(ev->f),
                    chk_f_name(pe->f), pe->line);
            return -1;
        }
        struct chk_op *op = &h->ops[h->n_ops];
        op->inv = e;
        op->ret = CHK_NONE;
        op->f = ev->f;
        op->status = CHK_ST_INFO;
        op->process = ev->process;
        op->session = ev->session;
        m->proc[s] = ev->process;
        m->op[s] = h->n_ops++;
        return 0;
    }
    if (m->op[s] == CHK_NONE) {
        fail_at(err, errlen, h, ev, "%s completion of %s by process %lld without an invocation",
                chk_type_name(ev->type), chk_f_name(ev->f), (long long)ev->process);
        return -1;
    }
    struct chk_op *op = &h->ops[m->op[s]];
    if (ev->f != op->f) {
        fail_at(err, errlen, h, ev, "process %lld completes %s but invoked %s at line %u",
                (long long)ev->process, chk_f_name(ev->f), chk_f_name(op->f), h->events[op->inv].line);
        return -1;
    }
    op->status = ev->type == CHK_OK ? CHK_ST_OK : ev->type == CHK_FAIL ? CHK_ST_FAIL : CHK_ST_INFO;
    /* An info completion tells nothing: keep ret unset so that the op's
     * end is +infinity, as for a client that crashed. */
    if (ev->type != CHK_INFO)
        op->ret = e;
    pend_del(m, s);
    return 0;
}

int chk_history_pair(struct chk_history *h, char *err, size_t errlen)
{
    free(h->ops);
    h->ops = calloc(h->n_events + 1, sizeof *h->ops);
    struct pend_map m = {0};
    m.cap = 64;
    while (m.cap < 2 * (h->n_events + 1))
        m.cap *= 2;
    m.proc = calloc(m.cap, sizeof *m.proc);
    m.op = malloc(m.cap * sizeof *m.op);
    int rc = 0;
    if (!h->ops || !m.proc || !m.op) {
        snprintf(err, errlen, "%s: out of memory", h->name);
        rc = -1;
    } else {
        memset(m.op, 0xff, m.cap * sizeof *m.op);
        h->n_ops = 0;
        for (uint32_t e = 0; e < h->n_events && rc == 0; e++)
            if (h->events[e].type != CHK_WATCH)
                rc = pair_one(h, &m, e, err, errlen);
    }
    free(m.proc);
    free(m.op);
    return rc;
}

/* Checks that times never go backwards: the line order is the real-time
 * order the checkers rely on, and a time that contradicts it is bad input. */
static int check_times(struct chk_history *h, char *err, size_t errlen)
{
    int64_t last = INT64_MIN;
    for (uint32_t e = 0; e < h->n_events; e++) {
        const struct chk_event *ev = &h->events[e];
        if (!ev->has_time)
            continue;
        if (ev->time_ns < last) {
            fail_at(err, errlen, h, ev, "time %lld goes backwards (previous event at %lld)",
                    (long long)ev->time_ns, (long long)last);
            return -1;
        }
        last = ev->time_ns;
    }
    return 0;
}

static enum chk_format sniff(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i < len && text[i] == '#')
        return CHK_FMT_EDN;
    if (i < len && text[i] == '{') {
        i++;
        while (i < len && (text[i] == ' ' || text[i] == '\t'))
            i++;
        if (i < len && text[i] == ':')
            return CHK_FMT_EDN;
    }
    return CHK_FMT_JSONL;
}

struct chk_history *chk_history_parse(const char *name, const char *text, size_t len,
                                      enum chk_format fmt, char *err, size_t errlen)
{
    struct chk_history *h = chk_history_new(name);
    if (!h) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    if (fmt == CHK_FMT_AUTO)
        fmt = sniff(text, len);
    uint32_t lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t ll = end - pos;
        lineno++;
        if (ll > CHK_LINE_MAX) {
            snprintf(err, errlen, "%s:%u:1: line longer than %u bytes", name, lineno, CHK_LINE_MAX);
            goto fail;
        }
        struct chk_event ev;
        int r = fmt == CHK_FMT_EDN
            ? chk_edn_parse_line(h, text + pos, ll, lineno, &ev, err, errlen)
            : chk_jsonl_parse_line(h, text + pos, ll, lineno, &ev, err, errlen);
        if (r < 0)
            goto fail;
        if (r > 0 && chk_history_add(h, &ev) == CHK_NONE) {
            snprintf(err, errlen, "%s:%u:1: too many events (limit %u)", name, lineno, CHK_EVENTS_MAX);
            goto fail;
        }
        pos = end + 1;
    }
    if (check_times(h, err, errlen) || chk_history_pair(h, err, errlen))
        goto fail;
    return h;
fail:
    chk_history_free(h);
    return NULL;
}

struct chk_history *chk_history_load(const char *path, enum chk_format fmt,
                                     char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *b = cap < ((size_t)1 << 34) ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = buf == NULL || ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error or out of memory", path);
        return NULL;
    }
    size_t pl = strlen(path);
    if (fmt == CHK_FMT_AUTO && pl > 4 && !strcmp(path + pl - 4, ".edn"))
        fmt = CHK_FMT_EDN;               /* the name wins over sniffing */
    else if (fmt == CHK_FMT_AUTO && pl > 6 && !strcmp(path + pl - 6, ".jsonl"))
        fmt = CHK_FMT_JSONL;
    struct chk_history *h = chk_history_parse(path, buf, len, fmt, err, errlen);
    free(buf);
    return h;
}
