/* SPDX-License-Identifier: MIT */
/* fuzz.h: entry points of the fuzz targets, shared by libFuzzer, the replay
 * driver and the regression suite (tests/unit/test_fuzz_regress.c). */
#ifndef FLOWRW_FUZZ_H
#define FLOWRW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Each target takes arbitrary bytes, must never crash, leak, read out of
 * bounds or hit undefined behaviour, and checks the properties its module
 * promises with FUZZ_CHECK (an abort, which libFuzzer records as a crash).
 * Returns 0 (libFuzzer reserves other values).
 */
int fuzz_json_row(const uint8_t *data, size_t size);
int fuzz_http1(const uint8_t *data, size_t size);
int fuzz_cfg(const uint8_t *data, size_t size);
int fuzz_dict(const uint8_t *data, size_t size);

/* libFuzzer's entry point; each fuzz_<target>.c defines it with FUZZ_ENTRY
 * unless FUZZ_NO_ENTRY is defined (the regression suite includes all four). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_NO_ENTRY
#define FUZZ_ENTRY(fn)
#else
#define FUZZ_ENTRY(fn)                                                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)     \
	{                                                               \
		return fn(data, size);                                  \
	}
#endif

/* A broken promise: say which and abort (a crash to the fuzzer). */
#define FUZZ_CHECK(cond, ...)                                                   \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: fuzz check failed: %s: ", __FILE__,   \
				__LINE__, #cond);                                       \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

/* A tiny deterministic generator (xorshift64*) seeded from the input, so a
 * saved input replays the same split points everywhere. */
static inline uint64_t fuzz_seed(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	return h | 1;
}

static inline uint64_t fuzz_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

#endif
