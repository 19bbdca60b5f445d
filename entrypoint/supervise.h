/*
 * supervise.h - the PID-1 loop: forward signals, reap, time out, exit status.
 *
 * One poll() on the signalfd (sig.h); timers are poll timeouts.  Nothing in
 * here touches the network or the database (never include db.h): the loop
 * must never block on anything but that poll.
 *
 * - Every signal from outside is forwarded to the child's process group;
 *   TERM becomes stop_signal.  We never stop: TSTP/TTIN/TTOU are forwarded
 *   when we are not PID 1 and dropped as PID 1.  CHLD wakes the reaper.
 * - After a TERM or INT from outside, the group has stop_timeout_ms to exit,
 *   then gets SIGKILL.
 * - timeout_ms (tasks): stop_signal to the group, stop_timeout_ms grace,
 *   SIGKILL; the result says timed_out (exit 124).
 * - Every wakeup reaps with waitpid(-1, WNOHANG) until none is left.
 * - When the main child exits, the rest of its group (as PID 1: every process
 *   left, kill(-1)) gets stop_signal and up to stop_timeout_ms to finish,
 *   then SIGKILL; then we return.
 */
#ifndef SUPERVISE_H
#define SUPERVISE_H

#include <sys/types.h>

struct pty;

struct supervise_opts {
	pid_t pid;		/* the main child (leads its process group) */
	int stop_signal;	/* what a TERM from outside becomes */
	long stop_timeout_ms;	/* grace before SIGKILL */
	long timeout_ms;	/* 0: none */
	int tty_fd;		/* terminal given to the child, or -1 */
	struct pty *io;		/* output copied through us (pty.h), or
				   NULL: polled here too; WINCH resizes it */
};

struct supervise_result {
	int status;		/* the main child's wait status */
	int exit_code;		/* its code, 128+N, or 124 when timed out */
	int timed_out;		/* our timeout fired */
	int interrupted;	/* a TERM/INT/QUIT/HUP came from outside */
	int signal;		/* the signal it died of, else 0 */
};

/*
 * Become a child subreaper when we are not PID 1 (warn when that fails).
 * Also put SIGCHLD back to SIG_DFL: inherited as ignored, the kernel would
 * reap our children for us.  Call once before the first spawn.  Return 0
 * or -1.
 */
int supervise_init(void);

/* 1 when we are PID 1. */
int supervise_is_pid1(void);

/*
 * Supervise opts->pid until it and its group are gone.  Fill *res.
 * Return 0, or -1 on an internal error (still filling res as best it can).
 */
int supervise_run(const struct supervise_opts *opts,
    struct supervise_result *res);

#endif
