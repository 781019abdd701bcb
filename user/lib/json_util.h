/* SPDX-License-Identifier: GPL-2.0 */
/* cJSON helpers: exact integers (cJSON prints doubles, so byte counts are
 * written raw), valid UTF-8 strings, typed getters for reading documents. */
#ifndef MO_JSON_UTIL_H
#define MO_JSON_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Add item (NULL: its creation failed) as member name. Return the item, or
 * NULL with the item deleted on ENOMEM. */
cJSON *json_add_item(cJSON *obj, const char *name, cJSON *item);
/* Add an integer member printed exactly. Return the item, NULL on ENOMEM. */
cJSON *json_add_int(cJSON *obj, const char *name, int64_t v);
/* Add a number rounded to `decimals` places (times in seconds). */
cJSON *json_add_num(cJSON *obj, const char *name, double v, int decimals);
/* Add a string, invalid UTF-8 replaced by U+FFFD; NULL s adds JSON null. */
cJSON *json_add_str(cJSON *obj, const char *name, const char *s);
/* Array helpers with the same rules. */
cJSON *json_int(int64_t v);
cJSON *json_str(const char *s);

/* Copy of s with invalid UTF-8 sequences and control characters other than
 * tab replaced; caller frees. NULL on ENOMEM. */
char *json_utf8_clean(const char *s);

/* Getters: the member as the type, or the fallback when absent or of
 * another type. Paths are dot-separated ("totals.rss.peak"). */
const cJSON *json_path(const cJSON *root, const char *path);
double json_num(const cJSON *obj, const char *path, double fallback);
const char *json_string(const cJSON *obj, const char *path, const char *fallback);

#endif
