/* zk_wire_internal: helpers shared by core/zk_wire.c (server side) and
 * core/zk_wire_client.c (client side). Not for other modules. */
#ifndef ZABLAB_CORE_ZK_WIRE_INTERNAL_H
#define ZABLAB_CORE_ZK_WIRE_INTERNAL_H

#include "core/zk_wire.h"

/* Writes one whole frame with wr; must be repeatable (it is re-run on a
 * larger buffer after JUTE_E_OVERFLOW). */
typedef void zkw_wr_fn(struct jute_wr *wr, const void *arg);

/* Appends what fn writes to b, growing b up to ZKW_FRAME_MAX. 0 or -1
 * (b->len unchanged). */
int zkw_buf_write(struct zkw_buf *b, zkw_wr_fn *fn, const void *arg);
void zkw_stat_to_wire(const struct zk_stat *s, struct zkp_stat *w);

#endif
