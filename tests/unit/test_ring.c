/* SPDX-License-Identifier: MIT */
/* test_ring.c: the shared-memory SPSC ring between real processes over a memfd. */
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ring.h"

/* --- fixture: one memfd holding a control area and a ring ---------------- */

struct area {
	int fd;
	size_t size;
	void *ctl;      /* test-private shared counters, ctl_bytes long */
	void *ring;     /* ring_footprint(ring_size) bytes */
	size_t ring_size;
	int prod_bell, cons_bell;
};

static void area_make(struct area *a, size_t ring_size, size_t ctl_bytes)
{
	ctl_bytes = (ctl_bytes + 4095) & ~(size_t)4095;
	a->fd = memfd_create("test-ring", MFD_CLOEXEC);
	cr_assert_neq(a->fd, -1);
	a->size = ctl_bytes + ring_footprint(ring_size);
	cr_assert_eq(ftruncate(a->fd, (off_t)a->size), 0);
	a->ctl = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	cr_assert_neq(a->ctl, MAP_FAILED);
	a->ring = (char *)a->ctl + ctl_bytes;
	a->ring_size = ring_size;
	a->prod_bell = eventfd(0, EFD_NONBLOCK);
	a->cons_bell = eventfd(0, EFD_NONBLOCK);
	cr_assert(a->prod_bell >= 0 && a->cons_bell >= 0);
	cr_assert_eq(ring_init(a->ring, ring_size, "test", a->prod_bell, a->cons_bell), 0);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Record <seq>: its length and content follow from seq alone, so a
 * consumer can check every byte.  Layout: seq (8 bytes), then words. */
static uint32_t rec_len(uint64_t seq, uint32_t small, uint32_t big)
{
	uint64_t r = splitmix(seq);

	if (big && (r & 63) == 0)
		return 8 + (uint32_t)((r >> 8) % big);
	return 8 + (uint32_t)((r >> 8) % small);
}

static uint64_t rec_fill(uint8_t *p, uint64_t seq, uint32_t len)
{
	uint64_t w = splitmix(seq ^ 0xabcdef), sum = seq;
	uint32_t i;

	memcpy(p, &seq, 8);
	for (i = 8; i + 8 <= len; i += 8, w += 0x9e3779b97f4a7c15ULL) {
		memcpy(p + i, &w, 8);
		sum += w;
	}
	for (; i < len; i++) {
		p[i] = (uint8_t)(w >> ((i & 7) * 8));
		sum += p[i];
	}
	return sum;
}

/* Returns the record's checksum contribution, or 0 with *ok false. */
static uint64_t rec_check(const uint8_t *p, uint32_t len, uint64_t seq, uint32_t small, uint32_t big,
			  bool *ok)
{
	uint64_t w = splitmix(seq ^ 0xabcdef), sum = seq, got;
	uint32_t i;

	*ok = false;
	if (len != rec_len(seq, small, big))
		return 0;
	memcpy(&got, p, 8);
	if (got != seq)
		return 0;
	for (i = 8; i + 8 <= len; i += 8, w += 0x9e3779b97f4a7c15ULL) {
		memcpy(&got, p + i, 8);
		if (got != w)
			return 0;
		sum += w;
	}
	for (; i < len; i++) {
		if (p[i] != (uint8_t)(w >> ((i & 7) * 8)))
			return 0;
		sum += p[i];
	}
	*ok = true;
	return sum;
}

static uint64_t rec_seq(const void *p)
{
	uint64_t s;

	memcpy(&s, p, 8);
	return s;
}

/* Produce records first..last (inclusive), committing in random batches
 * of 1..max_batch; returns the checksum of what was committed, or exits 2
 * if the ring stays full for 10 s.  Sleeps <pause_us> every <pause_every>
 * records when both are non-zero. */
static uint64_t produce(struct ring_prod *p, uint64_t first, uint64_t last, uint32_t small, uint32_t big,
			uint32_t max_batch, uint32_t pause_every, uint32_t pause_us)
{
	uint64_t sum = 0, seq = first, rng = first * 7 + 1;

	while (seq <= last) {
		uint32_t batch = 1 + (uint32_t)((rng = splitmix(rng)) % max_batch), n;

		for (n = 0; n < batch && seq <= last; n++, seq++) {
			uint32_t len = rec_len(seq, small, big);
			void *dst = ring_reserve_wait(p, len, 10000);

			if (!dst)
				_exit(2);
			sum += rec_fill(dst, seq, len);
		}
		ring_commit(p, n);
		if (pause_every && seq % pause_every == 0)
			usleep(pause_us);
	}
	return sum;
}

static void wait_child(pid_t pid, int *status)
{
	cr_assert_eq(waitpid(pid, status, 0), pid);
}

/* Sleep on an eventfd doorbell the way an armed peer does, but bounded:
 * 1 if it was rung, 0 if <ms> passed (a lost wake-up), -1 on error.  The
 * bound is what lets a child outlive a failed test by seconds, not forever. */
static int bell_sleep(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t v;
	int n = poll(&pfd, 1, ms);

	if (n <= 0)
		return n == 0 ? 0 : (errno == EINTR ? 1 : -1);
	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		return -1;
	return 1;
}

/* The next record, sleeping on <bell> while the ring is empty with no
 * fallback poll: only a ring of the doorbell wakes it.  NULL when a sleep
 * ran 10 s without one (a lost wake-up). */
static const void *peek_sleeping(struct ring_cons *c, uint32_t *len, int bell)
{
	const void *r;

	while (!(r = ring_peek(c, len))) {
		if (ring_cons_arm(c)) {
			if (bell_sleep(bell, 10000) != 1)
				return NULL;
			ring_cons_disarm(c);
		}
	}
	return r;
}

/* The producer's side of peek_sleeping(): room for <len> bytes, or NULL. */
static void *reserve_sleeping(struct ring_prod *p, uint32_t len, int bell)
{
	void *dst;

	while (!(dst = ring_reserve(p, len))) {
		if (ring_prod_arm(p, len)) {
			if (bell_sleep(bell, 10000) != 1)
				return NULL;
			ring_prod_disarm(p);
		}
	}
	return dst;
}

/* --- single process -------------------------------------------------------- */

Test(ring, init_refuses_bad_sizes)
{
	static uint8_t mem[RING_HDR_SIZE + 8192] __attribute__((aligned(64)));

	cr_assert_eq(ring_init(mem, 1000, "x", -1, -1), -EINVAL);
	cr_assert_eq(ring_init(mem, 2048, "x", -1, -1), -EINVAL);
	cr_assert_eq(ring_init(mem, 6144, "x", -1, -1), -EINVAL);
	cr_assert_eq(ring_init(mem, 8192, "x", -1, -1), 0);
	mem[0] ^= 1; /* magic */
	struct ring_prod p;
	cr_assert_eq(ring_prod_attach(&p, mem), -EPROTO);
}

Test(ring, wraps_with_pad_and_keeps_records_contiguous)
{
	static uint8_t mem[RING_HDR_SIZE + 4096] __attribute__((aligned(64)));
	struct ring_prod p;
	struct ring_cons c;
	uint64_t seq_in = 1, seq_out = 1;

	cr_assert_eq(ring_init(mem, 4096, "w", -1, -1), 0);
	cr_assert_eq(ring_prod_attach(&p, mem), 0);
	cr_assert_eq(ring_cons_attach(&c, mem), 0);
	/* Odd sizes so the area end falls inside records many times. */
	for (int round = 0; round < 5000; round++) {
		int n = 0;
		uint32_t len;
		const void *r;

		for (;;) {
			uint32_t l = rec_len(seq_in, 900, 0);
			void *dst = ring_reserve(&p, l);

			if (!dst)
				break;
			rec_fill(dst, seq_in++, l);
			n++;
		}
		cr_assert_eq(errno, EAGAIN);
		cr_assert(n > 0);
		ring_commit(&p, (uint64_t)n);
		cr_assert(ring_used_bytes(p.hdr) <= 4096);
		while ((r = ring_peek(&c, &len))) {
			bool ok;

			rec_check(r, len, seq_out, 900, 0, &ok);
			cr_assert(ok, "record %llu", (unsigned long long)seq_out);
			cr_assert((uintptr_t)r % 8 == 0);
			cr_assert((const uint8_t *)r + len <= mem + sizeof(mem));
			seq_out++;
			ring_advance(&c);
		}
		ring_release(&c, (uint64_t)n);
	}
	cr_assert_eq(seq_in, seq_out);
	cr_assert(atomic_load(&p.hdr->produced) > 4096 * 1000, "must have wrapped many times");
	cr_assert_eq(atomic_load(&p.hdr->prod_units), seq_in - 1);
	cr_assert_eq(atomic_load(&p.hdr->cons_units), seq_in - 1);
}

Test(ring, trim_emsgsize_and_release_to)
{
	static uint8_t mem[RING_HDR_SIZE + 8192] __attribute__((aligned(64)));
	struct ring_prod p;
	struct ring_cons c;
	uint32_t len;
	uint8_t *w;
	const uint8_t *r;
	uint64_t pos;

	cr_assert_eq(ring_init(mem, 8192, "t", -1, -1), 0);
	cr_assert_eq(ring_prod_attach(&p, mem), 0);
	cr_assert_eq(ring_cons_attach(&c, mem), 0);
	errno = 0;
	cr_assert_null(ring_reserve(&p, p.hdr->max_record + 1));
	cr_assert_eq(errno, EMSGSIZE);
	cr_assert_not_null(ring_reserve(&p, p.hdr->max_record));
	ring_trim(&p, 3);
	ring_commit(&p, 1);
	w = ring_reserve(&p, 100);
	memset(w, 'b', 100);
	ring_trim(&p, 10);
	ring_commit(&p, 1);
	cr_assert_eq(ring_used_bytes(p.hdr), 16 + 24);

	r = ring_peek(&c, &len);
	cr_assert_eq(len, 3);
	ring_advance(&c);
	pos = ring_cursor(&c);
	r = ring_peek(&c, &len);
	cr_assert_eq(len, 10);
	cr_assert_eq(r[9], 'b');
	ring_advance(&c);
	/* Hold the second record: release only the first. */
	ring_release_to(&c, pos, 1);
	cr_assert_eq(ring_used_bytes(p.hdr), 24);
	/* A successor starts at the released position and sees record 2 again. */
	struct ring_cons c2;
	cr_assert_eq(ring_cons_attach(&c2, mem), 0);
	r = ring_peek(&c2, &len);
	cr_assert_eq(len, 10);
	ring_close(&p);
	cr_assert_not(ring_drained(&c2));
	ring_advance(&c2);
	cr_assert(ring_drained(&c2));
}

Test(ring, repair_resets_impossible_indices_only)
{
	static uint8_t mem[RING_HDR_SIZE + 4096] __attribute__((aligned(64)));
	struct ring_hdr *h = (struct ring_hdr *)mem;
	struct ring_prod p;
	struct ring_cons c;
	uint32_t len, gen;

	cr_assert_eq(ring_init(mem, 4096, "r", -1, -1), 0);
	cr_assert_eq(ring_prod_attach(&p, mem), 0);
	rec_fill(ring_reserve(&p, 64), 1, 64);
	ring_commit(&p, 1);
	gen = h->generation;
	/* Both peers armed: the repair must leave the survivor's flag set. */
	atomic_store(&h->prod_waiting, 1);
	atomic_store(&h->cons_waiting, 1);
	cr_assert_eq(ring_repair(h), 0);
	cr_assert_eq(h->generation, gen + 1);
	cr_assert_eq(ring_used_bytes(h), 72, "a sound ring keeps its records");
	cr_assert_eq(atomic_load(&h->prod_waiting), 1);
	cr_assert_eq(atomic_load(&h->cons_waiting), 1);
	/* A successor clears only its own side's stale flag. */
	cr_assert_eq(ring_cons_attach(&c, mem), 0);
	cr_assert_eq(atomic_load(&h->cons_waiting), 0);
	cr_assert_eq(atomic_load(&h->prod_waiting), 1);
	cr_assert_eq(ring_prod_attach(&p, mem), 0);
	cr_assert_eq(atomic_load(&h->prod_waiting), 0);

	atomic_store(&h->produced, atomic_load(&h->consumed) + 4096 + 8);
	cr_assert_eq(ring_repair(h), 1);
	cr_assert_eq(ring_used_bytes(h), 0);
	atomic_store(&h->consumed, 13);
	cr_assert_eq(ring_repair(h), 1);
	cr_assert_eq(ring_used_bytes(h), 0);
	cr_assert_eq(atomic_load(&h->produced) % 8, 0);
	/* Consumed ahead of produced: an aligned `produced` may belong to a
	 * live producer, so only `consumed` is moved. */
	atomic_store(&h->consumed, 4096 + 16);
	cr_assert_eq(ring_repair(h), 1);
	cr_assert_eq(atomic_load(&h->produced), 4096 + 8);
	cr_assert_eq(atomic_load(&h->consumed), 4096 + 8);
	/* A torn `produced` is what restarts both. */
	atomic_store(&h->produced, 4096 + 8 + 64 + 3);
	cr_assert_eq(ring_repair(h), 1);
	cr_assert_eq(atomic_load(&h->produced), 4096 + 8 + 64);
	cr_assert_eq(ring_used_bytes(h), 0);
	/* Usable again by fresh peers. */
	cr_assert_eq(ring_prod_attach(&p, mem), 0);
	cr_assert_eq(ring_cons_attach(&c, mem), 0);
	rec_fill(ring_reserve(&p, 64), 2, 64);
	ring_commit(&p, 1);
	cr_assert_eq(rec_seq(ring_peek(&c, &len)), 2);
}

/* --- two processes --------------------------------------------------------- */

#define BIG_N     10000000ULL
#define BIG_SMALL 120   /* most records 8..127 bytes */
#define BIG_BIG   8192  /* one in 64 up to 8 KiB */

struct big_ctl {
	_Atomic uint64_t prod_sum;
	_Atomic uint32_t prod_done;
};

Test(ring, two_processes_move_10m_random_records_with_checksums, .timeout = 120)
{
	struct area a;
	struct big_ctl *ctl;
	struct ring_cons c;
	uint64_t seq = 1, sum = 0, held = 0, wraps_at;
	int status;
	pid_t pid;

	area_make(&a, 256 * 1024, sizeof(*ctl));
	ctl = a.ctl;
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ring_prod p;

		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		atomic_store(&ctl->prod_sum, produce(&p, 1, BIG_N, BIG_SMALL, BIG_BIG, 32, 0, 0));
		atomic_store(&ctl->prod_done, 1);
		ring_close(&p);
		_exit(0);
	}
	cr_assert_eq(ring_cons_attach(&c, a.ring), 0);
	for (;;) {
		uint32_t len;
		const void *r = ring_peek(&c, &len);
		bool ok;

		if (!r) {
			/* Release before sleeping, or a producer waiting for the
			 * bytes we hold would never be woken. */
			if (held)
				ring_release(&c, held);
			held = 0;
			r = ring_peek_wait(&c, &len, 10000);
			if (!r)
				break;
		}
		sum += rec_check(r, len, seq, BIG_SMALL, BIG_BIG, &ok);
		if (!ok)
			cr_assert_fail("record %llu damaged or out of order (got seq %llu, len %u)",
				 (unsigned long long)seq, (unsigned long long)rec_seq(r), len);
		seq++;
		ring_advance(&c);
		if (++held == 1 + (seq & 63)) {
			ring_release(&c, held);
			held = 0;
		}
	}
	ring_release(&c, held);
	wait_child(pid, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "producer status %#x", status);
	cr_assert(ring_drained(&c), "the consumer stopped before the end");
	cr_assert_eq(seq - 1, BIG_N);
	cr_assert_eq(atomic_load(&ctl->prod_sum), sum, "checksums differ");
	cr_assert_eq(atomic_load(&c.hdr->prod_units), BIG_N);
	cr_assert_eq(atomic_load(&c.hdr->cons_units), BIG_N);
	wraps_at = atomic_load(&c.hdr->produced) / a.ring_size;
	cr_assert(wraps_at > 1000, "only %llu wraps", (unsigned long long)wraps_at);
}

/* Consumer generations: each records what it saw and released. */
#define KILL_N     400000ULL
#define KILL_GENS  12

struct kill_gen {
	_Atomic uint64_t first;   /* first seq seen, 0 = none */
	_Atomic uint64_t last;    /* last seq seen */
	_Atomic uint64_t intent;  /* every seq <= intent may be released */
	_Atomic uint64_t done;    /* every seq <= done is released */
};

struct kill_ctl {
	struct kill_gen gen[KILL_GENS];
	_Atomic uint8_t seen[KILL_N + 1];
};

static void __attribute__((noreturn)) kill_consumer(struct area *a, struct kill_gen *g, struct kill_ctl *ctl)
{
	struct ring_cons c;
	uint64_t expect = 0, held = 0, rng = (uint64_t)getpid();

	if (ring_cons_attach(&c, a->ring))
		_exit(3);
	for (;;) {
		uint32_t len;
		const void *r = ring_peek(&c, &len);
		uint64_t seq;
		bool ok;

		if (!r) {
			/* Like an encoder with partial batches, it sleeps holding
			 * records (at most 200 x 216 bytes, well under the 64 KiB
			 * ring, so the producer always has room to go on). */
			r = ring_peek_wait(&c, &len, 10000);
			if (!r)
				_exit(ring_drained(&c) ? 0 : 4);
		}
		seq = rec_seq(r);
		if (expect && seq != expect)
			_exit(5); /* out of order or a gap */
		rec_check(r, len, seq, 200, 0, &ok);
		if (!ok || seq == 0 || seq > KILL_N)
			_exit(6);
		if (!expect)
			atomic_store(&g->first, seq);
		expect = seq + 1;
		atomic_fetch_add(&ctl->seen[seq], 1);
		atomic_store(&g->last, seq);
		ring_advance(&c);
		if (++held >= 1 + ((rng = splitmix(rng)) % 200)) {
			atomic_store(&g->intent, seq);
			ring_release(&c, held);
			atomic_store(&g->done, seq);
			held = 0;
		}
	}
}

/* Wait until the consumer of generation <g> has seen record <target>; false
 * after <ms> (it is stuck or dead). */
static bool wait_seen(const struct kill_gen *g, uint64_t target, int ms)
{
	int64_t t0 = now_us();

	while (atomic_load(&g->last) < target) {
		if (now_us() - t0 > (int64_t)ms * 1000)
			return false;
		usleep(50);
	}
	return true;
}

/*
 * Kills are placed by records consumed, not by time, so every one lands
 * mid-stream however slow the machine is: generation k dies once it has
 * seen about k/KILL_GENS of the stream.  Odd generations are killed while
 * busy, even ones preferably while asleep on the doorbell (their waiting
 * flag left set); either way they usually hold unreleased records.
 */
Test(ring, consumer_sigkilled_midstream_and_replaced_loses_nothing, .timeout = 60)
{
	struct area a;
	struct kill_ctl *ctl;
	struct ring_hdr *h;
	pid_t prod, cons;
	int status, gens = 0, kills = 0, asleep = 0;
	uint64_t seed = (uint64_t)time(NULL), rng = seed, dups = 0, expect_dups = 0;

	area_make(&a, 64 * 1024, sizeof(*ctl));
	ctl = a.ctl;
	h = a.ring;
	prod = fork();
	cr_assert_neq(prod, -1);
	if (prod == 0) {
		struct ring_prod p;

		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		/* Short pauses let the consumer drain and go to sleep now and then. */
		produce(&p, 1, KILL_N, 200, 0, 16, 4000, 5000);
		ring_close(&p);
		_exit(0);
	}
	for (;;) {
		struct kill_gen *g = &ctl->gen[gens];
		uint64_t target, span = KILL_N / KILL_GENS;
		bool seen;

		if (gens > 0) {
			atomic_store(&g->intent, atomic_load(&ctl->gen[gens - 1].intent));
			atomic_store(&g->done, atomic_load(&ctl->gen[gens - 1].done));
		}
		cons = fork();
		cr_assert_neq(cons, -1);
		if (cons == 0)
			kill_consumer(&a, g, ctl);
		gens++;
		if (gens == KILL_GENS)
			break;
		/* Somewhere in the middle half of this generation's share. */
		target = (uint64_t)(gens - 1) * span + span / 4 + (rng = splitmix(rng)) % (span / 2);
		seen = wait_seen(g, target, 10000);
		if (seen && gens % 2 == 0) {
			int64_t t0 = now_us();

			while (!atomic_load(&h->cons_waiting) && now_us() - t0 < 500000)
				usleep(20);
			asleep += atomic_load(&h->cons_waiting) != 0;
		}
		kill(cons, SIGKILL);
		wait_child(cons, &status);
		if (!seen) {
			kill(prod, SIGKILL);
			cr_assert_fail("generation %d never reached record %llu (at %llu, seed %llu)", gens - 1,
				       (unsigned long long)target, (unsigned long long)atomic_load(&g->last),
				       (unsigned long long)seed);
		}
		cr_assert(WIFSIGNALED(status), "consumer %d ended before its kill: status %#x", gens - 1,
			  status);
		kills++;
		/* The supervisor's part, while the producer keeps running. */
		cr_assert_eq(ring_repair(a.ring), 0, "indices of a killed consumer are sound");
	}
	wait_child(cons, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "last consumer status %#x", status);
	wait_child(prod, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "producer status %#x", status);
	cr_assert_eq(kills, KILL_GENS - 1);

	for (uint64_t s = 1; s <= KILL_N; s++) {
		cr_assert(ctl->seen[s] >= 1, "record %llu lost (seed %llu)", (unsigned long long)s,
			  (unsigned long long)seed);
		dups += ctl->seen[s] - 1u;
	}
	for (int k = 1; k < gens; k++) {
		struct kill_gen *prev = &ctl->gen[k - 1], *g = &ctl->gen[k];
		uint64_t first = atomic_load(&g->first);

		cr_assert_neq(first, 0, "gen %d saw nothing", k);
		/* Nothing released is seen again, nothing unreleased is skipped. */
		cr_assert(first > atomic_load(&prev->done), "gen %d re-read released record %llu", k,
			  (unsigned long long)first);
		cr_assert(first <= atomic_load(&prev->intent) + 1, "gen %d skipped to %llu", k,
			  (unsigned long long)first);
		if (atomic_load(&prev->last) >= first)
			expect_dups += atomic_load(&prev->last) - first + 1;
	}
	cr_assert_eq(dups, expect_dups, "duplicates beyond the unreleased records");
	/* Each kill finds records held unless it falls right after a release:
	 * none at all would mean the re-read path was never exercised. */
	cr_assert(dups > 0, "no kill caught unreleased records");
	cr_log_info("ring kill test: %d kills (%d asleep), %llu re-reads of unreleased records, seed %llu",
		    kills, asleep, (unsigned long long)dups, (unsigned long long)seed);
}

static long proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	/* fields after the comm: state(3) ... utime(14) stime(15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

struct full_ctl {
	_Atomic uint64_t committed;
};

Test(ring, full_ring_blocks_producer_until_space_frees, .timeout = 30)
{
	struct area a;
	struct full_ctl *ctl;
	struct ring_cons c;
	uint64_t last, seq = 1;
	int64_t t0, waited;
	long ticks0, ticks1;
	uint32_t len;
	int status;
	pid_t pid;

	area_make(&a, 64 * 1024, sizeof(*ctl));
	ctl = a.ctl;
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ring_prod p;

		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		for (uint64_t s = 1; s <= 2000; s++) {
			/* Far longer than the test keeps it blocked. */
			void *dst = ring_reserve_wait(&p, 1000, 20000);

			if (!dst)
				_exit(2);
			memset(dst, (int)(s & 0xff), 1000);
			memcpy(dst, &s, 8);
			ring_commit(&p, 1);
			atomic_store(&ctl->committed, s);
		}
		ring_close(&p);
		_exit(0);
	}
	/* Wait until the producer stops making progress. */
	t0 = now_us();
	do {
		last = atomic_load(&ctl->committed);
		usleep(200000);
	} while (atomic_load(&ctl->committed) != last && now_us() - t0 < 5000000);
	cr_assert_eq(last, 64 * 1024 / 1008, "ring holds exactly what fits");
	cr_assert(ring_used_bytes(a.ring) > 64 * 1024 - 1008);
	/* Blocked means asleep, not spinning. */
	ticks0 = proc_cpu_ticks(pid);
	usleep(500000);
	ticks1 = proc_cpu_ticks(pid);
	cr_assert(ticks0 >= 0 && ticks1 - ticks0 <= 5, "blocked producer used %ld ticks in 0.5 s",
		  ticks1 - ticks0);
	cr_assert_eq(atomic_load(&ctl->committed), last);

	/* One release wakes it through its doorbell (its fallback poll is 100 ms). */
	cr_assert_eq(ring_cons_attach(&c, a.ring), 0);
	cr_assert_not_null(ring_peek(&c, &len));
	ring_advance(&c);
	t0 = now_us();
	ring_release(&c, 1);
	while (atomic_load(&ctl->committed) == last && now_us() - t0 < 2000000)
		usleep(100);
	waited = now_us() - t0;
	cr_assert(waited < 50000, "producer woke after %lld us", (long long)waited);
	seq = 2;
	for (;;) {
		const uint8_t *r = ring_peek_wait(&c, &len, 5000);

		if (!r)
			break;
		cr_assert_eq(rec_seq(r), seq);
		cr_assert_eq(r[999], (uint8_t)(seq & 0xff));
		seq++;
		ring_advance(&c);
		ring_release(&c, 1);
	}
	wait_child(pid, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(seq, 2001);
}

struct idle_ctl {
	_Atomic uint64_t got;
	_Atomic uint64_t cpu_us;   /* consumer's getrusage user+sys at <got> */
};

static uint64_t rusage_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

Test(ring, idle_consumer_sleeps_and_wakes_on_next_record, .timeout = 30)
{
	struct area a;
	struct idle_ctl *ctl;
	struct ring_prod p;
	uint64_t cpu_before, rng = 42;
	int64_t worst = 0;
	int status;
	pid_t pid;

	area_make(&a, 64 * 1024, sizeof(*ctl));
	ctl = a.ctl;
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ring_cons c;
		uint32_t len;
		const void *r;

		if (ring_cons_attach(&c, a.ring))
			_exit(3);
		/* Records come at most 1 s apart; 10 s only bounds a failed run. */
		while ((r = ring_peek_wait(&c, &len, 10000))) {
			atomic_store(&ctl->cpu_us, rusage_us());
			atomic_store(&ctl->got, rec_seq(r));
			ring_advance(&c);
			ring_release(&c, 1);
		}
		_exit(ring_drained(&c) ? 0 : 4);
	}
	cr_assert_eq(ring_prod_attach(&p, a.ring), 0);
	for (uint64_t s = 1; s <= 12; s++) {
		int64_t t0;
		void *dst;

		/* Random phases against the consumer's 100 ms fallback poll:
		 * only the doorbell makes every wake-up fast. */
		usleep(s == 6 ? 1000000 : (useconds_t)(20000 + (rng = splitmix(rng)) % 150000));
		if (s == 6)
			cpu_before = atomic_load(&ctl->cpu_us);
		dst = ring_reserve(&p, 8);
		memcpy(dst, &s, 8);
		t0 = now_us();
		ring_commit(&p, 1);
		while (atomic_load(&ctl->got) != s && now_us() - t0 < 2000000)
			usleep(50);
		cr_assert_eq(atomic_load(&ctl->got), s);
		if (now_us() - t0 > worst)
			worst = now_us() - t0;
		if (s == 6) {
			uint64_t used = atomic_load(&ctl->cpu_us) - cpu_before;

			cr_assert(used < 20000, "idle consumer used %llu us of CPU in 1 s",
				  (unsigned long long)used);
		}
	}
	cr_assert(worst < 50000, "slowest wake-up %lld us", (long long)worst);
	ring_close(&p);
	wait_child(pid, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "consumer status %#x", status);
}

/* Both sides sleep with no fallback poll: only the doorbell wakes them, and
 * the 10 s bound on each sleep turns a lost wake-up into a failure. */
Test(ring, armed_sleepers_never_lose_a_wakeup, .timeout = 30)
{
	struct area a, back;
	struct ring_prod p;
	struct ring_cons c;
	int status;
	pid_t pid;

	area_make(&a, 4096, 64);
	area_make(&back, 4096, 64);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ring_cons cc;
		struct ring_prod pp;

		if (ring_cons_attach(&cc, a.ring) || ring_prod_attach(&pp, back.ring))
			_exit(3);
		for (uint64_t i = 1; i <= 20000; i++) {
			uint32_t len;
			const void *r = peek_sleeping(&cc, &len, a.cons_bell);

			if (!r)
				_exit(5); /* lost wake-up */
			if (rec_seq(r) != i)
				_exit(6);
			ring_advance(&cc);
			ring_release(&cc, 1);
			memcpy(ring_reserve(&pp, 8), &i, 8);
			ring_commit(&pp, 1);
		}
		_exit(0);
	}
	cr_assert_eq(ring_prod_attach(&p, a.ring), 0);
	cr_assert_eq(ring_cons_attach(&c, back.ring), 0);
	for (uint64_t i = 1; i <= 20000; i++) {
		uint32_t len;
		const void *r;

		memcpy(ring_reserve(&p, 8), &i, 8);
		ring_commit(&p, 1);
		r = peek_sleeping(&c, &len, back.cons_bell);
		if (!r)
			kill(pid, SIGKILL);
		cr_assert_not_null(r, "lost wake-up at %llu", (unsigned long long)i);
		cr_assert_eq(rec_seq(r), i);
		ring_advance(&c);
		ring_release(&c, 1);
	}
	wait_child(pid, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "peer status %#x", status);
}

/* The producer is armed and asleep (no fallback poll) on a full ring when
 * its consumer dies; the supervisor repairs the ring while the producer
 * sleeps, and the replacement's releases must still wake it. */
Test(ring, repair_after_consumer_death_keeps_sleeping_producer_wakeable, .timeout = 20)
{
	struct area a;
	struct full_ctl *ctl;
	struct ring_hdr *h;
	struct ring_cons c;
	pid_t prod, cons;
	int status;
	int64_t t0;
	uint64_t seq = 1;

	area_make(&a, 4096, sizeof(*ctl));
	ctl = a.ctl;
	h = a.ring;
	prod = fork();
	cr_assert_neq(prod, -1);
	if (prod == 0) {
		struct ring_prod p;

		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		for (uint64_t s = 1; s <= 20; s++) {
			void *dst = reserve_sleeping(&p, 1000, a.prod_bell);

			if (!dst)
				_exit(7); /* slept through every release */
			memcpy(dst, &s, 8);
			ring_commit(&p, 1);
			atomic_store(&ctl->committed, s);
		}
		_exit(0);
	}
	t0 = now_us();
	while ((atomic_load(&ctl->committed) < 4 || !atomic_load(&h->prod_waiting)) && now_us() - t0 < 5000000)
		usleep(1000);
	usleep(50000); /* from armed to inside poll() */
	cr_assert_eq(atomic_load(&ctl->committed), 4);
	cr_assert_eq(atomic_load(&h->prod_waiting), 1, "the producer must be asleep for this test");
	/* A consumer that dies holding everything. */
	cons = fork();
	cr_assert_neq(cons, -1);
	if (cons == 0) {
		uint32_t len;

		if (ring_cons_attach(&c, a.ring))
			_exit(3);
		while (ring_peek(&c, &len))
			ring_advance(&c);
		pause();
		_exit(0);
	}
	usleep(50000);
	kill(cons, SIGKILL);
	wait_child(cons, &status);
	cr_assert(WIFSIGNALED(status));
	cr_assert_eq(ring_repair(a.ring), 0);
	usleep(50000); /* the producer may wake on the repair's ring; let it re-arm */
	cr_assert_eq(atomic_load(&ctl->committed), 4, "the ring is still full");
	/* The replacement consumes everything. */
	cr_assert_eq(ring_cons_attach(&c, a.ring), 0);
	while (seq <= 20) {
		uint32_t len;
		const void *r = ring_peek(&c, &len);

		if (!r) {
			t0 = now_us();
			while (!(r = ring_peek(&c, &len)) && now_us() - t0 < 3000000)
				usleep(1000);
			if (!r)
				kill(prod, SIGKILL);
			cr_assert_not_null(r, "producer never woke after the repair (at %llu)",
					   (unsigned long long)seq);
		}
		cr_assert_eq(rec_seq(r), seq);
		seq++;
		ring_advance(&c);
		ring_release(&c, 1);
	}
	wait_child(prod, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "producer status %#x", status);
}

/* The mirror case (ingest dies while an encoder sleeps on its empty input
 * ring): the replacement producer's first commit must wake the consumer. */
Test(ring, repair_after_producer_death_keeps_sleeping_consumer_wakeable, .timeout = 20)
{
	struct area a;
	struct idle_ctl *ctl;
	struct ring_hdr *h;
	struct ring_prod p;
	pid_t prod, cons;
	int status;
	int64_t t0;

	area_make(&a, 4096, sizeof(*ctl));
	ctl = a.ctl;
	h = a.ring;
	cons = fork();
	cr_assert_neq(cons, -1);
	if (cons == 0) {
		struct ring_cons c;

		if (ring_cons_attach(&c, a.ring))
			_exit(3);
		for (uint64_t s = 1; s <= 6; s++) {
			uint32_t len;
			const void *r = peek_sleeping(&c, &len, a.cons_bell);

			if (!r)
				_exit(7);
			if (rec_seq(r) != s)
				_exit(6);
			atomic_store(&ctl->got, s);
			ring_advance(&c);
			ring_release(&c, 1);
		}
		_exit(0);
	}
	/* First producer: three records, a fourth reserved, then killed. */
	prod = fork();
	cr_assert_neq(prod, -1);
	if (prod == 0) {
		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		for (uint64_t s = 1; s <= 3; s++)
			memcpy(ring_reserve(&p, 8), &s, 8);
		ring_commit(&p, 3);
		memcpy(ring_reserve(&p, 8), &(uint64_t){ 99 }, 8);
		pause();
		_exit(0);
	}
	t0 = now_us();
	while ((atomic_load(&ctl->got) < 3 || !atomic_load(&h->cons_waiting)) && now_us() - t0 < 5000000)
		usleep(1000);
	usleep(50000);
	cr_assert_eq(atomic_load(&ctl->got), 3);
	cr_assert_eq(atomic_load(&h->cons_waiting), 1, "the consumer must be asleep for this test");
	kill(prod, SIGKILL);
	wait_child(prod, &status);
	cr_assert_eq(ring_repair(a.ring), 0);
	usleep(50000);
	/* The replacement (this process) goes on from the last commit. */
	cr_assert_eq(ring_prod_attach(&p, a.ring), 0);
	for (uint64_t s = 4; s <= 6; s++) {
		memcpy(ring_reserve(&p, 8), &s, 8);
		t0 = now_us();
		ring_commit(&p, 1);
		while (atomic_load(&ctl->got) != s && now_us() - t0 < 3000000)
			usleep(100);
		if (atomic_load(&ctl->got) != s)
			kill(cons, SIGKILL);
		cr_assert_eq(atomic_load(&ctl->got), s, "consumer never woke for record %llu",
			     (unsigned long long)s);
		cr_assert(now_us() - t0 < 1000000, "record %llu took %lld us", (unsigned long long)s,
			  (long long)(now_us() - t0));
		usleep(30000); /* back to sleep */
	}
	wait_child(cons, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "consumer status %#x", status);
}

/* A producer killed between reserve and commit: its uncommitted records
 * are never seen; the replacement producer continues after the last commit. */
Test(ring, uncommitted_records_of_a_dead_producer_are_never_seen, .timeout = 20)
{
	struct area a;
	struct ring_cons c;
	uint64_t want[] = { 1, 2, 3, 4, 5, 1001, 1002, 1003 };
	int status, n = 0;
	pid_t pid;

	area_make(&a, 4096, 64);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ring_prod p;

		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		for (uint64_t s = 1; s <= 5; s++)
			rec_fill(ring_reserve(&p, 40), s, 40);
		ring_commit(&p, 5);
		for (uint64_t s = 6; s <= 9; s++)
			rec_fill(ring_reserve(&p, 40), s, 40);
		raise(SIGKILL);
		_exit(0);
	}
	wait_child(pid, &status);
	cr_assert(WIFSIGNALED(status));
	cr_assert_eq(ring_repair(a.ring), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ring_prod p;

		if (ring_prod_attach(&p, a.ring))
			_exit(3);
		for (uint64_t s = 1001; s <= 1003; s++)
			rec_fill(ring_reserve(&p, 40), s, 40);
		ring_commit(&p, 3);
		ring_close(&p);
		_exit(0);
	}
	wait_child(pid, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(ring_cons_attach(&c, a.ring), 0);
	for (;;) {
		uint32_t len;
		const void *r = ring_peek(&c, &len);

		if (!r)
			break;
		cr_assert(n < 8);
		cr_assert_eq(rec_seq(r), want[n], "record %d: %llu", n, (unsigned long long)rec_seq(r));
		n++;
		ring_advance(&c);
	}
	cr_assert_eq(n, 8);
	cr_assert(ring_drained(&c));
}
