/* SPDX-License-Identifier: MIT */
/* schema.h: DeepFlow flow_metrics data sources, tag fields and metric fields. */
#ifndef FLOWRW_SCHEMA_H
#define FLOWRW_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DeepFlow data source ids (spec/deepflow-exporter.md §1.3). */
enum schema_ds {
	SCHEMA_DS_NETWORK_1M = 0,
	SCHEMA_DS_NETWORK_MAP_1M = 1,
	SCHEMA_DS_APPLICATION_1M = 2,
	SCHEMA_DS_APPLICATION_MAP_1M = 3,
	SCHEMA_DS_NETWORK_1S = 5,
	SCHEMA_DS_NETWORK_MAP_1S = 6,
	SCHEMA_DS_APPLICATION_1S = 7,
	SCHEMA_DS_APPLICATION_MAP_1S = 8,
	SCHEMA_DS_MAX = 9, /* ids are < this; 4 is never exported */
};

enum schema_family {
	SCHEMA_FAM_NETWORK = 0,
	SCHEMA_FAM_NETWORK_MAP,
	SCHEMA_FAM_APPLICATION,
	SCHEMA_FAM_APPLICATION_MAP,
	SCHEMA_FAM_COUNT, /* number of families */
};

#define SCHEMA_FAM_BIT(f) (1U << (f))

/* How a tag's raw value is held and rendered. */
enum schema_kind {
	SCHEMA_KIND_UINT = 0, /* unsigned integer, decimal */
	SCHEMA_KIND_INT,      /* signed integer (l3_epc_id), decimal */
	SCHEMA_KIND_IP4,      /* uint32, dotted quad */
	SCHEMA_KIND_IP6,      /* 16 bytes, canonical text */
	SCHEMA_KIND_STRING,   /* bytes as given */
};

/* Sub-categories (DeepFlow's category bits, §1.5). */
enum schema_subcat {
	SCHEMA_SUB_NONE = 0,
	SCHEMA_SUB_FLOW_INFO,
	SCHEMA_SUB_UNIVERSAL_TAG,
	SCHEMA_SUB_CUSTOM_TAG,
	SCHEMA_SUB_NATIVE_TAG,
	SCHEMA_SUB_NETWORK_LAYER,
	SCHEMA_SUB_TUNNEL_INFO,
	SCHEMA_SUB_TRANSPORT_LAYER,
	SCHEMA_SUB_APPLICATION_LAYER,
	SCHEMA_SUB_SERVICE_INFO,
	SCHEMA_SUB_TRACING_INFO,
	SCHEMA_SUB_CAPTURE_INFO,
	SCHEMA_SUB_EVENT_INFO,
	SCHEMA_SUB_DATA_LINK_LAYER,
	SCHEMA_SUB_L3_THROUGHPUT,
	SCHEMA_SUB_L4_THROUGHPUT,
	SCHEMA_SUB_TCP_SLOW,
	SCHEMA_SUB_TCP_ERROR,
	SCHEMA_SUB_APPLICATION,
	SCHEMA_SUB_THROUGHPUT,
	SCHEMA_SUB_ERROR,
	SCHEMA_SUB_DELAY,
	SCHEMA_SUB_COUNT, /* number of sub-categories */
};

/* Enum tables (§4.2); SCHEMA_ENUM_NONE for fields without an enumfile. */
enum schema_enum {
	SCHEMA_ENUM_NONE = 0,
	SCHEMA_ENUM_ROLE,
	SCHEMA_ENUM_OBSERVATION_POINT,
	SCHEMA_ENUM_PROTOCOL,
	SCHEMA_ENUM_L7_PROTOCOL,
	SCHEMA_ENUM_SIGNAL_SOURCE,
	SCHEMA_ENUM_CAPTURE_NIC_TYPE,
	SCHEMA_ENUM_NAT_SOURCE,
	SCHEMA_ENUM_TUNNEL_TYPE,
	SCHEMA_ENUM_COUNT, /* number of enums */
};

/* Universal-tag slots (§5.1); SCHEMA_UT_NONE for ordinary fields. */
enum schema_ut {
	SCHEMA_UT_NONE = 0,
	SCHEMA_UT_REGION,
	SCHEMA_UT_AZ,
	SCHEMA_UT_HOST,
	SCHEMA_UT_L3_DEVICE_TYPE,
	SCHEMA_UT_L3_DEVICE,
	SCHEMA_UT_POD_NODE,
	SCHEMA_UT_POD_NS,
	SCHEMA_UT_POD_GROUP,
	SCHEMA_UT_POD,
	SCHEMA_UT_POD_CLUSTER,
	SCHEMA_UT_L3_EPC,
	SCHEMA_UT_SUBNET,
	SCHEMA_UT_SERVICE,
	SCHEMA_UT_GPROCESS,
	SCHEMA_UT_AGENT,
	SCHEMA_UT_AUTO_INSTANCE_TYPE,
	SCHEMA_UT_AUTO_INSTANCE,
	SCHEMA_UT_AUTO_SERVICE_TYPE,
	SCHEMA_UT_AUTO_SERVICE,
	SCHEMA_UT_COUNT, /* number of slots */
};

/* One tag field: a row of spec/deepflow-exporter.md §3.1.  The index of a
 * field in schema_tags[] is its id everywhere (raw rows, filters, labels). */
struct schema_tag {
	const char *json;      /* json name, e.g. "pod_id" */
	const char *map_json;  /* name in map families, or NULL */
	uint8_t kind;          /* enum schema_kind */
	uint8_t subcat;        /* enum schema_subcat */
	uint8_t enum_id;       /* enum schema_enum */
	uint8_t ut_slot;       /* enum schema_ut */
	uint8_t families;      /* SCHEMA_FAM_BIT() of the families that have it */
	uint8_t side;          /* 0, or 1 for the *_1 fields */
};

struct schema_metric {
	const char *name;      /* json name == __name__ */
	uint8_t subcat;        /* enum schema_subcat */
};

#define SCHEMA_TAG_COUNT       61 /* rows of §3.1, `time` and ip6* included */
#define SCHEMA_NET_METRICS     65
#define SCHEMA_APP_METRICS     9
#define SCHEMA_MAX_METRICS     65
#define SCHEMA_TAG_TIME        0  /* index of `time` in schema_tags[] */

/* Tag ids (= index in schema_tags[], = row of §3.1 minus one), for code
 * that needs one field by name (rendering, utag, tests). */
enum schema_tag_id {
	SCHEMA_T_TIME = 0,
	SCHEMA_T_THREAD_ID,
	SCHEMA_T_IP6,
	SCHEMA_T_IP4,
	SCHEMA_T_L3_EPC_ID,
	SCHEMA_T_L3_DEVICE_ID,
	SCHEMA_T_L3_DEVICE_TYPE,
	SCHEMA_T_REGION_ID,
	SCHEMA_T_SUBNET_ID,
	SCHEMA_T_HOST_ID,
	SCHEMA_T_POD_NODE_ID,
	SCHEMA_T_AZ_ID,
	SCHEMA_T_POD_GROUP_ID,
	SCHEMA_T_POD_NS_ID,
	SCHEMA_T_POD_ID,
	SCHEMA_T_POD_CLUSTER_ID,
	SCHEMA_T_SERVICE_ID,
	SCHEMA_T_AUTO_INSTANCE_ID,
	SCHEMA_T_AUTO_INSTANCE_TYPE,
	SCHEMA_T_AUTO_SERVICE_ID,
	SCHEMA_T_AUTO_SERVICE_TYPE,
	SCHEMA_T_GPROCESS_ID,
	SCHEMA_T_IP6_1,
	SCHEMA_T_IP4_1,
	SCHEMA_T_L3_EPC_ID_1,
	SCHEMA_T_L3_DEVICE_ID_1,
	SCHEMA_T_L3_DEVICE_TYPE_1,
	SCHEMA_T_REGION_ID_1,
	SCHEMA_T_SUBNET_ID_1,
	SCHEMA_T_HOST_ID_1,
	SCHEMA_T_POD_NODE_ID_1,
	SCHEMA_T_AZ_ID_1,
	SCHEMA_T_POD_GROUP_ID_1,
	SCHEMA_T_POD_NS_ID_1,
	SCHEMA_T_POD_ID_1,
	SCHEMA_T_POD_CLUSTER_ID_1,
	SCHEMA_T_SERVICE_ID_1,
	SCHEMA_T_AUTO_INSTANCE_ID_1,
	SCHEMA_T_AUTO_INSTANCE_TYPE_1,
	SCHEMA_T_AUTO_SERVICE_ID_1,
	SCHEMA_T_AUTO_SERVICE_TYPE_1,
	SCHEMA_T_GPROCESS_ID_1,
	SCHEMA_T_ROLE,
	SCHEMA_T_PROTOCOL,
	SCHEMA_T_SERVER_PORT,
	SCHEMA_T_AGENT_ID,
	SCHEMA_T_ORG_ID,
	SCHEMA_T_TEAM_ID,
	SCHEMA_T_CAPTURE_NIC,
	SCHEMA_T_CAPTURE_NIC_TYPE,
	SCHEMA_T_NAT_SOURCE,
	SCHEMA_T_TUNNEL_TYPE,
	SCHEMA_T_OBSERVATION_POINT,
	SCHEMA_T_CAPTURE_NETWORK_TYPE_ID,
	SCHEMA_T_IS_IPV4,
	SCHEMA_T_L7_PROTOCOL,
	SCHEMA_T_APP_SERVICE,
	SCHEMA_T_APP_INSTANCE,
	SCHEMA_T_ENDPOINT,
	SCHEMA_T_BIZ_TYPE,
	SCHEMA_T_SIGNAL_SOURCE,
	SCHEMA_T_COUNT, /* == SCHEMA_TAG_COUNT */
};

extern const struct schema_tag schema_tags[SCHEMA_TAG_COUNT];
extern const struct schema_metric schema_net_metrics[SCHEMA_NET_METRICS];
extern const struct schema_metric schema_app_metrics[SCHEMA_APP_METRICS];

/* "flow_metrics.network_map.1s" -> 6; -1 when unknown or not exportable. */
int schema_ds_from_name(const char *name, size_t len);
/* 6 -> "flow_metrics.network_map.1s"; NULL for ids without a name. */
const char *schema_ds_name(int ds);
/* Family of a data source id (valid ids only). */
enum schema_family schema_ds_family(int ds);
bool schema_family_is_map(enum schema_family f);
bool schema_family_is_app(enum schema_family f);

/* Metrics of a family: the table and its length. */
const struct schema_metric *schema_metrics(enum schema_family f, int *count);

/* Label name of tag <tag> in family <f>: map_json for map families when the
 * field has one, else json (DeepFlow §2.2). */
const char *schema_tag_label(int tag, enum schema_family f);
static inline bool schema_tag_in_family(int tag, enum schema_family f)
{
	return (schema_tags[tag].families & SCHEMA_FAM_BIT(f)) != 0;
}

/* What a key of a DeepFlow JSON row is (spec/json-keys-to-labels.md). */
enum schema_key_kind {
	SCHEMA_KEY_UNKNOWN = 0,
	SCHEMA_KEY_DATASOURCE,
	SCHEMA_KEY_TIME,
	SCHEMA_KEY_TAG,        /* *index = tag id */
	SCHEMA_KEY_METRIC,     /* *index = metric index in the family */
	SCHEMA_KEY_IGNORED,    /* time_str, k8s_label_* arrays */
};

/* Classify JSON key <key> (not NUL-terminated) for family <f>.  Accepts the
 * Kafka JSON names (pod_0, l3_epc, agent), the untranslated id names
 * (pod_id_0, agent_id) and the map_json names. */
enum schema_key_kind schema_lookup_key(enum schema_family f, const char *key, size_t len,
				       int *index);

/* Sub-category by bare name ("flow_info", "delay"); -1 when unknown. */
int schema_subcat_from_name(const char *name, size_t len);
/* Is the sub-category a $tag one (else $metrics)? */
bool schema_subcat_is_tag(int subcat);

/* Tag id by json name (filters bind to json names, §1.6); -1 when none. */
int schema_tag_by_json(const char *name);

/* Name of a sub-category ("flow_info"); NULL for custom_tag and NONE. */
const char *schema_subcat_name(int subcat);

/* Name of a universal-tag slot ("pod", "l3_device_type"); NULL for NONE. */
const char *schema_ut_name(int slot);

/* Metric index by name in family <f>; -1 when the family has none. */
int schema_metric_by_name(enum schema_family f, const char *name, size_t len);

/* Tag id whose json OR map_json name is <name> (filters accept both,
 * flowrw extension of §1.6); -1 when none. */
int schema_tag_by_any_name(const char *name);

/* Number of distinct names schema_lookup_key() knows (tests, stats). */
int schema_key_count(void);

#endif
