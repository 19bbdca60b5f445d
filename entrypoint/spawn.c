/* spawn.c - placeholder until the PID-1 work lands. */
#include <errno.h>
#include <unistd.h>

#include "exitcode.h"
#include "spawn.h"
#include "util.h"

char *
spawn_resolve(const char *name, char *const *envp)
{
	(void)envp;
	return xstrdup(name);
}

pid_t
spawn_start(const struct spawn_opts *opts)
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		execvpe(opts->argv[0], opts->argv, opts->envp);
		_exit(errno == ENOENT ? 127 : 126);
	}
	return pid;
}

int
spawn_exit_code(int err)
{
	return err == ENOENT || err == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

int
spawn_resolve_user(const char *user, struct spawn_opts *opts)
{
	(void)user;
	(void)opts;
	return -1;
}
