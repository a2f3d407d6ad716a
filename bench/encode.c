/* SPDX-License-Identifier: MIT */
/* encode.c: encoder throughput per core (encode + compress), and its limits. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <snappy-c.h>

#include "common/batch-t.h"
#include "common/cfg.h"
#include "common/dict.h"
#include "common/ring.h"
#include "common/schema.h"
#include "common/shm.h"
#include "encoder/encoder.h"
#include "encoder/labels.h"
#include "encoder/rw_encode.h"
#include "ingest/rowb.h"
#include "remote.pb-c.h"

/*
 * Rows are built in memory first (DeepFlow Kafka-JSON shape: every tag of
 * the family present, names already translated, as in
 * /work/shared/samples), then timed:
 *
 *   hand      enc_row() on a real arena: filters, labels once per row, our
 *             writer emitting the snappy block directly (copies for the
 *             labels it knows repeat), copied into the lane rings (drained
 *             by this thread after every row, as cheap as a sender's
 *             release: a lane ring that fills would put this thread to
 *             sleep waiting for a sender that is itself)
 *   pbc       the same labels through protobuf-c's generated packer
 *             (pre-allocated message arrays, get_packed_size + pack), then
 *             libsnappy: the alternative the issue asks to compare
 *   memcpy    copying the largest raw request the hand path built once
 *   snappy    libsnappy's snappy_compress() alone on that request (what
 *             the hand path ran before it wrote snappy itself)
 *   B/smp     raw protobuf, the hand path's block, and libsnappy over the
 *             same requests (every batch decompressed and compressed again)
 *
 * "per core" divides by this process's CPU time (CLOCK_PROCESS_CPUTIME_ID),
 * so other load on the shared machine does not count against it.
 */

#define ROWS      1024
#define REPS      3

struct bench_rows {
	int ds;
	size_t n;
	uint8_t *mem;           /* the records back to back, as in the input ring */
	uint8_t *rec[ROWS];
	uint32_t len[ROWS];
	char strs[ROWS][SCHEMA_TAG_COUNT][48];
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Translated names as DeepFlow's Kafka JSON carries them, varied per row. */
static void build_rows(struct bench_rows *r, int ds)
{
	static const char *const base[] = { "vpc-prod-north", "loadgenerator-r47cq6l4k", "cn-north-1",
					     "subnet-pods-cn-north-1b", "hv-cn-north-1b-04", "prod-a-node-011",
					     "cn-north-1b", "loadgenerator", "shop", "k8s-prod-a" };
	enum schema_family f = schema_ds_family(ds);
	struct rowb b;
	uint8_t *tmp = malloc(ROWB_MAX_BYTES);
	size_t off = 0, cap = 0;
	int nm;

	schema_metrics(f, &nm);
	r->ds = ds;
	r->n = ROWS;
	for (int i = 0; i < ROWS; i++) {
		rowb_reset(&b);
		rowb_set_ds(&b, ds);
		rowb_set_time(&b, 1716998400 + (uint32_t)(i / 64));
		for (int m = 0; m < nm; m++)
			rowb_set_metric(&b, m, (double)((i * 7919 + m * 104729) % 100000));
		for (int t = 1; t < SCHEMA_TAG_COUNT; t++) {
			const struct schema_tag *st = &schema_tags[t];
			char *s = r->strs[i][t];

			if (!schema_tag_in_family(t, f) || st->kind == SCHEMA_KIND_IP6)
				continue;
			if (st->kind == SCHEMA_KIND_IP4) {
				rowb_set_num(&b, t, (int64_t)(0x0a100000u + (uint32_t)i * 3 + st->side));
			} else if (st->ut_slot || st->enum_id) {
				if (st->ut_slot == SCHEMA_UT_L3_DEVICE_TYPE || st->ut_slot == SCHEMA_UT_AUTO_INSTANCE_TYPE)
					snprintf(s, 48, "pod");
				else if (st->ut_slot == SCHEMA_UT_AUTO_SERVICE_TYPE)
					snprintf(s, 48, "pod_service");
				else if (st->ut_slot)
					snprintf(s, 48, "%s-%04x", base[(t + st->side) % 10], (unsigned)(i * 31 + t) & 0xfff);
				else
					snprintf(s, 48, "%s", t == SCHEMA_T_PROTOCOL ? "TCP" : "Server Process");
				rowb_set_str(&b, t, s, strlen(s));
			} else if (st->kind == SCHEMA_KIND_STRING) {
				snprintf(s, 48, t == SCHEMA_T_ENDPOINT ? "/api/v1/item/%d" : "svc-%d", i % 37);
				rowb_set_str(&b, t, s, strlen(s));
			} else {
				rowb_set_num(&b, t, t == SCHEMA_T_SERVER_PORT ? 8080 : i % 5);
			}
		}
		r->len[i] = (uint32_t)rowb_encode(&b, tmp, ROWB_MAX_BYTES);
		if (off + r->len[i] + 8 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			r->mem = realloc(r->mem, cap);
		}
		memcpy(r->mem + off, tmp, r->len[i]);
		/* offsets for now: realloc may move the block */
		r->rec[i] = (uint8_t *)(uintptr_t)off;
		off += (r->len[i] + 8 + 7) & ~(size_t)7; /* a ring record header and its padding */
	}
	for (int i = 0; i < ROWS; i++)
		r->rec[i] = r->mem + (uintptr_t)r->rec[i];
	free(tmp);
}

#define QUEUES 4

struct arena {
	struct cfg cfg;
	struct shm shm;
	struct enc *e;
	struct ring_cons lane[QUEUES];
	char yaml[1024];
};

static int arena_open(struct arena *a, int ds, const char *fields)
{
	struct cfg_diag diag = { 0 };
	int err;

	snprintf(a->yaml, sizeof(a->yaml),
		 "exporters:\n  - protocol: prometheus\n    enabled: true\n"
		 "    endpoints: [http://127.0.0.1:9/api/v1/write]\n    data-sources: [%s]\n"
		 "    export-fields: %s\n    batch-size: 1024\n    queue-count: %d\n    queue-size: 100000\n"
		 "flowrw:\n  encoders: 1\n  ring-bytes: 64KiB\n  log-level: error\n",
		 schema_ds_name(ds), fields, QUEUES);
	err = cfg_load_buffer(&a->cfg, a->yaml, strlen(a->yaml), "bench.yaml", &diag);
	if (err) {
		cfg_diag_print(&diag, stderr);
		return err;
	}
	cfg_diag_fini(&diag);
	err = shm_create(&a->shm, &a->cfg, a->yaml, strlen(a->yaml));
	if (err)
		return err;
	for (int q = 0; q < QUEUES; q++)
		if (ring_cons_attach(&a->lane[q], shm_lane_ring(&a->shm, 0, 0, q)))
			return -EPROTO;
	a->e = calloc(1, sizeof(*a->e));
	return enc_init(a->e, &a->shm, &a->cfg, 0);
}

static void arena_close(struct arena *a)
{
	enc_fini(a->e);
	free(a->e);
	shm_fini(&a->shm);
	cfg_fini(&a->cfg);
}

/* The sender's part, minimal: take and release every batch. */
static void drain_lanes(struct arena *a)
{
	for (int q = 0; q < QUEUES; q++) {
		struct ring_cons *c = &a->lane[q];
		const struct batch_hdr *bh;
		uint32_t len;
		uint64_t units = 0;

		while ((bh = ring_peek(c, &len))) {
			units += bh->n_series;
			ring_advance(c);
		}
		if (units)
			ring_release(c, units);
	}
}

struct result {
	double sps;          /* samples per CPU second */
	double raw_per;      /* raw protobuf bytes per sample */
	double body_per;     /* snappy bytes per sample */
};

static struct result run_hand(struct bench_rows *r, const char *fields, double secs)
{
	struct arena a;
	struct result res = { 0 };
	const struct stats_encoder_exporter *st;
	uint64_t s0, raw0, body0, pos = 0;
	double t0, t1;

	if (arena_open(&a, r->ds, fields)) {
		fprintf(stderr, "bench: cannot set up the encoder\n");
		exit(1);
	}
	st = &a.shm.stats->enc[0].exporter[0];
	/* warm-up: every lane buffer reaches its working size, and every page
	 * of every lane ring has been written once (a fresh memfd page costs
	 * a fault and a clear: up to a quarter of a 1 s run otherwise, which
	 * a long-running encoder pays once) */
	for (bool cold = true; cold;) {
		for (size_t i = 0; i < r->n; i++) {
			enc_row(a.e, r->rec[i], r->len[i], pos++, mono_ms());
			drain_lanes(&a);
		}
		cold = false;
		for (int q = 0; q < QUEUES; q++)
			if (ring_cursor(&a.lane[q]) < a.lane[q].hdr->size)
				cold = true;
	}
	s0 = stat_get(&st->samples);
	raw0 = stat_get(&st->raw_bytes);
	body0 = stat_get(&st->body_bytes);
	t0 = cpu_s();
	do {
		int64_t now = mono_ms();

		for (size_t i = 0; i < r->n; i++) {
			enc_row(a.e, r->rec[i], r->len[i], pos++, now);
			drain_lanes(&a);
		}
		t1 = cpu_s();
	} while (t1 - t0 < secs);
	res.sps = (double)(stat_get(&st->samples) - s0) / (t1 - t0);
	res.raw_per = (double)(stat_get(&st->raw_bytes) - raw0) / (double)(stat_get(&st->samples) - s0);
	res.body_per = (double)(stat_get(&st->body_bytes) - body0) / (double)(stat_get(&st->samples) - s0);
	arena_close(&a);
	return res;
}

/* protobuf-c: the same rows, labels rendered once per row into strings,
 * message structs pre-allocated for a whole batch, packed and compressed
 * when the batch holds 1024 series.  Two label arenas alternate by batch:
 * a row whose series straddle two batches keeps its labels in the arena of
 * the batch it started in, which is reset only when the batch after next
 * starts. */
static double run_pbc(struct bench_rows *r, const char *fields, double secs)
{
	enum { BATCH = 1024, MAXL = LABELS_MAX + 1, STRS = BATCH * MAXL * 64 };
	struct arena a;
	struct enc_exporter *x;
	Prometheus__TimeSeries *ts = calloc(BATCH, sizeof(*ts));
	Prometheus__TimeSeries **tsp = calloc(BATCH, sizeof(*tsp));
	Prometheus__Sample *smp = calloc(BATCH, sizeof(*smp));
	Prometheus__Sample **smpp = calloc(BATCH, sizeof(*smpp));
	Prometheus__Label **lp = calloc((size_t)BATCH * MAXL, sizeof(*lp));
	Prometheus__Label *lab[2] = { calloc((size_t)BATCH * MAXL, sizeof(Prometheus__Label)),
				      calloc((size_t)BATCH * MAXL, sizeof(Prometheus__Label)) };
	char *str[2] = { malloc(STRS), malloc(STRS) };
	size_t nlab = 0, nstr = 0;
	Prometheus__Label names[SCHEMA_MAX_METRICS];
	uint8_t *packed = malloc(64 << 20);
	char *out = malloc(snappy_max_compressed_length(64 << 20));
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	const struct schema_metric *mt;
	uint64_t samples = 0, batch_no = 0;
	double t0, t1;
	int nm, n = 0;

	if (arena_open(&a, r->ds, fields)) {
		fprintf(stderr, "bench: cannot set up the encoder\n");
		exit(1);
	}
	x = &a.e->exp[0];
	mt = schema_metrics(schema_ds_family(r->ds), &nm);
	for (int m = 0; m < nm; m++) {
		prometheus__label__init(&names[m]);
		names[m].name = "__name__";
		names[m].value = (char *)mt[m].name;
	}
	for (int i = 0; i < BATCH; i++) {
		prometheus__time_series__init(&ts[i]);
		prometheus__sample__init(&smp[i]);
		smpp[i] = &smp[i];
		tsp[i] = &ts[i];
		ts[i].samples = &smpp[i];
		ts[i].n_samples = 1;
		ts[i].labels = &lp[(size_t)i * MAXL];
	}
	wr.timeseries = tsp;
	t0 = cpu_s();
	do {
		for (size_t i = 0; i < r->n; i++) {
			struct rawrow_view *v = &a.e->view;
			const struct labels_plan *p;
			int cur = (int)(batch_no & 1), ns = 0;
			Prometheus__Label *shared = &lab[cur][nlab];

			rawrow_decode(r->rec[i], r->len[i], v);
			if (!filter_accept(&x->filter, v))
				continue;
			p = &x->plan[v->family];
			for (int k = 0; k < p->n; k++) {
				const char *val;
				size_t vlen;

				if (p->e[k].tag == LABELS_DATASOURCE) {
					val = schema_ds_name(v->hdr->ds);
					vlen = strlen(val);
				} else {
					if (!v->tag_kind[p->e[k].tag])
						continue;
					val = labels_value(p, NULL, v, p->e[k].tag, a.e->lo->scratch, &vlen);
				}
				if (!vlen)
					continue;
				/* protobuf-c wants NUL-terminated strings */
				memcpy(str[cur] + nstr, val, vlen);
				str[cur][nstr + vlen] = 0;
				prometheus__label__init(&shared[ns]);
				shared[ns].name = (char *)p->e[k].name;
				shared[ns].value = str[cur] + nstr;
				nstr += vlen + 1;
				ns++;
			}
			nlab += (size_t)ns;
			for (int m = 0; m < nm; m++) {
				Prometheus__TimeSeries *t = &ts[n];

				if (!rawrow_has_metric(v->hdr, m))
					continue;
				t->labels[0] = &names[m];
				for (int k = 0; k < ns; k++)
					t->labels[k + 1] = &shared[k];
				t->n_labels = (size_t)ns + 1;
				smp[n].value = v->metric[m];
				smp[n].timestamp = (int64_t)v->hdr->time * 1000;
				if (++n == BATCH) {
					size_t plen, clen = snappy_max_compressed_length(64 << 20);

					wr.n_timeseries = (size_t)n;
					plen = prometheus__write_request__get_packed_size(&wr);
					prometheus__write_request__pack(&wr, packed);
					snappy_compress((const char *)packed, plen, out, &clen);
					samples += (uint64_t)n;
					n = 0;
					batch_no++;
					nlab = 0; /* the other arena: its rows are packed */
					nstr = 0;
				}
			}
		}
		t1 = cpu_s();
	} while (t1 - t0 < secs);
	arena_close(&a);
	free(ts);
	free(tsp);
	free(smp);
	free(smpp);
	free(lp);
	free(lab[0]);
	free(lab[1]);
	free(str[0]);
	free(str[1]);
	free(packed);
	free(out);
	return (double)samples / (t1 - t0);
}

/*
 * The batches the hand path commits, decompressed (libsnappy checks our
 * blocks on the way): the largest raw request (batch-size or the lane
 * ring's record limit closes it, whichever comes first) goes to <buf> and
 * its series count to *n_series, and every request is compressed again
 * with libsnappy so that bytes per sample compare over the same requests
 * (*lib_per).  Returns the largest request's length.
 */
static size_t sample_request(struct bench_rows *r, const char *fields, uint8_t *buf, size_t cap,
			     uint32_t *n_series, double *lib_per)
{
	struct arena a;
	size_t len = 0;
	uint8_t *raw = malloc(cap);
	char *out = malloc(snappy_max_compressed_length(cap));
	uint64_t lib_bytes = 0, samples = 0;

	if (arena_open(&a, r->ds, fields))
		exit(1);
	*n_series = 0;
	for (size_t i = 0; i < r->n; i++) {
		enc_row(a.e, r->rec[i], r->len[i], i, mono_ms());
		if (i + 1 == r->n)
			enc_finish(a.e);
		for (int q = 0; q < QUEUES; q++) {
			struct ring_cons *c = &a.lane[q];
			const struct batch_hdr *bh;
			uint32_t rlen;
			uint64_t units = 0;

			while ((bh = ring_peek(c, &rlen))) {
				const char *body = (const char *)(bh + 1);
				size_t blen = cap, clen = snappy_max_compressed_length(cap);

				if (snappy_validate_compressed_buffer(body, bh->body_len) != SNAPPY_OK ||
				    snappy_uncompress(body, bh->body_len, (char *)raw, &blen) != SNAPPY_OK ||
				    blen != bh->raw_len) {
					fprintf(stderr, "bench: a batch does not decompress\n");
					exit(1);
				}
				snappy_compress((const char *)raw, blen, out, &clen);
				lib_bytes += clen;
				samples += bh->n_samples;
				if (blen > len) {
					memcpy(buf, raw, blen);
					len = blen;
					*n_series = bh->n_series;
				}
				units += bh->n_series;
				ring_advance(c);
			}
			if (units)
				ring_release(c, units);
		}
	}
	arena_close(&a);
	free(raw);
	free(out);
	*lib_per = samples ? (double)lib_bytes / (double)samples : 0;
	return len;
}

static void run_limits(struct bench_rows *r, const char *fields, double secs, double *memcpy_sps,
		       double *snappy_sps, double *lib_per)
{
	size_t cap = 16 << 20, len;
	uint8_t *raw = malloc(cap), *dst = malloc(cap);
	char *out = malloc(snappy_max_compressed_length(cap));
	uint64_t n;
	uint32_t ns;
	double t0, t1;

	len = sample_request(r, fields, raw, cap, &ns, lib_per);
	if (len == 0 || ns == 0) {
		fprintf(stderr, "bench: no request to measure the limits on\n");
		exit(1);
	}
	n = 0;
	t0 = cpu_s();
	do {
		for (int i = 0; i < 16; i++) {
			memcpy(dst, raw, len);
			__asm__ __volatile__("" : : "r"(dst) : "memory");
		}
		n += 16;
		t1 = cpu_s();
	} while (t1 - t0 < secs);
	*memcpy_sps = (double)n * ns / (t1 - t0);
	n = 0;
	t0 = cpu_s();
	do {
		size_t clen = snappy_max_compressed_length(len);

		snappy_compress((const char *)raw, len, out, &clen);
		n++;
		t1 = cpu_s();
	} while (t1 - t0 < secs);
	*snappy_sps = (double)n * ns / (t1 - t0);
	free(raw);
	free(dst);
	free(out);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int ds;
	} fams[] = { { "application_map", SCHEMA_DS_APPLICATION_MAP_1S }, { "network_map", SCHEMA_DS_NETWORK_MAP_1S } };
	static const struct {
		const char *name;
		const char *fields;
	} sels[] = { { "all tags", "[$tag, $metrics]" },
		     { "6 tags", "[$metrics, protocol, server_port, pod_id_0, pod_id_1, pod_ns_id_0, l7_protocol]" } };
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	/* "hand": only our path, for a profiler; then optionally one family
	 * and one label set ("application_map" "all tags") */
	bool only_hand = argc > 2 && strcmp(argv[2], "hand") == 0;
	const char *only_fam = argc > 3 ? argv[3] : NULL, *only_sel = argc > 4 ? argv[4] : NULL;
	static struct bench_rows rows;

	printf("%-16s %-9s %10s %10s %12s %12s %10s %10s %10s\n", "family", "labels", "hand Msps", "pbc Msps",
	       "memcpy Msps", "snappy Msps", "raw B/smp", "hand B/smp", "lib B/smp");
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		if (only_fam && strcmp(only_fam, fams[f].name) != 0)
			continue;
		build_rows(&rows, fams[f].ds);
		for (size_t s = 0; s < sizeof(sels) / sizeof(sels[0]); s++) {
			if (only_sel && strcmp(only_sel, sels[s].name) != 0)
				continue;
			double hand[REPS], pbc[REPS], mc[REPS], sn[REPS], raw[REPS], body[REPS], lib[REPS];

			for (int k = 0; k < REPS; k++) {
				struct result h = run_hand(&rows, sels[s].fields, secs);

				hand[k] = h.sps;
				raw[k] = h.raw_per;
				body[k] = h.body_per;
				if (only_hand) {
					pbc[k] = mc[k] = sn[k] = lib[k] = 0;
					continue;
				}
				pbc[k] = run_pbc(&rows, sels[s].fields, secs);
				run_limits(&rows, sels[s].fields, secs / 2, &mc[k], &sn[k], &lib[k]);
			}
			printf("%-16s %-9s %10.2f %10.2f %12.2f %12.2f %10.0f %10.1f %10.1f\n", fams[f].name,
			       sels[s].name, median(hand, REPS) / 1e6, median(pbc, REPS) / 1e6, median(mc, REPS) / 1e6,
			       median(sn, REPS) / 1e6, median(raw, REPS), median(body, REPS), median(lib, REPS));
			fflush(stdout);
		}
		free(rows.mem);
		rows.mem = NULL;
	}
	return 0;
}
