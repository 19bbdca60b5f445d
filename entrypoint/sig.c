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

/* Synchronous signals: leave them to the kernel so a crash stays a crash. */
static const int synchronous[] = {
	SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS,
};

int
sig_init(void)
{
	sigset_t set;
	size_t i;

	sigfillset(&set);
	for (i = 0; i < ARRAY_LEN(synchronous); i++)
		sigdelset(&set, synchronous[i]);
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
