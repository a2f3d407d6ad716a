/* SPDX-License-Identifier: MIT */
/* rw_encode.h: hand-written protobuf writer for remote-write 1.0 WriteRequests. */
#ifndef FLOWRW_RW_ENCODE_H
#define FLOWRW_RW_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "encoder/snappy_writer.h"

/*
 * The wire shape we write (prometheus/prompb, spec/remote-write.md §1.1):
 *
 *   WriteRequest := { 0x0A len TimeSeries }*             field 1, LEN
 *   TimeSeries   := { 0x0A len Label }* 0x12 len Sample  fields 1 and 2
 *   Label        := 0x0A len name 0x12 len value
 *   Sample       := 0x09 double(8, LE) 0x10 varint(ts_ms)
 *
 * A WriteRequest is a plain concatenation of its timeseries entries, so a
 * batch grows by appending series and needs no header.  Label entries are
 * serialized once (a row's shared labels, each metric's __name__) and a
 * series is two memcpy()s of label bytes plus a 13..21-byte sample: every
 * length is known before the first byte is written, nothing is patched.
 */

#define RW_TAG_TIMESERIES 0x0AU /* WriteRequest.timeseries, LEN */
#define RW_TAG_LABEL      0x0AU /* TimeSeries.labels, LEN */
#define RW_TAG_SAMPLE     0x12U /* TimeSeries.samples, LEN */
#define RW_TAG_NAME       0x0AU /* Label.name, LEN */
#define RW_TAG_VALUE      0x12U /* Label.value, LEN */
#define RW_TAG_SVALUE     0x09U /* Sample.value, I64 */
#define RW_TAG_STS        0x10U /* Sample.timestamp, VARINT */

#define RW_VARINT_MAX     10

static inline size_t rw_varint_len(uint64_t v)
{
	/* 7 payload bits per byte; v | 1 keeps clz defined for 0. */
	return (size_t)(((63 - __builtin_clzll(v | 1)) / 7) + 1);
}

static inline uint8_t *rw_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Bytes of one TimeSeries.labels entry (tag, length and Label message). */
static inline size_t rw_label_size(size_t name_len, size_t value_len)
{
	size_t msg = 1 + rw_varint_len(name_len) + name_len + 1 + rw_varint_len(value_len) + value_len;

	return 1 + rw_varint_len(msg) + msg;
}

/* Write one TimeSeries.labels entry at <p> (rw_label_size() bytes free);
 * returns the byte after it. */
static inline uint8_t *rw_put_label(uint8_t *p, const void *name, size_t name_len,
				    const void *value, size_t value_len)
{
	size_t msg = 1 + rw_varint_len(name_len) + name_len + 1 + rw_varint_len(value_len) + value_len;

	*p++ = RW_TAG_LABEL;
	p = rw_put_varint(p, msg);
	*p++ = RW_TAG_NAME;
	p = rw_put_varint(p, name_len);
	memcpy(p, name, name_len);
	p += name_len;
	*p++ = RW_TAG_VALUE;
	p = rw_put_varint(p, value_len);
	memcpy(p, value, value_len);
	return p + value_len;
}

/* Bytes of the Sample message (without its tag and length). */
static inline size_t rw_sample_msg_size(int64_t ts_ms)
{
	return 1 + 8 + 1 + rw_varint_len((uint64_t)ts_ms);
}

/* Bytes of a TimeSeries message whose labels take <labels_len> bytes. */
static inline size_t rw_series_msg_size(size_t labels_len, int64_t ts_ms)
{
	return labels_len + 2 + rw_sample_msg_size(ts_ms); /* sample length < 128 */
}

/* Bytes a series adds to a WriteRequest. */
static inline size_t rw_series_size(size_t labels_len, int64_t ts_ms)
{
	size_t msg = rw_series_msg_size(labels_len, ts_ms);

	return 1 + rw_varint_len(msg) + msg;
}

/*
 * Append one WriteRequest.timeseries entry at <p> (rw_series_size(len1 +
 * len2, ts_ms) bytes free): labels are the serialized label entries <lab1>
 * then <lab2> (already sorted and unique as a whole), one sample <value> at
 * <ts_ms>.  The double's 8 bytes are copied as they are, so NaN payloads
 * (the stale marker) survive.  Returns the byte after the entry.
 */
static inline uint8_t *rw_put_series(uint8_t *p, const uint8_t *lab1, size_t len1,
				     const uint8_t *lab2, size_t len2, double value, int64_t ts_ms)
{
	size_t smsg = rw_sample_msg_size(ts_ms);

	*p++ = RW_TAG_TIMESERIES;
	p = rw_put_varint(p, len1 + len2 + 2 + smsg);
	/* memcpy from NULL is undefined even for 0 bytes (UBSan says so). */
	if (len1)
		memcpy(p, lab1, len1);
	p += len1;
	if (len2)
		memcpy(p, lab2, len2);
	p += len2;
	*p++ = RW_TAG_SAMPLE;
	*p++ = (uint8_t)smsg;
	*p++ = RW_TAG_SVALUE;
	memcpy(p, &value, 8); /* x86-64 and aarch64 are little-endian, as the wire is */
	p += 8;
	*p++ = RW_TAG_STS;
	return rw_put_varint(p, (uint64_t)ts_ms);
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "rw_put_series copies doubles as is");

/*
 * A growing WriteRequest body: one per (exporter, lane), reused for every
 * batch.  The buffer doubles on demand up to <max> bytes and is never
 * shrunk, so after warm-up appending allocates nothing.
 */
struct rw_req {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max;          /* hard limit: what the lane ring can carry */
	uint32_t n_series;
	int64_t min_ts_ms;
	int64_t max_ts_ms;
};

/* Prepare <r> with no memory yet; <max> bytes at most.  Can't fail. */
void rw_req_init(struct rw_req *r, size_t max);
void rw_req_fini(struct rw_req *r);

/* Forget the series (keeps the memory). */
static inline void rw_req_reset(struct rw_req *r)
{
	r->len = 0;
	r->n_series = 0;
	r->min_ts_ms = INT64_MAX;
	r->max_ts_ms = INT64_MIN;
}

/* Make room for <need> more bytes.  Returns 0, -E2BIG when the request would
 * pass r->max (close the batch and retry; -E2BIG on an empty request means
 * the series can never fit), or -ENOMEM. */
int rw_req_reserve(struct rw_req *r, size_t need);

/* Append one series (see rw_put_series); rw_req_reserve(rw_series_size())
 * must have succeeded. */
static inline void rw_req_add(struct rw_req *r, const uint8_t *lab1, size_t len1,
			      const uint8_t *lab2, size_t len2, double value, int64_t ts_ms)
{
	uint8_t *end = rw_put_series(r->buf + r->len, lab1, len1, lab2, len2, value, ts_ms);

	r->len = (size_t)(end - r->buf);
	r->n_series++;
	if (ts_ms < r->min_ts_ms)
		r->min_ts_ms = ts_ms;
	if (ts_ms > r->max_ts_ms)
		r->max_ts_ms = ts_ms;
}

/* Largest raw request whose snappy block (at its worst, snw_max_len()) and a
 * header of <hdr> bytes fit in <room> bytes (the lane ring's max_record); 0
 * when nothing fits. */
size_t rw_raw_limit(size_t room, size_t hdr);

/* Snappy-compress <r> into <dst> (at least snappy_max_compressed_length(r->len)
 * bytes) with libsnappy.  Returns the compressed length, or 0 on a snappy
 * failure (a bug).  The encoder writes its blocks with struct rw_zreq; this
 * raw path is the reference the tests and bench/encode compare it with. */
size_t rw_req_compress(const struct rw_req *r, void *dst, size_t dst_cap);

/*
 * A WriteRequest written directly as a snappy block (struct snw): what the
 * lanes send.  The decompressed bytes are exactly those struct rw_req holds
 * for the same series; only the compression is done by knowing where the
 * repetition is instead of searching for it:
 *
 *   series header  0x0A varint(len)    } copied together from the same metric's
 *   __name__ label                     } series in an earlier row when its length
 *                                        was the same; else header literal and
 *                                        the label copied, or both literal (the
 *                                        request's first row)
 *   row labels     same row as the previous series of this request: one copy
 *                  of that series' labels and the sample's 3 header bytes
 *                  (~3 bytes per 64); first series of a row: compared label by
 *                  label with the previous row's labels (both sorted by name):
 *                  equal labels become copies, the same name with another value
 *                  copies the common prefix, the rest is literal
 *   sample         0x12 len 0x09 double: literal (the double always)
 *                  0x10 varint(ts): copied from the series before when equal
 *
 * A row's labels are recognised by the generation number labels_render()
 * gives them (struct labels_out.gen), never by content, so the cost of a
 * series is its unique bytes plus one copy element per 64 shared ones.
 * Offsets never reach outside the request: reset forgets every position.
 */
#define RW_ZREQ_NAMES 320        /* name ids remembered (family x metric) */
#define RW_ZREQ_NO_NAME UINT16_MAX

struct rw_zreq {
	struct snw w;
	size_t max;              /* uncompressed limit: what the lane ring can carry */
	uint32_t n_series;
	int64_t min_ts_ms;
	int64_t max_ts_ms;
	uint64_t blk_gen;        /* generation of the last row's labels, 0 = none */
	size_t blk_at;           /* uncompressed offset of their latest copy */
	size_t ts_at;            /* offset of the last series' 0x10 ts, 0 = none */
	int64_t ts_last;         /* that series' timestamp */
	uint8_t *prev;           /* the last row's labels, for the next row's comparison */
	size_t prev_len;
	size_t prev_cap;
	uint32_t name_at[RW_ZREQ_NAMES];  /* 1 + offset of the series header before each
					     __name__ label, 0 = none */
	uint32_t name_msg[RW_ZREQ_NAMES]; /* that series header's length field */
};

/* Prepare <r> with no memory yet; <max> uncompressed bytes at most. */
void rw_zreq_init(struct rw_zreq *r, size_t max);
void rw_zreq_fini(struct rw_zreq *r);

/* Forget the series and every remembered position (keeps the memory). */
void rw_zreq_reset(struct rw_zreq *r);

/* Uncompressed bytes of the request so far. */
static inline size_t rw_zreq_len(const struct rw_zreq *r)
{
	return r->w.ulen;
}

/* Can a series of <need> uncompressed bytes be added without
 * rw_zreq_reserve()? */
static inline bool rw_zreq_fits(const struct rw_zreq *r, size_t need)
{
	return r->w.ulen + need <= r->max && r->w.len + snw_grow_max(need) <= r->w.cap &&
	       need <= r->prev_cap;
}

/* Make room for a series of <need> uncompressed bytes.  Returns 0, -E2BIG
 * when the request would pass r->max (close the batch and retry; -E2BIG
 * on an empty request means the series can never fit), or -ENOMEM. */
int rw_zreq_reserve(struct rw_zreq *r, size_t need);

/* Slow part of rw_zreq_add(): the first series of a row in this request. */
void __rw_zreq_row_labels(struct rw_zreq *r, const uint8_t *blk, size_t blen);

/* Emit <n> bytes that repeat the output <off> bytes back: a copy, or the
 * bytes <p> as a literal when too short for a copy to pay. */
static inline __attribute__((always_inline)) void rw_zreq_repeat(struct rw_zreq *r, size_t off, const uint8_t *p, size_t n)
{
	if (n >= snw_copy_min(off))
		snw_copy(&r->w, off, n);
	else
		snw_lit(&r->w, p, n);
}

/*
 * Append one series, as rw_req_add(<name>, <name_len>, <blk>, <blen>,
 * <value>, <ts_ms>) would: rw_zreq_fits() or rw_zreq_reserve() for
 * rw_series_size(name_len + blen, ts_ms) first.  <name_id> <
 * RW_ZREQ_NAMES names the bytes <name> (the same id must always come
 * with the same bytes), or RW_ZREQ_NO_NAME.  <gen> != 0 says <blk> is the
 * same bytes as every earlier series given that <gen> (labels_out.gen).
 */
static inline void rw_zreq_add(struct rw_zreq *r, unsigned name_id, const uint8_t *name,
			       size_t name_len, const uint8_t *blk, size_t blen, uint64_t gen,
			       double value, int64_t ts_ms)
{
	size_t smsg = rw_sample_msg_size(ts_ms), msg = name_len + blen + 2 + smsg, hl, here;
	uint8_t hdr[16], smp[3 + 8 + 1 + RW_VARINT_MAX], *p; /* 16+: snw_lit16() */
	bool same_ts = r->ts_at && ts_ms == r->ts_last, smp_hdr_done = false;

	hdr[0] = RW_TAG_TIMESERIES;
	hl = (size_t)(rw_put_varint(hdr + 1, msg) - hdr);
	here = r->w.ulen;
	if (name_id < RW_ZREQ_NAMES && r->name_at[name_id]) {
		size_t at = r->name_at[name_id] - 1, omsg = r->name_msg[name_id];

		if (omsg == msg && hl + name_len >= snw_copy_min(here - at)) {
			snw_copy(&r->w, here - at, hl + name_len);
		} else {
			snw_lit16(&r->w, hdr, hl);
			rw_zreq_repeat(r, here + hl - (at + 1 + rw_varint_len(omsg)), name, name_len);
		}
	} else {
		snw_lit16(&r->w, hdr, hl);
		snw_lit(&r->w, name, name_len);
	}
	if (name_id < RW_ZREQ_NAMES) {
		r->name_at[name_id] = (uint32_t)here + 1;
		r->name_msg[name_id] = (uint32_t)msg;
	}

	here = r->w.ulen;
	if (gen && gen == r->blk_gen && blen == r->prev_len) {
		/* The series before has these labels, then the same sample
		 * header when its timestamp is this one. */
		if (same_ts && blen + 3 >= snw_copy_min(here - r->blk_at)) {
			snw_copy(&r->w, here - r->blk_at, blen + 3);
			smp_hdr_done = true;
		} else {
			rw_zreq_repeat(r, here - r->blk_at, blk, blen);
		}
	} else {
		__rw_zreq_row_labels(r, blk, blen);
		r->blk_gen = gen;
	}
	r->blk_at = here;

	p = smp;
	if (!smp_hdr_done) {
		*p++ = RW_TAG_SAMPLE;
		*p++ = (uint8_t)smsg;
		*p++ = RW_TAG_SVALUE;
	}
	memcpy(p, &value, 8);
	p += 8;
	snw_lit16(&r->w, smp, (size_t)(p - smp));
	here = r->w.ulen;
	p = smp;
	*p++ = RW_TAG_STS;
	p = rw_put_varint(p, (uint64_t)ts_ms);
	if (same_ts && (size_t)(p - smp) >= snw_copy_min(here - r->ts_at))
		snw_copy(&r->w, here - r->ts_at, (size_t)(p - smp));
	else
		snw_lit16(&r->w, smp, (size_t)(p - smp));
	r->ts_at = here;
	r->ts_last = ts_ms;

	r->n_series++;
	if (ts_ms < r->min_ts_ms)
		r->min_ts_ms = ts_ms;
	if (ts_ms > r->max_ts_ms)
		r->max_ts_ms = ts_ms;
}

#endif
