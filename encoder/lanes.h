/* SPDX-License-Identifier: MIT */
/* lanes.h: one exporter's ordered lanes in one encoder: batches into lane rings. */
#ifndef FLOWRW_LANES_H
#define FLOWRW_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg-t.h"
#include "common/ring-t.h"
#include "common/stats-t.h"
#include "encoder/rw_encode.h"

struct shm;

/*
 * A lane is an ordered stream of batches from this encoder to the sender
 * through its own lane ring.  Every series of a row goes to lane
 * (route hash & 0xffffffff) % queue-count, so a series' samples stay in
 * order end to end while lanes are posted in parallel.
 *
 * A lane accumulates one WriteRequest, already as a snappy block (struct
 * rw_zreq), until it holds batch-size series, until one more series would
 * make it too large for the lane ring, or until flush-timeout after its
 * first series.  Closing it reserves header + block in the ring, writes
 * the length preamble and copies the elements in, and commits with units =
 * series.  Before the commit the lane waits (asleep on the encoder's
 * doorbell) while the ring already holds more than queue-size series, or
 * has no room for the bytes.
 */
struct lane {
	struct ring_prod prod;
	struct rw_zreq req;
	int64_t open_ms;        /* CLOCK_MONOTONIC ms of the first series held */
	uint64_t oldest_pos;    /* input-ring position of the oldest row held */
	uint64_t oldest_seq;    /* that row's sequence number in this encoder */
};

/* Why a batch closed. */
enum lanes_reason {
	LANES_FULL = 0,         /* batch-size or ring size reached */
	LANES_TIMEOUT,          /* flush-timeout after the first series */
	LANES_HELD,             /* it held rows the input ring needs back */
	LANES_DRAIN,            /* end of stream */
};

struct lanes {
	int exporter;           /* index in cfg.exporters */
	int encoder;
	int n;                  /* queue-count */
	uint32_t batch_size;    /* series per request, never exceeded */
	uint64_t queue_size;    /* series a lane ring may hold */
	int64_t flush_ms;       /* flush-timeout */
	size_t raw_max;         /* largest raw request the lane ring carries */
	int doorbell;           /* the encoder's eventfd (lane rings' producer side) */
	const struct shm *shm;  /* drain phase and deadline while waiting */
	struct stats_encoder_exporter *st;
	struct lane *lane;
};

/*
 * Attach the lane rings of exporter <e> for encoder <encoder> in arena <s>
 * and size the per-lane buffers (no memory until the first series).  <st>
 * receives the counters.  Returns 0, -EPROTO (a lane ring is not formatted)
 * or -ENOMEM.  Encoder process only (each lane ring has one producer).
 */
int lanes_init(struct lanes *ls, const struct shm *s, const struct cfg_exporter *e,
	       int encoder, struct stats_encoder_exporter *st);

/* Free the buffers (partial batches are lost: flush first).  Accepts a
 * zeroed or half-built <ls>. */
void lanes_fini(struct lanes *ls);

/*
 * Slow path of lanes_add(): close the lane's batch if needed and make room
 * for <need> bytes.  Returns 0, -E2BIG when one series alone is too large
 * for the lane ring (counted, the caller drops it), -ENOMEM, or -ETIMEDOUT
 * when the drain deadline passed while waiting for the sender.
 */
int __lanes_make_room(struct lanes *ls, struct lane *l, size_t need);

/*
 * Append one series to lane <q> (see rw_zreq_add(): the __name__ label
 * <name> with id <name_id>, the row's labels <blk> of generation <gen>, one
 * sample), for the row at input-ring position <pos> (sequence <seq>);
 * <now_ms> is CLOCK_MONOTONIC ms, taken at most a burst ago.  May close
 * and commit the lane's batch first (and then wait for the sender).
 * Returns 0 or a negative errno of __lanes_make_room().
 */
static inline int lanes_add(struct lanes *ls, int q, unsigned name_id, const uint8_t *name,
			    size_t name_len, const uint8_t *blk, size_t blen, uint64_t gen, double value,
			    int64_t ts_ms, uint64_t pos, uint64_t seq, int64_t now_ms)
{
	struct lane *l = &ls->lane[q];
	size_t need = rw_series_size(name_len + blen, ts_ms);

	if (__builtin_expect(l->req.n_series >= ls->batch_size || !rw_zreq_fits(&l->req, need), 0)) {
		int err = __lanes_make_room(ls, l, need);

		if (err)
			return err;
	}
	if (l->req.n_series == 0) {
		l->open_ms = now_ms;
		l->oldest_pos = pos;
		l->oldest_seq = seq;
	}
	rw_zreq_add(&l->req, name_id, name, name_len, blk, blen, gen, value, ts_ms);
	return 0;
}

/* Close lane <q>'s partial batch now (nothing when empty).  Returns 0 or
 * -ETIMEDOUT (drain deadline passed while waiting for the sender). */
int lanes_flush(struct lanes *ls, int q, enum lanes_reason why);

/* Flush every lane; same returns. */
int lanes_flush_all(struct lanes *ls, enum lanes_reason why);

/* End of stream: mark every lane ring closed (flush first). */
void lanes_close(struct lanes *ls);

/* Series currently held in partial batches. */
uint64_t lanes_held(const struct lanes *ls);

#endif
