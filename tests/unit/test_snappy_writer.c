/* SPDX-License-Identifier: MIT */
/* test_snappy_writer.c: the snappy block writer and rw_zreq, checked by libsnappy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "encoder/rw_encode.h"
#include "encoder/snappy_writer.h"

/* xorshift: reproducible, so a failure names its seed */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

/* The uncompressed bytes the writer's calls stand for, built alongside. */
struct ref {
	uint8_t *b;
	size_t len, cap;
};

static void ref_put(struct ref *r, const void *p, size_t n)
{
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2;
		r->b = realloc(r->b, r->cap);
		cr_assert_not_null(r->b);
	}
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static void ref_copy(struct ref *r, size_t off, size_t n)
{
	cr_assert(off >= 1 && off <= r->len);
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2;
		r->b = realloc(r->b, r->cap);
		cr_assert_not_null(r->b);
	}
	/* byte by byte: a copy may overlap its own output, as in snappy */
	for (size_t i = 0; i < n; i++, r->len++)
		r->b[r->len] = r->b[r->len - off];
}

struct kinds {
	size_t lit, copy1, copy2, copy4;
};

/*
 * Walk the elements of a block (preamble included) and check what every
 * decoder requires of them and what the size bound relies on: copy-1
 * lengths 4..11 and offsets < 2048, copy-2/copy-4 lengths 1..64, offsets
 * within the output so far, and no copy shorter than snw_copy_min().
 */
static struct kinds walk(const uint8_t *p, size_t n, size_t ulen)
{
	const uint8_t *end = p + n;
	struct kinds k = { 0 };
	size_t out = 0, v = 0;
	unsigned shift = 0;

	do {
		cr_assert(p < end);
		v |= (size_t)(*p & 0x7f) << shift;
		shift += 7;
	} while (*p++ & 0x80);
	cr_assert_eq(v, ulen);
	while (p < end) {
		unsigned tag = *p & 3, m = *p >> 2;
		size_t len, off;

		if (tag == 0) {
			len = m + 1;
			p++;
			if (m >= 60) {
				len = 0;
				for (unsigned i = 0; i < m - 59; i++)
					len |= (size_t)p[i] << (8 * i);
				len++;
				cr_expect_gt(len, 60, "a long literal tag for %zu bytes", len);
				p += m - 59;
			}
			cr_assert_leq(len, (size_t)(end - p));
			p += len;
			out += len;
			k.lit++;
			continue;
		}
		if (tag == 1) {
			len = 4 + (m & 7);
			off = ((size_t)(m >> 3) << 8) | p[1];
			p += 2;
			k.copy1++;
		} else if (tag == 2) {
			len = m + 1;
			off = p[1] | (size_t)p[2] << 8;
			p += 3;
			k.copy2++;
			cr_expect(len > 11 || off >= 2048, "copy-2 where copy-1 fits");
		} else {
			len = m + 1;
			off = p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16 | (size_t)p[4] << 24;
			p += 5;
			k.copy4++;
			cr_expect_geq(off, 65536, "copy-4 where copy-2 fits");
		}
		cr_assert_leq(p, end);
		cr_assert(off >= 1 && off <= out, "offset %zu at output %zu", off, out);
		cr_assert_geq(len, snw_copy_min(off), "copy of %zu bytes at offset %zu", len, off);
		out += len;
	}
	cr_assert_eq(out, ulen);
	return k;
}

/* Preamble + elements, then libsnappy must validate and decode it to ref. */
static struct kinds check_block(struct snw *w, const struct ref *r)
{
	uint8_t *blk = malloc(RW_VARINT_MAX + w->len + 1), *p;
	size_t blen, dlen;
	char *back;
	struct kinds k;

	snw_finish(w);
	cr_assert_eq(w->ulen, r->len);
	p = rw_put_varint(blk, w->ulen);
	memcpy(p, w->buf, w->len);
	blen = (size_t)(p - blk) + w->len;
	cr_assert_leq(blen, snw_max_len(w->ulen), "%zu bytes for %zu", blen, w->ulen);
	k = walk(blk, blen, w->ulen);
	cr_assert_eq(snappy_validate_compressed_buffer((const char *)blk, blen), SNAPPY_OK);
	cr_assert_eq(snappy_uncompressed_length((const char *)blk, blen, &dlen), SNAPPY_OK);
	cr_assert_eq(dlen, r->len);
	back = malloc(dlen + 1);
	cr_assert_eq(snappy_uncompress((const char *)blk, blen, back, &dlen), SNAPPY_OK);
	cr_assert_eq(dlen, r->len);
	cr_assert(memcmp(back, r->b, dlen) == 0, "decoded bytes differ");
	free(back);
	free(blk);
	return k;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void lit(struct snw *w, struct ref *r, size_t n)
{
	uint8_t *tmp = malloc(n);

	fill_random(tmp, n);
	cr_assert_eq(snw_reserve(w, n), 0);
	snw_lit(w, tmp, n);
	ref_put(r, tmp, n);
	free(tmp);
}

static void copy(struct snw *w, struct ref *r, size_t off, size_t n)
{
	cr_assert_eq(snw_reserve(w, n), 0);
	snw_copy(w, off, n);
	ref_copy(r, off, n);
}

Test(snappy_writer, literal_lengths_at_every_tag_boundary)
{
	static const size_t lens[] = { 1, 2, 4, 11, 12, 59, 60, 61, 64, 65, 255, 256, 257, 65535, 65536, 65537,
				       (1u << 24), (1u << 24) + 1 };

	rnd_state = 0x1234567;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct snw w;
		struct ref r = { 0 };
		struct kinds k;

		snw_init(&w);
		lit(&w, &r, lens[i]);
		k = check_block(&w, &r);
		cr_expect_eq(k.lit, 1, "one literal for %zu bytes", lens[i]);
		/* the tag takes 1 byte up to 60, then 1 + 1..4 */
		cr_expect_eq(w.len, lens[i] + (lens[i] <= 60 ? 1 : lens[i] <= 256 ? 2 : lens[i] <= 65536 ? 3
								 : lens[i] <= (1u << 24) ? 4 : 5));
		snw_fini(&w);
		free(r.b);
	}
}

Test(snappy_writer, literal_runs_merge_until_a_copy)
{
	struct snw w;
	struct ref r = { 0 };
	struct kinds k;

	rnd_state = 77;
	snw_init(&w);
	for (int i = 0; i < 10; i++)
		lit(&w, &r, 7); /* 70 bytes in one run: the long tag, moved once */
	copy(&w, &r, 70, 20);
	lit(&w, &r, 3);
	lit(&w, &r, 3);
	k = check_block(&w, &r);
	cr_expect_eq(k.lit, 2);
	cr_expect_eq(k.copy1 + k.copy2 + k.copy4, 1);
	snw_fini(&w);
	free(r.b);
}

Test(snappy_writer, copy_lengths_and_offsets_at_every_boundary)
{
	static const size_t offs[] = { 1, 2, 7, 2047, 2048, 2049, 65535, 65536, 65537, (1u << 20) + 3 };
	static const size_t lens[] = { 4, 5, 6, 11, 12, 60, 61, 63, 64, 65, 66, 67, 68, 69, 70, 71, 128, 129, 1000 };

	rnd_state = 42;
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			struct snw w;
			struct ref r = { 0 };
			struct kinds k;

			if (lens[j] < snw_copy_min(offs[i]))
				continue;
			snw_init(&w);
			lit(&w, &r, offs[i]);
			copy(&w, &r, offs[i], lens[j]);
			k = check_block(&w, &r);
			if (offs[i] < 2048 && lens[j] <= 11)
				cr_expect_eq(k.copy1, 1, "off %zu len %zu", offs[i], lens[j]);
			else if (offs[i] < 65536)
				cr_expect_eq(k.copy2 + k.copy1, (lens[j] + 63) / 64, "off %zu len %zu", offs[i], lens[j]);
			else
				cr_expect_eq(k.copy4, (lens[j] + 63) / 64, "off %zu len %zu", offs[i], lens[j]);
			snw_fini(&w);
			free(r.b);
		}
	}
}

Test(snappy_writer, random_literals_and_copies)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct snw w;
		struct ref r = { 0 };
		int ops = 1 + (int)(seed % 97);

		rnd_state = seed * 0x9e3779b97f4a7c15ULL;
		snw_init(&w);
		if (seed % 3 == 0)
			snw_reset(&w); /* a reset writer is an empty one */
		for (int i = 0; i < ops; i++) {
			size_t kind = rnd_below(10);

			if (r.len == 0 || kind < 4) {
				/* mostly short, sometimes over 60 or 256 */
				size_t n = rnd_below(8) == 0 ? 1 + rnd_below(3000) : 1 + rnd_below(70);

				lit(&w, &r, n);
			} else {
				/* recent (a row's series) or far (an earlier row) */
				size_t off = kind < 8 ? 1 + rnd_below(r.len < 4096 ? r.len : 4096) : 1 + rnd_below(r.len);
				size_t n = snw_copy_min(off) + rnd_below(kind == 9 ? 2000 : 70);

				copy(&w, &r, off, n);
			}
		}
		check_block(&w, &r);
		snw_fini(&w);
		free(r.b);
	}
}

Test(snappy_writer, far_copies_past_64k)
{
	struct snw w;
	struct ref r = { 0 };
	struct kinds k;

	rnd_state = 9;
	snw_init(&w);
	lit(&w, &r, 70000);
	copy(&w, &r, 65536, 6);
	copy(&w, &r, 65537 + 6, 64);
	copy(&w, &r, 69999, 200);
	copy(&w, &r, 300, 65); /* 65 at a near offset: 61 + 4 */
	k = check_block(&w, &r);
	cr_expect_eq(k.copy4, 1 + 1 + 4);
	snw_fini(&w);
	free(r.b);
}

/* --- rw_zreq: the same request as rw_req, as a snappy block ------------ */

#define NAMES 12
#define POOL  24

struct series_src {
	uint8_t name[NAMES][64];
	size_t name_len[NAMES];
	const char *lname[POOL];   /* label names, sorted */
};

static void names_init(struct series_src *s)
{
	static const char *const lnames[POOL] = {
		"auto_instance_0", "auto_instance_1", "az_0", "az_1", "datasource", "host_0", "host_1",
		"ip_0", "ip_1", "l7_protocol", "pod_0", "pod_1", "pod_cluster_0", "pod_group_0",
		"pod_group_1", "pod_node_0", "pod_ns_0", "protocol", "region_0", "region_1", "server_port",
		"subnet_0", "tap_side", "vpc_0",
	};
	char metric[32];

	for (int i = 0; i < NAMES; i++) {
		snprintf(metric, sizeof(metric), "metric_%.*s", 1 + i, "abcdefghijklmnop");
		s->name_len[i] = (size_t)(rw_put_label(s->name[i], "__name__", 8, metric, strlen(metric)) - s->name[i]);
	}
	for (int i = 0; i < POOL; i++)
		s->lname[i] = lnames[i];
}

/*
 * A row's labels: a random subset of the pool in name order, values from a
 * small set (so rows share labels), some long enough that the entry's
 * length needs a 2-byte varint, some changing that length between rows.
 * With <garbage>, bytes that are not label entries at all: the comparison
 * with the previous row must stay correct whatever it parses.
 */
static size_t make_block(const struct series_src *s, uint8_t *out, bool garbage)
{
	uint8_t *p = out;
	char val[300];

	if (garbage) {
		size_t n = rnd_below(200);

		fill_random(out, n);
		if (n && rnd_below(2))
			out[0] = RW_TAG_LABEL;
		return n;
	}
	for (int i = 0; i < POOL; i++) {
		size_t vlen;

		if (rnd_below(5) == 0)
			continue;
		switch (rnd_below(4)) {
		case 0:
			vlen = (size_t)snprintf(val, sizeof(val), "v%d", (int)rnd_below(3));
			break;
		case 1:
			vlen = (size_t)snprintf(val, sizeof(val), "loadgenerator-%04x", (unsigned)rnd_below(4));
			break;
		case 2:
			vlen = 100 + rnd_below(60); /* crosses the 128-byte entry length */
			memset(val, 'a' + (int)rnd_below(2), vlen);
			break;
		default:
			vlen = 1 + rnd_below(40);
			for (size_t k = 0; k < vlen; k++)
				val[k] = (char)('0' + rnd_below(10));
		}
		p = rw_put_label(p, s->lname[i], strlen(s->lname[i]), val, vlen);
	}
	return (size_t)(p - out);
}

static void zreq_check(struct rw_zreq *z, const struct rw_req *q)
{
	struct ref r = { q->buf, q->len, q->len };

	cr_assert_eq(z->n_series, q->n_series);
	cr_assert_eq(z->min_ts_ms, q->min_ts_ms);
	cr_assert_eq(z->max_ts_ms, q->max_ts_ms);
	cr_assert_eq(rw_zreq_len(z), q->len);
	check_block(&z->w, &r);
}

static void zreq_random(uint64_t seed, size_t max, bool garbage)
{
	static struct series_src s;
	uint8_t *blk = malloc(64 * 1024);
	struct rw_zreq z;
	struct rw_req q;
	uint64_t gen = 0;
	size_t blen = 0;
	int64_t ts = 1716998400000LL;
	int batches = 0;

	names_init(&s);
	rnd_state = seed * 0x2545f4914f6cdd1dULL + 1;
	rw_zreq_init(&z, max);
	rw_req_init(&q, max);
	for (int row = 0; row < 400 && batches < 3; row++) {
		int metrics = 1 + (int)rnd_below(NAMES);

		if (row == 0 || rnd_below(8) != 0) {
			/* a new row: new labels (often much like the last) */
			blen = make_block(&s, blk, garbage && rnd_below(4) == 0);
			gen++;
		}
		if (rnd_below(4) == 0)
			ts += 1000 * (int64_t)rnd_below(3);
		for (int m = 0; m < metrics; m++) {
			int id = (int)rnd_below(NAMES);
			/* as enc_series: doubles of counters, sometimes NaN bits */
			double v = rnd_below(10) == 0 ? -0.0 : (double)rnd_below(100000);
			size_t need = rw_series_size(s.name_len[id] + blen, ts);
			int err = rw_zreq_reserve(&z, need);

			cr_assert_eq(rw_req_reserve(&q, need), err);
			if (err == -E2BIG) {
				zreq_check(&z, &q);
				rw_zreq_reset(&z);
				rw_req_reset(&q);
				batches++;
				err = rw_zreq_reserve(&z, need);
				cr_assert_eq(rw_req_reserve(&q, need), err);
			}
			cr_assert_eq(err, 0);
			cr_assert(rw_zreq_fits(&z, need));
			rw_zreq_add(&z, id % 3 == 2 ? RW_ZREQ_NO_NAME : (unsigned)id, s.name[id], s.name_len[id],
				    blk, blen, gen, v, ts);
			rw_req_add(&q, s.name[id], s.name_len[id], blk, blen, v, ts);
		}
	}
	if (q.n_series)
		zreq_check(&z, &q);
	rw_zreq_fini(&z);
	rw_req_fini(&q);
	free(blk);
}

Test(rw_zreq, same_bytes_as_rw_req_random_rows)
{
	for (uint64_t seed = 1; seed <= 60; seed++)
		zreq_random(seed, 1 << 20, false);
}

Test(rw_zreq, same_bytes_as_rw_req_across_batch_resets)
{
	/* small requests: copies must never reach into the batch before */
	for (uint64_t seed = 100; seed <= 140; seed++)
		zreq_random(seed, 6000 + seed * 100, false);
}

Test(rw_zreq, same_bytes_with_labels_that_do_not_parse)
{
	for (uint64_t seed = 200; seed <= 260; seed++)
		zreq_random(seed, 1 << 20, true);
}

Test(rw_zreq, rows_far_apart_use_copy4)
{
	/* 65 metrics of a 1.8 KB row: the next row's __name__ labels are
	 * ~120 KB back, past copy-2's reach */
	static struct series_src s;
	uint8_t blk[2048];
	struct rw_zreq z;
	struct rw_req q;
	struct ref r;
	struct kinds k;
	size_t blen = 0;

	names_init(&s);
	rnd_state = 5;
	rw_zreq_init(&z, 1 << 22);
	rw_req_init(&q, 1 << 22);
	for (int row = 0; row < 3; row++) {
		for (blen = 0; blen < 1800;)
			blen = (size_t)(rw_put_label(blk + blen, "label", 5, "the-same-value", 14) - blk);
		for (int m = 0; m < 65; m++) {
			int id = m % NAMES;
			size_t need = rw_series_size(s.name_len[id] + blen, 1000);

			cr_assert_eq(rw_zreq_reserve(&z, need), 0);
			cr_assert_eq(rw_req_reserve(&q, need), 0);
			rw_zreq_add(&z, (unsigned)m, s.name[id], s.name_len[id], blk, blen, (uint64_t)row + 1, m, 1000);
			rw_req_add(&q, s.name[id], s.name_len[id], blk, blen, m, 1000);
		}
	}
	r = (struct ref){ q.buf, q.len, q.len };
	k = check_block(&z.w, &r);
	cr_expect_gt(k.copy4, 0);
	/* the repeated labels cost ~3 bytes per 64 */
	cr_expect_lt(z.w.len, q.len / 12, "%zu of %zu", z.w.len, q.len);
	rw_zreq_fini(&z);
	rw_req_fini(&q);
}

Test(rw_zreq, raw_limit_and_size_bound)
{
	struct rw_zreq z;
	uint8_t name[64];
	size_t nl = (size_t)(rw_put_label(name, "__name__", 8, "byte_tx", 7) - name);
	size_t need = rw_series_size(nl, 1000);

	rw_zreq_init(&z, 10 * need);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(rw_zreq_reserve(&z, need), 0);
		rw_zreq_add(&z, 0, name, nl, NULL, 0, 0, i, 1000);
	}
	cr_expect_eq(rw_zreq_reserve(&z, need), -E2BIG);
	rw_zreq_reset(&z);
	cr_expect_eq(rw_zreq_len(&z), 0);
	cr_expect_eq(z.n_series, 0);
	cr_expect(rw_zreq_fits(&z, need)); /* memory kept */
	rw_zreq_fini(&z);
}
