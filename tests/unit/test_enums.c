/* SPDX-License-Identifier: MIT */
/* test_enums.c: enum tables of spec §4.2, keywords of §5.3, reverse lookups. */

#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "common/enums.h"

static int64_t rev(enum schema_enum e, const char *name)
{
	int64_t v = -99;

	if (enums_value(e, name, strlen(name), &v))
		return -1;
	return v;
}

Test(enums, spot_values_of_every_table)
{
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_ROLE, 0), "Client");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_ROLE, 3), "Rest");
	cr_expect_null(enums_name(SCHEMA_ENUM_ROLE, 4));
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 0), "None IP");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 6), "TCP");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 17), "UDP");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 58), "IPv6-ICMP");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 61), "61");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 124), "ISIS over IPv4");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_PROTOCOL, 142), "ROHC");
	cr_expect_null(enums_name(SCHEMA_ENUM_PROTOCOL, 143));
	cr_expect_null(enums_name(SCHEMA_ENUM_PROTOCOL, 255));
	cr_expect_null(enums_name(SCHEMA_ENUM_PROTOCOL, 256));
	cr_expect_null(enums_name(SCHEMA_ENUM_PROTOCOL, -1));
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_L7_PROTOCOL, 0), "N/A");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_L7_PROTOCOL, 20), "HTTP");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_L7_PROTOCOL, 47), "Some/IP");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_L7_PROTOCOL, 127), "Custom");
	cr_expect_null(enums_name(SCHEMA_ENUM_L7_PROTOCOL, 1));
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_SIGNAL_SOURCE, 0), "Packet");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_SIGNAL_SOURCE, 3), "eBPF");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_SIGNAL_SOURCE, 4), "OTel");
	cr_expect_null(enums_name(SCHEMA_ENUM_SIGNAL_SOURCE, 1)); /* xFlow: l4 table, not used */
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_CAPTURE_NIC_TYPE, 3), "ERSPAN (IPv6)");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_CAPTURE_NIC_TYPE, 8), "OTel");
	cr_expect_null(enums_name(SCHEMA_ENUM_CAPTURE_NIC_TYPE, 9));
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_NAT_SOURCE, 6), "TOA");
	cr_expect_null(enums_name(SCHEMA_ENUM_NAT_SOURCE, 1));
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_TUNNEL_TYPE, 5), "VXLAN-NSH");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_OBSERVATION_POINT, 1), "Client NIC");
	cr_expect_str_eq(enums_name(SCHEMA_ENUM_OBSERVATION_POINT, 50), "Server Application");
	cr_expect_null(enums_name(SCHEMA_ENUM_OBSERVATION_POINT, 3));
	cr_expect_null(enums_name(SCHEMA_ENUM_NONE, 0));
	cr_expect_null(enums_name(SCHEMA_ENUM_COUNT, 0));
}

Test(enums, table_sizes)
{
	static const struct {
		enum schema_enum e;
		int n;
	} sizes[] = {
		{SCHEMA_ENUM_ROLE, 4}, {SCHEMA_ENUM_OBSERVATION_POINT, 17}, {SCHEMA_ENUM_PROTOCOL, 143},
		{SCHEMA_ENUM_L7_PROTOCOL, 33}, {SCHEMA_ENUM_SIGNAL_SOURCE, 3},
		{SCHEMA_ENUM_CAPTURE_NIC_TYPE, 9}, {SCHEMA_ENUM_NAT_SOURCE, 4}, {SCHEMA_ENUM_TUNNEL_TYPE, 6},
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int n = 0;

		for (int v = 0; v < 256; v++)
			n += enums_name(sizes[i].e, v) != NULL;
		cr_expect_eq(n, sizes[i].n, "%s: %d", enums_file_name(sizes[i].e), n);
	}
}

/* Every name maps back to its own value: no duplicate names in a table. */
Test(enums, reverse_round_trips)
{
	for (int e = SCHEMA_ENUM_NONE + 1; e < SCHEMA_ENUM_COUNT; e++) {
		for (int v = 0; v < 256; v++) {
			const char *n = enums_name(e, v);

			if (n)
				cr_expect_eq(rev(e, n), v, "%s %d %s", enums_file_name(e), v, n);
		}
	}
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, "TCP"), 6);
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, "tcp"), -1);
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, "TC"), -1);
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, "TCPX"), -1);
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, ""), -1);
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, "6"), -1);
	cr_expect_eq(rev(SCHEMA_ENUM_PROTOCOL, "61"), 61);
	cr_expect_eq(rev(SCHEMA_ENUM_L7_PROTOCOL, "N/A"), 0);
	cr_expect_eq(rev(SCHEMA_ENUM_TUNNEL_TYPE, "N/A"), 0);
	cr_expect_eq(rev(SCHEMA_ENUM_OBSERVATION_POINT, "Client NIC"), 1);
	cr_expect_eq(rev(SCHEMA_ENUM_NONE, "TCP"), -1);
	/* <len> bounds the name: "TCPX" with len 3 is "TCP" */
	{
		int64_t v;

		cr_expect_eq(enums_value(SCHEMA_ENUM_PROTOCOL, "TCPX", 3, &v), 0);
		cr_expect_eq(v, 6);
		cr_expect_eq(enums_value(SCHEMA_ENUM_PROTOCOL, "TCP\0", 4, &v), -ENOENT);
	}
}

Test(enums, observation_point_codes)
{
	static const struct {
		int side;
		const char *code, *name;
	} t[] = {
		{0, "rest", "Other NIC"}, {1, "c", "Client NIC"}, {2, "s", "Server NIC"},
		{4, "local", "Local NIC"}, {9, "c-nd", "Client K8s Node"}, {10, "s-nd", "Server K8s Node"},
		{17, "c-hv", "Client VM Hypervisor"}, {18, "s-hv", "Server VM Hypervisor"},
		{25, "c-gw-hv", "Client-side Gateway Hypervisor"},
		{26, "s-gw-hv", "Server-side Gateway Hypervisor"}, {33, "c-gw", "Client-side Gateway"},
		{34, "s-gw", "Server-side Gateway"}, {41, "c-p", "Client Process"},
		{42, "s-p", "Server Process"}, {48, "app", "Application"},
		{49, "c-app", "Client Application"}, {50, "s-app", "Server Application"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t side = -1;

		cr_expect_str_eq(enums_observation_point_code(t[i].side), t[i].code);
		cr_expect_str_eq(enums_name_by_code(SCHEMA_ENUM_OBSERVATION_POINT, t[i].code,
						    strlen(t[i].code)), t[i].name);
		cr_expect_str_eq(enums_code_by_name(t[i].name, strlen(t[i].name)), t[i].code);
		cr_expect_eq(enums_observation_point_side(t[i].code, strlen(t[i].code), &side), 0);
		cr_expect_eq(side, t[i].side);
	}
	cr_expect_null(enums_observation_point_code(3));
	cr_expect_null(enums_observation_point_code(51));
	cr_expect_null(enums_observation_point_code(1000));
	cr_expect_null(enums_name_by_code(SCHEMA_ENUM_OBSERVATION_POINT, "x", 1));
	cr_expect_null(enums_name_by_code(SCHEMA_ENUM_PROTOCOL, "c", 1));
	cr_expect_null(enums_code_by_name("Client", 6));
}

Test(enums, device_type_keywords_of_spec_5_3)
{
	static const struct {
		int type;
		const char *kw;
	} t[] = {
		{0, "internet_ip"}, {1, "chost"}, {5, "router"}, {6, "host"}, {9, "dhcpgw"}, {10, "pod"},
		{11, "pod_service"}, {12, "redis"}, {13, "rds"}, {14, "pod_node"}, {15, "lb"},
		{16, "natgw"}, {101, "pod_group"}, {102, "service"}, {120, "gprocess"}, {255, "ip"},
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = -1;

		cr_expect_str_eq(enums_device_type_keyword(t[i].type), t[i].kw);
		cr_expect_eq(enums_device_type_value(t[i].kw, strlen(t[i].kw), &v), 0);
		cr_expect_eq(v, t[i].type);
	}
	for (int v = -5; v < 300; v++)
		n += enums_device_type_keyword(v) != NULL;
	cr_expect_eq(n, 16);
	cr_expect_null(enums_device_type_keyword(103));
	cr_expect_null(enums_device_type_keyword(130));
}
