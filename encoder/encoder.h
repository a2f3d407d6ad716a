/* SPDX-License-Identifier: MIT */
/* encoder.h: one encoder process: raw rows in, compressed remote-write batches out. */
#ifndef FLOWRW_ENCODER_H
#define FLOWRW_ENCODER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/cfg-t.h"
#include "common/rawrow.h"
#include "common/ring-t.h"
#include "common/schema.h"
#include "encoder/filter.h"
#include "encoder/labels.h"
#include "encoder/lanes.h"

struct dict;
struct shm;
struct stats_encoder;

#define ENC_BURST 256 /* rows between housekeeping passes (timeouts, release) */

/* What one active exporter needs per row, compiled once at start-up. */
struct enc_exporter {
	const struct cfg_exporter *cfg;
	struct filter_exporter filter;
	bool filter_ready;
	bool skip_zero;                          /* export-empty-metrics-disabled */
	uint64_t metrics[SCHEMA_FAM_COUNT][2];   /* selected metrics per family */
	struct labels_plan plan[SCHEMA_FAM_COUNT];
	struct lanes lanes;
	struct stats_encoder_exporter *st;
};

/* A metric's pre-serialized `__name__` label entry. */
struct enc_name_label {
	uint8_t len;
	uint8_t bytes[63];
};

struct enc {
	int index;
	const struct shm *shm;
	const struct cfg *cfg;
	struct ring_cons in;
	uint64_t in_size;                        /* input ring data bytes */
	struct dict *dict;
	struct stats_encoder *st;
	int n_exp;
	struct enc_exporter exp[CFG_MAX_EXPORTERS];
	uint16_t ds_exp[SCHEMA_DS_MAX];          /* bit i: exp[i] takes this data source */
	struct enc_name_label name_lbl[SCHEMA_FAM_COUNT][SCHEMA_MAX_METRICS];
	struct labels_out *lo;
	struct rawrow_view view;
	uint64_t seq;                            /* rows taken from the input ring */
	uint64_t released_seq;                   /* rows released to ingest */
	uint64_t released_pos;                   /* input position released up to */
	int64_t next_deadline_ms;                /* earliest flush-timeout, or INT64_MAX */
	volatile sig_atomic_t *reload;           /* set by SIGHUP; may be NULL */
	bool abandoning;                         /* drain deadline passed: rows are
						  * only counted (series_abandoned) */
};

/*
 * Set up encoder <index> on arena <s> with config <c> (both outlive <e>):
 * attach the input ring and this encoder's lane rings, compile every active
 * exporter's fields, labels and filters, load the dictionary.  Returns 0,
 * -EINVAL for a config the encoder cannot use (logged with its key), a
 * dictionary error (logged as FILE:LINE), -EPROTO for an arena that is not
 * formatted, or -ENOMEM.  <e> is safe to enc_fini() whatever the result.
 * Encoder process (or a test standing in for it).
 */
int enc_init(struct enc *e, const struct shm *s, const struct cfg *c, int index);
void enc_fini(struct enc *e);

/*
 * Encode one raw row (<rec>, <len> bytes at input position <pos>) for every
 * exporter that takes its data source.  <now_ms> is CLOCK_MONOTONIC ms.
 * Returns 0 (a malformed row is counted and skipped) or -ETIMEDOUT when the
 * drain deadline passed while a lane waited for the sender.
 */
int enc_row(struct enc *e, const void *rec, uint32_t len, uint64_t pos, int64_t now_ms);

/*
 * Housekeeping between bursts: close partial batches whose flush-timeout
 * passed, close the batches holding the oldest rows when they hold more
 * than half the input ring, and release input rows no batch holds any
 * more.  Returns 0 or -ETIMEDOUT as enc_row().
 */
int enc_housekeep(struct enc *e, int64_t now_ms);

/* Take up to <max> rows from the input ring now; returns how many, or
 * -ETIMEDOUT as enc_row(). */
int enc_poll(struct enc *e, int max);

/* Flush every partial batch, release all input, close every lane ring
 * (end of stream).  Returns 0 or -ETIMEDOUT. */
int enc_finish(struct enc *e);

/* Swap in a freshly loaded dictionary (cfg.dictionary); on a bad file keep
 * the old one and log FILE:LINE.  Returns 0 or the load error. */
int enc_reload_dict(struct enc *e);

/*
 * The process loop: poll the input ring in bursts, housekeep, sleep on the
 * encoder's doorbell when idle (waking for flush deadlines), reload the
 * dictionary when *e->reload is set, and finish when ingest closed the
 * input ring and it is drained.  Returns 0 after a clean finish, or
 * -ETIMEDOUT when the drain deadline cut a wait short (logged).
 */
int enc_run(struct enc *e);

#endif
