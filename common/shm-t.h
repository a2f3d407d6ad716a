/* SPDX-License-Identifier: MIT */
/* shm-t.h: layout of the one shared-memory arena the supervisor owns. */
#ifndef FLOWRW_SHM_T_H
#define FLOWRW_SHM_T_H

#include <stdint.h>

#include "common/cfg-t.h"
#include "common/stats-t.h"

/*
 * One memfd, created and sealed by the supervisor, mapped by every child:
 *
 *   struct shm_hdr            offsets of everything below
 *   config text               the YAML the supervisor loaded, so a restarted
 *                             child sees the same config even if the file
 *                             changed on disk
 *   struct stats_page
 *   input rings               one per encoder (ingest -> encoder i)
 *   lane rings                per active exporter e, per encoder i,
 *                             queue-count lanes (encoder i -> sender)
 *
 * All offsets are from the start of the arena and page-aligned; nothing in
 * it is a pointer.
 */

#define SHM_MAGIC   0x4d485346U /* "FSHM" */
#define SHM_VERSION 1U

enum shm_phase {
	SHM_PHASE_RUN = 0,
	SHM_PHASE_DRAIN,    /* stop reading input, flush, deliver, exit */
};

struct shm_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t total_size;
	uint64_t cfg_off, cfg_len;
	char cfg_name[512];             /* path of the config, for messages */
	uint64_t stats_off;
	uint32_t n_encoders;
	uint32_t n_lanes;               /* lane rings in all */
	uint64_t in_ring_off[CFG_MAX_ENCODERS];
	uint32_t lane_base[CFG_MAX_EXPORTERS];  /* first lane of an exporter */
	uint32_t queue_count[CFG_MAX_EXPORTERS];/* 0 for inactive exporters */
	uint64_t lane_off_off;          /* uint64_t[n_lanes] ring offsets */
	/* eventfds (same number in every process, inherited across exec) */
	int32_t doorbell_ingest;
	int32_t doorbell_sender;
	int32_t doorbell_supervisor;
	int32_t doorbell_encoder[CFG_MAX_ENCODERS];
	_Atomic uint32_t phase;         /* enum shm_phase, set by the supervisor */
	_Atomic int64_t drain_deadline_ms; /* CLOCK_MONOTONIC ms, when draining */
};

#endif
