/* SPDX-License-Identifier: MIT */
/* log.c: stderr logging with role prefix and rate limiting. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_level_current = LOG_LVL_INFO;
static char log_prefix[48] = "flowrw";

static const char *const log_level_names[] = { "error", "warning", "info", "debug" };

void log_init(const char *role, int index, int level)
{
	if (index >= 0)
		snprintf(log_prefix, sizeof(log_prefix), "%s[%d]", role, index);
	else
		snprintf(log_prefix, sizeof(log_prefix), "%s", role);
	log_level_current = level;
}

static void log_vwrite(int level, const char *fmt, va_list ap, uint64_t suppressed)
{
	char line[2048];
	int n;

	/* One write(2) per line so lines of different processes never interleave. */
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prefix, log_level_names[level & 3]);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(line) - 40)
		n = (int)sizeof(line) - 40;
	if (suppressed)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " (and %llu more suppressed)",
			      (unsigned long long)suppressed);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) == -1) {
		/* stderr gone: nothing to report it to */
	}
}

void log_write(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, 0);
	va_end(ap);
}

void log_limited(struct log_limit *lim, int level, const char *fmt, ...)
{
	struct timespec ts;
	int64_t now;
	va_list ap;

	if (log_level_current < level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (lim->last_ms && now - lim->last_ms < 1000) {
		lim->suppressed++;
		return;
	}
	lim->last_ms = now;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, lim->suppressed);
	va_end(ap);
	lim->suppressed = 0;
}
