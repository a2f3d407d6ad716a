/* SPDX-License-Identifier: MIT */
/* fields.h: the export-fields selection of spec §1.5. */
#ifndef FLOWRW_FIELDS_H
#define FLOWRW_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cfg-t.h"
#include "common/schema.h"

/* Selected fields of one family: bit = tag id / metric index. */
struct fields_sel {
	uint64_t tags;
	uint64_t metrics[2];
};

/* Select the fields exporter <e> exports for family <f>, by DeepFlow's
 * IsExportField rules (see fields.c).  `time` (bit 0) is selected like any
 * flow_info tag; it is never a label.  Can't fail; any process. */
void fields_select(const struct cfg_exporter *e, enum schema_family f, struct fields_sel *out);

/* What one export-fields entry means, for the config loader's messages. */
enum fields_entry_kind {
	FIELDS_E_UNKNOWN = 0,  /* ignored (DeepFlow warns and ignores) */
	FIELDS_E_CATEGORY,     /* $tag, $metrics, $tag.<sub>, $<sub>, ... */
	FIELDS_E_K8S_ALL,      /* $k8s.label: every field of the family */
	FIELDS_E_K8S_LABEL,    /* $k8s.label.<name>, ~$k8s.label.<re>: no effect on Prometheus */
	FIELDS_E_NAME,         /* a plain field name (json or map_json) known to the schema */
	FIELDS_E_UNKNOWN_NAME, /* a plain name no family has */
};

enum fields_entry_kind fields_classify(const char *entry);

#endif
