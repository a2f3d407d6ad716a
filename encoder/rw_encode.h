/* SPDX-License-Identifier: MIT */
/* rw_encode.h: hand-written protobuf writer for remote-write 1.0 WriteRequests. */
#ifndef FLOWRW_RW_ENCODE_H
#define FLOWRW_RW_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	memcpy(p, lab1, len1);
	p += len1;
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

/* Largest raw request whose snappy block and a header of <hdr> bytes fit in
 * <room> bytes (the lane ring's max_record); 0 when nothing fits. */
size_t rw_raw_limit(size_t room, size_t hdr);

/* Snappy-compress <r> into <dst> (at least snappy_max_compressed_length(r->len)
 * bytes).  Returns the compressed length, or 0 on a snappy failure (a bug). */
size_t rw_req_compress(const struct rw_req *r, void *dst, size_t dst_cap);

#endif
