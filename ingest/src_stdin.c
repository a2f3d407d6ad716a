/* SPDX-License-Identifier: MIT */
/* src_stdin.c: rows from standard input until EOF (a finite source). */
#include "ingest/ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/*
 * A pipe, socket or terminal is watched with epoll and read once per
 * readiness (stdin is left blocking: its file status flags are shared with
 * whoever else holds it).  A regular file or /dev/null (which epoll
 * refuses) is read like a file: always ready until EOF.
 */

struct stdin_src {
	struct ing_stream *st;
	bool pollable;
};

static int stdin_start(struct ingest *ing, struct ing_source *s)
{
	struct stdin_src *ss = calloc(1, sizeof(*ss));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct stat sb;

	snprintf(s->name, sizeof(s->name), "stdin");
	if (!ss)
		return 111;
	s->priv = ss;
	s->finite = true;
	if (fstat(STDIN_FILENO, &sb) == -1) {
		log_warn("%s: %s: nothing to read", s->name, strerror(errno));
		s->exhausted = true;
		stat_set(&s->st->exhausted, 1);
		return 0;
	}
	ss->st = ing_stream_new(ing, s, STDIN_FILENO, ING_READ_BYTES, NULL);
	if (!ss->st)
		return 111;
	if (!S_ISREG(sb.st_mode)) {
		s->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (s->epfd == -1)
			return 111;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0) {
			ss->pollable = true;
			return 0;
		}
		close(s->epfd);
		s->epfd = -1;
	}
	s->ready = true;
	return 0;
}

static void stdin_pump(struct ingest *ing, struct ing_source *s)
{
	struct stdin_src *ss = s->priv;
	struct epoll_event ev;

	if (!ss->st)
		return;
	if (!ss->pollable) {
		if (ing_stream_pump(ing, ss->st, 4) == 0)
			s->ready = true;
		return;
	}
	if (epoll_wait(s->epfd, &ev, 1, 0) == 1)
		ing_stream_pump(ing, ss->st, 1); /* blocking fd: one read after readiness */
}

static void stdin_stream_eof(struct ingest *ing, struct ing_source *s, struct ing_stream *st)
{
	struct stdin_src *ss = s->priv;

	log_info("%s: done: %" PRIu64 " lines", s->name, st->line_no);
	ing_stream_free(ing, st); /* fd 0 stays open */
	ss->st = NULL;
	ing_src_poll(ing, s, false);
	s->exhausted = true;
	stat_set(&s->st->exhausted, 1);
}

static void stdin_stop(struct ingest *ing, struct ing_source *s)
{
	(void)ing;
	free(s->priv);
	s->priv = NULL;
}

const struct ing_src_ops ing_src_stdin_ops = {
	.start = stdin_start,
	.pump = stdin_pump,
	.stream_eof = stdin_stream_eof,
	.stop = stdin_stop,
};
