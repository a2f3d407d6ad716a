/* SPDX-License-Identifier: MIT */
/* rowb.h: the raw-row builder shared by the JSON parser and the synthetic source. */
#ifndef FLOWRW_INGEST_ROWB_H
#define FLOWRW_INGEST_ROWB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rawrow.h"
#include "common/schema.h"

/*
 * A row under construction: fields may be set in any order and more than
 * once (the last value wins and is counted in <dups>); rowb_encode() lays
 * them out as the ring ABI of common/rawrow.h wants, metrics by index and
 * tags by ascending id.  Resetting only clears the presence masks, so a
 * builder is reused for every row without touching its 5 KiB of slots.
 *
 * String values are not copied: <str> points at bytes the caller keeps
 * alive until rowb_encode() (the input line, a decode scratch area, or a
 * generator's buffer).
 */

_Static_assert(SCHEMA_TAG_COUNT <= 64, "tag presence fits one uint64_t");

/* Largest record rowb_encode() can produce: header, every metric, and a
 * tag section at its uint16_t limit. */
#define ROWB_MAX_BYTES (sizeof(struct rawrow_hdr) + 8 * SCHEMA_MAX_METRICS + 65535)

struct rowb_tag {
	uint8_t kind;           /* RAWROW_T_* */
	uint16_t len;           /* string bytes (RAWROW_T_STR) */
	union {
		int64_t num;
		uint8_t ip6[16];
		const uint8_t *str;
	} v;
};

struct rowb {
	int ds;                 /* enum schema_ds, or -1 while unknown */
	enum schema_family family;
	bool has_time;
	uint32_t time;
	uint32_t dups;          /* fields given twice in this row (last won) */
	uint64_t tag_mask;      /* bit = tag id present */
	uint64_t metric_mask[2];/* bit = metric index present */
	double metric[SCHEMA_MAX_METRICS];
	struct rowb_tag tag[SCHEMA_TAG_COUNT];
};

/* Forget every field: the builder is ready for the next row. */
static inline void rowb_reset(struct rowb *b)
{
	b->ds = -1;
	b->has_time = false;
	b->dups = 0;
	b->tag_mask = 0;
	b->metric_mask[0] = 0;
	b->metric_mask[1] = 0;
}

/* Set the data source (a valid exportable id) and with it the family. */
static inline void rowb_set_ds(struct rowb *b, int ds)
{
	b->ds = ds;
	b->family = schema_ds_family(ds);
}

static inline void rowb_set_time(struct rowb *b, uint32_t t)
{
	b->dups += b->has_time;
	b->has_time = true;
	b->time = t;
}

/* Metric <i> (index in the family's table) = <v>. */
static inline void rowb_set_metric(struct rowb *b, int i, double v)
{
	uint64_t bit = 1ULL << (i & 63);

	b->dups += (b->metric_mask[i >> 6] & bit) != 0;
	b->metric_mask[i >> 6] |= bit;
	b->metric[i] = v;
}

static inline struct rowb_tag *__rowb_tag(struct rowb *b, int id, uint8_t kind)
{
	uint64_t bit = 1ULL << id;

	b->dups += (b->tag_mask & bit) != 0;
	b->tag_mask |= bit;
	b->tag[id].kind = kind;
	return &b->tag[id];
}

static inline void rowb_set_num(struct rowb *b, int id, int64_t v)
{
	__rowb_tag(b, id, RAWROW_T_NUM)->v.num = v;
}

/* <len> must be <= RAWROW_MAX_STR (the parser checks). */
static inline void rowb_set_str(struct rowb *b, int id, const void *s, size_t len)
{
	struct rowb_tag *t = __rowb_tag(b, id, RAWROW_T_STR);

	t->len = (uint16_t)len;
	t->v.str = s;
}

static inline void rowb_set_ip6(struct rowb *b, int id, const uint8_t ip[16])
{
	struct rowb_tag *t = __rowb_tag(b, id, RAWROW_T_IP6);

	for (int i = 0; i < 16; i++)
		t->v.ip6[i] = ip[i];
}

/* Drop tag <id> if present (nothing else changes). */
static inline void rowb_clear_tag(struct rowb *b, int id)
{
	b->tag_mask &= ~(1ULL << id);
}

/*
 * Lay the row out at <out> (<cap> bytes) in the ring format.  The data
 * source and the time must be set.  Returns the record size, or -EMSGSIZE
 * when it needs more than <cap> bytes or the tag section exceeds the
 * uint16_t limit of the format.  Pure function of the fields set: equal
 * rows give equal bytes.  Any thread may call it.
 */
int rowb_encode(const struct rowb *b, uint8_t *out, size_t cap);

/* Bytes of the tag section rowb_encode() would write. */
size_t rowb_tags_len(const struct rowb *b);

#endif
