/*
 * mute - a server that accepts connections and never answers, or answers
 * something that is not PostgreSQL.
 *
 *	mute [-r REPLY] SOCKET LOG
 *
 * Listens on the unix socket SOCKET (a path such as DIR/.s.PGSQL.5432, so
 * that libpq's host=DIR port=5432 reaches it), appends one line
 * "accepted" to LOG per connection, and keeps every connection open
 * without a byte in reply.  With -r, it writes REPLY once the client has
 * sent something, then closes.  It exits after 300 s in any case (tests
 * end it by pid before).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXFD 64

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	struct pollfd p[MAXFD];
	const char *reply = NULL;
	char buf[4096];
	int lfd, log, n = 1, i, c;

	if (argc == 5 && strcmp(argv[1], "-r") == 0) {
		reply = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: mute [-r REPLY] SOCKET LOG\n");
		return 2;
	}
	alarm(300);
	log = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	unlink(argv[1]);
	if (log < 0 || lfd < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0) {
		perror("mute");
		return 1;
	}
	p[0].fd = lfd;
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 1; i < n; i++) {
			ssize_t r;

			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r > 0 && reply &&
			    write(p[i].fd, reply, strlen(reply)) < 0)
				perror("mute: write");
			if (r <= 0 || reply) {
				close(p[i].fd);
				p[i--] = p[--n];
			}
		}
		if (!(p[0].revents & POLLIN))
			continue;
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0)
			continue;
		if (write(log, "accepted\n", 9) < 0)
			perror("mute: log");
		if (n == MAXFD) {
			close(c);
			continue;
		}
		p[n].fd = c;
		p[n].events = POLLIN;
		p[n].revents = 0;
		n++;
	}
}
