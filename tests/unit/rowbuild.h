/* SPDX-License-Identifier: MIT */
/* rowbuild.h: build raw rows (common/rawrow.h) in tests, tags in any order. */
#ifndef FLOWRW_TEST_ROWBUILD_H
#define FLOWRW_TEST_ROWBUILD_H

#include <stdint.h>
#include <string.h>

#include "common/rawrow.h"

struct rowbuild {
	int ds;
	uint32_t time;
	uint64_t mask[2];
	double metric[SCHEMA_MAX_METRICS];
	uint8_t kind[SCHEMA_TAG_COUNT];
	uint16_t len[SCHEMA_TAG_COUNT];
	uint8_t val[SCHEMA_TAG_COUNT][256];
	uint8_t rec[16384];
	struct rawrow_view view;
};

static inline void rb_init(struct rowbuild *b, int ds)
{
	memset(b, 0, sizeof(*b));
	b->ds = ds;
	b->time = 1716998400;
}

static inline void rb_num(struct rowbuild *b, int tag, int64_t x)
{
	b->kind[tag] = RAWROW_T_NUM;
	b->len[tag] = 8;
	memcpy(b->val[tag], &x, 8);
}

static inline void rb_str(struct rowbuild *b, int tag, const char *s)
{
	b->kind[tag] = RAWROW_T_STR;
	b->len[tag] = (uint16_t)strlen(s);
	memcpy(b->val[tag], s, b->len[tag]);
}

static inline void rb_ip6(struct rowbuild *b, int tag, const uint8_t a[16])
{
	b->kind[tag] = RAWROW_T_IP6;
	b->len[tag] = 16;
	memcpy(b->val[tag], a, 16);
}

static inline void rb_del(struct rowbuild *b, int tag)
{
	b->kind[tag] = 0;
}

static inline void rb_metric(struct rowbuild *b, int i, double x)
{
	b->mask[i >> 6] |= 1ULL << (i & 63);
	b->metric[i] = x;
}

/* Encode and decode; returns the view (NULL when the record is invalid). */
static inline const struct rawrow_view *rb_view(struct rowbuild *b)
{
	struct rawrow_hdr h = {0};
	uint8_t *p = b->rec + sizeof(h);
	int n = 0;

	h.ds = (uint8_t)b->ds;
	h.time = b->time;
	h.metric_mask[0] = b->mask[0];
	h.metric_mask[1] = b->mask[1];
	for (int i = 0; i < SCHEMA_MAX_METRICS; i++) {
		if (b->mask[i >> 6] >> (i & 63) & 1) {
			memcpy(p, &b->metric[i], 8);
			p += 8;
		}
	}
	uint8_t *tags = p;
	for (int t = 0; t < SCHEMA_TAG_COUNT; t++) {
		struct rawrow_tag rt = {(uint8_t)t, b->kind[t], b->len[t]};

		if (!b->kind[t])
			continue;
		memcpy(p, &rt, sizeof(rt));
		p += sizeof(rt);
		memcpy(p, b->val[t], b->len[t]);
		p += b->len[t];
		n++;
	}
	h.n_tags = (uint8_t)n;
	h.tags_len = (uint16_t)(p - tags);
	memcpy(b->rec, &h, sizeof(h));
	if (!rawrow_decode(b->rec, (uint32_t)(p - b->rec), &b->view))
		return NULL;
	return &b->view;
}

#endif
