/* supervise.c - placeholder until the PID-1 work lands. */
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"
#include "util.h"

int
supervise_init(void)
{
	return 0;
}

int
supervise_is_pid1(void)
{
	return getpid() == 1;
}

int
supervise_reap(void)
{
	return 0;
}

int
supervise_run(const struct supervise_opts *opts, struct supervise_result *res)
{
	int st = 0;

	waitpid_nointr(opts->pid, &st, 0);
	res->status = st;
	res->timed_out = res->interrupted = 0;
	res->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	res->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + res->signal;
	return 0;
}
