/*
 * supervise.c - the PID-1 loop; see supervise.h.
 *
 * One poll() on the signalfd is the only place we block.  Deadlines (the
 * grace period before SIGKILL, a task's timeout) are poll timeouts.  After
 * the child exists nothing in here may exit or die: PID 1 going away takes
 * the whole container with it, so failures are logged and the loop goes on.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "pty.h"
#include "sig.h"
#include "supervise.h"
#include "util.h"

/* After the last SIGKILL, how long we still wait for the dead to be reaped. */
#define REAP_AFTER_KILL_MS 2000
/* How long the child runs before we give back our start-up pages. */
#define SETTLE_MS 1000
/* Poll tick when there is no signalfd (or poll itself failed). */
#define TICK_MS 100

/* Linux 5.4; musl 1.2.3's headers lack it.  Older kernels say EINVAL. */
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* The bounds of our own image (GNU ld's default linker script). */
extern char __executable_start[], edata[];

/* The state of one supervise_run(). */
struct run {
	const struct supervise_opts *o;
	struct supervise_result *res;
	pid_t pgid;		/* the child's group; 0: it shares ours */
	int pid1;
	int main_done;		/* the main child has been reaped */
	int stopping;		/* ... and the rest has been told to stop */
	int no_children;	/* waitpid() said ECHILD */
	int killed;		/* SIGKILL has been sent */
	long long timeout_at;	/* task timeout, or -1 */
	long long kill_at;	/* SIGKILL deadline, or -1 */
	long long give_up_at;	/* stop waiting after the SIGKILL, or -1 */
	long long settle_at;	/* release_startup_pages() then, or -1 */
	int reap_due;		/* a signal came (or a deadline): waitpid */
};

int
supervise_init(void)
{
	struct sigaction sa;

	/*
	 * SIGCHLD ignored (or SA_NOCLDWAIT) by whoever started us would make
	 * the kernel reap our children itself, and we would never see the
	 * main child's status.  Blocked, it still reaches the signalfd.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return -1;
	if (supervise_is_pid1())
		return 0;
	/*
	 * Not PID 1 (docker exec, kubectl exec, a plain shell): orphans of
	 * our descendants would go to the real init and never be waited
	 * for by us.  As a subreaper they come to us.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return -1;
	return 0;
}

int
supervise_is_pid1(void)
{
	return getpid() == 1;
}

/*
 * Reap every child that has exited, without blocking; note the main
 * child's status.  Return how many were reaped.
 */
static int
reap(struct run *r)
{
	pid_t pid;
	int st, n = 0;

	for (;;) {
		pid = waitpid_nointr(-1, &st, WNOHANG);
		if (pid < 0) {
			if (errno != ECHILD) {
				log_warn_errno("could not wait for children");
				break;
			}
			r->no_children = 1;
			if (r->o && !r->main_done) {
				/* Someone else reaped it: no status to pass. */
				log_warn("lost the exit status of child %ld",
				    (long)r->o->pid);
				r->main_done = 1;
				r->res->status = EXIT_SOFTWARE << 8;
			}
			break;
		}
		if (pid == 0)
			break;
		n++;
		if (r && r->o && pid == r->o->pid) {
			r->main_done = 1;
			r->res->status = st;
			log_debug("child %ld exited (status 0x%x)", (long)pid,
			    (unsigned)st);
		}
	}
	return n;
}


/*
 * Send sig to what we supervise: the main child's group while the main
 * child runs; once it is gone, what is left of its group, or as PID 1
 * every process in the namespace (kill(-1) spares only ourselves).
 */
static void
signal_rest(struct run *r, int sig)
{
	pid_t target;
	const char *what;

	if (!r->main_done) {
		target = r->pgid ? -r->pgid : r->o->pid;
		what = r->pgid ? "process group" : "process";
	} else if (r->pid1) {
		target = -1;
		what = "every process";
	} else if (r->pgid) {
		target = -r->pgid;
		what = "process group";
	} else {
		return;
	}
	if (kill(target, sig) == 0) {
		log_debug("sent %s to %s %ld", signal_name(sig), what,
		    (long)(target < 0 ? -target : target));
	} else if (errno == ESRCH) {
		log_debug("could not send %s to %s %ld: no such process",
		    signal_name(sig), what,
		    (long)(target < 0 ? -target : target));
	} else {
		log_warn_errno("could not send %s to %s %ld",
		    signal_name(sig), what,
		    (long)(target < 0 ? -target : target));
	}
}

/* Arm the SIGKILL deadline stop_timeout from now, unless one is earlier. */
static void
arm_kill(struct run *r, long long now)
{
	long long at;

	if (r->killed)
		return;	/* begin_stopping() handles what is left */
	at = now + (r->o->stop_timeout_ms > 0 ? r->o->stop_timeout_ms : 0);
	if (r->kill_at < 0 || at < r->kill_at)
		r->kill_at = at;
}

/* 1 when nothing we must wait for is left after the main child. */
static int
rest_gone(const struct run *r)
{
	if (r->pid1)
		return r->no_children;
	if (!r->pgid)
		return 1;
	/* Unreaped zombies still count as members: reap() ran first. */
	return kill(-r->pgid, 0) < 0 && errno == ESRCH;
}

/*
 * One signal read from the signalfd.  Kernel-sent SIGCHLD only wakes the
 * reaper (forwarding the CHLD of a reaped orphan would confuse the child);
 * a CHLD that someone sent with kill() is forwarded like any other signal.
 * TSTP/TTIN/TTOU never stop us (they are blocked).  Not PID 1, they are
 * forwarded as tini does (a shell's `kill -TSTP` reaches the child).  As
 * PID 1 they are dropped: no shell above us would ever send the CONT, so a
 * stray one would freeze the container for good; `docker pause` is the way
 * to freeze it.  The terminal's own Ctrl-Z goes to the child's foreground
 * group directly, never through us.
 */
static void
on_signal(struct run *r, const struct signalfd_siginfo *si, long long now)
{
	int sig = (int)si->ssi_signo, fwd;

	switch (sig) {
	case SIGCHLD:
		if (si->ssi_code > 0)
			return;
		break;
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		if (r->pid1) {
			log_debug("ignoring %s (PID 1)", signal_name(sig));
			return;
		}
		break;
	case SIGWINCH:
		/* Our terminal's size: the child's terminal is the pty. */
		if (r->o->io && r->o->io->mode == PTY_PTY) {
			pty_winch(r->o->io, now);
			return;
		}
		break;
	case SIGPIPE:
	case SIGXFSZ:
		/* Raised by our own write to stderr: not for the child. */
		if (si->ssi_pid == (unsigned)getpid())
			return;
		break;
	default:
		break;
	}
	fwd = sig == SIGTERM ? r->o->stop_signal : sig;
	if (fwd <= 0)
		fwd = sig;
	if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT ||
	    sig == SIGHUP)
		r->res->interrupted = 1;
	if (sig == SIGTERM || sig == SIGINT) {
		arm_kill(r, now);
		r->timeout_at = -1;
	}
	if (fwd != sig)
		log_debug("received %s, sending %s", signal_name(sig),
		    signal_name(fwd));
	signal_rest(r, fwd);
}

/* Milliseconds until the nearest deadline, -1 for none. */
static int
poll_timeout(const struct run *r, long long now)
{
	long long at = -1, d;

	if (r->timeout_at >= 0)
		at = r->timeout_at;
	if (r->kill_at >= 0 && (at < 0 || r->kill_at < at))
		at = r->kill_at;
	if (r->main_done && r->give_up_at >= 0 &&
	    (at < 0 || r->give_up_at < at))
		at = r->give_up_at;
	if (r->settle_at >= 0 && (at < 0 || r->settle_at < at))
		at = r->settle_at;
	if (sig_fd() < 0 && (at < 0 || now + TICK_MS < at))
		at = now + TICK_MS;
	if (at < 0)
		return -1;
	d = at - now;
	if (d < 0)
		d = 0;
	if (d > 0x7fffffffLL)
		d = 0x7fffffff;
	return (int)d;
}

/*
 * Wait for a signal, the next deadline or the output we copy (r->o->io);
 * drain the signalfd, move the output.
 */
static void
wait_and_dispatch(struct run *r, long long now)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[1 + PTY_POLLFDS];
	nfds_t nfds = 1;
	int n, sig, i, nio = 0;

	pfd[0].fd = sig_fd();
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	if (r->o->io)
		nio = pty_poll_fill(r->o->io, pfd + 1, PTY_POLLFDS);
	nfds += (nfds_t)nio;
	n = poll(pfd, nfds, poll_timeout(r, now));
	if (n <= 0) {
		r->reap_due = 1;
		if (n < 0 && errno != EINTR) {
			log_warn_errno("could not wait for signals");
			poll(NULL, 0, TICK_MS);
		}
		return;
	}
	if (nio)
		pty_poll_ready(r->o->io, pfd + 1, nio, now_ms());
	if (pfd[0].fd < 0 || !pfd[0].revents)
		return;
	/* Only a signal (CHLD among them) can mean a child has exited:
	 * output moving alone costs no waitpid(). */
	r->reap_due = 1;
	/* Bounded: signals keep arriving, but reaping must not starve. */
	for (i = 0; i < 64; i++) {
		sig = sig_read(&si);
		if (sig <= 0) {
			if (sig < 0)
				log_warn_errno("could not read a signal");
			break;
		}
		on_signal(r, &si, now_ms());
	}
}

/*
 * The main child is gone: give the terminal back to our own group (so our
 * last words are not a background write), tell the rest to stop, and give
 * them stop_timeout.
 */
static void
begin_stopping(struct run *r, long long now)
{
	int fd = r->o->tty_fd;

	r->stopping = 1;
	r->timeout_at = -1;
	if (fd >= 0 && r->pgid && tcgetpgrp(fd) == r->pgid)
		tcsetpgrp(fd, getpgrp());
	if (rest_gone(r))
		return;
	if (r->killed) {
		/* The grace period is over already: no second one. */
		signal_rest(r, SIGKILL);
		r->give_up_at = now + REAP_AFTER_KILL_MS;
		return;
	}
	log_debug("main child exited; sending %s to the rest",
	    signal_name(r->o->stop_signal));
	signal_rest(r, r->o->stop_signal > 0 ? r->o->stop_signal : SIGTERM);
	arm_kill(r, now);
}

/*
 * Give back the pages of our own image that start-up touched (config,
 * environment, start-up code) once the child has run for SETTLE_MS: the
 * loop needs a few functions, and PID 1 sits in memory for the container's
 * whole life.  Clean file pages are
 * dropped from our resident set (they stay in the page cache and fault
 * back in cheaply if needed); written pages stay.  Best effort.
 */
static void
release_startup_pages(void)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)__executable_start & ~(pg - 1);
	uintptr_t b = ((uintptr_t)edata + pg - 1) & ~(pg - 1);

	if (b > a && madvise((void *)a, b - a, MADV_PAGEOUT) < 0 &&
	    errno != ENOMEM)
		log_debug("could not release start-up pages: %s",
		    strerror(errno));
}

int
supervise_run(const struct supervise_opts *opts,
    struct supervise_result *res)
{
	struct run r;
	long long now;
	pid_t pg;
	int st;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	r.o = opts;
	r.res = res;
	r.pid1 = supervise_is_pid1();
	r.kill_at = -1;
	r.give_up_at = -1;
	r.timeout_at = opts->timeout_ms > 0 ? now_ms() + opts->timeout_ms : -1;
	/*
	 * Signal the child's group only when it has its own: a group we
	 * share would include ourselves, and each forwarded signal would
	 * come straight back to us.
	 */
	pg = getpgid(opts->pid);
	if (pg < 0)
		pg = opts->pid;
	r.pgid = pg == getpgrp() ? 0 : pg;
	/* Short runs would pay for the page faults and gain nothing. */
	r.settle_at = now_ms() + SETTLE_MS;

	r.reap_due = 1;
	for (;;) {
		if (r.reap_due) {
			r.reap_due = 0;
			reap(&r);
		}
		now = now_ms();
		if (r.main_done && !r.stopping)
			begin_stopping(&r, now);
		if (r.main_done)
			r.settle_at = -1;
		if (r.settle_at >= 0 && now >= r.settle_at) {
			r.settle_at = -1;
			release_startup_pages();
		}
		if (r.main_done && rest_gone(&r))
			break;
		if (r.timeout_at >= 0 && now >= r.timeout_at) {
			r.timeout_at = -1;
			res->timed_out = 1;
			log_warn("timeout of %ld ms reached; sending %s",
			    opts->timeout_ms, signal_name(opts->stop_signal));
			signal_rest(&r, opts->stop_signal);
			arm_kill(&r, now);
		}
		if (r.kill_at >= 0 && now >= r.kill_at) {
			r.kill_at = -1;
			r.killed = 1;
			log_warn("%s did not exit within %ld ms; sending KILL",
			    r.main_done ? "what the child left behind" :
			    "the child", opts->stop_timeout_ms);
			signal_rest(&r, SIGKILL);
			r.give_up_at = now + REAP_AFTER_KILL_MS;
		}
		if (r.main_done && r.give_up_at >= 0 && now >= r.give_up_at) {
			log_warn("processes are left after KILL; not waiting "
			    "for them");
			break;
		}
		wait_and_dispatch(&r, now);
	}

	st = res->status;
	res->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	if (res->timed_out)
		res->exit_code = EXIT_TIMEOUT;
	else if (WIFEXITED(st))
		res->exit_code = WEXITSTATUS(st);
	else
		res->exit_code = EXIT_SIGNAL_BASE + res->signal;
	return 0;
}
