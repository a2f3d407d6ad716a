/* SPDX-License-Identifier: MIT */
/* main.c: flowrw-encoder, one of N encoders (exec'd by the supervisor with --index N). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/shm.h"
#include "encoder/encoder.h"

#define EXIT_CONFIG    100
#define EXIT_BUG       101
#define EXIT_TRANSIENT 111

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: flowrw-encoder --index N   (started by flowrw with %s set)\n", SHM_ENV_FD);
	return EXIT_CONFIG;
}

static int parse_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *end;
		long v;

		if (strcmp(argv[i], "--index") != 0 || i + 1 >= argc)
			return -1;
		errno = 0;
		v = strtol(argv[++i], &end, 10);
		if (errno || *end || v < 0 || v >= CFG_MAX_ENCODERS)
			return -1;
		return (int)v;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_hup };
	struct shm shm;
	struct cfg cfg = { 0 };
	struct enc *e;
	int index, err, rc;
	char title[16];

	index = parse_index(argc, argv);
	if (index < 0)
		return usage();
	log_init("encoder", index, LOG_LVL_INFO);
	/* The supervisor handles Ctrl-C and drains us through the rings. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL); /* no SA_RESTART: the doorbell poll wakes */
	snprintf(title, sizeof(title), "flowrw-enc%d", index);
	prctl(PR_SET_NAME, title);

	err = shm_attach(&shm, -1);
	if (err) {
		log_err("cannot attach the shared arena ($%s): %s", SHM_ENV_FD, strerror(-err));
		return EXIT_TRANSIENT;
	}
	err = shm_load_cfg(&shm, &cfg);
	if (err) {
		log_err("cannot load the configuration copy from the arena: %s", strerror(-err));
		return EXIT_CONFIG;
	}
	log_init("encoder", index, (int)cfg.log_level);
	if (index < CFG_MAX_ENCODERS && cfg.cpu_encoders[index].set &&
	    sched_setaffinity(0, sizeof(cpu_set_t), &cfg.cpu_encoders[index].mask) == -1)
		log_warn("cannot pin to cpus %s: %s", cfg.cpu_encoders[index].text, strerror(errno));

	e = calloc(1, sizeof(*e));
	if (!e) {
		log_err("out of memory");
		return EXIT_TRANSIENT;
	}
	err = enc_init(e, &shm, &cfg, index);
	if (err) {
		rc = err == -EINVAL ? EXIT_CONFIG : err == -EPROTO ? EXIT_BUG : EXIT_TRANSIENT;
		goto out;
	}
	e->reload = &reload_requested;
	log_info("running: %d exporter(s), input ring %llu bytes", e->n_exp,
		 (unsigned long long)e->in_size);
	err = enc_run(e);
	/* A drain cut short by its deadline is still the end of the run. */
	rc = 0;
	if (err && err != -ETIMEDOUT)
		rc = EXIT_TRANSIENT;
out:
	enc_fini(e);
	free(e);
	cfg_fini(&cfg);
	shm_fini(&shm);
	return rc;
}
