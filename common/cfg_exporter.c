/* SPDX-License-Identifier: MIT */
/* cfg_exporter.c: one DeepFlow exporter entry (spec §1.2) plus flowrw's keys. */
#include "common/cfg_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/schema.h"

#define EXP_DEF_QUEUE_COUNT  4
#define EXP_DEF_QUEUE_SIZE   100000
#define EXP_DEF_BATCH_SIZE   1024
#define EXP_MAX_QUEUE_SIZE   10000000
#define EXP_MAX_BATCH_SIZE   1000000
#define EXP_REGEX_MAX_LEN    4096
#define EXP_REGEX_MAX_REPEAT 10000 /* product of {m,n} bounds */
#define EXP_MAX_HEADERS      64
#define EXP_MAX_FILTERS      256   /* per list, and groups per exporter */


static void filter_free(struct cfg_tag_filter *f)
{
	free(f->field_name);
	for (int i = 0; i < f->n_values; i++)
		free(f->values[i]);
	free(f->values);
	free(f->nums);
	if (f->has_re)
		regfree(&f->re);
}

static void filters_free(struct cfg_tag_filter *f, int n)
{
	for (int i = 0; i < n; i++)
		filter_free(&f[i]);
	free(f);
}

void cfg_exporter_fini(struct cfg_exporter *e)
{
	free(e->protocol_name);
	for (int i = 0; i < e->n_endpoints; i++) {
		free(e->endpoints[i].url);
		free(e->endpoints[i].host);
		free(e->endpoints[i].port);
		free(e->endpoints[i].path);
	}
	free(e->endpoints);
	filters_free(e->tag_filters, e->n_tag_filters);
	for (int g = 0; g < e->n_groups; g++)
		filters_free(e->groups[g].filters, e->groups[g].n_filters);
	free(e->groups);
	for (int i = 0; i < e->n_export_fields; i++)
		free(e->export_fields[i]);
	free(e->export_fields);
	for (int i = 0; i < e->n_headers; i++) {
		free(e->headers[i].name);
		free(e->headers[i].value);
	}
	free(e->headers);
	memset(e, 0, sizeof(*e));
}

/* --- endpoints ------------------------------------------------------------ */

static int parse_endpoint(struct cfg_ctx *y, yaml_node_t *n, struct cfg_endpoint *ep)
{
	const char *url, *sep, *auth, *aend, *host, *hend, *port = NULL, *path;
	size_t len, plen;
	char q[200];
	int r = cfg_node_text(y, n, &url, &len);

	if (r == 1) {
		cfg_err(y, n, "empty endpoint");
		return -1;
	}
	if (r)
		return -1;
	cfg_quote(url, len, q, sizeof(q));
	sep = strstr(url, "://");
	if (!sep) {
		cfg_err(y, n, "`%s` is not a URL: expected http://HOST[:PORT]/PATH", q);
		return -1;
	}
	if ((size_t)(sep - url) == 5 && !strncasecmp(url, "https", 5)) {
		cfg_err(y, n, "`%s`: https:// is not supported (TLS not supported yet); use http:// "
			"or a local TLS-terminating proxy", q);
		return -1;
	}
	if ((size_t)(sep - url) != 4 || strncasecmp(url, "http", 4)) {
		cfg_err(y, n, "`%s`: unsupported scheme, only http:// is", q);
		return -1;
	}
	auth = sep + 3;
	aend = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(aend - auth))) {
		/* The URL carries a password: never print it. */
		cfg_err(y, n, "credentials in an endpoint URL are not supported (URL not shown); "
			"send them with extra-headers, e.g. Authorization");
		return -1;
	}
	if (auth == aend) {
		cfg_err(y, n, "`%s`: no host", q);
		return -1;
	}
	if (*auth == '[') {
		const char *close = memchr(auth, ']', (size_t)(aend - auth));

		if (!close) {
			cfg_err(y, n, "`%s`: unterminated [IPv6] address", q);
			return -1;
		}
		host = auth + 1;
		hend = close;
		if (memchr(host, '%', (size_t)(hend - host))) {
			cfg_err(y, n, "`%s`: IPv6 zone ids are not supported", q);
			return -1;
		}
		if (!cfg_ipv6_ok(host, (size_t)(hend - host))) {
			cfg_err(y, n, "`%s`: invalid IPv6 address", q);
			return -1;
		}
		if (close + 1 < aend) {
			if (close[1] != ':') {
				cfg_err(y, n, "`%s`: expected :PORT after the IPv6 address", q);
				return -1;
			}
			port = close + 2;
		}
		ep->ipv6_literal = true;
	} else {
		const char *colon = memchr(auth, ':', (size_t)(aend - auth));

		if (colon && memchr(colon + 1, ':', (size_t)(aend - colon - 1))) {
			cfg_err(y, n, "`%s`: an IPv6 address must be written in brackets, http://[::1]:PORT/", q);
			return -1;
		}
		host = auth;
		hend = colon ? colon : aend;
		if (!cfg_host_ok(host, (size_t)(hend - host))) {
			cfg_err(y, n, "`%s`: invalid host", q);
			return -1;
		}
		if (colon)
			port = colon + 1;
	}
	if (port) {
		long p = 0;

		if (port == aend || (size_t)(aend - port) > 5) {
			cfg_err(y, n, "`%s`: invalid port", q);
			return -1;
		}
		for (const char *c = port; c < aend; c++) {
			if (!isdigit((unsigned char)*c)) {
				cfg_err(y, n, "`%s`: invalid port", q);
				return -1;
			}
			p = p * 10 + (*c - '0');
		}
		if (p < 1 || p > 65535) {
			cfg_err(y, n, "`%s`: port out of range (1..65535)", q);
			return -1;
		}
	}
	path = aend;
	plen = len - (size_t)(aend - url);
	if (memchr(path, '#', plen)) {
		cfg_err(y, n, "`%s`: a #fragment has no meaning in an endpoint", q);
		return -1;
	}
	for (size_t i = 0; i < plen; i++) {
		unsigned char ch = (unsigned char)path[i];

		if (ch <= 0x20 || ch == 0x7f) {
			cfg_err(y, n, "`%s`: the path contains a space or a control character", q);
			return -1;
		}
	}
	ep->url = cfg_strndup(y, url, len);
	ep->host = cfg_strndup(y, host, (size_t)(hend - host));
	ep->port = port ? cfg_strndup(y, port, (size_t)(aend - port)) : cfg_strndup(y, "80", 2);
	if (plen == 0) {
		ep->path = cfg_strndup(y, "/", 1);
	} else if (path[0] == '?') {
		ep->path = malloc(plen + 2);
		if (ep->path) {
			ep->path[0] = '/';
			memcpy(ep->path + 1, path, plen);
			ep->path[plen + 1] = '\0';
		} else {
			y->oom = true;
		}
	} else {
		ep->path = cfg_strndup(y, path, plen);
	}
	return 0;
}

static void parse_endpoints(struct cfg_ctx *y, yaml_node_t *exp, const struct cfg_key *k,
			    struct cfg_exporter *e)
{
	size_t pl = cfg_push(y, "endpoints");
	yaml_node_t *list = k->val;
	int n;

	if (!k->key || cfg_is_null(list) || (list->type == YAML_SEQUENCE_NODE && !cfg_seq_len(list))) {
		cfg_err(y, k->key ? list : exp, "%s (DeepFlow would panic on the first send)",
			k->key ? "empty list" : "missing: at least one http:// URL is needed");
		goto out;
	}
	if (list->type == YAML_SCALAR_NODE) {
		/* One URL without brackets: accept it as a list of one. */
		e->endpoints = cfg_calloc(y, 1, sizeof(*e->endpoints));
		if (e->endpoints && !parse_endpoint(y, list, &e->endpoints[0]))
			e->n_endpoints = 1;
		goto out;
	}
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(y, list, "expected a list of URLs, got %s", cfg_kind(list));
		goto out;
	}
	n = cfg_seq_len(list);
	if (n > CFG_MAX_ENDPOINTS) {
		cfg_err(y, list, "%d endpoints: at most %d are supported", n, CFG_MAX_ENDPOINTS);
		goto out;
	}
	e->endpoints = cfg_calloc(y, (size_t)n, sizeof(*e->endpoints));
	if (!e->endpoints)
		goto out;
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = cfg_seq_item(y, list, i);
		size_t pi = cfg_push_index(y, i);
		struct cfg_endpoint *ep = &e->endpoints[e->n_endpoints];

		if (!parse_endpoint(y, it, ep)) {
			e->n_endpoints++;
			for (int j = 0; j < e->n_endpoints - 1; j++) {
				if (ep->url && e->endpoints[j].url && !strcmp(e->endpoints[j].url, ep->url)) {
					char q[160];

					cfg_warn(y, it, "`%s` is listed twice", cfg_quote(ep->url, strlen(ep->url), q, sizeof(q)));
					break;
				}
			}
		} else {
			free(ep->url);
			free(ep->host);
			free(ep->port);
			free(ep->path);
			memset(ep, 0, sizeof(*ep));
		}
		cfg_pop(y, pi);
	}
out:
	cfg_pop(y, pl);
}

/* --- data sources --------------------------------------------------------- */

static void parse_data_sources(struct cfg_ctx *y, const struct cfg_key *k, struct cfg_exporter *e)
{
	size_t pl = cfg_push(y, "data-sources");
	yaml_node_t *list = k->val;
	int ds;

	if (cfg_is_null(list))
		goto out;
	if (list->type == YAML_SCALAR_NODE) {
		if (!cfg_node_ds(y, list, &ds))
			e->ds_mask |= 1U << ds;
		goto out;
	}
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(y, list, "expected a list of data source names, got %s", cfg_kind(list));
		goto out;
	}
	for (int i = 0; i < cfg_seq_len(list); i++) {
		yaml_node_t *it = cfg_seq_item(y, list, i);
		size_t pi = cfg_push_index(y, i);

		if (cfg_node_ds(y, it, &ds) == 0) {
			if (e->ds_mask & (1U << ds))
				cfg_warn(y, it, "listed twice");
			e->ds_mask |= 1U << ds;
		} else if (cfg_is_null(it)) {
			cfg_err(y, it, "empty data source name");
		}
		cfg_pop(y, pi);
	}
out:
	cfg_pop(y, pl);
}

/* Families of the exporter's data sources, SCHEMA_FAM_BIT() each. */
static unsigned exporter_families(const struct cfg_exporter *e)
{
	unsigned fams = 0;

	for (int ds = 0; ds < SCHEMA_DS_MAX; ds++)
		if ((e->ds_mask & (1U << ds)) && schema_ds_name(ds))
			fams |= SCHEMA_FAM_BIT(schema_ds_family(ds));
	return fams;
}

#define FAMS_NET (SCHEMA_FAM_BIT(SCHEMA_FAM_NETWORK) | SCHEMA_FAM_BIT(SCHEMA_FAM_NETWORK_MAP))
#define FAMS_APP (SCHEMA_FAM_BIT(SCHEMA_FAM_APPLICATION) | SCHEMA_FAM_BIT(SCHEMA_FAM_APPLICATION_MAP))

/* Families that have a field whose json name is <name>; 0 when none. */
static unsigned json_field_families(const char *name)
{
	unsigned fams = 0;
	int t = schema_tag_by_json(name);

	if (t >= 0)
		fams |= schema_tags[t].families;
	for (int i = 0; i < SCHEMA_NET_METRICS; i++)
		if (!strcmp(schema_net_metrics[i].name, name))
			fams |= FAMS_NET;
	for (int i = 0; i < SCHEMA_APP_METRICS; i++)
		if (!strcmp(schema_app_metrics[i].name, name))
			fams |= FAMS_APP;
	return fams;
}

/* The tag whose map_json name is <name>, or -1. */
static int tag_by_map_json(const char *name)
{
	for (int t = 0; t < SCHEMA_TAG_COUNT; t++)
		if (schema_tags[t].map_json && !strcmp(schema_tags[t].map_json, name))
			return t;
	return -1;
}

/* --- tag filters ---------------------------------------------------------- */

static const char *const op_names[] = {
	[CFG_OP_EQ] = "=",
	[CFG_OP_NE] = "!=",
	[CFG_OP_IN] = "in",
	[CFG_OP_NOT_IN] = "not in",
	[CFG_OP_WILDCARD] = ":",
	[CFG_OP_NOT_WILDCARD] = "!:",
	[CFG_OP_REGEX] = "~",
	[CFG_OP_NOT_REGEX] = "!~",
};

static bool op_is_regex(enum cfg_filter_op op)
{
	return op == CFG_OP_WILDCARD || op == CFG_OP_NOT_WILDCARD || op == CFG_OP_REGEX ||
	       op == CFG_OP_NOT_REGEX;
}

/* glibc expands bounded repetitions while compiling, so a{1000}{1000}
 * would build a million nodes: refuse patterns whose bounds multiply past
 * a limit (counted over the whole pattern, which over-estimates sequences). */
static bool regex_too_big(const char *p)
{
	double product = 1;

	if (strlen(p) > EXP_REGEX_MAX_LEN)
		return true;
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\') {
			if (!p[++i])
				break;
		} else if (p[i] == '[') {
			size_t j = i + 1;

			if (p[j] == '^')
				j++;
			if (p[j] == ']')
				j++;
			while (p[j] && p[j] != ']')
				j++;
			if (!p[j])
				break;
			i = j;
		} else if (p[i] == '{') {
			double bound = 0, cur = 0;
			size_t j = i + 1;

			for (; p[j] && (isdigit((unsigned char)p[j]) || p[j] == ','); j++) {
				if (p[j] == ',') {
					bound = cur > bound ? cur : bound;
					cur = 0;
				} else {
					cur = cur * 10 + (p[j] - '0');
				}
			}
			bound = cur > bound ? cur : bound;
			if (p[j] == '}' && bound > 1)
				product *= bound;
			if (product > EXP_REGEX_MAX_REPEAT)
				return true;
		}
	}
	return false;
}

/* Compile value <v> for <op> into <re>: wildcards turn '*' into '.*' and
 * escape nothing else (DeepFlow).  0 or -1 (reported). */
static int compile_value(struct cfg_ctx *y, yaml_node_t *n, enum cfg_filter_op op, const char *v,
			 regex_t *re)
{
	size_t len = strlen(v), stars = 0, o = 0;
	char *pat, q[120], why[160];
	int rc;

	for (size_t i = 0; i < len; i++)
		stars += v[i] == '*';
	pat = malloc(len + stars + 1);
	if (!pat) {
		y->oom = true;
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((op == CFG_OP_WILDCARD || op == CFG_OP_NOT_WILDCARD) && v[i] == '*')
			pat[o++] = '.';
		pat[o++] = v[i];
	}
	pat[o] = '\0';
	cfg_quote(v, len, q, sizeof(q));
	if (regex_too_big(pat)) {
		cfg_err(y, n, "regex `%s` is too large (at most %d bytes, repetition bounds multiplying "
			"to at most %d)", q, EXP_REGEX_MAX_LEN, EXP_REGEX_MAX_REPEAT);
		free(pat);
		return -1;
	}
	rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	free(pat);
	if (rc) {
		if (rc != REG_ESPACE) {
			regerror(rc, NULL, why, sizeof(why));
			cfg_err(y, n, "invalid regex `%s`: %s", q, why);
		} else {
			cfg_err(y, n, "regex `%s` needs too much memory", q);
		}
		return -1;
	}
	if (strstr(v, "\\d") || strstr(v, "\\D") || strstr(v, "(?"))
		cfg_warn(y, n, "regex `%s` uses Go/RE2 syntax (\\d, (?...)) that POSIX extended regexes "
			 "do not have; write [0-9] instead", q);
	return 0;
}

static bool parse_number(const char *s, double *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return end != s && !*end;
}

static int parse_filter(struct cfg_ctx *y, yaml_node_t *n, struct cfg_tag_filter *f, unsigned fams)
{
	struct cfg_key keys[] = { { "field-name" }, { "operator" }, { "field-values" } };
	const char *op;
	size_t oplen;
	char q[96];
	int r = cfg_map(y, n, keys, 3), bad = 0, n_vals;
	bool op_ok = false;
	yaml_node_t *vals;

	f->line = n ? (int)n->start_mark.line + 1 : 0;
	if (r) {
		if (r == 1)
			cfg_err(y, n, "empty filter: field-name, operator and field-values are needed");
		return -1;
	}
	if (cfg_key_str(y, &keys[0], &f->field_name) == 1 || (f->field_name && !*f->field_name)) {
		cfg_err(y, keys[0].val ? keys[0].val : n, "missing field-name");
		bad = 1;
	}
	/* operator */
	{
		size_t pl = cfg_push(y, "operator");

		r = cfg_node_text(y, keys[1].val, &op, &oplen);
		if (r == 1) {
			cfg_err(y, keys[1].val ? keys[1].val : n, "missing operator (=, !=, in, not in, :, !:, ~, !~)");
			bad = 1;
		} else if (r == 0) {
			int id = -1;

			for (int i = 0; i < (int)(sizeof(op_names) / sizeof(op_names[0])); i++)
				if (!strcasecmp(op, op_names[i]))
					id = i;
			if (id < 0) {
				cfg_err(y, keys[1].val, "unknown operator `%s` (=, !=, in, not in, :, !:, ~, !~)",
					cfg_quote(op, oplen, q, sizeof(q)));
				bad = 1;
			} else {
				f->op = (enum cfg_filter_op)id;
				op_ok = true;
			}
		} else {
			bad = 1;
		}
		cfg_pop(y, pl);
	}
	/* field-values: a list of scalars, or one scalar */
	{
		size_t pl = cfg_push(y, "field-values");

		vals = keys[2].val;
		if (!cfg_is_null(vals) && vals->type == YAML_MAPPING_NODE) {
			cfg_err(y, vals, "expected a list of values, got a mapping");
			bad = 1;
			n_vals = 0;
		} else {
			n_vals = cfg_is_null(vals) ? 0 : vals->type == YAML_SCALAR_NODE ? 1 : cfg_seq_len(vals);
		}
		f->values = cfg_calloc(y, (size_t)n_vals, sizeof(*f->values));
		f->nums = cfg_calloc(y, (size_t)n_vals, sizeof(*f->nums));
		if (!f->values || !f->nums) {
			cfg_pop(y, pl);
			return -1;
		}
		for (int i = 0; i < n_vals; i++) {
			yaml_node_t *it = vals->type == YAML_SCALAR_NODE ? vals : cfg_seq_item(y, vals, i);
			size_t pi = vals->type == YAML_SCALAR_NODE ? y->plen : cfg_push_index(y, i);
			char *v = NULL;

			r = cfg_node_str(y, it, &v);
			if (r == 1)
				v = cfg_strndup(y, "", 0);
			if (r < 0 || !v) {
				bad = 1;
				cfg_pop(y, pi);
				continue;
			}
			f->values[f->n_values++] = v;
			if (parse_number(v, &f->nums[f->n_nums]))
				f->n_nums++;
			if (op_ok && op_is_regex(f->op)) {
				regex_t re;

				if (compile_value(y, it, f->op, v, &re)) {
					bad = 1;
				} else if (!f->has_re) {
					f->re = re;
					f->has_re = true;
				} else {
					regfree(&re);
				}
			}
			cfg_pop(y, pi);
		}
		if (op_ok && n_vals == 0)
			cfg_warn(y, vals ? vals : n, "no field-values: `%s` %s", op_names[f->op],
				 op_is_regex(f->op) ? "then lets every row pass"
				 : (f->op == CFG_OP_EQ || f->op == CFG_OP_IN) ? "then matches nothing"
									       : "then matches everything");
		if (op_ok && op_is_regex(f->op) && f->n_values > 1)
			cfg_warn(y, vals, "only the first value is used with `%s` (DeepFlow semantics); "
				 "combine alternatives in one regex with |", op_names[f->op]);
		cfg_pop(y, pl);
	}
	/* field-name: filters compare json names (§1.6) */
	if (f->field_name && *f->field_name) {
		size_t pl = cfg_push(y, "field-name");
		unsigned ff = json_field_families(f->field_name);

		cfg_quote(f->field_name, strlen(f->field_name), q, sizeof(q));
		if (!ff) {
			int t = tag_by_map_json(f->field_name);

			if (t >= 0)
				cfg_warn(y, keys[0].val, "`%s` is a label name; filters compare json names, "
					 "so write `%s` (this filter would test nothing, as in DeepFlow)",
					 q, schema_tags[t].json);
			else
				cfg_warn(y, keys[0].val, "unknown field `%s`: no data source has it, so this "
					 "filter tests nothing", q);
		} else if (fams && !(ff & fams)) {
			cfg_warn(y, keys[0].val, "field `%s` is not in this exporter's data sources: this "
				 "filter tests nothing", q);
		}
		cfg_pop(y, pl);
	}
	return bad ? -1 : 0;
}

static void parse_filter_list(struct cfg_ctx *y, yaml_node_t *list, struct cfg_tag_filter **out,
			      int *n_out, unsigned fams)
{
	int n;

	if (cfg_is_null(list))
		return; /* `tag-filters:` empty: no filters (the seed) */
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(y, list, "expected a list of filters {field-name, operator, field-values}, got %s",
			cfg_kind(list));
		return;
	}
	n = cfg_seq_len(list);
	if (n > EXP_MAX_FILTERS) {
		cfg_err(y, list, "%d filters: at most %d are supported", n, EXP_MAX_FILTERS);
		return;
	}
	*out = cfg_calloc(y, (size_t)n, sizeof(**out));
	if (!*out)
		return;
	for (int i = 0; i < n; i++) {
		size_t pi = cfg_push_index(y, i);
		struct cfg_tag_filter *f = &(*out)[*n_out];

		if (parse_filter(y, cfg_seq_item(y, list, i), f, fams) == 0) {
			(*n_out)++;
		} else {
			filter_free(f);
			memset(f, 0, sizeof(*f));
		}
		cfg_pop(y, pi);
	}
}

/* `tag-filter-condition: {type: and|or}` (DeepFlow) or a plain `and`/`or`. */
static void parse_condition(struct cfg_ctx *y, const struct cfg_key *k, enum cfg_condition *out)
{
	size_t pl;
	yaml_node_t *v = k->val;
	const char *s;
	size_t len;
	char q[64];
	int r;

	*out = CFG_COND_AND;
	if (!k->key || cfg_is_null(v))
		return;
	pl = cfg_push(y, k->name);
	if (v->type == YAML_MAPPING_NODE) {
		struct cfg_key t[] = { { "type" } };

		cfg_map(y, v, t, 1);
		cfg_push(y, "type");
		v = t[0].val;
	}
	r = cfg_node_text(y, v, &s, &len);
	if (r == 0) {
		if (!strcasecmp(s, "and")) {
			*out = CFG_COND_AND;
		} else if (!strcasecmp(s, "or")) {
			*out = CFG_COND_OR;
			cfg_note(y, v, "with `or`, a row that matches no filter is rejected; DeepFlow "
				 "exported it anyway (a bug)");
		} else {
			cfg_err(y, v, "unknown condition `%s` (and, or)", cfg_quote(s, len, q, sizeof(q)));
		}
	}
	cfg_pop(y, pl);
}

static void parse_groups(struct cfg_ctx *y, const struct cfg_key *k, struct cfg_exporter *e,
			 unsigned fams)
{
	size_t pl = cfg_push(y, k->name);
	yaml_node_t *list = k->val;
	int n;

	if (cfg_is_null(list))
		goto out;
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(y, list, "expected a list of {tag-filter-condition, tag-filters}, got %s",
			cfg_kind(list));
		goto out;
	}
	n = cfg_seq_len(list);
	if (n > EXP_MAX_FILTERS) {
		cfg_err(y, list, "%d groups: at most %d are supported", n, EXP_MAX_FILTERS);
		goto out;
	}
	e->groups = cfg_calloc(y, (size_t)n, sizeof(*e->groups));
	if (!e->groups)
		goto out;
	for (int i = 0; i < n; i++) {
		struct cfg_key keys[] = { { "tag-filter-condition" }, { "tag-filters" } };
		struct cfg_filter_group *g = &e->groups[e->n_groups++];
		yaml_node_t *it = cfg_seq_item(y, list, i);
		size_t pi = cfg_push_index(y, i), pf;

		if (cfg_map(y, it, keys, 2) == 0) {
			parse_condition(y, &keys[0], &g->cond);
			pf = cfg_push(y, "tag-filters");
			parse_filter_list(y, keys[1].val, &g->filters, &g->n_filters, fams);
			cfg_pop(y, pf);
		}
		cfg_pop(y, pi);
	}
out:
	cfg_pop(y, pl);
}

/* --- export-fields -------------------------------------------------------- */

static bool field_name_known(const char *s)
{
	return json_field_families(s) || tag_by_map_json(s) >= 0;
}

static void check_export_field(struct cfg_ctx *y, yaml_node_t *n, const char *s)
{
	char q[96];
	const char *dot;

	cfg_quote(s, strlen(s), q, sizeof(q));
	if (!*s) {
		cfg_warn(y, n, "empty entry ignored");
		return;
	}
	if (!strncmp(s, "~$k8s.label.", 12) || !strncmp(s, "$k8s.label.", 11)) {
		cfg_warn(y, n, "`%s`: k8s labels are not exported by remote write (DeepFlow's "
			 "prometheus exporter ignores them too)", q);
		return;
	}
	if (!strcmp(s, "$k8s.label")) {
		cfg_warn(y, n, "`$k8s.label` selects every tag and metric (DeepFlow semantics); the "
			 "k8s labels themselves are not exported by remote write");
		return;
	}
	if (s[0] != '$') {
		if (!field_name_known(s))
			cfg_warn(y, n, "unknown field `%s` ignored (no data source has it)", q);
		return;
	}
	if (!strcmp(s, "$tag") || !strcmp(s, "$metrics"))
		return;
	dot = strchr(s, '.');
	if (dot && dot[1]) {
		/* DeepFlow looks up the second '.'-part ($tag.flow_info); the
		 * encoder's fields_select() does the same. */
		const char *sub = dot + 1;
		size_t sublen = strcspn(sub, ".");

		if (schema_subcat_from_name(sub, sublen) < 0)
			cfg_warn(y, n, "unknown category `%s` ignored (e.g. $tag.flow_info, "
				 "$metrics.delay)", q);
		return;
	}
	if (!dot && schema_subcat_from_name(s + 1, strlen(s + 1)) >= 0) {
		cfg_note(y, n, "`%s` selects that sub-category in flowrw; DeepFlow ignores the bare "
			 "form (it expects `$tag.%s` or `$metrics.%s`)", q, s + 1, s + 1);
		return;
	}
	cfg_warn(y, n, "unknown category `%s` ignored (known: $tag, $metrics, $tag.<sub>, "
		 "$metrics.<sub>)", q);
}

static void parse_export_fields(struct cfg_ctx *y, const struct cfg_key *k, struct cfg_exporter *e)
{
	size_t pl = cfg_push(y, "export-fields");
	yaml_node_t *list = k->val;
	int n = 0;

	if (!cfg_is_null(list) && list->type == YAML_MAPPING_NODE) {
		cfg_err(y, list, "expected a list of fields, got a mapping");
		goto out;
	}
	if (!cfg_is_null(list))
		n = list->type == YAML_SCALAR_NODE ? 1 : cfg_seq_len(list);
	if (n == 0) {
		/* The seed's recommendation; DeepFlow's own default exports
		 * metrics without tags (spec §1.5). */
		e->export_fields = cfg_calloc(y, 2, sizeof(char *));
		if (!e->export_fields)
			goto out;
		e->export_fields[0] = cfg_strndup(y, "$tag", 4);
		e->export_fields[1] = cfg_strndup(y, "$metrics", 8);
		e->n_export_fields = 2;
		goto out;
	}
	e->export_fields = cfg_calloc(y, (size_t)n, sizeof(char *));
	if (!e->export_fields)
		goto out;
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = list->type == YAML_SCALAR_NODE ? list : cfg_seq_item(y, list, i);
		size_t pi = list->type == YAML_SCALAR_NODE ? y->plen : cfg_push_index(y, i);
		char *v = NULL;

		if (cfg_node_str(y, it, &v) == 0) {
			check_export_field(y, it, v);
			e->export_fields[e->n_export_fields++] = v;
		}
		cfg_pop(y, pi);
	}
out:
	cfg_pop(y, pl);
}

/* --- extra-headers -------------------------------------------------------- */

static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static void parse_headers(struct cfg_ctx *y, const struct cfg_key *k, struct cfg_exporter *e)
{
	static const char *const managed[] = { "content-length", "transfer-encoding", "connection",
					       "host" };
	size_t pl = cfg_push(y, "extra-headers");
	yaml_node_t *m = k->val;
	int n;

	if (cfg_is_null(m))
		goto out;
	if (m->type != YAML_MAPPING_NODE) {
		cfg_err(y, m, "expected a mapping of header names to values, got %s", cfg_kind(m));
		goto out;
	}
	n = (int)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	if (n > EXP_MAX_HEADERS) {
		cfg_err(y, m, "%d headers: at most %d are supported", n, EXP_MAX_HEADERS);
		goto out;
	}
	e->headers = cfg_calloc(y, (size_t)n, sizeof(*e->headers));
	if (!e->headers)
		goto out;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = cfg_node(y, p->key), *vn = cfg_node(y, p->value);
		const char *name, *val = "";
		size_t nlen, vlen = 0;
		char q[96];
		bool skip = false;
		int r;

		if (cfg_node_text(y, kn, &name, &nlen) != 0) {
			if (cfg_is_null(kn))
				cfg_err(y, kn, "empty header name");
			continue;
		}
		cfg_quote(name, nlen, q, sizeof(q));
		if (!header_name_ok(name)) {
			cfg_err(y, kn, "`%s` is not a valid header name", q);
			continue;
		}
		/* The value may be a token: only its kind is ever reported. */
		if (!cfg_is_null(vn) && vn->type != YAML_SCALAR_NODE) {
			cfg_err(y, vn, "header `%s`: expected a single value, got %s", q, cfg_kind(vn));
			continue;
		}
		r = cfg_is_null(vn) ? 1 : 0;
		if (!r) {
			val = (const char *)vn->data.scalar.value;
			vlen = vn->data.scalar.length;
		}
		for (size_t i = 0; i < vlen; i++) {
			unsigned char ch = (unsigned char)val[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				cfg_err(y, vn, "header `%s`: the value contains a control character "
					"(value not shown)", q);
				skip = true;
				break;
			}
		}
		for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]) && !skip; i++) {
			if (!strcasecmp(name, managed[i])) {
				cfg_warn(y, kn, "header `%s` is set by flowrw itself; this entry is ignored", q);
				skip = true;
			}
		}
		for (int i = 0; i < e->n_headers && !skip; i++) {
			if (!strcasecmp(e->headers[i].name, name)) {
				cfg_err(y, kn, "header `%s` is given twice", q);
				skip = true;
			}
		}
		if (skip)
			continue;
		e->headers[e->n_headers].name = cfg_strndup(y, name, nlen);
		e->headers[e->n_headers].value = cfg_strndup(y, val, vlen);
		e->n_headers++;
	}
out:
	cfg_pop(y, pl);
}

/* --- one exporter --------------------------------------------------------- */

enum {
	K_PROTOCOL = 0,
	K_ENABLED,
	K_DATA_SOURCES,
	K_ENDPOINTS,
	K_QUEUE_COUNT,
	K_QUEUE_SIZE,
	K_BATCH_SIZE,
	K_FLUSH_TIMEOUT,
	K_EMPTY_TAG,
	K_EMPTY_METRICS,
	K_ENUM_DISABLED,
	K_UTAG_DISABLED,
	K_CONDITION,
	K_FILTERS,
	K_GROUPS,
	K_FIELDS,
	K_HEADERS,
	K_MIN_BACKOFF,
	K_MAX_BACKOFF,
	K_REQUEST_TIMEOUT,
	K_SASL,
	K_TOPIC,
	K_OLD_FIRST,
	K_COUNT = K_OLD_FIRST + 5, /* number of keys */
};

/* Keys renamed by DeepFlow in 2024 (spec §1.2): DeepFlow ignores the old
 * names silently, so a config using them does not do what it says. */
static const char *const old_keys[5][2] = {
	{ "tag-omitempty-disabled", "export-empty-tag" },
	{ "metrics-omitempty", "export-empty-metrics-disabled" },
	{ "enum-to-string-disabled", "enum-translate-to-name-disabled" },
	{ "universal-tag-to-string-disabled", "universal-tag-translate-to-name-disabled" },
	{ "tag-filter", "tag-filters" },
};

/* An integer key where 0 means "DeepFlow's default", as in DeepFlow. */
static void int_key_default0(struct cfg_ctx *y, const struct cfg_key *k, int64_t lo, int64_t hi,
			     int def, int *out)
{
	int64_t v;
	size_t pl;

	if (cfg_key_int(y, k, INT64_MIN, INT64_MAX, &v) != 0)
		return;
	pl = cfg_push(y, k->name);
	if (v == 0) {
		cfg_note(y, k->val, "0 means the default, %d (as in DeepFlow)", def);
	} else if (v < lo || v > hi) {
		cfg_err(y, k->val, "%lld is out of range (allowed %lld..%lld)", (long long)v,
			(long long)lo, (long long)hi);
	} else {
		*out = (int)v;
	}
	cfg_pop(y, pl);
}

static void parse_exporter(struct cfg_ctx *y, yaml_node_t *n, struct cfg_exporter *e)
{
	struct cfg_key keys[K_COUNT] = {
		[K_PROTOCOL] = { "protocol" },
		[K_ENABLED] = { "enabled" },
		[K_DATA_SOURCES] = { "data-sources" },
		[K_ENDPOINTS] = { "endpoints" },
		[K_QUEUE_COUNT] = { "queue-count" },
		[K_QUEUE_SIZE] = { "queue-size" },
		[K_BATCH_SIZE] = { "batch-size" },
		[K_FLUSH_TIMEOUT] = { "flush-timeout" },
		[K_EMPTY_TAG] = { "export-empty-tag" },
		[K_EMPTY_METRICS] = { "export-empty-metrics-disabled" },
		[K_ENUM_DISABLED] = { "enum-translate-to-name-disabled" },
		[K_UTAG_DISABLED] = { "universal-tag-translate-to-name-disabled" },
		[K_CONDITION] = { "tag-filter-condition" },
		[K_FILTERS] = { "tag-filters" },
		[K_GROUPS] = { "tag-filters-groups" },
		[K_FIELDS] = { "export-fields" },
		[K_HEADERS] = { "extra-headers" },
		[K_MIN_BACKOFF] = { "min-backoff" },
		[K_MAX_BACKOFF] = { "max-backoff" },
		[K_REQUEST_TIMEOUT] = { "request-timeout" },
		[K_SASL] = { "sasl" },
		[K_TOPIC] = { "topic" },
	};
	int errors_before = y->diag->n_errors;
	char q[96];
	unsigned fams;
	size_t pl;
	int r;

	for (int i = 0; i < 5; i++)
		keys[K_OLD_FIRST + i].name = old_keys[i][0];
	e->enabled = true;
	e->protocol = CFG_PROTO_OTHER;
	e->queue_count = EXP_DEF_QUEUE_COUNT;
	e->queue_size = EXP_DEF_QUEUE_SIZE;
	e->batch_size = EXP_DEF_BATCH_SIZE;
	e->flush_timeout = 10;
	e->min_backoff = 0.03;
	e->max_backoff = 5;
	e->request_timeout = 30;
	e->tag_filter_condition = CFG_COND_AND;
	e->line = n ? (int)n->start_mark.line + 1 : 0;

	y->unknown_hint = " (DeepFlow would ignore them silently)";
	r = cfg_map(y, n, keys, K_COUNT);
	y->unknown_hint = NULL;
	if (r) {
		if (r == 1)
			cfg_err(y, n, "empty exporter entry");
		return;
	}

	/* protocol and enabled decide whether the rest matters */
	r = cfg_key_str(y, &keys[K_PROTOCOL], &e->protocol_name);
	if (r == 0) {
		if (!strcmp(e->protocol_name, "prometheus"))
			e->protocol = CFG_PROTO_PROMETHEUS;
		else if (!strcmp(e->protocol_name, "kafka"))
			e->protocol = CFG_PROTO_KAFKA;
		else if (!strcmp(e->protocol_name, "opentelemetry"))
			e->protocol = CFG_PROTO_OTLP;
		pl = cfg_push(y, "protocol");
		if (e->protocol == CFG_PROTO_OTHER && !strcasecmp(e->protocol_name, "prometheus")) {
			cfg_warn(y, keys[K_PROTOCOL].val, "write `prometheus` in lower case: DeepFlow "
				 "would not recognise `%s` (accepted)",
				 cfg_quote(e->protocol_name, strlen(e->protocol_name), q, sizeof(q)));
			e->protocol = CFG_PROTO_PROMETHEUS;
		} else if (e->protocol != CFG_PROTO_PROMETHEUS) {
			cfg_warn(y, keys[K_PROTOCOL].val, "protocol `%s` is not exported by flowrw "
				 "(only prometheus): exporter skipped",
				 cfg_quote(e->protocol_name, strlen(e->protocol_name), q, sizeof(q)));
		}
		cfg_pop(y, pl);
	} else if (r == 1) {
		cfg_warn(y, n, "no protocol: exporter skipped (write `protocol: prometheus`)");
	}
	r = cfg_key_bool(y, &keys[K_ENABLED], &e->enabled);
	if (e->protocol != CFG_PROTO_PROMETHEUS)
		return;
	if (r == 1 && !keys[K_ENABLED].key)
		cfg_note(y, n, "no `enabled` key: the exporter is enabled (as the DeepFlow documentation "
			 "says; DeepFlow's code would skip it)");
	if (!e->enabled) {
		pl = cfg_push(y, "enabled");
		cfg_note(y, keys[K_ENABLED].val, "false: exporter skipped");
		cfg_pop(y, pl);
		y->demote++;
		y->demote_why = " [exporter disabled, so not an error]";
	}

	parse_data_sources(y, &keys[K_DATA_SOURCES], e);
	fams = exporter_families(e);
	parse_endpoints(y, n, &keys[K_ENDPOINTS], e);

	int_key_default0(y, &keys[K_QUEUE_COUNT], 1, CFG_MAX_QUEUE_COUNT, EXP_DEF_QUEUE_COUNT,
			 &e->queue_count);
	int_key_default0(y, &keys[K_QUEUE_SIZE], 1, EXP_MAX_QUEUE_SIZE, EXP_DEF_QUEUE_SIZE,
			 &e->queue_size);
	e->queue_size_set = keys[K_QUEUE_SIZE].key != NULL;
	int_key_default0(y, &keys[K_BATCH_SIZE], 1, EXP_MAX_BATCH_SIZE, EXP_DEF_BATCH_SIZE,
			 &e->batch_size);
	if (e->queue_size < e->batch_size) {
		const struct cfg_key *at = keys[K_QUEUE_SIZE].key ? &keys[K_QUEUE_SIZE]
								  : &keys[K_BATCH_SIZE];

		pl = cfg_push(y, at->name);
		cfg_err(y, at->val, "queue-size (%d) must be at least batch-size (%d): a lane holds "
			"queue-size series and a request carries batch-size", e->queue_size, e->batch_size);
		cfg_pop(y, pl);
	}
	cfg_key_seconds(y, &keys[K_FLUSH_TIMEOUT], 0, true, 3600, &e->flush_timeout);

	cfg_key_bool(y, &keys[K_EMPTY_TAG], &e->export_empty_tag);
	if (e->export_empty_tag) {
		pl = cfg_push(y, "export-empty-tag");
		cfg_warn(y, keys[K_EMPTY_TAG].val, "true has no effect: remote write forbids empty "
			 "label values, so empty tags are always omitted");
		cfg_pop(y, pl);
	}
	cfg_key_bool(y, &keys[K_EMPTY_METRICS], &e->export_empty_metrics_disabled);
	cfg_key_bool(y, &keys[K_ENUM_DISABLED], &e->enum_translate_to_name_disabled);
	cfg_key_bool(y, &keys[K_UTAG_DISABLED], &e->universal_tag_translate_to_name_disabled);

	parse_condition(y, &keys[K_CONDITION], &e->tag_filter_condition);
	pl = cfg_push(y, "tag-filters");
	parse_filter_list(y, keys[K_FILTERS].val, &e->tag_filters, &e->n_tag_filters, fams);
	cfg_pop(y, pl);
	parse_groups(y, &keys[K_GROUPS], e, fams);
	parse_export_fields(y, &keys[K_FIELDS], e);
	parse_headers(y, &keys[K_HEADERS], e);

	cfg_key_seconds(y, &keys[K_MIN_BACKOFF], 0, true, 3600, &e->min_backoff);
	cfg_key_seconds(y, &keys[K_MAX_BACKOFF], 0, true, 86400, &e->max_backoff);
	if (e->max_backoff < e->min_backoff) {
		const struct cfg_key *at = keys[K_MAX_BACKOFF].key ? &keys[K_MAX_BACKOFF]
								   : &keys[K_MIN_BACKOFF];

		pl = cfg_push(y, at->name);
		cfg_err(y, at->val, "max-backoff (%gs) is below min-backoff (%gs)", e->max_backoff,
			e->min_backoff);
		cfg_pop(y, pl);
	}
	cfg_key_seconds(y, &keys[K_REQUEST_TIMEOUT], 0, true, 3600, &e->request_timeout);

	for (int i = K_SASL; i <= K_TOPIC; i++) {
		if (!keys[i].key)
			continue;
		pl = cfg_push(y, keys[i].name);
		cfg_warn(y, keys[i].key, "kafka-only key ignored for protocol prometheus");
		cfg_pop(y, pl);
	}
	for (int i = 0; i < 5; i++) {
		if (!keys[K_OLD_FIRST + i].key)
			continue;
		pl = cfg_push(y, old_keys[i][0]);
		cfg_warn(y, keys[K_OLD_FIRST + i].key, "old key name, ignored (as by DeepFlow since "
			 "2024); the key is now `%s`", old_keys[i][1]);
		cfg_pop(y, pl);
	}

	if (!e->enabled) {
		y->demote--;
		return;
	}
	if (!e->ds_mask && y->diag->n_errors == errors_before)
		cfg_warn(y, keys[K_DATA_SOURCES].key ? keys[K_DATA_SOURCES].val : n,
			 "no data-sources: this exporter receives nothing and is skipped");
	e->active = e->ds_mask != 0;
}

void cfg_parse_exporters(struct cfg_ctx *y, yaml_node_t *list, struct cfg *c)
{
	size_t pl = cfg_push(y, y->exporters_path);
	int n;

	if (cfg_is_null(list))
		goto out;
	y->exporters_mark = list->start_mark;
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(y, list, "expected a list of exporters, got %s", cfg_kind(list));
		goto out;
	}
	n = cfg_seq_len(list);
	if (n > CFG_MAX_EXPORTERS) {
		cfg_err(y, list, "%d exporters: at most %d are supported (as in DeepFlow)", n,
			CFG_MAX_EXPORTERS);
		goto out;
	}
	c->exporters = cfg_calloc(y, (size_t)n, sizeof(*c->exporters));
	if (!c->exporters)
		goto out;
	c->n_exporters = n;
	for (int i = 0; i < n; i++) {
		size_t pi = cfg_push_index(y, i);

		c->exporters[i].index = i;
		parse_exporter(y, cfg_seq_item(y, list, i), &c->exporters[i]);
		c->exporters[i].index = i;
		cfg_pop(y, pi);
	}
out:
	cfg_pop(y, pl);
}
