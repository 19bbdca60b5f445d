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

#include <libpq-fe.h>

#include "mask.h"
#include "util.h"

static struct {
	char *const *names;	/* [app] secret_env, not owned */
	char *shown[4];		/* mask_show()'s last results */
	unsigned next;
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

/*
 * 1 when the n bytes at s, upper-cased, are a component that names a
 * secret on its own: ending in KEY or KEYS (API_KEY, APIKEY), or in PASS
 * (DB_PASS, SMTP_PASS, PGPASS).
 */
static int
component_is_secret(const char *s, size_t n)
{
	if (n >= 4 && strncmp(s + n - 4, "KEYS", 4) == 0)
		return 1;
	if (n >= 4 && strncmp(s + n - 4, "PASS", 4) == 0)
		return 1;
	return n >= 3 && strncmp(s + n - 3, "KEY", 3) == 0;
}

int
mask_name_is_secret(const char *name)
{
	char *up;
	size_t i, n, start;
	int secret = 0;

	if (!name || !*name)
		return 0;
	for (i = 0; mk.names && mk.names[i]; i++)
		if (strcmp(mk.names[i], name) == 0)
			return 1;
	n = strlen(name);
	/* NAME_FILE holds the path of the secret, not the secret */
	if (n > 5 && strcmp(name + n - 5, "_FILE") == 0)
		return 0;
	/* the whole name, however long: no name is cut short */
	up = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[n] = '\0';
	for (i = 0; i < ARRAY_LEN(secret_words) && !secret; i++)
		if (strstr(up, secret_words[i]))
			secret = 1;
	/* Components are separated by anything but letters and digits. */
	for (start = 0, i = 0; i <= n && !secret; i++) {
		if (i < n && isalnum((unsigned char)up[i]))
			continue;
		if (component_is_secret(up + start, i - start))
			secret = 1;
		start = i + 1;
	}
	free(up);
	return secret;
}

/*
 * s points at the "://" of a URL whose scheme is already in sb: append the
 * rest of its userinfo to sb with the password masked and return how many
 * bytes of s were used (the caller copies the rest).
 * libpq's URI parser (conninfo_uri_parse_options) takes everything up to
 * the first '@' or '/' as the user info, so a password may hold '?', '#',
 * '&', ':', a blank or a line end; we do the same, and stop at a line end
 * too unless the URL is the whole value (whole).  When
 * there is no '@' before the first '/' but there is one later before a
 * blank, and a ':' before that, the password itself holds a '/' and is
 * masked all the same (unencoded passwords are common in hand-written
 * URLs).  The last such '@' counts, to hide more rather than less.
 */
static size_t
mask_one_url(struct strbuf *sb, const char *s, int whole)
{
	const char *auth = s + 3, *end, *at = NULL, *colon, *p;
	const char *stop = whole ? "@/" : "@/\n";

	end = auth + strcspn(auth, stop);
	if (*end == '@') {
		at = end;
		for (p = end + 1; *p && !strchr(stop + 1, *p); p++)
			if (*p == '@')
				at = p;
	} else {
		end = auth + strcspn(auth, "# \t\n");
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

/* The value of hex digit c, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Whether s starts with keyword kw (case-insensitive; in a URI query a
 * %XX escape counts as the byte it stands for, as libpq decodes the
 * keyword too).  Return the bytes of s it takes, or 0.
 */
static size_t
match_keyword(const char *s, const char *kw, int uri)
{
	const char *p = s;
	int c, h, l;

	for (; *kw; kw++) {
		c = (unsigned char)*p;
		if (uri && c == '%') {
			h = hexval((unsigned char)p[1]);
			l = h < 0 ? -1 : hexval((unsigned char)p[2]);
			if (l < 0)
				return 0;
			c = h * 16 + l;
			p += 2;
		}
		if (tolower(c) != *kw)
			return 0;
		p++;
	}
	return (size_t)(p - s);
}

/*
 * If s[i] starts a secret conninfo keyword ("password=..." at the start or
 * after anything but a letter, digit or '_'), append it with its value
 * masked and return the bytes used; else 0.  After '?' or '&' it is a URI
 * query parameter, whose value runs to the next '&' (libpq splits only
 * there) or line end.  Else it is a conninfo value as libpq's
 * conninfo_parse reads it: 'quoted' (with \ escapes) or up to the next
 * blank, a backslash escaping the next byte.
 */
static size_t
mask_keyword(struct strbuf *sb, const char *s, size_t i)
{
	const char *p;
	size_t k, n;
	int uri = i > 0 && (s[i - 1] == '?' || s[i - 1] == '&');

	if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))
		return 0;
	for (k = 0; k < ARRAY_LEN(conninfo_secret); k++) {
		n = match_keyword(s + i, conninfo_secret[k], uri);
		if (!n)
			continue;
		p = s + i + n;
		while (!uri && isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (!uri && isspace((unsigned char)*p))
			p++;
		strbuf_add(sb, s + i, (size_t)(p - (s + i)));
		if (!*p || isspace((unsigned char)*p) || (uri && *p == '&'))
			return (size_t)(p - (s + i));	/* empty: shown */
		if (!uri && p[0] == '\'' && p[1] == '\'') {
			strbuf_add(sb, p, 2);
			return (size_t)(p + 2 - (s + i));
		}
		if (uri) {
			p += strcspn(p, "&\n");
		} else if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
			/* glued to the quote: hidden too */
			while (*p && !isspace((unsigned char)*p))
				p++;
		} else {
			for (; *p && !isspace((unsigned char)*p); p++)
				if (*p == '\\' && p[1])
					p++;
		}
		strbuf_addstr(sb, MASK);
		return (size_t)(p - (s + i));
	}
	return 0;
}

/*
 * The passwords libpq itself finds in value, when the whole value is a
 * connection string it accepts (PQconninfoParse: a URI or key=value
 * pairs; no defaults, no service file, nothing read): every occurrence of
 * them left in out is masked too, so that no spelling our scan does not
 * know (an escape, an odd place) shows them.  Values shorter than
 * NET_MIN_LEN are left to the scan: masking every "a" would hide the
 * message, not the secret.
 */
#define NET_MIN_LEN 3

char *
mask_conninfo_secrets(const char *value, char *out)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *q;
	size_t k;
	struct strbuf sb;
	const char *p, *hit;

	/* What libpq can read: a URI, or keyword=value pairs; anything
	 * else holds no password of its (and parsing costs allocations,
	 * once per variable of the environment when output is kept). */
	if (!strchr(value, '=') && strncmp(value, "postgresql://", 13) != 0 &&
	    strncmp(value, "postgres://", 11) != 0)
		return out;
	opts = PQconninfoParse(value, &err);
	PQfreemem(err);
	if (!opts)
		return out;
	for (o = opts; o->keyword; o++) {
		for (k = 0; k < ARRAY_LEN(conninfo_secret); k++)
			if (strcmp(o->keyword, conninfo_secret[k]) == 0)
				break;
		if (k == ARRAY_LEN(conninfo_secret) || !o->val ||
		    strlen(o->val) < NET_MIN_LEN || !strstr(out, o->val))
			continue;
		memset(&sb, 0, sizeof(sb));
		for (p = out; (hit = strstr(p, o->val)) != NULL;
		    p = hit + strlen(o->val)) {
			strbuf_add(&sb, p, (size_t)(hit - p));
			strbuf_addstr(&sb, MASK);
		}
		strbuf_addstr(&sb, p);
		q = strbuf_detach(&sb);
		free(out);
		out = q;
	}
	PQconninfoFree(opts);
	return out;
}

/* 1 when libpq reads a password from s that is not the mask (and not
 * too short to be looked for, see NET_MIN_LEN). */
static int
reads_a_password(const char *s)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	size_t k;
	int found = 0;

	opts = PQconninfoParse(s, &err);
	PQfreemem(err);
	for (o = opts; o && o->keyword; o++)
		for (k = 0; k < ARRAY_LEN(conninfo_secret); k++)
			if (strcmp(o->keyword, conninfo_secret[k]) == 0 &&
			    o->val && strlen(o->val) >= NET_MIN_LEN &&
			    strcmp(o->val, MASK) != 0)
				found = 1;
	PQconninfoFree(opts);
	return found;
}

/*
 * Masking can turn what libpq could not read into what it reads: a
 * keyword's value masked up to a blank takes a '/' with it, and an
 * "u:PW...@" that was no userinfo becomes one.  Whatever libpq reads as a
 * password from the masked text is masked in it too, until nothing
 * changes; when libpq still reads one (spelled otherwise in the text, as
 * %XX), the whole value is the mask: too much hidden, never too little.
 */
static char *
mask_readable(char *out)
{
	char *again;
	int k;

	for (k = 0; k < 8; k++) {
		again = mask_conninfo_secrets(out, xstrdup(out));
		if (strcmp(again, out) == 0) {
			free(again);
			break;
		}
		free(out);
		out = again;
	}
	if ((strchr(out, '=') || strncmp(out, "postgres", 8) == 0) &&
	    reads_a_password(out)) {
		free(out);
		out = xstrdup(MASK);
	}
	return out;
}

char *
mask_url(const char *value)
{
	struct strbuf sb = { NULL, 0, 0 };
	char *pre;
	const char *v;
	size_t i = 0, n;

	if (!value)
		return NULL;
	/*
	 * What libpq reads goes first, so that the scan cannot split a
	 * password in two and leave a part; the scan then hides the
	 * spellings libpq decodes (%XX, \ escapes), and the passwords once
	 * more, should the scan have joined text around them.
	 */
	pre = mask_conninfo_secrets(value, xstrdup(value));
	v = pre;
	while (v[i]) {
		if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/' &&
		    scheme_len(v, i) > 0) {
			i += mask_one_url(&sb, v + i, scheme_len(v, i) == i);
			continue;
		}
		n = mask_keyword(&sb, v, i);
		if (n) {
			i += n;
			continue;
		}
		strbuf_addch(&sb, v[i]);
		i++;
	}
	free(pre);
	return mask_readable(mask_conninfo_secrets(value, strbuf_detach(&sb)));
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
		/* a name, not "postgres://u:p@h/x?password" */
		secret = eq > name && strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(n) &&
		    mask_name_is_secret(n);
		free(n);
		if (secret && eq[1])
			return mask_conninfo_secrets(arg, xasprintf("%.*s%s",
			    (int)(eq + 1 - arg), arg, MASK));
	}
	return mask_url(arg);
}

const char *
mask_show(const char *arg)
{
	unsigned i = mk.next++ % ARRAY_LEN(mk.shown);

	free(mk.shown[i]);
	mk.shown[i] = mask_arg(arg ? arg : "");
	return mk.shown[i];
}

/* 1 when arg is "-NAME" or "--NAME" (no '=') with a secret NAME. */
static int
is_secret_flag(const char *arg)
{
	const char *name = arg + strspn(arg, "-");

	return name > arg && *name && !strchr(name, '=') &&
	    !strpbrk(name, " \t") && mask_name_is_secret(name);
}

char **
mask_argv(char *const *argv)
{
	struct strv out = { NULL, 0, 0 };
	size_t i;

	for (i = 0; argv && argv[i]; i++) {
		/* "--password S": S is the secret (even when S looks like
		   a flag itself: "--token --password S" hides both) */
		if (i > 0 && is_secret_flag(argv[i - 1]))
			strv_push(&out, *argv[i] ? MASK : "");
		else
			strv_push_owned(&out, mask_arg(argv[i]));
	}
	if (!out.v)
		return xcalloc(1, sizeof(char *));
	return out.v;
}
