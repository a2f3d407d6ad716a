/* SPDX-License-Identifier: MIT */
/* test_encoder.c: rows in, lane-ring batches out, decoded with snappy and protobuf-c. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <snappy-c.h>

#include "common/batch-t.h"
#include "common/cfg.h"
#include "common/hash.h"
#include "common/ring.h"
#include "common/schema.h"
#include "common/shm.h"
#include "encoder/encoder.h"
#include "encoder/fields.h"
#include "ingest/json_row.h"
#include "ingest/rowb.h"
#include "remote.pb-c.h"

/* --- harness: the test plays ingest (input ring) and sender (lane rings) -- */

struct h {
	struct cfg cfg;
	struct shm shm;
	struct ring_prod in;
	struct enc *e;
	char *yaml;
	pid_t child;
};

static struct h H;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const ALL_DS = "[flow_metrics.network.1m, flow_metrics.network_map.1m, "
				  "flow_metrics.application.1m, flow_metrics.application_map.1m, "
				  "flow_metrics.network.1s, flow_metrics.network_map.1s, "
				  "flow_metrics.application.1s, flow_metrics.application_map.1s]";

/* One exporter per <exporters> entry (the keys after `protocol`), one encoder. */
static void h_config(const char *ring_bytes, const char *flowrw_extra, int n, const char *const *exporters)
{
	char *y = malloc(65536);
	size_t off = 0;
	struct cfg_diag diag = { 0 };
	int err;

	off += (size_t)snprintf(y + off, 65536 - off, "exporters:\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(y + off, 65536 - off,
					"  - protocol: prometheus\n"
					"    enabled: true\n"
					"    endpoints: [http://127.0.0.1:9/api/v1/write]\n"
					"%s\n",
					exporters[i]);
	snprintf(y + off, 65536 - off, "flowrw:\n  encoders: 1\n  ring-bytes: %s\n  log-level: error\n%s\n",
		 ring_bytes, flowrw_extra ? flowrw_extra : "");
	H.yaml = y;
	err = cfg_load_buffer(&H.cfg, y, strlen(y), "test.yaml", &diag);
	if (err)
		cfg_diag_print(&diag, stderr);
	cfg_diag_fini(&diag);
	cr_assert_eq(err, 0, "config does not load:\n%s", y);
	cr_assert_eq(shm_create(&H.shm, &H.cfg, y, strlen(y)), 0);
	cr_assert_eq(ring_prod_attach(&H.in, shm_in_ring(&H.shm, 0)), 0);
}

static void h_start(const char *ring_bytes, int n, const char *const *exporters)
{
	h_config(ring_bytes, NULL, n, exporters);
	H.e = calloc(1, sizeof(*H.e));
	cr_assert_eq(enc_init(H.e, &H.shm, &H.cfg, 0), 0);
}

static void h_stop(void)
{
	if (H.child > 0) {
		kill(H.child, SIGKILL);
		waitpid(H.child, NULL, 0);
	}
	if (H.e) {
		enc_fini(H.e);
		free(H.e);
	}
	shm_fini(&H.shm);
	cfg_fini(&H.cfg);
	free(H.yaml);
	memset(&H, 0, sizeof(H));
}

static void h_push(const void *rec, size_t len)
{
	void *p = ring_reserve(&H.in, (uint32_t)len);

	cr_assert_not_null(p, "input ring full");
	memcpy(p, rec, len);
	ring_commit(&H.in, 1);
}

/* Parse a DeepFlow JSON row with ingest's parser and push the raw row. */
static void h_push_json(const char *line)
{
	static struct jrow jp;
	static struct rowb b;
	static uint8_t rec[ROWB_MAX_BYTES];
	struct jrow_err je;
	int n;

	jrow_init(&jp);
	rowb_reset(&b);
	cr_assert_eq(jrow_parse(&jp, line, strlen(line), -1, &b, &je), 0, "%s at %zu: %s", je.msg, je.at, line);
	n = rowb_encode(&b, rec, sizeof(rec));
	cr_assert_gt(n, 0);
	h_push(rec, (size_t)n);
}

static struct stats_encoder_exporter *h_st(int exp)
{
	return &H.shm.stats->enc[0].exporter[exp];
}

/* One decoded series. */
struct gs {
	int n;
	char **name, **value;
	double v;
	int64_t ts;
	int lane;
	int batch;
};

struct got {
	struct gs *s;
	size_t n, cap;
	int batches;
	uint32_t max_batch;
};

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++) {
		for (int j = 0; j < g->s[i].n; j++) {
			free(g->s[i].name[j]);
			free(g->s[i].value[j]);
		}
		free(g->s[i].name);
		free(g->s[i].value);
	}
	free(g->s);
	memset(g, 0, sizeof(*g));
}

static const char *gs_label(const struct gs *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return s->value[i];
	return NULL;
}

/*
 * Act as the sender for every lane of exporter <exp>: take each batch,
 * check its header, decompress, decode, check the remote-write rules on
 * every series, keep the series, release the batch (units = series).
 */
static void h_collect(int exp, struct got *g)
{
	int lanes = shm_lane_count(&H.shm, exp);

	for (int q = 0; q < lanes; q++) {
		struct ring_cons c;
		const struct batch_hdr *bh;
		uint32_t len;

		cr_assert_eq(ring_cons_attach(&c, shm_lane_ring(&H.shm, exp, 0, q)), 0);
		while ((bh = ring_peek(&c, &len))) {
			size_t raw_len;
			char *raw;
			Prometheus__WriteRequest *wr;

			cr_assert_geq(len, sizeof(*bh));
			cr_assert_eq(bh->magic, BATCH_MAGIC);
			cr_assert_eq(bh->exporter, exp);
			cr_assert_eq(bh->lane, q);
			cr_assert_eq(len, sizeof(*bh) + bh->body_len);
			cr_assert_gt(bh->n_series, 0);
			cr_assert_leq(bh->n_series, (uint32_t)H.cfg.exporters[exp].batch_size, "batch of %u > batch-size",
				      bh->n_series);
			cr_assert_eq(bh->n_samples, bh->n_series);
			cr_assert_gt(bh->closed_ns, 0);
			cr_assert_eq(snappy_uncompressed_length((const char *)(bh + 1), bh->body_len, &raw_len),
				     SNAPPY_OK);
			cr_assert_eq(raw_len, bh->raw_len);
			raw = malloc(raw_len + 1);
			cr_assert_eq(snappy_uncompress((const char *)(bh + 1), bh->body_len, raw, &raw_len), SNAPPY_OK);
			wr = prometheus__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
			cr_assert_not_null(wr, "batch does not decode");
			cr_assert_eq(wr->n_timeseries, bh->n_series);
			for (size_t i = 0; i < wr->n_timeseries; i++) {
				const Prometheus__TimeSeries *ts = wr->timeseries[i];
				struct gs *s;

				cr_assert_eq(ts->n_samples, 1);
				cr_assert_geq(ts->n_labels, 2);
				cr_assert_str_eq(ts->labels[0]->name, "__name__");
				for (size_t j = 0; j < ts->n_labels; j++) {
					cr_assert_neq(ts->labels[j]->name[0], 0, "empty label name");
					cr_assert_neq(ts->labels[j]->value[0], 0, "empty value for %s",
						      ts->labels[j]->name);
					if (j)
						cr_assert_lt(strcmp(ts->labels[j - 1]->name, ts->labels[j]->name), 0,
							     "labels not sorted/unique: %s, %s", ts->labels[j - 1]->name,
							     ts->labels[j]->name);
				}
				cr_assert_geq(ts->samples[0]->timestamp, bh->min_ts_ms);
				cr_assert_leq(ts->samples[0]->timestamp, bh->max_ts_ms);
				if (g->n == g->cap) {
					g->cap = g->cap ? 2 * g->cap : 256;
					g->s = realloc(g->s, g->cap * sizeof(*g->s));
				}
				s = &g->s[g->n++];
				s->n = (int)ts->n_labels;
				s->name = calloc(ts->n_labels, sizeof(char *));
				s->value = calloc(ts->n_labels, sizeof(char *));
				for (size_t j = 0; j < ts->n_labels; j++) {
					s->name[j] = strdup(ts->labels[j]->name);
					s->value[j] = strdup(ts->labels[j]->value);
				}
				s->v = ts->samples[0]->value;
				s->ts = ts->samples[0]->timestamp;
				s->lane = q;
				s->batch = g->batches;
			}
			prometheus__write_request__free_unpacked(wr, NULL);
			free(raw);
			g->batches++;
			if (bh->n_series > g->max_batch)
				g->max_batch = bh->n_series;
			ring_advance(&c);
			ring_release(&c, bh->n_series);
		}
	}
}

static inline bool lane_has_data(int exp, int q)
{
	return ring_used_bytes(shm_lane_ring(&H.shm, exp, 0, q)) > 0;
}

/* Encode everything pushed so far in-process, then end the stream. */
static void h_run_to_end(void)
{
	int n;

	while ((n = enc_poll(H.e, ENC_BURST)) > 0)
		cr_assert_eq(enc_housekeep(H.e, now_ms()), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(enc_finish(H.e), 0);
}

/* --- golden rows: spec/json-keys-to-labels.md for all 8 data sources ---- */

static const char *const NET_METRICS[] = {
	"packet_tx", "packet_rx", "byte_tx", "byte_rx", "l3_byte_tx", "l3_byte_rx", "l4_byte_tx",
	"l4_byte_rx", "new_flow", "closed_flow", "l7_request", "l7_response", "syn_count", "synack_count",
	"direction_score", "rtt_max", "rtt_client_max", "rtt_server_max", "srt_max", "art_max", "rrt_max",
	"cit_max", "rtt_sum", "rtt_client_sum", "rtt_server_sum", "srt_sum", "art_sum", "rrt_sum",
	"cit_sum", "rtt_count", "rtt_client_count", "rtt_server_count", "srt_count", "art_count",
	"rrt_count", "cit_count", "retrans_tx", "retrans_rx", "zero_win_tx", "zero_win_rx", "retrans_syn",
	"retrans_synack", "client_rst_flow", "server_rst_flow", "server_syn_miss", "client_ack_miss",
	"client_half_close_flow", "server_half_close_flow", "client_source_port_reuse",
	"client_establish_other_rst", "server_reset", "server_queue_lack", "server_establish_other_rst",
	"tcp_timeout", "client_establish_fail", "server_establish_fail", "tcp_establish_fail",
	"tcp_transfer_fail", "tcp_rst_fail", "l7_client_error", "l7_server_error", "l7_timeout", "ooo_tx",
	"ooo_rx", "flow_load",
};
static const char *const APP_METRICS[] = {
	"request", "response", "direction_score", "rrt_max", "rrt_sum", "rrt_count",
	"client_error", "server_error", "timeout",
};

/* Kafka JSON key -> label name, 's' string / 'i' integer / 'p' ip4 string. */
struct gkey {
	char key[40];
	char label[40];
	char type;
};

/* The per-side entity keys, in JSON order (json-keys-to-labels.md). */
static const char *const SIDE_KEYS[][2] = {
	{ "ip4", "ip4" }, { "l3_epc", "l3_epc_id" }, { "l3_device", "l3_device_id" },
	{ "l3_device_type", "l3_device_type" }, { "region", "region_id" }, { "subnet", "subnet_id" },
	{ "host", "host_id" }, { "pod_node", "pod_node_id" }, { "az", "az_id" },
	{ "pod_group", "pod_group_id" }, { "pod_ns", "pod_ns_id" }, { "pod", "pod_id" },
	{ "pod_cluster", "pod_cluster_id" }, { "service", "service_id" },
	{ "auto_instance", "auto_instance_id" }, { "auto_instance_type", "auto_instance_type" },
	{ "auto_service", "auto_service_id" }, { "auto_service_type", "auto_service_type" },
	{ "gprocess", "gprocess_id" },
};

static void gk(struct gkey *k, int *n, const char *key, const char *label, char type)
{
	snprintf(k[*n].key, sizeof(k[*n].key), "%s", key);
	snprintf(k[*n].label, sizeof(k[*n].label), "%s", label);
	k[*n].type = type;
	(*n)++;
}

static int golden_keys(enum schema_family f, struct gkey *k)
{
	bool map = f == SCHEMA_FAM_NETWORK_MAP || f == SCHEMA_FAM_APPLICATION_MAP;
	bool app = f == SCHEMA_FAM_APPLICATION || f == SCHEMA_FAM_APPLICATION_MAP;
	int n = 0;

	gk(k, &n, "thread_id", "thread_id", 'i');
	for (int side = 0; side < (map ? 2 : 1); side++) {
		for (size_t i = 0; i < sizeof(SIDE_KEYS) / sizeof(SIDE_KEYS[0]); i++) {
			char key[40], label[40];

			snprintf(key, sizeof(key), map ? "%s_%d" : "%s", SIDE_KEYS[i][0], side);
			snprintf(label, sizeof(label), map ? "%s_%d" : "%s", SIDE_KEYS[i][1], side);
			gk(k, &n, key, label, i == 0 ? 'p' : 's');
		}
	}
	if (!map)
		gk(k, &n, "role", "role", 's');
	gk(k, &n, "protocol", "protocol", 's');
	gk(k, &n, "server_port", "server_port", 'i');
	gk(k, &n, "agent", "agent_id", 's');
	gk(k, &n, "org_id", "org_id", 'i');
	gk(k, &n, "team_id", "team_id", 'i');
	if (map) {
		gk(k, &n, "capture_nic", "capture_nic", 'i');
		gk(k, &n, "capture_nic_type", "capture_nic_type", 's');
		gk(k, &n, "nat_source", "nat_source", 's');
		gk(k, &n, "tunnel_type", "tunnel_type", 's');
		gk(k, &n, "observation_point", "observation_point", 's');
	}
	gk(k, &n, "capture_network_type_id", "capture_network_type_id", 'i');
	gk(k, &n, "is_ipv4", "is_ipv4", 'i');
	if (app) {
		gk(k, &n, "l7_protocol", "l7_protocol", 's');
		gk(k, &n, "app_service", "app_service", 's');
		gk(k, &n, "app_instance", "app_instance", 's');
		gk(k, &n, "endpoint", "endpoint", 's');
		gk(k, &n, "biz_type", "biz_type", 'i');
	}
	gk(k, &n, "signal_source", "signal_source", 's');
	return n;
}

/* The label value golden row <row> gives key <i>. */
static void golden_value(const struct gkey *k, int i, int row, char *out, size_t cap)
{
	switch (k->type) {
	case 'i':
		snprintf(out, cap, "%d", 100 * row + i);
		break;
	case 'p':
		snprintf(out, cap, "10.%d.%d.%d", row, i, 200 + row);
		break;
	default:
		snprintf(out, cap, "%s v%d %c", k->label, row, 'A' + i % 26);
	}
}

static uint32_t golden_time(int ds)
{
	return 1716998400 + (uint32_t)ds * 60;
}

static double golden_metric(int m, int row)
{
	return row == 1 && m == 3 ? 0 : m * 13 + row * 1000 + 0.5 * row;
}

static void golden_json(int ds, int row, char *out, size_t cap)
{
	enum schema_family f = schema_ds_family(ds);
	bool app = f == SCHEMA_FAM_APPLICATION || f == SCHEMA_FAM_APPLICATION_MAP;
	const char *const *metrics = app ? APP_METRICS : NET_METRICS;
	int nm = app ? 9 : 65;
	struct gkey k[80];
	int nk = golden_keys(f, k);
	size_t off = 0;

	off += (size_t)snprintf(out + off, cap - off, "{\"datasource\":\"%s\",\"time\":%u", schema_ds_name(ds),
				golden_time(ds));
	for (int m = 0; m < nm; m++)
		off += (size_t)snprintf(out + off, cap - off, ",\"%s\":%.17g", metrics[m], golden_metric(m, row));
	for (int i = 0; i < nk; i++) {
		char v[64];

		golden_value(&k[i], i, row, v, sizeof(v));
		if (k[i].type == 'i')
			off += (size_t)snprintf(out + off, cap - off, ",\"%s\":%s", k[i].key, v);
		else
			off += (size_t)snprintf(out + off, cap - off, ",\"%s\":\"%s\"", k[i].key, v);
	}
	snprintf(out + off, cap - off, ",\"time_str\":\"2024-05-29 16:00:00 +0000 UTC\"}");
}

static void h_teardown(void)
{
	h_stop();
}

TestSuite(encoder, .fini = h_teardown, .timeout = 30);

Test(encoder, golden_rows_of_all_eight_data_sources)
{
	static const int ds_list[] = { 0, 1, 2, 3, 5, 6, 7, 8 };
	char ex[512], line[16384];
	const char *exps[1] = { ex };
	struct got g = { 0 };
	size_t want_series = 0;

	snprintf(ex, sizeof(ex), "    data-sources: %s\n    export-fields: [$tag, $metrics]", ALL_DS);
	h_start("1MiB", 1, exps);
	for (int d = 0; d < 8; d++)
		for (int row = 0; row < 2; row++) {
			golden_json(ds_list[d], row, line, sizeof(line));
			h_push_json(line);
		}
	h_run_to_end();
	h_collect(0, &g);
	for (int d = 0; d < 8; d++) {
		int ds = ds_list[d];
		enum schema_family f = schema_ds_family(ds);
		bool app = f == SCHEMA_FAM_APPLICATION || f == SCHEMA_FAM_APPLICATION_MAP;
		const char *const *metrics = app ? APP_METRICS : NET_METRICS;
		int nm = app ? 9 : 65;
		struct gkey k[80];
		int nk = golden_keys(f, k);

		for (int row = 0; row < 2; row++) {
			char thread[16];

			golden_value(&k[0], 0, row, thread, sizeof(thread));
			for (int m = 0; m < nm; m++) {
				const struct gs *s = NULL;

				for (size_t i = 0; i < g.n && !s; i++)
					if (strcmp(gs_label(&g.s[i], "__name__"), metrics[m]) == 0 &&
					    strcmp(gs_label(&g.s[i], "datasource"), schema_ds_name(ds)) == 0 &&
					    gs_label(&g.s[i], "thread_id") &&
					    strcmp(gs_label(&g.s[i], "thread_id"), thread) == 0)
						s = &g.s[i];
				cr_assert_not_null(s, "%s row %d: no series %s", schema_ds_name(ds), row, metrics[m]);
				want_series++;
				cr_expect_eq(s->v, golden_metric(m, row), "%s %s", schema_ds_name(ds), metrics[m]);
				cr_expect_eq(s->ts, (int64_t)golden_time(ds) * 1000);
				/* __name__, datasource, one label per tag key: nothing else */
				cr_expect_eq(s->n, 2 + nk, "%s %s: %d labels, want %d", schema_ds_name(ds), metrics[m],
					     s->n, 2 + nk);
				for (int i = 0; i < nk; i++) {
					char v[64];
					const char *got = gs_label(s, k[i].label);

					golden_value(&k[i], i, row, v, sizeof(v));
					cr_expect_not_null(got, "%s: key %s -> label %s missing", schema_ds_name(ds),
							   k[i].key, k[i].label);
					if (got)
						cr_expect_str_eq(got, v, "%s: label %s", schema_ds_name(ds), k[i].label);
				}
				cr_expect_null(gs_label(s, "time"));
				cr_expect_null(gs_label(s, "time_str"));
			}
		}
	}
	cr_expect_eq(g.n, want_series);
	cr_expect_eq(stat_get(&h_st(0)->series), want_series);
	cr_expect_eq(stat_get(&h_st(0)->rows), 16);
	cr_expect_eq(stat_get(&H.shm.stats->enc[0].rows_in), 16);
	got_free(&g);
}

/* --- raw rows built directly --------------------------------------------- */

static uint8_t REC[ROWB_MAX_BYTES];

/* Encode <b> into REC; returns its size. */
static size_t rb_encode(const struct rowb *b)
{
	int n = rowb_encode(b, REC, sizeof(REC));

	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* A network.1s row for series <pod> at <t> with metrics byte_tx.. as given. */
static void small_row(struct rowb *b, int ds, const char *pod, uint32_t t, int n_metrics, double v)
{
	rowb_reset(b);
	rowb_set_ds(b, ds);
	rowb_set_time(b, t);
	for (int m = 0; m < n_metrics; m++)
		rowb_set_metric(b, m, v + m);
	rowb_set_num(b, SCHEMA_T_PROTOCOL, 6);
	rowb_set_num(b, SCHEMA_T_SERVER_PORT, 443);
	rowb_set_str(b, SCHEMA_T_POD_ID, pod, strlen(pod));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static const int DS_IDS[8] = { 0, 1, 2, 3, 5, 6, 7, 8 };

Test(encoder, property_random_rows_and_configs, .timeout = 120)
{
	static const char *const pool[] = {
		"$tag", "$metrics", "$tag.flow_info", "$universal_tag", "$metrics.delay", "$l3_throughput",
		"$throughput", "protocol", "pod_id_0", "region_id", "byte_tx", "request", "server_port",
		"$capture_info", "$network_layer", "$application_layer", "ip6", "ip6_1", "$service_info",
	};
	static char strs[64][64];
	char ex[2048], fields[512], dss[512];
	const char *exps[1] = { ex };

	for (int round = 0; round < 24; round++) {
		int batch = 1 + (int)(rnd() % 40), qc = 1 + (int)(rnd() % 8);
		bool skip_zero = rnd() & 1, no_enum = rnd() & 1, no_ut = rnd() & 1;
		unsigned dsmask = 0;
		size_t off = 0;
		uint64_t want = 0;
		struct got g = { 0 };
		struct rowb b;

		off += (size_t)snprintf(fields, sizeof(fields), "[");
		for (size_t i = 0, k = 0; i < sizeof(pool) / sizeof(pool[0]); i++)
			if (rnd() % 3 == 0 || (i == 0 && round % 4 == 0))
				off += (size_t)snprintf(fields + off, sizeof(fields) - off, "%s\"%s\"", k++ ? ", " : "",
							pool[i]);
		if (off == 1)
			off += (size_t)snprintf(fields + off, sizeof(fields) - off, "$metrics");
		snprintf(fields + off, sizeof(fields) - off, "]");
		while (!dsmask)
			dsmask = (unsigned)(rnd() & 0xff);
		off = (size_t)snprintf(dss, sizeof(dss), "[");
		for (int d = 0, k = 0; d < 8; d++)
			if (dsmask >> d & 1)
				off += (size_t)snprintf(dss + off, sizeof(dss) - off, "%s%s", k++ ? ", " : "",
							schema_ds_name(DS_IDS[d]));
		snprintf(dss + off, sizeof(dss) - off, "]");
		snprintf(ex, sizeof(ex),
			 "    data-sources: %s\n    export-fields: %s\n    batch-size: %d\n    queue-count: %d\n"
			 "    queue-size: 20000\n    export-empty-metrics-disabled: %s\n"
			 "    enum-translate-to-name-disabled: %s\n"
			 "    universal-tag-translate-to-name-disabled: %s",
			 dss, fields, batch, qc, skip_zero ? "true" : "false", no_enum ? "true" : "false",
			 no_ut ? "true" : "false");
		h_start("256KiB", 1, exps);

		for (int r = 0; r < 150; r++) {
			int d = (int)(rnd() % 8), ds = DS_IDS[d];
			enum schema_family f = schema_ds_family(ds);
			struct fields_sel sel;
			int nmet;

			schema_metrics(f, &nmet);
			rowb_reset(&b);
			rowb_set_ds(&b, ds);
			rowb_set_time(&b, 1716998400 + (uint32_t)r);
			for (int m = 0; m < nmet; m++) {
				uint64_t x = rnd();

				if (x % 10 < 3)
					continue;
				rowb_set_metric(&b, m, x % 7 == 0 ? 0.0 : (double)(x >> 40) / ((x & 3) + 1));
			}
			for (int t = 1; t < SCHEMA_TAG_COUNT; t++) {
				uint64_t x = rnd();

				if (!schema_tag_in_family(t, f) || x % 10 < 4)
					continue;
				if (schema_tags[t].kind == SCHEMA_KIND_IP6) {
					uint8_t a[16];

					for (int i = 0; i < 16; i++)
						a[i] = (uint8_t)(rnd() >> 13);
					rowb_set_ip6(&b, t, a);
				} else if (x % 3 == 0 && schema_tags[t].kind != SCHEMA_KIND_IP4) {
					char *s = strs[t];
					int len = (int)(rnd() % 40);

					for (int i = 0; i < len; i++)
						s[i] = (char)(' ' + rnd() % 95);
					if (len > 3 && x % 5 == 0)
						memcpy(s, "\xe4\xb8\xad", 3);
					rowb_set_str(&b, t, s, (size_t)len); /* empty strings too */
				} else {
					int64_t v = (int64_t)(rnd() % 300);

					if (x % 11 == 0)
						v = -2;
					rowb_set_num(&b, t, v);
				}
			}
			h_push(REC, rb_encode(&b));
			if (dsmask >> d & 1) {
				fields_select(&H.cfg.exporters[0], f, &sel);
				for (int m = 0; m < nmet; m++)
					if ((sel.metrics[m >> 6] >> (m & 63) & 1) &&
					    (b.metric_mask[m >> 6] >> (m & 63) & 1) && !(skip_zero && b.metric[m] == 0))
						want++;
			}
			cr_assert_geq(enc_poll(H.e, ENC_BURST), 0);
			cr_assert_eq(enc_housekeep(H.e, now_ms()), 0);
			if (r % 10 == 0)
				h_collect(0, &g);
		}
		h_run_to_end();
		h_collect(0, &g);
		cr_assert_eq(g.n, want, "round %d: %zu series, want %llu\n%s", round, g.n, (unsigned long long)want,
			     H.yaml);
		cr_assert_leq(g.max_batch, (uint32_t)batch);
		cr_assert_eq(ring_used_bytes(H.in.hdr), 0, "input not fully released");
		got_free(&g);
		h_stop();
	}
}

Test(encoder, batch_size_is_never_exceeded_and_rows_split)
{
	const char *exps[1] = { "    data-sources: [flow_metrics.network.1s]\n    batch-size: 7\n"
				"    queue-count: 1\n    export-fields: [$tag, $metrics]" };
	struct got g = { 0 };
	struct rowb b;

	h_start("1MiB", 1, exps);
	for (int r = 0; r < 3; r++) {
		small_row(&b, SCHEMA_DS_NETWORK_1S, "nginx-1", 1716998400 + (uint32_t)r, 65, 1);
		h_push(REC, rb_encode(&b));
	}
	cr_assert_eq(enc_poll(H.e, ENC_BURST), 3);
	cr_assert_eq(enc_housekeep(H.e, now_ms()), 0);
	/* 195 series: 27 full batches are out, 6 series wait in the last one,
	 * which holds the third row: that row is not released yet. */
	h_collect(0, &g);
	cr_expect_eq(g.n, 189);
	cr_expect_eq(g.batches, 27);
	cr_expect_eq(g.max_batch, 7);
	cr_expect_eq(atomic_load(&H.in.hdr->cons_units), 2);
	cr_expect_gt(ring_used_bytes(H.in.hdr), 0);
	cr_assert_eq(enc_finish(H.e), 0);
	h_collect(0, &g);
	cr_expect_eq(g.n, 195);
	cr_expect_eq(atomic_load(&H.in.hdr->cons_units), 3);
	cr_expect_eq(ring_used_bytes(H.in.hdr), 0);
	/* one lane: the series' samples arrive in time order */
	for (size_t i = 1; i < g.n; i++)
		if (strcmp(gs_label(&g.s[i], "__name__"), gs_label(&g.s[i - 1], "__name__")) == 0)
			cr_expect_gt(g.s[i].ts, g.s[i - 1].ts);
	got_free(&g);
}

Test(encoder, flush_timeout_closes_a_partial_batch_and_holds_rows_until_then)
{
	const char *exps[1] = { "    data-sources: [flow_metrics.application.1s]\n    flush-timeout: 2\n"
				"    queue-count: 1" };
	struct got g = { 0 };
	struct rowb b;
	int64_t t0;

	h_start("1MiB", 1, exps);
	small_row(&b, SCHEMA_DS_APPLICATION_1S, "p", 1716998400, 9, 1);
	h_push(REC, rb_encode(&b));
	t0 = now_ms();
	cr_assert_eq(enc_poll(H.e, ENC_BURST), 1);
	cr_assert_eq(enc_housekeep(H.e, t0), 0);
	cr_expect_leq(H.e->next_deadline_ms, t0 + 2000 + 50);
	cr_expect_geq(H.e->next_deadline_ms, t0 + 2000 - 50);
	cr_assert_eq(enc_housekeep(H.e, t0 + 1900), 0);
	h_collect(0, &g);
	cr_expect_eq(g.n, 0, "flushed before flush-timeout");
	cr_expect_eq(atomic_load(&H.in.hdr->cons_units), 0, "row released while only held in a batch");
	cr_assert_eq(enc_housekeep(H.e, t0 + 2100), 0);
	h_collect(0, &g);
	cr_expect_eq(g.n, 9);
	cr_expect_eq(stat_get(&h_st(0)->timeout_flushes), 1);
	cr_expect_eq(atomic_load(&H.in.hdr->cons_units), 1);
	cr_expect_eq(ring_used_bytes(H.in.hdr), 0);
	cr_expect_eq(H.e->next_deadline_ms, INT64_MAX);
	got_free(&g);
}

Test(encoder, held_rows_past_half_the_input_ring_are_flushed)
{
	/* Batches never fill (batch-size 20000) nor time out (1 h): only the
	 * half-ring rule can hand the rows back to ingest. */
	const char *exps[1] = { "    data-sources: [flow_metrics.network.1s]\n    flush-timeout: 3600\n"
				"    batch-size: 20000\n    queue-size: 20000\n    queue-count: 4\n"
				"    export-fields: [byte_tx]" };
	struct got g = { 0 };
	struct rowb b;
	uint64_t size;
	int pushed = 0;

	h_start("64KiB", 1, exps);
	size = H.in.hdr->size;
	for (int r = 0; r < 3000; r++) {
		char pod[32];

		snprintf(pod, sizeof(pod), "pod-%d", r % 50);
		small_row(&b, SCHEMA_DS_NETWORK_1S, pod, 1716998400 + (uint32_t)r, 3, 1);
		h_push(REC, rb_encode(&b));
		pushed++;
		cr_assert_geq(enc_poll(H.e, ENC_BURST), 0);
		cr_assert_eq(enc_housekeep(H.e, now_ms()), 0);
		cr_assert_leq(ring_used_bytes(H.in.hdr), size / 2 + 512, "held rows fill the input ring");
		h_collect(0, &g);
	}
	cr_expect_gt(g.batches, 0);
	cr_expect_eq(stat_get(&h_st(0)->timeout_flushes), 0);
	cr_assert_eq(enc_finish(H.e), 0);
	h_collect(0, &g);
	cr_expect_eq(g.n, (size_t)pushed);
	got_free(&g);
}

Test(encoder, lanes_follow_the_route_hash_and_keep_series_order)
{
	const char *exps[1] = { "    data-sources: [flow_metrics.network.1s]\n    queue-count: 8\n"
				"    batch-size: 50\n    export-fields: [$tag, byte_tx]" };
	enum { SERIES = 400, STEPS = 4 };
	static int want_lane[SERIES];
	int per_lane[8] = { 0 };
	struct got g = { 0 };
	struct rowb b;

	h_start("1MiB", 1, exps);
	for (int t = 0; t < STEPS; t++) {
		for (int s = 0; s < SERIES; s++) {
			char pod[32];
			size_t len;
			uint64_t h;

			snprintf(pod, sizeof(pod), "pod-%d", s);
			small_row(&b, SCHEMA_DS_NETWORK_1S, pod, 1716998400 + (uint32_t)t, 3, t);
			len = rb_encode(&b);
			h = hash_series_route(SCHEMA_DS_NETWORK_1S, REC + len - rowb_tags_len(&b), rowb_tags_len(&b));
			want_lane[s] = (int)((h & 0xffffffff) % 8);
			h_push(REC, len);
		}
		while (enc_poll(H.e, ENC_BURST) > 0)
			cr_assert_eq(enc_housekeep(H.e, now_ms()), 0);
	}
	cr_assert_eq(enc_finish(H.e), 0);
	h_collect(0, &g);
	cr_assert_eq(g.n, SERIES * STEPS);
	for (size_t i = 0; i < g.n; i++) {
		int s = atoi(gs_label(&g.s[i], "pod_id") + 4);

		cr_assert_eq(g.s[i].lane, want_lane[s], "pod-%d in lane %d, want %d", s, g.s[i].lane, want_lane[s]);
		per_lane[g.s[i].lane]++;
		/* collection is lane by lane in ring order: time must grow */
		for (size_t j = i + 1; j < g.n && g.s[j].lane == g.s[i].lane; j++)
			if (strcmp(gs_label(&g.s[j], "pod_id"), gs_label(&g.s[i], "pod_id")) == 0) {
				cr_assert_eq(g.s[j].ts, g.s[i].ts + 1000, "pod-%d out of order", s);
				break;
			}
	}
	for (int q = 0; q < 8; q++)
		cr_expect(per_lane[q] > SERIES * STEPS / 8 / 2 && per_lane[q] < SERIES * STEPS / 8 * 3 / 2,
			  "lane %d got %d of %d series", q, per_lane[q], SERIES * STEPS);
	got_free(&g);
}

Test(encoder, exporters_get_their_own_sources_fields_filters_and_flags)
{
	const char *exps[2] = {
		"    data-sources: [flow_metrics.network.1s]\n    export-fields: [$metrics]\n"
		"    export-empty-metrics-disabled: true\n    batch-size: 10",
		"    data-sources: [flow_metrics.network.1s, flow_metrics.application.1m]\n"
		"    export-fields: [protocol, server_port, app_service, byte_tx, request]\n"
		"    enum-translate-to-name-disabled: true\n    export-empty-tag: true\n"
		"    queue-count: 2\n"
		"    tag-filters-groups:\n"
		"      - tag-filter-condition: {type: and}\n"
		"        tag-filters: [{field-name: protocol, operator: '=', field-values: [6]}]",
	};
	struct got a = { 0 }, c = { 0 };
	struct rowb b;

	h_start("1MiB", 2, exps);
	small_row(&b, SCHEMA_DS_NETWORK_1S, "p1", 1716998400, 3, 0);
	rowb_set_metric(&b, 2, 0); /* packet_tx 0, packet_rx 1, byte_tx 0 */
	h_push(REC, rb_encode(&b));
	small_row(&b, SCHEMA_DS_NETWORK_1S, "p2", 1716998400, 3, 5);
	rowb_set_num(&b, SCHEMA_T_PROTOCOL, 17);
	h_push(REC, rb_encode(&b));
	small_row(&b, SCHEMA_DS_APPLICATION_1M, "p3", 1716998400, 9, 2);
	rowb_set_str(&b, SCHEMA_T_APP_SERVICE, "", 0);
	h_push(REC, rb_encode(&b));
	h_run_to_end();
	h_collect(0, &a);
	h_collect(1, &c);
	/* Exporter 0: network.1s only, metrics only, zeros skipped: row 1 has
	 * 0,1,0 -> 1 series, row 2 has 5,6,7 -> 3 series. */
	cr_expect_eq(a.n, 4);
	for (size_t i = 0; i < a.n; i++) {
		cr_expect_eq(a.s[i].n, 2, "only __name__ and datasource");
		cr_expect_str_eq(gs_label(&a.s[i], "datasource"), "flow_metrics.network.1s");
		cr_expect_neq(a.s[i].v, 0);
	}
	/* Exporter 1: protocol = 6 passes row 1 and row 3, not row 2; only the
	 * selected fields; enums as numbers; empty app_service omitted. */
	cr_expect_eq(c.n, 2);
	for (size_t i = 0; i < c.n; i++) {
		const char *name = gs_label(&c.s[i], "__name__");

		cr_expect_str_eq(gs_label(&c.s[i], "protocol"), "6");
		cr_expect_str_eq(gs_label(&c.s[i], "server_port"), "443");
		cr_expect_null(gs_label(&c.s[i], "pod_id"));
		cr_expect_null(gs_label(&c.s[i], "app_service"));
		cr_expect(strcmp(name, "byte_tx") == 0 || strcmp(name, "request") == 0, "%s", name);
		cr_expect_eq(c.s[i].v, strcmp(name, "byte_tx") == 0 ? 0 : 2); /* zero kept here */
	}
	cr_expect_eq(stat_get(&h_st(1)->rows_filtered), 1);
	cr_expect_eq(stat_get(&h_st(1)->rows), 2);
	cr_expect_eq(stat_get(&h_st(0)->rows), 2);
	cr_expect_eq(stat_get(&h_st(0)->series), 4);
	got_free(&a);
	got_free(&c);
}

Test(encoder, malformed_rows_and_oversize_series_are_counted_and_skipped)
{
	/* batch-size 1 and queue-size 1: the smallest lane ring (4 KiB). */
	const char *exps[1] = { "    data-sources: [flow_metrics.application.1s]\n    batch-size: 1\n"
				"    queue-size: 1\n    queue-count: 1" };
	static const uint8_t junk[24] = { 9, 9, 9, 9 };
	static char big[3000];
	struct got g = { 0 };
	struct rowb b;

	h_start("1MiB", 1, exps);
	h_push(junk, sizeof(junk));
	memset(big, 'x', sizeof(big));
	small_row(&b, SCHEMA_DS_APPLICATION_1S, "p", 1716998400, 2, 1);
	rowb_set_str(&b, SCHEMA_T_APP_SERVICE, big, sizeof(big));
	h_push(REC, rb_encode(&b));
	small_row(&b, SCHEMA_DS_APPLICATION_1S, "p", 1716998401, 1, 1);
	h_push(REC, rb_encode(&b));
	h_run_to_end();
	h_collect(0, &g);
	cr_expect_eq(stat_get(&H.shm.stats->enc[0].rows_bad), 1);
	cr_expect_eq(stat_get(&h_st(0)->series_oversize), 2);
	cr_expect_eq(g.n, 1);
	cr_expect_eq(ring_used_bytes(H.in.hdr), 0);
	got_free(&g);
}

/* --- the real process loop, in a child process ---------------------------- */

static volatile sig_atomic_t child_reload;

static void child_hup(int sig)
{
	(void)sig;
	child_reload = 1;
}

/* Fork an encoder running enc_run() on the arena, as flowrw-encoder does. */
static void h_spawn(void)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = child_hup };
		struct enc *e = calloc(1, sizeof(*e));

		sigemptyset(&sa.sa_mask);
		sigaction(SIGHUP, &sa, NULL);
		if (!e || enc_init(e, &H.shm, &H.cfg, 0))
			_exit(3);
		e->reload = &child_reload;
		_exit(enc_run(e) == 0 ? 0 : 4);
	}
	H.child = pid;
}

/* Wait up to <ms> for the child to exit; its exit status, or -1. */
static int h_wait_child(int ms)
{
	int64_t end = now_ms() + ms;
	int st;

	while (now_ms() < end) {
		pid_t r = waitpid(H.child, &st, WNOHANG);

		if (r == H.child) {
			H.child = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(5000);
	}
	return -1;
}

/* Wait up to <ms> until lane <q> of exporter <exp> holds >= <units> series
 * (committed and not released); returns the elapsed ms or -1. */
static int64_t h_wait_units(int exp, int q, uint64_t units, int ms)
{
	struct ring_hdr *h = shm_lane_ring(&H.shm, exp, 0, q);
	int64_t t0 = now_ms();

	while (now_ms() - t0 < ms) {
		if (atomic_load(&h->prod_units) - atomic_load(&h->cons_units) >= units)
			return now_ms() - t0;
		usleep(2000);
	}
	return -1;
}

Test(encoder, process_flushes_a_partial_batch_after_flush_timeout)
{
	const char *exps[1] = { "    data-sources: [flow_metrics.application.1s]\n    flush-timeout: 0.5\n"
				"    queue-count: 1" };
	struct got g = { 0 };
	struct rowb b;
	int64_t waited;

	h_config("1MiB", NULL, 1, exps);
	h_spawn();
	small_row(&b, SCHEMA_DS_APPLICATION_1S, "p", 1716998400, 9, 1);
	h_push(REC, rb_encode(&b));
	waited = h_wait_units(0, 0, 9, 3000);
	cr_assert_geq(waited, 0, "partial batch never left");
	cr_expect_geq(waited, 400, "left after %lld ms, before flush-timeout", (long long)waited);
	cr_expect_leq(waited, 1200, "left after %lld ms", (long long)waited);
	cr_expect_eq(stat_get(&h_st(0)->timeout_flushes), 1);
	h_collect(0, &g);
	cr_expect_eq(g.n, 9);
	/* Idle now: it sleeps on the doorbell, not spinning. */
	{
		char path[64], line[512];
		unsigned long ut0 = 0, ut1 = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)H.child);
		f = fopen(path, "r");
		cr_assert_not_null(f);
		cr_assert_not_null(fgets(line, sizeof(line), f));
		fclose(f);
		sscanf(strrchr(line, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu", &ut0);
		usleep(500000);
		f = fopen(path, "r");
		cr_assert_not_null(fgets(line, sizeof(line), f));
		fclose(f);
		sscanf(strrchr(line, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu", &ut1);
		cr_expect_leq(ut1 - ut0, 5, "idle encoder used %lu ticks of user CPU in 0.5 s", ut1 - ut0);
	}
	ring_close(&H.in);
	cr_expect_eq(h_wait_child(5000), 0);
	got_free(&g);
}

Test(encoder, queue_size_makes_the_encoder_wait_for_the_sender)
{
	const char *exps[1] = { "    data-sources: [flow_metrics.application.1s]\n    flush-timeout: 0.05\n"
				"    queue-count: 1\n    queue-size: 10\n    batch-size: 5\n"
				"    export-fields: [$tag, request, response, direction_score, rrt_max, rrt_sum]" };
	struct ring_cons c;
	struct got g = { 0 };
	struct rowb b;
	struct ring_hdr *lh;

	h_config("1MiB", NULL, 1, exps);
	h_spawn();
	for (int r = 0; r < 3; r++) {
		small_row(&b, SCHEMA_DS_APPLICATION_1S, "p", 1716998400 + (uint32_t)r, 9, r);
		h_push(REC, rb_encode(&b));
	}
	lh = shm_lane_ring(&H.shm, 0, 0, 0);
	cr_assert_geq(h_wait_units(0, 0, 10, 3000), 0, "first two batches never came");
	usleep(300000);
	cr_expect_eq(atomic_load(&lh->prod_units), 10, "lane went past queue-size");
	cr_expect_geq(stat_get(&h_st(0)->lane_full_waits), 1);
	cr_expect_eq(atomic_load(&H.in.hdr->cons_units), 2, "the waiting row was released");
	/* The sender delivers one batch: the third row's batch follows. */
	cr_assert_eq(ring_cons_attach(&c, lh), 0);
	cr_assert_not_null(ring_peek(&c, &(uint32_t){ 0 }));
	ring_advance(&c);
	ring_release(&c, 5);
	cr_assert_geq(h_wait_units(0, 0, 10, 3000), 0, "third batch never came");
	cr_expect_eq(atomic_load(&lh->prod_units), 15);
	ring_close(&H.in);
	cr_expect_eq(h_wait_child(5000), 0);
	h_collect(0, &g);
	cr_expect_eq(g.n, 10);
	for (size_t i = 0; i < g.n; i++)
		cr_expect_geq(g.s[i].ts, 1716998401000LL);
	got_free(&g);
}

Test(encoder, drain_flushes_everything_closes_lanes_and_exits_zero)
{
	char ex[512];
	const char *exps[2] = { ex, "    data-sources: [flow_metrics.network.1m]\n    queue-count: 3" };
	struct got g0 = { 0 }, g1 = { 0 };
	struct rowb b;
	int want0 = 0, want1 = 0;

	snprintf(ex, sizeof(ex), "    data-sources: %s\n    queue-count: 5\n    flush-timeout: 60", ALL_DS);
	h_config("1MiB", NULL, 2, exps);
	h_spawn();
	for (int r = 0; r < 80; r++) {
		int ds = DS_IDS[r % 8];
		int nm = schema_family_is_app(schema_ds_family(ds)) ? 9 : 65;
		char pod[16];

		snprintf(pod, sizeof(pod), "pod-%d", r);
		small_row(&b, ds, pod, 1716998400 + (uint32_t)r, nm, 1);
		h_push(REC, rb_encode(&b));
		want0 += nm;
		want1 += ds == 0 ? nm : 0;
	}
	ring_close(&H.in);
	cr_assert_eq(h_wait_child(5000), 0, "encoder did not exit 0 after the input closed");
	for (int q = 0; q < 5; q++)
		cr_expect(atomic_load(&((struct ring_hdr *)shm_lane_ring(&H.shm, 0, 0, q))->closed));
	for (int q = 0; q < 3; q++)
		cr_expect(atomic_load(&((struct ring_hdr *)shm_lane_ring(&H.shm, 1, 0, q))->closed));
	cr_expect_eq(ring_used_bytes(H.in.hdr), 0);
	cr_expect_eq(atomic_load(&H.in.hdr->cons_units), 80);
	h_collect(0, &g0);
	h_collect(1, &g1);
	cr_expect_eq(g0.n, (size_t)want0);
	cr_expect_eq(g1.n, (size_t)want1);
	cr_expect_eq(stat_get(&h_st(0)->timeout_flushes), 0);
	got_free(&g0);
	got_free(&g1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(encoder, sighup_reloads_the_dictionary_and_keeps_it_on_a_bad_file)
{
	const char *exps[1] = { "    data-sources: [flow_metrics.network.1s]\n    flush-timeout: 0.05\n"
				"    queue-count: 1\n    export-fields: [pod_id, byte_tx]" };
	char path[64], extra[128];
	struct got g = { 0 };
	struct rowb b;

	snprintf(path, sizeof(path), "/tmp/flowrw-test-dict-%d", (int)getpid());
	write_file(path, "pod 7 alpha\n");
	snprintf(extra, sizeof(extra), "  dictionary: %s\n", path);
	h_config("1MiB", extra, 1, exps);
	h_spawn();
	for (int step = 0; step < 3; step++) {
		rowb_reset(&b);
		rowb_set_ds(&b, SCHEMA_DS_NETWORK_1S);
		rowb_set_time(&b, 1716998400 + (uint32_t)step);
		rowb_set_metric(&b, 2, 100);
		rowb_set_num(&b, SCHEMA_T_POD_ID, 7);
		h_push(REC, rb_encode(&b));
		cr_assert_geq(h_wait_units(0, 0, 1, 3000), 0);
		h_collect(0, &g);
		cr_assert_eq(g.n, (size_t)step + 1);
		cr_expect_str_eq(gs_label(&g.s[step], "pod_id"), step == 0 ? "alpha" : "beta", "step %d", step);
		write_file(path, step == 0 ? "pod 7 beta\n" : "pod 7 gamma\npod x broken\n");
		kill(H.child, SIGHUP);
		usleep(200000);
	}
	ring_close(&H.in);
	cr_expect_eq(h_wait_child(5000), 0);
	unlink(path);
	got_free(&g);
}
