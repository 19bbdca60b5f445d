/*
 * churn - the soak test's helper: a busy child under a PID 1, and the rain
 * of signals on that PID 1.
 *
 *	churn run STATS [PERIOD_US]
 *	churn rain PID SECONDS [PERIOD_US]
 *
 * run: until TERM or INT, every PERIOD_US (default 5000) make
 *   - an orphan: a middle process forks a grandchild and exits at once, so
 *     the grandchild (which lives 0-20 ms) is adopted by PID 1;
 *   - every 4th round, an orphan in a session of its own (setsid), out of
 *     reach of the signals PID 1 forwards to our group;
 *   - a short-lived child of our own, reaped by us.
 *   USR1, WINCH and HUP are caught and counted (we must survive them; the
 *   grandchildren inherit the handlers, as they never exec).  USR2 stops
 *   making processes (the end of the soak), without exiting.  On TERM/INT:
 *   reap what is ours, write one line to STATS and exit 0:
 *	usr1=N winch=N hup=N orphans=N children=N fork_errors=N
 * rain: send USR1, WINCH, HUP in turn to PID every PERIOD_US (default 2000)
 *   for SECONDS, or until TERM; print "sent=N usr1=N winch=N hup=N" and
 *   exit 0, or 1 when PID went away.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t n_usr1, n_winch, n_hup, stop, paused;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGUSR1:
		n_usr1++;
		break;
	case SIGWINCH:
		n_winch++;
		break;
	case SIGHUP:
		n_hup++;
		break;
	case SIGUSR2:
		paused = 1;
		break;
	default:
		stop = 1;
	}
}

/* Sleep us microseconds; a signal cuts it short (that is fine here). */
static void
sleep_us(long us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Fork a middle process that forks a grandchild and exits; reap the
 * middle.  Return 0, or -1 when our own fork failed.
 */
static int
make_orphan(int own_session, unsigned seed)
{
	pid_t mid, gc;
	int st;

	mid = fork();
	if (mid < 0)
		return -1;
	if (mid == 0) {
		gc = fork();
		if (gc == 0) {
			if (own_session)
				setsid();
			sleep_us((long)(seed % 20000));
			_exit(0);
		}
		_exit(gc < 0 ? 1 : 0);
	}
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

static int
cmd_run(const char *stats, long period)
{
	struct sigaction sa;
	unsigned long orphans = 0, children = 0, errors = 0, round = 0;
	FILE *f;
	pid_t pid;
	int sigs[] = { SIGUSR1, SIGWINCH, SIGHUP, SIGUSR2, SIGTERM, SIGINT };
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	srand((unsigned)getpid());

	while (!stop) {
		round++;
		if (!paused) {
			if (make_orphan(round % 4 == 0, (unsigned)rand()) == 0)
				orphans++;
			else
				errors++;
			pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid > 0)
				children++;
			else
				errors++;
		}
		/* Reap our own (the short-lived children). */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sleep_us(period);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	f = fopen(stats, "w");
	if (!f)
		return 1;
	fprintf(f, "usr1=%ld winch=%ld hup=%ld orphans=%lu children=%lu "
	    "fork_errors=%lu\n", (long)n_usr1, (long)n_winch, (long)n_hup,
	    orphans, children, errors);
	return fclose(f) == 0 ? 0 : 1;
}

static int
cmd_rain(pid_t pid, long secs, long period)
{
	const int sigs[] = { SIGUSR1, SIGWINCH, SIGHUP };
	unsigned long sent[3] = { 0, 0, 0 }, i = 0;
	long long end = now_us() + (long long)secs * 1000000;
	struct sigaction sa;
	int gone = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop && now_us() < end) {
		if (kill(pid, sigs[i % 3]) < 0) {
			gone = 1;
			break;
		}
		sent[i % 3]++;
		i++;
		sleep_us(period);
	}
	printf("sent=%lu usr1=%lu winch=%lu hup=%lu\n", i, sent[0], sent[1],
	    sent[2]);
	return gone;
}

static long
number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "churn: invalid number: \"%s\"\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2], argc > 3 ? number(argv[3]) : 5000);
	if (argc >= 4 && strcmp(argv[1], "rain") == 0)
		return cmd_rain((pid_t)number(argv[2]), number(argv[3]),
		    argc > 4 ? number(argv[4]) : 2000);
	fprintf(stderr, "usage: churn run STATS [PERIOD_US]\n"
	    "       churn rain PID SECONDS [PERIOD_US]\n");
	return 2;
}
