/* cmd.c - placeholder; the real commands are being written. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "exitcode.h"

int
cmd_wants_help(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0);
}

void
cmd_usage(const char *name, void *f)
{
	fprintf(f, "usage: entrypoint %s\n", name ? name : "COMMAND");
}

#define STUB(fn) int fn(struct config *cfg, int argc, char **argv) \
	{ (void)cfg; (void)argc; (void)argv; return EXIT_SOFTWARE; }
STUB(cmd_process)
STUB(cmd_run)
STUB(cmd_shell)
STUB(cmd_task)
STUB(cmd_tasks)
STUB(cmd_check)
STUB(cmd_env)
STUB(cmd_version)
STUB(cmd_help)
