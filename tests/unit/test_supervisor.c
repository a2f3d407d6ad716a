/* SPDX-License-Identifier: MIT */
/* test_supervisor.c: /metrics rendering, the stats HTTP server and `flowrw status` parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/ring.h"
#include "common/shm.h"
#include "supervisor/metrics.h"
#include "supervisor/stats_http.h"
#include "supervisor/status.h"

static const char yaml[] =
	"exporters:\n"
	"  - protocol: prometheus\n"
	"    data-sources: [flow_metrics.network.1m]\n"
	"    endpoints: [\"http://127.0.0.1:9/a\", \"http://[::1]:9/b\\\"q\"]\n"
	"    queue-count: 2\n"
	"  - protocol: kafka\n"
	"    data-sources: [flow_metrics.network.1m]\n"
	"    endpoints: [\"127.0.0.1:9092\"]\n"
	"flowrw:\n"
	"  encoders: 3\n"
	"  ring-bytes: 4MiB\n"
	"  stats-listen: \"\"\n"
	"  sources: [{type: stdin}, {type: tcp, listen: \"127.0.0.1:0\"}]\n";

static struct cfg cfg;
static struct shm shm;

static void setup(void)
{
	struct cfg_diag diag = { 0 };
	int err = cfg_load_buffer(&cfg, yaml, sizeof(yaml) - 1, "t.yaml", &diag);

	if (err)
		cfg_diag_print(&diag, stderr);
	cfg_diag_fini(&diag);
	cr_assert_eq(err, 0);
	cr_assert_eq(shm_create(&shm, &cfg, yaml, sizeof(yaml) - 1), 0);
}

static void teardown(void)
{
	shm_fini(&shm);
	cfg_fini(&cfg);
}

static char *render(size_t *len)
{
	char *text = NULL;

	cr_assert_eq(metrics_render(&shm, &cfg, &text, len), 0);
	cr_assert(text && *len > 0);
	return text;
}

TestSuite(supervisor, .init = setup, .fini = teardown);

Test(supervisor, metrics_carry_the_counters_of_the_stats_page)
{
	struct stats_page *p = shm.stats;
	struct status_scrape sc = { 0 };
	size_t len;
	char *text;

	stat_add(&p->in.rows_in, 42);
	stat_add(&p->in.rejected[STATS_REJ_WRONG_TYPE], 3);
	stat_add(&p->in.source[1].connections, 5);
	stat_add(&p->enc[2].exporter[0].series, 77);
	stat_add(&p->exp[0].samples_sent, 1000);
	stat_add(&p->exp[0].endpoint[1].status_429, 4);
	stat_set(&p->encoder[1].pid, 1234);
	stat_add(&p->encoder[1].restarts, 2);
	/* latency: 1 request in the 2 ms bucket, 2 in +Inf */
	stat_add(&p->exp[0].endpoint[0].latency_bucket[1], 1);
	stat_add(&p->exp[0].endpoint[0].latency_bucket[STATS_LAT_BUCKETS], 2);
	text = render(&len);
	cr_assert_eq(status_parse(&sc, text, len), 0);

	cr_expect_eq(status_sum(&sc, "flowrw_ingest_rows_total", NULL), 42);
	cr_expect_eq(status_sum(&sc, "flowrw_ingest_rejected_rows_total", "reason=\"wrong_type\""), 3);
	cr_expect_eq(status_sum(&sc, "flowrw_ingest_rejected_rows_total", NULL), 3);
	cr_expect_eq(status_sum(&sc, "flowrw_source_connections_total", "source=\"1\",type=\"tcp\""), 5);
	cr_expect_eq(status_sum(&sc, "flowrw_encoder_series_total", "encoder=\"2\",exporter=\"0\""), 77);
	cr_expect_eq(status_sum(&sc, "flowrw_exporter_sent_samples_total", "exporter=\"0\""), 1000);
	cr_expect_eq(status_sum(&sc, "flowrw_endpoint_responses_total", "status=\"429\""), 4);
	cr_expect_eq(status_sum(&sc, "flowrw_process_up", "role=\"encoder\",index=\"1\""), 1);
	cr_expect_eq(status_sum(&sc, "flowrw_process_up", "role=\"encoder\",index=\"0\""), 0);
	cr_expect_eq(status_sum(&sc, "flowrw_process_restarts_total", "role=\"encoder\""), 2);
	/* Histogram buckets are cumulative; +Inf equals _count. */
	cr_expect_eq(status_sum(&sc, "flowrw_endpoint_request_duration_seconds_bucket",
				"endpoint=\"http://127.0.0.1:9/a\",le=\"0.001\""), 0);
	cr_expect_eq(status_sum(&sc, "flowrw_endpoint_request_duration_seconds_bucket",
				"endpoint=\"http://127.0.0.1:9/a\",le=\"0.002\""), 1);
	cr_expect_eq(status_sum(&sc, "flowrw_endpoint_request_duration_seconds_bucket",
				"endpoint=\"http://127.0.0.1:9/a\",le=\"+Inf\""), 3);
	cr_expect_eq(status_sum(&sc, "flowrw_endpoint_request_duration_seconds_count",
				"endpoint=\"http://127.0.0.1:9/a\""), 3);
	/* The inactive (kafka) exporter has no series of its own. */
	cr_expect_eq(status_sum(&sc, "flowrw_exporter_lanes", "exporter=\"1\""), 0);
	cr_expect(strstr(text, "exporter=\"1\"") == NULL, "an inactive exporter appears in /metrics");
	/* Every ring: 3 input rings and 3 encoders x 2 lanes. */
	cr_expect_eq(status_sum(&sc, "flowrw_ring_size_bytes", "ring=\"in2\""), 4 << 20);
	cr_expect_eq(status_sum(&sc, "flowrw_ring_size_bytes", "ring=\"e0.enc2.q1\""),
		     (double)shm_lane_ring_bytes(&cfg.exporters[0]));
	status_scrape_fini(&sc);
	free(text);
}

Test(supervisor, metrics_text_is_valid_exposition_format)
{
	regex_t sample, help, type;
	size_t len;
	char *text = render(&len), *line, *save = NULL;
	char families[512][96];
	int n_fam = 0, n_lines = 0;

	/* name, optional {k="v",...} with escaped values, a space, a number */
	cr_assert_eq(regcomp(&sample,
			     "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})? "
			     "[-+0-9.eE]+$",
			     REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$", REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regcomp(&type, "^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram)$",
			     REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		n_lines++;
		if (!strncmp(line, "# HELP ", 7)) {
			cr_expect_eq(regexec(&help, line, 0, NULL, 0), 0, "bad HELP line: %s", line);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char name[96];

			cr_expect_eq(regexec(&type, line, 0, NULL, 0), 0, "bad TYPE line: %s", line);
			sscanf(line + 7, "%95s", name);
			for (int i = 0; i < n_fam; i++)
				cr_expect_str_neq(families[i], name, "family %s declared twice", name);
			if (n_fam < 512)
				strcpy(families[n_fam++], name);
			continue;
		}
		cr_expect_eq(regexec(&sample, line, 0, NULL, 0), 0, "bad sample line: %s", line);
	}
	cr_expect_gt(n_fam, 40);
	cr_expect_gt(n_lines, 200);
	/* The quote in the second endpoint's URL is escaped. */
	regfree(&sample);
	regfree(&help);
	regfree(&type);
	free(text);
	text = render(&len);
	cr_expect(strstr(text, "endpoint=\"http://[::1]:9/b\\\"q\"") != NULL);
	free(text);
}

Test(supervisor, ring_fill_follows_the_ring)
{
	struct ring_prod p;
	struct status_scrape sc = { 0 };
	size_t len;
	char *text;

	cr_assert_eq(ring_prod_attach(&p, shm_in_ring(&shm, 1)), 0);
	cr_assert_not_null(ring_reserve(&p, 1000));
	ring_commit(&p, 1);
	text = render(&len);
	cr_assert_eq(status_parse(&sc, text, len), 0);
	cr_expect_geq(status_sum(&sc, "flowrw_ring_used_bytes", "ring=\"in1\""), 1000);
	cr_expect_eq(status_sum(&sc, "flowrw_ring_used_bytes", "ring=\"in0\""), 0);
	cr_expect_eq(status_sum(&sc, "flowrw_ring_in_total", "ring=\"in1\""), 1);
	status_scrape_fini(&sc);
	free(text);
}

Test(supervisor, split_hostport)
{
	char h[64], p[16];

	cr_expect_eq(stats_http_split_hostport("127.0.0.1:9464", h, sizeof(h), p, sizeof(p)), 0);
	cr_expect_str_eq(h, "127.0.0.1");
	cr_expect_str_eq(p, "9464");
	cr_expect_eq(stats_http_split_hostport("[::1]:80", h, sizeof(h), p, sizeof(p)), 0);
	cr_expect_str_eq(h, "::1");
	cr_expect_str_eq(p, "80");
	cr_expect_eq(stats_http_split_hostport(":9464", h, sizeof(h), p, sizeof(p)), 0);
	cr_expect_str_eq(h, "");
	cr_expect_eq(stats_http_split_hostport("localhost", h, sizeof(h), p, sizeof(p)), -EINVAL);
	cr_expect_eq(stats_http_split_hostport("[::1]80", h, sizeof(h), p, sizeof(p)), -EINVAL);
	cr_expect_eq(stats_http_split_hostport("[]:80", h, sizeof(h), p, sizeof(p)), -EINVAL);
	cr_expect_eq(stats_http_split_hostport("host:", h, sizeof(h), p, sizeof(p)), -EINVAL);
}

/* One request through the real server: the supervisor's loop is an epoll
 * wait and stats_http_event() per event, done here by hand. */
static char *http_exchange(struct stats_http *h, int epfd, const char *req, size_t *got)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(h->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char *buf = calloc(1, 1 << 20);
	size_t n = 0;

	cr_assert(fd >= 0 && buf);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (int round = 0; round < 200; round++) { /* bounded: 200 x 10 ms */
		struct epoll_event evs[8];
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int k = epoll_wait(epfd, evs, 8, 10);

		for (int i = 0; i < k; i++)
			stats_http_event(h, (uint32_t)evs[i].data.u64, evs[i].events);
		if (poll(&pf, 1, 0) == 1) {
			ssize_t r = read(fd, buf + n, (1 << 20) - 1 - n);

			if (r <= 0)
				break;
			n += (size_t)r;
		}
	}
	close(fd);
	*got = n;
	return buf;
}

Test(supervisor, http_serves_metrics_and_refuses_the_rest)
{
	struct stats_http h;
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	size_t n;
	char *resp;

	stat_add(&shm.stats->in.rows_in, 7);
	cr_assert_eq(stats_http_open(&h, "127.0.0.1:0", epfd, &shm, &cfg), 0);
	cr_assert_gt(h.port, 0);

	resp = http_exchange(&h, epfd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &n);
	cr_expect(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "got: %.60s", resp);
	cr_expect(strstr(resp, "\nflowrw_ingest_rows_total 7\n") != NULL);
	{
		char *body = strstr(resp, "\r\n\r\n");
		unsigned long clen = strtoul(strstr(resp, "Content-Length: ") + 16, NULL, 10);

		cr_assert_not_null(body);
		cr_expect_eq(clen, n - (size_t)(body + 4 - resp), "Content-Length does not match the body");
	}
	free(resp);

	resp = http_exchange(&h, epfd, "GET /nope HTTP/1.1\r\n\r\n", &n);
	cr_expect(strncmp(resp, "HTTP/1.1 404", 12) == 0, "got: %.60s", resp);
	free(resp);
	resp = http_exchange(&h, epfd, "POST /metrics HTTP/1.1\r\n\r\n", &n);
	cr_expect(strncmp(resp, "HTTP/1.1 405", 12) == 0, "got: %.60s", resp);
	free(resp);
	resp = http_exchange(&h, epfd, "HEAD /metrics HTTP/1.1\r\n\r\n", &n);
	cr_expect(strncmp(resp, "HTTP/1.1 200", 12) == 0, "got: %.60s", resp);
	cr_expect(strstr(resp, "\r\n\r\n") + 4 == resp + n, "HEAD answered with a body");
	free(resp);
	stats_http_close(&h);
	close(epfd);
}

Test(supervisor, status_parse_takes_the_last_field_as_value)
{
	static const char text[] = "# HELP a x\n# TYPE a counter\na 1\na{k=\"v w\"} 2.5\n"
				   "ab{k=\"v\"} 100\nb{x=\"1\",y=\"2\"} 3\n";
	struct status_scrape sc = { 0 };

	cr_assert_eq(status_parse(&sc, text, sizeof(text) - 1), 0);
	cr_expect_eq(sc.n, 4);
	cr_expect_eq(status_sum(&sc, "a", NULL), 3.5);     /* not "ab" */
	cr_expect_eq(status_sum(&sc, "a", "k=\"v w\""), 2.5);
	cr_expect_eq(status_sum(&sc, "b", "x=\"1\",y=\"2\""), 3);
	cr_expect_eq(status_sum(&sc, "b", "x=\"1\",y=\"3\""), 0);
	status_scrape_fini(&sc);
}
