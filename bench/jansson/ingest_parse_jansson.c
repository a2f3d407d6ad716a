/* SPDX-License-Identifier: MIT */
/* ingest_parse_jansson.c: the same JSON -> raw row work done with libjansson, for comparison. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/schema.h"
#include "ingest/json_row.h"
#include "ingest/rowb.h"
#include "ingest/src_synthetic.h"

/*
 * Built and run by bench/ingest_parse_jansson.sh, never by the product
 * (flowrw does not link jansson).  Same corpus and same output as
 * bench/ingest_parse.c: json_loadb() builds the DOM, then every member is
 * classified with schema_lookup_key() and set in the raw-row builder, and
 * the row is encoded.
 */

/* CPU time of this process: "per core" must not count the time other
 * work on a shared machine takes the core away. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool ip4_text(const char *t, uint32_t *out)
{
	unsigned a, b, c, d;
	char tail;

	if (sscanf(t, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255)
		return false;
	*out = a << 24 | b << 16 | c << 8 | d;
	return true;
}

/* The raw row's length in <out>, or -1 for a row the product would reject.
 * <b> points into the DOM, which is gone on return: use <out>. */
static int parse_jansson(const char *s, size_t len, struct rowb *b, uint8_t *out, size_t cap)
{
	json_error_t e;
	json_t *root = json_loadb(s, len, 0, &e), *v;
	const char *key;
	int ds, rc = -1;

	if (!root)
		return -1;
	if (!json_is_object(root))
		goto out;
	rowb_reset(b);
	v = json_object_get(root, "datasource");
	if (!json_is_string(v) || (ds = schema_ds_from_name(json_string_value(v), json_string_length(v))) < 0)
		goto out;
	rowb_set_ds(b, ds);
	json_object_foreach(root, key, v) {
		int idx = 0;
		enum schema_key_kind k = schema_lookup_key(b->family, key, strlen(key), &idx);

		switch (k) {
		case SCHEMA_KEY_METRIC:
			if (!json_is_number(v))
				goto out;
			rowb_set_metric(b, idx, json_number_value(v));
			break;
		case SCHEMA_KEY_TIME:
			if (!json_is_integer(v))
				goto out;
			rowb_set_time(b, (uint32_t)json_integer_value(v));
			break;
		case SCHEMA_KEY_TAG:
			if (json_is_string(v)) {
				const char *t = json_string_value(v);

				if (schema_tags[idx].kind == SCHEMA_KIND_IP4) {
					uint32_t ip;

					if (!ip4_text(t, &ip))
						goto out;
					rowb_set_num(b, idx, ip);
				} else if (schema_tags[idx].kind == SCHEMA_KIND_IP6) {
					uint8_t ip6[16];

					if (inet_pton(AF_INET6, t, ip6) != 1)
						goto out;
					rowb_set_ip6(b, idx, ip6);
				} else {
					rowb_set_str(b, idx, t, json_string_length(v));
				}
			} else if (json_is_integer(v)) {
				rowb_set_num(b, idx, json_integer_value(v));
			} else if (!json_is_null(v)) {
				goto out;
			}
			break;
		default:
			break;
		}
	}
	if (b->has_time)
		rc = rowb_encode(b, out, cap);
	if (rc <= 0)
		rc = -1;
out:
	json_decref(root);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.5;
	size_t rows = argc > 2 ? (size_t)atol(argv[2]) : 20000;
	static const int dss[] = { SCHEMA_DS_APPLICATION_MAP_1S, SCHEMA_DS_NETWORK_MAP_1S, SCHEMA_DS_APPLICATION_1S,
				   SCHEMA_DS_NETWORK_1S };
	static struct synth g;
	static struct rowb b, b2;
	static uint8_t out[ROWB_MAX_BYTES], out2[ROWB_MAX_BYTES];
	static struct jrow jp;
	struct jrow_err err;

	printf("ingest_parse_jansson: the same rows through libjansson %s, one core, %.1f s per run\n",
	       JANSSON_VERSION, seconds);
	for (size_t d = 0; d < sizeof(dss) / sizeof(dss[0]); d++) {
		char *text = NULL;
		size_t *off = calloc(rows + 1, sizeof(*off)), len = 0;
		double mbs[3], rps[3];

		synth_init(&g, dss[d], 1, rows, 0, 0);
		for (size_t k = 0; k < rows; k++) {
			char buf[16384];
			int n;

			synth_row(&g, k, 1717000000 + (uint32_t)(k / 1000), &b);
			n = jrow_format(&b, buf, sizeof(buf) - 1);
			buf[n++] = '\n';
			text = realloc(text, len + (size_t)n);
			memcpy(text + len, buf, (size_t)n);
			off[k] = len;
			len += (size_t)n;
		}
		off[rows] = len;
		/* Both parsers agree on every row. */
		for (size_t k = 0; k < rows; k++) {
			int a = parse_jansson(text + off[k], off[k + 1] - off[k], &b, out, sizeof(out));
			int c = jrow_parse(&jp, text + off[k], off[k + 1] - off[k], -1, &b2, &err);

			if (a < 0 || c || rowb_encode(&b2, out2, sizeof(out2)) != a || memcmp(out, out2, (size_t)a) != 0) {
				fprintf(stderr, "row %zu: jansson and the scanner disagree\n", k);
				return 1;
			}
		}
		for (int r = 0; r < 3; r++) {
			double t0 = now_s(), dt;
			size_t bytes = 0, nrows = 0, i = 0;

			do {
				for (int k = 0; k < 500; k++) {
					if (parse_jansson(text + off[i], off[i + 1] - off[i], &b, out, sizeof(out)) < 0)
						return 1;
					bytes += off[i + 1] - off[i];
					nrows++;
					if (++i == rows)
						i = 0;
				}
				dt = now_s() - t0;
			} while (dt < seconds);
			mbs[r] = (double)bytes / dt / 1e6;
			rps[r] = (double)nrows / dt;
		}
		qsort(mbs, 3, sizeof(double), cmp_double);
		qsort(rps, 3, sizeof(double), cmp_double);
		printf("%-34s %6zu rows %5zu B/row  %7.0f MB/s  %9.0f rows/s  (median of 3; min %.0f max %.0f MB/s)\n",
		       schema_ds_name(dss[d]), rows, len / rows, mbs[1], rps[1], mbs[0], mbs[2]);
		free(text);
		free(off);
	}
	return 0;
}
