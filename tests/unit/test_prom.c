// SPDX-License-Identifier: GPL-2.0
/* The Prometheus exposition of a snapshot: stable names and exact text,
 * label escaping, the cardinality bounds (top processes and cgroups, the
 * rest summed; phase names), cgroup peaks across snapshots, and a text that
 * is well formed whatever the snapshot holds. */
#include <stdlib.h>
#include "check.h"
#include "serve/prom.h"

#define MiB (1LL << 20)
#define HAS(text, s) ASSERT_TRUE(strstr(text, s), "missing %s in:\n%s", s, text)
#define HASNT(text, s) ASSERT_TRUE(!strstr(text, s), "unexpected %s in:\n%s", s, text)

/* The exposition as a string (caller frees), NULL on failure. */
static char *render(const struct mo_prom_snapshot *s, const struct mo_prom_limits *lim, struct mo_prom_peaks *peaks)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return NULL;
	ret = prom_write(f, s, lim, peaks);
	fclose(f);
	if (ret) {
		free(buf);
		return NULL;
	}
	return buf;
}

static struct mo_prom_proc proc(pid_t pid, const char *comm, int64_t anon, int64_t file, const char *cgroup)
{
	struct mo_prom_proc p = { .pid = pid, .heap_live = -1, .cgroup = cgroup };

	snprintf(p.comm, sizeof(p.comm), "%s", comm);
	p.rss[MO_MEM_ANON] = anon;
	p.rss[MO_MEM_FILE] = file;
	p.rss_peak = anon + file;
	return p;
}

/* Text format rules a scraper relies on: each sample follows the # TYPE
 * of its family, families are contiguous and declared once, no series
 * twice, every line ends in a newline. */
static bool well_formed(const char *text)
{
	char fam[128] = "", seen[64][128], *copy = strdup(text), *save = NULL, *series[4096];
	size_t nseen = 0, nseries = 0;

	ASSERT_TRUE(copy, "out of memory");
	ASSERT_TRUE(!*text || text[strlen(text) - 1] == '\n', "ends in a newline");
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n;

		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (sscanf(line, "# TYPE %127s", fam) == 1) {
			for (size_t i = 0; i < nseen; i++)
				ASSERT_TRUE(strcmp(seen[i], fam), "family %s declared twice", fam);
			ASSERT_TRUE(nseen < 64, "too many families");
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", fam);
			continue;
		}
		n = strlen(fam);
		ASSERT_TRUE(n && !strncmp(line, fam, n) && (line[n] == '{' || line[n] == ' '),
			    "sample outside its family %s: %s", fam, line);
		ASSERT_TRUE(strrchr(line, ' ') && strrchr(line, ' ')[1], "%s", line);
		ASSERT_TRUE(nseries < 4096, "too many series");
		*strrchr(line, ' ') = 0;
		for (size_t i = 0; i < nseries; i++)
			ASSERT_TRUE(strcmp(series[i], line), "series twice: %s", line);
		series[nseries++] = line;
	}
	free(copy);
	return true;
}

static bool test_exact_text(void)
{
	struct mo_prom_proc procs[] = { proc(42, "cc1", 3 * MiB, 1 * MiB, "/build.slice") };
	struct mo_prom_phase phases[] = {
		{ "main", true, 2.5, 4 * MiB, -1 },
		{ "render", false, 1.25, 1 * MiB, -1 },
	};
	struct mo_prom_snapshot s = {
		.elapsed_s = 2.5, .rss = { [MO_MEM_ANON] = 3 * MiB, [MO_MEM_FILE] = 1 * MiB, [MO_MEM_SWAP] = 4096 },
		.rss_peak = 5 * MiB, .processes = 1, .heap_live = -1, .heap_peak = -1,
		.drops = { [MO_DROP_EVENTS] = 7 }, .phase = "main", .phases = phases, .nphases = 2, .procs = procs, .nprocs = 1,
	};
	char *text;

	procs[0].rss[MO_MEM_SWAP] = 4096;
	text = render(&s, NULL, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	ASSERT_STR_EQ(text,
		"# HELP memobs_build_info memobs version, always 1.\n"
		"# TYPE memobs_build_info gauge\n"
		"memobs_build_info{version=\"" MEMOBS_VERSION "\"} 1\n"
		"# HELP memobs_elapsed_seconds Time since the observation started.\n"
		"# TYPE memobs_elapsed_seconds gauge\n"
		"memobs_elapsed_seconds 2.500\n"
		"# HELP memobs_session_rss_bytes RSS of the observed processes now, summed, by kind (sum of the kinds: RSS).\n"
		"# TYPE memobs_session_rss_bytes gauge\n"
		"memobs_session_rss_bytes{kind=\"anon\"} 3145728\n"
		"memobs_session_rss_bytes{kind=\"file\"} 1048576\n"
		"memobs_session_rss_bytes{kind=\"shmem\"} 0\n"
		"# HELP memobs_session_swap_bytes Swap of the observed processes now, summed.\n"
		"# TYPE memobs_session_swap_bytes gauge\n"
		"memobs_session_swap_bytes 4096\n"
		"# HELP memobs_session_rss_peak_bytes Highest RSS of the observed processes together so far (concurrent peak).\n"
		"# TYPE memobs_session_rss_peak_bytes gauge\n"
		"memobs_session_rss_peak_bytes 5242880\n"
		"# HELP memobs_session_processes Observed processes alive now.\n"
		"# TYPE memobs_session_processes gauge\n"
		"memobs_session_processes 1\n"
		"# HELP memobs_drops_total Events memobs could not record, by kind.\n"
		"# TYPE memobs_drops_total counter\n"
		"memobs_drops_total{kind=\"events\"} 7\n"
		"memobs_drops_total{kind=\"processes\"} 0\n"
		"memobs_drops_total{kind=\"process_phase_records\"} 0\n"
		"memobs_drops_total{kind=\"heap_blocks\"} 0\n"
		"memobs_drops_total{kind=\"stacks\"} 0\n"
		"memobs_drops_total{kind=\"sites\"} 0\n"
		"memobs_drops_total{kind=\"phase_sites\"} 0\n"
		"memobs_drops_total{kind=\"phases\"} 0\n"
		"memobs_drops_total{kind=\"mm_ids\"} 0\n"
		"memobs_drops_total{kind=\"missed_frees\"} 0\n"
		"memobs_drops_total{kind=\"unmatched_phase_ends\"} 0\n"
		"memobs_drops_total{kind=\"marker_reads_in_bpf\"} 0\n"
		"memobs_drops_total{kind=\"marker_names_unread\"} 0\n"
		"memobs_drops_total{kind=\"contended_updates\"} 0\n"
		"memobs_drops_total{kind=\"programs\"} 0\n"
		"memobs_drops_total{kind=\"marks\"} 0\n"
		"memobs_drops_total{kind=\"markers_refused\"} 0\n"
		"memobs_drops_total{kind=\"python_code\"} 0\n"
		"memobs_drops_total{kind=\"stacks_cut\"} 0\n"
		"memobs_drops_total{kind=\"uncounted_calls\"} 0\n"
		"memobs_drops_total{kind=\"untracked_samples\"} 0\n"
		"memobs_drops_total{kind=\"unheld_forks\"} 0\n"
		"# HELP memobs_phase_current The newest open phase, always 1.\n"
		"# TYPE memobs_phase_current gauge\n"
		"memobs_phase_current{phase=\"main\"} 1\n"
		"# HELP memobs_phase_open 1 while the phase is open, 0 once closed.\n"
		"# TYPE memobs_phase_open gauge\n"
		"memobs_phase_open{phase=\"main\"} 1\n"
		"memobs_phase_open{phase=\"render\"} 0\n"
		"# HELP memobs_phase_duration_seconds Duration of the phase (so far while open).\n"
		"# TYPE memobs_phase_duration_seconds gauge\n"
		"memobs_phase_duration_seconds{phase=\"main\"} 2.500\n"
		"memobs_phase_duration_seconds{phase=\"render\"} 1.250\n"
		"# HELP memobs_phase_rss_peak_over_baseline_bytes Highest session RSS while the phase was open, minus the RSS when it began.\n"
		"# TYPE memobs_phase_rss_peak_over_baseline_bytes gauge\n"
		"memobs_phase_rss_peak_over_baseline_bytes{phase=\"main\"} 4194304\n"
		"memobs_phase_rss_peak_over_baseline_bytes{phase=\"render\"} 1048576\n"
		"# HELP memobs_phases_other Phase names seen but not listed (cardinality bound).\n"
		"# TYPE memobs_phases_other gauge\n"
		"memobs_phases_other 0\n"
		"# HELP memobs_process_rss_bytes RSS of the process now, by kind (sum of the kinds: its RSS).\n"
		"# TYPE memobs_process_rss_bytes gauge\n"
		"memobs_process_rss_bytes{pid=\"42\",comm=\"cc1\",kind=\"anon\"} 3145728\n"
		"memobs_process_rss_bytes{pid=\"42\",comm=\"cc1\",kind=\"file\"} 1048576\n"
		"memobs_process_rss_bytes{pid=\"42\",comm=\"cc1\",kind=\"shmem\"} 0\n"
		"# HELP memobs_process_swap_bytes Swap of the process now.\n"
		"# TYPE memobs_process_swap_bytes gauge\n"
		"memobs_process_swap_bytes{pid=\"42\",comm=\"cc1\"} 4096\n"
		"# HELP memobs_process_rss_peak_bytes Highest RSS of the process so far.\n"
		"# TYPE memobs_process_rss_peak_bytes gauge\n"
		"memobs_process_rss_peak_bytes{pid=\"42\",comm=\"cc1\"} 4194304\n"
		"# HELP memobs_processes_other Observed processes not listed, the smallest by RSS (cardinality bound).\n"
		"# TYPE memobs_processes_other gauge\n"
		"memobs_processes_other 0\n"
		"# HELP memobs_processes_other_rss_bytes RSS of the processes not listed, summed, by kind.\n"
		"# TYPE memobs_processes_other_rss_bytes gauge\n"
		"memobs_processes_other_rss_bytes{kind=\"anon\"} 0\n"
		"memobs_processes_other_rss_bytes{kind=\"file\"} 0\n"
		"memobs_processes_other_rss_bytes{kind=\"shmem\"} 0\n"
		"# HELP memobs_cgroup_rss_bytes RSS of the observed processes of the cgroup now, summed, by kind.\n"
		"# TYPE memobs_cgroup_rss_bytes gauge\n"
		"memobs_cgroup_rss_bytes{cgroup=\"/build.slice\",kind=\"anon\"} 3145728\n"
		"memobs_cgroup_rss_bytes{cgroup=\"/build.slice\",kind=\"file\"} 1048576\n"
		"memobs_cgroup_rss_bytes{cgroup=\"/build.slice\",kind=\"shmem\"} 0\n"
		"# HELP memobs_cgroup_rss_peak_bytes Highest memobs_cgroup_rss_bytes sum seen so far (sampled when memobs takes a snapshot).\n"
		"# TYPE memobs_cgroup_rss_peak_bytes gauge\n"
		"memobs_cgroup_rss_peak_bytes{cgroup=\"/build.slice\"} 4194304\n"
		"# HELP memobs_cgroup_processes Observed processes of the cgroup alive now.\n"
		"# TYPE memobs_cgroup_processes gauge\n"
		"memobs_cgroup_processes{cgroup=\"/build.slice\"} 1\n"
		"# HELP memobs_cgroups_other Cgroups not listed, the smallest by RSS (cardinality bound).\n"
		"# TYPE memobs_cgroups_other gauge\n"
		"memobs_cgroups_other 0\n"
		"# HELP memobs_cgroups_other_rss_bytes RSS of the cgroups not listed, summed, by kind.\n"
		"# TYPE memobs_cgroups_other_rss_bytes gauge\n"
		"memobs_cgroups_other_rss_bytes{kind=\"anon\"} 0\n"
		"memobs_cgroups_other_rss_bytes{kind=\"file\"} 0\n"
		"memobs_cgroups_other_rss_bytes{kind=\"shmem\"} 0\n");
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	return true;
}

static bool label_is(const char *in, size_t len, const char *want)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ASSERT_TRUE(f, "open_memstream");
	prom_write_label_value(f, in, len);
	fclose(f);
	ASSERT_STR_EQ(buf, want);
	free(buf);
	return true;
}

static bool test_label_escaping(void)
{
	ASSERT_TRUE(label_is("plain", SIZE_MAX, "plain"), "label");
	ASSERT_TRUE(label_is("a\"b\\c\nd", SIZE_MAX, "a\\\"b\\\\c\\nd"), "label");
	/* Other control characters are legal in a label value: kept. */
	ASSERT_TRUE(label_is("t\tx\x1b", SIZE_MAX, "t\tx\x1b"), "label");
	/* UTF-8 kept; invalid bytes, surrogates, overlongs and a cut sequence
	 * become U+FFFD, one per byte. */
	ASSERT_TRUE(label_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", SIZE_MAX, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7"), "label");
	ASSERT_TRUE(label_is("\xff", SIZE_MAX, "\xef\xbf\xbd"), "label");
	ASSERT_TRUE(label_is("\xed\xa0\x80", SIZE_MAX, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), "label");
	ASSERT_TRUE(label_is("\xc0\xaf", SIZE_MAX, "\xef\xbf\xbd\xef\xbf\xbd"), "label");
	ASSERT_TRUE(label_is("ab\xe2\x82", SIZE_MAX, "ab\xef\xbf\xbd\xef\xbf\xbd"), "label");
	/* A comm of 16 bytes without a NUL stops at the length. */
	ASSERT_TRUE(label_is("0123456789abcdefXYZ", 16, "0123456789abcdef"), "label");
	ASSERT_TRUE(label_is("\xc3\xa9", 1, "\xef\xbf\xbd"), "label");
	ASSERT_TRUE(label_is(NULL, 5, ""), "label");
	return true;
}

static bool test_top_processes_and_the_rest(void)
{
	struct mo_prom_proc procs[] = {
		proc(1, "small", 1 * MiB, 0, NULL), proc(2, "big", 8 * MiB, 2 * MiB, NULL),
		proc(3, "tie", 4 * MiB, 0, NULL), proc(4, "tie", 2 * MiB, 2 * MiB, NULL),
		proc(5, "tiny", 0, 4096, NULL),
	};
	struct mo_prom_snapshot s = { .heap_live = -1, .procs = procs, .nprocs = 5 };
	struct mo_prom_limits lim = { .procs = 2, .cgroups = 8, .phases = 8 };
	char *text;

	procs[4].rss[MO_MEM_SHMEM] = 8192;
	text = render(&s, &lim, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "memobs_process_rss_bytes{pid=\"2\",comm=\"big\",kind=\"anon\"} 8388608\n");
	/* Ties on RSS: the lower pid is listed. */
	HAS(text, "memobs_process_rss_bytes{pid=\"3\",comm=\"tie\",kind=\"anon\"} 4194304\n");
	ASSERT_TRUE(!strstr(text, "pid=\"4\"") && !strstr(text, "pid=\"1\"") && !strstr(text, "pid=\"5\""), "%s", text);
	HAS(text, "\nmemobs_processes_other 3\n");
	HAS(text, "\nmemobs_processes_other_rss_bytes{kind=\"anon\"} 3145728\n");
	HAS(text, "\nmemobs_processes_other_rss_bytes{kind=\"file\"} 2101248\n");
	HAS(text, "\nmemobs_processes_other_rss_bytes{kind=\"shmem\"} 8192\n");
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	/* The default bound. */
	ASSERT_EQ(prom_default_limits().procs, MO_PROM_MAX_PROCS);
	return true;
}

static bool test_cgroups_summed_and_bounded(void)
{
	struct mo_prom_proc procs[] = {
		proc(1, "a1", 1 * MiB, 0, "/a"), proc(2, "b", 5 * MiB, 0, "/b"), proc(3, "a2", 2 * MiB, 1 * MiB, "/a"),
		proc(4, "none", 9 * MiB, 0, NULL), proc(5, "empty", 9 * MiB, 0, ""), proc(6, "c", 1, 0, "/c\"q"),
	};
	struct mo_prom_snapshot s = { .heap_live = -1, .procs = procs, .nprocs = 6 };
	struct mo_prom_limits lim = { .procs = 8, .cgroups = 1, .phases = 8 };
	char *text = render(&s, &lim, NULL);

	ASSERT_TRUE(text, "prom_write failed");
	/* /b (5 MiB) beats /a (4 MiB): /a and /c"q are the rest. */
	ASSERT_TRUE(strstr(text, "memobs_cgroup_rss_bytes{cgroup=\"/b\",kind=\"anon\"} 5242880\n"), "%s", text);
	HASNT(text, "cgroup=\"/a\"");
	HAS(text, "\nmemobs_cgroups_other 2\n");
	HAS(text, "\nmemobs_cgroups_other_rss_bytes{kind=\"anon\"} 3145729\n");
	HAS(text, "\nmemobs_cgroups_other_rss_bytes{kind=\"file\"} 1048576\n");
	free(text);
	lim.cgroups = 8;
	text = render(&s, &lim, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "memobs_cgroup_rss_bytes{cgroup=\"/a\",kind=\"anon\"} 3145728\n");
	HAS(text, "memobs_cgroup_rss_bytes{cgroup=\"/a\",kind=\"file\"} 1048576\n");
	HAS(text, "memobs_cgroup_processes{cgroup=\"/a\"} 2\n");
	HAS(text, "memobs_cgroup_processes{cgroup=\"/c\\\"q\"} 1\n");
	/* Processes of no known cgroup are in none. */
	HASNT(text, "cgroup=\"\"");
	HAS(text, "\nmemobs_cgroups_other 0\n");
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	return true;
}

static bool test_cgroup_peaks_across_snapshots(void)
{
	struct mo_prom_proc procs[] = { proc(1, "x", 8 * MiB, 0, "/a"), proc(2, "y", 1 * MiB, 0, "/b") };
	struct mo_prom_snapshot s = { .heap_live = -1, .procs = procs, .nprocs = 2 };
	struct mo_prom_peaks *peaks = prom_peaks__new(2);
	char *text;

	ASSERT_TRUE(peaks, "out of memory");
	ASSERT_EQ(prom_peaks__update(peaks, &s), 0);
	procs[0].rss[MO_MEM_ANON] = 7 * MiB;
	procs[0].rss[MO_MEM_FILE] = 1 * MiB + 4096;	/* a higher peak, by 4 KiB */
	ASSERT_EQ(prom_peaks__update(peaks, &s), 0);
	procs[0].rss[MO_MEM_FILE] = 0;
	procs[0].rss[MO_MEM_ANON] = 2 * MiB;
	procs[1].rss[MO_MEM_ANON] = 3 * MiB;
	text = render(&s, NULL, peaks);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "memobs_cgroup_rss_bytes{cgroup=\"/a\",kind=\"anon\"} 2097152\n");
	HAS(text, "memobs_cgroup_rss_peak_bytes{cgroup=\"/a\"} 8392704\n");
	HAS(text, "memobs_cgroup_rss_peak_bytes{cgroup=\"/b\"} 3145728\n");
	free(text);
	/* Full (2 remembered): a new cgroup replaces one no longer seen. */
	procs[1].cgroup = "/c";
	procs[1].rss[MO_MEM_ANON] = 1 * MiB;
	ASSERT_EQ(prom_peaks__update(peaks, &s), 0);
	procs[1].rss[MO_MEM_ANON] = 0;
	procs[0].rss[MO_MEM_ANON] = 1;
	text = render(&s, NULL, peaks);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "memobs_cgroup_rss_peak_bytes{cgroup=\"/a\"} 8392704\n");
	ASSERT_TRUE(strstr(text, "memobs_cgroup_rss_peak_bytes{cgroup=\"/c\"} 1048576\n"), "%s", text);
	free(text);
	/* More cgroups at once than remembered: the extra one's peak is its sum. */
	{
		struct mo_prom_proc more[] = { proc(1, "x", 1, 0, "/a"), proc(2, "y", 2, 0, "/c"), proc(3, "z", 5, 0, "/d") };

		s.procs = more;
		s.nprocs = 3;
		text = render(&s, NULL, peaks);
		ASSERT_TRUE(text, "prom_write failed");
		HAS(text, "memobs_cgroup_rss_peak_bytes{cgroup=\"/a\"} 8392704\n");
		ASSERT_TRUE(strstr(text, "memobs_cgroup_rss_peak_bytes{cgroup=\"/d\"} 5\n"), "%s", text);
		free(text);
	}
	prom_peaks__free(peaks);
	prom_peaks__free(NULL);
	return true;
}

static bool test_phases_named_once_and_bounded(void)
{
	struct mo_prom_phase phases[] = {
		{ "main", true, 10, 100, -1 },
		{ "render", false, 1, 1, -1 },
		{ "link", false, 2, 2, -1 },
		{ "render", false, 3, 3, -1 },	/* the latest "render" */
		{ "a\nb", false, 4, 4, -1 },
		{ NULL, false, 5, 5, -1 },	/* a name not read yet: skipped */
		{ "pages", true, 6, 6, -1 },
	};
	struct mo_prom_snapshot s = { .heap_live = -1, .phase = "pages", .phases = phases, .nphases = 7 };
	struct mo_prom_limits lim = { .procs = 8, .cgroups = 8, .phases = 8 };
	char *text = render(&s, &lim, NULL);

	ASSERT_TRUE(text, "prom_write failed");
	ASSERT_TRUE(strstr(text, "memobs_phase_duration_seconds{phase=\"render\"} 3.000\n"), "%s", text);
	HASNT(text, "memobs_phase_duration_seconds{phase=\"render\"} 1.000\n");
	HAS(text, "memobs_phase_rss_peak_over_baseline_bytes{phase=\"a\\nb\"} 4\n");
	HAS(text, "memobs_phase_current{phase=\"pages\"} 1\n");
	HAS(text, "memobs_phase_open{phase=\"pages\"} 1\n");
	HAS(text, "\nmemobs_phases_other 0\n");
	/* Listed in the order they began (by their latest instance). */
	ASSERT_TRUE(strstr(text, "{phase=\"main\"} 1\n") < strstr(text, "{phase=\"link\"} 0\n"), "%s", text);
	ASSERT_TRUE(strstr(text, "{phase=\"link\"} 0\n") < strstr(text, "{phase=\"render\"} 0\n"), "%s", text);
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	/* Two listed: the open ones come first, whenever they began. */
	lim.phases = 2;
	text = render(&s, &lim, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "memobs_phase_open{phase=\"main\"} 1\n");
	HAS(text, "memobs_phase_open{phase=\"pages\"} 1\n");
	HASNT(text, "phase=\"render\"");
	HAS(text, "\nmemobs_phases_other 3\n");
	free(text);
	/* Three: then the most recently begun. */
	lim.phases = 3;
	text = render(&s, &lim, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "memobs_phase_open{phase=\"a\\nb\"} 0\n");
	HASNT(text, "phase=\"render\"");
	HASNT(text, "phase=\"link\"");
	HAS(text, "\nmemobs_phases_other 2\n");
	free(text);
	return true;
}

static bool test_heap_families_only_with_heap(void)
{
	struct mo_prom_proc procs[] = { proc(1, "probed", 1, 0, NULL), proc(2, "unprobed", 2, 0, NULL) };
	struct mo_prom_phase phases[] = { { "main", true, 1, 1, 4096 } };
	struct mo_prom_snapshot s = { .heap_live = -1, .heap_peak = -1, .phases = phases, .nphases = 1,
				      .procs = procs, .nprocs = 2 };
	char *text = render(&s, NULL, NULL);

	ASSERT_TRUE(text, "prom_write failed");
	/* No heap family; the drop counter of heap blocks is always there. */
	for (const char *l = strstr(text, "heap"); l; l = strstr(l + 1, "heap"))
		ASSERT_TRUE(!strncmp(l, "heap_blocks\"}", 13), "%s", text);
	free(text);
	s.heap_live = 1000;
	s.heap_peak = 5000;
	s.alloc_bytes = 9007199254740991ULL;	/* 2^53 - 1: exact */
	s.alloc_count = 3;
	procs[0].heap_live = 600;
	text = render(&s, NULL, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	HAS(text, "\nmemobs_session_heap_live_bytes 1000\n");
	HAS(text, "\nmemobs_session_heap_peak_live_bytes 5000\n");
	HAS(text, "\nmemobs_heap_allocated_bytes_total 9007199254740991\n");
	HAS(text, "\n# TYPE memobs_heap_allocations_total counter\nmemobs_heap_allocations_total 3\n");
	HAS(text, "\nmemobs_phase_heap_peak_live_bytes{phase=\"main\"} 4096\n");
	HAS(text, "\nmemobs_process_heap_live_bytes{pid=\"1\",comm=\"probed\"} 600\n");
	HASNT(text, "memobs_process_heap_live_bytes{pid=\"2\"");
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	return true;
}

static bool test_empty_snapshot(void)
{
	struct mo_prom_snapshot s = { .heap_live = -1 };
	char *text = render(&s, NULL, NULL);

	ASSERT_TRUE(text, "prom_write failed");
	/* No family without samples; the bounded ones still say 0. */
	HASNT(text, "memobs_process_rss_bytes");
	HASNT(text, "memobs_phase_open");
	HASNT(text, "memobs_phase_current");
	HAS(text, "\nmemobs_processes_other 0\n");
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	return true;
}

/* Many processes, hostile comms and cgroups: still bounded, well formed. */
static bool test_many_and_hostile(void)
{
	enum { N = 3000 };
	struct mo_prom_proc *procs = calloc(N, sizeof(*procs));
	struct mo_prom_snapshot s = { .heap_live = -1, .procs = procs, .nprocs = N };
	static const char *cgs[] = { "/x", "/y\n", "/\xff", "" };
	char *text;
	size_t series = 0;

	ASSERT_TRUE(procs, "out of memory");
	for (int i = 0; i < N; i++) {
		procs[i] = proc(1000 + i, "w\"\\\n\xc3", (int64_t)(i % 97) * 4096, i, cgs[i % 4]);
		memset(procs[i].comm, i % 2 ? 'z' : '\xfe', sizeof(procs[i].comm));	/* no NUL */
	}
	text = render(&s, NULL, NULL);
	ASSERT_TRUE(text, "prom_write failed");
	for (const char *p = text; (p = strstr(p, "\nmemobs_process_rss_bytes{")); p++)
		series++;
	ASSERT_EQ(series, 3 * MO_PROM_MAX_PROCS);
	HAS(text, "\nmemobs_processes_other 2936\n");
	HAS(text, "comm=\"zzzzzzzzzzzzzzzz\"");
	HAS(text, "cgroup=\"/y\\n\"");
	HAS(text, "cgroup=\"/\xef\xbf\xbd\"");
	ASSERT_TRUE(well_formed(text), "in:\n%s", text);
	free(text);
	free(procs);
	return true;
}

int main(void)
{
	RUN(test_exact_text);
	RUN(test_label_escaping);
	RUN(test_top_processes_and_the_rest);
	RUN(test_cgroups_summed_and_bounded);
	RUN(test_cgroup_peaks_across_snapshots);
	RUN(test_phases_named_once_and_bounded);
	RUN(test_heap_families_only_with_heap);
	RUN(test_empty_snapshot);
	RUN(test_many_and_hostile);
	return check_summary();
}
