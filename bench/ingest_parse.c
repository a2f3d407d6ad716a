/* SPDX-License-Identifier: MIT */
/* ingest_parse.c: JSON rows -> raw rows per core (the scanner + builder, no I/O). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/schema.h"
#include "ingest/json_row.h"
#include "ingest/rowb.h"
#include "ingest/src_synthetic.h"

/*
 * Usage: ingest_parse [SECONDS] [ROWS]
 *
 * For each data source family, a corpus of ROWS distinct rows (default
 * 20000, tens of MB: far beyond the caches, as a live feed is) is printed
 * by the synthetic generator exactly as DeepFlow's Kafka exporter writes
 * rows, then parsed into raw rows (jrow_parse + rowb_encode) for SECONDS
 * (default 1.5) on one core, three times.  Reports the median MB/s of JSON
 * and rows/s.  The sample file's 16 rows are timed as well when found.
 */

struct corpus {
	char *text;
	size_t len;
	const char **line;
	size_t *line_len;
	size_t n;
};

/* CPU time of this process: "per core" must not count the time other
 * work on a shared machine takes the core away. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void corpus_add(struct corpus *c, size_t cap_rows, const char *s, size_t n)
{
	c->text = realloc(c->text, c->len + n + 1);
	memcpy(c->text + c->len, s, n);
	c->line_len[c->n] = n;
	c->line[c->n++] = (const char *)(uintptr_t)c->len; /* offset, fixed below */
	c->len += n;
	(void)cap_rows;
}

static void corpus_fix(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->line[i] = c->text + (uintptr_t)c->line[i];
}

static void corpus_synth(struct corpus *c, int ds, size_t rows)
{
	static struct synth g;
	static struct rowb b;
	static char buf[16384];

	memset(c, 0, sizeof(*c));
	c->line = calloc(rows, sizeof(*c->line));
	c->line_len = calloc(rows, sizeof(*c->line_len));
	synth_init(&g, ds, 1, rows, 0, 0);
	for (size_t k = 0; k < rows; k++) {
		int n;

		synth_row(&g, k, 1717000000 + (uint32_t)(k / 1000), &b);
		n = jrow_format(&b, buf, sizeof(buf) - 1);
		buf[n++] = '\n';
		corpus_add(c, rows, buf, (size_t)n);
	}
	corpus_fix(c);
}

static int corpus_file(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *l = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	if (!f)
		return -1;
	c->line = calloc(64, sizeof(*c->line));
	c->line_len = calloc(64, sizeof(*c->line_len));
	while (c->n < 64 && (n = getline(&l, &cap, f)) > 0)
		corpus_add(c, 64, l, (size_t)n);
	corpus_fix(c);
	free(l);
	fclose(f);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run(const char *name, const struct corpus *c, double seconds)
{
	static struct jrow jp;
	static struct rowb b;
	static struct jrow_err err;
	static uint8_t out[ROWB_MAX_BYTES];
	double mbs[3], rps[3];

	jrow_init(&jp);
	for (int r = 0; r < 3; r++) {
		double t0 = now_s(), dt;
		size_t bytes = 0, rows = 0, i = 0;

		do {
			for (int k = 0; k < 1000; k++) {
				if (jrow_parse(&jp, c->line[i], c->line_len[i], -1, &b, &err) ||
				    rowb_encode(&b, out, sizeof(out)) < 0) {
					fprintf(stderr, "ingest_parse: %s row %zu rejected: %s\n", name, i, err.msg);
					exit(1);
				}
				bytes += c->line_len[i];
				rows++;
				if (++i == c->n)
					i = 0;
			}
			dt = now_s() - t0;
		} while (dt < seconds);
		mbs[r] = (double)bytes / dt / 1e6;
		rps[r] = (double)rows / dt;
	}
	qsort(mbs, 3, sizeof(double), cmp_double);
	qsort(rps, 3, sizeof(double), cmp_double);
	printf("%-34s %6zu rows %5zu B/row  %7.0f MB/s  %9.0f rows/s  (median of 3; min %.0f max %.0f MB/s)\n",
	       name, c->n, c->len / c->n, mbs[1], rps[1], mbs[0], mbs[2]);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.5;
	size_t rows = argc > 2 ? (size_t)atol(argv[2]) : 20000;
	static const int ds[] = { SCHEMA_DS_APPLICATION_MAP_1S, SCHEMA_DS_NETWORK_MAP_1S, SCHEMA_DS_APPLICATION_1S,
				  SCHEMA_DS_NETWORK_1S };
	const char *root = getenv("FLOWRW_ROOT");
	char path[512];
	struct corpus c;

	printf("ingest_parse: DeepFlow JSON -> raw row on one core, %.1f s per run\n", seconds);
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		corpus_synth(&c, ds[i], rows);
		run(schema_ds_name(ds[i]), &c, seconds);
		free(c.text);
		free(c.line);
		free(c.line_len);
	}
	snprintf(path, sizeof(path), "%s/tests/data/rows-all-sources.ndjson", root ? root : ".");
	if (corpus_file(&c, path) == 0) {
		run("sample file (16 rows, all sources)", &c, seconds);
		free(c.text);
		free(c.line);
		free(c.line_len);
	}
	return 0;
}
