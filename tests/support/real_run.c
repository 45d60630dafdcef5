/* real_run: see real_run.h. The scripts bound their own time (`timeout`);
 * this only forks, sets the environment, and waits. */
#include "tests/support/real_run.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void real_set_bins(void)
{
    const char *zablab = getenv("ZABLAB_BIN");
    if (!zablab || access(zablab, X_OK))
        return; /* the scripts default to bin/zablab and bin/zabd */
    if (!getenv("ZABD_BIN")) {
        char dir[PATH_MAX], zabd[PATH_MAX + 8];
        snprintf(dir, sizeof dir, "%s", zablab);
        snprintf(zabd, sizeof zabd, "%s/zabd", dirname(dir));
        if (!access(zabd, X_OK))
            setenv("ZABD_BIN", zabd, 1);
    }
}

int real_run_script(char *const argv[])
{
    real_set_bins();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(argv[0], argv);
        fprintf(stderr, "real_run: cannot run %s\n", argv[0]);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}
