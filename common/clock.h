/* SPDX-License-Identifier: MIT */
/* clock.h: the two clocks flowrw uses, in milliseconds. */
#ifndef FLOWRW_CLOCK_H
#define FLOWRW_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Deadlines and intervals: never jumps with the wall clock. */
static inline int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Timestamps a person or another host reads. */
static inline int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
