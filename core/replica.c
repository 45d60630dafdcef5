/* Replica: stub (interface published first; protocol code follows). */
#include "core/replica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int replica_init(struct replica *r, const struct replica_config *cfg, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    if (quorum_init_majority(&r->qv, cfg->n_servers, cfg->roles) < 0) {
        snprintf(err, errlen, "bad n_servers %d", cfg->n_servers);
        return REP_ERR_CONFIG;
    }
    r->id = cfg->id;
    return REP_OK;
}
void replica_free(struct replica *r) { (void)r; }
int replica_clone(struct replica *dst, const struct replica *src) { *dst = *src; return 0; }
int replica_start(struct replica *r, uint64_t now_ms, const struct replica_durable *d, char *err, size_t errlen)
{ (void)r; (void)now_ms; (void)d; (void)err; (void)errlen; return REP_OK; }
void replica_on_message(struct replica *r, uint64_t now_ms, int from_id, const uint8_t *msg, size_t len)
{ (void)r; (void)now_ms; (void)from_id; (void)msg; (void)len; }
void replica_on_conn_break(struct replica *r, uint64_t now_ms, int peer_id) { (void)r; (void)now_ms; (void)peer_id; }
void replica_on_timer(struct replica *r, uint64_t now_ms) { (void)r; (void)now_ms; }
void replica_on_disk_done(struct replica *r, uint64_t now_ms, uint64_t op_id) { (void)r; (void)now_ms; (void)op_id; }
int replica_propose(struct replica *r, uint64_t now_ms, const uint8_t *payload, size_t len, uint64_t *zxid_out)
{ (void)r; (void)now_ms; (void)payload; (void)len; (void)zxid_out; return REP_ERR_NOT_LEADER; }
const struct replica_out *replica_output(struct replica *r) { return &r->out; }
void replica_output_clear(struct replica *r) { (void)r; }
uint64_t replica_last_zxid(const struct replica *r) { (void)r; return 0; }
uint64_t replica_durable_last_zxid(const struct replica *r) { (void)r; return 0; }
uint64_t replica_digest(const struct replica *r) { (void)r; return 0; }
uint32_t replica_log_count(const struct replica *r) { (void)r; return 0; }
const struct rep_entry *replica_log_entry(const struct replica *r, uint32_t i) { (void)r; (void)i; return NULL; }
const uint8_t *replica_log_payload(const struct replica *r, uint32_t i, uint32_t *len) { (void)r; (void)i; *len = 0; return NULL; }
const char *rep_state_name(int state) { (void)state; return "?"; }
const char *rep_phase_name(int phase) { (void)phase; return "?"; }
const char *rep_event_name(int kind) { (void)kind; return "?"; }
char *rep_event_describe(const struct rep_event *ev, char *buf, size_t cap) { (void)ev; if (cap) buf[0] = 0; return buf; }
