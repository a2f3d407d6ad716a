/* SPDX-License-Identifier: MIT */
/* conn.h: keep-alive HTTP/1.1 connections per endpoint, driven through the sender's io_uring. */
#ifndef FLOWRW_CONN_H
#define FLOWRW_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/cfg-t.h"
#include "common/log.h"
#include "common/stats-t.h"
#include "sender/http1.h"
#include "sender/uring.h"

#define CONN_NONE        0xffffffffU
#define CONN_RBUF        8192         /* receive buffer; a response head must fit */
#define CONN_BODY_KEEP   256          /* bytes of a response body kept for the log */
#define CONN_BODY_MAX    (1U << 20)   /* body bytes read to keep a connection; past it, close */
#define CONN_MAX_ADDRS   8
#define CONN_URL_MAX     256

#define CONN_F_REUSED     0x0001U /* the request runs on a kept-alive connection */
#define CONN_F_RECV_ARMED 0x0002U /* a recv is queued */
#define CONN_F_SENDING    0x0004U /* a sendmsg is queued */
#define CONN_F_SEND_DONE  0x0008U /* the whole request went out */
#define CONN_F_HEAD_DONE  0x0010U /* the final response head is parsed */
#define CONN_F_RESP_DONE  0x0020U /* the response is complete (waiting for the send CQE) */
#define CONN_F_GOT_BYTES  0x0040U /* response bytes arrived for this request */
#define CONN_F_NO_REUSE   0x0080U /* close after this response */

enum conn_state {
	CONN_FREE = 0,
	CONN_CONNECTING,  /* connect queued for an owner's request */
	CONN_IDLE,        /* connected, in its endpoint's idle list, recv queued */
	CONN_BUSY,        /* a request in flight for its owner */
	CONN_CLOSING,     /* cancelling; the slot is freed when no op remains */
};

/* What became of a request; handed to the owner once. */
struct conn_result {
	int err;                 /* 0: an HTTP status; else -errno of the transport failure */
	int status;
	int64_t retry_after_s;   /* -1 when absent */
	bool stale;              /* a reused connection failed before any response byte */
	const char *what;        /* transport failure in words, for the log */
	const char *body;        /* first bytes of the response body (not NUL-terminated) */
	size_t body_len;
};

struct conn_endpoint {
	const struct cfg_endpoint *cfg;
	int exporter;            /* cfg index */
	int index;               /* position in the exporter's endpoints list */
	char url[CONN_URL_MAX];  /* for logs: scheme, host, port, path; never credentials or query */
	char *prefix;            /* request head up to the Content-Length value */
	int prefix_len;
	bool numeric;            /* IP literal: resolved once, never again */
	struct sockaddr_storage addr[CONN_MAX_ADDRS];
	socklen_t addr_len[CONN_MAX_ADDRS];
	int n_addr;
	int addr_next;           /* address the next connect tries */
	int64_t resolved_ns;     /* last getaddrinfo (monotonic) */
	uint32_t idle;           /* most recently used idle connection, or CONN_NONE */
	uint32_t n_open;         /* connections open or opening */
	struct stats_endpoint *st;
	struct log_limit lim;
	uint64_t fails;          /* failed attempts since the last 2xx (for the recovery log) */
};

struct conn {
	int fd;
	uint32_t gen;
	uint8_t state;           /* enum conn_state */
	uint8_t nops;            /* queued operations that will post a CQE */
	uint16_t flags;          /* CONN_F_* */
	uint32_t ep;
	uint32_t owner;          /* who gets the result, or CONN_NONE */
	uint32_t next, prev;     /* free list (next) or the endpoint's idle list */
	/* request */
	struct msghdr msg;
	struct iovec iov[2];
	char *hdr;               /* request head buffer (pool->hdr_cap bytes) */
	uint32_t hdr_len;
	const void *body;        /* in the lane ring: zero copy */
	uint32_t body_len;
	uint64_t sent;
	/* response */
	char *rbuf;              /* CONN_RBUF bytes */
	uint32_t rlen, last_len;
	int status;
	struct http1_meta meta;
	struct http1_chunked chunk;
	uint64_t body_read;
	uint16_t keep_len;
	char keep[CONN_BODY_KEEP];
};

struct conn_pool {
	struct uring *u;
	struct conn *c;
	uint32_t n;
	uint32_t free;                /* free slot list */
	struct conn_endpoint *ep;
	uint32_t n_ep;
	uint32_t ep_base[CFG_MAX_EXPORTERS]; /* first endpoint id of an exporter */
	char *rbufs, *hdrs;
	size_t hdr_cap;
	struct __kernel_timespec connect_ts[CFG_MAX_EXPORTERS];
	/* The owner's callbacks; they may call conn_request() again. */
	void (*on_done)(void *ctx, uint32_t owner, const struct conn_result *r);
	void (*on_slot_free)(void *ctx);
	void *ctx;
	char result_body[CONN_BODY_KEEP];
	uint64_t resolves;            /* blocking getaddrinfo calls made */
};

/*
 * Set up endpoints for every active exporter of <c> (resolving hostnames:
 * this blocks, at start-up) and <slots> connection slots with their buffers.
 * <stats> receives per-endpoint counters.  Returns 0, -EINVAL with a logged
 * message naming the exporter when an endpoint cannot be used (https, bad
 * extra-headers), or -ENOMEM.  An unresolvable hostname is only a warning:
 * it is tried again on every connect.  Sender process only.
 */
int conn_pool_init(struct conn_pool *p, struct uring *u, const struct cfg *c,
		   struct stats_page *stats, uint32_t slots);

/* Close every fd and free the memory; accepts a half-built pool. */
void conn_pool_fini(struct conn_pool *p);

/*
 * Start a POST of <body>/<len> (which must stay valid until the result) to
 * endpoint <ep> for <owner>: on a kept-alive idle connection if there is one,
 * else on a new connection (its hostname is resolved again then, blocking,
 * at most once a second).  Returns the slot (>= 0) whose result will reach
 * on_done(owner); -EAGAIN when no slot is free (an idle connection is closed
 * to make room; on_slot_free() tells when to try again); another negative
 * errno when the request failed at once, with *<what> saying why.
 */
int conn_request(struct conn_pool *p, uint32_t ep, uint32_t owner, const void *body,
		 uint32_t len, int64_t now_ns, const char **what);

/* The owner gives up on the request on <slot> (its deadline passed): the
 * connection is closed and on_done() is not called for it. */
void conn_abort(struct conn_pool *p, uint32_t slot);

/* Handle one completion of a connection op (URING_OP_CONNECT .. CANCEL). */
void conn_handle(struct conn_pool *p, const struct io_uring_cqe *cqe);

/* Close every idle connection (drain end). */
void conn_close_idle(struct conn_pool *p);

/* Endpoint id of endpoint <i> of exporter <e>. */
static inline uint32_t conn_ep_id(const struct conn_pool *p, int e, int i)
{
	return p->ep_base[e] + (uint32_t)i;
}

#endif
