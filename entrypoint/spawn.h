/*
 * spawn.h - start one child process.
 *
 * Everything that can fail or allocate happens in the parent before fork():
 * PATH is resolved, argv and envp are built, stdio is flushed.  The child
 * then only calls async-signal-safe functions: setpgid(0,0), tcsetpgrp() on
 * the terminal when asked (ENOTTY/ENXIO/EBADF tolerated), default
 * dispositions for every ignored signal, setgroups/setgid/setuid when asked,
 * PR_SET_PDEATHSIG when asked (after setuid, which would clear it), the
 * empty mask, execve.  An exec failure reaches the parent through an
 * O_CLOEXEC pipe (EOF means exec succeeded); the child then _exit()s with
 * 127 (ENOENT) or 126.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

enum spawn_flags {
	SPAWN_SETPGID = 1 << 0,		/* the child leads a new group */
	SPAWN_FOREGROUND = 1 << 1,	/* and gets the terminal tty_fd */
	SPAWN_SETUID = 1 << 2,		/* drop to uid/gid/groups */
	SPAWN_PDEATHSIG = 1 << 3,	/* SIGKILL when we die first */
	SPAWN_STDIO = 1 << 4,		/* stdio[i] becomes fd i */
	SPAWN_SETSID = 1 << 5		/* a new session, stdio[0] its
					   controlling terminal (a pty) */
};

struct spawn_opts {
	char *const *argv;	/* argv[0] as given (may be a bare name) */
	char *const *envp;	/* PATH is looked up here, else default */
	unsigned flags;
	int tty_fd;		/* SPAWN_FOREGROUND: the terminal, or -1 */
	uid_t uid;		/* SPAWN_SETUID */
	gid_t gid;
	gid_t *groups;		/* malloc'd by spawn_resolve_user() */
	size_t ngroups;
	const char *path;	/* the file to execve; NULL: resolve argv[0] */
	char *user_name;	/* spawn_resolve_user(): passwd name or NULL */
	char *user_home;	/* its home directory, "/" without an entry */
	int stdio[3];		/* SPAWN_STDIO: fds for 0, 1, 2; -1 keeps */
};

/*
 * Resolve argv[0] against PATH from envp (or "/usr/local/sbin:...:/bin").
 * Return a malloc'd path, or NULL with errno ENOENT (not found) or EACCES
 * (found but not executable).  A name with a '/' is returned as is.
 */
char *spawn_resolve(const char *name, char *const *envp);

/*
 * Start the child.  Return its pid, or -1 when it could not be started; then
 * errno says why and *exec_failed tells whose failure it was: 1 when the
 * command could not be found or executed (the child has been reaped;
 * spawn_exit_code() maps errno to 126/127), 0 when the system could not
 * start a process at all (pipe, fork: EAGAIN, ENOMEM, EMFILE; the caller
 * exits EXIT_OSERR, which is worth a retry).
 * Runs in the parent; the child side is async-signal-safe.
 */
pid_t spawn_start(const struct spawn_opts *opts, int *exec_failed);

/* EXIT_NOTFOUND for ENOENT/ENOTDIR, else EXIT_NOEXEC. */
int spawn_exit_code(int err);

/*
 * Look up user ("name", "uid" or "uid:gid") and fill opts' uid, gid,
 * supplementary groups, user_name and user_home (all malloc'd: free them
 * with spawn_release_user()).  Return 0 or -1 after logging.
 */
int spawn_resolve_user(const char *user, struct spawn_opts *opts);
/* Free what spawn_resolve_user() allocated. */
void spawn_release_user(struct spawn_opts *opts);

#endif
