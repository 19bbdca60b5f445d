/*
 * locks.c - what a migration's locks do to everyone else; see locks.h.
 *
 * Lock modes and what they conflict with are PostgreSQL's table-level
 * lock table ("Explicit Locking" in its documentation): the app's SELECT
 * takes AccessShareLock, its INSERT/UPDATE/DELETE RowExclusiveLock.  So a
 * migration's AccessExclusiveLock blocks both, ShareLock,
 * ShareRowExclusiveLock and ExclusiveLock block the writes, and the four
 * weaker modes block neither.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "locks.h"
#include "util.h"

static const char *const mode_names[LM_COUNT] = {
	"AccessShareLock", "RowShareLock", "RowExclusiveLock",
	"ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
	"ExclusiveLock", "AccessExclusiveLock"
};

/* A statement slower than this in the plan is "slow work". */
#define SLOW_MS 1000.0

int
lock_mode_parse(const char *name)
{
	int i;

	for (i = 0; name && i < LM_COUNT; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return i;
	return -1;
}

const char *
lock_mode_name(int mode)
{
	return mode >= 0 && mode < LM_COUNT ? mode_names[mode] : "?";
}

enum lock_blocks
lock_mode_blocks(int mode)
{
	if (mode == LM_ACCESS_EXCLUSIVE)
		return BLOCKS_ALL;
	if (mode >= LM_SHARE && mode <= LM_EXCLUSIVE)
		return BLOCKS_WRITES;
	return BLOCKS_NONE;
}

const char *
lock_blocks_name(enum lock_blocks b)
{
	return b == BLOCKS_ALL ? "reads+writes" : b == BLOCKS_WRITES ?
	    "writes" : "none";
}

const char *
lock_blocks_words(enum lock_blocks b)
{
	return b == BLOCKS_ALL ? "reads and writes" : b == BLOCKS_WRITES ?
	    "writes" : "nothing";
}

/* ---- reading SQL words ------------------------------------------------- */

/*
 * Skip a comment, quoted string, quoted identifier or dollar-quoted body
 * starting at p; return the byte after it, or p when there is none there.
 * E'...' is handled by the caller (the E is a word).
 */
static const char *
skip_quoted(const char *p, int backslash)
{
	const char *q, *end;
	size_t tag;
	int depth;

	if (p[0] == '-' && p[1] == '-') {
		q = strchr(p, '\n');
		return q ? q + 1 : p + strlen(p);
	}
	if (p[0] == '/' && p[1] == '*') {
		for (q = p + 2, depth = 1; *q && depth; q++) {
			if (q[0] == '/' && q[1] == '*')
				depth++, q++;
			else if (q[0] == '*' && q[1] == '/')
				depth--, q++;
		}
		return q;
	}
	if (*p == '\'' || *p == '"') {
		for (q = p + 1; *q; q++) {
			/* a backslash escape (E'...'), or a doubled quote */
			if ((backslash && *p == '\'' && *q == '\\' && q[1]) ||
			    (*q == *p && q[1] == *p))
				q++;
			else if (*q == *p)
				return q + 1;
		}
		return q;
	}
	if (*p == '$') {
		for (q = p + 1; isalnum((unsigned char)*q) || *q == '_'; q++)
			;
		if (*q != '$' || isdigit((unsigned char)p[1]))
			return p;
		tag = (size_t)(q - p + 1);
		for (end = q + 1; (end = strchr(end, '$')) != NULL; end++)
			if (strncmp(end, p, tag) == 0)
				return end + tag;
		return p + strlen(p);
	}
	return p;
}

static int
word_char(int c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/*
 * Call fn for each word of sql outside comments and quotes, upper-cased
 * (at most 31 bytes of it), with its index.  Stop when fn returns 1.
 */
static void
each_word(const char *sql, int (*fn)(void *, const char *, int,
    const char *), void *arg)
{
	const char *p = sql, *q;
	char w[32];
	size_t n;
	int idx = 0, prev_e = 0;

	while (*p) {
		q = skip_quoted(p, prev_e && *p == '\'');
		prev_e = 0;
		if (q != p) {
			p = q;
			continue;
		}
		if (!word_char((unsigned char)*p) ||
		    isdigit((unsigned char)*p)) {
			if (isdigit((unsigned char)*p))
				while (word_char((unsigned char)*p) ||
				    *p == '.')
					p++;
			else
				p++;
			continue;
		}
		for (n = 0; word_char((unsigned char)*p); p++)
			if (n + 1 < sizeof(w))
				w[n++] = (char)toupper((unsigned char)*p);
		w[n] = '\0';
		prev_e = strcmp(w, "E") == 0;
		if (fn(arg, w, idx++, p))
			return;
	}
}

struct shape_state {
	struct stmt_shape *s;
	char prev[2][32];
	int create, unique, add;
	const char *on;		/* after CREATE INDEX ... ON */
};

static int
shape_word(void *arg, const char *w, int idx, const char *end)
{
	struct shape_state *st = arg;
	struct stmt_shape *s = st->s;

	if (idx == 0)
		st->create = strcmp(w, "CREATE") == 0;
	if (idx == 1 && strcmp(w, "TABLE") == 0 &&
	    strcmp(st->prev[0], "ALTER") == 0)
		s->alter_table = 1;
	if (st->create && idx == 1 && strcmp(w, "UNIQUE") == 0)
		st->unique = 1;
	if (st->create && strcmp(w, "INDEX") == 0 && idx == 1 + st->unique)
		s->create_index = 1;
	if (strcmp(w, "CONCURRENTLY") == 0)
		s->concurrently = 1;
	if (strcmp(w, "VALID") == 0 && strcmp(st->prev[0], "NOT") == 0)
		s->not_valid = 1;
	if (strcmp(w, "INDEX") == 0 && strcmp(st->prev[0], "USING") == 0)
		s->using_index = 1;
	if (s->alter_table) {
		if (strcmp(w, "NULL") == 0 && strcmp(st->prev[0], "NOT") == 0 &&
		    strcmp(st->prev[1], "SET") == 0)
			s->set_not_null = 1;
		if (strcmp(w, "ADD") == 0)
			st->add = 1;
		if (st->add && ((strcmp(w, "KEY") == 0 &&
		    strcmp(st->prev[0], "FOREIGN") == 0) ||
		    strcmp(w, "REFERENCES") == 0))
			s->add_fk = 1;
		if (st->add && strcmp(w, "CHECK") == 0)
			s->add_check = 1;
		if (st->add && (strcmp(w, "UNIQUE") == 0 ||
		    (strcmp(w, "KEY") == 0 &&
		    strcmp(st->prev[0], "PRIMARY") == 0)))
			s->add_unique = 1;
	}
	if (s->create_index && !st->on && strcmp(w, "ON") == 0)
		st->on = end;
	memcpy(st->prev[1], st->prev[0], sizeof(st->prev[1]));
	snprintf(st->prev[0], sizeof(st->prev[0]), "%s", w);
	return 0;
}

void
stmt_shape_of(const char *sql, struct stmt_shape *s)
{
	struct shape_state st;

	memset(s, 0, sizeof(*s));
	memset(&st, 0, sizeof(st));
	st.s = s;
	each_word(sql, shape_word, &st);
}

int
stmt_index_table(const char *sql, char *buf, size_t size)
{
	struct stmt_shape s;
	struct shape_state st;
	const char *p, *q;

	memset(&s, 0, sizeof(s));
	memset(&st, 0, sizeof(st));
	st.s = &s;
	each_word(sql, shape_word, &st);
	if (!s.create_index || !st.on)
		return -1;
	for (p = st.on; isspace((unsigned char)*p); p++)
		;
	if (strncasecmp(p, "only", 4) == 0 && isspace((unsigned char)p[4]))
		for (p += 4; isspace((unsigned char)*p); p++)
			;
	for (q = p; *q && (word_char((unsigned char)*q) || *q == '.' ||
	    *q == '"');) {
		if (*q == '"') {
			q = skip_quoted(q, 0);
			continue;
		}
		q++;
	}
	if (q == p)
		return -1;
	snprintf(buf, size, "%.*s", (int)(q - p), p);
	return 0;
}

int
stmt_trace_all(const char *sql)
{
	struct stmt_shape s;

	stmt_shape_of(sql, &s);
	return s.set_not_null || s.add_fk || s.add_check || s.add_unique;
}

int
stmt_retry_unsafe(const char *sql)
{
	struct stmt_shape s;

	stmt_shape_of(sql, &s);
	return s.concurrently;
}

/* Copy at most max bytes of s (n bytes) to buf, whole UTF-8 sequences. */
static void
cut_utf8(char *buf, size_t size, const char *s, size_t n, size_t max)
{
	int more = n > max;

	if (more) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (n + (more ? 3 : 0) + 1 > size)
		n = size > 4 ? size - 4 : 0;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, size, "%.*s%s", (int)n, s, more ? "..." : "");
}

void
stmt_first_line(const char *sql, char *buf, size_t size, size_t max)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *p = sql, *e;
	int blank = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			e = strchr(p, '\n');
			p = e ? e + 1 : p + strlen(p);
			continue;
		}
		break;
	}
	for (; *p && *p != '\n'; p++) {
		if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20 ||
		    *p == 0x7f) {
			blank = 1;
			continue;
		}
		if (blank && sb.len)
			strbuf_addch(&sb, ' ');
		blank = 0;
		strbuf_addch(&sb, *p);
	}
	cut_utf8(buf, size, sb.buf ? sb.buf : "", sb.len, max);
	strbuf_release(&sb);
}

void
query_mask_line(const char *q, char *buf, size_t size, size_t max)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *p = q ? q : "", *e;
	int blank = 0, prev_word = 0;

	while (*p && sb.len <= max) {
		if ((*p == 'E' || *p == 'e') && p[1] == '\'' && !prev_word)
			p++;	/* E'...': masked as the string it is */
		e = skip_quoted(p, 1);
		if (e != p) {
			if (*p == '"') {	/* an identifier: keep it */
				if (blank && sb.len)
					strbuf_addch(&sb, ' ');
				strbuf_add(&sb, p, (size_t)(e - p));
			} else if (*p == '-' || *p == '/') {
				blank = 1;
				p = e;
				continue;
			} else {
				if (blank && sb.len)
					strbuf_addch(&sb, ' ');
				strbuf_addch(&sb, '?');
			}
			blank = prev_word = 0;
			p = e;
			continue;
		}
		if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20 ||
		    *p == 0x7f) {
			blank = 1;
			prev_word = 0;
			p++;
			continue;
		}
		if (blank && sb.len)
			strbuf_addch(&sb, ' ');
		blank = 0;
		if (isdigit((unsigned char)*p) && !prev_word) {
			while (isalnum((unsigned char)*p) || *p == '.')
				p++;
			strbuf_addch(&sb, '?');
			continue;
		}
		prev_word = word_char((unsigned char)*p);
		strbuf_addch(&sb, *p++);
	}
	cut_utf8(buf, size, sb.buf ? sb.buf : "", sb.len, max);
	strbuf_release(&sb);
}

long
lock_backoff_ms(int attempt, unsigned rnd)
{
	long base = 250;

	while (--attempt > 0 && base < 10000)
		base *= 2;
	if (base > 10000)
		base = 10000;
	return base / 2 + (long)(rnd % (unsigned)(base / 2 + 1));
}

/* ---- plan's tracing ---------------------------------------------------- */

const char lock_snapshot_sql[] =
	"SELECT c.oid, pg_catalog.pg_relation_filenode(c.oid), "
	"c.oid::pg_catalog.regclass::pg_catalog.text, c.relkind "
	"FROM pg_catalog.pg_class c "
	"WHERE c.oid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid "
	"AND c.relkind OPERATOR(pg_catalog.=) ANY "
	"('{r,p,m,i,I,S,v,f,t}'::pg_catalog.char[])";

/*
 * The relations our own backend holds a lock on, outside the system
 * catalogs and temporary schemas (no other session sees those), with the
 * server clock in every row (one row with NULLs when there is none).  A
 * relation this transaction dropped has no pg_class row any more: its
 * name comes from the snapshot.
 *
 * The locks of a transaction only grow, so after a few hundred statements
 * most rows are ones the previous trace returned already.  The key
 * (relation, mode, relfilenode) of each is kept in a transaction-local
 * setting, and only rows with a new key are returned (with $1 true:
 * all of them, for a statement whose warnings look at tables it locked
 * earlier): their size is computed once, and a rewrite (a new
 * relfilenode) makes its relation's rows new again.  pg_relation_size()
 * takes AccessShareLock on each row returned: the tracer counts that as
 * already seen.
 */
#define LOCK_TRACE_SQL \
	"WITH kk AS (SELECT l.relation, l.mode, " \
	"pg_catalog.pg_relation_filenode(l.relation) AS fn FROM " \
	"pg_catalog.pg_locks l WHERE l.pid OPERATOR(pg_catalog.=) " \
	"pg_catalog.pg_backend_pid() AND l.locktype OPERATOR(pg_catalog.=) " \
	"'relation' AND l.granted AND l.relation OPERATOR(pg_catalog.>=) " \
	"16384::pg_catalog.oid), " \
	"k AS (SELECT kk.*, kk.relation::pg_catalog.text " \
	"OPERATOR(pg_catalog.||) kk.mode OPERATOR(pg_catalog.||) " \
	"COALESCE(kk.fn::pg_catalog.text, '') AS key FROM kk), " \
	"prev AS (SELECT pg_catalog.string_to_array(pg_catalog.current_setting(" \
	"'entrypoint.plan_seen', true), ',') AS keys), " \
	"s AS (SELECT p.keys AS old, pg_catalog.set_config(" \
	"'entrypoint.plan_seen', COALESCE((SELECT pg_catalog.string_agg(key, " \
	"',') FROM k), ''), true) AS set FROM prev p), " \
	"x AS (SELECT k.* FROM k WHERE $1::boolean OR k.key NOT IN " \
	"(SELECT pg_catalog.unnest(s.old) FROM s)) " \
	"SELECT pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()), " \
	"x.relation, c.oid::pg_catalog.regclass::pg_catalog.text, c.relkind, " \
	"x.mode, x.fn, c.reltuples, CASE WHEN c.oid IS NOT NULL THEN " \
	"pg_catalog.pg_relation_size(c.oid) END, EXISTS (SELECT 1 FROM " \
	"pg_catalog.pg_constraint ck WHERE ck.conrelid OPERATOR(pg_catalog.=) " \
	"c.oid AND ck.contype OPERATOR(pg_catalog.=) 'c' AND ck.convalidated " \
	"AND pg_catalog.pg_get_constraintdef(ck.oid) OPERATOR(pg_catalog.~~) " \
	"'%IS NOT NULL%') " \
	"FROM s LEFT JOIN (x LEFT JOIN pg_catalog.pg_class c ON c.oid " \
	"OPERATOR(pg_catalog.=) x.relation LEFT JOIN pg_catalog.pg_namespace n " \
	"ON n.oid OPERATOR(pg_catalog.=) c.relnamespace) ON n.nspname IS NULL " \
	"OR (n.nspname OPERATOR(pg_catalog.<>) 'pg_toast' AND NOT " \
	"pg_catalog.starts_with(n.nspname, 'pg_temp_')) " \
	"ORDER BY x.relation, x.mode"

/*
 * Prepared once per migration (each one ends with DEALLOCATE ALL, as a new
 * session would): parsing it for each statement costs more than running
 * it.
 */
const char lock_trace_prepare_sql[] =
	"PREPARE entrypoint_plan_trace(pg_catalog.bool) AS " LOCK_TRACE_SQL;
const char lock_trace_new_sql[] = "EXECUTE entrypoint_plan_trace(false)";
const char lock_trace_all_sql[] = "EXECUTE entrypoint_plan_trace(true)";
const char lock_seen_get_sql[] =
	"SELECT pg_catalog.current_setting('entrypoint.plan_seen', true)";
const char lock_seen_set_sql[] =
	"SELECT pg_catalog.set_config('entrypoint.plan_seen', $1, true)";
const char lock_clock_sql[] =
	"SELECT pg_catalog.date_part('epoch', pg_catalog.clock_timestamp())";

void
lock_tracer_init(struct lock_tracer *t)
{
	memset(t, 0, sizeof(*t));
	t->mig = -1;
	t->ae_stmt = -1;
}

static int
known_cmp(const void *a, const void *b)
{
	const struct known_rel *x = a, *y = b;

	return x->oid < y->oid ? -1 : x->oid > y->oid;
}

static struct known_rel *
known_find(struct lock_tracer *t, unsigned oid)
{
	struct known_rel key;

	memset(&key, 0, sizeof(key));
	key.oid = oid;
	return t->n ? bsearch(&key, t->rel, t->n, sizeof(*t->rel),
	    known_cmp) : NULL;
}

/* Insert a relation the plan created; keep the array sorted. */
static struct known_rel *
known_add(struct lock_tracer *t, unsigned oid, unsigned filenode)
{
	size_t i;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->rel = xrealloc(t->rel, t->cap * sizeof(*t->rel));
	}
	for (i = t->n; i > 0 && t->rel[i - 1].oid > oid; i--)
		t->rel[i] = t->rel[i - 1];
	t->n++;
	memset(&t->rel[i], 0, sizeof(t->rel[i]));
	t->rel[i].oid = oid;
	t->rel[i].filenode = filenode;
	t->rel[i].created_in = t->mig;
	return &t->rel[i];
}

void
lock_tracer_snapshot(struct lock_tracer *t, const struct lock_row *rows,
    size_t n)
{
	size_t i;

	t->cap = n + 64;
	t->rel = xrealloc(t->rel, t->cap * sizeof(*t->rel));
	for (i = 0; i < n; i++) {
		memset(&t->rel[i], 0, sizeof(t->rel[i]));
		t->rel[i].oid = rows[i].oid;
		t->rel[i].filenode = rows[i].filenode;
		t->rel[i].name = rows[i].name ? xstrdup(rows[i].name) : NULL;
		t->rel[i].kind = rows[i].kind;
		t->rel[i].created_in = -1;
	}
	t->n = n;
	qsort(t->rel, n, sizeof(*t->rel), known_cmp);
}

void
lock_tracer_clock(struct lock_tracer *t, double now)
{
	t->last_t = now;
}

void
lock_tracer_migration(struct lock_tracer *t, long mig)
{
	size_t i;

	t->mig = mig;
	for (i = 0; i < t->nae; i++)
		free(t->ae_names[i]);
	free(t->ae_names);
	t->ae_names = NULL;
	t->nae = 0;
	t->ae_stmt = -1;
}

static int
is_table(char kind)
{
	return kind == 'r' || kind == 'm' || kind == 'p';
}

static int
has_rows(const struct traced_rel *r)
{
	return r->reltuples > 0 || r->bytes > 0;
}

/* "items (about 1000 rows, 64 kB)" */
static char *
rel_size(const struct traced_rel *r)
{
	static const char *const unit[] = { "bytes", "kB", "MB", "GB", "TB" };
	double b = (double)r->bytes;
	size_t u = 0;
	char sz[32];

	while (b >= 10240 && u + 1 < ARRAY_LEN(unit)) {
		b /= 1024;
		u++;
	}
	snprintf(sz, sizeof(sz), "%.0f %s", b, unit[u]);
	if (r->reltuples >= 0)
		return xasprintf("%s (about %.0f rows, %s)", r->name,
		    r->reltuples, sz);
	return xasprintf("%s (%s)", r->name, sz);
}

static void
warn_add(struct traced_stmt *s, char *w)
{
	s->warnings = xrealloc(s->warnings, (s->nwarn + 2) *
	    sizeof(*s->warnings));
	s->warnings[s->nwarn++] = w;
	s->warnings[s->nwarn] = NULL;
}

/* Group the rows of one oid into out->rels (new modes, rewrites). */
static void
take_rows(struct lock_tracer *t, const struct lock_row *rows, size_t n,
    struct traced_stmt *out, struct traced_rel **held, size_t *nheld)
{
	size_t i, j;
	struct known_rel *k;
	struct traced_rel r;
	unsigned modes, all;

	for (i = 0; i < n; i = j) {
		all = 0;
		for (j = i; j < n && rows[j].oid == rows[i].oid; j++)
			if (rows[j].mode >= 0)
				all |= 1u << rows[j].mode;
		k = known_find(t, rows[i].oid);
		if (!k)
			k = known_add(t, rows[i].oid, rows[i].filenode);
		modes = all & ~k->modes_seen;
		memset(&r, 0, sizeof(r));
		r.kind = rows[i].kind ? rows[i].kind : k->kind;
		r.modes = modes;
		r.rewritten = k->filenode && rows[i].filenode &&
		    k->filenode != rows[i].filenode;
		r.reltuples = rows[i].reltuples;
		r.bytes = rows[i].bytes;
		r.notnull_check = rows[i].notnull_check;
		if (rows[i].filenode)
			k->filenode = rows[i].filenode;
		/* its pg_relation_size() took AccessShareLock */
		k->modes_seen |= all | 1u << LM_ACCESS_SHARE;
		if (k->created_in == t->mig)
			continue;	/* nobody else can see it yet */
		r.name = xstrdup(rows[i].name ? rows[i].name : k->name ?
		    k->name : "?");
		if (modes || r.rewritten) {
			out->rels = xrealloc(out->rels, (out->n + 1) *
			    sizeof(*out->rels));
			out->rels[out->n++] = r;
		} else if (is_table(r.kind) &&
		    (all >> LM_SHARE_UPDATE_EXCLUSIVE)) {
			*held = xrealloc(*held, (*nheld + 1) * sizeof(**held));
			(*held)[(*nheld)++] = r;
		} else {
			free(r.name);
		}
	}
}

/* The warnings that depend on the statement's own words and tables. */
static void
shape_warnings(struct traced_stmt *s, const struct traced_rel *cand,
    size_t nc)
{
	const struct stmt_shape *sh = &s->shape;
	size_t i;
	char *d;

	for (i = 0; i < s->n; i++) {
		const struct traced_rel *r = &s->rels[i];

		if (!is_table(r->kind) || !has_rows(r))
			continue;
		d = rel_size(r);
		if (sh->create_index && !sh->concurrently &&
		    (r->modes & 1u << LM_SHARE))
			warn_add(s, xasprintf("CREATE INDEX without "
			    "CONCURRENTLY blocks writes to %s while it builds: "
			    "use CREATE INDEX CONCURRENTLY in a "
			    "transaction:false migration", d));
		if (r->rewritten)
			warn_add(s, xasprintf("rewrites %s under "
			    "AccessExclusiveLock: reads and writes wait until "
			    "it is done; add a new column and backfill it in "
			    "batches, or pick a change that needs no rewrite",
			    d));
		free(d);
	}
	for (i = 0; i < nc; i++) {
		const struct traced_rel *r = &cand[i];

		if (!is_table(r->kind) || !has_rows(r))
			continue;
		d = rel_size(r);
		if (sh->set_not_null && !r->notnull_check)
			warn_add(s, xasprintf("SET NOT NULL scans %s under "
			    "AccessExclusiveLock: first ADD CONSTRAINT ... "
			    "CHECK (col IS NOT NULL) NOT VALID, VALIDATE "
			    "CONSTRAINT it in a later migration, then SET NOT "
			    "NULL (PostgreSQL 12+ then skips the scan)", d));
		if ((sh->add_fk || sh->add_check) && !sh->not_valid)
			warn_add(s, xasprintf("%s added without NOT VALID is "
			    "checked against every row of %s while the lock "
			    "is held: add it NOT VALID, then VALIDATE "
			    "CONSTRAINT in a later migration (that takes only "
			    "ShareUpdateExclusiveLock)", sh->add_fk ?
			    "a FOREIGN KEY" : "a CHECK constraint", d));
		if (sh->add_unique && !sh->using_index)
			warn_add(s, xasprintf("a PRIMARY KEY or UNIQUE "
			    "constraint builds its index on %s under "
			    "AccessExclusiveLock: CREATE UNIQUE INDEX "
			    "CONCURRENTLY first, then ADD CONSTRAINT ... USING "
			    "INDEX", d));
		free(d);
	}
}

void
lock_tracer_stmt(struct lock_tracer *t, const char *sql, long idx,
    const struct lock_row *rows, size_t n, double now,
    struct traced_stmt *out)
{
	struct traced_rel *held = NULL;
	size_t nheld = 0, i;
	int m;
	enum lock_blocks b;

	memset(out, 0, sizeof(*out));
	out->strongest = -1;
	stmt_shape_of(sql, &out->shape);
	out->ms = now > t->last_t ? (now - t->last_t) * 1000 : 0;
	t->last_t = now;
	take_rows(t, rows, n, out, &held, &nheld);
	for (i = 0; i < out->n; i++)
		for (m = 0; m < LM_COUNT; m++) {
			if (!(out->rels[i].modes & 1u << m))
				continue;
			b = lock_mode_blocks(m);
			if (b > out->blocks)
				out->blocks = b;
			if (m > out->strongest)
				out->strongest = m;
		}
	/* The table a statement works on may be locked already (by an
	 * earlier statement of the migration): then look at those. */
	shape_warnings(out, out->n ? out->rels : held, out->n ? out->n :
	    nheld);
	if (t->nae && t->ae_stmt >= 0 && t->ae_stmt < idx &&
	    (out->nwarn || out->ms >= SLOW_MS))
		warn_add(out, xasprintf("AccessExclusiveLock on %s (taken by "
		    "statement %ld) is held while this statement does slow "
		    "work (%.0f ms here): reads and writes of it wait for all "
		    "of it; put the slow work in its own migration",
		    t->ae_names[0], t->ae_stmt + 1, out->ms));
	for (i = 0; i < out->n; i++)
		if (out->rels[i].modes & 1u << LM_ACCESS_EXCLUSIVE) {
			t->ae_names = xrealloc(t->ae_names, (t->nae + 1) *
			    sizeof(*t->ae_names));
			t->ae_names[t->nae++] = xstrdup(out->rels[i].name);
			if (t->ae_stmt < 0)
				t->ae_stmt = idx;
		}
	for (i = 0; i < nheld; i++)
		free(held[i].name);
	free(held);
}

void
traced_stmt_release(struct traced_stmt *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->rels[i].name);
	free(s->rels);
	for (i = 0; i < s->nwarn; i++)
		free(s->warnings[i]);
	free(s->warnings);
	memset(s, 0, sizeof(*s));
}

void
lock_tracer_release(struct lock_tracer *t)
{
	size_t i;

	lock_tracer_migration(t, -1);
	for (i = 0; i < t->n; i++)
		free(t->rel[i].name);
	free(t->rel);
	memset(t, 0, sizeof(*t));
}

/* ---- who blocks a waiting statement ------------------------------------ */

static const char sql_blockers[] =
	"SELECT a.pid, a.usename, a.application_name, a.state, "
	"pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() "
	"OPERATOR(pg_catalog.-) a.xact_start), a.query "
	"FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) "
	"ANY (pg_catalog.pg_blocking_pids($1::pg_catalog.int4)) "
	"ORDER BY a.xact_start LIMIT 4";

void
lock_blocker_format(const struct lock_blocker *b, char *buf, size_t size)
{
	char open[48] = "";

	if (b->xact_secs >= 0)
		snprintf(open, sizeof(open), ", transaction open %.1f s",
		    b->xact_secs);
	snprintf(buf, size, "pid %d (user %s, application_name \"%s\", %s%s, "
	    "query: %s)", b->pid, *b->user ? b->user : "?", b->app,
	    *b->state ? b->state : "?", open, *b->query ? b->query : "-");
}

void
lock_watch_arm(struct lock_watch *w, const char *url, int pid,
    long ddl_lock_timeout_ms)
{
	long p = ddl_lock_timeout_ms / 6;

	w->url = url;
	w->pid = pid;
	w->started = now_ms();
	w->last_poll = 0;
	w->nseen = 0;
	w->poll_ms = p < 10 ? 10 : p > 250 ? 250 : p;
	w->open_after_ms = w->poll_ms;
}

static void
set_field(char *dst, size_t size, const PGresult *r, int row, int col)
{
	snprintf(dst, size, "%s", PQgetisnull(r, row, col) ? "" :
	    PQgetvalue(r, row, col));
}

static void
watch_open(struct lock_watch *w)
{
	const char *const keys[] = { "dbname", "application_name",
		"connect_timeout", NULL };
	const char *vals[] = { w->url, "entrypoint migrate (lock watch)", "5",
		NULL };

	w->conn = PQconnectdbParams(keys, vals, 1);
	if (!w->conn || PQstatus(w->conn) != CONNECTION_OK) {
		PQfinish(w->conn);
		w->conn = NULL;
		w->failed = 1;
	}
}

void
lock_watch_poll(struct lock_watch *w)
{
	char pid[16];
	const char *params[1] = { pid };
	PGresult *r;
	long long t = now_ms();
	long v;
	int i, n;

	if (!w->url || w->failed || !w->pid || t - w->started <
	    w->open_after_ms || t - w->last_poll < w->poll_ms)
		return;
	w->last_poll = t;
	if (!w->conn)
		watch_open(w);
	if (!w->conn)
		return;
	snprintf(pid, sizeof(pid), "%d", w->pid);
	r = PQexecParams(w->conn, sql_blockers, 1, NULL, params, NULL, NULL,
	    0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		if (PQstatus(w->conn) != CONNECTION_OK) {
			PQfinish(w->conn);
			w->conn = NULL;
			w->failed = 1;
		}
		return;
	}
	n = PQntuples(r);
	if (n > (int)ARRAY_LEN(w->seen))
		n = (int)ARRAY_LEN(w->seen);
	if (n > 0)
		w->nseen = 0;
	for (i = 0; i < n; i++) {
		struct lock_blocker *b = &w->seen[w->nseen++];

		memset(b, 0, sizeof(*b));
		if (parse_long(PQgetvalue(r, i, 0), 0, 1L << 30, &v) == 0)
			b->pid = (int)v;
		set_field(b->user, sizeof(b->user), r, i, 1);
		stmt_first_line(PQgetvalue(r, i, 2), b->app, sizeof(b->app),
		    sizeof(b->app) - 4);
		set_field(b->state, sizeof(b->state), r, i, 3);
		b->xact_secs = PQgetisnull(r, i, 4) ? -1 :
		    strtod(PQgetvalue(r, i, 4), NULL);
		query_mask_line(PQgetvalue(r, i, 5), b->query,
		    sizeof(b->query), 80);
	}
	PQclear(r);
}

size_t
lock_watch_blockers(struct lock_watch *w)
{
	return w->nseen;
}

void
lock_watch_close(struct lock_watch *w)
{
	if (w->conn)
		PQfinish(w->conn);
	w->conn = NULL;
	w->failed = 0;
	w->url = NULL;
}
