/* SPDX-License-Identifier: MIT */
/* ingest_harness.h: run the real ingest loop in a child over a real arena, read its rings. */
#ifndef FLOWRW_TEST_INGEST_HARNESS_H
#define FLOWRW_TEST_INGEST_HARNESS_H

#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cfg-t.h"
#include "common/log.h"
#include "common/rawrow.h"
#include "common/ring.h"
#include "common/schema.h"
#include "common/shm.h"
#include "ingest/ingest.h"

#define H_MAX_ROWS 400000

/* One row seen by a consumer. */
struct h_row {
	int enc;
	int ds;
	uint32_t time;
	int64_t series;   /* server_port, or -1 */
	double id;        /* packet_tx / request, or -1 */
};

struct harness {
	struct cfg cfg;
	struct cfg_source src[4];
	struct shm shm;
	pid_t pid;
	struct ring_cons cons[8];
	struct h_row *rows;
	size_t n_rows;
	char dir[64];     /* a private temp directory */
	int stdin_fd;     /* > 0: the child's stdin */
	int child_close;  /* > 0: an fd the child must not hold (a pipe's write end) */
};

static inline int64_t h_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void h_init(struct harness *h, int encoders, size_t ring_bytes)
{
	memset(h, 0, sizeof(*h));
	h->cfg.encoders = encoders;
	h->cfg.ring_bytes = ring_bytes;
	h->cfg.drain_timeout = 5;
	h->cfg.sources = h->src;
	h->cfg.log_level = CFG_LOG_WARN;
	cr_assert_eq(shm_create(&h->shm, &h->cfg, "", 0), 0);
	for (int i = 0; i < encoders; i++)
		cr_assert_eq(ring_cons_attach(&h->cons[i], shm_in_ring(&h->shm, i)), 0);
	h->rows = calloc(H_MAX_ROWS, sizeof(*h->rows));
	cr_assert(h->rows);
	snprintf(h->dir, sizeof(h->dir), "/tmp/flowrw-ingest-XXXXXX");
	cr_assert(mkdtemp(h->dir));
	/* FLOWRW_TEST_LOG=info shows the child's info lines. */
	log_init("ingest", -1, getenv("FLOWRW_TEST_LOG") ? LOG_LVL_INFO : LOG_LVL_WARN);
}

static inline struct cfg_source *h_source(struct harness *h, enum cfg_source_type t)
{
	struct cfg_source *s = &h->src[h->cfg.n_sources++];

	memset(s, 0, sizeof(*s));
	s->type = t;
	s->data_source = -1;
	s->max_line_bytes = 1024 * 1024;
	return s;
}

static inline char *h_path(struct harness *h, const char *name)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s", h->dir, name) > 0);
	return p;
}

/* Fork the ingest loop. */
static inline void h_start(struct harness *h)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (h->child_close > 0)
			close(h->child_close);
		if (h->stdin_fd > 0) {
			dup2(h->stdin_fd, 0);
			close(h->stdin_fd);
		}
		_exit(ing_run(&h->shm, &h->cfg));
	}
	h->pid = pid;
}

/* Wait for the child (bounded); its exit code, or -1 on timeout (killed). */
static inline int h_wait(struct harness *h, int timeout_ms)
{
	int64_t end = h_ms() + timeout_ms;
	int st;

	while (h_ms() < end) {
		pid_t r = waitpid(h->pid, &st, WNOHANG);

		if (r == h->pid) {
			h->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(5000);
	}
	kill(h->pid, SIGKILL);
	waitpid(h->pid, &st, 0);
	h->pid = 0;
	return -1;
}

static inline void h_kill(struct harness *h, int sig)
{
	int st;

	if (h->pid > 0) {
		kill(h->pid, sig);
		if (sig == SIGKILL) {
			waitpid(h->pid, &st, 0);
			h->pid = 0;
		}
	}
}

static inline void h_fini(struct harness *h)
{
	char cmd[128];

	if (h->pid > 0)
		h_kill(h, SIGKILL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd) != 0) {
		/* best effort */
	}
	free(h->rows);
	shm_fini(&h->shm);
}

/* Take every committed row out of the rings into h->rows.  Returns how
 * many were taken. */
static inline size_t h_take(struct harness *h)
{
	size_t n0 = h->n_rows;

	for (int e = 0; e < h->cfg.encoders; e++) {
		const void *rec;
		uint32_t len;
		uint64_t units = 0;

		while ((rec = ring_peek(&h->cons[e], &len))) {
			struct rawrow_view v;
			struct h_row *r = &h->rows[h->n_rows];
			int m;

			cr_assert(rawrow_decode(rec, len, &v), "ring %d holds a malformed raw row", e);
			cr_assert_lt(h->n_rows, H_MAX_ROWS);
			r->enc = e;
			r->ds = v.hdr->ds;
			r->time = v.hdr->time;
			r->series = v.tag_kind[SCHEMA_T_SERVER_PORT] == RAWROW_T_NUM ? rawrow_tag_num(&v, SCHEMA_T_SERVER_PORT)
										      : -1;
			m = schema_family_is_app(v.family) ? schema_metric_by_name(v.family, "request", 7)
							   : schema_metric_by_name(v.family, "packet_tx", 9);
			r->id = rawrow_has_metric(v.hdr, m) ? v.metric[m] : -1;
			/* Same series, same encoder: recompute the route. */
			cr_assert_eq(route_encoder(h->cfg.encoders, rec), e, "row routed to the wrong encoder");
			h->n_rows++;
			units++;
			ring_advance(&h->cons[e]);
		}
		ring_release(&h->cons[e], units);
	}
	return h->n_rows - n0;
}

/* Take rows until <want> are there or <timeout_ms> passes. */
static inline size_t h_take_until(struct harness *h, size_t want, int timeout_ms)
{
	int64_t end = h_ms() + timeout_ms;

	while (h->n_rows < want && h_ms() < end) {
		if (!h_take(h))
			usleep(2000);
	}
	return h->n_rows;
}

/* Every ring closed and read to its end. */
static inline bool h_all_drained(struct harness *h)
{
	h_take(h);
	for (int e = 0; e < h->cfg.encoders; e++)
		if (!ring_drained(&h->cons[e]))
			return false;
	return true;
}

/* A network.1s row: series <port>, id <id> in packet_tx. */
static inline int h_row_text(char *buf, size_t cap, int port, long id)
{
	return snprintf(buf, cap,
			"{\"datasource\":\"flow_metrics.network.1s\",\"time\":1716998400,\"packet_tx\":%ld,"
			"\"packet_rx\":3,\"ip4\":\"10.0.0.1\",\"pod\":\"web-%d\",\"protocol\":\"TCP\","
			"\"server_port\":%d,\"time_str\":\"x\"}\n",
			id, port % 7, port);
}

static inline void h_write_file(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	cr_assert(f, "open %s", path);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	cr_assert_eq(fclose(f), 0);
}

static inline uint64_t h_stat(const stat_t *c)
{
	return stat_get(c);
}

/* Each id in [0, n) seen exactly once. */
static inline void h_assert_ids_once(struct harness *h, long n)
{
	unsigned char *seen = calloc((size_t)n, 1);

	cr_assert(seen);
	for (size_t i = 0; i < h->n_rows; i++) {
		long id = (long)h->rows[i].id;

		cr_assert(id >= 0 && id < n, "unexpected id %ld", id);
		cr_assert_eq(seen[id], 0, "id %ld delivered twice", id);
		seen[id] = 1;
	}
	for (long i = 0; i < n; i++)
		cr_assert_eq(seen[i], 1, "id %ld never delivered", i);
	free(seen);
}

#endif
