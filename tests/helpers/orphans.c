/*
 * orphans - make N orphaned grandchildren and check that our parent (the
 * init under test) adopts and reaps every one of them.
 *
 *	orphans N [BATCH]
 *
 * In batches of BATCH (default 1000): a middle process forks BATCH
 * grandchildren that block on a pipe, and exits, so they are orphans.  We
 * count the processes whose parent is now our own parent (reparented to
 * it: PID 1, or a child subreaper), then close the pipe: they all exit at
 * once and our parent must reap them.  We wait (bounded) until no process
 * but us has our parent as its parent, zombies included.
 * Prints "orphans=N reparented=R left=L zombies=Z reap_ms=T" and exits 0
 * when R == N and L == 0.  T is the time from release to none left.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Count processes (not us) whose parent is ppid; zombies into *zombies. */
static int
count_children_of(pid_t ppid, int *zombies)
{
	char path[300], buf[512], *p, state;
	DIR *d = opendir("/proc");
	struct dirent *de;
	long pp;
	int n = 0;
	FILE *f;

	*zombies = 0;
	if (!d) {
		perror("orphans: /proc");
		exit(1);
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    atol(de->d_name) == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %c %ld", &state, &pp) != 2)
			continue;
		if (pp != (long)ppid)
			continue;
		n++;
		if (state == 'Z')
			(*zombies)++;
	}
	closedir(d);
	return n;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One batch; add to the totals.  Return 0, or -1 when it went wrong. */
static int
batch(int n, int *reparented, int *left, int *zombies, long long *reap_us)
{
	pid_t parent = getppid(), mid;
	int fds[2], i, c, z, st;
	long long t0, deadline;
	char b;

	if (pipe(fds) < 0) {
		perror("orphans: pipe");
		return -1;
	}
	mid = fork();
	if (mid < 0) {
		perror("orphans: fork");
		return -1;
	}
	if (mid == 0) {
		for (i = 0; i < n; i++) {
			switch (fork()) {
			case -1:
				perror("orphans: fork");
				_exit(1);
			case 0:
				close(fds[1]);
				while (read(fds[0], &b, 1) < 0 &&
				    errno == EINTR)
					;
				_exit(0);
			}
		}
		_exit(0);
	}
	close(fds[0]);
	if (waitpid(mid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		close(fds[1]);
		return -1;
	}
	/* Reparenting happens as the middle process exits: no wait. */
	c = count_children_of(parent, &z);
	*reparented += c;

	t0 = now_us();
	close(fds[1]);
	deadline = t0 + 60 * 1000000LL;
	do {
		c = count_children_of(parent, &z);
		if (c == 0)
			break;
		sleep_ms(1);
	} while (now_us() < deadline);
	*reap_us += now_us() - t0;
	*left += c;
	*zombies += z;
	return 0;
}

int
main(int argc, char **argv)
{
	int total, per, done, reparented = 0, left = 0, zombies = 0, rc = 0;
	long long reap_us = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: orphans N [BATCH]\n");
		return 2;
	}
	total = atoi(argv[1]);
	per = argc == 3 ? atoi(argv[2]) : 1000;
	if (total <= 0 || per <= 0) {
		fprintf(stderr, "orphans: N and BATCH must be positive\n");
		return 2;
	}
	for (done = 0; done < total; done += per) {
		if (batch(total - done < per ? total - done : per,
		    &reparented, &left, &zombies, &reap_us) < 0) {
			rc = 1;
			break;
		}
	}
	printf("orphans=%d reparented=%d left=%d zombies=%d reap_ms=%lld\n",
	    total, reparented, left, zombies, reap_us / 1000);
	if (reparented != total || left != 0)
		rc = 1;
	return rc;
}
