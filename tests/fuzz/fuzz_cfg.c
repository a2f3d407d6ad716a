/* SPDX-License-Identifier: MIT */
/* fuzz_cfg.c: the YAML config loader (common/cfg*.c) on arbitrary text. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/cfg.h"
#include "sender/http1.h"
#include "tests/fuzz/fuzz.h"

#define FC_NAME "fuzz.yaml"

static bool fc_digits(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* What the rest of flowrw relies on once a config loaded without errors:
 * the supervisor sizes shared memory from it and the sender builds its
 * request heads from it without further checks. */
static void fc_check_loaded(const struct cfg *c)
{
	static char head[65536];
	long lanes = 0;
	char sum[256];

	FUZZ_CHECK(c->encoders >= 1 && c->encoders <= CFG_MAX_ENCODERS, "encoders %d", c->encoders);
	FUZZ_CHECK(c->n_sources >= 1 && c->n_sources <= CFG_MAX_SOURCES && c->sources,
		   "%d sources", c->n_sources);
	FUZZ_CHECK(c->n_exporters >= 0 && (c->n_exporters == 0 || c->exporters), "%d exporters",
		   c->n_exporters);
	FUZZ_CHECK(isfinite(c->drain_timeout) && c->drain_timeout >= 0, "drain-timeout %g",
		   c->drain_timeout);
	FUZZ_CHECK(c->ring_bytes > 0, "ring-bytes 0");
	FUZZ_CHECK(c->stats_listen != NULL, "no stats listen");
	for (int i = 0; i < c->n_sources; i++) {
		const struct cfg_source *s = &c->sources[i];

		FUZZ_CHECK(s->data_source >= -1 && s->data_source < 9 && s->data_source != 4,
			   "source %d data source %d", i, s->data_source);
		FUZZ_CHECK(s->max_line_bytes > 0, "source %d max line 0", i);
		if (s->type == CFG_SRC_TCP)
			FUZZ_CHECK(s->listen && *s->listen, "tcp source %d without an address", i);
		if (s->type == CFG_SRC_UNIX || s->type == CFG_SRC_FILE)
			FUZZ_CHECK(s->path && *s->path, "source %d without a path", i);
	}
	for (int i = 0; i < c->n_exporters; i++) {
		const struct cfg_exporter *e = &c->exporters[i];

		if (!e->active)
			continue;
		FUZZ_CHECK(e->enabled && e->protocol == CFG_PROTO_PROMETHEUS && e->ds_mask,
			   "exporter %d active but not a subscribed prometheus one", i);
		FUZZ_CHECK(e->n_endpoints >= 1 && e->n_endpoints <= CFG_MAX_ENDPOINTS, "exporter %d: %d endpoints",
			   i, e->n_endpoints);
		FUZZ_CHECK(e->queue_count >= 1 && e->queue_count <= CFG_MAX_QUEUE_COUNT,
			   "exporter %d queue-count %d", i, e->queue_count);
		FUZZ_CHECK(e->batch_size >= 1 && e->queue_size >= e->batch_size,
			   "exporter %d batch-size %d queue-size %d", i, e->batch_size, e->queue_size);
		FUZZ_CHECK(isfinite(e->flush_timeout) && e->flush_timeout > 0 &&
			   isfinite(e->request_timeout) && e->request_timeout > 0,
			   "exporter %d timeouts", i);
		FUZZ_CHECK(isfinite(e->max_backoff) && e->min_backoff > 0 && e->min_backoff <= e->max_backoff,
			   "exporter %d backoff %g..%g", i, e->min_backoff, e->max_backoff);
		FUZZ_CHECK(e->n_headers >= 0 && (e->n_headers == 0 || e->headers), "exporter %d headers", i);
		lanes += (long)e->queue_count * c->encoders;
		for (int j = 0; j < e->n_endpoints; j++) {
			const struct cfg_endpoint *ep = &e->endpoints[j];
			int n;

			FUZZ_CHECK(ep->host && *ep->host, "exporter %d endpoint %d: no host", i, j);
			FUZZ_CHECK(fc_digits(ep->port) && atoi(ep->port) >= 1 && atoi(ep->port) <= 65535,
				   "exporter %d endpoint %d: port '%s'", i, j, ep->port ? ep->port : "(null)");
			FUZZ_CHECK(ep->path && ep->path[0] == '/', "exporter %d endpoint %d: path", i, j);
			n = http1_request_prefix(head, sizeof(head), ep->path, ep->host, e->headers,
						 e->n_headers);
			FUZZ_CHECK(n != -EINVAL, "exporter %d endpoint %d: the sender cannot build a request "
				   "head from path, host or extra-headers", i, j);
		}
	}
	FUZZ_CHECK(lanes <= CFG_MAX_LANES, "%ld lanes", lanes);
	cfg_summary(c, sum, sizeof(sum));
	FUZZ_CHECK(memchr(sum, 0, sizeof(sum)) != NULL, "summary not terminated");
}

int fuzz_cfg(const uint8_t *data, size_t size)
{
	struct cfg c;
	struct cfg_diag diag = { 0 };
	int rc;

	rc = cfg_load_buffer(&c, (const char *)data, size, FC_NAME, &diag);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "rc %d", rc);
	FUZZ_CHECK(diag.n_lines == diag.n_errors + diag.n_warnings + diag.n_notes || rc == -ENOMEM,
		   "%d lines for %d errors, %d warnings, %d notes", diag.n_lines, diag.n_errors,
		   diag.n_warnings, diag.n_notes);
	if (rc != -ENOMEM)
		FUZZ_CHECK((rc == 0) == (diag.n_errors == 0), "rc %d with %d errors", rc, diag.n_errors);
	for (int i = 0; i < diag.n_lines; i++)
		FUZZ_CHECK(diag.lines[i] && strncmp(diag.lines[i], FC_NAME, strlen(FC_NAME)) == 0 &&
			   !strchr(diag.lines[i], '\n'), "diagnostic %d: '%s'", i,
			   diag.lines[i] ? diag.lines[i] : "(null)");
	if (rc == 0)
		fc_check_loaded(&c);
	/* Leaks in either show up as LeakSanitizer reports. */
	cfg_fini(&c);
	cfg_diag_fini(&diag);
	return 0;
}

FUZZ_ENTRY(fuzz_cfg)
