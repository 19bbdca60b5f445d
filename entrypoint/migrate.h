/*
 * migrate.h - SQL migrations through libpq (see DESIGN.md "Migrations").
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include <stddef.h>

#include "config.h"

/* entrypoint migrate [up|status|plan|down|create|baseline|resolve] ... */
int cmd_migrate(struct config *cfg, int argc, char **argv);

/* What a migrate subcommand needs the runner to do first, and takes. */
enum migrate_needs {
	MIG_DB = 1 << 0,	/* connect (and read what is applied) */
	MIG_AUDIT = 1 << 1,	/* an audit row: it changes the database */
	MIG_LOCK = 1 << 2,	/* hold the migration lock */
	MIG_CREATE = 1 << 3,	/* create the history table if missing */
	MIG_CLEAN = 1 << 4,	/* refuse a changed/missing/failed history */
	MIG_FULL_ROWS = 1 << 5,	/* read applied_at and release too */
	MIG_ARG_OPTIONAL = 1 << 6,	/* takes one argument */
	MIG_ARG_REQUIRED = 1 << 7,	/* needs one argument */
	MIG_OPT_CHECK = 1 << 8,	/* takes --check */
	MIG_OPT_DRY = 1 << 9,	/* takes --dry-run */
	MIG_OPT_RESOLVE = 1 << 10,	/* needs --applied or --rolled-back */
	MIG_OPT_YES = 1 << 11,	/* destructive: asks, or takes --yes */
	MIG_TASK = 1 << 12	/* its audit row names it: "migrate down 2" */
};

struct migrate;

/* One subcommand of `entrypoint migrate` (the table in migrate.c). */
struct migrate_cmd {
	const char *name;		/* "up" */
	int (*fn)(struct migrate *mg);	/* runs after the shared steps */
	unsigned needs;			/* enum migrate_needs */
	const char *synopsis;		/* "down [N]": for usage and --help */
	const char *help;		/* one line: what it does */
};

/* The subcommand table, for help text and completion; *n entries. */
const struct migrate_cmd *migrate_commands(size_t *n);

/*
 * The start gate of a long-running process (require_migrations): wait for
 * the database, compare the applied migrations with the files in this image.
 * off: return 0.  warn: log and return 0.  wait: poll until none is pending
 * within [database] wait, else EXIT_TEMPFAIL.  fail: EXIT_TEMPFAIL when any
 * is pending.  Closes its connection before returning.
 */
int migrate_gate(const struct config *cfg, enum require_migrations mode,
    const char *process);

/*
 * For `entrypoint check`: everything migrate would refuse, all of it.
 * Every file is read and parsed with migrate's own content rules; the
 * database is reached, the history rules applied, the pending ones
 * counted.  Problems are logged (check collects them with
 * log_set_sink()); step(arg, what, -1, NULL) says which check runs
 * next, step(arg, what, code, text) how it ended (text: what passed).
 * Without a database URL only the files are checked.  Return 0 or the
 * exit code of the first problem (a bad file before the database's).
 */
typedef void migrate_check_fn(void *arg, const char *what, int code,
    const char *text);
int migrate_check(const struct config *cfg, migrate_check_fn *step,
    void *arg);

#endif
