/* SPDX-License-Identifier: MIT */
/* batch-t.h: a finished remote-write request, encoder -> sender (ring ABI). */
#ifndef FLOWRW_BATCH_T_H
#define FLOWRW_BATCH_T_H

#include <stdint.h>

/*
 * One record of a lane ring (one ring per encoder x exporter x lane):
 *
 *   struct batch_hdr
 *   uint8_t body[body_len]    snappy block-compressed WriteRequest
 *
 * The sender posts body as-is from the ring (zero copy) and releases the
 * record only after a 2xx or a non-retryable 4xx; the lane ring's units
 * count series, so queue-size bounds what a lane holds.
 */

#define BATCH_MAGIC 0x42575246U /* "FRWB" */

struct batch_hdr {
	uint32_t magic;
	uint16_t exporter;      /* index in cfg.exporters */
	uint16_t lane;          /* lane within (encoder, exporter) */
	uint32_t n_series;
	uint32_t n_samples;
	uint32_t raw_len;       /* uncompressed protobuf bytes */
	uint32_t body_len;      /* compressed bytes that follow */
	int64_t min_ts_ms;      /* oldest sample */
	int64_t max_ts_ms;      /* newest sample */
	uint64_t closed_ns;     /* CLOCK_REALTIME when the encoder closed it */
};

_Static_assert(sizeof(struct batch_hdr) == 48, "batch_hdr layout");

#endif
