/* SPDX-License-Identifier: MIT */
/* sender_harness.h: drive the real sender against rw-testsrv without an encoder (tests, bench). */
#ifndef FLOWRW_SENDER_HARNESS_H
#define FLOWRW_SENDER_HARNESS_H

/*
 * The test plays the encoder: it builds the config from YAML (the real
 * loader), creates the arena with shm_create(), encodes its own batches
 * (protobuf-c + snappy) into the lane rings, and runs either
 * bin/flowrw-sender (exec, FLOWRW_SHM_FD) or sender_run() in a forked child
 * (to fix the seed).  Receivers are rw-testsrv processes on 127.0.0.1.
 * Every wait is bounded; children die with the test (PR_SET_PDEATHSIG).
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <snappy-c.h>

#include "common/batch-t.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/ring.h"
#include "common/shm.h"
#include "remote.pb-c.h"
#include "sender/sender.h"

#define H_MAX_SRV 4

struct h_srv {
	pid_t pid;
	int port;
	char stats[256], log[256], control[256];
};

struct harness {
	char dir[64];
	char *yaml;
	struct cfg cfg;
	struct shm shm;
	bool have_shm;
	pid_t sender;
	int sender_status;
	char sender_log[256];
	struct h_srv srv[H_MAX_SRV];
	int reserved_fd[H_MAX_SRV];   /* bound, never listening: connection refused */
	struct ring_prod *prod;       /* one per lane ring of exporter 0 */
	int n_prod;
	uint8_t *raw, *comp;
	size_t raw_cap, comp_cap;
	const char *flowrw_extra;     /* more `flowrw:` keys, each line indented by 2 */
};

static inline int64_t h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void h_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static inline const char *h_build_dir(void)
{
	const char *b = getenv("FLOWRW_BUILD");

	return b && *b ? b : "build";
}

static inline const char *h_bin_dir(void)
{
	const char *b = getenv("FLOWRW_BIN");

	return b && *b ? b : "bin";
}

static inline void h_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/flowrw-sender-XXXXXX");
	if (!mkdtemp(h->dir)) {
		perror("mkdtemp");
		abort();
	}
	for (int i = 0; i < H_MAX_SRV; i++)
		h->reserved_fd[i] = -1;
	h->sender = -1;
	signal(SIGPIPE, SIG_IGN);
}

/* Start rw-testsrv number <i> with extra <args> (space-separated); <port>
 * 0 picks one.  Returns the port, or -1. */
static inline int h_srv_start(struct harness *h, int i, int port, const char *args)
{
	struct h_srv *s = &h->srv[i];
	char path[512], portbuf[16], argbuf[1024], *argv[64], line[32];
	int out[2], n = 0, errfd;
	char *save = NULL;
	ssize_t r;
	size_t got = 0;

	char dir[sizeof(h->dir)];

	memcpy(dir, h->dir, sizeof(dir));
	snprintf(s->stats, sizeof(s->stats), "%s/srv%d.stats", dir, i);
	snprintf(s->log, sizeof(s->log), "%s/srv%d.log", dir, i);
	snprintf(s->control, sizeof(s->control), "%s/srv%d.control", dir, i);
	snprintf(path, sizeof(path), "%s/tests/rw-testsrv", h_build_dir());
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(argbuf, sizeof(argbuf), "%s", args ? args : "");
	argv[n++] = path;
	argv[n++] = (char *)"--port";
	argv[n++] = portbuf;
	argv[n++] = (char *)"--stats";
	argv[n++] = s->stats;
	argv[n++] = (char *)"--log";
	argv[n++] = s->log;
	argv[n++] = (char *)"--control";
	argv[n++] = s->control;
	argv[n++] = (char *)"--max-seconds";
	argv[n++] = (char *)"120";
	argv[n++] = (char *)"--check-order";
	for (char *t = strtok_r(argbuf, " ", &save); t && n < 62; t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	if (pipe(out) == -1)
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		char errpath[300];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(errpath, sizeof(errpath), "%s/srv%d.err", h->dir, i);
		errfd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(out[1], 1);
		if (errfd >= 0)
			dup2(errfd, 2);
		close(out[0]);
		execv(path, argv);
		_exit(127);
	}
	close(out[1]);
	while (got < sizeof(line) - 1) {
		r = read(out[0], line + got, 1);
		if (r <= 0)
			break;
		if (line[got++] == '\n')
			break;
	}
	close(out[0]);
	line[got] = '\0';
	s->port = got ? atoi(line) : -1;
	return s->port > 0 ? s->port : -1;
}

static inline void h_srv_stop(struct harness *h, int i)
{
	struct h_srv *s = &h->srv[i];
	int st;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	for (int k = 0; k < 500; k++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		h_sleep_ms(10);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
}

/* Write the control file of server <i> (replaces every setting). */
static inline void h_srv_control(struct harness *h, int i, const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", h->srv[i].control);
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	rename(tmp, h->srv[i].control);
}

/* A counter from server <i>'s stats file, or -1. */
static inline long long h_srv_stat(struct harness *h, int i, const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(h->srv[i].stats, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t kl = strlen(key);

		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			v = atoll(line + kl + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

/* A port nothing listens on (held bound so nobody takes it): refused. */
static inline int h_dead_port(struct harness *h, int i)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -1;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	h->reserved_fd[i] = fd;
	return ntohs(sa.sin_port);
}

/*
 * Load <exporter_yaml> (the keys of one exporter after `protocol`, indented
 * by four spaces, e.g. "    endpoints: [...]\n    queue-count: 2\n") with
 * <encoders> encoders, and create the arena.  Returns 0 or a negative errno.
 */
static inline int h_config(struct harness *h, int encoders, const char *fmt, ...)
{
	struct cfg_diag diag = { 0 };
	char body[4096];
	va_list ap;
	int err, n;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	h->yaml = malloc(8192);
	n = snprintf(h->yaml, 8192,
		     "exporters:\n"
		     "  - protocol: prometheus\n"
		     "    data-sources: [flow_metrics.network.1m]\n"
		     "%s"
		     "flowrw:\n"
		     "  encoders: %d\n"
		     "  stats-listen: \"\"\n"
		     "  drain-timeout: 5\n"
		     "  sources: [{type: stdin}]\n"
		     "  log-level: %s\n"
		     "%s",
		     body, encoders, getenv("H_LOG_LEVEL") ? getenv("H_LOG_LEVEL") : "info",
		     h->flowrw_extra ? h->flowrw_extra : "");
	err = cfg_load_buffer(&h->cfg, h->yaml, (size_t)n, "sender-test.yaml", &diag);
	if (err) {
		cfg_diag_print(&diag, stderr);
		cfg_diag_fini(&diag);
		return err;
	}
	cfg_diag_fini(&diag);
	err = shm_create(&h->shm, &h->cfg, h->yaml, (size_t)n);
	if (err)
		return err;
	h->have_shm = true;
	h->n_prod = shm_lane_count(&h->shm, 0) * encoders;
	h->prod = calloc((size_t)h->n_prod, sizeof(*h->prod));
	for (int enc = 0; enc < encoders; enc++)
		for (int q = 0; q < shm_lane_count(&h->shm, 0); q++)
			ring_prod_attach(&h->prod[enc * shm_lane_count(&h->shm, 0) + q],
					 shm_lane_ring(&h->shm, 0, enc, q));
	return 0;
}

/* Run bin/flowrw-sender (seed 0) or sender_run() with <seed> in a child. */
static inline void h_sender_start(struct harness *h, uint64_t seed)
{
	snprintf(h->sender_log, sizeof(h->sender_log), "%s/sender.log", h->dir);
	h->sender = fork();
	if (h->sender == 0) {
		char path[512], fdbuf[16];
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(h->sender_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		if (seed) {
			log_init("sender", -1, LOG_LVL_INFO);
			signal(SIGPIPE, SIG_IGN);
			_exit(sender_run(&h->shm, &h->cfg, seed));
		}
		snprintf(path, sizeof(path), "%s/flowrw-sender", h_bin_dir());
		snprintf(fdbuf, sizeof(fdbuf), "%d", h->shm.fd);
		setenv(SHM_ENV_FD, fdbuf, 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
}

/* Wait up to <ms> for the sender to exit; returns its exit code, -1 on
 * timeout, 128+sig when killed. */
static inline int h_sender_wait(struct harness *h, int ms)
{
	int64_t end = h_now_ms() + ms;
	int st;

	if (h->sender <= 0)
		return h->sender_status;
	while (h_now_ms() < end) {
		if (waitpid(h->sender, &st, WNOHANG) == h->sender) {
			h->sender = 0;
			h->sender_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return h->sender_status;
		}
		h_sleep_ms(5);
	}
	return -1;
}

/* Does the sender's log contain <needle>? */
static inline bool h_log_has(struct harness *h, const char *needle)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(h->sender_log, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/*
 * Encode a batch (protobuf-c + snappy) into h->comp: series ids <first> ..
 * <first + n - 1>, one sample each at <ts> (value = ts).  Series labels:
 * __name__="flowrw_test", series="<id>", plus <extra_labels> filler labels
 * to make realistic sizes.  Returns the compressed length.
 */
static inline size_t h_encode(struct harness *h, int first, int n, int64_t ts, int extra_labels,
			      size_t *raw_out)
{
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	Prometheus__TimeSeries *tsv = calloc((size_t)n, sizeof(*tsv));
	Prometheus__TimeSeries **tsp = calloc((size_t)n, sizeof(*tsp));
	Prometheus__Sample *smp = calloc((size_t)n, sizeof(*smp));
	Prometheus__Sample **smpp = calloc((size_t)n, sizeof(*smpp));
	int nl = 2 + extra_labels;
	Prometheus__Label *lab = calloc((size_t)(n * nl), sizeof(*lab));
	Prometheus__Label **labp = calloc((size_t)(n * nl), sizeof(*labp));
	char *strs = calloc((size_t)n, 32 + 48 * (size_t)extra_labels);
	static const char *const names[] = { "agent_id", "az", "host", "l7_protocol", "pod",
					     "pod_ns", "protocol", "region", "role", "server_port",
					     "tap_side", "vpc" };
	size_t raw_len, comp_len;

	for (int i = 0; i < n; i++) {
		char *sp = strs + (size_t)i * (32 + 48 * (size_t)extra_labels);
		int k = 0;

		prometheus__time_series__init(&tsv[i]);
		prometheus__sample__init(&smp[i]);
		smp[i].timestamp = ts;
		smp[i].value = (double)ts;
		smpp[i] = &smp[i];
		tsv[i].n_samples = 1;
		tsv[i].samples = &smpp[i];
		tsv[i].labels = &labp[i * nl];
		tsv[i].n_labels = (size_t)nl;
		/* sorted: __name__ < extra names (a..v) < series */
		prometheus__label__init(&lab[i * nl + k]);
		lab[i * nl + k].name = (char *)"__name__";
		lab[i * nl + k].value = (char *)"flowrw_test";
		labp[i * nl + k] = &lab[i * nl + k];
		k++;
		for (int x = 0; x < extra_labels; x++) {
			prometheus__label__init(&lab[i * nl + k]);
			lab[i * nl + k].name = (char *)names[x % 12];
			snprintf(sp + 32 + 48 * x, 48, "value-%d-%d", x, (first + i) % (7 + x));
			lab[i * nl + k].value = sp + 32 + 48 * x;
			labp[i * nl + k] = &lab[i * nl + k];
			k++;
		}
		prometheus__label__init(&lab[i * nl + k]);
		lab[i * nl + k].name = (char *)"series";
		snprintf(sp, 32, "%d", first + i);
		lab[i * nl + k].value = sp;
		labp[i * nl + k] = &lab[i * nl + k];
	}
	wr.n_timeseries = (size_t)n;
	wr.timeseries = tsp;
	for (int i = 0; i < n; i++)
		tsp[i] = &tsv[i];
	raw_len = prometheus__write_request__get_packed_size(&wr);
	if (raw_len > h->raw_cap) {
		free(h->raw);
		h->raw_cap = raw_len;
		h->raw = malloc(raw_len);
	}
	prometheus__write_request__pack(&wr, h->raw);
	comp_len = snappy_max_compressed_length(raw_len);
	if (comp_len > h->comp_cap) {
		free(h->comp);
		h->comp_cap = comp_len;
		h->comp = malloc(comp_len);
	}
	snappy_compress((const char *)h->raw, raw_len, (char *)h->comp, &comp_len);
	free(tsv);
	free(tsp);
	free(smp);
	free(smpp);
	free(lab);
	free(labp);
	free(strs);
	if (raw_out)
		*raw_out = raw_len;
	return comp_len;
}

/* Commit <body>/<len> as a batch of <n> series to lane <lane> of exporter 0;
 * waits (bounded, <wait_ms>) for ring space.  Returns 0 or -ETIMEDOUT. */
static inline int h_commit(struct harness *h, int lane, const void *body, size_t len, int n,
			   size_t raw_len, int64_t ts, int wait_ms)
{
	int64_t end = h_now_ms() + wait_ms;
	struct batch_hdr *bh;

	for (;;) {
		bh = ring_reserve(&h->prod[lane], (uint32_t)(sizeof(*bh) + len));
		if (bh)
			break;
		if (h_now_ms() >= end)
			return -ETIMEDOUT;
		h_sleep_ms(1);
	}
	memset(bh, 0, sizeof(*bh));
	bh->magic = BATCH_MAGIC;
	bh->lane = (uint16_t)lane;
	bh->n_series = (uint32_t)n;
	bh->n_samples = (uint32_t)n;
	bh->raw_len = (uint32_t)raw_len;
	bh->body_len = (uint32_t)len;
	bh->min_ts_ms = bh->max_ts_ms = ts;
	memcpy(bh + 1, body, len);
	ring_commit(&h->prod[lane], (uint64_t)n);
	return 0;
}

/* Encode and commit one batch to lane <lane> (see h_encode); waits up to 10 s. */
static inline int h_feed(struct harness *h, int lane, int first, int n, int64_t ts, int extra_labels)
{
	size_t raw, len = h_encode(h, first, n, ts, extra_labels, &raw);

	return h_commit(h, lane, h->comp, len, n, raw, ts, 10000);
}

static inline void h_close_lanes(struct harness *h)
{
	for (int i = 0; i < h->n_prod; i++)
		ring_close(&h->prod[i]);
}

static inline struct stats_exporter *h_xstats(struct harness *h)
{
	return &h->shm.stats->exp[0];
}

/* Wait up to <ms> until exporter 0 delivered (or dropped) <series> series. */
static inline bool h_wait_settled(struct harness *h, uint64_t series, int ms)
{
	int64_t end = h_now_ms() + ms;

	while (h_now_ms() < end) {
		if (stat_get(&h_xstats(h)->series_sent) + stat_get(&h_xstats(h)->series_dropped) >= series)
			return true;
		h_sleep_ms(5);
	}
	return false;
}

static inline void h_fini(struct harness *h)
{
	char cmd[128];

	if (h->sender > 0) {
		kill(h->sender, SIGKILL);
		waitpid(h->sender, NULL, 0);
	}
	for (int i = 0; i < H_MAX_SRV; i++) {
		h_srv_stop(h, i);
		if (h->reserved_fd[i] >= 0)
			close(h->reserved_fd[i]);
	}
	if (h->have_shm)
		shm_fini(&h->shm);
	cfg_fini(&h->cfg);
	free(h->yaml);
	free(h->prod);
	free(h->raw);
	free(h->comp);
	if (!getenv("FLOWRW_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", h->dir);
	}
}

#endif
