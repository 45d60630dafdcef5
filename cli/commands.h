/* One entry point per zablab subcommand; argv[0] is the subcommand name. */
#ifndef ZABLAB_CLI_COMMANDS_H
#define ZABLAB_CLI_COMMANDS_H

#define ZABLAB_VERSION "0.1.0"

int cmd_version(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_scenario(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_bugs(int argc, char **argv);
int cmd_explore(int argc, char **argv);
int cmd_shrink(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_gen_history(int argc, char **argv);
int cmd_load(int argc, char **argv);

#endif
