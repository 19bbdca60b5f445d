/*
 * log.c - diagnostics on stderr; see log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"

static struct {
	const char *cmd;
	enum log_format fmt;
	int debug;
	log_sink_fn *sink;
	void *sink_arg;
	log_tee_fn *tee;
	void *tee_arg;
} lg;

static const char *const level_name[] = { "debug", "info", "warn", "error" };

void
log_set_command(const char *cmd)
{
	lg.cmd = cmd;
}

void
log_set_format(enum log_format fmt)
{
	lg.fmt = fmt;
}

enum log_format
log_get_format(void)
{
	return lg.fmt;
}

void
log_set_sink(log_sink_fn *fn, void *arg)
{
	lg.sink = fn;
	lg.sink_arg = arg;
}

void
log_set_tee(log_tee_fn *fn, void *arg)
{
	lg.tee = fn;
	lg.tee_arg = arg;
}

/* Write line[0..n) to stderr in one write(2), and to the tee. */
static void
put_line(const char *line, size_t n)
{
	if (lg.tee)
		lg.tee(line, n, lg.tee_arg);
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void
log_set_debug(int on)
{
	lg.debug = on;
}

/* s escaped for mode between double quotes, in buf (size >= 3). */
static void
quote(char *buf, size_t size, const char *s, enum escape_mode mode)
{
	size_t n;

	buf[0] = '"';
	escape_str(buf + 1, size - 2, s, mode);
	n = strlen(buf);
	buf[n++] = '"';
	buf[n] = '\0';
}

void
log_json_escape(char *buf, unsigned long size, const char *s)
{
	if (size < 3) {
		if (size > 0)
			buf[0] = '\0';
		return;
	}
	quote(buf, size, s, ESCAPE_JSON);
}

static void
timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
}

/*
 * Format and write one line with a single write(2), so that lines from
 * several processes sharing stderr do not interleave.
 */
static void
emit(enum log_level lvl, const char *reason, const char *fmt, va_list ap)
{
	char msg[2048], line[8448], esc[8192], cmd[256], ts[64];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= 0 && reason && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", reason);
	if (lg.sink && lvl >= LOG_WARN) {
		lg.sink(lvl, msg, lg.sink_arg);
		return;
	}
	if (lg.fmt == LOG_FORMAT_JSON) {
		timestamp(ts, sizeof(ts));
		log_json_escape(esc, sizeof(esc), msg);
		escape_str(cmd, sizeof(cmd), lg.cmd ? lg.cmd : "",
		    ESCAPE_JSON);
		n = snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"cmd\":\"%s\","
		    "\"msg\":%s}\n", ts, level_name[lvl], cmd, esc);
	} else {
		/* one escaper for the whole message: no value in it can
		   start a new line or reach the terminal raw */
		escape_str(esc, sizeof(esc), msg, ESCAPE_TEXT);
		escape_str(cmd, sizeof(cmd), lg.cmd ? lg.cmd : "",
		    ESCAPE_TEXT);
		n = snprintf(line, sizeof(line), "entrypoint: %s%s%s%s\n",
		    cmd, lg.cmd ? ": " : "", lvl == LOG_WARN ? "warning: " :
		    "", esc);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	put_line(line, (size_t)n);
}

void
log_vmsg(enum log_level lvl, const char *reason, const char *fmt, va_list ap)
{
	int saved = errno;

	if (lvl == LOG_DEBUG && !lg.debug) {
		errno = saved;
		return;
	}
	emit(lvl, reason, fmt, ap);
	errno = saved;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn_errno(const char *fmt, ...)
{
	va_list ap;
	const char *reason = strerror(errno);

	va_start(ap, fmt);
	log_vmsg(LOG_WARN, reason, fmt, ap);
	va_end(ap);
}

int
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int
log_errno(const char *fmt, ...)
{
	va_list ap;
	const char *reason = strerror(errno);

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, reason, fmt, ap);
	va_end(ap);
	return -1;
}

static int
looks_numeric(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s || (*s == '0' && s[1]))
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/*
 * Append ",\"key\":value" (json) or " key=value" (text) for one field to
 * line[*n..size), or nothing when it does not fit whole: a long line loses
 * its last fields, never its closing brace or the end of a string.
 */
static void
add_field(char *line, size_t size, size_t *n, const char *key,
    const char *v, char kind)
{
	char esc[2048];
	int w;

	if (lg.fmt == LOG_FORMAT_JSON) {
		if ((kind == 'n' && looks_numeric(v)) ||
		    (kind == 'b' && (strcmp(v, "true") == 0 ||
		    strcmp(v, "false") == 0)) ||
		    (kind == '?' && looks_numeric(v) && strlen(v) < 19))
			snprintf(esc, sizeof(esc), "%s", v);
		else
			log_json_escape(esc, sizeof(esc), v);
		w = snprintf(line + *n, size - *n, ",\"%s\":%s", key, esc);
	} else if (!*v || strpbrk(v, " \"\\") || !escape_is_plain(v)) {
		quote(esc, sizeof(esc), v, ESCAPE_QUOTED);
		w = snprintf(line + *n, size - *n, " %s=%s", key, esc);
	} else {
		escape_str(esc, sizeof(esc), v, ESCAPE_TEXT);
		w = snprintf(line + *n, size - *n, " %s=%s", key, esc);
	}
	if (w > 0 && (size_t)w < size - *n)
		*n += (size_t)w;
	else
		line[*n] = '\0';
}

void
log_event_typed(const char *msg, const char *const *fields,
    const char *kinds)
{
	char line[8192], esc[2048], cmd[256], ts[64];
	size_t n = 0;
	int saved = errno;

	if (lg.fmt == LOG_FORMAT_JSON) {
		timestamp(ts, sizeof(ts));
		log_json_escape(esc, sizeof(esc), msg);
		escape_str(cmd, sizeof(cmd), lg.cmd ? lg.cmd : "",
		    ESCAPE_JSON);
		n = (size_t)snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"info\",\"cmd\":\"%s\","
		    "\"msg\":%s", ts, cmd, esc);
	} else {
		escape_str(esc, sizeof(esc), msg, ESCAPE_TEXT);
		escape_str(cmd, sizeof(cmd), lg.cmd ? lg.cmd : "",
		    ESCAPE_TEXT);
		n = (size_t)snprintf(line, sizeof(line), "entrypoint: %s%s%s",
		    cmd, lg.cmd ? ": " : "", esc);
	}
	/* room for the closing brace and the newline */
	for (; fields && fields[0]; fields += 2) {
		char kind = kinds && *kinds ? *kinds++ : '?';

		add_field(line, sizeof(line) - 2, &n, fields[0],
		    fields[1] ? fields[1] : "", kind);
	}
	if (lg.fmt == LOG_FORMAT_JSON)
		line[n++] = '}';
	line[n++] = '\n';
	put_line(line, n);
	errno = saved;
}

void
log_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(code);
}
