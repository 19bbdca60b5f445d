/*
 * sigprobe - print what a child inherited: signal mask and ignored
 * signals (from /proc/self/status), process group, session, the terminal's
 * foreground group, uid/gid/groups.  One "key value" per line, on stdout,
 * or into FILE with -o FILE (written whole, then renamed into place, so a
 * reader never sees half of it).
 *
 *	sigprobe [-o FILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
status_lines(FILE *out)
{
	static const char *const keys[] = {
		"SigBlk:", "SigIgn:", "Uid:", "Gid:", "Groups:", NULL
	};
	char line[1024];
	FILE *f = fopen("/proc/self/status", "r");
	int i;

	if (!f) {
		fprintf(stderr, "sigprobe: /proc/self/status: %s\n",
		    strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f))
		for (i = 0; keys[i]; i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fputs(line, out);
	fclose(f);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	char tmp[4096];
	FILE *out = stdout;
	int fd;

	if (argc == 3 && strcmp(argv[1], "-o") == 0) {
		path = argv[2];
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		out = fopen(tmp, "w");
		if (!out) {
			fprintf(stderr, "sigprobe: %s: %s\n", tmp,
			    strerror(errno));
			return 1;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: sigprobe [-o FILE]\n");
		return 2;
	}
	fd = open("/dev/tty", O_RDONLY | O_NOCTTY);
	fprintf(out, "pid: %ld\n", (long)getpid());
	fprintf(out, "ppid: %ld\n", (long)getppid());
	fprintf(out, "pgrp: %ld\n", (long)getpgrp());
	fprintf(out, "sid: %ld\n", (long)getsid(0));
	fprintf(out, "tpgid: %ld\n", (long)(fd >= 0 ? tcgetpgrp(fd) : -1));
	if (fd >= 0)
		close(fd);
	status_lines(out);
	if (fclose(out) != 0) {
		fprintf(stderr, "sigprobe: write: %s\n", strerror(errno));
		return 1;
	}
	if (path && rename(tmp, path) != 0) {
		fprintf(stderr, "sigprobe: rename %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	return 0;
}
