/*
 * log.c - diagnostics on stderr; see log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
	const char *cmd;
	enum log_format fmt;
	int debug;
	log_sink_fn *sink;
	void *sink_arg;
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
log_set_debug(int on)
{
	lg.debug = on;
}

void
log_json_escape(char *buf, unsigned long size, const char *s)
{
	unsigned long n = 0;
	const unsigned char *p;

	if (size < 3)
		return;
	buf[n++] = '"';
	for (p = (const unsigned char *)s; *p && n + 7 < size; p++) {
		if (*p == '"' || *p == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)*p;
		} else if (*p == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else if (*p == '\t') {
			buf[n++] = '\\';
			buf[n++] = 't';
		} else if (*p < 0x20) {
			n += (unsigned long)snprintf(buf + n, size - n,
			    "\\u%04x", *p);
		} else {
			buf[n++] = (char)*p;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
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
	char msg[2048], line[4608], esc[4200], ts[64];
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
		n = snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"cmd\":\"%s\","
		    "\"msg\":%s}\n", ts, level_name[lvl],
		    lg.cmd ? lg.cmd : "", esc);
	} else if (lg.cmd) {
		n = snprintf(line, sizeof(line), "entrypoint: %s: %s%s\n",
		    lg.cmd, lvl == LOG_WARN ? "warning: " : "", msg);
	} else {
		n = snprintf(line, sizeof(line), "entrypoint: %s%s\n",
		    lvl == LOG_WARN ? "warning: " : "", msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
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

void
log_event_typed(const char *msg, const char *const *fields,
    const char *kinds)
{
	char line[8192], esc[2048], ts[64];
	size_t n = 0;
	int saved = errno;

	if (lg.fmt == LOG_FORMAT_JSON) {
		timestamp(ts, sizeof(ts));
		log_json_escape(esc, sizeof(esc), msg);
		n = (size_t)snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"info\",\"cmd\":\"%s\","
		    "\"msg\":%s", ts, lg.cmd ? lg.cmd : "", esc);
	} else {
		n = (size_t)snprintf(line, sizeof(line), "entrypoint: %s%s%s",
		    lg.cmd ? lg.cmd : "", lg.cmd ? ": " : "", msg);
	}
	for (; fields && fields[0] && n < sizeof(line); fields += 2) {
		const char *v = fields[1] ? fields[1] : "";
		char kind = kinds && *kinds ? *kinds++ : '?';

		if (lg.fmt == LOG_FORMAT_JSON) {
			if ((kind == 'n' && looks_numeric(v)) ||
			    (kind == 'b' && (strcmp(v, "true") == 0 ||
			    strcmp(v, "false") == 0)) ||
			    (kind == '?' && looks_numeric(v) &&
			    strlen(v) < 19))
				snprintf(esc, sizeof(esc), "%s", v);
			else
				log_json_escape(esc, sizeof(esc), v);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    ",\"%s\":%s", fields[0], esc);
		} else if (!*v || strpbrk(v, " \"\\\t\n\r")) {
			log_json_escape(esc, sizeof(esc), v);
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    " %s=%s", fields[0], esc);
		} else {
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    " %s=%s", fields[0], v);
		}
	}
	if (n >= sizeof(line) - 2)
		n = sizeof(line) - 3;
	if (lg.fmt == LOG_FORMAT_JSON)
		line[n++] = '}';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		errno = saved;
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
