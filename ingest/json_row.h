/* SPDX-License-Identifier: MIT */
/* json_row.h: one DeepFlow Kafka JSON row (a flat object) -> raw-row builder. */
#ifndef FLOWRW_INGEST_JSON_ROW_H
#define FLOWRW_INGEST_JSON_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "common/stats-t.h"
#include "ingest/rowb.h"

/*
 * A hand-written scanner for the one shape DeepFlow writes (spec §6): a flat
 * object of string keys and number/string values.  It validates the whole
 * line as JSON (RFC 8259 strings with every escape, \uXXXX and surrogate
 * pairs to UTF-8, numbers, true/false/null); nested arrays and objects are
 * skipped for ignored and unknown keys (the k8s label arrays) and rejected
 * where a tag or metric value is expected.  Bytes >= 0x80 are copied as
 * they are (DeepFlow does not validate UTF-8 either).
 *
 * Keys are classified with schema_lookup_key() for the row's family:
 *   datasource  string, required unless <default_ds> >= 0
 *   time        integer seconds, required
 *   metric      any JSON number -> double (integers exact up to 2^53)
 *   tag         number -> RAWROW_T_NUM (int64), string -> RAWROW_T_STR,
 *               ip4* strings -> RAWROW_T_NUM (dotted quad, a = bits 31..24),
 *               ip6* strings -> RAWROW_T_IP6; null or "" for an IP -> absent
 *   time_str, k8s_label_*: ignored; other keys: ignored and counted.
 * A field given twice (pod_id_0 and pod_0) keeps the last value; the
 * builder counts it.
 *
 * Docs/BENCHMARKS.md compares it with libjansson.
 */

#define JROW_SCRATCH (256 * 1024) /* decoded escaped strings of one row */

/* Why a row was rejected: the stats reason, where, and a short message. */
struct jrow_err {
	enum stats_reject reason;
	size_t at;              /* byte offset in the line */
	char msg[128];          /* "expected ':'", "\"packet_tx\" must be a number" */
};

/* What schema_lookup_key() said about the key that followed a given key
 * (its "code", below) in the last row of a family.  Rows of one source keep
 * their key order, so the key after key K is usually the one seen after K
 * before; keying by the previous key rather than by position keeps the
 * prediction right after an optional key (pod_*, a zero tag left out)
 * shifts every later position (position memo: 69-92% hits on the
 * generator's rows, previous-key memo: 97-99%).  The name is stored with
 * its closing '"', so one compare against the line both checks the key and
 * finds its end, and scan_string() is skipped.  Only keys that appeared
 * literally in the line (no escape, hence no '"', '\\' or control byte) are
 * stored: a compare against such a name cannot end inside a string.
 * len1 = key length + 1 (with the quote); 0 = empty.
 *
 * Codes: 0 row start, 1 datasource, 2 time, 3..18 ignored/unknown keys (by
 * position & 15: k8s_label_* come in a run), then tags by id, then metrics
 * by index. */
#define JROW_MEMO_OTHER  16
#define JROW_MEMO_TAG0   (3 + JROW_MEMO_OTHER)
#define JROW_MEMO_METRIC0 (JROW_MEMO_TAG0 + SCHEMA_TAG_COUNT)
#define JROW_MEMO_KEYS   (JROW_MEMO_METRIC0 + SCHEMA_MAX_METRICS)
#define JROW_MEMO_KEYLEN 44 /* longest key kept, closing quote included */
struct jrow_key_memo {
	uint8_t len1;
	uint8_t kind;  /* enum schema_key_kind */
	int16_t index;
	char name[JROW_MEMO_KEYLEN];
};

struct jrow {
	uint32_t unknown_keys;  /* keys of the last row not in the schema */
	size_t scratch_len;
	uint8_t scratch[JROW_SCRATCH];
	struct jrow_key_memo memo[SCHEMA_FAM_COUNT][JROW_MEMO_KEYS];
};

/* Reset per-row state; a struct jrow is reusable for every row, and only
 * one thread may use it at a time. */
void jrow_init(struct jrow *jp);

/*
 * Parse <line> (<len> bytes, no newline needed, need not be NUL-terminated)
 * into <b>.  <default_ds> is the source's data-source id for rows without
 * one, or -1.  Returns 0, or -1 with <err> filled (reason, offset, message).
 * On success <b> holds data source and time, and its string tags point into
 * <line> or into <jp>'s scratch: both must stay unchanged until the row is
 * encoded.  Never reads outside [line, line + len).
 */
int jrow_parse(struct jrow *jp, const char *line, size_t len, int default_ds, struct rowb *b,
	       struct jrow_err *err);

/* Human name of a reject reason ("malformed JSON"). */
const char *jrow_reason_name(enum stats_reject r);

/*
 * Print <b> as DeepFlow's Kafka exporter would (spec §6 key order: datasource,
 * time, metrics, tags by id, time_str in UTC), NUL-terminated, without a
 * newline.  Tag keys: the translated name (first "_id" removed) for
 * universal-tag fields given as strings, the json/map_json name otherwise;
 * ip4 as a dotted quad.  Returns the length, or -EMSGSIZE if <cap> is too
 * small.  Any thread.
 */
int jrow_format(const struct rowb *b, char *out, size_t cap);

#endif
