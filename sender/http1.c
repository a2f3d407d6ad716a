/* SPDX-License-Identifier: MIT */
/* http1.c: minimal HTTP/1.1 client codec (picohttpparser's shape, written for flowrw). */
#include "sender/http1.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * Parsing rules (RFC 9112, made strict where leniency has no use for a
 * remote-write client): bare LF is accepted as a line end, obs-fold and
 * control bytes in values are refused, a space before the colon is refused,
 * the reason phrase may be empty.  The parser only ever looks at
 * buf[0 .. len), which the guard-page test checks.
 */

static const char token_chars[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
	['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Field value and reason phrase bytes: HTAB, SP, VCHAR, obs-text. */
static inline bool is_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool http1_name_is(const char *name, size_t len, const char *lc)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!lc[i] || lower(name[i]) != lc[i])
			return false;
	return lc[i] == '\0';
}

/*
 * Is there an empty line (end of the head) in buf[0 .. len), looking only at
 * line ends from <from> on?  Cheap re-check for a head that arrives in
 * pieces: what was before <from> had no end.
 */
static bool head_complete(const char *buf, size_t len, size_t from)
{
	size_t i = from > 3 ? from - 3 : 0;

	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return true;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return true;
	}
	return false;
}

/* Consume a line end at *pp: "\r\n" or "\n".  0 ok, or an HTTP1_ERR_*. */
static int eat_eol(const char **pp, const char *end)
{
	const char *p = *pp;

	if (p == end)
		return HTTP1_ERR_PARTIAL;
	if (*p == '\r') {
		if (++p == end)
			return HTTP1_ERR_PARTIAL;
		if (*p != '\n')
			return HTTP1_ERR_BAD;
	} else if (*p != '\n') {
		return HTTP1_ERR_BAD;
	}
	*pp = p + 1;
	return 0;
}

static int parse_status_line(const char **pp, const char *end, int *minor, int *status,
			     const char **msg, size_t *msg_len)
{
	static const char proto[] = "HTTP/1.";
	const char *p = *pp, *m;
	int code = 0, err;

	for (size_t i = 0; i < sizeof(proto) - 1; i++, p++) {
		if (p == end)
			return HTTP1_ERR_PARTIAL;
		if (*p != proto[i])
			return HTTP1_ERR_BAD;
	}
	if (p == end)
		return HTTP1_ERR_PARTIAL;
	if (*p < '0' || *p > '9')
		return HTTP1_ERR_BAD;
	*minor = *p++ - '0';
	if (p == end)
		return HTTP1_ERR_PARTIAL;
	if (*p != ' ')
		return HTTP1_ERR_BAD;
	while (p < end && *p == ' ')
		p++;
	for (int i = 0; i < 3; i++, p++) {
		if (p == end)
			return HTTP1_ERR_PARTIAL;
		if (*p < '0' || *p > '9')
			return HTTP1_ERR_BAD;
		code = code * 10 + (*p - '0');
	}
	if (p == end)
		return HTTP1_ERR_PARTIAL;
	if (*p == ' ') {
		p++;
	} else if (*p != '\r' && *p != '\n') {
		return HTTP1_ERR_BAD;
	}
	m = p;
	while (p < end && *p != '\r' && *p != '\n') {
		if (!is_text((unsigned char)*p))
			return HTTP1_ERR_BAD;
		p++;
	}
	*msg = m;
	*msg_len = (size_t)(p - m);
	err = eat_eol(&p, end);
	if (err)
		return err;
	*status = code;
	*pp = p;
	return 0;
}

static int parse_headers(const char **pp, const char *end, struct http1_header *hdrs,
			 size_t *nhdrs)
{
	const char *p = *pp;
	size_t max = *nhdrs, n = 0;
	int err;

	for (;;) {
		const char *name, *value, *vend;

		if (p == end)
			return HTTP1_ERR_PARTIAL;
		if (*p == '\r' || *p == '\n') {
			err = eat_eol(&p, end);
			if (err)
				return err;
			break;
		}
		if (is_ows(*p))
			return HTTP1_ERR_BAD; /* obs-fold: refused (RFC 9112 §5.2) */
		name = p;
		while (p < end && token_chars[(unsigned char)*p])
			p++;
		if (p == end)
			return HTTP1_ERR_PARTIAL;
		if (*p != ':' || p == name)
			return HTTP1_ERR_BAD;
		if (n == max)
			return HTTP1_ERR_BAD;
		hdrs[n].name = name;
		hdrs[n].name_len = (size_t)(p - name);
		p++;
		while (p < end && is_ows(*p))
			p++;
		value = p;
		while (p < end && *p != '\r' && *p != '\n') {
			if (!is_text((unsigned char)*p))
				return HTTP1_ERR_BAD;
			p++;
		}
		if (p == end)
			return HTTP1_ERR_PARTIAL;
		vend = p;
		while (vend > value && is_ows(vend[-1]))
			vend--;
		hdrs[n].value = value;
		hdrs[n].value_len = (size_t)(vend - value);
		n++;
		err = eat_eol(&p, end);
		if (err)
			return err;
	}
	*nhdrs = n;
	*pp = p;
	return 0;
}

int http1_parse_response(const char *buf, size_t len, int *minor_version, int *status,
			 const char **msg, size_t *msg_len, struct http1_header *hdrs,
			 size_t *nhdrs, size_t last_len)
{
	const char *p = buf, *end = buf + len;
	int err;

	/* The bytes before last_len held no end of head: look at the new ones. */
	if (last_len != 0 && !head_complete(buf, len, last_len))
		return HTTP1_ERR_PARTIAL;
	err = parse_status_line(&p, end, minor_version, status, msg, msg_len);
	if (err)
		return err;
	err = parse_headers(&p, end, hdrs, nhdrs);
	if (err)
		return err;
	return (int)(p - buf);
}

/* --- chunked bodies ------------------------------------------------------ */

enum {
	CH_SIZE = 0,     /* hex digits of the chunk size */
	CH_EXT,          /* after the size: extensions up to LF */
	CH_DATA,         /* chunk data */
	CH_DATA_END,     /* CRLF after the data */
	CH_DATA_LF,      /* LF after that CR */
	CH_TRAILER_HEAD, /* start of a trailer line, or the final empty line */
	CH_TRAILER_MID,  /* inside a trailer line */
	CH_TRAILER_LF,   /* LF of the final empty line */
	CH_DONE,
};

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t http1_decode_chunked(struct http1_chunked *d, char *buf, size_t *len)
{
	size_t src = 0, dst = 0, n = *len;

	for (;;) {
		switch (d->state) {
		case CH_SIZE:
			for (; src < n; src++) {
				int v = hexval(buf[src]);

				if (v < 0)
					break;
				if (d->digits == 15)
					return HTTP1_ERR_BAD; /* 2^60: no sane body is that big */
				d->left = d->left * 16 + (uint64_t)v;
				d->digits++;
			}
			if (src == n)
				goto partial;
			if (d->digits == 0)
				return HTTP1_ERR_BAD;
			if (buf[src] != ';' && buf[src] != '\r' && buf[src] != '\n' && !is_ows(buf[src]))
				return HTTP1_ERR_BAD;
			d->state = CH_EXT;
			/* fall through */
		case CH_EXT:
			for (; src < n && buf[src] != '\n'; src++)
				if (buf[src] != '\r' && !is_text((unsigned char)buf[src]))
					return HTTP1_ERR_BAD;
			if (src == n)
				goto partial;
			src++;
			d->state = d->left ? CH_DATA : CH_TRAILER_HEAD;
			break;
		case CH_DATA: {
			size_t take = n - src;

			if (take > d->left)
				take = (size_t)d->left;
			if (take && dst != src)
				memmove(buf + dst, buf + src, take);
			dst += take;
			src += take;
			d->left -= take;
			if (d->left)
				goto partial;
			d->state = CH_DATA_END;
		}
			/* fall through */
		case CH_DATA_END:
			if (src == n)
				goto partial;
			if (buf[src] == '\n') {
				src++;
				d->digits = 0;
				d->state = CH_SIZE;
				break;
			}
			if (buf[src] != '\r')
				return HTTP1_ERR_BAD;
			src++;
			d->state = CH_DATA_LF;
			/* fall through */
		case CH_DATA_LF:
			if (src == n)
				goto partial;
			if (buf[src] != '\n')
				return HTTP1_ERR_BAD;
			src++;
			d->digits = 0;
			d->state = CH_SIZE;
			break;
		case CH_TRAILER_HEAD:
			if (src == n)
				goto partial;
			if (buf[src] == '\n') {
				src++;
				goto done;
			}
			if (buf[src] == '\r') {
				src++;
				d->state = CH_TRAILER_LF;
				break;
			}
			d->state = CH_TRAILER_MID;
			/* fall through */
		case CH_TRAILER_MID:
			for (; src < n && buf[src] != '\n'; src++)
				if (buf[src] != '\r' && !is_text((unsigned char)buf[src]))
					return HTTP1_ERR_BAD;
			if (src == n)
				goto partial;
			src++;
			d->state = CH_TRAILER_HEAD;
			break;
		case CH_TRAILER_LF:
			if (src == n)
				goto partial;
			if (buf[src] != '\n')
				return HTTP1_ERR_BAD;
			src++;
			goto done;
		case CH_DONE:
			goto done;
		default:
			return HTTP1_ERR_BAD;
		}
	}
done:
	d->state = CH_DONE;
	if (n > src && dst != src)
		memmove(buf + dst, buf + src, n - src);
	*len = dst;
	return (ssize_t)(n - src);
partial:
	*len = dst;
	return HTTP1_ERR_PARTIAL;
}

/* --- header semantics ---------------------------------------------------- */

/* Does the comma-separated list <v> contain token <lc> (case-insensitive)?
 * With <last_only>, only the last element counts. */
static bool list_has(const char *v, size_t len, const char *lc, bool last_only)
{
	size_t i = 0;
	bool found = false;

	while (i <= len) {
		size_t s, e;

		while (i < len && (is_ows(v[i]) || v[i] == ','))
			i++;
		if (i >= len)
			break;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && is_ows(v[e - 1]))
			e--;
		found = http1_name_is(v + s, e - s, lc) ? true : (last_only ? false : found);
		i++;
	}
	return found;
}

static int parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t x = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

int http1_response_meta(int minor_version, int status, const struct http1_header *hdrs,
			size_t nhdrs, time_t now, struct http1_meta *m)
{
	bool has_cl = false, has_te = false, chunked = false, close = false;
	uint64_t cl = 0;

	memset(m, 0, sizeof(*m));
	m->retry_after_s = -1;
	for (size_t i = 0; i < nhdrs; i++) {
		const struct http1_header *h = &hdrs[i];

		if (http1_name_is(h->name, h->name_len, "content-length")) {
			uint64_t v;

			if (parse_u64(h->value, h->value_len, &v))
				return HTTP1_ERR_BAD;
			if (has_cl && v != cl)
				return HTTP1_ERR_BAD;
			has_cl = true;
			cl = v;
		} else if (http1_name_is(h->name, h->name_len, "transfer-encoding")) {
			has_te = true;
			/* Only the last coding decides; several fields are one list. */
			chunked = list_has(h->value, h->value_len, "chunked", true);
		} else if (http1_name_is(h->name, h->name_len, "connection")) {
			if (list_has(h->value, h->value_len, "close", false))
				close = true;
		} else if (http1_name_is(h->name, h->name_len, "retry-after")) {
			int64_t s = http1_parse_retry_after(h->value, h->value_len, now);

			m->retry_after_s = s > 0 ? s : -1;
		}
	}
	if ((status >= 100 && status < 200) || status == 204 || status == 304) {
		m->body = HTTP1_BODY_NONE;
	} else if (has_te) {
		m->body = chunked ? HTTP1_BODY_CHUNKED : HTTP1_BODY_EOF;
	} else if (has_cl) {
		m->body = HTTP1_BODY_LENGTH;
		m->content_length = cl;
	} else {
		m->body = HTTP1_BODY_EOF;
	}
	/* Both framings at once smells of request smuggling: do not reuse. */
	m->keep_alive = minor_version >= 1 && !close && m->body != HTTP1_BODY_EOF &&
			!(has_te && has_cl);
	return 0;
}

/* --- dates --------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static const char months[12][4] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

struct dscan {
	const char *p, *end;
};

static bool ds_eof(const struct dscan *s)
{
	return s->p >= s->end;
}

static void ds_spaces(struct dscan *s)
{
	while (!ds_eof(s) && *s->p == ' ')
		s->p++;
}

static bool ds_char(struct dscan *s, char c)
{
	if (ds_eof(s) || *s->p != c)
		return false;
	s->p++;
	return true;
}

/* <min>..<max> decimal digits. */
static bool ds_num(struct dscan *s, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (!ds_eof(s) && n < max && *s->p >= '0' && *s->p <= '9') {
		v = v * 10 + (*s->p - '0');
		s->p++;
		n++;
	}
	*out = v;
	return n >= min;
}

static bool ds_month(struct dscan *s, int *mon)
{
	if (s->end - s->p < 3)
		return false;
	for (int i = 0; i < 12; i++)
		if (lower(s->p[0]) == months[i][0] && lower(s->p[1]) == months[i][1] &&
		    lower(s->p[2]) == months[i][2]) {
			*mon = i + 1;
			s->p += 3;
			return true;
		}
	return false;
}

static bool ds_time(struct dscan *s, int *h, int *mi, int *sec)
{
	return ds_num(s, 2, 2, h) && ds_char(s, ':') && ds_num(s, 2, 2, mi) && ds_char(s, ':') &&
	       ds_num(s, 2, 2, sec) && *h < 24 && *mi < 60 && *sec <= 60;
}

int64_t http1_parse_date(const char *v, size_t len)
{
	struct dscan s = { v, v + len };
	int day = 0, mon = 0, year = 0, h = 0, mi = 0, sec = 0;
	const char *comma = memchr(v, ',', len);

	/* Skip the day name: letters only. */
	while (!ds_eof(&s) && ((*s.p >= 'a' && *s.p <= 'z') || (*s.p >= 'A' && *s.p <= 'Z')))
		s.p++;
	if (s.p == v)
		return -1;
	if (comma) {
		if (!ds_char(&s, ','))
			return -1;
		ds_spaces(&s);
		if (!ds_num(&s, 1, 2, &day))
			return -1;
		if (ds_char(&s, '-')) {
			/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
			if (!ds_month(&s, &mon) || !ds_char(&s, '-') || !ds_num(&s, 2, 2, &year))
				return -1;
			year += year < 70 ? 2000 : 1900;
		} else {
			/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
			if (!ds_char(&s, ' ') || !ds_month(&s, &mon) || !ds_char(&s, ' ') ||
			    !ds_num(&s, 4, 4, &year))
				return -1;
		}
		if (!ds_char(&s, ' ') || !ds_time(&s, &h, &mi, &sec) || !ds_char(&s, ' '))
			return -1;
		if (s.end - s.p != 3 || !http1_name_is(s.p, 3, "gmt"))
			return -1;
	} else {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if (!ds_char(&s, ' ') || !ds_month(&s, &mon) || !ds_char(&s, ' '))
			return -1;
		ds_spaces(&s);
		if (!ds_num(&s, 1, 2, &day) || !ds_char(&s, ' ') || !ds_time(&s, &h, &mi, &sec) ||
		    !ds_char(&s, ' ') || !ds_num(&s, 4, 4, &year) || !ds_eof(&s))
			return -1;
	}
	if (day < 1 || day > 31 || mon < 1)
		return -1;
	return days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + h * 3600 + mi * 60 + sec;
}

int64_t http1_parse_retry_after(const char *v, size_t len, time_t now)
{
	uint64_t secs;
	int64_t t;

	while (len && is_ows(*v)) {
		v++;
		len--;
	}
	while (len && is_ows(v[len - 1]))
		len--;
	if (len && v[0] >= '0' && v[0] <= '9') {
		if (parse_u64(v, len, &secs))
			return -1;
		return secs > INT32_MAX ? INT32_MAX : (int64_t)secs;
	}
	t = http1_parse_date(v, len);
	if (t < 0)
		return -1;
	return t > (int64_t)now ? t - (int64_t)now : 0;
}

size_t http1_format_date(int64_t t, char *buf, size_t cap)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, y;
	int64_t rem = t - days * 86400;
	unsigned m, d;
	int n;

	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, cap, "%s, %02u %s %04lld %02d:%02d:%02d GMT",
		     day_names[((days % 7) + 11) % 7], d, month_names[m - 1], (long long)y,
		     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

/* --- request head -------------------------------------------------------- */

static const char *const forbidden_headers[] = {
	"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
	"trailer", NULL,
};

/* prometheus/prometheus config/config.go reservedHeaders, in lower case. */
static const char *const reserved_headers[] = {
	"host", "content-encoding", "content-length", "content-type", "user-agent", "connection",
	"keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
	"accept-encoding", "x-prometheus-remote-write-version",
	"x-prometheus-remote-read-version", "x-amz-date", "x-amz-security-token",
	"x-amz-content-sha256", "authorization", NULL,
};

bool http1_header_forbidden(const char *name)
{
	for (int i = 0; forbidden_headers[i]; i++)
		if (http1_name_is(name, strlen(name), forbidden_headers[i]))
			return true;
	return false;
}

bool http1_header_reserved(const char *name)
{
	for (int i = 0; reserved_headers[i]; i++)
		if (http1_name_is(name, strlen(name), reserved_headers[i]))
			return true;
	return false;
}

struct hbuf {
	char *p;
	size_t len, cap;
	bool full;
};

static void hb_put(struct hbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void hb_str(struct hbuf *b, const char *s)
{
	hb_put(b, s, strlen(s));
}

static void hb_header(struct hbuf *b, const char *name, const char *value)
{
	hb_str(b, name);
	hb_put(b, ": ", 2);
	hb_str(b, value);
	hb_put(b, "\r\n", 2);
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!token_chars[(unsigned char)*s])
			return false;
	return true;
}

static bool valid_value(const char *s)
{
	for (; *s; s++)
		if (!is_text((unsigned char)*s))
			return false;
	return true;
}

static bool overridden(const char *lc, const struct cfg_header *extra, int n_extra)
{
	for (int i = 0; i < n_extra; i++)
		if (http1_name_is(extra[i].name, strlen(extra[i].name), lc))
			return true;
	return false;
}

int http1_request_prefix(char *buf, size_t cap, const char *path, const char *host,
			 const struct cfg_header *extra, int n_extra)
{
	static const struct {
		const char *lc, *name, *value;
	} defaults[] = {
		{ "content-encoding", "Content-Encoding", "snappy" },
		{ "content-type", "Content-Type", "application/x-protobuf" },
		{ "x-prometheus-remote-write-version", "X-Prometheus-Remote-Write-Version", "0.1.0" },
		{ "user-agent", "User-Agent", "flowrw/" FLOWRW_VERSION },
	};
	struct hbuf b = { buf, 0, cap, false };

	for (int i = 0; i < n_extra; i++)
		if (!valid_name(extra[i].name) || !valid_value(extra[i].value))
			return -EINVAL;
	for (const char *s = path; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return -EINVAL;
	hb_str(&b, "POST ");
	hb_str(&b, path);
	hb_str(&b, " HTTP/1.1\r\n");
	if (!overridden("host", extra, n_extra))
		hb_header(&b, "Host", host);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!overridden(defaults[i].lc, extra, n_extra))
			hb_header(&b, defaults[i].name, defaults[i].value);
	for (int i = 0; i < n_extra; i++)
		if (!http1_header_forbidden(extra[i].name))
			hb_header(&b, extra[i].name, extra[i].value);
	hb_str(&b, "Content-Length: ");
	if (b.full || b.len + 24 > cap)
		return -ENOSPC;
	return (int)b.len;
}
