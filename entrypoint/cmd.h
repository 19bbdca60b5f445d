/*
 * cmd.h - the commands.  Each takes the loaded config and its own arguments
 * (argv[0] is the command name, argv[argc] is NULL) and returns the process
 * exit code (exitcode.h, or the child's).
 */
#ifndef CMD_H
#define CMD_H

#include "config.h"

int cmd_process(struct config *cfg, int argc, char **argv);
int cmd_run(struct config *cfg, int argc, char **argv);
int cmd_shell(struct config *cfg, int argc, char **argv);
int cmd_task(struct config *cfg, int argc, char **argv);
int cmd_tasks(struct config *cfg, int argc, char **argv);
int cmd_check(struct config *cfg, int argc, char **argv);
int cmd_env(struct config *cfg, int argc, char **argv);
int cmd_version(struct config *cfg, int argc, char **argv);
int cmd_help(struct config *cfg, int argc, char **argv);

/* "-h"/"--help" anywhere in argv[1..] before "--": print usage, return 1. */
int cmd_wants_help(int argc, char **argv);
/* Print the usage of one command (or all, name NULL) to f. */
void cmd_usage(const char *name, void *f);

#endif
