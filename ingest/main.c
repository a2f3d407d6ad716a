/* SPDX-License-Identifier: MIT */
/* main.c: flowrw-ingest, started by the flowrw supervisor: attach the arena, run ingest. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/shm.h"
#include "ingest/ingest.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: flowrw-ingest\n"
		     "Started by flowrw, which passes the shared arena in $" SHM_ENV_FD ".\n"
		     "Reads the sources of `flowrw: sources:` and feeds the encoders' rings.\n");
}

int main(int argc, char **argv)
{
	struct shm shm;
	struct cfg cfg;
	int err, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("flowrw-ingest %s\n", FLOWRW_VERSION);
			return 0;
		}
		fprintf(stderr, "ingest: fatal: unknown argument %s\n", argv[i]);
		usage(stderr);
		return 100;
	}
	log_init("ingest", -1, LOG_LVL_INFO);
	err = shm_attach(&shm, -1);
	if (err) {
		log_err("fatal: cannot attach the shared arena ($%s): %s (flowrw-ingest is started by flowrw)",
			SHM_ENV_FD, strerror(-err));
		return 100;
	}
	memset(&cfg, 0, sizeof(cfg));
	err = shm_load_cfg(&shm, &cfg);
	if (err) {
		log_err("fatal: the configuration in the arena does not load: %s", strerror(-err));
		return 100;
	}
	log_init("ingest", -1, (int)cfg.log_level);
	if (cfg.cpu_ingest.set && sched_setaffinity(0, sizeof(cfg.cpu_ingest.mask), &cfg.cpu_ingest.mask) == -1)
		log_warn("cpu-affinity ingest \"%s\": %s", cfg.cpu_ingest.text ? cfg.cpu_ingest.text : "",
			 strerror(errno));
	prctl(PR_SET_NAME, "flowrw-ingest");
	rc = ing_run(&shm, &cfg);
	cfg_fini(&cfg);
	shm_fini(&shm);
	return rc;
}
