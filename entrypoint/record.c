/*
 * record.c - the tail of a run's output and a console recording; see
 * record.h.
 *
 * The asciicast v2 format (docs.asciinema.org/manual/asciicast/v2): a JSON
 * header line {"version": 2, "width": W, "height": H, ...}, then one line
 * per event, [seconds since the start, "o", output] or [t, "r", "WxH"].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mask.h"
#include "record.h"
#include "util.h"

/* secret values shorter than this are not searched for (as in argv) */
#define SECRET_MIN_LEN 4
/* events kept at most; past it, output joins the last event */
#define EVENTS_MAX 65536

struct record_event {
	long long ms;		/* now_ms() */
	long long off;		/* output offset where it starts */
	int width, height;	/* a resize; 0 for output */
};

/* One event of the file: output L[start, next start) or a resize. */
struct piece {
	long long ms;
	size_t start;		/* in the kept output, then in the masked */
	int width, height;	/* a resize */
	int cut;		/* the note about what was cut */
};

void
record_tail_init(struct record_tail *t, size_t keep)
{
	memset(t, 0, sizeof(*t));
	t->cap = keep;
}

void
record_tail_add(struct record_tail *t, const char *p, size_t n)
{
	size_t k;

	t->total += (long long)n;
	if (t->cap == 0)
		return;
	if (!t->buf)
		t->buf = xmalloc(t->cap);
	if (n >= t->cap) {
		memcpy(t->buf, p + n - t->cap, t->cap);
		t->pos = 0;
		return;
	}
	k = t->cap - t->pos;
	if (k > n)
		k = n;
	memcpy(t->buf + t->pos, p, k);
	memcpy(t->buf, p + k, n - k);
	t->pos = (t->pos + n) % t->cap;
}

void
record_tail_skip(struct record_tail *t, size_t n)
{
	t->total += (long long)n;
}

char *
record_tail_bytes(const struct record_tail *t, size_t *len)
{
	size_t n = t->total < (long long)t->cap ? (size_t)t->total : t->cap;
	char *out = xmalloc(n + 1);

	if (!t->buf) {
		n = 0;
	} else if (n < t->cap) {
		memcpy(out, t->buf, n);
	} else {
		memcpy(out, t->buf + t->pos, t->cap - t->pos);
		memcpy(out + t->cap - t->pos, t->buf, t->pos);
	}
	out[n] = '\0';
	*len = n;
	return out;
}

void
record_tail_release(struct record_tail *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

void
record_cast_init(struct record_cast *c, size_t max, int width, int height)
{
	memset(c, 0, sizeof(*c));
	c->head_max = max / 2;
	record_tail_init(&c->tail, max - max / 2);
	c->t0 = now_ms();
	c->start = (long long)time(NULL);
	c->width = width > 0 ? width : 80;
	c->height = height > 0 ? height : 24;
}

/* Drop the events whose output was all cut (past the head, before the ring). */
static void
compact(struct record_cast *c)
{
	long long kept = c->total - (long long)c->tail.cap;
	size_t i, j = 0;

	for (i = 0; i < c->nev; i++) {
		if (!c->ev[i].width && c->ev[i].off >= (long long)c->head_max &&
		    i + 1 < c->nev && c->ev[i + 1].off <= kept)
			continue;
		c->ev[j++] = c->ev[i];
	}
	c->nev = j;
}

static struct record_event *
new_event(struct record_cast *c)
{
	if (c->nev == c->evcap) {
		compact(c);
		if (c->nev >= EVENTS_MAX)
			return NULL;
		if (c->nev == c->evcap) {
			c->evcap = c->evcap ? c->evcap * 2 : 64;
			c->ev = xrealloc(c->ev, c->evcap * sizeof(*c->ev));
		}
	}
	return &c->ev[c->nev++];
}

void
record_cast_output(struct record_cast *c, long long now, const char *p,
    size_t n)
{
	struct record_event *e = c->nev ? &c->ev[c->nev - 1] : NULL;
	size_t h = 0;

	if (n == 0)
		return;
	/* Reads in the same millisecond are one event. */
	if (!e || e->width || e->ms != now) {
		e = new_event(c);
		if (e) {
			e->ms = now;
			e->off = c->total;
			e->width = e->height = 0;
		}
	}
	if (c->head.len < c->head_max) {
		h = c->head_max - c->head.len;
		if (h > n)
			h = n;
		strbuf_add(&c->head, p, h);
	}
	record_tail_add(&c->tail, p + h, n - h);
	c->total += (long long)n;
}

void
record_cast_resize(struct record_cast *c, long long now, int width,
    int height)
{
	struct record_event *e = new_event(c);

	if (!e)
		return;
	e->ms = now;
	e->off = c->total;
	e->width = width;
	e->height = height;
}

void
record_cast_release(struct record_cast *c)
{
	strbuf_release(&c->head);
	record_tail_release(&c->tail);
	free(c->ev);
	memset(c, 0, sizeof(*c));
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void
record_json_string(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		if (u[i] == '"' || u[i] == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (char)u[i++]);
		} else if (u[i] == '\n') {
			strbuf_addstr(sb, "\\n");
			i++;
		} else if (u[i] == '\r') {
			strbuf_addstr(sb, "\\r");
			i++;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			strbuf_addf(sb, "\\u%04x", u[i++]);
		} else {
			len = utf8_len(u + i, n - i);
			if (len == 0) {
				strbuf_addstr(sb, "\\ufffd");
				i++;
			} else {
				strbuf_add(sb, s + i, len);
				i += len;
			}
		}
	}
}

char **
record_secrets(const struct env *env)
{
	struct strv out = { NULL, 0, 0 };
	char *const *ev;
	const char *eq, *v;
	char *name, *shown;
	size_t pre, suf, vl, sl;

	for (ev = env ? env_envp(env) : NULL; ev && *ev; ev++) {
		eq = strchr(*ev, '=');
		if (!eq)
			continue;
		v = eq + 1;
		vl = strlen(v);
		if (vl < SECRET_MIN_LEN)
			continue;
		name = xstrndup(*ev, (size_t)(eq - *ev));
		shown = mask_env_value(name, v);
		free(name);
		if (strcmp(shown, v) == 0) {
			free(shown);
			continue;
		}
		/* What the masker hid: the part between what it kept. */
		sl = strlen(shown);
		for (pre = 0; pre < vl && pre < sl && v[pre] == shown[pre];)
			pre++;
		for (suf = 0; suf < vl - pre && suf < sl - pre &&
		    v[vl - 1 - suf] == shown[sl - 1 - suf];)
			suf++;
		free(shown);
		if (vl - pre - suf >= SECRET_MIN_LEN)
			strv_push_owned(&out, xstrndup(v + pre,
			    vl - pre - suf));
	}
	if (!out.v)
		return xcalloc(1, sizeof(char *));
	return out.v;
}

/* The length of the longest secret that starts at p[0..n), or 0. */
static size_t
secret_at(const char *p, size_t n, char *const *secrets)
{
	size_t i, len, best = 0;

	for (i = 0; secrets && secrets[i]; i++) {
		if (secrets[i][0] != p[0])
			continue;
		len = strlen(secrets[i]);
		if (len <= n && len > best && memcmp(p, secrets[i], len) == 0)
			best = len;
	}
	return best;
}

/*
 * Mask p[0..n) into sb.  starts[0..nstarts) are sorted offsets into p;
 * each becomes the offset of the same place in the output.  A start inside
 * a secret moves past its mask, so one event holds the whole mask.
 */
static void
mask_into(struct strbuf *sb, const char *p, size_t n, char *const *secrets,
    size_t *starts, size_t nstarts)
{
	size_t i = 0, j = 0, len;

	while (i < n) {
		while (j < nstarts && starts[j] <= i)
			starts[j++] = sb->len;
		len = secret_at(p + i, n - i, secrets);
		if (len) {
			strbuf_addstr(sb, MASK);
			i += len;
		} else {
			strbuf_addch(sb, p[i++]);
		}
	}
	while (j < nstarts)
		starts[j++] = sb->len;
}

char *
record_mask(const char *p, size_t n, char *const *secrets, size_t *outlen)
{
	struct strbuf sb = { NULL, 0, 0 };
	size_t none = 0;

	strbuf_add(&sb, "", 0);
	mask_into(&sb, p, n, secrets, &none, 0);
	*outlen = sb.len;
	return strbuf_detach(&sb);
}

/* Append the piece pieces[k] as one event line; end is where it stops. */
static void
add_event(struct strbuf *sb, const struct record_cast *c,
    const struct piece *pc, const char *text, size_t len)
{
	long long ms = pc->ms - c->t0;

	if (ms < 0)
		ms = 0;
	strbuf_addf(sb, "[%lld.%03lld, ", ms / 1000, ms % 1000);
	if (pc->width) {
		strbuf_addf(sb, "\"r\", \"%dx%d\"]\n", pc->width, pc->height);
		return;
	}
	strbuf_addstr(sb, "\"o\", \"");
	record_json_string(sb, text, len);
	strbuf_addstr(sb, "\"]\n");
}

/*
 * The pieces of the file, in order: each event's output split where the
 * head ends and the ring begins, the cut noted between them.  Return how
 * many; *cut the number of bytes cut.
 */
static size_t
make_pieces(const struct record_cast *c, struct piece *pcs,
    long long *cutp)
{
	long long h = (long long)c->head.len, kept, cut, off, end, ls;
	size_t i, n = 0;
	int said = 0;

	kept = c->tail.total < (long long)c->tail.cap ? c->tail.total :
	    (long long)c->tail.cap;
	cut = c->tail.total - kept;
	*cutp = cut;
	for (i = 0; i < c->nev; i++) {
		off = c->ev[i].off;
		if (c->ev[i].width) {
			pcs[n].ms = c->ev[i].ms;
			pcs[n].width = c->ev[i].width;
			pcs[n].height = c->ev[i].height;
			pcs[n].cut = 0;
			pcs[n++].start = 0;
			continue;
		}
		end = c->total;
		if (i + 1 < c->nev)
			end = c->ev[i + 1].off;
		if (off < h) {
			pcs[n].ms = c->ev[i].ms;
			pcs[n].width = pcs[n].height = pcs[n].cut = 0;
			pcs[n++].start = (size_t)off;
		}
		if (end > h + cut) {
			if (off < h && cut == 0)
				continue;	/* the head piece goes on */
			if (cut > 0 && !said) {
				said = 1;
				pcs[n].ms = c->ev[i].ms;
				pcs[n].width = pcs[n].height = 0;
				pcs[n].cut = 1;
				pcs[n++].start = (size_t)h;
			}
			ls = off > h + cut ? off - cut : h;
			pcs[n].ms = c->ev[i].ms;
			pcs[n].width = pcs[n].height = pcs[n].cut = 0;
			pcs[n++].start = (size_t)ls;
		}
	}
	return n;
}

char *
record_cast_text(const struct record_cast *c, char *const *secrets,
    const char *title, const char *term)
{
	struct strbuf out = { NULL, 0, 0 }, kept = { NULL, 0, 0 };
	struct strbuf masked = { NULL, 0, 0 };
	struct piece *pcs;
	size_t *starts, n, i, j, ns = 0, tl, s, e;
	long long cut, dur = now_ms() - c->t0;
	char *tb, note[96];

	pcs = xcalloc(2 * c->nev + 3, sizeof(*pcs));
	starts = xcalloc(2 * c->nev + 3, sizeof(*starts));
	n = make_pieces(c, pcs, &cut);
	strbuf_add(&kept, c->head.buf ? c->head.buf : "", c->head.len);
	tb = record_tail_bytes(&c->tail, &tl);
	strbuf_add(&kept, tb, tl);
	free(tb);
	for (i = 0; i < n; i++)
		if (!pcs[i].width)
			starts[ns++] = pcs[i].start;
	strbuf_add(&masked, "", 0);
	mask_into(&masked, kept.buf, kept.len, secrets, starts, ns);
	/* Never split a UTF-8 sequence between two events. */
	for (i = 0; i < ns; i++) {
		for (j = 0; j < 3 && starts[i] < masked.len &&
		    ((unsigned char)masked.buf[starts[i]] & 0xc0) == 0x80; j++)
			starts[i]++;
		if (i && starts[i] < starts[i - 1])
			starts[i] = starts[i - 1];
	}
	for (i = 0, j = 0; i < n; i++)
		if (!pcs[i].width)
			pcs[i].start = starts[j++];

	strbuf_addf(&out, "{\"version\": 2, \"width\": %d, \"height\": %d, "
	    "\"timestamp\": %lld, \"duration\": %lld.%03lld", c->width,
	    c->height, c->start, dur / 1000, dur % 1000);
	if (title) {
		strbuf_addstr(&out, ", \"title\": \"");
		record_json_string(&out, title, strlen(title));
		strbuf_addch(&out, '"');
	}
	if (term) {
		strbuf_addstr(&out, ", \"env\": {\"TERM\": \"");
		record_json_string(&out, term, strlen(term));
		strbuf_addstr(&out, "\"}");
	}
	strbuf_addstr(&out, "}\n");
	for (i = 0; i < n; i++) {
		if (pcs[i].cut) {
			snprintf(note, sizeof(note), "\r\n[entrypoint: %lld "
			    "bytes of output cut here (record_max)]\r\n", cut);
			add_event(&out, c, &pcs[i], note, strlen(note));
			continue;
		}
		if (pcs[i].width) {
			add_event(&out, c, &pcs[i], NULL, 0);
			continue;
		}
		s = pcs[i].start;
		e = masked.len;
		for (j = i + 1; j < n; j++)
			if (!pcs[j].width) {
				e = pcs[j].start;
				break;
			}
		if (e > s)
			add_event(&out, c, &pcs[i], masked.buf + s, e - s);
	}
	strbuf_release(&kept);
	strbuf_release(&masked);
	free(pcs);
	free(starts);
	return strbuf_detach(&out);
}
