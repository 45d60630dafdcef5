/* check/model_register: a single int64 register with read, write and cas
 * (Jepsen's cas-register). State = the value; nil is CHK_REG_NIL.
 * Must never: accept an operation that is not read/write/cas. */
#include "check/model.h"

int chk_reg_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out,
                    char *err, size_t errlen)
{
    const struct chk_op *o = &m->h->ops[op];
    const struct chk_event *inv = &m->h->events[o->inv];
    switch (o->f) {
    case CHK_F_READ:
        if (out->ok) {
            const struct chk_event *ret = &m->h->events[o->ret];
            out->r = ret->nil ? CHK_REG_NIL : ret->ival;
        }
        return 0;
    case CHK_F_WRITE:
        out->a = inv->nil ? CHK_REG_NIL : inv->ival;
        return 0;
    case CHK_F_CAS:
        if (inv->nil) {
            snprintf(err, errlen, "%s:%u:%u: cas needs [from to]", m->h->name, inv->line, inv->col);
            return -1;
        }
        out->a = inv->ival;
        out->b = inv->ival2;
        return 0;
    default:
        snprintf(err, errlen, "%s:%u:%u: %s is not a register operation (read, write, cas)",
                 m->h->name, inv->line, inv->col, chk_f_name(o->f));
        return -1;
    }
}

bool chk_reg_step(int64_t state, const struct chk_lin_op *op, int64_t *next)
{
    switch (op->f) {
    case CHK_F_READ:
        *next = state;
        return !op->ok || state == op->r;
    case CHK_F_WRITE:
        *next = op->a;
        return true;
    case CHK_F_CAS:
        *next = op->b;
        return state == op->a;
    default:
        return false;
    }
}
