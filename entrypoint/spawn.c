/*
 * spawn.c - start one child process; see spawn.h.
 *
 * The parent does everything that can allocate or fail in an interesting
 * way (PATH lookup, user lookup, the errno pipe).  Between fork() and
 * execve() the child only makes system calls that are async-signal-safe:
 * the parent may be PID 1 and its malloc/stdio state is not ours to touch.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "sig.h"
#include "spawn.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
	"/sbin:/bin"

/* The value of PATH in envp, or NULL. */
static const char *
env_path(char *const *envp)
{
	size_t i;

	for (i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return NULL;
}

/*
 * Look name up in PATH the way execvp() does: the first regular executable
 * file wins; a match that is not executable is remembered (EACCES) but the
 * search goes on.  An empty PATH element is the current directory.
 */
char *
spawn_resolve(const char *name, char *const *envp)
{
	const char *path, *p, *end;
	struct stat st;
	char *full;
	int denied = 0;
	size_t dlen;

	if (!name || !*name) {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(name, '/'))
		return xstrdup(name);
	path = env_path(envp);
	if (!path)
		path = DEFAULT_PATH;
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		if (dlen == 0)
			full = xasprintf("./%s", name);
		else
			full = xasprintf("%.*s/%s", (int)dlen, p, name);
		if (stat(full, &st) == 0) {
			if (S_ISREG(st.st_mode) && access(full, X_OK) == 0)
				return full;
			denied = 1;
		} else if (errno == EACCES) {
			denied = 1;
		}
		free(full);
		if (*end == '\0')
			break;
	}
	errno = denied ? EACCES : ENOENT;
	return NULL;
}

int
spawn_exit_code(int err)
{
	return err == ENOENT || err == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

/*
 * Tell the parent why we failed and leave.  Child side, async-signal-safe:
 * write() and _exit() only, never exit() (it would flush the parent's
 * stdio buffers a second time and run its atexit handlers).
 */
static void
child_fail(int fd, int err)
{
	ssize_t r;

	do
		r = write(fd, &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	_exit(err == ENOENT || err == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

/*
 * Everything between fork() and execve().  Child side: async-signal-safe
 * calls only.  The order matters: the terminal is taken while every signal
 * is still blocked (tcsetpgrp() from a background group raises SIGTTOU),
 * and the mask is emptied last, right before execve().
 */
static void
child_exec(const struct spawn_opts *o, const char *path,
    const sigset_t *mask, int errfd, pid_t parent)
{
	static const unsigned long ksa_dfl[8];
	struct sigaction sa, old;
	int s;

	if (o->flags & SPAWN_SETPGID && setpgid(0, 0) < 0)
		child_fail(errfd, errno);
	/* A session leader is the only one that can take a terminal. */
	if (o->flags & SPAWN_SETSID && (setsid() < 0 ||
	    ioctl(o->stdio[0], TIOCSCTTY, 0) < 0))
		child_fail(errfd, errno);
	for (s = 0; o->flags & SPAWN_STDIO && s < 3; s++)
		if (o->stdio[s] >= 0 && o->stdio[s] != s &&
		    dup2(o->stdio[s], s) < 0)
			child_fail(errfd, errno);
	if (o->flags & SPAWN_FOREGROUND && o->tty_fd >= 0 &&
	    tcsetpgrp(o->tty_fd, getpid()) < 0 && errno != ENOTTY &&
	    errno != ENXIO && errno != EBADF)
		child_fail(errfd, errno);

	/*
	 * Whoever started us may have left signals ignored (nohup, a shell's
	 * trap '' TERM, a container runtime); an ignored disposition would be
	 * inherited across execve().  Handlers cannot be inherited, so only
	 * SIG_IGN needs undoing.  Signals the libc reserves fail with EINVAL.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, NULL, &old) == 0) {
			if (old.sa_handler == SIG_IGN)
				sigaction(s, &sa, NULL);
		} else {
			/*
			 * A signal the libc keeps for itself (32-34) and
			 * refuses to touch, but that our parent may still
			 * have left ignored.  An all-zero kernel sigaction
			 * is SIG_DFL, no flags, empty mask on every layout.
			 */
			syscall(SYS_rt_sigaction, s, ksa_dfl, NULL,
			    (size_t)(NSIG - 1) / 8);
		}
	}

	if (o->flags & SPAWN_SETUID) {
		if (setgroups(o->ngroups, o->groups) < 0)
			child_fail(errfd, errno);
		if (setgid(o->gid) < 0)
			child_fail(errfd, errno);
		if (setuid(o->uid) < 0)
			child_fail(errfd, errno);
	}
	/*
	 * Die with the parent: a one-off child must not go on without the
	 * lock and the audit row its entrypoint held (a `kill -9` of a
	 * `docker exec`).  Set after setuid(), which clears it; the parent
	 * may have died before prctl() took effect, hence getppid().
	 */
	if (o->flags & SPAWN_PDEATHSIG) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			child_fail(errfd, errno);
		if (getppid() != parent)
			_exit(EXIT_SIGNAL_BASE + SIGKILL);
	}
	if (sigprocmask(SIG_SETMASK, mask, NULL) < 0)
		child_fail(errfd, errno);
	execve(path, o->argv, o->envp);
	child_fail(errfd, errno);
}

pid_t
spawn_start(const struct spawn_opts *opts, int *exec_failed)
{
	const sigset_t *mask = sig_child_mask();
	char *path;
	int fds[2], err, saved;
	ssize_t n;
	pid_t pid, self = getpid();

	*exec_failed = 1;
	if (!opts->argv || !opts->argv[0]) {
		errno = ENOENT;
		return -1;
	}
	path = opts->path ? xstrdup(opts->path) :
	    spawn_resolve(opts->argv[0], opts->envp);
	if (!path)
		return -1;
	/* From here on a failure is the system's (71), not the command's. */
	*exec_failed = 0;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		saved = errno;
		free(path);
		errno = saved;
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		saved = errno;
		close(fds[0]);
		close(fds[1]);
		free(path);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_exec(opts, path, mask, fds[1], self);
		/* NOTREACHED */
	}
	close(fds[1]);
	free(path);
	/*
	 * Also from this side, so that the group exists before we signal it
	 * (whichever of us runs first).  EACCES: the child already exec'd,
	 * after doing it itself.
	 */
	if (opts->flags & SPAWN_SETPGID)
		setpgid(pid, pid);
	n = read_nointr(fds[0], &err, sizeof(err));
	saved = errno;
	close(fds[0]);
	if (n == 0)
		return pid;
	if (n != (ssize_t)sizeof(err))
		err = n < 0 ? saved : EIO;
	else
		*exec_failed = 1;
	waitpid_nointr(pid, NULL, 0);
	errno = err;
	return -1;
}

/* Parse a whole uid/gid number; -1 when s is not one. */
static int
parse_id(const char *s, long *out)
{
	return parse_long(s, 0, 0x7fffffffL, out);
}

/*
 * "user", "uid", "user:group", "uid:gid" (any mix of names and numbers).
 * A user found in the passwd database gets its primary group (unless a
 * group is given) and its supplementary groups; a bare number that is in
 * no passwd entry needs an explicit group, so that we never run with
 * root's group by accident.
 */
int
spawn_resolve_user(const char *user, struct spawn_opts *opts)
{
	const char *colon = strchr(user, ':');
	char *uname, *gname = NULL;
	struct passwd *pw;
	struct group *gr;
	gid_t *groups = NULL;
	long v;
	int n = 0, i, tries;
	size_t k;

	uname = colon ? xstrndup(user, (size_t)(colon - user)) : xstrdup(user);
	if (colon)
		gname = xstrdup(colon + 1);
	if (!*uname || (gname && !*gname)) {
		log_error("invalid user \"%s\": expected name, uid or uid:gid",
		    user);
		goto fail;
	}
	errno = 0;
	if (parse_id(uname, &v) == 0) {
		opts->uid = (uid_t)v;
		pw = getpwuid(opts->uid);
	} else {
		pw = getpwnam(uname);
		if (!pw) {
			log_error("unrecognized user \"%s\"", uname);
			goto fail;
		}
		opts->uid = pw->pw_uid;
	}
	if (gname) {
		if (parse_id(gname, &v) == 0) {
			opts->gid = (gid_t)v;
		} else {
			gr = getgrnam(gname);
			if (!gr) {
				log_error("unrecognized group \"%s\"", gname);
				goto fail;
			}
			opts->gid = gr->gr_gid;
		}
	} else if (pw) {
		opts->gid = pw->pw_gid;
	} else {
		log_error("user \"%s\" has no passwd entry: give uid:gid",
		    uname);
		goto fail;
	}

	opts->user_name = pw ? xstrdup(pw->pw_name) : NULL;
	opts->user_home = xstrdup(pw && *pw->pw_dir ? pw->pw_dir : "/");
	if (pw) {
		n = 16;
		for (tries = 0; tries < 8; tries++) {
			groups = xrealloc(groups, (size_t)n * sizeof(*groups));
			i = n;
			if (getgrouplist(pw->pw_name, opts->gid, groups,
			    &i) >= 0) {
				n = i;
				break;
			}
			n = i > n ? i : n * 2;
		}
		if (tries == 8) {
			log_error("could not list the groups of user \"%s\"",
			    pw->pw_name);
			goto fail;
		}
	} else {
		groups = xmalloc(sizeof(*groups));
		groups[0] = opts->gid;
		n = 1;
	}
	/* getgrouplist() puts the given group first; keep it there. */
	for (k = 0; k < (size_t)n && groups[k] != opts->gid; k++)
		;
	if (k == (size_t)n) {
		groups = xrealloc(groups, (size_t)(n + 1) * sizeof(*groups));
		groups[n++] = opts->gid;
	}
	opts->groups = groups;
	opts->ngroups = (size_t)n;
	opts->flags |= SPAWN_SETUID;
	free(uname);
	free(gname);
	return 0;
fail:
	free(opts->user_name);
	free(opts->user_home);
	opts->user_name = NULL;
	opts->user_home = NULL;
	free(groups);
	free(uname);
	free(gname);
	return -1;
}

void
spawn_release_user(struct spawn_opts *opts)
{
	free((void *)(uintptr_t)opts->groups);
	free(opts->user_name);
	free(opts->user_home);
	opts->user_name = NULL;
	opts->user_home = NULL;
	opts->groups = NULL;
	opts->ngroups = 0;
}
