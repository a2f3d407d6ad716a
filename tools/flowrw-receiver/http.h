/* SPDX-License-Identifier: MIT */
/* http.h: the receiver's incremental HTTP/1.1 request parser (one per connection). */
#ifndef FLOWRW_RECEIVER_HTTP_H
#define FLOWRW_RECEIVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RHTTP_MAX_HEAD      (64 * 1024)  /* request line + headers */
#define RHTTP_MAX_HEADERS   100
#define RHTTP_MAX_CHUNK_LINE 1024        /* chunk-size line incl. extensions */
#define RHTTP_VAL_MAX       256          /* kept bytes of a remembered header value */

enum rhttp_state {
	RHTTP_S_HEAD = 0,   /* waiting for the end of the header block */
	RHTTP_S_BODY_LEN,   /* Content-Length body */
	RHTTP_S_CHUNK_SIZE, /* chunked: at a chunk-size line */
	RHTTP_S_CHUNK_DATA, /* chunked: inside chunk data */
	RHTTP_S_CHUNK_CRLF, /* chunked: the CRLF after chunk data */
	RHTTP_S_TRAILER,    /* chunked: trailer fields up to the empty line */
	RHTTP_S_DONE,       /* a complete request is in the buffer */
};

/* One remembered request header (the ones the remote-write check looks at). */
struct rhttp_hval {
	bool present;
	bool truncated;
	int count;          /* occurrences; more than one is suspicious */
	char v[RHTTP_VAL_MAX];
};

/*
 * A connection's input buffer and the request being parsed in it. The body is
 * decoded in place: for chunked requests the decoded bytes are moved down over
 * the chunk framing, so [body, body + body_len) is always contiguous.
 */
struct rhttp_req {
	uint8_t *buf;
	size_t cap;
	size_t len;          /* bytes received into buf */
	size_t max_body;     /* refuse (413) bodies larger than this */
	enum rhttp_state state;
	size_t head_scan;    /* where the search for the end of the head resumes */
	size_t head_len;     /* bytes of request line + headers + empty line */
	size_t scan;         /* next raw byte to parse (body states) */
	size_t body_len;     /* decoded body bytes at buf + head_len */
	uint64_t chunk_left; /* bytes left in the current chunk */
	/* parsed head */
	char method[16];
	char path[256];      /* without the query string; truncated if longer */
	int minor;           /* HTTP/1.<minor> */
	bool has_length;
	uint64_t content_length;
	bool chunked;
	bool keep_alive;
	bool expect_continue;
	struct rhttp_hval content_encoding;
	struct rhttp_hval content_type;
	struct rhttp_hval rw_version;
	struct rhttp_hval user_agent;
};

/* Allocate the initial buffer. 0 or -ENOMEM. */
int rhttp_init(struct rhttp_req *r, size_t max_body);
/* Free the buffer; accepts a zeroed or half-built struct. */
void rhttp_fini(struct rhttp_req *r);

/*
 * Make room for at least one more received byte and return where to read into
 * (*room = how many bytes fit). NULL with errno ENOMEM, or E2BIG when the
 * request cannot fit the limits (the caller answers 413 and closes).
 */
uint8_t *rhttp_space(struct rhttp_req *r, size_t *room);

/*
 * Parse what has arrived. Returns 1 when a complete request is in the buffer
 * (state DONE; body at buf + head_len, body_len bytes), 0 when more bytes are
 * needed, or a negative HTTP status (-400, -411, -413, -431, -501, -505) with a
 * static reason in *why when the request is malformed; the connection must then
 * be answered and closed, since framing is lost.
 */
int rhttp_parse(struct rhttp_req *r, const char **why);

/* True once the head is parsed (method, path, headers are valid). */
static inline bool rhttp_head_done(const struct rhttp_req *r)
{
	return r->state != RHTTP_S_HEAD;
}

/* After a DONE request was answered: drop it, keep pipelined bytes, reset. */
void rhttp_next(struct rhttp_req *r);

#endif
