/* SPDX-License-Identifier: MIT */
/* lanes_sink.c: a cheap, slow remote-write receiver for bench/lanes (127.0.0.1 only). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <snappy-c.h>

#include "tools/pbwalk.h"

/*
 * Stands in for a far remote-write endpoint: every response leaves
 * --delay MS (+ uniform 0..--delay-random MS) after its request arrived,
 * on keep-alive HTTP/1.1 connections, one request at a time per
 * connection (no pipelining, as real clients do).
 *
 * It must cost little CPU, because bench/lanes runs it on the same two
 * cores as the pipeline.  So it never builds protobuf objects: with
 * --decode count or order it snappy-decompresses each body and walks the
 * WriteRequest wire format (timeseries = 1 { labels = 1, samples = 2
 * { value = 1, timestamp = 2 } }), counting series and samples; with
 * order it also keys each series by a 64-bit hash of its raw label bytes
 * and counts timestamps that do not increase per series (order_violations:
 * older; duplicates: equal).  --decode none only reads the bodies.
 *
 * Output: the port on stdout; with --stats FILE, "key value" lines written
 * every 200 ms and at exit.  Every run stops after --max-seconds.
 */

#define MAX_HEAD  16384
#define MAX_BODY  (64u << 20)

enum decode { DEC_NONE, DEC_COUNT, DEC_ORDER };

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	size_t need;             /* head + body once the head is parsed, else 0 */
	size_t head_len;
	bool waiting;            /* a request awaits its answer */
	int64_t due_ns;
};

static enum decode mode = DEC_COUNT;
static int delay_ms, delay_random_ms, max_conns = 1024, max_seconds = 120;
static const char *stats_path;
static uint64_t rng = 88172645463325252ULL;
static volatile sig_atomic_t stop;
static struct conn *conns;
static int epfd;

static struct {
	uint64_t connections, requests, answered, series, samples, bytes, raw_bytes;
	uint64_t decode_errors, bad_requests, order_violations, duplicates, distinct_series;
	uint64_t max_inflight, inflight;
	int64_t first_ns, last_ns;
} st;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* --- order table: open addressing, key 0 means empty ---------------------- */

struct slot {
	uint64_t key;
	int64_t last_ts;
};

static struct slot *tab;
static size_t tab_cap;

static struct slot *tab_find(uint64_t key)
{
	size_t i;

	if (!key)
		key = 1;
	if (st.distinct_series * 2 >= tab_cap) {
		size_t ncap = tab_cap ? tab_cap * 2 : 1u << 18;
		struct slot *nt = calloc(ncap, sizeof(*nt));

		if (!nt) {
			fprintf(stderr, "lanes_sink: out of memory\n");
			exit(2);
		}
		for (size_t j = 0; j < tab_cap; j++)
			if (tab[j].key) {
				size_t k = tab[j].key & (ncap - 1);

				while (nt[k].key)
					k = (k + 1) & (ncap - 1);
				nt[k] = tab[j];
			}
		free(tab);
		tab = nt;
		tab_cap = ncap;
	}
	for (i = key & (tab_cap - 1); tab[i].key; i = (i + 1) & (tab_cap - 1))
		if (tab[i].key == key)
			return &tab[i];
	tab[i].key = key;
	tab[i].last_ts = INT64_MIN;
	st.distinct_series++;
	return &tab[i];
}

/* --- wire walk ------------------------------------------------------------- */

/* 64-bit FNV-1a-like mix, 8 bytes at a time: cheap and good enough as a key. */
static uint64_t hash_bytes(uint64_t h, const uint8_t *b, size_t n)
{
	while (n >= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		b += 8;
		n -= 8;
	}
	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static bool walk_series(const uint8_t *p, const uint8_t *end)
{
	uint64_t key = 0xcbf29ce484222325ULL, tag, len;
	int64_t ts[64];
	int n_ts = 0;

	while (p < end) {
		if (!pbw_varint(&p, end, &tag))
			return false;
		if ((tag & 7) != 2) {
			if (!pbw_skip(&p, end, tag & 7))
				return false;
			continue;
		}
		if (!pbw_varint(&p, end, &len) || len > (uint64_t)(end - p))
			return false;
		if (tag >> 3 == 1) {
			key = hash_bytes(key, p, len);
		} else if (tag >> 3 == 2) {
			const uint8_t *q = p, *qe = p + len;
			uint64_t t = 0, v;

			while (q < qe) {
				if (!pbw_varint(&q, qe, &v))
					return false;
				if (v == (2 << 3 | 0)) {
					if (!pbw_varint(&q, qe, &t))
						return false;
				} else if (!pbw_skip(&q, qe, v & 7)) {
					return false;
				}
			}
			st.samples++;
			if (n_ts < 64)
				ts[n_ts++] = (int64_t)t;
		}
		p += len;
	}
	st.series++;
	if (mode == DEC_ORDER) {
		struct slot *s = tab_find(key);

		for (int i = 0; i < n_ts; i++) {
			if (ts[i] == s->last_ts)
				st.duplicates++;
			else if (ts[i] < s->last_ts)
				st.order_violations++;
			if (ts[i] > s->last_ts)
				s->last_ts = ts[i];
		}
	}
	return true;
}

static void decode(const uint8_t *body, size_t len)
{
	static uint8_t *raw;
	static size_t raw_cap;
	size_t raw_len;
	const uint8_t *p, *end;
	uint64_t tag, l;

	if (snappy_uncompressed_length((const char *)body, len, &raw_len) != SNAPPY_OK ||
	    raw_len > (size_t)MAX_BODY * 8) {
		st.decode_errors++;
		return;
	}
	if (raw_len > raw_cap) {
		free(raw);
		raw_cap = raw_len + 65536;
		raw = malloc(raw_cap);
		if (!raw) {
			fprintf(stderr, "lanes_sink: out of memory\n");
			exit(2);
		}
	}
	if (snappy_uncompress((const char *)body, len, (char *)raw, &raw_len) != SNAPPY_OK) {
		st.decode_errors++;
		return;
	}
	st.raw_bytes += raw_len;
	p = raw;
	end = raw + raw_len;
	while (p < end) {
		if (!pbw_varint(&p, end, &tag))
			goto bad;
		if (tag == (1 << 3 | 2)) {
			if (!pbw_varint(&p, end, &l) || l > (uint64_t)(end - p) || !walk_series(p, p + l))
				goto bad;
			p += l;
		} else if (!pbw_skip(&p, end, tag & 7)) {
			goto bad;
		}
	}
	return;
bad:
	st.decode_errors++;
}

/* --- stats ------------------------------------------------------------------ */

static void write_stats(void)
{
	char tmp[4096];
	FILE *f;
	struct rusage ru;

	if (!stats_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	f = fopen(tmp, "w");
	if (!f)
		return;
#define S(x) fprintf(f, #x " %llu\n", (unsigned long long)st.x)
	S(connections); S(requests); S(answered); S(series); S(samples); S(bytes); S(raw_bytes);
	S(decode_errors); S(bad_requests); S(order_violations); S(duplicates); S(distinct_series);
	S(max_inflight);
#undef S
	fprintf(f, "first_ns %lld\nlast_ns %lld\nnow_ns %lld\n", (long long)st.first_ns,
		(long long)st.last_ns, (long long)now_ns());
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f, "cpu_ms %lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
				      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	fclose(f);
	rename(tmp, stats_path);
}

/* --- connections ------------------------------------------------------------ */

static void conn_drop(struct conn *c)
{
	if (c->waiting)
		st.inflight--;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void answer(struct conn *c)
{
	static const char resp[] = "HTTP/1.1 204 No Content\r\n\r\n";
	ssize_t n;

	c->waiting = false;
	st.inflight--;
	/* 28 bytes into an idle socket buffer: never short in practice. */
	n = send(c->fd, resp, sizeof(resp) - 1, MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof(resp) - 1) {
		conn_drop(c);
		return;
	}
	st.answered++;
	st.last_ns = now_ns();
	memmove(c->buf, c->buf + c->need, c->len - c->need);
	c->len -= c->need;
	c->need = 0;
}

/* Parse the head of the request in c->buf; 1 ready, 0 need more, -1 bad. */
static int parse_head(struct conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	size_t body = 0;
	bool have_len = false;

	if (!end)
		return c->len > MAX_HEAD ? -1 : 0;
	if (c->len < 5 || memcmp(c->buf, "POST ", 5))
		return -1;
	c->head_len = (size_t)(end + 4 - c->buf);
	for (char *p = c->buf; p && p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!strncasecmp(p, "content-length:", 15)) {
			long v = atol(p + 15);

			if (v < 0 || v > (long)MAX_BODY)
				return -1;
			body = (size_t)v;
			have_len = true;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!have_len)
		return -1;
	c->need = c->head_len + body;
	return 1;
}

/* Take the next complete request out of c->buf, if any. */
static void try_request(struct conn *c)
{
	int64_t d;

	if (c->fd < 0 || c->waiting)
		return;
	if (!c->need) {
		int r = parse_head(c);

		if (r < 0) {
			st.bad_requests++;
			conn_drop(c);
			return;
		}
		if (r == 0)
			return;
	}
	if (c->len < c->need)
		return;
	st.requests++;
	if (!st.first_ns)
		st.first_ns = now_ns();
	st.bytes += c->need - c->head_len;
	if (mode != DEC_NONE)
		decode((const uint8_t *)c->buf + c->head_len, c->need - c->head_len);
	d = (int64_t)delay_ms * 1000000LL;
	if (delay_random_ms > 0)
		d += (int64_t)(rnd() % ((uint64_t)delay_random_ms * 1000 + 1)) * 1000LL;
	c->waiting = true;
	c->due_ns = now_ns() + d;
	if (++st.inflight > st.max_inflight)
		st.max_inflight = st.inflight;
	if (d == 0)
		answer(c);
}

static void on_readable(struct conn *c)
{
	for (;;) {
		ssize_t n;
		size_t want = c->need > c->len ? c->need - c->len : 65536;

		if (want < 65536)
			want = 65536;
		if (c->cap - c->len < want) {
			size_t ncap = c->cap ? c->cap : 262144;

			while (ncap - c->len < want)
				ncap *= 2;
			if (ncap > (size_t)MAX_BODY + MAX_HEAD + 262144) {
				st.bad_requests++;
				conn_drop(c);
				return;
			}
			c->buf = realloc(c->buf, ncap);
			if (!c->buf) {
				fprintf(stderr, "lanes_sink: out of memory\n");
				exit(2);
			}
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_drop(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		c->len += (size_t)n;
	}
	try_request(c);
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: lanes_sink [--port N] [--delay MS] [--delay-random MS]\n"
		"                  [--decode none|count|order] [--stats FILE]\n"
		"                  [--max-seconds N] [--max-conns N] [--seed N]\n"
		"Listens on 127.0.0.1 only, prints the port, answers 204 after the delay.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int port = 0, lfd, one = 1;
	int64_t t_end, t_stats = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--delay"))
			delay_ms = atoi(v);
		else if (!strcmp(a, "--delay-random"))
			delay_random_ms = atoi(v);
		else if (!strcmp(a, "--stats"))
			stats_path = v;
		else if (!strcmp(a, "--max-seconds"))
			max_seconds = atoi(v);
		else if (!strcmp(a, "--max-conns"))
			max_conns = atoi(v);
		else if (!strcmp(a, "--seed"))
			rng = strtoull(v, NULL, 10) | 1;
		else if (!strcmp(a, "--decode"))
			mode = !strcmp(v, "none") ? DEC_NONE : !strcmp(v, "count") ? DEC_COUNT
				: !strcmp(v, "order") ? DEC_ORDER : (usage(), DEC_NONE);
		else
			usage();
	}
	if (max_conns < 1 || max_conns > 65536 || max_seconds < 1 || delay_ms < 0 || delay_random_ms < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	conns = calloc((size_t)max_conns, sizeof(*conns));
	if (!conns)
		return 2;
	for (int i = 0; i < max_conns; i++)
		conns[i].fd = -1;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(lfd, 1024) == -1) {
		fprintf(stderr, "lanes_sink: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 2;
	}
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	}
	t_end = now_ns() + (int64_t)max_seconds * 1000000000LL;
	while (!stop) {
		struct epoll_event evs[256];
		int64_t now = now_ns(), due = INT64_MAX, tmo;
		int n;

		if (now >= t_end)
			break;
		/* Answer what is due; find the next due time (a scan: <= max_conns). */
		for (int i = 0; i < max_conns; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0 || !c->waiting)
				continue;
			if (c->due_ns <= now) {
				answer(c);
				try_request(c); /* the next one may be in the buffer already */
				if (c->fd >= 0 && c->waiting && c->due_ns < due)
					due = c->due_ns;
			} else if (c->due_ns < due) {
				due = c->due_ns;
			}
		}
		if (now - t_stats >= 200000000LL) {
			write_stats();
			t_stats = now;
		}
		tmo = 200;
		if (due != INT64_MAX) {
			int64_t ms = (due - now + 999999) / 1000000;

			tmo = ms < tmo ? ms : tmo;
		}
		n = epoll_wait(epfd, evs, 256, (int)tmo);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c) {
				on_readable(c);
				continue;
			}
			for (int k = 0; k < 64; k++) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;

				if (fd < 0)
					break;
				for (int j = 0; j < max_conns; j++)
					if (conns[j].fd < 0) {
						slot = j;
						break;
					}
				if (slot < 0) {
					close(fd);
					continue;
				}
				st.connections++;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				conns[slot].fd = fd;
				{
					struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[slot] };

					epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				}
			}
		}
	}
	write_stats();
	return 0;
}
