/* SPDX-License-Identifier: MIT */
/* test_ingest_net.c: TCP (1000 concurrent connections, routing) and Unix stream sources. */
#include "ingest_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>

static struct harness H;

static void fini(void)
{
	h_fini(&H);
}

TestSuite(ingest_net, .fini = fini, .timeout = 60);

static int tcp_port(void)
{
	int64_t end = h_ms() + 5000;

	while (h_ms() < end) {
		uint64_t p = h_stat(&H.shm.stats->in.source[0].listen_port);

		if (p)
			return (int)p;
		usleep(2000);
	}
	cr_assert_fail("ingest never listened");
	return -1;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		cr_assert_gt(w, 0, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

static void wait_stat(const stat_t *c, uint64_t want, int timeout_ms, const char *what)
{
	int64_t end = h_ms() + timeout_ms;

	while (h_stat(c) != want && h_ms() < end) {
		h_take(&H);
		usleep(2000);
	}
	cr_assert_eq(h_stat(c), want, "%s: %llu, want %llu", what, (unsigned long long)h_stat(c),
		     (unsigned long long)want);
}

/* 1000 connections open at once, each sending rows of many series: every
 * row arrives once, every series always goes to the same encoder, all
 * encoders get work. */
Test(ingest_net, thousand_concurrent_connections)
{
	enum { CONNS = 1000, PER = 20, SERIES = 64 };
	struct rlimit rl;
	struct cfg_source *src;
	static int fds[CONNS];
	int port, enc_of[SERIES], per_enc[4] = { 0 };
	char row[512];

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < CONNS + 64)
		cr_skip_test("RLIMIT_NOFILE hard limit %llu < %d", (unsigned long long)rl.rlim_max, CONNS + 64);
	h_init(&H, 4, 1 << 20);
	src = h_source(&H, CFG_SRC_TCP);
	src->listen = "127.0.0.1:0";
	h_start(&H);
	port = tcp_port();
	for (int i = 0; i < CONNS; i++)
		fds[i] = tcp_connect(port);
	wait_stat(&H.shm.stats->in.source[0].open_connections, CONNS, 10000, "open connections");
	for (int j = 0; j < PER; j++) {
		for (int i = 0; i < CONNS; i++) {
			long id = (long)i * PER + j;
			int n = h_row_text(row, sizeof(row), (int)(id % SERIES), id);

			send_all(fds[i], row, (size_t)n);
		}
		h_take(&H);
	}
	/* One more connection dies mid-row: that partial row is rejected. */
	{
		int fd = tcp_connect(port);

		send_all(fd, "{\"datasource\":\"flow_metrics.network.1s\",\"ti", 44);
		close(fd);
	}
	for (int i = 0; i < CONNS; i++)
		close(fds[i]);
	h_take_until(&H, CONNS * PER, 20000);
	wait_stat(&H.shm.stats->in.source[0].open_connections, 0, 10000, "open connections after close");
	cr_assert_eq(H.n_rows, CONNS * PER);
	h_assert_ids_once(&H, CONNS * PER);
	for (int s = 0; s < SERIES; s++)
		enc_of[s] = -1;
	for (size_t i = 0; i < H.n_rows; i++) {
		int s = (int)H.rows[i].series;

		if (enc_of[s] < 0)
			enc_of[s] = H.rows[i].enc;
		cr_assert_eq(H.rows[i].enc, enc_of[s], "series %d split over encoders %d and %d", s, enc_of[s],
			     H.rows[i].enc);
	}
	for (int s = 0; s < SERIES; s++)
		per_enc[enc_of[s]]++;
	for (int e = 0; e < 4; e++)
		cr_assert_gt(per_enc[e], 0, "encoder %d got no series", e);
	cr_assert_eq(h_stat(&H.shm.stats->in.source[0].connections), CONNS + 1);
	cr_assert_eq(h_stat(&H.shm.stats->in.rejected[STATS_REJ_MALFORMED_JSON]), 1);
	h_kill(&H, SIGTERM);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
}

/* A row split over several writes (and TCP segments) is reassembled; a
 * connection's rows keep their order. */
Test(ingest_net, rows_split_across_writes)
{
	struct cfg_source *src;
	char row[512];
	int fd, n;

	h_init(&H, 2, 1 << 20);
	src = h_source(&H, CFG_SRC_TCP);
	src->listen = "127.0.0.1:0";
	h_start(&H);
	fd = tcp_connect(tcp_port());
	for (int i = 0; i < 50; i++) {
		n = h_row_text(row, sizeof(row), 5, i);
		for (int k = 0; k < n; k += 7) {
			send_all(fd, row + k, (size_t)(n - k < 7 ? n - k : 7));
			if (i < 3)
				usleep(1000);
		}
	}
	close(fd);
	h_take_until(&H, 50, 10000);
	h_assert_ids_once(&H, 50);
	for (size_t i = 0; i < H.n_rows; i++)
		cr_assert_eq(H.rows[i].id, (double)i, "order kept");
}

/* Unix socket: a stale socket file is replaced, the new one is 0660, rows
 * arrive, and a clean stop removes it. */
Test(ingest_net, unix_socket)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cfg_source *src;
	struct stat sb;
	char *path, row[512];
	int fd, stale;
	int64_t end;

	h_init(&H, 2, 1 << 20);
	path = h_path(&H, "in.sock");
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(stale, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(stale); /* the file stays: a crashed listener's leftover */
	src = h_source(&H, CFG_SRC_UNIX);
	src->path = path;
	h_start(&H);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	end = h_ms() + 5000;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 && h_ms() < end)
		usleep(5000);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 0777, 0660, "mode %o", sb.st_mode & 0777);
	for (int i = 0; i < 200; i++) {
		int n = h_row_text(row, sizeof(row), i % 9, i);

		send_all(fd, row, (size_t)n);
	}
	close(fd);
	h_take_until(&H, 200, 10000);
	h_assert_ids_once(&H, 200);
	cr_assert_eq(h_stat(&H.shm.stats->in.source[0].connections), 1);
	h_kill(&H, SIGTERM);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	cr_assert_eq(stat(path, &sb), -1, "socket file removed at exit");
	free(path);
}

/* A full ring stops the reading of a TCP source (the writer sees its
 * socket buffers fill), and reading resumes when the encoder catches up.
 * The test thread is both the writer and the only consumer of the ring, so
 * it never makes a blocking write: a blocked write would wait for ingest,
 * which waits for this thread to drain the ring. */
Test(ingest_net, full_ring_pushes_back_on_the_writer)
{
	enum { MAX_ROWS = 300000, AFTER = 3000 };
	struct cfg_source *src;
	char row[512];
	int fd, n = 0, off = 0;
	long id = 0, target;
	bool blocked = false;
	int64_t end;

	h_init(&H, 1, 4096);
	src = h_source(&H, CFG_SRC_TCP);
	src->listen = "127.0.0.1:0";
	h_start(&H);
	fd = tcp_connect(tcp_port());
	cr_assert_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	/* Nobody reads the ring: the writer must come to a stop. */
	end = h_ms() + 10000;
	while (id < MAX_ROWS && h_ms() < end) {
		ssize_t w;

		n = h_row_text(row, sizeof(row), (int)(id % 3), id);
		w = write(fd, row, (size_t)n);
		if (w == n) {
			id++;
			continue;
		}
		cr_assert(w > 0 || errno == EAGAIN, "write: %s", strerror(errno));
		off = w > 0 ? (int)w : 0;
		blocked = true;
		break;
	}
	cr_assert(blocked, "the writer never blocked (%ld rows written)", id);
	end = h_ms() + 5000;
	while (h_stat(&H.shm.stats->in.ring_full_waits) == 0 && h_ms() < end)
		usleep(2000);
	cr_assert_gt(h_stat(&H.shm.stats->in.ring_full_waits), 0, "ingest never waited on the full ring");
	/* Now read while writing more: reading resumes, the row cut short and
	 * AFTER more rows go through the same connection. */
	target = id + 1 + AFTER;
	end = h_ms() + 20000;
	while (id < target && h_ms() < end) {
		ssize_t w;

		h_take(&H);
		w = write(fd, row + off, (size_t)(n - off));
		if (w < 0) {
			cr_assert_eq(errno, EAGAIN, "write: %s", strerror(errno));
			usleep(1000);
			continue;
		}
		off += (int)w;
		if (off == n) {
			id++;
			off = 0;
			n = h_row_text(row, sizeof(row), (int)(id % 3), id);
		}
	}
	cr_assert_eq(id, target, "the writer stayed blocked after the ring was drained (%ld of %ld rows)", id, target);
	/* Everything written arrives, once. */
	h_take_until(&H, (size_t)id, 15000);
	h_assert_ids_once(&H, id);
	close(fd);
}
