/*
 * db.h - the only module that talks to libpq.
 *
 * Every statement is a constant string sent with PQexecParams and $n
 * parameters.  The one exception is our own schema's name (config), which
 * is quoted with PQescapeIdentifier and substituted for the token "@S@" in
 * the constant by db_sql(); no value ever goes into SQL text.  (Migration
 * files are the user's SQL and are sent as written, see db_run().)
 *
 * Return conventions: 0/-1 after logging; connection functions return one of
 * the exit codes in exitcode.h (0, 69, 77, 78) so callers pass them through.
 * supervise.c never includes this header.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>

#include <libpq-fe.h>

struct db {
	PGconn *conn;
	char *schema_ident;	/* quoted identifier of [database] schema */
	char *url;		/* for reconnecting */
	char *schema;		/* the schema's name as configured */
	unsigned long round_trips;	/* counted by db_query/db_run */
	/* called about once a second while db_run() waits (progress) */
	void (*tick)(void *arg);
	void *tick_arg;
	long tick_ms;		/* > 0: call tick this often instead */
	/* db_options.idle, while it has work left */
	int (*idle)(void *arg);
	void *idle_arg;
	int idle_failed;	/* it returned -1 */
};

/*
 * Sleep ms (0: just look), or less when a TERM, INT, HUP or QUIT is read
 * from sig_fd(): return that signal's number, else 0.  Other signals are
 * read and dropped (no child runs while we talk to the database).
 */
int db_sleep(long ms);

struct db_options {
	const char *url;	/* NULL: libpq's defaults */
	const char *schema;	/* [database] schema */
	const char *command;	/* application_name "entrypoint COMMAND" */
	long wait_ms;		/* > 0: wait for the server this long */
	int keep_search_path;	/* 1: leave search_path alone (migrations
				   run the user's SQL; every statement of our
				   own is schema-qualified anyway) */
	long statement_timeout_ms;	/* > 0: the session's
				   statement_timeout, set with the secure
				   search_path (a session of our own short
				   statements, the audit trail's: a lock on
				   its table must not hold the run forever) */
	/*
	 * Work to do while waiting for the server (may be NULL): called
	 * whenever the connection has nothing to read yet, during the
	 * connection and later in db_run(), until it returns 0 ("done") or
	 * -1 ("failed": db_open() then gives up at once and returns -1; the
	 * caller knows why).  When the first attempt to connect fails, the
	 * work is finished before any waiting.  A no-op migrate lists, reads
	 * and hashes its files there.  The caller finishes what is left
	 * itself (it is not run when the url does not parse, for one).
	 */
	int (*idle)(void *arg);
	void *idle_arg;
};

/*
 * Connect: every attempt is non-blocking and watches sig_fd(), and all of
 * them together take at most wait_ms (one attempt of 10 s when wait_ms is
 * 0).  Only what waiting can heal is retried (connection refused, an
 * unknown host while DNS comes up, a server starting, stopping or full,
 * no answer): the last message says what the last attempt saw.  Each cause
 * gets one line naming the host and port (never the password) and its exit
 * code: EXIT_UNAVAILABLE (not reachable within wait_ms), EXIT_CONFIG (the
 * url does not parse, the database or role does not exist, TLS on one
 * side only, not a PostgreSQL server), EXIT_NOPERM (wrong or missing
 * password, refused by pg_hba.conf; never retried, so no new failed login
 * in the server's log), or 128+N (TERM, INT, HUP or QUIT while
 * connecting).  Then check PQstatus, run the secure search_path statement
 * (unless keep_search_path), remember schema.  Return 0 or that code
 * after logging; -1 when the idle work failed (nothing logged here).
 * application_name is "entrypoint COMMAND" unless the url sets one.
 */
int db_open(struct db *db, const struct db_options *o);
/* db_open() with the secure search_path. */
int db_connect(struct db *db, const char *url, const char *schema,
    long wait_ms, const char *command);
/* ... and statement_timeout_ms (db_options). */
int db_connect_bounded(struct db *db, const char *url, const char *schema,
    long wait_ms, const char *command, long statement_timeout_ms);
void db_close(struct db *db);

/*
 * Replace each "@S@" in sql with the quoted schema.  Return a malloc'd
 * string.
 */
char *db_sql(const struct db *db, const char *sql);

/*
 * Run sql (with "@S@" substituted) with nparams text parameters.  Return the
 * result when its status is COMMAND_OK or TUPLES_OK (caller PQclear()s), or
 * NULL after logging "what: message" (what says what we were doing).
 */
PGresult *db_query(struct db *db, const char *what, const char *sql,
    int nparams, const char *const *params);
/* As db_query for statements without rows; return 0 or -1. */
int db_exec(struct db *db, const char *what, const char *sql, int nparams,
    const char *const *params);

/* PQerrorMessage without the trailing newline (static buffer). */
const char *db_error(const struct db *db);

/*
 * CREATE SCHEMA IF NOT EXISTS for [database] schema, safe when several
 * processes (migrate, audit) race: a role without CREATE can use a schema
 * made by someone else (checked first), and creation is serialised by a
 * transaction-level advisory lock.  Return 0 or -1 after logging.
 */
int db_ensure_schema(struct db *db);

/* One statement for db_run(). */
struct db_stmt {
	const char *sql;	/* sent as is (no "@S@"; see db_sql) */
	int nparams;
	const char *const *params;
	const char *copy_data;	/* the rows of a COPY ... FROM STDIN */
	size_t copy_len;
	PGresult **out;		/* non-NULL: keep its result here (caller
				   PQclear()s); left NULL when it failed */
};

/* What db_run() saw. */
struct db_outcome {
	long failed;		/* index of the statement that failed, -1 */
	int signo;		/* a TERM/INT/HUP/QUIT cancelled it, or 0 */
	int lost;		/* the connection is gone */
	char sqlstate[6];
	char *message;		/* "message (DETAIL ... HINT ...)" or NULL */
	int position;		/* error position in the statement, 0 */
};

/*
 * Run stmts[0..n) in order and stop at the first error.  pipeline: send
 * them all in libpq's pipeline mode with one Sync, so they cost one round
 * trip; the server skips what follows an error (statements that cannot run
 * in a transaction block, and COPY, need pipeline = 0: one round trip each).
 * While waiting, poll the connection and sig_fd(): TERM, INT, HUP or QUIT
 * sends a cancel request (PQcancel) and is reported in out->signo.  Return
 * 0 when every statement succeeded, else -1 with out filled in (nothing
 * logged).  The caller ends a failed transaction (ROLLBACK).
 */
int db_run(struct db *db, const struct db_stmt *stmts, size_t n,
    int pipeline, struct db_outcome *out);
void db_outcome_release(struct db_outcome *out);

#endif
