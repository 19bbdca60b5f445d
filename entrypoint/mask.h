/*
 * mask.h - hide secrets in what we print or record.
 *
 * A value is secret when its variable's name looks secret (contains PASSWORD,
 * PASSWD, PASSPHRASE, SECRET, TOKEN, CREDENTIAL, PRIVATE, or has a component
 * ending in KEY, KEYS or PASS, case-insensitive, however long the name; or
 * is listed in [app] secret_env).  A database URL or conninfo string keeps
 * everything but its passwords, found wherever libpq's own parser
 * (PQconninfoParse) finds them.  A "--password=X" argument keeps its name,
 * and "--password X" hides the next argument.  The mask is "********".
 */
#ifndef MASK_H
#define MASK_H

#define MASK "********"

/* Extra secret names ([app] secret_env); NULL-terminated, not copied. */
void mask_set_names(char *const *names);
/* 1 when the variable name looks secret. */
int mask_name_is_secret(const char *name);
/*
 * The value to show for variable name: MASK for a secret name, the URL with
 * its password masked when value is a URL with one, else a copy of value.
 * Caller frees.
 */
char *mask_env_value(const char *name, const char *value);
/* "NAME=VALUE" with VALUE masked as above.  Caller frees. */
char *mask_env_entry(const char *entry);
/*
 * One command-line argument: "--password=X" / "--token=X" etc. get X
 * masked, URLs their password.  Caller frees.
 */
char *mask_arg(const char *arg);
/*
 * mask_arg(arg) for a message that echoes what the user typed (usage
 * errors, "could not run"): the result stays valid until four more calls;
 * nothing to free.
 */
const char *mask_show(const char *arg);
/*
 * Any text with the passwords of its URLs (scheme://user:pass@host...) and
 * conninfo keywords (password=..., sslpassword=...) masked; when the whole
 * text is a connection string libpq accepts, every occurrence of the
 * passwords libpq reads from it is masked as well.  Caller frees.
 */
char *mask_url(const char *value);
/*
 * Take text (malloc'd) and return it with every occurrence of the
 * passwords libpq reads from the connection string conninfo masked (none
 * when conninfo does not parse; values shorter than 3 bytes are left
 * alone).  For messages about a connection: libpq's text may quote them.
 */
char *mask_conninfo_secrets(const char *conninfo, char *text);
/*
 * A whole command line: each argument as mask_arg(), and the argument
 * after a secret flag without '=' ("--password S", "-db-token S") masked
 * whole.  Return a NULL-terminated vector; caller frees with strv_free().
 */
char **mask_argv(char *const *argv);

#endif
