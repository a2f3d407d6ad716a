/* SPDX-License-Identifier: MIT */
/* fuzz_dict.c: the universal-tag dictionary loader and renderer (common/dict.c). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/dict.h"
#include "common/rawrow.h"
#include "common/schema.h"
#include "ingest/rowb.h"
#include "tests/fuzz/fuzz.h"

#define FD_MAX_ENTRIES 64 /* entries the oracle remembers for lookups */

/* The file format's keywords (etc/universal-tags.example), as the oracle
 * reads them: independent of dict.c's own table on purpose. */
static const struct {
	const char *word;
	enum dict_kind kind;
	int dev_type; /* -2: "device TYPE", -1: not a device */
} fd_kinds[] = {
	{ "region", DICT_REGION, -1 },      { "az", DICT_AZ, -1 },
	{ "device", DICT_DEVICE, -2 },      { "host", DICT_DEVICE, 6 },
	{ "service", DICT_DEVICE, 102 },    { "pod_node", DICT_POD_NODE, -1 },
	{ "pod_ns", DICT_POD_NS, -1 },      { "pod_group", DICT_POD_GROUP, -1 },
	{ "pod", DICT_POD, -1 },            { "pod_cluster", DICT_POD_CLUSTER, -1 },
	{ "l3_epc", DICT_L3_EPC, -1 },      { "subnet", DICT_SUBNET, -1 },
	{ "gprocess", DICT_GPROCESS, -1 },  { "agent", DICT_AGENT, -1 },
};

struct fd_entry {
	enum dict_kind kind;
	uint64_t key;
};

static struct fd_entry fd_seen[FD_MAX_ENTRIES];
static int fd_nseen;
static struct rowb fd_b;
static uint8_t fd_rec[ROWB_MAX_BYTES];

static const char *fd_word(const char **s, const char *end, size_t *len)
{
	const char *w;

	while (*s < end && (**s == ' ' || **s == '\t'))
		(*s)++;
	w = *s;
	while (*s < end && **s != ' ' && **s != '\t')
		(*s)++;
	*len = (size_t)(*s - w);
	return w;
}

static long long fd_num(const char *w, size_t len)
{
	char buf[32];

	FUZZ_CHECK(len > 0 && len < sizeof(buf), "accepted a number of %zu bytes", len);
	memcpy(buf, w, len);
	buf[len] = 0;
	return strtoll(buf, NULL, 10);
}

/* Every entry of a file that loaded must be found under its key, with the
 * rest of its line (blanks trimmed) as the name. */
static void fd_verify(const struct dict *d, const char *text, size_t size)
{
	const char *p = text, *end = text + size;
	size_t entries = 0;

	fd_nseen = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *s = p, *w;
		const char *name, *got;
		size_t wl, glen = 0, k;
		uint64_t key;
		long long type = 0;

		p = nl ? nl + 1 : end;
		while (le > s && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		w = fd_word(&s, le, &wl);
		if (wl == 0 || w[0] == '#')
			continue;
		for (k = 0; k < sizeof(fd_kinds) / sizeof(fd_kinds[0]); k++)
			if (strlen(fd_kinds[k].word) == wl && memcmp(fd_kinds[k].word, w, wl) == 0)
				break;
		FUZZ_CHECK(k < sizeof(fd_kinds) / sizeof(fd_kinds[0]), "accepted kind '%.*s'", (int)wl, w);
		if (fd_kinds[k].dev_type == -2) {
			w = fd_word(&s, le, &wl);
			type = fd_num(w, wl);
			FUZZ_CHECK(type >= 0 && type <= 255, "accepted device type %lld", type);
		} else if (fd_kinds[k].dev_type >= 0) {
			type = fd_kinds[k].dev_type;
		}
		w = fd_word(&s, le, &wl);
		key = (uint32_t)fd_num(w, wl);
		if (fd_kinds[k].kind == DICT_DEVICE)
			key |= (uint64_t)type << 32;
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		name = s;
		got = dict_lookup(d, fd_kinds[k].kind, key, &glen);
		FUZZ_CHECK(got && glen == (size_t)(le - name) && memcmp(got, name, glen) == 0,
			   "%s %llu: '%.*s', loaded '%.*s'", fd_kinds[k].word, (unsigned long long)key,
			   (int)(le - name), name, got ? (int)glen : 6, got ? got : "(none)");
		entries++;
		if (fd_nseen < FD_MAX_ENTRIES)
			fd_seen[fd_nseen++] = (struct fd_entry){ fd_kinds[k].kind, key };
	}
	FUZZ_CHECK(dict_count(d, DICT_KIND_COUNT) == entries, "%zu entries counted, %zu in the file",
		   dict_count(d, DICT_KIND_COUNT), entries);
}

/* A tag value likely to hit the dictionary, a device type, or anything. */
static int64_t fd_pick(uint64_t *rs)
{
	uint64_t r = fuzz_rand(rs);

	switch (r % 4) {
	case 0:
		return fd_nseen ? (int64_t)(uint32_t)fd_seen[(r >> 8) % (unsigned)fd_nseen].key : 1;
	case 1:
		return fd_nseen ? (int64_t)(fd_seen[(r >> 8) % (unsigned)fd_nseen].key >> 32) : 6;
	case 2:
		return (r >> 8) & 1 ? 255 : 0;
	default:
		return (int64_t)(r >> 8) - (1LL << 40);
	}
}

/* Render every universal tag of a row built from the input: never more
 * than <cap> bytes, NUL-terminated when there is room, strings as given. */
static void fd_render(const struct dict *d, const uint8_t *data, size_t size, uint64_t *rs)
{
	struct rawrow_view v;
	char buf[80];
	int n;

	rowb_reset(&fd_b);
	rowb_set_ds(&fd_b, (int)(fuzz_rand(rs) % 2) ? 5 : 0);
	rowb_set_time(&fd_b, 1716998400);
	for (int id = 1; id < SCHEMA_TAG_COUNT; id++) {
		uint64_t r = fuzz_rand(rs);
		uint8_t ip6[16];

		if (r % 3 == 0)
			continue;
		if (schema_tags[id].kind == SCHEMA_KIND_IP6) {
			for (int i = 0; i < 16; i++)
				ip6[i] = (uint8_t)(fuzz_rand(rs) >> 32);
			rowb_set_ip6(&fd_b, id, ip6);
		} else if (r % 7 == 1 && size) {
			size_t off = (r >> 8) % size;

			rowb_set_str(&fd_b, id, data + off, (r >> 24) % (size - off + 1) % 100);
		} else if (schema_tags[id].kind == SCHEMA_KIND_IP4) {
			rowb_set_num(&fd_b, id, (uint32_t)fuzz_rand(rs));
		} else {
			rowb_set_num(&fd_b, id, fd_pick(rs));
		}
	}
	n = rowb_encode(&fd_b, fd_rec, sizeof(fd_rec));
	FUZZ_CHECK(n > 0 && rawrow_decode(fd_rec, (uint32_t)n, &v), "row does not encode: %d", n);
	for (int id = 0; id < SCHEMA_TAG_COUNT; id++) {
		size_t cap = fuzz_rand(rs) % sizeof(buf), r;

		for (int with = 0; with < 2; with++) {
			memset(buf, 'x', sizeof(buf));
			r = utag_render(with ? d : NULL, id, &v, buf, cap);
			FUZZ_CHECK(r <= cap, "tag %d rendered %zu bytes into %zu", id, r, cap);
			FUZZ_CHECK(buf[cap] == 'x', "tag %d wrote past %zu bytes", id, cap);
			if (r && r < cap)
				FUZZ_CHECK(buf[r] == 0, "tag %d not terminated", id);
			if (v.tag_kind[id] == RAWROW_T_STR && schema_tags[id].ut_slot != SCHEMA_UT_NONE)
				FUZZ_CHECK(r == (v.tag_len[id] <= cap ? v.tag_len[id] : 0) &&
					   memcmp(buf, v.tag_val[id], r) == 0, "tag %d: a name is copied as is", id);
		}
	}
}

int fuzz_dict(const uint8_t *data, size_t size)
{
	uint64_t rs = fuzz_seed(data, size);
	char path[64], err[256];
	struct dict *d;
	int fd = memfd_create("fuzz-dict", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0, "memfd_create");
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size, "write");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = 0;
	d = dict_load(path, err, sizeof(err));
	close(fd);
	fd_nseen = 0;
	if (!d) {
		/* One line naming the file: "PATH:LINE: why" or "PATH: why". */
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':' &&
			   !strchr(err, '\n'), "error '%s'", err);
	} else {
		FUZZ_CHECK(!memchr(data, 0, size), "a file with a NUL byte loaded");
		fd_verify(d, (const char *)data, size);
	}
	fd_render(d, data, size, &rs);
	dict_free(d);
	return 0;
}

FUZZ_ENTRY(fuzz_dict)
