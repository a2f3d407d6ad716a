/* SPDX-License-Identifier: MIT */
/* rw-testsrv.c: scriptable remote-write receiver for the sender's tests (127.0.0.1 only). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <snappy-c.h>

#include "remote.pb-c.h"
#include "sender/http1.h"

/*
 * One thread, one epoll.  Each connection reads one request (head with
 * Content-Length, body), decodes it (snappy + protobuf-c), decides the
 * answer (script entry, else the current settings), and answers after the
 * configured delay.  Everything is bounded: connections, request size, run
 * time.  Settings come from flags and, when --control is given, from a file
 * of "key value" lines re-read whenever it changes, so a test can change
 * the server's mind mid-run (e.g. go down with 503, then come back).
 *
 * Outputs:
 *   stdout      the port, then nothing
 *   --log F     one line per sample: "REQ STATUS TS VALUE LABELS" (labels as
 *               name="value",... in request order); REQ counts from 1
 *   --stats F   "key value" lines, rewritten every 100 ms and at exit
 */

#define MAX_SCRIPT 256

enum action {
	ACT_STATUS = 0,  /* answer with a status */
	ACT_CLOSE,       /* close the connection without an answer */
	ACT_RESET,       /* close with RST */
	ACT_MALFORMED,   /* garbage instead of a status line */
	ACT_HUGE,        /* a 204 head followed by... no: a 200 with a 4 MiB body */
	ACT_HANG,        /* never answer (the client's timeout must fire) */
	ACT_BIGHEAD,     /* a head larger than any client buffer */
};

struct step {
	enum action act;
	int status;
};

struct settings {
	int status;
	char retry_after[64];     /* "" none; "N" seconds; "date+N" an HTTP-date N s ahead */
	int delay_ms, delay_random_ms;
	int close_every;          /* Connection: close on every Nth response */
	bool chunked;
	long body_bytes;          /* -1: default (empty on 2xx, a line otherwise) */
	enum action mode;         /* applied to every request without a script entry */
	int fail_random;          /* percent of those answered 503 instead */
	int mode_status;
};

struct conn {
	int fd;
	bool used;
	char *buf;
	size_t len, cap;
	size_t head_len, body_len;
	bool have_head;
	bool waiting;             /* answer scheduled */
	int64_t due_ms;
	char *out;
	size_t out_len, out_off;
	bool close_after;
	uint64_t responses;
};

struct series_slot {
	uint64_t key;
	int64_t last_ts;
};

static struct settings cfg = { .status = 204, .body_bytes = -1 };
static struct step script[MAX_SCRIPT];
static int n_script;
static uint64_t script_base;
static const char *control_path, *log_path, *stats_path;
static FILE *log_f;
static struct timespec control_mtime;
static int max_conns = 512;
static long max_body = 64L << 20;
static int max_seconds = 300;
static bool check_order, quiet;
static uint64_t rng = 88172645463325252ULL;
static volatile sig_atomic_t stop;

static struct conn *conns;
static struct series_slot *tab;
static size_t tab_cap, tab_n;

static struct {
	uint64_t connections, requests, answered_2xx, answered_4xx, answered_429, answered_5xx;
	uint64_t closed, malformed_sent, hung, series, samples, series_2xx, samples_2xx;
	uint64_t decode_errors, bad_headers, order_violations, duplicates, bytes;
	int64_t first_ms, last_ms;
} st;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rw-testsrv: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* --- settings ------------------------------------------------------------ */

static int parse_action(const char *s, struct step *st_out)
{
	static const struct {
		const char *name;
		enum action act;
	} names[] = {
		{ "close", ACT_CLOSE }, { "reset", ACT_RESET }, { "malformed", ACT_MALFORMED },
		{ "huge", ACT_HUGE }, { "hang", ACT_HANG }, { "bighead", ACT_BIGHEAD },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			st_out->act = names[i].act;
			st_out->status = 0;
			return 0;
		}
	if (isdigit((unsigned char)*s)) {
		st_out->act = ACT_STATUS;
		st_out->status = atoi(s);
		return st_out->status >= 100 && st_out->status <= 999 ? 0 : -1;
	}
	return -1;
}

static void parse_script(const char *s)
{
	char buf[4096], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	n_script = 0;
	for (tok = strtok_r(buf, ",", &save); tok && n_script < MAX_SCRIPT; tok = strtok_r(NULL, ",", &save)) {
		char *x = strchr(tok, 'x');
		int rep = 1;

		/* "503x3" repeats an entry */
		if (x && isdigit((unsigned char)x[1])) {
			*x = '\0';
			rep = atoi(x + 1);
		}
		for (int i = 0; i < rep && n_script < MAX_SCRIPT; i++)
			if (parse_action(tok, &script[n_script++]))
				die("bad script entry `%s`", tok);
	}
}

/* One setting; returns 0 or -1 for an unknown key or bad value. */
static int apply(const char *key, const char *val)
{
	if (!strcmp(key, "status")) {
		cfg.status = atoi(val);
		cfg.mode = ACT_STATUS;
	} else if (!strcmp(key, "retry-after")) {
		snprintf(cfg.retry_after, sizeof(cfg.retry_after), "%s", val);
	} else if (!strcmp(key, "delay")) {
		cfg.delay_ms = atoi(val);
	} else if (!strcmp(key, "delay-random")) {
		cfg.delay_random_ms = atoi(val);
	} else if (!strcmp(key, "close-every")) {
		cfg.close_every = atoi(val);
	} else if (!strcmp(key, "chunked")) {
		cfg.chunked = atoi(val) != 0;
	} else if (!strcmp(key, "fail-random")) {
		cfg.fail_random = atoi(val);
	} else if (!strcmp(key, "body-bytes")) {
		cfg.body_bytes = atol(val);
	} else if (!strcmp(key, "mode")) {
		struct step s;

		if (parse_action(val, &s))
			return -1;
		cfg.mode = s.act;
		if (s.act == ACT_STATUS)
			cfg.status = s.status;
	} else if (!strcmp(key, "script")) {
		parse_script(val);
		script_base = st.requests; /* the script counts from the next request */
	} else {
		return -1;
	}
	return 0;
}

static void reload_control(void)
{
	struct stat sb;
	char line[512];
	FILE *f;

	if (!control_path || stat(control_path, &sb) == -1)
		return;
	if (sb.st_mtim.tv_sec == control_mtime.tv_sec && sb.st_mtim.tv_nsec == control_mtime.tv_nsec)
		return;
	f = fopen(control_path, "r");
	if (!f)
		return;
	control_mtime = sb.st_mtim;
	/* A control file describes the whole state: start from the defaults. */
	cfg = (struct settings){ .status = 204, .body_bytes = -1 };
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v;

		line[strcspn(line, "\r\n")] = '\0';
		while (*k == ' ')
			k++;
		if (!*k || *k == '#')
			continue;
		v = k + strcspn(k, " \t");
		if (*v)
			*v++ = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (apply(k, v))
			fprintf(stderr, "rw-testsrv: control: ignoring `%s %s`\n", k, v);
	}
	fclose(f);
}

/* --- order check ---------------------------------------------------------- */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct series_slot *tab_find(uint64_t key)
{
	size_t i;

	if (tab_n * 2 >= tab_cap) {
		size_t ncap = tab_cap ? tab_cap * 2 : 1 << 16;
		struct series_slot *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			die("out of memory");
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
	if (!key)
		key = 1;
	for (i = key & (tab_cap - 1); tab[i].key; i = (i + 1) & (tab_cap - 1))
		if (tab[i].key == key)
			return &tab[i];
	tab[i].key = key;
	tab[i].last_ts = INT64_MIN;
	tab_n++;
	return &tab[i];
}

/* --- decoding ------------------------------------------------------------ */

/* protobuf-c allocations come from one arena reset per request. */
static char *arena;
static size_t arena_cap, arena_used;

static void *arena_alloc(void *data, size_t size)
{
	size_t need = (size + 15) & ~(size_t)15;

	(void)data;
	if (arena_used + need > arena_cap)
		return malloc(size); /* rare: freed by arena_free */
	arena_used += need;
	return arena + arena_used - need;
}

static void arena_free(void *data, void *p)
{
	(void)data;
	if ((char *)p < arena || (char *)p >= arena + arena_cap)
		free(p);
}

static ProtobufCAllocator pb_alloc = { arena_alloc, arena_free, NULL };

static bool header_is(const char *head, size_t len, const char *name, const char *want)
{
	struct http1_header h[64];
	size_t nh = 64;
	const char *p = memchr(head, '\n', len);

	/* Reuse the client parser on "HTTP/1.1 200 X" + our header lines. */
	if (!p)
		return false;
	{
		char tmp[16384];
		size_t rest = len - (size_t)(p + 1 - head), msg_len;
		int minor, status, r;
		const char *msg;

		if (rest + 20 > sizeof(tmp))
			return false;
		memcpy(tmp, "HTTP/1.1 200 X\r\n", 16);
		memcpy(tmp + 16, p + 1, rest);
		r = http1_parse_response(tmp, 16 + rest, &minor, &status, &msg, &msg_len, h, &nh, 0);
		if (r < 0)
			return false;
		for (size_t i = 0; i < nh; i++)
			if (http1_name_is(h[i].name, h[i].name_len, name))
				return want == NULL || (h[i].value_len >= strlen(want) &&
							!strncmp(h[i].value, want, strlen(want)));
	}
	return false;
}

/* Decode one request body; log and check it as answered with <status>. */
static void decode(const char *head, size_t head_len, const char *body, size_t len, int status)
{
	static char *raw;
	static size_t raw_cap;
	size_t raw_len;
	Prometheus__WriteRequest *wr;
	bool ok2xx = status >= 200 && status < 300;

	if (!header_is(head, head_len, "content-encoding", "snappy") ||
	    !header_is(head, head_len, "content-type", "application/x-protobuf") ||
	    !header_is(head, head_len, "x-prometheus-remote-write-version", "0.1.0") ||
	    !header_is(head, head_len, "user-agent", "flowrw/"))
		st.bad_headers++;
	if (snappy_uncompressed_length(body, len, &raw_len) != SNAPPY_OK || raw_len > (size_t)max_body * 8) {
		st.decode_errors++;
		return;
	}
	if (raw_len > raw_cap) {
		free(raw);
		raw_cap = raw_len + 4096;
		raw = malloc(raw_cap);
		if (!raw)
			die("out of memory");
	}
	if (snappy_uncompress(body, len, raw, &raw_len) != SNAPPY_OK) {
		st.decode_errors++;
		return;
	}
	if (arena_cap < raw_len * 4 + 65536) {
		free(arena);
		arena_cap = raw_len * 4 + 65536;
		arena = malloc(arena_cap);
		if (!arena)
			die("out of memory");
	}
	arena_used = 0;
	wr = prometheus__write_request__unpack(&pb_alloc, raw_len, (const uint8_t *)raw);
	if (!wr) {
		st.decode_errors++;
		return;
	}
	for (size_t i = 0; i < wr->n_timeseries; i++) {
		const Prometheus__TimeSeries *ts = wr->timeseries[i];
		uint64_t key = 0xcbf29ce484222325ULL;

		st.series++;
		st.samples += ts->n_samples;
		if (ok2xx) {
			st.series_2xx++;
			st.samples_2xx += ts->n_samples;
		}
		for (size_t j = 0; j < ts->n_labels; j++) {
			key = hash_bytes(key, ts->labels[j]->name, strlen(ts->labels[j]->name) + 1);
			key = hash_bytes(key, ts->labels[j]->value, strlen(ts->labels[j]->value) + 1);
		}
		for (size_t k = 0; k < ts->n_samples; k++) {
			const Prometheus__Sample *s = ts->samples[k];

			if (ok2xx && check_order) {
				struct series_slot *slot = tab_find(key);

				if (s->timestamp == slot->last_ts)
					st.duplicates++;
				else if (s->timestamp < slot->last_ts)
					st.order_violations++;
				if (s->timestamp > slot->last_ts)
					slot->last_ts = s->timestamp;
			}
			if (log_f) {
				fprintf(log_f, "%llu %d %lld %.17g ", (unsigned long long)st.requests, status,
					(long long)s->timestamp, s->value);
				for (size_t j = 0; j < ts->n_labels; j++)
					fprintf(log_f, "%s%s=\"%s\"", j ? "," : "", ts->labels[j]->name,
						ts->labels[j]->value);
				fputc('\n', log_f);
			}
		}
	}
	prometheus__write_request__free_unpacked(wr, &pb_alloc);
}

/* --- stats --------------------------------------------------------------- */

static void write_stats(void)
{
	char tmp[4096];
	FILE *f;

	if (!stats_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	f = fopen(tmp, "w");
	if (!f)
		return;
#define S(x) fprintf(f, #x " %llu\n", (unsigned long long)st.x)
	S(connections); S(requests); S(answered_2xx); S(answered_4xx); S(answered_429);
	S(answered_5xx); S(closed); S(malformed_sent); S(hung); S(series); S(samples);
	S(series_2xx); S(samples_2xx); S(decode_errors); S(bad_headers); S(order_violations);
	S(duplicates); S(bytes);
#undef S
	fprintf(f, "first_ms %lld\nlast_ms %lld\n", (long long)st.first_ms, (long long)st.last_ms);
	fclose(f);
	rename(tmp, stats_path);
	if (log_f)
		fflush(log_f);
}

/* --- connections --------------------------------------------------------- */

static int epfd;

static void conn_drop(struct conn *c, bool rst)
{
	if (rst) {
		struct linger lg = { 1, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Whatever";
	}
}

static void out_put(struct conn *c, const char *s, size_t n)
{
	if (c->out_len + n > SIZE_MAX / 2)
		die("response too large");
	c->out = realloc(c->out, c->out_len + n);
	if (!c->out)
		die("out of memory");
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static void out_fmt(struct conn *c, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	out_put(c, b, (size_t)n);
}

static void build_answer(struct conn *c, const struct step *s)
{
	char body[256];
	size_t blen;
	long want = cfg.body_bytes;

	c->responses++;
	switch (s->act) {
	case ACT_MALFORMED:
		st.malformed_sent++;
		out_fmt(c, "HTTP/1.1 2x0 Broken\r\nContent-Length: 0\r\n\r\n");
		c->close_after = true;
		return;
	case ACT_BIGHEAD:
		st.malformed_sent++;
		out_fmt(c, "HTTP/1.1 200 OK\r\n");
		/* few fields, long values: more than 8 KiB, fewer than 32 headers */
		for (int i = 0; i < 12; i++)
			out_fmt(c, "X-Filler-%d: %0900d\r\n", i, i);
		out_fmt(c, "Content-Length: 0\r\n\r\n");
		c->close_after = true;
		return;
	case ACT_HUGE:
		want = 4L << 20;
		break;
	default:
		break;
	}
	if (s->status >= 200 && s->status < 300)
		st.answered_2xx++;
	else if (s->status == 429)
		st.answered_429++;
	else if (s->status >= 500)
		st.answered_5xx++;
	else if (s->status >= 400)
		st.answered_4xx++;
	if (want < 0) {
		if (s->status >= 200 && s->status < 300)
			blen = 0;
		else
			blen = (size_t)snprintf(body, sizeof(body), "rw-testsrv: status %d for request %llu\n",
						s->status, (unsigned long long)st.requests);
	} else {
		blen = 0;
	}
	if (cfg.close_every > 0 && c->responses % (uint64_t)cfg.close_every == 0)
		c->close_after = true;
	out_fmt(c, "HTTP/1.1 %d %s\r\n", s->status, reason(s->status));
	if (cfg.retry_after[0] && (s->status == 429 || s->status >= 500)) {
		if (!strncmp(cfg.retry_after, "date+", 5)) {
			char date[64];

			http1_format_date((int64_t)time(NULL) + atoi(cfg.retry_after + 5), date, sizeof(date));
			out_fmt(c, "Retry-After: %s\r\n", date);
		} else {
			out_fmt(c, "Retry-After: %s\r\n", cfg.retry_after);
		}
	}
	if (c->close_after)
		out_fmt(c, "Connection: close\r\n");
	if (s->status == 204 || s->status == 304) {
		out_fmt(c, "\r\n"); /* never a body, never framing */
		return;
	}
	if (want >= 0) {
		/* A body of <want> bytes, plain or chunked in 64 KiB pieces. */
		static char filler[65536];

		memset(filler, 'x', sizeof(filler));
		if (cfg.chunked) {
			out_fmt(c, "Transfer-Encoding: chunked\r\n\r\n");
			for (long left = want; left > 0;) {
				long n = left > (long)sizeof(filler) ? (long)sizeof(filler) : left;

				out_fmt(c, "%lx\r\n", n);
				out_put(c, filler, (size_t)n);
				out_fmt(c, "\r\n");
				left -= n;
			}
			out_fmt(c, "0\r\n\r\n");
		} else {
			out_fmt(c, "Content-Length: %ld\r\n\r\n", want);
			for (long left = want; left > 0;) {
				long n = left > (long)sizeof(filler) ? (long)sizeof(filler) : left;

				out_put(c, filler, (size_t)n);
				left -= n;
			}
		}
		return;
	}
	if (cfg.chunked) {
		out_fmt(c, "Transfer-Encoding: chunked\r\n\r\n");
		if (blen)
			out_fmt(c, "%zx\r\n%.*s\r\n", blen, (int)blen, body);
		out_fmt(c, "0\r\n\r\n");
	} else {
		out_fmt(c, "Content-Length: %zu\r\n\r\n", blen);
		out_put(c, body, blen);
	}
}

static void flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN) {
				struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
				return;
			}
			conn_drop(c, false);
			return;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->close_after) {
		st.closed++;
		conn_drop(c, false);
		return;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void answer_now(struct conn *c, const struct step *s)
{
	size_t used = c->head_len + c->body_len;

	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	c->have_head = false;
	c->waiting = false;
	switch (s->act) {
	case ACT_CLOSE:
		st.closed++;
		conn_drop(c, false);
		return;
	case ACT_RESET:
		st.closed++;
		conn_drop(c, true);
		return;
	case ACT_HANG:
		st.hung++;
		return;
	default:
		build_answer(c, s);
		flush_out(c);
	}
}

struct pending {
	struct conn *c;
	struct step s;
};

static struct pending *pend;

static void on_request(struct conn *c)
{
	struct step s;
	uint64_t idx = st.requests++ - script_base;
	int64_t delay;

	if (!st.first_ms)
		st.first_ms = now_ms();
	st.last_ms = now_ms();
	st.bytes += c->body_len;
	if (idx < (uint64_t)n_script) {
		s = script[idx];
	} else {
		s.act = cfg.mode;
		s.status = cfg.mode == ACT_STATUS ? cfg.status : 0;
		if (s.act == ACT_STATUS && cfg.fail_random > 0 && (int)(rnd() % 100) < cfg.fail_random)
			s.status = 503;
	}
	decode(c->buf, c->head_len, c->buf + c->head_len, c->body_len,
	       s.act == ACT_STATUS || s.act == ACT_HUGE ? (s.act == ACT_HUGE ? 200 : s.status) : 0);
	if (s.act == ACT_HUGE)
		s.status = 200;
	delay = cfg.delay_ms + (cfg.delay_random_ms > 0 ? (int64_t)(rnd() % (uint64_t)(cfg.delay_random_ms + 1)) : 0);
	if (delay <= 0) {
		answer_now(c, &s);
		return;
	}
	c->waiting = true;
	c->due_ms = now_ms() + delay;
	pend[c - conns].c = c;
	pend[c - conns].s = s;
}

static int parse_request_head(struct conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	const char *p;

	if (!end)
		return c->len > 65536 ? -1 : 0;
	c->head_len = (size_t)(end + 4 - c->buf);
	if (c->len < 5 || memcmp(c->buf, "POST ", 5) != 0)
		return -1;
	c->body_len = 0;
	for (p = c->buf; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!strncasecmp(p, "content-length:", 15)) {
			long v = atol(p + 15);

			if (v < 0 || v > max_body)
				return -1;
			c->body_len = (size_t)v;
		}
		p = nl ? nl + 1 : NULL;
	}
	c->have_head = true;
	return 1;
}

static void on_readable(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 65536) {
			size_t ncap = c->cap ? c->cap * 2 : 131072;

			if (ncap > (size_t)max_body + 131072)
				ncap = (size_t)max_body + 131072;
			if (ncap <= c->cap) {
				conn_drop(c, false);
				return;
			}
			c->buf = realloc(c->buf, ncap);
			if (!c->buf)
				die("out of memory");
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_drop(c, false);
			return;
		}
		if (n < 0)
			break;
		c->len += (size_t)n;
	}
	while (!c->waiting && c->fd >= 0 && c->out_len == 0) {
		if (!c->have_head) {
			int r = parse_request_head(c);

			if (r < 0) {
				conn_drop(c, false);
				return;
			}
			if (r == 0)
				return;
		}
		if (c->len < c->head_len + c->body_len)
			return;
		on_request(c);
	}
}

static void run_due(int64_t now)
{
	for (int i = 0; i < max_conns; i++) {
		struct conn *c = &conns[i];

		if (c->fd >= 0 && c->waiting && c->due_ms <= now) {
			answer_now(c, &pend[i].s);
			if (c->fd >= 0 && !c->waiting && c->out_len == 0)
				on_readable(c); /* a request that came in meanwhile */
		}
	}
}

static int64_t next_due(void)
{
	int64_t m = INT64_MAX;

	for (int i = 0; i < max_conns; i++)
		if (conns[i].fd >= 0 && conns[i].waiting && conns[i].due_ms < m)
			m = conns[i].due_ms;
	return m;
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rw-testsrv [--port N] [--status CODE] [--script LIST] [--retry-after N|date+N]\n"
		"                  [--delay MS] [--delay-random MS] [--close-every N] [--chunked]\n"
		"                  [--body-bytes N] [--mode close|reset|hang|malformed|huge|bighead|CODE]\n"
		"                  [--control FILE] [--log FILE] [--stats FILE] [--check-order]\n"
		"                  [--fail-random PCT] [--max-seconds N] [--max-conns N] [--seed N]\n"
		"Listens on 127.0.0.1 only and prints the port.  LIST: comma-separated\n"
		"CODE|close|reset|hang|malformed|huge|bighead entries, ENTRYxN repeats.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int port = 0, lfd, one = 1;
	int64_t t_end, t_stats = 0, t_ctl = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--chunked")) {
			cfg.chunked = true;
			continue;
		}
		if (!strcmp(a, "--check-order")) {
			check_order = true;
			continue;
		}
		if (!strcmp(a, "--quiet")) {
			quiet = true;
			continue;
		}
		if (!v || strncmp(a, "--", 2))
			usage();
		i++;
		if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--control"))
			control_path = v;
		else if (!strcmp(a, "--log"))
			log_path = v;
		else if (!strcmp(a, "--stats"))
			stats_path = v;
		else if (!strcmp(a, "--max-seconds"))
			max_seconds = atoi(v);
		else if (!strcmp(a, "--max-conns"))
			max_conns = atoi(v);
		else if (!strcmp(a, "--seed"))
			rng = strtoull(v, NULL, 10) | 1;
		else if (!strcmp(a, "--script"))
			parse_script(v);
		else if (apply(a + 2, v))
			usage();
	}
	if (max_conns < 1 || max_conns > 65536 || max_seconds < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	conns = calloc((size_t)max_conns, sizeof(*conns));
	pend = calloc((size_t)max_conns, sizeof(*pend));
	if (!conns || !pend)
		die("out of memory");
	for (int i = 0; i < max_conns; i++)
		conns[i].fd = -1;
	if (log_path) {
		log_f = fopen(log_path, "w");
		if (!log_f)
			die("cannot open %s: %s", log_path, strerror(errno));
		setvbuf(log_f, NULL, _IOFBF, 1 << 20);
	}
	reload_control();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("cannot bind 127.0.0.1:%d: %s", port, strerror(errno));
	if (listen(lfd, 1024) == -1)
		die("listen: %s", strerror(errno));
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	}
	t_end = now_ms() + (int64_t)max_seconds * 1000;
	while (!stop) {
		struct epoll_event evs[256];
		int64_t now = now_ms(), due = next_due(), tmo = 100;
		int n;

		if (now >= t_end)
			break;
		if (due != INT64_MAX)
			tmo = due - now < tmo ? (due - now < 0 ? 0 : due - now) : tmo;
		n = epoll_wait(epfd, evs, 256, (int)tmo);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				for (;;) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					int slot = -1;

					if (fd < 0)
						break;
					for (int k = 0; k < max_conns; k++)
						if (conns[k].fd < 0) {
							slot = k;
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
				continue;
			}
			if (c->fd < 0)
				continue;
			if (evs[i].events & EPOLLOUT) {
				flush_out(c);
				if (c->fd < 0)
					continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(c);
		}
		now = now_ms();
		run_due(now);
		if (now - t_ctl >= 50) {
			t_ctl = now;
			reload_control();
		}
		if (now - t_stats >= 100) {
			t_stats = now;
			write_stats();
		}
	}
	write_stats();
	if (log_f)
		fclose(log_f);
	if (!quiet)
		fprintf(stderr, "rw-testsrv: %llu requests, %llu series, %llu order violations, %llu duplicates\n",
			(unsigned long long)st.requests, (unsigned long long)st.series,
			(unsigned long long)st.order_violations, (unsigned long long)st.duplicates);
	return 0;
}
