/* SPDX-License-Identifier: MIT */
/* test_ingest_synth.c: the synthetic generator: determinism, JSON equivalence, series, pacing. */
#include "ingest_harness.h"

#include "common/hash.h"
#include "ingest/json_row.h"
#include "ingest/src_synthetic.h"

static const int all_ds[] = { 0, 1, 2, 3, 5, 6, 7, 8 };
static struct synth g1, g2;
static struct rowb b1, b2;
static uint8_t r1[ROWB_MAX_BYTES], r2[ROWB_MAX_BYTES];

Test(synth, same_seed_same_rows)
{
	for (size_t d = 0; d < sizeof(all_ds) / sizeof(all_ds[0]); d++) {
		int differ = 0;

		cr_assert_eq(synth_init(&g1, all_ds[d], 42, 1000, 0, 0), 0);
		cr_assert_eq(synth_init(&g2, all_ds[d], 42, 1000, 0, 0), 0);
		for (uint64_t k = 0; k < 2000; k += 7) {
			int a, b;

			synth_row(&g1, k, 1717000000, &b1);
			synth_row(&g2, k, 1717000000, &b2);
			a = rowb_encode(&b1, r1, sizeof(r1));
			b = rowb_encode(&b2, r2, sizeof(r2));
			cr_assert_gt(a, 0);
			cr_assert_eq(a, b);
			cr_assert(memcmp(r1, r2, (size_t)a) == 0, "ds %d row %llu differs", all_ds[d],
				  (unsigned long long)k);
		}
		cr_assert_eq(synth_init(&g2, all_ds[d], 43, 1000, 0, 0), 0);
		for (uint64_t k = 0; k < 100; k++) {
			int a, b;

			synth_row(&g1, k, 1717000000, &b1);
			synth_row(&g2, k, 1717000000, &b2);
			a = rowb_encode(&b1, r1, sizeof(r1));
			b = rowb_encode(&b2, r2, sizeof(r2));
			differ += a != b || memcmp(r1, r2, (size_t)a) != 0;
		}
		cr_assert_gt(differ, 90, "another seed, other rows");
	}
}

/* The rows the source makes directly equal parsing the JSON flowrw-gen
 * prints for them: the synthetic source and a real DeepFlow feed take the
 * same path from here on. */
Test(synth, raw_rows_equal_their_parsed_json)
{
	struct jrow *jp = malloc(sizeof(*jp));
	struct jrow_err err;
	char json[16384];

	cr_assert(jp);
	jrow_init(jp);
	for (size_t d = 0; d < sizeof(all_ds) / sizeof(all_ds[0]); d++) {
		cr_assert_eq(synth_init(&g1, all_ds[d], 7, 500, 0, 0), 0);
		for (uint64_t k = 0; k < 500; k++) {
			int a, b, n;

			synth_row(&g1, k, 1717000020, &b1);
			a = rowb_encode(&b1, r1, sizeof(r1));
			n = jrow_format(&b1, json, sizeof(json));
			cr_assert_gt(n, 0);
			cr_assert_eq(jrow_parse(jp, json, (size_t)n, -1, &b2, &err), 0, "%s at %zu: %s", err.msg, err.at,
				     json);
			cr_assert_eq(jp->unknown_keys, 0);
			cr_assert_eq(b2.dups, 0);
			b = rowb_encode(&b2, r2, sizeof(r2));
			cr_assert_eq(a, b, "ds %d row %llu: %s", all_ds[d], (unsigned long long)k, json);
			cr_assert(memcmp(r1, r2, (size_t)a) == 0, "ds %d row %llu: %s", all_ds[d], (unsigned long long)k,
				  json);
		}
	}
	free(jp);
}

/* <series> distinct tag sets, repeating with period <series>; a plausible
 * mix of pods, VMs and Internet hosts. */
Test(synth, series_are_distinct_and_realistic)
{
	enum { S = 3000 };
	static uint64_t h[S];
	int pods = 0, internet = 0;

	cr_assert_eq(synth_init(&g1, SCHEMA_DS_NETWORK_MAP_1S, 1, S, 0, 0), 0);
	for (uint64_t k = 0; k < S; k++) {
		struct rawrow_view v;
		int n;

		synth_row(&g1, k, 1717000000, &b1);
		n = rowb_encode(&b1, r1, sizeof(r1));
		cr_assert(rawrow_decode(r1, (uint32_t)n, &v));
		h[k] = hash_bytes(rawrow_tags(v.hdr), v.hdr->tags_len, 0);
		pods += v.tag_kind[SCHEMA_T_POD_ID] != 0;
		internet += v.tag_kind[SCHEMA_T_REGION_ID] == 0;
		cr_assert_eq(v.tag_kind[SCHEMA_T_POD_ID_1], RAWROW_T_STR, "map rows have a server pod");
		cr_assert_eq(v.tag_kind[SCHEMA_T_ROLE], 0, "role is not a network_map field");
		cr_assert_eq(rawrow_metric_count(v.hdr), SCHEMA_NET_METRICS);
		/* The same series one round later: same tags. */
		synth_row(&g1, k + S, 1717000001, &b2);
		cr_assert_eq(rowb_tags_len(&b1), rowb_tags_len(&b2));
	}
	for (int i = 0; i < S; i++)
		for (int j = i + 1; j < S; j++)
			cr_assert_neq(h[i], h[j], "series %d and %d have the same tags", i, j);
	cr_assert(pods > S * 6 / 10 && pods < S * 8 / 10, "pods %d of %d", pods, S);
	cr_assert(internet > S / 20 && internet < S * 3 / 20, "internet %d of %d", internet, S);
}

/* Pacing: rows-per-second spacing; a round of <series> rows waits for the
 * next period, so a series never repeats a timestamp. */
Test(synth, pacing_and_rounds)
{
	int64_t mono = 1000000, wall = 1717000000500LL, wake;
	uint32_t t, last[5] = { 0 };
	int made = 0;

	cr_assert_eq(synth_init(&g1, SCHEMA_DS_NETWORK_1S, 1, 5, 0, 100), 0);
	/* 100 rows/s: row k due 10 ms after row k-1. */
	cr_assert_eq(synth_due(&g1, mono, wall, &t, &wake), 1);
	cr_assert_eq(t, 1717000000u);
	synth_advance(&g1, t);
	cr_assert_eq(synth_due(&g1, mono + 5, wall + 5, &t, &wake), 0);
	cr_assert_eq(wake, mono + 10);
	/* Run 3 simulated seconds in 1 ms steps. */
	for (int ms = 10; ms < 3000; ms++) {
		if (synth_due(&g1, mono + ms, wall + ms, &t, &wake) != 1)
			continue;
		cr_assert_gt(t, last[g1.next % 5], "series %llu repeats timestamp %u",
			     (unsigned long long)(g1.next % 5), t);
		last[g1.next % 5] = t;
		synth_advance(&g1, t);
		made++;
	}
	/* 5 series per second at most: 1 + 5 per second boundary crossed. */
	cr_assert_leq(made + 1, 5 * 4);
	cr_assert_geq(made + 1, 5 * 3);

	/* 1m: minute-aligned timestamps, a round per minute. */
	cr_assert_eq(synth_init(&g1, SCHEMA_DS_APPLICATION_1M, 1, 3, 4, 0), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(synth_due(&g1, mono, wall, &t, &wake), 1);
		cr_assert_eq(t % 60, 0);
		synth_advance(&g1, t);
	}
	cr_assert_eq(synth_due(&g1, mono, wall, &t, &wake), 0, "the 4th row waits for the next minute");
	cr_assert_eq(wake, mono + (1717000020LL * 1000 - wall));
	cr_assert_eq(synth_due(&g1, wake, wall + (wake - mono), &t, &wake), 1);
	synth_advance(&g1, t);
	cr_assert_eq(synth_due(&g1, mono, wall, &t, &wake), -1, "rows: 4 made");
}

/* Through the loop: a finite synthetic source finishes, rate-limited. */
Test(synth, finite_source_through_the_loop, .timeout = 30)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct cfg_source *src;
	int64_t t0;

	h_init(h, 2, 1 << 20);
	src = h_source(h, CFG_SRC_SYNTHETIC);
	src->data_source = SCHEMA_DS_APPLICATION_1S;
	src->series = 100000;
	src->rows = 600;
	src->rows_per_second = 1000;
	t0 = h_ms();
	h_start(h);
	cr_assert_eq(h_wait(h, 10000), 0);
	cr_assert_geq(h_ms() - t0, 500, "600 rows at 1000/s take 0.6 s");
	cr_assert(h_all_drained(h));
	cr_assert_eq(h->n_rows, 600);
	cr_assert_eq(h_stat(&h->shm.stats->in.source[0].exhausted), 1);
	for (size_t i = 0; i < h->n_rows; i++) {
		int64_t now = time(NULL);

		cr_assert(h->rows[i].time <= now && h->rows[i].time + 30 > now, "current timestamps");
	}
	h_fini(h);
	free(h);
}
