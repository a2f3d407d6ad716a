/* SPDX-License-Identifier: MIT */
/* status.c: scrape a running flowrw's /metrics twice and print rates per stage. */
#include "supervisor/status.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/clock.h"
#include "supervisor/stats_http.h"

int status_parse(struct status_scrape *sc, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *sp;

		if (*p != '#' && le > p) {
			/* The value follows the last space: label values may hold spaces. */
			for (sp = le - 1; sp > p && *sp != ' '; sp--)
				;
			if (sp > p) {
				char num[64];
				size_t nl2 = (size_t)(le - sp - 1);

				if (sc->n == sc->cap) {
					size_t nc = sc->cap ? sc->cap * 2 : 256;
					struct status_sample *ns = realloc(sc->s, nc * sizeof(*ns));

					if (!ns)
						return -ENOMEM;
					sc->s = ns;
					sc->cap = nc;
				}
				if (nl2 >= sizeof(num))
					nl2 = sizeof(num) - 1;
				memcpy(num, sp + 1, nl2);
				num[nl2] = 0;
				sc->s[sc->n].key = strndup(p, (size_t)(sp - p));
				if (!sc->s[sc->n].key)
					return -ENOMEM;
				sc->s[sc->n].value = strtod(num, NULL);
				sc->n++;
			}
		}
		p = le + 1;
	}
	return 0;
}

void status_scrape_fini(struct status_scrape *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->s[i].key);
	free(sc->s);
	memset(sc, 0, sizeof(*sc));
}

static bool labels_match(const char *labels, const char *match)
{
	char frag[128];

	while (match && *match) {
		const char *comma = strchr(match, ',');
		size_t n = comma ? (size_t)(comma - match) : strlen(match);

		if (n >= sizeof(frag))
			return false;
		memcpy(frag, match, n);
		frag[n] = 0;
		if (!strstr(labels, frag))
			return false;
		match += n + (comma ? 1 : 0);
	}
	return true;
}

double status_sum(const struct status_scrape *sc, const char *name, const char *match)
{
	size_t nl = strlen(name);
	double sum = 0;

	for (size_t i = 0; i < sc->n; i++) {
		const char *k = sc->s[i].key;

		if (strncmp(k, name, nl) != 0 || (k[nl] != 0 && k[nl] != '{'))
			continue;
		if (labels_match(k + nl, match))
			sum += sc->s[i].value;
	}
	return sum;
}

char *status_fetch(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct timeval tv = { .tv_sec = 3 };
	char host[256], port[16], req[512];
	char *buf = NULL, *body;
	size_t len = 0, cap = 0;
	int fd = -1, e;

	if (stats_http_split_hostport(hostport, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "stats-listen \"%s\" is not host:port", hostport);
		return NULL;
	}
	e = getaddrinfo(*host ? host : "127.0.0.1", port, &hints, &ai);
	if (e) {
		snprintf(err, errlen, "%s: %s", hostport, gai_strerror(e));
		return NULL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		snprintf(err, errlen, "cannot reach flowrw at http://%s/metrics: %s (is it running? is "
				      "stats-listen set?)", hostport, strerror(errno));
		goto fail;
	}
	int n = snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 hostport);

	if (write(fd, req, (size_t)n) != n) {
		snprintf(err, errlen, "http://%s/metrics: write: %s", hostport, strerror(errno));
		goto fail;
	}
	for (;;) {
		ssize_t got;

		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 262144);

			if (!nb) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = nb;
			cap += 262144;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got == 0)
			break;
		if (got < 0) {
			snprintf(err, errlen, "http://%s/metrics: read: %s", hostport, strerror(errno));
			goto fail;
		}
		len += (size_t)got;
	}
	buf[len] = 0;
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || !(body = strstr(buf, "\r\n\r\n"))) {
		snprintf(err, errlen, "http://%s/metrics answered: %.40s", hostport, buf);
		goto fail;
	}
	memmove(buf, body + 4, len - (size_t)(body + 4 - buf) + 1);
	close(fd);
	freeaddrinfo(ai);
	return buf;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return NULL;
}

static double rate(const struct status_scrape *a, const struct status_scrape *b, double dt, const char *name,
		   const char *match)
{
	double d = status_sum(b, name, match) - status_sum(a, name, match);

	return dt > 0 && d > 0 ? d / dt : 0;
}

static const char *human(double v, char *buf, size_t len)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static void proc_cols(FILE *out, const struct status_scrape *b, const char *match)
{
	fprintf(out, "%-4s %9.0f  ", status_sum(b, "flowrw_process_up", match) > 0 ? "up" : "DOWN",
		status_sum(b, "flowrw_process_restarts_total", match));
}

#define ENC_UP "flowrw_process_up{role=\"encoder\""

void status_print(FILE *out, const struct status_scrape *a, const struct status_scrape *b, double dt,
		  const char *where)
{
	char h1[32], h2[32], h3[32];
	int n_enc = 0;

	for (size_t i = 0; i < b->n; i++)
		if (strncmp(b->s[i].key, ENC_UP, sizeof(ENC_UP) - 1) == 0)
			n_enc++;
	fprintf(out, "flowrw status — %s, rates over %.1f s%s\n\n", where, dt,
		status_sum(b, "flowrw_draining", NULL) > 0 ? " (DRAINING)" : "");
	fprintf(out, "%-11s %-4s %9s  %-34s %s\n", "stage", "", "restarts", "rate", "totals");
	{
		char r[64];

		fprintf(out, "%-11s ", "ingest");
		proc_cols(out, b, "role=\"ingest\"");
		snprintf(r, sizeof(r), "%s rows/s, %s MB/s",
			 human(rate(a, b, dt, "flowrw_ingest_rows_total", NULL), h1, sizeof(h1)),
			 human(rate(a, b, dt, "flowrw_ingest_bytes_total", NULL) / 1e6, h2, sizeof(h2)));
		fprintf(out, "%-34s rows %s, rejected %s, dropped %s, ring-full waits %.0f\n", r,
			human(status_sum(b, "flowrw_ingest_rows_total", NULL), h1, sizeof(h1)),
			human(status_sum(b, "flowrw_ingest_rejected_rows_total", NULL), h2, sizeof(h2)),
			human(status_sum(b, "flowrw_ingest_dropped_rows_total", NULL), h3, sizeof(h3)),
			status_sum(b, "flowrw_ingest_ring_full_waits_total", NULL));
	}
	for (int i = 0; i < n_enc; i++) {
		char pm[64], em[32], r[64], name[24];

		snprintf(pm, sizeof(pm), "role=\"encoder\",index=\"%d\"", i);
		snprintf(em, sizeof(em), "encoder=\"%d\"", i);
		snprintf(name, sizeof(name), "encoder[%d]", i);
		fprintf(out, "%-11s ", name);
		proc_cols(out, b, pm);
		snprintf(r, sizeof(r), "%s rows/s, %s samples/s",
			 human(rate(a, b, dt, "flowrw_encoder_rows_total", em), h1, sizeof(h1)),
			 human(rate(a, b, dt, "flowrw_encoder_samples_total", em), h2, sizeof(h2)));
		fprintf(out, "%-34s rows %s, batches %s, filtered %s\n", r,
			human(status_sum(b, "flowrw_encoder_rows_total", em), h1, sizeof(h1)),
			human(status_sum(b, "flowrw_encoder_batches_total", em), h2, sizeof(h2)),
			human(status_sum(b, "flowrw_encoder_exporter_filtered_rows_total", em), h3, sizeof(h3)));
	}
	{
		char r[64];

		fprintf(out, "%-11s ", "sender");
		proc_cols(out, b, "role=\"sender\"");
		snprintf(r, sizeof(r), "%s samples/s, %s req/s",
			 human(rate(a, b, dt, "flowrw_exporter_sent_samples_total", NULL), h1, sizeof(h1)),
			 human(rate(a, b, dt, "flowrw_endpoint_requests_total", NULL), h2, sizeof(h2)));
		fprintf(out, "%-34s samples %s, retries %s, dropped series %s, undelivered %.0f\n", r,
			human(status_sum(b, "flowrw_exporter_sent_samples_total", NULL), h1, sizeof(h1)),
			human(status_sum(b, "flowrw_exporter_retries_total", NULL), h2, sizeof(h2)),
			human(status_sum(b, "flowrw_exporter_dropped_series_total", NULL), h3, sizeof(h3)),
			status_sum(b, "flowrw_exporter_undelivered_series_total", NULL));
	}
	/* Ring fill: the input rings one by one, the lanes summed. */
	fprintf(out, "\nrings       ");
	for (int i = 0; i < n_enc; i++) {
		char rm[32];
		double used, size;

		snprintf(rm, sizeof(rm), "ring=\"in%d\"", i);
		used = status_sum(b, "flowrw_ring_used_bytes", rm);
		size = status_sum(b, "flowrw_ring_size_bytes", rm);
		fprintf(out, "in%d %.0f%%  ", i, size > 0 ? 100.0 * used / size : 0);
	}
	{
		double used = status_sum(b, "flowrw_ring_used_bytes", NULL), size = status_sum(b, "flowrw_ring_size_bytes", NULL);

		for (int i = 0; i < n_enc; i++) {
			char rm[32];

			snprintf(rm, sizeof(rm), "ring=\"in%d\"", i);
			used -= status_sum(b, "flowrw_ring_used_bytes", rm);
			size -= status_sum(b, "flowrw_ring_size_bytes", rm);
		}
		fprintf(out, "lanes %.1f%% of %s\n", size > 0 ? 100.0 * used / size : 0,
			(snprintf(h1, sizeof(h1), "%.0f MiB", size / 1048576.0), h1));
	}
	/* Endpoints: one line each, keyed by their exporter and URL labels. */
	fprintf(out, "\nendpoints\n");
	for (size_t i = 0; i < b->n; i++) {
		const char *k = b->s[i].key;
		char lab[512], cls[600];
		static const char *const classes[] = { "2xx", "4xx", "429", "5xx" };
		double cnt[4];

		if (strncmp(k, "flowrw_endpoint_requests_total{", 31) != 0)
			continue;
		snprintf(lab, sizeof(lab), "%.*s", (int)strlen(k + 31) - 1, k + 31);
		for (int c = 0; c < 4; c++) {
			snprintf(cls, sizeof(cls), "%s,status=\"%s\"", lab, classes[c]);
			cnt[c] = status_sum(b, "flowrw_endpoint_responses_total", cls);
		}
		fprintf(out, "  %s\n    %s, %s req/s, 2xx %.0f, 4xx %.0f, 429 %.0f, 5xx %.0f, transport errors %.0f\n",
			lab, status_sum(b, "flowrw_endpoint_up", lab) > 0 ? "up" : "DOWN",
			human(rate(a, b, dt, "flowrw_endpoint_requests_total", lab), h1, sizeof(h1)), cnt[0],
			cnt[1], cnt[2], cnt[3], status_sum(b, "flowrw_endpoint_transport_errors_total", lab));
	}
}

int status_main(const char *hostport, double interval_s)
{
	struct status_scrape a = { 0 }, b = { 0 };
	char err[512];
	char *t1, *t2;
	int64_t t0, t;
	char where[300];

	t0 = clock_mono_ms();
	t1 = status_fetch(hostport, err, sizeof(err));
	if (!t1) {
		fprintf(stderr, "flowrw status: %s\n", err);
		return 1;
	}
	usleep((useconds_t)(interval_s * 1e6));
	t = clock_mono_ms();
	t2 = status_fetch(hostport, err, sizeof(err));
	if (!t2) {
		free(t1);
		fprintf(stderr, "flowrw status: %s\n", err);
		return 1;
	}
	if (status_parse(&a, t1, strlen(t1)) || status_parse(&b, t2, strlen(t2))) {
		fprintf(stderr, "flowrw status: out of memory\n");
		return 1;
	}
	snprintf(where, sizeof(where), "http://%s/metrics", hostport);
	status_print(stdout, &a, &b, (double)(t - t0) / 1000.0, where);
	status_scrape_fini(&a);
	status_scrape_fini(&b);
	free(t1);
	free(t2);
	return 0;
}
