/* SPDX-License-Identifier: MIT */
/* metrics.h: the stats page in Prometheus text exposition format. */
#ifndef FLOWRW_METRICS_H
#define FLOWRW_METRICS_H

#include <stddef.h>

#include "common/cfg-t.h"
#include "common/shm.h"

/*
 * Render every counter of <s>'s stats page, and the fill of every ring, as
 * Prometheus text format 0.0.4 into a malloc'd buffer (*out, *len).  Reads
 * only relaxed atomics: safe while every child writes.  Returns 0 or
 * -ENOMEM.  Any process that maps the arena may call it.
 */
int metrics_render(const struct shm *s, const struct cfg *c, char **out, size_t *len);

#endif
