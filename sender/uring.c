/* SPDX-License-Identifier: MIT */
/* uring.c: io_uring setup with fallbacks, SQE supply and the bounded wait. */
#include "sender/uring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

int uring_init(struct uring *u, unsigned int entries)
{
	static const struct {
		unsigned int setup, flag;
	} tries[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, URING_F_DEFER_TASKRUN },
		{ IORING_SETUP_COOP_TASKRUN, URING_F_COOP_TASKRUN },
		{ 0, 0 },
	};
	int err = -EINVAL;

	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = tries[i].setup | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
		p.cq_entries = entries * 4;
		err = io_uring_queue_init_params(entries, &u->ring, &p);
		if (err == -EINVAL) {
			/* Older kernels: retry the same level without SUBMIT_ALL. */
			memset(&p, 0, sizeof(p));
			p.flags = tries[i].setup | IORING_SETUP_CQSIZE;
			p.cq_entries = entries * 4;
			err = io_uring_queue_init_params(entries, &u->ring, &p);
		}
		if (err == 0) {
			u->flags = tries[i].flag;
			u->features = p.features;
			u->sq_entries = p.sq_entries;
			if (p.features & IORING_FEAT_EXT_ARG)
				u->flags |= URING_F_EXT_ARG;
			return 0;
		}
		if (err != -EINVAL)
			break; /* ENOSYS, EPERM, ENOMEM: no flag combination helps */
	}
	memset(u, 0, sizeof(*u));
	u->ring.ring_fd = -1;
	return err;
}

void uring_fini(struct uring *u)
{
	if (u->ring.ring_fd >= 0 && u->sq_entries)
		io_uring_queue_exit(&u->ring);
	u->ring.ring_fd = -1;
	u->sq_entries = 0;
}

struct io_uring_sqe *uring_get_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe;

	for (int i = 0; i < 64; i++) {
		sqe = io_uring_get_sqe(&u->ring);
		if (sqe)
			return sqe;
		/* SQ full: hand what we have to the kernel and take a fresh one. */
		u->submits++;
		if (io_uring_submit(&u->ring) < 0 && i > 8)
			break;
	}
	fprintf(stderr, "sender: fatal: io_uring submission queue stays full\n");
	abort();
}

void uring_reserve(struct uring *u, unsigned int n)
{
	if (io_uring_sq_space_left(&u->ring) >= n)
		return;
	u->submits++;
	io_uring_submit(&u->ring);
}

int uring_wait(struct uring *u, int64_t timeout_ns)
{
	struct io_uring_cqe *cqe = NULL;
	struct __kernel_timespec ts;
	int ret;

	if (timeout_ns == 0) {
		/* With DEFER_TASKRUN completions are only posted when asked for. */
		ret = io_uring_submit_and_get_events(&u->ring);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return ret;
	} else if (timeout_ns < 0) {
		ret = io_uring_submit_and_wait(&u->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -ETIME)
			return ret;
	} else {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
		if (ret < 0 && ret != -EINTR && ret != -ETIME && ret != -EAGAIN && ret != -EBUSY)
			return ret;
	}
	return (int)io_uring_cq_ready(&u->ring);
}

const char *uring_show_flags(const struct uring *u)
{
	if (u->flags & URING_F_DEFER_TASKRUN)
		return "single-issuer,defer-taskrun";
	if (u->flags & URING_F_COOP_TASKRUN)
		return "coop-taskrun";
	return "default";
}
