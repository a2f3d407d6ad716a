/* SPDX-License-Identifier: MIT */
/* fuzz_http1.c: the HTTP/1.1 response parser and chunked decoder (sender/http1.c). */
#include <string.h>

#include "sender/http1.h"
#include "tests/fuzz/fuzz.h"

#define FH_NOW ((time_t)1700000000) /* fixed, so an input replays the same */
#define FH_MAX_PIECES 8

/* An exact-size heap copy: ASan then catches a read one byte past <n>,
 * which a prefix of libFuzzer's (larger) buffer would not. */
static char *fh_dup(const void *p, size_t n)
{
	char *b = malloc(n ? n : 1);

	FUZZ_CHECK(b != NULL, "out of memory");
	if (n)
		memcpy(b, p, n);
	return b;
}

struct fh_head {
	int r, minor, status;
	const char *msg;
	size_t msg_len, n;
	struct http1_header h[HTTP1_MAX_HEADERS];
};

static void fh_parse(struct fh_head *o, const char *buf, size_t len, size_t slots, size_t last)
{
	o->minor = o->status = -1;
	o->msg = NULL;
	o->msg_len = 0;
	o->n = slots;
	o->r = http1_parse_response(buf, len, &o->minor, &o->status, &o->msg, &o->msg_len, o->h,
				    &o->n, last);
	FUZZ_CHECK(o->r == HTTP1_ERR_BAD || o->r == HTTP1_ERR_PARTIAL || (o->r > 0 && (size_t)o->r <= len),
		   "head length %d of %zu bytes", o->r, len);
	if (o->r <= 0)
		return;
	FUZZ_CHECK(o->minor >= 0 && o->minor <= 9, "minor %d", o->minor);
	FUZZ_CHECK(o->status >= 0 && o->status <= 999, "status %d", o->status);
	FUZZ_CHECK(o->msg >= buf && o->msg + o->msg_len <= buf + o->r, "reason outside the head");
	FUZZ_CHECK(o->n <= slots, "%zu headers in %zu slots", o->n, slots);
	for (size_t i = 0; i < o->n; i++) {
		const struct http1_header *h = &o->h[i];

		FUZZ_CHECK(h->name >= buf && h->name_len > 0 && h->name + h->name_len <= buf + o->r,
			   "header %zu name outside the head", i);
		FUZZ_CHECK(h->value >= buf && h->value + h->value_len <= buf + o->r,
			   "header %zu value outside the head", i);
		FUZZ_CHECK(!memchr(h->name, ':', h->name_len), "header %zu name has ':'", i);
		FUZZ_CHECK(!memchr(h->value, '\r', h->value_len) && !memchr(h->value, '\n', h->value_len),
			   "header %zu value holds a line end", i);
		FUZZ_CHECK(h->value_len == 0 || (h->value[0] != ' ' && h->value[h->value_len - 1] != ' '),
			   "header %zu value not trimmed", i);
	}
}

/* Dates: what parses must print back to the same instant. */
static void fh_date(const char *v, size_t len)
{
	char *c = fh_dup(v, len), out[64];
	int64_t t = http1_parse_date(c, len), ra = http1_parse_retry_after(c, len, FH_NOW);
	size_t n;

	FUZZ_CHECK(ra >= -1, "retry-after %lld", (long long)ra);
	if (t >= 0) {
		n = http1_format_date(t, out, sizeof(out));
		FUZZ_CHECK(n > 0 && n < sizeof(out), "format %zu", n);
		FUZZ_CHECK(http1_parse_date(out, n) == t, "'%.*s' -> %lld -> '%s' -> %lld", (int)len, c,
			   (long long)t, out, (long long)http1_parse_date(out, n));
	}
	free(c);
}

/* Decode <body> in one call, then cut in up to FH_MAX_PIECES pieces: the
 * outcome, the data and the bytes after the body must be the same. */
static void fh_chunked(const char *body, size_t blen, uint64_t *rs)
{
	struct http1_chunked d1 = { 0 }, d2 = { 0 };
	char *one = fh_dup(body, blen), *data2 = fh_dup(body, blen), *after2 = fh_dup(body, blen);
	size_t len1 = blen, n2 = 0, nafter2 = 0, pos = 0;
	ssize_t r1, r2 = HTTP1_ERR_PARTIAL;
	int pieces = 1 + (int)(fuzz_rand(rs) % FH_MAX_PIECES);

	r1 = http1_decode_chunked(&d1, one, &len1);
	FUZZ_CHECK(r1 == HTTP1_ERR_BAD || r1 == HTTP1_ERR_PARTIAL || r1 >= 0, "decode %zd", r1);
	if (r1 != HTTP1_ERR_BAD) {
		/* Never more data than it was given. */
		FUZZ_CHECK(len1 <= blen, "decoded %zu of %zu bytes", len1, blen);
		if (r1 >= 0)
			FUZZ_CHECK(len1 + (size_t)r1 <= blen, "decoded %zu + after %zd of %zu", len1, r1,
				   blen);
	}
	for (int i = 0; i < pieces && pos < blen; i++) {
		size_t take = i == pieces - 1 ? blen - pos : fuzz_rand(rs) % (blen - pos + 1);
		char *p = fh_dup(body + pos, take);
		size_t len = take;

		pos += take;
		if (r2 >= 0) {
			/* Done: later bytes belong to the next response. */
			memcpy(after2 + nafter2, p, take);
			nafter2 += take;
			free(p);
			continue;
		}
		r2 = http1_decode_chunked(&d2, p, &len);
		if (r2 == HTTP1_ERR_BAD) {
			free(p);
			break;
		}
		FUZZ_CHECK(len <= take, "piece decoded to %zu of %zu bytes", len, take);
		memcpy(data2 + n2, p, len);
		n2 += len;
		if (r2 >= 0) {
			FUZZ_CHECK(len + (size_t)r2 <= take, "piece: %zu + after %zd of %zu", len, r2, take);
			memcpy(after2 + nafter2, p + len, (size_t)r2);
			nafter2 += (size_t)r2;
			/* A finished decoder hands every later byte back untouched. */
			len = take;
			FUZZ_CHECK(http1_decode_chunked(&d2, p, &len) == (ssize_t)take && len == 0,
				   "decoder not done after the end");
		}
		free(p);
	}
	if (pos == blen || r2 == HTTP1_ERR_BAD) {
		FUZZ_CHECK((r1 == HTTP1_ERR_BAD) == (r2 == HTTP1_ERR_BAD) &&
			   (r1 >= 0) == (r2 >= 0), "one call: %zd, pieces: %zd", r1, r2);
		if (r1 >= 0) {
			FUZZ_CHECK(n2 == len1 && memcmp(one, data2, n2) == 0, "decoded data differs");
			FUZZ_CHECK(nafter2 == (size_t)r1 && memcmp(one + len1, after2, nafter2) == 0,
				   "bytes after the body differ");
		} else if (r1 == HTTP1_ERR_PARTIAL) {
			FUZZ_CHECK(n2 == len1 && memcmp(one, data2, n2) == 0, "partial data differs");
		}
	}
	free(one);
	free(data2);
	free(after2);
}

int fuzz_http1(const uint8_t *data, size_t size)
{
	uint64_t rs = fuzz_seed(data, size);
	size_t slots = 1 + fuzz_rand(&rs) % HTTP1_MAX_HEADERS, k = fuzz_rand(&rs) % (size + 1);
	char *buf = fh_dup(data, size), *pre = fh_dup(data, k);
	struct fh_head full, part, again;
	struct http1_meta m;
	int r;

	fh_parse(&full, buf, size, slots, 0);

	/* A head that arrives in two pieces: a prefix is a complete head only
	 * when the whole is, is never wrong when the whole is right, and the
	 * second call (told where the first stopped) agrees with one call. */
	fh_parse(&part, pre, k, slots, 0);
	if (full.r > 0)
		FUZZ_CHECK(k >= (size_t)full.r ? part.r == full.r : part.r == HTTP1_ERR_PARTIAL,
			   "prefix %zu: %d, whole %zu: %d", k, part.r, size, full.r);
	else if (full.r == HTTP1_ERR_PARTIAL)
		FUZZ_CHECK(part.r == HTTP1_ERR_PARTIAL, "prefix %zu: %d, whole: partial", k, part.r);
	else
		FUZZ_CHECK(part.r < 0, "prefix %zu: head of %d, whole: bad", k, part.r);
	if (part.r == HTTP1_ERR_PARTIAL) {
		/* Resuming only looks for the end of the head in the new bytes
		 * (http1.h): bad bytes before that end may stay unseen (partial)
		 * until it arrives, and are then refused like in one call. */
		fh_parse(&again, buf, size, slots, k);
		FUZZ_CHECK(again.r == full.r || (again.r == HTTP1_ERR_PARTIAL && full.r == HTTP1_ERR_BAD),
			   "resumed at %zu: %d, in one call: %d", k, again.r, full.r);
	}
	free(pre);

	if (full.r > 0) {
		r = http1_response_meta(full.minor, full.status, full.h, full.n, FH_NOW, &m);
		FUZZ_CHECK(r == 0 || r == HTTP1_ERR_BAD, "meta %d", r);
		if (r == 0) {
			FUZZ_CHECK(m.body >= HTTP1_BODY_NONE && m.body <= HTTP1_BODY_EOF, "body %d", m.body);
			if ((full.status >= 100 && full.status < 200) || full.status == 204 ||
			    full.status == 304)
				FUZZ_CHECK(m.body == HTTP1_BODY_NONE, "status %d with a body", full.status);
			FUZZ_CHECK(!m.keep_alive || (full.minor >= 1 && m.body != HTTP1_BODY_EOF),
				   "keep-alive on an unframed response");
			FUZZ_CHECK(m.retry_after_s == -1 || m.retry_after_s > 0, "retry-after %lld",
				   (long long)m.retry_after_s);
		}
		for (size_t i = 0; i < full.n; i++)
			if (http1_name_is(full.h[i].name, full.h[i].name_len, "retry-after") ||
			    http1_name_is(full.h[i].name, full.h[i].name_len, "date"))
				fh_date(full.h[i].value, full.h[i].value_len);
		fh_chunked(buf + full.r, size - (size_t)full.r, &rs);
	} else {
		/* Not a head: the bytes still make a body for the decoder, and a
		 * short one a date. */
		fh_chunked(buf, size, &rs);
		if (size <= 64)
			fh_date(buf, size);
	}
	free(buf);
	return 0;
}

FUZZ_ENTRY(fuzz_http1)
