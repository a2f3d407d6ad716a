/* SPDX-License-Identifier: MIT */
/* dict.h: universal-tag id -> name dictionary (spec §5) and label rendering. */
#ifndef FLOWRW_DICT_H
#define FLOWRW_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rawrow.h"

/* The name maps of DeepFlow's UniversalTagNameMapsResponse (§5.4). */
enum dict_kind {
	DICT_REGION = 0,
	DICT_AZ,
	DICT_DEVICE,      /* key = type << 32 | id; hosts are type 6, services 102 */
	DICT_POD_NODE,
	DICT_POD_NS,
	DICT_POD_GROUP,
	DICT_POD,
	DICT_POD_CLUSTER,
	DICT_L3_EPC,      /* key = (uint32_t)l3_epc_id */
	DICT_SUBNET,
	DICT_GPROCESS,
	DICT_AGENT,       /* DeepFlow's vtap map */
	DICT_KIND_COUNT,  /* number of maps */
};

#define DICT_MAX_NAME 1024U /* longer names are a load error */

struct dict;

/* Load the dictionary file <path> (format: etc/universal-tags.example).
 * Returns a new dictionary owned by the caller, or NULL with a one-line
 * "FILE:LINE: why" (or "FILE: why") in <err>.  Never aborts on bad input.
 * Any process may call it; the encoder does on start and on SIGHUP, and
 * swaps the result in only when it loaded. */
struct dict *dict_load(const char *path, char *err, size_t errlen);

/* Free <d>; NULL is fine. */
void dict_free(struct dict *d);

/* Name of <key> in map <kind>, or NULL (<*len> = its length). <d> may be NULL. */
const char *dict_lookup(const struct dict *d, enum dict_kind kind, uint64_t key, size_t *len);

/* Number of entries of map <kind>, or of all maps when <kind> is DICT_KIND_COUNT. */
size_t dict_count(const struct dict *d, enum dict_kind kind);

/* Render universal tag <tag> (schema_tags[tag].ut_slot != 0) of row <v> to
 * its name by spec §5.2: devices keyed by type << 32 | id, auto_* of type
 * 0 or 255 render the IP of that side, *_type slots render the §5.3
 * keyword.  <d> may be NULL (no names known: ids give nothing, keywords and
 * IPs still render).  A RAWROW_T_STR value is already a name and is copied
 * as is.  An absent tag renders nothing.  Returns the bytes written to
 * <buf> (a NUL follows when room remains); 0 = unknown, omit the label.
 * A name longer than <cap> is not truncated: 0 is returned.  Pure function
 * of its inputs; any thread. */
size_t utag_render(const struct dict *d, int tag, const struct rawrow_view *v, char *buf, size_t cap);

#endif
