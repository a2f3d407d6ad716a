/* SPDX-License-Identifier: MIT */
/* lanes.c: per-lane batches as snappy blocks, copied into the lane ring, queue-size backpressure. */
#include "encoder/lanes.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/batch-t.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/ring.h"
#include "common/shm.h"

#define LANES_WAIT_SLICE_MS 100 /* a lost doorbell costs at most this */

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int lanes_init(struct lanes *ls, const struct shm *s, const struct cfg_exporter *e,
	       int encoder, struct stats_encoder_exporter *st)
{
	int n = shm_lane_count(s, e->index);

	memset(ls, 0, sizeof(*ls));
	ls->exporter = e->index;
	ls->encoder = encoder;
	ls->batch_size = e->batch_size > 0 ? (uint32_t)e->batch_size : 1024;
	ls->queue_size = e->queue_size > 0 ? (uint64_t)e->queue_size : 100000;
	ls->flush_ms = e->flush_timeout > 0 ? (int64_t)(e->flush_timeout * 1000.0) : 0;
	ls->doorbell = s->hdr->doorbell_encoder[encoder];
	ls->shm = s;
	ls->st = st;
	if (n <= 0)
		return -EPROTO;
	ls->lane = calloc((size_t)n, sizeof(*ls->lane));
	if (!ls->lane)
		return -ENOMEM;
	ls->n = n;
	for (int q = 0; q < n; q++) {
		struct lane *l = &ls->lane[q];
		int err = ring_prod_attach(&l->prod, shm_lane_ring(s, e->index, encoder, q));

		if (err)
			return err;
		/* Header plus the snappy bound of the raw request must fit one
		 * ring record (our blocks stay within libsnappy's bound); all
		 * lanes of an exporter have one size. */
		if (q == 0)
			ls->raw_max = rw_raw_limit(l->prod.hdr->max_record, sizeof(struct batch_hdr));
		rw_zreq_init(&l->req, ls->raw_max);
	}
	return 0;
}

void lanes_fini(struct lanes *ls)
{
	if (ls->lane)
		for (int q = 0; q < ls->n; q++)
			rw_zreq_fini(&ls->lane[q].req);
	free(ls->lane);
	ls->lane = NULL;
	ls->n = 0;
}

static bool drain_expired(const struct lanes *ls)
{
	const struct shm_hdr *h = ls->shm->hdr;

	if (shm_phase(ls->shm) != SHM_PHASE_DRAIN)
		return false;
	return clock_mono_ms() > atomic_load_explicit((_Atomic int64_t *)&h->drain_deadline_ms,
						memory_order_relaxed);
}

static bool units_blocked(const struct ring_hdr *h, uint64_t queue_size, uint32_t n)
{
	/* cons_units is the sender's (released with the bytes, C2); we are
	 * the only writer of prod_units. */
	uint64_t prod = atomic_load_explicit((_Atomic uint64_t *)&h->prod_units, memory_order_relaxed);
	uint64_t cons = atomic_load_explicit((_Atomic uint64_t *)&h->cons_units, memory_order_acquire);
	uint64_t pending = prod - cons;

	/* An empty lane always takes a batch, even one above queue-size. */
	return pending != 0 && pending + n > queue_size;
}

/*
 * Reserve <len> bytes for a batch of <n> series in lane <l>, sleeping on the
 * doorbell while the lane holds too many series or has no room.  The sleep
 * follows ring.c's rule: set prod_waiting, full fence (W1), re-check, sleep;
 * the sender's ring_release_to() publishes, fences (W2), reads the flag.
 */
static void *lane_reserve_wait(struct lanes *ls, struct lane *l, uint32_t len, uint32_t n)
{
	struct ring_hdr *h = l->prod.hdr;
	bool counted = false;
	void *p;

	for (;;) {
		if (!units_blocked(h, ls->queue_size, n)) {
			p = ring_reserve(&l->prod, len);
			if (p)
				return p;
			if (errno == EMSGSIZE)
				return NULL;
		}
		if (!counted) {
			stat_add(&ls->st->lane_full_waits, 1);
			counted = true;
		}
		atomic_store_explicit(&h->prod_waiting, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst); /* W1 */
		/* ring_prod_arm() keeps the flag only when the bytes do not fit. */
		if (units_blocked(h, ls->queue_size, n) || ring_prod_arm(&l->prod, len))
			ring_doorbell_wait(ls->doorbell, LANES_WAIT_SLICE_MS);
		ring_prod_disarm(&l->prod);
		if (drain_expired(ls)) {
			errno = ETIMEDOUT;
			return NULL;
		}
	}
}

int lanes_flush(struct lanes *ls, int q, enum lanes_reason why)
{
	struct lane *l = &ls->lane[q];
	struct rw_zreq *r = &l->req;
	struct batch_hdr *bh;
	size_t raw_len = rw_zreq_len(r), body_len;
	uint8_t *rec, *p;

	if (r->n_series == 0)
		return 0;
	snw_finish(&r->w);
	body_len = rw_varint_len(raw_len) + r->w.len;
	if (body_len > snw_max_len(raw_len)) {
		/* snappy_writer.h's size bound makes this impossible. */
		log_err("lane e%d.q%d: snappy block of %zu bytes for %zu raw bytes passes the bound",
			ls->exporter, q, body_len, raw_len);
		abort();
	}
	rec = lane_reserve_wait(ls, l, (uint32_t)(sizeof(*bh) + body_len), r->n_series);
	if (!rec) {
		if (errno == EMSGSIZE) {
			/* raw_max makes this impossible: a bug, not bad input. */
			log_err("lane e%d.q%d: batch of %zu bytes exceeds the lane ring record limit",
				ls->exporter, q, raw_len);
			abort();
		}
		return -ETIMEDOUT;
	}
	/* The preamble (uncompressed length) is known only now. */
	p = rw_put_varint(rec + sizeof(*bh), raw_len);
	memcpy(p, r->w.buf, r->w.len);
	bh = (struct batch_hdr *)rec;
	bh->magic = BATCH_MAGIC;
	bh->exporter = (uint16_t)ls->exporter;
	bh->lane = (uint16_t)q;
	bh->n_series = r->n_series;
	bh->n_samples = r->n_series; /* one sample per series */
	bh->raw_len = (uint32_t)raw_len;
	bh->body_len = (uint32_t)body_len;
	bh->min_ts_ms = r->min_ts_ms;
	bh->max_ts_ms = r->max_ts_ms;
	bh->closed_ns = real_ns();
	ring_commit(&l->prod, r->n_series);

	stat_add(&ls->st->batches, 1);
	stat_add(&ls->st->series, r->n_series);
	stat_add(&ls->st->samples, r->n_series);
	stat_add(&ls->st->raw_bytes, raw_len);
	stat_add(&ls->st->body_bytes, body_len);
	if (why == LANES_TIMEOUT)
		stat_add(&ls->st->timeout_flushes, 1);
	rw_zreq_reset(r);
	return 0;
}

int __lanes_make_room(struct lanes *ls, struct lane *l, size_t need)
{
	int q = (int)(l - ls->lane), err;

	if (l->req.n_series >= ls->batch_size) {
		err = lanes_flush(ls, q, LANES_FULL);
		if (err)
			return err;
	}
	err = rw_zreq_reserve(&l->req, need);
	if (err == -E2BIG && l->req.n_series > 0) {
		/* The ring's record limit, not batch-size: close and retry. */
		err = lanes_flush(ls, q, LANES_FULL);
		if (err)
			return err;
		err = rw_zreq_reserve(&l->req, need);
	}
	if (err == -E2BIG)
		stat_add(&ls->st->series_oversize, 1);
	return err;
}

int lanes_flush_all(struct lanes *ls, enum lanes_reason why)
{
	for (int q = 0; q < ls->n; q++) {
		int err = lanes_flush(ls, q, why);

		if (err)
			return err;
	}
	return 0;
}

void lanes_close(struct lanes *ls)
{
	for (int q = 0; q < ls->n; q++)
		ring_close(&ls->lane[q].prod);
}

uint64_t lanes_held(const struct lanes *ls)
{
	uint64_t n = 0;

	for (int q = 0; q < ls->n; q++)
		n += ls->lane[q].req.n_series;
	return n;
}
