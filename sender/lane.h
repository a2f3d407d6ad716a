/* SPDX-License-Identifier: MIT */
/* lane.h: ordered delivery lanes: one lane ring, one request in flight, retries and failover. */
#ifndef FLOWRW_LANE_H
#define FLOWRW_LANE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/batch-t.h"
#include "common/cfg-t.h"
#include "common/log.h"
#include "common/ring-t.h"
#include "common/shm.h"
#include "common/stats-t.h"
#include "sender/conn.h"

/*
 * A lane is one lane ring (encoder i -> sender, for one exporter, one of its
 * queue-count lanes).  It posts its head batch, and only its head batch,
 * until the batch is settled:
 *
 *   IDLE --doorbell/data--> READY --conn_request--> FLIGHT --2xx/4xx--> READY (next batch)
 *     ^                       |  ^                    |
 *     |                       |  +--- next endpoint --+ 5xx, 429, transport error
 *     +-- ring empty ---------+  |                    |   (untried endpoint left)
 *                             |  +---- BACKOFF <------+   (every endpoint failed once)
 *                             +--> WAIT_SLOT (no connection slot free)
 *   DONE: the ring is closed and drained.
 *
 * So samples of a series (always in the same lane) reach the endpoint in
 * order, retries included, and lanes never wait for one another.
 */
enum lane_state {
	LANE_IDLE = 0,    /* ring empty, consumer doorbell armed */
	LANE_READY,       /* head batch known, request to start */
	LANE_WAIT_SLOT,   /* waiting for a free connection slot */
	LANE_FLIGHT,      /* request in flight, deadline armed */
	LANE_BACKOFF,     /* waiting before the next round of attempts */
	LANE_DONE,        /* ring closed and drained */
};

/* Retry-After larger than this is capped (a typo must not park a lane for days). */
#define LANE_RETRY_AFTER_CAP_S 300
/* Immediate resends on a kept-alive connection the server had just closed. */
#define LANE_STALE_RETRIES     4

struct lane {
	struct ring_cons rc;
	const struct batch_hdr *head; /* batch being delivered (in the ring), or NULL */
	uint32_t head_len;
	uint8_t state;           /* enum lane_state */
	uint8_t exporter;
	uint8_t ep_pos;          /* position in the exporter's endpoint order */
	uint8_t round_fails;     /* failed attempts since the last settle or backoff */
	uint8_t stale;           /* stale-connection resends of this attempt */
	bool resend;             /* the head batch was posted before */
	uint16_t encoder;
	uint16_t q;
	uint32_t attempts;       /* backoff rounds for the head batch */
	uint32_t conn;           /* connection slot while in flight */
	int32_t heap_idx;        /* position in the timer heap, -1 if none */
	uint32_t list_idx;       /* position in the idle list */
	int64_t deadline_ns;     /* backoff end or request deadline */
	int64_t started_ns;      /* request start, for the latency histogram */
	int64_t retry_after_ns;  /* largest Retry-After of this round */
};

struct lane_exporter {
	const struct cfg_exporter *cfg;
	uint32_t order[CFG_MAX_ENDPOINTS]; /* endpoint ids, shuffled once at start-up */
	uint32_t n_ep;
	int64_t min_backoff_ns, max_backoff_ns, timeout_ns;
	struct stats_exporter *st;
	struct log_limit drop_lim;
	uint32_t backing_off;
};

struct lane_set {
	struct lane *l;
	uint32_t n;
	uint32_t n_done;
	struct lane_exporter ex[CFG_MAX_EXPORTERS];
	struct conn_pool *pool;
	uint32_t *heap;          /* timer min-heap of lane ids by deadline_ns */
	uint32_t heap_n;
	uint32_t *idle;          /* lanes in LANE_IDLE */
	uint32_t idle_n;
	uint32_t *waitq;         /* FIFO of lanes in LANE_WAIT_SLOT */
	uint32_t wait_head, wait_n;
	uint64_t rng;            /* xorshift state for jitter and shuffling */
	int64_t now_ns;          /* CLOCK_MONOTONIC, refreshed by the loop */
};

/*
 * Attach every lane ring of every active exporter of <c> in <shm> and set up
 * the exporters' endpoint order (one random permutation each, as DeepFlow).
 * <pool> must be initialised; its callbacks are pointed at this set.
 * <seed> must not be 0 (xorshift).
 * Returns 0, -EPROTO (a ring is not formatted) or -ENOMEM.  Sender only.
 */
int lane_set_init(struct lane_set *s, const struct shm *shm, const struct cfg *c,
		  struct conn_pool *pool, uint64_t seed);
void lane_set_fini(struct lane_set *s);

/* Look at every lane once (start-up). */
void lane_kick_all(struct lane_set *s);

/* The sender doorbell rang: start idle lanes that have data, retire drained ones. */
void lane_doorbell(struct lane_set *s);

/* Connection slots freed: restart lanes waiting for one, in FIFO order. */
void lane_service_waiters(struct lane_set *s);

/* Fire the timers due at s->now_ns (backoffs ending, request deadlines). */
void lane_timers(struct lane_set *s);

/* Earliest pending timer (CLOCK_MONOTONIC ns), or INT64_MAX. */
int64_t lane_next_deadline(const struct lane_set *s);

/* Nothing left: every lane ring closed and drained, nothing in flight. */
static inline bool lane_all_done(const struct lane_set *s)
{
	return s->n_done == s->n;
}

/* Drain deadline passed: count series still in the rings per exporter into
 * undelivered_series and return the total. */
uint64_t lane_count_undelivered(struct lane_set *s);

/* Capped exponential backoff with full jitter: uniform in [0, min(max,
 * min_b * 2^attempt)] (AWS "full jitter").  Exposed for tests. */
int64_t lane_backoff_ns(uint64_t *rng, int64_t min_b, int64_t max_b, uint32_t attempt);

/* Fisher-Yates shuffle of <v>/<n> driven by <rng> (the endpoint order of
 * lane_set_init: exporter by exporter, first thing drawn from the seed). */
void lane_shuffle(uint64_t *rng, uint32_t *v, uint32_t n);

#endif
