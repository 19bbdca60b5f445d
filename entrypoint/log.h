/*
 * log.h - diagnostics on stderr.
 *
 * Every message has the shape "entrypoint: COMMAND: what failed: reason",
 * lower case, no final period.  stdout belongs to the child and to commands
 * that print data, so nothing here ever writes to it.  All functions keep
 * errno intact.  With log_format = json each message is one JSON object per
 * line with the keys "ts", "level", "cmd" and "msg" (see README).
 *
 * The error forms return -1 so that a caller can "return log_error(...)".
 * log_die() exits; it is for main.c and start-up code only, never once a
 * child exists (PID 1 dying takes the whole container down).
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* The command name put after "entrypoint: " (NULL for none). */
void log_set_command(const char *cmd);
void log_set_format(enum log_format fmt);
enum log_format log_get_format(void);
/*
 * While a sink is set, warnings and errors go to fn (the message without
 * the "entrypoint: COMMAND: " prefix) instead of stderr: `check` turns
 * what the checks it calls log into findings.  fn NULL: stderr again.
 */
typedef void log_sink_fn(enum log_level lvl, const char *msg, void *arg);
void log_set_sink(log_sink_fn *fn, void *arg);
/*
 * While a tee is set, fn also gets every line written to stderr (as
 * written: prefix, escaping and newline included), before it is written;
 * the operator sees the same as without.  migrate keeps what it said with
 * its audit row this way (audit_keep_log()).  fn NULL: no tee.
 */
typedef void log_tee_fn(const char *line, unsigned long n, void *arg);
void log_set_tee(log_tee_fn *fn, void *arg);
/* Debug output is on when $ENTRYPOINT_DEBUG is set and not "0". */
void log_set_debug(int on);

void log_debug(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_info(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_warn(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Return -1. */
int log_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* As log_error, with ": strerror(errno)" appended.  Return -1. */
int log_errno(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_warn_errno(const char *fmt, ...) PRINTF_LIKE(1, 2);

void log_msg(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_vmsg(enum log_level lvl, const char *reason, const char *fmt,
    va_list ap) PRINTF_LIKE(3, 0);

/*
 * One structured event (run start/end).  fields is a NULL-terminated list of
 * key, value pairs (strings).  Text mode prints "msg key=value ...".  In
 * json mode kinds[i] says how the value of pair i is written: 's' a
 * string, 'n' a number, 'b' a boolean ("true"/"false"); pairs beyond
 * strlen(kinds) (or every pair, kinds NULL) are written as JSON numbers
 * when they look like integers, else as strings.
 */
void log_event_typed(const char *msg, const char *const *fields,
    const char *kinds);

/* Write a JSON string literal (quotes included) for s into buf. */
void log_json_escape(char *buf, unsigned long size, const char *s);

__attribute__((noreturn)) void log_die(int code, const char *fmt, ...)
    PRINTF_LIKE(2, 3);

#endif
