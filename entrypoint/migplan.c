/*
 * migplan.c - plan's lock tracing and its output; see migplan.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "migplan.h"
#include "util.h"

#define SQL_LINE_MAX 100	/* bytes of a statement's first line shown */

int
migplan_begin(struct migplan *pl, struct migsession *ses, int json)
{
	PGresult *r;
	struct lock_row *rows;
	int i, n;

	memset(pl, 0, sizeof(*pl));
	pl->ses = ses;
	pl->json = json;
	lock_tracer_init(&pl->tracer);
	if (json)
		log_info("plan runs the pending migrations in one transaction "
		    "and rolls it back: meanwhile it holds the locks listed "
		    "on this database (each statement waits at most "
		    "ddl_lock_timeout = %ld ms for its own)",
		    ses->cfg->database.ddl_lock_timeout_ms);
	else
		printf("plan runs the pending migrations in one transaction "
		    "and rolls it back: meanwhile it holds the locks listed "
		    "below on this database (each statement waits at most "
		    "ddl_lock_timeout = %ld ms for its own)\n",
		    ses->cfg->database.ddl_lock_timeout_ms);
	r = db_query(&ses->db, "could not read the relations", lock_snapshot_sql,
	    0, NULL);
	if (!r)
		return EXIT_SOFTWARE;
	n = PQntuples(r);
	rows = xcalloc((size_t)n + 1, sizeof(*rows));
	for (i = 0; i < n; i++) {
		rows[i].oid = (unsigned)strtoul(PQgetvalue(r, i, 0), NULL, 10);
		rows[i].filenode = (unsigned)strtoul(PQgetvalue(r, i, 1), NULL,
		    10);
		rows[i].name = PQgetvalue(r, i, 2);
		rows[i].kind = PQgetvalue(r, i, 3)[0];
	}
	lock_tracer_snapshot(&pl->tracer, rows, (size_t)n);
	free(rows);
	PQclear(r);
	return 0;
}

/* The rows of one lock_trace_sql result; *now gets its server clock. */
static struct lock_row *
trace_rows(const PGresult *r, size_t *n, double *now)
{
	struct lock_row *rows;
	int i, k = 0, nt = PQntuples(r);

	rows = xcalloc((size_t)nt + 1, sizeof(*rows));
	*now = nt > 0 ? strtod(PQgetvalue(r, 0, 0), NULL) : 0;
	for (i = 0; i < nt; i++) {
		struct lock_row *x = &rows[k];

		if (PQgetisnull(r, i, 1))
			continue;
		x->oid = (unsigned)strtoul(PQgetvalue(r, i, 1), NULL, 10);
		x->name = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
		x->kind = PQgetvalue(r, i, 3)[0];
		x->mode = lock_mode_parse(PQgetvalue(r, i, 4));
		x->filenode = (unsigned)strtoul(PQgetvalue(r, i, 5), NULL, 10);
		x->reltuples = PQgetisnull(r, i, 6) ? -1 :
		    strtod(PQgetvalue(r, i, 6), NULL);
		x->bytes = strtoll(PQgetvalue(r, i, 7), NULL, 10);
		x->notnull_check = PQgetvalue(r, i, 8)[0] == 't';
		k++;
	}
	*n = (size_t)k;
	return rows;
}

static void
json_str(struct strbuf *sb, const char *s)
{
	char buf[2048];

	log_json_escape(buf, sizeof(buf), s ? s : "");
	strbuf_addstr(sb, buf);
}

/* One JSON object for statement idx (1-based) of m. */
static void
print_json(const struct mig *m, long idx, const char *sql,
    const struct traced_stmt *s, int traced, const char *blocks)
{
	struct strbuf sb = { NULL, 0, 0 };
	char line[SQL_LINE_MAX + 8];
	size_t i, k;
	int mode, first = 1;

	stmt_first_line(sql, line, sizeof(line), SQL_LINE_MAX);
	strbuf_addstr(&sb, "{\"version\":");
	json_str(&sb, m->f.version_str);
	strbuf_addstr(&sb, ",\"name\":");
	json_str(&sb, m->f.name);
	strbuf_addf(&sb, ",\"statement\":%ld,\"sql\":", idx);
	json_str(&sb, line);
	strbuf_addstr(&sb, ",\"locks\":[");
	for (i = 0; i < s->n; i++)
		for (mode = 0; mode < LM_COUNT; mode++) {
			const struct traced_rel *r = &s->rels[i];

			if (!(r->modes & 1u << mode))
				continue;
			strbuf_addstr(&sb, first ? "{\"relation\":" :
			    ",{\"relation\":");
			first = 0;
			json_str(&sb, r->name);
			strbuf_addf(&sb, ",\"mode\":\"%s\"",
			    lock_mode_name(mode));
			if (traced) {
				if (r->reltuples >= 0)
					strbuf_addf(&sb, ",\"rows\":%.0f",
					    r->reltuples);
				else
					strbuf_addstr(&sb, ",\"rows\":null");
				strbuf_addf(&sb, ",\"bytes\":%lld", r->bytes);
			}
			strbuf_addch(&sb, '}');
		}
	strbuf_addstr(&sb, "],\"rewrites\":[");
	for (i = 0, k = 0; i < s->n; i++)
		if (s->rels[i].rewritten) {
			if (k++)
				strbuf_addch(&sb, ',');
			json_str(&sb, s->rels[i].name);
		}
	strbuf_addf(&sb, "],\"blocks\":\"%s\",\"warnings\":[", blocks);
	for (i = 0; i < s->nwarn; i++) {
		if (i)
			strbuf_addch(&sb, ',');
		json_str(&sb, s->warnings[i]);
	}
	strbuf_addf(&sb, "],\"ms\":%.1f,\"traced\":%s}\n", s->ms,
	    traced ? "true" : "false");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

/* The text lines of one statement. */
static void
print_text(long idx, const char *sql, const struct traced_stmt *s,
    int traced, const char *blocks)
{
	char line[SQL_LINE_MAX + 8];
	size_t i;
	int mode;
	const char *sep = "";

	stmt_first_line(sql, line, sizeof(line), SQL_LINE_MAX);
	printf("  %3ld  %s\n", idx, line);
	printf("       locks: ");
	for (i = 0; i < s->n; i++)
		for (mode = 0; mode < LM_COUNT; mode++) {
			if (!(s->rels[i].modes & 1u << mode))
				continue;
			printf("%s%s %s", sep, s->rels[i].name,
			    lock_mode_name(mode));
			sep = ", ";
		}
	if (!*sep)
		printf("none new");
	if (traced)
		printf("; blocks %s (%.1f ms)\n", blocks, s->ms);
	else
		printf("; blocks %s (not run: transaction:false; the lock "
		    "PostgreSQL documents)\n", blocks);
	for (i = 0; i < s->n; i++)
		if (s->rels[i].rewritten)
			printf("       rewrites: %s (about %.0f rows, %lld "
			    "bytes)\n", s->rels[i].name, s->rels[i].reltuples < 0 ?
			    0 : s->rels[i].reltuples, s->rels[i].bytes);
	for (i = 0; i < s->nwarn; i++)
		printf("       warning: %s\n", s->warnings[i]);
}

static void
print_stmt(struct migplan *pl, const struct mig *m, long idx,
    const char *sql, const struct traced_stmt *s, int traced)
{
	const char *blocks = traced || s->n ? lock_blocks_name(s->blocks) :
	    "unknown";

	pl->warnings += s->nwarn;
	if (pl->json)
		print_json(m, idx, sql, s, traced, blocks);
	else
		print_text(idx, sql, s, traced, traced || s->n ?
		    lock_blocks_words(s->blocks) : "unknown");
}

int
migplan_try(struct migplan *pl, struct mig *m, int after_enum,
    int after_untried)
{
	size_t n = m->f.up.n, k, nrows;
	PGresult **tr = xcalloc(n + 1, sizeof(*tr));
	struct traced_stmt s;
	struct lock_row *rows;
	long long t0 = now_ms();
	double now;
	long idx = 0;
	int code;

	lock_tracer_migration(&pl->tracer, (long)pl->nmig++);
	code = migsession_try_traced(pl->ses, m, after_enum, after_untried,
	    tr, &pl->seen);
	if (!code && !pl->json)
		printf("ok     %s (%lld ms)\n", mig_label(m), now_ms() - t0);
	if (!code && tr[0] && PQntuples(tr[0]) == 1)
		lock_tracer_clock(&pl->tracer, strtod(PQgetvalue(tr[0], 0, 0),
		    NULL));
	for (k = 0; k < n; k++) {
		if (!code && tr[k + 1]) {
			rows = trace_rows(tr[k + 1], &nrows, &now);
			lock_tracer_stmt(&pl->tracer, m->f.up.stmts[k].sql,
			    idx, rows, nrows, now, &s);
			print_stmt(pl, m, ++idx, m->f.up.stmts[k].sql, &s, 1);
			traced_stmt_release(&s);
			free(rows);
		}
		PQclear(tr[k + 1]);
	}
	PQclear(tr[0]);
	free(tr);
	return code;
}

void
migplan_skip(struct migplan *pl, const struct mig *m)
{
	struct traced_stmt s;
	struct traced_rel r;
	char table[256];
	size_t k;
	long idx = 0;

	if (!pl->json)
		printf("skip   %s (transaction:false: cannot be tried inside "
		    "the dry run's transaction)\n", mig_label(m));
	for (k = 0; k < m->f.up.n; k++) {
		memset(&s, 0, sizeof(s));
		memset(&r, 0, sizeof(r));
		if (stmt_index_table(m->f.up.stmts[k].sql, table,
		    sizeof(table)) == 0) {
			stmt_shape_of(m->f.up.stmts[k].sql, &s.shape);
			if (s.shape.concurrently) {
				r.name = table;
				r.modes = 1u << LM_SHARE_UPDATE_EXCLUSIVE;
				s.rels = &r;
				s.n = 1;
			}
		}
		print_stmt(pl, m, ++idx, m->f.up.stmts[k].sql, &s, 0);
	}
}

void
migplan_release(struct migplan *pl)
{
	free(pl->seen);
	lock_tracer_release(&pl->tracer);
}
