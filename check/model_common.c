/* check/model_common: dispatch from the generic model calls to the register,
 * key-value and znode-tree models. Owns nothing but the dispatch. */
#include "check/model.h"

#include <inttypes.h>
#include <string.h>

const char *chk_model_name(enum chk_model_kind kind)
{
    return kind == CHK_MODEL_REGISTER ? "register" : kind == CHK_MODEL_KV ? "kv" : "zk";
}

enum chk_model_kind chk_model_parse(const char *s, bool *ok)
{
    *ok = true;
    if (!strcmp(s, "register"))
        return CHK_MODEL_REGISTER;
    if (!strcmp(s, "kv"))
        return CHK_MODEL_KV;
    if (!strcmp(s, "zk"))
        return CHK_MODEL_ZK;
    *ok = false;
    return CHK_MODEL_REGISTER;
}

int chk_model_init(struct chk_model *m, enum chk_model_kind kind, const struct chk_history *h)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->name = chk_model_name(kind);
    m->h = h;
    m->init = kind == CHK_MODEL_REGISTER ? CHK_REG_NIL : 0;
    if (kind == CHK_MODEL_REGISTER)
        return 0;
    m->strs = chk_history_new("model");
    if (!m->strs)
        return -1;
    return kind == CHK_MODEL_ZK ? chk_zkm_init(m) : 0;
}

void chk_model_free(struct chk_model *m)
{
    if (m->kind == CHK_MODEL_ZK)
        chk_zkm_free(m);
    chk_history_free(m->strs);
    m->strs = NULL;
}

int chk_model_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->op = op;
    out->f = m->h->ops[op].f;
    out->ok = chk_op_observed(m->h, &m->h->ops[op]);
    switch (m->kind) {
    case CHK_MODEL_REGISTER: return chk_reg_prepare(m, op, out, err, errlen);
    case CHK_MODEL_KV: return chk_kv_prepare(m, op, out, err, errlen);
    default: return chk_zkm_prepare(m, op, out, err, errlen);
    }
}

bool chk_model_step(struct chk_model *m, int64_t state, const struct chk_lin_op *op, int64_t *next)
{
    switch (m->kind) {
    case CHK_MODEL_REGISTER: return chk_reg_step(state, op, next);
    case CHK_MODEL_KV: return chk_kv_step(m, state, op, next);
    default: return chk_zkm_step(m, state, op, next);
    }
}

chk_str chk_model_partition(const struct chk_model *m, uint32_t op)
{
    if (m->kind != CHK_MODEL_KV)
        return 0;
    return m->h->events[m->h->ops[op].inv].key;
}

void chk_model_describe(const struct chk_model *m, int64_t state, char *buf, size_t len)
{
    switch (m->kind) {
    case CHK_MODEL_REGISTER:
        if (state == CHK_REG_NIL)
            snprintf(buf, len, "nil");
        else
            snprintf(buf, len, "%" PRId64, state);
        break;
    case CHK_MODEL_KV:
        snprintf(buf, len, "\"%s\"", chk_str_get(m->strs, (chk_str)state));
        break;
    default:
        chk_zkm_describe(m, state, buf, len);
    }
}
