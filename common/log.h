/* SPDX-License-Identifier: MIT */
/* log.h: one line per event on stderr, "role[index]: level: message". */
#ifndef FLOWRW_LOG_H
#define FLOWRW_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

extern int log_level_current;

/* Set the prefix ("encoder", 2 -> "encoder[2]"; index < 0 -> "encoder"). */
void log_init(const char *role, int index, int level);

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   do { if (log_level_current >= LOG_LVL_ERROR) log_write(LOG_LVL_ERROR, __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (log_level_current >= LOG_LVL_WARN) log_write(LOG_LVL_WARN, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_level_current >= LOG_LVL_INFO) log_write(LOG_LVL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_level_current >= LOG_LVL_DEBUG) log_write(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

/*
 * Rate limit for messages in hot loops: at most one line a second per
 * limiter; the next printed line says how many were suppressed.
 *   static struct log_limit lim;
 *   log_limited(&lim, LOG_LVL_WARN, "source %s:%lu: malformed JSON", ...);
 */
struct log_limit {
	int64_t last_ms;
	uint64_t suppressed;
};

void log_limited(struct log_limit *lim, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
