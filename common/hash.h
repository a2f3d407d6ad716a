/* SPDX-License-Identifier: MIT */
/* hash.h: fast 64-bit hashing of byte strings (routing, series identity). */
#ifndef FLOWRW_HASH_H
#define FLOWRW_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Eight bytes per step with a multiply-xorshift mix (the finalizer is
 * Murmur3's fmix64).  Not cryptographic: it only has to spread series
 * evenly over encoders and lanes.  Same input, same value, in every
 * process and on every run.
 */
static inline uint64_t hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
		h = (h << 31) | (h >> 33);
		p += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, p, len);
	h ^= w * 0x87c37b91114253d5ULL;
	return hash_mix64(h);
}

/* The routing hash of a raw row: its data source and tag section.  Ingest
 * picks encoder (h >> 32) % encoders; an encoder picks lane
 * (h & 0xffffffff) % queue-count, so the two choices are independent. */
static inline uint64_t hash_series_route(uint8_t ds, const void *tags, size_t len)
{
	return hash_bytes(tags, len, 0x666c6f7772770000ULL | ds);
}

#endif
