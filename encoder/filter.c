/* SPDX-License-Identifier: MIT */
/* filter.c: DeepFlow tag filters (spec §1.6) evaluated on raw rows. */

/*
 * Design
 *
 * The config loader parses and validates every filter (operator lower-cased
 * and checked, values kept as strings, the ones that parse as numbers in
 * `nums`, the first regex compiled into `re`).  filter_init() only binds
 * each filter's field-name to a field per family, so that filter_accept()
 * is a walk over small arrays with no lookups and no allocation.
 *
 * Binding (per family; a filter whose name binds nothing in a family is
 * skipped for rows of that family, as DeepFlow skips fields a data source
 * does not have):
 *   1. the field's json name, as DeepFlow (region_id, region_id_1, ip4);
 *   2. flowrw extension: in map families also the map_json name, i.e. the
 *      label name (region_id_0, ip4_0, pod_id_0).  DeepFlow compares only
 *      json names, so these filters silently match nothing there;
 *   3. a metric name of the family (metrics can be filtered: server_reset);
 *   4. `time`, the row time.
 *
 * The value of a field in a row has a number (when it has one) and one or
 * more strings:
 *   plain numeric tags, metrics, time   number, its decimal
 *   enum fields (protocol, role, ...)   number, its decimal, its display
 *                                       name; a name given upstream ("TCP")
 *                                       is reverse-translated to the number,
 *                                       so `protocol = 6` and `= TCP` match
 *   observation_point                   the code and the display name
 *                                       ("c", "Client NIC"); no number
 *   universal tags                      a name given upstream is compared
 *                                       as a string (no number); an id is
 *                                       a number and its decimal
 *   ip4                                 uint32 number, dotted quad
 *   ip6                                 canonical text
 *   strings (app_service, endpoint)     the bytes
 *   absent                              0 and "0" for numeric fields, ""
 *                                       for strings and universal tags
 *
 * Operators:
 *   = / in        the number is one of `nums`, or a string is one of the
 *                 values;
 *   != / not in   not (= / in);
 *   : / ~         the regex (unanchored; `:` had '*' -> '.*') matches one
 *                 of the strings; with no regex (no values) it passes;
 *   !: / !~       no string matches; with no regex it passes.
 *
 * Combining: a list (tag-filters with tag-filter-condition, or one group)
 * with AND passes when every bound filter matches; with OR when at least
 * one matches, and REJECTS when none does (DeepFlow's OR never rejects, a
 * bug).  If the deprecated tag-filters bind in the row's family their
 * result is final (DeepFlow).  Otherwise the groups that bind in the family
 * are OR-ed; when none binds the row passes (DeepFlow's result depends on
 * group order there).
 *
 * Differences from DeepFlow for the README: the OR rule above; map_json
 * names bind; `!=`/`not in` are the exact negation of `=`/`in` (DeepFlow
 * passes `!= 3.0` on 3); regex/wildcard operators test numeric fields'
 * strings (DeepFlow always passes them); names of enums and universal
 * tags match (input rows carry names); ip4 matches its dotted quad and
 * ip6 is filterable (DeepFlow never reads ip6).
 */

#include "encoder/filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enums.h"

#define FV_MAX_STR 3   /* strings one value can have */

/* The value of one field in one row, as the operators see it. */
struct fval {
	bool has_num;
	double num;
	int n_str;
	const char *s[FV_MAX_STR];
	size_t len[FV_MAX_STR];
	char dec[32];        /* decimal or dotted-quad text */
	char ip6[INET6_ADDRSTRLEN];
};

static void fv_str(struct fval *x, const char *s, size_t len)
{
	if (s && x->n_str < FV_MAX_STR) {
		x->s[x->n_str] = s;
		x->len[x->n_str++] = len;
	}
}

static void fv_cstr(struct fval *x, const char *s)
{
	if (s)
		fv_str(x, s, strlen(s));
}

static void fv_decimal_i(struct fval *x, int64_t n)
{
	int k = snprintf(x->dec, sizeof(x->dec), "%lld", (long long)n);

	fv_str(x, x->dec, (size_t)k);
}

static void fv_decimal_d(struct fval *x, double d)
{
	int k;

	/* Metrics are integers in DeepFlow; print them as such. */
	if (d == floor(d) && fabs(d) < 9.2e18)
		k = snprintf(x->dec, sizeof(x->dec), "%lld", (long long)d);
	else
		k = snprintf(x->dec, sizeof(x->dec), "%.17g", d);
	fv_str(x, x->dec, (size_t)k);
}

static void fv_ip4(struct fval *x, uint32_t a)
{
	int k = snprintf(x->dec, sizeof(x->dec), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
			 (a >> 8) & 255, a & 255);

	fv_str(x, x->dec, (size_t)k);
}

/* A number written in a string value ("6", "443"); false when it is not one. */
static bool str_number(const char *s, size_t len, double *out)
{
	char buf[40], *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return end != buf && *end == '\0';
}

static void value_of_tag(struct fval *x, int tag, const struct rawrow_view *v)
{
	const struct schema_tag *t = &schema_tags[tag];
	const char *s = (const char *)v->tag_val[tag];
	size_t len = v->tag_len[tag];
	int64_t n;

	switch (v->tag_kind[tag]) {
	case RAWROW_T_NUM:
		n = rawrow_tag_num(v, tag);
		x->has_num = true;
		x->num = (double)n;
		if (t->kind == SCHEMA_KIND_IP4) {
			fv_ip4(x, (uint32_t)n);
		} else if (t->enum_id == SCHEMA_ENUM_OBSERVATION_POINT) {
			/* a numeric tap_side: its code and name; not a DeepFlow shape */
			x->has_num = false;
			fv_cstr(x, enums_observation_point_code(n));
			fv_cstr(x, enums_name((enum schema_enum)t->enum_id, n));
		} else {
			fv_decimal_i(x, n);
			if (t->enum_id != SCHEMA_ENUM_NONE)
				fv_cstr(x, enums_name((enum schema_enum)t->enum_id, n));
		}
		return;
	case RAWROW_T_STR:
		fv_str(x, s, len);
		if (t->enum_id == SCHEMA_ENUM_OBSERVATION_POINT) {
			const char *other = enums_name_by_code(SCHEMA_ENUM_OBSERVATION_POINT, s, len);

			fv_cstr(x, other ? other : enums_code_by_name(s, len));
		} else if (t->enum_id != SCHEMA_ENUM_NONE) {
			if (enums_value((enum schema_enum)t->enum_id, s, len, &n) == 0) {
				x->has_num = true;
				x->num = (double)n;
				fv_decimal_i(x, n);
			} else {
				x->has_num = str_number(s, len, &x->num);
			}
		} else if (t->kind == SCHEMA_KIND_IP4) {
			struct in_addr a;
			char buf[INET_ADDRSTRLEN];

			if (len < sizeof(buf)) {
				memcpy(buf, s, len);
				buf[len] = '\0';
				if (inet_pton(AF_INET, buf, &a) == 1) {
					x->has_num = true;
					x->num = (double)ntohl(a.s_addr);
				}
			}
		} else if (t->ut_slot == SCHEMA_UT_NONE && t->kind != SCHEMA_KIND_STRING) {
			x->has_num = str_number(s, len, &x->num);
		}
		return;
	case RAWROW_T_IP6:
		if (inet_ntop(AF_INET6, v->tag_val[tag], x->ip6, sizeof(x->ip6)))
			fv_cstr(x, x->ip6);
		return;
	default:
		break;
	}
	/* absent: DeepFlow's struct would hold 0 / "" */
	if (t->kind == SCHEMA_KIND_STRING || t->kind == SCHEMA_KIND_IP6 ||
	    (t->ut_slot != SCHEMA_UT_NONE)) {
		fv_str(x, "", 0);
		if (t->ut_slot != SCHEMA_UT_NONE) {
			x->has_num = true;
			x->num = 0;
		}
		return;
	}
	x->has_num = true;
	x->num = 0;
	if (t->kind == SCHEMA_KIND_IP4)
		fv_ip4(x, 0);
	else
		fv_decimal_i(x, 0);
}

static void value_of(struct fval *x, const struct filter_bind *b, const struct rawrow_view *v)
{
	x->has_num = false;
	x->n_str = 0;
	switch (b->kind) {
	case FILTER_B_TAG:
		value_of_tag(x, b->index, v);
		break;
	case FILTER_B_METRIC:
		x->has_num = true;
		x->num = rawrow_has_metric(v->hdr, b->index) ? v->metric[b->index] : 0;
		fv_decimal_d(x, x->num);
		break;
	case FILTER_B_TIME:
		x->has_num = true;
		x->num = v->hdr->time;
		fv_decimal_i(x, v->hdr->time);
		break;
	default:
		break;
	}
}

static bool in_set(const struct cfg_tag_filter *f, const struct fval *x)
{
	if (x->has_num)
		for (int i = 0; i < f->n_nums; i++)
			if (f->nums[i] == x->num)
				return true;
	for (int k = 0; k < x->n_str; k++)
		for (int i = 0; i < f->n_values; i++)
			if (strlen(f->values[i]) == x->len[k] && memcmp(f->values[i], x->s[k], x->len[k]) == 0)
				return true;
	return false;
}

static bool re_any(const struct cfg_tag_filter *f, const struct fval *x)
{
	char buf[RAWROW_MAX_STR + 1];

	for (int k = 0; k < x->n_str; k++) {
		size_t len = x->len[k] < RAWROW_MAX_STR ? x->len[k] : RAWROW_MAX_STR;

		memcpy(buf, x->s[k], len);
		buf[len] = '\0';
		if (regexec(&f->re, buf, 0, NULL, 0) == 0)
			return true;
	}
	return false;
}

bool filter_match(const struct filter_item *it, const struct rawrow_view *v)
{
	const struct cfg_tag_filter *f = it->f;
	struct fval x;

	value_of(&x, &it->bind[v->family], v);
	switch (f->op) {
	case CFG_OP_EQ:
	case CFG_OP_IN:
		return in_set(f, &x);
	case CFG_OP_NE:
	case CFG_OP_NOT_IN:
		return !in_set(f, &x);
	case CFG_OP_WILDCARD:
	case CFG_OP_REGEX:
		return !f->has_re || re_any(f, &x);
	case CFG_OP_NOT_WILDCARD:
	case CFG_OP_NOT_REGEX:
		return !f->has_re || !re_any(f, &x);
	}
	return true; /* the loader refuses other operators */
}

static bool list_accept(const struct filter_list *l, const struct rawrow_view *v)
{
	bool or = l->cond == CFG_COND_OR;

	for (int i = 0; i < l->n_items; i++) {
		const struct filter_item *it = &l->items[i];

		if (it->bind[v->family].kind == FILTER_B_NONE)
			continue;
		if (filter_match(it, v) == or)
			return or;
	}
	return !or;
}

bool filter_accept(const struct filter_exporter *f, const struct rawrow_view *v)
{
	uint8_t bit = (uint8_t)SCHEMA_FAM_BIT(v->family);
	bool any = false;

	if (f->legacy.applies & bit)
		return list_accept(&f->legacy, v);
	for (int g = 0; g < f->n_groups; g++) {
		if (!(f->groups[g].applies & bit))
			continue;
		if (list_accept(&f->groups[g], v))
			return true;
		any = true;
	}
	return !any;
}

/* Bind <name> in family <fam> (see the design note). */
static struct filter_bind bind_name(const char *name, enum schema_family fam)
{
	int t = schema_tag_by_json(name), m;

	if (t == SCHEMA_TAG_TIME)
		return (struct filter_bind){FILTER_B_TIME, 0};
	if (t < 0 && schema_family_is_map(fam)) {
		t = schema_tag_by_any_name(name);
		if (t >= 0 && (!schema_tags[t].map_json || strcmp(schema_tags[t].map_json, name) != 0))
			t = -1;
	}
	if (t >= 0 && schema_tag_in_family(t, fam))
		return (struct filter_bind){FILTER_B_TAG, (uint8_t)t};
	if (t < 0) {
		m = schema_metric_by_name(fam, name, strlen(name));
		if (m >= 0)
			return (struct filter_bind){FILTER_B_METRIC, (uint8_t)m};
	}
	return (struct filter_bind){FILTER_B_NONE, 0};
}

static int list_init(struct filter_list *l, enum cfg_condition cond,
		     const struct cfg_tag_filter *filters, int n)
{
	l->cond = cond;
	l->applies = 0;
	l->n_items = 0;
	l->items = NULL;
	if (n <= 0)
		return 0;
	l->items = calloc((size_t)n, sizeof(*l->items));
	if (!l->items)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct filter_item *it = &l->items[l->n_items++];

		it->f = &filters[i];
		for (int fam = 0; fam < SCHEMA_FAM_COUNT; fam++) {
			it->bind[fam] = filters[i].field_name
				? bind_name(filters[i].field_name, (enum schema_family)fam)
				: (struct filter_bind){FILTER_B_NONE, 0};
			if (it->bind[fam].kind != FILTER_B_NONE)
				l->applies |= (uint8_t)SCHEMA_FAM_BIT(fam);
		}
	}
	return 0;
}

int filter_init(struct filter_exporter *f, const struct cfg_exporter *e)
{
	int rc;

	memset(f, 0, sizeof(*f));
	rc = list_init(&f->legacy, e->tag_filter_condition, e->tag_filters, e->n_tag_filters);
	if (rc)
		goto fail;
	if (e->n_groups > 0) {
		f->groups = calloc((size_t)e->n_groups, sizeof(*f->groups));
		if (!f->groups) {
			rc = -ENOMEM;
			goto fail;
		}
		for (int g = 0; g < e->n_groups; g++) {
			rc = list_init(&f->groups[g], e->groups[g].cond, e->groups[g].filters,
				       e->groups[g].n_filters);
			f->n_groups = g + 1;
			if (rc)
				goto fail;
		}
	}
	return 0;
fail:
	filter_fini(f);
	return rc;
}

void filter_fini(struct filter_exporter *f)
{
	free(f->legacy.items);
	for (int g = 0; g < f->n_groups; g++)
		free(f->groups[g].items);
	free(f->groups);
	memset(f, 0, sizeof(*f));
}
