/* SPDX-License-Identifier: MIT */
/* wire.h: decode, print, dump and check remote-write 1.0 requests in the demo receiver. */
#ifndef FLOWRW_RECEIVER_WIRE_H
#define FLOWRW_RECEIVER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/flowrw-receiver/http.h"

/* Remote-write 1.0 rules --check counts; names appear in the report. */
enum rwire_violation {
	RWIRE_V_CONTENT_ENCODING = 0, /* Content-Encoding is not "snappy" */
	RWIRE_V_CONTENT_TYPE,         /* Content-Type is not application/x-protobuf */
	RWIRE_V_VERSION,              /* X-Prometheus-Remote-Write-Version is not 0.1.0 */
	RWIRE_V_USER_AGENT,           /* User-Agent missing or empty */
	RWIRE_V_HEADER_REPEATED,      /* one of the four above sent twice */
	RWIRE_V_NO_LABELS,            /* a series without any label */
	RWIRE_V_NAME_MISSING,         /* no __name__ label */
	RWIRE_V_LABEL_NAME_EMPTY,
	RWIRE_V_LABEL_NAME_INVALID,   /* not [a-zA-Z_][a-zA-Z0-9_]* */
	RWIRE_V_LABEL_NAME_RESERVED,  /* starts with "__" and is not __name__ */
	RWIRE_V_METRIC_NAME_INVALID,  /* __name__ not [a-zA-Z_:][a-zA-Z0-9_:]* */
	RWIRE_V_LABEL_VALUE_EMPTY,
	RWIRE_V_LABEL_VALUE_UTF8,     /* value is not valid UTF-8 */
	RWIRE_V_LABELS_UNSORTED,      /* names not in byte-wise ascending order */
	RWIRE_V_LABEL_DUPLICATE,      /* the same name twice in one series */
	RWIRE_V_NO_SAMPLES,           /* a series without samples */
	RWIRE_V_OUT_OF_ORDER,         /* a sample older than the series' last one */
	RWIRE_V_COUNT                 /* number of classes */
};

struct rwire_opts {
	bool print;        /* print every sample on <out> (the demo) */
	bool check;        /* validate every request against the 1.0 rules */
	bool count_only;   /* fast path: count series/samples without protobuf-c */
	FILE *out;         /* where series are printed */
	FILE *dump;        /* NULL or the --dump file: key TAB ts TAB value */
	size_t max_raw;    /* refuse (413) requests that decompress to more */
};

struct rwire_totals {
	uint64_t requests;     /* answered 2xx */
	uint64_t bad_requests; /* answered 4xx because of the body or headers */
	uint64_t series;
	uint64_t samples;
	uint64_t bytes;        /* compressed body bytes of accepted requests */
	uint64_t raw_bytes;    /* uncompressed */
	uint64_t violations;   /* sum over classes */
	uint64_t duplicates;   /* samples repeating a series' last timestamp */
	int64_t first_ms;      /* CLOCK_REALTIME of the first accepted request, 0 = none */
	int64_t last_ms;       /* ... of the last */
};

struct rwire_slot;

struct rwire {
	struct rwire_opts o;
	struct rwire_totals t;
	uint64_t v[RWIRE_V_COUNT];
	uint64_t v_printed;
	uint8_t *raw;          /* snappy output, reused */
	size_t raw_cap;
	char *line;            /* text being built, reused */
	size_t line_len, line_cap;
	char *key;             /* canonical series key, reused */
	size_t key_len, key_cap;
	size_t *order;         /* label index permutation, reused */
	size_t order_cap;
	struct rwire_slot *tab; /* --check: series key -> last timestamp */
	size_t tab_cap, tab_used;
};

/* 0 or -ENOMEM. <o> is copied; the FILEs stay owned by the caller. */
int rwire_init(struct rwire *w, const struct rwire_opts *o);
void rwire_fini(struct rwire *w);

/*
 * Handle one complete POST request body (r->buf + r->head_len, r->body_len).
 * Returns 0 (answer 204) or a negative HTTP status (-400, -413, -415) with a
 * one-line reason in <why>. Never crashes on any input. Main loop only.
 */
int rwire_handle(struct rwire *w, const struct rhttp_req *r, char *why, size_t whylen);

/* Name of a violation class, e.g. "labels-unsorted". */
const char *rwire_violation_name(enum rwire_violation v);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t rwire_now_ms(void);

#endif
