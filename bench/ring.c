/* SPDX-License-Identifier: MIT */
/* ring.c: records/s and bytes/s through the shared-memory SPSC ring between
 * two processes on two cores. */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ring.h"

/*
 * As the pipeline runs it: the ring lives in a memfd mapped MAP_SHARED by
 * two forked processes (the supervisor's arena is one too), eventfd
 * doorbells, the producer pinned to one cpu and the consumer to another.
 *
 * Batching follows the real users of each record size:
 *   64 B    the ingest -> encoder ring: the ingest commits every 64 rows
 *           (ROUTE_BATCH), the encoder releases in bursts (ENC_BURST 256)
 *   64 KiB  the encoder -> sender ring: one batch per record, committed
 *           and released one at a time
 * The producer writes every payload byte (memcpy), the consumer reads
 * every payload byte (memcpy out) and checks each record's sequence number,
 * so a byte counted is a byte that crossed between the cores.
 *
 * A run lasts <seconds> or <max records>, whichever comes first.  Two rates
 * per run, medians printed:
 *   wall clock  records / the consumer's time from the common start to the
 *               drained ring: what this machine delivered, shared as it is
 *   per cpu-s   records / the CPU time of the busier of the two processes:
 *               what two dedicated cores would deliver, since each side is
 *               pinned to its own core in production.  Spinning and
 *               sleeping while the peer is descheduled counts against it.
 */

#define MAX_RUNS 64

struct shape {
	uint32_t len;
	uint32_t commit_every;
	uint32_t release_every;
	uint64_t max_records;
};

struct ctl {
	_Atomic uint32_t ready;
	_Atomic uint32_t go;
	_Atomic uint64_t produced;
	_Atomic uint64_t consumed;
	_Atomic uint64_t cons_ns;
	_Atomic uint64_t prod_cpu_ns;
	_Atomic uint64_t cons_cpu_ns;
	_Atomic uint32_t bad;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void start_line(struct ctl *ctl)
{
	atomic_fetch_add(&ctl->ready, 1);
	/* Spinning, not sleeping: both sides leave the line together. */
	while (!atomic_load_explicit(&ctl->go, memory_order_acquire))
		sched_yield();
}

static void __attribute__((noreturn)) producer(void *ring, struct ctl *ctl, const struct shape *sh,
					       double seconds, int cpu)
{
	struct ring_prod p;
	uint8_t *src = malloc(sh->len);
	uint64_t seq = 0;
	uint32_t pending = 0;
	int64_t end, c0;

	if (!src || ring_prod_attach(&p, ring) || pin(cpu))
		_exit(3);
	for (uint32_t i = 0; i < sh->len; i++)
		src[i] = (uint8_t)(i * 131 + 7);
	start_line(ctl);
	c0 = cpu_ns();
	end = mono_ns() + (int64_t)(seconds * 1e9);
	while (seq < sh->max_records) {
		void *dst = ring_reserve(&p, sh->len);

		if (!dst) {
			/* Publish our own rows first, as route_push() does. */
			if (pending) {
				ring_commit(&p, pending);
				pending = 0;
			}
			dst = ring_reserve_wait(&p, sh->len, 10000);
			if (!dst)
				_exit(2);
		}
		memcpy(src, &seq, sizeof(seq));
		memcpy(dst, src, sh->len);
		seq++;
		if (++pending >= sh->commit_every) {
			ring_commit(&p, pending);
			pending = 0;
			/* A clock read per commit is noise next to the fence. */
			if (mono_ns() >= end)
				break;
		}
	}
	if (pending)
		ring_commit(&p, pending);
	ring_close(&p);
	atomic_store(&ctl->prod_cpu_ns, (uint64_t)(cpu_ns() - c0));
	atomic_store(&ctl->produced, seq);
	_exit(0);
}

static void __attribute__((noreturn)) consumer(void *ring, struct ctl *ctl, const struct shape *sh, int cpu)
{
	struct ring_cons c;
	uint8_t *dst = malloc(sh->len);
	uint64_t seq = 0, held = 0;
	int64_t t0, c0;

	if (!dst || ring_cons_attach(&c, ring) || pin(cpu))
		_exit(3);
	start_line(ctl);
	t0 = mono_ns();
	c0 = cpu_ns();
	for (;;) {
		uint32_t len;
		const void *r = ring_peek(&c, &len);
		uint64_t got;

		if (!r) {
			/* Nothing to read: hand back what we hold before sleeping. */
			if (held) {
				ring_release(&c, held);
				held = 0;
			}
			r = ring_peek_wait(&c, &len, 10000);
			if (!r)
				break;
		}
		memcpy(dst, r, len);
		memcpy(&got, dst, sizeof(got));
		if (got != seq || len != sh->len) {
			atomic_store(&ctl->bad, 1);
			_exit(4);
		}
		seq++;
		ring_advance(&c);
		if (++held >= sh->release_every) {
			ring_release(&c, held);
			held = 0;
		}
	}
	if (held)
		ring_release(&c, held);
	atomic_store(&ctl->cons_ns, (uint64_t)(mono_ns() - t0));
	atomic_store(&ctl->cons_cpu_ns, (uint64_t)(cpu_ns() - c0));
	atomic_store(&ctl->consumed, seq);
	_exit(ring_drained(&c) ? 0 : 5);
}

struct result {
	double wall; /* records/s of wall-clock time */
	double cpu;  /* records/s of the busier process's CPU time */
};

/* One run; false on failure. */
static bool run_once(const struct shape *sh, size_t ring_bytes, double seconds, int pcpu, int ccpu,
		     struct result *res)
{
	size_t ctl_bytes = 4096, size = ctl_bytes + ring_footprint(ring_bytes);
	int fd = memfd_create("bench-ring", MFD_CLOEXEC);
	int pbell = eventfd(0, EFD_NONBLOCK), cbell = eventfd(0, EFD_NONBLOCK);
	struct ctl *ctl;
	void *mem, *ring;
	pid_t pp, cp;
	int sp, sc;
	bool ok = false;

	if (fd < 0 || pbell < 0 || cbell < 0 || ftruncate(fd, (off_t)size)) {
		perror("bench ring: memfd/eventfd");
		exit(1);
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror("bench ring: mmap");
		exit(1);
	}
	ctl = mem;
	ring = (char *)mem + ctl_bytes;
	if (ring_init(ring, ring_bytes, "bench", pbell, cbell)) {
		fprintf(stderr, "bench ring: bad ring size %zu\n", ring_bytes);
		exit(1);
	}
	/* Fault the whole area in first: page faults are not the ring's cost. */
	memset((char *)ring + RING_HDR_SIZE, 0, ring_bytes);
	pp = fork();
	if (pp == 0)
		producer(ring, ctl, sh, seconds, pcpu);
	cp = fork();
	if (cp == 0)
		consumer(ring, ctl, sh, ccpu);
	if (pp < 0 || cp < 0) {
		perror("bench ring: fork");
		exit(1);
	}
	{
		int64_t t0 = mono_ns();

		while (atomic_load(&ctl->ready) < 2 && mono_ns() - t0 < 5000000000LL)
			usleep(100);
	}
	atomic_store_explicit(&ctl->go, 1, memory_order_release);
	waitpid(pp, &sp, 0);
	waitpid(cp, &sc, 0);
	if (WIFEXITED(sp) && WEXITSTATUS(sp) == 0 && WIFEXITED(sc) && WEXITSTATUS(sc) == 0 &&
	    atomic_load(&ctl->consumed) == atomic_load(&ctl->produced) && !atomic_load(&ctl->bad)) {
		uint64_t busy = atomic_load(&ctl->prod_cpu_ns);
		double n = (double)atomic_load(&ctl->consumed);

		if (atomic_load(&ctl->cons_cpu_ns) > busy)
			busy = atomic_load(&ctl->cons_cpu_ns);
		res->wall = n / ((double)atomic_load(&ctl->cons_ns) / 1e9);
		res->cpu = n / ((double)busy / 1e9);
		ok = true;
	} else {
		fprintf(stderr, "bench ring: run failed (producer %#x, consumer %#x, %llu/%llu records)\n", sp,
			sc, (unsigned long long)atomic_load(&ctl->consumed),
			(unsigned long long)atomic_load(&ctl->produced));
	}
	munmap(mem, size);
	close(fd);
	close(pbell);
	close(cbell);
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ring [-r RUNS] [-t SECONDS] [-s RING_BYTES] [-p CPU] [-c CPU] [-n LEN -C COMMIT -R RELEASE]\n"
		"  default: 5 runs of 2 s each for 64 B and 64 KiB records, 8 MiB ring (the\n"
		"  config default), producer on cpu 0, consumer on cpu 1; -n measures one\n"
		"  record size with the given commit and release batching instead.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct shape shapes[2] = {
		{ 64, 64, 256, 2000000000ULL },
		{ 65536, 1, 1, 2000000000ULL },
	};
	int nshapes = 2, runs = 5, pcpu = 0, ccpu = 1, opt;
	double seconds = 2;
	size_t ring_bytes = (size_t)8 << 20;
	struct shape one = { 0, 64, 256, 2000000000ULL };

	while ((opt = getopt(argc, argv, "r:t:s:p:c:n:C:R:h")) != -1) {
		switch (opt) {
		case 'r': runs = atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 's': ring_bytes = strtoull(optarg, NULL, 0); break;
		case 'p': pcpu = atoi(optarg); break;
		case 'c': ccpu = atoi(optarg); break;
		case 'n': one.len = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'C': one.commit_every = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'R': one.release_every = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS || seconds <= 0 || one.commit_every < 1 || one.release_every < 1)
		usage();
	if (one.len) {
		if (one.len < 8)
			usage();
		shapes[0] = one;
		nshapes = 1;
	}
	printf("ring: %zu-byte memfd ring, producer on cpu %d, consumer on cpu %d, %d runs of <= %.1f s, median\n",
	       ring_bytes, pcpu, ccpu, runs, seconds);
	for (int s = 0; s < nshapes; s++) {
		const struct shape *sh = &shapes[s];
		double wall[MAX_RUNS], cpu[MAX_RUNS], mw, mc;

		for (int r = 0; r < runs; r++) {
			struct result res;

			if (!run_once(sh, ring_bytes, seconds, pcpu, ccpu, &res))
				return 1;
			wall[r] = res.wall;
			cpu[r] = res.cpu;
		}
		mw = median(wall, runs);
		mc = median(cpu, runs);
		printf("%6u B records, commit every %u, release every %u:\n"
		       "    wall clock   %9.2f M records/s %9.1f MB/s payload  (runs %.2f .. %.2f M/s)\n"
		       "    per cpu-s    %9.2f M records/s %9.1f MB/s payload  (runs %.2f .. %.2f M/s)\n",
		       sh->len, sh->commit_every, sh->release_every, mw / 1e6, mw * sh->len / 1e6, wall[0] / 1e6,
		       wall[runs - 1] / 1e6, mc / 1e6, mc * sh->len / 1e6, cpu[0] / 1e6, cpu[runs - 1] / 1e6);
		fflush(stdout);
	}
	return 0;
}
