// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/grow.h"
#include "history/history.h"
#include "lib/outfile.h"
#include "lib/textbuf.h"

/* Members of a run document that history, compare and check never read:
 * they are most of a big run's size. */
static const char *const heavy_members[] = {
	"processes", "by_command", "timeline", "top_allocators", "rss_growth_sites", "marks",
};

static void slim(cJSON *doc)
{
	cJSON *phase;

	for (size_t i = 0; i < sizeof(heavy_members) / sizeof(heavy_members[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, heavy_members[i]);
	cJSON_ArrayForEach(phase, cJSON_GetObjectItemCaseSensitive(doc, "phases")) {
		cJSON *heap = cJSON_GetObjectItemCaseSensitive(phase, "heap");

		cJSON_DeleteItemFromObjectCaseSensitive(heap, "live_sites");
		cJSON_DeleteItemFromObjectCaseSensitive(heap, "grown_sites");
	}
}

/* Is doc a run document this memobs reads? If not, why. */
static bool is_run(const cJSON *doc, char *why, size_t whylen)
{
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");

	if (!cJSON_IsObject(doc) || !cJSON_IsNumber(schema) ||
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "totals"))) {
		snprintf(why, whylen, "valid JSON but not a run document (an object with schema and totals)");
		return false;
	}
	if (schema->valuedouble != HISTORY_SCHEMA) {
		snprintf(why, whylen, "run document schema %g, this memobs reads schema %d", schema->valuedouble,
			 HISTORY_SCHEMA);
		return false;
	}
	return true;
}

/* Does the file end in a line without its newline (an append that died
 * half-way)? Looked at under a shared lock, so that an append in flight
 * (which holds the exclusive lock) is never mistaken for a torn one. */
static bool has_newline_missing(const struct mo_invoker *inv, const char *path)
{
	struct stat st;
	bool missing = false;
	char last;
	int fd;

	if (invoker_enter(inv))
		return false;	/* outfile_append says why it cannot act as the user */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (!flock(fd, LOCK_SH) && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    pread(fd, &last, 1, st.st_size - 1) == 1)
			missing = last != '\n';
		close(fd);
	}
	invoker_leave(inv);
	return missing;
}

int history_append(const struct mo_invoker *inv, const char *path, const char *json_doc, char *err, size_t errlen)
{
	size_t len = strlen(json_doc), n = 0;
	char *line;
	int ret;

	if (!len || strchr(json_doc, '\n')) {
		snprintf(err, errlen, "cannot append to %s: the run document is %s", path,
			 len ? "not on one line (print it unformatted)" : "empty");
		return -EINVAL;
	}
	line = malloc(len + 2 + 1);
	if (!line) {
		snprintf(err, errlen, "cannot append to %s: out of memory", path);
		return -ENOMEM;
	}
	/* Checked before outfile_append takes its lock: two writers repairing
	 * the same torn line may leave one blank line, which readers skip. */
	if (has_newline_missing(inv, path))
		line[n++] = '\n';
	memcpy(line + n, json_doc, len);
	n += len;
	line[n++] = '\n';
	ret = outfile_append(inv, path, line, n, err, errlen);
	free(line);
	return ret;
}

/* Buffered reader of lines of any length, keeping at most HISTORY_MAX_LINE
 * bytes of one. */
struct line_reader {
	int fd;
	bool eof;
	size_t pos, len;
	char *line;
	size_t cap, n;
	char chunk[64 << 10];
};

static int line_reserve(struct line_reader *r, size_t need)
{
	return GROW(r->line, need, r->cap);
}

/* Next line into r->line (NUL-terminated, without its '\n'). Returns 1, 0
 * at the end of the file, or -errno. *too_long: the line passed
 * HISTORY_MAX_LINE and was dropped; *ended: it ended with a newline. */
static int read_line(struct line_reader *r, bool *too_long, bool *ended)
{
	bool any = false;

	r->n = 0;
	*too_long = *ended = false;
	while (!*ended) {
		const char *start, *nl;
		size_t take;

		if (r->pos == r->len) {
			ssize_t got;

			if (r->eof)
				break;
			got = read(r->fd, r->chunk, sizeof(r->chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return -errno;
			r->eof = got == 0;
			r->pos = 0;
			r->len = got;
			continue;
		}
		any = true;
		start = r->chunk + r->pos;
		nl = memchr(start, '\n', r->len - r->pos);
		take = nl ? (size_t)(nl - start) : r->len - r->pos;
		r->pos += take + (nl ? 1 : 0);
		*ended = nl != NULL;
		if (*too_long)
			continue;
		if (r->n + take > HISTORY_MAX_LINE) {
			*too_long = true;
			continue;
		}
		if (line_reserve(r, r->n + take + 1))
			return -ENOMEM;
		memcpy(r->line + r->n, start, take);
		r->n += take;
	}
	if (!any)
		return 0;
	if (line_reserve(r, r->n + 1))
		return -ENOMEM;
	r->line[*too_long ? 0 : r->n] = 0;
	return 1;
}

static int add_warning(struct mo_history *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_warning(struct mo_history *h, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (GROW(h->warnings, h->nwarnings + 1, h->warnings_alloc))
		return -ENOMEM;
	h->warnings[h->nwarnings] = strdup(buf);
	if (!h->warnings[h->nwarnings])
		return -ENOMEM;
	h->nwarnings++;
	return 0;
}

/* Add the run of doc (then deleted) as line `line`. */
static int add_run(struct mo_history *h, cJSON *doc, size_t line)
{
	int ret = GROW(h->runs, h->nruns + 1, h->runs_alloc);

	if (!ret)
		ret = summary_from_json(doc, &h->runs[h->nruns].sum);
	cJSON_Delete(doc);
	if (ret)
		return ret;
	h->runs[h->nruns].line = line;
	h->nruns++;
	return 0;
}

static bool is_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return !*s;
}

/* Why the line just read is not a run, "" when it is one (then *doc owns
 * the parsed run). */
static void judge_line(const struct line_reader *r, bool too_long, bool ended, cJSON **doc, char *why,
		       size_t whylen)
{
	*doc = NULL;
	*why = 0;
	if (too_long) {
		snprintf(why, whylen, "line longer than %u MiB", HISTORY_MAX_LINE >> 20);
		return;
	}
	if (is_blank(r->line)) {
		snprintf(why, whylen, "blank line");
		return;
	}
	if (memchr(r->line, 0, r->n)) {
		snprintf(why, whylen, "holds a NUL byte");
		return;
	}
	*doc = cJSON_ParseWithOpts(r->line, NULL, true);
	if (!*doc) {
		snprintf(why, whylen, ended ? "not valid JSON" :
			 "truncated line at the end of the file (an interrupted append?)");
		return;
	}
	if (!is_run(*doc, why, whylen)) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
}

static int load_lines(struct line_reader *r, const char *path, struct mo_history *h)
{
	size_t lineno = 0, skipped = 0;
	bool too_long, ended;
	int ret;

	while ((ret = read_line(r, &too_long, &ended)) > 0) {
		char why[160];
		cJSON *doc;

		lineno++;
		judge_line(r, too_long, ended, &doc, why, sizeof(why));
		if (doc) {
			ret = add_run(h, doc, lineno);
			if (ret)
				return ret;
		} else if (++skipped <= HISTORY_MAX_WARNINGS) {
			ret = add_warning(h, "%s:%zu: %s, skipped", path, lineno, why);
			if (ret)
				return ret;
		}
	}
	if (!ret && skipped > HISTORY_MAX_WARNINGS)
		ret = add_warning(h, "%s: %zu more bad lines skipped", path, skipped - HISTORY_MAX_WARNINGS);
	return ret;
}

int history_load(const char *path, struct mo_history *h, char *err, size_t errlen)
{
	struct line_reader *r;
	int ret;

	memset(h, 0, sizeof(*h));
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "cannot read %s: out of memory", path);
		return -ENOMEM;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen, "no history at %s", path);
		else
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		free(r);
		return ret;
	}
	/* Shared with the appenders' exclusive lock, so that no line is read
	 * half-written. Where flock is unsupported, a line caught mid-write is
	 * skipped as truncated instead. */
	flock(r->fd, LOCK_SH);
	ret = load_lines(r, path, h);
	if (ret)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	close(r->fd);
	free(r->line);
	free(r);
	return ret;
}

void history_free(struct mo_history *h)
{
	for (size_t i = 0; i < h->nruns; i++)
		summary_free(&h->runs[i].sum);
	for (size_t i = 0; i < h->nwarnings; i++)
		free(h->warnings[i]);
	free(h->runs);
	free(h->warnings);
	memset(h, 0, sizeof(*h));
}

/* Whole file into a NUL-terminated buffer; caller frees. NULL+errno
 * (EFBIG past HISTORY_MAX_FILE: /dev/zero is no run document). */
static char *read_whole(const char *path, size_t *len)
{
	struct mo_textbuf t = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		goto fail;
	if (S_ISREG(st.st_mode) && st.st_size > HISTORY_MAX_FILE) {
		errno = EFBIG;
		goto fail;
	}
	for (;;) {
		ssize_t got;

		if (textbuf_reserve(&t, HISTORY_MAX_FILE))
			goto fail;
		got = read(fd, t.data + t.len, t.cap - t.len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		if (!got)
			break;
		t.len += got;
	}
	close(fd);
	t.data[t.len] = 0;
	*len = t.len;
	return t.data;
fail:
	saved = errno ? errno : ENOMEM;
	if (fd >= 0)
		close(fd);
	free(t.data);
	errno = saved;
	return NULL;
}

int history_read_file(const char *path, cJSON **doc, char *err, size_t errlen)
{
	char why[160];
	size_t len;
	char *text = read_whole(path, &len);

	*doc = NULL;
	if (!text) {
		int ret = -errno;

		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	if (memchr(text, 0, len) || !(*doc = cJSON_ParseWithOpts(text, NULL, true))) {
		free(text);
		snprintf(err, errlen, "%s is not valid JSON (a run document written by memobs -o?)", path);
		return -EINVAL;
	}
	free(text);
	if (!is_run(*doc, why, sizeof(why))) {
		cJSON_Delete(*doc);
		*doc = NULL;
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	slim(*doc);
	return 0;
}

int history_read_summary(const char *path, struct mo_summary *s, char *err, size_t errlen)
{
	cJSON *doc;
	int ret = history_read_file(path, &doc, err, errlen);

	summary_init(s);
	if (ret)
		return ret;
	ret = summary_from_json(doc, s);
	cJSON_Delete(doc);
	if (ret)
		snprintf(err, errlen, "out of memory");
	return ret;
}

static int pick(const struct mo_history *h, size_t i, struct mo_summary *run, size_t *line, char *err,
		size_t errlen)
{
	if (summary_copy(run, &h->runs[i].sum)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*line = h->runs[i].line;
	return 0;
}

static int resolve_relative(const struct mo_history *h, const char *ref, struct mo_summary *run, size_t *line,
			    char *err, size_t errlen)
{
	const char *digits = ref + 2;
	unsigned long n;

	if (strncmp(ref, "@-", 2) || !*digits || strspn(digits, "0123456789") != strlen(digits) ||
	    strlen(digits) > 9 || !(n = strtoul(digits, NULL, 10))) {
		snprintf(err, errlen, "'%s': a relative reference is @-1 (the newest run), @-2, ...", ref);
		return -EINVAL;
	}
	if (n > h->nruns) {
		snprintf(err, errlen, "no run %s: the history has %zu run%s", ref, h->nruns, h->nruns == 1 ? "" : "s");
		return -ENOENT;
	}
	return pick(h, h->nruns - n, run, line, err, errlen);
}

static bool is_commit_prefix(const char *ref)
{
	size_t len = strlen(ref);

	return len >= 4 && len <= 40 && strspn(ref, "0123456789abcdefABCDEF") == len;
}

/* Newest run whose commit starts with ref: 0 and *found (-1 for none), or
 * -EINVAL when ref names several commits. */
static int find_commit(const struct mo_history *h, const char *ref, long *found, char *err, size_t errlen)
{
	const char *first = NULL;

	*found = -1;
	for (size_t i = h->nruns; i-- > 0;) {
		const struct mo_git *git = &h->runs[i].sum.git;
		const char *commit = git->commit;

		if (!git->present || strncasecmp(commit, ref, strlen(ref)))
			continue;
		if (!first) {
			first = commit;
			*found = i;
		} else if (strcasecmp(first, commit)) {
			snprintf(err, errlen, "commit prefix '%s' is ambiguous (%.12s, %.12s): give more digits", ref,
				 first, commit);
			return -EINVAL;
		}
	}
	return 0;
}

static bool is_file(const char *ref)
{
	struct stat st;

	return !stat(ref, &st) && S_ISREG(st.st_mode);
}

static bool looks_like_path(const char *ref)
{
	size_t len = strlen(ref);

	return strchr(ref, '/') || (len > 5 && !strcmp(ref + len - 5, ".json"));
}

int history_resolve(const struct mo_history *h, const char *ref, struct mo_summary *run, size_t *line, char *err,
		    size_t errlen)
{
	long found;
	int ret;

	summary_init(run);
	*line = 0;
	if (ref[0] == '@')
		return resolve_relative(h, ref, run, line, err, errlen);
	if (is_file(ref))
		return history_read_summary(ref, run, err, errlen);
	if (is_commit_prefix(ref)) {
		ret = find_commit(h, ref, &found, err, errlen);
		if (ret)
			return ret;
		if (found >= 0)
			return pick(h, found, run, line, err, errlen);
	}
	for (size_t i = h->nruns; i-- > 0;) {
		const char *label = h->runs[i].sum.label;

		if (label && !strcmp(label, ref))
			return pick(h, i, run, line, err, errlen);
	}
	/* Labels may hold a '/' (branch names): a path only when nothing else matched. */
	if (looks_like_path(ref))
		return history_read_summary(ref, run, err, errlen);
	snprintf(err, errlen, "no run matches '%s' in the history (%zu runs): use @-1, @-2, ..., a commit prefix, "
		 "a label, or a run document file", ref, h->nruns);
	return -ENOENT;
}

const char *history_describe(const struct mo_summary *run, char *buf, size_t len)
{
	const char *t = run->time_utc[0] ? run->time_utc : NULL, *commit = run->git.present ? run->git.commit : NULL;
	const char *label = run->label;
	char when[32] = "unknown time";
	int n;

	if (t) {
		snprintf(when, sizeof(when), "%.19s UTC", t);
		if (when[10] == 'T')
			when[10] = ' ';
	}
	n = snprintf(buf, len, "%s", when);
	if (commit && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", commit %.10s%s", commit, run->git.dirty ? " (dirty)" : "");
	if (label && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", label '%s'", label);
	if (run->command && n >= 0 && (size_t)n < len) {
		char cmd[512];

		n += snprintf(buf + n, len - n, ", command '%s'", history_command(run, cmd, sizeof(cmd)));
	}
	if (run->exit_status >= 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, ", exit %d", run->exit_status);
	return buf;
}

const char *history_command(const struct mo_summary *run, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (char **arg = run->command; arg && *arg && n + 1 < len; arg++) {
		int k = snprintf(buf + n, len - n, "%s%s", n ? " " : "", *arg);

		n = k < 0 || (size_t)k >= len - n ? len - 1 : n + k;
	}
	return buf;
}
