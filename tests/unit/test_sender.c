/* SPDX-License-Identifier: MIT */
/* test_sender.c: the real sender against rw-testsrv: statuses, retries, ordering, failover. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "sender/lane.h"
#include "tests/unit/sender_harness.h"

static struct harness H;

static void setup(void)
{
	h_init(&H);
}

static void teardown(void)
{
	h_fini(&H);
}

/* Common end: close the lane rings, the sender must exit 0 by itself. */
static void finish_ok(int ms)
{
	h_close_lanes(&H);
	cr_assert_eq(h_sender_wait(&H, ms), 0, "sender did not exit 0 after the rings closed");
	for (int i = 0; i < H_MAX_SRV; i++)
		h_srv_stop(&H, i); /* flushes the stats file */
}

static void srv_checks_clean(int i)
{
	cr_expect_eq(h_srv_stat(&H, i, "order_violations"), 0, "per-series order broken");
	cr_expect_eq(h_srv_stat(&H, i, "duplicates"), 0, "a 2xx batch was sent again");
	cr_expect_eq(h_srv_stat(&H, i, "decode_errors"), 0);
	cr_expect_eq(h_srv_stat(&H, i, "bad_headers"), 0, "missing remote-write headers");
}

Test(sender, delivers_2xx_and_keeps_connections, .init = setup, .fini = teardown, .timeout = 30)
{
	int port = h_srv_start(&H, 0, 0, "--status 204");

	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 2, "    endpoints: [http://127.0.0.1:%d/api/v1/write]\n"
				     "    queue-count: 2\n    batch-size: 100\n", port), 0);
	h_sender_start(&H, 0);
	for (int r = 0; r < 10; r++)
		for (int lane = 0; lane < 4; lane++)
			cr_assert_eq(h_feed(&H, lane, lane * 1000, 50, 1000 + r, 3), 0);
	cr_assert(h_wait_settled(&H, 2000, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "requests"), 40);
	cr_expect_eq(h_srv_stat(&H, 0, "series_2xx"), 2000);
	srv_checks_clean(0);
	cr_expect_eq(stat_get(&h_xstats(&H)->series_sent), 2000);
	cr_expect_eq(stat_get(&h_xstats(&H)->samples_sent), 2000);
	cr_expect_eq(stat_get(&h_xstats(&H)->batches_sent), 40);
	cr_expect_eq(stat_get(&h_xstats(&H)->retries), 0);
	cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].ok), 40);
	cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].in_flight), 0);
	/* keep-alive: at most one connection per lane */
	cr_expect_leq(h_srv_stat(&H, 0, "connections"), 4);
	cr_expect_leq(stat_get(&h_xstats(&H)->endpoint[0].connects), 4);
}

/* --- status classes (2xx delivered, 4xx dropped once, 429/5xx retried) ---- */

struct status_case {
	int status;
	bool delivered;     /* the first batch ends up stored */
	int extra;          /* requests beyond one per batch */
};

ParameterizedTestParameters(sender, status_classes)
{
	static struct status_case cases[] = {
		{ 200, true, 0 }, { 204, true, 0 }, { 400, false, 0 }, { 404, false, 0 },
		{ 413, false, 0 }, { 429, true, 2 }, { 500, true, 2 }, { 503, true, 2 },
	};

	return cr_make_param_array(struct status_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Which timestamps did 2xx-answered requests carry, per request? */
static int count_log(const char *path, int status_lo, int status_hi, long long ts)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		long long req, t;
		int st;

		if (sscanf(line, "%lld %d %lld", &req, &st, &t) == 3 && st >= status_lo &&
		    st <= status_hi && (ts < 0 || t == ts))
			n++;
	}
	fclose(f);
	return n;
}

ParameterizedTest(struct status_case *c, sender, status_classes, .init = setup, .fini = teardown,
		  .timeout = 30)
{
	char args[128];
	int port;
	const int batches = 5, per = 20;

	if (c->extra)
		snprintf(args, sizeof(args), "--script %d,%d", c->status, c->status);
	else
		snprintf(args, sizeof(args), "--script %d", c->status);
	port = h_srv_start(&H, 0, 0, args);
	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/write]\n"
				     "    queue-count: 1\n    batch-size: 100\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.05\n", port), 0);
	h_sender_start(&H, 0);
	for (int b = 0; b < batches; b++)
		cr_assert_eq(h_feed(&H, 0, 0, per, 1000 + b, 2), 0);
	cr_assert(h_wait_settled(&H, batches * per, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "requests"), batches + c->extra,
		     "status %d: %lld requests", c->status, h_srv_stat(&H, 0, "requests"));
	cr_expect_eq(h_srv_stat(&H, 0, "series_2xx"), (c->delivered ? batches : batches - 1) * per);
	srv_checks_clean(0);
	/* The first batch (ts 1000) was stored once or never. */
	cr_expect_eq(count_log(H.srv[0].log, 200, 299, 1000), c->delivered ? per : 0);
	cr_expect_eq(stat_get(&h_xstats(&H)->retries), (uint64_t)c->extra);
	if (!c->delivered) {
		char needle[64];

		cr_expect_eq(stat_get(&h_xstats(&H)->batches_dropped), 1);
		cr_expect_eq(stat_get(&h_xstats(&H)->series_dropped), per);
		cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].status_4xx), 1);
		snprintf(needle, sizeof(needle), "HTTP %d, dropped a batch of %d series", c->status, per);
		cr_expect(h_log_has(&H, needle), "no drop line in the sender log");
		cr_expect(h_log_has(&H, "rw-testsrv: status"), "the response body was not logged");
	} else {
		cr_expect_eq(stat_get(&h_xstats(&H)->batches_dropped), 0);
		if (c->status == 429)
			cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].status_429), 2);
		if (c->status >= 500)
			cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].status_5xx), 2);
	}
}

/* --- Retry-After ----------------------------------------------------------- */

static void retry_after_case(const char *ra, int min_ms, int max_ms)
{
	char args[128];
	int port;
	long long gap;

	snprintf(args, sizeof(args), "--script 503,204 --retry-after %s", ra);
	port = h_srv_start(&H, 0, 0, args);
	cr_assert_gt(port, 0);
	/* Without Retry-After the retry would come within 20 ms. */
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/write]\n"
				     "    queue-count: 1\n    batch-size: 100\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.02\n", port), 0);
	h_sender_start(&H, 0);
	cr_assert_eq(h_feed(&H, 0, 0, 10, 1000, 0), 0);
	cr_assert(h_wait_settled(&H, 10, 10000));
	finish_ok(5000);
	cr_assert_eq(h_srv_stat(&H, 0, "requests"), 2);
	gap = h_srv_stat(&H, 0, "last_ms") - h_srv_stat(&H, 0, "first_ms");
	cr_expect_geq(gap, min_ms, "retried after %lld ms", gap);
	cr_expect_leq(gap, max_ms, "retried after %lld ms", gap);
	srv_checks_clean(0);
}

Test(sender, retry_after_seconds, .init = setup, .fini = teardown, .timeout = 30)
{
	retry_after_case("2", 1950, 2600);
}

Test(sender, retry_after_http_date, .init = setup, .fini = teardown, .timeout = 30)
{
	/* An HTTP-date has whole seconds: 3 s ahead means 2..3 s from now. */
	retry_after_case("date+3", 1900, 3600);
}

/* --- ordering ---------------------------------------------------------- */

Test(sender, order_holds_under_random_delays_and_failures, .init = setup, .fini = teardown,
     .timeout = 60)
{
	const int lanes = 8, series = 400, rounds = 15;
	int port = h_srv_start(&H, 0, 0, "--delay-random 20 --fail-random 20 --seed 7");

	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 2, "    endpoints: [http://127.0.0.1:%d/write]\n"
				     "    queue-count: 4\n    batch-size: 100\n"
				     "    min-backoff: 0.005\n    max-backoff: 0.05\n", port), 0);
	h_sender_start(&H, 0);
	for (int r = 0; r < rounds; r++)
		for (int l = 0; l < lanes; l++)
			/* lane l owns series [l*50, l*50+50) */
			cr_assert_eq(h_feed(&H, l, l * (series / lanes), series / lanes, 1000 + r, 4), 0);
	cr_assert(h_wait_settled(&H, (uint64_t)series * rounds, 30000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "samples_2xx"), series * rounds);
	cr_expect_gt(h_srv_stat(&H, 0, "answered_5xx"), 0, "no failure was injected");
	cr_expect_gt(stat_get(&h_xstats(&H)->retries), 0);
	srv_checks_clean(0);
}

/* --- connections ------------------------------------------------------- */

Test(sender, reconnects_after_server_closes_and_never_resends, .init = setup, .fini = teardown,
     .timeout = 30)
{
	int port = h_srv_start(&H, 0, 0, "--close-every 1 --delay-random 5");

	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/write]\n"
				     "    queue-count: 1\n    batch-size: 100\n", port), 0);
	h_sender_start(&H, 0);
	for (int b = 0; b < 30; b++)
		cr_assert_eq(h_feed(&H, 0, 0, 10, 1000 + b, 1), 0);
	cr_assert(h_wait_settled(&H, 300, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "requests"), 30);
	cr_expect_eq(h_srv_stat(&H, 0, "connections"), 30);
	cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].connects), 30);
	cr_expect_eq(stat_get(&h_xstats(&H)->retries), 0);
	srv_checks_clean(0);
}

Test(sender, survives_server_restart, .init = setup, .fini = teardown, .timeout = 30)
{
	int port = h_srv_start(&H, 0, 0, "");

	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/write]\n"
				     "    queue-count: 2\n    batch-size: 100\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.1\n", port), 0);
	h_sender_start(&H, 0);
	for (int b = 0; b < 5; b++)
		for (int l = 0; l < 2; l++)
			cr_assert_eq(h_feed(&H, l, l * 100, 10, 1000 + b, 1), 0);
	cr_assert(h_wait_settled(&H, 100, 10000));
	/* Kept-alive connections die with the server; a new one takes over. */
	h_srv_stop(&H, 0);
	cr_assert_eq(h_srv_start(&H, 1, port, ""), port);
	for (int b = 5; b < 10; b++)
		for (int l = 0; l < 2; l++)
			cr_assert_eq(h_feed(&H, l, l * 100, 10, 1000 + b, 1), 0);
	cr_assert(h_wait_settled(&H, 200, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 1, "series_2xx"), 100);
	srv_checks_clean(1);
}

static uint64_t seed_with_last(uint32_t n, uint32_t last)
{
	for (uint64_t seed = 1; seed < 100000; seed++) {
		uint64_t rng = seed;
		uint32_t order[CFG_MAX_ENDPOINTS];

		for (uint32_t i = 0; i < n; i++)
			order[i] = i;
		lane_shuffle(&rng, order, n);
		if (order[n - 1] == last)
			return seed;
	}
	return 0;
}

Test(sender, fails_over_across_three_endpoints_two_down, .init = setup, .fini = teardown,
     .timeout = 30)
{
	int dead1 = h_dead_port(&H, 0), dead2 = h_dead_port(&H, 1);
	int port = h_srv_start(&H, 0, 0, "");
	/* The seed puts the live endpoint last: every lane must fail over twice. */
	uint64_t seed = seed_with_last(3, 2);

	cr_assert(dead1 > 0 && dead2 > 0 && port > 0 && seed);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/a, http://127.0.0.1:%d/b, "
				     "http://127.0.0.1:%d/c]\n"
				     "    queue-count: 2\n    batch-size: 100\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.05\n", dead1, dead2, port), 0);
	h_sender_start(&H, seed);
	for (int b = 0; b < 10; b++)
		for (int l = 0; l < 2; l++)
			cr_assert_eq(h_feed(&H, l, l * 100, 10, 1000 + b, 1), 0);
	cr_assert(h_wait_settled(&H, 200, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "requests"), 20, "the live endpoint got every batch once");
	cr_expect_eq(h_srv_stat(&H, 0, "series_2xx"), 200);
	cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[0].transport_errors), 2);
	cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[1].transport_errors), 2);
	cr_expect_eq(stat_get(&h_xstats(&H)->endpoint[2].ok), 20);
	cr_expect_eq(stat_get(&h_xstats(&H)->series_dropped), 0);
	cr_expect(h_log_has(&H, "connection refused"));
	srv_checks_clean(0);
}

Test(sender, all_endpoints_down_then_back_loses_nothing, .init = setup, .fini = teardown,
     .timeout = 40)
{
	int pa = h_srv_start(&H, 0, 0, ""), pb = h_srv_start(&H, 1, 0, "");
	struct stats_exporter *x;

	cr_assert(pa > 0 && pb > 0);
	h_srv_stop(&H, 0);
	h_srv_stop(&H, 1);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/w, http://127.0.0.1:%d/w]\n"
				     "    queue-count: 2\n    batch-size: 100\n"
				     "    min-backoff: 0.02\n    max-backoff: 0.3\n", pa, pb), 0);
	x = h_xstats(&H);
	h_sender_start(&H, 0);
	for (int b = 0; b < 10; b++)
		for (int l = 0; l < 2; l++)
			cr_assert_eq(h_feed(&H, l, l * 100, 10, 1000 + b, 1), 0);
	h_sleep_ms(1500);
	cr_expect_eq(stat_get(&x->series_sent), 0);
	cr_expect_eq(stat_get(&x->series_dropped), 0, "nothing may be dropped while endpoints are down");
	cr_expect_gt(stat_get(&x->endpoint[0].transport_errors) + stat_get(&x->endpoint[1].transport_errors), 4);
	/* Everything is still in the lane rings. */
	for (int l = 0; l < 2; l++)
		cr_expect_eq(ring_used_bytes(H.prod[l].hdr) > 0, true);
	cr_assert_eq(h_srv_start(&H, 2, pb, ""), pb);
	cr_assert(h_wait_settled(&H, 200, 10000), "not delivered after the endpoint came back");
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 2, "series_2xx"), 200);
	cr_expect_eq(stat_get(&x->series_dropped), 0);
	srv_checks_clean(2);
}

/* --- bad responses: connection closed, batch retried, clear log line ---- */

/* <timeout>: request-timeout in seconds; short, so that "hang" is quick. */
static void bad_response_case(const char *script, const char *needle, int requests, double timeout)
{
	char args[128];
	int port;

	snprintf(args, sizeof(args), "--script %s", script);
	port = h_srv_start(&H, 0, 0, args);
	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/api/v1/write?x=1]\n"
				     "    queue-count: 1\n    batch-size: 100\n    request-timeout: %g\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.05\n", port, timeout), 0);
	h_sender_start(&H, 0);
	cr_assert_eq(h_feed(&H, 0, 0, 10, 1000, 1), 0);
	cr_assert_eq(h_feed(&H, 0, 0, 10, 1001, 1), 0);
	cr_assert(h_wait_settled(&H, 20, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "requests"), requests);
	cr_expect_eq(h_srv_stat(&H, 0, "series_2xx"), 20);
	srv_checks_clean(0);
	if (needle) {
		char url[128];

		cr_expect(h_log_has(&H, needle), "no `%s` in the sender log", needle);
		/* The endpoint is named, without the query string. */
		snprintf(url, sizeof(url), "endpoint http://127.0.0.1:%d/api/v1/write: ", port);
		cr_expect(h_log_has(&H, url), "endpoint not named as %s", url);
	}
}

Test(sender, malformed_response_is_retried, .init = setup, .fini = teardown, .timeout = 30)
{
	bad_response_case("malformed", "malformed response head", 3, 0.5);
}

Test(sender, oversized_response_head_is_retried, .init = setup, .fini = teardown, .timeout = 30)
{
	bad_response_case("bighead", "response head larger than 8 KiB", 3, 0.5);
}

Test(sender, closed_and_reset_connections_are_retried, .init = setup, .fini = teardown, .timeout = 30)
{
	bad_response_case("close,reset", "connection", 4, 0.5);
}

Test(sender, request_timeout_fires_and_retries, .init = setup, .fini = teardown, .timeout = 30)
{
	bad_response_case("hang", "no response within request-timeout", 3, 0.5);
	cr_expect_geq(h_srv_stat(&H, 0, "last_ms") - h_srv_stat(&H, 0, "first_ms"), 450);
}

Test(sender, huge_2xx_body_counts_as_delivered, .init = setup, .fini = teardown, .timeout = 30)
{
	/* 4 MiB answers take a while under ASan on a busy machine: the
	 * timeout is not what this case tests. */
	bad_response_case("huge,huge", NULL, 2, 10);
	cr_expect_eq(stat_get(&h_xstats(&H)->retries), 0);
}

Test(sender, chunked_answers_keep_the_connection, .init = setup, .fini = teardown, .timeout = 30)
{
	int port = h_srv_start(&H, 0, 0, "--chunked --script 503,200 --body-bytes 300");

	cr_assert_gt(port, 0);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/w]\n"
				     "    queue-count: 1\n    batch-size: 100\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.05\n", port), 0);
	h_sender_start(&H, 0);
	for (int b = 0; b < 5; b++)
		cr_assert_eq(h_feed(&H, 0, 0, 10, 1000 + b, 1), 0);
	cr_assert(h_wait_settled(&H, 50, 10000));
	finish_ok(5000);
	cr_expect_eq(h_srv_stat(&H, 0, "requests"), 6);
	cr_expect_eq(h_srv_stat(&H, 0, "connections"), 1);
	srv_checks_clean(0);
}

/* --- drain ----------------------------------------------------------------- */

Test(sender, drain_deadline_counts_undelivered, .init = setup, .fini = teardown, .timeout = 30)
{
	int dead = h_dead_port(&H, 0);

	cr_assert_gt(dead, 0);
	cr_assert_eq(h_config(&H, 1, "    endpoints: [http://127.0.0.1:%d/w]\n"
				     "    queue-count: 2\n    batch-size: 100\n"
				     "    min-backoff: 0.01\n    max-backoff: 0.05\n", dead), 0);
	h_sender_start(&H, 0);
	for (int l = 0; l < 2; l++)
		cr_assert_eq(h_feed(&H, l, l * 100, 15, 1000, 1), 0);
	h_sleep_ms(200);
	__atomic_store_n((int64_t *)&H.shm.hdr->drain_deadline_ms, h_now_ms() + 300, __ATOMIC_RELEASE);
	__atomic_store_n((uint32_t *)&H.shm.hdr->phase, SHM_PHASE_DRAIN, __ATOMIC_RELEASE);
	/* The rings stay open (the encoders would close them): only the deadline ends it. */
	cr_assert_eq(h_sender_wait(&H, 3000), 0);
	cr_expect_eq(stat_get(&h_xstats(&H)->undelivered_series), 30);
	cr_expect(h_log_has(&H, "30 series undelivered"));
}

/* --- backoff ------------------------------------------------------------- */

Test(sender, backoff_is_capped_exponential_with_full_jitter)
{
	uint64_t rng = 12345;
	const int64_t min_b = 30000000, max_b = 5000000000LL;

	for (uint32_t a = 0; a < 20; a++) {
		int64_t cap = min_b << (a < 10 ? a : 10), hi = 0;

		if (cap > max_b)
			cap = max_b;
		for (int i = 0; i < 2000; i++) {
			int64_t d = lane_backoff_ns(&rng, min_b, max_b, a);

			cr_assert(d >= 0 && d <= cap, "attempt %u: %lld outside [0, %lld]", a, (long long)d,
				  (long long)cap);
			if (d > hi)
				hi = d;
		}
		/* Full jitter: the whole range is used. */
		cr_expect_gt(hi, cap * 9 / 10, "attempt %u: largest %lld of cap %lld", a, (long long)hi,
			     (long long)cap);
	}
}
