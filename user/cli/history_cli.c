// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include "cli/history_cli.h"
#include "lib/json_util.h"
#include "lib/log.h"

void history_cli_missing(const char *path)
{
	log_err("no history at %s: record runs with `memobs --history=%s -- COMMAND`, or name the file with "
		"--history PATH", path, path);
}

int history_cli_load(const char *path, struct mo_history *h, bool required)
{
	char err[512];
	int ret = history_load(path, h, err, sizeof(err));

	for (size_t i = 0; i < h->nwarnings; i++)
		log_warn("%s", h->warnings[i]);
	if (ret == -ENOENT) {
		if (required)
			history_cli_missing(path);
	} else if (ret) {
		log_err("%s", err);
	}
	return ret;
}

bool history_cli_run_json(cJSON *o, const struct mo_summary *run)
{
	cJSON *arr;

	if (run->exit_status >= 0 ? !json_add_int(o, "exit_status", run->exit_status) :
				    !cJSON_AddNullToObject(o, "exit_status"))
		return false;
	if (!run->command)
		return cJSON_AddNullToObject(o, "command");
	arr = cJSON_AddArrayToObject(o, "command");
	for (char **arg = run->command; arr && *arg; arg++) {
		cJSON *item = json_str(*arg);

		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			return false;
		}
	}
	return arr;
}
