/* SPDX-License-Identifier: MIT */
/* stats-t.h: the shared stats page; every counter has exactly one writer. */
#ifndef FLOWRW_STATS_T_H
#define FLOWRW_STATS_T_H

#include <stdint.h>

#include "common/cfg-t.h"

typedef _Atomic uint64_t stat_t;

/* Why ingest rejected a row (one counter each, and a log line). */
enum stats_reject {
	STATS_REJ_MALFORMED_JSON = 0,
	STATS_REJ_LINE_TOO_LONG,
	STATS_REJ_UNKNOWN_DATASOURCE,
	STATS_REJ_WRONG_TYPE,
	STATS_REJ_MISSING_TIME,
	STATS_REJ_MISSING_DATASOURCE,
	STATS_REJ_TOO_LARGE,
	STATS_REJ_COUNT, /* number of reasons */
};

/* Upper bounds (ms) of the request latency histogram; the last is +Inf. */
#define STATS_LAT_BUCKETS 12
#define STATS_LAT_BOUNDS_MS { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000 }

struct stats_proc {
	stat_t pid;             /* 0 when not running */
	stat_t starts;
	stat_t restarts;        /* starts after an unexpected exit */
	stat_t last_exit;       /* wait status of the last exit */
	stat_t up_since_ms;     /* CLOCK_REALTIME ms */
};

struct stats_source {
	stat_t rows;            /* rows pushed to a ring */
	stat_t bytes;           /* input bytes read */
	stat_t rejected;        /* rows rejected, all reasons */
	stat_t dropped;         /* overflow: drop-newest */
	stat_t connections;     /* accepted (tcp, unix) */
	stat_t open_connections;
	stat_t exhausted;       /* 1 when a finite source is done */
	/* Crash-resume (file, synthetic): written by ingest only after every
	 * row before the point is committed to a ring; read back when ingest
	 * restarts (stats_page.ingest.starts > 1). */
	stat_t resume_offset;   /* file: byte offset of the next unread line */
	stat_t resume_inode;    /* file: inode the offset belongs to */
	stat_t resume_rows;     /* file: lines consumed; synthetic: rows generated */
	stat_t listen_port;     /* tcp: the bound port (listen "...:0" picks one) */
};

struct stats_ingest {
	stat_t rows_in;
	stat_t bytes_in;
	stat_t rejected[STATS_REJ_COUNT];
	stat_t dropped_overflow;
	stat_t ring_full_waits;  /* times ingest stopped reading for a full ring */
	stat_t unknown_keys;     /* keys not in the schema (ignored, not rejected) */
	struct stats_source source[CFG_MAX_SOURCES];
	stat_t duplicate_keys;   /* a field given twice in a row (last one won) */
};

struct stats_encoder_exporter {
	stat_t rows;             /* rows accepted by the filters */
	stat_t rows_filtered;    /* rows rejected by the filters */
	stat_t series;
	stat_t samples;
	stat_t batches;
	stat_t raw_bytes;
	stat_t body_bytes;       /* after snappy */
	stat_t timeout_flushes;  /* partial batches sent by flush-timeout */
	stat_t label_collisions; /* two fields gave one label name */
	stat_t lane_full_waits;
	stat_t series_oversize;  /* one series larger than a lane ring record: dropped */
	stat_t series_abandoned; /* in partial batches when the drain deadline passed */
};

struct stats_encoder {
	stat_t rows_in;
	stat_t rows_bad;         /* malformed raw rows (a bug: never expected) */
	stat_t rows_unrouted;    /* no exporter subscribes to the data source */
	struct stats_encoder_exporter exporter[CFG_MAX_EXPORTERS];
};

struct stats_endpoint {
	stat_t requests;         /* requests sent */
	stat_t ok;               /* 2xx */
	stat_t status_4xx;       /* non-retryable: dropped */
	stat_t status_429;
	stat_t status_5xx;
	stat_t status_other;
	stat_t transport_errors; /* refused, reset, timeout, bad response */
	stat_t bytes;            /* body bytes of 2xx requests */
	stat_t connects;
	stat_t latency_bucket[STATS_LAT_BUCKETS + 1];
	stat_t latency_sum_us;
	stat_t in_flight;
	stat_t up;               /* 1 when the last attempt worked */
};

struct stats_exporter {
	stat_t series_sent;      /* delivered (2xx) */
	stat_t samples_sent;
	stat_t batches_sent;
	stat_t batches_dropped;  /* 4xx other than 429 */
	stat_t series_dropped;
	stat_t retries;
	stat_t undelivered_series; /* left at the drain deadline */
	stat_t lanes;
	stat_t lanes_backing_off;
	struct stats_endpoint endpoint[CFG_MAX_ENDPOINTS];
};

struct stats_page {
	stat_t started_ms;       /* CLOCK_REALTIME ms */
	stat_t draining;
	struct stats_proc supervisor;
	struct stats_proc ingest;
	struct stats_proc sender;
	struct stats_proc encoder[CFG_MAX_ENCODERS];
	struct stats_ingest in;
	struct stats_encoder enc[CFG_MAX_ENCODERS];
	struct stats_exporter exp[CFG_MAX_EXPORTERS];
};

static inline void stat_add(stat_t *c, uint64_t n)
{
	/* Single writer: a plain read-modify-write, no lock prefix. */
	__atomic_store_n((uint64_t *)c, __atomic_load_n((uint64_t *)c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void stat_set(stat_t *c, uint64_t v)
{
	__atomic_store_n((uint64_t *)c, v, __ATOMIC_RELAXED);
}

static inline uint64_t stat_get(const stat_t *c)
{
	return __atomic_load_n((const uint64_t *)c, __ATOMIC_RELAXED);
}

#endif
