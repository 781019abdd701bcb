// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "lib/utf8.h"

cJSON *json_int(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cJSON_CreateRaw(buf);
}

cJSON *json_add_item(cJSON *obj, const char *name, cJSON *item)
{
	if (item && !cJSON_AddItemToObject(obj, name, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

cJSON *json_add_int(cJSON *obj, const char *name, int64_t v)
{
	return json_add_item(obj, name, json_int(v));
}

cJSON *json_add_num(cJSON *obj, const char *name, double v, int decimals)
{
	char buf[48];

	if (!isfinite(v))
		return cJSON_AddNullToObject(obj, name);
	/* Past 10^40 or so fixed notation does not fit: exponent form, not
	 * the first digits of the number. */
	if (snprintf(buf, sizeof(buf), "%.*f", decimals, v) >= (int)sizeof(buf))
		snprintf(buf, sizeof(buf), "%.17g", v);
	return json_add_item(obj, name, cJSON_CreateRaw(buf));
}

char *json_utf8_clean(const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;

	if (!out)
		return NULL;
	while (*in) {
		size_t len = utf8_seq_len(in);

		if (len == 1 && *in < 0x20 && *in != '\t')
			len = 0;
		if (len) {
			memcpy(o, in, len);
			o += len;
			in += len;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			in++;
		}
	}
	*o = 0;
	return out;
}

cJSON *json_str(const char *s)
{
	char *clean;
	cJSON *item;

	if (!s)
		return cJSON_CreateNull();
	clean = json_utf8_clean(s);
	if (!clean)
		return NULL;
	item = cJSON_CreateString(clean);
	free(clean);
	return item;
}

cJSON *json_add_str(cJSON *obj, const char *name, const char *s)
{
	return json_add_item(obj, name, json_str(s));
}

const cJSON *json_path(const cJSON *root, const char *path)
{
	char key[128];
	const char *dot;

	while (root && *path) {
		size_t len;

		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = 0;
		root = cJSON_GetObjectItemCaseSensitive(root, key);
		path += len + (dot ? 1 : 0);
	}
	return root;
}

double json_num(const cJSON *obj, const char *path, double fallback)
{
	const cJSON *item = json_path(obj, path);

	return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}

const char *json_string(const cJSON *obj, const char *path, const char *fallback)
{
	const cJSON *item = json_path(obj, path);

	return cJSON_IsString(item) ? item->valuestring : fallback;
}
