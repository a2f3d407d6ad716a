/* SPDX-License-Identifier: MIT */
/* main.c: flowrw-sender, the one process that posts every lane ring's batches. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/shm.h"
#include "sender/sender.h"

static int usage(void)
{
	fprintf(stderr, "usage: flowrw-sender   (started by flowrw with %s set)\n", SHM_ENV_FD);
	return SENDER_EXIT_CONFIG;
}

int main(int argc, char **argv)
{
	struct shm shm;
	struct cfg cfg = { 0 };
	int err, rc;

	if (argc > 1) {
		if (strcmp(argv[1], "--version") == 0) {
			printf("flowrw-sender " FLOWRW_VERSION "\n");
			return 0;
		}
		return usage();
	}
	log_init("sender", -1, LOG_LVL_INFO);
	/* The supervisor handles Ctrl-C and SIGTERM; we follow the rings. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "flowrw-sender");

	err = shm_attach(&shm, -1);
	if (err) {
		log_err("cannot attach the shared arena ($%s): %s", SHM_ENV_FD, strerror(-err));
		return err == -ENOENT ? usage() : SENDER_EXIT_TRANSIENT;
	}
	err = shm_load_cfg(&shm, &cfg);
	if (err) {
		log_err("cannot load the configuration copy from the arena: %s", strerror(-err));
		shm_fini(&shm);
		return SENDER_EXIT_CONFIG;
	}
	log_init("sender", -1, (int)cfg.log_level);
	if (cfg.cpu_sender.set && sched_setaffinity(0, sizeof(cpu_set_t), &cfg.cpu_sender.mask) == -1)
		log_warn("cannot pin to cpus %s: %s", cfg.cpu_sender.text, strerror(errno));
	rc = sender_run(&shm, &cfg, 0);
	cfg_fini(&cfg);
	shm_fini(&shm);
	return rc;
}
