/* SPDX-License-Identifier: MIT */
/* lines.h: newline framing of a byte stream with a maximum line length. */
#ifndef FLOWRW_INGEST_LINES_H
#define FLOWRW_INGEST_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One buffer per stream.  The reader asks for free space, reads into it,
 * then takes complete lines out one at a time; a line is handed out by
 * lines_peek() and only dropped by lines_consume(), so a line that cannot
 * be delivered now (full ring) is offered again later.
 *
 *   buf: [consumed ....|line\nline\npart|free ........]
 *                      ^head           ^tail          ^cap
 *
 * A line longer than <max_line> bytes (newline excluded) is reported once
 * as LINES_TOO_LONG and its bytes are discarded up to and including its
 * newline, however many reads that takes: memory stays bounded by
 * max_line + 1 plus the read size.  The buffer grows from a small start
 * only while a single line needs it, so idle connections cost little.
 */

enum lines_kind {
	LINES_NONE = 0,         /* no complete line buffered */
	LINES_LINE,             /* a line, without its '\n' */
	LINES_TOO_LONG,         /* a line over max_line was (or is being) skipped */
	LINES_LAST,             /* at EOF: the final line had no '\n' */
};

struct lines_item {
	enum lines_kind kind;
	const char *data;       /* LINE/LAST: the bytes */
	size_t len;
	size_t span;            /* bytes lines_consume() drops */
	bool first;             /* TOO_LONG: the start of a long line (count it once) */
};

struct lines {
	char *buf;
	size_t cap;
	size_t head;            /* first unconsumed byte */
	size_t tail;            /* end of data */
	size_t scan;            /* no '\n' in [head, scan) */
	size_t max_line;
	size_t max_cap;         /* the buffer never grows past this */
	bool skipping;          /* discarding the rest of a too-long line */
	uint64_t skipped;       /* bytes discarded of the current long line */
};

/* <initial> buffer bytes, lines of at most <max_line> bytes.  Returns 0 or
 * -ENOMEM.  lines_fini() accepts a zeroed or half-built struct. */
int lines_init(struct lines *l, size_t initial, size_t max_line);
void lines_fini(struct lines *l);

/* Free space to read into (compacts first, grows when a partial line fills
 * the buffer); <*room> > 0 always when the return is not NULL.  NULL only
 * on allocation failure. */
char *lines_space(struct lines *l, size_t *room);
/* A busy stream (a read filled the whole room): let the buffer grow to
 * <cap> bytes so that one read takes more, which saves system calls.  It
 * never shrinks; lines_fini() frees it.  Returns 0 or -ENOMEM (the buffer
 * stays as it was). */
int lines_grow(struct lines *l, size_t cap);
/* <n> bytes were written at the space lines_space() returned. */
static inline void lines_added(struct lines *l, size_t n)
{
	l->tail += n;
}

/* The next item, without consuming it.  <eof> says no more bytes will
 * come, so a final unterminated line is LINES_LAST. */
void lines_peek(struct lines *l, bool eof, struct lines_item *it);
/* Drop the item lines_peek() returned. */
void lines_consume(struct lines *l, const struct lines_item *it);

/* Bytes buffered and not consumed. */
static inline size_t lines_pending(const struct lines *l)
{
	return l->tail - l->head;
}

/* Forget everything buffered (a truncated file starts over). */
void lines_reset(struct lines *l);

#endif
