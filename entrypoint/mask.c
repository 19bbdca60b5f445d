/*
 * mask.c - hide secrets in what we print or record; see mask.h.
 *
 * Masking errs on the side of hiding: a name like TOKENIZERS_PARALLELISM is
 * masked too, which costs nothing, while a leaked password costs a lot.  The
 * one exception is KEY, which is so common as part of ordinary words
 * (KEYBOARD_LAYOUT, KEYMAP) that it only counts as a whole component of the
 * name (API_KEY, SECRET_KEY_BASE, KEYS) or at the end of one (APIKEY).
 * A NAME_FILE variable (DB_PASSWORD_FILE) holds a path, which is shown.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "util.h"

static struct {
	char *const *names;	/* [app] secret_env, not owned */
} mk;

/* Substrings that make any name secret, upper case. */
static const char *const secret_words[] = {
	"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL",
	"PRIVATE",
};

/* Keywords of a libpq conninfo string or URI query whose value is secret. */
static const char *const conninfo_secret[] = { "password", "sslpassword" };

void
mask_set_names(char *const *names)
{
	mk.names = names;
}

/* 1 when the n bytes at s, upper-cased, end with "KEY" or "KEYS". */
static int
component_is_key(const char *s, size_t n)
{
	if (n >= 4 && strncmp(s + n - 4, "KEYS", 4) == 0)
		return 1;
	return n >= 3 && strncmp(s + n - 3, "KEY", 3) == 0;
}

int
mask_name_is_secret(const char *name)
{
	char up[256];
	size_t i, n, start;

	if (!name || !*name)
		return 0;
	for (i = 0; mk.names && mk.names[i]; i++)
		if (strcmp(mk.names[i], name) == 0)
			return 1;
	n = strlen(name);
	/* NAME_FILE holds the path of the secret, not the secret */
	if (n > 5 && strcmp(name + n - 5, "_FILE") == 0)
		return 0;
	if (n >= sizeof(up))
		n = sizeof(up) - 1;
	for (i = 0; i < n; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[n] = '\0';
	for (i = 0; i < ARRAY_LEN(secret_words); i++)
		if (strstr(up, secret_words[i]))
			return 1;
	/* Components are separated by anything but letters and digits. */
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && isalnum((unsigned char)up[i]))
			continue;
		if (component_is_key(up + start, i - start))
			return 1;
		start = i + 1;
	}
	return 0;
}

/*
 * s points at the "://" of a URL whose scheme is already in sb: append the
 * rest of its userinfo to sb with the password masked and return how many
 * bytes of s were used (the caller copies the rest).
 * The authority ends at the first '/', '?', '#' or blank; when there is no
 * '@' in it but there is one later before '?', '#' or a blank and a ':'
 * before that, the password itself contains a '/' and is masked all the
 * same (unencoded passwords are common in hand-written URLs).
 */
static size_t
mask_one_url(struct strbuf *sb, const char *s)
{
	const char *auth = s + 3, *end, *at = NULL, *colon, *p;

	end = auth + strcspn(auth, "/?# \t\n");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at) {
		end = auth + strcspn(auth, "?# \t\n");
		for (p = auth; p < end; p++)
			if (*p == '@')
				at = p;
	}
	if (!at) {
		strbuf_add(sb, s, (size_t)(auth - s));
		return (size_t)(auth - s);
	}
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon || colon + 1 == at) {
		strbuf_add(sb, s, (size_t)(at - s));
		return (size_t)(at - s);
	}
	strbuf_add(sb, s, (size_t)(colon + 1 - s));
	strbuf_addstr(sb, MASK);
	return (size_t)(at - s);
}

/* Length of the URL scheme that ends right before s[i] ("://"), or 0. */
static size_t
scheme_len(const char *s, size_t i)
{
	size_t n = 0;

	while (n < i && (isalnum((unsigned char)s[i - n - 1]) ||
	    strchr("+-.", s[i - n - 1])))
		n++;
	while (n > 0 && !isalpha((unsigned char)s[i - n]))
		n--;
	return n;
}

/*
 * If s[i] starts a secret conninfo keyword ("password=..." after the start,
 * a blank, '?' or '&'), append it with its value masked and return the
 * bytes used; else 0.  A value is 'quoted' (with \' escapes) or runs to the
 * next blank or '&'.
 */
static size_t
mask_keyword(struct strbuf *sb, const char *s, size_t i)
{
	const char *p, *kw;
	size_t k, n;

	if (i > 0 && !strchr(" \t\n?&", s[i - 1]))
		return 0;
	for (k = 0; k < ARRAY_LEN(conninfo_secret); k++) {
		kw = conninfo_secret[k];
		n = strlen(kw);
		if (strncasecmp(s + i, kw, n) != 0)
			continue;
		p = s + i + n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		strbuf_add(sb, s + i, (size_t)(p - (s + i)));
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			p += strcspn(p, " \t\n&");
		}
		strbuf_addstr(sb, MASK);
		return (size_t)(p - (s + i));
	}
	return 0;
}

char *
mask_url(const char *value)
{
	struct strbuf sb = { NULL, 0, 0 };
	size_t i = 0, n;

	if (!value)
		return NULL;
	while (value[i]) {
		if (value[i] == ':' && value[i + 1] == '/' &&
		    value[i + 2] == '/' && scheme_len(value, i) > 0) {
			i += mask_one_url(&sb, value + i);
			continue;
		}
		n = mask_keyword(&sb, value, i);
		if (n) {
			i += n;
			continue;
		}
		strbuf_addch(&sb, value[i]);
		i++;
	}
	return strbuf_detach(&sb);
}

char *
mask_env_value(const char *name, const char *value)
{
	if (!value)
		return NULL;
	if (*value && mask_name_is_secret(name))
		return xstrdup(MASK);
	return mask_url(value);
}

char *
mask_env_entry(const char *entry)
{
	const char *eq = strchr(entry, '=');
	char *name, *val, *out;

	if (!eq)
		return xstrdup(entry);
	name = xstrndup(entry, (size_t)(eq - entry));
	val = mask_env_value(name, eq + 1);
	out = xasprintf("%s=%s", name, val);
	free(name);
	free(val);
	return out;
}

/*
 * "--password=X", "-token=X", "API_KEY=X": the part before '=' (dashes
 * stripped) is a name; when it looks secret, X is masked.  Anything else
 * has the passwords of its URLs and conninfo keywords masked.
 */
char *
mask_arg(const char *arg)
{
	const char *eq, *name;
	char *n;
	int secret;

	if (!arg)
		return NULL;
	eq = strchr(arg, '=');
	if (eq) {
		name = arg + strspn(arg, "-");
		n = xstrndup(name, (size_t)(eq - name));
		secret = eq > name && !strpbrk(n, " \t") &&
		    mask_name_is_secret(n);
		free(n);
		if (secret && eq[1])
			return xasprintf("%.*s%s", (int)(eq + 1 - arg), arg,
			    MASK);
	}
	return mask_url(arg);
}
