/*
 * config.c - entrypoint.ini: load, validate, expand; see config.h.
 *
 * Loading has two phases.  First inih parses the text and our handler only
 * records each value as written, with its line; sections are recognised by
 * our own line reader (below).  Then finish() computes the child
 * environment (inherited, env_file, *_FILE, [env]), expands ${...} in every
 * recorded value against it and converts the values into struct config.  A
 * value can only be expanded once the whole file is read, because [env] may
 * come after the key that uses it; keeping each value's line lets a
 * conversion error still name file:line.
 *
 * What Debian's libinih (r55, INI_HANDLER_LINENO off) does, and how we use
 * it (tests/unit/t_config.c checks each point):
 *  - A ';' starts an inline comment only when a blank comes before it, even
 *    inside quotes: "sh -c 'a ; b'" loses " ; b'" and then fails as an
 *    unterminated quote.  Write "a; b" or "a \; b".  '#' starts a comment at
 *    the start of a line only.  Values are not unquoted.
 *  - Lines were cut at 200 bytes with the rest parsed as a new line, and an
 *    indented line continued the previous value.  Debian's build exposes
 *    these options as variables: we allow lines up to CONFIG_LINE_MAX on a
 *    growing heap buffer and turn continuation lines off (an indented line
 *    is an ordinary one), and stop at the first error.
 *  - The handler gets no line number and a section name cut at 49 bytes
 *    (CONFIG_NAME_MAX).  Our reader hands inih one line at a time, so it
 *    knows the line number, and it parses [section] lines itself before
 *    inih sees them: full names, empty sections, duplicates and junk after
 *    the ']' are all caught.  The handler ignores inih's section argument.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"
#include "mask.h"
#include "util.h"

#define CFG_REQUIRED 1

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 8192	/* bytes in one line, newline excluded */
#define SECRET_FILE_MAX (64 * 1024)	/* *_FILE, release_file */
#define EXPAND_DEPTH_MAX 16	/* ${A:-${B:-...}} */
#define IDENT_MAX 63		/* PostgreSQL's NAMEDATALEN - 1 */

enum sect {
	SECT_NONE, SECT_APP, SECT_ENV, SECT_DATABASE, SECT_SHELL,
	SECT_PROCESS, SECT_TASK
};

enum ktype {
	T_TEXT,			/* any string, "" kept */
	T_STRING,		/* optional string: "" is unset (NULL) */
	T_IDENT,		/* an SQL identifier */
	T_USER,			/* NAME, UID, NAME:GROUP or UID:GID */
	T_ENV_FILE,		/* path, read before anything is expanded */
	T_RELEASE_FILE,		/* fills app.release when that is empty */
	T_NAMES,		/* variable names separated by blanks/commas */
	T_DURATION,
	T_LOG_FORMAT,
	T_COMMAND,		/* checked with config_split_argv() */
	T_AUDIT,
	T_REQUIRE_MIGRATIONS,
	T_SIGNAL,
	T_DRY_RUN,
	T_BOOL,
	T_COUNT,		/* a whole number 0..1000 */
	T_SIZE,			/* bytes: 64k, 8M, 0 */
	T_RECORD
};

struct keydef {
	enum sect sect;
	const char *key;
	enum ktype type;
	size_t off;		/* in struct config, process_conf, task_conf */
	int flags;
	const char *def;
	const char *help;
};

#define OFF_APP(f) offsetof(struct config, f)
#define OFF_DATABASE(f) offsetof(struct config, f)
#define OFF_SHELL(f) offsetof(struct config, f)
#define OFF_PROCESS(f) offsetof(struct process_conf, f)
#define OFF_TASK(f) offsetof(struct task_conf, f)

static const struct keydef keys[] = {
#define CFG(sect, key, type, field, flags, def, help) \
	{ SECT_##sect, #key, T_##type, OFF_##sect(field), flags, def, help },
#include "config.def"
#undef CFG
};

enum { N_KEYS = ARRAY_LEN(keys) };

/* A value as written, before expansion. */
struct raw {
	char *val;
	int line;		/* 0: not set */
};

/* One section as written: [app], [database], [shell] or a process/task. */
struct inst {
	enum sect sect;
	char *name;		/* NAME of [process.NAME]/[task.NAME] */
	int line;		/* of the [section] line; 0: absent */
	struct raw raw[N_KEYS];
};

/* One [env] entry. */
struct envdef {
	char *name;
	char *val;
	int line;
};

struct parser {
	const char *file;	/* name in messages */
	const char *text;
	size_t len, pos;
	int line;		/* line of the text last handed to inih */
	int at_bol;		/* the next read starts a line */
	int failed;		/* an error was logged */
	enum sect cur_sect;	/* SECT_NONE before the first [section] */
	struct inst *cur;	/* NULL for [env] */
	char *cur_title;	/* "task.x", for messages */
	struct inst app, database, shell;
	int env_line;		/* of the [env] line; 0: absent */
	struct inst **procs, **tasks;
	size_t nprocs, ntasks;
	struct envdef *envs;
	size_t nenvs;
};

static const struct {
	const char *name;
	enum sect sect;
} sections[] = {
	{ "app", SECT_APP }, { "env", SECT_ENV },
	{ "database", SECT_DATABASE }, { "shell", SECT_SHELL },
	{ "process", SECT_PROCESS }, { "task", SECT_TASK },
};

struct word {
	const char *name;
	int value;
};

static const struct word audit_words[] = {
	{ "best-effort", AUDIT_BEST_EFFORT }, { "required", AUDIT_REQUIRED },
	{ "off", AUDIT_OFF }, { NULL, 0 }
};
static const struct word reqmig_words[] = {
	{ "off", REQUIRE_MIGRATIONS_OFF }, { "warn", REQUIRE_MIGRATIONS_WARN },
	{ "wait", REQUIRE_MIGRATIONS_WAIT }, { "fail", REQUIRE_MIGRATIONS_FAIL },
	{ NULL, 0 }
};
static const struct word logfmt_words[] = {
	{ "text", 0 }, { "json", 1 }, { NULL, 0 }
};
static const struct word record_words[] = {
	{ "yes", RECORD_YES }, { "required", RECORD_REQUIRED },
	{ "no", RECORD_NO }, { NULL, 0 }
};
static const struct word bool_words[] = {
	{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
	{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 }, { NULL, 0 }
};

/*
 * Log "FILE:LINE: message" (or "FILE: message" for line 0), mark the parse
 * failed and return -1.
 */
static int perr(struct parser *p, int line, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static int
perr(struct parser *p, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return log_error("%s:%d: %s", p->file, line, msg);
	return log_error("%s: %s", p->file, msg);
}

static const char *
sect_name(enum sect s)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(sections); i++)
		if (sections[i].sect == s)
			return sections[i].name;
	return "";
}

static const struct keydef *
find_key(enum sect s, const char *key)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (keys[i].sect == s && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* ---- ${VAR} expansion ------------------------------------------------ */

static int
is_name_char(char c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/*
 * Expand s from *pos into sb (only when emit; a default that is not used is
 * still parsed, so its errors show).  In a default (in_default) a '}' ends
 * the text.  Return 0, or -1 with a reason in *err.
 */
static int
expand_at(struct strbuf *sb, const char *s, size_t *pos,
    const struct env *env, int in_default, int emit, int depth,
    const char **err)
{
	const char *val;
	size_t start;
	char *name;
	int use_default;

	if (depth > EXPAND_DEPTH_MAX) {
		*err = "${...} nested too deeply";
		return -1;
	}
	for (;;) {
		char c = s[*pos];

		if (c == '\0') {
			if (!in_default)
				return 0;
			*err = "unterminated ${";
			return -1;
		}
		if (c == '}' && in_default) {
			(*pos)++;
			return 0;
		}
		if (c != '$' || (s[*pos + 1] != '$' && s[*pos + 1] != '{')) {
			if (emit)
				strbuf_addch(sb, c);
			(*pos)++;
			continue;
		}
		if (s[*pos + 1] == '$') {
			if (emit)
				strbuf_addch(sb, '$');
			*pos += 2;
			continue;
		}
		*pos += 2;
		start = *pos;
		while (is_name_char(s[*pos], *pos == start))
			(*pos)++;
		if (s[*pos] == '\0') {
			*err = "unterminated ${";
			return -1;
		}
		if (*pos == start) {
			*err = "invalid variable name in ${...}";
			return -1;
		}
		name = xstrndup(s + start, *pos - start);
		val = env_get(env, name);
		free(name);
		if (s[*pos] == '}') {
			(*pos)++;
			if (emit && val)
				strbuf_addstr(sb, val);
			continue;
		}
		if (s[*pos] != ':' || s[*pos + 1] != '-') {
			*err = "invalid ${...}: use ${VAR} or ${VAR:-default}";
			return -1;
		}
		*pos += 2;
		use_default = !val || !*val;
		if (expand_at(sb, s, pos, env, 1, emit && use_default,
		    depth + 1, err) < 0)
			return -1;
		if (emit && !use_default)
			strbuf_addstr(sb, val);
	}
}

/*
 * Is there a "$NAME" without braces in s?  In the release it would be
 * recorded as that text, so it is refused.  Return 1 with *name set to
 * NAME (a static buffer), else 0.  "$$" is a literal '$'.
 */
static int
bare_var(const char *s, const char **name)
{
	static char buf[CONFIG_NAME_MAX + 1];
	size_t n;

	for (; *s; s++) {
		if (s[0] == '$' && s[1] == '$') {
			s++;
			continue;
		}
		if (s[0] != '$' || !(isalpha((unsigned char)s[1]) ||
		    s[1] == '_'))
			continue;
		n = strspn(s + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789_");
		if (n > CONFIG_NAME_MAX)
			n = CONFIG_NAME_MAX;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		*name = buf;
		return 1;
	}
	return 0;
}

char *
config_expand(const char *s, const struct env *env, const char **err)
{
	struct strbuf sb = { NULL, 0, 0 };
	size_t pos = 0;

	if (expand_at(&sb, s, &pos, env, 0, 1, 0, err) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* ---- argv splitting -------------------------------------------------- */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
config_split_argv(const char *cmd, char ***argv, const char **err)
{
	struct strv sv = { NULL, 0, 0 };
	struct strbuf w = { NULL, 0, 0 };
	const char *p = cmd, *q;
	int inword = 0;

	*argv = NULL;
	for (;;) {
		if (*p == '\0' || is_blank(*p)) {
			if (inword)
				strv_push_owned(&sv, strbuf_detach(&w));
			inword = 0;
			if (*p == '\0')
				break;
			p++;
			continue;
		}
		inword = 1;
		if (*p == '\'') {
			q = strchr(p + 1, '\'');
			if (!q)
				goto unterminated;
			strbuf_add(&w, p + 1, (size_t)(q - p - 1));
			p = q + 1;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				strbuf_addch(&w, *p);
			}
			if (!*p)
				goto unterminated;
			p++;
		} else if (*p == '\\' && p[1]) {
			strbuf_addch(&w, p[1]);
			p += 2;
		} else {
			strbuf_addch(&w, *p);
			p++;
		}
	}
	if (sv.n == 0) {
		*err = "empty command";
		return -1;
	}
	*argv = sv.v;
	return 0;
unterminated:
	strbuf_release(&w);
	strv_release(&sv);
	*err = "unterminated quote";
	return -1;
}

/* ---- reading the file ------------------------------------------------ */

static struct inst *
new_inst(enum sect s, const char *name, int line)
{
	struct inst *in = xcalloc(1, sizeof(*in));

	in->sect = s;
	in->name = xstrdup(name);
	in->line = line;
	return in;
}

static void
inst_release(struct inst *in)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		free(in->raw[i].val);
	free(in->name);
}

static int
valid_inst_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* Suggest a section for an unrecognized one: only its part before '.'. */
static const char *
suggest_section(const char *title)
{
	const char *names[ARRAY_LEN(sections)];
	char head[64];
	size_t i, n = strcspn(title, ".");

	if (n >= sizeof(head))
		return NULL;
	memcpy(head, title, n);
	head[n] = '\0';
	for (i = 0; i < ARRAY_LEN(sections); i++)
		names[i] = sections[i].name;
	return closest_name(head, names, ARRAY_LEN(names));
}

/*
 * A "[section]" line: title is the text between the brackets, trimmed.
 * Start the section, or log why not and return -1.
 */
static int
start_section(struct parser *p, const char *title)
{
	const char *dot = strchr(title, '.'), *best, *name;
	struct inst *in, ***list;
	size_t i, hlen, *n;
	enum sect s = SECT_NONE;

	hlen = dot ? (size_t)(dot - title) : strlen(title);
	for (i = 0; i < ARRAY_LEN(sections); i++)
		if (strlen(sections[i].name) == hlen &&
		    strncmp(sections[i].name, title, hlen) == 0)
			s = sections[i].sect;
	if (s == SECT_NONE || (dot != NULL) !=
	    (s == SECT_PROCESS || s == SECT_TASK)) {
		best = suggest_section(title);
		if (!dot && (s == SECT_PROCESS || s == SECT_TASK))
			return perr(p, p->line, "missing name in section "
			    "[%s]: use [%s.NAME]", title, title);
		if (best && (streq(best, "process") || streq(best, "task")))
			return perr(p, p->line, "unrecognized section [%s] "
			    "(did you mean [%s.NAME]?)", title, best);
		if (best)
			return perr(p, p->line, "unrecognized section [%s] "
			    "(did you mean [%s]?)", title, best);
		return perr(p, p->line, "unrecognized section [%s]", title);
	}
	free(p->cur_title);
	p->cur_title = xstrdup(title);
	p->cur_sect = s;
	p->cur = NULL;
	switch (s) {
	case SECT_ENV:
		if (p->env_line)
			return perr(p, p->line, "duplicate section [env] "
			    "(first at line %d)", p->env_line);
		p->env_line = p->line;
		return 0;
	case SECT_APP:
		p->cur = &p->app;
		break;
	case SECT_DATABASE:
		p->cur = &p->database;
		break;
	case SECT_SHELL:
		p->cur = &p->shell;
		break;
	default:
		break;
	}
	if (p->cur) {
		if (p->cur->line)
			return perr(p, p->line, "duplicate section [%s] "
			    "(first at line %d)", title, p->cur->line);
		p->cur->line = p->line;
		return 0;
	}
	name = dot + 1;
	if (!*name)
		return perr(p, p->line, "missing name in section [%s]: use "
		    "[%sNAME]", title, title);
	if (strlen(name) > CONFIG_NAME_MAX)
		return perr(p, p->line, "%s name too long in section [%s]: "
		    "at most %d bytes", sect_name(s), title, CONFIG_NAME_MAX);
	if (!valid_inst_name(name))
		return perr(p, p->line, "invalid %s name \"%s\": use letters, "
		    "digits, \"_\", \".\" and \"-\"", sect_name(s), name);
	list = s == SECT_PROCESS ? &p->procs : &p->tasks;
	n = s == SECT_PROCESS ? &p->nprocs : &p->ntasks;
	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i]->name, name) == 0)
			return perr(p, p->line, "duplicate section [%s] "
			    "(first at line %d)", title, (*list)[i]->line);
	in = new_inst(s, name, p->line);
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = in;
	p->cur = in;
	return 0;
}

/*
 * Look at the physical line starting at s (n bytes, newline excluded)
 * before inih does: a "[section]" line starts the section.  Return 0, or
 * -1 after logging.
 */
static int
scan_line(struct parser *p, const char *s, size_t n)
{
	const char *eol = s + n, *close, *q;
	char *title;
	int rc;

	if (n > CONFIG_LINE_MAX)
		return perr(p, p->line, "line too long: at most %d bytes",
		    CONFIG_LINE_MAX);
	if (memchr(s, '\0', n))
		return perr(p, p->line, "invalid NUL byte");
	if (p->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (s < eol && isspace((unsigned char)*s))
		s++;
	if (s == eol || *s != '[')
		return 0;
	close = memchr(s, ']', (size_t)(eol - s));
	if (!close)
		return perr(p, p->line, "unterminated section header: "
		    "missing \"]\"");
	/* what follows the ']' may only be a comment */
	for (q = close + 1; q < eol && isspace((unsigned char)*q);)
		q++;
	if (q < eol && *q != ';' && *q != '#')
		return perr(p, p->line, "unexpected text after section "
		    "header \"%.*s\"", (int)(close + 1 - s), s);
	s++;
	while (s < close && isspace((unsigned char)*s))
		s++;
	while (close > s && isspace((unsigned char)close[-1]))
		close--;
	title = xstrndup(s, (size_t)(close - s));
	rc = start_section(p, title);
	free(title);
	return rc;
}

/*
 * inih's fgets-like reader over the text: hands out at most num - 1 bytes,
 * never past a newline, and counts lines.  inih asks again with the rest
 * of its (grown) buffer while a line is longer, so only a read at the start
 * of a line is a new line.  Returning NULL ends the parse.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	const char *s = p->text + p->pos, *nl;
	size_t n, linelen;

	if (p->failed || p->pos >= p->len || num < 2)
		return NULL;
	nl = memchr(s, '\n', p->len - p->pos);
	linelen = nl ? (size_t)(nl - s) : p->len - p->pos;
	if (p->at_bol) {
		p->line++;
		if (scan_line(p, s, linelen) < 0) {
			p->failed = 1;
			return NULL;
		}
	}
	n = nl ? linelen + 1 : linelen;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, s, n);
	str[n] = '\0';
	p->pos += n;
	p->at_bol = n > 0 && str[n - 1] == '\n';
	return str;
}

/*
 * Record one "name = value" line of the current section.  Return 0, or -1
 * after logging (unknown key, duplicate, no section).
 */
static int
handle_key(struct parser *p, const char *name, const char *value)
{
	const struct keydef *k;
	const char *names[N_KEYS], *best;
	size_t i, nn = 0;

	if (p->cur_sect == SECT_NONE)
		return perr(p, p->line, "key \"%s\" outside of any section",
		    name);
	if (!*name)
		return perr(p, p->line, "missing key name before \"=\"");
	if (p->cur_sect == SECT_ENV) {
		if (!env_valid_name(name))
			return perr(p, p->line, "invalid variable name \"%s\" "
			    "in section [env]", name);
		for (i = 0; i < p->nenvs; i++)
			if (strcmp(p->envs[i].name, name) == 0)
				return perr(p, p->line, "duplicate key \"%s\" "
				    "in section [env] (first at line %d)",
				    name, p->envs[i].line);
		p->envs = xrealloc(p->envs, (p->nenvs + 1) *
		    sizeof(*p->envs));
		p->envs[p->nenvs].name = xstrdup(name);
		p->envs[p->nenvs].val = xstrdup(value);
		p->envs[p->nenvs].line = p->line;
		p->nenvs++;
		return 0;
	}
	k = find_key(p->cur_sect, name);
	if (!k) {
		for (i = 0; i < N_KEYS; i++)
			if (keys[i].sect == p->cur_sect)
				names[nn++] = keys[i].key;
		best = closest_name(name, names, nn);
		if (best)
			return perr(p, p->line, "unrecognized key \"%s\" in "
			    "section [%s] (did you mean \"%s\"?)", name,
			    p->cur_title, best);
		return perr(p, p->line, "unrecognized key \"%s\" in section "
		    "[%s]", name, p->cur_title);
	}
	i = (size_t)(k - keys);
	if (p->cur->raw[i].line)
		return perr(p, p->line, "duplicate key \"%s\" in section [%s] "
		    "(first at line %d)", name, p->cur_title,
		    p->cur->raw[i].line);
	p->cur->raw[i].val = xstrdup(value);
	p->cur->raw[i].line = p->line;
	return 0;
}

/* inih's handler: nonzero on success.  The line is p->line (reader()). */
static int
handler(void *user, const char *section, const char *name,
    const char *value)
{
	(void)section;		/* cut at 49 bytes; p->cur_title is whole */
	return handle_key(user, name, value) == 0;
}

/*
 * Debian's libinih exposes its build options as variables (ini.h); set the
 * ones we design around.  See the comment at the top of this file.
 */
static void
ini_setup(void)
{
	ini_allow_multiline = 0;
	ini_stop_on_first_error = 1;
	ini_allow_no_value = 0;
	ini_allow_inline_comments = 1;
	ini_allow_bom = 1;
	ini_use_stack = 0;
	ini_allow_realloc = 1;
	ini_max_line = CONFIG_LINE_MAX + 3;	/* '\r', '\n', '\0' */
}

static int
parse_text(struct parser *p)
{
	int rc;

	ini_setup();
	p->at_bol = 1;
	rc = ini_parse_stream(reader, p, handler, p);
	if (p->failed)
		return -1;
	if (rc == -2)
		return perr(p, 0, "out of memory");
	if (rc > 0)
		return perr(p, rc, "syntax error: expected \"key = value\", "
		    "\"[section]\" or a comment");
	return 0;
}

/* ---- the environment --------------------------------------------------- */

/*
 * Read a file that a value names (*_FILE, env_file, release_file): a regular
 * file only.  We read it with every signal blocked, so a FIFO without a
 * writer or a terminal would hang us for good with TERM ignored, and a
 * device such as /dev/zero would never end.  O_NONBLOCK makes the open of
 * a FIFO return at once; O_NOCTTY keeps a terminal from becoming ours.
 * Return the text (NUL-terminated, length in *len), or NULL with *why.
 */
static char *
read_named_file(const char *path, size_t max, size_t *len, const char **why)
{
	struct stat st;
	char *text;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*why = strerror(errno);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = S_ISFIFO(st.st_mode) ? "not a regular file (a FIFO)" :
		    S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ?
		    "not a regular file (a device)" :
		    S_ISDIR(st.st_mode) ? "not a regular file (a directory)" :
		    "not a regular file";
		close(fd);
		return NULL;
	}
	text = read_fd(fd, max, len);
	if (!text)
		*why = strerror(errno);
	return text;
}

/*
 * Parse one value of an env_file line at s: 'single' (literal), "double"
 * (\" \\ \n escapes) or bare (up to a " #" comment, trimmed).  Return it,
 * or NULL with a reason in *why.
 */
static char *
env_file_value(const char *s, const char **why)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *p = s, *e;
	char q = *s;

	if (q == '\'' || q == '"') {
		for (p = s + 1; *p && *p != q; p++) {
			if (q == '"' && *p == '\\' && p[1]) {
				p++;
				strbuf_addch(&sb, *p == 'n' ? '\n' : *p);
				continue;
			}
			strbuf_addch(&sb, *p);
		}
		if (!*p) {
			strbuf_release(&sb);
			*why = "unterminated quote";
			return NULL;
		}
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		if (*p && *p != '#') {
			strbuf_release(&sb);
			*why = "unexpected text after the quoted value";
			return NULL;
		}
		return strbuf_detach(&sb);
	}
	for (e = s; *e; e++)
		if (*e == '#' && e > s && (e[-1] == ' ' || e[-1] == '\t'))
			break;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

/*
 * Read env_file path: NAME=VALUE lines, blank lines and # comments, an
 * optional "export " before the name.  Values are taken literally (no
 * ${...}).  Each variable is set only when unset.  line is the env_file
 * key's, for a missing file.
 */
static int
load_env_file(struct parser *p, struct env *env, const char *path, int line)
{
	char *text, *s, *next, *eq, *name, *val;
	const char *why = NULL;
	int n = 0, rc = 0;
	size_t len;

	text = read_named_file(path, CONFIG_FILE_MAX, &len, &why);
	if (!text)
		return perr(p, line, "could not read env_file \"%s\": %s",
		    path, why);
	for (s = text; s && rc == 0; s = next) {
		next = strchr(s, '\n');
		if (next)
			*next++ = '\0';
		n++;
		if (*s && s[strlen(s) - 1] == '\r')
			s[strlen(s) - 1] = '\0';
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			continue;
		if (starts_with(s, "export ") || starts_with(s, "export\t"))
			s += strspn(s + 6, " \t") + 6;
		eq = strchr(s, '=');
		if (!eq) {
			rc = log_error("%s:%d: invalid line in env_file: "
			    "expected NAME=VALUE", path, n);
			break;
		}
		name = s;
		*eq = '\0';
		for (s = eq; s > name && (s[-1] == ' ' || s[-1] == '\t');)
			*--s = '\0';
		if (!env_valid_name(name)) {
			rc = log_error("%s:%d: invalid variable name \"%s\" "
			    "in env_file", path, n, name);
			break;
		}
		val = env_file_value(eq + 1 + strspn(eq + 1, " \t"), &why);
		if (!val) {
			rc = log_error("%s:%d: invalid value of \"%s\" in "
			    "env_file: %s", path, n, name, why);
			break;
		}
		env_set_default(env, name, val);
		free(val);
	}
	free(text);
	return rc;
}

/* Strip trailing newlines (like the shell's $(cat file)). */
static void
trim_newlines(char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
		s[--*len] = '\0';
}

/* 1 when word (n bytes) is in the blank/comma separated list s. */
static int
in_list(const char *s, const char *word, size_t n)
{
	size_t w;

	for (;;) {
		s += strspn(s, " \t,");
		if (!*s)
			return 0;
		w = strcspn(s, " \t,");
		if (w == n && strncmp(s, word, n) == 0)
			return 1;
		s += w;
	}
}

/* 1 when s uses ${name} or ${name:-...}. */
static int
uses_var(const char *s, const char *name, size_t n)
{
	for (s = strstr(s, "${"); s; s = strstr(s + 2, "${"))
		if (strncmp(s + 2, name, n) == 0 &&
		    (s[2 + n] == '}' || s[2 + n] == ':'))
			return 1;
	return 0;
}

/*
 * Whether NAME_FILE should be read into NAME.  Not every *_FILE variable is
 * a secret: SSL_CERT_FILE, PIP_CONFIG_FILE, TF_CLI_CONFIG_FILE name files
 * for other programs, and reading a CA bundle into SSL_CERT would bloat
 * every child's environment (past execve's 128 KiB per string) or clash
 * with a real SSL_CERT.  So NAME must be one the config cares about: it
 * looks secret (the masking rule), ends in _URL or _DSN, is listed in
 * require_env or secret_env, or is used as ${NAME} in the file.
 */
static int
wants_file_var(const struct parser *p, const char *name)
{
	size_t i, k, n = strlen(name);
	const struct inst *in;

	if (mask_name_is_secret(name) || (n > 4 &&
	    (strcmp(name + n - 4, "_URL") == 0 ||
	    strcmp(name + n - 4, "_DSN") == 0)))
		return 1;
	for (k = 0; k < N_KEYS; k++) {
		if (keys[k].type != T_NAMES || !p->app.raw[k].val)
			continue;
		if (in_list(p->app.raw[k].val, name, n))
			return 1;
	}
	for (i = 0; i < 3 + p->nprocs + p->ntasks; i++) {
		in = i == 0 ? &p->app : i == 1 ? &p->database :
		    i == 2 ? &p->shell : i < 3 + p->nprocs ? p->procs[i - 3] :
		    p->tasks[i - 3 - p->nprocs];
		for (k = 0; k < N_KEYS; k++)
			if (in->raw[k].val && uses_var(in->raw[k].val, name, n))
				return 1;
	}
	for (i = 0; i < p->nenvs; i++)
		if (uses_var(p->envs[i].val, name, n))
			return 1;
	return 0;
}

/*
 * For every wanted NAME_FILE in env (wants_file_var): read the file into
 * NAME, trailing newlines trimmed.  Both set (and not empty) is an error: we
 * could not tell which one is meant.
 */
static int
load_file_vars(const struct parser *p, struct env *env)
{
	struct strv names = { NULL, 0, 0 };
	const char *eq, *path, *why = NULL;
	char *name, *text;
	size_t i, len;
	int rc = 0;

	for (i = 0; i < env->vars.n; i++) {
		eq = strchr(env->vars.v[i], '=');
		if (!eq || eq - env->vars.v[i] <= 5 ||
		    strncmp(eq - 5, "_FILE", 5) != 0)
			continue;
		strv_push_owned(&names, xstrndup(env->vars.v[i],
		    (size_t)(eq - env->vars.v[i])));
	}
	for (i = 0; i < names.n && rc == 0; i++) {
		path = env_get(env, names.v[i]);
		if (!path || !*path)
			continue;
		name = xstrndup(names.v[i], strlen(names.v[i]) - 5);
		if (!env_valid_name(name) || !wants_file_var(p, name)) {
			free(name);
			continue;
		}
		if (env_get(env, name) && *env_get(env, name)) {
			rc = log_error("%s and %s are both set: set only one",
			    name, names.v[i]);
		} else {
			text = read_named_file(path, SECRET_FILE_MAX, &len,
			    &why);
			if (!text) {
				rc = log_error("could not read %s \"%s\": %s",
				    names.v[i], path, why);
			} else if (strlen(text) != len) {
				rc = log_error("invalid %s \"%s\": the file "
				    "contains a NUL byte", names.v[i], path);
			} else {
				trim_newlines(text, &len);
				env_set(env, name, text);
			}
			free(text);
		}
		free(name);
	}
	strv_release(&names);
	return rc;
}

/* ---- converting values ------------------------------------------------ */

static const char *
word_name(const struct word *w, int value)
{
	for (; w->name; w++)
		if (w->value == value)
			return w->name;
	return "";
}

static int
word_value(const struct word *w, const char *s, int *out)
{
	for (; w->name; w++)
		if (strcasecmp(w->name, s) == 0) {
			*out = w->value;
			return 0;
		}
	return -1;
}

static char **
split_names(const char *s)
{
	struct strv sv = { NULL, 0, 0 };
	size_t n;

	for (;;) {
		s += strspn(s, " \t,");
		if (!*s)
			break;
		n = strcspn(s, " \t,");
		strv_push_owned(&sv, xstrndup(s, n));
		s += n;
	}
	if (!sv.v)
		return xcalloc(1, sizeof(char *));
	return sv.v;
}

static int
valid_user(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *p;

	if (!*s || *s == ':' || (colon && (!colon[1] || strchr(colon + 1,
	    ':'))))
		return 0;
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-:", *p))
			return 0;
	return 1;
}

static int
valid_ident(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IDENT_MAX || !is_name_char(*s, 1))
		return 0;
	for (; *s; s++)
		if (!is_name_char(*s, 0))
			return 0;
	return 1;
}

static void
set_str(void *field, const char *v)
{
	char **f = field;

	free(*f);
	*f = v ? xstrdup(v) : NULL;
}

/*
 * Store value v (expanded, or the default) of key k into the struct at base.
 * Return 0, or -1 with the reason in *why.
 */
static int
convert(const struct keydef *k, char *base, const char *v, const char **why)
{
	void *field = base + k->off;
	const char *err;
	char **argv, *text, *s;
	size_t len;
	long ms, lv;
	int iv, sig;

	switch (k->type) {
	case T_TEXT:
		set_str(field, v);
		return 0;
	case T_STRING:
		set_str(field, *v ? v : NULL);
		return 0;
	case T_IDENT:
		if (!valid_ident(v)) {
			*why = "expected a name of letters, digits and \"_\", "
			    "at most 63 bytes";
			return -1;
		}
		set_str(field, v);
		return 0;
	case T_USER:
		if (*v && !valid_user(v)) {
			*why = "expected NAME, UID, NAME:GROUP or UID:GID";
			return -1;
		}
		set_str(field, *v ? v : NULL);
		return 0;
	case T_ENV_FILE:
		return 0;	/* done by compute_env() */
	case T_RELEASE_FILE:
		if (!*v || **(char **)field)
			return 0;
		text = read_named_file(v, SECRET_FILE_MAX, &len, why);
		if (!text)
			return -1;
		for (s = text + len; s > text && isspace((unsigned char)s[-1]);)
			*--s = '\0';
		s = text + strspn(text, " \t\r\n");
		set_str(field, s);
		free(text);
		return 0;
	case T_NAMES:
		argv = split_names(v);
		for (len = 0; argv[len]; len++)
			if (!env_valid_name(argv[len])) {
				strv_free(argv);
				*why = "expected variable names separated by "
				    "blanks";
				return -1;
			}
		strv_free(*(char ***)field);
		*(char ***)field = argv;
		return 0;
	case T_DURATION:
		if (parse_duration(v, &ms) < 0) {
			*why = errno == ERANGE ? "duration too large" :
			    "expected a duration such as 500ms, 10s, 5m or 1h";
			return -1;
		}
		*(long *)field = ms;
		return 0;
	case T_LOG_FORMAT:
		if (word_value(logfmt_words, v, &iv) < 0) {
			*why = "expected text or json";
			return -1;
		}
		*(int *)field = iv;
		return 0;
	case T_COMMAND:
		if (!*v && !(k->flags & CFG_REQUIRED) && !k->def) {
			set_str(field, NULL);
			return 0;
		}
		if (config_split_argv(v, &argv, &err) < 0) {
			*why = strcmp(err, "unterminated quote") == 0 ?
			    "unterminated quote (a \";\" after a blank starts "
			    "a comment)" : err;
			return -1;
		}
		strv_free(argv);
		set_str(field, v);
		return 0;
	case T_AUDIT:
		if (word_value(audit_words, v, &iv) < 0) {
			*why = "expected required, best-effort or off";
			return -1;
		}
		*(enum audit_mode *)field = (enum audit_mode)iv;
		return 0;
	case T_REQUIRE_MIGRATIONS:
		if (word_value(reqmig_words, v, &iv) < 0) {
			*why = "expected off, warn, wait or fail";
			return -1;
		}
		*(enum require_migrations *)field =
		    (enum require_migrations)iv;
		return 0;
	case T_SIGNAL:
		s = xstrdup(v);
		for (text = s; *text; text++)
			*text = (char)toupper((unsigned char)*text);
		sig = signal_from_name(s);
		free(s);
		if (sig <= 0) {
			*why = "expected a signal name such as TERM, INT or "
			    "QUIT";
			return -1;
		}
		*(int *)field = sig;
		return 0;
	case T_DRY_RUN:
		if (strcmp(v, "env") == 0) {
			*(enum dry_run_mode *)field = DRY_RUN_ENV;
			set_str(base + offsetof(struct task_conf,
			    dry_run_flag), NULL);
		} else if (strcmp(v, "unsupported") == 0) {
			*(enum dry_run_mode *)field = DRY_RUN_UNSUPPORTED;
			set_str(base + offsetof(struct task_conf,
			    dry_run_flag), NULL);
		} else if (starts_with(v, "flag:") && v[5] &&
		    !strpbrk(v + 5, " \t")) {
			*(enum dry_run_mode *)field = DRY_RUN_FLAG;
			set_str(base + offsetof(struct task_conf,
			    dry_run_flag), v + 5);
		} else {
			*why = "expected env, unsupported or flag:ARG";
			return -1;
		}
		return 0;
	case T_BOOL:
		if (word_value(bool_words, v, &iv) < 0) {
			*why = "expected yes or no";
			return -1;
		}
		*(int *)field = iv;
		return 0;
	case T_COUNT:
		if (parse_long(v, 0, 1000, &lv) < 0) {
			*why = "expected a whole number from 0 to 1000";
			return -1;
		}
		*(long *)field = lv;
		return 0;
	case T_SIZE:
		if (parse_size(v, &ms) < 0) {
			*why = "expected a size such as 0, 512, 64k or 8M";
			return -1;
		}
		*(long *)field = ms;
		return 0;
	case T_RECORD:
		if (word_value(record_words, v, &iv) < 0) {
			*why = "expected yes, required or no";
			return -1;
		}
		*(enum record_mode *)field = (enum record_mode)iv;
		return 0;
	}
	*why = "internal error: unknown key type";
	return -1;
}

/* Free what convert() stored in the struct at base for section s. */
static void
release_fields(enum sect s1, enum sect s2, enum sect s3, char *base)
{
	size_t i;
	void *field;

	for (i = 0; i < N_KEYS; i++) {
		if (keys[i].sect != s1 && keys[i].sect != s2 &&
		    keys[i].sect != s3)
			continue;
		field = base + keys[i].off;
		switch (keys[i].type) {
		case T_TEXT: case T_STRING: case T_IDENT: case T_USER:
		case T_ENV_FILE: case T_COMMAND:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		case T_NAMES:
			strv_free(*(char ***)field);
			*(char ***)field = NULL;
			break;
		case T_DRY_RUN:
			free(*(char **)(base + offsetof(struct task_conf,
			    dry_run_flag)));
			*(char **)(base + offsetof(struct task_conf,
			    dry_run_flag)) = NULL;
			break;
		default:	/* T_RELEASE_FILE shares app.release */
			break;
		}
	}
}

/*
 * Expand and convert every key of section instance in (or its default)
 * into the struct at base.  Return 0 or -1 after logging.
 */
static int
apply_inst(struct parser *p, const struct inst *in, const char *title,
    char *base, const struct env *env)
{
	const struct keydef *k;
	const char *why = NULL;
	char *v;
	size_t i;
	int rc;

	for (i = 0; i < N_KEYS; i++) {
		k = &keys[i];
		if (k->sect != in->sect)
			continue;
		if (!in->raw[i].line) {
			if ((k->flags & CFG_REQUIRED))
				return perr(p, in->line, "missing key \"%s\" "
				    "in section [%s]", k->key, title);
			if (k->def && convert(k, base, k->def, &why) < 0)
				return perr(p, 0, "default of \"%s\": %s",
				    k->key, why);
			continue;
		}
		if (strcmp(k->key, "release") == 0 &&
		    bare_var(in->raw[i].val, &why))
			return perr(p, in->raw[i].line, "invalid release in "
			    "section [%s]: \"%s\" is not expanded there; write "
			    "${%s}", title, in->raw[i].val, why);
		v = config_expand(in->raw[i].val, env, &why);
		if (!v)
			return perr(p, in->raw[i].line, "invalid value of \"%s\" "
			    "in section [%s]: %s", k->key, title, why);
		rc = convert(k, base, v, &why);
		if (rc < 0 && k->type == T_RELEASE_FILE)
			perr(p, in->raw[i].line, "could not read release_file "
			    "\"%s\": %s", v, why);
		else if (rc < 0 && (k->type == T_COMMAND ||
		    mask_name_is_secret(k->key)))
			perr(p, in->raw[i].line, "invalid %s in section [%s]: "
			    "%s", k->key, title, why);
		else if (rc < 0)
			perr(p, in->raw[i].line, "invalid %s \"%s\" in section "
			    "[%s]: %s", k->key, v, title, why);
		free(v);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * The environment every child gets: inherited (already in env), then
 * env_file, *_FILE and [env], each only filling what is unset.  env_file's
 * path is expanded against the inherited environment; [env] values against
 * everything before them.
 */
static int
compute_env(struct parser *p, struct config *cfg)
{
	const struct raw *r = &p->app.raw[(size_t)(find_key(SECT_APP,
	    "env_file") - keys)];
	const char *why = NULL;
	char *v;
	size_t i;

	if (r->line) {
		v = config_expand(r->val, &cfg->env, &why);
		if (!v)
			return perr(p, r->line, "invalid value of \"env_file\" "
			    "in section [app]: %s", why);
		if (*v && load_env_file(p, &cfg->env, v, r->line) < 0) {
			free(v);
			return -1;
		}
		if (*v)
			cfg->app.env_file = v;
		else
			free(v);
	}
	if (load_file_vars(p, &cfg->env) < 0)
		return -1;
	for (i = 0; i < p->nenvs; i++) {
		v = config_expand(p->envs[i].val, &cfg->env, &why);
		if (!v)
			return perr(p, p->envs[i].line, "invalid value of \"%s\" "
			    "in section [env]: %s", p->envs[i].name, why);
		env_set_default(&cfg->env, p->envs[i].name, v);
		free(v);
	}
	return 0;
}

/*
 * Note the required variables that are unset or empty in cfg->missing_env
 * ("file:line: missing ..."); config_require_env() reports them for the
 * commands that start something.  Listing tasks or printing the help must
 * work without the app's secrets.
 */
static int
check_required_env(struct parser *p, struct config *cfg)
{
	const struct raw *r = &p->app.raw[(size_t)(find_key(SECT_APP,
	    "require_env") - keys)];
	struct strbuf missing = { NULL, 0, 0 };
	const char *v;
	size_t i;
	int n = 0;

	for (i = 0; cfg->app.require_env[i]; i++) {
		v = env_get(&cfg->env, cfg->app.require_env[i]);
		if (v && *v)
			continue;
		if (n++)
			strbuf_addch(&missing, ' ');
		strbuf_addstr(&missing, cfg->app.require_env[i]);
	}
	if (n)
		cfg->missing_env = xasprintf("%s:%d: missing required "
		    "environment variable%s (require_env): %s", p->file,
		    r->line, n > 1 ? "s" : "", missing.buf);
	strbuf_release(&missing);
	return 0;
}

int
config_require_env(const struct config *cfg)
{
	if (!cfg->missing_env)
		return 0;
	return log_error("%s", cfg->missing_env);
}

static int
finish(struct parser *p, struct config *cfg)
{
	char title[CONFIG_NAME_MAX + 16];
	size_t i;

	if (compute_env(p, cfg) < 0)
		return -1;
	p->app.sect = SECT_APP;
	p->database.sect = SECT_DATABASE;
	p->shell.sect = SECT_SHELL;
	if (apply_inst(p, &p->app, "app", (char *)cfg, &cfg->env) < 0 ||
	    apply_inst(p, &p->database, "database", (char *)cfg,
	    &cfg->env) < 0 ||
	    apply_inst(p, &p->shell, "shell", (char *)cfg, &cfg->env) < 0)
		return -1;
	cfg->procs = xcalloc(p->nprocs, sizeof(*cfg->procs));
	for (i = 0; i < p->nprocs; i++) {
		struct process_conf *pc = &cfg->procs[i];

		cfg->nprocs++;
		pc->name = xstrdup(p->procs[i]->name);
		pc->line = p->procs[i]->line;
		pc->stop_timeout_ms = -1;
		snprintf(title, sizeof(title), "process.%s", pc->name);
		if (apply_inst(p, p->procs[i], title, (char *)pc,
		    &cfg->env) < 0)
			return -1;
	}
	cfg->tasks = xcalloc(p->ntasks, sizeof(*cfg->tasks));
	for (i = 0; i < p->ntasks; i++) {
		struct task_conf *tc = &cfg->tasks[i];

		cfg->ntasks++;
		tc->name = xstrdup(p->tasks[i]->name);
		tc->line = p->tasks[i]->line;
		snprintf(title, sizeof(title), "task.%s", tc->name);
		if (apply_inst(p, p->tasks[i], title, (char *)tc,
		    &cfg->env) < 0)
			return -1;
	}
	return check_required_env(p, cfg);
}

static void
parser_release(struct parser *p)
{
	size_t i;

	inst_release(&p->app);
	inst_release(&p->database);
	inst_release(&p->shell);
	for (i = 0; i < p->nprocs; i++) {
		inst_release(p->procs[i]);
		free(p->procs[i]);
	}
	for (i = 0; i < p->ntasks; i++) {
		inst_release(p->tasks[i]);
		free(p->tasks[i]);
	}
	free(p->procs);
	free(p->tasks);
	for (i = 0; i < p->nenvs; i++) {
		free(p->envs[i].name);
		free(p->envs[i].val);
	}
	free(p->envs);
	free(p->cur_title);
}

/*
 * Load text (NULL: no file, the defaults) named file into cfg.  On error,
 * cfg is released (so the caller needs no cleanup) and -1 returned.
 */
static int
load(struct config *cfg, const char *text, size_t len, const char *file,
    const char *path, char *const *envp)
{
	struct parser p;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.file = file;
	p.text = text ? text : "";
	p.len = text ? len : 0;
	cfg->path = path ? xstrdup(path) : NULL;
	env_init_from(&cfg->env, envp);
	rc = parse_text(&p);
	if (rc == 0)
		rc = finish(&p, cfg);
	parser_release(&p);
	if (rc < 0) {
		config_release(cfg);
		return -1;
	}
	mask_set_names(cfg->app.secret_env);
	return 0;
}

int
config_load_string(struct config *cfg, const char *text, const char *name,
    char *const *envp)
{
	return load(cfg, text, strlen(text), name, NULL, envp);
}

int
config_load(struct config *cfg, const char *path, char *const *envp)
{
	const char *named = path;
	struct stat st;
	char *text;
	size_t i, len;
	int rc;

	for (i = 0; !named && envp && envp[i]; i++)
		if (starts_with(envp[i], "ENTRYPOINT_CONFIG=") &&
		    envp[i][strlen("ENTRYPOINT_CONFIG=")])
			named = envp[i] + strlen("ENTRYPOINT_CONFIG=");
	path = named ? named : "entrypoint.ini";
	/* As for *_FILE (read_named_file()): a FIFO or a device would block
	 * us, every signal blocked, or never end. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISDIR(st.st_mode)) {
		memset(cfg, 0, sizeof(*cfg));
		log_error("could not read config file \"%s\": not a regular "
		    "file (%s)", path, S_ISFIFO(st.st_mode) ? "a FIFO" :
		    "a device or socket");
		return -1;
	}
	text = read_file(path, CONFIG_FILE_MAX, &len);
	if (!text && errno == ENOENT && !named)
		return load(cfg, NULL, 0, path, NULL, envp);
	if (!text) {
		memset(cfg, 0, sizeof(*cfg));
		log_errno("could not read config file \"%s\"", path);
		/* A missing or forbidden file is the config's fault; running
		 * out of descriptors or memory is the system's (retry). */
		return errno == ENOENT || errno == EACCES || errno == EISDIR ||
		    errno == ENOTDIR || errno == EFBIG || errno == ELOOP ?
		    -1 : -2;
	}
	rc = load(cfg, text, len, path, path, envp);
	free(text);
	return rc;
}

void
config_release(struct config *cfg)
{
	size_t i;

	release_fields(SECT_APP, SECT_DATABASE, SECT_SHELL, (char *)cfg);
	for (i = 0; i < cfg->nprocs; i++) {
		release_fields(SECT_PROCESS, SECT_PROCESS, SECT_PROCESS,
		    (char *)&cfg->procs[i]);
		free(cfg->procs[i].name);
	}
	for (i = 0; i < cfg->ntasks; i++) {
		release_fields(SECT_TASK, SECT_TASK, SECT_TASK,
		    (char *)&cfg->tasks[i]);
		free(cfg->tasks[i].name);
	}
	free(cfg->procs);
	free(cfg->tasks);
	env_release(&cfg->env);
	free(cfg->path);
	free(cfg->missing_env);
	mask_set_names(NULL);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
config_database_url(const struct config *cfg)
{
	const char *u = cfg->database.url;

	if (u && *u)
		return u;
	u = env_get(&cfg->env, "DATABASE_URL");
	return u && *u ? u : NULL;
}

const struct process_conf *
config_process(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nprocs; i++)
		if (strcmp(cfg->procs[i].name, name) == 0)
			return &cfg->procs[i];
	return NULL;
}

const struct task_conf *
config_task(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ntasks; i++)
		if (strcmp(cfg->tasks[i].name, name) == 0)
			return &cfg->tasks[i];
	return NULL;
}

/* ---- config_dump ----------------------------------------------------- */

static void
format_duration(struct strbuf *sb, long ms)
{
	if (ms == 0)
		strbuf_addstr(sb, "0");
	else if (ms % 3600000 == 0)
		strbuf_addf(sb, "%ldh", ms / 3600000);
	else if (ms % 60000 == 0)
		strbuf_addf(sb, "%ldm", ms / 60000);
	else if (ms % 1000 == 0)
		strbuf_addf(sb, "%lds", ms / 1000);
	else
		strbuf_addf(sb, "%ldms", ms);
}

static void
format_size(struct strbuf *sb, long n)
{
	if (n && n % (1024L * 1024 * 1024) == 0)
		strbuf_addf(sb, "%ldG", n / (1024L * 1024 * 1024));
	else if (n && n % (1024L * 1024) == 0)
		strbuf_addf(sb, "%ldM", n / (1024L * 1024));
	else if (n && n % 1024 == 0)
		strbuf_addf(sb, "%ldk", n / 1024);
	else
		strbuf_addf(sb, "%ld", n);
}

/* A command with its arguments masked (mask_argv), re-quoted as needed. */
static void
format_command(struct strbuf *sb, const char *cmd)
{
	const char *err;
	char **argv, **masked, *m, *c;
	size_t i;

	if (config_split_argv(cmd, &argv, &err) < 0) {
		strbuf_addstr(sb, MASK);
		return;
	}
	masked = mask_argv(argv);
	strv_free(argv);
	argv = masked;
	for (i = 0; argv[i]; i++) {
		m = xstrdup(argv[i]);
		if (i)
			strbuf_addch(sb, ' ');
		if (*m && !strpbrk(m, " \t\n\r'\"\\")) {
			strbuf_addstr(sb, m);
		} else {
			strbuf_addch(sb, '\'');
			for (c = m; *c; c++)
				if (*c == '\'')
					strbuf_addstr(sb, "'\\''");
				else
					strbuf_addch(sb, *c);
			strbuf_addch(sb, '\'');
		}
		free(m);
	}
	strv_free(argv);
}

/* Print one key's effective value; base is the struct of its section. */
static void
dump_key(const struct config *cfg, const struct keydef *k, const char *base)
{
	struct strbuf sb = { NULL, 0, 0 };
	const void *field = base + k->off;
	const char *s;
	char *m;
	size_t i;

	switch (k->type) {
	case T_RELEASE_FILE:
		return;		/* its text is release */
	case T_TEXT: case T_STRING: case T_IDENT: case T_USER:
	case T_ENV_FILE:
		s = *(char *const *)field;
		if (k->sect == SECT_DATABASE || mask_name_is_secret(k->key)) {
			m = s ? mask_env_value(k->key, s) : NULL;
			strbuf_addstr(&sb, m ? m : "");
			free(m);
		} else {
			strbuf_addstr(&sb, s ? s : "");
		}
		break;
	case T_COMMAND:
		s = *(char *const *)field;
		if (!s && k->sect == SECT_TASK)
			s = cfg->app.on_exit;
		if (s)
			format_command(&sb, s);
		break;
	case T_NAMES:
		for (i = 0; (*(char **const *)field)[i]; i++)
			strbuf_addf(&sb, "%s%s", i ? " " : "",
			    (*(char **const *)field)[i]);
		break;
	case T_DURATION:
		format_duration(&sb, *(const long *)field < 0 ?
		    cfg->app.stop_timeout_ms : *(const long *)field);
		break;
	case T_LOG_FORMAT:
		strbuf_addstr(&sb, word_name(logfmt_words,
		    *(const int *)field));
		break;
	case T_AUDIT:
		strbuf_addstr(&sb, word_name(audit_words,
		    (int)*(const enum audit_mode *)field));
		break;
	case T_REQUIRE_MIGRATIONS:
		strbuf_addstr(&sb, word_name(reqmig_words,
		    (int)*(const enum require_migrations *)field));
		break;
	case T_SIGNAL:
		strbuf_addstr(&sb, signal_name(*(const int *)field));
		break;
	case T_DRY_RUN:
		switch (*(const enum dry_run_mode *)field) {
		case DRY_RUN_ENV:
			strbuf_addstr(&sb, "env");
			break;
		case DRY_RUN_FLAG:
			strbuf_addf(&sb, "flag:%s", ((const struct task_conf *)
			    (const void *)base)->dry_run_flag);
			break;
		default:
			strbuf_addstr(&sb, "unsupported");
			break;
		}
		break;
	case T_BOOL:
		strbuf_addstr(&sb, *(const int *)field ? "yes" : "no");
		break;
	case T_COUNT:
		strbuf_addf(&sb, "%ld", *(const long *)field);
		break;
	case T_SIZE:
		format_size(&sb, *(const long *)field);
		break;
	case T_RECORD:
		strbuf_addstr(&sb, word_name(record_words,
		    (int)*(const enum record_mode *)field));
		break;
	}
	printf("%s = %s\n", k->key, sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

static void
dump_section(const struct config *cfg, enum sect s, const char *base)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (keys[i].sect == s)
			dump_key(cfg, &keys[i], base);
}

/*
 * [env] is not kept apart from the rest of the environment once loaded, so
 * the dump shows the whole environment every child gets, masked.
 */
void
config_dump(const struct config *cfg)
{
	char *const *v;
	char *m;
	size_t i;

	printf("[app]\n");
	dump_section(cfg, SECT_APP, (const char *)cfg);
	printf("\n[database]\n");
	dump_section(cfg, SECT_DATABASE, (const char *)cfg);
	printf("\n[shell]\n");
	dump_section(cfg, SECT_SHELL, (const char *)cfg);
	for (i = 0; i < cfg->nprocs; i++) {
		printf("\n[process.%s]\n", cfg->procs[i].name);
		dump_section(cfg, SECT_PROCESS, (const char *)&cfg->procs[i]);
	}
	for (i = 0; i < cfg->ntasks; i++) {
		printf("\n[task.%s]\n", cfg->tasks[i].name);
		dump_section(cfg, SECT_TASK, (const char *)&cfg->tasks[i]);
	}
	printf("\n[env]\n");
	for (v = env_envp(&cfg->env); *v; v++) {
		m = mask_env_entry(*v);
		if (strchr(m, '='))
			printf("%.*s = %s\n", (int)(strchr(m, '=') - m), m,
			    strchr(m, '=') + 1);
		free(m);
	}
}
