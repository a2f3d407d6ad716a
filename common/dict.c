/* SPDX-License-Identifier: MIT */
/* dict.c: the universal-tag dictionary file and universal-tag rendering (spec §5). */

/*
 * Design
 *
 * DeepFlow translates universal-tag ids (pod_id, region_id, ...) to names
 * with maps it fetches from its controller every minute (§5.4).  flowrw
 * has no controller: most rows arrive with names already (DeepFlow's Kafka
 * JSON translates them), and for rows that carry ids the user can give a
 * dictionary file, `flowrw.dictionary`.  Its format is documented in
 * etc/universal-tags.example: one `KIND ID NAME` (or `device TYPE ID
 * NAME`) per line.
 *
 * Storage: all maps share one open-addressing hash table keyed by a 64-bit
 * word (kind << 56 | key; device keys are type << 32 | id, so 40 bits) with
 * linear probing at load factor <= 1/2, and one string arena.  A loaded
 * dictionary is immutable: reload = load a new one and swap the pointer
 * (the encoder does that on SIGHUP), so readers never lock.
 *
 * Loading never aborts: every problem is a one-line "FILE:LINE: why" and
 * the load fails as a whole (a half-loaded dictionary would silently drop
 * labels).  Duplicates are errors for the same reason.
 *
 * Rendering (utag_render) follows §5.2, side by side: a *_1 field reads the
 * side-1 sibling fields (type, IP) of its row.  Differences from DeepFlow,
 * all because flowrw's input may already hold names:
 *   - a string value is a name rendered upstream and is copied as is;
 *   - without a dictionary, device-type keywords and the IP of auto_*
 *     of type 0/255 still render (DeepFlow renders every slot as "" when
 *     it has no maps for the org);
 *   - an absent id renders nothing (DeepFlow's struct would read 0).
 */

#include "common/dict.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enums.h"
#include "common/schema.h"

#define DEV_HOST    6   /* §5.2: host = deviceMap[6 << 32 | host_id] */
#define DEV_SERVICE 102 /* service = deviceMap[102 << 32 | service_id] */

struct dict_entry {
	uint64_t key;   /* kind << 56 | key; 0 = empty slot (kind+1 is stored) */
	uint32_t off;   /* name in the arena */
	uint32_t len;
	uint32_t line;  /* where it was defined, for duplicate messages */
};

struct dict {
	struct dict_entry *tab;
	size_t mask;    /* capacity - 1, capacity a power of two */
	size_t used;
	size_t count[DICT_KIND_COUNT];
	char *arena;
	size_t arena_len, arena_cap;
};

/* File keywords; "host" and "service" are shorthands for device types. */
static const struct {
	const char *word;
	int kind;
	int dev_type; /* -1: not a shorthand */
} kinds[] = {
	{"region", DICT_REGION, -1},
	{"az", DICT_AZ, -1},
	{"device", DICT_DEVICE, -1},
	{"host", DICT_DEVICE, DEV_HOST},
	{"service", DICT_DEVICE, DEV_SERVICE},
	{"pod_node", DICT_POD_NODE, -1},
	{"pod_ns", DICT_POD_NS, -1},
	{"pod_group", DICT_POD_GROUP, -1},
	{"pod", DICT_POD, -1},
	{"pod_cluster", DICT_POD_CLUSTER, -1},
	{"l3_epc", DICT_L3_EPC, -1},
	{"subnet", DICT_SUBNET, -1},
	{"gprocess", DICT_GPROCESS, -1},
	{"agent", DICT_AGENT, -1},
};

static inline uint64_t dict_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static inline uint64_t dict_word(int kind, uint64_t key)
{
	return ((uint64_t)(kind + 1) << 56) | (key & 0x00ffffffffffffffULL);
}

static struct dict_entry *dict_slot(struct dict_entry *tab, size_t mask, uint64_t word)
{
	size_t i = dict_mix(word) & mask;

	while (tab[i].key && tab[i].key != word)
		i = (i + 1) & mask;
	return &tab[i];
}

static int dict_grow(struct dict *d)
{
	size_t cap = d->tab ? (d->mask + 1) * 2 : 1024;
	struct dict_entry *t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; d->tab && i <= d->mask; i++)
		if (d->tab[i].key)
			*dict_slot(t, cap - 1, d->tab[i].key) = d->tab[i];
	free(d->tab);
	d->tab = t;
	d->mask = cap - 1;
	return 0;
}

const char *dict_lookup(const struct dict *d, enum dict_kind kind, uint64_t key, size_t *len)
{
	const struct dict_entry *e;

	if (!d || (unsigned)kind >= DICT_KIND_COUNT || !d->tab)
		return NULL;
	e = dict_slot(d->tab, d->mask, dict_word(kind, key));
	if (!e->key)
		return NULL;
	*len = e->len;
	return d->arena + e->off;
}

size_t dict_count(const struct dict *d, enum dict_kind kind)
{
	size_t n = 0;

	if (!d)
		return 0;
	if ((unsigned)kind < DICT_KIND_COUNT)
		return d->count[kind];
	for (int k = 0; k < DICT_KIND_COUNT; k++)
		n += d->count[k];
	return n;
}

void dict_free(struct dict *d)
{
	if (!d)
		return;
	free(d->tab);
	free(d->arena);
	free(d);
}

/* ---- loading ------------------------------------------------------------- */

struct dict_parse {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int dict_fail(struct dict_parse *p, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (p->errlen) {
		n = p->line ? snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line)
			    : snprintf(p->err, p->errlen, "%s: ", p->path);
		if (n < 0 || (size_t)n >= p->errlen)
			return -EINVAL;
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-separated word of [*s, end): returns it, advances *s. */
static const char *next_word(const char **s, const char *end, size_t *len)
{
	const char *p = *s, *w;

	while (p < end && is_blank(*p))
		p++;
	w = p;
	while (p < end && !is_blank(*p))
		p++;
	*len = (size_t)(p - w);
	*s = p;
	return w;
}

/* Decimal integer in [lo, hi]; 0 or -EINVAL. */
static int parse_num(const char *w, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
	char buf[24];
	char *end;
	long long v;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, w, len);
	buf[len] = '\0';
	if (!((buf[0] >= '0' && buf[0] <= '9') || (buf[0] == '-' && len > 1)))
		return -EINVAL;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int dict_add(struct dict *d, struct dict_parse *p, int kind, uint64_t key,
		    const char *name, size_t len, const char *what)
{
	uint64_t word = dict_word(kind, key);
	struct dict_entry *e;

	if (d->used + 1 > (d->tab ? (d->mask + 1) / 2 : 0) && dict_grow(d))
		return dict_fail(p, "out of memory");
	e = dict_slot(d->tab, d->mask, word);
	if (e->key) {
		if (kind == DICT_DEVICE)
			return dict_fail(p, "duplicate device %u %u (first defined at line %u)",
					 (unsigned)(key >> 32), (unsigned)key, e->line);
		return dict_fail(p, "duplicate %s %llu (first defined at line %u)", what,
				 (unsigned long long)key, e->line);
	}
	if (d->arena_len + len > d->arena_cap) {
		size_t cap = d->arena_cap ? d->arena_cap * 2 : 65536;
		char *a;

		while (cap < d->arena_len + len)
			cap *= 2;
		if (cap > UINT32_MAX || !(a = realloc(d->arena, cap)))
			return dict_fail(p, "out of memory");
		d->arena = a;
		d->arena_cap = cap;
	}
	memcpy(d->arena + d->arena_len, name, len);
	*e = (struct dict_entry){word, (uint32_t)d->arena_len, (uint32_t)len, p->line};
	d->arena_len += len;
	d->used++;
	d->count[kind]++;
	return 0;
}

/* One line without its newline; blank and comment lines are fine. */
static int dict_parse_line(struct dict *d, struct dict_parse *p, const char *s, size_t n)
{
	const char *end = s + n, *w, *name;
	size_t wl, i;
	int kind = -1, dev_type = -1;
	int64_t type = 0, id;

	while (end > s && (end[-1] == '\r' || is_blank(end[-1])))
		end--;
	w = next_word(&s, end, &wl);
	if (wl == 0 || w[0] == '#')
		return 0;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].word) == wl && memcmp(kinds[i].word, w, wl) == 0) {
			kind = kinds[i].kind;
			dev_type = kinds[i].dev_type;
			break;
		}
	}
	if (kind < 0)
		return dict_fail(p, "unknown kind '%.*s' (expected region, az, host, device, "
				 "pod_node, pod_ns, pod_group, pod, pod_cluster, l3_epc, subnet, "
				 "service, gprocess or agent)", (int)(wl > 64 ? 64 : wl), w);
	if (kind == DICT_DEVICE && dev_type < 0) {
		w = next_word(&s, end, &wl);
		if (parse_num(w, wl, 0, 255, &type))
			return dict_fail(p, "device: type '%.*s' is not a number in 0..255",
					 (int)(wl > 64 ? 64 : wl), w);
	} else if (dev_type >= 0) {
		type = dev_type;
	}
	w = next_word(&s, end, &wl);
	/* l3_epc ids are int32 in DeepFlow and looked up as uint32 (-2 -> 4294967294). */
	if (parse_num(w, wl, kind == DICT_L3_EPC ? INT32_MIN : 0, UINT32_MAX, &id))
		return dict_fail(p, "%s: id '%.*s' is not a number in %s", kinds[i].word,
				 (int)(wl > 64 ? 64 : wl), w,
				 kind == DICT_L3_EPC ? "-2147483648..4294967295" : "0..4294967295");
	while (s < end && is_blank(*s))
		s++;
	name = s;
	if (name == end)
		return dict_fail(p, "missing name after the id");
	if ((size_t)(end - name) > DICT_MAX_NAME)
		return dict_fail(p, "name longer than %u bytes", DICT_MAX_NAME);
	for (const char *c = name; c < end; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return dict_fail(p, "control character 0x%02x in name", (unsigned char)*c);
	id = (int64_t)(uint32_t)id;
	if (kind == DICT_DEVICE)
		id |= type << 32;
	return dict_add(d, p, kind, (uint64_t)id, name, (size_t)(end - name), kinds[i].word);
}

struct dict *dict_load(const char *path, char *err, size_t errlen)
{
	struct dict_parse p = {path, 0, err, errlen};
	struct dict *d = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int rc = 0, saved;

	fp = fopen(path, "re");
	if (!fp) {
		saved = errno;
		dict_fail(&p, "cannot open: %s", strerror(saved));
		errno = saved;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || dict_grow(d)) {
		rc = dict_fail(&p, "out of memory");
		goto out;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		p.line++;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (memchr(line, '\0', (size_t)n)) {
			rc = dict_fail(&p, "NUL byte in line");
			goto out;
		}
		rc = dict_parse_line(d, &p, line, (size_t)n);
		if (rc)
			goto out;
	}
	if (ferror(fp)) {
		p.line = 0;
		rc = dict_fail(&p, "read error: %s", strerror(errno));
	}
out:
	free(line);
	fclose(fp);
	if (rc) {
		dict_free(d);
		errno = EINVAL;
		return NULL;
	}
	return d;
}

/* ---- rendering ----------------------------------------------------------- */

/* The side-<side> sibling of a side-0 field id (ip6 2 .. gprocess_id 21 -> +20). */
static inline int side_tag(int tag0, int side)
{
	return tag0 + (side ? SCHEMA_T_IP6_1 - SCHEMA_T_IP6 : 0);
}

static size_t put(char *buf, size_t cap, const char *s, size_t len)
{
	if (!s || len == 0 || len > cap)
		return 0;
	memcpy(buf, s, len);
	if (len < cap)
		buf[len] = '\0';
	return len;
}

static size_t put_str(char *buf, size_t cap, const char *s)
{
	return s ? put(buf, cap, s, strlen(s)) : 0;
}

/* A numeric type of a *_type field of <v>, from a number or a §5.3 keyword. */
static bool type_of(const struct rawrow_view *v, int tag, int64_t *type)
{
	switch (v->tag_kind[tag]) {
	case RAWROW_T_NUM:
		*type = rawrow_tag_num(v, tag);
		return true;
	case RAWROW_T_STR:
		return enums_device_type_value((const char *)v->tag_val[tag], v->tag_len[tag], type) == 0;
	default:
		return false;
	}
}

/* The IP of side <side> as text: IPv6 when the row has one and is not IPv4. */
static size_t render_ip(const struct rawrow_view *v, int side, char *buf, size_t cap)
{
	int t4 = side ? SCHEMA_T_IP4_1 : SCHEMA_T_IP4, t6 = side ? SCHEMA_T_IP6_1 : SCHEMA_T_IP6;
	bool v4 = v->tag_kind[SCHEMA_T_IS_IPV4] != RAWROW_T_NUM || rawrow_tag_num(v, SCHEMA_T_IS_IPV4) != 0;
	char tmp[INET6_ADDRSTRLEN];

	if (v->tag_kind[t6] == RAWROW_T_IP6 && (!v4 || v->tag_kind[t4] == 0)) {
		if (!inet_ntop(AF_INET6, v->tag_val[t6], tmp, sizeof(tmp)))
			return 0;
		return put_str(buf, cap, tmp);
	}
	if (v->tag_kind[t4] == RAWROW_T_STR)
		return put(buf, cap, (const char *)v->tag_val[t4], v->tag_len[t4]);
	if (v->tag_kind[t4] == RAWROW_T_NUM) {
		uint32_t a = (uint32_t)rawrow_tag_num(v, t4);

		snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
		return put_str(buf, cap, tmp);
	}
	return 0;
}

static size_t put_dict(const struct dict *d, enum dict_kind kind, uint64_t key, char *buf, size_t cap)
{
	size_t len;
	const char *s = dict_lookup(d, kind, key, &len);

	return s ? put(buf, cap, s, len) : 0;
}

size_t utag_render(const struct dict *d, int tag, const struct rawrow_view *v, char *buf, size_t cap)
{
	const struct schema_tag *t;
	int side;
	int64_t id, type;

	if (tag < 0 || tag >= SCHEMA_TAG_COUNT)
		return 0;
	t = &schema_tags[tag];
	side = t->side;
	switch (v->tag_kind[tag]) {
	case RAWROW_T_STR:
		return put(buf, cap, (const char *)v->tag_val[tag], v->tag_len[tag]);
	case RAWROW_T_NUM:
		id = rawrow_tag_num(v, tag);
		break;
	default:
		return 0;
	}
	switch (t->ut_slot) {
	case SCHEMA_UT_L3_DEVICE_TYPE:
	case SCHEMA_UT_AUTO_INSTANCE_TYPE:
	case SCHEMA_UT_AUTO_SERVICE_TYPE:
		return put_str(buf, cap, enums_device_type_keyword(id));
	case SCHEMA_UT_AUTO_INSTANCE:
	case SCHEMA_UT_AUTO_SERVICE:
		if (!type_of(v, side_tag(t->ut_slot == SCHEMA_UT_AUTO_INSTANCE ? SCHEMA_T_AUTO_INSTANCE_TYPE
									       : SCHEMA_T_AUTO_SERVICE_TYPE, side),
			     &type) || type < 0 || type > 255)
			return 0;
		if (type == 0 || type == 255)
			return render_ip(v, side, buf, cap);
		return put_dict(d, DICT_DEVICE, (uint64_t)type << 32 | (uint32_t)id, buf, cap);
	case SCHEMA_UT_L3_DEVICE:
		if (!type_of(v, side_tag(SCHEMA_T_L3_DEVICE_TYPE, side), &type) || type < 0 || type > 255)
			return 0;
		return put_dict(d, DICT_DEVICE, (uint64_t)type << 32 | (uint32_t)id, buf, cap);
	case SCHEMA_UT_HOST:
		return put_dict(d, DICT_DEVICE, (uint64_t)DEV_HOST << 32 | (uint32_t)id, buf, cap);
	case SCHEMA_UT_SERVICE:
		return put_dict(d, DICT_DEVICE, (uint64_t)DEV_SERVICE << 32 | (uint32_t)id, buf, cap);
	case SCHEMA_UT_REGION:
		return put_dict(d, DICT_REGION, (uint32_t)id, buf, cap);
	case SCHEMA_UT_AZ:
		return put_dict(d, DICT_AZ, (uint32_t)id, buf, cap);
	case SCHEMA_UT_POD_NODE:
		return put_dict(d, DICT_POD_NODE, (uint32_t)id, buf, cap);
	case SCHEMA_UT_POD_NS:
		return put_dict(d, DICT_POD_NS, (uint32_t)id, buf, cap);
	case SCHEMA_UT_POD_GROUP:
		return put_dict(d, DICT_POD_GROUP, (uint32_t)id, buf, cap);
	case SCHEMA_UT_POD:
		return put_dict(d, DICT_POD, (uint32_t)id, buf, cap);
	case SCHEMA_UT_POD_CLUSTER:
		return put_dict(d, DICT_POD_CLUSTER, (uint32_t)id, buf, cap);
	case SCHEMA_UT_L3_EPC:
		return put_dict(d, DICT_L3_EPC, (uint32_t)id, buf, cap);
	case SCHEMA_UT_SUBNET:
		return put_dict(d, DICT_SUBNET, (uint32_t)id, buf, cap);
	case SCHEMA_UT_GPROCESS:
		return put_dict(d, DICT_GPROCESS, (uint32_t)id, buf, cap);
	case SCHEMA_UT_AGENT:
		return put_dict(d, DICT_AGENT, (uint32_t)id, buf, cap);
	default:
		return 0;
	}
}
