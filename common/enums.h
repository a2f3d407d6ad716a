/* SPDX-License-Identifier: MIT */
/* enums.h: DeepFlow enum display names (spec §4.2) and device-type keywords (§5.3). */
#ifndef FLOWRW_ENUMS_H
#define FLOWRW_ENUMS_H

#include <stddef.h>
#include <stdint.h>

#include "common/schema.h"

/*
 * All functions are pure lookups in compiled-in tables: any process or
 * thread may call them, none allocates, none fails other than "no entry".
 * Names are exact (case-sensitive), as DeepFlow writes them.
 */

/* Display name of <value> in enum <e> ("protocol" 6 -> "TCP").  For
 * SCHEMA_ENUM_OBSERVATION_POINT, <value> is the numeric tap_side (1 ->
 * "Client NIC").  NULL when the table has no entry (DeepFlow renders "",
 * i.e. the label is dropped). */
const char *enums_name(enum schema_enum e, int64_t value);

/* Display name of the string key <code> (observation_point "c" ->
 * "Client NIC"); NULL when none or when <e> has no string keys. */
const char *enums_name_by_code(enum schema_enum e, const char *code, size_t len);

/* Reverse: the number whose display name is <name> ("TCP" -> 6; for
 * observation_point the tap_side, "Client NIC" -> 1).  Returns 0 and sets
 * *value, or -ENOENT. */
int enums_value(enum schema_enum e, const char *name, size_t len, int64_t *value);

/* observation_point: display name -> code ("Client NIC" -> "c"); NULL when none. */
const char *enums_code_by_name(const char *name, size_t len);

/* §5.3 keyword of a device type (10 -> "pod"); NULL when none. */
const char *enums_device_type_keyword(int64_t type);

/* Reverse of the above ("pod" -> 10); 0 or -ENOENT. */
int enums_device_type_value(const char *keyword, size_t len, int64_t *type);

/* observation_point code of a numeric tap_side (1 -> "c"); NULL when none. */
const char *enums_observation_point_code(int64_t tap_side);

/* tap_side of an observation_point code ("c" -> 1); 0 or -ENOENT. */
int enums_observation_point_side(const char *code, size_t len, int64_t *tap_side);

/* Short name of the enum file (SCHEMA_ENUM_PROTOCOL -> "protocol"), for messages. */
const char *enums_file_name(enum schema_enum e);

#endif
