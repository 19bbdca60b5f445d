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
#include "mask.h"
#include "sig.h"
#include "util.h"

/* postgres src/include/common/connect.h */
#define SECURE_SEARCH_PATH_SQL \
	"SELECT pg_catalog.set_config('search_path', '', false)"
/* ... and a statement_timeout ($1, ms) in the same round trip */
#define SECURE_BOUNDED_SQL SECURE_SEARCH_PATH_SQL \
	", pg_catalog.set_config('statement_timeout', $1, false)"

/* The one attempt of wait = 0 (libpq's connect_timeout of old). */
#define CONNECT_ONCE_MS 10000
/* The least time one attempt gets, even at the end of wait. */
#define ATTEMPT_MIN_MS 250

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

/*
 * What a connection attempt saw, in the words of the message, and what to
 * do about it.  libpq reports connection failures as text only (no
 * SQLSTATE), so the cause is read from its message: libpq's own (we never
 * call setlocale, so they are in English) and the server's FATAL line.
 */
enum cause {
	CAUSE_REFUSED,		/* nothing listens there (yet) */
	CAUSE_NO_HOST,		/* the name does not resolve (yet) */
	CAUSE_STARTING,		/* starting, stopping, recovering, full */
	CAUSE_UNREACHABLE,	/* network or server failure */
	CAUSE_TIMEOUT,		/* accepted, never answered */
	CAUSE_TLS,		/* TLS required by one side only */
	CAUSE_NOT_PG,		/* something else listens there */
	CAUSE_NO_DATABASE,
	CAUSE_NO_ROLE,
	CAUSE_AUTH,		/* wrong or missing password */
	CAUSE_REJECTED,		/* pg_hba.conf or another refusal */
	CAUSE_PARAMS,		/* the parameters themselves are wrong */
	CAUSE_LOCAL		/* out of descriptors or memory here */
};

static const struct {
	const char *what;	/* our words, NULL: the server's or libpq's */
	int code;		/* exit code; EXIT_UNAVAILABLE: retried */
	const char *hint;
} causes[] = {
	[CAUSE_REFUSED] = { "connection refused", EXIT_UNAVAILABLE,
	    "is the server running and listening there?" },
	[CAUSE_NO_HOST] = { NULL, EXIT_UNAVAILABLE, "check the host name" },
	[CAUSE_STARTING] = { NULL, EXIT_UNAVAILABLE, NULL },
	[CAUSE_UNREACHABLE] = { NULL, EXIT_UNAVAILABLE, NULL },
	[CAUSE_TIMEOUT] = { "the server accepted the connection but did "
	    "not answer", EXIT_UNAVAILABLE, NULL },
	[CAUSE_TLS] = { NULL, EXIT_CONFIG, "set sslmode in the url to what "
	    "the server expects; not retried" },
	[CAUSE_NOT_PG] = { "the server there does not speak the PostgreSQL "
	    "protocol", EXIT_CONFIG, "wrong port?; not retried" },
	[CAUSE_NO_DATABASE] = { NULL, EXIT_CONFIG,
	    "check the database name in the url; not retried" },
	[CAUSE_NO_ROLE] = { NULL, EXIT_CONFIG,
	    "check the user name in the url; not retried" },
	[CAUSE_AUTH] = { NULL, EXIT_NOPERM,
	    "authentication failed; not retried" },
	[CAUSE_REJECTED] = { NULL, EXIT_NOPERM, "refused; not retried" },
	[CAUSE_PARAMS] = { NULL, EXIT_CONFIG, "not retried" },
	[CAUSE_LOCAL] = { NULL, EXIT_OSERR, "this process is out of "
	    "descriptors or memory; not retried" },
};

/* 1 when msg contains any of the NULL-terminated words. */
static int
has_any(const char *msg, const char *const *words)
{
	for (; *words; words++)
		if (strstr(msg, *words))
			return 1;
	return 0;
}

/*
 * The cause of a failed attempt from libpq's message; started: the attempt
 * got as far as the network (else the parameters were refused up front).
 */
static enum cause
classify(PGconn *c, const char *msg, int started)
{
	static const char *const starting[] = {
		"starting up", "shutting down", "in recovery mode",
		"not yet accepting connections", "too many clients",
		"remaining connection slots", "not accepting connections",
		NULL
	};
	static const char *const not_pg[] = {
		"invalid response to SSL negotiation",
		"invalid response to GSSAPI negotiation",
		"expected authentication request from server",
		"received invalid protocol negotiation",
		"unexpected message from server during startup",
		"invalid length of startup packet",
		NULL
	};
	static const char *const tls[] = {
		"server does not support SSL", "SSL off", "no encryption",
		"SSL connection is required", "SSL error",
		"could not initiate SSL", "certificate", NULL
	};
	static const char *const refused[] = {
		"Connection refused", "No such file or directory", NULL
	};
	static const char *const local[] = {	/* strerror's, libpq's */
		"Too many open files", "Cannot allocate memory",
		"No buffer space available", "out of memory", NULL
	};

	if (strstr(msg, "password authentication failed") ||
	    strstr(msg, "no password supplied") ||
	    strstr(msg, "authentication failed for user") ||
	    PQconnectionNeedsPassword(c))
		return CAUSE_AUTH;
	if (strstr(msg, "database \"") && strstr(msg, "\" does not exist"))
		return CAUSE_NO_DATABASE;
	if (strstr(msg, "role \"") && strstr(msg, "\" does not exist"))
		return CAUSE_NO_ROLE;
	if (has_any(msg, starting))
		return CAUSE_STARTING;
	if (has_any(msg, tls))
		return CAUSE_TLS;
	if (has_any(msg, not_pg))
		return CAUSE_NOT_PG;
	if (strstr(msg, "could not translate host name"))
		return CAUSE_NO_HOST;
	if (has_any(msg, local))
		return CAUSE_LOCAL;
	if (has_any(msg, refused))
		return CAUSE_REFUSED;
	if (strstr(msg, "no pg_hba.conf entry") || strstr(msg, "FATAL:"))
		return CAUSE_REJECTED;
	if (!started)
		return CAUSE_PARAMS;
	return CAUSE_UNREACHABLE;
}

/*
 * The part of libpq's message worth showing: its last line, without the
 * "connection to server at ..., port N failed: " and "FATAL:  " prefixes
 * (we name the host and port ourselves), with every password of url
 * masked (a parameter error may quote a value).  Caller frees.
 */
static char *
failure_text(const char *url, const char *msg)
{
	char *buf = xstrdup(msg ? msg : ""), *line, *p;
	size_t n = strlen(buf);

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	p = strstr(line, " failed: ");
	if (p && strncmp(line, "connection to server", 20) == 0)
		line = p + 9;
	if (strncmp(line, "FATAL:", 6) == 0 || strncmp(line, "ERROR:", 6) == 0)
		line += 6 + strspn(line + 6, " ");
	p = xstrdup(line);
	free(buf);
	return mask_conninfo_secrets(url ? url : "", p);
}

/*
 * Where the attempt went, for messages: "HOST:PORT", or "socket PATH" for
 * a unix socket.  Caller frees.
 */
static char *
target(PGconn *c)
{
	const char *h = c ? PQhost(c) : NULL, *p = c ? PQport(c) : NULL;

	if (!p || !*p)
		p = "5432";
	if (!h || !*h)
		return xasprintf("(libpq defaults), port %s", p);
	if (*h == '/' || *h == '@')
		return xasprintf("socket \"%s/.s.PGSQL.%s\"", h, p);
	if (strchr(h, ':'))
		return xasprintf("[%s]:%s", h, p);
	return xasprintf("%s:%s", h, p);
}

/*
 * The one line for a URL PQconninfoParse rejects.  libpq's message quotes
 * the offending token or the whole URL, password included, so it is never
 * shown: we name what is wrong instead.
 */
static const char *
url_problem(const char *url, const char *msg)
{
	const char *scheme = strstr(url, "://");

	if (scheme && strncmp(url, "postgres://", 11) != 0 &&
	    strncmp(url, "postgresql://", 13) != 0)
		return "unsupported scheme (use postgres:// or "
		    "postgresql://)";
	if (!msg)
		return "out of memory";
	if (strstr(msg, "percent-encoded"))
		return "invalid percent-encoding (a '%' must be followed by "
		    "two hex digits; write a literal '%' as %25)";
	if (strstr(msg, "IPv6"))
		return "invalid host: an IPv6 address needs its closing ']'";
	if (strstr(msg, "URI query parameter") ||
	    strstr(msg, "key/value separator"))
		return "invalid query parameter (expected key=value after "
		    "'?', separated by '&')";
	if (strstr(msg, "invalid connection option") ||
	    strstr(msg, "invalid URI query parameter"))
		return "unrecognized connection option";
	if (strstr(msg, "unterminated quoted string"))
		return "unterminated quoted string";
	if (strstr(msg, "missing \"=\""))
		return "missing \"=\" after a keyword (key=value pairs, or "
		    "a postgres:// URL)";
	if (strstr(msg, "URI"))
		return "invalid URL";
	return "invalid connection string";
}

/* 1 when every comma-separated port of value is a number in 1..65535. */
static int
ports_valid(const char *value)
{
	char *copy = xstrdup(value), *tok, *save = NULL;
	long port;
	int ok = 1;

	for (tok = strtok_r(copy, ",", &save); tok && ok;
	    tok = strtok_r(NULL, ",", &save))
		ok = parse_long(tok, 1, 65535, &port) == 0;
	free(copy);
	return ok;
}

/*
 * Check that url parses as libpq will read it; log one line naming what
 * is wrong (never libpq's text, never the password) and return
 * EXIT_CONFIG when not.
 */
static int
check_url(const char *url)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	int code = 0;

	if (!url || !*url)
		return 0;
	opts = PQconninfoParse(url, &msg);
	if (!opts) {
		log_error("invalid database url: %s", url_problem(url, msg));
		PQfreemem(msg);
		return EXIT_CONFIG;
	}
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "port") == 0 && o->val && *o->val &&
		    !ports_valid(o->val)) {
			log_error("invalid database url: invalid port (a "
			    "number from 1 to 65535)");
			code = EXIT_CONFIG;
		}
	PQconninfoFree(opts);
	return code;
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

/* How one attempt ended, besides its PGconn. */
struct attempt {
	int signo;		/* a stop signal arrived */
	int timed_out;		/* the deadline passed first */
	int started;		/* got past the parameters */
};

/*
 * One connection attempt, always non-blocking: PQconnectStartParams and
 * PQconnectPoll driven by poll() on the socket and the signalfd, so that
 * a server that accepts but never answers costs at most deadline, and a
 * TERM/INT/HUP/QUIT is acted on at once (a->signo).  Idle work runs
 * whenever the server has not answered yet: while it forks and
 * authenticates the backend, a no-op migrate reads and hashes its files.
 * Return the PGconn (NULL when out of memory); CONNECTION_OK or not.
 * libpq resolves host names inside PQconnectPoll (getaddrinfo blocks),
 * which we cannot interrupt; everything after that can be.
 */
static PGconn *
connect_once(struct db *db, const struct db_options *o, long long deadline,
    struct attempt *a)
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
	struct pollfd p[2];
	long long left;
	size_t n;
	int r, np;

	memset(a, 0, sizeof(*a));
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
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectStartParams(keys, vals, 1);
	if (!c)
		return NULL;
	/* a socket or a resolved host means the parameters were accepted */
	a->started = PQsocket(c) >= 0 || PQstatus(c) != CONNECTION_BAD;
	if (PQstatus(c) == CONNECTION_BAD)
		return c;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		/* Past the deadline the socket is still looked at once: on a
		   loaded machine we may be scheduled late, and a refusal that
		   is already there must not read as "did not answer". */
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		p[0].fd = PQsocket(c);
		p[0].events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		p[0].revents = 0;
		np = 1;
		if (sig_fd() >= 0) {
			p[1].fd = sig_fd();
			p[1].events = POLLIN;
			p[1].revents = 0;
			np = 2;
		}
		r = poll(p, (nfds_t)np, db->idle ? 0 :
		    (int)(left < 1000 ? left : 1000));
		if (r < 0 && errno != EINTR)
			break;
		a->signo = stop_signal();
		if (a->signo)
			break;
		if (r <= 0 || !(p[0].revents)) {
			if (left == 0) {
				a->timed_out = 1;
				break;
			}
			if (db->idle)
				run_idle(db);
			if (db->idle_failed)
				break;
			continue;
		}
		st = PQconnectPoll(c);
	}
	return c;
}

/*
 * Log why we gave up on connecting (one line, host and port, never the
 * password) and return the exit code.  waited_ms > 0: we retried for that
 * long.
 */
static int
connect_failed(const struct db_options *o, PGconn *c, enum cause why,
    long waited_ms)
{
	char *where = target(c), *text;
	const char *what = causes[why].what, *hint = causes[why].hint;

	text = failure_text(o->url, c ? PQerrorMessage(c) : "");
	if (!what)
		what = *text ? text : "unknown error";
	if (causes[why].code == EXIT_UNAVAILABLE && waited_ms > 0)
		log_error("database not reachable within %ld ms at %s: %s%s%s%s",
		    waited_ms, where, what, hint ? " (" : "", hint ? hint : "",
		    hint ? ")" : "");
	else if (causes[why].code == EXIT_UNAVAILABLE)
		log_error("database not reachable at %s: %s%s%s%s", where,
		    what, hint ? " (" : "", hint ? hint : "",
		    hint ? ")" : "");
	else
		log_error("could not connect to the database at %s: %s%s%s%s",
		    where, what, hint ? " (" : "", hint ? hint : "",
		    hint ? ")" : "");
	free(text);
	free(where);
	return causes[why].code;
}

int
db_open(struct db *db, const struct db_options *o)
{
	long long t0 = now_ms(), deadline;
	long backoff = 100, left;
	struct attempt a;
	enum cause why;
	char *ident, *text;
	int code, s, r = 0;

	memset(db, 0, sizeof(*db));
	db->idle = o->idle;
	db->idle_arg = o->idle_arg;
	code = check_url(o->url);
	if (code)
		return code;
	/* wait = 0 still gives the one attempt CONNECT_ONCE_MS */
	deadline = t0 + (o->wait_ms > 0 ? o->wait_ms : CONNECT_ONCE_MS);
	for (;;) {
		/* an attempt that starts at the deadline still gets a
		   moment, so the last message says what the server did */
		db->conn = connect_once(db, o, deadline > now_ms() +
		    ATTEMPT_MIN_MS ? deadline : now_ms() + ATTEMPT_MIN_MS, &a);
		db->round_trips++;
		if (a.signo) {
			log_info("received SIG%s while connecting to the "
			    "database", signal_name(a.signo));
			db_close(db);
			return EXIT_SIGNAL_BASE + a.signo;
		}
		/* the idle work failed: no need to go on (or to wait) */
		while (db->idle && !db->idle_failed && db->conn &&
		    PQstatus(db->conn) != CONNECTION_OK)
			run_idle(db);
		if (db->idle_failed) {
			db_close(db);
			return -1;
		}
		if (!db->conn) {
			log_error("could not connect to the database: out of "
			    "memory");
			return EXIT_OSERR;
		}
		if (PQstatus(db->conn) == CONNECTION_OK)
			break;
		why = a.timed_out ? CAUSE_TIMEOUT :
		    classify(db->conn, PQerrorMessage(db->conn), a.started);
		left = (long)(deadline - now_ms());
		if (causes[why].code != EXIT_UNAVAILABLE || o->wait_ms <= 0 ||
		    left <= 0) {
			code = connect_failed(o, db->conn, why,
			    o->wait_ms > 0 && causes[why].code ==
			    EXIT_UNAVAILABLE ? o->wait_ms : 0);
			db_close(db);
			return code;
		}
		text = failure_text(o->url, PQerrorMessage(db->conn));
		log_debug("could not connect yet (%s), retrying in %ld ms",
		    text, backoff < left ? backoff : left);
		free(text);
		PQfinish(db->conn);
		db->conn = NULL;
		s = db_sleep(backoff < left ? backoff : left);
		if (s) {
			log_info("received SIG%s while waiting for the "
			    "database", signal_name(s));
			return EXIT_SIGNAL_BASE + s;
		}
		backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
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
	if (o->statement_timeout_ms > 0) {
		char ms[24];
		const char *params[1] = { ms };

		snprintf(ms, sizeof(ms), "%ld", o->statement_timeout_ms);
		r = db_exec(db, "could not set a secure search_path",
		    SECURE_BOUNDED_SQL, 1, params);
	} else if (!o->keep_search_path) {
		r = db_exec(db, "could not set a secure search_path",
		    SECURE_SEARCH_PATH_SQL, 0, NULL);
	}
	if (r < 0) {
		db_close(db);
		return EXIT_UNAVAILABLE;
	}
	return 0;
}

int
db_connect(struct db *db, const char *url, const char *schema, long wait_ms,
    const char *command)
{
	return db_connect_bounded(db, url, schema, wait_ms, command, 0);
}

int
db_connect_bounded(struct db *db, const char *url, const char *schema,
    long wait_ms, const char *command, long statement_timeout_ms)
{
	struct db_options o;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.schema = schema;
	o.wait_ms = wait_ms;
	o.command = command;
	o.statement_timeout_ms = statement_timeout_ms;
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
	if (poll(p, (nfds_t)n, db->idle ? 0 : db->tick_ms > 0 ?
	    (int)db->tick_ms : 1000) < 0 && errno != EINTR)
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
