/* SPDX-License-Identifier: MIT */
/* wire.c: remote-write 1.0 request decoding, printing, dumping and rule checking for the receiver. */
#include "tools/flowrw-receiver/wire.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <snappy-c.h>

#include "common/log.h"
#include "remote.pb-c.h"
#include "tools/pbwalk.h"

#define RWIRE_PRINT_FULL 50 /* violations printed one by one before rate limiting */

struct rwire_slot {
	char *key;          /* NULL = free */
	uint64_t hash;
	int64_t last_ts;
};

static const char *const rwire_vnames[RWIRE_V_COUNT] = {
	[RWIRE_V_CONTENT_ENCODING]    = "header-content-encoding",
	[RWIRE_V_CONTENT_TYPE]        = "header-content-type",
	[RWIRE_V_VERSION]             = "header-remote-write-version",
	[RWIRE_V_USER_AGENT]          = "header-user-agent",
	[RWIRE_V_HEADER_REPEATED]     = "header-repeated",
	[RWIRE_V_NO_LABELS]           = "series-without-labels",
	[RWIRE_V_NAME_MISSING]        = "name-missing",
	[RWIRE_V_LABEL_NAME_EMPTY]    = "label-name-empty",
	[RWIRE_V_LABEL_NAME_INVALID]  = "label-name-invalid",
	[RWIRE_V_LABEL_NAME_RESERVED] = "label-name-reserved",
	[RWIRE_V_METRIC_NAME_INVALID] = "metric-name-invalid",
	[RWIRE_V_LABEL_VALUE_EMPTY]   = "label-value-empty",
	[RWIRE_V_LABEL_VALUE_UTF8]    = "label-value-not-utf8",
	[RWIRE_V_LABELS_UNSORTED]     = "labels-unsorted",
	[RWIRE_V_LABEL_DUPLICATE]     = "label-duplicate",
	[RWIRE_V_NO_SAMPLES]          = "series-without-samples",
	[RWIRE_V_OUT_OF_ORDER]        = "sample-out-of-order",
};

const char *rwire_violation_name(enum rwire_violation v)
{
	return (unsigned)v < RWIRE_V_COUNT ? rwire_vnames[v] : "unknown";
}

int64_t rwire_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rwire_init(struct rwire *w, const struct rwire_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	return 0;
}

void rwire_fini(struct rwire *w)
{
	for (size_t i = 0; i < w->tab_cap; i++)
		free(w->tab[i].key);
	free(w->tab);
	free(w->raw);
	free(w->line);
	free(w->key);
	free(w->order);
	memset(w, 0, sizeof(*w));
}

/* --- growable text buffers ------------------------------------------------ */

static int rwire_reserve(char **p, size_t *cap, size_t need)
{
	size_t ncap;
	char *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 256;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

struct rwire_text {
	char **p;
	size_t *len, *cap;
	int err;
};

static void rwire_put(struct rwire_text *t, const char *s, size_t n)
{
	if (t->err || rwire_reserve(t->p, t->cap, *t->len + n + 1) < 0) {
		t->err = -ENOMEM;
		return;
	}
	memcpy(*t->p + *t->len, s, n);
	*t->len += n;
	(*t->p)[*t->len] = '\0';
}

static void rwire_puts(struct rwire_text *t, const char *s)
{
	rwire_put(t, s, strlen(s));
}

/*
 * Label values as Prometheus' text format escapes them (\\, \", \n), plus \t,
 * \r and \xHH for other control bytes so a dump line never splits. Bytes
 * >= 0x80 are copied as they are. tests/e2e/expect.py mirrors this exactly.
 */
static void rwire_put_escaped(struct rwire_text *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[4];
		size_t n = 2;

		if (c >= 0x20 && c != '\\' && c != '"' && c != 0x7f)
			continue;
		rwire_put(t, run, (size_t)(s - run));
		esc[0] = '\\';
		switch (c) {
		case '\\': esc[1] = '\\'; break;
		case '"': esc[1] = '"'; break;
		case '\n': esc[1] = 'n'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			n = 4;
		}
		rwire_put(t, esc, n);
		run = s + 1;
	}
	rwire_put(t, run, (size_t)(s - run));
}

/* Shortest text that reads back as the same double; NaN, +Inf, -Inf as Prometheus writes them. */
static void rwire_fmt_value(double v, char *buf, size_t cap)
{
	if (isnan(v)) {
		snprintf(buf, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* --- label checks ---------------------------------------------------------- */

static bool rwire_label_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool rwire_metric_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return false;
	return true;
}

static bool rwire_utf8_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s;
		int n;
		uint32_t cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false; /* also stops at the NUL */
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

static void rwire_violate(struct rwire *w, enum rwire_violation v, const char *detail,
			  const char *series)
{
	static struct log_limit lim;

	w->v[v]++;
	w->t.violations++;
	if (w->v_printed < RWIRE_PRINT_FULL) {
		w->v_printed++;
		log_warn("check: request %" PRIu64 ": %s: %s%s%s", w->t.requests + w->t.bad_requests + 1,
			 rwire_vnames[v], detail, series ? " in " : "", series ? series : "");
		if (w->v_printed == RWIRE_PRINT_FULL)
			log_warn("check: further violations are only counted (and logged once a second)");
	} else {
		log_limited(&lim, LOG_LVL_WARN, "check: %s: %s", rwire_vnames[v], detail);
	}
}

static void rwire_check_headers(struct rwire *w, const struct rhttp_req *r)
{
	const struct rhttp_hval *ce = &r->content_encoding, *ct = &r->content_type;
	const struct rhttp_hval *ver = &r->rw_version, *ua = &r->user_agent;
	char d[RHTTP_VAL_MAX + 64];

	if (!ce->present || strcasecmp(ce->v, "snappy") != 0) {
		snprintf(d, sizeof(d), "Content-Encoding is %s%s%s, want snappy",
			 ce->present ? "\"" : "missing", ce->present ? ce->v : "", ce->present ? "\"" : "");
		rwire_violate(w, RWIRE_V_CONTENT_ENCODING, d, NULL);
	}
	if (!ct->present || (strcasecmp(ct->v, "application/x-protobuf") != 0 &&
			     strcasecmp(ct->v, "application/x-protobuf;proto=prometheus.WriteRequest") != 0 &&
			     strcasecmp(ct->v, "application/x-protobuf; proto=prometheus.WriteRequest") != 0)) {
		snprintf(d, sizeof(d), "Content-Type is %s%s%s, want application/x-protobuf",
			 ct->present ? "\"" : "missing", ct->present ? ct->v : "", ct->present ? "\"" : "");
		rwire_violate(w, RWIRE_V_CONTENT_TYPE, d, NULL);
	}
	if (!ver->present || strcmp(ver->v, "0.1.0") != 0) {
		snprintf(d, sizeof(d), "X-Prometheus-Remote-Write-Version is %s%s%s, want 0.1.0",
			 ver->present ? "\"" : "missing", ver->present ? ver->v : "", ver->present ? "\"" : "");
		rwire_violate(w, RWIRE_V_VERSION, d, NULL);
	}
	if (!ua->present || !ua->v[0])
		rwire_violate(w, RWIRE_V_USER_AGENT, "User-Agent missing or empty", NULL);
	if (ce->count > 1 || ct->count > 1 || ver->count > 1 || ua->count > 1)
		rwire_violate(w, RWIRE_V_HEADER_REPEATED, "a remote-write header was sent twice", NULL);
}

/* --- series table (--check): key -> last timestamp --------------------------- */

static uint64_t rwire_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

static int rwire_tab_grow(struct rwire *w)
{
	size_t ncap = w->tab_cap ? w->tab_cap * 2 : 1024;
	struct rwire_slot *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < w->tab_cap; i++) {
		struct rwire_slot *s = &w->tab[i];
		size_t j;

		if (!s->key)
			continue;
		for (j = s->hash & (ncap - 1); nt[j].key; j = (j + 1) & (ncap - 1))
			;
		nt[j] = *s;
	}
	free(w->tab);
	w->tab = nt;
	w->tab_cap = ncap;
	return 0;
}

/* The slot of <key>, created with last_ts = INT64_MIN when new; NULL on ENOMEM. */
static struct rwire_slot *rwire_tab_get(struct rwire *w, const char *key, size_t len)
{
	uint64_t h = rwire_hash(key, len);
	size_t j;

	if ((w->tab_used + 1) * 10 > w->tab_cap * 7 && rwire_tab_grow(w) < 0)
		return NULL;
	for (j = h & (w->tab_cap - 1); w->tab[j].key; j = (j + 1) & (w->tab_cap - 1))
		if (w->tab[j].hash == h && strcmp(w->tab[j].key, key) == 0)
			return &w->tab[j];
	w->tab[j].key = strdup(key);
	if (!w->tab[j].key)
		return NULL;
	w->tab[j].hash = h;
	w->tab[j].last_ts = INT64_MIN;
	w->tab_used++;
	return &w->tab[j];
}

/* --- per series ------------------------------------------------------------- */

static Prometheus__Label **rwire_sort_labels;

static int rwire_cmp_label(const void *a, const void *b)
{
	const Prometheus__Label *la = rwire_sort_labels[*(const size_t *)a];
	const Prometheus__Label *lb = rwire_sort_labels[*(const size_t *)b];
	int c = strcmp(la->name, lb->name);

	return c ? c : strcmp(la->value, lb->value);
}

/* Write name{a="x",...} for labels in the given index order (NULL = wire order). */
static void rwire_series_text(struct rwire_text *t, const Prometheus__TimeSeries *ts,
			      const size_t *order)
{
	const char *name = NULL;
	bool open = false;

	for (size_t k = 0; k < ts->n_labels; k++) {
		const Prometheus__Label *l = ts->labels[order ? order[k] : k];

		if (!name && strcmp(l->name, "__name__") == 0)
			name = l->value;
	}
	if (name)
		rwire_put_escaped(t, name);
	for (size_t k = 0; k < ts->n_labels; k++) {
		const Prometheus__Label *l = ts->labels[order ? order[k] : k];

		if (l->value == name && strcmp(l->name, "__name__") == 0)
			continue;
		rwire_puts(t, open ? "," : "{");
		open = true;
		rwire_put_escaped(t, l->name);
		rwire_puts(t, "=\"");
		rwire_put_escaped(t, l->value);
		rwire_puts(t, "\"");
	}
	if (open || !name)
		rwire_puts(t, open ? "}" : "{}");
}

static void rwire_check_labels(struct rwire *w, const Prometheus__TimeSeries *ts, const char *key)
{
	bool has_name = false;
	char d[160];

	if (ts->n_labels == 0)
		rwire_violate(w, RWIRE_V_NO_LABELS, "series has no labels", key);
	for (size_t i = 0; i < ts->n_labels; i++) {
		const char *n = ts->labels[i]->name, *v = ts->labels[i]->value;

		if (!n[0]) {
			rwire_violate(w, RWIRE_V_LABEL_NAME_EMPTY, "empty label name", key);
		} else if (strcmp(n, "__name__") == 0) {
			has_name = true;
			if (v[0] && !rwire_metric_name_ok(v)) {
				snprintf(d, sizeof(d), "metric name \"%.100s\"", v);
				rwire_violate(w, RWIRE_V_METRIC_NAME_INVALID, d, key);
			}
		} else if (!rwire_label_name_ok(n)) {
			snprintf(d, sizeof(d), "label name \"%.100s\"", n);
			rwire_violate(w, RWIRE_V_LABEL_NAME_INVALID, d, key);
		} else if (n[0] == '_' && n[1] == '_') {
			snprintf(d, sizeof(d), "reserved label name \"%.100s\"", n);
			rwire_violate(w, RWIRE_V_LABEL_NAME_RESERVED, d, key);
		}
		if (!v[0]) {
			snprintf(d, sizeof(d), "label \"%.100s\" has an empty value", n);
			rwire_violate(w, RWIRE_V_LABEL_VALUE_EMPTY, d, key);
		} else if (!rwire_utf8_ok(v)) {
			snprintf(d, sizeof(d), "label \"%.100s\" value is not UTF-8", n);
			rwire_violate(w, RWIRE_V_LABEL_VALUE_UTF8, d, key);
		}
		if (i > 0) {
			int c = strcmp(ts->labels[i - 1]->name, n);

			if (c == 0) {
				snprintf(d, sizeof(d), "label \"%.100s\" twice", n);
				rwire_violate(w, RWIRE_V_LABEL_DUPLICATE, d, key);
			} else if (c > 0) {
				snprintf(d, sizeof(d), "label \"%.60s\" after \"%.60s\"", n,
					 ts->labels[i - 1]->name);
				rwire_violate(w, RWIRE_V_LABELS_UNSORTED, d, key);
			}
		}
	}
	if (ts->n_labels && !has_name)
		rwire_violate(w, RWIRE_V_NAME_MISSING, "no __name__ label", key);
	if (ts->n_samples == 0)
		rwire_violate(w, RWIRE_V_NO_SAMPLES, "series has no samples", key);
}

static int rwire_series(struct rwire *w, const Prometheus__TimeSeries *ts)
{
	struct rwire_text line = { &w->line, &w->line_len, &w->line_cap, 0 };
	struct rwire_text key = { &w->key, &w->key_len, &w->key_cap, 0 };
	struct rwire_slot *slot = NULL;
	char val[40];

	/* The canonical key sorts labels so it is the same whatever the wire order. */
	if (w->o.check || w->o.dump) {
		if (ts->n_labels > w->order_cap) {
			size_t *no = realloc(w->order, ts->n_labels * sizeof(*no));

			if (!no)
				return -ENOMEM;
			w->order = no;
			w->order_cap = ts->n_labels;
		}
		for (size_t i = 0; i < ts->n_labels; i++)
			w->order[i] = i;
		rwire_sort_labels = ts->labels;
		qsort(w->order, ts->n_labels, sizeof(*w->order), rwire_cmp_label);
		w->key_len = 0;
		rwire_series_text(&key, ts, w->order);
		if (key.err)
			return key.err;
	}
	if (w->o.check) {
		rwire_check_labels(w, ts, w->key);
		slot = rwire_tab_get(w, w->key, w->key_len);
		if (!slot)
			return -ENOMEM;
	}
	if (w->o.print) {
		w->line_len = 0;
		rwire_series_text(&line, ts, NULL);
		if (line.err)
			return line.err;
	}
	for (size_t i = 0; i < ts->n_samples; i++) {
		const Prometheus__Sample *s = ts->samples[i];

		rwire_fmt_value(s->value, val, sizeof(val));
		if (w->o.print)
			fprintf(w->o.out, "%s %s %" PRId64 "\n", w->line, val, s->timestamp);
		if (w->o.dump)
			fprintf(w->o.dump, "%s\t%" PRId64 "\t%s\n", w->key, s->timestamp, val);
		if (slot) {
			char d[96];

			if (slot->last_ts != INT64_MIN && s->timestamp < slot->last_ts) {
				snprintf(d, sizeof(d), "timestamp %" PRId64 " after %" PRId64,
					 s->timestamp, slot->last_ts);
				rwire_violate(w, RWIRE_V_OUT_OF_ORDER, d, w->key);
			} else if (slot->last_ts == s->timestamp) {
				static struct log_limit dlim;

				/* Not a 1.0 violation (a retried request repeats samples), but worth seeing. */
				if (++w->t.duplicates <= RWIRE_PRINT_FULL)
					log_warn("check: duplicate sample at %" PRId64 " in %s", s->timestamp, w->key);
				else
					log_limited(&dlim, LOG_LVL_WARN, "check: duplicate samples (%" PRIu64 " so far)",
						    w->t.duplicates);
			}
			if (s->timestamp > slot->last_ts)
				slot->last_ts = s->timestamp;
		}
	}
	return 0;
}

/* --- one request -------------------------------------------------------------- */

int rwire_handle(struct rwire *w, const struct rhttp_req *r, char *why, size_t whylen)
{
	const char *body = (const char *)r->buf + r->head_len;
	size_t blen = r->body_len, rawlen;
	Prometheus__WriteRequest *req;
	uint64_t series = 0, samples = 0;
	int rc = 0;

	if (w->o.check)
		rwire_check_headers(w, r);
	if (r->content_encoding.present && strcasecmp(r->content_encoding.v, "snappy") != 0) {
		snprintf(why, whylen, "unsupported Content-Encoding \"%s\" (want snappy)",
			 r->content_encoding.v);
		rc = -415;
		goto out;
	}
	if (snappy_uncompressed_length(body, blen, &rawlen) != SNAPPY_OK) {
		snprintf(why, whylen, "snappy: corrupt block header (%zu body bytes)", blen);
		rc = -400;
		goto out;
	}
	if (rawlen > w->o.max_raw) {
		snprintf(why, whylen, "snappy: request decompresses to %zu bytes, more than %zu",
			 rawlen, w->o.max_raw);
		rc = -413;
		goto out;
	}
	if (rawlen > w->raw_cap || !w->raw) {
		size_t ncap = rawlen > 4096 ? rawlen : 4096;
		uint8_t *nr = realloc(w->raw, ncap);

		if (!nr) {
			snprintf(why, whylen, "out of memory for %zu bytes", rawlen);
			rc = -413;
			goto out;
		}
		w->raw = nr;
		w->raw_cap = ncap;
	}
	if (snappy_uncompress(body, blen, (char *)w->raw, &rawlen) != SNAPPY_OK) {
		snprintf(why, whylen, "snappy: corrupt compressed body (%zu bytes)", blen);
		rc = -400;
		goto out;
	}
	if (w->o.count_only) {
		if (!pbw_count_write_request(w->raw, w->raw + rawlen, &series, &samples)) {
			snprintf(why, whylen, "protobuf: malformed WriteRequest (%zu bytes)", rawlen);
			rc = -400;
			goto out;
		}
	} else {
		req = prometheus__write_request__unpack(NULL, rawlen, w->raw);
		if (!req) {
			snprintf(why, whylen, "protobuf: cannot decode WriteRequest (%zu bytes)", rawlen);
			rc = -400;
			goto out;
		}
		for (size_t i = 0; i < req->n_timeseries; i++) {
			series++;
			samples += req->timeseries[i]->n_samples;
			if (rwire_series(w, req->timeseries[i]) < 0) {
				snprintf(why, whylen, "out of memory");
				rc = -413;
				break;
			}
		}
		prometheus__write_request__free_unpacked(req, NULL);
		if (w->o.print)
			fflush(w->o.out);
		if (w->o.dump)
			fflush(w->o.dump);
		if (rc < 0)
			goto out;
	}
	w->t.requests++;
	w->t.series += series;
	w->t.samples += samples;
	w->t.bytes += blen;
	w->t.raw_bytes += rawlen;
	w->t.last_ms = rwire_now_ms();
	if (!w->t.first_ms)
		w->t.first_ms = w->t.last_ms;
	return 0;
out:
	w->t.bad_requests++;
	return rc;
}
