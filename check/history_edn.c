/* check/history_edn: Jepsen's EDN histories, one map a line, read by hand.
 * Owns a small EDN reader for the subset Jepsen emits (maps, vectors, lists,
 * sets, keywords, symbols, integers, floats, strings, nil, true/false, a
 * leading #tag) and the mapping of register and key-value ops to events.
 * Must never: crash, recurse without bound or read past the line; every error
 * is "file:line:col: message". Unknown keys (:index, :time, :error, ...) are
 * tolerated; events of non-integer processes (:nemesis) are skipped. */
#include "check/history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define EDN_NODES_MAX 4096
#define EDN_DEPTH_MAX 32

enum edn_kind { E_NIL, E_BOOL, E_INT, E_FLOAT, E_STR, E_KW, E_SYM, E_VEC, E_MAP, E_LIST, E_SET };

struct edn_node {
    enum edn_kind kind;
    uint32_t col;
    int64_t i;                 /* int value, bool */
    uint32_t off, len;         /* text: into the scratch buffer (strings) or line */
    int32_t first, next;       /* children (containers), sibling; -1 = none */
    uint32_t count;
};

struct edn {
    struct chk_history *h;
    const char *s;
    size_t len, pos;
    uint32_t lineno;
    struct edn_node nodes[EDN_NODES_MAX];
    uint32_t n;
    char *scratch;             /* unescaped string bytes */
    size_t scratch_len;
    char *err;
    size_t errlen;
};

static int efail(struct edn *p, uint32_t col, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->errlen, "%s:%u:%u: ", p->h->name, p->lineno, col);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void skip_ws(struct edn *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n')
            p->pos++;
        else if (c == ';')                /* comment to end of line */
            p->pos = p->len;
        else
            break;
    }
}

static bool is_delim(char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n' || c == '{' || c == '}'
        || c == '[' || c == ']' || c == '(' || c == ')' || c == '"' || c == ';';
}

static int parse_value(struct edn *p, int depth, int32_t *out);

static int new_node(struct edn *p, enum edn_kind k, uint32_t col, int32_t *out)
{
    if (p->n >= EDN_NODES_MAX)
        return efail(p, col, "too many values on one line (limit %d)", EDN_NODES_MAX);
    struct edn_node *nd = &p->nodes[p->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = k;
    nd->col = col;
    nd->first = nd->next = -1;
    *out = (int32_t)p->n++;
    return 0;
}

static int parse_string(struct edn *p, int32_t id)
{
    struct edn_node *nd = &p->nodes[id];
    nd->off = (uint32_t)p->scratch_len;
    p->pos++;                             /* opening quote */
    while (p->pos < p->len && p->s[p->pos] != '"') {
        char c = p->s[p->pos++];
        if (c == '\\') {
            if (p->pos >= p->len)
                break;
            char e = p->s[p->pos++];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            if (e != 'n' && e != 't' && e != 'r' && e != '"' && e != '\\')
                return efail(p, (uint32_t)p->pos - 1, "unsupported string escape '\\%c'", e);
        }
        p->scratch[p->scratch_len++] = c;
    }
    if (p->pos >= p->len)
        return efail(p, nd->col, "unterminated string");
    p->pos++;
    nd->len = (uint32_t)(p->scratch_len - nd->off);
    return 0;
}

static int parse_atom(struct edn *p, int32_t *out)
{
    uint32_t col = (uint32_t)p->pos + 1;
    size_t start = p->pos;
    while (p->pos < p->len && !is_delim(p->s[p->pos]))
        p->pos++;
    const char *t = p->s + start;
    size_t n = p->pos - start;
    if (n == 0)
        return efail(p, col, "unexpected '%c'", p->s[start]);
    if (t[0] == ':') {
        if (n == 1)
            return efail(p, col, "empty keyword");
        if (new_node(p, E_KW, col, out))
            return -1;
        p->nodes[*out].off = (uint32_t)start + 1;
        p->nodes[*out].len = (uint32_t)n - 1;
        return 0;
    }
    if ((t[0] >= '0' && t[0] <= '9') || ((t[0] == '-' || t[0] == '+') && n > 1 && t[1] >= '0' && t[1] <= '9')) {
        char buf[64];
        if (n >= sizeof buf)
            return efail(p, col, "number too long");
        memcpy(buf, t, n);
        buf[n] = 0;
        if (buf[n - 1] == 'N')           /* bigint suffix */
            buf[n - 1] = 0;
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (*end == 0 && errno == 0) {
            if (new_node(p, E_INT, col, out))
                return -1;
            p->nodes[*out].i = v;
            return 0;
        }
        strtod(buf, &end);
        if (*end == 0 || (*end == 'M' && end[1] == 0))
            return new_node(p, E_FLOAT, col, out);
        return efail(p, col, "malformed number '%.*s'", (int)n, t);
    }
    bool is_nil = n == 3 && !memcmp(t, "nil", 3);
    bool is_true = n == 4 && !memcmp(t, "true", 4);
    bool is_false = n == 5 && !memcmp(t, "false", 5);
    if (is_nil || is_true || is_false) {
        if (new_node(p, is_nil ? E_NIL : E_BOOL, col, out))
            return -1;
        p->nodes[*out].i = is_true;
        return 0;
    }
    if (new_node(p, E_SYM, col, out))
        return -1;
    p->nodes[*out].off = (uint32_t)start;
    p->nodes[*out].len = (uint32_t)n;
    return 0;
}

static int parse_coll(struct edn *p, int depth, enum edn_kind k, char close, int32_t *out)
{
    uint32_t col = (uint32_t)p->pos + 1;
    if (depth >= EDN_DEPTH_MAX)
        return efail(p, col, "nested deeper than %d", EDN_DEPTH_MAX);
    if (new_node(p, k, col, out))
        return -1;
    int32_t id = *out, last = -1;
    p->pos += k == E_SET ? 2 : 1;
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len)
            return efail(p, col, "'%c' is never closed", p->s[col - 1]);
        if (p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        int32_t child;
        if (parse_value(p, depth + 1, &child))
            return -1;
        if (last < 0)
            p->nodes[id].first = child;
        else
            p->nodes[last].next = child;
        last = child;
        p->nodes[id].count++;
    }
    if (k == E_MAP && p->nodes[id].count % 2)
        return efail(p, col, "map has a key without a value");
    return 0;
}

static int parse_value(struct edn *p, int depth, int32_t *out)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return efail(p, (uint32_t)p->pos + 1, "unexpected end of line");
    char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_coll(p, depth, E_MAP, '}', out);
    case '[': return parse_coll(p, depth, E_VEC, ']', out);
    case '(': return parse_coll(p, depth, E_LIST, ')', out);
    case '}': case ']': case ')':
        return efail(p, (uint32_t)p->pos + 1, "unexpected '%c'", c);
    case '"':
        if (new_node(p, E_STR, (uint32_t)p->pos + 1, out))
            return -1;
        return parse_string(p, *out);
    case '#':
        if (p->pos + 1 < p->len && p->s[p->pos + 1] == '{')
            return parse_coll(p, depth, E_SET, '}', out);
        /* a tagged value such as #jepsen.history.Op{...}: skip the tag */
        p->pos++;
        while (p->pos < p->len && !is_delim(p->s[p->pos]))
            p->pos++;
        return parse_value(p, depth + 1, out);
    default:
        return parse_atom(p, out);
    }
}

static bool kw_is(const struct edn *p, const struct edn_node *nd, const char *name)
{
    size_t l = strlen(name);
    return nd->kind == E_KW && nd->len == l && !memcmp(p->s + nd->off, name, l);
}

static const struct edn_node *map_get(const struct edn *p, const struct edn_node *map, const char *key)
{
    for (int32_t k = map->first; k >= 0; k = p->nodes[p->nodes[k].next].next)
        if (kw_is(p, &p->nodes[k], key))
            return &p->nodes[p->nodes[k].next];
    return NULL;
}

/* A kv key or value as a string id: strings as they are, integers and
 * keywords in their printed form. nil gives 0. */
static int to_str(struct edn *p, const struct edn_node *nd, chk_str *out, const char *what)
{
    char buf[32];
    *out = 0;
    switch (nd->kind) {
    case E_NIL: return 0;
    case E_STR:
        if (nd->len == 0)
            return 0;                    /* "" reads as nil */
        *out = chk_str_intern(p->h, p->scratch + nd->off, nd->len);
        break;
    case E_KW: case E_SYM: *out = chk_str_intern(p->h, p->s + nd->off, nd->len); break;
    case E_INT:
        *out = chk_str_intern(p->h, buf, (size_t)snprintf(buf, sizeof buf, "%" PRId64, nd->i));
        break;
    default: return efail(p, nd->col, "%s must be a string, integer or keyword", what);
    }
    return *out ? 0 : efail(p, nd->col, "out of memory");
}

static int register_value(struct edn *p, const struct edn_node *v, struct chk_event *ev)
{
    ev->has_value = v != NULL;
    ev->nil = v == NULL || v->kind == E_NIL;
    if (ev->nil)
        return 0;
    if (ev->f == CHK_F_CAS) {
        if (v->kind != E_VEC || v->count != 2 || p->nodes[v->first].kind != E_INT
            || p->nodes[p->nodes[v->first].next].kind != E_INT)
            return efail(p, v->col, "cas :value must be a vector [from to] of integers");
        ev->ival = p->nodes[v->first].i;
        ev->ival2 = p->nodes[p->nodes[v->first].next].i;
        return 0;
    }
    if (v->kind != E_INT)
        return efail(p, v->col, "register :value must be an integer or nil");
    ev->ival = v->i;
    return 0;
}

static int kv_fields(struct edn *p, const struct edn_node *map, const struct edn_node *v,
                     struct chk_event *ev)
{
    const struct edn_node *k = map_get(p, map, "key");
    if (!k && v && v->kind == E_VEC && v->count == 2) {
        /* jepsen.independent style: :value [key value] */
        k = &p->nodes[v->first];
        v = &p->nodes[k->next];
    }
    if (!k)
        return efail(p, map->col, "%s needs a :key", chk_f_name(ev->f));
    if (to_str(p, k, &ev->key, ":key"))
        return -1;
    if (!ev->key)
        return efail(p, k->col, ":key must not be nil");
    ev->has_value = v && v->kind != E_NIL;
    ev->nil = !ev->has_value;
    return v ? to_str(p, v, &ev->sval, ":value") : 0;
}

static int fill_type(struct edn *p, const struct edn_node *map, struct chk_event *ev)
{
    const struct edn_node *t = map_get(p, map, "type");
    static const char *const names[] = {"invoke", "ok", "fail", "info", "watch"};
    if (!t)
        return efail(p, map->col, "missing :type");
    for (int i = 0; i < 5; i++)
        if (kw_is(p, t, names[i])) {
            ev->type = (enum chk_type)i;
            return 0;
        }
    return efail(p, t->col, ":type must be :invoke, :ok, :fail, :info or :watch");
}

/* {:type :watch, :state :Disconnected}: a connection-state change. */
static int state_fields(struct edn *p, const struct edn_node *map, struct chk_event *ev)
{
    const struct edn_node *st = map_get(p, map, "state");
    ev->watch_type = CHK_WATCH_NONE;
    if (st && (st->kind == E_KW || st->kind == E_SYM)
        && chk_state_parse(p->s + st->off, st->len, &ev->state) == 0)
        return 1;
    return efail(p, st ? st->col : map->col, "a :watch line needs :state :SyncConnected, "
                 ":Disconnected, :Expired or :Closed");
}

/* Recipe outcomes: :key (the recipe's znode), :value (a queue element; a
 * config version, an integer; for :queue-read a vector of elements). */
static int recipe_fields(struct edn *p, const struct edn_node *map, const struct edn_node *v,
                         struct chk_event *ev)
{
    const struct edn_node *k = map_get(p, map, "key");
    if (k && to_str(p, k, &ev->key, ":key"))
        return -1;
    if (!v || v->kind == E_NIL)
        return 1;
    ev->has_value = true;
    if (ev->f == CHK_F_ENTER) {
        if (v->kind != E_VEC || v->count != 2 || p->nodes[v->first].kind != E_INT
            || p->nodes[p->nodes[v->first].next].kind != E_INT)
            return efail(p, v->col, ":enter :value must be a vector [round parties]");
        ev->ival = p->nodes[v->first].i;
        ev->ival2 = p->nodes[p->nodes[v->first].next].i;
        return 1;
    }
    if (ev->f == CHK_F_CONFIG_WRITE || ev->f == CHK_F_CONFIG_READ) {
        if (v->kind != E_INT)
            return efail(p, v->col, ":%s :value must be an integer version", chk_f_name(ev->f));
        ev->ival = v->i;
        return 1;
    }
    if (ev->f != CHK_F_QUEUE_READ)
        return to_str(p, v, &ev->sval, ":value") ? -1 : 1;
    if (v->kind != E_VEC || v->count > CHK_CHILDREN_MAX)
        return efail(p, v->col, ":queue-read :value must be a vector of elements");
    chk_str vals[CHK_CHILDREN_MAX];
    uint32_t n = 0;
    for (int32_t c = v->first; c >= 0; c = p->nodes[c].next) {
        if (to_str(p, &p->nodes[c], &vals[n], ":value element"))
            return -1;
        if (!vals[n])
            return efail(p, p->nodes[c].col, ":queue-read elements must not be nil");
        n++;
    }
    ev->children = chk_history_add_names(p->h, vals, n);
    ev->n_children = n;
    return ev->children == CHK_NONE ? efail(p, v->col, "out of memory") : 1;
}

static int fill_event(struct edn *p, const struct edn_node *map, struct chk_event *ev)
{
    if (fill_type(p, map, ev))
        return -1;
    const struct edn_node *pr = map_get(p, map, "process");
    if (!pr)
        return efail(p, map->col, "missing :process");
    if (pr->kind != E_INT)
        return 0;                        /* :nemesis and friends: not a client */
    ev->process = ev->session = pr->i;
    const struct edn_node *se = map_get(p, map, "session");
    if (se && se->kind == E_INT)
        ev->session = se->i;
    const struct edn_node *tm = map_get(p, map, "time");
    if (tm && tm->kind == E_INT) {
        ev->time_ns = tm->i;
        ev->has_time = true;
    }
    if (ev->type == CHK_WATCH)
        return state_fields(p, map, ev);
    const struct edn_node *f = map_get(p, map, "f");
    if (!f || f->kind != E_KW)
        return efail(p, f ? f->col : map->col, "missing or non-keyword :f");
    ev->f = chk_f_parse(p->s + f->off, f->len);
    const struct edn_node *v = map_get(p, map, "value");
    switch (ev->f) {
    case CHK_F_READ: case CHK_F_WRITE: case CHK_F_CAS:
        if (register_value(p, v, ev))
            return -1;
        return 1;
    case CHK_F_GET: case CHK_F_PUT: case CHK_F_APPEND:
        return kv_fields(p, map, v, ev) ? -1 : 1;
    default:
        if (CHK_F_IS_RECIPE(ev->f))
            return recipe_fields(p, map, v, ev);
        return efail(p, f->col, "unsupported :f :%.*s (EDN histories carry :read :write :cas, "
                     ":get :put :append or recipe outcomes such as :acquire)", (int)f->len,
                     p->s + f->off);
    }
}

int chk_edn_parse_line(struct chk_history *h, const char *line, size_t len,
                       uint32_t lineno, struct chk_event *ev, char *err, size_t errlen)
{
    struct edn *p = malloc(sizeof *p);
    char *scratch = malloc(len + 1);
    if (!p || !scratch) {
        free(p);
        free(scratch);
        snprintf(err, errlen, "%s:%u:1: out of memory", h->name, lineno);
        return -1;
    }
    *p = (struct edn){.h = h, .s = line, .len = len, .lineno = lineno, .scratch = scratch,
                      .err = err, .errlen = errlen};
    int rc = 0;
    skip_ws(p);
    if (p->pos < p->len) {
        int32_t root;
        memset(ev, 0, sizeof *ev);
        ev->line = lineno;
        ev->col = (uint32_t)p->pos + 1;
        ev->version = -1;
        rc = parse_value(p, 0, &root);
        if (rc == 0) {
            skip_ws(p);
            if (p->pos < p->len)
                rc = efail(p, (uint32_t)p->pos + 1, "unexpected text after the map");
            else if (p->nodes[root].kind != E_MAP)
                rc = efail(p, p->nodes[root].col, "each line must be one map {...}");
            else
                rc = fill_event(p, &p->nodes[root], ev);
        }
    }
    free(scratch);
    free(p);
    return rc;
}

static void put_edn_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void write_edn_tail(FILE *out, const struct chk_event *ev)
{
    if (ev->session != ev->process)
        fprintf(out, ", :session %" PRId64, ev->session);
    if (ev->has_time)
        fprintf(out, ", :time %" PRId64, ev->time_ns);
    fputs("}\n", out);
}

static int write_edn_recipe(FILE *out, const struct chk_history *h, const struct chk_event *ev)
{
    if (ev->type == CHK_WATCH)
        fprintf(out, "{:process %" PRId64 ", :type :watch, :state :%s", ev->process,
                chk_state_name(ev->state));
    else
        fprintf(out, "{:process %" PRId64 ", :type :%s, :f :%s", ev->process,
                chk_type_name(ev->type), chk_f_name(ev->f));
    if (ev->type != CHK_WATCH && ev->key)
        fputs(", :key ", out), put_edn_str(out, chk_str_get(h, ev->key));
    if (ev->type != CHK_WATCH && ev->f == CHK_F_QUEUE_READ && ev->type == CHK_OK) {
        fputs(", :value [", out);
        for (uint32_t i = 0; i < ev->n_children; i++)
            fputs(i ? " " : "", out), put_edn_str(out, chk_str_get(h, h->names[ev->children + i]));
        fputc(']', out);
    } else if (ev->type != CHK_WATCH && ev->has_value) {
        if (ev->f == CHK_F_ENTER)
            fprintf(out, ", :value [%" PRId64 " %" PRId64 "]", ev->ival, ev->ival2);
        else if (ev->f == CHK_F_CONFIG_WRITE || ev->f == CHK_F_CONFIG_READ)
            fprintf(out, ", :value %" PRId64, ev->ival);
        else
            fputs(", :value ", out), put_edn_str(out, chk_str_get(h, ev->sval));
    }
    write_edn_tail(out, ev);
    return ferror(out) ? -1 : 0;
}

int chk_edn_write_event(FILE *out, const struct chk_history *h, const struct chk_event *ev)
{
    if ((ev->type == CHK_WATCH && ev->watch_type == CHK_WATCH_NONE)
        || (ev->type != CHK_WATCH && CHK_F_IS_RECIPE(ev->f)))
        return write_edn_recipe(out, h, ev);
    if (ev->type == CHK_WATCH || ev->f < CHK_F_READ || ev->f > CHK_F_APPEND)
        return -1;                       /* EDN carries register, kv and recipe events */
    fprintf(out, "{:process %" PRId64 ", :type :%s, :f :%s", ev->process, chk_type_name(ev->type),
            chk_f_name(ev->f));
    if (ev->f >= CHK_F_GET) {
        fputs(", :key ", out);
        put_edn_str(out, chk_str_get(h, ev->key));
    }
    fputs(", :value ", out);
    if (ev->nil || !ev->has_value)
        fputs("nil", out);
    else if (ev->f == CHK_F_CAS)
        fprintf(out, "[%" PRId64 " %" PRId64 "]", ev->ival, ev->ival2);
    else if (ev->f >= CHK_F_GET)
        put_edn_str(out, chk_str_get(h, ev->sval));
    else
        fprintf(out, "%" PRId64, ev->ival);
    if (ev->has_time)
        fprintf(out, ", :time %" PRId64, ev->time_ns);
    fputs("}\n", out);
    return ferror(out) ? -1 : 0;
}
