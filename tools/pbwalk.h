/* SPDX-License-Identifier: MIT */
/* pbwalk.h: walking a remote-write 1.0 WriteRequest on the wire, no allocation. */
#ifndef FLOWRW_TOOLS_PBWALK_H
#define FLOWRW_TOOLS_PBWALK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * For the receivers that only count or key series (flowrw-receiver --count,
 * bench/sink, bench/lanes_sink): they run on the same cores as the pipeline
 * they measure, so they never build protobuf-c objects.
 *
 *   WriteRequest { TimeSeries timeseries = 1; }
 *   TimeSeries   { Label labels = 1; Sample samples = 2; }
 */

/* A varint at *p; false when truncated or longer than 10 bytes. */
static inline bool pbw_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (int sh = 0; sh < 64 && *p < end; sh += 7) {
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Skip the value of a field of wire type <wt>; false when truncated or unknown. */
static inline bool pbw_skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t n;

	switch (wt) {
	case 0:
		return pbw_varint(p, end, &n);
	case 1:
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case 2:
		if (!pbw_varint(p, end, &n) || n > (uint64_t)(end - *p))
			return false;
		*p += n;
		return true;
	case 5:
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	default:
		return false;
	}
}

/* Samples (field 2) of one TimeSeries body; labels are skipped by length.
 * The common shape (a one-byte key and a length under 2^14) takes the fast
 * path: that is ~50 labels a series for DeepFlow rows. */
static inline bool pbw_count_series(const uint8_t *q, const uint8_t *qe, uint64_t *samples)
{
	uint64_t n = 0;

	while (q < qe) {
		uint8_t k = *q;
		uint64_t key;

		if ((k == 0x0a || k == 0x12) && qe - q >= 3) {
			uint64_t len = q[1];

			if (len < 0x80) {
				q += 2;
			} else if (!(q[2] & 0x80)) {
				len = (len & 0x7f) | ((uint64_t)q[2] << 7);
				q += 3;
			} else {
				goto slow;
			}
			if (len > (uint64_t)(qe - q))
				return false;
			q += len;
			n += (k == 0x12);
			continue;
		}
slow:
		if (!pbw_varint(&q, qe, &key))
			return false;
		n += key == (2 << 3 | 2);
		if ((key >> 3) == 0 || !pbw_skip(&q, qe, (unsigned)(key & 7)))
			return false;
	}
	*samples += n;
	return true;
}

/* Add the timeseries (field 1) of a WriteRequest and their samples to the
 * counters; false on a malformed request (the counters may then be part
 * way through it). */
static inline bool pbw_count_write_request(const uint8_t *p, const uint8_t *end, uint64_t *series,
					   uint64_t *samples)
{
	while (p < end) {
		uint64_t key, len;

		if (!pbw_varint(&p, end, &key))
			return false;
		if (key == (1 << 3 | 2)) {
			if (!pbw_varint(&p, end, &len) || len > (uint64_t)(end - p))
				return false;
			(*series)++;
			if (!pbw_count_series(p, p + len, samples))
				return false;
			p += len;
		} else if ((key >> 3) == 0 || !pbw_skip(&p, end, (unsigned)(key & 7))) {
			return false;
		}
	}
	return true;
}

#endif
