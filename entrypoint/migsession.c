/*
 * migsession.c - migrate's database session; see migsession.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "exitcode.h"
#include "log.h"
#include "migsession.h"
#include "util.h"

/* A connect that took this long waited for the server: say so. */
#define CONNECT_SLOW_MS 250

/* pg_try_advisory_lock(LOCK_CLASS, hashtext(schema)) */
#define LOCK_CLASS "1701867374"

static const char sql_lock[] =
	"SELECT pg_catalog.pg_try_advisory_lock(" LOCK_CLASS ", "
	"pg_catalog.hashtext($1))";
static const char sql_applied[] =
	"SELECT version, name, checksum, status, "
	"pg_catalog.to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ'), "
	"release, error FROM @S@.migrations ORDER BY version";
/* What migrate itself needs: less for the server to format and send. */
static const char sql_applied_light[] =
	"SELECT version, name, checksum, status, '', '', error "
	"FROM @S@.migrations ORDER BY version";
static const char sql_holder[] =
	"SELECT a.pid, a.application_name, "
	"pg_catalog.to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') "
	"FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a "
	"ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
	"AND l.classid = " LOCK_CLASS " AND l.objid = "
	"pg_catalog.hashtext($1)::pg_catalog.oid LIMIT 1";
/*
 * Asked before the rows are read and the audit row is sent: a statement
 * on a missing table would leave an ERROR in the server's log on every
 * first migrate.  Is there <schema>.migrations, <schema>.runs,
 * <schema>.run_output?
 */
static const char sql_history_exists[] =
	"SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
	"OPERATOR(pg_catalog.||) '.migrations') IS NOT NULL, "
	"pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
	"OPERATOR(pg_catalog.||) '.runs') IS NOT NULL, "
	"pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
	"OPERATOR(pg_catalog.||) '.run_output') IS NOT NULL";
/*
 * Open the audit trail's tables (when they are there) while the lock is
 * taken, so that its rows, sent with the applied list, are written to
 * tables the session has already opened (a backend's first INSERT into a
 * table it never opened costs it more than a round trip).  Bounded first,
 * as the audit rows are (the caller's extra[0]): another session's lock
 * on the table must not hold migrate.
 */
static const char sql_warm[] =
	"SELECT pg_catalog.pg_indexes_size(pg_catalog.to_regclass("
	"pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.runs')), "
	"pg_catalog.pg_indexes_size(pg_catalog.to_regclass("
	"pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.run_output'))";
static const char sql_create_table[] =
	"CREATE TABLE IF NOT EXISTS @S@.migrations (\n"
	"  version bigint PRIMARY KEY,\n"
	"  name text NOT NULL,\n"
	"  checksum text,\n"
	"  status text NOT NULL DEFAULT 'succeeded' CHECK (status IN\n"
	"    ('succeeded', 'running', 'failed', 'baseline')),\n"
	"  release text NOT NULL DEFAULT '',\n"
	"  applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),\n"
	"  duration interval,\n"
	"  run_id text,\n"
	"  error text\n"
	")";
static const char sql_record[] =
	"INSERT INTO @S@.migrations (version, name, checksum, status, "
	"release, applied_at, duration, run_id) VALUES ($1, $2, $3, "
	"'succeeded', $4, pg_catalog.now(), pg_catalog.clock_timestamp() "
	"OPERATOR(pg_catalog.-) pg_catalog.now(), $5) RETURNING "
	"pg_catalog.date_part('epoch', duration)";
static const char sql_record_running[] =
	"INSERT INTO @S@.migrations (version, name, checksum, status, "
	"release, applied_at, run_id) VALUES ($1, $2, $3, 'running', $4, "
	"pg_catalog.clock_timestamp(), $5)";
static const char sql_record_end[] =
	"UPDATE @S@.migrations SET status = $2, error = $3, duration = "
	"pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) applied_at "
	"WHERE version = $1 RETURNING pg_catalog.date_part('epoch', duration)";
/* current_user, current_database(), CREATE on our schema (NULL: no
 * such schema), CREATE on the database */
static const char sql_privileges[] =
	"SELECT current_user, pg_catalog.current_database(), "
	"(SELECT pg_catalog.has_schema_privilege(n.oid, 'CREATE') "
	"FROM pg_catalog.pg_namespace n WHERE n.nspname = $1), "
	"pg_catalog.has_database_privilege(pg_catalog.current_database(), "
	"'CREATE')";
static const char sql_forget[] =
	"DELETE FROM @S@.migrations WHERE version = $1";
static const char sql_baseline[] =
	"INSERT INTO @S@.migrations (version, name, checksum, status, "
	"release, run_id) VALUES ($1, $2, $3, 'baseline', $4, $5)";
static const char sql_resolve_applied[] =
	"UPDATE @S@.migrations SET status = 'succeeded' WHERE version = $1";
static const char sql_settings[] =
	"SELECT pg_catalog.set_config('lock_timeout', $1, $2::boolean)";
/*
 * PostgreSQL 14+: a backend whose client died (kill -9 of migrate) notices
 * within a second and rolls back, instead of finishing a long statement
 * while it holds the migration lock.
 */
static const char sql_settings14[] =
	"SELECT pg_catalog.set_config('lock_timeout', $1, $2::boolean), "
	"pg_catalog.set_config('client_connection_check_interval', '1s', "
	"$2::boolean)";

static void
progress_clear(struct migsession *ses)
{
	if (ses->ticked) {
		(void)write_all(2, "\r\033[K", 4);
		ses->ticked = 0;
	}
}

/*
 * db tick: look for sessions blocking the running statement (every
 * db.tick_ms), and while a statement runs long on a terminal, show the
 * time (once a second).
 */
static void
progress_tick(void *arg)
{
	struct migsession *ses = arg;
	char line[320];
	int n;

	lock_watch_poll(&ses->watch);
	if (!ses->tty || !ses->cur || now_ms() - ses->last_tick < 1000)
		return;
	ses->last_tick = now_ms();
	n = snprintf(line, sizeof(line), "\r\033[Kentrypoint: migrate: "
	    "applying %s ... %llds", mig_label(ses->cur),
	    (now_ms() - ses->cur_start) / 1000);
	if (n > 0)
		(void)write_all(2, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
	ses->ticked = 1;
}

/*
 * The release recorded with each migration: [app] release escaped as the
 * audit row stores it (ESCAPE_DB), so a byte that is not UTF-8 cannot make
 * the record's INSERT fail.  Made once, freed by migsession_release().
 */
static const char *
release_of(struct migsession *ses)
{
	const char *r = ses->cfg->app.release;

	if (!r || !*r)
		return "";
	if (!ses->release)
		ses->release = escape_dup(r, ESCAPE_DB);
	return ses->release ? ses->release : "";
}

int
migsession_connect(struct migsession *ses)
{
	struct db_options o;
	const char *url = config_database_url(ses->cfg);
	long long t0 = now_ms(), waited;
	int code;

	if (!url) {
		log_error("no database url: set [database] url (e.g. url = "
		    "${DATABASE_URL}) or DATABASE_URL");
		return EXIT_CONFIG;
	}
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.schema = ses->cfg->database.schema;
	o.command = "migrate";
	o.wait_ms = ses->cfg->database.wait_ms;
	o.keep_search_path = 1;
	if (migset_open(ses->set))
		return ses->set->code;
	if (!ses->set->listed || ses->set->nread < ses->set->nfiles) {
		o.idle = migset_step;
		o.idle_arg = ses->set;
	}
	code = db_open(&ses->db, &o);
	if (code) {
		if (migset_finish(ses->set))
			return ses->set->code;
		return code < 0 ? EXIT_SOFTWARE : code;
	}
	ses->connected = 1;
	/* Said apart from the summary, whose time is the migrations' own:
	 * a deploy that waited for its database should not read as slow
	 * migrations. */
	waited = now_ms() - t0;
	if (waited >= CONNECT_SLOW_MS)
		log_info("waited %lld.%lld s for the database ([database] wait "
		    "= %ld s)", waited / 1000, waited % 1000 / 100,
		    ses->cfg->database.wait_ms / 1000);
	ses->db.tick = progress_tick;
	ses->db.tick_arg = ses;
	lock_watch_arm(&ses->watch, NULL, 0,
	    ses->cfg->database.ddl_lock_timeout_ms);
	ses->db.tick_ms = ses->watch.poll_ms;
	ses->q_applied = db_sql(&ses->db, ses->full_rows ? sql_applied :
	    sql_applied_light);
	ses->q_record = db_sql(&ses->db, sql_record);
	ses->q_running = db_sql(&ses->db, sql_record_running);
	ses->q_end = db_sql(&ses->db, sql_record_end);
	ses->q_forget = db_sql(&ses->db, sql_forget);
	snprintf(ses->lock_timeout, sizeof(ses->lock_timeout), "%ldms",
	    ses->cfg->database.ddl_lock_timeout_ms);
	return 0;
}

/* The exit code for a failed statement of our own. */
static int
own_failure(struct migsession *ses, const char *what,
    const struct db_outcome *o)
{
	if (o->signo)
		return EXIT_SIGNAL_BASE + o->signo;
	log_error("%s: %s", what, o->message ? o->message :
	    db_error(&ses->db));
	if (o->lost)
		return EXIT_UNAVAILABLE;
	if (strcmp(o->sqlstate, "42501") == 0)
		return EXIT_NOPERM;
	return EXIT_SOFTWARE;
}

/* The text of field c of row i, NULL for SQL NULL. */
static const char *
field(const PGresult *r, int i, int c)
{
	return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

/*
 * Join the rows of sql_applied with the files.  Takes r: the entries point
 * into it until migsession_forget_rows() or migsession_release().
 */
static int
merge_rows(struct migsession *ses, PGresult *r)
{
	struct migrow row;
	int i, rows = PQntuples(r), code = 0;

	PQclear(ses->rows);
	ses->rows = r;
	for (i = 0; i < rows && !code; i++) {
		row.version = PQgetvalue(r, i, 0);
		row.name = PQgetvalue(r, i, 1);
		row.checksum = field(r, i, 2);
		row.status = PQgetvalue(r, i, 3);
		row.applied_at = PQgetvalue(r, i, 4);
		row.release = PQgetvalue(r, i, 5);
		row.error = field(r, i, 6);
		code = migset_add_row(ses->set, &row);
	}
	migset_rows_done(ses->set);
	return code;
}

/* Log who holds the migration lock, for the timeout message. */
static void
log_holder(struct migsession *ses)
{
	const char *params[1] = { ses->db.schema };
	PGresult *r = db_query(&ses->db, "could not look up the lock holder",
	    sql_holder, 1, params);

	if (r && PQntuples(r) == 1)
		log_error("the migration lock is held by server pid %s "
		    "(\"%s\", connected %s)", PQgetvalue(r, 0, 0),
		    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
}

/*
 * After the schema or table could not be created: when the role lacks the
 * privilege, say which grant it needs and return EXIT_NOPERM, else
 * EXIT_SOFTWARE.
 */
static int
explain_create(struct migsession *ses)
{
	const char *params[1] = { ses->db.schema };
	PGresult *r = db_query(&ses->db, "could not look up privileges",
	    sql_privileges, 1, params);
	int code = EXIT_SOFTWARE;

	if (r && PQntuples(r) == 1) {
		if (PQgetisnull(r, 0, 2) && strcmp(PQgetvalue(r, 0, 3), "f") ==
		    0) {
			log_error("role \"%s\" may not create schema \"%s\": "
			    "GRANT CREATE ON DATABASE \"%s\" TO \"%s\", or "
			    "create it for the role: CREATE SCHEMA \"%s\" "
			    "AUTHORIZATION \"%s\"", PQgetvalue(r, 0, 0),
			    ses->db.schema, PQgetvalue(r, 0, 1),
			    PQgetvalue(r, 0, 0), ses->db.schema,
			    PQgetvalue(r, 0, 0));
			code = EXIT_NOPERM;
		} else if (strcmp(PQgetvalue(r, 0, 2), "f") == 0) {
			log_error("role \"%s\" may not create the migrations "
			    "table in schema \"%s\": GRANT CREATE ON SCHEMA "
			    "\"%s\" TO \"%s\"", PQgetvalue(r, 0, 0),
			    ses->db.schema, ses->db.schema,
			    PQgetvalue(r, 0, 0));
			code = EXIT_NOPERM;
		}
	}
	PQclear(r);
	return code;
}

/* Create the schema and the table of the migrations when missing. */
static int
create_history(struct migsession *ses)
{
	if (db_ensure_schema(&ses->db) < 0 || db_exec(&ses->db,
	    "could not create the migrations table", sql_create_table, 0,
	    NULL) < 0)
		return explain_create(ses);
	return 0;
}

/*
 * The recorded rows into the set, when the table exists (exists: the
 * answer to sql_history_exists); the files are finished first.
 */
static int
read_rows(struct migsession *ses, int exists)
{
	PGresult *r = NULL;
	struct db_stmt st;
	struct db_outcome o;
	int code = 0;

	if (migset_finish(ses->set))
		return ses->set->code;
	if (!exists)
		return 0;
	memset(&st, 0, sizeof(st));
	st.sql = ses->q_applied;
	st.out = &r;
	if (db_run(&ses->db, &st, 1, 0, &o) < 0 || !r)
		code = own_failure(ses, "could not read the applied "
		    "migrations", &o);
	else if (merge_rows(ses, r) < 0)
		code = EXIT_SOFTWARE;
	else
		r = NULL;
	PQclear(r);
	db_outcome_release(&o);
	return code;
}

/* The answer of sql_history_exists in r: 1 when the table is there. */
static int
history_exists(const PGresult *r)
{
	return r && PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "t") == 0;
}

/*
 * The lock was not free: wait before the next attempt (backoff, grown in
 * *backoff), or give up.  Return 0 to try again, EXIT_TEMPFAIL past
 * lock_timeout, 128+N for a signal meanwhile.
 */
static int
lock_wait(struct migsession *ses, long long start, long *backoff, int *said)
{
	long left = ses->cfg->database.lock_timeout_ms -
	    (long)(now_ms() - start);
	int s;

	if (left <= 0) {
		log_holder(ses);
		log_error("could not take the migration lock within %ld ms: "
		    "another migrate is running (lock_timeout in [database])",
		    ses->cfg->database.lock_timeout_ms);
		return EXIT_TEMPFAIL;
	}
	if (!*said)
		log_info("waiting for another migrate to finish");
	*said = 1;
	s = db_sleep(*backoff < left ? *backoff : left);
	if (s)
		return EXIT_SIGNAL_BASE + s;
	*backoff = *backoff * 3 / 2 > 1000 ? 1000 : *backoff * 3 / 2;
	return 0;
}

int
migsession_lock_read(struct migsession *ses, enum migsession_history mode)
{
	const char *params[1] = { ses->db.schema };
	PGresult *lock_r = NULL, *exists_r = NULL, *rows_r = NULL;
	struct db_stmt st[4];
	struct db_outcome o;
	long long start = now_ms();
	long backoff = 20;
	int got, said = 0, code = 0, exists, runs, output, r, cold;
	size_t n = 0;

	memset(st, 0, sizeof(st));
	st[0].sql = sql_lock;
	st[0].nparams = 1;
	st[0].params = params;
	st[0].out = &lock_r;
	st[1].sql = sql_history_exists;
	st[1].nparams = 1;
	st[1].params = params;
	st[1].out = &exists_r;
	st[2] = ses->extra[0];
	st[3].sql = sql_warm;
	st[3].nparams = 1;
	st[3].params = params;
	for (;;) {
		lock_r = exists_r = NULL;
		db_run(&ses->db, st, ses->extra[1].sql ? 4 : 2, 1, &o);
		got = lock_r && PQntuples(lock_r) == 1 &&
		    strcmp(PQgetvalue(lock_r, 0, 0), "t") == 0;
		PQclear(lock_r);
		if (o.signo) {
			code = EXIT_SIGNAL_BASE + o.signo;
			goto out;
		}
		if (!lock_r) {
			code = own_failure(ses, "could not take the migration "
			    "lock", &o);
			goto out;
		}
		if (got)
			break;
		PQclear(exists_r);
		db_outcome_release(&o);
		code = lock_wait(ses, start, &backoff, &said);
		if (code)
			return code;
	}
	if (!exists_r) {
		code = own_failure(ses, "could not look for the migrations "
		    "table", &o);
		goto out;
	}
	exists = history_exists(exists_r);
	runs = PQntuples(exists_r) == 1 &&
	    strcmp(PQgetvalue(exists_r, 0, 1), "t") == 0;
	output = runs && PQntuples(exists_r) == 1 &&
	    strcmp(PQgetvalue(exists_r, 0, 2), "t") == 0;
	/* the tables could not be opened in time (another session holds
	 * them): the rows would only wait as long again, not sent */
	cold = o.failed >= 2;
	ses->runs_ok = runs;
	db_outcome_release(&o);
	/* The rows, and the caller's extra statement (the audit row) when
	 * its table is there, in one round trip; without the table the
	 * caller writes it the ordinary way (extra_ok 0).  The files still
	 * unread are read while the server answers (db.idle). */
	memset(st, 0, sizeof(st));
	if (exists) {
		st[n].sql = ses->q_applied;
		st[n++].out = &rows_r;
	}
	if (ses->extra[1].sql && runs && !cold) {
		st[n++] = ses->extra[0];
		st[n++] = ses->extra[1];
		if (ses->extra[2].sql && output)
			st[n++] = ses->extra[2];
	}
	r = n ? db_run(&ses->db, st, n, 1, &o) : 0;
	ses->extra_ok = !(ses->extra[1].sql && runs) ? 0 :
	    r == 0 && !cold ? 1 : -1;
	ses->output_ok = ses->extra_ok > 0 && ses->extra[2].sql && output;
	if (o.signo) {
		code = EXIT_SIGNAL_BASE + o.signo;
		goto out;
	}
	if (exists && !rows_r) {
		code = own_failure(ses, "could not read the applied "
		    "migrations", &o);
		goto out;
	}
	if (migset_finish(ses->set)) {
		code = ses->set->code;
		goto out;
	}
	if (rows_r) {
		if (merge_rows(ses, rows_r) < 0)
			code = EXIT_SOFTWARE;
		rows_r = NULL;
		goto out;
	}
	if (mode == HISTORY_CREATE)
		code = create_history(ses);
out:
	ses->db.idle = NULL;
	PQclear(exists_r);
	PQclear(rows_r);
	db_outcome_release(&o);
	return code;
}

int
migsession_read(struct migsession *ses)
{
	const char *params[1] = { ses->db.schema };
	PGresult *r;
	int exists;

	r = db_query(&ses->db, "could not look for the migrations table",
	    sql_history_exists, 1, params);
	if (!r)
		return EXIT_UNAVAILABLE;
	exists = history_exists(r);
	PQclear(r);
	return read_rows(ses, exists);
}

/* The line within the file of a server error position in statement sql. */
static int
error_line(const char *sql, int line, int position)
{
	const unsigned char *p = (const unsigned char *)sql;
	int chars = 0;

	for (; *p && position > 0; p++) {
		if ((*p & 0xc0) != 0x80)
			chars++;
		if (chars >= position)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Statement list for a section, with our own statements around it. */
struct plan {
	struct db_stmt *st;
	const struct sql_stmt **user;	/* per statement: the file's, or NULL */
	size_t n, cap;
	int pipeline;
};

static void
plan_add(struct plan *p, const char *sql, int nparams,
    const char *const *params, const struct sql_stmt *user)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->st = xrealloc(p->st, p->cap * sizeof(*p->st));
		p->user = xrealloc(p->user, p->cap * sizeof(*p->user));
	}
	memset(&p->st[p->n], 0, sizeof(p->st[p->n]));
	p->st[p->n].sql = sql;
	p->st[p->n].nparams = nparams;
	p->st[p->n].params = params;
	if (user) {
		p->st[p->n].copy_data = user->copy_data;
		p->st[p->n].copy_len = user->copy_len;
		if (user->copy_in || strncasecmp(user->sql, "copy", 4) == 0)
			p->pipeline = 0;
	}
	p->user[p->n++] = user;
}

/*
 * The statements of sec from index from.  skip_txn: leave out the file's
 * own BEGIN/COMMIT (the migration runs in our transaction).
 */
static void
plan_add_section(struct plan *p, const struct sql_section *sec,
    size_t from, int skip_txn)
{
	size_t i;
	int t;

	for (i = from; i < sec->n; i++) {
		t = sec->stmts[i].txn_control;
		if (!(skip_txn && (t == SQL_TXN_BEGIN || t == SQL_TXN_COMMIT)))
			plan_add(p, sec->stmts[i].sql, 0, NULL,
			    &sec->stmts[i]);
	}
}

static void
plan_free(struct plan *p)
{
	free(p->st);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

/*
 * Each migration starts from the session's defaults, as a new psql would
 * (a pg_dump file sets search_path to ''): the one before it ended with
 * sql_reset (the first follows statements of ours only).  Then it gets
 * ddl_lock_timeout: for its transaction (local), or for the session
 * (transaction:false).
 */
static void
plan_settings(struct plan *p, struct migsession *ses, int local)
{
	ses->settings[0] = ses->lock_timeout;
	ses->settings[1] = local ? "true" : "false";
	plan_add(p, PQserverVersion(ses->db.conn) >= 140000 ? sql_settings14 :
	    sql_settings, 2, ses->settings, NULL);
}

/*
 * What a new psql session would not have: everything a migration can leave
 * in the session, short of DISCARD ALL, which also drops our advisory lock
 * (and cannot run in a transaction block).  Sent after each migration,
 * inside its transaction and before its record, so that neither the next
 * migration nor our own records and audit row see a role, a setting, a
 * temporary table, a prepared statement, a cursor, a LISTEN or a cached
 * sequence value of it.  The file's session-level advisory locks are not
 * released (pg_advisory_unlock_all would release ours).
 */
static const char *const sql_reset[] = {
	"RESET ALL",
	"SET SESSION AUTHORIZATION DEFAULT",	/* and the role: NONE */
	"CLOSE ALL",
	"DEALLOCATE ALL",
	"UNLISTEN *",
	"DISCARD SEQUENCES",
	"DISCARD TEMP",
};

/* After a failure: end an open transaction, if the session is still up. */
static void
rollback(struct migsession *ses)
{
	PGTransactionStatusType t;

	if (!ses->db.conn || PQstatus(ses->db.conn) != CONNECTION_OK)
		return;
	t = PQtransactionStatus(ses->db.conn);
	if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
		PQclear(PQexec(ses->db.conn, "ROLLBACK"));
}

static void
plan_reset(struct plan *p)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(sql_reset); i++)
		plan_add(p, sql_reset[i], 0, NULL, NULL);
}

/*
 * Open the transaction of a transactional section: the file's own leading
 * BEGIN with its modes (or ours), its SET TRANSACTION statements, then our
 * settings, which take the first snapshot.
 */
static void
plan_open(struct plan *p, struct migsession *ses,
    const struct sql_section *sec)
{
	size_t i = 0;

	if (sec->nlead > 0 && sec->stmts[0].txn_control == SQL_TXN_BEGIN)
		plan_add(p, sec->stmts[i++].sql, 0, NULL, &sec->stmts[0]);
	else
		plan_add(p, "BEGIN", 0, NULL, NULL);
	for (; i < sec->nlead; i++)
		plan_add(p, sec->stmts[i].sql, 0, NULL, &sec->stmts[i]);
	plan_settings(p, ses, 1);
}

/*
 * Close it with our record: the reset and the record inside the
 * transaction, so that the migration and its record commit together; a
 * READ ONLY transaction cannot write the record: after its COMMIT then.
 * out (may be NULL) gets the record's result.
 */
static void
plan_close(struct plan *p, const struct sql_section *sec, const char *rec,
    int nparams, const char *const *params, PGresult **out)
{
	if (sec->read_only)
		plan_add(p, "COMMIT", 0, NULL, NULL);
	plan_reset(p);
	plan_add(p, rec, nparams, params, NULL);
	p->st[p->n - 1].out = out;
	if (!sec->read_only)
		plan_add(p, "COMMIT", 0, NULL, NULL);
}

/*
 * A transaction:false section must end outside a transaction, as psql
 * would leave it: a BEGIN without its COMMIT is an error (nothing of it is
 * committed or recorded applied).  Return 0, or EXIT_DATAERR after
 * logging and rolling back.
 */
static int
check_closed(struct migsession *ses, const struct mig *m, const char *path)
{
	PGTransactionStatusType t = PQtransactionStatus(ses->db.conn);

	if (t != PQTRANS_INTRANS && t != PQTRANS_INERROR)
		return 0;
	progress_clear(ses);
	log_error("%s: migration %s left a transaction open (transaction:"
	    "false, BEGIN without COMMIT): rolled back", path, mig_label(m));
	rollback(ses);
	return EXIT_DATAERR;
}

/*
 * Log why a migration's statement failed and return the exit code:
 * 65 for SQL errors, 69 when the connection went away, 128+N after a
 * signal.  path is the file the section came from.
 */
static int
report_failure(struct migsession *ses, const struct mig *m, const char *path,
    const struct plan *p, const struct db_outcome *o, const char *action)
{
	const struct sql_stmt *u = NULL;
	char where[64] = "";
	const char *extra = "";
	char ddl[200];

	progress_clear(ses);
	if (o->failed >= 0 && (size_t)o->failed < p->n)
		u = p->user[o->failed];
	if (u)
		snprintf(where, sizeof(where), ":%d", error_line(u->sql,
		    u->line, o->position));
	if (strcmp(o->sqlstate, "55P03") == 0) {
		snprintf(ddl, sizeof(ddl), " (a lock it needed was still held "
		    "by another session after ddl_lock_timeout = %ld ms: "
		    "retry when the table is less busy, or raise [database] "
		    "ddl_lock_timeout)", ses->cfg->database.ddl_lock_timeout_ms);
		extra = ddl;
	}
	if (o->signo) {
		log_error("%s %s interrupted by SIG%s: %s", action,
		    mig_label(m), signal_name(o->signo),
		    o->lost ? "the connection was closed; the server rolls "
		    "back" : "cancelled and rolled back");
		return EXIT_SIGNAL_BASE + o->signo;
	}
	if (o->lost) {
		log_error("%s %s: the database connection was lost: %s",
		    action, mig_label(m), o->message ? o->message : "");
		return EXIT_UNAVAILABLE;
	}
	log_error("%s%s: could not %s %s: %s%s", path, where, action,
	    mig_label(m), o->message ? o->message : "unknown error", extra);
	return EXIT_DATAERR;
}


static void
log_applied(struct migsession *ses, const struct mig *m, const char *verb,
    const char *secs, long long ms, size_t i, size_t total)
{
	double d = secs ? strtod(secs, NULL) * 1000 : (double)ms;

	progress_clear(ses);
	if (d < 1000)
		log_info("%s %s in %.1f ms [%zu/%zu]", verb, mig_label(m), d,
		    i, total);
	else
		log_info("%s %s in %.2f s [%zu/%zu]", verb, mig_label(m),
		    d / 1000, i, total);
}

/* Apply one transactional migration in one round trip. */
static int
apply_tx(struct migsession *ses, struct mig *m, size_t i, size_t total)
{
	const char *params[5] = { m->f.version_str, m->f.name, m->f.checksum,
		release_of(ses), ses->run_id };
	struct plan p;
	struct db_outcome o;
	PGresult *rec = NULL;
	int code = 0, attempt, r;

	memset(&p, 0, sizeof(p));
	p.pipeline = 1;
	plan_open(&p, ses, &m->f.up);
	plan_add_section(&p, &m->f.up, m->f.up.nlead, 1);
	if (m->has_row)		/* a repeatable one applied again */
		plan_add(&p, ses->q_forget, 1, params, NULL);
	plan_close(&p, &m->f.up, ses->q_record, 5, params, &rec);
	for (attempt = 0;; attempt++) {
		miglock_arm(ses, attempt);
		r = db_run(&ses->db, p.st, p.n, p.pipeline, &o);
		miglock_disarm(ses);
		if (r == 0 && rec)
			break;
		if (o.failed < 0 && !o.signo && !o.lost)
			o.failed = (long)p.n - 1;
		rollback(ses);
		progress_clear(ses);
		code = miglock_wait(ses, m, &o, attempt, "apply");
		if (code == 0) {
			PQclear(rec);
			rec = NULL;
			db_outcome_release(&o);
			continue;
		}
		if (code < 0)
			code = report_failure(ses, m, m->f.path, &p, &o,
			    "apply");
		if (code == EXIT_DATAERR)
			log_error("migration %s rolled back: nothing of it "
			    "was applied or recorded; fix the file and run "
			    "migrate again", mig_label(m));
		break;
	}
	if (!code)
		log_applied(ses, m, "applied", PQgetvalue(rec, 0, 0), 0, i,
		    total);
	PQclear(rec);
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

/* A transaction:false migration's record says "running" first. */
static int
record_running(struct migsession *ses, const struct mig *m)
{
	const char *params[5] = { m->f.version_str, m->f.name, m->f.checksum,
		release_of(ses), ses->run_id };
	struct plan pre;
	struct db_outcome o;
	int code = 0;

	memset(&pre, 0, sizeof(pre));
	pre.pipeline = 1;
	plan_settings(&pre, ses, 0);
	if (m->has_row)		/* a repeatable one applied again */
		plan_add(&pre, ses->q_forget, 1, params, NULL);
	plan_add(&pre, ses->q_running, 5, params, NULL);
	if (db_run(&ses->db, pre.st, pre.n, 1, &o) < 0)
		code = own_failure(ses, "could not record the migration as "
		    "running", &o);
	db_outcome_release(&o);
	plan_free(&pre);
	return code;
}

/*
 * Reset the session and record the end of a transaction:false migration
 * (endp: version, status, error).  *rec gets the duration row.  Return
 * 0, or the exit code after logging.
 */
static int
record_end(struct migsession *ses, const struct mig *m,
    const char *const *endp, PGresult **rec)
{
	struct plan post;
	struct db_outcome o;
	int code = 0;

	memset(&post, 0, sizeof(post));
	post.pipeline = 1;
	plan_reset(&post);
	plan_add(&post, ses->q_end, 3, endp, NULL);
	post.st[post.n - 1].out = rec;
	if (db_run(&ses->db, post.st, post.n, 1, &o) < 0) {
		log_error("could not record the end of migration %s: %s",
		    mig_label(m), o.message ? o.message : "");
		code = o.lost ? EXIT_UNAVAILABLE : EXIT_SOFTWARE;
	}
	db_outcome_release(&o);
	plan_free(&post);
	return code;
}

/*
 * Apply one transaction:false migration: record it as running, run the
 * statements one at a time (CREATE INDEX CONCURRENTLY cannot run in a
 * transaction block, nor in a pipeline with others), record the end.
 */
static int
apply_notx(struct migsession *ses, struct mig *m, size_t i, size_t total)
{
	const char *endp[3] = { m->f.version_str, "succeeded", NULL };
	struct plan p;
	struct db_outcome o;
	PGresult *rec = NULL;
	char *msg = NULL;
	int code = record_running(ses, m), c2, attempt, r, said = 0;
	size_t start = 0;

	if (code)
		return code;
	memset(&p, 0, sizeof(p));
	plan_add_section(&p, &m->f.up, 0, 0);
	for (attempt = 0;; attempt++) {
		miglock_arm(ses, attempt);
		r = db_run(&ses->db, p.st + start, p.n - start, 0, &o);
		miglock_disarm(ses);
		if (r == 0)
			break;
		if (o.failed >= 0)
			o.failed += (long)start;
		/* Each statement here commits on its own: a lock timeout
		 * rolled back only the one that waited, so it can run again
		 * (not one that commits in steps, CONCURRENTLY). */
		code = o.failed >= 0 && (size_t)o.failed < p.n &&
		    !stmt_retry_unsafe(p.st[o.failed].sql) ? 1 : -1;
		if (code > 0) {
			rollback(ses);
			progress_clear(ses);
			code = miglock_wait(ses, m, &o, attempt, "apply");
		}
		if (code == 0) {
			start = (size_t)o.failed;
			db_outcome_release(&o);
			continue;
		}
		if (code == EXIT_TEMPFAIL && o.failed == 0) {
			/* nothing ran: forget the record, the next run
			 * starts afresh */
			const char *v[1] = { m->f.version_str };

			if (db_exec(&ses->db, "could not forget the "
			    "migration's record", ses->q_forget, 1, v) < 0)
				code = EXIT_SOFTWARE;
			db_outcome_release(&o);
			plan_free(&p);
			return code;
		}
		said = code == EXIT_TEMPFAIL;
		break;
	}
	if (r < 0) {
		code = report_failure(ses, m, m->f.path, &p, &o, "apply");
		if (code == EXIT_DATAERR && !said &&
		    strcmp(o.sqlstate, "55P03") == 0)
			(void)miglock_wait(ses, m, &o, -1, "apply");
		rollback(ses);
		msg = o.signo ? xasprintf("interrupted by SIG%s",
		    signal_name(o.signo)) : xstrdup(o.message ? o.message :
		    "failed");
	} else {
		code = check_closed(ses, m, m->f.path);
		if (code)
			msg = xstrdup("left a transaction open");
	}
	if (code) {
		endp[1] = "failed";
		endp[2] = msg;
	}
	c2 = o.lost ? 0 : record_end(ses, m, endp, &rec);
	code = code ? code : c2;
	if (code)
		log_error("migration %s ran outside a transaction "
		    "(transaction:false) and is recorded as %s: check what "
		    "it left behind (e.g. an INVALID index), then 'entrypoint "
		    "migrate resolve %s --applied' or '--rolled-back'",
		    mig_label(m), o.lost ? "running" : "failed",
		    m->f.version_str);
	else if (rec)
		log_applied(ses, m, "applied", PQgetvalue(rec, 0, 0), 0, i,
		    total);
	PQclear(rec);
	free(msg);
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

int
migsession_apply(struct migsession *ses, struct mig *m, size_t i,
    size_t total)
{
	ses->cur = m;
	ses->cur_start = now_ms();
	if (m->f.up.no_transaction)
		return apply_notx(ses, m, i, total);
	return apply_tx(ses, m, i, total);
}

/*
 * Run a transaction:false down section, then delete the record.  The
 * record stays when the section fails or leaves a transaction open.
 */
static int
revert_notx(struct migsession *ses, struct mig *m, const char *path,
    struct plan *p, struct db_outcome *o)
{
	const char *v[1] = { m->f.version_str };
	int code = 0;

	plan_add_section(p, &m->f.down, 0, 0);
	if (db_run(&ses->db, p->st, p->n, 0, o) < 0) {
		code = report_failure(ses, m, path, p, o, "revert");
		rollback(ses);
	} else {
		code = check_closed(ses, m, path);
	}
	if (code) {
		if (code == EXIT_DATAERR)
			log_error("the down section of %s ran outside a "
			    "transaction and may be partly done; its record "
			    "was kept", mig_label(m));
		return code;
	}
	db_outcome_release(o);
	plan_free(p);
	p->pipeline = 1;
	plan_reset(p);
	plan_add(p, ses->q_forget, 1, v, NULL);
	if (db_run(&ses->db, p->st, p->n, 1, o) < 0)
		code = report_failure(ses, m, path, p, o, "revert");
	return code;
}

int
migsession_revert(struct migsession *ses, struct mig *m, size_t i,
    size_t total)
{
	const char *v[1] = { m->f.version_str };
	const char *path = m->f.down_path ? m->f.down_path : m->f.path;
	const struct sql_section *sec = &m->f.down;
	long long t = now_ms();
	struct plan p;
	struct db_outcome o;
	int code = 0, attempt;

	ses->cur = m;
	ses->cur_start = t;
	memset(&p, 0, sizeof(p));
	memset(&o, 0, sizeof(o));
	if (sec->no_transaction) {
		code = revert_notx(ses, m, path, &p, &o);
	} else {
		p.pipeline = 1;
		plan_open(&p, ses, sec);
		plan_add_section(&p, sec, sec->nlead, 1);
		plan_close(&p, sec, ses->q_forget, 1, v, NULL);
		/* a lock timeout is rolled back and tried again, as up does */
		for (attempt = 0;; attempt++) {
			miglock_arm(ses, attempt);
			code = db_run(&ses->db, p.st, p.n, p.pipeline, &o);
			miglock_disarm(ses);
			if (code == 0)
				break;
			rollback(ses);
			progress_clear(ses);
			code = miglock_wait(ses, m, &o, attempt, "revert");
			if (code == 0) {
				db_outcome_release(&o);
				continue;
			}
			if (code < 0)
				code = report_failure(ses, m, path, &p, &o,
				    "revert");
			break;
		}
	}
	if (!code)
		log_applied(ses, m, "reverted", NULL, now_ms() - t, i, total);
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

int
migsession_try_begin(struct migsession *ses)
{
	struct plan p;
	struct db_outcome o;
	int code = 0;

	memset(&p, 0, sizeof(p));
	plan_add(&p, "BEGIN", 0, NULL, NULL);
	plan_settings(&p, ses, 1);
	if (db_run(&ses->db, p.st, p.n, 1, &o) < 0)
		code = own_failure(ses, "could not start the dry run", &o);
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

/*
 * May this failure of the dry run be the single transaction's doing
 * rather than the migration's?  A value added to an enum by an earlier
 * pending migration cannot be used before that transaction commits
 * (55P04), which migrate does between migrations and plan cannot; after
 * one migration could not be tried, nothing later can be judged.
 */
static int
cannot_tell(const struct mig *m, const char *sqlstate, int after_enum,
    int after_untried)
{
	if (after_untried)
		return 1;
	return after_enum && !m->f.up.adds_enum_value &&
	    strcmp(sqlstate, "55P04") == 0;
}

/*
 * Try m inside a savepoint of the dry run's transaction.  With traces
 * (plan's tracing, m->f.up.n + 1 entries): the server clock first, and
 * the prepared lock trace after each statement (see migsession.h).
 */
static int
try_one(struct migsession *ses, struct mig *m, int after_enum,
    int after_untried, PGresult **traces, char **seen)
{
	const char *seen_param[1] = { seen && *seen ? *seen : "" };
	PGresult *seen_r = NULL;
	struct plan p;
	struct db_outcome o;
	size_t k;
	int code = 0, t, r;

	ses->cur = m;
	ses->cur_start = now_ms();
	free(ses->untried);
	ses->untried = NULL;
	free(ses->release);
	ses->release = NULL;
	memset(&p, 0, sizeof(p));
	p.pipeline = 1;
	plan_add(&p, "SAVEPOINT entrypoint_plan", 0, NULL, NULL);
	plan_settings(&p, ses, 1);
	if (!traces) {
		plan_add_section(&p, &m->f.up, m->f.up.nlead, 1);
	} else {
		plan_add(&p, lock_trace_prepare_sql, 0, NULL, NULL);
		plan_add(&p, lock_seen_set_sql, 1, seen_param, NULL);
		plan_add(&p, lock_clock_sql, 0, NULL, NULL);
		traces[0] = NULL;
		p.st[p.n - 1].out = &traces[0];
		for (k = 0; k < m->f.up.n; k++) {
			traces[k + 1] = NULL;
			t = m->f.up.stmts[k].txn_control;
			if (k < m->f.up.nlead || t == SQL_TXN_BEGIN ||
			    t == SQL_TXN_COMMIT)
				continue;
			plan_add(&p, m->f.up.stmts[k].sql, 0, NULL,
			    &m->f.up.stmts[k]);
			plan_add(&p, stmt_trace_all(m->f.up.stmts[k].sql) ?
			    lock_trace_all_sql : lock_trace_new_sql, 0, NULL,
			    NULL);
			p.st[p.n - 1].out = &traces[k + 1];
		}
		plan_add(&p, lock_seen_get_sql, 0, NULL, NULL);
		p.st[p.n - 1].out = &seen_r;
	}
	plan_reset(&p);
	plan_add(&p, "RELEASE SAVEPOINT entrypoint_plan", 0, NULL, NULL);
	miglock_arm(ses, 0);
	r = db_run(&ses->db, p.st, p.n, p.pipeline, &o);
	miglock_disarm(ses);
	if (r < 0) {
		if (!o.signo && !o.lost && cannot_tell(m, o.sqlstate,
		    after_enum, after_untried)) {
			ses->untried = xstrdup(o.message ? o.message : "");
			code = MIGSESSION_UNTRIED;
			PQclear(PQexec(ses->db.conn, "ROLLBACK TO SAVEPOINT "
			    "entrypoint_plan"));
		} else {
			progress_clear(ses);
			code = miglock_wait(ses, m, &o, -1, "plan");
			if (code < 0)
				code = report_failure(ses, m, m->f.path, &p,
				    &o, "apply");
		}
	}
	if (seen && seen_r && PQntuples(seen_r) == 1) {
		free(*seen);
		*seen = xstrdup(PQgetvalue(seen_r, 0, 0));
	}
	PQclear(seen_r);
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

int
migsession_try(struct migsession *ses, struct mig *m, int after_enum,
    int after_untried)
{
	return try_one(ses, m, after_enum, after_untried, NULL, NULL);
}

int
migsession_try_traced(struct migsession *ses, struct mig *m, int after_enum,
    int after_untried, PGresult **traces, char **seen)
{
	return try_one(ses, m, after_enum, after_untried, traces, seen);
}

int
migsession_try_revert(struct migsession *ses, struct mig *m)
{
	const char *v[1] = { m->f.version_str };
	const struct sql_section *sec = &m->f.down;
	struct plan p;
	struct db_outcome o;
	int code = 0;

	if (sec->no_transaction)
		return MIGSESSION_UNTRIED;
	ses->cur = m;
	ses->cur_start = now_ms();
	memset(&p, 0, sizeof(p));
	p.pipeline = 1;
	plan_add(&p, "SAVEPOINT entrypoint_plan", 0, NULL, NULL);
	plan_settings(&p, ses, 1);
	plan_add_section(&p, sec, sec->nlead, 1);
	plan_reset(&p);
	plan_add(&p, ses->q_forget, 1, v, NULL);
	plan_add(&p, "RELEASE SAVEPOINT entrypoint_plan", 0, NULL, NULL);
	if (db_run(&ses->db, p.st, p.n, p.pipeline, &o) < 0)
		code = report_failure(ses, m, m->f.down_path ? m->f.down_path :
		    m->f.path, &p, &o, "revert");
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

void
migsession_try_end(struct migsession *ses)
{
	ses->cur = NULL;
	progress_clear(ses);
	if (ses->db.conn && PQstatus(ses->db.conn) == CONNECTION_OK)
		PQclear(PQexec(ses->db.conn, "ROLLBACK"));
}

int
migsession_baseline(struct migsession *ses, size_t upto,
    const long long *marker, size_t *nout)
{
	const char *rel = release_of(ses);
	struct migset *set = ses->set;
	const char **params;
	char vbuf[32];
	struct plan p;
	struct db_outcome o;
	size_t i, n = 0;
	int code = 0, exact = 0;
	char *sql = db_sql(&ses->db, sql_baseline);

	params = xcalloc(5 * (set->n + 1), sizeof(*params));
	memset(&p, 0, sizeof(p));
	p.pipeline = 1;
	plan_add(&p, "BEGIN", 0, NULL, NULL);
	for (i = 0; i < set->n && i < upto; i++) {
		struct mig *m = &set->m[i];
		const char **pp = params + 5 * n++;

		pp[0] = m->f.version_str;
		pp[1] = m->f.name;
		pp[2] = m->f.checksum;
		pp[3] = rel;
		pp[4] = ses->run_id;
		exact |= marker && m->f.version == *marker;
		plan_add(&p, sql, 5, pp, NULL);
	}
	if (marker && !exact) {
		const char **pp = params + 5 * n;

		snprintf(vbuf, sizeof(vbuf), "%lld", *marker);
		pp[0] = vbuf;
		pp[1] = "(baseline)";
		pp[2] = NULL;
		pp[3] = rel;
		pp[4] = ses->run_id;
		plan_add(&p, sql, 5, pp, NULL);
	}
	plan_add(&p, "COMMIT", 0, NULL, NULL);
	if (db_run(&ses->db, p.st, p.n, 1, &o) < 0) {
		code = own_failure(ses, "could not record the baseline", &o);
		rollback(ses);
	}
	*nout = n;
	db_outcome_release(&o);
	plan_free(&p);
	free(params);
	free(sql);
	return code;
}

int
migsession_resolve(struct migsession *ses, const struct mig *m, int applied)
{
	char v[32];
	const char *params[1] = { v };

	snprintf(v, sizeof(v), "%lld", m->f.version);
	if (db_exec(&ses->db, "could not resolve the migration", applied ?
	    sql_resolve_applied : sql_forget, 1, params) < 0)
		return EXIT_SOFTWARE;
	return 0;
}

void
migsession_done(struct migsession *ses)
{
	ses->cur = NULL;
	progress_clear(ses);
	log_debug("%lu round trips", ses->db.round_trips);
}

void
migsession_release(struct migsession *ses)
{
	PQclear(ses->rows);
	ses->rows = NULL;
	lock_watch_close(&ses->watch);
	if (ses->connected)
		db_close(&ses->db);
	ses->connected = 0;
	free(ses->q_applied);
	free(ses->q_record);
	free(ses->q_running);
	free(ses->q_end);
	free(ses->q_forget);
	free(ses->untried);
	ses->untried = NULL;
	ses->q_applied = ses->q_record = ses->q_running = ses->q_end =
	    ses->q_forget = NULL;
}

void
migsession_forget_rows(struct migsession *ses)
{
	migset_forget_rows(ses->set);
	PQclear(ses->rows);
	ses->rows = NULL;
}
