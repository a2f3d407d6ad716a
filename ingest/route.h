/* SPDX-License-Identifier: MIT */
/* route.h: pick a row's encoder by series hash and push it into that input ring. */
#ifndef FLOWRW_INGEST_ROUTE_H
#define FLOWRW_INGEST_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cfg-t.h"
#include "common/hash.h"
#include "common/rawrow.h"
#include "common/ring-t.h"

/*
 * The producer side of every input ring (ingest is their only producer).
 * Rows are reserved and copied one by one but published in batches: a ring
 * is committed after ROUTE_BATCH rows, and route_flush() commits the rest
 * (ingest calls it whenever its input buffers run dry, before sleeping, and
 * before it records a resume point).
 */

#define ROUTE_BATCH 64 /* rows per ring commit */

struct route {
	int n;                          /* encoders */
	uint32_t max_record;            /* smallest max_record of the rings */
	int full_enc;                   /* ring that refused the last push */
	uint64_t pending_mask;          /* bit i: ring i has uncommitted rows (i < 64) */
	uint32_t pending[CFG_MAX_ENCODERS];
	struct ring_prod prod[CFG_MAX_ENCODERS];
};

/* Attach to the <n> input rings at <rings>[i].  Returns 0 or -EPROTO. */
int route_init(struct route *r, void *const *rings, int n);

/* Encoder of raw row <row>: (hash_series_route(ds, tags) >> 32) % n, the
 * same for every row of a series.  Pure function. */
static inline int route_encoder(int n, const void *row)
{
	const struct rawrow_hdr *h = row;
	uint64_t hash = hash_series_route(h->ds, rawrow_tags(h), h->tags_len);

	return (int)((hash >> 32) % (uint64_t)n);
}

/*
 * Copy raw row <row> (<len> bytes) into its encoder's ring.  Returns 0;
 * -EAGAIN when that ring is full now (r->full_enc says which; nothing was
 * written); -EMSGSIZE when the row can never fit a ring.
 */
int route_push(struct route *r, const void *row, uint32_t len);

/* Commit every ring holding uncommitted rows. */
void route_flush(struct route *r);

/* Before sleeping on the ingest doorbell for ring <enc> to have room for a
 * <len>-byte row: true if it is still full (the encoder will ring). */
bool route_arm(struct route *r, int enc, uint32_t len);
void route_disarm(struct route *r);

/* Flush and mark every ring finished (encoders drain and exit). */
void route_close(struct route *r);

#endif
