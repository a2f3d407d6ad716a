/* SPDX-License-Identifier: MIT */
/* test_ingest_file.c: file follow across rename and truncate rotation; crash-resume without loss or duplicates. */
#include "ingest_harness.h"

#include <fcntl.h>

static struct harness H;

static void fini(void)
{
	h_fini(&H);
}

TestSuite(ingest_file, .fini = fini, .timeout = 60);

static void append_rows(const char *path, long from, long to)
{
	FILE *f = fopen(path, "a");
	char row[512];

	cr_assert(f, "open %s", path);
	for (long i = from; i < to; i++) {
		h_row_text(row, sizeof(row), (int)(i % 11), i);
		fputs(row, f);
	}
	cr_assert_eq(fclose(f), 0);
}

static void want_rows(size_t n)
{
	h_take_until(&H, n, 10000);
	cr_assert_eq(H.n_rows, n, "%zu rows, want %zu", H.n_rows, n);
}

Test(ingest_file, follow_across_rename_and_truncate)
{
	struct cfg_source *src;
	char *path = NULL, *old = NULL, row[512];
	FILE *f;
	int n;

	h_init(&H, 2, 1 << 20);
	path = h_path(&H, "rows.ndjson");
	old = h_path(&H, "rows.ndjson.1");
	append_rows(path, 0, 100);
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	src->follow = true;
	h_start(&H);
	want_rows(100);

	/* Growth, with a row written in two halves across polls. */
	append_rows(path, 100, 150);
	n = h_row_text(row, sizeof(row), 1, 150);
	f = fopen(path, "a");
	fwrite(row, 1, 20, f);
	fflush(f);
	usleep(400 * 1000);
	fwrite(row + 20, 1, (size_t)n - 20, f);
	fclose(f);
	append_rows(path, 151, 200);
	want_rows(200);

	/* Rename rotation: the writer appends a little more to the renamed
	 * file, then starts a new one. */
	cr_assert_eq(rename(path, old), 0);
	append_rows(old, 200, 210);
	append_rows(path, 210, 300);
	want_rows(300);

	/* Truncate rotation (copytruncate): shorter content than before. */
	cr_assert_eq(truncate(path, 0), 0);
	usleep(100 * 1000);
	append_rows(path, 300, 320);
	usleep(700 * 1000);
	append_rows(path, 320, 350);
	want_rows(350);

	/* Deleted and recreated later: waits for it. */
	cr_assert_eq(unlink(path), 0);
	usleep(800 * 1000);
	append_rows(path, 350, 360);
	want_rows(360);

	h_assert_ids_once(&H, 360);
	cr_assert_eq(h_stat(&H.shm.stats->in.source[0].exhausted), 0, "a followed file never ends");
	cr_assert_eq(h_stat(&H.shm.stats->in.rejected[STATS_REJ_MALFORMED_JSON]), 0);
	h_kill(&H, SIGTERM);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	free(path);
	free(old);
}

/* Kill ingest (SIGKILL) while it waits on a full ring, restart it as the
 * supervisor would (ingest.starts = 2): every file row arrives exactly
 * once across the crashes. */
Test(ingest_file, crash_resume_exactly_once)
{
	enum { ROWS = 3000 };
	struct cfg_source *src;
	char *path;

	h_init(&H, 2, 4096);
	path = h_path(&H, "rows.ndjson");
	append_rows(path, 0, ROWS);
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	stat_set(&H.shm.stats->ingest.starts, 1);
	for (int crash = 0; crash < 4; crash++) {
		uint64_t waits0 = h_stat(&H.shm.stats->in.ring_full_waits);
		int64_t end = h_ms() + 5000;

		h_start(&H);
		while (h_stat(&H.shm.stats->in.ring_full_waits) == waits0 && h_ms() < end)
			usleep(1000);
		cr_assert_gt(h_stat(&H.shm.stats->in.ring_full_waits), waits0, "ingest never filled the rings");
		usleep((useconds_t)(crash * 3000));
		h_kill(&H, SIGKILL);
		h_take(&H);
		stat_add(&H.shm.stats->ingest.starts, 1);
	}
	h_start(&H);
	h_take_until(&H, ROWS, 20000);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	h_assert_ids_once(&H, ROWS);
	cr_assert_gt(H.n_rows, 0);
	free(path);
}

/* The same for a finite synthetic source: the row count survives crashes. */
Test(ingest_file, synthetic_crash_resume)
{
	enum { ROWS = 2000 };
	struct cfg_source *src;

	h_init(&H, 1, 8192);
	src = h_source(&H, CFG_SRC_SYNTHETIC);
	src->data_source = SCHEMA_DS_APPLICATION_MAP_1S;
	src->series = 5000;
	src->rows = ROWS;
	src->seed = 3;
	stat_set(&H.shm.stats->ingest.starts, 1);
	for (int crash = 0; crash < 3; crash++) {
		uint64_t waits0 = h_stat(&H.shm.stats->in.ring_full_waits);
		int64_t end = h_ms() + 5000;

		h_start(&H);
		while (h_stat(&H.shm.stats->in.ring_full_waits) == waits0 && h_ms() < end)
			usleep(1000);
		h_kill(&H, SIGKILL);
		h_take(&H);
		stat_add(&H.shm.stats->ingest.starts, 1);
	}
	h_start(&H);
	h_take_until(&H, ROWS, 20000);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	cr_assert_eq(H.n_rows, ROWS);
	cr_assert_eq(h_stat(&H.shm.stats->in.source[0].resume_rows), ROWS);
}
