/* SPDX-License-Identifier: MIT */
/* sender.c: the real sender posting pre-encoded batches to a local 204 sink on the other core. */
#include <errno.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "tests/unit/sender_harness.h"

/*
 * Usage: sender [SERIES_PER_BATCH] [EXTRA_LABELS] [MB] [QUEUES] [RUNS]
 *        (defaults 1024 12 1024 8 3)
 *
 * Each run:
 *   1. builds one WriteRequest of SERIES_PER_BATCH series (protobuf-c +
 *      snappy, as tests/unit/sender_harness.h does) and an arena with
 *      QUEUES lane rings of one encoder (8 MiB each, or 8 batches);
 *   2. forks the sink, pinned to CPU 1: one epoll loop that reads each
 *      request (headers, Content-Length body, never decompressed) and
 *      answers "204 No Content" at once;
 *   3. forks sender_run() pinned to CPU 0, which posts over keep-alive
 *      connections to 127.0.0.1 and exits when the closed rings are
 *      drained;
 *   4. plays the encoders on CPU 1, beside the mostly idle sink: commits
 *      copies of the batch into whichever lane ring has room until MB
 *      megabytes of compressed payload went in, then closes the rings.
 * The rings are reused lap after lap, as in a long-running pipeline: a ring
 * as large as the whole payload would make the sender pay a page fault per
 * 4 KiB, which a running sender never does.  The first quarter of the
 * bytes is warm-up; the figures are over the rest.
 *
 * Reported: requests/s and MB/s of compressed payload (2xx bodies) over
 * wall time, and per CPU second of the sender (/proc/PID/stat utime +
 * stime over the same interval), the figure that does not depend on what
 * else runs on the machine.  Every child has an alarm() and every wait a
 * deadline.
 */

#define SINK_BUF      (1 << 20)
#define SINK_CONNS    1024
#define RUN_DEADLINE  120 /* seconds: sender and sink alarms */

struct sink_count {
	uint64_t requests;
	uint64_t body_bytes;
	uint64_t bad;
};

struct sink_conn {
	int fd;
	bool in_body;
	uint64_t body_left;
	size_t hlen;
	char hdr[8192];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		fprintf(stderr, "bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Consume <n> bytes of <c>'s stream; answer every complete request. */
static void sink_feed(struct sink_conn *c, const char *p, size_t n, struct sink_count *cnt)
{
	static const char resp[] = "HTTP/1.1 204 No Content\r\n\r\n";

	while (n) {
		if (c->in_body) {
			size_t take = n < c->body_left ? n : (size_t)c->body_left;

			c->body_left -= take;
			cnt->body_bytes += take;
			p += take;
			n -= take;
		} else {
			/* Headers: append until the blank line. */
			size_t room = sizeof(c->hdr) - 1 - c->hlen, take = n < room ? n : room;
			char *end, *cl;
			size_t used;

			memcpy(c->hdr + c->hlen, p, take);
			c->hlen += take;
			c->hdr[c->hlen] = '\0';
			end = strstr(c->hdr, "\r\n\r\n");
			if (!end) {
				if (c->hlen == sizeof(c->hdr) - 1) {
					cnt->bad++;
					c->hlen = 0;
				}
				return;
			}
			used = (size_t)(end + 4 - c->hdr) - (c->hlen - take);
			cl = strcasestr(c->hdr, "\r\ncontent-length:");
			c->body_left = cl ? strtoull(cl + 17, NULL, 10) : 0;
			c->in_body = true;
			c->hlen = 0;
			p += used;
			n -= used;
		}
		if (c->in_body && c->body_left == 0) {
			c->in_body = false;
			cnt->requests++;
			if (write(c->fd, resp, sizeof(resp) - 1) != (ssize_t)(sizeof(resp) - 1))
				cnt->bad++;
		}
	}
}

static void sink_run(int lfd, struct sink_count *cnt)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[64];
	char *buf = malloc(SINK_BUF);
	int ep = epoll_create1(0);

	pin(1);
	alarm(RUN_DEADLINE);
	if (!buf || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		_exit(1);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			struct sink_conn *c = evs[i].data.ptr;

			if (!c) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0)
					continue;
				c = calloc(1, sizeof(*c));
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			for (;;) {
				ssize_t r = read(c->fd, buf, SINK_BUF);

				if (r > 0) {
					sink_feed(c, buf, (size_t)r, cnt);
					if (r < SINK_BUF)
						break;
					continue;
				}
				if (r < 0 && errno == EAGAIN)
					break;
				close(c->fd); /* closing removes it from the epoll set */
				free(c);
				break;
			}
		}
	}
}

/* utime + stime of <pid> in seconds, from /proc (clock ticks). */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, stt = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
		return 0;
	return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

struct run {
	double wall, sender_cpu, sink_cpu;
	uint64_t requests, bytes, sink_requests, sink_bytes;
};

static int one_run(int series, int extra, size_t total, int queues, struct run *out)
{
	static struct harness H;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct sink_count *cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct stats_endpoint *ep;
	size_t raw, len, batches, b = 0;
	uint64_t queue_size, warm_bytes, bytes0 = 0, req0 = 0, sink_req0 = 0, sink_bytes0 = 0;
	pid_t sink, snd;
	struct rusage ru;
	double t0 = 0, cpu0 = 0, sink0 = 0, deadline;
	int lfd, st, rc = 0, lane = 0;

	if (cnt == MAP_FAILED)
		return -1;
	memset(cnt, 0, sizeof(*cnt));
	h_init(&H);
	setenv("H_LOG_LEVEL", "warn", 1);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl))
		return -1;
	len = h_encode(&H, 0, series, 1717000000000, extra, &raw);
	batches = (total + len - 1) / len;
	/* Lane rings of 8 MiB or a few batches, reused lap after lap as in a
	 * long-running pipeline (queue-size sizes them at 40 bytes a series). */
	queue_size = ((len + 4096) * 8 > (8u << 20) ? (len + 4096) * 8 : (8u << 20)) / 40;
	if (queue_size < (uint64_t)series)
		queue_size = (uint64_t)series;
	if (h_config(&H, 1,
		     "    endpoints: [http://127.0.0.1:%d/api/v1/write]\n"
		     "    batch-size: %d\n    queue-count: %d\n    queue-size: %llu\n",
		     ntohs(sa.sin_port), series, queues, (unsigned long long)queue_size)) {
		fprintf(stderr, "bench: config or arena failed\n");
		return -1;
	}
	ep = &h_xstats(&H)->endpoint[0];
	sink = fork();
	if (sink == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sink_run(lfd, cnt);
		_exit(0);
	}
	close(lfd);
	snd = fork();
	if (snd == 0) {
		char path[300];
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin(0);
		alarm(RUN_DEADLINE);
		snprintf(path, sizeof(path), "%s/sender.log", H.dir);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		log_init("sender", -1, LOG_LVL_WARN);
		signal(SIGPIPE, SIG_IGN);
		_exit(sender_run(&H.shm, &H.cfg, 1));
	}
	/* This process plays the encoders, on the sink's core (the sink is
	 * mostly idle): copies of the batch into whichever lane has room.  The
	 * first quarter of the bytes warms up (page faults of the first lap
	 * through the rings, connections); the figure is over the rest. */
	pin(1);
	warm_bytes = (uint64_t)batches * len / 4;
	deadline = now_s() + RUN_DEADLINE;
	while (b < batches && now_s() < deadline) {
		bool any = false;

		for (int k = 0; k < queues && b < batches; k++, lane = (lane + 1) % queues) {
			struct batch_hdr *bh = ring_reserve(&H.prod[lane], (uint32_t)(sizeof(*bh) + len));

			if (!bh)
				continue;
			memset(bh, 0, sizeof(*bh));
			bh->magic = BATCH_MAGIC;
			bh->lane = (uint16_t)lane;
			bh->n_series = bh->n_samples = (uint32_t)series;
			bh->raw_len = (uint32_t)raw;
			bh->body_len = (uint32_t)len;
			bh->min_ts_ms = bh->max_ts_ms = 1717000000000;
			memcpy(bh + 1, H.comp, len);
			ring_commit(&H.prod[lane], (uint64_t)series);
			b++;
			any = true;
		}
		if (t0 == 0 && stat_get(&ep->bytes) >= warm_bytes) {
			t0 = now_s();
			cpu0 = proc_cpu(snd);
			sink0 = proc_cpu(sink);
			bytes0 = stat_get(&ep->bytes);
			req0 = stat_get(&ep->requests);
			sink_req0 = cnt->requests;
			sink_bytes0 = cnt->body_bytes;
		}
		if (!any)
			usleep(200);
	}
	h_close_lanes(&H);
	/* The sender exits once the closed rings are drained. */
	while (waitpid(snd, &st, WNOHANG) == 0) {
		if (now_s() > deadline) {
			kill(snd, SIGKILL);
			waitpid(snd, &st, 0);
			break;
		}
		/* its CPU time, read while it still exists */
		out->sender_cpu = proc_cpu(snd);
		out->sink_cpu = proc_cpu(sink);
		usleep(1000);
	}
	out->wall = now_s() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || t0 == 0) {
		fprintf(stderr, "bench: the sender failed (status %d); log in %s/sender.log\n", st, H.dir);
		rc = -1;
	}
	out->sender_cpu -= cpu0;
	out->sink_cpu -= sink0;
	out->requests = stat_get(&ep->requests) - req0;
	out->bytes = stat_get(&ep->bytes) - bytes0;
	kill(sink, SIGTERM);
	wait4(sink, &st, 0, &ru);
	out->sink_requests = cnt->requests - sink_req0;
	out->sink_bytes = cnt->body_bytes - sink_bytes0;
	if (stat_get(&h_xstats(&H)->series_sent) != (uint64_t)batches * (uint64_t)series || cnt->bad) {
		fprintf(stderr, "bench: %llu of %llu series delivered, %llu bad requests at the sink\n",
			(unsigned long long)stat_get(&h_xstats(&H)->series_sent),
			(unsigned long long)batches * (uint64_t)series, (unsigned long long)cnt->bad);
		rc = -1;
	}
	if (rc == 0)
		h_fini(&H);
	munmap(cnt, sizeof(*cnt));
	return rc;
}

int main(int argc, char **argv)
{
	int series = argc > 1 ? atoi(argv[1]) : 1024;
	int extra = argc > 2 ? atoi(argv[2]) : 12;
	size_t total = (size_t)(argc > 3 ? atol(argv[3]) : 1024) << 20;
	int queues = argc > 4 ? atoi(argv[4]) : 8;
	int runs = argc > 5 ? atoi(argv[5]) : 3;
	double mbs[16], rps[16], mbs_cpu[16], rps_cpu[16], sink_cpu[16];
	static struct harness probe;
	size_t raw, len;

	if (series < 1 || extra < 0 || extra > 64 || queues < 1 || runs < 1 || runs > 16) {
		fprintf(stderr, "usage: sender [SERIES_PER_BATCH] [EXTRA_LABELS 0..64] [MB] [QUEUES] [RUNS 1..16]\n");
		return 2;
	}
	h_init(&probe);
	len = h_encode(&probe, 0, series, 1717000000000, extra, &raw);
	printf("sender: batches of %d series, %d labels each: %zu raw -> %zu compressed bytes; %zu MiB over %d lanes; "
	       "sender on CPU 0, 204 sink on CPU 1\n",
	       series, extra + 2, raw, len, total >> 20, queues);
	h_fini(&probe);
	for (int r = 0; r < runs; r++) {
		struct run x = { 0 };

		if (one_run(series, extra, total, queues, &x))
			return 1;
		mbs[r] = (double)x.bytes / x.wall / 1e6;
		rps[r] = (double)x.requests / x.wall;
		mbs_cpu[r] = (double)x.bytes / x.sender_cpu / 1e6;
		rps_cpu[r] = (double)x.requests / x.sender_cpu;
		sink_cpu[r] = x.sink_cpu / x.wall;
		printf("run %d: %llu requests, %.1f MB in %.2f s: %.0f req/s, %.0f MB/s; sender CPU %.2f s "
		       "(%.0f MB/s, %.0f req/s per CPU second); sink busy %.0f%% (saw %llu requests, %.1f MB)\n",
		       r + 1, (unsigned long long)x.requests, (double)x.bytes / 1e6, x.wall, rps[r], mbs[r],
		       x.sender_cpu, mbs_cpu[r], rps_cpu[r], 100 * sink_cpu[r], (unsigned long long)x.sink_requests,
		       (double)x.sink_bytes / 1e6);
		fflush(stdout);
	}
	qsort(mbs, (size_t)runs, sizeof(double), cmp_double);
	qsort(rps, (size_t)runs, sizeof(double), cmp_double);
	qsort(mbs_cpu, (size_t)runs, sizeof(double), cmp_double);
	qsort(rps_cpu, (size_t)runs, sizeof(double), cmp_double);
	qsort(sink_cpu, (size_t)runs, sizeof(double), cmp_double);
	printf("median of %d: %.0f req/s, %.0f MB/s wall; %.0f req/s, %.0f MB/s per sender CPU second; "
	       "sink busy %.0f%%\n",
	       runs, rps[runs / 2], mbs[runs / 2], rps_cpu[runs / 2], mbs_cpu[runs / 2], 100 * sink_cpu[runs / 2]);
	return 0;
}
