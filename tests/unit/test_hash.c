/* SPDX-License-Identifier: MIT */
/* test_hash.c: hash_bytes() sees every byte, in order, and spreads series. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "common/hash.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Every single-bit flip of every length up to two stripes past the
 * 32-byte path changes the value: no byte is skipped by either path. */
Test(hash, every_bit_counts)
{
	uint8_t buf[100];

	for (size_t len = 0; len <= sizeof(buf); len++) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next();
		uint64_t h = hash_bytes(buf, len, 7);

		cr_assert_eq(hash_bytes(buf, len, 7), h, "deterministic");
		cr_assert_neq(hash_bytes(buf, len, 8), h, "the seed counts (len %zu)", len);
		for (size_t bit = 0; bit < len * 8; bit++) {
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			cr_assert_neq(hash_bytes(buf, len, 7), h, "len %zu bit %zu", len, bit);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
}

/* Same words in another order must hash apart: within a stripe (lanes
 * a/b), across stripes (same lane), and whole stripes swapped. */
Test(hash, order_counts)
{
	uint8_t x[96], y[96];

	for (size_t i = 0; i < sizeof(x); i++)
		x[i] = (uint8_t)next();
	memcpy(y, x, sizeof(y));
	memcpy(y, x + 8, 8);
	memcpy(y + 8, x, 8);
	cr_assert_neq(hash_bytes(x, 96, 0), hash_bytes(y, 96, 0), "words swapped in a stripe");
	memcpy(y, x, sizeof(y));
	memcpy(y, x + 32, 32);
	memcpy(y + 32, x, 32);
	cr_assert_neq(hash_bytes(x, 96, 0), hash_bytes(y, 96, 0), "stripes swapped");
	cr_assert_neq(hash_bytes(x, 64, 0), hash_bytes(x, 65, 0), "length counts");
	memset(x, 0, sizeof(x));
	cr_assert_neq(hash_bytes(x, 64, 0), hash_bytes(x, 72, 0), "zero tails of other lengths");
}

/* Rows of one series differ in a few bytes (ids, ports): both halves of
 * the value (encoder choice, lane choice) must spread them evenly. */
Test(hash, spreads_similar_rows)
{
	enum { N = 200000, B = 7 };
	uint8_t row[600];
	static unsigned hi[B], lo[B];

	for (size_t i = 0; i < sizeof(row); i++)
		row[i] = (uint8_t)(i * 31);
	for (uint32_t k = 0; k < N; k++) {
		memcpy(row + 100, &k, 4); /* one counter field, as a numeric id */
		uint64_t h = hash_series_route(3, row, sizeof(row));

		hi[(h >> 32) % B]++;
		lo[(h & 0xffffffff) % B]++;
	}
	for (int b = 0; b < B; b++) {
		cr_assert(hi[b] > N / B * 97 / 100 && hi[b] < N / B * 103 / 100, "encoder bucket %d: %u", b, hi[b]);
		cr_assert(lo[b] > N / B * 97 / 100 && lo[b] < N / B * 103 / 100, "lane bucket %d: %u", b, lo[b]);
	}
}
