/*
 * fuzz_mask.c - libFuzzer target: the masker (mask_url, mask_arg,
 * mask_argv, mask_env_entry) against a known secret.
 *
 * The input is text in which every byte 0x01 stands for the secret SECRET
 * and every byte 0x02 for the secret percent-encoded (%4B%71...); 0x03
 * separates arguments.  Inputs that hold SECRET themselves are skipped, so
 * that the secret is only where the input put it.  Properties (abort() on
 * failure), each "no input makes a known secret appear":
 *  - a password or sslpassword that libpq's own parser (PQconninfoParse)
 *    reads from a value does not appear in mask_url() or mask_arg() of
 *    that value (3 bytes or more, no '*');
 *  - when the masked value itself parses, libpq reads no password holding
 *    SECRET from it (so no spelling of it survives, encoded or not);
 *  - the argument after "--password" (and any secret flag without '=')
 *    never shows SECRET in mask_argv()'s output;
 *  - "DB_PASSWORD=<value>" never shows SECRET in mask_env_entry().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "mask.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "Kq7Zsecret"
#define SECRET_PCT "%4B%71%37%5A%73%65%63%72%65%74"

/*
 * The passwords libpq reads from s (password, sslpassword) into pw[2]
 * (malloc'd, NULL when none); return 1 when one holds SECRET.
 */
static int
libpq_passwords(const char *s, char *pw[2])
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int found = 0;

	pw[0] = pw[1] = NULL;
	opts = PQconninfoParse(s, &err);
	PQfreemem(err);
	if (!opts)
		return 0;
	for (o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "password") == 0)
			pw[0] = xstrdup(o->val);
		else if (strcmp(o->keyword, "sslpassword") == 0)
			pw[1] = xstrdup(o->val);
		else
			continue;
		if (strstr(o->val, SECRET))
			found = 1;
	}
	PQconninfoFree(opts);
	return found;
}

/*
 * Abort when masked shows a password libpq reads from v (one of 3 bytes
 * or more: shorter ones are left to the scan, see mask.c; and none with a
 * '*', which the mask itself could spell), or when libpq reads a password
 * holding SECRET from masked.
 */
static void
check_masked(char *pw[2], const char *masked)
{
	char *again[2];
	int i, leak;

	for (i = 0; i < 2; i++)
		if (pw[i] && strlen(pw[i]) >= 3 && !strchr(pw[i], '*') &&
		    strstr(masked, pw[i]))
			abort();
	leak = libpq_passwords(masked, again);
	free(again[0]);
	free(again[1]);
	if (leak)
		abort();
}

/* One value: the properties of mask_url and mask_arg. */
static void
check_value(const char *v)
{
	char *pw[2], *m;

	(void)libpq_passwords(v, pw);
	m = mask_url(v);
	check_masked(pw, m);
	free(m);
	m = mask_arg(v);
	check_masked(pw, m);
	free(m);
	free(pw[0]);
	free(pw[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = { NULL, 0, 0 };
	struct strv args = { NULL, 0, 0 };
	char *text, *p, *q, *entry, **m;
	size_t i;

	if (memmem(data, size, SECRET, strlen(SECRET)))
		return 0;
	for (i = 0; i < size; i++) {
		if (data[i] == 0)
			break;
		if (data[i] == 1)
			strbuf_addstr(&sb, SECRET);
		else if (data[i] == 2)
			strbuf_addstr(&sb, SECRET_PCT);
		else
			strbuf_addch(&sb, (char)data[i]);
	}
	text = strbuf_detach(&sb);
	if (!text)
		text = xstrdup("");
	for (p = text;; p = q + 1) {
		q = strchr(p, '\003');
		if (q)
			*q = '\0';
		check_value(p);
		strv_push(&args, p);
		if (!q)
			break;
	}
	m = mask_argv(args.v);
	for (i = 0; args.v[i]; i++) {
		if (!m[i])
			abort();	/* same length */
		if (i > 0 && strstr(args.v[i], SECRET) &&
		    (strcmp(args.v[i - 1], "--password") == 0 ||
		    strcmp(args.v[i - 1], "-db-token") == 0) &&
		    strstr(m[i], SECRET))
			abort();
	}
	if (m[i])
		abort();
	strv_free(m);
	strv_release(&args);
	entry = xasprintf("DB_PASSWORD=%s", text);
	p = mask_env_entry(entry);
	if (strstr(p, SECRET))
		abort();
	free(p);
	free(entry);
	free(text);
	return 0;
}
