/*
 * miglocks.c - what migrate does when a migration's statement waits for
 * a lock; see migsession.h and DESIGN.md "Locks".
 *
 * Every migration statement runs under lock_timeout = [database]
 * ddl_lock_timeout, so the app's queries never queue behind a waiting
 * ALTER for longer than that.  When it fires, the migration's transaction
 * is rolled back and tried again after a jittered backoff, up to
 * [database] lock_retries times; then exit 75 (busy, retry later).  Each
 * wait names the sessions that blocked it: a second connection (opened
 * only once a statement has run for a while) reads pg_blocking_pids() of
 * our backend while the statement waits.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "migsession.h"
#include "util.h"

void
miglock_arm(struct migsession *ses, int attempt)
{
	if (!ses->db.conn)
		return;
	lock_watch_arm(&ses->watch, ses->db.url, PQbackendPID(ses->db.conn),
	    ses->cfg->database.ddl_lock_timeout_ms);
	/* a retry: the table is busy, look from the start */
	if (attempt > 0)
		ses->watch.open_after_ms = 0;
}

void
miglock_disarm(struct migsession *ses)
{
	ses->watch.pid = 0;
}

static unsigned
jitter(void)
{
	unsigned r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)getpid() ^ (unsigned)time(NULL);
	return r;
}

/* "pid 12 (...)[, pid 13 (...)]" or why none is named. */
static void
blockers(struct migsession *ses, char *buf, size_t size)
{
	size_t i, n = lock_watch_blockers(&ses->watch), len = 0;
	char one[400];

	if (n == 0) {
		snprintf(buf, size, "the session holding it was not seen "
		    "(it was released, or the wait was too short to look)");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < n && i < 2; i++) {
		lock_blocker_format(&ses->watch.seen[i], one, sizeof(one));
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
		    "%s%s", i ? "; and by " : "blocked by ", one);
		if (len >= size)
			break;
	}
}

int
miglock_wait(struct migsession *ses, const struct mig *m,
    const struct db_outcome *o, int attempt, const char *what)
{
	long retries = ses->cfg->database.lock_retries;
	long ddl = ses->cfg->database.ddl_lock_timeout_ms, ms;
	char who[900];
	int s;

	if (o->signo || o->lost || strcmp(o->sqlstate, "55P03") != 0)
		return -1;
	blockers(ses, who, sizeof(who));
	if (attempt < 0) {
		log_error("could not %s %s: a lock it needs was still held "
		    "after ddl_lock_timeout = %ld ms (not retried): %s", what,
		    mig_label(m), ddl, who);
		return EXIT_TEMPFAIL;
	}
	if (attempt < retries) {
		ms = lock_backoff_ms(attempt + 1, jitter());
		log_warn("%s %s: waited ddl_lock_timeout = %ld ms for a lock "
		    "and rolled back (attempt %d of %ld): %s; retrying in "
		    "%ld ms", what, mig_label(m), ddl, attempt + 1,
		    retries + 1, who, ms);
		s = db_sleep(ms);
		return s ? EXIT_SIGNAL_BASE + s : 0;
	}
	log_error("could not %s %s: a lock it needs was still held after "
	    "ddl_lock_timeout = %ld ms, %d attempt%s (lock_retries = %ld): "
	    "%s; retry later", what,
	    mig_label(m), ddl, attempt + 1, attempt ? "s" : "", retries,
	    who);
	return EXIT_TEMPFAIL;
}
