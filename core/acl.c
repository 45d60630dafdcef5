/* acl: checks and fix-ups as PrepRequestProcessor.checkACL/fixupACL and
 * the digest and ip authentication providers do them. */
#include "core/acl.h"

#include <string.h>

#include "core/base64.h"
#include "core/sha1.h"

static bool acl_is_world_anyone(const struct zk_id *id)
{
    return strcmp(id->scheme, "world") == 0 && strcmp(id->id, "anyone") == 0;
}

/* "a.b.c.d" or "a.b.c.d/bits" -> address and prefix length. */
static bool acl_ipv4_parse(const char *s, uint32_t *addr, int *bits)
{
    uint32_t a = 0;
    for (int part = 0; part < 4; part++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (v > 255 || (part < 3 && *s++ != '.'))
            return false;
        a = a << 8 | v;
    }
    *bits = 32;
    if (*s == '/') {
        s++;
        int b = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            b = b * 10 + (*s++ - '0');
            digits++;
        }
        if (digits == 0 || b > 32)
            return false;
        *bits = b;
    }
    *addr = a;
    return *s == '\0';
}

static bool acl_ip_matches(const char *client, const char *acl_id)
{
    uint32_t c, a;
    int cbits, abits;
    if (!acl_ipv4_parse(client, &c, &cbits) || !acl_ipv4_parse(acl_id, &a, &abits))
        return false;
    uint32_t mask = abits == 0 ? 0 : 0xffffffffu << (32 - abits);
    return (c & mask) == (a & mask);
}

static bool acl_id_matches(const struct zk_id *auth, const struct zk_id *want)
{
    if (strcmp(auth->scheme, want->scheme) != 0)
        return false;
    if (strcmp(want->scheme, "ip") == 0)
        return acl_ip_matches(auth->id, want->id);
    return strcmp(auth->id, want->id) == 0;
}

int acl_check(const struct zk_acl *acl, uint32_t acl_count, int32_t perm,
              const struct zk_id *auth, uint32_t auth_count)
{
    if (acl_count == 0)
        return ZOK;
    for (uint32_t j = 0; j < auth_count; j++)
        if (strcmp(auth[j].scheme, "super") == 0)
            return ZOK;
    for (uint32_t i = 0; i < acl_count; i++) {
        if ((acl[i].perms & perm) == 0)
            continue;
        if (acl_is_world_anyone(&acl[i].id))
            return ZOK;
        for (uint32_t j = 0; j < auth_count; j++)
            if (acl_id_matches(&auth[j], &acl[i].id))
                return ZOK;
    }
    return ZNOAUTH;
}

/* Digest ids are "user:hash": DigestAuthenticationProvider.isValid wants
 * id.split(":") to have two parts, and Java's split drops trailing empty
 * parts ("a:b:" is valid, "a:" and "a::b" are not). */
static bool acl_digest_valid(const char *id)
{
    size_t len = strlen(id);
    while (len > 0 && id[len - 1] == ':')
        len--;
    if (len == 0)
        return false;
    uint32_t parts = 1;
    for (size_t i = 0; i < len; i++)
        parts += id[i] == ':';
    return parts == 2;
}

static bool acl_id_valid(const struct zk_id *id)
{
    uint32_t a;
    int bits;
    if (strcmp(id->scheme, "digest") == 0)
        return acl_digest_valid(id->id);
    if (strcmp(id->scheme, "ip") == 0)
        return acl_ipv4_parse(id->id, &a, &bits);
    return false;
}

static bool acl_is_authenticated_scheme(const char *scheme)
{
    return strcmp(scheme, "digest") == 0 || strcmp(scheme, "sasl") == 0 ||
           strcmp(scheme, "x509") == 0;
}

static bool acl_same(const struct zk_acl *a, const struct zk_acl *b)
{
    return a->perms == b->perms && strcmp(a->id.scheme, b->id.scheme) == 0 &&
           strcmp(a->id.id, b->id.id) == 0;
}

/* Appends unless already present; false when out is full. */
static bool acl_push(struct zk_acl *out, uint32_t *n, uint32_t cap, int32_t perms, const struct zk_id *id)
{
    struct zk_acl a;
    memset(&a, 0, sizeof a);
    a.perms = perms;
    a.id = *id;
    a.id.scheme[ZK_SCHEME_MAX - 1] = '\0';
    a.id.id[ZK_ID_MAX - 1] = '\0';
    for (uint32_t i = 0; i < *n; i++)
        if (acl_same(&out[i], &a))
            return true;
    if (*n == cap)
        return false;
    out[(*n)++] = a;
    return true;
}

int acl_fixup(const struct zk_acl *acl, uint32_t acl_count,
              const struct zk_id *auth, uint32_t auth_count,
              struct zk_acl *out, uint32_t cap)
{
    if (acl_count == 0 || acl == NULL)
        return ZINVALIDACL;
    uint32_t n = 0;
    for (uint32_t i = 0; i < acl_count; i++) {
        const struct zk_id *id = &acl[i].id;
        bool ok = true;
        if (acl_is_world_anyone(id)) {
            ok = acl_push(out, &n, cap, acl[i].perms, id);
        } else if (strcmp(id->scheme, "auth") == 0) {
            bool any = false;
            for (uint32_t j = 0; j < auth_count && ok; j++) {
                if (!acl_is_authenticated_scheme(auth[j].scheme))
                    continue;
                any = true;
                ok = acl_push(out, &n, cap, acl[i].perms, &auth[j]);
            }
            ok = ok && any;
        } else {
            ok = acl_id_valid(id) && acl_push(out, &n, cap, acl[i].perms, id);
        }
        if (!ok)
            return ZINVALIDACL;
    }
    return (int)n;
}

int acl_digest_id(const char *user_pass, size_t len, char *out, size_t cap)
{
    const char *colon = memchr(user_pass, ':', len);
    if (colon == NULL)
        return ZBADARGUMENTS;
    size_t user_len = (size_t)(colon - user_pass);
    uint8_t h[SHA1_DIGEST_LEN];
    sha1(user_pass, len, h);
    if (cap < user_len + 1 + BASE64_ENCODED_LEN(SHA1_DIGEST_LEN) + 1)
        return ZBADARGUMENTS;
    memcpy(out, user_pass, user_len);
    out[user_len] = ':';
    base64_encode(h, sizeof h, out + user_len + 1, cap - user_len - 1);
    return ZOK;
}

void acl_write(struct bytes_w *w, const struct zk_acl *acl, uint32_t count)
{
    bytes_w_u32(w, count);
    for (uint32_t i = 0; i < count; i++) {
        bytes_w_u32(w, (uint32_t)acl[i].perms);
        bytes_w_blob(w, acl[i].id.scheme, strnlen(acl[i].id.scheme, ZK_SCHEME_MAX - 1));
        bytes_w_blob(w, acl[i].id.id, strnlen(acl[i].id.id, ZK_ID_MAX - 1));
    }
}

bool acl_read(struct bytes_r *r, struct zk_acl *out, uint32_t cap, uint32_t *count)
{
    *count = bytes_r_u32(r);
    if (r->short_read || *count > cap)
        return false;
    for (uint32_t i = 0; i < *count; i++) {
        uint32_t slen, ilen;
        int32_t perms = (int32_t)bytes_r_u32(r);
        const uint8_t *s = bytes_r_blob(r, ZK_SCHEME_MAX - 1, &slen);
        const uint8_t *id = r->short_read ? NULL : bytes_r_blob(r, ZK_ID_MAX - 1, &ilen);
        if (r->short_read || memchr(s, '\0', slen) || memchr(id, '\0', ilen))
            return false;
        if (out == NULL)
            continue;
        memset(&out[i], 0, sizeof out[i]);
        out[i].perms = perms;
        memcpy(out[i].id.scheme, s, slen);
        memcpy(out[i].id.id, id, ilen);
    }
    return true;
}
