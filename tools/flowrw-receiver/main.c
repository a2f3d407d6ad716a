/* SPDX-License-Identifier: MIT */
/* main.c: flowrw-receiver, a demo remote-write receiver (prints, counts, dumps or checks what arrives). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "tools/flowrw-receiver/http.h"
#include "tools/flowrw-receiver/wire.h"

#define RCV_EXIT_USAGE      100
#define RCV_EXIT_TRANSIENT  111
#define RCV_OUT_CAP         4096
#define RCV_LINGER_MS       2000 /* after a final answer, drain input this long at most */
#define RCV_READS_PER_EVENT 16   /* fairness between connections */

struct conn {
	int fd;
	size_t idx;              /* position in rcv.conns */
	struct rhttp_req req;
	char out[RCV_OUT_CAP];
	size_t out_len, out_off;
	bool want_out;           /* EPOLLOUT armed */
	bool continue_sent;
	bool closing;            /* no more requests: flush, then shut down writing */
	bool lingering;          /* writing shut; discard input until EOF or the deadline */
	bool dead;               /* closed; freed after the current epoll batch */
	int64_t linger_until;
	struct conn *next_dead;
	char peer[64];
};

static struct {
	const char *listen;
	const char *path;
	const char *dump_path;
	const char *port_file;
	size_t max_body;
	bool count, check, quiet;
	int ep, lfd, sfd, tfd;
	bool accept_paused;
	struct conn **conns;
	size_t n_conns, cap_conns;
	struct conn *graveyard;  /* closed in this epoll batch, freed after it */
	struct rwire w;
	struct rwire_totals last; /* for --count rates */
	int64_t start_ms;
} rcv;

/* Tags for the epoll data of the non-connection fds. */
static char rcv_tag_listen, rcv_tag_signal, rcv_tag_timer;

static int64_t rcv_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rcv_usage(FILE *f)
{
	fprintf(f,
		"usage: flowrw-receiver [options]\n"
		"A Prometheus remote-write 1.0 receiver for demos and tests.\n"
		"  -l, --listen HOST:PORT  address to listen on (default 127.0.0.1:1234; port 0 = any free port)\n"
		"  -p, --path PATH         URL path that accepts writes (default /receive)\n"
		"  -c, --count             print totals per second instead of series, and a final total\n"
		"  -k, --check             validate every request against the remote-write 1.0 rules\n"
		"  -d, --dump FILE         append one line per sample: series-key TAB timestamp TAB value\n"
		"  -P, --port-file FILE    write the bound port to FILE once listening\n"
		"  -m, --max-body BYTES    largest accepted request body (default 64 MiB)\n"
		"  -q, --quiet             do not print series\n"
		"  -h, --help              this text\n"
		"Exit status: 0 after SIGTERM/SIGINT; 1 with --check when a violation or bad request was seen;\n"
		"100 usage error; 111 cannot listen (e.g. the port is taken).\n");
}

/* --- connections ------------------------------------------------------------ */

static void rcv_conn_close(struct conn *c)
{
	size_t last = rcv.n_conns - 1;

	epoll_ctl(rcv.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	rcv.conns[c->idx] = rcv.conns[last];
	rcv.conns[c->idx]->idx = c->idx;
	rcv.n_conns--;
	rhttp_fini(&c->req);
	/* Later events of this batch may still point at c: free it after the batch. */
	c->dead = true;
	c->next_dead = rcv.graveyard;
	rcv.graveyard = c;
	if (rcv.accept_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &rcv_tag_listen };

		if (epoll_ctl(rcv.ep, EPOLL_CTL_MOD, rcv.lfd, &ev) == 0)
			rcv.accept_paused = false;
	}
}

static void rcv_bury(void)
{
	while (rcv.graveyard) {
		struct conn *c = rcv.graveyard;

		rcv.graveyard = c->next_dead;
		free(c);
	}
}

static int rcv_conns_reserve(void)
{
	size_t ncap;
	struct conn **nc;

	if (rcv.n_conns < rcv.cap_conns)
		return 0;
	ncap = rcv.cap_conns ? rcv.cap_conns * 2 : 64;
	nc = realloc(rcv.conns, ncap * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	rcv.conns = nc;
	rcv.cap_conns = ncap;
	return 0;
}

static void rcv_conn_events(struct conn *c, bool want_out)
{
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == want_out)
		return;
	c->want_out = want_out;
	epoll_ctl(rcv.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send what is queued. Returns false when the connection was closed. */
static bool rcv_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				rcv_conn_events(c, true);
				return true;
			}
			if (errno == EINTR)
				continue;
			rcv_conn_close(c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	rcv_conn_events(c, false);
	if (c->closing && !c->lingering) {
		/* Half-close and read on, so unread request bytes do not turn our answer into a reset. */
		shutdown(c->fd, SHUT_WR);
		c->lingering = true;
		c->linger_until = rcv_mono_ms() + RCV_LINGER_MS;
	}
	return true;
}

static void rcv_queue(struct conn *c, const char *s, size_t n)
{
	if (c->out_off && c->out_len + n > sizeof(c->out)) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n > sizeof(c->out))
		n = sizeof(c->out) - c->out_len; /* cannot happen with the sizes used */
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static const char *rcv_reason(int status)
{
	switch (status) {
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static void rcv_respond(struct conn *c, int status, const char *why, bool close_after)
{
	char head[RCV_OUT_CAP / 2];
	int n;

	if (close_after)
		c->closing = true;
	if (status == 204) {
		n = snprintf(head, sizeof(head), "HTTP/1.1 204 No Content\r\n%s\r\n",
			     close_after ? "Connection: close\r\n" : "");
	} else {
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			     "Content-Length: %zu\r\n%s%s\r\n%.900s\n",
			     status, rcv_reason(status), strlen(why) < 900 ? strlen(why) + 1 : 901,
			     status == 405 ? "Allow: POST\r\n" : "",
			     close_after ? "Connection: close\r\n" : "", why);
	}
	if (n > (int)sizeof(head) - 1)
		n = (int)sizeof(head) - 1;
	rcv_queue(c, head, (size_t)n);
}

static void rcv_log_bad(const struct conn *c, int status, const char *why)
{
	static struct log_limit lim;

	log_limited(&lim, LOG_LVL_WARN, "%s: %d %s: %s", c->peer, status, rcv_reason(status), why);
}

/* Answer every complete request in the buffer. Returns false when the connection is gone. */
static bool rcv_process(struct conn *c)
{
	char why[512];
	const char *pwhy;

	while (!c->closing && c->out_len <= sizeof(c->out) / 2) {
		struct rhttp_req *r = &c->req;
		int rc = rhttp_parse(r, &pwhy);

		if (rc == 0) {
			if (rhttp_head_done(r) && r->expect_continue && !c->continue_sent) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

				c->continue_sent = true;
				rcv_queue(c, cont, sizeof(cont) - 1);
			}
			break;
		}
		if (rc < 0) {
			rcv.w.t.bad_requests++;
			rcv_log_bad(c, -rc, pwhy);
			rcv_respond(c, -rc, pwhy, true);
			break;
		}
		/* a complete request */
		rc = 0;
		if (strcmp(r->path, rcv.path) != 0) {
			snprintf(why, sizeof(why), "no such path %s (writes go to %s)", r->path, rcv.path);
			rc = -404;
		} else if (strcmp(r->method, "POST") != 0) {
			snprintf(why, sizeof(why), "method %s not allowed (use POST)", r->method);
			rc = -405;
		} else {
			rc = rwire_handle(&rcv.w, r, why, sizeof(why));
		}
		if (rc < 0) {
			if (rc == -404 || rc == -405)
				rcv.w.t.bad_requests++; /* rwire_handle counts its own */
			rcv_log_bad(c, -rc, why);
		}
		rcv_respond(c, rc < 0 ? -rc : 204, why, !r->keep_alive);
		rhttp_next(r);
		c->continue_sent = false;
	}
	return rcv_flush(c);
}

static void rcv_conn_read(struct conn *c)
{
	for (int i = 0; i < RCV_READS_PER_EVENT; i++) {
		uint8_t *p, sink[16384];
		size_t room;
		ssize_t n;

		if (c->lingering) {
			p = sink;
			room = sizeof(sink);
		} else {
			p = rhttp_space(&c->req, &room);
			if (!p) {
				rcv.w.t.bad_requests++;
				rcv_log_bad(c, 413, "request too large");
				rcv_respond(c, 413, "request too large", true);
				rcv_flush(c);
				return;
			}
		}
		n = recv(c->fd, p, room, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				rcv_conn_close(c);
			return;
		}
		if (n == 0) {
			rcv_conn_close(c);
			return;
		}
		if (c->lingering)
			continue;
		c->req.len += (size_t)n;
		if (!rcv_process(c))
			return;
		if (c->closing && !c->lingering)
			return; /* waiting for EPOLLOUT to flush the final answer */
	}
}

static void rcv_accept(void)
{
	static struct log_limit lim;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct epoll_event ev;
		struct conn *c;
		char host[NI_MAXHOST], serv[NI_MAXSERV];
		int fd, one = 1;

		fd = accept4(rcv.lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Stop accepting until a connection closes, instead of spinning. */
				struct epoll_event pev = { .events = 0, .data.ptr = &rcv_tag_listen };

				log_limited(&lim, LOG_LVL_WARN, "unable to accept: %s (pausing until a connection closes)",
					    strerror(errno));
				if (rcv.n_conns && epoll_ctl(rcv.ep, EPOLL_CTL_MOD, rcv.lfd, &pev) == 0)
					rcv.accept_paused = true;
			}
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c || rhttp_init(&c->req, rcv.max_body) < 0 || rcv_conns_reserve() < 0) {
			log_limited(&lim, LOG_LVL_WARN, "out of memory for a new connection");
			if (c)
				rhttp_fini(&c->req);
			free(c);
			close(fd);
			return;
		}
		c->fd = fd;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(c->peer, sizeof(c->peer), "%.46s:%.8s", host, serv);
		else
			snprintf(c->peer, sizeof(c->peer), "peer");
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(rcv.ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_limited(&lim, LOG_LVL_WARN, "epoll_ctl: %s", strerror(errno));
			rhttp_fini(&c->req);
			free(c);
			close(fd);
			continue;
		}
		c->idx = rcv.n_conns;
		rcv.conns[rcv.n_conns++] = c;
	}
}

/* --- periodic work ------------------------------------------------------------ */

static void rcv_tick(void)
{
	uint64_t exp;
	int64_t now = rcv_mono_ms();

	if (read(rcv.tfd, &exp, sizeof(exp)) == -1) {
		/* spurious wake-up; nothing to read */
	}
	for (size_t i = 0; i < rcv.n_conns;) {
		struct conn *c = rcv.conns[i];

		if (c->lingering && now >= c->linger_until)
			rcv_conn_close(c); /* conns[i] now holds another connection */
		else
			i++;
	}
	if (rcv.count && rcv.w.t.requests + rcv.w.t.bad_requests > 0) {
		const struct rwire_totals *t = &rcv.w.t;

		printf("rate requests=%" PRIu64 " series=%" PRIu64 " samples=%" PRIu64 " bytes=%" PRIu64
		       " bad_requests=%" PRIu64 "\n",
		       t->requests - rcv.last.requests, t->series - rcv.last.series,
		       t->samples - rcv.last.samples, t->bytes - rcv.last.bytes,
		       t->bad_requests - rcv.last.bad_requests);
		fflush(stdout);
		rcv.last = *t;
	}
}

/* --- setup --------------------------------------------------------------------- */

static int rcv_listen(const char *addr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256], portbuf[16];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *colon, *h = addr;
	size_t hlen;
	int fd = -1, one = 1, rc;

	colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1]) {
		log_err("--listen %s: want HOST:PORT, e.g. 127.0.0.1:1234", addr);
		return -RCV_EXIT_USAGE;
	}
	hlen = (size_t)(colon - addr);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		log_err("--listen %s: host too long", addr);
		return -RCV_EXIT_USAGE;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		log_err("--listen %s: %s", addr, gai_strerror(rc));
		return -RCV_EXIT_USAGE;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_err("unable to create a socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		if (errno == EADDRINUSE)
			log_err("unable to listen on %s: the port is already in use by another program", addr);
		else
			log_err("unable to listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	if (listen(fd, 1024) == -1) {
		log_err("unable to listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), portbuf, sizeof(portbuf),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		log_info("listening on http://%s%s%s:%s%s", ss.ss_family == AF_INET6 ? "[" : "", host,
			 ss.ss_family == AF_INET6 ? "]" : "", portbuf, rcv.path);
		if (rcv.port_file) {
			char tmp[4096];
			FILE *f;

			snprintf(tmp, sizeof(tmp), "%s.tmp", rcv.port_file);
			f = fopen(tmp, "w");
			if (!f || fprintf(f, "%s\n", portbuf) < 0 || fclose(f) != 0 ||
			    rename(tmp, rcv.port_file) == -1) {
				log_err("unable to write %s: %s", rcv.port_file, strerror(errno));
				goto fail;
			}
		}
	}
	freeaddrinfo(res);
	return fd;
fail:
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -RCV_EXIT_TRANSIENT;
}

static int rcv_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		v <<= 30, end++;
	if (*end == 'i' && end[-1] != end[0])
		end++;
	if (*end == 'B')
		end++;
	if (*end || v == 0 || v > (1ULL << 32))
		return -1;
	*out = (size_t)v;
	return 0;
}

static void rcv_report(void)
{
	const struct rwire_totals *t = &rcv.w.t;

	if (rcv.count) {
		printf("total requests=%" PRIu64 " series=%" PRIu64 " samples=%" PRIu64 " bytes=%" PRIu64
		       " raw_bytes=%" PRIu64 " bad_requests=%" PRIu64 " first_ms=%" PRId64
		       " last_ms=%" PRId64 "\n",
		       t->requests, t->series, t->samples, t->bytes, t->raw_bytes, t->bad_requests,
		       t->first_ms, t->last_ms);
		fflush(stdout);
	}
	log_info("total: requests=%" PRIu64 " bad_requests=%" PRIu64 " series=%" PRIu64
		 " samples=%" PRIu64 " bytes=%" PRIu64 " violations=%" PRIu64 " duplicates=%" PRIu64,
		 t->requests, t->bad_requests, t->series, t->samples, t->bytes,
		 t->violations, t->duplicates);
	if (rcv.check) {
		for (int v = 0; v < RWIRE_V_COUNT; v++)
			if (rcv.w.v[v])
				log_info("check: %s=%" PRIu64, rwire_violation_name((enum rwire_violation)v),
					 rcv.w.v[v]);
		log_info("check: %s", t->violations || t->bad_requests ? "FAILED" : "ok");
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "path", required_argument, NULL, 'p' },
		{ "count", no_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "dump", required_argument, NULL, 'd' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rwire_opts wo = { 0 };
	struct sigaction old_int;
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct epoll_event ev;
	FILE *dump = NULL;
	sigset_t mask;
	bool running = true;
	int opt, rc;
	static char outbuf[1 << 16];

	log_init("flowrw-receiver", -1, LOG_LVL_INFO);
	rcv.listen = "127.0.0.1:1234";
	rcv.path = "/receive";
	rcv.max_body = 64u << 20;
	while ((opt = getopt_long(argc, argv, "l:p:ckd:P:m:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l': rcv.listen = optarg; break;
		case 'p': rcv.path = optarg; break;
		case 'c': rcv.count = true; break;
		case 'k': rcv.check = true; break;
		case 'd': rcv.dump_path = optarg; break;
		case 'P': rcv.port_file = optarg; break;
		case 'm':
			if (rcv_parse_size(optarg, &rcv.max_body) < 0) {
				log_err("--max-body %s: want a size such as 64MiB", optarg);
				return RCV_EXIT_USAGE;
			}
			break;
		case 'q': rcv.quiet = true; break;
		case 'h': rcv_usage(stdout); return 0;
		default: rcv_usage(stderr); return RCV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument %s", argv[optind]);
		rcv_usage(stderr);
		return RCV_EXIT_USAGE;
	}
	if (rcv.path[0] != '/') {
		log_err("--path %s: must start with /", rcv.path);
		return RCV_EXIT_USAGE;
	}
	if (rcv.dump_path) {
		dump = fopen(rcv.dump_path, "a");
		if (!dump) {
			log_err("unable to open %s: %s", rcv.dump_path, strerror(errno));
			return RCV_EXIT_USAGE;
		}
		setvbuf(dump, NULL, _IOFBF, 1 << 16);
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	wo.print = !rcv.count && !rcv.quiet;
	wo.check = rcv.check;
	wo.count_only = rcv.count && !rcv.check && !dump;
	wo.out = stdout;
	wo.dump = dump;
	wo.max_raw = 256u << 20;
	if (wo.max_raw < rcv.max_body * 4)
		wo.max_raw = rcv.max_body * 4;
	rwire_init(&rcv.w, &wo);

	/*
	 * SIGINT is honoured only if it was not ignored when we were started: a
	 * shell starts background jobs with SIGINT ignored, and the quick start
	 * relies on that to keep the receiver up while flowrw drains after Ctrl-C.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	if (sigaction(SIGINT, NULL, &old_int) == 0 && old_int.sa_handler != SIG_IGN)
		sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	rcv.ep = epoll_create1(EPOLL_CLOEXEC);
	rcv.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	rcv.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rcv.ep == -1 || rcv.sfd == -1 || rcv.tfd == -1 || timerfd_settime(rcv.tfd, 0, &its, NULL) == -1) {
		log_err("unable to set up the event loop: %s", strerror(errno));
		return RCV_EXIT_TRANSIENT;
	}
	rc = rcv_listen(rcv.listen);
	if (rc < 0)
		return -rc;
	rcv.lfd = rc;
	ev.events = EPOLLIN;
	ev.data.ptr = &rcv_tag_listen;
	epoll_ctl(rcv.ep, EPOLL_CTL_ADD, rcv.lfd, &ev);
	ev.data.ptr = &rcv_tag_signal;
	epoll_ctl(rcv.ep, EPOLL_CTL_ADD, rcv.sfd, &ev);
	ev.data.ptr = &rcv_tag_timer;
	epoll_ctl(rcv.ep, EPOLL_CTL_ADD, rcv.tfd, &ev);
	rcv.start_ms = rcv_mono_ms();

	while (running) {
		struct epoll_event evs[64];
		int n = epoll_wait(rcv.ep, evs, 64, -1);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && running; i++) {
			void *p = evs[i].data.ptr;

			if (p == &rcv_tag_listen) {
				rcv_accept();
			} else if (p == &rcv_tag_signal) {
				struct signalfd_siginfo si;

				if (read(rcv.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					log_info("got %s, stopping", strsignal((int)si.ssi_signo));
					running = false;
				}
			} else if (p == &rcv_tag_timer) {
				rcv_tick();
			} else {
				struct conn *c = p;

				if (c->dead)
					continue;
				if (evs[i].events & EPOLLOUT) {
					if (!rcv_flush(c))
						continue;
					if (!c->closing && !rcv_process(c))
						continue;
				}
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					rcv_conn_read(c);
			}
		}
		rcv_bury();
	}

	while (rcv.n_conns)
		rcv_conn_close(rcv.conns[0]);
	rcv_bury();
	free(rcv.conns);
	rcv_report();
	rc = rcv.check && (rcv.w.t.violations || rcv.w.t.bad_requests) ? 1 : 0;
	if (dump && fclose(dump) != 0) {
		log_err("unable to write %s: %s", rcv.dump_path, strerror(errno));
		rc = 1;
	}
	rwire_fini(&rcv.w);
	close(rcv.lfd);
	close(rcv.sfd);
	close(rcv.tfd);
	close(rcv.ep);
	return rc;
}
