/* The outstanding-changes overlay against a naive model: random adds,
 * rollbacks and applied-drops; overlay_find must always return the newest
 * live record of a path, exactly as a backwards linear scan would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/overlay.h"

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

enum { MODEL_MAX = 4096, PATHS = 40 };

struct model {
    int64_t zxid[MODEL_MAX];
    int path[MODEL_MAX];
    int32_t version[MODEL_MAX];
    int n;
};

static void check_all(const struct overlay *ov, const struct model *m)
{
    char p[16];
    assert_int_equal(overlay_count(ov), (uint32_t)m->n);
    for (int k = 0; k < PATHS; k++) {
        int len = snprintf(p, sizeof p, "/p%d", k);
        const struct overlay_rec *r = overlay_find(ov, p, (uint32_t)len);
        int want = -1;
        for (int i = m->n; i-- > 0;)
            if (m->path[i] == k) {
                want = i;
                break;
            }
        if (want < 0) {
            assert_null(r);
            continue;
        }
        assert_non_null(r);
        assert_string_equal(r->path, p);
        assert_int_equal(r->stat.version, m->version[want]);
        assert_int_equal(r->zxid, m->zxid[want]);
    }
    for (int i = 0; i < m->n; i++)
        assert_int_equal(overlay_at(ov, (uint32_t)i)->stat.version, m->version[i]);
}

static void matches_model(void **state)
{
    (void)state;
    struct overlay ov;
    assert_int_equal(overlay_init(&ov, 300), ZOK);
    static struct model m;
    m.n = 0;
    uint32_t seed = 3;
    int64_t zxid = 100, applied = 100;
    int32_t version = 0;
    char p[16];
    for (int step = 0; step < 20000; step++) {
        uint32_t k = lcg(&seed) % 10;
        if (k < 6) {
            int path = (int)(lcg(&seed) % PATHS);
            int len = snprintf(p, sizeof p, "/p%d", path);
            if (k == 0)
                zxid++;
            struct overlay_rec r = {.zxid = zxid, .path = p, .path_len = (uint32_t)len, .exists = true};
            r.stat.version = ++version;
            int rc = overlay_add(&ov, &r);
            if (m.n == 300) {
                assert_int_equal(rc, ZTHROTTLEDOP);
                continue;
            }
            assert_int_equal(rc, ZOK);
            m.zxid[m.n] = zxid;
            m.path[m.n] = path;
            m.version[m.n++] = version;
        } else if (k < 8) {
            /* Roll back the last few records (a failed multi). */
            int drop = (int)(lcg(&seed) % 4);
            if (drop > m.n)
                drop = m.n;
            uint64_t mark = overlay_mark(&ov) - (uint64_t)drop;
            overlay_truncate(&ov, mark);
            m.n -= drop;
        } else if (applied < zxid) {
            applied += 1 + (int64_t)(lcg(&seed) % 2);
            overlay_applied(&ov, applied);
            int keep = 0;
            while (keep < m.n && m.zxid[keep] <= applied)
                keep++;
            memmove(m.zxid, m.zxid + keep, (size_t)(m.n - keep) * sizeof m.zxid[0]);
            memmove(m.path, m.path + keep, (size_t)(m.n - keep) * sizeof m.path[0]);
            memmove(m.version, m.version + keep, (size_t)(m.n - keep) * sizeof m.version[0]);
            m.n -= keep;
        }
        if (step % 97 == 0)
            check_all(&ov, &m);
    }
    check_all(&ov, &m);
    overlay_reset(&ov);
    m.n = 0;
    check_all(&ov, &m);
    overlay_free(&ov);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
