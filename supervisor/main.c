/* SPDX-License-Identifier: MIT */
/* main.c: flowrw, the supervisor binary: run, check-config, status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/shm.h"
#include "supervisor/status.h"
#include "supervisor/super.h"

#define DEFAULT_CONFIG "etc/flowrw.yaml"
#define DEFAULT_STATS_LISTEN "127.0.0.1:9464" /* cfg.c's default */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: flowrw -c FILE             run the pipeline of FILE\n"
		"       flowrw --check-config FILE validate FILE, print a summary, exit\n"
		"       flowrw status [-c FILE | --listen HOST:PORT] [--interval SECONDS]\n"
		"                                  per-stage rates of a running flowrw\n"
		"       flowrw --version | --help\n"
		"\n"
		"Signals: SIGTERM/SIGINT drain (a second one stops at once), SIGHUP reloads\n"
		"the universal-tag dictionary.  Self-metrics: GET http://<stats-listen>/metrics.\n");
}

/* Load and validate: every problem printed; returns 0 (warnings allowed). */
static int load(struct cfg *c, const char *path, char **text, size_t *len, bool quiet_ok)
{
	struct cfg_diag diag = { 0 };
	int err;

	*text = cfg_read_text(path, len, &err);
	if (!*text) {
		fprintf(stderr, "flowrw: %s: %s\n", path, strerror(-err));
		return err;
	}
	err = cfg_load_buffer(c, *text, *len, path, &diag);
	if (err || !quiet_ok || diag.n_warnings)
		cfg_diag_print(&diag, stderr);
	cfg_diag_fini(&diag);
	if (err == -EINVAL)
		fprintf(stderr, "flowrw: %s: configuration has errors\n", path);
	else if (err)
		fprintf(stderr, "flowrw: %s: %s\n", path, strerror(-err));
	return err;
}

static int check_config(const char *path)
{
	struct cfg c = { 0 };
	char *text, sum[256];
	size_t len;
	int err = load(&c, path, &text, &len, false);

	if (!err) {
		cfg_summary(&c, sum, sizeof(sum));
		printf("ok: %s: %s\n", path, sum);
	}
	cfg_fini(&c);
	free(text);
	return err ? 1 : 0;
}

static int status_cmd(int argc, char **argv)
{
	const char *path = NULL, *listen = NULL;
	double interval = 1.0;
	struct cfg c = { 0 };
	char *text = NULL;
	size_t len;
	int rc;

	for (int i = 2; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen = argv[++i];
		} else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			interval = strtod(argv[++i], NULL);
			if (interval <= 0 || interval > 60) {
				fprintf(stderr, "flowrw status: --interval must be in (0, 60] seconds\n");
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (listen)
		return status_main(listen, interval);
	if (!path) {
		/* The build tree's config, then the installed one, then the
		 * default address: `flowrw status` should just work. */
		static const char *const guesses[] = { DEFAULT_CONFIG, "/etc/flowrw/flowrw.yaml" };

		for (size_t i = 0; i < sizeof(guesses) / sizeof(guesses[0]) && !path; i++)
			if (access(guesses[i], R_OK) == 0)
				path = guesses[i];
		if (!path)
			return status_main(DEFAULT_STATS_LISTEN, interval);
	}
	if (load(&c, path, &text, &len, true)) {
		free(text);
		cfg_fini(&c);
		return 1;
	}
	if (!c.stats_listen || !*c.stats_listen) {
		fprintf(stderr, "flowrw status: %s sets stats-listen to \"\": the running flowrw serves no "
				"metrics\n", path);
		rc = 1;
	} else {
		rc = status_main(c.stats_listen, interval);
	}
	free(text);
	cfg_fini(&c);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct cfg c = { 0 };
	char *text;
	size_t len;
	int rc;

	log_init("flowrw", -1, LOG_LVL_INFO);
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return status_cmd(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("flowrw %s\n", FLOWRW_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "--check-config") && i + 1 < argc)
			return check_config(argv[i + 1]);
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			path = argv[++i];
			continue;
		}
		fprintf(stderr, "flowrw: unknown argument %s\n", argv[i]);
		usage(stderr);
		return 2;
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (load(&c, path, &text, &len, true)) {
		free(text);
		cfg_fini(&c);
		return 1;
	}
	log_init("flowrw", -1, (int)c.log_level);
	if (cfg_active_exporters(&c) == 0)
		log_warn("%s: no active prometheus exporter: rows are read and counted, nothing is sent", path);
	rc = super_run(&c, text, len);
	free(text);
	cfg_fini(&c);
	return rc;
}
