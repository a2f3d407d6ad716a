/* SPDX-License-Identifier: MIT */
/* cfg_yaml.h: the config loader's internals (libyaml tree walk, diagnostics). */
#ifndef FLOWRW_CFG_YAML_H
#define FLOWRW_CFG_YAML_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "common/cfg-t.h"

/*
 * Only common/cfg*.c include this header.  The loader walks the tree that
 * yaml_parser_load() builds; every node keeps its start mark, so each
 * message can name FILE:LINE:COL and the key path ("exporters[0].endpoints").
 * Nothing here may crash on any input: every node is checked for its kind
 * before use, and the walk only descends where the schema expects a child,
 * so aliases (even cyclic ones) cannot make it loop.
 */

#define CFG_PATH_MAX 256

enum cfg_sev {
	CFG_SEV_ERROR = 0,
	CFG_SEV_WARN,
	CFG_SEV_NOTE,
};

struct cfg_ctx {
	const char *name;        /* file name for messages */
	struct cfg_diag *diag;
	yaml_document_t *doc;
	char path[CFG_PATH_MAX]; /* key path of the node being read */
	size_t plen;
	int demote;              /* > 0: errors are reported as warnings */
	const char *demote_why;  /* appended to demoted errors */
	const char *unknown_hint; /* appended to the unknown-keys warning */
	bool oom;                /* an allocation failed: the load fails */
	/* CPUs, read once per load for the cpu-affinity checks */
	bool cpus_read, online_ok, allowed_ok;
	cpu_set_t online, allowed;
	/* marks kept for the checks made after the walk */
	yaml_mark_t root_mark;
	yaml_mark_t encoders_mark;
	yaml_mark_t exporters_mark;
	yaml_mark_t ring_bytes_mark;
	const char *exporters_path; /* "exporters" or "ingester.exporters" */
};

/* One key a mapping may hold; cfg_map() fills key/val (NULL when absent). */
struct cfg_key {
	const char *name;
	yaml_node_t *key;
	yaml_node_t *val;
};

/* Diagnostics: "FILE:LINE:COL: [warning: |note: ]PATH: message". */
void cfg_diag_add(struct cfg_ctx *y, enum cfg_sev sev, const yaml_mark_t *m,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cfg_err(struct cfg_ctx *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_warn(struct cfg_ctx *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_note(struct cfg_ctx *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Key path: push returns the previous length for cfg_pop(). */
size_t cfg_push(struct cfg_ctx *y, const char *key);
size_t cfg_push_index(struct cfg_ctx *y, int i);
void cfg_pop(struct cfg_ctx *y, size_t len);

/* Render user text for a message: at most <cap>-1 bytes, control bytes as
 * '?', an ellipsis when cut.  Returns <buf>. */
const char *cfg_quote(const char *s, size_t len, char *buf, size_t cap);

/* Allocation helpers: NULL (and y->oom set) on failure. */
char *cfg_strndup(struct cfg_ctx *y, const char *s, size_t len);
void *cfg_calloc(struct cfg_ctx *y, size_t n, size_t size);

/* Nodes. */
yaml_node_t *cfg_node(struct cfg_ctx *y, int id);
bool cfg_is_null(const yaml_node_t *n);
const char *cfg_kind(const yaml_node_t *n);
/* Number of items of a list node, 0 for anything else. */
int cfg_seq_len(const yaml_node_t *n);
yaml_node_t *cfg_seq_item(struct cfg_ctx *y, const yaml_node_t *n, int i);

/*
 * Collect the pairs of mapping <n> into <keys>.  Unknown keys are listed in
 * one warning with their positions; a duplicate key or a non-scalar key is
 * an error.  Returns 0, 1 when <n> is null/absent (keys stay NULL), -1 when
 * <n> is not a mapping (reported).
 */
int cfg_map(struct cfg_ctx *y, yaml_node_t *n, struct cfg_key *keys, int nkeys);
struct cfg_key *cfg_key_find(struct cfg_key *keys, int nkeys, const char *name);

/*
 * Typed values.  The node versions use the current path; the key versions
 * push the key's name.  All return 0 (value stored), 1 (null or absent,
 * <out> untouched) or -1 (reported).
 */
int cfg_node_text(struct cfg_ctx *y, yaml_node_t *n, const char **s, size_t *len);
int cfg_node_str(struct cfg_ctx *y, yaml_node_t *n, char **out);
int cfg_node_bool(struct cfg_ctx *y, yaml_node_t *n, bool *out);
int cfg_node_int(struct cfg_ctx *y, yaml_node_t *n, int64_t lo, int64_t hi, int64_t *out);
int cfg_node_u64(struct cfg_ctx *y, yaml_node_t *n, uint64_t lo, uint64_t hi, uint64_t *out);
int cfg_node_seconds(struct cfg_ctx *y, yaml_node_t *n, double lo, bool lo_open, double hi,
		     double *out);
int cfg_node_size(struct cfg_ctx *y, yaml_node_t *n, size_t lo, size_t hi, size_t *out);
/* A flow_metrics data source name -> id; flow_log.* and event.* explained. */
int cfg_node_ds(struct cfg_ctx *y, yaml_node_t *n, int *out);

int cfg_key_str(struct cfg_ctx *y, const struct cfg_key *k, char **out);
int cfg_key_bool(struct cfg_ctx *y, const struct cfg_key *k, bool *out);
int cfg_key_int(struct cfg_ctx *y, const struct cfg_key *k, int64_t lo, int64_t hi, int64_t *out);
int cfg_key_u64(struct cfg_ctx *y, const struct cfg_key *k, uint64_t lo, uint64_t hi,
		uint64_t *out);
int cfg_key_seconds(struct cfg_ctx *y, const struct cfg_key *k, double lo, bool lo_open,
		    double hi, double *out);
int cfg_key_size(struct cfg_ctx *y, const struct cfg_key *k, size_t lo, size_t hi, size_t *out);

/* A hostname or IPv4 literal / an IPv6 literal without brackets. */
bool cfg_host_ok(const char *h, size_t len);
bool cfg_ipv6_ok(const char *h, size_t len);

/* "host:port" or "[v6]:port" with port <lo_port>..65535; 0 or -1 (reported). */
int cfg_check_hostport(struct cfg_ctx *y, yaml_node_t *n, const char *s, int lo_port);

/* cfg_exporter.c: the exporters list (DeepFlow's keys plus flowrw's). */
void cfg_parse_exporters(struct cfg_ctx *y, yaml_node_t *list, struct cfg *c);
void cfg_exporter_fini(struct cfg_exporter *e);

#endif
