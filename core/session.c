/* session: a sorted array of sessions; expiry is a per-session time on the
 * tick grid, so "the bucket due at T" is simply "every open session with
 * expiry_ms <= T", scanned in id order. */
#include "core/session.h"

#include <stdlib.h>
#include <string.h>

#include "core/sha1.h"
#include "core/zk_types.h"

int session_init(struct session_tracker *tr, const struct session_config *cfg, int64_t now_ms)
{
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    /* Server id 255 would make session ids look like TTL owners (0xff top
     * byte): ZooKeeper caps it at 254 for the same reason. */
    if (tr->cfg.tick_ms <= 0 || cfg->server_id == 0xff)
        return ZBADARGUMENTS;
    if (tr->cfg.min_timeout_ms <= 0)
        tr->cfg.min_timeout_ms = 2 * tr->cfg.tick_ms;
    if (tr->cfg.max_timeout_ms <= 0)
        tr->cfg.max_timeout_ms = 20 * tr->cfg.tick_ms;
    if (tr->cfg.max_sessions == 0)
        tr->cfg.max_sessions = SESSION_MAX_DEFAULT;
    if (tr->cfg.min_timeout_ms > tr->cfg.max_timeout_ms)
        return ZBADARGUMENTS;
    tr->next_id = session_initial_id(now_ms, cfg->server_id);
    return ZOK;
}

void session_free(struct session_tracker *tr)
{
    free(tr->s);
    memset(tr, 0, sizeof *tr);
}

int session_clone(struct session_tracker *dst, const struct session_tracker *src)
{
    *dst = *src;
    dst->s = NULL;
    if (src->cap == 0)
        return ZOK;
    dst->s = malloc(src->cap * sizeof *dst->s);
    if (dst->s == NULL) {
        memset(dst, 0, sizeof *dst);
        return ZSYSTEMERROR;
    }
    memcpy(dst->s, src->s, src->count * sizeof *dst->s);
    return ZOK;
}

int64_t session_initial_id(int64_t now_ms, uint8_t server_id)
{
    uint64_t id = ((uint64_t)now_ms << 24) >> 8;
    id |= (uint64_t)server_id << 56;
    if ((int64_t)id == ZK_OWNER_CONTAINER)
        id++;
    return (int64_t)id;
}

int32_t session_negotiate_timeout(const struct session_tracker *tr, int32_t requested_ms)
{
    if (requested_ms < tr->cfg.min_timeout_ms)
        return tr->cfg.min_timeout_ms;
    if (requested_ms > tr->cfg.max_timeout_ms)
        return tr->cfg.max_timeout_ms;
    return requested_ms;
}

int64_t session_round_expiry(const struct session_tracker *tr, int64_t t_ms)
{
    return (t_ms / tr->cfg.tick_ms + 1) * tr->cfg.tick_ms;
}

static uint32_t session_pos(const struct session_tracker *tr, int64_t id, bool *found)
{
    uint32_t lo = 0, hi = tr->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tr->s[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < tr->count && tr->s[lo].id == id;
    return lo;
}

const struct session *session_get(const struct session_tracker *tr, int64_t id)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    return found ? &tr->s[i] : NULL;
}

int session_track(struct session_tracker *tr, int64_t id, int32_t timeout_ms,
                  uint64_t owner, int64_t now_ms)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    if (!found) {
        if (tr->count >= tr->cfg.max_sessions)
            return ZTHROTTLEDOP;
        if (tr->count == tr->cap) {
            uint32_t cap = tr->cap ? tr->cap * 2 : 16;
            struct session *s = realloc(tr->s, cap * sizeof *s);
            if (s == NULL)
                return ZSYSTEMERROR;
            tr->s = s;
            tr->cap = cap;
        }
        memmove(tr->s + i + 1, tr->s + i, (tr->count - i) * sizeof *tr->s);
        tr->count++;
        memset(&tr->s[i], 0, sizeof tr->s[i]);
        tr->s[i].id = id;
    }
    tr->s[i].timeout_ms = timeout_ms;
    tr->s[i].owner = owner;
    tr->s[i].expiry_ms = session_round_expiry(tr, now_ms + timeout_ms);
    return ZOK;
}

int session_create(struct session_tracker *tr, int32_t *timeout_ms, uint64_t owner,
                   int64_t now_ms, int64_t *id_out)
{
    *timeout_ms = session_negotiate_timeout(tr, *timeout_ms);
    int64_t id = tr->next_id;
    if (id == ZK_OWNER_CONTAINER)
        id++;
    int rc = session_track(tr, id, *timeout_ms, owner, now_ms);
    if (rc != ZOK)
        return rc;
    tr->next_id = id + 1;
    *id_out = id;
    return ZOK;
}

int session_touch(struct session_tracker *tr, int64_t id, int64_t now_ms)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    if (!found)
        return ZUNKNOWNSESSION;
    if (tr->s[i].closing)
        return ZSESSIONEXPIRED;
    int64_t e = session_round_expiry(tr, now_ms + tr->s[i].timeout_ms);
    if (e > tr->s[i].expiry_ms)
        tr->s[i].expiry_ms = e;
    return ZOK;
}

int session_check(struct session_tracker *tr, int64_t id, uint64_t owner)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    if (!found)
        return ZUNKNOWNSESSION;
    struct session *s = &tr->s[i];
    if (s->closing)
        return ZSESSIONEXPIRED;
    if (s->owner == SESSION_OWNER_NONE)
        s->owner = owner;
    else if (s->owner != owner)
        return ZSESSIONMOVED;
    return ZOK;
}

int session_set_owner(struct session_tracker *tr, int64_t id, uint64_t owner)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    if (!found)
        return ZUNKNOWNSESSION;
    if (tr->s[i].closing)
        return ZSESSIONEXPIRED;
    tr->s[i].owner = owner;
    return ZOK;
}

void session_set_closing(struct session_tracker *tr, int64_t id)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    if (found)
        tr->s[i].closing = true;
}

void session_remove(struct session_tracker *tr, int64_t id)
{
    bool found;
    uint32_t i = session_pos(tr, id, &found);
    if (!found)
        return;
    memmove(tr->s + i, tr->s + i + 1, (tr->count - i - 1) * sizeof *tr->s);
    tr->count--;
}

uint32_t session_expired(struct session_tracker *tr, int64_t now_ms, int64_t *out, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < tr->count && n < cap; i++) {
        struct session *s = &tr->s[i];
        if (s->closing || s->expiry_ms > now_ms)
            continue;
        s->closing = true;
        out[n++] = s->id;
    }
    return n;
}

int64_t session_next_expiry_ms(const struct session_tracker *tr)
{
    int64_t best = INT64_MAX;
    for (uint32_t i = 0; i < tr->count; i++)
        if (!tr->s[i].closing && tr->s[i].expiry_ms < best)
            best = tr->s[i].expiry_ms;
    return best;
}

void session_password(int64_t id, const uint8_t *secret, size_t secret_len,
                      uint8_t out[SESSION_PASSWD_LEN])
{
    uint8_t idb[8], h[SHA1_DIGEST_LEN];
    for (int i = 0; i < 8; i++)
        idb[i] = (uint8_t)((uint64_t)id >> (56 - 8 * i));
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, secret, secret_len);
    sha1_update(&c, idb, sizeof idb);
    sha1_final(&c, h);
    memcpy(out, h, SESSION_PASSWD_LEN);
}

bool session_password_ok(int64_t id, const uint8_t *secret, size_t secret_len,
                         const uint8_t *passwd, size_t passwd_len)
{
    if (passwd_len != SESSION_PASSWD_LEN)
        return false;
    uint8_t want[SESSION_PASSWD_LEN];
    session_password(id, secret, secret_len, want);
    uint8_t diff = 0;
    for (int i = 0; i < SESSION_PASSWD_LEN; i++)
        diff |= (uint8_t)(want[i] ^ passwd[i]);
    return diff == 0;
}
