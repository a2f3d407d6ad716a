/* SPDX-License-Identifier: MIT */
/* src_file.c: rows from a file, read once or followed across rename and truncate rotation. */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/*
 * Following polls: when a read hits the end, the file is checked every
 * ING_POLL_MS (250 ms) with fstat() of the open file and stat() of the
 * path:
 *   - size below the read position: truncated (copytruncate); read again
 *     from 0.  A file truncated and refilled past the old position between
 *     two polls looks like growth: the new head is missed (tail -F has the
 *     same blind spot).
 *   - the path names another inode, or nothing: renamed away.  The old
 *     file is read for FILE_ROTATE_WAIT_MS more (a writer may still append
 *     before it reopens), its last unterminated line is taken as a row,
 *     then the new file is opened and read from its start.
 * Polling rather than inotify: one code path for every filesystem (NFS,
 * overlay) and no watch limits; 250 ms is the latency it costs.
 */

#define FILE_READS          4     /* reads of up to ING_READ_BYTES per pump */
#define FILE_ROTATE_WAIT_MS 500

struct file_src {
	struct ing_stream *st;
	dev_t dev;
	ino_t ino;
	int64_t rotated_at;         /* monotonic ms the rename was seen; 0 = none */
	bool announced_missing;
	/* resume point of the last handled line, kept when the stream is gone */
	uint64_t offset, line_no;
	ino_t ino_offset;           /* the file <offset> belongs to */
};

static int file_open(struct ingest *ing, struct ing_source *s, bool resume)
{
	struct file_src *fs = s->priv;
	struct stats_source *ss = s->st;
	struct stat sb;
	int fd = open(s->cfg->path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -errno;
	if (fstat(fd, &sb) == -1) {
		int err = -errno;

		close(fd);
		return err;
	}
	fs->st = ing_stream_new(ing, s, fd, ING_READ_BYTES, NULL);
	if (!fs->st)
		return -ENOMEM;
	fs->dev = sb.st_dev;
	fs->ino = sb.st_ino;
	fs->rotated_at = 0;
	fs->offset = fs->line_no = 0;
	fs->ino_offset = sb.st_ino;
	if (resume && stat_get(&ss->resume_inode) == (uint64_t)sb.st_ino) {
		uint64_t off = stat_get(&ss->resume_offset);

		if (off <= (uint64_t)sb.st_size && lseek(fd, (off_t)off, SEEK_SET) == (off_t)off) {
			fs->st->offset = fs->offset = off;
			fs->st->line_no = fs->line_no = stat_get(&ss->resume_rows);
			log_info("%s: resuming at byte %" PRIu64 " (line %" PRIu64 ")", s->name, off, fs->line_no + 1);
		} else {
			log_warn("%s: shorter than the resume point %" PRIu64 ": reading from the start", s->name, off);
		}
	} else if (resume && stat_get(&ss->resume_inode)) {
		log_warn("%s: not the file read before the restart (inode changed): reading from the start",
			 s->name);
	}
	s->ready = true;
	return 0;
}

static int file_start(struct ingest *ing, struct ing_source *s)
{
	struct file_src *fs;
	int err;

	snprintf(s->name, sizeof(s->name), "file %s", s->cfg->path ? s->cfg->path : "");
	if (!s->cfg->path || !*s->cfg->path) {
		log_err("%s: no path", s->name);
		return 100;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return 111;
	s->priv = fs;
	s->finite = !s->cfg->follow;
	err = file_open(ing, s, ing->restart);
	if (err == -ENOMEM)
		return 111;
	if (err && !s->cfg->follow) {
		log_err("%s: %s", s->name, strerror(-err));
		return 100;
	}
	if (err) {
		log_warn("%s: %s: waiting for it to appear", s->name, strerror(-err));
		fs->announced_missing = true;
		s->wake_ms = ing_now_ms() + ING_POLL_MS;
	}
	return 0;
}

/* At the end of the open file (follow): truncated, rotated, or just idle? */
static void file_check(struct ingest *ing, struct ing_source *s)
{
	struct file_src *fs = s->priv;
	struct ing_stream *st = fs->st;
	struct stat now_sb, path_sb;
	off_t pos = lseek(st->fd, 0, SEEK_CUR);
	int64_t now = ing_now_ms();

	if (fstat(st->fd, &now_sb) == 0 && pos != -1 && now_sb.st_size < pos) {
		log_info("%s: truncated (size %lld < position %lld): reading from the start", s->name,
			 (long long)now_sb.st_size, (long long)pos);
		if (lseek(st->fd, 0, SEEK_SET) == 0) {
			lines_reset(&st->lines);
			st->offset = 0;
			st->line_no = 0;
			s->ready = true;
			return;
		}
	}
	if (stat(s->cfg->path, &path_sb) == -1 || path_sb.st_ino != fs->ino || path_sb.st_dev != fs->dev) {
		if (!fs->rotated_at) {
			fs->rotated_at = now;
			log_info("%s: renamed away: finishing the old file", s->name);
		}
		if (now - fs->rotated_at >= FILE_ROTATE_WAIT_MS) {
			/* Done with the old file: its last line, then the new one. */
			st->eof = true;
			ing_stream_lines(ing, st); /* if blocked, stream_eof runs once it clears */
			return;
		}
	}
	s->wake_ms = now + ING_POLL_MS;
}

static void file_pump(struct ingest *ing, struct ing_source *s)
{
	struct file_src *fs = s->priv;
	int rc, err;

	if (!fs->st) {
		err = file_open(ing, s, false);
		if (err) {
			if (!fs->announced_missing)
				log_warn("%s: %s: waiting for it to appear", s->name, strerror(-err));
			fs->announced_missing = true;
			s->wake_ms = ing_now_ms() + ING_POLL_MS;
			return;
		}
		fs->announced_missing = false;
		log_info("%s: opened", s->name);
	}
	rc = ing_stream_pump(ing, fs->st, FILE_READS);
	switch (rc) {
	case 0:
		s->ready = true;        /* more to read (a regular file never says EAGAIN) */
		break;
	case 3:
		file_check(ing, s);     /* at the end of a followed file */
		break;
	default:
		break;                  /* 1 blocked; 2 handed to file_stream_eof */
	}
}

static void file_stream_eof(struct ingest *ing, struct ing_source *s, struct ing_stream *st)
{
	struct file_src *fs = s->priv;

	fs->offset = st->offset;
	fs->line_no = st->line_no;
	fs->st = NULL;
	ing_stream_free(ing, st);
	if (!s->cfg->follow) {
		s->exhausted = true;
		stat_set(&s->st->exhausted, 1);
		log_info("%s: done: %" PRIu64 " lines", s->name, fs->line_no);
		return;
	}
	/* Rotated: the next pump opens the new file (or waits for it). */
	s->ready = true;
}

static void file_commit(struct ingest *ing, struct ing_source *s)
{
	struct file_src *fs = s->priv;

	(void)ing;
	if (!fs)
		return;
	if (fs->st) {
		fs->offset = fs->st->offset;
		fs->line_no = fs->st->line_no;
	}
	if (stat_get(&s->st->resume_inode) != (uint64_t)fs->ino_offset) {
		/* A new file: a crash between these stores rereads from 0
		 * (at least once), never skips. */
		stat_set(&s->st->resume_offset, 0);
		stat_set(&s->st->resume_rows, 0);
		stat_set(&s->st->resume_inode, (uint64_t)fs->ino_offset);
	}
	stat_set(&s->st->resume_offset, fs->offset);
	stat_set(&s->st->resume_rows, fs->line_no);
}

static void file_stop(struct ingest *ing, struct ing_source *s)
{
	(void)ing;
	free(s->priv);
	s->priv = NULL;
}

const struct ing_src_ops ing_src_file_ops = {
	.start = file_start,
	.pump = file_pump,
	.stream_eof = file_stream_eof,
	.commit = file_commit,
	.stop = file_stop,
};
