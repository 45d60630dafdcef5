/* real_run: runs one of the real-client scripts under tests/real/ from a
 * cmocka test, with ZABD_BIN and ZABLAB_BIN pointing at the binaries of the
 * build under test (ZABD_BIN defaults to the zabd next to $ZABLAB_BIN, as in
 * test_zabd_cluster.c). Test code only. */
#ifndef ZABLAB_TESTS_REAL_RUN_H
#define ZABLAB_TESTS_REAL_RUN_H

/* Runs argv (argv[0] a path relative to the repository root, the working
 * directory of `make test`) and returns its exit code; -1 when it could not
 * be started or was killed by a signal. */
int real_run_script(char *const argv[]);

#endif
