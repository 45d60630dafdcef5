/* `zablab version`: prints the version string. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("zablab %s\n", ZABLAB_VERSION);
    return 0;
}
