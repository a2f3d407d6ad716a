/* SPDX-License-Identifier: MIT */
/* encoder.c: the encoder's process loop: rows -> filters -> labels -> lanes. */
#include "encoder/encoder.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/dict.h"
#include "common/hash.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/ring.h"
#include "common/shm.h"
#include "common/stats-t.h"
#include "encoder/fields.h"
#include "encoder/rw_encode.h"

#define ENC_IDLE_MAX_MS 1000 /* longest sleep with nothing due */

static int enc_name_labels(struct enc *e)
{
	for (int f = 0; f < SCHEMA_FAM_COUNT; f++) {
		const struct schema_metric *m;
		int count;

		m = schema_metrics((enum schema_family)f, &count);
		for (int i = 0; i < count; i++) {
			struct enc_name_label *nl = &e->name_lbl[f][i];
			size_t len = strlen(m[i].name);

			if (rw_label_size(8, len) > sizeof(nl->bytes))
				return -EINVAL;
			nl->len = (uint8_t)(rw_put_label(nl->bytes, "__name__", 8, m[i].name, len) - nl->bytes);
		}
	}
	return 0;
}

static int enc_exporter_init(struct enc *e, struct enc_exporter *x, const struct cfg_exporter *c)
{
	int err;

	x->cfg = c;
	x->st = &e->st->exporter[c->index];
	x->skip_zero = c->export_empty_metrics_disabled;
	err = filter_init(&x->filter, c);
	if (err) {
		log_err("exporter %d (line %d): cannot compile its tag filters: %s", c->index, c->line,
			strerror(-err));
		return err;
	}
	x->filter_ready = true;
	for (int f = 0; f < SCHEMA_FAM_COUNT; f++) {
		struct fields_sel sel;

		fields_select(c, (enum schema_family)f, &sel);
		x->metrics[f][0] = sel.metrics[0];
		x->metrics[f][1] = sel.metrics[1];
		err = labels_plan_init(&x->plan[f], (enum schema_family)f, sel.tags, NULL,
				       !c->universal_tag_translate_to_name_disabled,
				       !c->enum_translate_to_name_disabled);
		if (err) {
			log_err("exporter %d (line %d): bad label names in the schema", c->index, c->line);
			return err;
		}
	}
	err = lanes_init(&x->lanes, e->shm, c, e->index, x->st);
	if (err)
		log_err("exporter %d: cannot attach the lane rings of encoder %d: %s", c->index,
			e->index, strerror(-err));
	return err;
}

int enc_init(struct enc *e, const struct shm *s, const struct cfg *c, int index)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->index = index;
	e->shm = s;
	e->cfg = c;
	e->next_deadline_ms = INT64_MAX;
	if (index < 0 || (uint32_t)index >= s->hdr->n_encoders || index >= CFG_MAX_ENCODERS) {
		log_err("encoder index %d out of range (the arena has %u encoders)", index,
			s->hdr->n_encoders);
		return -EINVAL;
	}
	e->st = &s->stats->enc[index];
	err = ring_cons_attach(&e->in, shm_in_ring(s, index));
	if (err) {
		log_err("cannot attach input ring %d: %s", index, strerror(-err));
		return err;
	}
	e->in_size = e->in.hdr->size;
	e->released_pos = ring_cursor(&e->in);
	e->lo = labels_out_new();
	if (!e->lo)
		return -ENOMEM;
	err = enc_name_labels(e);
	if (err)
		return err;
	if (c->dictionary && *c->dictionary) {
		char why[512];

		e->dict = dict_load(c->dictionary, why, sizeof(why));
		if (!e->dict) {
			log_err("%s", why);
			return -EINVAL;
		}
	}
	for (int i = 0; i < c->n_exporters && i < CFG_MAX_EXPORTERS; i++) {
		const struct cfg_exporter *ce = &c->exporters[i];
		struct enc_exporter *x;

		if (!ce->active)
			continue;
		x = &e->exp[e->n_exp];
		err = enc_exporter_init(e, x, ce);
		e->n_exp++; /* counted even when half-built, so enc_fini() frees it */
		if (err)
			return err;
		for (int ds = 0; ds < SCHEMA_DS_MAX; ds++)
			if (schema_ds_name(ds) && ((ce->ds_mask >> ds) & 1))
				e->ds_exp[ds] |= (uint16_t)(1U << (e->n_exp - 1));
	}
	return 0;
}

void enc_fini(struct enc *e)
{
	for (int i = 0; i < e->n_exp; i++) {
		if (e->exp[i].filter_ready)
			filter_fini(&e->exp[i].filter);
		lanes_fini(&e->exp[i].lanes);
	}
	e->n_exp = 0;
	labels_out_free(e->lo);
	e->lo = NULL;
	dict_free(e->dict);
	e->dict = NULL;
}

/* Each metric's __name__ label has its own id in the lanes' snappy writer. */
_Static_assert(SCHEMA_FAM_COUNT * SCHEMA_MAX_METRICS <= RW_ZREQ_NAMES, "name ids fit rw_zreq");

static int enc_series(struct enc *e, struct enc_exporter *x, uint64_t bits, int base,
		      enum schema_family fam, int q, int64_t ts_ms, uint64_t pos, int64_t now_ms)
{
	static struct log_limit lim;
	const struct rawrow_view *v = &e->view;
	const struct labels_out *lo = e->lo;

	while (bits) {
		int i = base + __builtin_ctzll(bits);
		double val = v->metric[i];
		const struct enc_name_label *nl = &e->name_lbl[fam][i];
		int err;

		bits &= bits - 1;
		if (x->skip_zero && val == 0)
			continue;
		if (e->abandoning) {
			/* Past the drain deadline nothing reaches a lane any more,
			 * but every series a row would have given is accounted. */
			stat_add(&x->st->series_abandoned, 1);
			continue;
		}
		err = lanes_add(&x->lanes, q, (unsigned)(fam * SCHEMA_MAX_METRICS + i), nl->bytes, nl->len,
				lo->buf, lo->len, lo->gen, val, ts_ms, pos, e->seq, now_ms);
		if (__builtin_expect(err != 0, 0)) {
			if (err == -ETIMEDOUT) {
				/* This series and the rest of the row are counted. */
				e->abandoning = true;
				stat_add(&x->st->series_abandoned, 1);
				continue;
			}
			if (err != -E2BIG)
				return err;
			log_limited(&lim, LOG_LVL_WARN,
				    "exporter %d: dropped a %zu-byte series larger than its lane ring can carry "
				    "(raise queue-size or batch-size)",
				    x->cfg->index, lo->len);
		}
	}
	return 0;
}

int enc_row(struct enc *e, const void *rec, uint32_t len, uint64_t pos, int64_t now_ms)
{
	static struct log_limit lim;
	struct rawrow_view *v = &e->view;
	const struct rawrow_hdr *h;
	enum schema_family fam;
	uint32_t route;
	int64_t ts_ms;
	unsigned mask;

	stat_add(&e->st->rows_in, 1);
	if (!rawrow_decode(rec, len, v)) {
		stat_add(&e->st->rows_bad, 1);
		log_limited(&lim, LOG_LVL_ERROR, "malformed raw row of %u bytes at input position %llu",
			    len, (unsigned long long)pos);
		return 0;
	}
	h = v->hdr;
	mask = e->ds_exp[h->ds];
	if (!mask) {
		stat_add(&e->st->rows_unrouted, 1);
		return 0;
	}
	fam = v->family;
	route = (uint32_t)(hash_series_route(h->ds, rawrow_tags(h), h->tags_len) & 0xffffffff);
	ts_ms = (int64_t)h->time * 1000;
	while (mask) {
		struct enc_exporter *x = &e->exp[__builtin_ctz(mask)];
		uint64_t m0, m1;
		int q, err;

		mask &= mask - 1;
		if (!filter_accept(&x->filter, v)) {
			stat_add(&x->st->rows_filtered, 1);
			continue;
		}
		stat_add(&x->st->rows, 1);
		m0 = x->metrics[fam][0] & h->metric_mask[0];
		m1 = x->metrics[fam][1] & h->metric_mask[1];
		if (!(m0 | m1))
			continue;
		/* The labels every series of this row shares, once. */
		labels_render(&x->plan[fam], e->dict, v, e->lo);
		if (e->lo->collisions)
			stat_add(&x->st->label_collisions, e->lo->collisions);
		q = (int)(route % (uint32_t)x->lanes.n);
		err = enc_series(e, x, m0, 0, fam, q, ts_ms, pos, now_ms);
		if (!err && m1)
			err = enc_series(e, x, m1, 64, fam, q, ts_ms, pos, now_ms);
		if (err)
			return err;
	}
	return e->abandoning ? -ETIMEDOUT : 0;
}

int enc_poll(struct enc *e, int max)
{
	int64_t now = clock_mono_ms();
	int n = 0;

	while (n < max) {
		uint32_t len;
		const void *rec = ring_peek(&e->in, &len);
		int err;

		if (!rec)
			break;
		/* After a peek the cursor is the record's own position. */
		err = enc_row(e, rec, len, ring_cursor(&e->in), now);
		if (err == -ETIMEDOUT) {
			/* The row is fully accounted: do not count it again. */
			ring_advance(&e->in);
			e->seq++;
			return err;
		}
		if (err)
			return err;
		ring_advance(&e->in);
		e->seq++;
		n++;
	}
	return n;
}

/* The oldest row any partial batch holds, and the earliest flush deadline. */
static void enc_scan(struct enc *e, uint64_t *min_pos, uint64_t *min_seq, int64_t *next)
{
	*min_pos = UINT64_MAX;
	*min_seq = e->seq;
	*next = INT64_MAX;
	for (int i = 0; i < e->n_exp; i++) {
		struct lanes *ls = &e->exp[i].lanes;

		for (int q = 0; q < ls->n; q++) {
			const struct lane *l = &ls->lane[q];

			if (l->req.n_series == 0)
				continue;
			if (l->oldest_pos < *min_pos) {
				*min_pos = l->oldest_pos;
				*min_seq = l->oldest_seq;
			}
			if (l->open_ms + ls->flush_ms < *next)
				*next = l->open_ms + ls->flush_ms;
		}
	}
}

/* Close every partial batch matching (deadline passed) or (holds a row
 * before <before>). */
static int enc_close_where(struct enc *e, int64_t now_ms, uint64_t before)
{
	for (int i = 0; i < e->n_exp; i++) {
		struct lanes *ls = &e->exp[i].lanes;

		for (int q = 0; q < ls->n; q++) {
			const struct lane *l = &ls->lane[q];
			int err = 0;

			if (l->req.n_series == 0)
				continue;
			if (now_ms >= l->open_ms + ls->flush_ms)
				err = lanes_flush(ls, q, LANES_TIMEOUT);
			else if (l->oldest_pos < before)
				err = lanes_flush(ls, q, LANES_HELD);
			if (err)
				return err;
		}
	}
	return 0;
}

static void enc_release(struct enc *e, uint64_t pos, uint64_t seq)
{
	if (pos <= e->released_pos)
		return;
	/* Rows before <pos> are in committed batches or produced nothing. */
	ring_release_to(&e->in, pos, seq - e->released_seq);
	e->released_pos = pos;
	e->released_seq = seq;
}

int enc_housekeep(struct enc *e, int64_t now_ms)
{
	uint64_t cursor = ring_cursor(&e->in), min_pos, min_seq, before = 0;
	int64_t next;
	int err;

	enc_scan(e, &min_pos, &min_seq, &next);
	/* Held rows must never stall ingest: past half the ring, hand on the
	 * batches holding the oldest quarter. */
	if (min_pos != UINT64_MAX && cursor - min_pos > e->in_size / 2)
		before = cursor - e->in_size / 4;
	if (next <= now_ms || before) {
		err = enc_close_where(e, now_ms, before);
		if (err)
			return err;
		enc_scan(e, &min_pos, &min_seq, &next);
	}
	e->next_deadline_ms = next;
	if (min_pos == UINT64_MAX)
		enc_release(e, cursor, e->seq);
	else
		enc_release(e, min_pos, min_seq);
	return 0;
}

int enc_finish(struct enc *e)
{
	for (int i = 0; i < e->n_exp; i++) {
		int err = lanes_flush_all(&e->exp[i].lanes, LANES_DRAIN);

		if (err)
			return err;
	}
	enc_release(e, ring_cursor(&e->in), e->seq);
	for (int i = 0; i < e->n_exp; i++)
		lanes_close(&e->exp[i].lanes);
	return 0;
}

int enc_reload_dict(struct enc *e)
{
	const char *path = e->cfg->dictionary;
	struct dict *nd, *old;
	char why[512];

	if (!path || !*path)
		return 0;
	nd = dict_load(path, why, sizeof(why));
	if (!nd) {
		log_err("%s (keeping the previous dictionary)", why);
		return -EINVAL;
	}
	/* Between two rows: no row sees half of each dictionary. */
	old = e->dict;
	e->dict = nd;
	dict_free(old);
	log_info("dictionary %s reloaded: %zu names", path, dict_count(nd, DICT_KIND_COUNT));
	return 0;
}

/* How long, past the drain deadline, the encoder waits for ingest to
 * close its input ring so that the last rows are counted too. */
#define ENC_ABANDON_WAIT_MS 1000

/*
 * The drain deadline passed with the sender unable to take more.  Count
 * what this encoder will never hand on, so that delivered + undelivered
 * (lane rings) + abandoned adds up to what ingest took: the series held
 * in partial batches, and the series of every row still in the input ring.
 */
static int enc_abandon(struct enc *e)
{
	uint64_t held = 0, before = 0, after = 0, rows = 0;
	int64_t until = clock_mono_ms() + ENC_ABANDON_WAIT_MS;

	for (int i = 0; i < e->n_exp; i++) {
		uint64_t n = lanes_held(&e->exp[i].lanes);

		before += stat_get(&e->exp[i].st->series_abandoned);
		stat_add(&e->exp[i].st->series_abandoned, n);
		held += n;
		lanes_close(&e->exp[i].lanes);
	}
	e->abandoning = true;
	while (!ring_drained(&e->in) && clock_mono_ms() < until) {
		uint32_t len;
		const void *rec = ring_peek_wait(&e->in, &len, 50);

		if (!rec)
			continue;
		enc_row(e, rec, len, ring_cursor(&e->in), clock_mono_ms());
		ring_advance(&e->in);
		e->seq++;
		rows++;
	}
	for (int i = 0; i < e->n_exp; i++)
		after += stat_get(&e->exp[i].st->series_abandoned);
	log_warn("drain deadline passed while waiting for the sender: %llu series abandoned (%llu in partial "
		 "batches, the rest from %llu rows not yet encoded)", (unsigned long long)(after - before),
		 (unsigned long long)held, (unsigned long long)rows);
	return -ETIMEDOUT;
}

int enc_run(struct enc *e)
{
	int doorbell = e->shm->hdr->doorbell_encoder[e->index];

	for (;;) {
		int64_t now;
		int n, err;

		if (e->reload && *e->reload) {
			*e->reload = 0;
			enc_reload_dict(e);
		}
		n = enc_poll(e, ENC_BURST);
		if (n < 0)
			return enc_abandon(e);
		now = clock_mono_ms();
		err = enc_housekeep(e, now);
		if (err)
			return enc_abandon(e);
		if (n > 0)
			continue;
		if (ring_drained(&e->in)) {
			if (enc_finish(e))
				return enc_abandon(e);
			return 0;
		}
		/* Idle: sleep until ingest rings or the next flush is due. */
		int64_t wait = e->next_deadline_ms == INT64_MAX ? ENC_IDLE_MAX_MS : e->next_deadline_ms - now;

		if (wait > ENC_IDLE_MAX_MS)
			wait = ENC_IDLE_MAX_MS;
		if (wait > 0 && ring_cons_arm(&e->in)) {
			ring_doorbell_wait(doorbell, (int)wait);
			ring_cons_disarm(&e->in);
		}
	}
}
