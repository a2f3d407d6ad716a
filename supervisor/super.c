/* SPDX-License-Identifier: MIT */
/* super.c: start, pin, reap, restart and drain the pipeline's processes. */
#include "supervisor/super.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/ring.h"
#include "common/stats-t.h"

#define TAG_SIGNAL 1U

static const char *role_bin(enum super_role r)
{
	return r == ROLE_SENDER ? "flowrw-sender" : r == ROLE_ENCODER ? "flowrw-encoder" : "flowrw-ingest";
}

/* The children live next to the supervisor's own binary, so an installed
 * flowrw and a build tree's bin/ both find theirs. */
static int find_bindir(struct super *s)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	snprintf(s->bindir, sizeof(s->bindir), "%s", exe);
	for (int r = ROLE_SENDER; r <= ROLE_INGEST; r++) {
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/%s", s->bindir, role_bin((enum super_role)r));
		if (access(path, X_OK) == -1) {
			log_err("cannot run %s: %s (the role binaries must sit beside flowrw)", path,
				strerror(errno));
			return -ENOENT;
		}
	}
	return 0;
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s", sigabbrev_np(WTERMSIG(status)) ? "SIG" : "signal ",
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(buf, len, "stopped (status 0x%x)", status);
}

/* In the forked child, before exec: undo what the supervisor set up for
 * itself, and make sure the child dies with us. */
static void child_exec(struct super *s, struct child *k, pid_t parent)
{
	char path[PATH_MAX + 32], idx[16], fdstr[16];
	char *argv[4] = { NULL };
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A child orphaned by a crashed supervisor would keep a ring nobody
	 * restarts; SIGKILL because the roles ignore SIGTERM on purpose. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(CHILD_EXIT_TRANSIENT);
	if (k->role != ROLE_INGEST) {
		/* Only ingest reads stdin (the stdin source). */
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
	snprintf(fdstr, sizeof(fdstr), "%d", s->shm.fd);
	setenv(SHM_ENV_FD, fdstr, 1);
	snprintf(path, sizeof(path), "%s/%s", s->bindir, role_bin(k->role));
	argv[0] = path;
	if (k->role == ROLE_ENCODER) {
		snprintf(idx, sizeof(idx), "%d", k->index);
		argv[1] = "--index";
		argv[2] = idx;
	}
	execv(path, argv);
	fprintf(stderr, "flowrw: cannot exec %s: %s\n", path, strerror(errno));
	_exit(CHILD_EXIT_TRANSIENT);
}

/* A dead child may have left a ring's wait flags set for a peer that is
 * now gone; clear them and ring both doorbells so a survivor sleeping on
 * the ring re-checks it. */
static void repair_ring(struct ring_hdr *h)
{
	if (ring_repair(h))
		log_warn("ring %.*s had impossible indices after a crash: reset to empty", (int)sizeof(h->name),
			 h->name);
	if (h->prod_doorbell >= 0)
		ring_doorbell_ring(h->prod_doorbell);
	if (h->cons_doorbell >= 0)
		ring_doorbell_ring(h->cons_doorbell);
}

static void repair_rings_of(struct super *s, const struct child *k)
{
	const struct cfg *c = s->cfg;

	for (int i = 0; i < c->encoders; i++)
		if (k->role == ROLE_INGEST || (k->role == ROLE_ENCODER && k->index == i))
			repair_ring(shm_in_ring(&s->shm, i));
	if (k->role == ROLE_INGEST)
		return;
	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		if (!c->exporters[e].active)
			continue;
		for (int i = 0; i < c->encoders; i++) {
			if (k->role == ROLE_ENCODER && k->index != i)
				continue;
			for (int q = 0; q < shm_lane_count(&s->shm, e); q++)
				repair_ring(shm_lane_ring(&s->shm, e, i, q));
		}
	}
}

static int child_start(struct super *s, struct child *k)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid == -1) {
		log_err("cannot start %s: fork: %s", k->name, strerror(errno));
		return -errno;
	}
	if (pid == 0)
		child_exec(s, k, parent);
	k->pid = pid;
	k->started_ms = clock_mono_ms();
	stat_set(&k->st->pid, (uint64_t)pid);
	stat_add(&k->st->starts, 1);
	stat_set(&k->st->up_since_ms, (uint64_t)clock_wall_ms());
	log_debug("started %s (pid %d)", k->name, (int)pid);
	return 0;
}

static void ring_all_doorbells(struct super *s)
{
	const struct shm_hdr *h = s->shm.hdr;

	ring_doorbell_ring(h->doorbell_ingest);
	ring_doorbell_ring(h->doorbell_sender);
	for (int i = 0; i < s->cfg->encoders; i++)
		ring_doorbell_ring(h->doorbell_encoder[i]);
}

/* Orderly drain: ingest stops reading and closes its rings, encoders flush
 * and close theirs, the sender delivers until its rings are empty or the
 * deadline passes.  Each child then exits 0 by itself. */
static void super_drain(struct super *s, const char *why)
{
	int64_t now = clock_mono_ms();

	if (s->draining)
		return;
	s->draining = true;
	s->drain_started_ms = now;
	s->drain_deadline_ms = now + (int64_t)(s->cfg->drain_timeout * 1000.0);
	s->kill_at_ms = s->drain_deadline_ms + SUPER_KILL_GRACE_MS;
	__atomic_store_n(&s->shm.hdr->drain_deadline_ms, s->drain_deadline_ms, __ATOMIC_RELEASE);
	__atomic_store_n(&s->shm.hdr->phase, SHM_PHASE_DRAIN, __ATOMIC_RELEASE);
	stat_set(&s->shm.stats->draining, 1);
	log_info("%s: draining (deadline %.0f s)", why, s->cfg->drain_timeout);
	ring_all_doorbells(s);
}

static void kill_all(struct super *s, int sig)
{
	for (int i = 0; i < s->n_kids; i++)
		if (s->kids[i].pid > 0)
			kill(s->kids[i].pid, sig);
}

/* Decide what a child's exit means. */
static void child_exited(struct super *s, struct child *k, int status)
{
	int64_t now = clock_mono_ms(), up = now - k->started_ms;
	char what[64];
	bool young = up < SUPER_YOUNG_MS;
	bool outside = WIFSIGNALED(status) && (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGTERM);

	describe_status(status, what, sizeof(what));
	k->pid = 0;
	stat_set(&k->st->pid, 0);
	stat_set(&k->st->last_exit, (uint64_t)status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		k->finished = true;
		log_info("%s finished (pid exited 0 after %.1f s)", k->name, (double)up / 1000.0);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_CONFIG) {
		log_err("%s %s: it cannot work with this configuration; stopping flowrw", k->name, what);
		s->giving_up = true;
		return;
	}
	if (young && !outside)
		k->quick_fails++;
	else if (!young)
		k->quick_fails = 0;
	if (k->quick_fails >= SUPER_MAX_QUICK_FAILS) {
		log_err("%s keeps failing at start (%d times in a row, last: %s); stopping flowrw", k->name,
			k->quick_fails, what);
		s->giving_up = true;
		return;
	}
	/* Backoff doubles while the child dies young and starts small again
	 * after a good run, so one crash costs ~50 ms and a crash loop costs
	 * little CPU. */
	if (young)
		k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : SUPER_BACKOFF_MIN_MS;
	else
		k->backoff_ms = SUPER_BACKOFF_MIN_MS;
	if (k->backoff_ms > SUPER_BACKOFF_MAX_MS)
		k->backoff_ms = SUPER_BACKOFF_MAX_MS;
	/* A drain waits for nobody: a dead child is needed now to finish it. */
	k->restart_at_ms = now + (s->draining ? 0 : k->backoff_ms);
	stat_add(&k->st->restarts, 1);
	log_warn("%s (pid up %.1f s) %s; restarting in %d ms", k->name, (double)up / 1000.0, what,
		 s->draining ? 0 : k->backoff_ms);
	repair_rings_of(s, k);
}

static void reap(struct super *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (int i = 0; i < s->n_kids; i++)
			if (s->kids[i].pid == pid) {
				child_exited(s, &s->kids[i], status);
				break;
			}
	}
}

static void on_signal(struct super *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(s);
			break;
		case SIGHUP:
			/* The encoders reload the universal-tag dictionary. */
			for (int i = 0; i < s->n_kids; i++)
				if (s->kids[i].role == ROLE_ENCODER && s->kids[i].pid > 0)
					kill(s->kids[i].pid, SIGHUP);
			log_info("SIGHUP: encoders reload the dictionary");
			break;
		case SIGINT:
		case SIGTERM:
			/* `timeout` and `kill 0` signal the whole process group,
			 * so one request can arrive twice at once: only a
			 * second request a second later means "stop now". */
			if (s->draining && clock_mono_ms() - s->drain_started_ms < 1000) {
				log_debug("repeated signal within 1 s of the first: ignored");
			} else if (s->draining) {
				log_warn("%s again while draining: stopping now (queued data is lost)",
					 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
				kill_all(s, SIGKILL);
				s->giving_up = true;
			} else {
				super_drain(s, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			}
			break;
		}
	}
}

static bool all_finished(const struct super *s)
{
	for (int i = 0; i < s->n_kids; i++)
		if (!s->kids[i].finished)
			return false;
	return true;
}

static bool any_running(const struct super *s)
{
	for (int i = 0; i < s->n_kids; i++)
		if (s->kids[i].pid > 0)
			return true;
	return false;
}

static void add_child(struct super *s, enum super_role role, int index, struct stats_proc *st)
{
	struct child *k = &s->kids[s->n_kids++];

	memset(k, 0, sizeof(*k));
	k->role = role;
	k->index = index;
	k->st = st;
	if (role == ROLE_ENCODER)
		snprintf(k->name, sizeof(k->name), "encoder[%d]", index);
	else
		snprintf(k->name, sizeof(k->name), "%s", role == ROLE_SENDER ? "sender" : "ingest");
}

static int setup(struct super *s, const char *cfg_text, size_t cfg_len)
{
	const struct cfg *c = s->cfg;
	sigset_t mask;
	int err;

	err = find_bindir(s);
	if (err)
		return err;
	err = shm_create(&s->shm, c, cfg_text, cfg_len);
	if (err) {
		log_err("cannot create the shared arena (%zu bytes): %s", shm_size_for(c), strerror(-err));
		return err;
	}
	stat_set(&s->shm.stats->started_ms, (uint64_t)clock_wall_ms());
	stat_set(&s->shm.stats->supervisor.pid, (uint64_t)getpid());
	stat_add(&s->shm.stats->supervisor.starts, 1);
	stat_set(&s->shm.stats->supervisor.up_since_ms, (uint64_t)clock_wall_ms());

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sigfd == -1 || s->epfd == -1) {
		log_err("signalfd/epoll: %s", strerror(errno));
		return -errno;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_SIGNAL };

	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev);
	err = stats_http_open(&s->http, c->stats_listen, s->epfd, &s->shm, c);
	if (err)
		return err;
	if (c->cpu_supervisor.set && sched_setaffinity(0, sizeof(cpu_set_t), &c->cpu_supervisor.mask) == -1)
		log_warn("cpu-affinity supervisor \"%s\": %s", c->cpu_supervisor.text, strerror(errno));

	/* The sender and encoders first: the rings buffer whatever ingest
	 * reads before they are up, but an early start means less of it. */
	add_child(s, ROLE_SENDER, -1, &s->shm.stats->sender);
	for (int i = 0; i < c->encoders; i++)
		add_child(s, ROLE_ENCODER, i, &s->shm.stats->encoder[i]);
	add_child(s, ROLE_INGEST, -1, &s->shm.stats->ingest);
	for (int i = 0; i < s->n_kids; i++) {
		err = child_start(s, &s->kids[i]);
		if (err)
			return err;
	}
	return 0;
}

/* ms until the next restart or deadline, for epoll_wait. */
static int next_timeout(struct super *s, int64_t now)
{
	int64_t t = -1;

	for (int i = 0; i < s->n_kids; i++) {
		struct child *k = &s->kids[i];

		if (k->pid == 0 && !k->finished) {
			int64_t d = k->restart_at_ms - now;

			if (t < 0 || d < t)
				t = d < 0 ? 0 : d;
		}
	}
	if (s->draining) {
		int64_t d = s->kill_at_ms - now;

		if (t < 0 || d < t)
			t = d < 0 ? 0 : d;
	}
	int h = stats_http_expire(&s->http, now);

	if (h >= 0 && (t < 0 || h < t))
		t = h;
	return t > 60000 || t < 0 ? 60000 : (int)t;
}

static void restart_due(struct super *s, int64_t now)
{
	for (int i = 0; i < s->n_kids; i++) {
		struct child *k = &s->kids[i];

		if (k->pid == 0 && !k->finished && now >= k->restart_at_ms && child_start(s, k)) {
			/* fork failed (memory, pid limit): try again later */
			k->restart_at_ms = now + SUPER_BACKOFF_MAX_MS;
		}
	}
}

/*
 * With every child gone, what is still in a lane ring was committed by an
 * encoder and never acknowledged by an endpoint: that is the exact
 * undelivered figure, whatever the sender counted when it left (an
 * encoder may commit a last batch after the sender's deadline).
 */
static void count_undelivered(struct super *s)
{
	const struct cfg *c = s->cfg;

	for (int e = 0; e < c->n_exporters && e < CFG_MAX_EXPORTERS; e++) {
		uint64_t left = 0;

		if (!c->exporters[e].active)
			continue;
		for (int i = 0; i < c->encoders; i++)
			for (int q = 0; q < shm_lane_count(&s->shm, e); q++) {
				const struct ring_hdr *h = shm_lane_ring(&s->shm, e, i, q);

				left += atomic_load(&h->prod_units) - atomic_load(&h->cons_units);
			}
		if (left > stat_get(&s->shm.stats->exp[e].undelivered_series))
			stat_set(&s->shm.stats->exp[e].undelivered_series, left);
	}
}

static void log_totals(const struct super *s)
{
	const struct stats_page *p = s->shm.stats;
	uint64_t rej = 0, sent = 0, dropped = 0, undelivered = 0, abandoned = 0;

	for (int r = 0; r < STATS_REJ_COUNT; r++)
		rej += stat_get(&p->in.rejected[r]);
	for (int e = 0; e < CFG_MAX_EXPORTERS; e++) {
		sent += stat_get(&p->exp[e].samples_sent);
		dropped += stat_get(&p->exp[e].series_dropped);
		undelivered += stat_get(&p->exp[e].undelivered_series);
		for (int i = 0; i < s->cfg->encoders; i++)
			abandoned += stat_get(&p->enc[i].exporter[e].series_abandoned);
	}
	log_info("totals: %" PRIu64 " rows in, %" PRIu64 " rejected, %" PRIu64 " dropped, %" PRIu64
		 " samples delivered, %" PRIu64 " series dropped (4xx), %" PRIu64 " series undelivered, %" PRIu64
		 " series abandoned", stat_get(&p->in.rows_in), rej, stat_get(&p->in.dropped_overflow), sent,
		 dropped, undelivered, abandoned);
}

int super_run(struct cfg *c, const char *cfg_text, size_t cfg_len)
{
	struct super *s = calloc(1, sizeof(*s));
	int rc = 1;

	if (!s) {
		log_err("out of memory");
		return 1;
	}
	s->cfg = c;
	s->sigfd = s->epfd = -1;
	s->http.lfd = -1;
	if (setup(s, cfg_text, cfg_len)) {
		kill_all(s, SIGKILL);
		goto out;
	}
	{
		char sum[256];

		cfg_summary(c, sum, sizeof(sum));
		log_info("flowrw %s running: %s", FLOWRW_VERSION, sum);
	}
	for (;;) {
		struct epoll_event evs[16];
		int64_t now = clock_mono_ms();
		int n;

		if (s->giving_up)
			break;
		if (all_finished(s)) {
			rc = 0;
			log_info("every process finished%s", s->draining ? " the drain" : " (all sources ended)");
			break;
		}
		if (s->draining && now >= s->kill_at_ms) {
			log_err("drain deadline passed %d ms ago and some processes still run: killing them",
				SUPER_KILL_GRACE_MS);
			break;
		}
		restart_due(s, now);
		n = epoll_wait(s->epfd, evs, 16, next_timeout(s, clock_mono_ms()));
		if (n == -1 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = (uint32_t)evs[i].data.u64;

			if (tag == TAG_SIGNAL)
				on_signal(s);
			else
				stats_http_event(&s->http, tag, evs[i].events);
		}
	}
	if (rc != 0 && any_running(s)) {
		int64_t until = clock_mono_ms() + 2000;

		kill_all(s, SIGKILL);
		while (any_running(s) && clock_mono_ms() < until) {
			int status;
			pid_t pid = waitpid(-1, &status, 0);

			if (pid <= 0)
				break;
			for (int i = 0; i < s->n_kids; i++)
				if (s->kids[i].pid == pid)
					s->kids[i].pid = 0;
		}
	}
	if (s->shm.stats) {
		if (!any_running(s))
			count_undelivered(s);
		log_totals(s);
	}
out:
	stats_http_close(&s->http);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->epfd >= 0)
		close(s->epfd);
	shm_fini(&s->shm);
	free(s);
	return rc;
}
