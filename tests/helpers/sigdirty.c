/*
 * sigdirty - run a command the way a careless parent would: every signal
 * blocked and every signal ignored (nohup, trap '' ..., catatonit's TSTP/
 * TTIN/TTOU, podman #18095).  Both survive execve(), so whatever runs
 * under the command sees them unless something undoes them.
 *
 *	sigdirty CMD [ARGS...]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	/* Kernel struct sigaction: the handler comes first (x86, arm). */
	static const unsigned long ksa_ign[8] = { (unsigned long)SIG_IGN };
	struct sigaction sa;
	sigset_t all;
	int s;

	if (argc < 2) {
		fprintf(stderr, "usage: sigdirty CMD [ARGS...]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	for (s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		/* The libc refuses its own (32-34): ask the kernel. */
		if (sigaction(s, &sa, NULL) < 0)
			syscall(SYS_rt_sigaction, s, ksa_ign, NULL,
			    (size_t)(NSIG - 1) / 8);
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "sigdirty: could not execute \"%s\": %s\n", argv[1],
	    strerror(errno));
	return 127;
}
