/*
 * takeover.c - take over another migration tool's history; see
 * takeover.h.
 *
 * What each tool's table means was read from its source (not copied):
 * golang-migrate keeps one row (version, dirty): everything up to version
 * is applied, dirty means it stopped inside that one.  dbmate keeps one
 * row per applied version.  goose appends (version_id, is_applied) rows:
 * the last row of a version says whether it is applied; version 0 is its
 * initial marker.  sql-migrate keeps one row per applied file name.
 * Flyway appends rows with success, type (SQL, BASELINE, UNDO_SQL, ...),
 * version.  diesel keeps one row per applied version.  Prisma keeps one
 * row per attempt: finished_at set and rolled_back_at unset is applied,
 * neither set is failed, rolled_back_at set was rolled back.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "migsession.h"
#include "takeover.h"
#include "util.h"

/* The row queries: id, state.  @T@ is the quoted table. */
static const char sql_golang[] =
	"SELECT version::pg_catalog.text, CASE WHEN dirty THEN 'dirty' "
	"ELSE 'applied' END FROM @T@";
static const char sql_dbmate[] =
	"SELECT version::pg_catalog.text, 'applied' FROM @T@ ORDER BY 1";
static const char sql_goose[] =
	"SELECT version_id::pg_catalog.text, CASE WHEN version_id = 0 THEN "
	"'skip' WHEN is_applied THEN 'applied' ELSE 'reverted' END "
	"FROM @T@ ORDER BY id";
static const char sql_sql_migrate[] =
	"SELECT id, 'applied' FROM @T@ ORDER BY applied_at, id";
static const char sql_flyway[] =
	"SELECT COALESCE(version, script), CASE WHEN NOT success "
	"THEN 'failed' WHEN version IS NULL AND type = 'SQL' THEN "
	"'repeatable' WHEN version IS NULL THEN 'skip' WHEN type = "
	"'BASELINE' THEN 'baseline' WHEN type LIKE 'UNDO%' THEN 'reverted' "
	"WHEN type IN ('SQL', 'JDBC', 'SPRING_JDBC', 'SCRIPT') THEN "
	"'applied' ELSE 'skip' END, checksum::pg_catalog.text FROM @T@ "
	"ORDER BY installed_rank";
static const char sql_diesel[] =
	"SELECT version::pg_catalog.text, 'applied' FROM @T@ ORDER BY 1";
static const char sql_prisma[] =
	"SELECT migration_name, CASE WHEN rolled_back_at IS NOT NULL THEN "
	"'reverted' WHEN finished_at IS NULL THEN 'failed' ELSE 'applied' "
	"END FROM @T@ ORDER BY started_at";

/* Where the tool's table is: any schema but ours, "public" first. */
static const char sql_find[] =
	"SELECT n.nspname, EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
	"WHERE a.attrelid = c.oid AND a.attname = 'dirty' AND a.attnum > 0 "
	"AND NOT a.attisdropped) FROM pg_catalog.pg_class c "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"WHERE c.relname = $1 AND c.relkind IN ('r', 'p') "
	"AND n.nspname <> $2 AND n.nspname NOT IN ('pg_catalog', "
	"'information_schema') ORDER BY n.nspname <> 'public', n.nspname";

/* One record per taken-over migration, in one statement. */
static const char sql_insert[] =
	"INSERT INTO @S@.migrations (version, name, checksum, status, "
	"release, run_id) SELECT t.v::pg_catalog.int8, t.n, t.c, "
	"'succeeded', $4, $5 FROM ROWS FROM ("
	"pg_catalog.unnest($1::pg_catalog.text[]), "
	"pg_catalog.unnest($2::pg_catalog.text[]), "
	"pg_catalog.unnest($3::pg_catalog.text[])) AS t(v, n, c)";

struct tool {
	const char *table;
	const char *fix;	/* how to mark a migration with that tool */
};

static const struct tool tools[LAYOUT_COUNT] = {
	[LAYOUT_DBMATE] = { "schema_migrations", "dbmate" },
	[LAYOUT_GOLANG_MIGRATE] = { "schema_migrations",
		"'migrate force VERSION'" },
	[LAYOUT_GOOSE] = { "goose_db_version", "goose" },
	[LAYOUT_SQL_MIGRATE] = { "gorp_migrations", "sql-migrate" },
	[LAYOUT_FLYWAY] = { "flyway_schema_history", "'flyway repair'" },
	[LAYOUT_DIESEL] = { "__diesel_schema_migrations", "diesel" },
	[LAYOUT_PRISMA] = { "_prisma_migrations",
		"'prisma migrate resolve --applied NAME' or "
		"'--rolled-back NAME'" },
};

/* Module state: the release text the taken-over rows point to. */
static struct {
	char release[128];
} tk;

/* A whole decimal version of at most 18 significant digits. */
static int
parse_version(const char *s, long long *v)
{
	size_t n = 0, z = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	if (n == 0 || s[n] != '\0')
		return -1;
	while (z < n - 1 && s[z] == '0')
		z++;
	if (n - z > SQLFILE_VERSION_DIGITS)
		return -1;
	*v = strtoll(s + z, NULL, 10);
	return 0;
}

/* The file of the set that a history id names, or -1. */
static long
find_id(enum layout_format fmt, const struct migset *set, const char *id)
{
	long long v;
	size_t i;

	if (fmt == LAYOUT_SQL_MIGRATE || fmt == LAYOUT_PRISMA) {
		for (i = 0; i < set->nfiles && i < set->lay.n; i++)
			if (strcmp(set->lay.e[i].id, id) == 0)
				return (long)i;
		return -1;
	}
	if (fmt == LAYOUT_FLYWAY ?
	    layout_flyway_version(id, strlen(id), &v) < 0 :
	    parse_version(id, &v) < 0)
		return -1;
	for (i = 0; i < set->nfiles; i++)
		if (set->m[i].f.version == v)
			return (long)i;
	return -1;
}

/*
 * The repeatable migration (R__x.sql) a Flyway row's script names: its
 * path relative to the location, so its last component.  Or -1.
 */
static long
find_repeatable(const struct migset *set, const char *script)
{
	const char *base = strrchr(script, '/');
	size_t i, n;

	base = base ? base + 1 : script;
	n = strlen(base);
	if (n < 4 || strcmp(base + n - 4, ".sql") != 0)
		return -1;
	for (i = 0; i < set->nfiles && i < set->lay.n; i++)
		if (layout_repeatable(set->m[i].f.version) &&
		    strlen(set->lay.e[i].name) == n - 4 &&
		    strncmp(set->lay.e[i].name, base, n - 4) == 0)
			return (long)i;
	return -1;
}

/*
 * A Flyway repeatable migration is applied when its last row's checksum
 * is today's file's: Flyway runs it again only when that differs.
 */
static int
repeatable_same(const struct mig *m, const char *checksum)
{
	long want;

	if (!checksum || !m->f.text ||
	    parse_long(checksum, LONG_MIN, LONG_MAX, &want) < 0)
		return 0;
	return layout_flyway_checksum(m->f.text, m->f.len) == want;
}

int
takeover_decide(enum layout_format fmt, const char *table,
    const struct takeover_row *rows, size_t nrows, const struct migset *set,
    size_t **applied, size_t *n, char *err, size_t errsz)
{
	const char *fix = (unsigned)fmt < LAYOUT_COUNT && tools[fmt].fix ?
	    tools[fmt].fix : "that tool";
	unsigned char *on = xcalloc(set->nfiles + 1, 1);
	const char **rep = xcalloc(set->nfiles + 1, sizeof(*rep));
	size_t r, i;
	long k;
	char *upto;

	*applied = NULL;
	*n = 0;
	for (r = 0; r < nrows; r++) {
		const char *st = rows[r].state;

		if (strcmp(st, "skip") == 0)
			continue;
		if (strcmp(st, "dirty") == 0 || strcmp(st, "failed") == 0) {
			free(on);
			free(rep);
			return errf(err, errsz, "%s records migration %s as %s: "
			    "nothing applied; check what it did to the "
			    "database, mark it with %s, then run migrate "
			    "again", table, rows[r].id, st, fix);
		}
		if (strcmp(st, "baseline") == 0) {
			upto = layout_flyway_key(rows[r].id, strlen(rows[r].id));
			if (!upto) {
				free(on);
				free(rep);
				return errf(err, errsz, "%s has a baseline at "
				    "version \"%s\" that cannot be read",
				    table, rows[r].id);
			}
			for (i = 0; i < set->nfiles; i++)
				if (set->m[i].key && !layout_repeatable(
				    set->m[i].f.version) &&
				    strcmp(set->m[i].key, upto) <= 0)
					on[i] = 1;
			free(upto);
			continue;
		}
		if (strcmp(st, "repeatable") == 0) {
			k = find_repeatable(set, rows[r].id);
			if (k >= 0) {
				rep[k] = rows[r].checksum;	/* the last */
				continue;
			}
		} else {
			k = find_id(fmt, set, rows[r].id);
		}
		if (k < 0) {
			if (strcmp(st, "reverted") == 0)
				continue;	/* undone, file gone: fine */
			free(on);
			free(rep);
			return errf(err, errsz, "%s records migration \"%s\", "
			    "which has no file in %s/: nothing applied; "
			    "restore its file, or remove its row with %s",
			    table, rows[r].id, set->dir, fix);
		}
		if (fmt == LAYOUT_GOLANG_MIGRATE) {
			/* one row: that version and every one before it */
			for (i = 0; i <= (size_t)k; i++)
				on[i] = 1;
			continue;
		}
		on[k] = strcmp(st, "applied") == 0;
	}
	for (i = 0; i < set->nfiles; i++)
		if (rep[i])
			on[i] = (unsigned char)repeatable_same(&set->m[i],
			    rep[i]);
	free(rep);
	for (i = 0; i < set->nfiles; i++)
		if (on[i]) {
			*applied = xrealloc(*applied, (*n + 1) *
			    sizeof(**applied));
			(*applied)[(*n)++] = i;
		}
	free(on);
	return 0;
}

/* One element of a text[] literal: "..." with \ and " escaped. */
static void
array_add(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, sb->len ? ',' : '{');
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static char *
array_end(struct strbuf *sb)
{
	if (sb->len == 0)
		strbuf_addch(sb, '{');
	strbuf_addch(sb, '}');
	return strbuf_detach(sb);
}

/* Replace "@T@" in sql with the quoted schema.table. */
static char *
table_sql(PGconn *conn, const char *sql, const char *schema,
    const char *table)
{
	char *s = PQescapeIdentifier(conn, schema, strlen(schema));
	char *t = PQescapeIdentifier(conn, table, strlen(table));
	const char *at = strstr(sql, "@T@");
	char *out;

	if (!s || !t || !at) {
		PQfreemem(s);
		PQfreemem(t);
		return NULL;
	}
	out = xasprintf("%.*s%s.%s%s", (int)(at - sql), sql, s, t, at + 3);
	PQfreemem(s);
	PQfreemem(t);
	return out;
}

static const char *
row_sql(enum layout_format fmt, int dirty)
{
	switch (fmt) {
	case LAYOUT_GOLANG_MIGRATE:
		return sql_golang;
	case LAYOUT_DBMATE:
		return dirty ? sql_golang : sql_dbmate;
	case LAYOUT_GOOSE:
		return sql_goose;
	case LAYOUT_SQL_MIGRATE:
		return sql_sql_migrate;
	case LAYOUT_FLYWAY:
		return sql_flyway;
	case LAYOUT_DIESEL:
		return sql_diesel;
	case LAYOUT_PRISMA:
		return sql_prisma;
	default:
		return NULL;
	}
}

/* Record set->m[idx[0..n)] as applied, taken over from table. */
static int
record(struct migsession *ses, const size_t *idx, size_t n)
{
	struct strbuf v = { 0 }, nm = { 0 }, c = { 0 };
	const char *params[5];
	char *pv, *pn, *pc, *q;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		const struct sqlfile *f = &ses->set->m[idx[i]].f;
		char num[32];

		snprintf(num, sizeof(num), "%lld", f->version);
		array_add(&v, num);
		array_add(&nm, f->name);
		array_add(&c, f->checksum);
	}
	pv = array_end(&v);
	pn = array_end(&nm);
	pc = array_end(&c);
	params[0] = pv;
	params[1] = pn;
	params[2] = pc;
	params[3] = tk.release;
	params[4] = ses->run_id;
	q = db_sql(&ses->db, sql_insert);
	r = db_exec(&ses->db, "could not record the migrations taken over",
	    q, 5, params);
	free(q);
	free(pv);
	free(pn);
	free(pc);
	return r;
}

int
takeover_run(struct migsession *ses, int write)
{
	struct migset *set = ses->set;
	enum layout_format fmt = set->lay.format;
	const char *params[2];
	PGresult *found = NULL, *rows = NULL;
	struct takeover_row *tr = NULL;
	size_t i, n = 0, *idx = NULL;
	char err[1024], *q = NULL;
	const char *table, *sql;
	int code = 0, dirty, nr;

	if (fmt == LAYOUT_AUTO)
		fmt = LAYOUT_DBMATE;
	for (i = 0; i < set->n; i++)
		if (set->m[i].has_row)
			return 0;	/* entrypoint keeps the history */
	if (set->nfiles == 0 || (unsigned)fmt >= LAYOUT_COUNT ||
	    !tools[fmt].table)
		return 0;
	table = tools[fmt].table;
	params[0] = table;
	params[1] = ses->db.schema;
	found = db_query(&ses->db, "could not look for another tool's "
	    "migration history", sql_find, 2, params);
	if (!found)
		return EXIT_SOFTWARE;
	if (PQntuples(found) == 0)
		goto out;
	if (PQntuples(found) > 1 &&
	    strcmp(PQgetvalue(found, 0, 0), "public") != 0) {
		log_error("cannot take over the migration history: %s exists "
		    "in schemas \"%s\" and \"%s\"", table,
		    PQgetvalue(found, 0, 0), PQgetvalue(found, 1, 0));
		code = EXIT_DATAERR;
		goto out;
	}
	dirty = strcmp(PQgetvalue(found, 0, 1), "t") == 0;
	/* dbmate and golang-migrate share the table name and read the same
	 * files: golang-migrate's has the dirty column. */
	if (fmt == LAYOUT_DBMATE || fmt == LAYOUT_GOLANG_MIGRATE)
		fmt = dirty ? LAYOUT_GOLANG_MIGRATE : LAYOUT_DBMATE;
	sql = row_sql(fmt, dirty);
	q = table_sql(ses->db.conn, sql, PQgetvalue(found, 0, 0), table);
	if (!q) {
		log_error("could not quote the table name \"%s\"", table);
		code = EXIT_SOFTWARE;
		goto out;
	}
	rows = db_query(&ses->db, "could not read the other tool's migration "
	    "history", q, 0, NULL);
	if (!rows) {
		code = EXIT_DATAERR;
		goto out;
	}
	nr = PQntuples(rows);
	tr = xcalloc((size_t)nr + 1, sizeof(*tr));
	for (i = 0; i < (size_t)nr; i++) {
		tr[i].id = PQgetvalue(rows, (int)i, 0);
		tr[i].state = PQgetvalue(rows, (int)i, 1);
		if (PQnfields(rows) > 2 && !PQgetisnull(rows, (int)i, 2))
			tr[i].checksum = PQgetvalue(rows, (int)i, 2);
	}
	snprintf(tk.release, sizeof(tk.release), "%s%s", TAKEOVER_RELEASE,
	    table);
	if (takeover_decide(fmt, table, tr, (size_t)nr, set, &idx, &n, err,
	    sizeof(err)) < 0) {
		log_error("cannot take over the migration history: %s", err);
		code = EXIT_DATAERR;
		goto out;
	}
	if (n == 0)
		goto out;
	if (write && record(ses, idx, n) < 0) {
		code = EXIT_SOFTWARE;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct mig *m = &set->m[idx[i]];

		m->has_row = 1;
		m->status = "succeeded";
		m->row_checksum = m->f.checksum;
		m->row_name = m->f.name;
		m->applied_at = "";
		m->release = tk.release;
	}
	log_info("%s %zu applied migration%s from %s", write ? "took over" :
	    "would take over", n, n == 1 ? "" : "s", table);
out:
	PQclear(found);
	PQclear(rows);
	free(q);
	free(tr);
	free(idx);
	return code;
}
