/*
 * sig.h - the process's signal set-up, done once as main()'s first step.
 *
 * Every asynchronous signal is blocked and received through one signalfd
 * (no handlers: a PID 1 silently drops unblocked signals left at SIG_DFL).
 * SEGV BUS FPE ILL ABRT TRAP SYS are blocked too, so that one sent with
 * kill() is forwarded; a real fault (or abort()) still kills the process,
 * because the kernel unblocks a fault signal it delivers.
 * Children start with an empty mask (sig_child_mask()).
 */
#ifndef SIG_H
#define SIG_H

#include <signal.h>
#include <sys/signalfd.h>

/* Block signals and open the signalfd.  Return 0 or -1 (errno set). */
int sig_init(void);
/* The signalfd (O_NONBLOCK, O_CLOEXEC), or -1 before sig_init(). */
int sig_fd(void);
/* The mask a child restores before exec: empty, never what we inherited. */
const sigset_t *sig_child_mask(void);
/*
 * Read one pending signal without blocking.  Return its number, 0 when none
 * is pending, -1 on error.  info may be NULL.
 */
int sig_read(struct signalfd_siginfo *info);

#endif
