/*
 * sig.c - block signals, receive them through a signalfd; see sig.h.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "sig.h"
#include "util.h"

static struct {
	int fd;
	sigset_t old;
	int ready;
} sg = { -1, { { 0 } }, 0 };

int
sig_init(void)
{
	sigset_t set;

	/*
	 * Everything, SEGV BUS FPE ILL ABRT TRAP SYS included: sent with
	 * kill() from outside they are forwarded like any other signal
	 * (dumb-init's tests send all of 1..31).  A real fault in our own
	 * code still kills us: the kernel unblocks a synchronous signal it
	 * delivers for a fault (force_sig_info_to_task), and abort()
	 * unblocks SIGABRT itself.
	 */
	sigfillset(&set);
	if (sigprocmask(SIG_SETMASK, &set, &sg.old) < 0)
		return -1;
	/*
	 * The child gets the mask we inherited, less anything that would
	 * break it: a parent that left TSTP/TTIN/TTOU blocked would break
	 * job control in an interactive shell (podman #18095).
	 */
	sigemptyset(&sg.old);
	sg.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sg.fd < 0)
		return -1;
	sg.ready = 1;
	return 0;
}

int
sig_fd(void)
{
	return sg.fd;
}

const sigset_t *
sig_child_mask(void)
{
	return &sg.old;
}

int
sig_read(struct signalfd_siginfo *info)
{
	struct signalfd_siginfo si;
	ssize_t n;

	if (sg.fd < 0) {
		errno = EBADF;
		return -1;
	}
	n = read_nointr(sg.fd, &si, sizeof(si));
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n != (ssize_t)sizeof(si)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	if (info)
		memcpy(info, &si, sizeof(si));
	return (int)si.ssi_signo;
}
