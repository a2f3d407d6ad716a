/* SPDX-License-Identifier: MIT */
/* test_rw_encode.c: the hand-written remote-write writer, checked with protobuf-c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <snappy-c.h>

#include "encoder/rw_encode.h"
#include "remote.pb-c.h"

/* Decode a varint the slow, obvious way. */
static uint64_t get_varint(const uint8_t *p, size_t *n)
{
	uint64_t v = 0;
	int shift = 0;

	*n = 0;
	do {
		v |= (uint64_t)(p[*n] & 0x7f) << shift;
		shift += 7;
	} while (p[(*n)++] & 0x80);
	return v;
}

Test(rw_encode, varint_lengths_and_bytes)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, (1ULL << 21) - 1, 1ULL << 21,
					 (1ULL << 35), 1716998400000ULL, (uint64_t)-1, (uint64_t)INT64_MAX };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint8_t buf[RW_VARINT_MAX + 1];
		size_t n, want = 1;

		for (uint64_t v = vals[i]; v >= 128; v >>= 7)
			want++;
		cr_expect_eq(rw_varint_len(vals[i]), want, "len of %llu", (unsigned long long)vals[i]);
		cr_expect_eq((size_t)(rw_put_varint(buf, vals[i]) - buf), want);
		cr_expect_eq(get_varint(buf, &n), vals[i]);
		cr_expect_eq(n, want);
	}
}

/* Labels of one series as serialized entries. */
static size_t put_labels(uint8_t *p, const char *const *kv, int n)
{
	uint8_t *s = p;

	for (int i = 0; i < n; i++)
		p = rw_put_label(p, kv[2 * i], strlen(kv[2 * i]), kv[2 * i + 1], strlen(kv[2 * i + 1]));
	return (size_t)(p - s);
}

Test(rw_encode, series_decode_with_protobuf_c)
{
	static const char *const name[] = { "__name__", "byte_tx" };
	static const char *const shared[] = { "datasource", "flow_metrics.network.1m", "ip4", "10.0.0.1",
					      "observation_point", "Client NIC" };
	uint8_t lab1[64], lab2[256], req[1024], *p = req;
	size_t l1 = put_labels(lab1, name, 1), l2 = put_labels(lab2, shared, 3);
	Prometheus__WriteRequest *wr;

	cr_assert_eq(l1, rw_label_size(8, 7));
	p = rw_put_series(p, lab1, l1, lab2, l2, 12345.5, 1716998400000LL);
	cr_assert_eq((size_t)(p - req), rw_series_size(l1 + l2, 1716998400000LL));
	p = rw_put_series(p, lab1, l1, lab2, l2, 0.0, 0);
	p = rw_put_series(p, lab1, l1, NULL, 0, -1.25, 1);
	wr = prometheus__write_request__unpack(NULL, (size_t)(p - req), req);
	cr_assert_not_null(wr);
	cr_assert_eq(wr->n_timeseries, 3);
	cr_assert_eq(wr->timeseries[0]->n_labels, 4);
	cr_expect_str_eq(wr->timeseries[0]->labels[0]->name, "__name__");
	cr_expect_str_eq(wr->timeseries[0]->labels[0]->value, "byte_tx");
	cr_expect_str_eq(wr->timeseries[0]->labels[3]->name, "observation_point");
	cr_expect_str_eq(wr->timeseries[0]->labels[3]->value, "Client NIC");
	cr_assert_eq(wr->timeseries[0]->n_samples, 1);
	cr_expect_eq(wr->timeseries[0]->samples[0]->value, 12345.5);
	cr_expect_eq(wr->timeseries[0]->samples[0]->timestamp, 1716998400000LL);
	cr_expect_eq(wr->timeseries[1]->samples[0]->value, 0.0);
	cr_expect_eq(wr->timeseries[1]->samples[0]->timestamp, 0);
	cr_expect_eq(wr->timeseries[2]->n_labels, 1);
	cr_expect_eq(wr->timeseries[2]->samples[0]->value, -1.25);
	prometheus__write_request__free_unpacked(wr, NULL);
}

/* protobuf-c's generated packer and ours agree byte for byte (non-zero
 * values: proto3 lets protobuf-c omit zero scalars, we always write them). */
Test(rw_encode, bytes_equal_protobuf_c_pack)
{
	Prometheus__Label l[3] = { PROMETHEUS__LABEL__INIT, PROMETHEUS__LABEL__INIT, PROMETHEUS__LABEL__INIT };
	Prometheus__Label *lp[3] = { &l[0], &l[1], &l[2] };
	Prometheus__Sample s = PROMETHEUS__SAMPLE__INIT;
	Prometheus__Sample *sp = &s;
	Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT;
	Prometheus__TimeSeries *tsp[2] = { &ts, &ts };
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	char longval[300];
	uint8_t lab1[64], lab2[1024], mine[4096], theirs[4096], *p = mine;
	size_t l1, l2, n;

	memset(longval, 'x', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = 0; /* 299 bytes: a two-byte length */
	l[0].name = "__name__";
	l[0].value = "rrt_max";
	l[1].name = "app_service";
	l[1].value = longval;
	l[2].name = "datasource";
	l[2].value = "flow_metrics.application.1s";
	s.value = 25774;
	s.timestamp = 1716998400000LL;
	ts.n_labels = 3;
	ts.labels = lp;
	ts.n_samples = 1;
	ts.samples = &sp;
	wr.n_timeseries = 2;
	wr.timeseries = tsp;
	n = prometheus__write_request__pack(&wr, theirs);

	l1 = (size_t)(rw_put_label(lab1, "__name__", 8, "rrt_max", 7) - lab1);
	p = rw_put_label(lab2, "app_service", 11, longval, strlen(longval));
	l2 = (size_t)(rw_put_label(p, "datasource", 10, l[2].value, strlen(l[2].value)) - lab2);
	p = rw_put_series(mine, lab1, l1, lab2, l2, 25774, 1716998400000LL);
	p = rw_put_series(p, lab1, l1, lab2, l2, 25774, 1716998400000LL);
	cr_assert_eq((size_t)(p - mine), n);
	cr_assert(memcmp(mine, theirs, n) == 0);
}

Test(rw_encode, nan_payloads_survive)
{
	const uint64_t stale = 0x7ff0000000000002ULL, nan = 0x7ff8000000000001ULL;
	uint8_t lab[64], req[256], *p;
	double d;
	size_t l = (size_t)(rw_put_label(lab, "__name__", 8, "x", 1) - lab);
	Prometheus__WriteRequest *wr;
	uint64_t got;

	memcpy(&d, &stale, 8);
	p = rw_put_series(req, lab, l, NULL, 0, d, 1000);
	memcpy(&d, &nan, 8);
	p = rw_put_series(p, lab, l, NULL, 0, d, 2000);
	wr = prometheus__write_request__unpack(NULL, (size_t)(p - req), req);
	cr_assert_not_null(wr);
	memcpy(&got, &wr->timeseries[0]->samples[0]->value, 8);
	cr_expect_eq(got, stale);
	memcpy(&got, &wr->timeseries[1]->samples[0]->value, 8);
	cr_expect_eq(got, nan);
	prometheus__write_request__free_unpacked(wr, NULL);
}

Test(rw_encode, long_labels_use_multibyte_lengths)
{
	size_t vlen = 20000; /* 3-byte varints for the value and the label message */
	char *val = malloc(vlen + 1);
	uint8_t *lab = malloc(vlen + 64), *req = malloc(vlen + 128), *p;
	Prometheus__WriteRequest *wr;
	size_t l;

	memset(val, 'v', vlen);
	val[vlen] = 0;
	l = (size_t)(rw_put_label(lab, "endpoint", 8, val, vlen) - lab);
	cr_assert_eq(l, rw_label_size(8, vlen));
	p = rw_put_series(req, lab, l, NULL, 0, 1.0, -5);  /* a negative int64 is 10 bytes */
	cr_assert_eq((size_t)(p - req), rw_series_size(l, -5));
	wr = prometheus__write_request__unpack(NULL, (size_t)(p - req), req);
	cr_assert_not_null(wr);
	cr_expect_eq(strlen(wr->timeseries[0]->labels[0]->value), vlen);
	cr_expect_eq(wr->timeseries[0]->samples[0]->timestamp, -5);
	prometheus__write_request__free_unpacked(wr, NULL);
	free(val);
	free(lab);
	free(req);
}

Test(rw_encode, req_grows_to_max_and_refuses_past_it)
{
	struct rw_req r;
	uint8_t lab[64];
	size_t l = (size_t)(rw_put_label(lab, "__name__", 8, "packet_tx", 9) - lab);
	size_t one = rw_series_size(l, 1000), n = 0;

	rw_req_init(&r, 100000);
	cr_assert_eq(r.n_series, 0);
	for (;;) {
		int err = rw_req_reserve(&r, one);

		if (err) {
			cr_assert_eq(err, -E2BIG);
			break;
		}
		rw_req_add(&r, lab, l, NULL, 0, (double)n, 1000 + (int64_t)n);
		n++;
		cr_assert_leq(r.len, r.max);
		cr_assert(n < 100000);
	}
	cr_expect_eq(n, 100000 / one);
	cr_expect_eq(r.n_series, n);
	cr_expect_eq(r.min_ts_ms, 1000);
	cr_expect_eq(r.max_ts_ms, 1000 + (int64_t)n - 1);
	rw_req_reset(&r);
	cr_expect_eq(r.len, 0);
	cr_expect_eq(rw_req_reserve(&r, one), 0); /* memory kept */
	rw_req_fini(&r);
}

Test(rw_encode, raw_limit_is_the_largest_that_fits)
{
	static const size_t rooms[] = { 100, 4096 - 8, 2040, 65536, (1u << 21) - 8, 123457 };

	cr_expect_eq(rw_raw_limit(48, 48), 0);
	cr_expect_eq(rw_raw_limit(60, 48), 0);
	for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
		size_t lim = rw_raw_limit(rooms[i], 48);

		cr_assert_gt(lim, 0, "room %zu", rooms[i]);
		cr_expect_leq(48 + snappy_max_compressed_length(lim), rooms[i]);
		cr_expect_gt(48 + snappy_max_compressed_length(lim + 1), rooms[i]);
	}
}

Test(rw_encode, compress_round_trip)
{
	struct rw_req r;
	uint8_t lab[128];
	size_t l = (size_t)(rw_put_label(lab, "__name__", 8, "byte_rx", 7) - lab);
	char *out, *back;
	size_t clen, blen;

	rw_req_init(&r, 1 << 20);
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(rw_req_reserve(&r, rw_series_size(l, 1716998400000LL)), 0);
		rw_req_add(&r, lab, l, NULL, 0, i * 3.0, 1716998400000LL);
	}
	out = malloc(snappy_max_compressed_length(r.len));
	clen = rw_req_compress(&r, out, snappy_max_compressed_length(r.len));
	cr_assert_gt(clen, 0);
	cr_expect_lt(clen, r.len / 2);
	cr_assert_eq(snappy_uncompressed_length(out, clen, &blen), SNAPPY_OK);
	cr_assert_eq(blen, r.len);
	back = malloc(blen);
	cr_assert_eq(snappy_uncompress(out, clen, back, &blen), SNAPPY_OK);
	cr_expect(memcmp(back, r.buf, blen) == 0);
	free(out);
	free(back);
	rw_req_fini(&r);
}
