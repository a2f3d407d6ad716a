/* SPDX-License-Identifier: MIT */
/* stats_http.c: serve GET /metrics from the supervisor's event loop. */
#include "supervisor/stats_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor/metrics.h"

int stats_http_split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		n = (size_t)(rb - s - 1);
		if (n == 0 || n >= hlen)
			return -EINVAL;
		memcpy(host, s + 1, n);
		host[n] = 0;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - s);
		if (n >= hlen)
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = 0;
	}
	if (!colon[1] || strlen(colon + 1) >= plen)
		return -EINVAL;
	strcpy(port, colon + 1);
	return 0;
}

int stats_http_open(struct stats_http *h, const char *listen_addr, int epfd, const struct shm *shm,
		    const struct cfg *cfg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256], port[16];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, err, fd;

	memset(h, 0, sizeof(*h));
	h->lfd = -1;
	h->epfd = epfd;
	h->shm = shm;
	h->cfg = cfg;
	for (int i = 0; i < STATS_HTTP_MAX_CONNS; i++)
		h->conns[i].fd = -1;
	if (!listen_addr || !*listen_addr)
		return 0;
	if (stats_http_split_hostport(listen_addr, host, sizeof(host), port, sizeof(port))) {
		log_err("stats-listen \"%s\": expected host:port", listen_addr);
		return -EINVAL;
	}
	err = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (err) {
		log_err("stats-listen \"%s\": %s", listen_addr, gai_strerror(err));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		err = -errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, 64) == -1) {
		err = -errno;
		close(fd);
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STATS_HTTP_TAG_LISTEN };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		err = -errno;
		close(fd);
		goto fail;
	}
	h->lfd = fd;
	freeaddrinfo(ai);
	log_info("serving /metrics on %s (port %u)", listen_addr, h->port);
	return 0;
fail:
	log_err("stats-listen \"%s\": %s", listen_addr, strerror(-err));
	freeaddrinfo(ai);
	return err;
}

static void conn_close(struct stats_http *h, struct stats_http_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
}

/* <head>: a HEAD request gets the headers GET would, without the body. */
static void conn_respond(struct stats_http *h, struct stats_http_conn *c, int status, const char *reason,
			 const char *ctype, const char *body, size_t blen, bool head_only)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, reason, ctype, blen);

	c->out = malloc((size_t)n + blen);
	if (!c->out) {
		conn_close(h, c);
		return;
	}
	memcpy(c->out, head, (size_t)n);
	if (head_only)
		blen = 0;
	memcpy(c->out + n, body, blen);
	c->out_len = (size_t)n + blen;
	c->out_off = 0;
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = STATS_HTTP_TAG_CONN + (uint32_t)(c - h->conns) };

	epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The request is complete in c->in: answer it. */
static void conn_request(struct stats_http *h, struct stats_http_conn *c)
{
	static const char not_found[] = "not found: try /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";
	char *body = NULL;
	size_t blen = 0;
	bool head = strncmp(c->in, "HEAD ", 5) == 0;

	if (strncmp(c->in, "GET ", 4) != 0 && !head) {
		conn_respond(h, c, 405, "Method Not Allowed", "text/plain", bad_method, sizeof(bad_method) - 1, false);
		return;
	}
	const char *path = c->in + (head ? 5 : 4);

	/* "/metrics", with or without a query string, or "/". */
	if (strncmp(path, "/metrics ", 9) != 0 && strncmp(path, "/metrics?", 9) != 0 &&
	    strncmp(path, "/ ", 2) != 0) {
		conn_respond(h, c, 404, "Not Found", "text/plain", not_found, sizeof(not_found) - 1, head);
		return;
	}
	if (metrics_render(h->shm, h->cfg, &body, &blen)) {
		conn_respond(h, c, 500, "Internal Server Error", "text/plain", "out of memory\n", 14, head);
		return;
	}
	conn_respond(h, c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, blen, head);
	free(body);
}

static void conn_accept(struct stats_http *h)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;

		if (fd == -1)
			return;
		for (int i = 0; i < STATS_HTTP_MAX_CONNS; i++)
			if (h->conns[i].fd < 0) {
				slot = i;
				break;
			}
		if (slot < 0) {
			/* Every slot busy: a scraper retries, and the supervisor
			 * must not grow without bound. */
			close(fd);
			continue;
		}
		struct stats_http_conn *c = &h->conns[slot];
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STATS_HTTP_TAG_CONN + (uint32_t)slot };

		c->fd = fd;
		c->in_len = 0;
		c->deadline_ms = clock_mono_ms() + STATS_HTTP_TIMEOUT_MS;
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			conn_close(h, c);
	}
}

void stats_http_event(struct stats_http *h, uint32_t tag, uint32_t events)
{
	struct stats_http_conn *c;

	if (tag == STATS_HTTP_TAG_LISTEN) {
		conn_accept(h);
		return;
	}
	if (tag < STATS_HTTP_TAG_CONN || tag >= STATS_HTTP_TAG_CONN + STATS_HTTP_MAX_CONNS)
		return;
	c = &h->conns[tag - STATS_HTTP_TAG_CONN];
	if (c->fd < 0)
		return;
	if (c->out) {
		while (c->out_off < c->out_len) {
			ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

			if (n > 0) {
				c->out_off += (size_t)n;
				continue;
			}
			if (n == -1 && errno == EAGAIN)
				return;
			break;
		}
		conn_close(h, c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_close(h, c);
		return;
	}
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);

		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			conn_close(h, c);
			return;
		}
		if (n == -1)
			return;
		c->in_len += (size_t)n;
		c->in[c->in_len] = 0;
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n")) {
			conn_request(h, c);
			if (c->out)
				stats_http_event(h, tag, EPOLLOUT); /* most answers fit at once */
			return;
		}
		if (c->in_len >= sizeof(c->in) - 1) {
			conn_respond(h, c, 431, "Request Header Fields Too Large", "text/plain", "too large\n", 10, false);
			return;
		}
	}
}

int stats_http_expire(struct stats_http *h, int64_t now_ms)
{
	int64_t next = -1;

	for (int i = 0; i < STATS_HTTP_MAX_CONNS; i++) {
		struct stats_http_conn *c = &h->conns[i];

		if (c->fd < 0)
			continue;
		if (now_ms >= c->deadline_ms) {
			conn_close(h, c);
			continue;
		}
		if (next < 0 || c->deadline_ms - now_ms < next)
			next = c->deadline_ms - now_ms;
	}
	return (int)next;
}

void stats_http_close(struct stats_http *h)
{
	for (int i = 0; i < STATS_HTTP_MAX_CONNS; i++)
		if (h->conns[i].fd >= 0)
			conn_close(h, &h->conns[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	h->lfd = -1;
}
