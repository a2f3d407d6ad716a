/* SPDX-License-Identifier: MIT */
/* sender.c: the flowrw-sender process loop: one io_uring, every lane, every endpoint. */
#include "sender/sender.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "common/log.h"
#include "common/ring.h"
#include "sender/conn.h"
#include "sender/lane.h"
#include "sender/uring.h"

#define SENDER_MAX_WAIT_NS  1000000000LL /* notice phase changes within a second */
#define SENDER_POLL_WAIT_NS 10000000LL   /* without a doorbell: look every 10 ms */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void arm_doorbell(struct uring *u, int fd)
{
	struct io_uring_sqe *sqe = uring_get_sqe(u);

	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, uring_tag(URING_OP_DOORBELL, 0, 0));
}

static unsigned int pow2_clamp(uint64_t n, unsigned int lo, unsigned int hi)
{
	unsigned int p = lo;

	while (p < n && p < hi)
		p <<= 1;
	return p;
}

int sender_run(struct shm *shm, const struct cfg *c, uint64_t seed)
{
	struct uring u = { .ring = { .ring_fd = -1 } };
	struct conn_pool pool;
	struct lane_set ls;
	int doorbell = shm->hdr->doorbell_sender;
	uint64_t lanes = 0;
	int rc = SENDER_EXIT_OK, err, n_exp = 0;
	uint32_t slots;

	memset(&pool, 0, sizeof(pool));
	memset(&ls, 0, sizeof(ls));
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++)
		if (c->exporters[e].active) {
			n_exp++;
			lanes += (uint64_t)shm_lane_count(shm, e) * shm->hdr->n_encoders;
		}
	if (!seed)
		seed = ((uint64_t)mono_ns() ^ ((uint64_t)getpid() << 32)) | 1;

	err = uring_init(&u, pow2_clamp(lanes * 4, 64, 4096));
	if (err) {
		log_err("cannot set up io_uring: %s%s", strerror(-err),
			err == -ENOSYS || err == -EPERM
				? " (flowrw-sender needs io_uring: Linux 5.19 or later, not disabled by "
				  "kernel.io_uring_disabled or a seccomp profile)"
				: "");
		return err == -ENOSYS || err == -EPERM ? SENDER_EXIT_CONFIG : SENDER_EXIT_TRANSIENT;
	}
	/* Enough connections for every lane in flight plus as many closing or
	 * idle towards another endpoint after a failover. */
	slots = (uint32_t)(lanes * 2 + 8);
	err = conn_pool_init(&pool, &u, c, shm->stats, slots);
	if (err) {
		rc = err == -EINVAL ? SENDER_EXIT_CONFIG : SENDER_EXIT_TRANSIENT;
		if (err != -EINVAL)
			log_err("cannot set up connections: %s", strerror(-err));
		goto out;
	}
	err = lane_set_init(&ls, shm, c, &pool, seed);
	if (err) {
		rc = err == -EPROTO ? SENDER_EXIT_BUG : SENDER_EXIT_TRANSIENT;
		goto out;
	}
	log_info("running: %d exporter(s), %u lane(s), %u endpoint(s), io_uring %s", n_exp, ls.n,
		 pool.n_ep, uring_show_flags(&u));
	if (doorbell >= 0)
		arm_doorbell(&u, doorbell);
	ls.now_ns = mono_ns();
	lane_kick_all(&ls);

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, count = 0;
		int64_t now, wait, next, drain_ns = INT64_MAX;
		int n;

		ls.now_ns = now = mono_ns();
		lane_timers(&ls);
		lane_service_waiters(&ls);
		if (lane_all_done(&ls)) {
			log_info("every lane ring is drained; exiting");
			break;
		}
		if (shm_phase(shm) == SHM_PHASE_DRAIN) {
			int64_t dl = __atomic_load_n((int64_t *)&shm->hdr->drain_deadline_ms, __ATOMIC_ACQUIRE);

			drain_ns = dl * 1000000LL;
			if (dl > 0 && now >= drain_ns) {
				uint64_t left = lane_count_undelivered(&ls);

				if (left)
					log_warn("drain deadline reached: %llu series undelivered (counted in "
						 "undelivered_series)", (unsigned long long)left);
				else
					log_info("drain deadline reached with nothing left to deliver");
				break;
			}
		}
		next = lane_next_deadline(&ls);
		wait = SENDER_MAX_WAIT_NS;
		if (doorbell < 0)
			wait = SENDER_POLL_WAIT_NS;
		if (next != INT64_MAX && next - now < wait)
			wait = next - now;
		if (drain_ns != INT64_MAX && drain_ns > 0 && drain_ns - now < wait)
			wait = drain_ns - now;
		if (wait < 0)
			wait = 0;
		n = uring_wait(&u, wait ? wait : 0);
		if (n < 0) {
			log_err("io_uring wait failed: %s", strerror(-n));
			rc = SENDER_EXIT_TRANSIENT;
			break;
		}
		ls.now_ns = mono_ns();
		io_uring_for_each_cqe(&u.ring, head, cqe) {
			count++;
			switch (cqe_op(cqe)) {
			case URING_OP_DOORBELL: {
				uint64_t v;

				/* Non-blocking eventfd: resets the count, never waits. */
				if (read(doorbell, &v, sizeof(v)) == -1 && errno != EAGAIN)
					log_warn("doorbell read: %s", strerror(errno));
				arm_doorbell(&u, doorbell);
				lane_doorbell(&ls);
				break;
			}
			case URING_OP_CONNECT:
			case URING_OP_CONNECT_TMO:
			case URING_OP_SEND:
			case URING_OP_RECV:
			case URING_OP_CANCEL:
				conn_handle(&pool, cqe);
				break;
			default:
				log_err("internal error: completion with unknown op %u", (unsigned)cqe_op(cqe));
				abort();
			}
		}
		io_uring_cq_advance(&u.ring, count);
		if (doorbell < 0)
			lane_doorbell(&ls);
	}
	conn_close_idle(&pool);
out:
	lane_set_fini(&ls);
	conn_pool_fini(&pool);
	uring_fini(&u);
	return rc;
}
