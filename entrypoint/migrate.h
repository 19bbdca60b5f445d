/*
 * migrate.h - SQL migrations through libpq (see DESIGN.md "Migrations").
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "config.h"

/* entrypoint migrate [up|status|plan|down|create|baseline|resolve] ... */
int cmd_migrate(struct config *cfg, int argc, char **argv);

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
 * For `entrypoint check`: validate the migration files, reach the database,
 * print "pending N" lines to stdout.  Return 0 or an exit code.
 */
int migrate_check(const struct config *cfg);

#endif
