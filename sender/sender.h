/* SPDX-License-Identifier: MIT */
/* sender.h: the flowrw-sender process loop (lane rings -> HTTP endpoints). */
#ifndef FLOWRW_SENDER_H
#define FLOWRW_SENDER_H

#include <stdint.h>

#include "common/cfg-t.h"
#include "common/shm.h"

#define SENDER_EXIT_OK        0
#define SENDER_EXIT_CONFIG    100
#define SENDER_EXIT_BUG       101
#define SENDER_EXIT_TRANSIENT 111

/*
 * Deliver every batch of every lane ring of <shm> to the endpoints of <c>
 * until each lane ring is closed and drained with nothing in flight, or,
 * once the supervisor set phase DRAIN, until drain_deadline_ms (what is left
 * is counted in undelivered_series and logged).  One io_uring loop, no
 * threads; blocks only in io_uring_enter and, when opening a connection to
 * a hostname, in getaddrinfo.  <seed> (0: from the clock) drives the
 * endpoint shuffle and the backoff jitter.  Returns a process exit code:
 * SENDER_EXIT_OK, _CONFIG (unusable endpoint, io_uring unavailable),
 * _TRANSIENT (out of memory, io_uring failure).  The sender process, or a
 * test's child process, calls it once.
 */
int sender_run(struct shm *shm, const struct cfg *c, uint64_t seed);

#endif
