/* SPDX-License-Identifier: MIT */
/* snappy_writer.h: the snappy block format written element by element. */
#ifndef FLOWRW_SNAPPY_WRITER_H
#define FLOWRW_SNAPPY_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A snappy block (google/snappy format_description.txt) is a varint of the
 * uncompressed length followed by elements, each either a literal (bytes
 * given) or a copy (<length> bytes from <offset> bytes back in the
 * uncompressed output).  A compressor has to search for the repetition; a
 * writer that already knows where it is (the encoder: a row's labels
 * repeat in every series of the row) can emit the copies itself, for the
 * cost of a few bytes per 64 repeated ones instead of a hash lookup per
 * input position.  struct snw holds the elements only: the length varint
 * is known at the end and written in front by whoever ships the block.
 *
 * Elements written (what every snappy decoder accepts, libsnappy's, Go's
 * and Prometheus' among them):
 *   literal  tag (n-1)<<2 for n <= 60, else 60..63<<2 + 1..4 bytes of n-1
 *   copy-1   offset < 2048, length 4..11:  tag 1 | (len-4)<<2 | off>>8<<5, off&0xff
 *   copy-2   offset < 65536, length 1..64: tag 2 | (len-1)<<2, 16-bit LE offset
 *   copy-4   any 32-bit offset, length 1..64: tag 3 | (len-1)<<2, 32-bit LE offset
 *
 * Size bound.  A copy is only emitted when it saves at least one byte
 * (length >= 4 for copy-1/2 at 2-3 bytes, >= 6 for copy-4 at 5 bytes), and
 * long copies are split so that no piece is shorter.  Adjacent literals are
 * merged into one run, so every literal run but the first follows a copy
 * that paid for its one-byte tag; runs over 60 bytes cost at most 4 more.
 * Hence elements <= n + n/15 + 5 for n uncompressed bytes, within
 * snw_max_len(n) (libsnappy's own bound, 32 + n + n/6) even with the
 * preamble: a lane ring sized for libsnappy's bound holds our blocks.
 */

#define SNW_NO_LIT  SIZE_MAX
#define SNW_LIT_MAX 60           /* longest literal with a one-byte tag */
#define SNW_COPY_MAX 64          /* longest copy element */

struct snw {
	uint8_t *buf;
	size_t len;                  /* element bytes, the pending literal's included */
	size_t cap;
	size_t ulen;                 /* uncompressed bytes the elements stand for */
	size_t lit;                  /* offset of the pending literal's tag, or SNW_NO_LIT */
};

/* libsnappy's bound for <n> uncompressed bytes (snappy_max_compressed_length). */
static inline size_t snw_max_len(size_t n)
{
	return 32 + n + n / 6;
}

/* Element bytes that appending <n> uncompressed bytes (through any mix of
 * snw_lit() and snw_copy() calls) can add, with the 4 bytes a pending
 * literal may grow by when it closes and the slack snw_copy() stores into. */
static inline size_t snw_grow_max(size_t n)
{
	return n + n / 8 + 32;
}

/* Shortest copy worth an element at offset <off> (see the size bound). */
static inline size_t snw_copy_min(size_t off)
{
	return off < 65536 ? 4 : 6;
}

void snw_init(struct snw *w);
void snw_fini(struct snw *w);

/* Forget the elements (keeps the memory). */
static inline void snw_reset(struct snw *w)
{
	w->len = 0;
	w->ulen = 0;
	w->lit = SNW_NO_LIT;
}

/* Make sure snw_grow_max(<n>) more bytes fit.  Returns 0 or -ENOMEM. */
int snw_reserve(struct snw *w, size_t n);

/* Slow part of snw_lit_close(): a run of more than 60 bytes needs 1-4
 * length bytes after its tag, so the run moves up by that much. */
void __snw_lit_close_long(struct snw *w, size_t run);

/* Give the pending literal run its tag. */
static inline void snw_lit_close(struct snw *w)
{
	size_t run;

	if (w->lit == SNW_NO_LIT)
		return;
	run = w->len - w->lit - 1;
	if (__builtin_expect(run <= SNW_LIT_MAX, 1))
		w->buf[w->lit] = (uint8_t)((run - 1) << 2);
	else
		__snw_lit_close_long(w, run);
	w->lit = SNW_NO_LIT;
}

/*
 * Append <n> literal bytes.  They join the pending run, whose tag is
 * written when a copy or snw_finish() closes it: one tag byte is kept free
 * in front, so a run of up to 60 bytes (the usual: a sample and the next
 * series' header) is written once and never moved.
 */
static inline void snw_lit(struct snw *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (w->lit == SNW_NO_LIT)
		w->lit = w->len++;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->ulen += n;
}

/*
 * Append <n> <= 16 literal bytes from <p>, which must have 16 readable
 * bytes: one fixed 16-byte copy instead of a memcpy() call for the few
 * bytes of a series header or a sample (the bytes past <n> are scratch,
 * overwritten next; snw_grow_max() keeps room for them).
 */
static inline void snw_lit16(struct snw *w, const uint8_t p[16], size_t n)
{
	if (w->lit == SNW_NO_LIT)
		w->lit = w->len++;
	memcpy(w->buf + w->len, p, 16);
	w->len += n;
	w->ulen += n;
}

/* One copy element of 1..64 bytes (copy-1 where it fits). */
static inline uint8_t *snw_put_copy(uint8_t *p, size_t off, size_t n)
{
	if (n <= 11 && off < 2048 && n >= 4) {
		p[0] = (uint8_t)(1 | ((n - 4) << 2) | ((off >> 8) << 5));
		p[1] = (uint8_t)off;
		return p + 2;
	}
	if (off < 65536) {
		/* one 4-byte store (cap has slack); the 4th byte is overwritten next */
		uint32_t v = (uint32_t)(2 | ((n - 1) << 2)) | (uint32_t)off << 8;

		memcpy(p, &v, 4);
		return p + 3;
	}
	p[0] = (uint8_t)(3 | ((n - 1) << 2));
	p[1] = (uint8_t)off;
	p[2] = (uint8_t)(off >> 8);
	p[3] = (uint8_t)(off >> 16);
	p[4] = (uint8_t)(off >> 24);
	return p + 5;
}

/*
 * Append a copy of <n> bytes from <off> bytes back in the uncompressed
 * output: 1 <= off <= w->ulen, off < 2^32, n >= snw_copy_min(off) (the
 * caller emits shorter repeats as literals).  Pieces of 64 bytes, the last
 * two balanced so that none is shorter than snw_copy_min(off).
 */
static inline void snw_copy(struct snw *w, size_t off, size_t n)
{
	size_t min = snw_copy_min(off);
	uint8_t *p;

	snw_lit_close(w);
	w->ulen += n;
	p = w->buf + w->len;
	if (off < 65536) {
		/* The common case (a row's labels, a series back): 3-byte
		 * copy-2 elements of 64 as one 4-byte store each, until the
		 * last two pieces are balanced below. */
		uint32_t v64 = (uint32_t)(2 | ((SNW_COPY_MAX - 1) << 2)) | (uint32_t)off << 8;

		while (n >= SNW_COPY_MAX + 8) {
			memcpy(p, &v64, 4);
			p += 3;
			n -= SNW_COPY_MAX;
		}
	}
	while (n > SNW_COPY_MAX) {
		size_t k = n - SNW_COPY_MAX >= min ? SNW_COPY_MAX : n - min;

		p = snw_put_copy(p, off, k);
		n -= k;
	}
	p = snw_put_copy(p, off, n);
	w->len = (size_t)(p - w->buf);
}

/* Close the block: after this w->buf[0..w->len) are complete elements. */
static inline void snw_finish(struct snw *w)
{
	snw_lit_close(w);
}

#endif
