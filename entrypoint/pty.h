/*
 * pty.h - copy a one-off run's output through us, so that it can be kept.
 *
 * Two ways, chosen before the spawn:
 * - pty: for a run under a terminal.  The child gets a new pty as its
 *   controlling terminal (stdin, stdout, stderr); we copy the real terminal
 *   (in raw mode) to the pty and the pty to our stdout, pass window size
 *   changes on, and restore the terminal in pty_finish().  What the pty
 *   prints is what the terminal shows: typed text as echoed, never what was
 *   typed with echo off.
 * - pipes: without a terminal, the child's stdout and stderr are two pipes
 *   that we copy to ours, each in order.  When ours are pipes too (a log
 *   collector, `| cat`), tee() puts the bytes on our stdout without a copy
 *   and we read them once, for the tail.
 *
 * The copying runs inside the supervise loop: pty_poll_fill() adds the fds
 * to its poll(), pty_poll_ready() moves what is ready.  No call here blocks:
 * our sources are non-blocking, and our stdout/stderr are written through
 * non-blocking descriptions of their own (or, when none can be had, at most
 * PIPE_BUF bytes after POLLOUT).  No database here.
 */
#ifndef PTY_H
#define PTY_H

#include <poll.h>
#include <stddef.h>
#include <termios.h>

#include "record.h"

enum pty_mode { PTY_NONE, PTY_PTY, PTY_PIPES };

#define PTY_CHANS 3
#define PTY_POLLFDS (2 * PTY_CHANS)

struct pty_chan {
	int from, to;		/* -1: closed */
	int to_blocking;	/* to may block: write at most PIPE_BUF */
	int feed;		/* what it reads goes to tail and cast */
	int zc;			/* pipe to pipe: tee() and splice(), no copy */
	int wait_out;		/* zc: to is full, wait for POLLOUT */
	char *buf;
	size_t len, off;
	int eof;
};

struct pty {
	enum pty_mode mode;
	int master;		/* PTY_PTY, else -1 */
	int term;		/* the real terminal, or -1 */
	struct termios saved;	/* its settings before raw mode */
	int raw;		/* raw mode is on */
	int child_fd[3];	/* stdin, stdout, stderr of the child; -1 */
	struct pty_chan ch[PTY_CHANS];
	struct record_tail *tail;	/* output kept, or NULL */
	struct record_cast *cast;	/* the recording, or NULL */
	int null;			/* /dev/null for splice(), or -1 */
};

/*
 * Make the pty (term is our terminal, stdin) or the pipes.  tail and cast
 * (may be NULL) get the output.  Return 0, or -1 with errno set (EMFILE,
 * ENOMEM...; nothing is left open).  Parent, before the spawn.
 */
int pty_open(struct pty *p, enum pty_mode mode, int term,
    struct record_tail *tail, struct record_cast *cast);
/*
 * The child has started (or failed to): close its ends here, and put the
 * terminal in raw mode.
 */
void pty_started(struct pty *p);
/* Add the fds to wait for to pfd[0..max); return how many. */
int pty_poll_fill(struct pty *p, struct pollfd *pfd, int max);
/* Move what poll() said is ready (the same pfd as filled). */
void pty_poll_ready(struct pty *p, const struct pollfd *pfd, int n,
    long long now);
/* SIGWINCH: pass the terminal's new size to the pty (and the recording). */
void pty_winch(struct pty *p, long long now);
/*
 * After the loop: copy what is left (without waiting for writers that are
 * still alive), restore the terminal, close everything.
 */
void pty_finish(struct pty *p);
/* The size of the terminal fd (default 80x24). */
void pty_size(int fd, int *width, int *height);

#endif
