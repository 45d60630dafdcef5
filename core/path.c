/* path: validation as PathUtils.validatePath, over UTF-8 instead of Java's
 * UTF-16 chars (a supplementary character is two surrogates in Java, which
 * the rules reject, so here every 4-byte sequence is rejected).
 * Owns nothing. Never allocates. */
#include "core/path.h"

#include "core/zk_types.h"

/* Decodes one UTF-8 code point at p[0..n). Returns its length in bytes and
 * stores it in *cp, or 0 for malformed, overlong or truncated sequences. */
static size_t path_utf8_next(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    unsigned min;
    if ((c & 0xe0) == 0xc0) {
        need = 2; min = 0x80; c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        need = 3; min = 0x800; c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        need = 4; min = 0x10000; c &= 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff)
        return 0;
    *cp = c;
    return need;
}

static bool path_char_forbidden(unsigned cp)
{
    return (cp >= 0x01 && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) ||
           (cp >= 0xd800 && cp <= 0xf8ff) || cp >= 0xfff0;
}

/* A component made of exactly "." or ".." ending at byte i (exclusive). */
static bool path_relative_component(const char *path, size_t start, size_t end)
{
    size_t n = end - start;
    if (n == 1 && path[start] == '.')
        return true;
    return n == 2 && path[start] == '.' && path[start + 1] == '.';
}

static int path_check(const char *path, size_t len, bool allow_trailing_slash)
{
    if (path == NULL || len == 0 || len > ZK_PATH_MAX || path[0] != '/')
        return ZBADARGUMENTS;
    if (len == 1)
        return ZOK;
    if (path[len - 1] == '/' && !allow_trailing_slash)
        return ZBADARGUMENTS;
    const unsigned char *u = (const unsigned char *)path;
    size_t comp_start = 1;
    size_t i = 1;
    while (i < len) {
        unsigned cp;
        size_t step = path_utf8_next(u + i, len - i, &cp);
        if (step == 0 || cp == 0 || step == 4 || path_char_forbidden(cp))
            return ZBADARGUMENTS;
        if (cp == '/') {
            if (i == comp_start || path_relative_component(path, comp_start, i))
                return ZBADARGUMENTS;
            comp_start = i + 1;
        }
        i += step;
    }
    /* A sequential create appends digits, so its last component is never
     * "." or ".." once named. */
    if (!allow_trailing_slash && path_relative_component(path, comp_start, len))
        return ZBADARGUMENTS;
    return ZOK;
}

int zk_path_validate(const char *path, size_t len)
{
    return path_check(path, len, false);
}

int zk_path_validate_create(const char *path, size_t len, bool sequential)
{
    if (sequential && len + 10 > ZK_PATH_MAX)
        return ZBADARGUMENTS;
    return path_check(path, len, sequential);
}

size_t zk_path_parent_len(const char *path, size_t len)
{
    if (len <= 1)
        return 0;
    size_t i = len - 1;
    while (i > 0 && path[i] != '/')
        i--;
    return i == 0 ? 1 : i;
}

size_t zk_path_basename_off(const char *path, size_t len)
{
    if (len <= 1)
        return 0;
    size_t i = len - 1;
    while (i > 0 && path[i] != '/')
        i--;
    return i + 1;
}

bool zk_path_is_prefix(const char *prefix, size_t plen, const char *path, size_t len)
{
    if (plen == 1 && prefix[0] == '/')
        return true;
    if (plen > len)
        return false;
    for (size_t i = 0; i < plen; i++)
        if (prefix[i] != path[i])
            return false;
    return plen == len || path[plen] == '/';
}
