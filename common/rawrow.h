/* SPDX-License-Identifier: MIT */
/* rawrow.h: the compact binary row ingest pushes to an encoder (ring ABI). */
#ifndef FLOWRW_RAWROW_H
#define FLOWRW_RAWROW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/schema.h"

/*
 * One ring record = one DeepFlow row:
 *
 *   struct rawrow_hdr                       24 bytes
 *   double metrics[popcount(metric_mask)]   present metrics, by metric index
 *   tag entries, by ascending tag id:       struct rawrow_tag + payload
 *       RAWROW_T_NUM   int64_t (8 bytes)    raw id, enum number, port, ip4
 *       RAWROW_T_STR   len bytes            name as given (pod_0: "nginx-1")
 *       RAWROW_T_IP6   16 bytes             network order
 *
 * Tags are in ascending id order so that equal series give equal bytes:
 * routing hashes the ds and the tag section.  Nothing is aligned; readers
 * memcpy.  A metric absent from the JSON row is absent here (no series),
 * which is not the same as 0.
 */

#define RAWROW_T_NUM 1U
#define RAWROW_T_STR 2U
#define RAWROW_T_IP6 3U

#define RAWROW_MAX_STR 4096U /* longer tag strings are rejected by ingest */

struct rawrow_hdr {
	uint8_t ds;             /* enum schema_ds */
	uint8_t n_tags;
	uint16_t tags_len;      /* bytes of the tag section */
	uint32_t time;          /* seconds since the epoch */
	uint64_t metric_mask[2];/* bit i = metric i of the family present */
};

struct rawrow_tag {
	uint8_t id;             /* index in schema_tags[] */
	uint8_t kind;           /* RAWROW_T_* */
	uint16_t len;           /* payload bytes */
};

_Static_assert(sizeof(struct rawrow_hdr) == 24, "rawrow_hdr layout");
_Static_assert(sizeof(struct rawrow_tag) == 4, "rawrow_tag layout");

static inline int rawrow_metric_count(const struct rawrow_hdr *h)
{
	return __builtin_popcountll(h->metric_mask[0]) + __builtin_popcountll(h->metric_mask[1]);
}

static inline bool rawrow_has_metric(const struct rawrow_hdr *h, int i)
{
	return (h->metric_mask[i >> 6] >> (i & 63)) & 1;
}

static inline const uint8_t *rawrow_metrics(const struct rawrow_hdr *h)
{
	return (const uint8_t *)(h + 1);
}

static inline const uint8_t *rawrow_tags(const struct rawrow_hdr *h)
{
	return rawrow_metrics(h) + 8 * rawrow_metric_count(h);
}

static inline uint32_t rawrow_size(const struct rawrow_hdr *h)
{
	return (uint32_t)(sizeof(*h) + 8 * rawrow_metric_count(h) + h->tags_len);
}

/* A decoded view, filled by rawrow_decode(); pointers point into the record. */
struct rawrow_view {
	const struct rawrow_hdr *hdr;
	enum schema_family family;
	double metric[SCHEMA_MAX_METRICS];  /* valid where rawrow_has_metric() */
	uint8_t tag_kind[SCHEMA_TAG_COUNT]; /* 0 = absent, else RAWROW_T_* */
	uint16_t tag_len[SCHEMA_TAG_COUNT];
	const uint8_t *tag_val[SCHEMA_TAG_COUNT];
};

/* Validate a record of <len> bytes and fill <v>.  Returns false when the
 * record is malformed (a bug in ingest or a corrupt ring: count it). */
static inline bool rawrow_decode(const void *rec, uint32_t len, struct rawrow_view *v)
{
	const struct rawrow_hdr *h = rec;
	const uint8_t *p, *end;
	int n, count, k = 0, prev = -1;

	if (len < sizeof(*h) || h->ds >= SCHEMA_DS_MAX || h->ds == 4 || rawrow_size(h) != len)
		return false;
	v->hdr = h;
	v->family = schema_ds_family(h->ds);
	schema_metrics(v->family, &count);
	if (count < 64 ? (h->metric_mask[0] >> count) != 0 || h->metric_mask[1] != 0
		       : (h->metric_mask[1] >> (count - 64)) != 0)
		return false;
	p = rawrow_metrics(h);
	for (int i = 0; i < count; i++) {
		if (rawrow_has_metric(h, i)) {
			memcpy(&v->metric[i], p + 8 * k, 8);
			k++;
		}
	}
	memset(v->tag_kind, 0, sizeof(v->tag_kind));
	p = rawrow_tags(h);
	end = p + h->tags_len;
	for (n = 0; n < h->n_tags; n++) {
		struct rawrow_tag t;

		if (end - p < (long)sizeof(t))
			return false;
		memcpy(&t, p, sizeof(t));
		p += sizeof(t);
		if (t.id >= SCHEMA_TAG_COUNT || (int)t.id <= prev || end - p < t.len)
			return false;
		if ((t.kind == RAWROW_T_NUM && t.len != 8) || (t.kind == RAWROW_T_IP6 && t.len != 16) ||
		    (t.kind != RAWROW_T_NUM && t.kind != RAWROW_T_STR && t.kind != RAWROW_T_IP6))
			return false;
		prev = t.id;
		v->tag_kind[t.id] = t.kind;
		v->tag_len[t.id] = t.len;
		v->tag_val[t.id] = p;
		p += t.len;
	}
	return p == end;
}

static inline int64_t rawrow_tag_num(const struct rawrow_view *v, int id)
{
	int64_t x;

	memcpy(&x, v->tag_val[id], 8);
	return x;
}

#endif
