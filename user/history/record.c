// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "history/history.h"
#include "history/record.h"
#include "lib/outfile.h"
#include "model/run_json.h"

/* The whole document into DIR/runs/run-TIME-PID.json beside the history;
 * doc_ref gets its name relative to DIR. 0 or -errno with err. */
static int keep_document(const struct mo_invoker *inv, const char *history, const struct mo_run *run,
			 char *doc_ref, size_t reflen, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], stamp[32];
	char *text;
	int ret;

	snprintf(dir, sizeof(dir), "%s", history);
	/* 2024-05-01T12:00:00Z -> 20240501T120000Z */
	for (size_t i = 0, k = 0; run->time_utc[i] && k + 1 < sizeof(stamp); i++)
		if (run->time_utc[i] != '-' && run->time_utc[i] != ':')
			stamp[k++] = run->time_utc[i], stamp[k] = 0;
	snprintf(doc_ref, reflen, HISTORY_RUNS_DIR "/run-%s-%d.json", run->time_utc[0] ? stamp : "0", (int)getpid());
	if (snprintf(path, sizeof(path), "%s/%s", dirname(dir), doc_ref) >= (int)sizeof(path)) {
		snprintf(err, errlen, "cannot keep the run document beside %s: the path is too long", history);
		return -ENAMETOOLONG;
	}
	text = run_json_render(run, true);
	if (!text) {
		snprintf(err, errlen, "cannot render the run document: out of memory");
		return -ENOMEM;
	}
	ret = outfile_make_dirs(inv, path, err, errlen);
	if (!ret)
		ret = outfile_write(inv, path, text, strlen(text), err, errlen);
	free(text);
	return ret;
}

/* The -o file as an absolute path, when it is a regular file (not "-", a
 * device or a FIFO, which keep nothing to read again). */
static bool output_ref(const char *output, char *ref, size_t reflen)
{
	char cwd[PATH_MAX];
	struct stat st;

	if (!output || !strcmp(output, "-") || stat(output, &st) || !S_ISREG(st.st_mode))
		return false;
	if (output[0] == '/')
		return snprintf(ref, reflen, "%s", output) < (int)reflen;
	return getcwd(cwd, sizeof(cwd)) && snprintf(ref, reflen, "%s/%s", cwd, output) < (int)reflen;
}

int history_record(const struct mo_invoker *inv, const char *path, const struct mo_run *run, bool keep,
		   const char *output, char *err, size_t errlen)
{
	char ref[PATH_MAX + 64], *line;
	struct mo_summary sum;
	int ret = summary_from_run(run, &sum);

	if (ret) {
		snprintf(err, errlen, "cannot summarize the run: out of memory");
		return ret;
	}
	if (keep)
		ret = keep_document(inv, path, run, ref, sizeof(ref), err, errlen);
	else if (!output_ref(output, ref, sizeof(ref)))
		ref[0] = 0;
	if (!ret && ref[0] && !(sum.document = strdup(ref)))
		ret = -ENOMEM;
	line = ret ? NULL : summary_json_render(&sum);
	if (!ret && !line)
		ret = -ENOMEM;
	if (ret == -ENOMEM)
		snprintf(err, errlen, "cannot render the run's summary: out of memory");
	if (!ret)
		ret = history_append(inv, path, line, err, errlen);
	free(line);
	summary_free(&sum);
	return ret;
}
