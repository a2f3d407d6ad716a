/* SPDX-License-Identifier: MIT */
/* test_ingest_input.c: bad input of every class next to good rows, files, stdin, overflow. */
#include "ingest_harness.h"

#include <fcntl.h>

static struct harness H;

static void fini(void)
{
	h_fini(&H);
}

TestSuite(ingest_input, .fini = fini, .timeout = 30);

/* Every malformed-input class between valid rows: each valid row arrives,
 * each bad one is counted under its reason, the source finishes, ingest
 * closes the rings and exits 0. */
Test(ingest_input, every_bad_class_between_good_rows)
{
	char *path, *text, row[512], *long_pod;
	size_t cap = 64 * 1024, n = 0;
	struct cfg_source *src;
	struct stats_ingest *in;
	long id = 0;

	h_init(&H, 2, 64 * 1024);
	path = h_path(&H, "rows.ndjson");
	text = calloc(1, cap);
	long_pod = calloc(1, 700);
	memset(long_pod, 'p', 600);
#define GOOD() do { h_row_text(row, sizeof(row), 8080, id++); n += (size_t)snprintf(text + n, cap - n, "%s", row); } while (0)
#define BAD(s) do { n += (size_t)snprintf(text + n, cap - n, "%s\n", s); } while (0)
	GOOD();
	BAD("{\"datasource\":\"flow_metrics.network.1s\" \"time\":1}");                     /* malformed */
	GOOD();
	n += (size_t)snprintf(text + n, cap - n, "{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"pod\":\"%s\"}\n",
			      long_pod);                                                          /* too long */
	GOOD();
	BAD("{\"datasource\":\"flow_metrics.nope.1s\",\"time\":1}");                          /* unknown ds */
	GOOD();
	BAD("{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"packet_tx\":\"x\"}");   /* wrong type */
	GOOD();
	BAD("{\"datasource\":\"flow_metrics.network.1s\",\"packet_tx\":1}");                  /* missing time */
	GOOD();
	BAD("{\"time\":1,\"packet_tx\":1}");                                                   /* missing ds */
	GOOD();
	{
		static const char bin[] = "\x00\x01\xfe\xff\x7f garbage \x00\n";       /* binary */

		memcpy(text + n, bin, sizeof(bin) - 1);
		n += sizeof(bin) - 1;
	}
	GOOD();
	BAD("");                                                                               /* blank: no row */
	BAD("   \r");
	GOOD();
	n += (size_t)snprintf(text + n, cap - n, "{\"datasource\":\"flow_metrics.network.1s\",\"time\":17"); /* truncated */
#undef GOOD
#undef BAD
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		cr_assert(fd >= 0);
		cr_assert_eq(write(fd, text, n), (ssize_t)n);
		close(fd);
	}
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	src->max_line_bytes = 512;
	h_start(&H);
	cr_assert_eq(h_wait(&H, 10000), 0, "ingest exits 0 once the file is read");
	cr_assert(h_all_drained(&H), "every ring closed");
	cr_assert_eq(H.n_rows, (size_t)id, "%zu rows, want %ld", H.n_rows, id);
	h_assert_ids_once(&H, id);
	in = &H.shm.stats->in;
	cr_assert_eq(h_stat(&in->rejected[STATS_REJ_MALFORMED_JSON]), 3, "malformed, binary, truncated last");
	cr_assert_eq(h_stat(&in->rejected[STATS_REJ_LINE_TOO_LONG]), 1);
	cr_assert_eq(h_stat(&in->rejected[STATS_REJ_UNKNOWN_DATASOURCE]), 1);
	cr_assert_eq(h_stat(&in->rejected[STATS_REJ_WRONG_TYPE]), 1);
	cr_assert_eq(h_stat(&in->rejected[STATS_REJ_MISSING_TIME]), 1);
	cr_assert_eq(h_stat(&in->rejected[STATS_REJ_MISSING_DATASOURCE]), 1);
	cr_assert_eq(h_stat(&in->rows_in), (uint64_t)id);
	cr_assert_eq(h_stat(&in->bytes_in), n);
	cr_assert_eq(h_stat(&in->source[0].rows), (uint64_t)id);
	cr_assert_eq(h_stat(&in->source[0].rejected), 8);
	cr_assert_eq(h_stat(&in->source[0].exhausted), 1);
	cr_assert_eq(h_stat(&in->source[0].resume_offset), n);
	free(text);
	free(long_pod);
	free(path);
}

/* A line far over max-line-bytes spans many reads: skipped, counted once,
 * and the rows around it arrive; a valid last line without '\n' counts. */
Test(ingest_input, huge_line_across_reads)
{
	char *path = NULL, row[512];
	size_t big = 3 * 1024 * 1024;
	char *junk = malloc(big + 2);
	FILE *f;
	struct cfg_source *src;

	h_init(&H, 1, 64 * 1024);
	path = h_path(&H, "big.ndjson");
	f = fopen(path, "w");
	cr_assert(f);
	h_row_text(row, sizeof(row), 1, 0);
	fputs(row, f);
	memset(junk, 'x', big);
	junk[big] = '\n';
	fwrite(junk, 1, big + 1, f);
	h_row_text(row, sizeof(row), 1, 1);
	fputs(row, f);
	h_row_text(row, sizeof(row), 1, 2);
	row[strlen(row) - 1] = 0; /* no final newline */
	fputs(row, f);
	fclose(f);
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	h_start(&H);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	h_assert_ids_once(&H, 3);
	cr_assert_eq(h_stat(&H.shm.stats->in.rejected[STATS_REJ_LINE_TOO_LONG]), 1);
	cr_assert_eq(h_stat(&H.shm.stats->in.rejected[STATS_REJ_MALFORMED_JSON]), 0);
	free(junk);
	free(path);
}

/* The 16 sample rows (all 8 data sources) through the whole loop. */
Test(ingest_input, sample_file_through_the_loop)
{
	const char *root = getenv("FLOWRW_ROOT");
	char *path;
	struct cfg_source *src;
	int per_ds[SCHEMA_DS_MAX] = { 0 };

	h_init(&H, 3, 64 * 1024);
	cr_assert(asprintf(&path, "%s/tests/data/rows-all-sources.ndjson", root ? root : ".") > 0);
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	h_start(&H);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	cr_assert_eq(H.n_rows, 16);
	for (size_t i = 0; i < H.n_rows; i++)
		per_ds[H.rows[i].ds]++;
	for (int ds = 0; ds < SCHEMA_DS_MAX; ds++)
		cr_assert_eq(per_ds[ds], ds == 4 ? 0 : 2);
	cr_assert_eq(h_stat(&H.shm.stats->in.unknown_keys), 0);
	free(path);
}

/* stdin is finite: rows until EOF, then exit 0; a default data-source
 * fills rows that lack one. */
Test(ingest_input, stdin_until_eof_with_default_ds)
{
	int p[2];
	struct cfg_source *src;
	char row[256];

	h_init(&H, 2, 64 * 1024);
	cr_assert_eq(pipe(p), 0);
	H.stdin_fd = p[0];
	H.child_close = p[1];
	src = h_source(&H, CFG_SRC_STDIN);
	src->data_source = SCHEMA_DS_APPLICATION_1S;
	h_start(&H);
	close(p[0]);
	for (int i = 0; i < 500; i++) {
		int n = snprintf(row, sizeof(row), "{\"time\":1716998400,\"request\":%d,\"server_port\":%d}\n", i, i % 13);

		cr_assert_eq(write(p[1], row, (size_t)n), n);
	}
	close(p[1]);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	h_assert_ids_once(&H, 500);
	for (size_t i = 0; i < H.n_rows; i++)
		cr_assert_eq(H.rows[i].ds, SCHEMA_DS_APPLICATION_1S);
	cr_assert_eq(h_stat(&H.shm.stats->in.source[0].exhausted), 1);
}

/* overflow: drop-newest with nobody reading: rows are dropped and counted,
 * nothing blocks, the file still finishes. */
Test(ingest_input, drop_newest_counts_drops)
{
	char *path;
	FILE *f;
	char row[512];
	struct cfg_source *src;
	struct stats_ingest *in;

	h_init(&H, 1, 4096);
	path = h_path(&H, "rows.ndjson");
	f = fopen(path, "w");
	cr_assert(f);
	for (int i = 0; i < 300; i++) {
		h_row_text(row, sizeof(row), i, i);
		fputs(row, f);
	}
	fclose(f);
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	src->overflow = CFG_OVERFLOW_DROP_NEWEST;
	h_start(&H);
	cr_assert_eq(h_wait(&H, 10000), 0);
	h_take(&H);
	in = &H.shm.stats->in;
	cr_assert_gt(h_stat(&in->dropped_overflow), 0);
	cr_assert_eq(h_stat(&in->source[0].dropped), h_stat(&in->dropped_overflow));
	cr_assert_eq(H.n_rows + h_stat(&in->dropped_overflow), 300);
	cr_assert_eq(h_stat(&in->rows_in), H.n_rows);
	free(path);
}

/* Backpressure: a ring far smaller than the input and a slow reader:
 * ingest waits (counted) and every row arrives exactly once, in order per
 * series. */
Test(ingest_input, full_ring_waits_and_loses_nothing)
{
	char *path;
	FILE *f;
	char row[512];
	struct cfg_source *src;
	double last[16];

	h_init(&H, 2, 4096);
	path = h_path(&H, "rows.ndjson");
	f = fopen(path, "w");
	cr_assert(f);
	for (int i = 0; i < 5000; i++) {
		h_row_text(row, sizeof(row), i % 16, i);
		fputs(row, f);
	}
	fclose(f);
	src = h_source(&H, CFG_SRC_FILE);
	src->path = path;
	h_start(&H);
	usleep(200 * 1000); /* let it fill the rings and block */
	cr_assert_gt(h_stat(&H.shm.stats->in.ring_full_waits), 0);
	h_take_until(&H, 5000, 15000);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	h_assert_ids_once(&H, 5000);
	for (int i = 0; i < 16; i++)
		last[i] = -1;
	for (size_t i = 0; i < H.n_rows; i++) {
		int s = (int)H.rows[i].series;

		cr_assert_gt(H.rows[i].id, last[s], "series %d out of order", s);
		last[s] = H.rows[i].id;
	}
	free(path);
}

/* SIGTERM: ingest stops, closes every ring and exits 0. */
Test(ingest_input, sigterm_closes_rings)
{
	struct cfg_source *src;

	h_init(&H, 2, 1 << 20);
	src = h_source(&H, CFG_SRC_SYNTHETIC);
	src->data_source = SCHEMA_DS_NETWORK_1S;
	src->series = 100;
	src->rows_per_second = 1000;
	h_start(&H);
	h_take_until(&H, 50, 5000);
	cr_assert_geq(H.n_rows, 50);
	h_kill(&H, SIGTERM);
	cr_assert_eq(h_wait(&H, 10000), 0);
	cr_assert(h_all_drained(&H));
	cr_assert_eq(h_stat(&H.shm.stats->in.source[0].resume_rows), H.n_rows);
}
