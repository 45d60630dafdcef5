/* zk_wire: see core/zk_wire.h. (Stub: the implementation follows.) */
#include "core/zk_wire.h"

#include <stdlib.h>
#include <string.h>

void zkw_buf_free(struct zkw_buf *b) { free(b->p); memset(b, 0, sizeof *b); }
int zkw_decode_connect(const uint8_t *p, size_t n, struct zkw_connect *o)
{ (void)p; (void)n; memset(o, 0, sizeof *o); return ZMARSHALLINGERROR; }
int zkw_decode_request(const uint8_t *p, size_t n, const struct zkw_limits *l, struct zkw_request *o)
{ (void)p; (void)n; (void)l; memset(o, 0, sizeof *o); return ZMARSHALLINGERROR; }
void zkw_request_free(struct zkw_request *r) { free(r->mem); memset(r, 0, sizeof *r); }
int zkw_encode_out(const struct zks_out *o, bool lf, struct zkw_buf *b) { (void)o; (void)lf; (void)b; return -1; }
int zkw_encode_connect(const struct zkw_connect *c, struct zkw_buf *b) { (void)c; (void)b; return -1; }
int zkw_encode_request(const struct zk_request *r, struct zkw_buf *b) { (void)r; (void)b; return -1; }
int zkw_encode_set_watches(int32_t x, const struct zks_set_watches *s, struct zkw_buf *b) { (void)x; (void)s; (void)b; return -1; }
int zkw_decode_connect_resp(const uint8_t *p, size_t n, struct zkw_reply *o)
{ (void)p; (void)n; memset(o, 0, sizeof *o); return ZMARSHALLINGERROR; }
int zkw_decode_reply(const uint8_t *p, size_t n, int32_t (*f)(void *, int32_t), void *a, struct zkw_reply *o)
{ (void)p; (void)n; (void)f; (void)a; memset(o, 0, sizeof *o); return ZMARSHALLINGERROR; }
void zkw_reply_free(struct zkw_reply *r) { free(r->mem); memset(r, 0, sizeof *r); }
