/*
 * t_record.c - the output tail, masking, the asciicast v2 text: its header
 * and events as docs.asciinema.org/manual/asciicast/v2 describes them, the
 * head and tail kept under record_max with the cut said, secrets masked
 * even across two reads, UTF-8 never split between events.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "env.h"
#include "record.h"
#include "util.h"

static int
count(const char *hay, const char *needle)
{
	int n = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

int
main(void)
{
	struct record_tail t;
	struct record_cast c;
	struct strbuf sb = { NULL, 0, 0 };
	struct env env = { { NULL, 0, 0 } };
	char hunter[] = "hunter2x";
	char *secrets[] = { hunter, NULL };
	char **found, *out, *text, big[5000];
	size_t n, i;

	/* the tail keeps the last bytes, in order, across wrap-arounds */
	record_tail_init(&t, 8);
	record_tail_add(&t, "abc", 3);
	out = record_tail_bytes(&t, &n);
	is_str(out, "abc", "tail: fewer bytes than kept");
	free(out);
	record_tail_add(&t, "defghij", 7);
	record_tail_add(&t, "kl", 2);
	out = record_tail_bytes(&t, &n);
	is_str(out, "efghijkl", "tail: the last 8 bytes after a wrap");
	is_int((long)t.total, 12, "tail: every byte counted");
	free(out);
	record_tail_add(&t, "0123456789", 10);
	out = record_tail_bytes(&t, &n);
	is_str(out, "23456789", "tail: one add larger than the tail");
	free(out);
	/* skipped bytes (spliced away, then cap bytes added) are counted */
	record_tail_skip(&t, 1000);
	record_tail_add(&t, "ABCDEFGH", 8);
	out = record_tail_bytes(&t, &n);
	is_str(out, "ABCDEFGH", "tail: after a skip, the bytes added");
	is_int((long)t.total, 1030, "tail: skipped bytes counted");
	free(out);
	record_tail_release(&t);
	record_tail_init(&t, 0);
	record_tail_add(&t, "abc", 3);
	out = record_tail_bytes(&t, &n);
	is_int((long)n, 0, "tail 0 keeps nothing");
	free(out);
	record_tail_release(&t);

	/* masking */
	out = record_mask("a hunter2x b hunter2xhunter2x", 29, secrets, &n);
	is_str(out, "a ******** b ****************", "every occurrence masked");
	free(out);

	/* the secrets: secret names' values, URL passwords; short ones not */
	env_set(&env, "API_TOKEN", "tok-123456");
	env_set(&env, "DATABASE_URL", "postgresql://app:pw-987654@db/app");
	env_set(&env, "SHORT_SECRET", "abc");
	env_set(&env, "HOME", "/root");
	found = record_secrets(&env);
	is_int((long)strv_len(found), 2, "two secrets found");
	is_str(found[0], "tok-123456", "a secret variable's value");
	is_str(found[1], "pw-987654", "a URL's password");
	strv_free(found);
	env_release(&env);

	/* JSON strings: escapes, control characters, bad UTF-8 */
	record_json_string(&sb, "a\"b\\c\r\n\x1b[0m\xc3\xa9\xff", 14);
	is_str(sb.buf, "a\\\"b\\\\c\\r\\n\\u001b[0m\xc3\xa9\\ufffd",
	    "JSON escaping");
	strbuf_release(&sb);

	/* a cast: header, events, a secret split over two reads */
	record_cast_init(&c, 1024, 100, 30);
	record_cast_output(&c, c.t0 + 10, "$ echo hun", 10);
	record_cast_output(&c, c.t0 + 1500, "ter2x\r\n", 7);
	record_cast_resize(&c, c.t0 + 2000, 120, 40);
	record_cast_output(&c, c.t0 + 2250, "\xc3", 1);
	record_cast_output(&c, c.t0 + 2260, "\xa9!", 2);
	text = record_cast_text(&c, secrets, "app shell", "xterm");
	ok(strncmp(text, "{\"version\": 2, \"width\": 100, \"height\": 30, "
	    "\"timestamp\": ", 55) == 0, "header: version, width, height");
	ok(strstr(text, "\"title\": \"app shell\"") != NULL, "header: title");
	ok(strstr(text, "\"env\": {\"TERM\": \"xterm\"}") != NULL,
	    "header: TERM");
	ok(strstr(text, "hunter2x") == NULL && strstr(text, "hun\"") == NULL,
	    "a secret split over two reads is masked");
	ok(strstr(text, "[0.010, \"o\", \"$ echo ********\"]\n") != NULL,
	    "the whole mask is in the event where the secret began");
	ok(strstr(text, "[1.500, \"o\", \"\\r\\n\"]\n") != NULL,
	    "the rest of the second read keeps its time");
	ok(strstr(text, "[2.000, \"r\", \"120x40\"]\n") != NULL,
	    "a resize event");
	ok(strstr(text, "[2.250, \"o\", \"\xc3\xa9\"]\n") != NULL,
	    "a UTF-8 character is never split between events");
	is_int(count(text, "\n"), 6, "header and five events");
	free(text);
	record_cast_release(&c);

	/* over the cap: the head and the tail are kept, the cut is said */
	memset(big, 'x', sizeof(big));
	record_cast_init(&c, 1000, 80, 24);
	record_cast_output(&c, c.t0, "HEAD", 4);
	for (i = 0; i < 4; i++)
		record_cast_output(&c, c.t0 + 1 + (long long)i, big,
		    sizeof(big));
	record_cast_output(&c, c.t0 + 100, "TAIL", 4);
	text = record_cast_text(&c, NULL, NULL, NULL);
	ok(strstr(text, "\"o\", \"HEAD") != NULL, "the head is kept");
	ok(strstr(text, "TAIL\"]\n") != NULL, "the tail is kept");
	ok(strstr(text, "[entrypoint: 19008 bytes of output cut here") !=
	    NULL, "the cut is said, with its size");
	/* 496 + 496 bytes of x, and the x of "record_max" in the note */
	is_int(count(text, "x"), 993, "head and tail hold record_max bytes");
	free(text);
	record_cast_release(&c);

	return done_testing();
}
