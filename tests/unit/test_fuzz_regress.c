/* SPDX-License-Identifier: MIT */
/* test_fuzz_regress.c: replay the fuzz seeds and every input a fuzzer once crashed on. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The targets themselves, without libFuzzer's entry point: the suite checks
 * exactly the promises the fuzzers check, on the gcc-built library. */
#define FUZZ_NO_ENTRY
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_cfg.c"
#include "tests/fuzz/fuzz_dict.c"
#include "tests/fuzz/fuzz_http1.c"
#include "tests/fuzz/fuzz_json_row.c"

static char replaying[PATH_MAX];

/* A broken promise aborts: name the input, which the check's message
 * alone does not. */
static void on_abort(int sig)
{
	static const char what[] = "test_fuzz_regress: the input was ";

	if (write(STDERR_FILENO, what, sizeof(what) - 1) < 0 ||
	    write(STDERR_FILENO, replaying, strlen(replaying)) < 0 || write(STDERR_FILENO, "\n", 1) < 0) {
		/* nothing more to say */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool is_root(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/tests/fuzz/corpus", dir) >= (int)sizeof(p))
		return false;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* FLOWRW_ROOT (tests/run exports it), else two levels above the binary
 * (build/tests/test_fuzz_regress), else the working directory. */
static void find_root(char *out, size_t cap)
{
	const char *env = getenv("FLOWRW_ROOT");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && is_root(env)) {
		snprintf(out, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');

			if (!slash)
				break;
			*slash = 0;
			if (is_root(exe)) {
				snprintf(out, cap, "%s", exe);
				return;
			}
		}
	}
	cr_assert(getcwd(out, cap) && is_root(out),
		  "cannot find tests/fuzz/corpus: set FLOWRW_ROOT to the source tree");
}

/* Run <fn> on every file of tests/fuzz/<kind>/<target>/; returns how many. */
static int replay_dir(const char *kind, const char *target, int (*fn)(const uint8_t *, size_t))
{
	char root[PATH_MAX], dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	find_root(root, sizeof(root));
	cr_assert_lt(snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", root, kind, target),
		     (int)sizeof(dir), "path too long");
	d = opendir(dir);
	if (!d)
		return 0;
	signal(SIGABRT, on_abort);
	while ((de = readdir(d))) {
		struct stat st;
		uint8_t *buf;
		FILE *fp;
		size_t got;

		if (de->d_name[0] == '.')
			continue;
		cr_assert_lt(snprintf(replaying, sizeof(replaying), "%s/%s", dir, de->d_name),
			     (int)sizeof(replaying), "path too long");
		if (stat(replaying, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		fp = fopen(replaying, "rb");
		cr_assert(fp, "cannot open %s", replaying);
		/* An exact-size copy, as libFuzzer passes it. */
		buf = malloc(st.st_size ? (size_t)st.st_size : 1);
		cr_assert(buf);
		got = fread(buf, 1, (size_t)st.st_size, fp);
		fclose(fp);
		cr_assert_eq(got, (size_t)st.st_size, "short read of %s", replaying);
		cr_assert_eq(fn(buf, got), 0, "%s", replaying);
		free(buf);
		n++;
	}
	closedir(d);
	signal(SIGABRT, SIG_DFL);
	return n;
}

static void replay(const char *target, int (*fn)(const uint8_t *, size_t), bool has_regress)
{
	int seeds = replay_dir("corpus", target, fn), crashes = replay_dir("regress", target, fn);

	/* An empty or moved corpus would pass silently otherwise. */
	cr_assert_gt(seeds, 0, "no seeds in tests/fuzz/corpus/%s", target);
	if (has_regress)
		cr_assert_gt(crashes, 0, "no inputs in tests/fuzz/regress/%s", target);
}

Test(fuzz_regress, json_row)
{
	replay("json_row", fuzz_json_row, true);
}

Test(fuzz_regress, http1)
{
	replay("http1", fuzz_http1, true);
}

Test(fuzz_regress, cfg)
{
	replay("cfg", fuzz_cfg, false);
}

Test(fuzz_regress, dict)
{
	replay("dict", fuzz_dict, false);
}

/* The checks can fail: a row whose metric overflows a double was accepted
 * before the fix and must now be refused (the promise fuzz_json_row checks). */
Test(fuzz_regress, json_row_rejects_infinite_metric)
{
	static const char line[] = "{\"datasource\":\"flow_metrics.network.1s\",\"time\":1,"
				   "\"packet_tx\":1e999}";
	struct jrow_err err;

	jrow_init(&fjr_jp);
	cr_assert_eq(jrow_parse(&fjr_jp, line, sizeof(line) - 1, -1, &fjr_b, &err), -1);
	cr_assert_eq(err.reason, STATS_REJ_WRONG_TYPE);
}
