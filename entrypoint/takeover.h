/*
 * takeover.h - take over the history another migration tool recorded.
 *
 * On a database with no history of entrypoint's own, the first `migrate`
 * reads the table of the tool whose layout the folder has (goose's
 * goose_db_version, golang-migrate's and dbmate's schema_migrations,
 * sql-migrate's gorp_migrations, Flyway's flyway_schema_history, diesel's
 * __diesel_schema_migrations, Prisma's _prisma_migrations), records the
 * migrations it applied as applied in <schema>.migrations (release "taken
 * over from TABLE", checksums of today's files) and applies only the rest.
 * The other tool's table is only read.  A dirty or failed migration in that
 * history, or one the folder does not have, refuses the whole run.
 *
 * takeover_decide() is the pure rule (unit-tested without PostgreSQL);
 * takeover_run() reads the table and writes the records.
 */
#ifndef TAKEOVER_H
#define TAKEOVER_H

#include <stddef.h>

#include "layout.h"
#include "migset.h"

/* One row of the other tool's history, in the order it was written. */
struct takeover_row {
	const char *id;		/* what the tool records (layout_entry.id) */
	const char *state;	/* "applied", "reverted" (undone, may run
				   again), "failed" / "dirty" (stops),
				   "baseline" (Flyway: everything up to id),
				   "skip" (no migration: a schema marker),
				   "repeatable" (Flyway: id is the script) */
	const char *checksum;	/* Flyway's, or NULL */
};

/*
 * Which of set->m the history says are applied: their indexes, in order,
 * in *applied (caller frees; *n of them).  table names the history in
 * messages, dir the folder.  Return 0, or -1 with what to fix in err.
 */
int takeover_decide(enum layout_format fmt, const char *table,
    const struct takeover_row *rows, size_t nrows, const struct migset *set,
    size_t **applied, size_t *n, char *err, size_t errsz);

struct migsession;

/*
 * With the migration lock held and the set read: when entrypoint has no
 * history yet and the tool's table exists, take it over.  write = 0 (plan,
 * status) only marks the set in memory.  Logs one line ("took over 86
 * applied migrations from goose_db_version").  Return 0 or an exit code
 * after logging (EXIT_DATAERR: the history must be fixed first).
 */
int takeover_run(struct migsession *ses, int write);

/* The release text of a taken-over row starts with this. */
#define TAKEOVER_RELEASE "taken over from "

#endif
