/*
 * escape.c - the one escaping function for log values and audit rows; see
 * escape.h.
 *
 * UTF-8 validation follows RFC 3629 section 4 (the table of well-formed
 * byte sequences): the shortest form only, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "util.h"

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when s[0] does not
 * start one.  *cp gets its code point.
 */
static size_t
utf8_len(const unsigned char *s, unsigned long *cp)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned long v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* 1 for C0 controls, DEL and C1 controls. */
static int
is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * The escaped form of the character at s (len bytes, code point cp; len 0
 * for an invalid byte) into out (at least 16 bytes).  Return its length.
 */
static size_t
escape_one(char *out, const char *s, size_t len, unsigned long cp,
    enum escape_mode mode)
{
	if (len == 0)
		return (size_t)snprintf(out, 16, mode == ESCAPE_JSON ?
		    "\\\\x%02x" : "\\x%02x", (unsigned char)s[0]);
	if (mode != ESCAPE_DB && is_control(cp)) {
		switch (cp) {
		case '\n':
			return (size_t)snprintf(out, 16, "\\n");
		case '\r':
			return (size_t)snprintf(out, 16, "\\r");
		case '\t':
			return (size_t)snprintf(out, 16, "\\t");
		default:
			break;
		}
		if (mode == ESCAPE_JSON || cp > 0x7f)
			return (size_t)snprintf(out, 16, "\\u%04lx", cp);
		return (size_t)snprintf(out, 16, "\\x%02lx", cp);
	}
	if ((mode == ESCAPE_QUOTED || mode == ESCAPE_JSON) &&
	    (cp == '"' || cp == '\\')) {
		out[0] = '\\';
		out[1] = (char)cp;
		return 2;
	}
	memcpy(out, s, len);
	return len;
}

size_t
escape_str(char *dst, size_t size, const char *s, enum escape_mode mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0, in = 0, len, n;
	unsigned long cp;
	char one[16];

	if (size == 0)
		return 0;
	while (p[in]) {
		len = utf8_len(p + in, &cp);
		n = escape_one(one, s + in, len, cp, mode);
		if (used + n >= size)
			break;
		memcpy(dst + used, one, n);
		used += n;
		in += len ? len : 1;
	}
	dst[used] = '\0';
	return in;
}

char *
escape_dup(const char *s, enum escape_mode mode)
{
	size_t size = strlen(s) * ESCAPE_MAX_RATIO + 1;
	char *out = xmalloc(size);

	escape_str(out, size, s, mode);
	return out;
}

int
escape_is_plain(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t len;

	while (*p) {
		len = utf8_len(p, &cp);
		if (len == 0 || is_control(cp))
			return 0;
		p += len;
	}
	return 1;
}
