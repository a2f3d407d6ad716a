/* SPDX-License-Identifier: MIT */
/* ring.h: shared-memory SPSC ring of variable-length records. */
#ifndef FLOWRW_RING_H
#define FLOWRW_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ring-t.h"

/* Bytes a ring with <data_size> data bytes occupies in shared memory. */
static inline size_t ring_footprint(size_t data_size)
{
	return RING_HDR_SIZE + data_size;
}

/*
 * Supervisor only: format the area at <mem> (ring_footprint(size) bytes) as an
 * empty ring.  <size> must be a power of two >= 4096.  Doorbells are eventfd
 * numbers valid in both peers, or -1.  Returns 0 or -EINVAL.
 */
int ring_init(void *mem, size_t size, const char *name, int prod_doorbell,
	      int cons_doorbell);

/*
 * Supervisor only: after a child died and before its successor attaches,
 * call this on every ring the dead child held, whichever side it held.  The
 * surviving peer may keep running throughout; the contract with it is:
 *
 *  - A sound ring (the usual case: a death never tears an index, they are
 *    aligned 64-bit stores) keeps every record and both indices; only
 *    `generation` changes.  Records the dead consumer had not released are
 *    read again by its successor; records the dead producer had not
 *    committed are never seen.
 *  - The waiting flags are not touched, so a survivor asleep on its
 *    doorbell is still woken by the successor's first commit or release
 *    (the successor's attach clears its own side's stale flag).
 *  - Both doorbells are rung once; a survivor asleep by any means must
 *    treat a wake-up as "re-check, re-arm", as it must anyway.
 *  - Impossible indices (out of range or unaligned) are reset to an empty
 *    ring: `consumed` moves up to `produced` when that is aligned (only the
 *    dead consumer's index is written, a live producer just sees space), or
 *    both are set to `produced` rounded down.  The unreleased records are
 *    lost (the caller logs it).  A survivor that had already read the bad
 *    index aborts on its own range checks and is restarted and repaired in
 *    turn.
 *
 * The doorbell numbers in the header must be valid fds in the caller (the
 * supervisor created them).  Not safe against a second live holder of the
 * dead side: the successor must not attach before this returns.
 * Returns 0 if the ring was sound, 1 if it was reset.
 */
int ring_repair(struct ring_hdr *hdr);

/* Attach a handle to a formatted ring; the handle resumes where the
 * previous holder of that side left off.  Returns 0 or -EPROTO. */
int ring_prod_attach(struct ring_prod *p, void *mem);
int ring_cons_attach(struct ring_cons *c, void *mem);

/* --- producer ------------------------------------------------------------ */

/* Reserve room for a <len>-byte payload; returns a pointer to write it, or
 * NULL when the ring has no room now (len > max_record also gives NULL with
 * errno EMSGSIZE).  Nothing is visible until ring_commit(). */
void *ring_reserve(struct ring_prod *p, uint32_t len);

/* Shrink the last reserved record to <len> bytes (len <= reserved len). */
void ring_trim(struct ring_prod *p, uint32_t len);

/* Publish every record reserved so far, add <units> to prod_units, and wake
 * the consumer if it sleeps. */
void ring_commit(struct ring_prod *p, uint64_t units);

/* Reserve, sleeping on the doorbell until room frees or <timeout_ms> passes
 * (-1 forever).  NULL with errno ETIMEDOUT or EMSGSIZE. */
void *ring_reserve_wait(struct ring_prod *p, uint32_t len, int timeout_ms);

/* Mark the stream finished: the consumer drains and then sees ring_drained(). */
void ring_close(struct ring_prod *p);

/* Before sleeping on the producer doorbell by other means (poll, io_uring):
 * returns true if a <len>-byte reservation still does not fit, in which
 * case the consumer will ring the doorbell when it releases. */
bool ring_prod_arm(struct ring_prod *p, uint32_t len);
void ring_prod_disarm(struct ring_prod *p);

/* Bytes free now (a reservation may still need a pad). */
uint64_t ring_free_bytes(struct ring_prod *p);

/* --- consumer ------------------------------------------------------------ */

/* The record at the read cursor, or NULL when none is committed.  Does not
 * move the cursor; ring_advance() does. */
const void *ring_peek(struct ring_cons *c, uint32_t *len);

/* Move the cursor past the record the last ring_peek() returned. */
void ring_advance(struct ring_cons *c);

/* Release everything before the cursor (or before <pos>, a position the
 * cursor has passed), add <units> to cons_units, wake a sleeping producer. */
void ring_release(struct ring_cons *c, uint64_t units);
void ring_release_to(struct ring_cons *c, uint64_t pos, uint64_t units);

/* Peek, sleeping on the doorbell up to <timeout_ms> (-1 forever) when empty;
 * spins briefly first.  NULL on timeout or when the ring is drained. */
const void *ring_peek_wait(struct ring_cons *c, uint32_t *len, int timeout_ms);

/* Before sleeping on the consumer doorbell by other means: returns true if
 * the ring is still empty, in which case the producer will ring it. */
bool ring_cons_arm(struct ring_cons *c);
void ring_cons_disarm(struct ring_cons *c);

/* The producer closed the ring and the cursor has reached its end. */
bool ring_drained(struct ring_cons *c);

static inline uint64_t ring_cursor(const struct ring_cons *c)
{
	return c->cursor;
}

/* Bytes committed and not yet released (for stats; any process). */
uint64_t ring_used_bytes(const struct ring_hdr *hdr);

/* Wait on an eventfd doorbell for up to <timeout_ms>; drains its count.
 * Returns 1 if rung, 0 on timeout, negative errno on error. */
int ring_doorbell_wait(int fd, int timeout_ms);
void ring_doorbell_ring(int fd);

#endif
