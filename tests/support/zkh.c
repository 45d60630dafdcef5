/* zkh: see zkh.h. Aborts the test (via cmocka's fail) only on harness
 * misuse; every ZooKeeper outcome is returned to the test to assert. */
#include "tests/support/zkh.h"

#include <stdlib.h>
#include <string.h>

static struct zk_acl zkh_open_acl[1] = {{ZOO_PERM_ALL, {"world", "anyone"}}};

void zkh_init(struct zkh *h, bool sessions, bool extended_types)
{
    memset(h, 0, sizeof *h);
    zk_sm_init(&h->sm, NULL);
    struct prep_config pc = {.extended_types = extended_types};
    prep_init(&h->prep, &pc);
    struct session_config sc = {.tick_ms = 2000, .server_id = 1};
    session_init(&h->tr, &sc, 1000);
    h->sessions = sessions;
    watch_init(&h->wm, 0);
    watch_out_init(&h->wout);
    zk_apply_out_init(&h->out);
    h->zxid = (int64_t)1 << 32;
    h->time_ms = 1000;
    h->session = 0x1234;
    h->buf = malloc(ZKH_TXN_CAP);
}

void zkh_free(struct zkh *h)
{
    for (uint32_t i = 0; i < h->queued; i++)
        free(h->queue[i].bytes);
    zk_sm_free(&h->sm);
    prep_free(&h->prep);
    session_free(&h->tr);
    watch_free(&h->wm);
    watch_out_free(&h->wout);
    zk_apply_out_free(&h->out);
    free(h->buf);
}

struct zk_request zkh_req(const struct zkh *h, int32_t type, const char *path)
{
    struct zk_request r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.session_id = h->session;
    r.path = path;
    r.acl = zkh_open_acl;
    r.acl_count = 1;
    r.version = -1;
    r.ttl_ms = -1;
    r.auth = h->auth;
    r.auth_count = h->auth_count;
    const struct session *s = session_get(&h->tr, h->session);
    r.owner = s ? s->owner : 0;
    return r;
}

int zkh_propose(struct zkh *h, const struct zk_request *req)
{
    struct prep_result res;
    int64_t zxid = h->zxid + 1;
    h->time_ms += 10;
    int rc = prep_request(&h->prep, &h->sm.tree, h->sessions ? &h->tr : NULL, req, zxid,
                          h->time_ms, h->buf, ZKH_TXN_CAP, &res);
    if (rc != ZOK)
        return rc;
    if (!res.has_txn)
        return res.err;
    if (h->queued == ZKH_QUEUE_MAX)
        abort();
    h->zxid = zxid;
    struct zkh_pending *q = &h->queue[h->queued++];
    q->bytes = malloc(res.txn_len);
    memcpy(q->bytes, h->buf, res.txn_len);
    q->len = res.txn_len;
    q->zxid = zxid;
    return res.err;
}

int zkh_apply_next(struct zkh *h)
{
    if (h->queued == 0)
        abort();
    struct zkh_pending q = h->queue[0];
    memmove(h->queue, h->queue + 1, (h->queued - 1) * sizeof *h->queue);
    h->queued--;
    int rc = zk_sm_apply(&h->sm, (uint64_t)q.zxid, q.bytes, q.len, &h->out);
    free(q.bytes);
    prep_applied(&h->prep, q.zxid);
    watch_out_reset(&h->wout);
    if (rc == ZOK)
        watch_trigger_applied(&h->wm, &h->out, h->filter, &h->wout);
    return rc;
}

int zkh_submit(struct zkh *h, const struct zk_request *req)
{
    uint32_t before = h->queued;
    int err = zkh_propose(h, req);
    if (h->queued > before)
        zkh_apply_next(h);
    return err;
}

int zkh_create(struct zkh *h, const char *path, const char *data, int32_t flags)
{
    struct zk_request r = zkh_req(h, ZOO_CREATE_OP, path);
    r.data = (const uint8_t *)data;
    r.data_len = data ? (uint32_t)strlen(data) : 0;
    r.flags = flags;
    return zkh_submit(h, &r);
}

int zkh_delete(struct zkh *h, const char *path, int32_t version)
{
    struct zk_request r = zkh_req(h, ZOO_DELETE_OP, path);
    r.version = version;
    return zkh_submit(h, &r);
}

int zkh_set(struct zkh *h, const char *path, const char *data, int32_t version)
{
    struct zk_request r = zkh_req(h, ZOO_SETDATA_OP, path);
    r.data = (const uint8_t *)data;
    r.data_len = data ? (uint32_t)strlen(data) : 0;
    r.version = version;
    return zkh_submit(h, &r);
}

const char *zkh_created(const struct zkh *h)
{
    if (h->out.result_count == 0)
        return "";
    return zk_apply_out_str(&h->out, h->out.results[0].path_off);
}

const struct tree_node *zkh_node(const struct zkh *h, const char *path)
{
    return tree_get(&h->sm.tree, path, strlen(path));
}
