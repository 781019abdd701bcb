// SPDX-License-Identifier: GPL-2.0
/* The run document: a run rendered, parsed and read back keeps every field
 * the document carries (and renders to the same text again); integers are
 * exact in the text past 2^53; invalid UTF-8 anywhere comes out valid;
 * documents of another schema are refused. */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "lib/json_util.h"
#include "run_fixture.h"
#include "model/run_json.h"

#define BIG (9007199254740993LL)	/* 2^53 + 1 */

static void phase(struct mo_run *run, const char *name, size_t parent, unsigned depth, double start, double end,
		  int64_t base)
{
	struct mo_phase_rec *ph = fixture_phase_at(run, name, parent, depth, start, end);

	ph->rss_baseline = base;
	ph->rss_peak = base * 3;
	ph->rss_end = base * 2;
	ph->heap_baseline = base / 2;
	ph->heap_peak = base;
	ph->heap_end = base / 4;
	ph->alloc_bytes = base * 5;
	ph->alloc_count = 11;
	ph->free_bytes = base * 4;
	ph->free_count = 9;
}

/* A run that sets every field the document carries, with hostile strings
 * where there are strings; big: figures past 2^53 (else up to 2^52+1,
 * which a double holds). */
static void fixture(struct mo_run *run, bool big)
{
	int64_t huge = big ? BIG : (1LL << 52) + 1;

	struct mo_proc_rec *p;
	struct mo_proc_phase st;

	run_init(run);
	run->command = strv("make", "-j2", "caf\xc3\xa9\xff");
	run->cwd = strdup("/home/u/\xc0\xafsrc");
	run->label = strdup("nightly\n");
	snprintf(run->host, sizeof(run->host), "build-01");
	snprintf(run->kernel, sizeof(run->kernel), "6.1.0-18-amd64");
	snprintf(run->time_utc, sizeof(run->time_utc), "2024-05-01T12:00:00Z");
	run->ncpus = 8;
	run->git.present = true;
	run->git.dirty = true;
	snprintf(run->git.commit, sizeof(run->git.commit), "%s", "0123456789abcdef0123456789abcdef01234567");
	snprintf(run->git.branch, sizeof(run->git.branch), "feat/\xed\xa0\x80x");
	run->heap = true;
	run->interval_s = 0.25;
	run->duration_s = 41.5;
	run->exit_status = 2;
	run->rss_peak = huge;
	run->heap_peak = 123456789;
	run->alloc_bytes = 1000;
	run->alloc_count = 10;
	run->free_bytes = 900;
	run->free_count = 8;
	run->free_unknown_count = 3;

	phase(run, "main", 0, 0, 0, 41.5, 1000);
	phase(run, "build\xe2\x9c", 0, 1, 1.5, 30.25, 2000);
	phase(run, "link", 1, 2, 20, 30, 3000);
	phase(run, "link", 0, 1, 31, 40, 500);	/* names repeat */
	run->phases[2].unclosed = true;
	run->phases[2].implicit_end = true;
	run->phases[3].name_truncated = true;
	run->phases[2].name_unread = true;
	run->phases[3].items = 40;
	run_phase_add_site(&run->phases[1], MO_PHASE_LIVE, strv("main", "build\xff", "xmalloc"), 3, NULL, huge);
	run_phase_add_site(&run->phases[1], MO_PHASE_LIVE, strv("main", NULL, NULL), 1, NULL, 4096);
	run_phase_add_site(&run->phases[3], MO_PHASE_LIVE, strv("main", "link", NULL), 2, NULL, 64);
	run_phase_add_site(&run->phases[3], MO_PHASE_GROWN, strv("main", "link", NULL), 2, NULL, 32);

	p = run_add_proc(run);
	p->pid = 4242;
	p->ppid = 1;
	snprintf(p->comm, sizeof(p->comm), "cc1\xff\x01");
	p->exe = strdup("/usr/lib/gcc/\xf8x/cc1");
	p->argv = strv("cc1", "-quiet", "\xe2\x82");
	p->start_s = 2.5;
	p->end_s = 9.75;
	p->exited = true;
	p->exit_status = 1;
	p->heap_probed = true;
	p->rss_peak = 5000000;
	p->rss_peak_member[MO_MEM_ANON] = 4000000;
	p->rss_peak_member[MO_MEM_FILE] = 1000000;
	p->rss_peak_member[MO_MEM_SHMEM] = 4096;
	p->rss_peak_member[MO_MEM_SWAP] = 8192;
	p->rss_end = 12288;
	p->heap_live = 640;
	p->heap_peak_live = 65536;
	st = (struct mo_proc_phase){ .phase = 2, .rss_peak = 4000000, .heap_peak_live = 50000,
				     .heap = { .alloc_bytes = 700, .alloc_count = 7, .free_bytes = 60, .free_count = 6,
					       .free_unknown_count = 2 } };
	run_proc_add_phase(p, &st);
	st = (struct mo_proc_phase){ .phase = 1, .rss_peak = 5000000, .heap_peak_live = 65536,
				     .heap = { .alloc_bytes = 5, .alloc_count = 1, .free_bytes = 5, .free_count = 1,
					       .free_unknown_count = 1 } };
	run_proc_add_phase(p, &st);

	p = run_add_proc(run);	/* still running, killed by nothing yet */
	p->pid = 4243;
	p->ppid = 4242;
	snprintf(p->comm, sizeof(p->comm), "memobs");
	p->observer = true;
	p->start_s = 3;
	p->rss_peak = 100;

	p = run_add_proc(run);	/* killed by SIGKILL */
	p->pid = 4244;
	p->ppid = 4242;
	snprintf(p->comm, sizeof(p->comm), "cc1");
	p->exited = true;
	p->end_s = 4;
	p->exit_status = 137;
	p->rss_peak = 7000000;

	for (int i = 0; i < 4; i++) {
		struct mo_sample s = { .t = 0.25 * i, .rss = 1000 * i + huge * (i == 2), .heap_live = 10 * i,
				       .nprocs = i, .phase = (size_t)i };

		s.rss_member[MO_MEM_ANON] = 100 * i;
		s.rss_member[MO_MEM_FILE] = 200 * i;
		s.rss_member[MO_MEM_SHMEM] = 300 * i;
		s.rss_member[MO_MEM_SWAP] = 400 * i;
		run_add_sample(run, &s, 0);
	}
	struct mo_mark_rec *m = run_add_mark(run);

	m->t = 1.125;
	m->pid = 4242;
	m->phase = 1;
	snprintf(m->label, sizeof(m->label), "warm\xc3");

	struct mo_site_where where = { strv("/src/main.c:10", "", "malloc.c:3"), strdup("cc1"), strdup("/usr/bin/cc1") };

	run_add_site(run, MO_SITE_OF_ALLOC, strv("main", "parse\xff", "malloc"), 3, &where, 4096, 4, 1024);
	run_add_site(run, MO_SITE_OF_ALLOC, strv("main", "leak", NULL), 2, NULL, 16, 1, 16);
	run_add_site(run, MO_SITE_OF_RSS, strv("main", "memset", NULL), 2, NULL, 8192, 2, 0);
	run->alloc_sample_bytes = 524288;
	run->rss_sample_bytes = 65536;
	run->nstacks = 3;
	run->short_stacks = 1;
	run->unresolved_frames = 2;
	for (size_t i = 0; i < MO_DROP_KINDS; i++)
		run->drops[i] = i + 1;
	run->marker_fallbacks = 13;
	run_add_warning(run, "pid %d: \xff odd", 4242);
	run_add_warning(run, "second");
}

static bool parse_text(const char *text, struct mo_run *out)
{
	char err[128] = "";
	cJSON *doc = cJSON_Parse(text);
	int rc;

	run_init(out);
	if (!doc)
		return false;
	rc = run_json_parse(doc, out, err, sizeof(err));
	cJSON_Delete(doc);
	return rc == 0;
}

static bool test_round_trip(void)
{
	struct mo_run a, b;
	struct mo_heap_calls h;
	char *t1, *t2;

	fixture(&a, false);
	t1 = run_json_render(&a, false);
	ASSERT_TRUE(t1, "rendered");
	ASSERT_TRUE(parse_text(t1, &b), "parsed back");

	/* Metadata. */
	ASSERT_EQ(b.ncpus, 8);
	ASSERT_STR_EQ(b.host, "build-01");
	ASSERT_STR_EQ(b.kernel, "6.1.0-18-amd64");
	ASSERT_STR_EQ(b.time_utc, "2024-05-01T12:00:00Z");
	ASSERT_TRUE(b.command && b.command[2] && !b.command[3], "command of 3 words");
	ASSERT_STR_EQ(b.command[1], "-j2");
	ASSERT_TRUE(b.git.present && b.git.dirty, "git");
	ASSERT_STR_EQ(b.git.commit, a.git.commit);
	ASSERT_TRUE(b.heap, "heap traced");
	ASSERT_NEAR(b.interval_s, 0.25, 0);
	ASSERT_NEAR(b.duration_s, 41.5, 0);
	ASSERT_EQ(b.exit_status, 2);
	/* Totals. */
	ASSERT_EQ(b.rss_peak, (1LL << 52) + 1);
	ASSERT_EQ(b.heap_peak, 123456789);
	ASSERT_EQ(b.alloc_bytes, 1000);
	ASSERT_EQ(b.alloc_count, 10);
	ASSERT_EQ(b.free_bytes, 900);
	ASSERT_EQ(b.free_count, 8);
	ASSERT_EQ(b.free_unknown_count, 3);

	/* Phases, by index (names repeat). */
	ASSERT_EQ(b.nphases, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct mo_phase_rec *x = &a.phases[i], *y = &b.phases[i];

		ASSERT_EQ(y->parent, x->parent);
		ASSERT_EQ(y->depth, x->depth);
		ASSERT_NEAR(y->start_s, x->start_s, 0);
		ASSERT_NEAR(y->end_s, x->end_s, 0);
		ASSERT_EQ(y->unclosed, x->unclosed);
		ASSERT_EQ(y->implicit_end, x->implicit_end);
		ASSERT_EQ(y->name_truncated, x->name_truncated);
		ASSERT_EQ(y->name_unread, x->name_unread);
		ASSERT_EQ(y->items, x->items);
		ASSERT_EQ(y->rss_baseline, x->rss_baseline);
		ASSERT_EQ(y->rss_peak, x->rss_peak);
		ASSERT_EQ(y->rss_end, x->rss_end);
		ASSERT_EQ(y->heap_baseline, x->heap_baseline);
		ASSERT_EQ(y->heap_peak, x->heap_peak);
		ASSERT_EQ(y->heap_end, x->heap_end);
		ASSERT_EQ(y->alloc_bytes, x->alloc_bytes);
		ASSERT_EQ(y->alloc_count, x->alloc_count);
		ASSERT_EQ(y->free_bytes, x->free_bytes);
		ASSERT_EQ(y->free_count, x->free_count);
	}
	ASSERT_STR_EQ(b.phases[1].name, "build\xef\xbf\xbd\xef\xbf\xbd");
	/* Sites of each view, in order, frames root -> leaf. */
	ASSERT_EQ(b.phases[0].nsites[MO_PHASE_LIVE], 0);
	ASSERT_EQ(b.phases[1].nsites[MO_PHASE_LIVE], 2);
	ASSERT_EQ(b.phases[1].sites[MO_PHASE_LIVE][0].bytes, (1LL << 52) + 1);
	ASSERT_EQ(b.phases[1].sites[MO_PHASE_LIVE][0].nframes, 3);
	ASSERT_STR_EQ(b.phases[1].sites[MO_PHASE_LIVE][0].frames[0], "main");
	ASSERT_STR_EQ(b.phases[1].sites[MO_PHASE_LIVE][0].frames[1], "build\xef\xbf\xbd");
	ASSERT_STR_EQ(b.phases[1].sites[MO_PHASE_LIVE][0].frames[2], "xmalloc");
	ASSERT_EQ(b.phases[1].sites[MO_PHASE_LIVE][1].bytes, 4096);
	ASSERT_EQ(b.phases[1].sites[MO_PHASE_LIVE][1].nframes, 1);
	ASSERT_EQ(b.phases[1].nsites[MO_PHASE_GROWN], 0);
	ASSERT_EQ(b.phases[2].nsites[MO_PHASE_LIVE], 0);
	ASSERT_EQ(b.phases[3].nsites[MO_PHASE_LIVE], 1);
	ASSERT_STR_EQ(b.phases[3].sites[MO_PHASE_LIVE][0].frames[1], "link");
	ASSERT_EQ(b.phases[3].sites[MO_PHASE_LIVE][0].bytes, 64);
	ASSERT_EQ(b.phases[3].nsites[MO_PHASE_GROWN], 1);
	ASSERT_EQ(b.phases[3].sites[MO_PHASE_GROWN][0].bytes, 32);

	/* Processes. */
	ASSERT_EQ(b.nprocs, 3);
	ASSERT_EQ(b.procs[0].pid, 4242);
	ASSERT_EQ(b.procs[0].ppid, 1);
	ASSERT_TRUE(b.procs[0].exe && b.procs[0].argv && b.procs[0].argv[2], "exe, argv");
	ASSERT_NEAR(b.procs[0].start_s, 2.5, 0);
	ASSERT_NEAR(b.procs[0].end_s, 9.75, 0);
	ASSERT_TRUE(b.procs[0].exited, "exited");
	ASSERT_EQ(b.procs[0].exit_status, 1);
	ASSERT_TRUE(b.procs[0].heap_probed && !b.procs[0].observer, "flags");
	ASSERT_EQ(b.procs[0].rss_peak, 5000000);
	for (int m = 0; m < MO_MEM_KINDS; m++)
		ASSERT_EQ(b.procs[0].rss_peak_member[m], a.procs[0].rss_peak_member[m]);
	ASSERT_EQ(b.procs[0].rss_end, 12288);
	ASSERT_EQ(b.procs[0].heap_live, 640);
	ASSERT_EQ(b.procs[0].heap_peak_live, 65536);
	ASSERT_EQ(b.procs[0].nphases, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct mo_proc_phase *x = &a.procs[0].phases[i], *y = &b.procs[0].phases[i];

		ASSERT_EQ(y->phase, x->phase);
		ASSERT_EQ(y->heap.alloc_bytes, x->heap.alloc_bytes);
		ASSERT_EQ(y->heap.alloc_count, x->heap.alloc_count);
		ASSERT_EQ(y->heap.free_bytes, x->heap.free_bytes);
		ASSERT_EQ(y->heap.free_count, x->heap.free_count);
		ASSERT_EQ(y->rss_peak, x->rss_peak);
		ASSERT_EQ(y->heap_peak_live, x->heap_peak_live);
	}
	/* The process's heap figures, summed over its phases, as written. */
	run_proc_heap(&b.procs[0], &h);
	ASSERT_EQ(h.alloc_bytes, 705);
	ASSERT_EQ(h.free_count, 7);
	ASSERT_EQ(h.free_unknown_count, 3);
	ASSERT_TRUE(!b.procs[1].exited && b.procs[1].end_s < 0 && b.procs[1].exit_status == -1, "running");
	ASSERT_TRUE(b.procs[1].observer, "observer");
	ASSERT_TRUE(b.procs[2].exited, "killed");
	ASSERT_EQ(b.procs[2].exit_status, 137);

	/* Timeline, marks, sites, stacks, drops, warnings. */
	ASSERT_EQ(b.ntimeline, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct mo_sample *x = &a.timeline[i], *y = &b.timeline[i];

		ASSERT_NEAR(y->t, x->t, 0);
		ASSERT_EQ(y->rss, x->rss);
		for (int m = 0; m < MO_MEM_KINDS; m++)
			ASSERT_EQ(y->rss_member[m], x->rss_member[m]);
		ASSERT_EQ(y->heap_live, x->heap_live);
		ASSERT_EQ(y->nprocs, x->nprocs);
		ASSERT_STR_EQ(b.phases[y->phase].name, b.phases[x->phase].name);
	}
	ASSERT_EQ(b.nmarks, 1);
	ASSERT_NEAR(b.marks[0].t, 1.125, 0);
	ASSERT_EQ(b.marks[0].pid, 4242);
	ASSERT_EQ(b.marks[0].phase, 1);
	ASSERT_STR_EQ(b.marks[0].label, "warm\xef\xbf\xbd");
	ASSERT_EQ(b.nsites, 3);
	ASSERT_EQ(b.sites[0].kind, MO_SITE_OF_ALLOC);
	ASSERT_EQ(b.sites[0].bytes, 4096);
	ASSERT_EQ(b.sites[0].count, 4);
	ASSERT_EQ(b.sites[0].live, 1024);
	ASSERT_EQ(b.sites[0].nframes, 3);
	ASSERT_STR_EQ(b.sites[0].frames[2], "malloc");
	/* Source lines ("" where unknown: null in the document) and the program. */
	ASSERT_STR_EQ(b.sites[0].where.sources[0], "/src/main.c:10");
	ASSERT_STR_EQ(b.sites[0].where.sources[1], "");
	ASSERT_STR_EQ(b.sites[0].where.sources[2], "malloc.c:3");
	ASSERT_STR_EQ(b.sites[0].where.comm, "cc1");
	ASSERT_STR_EQ(b.sites[0].where.exe, "/usr/bin/cc1");
	ASSERT_TRUE(!b.sites[1].where.sources && !b.sites[1].where.comm && !b.sites[1].where.exe, "none known");
	ASSERT_EQ(b.sites[1].live, 16);
	ASSERT_EQ(b.sites[2].kind, MO_SITE_OF_RSS);
	ASSERT_EQ(b.sites[2].bytes, 8192);
	ASSERT_EQ(b.sites[2].count, 2);
	ASSERT_EQ(b.alloc_sample_bytes, 524288);
	ASSERT_EQ(b.rss_sample_bytes, 65536);
	ASSERT_EQ(b.nstacks, 3);
	ASSERT_EQ(b.short_stacks, 1);
	ASSERT_EQ(b.unresolved_frames, 2);
	ASSERT_TRUE(!memcmp(b.drops, a.drops, sizeof(a.drops)), "every drop counter");
	ASSERT_EQ(b.marker_fallbacks, 13);
	ASSERT_EQ(b.nwarnings, 2);
	ASSERT_STR_EQ(b.warnings[1], "second");

	/* And the whole: the run read back renders to the same document. */
	t2 = run_json_render(&b, false);
	ASSERT_TRUE(t2, "rendered again");
	ASSERT_STR_EQ(t2, t1);
	free(t1);
	free(t2);
	run_free(&a);
	run_free(&b);
	return true;
}

static bool test_exact_integers_in_text(void)
{
	struct mo_run run;
	char *text;

	fixture(&run, true);
	text = run_json_render(&run, false);
	ASSERT_TRUE(text, "rendered");
	/* cJSON would print 9.007199254740992e+15; the document has every digit. */
	ASSERT_TRUE(strstr(text, "\"peak\":9007199254740993"), "totals.rss.peak exact");
	ASSERT_TRUE(strstr(text, "\"rss\":9007199254742993"), "timeline rss exact");
	ASSERT_TRUE(!strstr(text, "e+"), "no exponent anywhere");
	free(text);
	run_free(&run);
	return true;
}

/* Valid UTF-8 with no raw control characters: what cleaning leaves alone. */
static bool valid_text(const char *s)
{
	char *clean = json_utf8_clean(s);
	bool ok = clean && !strcmp(clean, s);

	free(clean);
	return ok;
}

static bool test_invalid_utf8_comes_out_valid(void)
{
	struct mo_run run;
	char *text;
	cJSON *doc;

	fixture(&run, false);
	ASSERT_TRUE(!valid_text(run.procs[0].comm), "the fixture is hostile");
	text = run_json_render(&run, false);
	ASSERT_TRUE(valid_text(text), "the document is valid UTF-8");
	doc = cJSON_Parse(text);
	ASSERT_TRUE(doc, "and JSON");
	ASSERT_STR_EQ(json_string(doc, "cwd", NULL), "/home/u/\xef\xbf\xbd\xef\xbf\xbdsrc");
	ASSERT_STR_EQ(json_string(doc, "label", NULL), "nightly\xef\xbf\xbd");
	ASSERT_STR_EQ(json_string(doc, "git.branch", NULL), "feat/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");
	ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "command"), 2)->valuestring,
		      "caf\xc3\xa9\xef\xbf\xbd");
	const cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "processes"), 0);

	ASSERT_STR_EQ(json_string(p0, "comm", NULL), "cc1\xef\xbf\xbd\xef\xbf\xbd");
	ASSERT_STR_EQ(json_string(p0, "exe", NULL), "/usr/lib/gcc/\xef\xbf\xbdx/cc1");
	ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(p0, "argv"), 2)->valuestring,
		      "\xef\xbf\xbd\xef\xbf\xbd");
	const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "top_allocators"), 0);

	ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(s0, "frames"), 1)->valuestring, "parse\xef\xbf\xbd");
	ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "warnings"), 0)->valuestring,
		      "pid 4242: \xef\xbf\xbd odd");
	cJSON_Delete(doc);
	free(text);
	run_free(&run);
	return true;
}

static bool refused(const char *text)
{
	char err[128] = "";
	struct mo_run run;
	cJSON *doc = cJSON_Parse(text);
	int rc;

	if (!doc) {
		printf("#   not JSON: %s\n", text);
		return false;
	}
	run_init(&run);
	rc = run_json_parse(doc, &run, err, sizeof(err));
	cJSON_Delete(doc);
	run_free(&run);
	if (rc != -EINVAL || !strstr(err, "not a memobs run document")) {
		printf("#   %s: rc %d, err \"%s\"\n", text, rc, err);
		return false;
	}
	return true;
}

static bool test_wrong_schema_refused(void)
{
	struct mo_run run;
	char err[64] = "";
	cJSON *doc;

	ASSERT_TRUE(refused("{\"schema\":2,\"totals\":{}}"), "schema 2");
	ASSERT_TRUE(refused("{\"schema\":0,\"totals\":{}}"), "schema 0");
	ASSERT_TRUE(refused("{\"schema\":1.5,\"totals\":{}}"), "schema 1.5");
	ASSERT_TRUE(refused("{\"schema\":\"1\",\"totals\":{}}"), "schema as a string");
	ASSERT_TRUE(refused("{\"totals\":{}}"), "no schema");
	ASSERT_TRUE(refused("{\"schema\":1}"), "no totals");
	ASSERT_TRUE(refused("{\"schema\":1,\"totals\":[]}"), "totals not an object");
	ASSERT_TRUE(refused("[{\"schema\":1,\"totals\":{}}]"), "an array");
	ASSERT_TRUE(refused("\"schema\""), "a string");
	/* The least that is one: defaults everywhere else. */
	doc = cJSON_Parse("{\"schema\":1,\"totals\":{}}");
	run_init(&run);
	ASSERT_EQ(run_json_parse(doc, &run, err, sizeof(err)), 0);
	ASSERT_EQ(run.nphases, 0);
	ASSERT_EQ(run.exit_status, -1);
	ASSERT_TRUE(!run.command && !run.cwd && !run.git.present, "defaults");
	cJSON_Delete(doc);
	run_free(&run);
	return true;
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_exact_integers_in_text);
	RUN(test_invalid_utf8_comes_out_valid);
	RUN(test_wrong_schema_refused);
	return check_summary();
}
