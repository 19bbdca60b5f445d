/*
 * mask.h - hide secrets in what we print or record.
 *
 * A value is secret when its variable's name looks secret (contains PASSWORD,
 * PASSWD, SECRET, TOKEN, KEY, CREDENTIAL, case-insensitive, or is listed in
 * [app] secret_env); a database URL keeps everything but its password; a
 * "--password=X" style argument keeps its name.  The mask is "********".
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
/* A URL (scheme://user:pass@host...) with the password masked.  Caller frees. */
char *mask_url(const char *value);

#endif
