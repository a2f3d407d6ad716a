/* SPDX-License-Identifier: MIT */
/* snappy_writer.c: growing element buffer and long literal tags. */
#include "encoder/snappy_writer.h"

#include <errno.h>
#include <stdlib.h>

#define SNW_MIN_CAP (16 * 1024)

void snw_init(struct snw *w)
{
	w->buf = NULL;
	w->cap = 0;
	snw_reset(w);
}

void snw_fini(struct snw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->cap = 0;
	snw_reset(w);
}

int snw_reserve(struct snw *w, size_t n)
{
	size_t want = w->len + snw_grow_max(n), cap;
	uint8_t *nb;

	if (want <= w->cap)
		return 0;
	/* Doubling: a lane reaches its working size after a few batches and
	 * then never allocates again. */
	cap = w->cap ? w->cap : SNW_MIN_CAP;
	while (cap < want)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb)
		return -ENOMEM;
	w->buf = nb;
	w->cap = cap;
	return 0;
}

void __snw_lit_close_long(struct snw *w, size_t run)
{
	size_t extra = run - 1 < (1U << 8) ? 1 : run - 1 < (1U << 16) ? 2 : run - 1 < (1U << 24) ? 3 : 4;
	uint8_t *t = w->buf + w->lit;
	uint32_t n1 = (uint32_t)(run - 1);

	memmove(t + 1 + extra, t + 1, run);
	t[0] = (uint8_t)((SNW_LIT_MAX - 1 + extra) << 2);
	for (size_t i = 0; i < extra; i++)
		t[1 + i] = (uint8_t)(n1 >> (8 * i));
	w->len += extra;
}
