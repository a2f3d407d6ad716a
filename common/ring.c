/* SPDX-License-Identifier: MIT */
/* ring.c: shared-memory SPSC ring of variable-length records.
 *
 * Memory ordering, written once for the whole ring:
 *
 *  P1  the producer writes record bytes, then store-release `produced`.
 *  C1  the consumer load-acquires `produced` before reading records: pairs
 *      with P1, so every byte below `produced` is visible.
 *  C2  the consumer finishes reading, then store-releases `consumed`.
 *  P2  the producer load-acquires `consumed` before overwriting: pairs with
 *      C2, so the consumer is done with the bytes the producer reuses.
 *
 * Sleeping (the kernel's SQPOLL NEED_WAKEUP rule):
 *
 *  W1  a sleeper stores its `*_waiting` flag, issues a full fence, then
 *      re-checks the ring before blocking on its eventfd doorbell.
 *  W2  the waker publishes its index (P1/C2), issues a full fence, then
 *      loads the flag and rings the doorbell if it is set.
 *  With both fences, either the sleeper sees the new index or the waker
 *  sees the flag: no lost wake-up.
 *  W3  the waker that finds the flag set exchanges it to 0 before ringing,
 *      so a sleeper costs one eventfd write, not one per commit or release
 *      until it gets scheduled; the eventfd stays readable, so the sleeper
 *      wakes even if it only reaches poll() after the ring.
 *
 * `produced` has one writer (the producer), `consumed` one writer (the
 * consumer); ring_repair() writes an index only when it is impossible, and
 * leaves an aligned `produced` alone since its producer may be alive (see
 * ring.h for the contract with the surviving peer).  A waiting flag is set by its own side, and
 * cleared by its own side, by the peer that rings for it (W3) or by that
 * side's successor at attach; never by the repair.
 */
#include "common/ring.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING_SPINS 4096

static inline uint64_t rec_span(uint32_t len)
{
	return sizeof(struct ring_rec) + (((uint64_t)len + RING_REC_ALIGN - 1) & ~(uint64_t)(RING_REC_ALIGN - 1));
}

/* W2 after the caller's publish and fence, then W3. */
static inline void ring_wake(_Atomic uint32_t *waiting, int fd)
{
	if (atomic_load_explicit(waiting, memory_order_relaxed) &&
	    atomic_exchange_explicit(waiting, 0, memory_order_relaxed))
		ring_doorbell_ring(fd);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A corrupt index in shared memory would make us read or write outside the
 * area: always checked, and fatal for the process (the supervisor repairs). */
static void __attribute__((noreturn)) ring_corrupt(const struct ring_hdr *h, const char *what, uint64_t pos)
{
	fprintf(stderr, "ring %s: fatal: corrupt ring (%s at %llu)\n", h->name, what,
		(unsigned long long)pos);
	abort();
}

int ring_init(void *mem, size_t size, const char *name, int prod_doorbell, int cons_doorbell)
{
	struct ring_hdr *h = mem;

	if (size < 4096 || (size & (size - 1)) != 0)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	h->magic = RING_MAGIC;
	h->version = RING_VERSION;
	h->size = size;
	h->mask = size - 1;
	h->prod_doorbell = prod_doorbell;
	h->cons_doorbell = cons_doorbell;
	/* Half the area, so a record always fits after a pad. */
	h->max_record = (uint32_t)((size / 2 > UINT32_MAX ? UINT32_MAX : size / 2) - sizeof(struct ring_rec));
	snprintf(h->name, sizeof(h->name), "%s", name ? name : "");
	atomic_init(&h->produced, 0);
	atomic_init(&h->consumed, 0);
	return 0;
}

int ring_repair(struct ring_hdr *h)
{
	uint64_t prod = atomic_load(&h->produced);
	uint64_t cons = atomic_load(&h->consumed);
	int bad = prod - cons > h->size || (prod & 7) || (cons & 7);

	h->generation++;
	/*
	 * The waiting flags are left alone: the survivor may be asleep with its
	 * flag set, and clearing it would make the successor's first commit or
	 * release skip the doorbell, leaving the survivor asleep for good.  The
	 * dead side's stale flag is cleared by its successor's attach.
	 */
	if (bad) {
		/*
		 * An aligned `produced` is a commit point written by a producer
		 * that may still be running: move only `consumed` up to it, so a
		 * live producer just sees space appear.  Otherwise `produced`
		 * itself is garbage and both restart from it, rounded down.
		 */
		if (!(prod & 7)) {
			atomic_store(&h->consumed, prod);
		} else {
			atomic_store(&h->produced, prod & ~(uint64_t)7);
			atomic_store(&h->consumed, prod & ~(uint64_t)7);
		}
		atomic_store(&h->cons_units, atomic_load(&h->prod_units));
	}
	/*
	 * A survivor asleep on a ring that was just emptied would have nobody
	 * left to wake it, and one asleep on a sound ring only re-checks: one
	 * ring each is always enough and never harmful.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	ring_doorbell_ring(h->prod_doorbell);
	ring_doorbell_ring(h->cons_doorbell);
	return bad;
}

static int ring_check(const struct ring_hdr *h)
{
	if (h->magic != RING_MAGIC || h->version != RING_VERSION || h->size == 0 ||
	    (h->size & h->mask) != 0)
		return -EPROTO;
	return 0;
}

int ring_prod_attach(struct ring_prod *p, void *mem)
{
	struct ring_hdr *h = mem;

	if (ring_check(h))
		return -EPROTO;
	p->hdr = h;
	p->data = (uint8_t *)mem + RING_HDR_SIZE;
	/* Only committed records survive a producer's death: resume there. */
	p->head = atomic_load_explicit(&h->produced, memory_order_relaxed);
	p->cached_consumed = atomic_load_explicit(&h->consumed, memory_order_acquire); /* P2 */
	p->last_rec = p->head;
	/* A predecessor killed while armed left its flag set; the consumer
	 * would then ring the doorbell on every release for nobody. */
	atomic_store_explicit(&h->prod_waiting, 0, memory_order_relaxed);
	return 0;
}

int ring_cons_attach(struct ring_cons *c, void *mem)
{
	struct ring_hdr *h = mem;

	if (ring_check(h))
		return -EPROTO;
	c->hdr = h;
	c->data = (uint8_t *)mem + RING_HDR_SIZE;
	/* Records not released by a dead consumer are read again. */
	c->cursor = atomic_load_explicit(&h->consumed, memory_order_relaxed);
	c->next = c->cursor;
	c->cached_produced = atomic_load_explicit(&h->produced, memory_order_acquire); /* C1 */
	/* As for the producer: a dead predecessor's flag would cost the
	 * producer a doorbell write on every commit. */
	atomic_store_explicit(&h->cons_waiting, 0, memory_order_relaxed);
	return 0;
}

/* --- producer ------------------------------------------------------------ */

void *ring_reserve(struct ring_prod *p, uint32_t len)
{
	struct ring_hdr *h = p->hdr;
	uint64_t need, idx, till_end, total;
	struct ring_rec *rec;

	if (len > h->max_record) {
		errno = EMSGSIZE;
		return NULL;
	}
	need = rec_span(len);
	idx = p->head & h->mask;
	till_end = h->size - idx;
	total = need > till_end ? till_end + need : need;
	if (p->head + total - p->cached_consumed > h->size) {
		p->cached_consumed = atomic_load_explicit(&h->consumed, memory_order_acquire); /* P2 */
		if (p->head - p->cached_consumed > h->size)
			ring_corrupt(h, "consumed ahead of producer", p->cached_consumed);
		if (p->head + total - p->cached_consumed > h->size) {
			errno = EAGAIN;
			return NULL;
		}
	}
	if (need > till_end) {
		rec = (struct ring_rec *)(p->data + idx);
		rec->len = (uint32_t)(till_end - sizeof(*rec));
		rec->type = RING_REC_PAD;
		p->head += till_end;
		idx = 0;
	}
	rec = (struct ring_rec *)(p->data + idx);
	rec->len = len;
	rec->type = RING_REC_DATA;
	p->last_rec = p->head;
	p->head += need;
	return rec + 1;
}

void ring_trim(struct ring_prod *p, uint32_t len)
{
	struct ring_rec *rec = (struct ring_rec *)(p->data + (p->last_rec & p->hdr->mask));

	if (len > rec->len)
		ring_corrupt(p->hdr, "trim grows record", p->last_rec);
	p->head = p->last_rec + rec_span(len);
	rec->len = len;
}

void ring_commit(struct ring_prod *p, uint64_t units)
{
	struct ring_hdr *h = p->hdr;

	if (units)
		atomic_store_explicit(&h->prod_units,
				      atomic_load_explicit(&h->prod_units, memory_order_relaxed) + units,
				      memory_order_relaxed);
	atomic_store_explicit(&h->produced, p->head, memory_order_release); /* P1 */
	atomic_thread_fence(memory_order_seq_cst);                           /* W2 */
	ring_wake(&h->cons_waiting, h->cons_doorbell);
}

bool ring_prod_arm(struct ring_prod *p, uint32_t len)
{
	struct ring_hdr *h = p->hdr;
	uint64_t need = rec_span(len), idx = p->head & h->mask, till_end = h->size - idx;
	uint64_t total = need > till_end ? till_end + need : need;

	atomic_store_explicit(&h->prod_waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst); /* W1 */
	p->cached_consumed = atomic_load_explicit(&h->consumed, memory_order_acquire); /* P2 */
	if (p->head + total - p->cached_consumed > h->size)
		return true;
	atomic_store_explicit(&h->prod_waiting, 0, memory_order_relaxed);
	return false;
}

void ring_prod_disarm(struct ring_prod *p)
{
	atomic_store_explicit(&p->hdr->prod_waiting, 0, memory_order_relaxed);
}

void *ring_reserve_wait(struct ring_prod *p, uint32_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	void *ptr;

	for (;;) {
		for (int i = 0; i < RING_SPINS; i++) {
			ptr = ring_reserve(p, len);
			if (ptr || errno == EMSGSIZE)
				return ptr;
			cpu_relax();
		}
		if (ring_prod_arm(p, len)) {
			int left = deadline < 0 ? 1000 : (int)(deadline - now_ms());

			if (deadline >= 0 && left <= 0) {
				ring_prod_disarm(p);
				errno = ETIMEDOUT;
				return NULL;
			}
			/* Bounded sleeps: a missing doorbell only costs latency. */
			ring_doorbell_wait(p->hdr->prod_doorbell, left > 100 ? 100 : left);
			ring_prod_disarm(p);
		}
	}
}

void ring_close(struct ring_prod *p)
{
	struct ring_hdr *h = p->hdr;

	atomic_store_explicit(&h->closed, 1, memory_order_release); /* pairs with ring_drained */
	atomic_thread_fence(memory_order_seq_cst);                   /* W2 */
	ring_wake(&h->cons_waiting, h->cons_doorbell);
}

uint64_t ring_free_bytes(struct ring_prod *p)
{
	p->cached_consumed = atomic_load_explicit(&p->hdr->consumed, memory_order_acquire); /* P2 */
	return p->hdr->size - (p->head - p->cached_consumed);
}

/* --- consumer ------------------------------------------------------------ */

const void *ring_peek(struct ring_cons *c, uint32_t *len)
{
	struct ring_hdr *h = c->hdr;
	const struct ring_rec *rec;
	uint64_t span;

	for (;;) {
		if (c->cursor == c->cached_produced) {
			c->cached_produced = atomic_load_explicit(&h->produced, memory_order_acquire); /* C1 */
			if (c->cursor == c->cached_produced)
				return NULL;
		}
		if (c->cached_produced - c->cursor > h->size)
			ring_corrupt(h, "produced out of range", c->cached_produced);
		rec = (const struct ring_rec *)(c->data + (c->cursor & h->mask));
		span = rec_span(rec->len);
		if ((rec->type != RING_REC_DATA && rec->type != RING_REC_PAD) ||
		    span > c->cached_produced - c->cursor ||
		    (c->cursor & h->mask) + span > h->size)
			ring_corrupt(h, "bad record", c->cursor);
		if (rec->type == RING_REC_PAD) {
			c->cursor += span;
			continue;
		}
		c->next = c->cursor + span;
		*len = rec->len;
		return rec + 1;
	}
}

void ring_advance(struct ring_cons *c)
{
	if (c->next > c->cursor)
		c->cursor = c->next;
}

void ring_release_to(struct ring_cons *c, uint64_t pos, uint64_t units)
{
	struct ring_hdr *h = c->hdr;

	if (pos > c->cursor)
		ring_corrupt(h, "release past cursor", pos);
	if (units)
		atomic_store_explicit(&h->cons_units,
				      atomic_load_explicit(&h->cons_units, memory_order_relaxed) + units,
				      memory_order_relaxed);
	atomic_store_explicit(&h->consumed, pos, memory_order_release); /* C2 */
	atomic_thread_fence(memory_order_seq_cst);                       /* W2 */
	ring_wake(&h->prod_waiting, h->prod_doorbell);
}

void ring_release(struct ring_cons *c, uint64_t units)
{
	ring_release_to(c, c->cursor, units);
}

bool ring_cons_arm(struct ring_cons *c)
{
	struct ring_hdr *h = c->hdr;

	atomic_store_explicit(&h->cons_waiting, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst); /* W1 */
	c->cached_produced = atomic_load_explicit(&h->produced, memory_order_acquire); /* C1 */
	if (c->cursor == c->cached_produced && !atomic_load_explicit(&h->closed, memory_order_acquire))
		return true;
	atomic_store_explicit(&h->cons_waiting, 0, memory_order_relaxed);
	return false;
}

void ring_cons_disarm(struct ring_cons *c)
{
	atomic_store_explicit(&c->hdr->cons_waiting, 0, memory_order_relaxed);
}

bool ring_drained(struct ring_cons *c)
{
	struct ring_hdr *h = c->hdr;

	if (!atomic_load_explicit(&h->closed, memory_order_acquire)) /* pairs with ring_close */
		return false;
	c->cached_produced = atomic_load_explicit(&h->produced, memory_order_acquire); /* C1 */
	if (c->cursor == c->cached_produced)
		return true;
	/* Only pad records may remain. */
	uint32_t len;
	return ring_peek(c, &len) == NULL;
}

const void *ring_peek_wait(struct ring_cons *c, uint32_t *len, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	const void *rec;

	for (;;) {
		for (int i = 0; i < RING_SPINS; i++) {
			rec = ring_peek(c, len);
			if (rec)
				return rec;
			cpu_relax();
		}
		if (ring_drained(c))
			return NULL;
		if (ring_cons_arm(c)) {
			int left = deadline < 0 ? 1000 : (int)(deadline - now_ms());

			if (deadline >= 0 && left <= 0) {
				ring_cons_disarm(c);
				return NULL;
			}
			ring_doorbell_wait(c->hdr->cons_doorbell, left > 100 ? 100 : left);
			ring_cons_disarm(c);
		} else if (deadline >= 0 && now_ms() >= deadline) {
			return ring_peek(c, len);
		}
	}
}

uint64_t ring_used_bytes(const struct ring_hdr *h)
{
	uint64_t cons = atomic_load_explicit(&((struct ring_hdr *)h)->consumed, memory_order_acquire);
	uint64_t prod = atomic_load_explicit(&((struct ring_hdr *)h)->produced, memory_order_acquire);

	return prod - cons;
}

int ring_doorbell_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t v;
	int n;

	if (fd < 0) {
		if (timeout_ms > 0)
			usleep((useconds_t)(timeout_ms > 10 ? 10 : timeout_ms) * 1000);
		return 0;
	}
	n = poll(&pfd, 1, timeout_ms);
	if (n == -1)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	/* eventfds are created non-blocking: a racing reader just gets EAGAIN. */
	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		return -errno;
	return 1;
}

void ring_doorbell_ring(int fd)
{
	uint64_t one = 1;

	if (fd < 0)
		return;
	/* EAGAIN means the counter is saturated: the sleeper wakes anyway. */
	if (write(fd, &one, sizeof(one)) == -1) {
		/* nothing useful to do */
	}
}
