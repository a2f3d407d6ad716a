/* SPDX-License-Identifier: MIT */
/* ingest.h: the ingest process: sources -> DeepFlow JSON rows -> raw rows -> input rings. */
#ifndef FLOWRW_INGEST_INGEST_H
#define FLOWRW_INGEST_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cfg-t.h"
#include "common/shm.h"
#include "common/stats-t.h"
#include "ingest/json_row.h"
#include "ingest/lines.h"
#include "ingest/route.h"
#include "ingest/rowb.h"

/*
 * One process, one thread, one epoll loop.  The main epoll holds the
 * signalfd, the ingest doorbell (rung by encoders when they free ring
 * space) and one epoll fd per socket-like source (its listener and every
 * connection).  Stopping a source is one epoll_ctl on its epoll fd however
 * many connections it has: that is how a full ring stops the reading of
 * exactly the sources that must wait (TCP flow control then pushes back on
 * the writers), while `overflow: drop-newest` sources keep reading and
 * count their drops.
 *
 * Files and the synthetic source have no readiness to wait for; they are
 * "ready" (pumped every pass, a bounded slice each) or have a wake time.
 *
 * Rows are committed to the rings in batches (route.h); after each pass
 * every ring is flushed and only then are the resume points (file byte
 * offsets, synthetic row counts) written to the stats page, so a restarted
 * ingest never skips a row that was not in a ring.
 */

#define ING_READ_BYTES   (256 * 1024) /* a file/stdin read, and a file pump slice */
#define ING_CONN_BUF     (16 * 1024)  /* a connection's first buffer (grows per line, and to
                                        * ING_READ_BYTES while reads fill it) */
#define ING_POLL_MS      250          /* file follow polling, loop wake-up bound */

struct ingest;
struct ing_source;

/* A byte stream of newline-delimited rows: a connection, a file, stdin. */
struct ing_stream {
	struct ing_source *src;
	struct ing_stream *next, *prev;  /* the source's streams */
	int fd;                          /* -1 when closed */
	struct lines lines;
	uint64_t line_no;                /* lines consumed so far */
	uint64_t offset;                 /* input offset of the first unconsumed byte */
	bool eof;                        /* no more bytes will come */
	bool in_epoll;
	char peer[64];                   /* for messages: "127.0.0.1:40112"; "" for files */
};

struct ing_src_ops {
	/* Open listeners/files.  0, or an exit code (100 permanent, 111 transient). */
	int (*start)(struct ingest *ing, struct ing_source *s);
	/* Do a bounded slice of work: read and push rows. */
	void (*pump)(struct ingest *ing, struct ing_source *s);
	/* A stream at EOF has had every line handled: close, rotate or finish. */
	void (*stream_eof)(struct ingest *ing, struct ing_source *s, struct ing_stream *st);
	/* Every row handled so far is in a ring: publish the resume point. */
	void (*commit)(struct ingest *ing, struct ing_source *s);
	/* Release everything (exit). */
	void (*stop)(struct ingest *ing, struct ing_source *s);
};

struct ing_source {
	int index;                       /* in cfg->sources */
	const struct cfg_source *cfg;
	struct stats_source *st;
	const struct ing_src_ops *ops;
	char name[192];                  /* "tcp 127.0.0.1:20044", "file rows.ndjson" */
	int epfd;                        /* per-source epoll, or -1 */
	bool polling;                    /* epfd watched by the main loop */
	bool finite;
	bool exhausted;
	bool ready;                      /* pump again without waiting */
	int64_t wake_ms;                 /* pump at this monotonic time; 0 = none */
	bool blocked;                    /* a row waits for room in ring blocked_enc */
	int blocked_enc;
	uint32_t blocked_len;
	struct ing_stream *blocked_stream; /* whose line that row is; NULL = generated */
	struct ing_stream *streams;
	void *priv;
	/* counts not yet added to the stats page */
	uint64_t n_rows, n_bytes, n_rejected, n_dropped;
};

struct ingest {
	struct shm *shm;
	const struct cfg *cfg;
	struct stats_page *stats;
	struct route route;
	struct jrow *jp;
	struct rowb rb;
	uint8_t *rowbuf;                 /* ROWB_MAX_BYTES */
	int epfd;
	int sigfd;
	int doorbell;
	bool draining;
	bool restart;                    /* a restart: resume from the stats page */
	int64_t drain_deadline;          /* monotonic ms */
	int n_src;
	struct ing_source src[CFG_MAX_SOURCES];
	/* counts not yet added to the stats page */
	uint64_t n_rej[STATS_REJ_COUNT];
	uint64_t n_unknown_keys, n_dup_keys, n_dropped, n_full_waits, n_rows, n_bytes;
};

/*
 * The ingest process body: attach the input rings of <shm>, start the
 * sources of <cfg>, move rows until every source is finite and exhausted,
 * or SIGTERM / phase DRAIN; then commit, ring_close() every input ring.
 * Returns the exit code (0 clean, 100 config, 111 transient).  Call once
 * per process, from main() or a forked child (tests).
 */
int ing_run(struct shm *shm, const struct cfg *cfg);

/* --- for the source modules ----------------------------------------------- */

int64_t ing_now_ms(void);   /* CLOCK_MONOTONIC */
int64_t ing_wall_ms(void);  /* CLOCK_REALTIME */

/* A stream on <fd> (owned from now on) with an <initial>-byte buffer, on
 * <s>'s list.  NULL on allocation failure (fd closed). */
struct ing_stream *ing_stream_new(struct ingest *ing, struct ing_source *s, int fd, size_t initial,
				  const char *peer);
/* Close the fd (unless stdin), forget the buffer, unlink and free. */
void ing_stream_free(struct ingest *ing, struct ing_stream *st);

/*
 * Read from the stream's fd (at most <max_reads> reads) and handle every
 * complete line.  Returns 0 when the fd has nothing more now (or the
 * budget is spent), 1 when a row is blocked on a full ring (the source is
 * now blocked), 2 when the stream reached EOF and was handed to
 * ops->stream_eof() (it may be freed).  Read errors count as EOF and are
 * logged.
 */
int ing_stream_pump(struct ingest *ing, struct ing_stream *st, int max_reads);

/* Handle the complete lines buffered in <st> (and at EOF the last one).
 * Returns 0, 1 (blocked) or 2 (EOF handed over), as above. */
int ing_stream_lines(struct ingest *ing, struct ing_stream *st);

/* Encode the row in <b> and push it for source <s>.  0 pushed or dropped
 * (drop-newest, counted), 1 blocked (<s> is now blocked), -1 too large
 * (counted and logged). */
int ing_push_rowb(struct ingest *ing, struct ing_source *s, struct rowb *b);

/* Watch (or stop watching) <s>'s epoll fd in the main loop. */
void ing_src_poll(struct ingest *ing, struct ing_source *s, bool on);

/* Source modules' operation tables. */
extern const struct ing_src_ops ing_src_tcp_ops;
extern const struct ing_src_ops ing_src_unix_ops;
extern const struct ing_src_ops ing_src_file_ops;
extern const struct ing_src_ops ing_src_stdin_ops;
extern const struct ing_src_ops ing_src_synthetic_ops;

/* Stream-socket sources (tcp, unix; src_tcp.c): s->priv is a struct ing_sock. */
struct ing_sock {
	int lfd;                         /* listening socket */
	bool accepting;                  /* lfd is in the source's epoll */
	uint64_t conn_seq;
	char unix_path[108];             /* unix: the socket file removed at exit */
};

/* <ss->lfd> listens: create <s>'s epoll with it.  0 or an exit code. */
int ing_sock_listening(struct ing_source *s, struct ing_sock *ss);
/* Accept what is pending and read the ready connections (bounded). */
void ing_sock_pump(struct ingest *ing, struct ing_source *s);
void ing_sock_stream_eof(struct ingest *ing, struct ing_source *s, struct ing_stream *st);
void ing_sock_stop(struct ingest *ing, struct ing_source *s);

#endif
