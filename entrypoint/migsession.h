/*
 * migsession.h - migrate's database session: connect, take the migration
 * lock, read what is applied, apply or revert one migration together with
 * its record, report a failure, show progress.  All of migrate's own SQL
 * lives in migsession.c.
 *
 * The lock is a session advisory lock, polled with pg_try_advisory_lock
 * and a backoff instead of blocking in pg_advisory_lock: a blocked waiter
 * sits in a transaction, and the holder's CREATE INDEX CONCURRENTLY would
 * wait for it forever.
 *
 * A transactional migration is one pipeline, one round trip:
 *	BEGIN; RESET ALL; SET LOCAL lock_timeout; <statements>;
 *	INSERT its record; COMMIT
 * so the migration and its record commit together or not at all.  A
 * transaction:false migration is recorded "running" first, its statements
 * run one by one, then the record says "succeeded" or "failed"; a failed or
 * still running one blocks later runs until `migrate resolve`.
 *
 * Every function returns 0 or an exit code (exitcode.h) after logging.
 */
#ifndef MIGSESSION_H
#define MIGSESSION_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "locks.h"
#include "migset.h"

struct migsession {
	const struct config *cfg;	/* set by the caller */
	struct migset *set;		/* set by the caller */
	int full_rows;		/* caller: read applied_at and release */
	int tty;		/* caller: show progress on stderr */
	char run_id[40];	/* caller: recorded with each migration */
	struct db_stmt extra[3];	/* caller: sent with the applied list
				   (the audit trail's bound, its row, and
				   the row its output goes to) */
	int extra_ok;		/* extra[0..1]: 1 sent and succeeded, -1 sent
				   and failed, 0 not sent */
	int output_ok;		/* so was extra[2] */
	int runs_ok;		/* <schema>.runs is there (asked with the
				   lock by migsession_lock_read) */
	struct db db;
	int connected;
	PGresult *rows;		/* what is applied (set->m points here) */
	char lock_timeout[32];	/* ddl_lock_timeout for set_config */
	const char *settings[2];	/* its parameters */
	const struct mig *cur;	/* progress: the migration running */
	long long cur_start;
	int ticked;
	char *untried;		/* see migsession_try() */
	char *release;		/* [app] release, escaped as audit stores it */
	long long last_tick;	/* progress is shown once a second */
	struct lock_watch watch;	/* who blocks a waiting statement */
	/* the statements of our own, with "@S@" replaced */
	char *q_applied, *q_record, *q_running, *q_end, *q_forget;
};

enum migsession_history {
	HISTORY_READ,		/* a missing table is "nothing applied" */
	HISTORY_CREATE		/* create the schema and table if missing */
};

/*
 * Connect (reading the files meanwhile: set->dir is listed, read and
 * hashed while the server answers).  A bad file wins over a failed
 * connection.
 */
int migsession_connect(struct migsession *s);
/*
 * Take the migration lock (waiting up to [database] lock_timeout) and read
 * what is applied in the same round trip; join it with the files.
 */
int migsession_lock_read(struct migsession *s, enum migsession_history h);
/* Read what is applied without the lock (status, check, the gate). */
int migsession_read(struct migsession *s);
/* Forget what was read (before migsession_read() again). */
void migsession_forget_rows(struct migsession *s);

/* Apply m (i of total, for the log line) with its record. */
int migsession_apply(struct migsession *s, struct mig *m, size_t i,
    size_t total);
/* Run m's down section and delete its record. */
int migsession_revert(struct migsession *s, struct mig *m, size_t i,
    size_t total);
/*
 * The dry run of plan: begin one transaction, try each migration in it
 * (in a savepoint, from a reset session), roll it back.  try_end also
 * clears the progress line.
 *
 * migsession_try() returns MIGSESSION_UNTRIED, with the server's message
 * in s->untried, for a failure the one transaction may cause where
 * migrate would commit in between: a use of an enum value that an
 * earlier pending migration added (after_enum), or anything after a
 * migration that could not be tried (after_untried).  The savepoint is
 * rolled back and the dry run goes on.
 */
#define MIGSESSION_UNTRIED (-1)
int migsession_try_begin(struct migsession *s);
int migsession_try(struct migsession *s, struct mig *m, int after_enum,
    int after_untried);
/* The same for a down section (down --dry-run); a transaction:false one
 * is not run: MIGSESSION_UNTRIED. */
int migsession_try_revert(struct migsession *s, struct mig *m);
void migsession_try_end(struct migsession *s);
/*
 * Record the first upto files (in the set's order) as applied (status
 * baseline) without running them, plus a marker row for *marker when it
 * is not NULL and no file has it, in one transaction.  *n: how many of
 * set->m were recorded.
 */
int migsession_baseline(struct migsession *s, size_t upto,
    const long long *marker, size_t *n);
/* Mark failed/running migration m applied, or forget its record. */
int migsession_resolve(struct migsession *s, const struct mig *m,
    int applied);
/*
 * Plan's tracing: as migsession_try() (MIGSESSION_UNTRIED included),
 * with lock_clock_sql before the first of m's statements (traces[0]) and
 * the prepared lock trace after each: traces[k + 1] gets the result after
 * statement k (NULL when it did not run, or is one the dry run skips).
 * traces has m->f.up.n + 1 entries.  *seen carries the trace's memory
 * (entrypoint.plan_seen) from one migration to the next (malloc'd; NULL
 * at first).  A lock timeout is EXIT_TEMPFAIL, naming the blocker.
 */
int migsession_try_traced(struct migsession *s, struct mig *m,
    int after_enum, int after_untried, PGresult **traces, char **seen);

/* miglocks.c: the lock-wait policy of a migration's statements. */
/* Arm the blocker watch before a migration's statements run. */
void miglock_arm(struct migsession *s, int attempt);
void miglock_disarm(struct migsession *s);
/*
 * After a failed run of m's statements: -1 when o is no lock timeout
 * (the caller reports it); 0 after logging the wait with its blocker and
 * sleeping the backoff (retry); EXIT_TEMPFAIL past [database]
 * lock_retries (logged, naming the blocker), 128+N for a signal while
 * sleeping.  attempt < 0: never retried (just log and EXIT_TEMPFAIL).
 * what: "apply", "revert", "plan".
 */
int miglock_wait(struct migsession *s, const struct mig *m,
    const struct db_outcome *o, int attempt, const char *what);

/* Clear the progress line and log the round trips (debug). */
void migsession_done(struct migsession *s);
void migsession_release(struct migsession *s);

#endif
