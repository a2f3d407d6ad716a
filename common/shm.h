/* SPDX-License-Identifier: MIT */
/* shm.h: create (supervisor) and attach (children) the shared arena. */
#ifndef FLOWRW_SHM_H
#define FLOWRW_SHM_H

#include <stddef.h>

#include "common/cfg-t.h"
#include "common/ring-t.h"
#include "common/shm-t.h"

#define SHM_ENV_FD "FLOWRW_SHM_FD"

struct shm {
	int fd;
	size_t size;
	struct shm_hdr *hdr;
	struct stats_page *stats;
};

/*
 * Supervisor: size the arena for <c>, create the memfd and eventfds, copy
 * the config text, format every ring.  The fds stay open across exec (no
 * CLOEXEC) so children inherit them.  Returns 0 or a negative errno.
 */
int shm_create(struct shm *s, const struct cfg *c, const char *cfg_text, size_t cfg_len);

/* Data bytes of each lane ring of exporter <e>: from queue-size (series a
 * lane may hold) and batch-size, a power of two. */
size_t shm_lane_ring_bytes(const struct cfg_exporter *e);

/* Bytes the arena needs for <c> (check-config prints it). */
size_t shm_size_for(const struct cfg *c);

/* Children: map the arena whose fd is in $FLOWRW_SHM_FD (or <fd> >= 0). */
int shm_attach(struct shm *s, int fd);

void shm_fini(struct shm *s);

/* Load the config copy held in the arena.  Returns cfg_load_buffer()'s code. */
int shm_load_cfg(const struct shm *s, struct cfg *c);

/* Ring areas, ready for ring_*_attach(). */
void *shm_in_ring(const struct shm *s, int encoder);
void *shm_lane_ring(const struct shm *s, int exporter, int encoder, int lane);
int shm_lane_count(const struct shm *s, int exporter); /* per encoder */

static inline int shm_phase(const struct shm *s)
{
	return (int)__atomic_load_n((const uint32_t *)&s->hdr->phase, __ATOMIC_ACQUIRE);
}

#endif
