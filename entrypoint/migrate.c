/*
 * migrate.c - SQL migrations through libpq; see migrate.h and DESIGN.md
 * "Migrations".
 *
 * The migrations directory ([database] migrations, default "migrations") is
 * relative to the working directory, the image's WORKDIR, like
 * ./entrypoint.ini.
 *
 * A run: read the files and their checksums (before connecting, so a bad
 * file changes nothing), connect, then in one round trip try the session
 * advisory lock and read what is applied.  Waiters poll the lock with
 * pg_try_advisory_lock and back off instead of blocking in
 * pg_advisory_lock: a blocked waiter sits in a transaction, and the
 * holder's CREATE INDEX CONCURRENTLY would wait for it forever.
 *
 * A transactional migration is one pipeline, one round trip:
 *	BEGIN; RESET ALL; SET LOCAL lock_timeout; <statements>;
 *	INSERT its record; COMMIT
 * so the migration and its record commit together or not at all.  A
 * transaction:false migration is recorded "running" first, its statements
 * run one by one, then the record says "succeeded" or "failed"; a failed or
 * still running one blocks later runs until `migrate resolve`.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "mask.h"
#include "migrate.h"
#include "sqlfile.h"
#include "util.h"

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

/* One migration: its file, its record, or both. */
struct mig {
	struct sqlfile f;	/* f.path NULL: no file (missing) */
	int has_file;
	int has_row;
	/* the record: pointers into migrate.rows */
	const char *row_name;
	const char *row_checksum;	/* NULL: a baseline marker */
	const char *status;	/* succeeded running failed baseline */
	const char *applied_at;
	const char *release;
	const char *error;
};

struct migrate {
	const struct config *cfg;
	const char *dir;
	struct db db;
	int connected;
	struct mig *m;
	size_t n, cap;
	int files_listed, files_code;
	size_t nfiles, nread;	/* files listed, files read so far */
	int full_rows;		/* read applied_at and release (status) */
	PGresult *rows;		/* what is applied (struct mig points here) */
	char run_id[40];
	struct audit_run *audit;	/* the run's row, on our session */
	int audit_started;
	char lock_timeout[32];	/* ddl_lock_timeout for set_config */
	const char *settings[2];	/* its parameters */
	int tty;
	/* progress */
	const struct mig *cur;
	long long cur_start;
	int ticked;
	/* the statements of our own, with "@S@" replaced */
	char *q_applied, *q_record, *q_running, *q_end, *q_forget;
};

enum state { ST_PENDING, ST_APPLIED, ST_CHANGED, ST_MISSING, ST_FAILED,
	ST_RUNNING, ST_BASELINE };
static const char *const state_name[] = { "pending", "applied", "changed",
	"missing", "failed", "running", "baseline" };

static enum state
mig_state(const struct mig *m)
{
	if (!m->has_row)
		return ST_PENDING;
	if (strcmp(m->status, "failed") == 0)
		return ST_FAILED;
	if (strcmp(m->status, "running") == 0)
		return ST_RUNNING;
	if (!m->row_checksum)
		return ST_BASELINE;	/* a marker: no file expected */
	if (!m->has_file)
		return ST_MISSING;
	if (strcmp(m->row_checksum, m->f.checksum) != 0)
		return ST_CHANGED;
	return strcmp(m->status, "baseline") == 0 ? ST_BASELINE : ST_APPLIED;
}

/* "0003_add_users" or, without a file, "3_add_users". */
static const char *
mig_label(const struct mig *m)
{
	static char buf[2][256];
	static int k;

	k ^= 1;
	if (m->has_file)
		snprintf(buf[k], sizeof(buf[k]), "%s_%s", m->f.version_str,
		    m->f.name);
	else
		snprintf(buf[k], sizeof(buf[k]), "%lld_%s", m->f.version,
		    m->row_name ? m->row_name : "");
	return buf[k];
}

static void
mig_release(struct mig *m)
{
	sqlfile_release(&m->f);
}

static void
migrate_release(struct migrate *mg)
{
	size_t i;

	for (i = 0; i < mg->n; i++)
		mig_release(&mg->m[i]);
	free(mg->m);
	mg->m = NULL;
	mg->n = mg->cap = 0;
	PQclear(mg->rows);
	mg->rows = NULL;
	if (mg->connected)
		db_close(&mg->db);
	mg->connected = 0;
	free(mg->q_applied);
	free(mg->q_record);
	free(mg->q_running);
	free(mg->q_end);
	free(mg->q_forget);
	mg->q_applied = mg->q_record = mg->q_running = mg->q_end =
	    mg->q_forget = NULL;
}

/* A new zeroed entry at the end of mg->m (grown geometrically). */
static struct mig *
mig_push(struct migrate *mg)
{
	struct mig *m;

	if (mg->n == mg->cap) {
		mg->cap = mg->cap ? 2 * mg->cap : 64;
		mg->m = xrealloc(mg->m, mg->cap * sizeof(*mg->m));
	}
	m = &mg->m[mg->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

static int
mig_cmp(const void *a, const void *b)
{
	const struct mig *x = a, *y = b;

	return x->f.version < y->f.version ? -1 :
	    x->f.version > y->f.version;
}

static struct mig *
find_version(struct migrate *mg, long long v)
{
	struct mig key;

	memset(&key, 0, sizeof(key));
	key.f.version = v;
	return bsearch(&key, mg->m, mg->n, sizeof(*mg->m), mig_cmp);
}

/* ---- files ------------------------------------------------------------- */

struct entry {
	long long version;
	char *version_str, *name, *fname;
	enum sqlfile_kind kind;
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void
entries_free(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].version_str);
		free(e[i].name);
		free(e[i].fname);
	}
	free(e);
}

/*
 * List the migration files of dir, sorted.  Return 0, EXIT_CONFIG (no
 * such directory) or EXIT_DATAERR (a name that does not parse), after
 * logging.
 */
static int
list_dir(const char *dir, struct entry **out, size_t *nout)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct entry *e = NULL, x;
	size_t n = 0, cap = 0;
	char err[512];
	int r, code = 0;

	*out = NULL;
	*nout = 0;
	if (!d) {
		r = errno;
		log_errno("cannot open migrations directory \"%s\"", dir);
		/* out of descriptors or memory is the system's, not config */
		return r == EMFILE || r == ENFILE || r == ENOMEM ? EXIT_OSERR :
		    EXIT_CONFIG;
	}
	while ((de = readdir(d)) != NULL) {
		memset(&x, 0, sizeof(x));
		r = sqlfile_parse_name(de->d_name, &x.version, &x.version_str,
		    &x.name, &x.kind, err, sizeof(err));
		if (r == 0)
			continue;
		if (r < 0) {
			log_error("%s/%s: %s", dir, de->d_name, err);
			code = EXIT_DATAERR;
			continue;
		}
		x.fname = xstrdup(de->d_name);
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			e = xrealloc(e, cap * sizeof(*e));
		}
		e[n++] = x;
	}
	closedir(d);
	if (n)
		qsort(e, n, sizeof(*e), entry_cmp);
	*out = e;
	*nout = n;
	return code;
}

/*
 * List the migration files and group them into migrations (names only:
 * duplicates and unmatched .down.sql files are found before anything
 * else).  files_step() reads them afterwards.  Return 0, EXIT_CONFIG or
 * EXIT_DATAERR, after logging; also kept in files_code.
 */
static int
list_files(struct migrate *mg)
{
	struct entry *e;
	size_t ne, i, j;
	struct mig *m;
	int code = list_dir(mg->dir, &e, &ne);

	mg->files_listed = 1;
	for (i = 0; i < ne; i = j) {
		j = i + 1;
		while (j < ne && e[j].version == e[i].version)
			j++;
		if (j - i > 2 || (j - i == 2 && (e[i].kind != SQLFILE_UP ||
		    e[i + 1].kind != SQLFILE_DOWN ||
		    strcmp(e[i].name, e[i + 1].name) != 0 ||
		    strcmp(e[i].version_str, e[i + 1].version_str) != 0))) {
			log_error("duplicate migration version %lld: \"%s/%s\" "
			    "and \"%s/%s\"", e[i].version, mg->dir,
			    e[i].fname, mg->dir, e[i + 1].fname);
			code = EXIT_DATAERR;
			continue;
		}
		if (e[i].kind == SQLFILE_DOWN) {
			log_error("\"%s/%s\" has no matching .up.sql file",
			    mg->dir, e[i].fname);
			code = EXIT_DATAERR;
			continue;
		}
		if (code)
			continue;
		m = mig_push(mg);
		m->has_file = 1;
		m->f.version = e[i].version;
		m->f.version_str = e[i].version_str;
		m->f.name = e[i].name;
		e[i].version_str = e[i].name = NULL;
		m->f.path = xasprintf("%s/%s", mg->dir, e[i].fname);
		m->f.down_path = j - i == 2 ? xasprintf("%s/%s", mg->dir,
		    e[i + 1].fname) : NULL;
	}
	entries_free(e, ne);
	mg->nfiles = mg->n;
	mg->files_code = code;
	return code;
}

/*
 * Read and hash the next few files.  Return 1 while files remain (db idle
 * work: it runs while the server has not answered yet), else 0.
 */
static int
files_step(void *arg)
{
	struct migrate *mg = arg;
	char err[512];
	size_t stop = mg->nread + 16;

	if (!mg->files_listed)
		return list_files(mg) ? -1 : mg->nfiles > 0;

	for (; mg->nread < mg->nfiles && mg->nread < stop; mg->nread++) {
		struct sqlfile *f = &mg->m[mg->nread].f;

		if (sqlfile_read(f, f->path, f->down_path, err,
		    sizeof(err)) < 0) {
			int e = errno;

			log_error("%s", err);
			/* Out of descriptors or memory: the system's fault
			 * (71, retry), and the next files would say the
			 * same; stop at the first. */
			if (e == EMFILE || e == ENFILE || e == ENOMEM ||
			    e == EIO) {
				mg->files_code = EXIT_OSERR;
				mg->nread = mg->nfiles;
				return 0;
			}
			mg->files_code = EXIT_DATAERR;
		}
	}
	return mg->nread < mg->nfiles;
}

/* Read what files_step() has not read yet; return files_code. */
static int
files_finish(struct migrate *mg)
{
	if (!mg->files_listed && list_files(mg))
		return mg->files_code;
	while (files_step(mg))
		;
	return mg->files_code;
}

/* ---- database -------------------------------------------------------- */


static void
progress_clear(struct migrate *mg)
{
	if (mg->ticked) {
		(void)write_all(2, "\r\033[K", 4);
		mg->ticked = 0;
	}
}

/* db tick: while a statement runs long on a terminal, show the time. */
static void
progress_tick(void *arg)
{
	struct migrate *mg = arg;
	char line[320];
	int n;

	if (!mg->tty || !mg->cur)
		return;
	n = snprintf(line, sizeof(line), "\r\033[Kentrypoint: migrate: "
	    "applying %s ... %llds", mig_label(mg->cur),
	    (now_ms() - mg->cur_start) / 1000);
	if (n > 0)
		(void)write_all(2, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
	mg->ticked = 1;
}

static int
connect_db(struct migrate *mg)
{
	struct db_options o;
	const char *url = config_database_url(mg->cfg);
	int code;

	if (!url) {
		log_error("no database url: set [database] url (e.g. url = "
		    "${DATABASE_URL}) or DATABASE_URL");
		return EXIT_CONFIG;
	}
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.schema = mg->cfg->database.schema;
	o.command = "migrate";
	o.wait_ms = mg->cfg->database.wait_ms;
	o.keep_search_path = 1;
	if (!mg->files_listed || mg->nread < mg->nfiles) {
		o.idle = files_step;
		o.idle_arg = mg;
	}
	code = db_open(&mg->db, &o);
	if (code) {
		(void)files_finish(mg);
		if (mg->files_code)
			return mg->files_code;
		return code < 0 ? EXIT_SOFTWARE : code;
	}
	mg->connected = 1;
	/* The audit row goes through this session (before the progress
	 * hook is set): one connection for the whole run. */
	if (mg->audit && !mg->audit_started) {
		code = audit_begin_on(mg->cfg, mg->audit, &mg->db);
		if (code)
			return code;
		mg->audit_started = 1;
		snprintf(mg->run_id, sizeof(mg->run_id), "%s",
		    mg->audit->id);
	}
	mg->db.tick = progress_tick;
	mg->db.tick_arg = mg;
	mg->q_applied = db_sql(&mg->db, mg->full_rows ? sql_applied :
	    sql_applied_light);
	mg->q_record = db_sql(&mg->db, sql_record);
	mg->q_running = db_sql(&mg->db, sql_record_running);
	mg->q_end = db_sql(&mg->db, sql_record_end);
	mg->q_forget = db_sql(&mg->db, sql_forget);
	snprintf(mg->lock_timeout, sizeof(mg->lock_timeout), "%ldms",
	    mg->cfg->database.ddl_lock_timeout_ms);
	return 0;
}

/* The exit code for a failed statement of our own. */
static int
own_failure(struct migrate *mg, const char *what,
    const struct db_outcome *o)
{
	if (o->signo)
		return EXIT_SIGNAL_BASE + o->signo;
	log_error("%s: %s", what, o->message ? o->message :
	    db_error(&mg->db));
	if (o->lost)
		return EXIT_UNAVAILABLE;
	if (strcmp(o->sqlstate, "42501") == 0)
		return EXIT_NOPERM;
	return EXIT_SOFTWARE;
}

/*
 * Attach the rows of sql_applied to the files; add rows without files.
 * Takes r: the entries point into it until migrate_release() or
 * forget_rows().
 */
static int
merge_rows(struct migrate *mg, PGresult *r)
{
	int i, rows = PQntuples(r);
	long v;
	struct mig *m;
	size_t nfiles = mg->n;

	PQclear(mg->rows);
	mg->rows = r;

	for (i = 0; i < rows; i++) {
		if (parse_long(PQgetvalue(r, i, 0), 0, LONG_MAX, &v) < 0)
			return log_error("invalid version \"%s\" in %s."
			    "migrations", PQgetvalue(r, i, 0), mg->db.schema);
		m = NULL;
		if (nfiles) {
			struct mig key;

			memset(&key, 0, sizeof(key));
			key.f.version = v;
			m = bsearch(&key, mg->m, nfiles, sizeof(*m), mig_cmp);
		}
		if (!m) {
			m = mig_push(mg);
			m->f.version = v;
		}
		m->has_row = 1;
		m->row_name = PQgetvalue(r, i, 1);
		m->row_checksum = PQgetisnull(r, i, 2) ? NULL :
		    PQgetvalue(r, i, 2);
		m->status = PQgetvalue(r, i, 3);
		m->applied_at = PQgetvalue(r, i, 4);
		m->release = PQgetvalue(r, i, 5);
		m->error = PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6);
	}
	if (mg->n > nfiles)
		qsort(mg->m, mg->n, sizeof(*mg->m), mig_cmp);
	return 0;
}

/* Log who holds the migration lock, for the timeout message. */
static void
log_holder(struct migrate *mg)
{
	const char *params[1] = { mg->db.schema };
	PGresult *r = db_query(&mg->db, "could not look up the lock holder",
	    sql_holder, 1, params);

	if (r && PQntuples(r) == 1)
		log_error("the migration lock is held by server pid %s "
		    "(\"%s\", connected %s)", PQgetvalue(r, 0, 0),
		    PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
}

enum history_mode { HISTORY_READ, HISTORY_CREATE };

/*
 * Take the session advisory lock (polling, with backoff, up to
 * lock_timeout), and read what is applied in the same round trip.
 * HISTORY_CREATE creates the schema and table when missing; HISTORY_READ treats
 * a missing table as "nothing applied" and changes nothing.
 */
static int
lock_and_read(struct migrate *mg, enum history_mode mode)
{
	const char *params[1] = { mg->db.schema };
	PGresult *lock_r = NULL, *rows_r = NULL;
	struct db_stmt st[2];
	struct db_outcome o;
	long long start = now_ms();
	long backoff = 20, left;
	int got, waited = 0, s, code = 0, missing;

	memset(st, 0, sizeof(st));
	st[0].sql = sql_lock;
	st[0].nparams = 1;
	st[0].params = params;
	st[0].out = &lock_r;
	st[1].sql = mg->q_applied;
	st[1].out = &rows_r;
	for (;;) {
		lock_r = rows_r = NULL;
		db_run(&mg->db, st, 2, 1, &o);
		got = lock_r && PQntuples(lock_r) == 1 &&
		    strcmp(PQgetvalue(lock_r, 0, 0), "t") == 0;
		PQclear(lock_r);
		if (o.signo) {
			code = EXIT_SIGNAL_BASE + o.signo;
			goto out;
		}
		if (!lock_r) {
			code = own_failure(mg, "could not take the migration "
			    "lock", &o);
			goto out;
		}
		if (got)
			break;
		PQclear(rows_r);
		db_outcome_release(&o);
		left = mg->cfg->database.lock_timeout_ms -
		    (long)(now_ms() - start);
		if (left <= 0) {
			log_holder(mg);
			log_error("could not take the migration lock within "
			    "%ld ms: another migrate is running (lock_timeout "
			    "in [database])", mg->cfg->database.lock_timeout_ms);
			return EXIT_TEMPFAIL;
		}
		if (!waited)
			log_info("waiting for another migrate to finish");
		waited = 1;
		s = db_sleep(backoff < left ? backoff : left);
		if (s)
			return EXIT_SIGNAL_BASE + s;
		backoff = backoff * 3 / 2 > 1000 ? 1000 : backoff * 3 / 2;
	}
	mg->db.idle = NULL;
	if (files_finish(mg)) {
		code = mg->files_code;
		goto out;
	}
	if (rows_r) {
		if (merge_rows(mg, rows_r) < 0)
			code = EXIT_SOFTWARE;
		rows_r = NULL;
		goto out;
	}
	missing = strcmp(o.sqlstate, "42P01") == 0 ||
	    strcmp(o.sqlstate, "3F000") == 0;
	if (!missing) {
		code = own_failure(mg, "could not read the applied "
		    "migrations", &o);
		goto out;
	}
	if (mode == HISTORY_CREATE && (db_ensure_schema(&mg->db) < 0 ||
	    db_exec(&mg->db, "could not create the migrations table",
	    sql_create_table, 0, NULL) < 0))
		code = EXIT_SOFTWARE;
out:
	PQclear(rows_r);
	db_outcome_release(&o);
	return code;
}

/* Read what is applied without the lock (status, the start gate). */
static int
read_applied(struct migrate *mg)
{
	PGresult *r = NULL;
	struct db_stmt st;
	struct db_outcome o;
	int code = 0;

	memset(&st, 0, sizeof(st));
	st.sql = mg->q_applied;
	st.out = &r;
	if (db_run(&mg->db, &st, 1, 0, &o) < 0 &&
	    !(strcmp(o.sqlstate, "42P01") == 0 ||
	    strcmp(o.sqlstate, "3F000") == 0))
		code = own_failure(mg, "could not read the applied "
		    "migrations", &o);
	else if (files_finish(mg))
		code = mg->files_code;
	else if (r) {
		if (merge_rows(mg, r) < 0)
			code = EXIT_SOFTWARE;
		r = NULL;
	}
	PQclear(r);
	db_outcome_release(&o);
	return code;
}

/*
 * Changed, missing, failed or running migrations stop migrate and down:
 * log each with what to do.  Return 0 or EXIT_DATAERR.
 */
static int
check_history(struct migrate *mg)
{
	size_t i;
	int bad = 0;
	const struct mig *m;

	for (i = 0; i < mg->n; i++) {
		m = &mg->m[i];
		switch (mig_state(m)) {
		case ST_CHANGED:
			log_error("migration \"%s\" was changed after it was "
			    "applied (checksum %.12s, applied %.12s): restore "
			    "the file and put the change in a new migration",
			    m->f.path, m->f.checksum, m->row_checksum);
			bad = 1;
			break;
		case ST_MISSING:
			log_error("applied migration %s has no file in \"%s\": "
			    "the database is ahead of this image, or the file "
			    "was deleted", mig_label(m), mg->dir);
			bad = 1;
			break;
		case ST_FAILED:
		case ST_RUNNING:
			log_error("migration %s ran outside a transaction and "
			    "is recorded as %s%s%s: it may be partly applied. "
			    "Check the database, then run 'entrypoint migrate "
			    "resolve %lld --applied' if it took effect, or "
			    "undo what it did and run 'entrypoint migrate "
			    "resolve %lld --rolled-back' to run it again",
			    mig_label(m), m->status, m->error ? " (" : "",
			    m->error ? m->error : "", m->f.version,
			    m->f.version);
			if (m->error)
				log_error("(%s)", m->error);
			bad = 1;
			break;
		default:
			break;
		}
	}
	return bad ? EXIT_DATAERR : 0;
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

static void
plan_add_section(struct plan *p, const struct sql_section *sec,
    int skip_txn)
{
	size_t i;

	for (i = 0; i < sec->n; i++)
		if (!(skip_txn && sec->stmts[i].txn_control))
			plan_add(p, sec->stmts[i].sql, 0, NULL,
			    &sec->stmts[i]);
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
 * (a pg_dump file sets search_path to ''), then gets ddl_lock_timeout:
 * for its transaction (local), or for the session (transaction:false).
 */
static void
plan_settings(struct plan *p, struct migrate *mg, int local)
{
	mg->settings[0] = mg->lock_timeout;
	mg->settings[1] = local ? "true" : "false";
	plan_add(p, "RESET ALL", 0, NULL, NULL);
	plan_add(p, PQserverVersion(mg->db.conn) >= 140000 ? sql_settings14 :
	    sql_settings, 2, mg->settings, NULL);
}

/*
 * Log why a migration's statement failed and return the exit code:
 * 65 for SQL errors, 69 when the connection went away, 128+N after a
 * signal.  path is the file the section came from.
 */
static int
report_failure(struct migrate *mg, const struct mig *m, const char *path,
    const struct plan *p, const struct db_outcome *o, const char *action)
{
	const struct sql_stmt *u = NULL;
	char where[64] = "";
	const char *extra = "";
	char ddl[200];

	progress_clear(mg);
	if (o->failed >= 0 && (size_t)o->failed < p->n)
		u = p->user[o->failed];
	if (u)
		snprintf(where, sizeof(where), ":%d", error_line(u->sql,
		    u->line, o->position));
	if (strcmp(o->sqlstate, "55P03") == 0) {
		snprintf(ddl, sizeof(ddl), " (a lock it needed was still held "
		    "by another session after ddl_lock_timeout = %ld ms: "
		    "retry when the table is less busy, or raise [database] "
		    "ddl_lock_timeout)", mg->cfg->database.ddl_lock_timeout_ms);
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

/* After a failure: end an open transaction, if the session is still up. */
static void
rollback(struct migrate *mg)
{
	PGTransactionStatusType t;

	if (!mg->db.conn || PQstatus(mg->db.conn) != CONNECTION_OK)
		return;
	t = PQtransactionStatus(mg->db.conn);
	if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
		PQclear(PQexec(mg->db.conn, "ROLLBACK"));
}

static int
parse_mig(struct mig *m)
{
	char err[512];

	if (sqlfile_parse(&m->f, err, sizeof(err)) < 0)
		return log_error("%s", err);
	return 0;
}

/* Refuse a ROLLBACK in a migration that runs in our transaction. */
static int
check_txn_words(const struct mig *m, const struct sql_section *sec,
    const char *path)
{
	size_t i;

	if (sec->no_transaction)
		return 0;
	for (i = 0; i < sec->n; i++)
		if (sec->stmts[i].txn_control == 3)
			return log_error("%s:%d: ROLLBACK in migration %s: a "
			    "migration runs in one transaction; remove it, or "
			    "mark the section transaction:false", path,
			    sec->stmts[i].line, mig_label(m));
	return 0;
}

static void
log_applied(struct migrate *mg, const struct mig *m, const char *verb,
    const char *secs, long long ms, size_t i, size_t total)
{
	double d = secs ? strtod(secs, NULL) * 1000 : (double)ms;

	progress_clear(mg);
	if (d < 1000)
		log_info("%s %s in %.1f ms [%zu/%zu]", verb, mig_label(m), d,
		    i, total);
	else
		log_info("%s %s in %.2f s [%zu/%zu]", verb, mig_label(m),
		    d / 1000, i, total);
}

/* Apply one transactional migration in one round trip. */
static int
apply_tx(struct migrate *mg, struct mig *m, size_t i, size_t total)
{
	const char *params[5] = { m->f.version_str, m->f.name, m->f.checksum,
		mg->cfg->app.release ? mg->cfg->app.release : "", mg->run_id };
	struct plan p;
	struct db_outcome o;
	PGresult *rec = NULL;
	int code = 0;

	memset(&p, 0, sizeof(p));
	p.pipeline = 1;
	plan_add(&p, "BEGIN", 0, NULL, NULL);
	plan_settings(&p, mg, 1);
	plan_add_section(&p, &m->f.up, 1);
	plan_add(&p, mg->q_record, 5, params, NULL);
	p.st[p.n - 1].out = &rec;
	plan_add(&p, "COMMIT", 0, NULL, NULL);
	if (db_run(&mg->db, p.st, p.n, p.pipeline, &o) < 0 || !rec) {
		if (o.failed < 0 && !o.signo && !o.lost)
			o.failed = (long)p.n - 1;
		code = report_failure(mg, m, m->f.path, &p, &o, "apply");
		rollback(mg);
		if (code == EXIT_DATAERR)
			log_error("migration %s rolled back: nothing of it "
			    "was applied or recorded; fix the file and run "
			    "migrate again", mig_label(m));
	} else {
		log_applied(mg, m, "applied", PQgetvalue(rec, 0, 0), 0, i,
		    total);
	}
	PQclear(rec);
	db_outcome_release(&o);
	plan_free(&p);
	return code;
}

/*
 * Apply one transaction:false migration: record it as running, run the
 * statements one at a time (CREATE INDEX CONCURRENTLY cannot run in a
 * transaction block, nor in a pipeline with others), record the end.
 */
static int
apply_notx(struct migrate *mg, struct mig *m, size_t i, size_t total)
{
	const char *params[5] = { m->f.version_str, m->f.name, m->f.checksum,
		mg->cfg->app.release ? mg->cfg->app.release : "", mg->run_id };
	const char *endp[3] = { m->f.version_str, "succeeded", NULL };
	struct plan pre, p, post;
	struct db_outcome o, o2;
	PGresult *rec = NULL;
	char *msg = NULL;
	int code = 0;

	memset(&pre, 0, sizeof(pre));
	memset(&p, 0, sizeof(p));
	memset(&post, 0, sizeof(post));
	pre.pipeline = 1;
	plan_settings(&pre, mg, 0);
	plan_add(&pre, mg->q_running, 5, params, NULL);
	if (db_run(&mg->db, pre.st, pre.n, 1, &o) < 0) {
		code = own_failure(mg, "could not record the migration as "
		    "running", &o);
		db_outcome_release(&o);
		plan_free(&pre);
		return code;
	}
	db_outcome_release(&o);
	plan_add_section(&p, &m->f.up, 0);
	if (db_run(&mg->db, p.st, p.n, 0, &o) < 0) {
		code = report_failure(mg, m, m->f.path, &p, &o, "apply");
		rollback(mg);
		endp[1] = "failed";
		msg = o.signo ? xasprintf("interrupted by SIG%s",
		    signal_name(o.signo)) : xstrdup(o.message ? o.message :
		    "failed");
		endp[2] = msg;
	}
	plan_add(&post, mg->q_end, 3, endp, NULL);
	post.st[0].out = &rec;
	if (!o.lost && db_run(&mg->db, post.st, 1, 0, &o2) < 0) {
		log_error("could not record the end of migration %s: %s",
		    mig_label(m), o2.message ? o2.message : "");
		if (!code)
			code = o2.lost ? EXIT_UNAVAILABLE : EXIT_SOFTWARE;
		db_outcome_release(&o2);
	} else if (!o.lost) {
		db_outcome_release(&o2);
	}
	if (code)
		log_error("migration %s ran outside a transaction "
		    "(transaction:false) and is recorded as %s: check what "
		    "it left behind (e.g. an INVALID index), then 'entrypoint "
		    "migrate resolve %s --applied' or '--rolled-back'",
		    mig_label(m), o.lost ? "running" : "failed",
		    m->f.version_str);
	else if (rec)
		log_applied(mg, m, "applied", PQgetvalue(rec, 0, 0), 0, i,
		    total);
	PQclear(rec);
	free(msg);
	db_outcome_release(&o);
	plan_free(&pre);
	plan_free(&p);
	plan_free(&post);
	return code;
}

/* Indexes of the pending migrations, in order. */
static size_t
pending_list(struct migrate *mg, size_t **out)
{
	size_t i, n = 0;

	*out = xcalloc(mg->n + 1, sizeof(**out));
	for (i = 0; i < mg->n; i++)
		if (mg->m[i].has_file && !mg->m[i].has_row)
			(*out)[n++] = i;
	return n;
}

static long long
highest_applied(const struct migrate *mg, const struct mig **which)
{
	size_t i;

	*which = NULL;
	for (i = mg->n; i-- > 0;)
		if (mg->m[i].has_row) {
			*which = &mg->m[i];
			return mg->m[i].f.version;
		}
	return -1;
}

/*
 * The start of every command that changes the database: connect, take the
 * lock, read what is applied and stop on a changed, missing or failed one.
 * Return 0 or the exit code.
 */
static int
connect_locked(struct migrate *mg, enum history_mode history)
{
	int code = connect_db(mg);

	if (!code)
		code = lock_and_read(mg, history);
	if (!code)
		code = check_history(mg);
	return code;
}

static int
cmd_up(struct migrate *mg)
{
	size_t *pend, np, i;
	long long t0 = now_ms();
	const struct mig *top;
	int code;

	code = connect_locked(mg, HISTORY_CREATE);
	if (code)
		return code;
	np = pending_list(mg, &pend);
	for (i = 0; i < np && !code; i++) {
		struct mig *m = &mg->m[pend[i]];

		if (parse_mig(m) < 0 || check_txn_words(m, &m->f.up,
		    m->f.path) < 0)
			code = EXIT_DATAERR;
	}
	highest_applied(mg, &top);
	if (!code && np > 0 && top && mg->m[pend[0]].f.version <
	    top->f.version)
		log_warn("migration %s is older than the latest applied (%s); "
		    "applying it anyway", mig_label(&mg->m[pend[0]]),
		    mig_label(top));
	for (i = 0; i < np && !code; i++) {
		struct mig *m = &mg->m[pend[i]];

		mg->cur = m;
		mg->cur_start = now_ms();
		if (m->f.up.no_transaction)
			code = apply_notx(mg, m, i + 1, np);
		else
			code = apply_tx(mg, m, i + 1, np);
		if (!code) {
			m->has_row = 1;
			m->status = "succeeded";
			m->row_checksum = m->f.checksum;
		}
	}
	mg->cur = NULL;
	progress_clear(mg);
	highest_applied(mg, &top);
	if (code)
		log_error("stopped after %zu of %zu pending migrations "
		    "(exit %d)", i ? i - 1 : 0, np, code);
	else if (np == 0)
		log_info("nothing to apply: database at %s",
		    top ? mig_label(top) : "no migrations");
	else
		log_info("applied %zu migration%s in %lld ms: database at %s",
		    np, np == 1 ? "" : "s", now_ms() - t0,
		    top ? mig_label(top) : "no migrations");
	log_debug("%lu round trips", mg->db.round_trips);
	free(pend);
	return code;
}

/* migrate plan: apply the pending ones in one transaction, roll back. */
static int
cmd_plan(struct migrate *mg)
{
	size_t *pend, np, i;
	struct plan p;
	struct db_outcome o;
	long long t;
	int code;

	code = connect_locked(mg, HISTORY_READ);
	if (code)
		return code;
	np = pending_list(mg, &pend);
	for (i = 0; i < np && !code; i++)
		if (parse_mig(&mg->m[pend[i]]) < 0 ||
		    check_txn_words(&mg->m[pend[i]], &mg->m[pend[i]].f.up,
		    mg->m[pend[i]].f.path) < 0)
			code = EXIT_DATAERR;
	if (code || np == 0) {
		if (!code)
			printf("nothing to apply\n");
		free(pend);
		return code;
	}
	memset(&p, 0, sizeof(p));
	plan_add(&p, "BEGIN", 0, NULL, NULL);
	plan_settings(&p, mg, 1);
	if (db_run(&mg->db, p.st, p.n, 1, &o) < 0)
		code = own_failure(mg, "could not start the dry run", &o);
	db_outcome_release(&o);
	plan_free(&p);
	for (i = 0; i < np && !code; i++) {
		struct mig *m = &mg->m[pend[i]];

		if (m->f.up.no_transaction) {
			printf("skip   %s (transaction:false: cannot be tried "
			    "inside the dry run's transaction)\n",
			    mig_label(m));
			continue;
		}
		mg->cur = m;
		t = mg->cur_start = now_ms();
		memset(&p, 0, sizeof(p));
		p.pipeline = 1;
		plan_add_section(&p, &m->f.up, 1);
		if (db_run(&mg->db, p.st, p.n, p.pipeline, &o) < 0)
			code = report_failure(mg, m, m->f.path, &p, &o,
			    "apply");
		else
			printf("ok     %s (%lld ms)\n", mig_label(m),
			    now_ms() - t);
		db_outcome_release(&o);
		plan_free(&p);
	}
	mg->cur = NULL;
	progress_clear(mg);
	if (mg->db.conn && PQstatus(mg->db.conn) == CONNECTION_OK)
		PQclear(PQexec(mg->db.conn, "ROLLBACK"));
	if (code == EXIT_DATAERR)
		log_error("dry run: migrate would fail; nothing was changed");
	else if (!code)
		log_info("dry run: %zu pending migration%s would apply; "
		    "rolled back, nothing was changed", np, np == 1 ? "" : "s");
	free(pend);
	return code;
}

static int
cmd_down(struct migrate *mg, long count)
{
	struct mig **todo;
	size_t n = 0, i, k;
	struct plan p;
	struct db_outcome o;
	int code;

	code = connect_locked(mg, HISTORY_READ);
	if (code)
		return code;
	todo = xcalloc(mg->n + 1, sizeof(*todo));
	for (i = mg->n; i-- > 0 && (long)n < count;) {
		struct mig *m = &mg->m[i];

		if (!m->has_row)
			continue;
		if (!m->has_file) {
			log_error("cannot revert %s: it is a baseline marker "
			    "without a file", mig_label(m));
			code = EXIT_DATAERR;
			break;
		}
		if (parse_mig(m) < 0) {
			code = EXIT_DATAERR;
			break;
		}
		if (!m->f.down.present) {
			log_error("cannot revert %s: \"%s\" has no down "
			    "section (-- migrate:down)", mig_label(m),
			    m->f.path);
			code = EXIT_DATAERR;
			break;
		}
		if (check_txn_words(m, &m->f.down, m->f.down_path ?
		    m->f.down_path : m->f.path) < 0) {
			code = EXIT_DATAERR;
			break;
		}
		todo[n++] = m;
	}
	if (!code && n == 0)
		log_info("nothing to revert: no migration is applied");
	else if (!code && (long)n < count)
		log_info("only %zu migration%s applied: reverting %s", n,
		    n == 1 ? " is" : "s are", n == 1 ? "it" : "them");
	for (k = 0; k < n && !code; k++) {
		struct mig *m = todo[k];
		const char *v[1] = { m->f.version_str };
		const char *path = m->f.down_path ? m->f.down_path :
		    m->f.path;
		int notx = m->f.down.no_transaction;
		long long t = now_ms();

		mg->cur = m;
		mg->cur_start = t;
		memset(&p, 0, sizeof(p));
		p.pipeline = !notx;
		if (!notx) {
			plan_add(&p, "BEGIN", 0, NULL, NULL);
			plan_settings(&p, mg, 1);
		}
		plan_add_section(&p, &m->f.down, !notx);
		plan_add(&p, mg->q_forget, 1, v, NULL);
		if (!notx)
			plan_add(&p, "COMMIT", 0, NULL, NULL);
		if (db_run(&mg->db, p.st, p.n, p.pipeline, &o) < 0) {
			code = report_failure(mg, m, path, &p, &o, "revert");
			rollback(mg);
			if (notx && code == EXIT_DATAERR)
				log_error("the down section of %s ran outside "
				    "a transaction and may be partly done; its "
				    "record was kept", mig_label(m));
		} else {
			log_applied(mg, m, "reverted", NULL, now_ms() - t,
			    k + 1, n);
		}
		db_outcome_release(&o);
		plan_free(&p);
	}
	mg->cur = NULL;
	free(todo);
	return code;
}

/* Print one status line; return the state. */
static enum state
status_line(const struct migrate *mg, const struct mig *m)
{
	enum state s = mig_state(m);
	const char *label = mig_label(m);

	switch (s) {
	case ST_PENDING:
		printf("%-8s %s\n", state_name[s], label);
		break;
	case ST_APPLIED:
	case ST_BASELINE:
		printf("%-8s %-40s %s%s%s\n", state_name[s], label,
		    m->applied_at, *m->release ? "  release " : "",
		    m->release);
		break;
	case ST_CHANGED:
		printf("%-8s %-40s %s  the file differs from what was "
		    "applied\n", state_name[s], label, m->applied_at);
		break;
	case ST_MISSING:
		printf("%-8s %-40s %s  no file in %s/\n", state_name[s],
		    label, m->applied_at, mg->dir);
		break;
	case ST_FAILED:
	case ST_RUNNING:
		printf("%-8s %-40s %s  outside a transaction%s%s; see "
		    "'migrate resolve'\n", state_name[s], label,
		    m->applied_at, m->error ? ": " : "",
		    m->error ? m->error : "");
		break;
	}
	return s;
}

static int
cmd_status(struct migrate *mg, int check)
{
	size_t i, pending = 0, bad = 0;
	enum state s;
	int code;

	mg->full_rows = 1;
	code = connect_db(mg);
	if (!code)
		code = read_applied(mg);
	if (code)
		return code;
	for (i = 0; i < mg->n; i++) {
		s = status_line(mg, &mg->m[i]);
		if (s == ST_PENDING)
			pending++;
		else if (s != ST_APPLIED && s != ST_BASELINE)
			bad++;
	}
	if (mg->n == 0)
		printf("no migrations in %s/\n", mg->dir);
	if (bad) {
		log_error("%zu migration%s changed, missing or failed", bad,
		    bad == 1 ? " is" : "s are");
		return EXIT_DATAERR;
	}
	if (check && pending)
		return 1;
	return 0;
}

static int
cmd_baseline(struct migrate *mg, const char *version)
{
	const char *rel = mg->cfg->app.release ? mg->cfg->app.release : "";
	long long v;
	long lv;
	size_t i, n = 0, j;
	const char **params;
	char vbuf[32];
	struct plan p;
	struct db_outcome o;
	int code, exact = 0;
	char *sql;

	if (parse_long(version, 0, LONG_MAX, &lv) < 0) {
		log_error("invalid version \"%s\" (want digits)", version);
		return EXIT_USAGE;
	}
	v = lv;
	code = connect_db(mg);
	if (!code)
		code = lock_and_read(mg, HISTORY_CREATE);
	if (code)
		return code;
	for (i = 0; i < mg->n; i++)
		if (mg->m[i].has_row) {
			log_error("the database already has migration "
			    "history (%s): baseline is for adopting a database "
			    "without it", mig_label(&mg->m[i]));
			return EXIT_DATAERR;
		}
	sql = db_sql(&mg->db, sql_baseline);
	params = xcalloc(5 * (mg->n + 1), sizeof(*params));
	memset(&p, 0, sizeof(p));
	p.pipeline = 1;
	plan_add(&p, "BEGIN", 0, NULL, NULL);
	for (i = 0; i < mg->n && mg->m[i].f.version <= v; i++) {
		struct mig *m = &mg->m[i];
		const char **pp = params + 5 * n++;

		pp[0] = m->f.version_str;
		pp[1] = m->f.name;
		pp[2] = m->f.checksum;
		pp[3] = rel;
		pp[4] = mg->run_id;
		exact |= m->f.version == v;
		plan_add(&p, sql, 5, pp, NULL);
	}
	if (!exact) {
		const char **pp = params + 5 * n;

		snprintf(vbuf, sizeof(vbuf), "%lld", v);
		pp[0] = vbuf;
		pp[1] = "(baseline)";
		pp[2] = NULL;
		pp[3] = rel;
		pp[4] = mg->run_id;
		plan_add(&p, sql, 5, pp, NULL);
	}
	plan_add(&p, "COMMIT", 0, NULL, NULL);
	if (db_run(&mg->db, p.st, p.n, 1, &o) < 0) {
		code = own_failure(mg, "could not record the baseline", &o);
		rollback(mg);
	} else {
		for (j = 0; j < n; j++)
			printf("baseline %s\n", mig_label(&mg->m[j]));
		log_info("baseline at version %lld: %zu migration%s marked "
		    "applied without running", v, n, n == 1 ? "" : "s");
	}
	db_outcome_release(&o);
	plan_free(&p);
	free(params);
	free(sql);
	return code;
}

static int
cmd_resolve(struct migrate *mg, const char *version, int applied)
{
	long lv;
	struct mig *m;
	const char *params[1];
	int code;

	if (parse_long(version, 0, LONG_MAX, &lv) < 0) {
		log_error("invalid version \"%s\" (want digits)", version);
		return EXIT_USAGE;
	}
	code = connect_db(mg);
	if (!code)
		code = lock_and_read(mg, HISTORY_READ);
	if (code)
		return code;
	m = find_version(mg, lv);
	if (!m || !m->has_row || (strcmp(m->status, "failed") != 0 &&
	    strcmp(m->status, "running") != 0)) {
		log_error("migration %s is not recorded as failed or running; "
		    "nothing to resolve", version);
		return EXIT_DATAERR;
	}
	params[0] = version;
	if (db_exec(&mg->db, "could not resolve the migration", applied ?
	    sql_resolve_applied : sql_forget, 1, params) < 0)
		return EXIT_SOFTWARE;
	log_info("migration %s %s", mig_label(m), applied ?
	    "marked applied" : "forgotten: the next migrate runs it again");
	return 0;
}

static int
valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int
cmd_create(struct migrate *mg, const char *name)
{
	static const char body[] = "-- migrate:up\n\n\n-- migrate:down\n\n";
	struct entry *e = NULL;
	size_t ne = 0;
	char ver[40], *path;
	struct tm tm;
	time_t now = time(NULL);
	long long next;
	int fd, code;

	if (!valid_name(name)) {
		log_error("invalid migration name \"%s\" (letters, digits, _ "
		    "and -)", name);
		return EXIT_USAGE;
	}
	if (mkdir(mg->dir, 0755) < 0 && errno != EEXIST) {
		log_errno("could not create migrations directory \"%s\"",
		    mg->dir);
		return EXIT_OSERR;
	}
	code = list_dir(mg->dir, &e, &ne);
	if (code) {
		entries_free(e, ne);
		return code;
	}
	gmtime_r(&now, &tm);
	strftime(ver, sizeof(ver), "%Y%m%d%H%M%S", &tm);
	if (ne > 0 && strlen(e[ne - 1].version_str) != 14) {
		next = e[ne - 1].version + 1;
		snprintf(ver, sizeof(ver), "%0*lld",
		    (int)strlen(e[ne - 1].version_str), next);
	} else if (ne > 0 && strtoll(ver, NULL, 10) <= e[ne - 1].version) {
		snprintf(ver, sizeof(ver), "%lld", e[ne - 1].version + 1);
	}
	entries_free(e, ne);
	path = xasprintf("%s/%s_%s.sql", mg->dir, ver, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, body, sizeof(body) - 1) < 0) {
		log_errno("could not create migration file \"%s\"", path);
		if (fd >= 0)
			close(fd);
		free(path);
		return EXIT_OSERR;
	}
	if (close(fd) < 0) {
		log_errno("could not write migration file \"%s\"", path);
		free(path);
		return EXIT_OSERR;
	}
	printf("%s\n", path);
	free(path);
	return 0;
}

static int
finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_errno("could not write to standard output");
		return code ? code : EXIT_OSERR;
	}
	return code;
}

static int
usage(const char *msg, const char *arg)
{
	if (arg)
		log_error("%s \"%s\"", msg, mask_show(arg));
	else
		log_error("%s", msg);
	fprintf(stderr, "usage: entrypoint migrate [up | status [--check] | "
	    "plan | --dry-run | down [N] | create NAME | baseline VERSION | "
	    "resolve VERSION --applied|--rolled-back]\n");
	return EXIT_USAGE;
}

int
cmd_migrate(struct config *cfg, int argc, char **argv)
{
	struct migrate mg;
	struct audit_run ar;
	const char *sub = "up", *arg = NULL, *flag = NULL;
	int i, code, sig, dry = 0, check = 0;
	long count = 1;

	memset(&mg, 0, sizeof(mg));
	mg.cfg = cfg;
	mg.dir = cfg->database.migrations && *cfg->database.migrations ?
	    cfg->database.migrations : "migrations";
	mg.tty = isatty(2) && log_get_format() == LOG_FORMAT_TEXT;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else if (strcmp(argv[i], "--applied") == 0 ||
		    strcmp(argv[i], "--rolled-back") == 0) {
			if (flag)
				return usage("conflicting options", argv[i]);
			flag = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1])
			return usage("unrecognized option", argv[i]);
		else if (i == 1)
			sub = argv[i];
		else if (!arg)
			arg = argv[i];
		else
			return usage("unexpected argument", argv[i]);
	}
	if (dry && strcmp(sub, "up") == 0)
		sub = "plan";
	if ((check && strcmp(sub, "status") != 0) ||
	    (dry && strcmp(sub, "plan") != 0))
		return usage("option not valid here", check ? "--check" :
		    "--dry-run");
	if (flag && strcmp(sub, "resolve") != 0)
		return usage("option not valid here", flag);
	if (strcmp(sub, "up") != 0 && strcmp(sub, "plan") != 0 &&
	    strcmp(sub, "status") != 0 && strcmp(sub, "down") != 0 &&
	    strcmp(sub, "create") != 0 && strcmp(sub, "baseline") != 0 &&
	    strcmp(sub, "resolve") != 0)
		return usage("unrecognized migrate command", sub);
	if (arg && (strcmp(sub, "up") == 0 || strcmp(sub, "plan") == 0 ||
	    strcmp(sub, "status") == 0))
		return usage("unexpected argument", arg);
	if (!arg && (strcmp(sub, "create") == 0 ||
	    strcmp(sub, "baseline") == 0 || strcmp(sub, "resolve") == 0))
		return usage(strcmp(sub, "create") == 0 ? "missing NAME" :
		    "missing VERSION", NULL);
	if (strcmp(sub, "resolve") == 0 && !flag)
		return usage("resolve needs --applied or --rolled-back", NULL);
	if (strcmp(sub, "down") == 0 && arg &&
	    parse_long(arg, 1, 1000000, &count) < 0)
		return usage("invalid count", arg);
	if (strcmp(sub, "create") == 0)
		return finish_stdout(cmd_create(&mg, arg));

	/* The run id recorded with each migration; an audited run (below)
	 * records its audit row's id instead. */
	if (audit_make_id(mg.run_id, sizeof(mg.run_id)) < 0) {
		log_errno("could not make a run id");
		return EXIT_OSERR;
	}
	/* What changes the database is in the audit trail; status only
	 * reads, and plan promises a database unchanged down to pg_dump. */
	memset(&ar, 0, sizeof(ar));
	ar.command = "migrate";
	ar.argv = argv;
	if (strcmp(sub, "status") != 0 && strcmp(sub, "plan") != 0)
		mg.audit = &ar;
	if (strcmp(sub, "up") == 0)
		code = cmd_up(&mg);
	else if (strcmp(sub, "plan") == 0)
		code = cmd_plan(&mg);
	else if (strcmp(sub, "status") == 0)
		code = cmd_status(&mg, check);
	else if (strcmp(sub, "down") == 0)
		code = cmd_down(&mg, count);
	else if (strcmp(sub, "baseline") == 0)
		code = cmd_baseline(&mg, arg);
	else
		code = cmd_resolve(&mg, arg, flag &&
		    strcmp(flag, "--applied") == 0);
	if (mg.audit_started) {
		/* TERM/INT cancel the statement and give 128+N */
		sig = code > EXIT_SIGNAL_BASE && code < EXIT_SIGNAL_BASE + 65 ?
		    code - EXIT_SIGNAL_BASE : 0;
		audit_end(cfg, &ar, code, sig, 0, sig != 0);
	}
	migrate_release(&mg);
	return finish_stdout(code);
}

/* Count pending migrations and applied ones missing from this image. */
static void
count_pending(const struct migrate *mg, size_t *pending, size_t *ahead)
{
	size_t i;

	*pending = *ahead = 0;
	for (i = 0; i < mg->n; i++) {
		enum state s = mig_state(&mg->m[i]);

		if (s == ST_PENDING || s == ST_FAILED || s == ST_RUNNING)
			(*pending)++;
		else if (s == ST_MISSING)
			(*ahead)++;
	}
}

static void
forget_rows(struct migrate *mg)
{
	size_t i, k = 0;

	for (i = 0; i < mg->n; i++) {
		if (!mg->m[i].has_file) {
			mig_release(&mg->m[i]);
			continue;
		}
		mg->m[i].row_name = mg->m[i].row_checksum = mg->m[i].status =
		    mg->m[i].applied_at = mg->m[i].release = mg->m[i].error =
		    NULL;
		mg->m[i].has_row = 0;
		mg->m[k++] = mg->m[i];
	}
	mg->n = k;
	PQclear(mg->rows);
	mg->rows = NULL;
}

int
migrate_gate(const struct config *cfg, enum require_migrations mode,
    const char *process)
{
	struct migrate mg;
	long long deadline;
	size_t pending = 0, ahead = 0;
	long backoff = 250;
	int code, s, said = 0;

	if (mode == REQUIRE_MIGRATIONS_OFF)
		return 0;
	memset(&mg, 0, sizeof(mg));
	mg.cfg = cfg;
	mg.dir = cfg->database.migrations && *cfg->database.migrations ?
	    cfg->database.migrations : "migrations";
	deadline = now_ms() + cfg->database.wait_ms;
	code = connect_db(&mg);
	for (;;) {
		if (!code)
			code = read_applied(&mg);
		if (code)
			break;
		count_pending(&mg, &pending, &ahead);
		if (ahead && !said)
			log_warn("%s: the database has %zu migration%s this "
			    "image does not have (a newer release migrated "
			    "it); starting anyway", process, ahead,
			    ahead == 1 ? "" : "s");
		said = 1;
		if (pending == 0 || mode != REQUIRE_MIGRATIONS_WAIT ||
		    now_ms() >= deadline)
			break;
		if (backoff == 250)
			log_info("%s: waiting for %zu pending migration%s "
			    "(require_migrations = wait)", process, pending,
			    pending == 1 ? "" : "s");
		s = db_sleep(backoff < deadline - now_ms() ? backoff :
		    (long)(deadline - now_ms()));
		if (s) {
			code = EXIT_SIGNAL_BASE + s;
			break;
		}
		backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
		forget_rows(&mg);
	}
	if (!code && pending) {
		if (mode == REQUIRE_MIGRATIONS_WARN) {
			log_warn("%s: %zu migration%s pending; starting anyway "
			    "(require_migrations = warn)", process, pending,
			    pending == 1 ? " is" : "s are");
		} else {
			log_error("%s: %zu migration%s pending%s: run "
			    "'entrypoint migrate' first (require_migrations = "
			    "%s)", process, pending, pending == 1 ? " is" :
			    "s are", mode == REQUIRE_MIGRATIONS_WAIT ?
			    " after waiting" : "",
			    mode == REQUIRE_MIGRATIONS_WAIT ? "wait" : "fail");
			code = EXIT_TEMPFAIL;
		}
	} else if (code && mode == REQUIRE_MIGRATIONS_WARN &&
	    code < EXIT_SIGNAL_BASE) {
		log_warn("%s: could not check the migrations; starting anyway "
		    "(require_migrations = warn)", process);
		code = 0;
	}
	migrate_release(&mg);
	return code;
}

int
migrate_check(const struct config *cfg)
{
	struct migrate mg;
	size_t pending = 0, ahead = 0, i;
	int code;

	memset(&mg, 0, sizeof(mg));
	mg.cfg = cfg;
	mg.dir = cfg->database.migrations && *cfg->database.migrations ?
	    cfg->database.migrations : "migrations";
	code = files_finish(&mg);
	for (i = 0; i < mg.n && !code; i++)
		if (parse_mig(&mg.m[i]) < 0)
			code = EXIT_DATAERR;
	if (!code)
		printf("ok  %-24s %zu files in %s/\n", "migrations", mg.n,
		    mg.dir);
	if (!code)
		code = connect_db(&mg);
	if (!code) {
		printf("ok  %-24s reachable (server %d)\n", "database",
		    PQserverVersion(mg.db.conn));
		code = read_applied(&mg);
	}
	if (!code) {
		count_pending(&mg, &pending, &ahead);
		printf("ok  %-24s %zu pending, %zu applied not in this "
		    "image\n", "pending", pending, ahead);
	}
	migrate_release(&mg);
	return code;
}
