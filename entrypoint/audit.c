/* audit.c - placeholder until the audit work lands: no database, no rows. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "exitcode.h"
#include "log.h"

int
audit_begin(const struct config *cfg, struct audit_run *run)
{
	(void)cfg;
	snprintf(run->id, sizeof(run->id), "%ld-%ld", (long)time(NULL),
	    (long)getpid());
	run->priv = NULL;
	return 0;
}

void
audit_end(const struct config *cfg, struct audit_run *run, int exit_code,
    int signal, int timed_out, int interrupted)
{
	(void)cfg;
	(void)run;
	(void)exit_code;
	(void)signal;
	(void)timed_out;
	(void)interrupted;
}

int
cmd_history(struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	(void)argc;
	(void)argv;
	return log_error("not implemented yet"), EXIT_SOFTWARE;
}
