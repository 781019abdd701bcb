// SPDX-License-Identifier: GPL-2.0
/* The run model: arrays that grow, a timeline that stays bounded and keeps
 * its peak, grouping by command, the phase tree (inclusive peaks, top
 * processes), sites merged and ranked, wait statuses, the warning bound. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "run_fixture.h"

static size_t nframes(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static bool test_arrays_grow(void)
{
	struct mo_run run;

	run_init(&run);
	ASSERT_EQ(run.exit_status, -1);
	/* Past 16 and several doublings: every element stays where it was put. */
	for (int i = 0; i < 1000; i++) {
		struct mo_proc_rec *p = run_add_proc(&run);
		struct mo_phase_rec *ph = run_add_phase(&run);
		struct mo_mark_rec *m = run_add_mark(&run);

		ASSERT_TRUE(p && ph && m, "append %d", i);
		ASSERT_EQ(p->pid, 0);
		ASSERT_TRUE(p->end_s < 0, "a new process is still running");
		ASSERT_EQ(p->exit_status, -1);
		ASSERT_EQ(ph->rss_peak, 0);
		ASSERT_EQ(m->pid, 0);
		p->pid = i + 1;
		ph->depth = i;
		m->pid = 2 * i;
	}
	ASSERT_EQ(run.nprocs, 1000);
	ASSERT_EQ(run.nphases, 1000);
	ASSERT_EQ(run.nmarks, 1000);
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(run.procs[i].pid, i + 1);
		ASSERT_EQ(run.phases[i].depth, i);
		ASSERT_EQ(run.marks[i].pid, 2 * i);
	}
	run_free(&run);
	ASSERT_EQ(run.nprocs, 0);
	ASSERT_TRUE(!run.procs, "freed");
	return true;
}

static bool test_proc_add_phase_merges(void)
{
	struct mo_proc_rec p = { 0 };
	struct mo_proc_phase a = { .phase = 3, .rss_peak = 5000, .heap_peak_live = 70,
				   .heap = { .alloc_bytes = 100, .alloc_count = 2, .free_bytes = 40, .free_count = 1,
					     .free_unknown_count = 1 } };
	struct mo_proc_phase b = { .phase = 5, .rss_peak = 3000, .heap_peak_live = 90,
				   .heap = { .alloc_bytes = 10, .alloc_count = 1, .free_bytes = 5, .free_count = 1,
					     .free_unknown_count = 2 } };
	struct mo_heap_calls sum;

	ASSERT_EQ(run_proc_add_phase(&p, &a), 0);
	ASSERT_EQ(run_proc_add_phase(&p, &b), 0);
	/* The same (process, phase) twice: one entry, counts summed, peaks maxed. */
	b.phase = 3;
	ASSERT_EQ(run_proc_add_phase(&p, &b), 0);
	ASSERT_EQ(p.nphases, 2);
	ASSERT_EQ(p.phases[0].phase, 3);
	ASSERT_EQ(p.phases[0].heap.alloc_bytes, 110);
	ASSERT_EQ(p.phases[0].heap.alloc_count, 3);
	ASSERT_EQ(p.phases[0].heap.free_bytes, 45);
	ASSERT_EQ(p.phases[0].heap.free_count, 2);
	ASSERT_EQ(p.phases[0].heap.free_unknown_count, 3);
	ASSERT_EQ(p.phases[0].rss_peak, 5000);
	ASSERT_EQ(p.phases[0].heap_peak_live, 90);
	p.rss_peak = 6000;
	p.heap_peak_live = 95;
	run_proc_heap(&p, &sum);
	ASSERT_EQ(sum.alloc_bytes, 120);
	ASSERT_EQ(sum.alloc_count, 4);
	ASSERT_EQ(sum.free_bytes, 50);
	ASSERT_EQ(sum.free_count, 3);
	ASSERT_EQ(sum.free_unknown_count, 5);
	free(p.phases);
	return true;
}

/* The RSS of sample i: a slow ramp with one sharp peak. */
static int64_t rss_at(int i, int peak_at)
{
	return i == peak_at ? 1000000 : 1000 + i % 97;
}

static bool timeline_sorted(const struct mo_run *run)
{
	for (size_t i = 1; i < run->ntimeline; i++)
		if (run->timeline[i].t <= run->timeline[i - 1].t)
			return false;
	return true;
}

static bool test_samples_bounded_peak_kept(void)
{
	static const size_t maxes[] = { 2, 3, 7, 64, 100 };

	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		size_t max = maxes[m];
		int peak_at = 537 + (int)m;
		struct mo_run run;

		run_init(&run);
		for (int i = 0; i < 2000; i++) {
			struct mo_sample s = { .t = i * 0.5, .rss = rss_at(i, peak_at), .nprocs = i, .phase = i % 3 };

			s.rss_member[MO_MEM_ANON] = s.rss - 1;
			ASSERT_EQ(run_add_sample(&run, &s, max), 0);
			ASSERT_TRUE(run.ntimeline <= max, "max %zu: %zu samples after %d", max, run.ntimeline, i);
			/* The newest sample is always the last one. */
			ASSERT_NEAR(run.timeline[run.ntimeline - 1].t, i * 0.5, 0);
		}
		ASSERT_TRUE(run.ntimeline >= max / 2, "max %zu: kept %zu", max, run.ntimeline);
		ASSERT_TRUE(timeline_sorted(&run), "max %zu: in time order", max);
		bool found = false;

		for (size_t i = 0; i < run.ntimeline; i++) {
			const struct mo_sample *s = &run.timeline[i];

			if (s->rss == 1000000) {
				/* Kept whole: the peak's own time and figures. */
				ASSERT_NEAR(s->t, peak_at * 0.5, 0);
				ASSERT_EQ(s->nprocs, peak_at);
				ASSERT_EQ(s->rss_member[MO_MEM_ANON], 999999);
				ASSERT_EQ(s->phase, peak_at % 3);
				found = true;
			}
		}
		ASSERT_TRUE(found, "max %zu: the peak sample survived", max);
		run_free(&run);
	}
	return true;
}

static bool test_samples_unbounded(void)
{
	struct mo_run run;

	run_init(&run);
	for (int i = 0; i < 300; i++) {
		struct mo_sample s = { .t = i, .rss = i };

		ASSERT_EQ(run_add_sample(&run, &s, 0), 0);
	}
	ASSERT_EQ(run.ntimeline, 300);
	for (int i = 0; i < 300; i++)
		ASSERT_EQ(run.timeline[i].rss, i);
	run_free(&run);
	return true;
}

static struct mo_proc_rec *proc(struct mo_run *run, pid_t pid, const char *comm, int64_t peak)
{
	struct mo_proc_rec *p = run_add_proc(run);

	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->rss_peak = peak;
	return p;
}

static bool test_by_command(void)
{
	struct mo_proc_phase heap = { .heap.alloc_bytes = 1000 };
	struct mo_proc_group *g;
	struct mo_run run;
	size_t n = 99;

	run_init(&run);
	run_proc_add_phase(proc(&run, 10, "cc1", 300), &heap);
	proc(&run, 11, "make", 50);
	run_proc_add_phase(proc(&run, 12, "cc1", 700), &heap);
	heap.heap.alloc_bytes = 5;
	heap.phase = 1;
	run_proc_add_phase(proc(&run, 13, "cc1", 500), &heap);
	proc(&run, 14, "ld", 700);
	proc(&run, 15, "as", 50);
	g = run_group_by(&run, MO_GROUP_COMM, &n);
	ASSERT_TRUE(g, "groups");
	ASSERT_EQ(n, 4);
	/* By the largest peak, descending; equal peaks by name. */
	ASSERT_STR_EQ(g[0].name, "cc1");
	ASSERT_EQ(g[0].processes, 3);
	ASSERT_EQ(g[0].rss_peak_max, 700);
	ASSERT_EQ(g[0].heap_alloc_bytes, 2005);
	ASSERT_STR_EQ(g[1].name, "ld");
	ASSERT_EQ(g[1].processes, 1);
	ASSERT_STR_EQ(g[2].name, "as");
	ASSERT_STR_EQ(g[3].name, "make");
	ASSERT_EQ(g[3].rss_peak_max, 50);
	ASSERT_EQ(g[3].heap_alloc_bytes, 0);
	ASSERT_EQ(g[0].rss_peak_sum, 1500);
	free(g);
	run_free(&run);

	/* No processes: an empty list, not NULL. */
	run_init(&run);
	g = run_group_by(&run, MO_GROUP_COMM, &n);
	ASSERT_TRUE(g, "empty run");
	ASSERT_EQ(n, 0);
	free(g);
	return true;
}

/* main(0) > build(1) > compile(2) > link(3); main > test(4); a phase
 * table: parents by index. */
static void phase_tree(struct mo_run *run)
{
	static const struct { const char *name; size_t parent; } t[] = {
		{ "main", 0 }, { "build", 0 }, { "compile", 1 }, { "link", 2 }, { "test", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mo_phase_rec *ph = run_add_phase(run);

		snprintf(ph->name, sizeof(ph->name), "%s", t[i].name);
		ph->parent = t[i].parent;
	}
}

static bool test_phase_within(void)
{
	struct mo_run run;

	run_init(&run);
	phase_tree(&run);
	ASSERT_TRUE(run_phase_within(&run, 3, 3), "a phase is within itself");
	ASSERT_TRUE(run_phase_within(&run, 3, 2), "link in compile");
	ASSERT_TRUE(run_phase_within(&run, 3, 1), "link in build");
	ASSERT_TRUE(run_phase_within(&run, 3, 0), "link in main");
	ASSERT_TRUE(run_phase_within(&run, 4, 0), "test in main");
	ASSERT_TRUE(!run_phase_within(&run, 1, 3), "build not in link");
	ASSERT_TRUE(!run_phase_within(&run, 4, 1), "test not in build");
	ASSERT_TRUE(!run_phase_within(&run, 3, 4), "link not in test");
	ASSERT_TRUE(!run_phase_within(&run, 0, 1), "main not in build");
	ASSERT_TRUE(!run_phase_within(&run, 9, 0), "no such phase");
	/* A corrupt table with a cycle ends, and says no. */
	run.phases[1].parent = 2;
	ASSERT_TRUE(!run_phase_within(&run, 3, 4), "cycle");
	run_free(&run);
	return true;
}

static void proc_phase(struct mo_proc_rec *p, size_t phase, int64_t peak)
{
	struct mo_proc_phase figures = { .phase = phase, .rss_peak = peak };

	run_proc_add_phase(p, &figures);
}

static bool test_phase_peaks_and_top(void)
{
	size_t out[8];
	struct mo_run run;

	run_init(&run);
	phase_tree(&run);
	/* cc1 peaked in link (nested in compile, in build), as in build itself. */
	proc_phase(proc(&run, 100, "cc1", 900), 3, 500);
	proc_phase(&run.procs[0], 1, 200);
	proc_phase(proc(&run, 101, "as", 300), 2, 300);
	proc_phase(proc(&run, 102, "pytest", 900), 4, 900);
	proc_phase(&run.procs[2], 0, 50);
	proc_phase(proc(&run, 103, "idle", 0), 2, 0);
	proc_phase(proc(&run, 104, "ld", 400), 3, 400);

	ASSERT_EQ(run_proc_phase_rss_peak(&run, &run.procs[0], 3), 500);
	ASSERT_EQ(run_proc_phase_rss_peak(&run, &run.procs[0], 2), 500);
	ASSERT_EQ(run_proc_phase_rss_peak(&run, &run.procs[0], 1), 500);
	ASSERT_EQ(run_proc_phase_rss_peak(&run, &run.procs[0], 4), 0);
	ASSERT_EQ(run_proc_phase_rss_peak(&run, &run.procs[2], 1), 0);
	ASSERT_EQ(run_proc_phase_rss_peak(&run, &run.procs[2], 0), 900);

	/* Inside build: cc1 (500, from link), ld (400), as (300); not pytest,
	 * not the process that never grew. */
	ASSERT_EQ(run_phase_top_procs(&run, 1, out, 8), 3);
	ASSERT_EQ(out[0], 0);
	ASSERT_EQ(out[1], 4);
	ASSERT_EQ(out[2], 1);
	/* At most max, still the highest. */
	ASSERT_EQ(run_phase_top_procs(&run, 1, out, 2), 2);
	ASSERT_EQ(out[0], 0);
	ASSERT_EQ(out[1], 4);
	ASSERT_EQ(run_phase_top_procs(&run, 0, out, 1), 1);
	ASSERT_EQ(out[0], 2);
	ASSERT_EQ(run_phase_top_procs(&run, 0, out, 8), 4);
	ASSERT_EQ(out[0], 2);
	ASSERT_EQ(out[1], 0);
	ASSERT_EQ(out[2], 4);
	ASSERT_EQ(out[3], 1);
	ASSERT_EQ(run_phase_top_procs(&run, 4, out, 8), 1);
	ASSERT_EQ(out[0], 2);
	run_free(&run);
	return true;
}

static bool test_listed_sites(void)
{
	struct mo_run run;
	size_t idx[4];

	run_init(&run);
	run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "big", NULL), 2, NULL, 1000, 1, 0);
	run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "mid", NULL), 2, NULL, 500, 1, 500);
	run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "leak", NULL), 2, NULL, 100, 1, 100);
	run_add_site(&run, MO_SITE_OF_RSS, strv("main", "touch", NULL), 2, NULL, 4096, 1, 0);
	/* By bytes, then by live bytes those not listed yet: the leak shows. */
	ASSERT_EQ(run_listed_sites(&run, MO_SITE_OF_ALLOC, idx, 2), 3);
	ASSERT_TRUE(idx[0] == 0 && idx[1] == 1 && idx[2] == 2, "big, mid, then leak: %zu %zu %zu", idx[0], idx[1],
		    idx[2]);
	ASSERT_EQ(run_listed_sites(&run, MO_SITE_OF_ALLOC, idx, 1), 2);
	ASSERT_TRUE(idx[0] == 0 && idx[1] == 1, "big, then mid (most live)");
	/* RSS growth sites have no live bytes: by bytes only. */
	ASSERT_EQ(run_listed_sites(&run, MO_SITE_OF_RSS, idx, 2), 1);
	ASSERT_EQ(idx[0], 3);
	run_free(&run);
	return true;
}

static bool test_sites_merge(void)
{
	struct mo_run run;

	run_init(&run);
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", "malloc"), 3, NULL, 100, 1, 50), 0);
	/* Equal frames, same kind: merged (the same index), the second vector
	 * freed (ASan). */
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", "malloc"), 3, NULL, 200, 2, -20), 0);
	ASSERT_EQ(run.nsites, 1);
	ASSERT_EQ(run.sites[0].bytes, 300);
	ASSERT_EQ(run.sites[0].count, 3);
	ASSERT_EQ(run.sites[0].live, 30);
	ASSERT_EQ(run.sites[0].nframes, 3);
	/* Same frames, other kind: a site of its own. */
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_RSS, strv("main", "parse", "malloc"), 3, NULL, 7, 1, 0), 1);
	/* Same bytes split differently, a prefix, a longer stack: distinct. */
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("mainp", "arse", "malloc"), 3, NULL, 1, 1, 0), 2);
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", NULL), 2, NULL, 1, 1, 0), 3);
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parsemalloc", NULL), 2, NULL, 1, 1, 0), 4);
	/* A frame holding the hash's separator byte: the same hash as the two
	 * frames it looks like, still a site of its own. */
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse\xff" "malloc", NULL), 2, NULL, 1, 1, 0), 5);
	ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main\xff" "parse", "malloc", NULL), 2, NULL, 1, 1, 0), 6);
	/* The same frames at other lines, or in another program: sites of their own. */
	{
		struct mo_site_where a = { strv("m.c:1", "p.c:2", "x.c:3"), NULL, NULL };
		struct mo_site_where b = { strv("m.c:1", "p.c:2", "x.c:4"), NULL, NULL };
		struct mo_site_where c = { strv("m.c:1", "p.c:2", "x.c:4"), strdup("cc1"), NULL };
		struct mo_site_where d = { strv("m.c:1", "p.c:2", "x.c:4"), strdup("cc1"), NULL };

		ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", "malloc"), 3, &a, 1, 1, 0), 7);
		ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", "malloc"), 3, &b, 1, 1, 0), 8);
		ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", "malloc"), 3, &c, 1, 1, 0), 9);
		ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", "parse", "malloc"), 3, &d, 1, 1, 0), 9);
	}
	ASSERT_EQ(run.nsites, 10);
	ASSERT_EQ(run.sites[0].bytes, 300);
	ASSERT_EQ(run.sites[1].kind, MO_SITE_OF_RSS);
	ASSERT_EQ(run.sites[1].bytes, 7);
	for (size_t i = 2; i < 9; i++)
		ASSERT_EQ(run.sites[i].bytes, 1);
	ASSERT_EQ(run.sites[9].bytes, 2);
	ASSERT_EQ(nframes(run.sites[3].frames), 2);
	ASSERT_STR_EQ(run.sites[3].frames[1], "parse");
	run_free(&run);
	return true;
}

static bool test_top_sites(void)
{
	static const struct { enum mo_site_of kind; uint64_t bytes; int64_t live; } s[] = {
		{ MO_SITE_OF_ALLOC, 10, 0 },   { MO_SITE_OF_ALLOC, 500, 5 }, { MO_SITE_OF_RSS, 9000, 0 },
		{ MO_SITE_OF_ALLOC, 0, 800 },  { MO_SITE_OF_ALLOC, 70, -3 }, { MO_SITE_OF_ALLOC, 500, 2 },
		{ MO_SITE_OF_ALLOC, 300, 40 },
	};
	size_t out[8];
	struct mo_run run;

	run_init(&run);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%zu", i);
		ASSERT_EQ(run_add_site(&run, s[i].kind, strv(name, NULL, NULL), 1, NULL, s[i].bytes, 1, s[i].live), (int)i);
	}
	/* By bytes: 500, 500 (in the order added), 300, 70, 10; not the RSS
	 * site, not the one of 0 bytes. */
	ASSERT_EQ(run_top_sites(&run, MO_SITE_OF_ALLOC, false, out, 8), 5);
	ASSERT_EQ(out[0], 1);
	ASSERT_EQ(out[1], 5);
	ASSERT_EQ(out[2], 6);
	ASSERT_EQ(out[3], 4);
	ASSERT_EQ(out[4], 0);
	ASSERT_EQ(run_top_sites(&run, MO_SITE_OF_ALLOC, false, out, 2), 2);
	ASSERT_EQ(out[0], 1);
	ASSERT_EQ(out[1], 5);
	/* By live bytes: 800, 40, 5, 2; negative and zero left out. */
	ASSERT_EQ(run_top_sites(&run, MO_SITE_OF_ALLOC, true, out, 8), 4);
	ASSERT_EQ(out[0], 3);
	ASSERT_EQ(out[1], 6);
	ASSERT_EQ(out[2], 1);
	ASSERT_EQ(out[3], 5);
	ASSERT_EQ(run_top_sites(&run, MO_SITE_OF_ALLOC, true, out, 1), 1);
	ASSERT_EQ(out[0], 3);
	ASSERT_EQ(run_top_sites(&run, MO_SITE_OF_RSS, false, out, 8), 1);
	ASSERT_EQ(out[0], 2);
	run_free(&run);
	return true;
}

static bool test_phase_sites(void)
{
	int64_t bytes[8] = { 10, 50, 55, 20, 5, 40, -7, 0 };	/* by site; -7: shrank, 0: unchanged */
	int64_t none[8] = { 0 };
	struct mo_run run;

	run_init(&run);
	fixture_phase_at(&run, "main", 0, 0, 0, 10);
	fixture_phase_at(&run, "outer", 0, 1, 1, 5);
	for (size_t i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%zu", i);
		ASSERT_EQ(run_add_site(&run, MO_SITE_OF_ALLOC, strv("main", name, NULL), 2, NULL, 100, 1, 0), (int)i);
	}
	ASSERT_EQ(run_phase_set_sites(&run, 1, MO_PHASE_GROWN, bytes), 0);
	/* The top 5 above 0, descending. */
	ASSERT_EQ(run.phases[1].nsites[MO_PHASE_GROWN], MO_PHASE_TOP_SITES);
	ASSERT_STR_EQ(run.phases[1].sites[MO_PHASE_GROWN][0].frames[1], "f2");
	ASSERT_EQ(run.phases[1].sites[MO_PHASE_GROWN][0].bytes, 55);
	ASSERT_STR_EQ(run.phases[1].sites[MO_PHASE_GROWN][1].frames[1], "f1");
	ASSERT_STR_EQ(run.phases[1].sites[MO_PHASE_GROWN][2].frames[1], "f5");
	ASSERT_STR_EQ(run.phases[1].sites[MO_PHASE_GROWN][3].frames[1], "f3");
	ASSERT_STR_EQ(run.phases[1].sites[MO_PHASE_GROWN][4].frames[1], "f0");
	ASSERT_EQ(run.phases[1].sites[MO_PHASE_GROWN][4].bytes, 10);
	ASSERT_EQ(run.phases[1].sites[MO_PHASE_GROWN][4].nframes, 2);
	ASSERT_EQ(run.phases[1].nsites[MO_PHASE_LIVE], 0);
	/* The same sites in another view and phase: copies of their own (ASan). */
	ASSERT_EQ(run_phase_set_sites(&run, 0, MO_PHASE_LIVE, bytes), 0);
	ASSERT_TRUE(run.phases[0].sites[MO_PHASE_LIVE][0].frames != run.phases[1].sites[MO_PHASE_GROWN][0].frames,
		    "own copy");
	/* Nothing grew: an empty view. */
	ASSERT_EQ(run_phase_set_sites(&run, 0, MO_PHASE_GROWN, none), 0);
	ASSERT_EQ(run.phases[0].nsites[MO_PHASE_GROWN], 0);
	run_free(&run);
	return true;
}

/* A real wait status: a child that exits with code, or kills itself. */
static int child_status(int code, int sig)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (sig) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code);
	}
	waitpid(pid, &status, 0);
	return status;
}

static bool test_wait_status(void)
{
	ASSERT_EQ(run_wait_status_to_exit(child_status(0, 0)), 0);
	ASSERT_EQ(run_wait_status_to_exit(child_status(3, 0)), 3);
	ASSERT_EQ(run_wait_status_to_exit(child_status(255, 0)), 255);
	ASSERT_EQ(run_wait_status_to_exit(child_status(0, SIGKILL)), 128 + SIGKILL);
	ASSERT_EQ(run_wait_status_to_exit(child_status(0, SIGTERM)), 128 + SIGTERM);
	/* A stopped child is no exit. */
	ASSERT_EQ(run_wait_status_to_exit(0x137f), -1);
	return true;
}

static bool test_warnings_bounded(void)
{
	struct mo_run run;

	run_init(&run);
	for (int i = 0; i < 250; i++)
		run_add_warning(&run, "pid %d: something %s", i, "odd");
	ASSERT_EQ(run.nwarnings, 101);
	ASSERT_STR_EQ(run.warnings[0], "pid 0: something odd");
	ASSERT_STR_EQ(run.warnings[99], "pid 99: something odd");
	ASSERT_TRUE(strstr(run.warnings[100], "left out"), "the last line says more were left out: %s",
		    run.warnings[100]);
	run_free(&run);
	return true;
}

static bool test_drop_rows(void)
{
	struct mo_drop_row rows[MO_DROP_KINDS];
	struct mo_run run;

	run_init(&run);
	ASSERT_EQ(run_drop_rows(&run, rows), 0);
	/* Every counter has its row; zero ones are left out, the order kept. */
	for (size_t i = 0; i < MO_DROP_KINDS; i++) {
		run.drops[i] = i + 1;
		ASSERT_TRUE(run_drop_kinds[i].key && run_drop_kinds[i].what, "every counter is named");
	}
	ASSERT_EQ(run_drop_rows(&run, rows), MO_DROP_KINDS);
	/* What was lost sums all but those that only note: a name read from
	 * /proc instead, a phase end that matched nothing, markers refused. */
	ASSERT_EQ(run_drops_lost(run.drops), MO_DROP_KINDS * (MO_DROP_KINDS + 1) / 2 - (MO_DROP_UNMATCHED_ENDS + 1) -
					     (MO_DROP_MARKER_READS + 1) - (MO_DROP_MARKERS_REFUSED + 1));
	memset(run.drops, 0, sizeof(run.drops));
	run.drops[MO_DROP_SITES] = 6;
	run.drops[MO_DROP_UNMATCHED_ENDS] = 10;
	ASSERT_EQ(run_drop_rows(&run, rows), 2);
	ASSERT_STR_EQ(rows[0].what, "sites");
	ASSERT_EQ(rows[0].n, 6);
	ASSERT_STR_EQ(rows[1].what, "unmatched phase ends");
	ASSERT_EQ(rows[1].n, 10);
	run_free(&run);
	return true;
}

int main(void)
{
	RUN(test_arrays_grow);
	RUN(test_proc_add_phase_merges);
	RUN(test_samples_bounded_peak_kept);
	RUN(test_samples_unbounded);
	RUN(test_by_command);
	RUN(test_drop_rows);
	RUN(test_phase_within);
	RUN(test_phase_peaks_and_top);
	RUN(test_sites_merge);
	RUN(test_listed_sites);
	RUN(test_top_sites);
	RUN(test_phase_sites);
	RUN(test_wait_status);
	RUN(test_warnings_bounded);
	return check_summary();
}
