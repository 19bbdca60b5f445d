/*
 * pty.c - the pty or pipes between a one-off run and us; see pty.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "pty.h"
#include "util.h"

/* What one read moves: a pipe's default capacity. */
#define CHAN_BUF 65536
/*
 * The capacity asked for the child's output pipes (the default
 * /proc/sys/fs/pipe-max-size): each wakeup then moves up to this much,
 * which matters on a busy machine where every wakeup waits for a CPU.
 */
#define PIPE_SIZE (1024 * 1024)
/* Reads in a row per wakeup while the output takes them at once. */
#define BURST 16
/* After the loop, reads per channel at most (writers may live on). */
#define DRAIN_READS 4096

enum { CH_IN, CH_OUT, CH_ERR };

static void
chan_init(struct pty_chan *c)
{
	memset(c, 0, sizeof(*c));
	c->from = c->to = -1;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * A descriptor for writing to fd that never blocks, without touching fd's
 * own flags (shared with whoever else has it: O_NONBLOCK on a terminal
 * would break the shell that started us).  /proc/self/fd/N opens the pipe
 * or terminal again as a new description.  A regular file never blocks: fd
 * itself, keeping its offset and O_APPEND.  When neither works (a socket),
 * fd itself, with *blocking set.
 */
static int
writer_for(int fd, int *blocking)
{
	struct stat st;
	char path[64];
	int w;

	*blocking = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (w >= 0)
		return w;
	*blocking = 1;
	return fd;
}

void
pty_size(int fd, int *width, int *height)
{
	struct winsize ws;

	*width = 80;
	*height = 24;
	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col &&
	    ws.ws_row) {
		*width = ws.ws_col;
		*height = ws.ws_row;
	}
}

/* The pty: master here, slave for the child with the terminal's settings. */
static int
open_pty(struct pty *p, int term)
{
	struct winsize ws;
	char *name;
	int slave;

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0)
		return -1;
	if (grantpt(p->master) < 0 || unlockpt(p->master) < 0)
		return -1;
	name = ptsname(p->master);
	if (!name)
		return -1;
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return -1;
	p->child_fd[0] = p->child_fd[1] = p->child_fd[2] = slave;
	if (tcgetattr(term, &p->saved) == 0) {
		p->term = term;
		(void)tcsetattr(slave, TCSANOW, &p->saved);
	}
	if (ioctl(term, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(slave, TIOCSWINSZ, &ws);
	if (set_nonblock(p->master) < 0)
		return -1;
	p->ch[CH_IN].from = term;
	p->ch[CH_IN].to = p->master;
	p->ch[CH_OUT].from = p->master;
	p->ch[CH_OUT].to = writer_for(STDOUT_FILENO,
	    &p->ch[CH_OUT].to_blocking);
	p->ch[CH_OUT].feed = 1;
	return 0;
}

/* 1 when fd is a pipe (or FIFO). */
static int
is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Pipe in, pipe out: move the bytes with tee() (see chan_move()). */
static void
zero_copy_setup(struct pty *p)
{
	int i;

	for (i = CH_OUT; p->tail && i <= CH_ERR; i++)
		p->ch[i].zc = !p->ch[i].to_blocking && is_pipe(p->ch[i].to);
	/* tee() moves at most what our output pipe has room for */
	for (i = CH_OUT; i <= CH_ERR; i++)
		if (p->ch[i].zc)
			(void)fcntl(p->ch[i].to, F_SETPIPE_SZ, PIPE_SIZE);
	p->null = open("/dev/null", O_WRONLY | O_CLOEXEC);
}

/* Two pipes for the child's stdout and stderr. */
static int
open_pipes(struct pty *p)
{
	int fds[2], i;

	for (i = CH_OUT; i <= CH_ERR; i++) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return -1;
		p->child_fd[i] = fds[1];
		p->ch[i].from = fds[0];
		(void)fcntl(fds[0], F_SETPIPE_SZ, PIPE_SIZE);	/* or not */
		if (set_nonblock(fds[0]) < 0)
			return -1;
		p->ch[i].to = writer_for(i, &p->ch[i].to_blocking);
		p->ch[i].feed = 1;
	}
	zero_copy_setup(p);
	return 0;
}

int
pty_open(struct pty *p, enum pty_mode mode, int term,
    struct record_tail *tail, struct record_cast *cast)
{
	int i, r;

	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->master = p->term = p->null = -1;
	for (i = 0; i < 3; i++)
		p->child_fd[i] = -1;
	for (i = 0; i < PTY_CHANS; i++)
		chan_init(&p->ch[i]);
	p->tail = tail;
	p->cast = cast;
	if (mode == PTY_NONE)
		return 0;
	r = mode == PTY_PTY ? open_pty(p, term) : open_pipes(p);
	for (i = 0; i < PTY_CHANS; i++)
		if (p->ch[i].from >= 0)
			p->ch[i].buf = xmalloc(CHAN_BUF);
	if (r < 0) {
		i = errno;
		pty_started(p);
		pty_finish(p);
		errno = i;
	}
	return r;
}

void
pty_started(struct pty *p)
{
	struct termios raw;
	int i, j;

	for (i = 0; i < 3; i++) {
		if (p->child_fd[i] < 0)
			continue;
		for (j = i + 1; j < 3; j++)
			if (p->child_fd[j] == p->child_fd[i])
				p->child_fd[j] = -1;
		close(p->child_fd[i]);
		p->child_fd[i] = -1;
	}
	if (p->mode == PTY_PTY && p->term >= 0 && !p->raw) {
		raw = p->saved;
		cfmakeraw(&raw);
		if (tcsetattr(p->term, TCSANOW, &raw) == 0)
			p->raw = 1;
		else
			log_warn_errno("could not put the terminal in raw mode");
	}
}

int
pty_poll_fill(struct pty *p, struct pollfd *pfd, int max)
{
	struct pty_chan *c;
	int i, n = 0;

	for (i = 0; i < PTY_CHANS && n + 1 < max; i++) {
		c = &p->ch[i];
		pfd[n].fd = -1;
		pfd[n + 1].fd = -1;
		pfd[n].events = POLLIN;
		pfd[n + 1].events = POLLOUT;
		pfd[n].revents = pfd[n + 1].revents = 0;
		if (c->len == 0 && !c->eof && c->from >= 0 && !c->wait_out)
			pfd[n].fd = c->from;
		if ((c->len > 0 || c->wait_out) && c->to >= 0)
			pfd[n + 1].fd = c->to;
		n += 2;
	}
	return n;
}

/*
 * Read what c's source has (c->len is 0); feed it to the recorders.  An
 * output channel (non-blocking) is read until its buffer is nearly full or
 * it has nothing more: a pty hands over at most about 4 KiB a read, and
 * one write and one recorder call for several reads saves both a system
 * call and a wakeup of whoever reads our output.  The terminal (blocking,
 * not ours) is read once.
 */
static void
chan_read(struct pty *p, struct pty_chan *c, long long now)
{
	size_t got = 0;
	ssize_t n;

	do {
		n = read(c->from, c->buf + got, CHAN_BUF - got);
		if (n > 0)
			got += (size_t)n;
	} while (n > 0 && c->feed && CHAN_BUF - got >= 4096);
	if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
		/* EOF, or EIO: the pty's last slave is closed */
		if (n < 0 && errno != EIO)
			log_debug("could not read output: %s",
			    strerror(errno));
		c->eof = 1;	/* what was read is still written */
	}
	if (got == 0)
		return;
	c->len = got;
	c->off = 0;
	if (c->feed && p->tail)
		record_tail_add(p->tail, c->buf, got);
	if (c->feed && p->cast)
		record_cast_output(p->cast, now, c->buf, got);
}

/* 1 when the pipe fd cannot take a page now. */
static int
poll_out_full(int fd)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

/* Write what c holds, as much as goes without blocking. */
static void
chan_write(struct pty_chan *c)
{
	size_t k = c->len;
	ssize_t n;

	if (c->to_blocking && k > PIPE_BUF)
		k = PIPE_BUF;
	n = write(c->to, c->buf + c->off, k);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* Nobody reads any more: drop it, keep the child going. */
		log_debug("could not copy output: %s", strerror(errno));
		c->len = 0;
		return;
	}
	c->off += (size_t)n;
	c->len -= (size_t)n;
}

/*
 * zc: put what c's pipe holds on our output with tee() (the bytes stay in
 * c's pipe, no copy), then read the same bytes for the tail: one copy
 * instead of two.  Falls back to copying when the kernel refuses (EINVAL).
 */
static void
chan_move(struct pty *p, struct pty_chan *c)
{
	ssize_t n, m;
	size_t left;

	c->wait_out = 0;
	n = tee(c->from, c->to, PIPE_SIZE, SPLICE_F_NONBLOCK);
	if (n < 0 && errno == EAGAIN) {
		/* Nothing to read, or our output is full: which one? */
		c->wait_out = poll_out_full(c->to);
		return;
	}
	if (n < 0 && errno != EINTR) {
		/* EINVAL: not for tee(); EPIPE: nobody reads.  Copy. */
		c->zc = 0;
		return;
	}
	if (n <= 0) {
		if (n == 0)
			c->eof = 1;
		return;
	}
	left = (size_t)n;
	/*
	 * Only the last tail->cap bytes can end up in the tail: the ones
	 * before go to /dev/null with splice(), never copied to us.
	 */
	while (p->null >= 0 && left > p->tail->cap) {
		m = splice(c->from, NULL, p->null, NULL, left - p->tail->cap,
		    SPLICE_F_NONBLOCK);
		if (m <= 0) {
			close(p->null);		/* not here: read them */
			p->null = -1;
			break;
		}
		record_tail_skip(p->tail, (size_t)m);
		left -= (size_t)m;
	}
	for (; left > 0; left -= (size_t)m) {
		m = read(c->from, c->buf, left < CHAN_BUF ? left : CHAN_BUF);
		if (m <= 0)
			break;
		record_tail_add(p->tail, c->buf, (size_t)m);
	}
}

void
pty_poll_ready(struct pty *p, const struct pollfd *pfd, int n,
    long long now)
{
	struct pty_chan *c;
	int i, k;

	for (i = 0; i < PTY_CHANS && 2 * i + 1 < n; i++) {
		c = &p->ch[i];
		if (c->zc) {
			if ((pfd[2 * i].fd >= 0 && pfd[2 * i].revents) ||
			    (pfd[2 * i + 1].fd >= 0 && pfd[2 * i + 1].revents))
				chan_move(p, c);
			continue;
		}
		if (pfd[2 * i].fd >= 0 && pfd[2 * i].revents)
			chan_read(p, c, now);
		/* A fresh read is written at once when that cannot block. */
		if (c->len > 0 && (pfd[2 * i + 1].revents ||
		    (!c->to_blocking && pfd[2 * i].fd >= 0 &&
		    pfd[2 * i].revents)))
			chan_write(c);
		/*
		 * While output flows both ways without waiting, go on a few
		 * rounds before polling again: a pty hands over about 4 KiB
		 * a read, and a poll() per read would cost more than the copy.
		 * Bounded, so that signals are never kept waiting long.  Not
		 * for the terminal: it is not ours to make non-blocking.
		 */
		for (k = 0; i != CH_IN && k < BURST && !c->to_blocking &&
		    c->len == 0 &&
		    !c->eof && pfd[2 * i].fd >= 0 && pfd[2 * i].revents; k++) {
			chan_read(p, c, now);
			if (c->len == 0)
				break;
			chan_write(c);
		}
	}
}

void
pty_winch(struct pty *p, long long now)
{
	struct winsize ws;

	if (p->mode != PTY_PTY || p->term < 0 ||
	    ioctl(p->term, TIOCGWINSZ, &ws) < 0)
		return;
	if (ioctl(p->master, TIOCSWINSZ, &ws) < 0)
		log_debug("could not resize the pty: %s", strerror(errno));
	if (p->cast)
		record_cast_resize(p->cast, now, ws.ws_col, ws.ws_row);
}

void
pty_finish(struct pty *p)
{
	struct pty_chan *c;
	long long now = now_ms();
	int i, k, fd;

	for (i = CH_OUT; i < PTY_CHANS; i++) {
		c = &p->ch[i];
		c->zc = 0;	/* what is left goes the copying way */
		fd = i == CH_OUT ? STDOUT_FILENO : STDERR_FILENO;
		for (k = 0; k < DRAIN_READS && c->from >= 0; k++) {
			if (c->len > 0 &&
			    write_all(fd, c->buf + c->off, c->len) < 0)
				log_debug("could not copy output: %s",
				    strerror(errno));
			c->len = 0;
			if (c->eof)
				break;
			chan_read(p, c, now);
			if (c->len == 0 && !c->eof)
				break;	/* EAGAIN: a writer lives on */
		}
	}
	if (p->raw && tcsetattr(p->term, TCSANOW, &p->saved) < 0)
		log_warn_errno("could not restore the terminal");
	p->raw = 0;
	for (i = 0; i < PTY_CHANS; i++) {
		c = &p->ch[i];
		if (i != CH_IN && c->from >= 0 && c->from != p->master)
			close(c->from);
		if (c->to >= 0 && c->to > STDERR_FILENO && c->to != p->master)
			close(c->to);
		free(c->buf);
		chan_init(c);
	}
	if (p->master >= 0)
		close(p->master);
	p->master = -1;
	if (p->null >= 0)
		close(p->null);
	p->null = -1;
	p->mode = PTY_NONE;
}
