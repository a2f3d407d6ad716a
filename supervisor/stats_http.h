/* SPDX-License-Identifier: MIT */
/* stats_http.h: the supervisor's /metrics endpoint (tiny HTTP/1.0-style server). */
#ifndef FLOWRW_STATS_HTTP_H
#define FLOWRW_STATS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shm;
struct cfg;

/* Enough for a few scrapers and `flowrw status`; more wait in the backlog. */
#define STATS_HTTP_MAX_CONNS 16
#define STATS_HTTP_REQ_MAX   4096
#define STATS_HTTP_TIMEOUT_MS 5000

/* epoll tags: the listener, and one per connection slot. */
#define STATS_HTTP_TAG_LISTEN 0x100U
#define STATS_HTTP_TAG_CONN   0x200U /* + slot */

struct stats_http_conn {
	int fd;                  /* -1: free slot */
	int64_t deadline_ms;     /* CLOCK_MONOTONIC: a stuck client is closed */
	size_t in_len;
	char in[STATS_HTTP_REQ_MAX];
	char *out;               /* response, malloc'd once the request is read */
	size_t out_len, out_off;
};

struct stats_http {
	int lfd;                 /* -1 when disabled */
	int epfd;
	const struct shm *shm;
	const struct cfg *cfg;
	uint16_t port;           /* the bound port (listen "...:0" picks one) */
	struct stats_http_conn conns[STATS_HTTP_MAX_CONNS];
};

/*
 * Listen on <listen> ("host:port", "[v6]:port"; "" disables: returns 0 with
 * lfd -1) and register with <epfd>.  Returns 0 or a negative errno (logged
 * with the address).
 */
int stats_http_open(struct stats_http *h, const char *listen, int epfd, const struct shm *shm,
		    const struct cfg *cfg);

/* An epoll event whose tag is STATS_HTTP_TAG_LISTEN or _CONN + slot. */
void stats_http_event(struct stats_http *h, uint32_t tag, uint32_t events);

/* Close connections past their deadline; returns ms until the next one (or -1). */
int stats_http_expire(struct stats_http *h, int64_t now_ms);

void stats_http_close(struct stats_http *h);

/* Split "host:port" / "[v6]:port" into <host> and <port>.  0 or -EINVAL. */
int stats_http_split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen);

#endif
