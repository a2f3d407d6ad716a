/* SPDX-License-Identifier: MIT */
/* fuzz_json_row.c: the DeepFlow JSON row parser (ingest/json_row.c) on arbitrary lines. */
#include <math.h>
#include <string.h>

#include "common/rawrow.h"
#include "common/schema.h"
#include "ingest/json_row.h"
#include "ingest/rowb.h"
#include "tests/fuzz/fuzz.h"

/* Static: a struct jrow holds 256 KiB of scratch, too much for a stack
 * frame run millions of times, and the suite runs one input at a time. */
static struct jrow fjr_jp, fjr_jp2;
static struct rowb fjr_b, fjr_b2;
static uint8_t fjr_rec[ROWB_MAX_BYTES], fjr_rec2[ROWB_MAX_BYTES];
static char fjr_text[1 << 20];

static bool fjr_within(const void *p, size_t n, const void *base, size_t len)
{
	const uint8_t *a = p, *b = base;

	return a >= b && n <= len && (size_t)(a - b) <= len - n;
}

/* What jrow_parse() promises of a row it accepted. */
static void fjr_check_row(const struct rowb *b, const struct jrow *jp, const uint8_t *line,
			  size_t len)
{
	int count;

	FUZZ_CHECK(b->ds >= 0 && b->ds < SCHEMA_DS_MAX && b->ds != 4, "ds %d", b->ds);
	FUZZ_CHECK(b->family == schema_ds_family(b->ds), "family %d of ds %d", b->family, b->ds);
	FUZZ_CHECK(b->has_time && b->time != 0, "time %u", b->time);
	schema_metrics(b->family, &count);
	FUZZ_CHECK(count <= SCHEMA_MAX_METRICS, "%d metrics", count);
	for (int i = 0; i < SCHEMA_MAX_METRICS; i++) {
		if (!((b->metric_mask[i >> 6] >> (i & 63)) & 1))
			continue;
		FUZZ_CHECK(i < count, "metric %d beyond the family's %d", i, count);
		/* Remote write would carry an infinity that no DeepFlow row can
		 * hold (Go's encoder refuses them): a row must not produce one. */
		FUZZ_CHECK(isfinite(b->metric[i]), "metric %d = %g", i, b->metric[i]);
	}
	FUZZ_CHECK(b->metric_mask[1] >> (SCHEMA_MAX_METRICS - 64) == 0, "metric mask high bits");
	FUZZ_CHECK(b->tag_mask >> SCHEMA_TAG_COUNT == 0, "tag mask %llx",
		   (unsigned long long)b->tag_mask);
	for (uint64_t m = b->tag_mask; m; m &= m - 1) {
		int id = __builtin_ctzll(m);
		const struct rowb_tag *t = &b->tag[id];

		FUZZ_CHECK(schema_tag_in_family(id, b->family), "tag %d not in family %d", id,
			   b->family);
		FUZZ_CHECK(t->kind == RAWROW_T_NUM || t->kind == RAWROW_T_STR ||
			   t->kind == RAWROW_T_IP6, "tag %d kind %u", id, t->kind);
		if (schema_tags[id].kind == SCHEMA_KIND_IP4)
			FUZZ_CHECK(t->kind == RAWROW_T_NUM && t->v.num >= 0 && t->v.num <= UINT32_MAX,
				   "ip4 tag %d", id);
		if (t->kind != RAWROW_T_STR)
			continue;
		FUZZ_CHECK(t->len <= RAWROW_MAX_STR, "tag %d len %u", id, t->len);
		/* The row points into the line or the scratch area, nowhere else. */
		FUZZ_CHECK(fjr_within(t->v.str, t->len, line, len) ||
			   fjr_within(t->v.str, t->len, jp->scratch, jp->scratch_len),
			   "tag %d string outside the line and the scratch", id);
	}
}

/* Encode <b>; a record must decode back to exactly the fields of <b>. */
static int fjr_encode(const struct rowb *b, uint8_t *rec)
{
	struct rawrow_view v;
	int n = rowb_encode(b, rec, ROWB_MAX_BYTES);

	if (n < 0) {
		/* Only a tag section over the format's uint16_t limit may fail. */
		FUZZ_CHECK(rowb_tags_len(b) > 65535, "rowb_encode %d with %zu tag bytes", n,
			   rowb_tags_len(b));
		return n;
	}
	FUZZ_CHECK(rawrow_decode(rec, (uint32_t)n, &v), "record of %d bytes does not decode", n);
	FUZZ_CHECK(v.hdr->ds == b->ds && v.hdr->time == b->time, "header");
	for (int i = 0; i < SCHEMA_MAX_METRICS; i++)
		if ((b->metric_mask[i >> 6] >> (i & 63)) & 1)
			FUZZ_CHECK(memcmp(&v.metric[i], &b->metric[i], 8) == 0, "metric %d", i);
	for (int id = 0; id < SCHEMA_TAG_COUNT; id++) {
		const struct rowb_tag *t = &b->tag[id];

		if (!((b->tag_mask >> id) & 1)) {
			FUZZ_CHECK(v.tag_kind[id] == 0, "tag %d appeared", id);
			continue;
		}
		FUZZ_CHECK(v.tag_kind[id] == t->kind, "tag %d kind", id);
		if (t->kind == RAWROW_T_STR)
			FUZZ_CHECK(v.tag_len[id] == t->len && memcmp(v.tag_val[id], t->v.str, t->len) == 0,
				   "tag %d string", id);
		else if (t->kind == RAWROW_T_IP6)
			FUZZ_CHECK(memcmp(v.tag_val[id], t->v.ip6, 16) == 0, "tag %d ip6", id);
		else
			FUZZ_CHECK(rawrow_tag_num(&v, id) == t->v.num, "tag %d num", id);
	}
	return n;
}

static void fjr_one(const uint8_t *data, size_t size, int default_ds)
{
	struct jrow_err err;
	int n, m, t;

	jrow_init(&fjr_jp);
	memset(&err, 0, sizeof(err));
	if (jrow_parse(&fjr_jp, (const char *)data, size, default_ds, &fjr_b, &err)) {
		FUZZ_CHECK((int)err.reason >= 0 && (int)err.reason < STATS_REJ_COUNT, "reason %d", err.reason);
		FUZZ_CHECK(err.at <= size, "error offset %zu of %zu", err.at, size);
		FUZZ_CHECK(memchr(err.msg, 0, sizeof(err.msg)) != NULL, "message not terminated");
		FUZZ_CHECK(strcmp(jrow_reason_name(err.reason), "rejected") != 0, "unnamed reason %d",
			   err.reason);
		return;
	}
	FUZZ_CHECK(fjr_jp.scratch_len <= JROW_SCRATCH, "scratch %zu", fjr_jp.scratch_len);
	fjr_check_row(&fjr_b, &fjr_jp, data, size);
	n = fjr_encode(&fjr_b, fjr_rec);

	/* Printing the row as DeepFlow would and parsing it again must give the
	 * same record: the printer is what flowrw-gen feeds the tests with. */
	t = jrow_format(&fjr_b, fjr_text, sizeof(fjr_text));
	if (t < 0 || n < 0)
		return;
	FUZZ_CHECK((size_t)t < sizeof(fjr_text) && fjr_text[t] == 0, "format length %d", t);
	jrow_init(&fjr_jp2);
	memset(&err, 0, sizeof(err));
	FUZZ_CHECK(jrow_parse(&fjr_jp2, fjr_text, (size_t)t, -1, &fjr_b2, &err) == 0,
		   "printed row rejected: %s at %zu: %s\n%s", jrow_reason_name(err.reason), err.at,
		   err.msg, fjr_text);
	fjr_check_row(&fjr_b2, &fjr_jp2, (const uint8_t *)fjr_text, (size_t)t);
	m = fjr_encode(&fjr_b2, fjr_rec2);
	FUZZ_CHECK(m == n && memcmp(fjr_rec, fjr_rec2, (size_t)n) == 0,
		   "printed row parses to another record (%d vs %d bytes):\n%s", n, m, fjr_text);
}

int fuzz_json_row(const uint8_t *data, size_t size)
{
	/* The exportable data sources (4 is never exported), or none. */
	static const int dss[] = { 0, 1, 2, 3, 5, 6, 7, 8 };

	fjr_one(data, size, -1);
	fjr_one(data, size, dss[size % 8]);
	return 0;
}

FUZZ_ENTRY(fuzz_json_row)
