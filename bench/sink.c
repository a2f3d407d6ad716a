/* SPDX-License-Identifier: MIT */
/* bench/sink.c: a remote-write 1.0 sink that only counts, for bench/compare.
 *
 * One epoll thread; HTTP/1.1 keep-alive with Content-Length bodies (pipelining
 * allowed); every body is snappy-decompressed and its WriteRequest walked without
 * allocation to count series and samples; the answer is 204.  Nothing is stored.
 *
 *   sink [-l 127.0.0.1:PORT] [-P PORTFILE] [-r RECORDFILE -R MAXBYTES] [-n]
 *
 * Every 20 ms in which something arrived it prints one line to stdout:
 *   t_ns=<CLOCK_REALTIME of the last answered request> requests=N series=N samples=N bytes=N bad=N
 * With -r, the first MAXBYTES of requests are written to RECORDFILE as complete HTTP
 * requests, so they can be replayed against the sink alone (bench/compare sink-alone).
 * SIGTERM/SIGINT: print the final line and exit 0.
 *
 * -n (null sink, for limit measurements only): bodies are received whole and
 * their snappy header checked, but not decompressed or walked, so series and
 * samples stay 0; the caller must take the sample count from the agent.  It
 * shows what the agent does when the receiver's decoding is not on its cores.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "tools/pbwalk.h"

struct conn {
	int fd;
	char *buf;
	size_t start, len, cap; /* unconsumed bytes are buf[start, len) */
};

static uint64_t n_req, n_series, n_samples, n_bytes, n_bad, last_ns, printed_req = UINT64_MAX;
static char *raw;
static size_t raw_cap;
static FILE *rec;
static uint64_t rec_left;
static volatile sig_atomic_t stop;
static bool null_sink;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void handle_body(const char *body, size_t blen)
{
	size_t rl;
	uint64_t se = 0, sa = 0;
	if (snappy_uncompressed_length(body, blen, &rl) != SNAPPY_OK) { n_bad++; return; }
	if (null_sink) {
		n_req++;
		n_bytes += blen;
		return;
	}
	if (rl > raw_cap) {
		raw_cap = rl * 2;
		raw = realloc(raw, raw_cap);
		if (!raw) abort();
	}
	if (snappy_uncompress(body, blen, raw, &rl) != SNAPPY_OK ||
	    !pbw_count_write_request((const uint8_t *)raw, (const uint8_t *)raw + rl, &se, &sa)) {
		n_bad++;
		return;
	}
	n_req++;
	n_series += se;
	n_samples += sa;
	n_bytes += blen;
}

static const char RESP[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

/* Consume complete requests from c->buf; answer each. Returns -1 to close. */
static int serve(struct conn *c)
{
	size_t off = c->start;
	char out[sizeof(RESP) * 64];
	size_t olen = 0;
	while (1) {
		char *h = c->buf + off;
		size_t avail = c->len - off;
		char *eoh = memmem(h, avail, "\r\n\r\n", 4);
		if (!eoh) break;
		size_t hlen = (size_t)(eoh - h) + 4, clen = 0;
		for (char *l = memchr(h, '\n', hlen); l && l < eoh; l = memchr(l + 1, '\n', (size_t)(eoh - l))) {
			if (strncasecmp(l + 1, "content-length:", 15) == 0) clen = strtoull(l + 16, NULL, 10);
		}
		if (avail < hlen + clen) break;
		if (rec && rec_left >= hlen + clen) {
			fwrite(h, 1, hlen + clen, rec);
			rec_left -= hlen + clen;
		}
		handle_body(h + hlen, clen);
		off += hlen + clen;
		memcpy(out + olen, RESP, sizeof(RESP) - 1);
		olen += sizeof(RESP) - 1;
		if (olen + sizeof(RESP) > sizeof(out)) {
			if (write(c->fd, out, olen) != (ssize_t)olen) return -1;
			olen = 0;
		}
	}
	if (olen) {
		last_ns = now_ns();
		if (write(c->fd, out, olen) != (ssize_t)olen) return -1;
	}
	c->start = off;
	if (c->start == c->len) {
		c->start = c->len = 0;
	} else if (c->start > c->cap / 2) { /* compact rarely: only the partial tail moves */
		memmove(c->buf, c->buf + c->start, c->len - c->start);
		c->len -= c->start;
		c->start = 0;
	}
	return 0;
}

static void report(void)
{
	if (n_req + n_bad == printed_req) return;
	printed_req = n_req + n_bad;
	printf("t_ns=%" PRIu64 " requests=%" PRIu64 " series=%" PRIu64 " samples=%" PRIu64 " bytes=%" PRIu64
	       " bad=%" PRIu64 "\n", last_ns, n_req, n_series, n_samples, n_bytes, n_bad);
	fflush(stdout);
}

static void on_sig(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
	const char *listen_addr = "127.0.0.1:0", *portfile = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "l:P:r:R:n")) != -1) {
		switch (opt) {
		case 'l': listen_addr = optarg; break;
		case 'P': portfile = optarg; break;
		case 'r': rec = fopen(optarg, "w"); if (!rec) { perror(optarg); return 1; } break;
		case 'R': rec_left = strtoull(optarg, NULL, 10); break;
		case 'n': null_sink = true; break;
		default: fprintf(stderr, "usage: sink [-l HOST:PORT] [-P PORTFILE] [-r FILE -R BYTES] [-n]\n"); return 100;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	char host[64];
	const char *colon = strrchr(listen_addr, ':');
	if (!colon || (size_t)(colon - listen_addr) >= sizeof(host)) return 100;
	memcpy(host, listen_addr, (size_t)(colon - listen_addr));
	host[colon - listen_addr] = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) return 100;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 1024)) { perror("listen"); return 111; }
	socklen_t sl = sizeof(sin);
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	if (portfile) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		FILE *f = fopen(tmp, "w");
		if (!f) return 1;
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
		rename(tmp, portfile);
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec it = { .it_interval = { 0, 20000000 }, .it_value = { 0, 20000000 } };
	timerfd_settime(tfd, 0, &it, NULL);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);

	struct epoll_event evs[64];
	while (!stop) {
		int n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lfd) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct conn *c = calloc(1, sizeof(*c));
					c->fd = fd;
					c->cap = 1 << 20;
					c->buf = malloc(c->cap);
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
			} else if (evs[i].data.ptr == &tfd) {
				uint64_t x;
				if (read(tfd, &x, sizeof(x)) < 0) { /* nothing */ }
				report();
			} else {
				struct conn *c = evs[i].data.ptr;
				bool closeit = false;
				for (;;) {
					if (c->cap - c->len < 65536 && c->start > 0) {
						memmove(c->buf, c->buf + c->start, c->len - c->start);
						c->len -= c->start;
						c->start = 0;
					}
					if (c->cap - c->len < 65536) {
						c->cap *= 2;
						c->buf = realloc(c->buf, c->cap);
						if (!c->buf) abort();
					}
					ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
					if (r > 0) {
						c->len += (size_t)r;
						if (serve(c)) { closeit = true; break; }
						continue;
					}
					if (r == 0 || (errno != EAGAIN && errno != EINTR)) closeit = true;
					break;
				}
				if (closeit) {
					close(c->fd);
					free(c->buf);
					free(c);
				}
			}
		}
	}
	printed_req = UINT64_MAX;
	report();
	if (rec) fclose(rec);
	return 0;
}
