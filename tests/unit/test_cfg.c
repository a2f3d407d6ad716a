/* SPDX-License-Identifier: MIT */
/* test_cfg.c: the YAML config loader: the seed's blocks, every key, every error class. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/cfg.h"
#include "common/shm.h"
#include "common/schema.h"

static const char *root(void)
{
	const char *r = getenv("FLOWRW_ROOT");

	return r && *r ? r : ".";
}

static char *fixture(const char *name)
{
	static char buf[4][1024];
	static int i;
	char *p = buf[i++ & 3];

	snprintf(p, sizeof(buf[0]), "%s/tests/data/cfg/%s", root(), name);
	return p;
}

static int load(struct cfg *c, struct cfg_diag *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	return cfg_load_file(c, fixture(name), d);
}

static int load_text(struct cfg *c, struct cfg_diag *d, const char *text)
{
	memset(d, 0, sizeof(*d));
	return cfg_load_buffer(c, text, strlen(text), "inline.yaml", d);
}

/* The diagnostic line containing every one of the (NULL-terminated) needles. */
static const char *find_line(const struct cfg_diag *d, const char *a, const char *b)
{
	for (int i = 0; i < d->n_lines; i++)
		if (strstr(d->lines[i], a) && (!b || strstr(d->lines[i], b)))
			return d->lines[i];
	return NULL;
}

static void dump(const struct cfg_diag *d)
{
	for (int i = 0; i < d->n_lines; i++)
		fprintf(stderr, "  | %s\n", d->lines[i]);
}

/* An error line starting "FILE:LOC: PATH: " that also contains <text>. */
static void expect_error(const struct cfg_diag *d, const char *file, const char *loc,
			 const char *path, const char *text)
{
	char head[512];

	snprintf(head, sizeof(head), "%s:%s: %s: ", file, loc, path);
	if (!find_line(d, head, text))
		dump(d);
	cr_assert(find_line(d, head, text), "no error line \"%s...%s\"", head, text);
}

static void expect_warning(const struct cfg_diag *d, const char *file, const char *loc,
			   const char *path, const char *text)
{
	char head[512];

	snprintf(head, sizeof(head), "%s:%s: warning: %s: ", file, loc, path);
	if (!find_line(d, head, text))
		dump(d);
	cr_assert(find_line(d, head, text), "no warning line \"%s...%s\"", head, text);
}

/* --- the seed document's two blocks --------------------------------------- */

Test(cfg, seed_server_block_means_what_the_seed_says)
{
	struct cfg c;
	struct cfg_diag d;
	const struct cfg_exporter *e;

	cr_assert_eq(load(&c, &d, "seed-server.yaml"), 0);
	cr_assert_eq(d.n_errors, 0);
	cr_assert_eq(c.n_exporters, 1);
	e = &c.exporters[0];
	cr_assert(e->enabled && e->active);
	cr_assert_eq(e->protocol, CFG_PROTO_PROMETHEUS);
	/* Two endpoints, parsed only: nothing here ever sends to 1.1.1.1. */
	cr_assert_eq(e->n_endpoints, 2);
	cr_assert_str_eq(e->endpoints[0].host, "127.0.0.1");
	cr_assert_str_eq(e->endpoints[0].port, "9091");
	cr_assert_str_eq(e->endpoints[0].path, "/receive");
	cr_assert_str_eq(e->endpoints[1].host, "1.1.1.1");
	cr_assert_str_eq(e->endpoints[1].url, "http://1.1.1.1:9091/receive");
	cr_assert_eq(e->ds_mask, 1U << SCHEMA_DS_APPLICATION_MAP_1S);
	cr_assert_eq(e->queue_count, 4);
	cr_assert_eq(e->queue_size, 100000);
	cr_assert_eq(e->batch_size, 1024);
	cr_assert_float_eq(e->flush_timeout, 10.0, 1e-9);
	cr_assert_eq(e->n_tag_filters, 0);
	cr_assert_eq(e->n_groups, 0);
	cr_assert_eq(e->n_export_fields, 2);
	cr_assert_str_eq(e->export_fields[0], "$tag");
	cr_assert_str_eq(e->export_fields[1], "$metrics");
	cr_assert_eq(e->n_headers, 2);
	cr_assert_str_eq(e->headers[0].name, "key1");
	cr_assert_str_eq(e->headers[0].value, "value1");
	cr_assert_str_eq(e->headers[1].name, "key2");
	cr_assert(!e->export_empty_tag && !e->export_empty_metrics_disabled);
	cr_assert(!e->enum_translate_to_name_disabled && !e->universal_tag_translate_to_name_disabled);
	cr_assert_float_eq(e->min_backoff, 0.03, 1e-9);
	cr_assert_float_eq(e->max_backoff, 5.0, 1e-9);
	cr_assert_float_eq(e->request_timeout, 30.0, 1e-9);
	/* no flowrw: section -> the default tcp source, with a warning */
	cr_assert_eq(c.n_sources, 1);
	cr_assert_eq(c.sources[0].type, CFG_SRC_TCP);
	cr_assert_str_eq(c.sources[0].listen, "127.0.0.1:20044");
	cr_assert(find_line(&d, "warning: flowrw.sources: no sources configured", NULL));
	cr_assert_eq(cfg_active_exporters(&c), 1);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, seed_quick_demo_block_without_enabled_is_active)
{
	struct cfg c;
	struct cfg_diag d;
	const struct cfg_exporter *e;

	cr_assert_eq(load(&c, &d, "seed-quick-demo.yaml"), 0);
	cr_assert_eq(c.n_exporters, 1);
	e = &c.exporters[0];
	cr_assert(e->enabled, "a missing `enabled` means enabled");
	cr_assert(e->active);
	cr_assert_eq(e->n_endpoints, 1);
	cr_assert_str_eq(e->endpoints[0].host, "localhost");
	cr_assert_str_eq(e->endpoints[0].port, "1234");
	cr_assert_str_eq(e->endpoints[0].path, "/receive");
	cr_assert_eq(e->ds_mask, 1U << SCHEMA_DS_APPLICATION_MAP_1S);
	cr_assert(find_line(&d, "seed-quick-demo.yaml:2:5: note: exporters[0]: no `enabled` key", NULL));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, both_shapes_give_the_same_exporter)
{
	static const char top[] =
		"exporters:\n"
		"  - {protocol: prometheus, endpoints: [http://127.0.0.1:1/], data-sources: [flow_metrics.network.1s]}\n";
	static const char nested[] =
		"ingester:\n"
		"  exporters:\n"
		"  - {protocol: prometheus, endpoints: [http://127.0.0.1:1/], data-sources: [flow_metrics.network.1s]}\n";
	struct cfg a, b;
	struct cfg_diag d;

	cr_assert_eq(load_text(&a, &d, top), 0);
	cfg_diag_fini(&d);
	cr_assert_eq(load_text(&b, &d, nested), 0);
	cfg_diag_fini(&d);
	cr_assert_eq(a.n_exporters, 1);
	cr_assert_eq(b.n_exporters, 1);
	cr_assert_eq(a.exporters[0].ds_mask, b.exporters[0].ds_mask);
	cr_assert(a.exporters[0].active && b.exporters[0].active);
	cr_assert_str_eq(a.exporters[0].endpoints[0].port, "1");
	cfg_fini(&a);
	cfg_fini(&b);
}

Test(cfg, empty_tag_filters_mean_no_filters)
{
	static const char *const forms[] = { "tag-filters:", "tag-filters: []", "tag-filters: ~",
					     "tag-filters: null", "tag-filters-groups:" };

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char text[512];
		struct cfg c;
		struct cfg_diag d;

		snprintf(text, sizeof(text),
			 "exporters:\n  - protocol: prometheus\n    endpoints: [http://127.0.0.1:1/]\n"
			 "    data-sources: [flow_metrics.network.1m]\n    %s\n", forms[i]);
		cr_assert_eq(load_text(&c, &d, text), 0, "%s", forms[i]);
		cr_assert_eq(c.exporters[0].n_tag_filters, 0, "%s", forms[i]);
		cr_assert_eq(c.exporters[0].n_groups, 0, "%s", forms[i]);
		cr_assert_eq(d.n_warnings, 1, "%s: only the no-sources warning", forms[i]);
		cfg_fini(&c);
		cfg_diag_fini(&d);
	}
}

/* --- every key ------------------------------------------------------------ */

Test(cfg, full_config_reads_every_key)
{
	struct cfg c;
	struct cfg_diag d;
	const struct cfg_exporter *e;
	const struct cfg_tag_filter *f;

	cr_assert_eq(load(&c, &d, "full.yaml"), 0);
	if (d.n_warnings)
		dump(&d);
	cr_assert_eq(d.n_warnings, 0);
	cr_assert_eq(c.n_exporters, 2);
	e = &c.exporters[0];
	cr_assert_eq(e->n_endpoints, 3);
	cr_assert(e->endpoints[1].ipv6_literal);
	cr_assert_str_eq(e->endpoints[1].host, "::1");
	cr_assert_str_eq(e->endpoints[1].port, "8428");
	cr_assert_str_eq(e->endpoints[1].path, "/api/v1/write?extra_label=a");
	cr_assert_str_eq(e->endpoints[2].host, "localhost");
	cr_assert_str_eq(e->endpoints[2].port, "80");
	cr_assert_str_eq(e->endpoints[2].path, "/");
	cr_assert_eq(e->ds_mask, (1U << SCHEMA_DS_NETWORK_1M) | (1U << SCHEMA_DS_NETWORK_MAP_1S) |
				 (1U << SCHEMA_DS_APPLICATION_1S));
	cr_assert_eq(e->queue_count, 16);
	cr_assert_eq(e->queue_size, 200000);
	cr_assert_eq(e->batch_size, 2000);
	cr_assert_float_eq(e->flush_timeout, 0.5, 1e-9);
	cr_assert(e->export_empty_metrics_disabled && e->enum_translate_to_name_disabled &&
		  e->universal_tag_translate_to_name_disabled);
	cr_assert_eq(e->tag_filter_condition, CFG_COND_AND);
	cr_assert_eq(e->n_tag_filters, 2);
	f = &e->tag_filters[0];
	cr_assert_str_eq(f->field_name, "protocol");
	cr_assert_eq(f->op, CFG_OP_IN);
	cr_assert_eq(f->n_values, 2);
	cr_assert_eq(f->n_nums, 2);
	cr_assert_float_eq(f->nums[1], 17.0, 1e-9);
	f = &e->tag_filters[1];
	cr_assert_eq(f->op, CFG_OP_NE);
	cr_assert_eq(f->n_values, 2);
	cr_assert_eq(f->n_nums, 1, "\"abc\" is not a number, \"0\" is");
	cr_assert_str_eq(f->values[1], "abc");
	cr_assert_eq(e->n_groups, 2);
	cr_assert_eq(e->groups[0].n_filters, 3);
	f = &e->groups[0].filters[0];
	cr_assert_eq(f->op, CFG_OP_WILDCARD);
	cr_assert(f->has_re);
	/* DeepFlow's wildcard: '*' -> '.*', unanchored, nothing escaped */
	cr_assert_eq(regexec(&f->re, "svc-deepflow_server-1", 0, NULL, 0), 0);
	cr_assert_neq(regexec(&f->re, "deepflow-server", 0, NULL, 0), 0);
	f = &e->groups[0].filters[1];
	cr_assert_eq(f->op, CFG_OP_NOT_REGEX);
	cr_assert_eq(regexec(&f->re, "/healthz", 0, NULL, 0), 0);
	cr_assert_eq(e->groups[0].filters[2].op, CFG_OP_NOT_IN, "operators are case-insensitive");
	cr_assert_eq(e->groups[1].cond, CFG_COND_AND);
	cr_assert_eq(e->groups[1].n_filters, 1);
	cr_assert_eq(e->n_export_fields, 5);
	cr_assert_str_eq(e->export_fields[4], "ip4");
	cr_assert_eq(e->n_headers, 2);
	cr_assert_str_eq(e->headers[1].name, "X-Scope-OrgID");
	cr_assert_float_eq(e->min_backoff, 0.1, 1e-9);
	cr_assert_float_eq(e->max_backoff, 120.0, 1e-9);
	cr_assert_float_eq(e->request_timeout, 10.0, 1e-9);

	e = &c.exporters[1];
	cr_assert(e->active);
	cr_assert_eq(e->ds_mask, 1U << SCHEMA_DS_APPLICATION_MAP_1M, "a single name is a list of one");
	cr_assert_eq(e->n_endpoints, 1);
	cr_assert_eq(e->queue_count, 1);
	cr_assert_eq(e->queue_size, 1024);

	cr_assert_eq(c.encoders, 2);
	cr_assert(c.cpu_supervisor.set && CPU_ISSET(0, &c.cpu_supervisor.mask));
	cr_assert(c.cpu_ingest.set && CPU_COUNT(&c.cpu_ingest.mask) == 1);
	cr_assert(c.cpu_sender.set && CPU_ISSET(1, &c.cpu_sender.mask));
	cr_assert_eq(CPU_COUNT(&c.cpu_encoders[0].mask), 1);
	cr_assert_eq(CPU_COUNT(&c.cpu_encoders[1].mask), 2);
	cr_assert_str_eq(c.cpu_encoders[1].text, "0-1");
	cr_assert_eq(c.ring_bytes, (size_t)16 << 20);
	cr_assert_float_eq(c.drain_timeout, 5.0, 1e-9);
	cr_assert_str_eq(c.stats_listen, "[::1]:9464");
	cr_assert_eq(c.log_level, CFG_LOG_DEBUG);
	cr_assert_eq(c.n_sources, 6);
	cr_assert_eq(c.sources[0].type, CFG_SRC_TCP);
	cr_assert_eq(c.sources[0].data_source, SCHEMA_DS_NETWORK_1M);
	cr_assert_eq(c.sources[0].overflow, CFG_OVERFLOW_DROP_NEWEST);
	cr_assert_eq(c.sources[0].max_line_bytes, (size_t)64 << 10);
	cr_assert_eq(c.sources[1].data_source, -1);
	cr_assert_eq(c.sources[1].max_line_bytes, (size_t)1 << 20);
	cr_assert_eq(c.sources[2].type, CFG_SRC_UNIX);
	cr_assert_str_eq(c.sources[2].path, "/tmp/flowrw-test.sock");
	cr_assert_eq(c.sources[3].type, CFG_SRC_FILE);
	cr_assert(!c.sources[3].follow);
	cr_assert_eq(c.sources[4].type, CFG_SRC_STDIN);
	cr_assert_eq(c.sources[5].type, CFG_SRC_SYNTHETIC);
	cr_assert_eq(c.sources[5].data_source, SCHEMA_DS_APPLICATION_MAP_1S);
	cr_assert_eq(c.sources[5].rows_per_second, 0);
	cr_assert_eq(c.sources[5].series, 50);
	cr_assert_eq(c.sources[5].rows, 1000);
	cr_assert_eq(c.sources[5].seed, 42);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, defaults_of_an_empty_file)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d, ""), 0);
	cr_assert_eq(c.n_exporters, 0);
	cr_assert_eq(c.encoders, 2);
	cr_assert_eq(c.ring_bytes, (size_t)4 << 20);
	cr_assert_float_eq(c.drain_timeout, 30.0, 1e-9);
	cr_assert_str_eq(c.stats_listen, "127.0.0.1:9464");
	cr_assert_eq(c.log_level, CFG_LOG_INFO);
	cr_assert_null(c.dictionary);
	cr_assert_eq(c.n_sources, 1);
	cr_assert(find_line(&d, "warning: exporters: no active exporter", NULL));
	cr_assert_str_eq(c.path, "inline.yaml");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, default_config_of_make_run)
{
	char path[1024], sum[256];
	struct cfg c;
	struct cfg_diag d = { 0 };

	snprintf(path, sizeof(path), "%s/etc/flowrw.yaml", root());
	cr_assert_eq(cfg_load_file(&c, path, &d), 0);
	if (d.n_warnings)
		dump(&d);
	cr_assert_eq(d.n_warnings, 0);
	cr_assert_eq(c.n_exporters, 1);
	cr_assert(c.exporters[0].active);
	cr_assert_str_eq(c.exporters[0].endpoints[0].url, "http://127.0.0.1:1234/receive");
	cr_assert_eq(c.n_sources, 1);
	cr_assert_eq(c.sources[0].type, CFG_SRC_SYNTHETIC);
	cr_assert_eq(c.sources[0].data_source, SCHEMA_DS_APPLICATION_MAP_1S);
	cr_assert_eq(c.sources[0].rows_per_second, 500);
	cr_assert_eq(c.sources[0].series, 500);
	cr_assert_str_eq(c.stats_listen, "127.0.0.1:9464");
	cfg_summary(&c, sum, sizeof(sum));
	cr_assert(!strncmp(sum, "1 exporter (1 active), 1 source, 2 encoders, 8 lanes, shared memory 40.1 MiB; exporter 0: 8 lanes x 4 MiB ring (ring-bytes",
			   strlen("1 exporter (1 active), 1 source, 2 encoders, 8 lanes, shared memory 40.1 MiB; exporter 0: 8 lanes x 4 MiB ring (ring-bytes")),
		  "%s", sum);
	cr_assert(strstr(sum, " MiB"), "%s", sum);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, zero_means_deepflow_default)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d,
			       "exporters:\n  - protocol: prometheus\n    endpoints: [http://127.0.0.1:1/]\n"
			       "    data-sources: [flow_metrics.network.1m]\n"
			       "    queue-count: 0\n    queue-size: 0\n    batch-size: 0\n"), 0);
	cr_assert_eq(c.exporters[0].queue_count, 4);
	cr_assert_eq(c.exporters[0].queue_size, 100000);
	cr_assert_eq(c.exporters[0].batch_size, 1024);
	cr_assert(find_line(&d, "inline.yaml:5:18: note: exporters[0].queue-count: 0 means the default, 4", NULL));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, one_cpu_list_for_every_encoder)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d, "flowrw:\n  encoders: 3\n  cpu-affinity: {encoders: \"0-1\"}\n"), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert(c.cpu_encoders[i].set);
		cr_assert_eq(CPU_COUNT(&c.cpu_encoders[i].mask), 2);
		cr_assert_str_eq(c.cpu_encoders[i].text, "0-1");
	}
	cr_assert(!c.cpu_encoders[3].set);
	cr_assert(!c.cpu_sender.set);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

/* --- one test per error class --------------------------------------------- */

Test(cfg, yaml_syntax_error)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-syntax.yaml"), -EINVAL);
	cr_assert_eq(d.n_errors, 1);
	cr_assert(find_line(&d, "err-syntax.yaml:4:17: YAML syntax error: ", "flow sequence"));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, wrong_types)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-type.yaml"), -EINVAL);
	expect_error(&d, "err-type.yaml", "5:17", "exporters[0].batch-size", "got a mapping");
	expect_error(&d, "err-type.yaml", "6:14", "exporters[0].enabled", "expected true or false, got `maybe`");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, unknown_keys_are_listed_in_one_warning)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "warn-unknown-keys.yaml"), 0);
	expect_warning(&d, "warn-unknown-keys.yaml", "5:5", "exporters[0]",
		       "unknown keys batch_size (line 5; did you mean batch-size?), endpoint (line 6; did you mean endpoints?) ignored");
	expect_warning(&d, "warn-unknown-keys.yaml", "8:3", "flowrw", "unknown key encoder (line 8; did you mean encoders?)");
	cr_assert_eq(c.exporters[0].batch_size, 1024, "the misspelt key changes nothing");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, old_key_names_name_the_new_key)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "warn-old-keys.yaml"), 0);
	expect_warning(&d, "warn-old-keys.yaml", "5:5", "exporters[0].tag-omitempty-disabled", "`export-empty-tag`");
	expect_warning(&d, "warn-old-keys.yaml", "6:5", "exporters[0].metrics-omitempty",
		       "`export-empty-metrics-disabled`");
	expect_warning(&d, "warn-old-keys.yaml", "7:5", "exporters[0].enum-to-string-disabled",
		       "`enum-translate-to-name-disabled`");
	expect_warning(&d, "warn-old-keys.yaml", "8:5", "exporters[0].universal-tag-to-string-disabled",
		       "`universal-tag-translate-to-name-disabled`");
	expect_warning(&d, "warn-old-keys.yaml", "9:5", "exporters[0].tag-filter", "`tag-filters`");
	cr_assert_eq(c.exporters[0].n_tag_filters, 0, "old names are ignored, as by DeepFlow");
	cr_assert(!c.exporters[0].export_empty_metrics_disabled);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, empty_endpoints_is_an_error)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-endpoints-empty.yaml"), -EINVAL);
	expect_error(&d, "err-endpoints-empty.yaml", "4:16", "exporters[0].endpoints",
		     "empty list (DeepFlow would panic on the first send)");
	cfg_fini(&c);
	cfg_diag_fini(&d);
	cr_assert_eq(load(&c, &d, "err-endpoints-missing.yaml"), -EINVAL);
	expect_error(&d, "err-endpoints-missing.yaml", "3:7", "ingester.exporters[0].endpoints", "missing");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, malformed_endpoints)
{
	struct cfg c;
	struct cfg_diag d;
	static const char f[] = "err-endpoint-malformed.yaml";

	cr_assert_eq(load(&c, &d, f), -EINVAL);
	expect_error(&d, f, "5:9", "exporters[0].endpoints[0]", "is not a URL");
	expect_error(&d, f, "6:9", "exporters[0].endpoints[1]", "port out of range");
	expect_error(&d, f, "7:9", "exporters[0].endpoints[2]", "must be written in brackets");
	expect_error(&d, f, "8:9", "exporters[0].endpoints[3]", "unterminated [IPv6]");
	expect_error(&d, f, "9:9", "exporters[0].endpoints[4]", "no host");
	expect_error(&d, f, "10:9", "exporters[0].endpoints[5]", "invalid host");
	cr_assert_eq(d.n_errors, 6);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, https_is_refused)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-https.yaml"), -EINVAL);
	expect_error(&d, "err-https.yaml", "5:9", "exporters[0].endpoints[0]", "TLS not supported yet");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, url_credentials_are_refused_and_not_printed)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d,
			       "exporters:\n  - protocol: prometheus\n    data-sources: [flow_metrics.network.1m]\n"
			       "    endpoints: [\"http://user:hunter2@127.0.0.1/\"]\n"), -EINVAL);
	expect_error(&d, "inline.yaml", "4:17", "exporters[0].endpoints[0]", "credentials");
	for (int i = 0; i < d.n_lines; i++)
		cr_assert_null(strstr(d.lines[i], "hunter2"));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, unknown_data_source)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-data-source.yaml"), -EINVAL);
	expect_error(&d, "err-data-source.yaml", "6:9", "exporters[0].data-sources[1]",
		     "unknown data source `flow_metrics.network.5m`");
	cr_assert_eq(d.n_errors, 1);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, flow_log_is_not_exportable)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-flow-log.yaml"), -EINVAL);
	expect_error(&d, "err-flow-log.yaml", "5:9", "exporters[0].data-sources[0]",
		     "only flow_metrics.* data sources are");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, unknown_filter_operator)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-operator.yaml"), -EINVAL);
	expect_error(&d, "err-operator.yaml", "7:19", "exporters[0].tag-filters[0].operator",
		     "unknown operator `like`");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, invalid_regex_names_the_value)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-regex.yaml"), -EINVAL);
	expect_error(&d, "err-regex.yaml", "10:28",
		     "exporters[0].tag-filters-groups[0].tag-filters[0].field-values[0]",
		     "invalid regex `svc-(a|b`");
	cr_assert(find_line(&d, "err-regex.yaml:6:38: note: ", "with `or`"));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, regex_blowup_is_refused)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d,
			       "exporters:\n  - protocol: prometheus\n    data-sources: [flow_metrics.network.1m]\n"
			       "    endpoints: [http://127.0.0.1/]\n"
			       "    tag-filters: [{field-name: pod_id, operator: \"~\", field-values: [\"a{100}{100}{100}\"]}]\n"),
		     -EINVAL);
	cr_assert(find_line(&d, "exporters[0].tag-filters[0].field-values[0]: ", "too large"));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, numbers_out_of_range)
{
	struct cfg c;
	struct cfg_diag d;
	static const char f[] = "err-range.yaml";

	cr_assert_eq(load(&c, &d, f), -EINVAL);
	expect_error(&d, f, "5:18", "exporters[0].queue-count", "300 is out of range (allowed 1..256)");
	expect_error(&d, f, "6:17", "exporters[0].batch-size", "out of range (allowed 1..1000000)");
	expect_error(&d, f, "8:20", "exporters[0].flush-timeout", "must be more than 0");
	expect_error(&d, f, "10:13", "flowrw.encoders", "65 is out of range (allowed 1..64)");
	expect_error(&d, f, "11:18", "flowrw.drain-timeout", "out of range");
	expect_error(&d, f, "12:15", "flowrw.ring-bytes", "1KiB is out of range (allowed 64KiB..4GiB)");
	cfg_fini(&c);
	cfg_diag_fini(&d);
	cr_assert_eq(load(&c, &d, "err-queue-size.yaml"), -EINVAL);
	expect_error(&d, "err-queue-size.yaml", "5:17", "exporters[0].queue-size",
		     "queue-size (512) must be at least batch-size (1024)");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, too_many_lanes)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-lanes.yaml"), -EINVAL);
	expect_error(&d, "err-lanes.yaml", "7:13", "flowrw.encoders", "4352 lanes");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, bad_cpu_lists)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-cpulist.yaml"), -EINVAL);
	expect_error(&d, "err-cpulist.yaml", "4:13", "flowrw.cpu-affinity.ingest", "`0-` is not a CPU list");
	expect_error(&d, "err-cpulist.yaml", "5:13", "flowrw.cpu-affinity.sender", "`1-0` is not a CPU list");
	expect_error(&d, "err-cpulist.yaml", "6:15", "flowrw.cpu-affinity.encoders", "3 CPU lists for 2 encoders");
	cfg_fini(&c);
	cfg_diag_fini(&d);
	cr_assert_eq(load(&c, &d, "err-cpu-offline.yaml"), -EINVAL);
	expect_error(&d, "err-cpu-offline.yaml", "3:13", "flowrw.cpu-affinity.sender", "CPU 1000 of `0,1000` is not online");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, both_shapes_at_once)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-both-shapes.yaml"), -EINVAL);
	cr_assert(find_line(&d, "err-both-shapes.yaml:6:3: ", "are both given"));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, bad_sources)
{
	struct cfg c;
	struct cfg_diag d;
	static const char f[] = "err-sources.yaml";

	cr_assert_eq(load(&c, &d, f), -EINVAL);
	expect_error(&d, f, "4:7", "flowrw.sources[1]", "stdin is already sources[0]");
	expect_error(&d, f, "5:14", "flowrw.sources[2].type", "unknown source type `pipe`");
	expect_error(&d, f, "6:27", "flowrw.sources[3].listen", "expected HOST:PORT");
	expect_error(&d, f, "7:7", "flowrw.sources[4].path", "missing path");
	expect_error(&d, f, "8:7", "flowrw.sources[5]", "needs `data-source:`");
	expect_error(&d, f, "9:29", "flowrw.sources[6].overflow", "unknown policy `drop-oldest`");
	expect_error(&d, f, "10:52", "flowrw.sources[7].max-line-bytes", "expected a size");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, header_values_are_never_printed)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load(&c, &d, "err-headers.yaml"), -EINVAL);
	expect_error(&d, "err-headers.yaml", "6:7", "exporters[0].extra-headers", "`X Bad` is not a valid header name");
	expect_error(&d, "err-headers.yaml", "7:18", "exporters[0].extra-headers", "header `X-Newline`: the value contains a control character");
	expect_error(&d, "err-headers.yaml", "8:15", "exporters[0].extra-headers", "header `X-List`");
	for (int i = 0; i < d.n_lines; i++)
		cr_assert_null(strstr(d.lines[i], "secret"), "%s", d.lines[i]);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, skipped_exporters_and_warnings)
{
	struct cfg c;
	struct cfg_diag d;
	static const char f[] = "warn-skipped.yaml";

	cr_assert_eq(load(&c, &d, f), 0, "skipped exporters are not errors");
	cr_assert_eq(c.n_exporters, 3);
	cr_assert(!c.exporters[0].active);
	cr_assert_eq(c.exporters[0].protocol, CFG_PROTO_KAFKA);
	expect_warning(&d, f, "2:15", "exporters[0].protocol", "protocol `kafka` is not exported");
	cr_assert(!c.exporters[1].enabled && !c.exporters[1].active);
	cr_assert(find_line(&d, "warn-skipped.yaml:7:14: note: exporters[1].enabled: false: exporter skipped", NULL));
	expect_warning(&d, f, "8:16", "exporters[1].endpoints", "empty list");
	cr_assert(c.exporters[2].active);
	cr_assert_eq(cfg_active_exporters(&c), 1);
	expect_warning(&d, f, "13:23", "exporters[2].export-empty-tag", "has no effect");
	expect_warning(&d, f, "14:27", "exporters[2].export-fields[1]", "unknown category `$metricz`");
	expect_warning(&d, f, "14:37", "exporters[2].export-fields[2]", "unknown category `$tag.nope`");
	expect_warning(&d, f, "14:48", "exporters[2].export-fields[3]", "unknown field `no_such_field`");
	expect_warning(&d, f, "16:22", "exporters[2].tag-filters[0].field-name", "write `region_id`");
	expect_warning(&d, f, "17:22", "exporters[2].tag-filters[1].field-name", "unknown field `pod_name`");
	expect_warning(&d, f, "18:57", "exporters[2].tag-filters[2].field-values", "only the first value");
	cr_assert_eq(c.exporters[2].n_export_fields, 5, "kept as written for the encoder");
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, nul_byte_and_non_scalar_keys)
{
	static const char text[] = "exporters:\n  - protocol: \"prom\\0etheus\"\n    ? [a]\n    : 1\n";
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(cfg_load_buffer(&c, text, sizeof(text) - 1, "inline.yaml", &d), -EINVAL);
	cr_assert(find_line(&d, "inline.yaml:2:15: exporters[0].protocol: value contains a NUL byte", NULL));
	cr_assert(find_line(&d, "inline.yaml:3:7: exporters[0]: keys must be plain strings", NULL));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, duplicate_keys)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d, "flowrw:\n  encoders: 1\n  encoders: 2\n"), -EINVAL);
	cr_assert(find_line(&d, "inline.yaml:3:3: flowrw.encoders: duplicate key (first at line 2)", NULL));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, nesting_depth_is_bounded, .timeout = 10)
{
	size_t n = 200000;
	char *text = malloc(n + 8);
	struct cfg c;
	struct cfg_diag d = { 0 };

	memcpy(text, "a: ", 3);
	memset(text + 3, '[', n);
	text[n + 3] = '\0';
	cr_assert_eq(cfg_load_buffer(&c, text, n + 3, "deep.yaml", &d), -EINVAL);
	cr_assert(find_line(&d, "deep.yaml:1:", "nested deeper than 64 levels"));
	free(text);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, diagnostics_come_in_file_order)
{
	struct cfg c;
	struct cfg_diag d;

	/* exporters come first in the file, flowrw: is read first */
	load_text(&c, &d, "exporters: 3\nflowrw:\n  encoders: 0\n");
	cr_assert_eq(d.n_errors, 2);
	cr_assert(strstr(d.lines[0], "inline.yaml:1:12: "), "%s", d.lines[0]);
	cr_assert(strstr(d.lines[1], "inline.yaml:3:13: "), "%s", d.lines[1]);
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

Test(cfg, unreadable_file)
{
	struct cfg c;
	struct cfg_diag d = { 0 };

	cr_assert_eq(cfg_load_file(&c, "/nonexistent/flowrw.yaml", &d), -ENOENT);
	cr_assert(find_line(&d, "/nonexistent/flowrw.yaml: cannot read the config: ", NULL));
	cfg_fini(&c);
	cfg_fini(&c);
	cfg_diag_fini(&d);
	cfg_diag_fini(&d);
}

/* --- helpers -------------------------------------------------------------- */

Test(cfg, parse_size)
{
	static const struct { const char *s; size_t v; } ok[] = {
		{ "4096", 4096 }, { "64MiB", 64UL << 20 }, { "1g", 1UL << 30 }, { "1G", 1UL << 30 },
		{ "8 MiB", 8UL << 20 }, { "16k", 16384 }, { "1KB", 1000 }, { "2mb", 2000000 },
		{ "0", 0 }, { "1_000", 1000 }, { "3b", 3 }, { "1TiB", 1ULL << 40 },
	};
	static const char *const bad[] = { "", "MiB", "-1", "1.5g", "1 parsec", "0x10",
					   "99999999999999999999", "17179869184g" };
	size_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(cfg_parse_size(ok[i].s, &v), 0, "%s", ok[i].s);
		cr_assert_eq(v, ok[i].v, "%s", ok[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(cfg_parse_size(bad[i], &v), -EINVAL, "%s", bad[i]);
}

Test(cfg, parse_cpulist)
{
	static const char *const bad[] = { "", "a", "0-", "-1", "1-0", "0,,1", "0 1", "1024", "0-2000" };
	cpu_set_t s;

	cr_assert_eq(cfg_parse_cpulist("0-1,3", &s), 0);
	cr_assert_eq(CPU_COUNT(&s), 3);
	cr_assert(CPU_ISSET(3, &s) && !CPU_ISSET(2, &s));
	cr_assert_eq(cfg_parse_cpulist(" 5 , 7-8 ", &s), 0);
	cr_assert_eq(CPU_COUNT(&s), 3);
	cr_assert_eq(cfg_parse_cpulist("1023", &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(cfg_parse_cpulist(bad[i], &s), -EINVAL, "%s", bad[i]);
}

Test(cfg, durations)
{
	struct cfg c;
	struct cfg_diag d;

	cr_assert_eq(load_text(&c, &d, "flowrw:\n  drain-timeout: 1500ms\n"), 0);
	cr_assert_float_eq(c.drain_timeout, 1.5, 1e-9);
	cfg_fini(&c);
	cfg_diag_fini(&d);
	cr_assert_eq(load_text(&c, &d, "flowrw:\n  drain-timeout: soon\n"), -EINVAL);
	cr_assert(find_line(&d, "inline.yaml:2:18: flowrw.drain-timeout: expected seconds", NULL));
	cfg_fini(&c);
	cfg_diag_fini(&d);
}

/* --- nothing a user writes crashes the loader ----------------------------- */

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	*len = (size_t)read(fd, buf, (size_t)st.st_size);
	close(fd);
	return buf;
}

/* Load <len> bytes copied into an exact-size heap block, so ASan sees any
 * read past the end. */
static void load_exact(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	struct cfg c;
	struct cfg_diag d = { 0 };
	int r;

	memcpy(copy, text, len);
	r = cfg_load_buffer(&c, copy, len, "cut.yaml", &d);
	cr_assert(r == 0 || r == -EINVAL, "unexpected %d", r);
	cr_assert(r == 0 || d.n_errors > 0);
	cr_assert(r != 0 || d.n_errors == 0);
	cfg_fini(&c);
	cfg_diag_fini(&d);
	free(copy);
}

Test(cfg, every_fixture_truncated_at_every_byte, .timeout = 120)
{
	char dir[1024];
	struct dirent *de;
	DIR *dp;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/tests/data/cfg", root());
	dp = opendir(dir);
	cr_assert_not_null(dp, "%s", dir);
	while ((de = readdir(dp))) {
		char path[2048];
		size_t len;
		char *text;

		if (!strstr(de->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = slurp(path, &len);
		cr_assert_not_null(text, "%s", path);
		for (size_t cut = 0; cut <= len; cut++)
			load_exact(text, cut);
		free(text);
		files++;
	}
	closedir(dp);
	cr_assert_geq(files, 20);
}

Test(cfg, full_fixture_with_every_byte_replaced, .timeout = 120)
{
	static const char subst[] = { '\0', '\n', ':', '[', '{', '-', '"', '&', '*', '!', '#', '\xff' };
	size_t len;
	char *text = slurp(fixture("full.yaml"), &len);

	cr_assert_not_null(text);
	for (size_t i = 0; i < len; i++) {
		char keep = text[i];

		for (size_t s = 0; s < sizeof(subst); s++) {
			text[i] = subst[s];
			load_exact(text, len);
		}
		text[i] = keep;
	}
	free(text);
}

/* queue-size sizes the lane rings when written; without it ring-bytes does,
 * and a lane always holds two of the largest batches. */
Test(cfg, lane_rings_follow_queue_size_or_ring_bytes)
{
	static const char base[] = "exporters:\n"
				   "  - protocol: prometheus\n"
				   "    data-sources: [flow_metrics.network.1m]\n"
				   "    endpoints: [\"http://127.0.0.1:9/a\"]\n"
				   "%s"
				   "flowrw:\n  ring-bytes: 2MiB\n  sources: [{type: stdin, max-line-bytes: 64KiB}]\n";
	static const struct {
		const char *keys;
		size_t ring;
	} cases[] = {
		{ "", 4 << 20 },                                   /* 2 MiB < two 1024-series batches */
		{ "    batch-size: 256\n", 2 << 20 },             /* ring-bytes */
		{ "    queue-size: 200000\n", 32 << 20 },         /* 200000 x 160 B, rounded up */
		{ "    queue-size: 2000\n    batch-size: 256\n", 1 << 20 }, /* two batches */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c;
		struct cfg_diag d = { 0 };
		char text[1024];

		memset(&c, 0, sizeof(c));
		snprintf(text, sizeof(text), base, cases[i].keys);
		cr_assert_eq(load_text(&c, &d, text), 0, "case %zu", i);
		cr_expect_eq(shm_lane_ring_bytes(&c.exporters[0]), cases[i].ring, "case %zu: %zu bytes", i,
			     shm_lane_ring_bytes(&c.exporters[0]));
		cfg_fini(&c);
		cfg_diag_fini(&d);
	}
}
