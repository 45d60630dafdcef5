/* check/model: sequential specifications the black-box linearizability
 * checker searches against (register, key-value, znode tree).
 * A model state is one int64: the register value itself, or the id of an
 * interned string (key-value value, serialized znode tree) in the model's own
 * string table, so the search can copy, compare and hash states for free.
 * Must never: keep state outside struct chk_model, or depend on pointer
 * values (interned ids are assigned in first-seen order). */
#ifndef ZABLAB_CHECK_MODEL_H
#define ZABLAB_CHECK_MODEL_H

#include "check/history.h"

enum chk_model_kind { CHK_MODEL_REGISTER, CHK_MODEL_KV, CHK_MODEL_ZK };

/* The register's initial value; a read of nil matches it. */
#define CHK_REG_NIL INT64_MIN

/* One operation compiled for a model: what step() reads in the hot loop. */
struct chk_lin_op {
    enum chk_f f;
    bool ok;                  /* completed: the result is known */
    int64_t a, b, r;          /* model-specific arguments and result */
    uint32_t op;              /* index in h->ops */
};

struct chk_model {
    enum chk_model_kind kind;
    const char *name;
    int64_t init;
    const struct chk_history *h;
    struct chk_history *strs;  /* the model's own string table (kv, zk) */
    void *zk;                  /* znode-tree scratch (model_zk.c) */
};

int chk_model_init(struct chk_model *m, enum chk_model_kind kind, const struct chk_history *h);
void chk_model_free(struct chk_model *m);
enum chk_model_kind chk_model_parse(const char *s, bool *ok);
const char *chk_model_name(enum chk_model_kind kind);

/* Compiles h->ops[op] into *out. Returns 0, or -1 when the operation does
 * not belong to this model (err names it). */
int chk_model_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out,
                      char *err, size_t errlen);
/* Applies op to state: true and *next when the op's result is what the
 * model gives from state (or its result is unknown), false otherwise. */
bool chk_model_step(struct chk_model *m, int64_t state, const struct chk_lin_op *op, int64_t *next);
/* Which partition an op belongs to (kv: its key; others: one partition). */
chk_str chk_model_partition(const struct chk_model *m, uint32_t op);
void chk_model_describe(const struct chk_model *m, int64_t state, char *buf, size_t len);

/* Per-model entry points, dispatched by the functions above. */
int chk_reg_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out, char *err, size_t errlen);
bool chk_reg_step(int64_t state, const struct chk_lin_op *op, int64_t *next);
int chk_kv_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out, char *err, size_t errlen);
bool chk_kv_step(struct chk_model *m, int64_t state, const struct chk_lin_op *op, int64_t *next);
int chk_zkm_init(struct chk_model *m);
void chk_zkm_free(struct chk_model *m);
int chk_zkm_prepare(struct chk_model *m, uint32_t op, struct chk_lin_op *out, char *err, size_t errlen);
bool chk_zkm_step(struct chk_model *m, int64_t state, const struct chk_lin_op *op, int64_t *next);
void chk_zkm_describe(const struct chk_model *m, int64_t state, char *buf, size_t len);

#endif
