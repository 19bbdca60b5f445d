/*
 * fuzz_escape.c - libFuzzer target: the one escaper (escape_str) in every
 * mode, alone and after the masker, as a log line would use them.
 *
 * The first byte picks the output size for a cut (0: none); the rest is
 * the value, cut at its first NUL.  A byte 0x01 in it stands for the
 * secret SECRET (inputs holding SECRET themselves are skipped).
 * Properties (abort() on failure):
 *  - the output is valid UTF-8 (checked here by a separate decoder);
 *  - TEXT, QUOTED and JSON output holds no control character (C0, DEL,
 *    C1): no value can start a log line or drive the terminal;
 *  - QUOTED and JSON output has no '"' without a backslash before it;
 *  - DB output differs from the input only where it is not UTF-8;
 *  - a cut output is a prefix of the whole output, never inside a
 *    character or an escape (it is itself valid and free of controls);
 *  - no input makes a known secret appear: escaping never writes SECRET
 *    unless its input held it (so what the masker hid stays hidden in
 *    every log format), and when libpq reads a password holding SECRET
 *    from the value, the masked and escaped value shows no password libpq
 *    would read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "escape.h"
#include "mask.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "Kq7Zsecret"

/* Decode one UTF-8 character at s; return its length, 0 when invalid. */
static size_t
decode(const unsigned char *s, unsigned long *cp)
{
	size_t n, i;

	if (s[0] < 0x80)
		n = 1;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return 0;
	*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && *cp < 0x80) || (n == 3 && *cp < 0x800) ||
	    (n == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* Abort unless s is valid UTF-8 (and, with no_controls, has none). */
static void
check_utf8(const char *s, int no_controls)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t n;

	while (*p) {
		n = decode(p, &cp);
		if (n == 0)
			abort();
		if (no_controls && (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)))
			abort();
		p += n;
	}
}

/* Abort when s has a '"' not escaped by a backslash. */
static void
check_quotes(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == '"')
			abort();
	}
}

/* 1 when libpq reads a password holding SECRET from s. */
static int
libpq_reads_secret(const char *s)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int found = 0;

	opts = PQconninfoParse(s, &err);
	PQfreemem(err);
	if (!opts)
		return 0;
	for (o = opts; o->keyword; o++)
		if ((strcmp(o->keyword, "password") == 0 ||
		    strcmp(o->keyword, "sslpassword") == 0) && o->val &&
		    strstr(o->val, SECRET))
			found = 1;
	PQconninfoFree(opts);
	return found;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum escape_mode modes[] = {
		ESCAPE_TEXT, ESCAPE_QUOTED, ESCAPE_JSON, ESCAPE_DB
	};
	struct strbuf sb = { NULL, 0, 0 };
	char *s, *whole, *cut, *masked;
	size_t i, cutsize;

	if (size < 1 || memmem(data, size, SECRET, strlen(SECRET)))
		return 0;
	cutsize = data[0];
	for (i = 1; i < size && data[i]; i++) {
		if (data[i] == 1)
			strbuf_addstr(&sb, SECRET);
		else
			strbuf_addch(&sb, (char)data[i]);
	}
	s = strbuf_detach(&sb);
	if (!s)
		s = xstrdup("");
	masked = libpq_reads_secret(s) ? mask_arg(s) : NULL;
	for (i = 0; i < ARRAY_LEN(modes); i++) {
		whole = escape_dup(s, modes[i]);
		check_utf8(whole, modes[i] != ESCAPE_DB);
		if (modes[i] == ESCAPE_QUOTED || modes[i] == ESCAPE_JSON)
			check_quotes(whole);
		if (modes[i] == ESCAPE_DB && escape_is_plain(s) &&
		    strcmp(whole, s) != 0)
			abort();
		if (cutsize > 0) {
			cut = xmalloc(cutsize);
			escape_str(cut, cutsize, s, modes[i]);
			if (strlen(cut) >= cutsize ||
			    strncmp(cut, whole, strlen(cut)) != 0)
				abort();
			check_utf8(cut, modes[i] != ESCAPE_DB);
			free(cut);
		}
		if (strstr(whole, SECRET) && !strstr(s, SECRET))
			abort();
		free(whole);
		if (masked) {
			whole = escape_dup(masked, modes[i]);
			if ((strstr(whole, SECRET) && !strstr(masked, SECRET)) ||
			    (modes[i] == ESCAPE_DB &&
			    libpq_reads_secret(whole)))
				abort();
			free(whole);
		}
	}
	free(masked);
	free(s);
	return 0;
}
