/*
 * t_mask.c - secret names, URL and conninfo passwords, arguments.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "mask.h"
#include "util.h"

#define V(s) ((char[]){ s })

static void
check(char *got, const char *want, const char *name)
{
	is_str(got, want, name);
	free(got);
}

int
main(void)
{
	static const char *const secret[] = {
		"PASSWORD", "DB_PASSWORD", "pgpassword", "MYSQL_PASSWD",
		"SECRET_KEY_BASE", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
		"API_KEY", "APIKEY", "api-key", "STRIPE_KEYS", "KEY",
		"GOOGLE_CREDENTIALS", "SSH_PRIVATE_KEY", "GPG_PASSPHRASE",
		"AWS_ACCESS_KEY_ID",
	};
	static const char *const plain[] = {
		"PATH", "HOME", "KEYBOARD_LAYOUT", "KEYMAP", "DATABASE_URL",
		"PORT", "KEYCLOAK_URL", "", "HOTKEYBOARD", "DB_PASSWORD_FILE",
		"API_KEY_FILE",
	};
	char *names[] = { V("MY_PIN"), NULL };
	size_t i;
	char msg[128];

	is_int(strlen(MASK), 8, "the mask says nothing about the length");
	for (i = 0; i < ARRAY_LEN(secret); i++) {
		snprintf(msg, sizeof(msg), "%s looks secret", secret[i]);
		ok(mask_name_is_secret(secret[i]), msg);
	}
	for (i = 0; i < ARRAY_LEN(plain); i++) {
		snprintf(msg, sizeof(msg), "%s does not", plain[i]);
		ok(!mask_name_is_secret(plain[i]), msg);
	}
	ok(!mask_name_is_secret("MY_PIN"), "MY_PIN is plain");
	mask_set_names(names);
	ok(mask_name_is_secret("MY_PIN"), "until it is in secret_env");
	ok(!mask_name_is_secret("my_pin"), "secret_env names are exact");
	names[0] = V("TOKEN_FILE");
	ok(mask_name_is_secret("TOKEN_FILE"), "a NAME_FILE in secret_env is "
	    "secret");
	mask_set_names(NULL);
	ok(!mask_name_is_secret("MY_PIN"), "mask_set_names(NULL) clears");

	check(mask_url("postgres://user:pass@host/db"),
	    "postgres://user:" MASK "@host/db", "URL password");
	check(mask_url("postgresql://user:p%40ss@host:5432/db?sslmode=require"),
	    "postgresql://user:" MASK "@host:5432/db?sslmode=require",
	    "URL with port and query");
	check(mask_url("postgres://user@host/db"), "postgres://user@host/db",
	    "URL without password");
	check(mask_url("postgres://host/db"), "postgres://host/db",
	    "URL without userinfo");
	check(mask_url("redis://:pw@cache:6379/0"), "redis://:" MASK
	    "@cache:6379/0", "empty user");
	check(mask_url("postgres://u:pa/ss@h/db"), "postgres://u:" MASK
	    "@h/db", "an unencoded / in the password");
	check(mask_url("postgres://u:p@ss@h/db"), "postgres://u:" MASK "@h/db",
	    "an unencoded @ in the password");
	check(mask_url("a=postgres://u:x@h b=mysql://v:y@i"),
	    "a=postgres://u:" MASK "@h b=mysql://v:" MASK "@i",
	    "every URL in a value");
	check(mask_url("postgres://h/db?user=u&password=pw&sslmode=x"),
	    "postgres://h/db?user=u&password=" MASK "&sslmode=x",
	    "password in a URI query");
	check(mask_url("host=db user=app password=s3cret dbname=x"),
	    "host=db user=app password=" MASK " dbname=x", "conninfo password");
	check(mask_url("host=db password = 'a b\\' c' port=5432"),
	    "host=db password = " MASK " port=5432", "quoted conninfo password");
	check(mask_url("PASSWORD=x sslpassword=y"), "PASSWORD=" MASK
	    " sslpassword=" MASK, "keywords are case-insensitive");
	check(mask_url("mypassword=x"), "mypassword=x", "only whole keywords");
	check(mask_url("plain text: a://"), "plain text: a://", "no URL");
	check(mask_url("://x:y@z"), "://x:y@z", "no scheme, no URL");
	check(mask_url(""), "", "empty");

	check(mask_env_value("DB_PASSWORD", "x"), MASK, "a secret name");
	check(mask_env_value("DB_PASSWORD", ""), "", "an empty secret shows "
	    "it is empty");
	check(mask_env_value("DATABASE_URL", "postgres://u:p@h/d"),
	    "postgres://u:" MASK "@h/d", "a URL value");
	check(mask_env_value("PORT", "8080"), "8080", "a plain value");
	check(mask_env_entry("API_TOKEN=abc=def"), "API_TOKEN=" MASK,
	    "entry with a secret name");
	check(mask_env_entry("URL=https://u:p@x/"), "URL=https://u:" MASK
	    "@x/", "entry with a URL");
	check(mask_env_entry("NOEQUALS"), "NOEQUALS", "entry without =");

	check(mask_arg("--password=hunter2"), "--password=" MASK,
	    "--password=X");
	check(mask_arg("--api-key=abc"), "--api-key=" MASK, "--api-key=X");
	check(mask_arg("-token=abc"), "-token=" MASK, "-token=X");
	check(mask_arg("GITHUB_TOKEN=abc"), "GITHUB_TOKEN=" MASK, "NAME=X");
	check(mask_arg("--password="), "--password=", "empty value");
	check(mask_arg("--db=postgres://u:p@h/d"), "--db=postgres://u:" MASK
	    "@h/d", "an option with a URL");
	check(mask_arg("host=h password=p"), "host=h password=" MASK,
	    "a conninfo argument");
	check(mask_arg("--keyboard=us"), "--keyboard=us", "--keyboard=us");
	check(mask_arg("--days=365"), "--days=365", "a plain option");
	check(mask_arg("hunter2"), "hunter2", "a bare word is not known");

	/* what libpq reads as the password, wherever it is */
	check(mask_url("postgres://u:a?b#c&d e%25f@h:5/db"),
	    "postgres://u:" MASK "@h:5/db", "? # & blank % in the userinfo");
	check(mask_url("host=h password=a\\ bcde port=1"),
	    "host=h password=" MASK " port=1", "a backslash-escaped blank");
	check(mask_url("host=h password=x&y port=1"),
	    "host=h password=" MASK " port=1", "& in a conninfo value");
	check(mask_url("postgres://h/db?pass%77ord=s3cr3t&port=1"),
	    "postgres://h/db?pass%77ord=" MASK "&port=1",
	    "a %-encoded keyword in the query");
	check(mask_url("postgres://h/db?password=a b&port=1"),
	    "postgres://h/db?password=" MASK "&port=1",
	    "a blank in a query value");
	check(mask_url("--url=postgres://u:p@ss@h/db"),
	    "--url=postgres://u:" MASK "@h/db", "a URL inside an argument");
	check(mask_url("dbname='x' password=''"), "dbname='x' password=''",
	    "an empty quoted password stays visible as empty");

	/* names */
	{
		char name[400];

		memset(name, 'A', 300);
		memcpy(name + 300, "_PASSWORD", 10);
		ok(mask_name_is_secret(name), "a 309-byte name ending in "
		    "_PASSWORD");
	}
	ok(mask_name_is_secret("DB_PASS"), "DB_PASS");
	ok(mask_name_is_secret("SMTP_PASS"), "SMTP_PASS");
	ok(mask_name_is_secret("PGPASS"), "PGPASS");
	ok(!mask_name_is_secret("PASSENGER_PORT"), "PASSENGER_PORT is plain");

	/* argv */
	{
		char *argv[] = { V("psql"), V("--password"), V("s3cr3t"),
		    V("-token"), V(""), V("--password=x"), V("end"), NULL };
		char **m = mask_argv(argv);

		is_str(m[1], "--password", "--password kept");
		is_str(m[2], MASK, "the argument after it masked");
		is_str(m[4], "", "an empty one stays empty");
		is_str(m[5], "--password=" MASK, "--password=x as mask_arg");
		is_str(m[6], "end", "the rest kept");
		ok(m[7] == NULL, "same length");
		strv_free(m);
	}
	is_str(mask_show("--token=abc"), "--token=" MASK, "mask_show");
	return done_testing();
}
