/* SPDX-License-Identifier: MIT */
/* status.h: `flowrw status`: a per-stage table from a running flowrw's /metrics. */
#ifndef FLOWRW_STATUS_H
#define FLOWRW_STATUS_H

#include <stddef.h>
#include <stdio.h>

/* One sample of the exposition text: "name{labels}" and its value. */
struct status_sample {
	char *key;
	double value;
};

struct status_scrape {
	struct status_sample *s;
	size_t n, cap;
};

/* Parse Prometheus text format (comments skipped).  0 or -ENOMEM. */
int status_parse(struct status_scrape *sc, const char *text, size_t len);
void status_scrape_fini(struct status_scrape *sc);

/* Sum of the samples of family <name> whose label text contains every
 * "k=\"v\"" fragment of <match> (NULL: all). */
double status_sum(const struct status_scrape *sc, const char *name, const char *match);

/* GET http://<hostport>/metrics into a malloc'd NUL-terminated buffer; NULL
 * with a message in <err> on failure.  Bounded by a 3 s timeout. */
char *status_fetch(const char *hostport, char *err, size_t errlen);

/* Print the table for two scrapes <dt> seconds apart. */
void status_print(FILE *out, const struct status_scrape *a, const struct status_scrape *b, double dt,
		  const char *where);

/* The `flowrw status` command: exit code. */
int status_main(const char *hostport, double interval_s);

#endif
