/* SPDX-License-Identifier: MIT */
/* flowrw-gen: write synthetic DeepFlow JSON rows (the synthetic source's generator) to stdout or TCP. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/schema.h"
#include "ingest/json_row.h"
#include "ingest/rowb.h"
#include "ingest/src_synthetic.h"

#define GEN_BUF (1 << 20)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: flowrw-gen [options]\n"
		"Write DeepFlow Kafka-JSON rows (one per line), as flowrw's synthetic source makes them.\n"
		"  -d, --data-source NAME  flow_metrics.<network|network_map|application|application_map>.<1s|1m>\n"
		"                          (default flow_metrics.application_map.1s)\n"
		"  -n, --rows N            rows to write, 0 = endless (default 1000)\n"
		"  -s, --series N          distinct series (default 500)\n"
		"  -S, --seed N            same seed, same rows (default 1)\n"
		"  -r, --rate N            rows per second, 0 = as fast as allowed (default 0)\n"
		"  -c, --connect HOST:PORT send to a TCP address instead of stdout\n"
		"  -t, --time SECONDS      fixed timestamp instead of the current time (implies --no-rounds)\n"
		"      --no-rounds         do not wait for the next period between rounds of <series> rows;\n"
		"                          a series may then repeat a timestamp (with identical values)\n"
		"Timestamps are the current time aligned to the data source's period; a round of\n"
		"<series> rows waits for the next period, so the rate is at most series/period.\n");
}

static int tcp_open(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	char host[256], port[16];
	const char *colon = strrchr(addr, ':');
	size_t hl;
	int fd = -1, err;

	if (!colon || (hl = (size_t)(colon - addr)) >= sizeof(host) || strlen(colon + 1) >= sizeof(port)) {
		fprintf(stderr, "flowrw-gen: --connect wants HOST:PORT, not %s\n", addr);
		return -1;
	}
	if (hl >= 2 && addr[0] == '[') {
		memcpy(host, addr + 1, hl - 2);
		host[hl - 2] = 0;
	} else {
		memcpy(host, addr, hl);
		host[hl] = 0;
	}
	strcpy(port, colon + 1);
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "flowrw-gen: %s: %s\n", addr, gai_strerror(err));
		return -1;
	}
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd != -1 && connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	if (fd == -1)
		fprintf(stderr, "flowrw-gen: connect %s: %s\n", addr, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "flowrw-gen: write: %s\n", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-source", required_argument, NULL, 'd' }, { "rows", required_argument, NULL, 'n' },
		{ "series", required_argument, NULL, 's' },      { "seed", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'r' },        { "connect", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },        { "no-rounds", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
	};
	const char *ds_name = "flow_metrics.application_map.1s", *connect_to = NULL;
	uint64_t rows = 1000, series = 500, seed = 1, rate = 0, fixed_time = 0;
	bool rounds = true;
	static struct synth g;
	static struct rowb b;
	char *buf = malloc(GEN_BUF);
	size_t used = 0;
	int c, ds, fd = STDOUT_FILENO;

	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "d:n:s:S:r:c:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': ds_name = optarg; break;
		case 'n': rows = strtoull(optarg, NULL, 10); break;
		case 's': series = strtoull(optarg, NULL, 10); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtoull(optarg, NULL, 10); break;
		case 'c': connect_to = optarg; break;
		case 't': fixed_time = strtoull(optarg, NULL, 10); rounds = false; break;
		case 'R': rounds = false; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	ds = schema_ds_from_name(ds_name, strlen(ds_name));
	if (optind != argc || ds < 0 || series < 1 || !buf) {
		if (ds < 0)
			fprintf(stderr, "flowrw-gen: unknown data source %s\n", ds_name);
		usage(stderr);
		return 2;
	}
	if (connect_to && (fd = tcp_open(connect_to)) < 0)
		return 1;
	synth_init(&g, ds, seed, series, rows, rate);
	for (;;) {
		int64_t mono = clock_ms(CLOCK_MONOTONIC), wall = clock_ms(CLOCK_REALTIME), wake;
		uint32_t t;
		int rc, n;

		if (!rounds)
			g.last_ts = 0; /* forget the round: never wait for the next period */
		rc = synth_due(&g, mono, wall, &t, &wake);
		if (rc < 0)
			break;
		if (rc == 0) {
			if (used && write_all(fd, buf, used))
				return 1;
			used = 0;
			usleep((useconds_t)((wake - mono) * 1000));
			continue;
		}
		if (fixed_time)
			t = (uint32_t)(fixed_time / synth_period(ds) * synth_period(ds));
		synth_row(&g, g.next, t, &b);
		if (GEN_BUF - used < 16384) {
			if (write_all(fd, buf, used))
				return 1;
			used = 0;
		}
		n = jrow_format(&b, buf + used, GEN_BUF - used - 1);
		if (n < 0) {
			fprintf(stderr, "flowrw-gen: row %llu does not fit\n", (unsigned long long)g.next);
			return 1;
		}
		used += (size_t)n;
		buf[used++] = '\n';
		synth_advance(&g, t);
	}
	if (used && write_all(fd, buf, used))
		return 1;
	if (fd != STDOUT_FILENO)
		close(fd);
	free(buf);
	return 0;
}
