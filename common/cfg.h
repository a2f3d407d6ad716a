/* SPDX-License-Identifier: MIT */
/* cfg.h: load and validate the YAML configuration (libyaml). */
#ifndef FLOWRW_CFG_H
#define FLOWRW_CFG_H

#include <stdio.h>

#include "common/cfg-t.h"

/*
 * Load <path>.  Accepts DeepFlow's `ingester: exporters: [...]` shape and a
 * top-level `exporters:` list, plus the `flowrw:` pipeline section.  Every
 * problem goes to <diag> as one line naming FILE:LINE:COL and the key path.
 * Returns 0 when there is no error (warnings allowed), -EINVAL when <diag>
 * holds errors, another negative errno when the file cannot be read.
 * <c> is always safe to cfg_fini().  Any process may call it.
 */
int cfg_load_file(struct cfg *c, const char *path, struct cfg_diag *diag);

/* The text of config file <path> (a regular file of at most 16 MiB),
 * NUL-terminated, malloc'd; NULL with <*err> a negative errno. */
char *cfg_read_text(const char *path, size_t *len, int *err);

/* The same from a buffer; <name> is used in messages. */
int cfg_load_buffer(struct cfg *c, const char *text, size_t len, const char *name,
		    struct cfg_diag *diag);

void cfg_fini(struct cfg *c);
void cfg_diag_fini(struct cfg_diag *diag);
void cfg_diag_print(const struct cfg_diag *diag, FILE *out);

/* One line: "N exporters (M active), K sources, E encoders, ring memory X MiB". */
void cfg_summary(const struct cfg *c, char *buf, size_t len);

/* Parse "0-1,3" into <set>; returns 0 or -EINVAL. */
int cfg_parse_cpulist(const char *s, cpu_set_t *set);

/* Parse "64MiB", "1g", "4096" into bytes; returns 0 or -EINVAL. */
int cfg_parse_size(const char *s, size_t *out);

/* Number of exporters with active == true. */
int cfg_active_exporters(const struct cfg *c);

#endif
