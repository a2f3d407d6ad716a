/* SPDX-License-Identifier: MIT */
/* fields.c: which tags and metrics an exporter exports (DeepFlow export-fields, spec §1.5). */

/*
 * Design
 *
 * fields_select() runs once per (exporter, family) at encoder start; the
 * encoder keeps the bit sets.  It follows DeepFlow's StringsToCategoryBits
 * and IsExportField:
 *
 *   entry                     meaning
 *   name (no '$')             a plain field name, compared with the json
 *                             and the map_json name of every field
 *   ~$k8s.label.<re>          k8s-label selector: nothing for Prometheus
 *   $k8s.label                every field of the family (DeepFlow)
 *   $x.<sub>                  the second '.'-part is looked up: $tag.delay,
 *                             $metrics.flow_info and $any.delay all mean
 *                             the sub-category <sub>
 *   $tag / $metrics           every tag sub-category except event_info /
 *                             every metric sub-category
 *   $<sub> (no dot)           flowrw: the sub-category <sub>.  DeepFlow
 *                             looks "$flow_info" up whole, finds nothing
 *                             and ignores it; its own default list is
 *                             written that way, which is why its default
 *                             exports no tags.
 *   anything else             ignored (the config loader warns)
 *
 * A field is exported when it exists in the family and either $k8s.label
 * is listed, or its category ($tag or $metrics) has a configured
 * sub-category and the field has no sub-category or a configured one, or a
 * plain entry names it.  So `$tag.capture_info` also exports thread_id,
 * org_id and team_id, and any `$metrics.<x>` also exports the metrics
 * without a sub-category (retrans_*, zero_win_*, ooo_*), as in DeepFlow.
 *
 * An empty list means [$tag, $metrics]; the config loader fills that in
 * (DeepFlow's default list effectively exports metrics only).
 */

#include "encoder/fields.h"

#include <string.h>

#define SUB_BIT(s) (1U << (s))

/* DeepFlow's category values: $tag omits event_info. */
static uint32_t tag_category(void)
{
	uint32_t m = 0;

	for (int s = SCHEMA_SUB_NONE + 1; s < SCHEMA_SUB_COUNT; s++)
		if (schema_subcat_is_tag(s) && s != SCHEMA_SUB_EVENT_INFO)
			m |= SUB_BIT(s);
	return m;
}

static uint32_t metric_category(void)
{
	uint32_t m = 0;

	for (int s = SCHEMA_SUB_NONE + 1; s < SCHEMA_SUB_COUNT; s++)
		if (!schema_subcat_is_tag(s))
			m |= SUB_BIT(s);
	return m;
}

/* Sub-category bits of a '$' entry; 0 when it names none.  Sets *k8s. */
static uint32_t entry_bits(const char *s, bool *k8s)
{
	const char *dot, *part;
	size_t len;
	int sub;

	*k8s = false;
	if (strcmp(s, "$k8s.label") == 0) {
		*k8s = true;
		return 0;
	}
	dot = strchr(s, '.');
	if (dot && dot[1] && dot[1] != '.') {
		const char *end = strchr(dot + 1, '.');

		part = dot + 1;
		len = end ? (size_t)(end - part) : strlen(part);
	} else if (dot) {
		return 0; /* "$tag." or "$tag..x": DeepFlow looks up the whole entry, unknown */
	} else if (strcmp(s, "$tag") == 0) {
		return tag_category();
	} else if (strcmp(s, "$metrics") == 0) {
		return metric_category();
	} else {
		part = s + 1; /* flowrw: "$flow_info" */
		len = strlen(part);
	}
	sub = schema_subcat_from_name(part, len);
	return sub > 0 ? SUB_BIT(sub) : 0;
}

static bool name_matches(const char *entry, const char *json, const char *map_json)
{
	return strcmp(entry, json) == 0 || (map_json && strcmp(entry, map_json) == 0);
}

static bool named(const struct cfg_exporter *e, const char *json, const char *map_json)
{
	for (int i = 0; i < e->n_export_fields; i++) {
		const char *s = e->export_fields[i];

		if (s[0] != '$' && s[0] != '~' && name_matches(s, json, map_json))
			return true;
	}
	return false;
}

static bool selected(uint32_t conf, uint32_t category, int sub)
{
	return (conf & category) && (sub == SCHEMA_SUB_NONE || (conf & SUB_BIT(sub)));
}

void fields_select(const struct cfg_exporter *e, enum schema_family f, struct fields_sel *out)
{
	static const char *const dflt[] = {"$tag", "$metrics"};
	uint32_t conf = 0, tcat = tag_category(), mcat = metric_category();
	bool all = false;
	const struct schema_metric *m;
	int n_metrics, n = e->n_export_fields;
	const char *const *list = (const char *const *)e->export_fields;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		list = dflt;
		n = 2;
	}
	for (int i = 0; i < n; i++) {
		bool k8s;

		if (list[i][0] != '$')
			continue;
		conf |= entry_bits(list[i], &k8s);
		all |= k8s;
	}
	for (int t = 0; t < SCHEMA_TAG_COUNT; t++) {
		const struct schema_tag *st = &schema_tags[t];

		if (!schema_tag_in_family(t, f))
			continue;
		if (all || selected(conf, tcat, st->subcat) || named(e, st->json, st->map_json))
			out->tags |= 1ULL << t;
	}
	m = schema_metrics(f, &n_metrics);
	for (int i = 0; i < n_metrics; i++)
		if (all || selected(conf, mcat, m[i].subcat) || named(e, m[i].name, NULL))
			out->metrics[i >> 6] |= 1ULL << (i & 63);
}

enum fields_entry_kind fields_classify(const char *s)
{
	bool k8s;

	if (s[0] == '~')
		return strncmp(s, "~$k8s.label.", 12) == 0 ? FIELDS_E_K8S_LABEL : FIELDS_E_UNKNOWN;
	if (s[0] != '$') {
		if (schema_tag_by_any_name(s) >= 0)
			return FIELDS_E_NAME;
		for (int f = 0; f < SCHEMA_FAM_COUNT; f++)
			if (schema_metric_by_name((enum schema_family)f, s, strlen(s)) >= 0)
				return FIELDS_E_NAME;
		return FIELDS_E_UNKNOWN_NAME;
	}
	if (strncmp(s, "$k8s.label.", 11) == 0 && s[11])
		return FIELDS_E_K8S_LABEL;
	if (entry_bits(s, &k8s))
		return FIELDS_E_CATEGORY;
	return k8s ? FIELDS_E_K8S_ALL : FIELDS_E_UNKNOWN;
}
