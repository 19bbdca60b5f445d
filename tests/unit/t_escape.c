/*
 * t_escape.c - the one escaper: controls, quotes, invalid UTF-8 (RFC 3629
 * section 4's table: overlong forms, surrogates, > U+10FFFF), each mode,
 * and cutting on a character boundary.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "escape.h"

static void
check(const char *in, enum escape_mode m, const char *want, const char *name)
{
	char *got = escape_dup(in, m);

	is_str(got, want, name);
	free(got);
}

int
main(void)
{
	char buf[16];
	size_t used;

	check("plain text, é ü 日本 😀", ESCAPE_TEXT, "plain text, é ü 日本 😀",
	    "valid UTF-8 passes");
	check("a\nb\rc\td", ESCAPE_TEXT, "a\\nb\\rc\\td", "LF CR TAB");
	check("\033[2J\a\b\177", ESCAPE_TEXT, "\\x1b[2J\\x07\\x08\\x7f",
	    "ESC BEL BS DEL as \\xNN");
	check("\xc2\x9b" "1m", ESCAPE_TEXT, "\\u009b1m", "C1 CSI as \\u009b");
	check("a\"b\\c", ESCAPE_TEXT, "a\"b\\c", "text: quotes kept");
	check("a\"b\\c", ESCAPE_QUOTED, "a\\\"b\\\\c", "quoted: \\\" \\\\");
	check("a\"b\\c\n\x01", ESCAPE_JSON, "a\\\"b\\\\c\\n\\u0001",
	    "json: quotes, \\n, \\u0001");
	check("\x7f\xc2\x85", ESCAPE_JSON, "\\u007f\\u0085", "json: DEL, NEL");
	check("\xff", ESCAPE_JSON, "\\\\xff", "json: an invalid byte");
	check("a\xff\xfe", ESCAPE_TEXT, "a\\xff\\xfe", "text: invalid bytes");
	check("\xc0\xaf", ESCAPE_TEXT, "\\xc0\\xaf", "overlong '/' is invalid");
	check("\xe0\x80\xaf", ESCAPE_TEXT, "\\xe0\\x80\\xaf",
	    "3-byte overlong is invalid");
	check("\xed\xa0\x80", ESCAPE_TEXT, "\\xed\\xa0\\x80",
	    "a surrogate is invalid");
	check("\xf4\x90\x80\x80", ESCAPE_TEXT, "\\xf4\\x90\\x80\\x80",
	    "above U+10FFFF is invalid");
	check("\xf4\x8f\xbf\xbf", ESCAPE_TEXT, "\xf4\x8f\xbf\xbf",
	    "U+10FFFF is valid");
	check("\xe2\x82", ESCAPE_TEXT, "\\xe2\\x82", "a cut sequence");
	check("a\nb\xff", ESCAPE_DB, "a\nb\\xff",
	    "db: only invalid bytes change");
	ok(escape_is_plain("héllo"), "plain: valid, no controls");
	ok(!escape_is_plain("a\tb"), "plain: a tab is a control");
	ok(!escape_is_plain("a\xff"), "plain: invalid UTF-8 is not");

	used = escape_str(buf, 4, "éé", ESCAPE_TEXT);
	is_str(buf, "é", "cut before a character that does not fit");
	is_int((int)used, 2, "returns the bytes consumed");
	used = escape_str(buf, 5, "ab\n", ESCAPE_TEXT);
	is_str(buf, "ab\\n", "an escape that fits");
	used = escape_str(buf, 4, "ab\n", ESCAPE_TEXT);
	is_str(buf, "ab", "cut before an escape that does not fit");
	is_int((int)used, 2, "so the rest is known to be cut");
	used = escape_str(buf, 1, "x", ESCAPE_TEXT);
	is_str(buf, "", "size 1: empty");
	return done_testing();
}
