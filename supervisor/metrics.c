/* SPDX-License-Identifier: MIT */
/* metrics.c: render the shared stats page as Prometheus text format. */
#include "supervisor/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/ring.h"
#include "common/stats-t.h"

static const char *const reject_names[STATS_REJ_COUNT] = {
	[STATS_REJ_MALFORMED_JSON] = "malformed_json",
	[STATS_REJ_LINE_TOO_LONG] = "line_too_long",
	[STATS_REJ_UNKNOWN_DATASOURCE] = "unknown_datasource",
	[STATS_REJ_WRONG_TYPE] = "wrong_type",
	[STATS_REJ_MISSING_TIME] = "missing_time",
	[STATS_REJ_MISSING_DATASOURCE] = "missing_datasource",
	[STATS_REJ_TOO_LARGE] = "too_large",
};

static const char *const source_type_names[] = {
	[CFG_SRC_TCP] = "tcp", [CFG_SRC_UNIX] = "unix", [CFG_SRC_FILE] = "file",
	[CFG_SRC_STDIN] = "stdin", [CFG_SRC_SYNTHETIC] = "synthetic",
};

/* One HELP/TYPE header per family, written before its first sample. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values we print are config text (URLs, paths): escape as the
 * exposition format requires. */
static void put_escaped(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void render_procs(FILE *f, const struct stats_page *p, int n_enc)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fams[] = {
		{ "flowrw_process_up", "gauge", "1 while the child process runs.", 0 },
		{ "flowrw_process_starts_total", "counter", "Times the process was started.",
		  offsetof(struct stats_proc, starts) },
		{ "flowrw_process_restarts_total", "counter",
		  "Starts after an unexpected exit (crash, kill).", offsetof(struct stats_proc, restarts) },
	};

	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family(f, fams[k].name, fams[k].type, fams[k].help);
		for (int i = -2; i < n_enc; i++) {
			const struct stats_proc *sp = i == -2 ? &p->ingest : i == -1 ? &p->sender : &p->encoder[i];
			const char *role = i == -2 ? "ingest" : i == -1 ? "sender" : "encoder";
			uint64_t v = k == 0 ? stat_get(&sp->pid) != 0
					    : stat_get((const stat_t *)((const char *)sp + fams[k].off));

			if (i >= 0)
				fprintf(f, "%s{role=\"%s\",index=\"%d\"} %" PRIu64 "\n", fams[k].name, role, i, v);
			else
				fprintf(f, "%s{role=\"%s\"} %" PRIu64 "\n", fams[k].name, role, v);
		}
	}
	family(f, "flowrw_start_time_seconds", "gauge", "When the supervisor started (Unix time).");
	fprintf(f, "flowrw_start_time_seconds %.3f\n", (double)stat_get(&p->started_ms) / 1000.0);
	family(f, "flowrw_draining", "gauge", "1 once the pipeline drains (SIGTERM or sources finished).");
	fprintf(f, "flowrw_draining %" PRIu64 "\n", stat_get(&p->draining));
}

static void render_ingest(FILE *f, const struct stats_ingest *in, const struct cfg *c)
{
	family(f, "flowrw_ingest_rows_total", "counter", "Rows parsed and pushed to an encoder ring.");
	fprintf(f, "flowrw_ingest_rows_total %" PRIu64 "\n", stat_get(&in->rows_in));
	family(f, "flowrw_ingest_bytes_total", "counter", "Input bytes read from every source.");
	fprintf(f, "flowrw_ingest_bytes_total %" PRIu64 "\n", stat_get(&in->bytes_in));
	family(f, "flowrw_ingest_rejected_rows_total", "counter", "Rows rejected, by reason.");
	for (int r = 0; r < STATS_REJ_COUNT; r++)
		fprintf(f, "flowrw_ingest_rejected_rows_total{reason=\"%s\"} %" PRIu64 "\n", reject_names[r],
			stat_get(&in->rejected[r]));
	family(f, "flowrw_ingest_dropped_rows_total", "counter",
	       "Rows dropped by a source with overflow: drop-newest while its ring was full.");
	fprintf(f, "flowrw_ingest_dropped_rows_total %" PRIu64 "\n", stat_get(&in->dropped_overflow));
	family(f, "flowrw_ingest_ring_full_waits_total", "counter",
	       "Times ingest stopped reading because an encoder ring was full (backpressure).");
	fprintf(f, "flowrw_ingest_ring_full_waits_total %" PRIu64 "\n", stat_get(&in->ring_full_waits));
	family(f, "flowrw_ingest_unknown_keys_total", "counter", "JSON keys not in the schema (ignored).");
	fprintf(f, "flowrw_ingest_unknown_keys_total %" PRIu64 "\n", stat_get(&in->unknown_keys));
	family(f, "flowrw_ingest_duplicate_keys_total", "counter", "Fields given twice in a row (the last won).");
	fprintf(f, "flowrw_ingest_duplicate_keys_total %" PRIu64 "\n", stat_get(&in->duplicate_keys));

	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fams[] = {
		{ "flowrw_source_rows_total", "counter", "Rows a source pushed to a ring.",
		  offsetof(struct stats_source, rows) },
		{ "flowrw_source_bytes_total", "counter", "Bytes a source read.", offsetof(struct stats_source, bytes) },
		{ "flowrw_source_rejected_rows_total", "counter", "Rows of a source rejected (every reason).",
		  offsetof(struct stats_source, rejected) },
		{ "flowrw_source_dropped_rows_total", "counter", "Rows of a source dropped (drop-newest).",
		  offsetof(struct stats_source, dropped) },
		{ "flowrw_source_connections_total", "counter", "Connections accepted (tcp, unix).",
		  offsetof(struct stats_source, connections) },
		{ "flowrw_source_open_connections", "gauge", "Connections open now (tcp, unix).",
		  offsetof(struct stats_source, open_connections) },
		{ "flowrw_source_exhausted", "gauge", "1 when a finite source has been read to its end.",
		  offsetof(struct stats_source, exhausted) },
	};
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family(f, fams[k].name, fams[k].type, fams[k].help);
		for (int i = 0; i < c->n_sources && i < CFG_MAX_SOURCES; i++) {
			const struct cfg_source *cs = &c->sources[i];

			fprintf(f, "%s{source=\"%d\",type=\"%s\"} %" PRIu64 "\n", fams[k].name, i,
				source_type_names[cs->type],
				stat_get((const stat_t *)((const char *)&in->source[i] + fams[k].off)));
		}
	}
}

static void render_encoders(FILE *f, const struct stats_page *p, const struct cfg *c)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} encs[] = {
		{ "flowrw_encoder_rows_total", "Rows an encoder took from its input ring.",
		  offsetof(struct stats_encoder, rows_in) },
		{ "flowrw_encoder_bad_rows_total", "Malformed raw rows (a bug; never expected).",
		  offsetof(struct stats_encoder, rows_bad) },
		{ "flowrw_encoder_unrouted_rows_total", "Rows of a data source no exporter takes.",
		  offsetof(struct stats_encoder, rows_unrouted) },
	};
	static const struct {
		const char *name, *help;
		size_t off;
	} exps[] = {
		{ "flowrw_encoder_exporter_rows_total", "Rows the exporter's filters accepted.",
		  offsetof(struct stats_encoder_exporter, rows) },
		{ "flowrw_encoder_exporter_filtered_rows_total", "Rows the exporter's tag filters rejected.",
		  offsetof(struct stats_encoder_exporter, rows_filtered) },
		{ "flowrw_encoder_series_total", "Series encoded.", offsetof(struct stats_encoder_exporter, series) },
		{ "flowrw_encoder_samples_total", "Samples encoded.", offsetof(struct stats_encoder_exporter, samples) },
		{ "flowrw_encoder_batches_total", "Batches (requests) built.",
		  offsetof(struct stats_encoder_exporter, batches) },
		{ "flowrw_encoder_raw_bytes_total", "Protobuf bytes before snappy.",
		  offsetof(struct stats_encoder_exporter, raw_bytes) },
		{ "flowrw_encoder_body_bytes_total", "Request body bytes after snappy.",
		  offsetof(struct stats_encoder_exporter, body_bytes) },
		{ "flowrw_encoder_timeout_flushes_total", "Partial batches sent because flush-timeout passed.",
		  offsetof(struct stats_encoder_exporter, timeout_flushes) },
		{ "flowrw_encoder_label_collisions_total", "Two fields that gave one label name (one kept).",
		  offsetof(struct stats_encoder_exporter, label_collisions) },
		{ "flowrw_encoder_lane_full_waits_total", "Times an encoder waited for room in a lane ring.",
		  offsetof(struct stats_encoder_exporter, lane_full_waits) },
		{ "flowrw_encoder_oversize_series_total", "Series larger than a lane ring record (dropped).",
		  offsetof(struct stats_encoder_exporter, series_oversize) },
		{ "flowrw_encoder_abandoned_series_total", "Series in partial batches at the drain deadline.",
		  offsetof(struct stats_encoder_exporter, series_abandoned) },
	};

	for (size_t k = 0; k < sizeof(encs) / sizeof(encs[0]); k++) {
		family(f, encs[k].name, "counter", encs[k].help);
		for (int i = 0; i < c->encoders; i++)
			fprintf(f, "%s{encoder=\"%d\"} %" PRIu64 "\n", encs[k].name, i,
				stat_get((const stat_t *)((const char *)&p->enc[i] + encs[k].off)));
	}
	for (size_t k = 0; k < sizeof(exps) / sizeof(exps[0]); k++) {
		family(f, exps[k].name, "counter", exps[k].help);
		for (int i = 0; i < c->encoders; i++)
			for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
				if (!c->exporters[e].active)
					continue;
				fprintf(f, "%s{encoder=\"%d\",exporter=\"%d\"} %" PRIu64 "\n", exps[k].name, i, e,
					stat_get((const stat_t *)((const char *)&p->enc[i].exporter[e] +
								   exps[k].off)));
			}
	}
}

static void render_exporters(FILE *f, const struct stats_page *p, const struct cfg *c)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} exps[] = {
		{ "flowrw_exporter_sent_series_total", "counter", "Series delivered (answered 2xx).",
		  offsetof(struct stats_exporter, series_sent) },
		{ "flowrw_exporter_sent_samples_total", "counter", "Samples delivered (answered 2xx).",
		  offsetof(struct stats_exporter, samples_sent) },
		{ "flowrw_exporter_sent_batches_total", "counter", "Requests answered 2xx.",
		  offsetof(struct stats_exporter, batches_sent) },
		{ "flowrw_exporter_dropped_batches_total", "counter",
		  "Requests rejected with a non-retryable 4xx (dropped, logged).",
		  offsetof(struct stats_exporter, batches_dropped) },
		{ "flowrw_exporter_dropped_series_total", "counter", "Series in dropped requests.",
		  offsetof(struct stats_exporter, series_dropped) },
		{ "flowrw_exporter_retries_total", "counter", "Requests sent again after a failure.",
		  offsetof(struct stats_exporter, retries) },
		{ "flowrw_exporter_undelivered_series_total", "counter",
		  "Series still queued when the drain deadline passed.",
		  offsetof(struct stats_exporter, undelivered_series) },
		{ "flowrw_exporter_lanes", "gauge", "Ordered lanes (encoders x queue-count).",
		  offsetof(struct stats_exporter, lanes) },
		{ "flowrw_exporter_lanes_backing_off", "gauge", "Lanes waiting before a retry.",
		  offsetof(struct stats_exporter, lanes_backing_off) },
	};
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} eps[] = {
		{ "flowrw_endpoint_requests_total", "counter", "Requests sent to the endpoint.",
		  offsetof(struct stats_endpoint, requests) },
		{ "flowrw_endpoint_transport_errors_total", "counter",
		  "Connection refused or reset, timeouts, malformed responses.",
		  offsetof(struct stats_endpoint, transport_errors) },
		{ "flowrw_endpoint_sent_bytes_total", "counter", "Body bytes of requests answered 2xx.",
		  offsetof(struct stats_endpoint, bytes) },
		{ "flowrw_endpoint_connects_total", "counter", "Connections opened.",
		  offsetof(struct stats_endpoint, connects) },
		{ "flowrw_endpoint_in_flight_requests", "gauge", "Requests waiting for an answer.",
		  offsetof(struct stats_endpoint, in_flight) },
		{ "flowrw_endpoint_up", "gauge", "1 when the last attempt got an HTTP answer.",
		  offsetof(struct stats_endpoint, up) },
	};
	static const struct {
		const char *cls;
		size_t off;
	} classes[] = {
		{ "2xx", offsetof(struct stats_endpoint, ok) },
		{ "4xx", offsetof(struct stats_endpoint, status_4xx) },
		{ "429", offsetof(struct stats_endpoint, status_429) },
		{ "5xx", offsetof(struct stats_endpoint, status_5xx) },
		{ "other", offsetof(struct stats_endpoint, status_other) },
	};
	static const unsigned bounds_ms[STATS_LAT_BUCKETS] = STATS_LAT_BOUNDS_MS;

	for (size_t k = 0; k < sizeof(exps) / sizeof(exps[0]); k++) {
		family(f, exps[k].name, exps[k].type, exps[k].help);
		for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++)
			if (c->exporters[e].active)
				fprintf(f, "%s{exporter=\"%d\"} %" PRIu64 "\n", exps[k].name, e,
					stat_get((const stat_t *)((const char *)&p->exp[e] + exps[k].off)));
	}
#define EACH_ENDPOINT(body)                                                                  \
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {                  \
		if (!c->exporters[e].active)                                                 \
			continue;                                                            \
		for (int n = 0; n < c->exporters[e].n_endpoints && n < CFG_MAX_ENDPOINTS; n++) { \
			const struct stats_endpoint *ep = &p->exp[e].endpoint[n];            \
			body                                                                 \
		}                                                                            \
	}
#define EP_LABELS() \
	do { fprintf(f, "exporter=\"%d\",endpoint=\"", e); put_escaped(f, c->exporters[e].endpoints[n].url); \
	     fputc('"', f); } while (0)

	for (size_t k = 0; k < sizeof(eps) / sizeof(eps[0]); k++) {
		family(f, eps[k].name, eps[k].type, eps[k].help);
		EACH_ENDPOINT({
			fprintf(f, "%s{", eps[k].name);
			EP_LABELS();
			fprintf(f, "} %" PRIu64 "\n", stat_get((const stat_t *)((const char *)ep + eps[k].off)));
		})
	}
	family(f, "flowrw_endpoint_responses_total", "counter", "HTTP answers by status class.");
	EACH_ENDPOINT({
		for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]); k++) {
			fputs("flowrw_endpoint_responses_total{", f);
			EP_LABELS();
			fprintf(f, ",status=\"%s\"} %" PRIu64 "\n", classes[k].cls,
				stat_get((const stat_t *)((const char *)ep + classes[k].off)));
		}
	})
	family(f, "flowrw_endpoint_request_duration_seconds", "histogram",
	       "Time from sending a request to its complete answer.");
	EACH_ENDPOINT({
		uint64_t cum = 0;

		for (int b = 0; b <= STATS_LAT_BUCKETS; b++) {
			cum += stat_get(&ep->latency_bucket[b]);
			fputs("flowrw_endpoint_request_duration_seconds_bucket{", f);
			EP_LABELS();
			if (b < STATS_LAT_BUCKETS)
				fprintf(f, ",le=\"%g\"} %" PRIu64 "\n", bounds_ms[b] / 1000.0, cum);
			else
				fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
		}
		fputs("flowrw_endpoint_request_duration_seconds_sum{", f);
		EP_LABELS();
		fprintf(f, "} %.6f\n", (double)stat_get(&ep->latency_sum_us) / 1e6);
		fputs("flowrw_endpoint_request_duration_seconds_count{", f);
		EP_LABELS();
		fprintf(f, "} %" PRIu64 "\n", cum);
	})
#undef EACH_ENDPOINT
#undef EP_LABELS
}

static void ring_line(FILE *f, const char *fam, const struct ring_hdr *h, uint64_t v)
{
	fprintf(f, "%s{ring=\"%.*s\"} %" PRIu64 "\n", fam, (int)sizeof(h->name), h->name, v);
}

static void render_rings(FILE *f, const struct shm *s, const struct cfg *c)
{
	static const char *const fams[][3] = {
		{ "flowrw_ring_used_bytes", "gauge", "Bytes committed and not yet released." },
		{ "flowrw_ring_size_bytes", "gauge", "Data bytes of the ring." },
		{ "flowrw_ring_in_total", "counter", "Units committed (rows for input rings, series for lanes)." },
		{ "flowrw_ring_out_total", "counter", "Units released by the consumer." },
	};

	for (int k = 0; k < 4; k++) {
		family(f, fams[k][0], fams[k][1], fams[k][2]);
		for (int i = 0; i < c->encoders; i++) {
			const struct ring_hdr *h = shm_in_ring(s, i);
			uint64_t v = k == 0 ? ring_used_bytes(h) : k == 1 ? h->size
				   : k == 2 ? atomic_load_explicit(&h->prod_units, memory_order_relaxed)
					    : atomic_load_explicit(&h->cons_units, memory_order_relaxed);

			ring_line(f, fams[k][0], h, v);
		}
		for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
			if (!c->exporters[e].active)
				continue;
			for (int i = 0; i < c->encoders; i++)
				for (int q = 0; q < shm_lane_count(s, e); q++) {
					const struct ring_hdr *h = shm_lane_ring(s, e, i, q);
					uint64_t v = k == 0 ? ring_used_bytes(h) : k == 1 ? h->size
						   : k == 2 ? atomic_load_explicit(&h->prod_units, memory_order_relaxed)
							    : atomic_load_explicit(&h->cons_units, memory_order_relaxed);

					ring_line(f, fams[k][0], h, v);
				}
		}
	}
}

int metrics_render(const struct shm *s, const struct cfg *c, char **out, size_t *len)
{
	const struct stats_page *p = s->stats;
	FILE *f;

	*out = NULL;
	*len = 0;
	/* open_memstream: the text grows with exporters and endpoints; glibc
	 * does the buffer management. */
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	render_procs(f, p, c->encoders);
	render_ingest(f, &p->in, c);
	render_encoders(f, p, c);
	render_exporters(f, p, c);
	render_rings(f, s, c);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		return -ENOMEM;
	}
	return 0;
}
