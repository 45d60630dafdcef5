/* zoo.cfg parser. Owns the grammar (one `key=value` per line, `#`/`!`
 * comments, `key value` and `key:value` forms as in Java properties, values
 * trimmed) and the checks ZooKeeper makes at start-up. Positions in messages
 * are 1-based line:col of the offending token; a missing key is reported at
 * the end of the file. Never: allocate, read beyond `len`, or accept a value
 * that does not fully parse. */
#include "server/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/zk_proto.h"

struct span {
    const char *s;
    size_t n;
};

struct parser {
    struct cfg *c;
    const char *name;
    const char *line_start;
    int line;
    char *err;
    size_t err_cap;
    /* Positions of values that later cross-field checks point at. */
    int min_to_line, min_to_col, max_to_line, max_to_col;
    int client_port_line, client_port_col;
    int wq_line, wq_col;
};

static int fail_at(struct parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *p, int line, int col, const char *fmt, ...)
{
    if (!p->err || p->err_cap == 0)
        return -1;
    int n = snprintf(p->err, p->err_cap, "%s:%d:%d: ", p->name, line, col);
    if (n >= 0 && (size_t)n < p->err_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->err_cap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int col_of(const struct parser *p, const char *at)
{
    return (int)(at - p->line_start) + 1;
}

static void warn(struct parser *p, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(struct parser *p, const char *at, const char *fmt, ...)
{
    struct cfg_warnings *w = &p->c->warnings;
    if (w->count >= CFG_WARN_MAX) {
        w->dropped++;
        return;
    }
    char *m = w->msg[w->count++];
    int n = snprintf(m, CFG_MSG_MAX, "%s:%d:%d: warning: ", p->name, p->line, col_of(p, at));
    if (n >= 0 && n < CFG_MSG_MAX) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m + n, CFG_MSG_MAX - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

/* ---- small lexical helpers ---------------------------------------------- */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f' || ch == '\r';
}

static struct span trim(struct span v)
{
    while (v.n && is_blank(v.s[0]))
        v.s++, v.n--;
    while (v.n && is_blank(v.s[v.n - 1]))
        v.n--;
    return v;
}

static bool span_eq(struct span v, const char *lit)
{
    size_t n = strlen(lit);
    return v.n == n && memcmp(v.s, lit, n) == 0;
}

static bool span_eq_nocase(struct span v, const char *lit)
{
    if (v.n != strlen(lit))
        return false;
    for (size_t i = 0; i < v.n; i++) {
        char a = v.s[i], b = lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

/* Decimal (or, with hex_ok, 0x-prefixed hex) integer filling the whole span,
 * within [min, max]. */
static bool span_to_i64(struct span v, int64_t min, int64_t max, bool hex_ok, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < v.n && (v.s[i] == '+' || v.s[i] == '-'))
        neg = v.s[i++] == '-';
    unsigned base = 10;
    if (hex_ok && v.n - i > 2 && v.s[i] == '0' && (v.s[i + 1] == 'x' || v.s[i + 1] == 'X'))
        base = 16, i += 2;
    if (i == v.n)
        return false;
    uint64_t acc = 0;
    for (; i < v.n; i++) {
        char ch = v.s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
        else if (base == 16 && ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
        else if (base == 16 && ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
        else return false;
        if (acc > (UINT64_MAX - d) / base || acc * base + d > (uint64_t)INT64_MAX + 1)
            return false;
        acc = acc * base + d;
    }
    if (!neg && acc > (uint64_t)INT64_MAX)
        return false;
    int64_t val = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    if (val < min || val > max)
        return false;
    *out = val;
    return true;
}

static int parse_int(struct parser *p, struct span key, struct span v, int64_t min,
                     int64_t max, int64_t *out)
{
    if (span_to_i64(v, min, max, false, out))
        return 0;
    return fail_at(p, p->line, col_of(p, v.s), "%.*s: '%.*s' is not a number in [%lld, %lld]",
                   (int)key.n, key.s, (int)v.n, v.s, (long long)min, (long long)max);
}

static int copy_str(struct parser *p, struct span key, struct span v, char *dst, size_t cap)
{
    if (v.n == 0)
        return fail_at(p, p->line, col_of(p, v.s), "%.*s: empty value", (int)key.n, key.s);
    if (v.n >= cap)
        return fail_at(p, p->line, col_of(p, v.s), "%.*s: value longer than %zu bytes",
                       (int)key.n, key.s, cap - 1);
    memcpy(dst, v.s, v.n);
    dst[v.n] = '\0';
    return 0;
}

/* ---- server.N=host:quorumPort:electionPort[:role][;[addr:]clientPort] --- */

static int parse_port(struct parser *p, struct span v, const char *what, uint16_t *out)
{
    int64_t n;
    if (!span_to_i64(v, 1, 65535, false, &n))
        return fail_at(p, p->line, col_of(p, v.s), "%s '%.*s' is not a port in [1, 65535]",
                       what, (int)v.n, v.s);
    *out = (uint16_t)n;
    return 0;
}

/* Splits "host:rest" where host may be "[v6addr]"; returns rest after ':'. */
static int split_host(struct parser *p, struct span v, char *host, struct span *rest)
{
    const char *end;
    struct span h;
    if (v.n && v.s[0] == '[') {
        end = memchr(v.s, ']', v.n);
        if (!end || (size_t)(end - v.s) + 1 >= v.n || end[1] != ':')
            return fail_at(p, p->line, col_of(p, v.s), "unterminated [address] or missing ':'");
        h = (struct span){ v.s + 1, (size_t)(end - v.s) - 1 };
        end++;
    } else {
        end = memchr(v.s, ':', v.n);
        if (!end)
            return fail_at(p, p->line, col_of(p, v.s), "expected host:port in '%.*s'",
                           (int)v.n, v.s);
        h = (struct span){ v.s, (size_t)(end - v.s) };
    }
    if (copy_str(p, (struct span){ "host", 4 }, h, host, CFG_HOST_MAX))
        return -1;
    *rest = (struct span){ end + 1, v.n - (size_t)(end + 1 - v.s) };
    return 0;
}

static struct span next_field(struct span *rest, char sep)
{
    const char *at = memchr(rest->s, sep, rest->n);
    struct span f = { rest->s, at ? (size_t)(at - rest->s) : rest->n };
    if (at)
        *rest = (struct span){ at + 1, rest->n - f.n - 1 };
    else
        *rest = (struct span){ rest->s + rest->n, 0 };
    return f;
}

static int parse_server_quorum(struct parser *p, struct span v, struct cfg_server *s)
{
    struct span rest;
    if (split_host(p, v, s->host, &rest))
        return -1;
    struct span qp = next_field(&rest, ':');
    if (parse_port(p, qp, "quorum port", &s->quorum_port))
        return -1;
    if (qp.s + qp.n == v.s + v.n)
        return fail_at(p, p->line, col_of(p, v.s + v.n), "missing election port");
    struct span ep = next_field(&rest, ':');
    if (parse_port(p, ep, "election port", &s->election_port))
        return -1;
    if (ep.s + ep.n == v.s + v.n)
        return 0;
    struct span role = next_field(&rest, ':');
    if (span_eq_nocase(role, "participant"))
        s->role = CFG_ROLE_PARTICIPANT;
    else if (span_eq_nocase(role, "observer"))
        s->role = CFG_ROLE_OBSERVER;
    else
        return fail_at(p, p->line, col_of(p, role.s),
                       "role '%.*s' is neither participant nor observer", (int)role.n, role.s);
    if (role.s + role.n != v.s + v.n)
        return fail_at(p, p->line, col_of(p, role.s + role.n + 1), "unexpected text after role");
    return 0;
}

static int parse_server_client(struct parser *p, struct span v, struct cfg_server *s)
{
    v = trim(v);
    const char *colon = NULL;
    for (size_t i = v.n; i-- > 0;)
        if (v.s[i] == ':') {
            colon = v.s + i;
            break;
        }
    /* A colon inside "[v6addr]" is part of the address, not a separator. */
    const char *bracket_end = v.n && v.s[0] == '[' ? memchr(v.s, ']', v.n) : NULL;
    bool colon_in_brackets = colon && v.n && v.s[0] == '[' &&
                             (!bracket_end || colon < bracket_end);
    if (colon && !colon_in_brackets) {
        struct span rest;
        if (split_host(p, v, s->client_host, &rest))
            return -1;
        return parse_port(p, rest, "client port", &s->client_port);
    }
    return parse_port(p, v, "client port", &s->client_port);
}

static int parse_server(struct parser *p, struct span key, struct span v)
{
    struct cfg *c = p->c;
    struct span id_text = { key.s + 7, key.n - 7 };
    int64_t id;
    if (!span_to_i64(id_text, 0, INT64_MAX, false, &id))
        return fail_at(p, p->line, col_of(p, id_text.s), "server id '%.*s' is not a number >= 0",
                       (int)id_text.n, id_text.s);
    for (int i = 0; i < c->server_count; i++)
        if (c->servers[i].id == id)
            return fail_at(p, p->line, col_of(p, id_text.s),
                           "duplicate server id %lld (first on line %d)", (long long)id,
                           c->servers[i].line);
    if (c->server_count == CFG_SERVERS_MAX)
        return fail_at(p, p->line, 1, "more than %d servers", CFG_SERVERS_MAX);
    if (memchr(v.s, '|', v.n))
        return fail_at(p, p->line, col_of(p, memchr(v.s, '|', v.n)),
                       "multiple addresses per server are not supported");
    struct cfg_server *s = &c->servers[c->server_count];
    memset(s, 0, sizeof *s);
    s->id = id;
    s->line = p->line;
    struct span client = { v.s + v.n, 0 };
    const char *semi = memchr(v.s, ';', v.n);
    if (semi) {
        client = (struct span){ semi + 1, v.n - (size_t)(semi + 1 - v.s) };
        v.n = (size_t)(semi - v.s);
    }
    if (parse_server_quorum(p, trim(v), s))
        return -1;
    if (semi && parse_server_client(p, client, s))
        return -1;
    c->server_count++;
    return 0;
}

/* ---- simple keys -------------------------------------------------------- */

static int parse_whitelist(struct parser *p, struct span v)
{
    uint32_t mask = 0;
    struct span rest = v;
    while (rest.n) {
        struct span w = trim(next_field(&rest, ','));
        if (w.n == 0)
            continue;
        if (span_eq(w, "*")) {
            mask = (1u << ZKP_4LW_COUNT) - 2u; /* every word, not NONE */
            continue;
        }
        enum zkp_4lw word = zkp_4lw_from_name(w.s, w.n);
        if (word == ZKP_4LW_NONE)
            warn(p, w.s, "4lw.commands.whitelist: unknown word '%.*s' ignored", (int)w.n, w.s);
        else
            mask |= 1u << word;
    }
    p->c->four_lw_allowed = mask;
    return 0;
}

static int set_int32(struct parser *p, struct span key, struct span v, int64_t min,
                     int32_t *dst)
{
    int64_t n;
    if (parse_int(p, key, v, min, INT32_MAX, &n))
        return -1;
    *dst = (int32_t)n;
    return 0;
}

/* Settings a real ZooKeeper accepts that zabd has no use for: they get a
 * milder warning than a key nobody knows (likely a typo). */
static bool is_zookeeper_key_unused(struct span key)
{
    static const char *const names[] = {
        "electionAlg", "peerType", "standaloneEnabled", "reconfigEnabled",
        "dynamicConfigFile", "autopurge.snapRetainCount", "autopurge.purgeInterval",
        "preAllocSize", "globalOutstandingLimit", "leaderServes",
        "admin.enableServer", "admin.serverPort", "admin.serverAddress", "syncEnabled",
        "quorumListenOnAllIPs", "secureClientPort", "secureClientPortAddress",
        "metricsProvider.className", "maxCnxns", "localSessionsEnabled",
        "localSessionsUpgradingEnabled", "clientPortListenBacklog", "cnxTimeout",
        "forceSync", "skipACL", "audit.enable", "snapshot.trust.empty",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (span_eq(key, names[i]))
            return true;
    return false;
}

/* Applies one key=value. Returns 0, or -1 with the message set. */
static int apply_key(struct parser *p, struct span key, struct span v)
{
    struct cfg *c = p->c;
    int col = col_of(p, v.s);
    if (key.n > 7 && memcmp(key.s, "server.", 7) == 0)
        return parse_server(p, key, v);
    if (span_eq(key, "tickTime"))
        return set_int32(p, key, v, 1, &c->tick_time_ms);
    if (span_eq(key, "initLimit"))
        return set_int32(p, key, v, 1, &c->init_limit_ticks);
    if (span_eq(key, "syncLimit"))
        return set_int32(p, key, v, 1, &c->sync_limit_ticks);
    if (span_eq(key, "dataDir"))
        return copy_str(p, key, v, c->data_dir, sizeof c->data_dir);
    if (span_eq(key, "dataLogDir"))
        return copy_str(p, key, v, c->data_log_dir, sizeof c->data_log_dir);
    if (span_eq(key, "clientPortAddress"))
        return copy_str(p, key, v, c->client_port_address, sizeof c->client_port_address);
    if (span_eq(key, "clientPort")) {
        p->client_port_line = p->line, p->client_port_col = col;
        return parse_port(p, v, "clientPort", &c->client_port);
    }
    if (span_eq(key, "maxClientCnxns"))
        return set_int32(p, key, v, 0, &c->max_client_cnxns);
    if (span_eq(key, "snapCount"))
        return set_int32(p, key, v, 2, &c->snap_count);
    if (span_eq(key, "minSessionTimeout")) {
        p->min_to_line = p->line, p->min_to_col = col;
        return set_int32(p, key, v, -1, &c->min_session_timeout_ms);
    }
    if (span_eq(key, "maxSessionTimeout")) {
        p->max_to_line = p->line, p->max_to_col = col;
        return set_int32(p, key, v, -1, &c->max_session_timeout_ms);
    }
    if (span_eq(key, "4lw.commands.whitelist"))
        return parse_whitelist(p, v);
    if (span_eq(key, "jute.maxbuffer")) {
        int64_t n;
        if (!span_to_i64(v, 1, INT32_MAX, true, &n))
            return fail_at(p, p->line, col, "jute.maxbuffer: '%.*s' is not a positive number",
                           (int)v.n, v.s);
        c->jute_max_buffer = (uint32_t)n;
        return 0;
    }
    if (span_eq(key, "readonlymode.enabled")) {
        if (!span_eq_nocase(v, "true") && !span_eq_nocase(v, "false"))
            return fail_at(p, p->line, col, "readonlymode.enabled: '%.*s' is neither true nor false",
                           (int)v.n, v.s);
        c->read_only_enabled = span_eq_nocase(v, "true");
        return 0;
    }
    if (span_eq(key, "zablab.outstandingPerConnection")) {
        int64_t n;
        if (parse_int(p, key, v, 1, CFG_OUTSTANDING_PER_CONN_MAX, &n))
            return -1;
        c->outstanding_per_conn = (uint32_t)n;
        return 0;
    }
    if (span_eq(key, "zablab.connectionWriteQueueBytes")) {
        int64_t n;
        p->wq_line = p->line, p->wq_col = col;
        if (parse_int(p, key, v, 0, (int64_t)CFG_WRITE_QUEUE_BYTES_MAX, &n))
            return -1;
        c->write_queue_bytes = (uint64_t)n;
        return 0;
    }
    if (span_eq(key, "secret")) {
        if (v.n == 0 || v.n > CFG_SECRET_MAX)
            return fail_at(p, p->line, col, "secret: must be 1..%d bytes, not %zu", CFG_SECRET_MAX,
                           v.n);
        memcpy(c->secret, v.s, v.n);
        c->secret[v.n] = '\0';
        c->secret_len = (uint32_t)v.n;
        return 0;
    }
    if (is_zookeeper_key_unused(key))
        warn(p, key.s, "'%.*s' is a ZooKeeper setting zabd does not use; ignored", (int)key.n,
             key.s);
    else
        warn(p, key.s, "unknown key '%.*s' ignored", (int)key.n, key.s);
    return 0;
}

/* ---- lines -------------------------------------------------------------- */

/* Splits a properties line into key and value: the key ends at the first
 * '=', ':' or blank; one separator (blanks around it allowed) follows. */
static void split_key_value(struct span line, struct span *key, struct span *val)
{
    size_t i = 0;
    while (i < line.n && line.s[i] != '=' && line.s[i] != ':' && !is_blank(line.s[i]))
        i++;
    *key = (struct span){ line.s, i };
    while (i < line.n && is_blank(line.s[i]))
        i++;
    if (i < line.n && (line.s[i] == '=' || line.s[i] == ':'))
        i++;
    *val = trim((struct span){ line.s + i, line.n - i });
}

static int parse_line(struct parser *p, struct span line)
{
    if (line.n > CFG_LINE_MAX)
        return fail_at(p, p->line, CFG_LINE_MAX + 1, "line longer than %d bytes", CFG_LINE_MAX);
    const char *nul = memchr(line.s, '\0', line.n);
    if (nul)
        return fail_at(p, p->line, col_of(p, nul), "NUL byte in file");
    size_t i = 0;
    while (i < line.n && is_blank(line.s[i]))
        i++;
    if (i == line.n || line.s[i] == '#' || line.s[i] == '!')
        return 0;
    struct span key, val;
    split_key_value((struct span){ line.s + i, line.n - i }, &key, &val);
    if (key.n == 0)
        return fail_at(p, p->line, col_of(p, key.s), "missing key before '%c'", key.s[0]);
    if (val.n && val.s[val.n - 1] == '\\')
        return fail_at(p, p->line, col_of(p, val.s + val.n - 1),
                       "line continuation with '\\' is not supported");
    return apply_key(p, key, val);
}

static void set_defaults(struct cfg *c)
{
    memset(c, 0, sizeof *c);
    c->tick_time_ms = CFG_TICK_TIME_MS_DEFAULT;
    c->max_client_cnxns = CFG_MAX_CLIENT_CNXNS_DEFAULT;
    c->min_session_timeout_ms = -1;
    c->max_session_timeout_ms = -1;
    c->four_lw_allowed = 1u << ZKP_4LW_SRVR;
    c->jute_max_buffer = CFG_JUTE_MAX_BUFFER_DEFAULT;
    c->outstanding_per_conn = CFG_OUTSTANDING_PER_CONN_DEFAULT;
    c->my_id = -1;
    strcpy(c->client_port_address, "0.0.0.0");
}

/* Cross-field checks and derived defaults, after the last line. */
static int finish(struct parser *p, int eof_line, int eof_col)
{
    struct cfg *c = p->c;
    if (c->data_dir[0] == '\0')
        return fail_at(p, eof_line, eof_col, "dataDir is not set");
    if (c->data_log_dir[0] == '\0')
        strcpy(c->data_log_dir, c->data_dir);
    /* A bound below two of the largest replies would cut ordinary clients. */
    if (c->write_queue_bytes && c->write_queue_bytes < 2ull * c->jute_max_buffer)
        return fail_at(p, p->wq_line, p->wq_col,
                       "zablab.connectionWriteQueueBytes %llu is below 2 x jute.maxbuffer (%u)",
                       (unsigned long long)c->write_queue_bytes, c->jute_max_buffer);
    if (c->read_only_enabled)
        c->four_lw_allowed |= 1u << ZKP_4LW_ISRO;
    int64_t tick = c->tick_time_ms;
    if (c->min_session_timeout_ms == -1)
        c->min_session_timeout_ms = (int32_t)(tick * 2 > INT32_MAX ? INT32_MAX : tick * 2);
    if (c->max_session_timeout_ms == -1)
        c->max_session_timeout_ms = (int32_t)(tick * 20 > INT32_MAX ? INT32_MAX : tick * 20);
    if (c->min_session_timeout_ms > c->max_session_timeout_ms) {
        int line = p->max_to_line ? p->max_to_line : p->min_to_line;
        int col = p->max_to_line ? p->max_to_col : p->min_to_col;
        return fail_at(p, line, col, "minSessionTimeout %d is larger than maxSessionTimeout %d",
                       c->min_session_timeout_ms, c->max_session_timeout_ms);
    }
    if (c->server_count == 0) {
        if (c->client_port == 0)
            return fail_at(p, eof_line, eof_col, "clientPort is not set");
        return 0;
    }
    if (c->init_limit_ticks == 0)
        return fail_at(p, eof_line, eof_col, "initLimit is not set");
    if (c->sync_limit_ticks == 0)
        return fail_at(p, eof_line, eof_col, "syncLimit is not set");
    for (int i = 0; i < c->server_count; i++)
        if (c->servers[i].role == CFG_ROLE_PARTICIPANT)
            return 0;
    return fail_at(p, eof_line, eof_col, "no participant among the servers (all are observers)");
}

int cfg_parse(struct cfg *c, const char *name, const char *text, size_t len, char *err,
              size_t err_cap)
{
    set_defaults(c);
    snprintf(c->source_name, sizeof c->source_name, "%s", name);
    struct parser p = { .c = c, .name = name, .err = err, .err_cap = err_cap };
    if (err && err_cap)
        err[0] = '\0';
    const char *at = text, *end = text + len;
    p.line = 0;
    while (at < end) {
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        const char *line_end = nl ? nl : end;
        p.line++;
        p.line_start = at;
        if (parse_line(&p, (struct span){ at, (size_t)(line_end - at) }))
            return -1;
        at = nl ? nl + 1 : end;
    }
    /* Missing keys are reported at the end of the file. */
    int eof_line = p.line + 1, eof_col = 1;
    if (len > 0 && text[len - 1] != '\n') {
        eof_line = p.line;
        eof_col = col_of(&p, end);
    }
    return finish(&p, eof_line, eof_col);
}

/* ---- myid --------------------------------------------------------------- */

/* After the id is known: this server's client port must agree between
 * clientPort= and its own server line, when both are given. */
static int settle_client_port(struct cfg *c, const struct cfg_server *self, char *err,
                              size_t err_cap)
{
    if (self->client_port == 0)
        return 0;
    if (c->client_port != 0 && c->client_port != self->client_port) {
        if (err && err_cap)
            snprintf(err, err_cap, "%s:%d:1: server.%lld client port %u differs from clientPort %u",
                     c->source_name, self->line, (long long)self->id, self->client_port, c->client_port);
        return -1;
    }
    c->client_port = self->client_port;
    if (self->client_host[0])
        snprintf(c->client_port_address, sizeof c->client_port_address, "%s", self->client_host);
    return 0;
}

int cfg_parse_myid(struct cfg *c, const char *name, const char *text, size_t len, char *err,
                   size_t err_cap)
{
    struct span v = { text, len };
    size_t lead = 0;
    while (lead < v.n && (is_blank(v.s[lead]) || v.s[lead] == '\n'))
        lead++;
    struct span t = { v.s + lead, v.n - lead };
    while (t.n && (is_blank(t.s[t.n - 1]) || t.s[t.n - 1] == '\n'))
        t.n--;
    int64_t id;
    if (!span_to_i64(t, 0, INT64_MAX, false, &id)) {
        if (err && err_cap)
            snprintf(err, err_cap, "%s:1:%zu: '%.*s' is not a server id", name, lead + 1,
                     (int)(t.n > 64 ? 64 : t.n), t.s);
        return -1;
    }
    for (int i = 0; i < c->server_count; i++) {
        if (c->servers[i].id == id) {
            c->my_id = id;
            return settle_client_port(c, &c->servers[i], err, err_cap);
        }
    }
    if (err && err_cap)
        snprintf(err, err_cap, "%s:1:%zu: server id %lld is not in the server list", name,
                 lead + 1, (long long)id);
    return -1;
}

const struct cfg_server *cfg_self(const struct cfg *c)
{
    for (int i = 0; i < c->server_count; i++)
        if (c->servers[i].id == c->my_id)
            return &c->servers[i];
    return NULL;
}

/* ---- files -------------------------------------------------------------- */

/* Reads a whole file of at most CFG_FILE_MAX bytes into buf. */
static int read_file(const char *path, char *buf, size_t cap, size_t *len, char *err,
                     size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_cap, "%s:0:0: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, cap, f);
    int bad = ferror(f);
    int more = !bad && n == cap && fgetc(f) != EOF;
    fclose(f);
    if (bad) {
        snprintf(err, err_cap, "%s:0:0: read error", path);
        return -1;
    }
    if (more) {
        snprintf(err, err_cap, "%s:0:0: larger than %zu bytes", path, cap);
        return -1;
    }
    *len = n;
    return 0;
}

int cfg_load(struct cfg *c, const char *path, char *err, size_t err_cap)
{
    /* One bounded buffer for the duration of the parse; values are copied
     * out of it into struct cfg. */
    char *text = malloc(CFG_FILE_MAX);
    if (!text) {
        snprintf(err, err_cap, "%s:0:0: out of memory", path);
        return -1;
    }
    size_t len;
    int rc = read_file(path, text, CFG_FILE_MAX, &len, err, err_cap);
    if (rc == 0)
        rc = cfg_parse(c, path, text, len, err, err_cap);
    free(text);
    if (rc)
        return -1;
    if (c->server_count == 0)
        return 0;
    char myid_path[CFG_PATH_MAX + 8];
    snprintf(myid_path, sizeof myid_path, "%s/myid", c->data_dir);
    char idbuf[64];
    if (read_file(myid_path, idbuf, sizeof idbuf, &len, err, err_cap))
        return -1;
    return cfg_parse_myid(c, myid_path, idbuf, len, err, err_cap);
}
