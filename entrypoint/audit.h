/*
 * audit.h - the audit trail of one-off runs in <schema>.runs, exclusive task
 * locks.  `entrypoint history` reads them (history.h).
 *
 * cmd.c calls audit_begin() before the child starts and audit_end() after
 * supervise_run() returns; nothing here runs inside the supervise loop.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>

#include "config.h"

struct audit_run {
	/* set by the caller */
	const char *command;		/* "task", "shell", "run", "migrate" */
	const char *task;		/* task name or NULL */
	char *const *argv;		/* what runs; masked before recording */
	int dry_run;
	int exclusive;			/* take the task's advisory lock */
	long exclusive_wait_ms;
	int never_started;		/* interrupted before the child: no
					 * "running" row, no start line; the
					 * row is written by audit_end() */
	/* set by the caller before audit_end(): stored next to the row */
	const char *output;		/* the kept output, masked, or NULL */
	size_t output_len;
	long long output_total;		/* bytes the run printed */
	const char *recording;		/* asciicast v2, masked, or NULL */
	long long recording_total;	/* bytes the terminal got */
	/* set by audit_begin */
	char id[40];			/* run id (ENTRYPOINT_RUN_ID) */
	void *priv;			/* connection, lock state */
	/* set by audit_end */
	int end_recorded;		/* the row's end is in the table */
};

/*
 * Generate run->id, write the "running" row, take the exclusive lock.
 * Return 0 to go ahead, or the exit code to stop with (EXIT_UNAVAILABLE
 * when audit = required and the row cannot be written, EXIT_TEMPFAIL when
 * the exclusive lock is held elsewhere: recorded as refused).
 */
int audit_begin(const struct config *cfg, struct audit_run *run);

/*
 * Complete the row: exit_code, signal, status (succeeded, failed,
 * timed_out, interrupted), finished_at; release the lock and the
 * connection.  Never fails the run: problems are warnings.
 */
void audit_end(const struct config *cfg, struct audit_run *run,
    int exit_code, int signal, int timed_out, int interrupted);

/*
 * As audit_begin(), with the rows written through db, the caller's open
 * session, instead of a connection of our own: a no-op migrate then costs
 * one connection, not three.  db must stay open until audit_end(), which
 * falls back to its own connection when db was lost or is inside a
 * transaction.  Not for exclusive runs.
 */
struct db;
int audit_begin_on(const struct config *cfg, struct audit_run *run,
    struct db *db);

/*
 * audit_begin_on() in two halves, for a caller that sends the "running" row
 * in one pipeline with statements of its own (the server writes it while
 * a migrate still reads its files).  audit_begin_prepare() fills st[0..3)
 * (its parameters live in run): st[0] bounds what follows in that
 * transaction (statement_timeout: a lock on the table must not hold the
 * caller), st[1] is the INSERT, and st[2], when output is kept ([app]
 * keep_output), the INSERT of the row the output goes to (else its sql is
 * NULL); it leaves st[1].sql NULL when there is nothing to send that way,
 * and returns 0.  After the pipeline ran, audit_begin_finish() with ok = 1
 * when the row's INSERT succeeded; 0 when it was not sent (no table yet:
 * the row is then written as audit_begin_on() writes it, creating the
 * table first); -1 when it was sent and failed (best-effort goes on
 * without the row, required refuses: the same again would wait as long).
 * It returns what audit_begin_on() returns.  audit_output_ready(), when
 * st[2] was sent and succeeded too: audit_end() then writes the row's end
 * and the output in one round trip.
 */
struct db_stmt;
int audit_begin_prepare(const struct config *cfg, struct audit_run *run,
    struct db *db, struct db_stmt *st);
int audit_begin_finish(const struct config *cfg, struct audit_run *run,
    struct db *db, int ok);
void audit_output_ready(struct audit_run *run);

/*
 * After audit_end(), when on_exit ran (or could not): store its result with
 * the run's row (<schema>.run_output, history.h) on a connection of its
 * own.  code: its exit code, or -1 when it has none (not started, not
 * run); signal: the signal that ended it or 0; status: "succeeded",
 * "failed", "timed_out", "not_started" or "not_run".  Best-effort: a
 * warning at most, never a change to the run's exit code.  Nothing is
 * written when the end of the run was not recorded.
 */
void audit_on_exit(const struct config *cfg, const struct audit_run *run,
    int code, int signal, const char *status);

/*
 * For a run without a child (migrate): from now until audit_end(), keep
 * the last [app] keep_output bytes of what entrypoint logs (log_set_tee()),
 * masked as a child's output, and store them as the run's output.  No-op
 * when there is no row to store them with, or keep_output is 0.
 */
void audit_keep_log(const struct config *cfg, struct audit_run *run);

/* 1 when audit_begin() wrote the run's row (so its end can be stored). */
int audit_recorded(const struct audit_run *run);

/* Helpers, exposed for the unit tests. */

/* Fill id (size >= 37) with a random UUID v4.  Return 0, or -1 (errno). */
int audit_make_id(char *id, size_t size);
/* "succeeded", "failed", "timed_out" or "interrupted". */
const char *audit_status(int exit_code, int timed_out, int interrupted);
/*
 * argv as it may be recorded or printed: masked by mask_argv(),
 * then every occurrence of the value of a secret variable of env (names as
 * mask_name_is_secret(); values of 4 bytes or more) replaced by MASK.
 * Return a NULL-terminated vector; caller frees with strv_free().
 */
char **audit_mask_argv(char *const *argv, const struct env *env);
/*
 * A PostgreSQL text[] literal of argv ("{"a","b\"c"}"), each element
 * escaped with ESCAPE_DB (bytes that are not UTF-8 become \xNN), so that
 * any argv can be stored.  Caller frees.
 */
char *audit_pg_array(char *const *argv);
/* A duration for people: "850ms", "12.3s", "4m05s", "2h03m". */
void audit_format_duration(long long ms, char *buf, size_t size);

#endif
