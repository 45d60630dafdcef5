/* tmpdir: scratch directories and file helpers for tests (see tmpdir.h). */
#include "tests/support/tmpdir.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char tst_tmpdir[TST_TMPDIR_MAX];

int tst_tmpdir_make(const char *prefix)
{
    int n = snprintf(tst_tmpdir, sizeof tst_tmpdir, "/tmp/%s-XXXXXX", prefix);
    if (n < 0 || (size_t)n >= sizeof tst_tmpdir)
        return -1;
    return mkdtemp(tst_tmpdir) ? 0 : -1;
}

int tst_tmpdir_remove(void)
{
    char cmd[TST_TMPDIR_MAX + 16];
    if (!tst_tmpdir[0])
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tst_tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

char *tst_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

size_t tst_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}
