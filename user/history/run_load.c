// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "history/run_load.h"
#include "lib/textbuf.h"

/* Line `line` (1-based) of f without its newline, or all of f when line is
 * 0, NUL-terminated; caller frees. At most `max` bytes: history_resolve
 * read the same bytes, so a longer text means that the file changed.
 * NULL+errno (EFBIG past max, ENOENT when the file has no such line). */
static char *read_text(FILE *f, size_t line, size_t max)
{
	struct mo_textbuf t = { 0 };
	int c = 0, saved;

	for (size_t l = 1; l < line && c != EOF; l++)
		while ((c = getc(f)) != EOF && c != '\n')
			;
	if (c == EOF) {
		errno = ferror(f) ? EIO : ENOENT;
		return NULL;
	}
	if (textbuf_reserve(&t, max))
		return NULL;
	while ((c = getc(f)) != EOF && !(line && c == '\n')) {
		if (textbuf_reserve(&t, max))
			goto fail;
		t.data[t.len++] = c;
	}
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	t.data[t.len] = 0;
	return t.data;
fail:
	saved = errno;
	free(t.data);
	errno = saved;
	return NULL;
}

/* The text of line `line` of path (the whole file when 0), parsed. */
static int load_text(const char *path, size_t line, cJSON **doc, char *err, size_t errlen)
{
	char *text;
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	text = read_text(f, line, line ? HISTORY_MAX_LINE : HISTORY_MAX_FILE);
	ret = text ? 0 : -errno;
	fclose(f);
	if (ret) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	*doc = cJSON_ParseWithOpts(text, NULL, true);
	free(text);
	if (!*doc) {
		snprintf(err, errlen, "%s changed while memobs read it: not valid JSON any more", path);
		return -EINVAL;
	}
	return 0;
}

/* A summary line's run: the document it names (relative: beside the
 * history file), if that still holds this run. */
static int load_named(const char *history_path, size_t line, const struct mo_summary *sum, cJSON **doc, char *err,
		      size_t errlen)
{
	char dir[PATH_MAX], path[2 * PATH_MAX];
	struct mo_summary again;
	int ret;

	if (!sum->document) {
		snprintf(err, errlen, "%s:%zu keeps the run's summary only: record with --history-full (or -o FILE) "
			 "to report it again", history_path, line);
		return -ENOENT;
	}
	snprintf(dir, sizeof(dir), "%s", history_path);
	snprintf(path, sizeof(path), "%s%s%s", sum->document[0] == '/' ? "" : dirname(dir),
		 sum->document[0] == '/' ? "" : "/", sum->document);
	ret = load_text(path, 0, doc, err, errlen);
	if (ret)
		return ret;
	summary_init(&again);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*doc, "totals")) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(*doc, "schema"))) {
		snprintf(err, errlen, "%s (named by %s:%zu) is not a run document", path, history_path, line);
		ret = -EINVAL;
	} else if ((ret = summary_from_json(*doc, &again))) {
		snprintf(err, errlen, "cannot read %s: out of memory", path);
	} else if (!summary_same_run(&again, sum)) {
		snprintf(err, errlen, "%s holds another run now, not that of %s:%zu", path, history_path, line);
		ret = -ENOENT;
	}
	summary_free(&again);
	if (ret) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	return ret;
}

int run_load(const struct mo_history *h, const char *history_path, const char *ref, cJSON **doc, char *err,
	     size_t errlen)
{
	struct mo_summary summary;
	size_t line;
	int ret = history_resolve(h, ref, &summary, &line, err, errlen);

	*doc = NULL;
	if (!ret && line && summary.from_line)
		ret = load_named(history_path, line, &summary, doc, err, errlen);
	else if (!ret)
		ret = load_text(line ? history_path : ref, line, doc, err, errlen);
	summary_free(&summary);
	return ret;
}
