/* SPDX-License-Identifier: MIT */
/* route.c: series-hash routing into the input rings, batched commits. */
#include "ingest/route.h"

#include <errno.h>
#include <string.h>

#include "common/ring.h"

int route_init(struct route *r, void *const *rings, int n)
{
	memset(r, 0, sizeof(*r));
	if (n < 1 || n > CFG_MAX_ENCODERS)
		return -EINVAL;
	r->n = n;
	r->max_record = UINT32_MAX;
	for (int i = 0; i < n; i++) {
		int err = ring_prod_attach(&r->prod[i], rings[i]);

		if (err)
			return err;
		if (r->prod[i].hdr->max_record < r->max_record)
			r->max_record = r->prod[i].hdr->max_record;
	}
	return 0;
}

static void commit_one(struct route *r, int i)
{
	ring_commit(&r->prod[i], r->pending[i]);
	r->pending[i] = 0;
	if (i < 64)
		r->pending_mask &= ~(1ULL << i);
}

int route_push(struct route *r, const void *row, uint32_t len)
{
	int i = route_encoder(r->n, row);
	void *dst;

	if (len > r->max_record)
		return -EMSGSIZE;
	dst = ring_reserve(&r->prod[i], len);
	if (!dst) {
		if (errno == EMSGSIZE)
			return -EMSGSIZE;
		/* Our own uncommitted rows may be what fills it: publish them
		 * so the encoder can drain, then try once more. */
		if (r->pending[i]) {
			commit_one(r, i);
			dst = ring_reserve(&r->prod[i], len);
		}
		if (!dst) {
			r->full_enc = i;
			return -EAGAIN;
		}
	}
	memcpy(dst, row, len);
	if (++r->pending[i] >= ROUTE_BATCH)
		commit_one(r, i);
	else if (i < 64)
		r->pending_mask |= 1ULL << i;
	return 0;
}

void route_flush(struct route *r)
{
	if (r->n <= 64) {
		while (r->pending_mask)
			commit_one(r, __builtin_ctzll(r->pending_mask));
		return;
	}
	for (int i = 0; i < r->n; i++)
		if (r->pending[i])
			commit_one(r, i);
}

bool route_arm(struct route *r, int enc, uint32_t len)
{
	return ring_prod_arm(&r->prod[enc], len);
}

void route_disarm(struct route *r)
{
	for (int i = 0; i < r->n; i++)
		ring_prod_disarm(&r->prod[i]);
}

void route_close(struct route *r)
{
	route_flush(r);
	for (int i = 0; i < r->n; i++)
		ring_close(&r->prod[i]);
}
