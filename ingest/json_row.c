/* SPDX-License-Identifier: MIT */
/* json_row.c: hand-written scanner for DeepFlow's flat JSON rows, and the printer. */
#include "ingest/json_row.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <emmintrin.h> /* SSE2: baseline on x86-64 */

#define JROW_MAX_DEPTH   64   /* nesting of skipped values */
#define JROW_MAX_NUMBER  128  /* longest number text we convert */

struct scan {
	const uint8_t *start;
	const uint8_t *end;
	struct jrow *jp;
	struct jrow_err *err;
};

/* A parsed JSON number. */
struct num {
	bool is_int;            /* no fraction, no exponent, fits 64 bits */
	bool neg;
	uint64_t mag;           /* |value| when is_int */
	double d;               /* the value as a double (always set) */
};

static const char *const reason_names[STATS_REJ_COUNT] = {
	[STATS_REJ_MALFORMED_JSON] = "malformed JSON",
	[STATS_REJ_LINE_TOO_LONG] = "line too long",
	[STATS_REJ_UNKNOWN_DATASOURCE] = "unknown data source",
	[STATS_REJ_WRONG_TYPE] = "wrong value type",
	[STATS_REJ_MISSING_TIME] = "missing time",
	[STATS_REJ_MISSING_DATASOURCE] = "missing datasource",
	[STATS_REJ_TOO_LARGE] = "row too large",
};

const char *jrow_reason_name(enum stats_reject r)
{
	return (unsigned)r < STATS_REJ_COUNT && reason_names[r] ? reason_names[r] : "rejected";
}

void jrow_init(struct jrow *jp)
{
	jp->unknown_keys = 0;
	jp->scratch_len = 0;
	/* Callers malloc() the struct: a stale name in the memo would be
	 * trusted as a key and its closing quote. */
	memset(jp->memo, 0, sizeof(jp->memo));
}

static int __attribute__((format(printf, 4, 5)))
fail(struct scan *s, enum stats_reject r, const uint8_t *at, const char *fmt, ...)
{
	va_list ap;

	s->err->reason = r;
	s->err->at = (size_t)(at - s->start);
	va_start(ap, fmt);
	vsnprintf(s->err->msg, sizeof(s->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* "expected ':'" or "expected ':' but found end of line" */
static int fail_expect(struct scan *s, const uint8_t *p, const char *what)
{
	if (p >= s->end)
		return fail(s, STATS_REJ_MALFORMED_JSON, p, "expected %s, found end of line", what);
	if (*p >= 0x20 && *p < 0x7f)
		return fail(s, STATS_REJ_MALFORMED_JSON, p, "expected %s, found '%c'", what, *p);
	return fail(s, STATS_REJ_MALFORMED_JSON, p, "expected %s, found byte 0x%02x", what, *p);
}

/* Print a key for a message, cut and made printable. */
static const char *key_text(const uint8_t *k, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 4 < cap; i++)
		buf[n++] = (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"') ? (char)k[i] : '?';
	if (len && n < len && n + 4 >= cap) {
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = 0;
	return buf;
}

static inline const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* --- strings -------------------------------------------------------------- */

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Any byte of <w> that is '"', '\\' or < 0x20 (exact "any", not position). */
static inline bool word_special(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"');
	uint64_t b = w ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
}

static inline int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int read_hex4(const uint8_t *p, const uint8_t *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the rest of a string whose first escape is at <p> (<lit> .. <p>
 * is the literal prefix) into the scratch area.  <pp> is left after the
 * closing quote.
 */
static int decode_string(struct scan *s, const uint8_t *lit, const uint8_t *p, const uint8_t **pp,
			 const uint8_t **out, size_t *outlen)
{
	struct jrow *jp = s->jp;
	const uint8_t *end = s->end;
	/* Decoded text is never longer than its escaped form. */
	size_t room = JROW_SCRATCH - jp->scratch_len;
	uint8_t *o0 = jp->scratch + jp->scratch_len, *o = o0;

	if ((size_t)(p - lit) > room)
		return fail(s, STATS_REJ_TOO_LARGE, lit, "escaped strings exceed %d KiB", JROW_SCRATCH / 1024);
	memcpy(o, lit, (size_t)(p - lit));
	o += p - lit;
	while (p < end) {
		uint8_t c = *p;

		if ((size_t)(o - o0) + 4 > room)
			return fail(s, STATS_REJ_TOO_LARGE, p, "escaped strings exceed %d KiB", JROW_SCRATCH / 1024);
		if (c == '"') {
			*pp = p + 1;
			*out = o0;
			*outlen = (size_t)(o - o0);
			jp->scratch_len += *outlen;
			return 0;
		}
		if (c < 0x20)
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "control character 0x%02x in string", c);
		if (c != '\\') {
			*o++ = c;
			p++;
			continue;
		}
		if (end - p < 2)
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "unterminated string");
		switch (p[1]) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			int u = read_hex4(p + 2, end), lo;
			uint32_t cp;

			if (u < 0)
				return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad \\u escape");
			cp = (uint32_t)u;
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail(s, STATS_REJ_MALFORMED_JSON, p, "lone low surrogate \\u%04x", u);
			if (u >= 0xd800 && u <= 0xdbff) {
				if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
				    (lo = read_hex4(p + 8, end)) < 0xdc00 || lo > 0xdfff)
					return fail(s, STATS_REJ_MALFORMED_JSON, p,
						    "high surrogate \\u%04x without its low half", u);
				cp = 0x10000 + (((uint32_t)u - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
				p += 6;
			}
			o += put_utf8(o, cp);
			p += 6;
			continue;
		}
		default:
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad escape '\\%c'",
				    p[1] >= 0x20 && p[1] < 0x7f ? p[1] : '?');
		}
		p += 2;
	}
	return fail(s, STATS_REJ_MALFORMED_JSON, end, "unterminated string");
}

/*
 * A string value or key; <p> is at the opening quote.  Returns its bytes:
 * in the line when it has no escape (the common case: no copy), else
 * decoded into the scratch area.  <pp> is left after the closing quote.
 */
static inline int scan_string(struct scan *s, const uint8_t *p, const uint8_t **pp,
			      const uint8_t **out, size_t *outlen)
{
	const uint8_t *end = s->end, *lit = ++p;
	uint64_t w;

	for (;;) {
		/* 16 bytes a step: '"', '\\' or a byte < 0x20 (signed compare
		 * after flipping the top bit, so bytes >= 0x80 are not "< 0x20"). */
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i x = _mm_xor_si128(v, _mm_set1_epi8((char)0x80));
			int mask = _mm_movemask_epi8(_mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
				_mm_cmplt_epi8(x, _mm_set1_epi8((char)(0x20 ^ 0x80)))));

			if (mask) {
				p += __builtin_ctz((unsigned)mask);
				goto special;
			}
			p += 16;
		}
		while (end - p >= 8) {
			memcpy(&w, p, 8);
			if (word_special(w))
				break;
			p += 8;
		}
		if (p >= end)
			return fail(s, STATS_REJ_MALFORMED_JSON, end, "unterminated string");
special:
		if (*p == '"') {
			*out = lit;
			*outlen = (size_t)(p - lit);
			*pp = p + 1;
			return 0;
		}
		if (*p == '\\')
			return decode_string(s, lit, p, pp, out, outlen);
		if (*p < 0x20)
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "control character 0x%02x in string", *p);
		p++;
	}
}

/* Skip a string without keeping it (ignored values): escapes are checked,
 * raw control characters tolerated (DeepFlow does not escape k8s labels). */
static int skip_string(struct scan *s, const uint8_t *p, const uint8_t **pp)
{
	const uint8_t *end = s->end;

	for (p++; p < end; p++) {
		if (*p == '"') {
			*pp = p + 1;
			return 0;
		}
		if (*p == '\\') {
			if (end - p < 2)
				break;
			if (p[1] == 'u') {
				if (read_hex4(p + 2, end) < 0)
					return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad \\u escape");
				p += 5;
			} else if (p[1] && strchr("\"\\/bfnrt", p[1])) {
				p++;
			} else {
				return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad escape");
			}
		}
	}
	return fail(s, STATS_REJ_MALFORMED_JSON, end, "unterminated string");
}

/* --- numbers -------------------------------------------------------------- */

static int scan_number(struct scan *s, const uint8_t *p, const uint8_t **pp, struct num *n)
{
	const uint8_t *end = s->end, *begin = p, *digits;
	uint64_t mag = 0;
	int nd = 0;

	n->neg = false;
	if (*p == '-') {
		n->neg = true;
		p++;
	}
	digits = p;
	if (p >= end || *p < '0' || *p > '9')
		return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad number");
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad number: leading zero");
	} else {
		while (p < end && *p >= '0' && *p <= '9') {
			mag = mag * 10 + (uint64_t)(*p - '0');
			p++;
			nd++;
		}
	}
	/* Up to 19 digits cannot overflow; 20 digits fit up to UINT64_MAX. */
	n->is_int = nd < 20 || (nd == 20 && memcmp(digits, "18446744073709551615", 20) <= 0);
	if (p < end && *p == '.') {
		n->is_int = false;
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad number: digit expected after '.'");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		n->is_int = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad number: digit expected in exponent");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	*pp = p;
	if (n->is_int) {
		n->mag = mag;
		n->d = n->neg ? -(double)mag : (double)mag;
		return 0;
	}
	{
		char buf[JROW_MAX_NUMBER + 1];
		size_t len = (size_t)(p - begin);

		if (len > JROW_MAX_NUMBER)
			return fail(s, STATS_REJ_MALFORMED_JSON, begin, "number longer than %d characters",
				    JROW_MAX_NUMBER);
		memcpy(buf, begin, len);
		buf[len] = 0;
		n->d = strtod(buf, NULL);
	}
	return 0;
}

/* --- skipping nested values ---------------------------------------------- */

static int skip_value(struct scan *s, const uint8_t *p, const uint8_t **pp, int depth);

static int skip_container(struct scan *s, const uint8_t *p, const uint8_t **pp, int depth)
{
	const uint8_t *end = s->end;
	uint8_t close = *p == '{' ? '}' : ']';
	bool obj = *p == '{';

	if (depth >= JROW_MAX_DEPTH)
		return fail(s, STATS_REJ_MALFORMED_JSON, p, "nesting deeper than %d", JROW_MAX_DEPTH);
	p = skip_ws(p + 1, end);
	if (p < end && *p == close) {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if (obj) {
			if (p >= end || *p != '"')
				return fail_expect(s, p, "'\"'");
			if (skip_string(s, p, &p))
				return -1;
			p = skip_ws(p, end);
			if (p >= end || *p != ':')
				return fail_expect(s, p, "':'");
			p = skip_ws(p + 1, end);
		}
		if (skip_value(s, p, &p, depth + 1))
			return -1;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == close) {
			*pp = p + 1;
			return 0;
		}
		return fail_expect(s, p, obj ? "',' or '}'" : "',' or ']'");
	}
}

static int skip_literal(struct scan *s, const uint8_t *p, const uint8_t **pp)
{
	static const char *const lits[] = { "true", "false", "null" };

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(lits[i]);

		if (*p == (uint8_t)lits[i][0]) {
			if ((size_t)(s->end - p) < n || memcmp(p, lits[i], n) != 0)
				return fail(s, STATS_REJ_MALFORMED_JSON, p, "bad literal (expected %s)", lits[i]);
			*pp = p + n;
			return 0;
		}
	}
	return fail_expect(s, p, "a value");
}

static int skip_value(struct scan *s, const uint8_t *p, const uint8_t **pp, int depth)
{
	struct num n;

	if (p >= s->end)
		return fail_expect(s, p, "a value");
	switch (*p) {
	case '"':
		return skip_string(s, p, pp);
	case '{':
	case '[':
		return skip_container(s, p, pp, depth);
	case '-':
	case '0' ... '9':
		return scan_number(s, p, pp, &n);
	default:
		return skip_literal(s, p, pp);
	}
}

/* --- values of known keys ------------------------------------------------- */

static bool parse_ip4(const uint8_t *t, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;

	for (int octet = 0; octet < 4; octet++) {
		uint32_t o = 0;
		int nd = 0;

		if (octet) {
			if (i >= len || t[i] != '.')
				return false;
			i++;
		}
		while (i < len && t[i] >= '0' && t[i] <= '9' && nd < 3) {
			o = o * 10 + (uint32_t)(t[i] - '0');
			i++;
			nd++;
		}
		if (!nd || o > 255)
			return false;
		v = v << 8 | o;
	}
	if (i != len)
		return false;
	*out = v;
	return true;
}

static int tag_string(struct scan *s, struct rowb *b, int tag, const uint8_t *at, const uint8_t *str,
		      size_t len, const uint8_t *key, size_t klen)
{
	char kb[48];

	switch (schema_tags[tag].kind) {
	case SCHEMA_KIND_IP4: {
		uint32_t ip;

		if (len == 0)
			return 0;
		if (!parse_ip4(str, len, &ip))
			return fail(s, STATS_REJ_WRONG_TYPE, at, "\"%s\" is not an IPv4 address",
				    key_text(key, klen, kb, sizeof(kb)));
		rowb_set_num(b, tag, ip);
		return 0;
	}
	case SCHEMA_KIND_IP6: {
		char buf[64];
		uint8_t ip6[16];

		if (len == 0)
			return 0;
		if (len >= sizeof(buf))
			goto bad_ip6;
		memcpy(buf, str, len);
		buf[len] = 0;
		if (inet_pton(AF_INET6, buf, ip6) != 1)
			goto bad_ip6;
		rowb_set_ip6(b, tag, ip6);
		return 0;
bad_ip6:
		return fail(s, STATS_REJ_WRONG_TYPE, at, "\"%s\" is not an IPv6 address",
			    key_text(key, klen, kb, sizeof(kb)));
	}
	default:
		if (len > RAWROW_MAX_STR)
			return fail(s, STATS_REJ_TOO_LARGE, at, "\"%s\" is longer than %u bytes",
				    key_text(key, klen, kb, sizeof(kb)), RAWROW_MAX_STR);
		rowb_set_str(b, tag, str, len);
		return 0;
	}
}

static int tag_number(struct scan *s, struct rowb *b, int tag, const uint8_t *at, const struct num *n,
		      const uint8_t *key, size_t klen)
{
	char kb[48];
	int kind = schema_tags[tag].kind;

	if (kind == SCHEMA_KIND_IP6)
		return fail(s, STATS_REJ_WRONG_TYPE, at, "\"%s\" must be a string (IPv6 address)",
			    key_text(key, klen, kb, sizeof(kb)));
	if (!n->is_int || (n->neg ? n->mag > (uint64_t)INT64_MAX + 1 : n->mag > INT64_MAX))
		return fail(s, STATS_REJ_WRONG_TYPE, at, "\"%s\" must be an integer", key_text(key, klen, kb, sizeof(kb)));
	if (kind == SCHEMA_KIND_IP4 && (n->neg || n->mag > UINT32_MAX))
		return fail(s, STATS_REJ_WRONG_TYPE, at, "\"%s\" is out of the IPv4 range",
			    key_text(key, klen, kb, sizeof(kb)));
	rowb_set_num(b, tag, n->neg ? (int64_t)(0 - n->mag) : (int64_t)n->mag);
	return 0;
}

static const char *value_kind(uint8_t c)
{
	switch (c) {
	case '"': return "a string";
	case '{': return "an object";
	case '[': return "an array";
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	default: return "a number";
	}
}

/* Find the datasource of a row whose first key is not "datasource": a
 * validating pass over the members that keeps only that value. */
static int prescan_ds(struct scan *s, const uint8_t *p, int *ds)
{
	const uint8_t *end = s->end, *key, *str;
	size_t klen, len;
	size_t mark = s->jp->scratch_len;

	*ds = -1;
	for (;;) {
		const uint8_t *vat;

		if (p >= end || *p != '"')
			return fail_expect(s, p, "'\"' (a key)");
		if (scan_string(s, p, &p, &key, &klen))
			return -1;
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return fail_expect(s, p, "':'");
		vat = p = skip_ws(p + 1, end);
		if (klen == 10 && memcmp(key, "datasource", 10) == 0) {
			if (p >= end || *p != '"')
				return fail(s, STATS_REJ_WRONG_TYPE, vat, "\"datasource\" must be a string, not %s",
					    p < end ? value_kind(*p) : "nothing");
			if (scan_string(s, p, &p, &str, &len))
				return -1;
			*ds = schema_ds_from_name((const char *)str, len);
			if (*ds < 0) {
				char nb[64];

				return fail(s, STATS_REJ_UNKNOWN_DATASOURCE, vat, "\"%s\"",
					    key_text(str, len, nb, sizeof(nb)));
			}
			s->jp->scratch_len = mark;
			return 0;
		}
		if (skip_value(s, p, &p, 0))
			return -1;
		s->jp->scratch_len = mark;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return 0;
		return fail_expect(s, p, "',' or '}'");
	}
}

/* a[0..n) == b[0..n) for the short n (1..JROW_MEMO_KEYLEN) of a memo
 * compare: overlapping word loads, where a libc memcmp() call cost more
 * than the compare itself (7% of the parse in perf). */
static inline bool key_eq(const uint8_t *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v;
	uint16_t s, t;

	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return false;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	if (n >= 2) {
		memcpy(&s, a, 2);
		memcpy(&t, b, 2);
		if (s != t)
			return false;
		memcpy(&s, a + n - 2, 2);
		memcpy(&t, b + n - 2, 2);
		return s == t;
	}
	return n == 0 || a[0] == (uint8_t)b[0];
}

/* The memo code of a classified key (json_row.h). */
static inline unsigned memo_code(enum schema_key_kind kind, int idx, unsigned nkey)
{
	switch (kind) {
	case SCHEMA_KEY_DATASOURCE: return 1;
	case SCHEMA_KEY_TIME: return 2;
	case SCHEMA_KEY_TAG: return JROW_MEMO_TAG0 + (unsigned)idx;
	case SCHEMA_KEY_METRIC: return JROW_MEMO_METRIC0 + (unsigned)idx;
	default: return 3 + (nkey & (JROW_MEMO_OTHER - 1));
	}
}

int jrow_parse(struct jrow *jp, const char *line, size_t len, int default_ds, struct rowb *b,
	       struct jrow_err *err)
{
	struct scan s = { (const uint8_t *)line, (const uint8_t *)line + len, jp, err };
	const uint8_t *p = s.start, *end = s.end;
	enum schema_family fam = SCHEMA_FAM_NETWORK;
	bool have_ds = false;
	unsigned nkey = 0; /* position of the key in the row */
	unsigned prev = 0; /* memo code of the previous key (json_row.h) */

	jp->unknown_keys = 0;
	jp->scratch_len = 0;
	rowb_reset(b);
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return fail_expect(&s, p, "'{'");
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	if (!((size_t)(end - p) >= 12 && memcmp(p, "\"datasource\"", 12) == 0)) {
		int ds;

		/* Rare: not DeepFlow's key order.  Learn the family first. */
		if (prescan_ds(&s, p, &ds))
			return -1;
		if (ds < 0)
			ds = default_ds;
		if (ds < 0)
			return fail(&s, STATS_REJ_MISSING_DATASOURCE, s.start, "no \"datasource\" key");
		rowb_set_ds(b, ds);
		fam = b->family;
		have_ds = true;
	}
	for (;;) {
		const uint8_t *key, *vat, *str;
		size_t klen, slen;
		enum schema_key_kind kind;
		struct num n;
		char kb[48];
		int idx = 0;
		struct jrow_key_memo *m;

		if (p >= end || *p != '"')
			return fail_expect(&s, p, "'\"' (a key)");
		m = have_ds ? &jp->memo[fam][prev] : NULL;
		if (m && m->len1 && (size_t)(end - p) > m->len1 && key_eq(p + 1, m->name, m->len1)) {
			/* The predicted key, its closing quote included. */
			key = p + 1;
			klen = m->len1 - 1u;
			p += m->len1 + 1u;
			kind = (enum schema_key_kind)m->kind;
			idx = m->index;
		} else {
			if (scan_string(&s, p, &p, &key, &klen))
				return -1;
			if (!have_ds) {
				/* First key is "datasource" (checked above), or no ds at all. */
				kind = (klen == 10 && memcmp(key, "datasource", 10) == 0) ? SCHEMA_KEY_DATASOURCE
											  : SCHEMA_KEY_UNKNOWN;
			} else {
				kind = schema_lookup_key(fam, (const char *)key, klen, &idx);
				/* Literal keys only (in the line, not decoded into the scratch). */
				if (klen + 1 <= JROW_MEMO_KEYLEN && key >= s.start && key < s.end &&
				    idx >= INT16_MIN && idx <= INT16_MAX) {
					memcpy(m->name, key, klen);
					m->name[klen] = '"';
					m->len1 = (uint8_t)(klen + 1);
					m->kind = (uint8_t)kind;
					m->index = (int16_t)idx;
				}
			}
		}
		prev = memo_code(kind, idx, nkey);
		if (p < end && *p == ':') {
			p++;
		} else {
			p = skip_ws(p, end);
			if (p >= end || *p != ':')
				return fail_expect(&s, p, "':'");
			p++;
		}
		vat = p = skip_ws(p, end);
		if (p >= end)
			return fail_expect(&s, p, "a value");
		nkey++;
		switch (kind) {
		case SCHEMA_KEY_METRIC:
			if (*p == '-' || (*p >= '0' && *p <= '9')) {
				if (scan_number(&s, p, &p, &n))
					return -1;
				/* strtod() makes 1e999 an infinity, which no DeepFlow
				 * row holds (Go cannot encode one) and jrow_format()
				 * cannot print: reject it like an out-of-range id. */
				if (!isfinite(n.d))
					return fail(&s, STATS_REJ_WRONG_TYPE, vat,
						    "\"%s\" is beyond the range of a double",
						    key_text(key, klen, kb, sizeof(kb)));
				rowb_set_metric(b, idx, n.d);
				break;
			}
			if (*p == 'n') {
				if (skip_literal(&s, p, &p))
					return -1;
				break;
			}
			return fail(&s, STATS_REJ_WRONG_TYPE, vat, "\"%s\" must be a number, not %s",
				    key_text(key, klen, kb, sizeof(kb)), value_kind(*p));
		case SCHEMA_KEY_TAG:
			if (*p == '"') {
				if (scan_string(&s, p, &p, &str, &slen))
					return -1;
				if (tag_string(&s, b, idx, vat, str, slen, key, klen))
					return -1;
				break;
			}
			if (*p == '-' || (*p >= '0' && *p <= '9')) {
				if (scan_number(&s, p, &p, &n))
					return -1;
				if (tag_number(&s, b, idx, vat, &n, key, klen))
					return -1;
				break;
			}
			if (*p == 'n') {
				if (skip_literal(&s, p, &p))
					return -1;
				break;
			}
			return fail(&s, STATS_REJ_WRONG_TYPE, vat, "\"%s\" must be a string or a number, not %s",
				    key_text(key, klen, kb, sizeof(kb)), value_kind(*p));
		case SCHEMA_KEY_TIME:
			if (*p == '-' || (*p >= '0' && *p <= '9')) {
				if (scan_number(&s, p, &p, &n))
					return -1;
				if (!n.is_int || n.neg || n.mag == 0 || n.mag > UINT32_MAX)
					return fail(&s, STATS_REJ_WRONG_TYPE, vat,
						    "\"time\" must be whole seconds since the epoch");
				rowb_set_time(b, (uint32_t)n.mag);
				break;
			}
			return fail(&s, STATS_REJ_WRONG_TYPE, vat, "\"time\" must be a number, not %s",
				    value_kind(*p));
		case SCHEMA_KEY_DATASOURCE: {
			int ds;

			if (*p != '"')
				return fail(&s, STATS_REJ_WRONG_TYPE, vat, "\"datasource\" must be a string, not %s",
					    value_kind(*p));
			if (scan_string(&s, p, &p, &str, &slen))
				return -1;
			ds = schema_ds_from_name((const char *)str, slen);
			if (ds < 0)
				return fail(&s, STATS_REJ_UNKNOWN_DATASOURCE, vat, "\"%s\"",
					    key_text(str, slen, kb, sizeof(kb)));
			if (have_ds && ds != b->ds)
				return fail(&s, STATS_REJ_MALFORMED_JSON, vat, "two different datasource values");
			if (have_ds)
				b->dups++;
			rowb_set_ds(b, ds);
			fam = b->family;
			have_ds = true;
			break;
		}
		case SCHEMA_KEY_UNKNOWN:
			jp->unknown_keys++;
			/* fall through */
		case SCHEMA_KEY_IGNORED:
		default:
			if (skip_value(&s, p, &p, 0))
				return -1;
			break;
		}
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		return fail_expect(&s, p, "',' or '}'");
	}
done:
	p = skip_ws(p, end);
	if (p < end)
		return fail(&s, STATS_REJ_MALFORMED_JSON, p, "characters after the object");
	if (!have_ds) {
		if (default_ds < 0)
			return fail(&s, STATS_REJ_MISSING_DATASOURCE, s.start, "no \"datasource\" key");
		/* Only reachable for "{}": the prescan handles every other row. */
		rowb_set_ds(b, default_ds);
	}
	if (!b->has_time)
		return fail(&s, STATS_REJ_MISSING_TIME, s.start, "no \"time\" key");
	return 0;
}

/* --- printing --------------------------------------------------------------- */

struct out {
	char *p;
	char *end;
	bool overflow;
};

static void out_mem(struct out *o, const void *src, size_t n)
{
	if ((size_t)(o->end - o->p) < n + 1) {
		o->overflow = true;
		return;
	}
	memcpy(o->p, src, n);
	o->p += n;
}

static void out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) out_fmt(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p, (size_t)(o->end - o->p), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= o->end - o->p)
		o->overflow = true;
	else
		o->p += n;
}

/* A JSON string as DeepFlow escapes it (spec §6). */
static void out_json_string(struct out *o, const uint8_t *s, size_t len)
{
	out_mem(o, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];
		char esc[8];

		switch (c) {
		case '"': out_mem(o, "\\\"", 2); break;
		case '\\': out_mem(o, "\\\\", 2); break;
		case '\b': out_mem(o, "\\b", 2); break;
		case '\f': out_mem(o, "\\f", 2); break;
		case '\n': out_mem(o, "\\n", 2); break;
		case '\r': out_mem(o, "\\r", 2); break;
		case '\t': out_mem(o, "\\t", 2); break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				out_mem(o, esc, 6);
			} else {
				out_mem(o, &c, 1);
			}
		}
	}
	out_mem(o, "\"", 1);
}

static void out_double(struct out *o, double v)
{
	if (v == floor(v) && fabs(v) < 1e19)
		out_fmt(o, "%.0f", v);
	else if (isfinite(v))
		out_fmt(o, "%.17g", v);
	else
		out_str(o, "0"); /* JSON has no NaN/Inf; the builder never gets them from JSON */
}

int jrow_format(const struct rowb *b, char *buf, size_t cap)
{
	struct out o = { buf, buf + cap, false };
	enum schema_family f = b->family;
	const struct schema_metric *mt;
	int count;
	char tbuf[64];
	struct tm tm;
	time_t t = b->time;

	if (cap == 0)
		return -EMSGSIZE;
	out_str(&o, "{\"datasource\":\"");
	out_str(&o, schema_ds_name(b->ds));
	out_fmt(&o, "\",\"time\":%" PRIu32, b->time);
	mt = schema_metrics(f, &count);
	for (int i = 0; i < count; i++) {
		if (!((b->metric_mask[i >> 6] >> (i & 63)) & 1))
			continue;
		out_fmt(&o, ",\"%s\":", mt[i].name);
		out_double(&o, b->metric[i]);
	}
	for (uint64_t m = b->tag_mask; m; m &= m - 1) {
		int id = __builtin_ctzll(m);
		const struct rowb_tag *tg = &b->tag[id];
		const char *name = schema_tag_label(id, f);
		const char *idp = strstr(name, "_id");
		char key[64];

		if (schema_tags[id].ut_slot != SCHEMA_UT_NONE && tg->kind == RAWROW_T_STR && idp)
			snprintf(key, sizeof(key), "%.*s%s", (int)(idp - name), name, idp + 3);
		else
			snprintf(key, sizeof(key), "%s", name);
		out_fmt(&o, ",\"%s\":", key);
		if (tg->kind == RAWROW_T_STR) {
			out_json_string(&o, tg->v.str, tg->len);
		} else if (tg->kind == RAWROW_T_IP6) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, tg->v.ip6, a, sizeof(a));
			out_fmt(&o, "\"%s\"", a);
		} else if (schema_tags[id].kind == SCHEMA_KIND_IP4) {
			uint32_t v = (uint32_t)tg->v.num;

			out_fmt(&o, "\"%u.%u.%u.%u\"", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
		} else {
			out_fmt(&o, "%" PRId64, tg->v.num);
		}
	}
	gmtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	out_fmt(&o, ",\"time_str\":\"%s\"}", tbuf);
	if (o.overflow)
		return -EMSGSIZE;
	*o.p = 0;
	return (int)(o.p - buf);
}
