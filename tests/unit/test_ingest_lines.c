/* SPDX-License-Identifier: MIT */
/* test_ingest_lines.c: newline framing with a maximum line length. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "ingest/lines.h"

static struct lines L;

static void fini(void)
{
	lines_fini(&L);
}

TestSuite(lines, .fini = fini);

/* Feed <text> in chunks of <step> bytes; collect "kind:line" items. */
static void feed(const char *text, size_t len, size_t step, char *out, size_t cap)
{
	struct lines_item it;
	size_t off = 0, o = 0;

	out[0] = 0;
	for (;;) {
		bool eof = off >= len;

		for (;;) {
			lines_peek(&L, eof, &it);
			if (it.kind == LINES_NONE)
				break;
			if (it.kind == LINES_TOO_LONG) {
				if (it.first)
					o += (size_t)snprintf(out + o, cap - o, "[long]");
			} else {
				o += (size_t)snprintf(out + o, cap - o, "[%s%.*s]", it.kind == LINES_LAST ? "last:" : "",
						      (int)it.len, it.data);
			}
			lines_consume(&L, &it);
		}
		if (eof)
			break;
		{
			size_t room, n;
			char *p = lines_space(&L, &room);

			cr_assert(p);
			n = len - off < step ? len - off : step;
			if (n > room)
				n = room;
			memcpy(p, text + off, n);
			lines_added(&L, n);
			off += n;
		}
	}
}

Test(lines, any_chunking_gives_the_same_lines)
{
	const char *text = "ab\n\ncdef\r\nthis-line-is-too-long-for-ten\nxyz\n0123456789\n01234567890\nend";
	char first[512], out[512];

	for (size_t step = 1; step < 80; step++) {
		cr_assert_eq(lines_init(&L, 4, 10), 0);
		feed(text, strlen(text), step, out, sizeof(out));
		if (step == 1)
			strcpy(first, out);
		cr_assert_str_eq(out, first, "step %zu", step);
		lines_fini(&L);
	}
	cr_assert_str_eq(first, "[ab][][cdef\r][long][xyz][0123456789][long][last:end]");
}

Test(lines, long_line_without_newline_is_reported_once)
{
	char text[5000], out[256];

	memset(text, 'x', sizeof(text));
	memcpy(text + 4990, "\nok\n", 4);
	cr_assert_eq(lines_init(&L, 16, 100), 0);
	feed(text, 4994, 7, out, sizeof(out));
	cr_assert_str_eq(out, "[long][ok]");
	cr_assert_leq(L.cap, 100 + 1 + 16, "memory stays bounded");
}

Test(lines, eof_inside_a_long_line)
{
	char text[300], out[256];

	memset(text, 'y', sizeof(text));
	cr_assert_eq(lines_init(&L, 16, 100), 0);
	feed(text, sizeof(text), 50, out, sizeof(out));
	cr_assert_str_eq(out, "[long]");
}

/* Growing the read buffer between reads keeps a partial line and the
 * max-line limit: growth is for the read size, not for longer lines. */
Test(lines, grow_keeps_partial_line_and_limit)
{
	struct lines_item it;
	size_t room;
	char *p;

	cr_assert_eq(lines_init(&L, 16, 20), 0);
	p = lines_space(&L, &room);
	cr_assert_eq(room, 16);
	memcpy(p, "one\ntwo-par", 11);
	lines_added(&L, 11);
	lines_peek(&L, false, &it);
	cr_assert_eq(it.kind, LINES_LINE);
	lines_consume(&L, &it);
	cr_assert_eq(lines_grow(&L, 4096), 0);
	cr_assert_eq(L.cap, 4096);
	cr_assert_eq(lines_grow(&L, 64), 0, "never shrinks");
	cr_assert_eq(L.cap, 4096);
	p = lines_space(&L, &room);
	cr_assert_geq(room, 4096 - 11);
	memcpy(p, "tial\n", 5);
	lines_added(&L, 5);
	lines_peek(&L, false, &it);
	cr_assert_eq(it.kind, LINES_LINE);
	cr_assert_eq(it.len, 11);
	cr_assert_eq(memcmp(it.data, "two-partial", 11), 0);
	lines_consume(&L, &it);

	/* 30 bytes > max_line 20: still too long in the bigger buffer. */
	p = lines_space(&L, &room);
	memcpy(p, "012345678901234567890123456789\nok\n", 34);
	lines_added(&L, 34);
	lines_peek(&L, false, &it);
	cr_assert_eq(it.kind, LINES_TOO_LONG);
	lines_consume(&L, &it);
	lines_peek(&L, false, &it);
	cr_assert_eq(it.kind, LINES_LINE);
	cr_assert_eq(it.len, 2);
}
