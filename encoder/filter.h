/* SPDX-License-Identifier: MIT */
/* filter.h: DeepFlow tag filters (spec §1.6), compiled once per exporter. */
#ifndef FLOWRW_FILTER_H
#define FLOWRW_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cfg-t.h"
#include "common/rawrow.h"
#include "common/schema.h"

/* What a filter's field-name names in one family. */
enum filter_bind_kind {
	FILTER_B_NONE = 0,  /* no such field in this family: the filter is skipped */
	FILTER_B_TAG,       /* index = tag id */
	FILTER_B_METRIC,    /* index = metric index of the family */
	FILTER_B_TIME,      /* the row time (header) */
};

struct filter_bind {
	uint8_t kind;       /* enum filter_bind_kind */
	uint8_t index;
};

struct filter_item {
	const struct cfg_tag_filter *f;            /* owned by the config */
	struct filter_bind bind[SCHEMA_FAM_COUNT];
};

/* One AND/OR list: the deprecated `tag-filters` or one group. */
struct filter_list {
	enum cfg_condition cond;
	int n_items;
	struct filter_item *items;
	uint8_t applies;    /* SCHEMA_FAM_BIT()s where at least one item binds */
};

struct filter_exporter {
	struct filter_list legacy;   /* tag-filters + tag-filter-condition */
	int n_groups;
	struct filter_list *groups;  /* tag-filters-groups */
};

/* Compile the filters of exporter <e> (which must outlive <f>: items point
 * at its cfg_tag_filter entries and their compiled regexes).  Returns 0 or
 * -ENOMEM; <f> is safe to filter_fini() either way.  Encoder process. */
int filter_init(struct filter_exporter *f, const struct cfg_exporter *e);

/* Free what filter_init() allocated; a zeroed <f> is fine. */
void filter_fini(struct filter_exporter *f);

/* Does row <v> pass the filters?  No allocation; any thread (the regexes
 * are only read). */
bool filter_accept(const struct filter_exporter *f, const struct rawrow_view *v);

/* Does one filter match row <v> (the value of its field in <v>)?  Exposed
 * for tests; <it> must bind in <v>'s family. */
bool filter_match(const struct filter_item *it, const struct rawrow_view *v);

#endif
