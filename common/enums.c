/* SPDX-License-Identifier: MIT */
/* enums.c: the DeepFlow enum files used by flow_metrics tags, compiled in. */

/*
 * Design
 *
 * The tables are the literal contents of DeepFlow's enum files as listed in
 * spec §4.2 (value, display name) and §5.3 (device-type keywords).  They are
 * small and fixed, so they are compiled in rather than read at run time:
 * DeepFlow itself embeds them in its binary.
 *
 * Every value used by flow_metrics is < 256, so forward lookups go through a
 * 256-entry direct index per enum, built once by a constructor before
 * main().  Reverse lookups (name -> value) serve the tag filters, which see
 * names already translated upstream ("TCP") but compare numbers as DeepFlow
 * does (`protocol = 6`); they binary-search a per-enum array of entries
 * sorted by name, also built by the constructor.
 *
 * signal_source uses l7_signal_source for every family, as DeepFlow does
 * (spec §2.9): value 1 (xFlow) has no name.
 */

#include "common/enums.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct enum_entry {
	int64_t value;
	const char *name;
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct enum_entry role_tab[] = {
	{0, "Client"}, {1, "Server"}, {2, "Local"}, {3, "Rest"},
};

/* observation_point: tap_side, raw code, display name. */
static const struct {
	int64_t side;
	const char *code;
	const char *name;
} obs_tab[] = {
	{0, "rest", "Other NIC"},
	{1, "c", "Client NIC"},
	{2, "s", "Server NIC"},
	{4, "local", "Local NIC"},
	{9, "c-nd", "Client K8s Node"},
	{10, "s-nd", "Server K8s Node"},
	{17, "c-hv", "Client VM Hypervisor"},
	{18, "s-hv", "Server VM Hypervisor"},
	{25, "c-gw-hv", "Client-side Gateway Hypervisor"},
	{26, "s-gw-hv", "Server-side Gateway Hypervisor"},
	{33, "c-gw", "Client-side Gateway"},
	{34, "s-gw", "Server-side Gateway"},
	{41, "c-p", "Client Process"},
	{42, "s-p", "Server Process"},
	{48, "app", "Application"},
	{49, "c-app", "Client Application"},
	{50, "s-app", "Server Application"},
};

/* protocol: IANA numbers 0..142, index = value. */
static const char *const protocol_names[] = {
	"None IP",
	"ICMP",
	"IGMP",
	"GGP",
	"IPv4",
	"ST",
	"TCP",
	"CBT",
	"EGP",
	"IGP",
	"BBN-RCC-MON",
	"NVP-II",
	"PUP",
	"ARGUS (deprecated)",
	"EMCON",
	"XNET",
	"CHAOS",
	"UDP",
	"MUX",
	"DCN-MEAS",
	"HMP",
	"PRM",
	"XNS-IDP",
	"TRUNK-1",
	"TRUNK-2",
	"LEAF-1",
	"LEAF-2",
	"RDP",
	"IRTP",
	"ISO-TP4",
	"NETBLT",
	"MFE-NSP",
	"MERIT-INP",
	"DCCP",
	"3PC",
	"IDPR",
	"XTP",
	"DDP",
	"IDPR-CMTP",
	"TP++",
	"IL",
	"IPv6",
	"SDRP",
	"IPv6-Route",
	"IPv6-Frag",
	"IDRP",
	"RSVP",
	"GRE",
	"DSR",
	"BNA",
	"ESP",
	"AH",
	"I-NLSP",
	"SWIPE (deprecated)",
	"NARP",
	"MOBILE",
	"TLSP",
	"SKIP",
	"IPv6-ICMP",
	"IPv6-NoNxt",
	"IPv6-Opts",
	"61",
	"CFTP",
	"63",
	"SAT-EXPAK",
	"KRYPTOLAN",
	"RVD",
	"IPPC",
	"68",
	"SAT-MON",
	"VISA",
	"IPCV",
	"CPNX",
	"CPHB",
	"WSN",
	"PVP",
	"BR-SAT-MON",
	"SUN-ND",
	"WB-MON",
	"WB-EXPAK",
	"ISO-IP",
	"VMTP",
	"SECURE-VMTP",
	"VINES",
	"TTP/IPTM",
	"NSFNET-IGP",
	"DGP",
	"TCF",
	"EIGRP",
	"OSPFIGP",
	"Sprite-RPC",
	"LARP",
	"MTP",
	"AX.25",
	"IPIP",
	"MICP (deprecated)",
	"SCC-SP",
	"ETHERIP",
	"ENCAP",
	"99",
	"GMTP",
	"IFMP",
	"PNNI",
	"PIM",
	"ARIS",
	"SCPS",
	"QNX",
	"A/N",
	"IPComp",
	"SNP",
	"Compaq-Peer",
	"IPX-in-IP",
	"VRRP",
	"PGM",
	"114",
	"L2TP",
	"DDX",
	"IATP",
	"STP",
	"SRP",
	"UTI",
	"SMP",
	"SM (deprecated)",
	"PTP",
	"ISIS over IPv4",
	"FIRE",
	"CRTP",
	"CRUDP",
	"SSCOPMCE",
	"IPLT",
	"SPS",
	"PIPE",
	"SCTP",
	"FC",
	"RSVP-E2E-IGNORE",
	"Mobility Header",
	"UDPLite",
	"MPLS-in-IP",
	"manet",
	"HIP",
	"Shim6",
	"WESP",
	"ROHC",
};

static const struct enum_entry l7_protocol_tab[] = {
	{0, "N/A"}, {20, "HTTP"}, {21, "HTTP2"}, {40, "Dubbo"}, {41, "gRPC"}, {43, "SofaRPC"},
	{44, "FastCGI"}, {45, "bRPC"}, {46, "Tars"}, {47, "Some/IP"}, {48, "ISO-8583"},
	{49, "Triple"}, {50, "NetSign"}, {60, "MySQL"}, {61, "PostgreSQL"}, {62, "Oracle"},
	{63, "Dameng"}, {80, "Redis"}, {81, "MongoDB"}, {82, "Memcached"}, {100, "Kafka"},
	{101, "MQTT"}, {102, "AMQP"}, {103, "OpenWire"}, {104, "NATS"}, {105, "Pulsar"},
	{106, "ZMTP"}, {107, "RocketMQ"}, {108, "WebSphereMQ"}, {120, "DNS"}, {121, "TLS"},
	{122, "Ping"}, {127, "Custom"},
};

static const struct enum_entry signal_source_tab[] = {
	{0, "Packet"}, {3, "eBPF"}, {4, "OTel"},
};

static const struct enum_entry capture_nic_type_tab[] = {
	{0, "Local NIC"}, {1, "NFV Gateway NIC"}, {2, "ERSPAN"}, {3, "ERSPAN (IPv6)"},
	{4, "Traffic Mirror"}, {5, "NetFlow"}, {6, "sFlow"}, {7, "eBPF"}, {8, "OTel"},
};

static const struct enum_entry nat_source_tab[] = {
	{0, "NONE"}, {2, "VIP"}, {4, "RTOA"}, {6, "TOA"},
};

static const struct enum_entry tunnel_type_tab[] = {
	{0, "N/A"}, {1, "VXLAN"}, {2, "IPIP"}, {3, "GRE"}, {4, "Geneve"}, {5, "VXLAN-NSH"},
};

/* §5.3 deviceTypeStrings. */
static const struct enum_entry device_type_tab[] = {
	{0, "internet_ip"}, {1, "chost"}, {5, "router"}, {6, "host"}, {9, "dhcpgw"},
	{10, "pod"}, {11, "pod_service"}, {12, "redis"}, {13, "rds"}, {14, "pod_node"},
	{15, "lb"}, {16, "natgw"}, {101, "pod_group"}, {102, "service"}, {120, "gprocess"},
	{255, "ip"},
};

static const char *const file_names[SCHEMA_ENUM_COUNT] = {
	[SCHEMA_ENUM_ROLE] = "role",
	[SCHEMA_ENUM_OBSERVATION_POINT] = "observation_point",
	[SCHEMA_ENUM_PROTOCOL] = "protocol",
	[SCHEMA_ENUM_L7_PROTOCOL] = "l7_protocol",
	[SCHEMA_ENUM_SIGNAL_SOURCE] = "l7_signal_source",
	[SCHEMA_ENUM_CAPTURE_NIC_TYPE] = "capture_nic_type",
	[SCHEMA_ENUM_NAT_SOURCE] = "nat_source",
	[SCHEMA_ENUM_TUNNEL_TYPE] = "tunnel_type",
};

#define EN_MAX_ENTRIES 256
#define EN_DEVICE      SCHEMA_ENUM_COUNT /* index of the device-type table in the indexes */

/* Built by en_build(): forward index and name-sorted reverse index. */
static const char *en_fwd[SCHEMA_ENUM_COUNT + 1][256];
static struct enum_entry en_rev[SCHEMA_ENUM_COUNT + 1][EN_MAX_ENTRIES];
static int en_nrev[SCHEMA_ENUM_COUNT + 1];
static const char *obs_code_fwd[256];

static void en_put(int e, int64_t value, const char *name)
{
	if (value < 0 || value > 255 || en_nrev[e] == EN_MAX_ENTRIES)
		abort(); /* a table above is wrong */
	en_fwd[e][value] = name;
	en_rev[e][en_nrev[e]++] = (struct enum_entry){value, name};
}

static void en_put_tab(int e, const struct enum_entry *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		en_put(e, t[i].value, t[i].name);
}

static int en_cmp(const void *a, const void *b)
{
	return strcmp(((const struct enum_entry *)a)->name, ((const struct enum_entry *)b)->name);
}

__attribute__((constructor)) static void en_build(void)
{
	en_put_tab(SCHEMA_ENUM_ROLE, role_tab, NELEM(role_tab));
	for (size_t i = 0; i < NELEM(obs_tab); i++) {
		en_put(SCHEMA_ENUM_OBSERVATION_POINT, obs_tab[i].side, obs_tab[i].name);
		obs_code_fwd[obs_tab[i].side] = obs_tab[i].code;
	}
	for (size_t i = 0; i < NELEM(protocol_names); i++)
		en_put(SCHEMA_ENUM_PROTOCOL, (int64_t)i, protocol_names[i]);
	en_put_tab(SCHEMA_ENUM_L7_PROTOCOL, l7_protocol_tab, NELEM(l7_protocol_tab));
	en_put_tab(SCHEMA_ENUM_SIGNAL_SOURCE, signal_source_tab, NELEM(signal_source_tab));
	en_put_tab(SCHEMA_ENUM_CAPTURE_NIC_TYPE, capture_nic_type_tab, NELEM(capture_nic_type_tab));
	en_put_tab(SCHEMA_ENUM_NAT_SOURCE, nat_source_tab, NELEM(nat_source_tab));
	en_put_tab(SCHEMA_ENUM_TUNNEL_TYPE, tunnel_type_tab, NELEM(tunnel_type_tab));
	en_put_tab(EN_DEVICE, device_type_tab, NELEM(device_type_tab));
	for (int e = 0; e <= SCHEMA_ENUM_COUNT; e++)
		qsort(en_rev[e], (size_t)en_nrev[e], sizeof(en_rev[e][0]), en_cmp);
}

static inline bool en_valid(int e)
{
	return e > SCHEMA_ENUM_NONE && e <= SCHEMA_ENUM_COUNT;
}

const char *enums_name(enum schema_enum e, int64_t value)
{
	if (!en_valid(e) || e == SCHEMA_ENUM_COUNT || value < 0 || value > 255)
		return NULL;
	return en_fwd[e][value];
}

/* Binary search of name-sorted entries; compares <len> bytes, not NUL-terminated. */
static const struct enum_entry *en_find(int e, const char *name, size_t len)
{
	int lo = 0, hi = en_nrev[e] - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const char *n = en_rev[e][mid].name;
		int c = strncmp(n, name, len);

		if (c == 0)
			c = n[len] == '\0' ? 0 : 1;
		if (c == 0)
			return &en_rev[e][mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int enums_value(enum schema_enum e, const char *name, size_t len, int64_t *value)
{
	const struct enum_entry *x;

	if (!en_valid(e) || e == SCHEMA_ENUM_COUNT || memchr(name, '\0', len))
		return -ENOENT;
	x = en_find(e, name, len);
	if (!x)
		return -ENOENT;
	*value = x->value;
	return 0;
}

const char *enums_name_by_code(enum schema_enum e, const char *code, size_t len)
{
	int64_t side;

	if (e != SCHEMA_ENUM_OBSERVATION_POINT || enums_observation_point_side(code, len, &side))
		return NULL;
	return en_fwd[SCHEMA_ENUM_OBSERVATION_POINT][side];
}

const char *enums_code_by_name(const char *name, size_t len)
{
	int64_t side;

	if (enums_value(SCHEMA_ENUM_OBSERVATION_POINT, name, len, &side))
		return NULL;
	return obs_code_fwd[side];
}

const char *enums_device_type_keyword(int64_t type)
{
	if (type < 0 || type > 255)
		return NULL;
	return en_fwd[EN_DEVICE][type];
}

int enums_device_type_value(const char *keyword, size_t len, int64_t *type)
{
	const struct enum_entry *x;

	if (memchr(keyword, '\0', len))
		return -ENOENT;
	x = en_find(EN_DEVICE, keyword, len);
	if (!x)
		return -ENOENT;
	*type = x->value;
	return 0;
}

const char *enums_observation_point_code(int64_t tap_side)
{
	if (tap_side < 0 || tap_side > 255)
		return NULL;
	return obs_code_fwd[tap_side];
}

int enums_observation_point_side(const char *code, size_t len, int64_t *tap_side)
{
	/* 17 short codes: a length-checked scan is as fast as anything here. */
	for (size_t i = 0; i < NELEM(obs_tab); i++) {
		if (strlen(obs_tab[i].code) == len && memcmp(obs_tab[i].code, code, len) == 0) {
			*tap_side = obs_tab[i].side;
			return 0;
		}
	}
	return -ENOENT;
}

const char *enums_file_name(enum schema_enum e)
{
	if (e <= SCHEMA_ENUM_NONE || e >= SCHEMA_ENUM_COUNT)
		return NULL;
	return file_names[e];
}
