/* SPDX-License-Identifier: MIT */
/* http1.h: minimal HTTP/1.1 client codec: response parser, chunked decoder, request head. */
#ifndef FLOWRW_HTTP1_H
#define FLOWRW_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/cfg-t.h"

#define HTTP1_MAX_HEADERS 32      /* header slots a caller usually offers */
#define HTTP1_ERR_BAD     (-1)    /* the bytes can never become a valid response */
#define HTTP1_ERR_PARTIAL (-2)    /* valid so far, more bytes needed */

/* One header; both strings point into the caller's receive buffer and are
 * not NUL-terminated.  The value has surrounding whitespace removed. */
struct http1_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/*
 * Parse a response head (status line and header fields, up to and including
 * the empty line) from <buf>/<len>.  Never reads past buf + len.
 * <hdrs> has room for *<nhdrs> entries; on success *<nhdrs> is the number
 * filled.  <last_len> is the length of the same buffer at the previous call
 * that returned HTTP1_ERR_PARTIAL (0 on the first call): the bytes before it
 * were already checked, so only the new ones are searched for the end.
 * Returns the head length in bytes (> 0), HTTP1_ERR_PARTIAL, or HTTP1_ERR_BAD
 * (bad syntax, obs-fold, control bytes, more headers than slots).
 * Any process or thread may call it; it keeps no state.
 */
int http1_parse_response(const char *buf, size_t len, int *minor_version, int *status,
			 const char **msg, size_t *msg_len, struct http1_header *hdrs,
			 size_t *nhdrs, size_t last_len);

/* State of an in-place chunked-body decoder; zero it before the first call. */
struct http1_chunked {
	uint64_t left;      /* data bytes left in the current chunk */
	uint8_t state;      /* private */
	uint8_t digits;     /* hex digits read in the size line */
};

/*
 * Decode the chunked body bytes in <buf> (*<len> of them) in place: on return the
 * decoded data bytes are buf[0 .. *len).  Keeps state across calls, so input
 * may be cut anywhere.  Returns HTTP1_ERR_PARTIAL when the body continues,
 * HTTP1_ERR_BAD on bad framing (or a chunk size above 2^60), or, once the
 * last chunk and the trailer section have been read, the number of bytes
 * that followed the body; they are left at buf[*len ...].
 */
ssize_t http1_decode_chunked(struct http1_chunked *d, char *buf, size_t *len);

/* How a response body is delimited. */
enum http1_body {
	HTTP1_BODY_NONE = 0,    /* 1xx, 204, 304: no body */
	HTTP1_BODY_LENGTH,      /* Content-Length */
	HTTP1_BODY_CHUNKED,     /* Transfer-Encoding ending in chunked */
	HTTP1_BODY_EOF,         /* until the server closes */
};

/* What the client needs from a parsed head. */
struct http1_meta {
	enum http1_body body;
	uint64_t content_length;  /* HTTP1_BODY_LENGTH */
	bool keep_alive;          /* connection reusable after this response */
	int64_t retry_after_s;    /* -1: absent, unparsable or not in the future */
};

/*
 * Interpret the headers of a parsed response head (h2o's rules): chunked
 * wins over Content-Length (and then the connection is not reused),
 * conflicting or overflowing Content-Length is bad, 1xx/204/304 have no body,
 * keep-alive only on HTTP/1.1 without `Connection: close` and with a
 * determinate body.  <now> (seconds since the epoch) turns an HTTP-date
 * Retry-After into a delay.  Returns 0, or HTTP1_ERR_BAD.
 */
int http1_response_meta(int minor_version, int status, const struct http1_header *hdrs,
			size_t nhdrs, time_t now, struct http1_meta *m);

/*
 * Retry-After value: delta-seconds, or an HTTP-date in any of the three
 * forms RFC 9110 says recipients accept (IMF-fixdate, RFC 850, asctime).
 * Returns the delay in seconds from <now> (>= 0; a date in the past gives
 * 0), or -1 when the value does not parse.
 */
int64_t http1_parse_retry_after(const char *v, size_t len, time_t now);

/* Parse an HTTP-date; returns seconds since the epoch or -1. */
int64_t http1_parse_date(const char *v, size_t len);

/* Format <t> as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into <buf>
 * (at least 30 bytes); returns the length. */
size_t http1_format_date(int64_t t, char *buf, size_t cap);

/*
 * Build the constant part of a remote-write POST head into <buf>/<cap>:
 * request line, Host, Content-Encoding: snappy, Content-Type:
 * application/x-protobuf, X-Prometheus-Remote-Write-Version: 0.1.0,
 * User-Agent: flowrw/<version>, then <extra> headers (an extra header whose
 * name equals one of those, case-insensitively, replaces it, as DeepFlow
 * does; Content-Length, Transfer-Encoding and Connection cannot be set and
 * are skipped), ending with "Content-Length: ".  <host> is the Host value.
 * Returns the length, or -ENOSPC, or -EINVAL when a name or value holds
 * bytes that would break the head (CR, LF, NUL).
 */
int http1_request_prefix(char *buf, size_t cap, const char *path, const char *host,
			 const struct cfg_header *extra, int n_extra);

/* True if header <name> may not be set by extra-headers (framing). */
bool http1_header_forbidden(const char *name);

/* True if <name> is one the remote-write spec reserves (a sender must not
 * let users override it; flowrw follows DeepFlow and lets them). */
bool http1_header_reserved(const char *name);

/*
 * Complete a head whose prefix (http1_request_prefix) fills buf[0 ..
 * <prefix_len>): append the decimal <body_len> and the final CRLF CRLF.
 * <cap> must leave 24 bytes after the prefix.  Returns the head length.
 */
static inline size_t http1_request_finish(char *buf, size_t prefix_len, uint64_t body_len)
{
	char tmp[24];
	size_t n = 0, len = prefix_len;

	do {
		tmp[n++] = (char)('0' + body_len % 10);
		body_len /= 10;
	} while (body_len);
	while (n)
		buf[len++] = tmp[--n];
	buf[len++] = '\r';
	buf[len++] = '\n';
	buf[len++] = '\r';
	buf[len++] = '\n';
	return len;
}

/* Case-insensitive compare of a header name with a NUL-terminated one. */
bool http1_name_is(const char *name, size_t len, const char *lower);

#endif
