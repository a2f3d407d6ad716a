/* SPDX-License-Identifier: MIT */
/* conn.c: keep-alive HTTP/1.1 connections per endpoint, driven through the sender's io_uring. */
#include "sender/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "common/log.h"

/*
 * A connection slot goes FREE -> CONNECTING -> BUSY <-> IDLE -> CLOSING ->
 * FREE.  While it is open it always has one recv queued, also when idle, so
 * a server closing a kept-alive connection is noticed at once rather than
 * when the next request fails on it.  Each queued op posts exactly one CQE
 * and is counted in nops; a closing slot is freed (its fd closed, its
 * generation bumped) only when nops is back to 0, so no late completion can
 * ever write into a buffer that belongs to the slot's next life.
 */

#define CONN_RESOLVE_EVERY_NS 1000000000LL

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void bug(const char *what, uint32_t slot)
{
	log_err("internal error: %s (slot %u)", what, slot);
	abort();
}

#define CONN_BUG_ON(cond, slot) do { if (cond) bug(#cond, slot); } while (0)

static inline uint32_t slot_of(const struct conn_pool *p, const struct conn *c)
{
	return (uint32_t)(c - p->c);
}

/* --- endpoints ----------------------------------------------------------- */

static void ep_url(struct conn_endpoint *ep)
{
	const struct cfg_endpoint *e = ep->cfg;
	const char *path = e->path ? e->path : "/";
	size_t plen = strcspn(path, "?#");

	snprintf(ep->url, sizeof(ep->url), "http://%s%s%s:%s%.*s", e->ipv6_literal ? "[" : "",
		 e->host, e->ipv6_literal ? "]" : "", e->port, (int)plen, path);
}

/* Numeric addresses never block; hostnames go through getaddrinfo, which
 * may (DNS): only at start-up and when a new connection is opened. */
static int ep_resolve(struct conn_pool *p, struct conn_endpoint *ep, const char **what)
{
	struct addrinfo hints, *res = NULL, *ai;
	int err, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (ep->numeric ? AI_NUMERICHOST : 0);
	ep->resolved_ns = mono_ns();
	p->resolves++;
	err = getaddrinfo(ep->cfg->host, ep->cfg->port, &hints, &res);
	if (err) {
		*what = err == EAI_NONAME ? "unknown host" : "cannot resolve host";
		log_limited(&ep->lim, LOG_LVL_WARN, "endpoint %s: cannot resolve %s: %s%s", ep->url,
			    ep->cfg->host, gai_strerror(err),
			    ep->n_addr ? " (using the previous addresses)" : "");
		return ep->n_addr ? 0 : -EHOSTUNREACH;
	}
	for (ai = res; ai && n < CONN_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(ep->addr[0]))
			continue;
		memcpy(&ep->addr[n], ai->ai_addr, ai->ai_addrlen);
		ep->addr_len[n] = ai->ai_addrlen;
		n++;
	}
	freeaddrinfo(res);
	if (n == 0) {
		*what = "host has no address";
		return ep->n_addr ? 0 : -EHOSTUNREACH;
	}
	ep->n_addr = n;
	if (ep->addr_next >= n)
		ep->addr_next = 0;
	return 0;
}

static int ep_init(struct conn_pool *p, struct conn_endpoint *ep, const struct cfg_exporter *x,
		   int i, struct stats_endpoint *st)
{
	const struct cfg_endpoint *e = &x->endpoints[i];
	char host[320], buf[8192];
	const char *what = NULL;
	int n;

	ep->cfg = e;
	ep->exporter = x->index;
	ep->index = i;
	ep->idle = CONN_NONE;
	ep->st = st;
	if (!e->host || !e->port || !e->url || strncmp(e->url, "http://", 7) != 0) {
		log_err("exporter %d (line %d): endpoint %d: only http:// URLs are supported", x->index,
			x->line, i + 1);
		return -EINVAL;
	}
	ep_url(ep);
	if (strcmp(e->port, "80") == 0)
		snprintf(host, sizeof(host), "%s%s%s", e->ipv6_literal ? "[" : "", e->host,
			 e->ipv6_literal ? "]" : "");
	else
		snprintf(host, sizeof(host), "%s%s%s:%s", e->ipv6_literal ? "[" : "", e->host,
			 e->ipv6_literal ? "]" : "", e->port);
	n = http1_request_prefix(buf, sizeof(buf), e->path && *e->path ? e->path : "/", host,
				 x->headers, x->n_headers);
	if (n < 0) {
		log_err("exporter %d (line %d): endpoint %s: %s", x->index, x->line, ep->url,
			n == -ENOSPC ? "request headers exceed 8 KiB"
				     : "a header name, header value or the path holds bytes HTTP forbids");
		return -EINVAL;
	}
	ep->prefix = malloc((size_t)n);
	if (!ep->prefix)
		return -ENOMEM;
	memcpy(ep->prefix, buf, (size_t)n);
	ep->prefix_len = n;
	{
		struct in6_addr a6;
		struct in_addr a4;

		ep->numeric = inet_pton(AF_INET, e->host, &a4) == 1 || inet_pton(AF_INET6, e->host, &a6) == 1;
	}
	if (ep_resolve(p, ep, &what))
		log_warn("endpoint %s: %s; will retry on every connect", ep->url, what);
	return 0;
}

int conn_pool_init(struct conn_pool *p, struct uring *u, const struct cfg *c,
		   struct stats_page *stats, uint32_t slots)
{
	uint32_t n_ep = 0;
	int err = -ENOMEM;
	size_t max_prefix = 0;

	memset(p, 0, sizeof(*p));
	p->u = u;
	p->free = CONN_NONE;
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++)
		if (c->exporters[e].active)
			n_ep += (uint32_t)c->exporters[e].n_endpoints;
	if (slots == 0 || slots > URING_MAX_SLOTS)
		return -EINVAL;
	p->ep = calloc(n_ep ? n_ep : 1, sizeof(*p->ep));
	if (!p->ep)
		goto fail;
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		const struct cfg_exporter *x = &c->exporters[e];
		double tmo = x->request_timeout > 0 ? x->request_timeout : 30;

		if (!x->active)
			continue;
		/* Connecting never needs more than 10 s, nor more than the request may take. */
		if (tmo > 10)
			tmo = 10;
		p->connect_ts[e].tv_sec = (long long)tmo;
		p->connect_ts[e].tv_nsec = (long long)((tmo - (double)(long long)tmo) * 1e9);
		p->ep_base[e] = p->n_ep;
		if (x->n_endpoints > CFG_MAX_ENDPOINTS) {
			log_err("exporter %d (line %d): more than %d endpoints", e, x->line, CFG_MAX_ENDPOINTS);
			err = -EINVAL;
			goto fail;
		}
		for (int i = 0; i < x->n_endpoints; i++) {
			err = ep_init(p, &p->ep[p->n_ep], x, i, &stats->exp[e].endpoint[i]);
			p->n_ep++;
			if (err)
				goto fail;
			if ((size_t)p->ep[p->n_ep - 1].prefix_len > max_prefix)
				max_prefix = (size_t)p->ep[p->n_ep - 1].prefix_len;
		}
	}
	err = -ENOMEM;
	p->hdr_cap = (max_prefix + 32 + 63) & ~(size_t)63;
	p->n = slots;
	p->c = calloc(slots, sizeof(*p->c));
	/* Untouched pages cost nothing: calloc of this size maps lazily. */
	p->rbufs = calloc(slots, CONN_RBUF);
	p->hdrs = calloc(slots, p->hdr_cap);
	if (!p->c || !p->rbufs || !p->hdrs)
		goto fail;
	for (uint32_t i = slots; i-- > 0;) {
		struct conn *cn = &p->c[i];

		cn->fd = -1;
		cn->owner = CONN_NONE;
		cn->rbuf = p->rbufs + (size_t)i * CONN_RBUF;
		cn->hdr = p->hdrs + (size_t)i * p->hdr_cap;
		cn->next = p->free;
		cn->prev = CONN_NONE;
		p->free = i;
	}
	return 0;
fail:
	conn_pool_fini(p);
	return err;
}

void conn_pool_fini(struct conn_pool *p)
{
	for (uint32_t i = 0; p->c && i < p->n; i++)
		if (p->c[i].fd >= 0)
			close(p->c[i].fd);
	for (uint32_t i = 0; p->ep && i < p->n_ep; i++)
		free(p->ep[i].prefix);
	free(p->ep);
	free(p->c);
	free(p->rbufs);
	free(p->hdrs);
	memset(p, 0, sizeof(*p));
}

/* --- lists --------------------------------------------------------------- */

static void idle_push(struct conn_pool *p, struct conn *c)
{
	struct conn_endpoint *ep = &p->ep[c->ep];
	uint32_t s = slot_of(p, c);

	c->prev = CONN_NONE;
	c->next = ep->idle;
	if (ep->idle != CONN_NONE)
		p->c[ep->idle].prev = s;
	ep->idle = s;
	c->state = CONN_IDLE;
}

static void idle_remove(struct conn_pool *p, struct conn *c)
{
	struct conn_endpoint *ep = &p->ep[c->ep];

	if (c->prev != CONN_NONE)
		p->c[c->prev].next = c->next;
	else
		ep->idle = c->next;
	if (c->next != CONN_NONE)
		p->c[c->next].prev = c->prev;
	c->next = c->prev = CONN_NONE;
}

/* --- ops ----------------------------------------------------------------- */

static void arm_recv(struct conn_pool *p, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->flags & CONN_F_RECV_ARMED)
		return;
	CONN_BUG_ON(c->rlen >= CONN_RBUF, slot_of(p, c));
	sqe = uring_get_sqe(p->u);
	io_uring_prep_recv(sqe, c->fd, c->rbuf + c->rlen, CONN_RBUF - c->rlen, 0);
	io_uring_sqe_set_data64(sqe, uring_tag(URING_OP_RECV, slot_of(p, c), c->gen));
	c->flags |= CONN_F_RECV_ARMED;
	c->nops++;
}

/* Queue the rest of the request: the head and the body from the ring in
 * one sendmsg; after a short send, the iovec is advanced past what went. */
static void arm_send(struct conn_pool *p, struct conn *c)
{
	struct io_uring_sqe *sqe;
	uint64_t off = c->sent;
	int n = 0;

	if (off < c->hdr_len) {
		c->iov[n].iov_base = c->hdr + off;
		c->iov[n].iov_len = c->hdr_len - off;
		n++;
		off = 0;
	} else {
		off -= c->hdr_len;
	}
	if (c->body_len > off) {
		c->iov[n].iov_base = (char *)c->body + off;
		c->iov[n].iov_len = c->body_len - off;
		n++;
	}
	memset(&c->msg, 0, sizeof(c->msg));
	c->msg.msg_iov = c->iov;
	c->msg.msg_iovlen = (size_t)n;
	sqe = uring_get_sqe(p->u);
	io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, uring_tag(URING_OP_SEND, slot_of(p, c), c->gen));
	c->flags |= CONN_F_SENDING;
	c->nops++;
}

static void maybe_free(struct conn_pool *p, struct conn *c)
{
	if (c->state != CONN_CLOSING || c->nops)
		return;
	if (c->fd >= 0)
		close(c->fd); /* a socket without SO_LINGER: never blocks */
	c->fd = -1;
	c->gen++;
	c->state = CONN_FREE;
	c->flags = 0;
	c->owner = CONN_NONE;
	c->rlen = 0;
	c->prev = CONN_NONE;
	c->next = p->free;
	p->free = slot_of(p, c);
	if (p->on_slot_free)
		p->on_slot_free(p->ctx);
}

static void conn_close(struct conn_pool *p, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state == CONN_CLOSING || c->state == CONN_FREE)
		return;
	if (c->state == CONN_IDLE)
		idle_remove(p, c);
	p->ep[c->ep].n_open--;
	c->state = CONN_CLOSING;
	c->owner = CONN_NONE;
	if (c->nops) {
		sqe = uring_get_sqe(p->u);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, uring_tag(URING_OP_CANCEL, slot_of(p, c), c->gen));
		c->nops++;
	}
	maybe_free(p, c);
}

/* Report to the owner and forget it; the caller has put the connection in
 * its next state first, because the owner may start its next request. */
static void deliver(struct conn_pool *p, uint32_t owner, struct conn_result *r)
{
	if (owner == CONN_NONE || !p->on_done)
		return;
	p->on_done(p->ctx, owner, r);
}

static void fail(struct conn_pool *p, struct conn *c, int err, const char *what)
{
	struct conn_result r = { .err = err, .retry_after_s = -1, .what = what };
	uint32_t owner = c->owner;

	/* A kept-alive connection the server dropped just before we used it:
	 * nothing of the request was answered, so resending is safe at once. */
	r.stale = (c->flags & CONN_F_REUSED) && !(c->flags & CONN_F_GOT_BYTES) &&
		  (err == -ECONNRESET || err == -EPIPE || err == -ECONNABORTED);
	conn_close(p, c);
	deliver(p, owner, &r);
}

static void start_request(struct conn_pool *p, struct conn *c)
{
	c->state = CONN_BUSY;
	c->flags &= (uint16_t)(CONN_F_REUSED | CONN_F_RECV_ARMED);
	c->hdr_len = (uint32_t)http1_request_finish(c->hdr, (size_t)p->ep[c->ep].prefix_len,
						    c->body_len);
	c->sent = 0;
	c->rlen = 0;
	c->last_len = 0;
	c->status = 0;
	c->body_read = 0;
	c->keep_len = 0;
	memset(&c->chunk, 0, sizeof(c->chunk));
	arm_recv(p, c);
	arm_send(p, c);
}

/* The request is answered and sent: reuse or close, then tell the owner. */
static void finish(struct conn_pool *p, struct conn *c)
{
	struct conn_result r = { .err = 0, .status = c->status, .retry_after_s = c->meta.retry_after_s };
	uint32_t owner = c->owner;

	memcpy(p->result_body, c->keep, c->keep_len);
	r.body = p->result_body;
	r.body_len = c->keep_len;
	c->owner = CONN_NONE;
	if (c->meta.keep_alive && !(c->flags & CONN_F_NO_REUSE)) {
		c->flags &= (uint16_t)CONN_F_RECV_ARMED;
		c->rlen = 0;
		idle_push(p, c);
		arm_recv(p, c);
	} else {
		log_debug("endpoint %s: closing the connection after HTTP %d (%s)", p->ep[c->ep].url,
			  c->status, c->meta.keep_alive ? "unusable" : "not keep-alive");
		conn_close(p, c);
	}
	deliver(p, owner, &r);
}

static void response_done(struct conn_pool *p, struct conn *c)
{
	c->flags |= CONN_F_RESP_DONE;
	/* A server may answer before it read the whole body (413, early
	 * errors): wait for the send to end, and do not reuse the connection. */
	if (!(c->flags & CONN_F_SEND_DONE)) {
		c->flags |= CONN_F_NO_REUSE;
		return;
	}
	finish(p, c);
}

static void keep_body(struct conn *c, const char *b, size_t n)
{
	size_t room = CONN_BODY_KEEP - c->keep_len;

	if (n > room)
		n = room;
	memcpy(c->keep + c->keep_len, b, n);
	c->keep_len = (uint16_t)(c->keep_len + n);
}

/* Feed what is in rbuf to the response state machine.  Returns true while
 * more bytes are wanted. */
static bool on_response_bytes(struct conn_pool *p, struct conn *c)
{
	for (;;) {
		if (!(c->flags & CONN_F_HEAD_DONE)) {
			struct http1_header h[HTTP1_MAX_HEADERS];
			size_t nh = HTTP1_MAX_HEADERS, msg_len;
			const char *msg;
			int minor, status, ret;

			ret = http1_parse_response(c->rbuf, c->rlen, &minor, &status, &msg, &msg_len, h, &nh,
						   c->last_len);
			if (ret == HTTP1_ERR_PARTIAL) {
				if (c->rlen >= CONN_RBUF) {
					fail(p, c, -EMSGSIZE, "response head larger than 8 KiB");
					return false;
				}
				c->last_len = c->rlen;
				return true;
			}
			if (ret < 0) {
				fail(p, c, -EPROTO, "malformed response head");
				return false;
			}
			if (status < 100 || status > 599 || status == 101) {
				fail(p, c, -EPROTO, "unexpected status code in response");
				return false;
			}
			if (http1_response_meta(minor, status, h, nh, time(NULL), &c->meta) < 0) {
				fail(p, c, -EPROTO, "malformed response framing (Content-Length)");
				return false;
			}
			c->rlen -= (uint32_t)ret;
			memmove(c->rbuf, c->rbuf + ret, c->rlen);
			c->last_len = 0;
			if (status < 200)
				continue; /* interim response: the final one follows */
			c->status = status;
			c->flags |= CONN_F_HEAD_DONE;
		}
		switch (c->meta.body) {
		case HTTP1_BODY_NONE:
			if (c->rlen)
				c->flags |= CONN_F_NO_REUSE; /* bytes nobody asked for */
			c->rlen = 0;
			response_done(p, c);
			return false;
		case HTTP1_BODY_LENGTH: {
			uint64_t want = c->meta.content_length - c->body_read;
			size_t take = c->rlen < want ? c->rlen : (size_t)want;

			keep_body(c, c->rbuf, take);
			c->body_read += take;
			if (c->rlen > take)
				c->flags |= CONN_F_NO_REUSE;
			c->rlen = 0;
			if (c->body_read == c->meta.content_length) {
				response_done(p, c);
				return false;
			}
			break;
		}
		case HTTP1_BODY_CHUNKED: {
			size_t n = c->rlen;
			ssize_t left = http1_decode_chunked(&c->chunk, c->rbuf, &n);

			keep_body(c, c->rbuf, n);
			c->body_read += n;
			c->rlen = 0;
			if (left == HTTP1_ERR_BAD) {
				/* The status is known; only the connection is unusable. */
				log_limited(&p->ep[c->ep].lim, LOG_LVL_WARN,
					    "endpoint %s: malformed chunked response body after status %d; closing the connection",
					    p->ep[c->ep].url, c->status);
				c->flags |= CONN_F_NO_REUSE;
				response_done(p, c);
				return false;
			}
			if (left >= 0) {
				if (left > 0)
					c->flags |= CONN_F_NO_REUSE;
				response_done(p, c);
				return false;
			}
			break;
		}
		case HTTP1_BODY_EOF:
			keep_body(c, c->rbuf, c->rlen);
			c->body_read += c->rlen;
			c->rlen = 0;
			break;
		}
		if (c->body_read > CONN_BODY_MAX) {
			/* Not worth reading: the status decides, the connection goes. */
			c->flags |= CONN_F_NO_REUSE;
			response_done(p, c);
			return false;
		}
		return true;
	}
}

static const char *errno_what(int err)
{
	switch (err) {
	case -ECONNREFUSED: return "connection refused";
	case -ECONNRESET: return "connection reset by peer";
	case -EPIPE: return "connection closed by peer while sending";
	case -ETIMEDOUT: return "connection timed out";
	case -ECANCELED: return "connect timed out";
	case -ENETUNREACH: return "network unreachable";
	case -EHOSTUNREACH: return "host unreachable";
	case -EADDRNOTAVAIL: return "no local address/port available";
	default: return "network error";
	}
}

static void on_connect(struct conn_pool *p, struct conn *c, int res)
{
	struct conn_endpoint *ep = &p->ep[c->ep];

	if (c->state != CONN_CONNECTING)
		return;
	if (res < 0) {
		/* Next time, the next address (a name may have several). */
		if (ep->n_addr)
			ep->addr_next = (ep->addr_next + 1) % ep->n_addr;
		fail(p, c, res == -ECANCELED ? -ETIMEDOUT : res, errno_what(res));
		return;
	}
	stat_add(&ep->st->connects, 1);
	start_request(p, c);
}

static void on_send(struct conn_pool *p, struct conn *c, int res)
{
	c->flags &= (uint16_t)~CONN_F_SENDING;
	if (c->state != CONN_BUSY)
		return;
	if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS) {
		arm_send(p, c);
		return;
	}
	if (res <= 0) {
		if (c->flags & CONN_F_RESP_DONE) {
			finish(p, c); /* answered before it read everything */
			return;
		}
		fail(p, c, res == 0 ? -EPIPE : res, errno_what(res == 0 ? -EPIPE : res));
		return;
	}
	c->sent += (uint64_t)res;
	if (c->sent < (uint64_t)c->hdr_len + c->body_len) {
		arm_send(p, c);
		return;
	}
	c->flags |= CONN_F_SEND_DONE;
	if (c->flags & CONN_F_RESP_DONE)
		finish(p, c);
}

static void on_recv(struct conn_pool *p, struct conn *c, int res)
{
	c->flags &= (uint16_t)~CONN_F_RECV_ARMED;
	if (c->state == CONN_CLOSING)
		return;
	if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS) {
		arm_recv(p, c);
		return;
	}
	if (c->state == CONN_IDLE) {
		/* The server closed (or spoke out of turn on) an idle connection. */
		log_debug("endpoint %s: idle connection %s", p->ep[c->ep].url,
			  res > 0 ? "got unexpected bytes" : res == 0 ? "closed by the server" : "failed");
		conn_close(p, c);
		return;
	}
	if (c->state != CONN_BUSY)
		return;
	if (c->flags & CONN_F_RESP_DONE) {
		/* Waiting for the send to end; anything more is noise. */
		if (res > 0)
			arm_recv(p, c);
		return;
	}
	if (res < 0) {
		fail(p, c, res, errno_what(res));
		return;
	}
	if (res == 0) {
		if ((c->flags & CONN_F_HEAD_DONE) && c->meta.body == HTTP1_BODY_EOF) {
			c->flags |= CONN_F_NO_REUSE;
			response_done(p, c);
			return;
		}
		fail(p, c, -ECONNABORTED,
		     (c->flags & CONN_F_GOT_BYTES) ? "connection closed in the middle of the response"
						   : "connection closed before a response");
		return;
	}
	c->flags |= CONN_F_GOT_BYTES;
	c->rlen += (uint32_t)res;
	if (on_response_bytes(p, c) && c->state == CONN_BUSY)
		arm_recv(p, c);
}

void conn_handle(struct conn_pool *p, const struct io_uring_cqe *cqe)
{
	uint32_t slot = cqe_slot(cqe);
	struct conn *c;

	CONN_BUG_ON(slot >= p->n, slot);
	c = &p->c[slot];
	CONN_BUG_ON(cqe_gen(cqe) != c->gen, slot);
	CONN_BUG_ON(c->nops == 0, slot);
	c->nops--;
	switch (cqe_op(cqe)) {
	case URING_OP_CONNECT:
		on_connect(p, c, cqe->res);
		break;
	case URING_OP_CONNECT_TMO:
		break;
	case URING_OP_SEND:
		on_send(p, c, cqe->res);
		break;
	case URING_OP_RECV:
		on_recv(p, c, cqe->res);
		break;
	case URING_OP_CANCEL:
		/* -ENOENT: nothing left to cancel; -EINVAL: a kernel without
		 * cancel-by-fd, so wake the socket ops the old way. */
		if (cqe->res == -EINVAL && c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
		break;
	default:
		bug("unknown op in user_data", slot);
	}
	maybe_free(p, c);
}

/* --- requests ------------------------------------------------------------ */

static uint32_t take_free(struct conn_pool *p)
{
	uint32_t s = p->free;

	if (s != CONN_NONE) {
		p->free = p->c[s].next;
		p->c[s].next = CONN_NONE;
	}
	return s;
}

/* Close the least recently used idle connection of the endpoint with the
 * most idle ones, to make a slot for another endpoint. */
static void evict_idle(struct conn_pool *p)
{
	uint32_t best = CONN_NONE, best_n = 0;

	for (uint32_t e = 0; e < p->n_ep; e++) {
		uint32_t n = 0, last = CONN_NONE;

		for (uint32_t s = p->ep[e].idle; s != CONN_NONE; s = p->c[s].next) {
			n++;
			last = s;
		}
		if (n > best_n) {
			best_n = n;
			best = last;
		}
	}
	if (best != CONN_NONE)
		conn_close(p, &p->c[best]);
}

int conn_request(struct conn_pool *p, uint32_t ep_id, uint32_t owner, const void *body,
		 uint32_t len, int64_t now_ns, const char **what)
{
	struct conn_endpoint *ep = &p->ep[ep_id];
	struct io_uring_sqe *sqe;
	struct conn *c;
	uint32_t s;
	int fd, one = 1, err;
	const struct sockaddr_storage *sa;

	*what = NULL;
	if (ep->idle != CONN_NONE) {
		s = ep->idle;
		c = &p->c[s];
		idle_remove(p, c);
		c->owner = owner;
		c->body = body;
		c->body_len = len;
		c->flags |= CONN_F_REUSED;
		start_request(p, c);
		return (int)s;
	}
	s = take_free(p);
	if (s == CONN_NONE) {
		evict_idle(p);
		return -EAGAIN;
	}
	c = &p->c[s];
	if (!ep->numeric && now_ns - ep->resolved_ns >= CONN_RESOLVE_EVERY_NS) {
		err = ep_resolve(p, ep, what);
		if (err)
			goto fail_slot;
	}
	if (ep->n_addr == 0) {
		*what = "host has no address";
		err = -EHOSTUNREACH;
		goto fail_slot;
	}
	sa = &ep->addr[ep->addr_next];
	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd == -1) {
		err = -errno;
		*what = err == -EMFILE || err == -ENFILE ? "out of file descriptors" : "cannot create a socket";
		goto fail_slot;
	}
	/* Head and body leave in one sendmsg; never wait for an ACK to send the tail. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->ep = ep_id;
	c->owner = owner;
	c->body = body;
	c->body_len = len;
	c->flags = 0;
	c->nops = 0;
	c->rlen = 0;
	c->state = CONN_CONNECTING;
	memcpy(c->hdr, ep->prefix, (size_t)ep->prefix_len);
	ep->n_open++;
	uring_reserve(p->u, 2);
	sqe = uring_get_sqe(p->u);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)sa, ep->addr_len[ep->addr_next]);
	io_uring_sqe_set_data64(sqe, uring_tag(URING_OP_CONNECT, s, c->gen));
	sqe->flags |= IOSQE_IO_LINK;
	c->nops++;
	sqe = uring_get_sqe(p->u);
	io_uring_prep_link_timeout(sqe, &p->connect_ts[ep->exporter], 0);
	io_uring_sqe_set_data64(sqe, uring_tag(URING_OP_CONNECT_TMO, s, c->gen));
	c->nops++;
	return (int)s;
fail_slot:
	c->next = p->free;
	p->free = s;
	return err;
}

void conn_abort(struct conn_pool *p, uint32_t slot)
{
	struct conn *c = &p->c[slot];

	if (c->state == CONN_BUSY || c->state == CONN_CONNECTING) {
		c->owner = CONN_NONE;
		conn_close(p, c);
	}
}

void conn_close_idle(struct conn_pool *p)
{
	for (uint32_t e = 0; e < p->n_ep; e++)
		while (p->ep[e].idle != CONN_NONE)
			conn_close(p, &p->c[p->ep[e].idle]);
}
