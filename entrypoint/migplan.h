/*
 * migplan.h - what `migrate plan` shows of each pending migration: the
 * locks each statement takes (pg_locks of plan's own backend), the tables
 * it rewrites (relfilenode before and after), their size, what that blocks
 * for everyone else, and warnings with the usual safer form.  As text, or
 * with --json one object per statement on stdout.
 *
 * Plan runs the statements for real inside one transaction that is rolled
 * back at the end, so it takes those locks on the database it runs
 * against, each statement waiting at most ddl_lock_timeout for its own:
 * it says so before it starts.
 */
#ifndef MIGPLAN_H
#define MIGPLAN_H

#include <stddef.h>

#include "locks.h"
#include "migsession.h"

struct migplan {
	struct migsession *ses;
	int json;		/* --json */
	struct lock_tracer tracer;
	size_t nmig;		/* migrations traced so far */
	size_t warnings;	/* warnings printed */
	char *seen;		/* the trace's memory between migrations */
};

/*
 * After migsession_try_begin(): say what plan does, and read which
 * relations exist (their relfilenode) in the dry run's transaction.
 */
int migplan_begin(struct migplan *pl, struct migsession *ses, int json);
/*
 * Try m with tracing (migsession_try_traced: after_enum, after_untried,
 * MIGSESSION_UNTRIED) and print what each statement took.
 */
int migplan_try(struct migplan *pl, struct mig *m, int after_enum,
    int after_untried);
/*
 * A transaction:false migration cannot run inside the dry run: print its
 * statements untraced, with the lock PostgreSQL documents for CREATE
 * INDEX CONCURRENTLY.
 */
void migplan_skip(struct migplan *pl, const struct mig *m);
void migplan_release(struct migplan *pl);

#endif
