// SPDX-License-Identifier: GPL-2.0
/* The history file: appends (one whole line each, also from concurrent
 * processes), the JSONL reader's handling of bad lines, references. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "history/history.h"
#include "summary_fixture.h"

static char dir[64];
static char path[128];
static struct mo_invoker inv;

/* A minimal run line: schema, totals, label, commit, a padding string. */
static char *run_line(const char *label, const char *commit, long peak, size_t pad)
{
	size_t len = 512 + pad + (label ? strlen(label) : 0);
	char *s = malloc(len), *padding = malloc(pad + 1);
	char labelj[256];

	memset(padding, 'p', pad);
	padding[pad] = 0;
	if (label)
		snprintf(labelj, sizeof(labelj), "\"%s\"", label);
	else
		snprintf(labelj, sizeof(labelj), "null");
	snprintf(s, len,
		 "{\"schema\":1,\"label\":%s,\"command\":[\"make\"],\"time_utc\":\"2024-05-01T12:00:00Z\","
		 "\"git\":{\"commit\":\"%s\",\"branch\":\"main\",\"dirty\":false},\"pad\":\"%s\","
		 "\"totals\":{\"rss\":{\"peak\":%ld}},\"processes\":[{\"pid\":1}],\"timeline\":[{\"t\":0}]}",
		 labelj, commit, padding, peak);
	free(padding);
	return s;
}

static bool write_file(const char *content, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	bool ok = fd >= 0 && write(fd, content, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool append_raw(const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	size_t len = strlen(s);
	bool ok = fd >= 0 && write(fd, s, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool append_run(const char *label, const char *commit, long peak)
{
	char *line = run_line(label, commit, peak, 0);
	char err[256];
	int ret = history_append(&inv, path, line, err, sizeof(err));

	free(line);
	if (ret)
		printf("# history_append: %s\n", err);
	return !ret;
}

static long peak_of(const struct mo_summary *run)
{
	double v = run->total[MO_TOTAL_PEAK_RSS];

	return isnan(v) ? -1 : (long)v;
}

static void reset(void)
{
	unlink(path);
}

static bool test_append_and_load(void)
{
	struct mo_history h;
	char err[256];

	reset();
	snprintf(path, sizeof(path), "%s/sub/history.jsonl", dir);	/* parent made on append */
	ASSERT_TRUE(append_run("a", "aaaa1111", 100), "append 1");
	ASSERT_TRUE(append_run(NULL, "bbbb2222", 200), "append 2");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 2);
	ASSERT_EQ(h.nwarnings, 0);
	ASSERT_EQ(h.runs[0].line, 1);
	ASSERT_EQ(h.runs[1].line, 2);
	ASSERT_EQ(peak_of(&h.runs[0].sum), 100);
	ASSERT_STR_EQ(h.runs[0].sum.label, "a");
	ASSERT_TRUE(!h.runs[1].sum.label, "a null label is no label");
	/* Each run is kept as its summary. */
	ASSERT_TRUE(h.runs[0].sum.git.present && !strcmp(h.runs[0].sum.git.commit, "aaaa1111"), "git kept");
	ASSERT_TRUE(h.runs[0].sum.command && !strcmp(h.runs[0].sum.command[0], "make"), "command kept");
	history_free(&h);
	reset();
	snprintf(path, sizeof(path), "%s/history.jsonl", dir);
	return true;
}

static bool test_append_refuses_newlines(void)
{
	char err[256];
	struct stat st;

	reset();
	ASSERT_EQ(history_append(&inv, path, "{\"schema\":1,\n\"totals\":{}}", err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "one line"), "%s", err);
	ASSERT_EQ(history_append(&inv, path, "", err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(stat(path, &st) && errno == ENOENT, "nothing written");
	return true;
}

static bool test_append_refuses_symlink(void)
{
	char target[160], err[256];
	struct stat st;

	reset();
	snprintf(target, sizeof(target), "%s/target", dir);
	ASSERT_EQ(symlink(target, path), 0);
	ASSERT_TRUE(history_append(&inv, path, "{\"schema\":1,\"totals\":{}}", err, sizeof(err)) < 0, "refused");
	ASSERT_TRUE(strstr(err, "symbolic link"), "%s", err);
	ASSERT_TRUE(stat(target, &st) && errno == ENOENT, "nothing written through the link");
	reset();
	return true;
}

static bool test_missing_and_empty(void)
{
	struct mo_history h;
	char err[256];

	reset();
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "no history at") && strstr(err, path), "%s", err);
	ASSERT_EQ(h.nruns, 0);
	history_free(&h);
	ASSERT_TRUE(write_file("", 0), "empty file");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 0);
	ASSERT_EQ(h.nwarnings, 0);
	history_free(&h);
	return true;
}

static bool test_bad_lines(void)
{
	char *good = run_line("x", "cccc3333", 300, 0), *content = NULL;
	struct mo_history h;
	char err[256], expect[200];
	size_t len;
	FILE *f = open_memstream(&content, &len);

	fprintf(f, "%s\n", good);					/* 1 */
	fprintf(f, "{\"schema\":1,\"totals\":{\"rss\":{\"peak\":1}\n");	/* 2: corrupt */
	fprintf(f, "\n");						/* 3: blank */
	fprintf(f, "   \t\n");						/* 4: blank */
	fprintf(f, "[1,2,3]\n");					/* 5: JSON, no run */
	fprintf(f, "{\"schema\":1}\n");					/* 6: no totals */
	fprintf(f, "{\"schema\":2,\"totals\":{}}\n");			/* 7: newer schema */
	fprintf(f, "%s %s\n", good, good);				/* 8: two documents */
	fprintf(f, "%s\n", good);					/* 9 */
	fprintf(f, "{\"schema\":1,\"totals\":{\"rss\"");		/* 10: torn, no newline */
	fclose(f);
	ASSERT_TRUE(write_file(content, len), "write");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 2);
	ASSERT_EQ(h.runs[0].line, 1);
	ASSERT_EQ(h.runs[1].line, 9);
	ASSERT_EQ(h.nwarnings, 8);
	static const struct {
		int line;
		const char *what;
	} w[] = { { 2, "not valid JSON" }, { 3, "blank" }, { 4, "blank" }, { 5, "not a run document" },
		  { 6, "not a run document" }, { 7, "schema 2" }, { 8, "not valid JSON" }, { 10, "truncated" } };
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		snprintf(expect, sizeof(expect), "%s:%d: ", path, w[i].line);
		ASSERT_TRUE(strstr(h.warnings[i], expect) && strstr(h.warnings[i], w[i].what) &&
			    strstr(h.warnings[i], "skipped"), "%s", h.warnings[i]);
	}
	history_free(&h);
	free(content);
	free(good);
	return true;
}

static bool test_last_line_without_newline(void)
{
	char *good = run_line("x", "dddd4444", 400, 0);
	struct mo_history h;
	char err[256];

	/* A whole document that only lacks its newline (a hand-made file) is
	 * read; the next append starts a line of its own. */
	ASSERT_TRUE(write_file(good, strlen(good)), "write");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 1);
	ASSERT_EQ(h.nwarnings, 0);
	history_free(&h);
	ASSERT_TRUE(append_run("y", "eeee5555", 500), "append");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 2);
	ASSERT_EQ(peak_of(&h.runs[1].sum), 500);
	history_free(&h);

	/* After a torn append, the next run is not glued to the torn line. */
	ASSERT_TRUE(write_file(good, strlen(good) / 2), "write torn");
	ASSERT_TRUE(append_run("y", "eeee5555", 600), "append after torn");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 1);
	ASSERT_EQ(h.runs[0].line, 2);
	ASSERT_EQ(peak_of(&h.runs[0].sum), 600);
	ASSERT_EQ(h.nwarnings, 1);
	ASSERT_TRUE(strstr(h.warnings[0], ":1: not valid JSON"), "%s", h.warnings[0]);
	history_free(&h);
	free(good);
	return true;
}

static bool test_huge_lines(void)
{
	char *big = run_line("big", "ffff6666", 700, 3 << 20);	/* a 3 MiB run */
	char *garbage = malloc((2 << 20) + 2);
	struct mo_history h;
	char err[256];

	memset(garbage, '{', 2 << 20);
	strcpy(garbage + (2 << 20), "\n");
	reset();
	ASSERT_TRUE(append_raw(garbage), "garbage");
	ASSERT_TRUE(append_run("a", "aaaa1111", 1), "run");
	ASSERT_TRUE(append_raw(big) && append_raw("\n"), "big");
	ASSERT_TRUE(append_run("b", "bbbb2222", 2), "run");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 3);
	ASSERT_EQ(h.runs[1].line, 3);
	ASSERT_EQ(peak_of(&h.runs[1].sum), 700);
	ASSERT_EQ(h.runs[2].line, 4);
	ASSERT_EQ(h.nwarnings, 1);
	ASSERT_TRUE(strstr(h.warnings[0], ":1: not valid JSON"), "%s", h.warnings[0]);
	history_free(&h);
	free(garbage);
	free(big);
	return true;
}

static bool test_line_over_the_cap(void)
{
	size_t n = HISTORY_MAX_LINE + 1;
	char *huge = malloc(n + 1);
	struct mo_history h;
	char err[256];

	memset(huge, ' ', n);
	huge[0] = '"';
	huge[n - 1] = '"';
	huge[n] = 0;
	reset();
	ASSERT_TRUE(append_run("a", "aaaa1111", 1), "run");
	ASSERT_TRUE(append_raw(huge) && append_raw("\n"), "huge");
	ASSERT_TRUE(append_run("b", "bbbb2222", 2), "run");
	free(huge);
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 2);
	ASSERT_EQ(h.runs[1].line, 3);
	ASSERT_EQ(h.nwarnings, 1);
	ASSERT_TRUE(strstr(h.warnings[0], ":2: line longer than 64 MiB"), "%s", h.warnings[0]);
	history_free(&h);
	return true;
}

static bool test_warning_cap(void)
{
	struct mo_history h;
	char err[256];

	reset();
	for (int i = 0; i < HISTORY_MAX_WARNINGS + 7; i++)
		ASSERT_TRUE(append_raw("nope\n"), "write");
	ASSERT_TRUE(append_run("a", "aaaa1111", 1), "run");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 1);
	ASSERT_EQ(h.nwarnings, HISTORY_MAX_WARNINGS + 1);
	ASSERT_TRUE(strstr(h.warnings[HISTORY_MAX_WARNINGS], "7 more bad lines"), "%s", h.warnings[HISTORY_MAX_WARNINGS]);
	history_free(&h);
	return true;
}

static bool test_references(void)
{
	struct mo_history h;
	char err[512], file[160];
	struct mo_summary doc;
	size_t line;
	cJSON *raw;

	reset();
	ASSERT_TRUE(append_run("nightly", "abcd1234aaaa", 1), "1");
	ASSERT_TRUE(append_run("pr", "abcd9999bbbb", 2), "2");
	ASSERT_TRUE(append_run("nightly", "12345678cccc", 3), "3");
	ASSERT_TRUE(append_run("beef", "0000ffffdddd", 4), "4");
	ASSERT_TRUE(append_run(NULL, "12345678cccc", 5), "5");
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nruns, 5);
	free(h.runs[1].sum.label);
	h.runs[1].sum.label = strdup("feature/x");

	ASSERT_EQ(history_resolve(&h, "@-1", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 5);
	ASSERT_EQ(line, 5);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "@-5", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 1);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "@-6", &doc, &line, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "has 5 runs"), "%s", err);
	static const char *const bad_rel[] = { "@-0", "@-", "@1", "@-x", "@-1x", "@--1", "@-9999999999" };
	for (size_t i = 0; i < sizeof(bad_rel) / sizeof(bad_rel[0]); i++) {
		ASSERT_EQ(history_resolve(&h, bad_rel[i], &doc, &line, err, sizeof(err)), -EINVAL);
		ASSERT_TRUE(!doc.command && peak_of(&doc) == -1, "no run");
	}
	/* Commit prefixes: the newest run of the commit; ambiguous prefixes refused. */
	ASSERT_EQ(history_resolve(&h, "1234", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 5);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "ABCD1234", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 1);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "abcd", &doc, &line, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "ambiguous"), "%s", err);
	/* Labels: the newest run with it; hex matching no commit is a label. */
	ASSERT_EQ(history_resolve(&h, "nightly", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 3);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "beef", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 4);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "abc", &doc, &line, err, sizeof(err)), -ENOENT);	/* too short */
	ASSERT_TRUE(strstr(err, "no run matches 'abc'"), "%s", err);
	ASSERT_EQ(history_resolve(&h, "nosuch", &doc, &line, err, sizeof(err)), -ENOENT);
	/* A label may look like a path (a branch name). */
	ASSERT_EQ(history_resolve(&h, "feature/x", &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 2);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "feature/y", &doc, &line, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "cannot read feature/y"), "%s", err);

	/* Files: pretty-printed run documents, as -o writes them. */
	snprintf(file, sizeof(file), "%s/run.json", dir);
	{
		FILE *f = fopen(file, "w");

		ASSERT_TRUE(f, "open %s", file);
		fprintf(f, "{\n  \"schema\": 1,\n  \"totals\": {\"rss\": {\"peak\": 42}},\n  \"processes\": []\n}\n");
		fclose(f);
	}
	ASSERT_EQ(history_resolve(&h, file, &doc, &line, err, sizeof(err)), 0);
	ASSERT_EQ(peak_of(&doc), 42);
	ASSERT_EQ(line, 0);
	summary_free(&doc);
	ASSERT_EQ(history_resolve(&h, "missing.json", &doc, &line, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "missing.json"), "%s", err);
	{
		FILE *f = fopen(file, "w");

		fprintf(f, "{\"schema\": 1}");
		fclose(f);
	}
	ASSERT_EQ(history_resolve(&h, file, &doc, &line, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "not a run document"), "%s", err);
	{
		FILE *f = fopen(file, "w");

		fprintf(f, "{\"schema\": 1, \"tot");
		fclose(f);
	}
	ASSERT_EQ(history_resolve(&h, file, &doc, &line, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "not valid JSON"), "%s", err);
	unlink(file);
	/* Too big to be a run document: refused before reading. */
	{
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		ASSERT_TRUE(fd >= 0 && !ftruncate(fd, (off_t)HISTORY_MAX_FILE + 1), "sparse file");
		close(fd);
	}
	ASSERT_EQ(history_read_file(file, &raw, err, sizeof(err)), -EFBIG);
	ASSERT_TRUE(!raw && strstr(err, "too large"), "%s", err);
	unlink(file);
	history_free(&h);

	/* An empty history resolves nothing but files. */
	memset(&h, 0, sizeof(h));
	ASSERT_EQ(history_resolve(&h, "@-1", &doc, &line, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "has 0 runs"), "%s", err);
	return true;
}

static bool test_describe(void)
{
	struct mo_summary *run = summary_of("{\"time_utc\":\"2024-05-01T12:34:56.789Z\",\"label\":\"nightly\","
					    "\"git\":{\"commit\":\"0123456789abcdef\",\"dirty\":true}}");
	struct mo_summary *bare = summary_of("{}");
	char buf[256];

	ASSERT_TRUE(run && bare, "parse");
	ASSERT_STR_EQ(history_describe(run, buf, sizeof(buf)),
		      "2024-05-01 12:34:56 UTC, commit 0123456789 (dirty), label 'nightly'");
	ASSERT_STR_EQ(history_describe(bare, buf, sizeof(buf)), "unknown time");
	summary_del(run);
	summary_del(bare);
	return true;
}

#define WRITERS 8
#define LINES_PER_WRITER 80

static bool test_concurrent_appends(void)
{
	pid_t pids[WRITERS];
	struct mo_history h;
	char err[256];
	size_t reads = 0;
	int status, counts[WRITERS] = {};
	bool ok = true;

	reset();
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ASSERT_TRUE(pids[w] >= 0, "fork");
		if (pids[w] == 0) {
			char label[32];

			snprintf(label, sizeof(label), "w%d", w);
			for (int i = 0; i < LINES_PER_WRITER; i++) {
				/* Lines up to 128 KiB: far beyond a pipe's atomic write. */
				char *line = run_line(label, "aaaa1111", i, (size_t)((i * 7919 + w * 104729) % (128 << 10)));
				int ret = history_append(&inv, path, line, err, sizeof(err));

				free(line);
				if (ret)
					_exit(1);
			}
			_exit(0);
		}
	}
	/* Meanwhile, readers must only ever see whole lines. */
	for (;;) {
		bool running = false;

		for (int w = 0; w < WRITERS; w++)
			running |= waitpid(pids[w], &status, WNOHANG) == 0;
		if (history_load(path, &h, err, sizeof(err)) == 0)
			reads++;
		for (size_t i = 0; i < h.nwarnings; i++)
			printf("#   while writing: %s\n", h.warnings[i]);
		ok &= h.nwarnings == 0;
		history_free(&h);
		if (!running)
			break;
	}
	ASSERT_TRUE(ok, "readers saw only whole lines");
	for (int w = 0; w < WRITERS; w++)
		ASSERT_EQ(waitpid(pids[w], &status, 0) < 0 ? 0 : status, 0);
	ASSERT_EQ(history_load(path, &h, err, sizeof(err)), 0);
	ASSERT_EQ(h.nwarnings, 0);
	ASSERT_EQ(h.nruns, WRITERS * LINES_PER_WRITER);
	for (size_t i = 0; i < h.nruns; i++) {
		const char *label = h.runs[i].sum.label;
		int w = label ? atoi(label + 1) : -1;

		ASSERT_TRUE(w >= 0 && w < WRITERS, "line %zu: label %s", h.runs[i].line, label ? label : "(none)");
		/* Each writer's lines stay in its order. */
		ASSERT_EQ(peak_of(&h.runs[i].sum), counts[w]);
		counts[w]++;
	}
	history_free(&h);
	printf("# %zu concurrent reads\n", reads);
	return true;
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/memobs-test-history.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/history.jsonl", dir);
	invoker_get(&inv);
	RUN(test_append_and_load);
	RUN(test_append_refuses_newlines);
	RUN(test_append_refuses_symlink);
	RUN(test_missing_and_empty);
	RUN(test_bad_lines);
	RUN(test_last_line_without_newline);
	RUN(test_huge_lines);
	RUN(test_line_over_the_cap);
	RUN(test_warning_cap);
	RUN(test_references);
	RUN(test_describe);
	RUN(test_concurrent_appends);
	reset();
	{
		char sub[160];

		snprintf(sub, sizeof(sub), "%s/sub/history.jsonl", dir);
		unlink(sub);
		snprintf(sub, sizeof(sub), "%s/sub", dir);
		rmdir(sub);
		snprintf(sub, sizeof(sub), "%s/target", dir);
		unlink(sub);
	}
	rmdir(dir);
	return check_summary();
}
