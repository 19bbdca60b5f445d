/*
 * audit.c - the audit trail of one-off runs in <schema>.runs, exclusive task
 * locks; see audit.h.
 *
 * Everything here runs in the parent, before the child is spawned
 * (audit_begin) or after supervise_run() has returned (audit_end); nothing
 * runs inside the supervise loop, so a slow or vanished database can delay
 * the start or the end of a run, never the signals and reaping in between.
 *
 * The connection is kept open during the run only when it holds the
 * exclusive lock (the lock lives as long as the session).  Otherwise it is
 * closed before the child starts, which keeps PID 1 small, and audit_end()
 * connects again.  The end of a run is written with one upsert, so it also
 * records a run whose start could not be written (best-effort) or whose
 * connection was lost while the child ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "escape.h"
#include "exitcode.h"
#include "history.h"
#include "log.h"
#include "mask.h"
#include "record.h"
#include "util.h"

/* best-effort never holds a run longer than this for its audit row */
#define BEST_EFFORT_WAIT_MS 5000L
/* how often a waiting exclusive run asks for the lock again */
#define LOCK_POLL_MS 200L
/* secret values shorter than this are not searched for in argv */
#define SECRET_MIN_LEN 4

struct audit_priv {
	struct db db;
	int connected;
	int recorded;		/* our row is in the table */
	int output_ok;		/* <schema>.run_output holds our row:
				 * audit_end() sends the output with the
				 * row's end (audit_output_ready()) */
	int locked;		/* this session holds the exclusive lock */
	int refused;		/* best-effort met 77/78: never retry */
	int borrowed;		/* db is the caller's session: never close */
	long long t0;		/* now_ms() at audit_begin */
	char *argv_array;	/* masked argv as a text[] literal */
	char *argv_text;	/* masked argv joined with spaces, for logs */
	char *actor;		/* escaped (ESCAPE_DB) */
	char *release;		/* escaped, or NULL */
	char host[256];
	char *sql_begin;	/* audit_begin_prepare(): the INSERT */
	char *sql_output;	/* ... and the output's row */
	char bound[24];		/* stmt_bound() in ms, as text */
	const char *bound_param[1];	/* { bound } */
	const char *params[9];	/* and its parameters */
	int keeping_log;	/* audit_keep_log(): the log tee is ours */
	struct record_tail log_tail;
	char *log_kept;		/* log_tail masked, at audit_end */
};

static const char sql_table_exists[] =
	"SELECT pg_catalog.to_regclass("
	"pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.runs') "
	"IS NOT NULL";

static const char sql_create_table[] =
	"CREATE TABLE IF NOT EXISTS @S@.runs (\n"
	"	id uuid PRIMARY KEY,\n"
	"	command text NOT NULL,\n"
	"	task text,\n"
	"	argv text[] NOT NULL,\n"
	"	release text,\n"
	"	host text,\n"
	"	actor text,\n"
	"	dry_run boolean NOT NULL DEFAULT false,\n"
	"	started_at timestamptz NOT NULL DEFAULT now(),\n"
	"	finished_at timestamptz,\n"
	"	exit_code integer,\n"
	"	signal integer,\n"
	"	status text NOT NULL CHECK (status IN ('running', "
	"'succeeded', 'failed', 'timed_out', 'interrupted', 'refused'))\n"
	")";

static const char sql_create_index[] =
	"CREATE INDEX IF NOT EXISTS runs_started_at_idx "
	"ON @S@.runs (started_at DESC)";

/* $1 schema, $2 task: one key per task and schema (i.e. per app) */
static const char sql_try_lock[] =
	"SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext("
	"'entrypoint:' OPERATOR(pg_catalog.||) $1::text "
	"OPERATOR(pg_catalog.||) ':task:' OPERATOR(pg_catalog.||) $2::text))";

/* The row before the child starts: $1..$8 as sql_end, $9 status. */
static const char sql_begin[] =
	"INSERT INTO @S@.runs (id, command, task, argv, release, host, actor, "
	"dry_run, status) "
	"VALUES ($1::uuid, $2, $3, $4::text[], $5, $6, $7, $8::boolean, $9)";

/*
 * A run that never started: refused (75) or interrupted while waiting for
 * the lock; $11 is how long it waited (ms).
 */
static const char sql_never_ran[] =
	"INSERT INTO @S@.runs (id, command, task, argv, release, host, actor, "
	"dry_run, status, started_at, finished_at, exit_code) "
	"VALUES ($1::uuid, $2, $3, $4::text[], $5, $6, $7, $8::boolean, $9, "
	"now() - $11::bigint * interval '1 millisecond', now(), "
	"$10::integer)";

/*
 * The end of a run: complete the row, or write it whole when its start was
 * never recorded ($9: the run's duration in ms, for started_at).
 */
static const char sql_end[] =
	"INSERT INTO @S@.runs AS r (id, command, task, argv, release, host, "
	"actor, dry_run, started_at, finished_at, exit_code, signal, status) "
	"VALUES ($1::uuid, $2, $3, $4::text[], $5, $6, $7, $8::boolean, "
	"now() - $9::bigint * interval '1 millisecond', now(), "
	"$10::integer, $11::integer, $12) "
	"ON CONFLICT (id) DO UPDATE SET finished_at = now(), "
	"exit_code = EXCLUDED.exit_code, signal = EXCLUDED.signal, "
	"status = EXCLUDED.status";

int
audit_make_id(char *id, size_t size)
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;
	int fd, i;
	char *p = id;

	if (size < 37) {
		errno = EINVAL;
		return -1;
	}
	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(b)) {
		/* ENOSYS on old kernels: the device works everywhere */
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = read_nointr(fd, b, sizeof(b));
		close(fd);
		if (n != (ssize_t)sizeof(b)) {
			errno = EIO;
			return -1;
		}
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = "0123456789abcdef"[b[i] >> 4];
		*p++ = "0123456789abcdef"[b[i] & 15];
	}
	*p = '\0';
	return 0;
}

const char *
audit_status(int exit_code, int timed_out, int interrupted)
{
	if (timed_out)
		return "timed_out";
	if (interrupted)
		return "interrupted";
	return exit_code == 0 ? "succeeded" : "failed";
}

/* Replace every occurrence of secret in *s by MASK. */
static void
mask_value_in(char **s, const char *secret)
{
	struct strbuf sb = { NULL, 0, 0 };
	size_t len = strlen(secret);
	const char *p = *s, *q;

	if (!strstr(p, secret))
		return;
	while ((q = strstr(p, secret)) != NULL) {
		strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_addstr(&sb, MASK);
		p = q + len;
	}
	strbuf_addstr(&sb, p);
	free(*s);
	*s = strbuf_detach(&sb);
}

char **
audit_mask_argv(char *const *argv, const struct env *env)
{
	char *const *ev;
	char **out = mask_argv(argv), *name;
	const char *eq;
	size_t i;

	for (i = 0; out[i]; i++) {
		for (ev = env ? env_envp(env) : NULL; ev && *ev; ev++) {
			eq = strchr(*ev, '=');
			if (!eq || strlen(eq + 1) < SECRET_MIN_LEN)
				continue;
			name = xstrndup(*ev, (size_t)(eq - *ev));
			if (mask_name_is_secret(name))
				mask_value_in(&out[i], eq + 1);
			free(name);
		}
	}
	return out;
}

char *
audit_pg_array(char *const *argv)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *p;
	char *esc;
	size_t i;

	strbuf_addch(&sb, '{');
	for (i = 0; argv && argv[i]; i++) {
		esc = escape_dup(argv[i], ESCAPE_DB);
		if (i)
			strbuf_addch(&sb, ',');
		strbuf_addch(&sb, '"');
		for (p = esc; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addch(&sb, '\\');
			strbuf_addch(&sb, *p);
		}
		strbuf_addch(&sb, '"');
		free(esc);
	}
	strbuf_addch(&sb, '}');
	return strbuf_detach(&sb);
}

void
audit_format_duration(long long ms, char *buf, size_t size)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, size, "%lldms", ms);
	else if (ms < 60000)
		snprintf(buf, size, "%lld.%llds", ms / 1000, ms % 1000 / 100);
	else if (ms < 3600000)
		snprintf(buf, size, "%lldm%02llds", ms / 60000,
		    ms % 60000 / 1000);
	else
		snprintf(buf, size, "%lldh%02lldm", ms / 3600000,
		    ms % 3600000 / 60000);
}

/*
 * ENTRYPOINT_ACTOR, else our user's name, else "uid N", escaped for a text
 * column (bytes that are not UTF-8 would make the INSERT fail).  Caller
 * frees.
 */
static char *
find_actor(const struct config *cfg)
{
	const char *a = env_get(&cfg->env, "ENTRYPOINT_ACTOR");
	struct passwd *pw;

	if (a && *a)
		return escape_dup(a, ESCAPE_DB);
	pw = getpwuid(geteuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return escape_dup(pw->pw_name, ESCAPE_DB);
	return xasprintf("uid %ld", (long)geteuid());
}

/* How long to wait for the database: all of wait when we depend on it. */
static long
wait_for_db(const struct config *cfg, const struct audit_run *run)
{
	long w = cfg->database.wait_ms;

	if (cfg->database.audit == AUDIT_REQUIRED || run->exclusive)
		return w;
	return w < BEST_EFFORT_WAIT_MS ? w : BEST_EFFORT_WAIT_MS;
}

/*
 * How long one statement of the audit trail may take: as long as the
 * wait, never less than the best-effort bound.  A lock on <schema>.runs
 * (an ALTER TABLE, a VACUUM FULL, a forgotten transaction) must not hold
 * the run: statement_timeout.
 */
static long
stmt_bound(long wait_ms)
{
	return wait_ms > BEST_EFFORT_WAIT_MS ? wait_ms : BEST_EFFORT_WAIT_MS;
}

/* statement_timeout ($1) for the rest of the current transaction. */
static const char sql_bound_local[] =
	"SELECT pg_catalog.set_config('statement_timeout', $1, true)";

/* The statement that bounds what follows it in a pipeline (stmt_bound). */
static struct db_stmt
bound_stmt(const struct audit_priv *p)
{
	struct db_stmt st;

	memset(&st, 0, sizeof(st));
	st.sql = sql_bound_local;
	st.nparams = 1;
	st.params = p->bound_param;
	return st;
}

/* Connect for the audit trail: a session with its statements bounded. */
static int
connect_audit(const struct config *cfg, const struct audit_run *run,
    struct db *db, long wait_ms)
{
	return db_connect_bounded(db, config_database_url(cfg),
	    cfg->database.schema, wait_ms, run->command, stmt_bound(wait_ms));
}

/*
 * Write with sql (with "@S@") on p's session, bounded: a session of our
 * own has its statement_timeout; a borrowed one (migrate's) gets it for
 * this statement alone, in the same round trip (one pipeline, one
 * transaction).  Return 0, or -1 after logging "what: message".
 */
static int
exec_bounded(struct audit_priv *p, const char *what, const char *sql,
    int nparams, const char *const *params)
{
	struct db_stmt st[2];
	struct db_outcome o;
	char *text;
	int r;

	if (!p->borrowed)
		return db_exec(&p->db, what, sql, nparams, params);
	text = db_sql(&p->db, sql);
	memset(st, 0, sizeof(st));
	st[0] = bound_stmt(p);
	st[1].sql = text;
	st[1].nparams = nparams;
	st[1].params = params;
	r = db_run(&p->db, st, 2, 1, &o);
	if (r < 0)
		log_error("%s: %s", what, o.message ? o.message :
		    db_error(&p->db));
	db_outcome_release(&o);
	free(text);
	return r;
}

/*
 * Create the schema and <schema>.runs unless the table is there.  The
 * existence check comes first so that a role without CREATE can use a
 * table made by someone else; creation is serialised by the transaction
 * lock db_ensure_schema() also takes, because two concurrent CREATE ... IF
 * NOT EXISTS can still collide.
 * Return 0 or -1 after logging.
 */
static int
ensure_table(struct db *db, const char *schema)
{
	const char *params[1] = { schema };
	PGresult *r;
	int exists;

	r = db_query(db, "could not look for the audit table",
	    sql_table_exists, 1, params);
	if (!r)
		return -1;
	exists = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (exists)
		return 0;
	if (db_ensure_schema(db) < 0)
		return -1;
	if (db_exec(db, "could not create the audit table", "BEGIN", 0,
	    NULL) < 0)
		return -1;
	if (db_exec(db, "could not create the audit table",
	    "SET LOCAL client_min_messages = warning", 0, NULL) < 0 ||
	    db_exec(db, "could not create the audit table",
	    "SELECT pg_catalog.pg_advisory_xact_lock("
	    "pg_catalog.hashtext('entrypoint:audit-schema'))", 0, NULL) < 0 ||
	    db_exec(db, "could not create the audit table",
	    sql_create_table, 0, NULL) < 0 ||
	    db_exec(db, "could not create the audit table",
	    sql_create_index, 0, NULL) < 0 ||
	    db_exec(db, "could not create the audit table", "COMMIT", 0,
	    NULL) < 0) {
		(void)db_exec(db, "could not roll back", "ROLLBACK", 0, NULL);
		return -1;
	}
	return 0;
}

/* The first eight parameters every statement about run shares. */
static void
row_params(const struct config *cfg, const struct audit_run *run,
    const char **params)
{
	const struct audit_priv *p = run->priv;

	(void)cfg;
	params[0] = run->id;
	params[1] = run->command;
	params[2] = run->task;
	params[3] = p->argv_array;
	params[4] = p->release;
	params[5] = p->host;
	params[6] = p->actor;
	params[7] = run->dry_run ? "true" : "false";
}

/*
 * Record a run that never started: status "refused" or "interrupted" with
 * exit code code.  Problems are warnings (we are already refusing).
 */
static void
record_never_ran(const struct config *cfg, const struct audit_run *run,
    const char *status, int code)
{
	struct audit_priv *p = run->priv;
	const char *params[11];
	char codebuf[16], durbuf[24];

	if (cfg->database.audit == AUDIT_OFF || !p->connected)
		return;
	snprintf(codebuf, sizeof(codebuf), "%d", code);
	snprintf(durbuf, sizeof(durbuf), "%lld", now_ms() - p->t0);
	row_params(cfg, run, params);
	params[8] = status;
	params[9] = codebuf;
	params[10] = durbuf;
	if (ensure_table(&p->db, cfg->database.schema) == 0 &&
	    db_exec(&p->db, "could not record the run", sql_never_ran, 11,
	    params) == 0)
		p->recorded = 1;
}

/* Append one key, value pair of a log event and its kind (log.h). */
#define FIELD(key, kind, val) do { \
	f[n++] = (key); \
	f[n++] = (val); \
	kinds[k++] = (kind); \
} while (0)

/*
 * The one line at the start of a run, just before the child starts: the
 * run's duration counts from here, as its row's started_at.
 */
static void
log_start(const struct config *cfg, const struct audit_run *run)
{
	struct audit_priv *p = run->priv;
	const char *f[24];
	char kinds[16];
	size_t n = 0, k = 0;

	if (run->never_started)
		return;
	FIELD("event", 's', "start");
	FIELD("run_id", 's', run->id);
	FIELD("command", 's', run->command);
	if (run->task)
		FIELD("task", 's', run->task);
	FIELD("argv", 's', p->argv_text);
	FIELD("release", 's', cfg->app.release ? cfg->app.release : "");
	FIELD("actor", 's', p->actor);
	FIELD("host", 's', p->host);
	FIELD("dry_run", 'b', run->dry_run ? "true" : "false");
	f[n] = NULL;
	kinds[k] = '\0';
	log_event_typed("run started", f, kinds);
	p->t0 = now_ms();
}

/* The one line at the end of a run (or of a run that never started). */
static void
log_end(const struct config *cfg, const struct audit_run *run,
    const char *status, int exit_code, int sig, long long duration)
{
	const struct audit_priv *p = run->priv;
	const char *f[28];
	char kinds[16], codebuf[16], durbuf[24];
	size_t n = 0, k = 0;

	snprintf(codebuf, sizeof(codebuf), "%d", exit_code);
	snprintf(durbuf, sizeof(durbuf), "%lld", duration);
	FIELD("event", 's', "end");
	FIELD("run_id", 's', run->id);
	FIELD("command", 's', run->command);
	if (run->task)
		FIELD("task", 's', run->task);
	FIELD("release", 's', cfg->app.release ? cfg->app.release : "");
	FIELD("actor", 's', p->actor);
	FIELD("dry_run", 'b', run->dry_run ? "true" : "false");
	FIELD("status", 's', status);
	FIELD("exit_code", 'n', codebuf);
	if (sig > 0)
		FIELD("signal", 's', signal_name(sig));
	FIELD("duration_ms", 'n', durbuf);
	f[n] = NULL;
	kinds[k] = '\0';
	log_event_typed(strcmp(status, "refused") == 0 ? "run refused" :
	    "run finished", f, kinds);
}

static void
priv_free(struct audit_run *run)
{
	struct audit_priv *p = run->priv;

	if (!p)
		return;
	if (p->keeping_log)
		log_set_tee(NULL, NULL);
	record_tail_release(&p->log_tail);
	free(p->log_kept);
	if (p->connected && !p->borrowed)
		db_close(&p->db);
	free(p->argv_array);
	free(p->argv_text);
	free(p->actor);
	free(p->sql_begin);
	free(p->sql_output);
	free(p->release);
	free(p);
	run->priv = NULL;
}

/* Join argv with spaces. */
static char *
join_argv(char *const *argv)
{
	struct strbuf sb = { NULL, 0, 0 };
	size_t i;

	for (i = 0; argv && argv[i]; i++) {
		if (i)
			strbuf_addch(&sb, ' ');
		strbuf_addstr(&sb, argv[i]);
	}
	return strbuf_detach(&sb);
}

/*
 * Wait for the exclusive lock of run->task for up to exclusive_wait_ms,
 * asking every LOCK_POLL_MS.  The sleep is db_sleep(), so a TERM/INT/HUP/QUIT
 * from outside ends the wait.  Return 1 when we hold it,
 * 0 when it is busy past the deadline, -1 on a database error, or 2 with
 * the signal that interrupted the wait in *sigp.
 */
static int
take_lock(const struct config *cfg, struct audit_run *run, int *sigp)
{
	struct audit_priv *p = run->priv;
	const char *params[2] = { cfg->database.schema, run->task };
	long long deadline = now_ms() + run->exclusive_wait_ms, left;
	PGresult *r;
	int got, said = 0, sig;

	for (;;) {
		r = db_query(&p->db, "could not take the exclusive lock",
		    sql_try_lock, 2, params);
		if (!r)
			return -1;
		got = PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (got)
			return 1;
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		if (!said) {
			log_info("task \"%s\" is running elsewhere; waiting "
			    "up to %ld ms for its lock", run->task,
			    run->exclusive_wait_ms);
			said = 1;
		}
		sig = db_sleep(left < LOCK_POLL_MS ? (long)left :
		    LOCK_POLL_MS);
		if (sig) {
			*sigp = sig;
			return 2;
		}
	}
}

/*
 * The id and what every row of run says, in run->priv.  Return it, or NULL
 * after logging.
 */
static struct audit_priv *
begin_priv(const struct config *cfg, struct audit_run *run)
{
	struct audit_priv *p;
	char **masked;

	run->priv = NULL;
	if (audit_make_id(run->id, sizeof(run->id)) < 0) {
		log_errno("could not make a run id");
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	run->priv = p;
	p->t0 = now_ms();
	snprintf(p->bound, sizeof(p->bound), "%ld",
	    stmt_bound(wait_for_db(cfg, run)));
	p->bound_param[0] = p->bound;
	masked = audit_mask_argv(run->argv, &cfg->env);
	p->argv_array = audit_pg_array(masked);	/* escapes each */
	p->argv_text = join_argv(masked);
	strv_free(masked);
	p->actor = find_actor(cfg);
	if (cfg->app.release && *cfg->app.release)
		p->release = escape_dup(cfg->app.release, ESCAPE_DB);
	if (gethostname(p->host, sizeof(p->host)) < 0)
		p->host[0] = '\0';
	p->host[sizeof(p->host) - 1] = '\0';
	if (!escape_is_plain(p->host))
		snprintf(p->host, sizeof(p->host), "(not UTF-8)");
	return p;
}

/*
 * Connect, make sure the table exists, take the lock, write the row; see
 * audit.h.  On any return but 0 nothing is left open (cmd.c does not call
 * audit_end then).
 */
static int
begin(const struct config *cfg, struct audit_run *run, struct db *borrow)
{
	struct audit_priv *p;
	enum audit_mode mode = cfg->database.audit;
	const char *url = config_database_url(cfg), *params[9];
	int code, r, sig = 0;

	p = begin_priv(cfg, run);
	if (!p)
		return EXIT_OSERR;

	if (run->exclusive && !run->task) {
		log_error("an exclusive run needs a task name");
		priv_free(run);
		return EXIT_SOFTWARE;
	}
	if (!url) {
		if (run->exclusive) {
			log_error("task \"%s\" is exclusive, which needs "
			    "[database] url or DATABASE_URL (the lock is "
			    "held in the database)", run->task);
			priv_free(run);
			return EXIT_CONFIG;
		}
		if (mode == AUDIT_REQUIRED) {
			log_error("audit = required, but neither [database] "
			    "url nor DATABASE_URL is set: not running without "
			    "an audit record");
			priv_free(run);
			return EXIT_CONFIG;
		}
		log_start(cfg, run);
		return 0;
	}
	if (mode == AUDIT_OFF && !run->exclusive) {
		log_start(cfg, run);
		return 0;
	}

	if (borrow) {
		p->db = *borrow;
		p->borrowed = 1;
		code = 0;
	} else {
		code = connect_audit(cfg, run, &p->db, wait_for_db(cfg, run));
	}
	if (code > EXIT_SIGNAL_BASE) {
		/* a TERM/INT while waiting for the database: not started */
		priv_free(run);
		return code;
	}
	if (code != 0) {
		if (run->exclusive) {
			log_error("could not take the lock of exclusive task "
			    "\"%s\": the database is not available",
			    run->task);
			priv_free(run);
			return code;
		}
		if (mode == AUDIT_REQUIRED) {
			log_error("audit = required: not running, the audit "
			    "record cannot be written (the database is not "
			    "available)");
			priv_free(run);
			return code;
		}
		log_warn("running without an audit record (audit = "
		    "best-effort): the database is not available");
		/* A wrong password or URL will not be right at the end
		 * either: another attempt would only add a failed login. */
		p->refused = code == EXIT_NOPERM || code == EXIT_CONFIG ? code :
		    0;
		log_start(cfg, run);
		return 0;
	}
	p->connected = 1;

	if (run->exclusive) {
		r = take_lock(cfg, run, &sig);
		if (r < 0) {
			log_error("could not take the lock of exclusive task "
			    "\"%s\"", run->task);
			priv_free(run);
			return EXIT_UNAVAILABLE;
		}
		if (r == 0) {
			log_error("task \"%s\" is already running elsewhere "
			    "(exclusive = yes); not starting it", run->task);
			record_never_ran(cfg, run, "refused", EXIT_TEMPFAIL);
			log_end(cfg, run, "refused", EXIT_TEMPFAIL, 0,
			    now_ms() - p->t0);
			priv_free(run);
			return EXIT_TEMPFAIL;
		}
		if (r == 2) {
			log_error("interrupted by SIG%s while waiting for the "
			    "lock of task \"%s\"", signal_name(sig),
			    run->task);
			record_never_ran(cfg, run, "interrupted",
			    EXIT_SIGNAL_BASE + sig);
			log_end(cfg, run, "interrupted", EXIT_SIGNAL_BASE + sig,
			    0, now_ms() - p->t0);
			priv_free(run);
			return EXIT_SIGNAL_BASE + sig;
		}
		p->locked = 1;
	}

	if (mode != AUDIT_OFF && !run->never_started) {
		row_params(cfg, run, params);
		params[8] = "running";
		if (ensure_table(&p->db, cfg->database.schema) == 0 &&
		    exec_bounded(p, "could not record the run", sql_begin, 9,
		    params) == 0)
			p->recorded = 1;
		if (!p->recorded && mode == AUDIT_REQUIRED) {
			log_error("audit = required: not running, the audit "
			    "record cannot be written");
			priv_free(run);
			return EXIT_UNAVAILABLE;
		}
		if (!p->recorded)
			log_warn("running without an audit record (audit = "
			    "best-effort)");
	}
	if (!p->locked && !p->borrowed) {
		db_close(&p->db);
		p->connected = 0;
	}
	log_start(cfg, run);
	return 0;
}

int
audit_begin(const struct config *cfg, struct audit_run *run)
{
	return begin(cfg, run, NULL);
}

int
audit_begin_on(const struct config *cfg, struct audit_run *run,
    struct db *db)
{
	return begin(cfg, run, db);
}

int
audit_begin_prepare(const struct config *cfg, struct audit_run *run,
    struct db *db, struct db_stmt *st)
{
	struct audit_priv *p;

	memset(st, 0, 3 * sizeof(*st));
	run->priv = NULL;
	if (cfg->database.audit == AUDIT_OFF || run->exclusive ||
	    !config_database_url(cfg))
		return 0;
	p = begin_priv(cfg, run);
	if (!p)
		return 0;
	p->db = *db;
	p->borrowed = 1;
	p->connected = 1;
	row_params(cfg, run, p->params);
	p->params[8] = "running";
	st[0] = bound_stmt(p);
	p->sql_begin = db_sql(db, sql_begin);
	st[1].sql = p->sql_begin;
	st[1].nparams = 9;
	st[1].params = p->params;
	if (cfg->app.keep_output > 0) {	/* audit_keep_log() will keep it */
		p->sql_output = db_sql(db, history_sql_output_row);
		st[2].sql = p->sql_output;
		st[2].nparams = 1;
		st[2].params = p->params;	/* $1: the id */
	}
	return 0;
}

int
audit_begin_finish(const struct config *cfg, struct audit_run *run,
    struct db *db, int ok)
{
	struct audit_priv *p = run->priv;

	if (p && p->sql_begin && ok > 0) {
		p->recorded = 1;
		log_start(cfg, run);
		return 0;
	}
	if (p && p->sql_begin && ok < 0) {
		/* sent to a table that is there, and refused or timed out:
		 * the same again would only wait as long again */
		if (cfg->database.audit == AUDIT_REQUIRED) {
			log_error("audit = required: not running, the audit "
			    "record cannot be written");
			priv_free(run);
			return EXIT_UNAVAILABLE;
		}
		log_warn("running without an audit record (audit = "
		    "best-effort)");
		log_start(cfg, run);
		return 0;
	}
	priv_free(run);
	return begin(cfg, run, db);
}

void
audit_output_ready(struct audit_run *run)
{
	struct audit_priv *p = run->priv;

	if (p && p->recorded)
		p->output_ok = 1;
}

/*
 * 1 when the held connection still looks alive.  PQconsumeInput reads what
 * the server sent meanwhile (libpq's socket is non-blocking): a restart or
 * a terminated backend shows up here as CONNECTION_BAD without running a
 * statement that would fail with a confusing message.
 */
static int
still_connected(struct db *db)
{
	struct pollfd pfd;
	int i;

	/* a server shutting down sends its FATAL message, then EOF */
	for (i = 0; i < 8; i++) {
		if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
			return 0;
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
			return 1;
		if (!PQconsumeInput(db->conn))
			return 0;
	}
	return PQstatus(db->conn) == CONNECTION_OK;
}

/*
 * Write the end of the run on p's connection, connecting first when there
 * is none.  Return 0, or -1 after logging.
 */
static int
record_end(const struct config *cfg, struct audit_run *run,
    const char *const *params)
{
	struct audit_priv *p = run->priv;

	if (!p->connected) {
		if (connect_audit(cfg, run, &p->db, wait_for_db(cfg, run)) != 0)
			return -1;
		p->connected = 1;
	}
	if (!p->recorded && ensure_table(&p->db, cfg->database.schema) < 0)
		return -1;
	return exec_bounded(p, "could not record the end of the run",
	    sql_end, 12, params);
}

/*
 * The row's end and the kept output in one round trip, when the output's
 * row is there (audit_output_ready()) on a live connection.  Return 1 when
 * both are written; 0 (nothing written: one pipeline is one transaction)
 * for the caller to write them the ordinary way.
 */
static int
end_with_output(struct audit_run *run, const char *const *params)
{
	struct audit_priv *p = run->priv;
	struct history_out h;
	struct db_stmt st[3];
	struct db_outcome o;
	char *sql;
	int r;

	if (!p->output_ok || !p->connected || !(run->output || run->recording))
		return 0;
	sql = db_sql(&p->db, sql_end);
	memset(st, 0, sizeof(st));
	st[0] = bound_stmt(p);	/* bounded as the rest (stmt_bound) */
	st[1].sql = sql;
	st[1].nparams = 12;
	st[1].params = params;
	history_out_prepare(&p->db, run, &h);
	st[2] = h.st;
	r = db_run(&p->db, st, 3, 1, &o);
	if (r < 0)
		log_debug("the end of run %s and its output in one round trip: "
		    "%s", run->id, o.message ? o.message : "failed");
	db_outcome_release(&o);
	history_out_release(&h);
	free(sql);
	return r == 0;
}

/* The connection is gone: forget it (and the lock it held). */
static void
drop_connection(struct audit_run *run)
{
	struct audit_priv *p = run->priv;

	if (p->locked)
		log_warn("the database connection was lost during the run, "
		    "which released the lock of exclusive task \"%s\" early",
		    run->task);
	if (p->borrowed)
		memset(&p->db, 0, sizeof(p->db));
	else
		db_close(&p->db);
	p->borrowed = 0;
	p->connected = 0;
	p->locked = 0;
}

static void
log_tee(const char *line, unsigned long n, void *arg)
{
	record_tail_add(arg, line, n);
}

void
audit_keep_log(const struct config *cfg, struct audit_run *run)
{
	struct audit_priv *p = run->priv;

	if (!p || cfg->app.keep_output <= 0 || p->keeping_log)
		return;
	record_tail_init(&p->log_tail, (size_t)cfg->app.keep_output);
	log_set_tee(log_tee, &p->log_tail);
	p->keeping_log = 1;
}

/* Stop keeping the log; the kept tail, masked, becomes run's output. */
static void
take_log(const struct config *cfg, struct audit_run *run)
{
	struct audit_priv *p = run->priv;
	char **secrets, *bytes;
	size_t n;

	log_set_tee(NULL, NULL);
	p->keeping_log = 0;
	bytes = record_tail_bytes(&p->log_tail, &n);
	secrets = record_secrets(&cfg->env);
	p->log_kept = record_mask(bytes, n, secrets, &run->output_len);
	strv_free(secrets);
	free(bytes);
	run->output = p->log_kept;
	run->output_total = p->log_tail.total;
}

void
audit_end(const struct config *cfg, struct audit_run *run, int exit_code,
    int signal, int timed_out, int interrupted)
{
	struct audit_priv *p = run->priv;
	const char *status = audit_status(exit_code, timed_out, interrupted);
	const char *url = config_database_url(cfg), *params[12];
	char durbuf[24], codebuf[16], sigbuf[16];
	long long duration;
	int done = 0, stored = 0;

	if (!p)
		return;
	duration = now_ms() - p->t0;
	if (p->keeping_log)
		take_log(cfg, run);
	if (p->connected && !still_connected(&p->db))
		drop_connection(run);
	/* A borrowed session left inside a transaction (a failed migration
	 * the caller did not roll back yet) cannot take our row: use our own
	 * connection instead. */
	if (p->connected && p->borrowed &&
	    PQtransactionStatus(p->db.conn) != PQTRANS_IDLE)
		drop_connection(run);
	if (url && cfg->database.audit != AUDIT_OFF && !p->refused) {
		snprintf(durbuf, sizeof(durbuf), "%lld", duration);
		snprintf(codebuf, sizeof(codebuf), "%d", exit_code);
		snprintf(sigbuf, sizeof(sigbuf), "%d", signal);
		row_params(cfg, run, params);
		params[8] = durbuf;
		params[9] = codebuf;
		params[10] = signal > 0 ? sigbuf : NULL;
		params[11] = status;
		done = end_with_output(run, params);
		if (!done)
			done = record_end(cfg, run, params) == 0;
		else
			stored = 1;
		if (!done && p->connected &&
		    PQstatus(p->db.conn) != CONNECTION_OK) {
			/* lost without a sign before the statement: again */
			drop_connection(run);
			done = record_end(cfg, run, params) == 0;
		}
		if (!done)
			log_warn("the end of run %s is not in the audit "
			    "trail", run->id);
		else if ((run->output || run->recording) && !stored)
			history_store(&p->db, run);
		run->end_recorded = done;
	}
	log_end(cfg, run, status, exit_code, signal, duration);
	if (p->log_kept)
		run->output = NULL;	/* freed with p */
	priv_free(run);
}


void
audit_on_exit(const struct config *cfg, const struct audit_run *run,
    int code, int signal, const char *status)
{
	const char *url = config_database_url(cfg);
	struct db db;
	long w = cfg->database.wait_ms;

	if (!run->end_recorded || !url || cfg->database.audit == AUDIT_OFF)
		return;
	memset(&db, 0, sizeof(db));
	if (connect_audit(cfg, run, &db, w < BEST_EFFORT_WAIT_MS ? w :
	    BEST_EFFORT_WAIT_MS) != 0) {
		log_warn("the on_exit result of run %s is not stored",
		    run->id);
		return;
	}
	(void)history_store_on_exit(&db, run->id, code, signal, status);
	db_close(&db);
}

int
audit_recorded(const struct audit_run *run)
{
	const struct audit_priv *p = run->priv;

	return p && p->recorded;
}
