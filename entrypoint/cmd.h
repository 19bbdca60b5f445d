/*
 * cmd.h - the commands.  Each takes the loaded config and its own arguments
 * (argv[0] is the command name, argv[argc] is NULL) and returns the process
 * exit code (exitcode.h, or the child's).
 */
#ifndef CMD_H
#define CMD_H

#include "config.h"
#include "help.h"

int cmd_process(struct config *cfg, int argc, char **argv);
int cmd_run(struct config *cfg, int argc, char **argv);
int cmd_shell(struct config *cfg, int argc, char **argv);
int cmd_task(struct config *cfg, int argc, char **argv);
int cmd_tasks(struct config *cfg, int argc, char **argv);
int cmd_check(struct config *cfg, int argc, char **argv);
int cmd_env(struct config *cfg, int argc, char **argv);
int cmd_version(struct config *cfg, int argc, char **argv);
int cmd_help(struct config *cfg, int argc, char **argv);

/*
 * The help a command line asks for with -h/--help: "migrate down 2 --help"
 * gives migrate down's, "run CMD --help" none (it is CMD's).  NULL when
 * it asks for none, and for "task NAME --help" (cmd_task prints that).
 */
const struct help_cmd *cmd_help_for(int argc, char **argv);
/* Print c's help on stdout; return the exit code (0, or 71 on a write
 * error). */
int cmd_help_print(const struct help_cmd *c);
int cmd_completion(struct config *cfg, int argc, char **argv);
/* Print the usage of one command (or all, name NULL) to f. */
void cmd_usage(const char *name, void *f);

#endif
