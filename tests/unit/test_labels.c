/* SPDX-License-Identifier: MIT */
/* test_labels.c: shared label rendering (spec §2.2, §2.3), decoded with protobuf-c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/dict.h"
#include "common/schema.h"
#include "encoder/labels.h"
#include "encoder/rw_encode.h"
#include "remote.pb-c.h"
#include "rowbuild.h"

#define ALL_TAGS (~0ULL)

static struct labels_out *out;
static struct rowbuild rb;

static void setup(void)
{
	out = labels_out_new();
	cr_assert_not_null(out);
}

static void teardown(void)
{
	labels_out_free(out);
}

/* Wrap the rendered labels in one series and decode it with protobuf-c. */
static Prometheus__WriteRequest *decode(const struct labels_out *o)
{
	static uint8_t req[1 << 20];
	uint8_t *p = rw_put_series(req, NULL, 0, o->buf, o->len, 1.0, 1000);
	Prometheus__WriteRequest *wr = prometheus__write_request__unpack(NULL, (size_t)(p - req), req);

	cr_assert_not_null(wr, "rendered labels do not decode");
	cr_assert_eq(wr->n_timeseries, 1);
	cr_assert_eq(wr->timeseries[0]->n_labels, o->n);
	return wr;
}

/* The value of label <name>, or NULL when absent. */
static const char *label(const Prometheus__WriteRequest *wr, const char *name)
{
	const Prometheus__TimeSeries *ts = wr->timeseries[0];

	for (size_t i = 0; i < ts->n_labels; i++)
		if (strcmp(ts->labels[i]->name, name) == 0)
			return ts->labels[i]->value;
	return NULL;
}

static void render(const struct labels_plan *p, const struct dict *d)
{
	const struct rawrow_view *v = rb_view(&rb);

	cr_assert_not_null(v, "test row does not decode");
	labels_render(p, d, v, out);
}

/* Render one tag alone (with the datasource label) and return its value. */
static char *value_of(const struct labels_plan *p, const struct dict *d, const char *name)
{
	static char buf[8192];
	Prometheus__WriteRequest *wr;
	const char *v;

	render(p, d);
	wr = decode(out);
	v = label(wr, name);
	if (v)
		snprintf(buf, sizeof(buf), "%s", v);
	prometheus__write_request__free_unpacked(wr, NULL);
	return v ? buf : NULL;
}

TestSuite(labels, .init = setup, .fini = teardown);

Test(labels, plans_are_sorted_and_complete_for_every_family)
{
	/* §3.2 label candidates, plus ip6* (exported by flowrw) and datasource. */
	static const int want[SCHEMA_FAM_COUNT] = { 29 + 1 + 1, 52 + 2 + 1, 34 + 1 + 1, 57 + 2 + 1 };

	for (int f = 0; f < SCHEMA_FAM_COUNT; f++) {
		struct labels_plan p;
		bool ds = false;

		cr_assert_eq(labels_plan_init(&p, (enum schema_family)f, ALL_TAGS, NULL, true, true), 0);
		cr_expect_eq(p.n, want[f], "family %d: %d labels", f, p.n);
		for (int i = 0; i < p.n; i++) {
			cr_expect_neq(p.e[i].tag, SCHEMA_T_TIME);
			cr_expect_gt(strcmp(p.e[i].name, "__name__"), 0);
			if (i)
				cr_expect_lt(strcmp(p.e[i - 1].name, p.e[i].name), 0, "%s !< %s",
					     p.e[i - 1].name, p.e[i].name);
			ds |= p.e[i].tag == LABELS_DATASOURCE;
		}
		cr_expect(ds);
	}
}

Test(labels, map_families_use_map_json_names)
{
	struct labels_plan p;

	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK_MAP, ALL_TAGS, NULL, true, true), 0);
	rb_init(&rb, SCHEMA_DS_NETWORK_MAP_1M);
	rb_str(&rb, SCHEMA_T_POD_ID, "nginx-1");
	rb_str(&rb, SCHEMA_T_POD_ID_1, "redis-0");
	rb_num(&rb, SCHEMA_T_IP4, 0x0a000001);
	rb_num(&rb, SCHEMA_T_SERVER_PORT, 443);
	cr_expect_str_eq(value_of(&p, NULL, "pod_id_0"), "nginx-1");
	cr_expect_str_eq(value_of(&p, NULL, "pod_id_1"), "redis-0");
	cr_expect_str_eq(value_of(&p, NULL, "ip4_0"), "10.0.0.1");
	cr_expect_str_eq(value_of(&p, NULL, "server_port"), "443");
	cr_expect_str_eq(value_of(&p, NULL, "datasource"), "flow_metrics.network_map.1m");
	cr_expect_null(value_of(&p, NULL, "pod_id"));
	cr_expect_eq(out->n, 5);
}

Test(labels, time_is_never_a_label_and_absent_or_empty_tags_are_omitted)
{
	struct labels_plan p;

	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_APPLICATION, ALL_TAGS, NULL, true, true), 0);
	rb_init(&rb, SCHEMA_DS_APPLICATION_1S);
	rb_num(&rb, SCHEMA_T_TIME, 1716998400);
	rb_str(&rb, SCHEMA_T_APP_SERVICE, "");
	rb_str(&rb, SCHEMA_T_ENDPOINT, "/api/v1");
	rb_num(&rb, SCHEMA_T_THREAD_ID, 0);
	cr_expect_null(value_of(&p, NULL, "time"));
	cr_expect_null(value_of(&p, NULL, "app_service"));
	cr_expect_str_eq(value_of(&p, NULL, "endpoint"), "/api/v1");
	cr_expect_str_eq(value_of(&p, NULL, "thread_id"), "0"); /* numeric 0 is not empty */
	cr_expect_eq(out->n, 3);
}

Test(labels, ip_rendering)
{
	struct labels_plan p;
	uint8_t a[16];

	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK_MAP, ALL_TAGS, NULL, true, true), 0);
	rb_init(&rb, SCHEMA_DS_NETWORK_MAP_1S);
	rb_num(&rb, SCHEMA_T_IP4, 0);
	rb_num(&rb, SCHEMA_T_IP4_1, 0xffffffffLL);
	inet_pton(AF_INET6, "2001:0db8:0000:0000:0000:0000:0000:0001", a);
	rb_ip6(&rb, SCHEMA_T_IP6, a);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", a);
	rb_ip6(&rb, SCHEMA_T_IP6_1, a);
	cr_expect_str_eq(value_of(&p, NULL, "ip4_0"), "0.0.0.0"); /* DeepFlow emits it */
	cr_expect_str_eq(value_of(&p, NULL, "ip4_1"), "255.255.255.255");
	cr_expect_str_eq(value_of(&p, NULL, "ip6_0"), "2001:db8::1");
	cr_expect_str_eq(value_of(&p, NULL, "ip6_1"), "::ffff:10.1.2.3");

	char buf[16];
	cr_expect_eq(labels_ip4toa(0x0a100001, buf), 9);
	cr_expect(memcmp(buf, "10.16.0.1", 9) == 0);
	cr_expect_eq(labels_ip4toa(0xc0a8640a, buf), strlen("192.168.100.10"));
	cr_expect(memcmp(buf, "192.168.100.10", 14) == 0);
}

Test(labels, decimal_rendering)
{
	char buf[24];

	cr_expect_eq(labels_i64toa(0, buf), 1);
	cr_expect(memcmp(buf, "0", 1) == 0);
	cr_expect_eq(labels_i64toa(-2, buf), 2);
	cr_expect(memcmp(buf, "-2", 2) == 0);
	cr_expect_eq(labels_i64toa(INT64_MIN, buf), 20);
	cr_expect(memcmp(buf, "-9223372036854775808", 20) == 0);
	cr_expect_eq(labels_i64toa(INT64_MAX, buf), 19);
	cr_expect(memcmp(buf, "9223372036854775807", 19) == 0);
	cr_expect_eq(labels_i64toa(4294967295LL, buf), 10);
	cr_expect(memcmp(buf, "4294967295", 10) == 0);
}

Test(labels, enum_translation_and_its_flag)
{
	struct labels_plan on, off;

	cr_assert_eq(labels_plan_init(&on, SCHEMA_FAM_APPLICATION_MAP, ALL_TAGS, NULL, true, true), 0);
	cr_assert_eq(labels_plan_init(&off, SCHEMA_FAM_APPLICATION_MAP, ALL_TAGS, NULL, true, false), 0);
	rb_init(&rb, SCHEMA_DS_APPLICATION_MAP_1M);
	rb_num(&rb, SCHEMA_T_PROTOCOL, 6);
	rb_num(&rb, SCHEMA_T_L7_PROTOCOL, 20);
	rb_num(&rb, SCHEMA_T_SIGNAL_SOURCE, 3);
	rb_num(&rb, SCHEMA_T_CAPTURE_NIC_TYPE, 7);
	rb_num(&rb, SCHEMA_T_NAT_SOURCE, 2);
	rb_num(&rb, SCHEMA_T_TUNNEL_TYPE, 1);
	rb_num(&rb, SCHEMA_T_OBSERVATION_POINT, 42);
	rb_num(&rb, SCHEMA_T_CAPTURE_NETWORK_TYPE_ID, 3); /* no enum: always decimal */
	cr_expect_str_eq(value_of(&on, NULL, "protocol"), "TCP");
	cr_expect_str_eq(value_of(&on, NULL, "l7_protocol"), "HTTP");
	cr_expect_str_eq(value_of(&on, NULL, "signal_source"), "eBPF");
	cr_expect_str_eq(value_of(&on, NULL, "capture_nic_type"), "eBPF");
	cr_expect_str_eq(value_of(&on, NULL, "nat_source"), "VIP");
	cr_expect_str_eq(value_of(&on, NULL, "tunnel_type"), "VXLAN");
	cr_expect_str_eq(value_of(&on, NULL, "observation_point"), "Server Process");
	cr_expect_str_eq(value_of(&on, NULL, "capture_network_type_id"), "3");
	cr_expect_str_eq(value_of(&off, NULL, "protocol"), "6");
	cr_expect_str_eq(value_of(&off, NULL, "l7_protocol"), "20");
	cr_expect_str_eq(value_of(&off, NULL, "signal_source"), "3");
	cr_expect_str_eq(value_of(&off, NULL, "tunnel_type"), "1");
	cr_expect_str_eq(value_of(&off, NULL, "observation_point"), "s-p"); /* the raw code */
	/* Unknown values: no entry -> empty -> no label, either way for codes. */
	rb_num(&rb, SCHEMA_T_PROTOCOL, 200);
	rb_num(&rb, SCHEMA_T_OBSERVATION_POINT, 3);
	cr_expect_null(value_of(&on, NULL, "protocol"));
	cr_expect_str_eq(value_of(&off, NULL, "protocol"), "200");
	cr_expect_null(value_of(&on, NULL, "observation_point"));
	cr_expect_null(value_of(&off, NULL, "observation_point"));
	/* Strings: names pass through; a raw code is translated when enabled. */
	rb_str(&rb, SCHEMA_T_OBSERVATION_POINT, "c");
	rb_str(&rb, SCHEMA_T_PROTOCOL, "TCP");
	cr_expect_str_eq(value_of(&on, NULL, "observation_point"), "Client NIC");
	cr_expect_str_eq(value_of(&off, NULL, "observation_point"), "c");
	cr_expect_str_eq(value_of(&off, NULL, "protocol"), "TCP");
	rb_str(&rb, SCHEMA_T_OBSERVATION_POINT, "Client NIC");
	cr_expect_str_eq(value_of(&on, NULL, "observation_point"), "Client NIC");
}

static struct dict *load_dict(const char *text)
{
	char path[] = "/tmp/flowrw-test-dict-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct dict *d;

	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	d = dict_load(path, err, sizeof(err));
	unlink(path);
	cr_assert_not_null(d, "%s", err);
	return d;
}

Test(labels, universal_tags_and_their_flag)
{
	struct labels_plan on, off;
	struct dict *d = load_dict("pod 1201 loadgenerator-r47cq6l4k-tvrsq\n"
				   "region 1 cn-north-1\n"
				   "l3_epc 3 vpc-prod-north\n"
				   "agent 12 prod-a-node-011-V12\n"
				   "device 10 1201 loadgenerator-r47cq6l4k-tvrsq\n"
				   "host 5 hv-cn-north-1b-04\n");

	cr_assert_eq(labels_plan_init(&on, SCHEMA_FAM_NETWORK, ALL_TAGS, NULL, true, true), 0);
	cr_assert_eq(labels_plan_init(&off, SCHEMA_FAM_NETWORK, ALL_TAGS, NULL, false, true), 0);
	rb_init(&rb, SCHEMA_DS_NETWORK_1M);
	rb_num(&rb, SCHEMA_T_POD_ID, 1201);
	rb_num(&rb, SCHEMA_T_REGION_ID, 1);
	rb_num(&rb, SCHEMA_T_L3_EPC_ID, 3);
	rb_num(&rb, SCHEMA_T_AGENT_ID, 12);
	rb_num(&rb, SCHEMA_T_HOST_ID, 5);
	rb_num(&rb, SCHEMA_T_L3_DEVICE_TYPE, 10);
	rb_num(&rb, SCHEMA_T_L3_DEVICE_ID, 1201);
	rb_num(&rb, SCHEMA_T_SUBNET_ID, 77);           /* not in the dictionary */
	rb_num(&rb, SCHEMA_T_AUTO_INSTANCE_TYPE, 255); /* IP: renders the side's address */
	rb_num(&rb, SCHEMA_T_AUTO_INSTANCE_ID, 9);
	rb_num(&rb, SCHEMA_T_IP4, 0x0a000005);
	cr_expect_str_eq(value_of(&on, d, "pod_id"), "loadgenerator-r47cq6l4k-tvrsq"); /* id-style name */
	cr_expect_str_eq(value_of(&on, d, "region_id"), "cn-north-1");
	cr_expect_str_eq(value_of(&on, d, "l3_epc_id"), "vpc-prod-north");
	cr_expect_str_eq(value_of(&on, d, "agent_id"), "prod-a-node-011-V12");
	cr_expect_str_eq(value_of(&on, d, "host_id"), "hv-cn-north-1b-04");
	cr_expect_str_eq(value_of(&on, d, "l3_device_type"), "pod");
	cr_expect_str_eq(value_of(&on, d, "l3_device_id"), "loadgenerator-r47cq6l4k-tvrsq");
	cr_expect_null(value_of(&on, d, "subnet_id"));
	cr_expect_str_eq(value_of(&on, d, "auto_instance_type"), "ip");
	cr_expect_str_eq(value_of(&on, d, "auto_instance_id"), "10.0.0.5");
	cr_expect_null(value_of(&on, NULL, "pod_id")); /* no dictionary: unknown, omitted */
	cr_expect_str_eq(value_of(&on, NULL, "l3_device_type"), "pod");
	cr_expect_str_eq(value_of(&off, d, "pod_id"), "1201");
	cr_expect_str_eq(value_of(&off, d, "subnet_id"), "77");
	cr_expect_str_eq(value_of(&off, d, "l3_device_type"), "10");
	cr_expect_str_eq(value_of(&off, d, "auto_instance_type"), "255");
	rb_num(&rb, SCHEMA_T_L3_EPC_ID, -2);
	cr_expect_str_eq(value_of(&off, d, "l3_epc_id"), "-2");
	cr_expect_null(value_of(&on, d, "l3_epc_id"));
	/* Names given by the row pass through under the id-style label name. */
	rb_str(&rb, SCHEMA_T_POD_ID, "nginx-1");
	cr_expect_str_eq(value_of(&on, d, "pod_id"), "nginx-1");
	cr_expect_str_eq(value_of(&off, d, "pod_id"), "nginx-1");
	dict_free(d);
}

Test(labels, selection_limits_the_labels)
{
	struct labels_plan p;
	uint64_t tags = (1ULL << SCHEMA_T_PROTOCOL) | (1ULL << SCHEMA_T_TIME) | (1ULL << SCHEMA_T_ROLE);

	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK_MAP, tags, NULL, true, true), 0);
	cr_expect_eq(p.n, 2); /* datasource, protocol: role is not in network_map */
	rb_init(&rb, SCHEMA_DS_NETWORK_MAP_1M);
	rb_num(&rb, SCHEMA_T_PROTOCOL, 17);
	rb_num(&rb, SCHEMA_T_SERVER_PORT, 53);
	cr_expect_str_eq(value_of(&p, NULL, "protocol"), "UDP");
	cr_expect_null(value_of(&p, NULL, "server_port"));
	cr_expect_eq(out->n, 2);
}

Test(labels, collisions_keep_the_first_present_in_tag_id_order)
{
	const char *names[SCHEMA_TAG_COUNT];
	struct labels_plan p;
	Prometheus__WriteRequest *wr;

	for (int t = 0; t < SCHEMA_TAG_COUNT; t++)
		names[t] = schema_tag_label(t, SCHEMA_FAM_NETWORK);
	names[SCHEMA_T_PROTOCOL] = "proto_port";
	names[SCHEMA_T_SERVER_PORT] = "proto_port";
	names[SCHEMA_T_ORG_ID] = "proto_port";
	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK, ALL_TAGS, names, true, false), 0);
	rb_init(&rb, SCHEMA_DS_NETWORK_1M);
	rb_num(&rb, SCHEMA_T_PROTOCOL, 6);
	rb_num(&rb, SCHEMA_T_SERVER_PORT, 443);
	rb_num(&rb, SCHEMA_T_ORG_ID, 1);
	cr_expect_str_eq(value_of(&p, NULL, "proto_port"), "6");
	cr_expect_eq(out->collisions, 2);
	wr = decode(out);
	cr_expect_eq(wr->timeseries[0]->n_labels, 2); /* datasource, proto_port */
	prometheus__write_request__free_unpacked(wr, NULL);
	/* The first one absent: the next in tag-id order takes the name. */
	rb_del(&rb, SCHEMA_T_PROTOCOL);
	cr_expect_str_eq(value_of(&p, NULL, "proto_port"), "443");
	cr_expect_eq(out->collisions, 1);
	/* An empty value is not a collision. */
	rb_str(&rb, SCHEMA_T_PROTOCOL, "");
	rb_del(&rb, SCHEMA_T_ORG_ID);
	cr_expect_str_eq(value_of(&p, NULL, "proto_port"), "443");
	cr_expect_eq(out->collisions, 0);
}

Test(labels, plan_refuses_bad_names)
{
	static const char *const bad[] = { "__reserved", "datasource", "1abc", "a-b", "", "_", "__name__" };
	const char *names[SCHEMA_TAG_COUNT];
	struct labels_plan p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int t = 0; t < SCHEMA_TAG_COUNT; t++)
			names[t] = schema_tag_label(t, SCHEMA_FAM_NETWORK);
		names[SCHEMA_T_THREAD_ID] = bad[i];
		if (strcmp(bad[i], "_") == 0) {
			/* "_" is a valid name but sorts before __name__ */
			cr_expect_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK, ALL_TAGS, names, true, true),
				     -EINVAL);
			continue;
		}
		cr_expect_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK, ALL_TAGS, names, true, true), -EINVAL,
			     "%s accepted", bad[i]);
	}
	cr_expect(labels_name_ok("pod_id_0"));
	cr_expect(!labels_name_ok("pod id"));
}

Test(labels, arbitrary_bytes_pass_through)
{
	struct labels_plan p;
	Prometheus__WriteRequest *wr;

	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_APPLICATION_MAP, ALL_TAGS, NULL, true, true), 0);
	rb_init(&rb, SCHEMA_DS_APPLICATION_MAP_1S);
	rb_str(&rb, SCHEMA_T_APP_SERVICE, "svc \"quoted\" \xe4\xb8\xad, =}");
	render(&p, NULL);
	wr = decode(out);
	cr_expect_str_eq(label(wr, "app_service"), "svc \"quoted\" \xe4\xb8\xad, =}");
	prometheus__write_request__free_unpacked(wr, NULL);
}

/* labels_render() writes values in place and names in fixed 32-byte pieces:
 * long names (> 29 bytes) and values needing two-byte varints take other
 * paths, which must give exactly what rw_put_label() writes. */
Test(labels, long_names_and_values_match_rw_put_label)
{
	static const size_t lens[] = { 1, 90, 99, 100, 115, 116, 127, 128, 200, 255 } /* rowbuild: <= 255 */;
	const char *names[SCHEMA_TAG_COUNT];
	static char val[4097];
	static uint8_t want[8192];
	struct labels_plan p;

	for (int t = 0; t < SCHEMA_TAG_COUNT; t++)
		names[t] = schema_tag_label(t, SCHEMA_FAM_NETWORK);
	names[SCHEMA_T_PROTOCOL] = "a_label_name_of_exactly_thirty_";
	names[SCHEMA_T_SERVER_PORT] = "zz_a_much_longer_label_name_than_thirty_two_bytes";
	names[SCHEMA_T_ORG_ID] = "m_value"; /* given as a string below */
	cr_assert_eq(labels_plan_init(&p, SCHEMA_FAM_NETWORK,
				      (1ULL << SCHEMA_T_PROTOCOL) | (1ULL << SCHEMA_T_SERVER_PORT) |
					      (1ULL << SCHEMA_T_ORG_ID),
				      names, true, false), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t *w = want;
		const char *ds = schema_ds_name(SCHEMA_DS_NETWORK_1M);

		memset(val, 'a' + (int)(i % 26), lens[i]);
		val[lens[i]] = 0;
		rb_init(&rb, SCHEMA_DS_NETWORK_1M);
		rb_num(&rb, SCHEMA_T_PROTOCOL, 6);
		rb_num(&rb, SCHEMA_T_SERVER_PORT, 443);
		rb_str(&rb, SCHEMA_T_ORG_ID, val);
		render(&p, NULL);
		w = rw_put_label(w, names[SCHEMA_T_PROTOCOL], strlen(names[SCHEMA_T_PROTOCOL]), "6", 1);
		w = rw_put_label(w, "datasource", 10, ds, strlen(ds));
		w = rw_put_label(w, "m_value", 7, val, lens[i]);
		w = rw_put_label(w, names[SCHEMA_T_SERVER_PORT], strlen(names[SCHEMA_T_SERVER_PORT]), "443", 3);
		cr_expect_eq(out->len, (size_t)(w - want), "value of %zu bytes: %zu != %zu", lens[i],
			     out->len, (size_t)(w - want));
		cr_expect(out->len == (size_t)(w - want) && memcmp(out->buf, want, out->len) == 0,
			  "value of %zu bytes: other bytes", lens[i]);
	}
}
