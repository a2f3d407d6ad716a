/* SPDX-License-Identifier: MIT */
/* ring-t.h: layout of the shared-memory SPSC ring; this is an ABI between processes. */
#ifndef FLOWRW_RING_T_H
#define FLOWRW_RING_T_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One producer process, one consumer process, one memfd-backed area.
 *
 *   +-------------------+  offset 0
 *   | struct ring_hdr   |  4 cache lines: config / producer / consumer / spare
 *   +-------------------+  RING_HDR_SIZE
 *   | data[size]        |  size is a power of two, records are 8-byte aligned
 *   +-------------------+
 *
 * Positions are free-running uint64_t byte counters; idx = pos & mask.
 * Empty is produced == consumed, full is produced - consumed == size.
 *
 * Each record is a struct ring_rec header followed by len payload bytes,
 * padded to 8.  A record never wraps: when it would, the producer writes a
 * RING_REC_PAD record that covers the rest of the area and starts again at
 * offset 0, so a consumer always sees one contiguous payload (protobuf and
 * iovecs want that).
 *
 *   case 1: no wrap              case 2: wrap with a pad record
 *   [....RRRRRRRR.........]      [RRRR.........RRRRRPPP]
 *        ^cons   ^prod              ^prod      ^cons
 *
 * produced is written only by the producer and consumed only by the consumer;
 * the ordering rules are written once at the top of ring.c.
 */

#define RING_MAGIC        0x464c5752U /* "FLWR" */
#define RING_VERSION      1U
#define RING_CACHELINE    64
#define RING_HDR_SIZE     256
#define RING_REC_ALIGN    8

#define RING_REC_DATA     1U /* payload for the consumer */
#define RING_REC_PAD      2U /* filler up to the end of the area, skipped */

struct ring_rec {
	uint32_t len;   /* payload bytes, excluding this header and padding */
	uint32_t type;  /* RING_REC_DATA or RING_REC_PAD */
};

struct ring_hdr {
	/* line 0: written once by the supervisor, read-mostly after */
	alignas(RING_CACHELINE) uint32_t magic;
	uint32_t version;
	uint64_t size;          /* data bytes, a power of two */
	uint64_t mask;          /* size - 1 */
	uint32_t generation;    /* bumped by the supervisor on every repair */
	int32_t prod_doorbell;  /* eventfd the producer sleeps on, or -1 */
	int32_t cons_doorbell;  /* eventfd the consumer sleeps on, or -1 */
	uint32_t max_record;    /* largest payload a producer may reserve */
	char name[24];          /* for logs and /metrics, NUL-terminated */

	/* line 1: written by the producer */
	alignas(RING_CACHELINE) _Atomic uint64_t produced; /* bytes committed */
	_Atomic uint64_t prod_units;   /* user count committed (rows, series) */
	_Atomic uint32_t prod_waiting; /* producer asleep until space frees; the
					* consumer clears it when it rings */
	_Atomic uint32_t closed;       /* producer finished for good */

	/* line 2: written by the consumer */
	alignas(RING_CACHELINE) _Atomic uint64_t consumed; /* bytes released */
	_Atomic uint64_t cons_units;   /* user count released */
	_Atomic uint32_t cons_waiting; /* consumer asleep until data arrives; the
					* producer clears it when it rings */
	uint32_t cons_pad_;

	/* line 3: spare, keeps data 256-aligned */
	alignas(RING_CACHELINE) uint64_t spare_[8];
};

_Static_assert(sizeof(struct ring_rec) == 8, "ring_rec is 8 bytes");
_Static_assert(sizeof(struct ring_hdr) == RING_HDR_SIZE, "ring_hdr is 4 cache lines");
_Static_assert(offsetof(struct ring_hdr, produced) == 64, "producer line");
_Static_assert(offsetof(struct ring_hdr, consumed) == 128, "consumer line");
_Static_assert(offsetof(struct ring_hdr, spare_) == 192, "spare line");

/* Producer handle: private to the producing process. */
struct ring_prod {
	struct ring_hdr *hdr;
	uint8_t *data;
	uint64_t head;           /* reserved position, >= hdr->produced */
	uint64_t cached_consumed;
	uint64_t last_rec;       /* position of the last reserved record */
};

/* Consumer handle: private to the consuming process. */
struct ring_cons {
	struct ring_hdr *hdr;
	uint8_t *data;
	uint64_t cursor;         /* read position, >= hdr->consumed */
	uint64_t cached_produced;
	uint64_t next;           /* position after the record last peeked */
};

#endif
