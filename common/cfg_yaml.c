/* SPDX-License-Identifier: MIT */
/* cfg_yaml.c: libyaml tree helpers, typed scalars and diagnostics of the loader. */
#include "common/cfg_yaml.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cfg.h"
#include "common/schema.h"

/* --- diagnostics ---------------------------------------------------------- */

static void diag_push(struct cfg_ctx *y, enum cfg_sev sev, char *line)
{
	struct cfg_diag *d = y->diag;
	char **lines;

	if (sev == CFG_SEV_ERROR)
		d->n_errors++;
	else if (sev == CFG_SEV_WARN)
		d->n_warnings++;
	else
		d->n_notes++;
	if (!line) {
		y->oom = true;
		return;
	}
	lines = realloc(d->lines, sizeof(*lines) * (size_t)(d->n_lines + 1));
	if (!lines) {
		free(line);
		y->oom = true;
		return;
	}
	d->lines = lines;
	d->lines[d->n_lines++] = line;
}

static void diag_vadd(struct cfg_ctx *y, enum cfg_sev sev, const yaml_mark_t *m,
		      const char *fmt, va_list ap)
{
	static const char *const sev_word[] = { "", "warning: ", "note: " };
	char msg[1024];
	char *line = NULL;
	const char *why = "";
	int n;

	if (sev == CFG_SEV_ERROR && y->demote > 0) {
		sev = CFG_SEV_WARN;
		why = y->demote_why ? y->demote_why : "";
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = asprintf(&line, "%s:%zu:%zu: %s%s%s%s%s", y->name,
		     m ? m->line + 1 : 1, m ? m->column + 1 : 1, sev_word[sev],
		     y->path, y->plen ? ": " : "", msg, why);
	if (n < 0)
		line = NULL;
	diag_push(y, sev, line);
}

void cfg_diag_add(struct cfg_ctx *y, enum cfg_sev sev, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(y, sev, m, fmt, ap);
	va_end(ap);
}

void cfg_err(struct cfg_ctx *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(y, CFG_SEV_ERROR, n ? &n->start_mark : &y->root_mark, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_ctx *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(y, CFG_SEV_WARN, n ? &n->start_mark : &y->root_mark, fmt, ap);
	va_end(ap);
}

void cfg_note(struct cfg_ctx *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(y, CFG_SEV_NOTE, n ? &n->start_mark : &y->root_mark, fmt, ap);
	va_end(ap);
}

/* --- key path ------------------------------------------------------------- */

static size_t path_append(struct cfg_ctx *y, const char *fmt, const char *s, int i)
{
	size_t old = y->plen, room = sizeof(y->path) - y->plen;
	int n;

	if (s)
		n = snprintf(y->path + y->plen, room, fmt, s);
	else
		n = snprintf(y->path + y->plen, room, fmt, i);
	if (n < 0)
		n = 0;
	y->plen += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

size_t cfg_push(struct cfg_ctx *y, const char *key)
{
	return path_append(y, y->plen ? ".%s" : "%s", key, 0);
}

size_t cfg_push_index(struct cfg_ctx *y, int i)
{
	return path_append(y, "[%d]", NULL, i);
}

void cfg_pop(struct cfg_ctx *y, size_t len)
{
	y->plen = len;
	y->path[len] = '\0';
}

const char *cfg_quote(const char *s, size_t len, char *buf, size_t cap)
{
	size_t o = 0;

	if (cap < 8) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (o + 4 >= cap) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	buf[o] = '\0';
	return buf;
}

/* --- allocation ----------------------------------------------------------- */

char *cfg_strndup(struct cfg_ctx *y, const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (!p) {
		y->oom = true;
		return NULL;
	}
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *cfg_calloc(struct cfg_ctx *y, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		y->oom = true;
	return p;
}

/* --- nodes ---------------------------------------------------------------- */

yaml_node_t *cfg_node(struct cfg_ctx *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

static bool is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

static bool tag_is(const yaml_node_t *n, const char *tag)
{
	return n->tag && strcmp((const char *)n->tag, tag) == 0;
}

bool cfg_is_null(const yaml_node_t *n)
{
	const char *v;
	size_t len;

	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE)
		return false;
	if (tag_is(n, YAML_NULL_TAG))
		return true;
	if (!is_plain(n))
		return false;
	v = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	return len == 0 || (len == 1 && v[0] == '~') ||
	       (len == 4 && (!strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL")));
}

const char *cfg_kind(const yaml_node_t *n)
{
	if (cfg_is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return is_plain(n) ? "a scalar" : "a quoted string";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

int cfg_seq_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *cfg_seq_item(struct cfg_ctx *y, const yaml_node_t *n, int i)
{
	if (i < 0 || i >= cfg_seq_len(n))
		return NULL;
	return cfg_node(y, n->data.sequence.items.start[i]);
}

struct cfg_key *cfg_key_find(struct cfg_key *keys, int nkeys, const char *name)
{
	for (int i = 0; i < nkeys; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* A known key that <name> differs from only by case or '_' for '-'. */
/* Keys compare case-blind and with '_' for '-': DeepFlow users write both. */
static int key_char(char c)
{
	return c == '_' ? '-' : tolower((unsigned char)c);
}

/* Edit distance (insert, delete, substitute) between two short keys, or a
 * large number when either is too long to be a typo of a key. */
static int key_distance(const char *a, const char *b)
{
	enum { MAXK = 48 };
	size_t la = strlen(a), lb = strlen(b);
	int row[MAXK + 1];

	if (la > MAXK || lb > MAXK)
		return 1 << 20;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (key_char(a[i - 1]) != key_char(b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The known key an unknown one is most likely a typo of: within two edits,
 * and fewer than a third of the key's letters, so short keys do not match
 * everything. */
static const char *near_key(const struct cfg_key *keys, int nkeys, const char *name)
{
	const char *best = NULL;
	int best_d = 3;

	for (int i = 0; i < nkeys; i++) {
		int d = key_distance(keys[i].name, name);

		if (d < best_d && (size_t)d * 3 < strlen(keys[i].name)) {
			best = keys[i].name;
			best_d = d;
		}
	}
	return best;
}

int cfg_map(struct cfg_ctx *y, yaml_node_t *n, struct cfg_key *keys, int nkeys)
{
	char unknown[512];
	size_t ulen = 0;
	int n_unknown = 0;
	yaml_node_t *first_unknown = NULL;

	for (int i = 0; i < nkeys; i++)
		keys[i].key = keys[i].val = NULL;
	if (cfg_is_null(n))
		return 1;
	if (n->type != YAML_MAPPING_NODE) {
		cfg_err(y, n, "expected a mapping, got %s", cfg_kind(n));
		return -1;
	}
	unknown[0] = '\0';
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = cfg_node(y, p->key), *v = cfg_node(y, p->value);
		struct cfg_key *known;
		const char *name;
		char q[80];

		if (!k || k->type != YAML_SCALAR_NODE) {
			cfg_err(y, k, "keys must be plain strings, got %s", cfg_kind(k));
			continue;
		}
		name = (const char *)k->data.scalar.value;
		if (strlen(name) != k->data.scalar.length) {
			cfg_err(y, k, "key contains a NUL byte");
			continue;
		}
		known = cfg_key_find(keys, nkeys, name);
		if (!known) {
			const char *near = near_key(keys, nkeys, name);

			if (!first_unknown)
				first_unknown = k;
			if (n_unknown < 8 && ulen < sizeof(unknown) - 1) {
				int w = snprintf(unknown + ulen, sizeof(unknown) - ulen,
						 "%s%s (line %zu%s%s%s)", n_unknown ? ", " : "",
						 cfg_quote(name, k->data.scalar.length, q, 48),
						 k->start_mark.line + 1, near ? "; did you mean " : "",
						 near ? near : "", near ? "?" : "");
				if (w > 0)
					ulen += (size_t)w < sizeof(unknown) - ulen ? (size_t)w
										    : sizeof(unknown) - ulen - 1;
			}
			n_unknown++;
			continue;
		}
		if (known->key) {
			size_t pl = cfg_push(y, known->name);

			cfg_err(y, k, "duplicate key (first at line %zu)", known->key->start_mark.line + 1);
			cfg_pop(y, pl);
			continue;
		}
		known->key = k;
		known->val = v;
	}
	if (n_unknown)
		cfg_warn(y, first_unknown, "unknown key%s %s%s ignored%s", n_unknown > 1 ? "s" : "",
			 unknown, n_unknown > 8 ? ", ..." : "", y->unknown_hint ? y->unknown_hint : "");
	return 0;
}

/* --- scalars -------------------------------------------------------------- */

int cfg_node_text(struct cfg_ctx *y, yaml_node_t *n, const char **s, size_t *len)
{
	if (cfg_is_null(n))
		return 1;
	if (n->type != YAML_SCALAR_NODE) {
		cfg_err(y, n, "expected a single value, got %s", cfg_kind(n));
		return -1;
	}
	*s = (const char *)n->data.scalar.value;
	*len = n->data.scalar.length;
	if (memchr(*s, '\0', *len)) {
		cfg_err(y, n, "value contains a NUL byte");
		return -1;
	}
	return 0;
}

int cfg_node_str(struct cfg_ctx *y, yaml_node_t *n, char **out)
{
	const char *s;
	size_t len;
	int r = cfg_node_text(y, n, &s, &len);
	char *p;

	if (r)
		return r;
	p = cfg_strndup(y, s, len);
	if (!p)
		return -1;
	free(*out);
	*out = p;
	return 0;
}

int cfg_node_bool(struct cfg_ctx *y, yaml_node_t *n, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const char *s;
	size_t len;
	char q[64];
	int r = cfg_node_text(y, n, &s, &len);

	if (r)
		return r;
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	cfg_err(y, n, "expected true or false, got `%s`", cfg_quote(s, len, q, sizeof(q)));
	return -1;
}

/* Integer text: optional sign, decimal digits or 0x hex, '_' separators
 * (YAML 1.1).  Returns 0 or -EINVAL / -ERANGE. */
static int parse_int(const char *s, int64_t *out)
{
	char buf[72];
	size_t o = 0;
	char *end;
	long long v;

	for (; *s; s++) {
		if (*s == '_')
			continue;
		if (o + 1 >= sizeof(buf))
			return -ERANGE;
		buf[o++] = *s;
	}
	buf[o] = '\0';
	if (!o || isspace((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	if ((buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) ||
	    ((buf[0] == '-' || buf[0] == '+') && buf[1] == '0' && (buf[2] == 'x' || buf[2] == 'X')))
		v = strtoll(buf, &end, 16);
	else
		v = strtoll(buf, &end, 10);
	if (end == buf || *end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int cfg_node_int(struct cfg_ctx *y, yaml_node_t *n, int64_t lo, int64_t hi, int64_t *out)
{
	const char *s;
	size_t len;
	int64_t v;
	char q[64];
	int r = cfg_node_text(y, n, &s, &len);

	if (r)
		return r;
	r = parse_int(s, &v);
	if (r == -EINVAL) {
		cfg_err(y, n, "expected an integer, got `%s`", cfg_quote(s, len, q, sizeof(q)));
		return -1;
	}
	if (r || v < lo || v > hi) {
		cfg_err(y, n, "%s is out of range (allowed %lld..%lld)", cfg_quote(s, len, q, sizeof(q)),
			(long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_node_u64(struct cfg_ctx *y, yaml_node_t *n, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *s;
	size_t len;
	char q[64], *end;
	unsigned long long v;
	int r = cfg_node_text(y, n, &s, &len);
	char buf[72];
	size_t o = 0;

	if (r)
		return r;
	for (size_t i = 0; i < len && o + 1 < sizeof(buf); i++)
		if (s[i] != '_')
			buf[o++] = s[i];
	buf[o] = '\0';
	if (!o || !isdigit((unsigned char)buf[0]) || len >= sizeof(buf)) {
		cfg_err(y, n, "expected a non-negative integer, got `%s`", cfg_quote(s, len, q, sizeof(q)));
		return -1;
	}
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (*end) {
		cfg_err(y, n, "expected a non-negative integer, got `%s`", cfg_quote(s, len, q, sizeof(q)));
		return -1;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		cfg_err(y, n, "%s is out of range (allowed %llu..%llu)", cfg_quote(s, len, q, sizeof(q)),
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Seconds: a number, optionally with a unit ms, s, m or h ("500ms", "10s"). */
int cfg_node_seconds(struct cfg_ctx *y, yaml_node_t *n, double lo, bool lo_open, double hi,
		     double *out)
{
	const char *s;
	size_t len;
	char q[64], *end;
	double v, mul = 1;
	int r = cfg_node_text(y, n, &s, &len);

	if (r)
		return r;
	errno = 0;
	v = (len && !isspace((unsigned char)s[0])) ? strtod(s, &end) : 0;
	if (!len || isspace((unsigned char)s[0]) || end == s || errno == ERANGE || !isfinite(v))
		goto bad;
	while (*end == ' ')
		end++;
	if (!strcmp(end, "ms"))
		mul = 0.001;
	else if (!strcmp(end, "s") || !*end)
		mul = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else
		goto bad;
	v *= mul;
	if (v < lo || (lo_open && v <= lo) || v > hi) {
		if (lo_open)
			cfg_err(y, n, "%s is out of range (must be more than %g and at most %g seconds)",
				cfg_quote(s, len, q, sizeof(q)), lo, hi);
		else
			cfg_err(y, n, "%s is out of range (allowed %g..%g seconds)",
				cfg_quote(s, len, q, sizeof(q)), lo, hi);
		return -1;
	}
	*out = v;
	return 0;
bad:
	cfg_err(y, n, "expected seconds (e.g. 10, 0.5, 500ms, 2m), got `%s`",
		cfg_quote(s, len, q, sizeof(q)));
	return -1;
}

static void fmt_size(size_t v, char *buf, size_t cap)
{
	if (v && v % (1UL << 30) == 0)
		snprintf(buf, cap, "%zuGiB", v >> 30);
	else if (v && v % (1UL << 20) == 0)
		snprintf(buf, cap, "%zuMiB", v >> 20);
	else if (v && v % 1024 == 0)
		snprintf(buf, cap, "%zuKiB", v >> 10);
	else
		snprintf(buf, cap, "%zu", v);
}

int cfg_node_size(struct cfg_ctx *y, yaml_node_t *n, size_t lo, size_t hi, size_t *out)
{
	const char *s;
	size_t len, v;
	char q[64], a[32], b[32];
	int r = cfg_node_text(y, n, &s, &len);

	if (r)
		return r;
	if (cfg_parse_size(s, &v)) {
		cfg_err(y, n, "expected a size (e.g. 4096, 64KiB, 8MiB, 1g), got `%s`",
			cfg_quote(s, len, q, sizeof(q)));
		return -1;
	}
	if (v < lo || v > hi) {
		fmt_size(lo, a, sizeof(a));
		fmt_size(hi, b, sizeof(b));
		cfg_err(y, n, "%s is out of range (allowed %s..%s)", cfg_quote(s, len, q, sizeof(q)), a, b);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_node_ds(struct cfg_ctx *y, yaml_node_t *n, int *out)
{
	const char *s;
	size_t len;
	char q[96];
	int r = cfg_node_text(y, n, &s, &len), ds;

	if (r)
		return r;
	ds = schema_ds_from_name(s, len);
	if (ds >= 0) {
		*out = ds;
		return 0;
	}
	cfg_quote(s, len, q, sizeof(q));
	if (!strncmp(s, "flow_log.", 9) || !strncmp(s, "event.", 6))
		cfg_err(y, n, "data source `%s` cannot be exported to remote write: only flow_metrics.* "
			"data sources are (DeepFlow exports %s only through kafka)", q, q);
	else
		cfg_err(y, n, "unknown data source `%s` (expected "
			"flow_metrics.{network,network_map,application,application_map}.{1s,1m})", q);
	return -1;
}

#define KEY_WRAP(call)                                   \
	do {                                             \
		size_t pl_;                              \
		int r_;                                  \
		if (!k->val || cfg_is_null(k->val))      \
			return 1;                        \
		pl_ = cfg_push(y, k->name);              \
		r_ = (call);                             \
		cfg_pop(y, pl_);                         \
		return r_;                               \
	} while (0)

int cfg_key_str(struct cfg_ctx *y, const struct cfg_key *k, char **out)
{
	KEY_WRAP(cfg_node_str(y, k->val, out));
}

int cfg_key_bool(struct cfg_ctx *y, const struct cfg_key *k, bool *out)
{
	KEY_WRAP(cfg_node_bool(y, k->val, out));
}

int cfg_key_int(struct cfg_ctx *y, const struct cfg_key *k, int64_t lo, int64_t hi, int64_t *out)
{
	KEY_WRAP(cfg_node_int(y, k->val, lo, hi, out));
}

int cfg_key_u64(struct cfg_ctx *y, const struct cfg_key *k, uint64_t lo, uint64_t hi,
		uint64_t *out)
{
	KEY_WRAP(cfg_node_u64(y, k->val, lo, hi, out));
}

int cfg_key_seconds(struct cfg_ctx *y, const struct cfg_key *k, double lo, bool lo_open,
		    double hi, double *out)
{
	KEY_WRAP(cfg_node_seconds(y, k->val, lo, lo_open, hi, out));
}

int cfg_key_size(struct cfg_ctx *y, const struct cfg_key *k, size_t lo, size_t hi, size_t *out)
{
	KEY_WRAP(cfg_node_size(y, k->val, lo, hi, out));
}

/* --- addresses ------------------------------------------------------------ */

bool cfg_host_ok(const char *h, size_t len)
{
	bool numeric = true;
	char buf[256];
	struct in_addr a4;

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)h[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_')
			return false;
		if (!isdigit(ch) && ch != '.')
			numeric = false;
	}
	if (!numeric)
		return true;
	memcpy(buf, h, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, &a4) == 1;
}

bool cfg_ipv6_ok(const char *h, size_t len)
{
	char buf[64];
	struct in6_addr a6;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, h, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a6) == 1;
}

int cfg_check_hostport(struct cfg_ctx *y, yaml_node_t *n, const char *s, int lo_port)
{
	const char *colon, *port;
	char q[96];
	char *end;
	long p;

	cfg_quote(s, strlen(s), q, sizeof(q));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || !cfg_ipv6_ok(s + 1, (size_t)(close - s - 1))) {
			cfg_err(y, n, "`%s`: invalid IPv6 address in brackets", q);
			return -1;
		}
		colon = close + 1;
		if (*colon != ':') {
			cfg_err(y, n, "`%s`: expected [IPv6]:PORT", q);
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			cfg_err(y, n, "`%s`: expected HOST:PORT (e.g. 127.0.0.1:20044)", q);
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			cfg_err(y, n, "`%s`: an IPv6 address must be written in brackets, [::1]:PORT", q);
			return -1;
		}
		if (colon == s) {
			cfg_err(y, n, "`%s`: missing host (write 0.0.0.0:PORT to use every interface)", q);
			return -1;
		}
		if (!cfg_host_ok(s, (size_t)(colon - s))) {
			cfg_err(y, n, "`%s`: invalid host", q);
			return -1;
		}
	}
	port = colon + 1;
	errno = 0;
	p = isdigit((unsigned char)*port) ? strtol(port, &end, 10) : -1;
	if (p < 0 || *end || errno || p < lo_port || p > 65535) {
		cfg_err(y, n, "`%s`: invalid port (allowed %d..65535)", q, lo_port);
		return -1;
	}
	return 0;
}
