/* SPDX-License-Identifier: MIT */
/* rowb.c: lay a built row out in the raw-row ring format. */
#include "ingest/rowb.h"

#include <errno.h>
#include <string.h>

static inline size_t tag_payload(const struct rowb_tag *t)
{
	return t->kind == RAWROW_T_NUM ? 8 : t->kind == RAWROW_T_IP6 ? 16 : t->len;
}

size_t rowb_tags_len(const struct rowb *b)
{
	size_t n = 0;

	for (uint64_t m = b->tag_mask; m; m &= m - 1)
		n += sizeof(struct rawrow_tag) + tag_payload(&b->tag[__builtin_ctzll(m)]);
	return n;
}

int rowb_encode(const struct rowb *b, uint8_t *out, size_t cap)
{
	struct rawrow_hdr h;
	size_t tags_len = rowb_tags_len(b);
	size_t n_metrics = (size_t)__builtin_popcountll(b->metric_mask[0]) +
			   (size_t)__builtin_popcountll(b->metric_mask[1]);
	size_t size = sizeof(h) + 8 * n_metrics + tags_len;
	uint8_t *p;

	if (tags_len > 65535 || size > cap)
		return -EMSGSIZE;
	h.ds = (uint8_t)b->ds;
	h.n_tags = (uint8_t)__builtin_popcountll(b->tag_mask);
	h.tags_len = (uint16_t)tags_len;
	h.time = b->time;
	h.metric_mask[0] = b->metric_mask[0];
	h.metric_mask[1] = b->metric_mask[1];
	memcpy(out, &h, sizeof(h));
	p = out + sizeof(h);
	for (int w = 0; w < 2; w++) {
		for (uint64_t m = b->metric_mask[w]; m; m &= m - 1) {
			memcpy(p, &b->metric[w * 64 + __builtin_ctzll(m)], 8);
			p += 8;
		}
	}
	for (uint64_t m = b->tag_mask; m; m &= m - 1) {
		int id = __builtin_ctzll(m);
		const struct rowb_tag *t = &b->tag[id];
		struct rawrow_tag rt = { .id = (uint8_t)id, .kind = t->kind,
					 .len = (uint16_t)tag_payload(t) };

		memcpy(p, &rt, sizeof(rt));
		p += sizeof(rt);
		if (t->kind == RAWROW_T_NUM)
			memcpy(p, &t->v.num, 8);
		else if (t->kind == RAWROW_T_IP6)
			memcpy(p, t->v.ip6, 16);
		else if (rt.len)
			memcpy(p, t->v.str, rt.len);
		p += rt.len;
	}
	return (int)size;
}
