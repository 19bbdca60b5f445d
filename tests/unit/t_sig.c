/*
 * t_sig.c - sig_init() blocks the fault signals too, so that one sent
 * with kill() waits in the signalfd to be forwarded (dumb-init's tests
 * send all of 1..31), while a real fault or abort() still kills the
 * process: the kernel unblocks a fault signal it delivers.  Each case runs
 * in a forked child (a real fault, real signals), judged by its wait
 * status.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sig.h"
#include "tap.h"

static const int faults[] = {
	SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS,
};

/* Put sig back to SIG_DFL: a sanitizer's own handler would report and
 * exit instead of dying of the signal; the mask is what is tested. */
static void
default_action(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Child: sig_init(), kill(getpid(), sig), then expect it in the signalfd. */
static void
child_kill(int sig)
{
	if (sig_init() < 0)
		_exit(2);
	default_action(sig);
	if (kill(getpid(), sig) < 0)
		_exit(3);
	_exit(sig_read(NULL) == sig ? 0 : 4);
}

/*
 * Child: a real invalid memory access after sig_init(), a write to a page
 * mapped without access (not a NULL store, which UBSan would stop first).
 */
static void
child_fault(void)
{
	volatile int *p;

	if (sig_init() < 0)
		_exit(2);
	default_action(SIGSEGV);
	p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(6);
	*p = 1;
	_exit(5);
}

/* Child: abort() after sig_init(). */
static void
child_abort(void)
{
	if (sig_init() < 0)
		_exit(2);
	abort();
}

/* Fork, run fn(arg) in the child, return its wait status. */
static int
run(void (*fn)(int), int arg)
{
	pid_t pid;
	int st = -1;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		fn(arg);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static void
fault_arg(int unused)
{
	(void)unused;
	child_fault();
}

static void
abort_arg(int unused)
{
	(void)unused;
	child_abort();
}

int
main(void)
{
	char name[80];
	size_t i;
	int st;

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		st = run(child_kill, faults[i]);
		snprintf(name, sizeof(name), "%s from kill() waits in the "
		    "signalfd", strsignal(faults[i]));
		is_int(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		    0, name);
	}
	st = run(fault_arg, 0);
	is_str(WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "no signal",
	    strsignal(SIGSEGV), "a real invalid access still kills");
	st = run(abort_arg, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
	    "abort() still kills with SIGABRT");
	return done_testing();
}
