/*
 * exitwith - exit with a given status, or die of a given signal.
 *
 *	exitwith N		exit(N), N in 0..255
 *	exitwith -s SIG		die of signal number SIG (default action)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long
num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end) {
		fprintf(stderr, "exitwith: invalid number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	sigset_t set;
	int sig;

	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		sig = (int)num(argv[2]);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);
		pause();
		return 3;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: exitwith N | exitwith -s SIG\n");
		return 2;
	}
	return (int)num(argv[1]);
}
