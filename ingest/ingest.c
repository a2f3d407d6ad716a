/* SPDX-License-Identifier: MIT */
/* ingest.c: the ingest event loop: sources, line handling, backpressure, drain. */
#include "ingest/ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ring.h"

#define EV_SIGNAL   1ULL
#define EV_DOORBELL 2ULL
#define EV_SOURCE   16ULL /* + source index */

#define ING_MAX_EVENTS 64

static struct log_limit lim_reject[STATS_REJ_COUNT];
static struct log_limit lim_drop, lim_read;

int64_t ing_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ing_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- streams ------------------------------------------------------------------ */

struct ing_stream *ing_stream_new(struct ingest *ing, struct ing_source *s, int fd, size_t initial,
				  const char *peer)
{
	struct ing_stream *st = calloc(1, sizeof(*st));

	(void)ing;
	if (!st || lines_init(&st->lines, initial, s->cfg->max_line_bytes ? s->cfg->max_line_bytes
									    : 1024 * 1024)) {
		if (st)
			lines_fini(&st->lines);
		free(st);
		if (fd > 0)
			close(fd);
		return NULL;
	}
	st->src = s;
	st->fd = fd;
	snprintf(st->peer, sizeof(st->peer), "%s", peer ? peer : "");
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	return st;
}

void ing_stream_free(struct ingest *ing, struct ing_stream *st)
{
	struct ing_source *s;

	if (!st)
		return;
	(void)ing;
	s = st->src;
	if (st->fd > 0)
		close(st->fd); /* closing drops it from any epoll set too */
	if (st->prev)
		st->prev->next = st->next;
	else if (s->streams == st)
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	if (s->blocked_stream == st)
		s->blocked_stream = NULL;
	lines_fini(&st->lines);
	free(st);
}

static void ing_reject(struct ingest *ing, struct ing_source *s, struct ing_stream *st, uint64_t line_no,
		       const struct jrow_err *e, bool last)
{
	ing->n_rej[e->reason]++;
	s->n_rejected++;
	log_limited(&lim_reject[e->reason], LOG_LVL_WARN, "%s%s%s:%" PRIu64 ": %s at byte %zu: %s%s", s->name,
		    st && st->peer[0] ? " from " : "", st ? st->peer : "", line_no, jrow_reason_name(e->reason),
		    e->at, e->msg, last ? " (last line, no newline)" : "");
}

int ing_push_rowb(struct ingest *ing, struct ing_source *s, struct rowb *b)
{
	int n = rowb_encode(b, ing->rowbuf, ROWB_MAX_BYTES);

	if (n < 0 || (uint32_t)n > ing->route.max_record)
		return -1;
	for (;;) {
		int rc = route_push(&ing->route, ing->rowbuf, (uint32_t)n);

		if (rc == 0) {
			s->n_rows++;
			ing->n_rows++;
			return 0;
		}
		if (rc == -EMSGSIZE)
			return -1;
		if (s->cfg->overflow == CFG_OVERFLOW_DROP_NEWEST) {
			s->n_dropped++;
			ing->n_dropped++;
			log_limited(&lim_drop, LOG_LVL_WARN, "%s: input ring %d full: row dropped (overflow: drop-newest)",
				    s->name, ing->route.full_enc);
			return 0;
		}
		if (ing->draining) {
			int64_t left = ing->drain_deadline - ing_now_ms();
			int enc = ing->route.full_enc;

			if (left <= 0) {
				s->n_dropped++;
				ing->n_dropped++;
				log_limited(&lim_drop, LOG_LVL_WARN,
					    "%s: drain deadline passed with input ring %d full: row dropped", s->name, enc);
				return 0;
			}
			route_flush(&ing->route);
			if (route_arm(&ing->route, enc, (uint32_t)n))
				ring_doorbell_wait(ing->doorbell, left > 100 ? 100 : (int)left);
			route_disarm(&ing->route);
			continue;
		}
		s->blocked = true;
		s->blocked_enc = ing->route.full_enc;
		s->blocked_len = (uint32_t)n;
		s->blocked_stream = NULL;
		ing->n_full_waits++;
		ing_src_poll(ing, s, false);
		return 1;
	}
}

/* One line: 0 handled (pushed, dropped or rejected), 1 blocked. */
static int ing_line(struct ingest *ing, struct ing_stream *st, const char *data, size_t len, bool last)
{
	struct ing_source *s = st->src;
	uint64_t line_no = st->line_no + 1;
	struct jrow_err err;
	size_t i = 0;
	int rc;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
		i++;
	if (i == len)
		return 0; /* blank lines are no rows */
	if (jrow_parse(ing->jp, data, len, s->cfg->data_source, &ing->rb, &err)) {
		ing_reject(ing, s, st, line_no, &err, last);
		return 0;
	}
	rc = ing_push_rowb(ing, s, &ing->rb);
	if (rc == 1)
		return 1;
	if (rc < 0) {
		err.reason = STATS_REJ_TOO_LARGE;
		err.at = 0;
		snprintf(err.msg, sizeof(err.msg), "the raw row exceeds a ring record (%u bytes)", ing->route.max_record);
		ing_reject(ing, s, st, line_no, &err, last);
		return 0;
	}
	ing->n_unknown_keys += ing->jp->unknown_keys;
	ing->n_dup_keys += ing->rb.dups;
	return 0;
}

int ing_stream_lines(struct ingest *ing, struct ing_stream *st)
{
	struct ing_source *s = st->src;
	struct lines_item it;

	for (;;) {
		lines_peek(&st->lines, st->eof, &it);
		switch (it.kind) {
		case LINES_NONE:
			if (st->eof) {
				s->ops->stream_eof(ing, s, st);
				return 2;
			}
			return 0;
		case LINES_TOO_LONG:
			if (it.first) {
				struct jrow_err err = { STATS_REJ_LINE_TOO_LONG, st->lines.max_line, "" };

				snprintf(err.msg, sizeof(err.msg), "longer than max-line-bytes (%zu)", st->lines.max_line);
				st->line_no++;
				ing_reject(ing, s, st, st->line_no, &err, false);
			}
			break;
		case LINES_LINE:
		case LINES_LAST:
			if (ing_line(ing, st, it.data, it.len, it.kind == LINES_LAST)) {
				s->blocked_stream = st;
				return 1;
			}
			st->line_no++;
			break;
		}
		lines_consume(&st->lines, &it);
		st->offset += it.span;
	}
}

int ing_stream_pump(struct ingest *ing, struct ing_stream *st, int max_reads)
{
	struct ing_source *s = st->src;

	for (int i = 0; i < max_reads; i++) {
		size_t room;
		char *p = lines_space(&st->lines, &room);
		ssize_t n;
		int rc;

		if (!p) {
			log_err("%s: out of memory for a line buffer: closing the stream", s->name);
			st->eof = true;
			lines_reset(&st->lines);
			return ing_stream_lines(ing, st);
		}
		n = read(st->fd, p, room);
		if (n > 0) {
			lines_added(&st->lines, (size_t)n);
			/* The peer sends faster than we read: read more at a time.
			 * A 16 KiB start costs idle connections little; 256 KiB
			 * reads cut ingest's CPU by ~25% at 880 MB/s (bench/compare). */
			if ((size_t)n == room && st->lines.cap < ING_READ_BYTES)
				(void)lines_grow(&st->lines, st->lines.cap * 2 > ING_READ_BYTES ? ING_READ_BYTES
												 : st->lines.cap * 2);
			s->n_bytes += (uint64_t)n;
			ing->n_bytes += (uint64_t)n;
			rc = ing_stream_lines(ing, st);
			if (rc)
				return rc;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n == -1 && errno != ECONNRESET)
			log_limited(&lim_read, LOG_LVL_WARN, "%s%s%s: read: %s", s->name, st->peer[0] ? " from " : "",
				    st->peer, strerror(errno));
		if (n == 0 && s->ops == &ing_src_file_ops && s->cfg->follow)
			return 3; /* at the end for now: the file source polls */
		st->eof = true;
		return ing_stream_lines(ing, st);
	}
	return 0;
}

/* --- the loop ------------------------------------------------------------------ */

void ing_src_poll(struct ingest *ing, struct ing_source *s, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u64 = EV_SOURCE + (uint64_t)s->index };

	if (s->epfd < 0 || s->polling == on)
		return;
	if (epoll_ctl(ing->epfd, EPOLL_CTL_MOD, s->epfd, &ev) == 0)
		s->polling = on;
}

static const struct ing_src_ops *ops_for(enum cfg_source_type t)
{
	switch (t) {
	case CFG_SRC_TCP: return &ing_src_tcp_ops;
	case CFG_SRC_UNIX: return &ing_src_unix_ops;
	case CFG_SRC_FILE: return &ing_src_file_ops;
	case CFG_SRC_STDIN: return &ing_src_stdin_ops;
	case CFG_SRC_SYNTHETIC: return &ing_src_synthetic_ops;
	}
	return NULL;
}

/* Publish what was counted since the last call. */
static void ing_publish(struct ingest *ing)
{
	struct stats_ingest *in = &ing->stats->in;

#define FLUSH(stat, var) do { if (var) { stat_add(&(stat), var); var = 0; } } while (0)
	for (int i = 0; i < ing->n_src; i++) {
		struct ing_source *s = &ing->src[i];

		FLUSH(s->st->rows, s->n_rows);
		FLUSH(s->st->bytes, s->n_bytes);
		FLUSH(s->st->rejected, s->n_rejected);
		FLUSH(s->st->dropped, s->n_dropped);
	}
	FLUSH(in->rows_in, ing->n_rows);
	FLUSH(in->bytes_in, ing->n_bytes);
	for (int r = 0; r < STATS_REJ_COUNT; r++)
		FLUSH(in->rejected[r], ing->n_rej[r]);
	FLUSH(in->dropped_overflow, ing->n_dropped);
	FLUSH(in->ring_full_waits, ing->n_full_waits);
	FLUSH(in->unknown_keys, ing->n_unknown_keys);
	FLUSH(in->duplicate_keys, ing->n_dup_keys);
#undef FLUSH
}

/* Every row handled so far goes into the rings, then the resume points. */
static void ing_commit(struct ingest *ing)
{
	route_flush(&ing->route);
	for (int i = 0; i < ing->n_src; i++)
		if (ing->src[i].ops->commit)
			ing->src[i].ops->commit(ing, &ing->src[i]);
	ing_publish(ing);
}

static void ing_unblock(struct ingest *ing, struct ing_source *s)
{
	struct ing_stream *st = s->blocked_stream;

	s->blocked = false;
	s->blocked_stream = NULL;
	if (st && ing_stream_lines(ing, st) == 1)
		return; /* still full */
	if (s->exhausted)
		return;
	ing_src_poll(ing, s, true);
	s->ready = true;
}

static bool ing_all_done(struct ingest *ing)
{
	for (int i = 0; i < ing->n_src; i++)
		if (!ing->src[i].finite || !ing->src[i].exhausted)
			return false;
	return true;
}

static void ing_signal(struct ingest *ing)
{
	struct signalfd_siginfo si;

	while (read(ing->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM && !ing->draining) {
			log_info("SIGTERM: draining");
			ing->draining = true;
		}
	}
}

/* Stop reading; push what was already read (complete lines) within the
 * drain deadline. */
static void ing_drain(struct ingest *ing)
{
	int64_t now = ing_now_ms();
	int64_t deadline = __atomic_load_n(&ing->shm->hdr->drain_deadline_ms, __ATOMIC_ACQUIRE);

	ing->draining = true;
	ing->drain_deadline = deadline > now ? deadline : now + (int64_t)(ing->cfg->drain_timeout * 1000);
	for (int i = 0; i < ing->n_src; i++) {
		struct ing_source *s = &ing->src[i];
		struct ing_stream *st, *next;

		ing_src_poll(ing, s, false);
		s->blocked = false;
		for (st = s->streams; st; st = next) {
			next = st->next;
			ing_stream_lines(ing, st);
		}
	}
	ing_commit(ing);
}

static void ing_raise_nofile(void)
{
	struct rlimit rl;

	/* 1000+ connections need more than the usual soft limit of 1024. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int ing_setup(struct ingest *ing)
{
	struct epoll_event ev = { .events = EPOLLIN };
	void *rings[CFG_MAX_ENCODERS];
	sigset_t set;
	int n = (int)ing->shm->hdr->n_encoders, err;

	ing_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -errno;
	ing->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ing->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ing->sigfd == -1 || ing->epfd == -1)
		return -errno;
	ev.data.u64 = EV_SIGNAL;
	if (epoll_ctl(ing->epfd, EPOLL_CTL_ADD, ing->sigfd, &ev) == -1)
		return -errno;
	ing->doorbell = ing->shm->hdr->doorbell_ingest;
	if (ing->doorbell >= 0) {
		ev.data.u64 = EV_DOORBELL;
		if (epoll_ctl(ing->epfd, EPOLL_CTL_ADD, ing->doorbell, &ev) == -1)
			return -errno;
	}
	for (int i = 0; i < n; i++)
		rings[i] = shm_in_ring(ing->shm, i);
	err = route_init(&ing->route, rings, n);
	if (err)
		return err;
	ing->jp = malloc(sizeof(*ing->jp));
	ing->rowbuf = malloc(ROWB_MAX_BYTES);
	if (!ing->jp || !ing->rowbuf)
		return -ENOMEM;
	jrow_init(ing->jp);
	return 0;
}

static int ing_start_sources(struct ingest *ing)
{
	for (int i = 0; i < ing->cfg->n_sources && i < CFG_MAX_SOURCES; i++) {
		struct ing_source *s = &ing->src[i];
		int rc;

		s->index = i;
		s->cfg = &ing->cfg->sources[i];
		s->st = &ing->stats->in.source[i];
		s->ops = ops_for(s->cfg->type);
		s->epfd = -1;
		ing->n_src = i + 1;
		if (!s->ops)
			return 100;
		/* A fresh start begins with clean per-source gauges. */
		stat_set(&s->st->exhausted, 0);
		rc = s->ops->start(ing, s);
		if (rc)
			return rc;
		if (s->epfd >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_SOURCE + (uint64_t)i };

			if (epoll_ctl(ing->epfd, EPOLL_CTL_ADD, s->epfd, &ev) == -1) {
				log_err("%s: epoll: %s", s->name, strerror(errno));
				return 111;
			}
			s->polling = true;
		}
	}
	return 0;
}

static void ing_fini(struct ingest *ing)
{
	for (int i = 0; i < ing->n_src; i++) {
		struct ing_source *s = &ing->src[i];

		if (s->ops && s->ops->stop)
			s->ops->stop(ing, s);
		while (s->streams)
			ing_stream_free(ing, s->streams);
		if (s->epfd >= 0)
			close(s->epfd);
	}
	if (ing->epfd > 0)
		close(ing->epfd);
	if (ing->sigfd > 0)
		close(ing->sigfd);
	free(ing->jp);
	free(ing->rowbuf);
}

/* Poll timeout: 0 when a source has work, else until the next wake-up,
 * bounded so the phase is checked now and then.  Arms the rings that
 * blocked sources wait for. */
static int ing_timeout(struct ingest *ing, bool *armed)
{
	int64_t now = ing_now_ms(), t = ING_POLL_MS;

	*armed = false;
	for (int i = 0; i < ing->n_src; i++) {
		struct ing_source *s = &ing->src[i];

		if (s->blocked) {
			*armed = true;
			if (!route_arm(&ing->route, s->blocked_enc, s->blocked_len))
				t = 0; /* room already: retry at once */
			else if (t > 100)
				t = 100; /* a lost wake-up costs at most this */
			continue;
		}
		if (s->exhausted)
			continue;
		if (s->ready)
			t = 0;
		else if (s->wake_ms && s->wake_ms - now < t)
			t = s->wake_ms > now ? s->wake_ms - now : 0;
	}
	return (int)t;
}

int ing_run(struct shm *shm, const struct cfg *cfg)
{
	struct ingest *ing = calloc(1, sizeof(*ing));
	struct epoll_event evs[ING_MAX_EVENTS];
	int rc, err;

	if (!ing)
		return 111;
	ing->shm = shm;
	ing->cfg = cfg;
	ing->stats = shm->stats;
	ing->epfd = ing->sigfd = -1;
	ing->restart = stat_get(&shm->stats->ingest.starts) > 1;
	err = ing_setup(ing);
	if (err) {
		log_err("setup: %s", strerror(-err));
		rc = err == -EPROTO ? 101 : 111;
		goto out;
	}
	rc = ing_start_sources(ing);
	if (rc)
		goto out;
	if (ing->n_src == 0)
		log_warn("no sources configured: nothing to read");
	log_info("%d source%s, %d encoder%s%s", ing->n_src, ing->n_src == 1 ? "" : "s", ing->route.n,
		 ing->route.n == 1 ? "" : "s", ing->restart ? ", resuming after a restart" : "");

	for (;;) {
		int64_t now;
		bool armed;
		int n, timeout;

		if (ing->draining || shm_phase(shm) == SHM_PHASE_DRAIN)
			break;
		for (int i = 0; i < ing->n_src; i++)
			if (ing->src[i].blocked)
				ing_unblock(ing, &ing->src[i]);
		now = ing_now_ms();
		for (int i = 0; i < ing->n_src; i++) {
			struct ing_source *s = &ing->src[i];

			if (s->blocked || s->exhausted)
				continue;
			if (s->ready || (s->wake_ms && now >= s->wake_ms)) {
				s->ready = false;
				s->wake_ms = 0;
				s->ops->pump(ing, s);
			}
		}
		ing_commit(ing);
		if (ing->n_src && ing_all_done(ing)) {
			log_info("every source is exhausted: finishing");
			break;
		}
		timeout = ing_timeout(ing, &armed);
		n = epoll_wait(ing->epfd, evs, ING_MAX_EVENTS, timeout);
		if (armed)
			route_disarm(&ing->route);
		if (n == -1 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			rc = 111;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == EV_SIGNAL) {
				ing_signal(ing);
			} else if (tag == EV_DOORBELL) {
				uint64_t v;

				if (read(ing->doorbell, &v, sizeof(v)) == -1) {
					/* EAGAIN: another waiter took it; fine */
				}
			} else if (tag >= EV_SOURCE && tag < EV_SOURCE + (uint64_t)ing->n_src) {
				struct ing_source *s = &ing->src[tag - EV_SOURCE];

				if (!s->blocked && !s->exhausted)
					s->ops->pump(ing, s);
			}
		}
	}
	ing_drain(ing);
	route_close(&ing->route);
	log_info("stopped: input rings closed");
	rc = 0;
out:
	if (rc)
		ing_commit(ing); /* keep what is in the rings (and its resume point) */
	ing_fini(ing);
	free(ing);
	return rc;
}
