/* SPDX-License-Identifier: MIT */
/* labels.c: render a row's shared labels for one exporter (spec §2.2, §2.3). */
#include "encoder/labels.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/enums.h"
#include "encoder/rw_encode.h"

#define LABELS_OUT_SLACK 64

static const char LABELS_DS_NAME[] = "datasource";
static const char LABELS_METRIC_NAME[] = "__name__";

bool labels_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > LABELS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (i > 0 && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static int entry_cmp(const struct labels_entry *a, const struct labels_entry *b)
{
	int c = strcmp(a->name, b->name);

	return c ? c : a->tag - b->tag;
}

int labels_plan_init(struct labels_plan *p, enum schema_family f, uint64_t tags,
		     const char *const *names, bool ut_names, bool enum_names)
{
	struct labels_entry *e = p->e;
	int n = 0;

	memset(p, 0, sizeof(*p));
	p->family = f;
	p->ut_names = ut_names;
	p->enum_names = enum_names;
	e[n++] = (struct labels_entry){ .tag = LABELS_DATASOURCE, .name = LABELS_DS_NAME,
					.name_len = sizeof(LABELS_DS_NAME) - 1 };
	for (int t = 0; t < SCHEMA_TAG_COUNT; t++) {
		const char *name;

		if (t == SCHEMA_TAG_TIME || !((tags >> t) & 1) || !schema_tag_in_family(t, f))
			continue;
		name = names ? names[t] : schema_tag_label(t, f);
		/* __name__ must sort first: our series splice it in front of
		 * the shared labels, so every other name must sort after it. */
		if (!name || !labels_name_ok(name) || strcmp(name, LABELS_METRIC_NAME) <= 0 ||
		    strncmp(name, "__", 2) == 0 || strcmp(name, LABELS_DS_NAME) == 0)
			return -EINVAL;
		e[n++] = (struct labels_entry){ .tag = (int16_t)t, .name = name,
						.name_len = (uint8_t)strlen(name) };
	}
	/* Insertion sort: at most 62 entries, once per exporter and family;
	 * ties keep tag-id order, which is the collision rule. */
	for (int i = 1; i < n; i++) {
		struct labels_entry x = e[i];
		int j = i - 1;

		while (j >= 0 && entry_cmp(&e[j], &x) > 0) {
			e[j + 1] = e[j];
			j--;
		}
		e[j + 1] = x;
	}
	for (int i = 0, at = 0; i < n; i++) {
		uint8_t *b = p->nbytes + at;

		e[i].group = (uint16_t)(i > 0 && strcmp(e[i].name, e[i - 1].name) == 0 ? e[i - 1].group : i);
		e[i].nhdr = (uint16_t)at;
		b[0] = RW_TAG_NAME;
		b[1] = e[i].name_len; /* <= LABELS_NAME_MAX: a one-byte varint */
		memcpy(b + 2, e[i].name, e[i].name_len);
		b[2 + e[i].name_len] = RW_TAG_VALUE;
		at += e[i].name_len + 3;
	}
	p->n = n;
	return 0;
}

struct labels_out *labels_out_new(void)
{
	struct labels_out *o = malloc(sizeof(*o));

	if (!o)
		return NULL;
	/* Any row: every entry at its longest name and value. */
	o->cap = LABELS_MAX * rw_label_size(LABELS_NAME_MAX, LABELS_VALUE_MAX);
	/* + slack: labels_render() copies names in fixed 32-byte pieces. */
	o->buf = malloc(o->cap + LABELS_OUT_SLACK);
	if (!o->buf) {
		free(o);
		errno = ENOMEM;
		return NULL;
	}
	o->len = 0;
	o->n = 0;
	o->collisions = 0;
	o->gen = 0;
	return o;
}

void labels_out_free(struct labels_out *o)
{
	if (!o)
		return;
	free(o->buf);
	free(o);
}

size_t labels_i64toa(int64_t x, char *buf)
{
	char tmp[24];
	uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
	size_t n = 0, len;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (x < 0)
		tmp[n++] = '-';
	len = n;
	for (size_t i = 0; i < len; i++)
		buf[i] = tmp[--n];
	return len;
}

size_t labels_ip4toa(uint32_t ip, char *buf)
{
	char *p = buf;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned b = (ip >> shift) & 0xff;

		if (b >= 100) {
			*p++ = (char)('0' + b / 100);
			*p++ = (char)('0' + b / 10 % 10);
		} else if (b >= 10) {
			*p++ = (char)('0' + b / 10);
		}
		*p++ = (char)('0' + b % 10);
		if (shift)
			*p++ = '.';
	}
	return (size_t)(p - buf);
}

static const char *cstr(const char *s, size_t *len)
{
	*len = s ? strlen(s) : 0;
	return s;
}

const char *labels_value(const struct labels_plan *p, const struct dict *d,
			 const struct rawrow_view *v, int tag, char *scratch, size_t *len)
{
	const struct schema_tag *t = &schema_tags[tag];
	int64_t x;

	switch (v->tag_kind[tag]) {
	case RAWROW_T_STR:
		/* Already a name (DeepFlow's Kafka JSON translates); a raw
		 * observation_point code is the one string DeepFlow translates. */
		if (tag == SCHEMA_T_OBSERVATION_POINT && p->enum_names) {
			const char *n = enums_name_by_code(SCHEMA_ENUM_OBSERVATION_POINT,
							   (const char *)v->tag_val[tag], v->tag_len[tag]);
			if (n)
				return cstr(n, len);
		}
		*len = v->tag_len[tag];
		return (const char *)v->tag_val[tag];
	case RAWROW_T_IP6:
		/* Exported, unlike DeepFlow (§2.3 bug): canonical RFC 5952 text. */
		if (!inet_ntop(AF_INET6, v->tag_val[tag], scratch, INET6_ADDRSTRLEN)) {
			*len = 0;
			return scratch;
		}
		return cstr(scratch, len);
	case RAWROW_T_NUM:
		break;
	default:
		*len = 0;
		return scratch;
	}
	x = rawrow_tag_num(v, tag);
	if (t->kind == SCHEMA_KIND_IP4) {
		*len = labels_ip4toa((uint32_t)x, scratch);
		return scratch;
	}
	if (t->ut_slot != SCHEMA_UT_NONE && p->ut_names) {
		*len = utag_render(d, tag, v, scratch, LABELS_VALUE_MAX);
		return scratch;
	}
	if (t->enum_id != SCHEMA_ENUM_NONE) {
		if (p->enum_names)
			return cstr(enums_name((enum schema_enum)t->enum_id, x), len);
		if (t->enum_id == SCHEMA_ENUM_OBSERVATION_POINT)
			return cstr(enums_observation_point_code(x), len);
	}
	*len = labels_i64toa(x, scratch);
	return scratch;
}

void labels_render(const struct labels_plan *p, const struct dict *d,
		   const struct rawrow_view *v, struct labels_out *o)
{
	uint8_t *w = o->buf;
	int emitted_group = -1;

	o->n = 0;
	o->collisions = 0;
	/* The lanes copy a row's labels from the series before as long as
	 * the generation is the one they wrote. */
	o->gen++;
	for (int i = 0; i < p->n; i++) {
		const struct labels_entry *e = &p->e[i];
		size_t hlen = (size_t)e->name_len + 3, vlen, msg;
		/*
		 * Render the value where it lands when both length varints take
		 * one byte (any value under ~100 bytes): formatted values are
		 * written there directly (labels_value()'s scratch), borrowed
		 * ones copied once.  The buffer holds every entry at its
		 * longest, so LABELS_VALUE_MAX bytes are always free there.
		 */
		uint8_t *dst = w + 2 + hlen + 1;
		const char *val;

		if (e->tag != LABELS_DATASOURCE && !v->tag_kind[e->tag])
			continue;
		/* The name first: the 32-byte copy (slack on both sides) may
		 * run over where the value goes. */
		if (hlen <= 32)
			memcpy(w + 2, p->nbytes + e->nhdr, 32);
		else
			memcpy(w + 2, p->nbytes + e->nhdr, hlen);
		if (e->tag == LABELS_DATASOURCE) {
			val = cstr(schema_ds_name(v->hdr->ds), &vlen);
		} else {
			val = labels_value(p, d, v, e->tag, (char *)dst, &vlen);
		}
		/* An empty value means no label (remote write forbids it);
		 * export-empty-tag cannot change that. */
		if (vlen == 0)
			continue;
		if (vlen > LABELS_VALUE_MAX)
			vlen = LABELS_VALUE_MAX;
		if (e->group == emitted_group) {
			o->collisions++;
			continue;
		}
		emitted_group = e->group;
		msg = hlen + rw_varint_len(vlen) + vlen;
		if (__builtin_expect(msg < 128, 1)) {
			w[0] = RW_TAG_LABEL;
			w[1] = (uint8_t)msg;
			w[2 + hlen] = (uint8_t)vlen;
			if ((const uint8_t *)val != dst)
				memcpy(dst, val, vlen);
			w = dst + vlen;
		} else {
			/* Longer varints: move the value to its place. */
			uint8_t *q = w;

			*q++ = RW_TAG_LABEL;
			q = rw_put_varint(q, msg);
			q += hlen; /* name bytes written after the move */
			q = rw_put_varint(q, vlen);
			memmove(q, val, vlen);
			memcpy(q - rw_varint_len(vlen) - hlen, p->nbytes + e->nhdr, hlen);
			w = q + vlen;
		}
		o->n++;
	}
	o->len = (size_t)(w - o->buf);
}
