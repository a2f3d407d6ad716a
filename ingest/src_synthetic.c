/* SPDX-License-Identifier: MIT */
/* src_synthetic.c: realistic, seeded DeepFlow rows of any data source, and the source around it. */
#include "ingest/src_synthetic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "ingest/ingest.h"

/* --- the model ---------------------------------------------------------------- */

struct workload {
	const char *name;
	const char *ns;
	const char *process;
	uint16_t port;
	const char *l7;          /* l7_protocol display name */
	const char *endpoint;
};

/* Servers (and, all but the data stores, callers too). */
static const struct workload workloads[] = {
	{ "frontend", "shop", "frontend", 8080, "HTTP", "/cart" },
	{ "cartservice", "shop", "cartservice", 7070, "gRPC", "hipstershop.CartService/GetCart" },
	{ "checkoutservice", "shop", "checkoutservice", 5050, "gRPC", "hipstershop.CheckoutService/PlaceOrder" },
	{ "productcatalogservice", "shop", "productcatalogservice", 3550, "gRPC",
	  "hipstershop.ProductCatalogService/ListProducts" },
	{ "currencyservice", "shop", "node", 7000, "gRPC", "hipstershop.CurrencyService/Convert" },
	{ "paymentservice", "payments", "node", 50051, "gRPC", "hipstershop.PaymentService/Charge" },
	{ "emailservice", "shop", "python", 5000, "gRPC", "hipstershop.EmailService/SendOrderConfirmation" },
	{ "recommendationservice", "shop", "python", 8080, "gRPC",
	  "hipstershop.RecommendationService/ListRecommendations" },
	{ "shippingservice", "shop", "shippingservice", 50051, "gRPC", "hipstershop.ShippingService/GetQuote" },
	{ "adservice", "shop", "java", 9555, "gRPC", "hipstershop.AdService/GetAds" },
	{ "auth-api", "auth", "auth-api", 8443, "HTTP", "/v1/token" },
	{ "search-api", "search", "search-api", 9200, "HTTP", "/products/_search" },
	{ "redis-cart", "shop", "redis-server", 6379, "Redis", "GET" },
	{ "mysql", "data", "mysqld", 3306, "MySQL", "SELECT" },
	{ "kafka", "data", "java", 9092, "Kafka", "Produce" },
	{ "coredns", "kube-system", "coredns", 53, "DNS", "A" },
};
#define N_WORKLOADS   (sizeof(workloads) / sizeof(workloads[0]))
#define N_CALLERS     (N_WORKLOADS - 4) /* the data stores and DNS call nobody */

static const char *const regions[] = { "cn-north-1", "cn-east-2", "us-west-1" };
static const char *const vpcs[] = { "vpc-prod-north", "vpc-prod-east", "vpc-prod-west" };
static const char *const vm_roles[] = { "billing", "legacy-erp", "bastion", "etl", "jenkins", "ldap" };
static const uint8_t inet_octets[] = { 3, 13, 18, 34, 35, 52, 54, 104 };

/* How a metric's value is drawn, from its name. */
enum gen {
	GEN_RARE = 0,     /* error counters: mostly 0 */
	GEN_PACKETS,
	GEN_BYTES,
	GEN_L3_BYTES,
	GEN_L4_BYTES,
	GEN_FLOWS,
	GEN_REQUESTS,
	GEN_DIRECTION,
	GEN_LAT_MAX,
	GEN_LAT_SUM,
	GEN_LAT_COUNT,
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static enum gen gen_of(const char *name)
{
	if (strncmp(name, "packet_", 7) == 0)
		return GEN_PACKETS;
	if (strncmp(name, "byte_", 5) == 0)
		return GEN_BYTES;
	if (strncmp(name, "l3_byte_", 8) == 0)
		return GEN_L3_BYTES;
	if (strncmp(name, "l4_byte_", 8) == 0)
		return GEN_L4_BYTES;
	if (!strcmp(name, "new_flow") || !strcmp(name, "closed_flow") || !strcmp(name, "syn_count") ||
	    !strcmp(name, "synack_count") || !strcmp(name, "flow_load"))
		return GEN_FLOWS;
	if (!strcmp(name, "l7_request") || !strcmp(name, "l7_response") || !strcmp(name, "request") ||
	    !strcmp(name, "response"))
		return GEN_REQUESTS;
	if (!strcmp(name, "direction_score"))
		return GEN_DIRECTION;
	if (ends_with(name, "_max"))
		return GEN_LAT_MAX;
	if (ends_with(name, "_sum"))
		return GEN_LAT_SUM;
	if (ends_with(name, "_count"))
		return GEN_LAT_COUNT;
	return GEN_RARE;
}

uint32_t synth_period(int ds)
{
	return ds <= SCHEMA_DS_APPLICATION_MAP_1M ? 60 : 1;
}

int synth_init(struct synth *g, int ds, uint64_t seed, uint64_t series, uint64_t rows, uint64_t rate)
{
	const struct schema_metric *mt;

	memset(g, 0, sizeof(*g));
	if (ds < 0 || ds >= SCHEMA_DS_MAX || !schema_ds_name(ds) || series < 1)
		return -EINVAL;
	g->ds = ds;
	g->fam = schema_ds_family(ds);
	g->period = synth_period(ds);
	g->seed = seed;
	g->series = series;
	g->rows = rows;
	g->rate = rate;
	mt = schema_metrics(g->fam, &g->n_metrics);
	for (int i = 0; i < g->n_metrics; i++)
		g->metric_gen[i] = (uint8_t)gen_of(mt[i].name);
	return 0;
}

void synth_seek(struct synth *g, uint64_t k)
{
	g->next = k;
	g->pace_ms = 0;
}

/* The i-th random word of stream <x>. */
static inline uint64_t rnd(uint64_t x, uint64_t i)
{
	return hash_mix64(x + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

static void set_s(struct synth *g, struct rowb *b, int tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Set string tag <tag> (if the family has it) to a formatted value. */
static void set_s(struct synth *g, struct rowb *b, int tag, const char *fmt, ...)
{
	char *p = g->str + g->str_len;
	size_t room = sizeof(g->str) - g->str_len;
	va_list ap;
	int n;

	if (!schema_tag_in_family(tag, g->fam))
		return;
	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return;
	g->str_len += (size_t)n + 1;
	rowb_set_str(b, tag, p, (size_t)n);
}

static void set_n(struct synth *g, struct rowb *b, int tag, int64_t v)
{
	if (schema_tag_in_family(tag, g->fam))
		rowb_set_num(b, tag, v);
}

/* 24-bit bijection of the series number: distinct series, distinct IPs. */
static uint32_t perm24(uint64_t s, uint64_t seed)
{
	return (uint32_t)(((s + seed) * 0x9e3779b1ULL) & 0xffffff);
}

/* A short lowercase alphanumeric id, like a pod-template hash. */
static const char *alnum(char *buf, int n, uint64_t x)
{
	static const char set[] = "bcdfghjklmnpqrstvwxz2456789";

	for (int i = 0; i < n; i++) {
		buf[i] = set[x % (sizeof(set) - 1)];
		x /= sizeof(set) - 1;
	}
	buf[n] = 0;
	return buf;
}

/* Tag ids of one side: side 0 = the single-side names or *_0, side 1 = *_1. */
struct side_ids {
	int ip4, l3_epc, l3_device, l3_device_type, region, subnet, host, pod_node, az, pod_group, pod_ns,
	    pod, pod_cluster, service, auto_instance, auto_instance_type, auto_service, auto_service_type,
	    gprocess;
};

static const struct side_ids side_ids[2] = {
	{ SCHEMA_T_IP4, SCHEMA_T_L3_EPC_ID, SCHEMA_T_L3_DEVICE_ID, SCHEMA_T_L3_DEVICE_TYPE, SCHEMA_T_REGION_ID,
	  SCHEMA_T_SUBNET_ID, SCHEMA_T_HOST_ID, SCHEMA_T_POD_NODE_ID, SCHEMA_T_AZ_ID, SCHEMA_T_POD_GROUP_ID,
	  SCHEMA_T_POD_NS_ID, SCHEMA_T_POD_ID, SCHEMA_T_POD_CLUSTER_ID, SCHEMA_T_SERVICE_ID,
	  SCHEMA_T_AUTO_INSTANCE_ID, SCHEMA_T_AUTO_INSTANCE_TYPE, SCHEMA_T_AUTO_SERVICE_ID,
	  SCHEMA_T_AUTO_SERVICE_TYPE, SCHEMA_T_GPROCESS_ID },
	{ SCHEMA_T_IP4_1, SCHEMA_T_L3_EPC_ID_1, SCHEMA_T_L3_DEVICE_ID_1, SCHEMA_T_L3_DEVICE_TYPE_1,
	  SCHEMA_T_REGION_ID_1, SCHEMA_T_SUBNET_ID_1, SCHEMA_T_HOST_ID_1, SCHEMA_T_POD_NODE_ID_1,
	  SCHEMA_T_AZ_ID_1, SCHEMA_T_POD_GROUP_ID_1, SCHEMA_T_POD_NS_ID_1, SCHEMA_T_POD_ID_1,
	  SCHEMA_T_POD_CLUSTER_ID_1, SCHEMA_T_SERVICE_ID_1, SCHEMA_T_AUTO_INSTANCE_ID_1,
	  SCHEMA_T_AUTO_INSTANCE_TYPE_1, SCHEMA_T_AUTO_SERVICE_ID_1, SCHEMA_T_AUTO_SERVICE_TYPE_1,
	  SCHEMA_T_GPROCESS_ID_1 },
};

/* A pod of workload <w> (NULL = the load generator), replica from <h>. */
static void put_pod(struct synth *g, struct rowb *b, const struct side_ids *id, const struct workload *w,
		    uint64_t h, uint32_t ip, char *node_out, size_t node_cap)
{
	const char *name = w ? w->name : "loadgenerator";
	int r = (int)(h % 3), zone = (int)((h >> 8) % 3);
	char rs[12], suf[8], az[24], node[40];
	uint64_t agent_id = 1 + (h >> 24) % 200;

	alnum(rs, 9, rnd(h, 1) ^ (uint64_t)(w ? w - workloads : 99));
	alnum(suf, 5, rnd(h, 2));
	snprintf(az, sizeof(az), "%s%c", regions[r], 'a' + zone);
	snprintf(node, sizeof(node), "prod-%c-node-%03u", 'a' + r, (unsigned)((h >> 12) % 60));
	set_n(g, b, id->ip4, ip);
	set_s(g, b, id->l3_epc, "%s", vpcs[r]);
	set_s(g, b, id->l3_device, "%s-%s-%s", name, rs, suf);
	set_s(g, b, id->l3_device_type, "pod");
	set_s(g, b, id->region, "%s", regions[r]);
	set_s(g, b, id->subnet, "subnet-pods-%s", az);
	set_s(g, b, id->host, "hv-%s-%02u", az, (unsigned)((h >> 18) % 16));
	set_s(g, b, id->pod_node, "%s", node);
	set_s(g, b, id->az, "%s", az);
	set_s(g, b, id->pod_group, "%s", name);
	set_s(g, b, id->pod_ns, "%s", w ? w->ns : "shop");
	set_s(g, b, id->pod, "%s-%s-%s", name, rs, suf);
	set_s(g, b, id->pod_cluster, "k8s-prod-%c", 'a' + r);
	set_s(g, b, id->service, "%s", name);
	set_s(g, b, id->auto_instance, "%s-%s-%s", name, rs, suf);
	set_s(g, b, id->auto_instance_type, "pod");
	set_s(g, b, id->auto_service, "%s", name);
	set_s(g, b, id->auto_service_type, "pod_service");
	set_s(g, b, id->gprocess, "%s", w ? w->process : "locust");
	if (node_out)
		snprintf(node_out, node_cap, "%s-V%" PRIu64, node, agent_id);
}

static void put_vm(struct synth *g, struct rowb *b, const struct side_ids *id, uint64_t h, uint32_t ip,
		   char *agent_out, size_t agent_cap)
{
	int r = (int)(h % 3), zone = (int)((h >> 8) % 3);
	const char *role = vm_roles[(h >> 16) % (sizeof(vm_roles) / sizeof(vm_roles[0]))];
	unsigned n = (unsigned)((h >> 24) % 40);
	char az[24];

	snprintf(az, sizeof(az), "%s%c", regions[r], 'a' + zone);
	set_n(g, b, id->ip4, ip);
	set_s(g, b, id->l3_epc, "%s", vpcs[r]);
	set_s(g, b, id->l3_device, "vm-%s-%03u", role, n);
	set_s(g, b, id->l3_device_type, "chost");
	set_s(g, b, id->region, "%s", regions[r]);
	set_s(g, b, id->subnet, "subnet-vms-%s", az);
	set_s(g, b, id->host, "hv-%s-%02u", az, (unsigned)((h >> 32) % 16));
	set_s(g, b, id->az, "%s", az);
	set_s(g, b, id->auto_instance, "vm-%s-%03u", role, n);
	set_s(g, b, id->auto_instance_type, "chost");
	set_s(g, b, id->auto_service, "vm-%s-%03u", role, n);
	set_s(g, b, id->auto_service_type, "chost");
	set_s(g, b, id->gprocess, "%s", (h >> 40) & 1 ? "java" : "python3");
	if (agent_out)
		snprintf(agent_out, agent_cap, "vm-%s-%03u-V%u", role, n, 300 + n);
}

static void put_internet(struct synth *g, struct rowb *b, const struct side_ids *id, uint32_t ip)
{
	set_n(g, b, id->ip4, ip);
	set_s(g, b, id->l3_device_type, "internet_ip");
	set_s(g, b, id->auto_instance, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	set_s(g, b, id->auto_instance_type, "internet_ip");
	set_s(g, b, id->auto_service, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	set_s(g, b, id->auto_service_type, "internet_ip");
}

static double metric_value(enum gen gen, uint64_t r, double act, bool client, uint32_t period)
{
	double pk = act * (8 + (double)(r % 9)) * period;
	double size = 80 + (double)((r >> 8) % 1320);
	double req = act * (1 + (double)((r >> 20) % 3)) * period;
	double lat = 150 + (double)((r >> 28) % 20000);
	double cnt = 1 + (double)((r >> 44) % 8) * (period > 1 ? 20 : 1);

	switch (gen) {
	case GEN_PACKETS: return pk;
	case GEN_BYTES: return (double)(uint64_t)(pk * size);
	case GEN_L3_BYTES: return (double)(uint64_t)(pk * size * 0.94);
	case GEN_L4_BYTES: return (double)(uint64_t)(pk * size * 0.83);
	case GEN_FLOWS: return 1 + (double)((r >> 12) % 4) * (period > 1 ? 12 : 1);
	case GEN_REQUESTS: return req;
	case GEN_DIRECTION: return client ? 255 : 63;
	case GEN_LAT_MAX: return lat;
	case GEN_LAT_SUM: return (double)(uint64_t)(lat * cnt * 0.55);
	case GEN_LAT_COUNT: return cnt;
	case GEN_RARE: default: return (r >> 52) % 40 == 0 ? 1 + (double)((r >> 58) % 3) : 0;
	}
}

void synth_row(struct synth *g, uint64_t k, uint32_t t, struct rowb *b)
{
	uint64_t s = k % g->series;
	uint64_t h = rnd(g->seed ^ 0x73796e7468ULL, s);     /* the series' own dice */
	uint64_t hs = rnd(h, 7);                           /* its server's dice */
	uint64_t hm = rnd(h ^ ((uint64_t)t * 0xd1b54a32d192ed03ULL), 11); /* this sample's */
	bool map = schema_family_is_map(g->fam), app = schema_family_is_app(g->fam);
	unsigned kind = (unsigned)(h % 10);                /* 0-6 pod, 7-8 VM, 9 Internet */
	const struct workload *client_w = NULL, *server_w;
	bool client = true, ebpf = (h >> 50) % 5 < 2;
	uint32_t ip = perm24(s, g->seed);
	char agent[64] = "";
	double act = 1 + (double)((h >> 44) % 50);

	g->str_len = 0;
	rowb_reset(b);
	rowb_set_ds(b, g->ds);
	rowb_set_time(b, t);
	server_w = &workloads[hs % N_WORKLOADS];
	if (kind < 7) {
		uint64_t c = (h >> 4) % (N_CALLERS + 1);

		client_w = c < N_CALLERS ? &workloads[c] : NULL;
		put_pod(g, b, &side_ids[0], client_w, h, 10u << 24 | ip, agent, sizeof(agent));
	} else if (kind < 9) {
		put_vm(g, b, &side_ids[0], h, 10u << 24 | ip, agent, sizeof(agent));
	} else {
		put_internet(g, b, &side_ids[0], (uint32_t)inet_octets[(h >> 4) % sizeof(inet_octets)] << 24 | ip);
	}
	if (map) {
		uint64_t replica = (hs >> 8) % 3;
		uint32_t sip = 10u << 24 | (uint32_t)(32 + (hs % N_WORKLOADS)) << 16 | (uint32_t)replica << 8 | 11;

		put_pod(g, b, &side_ids[1], server_w, rnd(hs, replica), sip, agent[0] ? NULL : agent, sizeof(agent));
	} else if ((h >> 36) % 4 == 0 && client_w) {
		/* A quarter of single-side rows are the server side of a pod. */
		client = false;
		server_w = client_w;
	}
	if (!agent[0])
		snprintf(agent, sizeof(agent), "prod-a-node-%03u-V%u", (unsigned)(hs % 60), (unsigned)(1 + hs % 200));

	set_n(g, b, SCHEMA_T_THREAD_ID, 1 + (int64_t)((h >> 40) % 4));
	set_s(g, b, SCHEMA_T_ROLE, client ? "Client" : "Server");
	set_s(g, b, SCHEMA_T_PROTOCOL, server_w->port == 53 ? "UDP" : "TCP");
	set_n(g, b, SCHEMA_T_SERVER_PORT, server_w->port);
	set_s(g, b, SCHEMA_T_AGENT_ID, "%s", agent);
	set_n(g, b, SCHEMA_T_ORG_ID, 1);
	set_n(g, b, SCHEMA_T_TEAM_ID, 1);
	if (map) {
		set_n(g, b, SCHEMA_T_CAPTURE_NIC, ebpf ? 0 : (int64_t)(0x10000 | (hs >> 20) % 4096));
		set_s(g, b, SCHEMA_T_CAPTURE_NIC_TYPE, ebpf ? "eBPF" : "Local NIC");
		set_s(g, b, SCHEMA_T_NAT_SOURCE, "NONE");
		set_s(g, b, SCHEMA_T_TUNNEL_TYPE, (h >> 56) % 4 == 0 ? "VXLAN" : "N/A");
		set_s(g, b, SCHEMA_T_OBSERVATION_POINT, "%s",
		      ebpf ? ((h >> 58) & 1 ? "Server Process" : "Client Process")
			   : ((h >> 58) & 1 ? "Server NIC" : "Client K8s Node"));
	}
	set_n(g, b, SCHEMA_T_CAPTURE_NETWORK_TYPE_ID, 3);
	set_n(g, b, SCHEMA_T_IS_IPV4, 1);
	if (app) {
		set_s(g, b, SCHEMA_T_L7_PROTOCOL, "%s", server_w->l7);
		set_s(g, b, SCHEMA_T_APP_SERVICE, "%s", server_w->name);
		set_s(g, b, SCHEMA_T_APP_INSTANCE, "%s-%u", server_w->name, (unsigned)((hs >> 8) % 3));
		set_s(g, b, SCHEMA_T_ENDPOINT, "%s", server_w->endpoint);
		set_n(g, b, SCHEMA_T_BIZ_TYPE, 0);
	}
	set_s(g, b, SCHEMA_T_SIGNAL_SOURCE, ebpf ? "eBPF" : "Packet");

	for (int i = 0; i < g->n_metrics; i++)
		rowb_set_metric(b, i, metric_value((enum gen)g->metric_gen[i], rnd(hm, (uint64_t)i), act, client,
						   g->period));
	b->dups = 0;
}

int synth_due(struct synth *g, int64_t mono_ms, int64_t wall_ms, uint32_t *t, int64_t *wake_ms)
{
	uint32_t aligned = (uint32_t)(wall_ms / 1000 / g->period * g->period);

	if (g->rows && g->next >= g->rows)
		return -1;
	if (g->next % g->series == 0 && g->last_ts && aligned <= g->last_ts) {
		/* A new round: wait for the next period. */
		*wake_ms = mono_ms + ((int64_t)(g->last_ts + g->period) * 1000 - wall_ms);
		if (*wake_ms <= mono_ms)
			*wake_ms = mono_ms + 1;
		return 0;
	}
	if (g->rate) {
		int64_t due;

		if (!g->pace_ms) {
			g->pace_ms = mono_ms;
			g->pace_k = g->next;
		}
		due = g->pace_ms + (int64_t)((g->next - g->pace_k) * 1000 / g->rate);
		if (mono_ms < due) {
			*wake_ms = due;
			return 0;
		}
		if (mono_ms - due > 1000) {
			/* Stalled (backpressure, a slow round): do not burst. */
			g->pace_ms = mono_ms;
			g->pace_k = g->next;
		}
	}
	*t = aligned > g->last_ts ? aligned : g->last_ts;
	return 1;
}

void synth_advance(struct synth *g, uint32_t t)
{
	g->last_ts = t;
	g->next++;
}

/* --- the source ------------------------------------------------------------------ */

#define SYNTH_BURST 1024 /* rows per pump */

static int synthetic_start(struct ingest *ing, struct ing_source *s)
{
	struct synth *g = malloc(sizeof(*g));
	const struct cfg_source *c = s->cfg;
	int ds = c->data_source >= 0 ? c->data_source : SCHEMA_DS_APPLICATION_MAP_1S;
	uint64_t series = c->series ? c->series : 1;

	snprintf(s->name, sizeof(s->name), "synthetic %s", schema_ds_name(ds) ? schema_ds_name(ds) : "?");
	if (!g)
		return 111;
	s->priv = g;
	if (synth_init(g, ds, c->seed, series, c->rows, c->rows_per_second)) {
		log_err("%s: data source %d cannot be generated", s->name, ds);
		return 100;
	}
	s->finite = c->rows > 0;
	if (ing->restart) {
		uint64_t k = stat_get(&s->st->resume_rows);

		synth_seek(g, c->rows && k > c->rows ? c->rows : k);
		if (k)
			log_info("%s: resuming at row %" PRIu64, s->name, k);
	}
	if (c->rows_per_second == 0 || c->rows_per_second * g->period > series)
		log_info("%s: %" PRIu64 " series, one row per series per %us: at most %.1f rows/s", s->name, series,
			 g->period, (double)series / g->period);
	s->ready = true;
	return 0;
}

static void synthetic_pump(struct ingest *ing, struct ing_source *s)
{
	struct synth *g = s->priv;
	int64_t mono = ing_now_ms(), wall = ing_wall_ms();

	for (int i = 0; i < SYNTH_BURST; i++) {
		int64_t wake;
		uint32_t t;
		int rc = synth_due(g, mono, wall, &t, &wake);

		if (rc < 0) {
			s->exhausted = true;
			stat_set(&s->st->exhausted, 1);
			log_info("%s: done: %" PRIu64 " rows", s->name, g->next);
			return;
		}
		if (rc == 0) {
			s->wake_ms = wake;
			return;
		}
		synth_row(g, g->next, t, &ing->rb);
		rc = ing_push_rowb(ing, s, &ing->rb);
		if (rc == 1)
			return; /* blocked: this row is made again once there is room */
		if (rc < 0) {
			/* Only with a ring smaller than one row: counted, skipped. */
			s->n_rejected++;
			ing->n_rej[STATS_REJ_TOO_LARGE]++;
		}
		synth_advance(g, t);
	}
	s->ready = true;
}

static void synthetic_commit(struct ingest *ing, struct ing_source *s)
{
	struct synth *g = s->priv;

	(void)ing;
	if (g)
		stat_set(&s->st->resume_rows, g->next);
}

static void synthetic_stop(struct ingest *ing, struct ing_source *s)
{
	(void)ing;
	free(s->priv);
	s->priv = NULL;
}

static void synthetic_stream_eof(struct ingest *ing, struct ing_source *s, struct ing_stream *st)
{
	(void)s;
	ing_stream_free(ing, st); /* no streams: never called */
}

const struct ing_src_ops ing_src_synthetic_ops = {
	.start = synthetic_start,
	.pump = synthetic_pump,
	.stream_eof = synthetic_stream_eof,
	.commit = synthetic_commit,
	.stop = synthetic_stop,
};
