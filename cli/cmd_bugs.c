/* `zablab bugs`: the planted protocol bugs, one line each. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/zab_common.h"

int cmd_bugs(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: zablab bugs\nLists the planted protocol bugs that --bug NAME (or a\n"
               "scenario's `bug NAME`) switches on. All are off by default.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "zablab bugs: takes no arguments\n");
        return 2;
    }
    for (int i = 0; i < ZAB_BUG_COUNT; i++)
        printf("%-28s %s\n", zab_bug_name(i), zab_bug_describe(i));
    return 0;
}
