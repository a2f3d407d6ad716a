/* SPDX-License-Identifier: MIT */
/* cfg.c: load the YAML configuration: top level, the flowrw: section, sources, checks. */
#include "common/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <yaml.h>

#include "common/cfg_yaml.h"
#include "common/schema.h"
#include "common/shm.h"

#define CFG_DEF_ENCODERS     2
#define CFG_DEF_RING_BYTES   ((size_t)4 << 20) /* 2 encoders x 4 lanes: 40 MiB of rings */
#define CFG_MIN_RING_BYTES   ((size_t)64 << 10)
#define CFG_MAX_RING_BYTES   ((size_t)4 << 30)
#define CFG_DEF_DRAIN        30.0
#define CFG_DEF_STATS        "127.0.0.1:9464"
#define CFG_DEF_TCP          "127.0.0.1:20044"
#define CFG_DEF_MAX_LINE     ((size_t)1 << 20)
#define CFG_MIN_MAX_LINE     ((size_t)256)
#define CFG_MAX_MAX_LINE     ((size_t)256 << 20)
#define CFG_MAX_FILE_BYTES   ((off_t)16 << 20)
#define CFG_RING_SLACK       4096 /* raw row header beyond the line's bytes */
#define CFG_MAX_DEPTH        64   /* nesting levels; ours need 6 */

/* --- sizes and CPU lists -------------------------------------------------- */

int cfg_parse_size(const char *s, size_t *out)
{
	static const struct { const char *sfx; uint64_t mul; } units[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 1ULL << 10 }, { "ki", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1000ULL },
		{ "m", 1ULL << 20 }, { "mi", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1000000ULL },
		{ "g", 1ULL << 30 }, { "gi", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1000000000ULL },
		{ "t", 1ULL << 40 }, { "ti", 1ULL << 40 }, { "tib", 1ULL << 40 }, { "tb", 1000000000000ULL },
	};
	uint64_t v = 0;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p) || *p == '_'; p++) {
		if (*p == '_')
			continue;
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].sfx))
			continue;
		if (v > SIZE_MAX / units[i].mul)
			return -EINVAL;
		*out = (size_t)(v * units[i].mul);
		return 0;
	}
	return -EINVAL;
}

static int parse_cpu_number(const char **pp, long *out)
{
	const char *p = *pp;
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v >= CPU_SETSIZE)
			return -EINVAL;
	}
	*pp = p;
	*out = v;
	return 0;
}

int cfg_parse_cpulist(const char *s, cpu_set_t *set)
{
	const char *p = s;

	CPU_ZERO(set);
	if (!s)
		return -EINVAL;
	for (;;) {
		long a, b;

		while (*p == ' ')
			p++;
		if (parse_cpu_number(&p, &a))
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_cpu_number(&p, &b))
				return -EINVAL;
		}
		if (a > b)
			return -EINVAL;
		for (long i = a; i <= b; i++)
			CPU_SET((size_t)i, set);
		while (*p == ' ')
			p++;
		if (*p == ',') {
			p++;
			continue;
		}
		return *p ? -EINVAL : 0;
	}
}

static void read_cpus(struct cfg_ctx *y)
{
	char buf[512];
	ssize_t n;
	int fd;

	if (y->cpus_read)
		return;
	y->cpus_read = true;
	fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			y->online_ok = cfg_parse_cpulist(buf, &y->online) == 0;
		}
	}
	y->allowed_ok = sched_getaffinity(0, sizeof(y->allowed), &y->allowed) == 0;
	if (!y->online_ok && y->allowed_ok) {
		y->online = y->allowed;
		y->online_ok = true;
	}
}

/* Render <set> as a CPU list ("0-3,6") into <buf>. */
static void cpus_text(const cpu_set_t *set, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < CPU_SETSIZE && o + 16 < cap; i++) {
		int j = i;

		if (!CPU_ISSET((size_t)i, set))
			continue;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET((size_t)j + 1, set))
			j++;
		o += (size_t)snprintf(buf + o, cap - o, j > i ? "%s%d-%d" : "%s%d", o ? "," : "", i, j);
		i = j;
	}
}

static int parse_cpus(struct cfg_ctx *y, yaml_node_t *n, struct cfg_cpus *out)
{
	const char *s;
	size_t len;
	char q[96], on[128];
	cpu_set_t set;
	int r = cfg_node_text(y, n, &s, &len);

	if (r)
		return r;
	cfg_quote(s, len, q, sizeof(q));
	if (cfg_parse_cpulist(s, &set)) {
		cfg_err(y, n, "`%s` is not a CPU list (e.g. \"0-1,3\")", q);
		return -1;
	}
	read_cpus(y);
	if (y->online_ok) {
		for (int i = 0; i < CPU_SETSIZE; i++) {
			if (CPU_ISSET((size_t)i, &set) && !CPU_ISSET((size_t)i, &y->online)) {
				cpus_text(&y->online, on, sizeof(on));
				cfg_err(y, n, "CPU %d of `%s` is not online (online: %s)", i, q, on);
				return -1;
			}
		}
	}
	if (y->allowed_ok) {
		cpu_set_t both;

		CPU_AND(&both, &set, &y->allowed);
		if (!CPU_EQUAL(&both, &set)) {
			cpus_text(&y->allowed, on, sizeof(on));
			cfg_warn(y, n, "`%s` includes CPUs outside this process's affinity (%s); "
				 "pinning %s", q, on, CPU_COUNT(&both) ? "uses the others" : "would fail");
		}
	}
	free(out->text);
	out->text = cfg_strndup(y, s, len);
	out->mask = set;
	out->set = true;
	return 0;
}

/* --- the flowrw: section -------------------------------------------------- */

static void parse_affinity(struct cfg_ctx *y, const struct cfg_key *k, struct cfg *c)
{
	struct cfg_key keys[] = { { "supervisor" }, { "ingest" }, { "sender" }, { "encoders" } };
	struct cfg_cpus *role[] = { &c->cpu_supervisor, &c->cpu_ingest, &c->cpu_sender };
	size_t pl = cfg_push(y, k->name), pe;
	yaml_node_t *enc;

	if (cfg_map(y, k->val, keys, 4))
		goto out;
	for (int i = 0; i < 3; i++) {
		size_t pi = cfg_push(y, keys[i].name);

		parse_cpus(y, keys[i].val, role[i]);
		cfg_pop(y, pi);
	}
	enc = keys[3].val;
	pe = cfg_push(y, "encoders");
	if (!cfg_is_null(enc) && enc->type == YAML_SEQUENCE_NODE) {
		int n = cfg_seq_len(enc);

		if (n != c->encoders) {
			cfg_err(y, enc, "%d CPU lists for %d encoders: give one list per encoder, or a "
				"single list for all", n, c->encoders);
		} else {
			for (int i = 0; i < n; i++) {
				size_t pi = cfg_push_index(y, i);

				if (parse_cpus(y, cfg_seq_item(y, enc, i), &c->cpu_encoders[i]) == 1)
					cfg_err(y, cfg_seq_item(y, enc, i), "empty CPU list");
				cfg_pop(y, pi);
			}
		}
	} else if (parse_cpus(y, enc, &c->cpu_encoders[0]) == 0) {
		for (int i = 1; i < c->encoders; i++) {
			c->cpu_encoders[i].set = true;
			c->cpu_encoders[i].mask = c->cpu_encoders[0].mask;
			c->cpu_encoders[i].text = cfg_strndup(y, c->cpu_encoders[0].text,
							      strlen(c->cpu_encoders[0].text));
		}
	}
	cfg_pop(y, pe);
out:
	cfg_pop(y, pl);
}

enum {
	SK_TYPE = 0,
	SK_LISTEN,
	SK_PATH,
	SK_FOLLOW,
	SK_DATA_SOURCE,
	SK_OVERFLOW,
	SK_MAX_LINE,
	SK_RPS,
	SK_SERIES,
	SK_ROWS,
	SK_SEED,
	SK_COUNT, /* number of source keys */
};

static const char *const src_types[] = {
	[CFG_SRC_TCP] = "tcp",
	[CFG_SRC_UNIX] = "unix",
	[CFG_SRC_FILE] = "file",
	[CFG_SRC_STDIN] = "stdin",
	[CFG_SRC_SYNTHETIC] = "synthetic",
};

#define SKB(k) (1U << (k))
#define SK_COMMON (SKB(SK_TYPE) | SKB(SK_DATA_SOURCE) | SKB(SK_OVERFLOW))
#define SK_LINES  (SK_COMMON | SKB(SK_MAX_LINE))

/* Keys that mean something for each source type. */
static const unsigned src_keys[] = {
	[CFG_SRC_TCP] = SK_LINES | SKB(SK_LISTEN),
	[CFG_SRC_UNIX] = SK_LINES | SKB(SK_PATH),
	[CFG_SRC_FILE] = SK_LINES | SKB(SK_PATH) | SKB(SK_FOLLOW),
	[CFG_SRC_STDIN] = SK_LINES,
	[CFG_SRC_SYNTHETIC] = SK_COMMON | SKB(SK_RPS) | SKB(SK_SERIES) | SKB(SK_ROWS) | SKB(SK_SEED),
};

static void source_fini(struct cfg_source *s)
{
	free(s->listen);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static int parse_source(struct cfg_ctx *y, yaml_node_t *n, struct cfg *c, struct cfg_source *s)
{
	struct cfg_key keys[SK_COUNT] = {
		[SK_TYPE] = { "type" },
		[SK_LISTEN] = { "listen" },
		[SK_PATH] = { "path" },
		[SK_FOLLOW] = { "follow" },
		[SK_DATA_SOURCE] = { "data-source" },
		[SK_OVERFLOW] = { "overflow" },
		[SK_MAX_LINE] = { "max-line-bytes" },
		[SK_RPS] = { "rows-per-second" },
		[SK_SERIES] = { "series" },
		[SK_ROWS] = { "rows" },
		[SK_SEED] = { "seed" },
	};
	int errors_before = y->diag->n_errors, type = -1, r;
	const char *txt;
	size_t len, pl;
	char q[128];

	s->data_source = -1;
	s->overflow = CFG_OVERFLOW_BLOCK;
	s->max_line_bytes = CFG_DEF_MAX_LINE;
	s->rows_per_second = 1000;
	s->series = 500;
	s->rows = 0;
	s->seed = 1;
	s->line = n ? (int)n->start_mark.line + 1 : 0;
	r = cfg_map(y, n, keys, SK_COUNT);
	if (r) {
		if (r == 1)
			cfg_err(y, n, "empty source: give at least `type:`");
		return -1;
	}
	pl = cfg_push(y, "type");
	r = cfg_node_text(y, keys[SK_TYPE].val, &txt, &len);
	if (r == 0) {
		for (int i = 0; i < (int)(sizeof(src_types) / sizeof(src_types[0])); i++)
			if (!strcmp(txt, src_types[i]))
				type = i;
		if (type < 0)
			cfg_err(y, keys[SK_TYPE].val, "unknown source type `%s` (tcp, unix, file, stdin, "
				"synthetic)", cfg_quote(txt, len, q, sizeof(q)));
	} else if (r == 1) {
		cfg_err(y, keys[SK_TYPE].key ? keys[SK_TYPE].val : n,
			"missing type (tcp, unix, file, stdin, synthetic)");
	}
	cfg_pop(y, pl);
	if (type < 0)
		return -1;
	s->type = (enum cfg_source_type)type;
	for (int k = 0; k < SK_COUNT; k++) {
		if (keys[k].key && !(src_keys[type] & SKB(k))) {
			pl = cfg_push(y, keys[k].name);
			cfg_warn(y, keys[k].key, "has no effect for a %s source", src_types[type]);
			cfg_pop(y, pl);
		}
	}

	/* keys shared by every type */
	pl = cfg_push(y, "data-source");
	cfg_node_ds(y, keys[SK_DATA_SOURCE].val, &s->data_source);
	cfg_pop(y, pl);
	pl = cfg_push(y, "overflow");
	r = cfg_node_text(y, keys[SK_OVERFLOW].val, &txt, &len);
	if (r == 0) {
		if (!strcmp(txt, "drop-newest"))
			s->overflow = CFG_OVERFLOW_DROP_NEWEST;
		else if (strcmp(txt, "block"))
			cfg_err(y, keys[SK_OVERFLOW].val, "unknown policy `%s` (block, drop-newest)",
				cfg_quote(txt, len, q, sizeof(q)));
	}
	cfg_pop(y, pl);
	if (src_keys[type] & SKB(SK_MAX_LINE)) {
		cfg_key_size(y, &keys[SK_MAX_LINE], CFG_MIN_MAX_LINE, CFG_MAX_MAX_LINE, &s->max_line_bytes);
		if (s->max_line_bytes + CFG_RING_SLACK > c->ring_bytes / 2) {
			const struct cfg_key *at = &keys[SK_MAX_LINE];

			pl = cfg_push(y, at->name);
			cfg_err(y, at->key ? at->val : n, "%zu bytes do not fit the encoder rings: a row "
				"must fit in half of ring-bytes (%zu); raise ring-bytes or lower "
				"max-line-bytes", s->max_line_bytes, c->ring_bytes);
			cfg_pop(y, pl);
		}
	}

	switch (s->type) {
	case CFG_SRC_TCP:
		if (cfg_key_str(y, &keys[SK_LISTEN], &s->listen) == 1)
			s->listen = cfg_strndup(y, CFG_DEF_TCP, strlen(CFG_DEF_TCP));
		if (s->listen && keys[SK_LISTEN].val) {
			pl = cfg_push(y, "listen");
			cfg_check_hostport(y, keys[SK_LISTEN].val, s->listen, 0);
			cfg_pop(y, pl);
		}
		break;
	case CFG_SRC_UNIX:
	case CFG_SRC_FILE:
		pl = cfg_push(y, "path");
		r = cfg_node_str(y, keys[SK_PATH].val, &s->path);
		if (r == 1 || (r == 0 && !*s->path)) {
			cfg_err(y, keys[SK_PATH].key ? keys[SK_PATH].val : n, "missing path");
		} else if (r == 0 && s->type == CFG_SRC_UNIX &&
			   strlen(s->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			cfg_err(y, keys[SK_PATH].val, "socket path longer than %zu bytes",
				sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		}
		cfg_pop(y, pl);
		if (s->type == CFG_SRC_FILE) {
			cfg_key_bool(y, &keys[SK_FOLLOW], &s->follow);
			if (r == 0 && *s->path && !s->follow && access(s->path, R_OK) == -1) {
				pl = cfg_push(y, "path");
				cfg_warn(y, keys[SK_PATH].val, "cannot read `%s` now: %s",
					 cfg_quote(s->path, strlen(s->path), q, sizeof(q)), strerror(errno));
				cfg_pop(y, pl);
			}
		}
		break;
	case CFG_SRC_STDIN:
		break;
	case CFG_SRC_SYNTHETIC:
		if (!keys[SK_DATA_SOURCE].key || cfg_is_null(keys[SK_DATA_SOURCE].val))
			cfg_err(y, n, "a synthetic source needs `data-source:` (e.g. "
				"flow_metrics.application_map.1s)");
		cfg_key_u64(y, &keys[SK_RPS], 0, 100000000, &s->rows_per_second);
		cfg_key_u64(y, &keys[SK_SERIES], 1, 10000000, &s->series);
		cfg_key_u64(y, &keys[SK_ROWS], 0, UINT64_MAX, &s->rows);
		cfg_key_u64(y, &keys[SK_SEED], 0, UINT64_MAX, &s->seed);
		break;
	}
	return y->diag->n_errors == errors_before ? 0 : -1;
}

static void parse_sources(struct cfg_ctx *y, const struct cfg_key *k, struct cfg *c)
{
	size_t pl = cfg_push(y, k->name);
	yaml_node_t *list = k->val;
	int n, stdin_at = -1;

	if (cfg_is_null(list))
		goto out;
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(y, list, "expected a list of sources, got %s", cfg_kind(list));
		goto out;
	}
	n = cfg_seq_len(list);
	if (n > CFG_MAX_SOURCES) {
		cfg_err(y, list, "%d sources: at most %d are supported", n, CFG_MAX_SOURCES);
		goto out;
	}
	c->sources = cfg_calloc(y, (size_t)n, sizeof(*c->sources));
	if (!c->sources)
		goto out;
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = cfg_seq_item(y, list, i);
		struct cfg_source *s = &c->sources[c->n_sources];
		size_t pi = cfg_push_index(y, i);

		if (parse_source(y, it, c, s)) {
			source_fini(s);
			cfg_pop(y, pi);
			continue;
		}
		if (s->type == CFG_SRC_STDIN) {
			if (stdin_at >= 0)
				cfg_err(y, it, "stdin is already sources[%d]: it can be read once", stdin_at);
			stdin_at = i;
		}
		for (int j = 0; j < c->n_sources; j++) {
			const struct cfg_source *o = &c->sources[j];

			if (s->type == CFG_SRC_TCP && o->type == CFG_SRC_TCP && !strcmp(s->listen, o->listen))
				cfg_err(y, it, "%s is already the address of the source at line %d",
					s->listen, o->line);
			if (s->type == CFG_SRC_UNIX && o->type == CFG_SRC_UNIX && !strcmp(s->path, o->path))
				cfg_err(y, it, "this socket path is already used by the source at line %d",
					o->line);
			if (s->type == CFG_SRC_FILE && o->type == CFG_SRC_FILE && !strcmp(s->path, o->path))
				cfg_warn(y, it, "this file is already read by the source at line %d "
					 "(its rows would be read twice)", o->line);
		}
		c->n_sources++;
		cfg_pop(y, pi);
	}
out:
	cfg_pop(y, pl);
}

static void parse_flowrw(struct cfg_ctx *y, yaml_node_t *n, struct cfg *c)
{
	struct cfg_key keys[] = {
		{ "encoders" }, { "cpu-affinity" }, { "ring-bytes" }, { "drain-timeout" },
		{ "stats-listen" }, { "log-level" }, { "dictionary" }, { "sources" },
	};
	size_t pl = cfg_push(y, "flowrw");
	int64_t enc;
	const char *txt;
	size_t len;
	char q[128];
	int r;

	if (cfg_map(y, n, keys, 8))
		goto out;
	if (cfg_key_int(y, &keys[0], 1, CFG_MAX_ENCODERS, &enc) == 0) {
		c->encoders = (int)enc;
		y->encoders_mark = keys[0].val->start_mark;
	}
	parse_affinity(y, &keys[1], c);
	if (cfg_key_size(y, &keys[2], CFG_MIN_RING_BYTES, CFG_MAX_RING_BYTES, &c->ring_bytes) == 0 &&
	    (c->ring_bytes & (c->ring_bytes - 1))) {
		size_t p2 = CFG_MIN_RING_BYTES;

		while (p2 < c->ring_bytes)
			p2 <<= 1;
		c->ring_bytes = p2;
		size_t pr = cfg_push(y, "ring-bytes");
		cfg_note(y, keys[2].val, "rounded up to a power of two, %zu bytes", p2);
		cfg_pop(y, pr);
	}
	cfg_key_seconds(y, &keys[3], 0, false, 86400, &c->drain_timeout);
	r = cfg_key_str(y, &keys[4], &c->stats_listen);
	if (r == 0 && *c->stats_listen) {
		size_t ps = cfg_push(y, "stats-listen");

		cfg_check_hostport(y, keys[4].val, c->stats_listen, 0);
		cfg_pop(y, ps);
	}
	{
		size_t pv = cfg_push(y, "log-level");

		r = cfg_node_text(y, keys[5].val, &txt, &len);
		if (r == 0) {
			if (!strcasecmp(txt, "error"))
				c->log_level = CFG_LOG_ERROR;
			else if (!strcasecmp(txt, "warning") || !strcasecmp(txt, "warn"))
				c->log_level = CFG_LOG_WARN;
			else if (!strcasecmp(txt, "info"))
				c->log_level = CFG_LOG_INFO;
			else if (!strcasecmp(txt, "debug"))
				c->log_level = CFG_LOG_DEBUG;
			else
				cfg_err(y, keys[5].val, "unknown level `%s` (error, warning, info, debug)",
					cfg_quote(txt, len, q, sizeof(q)));
		}
		cfg_pop(y, pv);
	}
	r = cfg_key_str(y, &keys[6], &c->dictionary);
	if (r == 0 && !*c->dictionary) {
		free(c->dictionary);
		c->dictionary = NULL;
	} else if (r == 0 && access(c->dictionary, R_OK) == -1) {
		size_t pd = cfg_push(y, "dictionary");

		cfg_warn(y, keys[6].val, "cannot read `%s`: %s (universal tags would be exported "
			 "without names)", cfg_quote(c->dictionary, strlen(c->dictionary), q, sizeof(q)),
			 strerror(errno));
		cfg_pop(y, pd);
	}
	parse_sources(y, &keys[7], c);
out:
	cfg_pop(y, pl);
}

/* --- top level ------------------------------------------------------------ */

static void parse_root(struct cfg_ctx *y, yaml_node_t *root, struct cfg *c)
{
	struct cfg_key keys[] = { { "exporters" }, { "ingester" }, { "flowrw" } };
	yaml_node_t *list = NULL, *ing_key = NULL;

	if (cfg_is_null(root))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		cfg_err(y, root, "expected a mapping at the top level (exporters:, ingester:, flowrw:), "
			"got %s", cfg_kind(root));
		return;
	}
	cfg_map(y, root, keys, 3);
	/* flowrw: first, so the exporters can be checked against the pipeline */
	parse_flowrw(y, keys[2].val, c);

	if (!cfg_is_null(keys[1].val)) {
		yaml_node_t *ing = keys[1].val;
		char others[256];
		size_t o = 0;
		int n_others = 0;

		if (ing->type != YAML_MAPPING_NODE) {
			size_t pl = cfg_push(y, "ingester");

			cfg_err(y, ing, "expected a mapping, got %s", cfg_kind(ing));
			cfg_pop(y, pl);
		} else {
			/* DeepFlow's server.yaml pasted whole: only exporters matter. */
			for (yaml_node_pair_t *p = ing->data.mapping.pairs.start;
			     p < ing->data.mapping.pairs.top; p++) {
				yaml_node_t *k = cfg_node(y, p->key);
				char q[64];

				if (k && k->type == YAML_SCALAR_NODE &&
				    !strcmp((const char *)k->data.scalar.value, "exporters")) {
					if (ing_key) {
						size_t pl = cfg_push(y, "ingester.exporters");

						cfg_err(y, k, "duplicate key (first at line %zu)",
							ing_key->start_mark.line + 1);
						cfg_pop(y, pl);
						continue;
					}
					ing_key = k;
					list = cfg_node(y, p->value);
				} else if (k && k->type == YAML_SCALAR_NODE && n_others < 6 && o < 200) {
					int w = snprintf(others + o, sizeof(others) - o, "%s%s", n_others ? ", " : "",
							 cfg_quote((const char *)k->data.scalar.value,
								   k->data.scalar.length, q, 40));
					o += w > 0 ? (size_t)w : 0;
					n_others++;
				} else {
					n_others++;
				}
			}
			if (n_others) {
				size_t pl = cfg_push(y, "ingester");

				cfg_note(y, ing, "DeepFlow ingester settings not used by flowrw ignored: %s%s",
					 others, n_others > 6 ? ", ..." : "");
				cfg_pop(y, pl);
			}
		}
	}
	if (ing_key && keys[0].key) {
		cfg_err(y, ing_key, "ingester.exporters and a top-level exporters (line %zu) are both "
			"given: keep one", keys[0].key->start_mark.line + 1);
		return;
	}
	if (ing_key) {
		y->exporters_path = "ingester.exporters";
		cfg_parse_exporters(y, list, c);
	} else {
		y->exporters_path = "exporters";
		cfg_parse_exporters(y, keys[0].val, c);
	}
}

static void final_checks(struct cfg_ctx *y, struct cfg *c, int errors_before)
{
	long qsum = 0;
	size_t pl;

	if (!c->n_sources && y->diag->n_errors == errors_before) {
		c->sources = cfg_calloc(y, 1, sizeof(*c->sources));
		if (c->sources) {
			struct cfg_source *s = &c->sources[0];

			s->type = CFG_SRC_TCP;
			s->listen = cfg_strndup(y, CFG_DEF_TCP, strlen(CFG_DEF_TCP));
			s->data_source = -1;
			s->max_line_bytes = CFG_DEF_MAX_LINE;
			c->n_sources = 1;
			pl = cfg_push(y, "flowrw.sources");
			cfg_warn(y, NULL, "no sources configured: reading rows from tcp %s", CFG_DEF_TCP);
			cfg_pop(y, pl);
		}
	}
	if (y->diag->n_errors == errors_before && !cfg_active_exporters(c)) {
		pl = cfg_push(y, y->exporters_path ? y->exporters_path : "exporters");
		cfg_warn(y, NULL, "no active exporter: flowrw would read rows and send nothing");
		cfg_pop(y, pl);
	}
	for (int e = 0; e < c->n_exporters; e++) {
		/* Without queue-size, DeepFlow's 100000 series would make 16 MiB
		 * lanes; ring-bytes keeps the default footprint small, and a user
		 * who wants deep lanes says so with queue-size. */
		if (!c->exporters[e].queue_size_set)
			c->exporters[e].lane_ring_bytes = c->ring_bytes;
		if (c->exporters[e].active)
			qsum += c->exporters[e].queue_count;
	}
	if (qsum * c->encoders > CFG_MAX_LANES) {
		yaml_mark_t *m = y->encoders_mark.line || y->encoders_mark.column ? &y->encoders_mark
										  : &y->exporters_mark;

		pl = cfg_push(y, m == &y->encoders_mark ? "flowrw.encoders" : y->exporters_path);
		cfg_diag_add(y, CFG_SEV_ERROR, m, "%ld lanes (%d encoders x %ld queues of the active "
			     "exporters) exceed the limit of %d", qsum * c->encoders, c->encoders, qsum,
			     CFG_MAX_LANES);
		cfg_pop(y, pl);
	}
	if (y->diag->n_errors == errors_before) {
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
		double need = (double)shm_size_for(c);

		if (pages > 0 && psz > 0 && need > (double)pages * (double)psz)
			cfg_warn(y, NULL, "the config needs %.1f GiB of shared memory, more than this "
				 "machine's %.1f GiB (lower queue-size, queue-count or ring-bytes)",
				 need / (1 << 30), (double)pages * (double)psz / (1 << 30));
	}
}

/* --- public API ----------------------------------------------------------- */

static void syntax_error(struct cfg_ctx *y, const yaml_parser_t *p, const char *text, size_t len)
{
	yaml_mark_t m = p->problem_mark;

	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		m.line = m.column = 0;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
	}
	if (p->context)
		cfg_diag_add(y, CFG_SEV_ERROR, &m, "YAML syntax error: %s (%s, line %zu)",
			     p->problem ? p->problem : "unknown problem", p->context,
			     p->context_mark.line + 1);
	else
		cfg_diag_add(y, CFG_SEV_ERROR, &m, "YAML syntax error: %s",
			     p->problem ? p->problem : "unknown problem");
}

static int cfg_defaults(struct cfg *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->path = strdup(name);
	c->encoders = CFG_DEF_ENCODERS;
	c->ring_bytes = CFG_DEF_RING_BYTES;
	c->drain_timeout = CFG_DEF_DRAIN;
	c->stats_listen = strdup(CFG_DEF_STATS);
	c->log_level = CFG_LOG_INFO;
	return c->path && c->stats_listen ? 0 : -ENOMEM;
}

/*
 * libyaml's scanner is quadratic in the nesting depth (100000 '[' take
 * seconds), and yaml_parser_load() builds the whole tree before we see it.
 * So a first pass over the events stops at CFG_MAX_DEPTH levels, which
 * costs microseconds; syntax errors are left to the real load.
 * Returns 0, or -1 with the error reported.
 */
static int depth_check(struct cfg_ctx *y, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, rc = 0;

	if (!yaml_parser_initialize(&p)) {
		y->oom = true;
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t t = ev.type;

		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > CFG_MAX_DEPTH) {
				cfg_diag_add(y, CFG_SEV_ERROR, &ev.start_mark, "nested deeper than %d levels",
					     CFG_MAX_DEPTH);
				rc = -1;
			}
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (rc || t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

/* Position of a diagnostic line "NAME:LINE:COL: ..." as LINE << 20 | COL. */
static uint64_t diag_pos(const char *line, size_t name_len)
{
	const char *p = line + name_len;
	char *end;
	uint64_t l, col;

	if (strlen(line) <= name_len || *p != ':')
		return UINT64_MAX;
	l = strtoull(p + 1, &end, 10);
	if (*end != ':')
		return UINT64_MAX;
	col = strtoull(end + 1, &end, 10);
	return l << 20 | (col & 0xfffff);
}

/* The walk reads flowrw: before the exporters: report in file order. */
static void diag_sort(struct cfg_diag *d, int from, const char *name)
{
	size_t nl = strlen(name);

	for (int i = from + 1; i < d->n_lines; i++) {
		char *cur = d->lines[i];
		uint64_t key = diag_pos(cur, nl);
		int j = i - 1;

		while (j >= from && diag_pos(d->lines[j], nl) > key) {
			d->lines[j + 1] = d->lines[j];
			j--;
		}
		d->lines[j + 1] = cur;
	}
}

int cfg_load_buffer(struct cfg *c, const char *text, size_t len, const char *name,
		    struct cfg_diag *diag)
{
	struct cfg_diag local = { 0 };
	struct cfg_ctx y = { 0 };
	yaml_parser_t parser;
	yaml_document_t doc, more;
	int errors_before, lines_before, err = 0;

	if (!name)
		name = "<config>";
	if (!diag)
		diag = &local;
	if (cfg_defaults(c, name)) {
		err = -ENOMEM;
		goto out_diag;
	}
	y.name = name;
	y.diag = diag;
	y.doc = &doc;
	errors_before = diag->n_errors;
	lines_before = diag->n_lines;
	if (depth_check(&y, text, len)) {
		err = y.oom ? -ENOMEM : -EINVAL;
		goto out_diag;
	}
	if (!yaml_parser_initialize(&parser)) {
		err = -ENOMEM;
		goto out_diag;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(&y, &parser, text, len);
		err = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
		goto out_parser;
	}
	if (yaml_document_get_root_node(&doc))
		y.root_mark = yaml_document_get_root_node(&doc)->start_mark;
	parse_root(&y, yaml_document_get_root_node(&doc), c);

	if (yaml_document_get_root_node(&doc)) {
		if (!yaml_parser_load(&parser, &more)) {
			syntax_error(&y, &parser, text, len);
		} else {
			if (yaml_document_get_root_node(&more))
				cfg_diag_add(&y, CFG_SEV_WARN, &more.start_mark,
					     "only the first YAML document is read; this one is ignored");
			yaml_document_delete(&more);
		}
	}
	final_checks(&y, c, errors_before);
	yaml_document_delete(&doc);
	if (y.oom)
		err = -ENOMEM;
	else if (diag->n_errors > errors_before)
		err = -EINVAL;
out_parser:
	yaml_parser_delete(&parser);
	diag_sort(diag, lines_before, name);
out_diag:
	if (diag == &local)
		cfg_diag_fini(&local);
	return err;
}

char *cfg_read_text(const char *path, size_t *len, int *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		*err = -errno;
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto fail;
	}
	if (st.st_size > CFG_MAX_FILE_BYTES) {
		*err = -EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		*err = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	*err = 0;
	return buf;

fail:
	free(buf);
	close(fd);
	return NULL;
}

int cfg_load_file(struct cfg *c, const char *path, struct cfg_diag *diag)
{
	struct cfg_diag local = { 0 };
	char *buf, *line = NULL;
	size_t len;
	int err;

	if (!diag)
		diag = &local;
	buf = cfg_read_text(path, &len, &err);
	if (buf) {
		err = cfg_load_buffer(c, buf, len, path, diag);
		free(buf);
		if (diag == &local)
			cfg_diag_fini(&local);
		return err;
	}
	cfg_defaults(c, path);
	diag->n_errors++;
	if (asprintf(&line, "%s: cannot read the config: %s", path, strerror(-err)) >= 0) {
		char **lines = realloc(diag->lines, sizeof(*lines) * (size_t)(diag->n_lines + 1));

		if (lines) {
			diag->lines = lines;
			diag->lines[diag->n_lines++] = line;
		} else {
			free(line);
		}
	}
	if (diag == &local)
		cfg_diag_fini(&local);
	return err;
}

void cfg_fini(struct cfg *c)
{
	if (!c)
		return;
	free(c->path);
	for (int i = 0; i < c->n_exporters; i++)
		cfg_exporter_fini(&c->exporters[i]);
	free(c->exporters);
	for (int i = 0; i < c->n_sources; i++)
		source_fini(&c->sources[i]);
	free(c->sources);
	free(c->cpu_supervisor.text);
	free(c->cpu_ingest.text);
	free(c->cpu_sender.text);
	for (int i = 0; i < CFG_MAX_ENCODERS; i++)
		free(c->cpu_encoders[i].text);
	free(c->stats_listen);
	free(c->dictionary);
	memset(c, 0, sizeof(*c));
}

void cfg_diag_fini(struct cfg_diag *diag)
{
	if (!diag)
		return;
	for (int i = 0; i < diag->n_lines; i++)
		free(diag->lines[i]);
	free(diag->lines);
	memset(diag, 0, sizeof(*diag));
}

void cfg_diag_print(const struct cfg_diag *diag, FILE *out)
{
	for (int i = 0; diag && i < diag->n_lines; i++)
		fprintf(out, "%s\n", diag->lines[i]);
}

int cfg_active_exporters(const struct cfg *c)
{
	int n = 0;

	for (int i = 0; i < c->n_exporters; i++)
		n += c->exporters[i].active;
	return n;
}

void cfg_summary(const struct cfg *c, char *buf, size_t len)
{
	int active = cfg_active_exporters(c), lanes = 0, n;
	double mem;

	for (int i = 0; i < c->n_exporters; i++)
		if (c->exporters[i].active)
			lanes += c->exporters[i].queue_count * c->encoders;
	if (c->encoders < 1 || c->encoders > CFG_MAX_ENCODERS || lanes > CFG_MAX_LANES) {
		snprintf(buf, len, "%d exporter%s (%d active), %d source%s, %d encoder%s",
			 c->n_exporters, c->n_exporters == 1 ? "" : "s", active, c->n_sources,
			 c->n_sources == 1 ? "" : "s", c->encoders, c->encoders == 1 ? "" : "s");
		return;
	}
	mem = (double)shm_size_for(c);
	n = snprintf(buf, len, "%d exporter%s (%d active), %d source%s, %d encoder%s, %d lane%s, "
		     "shared memory %.1f %s", c->n_exporters, c->n_exporters == 1 ? "" : "s", active,
		     c->n_sources, c->n_sources == 1 ? "" : "s", c->encoders, c->encoders == 1 ? "" : "s",
		     lanes, lanes == 1 ? "" : "s", mem >= (1 << 30) ? mem / (1 << 30) : mem / (1 << 20),
		     mem >= (1 << 30) ? "GiB" : "MiB");
	/* What queue-size (and batch-size) imply, exporter by exporter. */
	for (int i = 0; i < c->n_exporters && n > 0 && (size_t)n < len; i++) {
		const struct cfg_exporter *e = &c->exporters[i];
		double ring = (double)shm_lane_ring_bytes(e);

		if (!e->active)
			continue;
		if (e->queue_size_set)
			n += snprintf(buf + n, len - (size_t)n, "; exporter %d: %d lanes x %.2g MiB ring "
				      "(queue-size %d series, batch-size %d) = %.1f MiB", i,
				      e->queue_count * c->encoders, ring / (1 << 20), e->queue_size,
				      e->batch_size, ring * e->queue_count * c->encoders / (1 << 20));
		else
			n += snprintf(buf + n, len - (size_t)n, "; exporter %d: %d lanes x %.2g MiB ring "
				      "(ring-bytes, no queue-size; batch-size %d) = %.1f MiB", i,
				      e->queue_count * c->encoders, ring / (1 << 20), e->batch_size,
				      ring * e->queue_count * c->encoders / (1 << 20));
	}
}
