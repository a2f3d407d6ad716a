/* SPDX-License-Identifier: MIT */
/* test_json_row.c: the DeepFlow JSON row scanner, the raw-row builder and the printer. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/rawrow.h"
#include "common/schema.h"
#include "ingest/json_row.h"
#include "ingest/rowb.h"

static struct jrow *jp;
static struct rowb rb, rb2;
static struct jrow_err jerr;
static uint8_t rec[ROWB_MAX_BYTES], rec2[ROWB_MAX_BYTES];

static void setup(void)
{
	jp = malloc(sizeof(*jp));
	cr_assert(jp);
	jrow_init(jp);
}

static void teardown(void)
{
	free(jp);
}

TestSuite(json_row, .init = setup, .fini = teardown);

static int parse(const char *s, int def)
{
	return jrow_parse(jp, s, strlen(s), def, &rb, &jerr);
}

/* Parse and decode into <v>; fails the test on any error. */
static void parse_ok(const char *s, int def, struct rawrow_view *v)
{
	int n;

	cr_assert_eq(parse(s, def), 0, "rejected: %s at %zu: %s\n  %s", jrow_reason_name(jerr.reason),
		     jerr.at, jerr.msg, s);
	n = rowb_encode(&rb, rec, sizeof(rec));
	cr_assert_gt(n, 0);
	cr_assert(rawrow_decode(rec, (uint32_t)n, v), "encoded row does not decode");
}

static void parse_bad(const char *s, int def, enum stats_reject why)
{
	cr_assert_eq(parse(s, def), -1, "accepted: %s", s);
	cr_assert_eq(jerr.reason, why, "reason %s (%s), want %s: %s", jrow_reason_name(jerr.reason),
		     jerr.msg, jrow_reason_name(why), s);
}

static char *data_path(const char *name)
{
	const char *root = getenv("FLOWRW_ROOT");
	char *p;

	cr_assert(asprintf(&p, "%s/tests/data/%s", root ? root : ".", name) > 0);
	return p;
}

Test(json_row, sample_file_all_16_rows_parse)
{
	char *path = data_path("rows-all-sources.ndjson");
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rows = 0, seen_ds[SCHEMA_DS_MAX] = { 0 };

	cr_assert(f, "open %s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct rawrow_view v;

		while (n && (line[n - 1] == '\n'))
			n--;
		line[n] = 0;
		parse_ok(line, -1, &v);
		cr_assert_eq(jp->unknown_keys, 0, "row %d has unknown keys", rows + 1);
		cr_assert_eq(rb.dups, 0);
		cr_assert_eq(v.hdr->time, 1716998400u + 0 * rows, "time of row %d", rows + 1);
		seen_ds[v.hdr->ds]++;
		/* Every metric of the family is there, all integral. */
		int count;
		schema_metrics(v.family, &count);
		cr_assert_eq(rawrow_metric_count(v.hdr), count);
		cr_assert_eq(v.tag_kind[SCHEMA_T_PROTOCOL], RAWROW_T_STR);
		cr_assert_eq(v.tag_kind[SCHEMA_T_IP4], RAWROW_T_NUM);
		rows++;
	}
	free(line);
	fclose(f);
	free(path);
	cr_assert_eq(rows, 16);
	for (int ds = 0; ds < SCHEMA_DS_MAX; ds++)
		cr_assert_eq(seen_ds[ds], ds == 4 ? 0 : 2, "ds %d seen %d times", ds, seen_ds[ds]);
}

Test(json_row, values_land_in_the_right_fields)
{
	struct rawrow_view v;
	int m;
	const char *row =
		"{\"datasource\":\"flow_metrics.network_map.1s\",\"time\":1716998400,\"packet_tx\":68,"
		"\"byte_rx\":1.5e3,\"rtt_max\":-2,\"ip4_0\":\"10.16.0.1\",\"ip4_1\":\"255.0.0.7\","
		"\"ip6_0\":\"2001:db8::1\",\"l3_epc_0\":\"vpc-a\",\"l3_epc_id_1\":-2,\"pod_0\":\"nginx-1\","
		"\"protocol\":\"TCP\",\"server_port\":8080,\"capture_nic\":305419896,\"is_ipv4\":1,"
		"\"time_str\":\"2024-05-29 16:00:00 +0000 UTC\"}";

	parse_ok(row, -1, &v);
	cr_assert_eq(v.hdr->ds, SCHEMA_DS_NETWORK_MAP_1S);
	cr_assert_eq(v.hdr->time, 1716998400u);
	m = schema_metric_by_name(SCHEMA_FAM_NETWORK_MAP, "packet_tx", 9);
	cr_assert(rawrow_has_metric(v.hdr, m));
	cr_assert_eq(v.metric[m], 68.0);
	m = schema_metric_by_name(SCHEMA_FAM_NETWORK_MAP, "byte_rx", 7);
	cr_assert_eq(v.metric[m], 1500.0);
	m = schema_metric_by_name(SCHEMA_FAM_NETWORK_MAP, "rtt_max", 7);
	cr_assert_eq(v.metric[m], -2.0);
	m = schema_metric_by_name(SCHEMA_FAM_NETWORK_MAP, "packet_rx", 9);
	cr_assert(!rawrow_has_metric(v.hdr, m), "absent metric stays absent");
	cr_assert_eq(v.tag_kind[SCHEMA_T_IP4], RAWROW_T_NUM);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_IP4), 0x0a100001);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_IP4_1), 0xff000007);
	cr_assert_eq(v.tag_kind[SCHEMA_T_IP6], RAWROW_T_IP6);
	cr_assert_eq(v.tag_val[SCHEMA_T_IP6][0], 0x20);
	cr_assert_eq(v.tag_val[SCHEMA_T_IP6][15], 0x01);
	cr_assert_eq(v.tag_kind[SCHEMA_T_L3_EPC_ID], RAWROW_T_STR);
	cr_assert_eq(v.tag_len[SCHEMA_T_L3_EPC_ID], 5);
	cr_assert(memcmp(v.tag_val[SCHEMA_T_L3_EPC_ID], "vpc-a", 5) == 0);
	cr_assert_eq(v.tag_kind[SCHEMA_T_L3_EPC_ID_1], RAWROW_T_NUM);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_L3_EPC_ID_1), -2);
	cr_assert(memcmp(v.tag_val[SCHEMA_T_POD_ID], "nginx-1", 7) == 0);
	cr_assert(memcmp(v.tag_val[SCHEMA_T_PROTOCOL], "TCP", 3) == 0);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_SERVER_PORT), 8080);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_CAPTURE_NIC), 305419896);
	cr_assert_eq(v.tag_kind[SCHEMA_T_THREAD_ID], 0);
}

Test(json_row, integers_are_exact)
{
	struct rawrow_view v;
	int m = schema_metric_by_name(SCHEMA_FAM_NETWORK, "byte_tx", 7);

	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"byte_tx\":9007199254740993}", -1, &v);
	cr_assert_eq(v.metric[m], 9007199254740993.0); /* nearest double, as a cast gives */
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"byte_tx\":18446744073709551615}", -1, &v);
	cr_assert_eq(v.metric[m], 18446744073709551615.0);
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"byte_tx\":184467440737095516150}", -1, &v);
	cr_assert_eq(v.metric[m], 184467440737095516150.0);
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"byte_tx\":0.25}", -1, &v);
	cr_assert_eq(v.metric[m], 0.25);
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"server_port\":-9223372036854775808}", -1, &v);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_SERVER_PORT), INT64_MIN);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"server_port\":9223372036854775808}", -1,
		  STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":60,\"server_port\":80.5}", -1,
		  STATS_REJ_WRONG_TYPE);
}

Test(json_row, string_escapes_decode_to_utf8)
{
	struct rawrow_view v;
	const char *want = "a\"\\/\b\f\n\r\t\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 z";

	parse_ok("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,"
		 "\"endpoint\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u00e9\\u20AC\\ud83d\\ude00 z\"}", -1, &v);
	cr_assert_eq(v.tag_len[SCHEMA_T_ENDPOINT], strlen(want));
	cr_assert(memcmp(v.tag_val[SCHEMA_T_ENDPOINT], want, strlen(want)) == 0);
	/* Raw bytes >= 0x80 pass through unvalidated, as DeepFlow writes them. */
	parse_ok("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"\xff\xfe\"}", -1, &v);
	cr_assert_eq(v.tag_len[SCHEMA_T_ENDPOINT], 2);
	/* \u0000 is a byte like any other. */
	parse_ok("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"a\\u0000b\"}", -1, &v);
	cr_assert_eq(v.tag_len[SCHEMA_T_ENDPOINT], 3);
	/* Escaped key. */
	parse_ok("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"\\u0070od\":\"p\"}", -1, &v);
	cr_assert_eq(v.tag_kind[SCHEMA_T_POD_ID], RAWROW_T_STR);
	parse_bad("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"\\ud83d\"}", -1,
		  STATS_REJ_MALFORMED_JSON);
	parse_bad("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"\\ude00x\"}", -1,
		  STATS_REJ_MALFORMED_JSON);
	parse_bad("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"\\x\"}", -1,
		  STATS_REJ_MALFORMED_JSON);
	parse_bad("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"\\u12G4\"}", -1,
		  STATS_REJ_MALFORMED_JSON);
	parse_bad("{\"datasource\":\"flow_metrics.application.1s\",\"time\":1,\"endpoint\":\"a\tb\"}", -1,
		  STATS_REJ_MALFORMED_JSON);
}

Test(json_row, ignored_and_unknown_keys)
{
	struct rawrow_view v;

	parse_ok("{\"datasource\":\"flow_metrics.network_map.1s\",\"time\":1,"
		 "\"k8s_label_names_0\":[\"app\",\"tier\"],\"k8s_label_values_0\":[\"web\",\"a\tb\"],"
		 "\"future_field\":{\"x\":[1,2,{\"y\":null}],\"z\":true},\"role\":\"Client\","
		 "\"time_str\":\"x\",\"packet_tx\":1}", -1, &v);
	cr_assert_eq(jp->unknown_keys, 2, "future_field and role (not a network_map field)");
	cr_assert_eq(rawrow_metric_count(v.hdr), 1);
	cr_assert_eq(v.hdr->n_tags, 0);
	/* A nested value where a tag or metric is expected is a wrong type. */
	parse_bad("{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"pod\":[\"a\"]}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"packet_tx\":{}}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"packet_tx\":\"12\"}", -1,
		  STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"is_ipv4\":true}", -1, STATS_REJ_WRONG_TYPE);
	/* Nesting is bounded. */
	{
		char deep[400];
		int n = snprintf(deep, sizeof(deep), "{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,\"x\":");

		for (int i = 0; i < 100; i++)
			deep[n++] = '[';
		for (int i = 0; i < 100; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = 0;
		parse_bad(deep, -1, STATS_REJ_MALFORMED_JSON);
	}
}

Test(json_row, duplicate_fields_last_one_wins)
{
	struct rawrow_view v;

	parse_ok("{\"datasource\":\"flow_metrics.network_map.1s\",\"time\":1,\"pod_id_0\":17,\"pod_0\":\"nginx-1\","
		 "\"pod_1\":\"db\",\"pod_id_1\":9,\"packet_tx\":1,\"packet_tx\":2}", -1, &v);
	cr_assert_eq(rb.dups, 3);
	cr_assert_eq(v.tag_kind[SCHEMA_T_POD_ID], RAWROW_T_STR);
	cr_assert_eq(v.tag_kind[SCHEMA_T_POD_ID_1], RAWROW_T_NUM);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_POD_ID_1), 9);
	cr_assert_eq(v.metric[schema_metric_by_name(SCHEMA_FAM_NETWORK_MAP, "packet_tx", 9)], 2.0);
}

Test(json_row, datasource_anywhere_or_default)
{
	struct rawrow_view v;

	parse_ok("{\"time\":5,\"pod\":\"a\",\"datasource\":\"flow_metrics.application.1m\",\"request\":3}", -1, &v);
	cr_assert_eq(v.hdr->ds, SCHEMA_DS_APPLICATION_1M);
	cr_assert_eq(v.tag_kind[SCHEMA_T_POD_ID], RAWROW_T_STR);
	cr_assert_eq(rawrow_metric_count(v.hdr), 1);
	parse_ok("{\"time\":5,\"pod\":\"a\",\"request\":3}", SCHEMA_DS_APPLICATION_1S, &v);
	cr_assert_eq(v.hdr->ds, SCHEMA_DS_APPLICATION_1S);
	/* The row's own datasource wins over the source default. */
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5}", SCHEMA_DS_APPLICATION_1S, &v);
	cr_assert_eq(v.hdr->ds, SCHEMA_DS_NETWORK_1M);
	parse_bad("{\"time\":5,\"request\":3}", -1, STATS_REJ_MISSING_DATASOURCE);
	parse_bad("{}", -1, STATS_REJ_MISSING_DATASOURCE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\"}", -1, STATS_REJ_MISSING_TIME);
	parse_bad("{\"datasource\":\"flow_metrics.traffic_policy.1m\",\"time\":5}", -1, STATS_REJ_UNKNOWN_DATASOURCE);
	parse_bad("{\"time\":5,\"datasource\":\"event.file_event\"}", -1, STATS_REJ_UNKNOWN_DATASOURCE);
	parse_bad("{\"datasource\":7,\"time\":5}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":\"5\"}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5.5}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":-5}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"datasource\":\"flow_metrics.network.1s\"}",
		  -1, STATS_REJ_MALFORMED_JSON);
}

Test(json_row, ip_fields)
{
	struct rawrow_view v;

	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip4\":\"10.0.0\"}", -1, STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip4\":\"10.0.0.256\"}", -1,
		  STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip4\":\"10.0.0.1 \"}", -1,
		  STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip6\":\"1::2::3\"}", -1,
		  STATS_REJ_WRONG_TYPE);
	parse_bad("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip6\":5}", -1, STATS_REJ_WRONG_TYPE);
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip4\":167772161,\"ip6\":\"\"}", -1, &v);
	cr_assert_eq(rawrow_tag_num(&v, SCHEMA_T_IP4), 167772161);
	cr_assert_eq(v.tag_kind[SCHEMA_T_IP6], 0);
	parse_ok("{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"ip6\":\"::ffff:10.0.0.1\"}", -1, &v);
	cr_assert_eq(v.tag_val[SCHEMA_T_IP6][15], 1);
}

Test(json_row, malformed_json_is_rejected_with_an_offset)
{
	static const struct { const char *text; size_t at; } cases[] = {
		{ "", 0 },
		{ "[1]", 0 },
		{ "{\"datasource\" \"flow_metrics.network.1m\"}", 14 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,}", 49 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5", 48 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5} x", 50 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":05}", 48 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"x\":tru}", 53 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"packet_tx\":1.}", 63 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"packet_tx\":-}", 62 },
		{ "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"pod\":\"abc", 59 },
		{ "\x00\x01\xff\xfe garbage", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = i == sizeof(cases) / sizeof(cases[0]) - 1 ? 13 : strlen(cases[i].text);

		cr_assert_eq(jrow_parse(jp, cases[i].text, len, -1, &rb, &jerr), -1, "case %zu accepted", i);
		cr_assert_eq(jerr.reason, STATS_REJ_MALFORMED_JSON, "case %zu: %s", i, jerr.msg);
		cr_assert_eq(jerr.at, cases[i].at, "case %zu: at %zu (%s), want %zu", i, jerr.at, jerr.msg,
			     cases[i].at);
	}
}

Test(json_row, long_strings_are_too_large)
{
	char *row = malloc(RAWROW_MAX_STR + 200);
	int n = sprintf(row, "{\"datasource\":\"flow_metrics.network.1m\",\"time\":5,\"pod\":\"");

	memset(row + n, 'a', RAWROW_MAX_STR + 1);
	strcpy(row + n + RAWROW_MAX_STR + 1, "\"}");
	parse_bad(row, -1, STATS_REJ_TOO_LARGE);
	row[n + RAWROW_MAX_STR] = '"';
	row[n + RAWROW_MAX_STR + 1] = '}';
	row[n + RAWROW_MAX_STR + 2] = 0;
	cr_assert_eq(parse(row, -1), 0);
	free(row);
}

/* Every prefix of every sample row, placed against a PROT_NONE guard page:
 * all are rejected (none reads past its end), none crashes. */
Test(json_row, truncated_rows_against_a_guard_page)
{
	char *path = data_path("rows-all-sources.ndjson");
	FILE *f = fopen(path, "r");
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lines = 0;

	cr_assert(f && area != MAP_FAILED);
	cr_assert_eq(mprotect(area + pg, (size_t)pg, PROT_NONE), 0);
	while ((n = getline(&line, &cap, f)) > 0 && lines < 4) {
		n--; /* newline */
		cr_assert_leq(n, pg);
		for (ssize_t k = 0; k <= n; k++) {
			uint8_t *at = area + pg - k;

			memcpy(at, line, (size_t)k);
			cr_assert_eq(jrow_parse(jp, (char *)at, (size_t)k, -1, &rb, &jerr), k == n ? 0 : -1,
				     "prefix %zd of %zd", k, n);
		}
		lines++;
	}
	free(line);
	fclose(f);
	free(path);
	munmap(area, (size_t)pg * 2);
}

/* Rows with keys in varying orders, optional keys, escaped keys, keys that
 * are prefixes of others and whitespace before ':', parsed with one parser
 * whose key memo (json_row.h) carries over from row to row, must give what a
 * parser with an empty memo gives: same result, same record, same error and
 * offset.  Every row, and every prefix of some, ends at a guard page, so a
 * predicted key compared past the end of the line faults. */
static uint32_t memo_rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void memo_compare(struct jrow *warm, struct jrow *cold, const char *s, size_t len, uint8_t *area,
			 long pg)
{
	uint8_t *at = area + pg - len;
	struct jrow_err e1, e2;
	int r1, r2, n1, n2;

	memcpy(at, s, len);
	r1 = jrow_parse(warm, (char *)at, len, -1, &rb, &e1);
	n1 = r1 ? 0 : rowb_encode(&rb, rec, sizeof(rec));
	jrow_init(cold);
	r2 = jrow_parse(cold, (char *)at, len, -1, &rb2, &e2);
	n2 = r2 ? 0 : rowb_encode(&rb2, rec2, sizeof(rec2));
	cr_assert_eq(r1, r2, "memo changed the result: %.*s", (int)len, s);
	if (r1) {
		cr_assert_eq(e1.reason, e2.reason, "%s vs %s: %.*s", e1.msg, e2.msg, (int)len, s);
		cr_assert_eq(e1.at, e2.at, "%s vs %s: %.*s", e1.msg, e2.msg, (int)len, s);
		return;
	}
	cr_assert_eq(warm->unknown_keys, cold->unknown_keys, "%.*s", (int)len, s);
	cr_assert_eq(rb.dups, rb2.dups, "%.*s", (int)len, s);
	cr_assert_eq(n1, n2, "%.*s", (int)len, s);
	cr_assert_gt(n1, 0);
	cr_assert_eq(memcmp(rec, rec2, (size_t)n1), 0, "records differ: %.*s", (int)len, s);
}

Test(json_row, key_memo_matches_a_cold_parser)
{
	static const char *const keys[] = {
		"\"packet_tx\"", "\"packet_rx\"", "\"byte_tx\"", "\"rtt_max\"", "\"l7_request\"",
		"\"direction_score\"", "\"l3_epc\"", "\"pod\"", "\"pod_ns\"", "\"region\"", "\"host\"",
		"\"az\"", "\"gprocess\"", "\"zz_unknown\"", "\"pod_n\"", "\"packet_tx_\"", "\"\"",
		"\"pod\\u005fns\"", "\"p\\u0061cket_rx\"", "\"rtt_max\" ", "\"k8s_label_names\"",
		"\"time_str\"", "\"packet_tx\\\"\"", "\"a_key_that_is_longer_than_the_memo_keeps_xx\"",
	};
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct jrow *cold = malloc(sizeof(*cold));
	char row[2048];
	uint32_t seed = 12345;

	cr_assert(cold && area != MAP_FAILED);
	cr_assert_eq(mprotect(area + pg, (size_t)pg, PROT_NONE), 0);
	for (int r = 0; r < 6000; r++) {
		size_t n = (size_t)snprintf(row, sizeof(row),
					    "{\"datasource\":\"flow_metrics.network.1s\",\"time\":1717000000");
		int nk = (int)(memo_rnd(&seed) % 14);
		/* Mostly the same order (the memo's case), sometimes shuffled. */
		int base = (int)(memo_rnd(&seed) % 3);

		for (int k = 0; k < nk; k++) {
			int ki = memo_rnd(&seed) % 4 ? (base + k * 2) % 14 : (int)(memo_rnd(&seed) % 24);
			const char *key = keys[ki];
			const char *val;

			if (memo_rnd(&seed) % 5 == 0)
				continue; /* an optional key left out */
			if (ki == 20)
				val = "[\"a\",\"b\"]";
			else if (ki >= 6 && ki <= 12 && memo_rnd(&seed) % 2)
				val = "\"name-x\"";
			else
				val = memo_rnd(&seed) % 2 ? "17" : "0";
			n += (size_t)snprintf(row + n, sizeof(row) - n, ",%s:%s", key, val);
		}
		n += (size_t)snprintf(row + n, sizeof(row) - n, "}");
		cr_assert_lt(n, (size_t)pg);
		memo_compare(jp, cold, row, n, area, pg);
		if (r % 50 == 0)
			for (size_t k = 0; k < n; k++)
				memo_compare(jp, cold, row, k, area, pg);
	}
	free(cold);
	munmap(area, (size_t)pg * 2);
}

/* The string scan looks at 16 bytes a step (SSE2), then 8, then 1: an escape,
 * a quote, a control byte or a byte >= 0x80 at every position relative to
 * those steps and to the line's alignment decodes (or is rejected) as the
 * byte-wise definition says.  Lines end at a guard page. */
Test(json_row, string_specials_at_every_position)
{
	static const struct {
		const char *text;    /* as written in the JSON string */
		const char *decoded; /* NULL: rejected */
	} sp[] = {
		{ "\\\"", "\"" }, { "\\\\", "\\" }, { "\\n", "\n" }, { "\\u00e9", "\xc3\xa9" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\x7f", "\x7f" }, { "\xff", "\xff" }, { " ", " " },
		{ "\x01", NULL }, { "\x1f", NULL }, { "\t", NULL },
	};
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *area = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int host;
	char row[512], want[128];

	cr_assert(area != MAP_FAILED);
	cr_assert_eq(mprotect(area + pg, (size_t)pg, PROT_NONE), 0);
	cr_assert_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "host", 4, &host), SCHEMA_KEY_TAG);
	for (size_t k = 0; k < sizeof(sp) / sizeof(sp[0]); k++)
		for (int pad = 0; pad < 16; pad++)
			for (int at = 0; at < 40; at++)
				for (int tail = 0; tail < 40; tail += 13) {
					size_t n, wl;
					uint8_t *line;
					int r;

					n = (size_t)snprintf(row, sizeof(row),
							     "%*s{\"datasource\":\"flow_metrics.network.1s\","
							     "\"time\":1717000000,\"host\":\"%.*s%s%.*s\"}",
							     pad, "", at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
							     sp[k].text, tail, "0123456789012345678901234567890123456789");
					line = area + pg - n;
					memcpy(line, row, n);
					r = jrow_parse(jp, (char *)line, n, -1, &rb, &jerr);
					if (!sp[k].decoded) {
						cr_assert_eq(r, -1, "accepted: %s", row);
						cr_assert_eq(jerr.reason, STATS_REJ_MALFORMED_JSON);
						cr_assert_eq(jerr.at, (size_t)pad + 66 + (size_t)at, "at %zu: %s",
							     jerr.at, row);
						continue;
					}
					cr_assert_eq(r, 0, "rejected (%s): %s", jerr.msg, row);
					wl = (size_t)snprintf(want, sizeof(want), "%.*s%s%.*s", at,
							      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
							      sp[k].decoded, tail,
							      "0123456789012345678901234567890123456789");
					cr_assert_eq(rb.tag[host].kind, RAWROW_T_STR);
					cr_assert_eq(rb.tag[host].len, wl, "%s", row);
					cr_assert_eq(memcmp(rb.tag[host].v.str, want, wl), 0, "%s", row);
				}
	munmap(area, (size_t)pg * 2);
}

/* The printer writes what DeepFlow writes, and the scanner reads it back to
 * the same raw row. */
Test(json_row, format_round_trips)
{
	char *path = data_path("rows-all-sources.ndjson");
	FILE *f = fopen(path, "r");
	char *line = NULL, out[8192];
	size_t cap = 0;
	ssize_t n;

	cr_assert(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		int a, b, len;

		cr_assert_eq(jrow_parse(jp, line, (size_t)n, -1, &rb, &jerr), 0);
		a = rowb_encode(&rb, rec, sizeof(rec));
		len = jrow_format(&rb, out, sizeof(out));
		cr_assert_gt(len, 0);
		cr_assert_eq(jrow_parse(jp, out, (size_t)len, -1, &rb2, &jerr), 0, "%s: %s", jerr.msg, out);
		b = rowb_encode(&rb2, rec2, sizeof(rec2));
		cr_assert_eq(a, b);
		cr_assert(memcmp(rec, rec2, (size_t)a) == 0, "round trip differs: %s", out);
		/* DeepFlow's keys and order: the printed row starts like the input. */
		cr_assert(strncmp(out, line, 60) == 0, "%.80s\n%.80s", out, line);
	}
	/* rb still points into line: format before freeing it. */
	cr_assert_eq(jrow_format(&rb, out, 10), -EMSGSIZE);
	free(line);
	fclose(f);
	free(path);
}

Test(rowb, encode_orders_tags_and_counts_dups)
{
	struct rawrow_view v;
	int n;

	rowb_reset(&rb);
	rowb_set_ds(&rb, SCHEMA_DS_APPLICATION_MAP_1S);
	rowb_set_time(&rb, 100);
	rowb_set_str(&rb, SCHEMA_T_ENDPOINT, "/x", 2);
	rowb_set_num(&rb, SCHEMA_T_SERVER_PORT, 80);
	rowb_set_num(&rb, SCHEMA_T_IP4, 1);
	rowb_set_metric(&rb, 8, 3.0);
	rowb_set_metric(&rb, 0, 1.0);
	rowb_set_metric(&rb, 0, 2.0);
	cr_assert_eq(rb.dups, 1);
	n = rowb_encode(&rb, rec, sizeof(rec));
	cr_assert_eq(n, 24 + 16 + 4 + 8 + 4 + 8 + 4 + 2);
	cr_assert(rawrow_decode(rec, (uint32_t)n, &v));
	cr_assert_eq(v.metric[0], 2.0);
	cr_assert_eq(v.metric[8], 3.0);
	cr_assert_eq(rowb_encode(&rb, rec, 30), -EMSGSIZE);
}
