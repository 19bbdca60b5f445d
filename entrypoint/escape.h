/*
 * escape.h - the one function that makes a value safe to print or store.
 *
 * Every value that goes into a log line (text or JSON) or into an audit
 * row passes through escape_str(), in one of these modes:
 *
 *  ESCAPE_TEXT    a text log line: control characters (C0, DEL, C1) are
 *                 written as \n \r \t or \xNN / \u0085, so that no value
 *                 reaches the terminal raw or starts a new log line;
 *  ESCAPE_QUOTED  as TEXT, and '"' and '\' get a backslash: the inside of
 *                 a "double-quoted" value of a text log event;
 *  ESCAPE_JSON    the inside of a JSON string: '"' and '\' escaped, C0 as
 *                 \n \r \t \b \f or \u00NN, DEL and C1 as \u00NN;
 *  ESCAPE_DB      a text column: only bytes that are not valid UTF-8
 *                 change.
 *
 * In every mode a byte that is not part of a valid UTF-8 sequence becomes
 * the four characters \xNN (in JSON the backslash itself is escaped, so a
 * reader sees the same \xNN), and the output is always valid UTF-8.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid.
 */
#ifndef ESCAPE_H
#define ESCAPE_H

#include <stddef.h>

enum escape_mode { ESCAPE_TEXT, ESCAPE_QUOTED, ESCAPE_JSON, ESCAPE_DB };

/* The most bytes one input byte can become (a C1 control in JSON: 2 in,
   12 out, and \xNN for one byte is 4, or 5 in JSON). */
#define ESCAPE_MAX_RATIO 6

/*
 * Write s, escaped for mode, into dst (size bytes, always NUL-terminated
 * when size > 0).  When it does not fit, the output is cut before the first
 * character or escape that does not fit whole: never inside a UTF-8
 * sequence or an escape.  Return the number of bytes of s consumed (so
 * s[returned] != '\0' means it was cut).  Context: any (no allocation).
 */
size_t escape_str(char *dst, size_t size, const char *s,
    enum escape_mode mode);

/*
 * s escaped for mode, whole, in a new string (caller frees); dies when out
 * of memory (before the child exists only).
 */
char *escape_dup(const char *s, enum escape_mode mode);

/* 1 when s is valid UTF-8 without control characters (C0, DEL, C1). */
int escape_is_plain(const char *s);

#endif
