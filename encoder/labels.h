/* SPDX-License-Identifier: MIT */
/* labels.h: the labels a row's series share, rendered once per row and exporter. */
#ifndef FLOWRW_LABELS_H
#define FLOWRW_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rawrow.h"
#include "common/schema.h"

struct dict;

#define LABELS_DATASOURCE (-1)     /* plan entry of the `datasource` label */
#define LABELS_VALUE_MAX  4096     /* longest rendered value (RAWROW_MAX_STR) */
#define LABELS_NAME_MAX   127      /* longest label name a plan accepts */
#define LABELS_MAX        (SCHEMA_TAG_COUNT + 1)

/* One label a plan may emit, in label-name order. */
struct labels_entry {
	int16_t tag;           /* tag id, or LABELS_DATASOURCE */
	uint16_t group;        /* entries with one label name share a group */
	uint8_t name_len;
	uint16_t nhdr;         /* offset in labels_plan.nbytes of "0A nlen name 12" */
	const char *name;
};

/* Bytes of the precomputed "0A nlen name 12" pieces (names <= 127 bytes:
 * one-byte varint), plus 32 so that a fixed 32-byte copy may read past the
 * last one. */
#define LABELS_NBYTES (LABELS_MAX * (LABELS_NAME_MAX + 3) + 32)

/*
 * What one exporter exports for one family: the selected tags, sorted by
 * label name once at start-up so that a row renders straight into sorted,
 * unique wire bytes.  `time` is never a label.  Entries with equal names
 * (two fields giving one label name) stay in tag-id order: the first that
 * has a non-empty value wins, the others count as collisions.
 */
struct labels_plan {
	enum schema_family family;
	bool ut_names;         /* universal tags -> names (else decimal ids) */
	bool enum_names;       /* enum fields -> display names (else numbers) */
	int n;
	struct labels_entry e[LABELS_MAX];
	/* Each entry's name as wire bytes, so that labels_render() writes a
	 * label with one copy instead of tag, varint and name separately. */
	uint8_t nbytes[LABELS_NBYTES];
};

/*
 * Build <p> for family <f> from <tags> (bit = tag id; tags outside the
 * family and `time` are ignored).  <names>[tag] is the label name of each
 * tag, or <names> NULL for schema_tag_label() (tests pass their own to
 * provoke collisions); names must be valid Prometheus label names, not
 * reserved (`__*`) and not `datasource`.  Returns 0 or -EINVAL.  Any
 * process; <names> must outlive <p>.
 */
int labels_plan_init(struct labels_plan *p, enum schema_family f, uint64_t tags,
		     const char *const *names, bool ut_names, bool enum_names);

/* Is <name> a label name a plan accepts ([a-zA-Z_][a-zA-Z0-9_]*, <= 127 bytes)? */
bool labels_name_ok(const char *name);

/* Output of labels_render(): serialized TimeSeries.labels entries. */
struct labels_out {
	uint8_t *buf;
	size_t cap;
	size_t len;            /* bytes of label entries */
	uint32_t n;            /* labels written */
	uint32_t collisions;   /* labels dropped for a duplicate name */
	uint64_t gen;          /* bumped by every labels_render(): equal gen, equal bytes */
	char scratch[LABELS_VALUE_MAX + 64];
};

/* Heap object sized for any row: NULL with errno ENOMEM. */
struct labels_out *labels_out_new(void);
void labels_out_free(struct labels_out *o);

/*
 * Render the shared labels of row <v> under plan <p> (v->family must be
 * p->family) into <o>: `datasource` and every selected tag present in the
 * row, values rendered per spec §2.3 (dictionary <d>, may be NULL), empty
 * values omitted, names sorted and unique.  Allocates nothing; can't fail
 * (o is sized for the largest possible row).  Not thread-safe on <o>.
 */
void labels_render(const struct labels_plan *p, const struct dict *d,
		   const struct rawrow_view *v, struct labels_out *o);

/*
 * The text of tag <tag> of row <v> as a label value (spec §2.3): STR values
 * as given (an observation_point code becomes its display name when enum
 * names are on), ip4 dotted, ip6 canonical, universal tags through
 * utag_render(), enums through enums_name(), the rest decimal.  Returns a
 * pointer to the bytes (into the row, a static table or <scratch>) and
 * sets *len; *len == 0 means empty (no label).  <scratch> holds at least
 * LABELS_VALUE_MAX bytes.
 */
const char *labels_value(const struct labels_plan *p, const struct dict *d,
			 const struct rawrow_view *v, int tag, char *scratch, size_t *len);

/* Decimal text of <x> into <buf> (21 bytes); returns the length. */
size_t labels_i64toa(int64_t x, char *buf);

/* Dotted quad of the big-endian-valued <ip> (a = bits 31..24) into <buf>
 * (16 bytes); returns the length. */
size_t labels_ip4toa(uint32_t ip, char *buf);

#endif
