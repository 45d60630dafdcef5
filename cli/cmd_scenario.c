/* `zablab scenario check FILE...` and `zablab scenario fmt FILE`: parse
 * scenario files without running them. Exit 0 ok, 2 bad usage or bad file. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "sim/scenario.h"

static struct scenario scenario_buf;

int cmd_scenario(int argc, char **argv)
{
    char err[512];
    if (argc < 3 || (strcmp(argv[1], "check") && strcmp(argv[1], "fmt")) ||
        (!strcmp(argv[1], "fmt") && argc != 3)) {
        fprintf(stderr, "usage: zablab scenario check FILE...\n"
                        "       zablab scenario fmt FILE   (print the canonical form)\n");
        return 2;
    }
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        if (scn_parse_file(argv[i], &scenario_buf, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = 2;
        } else if (!strcmp(argv[1], "fmt") && scn_print(&scenario_buf, stdout) != 0) {
            rc = 2;
        }
    }
    return rc;
}
