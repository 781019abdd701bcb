// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "report/report_text.h"
#include "report/report_target.h"
#include "lib/termesc.h"
#include "lib/textfit.h"
#include "lib/units.h"

#define TOP 10

static const char *sz(int64_t v, char *buf, size_t len)
{
	return units_fmt_size(v, buf, len);
}

/* Why frees found no block: it was allocated before memobs attached (-p, -a),
 * or the block table was full when it was allocated (--max-allocs). */
static const char *untracked_why(const struct mo_run *run)
{
	bool attached = !run->command, full = run->drops.allocs;

	if (attached && full)
		return ": allocated before memobs attached, or past --max-allocs live blocks";
	if (full)
		return ": allocated while --max-allocs blocks were live";
	return attached ? ": allocated before memobs attached" : "";
}

/* The tree's physical peak, said so that nobody takes it for the RSS sum. */
static void print_physical(FILE *out, const struct mo_physical *ph)
{
	char a[32], b[32], c[32], d[32], why[1024];

	if (ph->why)
		termesc(ph->why, why, sizeof(why));
	if (ph->source == MO_PHYSICAL_NONE || ph->peak < 0) {
		fprintf(out, "  session peak physical: not measured%s%s%s\n", ph->why ? " (" : "", ph->why ? why : "",
			ph->why ? ")" : "");
		return;
	}
	fprintf(out, "  session peak physical %s", sz(ph->peak, a, sizeof(a)));
	if (ph->source == MO_PHYSICAL_PSS)
		fprintf(out, " (PSS of the live processes summed, sampled every %.2f s or more: a shared page split "
			"among the processes that map it; unmapped page cache and kernel memory not counted;",
			ph->interval_s);
	else
		fprintf(out, " (the kernel's charge to the command's memory cgroup %s, each page once;",
			ph->source == MO_PHYSICAL_CGROUP_V1 ? "v1" : "v2");
	fprintf(out, " at the highest sample: anon %s, page cache %s", sz(ph->at_peak.anon, b, sizeof(b)),
		sz(ph->at_peak.file, c, sizeof(c)));
	if (ph->at_peak.kernel >= 0)
		fprintf(out, ", kernel %s", sz(ph->at_peak.kernel, d, sizeof(d)));
	if (ph->max.file > ph->at_peak.file)
		fprintf(out, "; page cache up to %s", sz(ph->max.file, b, sizeof(b)));
	fprintf(out, ")\n");
	if (ph->source == MO_PHYSICAL_PSS && ph->why)
		fprintf(out, "    (PSS because %s)\n", why);
}

static void print_header(FILE *out, const struct mo_run *run)
{
	char a[32], tail[128], target[4 * TEXTFIT_WIDTH];
	int n;

	n = snprintf(tail, sizeof(tail), "  (%.2f s, %zu process%s", run->duration_s, run->nprocs,
		     run->nprocs == 1 ? "" : "es");
	if (run->exit_status >= 0)
		n += snprintf(tail + n, sizeof(tail) - n, ", exit %d", run->exit_status);
	snprintf(tail + n, sizeof(tail) - n, ")");
	report_target(run, TEXTFIT_WIDTH - strlen("memobs: ") - strlen(tail), target, sizeof(target));
	fprintf(out, "memobs: %s%s\n", target, tail);
	fprintf(out, "  session peak RSS %s (the sum over processes, ps-style: a page shared by N processes "
		"counts N times)\n", sz(run->rss_peak, a, sizeof(a)));
	print_physical(out, &run->physical);
	if (run->heap) {
		char b[32], c[32];

		fprintf(out, "  heap: peak live %s, allocated %s in %llu calls, freed %s in %llu calls",
			sz(run->heap_peak, a, sizeof(a)), sz(run->alloc_bytes, b, sizeof(b)),
			(unsigned long long)run->alloc_count, sz(run->free_bytes, c, sizeof(c)),
			(unsigned long long)run->free_count);
		if (run->free_unknown_count)
			fprintf(out, " (+%llu frees of untracked blocks%s)", (unsigned long long)run->free_unknown_count,
				untracked_why(run));
		fputc('\n', out);
	}
}

/* "leaf (file.c:42) <- caller <- caller" (at most 4 frames; the leaf's
 * source file without its directory). */
static void print_frames(FILE *out, char **frames, size_t n, const struct mo_site_where *where)
{
	const char *src = where->sources && n ? where->sources[n - 1] : "";
	const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	char name[512];

	for (size_t i = 0; i < n && i < 4; i++) {
		fprintf(out, "%s%s", i ? " <- " : "", termesc(frames[n - 1 - i], name, sizeof(name)));
		if (!i && *base)
			fprintf(out, " (%s)", termesc(base, name, sizeof(name)));
	}
	if (n > 4)
		fprintf(out, " <- ...");
}

/* What grew in each phase (the root's is what is live at the end, listed
 * with the stacks); what is live at a phase's end is in the run document. */
static void print_phase_grown_sites(FILE *out, const struct mo_run *run)
{
	for (size_t i = MO_PHASE_ROOT + 1; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		const struct mo_phase_site *top = &ph->sites[MO_PHASE_GROWN][0];
		char a[32], name[4 * MO_NAME_LEN];

		if (!ph->nsites[MO_PHASE_GROWN])
			continue;
		fprintf(out, "  phase %s: grew most ", termesc_name(ph->name, name, sizeof(name)));
		if (top->where.comm)
			fprintf(out, "in %s ", termesc(top->where.comm, name, sizeof(name)));
		fprintf(out, "at ");
		print_frames(out, top->frames, top->nframes, &top->where);
		fprintf(out, " (+%s during it)\n", sz(top->bytes, a, sizeof(a)));
	}
}

static void print_phases(FILE *out, const struct mo_run *run)
{
	if (run->nphases <= 1 && !(run->nphases == 1 && run->phases[0].items))
		return;
	fprintf(out, "\n  %-24s %9s  %-36s %12s %12s %12s\n", "phase", "duration", "RSS baseline -> peak (+over)",
		"heap +over", "alloc", "per item");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct mo_phase_rec *ph = &run->phases[i];
		char name[4 * MO_NAME_LEN + 48], esc[4 * MO_NAME_LEN], rss[96], a[32], b[32], c[32], d[32], e[32];
		char per[32] = "";

		snprintf(name, sizeof(name), "%*s%s%s", (int)(2 * ph->depth), "", termesc_name(ph->name, esc, sizeof(esc)),
			 ph->unclosed ? " (unclosed)" : "");
		snprintf(rss, sizeof(rss), "%s -> %s (+%s)", sz(ph->rss_baseline, a, sizeof(a)), sz(ph->rss_peak, b, sizeof(b)),
			 sz(ph->rss_peak - ph->rss_baseline, c, sizeof(c)));
		if (ph->items_overflow)
			snprintf(per, sizeof(per), "overflow");
		else if (ph->items)
			snprintf(per, sizeof(per), "%s/item",
				 sz((ph->rss_peak - ph->rss_baseline) / (int64_t)ph->items, e, sizeof(e)));
		fprintf(out, "  %-24s %8.2fs  %-36s %12s %12s %12s\n", name, ph->end_s - ph->start_s, rss,
			run->heap ? sz(ph->heap_peak - ph->heap_baseline, d, sizeof(d)) : "-",
			run->heap ? sz(ph->alloc_bytes, e, sizeof(e)) : "-", per);
	}
	print_phase_grown_sites(out, run);
}

static int cmp_peak(const void *a, const void *b, void *arg)
{
	const struct mo_run *run = arg;
	int64_t x = run->procs[*(const size_t *)a].rss_peak, y = run->procs[*(const size_t *)b].rss_peak;

	return (x < y) - (x > y);
}

static void print_processes(FILE *out, const struct mo_run *run)
{
	size_t *idx = malloc(run->nprocs * sizeof(*idx)), n = run->nprocs < TOP ? run->nprocs : TOP;

	if (!idx || !run->nprocs) {
		free(idx);
		return;
	}
	for (size_t i = 0; i < run->nprocs; i++)
		idx[i] = i;
	qsort_r(idx, run->nprocs, sizeof(*idx), cmp_peak, (void *)run);
	fprintf(out, "\n  top processes by peak RSS:\n  %8s %-16s %11s %11s %11s %11s %6s\n", "pid", "comm", "peak RSS",
		"anon", "file", "heap peak", "exit");
	for (size_t i = 0; i < n; i++) {
		const struct mo_proc_rec *p = &run->procs[idx[i]];
		char a[32], b[32], c[32], d[32], ex[16], comm[4 * MO_COMM_LEN];

		if (!p->exited)
			snprintf(ex, sizeof(ex), "alive");
		else if (p->exit_status < 0)
			snprintf(ex, sizeof(ex), "?");
		else
			snprintf(ex, sizeof(ex), "%d", p->exit_status);
		fprintf(out, "  %8d %-16s %11s %11s %11s %11s %6s\n", p->pid, termesc(p->comm, comm, sizeof(comm)),
			sz(p->rss_peak, a, sizeof(a)),
			sz(p->rss_peak_member[MO_RSS_ANON], b, sizeof(b)), sz(p->rss_peak_member[MO_RSS_FILE], c, sizeof(c)),
			run->heap ? (p->heap_probed ? sz(p->heap_peak_live, d, sizeof(d)) : "no probes") : "-", ex);
	}
	free(idx);
}

static void print_commands(FILE *out, const struct mo_run *run)
{
	size_t n = 0;
	struct mo_proc_group *g = run_group_by(run, MO_GROUP_COMM, &n);

	if (g && n > 1) {
		fprintf(out, "\n  by command:\n  %-16s %9s %13s %12s\n", "comm", "processes", "max peak RSS", "allocated");
		for (size_t i = 0; i < n && i < TOP; i++) {
			char a[32], b[32], comm[4 * MO_COMM_LEN];

			fprintf(out, "  %-16s %9zu %13s %12s\n", termesc(g[i].name, comm, sizeof(comm)), g[i].processes,
				sz(g[i].rss_peak_max, a, sizeof(a)), run->heap ? sz(g[i].heap_alloc_bytes, b, sizeof(b)) : "-");
		}
	}
	free(g);
}

static int cmp_growth(const void *a, const void *b, void *arg)
{
	const struct mo_run *run = arg;
	double x = run_proc_growth_rate(run, &run->procs[*(const size_t *)a]);
	double y = run_proc_growth_rate(run, &run->procs[*(const size_t *)b]);

	return (x < y) - (x > y);
}

/* Host-wide: the processes whose RSS grew fastest over what memobs saw of them. */
static void print_growers(FILE *out, const struct mo_run *run)
{
	size_t *idx = malloc((run->nprocs ? run->nprocs : 1) * sizeof(*idx)), n = 0;

	for (size_t i = 0; idx && i < run->nprocs; i++)
		if (run_proc_growth_rate(run, &run->procs[i]) > 0)
			idx[n++] = i;
	if (n) {
		qsort_r(idx, n, sizeof(*idx), cmp_growth, (void *)run);
		fprintf(out, "\n  top growers (RSS growth over the time observed, at least %.0f s):\n"
			"  %8s %-16s %11s %11s %13s\n", MO_GROWTH_MIN_S, "pid", "comm", "first RSS", "last RSS", "growth");
		for (size_t i = 0; i < n && i < TOP; i++) {
			const struct mo_proc_rec *p = &run->procs[idx[i]];
			char a[32], b[32], c[32], comm[4 * MO_COMM_LEN];

			fprintf(out, "  %8d %-16s %11s %11s %11s/s\n", p->pid, termesc(p->comm, comm, sizeof(comm)),
				sz(p->rss_first, a, sizeof(a)),
				sz(p->rss_end, b, sizeof(b)), sz(run_proc_growth_rate(run, p), c, sizeof(c)));
		}
	}
	free(idx);
}

static void print_groups(FILE *out, const struct mo_run *run, enum mo_group_key key)
{
	size_t n = 0;
	struct mo_proc_group *g = run_group_by(run, key, &n);

	if (g && n) {
		fprintf(out, "\n  by %s:\n  %-40s %9s %13s %13s\n", key == MO_GROUP_CGROUP ? "cgroup" : "user",
			key == MO_GROUP_CGROUP ? "cgroup" : "user", "processes", "max peak RSS", "sum of peaks");
		for (size_t i = 0; i < n && i < TOP; i++) {
			char a[32], b[32], name[1024];

			fprintf(out, "  %-40s %9zu %13s %13s\n", termesc(g[i].name, name, sizeof(name)), g[i].processes,
				sz(g[i].rss_peak_max, a, sizeof(a)), sz(g[i].rss_peak_sum, b, sizeof(b)));
		}
	}
	free(g);
}

static void print_sites(FILE *out, const struct mo_run *run, enum mo_site_kind kind, bool by_live, const char *title)
{
	size_t idx[TOP], n = run_top_sites(run, kind, by_live, idx, TOP);

	if (!n)
		return;
	fprintf(out, "\n  %s:\n", title);
	for (size_t i = 0; i < n; i++) {
		const struct mo_site_rec *site = &run->sites[idx[i]];
		char a[32], comm[4 * MO_COMM_LEN];

		fprintf(out, "  %11s %10llu %-6s %-15s ", sz(by_live ? site->live : (int64_t)site->bytes, a, sizeof(a)),
			(unsigned long long)site->count, kind == MO_SITE_RSS ? "pages" : "calls",
			site->where.comm ? termesc(site->where.comm, comm, sizeof(comm)) : "-");
		print_frames(out, site->frames, site->nframes, &site->where);
		fputc('\n', out);
	}
}

static void print_stacks(FILE *out, const struct mo_run *run)
{
	print_sites(out, run, MO_SITE_ALLOC, false, "top allocation sites (sampled; bytes, calls, program, stack)");
	print_sites(out, run, MO_SITE_ALLOC, true, "top live (leaked) bytes by site at the end (program, stack)");
	print_sites(out, run, MO_SITE_RSS, false, "code that made RSS grow (sampled; bytes, pages, program, stack)");
	if (run->nstacks && run->short_stacks * 2 > run->nstacks)
		fprintf(out, "  note: %zu of %zu stacks have at most 2 frames: code without call frame information"
			" or frame pointers, or processes gone before memobs could read their files\n", run->short_stacks,
			run->nstacks);
}

static void print_drops(FILE *out, const struct mo_run *run)
{
	struct mo_drop_row rows[MO_DROP_ROWS];
	size_t n = run_drop_rows(run, rows);

	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s %llu", i ? ", " : "\n  drops: ", rows[i].what, (unsigned long long)rows[i].n);
	fprintf(out, n ? "\n" : "\n  drops: none\n");
	n = 0;
	for (size_t i = 0; i < run->nprocs; i++)
		n += run->procs[i].argv_truncated;
	if (n)
		fprintf(out, "  note: the command lines of %zu process%s are cut (argv_truncated): longer than 32 KiB, "
			"or past 512 bytes of a process gone before memobs read the rest\n", n, n == 1 ? "" : "es");
	for (size_t i = 0; i < run->nwarnings; i++) {
		char line[2048];

		fprintf(out, "  warning: %s\n", run->warnings[i] ? termesc(run->warnings[i], line, sizeof(line)) : "?");
	}
}

void report_text(FILE *out, const struct mo_run *run)
{
	print_header(out, run);
	print_phases(out, run);
	print_processes(out, run);
	if (run->host_wide)
		print_growers(out, run);
	print_commands(out, run);
	if (run->host_wide) {
		print_groups(out, run, MO_GROUP_CGROUP);
		print_groups(out, run, MO_GROUP_USER);
	}
	print_stacks(out, run);
	print_drops(out, run);
}
