/* SPDX-License-Identifier: MIT */
/* lane.c: ordered delivery lanes: one request in flight each, retries with backoff, failover. */
#include "sender/lane.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ring.h"

static const uint32_t lat_bounds_ms[STATS_LAT_BUCKETS] = STATS_LAT_BOUNDS_MS;

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: plenty for jitter and a shuffle. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

int64_t lane_backoff_ns(uint64_t *rng, int64_t min_b, int64_t max_b, uint32_t attempt)
{
	int64_t cap = min_b;

	if (min_b <= 0)
		min_b = cap = 1000000; /* 1 ms: never spin */
	for (uint32_t i = 0; i < attempt && cap < max_b; i++)
		cap *= 2;
	if (cap > max_b)
		cap = max_b;
	if (cap <= 0)
		return 0;
	return (int64_t)(rng_next(rng) % ((uint64_t)cap + 1));
}

void lane_shuffle(uint64_t *rng, uint32_t *v, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)(rng_next(rng) % i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* --- timer heap ---------------------------------------------------------- */

static bool heap_less(const struct lane_set *s, uint32_t a, uint32_t b)
{
	return s->l[s->heap[a]].deadline_ns < s->l[s->heap[b]].deadline_ns;
}

static void heap_swap(struct lane_set *s, uint32_t a, uint32_t b)
{
	uint32_t t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->l[s->heap[a]].heap_idx = (int32_t)a;
	s->l[s->heap[b]].heap_idx = (int32_t)b;
}

static void heap_up(struct lane_set *s, uint32_t i)
{
	while (i > 0 && heap_less(s, i, (i - 1) / 2)) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct lane_set *s, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->heap_n && heap_less(s, l, m))
			m = l;
		if (r < s->heap_n && heap_less(s, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(s, i, m);
		i = m;
	}
}

static void timer_cancel(struct lane_set *s, struct lane *l)
{
	uint32_t i;

	if (l->heap_idx < 0)
		return;
	i = (uint32_t)l->heap_idx;
	l->heap_idx = -1;
	if (i != --s->heap_n) {
		s->heap[i] = s->heap[s->heap_n];
		s->l[s->heap[i]].heap_idx = (int32_t)i;
		heap_down(s, i);
		heap_up(s, i);
	}
}

static void timer_set(struct lane_set *s, uint32_t id, int64_t when)
{
	struct lane *l = &s->l[id];

	timer_cancel(s, l);
	l->deadline_ns = when;
	l->heap_idx = (int32_t)s->heap_n;
	s->heap[s->heap_n++] = id;
	heap_up(s, (uint32_t)l->heap_idx);
}

int64_t lane_next_deadline(const struct lane_set *s)
{
	return s->heap_n ? s->l[s->heap[0]].deadline_ns : INT64_MAX;
}

/* --- idle list ----------------------------------------------------------- */

static void idle_add(struct lane_set *s, uint32_t id)
{
	s->l[id].list_idx = s->idle_n;
	s->idle[s->idle_n++] = id;
}

static void idle_del(struct lane_set *s, uint32_t id)
{
	uint32_t i = s->l[id].list_idx, last = s->idle[--s->idle_n];

	s->idle[i] = last;
	s->l[last].list_idx = i;
}

/* --- helpers ------------------------------------------------------------- */

static struct conn_endpoint *lane_ep(struct lane_set *s, struct lane *l)
{
	return &s->pool->ep[s->ex[l->exporter].order[l->ep_pos]];
}

static void set_backing_off(struct lane_exporter *ex, int delta)
{
	ex->backing_off = (uint32_t)((int)ex->backing_off + delta);
	stat_set(&ex->st->lanes_backing_off, ex->backing_off);
}

static void observe_latency(struct stats_endpoint *st, int64_t ns)
{
	int i;

	if (ns < 0)
		ns = 0;
	for (i = 0; i < STATS_LAT_BUCKETS; i++)
		if (ns <= (int64_t)lat_bounds_ms[i] * 1000000)
			break;
	stat_add(&st->latency_bucket[i], 1);
	stat_add(&st->latency_sum_us, (uint64_t)(ns / 1000));
}

/* A response body for a log line: printable ASCII only, at most 256 bytes. */
static void printable(char *out, size_t cap, const char *b, size_t n)
{
	size_t i;

	if (n > cap - 1)
		n = cap - 1;
	for (i = 0; i < n; i++)
		out[i] = (b[i] >= 0x20 && b[i] < 0x7f) ? b[i] : '.';
	out[i] = '\0';
}

/* --- state machine ------------------------------------------------------- */

static void lane_kick(struct lane_set *s, uint32_t id);

/* Peek the next batch.  Returns true with the lane READY, or false with the
 * lane IDLE (armed) or DONE. */
static bool take_head(struct lane_set *s, uint32_t id)
{
	struct lane *l = &s->l[id];
	struct lane_exporter *ex = &s->ex[l->exporter];

	for (;;) {
		const struct batch_hdr *h;
		uint32_t len;

		h = ring_peek(&l->rc, &len);
		if (!h) {
			if (ring_drained(&l->rc)) {
				l->state = LANE_DONE;
				s->n_done++;
				return false;
			}
			if (ring_cons_arm(&l->rc)) {
				l->state = LANE_IDLE;
				idle_add(s, id);
				return false;
			}
			continue; /* a batch landed while arming */
		}
		if (len < sizeof(*h) || h->magic != BATCH_MAGIC || h->body_len > len - sizeof(*h)) {
			uint32_t units = len >= sizeof(*h) && h->magic == BATCH_MAGIC ? h->n_series : 0;
			static struct log_limit lim;

			/* An encoder bug, not a user error: say so, count it, move on. */
			log_limited(&lim, LOG_LVL_ERROR, "exporter %d: lane ring %s: malformed batch record "
				    "(%u bytes) dropped", ex->cfg->index, l->rc.hdr->name, len);
			ring_advance(&l->rc);
			ring_release(&l->rc, units);
			stat_add(&ex->st->batches_dropped, 1);
			stat_add(&ex->st->series_dropped, units);
			continue;
		}
		l->head = h;
		l->head_len = len;
		l->state = LANE_READY;
		l->resend = false;
		l->attempts = 0;
		l->round_fails = 0;
		l->stale = 0;
		l->retry_after_ns = 0;
		return true;
	}
}

/* The head batch is settled (2xx or dropped): release it and go on. */
static void settle(struct lane_set *s, uint32_t id)
{
	struct lane *l = &s->l[id];

	ring_advance(&l->rc);
	ring_release(&l->rc, l->head->n_series);
	l->head = NULL;
	l->state = LANE_READY;
}

/* An attempt failed with a retryable outcome.  Moves the lane to the next
 * endpoint; returns false if it should try again now (READY), true if it
 * now waits (BACKOFF). */
static bool failed(struct lane_set *s, uint32_t id, int64_t retry_after_s)
{
	struct lane *l = &s->l[id];
	struct lane_exporter *ex = &s->ex[l->exporter];
	int64_t delay;

	if (retry_after_s > 0) {
		int64_t ra = (retry_after_s > LANE_RETRY_AFTER_CAP_S ? LANE_RETRY_AFTER_CAP_S : retry_after_s) *
			     1000000000LL;

		if (ra > l->retry_after_ns)
			l->retry_after_ns = ra;
	}
	l->round_fails++;
	if (ex->n_ep > 1)
		l->ep_pos = (uint8_t)((l->ep_pos + 1) % ex->n_ep);
	if (l->round_fails < ex->n_ep) {
		l->state = LANE_READY; /* an endpoint not tried this round: go now */
		return false;
	}
	delay = l->retry_after_ns > 0 ? l->retry_after_ns
				       : lane_backoff_ns(&s->rng, ex->min_backoff_ns, ex->max_backoff_ns,
							 l->attempts);
	if (l->attempts < 64)
		l->attempts++;
	l->round_fails = 0;
	l->retry_after_ns = 0;
	l->state = LANE_BACKOFF;
	timer_set(s, id, s->now_ns + delay);
	set_backing_off(ex, +1);
	return true;
}

/* Post the head batch.  Returns true if the lane now waits for something. */
static bool start(struct lane_set *s, uint32_t id)
{
	struct lane *l = &s->l[id];
	struct lane_exporter *ex = &s->ex[l->exporter];
	struct conn_endpoint *ep = lane_ep(s, l);
	const char *what = NULL;
	int r;

	r = conn_request(s->pool, ex->order[l->ep_pos], id, l->head + 1, l->head->body_len, s->now_ns,
			 &what);
	if (r >= 0) {
		l->state = LANE_FLIGHT;
		l->conn = (uint32_t)r;
		l->started_ns = s->now_ns;
		timer_set(s, id, s->now_ns + ex->timeout_ns);
		stat_add(&ep->st->requests, 1);
		stat_add(&ep->st->in_flight, 1);
		if (l->resend)
			stat_add(&ex->st->retries, 1);
		l->resend = true;
		return true;
	}
	if (r == -EAGAIN) {
		uint32_t cap = s->n;

		l->state = LANE_WAIT_SLOT;
		s->waitq[(s->wait_head + s->wait_n++) % cap] = id;
		return true;
	}
	stat_add(&ep->st->transport_errors, 1);
	stat_set(&ep->st->up, 0);
	ep->fails++;
	log_limited(&ep->lim, LOG_LVL_WARN, "endpoint %s: %s; batch of %u series kept for retry",
		    ep->url, what ? what : "cannot connect", l->head->n_series);
	return failed(s, id, -1);
}

static void lane_kick(struct lane_set *s, uint32_t id)
{
	struct lane *l = &s->l[id];

	for (;;) {
		if (l->state != LANE_READY)
			return;
		if (!l->head && !take_head(s, id))
			return;
		if (start(s, id))
			return;
	}
}

static void on_done(void *ctx, uint32_t id, const struct conn_result *r)
{
	struct lane_set *s = ctx;
	struct lane *l = &s->l[id];
	struct lane_exporter *ex = &s->ex[l->exporter];
	struct conn_endpoint *ep = lane_ep(s, l);
	struct stats_endpoint *st = ep->st;
	int status = r->status;

	if (l->state != LANE_FLIGHT)
		return;
	timer_cancel(s, l);
	stat_add(&st->in_flight, (uint64_t)-1);
	observe_latency(st, s->now_ns - l->started_ns);
	l->state = LANE_READY;
	if (r->err) {
		if (r->stale && l->stale < LANE_STALE_RETRIES) {
			/* The server closed a kept-alive connection as we used it. */
			log_debug("endpoint %s: kept-alive connection was closed; resending at once", ep->url);
			l->stale++;
			lane_kick(s, id);
			return;
		}
		stat_add(&st->transport_errors, 1);
		stat_set(&st->up, 0);
		ep->fails++;
		log_limited(&ep->lim, LOG_LVL_WARN, "endpoint %s: %s; batch of %u series kept for retry",
			    ep->url, r->what ? r->what : "transport error", l->head->n_series);
		if (!failed(s, id, -1))
			lane_kick(s, id);
		return;
	}
	l->stale = 0;
	if (status >= 200 && status < 300) {
		stat_add(&st->ok, 1);
		stat_add(&st->bytes, l->head->body_len);
		stat_set(&st->up, 1);
		stat_add(&ex->st->series_sent, l->head->n_series);
		stat_add(&ex->st->samples_sent, l->head->n_samples);
		stat_add(&ex->st->batches_sent, 1);
		if (ep->fails) {
			log_info("endpoint %s: delivering again after %llu failed attempt(s)", ep->url,
				 (unsigned long long)ep->fails);
			ep->fails = 0;
		}
		settle(s, id);
		lane_kick(s, id);
		return;
	}
	if (status == 429 || status >= 500) {
		stat_add(status == 429 ? &st->status_429 : &st->status_5xx, 1);
		stat_set(&st->up, 0);
		ep->fails++;
		log_limited(&ep->lim, LOG_LVL_WARN, "endpoint %s: HTTP %d%s; batch of %u series kept for retry",
			    ep->url, status, r->retry_after_s > 0 ? " with Retry-After" : "",
			    l->head->n_series);
		if (!failed(s, id, r->retry_after_s))
			lane_kick(s, id);
		return;
	}
	/* 4xx other than 429 (and the odd 3xx): the endpoint will never take
	 * this batch.  Drop it, count it, log what the endpoint said. */
	{
		char body[CONN_BODY_KEEP + 1];

		stat_add(status >= 400 ? &st->status_4xx : &st->status_other, 1);
		stat_set(&st->up, 1);
		stat_add(&ex->st->batches_dropped, 1);
		stat_add(&ex->st->series_dropped, l->head->n_series);
		printable(body, sizeof(body), r->body, r->body_len);
		log_limited(&ex->drop_lim, LOG_LVL_WARN,
			    "endpoint %s: HTTP %d, dropped a batch of %u series (not retryable): %s", ep->url,
			    status, l->head->n_series, body[0] ? body : "(empty body)");
		settle(s, id);
		lane_kick(s, id);
	}
}

/* --- public -------------------------------------------------------------- */

int lane_set_init(struct lane_set *s, const struct shm *shm, const struct cfg *c,
		  struct conn_pool *pool, uint64_t seed)
{
	uint32_t n = 0, k = 0;

	memset(s, 0, sizeof(*s));
	s->pool = pool;
	s->rng = seed;
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++)
		if (c->exporters[e].active)
			n += (uint32_t)(shm_lane_count(shm, e) * (int)shm->hdr->n_encoders);
	s->n = n;
	s->l = calloc(n ? n : 1, sizeof(*s->l));
	s->heap = calloc(n ? n : 1, sizeof(*s->heap));
	s->idle = calloc(n ? n : 1, sizeof(*s->idle));
	s->waitq = calloc(n ? n : 1, sizeof(*s->waitq));
	if (!s->l || !s->heap || !s->idle || !s->waitq) {
		lane_set_fini(s);
		return -ENOMEM;
	}
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		const struct cfg_exporter *x = &c->exporters[e];
		struct lane_exporter *ex = &s->ex[e];
		int qc;

		if (!x->active)
			continue;
		ex->cfg = x;
		ex->st = &shm->stats->exp[e];
		ex->n_ep = (uint32_t)x->n_endpoints;
		ex->min_backoff_ns = (int64_t)((x->min_backoff > 0 ? x->min_backoff : 0.03) * 1e9);
		ex->max_backoff_ns = (int64_t)((x->max_backoff > 0 ? x->max_backoff : 5) * 1e9);
		if (ex->max_backoff_ns < ex->min_backoff_ns)
			ex->max_backoff_ns = ex->min_backoff_ns;
		ex->timeout_ns = (int64_t)((x->request_timeout > 0 ? x->request_timeout : 30) * 1e9);
		/* DeepFlow: one random permutation at start-up, every lane starts at its head. */
		for (uint32_t i = 0; i < ex->n_ep; i++)
			ex->order[i] = conn_ep_id(pool, e, (int)i);
		lane_shuffle(&s->rng, ex->order, ex->n_ep);
		qc = shm_lane_count(shm, e);
		for (uint32_t enc = 0; enc < shm->hdr->n_encoders; enc++)
			for (int q = 0; q < qc; q++) {
				struct lane *l = &s->l[k];

				if (ring_cons_attach(&l->rc, shm_lane_ring(shm, e, (int)enc, q))) {
					log_err("exporter %d: lane ring %u.%d is not formatted", e, enc, q);
					lane_set_fini(s);
					return -EPROTO;
				}
				l->exporter = (uint8_t)e;
				l->encoder = (uint16_t)enc;
				l->q = (uint16_t)q;
				l->heap_idx = -1;
				l->state = LANE_READY;
				k++;
			}
		stat_set(&ex->st->lanes, (uint64_t)qc * shm->hdr->n_encoders);
		stat_set(&ex->st->lanes_backing_off, 0);
		for (uint32_t i = 0; i < ex->n_ep; i++)
			stat_set(&pool->ep[ex->order[i]].st->in_flight, 0);
	}
	pool->on_done = on_done;
	pool->on_slot_free = NULL;
	pool->ctx = s;
	return 0;
}

void lane_set_fini(struct lane_set *s)
{
	free(s->l);
	free(s->heap);
	free(s->idle);
	free(s->waitq);
	s->l = NULL;
	s->heap = s->idle = s->waitq = NULL;
}

void lane_kick_all(struct lane_set *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		lane_kick(s, i);
}

void lane_doorbell(struct lane_set *s)
{
	/* Backwards: a lane that goes idle again is appended past i. */
	for (uint32_t i = s->idle_n; i-- > 0;) {
		uint32_t id = s->idle[i], len;
		struct lane *l = &s->l[id];

		if (!ring_peek(&l->rc, &len) && !ring_drained(&l->rc))
			continue;
		idle_del(s, id);
		ring_cons_disarm(&l->rc);
		l->state = LANE_READY;
		lane_kick(s, id);
	}
}

void lane_service_waiters(struct lane_set *s)
{
	while (s->wait_n && s->pool->free != CONN_NONE) {
		uint32_t id = s->waitq[s->wait_head];

		s->wait_head = (s->wait_head + 1) % s->n;
		s->wait_n--;
		s->l[id].state = LANE_READY;
		lane_kick(s, id);
	}
}

void lane_timers(struct lane_set *s)
{
	while (s->heap_n && s->l[s->heap[0]].deadline_ns <= s->now_ns) {
		uint32_t id = s->heap[0];
		struct lane *l = &s->l[id];
		struct lane_exporter *ex = &s->ex[l->exporter];

		timer_cancel(s, l);
		if (l->state == LANE_BACKOFF) {
			set_backing_off(ex, -1);
			l->state = LANE_READY;
			lane_kick(s, id);
		} else if (l->state == LANE_FLIGHT) {
			struct conn_endpoint *ep = lane_ep(s, l);

			conn_abort(s->pool, l->conn);
			stat_add(&ep->st->in_flight, (uint64_t)-1);
			stat_add(&ep->st->transport_errors, 1);
			stat_set(&ep->st->up, 0);
			ep->fails++;
			observe_latency(ep->st, s->now_ns - l->started_ns);
			log_limited(&ep->lim, LOG_LVL_WARN,
				    "endpoint %s: no response within request-timeout (%.1f s); batch of %u series kept for retry",
				    ep->url, (double)ex->timeout_ns / 1e9, l->head->n_series);
			l->state = LANE_READY;
			if (!failed(s, id, -1))
				lane_kick(s, id);
		}
	}
}

uint64_t lane_count_undelivered(struct lane_set *s)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < s->n; i++) {
		struct lane *l = &s->l[i];
		uint64_t prod = __atomic_load_n((uint64_t *)&l->rc.hdr->prod_units, __ATOMIC_ACQUIRE);
		uint64_t cons = __atomic_load_n((uint64_t *)&l->rc.hdr->cons_units, __ATOMIC_ACQUIRE);
		uint64_t left = prod - cons;

		if (left) {
			stat_add(&s->ex[l->exporter].st->undelivered_series, left);
			total += left;
		}
	}
	return total;
}
