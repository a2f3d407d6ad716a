/* SPDX-License-Identifier: MIT */
/* lines.c: newline framing with a maximum line length. */
#include "ingest/lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lines_init(struct lines *l, size_t initial, size_t max_line)
{
	memset(l, 0, sizeof(*l));
	if (max_line < 1)
		max_line = 1;
	l->max_line = max_line;
	/* A whole max-length line plus its '\n', and room for one read. */
	l->max_cap = max_line + 1 + initial;
	if (initial > l->max_cap)
		initial = l->max_cap;
	l->buf = malloc(initial);
	if (!l->buf)
		return -ENOMEM;
	l->cap = initial;
	return 0;
}

void lines_fini(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->cap = l->head = l->tail = l->scan = 0;
}

void lines_reset(struct lines *l)
{
	l->head = l->tail = l->scan = 0;
	l->skipping = false;
	l->skipped = 0;
}

char *lines_space(struct lines *l, size_t *room)
{
	if (l->tail == l->cap && l->head > 0) {
		size_t n = l->tail - l->head;

		memmove(l->buf, l->buf + l->head, n);
		l->scan -= l->head;
		l->head = 0;
		l->tail = n;
	}
	if (l->tail == l->cap) {
		/* One partial line fills the whole buffer: it must be shorter
		 * than max_line (lines_peek() reports longer ones), so grow. */
		size_t ncap = l->cap * 2;
		char *nb;

		if (ncap > l->max_cap)
			ncap = l->max_cap;
		if (ncap <= l->cap)
			return NULL; /* cannot happen: peek skips long lines first */
		nb = realloc(l->buf, ncap);
		if (!nb)
			return NULL;
		l->buf = nb;
		l->cap = ncap;
	}
	*room = l->cap - l->tail;
	return l->buf + l->tail;
}

int lines_grow(struct lines *l, size_t cap)
{
	char *nb;

	if (cap <= l->cap)
		return 0;
	nb = realloc(l->buf, cap);
	if (!nb)
		return -ENOMEM;
	l->buf = nb;
	l->cap = cap;
	if (cap > l->max_cap)
		l->max_cap = cap; /* the read size grew, not the longest line */
	return 0;
}

void lines_peek(struct lines *l, bool eof, struct lines_item *it)
{
	char *nl;

	it->data = NULL;
	it->len = 0;
	it->span = 0;
	it->first = !l->skipping;
	if (l->scan < l->head)
		l->scan = l->head;
	nl = l->scan < l->tail ? memchr(l->buf + l->scan, '\n', l->tail - l->scan) : NULL;
	if (l->skipping) {
		/* Drop the rest of a long line, up to and including its '\n'. */
		it->kind = LINES_TOO_LONG;
		it->span = nl ? (size_t)(nl - (l->buf + l->head)) + 1 : l->tail - l->head;
		if (it->span == 0)
			it->kind = LINES_NONE;
		return;
	}
	if (nl) {
		size_t len = (size_t)(nl - (l->buf + l->head));

		if (len > l->max_line) {
			it->kind = LINES_TOO_LONG;
			it->span = len + 1;
			return;
		}
		it->kind = LINES_LINE;
		it->data = l->buf + l->head;
		it->len = len;
		it->span = len + 1;
		return;
	}
	l->scan = l->tail;
	if (l->tail - l->head > l->max_line) {
		/* No '\n' within max_line bytes: report now, skip the rest later. */
		it->kind = LINES_TOO_LONG;
		it->span = l->tail - l->head;
		return;
	}
	if (eof && l->tail > l->head) {
		it->kind = LINES_LAST;
		it->data = l->buf + l->head;
		it->len = l->tail - l->head;
		it->span = it->len;
		return;
	}
	it->kind = LINES_NONE;
}

void lines_consume(struct lines *l, const struct lines_item *it)
{
	bool ended;

	if (it->kind == LINES_NONE)
		return;
	ended = it->span > 0 && l->buf[l->head + it->span - 1] == '\n';
	if (it->kind == LINES_TOO_LONG) {
		/* Still inside the long line unless its '\n' was in the span. */
		l->skipping = !ended;
		l->skipped = l->skipping ? l->skipped + it->span : 0;
	}
	l->head += it->span;
	if (l->head == l->tail)
		l->head = l->tail = l->scan = 0;
}
