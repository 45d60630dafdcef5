/* check/history_jsonl: zablab's own history format, one JSON object a line
 * (docs/history-format.md), read with libjansson and written by hand.
 * Owns the JSON <-> chk_event mapping and the streaming chk_writer.
 * Must never: crash or abort on malformed input; every error names
 * file:line:col. */
#include "check/history.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct jctx {
    struct chk_history *h;
    const char *line;
    size_t len;
    uint32_t lineno;
    char *err;
    size_t errlen;
};

/* Column of "key" in the raw line, so that a message points at the field. */
static uint32_t col_of(const struct jctx *c, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= c->len; i++)
        if (c->line[i] == '"' && !memcmp(c->line + i + 1, key, kl) && c->line[i + 1 + kl] == '"')
            return (uint32_t)i + 1;
    return 1;
}

static int jfail(const struct jctx *c, const char *key, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->h->name, c->lineno, key ? col_of(c, key) : 1);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int get_int(const struct jctx *c, json_t *o, const char *key, int64_t *out, bool *present)
{
    json_t *v = json_object_get(o, key);
    *present = v != NULL && !json_is_null(v);
    if (!*present)
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {             /* "0x1f" style ids and zxids */
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 0);
        if (*s && !*end && errno == 0) {
            *out = (int64_t)x;
            return 0;
        }
    }
    return jfail(c, key, "field \"%s\" must be an integer", key);
}

static int get_str(const struct jctx *c, json_t *o, const char *key, chk_str *out, bool *present)
{
    json_t *v = json_object_get(o, key);
    *present = v != NULL && !json_is_null(v);
    *out = 0;
    if (!*present)
        return 0;
    char buf[32];
    const char *s;
    size_t l;
    if (json_is_string(v)) {
        s = json_string_value(v);
        l = json_string_length(v);
    } else if (json_is_integer(v)) {
        l = (size_t)snprintf(buf, sizeof buf, "%" PRId64, (int64_t)json_integer_value(v));
        s = buf;
    } else {
        return jfail(c, key, "field \"%s\" must be a string", key);
    }
    if (l == 0)
        return 0;                        /* "" and null are both string 0 */
    *out = chk_str_intern(c->h, s, l);
    return *out ? 0 : jfail(c, key, "out of memory");
}

static int parse_mode(const struct jctx *c, json_t *o, uint8_t *mode)
{
    json_t *v = json_object_get(o, "mode");
    *mode = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 3) {
        *mode = (uint8_t)json_integer_value(v);
        return 0;
    }
    static const char *const names[] = {"persistent", "ephemeral", "persistent_sequential",
                                        "ephemeral_sequential"};
    for (uint8_t i = 0; i < 4 && json_is_string(v); i++)
        if (!strcmp(json_string_value(v), names[i])) {
            *mode = i;
            return 0;
        }
    return jfail(c, "mode", "\"mode\" must be persistent, ephemeral, persistent_sequential or "
                 "ephemeral_sequential");
}

static int parse_err(const struct jctx *c, json_t *o, int32_t *out)
{
    json_t *v = json_object_get(o, "err");
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *out = (int32_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && chk_zerr_parse(json_string_value(v), json_string_length(v), out) == 0)
        return 0;
    return jfail(c, "err", "unknown error code in \"err\" (want e.g. NONODE, NODEEXISTS, "
                 "BADVERSION, NOTEMPTY or an integer)");
}

static int parse_register_value(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    json_t *v = json_object_get(o, "value");
    ev->has_value = v != NULL;
    ev->nil = v == NULL || json_is_null(v);
    if (ev->nil)
        return 0;
    if (ev->f == CHK_F_CAS) {
        if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 0))
            || !json_is_integer(json_array_get(v, 1)))
            return jfail(c, "value", "cas \"value\" must be [from, to] integers");
        ev->ival = json_integer_value(json_array_get(v, 0));
        ev->ival2 = json_integer_value(json_array_get(v, 1));
        return 0;
    }
    if (!json_is_integer(v))
        return jfail(c, "value", "register \"value\" must be an integer or null");
    ev->ival = json_integer_value(v);
    return 0;
}

static int parse_children(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    json_t *v = json_object_get(o, "children");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > CHK_CHILDREN_MAX)
        return jfail(c, "children", "\"children\" must be an array of at most %u names",
                     CHK_CHILDREN_MAX);
    chk_str names[CHK_CHILDREN_MAX];
    uint32_t n = (uint32_t)json_array_size(v);
    for (uint32_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s))
            return jfail(c, "children", "\"children\" must hold strings");
        names[i] = chk_str_intern(c->h, json_string_value(s), json_string_length(s));
    }
    ev->children = chk_history_add_names(c->h, names, n);
    ev->n_children = n;
    return ev->children == CHK_NONE ? jfail(c, "children", "out of memory") : 0;
}

static int parse_sub(const struct jctx *c, json_t *o, struct chk_sub *sub)
{
    bool p;
    int64_t ver = -1;
    json_t *f = json_object_get(o, "f");
    memset(sub, 0, sizeof *sub);
    if (!json_is_string(f))
        return jfail(c, "ops", "each multi op needs an \"f\"");
    sub->f = chk_f_parse(json_string_value(f), json_string_length(f));
    if (sub->f != CHK_F_CREATE && sub->f != CHK_F_DELETE && sub->f != CHK_F_SET_DATA
        && sub->f != CHK_F_CHECK)
        return jfail(c, "ops", "multi ops must be create, delete, setData or check");
    if (get_str(c, o, "path", &sub->path, &p) || !p)
        return p ? -1 : jfail(c, "ops", "each multi op needs a \"path\"");
    if (get_str(c, o, "data", &sub->data, &p) || get_int(c, o, "version", &ver, &p)
        || parse_mode(c, o, &sub->mode) || parse_err(c, o, &sub->err)
        || get_str(c, o, "created", &sub->result_path, &p))
        return -1;
    sub->version = (int32_t)ver;
    return 0;
}

static int parse_multi(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    json_t *v = json_object_get(o, "ops");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > CHK_SUBS_MAX)
        return jfail(c, "ops", "\"ops\" must be an array of at most %u operations", CHK_SUBS_MAX);
    struct chk_sub subs[CHK_SUBS_MAX];
    uint32_t n = (uint32_t)json_array_size(v);
    for (uint32_t i = 0; i < n; i++) {
        if (!json_is_object(json_array_get(v, i)))
            return jfail(c, "ops", "multi ops must be objects");
        if (parse_sub(c, json_array_get(v, i), &subs[i]))
            return -1;
    }
    ev->subs = chk_history_add_subs(c->h, subs, n);
    ev->n_subs = n;
    return ev->subs == CHK_NONE ? jfail(c, "ops", "out of memory") : 0;
}

static int parse_watch_type(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    static const char *const names[] = {"", "NodeCreated", "NodeDeleted", "NodeDataChanged",
                                        "NodeChildrenChanged"};
    json_t *v = json_object_get(o, "event");
    for (int i = 1; i <= 4 && json_is_string(v); i++)
        if (!strcmp(json_string_value(v), names[i])) {
            ev->watch_type = i;
            return 0;
        }
    if (json_is_string(v) && !strcmp(json_string_value(v), "None")) {
        /* a connection-state change: no path, a "state" instead */
        json_t *st = json_object_get(o, "state");
        ev->watch_type = CHK_WATCH_NONE;
        if (json_is_string(st) && chk_state_parse(json_string_value(st), json_string_length(st),
                                                  &ev->state) == 0)
            return 0;
        return jfail(c, st ? "state" : "event", "a \"None\" event needs \"state\": "
                     "SyncConnected, Disconnected, Expired or Closed");
    }
    return jfail(c, v ? "event" : "type", "a watch needs \"event\": NodeCreated, NodeDeleted, "
                 "NodeDataChanged, NodeChildrenChanged or None");
}

/* Recipe outcomes: "path" (the recipe's znode), "value" (a queue element as
 * a string, a config version as an integer), "values" (a final queue read). */
static int parse_recipe_fields(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    bool p;
    if (get_str(c, o, "path", &ev->key, &p))
        return -1;
    json_t *v = json_object_get(o, "value");
    bool config = ev->f == CHK_F_CONFIG_WRITE || ev->f == CHK_F_CONFIG_READ;
    if (ev->f == CHK_F_ENTER && v && !json_is_null(v)) {
        if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 0))
            || !json_is_integer(json_array_get(v, 1)))
            return jfail(c, "value", "enter \"value\" must be [round, parties] integers");
        ev->ival = json_integer_value(json_array_get(v, 0));
        ev->ival2 = json_integer_value(json_array_get(v, 1));
        ev->has_value = true;
    } else if (config && v && !json_is_null(v)) {
        if (!json_is_integer(v))
            return jfail(c, "value", "%s \"value\" must be an integer version", chk_f_name(ev->f));
        ev->ival = json_integer_value(v);
        ev->has_value = true;
    } else if (!config && get_str(c, o, "value", &ev->sval, &ev->has_value)) {
        return -1;
    }
    json_t *vs = json_object_get(o, "values");
    if (!vs || json_is_null(vs))
        return 0;
    if (ev->f != CHK_F_QUEUE_READ || !json_is_array(vs) || json_array_size(vs) > CHK_CHILDREN_MAX)
        return jfail(c, "values", "\"values\" belongs to queue-read: an array of at most %u "
                     "elements", CHK_CHILDREN_MAX);
    chk_str vals[CHK_CHILDREN_MAX];
    uint32_t n = (uint32_t)json_array_size(vs);
    for (uint32_t i = 0; i < n; i++) {
        json_t *e = json_array_get(vs, i);
        if (!json_is_string(e) || json_string_length(e) == 0)
            return jfail(c, "values", "\"values\" must hold non-empty strings");
        vals[i] = chk_str_intern(c->h, json_string_value(e), json_string_length(e));
        if (!vals[i])
            return jfail(c, "values", "out of memory");
    }
    ev->children = chk_history_add_names(c->h, vals, n);
    ev->n_children = n;
    return ev->children == CHK_NONE ? jfail(c, "values", "out of memory") : 0;
}

static int parse_zk_fields(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    bool p;
    int64_t ver = -1;
    if (get_str(c, o, "path", &ev->key, &p))
        return -1;
    if (!p && ev->f != CHK_F_SYNC && ev->f != CHK_F_CLOSE && ev->f != CHK_F_MULTI
        && ev->type == CHK_INVOKE)
        return jfail(c, "f", "%s needs a \"path\"", chk_f_name(ev->f));
    if (get_str(c, o, "data", &ev->sval, &ev->has_value) || get_int(c, o, "version", &ver, &p))
        return -1;
    ev->has_version = p;
    ev->version = p ? (int32_t)ver : -1;
    json_t *w = json_object_get(o, "watch");
    if (w && !json_is_boolean(w))
        return jfail(c, "watch", "\"watch\" must be true or false");
    ev->watch = w && json_is_true(w);
    if (parse_mode(c, o, &ev->mode) || parse_err(c, o, &ev->err)
        || get_str(c, o, "created", &ev->result_path, &p) || parse_children(c, o, ev))
        return -1;
    return ev->f == CHK_F_MULTI ? parse_multi(c, o, ev) : 0;
}

static int parse_f_fields(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    bool p;
    if (ev->type == CHK_WATCH) {
        if (parse_watch_type(c, o, ev) || get_str(c, o, "path", &ev->key, &p))
            return -1;
        return p || ev->watch_type == CHK_WATCH_NONE ? 0 : jfail(c, "type", "a watch needs a \"path\"");
    }
    json_t *f = json_object_get(o, "f");
    if (!json_is_string(f))
        return jfail(c, f ? "f" : NULL, "missing or non-string \"f\"");
    ev->f = chk_f_parse(json_string_value(f), json_string_length(f));
    switch (ev->f) {
    case CHK_F_NONE:
        return jfail(c, "f", "unknown operation \"%s\"", json_string_value(f));
    case CHK_F_READ: case CHK_F_WRITE: case CHK_F_CAS:
        return parse_register_value(c, o, ev);
    case CHK_F_GET: case CHK_F_PUT: case CHK_F_APPEND:
        if (get_str(c, o, "key", &ev->key, &p))
            return -1;
        if (!p)
            return jfail(c, "f", "%s needs a \"key\"", chk_f_name(ev->f));
        if (get_str(c, o, "value", &ev->sval, &ev->has_value))
            return -1;
        ev->nil = !ev->has_value;
        return 0;
    default:
        return CHK_F_IS_RECIPE(ev->f) ? parse_recipe_fields(c, o, ev) : parse_zk_fields(c, o, ev);
    }
}

static int parse_type(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    json_t *t = json_object_get(o, "type");
    if (!json_is_string(t))
        return jfail(c, t ? "type" : NULL, "missing or non-string \"type\"");
    for (int i = 0; i <= CHK_WATCH; i++)
        if (!strcmp(json_string_value(t), chk_type_name((enum chk_type)i))) {
            ev->type = (enum chk_type)i;
            return 0;
        }
    return jfail(c, "type", "unknown type \"%s\" (want invoke, ok, fail, info or watch)",
                 json_string_value(t));
}

static int parse_object(const struct jctx *c, json_t *o, struct chk_event *ev)
{
    bool p;
    int64_t zxid = 0;
    if (parse_type(c, o, ev))
        return -1;
    if (get_int(c, o, "process", &ev->process, &p))
        return -1;
    if (!p)
        return jfail(c, NULL, "missing \"process\"");
    ev->session = ev->process;
    if (get_int(c, o, "session", &ev->session, &p) || get_int(c, o, "time", &ev->time_ns, &ev->has_time)
        || get_int(c, o, "zxid", &zxid, &ev->has_zxid))
        return -1;
    ev->zxid = (uint64_t)zxid;
    return parse_f_fields(c, o, ev);
}

int chk_jsonl_parse_line(struct chk_history *h, const char *line, size_t len,
                         uint32_t lineno, struct chk_event *ev, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return 0;
    struct jctx c = {h, line, len, lineno, err, errlen};
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    if (!o) {
        snprintf(err, errlen, "%s:%u:%d: %s", h->name, lineno, je.column > 0 ? je.column : 1, je.text);
        return -1;
    }
    memset(ev, 0, sizeof *ev);
    ev->line = lineno;
    ev->col = (uint32_t)i + 1;
    ev->version = -1;
    int rc = json_is_object(o) ? parse_object(&c, o, ev) : jfail(&c, NULL, "a line must be a JSON object");
    json_decref(o);
    return rc < 0 ? -1 : 1;
}

/* ---- writing ---------------------------------------------------------- */

static void put_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static const char *mode_name(uint8_t mode)
{
    static const char *const n[] = {"persistent", "ephemeral", "persistent_sequential",
                                    "ephemeral_sequential"};
    return n[mode & 3];
}

static void write_zk_fields(FILE *out, const struct chk_record *r)
{
    if (r->key)
        fputs(",\"path\":", out), put_json_str(out, r->key);
    if (r->has_value && r->sval)
        fputs(",\"data\":", out), put_json_str(out, r->sval);
    if (r->has_version)
        fprintf(out, ",\"version\":%d", r->version);
    if (r->mode)
        fprintf(out, ",\"mode\":\"%s\"", mode_name(r->mode));
    if (r->watch)
        fputs(",\"watch\":true", out);
    if (r->err)
        fprintf(out, ",\"err\":\"%s\"", chk_zerr_name(r->err));
    if (r->result_path)
        fputs(",\"created\":", out), put_json_str(out, r->result_path);
    if (r->children) {
        fputs(",\"children\":[", out);
        for (uint32_t i = 0; i < r->n_children; i++)
            fputs(i ? "," : "", out), put_json_str(out, r->children[i]);
        fputc(']', out);
    }
}

static void write_subs(FILE *out, const struct chk_record *r)
{
    if (!r->subs)
        return;
    fputs(",\"ops\":[", out);
    for (uint32_t i = 0; i < r->n_subs; i++) {
        const struct chk_record_sub *s = &r->subs[i];
        fprintf(out, "%s{\"f\":\"%s\",\"path\":", i ? "," : "", chk_f_name(s->f));
        put_json_str(out, s->path ? s->path : "");
        if (s->data)
            fputs(",\"data\":", out), put_json_str(out, s->data);
        if (s->f != CHK_F_CREATE)
            fprintf(out, ",\"version\":%d", s->version);
        if (s->mode)
            fprintf(out, ",\"mode\":\"%s\"", mode_name(s->mode));
        if (s->err)
            fprintf(out, ",\"err\":\"%s\"", chk_zerr_name(s->err));
        if (s->result_path)
            fputs(",\"created\":", out), put_json_str(out, s->result_path);
        fputc('}', out);
    }
    fputc(']', out);
}

static void write_recipe_fields(FILE *out, const struct chk_record *r)
{
    if (r->key)
        fputs(",\"path\":", out), put_json_str(out, r->key);
    if (r->has_value && r->f == CHK_F_ENTER)
        fprintf(out, ",\"value\":[%" PRId64 ",%" PRId64 "]", r->ival, r->ival2);
    else if (r->has_value && (r->f == CHK_F_CONFIG_WRITE || r->f == CHK_F_CONFIG_READ))
        fprintf(out, ",\"value\":%" PRId64, r->ival);
    else if (r->has_value && r->sval)
        fputs(",\"value\":", out), put_json_str(out, r->sval);
    if (r->children) {
        fputs(",\"values\":[", out);
        for (uint32_t i = 0; i < r->n_children; i++)
            fputs(i ? "," : "", out), put_json_str(out, r->children[i]);
        fputc(']', out);
    }
}

static void write_record(FILE *out, const struct chk_record *r, bool has_time)
{
    static const char *const wnames[] = {"", "NodeCreated", "NodeDeleted", "NodeDataChanged",
                                         "NodeChildrenChanged"};
    fprintf(out, "{\"type\":\"%s\",\"process\":%" PRId64, chk_type_name(r->type), r->process);
    if (r->session != r->process)
        fprintf(out, ",\"session\":%" PRId64, r->session);
    if (r->type == CHK_WATCH && r->watch_type == CHK_WATCH_NONE)
        fprintf(out, ",\"event\":\"None\",\"state\":\"%s\"", chk_state_name(r->state));
    else if (r->type == CHK_WATCH)
        fprintf(out, ",\"event\":\"%s\"", wnames[r->watch_type >= 1 && r->watch_type <= 4 ? r->watch_type : 0]);
    else
        fprintf(out, ",\"f\":\"%s\"", chk_f_name(r->f));
    switch (r->f) {
    case CHK_F_READ: case CHK_F_WRITE: case CHK_F_CAS:
        if (r->nil || !r->has_value)
            fputs(r->has_value ? ",\"value\":null" : "", out);
        else if (r->f == CHK_F_CAS)
            fprintf(out, ",\"value\":[%" PRId64 ",%" PRId64 "]", r->ival, r->ival2);
        else
            fprintf(out, ",\"value\":%" PRId64, r->ival);
        break;
    case CHK_F_GET: case CHK_F_PUT: case CHK_F_APPEND:
        fputs(",\"key\":", out);
        put_json_str(out, r->key ? r->key : "");
        if (r->has_value && !r->nil && r->sval)
            fputs(",\"value\":", out), put_json_str(out, r->sval);
        break;
    default:
        if (r->type != CHK_WATCH && CHK_F_IS_RECIPE(r->f)) {
            write_recipe_fields(out, r);
            break;
        }
        write_zk_fields(out, r);
        write_subs(out, r);
    }
    if (r->has_zxid)
        fprintf(out, ",\"zxid\":%" PRIu64, r->zxid);
    if (has_time)
        fprintf(out, ",\"time\":%" PRId64, r->time_ns);
    fputs("}\n", out);
}

int chk_jsonl_write_event(FILE *out, const struct chk_history *h, const struct chk_event *ev)
{
    const char *children[CHK_CHILDREN_MAX];
    struct chk_record_sub subs[CHK_SUBS_MAX];
    struct chk_record r = {
        .type = ev->type, .f = ev->f, .process = ev->process, .session = ev->session,
        .time_ns = ev->time_ns, .zxid = ev->zxid, .has_zxid = ev->has_zxid, .nil = ev->nil,
        .watch = ev->watch, .has_version = ev->has_version, .has_value = ev->has_value,
        .mode = ev->mode, .ival = ev->ival, .ival2 = ev->ival2,
        .key = ev->key ? chk_str_get(h, ev->key) : NULL,
        .sval = ev->sval ? chk_str_get(h, ev->sval) : NULL,
        .version = ev->version, .err = ev->err, .watch_type = ev->watch_type, .state = ev->state,
        .result_path = ev->result_path ? chk_str_get(h, ev->result_path) : NULL,
    };
    bool names = (ev->f == CHK_F_GET_CHILDREN && !ev->err) || ev->f == CHK_F_QUEUE_READ;
    if (names && ev->type == CHK_OK) {
        for (uint32_t i = 0; i < ev->n_children && i < CHK_CHILDREN_MAX; i++)
            children[i] = chk_str_get(h, h->names[ev->children + i]);
        r.children = children;
        r.n_children = ev->n_children;
    }
    if (ev->f == CHK_F_MULTI && ev->n_subs) {
        for (uint32_t i = 0; i < ev->n_subs && i < CHK_SUBS_MAX; i++) {
            const struct chk_sub *s = &h->subs[ev->subs + i];
            subs[i] = (struct chk_record_sub){
                s->f, chk_str_get(h, s->path), s->data ? chk_str_get(h, s->data) : NULL,
                s->result_path ? chk_str_get(h, s->result_path) : NULL, s->version, s->err, s->mode};
        }
        r.subs = subs;
        r.n_subs = ev->n_subs;
    }
    write_record(out, &r, ev->has_time);
    return ferror(out) ? -1 : 0;
}

struct chk_writer {
    FILE *out;
    bool own;
};

struct chk_writer *chk_writer_open(const char *path, char *err, size_t errlen)
{
    struct chk_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    w->own = strcmp(path, "-") != 0;
    w->out = w->own ? fopen(path, "w") : stdout;
    if (!w->out) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(w);
        return NULL;
    }
    return w;
}

int chk_writer_append(struct chk_writer *w, const struct chk_record *rec)
{
    write_record(w->out, rec, true);
    /* Write through: a simulator that dies keeps every event so far. */
    return fflush(w->out) || ferror(w->out) ? -1 : 0;
}

int chk_writer_close(struct chk_writer *w)
{
    if (!w)
        return 0;
    int rc = fflush(w->out);
    if (w->own && fclose(w->out))
        rc = -1;
    free(w);
    return rc ? -1 : 0;
}
