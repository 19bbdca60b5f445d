/*
 * history.c - `entrypoint history`: list the runs, show one, replay or
 * export its recording; and the table of what runs printed
 * (<schema>.run_output), written after a run by audit_end().  See history.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define HISTORY_DEFAULT 20L
#define HISTORY_MAX 100000L
/* a replay never waits longer than this between two events (ms) */
#define REPLAY_MAX_WAIT 3600000L

static const char history_usage_text[] =
	"usage: entrypoint history [-n N] [--task NAME] [--json]\n"
	"       entrypoint history show ID [--json]\n"
	"       entrypoint history replay ID [--speed N | --instant]\n"
	"       entrypoint history export ID\n";

static const char sql_table_exists[] =
	"SELECT pg_catalog.to_regclass("
	"pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.' "
	"OPERATOR(pg_catalog.||) $2) IS NOT NULL";

static const char sql_create_output[] =
	"CREATE TABLE IF NOT EXISTS @S@.run_output (\n"
	"	run_id uuid PRIMARY KEY REFERENCES @S@.runs (id) "
	"ON DELETE CASCADE,\n"
	"	output bytea,\n"
	"	output_bytes bigint,\n"
	"	recording text,\n"
	"	recording_bytes bigint,\n"
	"	on_exit_code integer,\n"
	"	on_exit_signal integer,\n"
	"	on_exit_status text\n"
	")";

/* A run_output made before on_exit's result was kept gets its columns. */
static const char sql_has_on_exit[] =
	"SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
	"pg_catalog.to_regclass(pg_catalog.quote_ident($1) "
	"OPERATOR(pg_catalog.||) '.run_output') "
	"AND attname = 'on_exit_status' AND NOT attisdropped";

static const char sql_add_on_exit[] =
	"ALTER TABLE @S@.run_output ADD COLUMN IF NOT EXISTS on_exit_code "
	"integer, ADD COLUMN IF NOT EXISTS on_exit_signal integer, "
	"ADD COLUMN IF NOT EXISTS on_exit_status text";

/* $1 run id, $2 exit code or NULL, $3 signal or NULL, $4 status */
static const char sql_store_on_exit[] =
	"INSERT INTO @S@.run_output (run_id, on_exit_code, on_exit_signal, "
	"on_exit_status) VALUES ($1::uuid, $2::integer, $3::integer, $4) "
	"ON CONFLICT (run_id) DO UPDATE SET "
	"on_exit_code = EXCLUDED.on_exit_code, "
	"on_exit_signal = EXCLUDED.on_exit_signal, "
	"on_exit_status = EXCLUDED.on_exit_status";

const char history_sql_output_row[] =
	"INSERT INTO @S@.run_output (run_id) VALUES ($1::uuid) "
	"ON CONFLICT (run_id) DO NOTHING";

static const char sql_store[] =
	"INSERT INTO @S@.run_output (run_id, output, output_bytes, recording, "
	"recording_bytes) VALUES ($1::uuid, pg_catalog.decode($2, 'hex'), "
	"$3::bigint, $4, $5::bigint) ON CONFLICT (run_id) DO UPDATE SET "
	"output = EXCLUDED.output, output_bytes = EXCLUDED.output_bytes, "
	"recording = EXCLUDED.recording, "
	"recording_bytes = EXCLUDED.recording_bytes";

/*
 * One run as the JSON object that `history --json` and `history show --json`
 * print (the same keys in both): a select-list item over @S@.runs.
 */
#define SQL_RUN_JSON \
	"json_build_object(" \
	"'id', id, 'command', command, 'task', task, 'argv', argv, " \
	"'release', release, 'host', host, 'actor', actor, " \
	"'dry_run', dry_run, " \
	"'started_at', to_char(started_at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
	"'finished_at', to_char(finished_at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), " \
	"'exit_code', exit_code, 'signal', signal, 'status', status, " \
	"'duration_ms', " \
	"(extract(epoch FROM finished_at - started_at) * 1000)::bigint" \
	")::text "

/* $1: a validated prefix (hex digits and '-') */
static const char sql_find[] =
	"SELECT id::text FROM @S@.runs WHERE id::text LIKE $1 "
	"OPERATOR(pg_catalog.||) '%' ORDER BY id LIMIT 2";

/* Columns: see enum show_col. */
static const char sql_show[] =
	"SELECT id::text, command, task, "
	"pg_catalog.array_to_string(argv, ' '), release, host, actor, "
	"dry_run, "
	"to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), "
	"to_char(finished_at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD HH24:MI:SS.MS'), "
	"(extract(epoch FROM finished_at - started_at) * 1000)::bigint, "
	"status, exit_code, signal, "
	SQL_RUN_JSON
	"FROM @S@.runs WHERE id = $1::uuid";

enum show_col { S_ID, S_COMMAND, S_TASK, S_ARGV, S_RELEASE, S_HOST,
	S_ACTOR, S_DRY_RUN, S_STARTED, S_FINISHED, S_DURATION, S_STATUS,
	S_EXIT, S_SIGNAL, S_JSON };

/*
 * Columns: output (bytea, hex text), output_bytes, recording_bytes,
 * recorded, on_exit's code, signal, status (through jsonb: NULL from a
 * table made before they existed).
 */
static const char sql_output[] =
	"SELECT output, output_bytes, recording_bytes, recording IS NOT NULL, "
	"pg_catalog.to_jsonb(o) OPERATOR(pg_catalog.->>) 'on_exit_code', "
	"pg_catalog.to_jsonb(o) OPERATOR(pg_catalog.->>) 'on_exit_signal', "
	"pg_catalog.to_jsonb(o) OPERATOR(pg_catalog.->>) 'on_exit_status' "
	"FROM @S@.run_output o WHERE run_id = $1::uuid";

static const char sql_recording[] =
	"SELECT recording FROM @S@.run_output WHERE run_id = $1::uuid "
	"AND recording IS NOT NULL";

static const char sql_migrations[] =
	"SELECT version::text, name, status FROM @S@.migrations "
	"WHERE run_id = $1 ORDER BY version";

/* $1 task or NULL, $2 limit.  Columns: see print_table(), print_json(). */
static const char sql_history[] =
	"SELECT id::text, "
	"to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
	"command, task, actor, release, status, exit_code, signal, "
	"(extract(epoch FROM finished_at - started_at) * 1000)::bigint, "
	"array_to_string(argv, ' '), "
	SQL_RUN_JSON
	"FROM @S@.runs "
	"WHERE $1::text IS NULL OR task = $1::text "
	"ORDER BY started_at DESC, id DESC LIMIT $2::bigint";


/* 1 when <schema>.name exists, 0 when not, -1 after logging. */
static int
table_exists(struct db *db, const char *name)
{
	const char *params[2] = { db->schema, name };
	PGresult *r;
	int yes;

	r = db_query(db, "could not look for a table", sql_table_exists, 2,
	    params);
	if (!r)
		return -1;
	yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return yes;
}

/*
 * Create <schema>.run_output (sql: sql_create_output) or add on_exit's
 * columns to it (sql_add_on_exit), serialised as audit.c creates runs.
 */
static int
change_output_table(struct db *db, const char *sql)
{
	const char *what = "could not create the output table";

	if (db_exec(db, what, "BEGIN", 0, NULL) < 0)
		return -1;
	if (db_exec(db, what, "SET LOCAL client_min_messages = warning", 0,
	    NULL) < 0 ||
	    db_exec(db, what, "SELECT pg_catalog.pg_advisory_xact_lock("
	    "pg_catalog.hashtext('entrypoint:audit-schema'))", 0, NULL) < 0 ||
	    db_exec(db, what, sql, 0, NULL) < 0 ||
	    db_exec(db, what, "COMMIT", 0, NULL) < 0) {
		(void)db_exec(db, "could not roll back", "ROLLBACK", 0, NULL);
		return -1;
	}
	return 0;
}

/* bytes as hex digits, for pg_catalog.decode(..., 'hex').  Caller frees. */
static char *
hex(const char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *out = xmalloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)p[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)p[i] & 0xf];
	}
	out[2 * n] = '\0';
	return out;
}

void
history_out_prepare(struct db *db, const struct audit_run *run,
    struct history_out *h)
{
	memset(h, 0, sizeof(*h));
	h->hex = run->output ? hex(run->output, run->output_len) : NULL;
	snprintf(h->total, sizeof(h->total), "%lld", run->output_total);
	snprintf(h->rtotal, sizeof(h->rtotal), "%lld", run->recording_total);
	h->params[0] = run->id;
	h->params[1] = h->hex;
	h->params[2] = run->output ? h->total : NULL;
	h->params[3] = run->recording;
	h->params[4] = run->recording ? h->rtotal : NULL;
	h->sql = db_sql(db, sql_store);
	h->st.sql = h->sql;
	h->st.nparams = 5;
	h->st.params = h->params;
}

void
history_out_release(struct history_out *h)
{
	free(h->hex);
	free(h->sql);
	memset(h, 0, sizeof(*h));
}

int
history_store(struct db *db, const struct audit_run *run)
{
	struct history_out h;
	int ex, r;

	ex = table_exists(db, "run_output");
	if (ex == 0)
		ex = change_output_table(db, sql_create_output) == 0;
	if (ex <= 0) {
		log_warn("the output of run %s is not stored", run->id);
		return -1;
	}
	history_out_prepare(db, run, &h);
	r = db_exec(db, "could not store the output of the run", sql_store, 5,
	    h.params);
	history_out_release(&h);
	if (r < 0)
		log_warn("the output of run %s is not stored", run->id);
	return r;
}

int
history_store_on_exit(struct db *db, const char *id, int code, int sig,
    const char *status)
{
	const char *params[4], *sparams[1] = { db->schema };
	char cbuf[16], sbuf[16];
	PGresult *res;
	int ex, r;

	ex = table_exists(db, "run_output");
	if (ex == 0) {
		ex = change_output_table(db, sql_create_output) == 0;
	} else if (ex > 0) {
		res = db_query(db, "could not look for a column",
		    sql_has_on_exit, 1, sparams);
		ex = res ? 1 : -1;
		if (res && PQntuples(res) == 0)
			ex = change_output_table(db, sql_add_on_exit) == 0;
		PQclear(res);
	}
	if (ex <= 0) {
		log_warn("the on_exit result of run %s is not stored", id);
		return -1;
	}
	snprintf(cbuf, sizeof(cbuf), "%d", code);
	snprintf(sbuf, sizeof(sbuf), "%d", sig);
	params[0] = id;
	params[1] = code >= 0 ? cbuf : NULL;
	params[2] = sig > 0 ? sbuf : NULL;
	params[3] = status;
	r = db_exec(db, "could not store the on_exit result of the run",
	    sql_store_on_exit, 4, params);
	if (r < 0)
		log_warn("the on_exit result of run %s is not stored", id);
	return r;
}

/* Connect for reading; return 0 or an exit code after logging. */
static int
connect_history(struct config *cfg, struct db *db)
{
	memset(db, 0, sizeof(*db));
	if (!config_database_url(cfg)) {
		log_error("no run history without a database: neither "
		    "[database] url nor DATABASE_URL is set");
		return EXIT_CONFIG;
	}
	return db_connect(db, config_database_url(cfg), cfg->database.schema,
	    cfg->database.wait_ms, "history");
}

/*
 * Find the run whose id is or starts with arg into id (size >= 37).
 * Return 0 or an exit code after logging.
 */
static int
find_run(struct db *db, const char *arg, char *id, size_t size)
{
	const char *params[1];
	char prefix[40];
	PGresult *r;
	size_t i, n = strlen(arg);
	int rows, ex;

	if (n == 0 || n > 36 || strspn(arg, "0123456789abcdefABCDEF-") != n) {
		log_error("invalid run id \"%s\": expected the id or the start "
		    "of it, as 'entrypoint history' prints", arg);
		return EXIT_USAGE;
	}
	for (i = 0; i <= n; i++)
		prefix[i] = (char)(arg[i] >= 'A' && arg[i] <= 'F' ?
		    arg[i] - 'A' + 'a' : arg[i]);
	ex = table_exists(db, "runs");
	if (ex < 0)
		return EXIT_UNAVAILABLE;
	if (ex == 0) {
		log_error("no run \"%s\": no runs recorded yet", arg);
		return EXIT_USAGE;
	}
	params[0] = prefix;
	r = db_query(db, "could not look for the run", sql_find, 1, params);
	if (!r)
		return EXIT_UNAVAILABLE;
	rows = PQntuples(r);
	if (rows == 1)
		snprintf(id, size, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (rows == 0) {
		log_error("no run \"%s\" (see 'entrypoint history')", arg);
		return EXIT_USAGE;
	}
	if (rows > 1) {
		log_error("run id \"%s\" is ambiguous: give more of it", arg);
		return EXIT_USAGE;
	}
	return 0;
}

/* The value of column c, or NULL. */
static const char *
val(PGresult *r, int c)
{
	return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

/* Decode PostgreSQL's "\x..." bytea text into a malloc'd buffer. */
static char *
unhex(const char *s, size_t *len)
{
	size_t n, i;
	char *out;
	int hi, lo;

	if (s[0] == '\\' && s[1] == 'x')
		s += 2;
	n = strlen(s) / 2;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		hi = s[2 * i] <= '9' ? s[2 * i] - '0' : (s[2 * i] | 0x20) -
		    'a' + 10;
		lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' :
		    (s[2 * i + 1] | 0x20) - 'a' + 10;
		out[i] = (char)(hi << 4 | lo);
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* What show prints, gathered from the three tables. */
struct shown {
	PGresult *run, *out, *migs;
	char *output;
	size_t output_len;
};

/* on_exit's result: "exited 3 (failed)", "killed by SIGKILL (...)", "-". */
static void
print_on_exit_text(const struct shown *s)
{
	const char *code, *sig, *status;
	long n;

	if (!s->out || PQntuples(s->out) != 1 || PQgetisnull(s->out, 0, 6)) {
		printf("on_exit:     -\n");
		return;
	}
	code = val(s->out, 4);
	sig = val(s->out, 5);
	status = val(s->out, 6);
	if (sig && parse_long(sig, 1, 255, &n) == 0)
		printf("on_exit:     %s, killed by SIG%s\n", status,
		    signal_name((int)n));
	else if (code)
		printf("on_exit:     %s, exit %s\n", status, code);
	else
		printf("on_exit:     %s\n", status);
}

static void
print_show_text(const struct shown *s)
{
	PGresult *r = s->run;
	const char *v;
	char dur[32];
	long ms, sig;
	int i;

	printf("run:         %s\n", val(r, S_ID));
	printf("command:     %s%s%s\n", val(r, S_COMMAND),
	    val(r, S_TASK) ? " " : "", val(r, S_TASK) ? val(r, S_TASK) : "");
	printf("argv:        %s\n", val(r, S_ARGV));
	printf("release:     %s\n", val(r, S_RELEASE) ? val(r, S_RELEASE) :
	    "-");
	printf("host:        %s\n", val(r, S_HOST) ? val(r, S_HOST) : "-");
	printf("actor:       %s\n", val(r, S_ACTOR) ? val(r, S_ACTOR) : "-");
	printf("dry run:     %s\n", strcmp(val(r, S_DRY_RUN), "t") == 0 ?
	    "yes" : "no");
	printf("started:     %s UTC\n", val(r, S_STARTED));
	printf("finished:    %s%s\n", val(r, S_FINISHED) ?
	    val(r, S_FINISHED) : "-", val(r, S_FINISHED) ? " UTC" : "");
	v = val(r, S_DURATION);
	if (v && parse_long(v, LONG_MIN, LONG_MAX, &ms) == 0)
		audit_format_duration(ms, dur, sizeof(dur));
	else
		snprintf(dur, sizeof(dur), "-");
	printf("duration:    %s\n", dur);
	printf("status:      %s\n", val(r, S_STATUS));
	v = val(r, S_SIGNAL);
	if (v && parse_long(v, 1, 255, &sig) == 0)
		printf("exit:        %s (signal %s)\n", val(r, S_EXIT) ?
		    val(r, S_EXIT) : "-", signal_name((int)sig));
	else
		printf("exit:        %s\n", val(r, S_EXIT) ? val(r, S_EXIT) :
		    "-");
	for (i = 0; s->migs && i < PQntuples(s->migs); i++)
		printf("%s %s %s (%s)\n", i ? "            " : "migrations: ",
		    PQgetvalue(s->migs, i, 0), PQgetvalue(s->migs, i, 1),
		    PQgetvalue(s->migs, i, 2));
	print_on_exit_text(s);
	if (s->out && PQntuples(s->out) == 1 &&
	    strcmp(PQgetvalue(s->out, 0, 3), "t") == 0)
		printf("recording:   %s bytes (entrypoint history replay "
		    "%.8s)\n", PQgetvalue(s->out, 0, 2), val(r, S_ID));
	if (s->output) {
		printf("output:      %s bytes, the last %zu kept:\n",
		    PQgetvalue(s->out, 0, 1), s->output_len);
		fwrite(s->output, 1, s->output_len, stdout);
		if (s->output_len && s->output[s->output_len - 1] != '\n')
			printf("\n");
	} else {
		printf("output:      -\n");
	}
}

static void
print_show_json(const struct shown *s)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *j = val(s->run, S_JSON);
	size_t n = strlen(j);
	int i, rec;

	strbuf_add(&sb, j, n - 1);	/* without its closing brace */
	strbuf_addstr(&sb, ", \"migrations\": [");
	for (i = 0; s->migs && i < PQntuples(s->migs); i++) {
		strbuf_addf(&sb, "%s{\"version\": %s, \"name\": \"", i ? ", " :
		    "", PQgetvalue(s->migs, i, 0));
		record_json_string(&sb, PQgetvalue(s->migs, i, 1),
		    strlen(PQgetvalue(s->migs, i, 1)));
		strbuf_addf(&sb, "\", \"status\": \"%s\"}",
		    PQgetvalue(s->migs, i, 2));
	}
	strbuf_addstr(&sb, "], \"on_exit\": ");
	if (s->out && PQntuples(s->out) == 1 && !PQgetisnull(s->out, 0, 6))
		strbuf_addf(&sb, "{\"status\": \"%s\", \"exit_code\": %s, "
		    "\"signal\": %s}", PQgetvalue(s->out, 0, 6),
		    val(s->out, 4) ? val(s->out, 4) : "null",
		    val(s->out, 5) ? val(s->out, 5) : "null");
	else
		strbuf_addstr(&sb, "null");
	strbuf_addstr(&sb, ", \"output\": ");
	if (s->output) {
		strbuf_addch(&sb, '"');
		record_json_string(&sb, s->output, s->output_len);
		strbuf_addf(&sb, "\", \"output_bytes\": %s",
		    PQgetvalue(s->out, 0, 1));
	} else {
		strbuf_addstr(&sb, "null, \"output_bytes\": null");
	}
	rec = s->out && PQntuples(s->out) == 1 &&
	    strcmp(PQgetvalue(s->out, 0, 3), "t") == 0;
	strbuf_addf(&sb, ", \"recorded\": %s, \"recording_bytes\": %s}\n",
	    rec ? "true" : "false", rec ? PQgetvalue(s->out, 0, 2) : "null");
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
}

/* entrypoint history show ID [--json] */
static int
show_run(struct db *db, const char *id, int json)
{
	const char *params[1] = { id };
	struct shown s;
	int ex;

	memset(&s, 0, sizeof(s));
	s.run = db_query(db, "could not read the run", sql_show, 1, params);
	if (!s.run || PQntuples(s.run) != 1)
		goto fail;
	ex = table_exists(db, "run_output");
	if (ex < 0)
		goto fail;
	if (ex) {
		s.out = db_query(db, "could not read the output of the run",
		    sql_output, 1, params);
		if (!s.out)
			goto fail;
		if (PQntuples(s.out) == 1 && !PQgetisnull(s.out, 0, 0))
			s.output = unhex(PQgetvalue(s.out, 0, 0),
			    &s.output_len);
	}
	ex = table_exists(db, "migrations");
	if (ex < 0)
		goto fail;
	if (ex) {
		s.migs = db_query(db, "could not read the run's migrations",
		    sql_migrations, 1, params);
		if (!s.migs)
			goto fail;
	}
	if (json)
		print_show_json(&s);
	else
		print_show_text(&s);
	PQclear(s.run);
	PQclear(s.out);
	PQclear(s.migs);
	free(s.output);
	return EXIT_OK;
fail:
	PQclear(s.run);
	PQclear(s.out);
	PQclear(s.migs);
	free(s.output);
	return EXIT_UNAVAILABLE;
}

/* The recording of run id (caller frees), or NULL after logging. */
static char *
get_recording(struct db *db, const char *id, int *code)
{
	const char *params[1] = { id };
	PGresult *r;
	char *text;
	int ex;

	*code = EXIT_UNAVAILABLE;
	ex = table_exists(db, "run_output");
	if (ex < 0)
		return NULL;
	r = ex ? db_query(db, "could not read the recording", sql_recording,
	    1, params) : NULL;
	if (ex && !r)
		return NULL;
	if (!r || PQntuples(r) != 1) {
		PQclear(r);
		log_error("run %.8s has no recording (only consoles under a "
		    "terminal are recorded)", id);
		*code = EXIT_USAGE;
		return NULL;
	}
	text = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return text;
}

/*
 * Parse the JSON string at *p (just after its opening quote) into sb;
 * leave *p after the closing quote.  Return 0, or -1 when malformed.
 */
static int
json_string(const char **p, struct strbuf *sb)
{
	const char *s = *p;
	unsigned cp, lo;
	char utf[4];
	long v;
	char digits[5];

	while (*s && *s != '"') {
		if (*s != '\\') {
			strbuf_addch(sb, *s++);
			continue;
		}
		s++;
		switch (*s) {
		case 'n': strbuf_addch(sb, '\n'); break;
		case 'r': strbuf_addch(sb, '\r'); break;
		case 't': strbuf_addch(sb, '\t'); break;
		case 'b': strbuf_addch(sb, '\b'); break;
		case 'f': strbuf_addch(sb, '\f'); break;
		case '"': case '\\': case '/': strbuf_addch(sb, *s); break;
		case 'u':
			memcpy(digits, s + 1, 4);
			digits[4] = '\0';
			if (strlen(digits) != 4 ||
			    strspn(digits, "0123456789abcdefABCDEF") != 4)
				return -1;
			v = strtol(digits, NULL, 16);
			cp = (unsigned)v;
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && s[1] == '\\' &&
			    s[2] == 'u') {
				memcpy(digits, s + 3, 4);
				if (strspn(digits, "0123456789abcdefABCDEF")
				    != 4)
					return -1;
				lo = (unsigned)strtol(digits, NULL, 16);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					s += 6;
				}
			}
			if (cp < 0x80) {
				strbuf_addch(sb, (char)cp);
			} else if (cp < 0x800) {
				utf[0] = (char)(0xc0 | cp >> 6);
				utf[1] = (char)(0x80 | (cp & 0x3f));
				strbuf_add(sb, utf, 2);
			} else if (cp < 0x10000) {
				utf[0] = (char)(0xe0 | cp >> 12);
				utf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
				utf[2] = (char)(0x80 | (cp & 0x3f));
				strbuf_add(sb, utf, 3);
			} else {
				utf[0] = (char)(0xf0 | cp >> 18);
				utf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
				utf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
				utf[3] = (char)(0x80 | (cp & 0x3f));
				strbuf_add(sb, utf, 4);
			}
			break;
		default:
			return -1;
		}
		s++;
	}
	if (*s != '"')
		return -1;
	*p = s + 1;
	return 0;
}

/*
 * One event line "[T, "CODE", "DATA"]": *ms the time, code, data into sb.
 * Return 0, or -1 when the line is not one.
 */
static int
parse_event(const char *line, long long *ms, char *code, struct strbuf *sb)
{
	const char *s = line;
	long long t = 0, frac = 0;
	int nd = 0;

	s += strspn(s, " \t");
	if (*s++ != '[')
		return -1;
	s += strspn(s, " \t");
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9' && t < 1000000000LL)
		t = t * 10 + (*s++ - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (nd < 3) {
				frac = frac * 10 + (*s - '0');
				nd++;
			}
	for (; nd < 3; nd++)
		frac *= 10;
	*ms = t * 1000 + frac;
	s += strspn(s, " \t");
	if (*s++ != ',')
		return -1;
	s += strspn(s, " \t");
	if (*s++ != '"' || !*s || s[1] != '"')
		return -1;
	*code = *s;
	s += 2;
	s += strspn(s, " \t");
	if (*s++ != ',')
		return -1;
	s += strspn(s, " \t");
	if (*s++ != '"')
		return -1;
	return json_string(&s, sb);
}

/* Parse a speed: "2", "0.5", "1.25" into thousandths; -1 when invalid. */
static long
parse_speed(const char *s)
{
	char whole[16], frac[4] = "000";
	const char *dot = strchr(s, '.');
	size_t wn = dot ? (size_t)(dot - s) : strlen(s), fn;
	long w, f, v;

	if (wn == 0 || wn >= sizeof(whole))
		return -1;
	memcpy(whole, s, wn);
	whole[wn] = '\0';
	if (parse_long(whole, 0, 1000, &w) < 0)
		return -1;
	if (dot) {
		fn = strlen(dot + 1);
		if (fn == 0 || fn > 3 || strspn(dot + 1, "0123456789") != fn)
			return -1;
		memcpy(frac, dot + 1, fn);
	}
	if (parse_long(frac, 0, 999, &f) < 0)
		return -1;
	v = w * 1000 + f;
	return v > 0 ? v : -1;
}

/*
 * Play the recording on stdout: each output event at its time (divided by
 * speed/1000), or at once (speed 0).  Return 0, or 128+N when a signal
 * ended it.
 */
static int
replay(const char *cast, long speed)
{
	struct strbuf data = { NULL, 0, 0 };
	const char *line = strchr(cast, '\n'), *end;
	long long ms, last = 0, wait;
	char code, *one;
	int sig;

	while (line && *++line) {
		end = strchr(line, '\n');
		one = end ? xstrndup(line, (size_t)(end - line)) :
		    xstrdup(line);
		strbuf_release(&data);
		strbuf_add(&data, "", 0);
		if (parse_event(one, &ms, &code, &data) == 0 && code == 'o') {
			wait = speed ? (ms - last) * 1000 / speed : 0;
			if (wait > REPLAY_MAX_WAIT)
				wait = REPLAY_MAX_WAIT;
			if (wait > 0) {
				sig = db_sleep((long)wait);
				if (sig) {
					free(one);
					strbuf_release(&data);
					return EXIT_SIGNAL_BASE + sig;
				}
			}
			last = ms;
			if (write_all(STDOUT_FILENO, data.buf, data.len) < 0) {
				free(one);
				strbuf_release(&data);
				return errno == EPIPE ? EXIT_OK :
				    log_errno("could not write the replay"),
				    EXIT_OSERR;
			}
		}
		free(one);
		line = end;
	}
	strbuf_release(&data);
	return EXIT_OK;
}

/*
 * s escaped (ESCAPE_TEXT) into buf for a table cell of at most max bytes:
 * no control character reaches the terminal, and a long value is cut on a
 * character boundary and ends in "...".
 */
static const char *
cell(const char *s, char *buf, size_t size, size_t max)
{
	size_t room = max + 1 < size ? max + 1 : size, n;

	if (!s)
		s = "";
	if (!s[escape_str(buf, room, s, ESCAPE_TEXT)] || room <= 3)
		return buf;
	escape_str(buf, room - 3, s, ESCAPE_TEXT);
	n = strlen(buf);
	memcpy(buf + n, "...", 4);
	return buf;
}

enum { COL_ID, COL_STARTED, COL_COMMAND, COL_ACTOR, COL_RELEASE,
	COL_STATUS, COL_EXIT, COL_DURATION, NCOLS };

/* The text of column c of row i of the history query. */
static void
history_cell(PGresult *r, int i, int c, char *buf, size_t size)
{
	char tmp[512];
	long ms, sig;

	switch (c) {
	case COL_ID:
		snprintf(buf, size, "%.8s", PQgetvalue(r, i, 0));
		break;
	case COL_STARTED:
		cell(PQgetvalue(r, i, 1), buf, size, 40);
		break;
	case COL_COMMAND:
		if (!PQgetisnull(r, i, 3))
			snprintf(tmp, sizeof(tmp), "%s %s",
			    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
		else if (strcmp(PQgetvalue(r, i, 2), "run") == 0)
			snprintf(tmp, sizeof(tmp), "run %s",
			    PQgetvalue(r, i, 10));
		else
			snprintf(tmp, sizeof(tmp), "%s", PQgetvalue(r, i, 2));
		cell(tmp, buf, size, 40);
		break;
	case COL_ACTOR:
		cell(PQgetvalue(r, i, 4), buf, size, 24);
		break;
	case COL_RELEASE:
		cell(PQgetisnull(r, i, 5) ? "-" : PQgetvalue(r, i, 5), buf,
		    size, 24);
		break;
	case COL_STATUS:
		cell(PQgetvalue(r, i, 6), buf, size, 16);
		break;
	case COL_EXIT:
		if (PQgetisnull(r, i, 7))
			snprintf(buf, size, "-");
		else if (!PQgetisnull(r, i, 8) &&
		    parse_long(PQgetvalue(r, i, 8), 1, 255, &sig) == 0)
			snprintf(buf, size, "%s %s", PQgetvalue(r, i, 7),
			    signal_name((int)sig));
		else
			snprintf(buf, size, "%s", PQgetvalue(r, i, 7));
		break;
	case COL_DURATION:
		if (PQgetisnull(r, i, 9) ||
		    parse_long(PQgetvalue(r, i, 9), LONG_MIN, LONG_MAX,
		    &ms) < 0)
			snprintf(buf, size, "-");
		else
			audit_format_duration(ms, buf, size);
		break;
	}
}

/* Print the history rows as an aligned table on stdout. */
static void
print_table(PGresult *r)
{
	static const char *const head[NCOLS] = { "ID", "STARTED (UTC)",
		"COMMAND", "ACTOR", "RELEASE", "STATUS", "EXIT", "DURATION" };
	size_t width[NCOLS], len;
	char buf[128];
	int i, c, rows = PQntuples(r);

	for (c = 0; c < NCOLS; c++)
		width[c] = strlen(head[c]);
	for (i = 0; i < rows; i++)
		for (c = 0; c < NCOLS; c++) {
			history_cell(r, i, c, buf, sizeof(buf));
			len = strlen(buf);
			if (len > width[c])
				width[c] = len;
		}
	for (c = 0; c < NCOLS; c++)
		printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)width[c], head[c],
		    c == NCOLS - 1 ? "\n" : "  ");
	for (i = 0; i < rows; i++)
		for (c = 0; c < NCOLS; c++) {
			history_cell(r, i, c, buf, sizeof(buf));
			printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)width[c],
			    buf, c == NCOLS - 1 ? "\n" : "  ");
		}
}

static int
history_usage(const char *what, const char *arg)
{
	log_error("%s \"%s\"", what, mask_show(arg));
	fprintf(stderr, "%s", history_usage_text);
	return EXIT_USAGE;
}

/*
 * entrypoint history [-n N] [--task NAME] [--json]: the newest N runs
 * (default 20), as a table or as one JSON object per line.  Read-only: a
 * missing table means no runs yet.
 */
static int
list_runs(struct config *cfg, int argc, char **argv)
{
	const char *task = NULL, *nstr = NULL, *params[2];
	char limit[24];
	struct db db;
	PGresult *r;
	long n = HISTORY_DEFAULT;
	int json = 0, i, code, exists;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 ||
		    strcmp(argv[i], "--task") == 0) {
			if (i + 1 >= argc)
				return history_usage("missing value after "
				    "option", argv[i]);
			if (argv[i][1] == 'n')
				nstr = argv[++i];
			else
				task = argv[++i];
		} else if (starts_with(argv[i], "--task=")) {
			task = argv[i] + strlen("--task=");
		} else if (starts_with(argv[i], "-n")) {
			nstr = argv[i] + 2;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (argv[i][0] == '-') {
			return history_usage("unrecognized option", argv[i]);
		} else {
			return history_usage("unexpected argument", argv[i]);
		}
	}
	if (nstr && parse_long(nstr, 1, HISTORY_MAX, &n) < 0)
		return history_usage("invalid number of runs (1 to 100000)",
		    nstr);
	if (task && !*task)
		return history_usage("invalid task name", task);
	code = connect_history(cfg, &db);
	if (code != 0)
		return code;
	exists = table_exists(&db, "runs");
	if (exists < 0) {
		db_close(&db);
		return EXIT_UNAVAILABLE;
	}
	if (!exists) {
		db_close(&db);
		log_info("no runs recorded yet");
		return EXIT_OK;
	}
	snprintf(limit, sizeof(limit), "%ld", n);
	params[0] = task;
	params[1] = limit;
	r = db_query(&db, "could not read the run history", sql_history, 2,
	    params);
	if (!r) {
		db_close(&db);
		return EXIT_UNAVAILABLE;
	}
	if (PQntuples(r) == 0 && !json)
		log_info("no runs recorded%s%s%s", task ? " for task \"" : "",
		    task ? task : "", task ? "\"" : "");
	else if (json)
		for (i = 0; i < PQntuples(r); i++)
			printf("%s\n", PQgetvalue(r, i, 11));
	else
		print_table(r);
	PQclear(r);
	db_close(&db);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return EXIT_OK;
		log_errno("could not write the history");
		return EXIT_OSERR;
	}
	return EXIT_OK;
}

/* show, replay and export: ID and their options. */
static int
one_run(struct config *cfg, int argc, char **argv)
{
	const char *sub = argv[1], *arg = NULL;
	struct db db;
	char id[40], *cast;
	long speed = 1000;
	int i, json = 0, code;

	for (i = 2; i < argc; i++) {
		if (strcmp(sub, "show") == 0 && strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(sub, "replay") == 0 &&
		    strcmp(argv[i], "--instant") == 0) {
			speed = 0;
		} else if (strcmp(sub, "replay") == 0 &&
		    strcmp(argv[i], "--speed") == 0) {
			if (i + 1 >= argc)
				return history_usage("missing value after "
				    "option", argv[i]);
			speed = parse_speed(argv[++i]);
			if (speed < 0)
				return history_usage("invalid speed (a number "
				    "above 0, up to 1000)", argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return history_usage("unrecognized option", argv[i]);
		} else if (!arg) {
			arg = argv[i];
		} else {
			return history_usage("unexpected argument", argv[i]);
		}
	}
	if (!arg) {
		log_error("missing run id (see 'entrypoint history')");
		fprintf(stderr, "%s", history_usage_text);
		return EXIT_USAGE;
	}
	code = connect_history(cfg, &db);
	if (code != 0)
		return code;
	code = find_run(&db, arg, id, sizeof(id));
	if (code == 0 && strcmp(sub, "show") == 0) {
		code = show_run(&db, id, json);
	} else if (code == 0) {
		cast = get_recording(&db, id, &code);
		if (cast) {
			db_close(&db);
			if (strcmp(sub, "export") == 0) {
				fputs(cast, stdout);
				code = EXIT_OK;
			} else {
				code = replay(cast, speed);
			}
			free(cast);
		}
	}
	db_close(&db);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			return code;
		log_errno("could not write to standard output");
		return EXIT_OSERR;
	}
	return code;
}

int
cmd_history(struct config *cfg, int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "show") == 0 ||
	    strcmp(argv[1], "replay") == 0 || strcmp(argv[1], "export") == 0))
		return one_run(cfg, argc, argv);
	return list_runs(cfg, argc, argv);
}
