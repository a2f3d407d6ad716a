/* SPDX-License-Identifier: MIT */
/* http.c: incremental HTTP/1.1 request parsing for the demo receiver (Content-Length and chunked). */
#include "tools/flowrw-receiver/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RHTTP_INIT_CAP   (16 * 1024)
#define RHTTP_KEEP_CAP   (1024 * 1024)  /* shrink back to this after a big request */

int rhttp_init(struct rhttp_req *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(RHTTP_INIT_CAP);
	if (!r->buf)
		return -ENOMEM;
	r->cap = RHTTP_INIT_CAP;
	r->max_body = max_body;
	r->keep_alive = true;
	return 0;
}

void rhttp_fini(struct rhttp_req *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->len = 0;
}

/* Bytes of framing a chunked body may need in the buffer besides its data. */
static size_t rhttp_limit(const struct rhttp_req *r)
{
	return RHTTP_MAX_HEAD + r->max_body + 2 * RHTTP_MAX_CHUNK_LINE + 64;
}

uint8_t *rhttp_space(struct rhttp_req *r, size_t *room)
{
	size_t ncap;
	uint8_t *nbuf;

	/*
	 * Chunk framing already decoded leaves a hole between the decoded body
	 * and the unparsed bytes; close it before growing.
	 */
	if (r->len == r->cap && r->state >= RHTTP_S_CHUNK_SIZE && r->state <= RHTTP_S_TRAILER) {
		size_t end = r->head_len + r->body_len;

		if (r->scan > end) {
			memmove(r->buf + end, r->buf + r->scan, r->len - r->scan);
			r->len -= r->scan - end;
			r->scan = end;
		}
	}
	if (r->len < r->cap) {
		*room = r->cap - r->len;
		return r->buf + r->len;
	}
	if (r->cap >= rhttp_limit(r)) {
		errno = E2BIG;
		return NULL;
	}
	ncap = r->cap * 2;
	/* A Content-Length body is known in advance: grow to it at once. */
	if (r->state == RHTTP_S_BODY_LEN && r->head_len + r->content_length > ncap)
		ncap = r->head_len + r->content_length;
	if (ncap > rhttp_limit(r))
		ncap = rhttp_limit(r);
	nbuf = realloc(r->buf, ncap);
	if (!nbuf) {
		errno = ENOMEM;
		return NULL;
	}
	r->buf = nbuf;
	r->cap = ncap;
	*room = r->cap - r->len;
	return r->buf + r->len;
}

static bool rhttp_is_tchar(unsigned char c)
{
	/* RFC 9110 token characters */
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool rhttp_name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static void rhttp_remember(struct rhttp_hval *h, const char *v, size_t len)
{
	h->count++;
	if (h->present)
		return; /* keep the first one; count says there were more */
	h->present = true;
	if (len >= sizeof(h->v)) {
		len = sizeof(h->v) - 1;
		h->truncated = true;
	}
	memcpy(h->v, v, len);
	h->v[len] = '\0';
}

/* Parse "a, b ,c" and report whether <tok> is one of the elements. */
static bool rhttp_list_has(const char *v, size_t len, const char *tok)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && rhttp_name_is(v + s, e - s, tok))
			return true;
	}
	return false;
}

static int rhttp_request_line(struct rhttp_req *r, const char *l, size_t n, const char **why)
{
	const char *sp1, *sp2, *t, *q;
	size_t mlen, tlen, plen;

	sp1 = memchr(l, ' ', n);
	if (!sp1 || sp1 == l) {
		*why = "malformed request line";
		return -400;
	}
	mlen = (size_t)(sp1 - l);
	for (size_t i = 0; i < mlen; i++)
		if (!rhttp_is_tchar((unsigned char)l[i])) {
			*why = "malformed method";
			return -400;
		}
	if (mlen >= sizeof(r->method)) {
		*why = "method not implemented";
		return -501;
	}
	memcpy(r->method, l, mlen);
	r->method[mlen] = '\0';
	t = sp1 + 1;
	sp2 = memchr(t, ' ', n - (size_t)(t - l));
	if (!sp2 || sp2 == t) {
		*why = "malformed request line";
		return -400;
	}
	tlen = (size_t)(sp2 - t);
	/* absolute-form: skip scheme and authority */
	if (tlen > 7 && strncasecmp(t, "http://", 7) == 0) {
		const char *slash = memchr(t + 7, '/', tlen - 7);

		if (!slash) {
			t = "/";
			tlen = 1;
		} else {
			tlen -= (size_t)(slash - t);
			t = slash;
		}
	}
	q = memchr(t, '?', tlen);
	plen = q ? (size_t)(q - t) : tlen;
	if (plen >= sizeof(r->path))
		plen = sizeof(r->path) - 1; /* cannot match any configured path */
	memcpy(r->path, t, plen);
	r->path[plen] = '\0';
	t = sp2 + 1;
	tlen = n - (size_t)(t - l);
	if (tlen != 8 || memcmp(t, "HTTP/", 5) != 0 || t[6] != '.' ||
	    t[5] < '0' || t[5] > '9' || t[7] < '0' || t[7] > '9') {
		*why = "malformed HTTP version";
		return -400;
	}
	if (t[5] != '1') {
		*why = "HTTP version not supported";
		return -505;
	}
	r->minor = t[7] - '0';
	r->keep_alive = r->minor >= 1;
	return 0;
}

static int rhttp_header(struct rhttp_req *r, const char *l, size_t n, const char **why)
{
	const char *colon, *v;
	size_t nlen, vlen;

	if (l[0] == ' ' || l[0] == '\t') {
		*why = "obsolete header line folding";
		return -400;
	}
	colon = memchr(l, ':', n);
	if (!colon || colon == l) {
		*why = "malformed header line";
		return -400;
	}
	nlen = (size_t)(colon - l);
	for (size_t i = 0; i < nlen; i++)
		if (!rhttp_is_tchar((unsigned char)l[i])) {
			*why = "malformed header name";
			return -400;
		}
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;

	if (rhttp_name_is(l, nlen, "content-length")) {
		uint64_t cl = 0;

		if (vlen == 0) {
			*why = "empty Content-Length";
			return -400;
		}
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9') {
				*why = "malformed Content-Length";
				return -400;
			}
			if (cl > (UINT64_MAX - 9) / 10) {
				*why = "Content-Length overflows";
				return -413;
			}
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		if (r->has_length && r->content_length != cl) {
			*why = "conflicting Content-Length headers";
			return -400;
		}
		r->has_length = true;
		r->content_length = cl;
	} else if (rhttp_name_is(l, nlen, "transfer-encoding")) {
		if (!rhttp_name_is(v, vlen, "chunked")) {
			*why = "unsupported Transfer-Encoding (only chunked)";
			return -501;
		}
		r->chunked = true;
	} else if (rhttp_name_is(l, nlen, "connection")) {
		if (rhttp_list_has(v, vlen, "close"))
			r->keep_alive = false;
		else if (rhttp_list_has(v, vlen, "keep-alive"))
			r->keep_alive = true;
	} else if (rhttp_name_is(l, nlen, "expect")) {
		if (rhttp_name_is(v, vlen, "100-continue") && r->minor >= 1)
			r->expect_continue = true;
	} else if (rhttp_name_is(l, nlen, "content-encoding")) {
		rhttp_remember(&r->content_encoding, v, vlen);
	} else if (rhttp_name_is(l, nlen, "content-type")) {
		rhttp_remember(&r->content_type, v, vlen);
	} else if (rhttp_name_is(l, nlen, "x-prometheus-remote-write-version")) {
		rhttp_remember(&r->rw_version, v, vlen);
	} else if (rhttp_name_is(l, nlen, "user-agent")) {
		rhttp_remember(&r->user_agent, v, vlen);
	}
	return 0;
}

/* Parse the head in buf[0, end); end is just past the empty line. */
static int rhttp_parse_head(struct rhttp_req *r, size_t end, const char **why)
{
	const char *p = (const char *)r->buf, *lim = p + end;
	int line = 0, rc;

	while (p < lim) {
		const char *nl = memchr(p, '\n', (size_t)(lim - p));
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* the empty line */
		if (memchr(p, '\0', n) || (memchr(p, '\r', n))) {
			*why = "stray NUL or CR in the request head";
			return -400;
		}
		if (line == 0)
			rc = rhttp_request_line(r, p, n, why);
		else if (line > RHTTP_MAX_HEADERS) {
			*why = "too many header fields";
			rc = -431;
		} else
			rc = rhttp_header(r, p, n, why);
		if (rc < 0)
			return rc;
		line++;
		p = nl + 1;
	}
	if (line == 0) {
		*why = "empty request";
		return -400;
	}
	if (r->chunked && r->has_length) {
		/* RFC 9112 6.3: chunked wins; the framing was ambiguous, so close after. */
		r->has_length = false;
		r->keep_alive = false;
	}
	if (!r->chunked && !r->has_length && strcmp(r->method, "POST") == 0) {
		*why = "POST without Content-Length or chunked body";
		return -411;
	}
	if (r->has_length && r->content_length > r->max_body) {
		*why = "request body too large";
		return -413;
	}
	return 0;
}

static int rhttp_find_head_end(struct rhttp_req *r, size_t *end)
{
	size_t i;

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	if (r->head_scan == 0) {
		size_t skip = 0;

		while (skip < r->len && (r->buf[skip] == '\r' || r->buf[skip] == '\n'))
			skip++;
		if (skip) {
			memmove(r->buf, r->buf + skip, r->len - skip);
			r->len -= skip;
		}
	}
	for (i = r->head_scan; i < r->len; i++) {
		if (r->buf[i] != '\n')
			continue;
		if (i + 1 < r->len && r->buf[i + 1] == '\n') {
			*end = i + 2;
			return 1;
		}
		if (i + 2 < r->len && r->buf[i + 1] == '\r' && r->buf[i + 2] == '\n') {
			*end = i + 3;
			return 1;
		}
	}
	r->head_scan = r->len > 3 ? r->len - 3 : 0;
	if (r->head_scan == 0 && r->len > 0)
		r->head_scan = 1; /* leading blank lines are already gone */
	return 0;
}

/* Find the end of a line starting at r->scan: index just past '\n', or 0. */
static size_t rhttp_line_end(const struct rhttp_req *r)
{
	const uint8_t *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);

	return nl ? (size_t)(nl - r->buf) + 1 : 0;
}

static int rhttp_chunk_size(struct rhttp_req *r, size_t eol, const char **why)
{
	const uint8_t *p = r->buf + r->scan, *e = r->buf + eol - 1; /* e at '\n' */
	uint64_t size = 0;
	int digits = 0;

	if (e > p && e[-1] == '\r')
		e--;
	while (p < e) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (size > (UINT64_MAX >> 4)) {
			*why = "chunk size overflows";
			return -413;
		}
		size = size << 4 | (uint64_t)d;
		digits++;
		p++;
	}
	if (!digits) {
		*why = "malformed chunk size";
		return -400;
	}
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p < e && *p != ';') {
		*why = "malformed chunk size line";
		return -400;
	}
	if (size > r->max_body - r->body_len) {
		*why = "request body too large";
		return -413;
	}
	r->scan = eol;
	if (size == 0) {
		r->state = RHTTP_S_TRAILER;
	} else {
		r->chunk_left = size;
		r->state = RHTTP_S_CHUNK_DATA;
	}
	return 0;
}

int rhttp_parse(struct rhttp_req *r, const char **why)
{
	size_t end, eol;
	int rc;

	*why = "";
	if (r->state == RHTTP_S_DONE)
		return 1;
	if (r->state == RHTTP_S_HEAD) {
		if (!rhttp_find_head_end(r, &end)) {
			if (r->len > RHTTP_MAX_HEAD) {
				*why = "request head too large";
				return -431;
			}
			return 0;
		}
		if (end > RHTTP_MAX_HEAD) {
			*why = "request head too large";
			return -431;
		}
		rc = rhttp_parse_head(r, end, why);
		if (rc < 0)
			return rc;
		r->head_len = r->scan = end;
		r->body_len = 0;
		if (r->chunked)
			r->state = RHTTP_S_CHUNK_SIZE;
		else if (r->has_length && r->content_length > 0)
			r->state = RHTTP_S_BODY_LEN;
		else {
			r->state = RHTTP_S_DONE;
			return 1;
		}
	}
	if (r->state == RHTTP_S_BODY_LEN) {
		if (r->len - r->head_len < r->content_length)
			return 0;
		r->body_len = r->content_length;
		r->scan = r->head_len + r->content_length;
		r->state = RHTTP_S_DONE;
		return 1;
	}
	while (r->scan < r->len) {
		switch (r->state) {
		case RHTTP_S_CHUNK_SIZE:
			eol = rhttp_line_end(r);
			if (!eol) {
				if (r->len - r->scan > RHTTP_MAX_CHUNK_LINE) {
					*why = "chunk size line too long";
					return -400;
				}
				return 0;
			}
			if (eol - r->scan > RHTTP_MAX_CHUNK_LINE) {
				*why = "chunk size line too long";
				return -400;
			}
			rc = rhttp_chunk_size(r, eol, why);
			if (rc < 0)
				return rc;
			break;
		case RHTTP_S_CHUNK_DATA: {
			size_t n = r->len - r->scan;
			size_t dst = r->head_len + r->body_len;

			if (n > r->chunk_left)
				n = (size_t)r->chunk_left;
			if (dst != r->scan)
				memmove(r->buf + dst, r->buf + r->scan, n);
			r->body_len += n;
			r->scan += n;
			r->chunk_left -= n;
			if (r->chunk_left == 0)
				r->state = RHTTP_S_CHUNK_CRLF;
			break;
		}
		case RHTTP_S_CHUNK_CRLF:
			if (r->buf[r->scan] == '\n') {
				r->scan++;
			} else if (r->buf[r->scan] == '\r') {
				if (r->scan + 1 >= r->len)
					return 0;
				if (r->buf[r->scan + 1] != '\n') {
					*why = "missing CRLF after chunk data";
					return -400;
				}
				r->scan += 2;
			} else {
				*why = "missing CRLF after chunk data";
				return -400;
			}
			r->state = RHTTP_S_CHUNK_SIZE;
			break;
		case RHTTP_S_TRAILER:
			eol = rhttp_line_end(r);
			if (!eol) {
				if (r->len - r->scan > RHTTP_MAX_HEAD) {
					*why = "trailer too large";
					return -431;
				}
				return 0;
			}
			if (eol - r->scan == 1 || (eol - r->scan == 2 && r->buf[r->scan] == '\r')) {
				r->scan = eol;
				r->state = RHTTP_S_DONE;
				return 1;
			}
			r->scan = eol; /* trailer fields are ignored */
			break;
		default:
			*why = "internal parser state";
			return -400;
		}
	}
	return 0;
}

void rhttp_next(struct rhttp_req *r)
{
	size_t rest = r->len - r->scan;
	size_t max_body = r->max_body;
	uint8_t *buf = r->buf;
	size_t cap = r->cap;

	memmove(buf, buf + r->scan, rest);
	if (cap > RHTTP_KEEP_CAP && rest <= RHTTP_KEEP_CAP) {
		uint8_t *nbuf = realloc(buf, RHTTP_KEEP_CAP);

		if (nbuf) {
			buf = nbuf;
			cap = RHTTP_KEEP_CAP;
		}
	}
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = cap;
	r->len = rest;
	r->max_body = max_body;
	r->keep_alive = true;
}
