/* sim/cluster_conn: the server end of simulated client connections in zk
 * mode (private to sim/cluster.c): wire frames from a client endpoint become
 * zk_server client inputs, and zk_server client outputs become frames sent
 * back, in batch order, with a close marker after a CLOSE.
 *
 * Owns: the per-(server, client) connection table (net generation, state),
 * the scratch encoding buffer. Must never: decide anything about sessions
 * or requests (zk_server does), or send on a connection generation other
 * than the one the client opened. */
#ifndef ZABLAB_SIM_CLUSTER_CONN_H
#define ZABLAB_SIM_CLUSTER_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "sim/cluster.h"

int cconn_init(struct cluster *c, char *err, size_t errlen);   /* zk servers + table */
void cconn_free(struct cluster *c);
/* Server id lost its process: it forgets every connection. */
void cconn_server_reset(struct cluster *c, int id);
/* A frame from client k reached live server id. */
void cconn_server_frame(struct cluster *c, int id, int k, const uint8_t *bytes, size_t len);
/* Server id learns its connection of generation gen to client k broke. */
void cconn_server_broken(struct cluster *c, int id, int k, uint32_t gen);
/* Carries out the client outputs of server id's batch. */
void cconn_server_outputs(struct cluster *c, int id, const struct zks_output *o);

/* In sim/cluster.c: carry out server id's pending output batch. */
void cluster_server_output(struct cluster *c, int id);

#endif
