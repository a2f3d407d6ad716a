/* SPDX-License-Identifier: MIT */
/* uring.h: the sender's io_uring: setup with fallbacks, SQE supply, user_data tags. */
#ifndef FLOWRW_URING_H
#define FLOWRW_URING_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

/*
 * user_data layout (liburing examples/proxy.h, plus a generation):
 *
 *   63      56 55            32 31                 0
 *   +---------+----------------+--------------------+
 *   |   op    |  slot (24 bit) |  generation        |
 *   +---------+----------------+--------------------+
 *
 * The generation of a connection slot is bumped when the slot is freed, so
 * a completion that outlived its slot is recognised (and is a bug: slots
 * are freed only once every operation on them has completed).
 */
#define URING_OP_SHIFT   56
#define URING_SLOT_SHIFT 32
#define URING_SLOT_MASK  0xffffffU
#define URING_MAX_SLOTS  (URING_SLOT_MASK + 1)

enum uring_op {
	URING_OP_NONE = 0,
	URING_OP_CONNECT,      /* connect(2) of a connection slot */
	URING_OP_CONNECT_TMO,  /* link timeout of that connect */
	URING_OP_SEND,         /* sendmsg of a request */
	URING_OP_RECV,         /* recv of a response */
	URING_OP_CANCEL,       /* cancel of every request on a slot's fd */
	URING_OP_DOORBELL,     /* poll on the sender doorbell eventfd */
	URING_OP_COUNT,        /* number of ops */
};

static inline uint64_t uring_tag(enum uring_op op, uint32_t slot, uint32_t gen)
{
	return ((uint64_t)op << URING_OP_SHIFT) | ((uint64_t)(slot & URING_SLOT_MASK) << URING_SLOT_SHIFT) |
	       gen;
}

static inline enum uring_op cqe_op(const struct io_uring_cqe *cqe)
{
	return (enum uring_op)(cqe->user_data >> URING_OP_SHIFT);
}

static inline uint32_t cqe_slot(const struct io_uring_cqe *cqe)
{
	return (uint32_t)(cqe->user_data >> URING_SLOT_SHIFT) & URING_SLOT_MASK;
}

static inline uint32_t cqe_gen(const struct io_uring_cqe *cqe)
{
	return (uint32_t)cqe->user_data;
}

#define URING_F_DEFER_TASKRUN 0x00000001U /* SINGLE_ISSUER|DEFER_TASKRUN accepted */
#define URING_F_COOP_TASKRUN  0x00000002U /* fallback: COOP_TASKRUN */
#define URING_F_EXT_ARG       0x00000004U /* wait timeouts without a timeout SQE */

struct uring {
	struct io_uring ring;
	unsigned int flags;     /* URING_F_* */
	unsigned int features;  /* params.features, read once */
	unsigned int sq_entries;
	uint64_t submits;       /* io_uring_enter calls made by uring_get_sqe */
};

/*
 * Create a ring with <entries> SQEs (rounded by the kernel) and a CQ four
 * times larger, trying SINGLE_ISSUER|DEFER_TASKRUN, then COOP_TASKRUN, then
 * no flags.  Returns 0 or a negative errno (-ENOSYS, -EPERM where io_uring
 * is unavailable: callers report that clearly).  Sender process only: with
 * DEFER_TASKRUN only the creating task may submit.
 */
int uring_init(struct uring *u, unsigned int entries);

/* Tear down; accepts a ring that failed to initialise. */
void uring_fini(struct uring *u);

/* An SQE, submitting pending ones first when the SQ is full.  Never NULL:
 * aborts if the kernel keeps refusing (an unrecoverable bug). */
struct io_uring_sqe *uring_get_sqe(struct uring *u);

/* Make sure the next <n> uring_get_sqe() calls come from one submission
 * batch (a linked pair must not be split by a submit in between). */
void uring_reserve(struct uring *u, unsigned int n);

/*
 * Submit pending SQEs and wait for at least one completion or until
 * <timeout_ns> passes (< 0: no timeout, 0: do not wait).  Returns the number
 * of CQEs ready (possibly 0 on timeout or signal), or a negative errno.
 */
int uring_wait(struct uring *u, int64_t timeout_ns);

/* Human-readable setup flags for the startup log line. */
const char *uring_show_flags(const struct uring *u);

#endif
