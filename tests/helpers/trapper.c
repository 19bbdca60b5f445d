/*
 * trapper - log every signal it receives, one line each, to LOG.
 *
 *	trapper LOG [-f N] [-i SIG]... [-x SIG]... [-d MS]
 *
 * Lines (appended with O_APPEND, so members can share one file):
 *	IDX ready PID PGRP	once set up (wait for this before signalling)
 *	IDX SIG from=PID	each signal received (numbers)
 *	IDX exit		after an exit signal and the delay
 * IDX is 0 for the main process and 1..N for the -f members, which it
 * forks into its own process group before it is ready (a pipeline's
 * other commands).  -i ignores SIG (SIG_IGN, never logged); -x makes SIG
 * end the process (default: 15); -d waits MS milliseconds between the
 * exit signal and the exit, to show that someone waited for us.  On exit
 * the main process waits for its members.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int logfd = -1;
static int idx;

static void
logline(const char *fmt, long a, long b)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), "%d ", idx);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, fmt, a, b);
	if (write(logfd, buf, (size_t)n) != n) {
		perror("trapper: write");
		exit(1);
	}
}

static int
num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > 1000000) {
		fprintf(stderr, "trapper: invalid number \"%s\"\n", s);
		exit(2);
	}
	return (int)v;
}

int
main(int argc, char **argv)
{
	struct timespec ts;
	struct sigaction sa;
	siginfo_t si;
	sigset_t wait_set, exit_set;
	int members = 0, delay = 0, custom_exit = 0, c, i, sig;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: trapper LOG [-f N] [-i SIG]... "
		    "[-x SIG]... [-d MS]\n");
		return 2;
	}
	logfd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (logfd < 0) {
		perror(argv[1]);
		return 1;
	}
	sigfillset(&wait_set);
	sigemptyset(&exit_set);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	/* Block first: nothing may be lost between here and the wait. */
	sigprocmask(SIG_SETMASK, &wait_set, NULL);
	optind = 2;
	while ((c = getopt(argc, argv, "f:i:x:d:")) != -1) {
		switch (c) {
		case 'f':
			members = num(optarg);
			break;
		case 'i':
			sig = num(optarg);
			sigaction(sig, &sa, NULL);
			sigdelset(&wait_set, sig);
			break;
		case 'x':
			sigaddset(&exit_set, num(optarg));
			custom_exit = 1;
			break;
		case 'd':
			delay = num(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!custom_exit)
		sigaddset(&exit_set, SIGTERM);
	/* Ignored signals are discarded only while they are unblocked. */
	sigprocmask(SIG_SETMASK, &wait_set, NULL);

	for (i = 1; i <= members; i++) {
		pid = fork();
		if (pid < 0) {
			perror("trapper: fork");
			return 1;
		}
		if (pid == 0) {
			idx = i;
			members = 0;
			break;
		}
	}
	logline("ready %ld %ld\n", (long)getpid(), (long)getpgrp());
	for (;;) {
		sig = sigwaitinfo(&wait_set, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			perror("trapper: sigwaitinfo");
			return 1;
		}
		/* Our members' exits are not what we are here to log. */
		if (sig == SIGCHLD && si.si_code > 0)
			continue;
		logline("%ld from=%ld\n", (long)sig, (long)si.si_pid);
		if (sigismember(&exit_set, sig))
			break;
	}
	if (delay) {
		ts.tv_sec = delay / 1000;
		ts.tv_nsec = (long)(delay % 1000) * 1000000;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	while (members > 0 && wait(NULL) > 0)
		;
	logline("exit%.0ld%.0ld\n", 0L, 0L);
	return 0;
}
