/* Reads a client history (JSON Lines) into invocation-to-completion bars.
 * Lenient about fields it does not draw; strict about what pairing needs:
 * a completion must follow an open invocation of the same process.
 *
 * Owns: the rhist arrays. Must never: keep more than RHIST_OPS_MAX ops or
 * RHIST_LANES_MAX processes (beyond is an error, not a silent cut). */
#include "reports/report_history.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NO_OP UINT32_MAX

const char *rhist_status_name(enum rhist_status s)
{
    static const char *const names[] = {"ok", "fail", "info (outcome unknown)", "never completed"};
    return (unsigned)s <= RHIST_PENDING ? names[s] : "?";
}

static int64_t time_of(json_t *o, bool *ok)
{
    const char *keys[] = {"time", "t_ns", "time_ns"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (json_is_integer(v)) {
            *ok = true;
            return (int64_t)json_integer_value(v);
        }
    }
    *ok = false;
    return 0;
}

static int lane_of(struct rhist *h, int64_t process)
{
    for (int i = 0; i < h->n_procs; i++)
        if (h->procs[i] == process)
            return i;
    if (h->n_procs >= RHIST_LANES_MAX)
        return -1;
    h->procs[h->n_procs] = process;
    h->open_op[h->n_procs] = NO_OP;
    return h->n_procs++;
}

static int kind_of(struct rhist *h, const char *f)
{
    for (int i = 0; i < h->n_kinds; i++)
        if (!strcmp(h->kinds[i], f))
            return i;
    if (h->n_kinds >= RHIST_KINDS_MAX)
        return RHIST_KINDS_MAX - 1;
    snprintf(h->kinds[h->n_kinds], sizeof h->kinds[0], "%s", f);
    return h->n_kinds++;
}

/* "create /k '1'": the op and its main argument, for hover text. */
static void describe(json_t *o, const char *f, char *dst, size_t cap)
{
    json_t *path = json_object_get(o, "path"), *data = json_object_get(o, "data");
    json_t *key = json_object_get(o, "key"), *val = json_object_get(o, "value");
    const char *p = json_is_string(path) ? json_string_value(path)
                  : json_is_string(key) ? json_string_value(key) : "";
    char arg[24] = "";
    if (json_is_string(data))
        snprintf(arg, sizeof arg, " '%.16s'", json_string_value(data));
    else if (json_is_integer(val))
        snprintf(arg, sizeof arg, " %lld", (long long)json_integer_value(val));
    snprintf(dst, cap, "%.16s %.32s%s", f, p, arg);
}

static void complete(struct rhist_op *op, json_t *o, const char *type, int64_t t)
{
    op->t_ret_ns = t;
    op->status = !strcmp(type, "ok") ? RHIST_OK : !strcmp(type, "fail") ? RHIST_FAIL : RHIST_INFO;
    json_t *e = json_object_get(o, "err"), *d = json_object_get(o, "data");
    size_t len = strlen(op->label);
    if (json_is_string(e))
        snprintf(op->label + len, sizeof op->label - len, " -> %.20s", json_string_value(e));
    else if (op->status == RHIST_OK && json_is_string(d) && !strchr(op->label, '\''))
        snprintf(op->label + len, sizeof op->label - len, " -> '%.16s'", json_string_value(d));
    else
        snprintf(op->label + len, sizeof op->label - len, " -> %s", type);
}

static int add_invoke(struct rhist *h, int lane, json_t *o, const char *f, int64_t t)
{
    if (h->n_ops == h->cap_ops) {
        if (h->n_ops >= RHIST_OPS_MAX)
            return -1;
        uint32_t ncap = h->cap_ops ? h->cap_ops * 2 : 256;
        struct rhist_op *p = realloc(h->ops, (size_t)ncap * sizeof *p);
        if (!p)
            return -1;
        h->ops = p, h->cap_ops = ncap;
    }
    struct rhist_op *op = &h->ops[h->n_ops];
    memset(op, 0, sizeof *op);
    op->t_inv_ns = t, op->t_ret_ns = -1;
    op->process = h->procs[lane];
    op->lane = (uint16_t)lane, op->kind = (uint16_t)kind_of(h, f);
    op->status = RHIST_PENDING;
    describe(o, f, op->label, sizeof op->label);
    h->open_op[lane] = h->n_ops++;
    return 0;
}

static int add_line(struct rhist *h, json_t *o, const char *where, char *err, size_t errlen)
{
    json_t *type = json_object_get(o, "type"), *f = json_object_get(o, "f");
    json_t *proc = json_object_get(o, "process");
    if (!proc)
        proc = json_object_get(o, "session");
    if (!json_is_string(type) || !json_is_integer(proc)) {
        snprintf(err, errlen, "%s: an event needs a string type and an integer process", where);
        return -1;
    }
    const char *ty = json_string_value(type);
    if (!strcmp(ty, "watch"))
        return 0; /* watch notifications are not operations */
    bool has_t;
    int64_t t = time_of(o, &has_t);
    int lane = lane_of(h, (int64_t)json_integer_value(proc));
    if (!has_t || lane < 0) {
        snprintf(err, errlen, "%s: %s", where, !has_t ? "an event needs an integer time (ns)"
                                                       : "too many processes");
        return -1;
    }
    if (h->n_ops == 0 || t < h->t_min_ns)
        h->t_min_ns = t;
    if (t > h->t_max_ns)
        h->t_max_ns = t;
    if (!strcmp(ty, "invoke")) {
        if (h->open_op[lane] != NO_OP) {
            snprintf(err, errlen, "%s: process %lld invokes before its last op completed", where,
                     (long long)h->procs[lane]);
            return -1;
        }
        if (add_invoke(h, lane, o, json_is_string(f) ? json_string_value(f) : "?", t) < 0) {
            snprintf(err, errlen, "%s: too many operations (max %u) or out of memory", where, RHIST_OPS_MAX);
            return -1;
        }
        return 0;
    }
    if (strcmp(ty, "ok") && strcmp(ty, "fail") && strcmp(ty, "info")) {
        snprintf(err, errlen, "%s: unknown type '%.32s'", where, ty);
        return -1;
    }
    if (h->open_op[lane] == NO_OP) {
        snprintf(err, errlen, "%s: completion without an invocation", where);
        return -1;
    }
    complete(&h->ops[h->open_op[lane]], o, ty, t);
    h->open_op[lane] = NO_OP;
    return 0;
}

int rhist_read(struct rhist *h, FILE *in, const char *name, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    char *line = malloc(RHIST_LINE_MAX);
    if (!line) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    unsigned long lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, RHIST_LINE_MAX, in)) {
        lineno++;
        char where[192];
        snprintf(where, sizeof where, "%s:%lu:1", name, lineno);
        size_t len = strlen(line);
        if (len == RHIST_LINE_MAX - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s: line longer than %u bytes", where, RHIST_LINE_MAX - 2);
            rc = -1;
            break;
        }
        if (strspn(line, " \t\r\n") == len)
            continue;
        json_error_t je;
        json_t *o = json_loadb(line, len, 0, &je);
        if (!json_is_object(o)) {
            snprintf(err, errlen, "%s:%lu:%d: %s", name, lineno, o ? 1 : je.column,
                     o ? "an event must be a JSON object" : je.text);
            rc = -1;
        } else {
            rc = add_line(h, o, where, err, errlen);
        }
        json_decref(o);
    }
    free(line);
    if (rc < 0)
        rhist_free(h);
    return rc;
}

void rhist_free(struct rhist *h)
{
    free(h->ops);
    memset(h, 0, sizeof *h);
}
