/*
 * fuzz_config.c - libFuzzer target: the config loader on any bytes.
 *
 * The input is an entrypoint.ini, optionally followed by a line "#@env_file"
 * and the text of an env_file.  It is loaded with config_load() as
 * `entrypoint -c entrypoint.ini` would load it (the real reader: NUL bytes,
 * long lines, a BOM), with a fixed inherited environment; a config that
 * loads is then dumped (stdout is /dev/null), its commands split and it is
 * released, so LeakSanitizer sees every allocation.
 *
 * The loader reads the files the config names (env_file, release_file,
 * NAME_FILE), so each run happens in a private, fixed directory holding
 * only: entrypoint.ini and envfile (links to two memfds that hold this
 * run's bytes), release and secret (small files written once at start).
 * So that no name can reach outside that directory, a '/' in the input is
 * turned into '_' unless it follows ':' (as in "postgres://"): then every
 * path that contains a '/' starts with a component ending in ':' that does
 * not exist there.  Nothing the input says can create, write or block on a
 * file.  The directory is removed at exit.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define ENV_MARK "#@env_file\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	char dir[64];
	int dirfd, cwdfd;
	int ini_fd, env_fd;	/* memfds behind entrypoint.ini, envfile */
} fz = { "", -1, -1, -1, -1 };

static char e_app[] = "APP_ENV=production";
static char e_port[] = "PORT=8080";
static char e_rel[] = "RELEASE=v1.2.3";
static char e_empty[] = "EMPTY=";
static char e_url[] = "DATABASE_URL=postgres://app:hunter2@db:5432/app";
static char e_token[] = "API_TOKEN_FILE=secret";
static char e_level[] = "LOG_LEVEL_FILE=missing";
static char *const fuzz_envp[] = {
	e_app, e_port, e_rel, e_empty, e_url, e_token, e_level, NULL
};

static const char *const dir_files[] = {
	"entrypoint.ini", "envfile", "release", "secret"
};

static void
die(const char *what)
{
	perror(what);
	abort();
}

static void
cleanup(void)
{
	size_t i;

	if (fz.dirfd < 0)
		return;
	for (i = 0; i < ARRAY_LEN(dir_files); i++)
		unlinkat(fz.dirfd, dir_files[i], 0);
	close(fz.dirfd);
	fz.dirfd = -1;
	rmdir(fz.dir);
}

static void
put_file(const char *name, const char *text)
{
	int fd = openat(fz.dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || close(fd) < 0)
		die(name);
}

/* A link name -> /proc/self/fd/N of a new memfd; return the memfd. */
static int
put_memfd_link(const char *name)
{
	char target[64];
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		die("memfd_create");
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (symlinkat(target, fz.dirfd, name) < 0)
		die("symlinkat");
	return fd;
}

static void
set_memfd(int fd, const char *buf, size_t len)
{
	if (ftruncate(fd, 0) < 0 ||
	    (len && pwrite(fd, buf, len, 0) != (ssize_t)len))
		die("memfd write");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	int null;

	(void)argc;
	(void)argv;
	snprintf(fz.dir, sizeof(fz.dir), "%s/fuzz_config.XXXXXX",
	    tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(fz.dir))
		die("mkdtemp");
	fz.dirfd = open(fz.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fz.cwdfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fz.dirfd < 0 || fz.cwdfd < 0)
		die("open");
	atexit(cleanup);
	put_file("release", "  v9.9.9-fuzz\n\n");
	put_file("secret", "s3cret-token\n");
	fz.ini_fd = put_memfd_link("entrypoint.ini");
	fz.env_fd = put_memfd_link("envfile");
	/* config_dump() prints to stdout; libFuzzer talks on stderr */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		die("/dev/null");
	close(null);
	return 0;
}

/* A copy of data with every '/' not after ':' or ":/" made '_'. */
static char *
confine(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	size_t i;

	for (i = 0; i < size; i++) {
		s[i] = (char)data[i];
		if (s[i] == '/' && !(i >= 1 && data[i - 1] == ':') &&
		    !(i >= 2 && data[i - 1] == '/' && data[i - 2] == ':'))
			s[i] = '_';
	}
	s[size] = '\0';
	return s;
}

/* Use a loaded config the way the commands do. */
static void
exercise(const struct config *cfg)
{
	char **argv;
	const char *err;
	size_t i;

	config_dump(cfg);
	for (i = 0; i < cfg->nprocs; i++) {
		if (config_split_argv(cfg->procs[i].command, &argv, &err) == 0)
			strv_free(argv);
		if (config_process(cfg, cfg->procs[i].name) != &cfg->procs[i])
			abort();
	}
	for (i = 0; i < cfg->ntasks; i++) {
		if (config_split_argv(cfg->tasks[i].command, &argv, &err) == 0)
			strv_free(argv);
		if (config_task(cfg, cfg->tasks[i].name) != &cfg->tasks[i])
			abort();
	}
	if (env_envp(&cfg->env) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *text = confine(data, size), *mark;
	size_t ini_len = size;

	mark = memmem(text, size, ENV_MARK, strlen(ENV_MARK));
	if (mark) {
		ini_len = (size_t)(mark - text);
		mark += strlen(ENV_MARK);
		set_memfd(fz.env_fd, mark, size - (size_t)(mark - text));
	} else {
		set_memfd(fz.env_fd, "", 0);
	}
	set_memfd(fz.ini_fd, text, ini_len);
	free(text);

	if (fchdir(fz.dirfd) < 0)
		die("fchdir");
	if (config_load(&cfg, "entrypoint.ini", fuzz_envp) == 0) {
		exercise(&cfg);
		config_release(&cfg);
	}
	if (fchdir(fz.cwdfd) < 0)
		die("fchdir");
	return 0;
}
