/*
 * sqlfile.c - read a migration file: name, markers, sections, statements;
 * see sqlfile.h.
 *
 * The statement splitter follows the rules of psql's lexer (psqlscan.l),
 * written again from its documented behaviour: a ';' ends a statement only
 * outside quotes and comments, at parenthesis depth 0 and outside the
 * BEGIN ... END of a CREATE [OR REPLACE] FUNCTION|PROCEDURE body written
 * in SQL-standard form (BEGIN ATOMIC).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the direct SHA-256 functions, see sqlfile_sha256() */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "sqlfile.h"
#include "util.h"


/*
 * SHA256_Init/Update/Final: OpenSSL 3 marks them deprecated, but they run
 * the digest directly.  The EVP interface first loads the default provider
 * and builds its name tables, about a millisecond per process, which a
 * no-op migrate (connect, hash the files, read the list) cannot afford next
 * to the libpq floor (bench/migrate.sh).
 */
void
sqlfile_sha256(const void *buf, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int n = SHA256_DIGEST_LENGTH, i;
	SHA256_CTX c;

	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, buf, len) != 1 ||
	    SHA256_Final(md, &c) != 1)
		n = 0;
	for (i = 0; i < n && i < SQLFILE_CHECKSUM_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * i] = '\0';
}

int
sqlfile_parse_name(const char *fname, long long *version,
    char **version_str, char **name, enum sqlfile_kind *kind, char *err,
    size_t errsz)
{
	size_t len = strlen(fname), nd = 0, end;
	enum sqlfile_kind k = SQLFILE_SINGLE;

	if (fname[0] == '.' || len < 4)
		return 0;
	if (strcasecmp(fname + len - 4, ".sql") == 0 &&
	    strcmp(fname + len - 4, ".sql") != 0 &&
	    isdigit((unsigned char)fname[0]))
		return errf(err, errsz, "invalid migration file name \"%s\" "
		    "(the suffix is \".sql\", in lower case)", fname);
	if (strcmp(fname + len - 4, ".sql") != 0)
		return 0;
	end = len - 4;
	if (end >= 3 && strncmp(fname + end - 3, ".up", 3) == 0) {
		k = SQLFILE_UP;
		end -= 3;
	} else if (end >= 5 && strncmp(fname + end - 5, ".down", 5) == 0) {
		k = SQLFILE_DOWN;
		end -= 5;
	}
	while (nd < end && isdigit((unsigned char)fname[nd]))
		nd++;
	if (nd == 0 || nd >= end || fname[nd] != '_' || nd + 1 == end)
		return errf(err, errsz, "invalid migration file name \"%s\" "
		    "(want VERSION_name.sql or VERSION_name.up.sql/"
		    ".down.sql, VERSION digits)", fname);
	if (nd > SQLFILE_VERSION_DIGITS) {
		size_t z = 0;

		while (z < nd && fname[z] == '0')
			z++;
		if (nd - z > SQLFILE_VERSION_DIGITS)
			return errf(err, errsz, "invalid migration file name "
			    "\"%s\": version has more than %d digits", fname,
			    SQLFILE_VERSION_DIGITS);
	}
	if (memchr(fname + nd + 1, '.', end - nd - 1))
		return errf(err, errsz, "invalid migration file name \"%s\" "
		    "(a '.' in the name)", fname);
	*version = strtoll(fname, NULL, 10);
	if (version_str)
		*version_str = xstrndup(fname, nd);
	if (name)
		*name = xstrndup(fname + nd + 1, end - nd - 1);
	*kind = k;
	return 1;
}

/* A migration file's bytes, or NULL with the reason in err. */
static char *
read_migration(const char *path, size_t *len, char *err, size_t errsz)
{
	char *text = NULL;
	int r = slurp(path, 1, SQLFILE_MAX, &text, len);

	if (r > 0)
		errf(err, errsz, "could not read migration file \"%s\": not "
		    "a regular file", path);
	else if (r < 0)
		errf(err, errsz, "could not read migration file \"%s\": %s",
		    path, strerror(errno));
	return text;
}

/*
 * A marker line: "--" optional blanks "migrate:up" or "migrate:down" at
 * the start of a line.  Return 1 (up), 2 (down) or 0, and where its
 * options begin.
 */
static int
marker_at(const char *p, const char *end, const char **opts)
{
	if (end - p < 2 || p[0] != '-' || p[1] != '-')
		return 0;
	p += 2;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p >= 10 && memcmp(p, "migrate:up", 10) == 0 &&
	    (end - p == 10 || isspace((unsigned char)p[10]))) {
		*opts = p + 10;
		return 1;
	}
	if (end - p >= 12 && memcmp(p, "migrate:down", 12) == 0 &&
	    (end - p == 12 || isspace((unsigned char)p[12]))) {
		*opts = p + 12;
		return 2;
	}
	return 0;
}

/* Offset of the first "-- migrate:down" line, or len. */
static size_t
down_offset(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl, *opts;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (marker_at(p, nl, &opts) == 2)
			return (size_t)(p - text);
		p = nl + 1;
	}
	return len;
}

int
sqlfile_read(struct sqlfile *sf, const char *path, const char *down_path,
    char *err, size_t errsz)
{
	char *p = xstrdup(path);

	free(sf->path);
	sf->path = p;
	p = down_path ? xstrdup(down_path) : NULL;
	free(sf->down_path);
	sf->down_path = p;
	if (!sf->text)	/* else the lister's read (sqlfile.h) */
		sf->text = read_migration(sf->path, &sf->len, err, errsz);
	if (!sf->text)
		return -1;
	if (sf->down_path && !sf->down_text)
		sf->down_text = read_migration(sf->down_path, &sf->down_len,
		    err, errsz);
	if (sf->down_path) {
		if (!sf->down_text)
			return -1;
		sqlfile_sha256(sf->text, sf->len, sf->checksum);
	} else {
		sqlfile_sha256(sf->text, down_offset(sf->text, sf->len),
		    sf->checksum);
	}
	return 0;
}

int
sqlfile_read_mem(struct sqlfile *sf, const char *path, const char *text,
    size_t len, char *err, size_t errsz)
{
	(void)err;
	(void)errsz;
	sf->path = xstrdup(path);
	/* A copy of all len bytes: the text may hold NULs (xstrndup would
	 * stop at the first while len runs on). */
	sf->text = xmalloc(len + 1);
	memcpy(sf->text, text, len);
	sf->text[len] = '\0';
	sf->len = len;
	sqlfile_sha256(sf->text, down_offset(sf->text, sf->len),
	    sf->checksum);
	return 0;
}

/* ---- the statement splitter ------------------------------------------ */

struct splitter {
	const char *t;
	size_t len, i;
	int line;
	const char *path;
	char *err;
	size_t errsz;
	struct sql_section *sec;
	/* the statement being read */
	long start;		/* offset of its first token, -1: none yet */
	int start_line;
	int paren, begin_depth, nident;
	char idents[4];		/* psql's CREATE [OR REPLACE] FUNCTION test */
	char first[12], second[12];
	int prev_from, copy_in;
	int prev_add, prev_read, adds_enum, read_only;
};

static int
ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static int
ident_cont(unsigned char c)
{
	return ident_start(c) || isdigit(c) || c == '$';
}

static int
at(const struct splitter *s, size_t k, char c)
{
	return s->i + k < s->len && s->t[s->i + k] == c;
}

static void
advance(struct splitter *s)
{
	if (s->t[s->i] == '\n')
		s->line++;
	s->i++;
}

static void
stmt_reset(struct splitter *s)
{
	s->start = -1;
	s->paren = s->begin_depth = s->nident = 0;
	memset(s->idents, 0, sizeof(s->idents));
	s->first[0] = s->second[0] = '\0';
	s->prev_from = s->copy_in = 0;
	s->prev_add = s->prev_read = s->adds_enum = s->read_only = 0;
}

static void
stmt_mark(struct splitter *s)
{
	if (s->start < 0) {
		s->start = (long)s->i;
		s->start_line = s->line;
	}
}

/* Skip a -- comment up to (not including) the newline. */
static void
skip_line_comment(struct splitter *s)
{
	while (s->i < s->len && s->t[s->i] != '\n')
		s->i++;
}

/* Skip a nested block comment. */
static int
skip_block_comment(struct splitter *s)
{
	int depth = 0, line = s->line;

	while (s->i < s->len) {
		if (at(s, 0, '/') && at(s, 1, '*')) {
			depth++;
			s->i += 2;
		} else if (at(s, 0, '*') && at(s, 1, '/')) {
			s->i += 2;
			if (--depth == 0)
				return 0;
		} else {
			advance(s);
		}
	}
	return errf(s->err, s->errsz, "%s:%d: unterminated /* comment",
	    s->path, line);
}

/* A '...' string; backslash escapes when esc (E'...'). */
static int
skip_string(struct splitter *s, int esc)
{
	int line = s->line;

	s->i++;
	while (s->i < s->len) {
		if (esc && s->t[s->i] == '\\' && s->i + 1 < s->len) {
			s->i++;
			advance(s);
		} else if (s->t[s->i] == '\'') {
			if (at(s, 1, '\'')) {
				s->i += 2;
				continue;
			}
			s->i++;
			return 0;
		} else {
			advance(s);
		}
	}
	return errf(s->err, s->errsz, "%s:%d: unterminated quoted string",
	    s->path, line);
}

static int
skip_quoted_ident(struct splitter *s)
{
	int line = s->line;

	s->i++;
	while (s->i < s->len) {
		if (s->t[s->i] == '"') {
			if (at(s, 1, '"')) {
				s->i += 2;
				continue;
			}
			s->i++;
			return 0;
		}
		advance(s);
	}
	return errf(s->err, s->errsz, "%s:%d: unterminated quoted "
	    "identifier", s->path, line);
}

/*
 * At a '$': a dollar-quoted string ($$...$$, $tag$...$tag$), a parameter
 * ($1) or a lone '$'.
 */
static int
skip_dollar(struct splitter *s)
{
	size_t j = s->i + 1, taglen, k;
	int line = s->line;
	const char *tag;

	if (j < s->len && ident_start((unsigned char)s->t[j])) {
		while (j < s->len && (ident_start((unsigned char)s->t[j]) ||
		    isdigit((unsigned char)s->t[j])))
			j++;
	}
	if (j >= s->len || s->t[j] != '$') {
		s->i++;
		while (s->i < s->len && isdigit((unsigned char)s->t[s->i]))
			s->i++;
		return 0;
	}
	tag = s->t + s->i;
	taglen = j + 1 - s->i;
	s->i = j + 1;
	for (k = s->i; k + taglen <= s->len; k++) {
		if (s->t[k] == '$' && memcmp(s->t + k, tag, taglen) == 0) {
			while (s->i < k)
				advance(s);
			s->i = k + taglen;
			return 0;
		}
	}
	return errf(s->err, s->errsz, "%s:%d: unterminated dollar-quoted "
	    "string", s->path, line);
}

static int
word_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/*
 * An identifier or key word.  Tracks what psql tracks to find the end of a
 * BEGIN ATOMIC body, and what we need to know: the first two words (BEGIN,
 * COMMIT, COPY) and "FROM STDIN".
 */
static void
scan_word(struct splitter *s)
{
	const char *w = s->t + s->i;
	size_t n = 0, k;
	char *dst;

	while (s->i + n < s->len && ident_cont((unsigned char)w[n]))
		n++;
	s->i += n;
	if (s->nident < 2) {
		dst = s->nident == 0 ? s->first : s->second;
		for (k = 0; k < n && k + 1 < sizeof(s->first); k++)
			dst[k] = (char)tolower((unsigned char)w[k]);
		dst[k] = '\0';
	}
	if (s->nident < 4 && (word_is(w, n, "create") ||
	    word_is(w, n, "function") || word_is(w, n, "procedure") ||
	    word_is(w, n, "or") || word_is(w, n, "replace")))
		s->idents[s->nident] = (char)tolower((unsigned char)w[0]);
	s->nident++;
	if (s->idents[0] == 'c' && s->paren == 0 &&
	    (s->idents[1] == 'f' || s->idents[1] == 'p' ||
	    (s->idents[1] == 'o' && s->idents[2] == 'r' &&
	    (s->idents[3] == 'f' || s->idents[3] == 'p')))) {
		if (word_is(w, n, "begin") ||
		    (word_is(w, n, "case") && s->begin_depth >= 1))
			s->begin_depth++;
		else if (word_is(w, n, "end") && s->begin_depth > 0)
			s->begin_depth--;
	}
	if (s->paren == 0 && s->prev_from && word_is(w, n, "stdin") &&
	    strcmp(s->first, "copy") == 0)
		s->copy_in = 1;
	s->prev_from = s->paren == 0 && word_is(w, n, "from");
	/* ALTER TYPE ... ADD VALUE; transaction modes READ ONLY/WRITE */
	if (s->prev_add && word_is(w, n, "value") &&
	    strcmp(s->first, "alter") == 0 && strcmp(s->second, "type") == 0)
		s->adds_enum = 1;
	s->prev_add = word_is(w, n, "add");
	if (s->prev_read && (word_is(w, n, "only") || word_is(w, n, "write")))
		s->read_only = word_is(w, n, "only") ? 1 : -1;
	s->prev_read = word_is(w, n, "read");
}

static enum sql_txn
txn_control(const struct splitter *s)
{
	if (strcmp(s->first, "begin") == 0 ||
	    (strcmp(s->first, "start") == 0 &&
	    strcmp(s->second, "transaction") == 0))
		return SQL_TXN_BEGIN;
	if ((strcmp(s->first, "commit") == 0 ||
	    strcmp(s->first, "end") == 0) &&
	    strcmp(s->second, "prepared") != 0)
		return SQL_TXN_COMMIT;
	if ((strcmp(s->first, "rollback") == 0 &&
	    strcmp(s->second, "to") != 0 &&
	    strcmp(s->second, "prepared") != 0) ||
	    strcmp(s->first, "abort") == 0)
		return SQL_TXN_ROLLBACK;
	if (strcmp(s->first, "set") == 0 &&
	    strcmp(s->second, "transaction") == 0)
		return SQL_TXN_SET;
	return SQL_TXN_NONE;
}

static struct sql_stmt *
push_stmt(struct splitter *s, size_t end)
{
	struct sql_section *sec = s->sec;
	struct sql_stmt *st;
	size_t b = (size_t)s->start;

	while (end > b && isspace((unsigned char)s->t[end - 1]))
		end--;
	if ((sec->n & (sec->n - 1)) == 0)	/* 0, 1, 2, 4, ...: grow */
		sec->stmts = xrealloc(sec->stmts, (sec->n ? 2 * sec->n : 1) *
		    sizeof(*st));
	st = &sec->stmts[sec->n++];
	memset(st, 0, sizeof(*st));
	st->sql = xstrndup(s->t + b, end - b);
	st->line = s->start_line;
	st->txn_control = txn_control(s);
	st->read_only = s->read_only;
	st->adds_enum_value = s->adds_enum;
	sec->adds_enum_value |= s->adds_enum;
	return st;
}

/*
 * After "COPY ... FROM stdin;": the rest of the line may hold only a
 * comment; the rows follow up to a line "\." (or the end of the text).
 */
static int
read_copy_rows(struct splitter *s, struct sql_stmt *st)
{
	size_t b, p;
	const char *nl;

	while (s->i < s->len && s->t[s->i] != '\n') {
		if (at(s, 0, '-') && at(s, 1, '-')) {
			skip_line_comment(s);
			break;
		}
		if (!isspace((unsigned char)s->t[s->i]))
			return errf(s->err, s->errsz, "%s:%d: text after "
			    "COPY ... FROM stdin; on the same line is not "
			    "supported", s->path, s->line);
		s->i++;
	}
	if (s->i < s->len)
		advance(s);
	b = p = s->i;
	while (p < s->len) {
		nl = memchr(s->t + p, '\n', s->len - p);
		if (s->t[p] == '\\' && p + 1 < s->len && s->t[p + 1] == '.' &&
		    (p + 2 == s->len || s->t[p + 2] == '\n' ||
		    (s->t[p + 2] == '\r' && (p + 3 == s->len ||
		    s->t[p + 3] == '\n'))))
			break;
		p = nl ? (size_t)(nl - s->t) + 1 : s->len;
	}
	st->copy_in = 1;
	st->copy_data = xstrndup(s->t + b, p - b);
	st->copy_len = p - b;
	s->sec->has_copy = 1;
	while (s->i < p)
		advance(s);
	if (p < s->len) {
		/* the "\." line */
		nl = memchr(s->t + p, '\n', s->len - p);
		s->i = nl ? (size_t)(nl - s->t) : s->len;
		if (s->i < s->len)
			advance(s);
	}
	return 0;
}

/*
 * A backslash outside quotes starts a psql meta-command.  pg_dump (15.14
 * and later) writes "\restrict KEY" and "\unrestrict KEY" around its
 * output; they only limit psql's own meta-commands, so they are skipped.
 * Every other one is refused.
 */
static int
meta_command(struct splitter *s)
{
	size_t n = 1;

	while (s->i + n < s->len && !isspace((unsigned char)s->t[s->i + n]) &&
	    n < 32)
		n++;
	if (s->start < 0 && ((n == 9 && memcmp(s->t + s->i, "\\restrict",
	    9) == 0) || (n == 11 && memcmp(s->t + s->i, "\\unrestrict",
	    11) == 0))) {
		skip_line_comment(s);
		return 0;
	}
	return errf(s->err, s->errsz, "%s:%d: psql meta-command \"%.*s\" is "
	    "not supported in a migration", s->path, s->line, (int)n,
	    s->t + s->i);
}

int
sqlfile_split(const char *text, size_t len, const char *path,
    int first_line, struct sql_section *sec, char *err, size_t errsz)
{
	struct splitter s;
	struct sql_stmt *st;
	unsigned char c;
	int r = 0;

	memset(&s, 0, sizeof(s));
	s.t = text;
	s.len = len;
	s.line = first_line;
	s.path = path;
	s.err = err;
	s.errsz = errsz;
	s.sec = sec;
	stmt_reset(&s);
	while (r == 0 && s.i < s.len) {
		c = (unsigned char)s.t[s.i];
		if (isspace(c)) {
			advance(&s);
		} else if (c == '-' && at(&s, 1, '-')) {
			skip_line_comment(&s);
		} else if (c == '/' && at(&s, 1, '*')) {
			r = skip_block_comment(&s);
		} else if (c == ';') {
			if (s.start < 0 || s.paren > 0 || s.begin_depth > 0) {
				s.i++;
				continue;
			}
			st = push_stmt(&s, s.i);
			s.i++;
			if (s.copy_in)
				r = read_copy_rows(&s, st);
			stmt_reset(&s);
		} else if (c == '\\') {
			r = meta_command(&s);
		} else {
			stmt_mark(&s);
			if (c == '\'') {
				r = skip_string(&s, 0);
				s.prev_from = 0;
			} else if (c == '"') {
				r = skip_quoted_ident(&s);
				s.prev_from = 0;
			} else if (c == '$') {
				r = skip_dollar(&s);
				s.prev_from = 0;
			} else if ((c == 'E' || c == 'e') && at(&s, 1, '\'')) {
				s.i++;
				r = skip_string(&s, 1);
				s.prev_from = 0;
			} else if (ident_start(c)) {
				scan_word(&s);
			} else {
				if (c == '(')
					s.paren++;
				else if (c == ')' && s.paren > 0)
					s.paren--;
				s.prev_from = 0;
				s.i++;
			}
		}
	}
	if (r == 0 && s.start >= 0) {
		if (s.copy_in)
			return errf(err, errsz, "%s:%d: COPY ... FROM stdin "
			    "without ';' and rows", path, s.start_line);
		push_stmt(&s, s.len);
	}
	return r;
}

/* ---- sections --------------------------------------------------------- */

static int
marker_options(const char *opts, const char *nl, struct sql_section *sec,
    const char *path, int line, char *err, size_t errsz)
{
	const char *p = opts, *w;

	for (;;) {
		while (p < nl && isspace((unsigned char)*p))
			p++;
		if (p >= nl)
			return 0;
		w = p;
		while (p < nl && !isspace((unsigned char)*p))
			p++;
		if (p - w == 17 && memcmp(w, "transaction:false", 17) == 0)
			sec->no_transaction = 1;
		else if (!(p - w == 16 &&
		    memcmp(w, "transaction:true", 16) == 0))
			return errf(err, errsz, "%s:%d: unrecognized marker "
			    "option \"%.*s\" (only transaction:false)", path,
			    line, (int)(p - w), w);
	}
}

/*
 * psql skips a UTF-8 byte-order mark at the start of its input (and an
 * editor on Windows may write one): the length to skip, 3 or 0.
 */
static size_t
bom_len(const char *text, size_t len)
{
	return len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* True when text holds nothing but blanks and comments. */
static int
only_comments(const char *text, size_t len)
{
	struct sql_section tmp;
	char err[8];
	int r;

	memset(&tmp, 0, sizeof(tmp));
	r = sqlfile_split(text, len, "", 1, &tmp, err, sizeof(err));
	r = r == 0 && tmp.n == 0;
	sqlfile_section_release(&tmp);
	return r;
}

/*
 * Find the sections of one file.  allow says which markers it may hold
 * (1: up, 2: down, 3: both); the text outside any marker belongs to
 * dflt (the up section of a single or .up.sql file, the down section of a
 * .down.sql file).
 */
static int
find_sections(const char *text, size_t len, const char *path, int allow,
    struct sql_section *up, struct sql_section *down, char *err,
    size_t errsz)
{
	const char *p, *end = text + len, *nl, *opts;
	struct sql_section *cur = NULL, *dflt = allow == 2 ? down : up;
	int line = 1, m;

	text += bom_len(text, len);
	p = text;
	len = (size_t)(end - text);
	dflt->present = 1;
	dflt->text = text;
	dflt->len = len;
	dflt->line = 1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		m = marker_at(p, nl, &opts);
		if (m) {
			struct sql_section *sec = m == 1 ? up : down;

			if (!(allow & m))
				return errf(err, errsz, "%s:%d: a \"-- migrate:"
				    "%s\" marker does not belong in this file",
				    path, line, m == 1 ? "up" : "down");
			if ((m == 1 && cur) || (m == 2 && cur == down))
				return errf(err, errsz, "%s:%d: \"-- migrate:"
				    "%s\" marker out of place", path, line,
				    m == 1 ? "up" : "down");
			if (cur)
				cur->len = (size_t)(p - cur->text);
			else if (m == 2 && dflt == up)
				up->len = (size_t)(p - text);
			else if (!only_comments(text, (size_t)(p - text)))
				return errf(err, errsz, "%s:%d: SQL before "
				    "the \"-- migrate:%s\" marker", path, line,
				    m == 1 ? "up" : "down");
			if (marker_options(opts, nl, sec, path, line, err,
			    errsz) < 0)
				return -1;
			sec->present = 1;
			sec->text = nl < end ? nl + 1 : end;
			sec->len = (size_t)(end - sec->text);
			sec->line = line + 1;
			cur = sec;
		}
		p = nl + 1;
		line++;
	}
	return 0;
}

/*
 * The content rules of a section that runs in a transaction (see
 * sqlfile.h): refuse a ROLLBACK, find the statements that open the
 * transaction with its modes.
 */
static int
section_rules(struct sql_section *sec, const char *path, char *err,
    size_t errsz)
{
	size_t i = 0;

	if (sec->no_transaction)
		return 0;
	for (i = 0; i < sec->n; i++)
		if (sec->stmts[i].txn_control == SQL_TXN_ROLLBACK)
			return errf(err, errsz, "%s:%d: ROLLBACK in a migration "
			    "that runs in one transaction: remove it, or mark "
			    "the section transaction:false", path,
			    sec->stmts[i].line);
	i = 0;
	if (sec->n > 0 && sec->stmts[0].txn_control == SQL_TXN_BEGIN)
		i = 1;
	while (i < sec->n && sec->stmts[i].txn_control == SQL_TXN_SET)
		i++;
	sec->nlead = i;
	for (i = 0; i < sec->nlead; i++)
		if (sec->stmts[i].read_only)
			sec->read_only = sec->stmts[i].read_only > 0;
	return 0;
}

int
sqlfile_parse(struct sqlfile *sf, char *err, size_t errsz)
{
	struct sql_section dummy;
	int r;

	if (sf->parsed)
		return 0;
	memset(&dummy, 0, sizeof(dummy));
	if (sf->sections_set) {
		r = 0;
	} else if (sf->down_text) {
		r = find_sections(sf->text, sf->len, sf->path, 1, &sf->up,
		    &dummy, err, errsz);
		if (r == 0)
			r = find_sections(sf->down_text, sf->down_len,
			    sf->down_path, 2, &dummy, &sf->down, err, errsz);
	} else {
		r = find_sections(sf->text, sf->len, sf->path, 3, &sf->up,
		    &sf->down, err, errsz);
	}
	if (r == 0)
		r = sqlfile_split(sf->up.text, sf->up.len, sf->path,
		    sf->up.line, &sf->up, err, errsz);
	if (r == 0 && sf->down.present)
		r = sqlfile_split(sf->down.text, sf->down.len,
		    sf->down_path ? sf->down_path : sf->path, sf->down.line,
		    &sf->down, err, errsz);
	if (r == 0)
		r = section_rules(&sf->up, sf->path, err, errsz);
	if (r == 0 && sf->down.present)
		r = section_rules(&sf->down, sf->down_path ? sf->down_path :
		    sf->path, err, errsz);
	sf->parsed = r == 0;
	return r;
}

void
sqlfile_section_release(struct sql_section *sec)
{
	size_t i;

	for (i = 0; i < sec->n; i++) {
		free(sec->stmts[i].sql);
		free(sec->stmts[i].copy_data);
	}
	free(sec->stmts);
	sec->stmts = NULL;
	sec->n = 0;
}

void
sqlfile_release(struct sqlfile *sf)
{
	sqlfile_section_release(&sf->up);
	sqlfile_section_release(&sf->down);
	free(sf->version_str);
	free(sf->name);
	free(sf->path);
	free(sf->down_path);
	free(sf->text);
	free(sf->down_text);
	memset(sf, 0, sizeof(*sf));
}
