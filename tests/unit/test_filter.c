/* SPDX-License-Identifier: MIT */
/* test_filter.c: tag filters (spec §1.6), compiled by the real config loader. */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/cfg.h"
#include "encoder/filter.h"
#include "rowbuild.h"

static struct cfg cfg;
static struct filter_exporter flt;
static bool loaded;

static void unload(void)
{
	if (loaded) {
		filter_fini(&flt);
		cfg_fini(&cfg);
		loaded = false;
	}
}

/* Load one exporter of all 8 data sources with <body> (YAML lines of the exporter). */
static void load(const char *body)
{
	char y[8192];
	struct cfg_diag d = {0};
	int rc;

	unload();
	snprintf(y, sizeof(y),
		 "flowrw:\n  sources: [{type: stdin}]\n"
		 "exporters:\n  - protocol: prometheus\n    enabled: true\n"
		 "    data-sources: [flow_metrics.network.1m, flow_metrics.network_map.1m,\n"
		 "      flow_metrics.application.1m, flow_metrics.application_map.1m,\n"
		 "      flow_metrics.network.1s, flow_metrics.network_map.1s,\n"
		 "      flow_metrics.application.1s, flow_metrics.application_map.1s]\n"
		 "    endpoints: [http://127.0.0.1:9/w]\n%s", body);
	rc = cfg_load_buffer(&cfg, y, strlen(y), "test.yaml", &d);
	if (rc)
		cfg_diag_print(&d, stderr);
	cfg_diag_fini(&d);
	cr_assert_eq(rc, 0, "config:\n%s", y);
	cr_assert_eq(cfg.n_exporters, 1);
	cr_assert_eq(filter_init(&flt, &cfg.exporters[0]), 0);
	loaded = true;
}

static void load_one(const char *field, const char *op, const char *vals)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "    tag-filters:\n      - {field-name: %s, operator: '%s', field-values: %s}\n",
		 field, op, vals);
	load(body);
}

TestSuite(filter, .fini = unload);

enum { V_NUM = 'n', V_STR = 's', V_ABSENT = '-', V_IP6 = '6', V_METRIC = 'm', V_NOMETRIC = 'M' };

struct tcase {
	int ds;
	const char *field, *op, *vals;
	int vk;         /* V_* */
	int id;         /* tag id or metric index */
	int64_t num;
	const char *str;
	bool expect;
};

#define NM SCHEMA_DS_NETWORK_MAP_1M
#define N  SCHEMA_DS_NETWORK_1S
#define A  SCHEMA_DS_APPLICATION_1M
#define AM SCHEMA_DS_APPLICATION_MAP_1S

static const struct tcase cases[] = {
	/* numeric tag: numeric then string semantics */
	{NM, "server_port", "=", "['443']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "=", "['443.0']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "=", "['80']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "=", "[]", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "!=", "['443']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "!=", "['80']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "!=", "['443.0']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "!=", "[]", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "in", "['80', '443']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "IN", "['80', '8080']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "not in", "['80', '443']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "NOT IN", "['80']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", ":", "['4*']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", ":", "['5*']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "!:", "['4*']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "!:", "['5*']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "~", "['^44']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "~", "['^3']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "!~", "['^3']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "!~", "['^44']", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, false},
	{NM, "server_port", "~", "[]", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	{NM, "server_port", "!~", "[]", V_NUM, SCHEMA_T_SERVER_PORT, 443, NULL, true},
	/* absent numeric tag = 0 */
	{NM, "server_port", "=", "['0']", V_ABSENT, SCHEMA_T_SERVER_PORT, 0, NULL, true},
	{NM, "server_port", "!=", "['0']", V_ABSENT, SCHEMA_T_SERVER_PORT, 0, NULL, false},
	{NM, "server_port", "~", "['^0$']", V_ABSENT, SCHEMA_T_SERVER_PORT, 0, NULL, true},
	/* enum with a name given upstream: reverse-translated */
	{NM, "protocol", "=", "['6']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", "=", "['TCP']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", "=", "['UDP']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", false},
	{NM, "protocol", "=", "['17']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", false},
	{NM, "protocol", "!=", "['6']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", false},
	{NM, "protocol", "!=", "['TCP']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", false},
	{NM, "protocol", "!=", "['UDP']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", "in", "['17', '6']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", "not in", "['17']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", "~", "['^T']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", "~", "['^6$']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", true},
	{NM, "protocol", ":", "['UD*']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", false},
	{NM, "protocol", "!~", "['CP']", V_STR, SCHEMA_T_PROTOCOL, 0, "TCP", false},
	/* enum as a number (translation disabled upstream) */
	{NM, "protocol", "=", "['17']", V_NUM, SCHEMA_T_PROTOCOL, 17, NULL, true},
	{NM, "protocol", "=", "['UDP']", V_NUM, SCHEMA_T_PROTOCOL, 17, NULL, true},
	{NM, "protocol", "=", "['TCP']", V_NUM, SCHEMA_T_PROTOCOL, 17, NULL, false},
	{NM, "protocol", "~", "['UDP']", V_NUM, SCHEMA_T_PROTOCOL, 17, NULL, true},
	/* an enum name the table does not know is only a string */
	{NM, "protocol", "=", "['XYZ']", V_STR, SCHEMA_T_PROTOCOL, 0, "XYZ", true},
	{NM, "protocol", "=", "['0']", V_STR, SCHEMA_T_PROTOCOL, 0, "XYZ", false},
	{N, "role", "=", "['1']", V_STR, SCHEMA_T_ROLE, 0, "Server", true},
	{N, "role", "=", "['Server']", V_STR, SCHEMA_T_ROLE, 0, "Server", true},
	{N, "role", "=", "['0']", V_STR, SCHEMA_T_ROLE, 0, "Server", false},
	/* string field */
	{A, "app_service", "=", "['cart-svc']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", true},
	{A, "app_service", "=", "['cart']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", "=", "['0']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", ":", "['cart*']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", true},
	{A, "app_service", ":", "['*svc']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", true},
	{A, "app_service", ":", "['art']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", true},
	{A, "app_service", ":", "['x*y']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", "!:", "['cart*']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", "~", "['^cart-s.c$']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", true},
	{A, "app_service", "~", "['^svc']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", "~", "['^svc', 'cart']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", "!=", "['cart-svc']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", false},
	{A, "app_service", "not in", "['a', 'b']", V_STR, SCHEMA_T_APP_SERVICE, 0, "cart-svc", true},
	{A, "app_service", "=", "['']", V_ABSENT, SCHEMA_T_APP_SERVICE, 0, NULL, true},
	{A, "app_service", "!=", "['']", V_ABSENT, SCHEMA_T_APP_SERVICE, 0, NULL, false},
	{A, "app_service", "~", "['^$']", V_ABSENT, SCHEMA_T_APP_SERVICE, 0, NULL, true},
	/* universal tags: names compare as strings, ids as numbers */
	{N, "pod_id", "=", "['nginx-1']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", true},
	{N, "pod_id", "=", "['12']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", false},
	{N, "pod_id", ":", "['ngin*']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", true},
	{N, "pod_id", "!=", "['nginx-1']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", false},
	{N, "pod_id", "=", "['12']", V_NUM, SCHEMA_T_POD_ID, 12, NULL, true},
	{N, "pod_id", "=", "['nginx-1']", V_NUM, SCHEMA_T_POD_ID, 12, NULL, false},
	{N, "pod_id", "~", "['^1']", V_NUM, SCHEMA_T_POD_ID, 12, NULL, true},
	{N, "pod_id", "=", "['0']", V_ABSENT, SCHEMA_T_POD_ID, 0, NULL, true},
	{N, "pod_id", "=", "['']", V_ABSENT, SCHEMA_T_POD_ID, 0, NULL, true},
	{N, "pod_id", "!=", "['0']", V_ABSENT, SCHEMA_T_POD_ID, 0, NULL, false},
	/* label names bind in map families (flowrw), json names everywhere */
	{NM, "pod_id_0", "=", "['nginx-1']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", true},
	{NM, "pod_id_0", "=", "['other']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", false},
	{NM, "pod_id", "=", "['other']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", false},
	{NM, "pod_id_1", "=", "['redis']", V_STR, SCHEMA_T_POD_ID_1, 0, "redis", true},
	{NM, "pod_id_1", "=", "['other']", V_STR, SCHEMA_T_POD_ID_1, 0, "redis", false},
	/* ...and a name that binds nothing in the family skips the filter */
	{N, "pod_id_0", "=", "['other']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", true},
	{N, "pod_id_1", "=", "['other']", V_STR, SCHEMA_T_POD_ID, 0, "nginx-1", true},
	{NM, "role", "=", "['7']", V_NUM, SCHEMA_T_PROTOCOL, 6, NULL, true},
	{N, "no_such_field", "=", "['7']", V_NUM, SCHEMA_T_PROTOCOL, 6, NULL, true},
	/* ip4: uint32 and dotted quad */
	{N, "ip4", "=", "['167772161']", V_NUM, SCHEMA_T_IP4, 0x0a000001, NULL, true},
	{N, "ip4", "=", "['10.0.0.1']", V_NUM, SCHEMA_T_IP4, 0x0a000001, NULL, true},
	{N, "ip4", ":", "['10.0.*']", V_NUM, SCHEMA_T_IP4, 0x0a000001, NULL, true},
	{N, "ip4", "=", "['10.0.0.2']", V_NUM, SCHEMA_T_IP4, 0x0a000001, NULL, false},
	{NM, "ip4_0", "=", "['10.0.0.1']", V_STR, SCHEMA_T_IP4, 0, "10.0.0.1", true},
	{NM, "ip4", "=", "['167772161']", V_STR, SCHEMA_T_IP4, 0, "10.0.0.1", true},
	{NM, "ip4_0", "~", "['^10[.]']", V_STR, SCHEMA_T_IP4, 0, "10.0.0.1", true},
	{NM, "ip4_1", "=", "['0.0.0.0']", V_ABSENT, SCHEMA_T_IP4_1, 0, NULL, true},
	/* ip6 is filterable by its text */
	{N, "ip6", "=", "['2001:db8::1']", V_IP6, SCHEMA_T_IP6, 0, NULL, true},
	{N, "ip6", "~", "['^2001:']", V_IP6, SCHEMA_T_IP6, 0, NULL, true},
	{N, "ip6", "=", "['::1']", V_IP6, SCHEMA_T_IP6, 0, NULL, false},
	/* observation_point: code or display name */
	{NM, "observation_point", "=", "['c']", V_STR, SCHEMA_T_OBSERVATION_POINT, 0, "Client NIC", true},
	{NM, "observation_point", "=", "['Client NIC']", V_STR, SCHEMA_T_OBSERVATION_POINT, 0, "Client NIC", true},
	{NM, "observation_point", "=", "['s']", V_STR, SCHEMA_T_OBSERVATION_POINT, 0, "Client NIC", false},
	{NM, "observation_point", "not in", "['s', 'c']", V_STR, SCHEMA_T_OBSERVATION_POINT, 0, "Client NIC", false},
	{NM, "observation_point", "=", "['Client NIC']", V_STR, SCHEMA_T_OBSERVATION_POINT, 0, "c", true},
	{NM, "observation_point", "=", "['1']", V_STR, SCHEMA_T_OBSERVATION_POINT, 0, "c", false},
	/* metrics, present and absent */
	{N, "server_reset", "=", "['3']", V_METRIC, 50, 3, NULL, true},
	{N, "server_reset", "!=", "['0']", V_METRIC, 50, 3, NULL, true},
	{N, "server_reset", "!=", "['0']", V_METRIC, 50, 0, NULL, false},
	{N, "server_reset", "=", "['0']", V_NOMETRIC, 50, 0, NULL, true},
	{N, "server_reset", "!=", "['0']", V_NOMETRIC, 50, 0, NULL, false},
	{A, "timeout", "in", "['1', '2']", V_METRIC, 8, 2, NULL, true},
	{A, "server_reset", "=", "['5']", V_METRIC, 8, 2, NULL, true}, /* not in application: skipped */
	{AM, "direction_score", "=", "['255']", V_METRIC, 2, 255, NULL, true},
	{AM, "direction_score", "~", "['^25']", V_METRIC, 2, 255, NULL, true},
	/* time */
	{N, "time", "=", "['1716998400']", V_ABSENT, SCHEMA_T_PROTOCOL, 0, NULL, true},
	{N, "time", "!=", "['1716998400']", V_ABSENT, SCHEMA_T_PROTOCOL, 0, NULL, false},
};

static const struct rawrow_view *make_row(struct rowbuild *b, const struct tcase *c)
{
	static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	rb_init(b, c->ds);
	switch (c->vk) {
	case V_NUM:
		rb_num(b, c->id, c->num);
		break;
	case V_STR:
		rb_str(b, c->id, c->str);
		break;
	case V_IP6:
		rb_ip6(b, c->id, ip6);
		break;
	case V_METRIC:
		rb_metric(b, c->id, (double)c->num);
		break;
	default:
		break;
	}
	return rb_view(b);
}

Test(filter, truth_table_per_operator)
{
	static struct rowbuild b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		const struct rawrow_view *v;

		load_one(c->field, c->op, c->vals);
		v = make_row(&b, c);
		cr_assert_not_null(v);
		cr_expect_eq(filter_accept(&flt, v), c->expect, "case %zu: %s %s %s on %c%s%lld -> want %d",
			     i, c->field, c->op, c->vals, c->vk, c->str ? c->str : "", (long long)c->num,
			     c->expect);
	}
}

static struct rowbuild row_b;

static const struct rawrow_view *tcp_row(int ds, int proto, int port)
{
	rb_init(&row_b, ds);
	rb_num(&row_b, SCHEMA_T_PROTOCOL, proto);
	rb_num(&row_b, SCHEMA_T_SERVER_PORT, port);
	return rb_view(&row_b);
}

#define TWO_FILTERS \
	"    tag-filters:\n" \
	"      - {field-name: protocol, operator: '=', field-values: [6]}\n" \
	"      - {field-name: server_port, operator: '=', field-values: [443]}\n"

Test(filter, and_list)
{
	load("    tag-filter-condition: {type: and}\n" TWO_FILTERS);
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 443)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 6, 80)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 443)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 80)));
	/* the default condition is and */
	load(TWO_FILTERS);
	cr_expect(filter_accept(&flt, tcp_row(NM, 6, 443)));
	cr_expect_not(filter_accept(&flt, tcp_row(NM, 6, 80)));
}

Test(filter, or_list_rejects_when_nothing_matches)
{
	load("    tag-filter-condition: {type: or}\n" TWO_FILTERS);
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 443)));
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 80)));
	cr_expect(filter_accept(&flt, tcp_row(N, 17, 443)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 80))); /* DeepFlow: accepted */
}

Test(filter, filters_on_fields_a_family_lacks_are_skipped)
{
	load("    tag-filter-condition: {type: or}\n    tag-filters:\n"
	     "      - {field-name: app_service, operator: '=', field-values: [cart]}\n");
	cr_expect(filter_accept(&flt, tcp_row(N, 17, 80)));  /* no app_service in network */
	rb_init(&row_b, A);
	rb_str(&row_b, SCHEMA_T_APP_SERVICE, "other");
	cr_expect_not(filter_accept(&flt, rb_view(&row_b)));
	rb_str(&row_b, SCHEMA_T_APP_SERVICE, "cart");
	cr_expect(filter_accept(&flt, rb_view(&row_b)));
	/* AND: only the filters that bind count */
	load("    tag-filters:\n"
	     "      - {field-name: app_service, operator: '=', field-values: [cart]}\n"
	     "      - {field-name: protocol, operator: '=', field-values: [6]}\n");
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 80)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 80)));
}

#define GROUPS(c1, f1, c2, f2) \
	"    tag-filters-groups:\n" \
	"      - tag-filter-condition: {type: " c1 "}\n        tag-filters:\n" f1 \
	"      - tag-filter-condition: {type: " c2 "}\n        tag-filters:\n" f2

#define F_(name, op, vals) "          - {field-name: " name ", operator: '" op "', field-values: " vals "}\n"

Test(filter, groups_are_ored)
{
	load(GROUPS("and", F_("protocol", "=", "[6]") F_("server_port", "=", "[443]"),
		    "or", F_("server_port", "=", "[53]") F_("app_service", "=", "[x]")));
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 443)));   /* group 1 */
	cr_expect(filter_accept(&flt, tcp_row(N, 17, 53)));   /* group 2 */
	cr_expect_not(filter_accept(&flt, tcp_row(N, 6, 80)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 80)));
}

Test(filter, groups_that_bind_nothing_are_ignored_in_any_order)
{
	const char *g1 = F_("app_service", "=", "[foo]"), *g2 = F_("protocol", "=", "[6]");
	char body[2048];

	for (int order = 0; order < 2; order++) {
		snprintf(body, sizeof(body),
			 "    tag-filters-groups:\n"
			 "      - tag-filter-condition: {type: and}\n        tag-filters:\n%s"
			 "      - tag-filter-condition: {type: and}\n        tag-filters:\n%s",
			 order ? g2 : g1, order ? g1 : g2);
		load(body);
		cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 80)), "order %d", order);
		cr_expect(filter_accept(&flt, tcp_row(N, 6, 80)), "order %d", order);
	}
	/* no group binds: the row passes */
	load(GROUPS("and", F_("app_service", "=", "[foo]"), "or", F_("endpoint", "=", "[bar]")));
	cr_expect(filter_accept(&flt, tcp_row(N, 17, 80)));
	rb_init(&row_b, AM);
	rb_str(&row_b, SCHEMA_T_ENDPOINT, "baz");
	cr_expect_not(filter_accept(&flt, rb_view(&row_b)));
	rb_str(&row_b, SCHEMA_T_ENDPOINT, "bar");
	cr_expect(filter_accept(&flt, rb_view(&row_b)));
}

Test(filter, deprecated_filters_that_bind_override_groups)
{
	char body[2048];

	snprintf(body, sizeof(body), "    tag-filters:\n"
		 "      - {field-name: protocol, operator: '=', field-values: [6]}\n"
		 "    tag-filters-groups:\n"
		 "      - tag-filters:\n" F_("server_port", "=", "[80]"));
	load(body);
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 443)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 17, 80)));
	/* deprecated filters that bind nothing in the family: groups decide */
	snprintf(body, sizeof(body), "    tag-filters:\n"
		 "      - {field-name: app_service, operator: '=', field-values: [x]}\n"
		 "    tag-filters-groups:\n"
		 "      - tag-filters:\n" F_("server_port", "=", "[80]"));
	load(body);
	cr_expect(filter_accept(&flt, tcp_row(N, 17, 80)));
	cr_expect_not(filter_accept(&flt, tcp_row(N, 6, 443)));
}

Test(filter, no_filters_accept_everything)
{
	load("");
	cr_expect(filter_accept(&flt, tcp_row(N, 6, 443)));
	cr_expect(filter_accept(&flt, tcp_row(AM, 17, 1)));
	cr_expect_eq(flt.n_groups, 0);
	cr_expect_eq(flt.legacy.n_items, 0);
}

Test(filter, binding_per_family)
{
	const struct filter_item *it;

	load("    tag-filters:\n"
	     "      - {field-name: direction_score, operator: '=', field-values: [1]}\n"
	     "      - {field-name: ip4_0, operator: '=', field-values: [1]}\n"
	     "      - {field-name: role, operator: '=', field-values: [1]}\n");
	it = &flt.legacy.items[0];
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK].kind, FILTER_B_METRIC);
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK].index, 14);
	cr_expect_eq(it->bind[SCHEMA_FAM_APPLICATION].index, 2);
	it = &flt.legacy.items[1];
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK].kind, FILTER_B_NONE);
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK_MAP].kind, FILTER_B_TAG);
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK_MAP].index, SCHEMA_T_IP4);
	cr_expect_eq(it->bind[SCHEMA_FAM_APPLICATION_MAP].index, SCHEMA_T_IP4);
	it = &flt.legacy.items[2];
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK].kind, FILTER_B_TAG);
	cr_expect_eq(it->bind[SCHEMA_FAM_NETWORK_MAP].kind, FILTER_B_NONE);
	cr_expect_eq(flt.legacy.applies, 0xf);
}

/* The hot path: a few filters per row should cost well under a microsecond. */
Test(filter, accept_is_fast, .timeout = 30)
{
	struct timespec a, b;
	const struct rawrow_view *v;
	long n = 200000, acc = 0;
	double secs;

	load("    tag-filter-condition: {type: or}\n    tag-filters:\n"
	     "      - {field-name: protocol, operator: 'in', field-values: [17, 1]}\n"
	     "      - {field-name: pod_id_0, operator: '~', field-values: ['^web-']}\n"
	     "      - {field-name: server_port, operator: '=', field-values: [443]}\n");
	rb_init(&row_b, NM);
	rb_str(&row_b, SCHEMA_T_PROTOCOL, "TCP");
	rb_str(&row_b, SCHEMA_T_POD_ID, "nginx-1");
	rb_num(&row_b, SCHEMA_T_SERVER_PORT, 443);
	v = rb_view(&row_b);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		acc += filter_accept(&flt, v);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	cr_expect_eq(acc, n);
	cr_log_info("%.0f ns per row (3 OR filters, last one matches)", secs / (double)n * 1e9);
	cr_expect_lt(secs / (double)n, 5e-6);
}
