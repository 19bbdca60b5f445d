/*
 * tfiles.h - fixture folders for the unit tests that read migrations from
 * disk (t_layout.c, t_takeover.c): folder() makes a fresh one under root
 * (the test's mkdtemp), put() writes a file in it, making one level of
 * subfolder ("0001_x/up.sql") as needed.  Header-only, like tap.h.
 */
#ifndef TFILES_H
#define TFILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[256];
static int seq;

/* A fresh folder; returns its path (static buffer). */
static const char *
folder(void)
{
	static char dir[512];

	snprintf(dir, sizeof(dir), "%s/d%d", root, ++seq);
	mkdir(dir, 0700);
	return dir;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (strchr(name, '/')) {
		char sub[1024];

		snprintf(sub, sizeof(sub), "%s/%.*s", dir,
		    (int)(strchr(name, '/') - name), name);
		mkdir(sub, 0700);
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

#endif
