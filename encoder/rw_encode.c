/* SPDX-License-Identifier: MIT */
/* rw_encode.c: the growing WriteRequest buffer and its snappy block. */
#include "encoder/rw_encode.h"

#include <errno.h>
#include <stdlib.h>

#include <snappy-c.h>

#define RW_REQ_MIN_CAP (64 * 1024)

void rw_req_init(struct rw_req *r, size_t max)
{
	r->buf = NULL;
	r->cap = 0;
	r->max = max;
	rw_req_reset(r);
}

void rw_req_fini(struct rw_req *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->len = 0;
}

int rw_req_reserve(struct rw_req *r, size_t need)
{
	size_t want = r->len + need, cap;
	uint8_t *nb;

	if (want <= r->cap)
		return 0;
	if (want > r->max)
		return -E2BIG;
	/* Doubling: a lane reaches its working size after a few batches and
	 * then never allocates again. */
	cap = r->cap ? r->cap : RW_REQ_MIN_CAP;
	while (cap < want)
		cap *= 2;
	if (cap > r->max)
		cap = r->max;
	nb = realloc(r->buf, cap);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return 0;
}

size_t rw_raw_limit(size_t room, size_t hdr)
{
	size_t lo = 0, hi;

	if (room <= hdr || snappy_max_compressed_length(0) > room - hdr)
		return 0;
	room -= hdr;
	hi = room; /* snappy never shrinks its bound below the input */
	/* Largest n with snappy_max_compressed_length(n) <= room; the bound is
	 * monotonic, so bisect rather than rely on its formula. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (snappy_max_compressed_length(mid) <= room)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

size_t rw_req_compress(const struct rw_req *r, void *dst, size_t dst_cap)
{
	size_t out = dst_cap;

	if (snappy_compress((const char *)r->buf, r->len, dst, &out) != SNAPPY_OK)
		return 0;
	return out;
}
