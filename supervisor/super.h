/* SPDX-License-Identifier: MIT */
/* super.h: the flowrw supervisor: owns the arena, runs and restarts the children. */
#ifndef FLOWRW_SUPER_H
#define FLOWRW_SUPER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cfg-t.h"
#include "common/shm.h"
#include "supervisor/stats_http.h"

enum super_role {
	ROLE_SENDER = 0,
	ROLE_ENCODER,
	ROLE_INGEST,
};

/* Restart policy.  A child that dies young by its own hand (an exit code,
 * or a crash signal) is "failing at start"; SUPER_MAX_QUICK_FAILS of those
 * in a row and the supervisor gives up.  A SIGKILL or SIGTERM from outside
 * (an operator, the OOM killer) only grows the backoff: it says nothing
 * about whether the child can start. */
#define SUPER_BACKOFF_MIN_MS   50
#define SUPER_BACKOFF_MAX_MS   5000
#define SUPER_YOUNG_MS         1000
#define SUPER_MAX_QUICK_FAILS  5
#define SUPER_KILL_GRACE_MS    3000 /* after the drain deadline */

/* Children's exit codes (the roles' main.c use the same numbers). */
#define CHILD_EXIT_CONFIG    100 /* the config cannot work: never restarted */
#define CHILD_EXIT_BUG       101
#define CHILD_EXIT_TRANSIENT 111

struct child {
	enum super_role role;
	int index;               /* encoder number; -1 for ingest and sender */
	char name[24];           /* "ingest", "encoder[1]", "sender" */
	pid_t pid;               /* 0 when not running */
	bool finished;           /* exited 0: its work is done, never restarted */
	int64_t started_ms;      /* CLOCK_MONOTONIC */
	int64_t restart_at_ms;   /* when pid == 0 and not finished */
	int backoff_ms;
	int quick_fails;
	struct stats_proc *st;
};

struct super {
	struct cfg *cfg;
	struct shm shm;
	char bindir[PATH_MAX];
	struct child kids[2 + CFG_MAX_ENCODERS];
	int n_kids;
	int sigfd;
	int epfd;
	struct stats_http http;
	bool draining;
	bool giving_up;          /* a child cannot start: stop everything */
	int64_t drain_started_ms;
	int64_t drain_deadline_ms;
	int64_t kill_at_ms;      /* drain deadline + grace */
	int exit_code;
};

/*
 * Run the pipeline of the config at <path> (already checked by the caller
 * with cfg_load_*): create the arena, start the sender, the encoders and
 * ingest, restart them when they die, drain on SIGTERM/SIGINT or when every
 * source is finished, serve /metrics.  Returns the process exit code: 0
 * after a clean drain, 1 otherwise.
 */
int super_run(struct cfg *c, const char *cfg_text, size_t cfg_len);

#endif
