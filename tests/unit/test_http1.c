/* SPDX-License-Identifier: MIT */
/* test_http1.c: response parser, chunked decoder, Retry-After and request head. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sender/http1.h"

/* Input placed so that its last byte is the last byte of a page and the
 * next page is PROT_NONE: any read past the end faults. */
struct guarded {
	char *map;
	size_t page;
};

static char *guard_place(struct guarded *g, const char *s, size_t len)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	cr_assert(len <= g->page);
	g->map = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(g->map != MAP_FAILED);
	cr_assert(mprotect(g->map + g->page, g->page, PROT_NONE) == 0);
	memcpy(g->map + g->page - len, s, len);
	return g->map + g->page - len;
}

static void guard_free(struct guarded *g)
{
	munmap(g->map, 2 * g->page);
}

struct parsed {
	int ret, minor, status;
	const char *msg;
	size_t msg_len, nhdrs;
	struct http1_header h[HTTP1_MAX_HEADERS];
};

static void parse(struct parsed *r, const char *buf, size_t len, size_t last_len)
{
	r->nhdrs = HTTP1_MAX_HEADERS;
	r->ret = http1_parse_response(buf, len, &r->minor, &r->status, &r->msg, &r->msg_len, r->h,
				      &r->nhdrs, last_len);
}

static void expect_header(const struct parsed *r, size_t i, const char *name, const char *value)
{
	cr_assert_lt(i, r->nhdrs);
	cr_assert_eq(r->h[i].name_len, strlen(name), "header %zu name", i);
	cr_assert(memcmp(r->h[i].name, name, strlen(name)) == 0);
	cr_assert_eq(r->h[i].value_len, strlen(value), "header %zu value length %zu", i,
		     r->h[i].value_len);
	cr_assert(memcmp(r->h[i].value, value, strlen(value)) == 0);
}

static const char simple[] = "HTTP/1.1 204 No Content\r\n"
			     "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
			     "X-Empty:\r\n"
			     "Content-Length:   0  \r\n"
			     "\r\n";

Test(http1, parses_status_line_and_headers)
{
	struct parsed r;

	parse(&r, simple, strlen(simple), 0);
	cr_assert_eq(r.ret, (int)strlen(simple));
	cr_assert_eq(r.minor, 1);
	cr_assert_eq(r.status, 204);
	cr_assert_eq(r.msg_len, 10);
	cr_assert(memcmp(r.msg, "No Content", 10) == 0);
	cr_assert_eq(r.nhdrs, 3);
	expect_header(&r, 0, "Date", "Sun, 06 Nov 1994 08:49:37 GMT");
	expect_header(&r, 1, "X-Empty", "");
	expect_header(&r, 2, "Content-Length", "0");
}

Test(http1, accepts_bare_lf_and_empty_reason)
{
	static const char s1[] = "HTTP/1.0 200\nA: b\n\nbody";
	static const char s2[] = "HTTP/1.1 500 \r\n\r\n";
	struct parsed r;

	parse(&r, s1, strlen(s1), 0);
	cr_assert_eq(r.ret, (int)strlen(s1) - 4);
	cr_assert_eq(r.minor, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.msg_len, 0);
	expect_header(&r, 0, "A", "b");
	parse(&r, s2, strlen(s2), 0);
	cr_assert_eq(r.ret, (int)strlen(s2));
	cr_assert_eq(r.status, 500);
}

/* Every proper prefix is incomplete, also at the end of a guarded page. */
Test(http1, every_prefix_is_partial_at_page_end)
{
	size_t len = strlen(simple);

	for (size_t n = 0; n < len; n++) {
		struct guarded g;
		struct parsed r;
		char *p = guard_place(&g, simple, n);

		parse(&r, p, n, 0);
		cr_assert_eq(r.ret, HTTP1_ERR_PARTIAL, "prefix %zu gave %d", n, r.ret);
		guard_free(&g);
	}
	{
		struct guarded g;
		struct parsed r;
		char *p = guard_place(&g, simple, len);

		parse(&r, p, len, 0);
		cr_assert_eq(r.ret, (int)len);
		cr_assert_eq(r.nhdrs, 3);
		guard_free(&g);
	}
}

/* Fed one byte at a time, with last_len, as a connection reading in pieces. */
Test(http1, one_byte_at_a_time_with_last_len)
{
	static const char resp[] = "HTTP/1.1 429 Too Many Requests\r\n"
				   "Retry-After: 7\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 4\r\n"
				   "\r\nslow";
	size_t head = strlen(resp) - 4, last = 0;
	struct parsed r;

	for (size_t n = 1; n <= strlen(resp); n++) {
		struct guarded g;
		char *p = guard_place(&g, resp, n);

		parse(&r, p, n, last);
		guard_free(&g);
		if (n < head) {
			cr_assert_eq(r.ret, HTTP1_ERR_PARTIAL, "at %zu", n);
			last = n;
		} else {
			cr_assert_eq(r.ret, (int)head, "at %zu: %d", n, r.ret);
			cr_assert_eq(r.status, 429);
			cr_assert_eq(r.nhdrs, 3);
		}
	}
}

static const char *const bad_heads[] = {
	"HTTP/2.0 200 OK\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 abc OK\r\n\r\n",
	"XTTP/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nFolded: a\r\n  b\r\n\r\n",     /* obs-fold */
	"HTTP/1.1 200 OK\r\nName : v\r\n\r\n",            /* space before colon */
	"HTTP/1.1 200 OK\r\n: v\r\n\r\n",                 /* empty name */
	"HTTP/1.1 200 OK\r\nA: x\x01y\r\n\r\n",           /* control byte */
	"HTTP/1.1 200 OK\rX\n\r\n",                       /* bare CR */
	"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
	"HTTP/1.1 200 O\x7fK\r\n\r\n",
	"\r\nHTTP/1.1 200 OK\r\n\r\n",
};

Test(http1, refuses_bad_heads)
{
	for (size_t i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++) {
		struct parsed r;

		parse(&r, bad_heads[i], strlen(bad_heads[i]), 0);
		cr_assert_eq(r.ret, HTTP1_ERR_BAD, "case %zu gave %d", i, r.ret);
	}
}

Test(http1, garbage_is_bad_before_it_is_complete)
{
	struct parsed r;

	parse(&r, "HTTQ", 4, 0);
	cr_assert_eq(r.ret, HTTP1_ERR_BAD);
	parse(&r, "<html>", 6, 0);
	cr_assert_eq(r.ret, HTTP1_ERR_BAD);
}

Test(http1, refuses_more_headers_than_slots)
{
	char buf[4096];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n");
	struct parsed r;

	for (int i = 0; i < HTTP1_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "H%d: v\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	parse(&r, buf, n, 0);
	cr_assert_eq(r.ret, HTTP1_ERR_BAD);
}

/* --- chunked ------------------------------------------------------------- */

static const char chunked_body[] = "4\r\nWiki\r\n"
				   "5;ext=1\r\npedia\r\n"
				   "E\r\n in\r\n\r\nchunks.\r\n"
				   "0\r\n"
				   "Trailer: x\r\n"
				   "\r\n"
				   "NEXT";
static const char chunked_data[] = "Wikipedia in\r\n\r\nchunks.";

Test(http1, decodes_chunked_in_place)
{
	struct http1_chunked d = { 0 };
	char buf[256];
	size_t len = strlen(chunked_body);
	ssize_t left;

	memcpy(buf, chunked_body, len);
	left = http1_decode_chunked(&d, buf, &len);
	cr_assert_eq(left, 4);
	cr_assert_eq(len, strlen(chunked_data));
	cr_assert(memcmp(buf, chunked_data, len) == 0);
	cr_assert(memcmp(buf + len, "NEXT", 4) == 0);
}

Test(http1, decodes_chunked_one_byte_at_a_time)
{
	struct http1_chunked d = { 0 };
	char out[256];
	size_t total = 0, n = strlen(chunked_body) - 4;
	ssize_t left = HTTP1_ERR_PARTIAL;

	for (size_t i = 0; i < n; i++) {
		struct guarded g;
		char *p = guard_place(&g, chunked_body + i, 1);
		size_t len = 1;

		cr_assert_eq(left, HTTP1_ERR_PARTIAL, "finished early at %zu", i);
		/* The decoder writes in place: give it a writable copy. */
		left = http1_decode_chunked(&d, p, &len);
		cr_assert(left == HTTP1_ERR_PARTIAL || left == 0, "byte %zu: %zd", i, left);
		memcpy(out + total, p, len);
		total += len;
		guard_free(&g);
	}
	cr_assert_eq(left, 0);
	cr_assert_eq(total, strlen(chunked_data));
	cr_assert(memcmp(out, chunked_data, total) == 0);
}

Test(http1, refuses_bad_chunks)
{
	static const char *const bad[] = {
		"x\r\n",
		"4\r\nWikiX\r\n",
		"4g\r\n",
		"1000000000000000\r\n", /* 16 hex digits */
		"0\r\n\rX",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http1_chunked d = { 0 };
		char buf[64];
		size_t len = strlen(bad[i]);

		memcpy(buf, bad[i], len);
		cr_assert_eq(http1_decode_chunked(&d, buf, &len), HTTP1_ERR_BAD, "case %zu", i);
	}
}

/* --- semantics ----------------------------------------------------------- */

static int meta_of(const char *head, struct http1_meta *m)
{
	struct parsed r;

	parse(&r, head, strlen(head), 0);
	cr_assert_gt(r.ret, 0, "head did not parse: %s", head);
	return http1_response_meta(r.minor, r.status, r.h, r.nhdrs, 1000000000, m);
}

Test(http1, body_framing_and_keep_alive)
{
	struct http1_meta m;

	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", &m), 0);
	cr_assert_eq(m.body, HTTP1_BODY_LENGTH);
	cr_assert_eq(m.content_length, 12);
	cr_assert(m.keep_alive);

	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
			     "Content-Length: 12\r\n\r\n", &m), 0);
	cr_assert_eq(m.body, HTTP1_BODY_CHUNKED);
	cr_assert_not(m.keep_alive, "TE with CL must not be reused");

	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &m), 0);
	cr_assert_eq(m.body, HTTP1_BODY_EOF);
	cr_assert_not(m.keep_alive);

	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\n\r\n", &m), 0);
	cr_assert_eq(m.body, HTTP1_BODY_EOF);
	cr_assert_not(m.keep_alive);

	cr_assert_eq(meta_of("HTTP/1.1 204 No Content\r\n\r\n", &m), 0);
	cr_assert_eq(m.body, HTTP1_BODY_NONE);
	cr_assert(m.keep_alive);

	cr_assert_eq(meta_of("HTTP/1.1 100 Continue\r\n\r\n", &m), 0);
	cr_assert_eq(m.body, HTTP1_BODY_NONE);

	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
			     "Content-Length: 0\r\n\r\n", &m), 0);
	cr_assert_not(m.keep_alive);

	cr_assert_eq(meta_of("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
			     "Content-Length: 0\r\n\r\n", &m), 0);
	cr_assert_not(m.keep_alive, "HTTP/1.0 closes");

	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &m),
		     HTTP1_ERR_BAD);
	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", &m),
		     HTTP1_ERR_BAD);
	cr_assert_eq(meta_of("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &m), HTTP1_ERR_BAD);
}

Test(http1, retry_after_both_forms)
{
	time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	struct http1_meta m;

	cr_assert_eq(http1_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 29), 784111777);
	cr_assert_eq(http1_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30), 784111777);
	cr_assert_eq(http1_parse_date("Sun Nov  6 08:49:37 1994", 24), 784111777);
	cr_assert_eq(http1_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", 29), -1);
	cr_assert_eq(http1_parse_date("Sun, 06 Foo 1994 08:49:37 GMT", 29), -1);
	cr_assert_eq(http1_parse_date("Sun, 06 Nov 1994 25:49:37 GMT", 29), -1);

	cr_assert_eq(http1_parse_retry_after(" 120 ", 5, now), 120);
	cr_assert_eq(http1_parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", 29, now), 3);
	cr_assert_eq(http1_parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", 29, now), 0);
	cr_assert_eq(http1_parse_retry_after("soon", 4, now), -1);
	cr_assert_eq(http1_parse_retry_after("12a", 3, now), -1);

	cr_assert_eq(meta_of("HTTP/1.1 503 x\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n", &m), 0);
	cr_assert_eq(m.retry_after_s, 3);
	cr_assert_eq(meta_of("HTTP/1.1 503 x\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n", &m), 0);
	cr_assert_eq(m.retry_after_s, -1, "0 falls back to the own backoff");
}

Test(http1, date_round_trip)
{
	static const int64_t times[] = { 0, 784111777, 951782400 /* 2000-02-29 */, 4102444800,
					 1700000000 };

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char buf[40];
		size_t n = http1_format_date(times[i], buf, sizeof(buf));

		cr_assert_eq(n, 29, "%s", buf);
		cr_assert_eq(http1_parse_date(buf, n), times[i], "%s", buf);
	}
	{
		char buf[40];

		http1_format_date(784111777, buf, sizeof(buf));
		cr_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	}
}

/* --- request head -------------------------------------------------------- */

Test(http1, request_head_defaults)
{
	char buf[1024];
	int n = http1_request_prefix(buf, sizeof(buf), "/api/v1/write", "127.0.0.1:9090", NULL, 0);
	size_t len;

	cr_assert_gt(n, 0);
	len = http1_request_finish(buf, (size_t)n, 12345);
	buf[len] = '\0';
	cr_assert_str_eq(buf, "POST /api/v1/write HTTP/1.1\r\n"
			      "Host: 127.0.0.1:9090\r\n"
			      "Content-Encoding: snappy\r\n"
			      "Content-Type: application/x-protobuf\r\n"
			      "X-Prometheus-Remote-Write-Version: 0.1.0\r\n"
			      "User-Agent: flowrw/" FLOWRW_VERSION "\r\n"
			      "Content-Length: 12345\r\n\r\n");
}

Test(http1, request_head_extra_headers_override)
{
	struct cfg_header extra[] = {
		{ "user-agent", "custom/1" },
		{ "X-Scope-OrgID", "tenant-a" },
		{ "Content-Length", "5" },
		{ "Connection", "close" },
	};
	char buf[1024];
	int n = http1_request_prefix(buf, sizeof(buf), "/w", "h", extra, 4);
	size_t len;

	cr_assert_gt(n, 0);
	len = http1_request_finish(buf, (size_t)n, 0);
	buf[len] = '\0';
	cr_assert_str_eq(buf, "POST /w HTTP/1.1\r\n"
			      "Host: h\r\n"
			      "Content-Encoding: snappy\r\n"
			      "Content-Type: application/x-protobuf\r\n"
			      "X-Prometheus-Remote-Write-Version: 0.1.0\r\n"
			      "user-agent: custom/1\r\n"
			      "X-Scope-OrgID: tenant-a\r\n"
			      "Content-Length: 0\r\n\r\n");
	cr_assert(http1_header_forbidden("content-length"));
	cr_assert_not(http1_header_forbidden("Authorization"));
	cr_assert(http1_header_reserved("Authorization"));
	cr_assert(http1_header_reserved("USER-AGENT"));
	cr_assert_not(http1_header_reserved("X-Scope-OrgID"));
}

Test(http1, request_head_refuses_injection_and_overflow)
{
	struct cfg_header crlf[] = { { "X-A", "v\r\nEvil: 1" } };
	struct cfg_header badname[] = { { "X A", "v" } };
	char buf[128];

	cr_assert_eq(http1_request_prefix(buf, sizeof(buf), "/w", "h", crlf, 1), -EINVAL);
	cr_assert_eq(http1_request_prefix(buf, sizeof(buf), "/w", "h", badname, 1), -EINVAL);
	cr_assert_eq(http1_request_prefix(buf, sizeof(buf), "/w x", "h", NULL, 0), -EINVAL);
	cr_assert_eq(http1_request_prefix(buf, 64, "/w", "h", NULL, 0), -ENOSPC);
}
