/* SPDX-License-Identifier: MIT */
/* src_synthetic.h: deterministic generator of realistic DeepFlow rows (source and flowrw-gen). */
#ifndef FLOWRW_INGEST_SRC_SYNTHETIC_H
#define FLOWRW_INGEST_SRC_SYNTHETIC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/schema.h"
#include "ingest/rowb.h"

/*
 * Row k of a sequence belongs to series k mod <series>.  A series is a
 * stable set of tags drawn from a seeded model of a Kubernetes estate
 * (regions, clusters, namespaces, workloads with their ports and L7
 * protocols, pods with their nodes, VMs, Internet clients; about 70 % pods,
 * 20 % VMs, 10 % Internet hosts, whose pod and service keys are absent as
 * DeepFlow omits them), written as DeepFlow's Kafka JSON has them
 * (translated names).  Series s has a unique client IP for s < 2^24, so up
 * to 16.7 M series are distinct.  Metric values are a pure function of
 * (seed, series, timestamp): the same seed gives the same rows.
 *
 * Timestamps are the current time aligned down to the data source's
 * period (1 s or 60 s).  Rows go in rounds of <series> rows; a round starts
 * only once the aligned clock has passed the last round's timestamp, so a
 * series never has two rows with one timestamp (a receiver would refuse
 * the second) and never goes back in time.  The rate is therefore
 * min(rows-per-second, series / period): a 1m source with 600 series
 * makes at most 10 rows/s, spread over the minute at rows-per-second
 * rather than in a burst at the minute boundary.
 */

struct synth {
	int ds;
	enum schema_family fam;
	uint32_t period;             /* seconds: 1 or 60 */
	uint64_t seed;
	uint64_t series;
	uint64_t rows;               /* 0 = endless */
	uint64_t rate;               /* rows per second, 0 = unpaced */
	uint64_t next;               /* index of the next row */
	uint32_t last_ts;            /* timestamp of the last row made; 0 = none */
	int64_t pace_ms;             /* monotonic time row pace_k was due; 0 = unset */
	uint64_t pace_k;
	uint8_t metric_gen[SCHEMA_MAX_METRICS];
	int n_metrics;
	size_t str_len;
	char str[4096];              /* the strings of the row being made */
};

/* <ds> a valid exportable id; <series> >= 1.  Returns 0 or -EINVAL. */
int synth_init(struct synth *g, int ds, uint64_t seed, uint64_t series, uint64_t rows, uint64_t rate);

/* Row <k> at timestamp <t> into <b> (reset first).  Pure function of
 * (ds, seed, series, k mod series, t); string tags point into <g>, valid
 * until the next call. */
void synth_row(struct synth *g, uint64_t k, uint32_t t, struct rowb *b);

/*
 * May row g->next be made now?  <mono_ms>/<wall_ms> are the monotonic and
 * real clocks.  Returns 1 with its timestamp in <t>; 0 with the monotonic
 * time to ask again in <wake_ms> (pacing, or the round waiting for the
 * next period); -1 when <rows> rows were made.
 */
int synth_due(struct synth *g, int64_t mono_ms, int64_t wall_ms, uint32_t *t, int64_t *wake_ms);

/* Row g->next (timestamp <t>) was handed on: move to the next. */
void synth_advance(struct synth *g, uint32_t t);

/* Continue at row <k> (crash-resume). */
void synth_seek(struct synth *g, uint64_t k);

/* Period in seconds of data source <ds> (1 or 60). */
uint32_t synth_period(int ds);

#endif
