// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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

int run_load(const struct mo_history *h, const char *history_path, const char *ref, cJSON **doc, char *err,
	     size_t errlen)
{
	struct mo_summary summary;
	size_t line;
	const char *path;
	char *text;
	FILE *f;
	int ret = history_resolve(h, ref, &summary, &line, err, errlen);

	*doc = NULL;
	summary_free(&summary);
	if (ret)
		return ret;
	path = line ? history_path : ref;
	f = fopen(path, "re");
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
