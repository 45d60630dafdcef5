/* Stub of the recipes module (see sim/recipes.h): the recipes engineer
 * replaces this file. It runs nothing and judges nothing. */
#include "sim/recipes.h"

#include <stdio.h>

int recipes_attach(const struct scenario *s, struct sim_clients *cs, int first,
                   struct recipes **out, char *err, size_t errlen)
{
    (void)s;
    (void)cs;
    (void)first;
    (void)err;
    (void)errlen;
    *out = NULL;
    return 0;
}

enum srun_verdict recipes_judge(struct recipes *r, enum scn_expect_kind kind, char *detail,
                                size_t len)
{
    (void)r;
    (void)kind;
    snprintf(detail, len, "recipes are not implemented yet (sim/recipes.c is a stub)");
    return SRUN_NOT_JUDGED;
}

void recipes_free(struct recipes *r)
{
    (void)r;
}
