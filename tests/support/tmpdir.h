/* tmpdir: what tests that write files share: one scratch directory per test
 * group under /tmp (made by setup, removed with its contents by teardown),
 * reading a whole file back, and counting occurrences in text. Test code
 * only; failures are cmocka assertions or -1 from setup/teardown. */
#ifndef ZABLAB_TESTS_TMPDIR_H
#define ZABLAB_TESTS_TMPDIR_H

#include <stddef.h>

#define TST_TMPDIR_MAX 64

/* The current scratch directory ("" before tst_tmpdir_make). */
extern char tst_tmpdir[TST_TMPDIR_MAX];

/* Makes /tmp/PREFIX-XXXXXX into tst_tmpdir. 0, or -1 (prefix too long,
 * mkdtemp failed). */
int tst_tmpdir_make(const char *prefix);
/* Removes tst_tmpdir and everything in it. 0 or -1. */
int tst_tmpdir_remove(void);

/* The whole file, NUL-terminated (malloc'd; *len its size if len != NULL),
 * or NULL when it cannot be opened. */
char *tst_slurp(const char *path, size_t *len);
/* Non-overlapping occurrences of needle in hay. */
size_t tst_count(const char *hay, const char *needle);

#endif
