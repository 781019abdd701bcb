// SPDX-License-Identifier: GPL-2.0
/* Phase records from the BPF table: phases still open at the end closed
 * there and flagged (never the root), each with its own peak, names
 * recovered from /proc applied, seconds relative to the start, a peak never
 * below its baseline. */
#include <stdlib.h>
#include "check.h"
#include "observe/phases.h"

#define T0 5000000000ull
#define SEC 1000000000ull

static struct mo_phase ph(const char *name, __u32 parent, __u32 depth, __u32 flags, __u64 start, __u64 end,
			  __s64 baseline, __s64 peak, __s64 rss_end)
{
	struct mo_phase p = { .parent = parent, .depth = depth, .flags = flags, .start_ns = start,
			      .end_ns = end, .rss_baseline = baseline, .rss_peak = peak, .rss_end = rss_end };

	snprintf(p.name, sizeof(p.name), "%s", name);
	return p;
}

static const struct mo_phase_end_state end_state = {
	.t0_ns = T0, .end_ns = T0 + 10 * SEC, .rss = 4444, .heap_live = 55,
};

/* main (open) > build (open) > link (open); main > parse (ended);
 * main > test (open). The session ended with three phases open. */
static bool test_unclosed_closed(void)
{
	struct mo_phase t[5] = {
		ph("main", 0, 0, MO_PHASE_OPEN, T0, 0, 100, 1000, 0),
		ph("parse", 0, 1, MO_PHASE_ENDED, T0 + SEC, T0 + 2 * SEC, 200, 900, 300),
		ph("build", 0, 1, MO_PHASE_OPEN, T0 + 3 * SEC, 0, 300, 3000, 0),
		ph("link", 2, 2, MO_PHASE_OPEN, T0 + 4 * SEC, 0, 2000, 7000, 0),
		ph("test", 0, 1, MO_PHASE_OPEN, T0 + 9 * SEC, 0, 400, 600, 0),
	};
	struct mo_run run;

	t[3].heap_baseline = 10;
	t[3].heap_peak = 90;
	t[2].heap_peak = 50;
	run_init(&run);
	ASSERT_EQ(phases_from_bpf(&run, t, 5, NULL, 0, &end_state), 0);
	ASSERT_EQ(run.nphases, 5);

	/* Closed at the end of the session, with its figures. */
	for (size_t i = 2; i <= 4; i++) {
		ASSERT_TRUE(run.phases[i].unclosed, "%s flagged", run.phases[i].name);
		ASSERT_NEAR(run.phases[i].end_s, 10.0, 1e-9);
		ASSERT_EQ(run.phases[i].rss_end, 4444);
		ASSERT_EQ(run.phases[i].heap_end, 55);
	}
	/* The root is closed there too, but never flagged. */
	ASSERT_TRUE(!run.phases[0].unclosed, "root not flagged");
	ASSERT_NEAR(run.phases[0].end_s, 10.0, 1e-9);
	ASSERT_EQ(run.phases[0].rss_end, 4444);
	/* An ended phase keeps its own end. */
	ASSERT_TRUE(!run.phases[1].unclosed, "parse ended");
	ASSERT_NEAR(run.phases[1].end_s, 2.0, 1e-9);
	ASSERT_EQ(run.phases[1].rss_end, 300);
	ASSERT_EQ(run.phases[1].rss_peak, 900);

	/* Peaks are whole already (BPF folded every segment into every open
	 * phase): nothing is carried from child to parent. */
	ASSERT_EQ(run.phases[3].rss_peak, 7000);
	ASSERT_EQ(run.phases[2].rss_peak, 3000);
	ASSERT_EQ(run.phases[0].rss_peak, 1000);
	ASSERT_EQ(run.phases[2].heap_peak, 50);
	ASSERT_EQ(run.phases[4].rss_peak, 600);

	/* Tree and times, seconds after t0. */
	ASSERT_EQ(run.phases[3].parent, 2);
	ASSERT_EQ(run.phases[3].depth, 2);
	ASSERT_EQ(run.phases[0].parent, 0);
	ASSERT_NEAR(run.phases[0].start_s, 0, 0);
	ASSERT_NEAR(run.phases[1].start_s, 1.0, 1e-9);
	ASSERT_NEAR(run.phases[3].start_s, 4.0, 1e-9);
	ASSERT_STR_EQ(run.phases[3].name, "link");
	run_free(&run);
	return true;
}

static bool test_fields_and_bounds(void)
{
	struct mo_phase t[4] = {
		ph("main", 0, 0, MO_PHASE_OPEN, T0, 0, 0, 0, 0),
		/* Never peaked above where it began (its peak was reset, no growth). */
		ph("quiet", 0, 1, MO_PHASE_ENDED | MO_PHASE_IMPLICIT_END, T0 - SEC, T0 + SEC / 4, 800, 0, 700),
		/* A parent the table does not have. */
		ph("stray", 99, 1, MO_PHASE_ENDED | MO_PHASE_NAME_TRUNCATED, T0, T0 + SEC, 0, 5, 0),
		ph("", 0, 1, MO_PHASE_ENDED, T0, T0 + SEC, 0, 5, 0),
	};
	struct mo_run run;

	t[1].heap_baseline = 64;
	t[1].heap_peak = 10;
	t[1].items = 12;
	t[1].alloc_bytes = 1;
	t[1].alloc_count = 2;
	t[1].free_bytes = 3;
	t[1].free_count = 4;
	run_init(&run);
	ASSERT_EQ(phases_from_bpf(&run, t, 4, NULL, 0, &end_state), 0);
	ASSERT_EQ(run.phases[1].rss_baseline, 800);
	ASSERT_EQ(run.phases[1].rss_peak, 800);
	ASSERT_EQ(run.phases[1].heap_baseline, 64);
	ASSERT_EQ(run.phases[1].heap_peak, 64);
	ASSERT_EQ(run.phases[1].rss_end, 700);
	ASSERT_NEAR(run.phases[1].start_s, 0, 0);	/* before t0: 0 */
	ASSERT_NEAR(run.phases[1].end_s, 0.25, 1e-9);
	ASSERT_TRUE(run.phases[1].implicit_end, "implicit end");
	ASSERT_TRUE(!run.phases[1].name_truncated, "not truncated");
	ASSERT_EQ(run.phases[1].items, 12);
	ASSERT_EQ(run.phases[1].alloc_bytes, 1);
	ASSERT_EQ(run.phases[1].alloc_count, 2);
	ASSERT_EQ(run.phases[1].free_bytes, 3);
	ASSERT_EQ(run.phases[1].free_count, 4);
	ASSERT_EQ(run.phases[2].parent, MO_PHASE_ROOT);
	ASSERT_TRUE(run.phases[2].name_truncated, "truncated");
	ASSERT_TRUE(!run.phases[2].implicit_end, "explicit end");
	ASSERT_TRUE(!run.phases[2].name_from_proc_mem, "BPF's own name");
	run_free(&run);
	return true;
}

static bool test_name_fixes(void)
{
	struct mo_phase t[4] = {
		ph("main", 0, 0, MO_PHASE_OPEN, T0, 0, 0, 0, 0),
		ph("", 0, 1, MO_PHASE_ENDED | MO_PHASE_NAME_PENDING, T0, T0 + SEC, 0, 0, 0),
		ph("", 0, 1, MO_PHASE_ENDED | MO_PHASE_NAME_PENDING, T0, T0 + SEC, 0, 0, 0),
		ph("junk", 0, 1, MO_PHASE_ENDED | MO_PHASE_NAME_PENDING, T0, T0 + SEC, 0, 0, 0),
	};
	struct mo_phase_name_fix fixes[2] = { { .id = 2 }, { .id = 1 } };
	struct mo_run run;

	snprintf(fixes[0].name, sizeof(fixes[0].name), "render");
	/* A name of the full 64 bytes, without a NUL: cut to 63. */
	memset(fixes[1].name, 'n', sizeof(fixes[1].name));
	/* Whatever BPF left in its name: 64 bytes without a NUL, cut too. */
	memset(t[0].name, 'm', sizeof(t[0].name));
	run_init(&run);
	ASSERT_EQ(phases_from_bpf(&run, t, 4, fixes, 2, &end_state), 0);
	ASSERT_STR_EQ(run.phases[2].name, "render");
	/* Not fixed: unread, and nothing of what the record held is kept. */
	ASSERT_TRUE(run.phases[3].name_unread && !run.phases[2].name_unread, "unread");
	ASSERT_STR_EQ(run.phases[3].name, "");
	ASSERT_TRUE(run.phases[2].name_from_proc_mem, "fixed");
	ASSERT_EQ(strnlen(run.phases[1].name, MO_NAME_LEN), MO_NAME_LEN - 1);
	ASSERT_TRUE(run.phases[1].name_from_proc_mem, "fixed");
	ASSERT_EQ(strnlen(run.phases[0].name, MO_NAME_LEN), MO_NAME_LEN - 1);
	ASSERT_TRUE(!run.phases[0].name_from_proc_mem, "not fixed");
	run_free(&run);
	return true;
}

/* A table longer than the phase limit: only the first MO_MAX_PHASES. */
static bool test_table_capped(void)
{
	size_t n = MO_MAX_PHASES + 3;
	struct mo_phase *t = calloc(n, sizeof(*t));
	struct mo_run run;

	for (size_t i = 0; i < n; i++)
		t[i] = ph("p", 0, i ? 1 : 0, i ? MO_PHASE_ENDED : MO_PHASE_OPEN, T0, T0, 0, 0, 0);
	run_init(&run);
	ASSERT_EQ(phases_from_bpf(&run, t, n, NULL, 0, &end_state), 0);
	ASSERT_EQ(run.nphases, MO_MAX_PHASES);
	run_free(&run);
	free(t);
	return true;
}

int main(void)
{
	RUN(test_unclosed_closed);
	RUN(test_fields_and_bounds);
	RUN(test_name_fixes);
	RUN(test_table_capped);
	return check_summary();
}
