/*
 * record.h - what a one-off run printed: the tail of its output, and a
 * console session as asciicast v2 events.
 *
 * Pure buffers: the supervise loop feeds them bytes (pty.c), nothing here
 * does I/O.  Masking happens once, when the run has ended: every known
 * secret value (record_secrets()) is replaced by MASK in the stored bytes,
 * also when it was written across two reads.
 *
 * Memory is bounded: a tail keeps at most its size; a recording keeps the
 * first half of record_max and a ring of the last half, and notes how many
 * bytes were cut between them.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>

#include "env.h"

/* The last cap bytes of a byte stream. */
struct record_tail {
	char *buf;		/* ring of cap bytes, allocated on first add */
	size_t cap;
	size_t pos;		/* where the next byte goes */
	long long total;	/* bytes seen */
};

/* keep: bytes to keep; 0 keeps nothing (adds only count). */
void record_tail_init(struct record_tail *t, size_t keep);
void record_tail_add(struct record_tail *t, const char *p, size_t n);
/*
 * n bytes went by unseen (a mover that knows cap more follow at once, all
 * of which it adds, saves copying them): counted, not kept.
 */
void record_tail_skip(struct record_tail *t, size_t n);
/* The kept bytes, oldest first, in a malloc'd buffer; *len their count. */
char *record_tail_bytes(const struct record_tail *t, size_t *len);
void record_tail_release(struct record_tail *t);

struct record_event;

/* A console session: output events with their time, and resizes. */
struct record_cast {
	size_t head_max;	/* bytes kept from the start */
	struct strbuf head;
	struct record_tail tail;	/* the rest, last tail.cap bytes */
	long long total;	/* output bytes seen */
	long long t0;		/* now_ms() at the start */
	long long start;	/* the start, seconds since the epoch */
	int width, height;
	struct record_event *ev;
	size_t nev, evcap;
};

/* max: bytes of output kept (head and tail); width x height at start. */
void record_cast_init(struct record_cast *c, size_t max, int width,
    int height);
/* Output the terminal got at now (now_ms()). */
void record_cast_output(struct record_cast *c, long long now, const char *p,
    size_t n);
/* The terminal was resized. */
void record_cast_resize(struct record_cast *c, long long now, int width,
    int height);
/*
 * The asciicast v2 file: a header line, then one JSON array per event,
 * with secrets masked and the cut (if any) said in an output event.
 * Caller frees.
 */
char *record_cast_text(const struct record_cast *c, char *const *secrets,
    const char *title, const char *term);
void record_cast_release(struct record_cast *c);

/*
 * The values to mask in output: every variable of env whose name is secret
 * (mask_name_is_secret(), values of 4 bytes or more) and the password of
 * every URL value (what mask_env_value() hides).  NULL-terminated; caller
 * frees with strv_free().
 */
char **record_secrets(const struct env *env);
/*
 * p[0..n) with every occurrence of every secret replaced by MASK.  Return
 * a malloc'd buffer, NUL-terminated, its length in *outlen.
 */
char *record_mask(const char *p, size_t n, char *const *secrets,
    size_t *outlen);
/* Append s[0..n) to sb as the inside of a JSON string (bad UTF-8: U+FFFD). */
void record_json_string(struct strbuf *sb, const char *s, size_t n);

#endif
