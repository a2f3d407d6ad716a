/* SPDX-License-Identifier: MIT */
/* schema.c: DeepFlow flow_metrics tables (spec §1.3, §3.1, §3.3, §3.4) and the JSON key index. */

/*
 * Design
 *
 * Every fact about the DeepFlow schema lives in the three tables below
 * (schema_tags[], schema_net_metrics[], schema_app_metrics[]) and the
 * data-source name table.  Nothing else in the tree spells a field name: the
 * ingest JSON key index, the filters, the field selection and the label
 * names are all derived from these rows.
 *
 * JSON key index.  schema_lookup_key() runs once per key of every ingested
 * row (millions of keys a second), so it is a perfect hash built once at
 * start-up (a constructor, before main(), hence no locking):
 *
 *   key --hash64--> h --(h & (SK_BUCKETS-1))--> bucket b
 *   slot = fmix64(h ^ sk_seed[b]) & (SK_SLOTS-1)   -> entry index
 *
 * (hash-and-displace: each bucket gets a seed chosen so that its keys land
 * on free slots; no probing at lookup, one memcmp against the one
 * candidate).  An entry holds, per family, what the key means there:
 * {kind, index}.  One key can mean different things in different families
 * (direction_score is metric 14 of network and metric 2 of application) and
 * nothing in another (role in network_map).
 *
 * Names accepted for a tag field of family f (the field must exist in f):
 *   - json name                      ip4, pod_id, pod_id_1, agent_id
 *   - map_json name (map families)   ip4_0, pod_id_0
 *   - for universal-tag fields, the same names with the first "_id"
 *     removed, as DeepFlow's Kafka JSON writes them when translating
 *                                    pod, pod_0, pod_1, l3_epc_0, agent
 * Metric names, "datasource" and "time" are keys of their own; "time_str"
 * and every "k8s_label_*" key are reported as SCHEMA_KEY_IGNORED.  Any
 * collision between derived names is a schema bug: the constructor aborts,
 * and tests/unit/test_schema.c checks every key of
 * spec/json-keys-to-labels.md resolves.
 */

#include "common/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F_N   SCHEMA_FAM_BIT(SCHEMA_FAM_NETWORK)
#define F_NM  SCHEMA_FAM_BIT(SCHEMA_FAM_NETWORK_MAP)
#define F_A   SCHEMA_FAM_BIT(SCHEMA_FAM_APPLICATION)
#define F_AM  SCHEMA_FAM_BIT(SCHEMA_FAM_APPLICATION_MAP)
#define F_ALL (F_N | F_NM | F_A | F_AM)
#define F_MAP (F_NM | F_AM)
#define F_SGL (F_N | F_A)
#define F_APP (F_A | F_AM)

#define K_U  SCHEMA_KIND_UINT
#define K_I  SCHEMA_KIND_INT
#define K_4  SCHEMA_KIND_IP4
#define K_6  SCHEMA_KIND_IP6
#define K_S  SCHEMA_KIND_STRING

#define S_(x) SCHEMA_SUB_##x
#define E_(x) SCHEMA_ENUM_##x
#define U_(x) SCHEMA_UT_##x

/* One row per line of §3.1, same order: {json, map_json, kind, sub, enum, ut slot, families, side}. */
const struct schema_tag schema_tags[SCHEMA_TAG_COUNT] = {
	{"time",                    NULL,                   K_U, S_(FLOW_INFO),         E_(NONE),              U_(NONE),               F_ALL, 0},
	{"thread_id",               NULL,                   K_U, S_(NONE),              E_(NONE),              U_(NONE),               F_ALL, 0},
	{"ip6",                     "ip6_0",                K_6, S_(NETWORK_LAYER),     E_(NONE),              U_(NONE),               F_ALL, 0},
	{"ip4",                     "ip4_0",                K_4, S_(NETWORK_LAYER),     E_(NONE),              U_(NONE),               F_ALL, 0},
	{"l3_epc_id",               "l3_epc_id_0",          K_I, S_(UNIVERSAL_TAG),     E_(NONE),              U_(L3_EPC),             F_ALL, 0},
	{"l3_device_id",            "l3_device_id_0",       K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(L3_DEVICE),          F_ALL, 0},
	{"l3_device_type",          "l3_device_type_0",     K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(L3_DEVICE_TYPE),     F_ALL, 0},
	{"region_id",               "region_id_0",          K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(REGION),             F_ALL, 0},
	{"subnet_id",               "subnet_id_0",          K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(SUBNET),             F_ALL, 0},
	{"host_id",                 "host_id_0",            K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(HOST),               F_ALL, 0},
	{"pod_node_id",             "pod_node_id_0",        K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_NODE),           F_ALL, 0},
	{"az_id",                   "az_id_0",              K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AZ),                 F_ALL, 0},
	{"pod_group_id",            "pod_group_id_0",       K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_GROUP),          F_ALL, 0},
	{"pod_ns_id",               "pod_ns_id_0",          K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_NS),             F_ALL, 0},
	{"pod_id",                  "pod_id_0",             K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD),                F_ALL, 0},
	{"pod_cluster_id",          "pod_cluster_id_0",     K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_CLUSTER),        F_ALL, 0},
	{"service_id",              "service_id_0",         K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(SERVICE),            F_ALL, 0},
	{"auto_instance_id",        "auto_instance_id_0",   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_INSTANCE),      F_ALL, 0},
	{"auto_instance_type",      "auto_instance_type_0", K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_INSTANCE_TYPE), F_ALL, 0},
	{"auto_service_id",         "auto_service_id_0",    K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_SERVICE),       F_ALL, 0},
	{"auto_service_type",       "auto_service_type_0",  K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_SERVICE_TYPE),  F_ALL, 0},
	{"gprocess_id",             "gprocess_id_0",        K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(GPROCESS),           F_ALL, 0},
	{"ip6_1",                   NULL,                   K_6, S_(NETWORK_LAYER),     E_(NONE),              U_(NONE),               F_MAP, 1},
	{"ip4_1",                   NULL,                   K_4, S_(NETWORK_LAYER),     E_(NONE),              U_(NONE),               F_MAP, 1},
	{"l3_epc_id_1",             NULL,                   K_I, S_(UNIVERSAL_TAG),     E_(NONE),              U_(L3_EPC),             F_MAP, 1},
	{"l3_device_id_1",          NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(L3_DEVICE),          F_MAP, 1},
	{"l3_device_type_1",        NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(L3_DEVICE_TYPE),     F_MAP, 1},
	{"region_id_1",             NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(REGION),             F_MAP, 1},
	{"subnet_id_1",             NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(SUBNET),             F_MAP, 1},
	{"host_id_1",               NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(HOST),               F_MAP, 1},
	{"pod_node_id_1",           NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_NODE),           F_MAP, 1},
	{"az_id_1",                 NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AZ),                 F_MAP, 1},
	{"pod_group_id_1",          NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_GROUP),          F_MAP, 1},
	{"pod_ns_id_1",             NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_NS),             F_MAP, 1},
	{"pod_id_1",                NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD),                F_MAP, 1},
	{"pod_cluster_id_1",        NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(POD_CLUSTER),        F_MAP, 1},
	{"service_id_1",            NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(SERVICE),            F_MAP, 1},
	{"auto_instance_id_1",      NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_INSTANCE),      F_MAP, 1},
	{"auto_instance_type_1",    NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_INSTANCE_TYPE), F_MAP, 1},
	{"auto_service_id_1",       NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_SERVICE),       F_MAP, 1},
	{"auto_service_type_1",     NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(AUTO_SERVICE_TYPE),  F_MAP, 1},
	{"gprocess_id_1",           NULL,                   K_U, S_(UNIVERSAL_TAG),     E_(NONE),              U_(GPROCESS),           F_MAP, 1},
	{"role",                    NULL,                   K_U, S_(CAPTURE_INFO),      E_(ROLE),              U_(NONE),               F_SGL, 0},
	{"protocol",                NULL,                   K_U, S_(NETWORK_LAYER),     E_(PROTOCOL),          U_(NONE),               F_ALL, 0},
	{"server_port",             NULL,                   K_U, S_(TRANSPORT_LAYER),   E_(NONE),              U_(NONE),               F_ALL, 0},
	{"agent_id",                NULL,                   K_U, S_(CAPTURE_INFO),      E_(NONE),              U_(AGENT),              F_ALL, 0},
	{"org_id",                  NULL,                   K_U, S_(NONE),              E_(NONE),              U_(NONE),               F_ALL, 0},
	{"team_id",                 NULL,                   K_U, S_(NONE),              E_(NONE),              U_(NONE),               F_ALL, 0},
	{"capture_nic",             NULL,                   K_U, S_(CAPTURE_INFO),      E_(NONE),              U_(NONE),               F_MAP, 0},
	{"capture_nic_type",        NULL,                   K_U, S_(CAPTURE_INFO),      E_(CAPTURE_NIC_TYPE),  U_(NONE),               F_MAP, 0},
	{"nat_source",              NULL,                   K_U, S_(CAPTURE_INFO),      E_(NAT_SOURCE),        U_(NONE),               F_MAP, 0},
	{"tunnel_type",             NULL,                   K_U, S_(TUNNEL_INFO),       E_(TUNNEL_TYPE),       U_(NONE),               F_MAP, 0},
	{"observation_point",       NULL,                   K_S, S_(CAPTURE_INFO),      E_(OBSERVATION_POINT), U_(NONE),               F_MAP, 0},
	{"capture_network_type_id", NULL,                   K_U, S_(CAPTURE_INFO),      E_(NONE),              U_(NONE),               F_ALL, 0},
	{"is_ipv4",                 NULL,                   K_U, S_(NETWORK_LAYER),     E_(NONE),              U_(NONE),               F_ALL, 0},
	{"l7_protocol",             NULL,                   K_U, S_(APPLICATION_LAYER), E_(L7_PROTOCOL),       U_(NONE),               F_APP, 0},
	{"app_service",             NULL,                   K_S, S_(SERVICE_INFO),      E_(NONE),              U_(NONE),               F_APP, 0},
	{"app_instance",            NULL,                   K_S, S_(SERVICE_INFO),      E_(NONE),              U_(NONE),               F_APP, 0},
	{"endpoint",                NULL,                   K_S, S_(SERVICE_INFO),      E_(NONE),              U_(NONE),               F_APP, 0},
	{"biz_type",                NULL,                   K_U, S_(CAPTURE_INFO),      E_(NONE),              U_(NONE),               F_APP, 0},
	{"signal_source",           NULL,                   K_U, S_(CAPTURE_INFO),      E_(SIGNAL_SOURCE),     U_(NONE),               F_ALL, 0},
};

/* §3.3, same order (the order is the metric index and the JSON key order). */
const struct schema_metric schema_net_metrics[SCHEMA_NET_METRICS] = {
	{"packet_tx", S_(L3_THROUGHPUT)},
	{"packet_rx", S_(L3_THROUGHPUT)},
	{"byte_tx", S_(L3_THROUGHPUT)},
	{"byte_rx", S_(L3_THROUGHPUT)},
	{"l3_byte_tx", S_(L3_THROUGHPUT)},
	{"l3_byte_rx", S_(L3_THROUGHPUT)},
	{"l4_byte_tx", S_(L4_THROUGHPUT)},
	{"l4_byte_rx", S_(L4_THROUGHPUT)},
	{"new_flow", S_(L4_THROUGHPUT)},
	{"closed_flow", S_(L4_THROUGHPUT)},
	{"l7_request", S_(APPLICATION)},
	{"l7_response", S_(APPLICATION)},
	{"syn_count", S_(L4_THROUGHPUT)},
	{"synack_count", S_(L4_THROUGHPUT)},
	{"direction_score", S_(L4_THROUGHPUT)},
	{"rtt_max", S_(DELAY)},
	{"rtt_client_max", S_(DELAY)},
	{"rtt_server_max", S_(DELAY)},
	{"srt_max", S_(DELAY)},
	{"art_max", S_(DELAY)},
	{"rrt_max", S_(DELAY)},
	{"cit_max", S_(DELAY)},
	{"rtt_sum", S_(DELAY)},
	{"rtt_client_sum", S_(DELAY)},
	{"rtt_server_sum", S_(DELAY)},
	{"srt_sum", S_(DELAY)},
	{"art_sum", S_(DELAY)},
	{"rrt_sum", S_(DELAY)},
	{"cit_sum", S_(DELAY)},
	{"rtt_count", S_(DELAY)},
	{"rtt_client_count", S_(DELAY)},
	{"rtt_server_count", S_(DELAY)},
	{"srt_count", S_(DELAY)},
	{"art_count", S_(DELAY)},
	{"rrt_count", S_(DELAY)},
	{"cit_count", S_(DELAY)},
	{"retrans_tx", S_(NONE)},
	{"retrans_rx", S_(NONE)},
	{"zero_win_tx", S_(NONE)},
	{"zero_win_rx", S_(NONE)},
	{"retrans_syn", S_(NONE)},
	{"retrans_synack", S_(NONE)},
	{"client_rst_flow", S_(TCP_ERROR)},
	{"server_rst_flow", S_(TCP_ERROR)},
	{"server_syn_miss", S_(TCP_ERROR)},
	{"client_ack_miss", S_(TCP_ERROR)},
	{"client_half_close_flow", S_(TCP_ERROR)},
	{"server_half_close_flow", S_(TCP_ERROR)},
	{"client_source_port_reuse", S_(TCP_ERROR)},
	{"client_establish_other_rst", S_(TCP_ERROR)},
	{"server_reset", S_(TCP_ERROR)},
	{"server_queue_lack", S_(TCP_ERROR)},
	{"server_establish_other_rst", S_(TCP_ERROR)},
	{"tcp_timeout", S_(TCP_ERROR)},
	{"client_establish_fail", S_(TCP_ERROR)},
	{"server_establish_fail", S_(TCP_ERROR)},
	{"tcp_establish_fail", S_(TCP_ERROR)},
	{"tcp_transfer_fail", S_(TCP_ERROR)},
	{"tcp_rst_fail", S_(TCP_ERROR)},
	{"l7_client_error", S_(APPLICATION)},
	{"l7_server_error", S_(APPLICATION)},
	{"l7_timeout", S_(APPLICATION)},
	{"ooo_tx", S_(NONE)},
	{"ooo_rx", S_(NONE)},
	{"flow_load", S_(L4_THROUGHPUT)},
};

/* §3.4, same order. */
const struct schema_metric schema_app_metrics[SCHEMA_APP_METRICS] = {
	{"request", S_(THROUGHPUT)},
	{"response", S_(THROUGHPUT)},
	{"direction_score", S_(THROUGHPUT)},
	{"rrt_max", S_(DELAY)},
	{"rrt_sum", S_(DELAY)},
	{"rrt_count", S_(DELAY)},
	{"client_error", S_(ERROR)},
	{"server_error", S_(ERROR)},
	{"timeout", S_(ERROR)},
};

/* §1.3: exportable flow_metrics ids; NULL for 4 (traffic policy). */
static const char *const ds_names[SCHEMA_DS_MAX] = {
	[SCHEMA_DS_NETWORK_1M] = "flow_metrics.network.1m",
	[SCHEMA_DS_NETWORK_MAP_1M] = "flow_metrics.network_map.1m",
	[SCHEMA_DS_APPLICATION_1M] = "flow_metrics.application.1m",
	[SCHEMA_DS_APPLICATION_MAP_1M] = "flow_metrics.application_map.1m",
	[SCHEMA_DS_NETWORK_1S] = "flow_metrics.network.1s",
	[SCHEMA_DS_NETWORK_MAP_1S] = "flow_metrics.network_map.1s",
	[SCHEMA_DS_APPLICATION_1S] = "flow_metrics.application.1s",
	[SCHEMA_DS_APPLICATION_MAP_1S] = "flow_metrics.application_map.1s",
};

/* §1.5 sub-category names; custom_tag has none in DeepFlow's lookup table. */
static const char *const subcat_names[SCHEMA_SUB_COUNT] = {
	[SCHEMA_SUB_FLOW_INFO] = "flow_info",
	[SCHEMA_SUB_UNIVERSAL_TAG] = "universal_tag",
	[SCHEMA_SUB_NATIVE_TAG] = "native_tag",
	[SCHEMA_SUB_NETWORK_LAYER] = "network_layer",
	[SCHEMA_SUB_TUNNEL_INFO] = "tunnel_info",
	[SCHEMA_SUB_TRANSPORT_LAYER] = "transport_layer",
	[SCHEMA_SUB_APPLICATION_LAYER] = "application_layer",
	[SCHEMA_SUB_SERVICE_INFO] = "service_info",
	[SCHEMA_SUB_TRACING_INFO] = "tracing_info",
	[SCHEMA_SUB_CAPTURE_INFO] = "capture_info",
	[SCHEMA_SUB_EVENT_INFO] = "event_info",
	[SCHEMA_SUB_DATA_LINK_LAYER] = "data_link_layer",
	[SCHEMA_SUB_L3_THROUGHPUT] = "l3_throughput",
	[SCHEMA_SUB_L4_THROUGHPUT] = "l4_throughput",
	[SCHEMA_SUB_TCP_SLOW] = "tcp_slow",
	[SCHEMA_SUB_TCP_ERROR] = "tcp_error",
	[SCHEMA_SUB_APPLICATION] = "application",
	[SCHEMA_SUB_THROUGHPUT] = "throughput",
	[SCHEMA_SUB_ERROR] = "error",
	[SCHEMA_SUB_DELAY] = "delay",
};

/* §5.1 slot names, in enum schema_ut order. */
static const char *const ut_names[SCHEMA_UT_COUNT] = {
	[SCHEMA_UT_REGION] = "region",
	[SCHEMA_UT_AZ] = "az",
	[SCHEMA_UT_HOST] = "host",
	[SCHEMA_UT_L3_DEVICE_TYPE] = "l3_device_type",
	[SCHEMA_UT_L3_DEVICE] = "l3_device",
	[SCHEMA_UT_POD_NODE] = "pod_node",
	[SCHEMA_UT_POD_NS] = "pod_ns",
	[SCHEMA_UT_POD_GROUP] = "pod_group",
	[SCHEMA_UT_POD] = "pod",
	[SCHEMA_UT_POD_CLUSTER] = "pod_cluster",
	[SCHEMA_UT_L3_EPC] = "l3_epc",
	[SCHEMA_UT_SUBNET] = "subnet",
	[SCHEMA_UT_SERVICE] = "service",
	[SCHEMA_UT_GPROCESS] = "gprocess",
	[SCHEMA_UT_AGENT] = "agent",
	[SCHEMA_UT_AUTO_INSTANCE_TYPE] = "auto_instance_type",
	[SCHEMA_UT_AUTO_INSTANCE] = "auto_instance",
	[SCHEMA_UT_AUTO_SERVICE_TYPE] = "auto_service_type",
	[SCHEMA_UT_AUTO_SERVICE] = "auto_service",
};

int schema_ds_from_name(const char *name, size_t len)
{
	/* Called per ingested row: the length check rejects most candidates. */
	for (int ds = 0; ds < SCHEMA_DS_MAX; ds++) {
		const char *n = ds_names[ds];

		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return ds;
	}
	return -1;
}

const char *schema_ds_name(int ds)
{
	if (ds < 0 || ds >= SCHEMA_DS_MAX)
		return NULL;
	return ds_names[ds];
}

enum schema_family schema_ds_family(int ds)
{
	/* 0..3 and 5..8 map to the four families in the same order. */
	return (enum schema_family)(ds % 5);
}

bool schema_family_is_map(enum schema_family f)
{
	return f == SCHEMA_FAM_NETWORK_MAP || f == SCHEMA_FAM_APPLICATION_MAP;
}

bool schema_family_is_app(enum schema_family f)
{
	return f == SCHEMA_FAM_APPLICATION || f == SCHEMA_FAM_APPLICATION_MAP;
}

const struct schema_metric *schema_metrics(enum schema_family f, int *count)
{
	if (schema_family_is_app(f)) {
		*count = SCHEMA_APP_METRICS;
		return schema_app_metrics;
	}
	*count = SCHEMA_NET_METRICS;
	return schema_net_metrics;
}

const char *schema_tag_label(int tag, enum schema_family f)
{
	const struct schema_tag *t = &schema_tags[tag];

	if (t->map_json && schema_family_is_map(f))
		return t->map_json;
	return t->json;
}

int schema_subcat_from_name(const char *name, size_t len)
{
	for (int i = 0; i < SCHEMA_SUB_COUNT; i++) {
		const char *n = subcat_names[i];

		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return i;
	}
	return -1;
}

const char *schema_subcat_name(int subcat)
{
	if (subcat < 0 || subcat >= SCHEMA_SUB_COUNT)
		return NULL;
	return subcat_names[subcat];
}

bool schema_subcat_is_tag(int subcat)
{
	return subcat >= SCHEMA_SUB_FLOW_INFO && subcat <= SCHEMA_SUB_DATA_LINK_LAYER;
}

const char *schema_ut_name(int slot)
{
	if (slot < 0 || slot >= SCHEMA_UT_COUNT)
		return NULL;
	return ut_names[slot];
}

int schema_tag_by_json(const char *name)
{
	for (int i = 0; i < SCHEMA_TAG_COUNT; i++)
		if (strcmp(schema_tags[i].json, name) == 0)
			return i;
	return -1;
}

int schema_tag_by_any_name(const char *name)
{
	int t = schema_tag_by_json(name);

	if (t >= 0)
		return t;
	for (int i = 0; i < SCHEMA_TAG_COUNT; i++)
		if (schema_tags[i].map_json && strcmp(schema_tags[i].map_json, name) == 0)
			return i;
	return -1;
}

int schema_metric_by_name(enum schema_family f, const char *name, size_t len)
{
	int count;
	const struct schema_metric *m = schema_metrics(f, &count);

	for (int i = 0; i < count; i++)
		if (strlen(m[i].name) == len && memcmp(m[i].name, name, len) == 0)
			return i;
	return -1;
}

/* ---- JSON key index ------------------------------------------------------ */

#define SK_MAX_KEY   40   /* longer keys are never schema keys */
#define SK_MAX_KEYS  320  /* distinct names; ~215 today */
#define SK_SLOTS     512  /* power of two */
#define SK_BUCKETS   128  /* power of two */

struct sk_entry {
	char name[SK_MAX_KEY + 1];
	uint8_t len;
	uint8_t kind[SCHEMA_FAM_COUNT];  /* enum schema_key_kind */
	uint8_t index[SCHEMA_FAM_COUNT];
};

static struct sk_entry sk_entries[SK_MAX_KEYS];
static int sk_n;
static uint16_t sk_slot[SK_SLOTS];      /* entry + 1; 0 = empty */
static uint32_t sk_seed[SK_BUCKETS];

static inline uint64_t sk_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Hash of a key of at most SK_MAX_KEY bytes: 8-byte words, never reads past <len>. */
static inline uint64_t sk_hash(const char *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0x100000001b3ULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * 0x87c37b91114253d5ULL;
		h ^= h >> 29;
		key += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, key, len);
		h = (h ^ w) * 0x87c37b91114253d5ULL;
		h ^= h >> 29;
	}
	return h;
}

static inline uint32_t sk_slot_of(uint64_t h, uint32_t seed)
{
	return (uint32_t)(sk_fmix(h ^ ((uint64_t)seed * 0x9e3779b97f4a7c15ULL)) & (SK_SLOTS - 1));
}

static void sk_die(const char *what, const char *name)
{
	fprintf(stderr, "schema: internal error: %s: %s\n", what, name);
	abort();
}

/* Record that <name> means {kind, index} in families <fams>. */
static void sk_add(const char *name, unsigned fams, enum schema_key_kind kind, int index)
{
	size_t len = strlen(name);
	struct sk_entry *e = NULL;

	if (len > SK_MAX_KEY)
		sk_die("key too long", name);
	for (int i = 0; i < sk_n; i++) {
		if (sk_entries[i].len == len && memcmp(sk_entries[i].name, name, len) == 0) {
			e = &sk_entries[i];
			break;
		}
	}
	if (!e) {
		if (sk_n == SK_MAX_KEYS)
			sk_die("too many keys", name);
		e = &sk_entries[sk_n++];
		memcpy(e->name, name, len + 1);
		e->len = (uint8_t)len;
	}
	for (int f = 0; f < SCHEMA_FAM_COUNT; f++) {
		if (!(fams & SCHEMA_FAM_BIT(f)))
			continue;
		if (e->kind[f] != SCHEMA_KEY_UNKNOWN && (e->kind[f] != kind || e->index[f] != index))
			sk_die("key means two things in one family", name);
		e->kind[f] = (uint8_t)kind;
		e->index[f] = (uint8_t)index;
	}
}

/* DeepFlow's translated key: the first "_id" removed ("pod_id_0" -> "pod_0"). */
static void sk_add_translated(const char *name, unsigned fams, int tag)
{
	char buf[SK_MAX_KEY + 1];
	const char *p = strstr(name, "_id");
	size_t pre;

	if (!p)
		return;
	pre = (size_t)(p - name);
	if (strlen(name) > SK_MAX_KEY)
		sk_die("key too long", name);
	memcpy(buf, name, pre);
	strcpy(buf + pre, p + 3);
	sk_add(buf, fams, SCHEMA_KEY_TAG, tag);
}

static bool sk_place(const int *members, int n, uint32_t seed, uint16_t *taken)
{
	for (int i = 0; i < n; i++) {
		const struct sk_entry *e = &sk_entries[members[i]];
		uint32_t s = sk_slot_of(sk_hash(e->name, e->len), seed);

		if (sk_slot[s] || taken[s])
			return false;
		taken[s] = 1;
	}
	return true;
}

/* Build the entry list from the tables, then the hash-and-displace index. */
__attribute__((constructor)) static void sk_build(void)
{
	static int bucket_of[SK_MAX_KEYS];
	static int members[SK_MAX_KEYS];
	static uint16_t taken[SK_SLOTS];
	int count[SK_BUCKETS] = {0};
	int order[SK_BUCKETS];

	sk_add("datasource", F_ALL, SCHEMA_KEY_DATASOURCE, 0);
	sk_add("time", F_ALL, SCHEMA_KEY_TIME, SCHEMA_TAG_TIME);
	sk_add("time_str", F_ALL, SCHEMA_KEY_IGNORED, 0);
	for (int t = 1; t < SCHEMA_TAG_COUNT; t++) {
		const struct schema_tag *st = &schema_tags[t];
		unsigned fams = st->families;

		sk_add(st->json, fams, SCHEMA_KEY_TAG, t);
		if (st->map_json)
			sk_add(st->map_json, fams & F_MAP, SCHEMA_KEY_TAG, t);
		if (st->ut_slot != SCHEMA_UT_NONE) {
			sk_add_translated(st->json, fams, t);
			if (st->map_json)
				sk_add_translated(st->map_json, fams & F_MAP, t);
		}
	}
	for (int i = 0; i < SCHEMA_NET_METRICS; i++)
		sk_add(schema_net_metrics[i].name, F_N | F_NM, SCHEMA_KEY_METRIC, i);
	for (int i = 0; i < SCHEMA_APP_METRICS; i++)
		sk_add(schema_app_metrics[i].name, F_APP, SCHEMA_KEY_METRIC, i);

	for (int i = 0; i < sk_n; i++) {
		bucket_of[i] = (int)(sk_hash(sk_entries[i].name, sk_entries[i].len) & (SK_BUCKETS - 1));
		count[bucket_of[i]]++;
	}
	/* Place the fullest buckets first: they are the hardest to fit. */
	for (int b = 0; b < SK_BUCKETS; b++)
		order[b] = b;
	for (int i = 1; i < SK_BUCKETS; i++)
		for (int j = i; j > 0 && count[order[j]] > count[order[j - 1]]; j--) {
			int x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (int k = 0; k < SK_BUCKETS && count[order[k]]; k++) {
		int b = order[k], n = 0;
		uint32_t seed;

		for (int i = 0; i < sk_n; i++)
			if (bucket_of[i] == b)
				members[n++] = i;
		for (seed = 1; seed < 1000000; seed++) {
			memset(taken, 0, sizeof(taken));
			if (sk_place(members, n, seed, taken))
				break;
		}
		if (seed == 1000000)
			sk_die("no perfect hash seed", sk_entries[members[0]].name);
		sk_seed[b] = seed;
		for (int i = 0; i < n; i++) {
			const struct sk_entry *e = &sk_entries[members[i]];

			sk_slot[sk_slot_of(sk_hash(e->name, e->len), seed)] = (uint16_t)(members[i] + 1);
		}
	}
}

enum schema_key_kind schema_lookup_key(enum schema_family f, const char *key, size_t len,
				       int *index)
{
	const struct sk_entry *e;
	uint64_t h;
	uint16_t s;

	if (len - 1 < SK_MAX_KEY) { /* 1..SK_MAX_KEY */
		h = sk_hash(key, len);
		s = sk_slot[sk_slot_of(h, sk_seed[h & (SK_BUCKETS - 1)])];
		if (s) {
			e = &sk_entries[s - 1];
			if (e->len == len && memcmp(e->name, key, len) == 0 &&
			    e->kind[f] != SCHEMA_KEY_UNKNOWN) {
				*index = e->index[f];
				return (enum schema_key_kind)e->kind[f];
			}
		}
	}
	/* k8s_label_names(_0|_1), k8s_label_values(_0|_1): arrays DeepFlow adds. */
	if (len >= 10 && memcmp(key, "k8s_label_", 10) == 0)
		return SCHEMA_KEY_IGNORED;
	return SCHEMA_KEY_UNKNOWN;
}

int schema_key_count(void)
{
	return sk_n;
}
