/* ZAB/FLE peer message codec. Owns the byte layout (see zab_msg.h); every
 * decode is bounds-checked and must consume the buffer exactly. Never
 * decides protocol behaviour. */
#include "core/zab_msg.h"

#include <stdio.h>
#include <string.h>

struct wbuf {
    uint8_t *p;
    size_t cap, n;
};

static void w_u8(struct wbuf *w, uint8_t v)
{
    if (w->n + 1 <= w->cap)
        w->p[w->n] = v;
    w->n += 1;
}

static void w_u32(struct wbuf *w, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        w_u8(w, (uint8_t)(v >> (8 * i)));
}

static void w_u64(struct wbuf *w, uint64_t v)
{
    w_u32(w, (uint32_t)(v >> 32));
    w_u32(w, (uint32_t)v);
}

static void w_bytes(struct wbuf *w, const uint8_t *b, uint32_t len)
{
    w_u32(w, len);
    if (len && w->n + len <= w->cap)
        memcpy(w->p + w->n, b, len);
    w->n += len;
}

static int kind_has_data(int kind)
{
    return kind == ZAB_MSG_SNAP || kind == ZAB_MSG_PROPOSAL || kind == ZAB_MSG_INFORM;
}

/* Writes (or, with cap 0, only measures) m. */
static size_t encode_into(const struct zab_msg *m, struct wbuf *w)
{
    w_u8(w, m->kind);
    switch (m->kind) {
    case ZAB_MSG_NOTIFICATION:
        w_u8(w, m->note.state);
        w_u32(w, (uint32_t)m->note.vote.leader);
        w_u64(w, m->note.vote.zxid);
        w_u64(w, m->note.round);
        w_u64(w, m->note.vote.peer_epoch);
        break;
    case ZAB_MSG_FOLLOWERINFO:
        w_u64(w, m->epoch);
        w_u8(w, m->flag);
        break;
    case ZAB_MSG_LEADERINFO:
        w_u64(w, m->epoch);
        break;
    case ZAB_MSG_ACKEPOCH:
        w_u8(w, m->flag);
        w_u64(w, m->epoch);
        w_u64(w, m->zxid);
        break;
    default:
        w_u64(w, m->zxid);
        if (kind_has_data(m->kind))
            w_bytes(w, m->data, m->data_len);
        break;
    }
    return w->n;
}

size_t zab_msg_size(const struct zab_msg *m)
{
    struct wbuf w = {NULL, 0, 0};
    return encode_into(m, &w);
}

size_t zab_msg_encode(const struct zab_msg *m, uint8_t *buf, size_t cap)
{
    if (m->kind < ZAB_MSG_KIND_MIN || m->kind > ZAB_MSG_KIND_MAX)
        return 0;
    if (zab_msg_size(m) > cap)
        return 0;
    struct wbuf w = {buf, cap, 0};
    return encode_into(m, &w);
}

struct rbuf {
    const uint8_t *p;
    size_t len, at;
    int bad;
};

static uint8_t r_u8(struct rbuf *r)
{
    if (r->at + 1 > r->len) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->at++];
}

static uint32_t r_u32(struct rbuf *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | r_u8(r);
    return v;
}

static uint64_t r_u64(struct rbuf *r)
{
    uint64_t hi = r_u32(r);
    return (hi << 32) | r_u32(r);
}

static int decode_body(struct rbuf *r, struct zab_msg *m, char *err, size_t errlen)
{
    switch (m->kind) {
    case ZAB_MSG_NOTIFICATION:
        m->note.state = r_u8(r);
        m->note.vote.leader = (int32_t)r_u32(r);
        m->note.vote.zxid = r_u64(r);
        m->note.round = r_u64(r);
        m->note.vote.peer_epoch = r_u64(r);
        if (!r->bad && m->note.state > FLE_OBSERVING) {
            snprintf(err, errlen, "NOTIFICATION: bad server state %u", m->note.state);
            return -1;
        }
        return 0;
    case ZAB_MSG_FOLLOWERINFO:
        m->epoch = r_u64(r);
        m->flag = r_u8(r);
        return 0;
    case ZAB_MSG_LEADERINFO:
        m->epoch = r_u64(r);
        return 0;
    case ZAB_MSG_ACKEPOCH:
        m->flag = r_u8(r);
        m->epoch = r_u64(r);
        m->zxid = r_u64(r);
        return 0;
    default:
        m->zxid = r_u64(r);
        if (kind_has_data(m->kind)) {
            uint32_t n = r_u32(r);
            if (r->bad)
                return 0;
            if (n > ZAB_MSG_DATA_MAX || n > r->len - r->at) {
                snprintf(err, errlen, "%s: data length %u exceeds the %zu bytes left",
                         zab_msg_kind_str(m->kind), n, r->len - r->at);
                return -1;
            }
            m->data = r->p + r->at;
            m->data_len = n;
            r->at += n;
        }
        return 0;
    }
}

int zab_msg_decode(const uint8_t *buf, size_t len, struct zab_msg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    struct rbuf r = {buf, len, 0, 0};
    if (!buf || len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    m->kind = r_u8(&r);
    if (m->kind < ZAB_MSG_KIND_MIN || m->kind > ZAB_MSG_KIND_MAX) {
        snprintf(err, errlen, "unknown message kind %u", m->kind);
        return -1;
    }
    if (decode_body(&r, m, err, errlen) < 0)
        return -1;
    if (r.bad) {
        snprintf(err, errlen, "%s: truncated (%zu bytes)", zab_msg_kind_str(m->kind), len);
        return -1;
    }
    if (r.at != len) {
        snprintf(err, errlen, "%s: %zu trailing bytes", zab_msg_kind_str(m->kind), len - r.at);
        return -1;
    }
    return 0;
}

static const char *const zab_kind_names[ZAB_MSG_KIND_MAX + 1] = {
    [ZAB_MSG_NOTIFICATION] = "NOTIFICATION", [ZAB_MSG_FOLLOWERINFO] = "FOLLOWERINFO",
    [ZAB_MSG_LEADERINFO] = "LEADERINFO", [ZAB_MSG_ACKEPOCH] = "ACKEPOCH",
    [ZAB_MSG_DIFF] = "DIFF", [ZAB_MSG_TRUNC] = "TRUNC", [ZAB_MSG_SNAP] = "SNAP",
    [ZAB_MSG_PROPOSAL] = "PROPOSAL", [ZAB_MSG_ACK] = "ACK", [ZAB_MSG_COMMIT] = "COMMIT",
    [ZAB_MSG_NEWLEADER] = "NEWLEADER", [ZAB_MSG_UPTODATE] = "UPTODATE",
    [ZAB_MSG_PING] = "PING", [ZAB_MSG_INFORM] = "INFORM",
};

const char *zab_msg_kind_str(int kind)
{
    if (kind < ZAB_MSG_KIND_MIN || kind > ZAB_MSG_KIND_MAX)
        return "UNKNOWN";
    return zab_kind_names[kind];
}

const char *zab_msg_kind_name(const uint8_t *msg, size_t len)
{
    struct zab_msg m;
    char err[8];
    if (zab_msg_decode(msg, len, &m, err, sizeof err) < 0)
        return "MALFORMED";
    return zab_msg_kind_str(m.kind);
}

static const char *const fle_state_names[4] = {"LOOKING", "FOLLOWING", "LEADING", "OBSERVING"};

char *zab_msg_describe(const uint8_t *msg, size_t len, char *buf, size_t cap)
{
    struct zab_msg m;
    char err[96];
    if (cap == 0)
        return buf;
    if (zab_msg_decode(msg, len, &m, err, sizeof err) < 0) {
        snprintf(buf, cap, "MALFORMED (%s)", err);
        return buf;
    }
    const char *k = zab_msg_kind_str(m.kind);
    switch (m.kind) {
    case ZAB_MSG_NOTIFICATION:
        snprintf(buf, cap, "NOTIFICATION %s vote=(leader %d, zxid 0x%llx, epoch %llu) round=%llu",
                 fle_state_names[m.note.state], (int)m.note.vote.leader,
                 (unsigned long long)m.note.vote.zxid, (unsigned long long)m.note.vote.peer_epoch,
                 (unsigned long long)m.note.round);
        break;
    case ZAB_MSG_FOLLOWERINFO:
        snprintf(buf, cap, "%s acceptedEpoch=%llu%s", m.flag ? "OBSERVERINFO" : k,
                 (unsigned long long)m.epoch, "");
        break;
    case ZAB_MSG_LEADERINFO:
        snprintf(buf, cap, "%s epoch=%llu", k, (unsigned long long)m.epoch);
        break;
    case ZAB_MSG_ACKEPOCH:
        if (m.flag)
            snprintf(buf, cap, "%s currentEpoch=%llu lastZxid=0x%llx", k,
                     (unsigned long long)m.epoch, (unsigned long long)m.zxid);
        else
            snprintf(buf, cap, "%s currentEpoch=-1 lastZxid=0x%llx", k, (unsigned long long)m.zxid);
        break;
    default:
        if (kind_has_data(m.kind))
            snprintf(buf, cap, "%s 0x%llx (%u bytes)", k, (unsigned long long)m.zxid, m.data_len);
        else
            snprintf(buf, cap, "%s 0x%llx", k, (unsigned long long)m.zxid);
        break;
    }
    return buf;
}
