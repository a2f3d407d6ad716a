/* SPDX-License-Identifier: MIT */
/* cfg-t.h: the loaded configuration (DeepFlow exporters + flowrw pipeline). */
#ifndef FLOWRW_CFG_T_H
#define FLOWRW_CFG_T_H

#include <regex.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_EXPORTERS   8    /* DeepFlow: MAX_EXPORTERS_PER_DATASOURCE */
#define CFG_MAX_ENDPOINTS   16
#define CFG_MAX_SOURCES     16
#define CFG_MAX_ENCODERS    64
#define CFG_MAX_QUEUE_COUNT 256  /* lanes per encoder per exporter */
#define CFG_MAX_LANES       4096 /* encoders x sum(queue-count), all exporters */

enum cfg_protocol {
	CFG_PROTO_PROMETHEUS = 0,
	CFG_PROTO_KAFKA,
	CFG_PROTO_OTLP,
	CFG_PROTO_OTHER,
};

enum cfg_filter_op {
	CFG_OP_EQ = 0,       /* = */
	CFG_OP_NE,           /* != */
	CFG_OP_IN,           /* in */
	CFG_OP_NOT_IN,       /* not in */
	CFG_OP_WILDCARD,     /* :  ('*' -> '.*', unanchored) */
	CFG_OP_NOT_WILDCARD, /* !: */
	CFG_OP_REGEX,        /* ~  (unanchored POSIX ERE) */
	CFG_OP_NOT_REGEX,    /* !~ */
};

enum cfg_condition {
	CFG_COND_AND = 0,
	CFG_COND_OR,
};

struct cfg_tag_filter {
	char *field_name;     /* compared with a field's json name (DeepFlow) */
	enum cfg_filter_op op;
	char **values;        /* field-values as written */
	int n_values;
	double *nums;         /* values that parse as numbers (DeepFlow's order quirk not kept) */
	int n_nums;
	bool has_re;          /* wildcard/regex ops: the first value, compiled */
	regex_t re;
	int line;             /* for messages */
};

struct cfg_filter_group {
	enum cfg_condition cond;
	struct cfg_tag_filter *filters;
	int n_filters;
};

struct cfg_endpoint {
	char *url;            /* as written */
	char *host;           /* hostname or IP literal without brackets */
	char *port;           /* decimal string; 80 when absent */
	char *path;           /* starts with '/' */
	bool ipv6_literal;
};

struct cfg_header {
	char *name;
	char *value;          /* never logged: may carry a token */
};

struct cfg_exporter {
	int index;            /* position in the exporters list */
	int line;             /* where it starts in the file */
	enum cfg_protocol protocol;
	char *protocol_name;
	bool enabled;         /* a missing `enabled` means enabled (the seed) */
	bool active;          /* enabled && prometheus && has data sources */
	uint32_t ds_mask;     /* bit = DeepFlow data source id (schema.h) */
	struct cfg_endpoint *endpoints;
	int n_endpoints;
	int queue_count;      /* default 4 */
	int queue_size;       /* default 100000: series a lane may hold */
	int batch_size;       /* default 1024 series per request */
	double flush_timeout; /* seconds, default 10 */
	bool export_empty_tag;
	bool export_empty_metrics_disabled;
	bool enum_translate_to_name_disabled;
	bool universal_tag_translate_to_name_disabled;
	enum cfg_condition tag_filter_condition;
	struct cfg_tag_filter *tag_filters;
	int n_tag_filters;
	struct cfg_filter_group *groups;
	int n_groups;
	char **export_fields; /* empty in the file -> {"$tag", "$metrics"} */
	int n_export_fields;
	struct cfg_header *headers;
	int n_headers;
	double min_backoff;   /* seconds, default 0.03 */
	double max_backoff;   /* seconds, default 5 */
	double request_timeout; /* seconds, default 30 */
	bool queue_size_set;  /* queue-size was written: it sizes the lane rings */
	size_t lane_ring_bytes; /* when not: flowrw.ring-bytes (set by the loader) */
};

enum cfg_source_type {
	CFG_SRC_TCP = 0,
	CFG_SRC_UNIX,
	CFG_SRC_FILE,
	CFG_SRC_STDIN,
	CFG_SRC_SYNTHETIC,
};

enum cfg_overflow {
	CFG_OVERFLOW_BLOCK = 0, /* backpressure (default) */
	CFG_OVERFLOW_DROP_NEWEST,
};

struct cfg_source {
	enum cfg_source_type type;
	int line;
	char *listen;         /* tcp: "host:port" */
	char *path;           /* unix, file */
	bool follow;          /* file */
	int data_source;      /* default data source id for rows without one, -1 */
	enum cfg_overflow overflow;
	size_t max_line_bytes; /* default 1 MiB */
	/* synthetic */
	uint64_t rows_per_second; /* 0 = as fast as possible */
	uint64_t series;
	uint64_t rows;        /* 0 = endless */
	uint64_t seed;
};

struct cfg_cpus {
	bool set;
	cpu_set_t mask;
	char *text;           /* as written, for messages */
};

enum cfg_log_level {
	CFG_LOG_ERROR = 0,
	CFG_LOG_WARN,
	CFG_LOG_INFO,
	CFG_LOG_DEBUG,
};

struct cfg {
	char *path;
	struct cfg_exporter *exporters; /* every entry, active or not */
	int n_exporters;
	struct cfg_source *sources;
	int n_sources;
	int encoders;             /* default 2 */
	struct cfg_cpus cpu_supervisor, cpu_ingest, cpu_sender;
	struct cfg_cpus cpu_encoders[CFG_MAX_ENCODERS]; /* one list for all, or one each */
	size_t ring_bytes;        /* ingest->encoder ring, default 8 MiB */
	double drain_timeout;     /* seconds, default 30 */
	char *stats_listen;       /* default "127.0.0.1:9464"; "" disables */
	enum cfg_log_level log_level;
	char *dictionary;         /* universal-tag dictionary file, or NULL */
};

/* The problems found while loading; errors make the load fail.  Lines look
 * like "FILE:LINE:COL: key.path: message" (errors), "FILE:LINE:COL: warning:
 * key.path: message" and "FILE:LINE:COL: note: ...". */
struct cfg_diag {
	int n_errors;
	int n_warnings;
	int n_notes;              /* informational lines ("note: ...") */
	char **lines;             /* "FILE:LINE:COL: key.path: message" */
	int n_lines;
};

#endif
