/*
 * db.c - the libpq wrapper: connect (waiting for the server), constant SQL
 * with $n parameters, interruptible statements in pipeline mode; see db.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "sig.h"
#include "util.h"

/* postgres src/include/common/connect.h */
#define SECURE_SEARCH_PATH_SQL \
	"SELECT pg_catalog.set_config('search_path', '', false)"

/* How long we wait for the server after a cancel request. */
#define CANCEL_WAIT_MS 10000

/* Shared with audit.c, which creates the same schema. */
static const char sql_lock_schema[] =
	"SELECT pg_catalog.pg_advisory_xact_lock("
	"pg_catalog.hashtext('entrypoint:audit-schema'))";
static const char sql_schema_exists[] =
	"SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1";

static void
notice_to_log(void *arg, const PGresult *r)
{
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	if (!msg)
		return;
	if (sev && strcmp(sev, "WARNING") == 0)
		log_warn("server: %s", msg);
	else
		log_info("server %s: %s", sev ? sev : "NOTICE", msg);
}

/*
 * A signal that should stop us, read from the signalfd without blocking:
 * return it (TERM, INT, HUP, QUIT), 0 when none is pending.  Other signals
 * (CHLD, WINCH, ...) are consumed and ignored: no child runs here.
 */
static int
stop_signal(void)
{
	int s;

	if (sig_fd() < 0)
		return 0;
	while ((s = sig_read(NULL)) > 0)
		if (s == SIGTERM || s == SIGINT || s == SIGHUP ||
		    s == SIGQUIT)
			return s;
	return 0;
}

int
db_sleep(long ms)
{
	struct pollfd p;
	long long end = now_ms() + ms, left;
	int s;

	for (;;) {
		s = stop_signal();
		if (s)
			return s;
		left = end - now_ms();
		if (left <= 0)
			return 0;
		p.fd = sig_fd();
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, p.fd >= 0 ? 1 : 0, (int)left) < 0 &&
		    errno != EINTR)
			return 0;
	}
}

/* The url with the password replaced, for messages: never log a secret. */
static char *
url_for_log(const char *url)
{
	const char *at, *colon, *scheme;

	if (!url || !*url)
		return xstrdup("(libpq defaults: PGHOST, PGPORT, ...)");
	scheme = strstr(url, "://");
	at = strrchr(url, '@');
	if (scheme && at && at > scheme) {
		colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
		if (colon)
			return xasprintf("%.*s:***%s", (int)(colon - url), url,
			    at);
	}
	if (strstr(url, "password"))
		return xstrdup("(connection string)");
	return xstrdup(url);
}

static void
ping_params(const char *url, const char *keys[3], const char *vals[3])
{
	keys[0] = "dbname";
	vals[0] = url ? url : "";
	keys[1] = "connect_timeout";
	vals[1] = "10";
	keys[2] = NULL;
	vals[2] = NULL;
}

/* Check that url parses; log and return EXIT_CONFIG when not. */
static int
check_url(const char *url)
{
	PQconninfoOption *opts;
	char *msg = NULL;
	size_t n;

	if (!url || !*url)
		return 0;
	opts = PQconninfoParse(url, &msg);
	if (!opts) {
		if (msg) {
			n = strlen(msg);
			while (n > 0 && msg[n - 1] == '\n')
				msg[--n] = '\0';
		}
		log_error("invalid database url: %s", msg ? msg :
		    "out of memory");
		PQfreemem(msg);
		return EXIT_CONFIG;
	}
	PQconninfoFree(opts);
	return 0;
}

/*
 * Wait until the server at url accepts connections (PQping with backoff)
 * until deadline.  "rejecting" and "no response" are retried; "no attempt"
 * (bad parameters) returns EXIT_CONFIG at once.  Return 0, EXIT_CONFIG or
 * EXIT_UNAVAILABLE (deadline; the message names the whole wait, wait_ms),
 * after logging; a TERM, INT, HUP or QUIT read from sig_fd() while waiting
 * returns 128+N.  A NULL url means libpq's defaults (PGHOST, PGPORT, ...).
 */
static int
wait_until(const char *url, long long deadline, long wait_ms)
{
	const char *keys[3], *vals[3];
	long backoff = 50;
	PGPing p;
	char *shown;
	int s, code;

	code = check_url(url);
	if (code)
		return code;
	ping_params(url, keys, vals);
	for (;;) {
		p = PQpingParams(keys, vals, 1);
		if (p == PQPING_OK)
			return 0;
		if (p == PQPING_NO_ATTEMPT) {
			log_error("could not connect to the database: invalid "
			    "connection parameters");
			return EXIT_CONFIG;
		}
		if (now_ms() >= deadline)
			break;
		log_debug("database %s, retrying in %ld ms",
		    p == PQPING_REJECT ? "rejecting connections" :
		    "not responding", backoff);
		s = db_sleep(backoff < deadline - now_ms() ? backoff :
		    (long)(deadline - now_ms()));
		if (s)
			return EXIT_SIGNAL_BASE + s;
		backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
	}
	shown = url_for_log(url);
	log_error("database not reachable within %ld ms (%s): %s",
	    wait_ms > 0 ? wait_ms : 0, shown, p == PQPING_REJECT ?
	    "the server rejects connections" : "no response");
	free(shown);
	return EXIT_UNAVAILABLE;
}

static const char *
strip_nl(const char *msg)
{
	static char buf[1024];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", msg ? msg : "");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

const char *
db_error(const struct db *db)
{
	return strip_nl(db->conn ? PQerrorMessage(db->conn) :
	    "not connected");
}

/* Server conditions that pass: too many clients, starting, stopping. */
static int
transient(const char *msg)
{
	return strstr(msg, "too many clients") ||
	    strstr(msg, "remaining connection slots") ||
	    strstr(msg, "starting up") || strstr(msg, "shutting down") ||
	    strstr(msg, "in recovery mode");
}

/* Run a chunk of the caller's idle work; forget it once it is done. */
static void
run_idle(struct db *db)
{
	int r;

	if (!db->idle)
		return;
	r = db->idle(db->idle_arg);
	if (r <= 0)
		db->idle = NULL;
	if (r < 0)
		db->idle_failed = 1;
}

/*
 * One connection attempt.  With idle work, the connection is made
 * asynchronously and the work runs whenever the server has not answered
 * yet: while it forks and authenticates the backend, a no-op migrate reads
 * and hashes its files.
 */
static PGconn *
connect_once(struct db *db, const struct db_options *o)
{
	/*
	 * A server that vanishes without a reset (a failover, a dropped
	 * route) must not hang the end of a run until TCP gives up after
	 * minutes: keepalives and tcp_user_timeout bound it to ~30 s.  They
	 * come before dbname so that the URL's own values win.
	 */
	static const char *const tcp_keys[] = {
		"keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout",
	};
	static const char *const tcp_vals[] = { "10", "5", "3", "30000" };
	const char *keys[8], *vals[8];
	char app[64];
	PGconn *c;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct pollfd p;
	size_t n;
	int r;

	snprintf(app, sizeof(app), "entrypoint %s",
	    o->command ? o->command : "");
	for (n = 0; n < ARRAY_LEN(tcp_keys); n++) {
		keys[n] = tcp_keys[n];
		vals[n] = tcp_vals[n];
	}
	keys[n] = "dbname";
	vals[n++] = o->url ? o->url : "";
	keys[n] = "fallback_application_name";
	vals[n++] = app;
	keys[n] = "connect_timeout";
	vals[n++] = "10";
	keys[n] = NULL;
	vals[n] = NULL;
	if (!db->idle)
		return PQconnectdbParams(keys, vals, 1);
	c = PQconnectStartParams(keys, vals, 1);
	if (!c || PQstatus(c) == CONNECTION_BAD)
		return c;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		p.fd = PQsocket(c);
		p.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		p.revents = 0;
		r = poll(&p, 1, db->idle ? 0 : 10000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && db->idle) {
			run_idle(db);
			continue;
		}
		if (db->idle_failed)
			break;
		if (r == 0)
			break;	/* connect_timeout */
		st = PQconnectPoll(c);
	}
	return c;
}

int
db_open(struct db *db, const struct db_options *o)
{
	long long deadline = now_ms() + (o->wait_ms > 0 ? o->wait_ms : 0);
	long backoff = 100;
	PGPing ping;
	char *ident;
	const char *keys[3], *vals[3];
	int code, s;

	memset(db, 0, sizeof(*db));
	db->idle = o->idle;
	db->idle_arg = o->idle_arg;
	code = check_url(o->url);
	if (code)
		return code;
	for (;;) {
		db->conn = connect_once(db, o);
		db->round_trips++;
		/* the idle work failed: no need to go on (or to wait) */
		while (db->idle && db->conn &&
		    PQstatus(db->conn) != CONNECTION_OK)
			run_idle(db);
		if (db->idle_failed) {
			db_close(db);
			return -1;
		}
		if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
			break;
		if (!db->conn) {
			log_error("could not connect to the database: out of "
			    "memory");
			return EXIT_OSERR;
		}
		/*
		 * The server asked for a password and we had none, or took
		 * ours and still refused: an authentication failure, never
		 * retried (no new failed attempt in the server's log).
		 */
		if (PQconnectionNeedsPassword(db->conn) ||
		    PQconnectionUsedPassword(db->conn)) {
			log_error("could not connect to the database: %s "
			    "(authentication failed; not retried)",
			    db_error(db));
			db_close(db);
			return EXIT_NOPERM;
		}
		ping_params(o->url, keys, vals);
		ping = PQpingParams(keys, vals, 1);
		if (ping == PQPING_NO_ATTEMPT) {
			log_error("could not connect to the database: %s",
			    db_error(db));
			db_close(db);
			return EXIT_CONFIG;
		}
		if (ping == PQPING_OK && !transient(db_error(db))) {
			log_error("could not connect to the database: %s "
			    "(refused; not retried)", db_error(db));
			db_close(db);
			return EXIT_NOPERM;
		}
		if (now_ms() >= deadline) {
			log_error("could not connect to the database: %s",
			    db_error(db));
			db_close(db);
			return EXIT_UNAVAILABLE;
		}
		log_debug("could not connect yet: %s", db_error(db));
		PQfinish(db->conn);
		db->conn = NULL;
		if (ping == PQPING_OK) {
			s = db_sleep(backoff);
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
			if (s)
				return EXIT_SIGNAL_BASE + s;
			continue;
		}
		code = wait_until(o->url, deadline, o->wait_ms);
		if (code)
			return code;
	}
	PQsetNoticeReceiver(db->conn, notice_to_log, NULL);
	db->url = o->url ? xstrdup(o->url) : NULL;
	db->schema = xstrdup(o->schema ? o->schema : "entrypoint");
	ident = PQescapeIdentifier(db->conn, db->schema, strlen(db->schema));
	if (!ident) {
		log_error("invalid schema name \"%s\": %s", db->schema,
		    db_error(db));
		db_close(db);
		return EXIT_CONFIG;
	}
	db->schema_ident = xstrdup(ident);
	PQfreemem(ident);
	if (!o->keep_search_path && db_exec(db, "could not set a secure "
	    "search_path", SECURE_SEARCH_PATH_SQL, 0, NULL) < 0) {
		db_close(db);
		return EXIT_UNAVAILABLE;
	}
	return 0;
}

int
db_connect(struct db *db, const char *url, const char *schema, long wait_ms,
    const char *command)
{
	struct db_options o;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.schema = schema;
	o.wait_ms = wait_ms;
	o.command = command;
	return db_open(db, &o);
}

void
db_close(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	free(db->schema_ident);
	free(db->url);
	free(db->schema);
	db->schema_ident = db->url = db->schema = NULL;
}

char *
db_sql(const struct db *db, const char *sql)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *p = sql, *q;
	const char *ident = db->schema_ident ? db->schema_ident :
	    "\"entrypoint\"";

	while ((q = strstr(p, "@S@")) != NULL) {
		strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_addstr(&sb, ident);
		p = q + 3;
	}
	strbuf_addstr(&sb, p);
	return strbuf_detach(&sb);
}

PGresult *
db_query(struct db *db, const char *what, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *r;
	char *text;
	ExecStatusType st;

	if (!db->conn) {
		log_error("%s: not connected", what);
		return NULL;
	}
	text = db_sql(db, sql);
	r = PQexecParams(db->conn, text, nparams, NULL, params, NULL, NULL,
	    0);
	free(text);
	db->round_trips++;
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	log_error("%s: %s", what, strip_nl(r ? PQresultErrorMessage(r) :
	    PQerrorMessage(db->conn)));
	PQclear(r);
	return NULL;
}

int
db_exec(struct db *db, const char *what, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *r = db_query(db, what, sql, nparams, params);

	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

int
db_ensure_schema(struct db *db)
{
	const char *params[1] = { db->schema };
	PGresult *r;
	char *create;
	int exists, rc = 0;

	r = db_query(db, "could not look for the schema", sql_schema_exists,
	    1, params);
	if (!r)
		return -1;
	exists = PQntuples(r) > 0;
	PQclear(r);
	if (exists)
		return 0;
	create = xasprintf("BEGIN; SET LOCAL client_min_messages = warning; "
	    "%s; CREATE SCHEMA IF NOT EXISTS %s; COMMIT", sql_lock_schema,
	    db->schema_ident);
	/* A multi-statement string: constants and the quoted identifier. */
	r = PQexec(db->conn, create);
	db->round_trips++;
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = log_error("could not create schema %s: %s",
		    db->schema_ident, strip_nl(PQresultErrorMessage(r)));
		PQclear(PQexec(db->conn, "ROLLBACK"));
	}
	PQclear(r);
	free(create);
	return rc;
}

/* ---- db_run ----------------------------------------------------------- */

static void
outcome_error(struct db_outcome *out, long idx, const PGresult *r)
{
	const char *f;
	struct strbuf sb = { NULL, 0, 0 };
	long pos;

	out->failed = idx;
	f = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(out->sqlstate, sizeof(out->sqlstate), "%s", f ? f : "");
	f = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	strbuf_addstr(&sb, f ? f : strip_nl(PQresultErrorMessage(r)));
	f = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	if (f)
		strbuf_addf(&sb, " (DETAIL: %s)", strip_nl(f));
	f = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
	if (f)
		strbuf_addf(&sb, " (HINT: %s)", strip_nl(f));
	f = PQresultErrorField(r, PG_DIAG_CONTEXT);
	if (f && !strstr(f, "\n"))
		strbuf_addf(&sb, " (CONTEXT: %s)", f);
	out->message = strbuf_detach(&sb);
	f = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	if (f && parse_long(f, 1, 1L << 30, &pos) == 0)
		out->position = (int)pos;
}

static void
outcome_lost(struct db *db, struct db_outcome *out, long idx)
{
	out->lost = 1;
	if (out->failed < 0)
		out->failed = idx;
	if (!out->message)
		out->message = xstrdup(db_error(db));
}

static void
send_cancel(struct db *db)
{
	PGcancel *c = PQgetCancel(db->conn);
	char buf[256];

	if (!c)
		return;
	if (!PQcancel(c, buf, sizeof(buf)))
		log_warn("could not send the cancel request: %s", buf);
	PQfreeCancel(c);
}

/*
 * Wait until the connection has input (or can take output when want_out),
 * a stop signal arrives, or a second passes.  Cancels the running
 * statement at the first stop signal; gives up (returns -1) at a second
 * one or when the server ignores the cancel for CANCEL_WAIT_MS.
 */
static int
wait_io(struct db *db, int want_out, struct db_outcome *out,
    long long *cancel_at)
{
	struct pollfd p[2];
	int n = 1, s;

	p[0].fd = PQsocket(db->conn);
	p[0].events = POLLIN | (want_out ? POLLOUT : 0);
	p[0].revents = 0;
	if (sig_fd() >= 0) {
		p[1].fd = sig_fd();
		p[1].events = POLLIN;
		p[1].revents = 0;
		n = 2;
	}
	if (poll(p, (nfds_t)n, db->idle ? 0 : 1000) < 0 && errno != EINTR)
		return -1;
	if (db->idle && !(p[0].revents & (POLLIN | POLLOUT)) &&
	    !(n == 2 && p[1].revents))
		run_idle(db);
	s = stop_signal();
	if (s) {
		if (out->signo)
			return -1;
		out->signo = s;
		*cancel_at = now_ms();
		log_info("received SIG%s: cancelling the running statement",
		    signal_name(s));
		send_cancel(db);
	}
	if (*cancel_at && now_ms() - *cancel_at > CANCEL_WAIT_MS)
		return -1;
	if (db->tick && !db->idle && !(p[0].revents & (POLLIN | POLLOUT)))
		db->tick(db->tick_arg);
	return 0;
}

/* Handle one result of statement idx; return 1 at the pipeline's Sync. */
static int
take_result(const struct db_stmt *stmts, size_t n, long idx, PGresult *r,
    struct db_outcome *out)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_PIPELINE_SYNC) {
		PQclear(r);
		return 1;
	}
	if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR ||
	    st == PGRES_BAD_RESPONSE) {
		if (out->failed < 0)
			outcome_error(out, idx, r);
	} else if (st != PGRES_PIPELINE_ABORTED && idx >= 0 &&
	    (size_t)idx < n && stmts[idx].out && !*stmts[idx].out) {
		*stmts[idx].out = r;
		return 0;
	}
	PQclear(r);
	return 0;
}

static int
run_pipeline(struct db *db, const struct db_stmt *stmts, size_t n,
    struct db_outcome *out)
{
	long long cancel_at = 0;
	long idx = 0;
	size_t i;
	PGresult *r;
	int flush = 1, synced = 0;

	if (PQsetnonblocking(db->conn, 1) != 0 ||
	    !PQenterPipelineMode(db->conn)) {
		outcome_lost(db, out, 0);
		return -1;
	}
	db->round_trips++;
	for (i = 0; i < n; i++)
		if (!PQsendQueryParams(db->conn, stmts[i].sql,
		    stmts[i].nparams, NULL, stmts[i].params, NULL, NULL, 0)) {
			outcome_lost(db, out, (long)i);
			goto out;
		}
	if (!PQpipelineSync(db->conn)) {
		outcome_lost(db, out, (long)n);
		goto out;
	}
	while (!synced) {
		if (flush) {
			flush = PQflush(db->conn);
			if (flush < 0) {
				outcome_lost(db, out, idx);
				break;
			}
		}
		while (!synced && !PQisBusy(db->conn)) {
			r = PQgetResult(db->conn);
			if (!r) {
				idx++;
				continue;
			}
			synced = take_result(stmts, n, idx, r, out);
		}
		if (synced)
			break;
		if (PQstatus(db->conn) != CONNECTION_OK) {
			outcome_lost(db, out, idx);
			break;
		}
		if (wait_io(db, flush == 1, out, &cancel_at) < 0) {
			outcome_lost(db, out, idx);
			break;
		}
		if (!PQconsumeInput(db->conn)) {
			outcome_lost(db, out, idx);
			break;
		}
	}
out:
	if (!out->lost) {
		(void)PQexitPipelineMode(db->conn);
		(void)PQsetnonblocking(db->conn, 0);
	}
	return out->failed < 0 && !out->lost && !out->signo ? 0 : -1;
}

/* COPY FROM STDIN: send the rows; COPY TO STDOUT: read and drop them. */
static int
copy_data(struct db *db, const struct db_stmt *st, ExecStatusType s)
{
	char *buf;
	int n;

	if (s == PGRES_COPY_IN) {
		if (st->copy_data && st->copy_len > 0 &&
		    PQputCopyData(db->conn, st->copy_data,
		    (int)st->copy_len) != 1)
			return -1;
		return PQputCopyEnd(db->conn, st->copy_data ? NULL :
		    "no rows for COPY FROM STDIN in the migration file") ==
		    1 ? 0 : -1;
	}
	while ((n = PQgetCopyData(db->conn, &buf, 0)) > 0)
		PQfreemem(buf);
	return n == -1 ? 0 : -1;
}

static int
run_one(struct db *db, const struct db_stmt *st, long idx,
    struct db_outcome *out)
{
	long long cancel_at = 0;
	PGresult *r;
	ExecStatusType s;

	db->round_trips++;
	if (!PQsendQueryParams(db->conn, st->sql, st->nparams, NULL,
	    st->params, NULL, NULL, 0)) {
		outcome_lost(db, out, idx);
		return -1;
	}
	for (;;) {
		while (PQisBusy(db->conn)) {
			if (PQstatus(db->conn) != CONNECTION_OK ||
			    wait_io(db, 0, out, &cancel_at) < 0 ||
			    !PQconsumeInput(db->conn)) {
				outcome_lost(db, out, idx);
				return -1;
			}
		}
		r = PQgetResult(db->conn);
		if (!r)
			break;
		s = PQresultStatus(r);
		if (s == PGRES_COPY_IN || s == PGRES_COPY_OUT) {
			PQclear(r);
			if (copy_data(db, st, s) < 0) {
				outcome_lost(db, out, idx);
				return -1;
			}
			continue;
		}
		take_result(st, 1, 0, r, out);
		if (out->failed == 0)
			out->failed = idx;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		outcome_lost(db, out, idx);
		return -1;
	}
	return out->failed < 0 && !out->signo ? 0 : -1;
}

int
db_run(struct db *db, const struct db_stmt *stmts, size_t n, int pipeline,
    struct db_outcome *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->failed = -1;
	if (!db->conn) {
		out->lost = 1;
		out->failed = 0;
		out->message = xstrdup("not connected");
		return -1;
	}
	if (pipeline)
		return run_pipeline(db, stmts, n, out);
	for (i = 0; i < n; i++)
		if (run_one(db, &stmts[i], (long)i, out) < 0)
			return -1;
	return 0;
}

void
db_outcome_release(struct db_outcome *out)
{
	free(out->message);
	out->message = NULL;
}
