/* SPDX-License-Identifier: MIT */
/* test_fields.c: export-fields selection (spec §1.5). */

#include <criterion/criterion.h>

#include <string.h>

#include "encoder/fields.h"

#define FAM_N  SCHEMA_FAM_NETWORK
#define FAM_NM SCHEMA_FAM_NETWORK_MAP
#define FAM_A  SCHEMA_FAM_APPLICATION
#define FAM_AM SCHEMA_FAM_APPLICATION_MAP

static struct fields_sel sel(enum schema_family f, int n, const char **list)
{
	struct cfg_exporter e;
	struct fields_sel s;

	memset(&e, 0, sizeof(e));
	e.export_fields = (char **)list;
	e.n_export_fields = n;
	fields_select(&e, f, &s);
	return s;
}

#define SEL(f, ...) sel(f, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
			(const char *[]){__VA_ARGS__})

static int ntags(const struct fields_sel *s)
{
	return __builtin_popcountll(s->tags);
}

static int nmetrics(const struct fields_sel *s)
{
	return __builtin_popcountll(s->metrics[0]) + __builtin_popcountll(s->metrics[1]);
}

static bool has_tag(const struct fields_sel *s, int t)
{
	return (s->tags >> t) & 1;
}

static bool has_metric(const struct fields_sel *s, enum schema_family f, const char *name)
{
	int i = schema_metric_by_name(f, name, strlen(name));

	cr_assert(i >= 0, "%s", name);
	return (s->metrics[i >> 6] >> (i & 63)) & 1;
}

static const int fam_tags[] = {31, 55, 36, 60};
static const int fam_metrics[] = {65, 65, 9, 9};

Test(fields, tag_and_metrics_select_every_field_of_the_family)
{
	for (int f = 0; f < SCHEMA_FAM_COUNT; f++) {
		struct fields_sel s = SEL(f, "$tag", "$metrics");
		struct fields_sel d = sel(f, 0, NULL);

		cr_expect_eq(ntags(&s), fam_tags[f], "family %d: %d", f, ntags(&s));
		cr_expect_eq(nmetrics(&s), fam_metrics[f]);
		/* an empty list means the same */
		cr_expect_eq(d.tags, s.tags);
		cr_expect_eq(d.metrics[0], s.metrics[0]);
		cr_expect_eq(d.metrics[1], s.metrics[1]);
	}
	{
		struct fields_sel s = SEL(FAM_N, "$tag", "$metrics");

		cr_expect(has_tag(&s, SCHEMA_T_ROLE));
		cr_expect_not(has_tag(&s, SCHEMA_T_POD_ID_1));
		cr_expect_not(has_tag(&s, SCHEMA_T_L7_PROTOCOL));
		cr_expect_eq(s.metrics[1], 1); /* metric 64, flow_load */
	}
}

Test(fields, metrics_only_and_tags_only)
{
	struct fields_sel s = SEL(FAM_NM, "$metrics");

	cr_expect_eq(ntags(&s), 0);
	cr_expect_eq(nmetrics(&s), 65);
	s = SEL(FAM_AM, "$tag");
	cr_expect_eq(ntags(&s), 60);
	cr_expect_eq(nmetrics(&s), 0);
}

Test(fields, a_tag_subcategory_adds_tags_without_one)
{
	struct fields_sel s = SEL(FAM_N, "$tag.capture_info");
	static const int want_n[] = {
		SCHEMA_T_THREAD_ID, SCHEMA_T_ORG_ID, SCHEMA_T_TEAM_ID, SCHEMA_T_ROLE, SCHEMA_T_AGENT_ID,
		SCHEMA_T_CAPTURE_NETWORK_TYPE_ID, SCHEMA_T_SIGNAL_SOURCE,
	};
	uint64_t want = 0;

	for (size_t i = 0; i < sizeof(want_n) / sizeof(want_n[0]); i++)
		want |= 1ULL << want_n[i];
	cr_expect_eq(s.tags, want);
	cr_expect_eq(nmetrics(&s), 0);
	s = SEL(FAM_NM, "$tag.capture_info");
	want &= ~(1ULL << SCHEMA_T_ROLE);
	want |= 1ULL << SCHEMA_T_CAPTURE_NIC | 1ULL << SCHEMA_T_CAPTURE_NIC_TYPE |
		1ULL << SCHEMA_T_NAT_SOURCE | 1ULL << SCHEMA_T_OBSERVATION_POINT;
	cr_expect_eq(s.tags, want);
	cr_expect_not(has_tag(&s, SCHEMA_T_TUNNEL_TYPE));
	s = SEL(FAM_AM, "$tag.capture_info");
	cr_expect(has_tag(&s, SCHEMA_T_BIZ_TYPE));
	cr_expect_not(has_tag(&s, SCHEMA_T_APP_SERVICE));
}

Test(fields, a_metric_subcategory_adds_metrics_without_one)
{
	static const char *const nosub[] = {
		"retrans_tx", "retrans_rx", "zero_win_tx", "zero_win_rx", "retrans_syn", "retrans_synack",
		"ooo_tx", "ooo_rx",
	};
	struct fields_sel s = SEL(FAM_N, "$metrics.delay");

	cr_expect_eq(nmetrics(&s), 21 + 8);
	cr_expect_eq(ntags(&s), 0);
	cr_expect(has_metric(&s, FAM_N, "rtt_max"));
	cr_expect(has_metric(&s, FAM_N, "cit_count"));
	cr_expect_not(has_metric(&s, FAM_N, "byte_tx"));
	for (size_t i = 0; i < sizeof(nosub) / sizeof(nosub[0]); i++)
		cr_expect(has_metric(&s, FAM_N, nosub[i]), "%s", nosub[i]);
	/* tcp_slow has no field: only the metrics without a sub-category */
	s = SEL(FAM_NM, "$metrics.tcp_slow");
	cr_expect_eq(nmetrics(&s), 8);
	/* application has no metric without a sub-category */
	s = SEL(FAM_A, "$metrics.delay");
	cr_expect_eq(nmetrics(&s), 3);
	cr_expect(has_metric(&s, FAM_A, "rrt_sum"));
	s = SEL(FAM_A, "$metrics.error", "$metrics.throughput");
	cr_expect_eq(nmetrics(&s), 6);
	/* the first part does not matter (DeepFlow looks up the second) */
	s = SEL(FAM_N, "$anything.delay");
	cr_expect_eq(nmetrics(&s), 29);
	s = SEL(FAM_N, "$metrics.flow_info");
	cr_expect_eq(nmetrics(&s), 0);
	cr_expect(has_tag(&s, SCHEMA_T_TIME));
	cr_expect(has_tag(&s, SCHEMA_T_THREAD_ID));
	cr_expect_eq(ntags(&s), 4);
}

Test(fields, k8s_label_turns_on_everything)
{
	for (int f = 0; f < SCHEMA_FAM_COUNT; f++) {
		struct fields_sel s = SEL(f, "$k8s.label");
		struct fields_sel t = SEL(f, "$metrics.delay", "$k8s.label");

		cr_expect_eq(ntags(&s), fam_tags[f]);
		cr_expect_eq(nmetrics(&s), fam_metrics[f]);
		cr_expect_eq(t.tags, s.tags);
		cr_expect_eq(t.metrics[0], s.metrics[0]);
	}
	{
		struct fields_sel s = SEL(FAM_N, "$k8s.label.app", "~$k8s.label.^team");

		cr_expect_eq(ntags(&s), 0);
		cr_expect_eq(nmetrics(&s), 0);
	}
}

Test(fields, bare_subcategory_is_accepted)
{
	/* DeepFlow ignores "$service_info" (no "$tag." prefix); flowrw reads it as a sub-category */
	struct fields_sel s = SEL(FAM_A, "$service_info");

	cr_expect(has_tag(&s, SCHEMA_T_APP_SERVICE));
	cr_expect(has_tag(&s, SCHEMA_T_APP_INSTANCE));
	cr_expect(has_tag(&s, SCHEMA_T_ENDPOINT));
	cr_expect(has_tag(&s, SCHEMA_T_ORG_ID));
	cr_expect_eq(ntags(&s), 6);
	cr_expect_eq(nmetrics(&s), 0);
	/* DeepFlow's own default list */
	s = SEL(FAM_N, "$service_info", "$tracing_info", "$network_layer", "$flow_info",
		"$transport_layer", "$application_layer", "$metrics");
	cr_expect(has_tag(&s, SCHEMA_T_IP4));
	cr_expect(has_tag(&s, SCHEMA_T_PROTOCOL));
	cr_expect(has_tag(&s, SCHEMA_T_SERVER_PORT));
	cr_expect_not(has_tag(&s, SCHEMA_T_POD_ID));
	cr_expect_not(has_tag(&s, SCHEMA_T_ROLE));
	cr_expect_eq(nmetrics(&s), 65);
	s = SEL(FAM_N, "$delay");
	cr_expect_eq(nmetrics(&s), 29);
}

Test(fields, unknown_entries_select_nothing)
{
	struct fields_sel s = SEL(FAM_NM, "$bogus", "$tag.", "$tag..delay", "$custom_tag", "tag",
				  "$tag.event_info", "nope", "$");

	cr_expect_eq(ntags(&s), 0);
	cr_expect_eq(nmetrics(&s), 0);
}

Test(fields, plain_names_match_json_and_map_json)
{
	struct fields_sel s = SEL(FAM_NM, "pod_id_0", "ip4", "pod_id_1", "byte_tx");

	cr_expect_eq(s.tags, 1ULL << SCHEMA_T_POD_ID | 1ULL << SCHEMA_T_IP4 | 1ULL << SCHEMA_T_POD_ID_1);
	cr_expect_eq(nmetrics(&s), 1);
	cr_expect(has_metric(&s, FAM_NM, "byte_tx"));
	/* map_json names are compared in every family (DeepFlow) */
	s = SEL(FAM_N, "pod_id_0", "pod_id_1", "request");
	cr_expect_eq(s.tags, 1ULL << SCHEMA_T_POD_ID);
	cr_expect_eq(nmetrics(&s), 0);
	s = SEL(FAM_A, "request", "direction_score", "role", "$metrics.delay");
	cr_expect_eq(s.tags, 1ULL << SCHEMA_T_ROLE);
	cr_expect_eq(nmetrics(&s), 5);
	s = SEL(FAM_AM, "role");
	cr_expect_eq(ntags(&s), 0);
}

Test(fields, classify_entries)
{
	cr_expect_eq(fields_classify("$tag"), FIELDS_E_CATEGORY);
	cr_expect_eq(fields_classify("$metrics"), FIELDS_E_CATEGORY);
	cr_expect_eq(fields_classify("$tag.flow_info"), FIELDS_E_CATEGORY);
	cr_expect_eq(fields_classify("$flow_info"), FIELDS_E_CATEGORY);
	cr_expect_eq(fields_classify("$k8s.label"), FIELDS_E_K8S_ALL);
	cr_expect_eq(fields_classify("$k8s.label.app"), FIELDS_E_K8S_LABEL);
	cr_expect_eq(fields_classify("~$k8s.label.^a"), FIELDS_E_K8S_LABEL);
	cr_expect_eq(fields_classify("pod_id_0"), FIELDS_E_NAME);
	cr_expect_eq(fields_classify("rrt_max"), FIELDS_E_NAME);
	cr_expect_eq(fields_classify("request"), FIELDS_E_NAME);
	cr_expect_eq(fields_classify("pod_0"), FIELDS_E_UNKNOWN_NAME);
	cr_expect_eq(fields_classify("$tag.bogus"), FIELDS_E_UNKNOWN);
	cr_expect_eq(fields_classify("$tag."), FIELDS_E_UNKNOWN);
	cr_expect_eq(fields_classify("$tag.event_info"), FIELDS_E_CATEGORY);
	cr_expect_eq(fields_classify("~x"), FIELDS_E_UNKNOWN);
}
