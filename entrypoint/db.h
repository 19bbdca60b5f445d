/*
 * db.h - the only module that talks to libpq.
 *
 * Every statement is a constant string sent with PQexecParams and $n
 * parameters.  The one exception is our own schema's name (config), which
 * is quoted with PQescapeIdentifier and substituted for the token "@S@" in
 * the constant by db_sql(); no value ever goes into SQL text.
 *
 * Return conventions: 0/-1 after logging; connection functions return one of
 * the exit codes in exitcode.h (0, 69, 77, 78) so callers pass them through.
 * supervise.c never includes this header.
 */
#ifndef DB_H
#define DB_H

#include <libpq-fe.h>

struct db {
	PGconn *conn;
	char *schema_ident;	/* quoted identifier of [database] schema */
	char *url;		/* for reconnecting */
};

/*
 * Wait until the server at url accepts connections (PQping with backoff)
 * for at most wait_ms.  "rejecting" and "no response" are retried; "no
 * attempt" (bad parameters) returns EXIT_CONFIG at once.  Return 0,
 * EXIT_CONFIG or EXIT_UNAVAILABLE (deadline), after logging.
 */
int db_wait(const char *url, long wait_ms);

/*
 * Connect (after db_wait when wait_ms > 0), check PQstatus, run the secure
 * search_path statement, remember schema.  Return 0, EXIT_UNAVAILABLE,
 * EXIT_NOPERM (authentication failure: never retried) or EXIT_CONFIG, after
 * logging.  application_name is "entrypoint COMMAND".
 */
int db_connect(struct db *db, const char *url, const char *schema,
    long wait_ms, const char *command);
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

#endif
