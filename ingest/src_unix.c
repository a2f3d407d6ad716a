/* SPDX-License-Identifier: MIT */
/* src_unix.c: rows over a Unix stream socket (stale file removed, mode 0660). */
#include "ingest/ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

static int unix_start(struct ingest *ing, struct ing_source *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = s->cfg->path;
	struct ing_sock *ss;
	mode_t old;
	int rc;

	(void)ing;
	snprintf(s->name, sizeof(s->name), "unix %s", path ? path : "");
	if (!path || !*path || strlen(path) >= sizeof(sun.sun_path)) {
		log_err("%s: path must be 1..%zu bytes", s->name, sizeof(sun.sun_path) - 1);
		return 100;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return 111;
	ss->lfd = -1;
	s->priv = ss;
	ss->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ss->lfd == -1) {
		log_err("%s: socket: %s", s->name, strerror(errno));
		return 111;
	}
	if (access(path, F_OK) == 0) {
		/* Stale from a crash, or someone else's live socket? */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = probe != -1 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		int why = errno;

		if (probe != -1)
			close(probe);
		if (live) {
			log_err("%s: another process is listening on it", s->name);
			return 111;
		}
		if (why != ECONNREFUSED && why != ENOENT) {
			log_err("%s: exists and is not a usable socket (%s)", s->name, strerror(why));
			return 100;
		}
		if (unlink(path) == 0)
			log_info("%s: removed a stale socket file", s->name);
	}
	/* Created 0660: group members may write rows, others may not. */
	old = umask(0117);
	rc = bind(ss->lfd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1 || listen(ss->lfd, SOMAXCONN) == -1) {
		int err = errno;

		log_err("%s: bind: %s", s->name, strerror(err));
		return err == EADDRINUSE ? 111 : 100;
	}
	snprintf(ss->unix_path, sizeof(ss->unix_path), "%s", path);
	log_info("%s: listening", s->name);
	return ing_sock_listening(s, ss);
}

const struct ing_src_ops ing_src_unix_ops = {
	.start = unix_start,
	.pump = ing_sock_pump,
	.stream_eof = ing_sock_stream_eof,
	.stop = ing_sock_stop,
};
