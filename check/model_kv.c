/* check/model_kv: one key of a key-value map with get, put and append on
 * strings (the model of Porcupine's kv benchmark; nil reads as ""). The
 * linearizability checker splits a kv history by key, so a state is the
 * value of one key: the id of a string in the model's own table (0 = "").
 * Must never: hand out ids from the history's table as states (appends make
 * strings the history never mentions). */
#include "check/model.h"

#include <stdlib.h>
#include <string.h>

/* Re-interns a history string in the model's table; "" and nil give 0. */
static int64_t own_id(struct chk_model *m, chk_str s)
{
    uint32_t len = chk_str_len(m->h, s);
    if (len == 0)
        return 0;
    chk_str id = chk_str_intern(m->strs, chk_str_get(m->h, s), len);
    return id ? (int64_t)id : -1;
}

int chk_kv_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out,
                   char *err, size_t errlen)
{
    const struct chk_op *o = &m->h->ops[op];
    const struct chk_event *inv = &m->h->events[o->inv];
    switch (o->f) {
    case CHK_F_GET:
        out->r = out->ok ? own_id(m, m->h->events[o->ret].sval) : 0;
        break;
    case CHK_F_PUT: case CHK_F_APPEND:
        out->a = own_id(m, inv->sval);
        break;
    default:
        snprintf(err, errlen, "%s:%u:%u: %s is not a key-value operation (get, put, append)",
                 m->h->name, inv->line, inv->col, chk_f_name(o->f));
        return -1;
    }
    if (out->a < 0 || out->r < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static bool append_state(struct chk_model *m, int64_t state, int64_t add, int64_t *next)
{
    uint32_t l1 = chk_str_len(m->strs, (chk_str)state), l2 = chk_str_len(m->strs, (chk_str)add);
    char small[256];
    char *buf = l1 + l2 <= sizeof small ? small : malloc((size_t)l1 + l2);
    if (!buf)
        return false;
    memcpy(buf, chk_str_get(m->strs, (chk_str)state), l1);
    memcpy(buf + l1, chk_str_get(m->strs, (chk_str)add), l2);
    chk_str id = chk_str_intern(m->strs, buf, (size_t)l1 + l2);
    if (buf != small)
        free(buf);
    *next = id;
    return id != 0;
}

bool chk_kv_step(struct chk_model *m, int64_t state, const struct chk_lin_op *op, int64_t *next)
{
    switch (op->f) {
    case CHK_F_GET:
        *next = state;
        return !op->ok || state == op->r;
    case CHK_F_PUT:
        *next = op->a;
        return true;
    case CHK_F_APPEND:
        if (op->a == 0) {
            *next = state;
            return true;
        }
        return append_state(m, state, op->a, next);
    default:
        return false;
    }
}
