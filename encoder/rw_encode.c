/* SPDX-License-Identifier: MIT */
/* rw_encode.c: the growing WriteRequest buffer, and the same request written as a snappy block. */
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

	if (room <= hdr || snw_max_len(0) > room - hdr)
		return 0;
	room -= hdr;
	hi = room; /* snappy never shrinks its bound below the input */
	/* Largest n with snappy_max_compressed_length(n) <= room; the bound is
	 * monotonic, so bisect rather than rely on its formula. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (snw_max_len(mid) <= room)
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

void rw_zreq_init(struct rw_zreq *r, size_t max)
{
	snw_init(&r->w);
	r->max = max;
	r->prev = NULL;
	r->prev_cap = 0;
	rw_zreq_reset(r);
}

void rw_zreq_fini(struct rw_zreq *r)
{
	snw_fini(&r->w);
	free(r->prev);
	r->prev = NULL;
	r->prev_cap = 0;
	rw_zreq_reset(r);
}

void rw_zreq_reset(struct rw_zreq *r)
{
	snw_reset(&r->w);
	r->n_series = 0;
	r->min_ts_ms = INT64_MAX;
	r->max_ts_ms = INT64_MIN;
	r->blk_gen = 0;
	r->blk_at = 0;
	r->ts_at = 0;
	r->ts_last = 0;
	r->prev_len = 0;
	memset(r->name_at, 0, sizeof(r->name_at));
}

int rw_zreq_reserve(struct rw_zreq *r, size_t need)
{
	int err;

	if (r->w.ulen + need > r->max)
		return -E2BIG;
	err = snw_reserve(&r->w, need);
	if (err)
		return err;
	if (need > r->prev_cap) {
		/* A row's labels are shorter than its series. */
		uint8_t *np = realloc(r->prev, need);

		if (!np)
			return -ENOMEM;
		r->prev = np;
		r->prev_cap = need;
	}
	return 0;
}

/*
 * One TimeSeries.labels entry at <p> (before <end>): 0x0A varint(msg),
 * msg = 0x0A nlen name 0x12 varint(vlen) value.  Sets *len (the whole
 * entry), *hl (tag and length bytes), *name and *nlen.  Returns false for
 * bytes that are not such an entry: the caller stops comparing (whatever
 * it parses, it only ever copies bytes it has compared equal).
 */
static inline bool label_entry(const uint8_t *p, const uint8_t *end, size_t *len, size_t *hl,
			const uint8_t **name, size_t *nlen)
{
	size_t msg = 0, i = 1;
	unsigned shift = 0;

	if (end - p < 4 || p[0] != RW_TAG_LABEL)
		return false;
	for (;; i++) {
		if (i > 3 || p + i >= end)
			return false;
		msg |= (size_t)(p[i] & 0x7f) << shift;
		shift += 7;
		if (!(p[i] & 0x80))
			break;
	}
	i++;
	if (msg > (size_t)(end - p) - i || msg < 2 || p[i] != RW_TAG_NAME || p[i + 1] > msg - 2)
		return false;
	*hl = i;
	*len = i + msg;
	*nlen = p[i + 1];
	*name = p + i + 2;
	return true;
}

static inline int name_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;

	/* label names are short: a loop beats a call to memcmp() */
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int)a[i] - (int)b[i];
	return (al > bl) - (al < bl);
}

/* A run of equal bytes found in the previous row's labels, not yet emitted. */
struct zrun {
	size_t src;              /* offset in r->prev */
	size_t len;
};

static inline __attribute__((always_inline)) void zrun_flush(struct rw_zreq *r, size_t prev_at, struct zrun *run)
{
	if (run->len)
		rw_zreq_repeat(r, r->w.ulen - (prev_at + run->src), r->prev + run->src, run->len);
	run->len = 0;
}

static inline __attribute__((always_inline)) void zrun_add(struct rw_zreq *r, size_t prev_at, struct zrun *run, size_t src, size_t len)
{
	if (run->len && run->src + run->len == src) {
		run->len += len;
		return;
	}
	zrun_flush(r, prev_at, run);
	run->src = src;
	run->len = len;
}

/* Literal <n> bytes at <p> of a block ending at <end>: short pieces (a
 * value's changed tail) without a memcpy() call when 16 bytes are there to read. */
static inline void lit_piece(struct rw_zreq *r, const uint8_t *p, size_t n, const uint8_t *end)
{
	if (n <= 16 && end - p >= 16)
		snw_lit16(&r->w, p, n);
	else
		snw_lit(&r->w, p, n);
}

static inline size_t common_prefix(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i + 8 <= n) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return i + (size_t)(__builtin_ctzll(x ^ y) >> 3);
		i += 8;
	}
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

void __rw_zreq_row_labels(struct rw_zreq *r, const uint8_t *blk, size_t blen)
{
	const uint8_t *b = blk, *bend = blk + blen, *p = r->prev, *pend = r->prev + r->prev_len;
	size_t prev_at = r->blk_at;
	struct zrun run = { 0, 0 };
	size_t pl = 0, ph = 0, pnl = 0;
	const uint8_t *pn = NULL;
	bool p_ok = false;           /* pl, ph, pn, pnl describe the entry at p */

	if (r->prev_len == 0) {
		/* The request's first row: nothing earlier to copy from. */
		snw_lit(&r->w, blk, blen);
		b = bend;
	}
	/*
	 * Merge the two sorted label lists: a row shares most of its labels
	 * (region, cluster, pod group, protocol...) with the previous row of
	 * the lane, and the previous row's labels sit a series back in the
	 * output.  A label present in both with equal bytes is copied, runs of
	 * them in one copy; the same name with another value copies its common
	 * prefix ("0A len 0A nlen name 12 vlen" and the value's shared start).
	 * This is O(labels), not a byte-by-byte search: it finds less than a
	 * compressor would only in values repeated under other names.
	 */
	while (b < bend) {
		size_t bl, bh, bnl, k = SIZE_MAX;
		const uint8_t *bn;
		int c = 1;

		if (!label_entry(b, bend, &bl, &bh, &bn, &bnl))
			break;
		while (p < pend) {
			if (!p_ok) {
				if (!label_entry(p, pend, &pl, &ph, &pn, &pnl)) {
					p = pend;
					break;
				}
				p_ok = true;
			}
			/* The usual case, the same label: no name comparison. */
			if (pl == bl) {
				k = common_prefix(p, b, bl);
				/* equal up to the name's end: the same name */
				if (k == bl || k >= ph + 2 + pnl) {
					c = 0;
					break;
				}
			}
			c = name_cmp(pn, pnl, bn, bnl);
			if (c >= 0)
				break;
			p += pl;
			p_ok = false;
			k = SIZE_MAX;
		}
		if (p >= pend || c != 0) {
			zrun_flush(r, prev_at, &run);
			snw_lit(&r->w, b, bl);
			b += bl;
			continue;
		}
		if (pl == bl) {
			zrun_add(r, prev_at, &run, (size_t)(p - r->prev), k);
			if (k < bl) {
				zrun_flush(r, prev_at, &run);
				lit_piece(r, b + k, bl - k, bend);
			}
		} else {
			/* Another value length changes the entry's length: the
			 * name part after it is still common. */
			zrun_flush(r, prev_at, &run);
			lit_piece(r, b, bh, bend);
			k = common_prefix(p + ph, b + bh, (pl - ph < bl - bh ? pl - ph : bl - bh));
			zrun_add(r, prev_at, &run, (size_t)(p + ph - r->prev), k);
			zrun_flush(r, prev_at, &run);
			lit_piece(r, b + bh + k, bl - bh - k, bend);
		}
		p += pl;
		p_ok = false;
		b += bl;
	}
	zrun_flush(r, prev_at, &run);
	snw_lit(&r->w, b, (size_t)(bend - b));
	/* rw_zreq_reserve() sized prev for any series' labels; a row without
	 * labels passes NULL, and memcpy from NULL is undefined even for 0. */
	if (blen)
		memcpy(r->prev, blk, blen);
	r->prev_len = blen;
}
