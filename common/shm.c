/* SPDX-License-Identifier: MIT */
/* shm.c: the shared arena: config copy, stats page and every ring. */
#include "common/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/ring.h"

#define SHM_PAGE 4096UL

static size_t page_up(size_t n)
{
	return (n + SHM_PAGE - 1) & ~(SHM_PAGE - 1);
}

static size_t pow2_up(size_t n)
{
	size_t p = 4096;

	while (p < n)
		p <<= 1;
	return p;
}

/* A lane holds queue-size series (or, when queue-size is not written,
 * ring-bytes) and at least two largest batches, so the
 * encoder can fill one while the sender posts the other.  Measured with
 * every tag and metric exported (docs/SIZING.md): a series takes 59 (network
 * 1m) to 150 (application_map 1s) compressed bytes in the ring, and 0.8 to
 * 1.7 KiB raw; a batch's record is reserved for the snappy bound of its raw
 * size (about 1.17 x), so 2 KiB a series lets batch-size series fit one
 * record (half the ring). */
#define SHM_SERIES_RING_BYTES 160
#define SHM_SERIES_RAW_BOUND  2048

size_t shm_lane_ring_bytes(const struct cfg_exporter *e)
{
	size_t by_series = (size_t)e->queue_size * SHM_SERIES_RING_BYTES;
	size_t by_batch = (size_t)e->batch_size * SHM_SERIES_RAW_BOUND * 2;

	if (e->lane_ring_bytes)
		by_series = e->lane_ring_bytes;
	return pow2_up(by_series > by_batch ? by_series : by_batch);
}

static size_t shm_layout(const struct cfg *c, size_t cfg_len, struct shm_hdr *h)
{
	size_t off = page_up(sizeof(struct shm_hdr));
	uint32_t lanes = 0;
	int enc = c->encoders;

	if (h) {
		h->cfg_off = off;
		h->cfg_len = cfg_len;
	}
	off += page_up(cfg_len + 1);
	if (h)
		h->stats_off = off;
	off += page_up(sizeof(struct stats_page));
	for (int i = 0; i < enc; i++) {
		if (h)
			h->in_ring_off[i] = off;
		off += page_up(ring_footprint(pow2_up(c->ring_bytes)));
	}
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		if (!c->exporters[e].active)
			continue;
		if (h) {
			h->lane_base[e] = lanes;
			h->queue_count[e] = (uint32_t)c->exporters[e].queue_count;
		}
		lanes += (uint32_t)(enc * c->exporters[e].queue_count);
	}
	if (h) {
		h->n_lanes = lanes;
		h->lane_off_off = off;
	}
	off += page_up(sizeof(uint64_t) * lanes);
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		size_t lane_bytes;

		if (!c->exporters[e].active)
			continue;
		lane_bytes = page_up(ring_footprint(shm_lane_ring_bytes(&c->exporters[e])));
		for (int i = 0; i < enc * c->exporters[e].queue_count; i++) {
			if (h)
				((uint64_t *)((char *)h + h->lane_off_off))[h->lane_base[e] + i] = off;
			off += lane_bytes;
		}
	}
	return off;
}

size_t shm_size_for(const struct cfg *c)
{
	return shm_layout(c, 0, NULL);
}

static int make_doorbell(void)
{
	/* Non-blocking, inherited across exec: every process sees the same fd. */
	return eventfd(0, EFD_NONBLOCK);
}

int shm_create(struct shm *s, const struct cfg *c, const char *cfg_text, size_t cfg_len)
{
	struct shm_hdr *h;
	size_t size;
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (c->encoders < 1 || c->encoders > CFG_MAX_ENCODERS)
		return -EINVAL;
	size = shm_layout(c, cfg_len, NULL);
	s->fd = memfd_create("flowrw-arena", MFD_ALLOW_SEALING);
	if (s->fd == -1)
		return -errno;
	if (ftruncate(s->fd, (off_t)size) == -1)
		goto fail_errno;
	/* The arena never changes size while children map it. */
	if (fcntl(s->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == -1)
		goto fail_errno;
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (h == MAP_FAILED)
		goto fail_errno;
	s->hdr = h;
	s->size = size;
	h->magic = SHM_MAGIC;
	h->version = SHM_VERSION;
	h->total_size = size;
	h->n_encoders = (uint32_t)c->encoders;
	snprintf(h->cfg_name, sizeof(h->cfg_name), "%s", c->path ? c->path : "");
	shm_layout(c, cfg_len, h);
	memcpy((char *)h + h->cfg_off, cfg_text, cfg_len);
	s->stats = (struct stats_page *)((char *)h + h->stats_off);

	h->doorbell_ingest = make_doorbell();
	h->doorbell_sender = make_doorbell();
	h->doorbell_supervisor = make_doorbell();
	if (h->doorbell_ingest < 0 || h->doorbell_sender < 0 || h->doorbell_supervisor < 0)
		goto fail_errno;
	for (int i = 0; i < c->encoders; i++) {
		char name[48];

		h->doorbell_encoder[i] = make_doorbell();
		if (h->doorbell_encoder[i] < 0)
			goto fail_errno;
		snprintf(name, sizeof(name), "in%d", i);
		err = ring_init((char *)h + h->in_ring_off[i], pow2_up(c->ring_bytes), name,
				h->doorbell_ingest, h->doorbell_encoder[i]);
		if (err)
			goto fail;
	}
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		if (!c->exporters[e].active)
			continue;
		for (int i = 0; i < c->encoders; i++)
			for (int q = 0; q < c->exporters[e].queue_count; q++) {
				char name[48];

				snprintf(name, sizeof(name), "e%d.enc%d.q%d", e, i, q);
				err = ring_init(shm_lane_ring(s, e, i, q),
						shm_lane_ring_bytes(&c->exporters[e]), name,
						h->doorbell_encoder[i], h->doorbell_sender);
				if (err)
					goto fail;
			}
	}
	return 0;
fail_errno:
	err = -errno;
fail:
	shm_fini(s);
	return err;
}

int shm_attach(struct shm *s, int fd)
{
	struct shm_hdr probe;
	const char *env;
	void *m;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (fd < 0) {
		env = getenv(SHM_ENV_FD);
		if (!env || !*env)
			return -ENOENT;
		fd = atoi(env);
	}
	if (pread(fd, &probe, sizeof(probe), 0) != (ssize_t)sizeof(probe))
		return -EPROTO;
	if (probe.magic != SHM_MAGIC || probe.version != SHM_VERSION)
		return -EPROTO;
	m = mmap(NULL, probe.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	s->fd = fd;
	s->size = probe.total_size;
	s->hdr = m;
	s->stats = (struct stats_page *)((char *)m + s->hdr->stats_off);
	return 0;
}

void shm_fini(struct shm *s)
{
	if (s->hdr)
		munmap(s->hdr, s->size);
	s->hdr = NULL;
	s->stats = NULL;
}

int shm_load_cfg(const struct shm *s, struct cfg *c)
{
	struct cfg_diag diag = { 0 };
	int err;

	err = cfg_load_buffer(c, (const char *)s->hdr + s->hdr->cfg_off, s->hdr->cfg_len,
			      s->hdr->cfg_name, &diag);
	cfg_diag_fini(&diag);
	return err;
}

void *shm_in_ring(const struct shm *s, int encoder)
{
	return (char *)s->hdr + s->hdr->in_ring_off[encoder];
}

void *shm_lane_ring(const struct shm *s, int exporter, int encoder, int lane)
{
	const struct shm_hdr *h = s->hdr;
	uint32_t idx = h->lane_base[exporter] + (uint32_t)encoder * h->queue_count[exporter] + (uint32_t)lane;

	return (char *)h + ((const uint64_t *)((const char *)h + h->lane_off_off))[idx];
}

int shm_lane_count(const struct shm *s, int exporter)
{
	return (int)s->hdr->queue_count[exporter];
}
