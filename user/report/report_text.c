// SPDX-License-Identifier: GPL-2.0
/* Every line fits TEXTFIT_WIDTH columns: commands, names and stacks are cut,
 * notes wrapped, and a column with nothing to say (heap without --heap,
 * per item without items) is left out. */
#include <stdlib.h>
#include <string.h>
#include "report/report_text.h"
#include "report/report_target.h"
#include "lib/termesc.h"
#include "lib/textfit.h"
#include "lib/units.h"

#define TOP 10
#define WIDTH TEXTFIT_WIDTH
#define NAME_COLS 22		/* the phase column, indentation included */

static const char *sz(int64_t v, char *buf, size_t len)
{
	return units_fmt_size(v, buf, len);
}

/* Why frees found no block: it was allocated before memobs attached (-p, -a),
 * or the block table was full when it was allocated (--max-allocs). */
static const char *untracked_why(const struct mo_run *run)
{
	bool attached = !run->command, full = run->drops[MO_DROP_HEAP_BLOCKS];

	if (attached && full)
		return ": allocated before memobs attached, or past --max-allocs live blocks";
	if (full)
		return ": allocated while --max-allocs blocks were live";
	return attached ? ": allocated before memobs attached" : "";
}

/* The tree's physical peak, said so that nobody takes it for the RSS sum. */
static void print_physical(FILE *out, const struct mo_physical *ph)
{
	char a[32], b[32], c[32], d[32], why[1024], text[2048];
	int n;

	if (ph->why)
		termesc(ph->why, why, sizeof(why));
	if (ph->source == MO_PHYSICAL_NONE || ph->peak < 0) {
		snprintf(text, sizeof(text), "not measured%s%s%s", ph->why ? " (" : "", ph->why ? why : "",
			 ph->why ? ")" : "");
		textfit_wrap(out, text, WIDTH, "  session peak physical: ", "    ");
		return;
	}
	n = snprintf(text, sizeof(text), "%s", sz(ph->peak, a, sizeof(a)));
	if (ph->source == MO_PHYSICAL_PSS)
		n = textfit_appendf(text, sizeof(text), n, " (PSS of the live processes summed, sampled every %.2f s or "
			      "more: a shared page split among the processes that map it; unmapped page cache and "
			      "kernel memory not counted;", ph->interval_s);
	else
		n = textfit_appendf(text, sizeof(text), n, " (the kernel's charge to the command's memory cgroup %s, "
			      "each page once;", ph->source == MO_PHYSICAL_CGROUP_V1 ? "v1" : "v2");
	n = textfit_appendf(text, sizeof(text), n, " at the highest sample: anon %s, page cache %s",
		      sz(ph->at_peak.anon, b, sizeof(b)), sz(ph->at_peak.file, c, sizeof(c)));
	if (ph->at_peak.kernel >= 0)
		n = textfit_appendf(text, sizeof(text), n, ", kernel %s", sz(ph->at_peak.kernel, d, sizeof(d)));
	if (ph->max.file > ph->at_peak.file)
		n = textfit_appendf(text, sizeof(text), n, "; page cache up to %s", sz(ph->max.file, b, sizeof(b)));
	textfit_appendf(text, sizeof(text), n, ")%s%s%s", ph->source == MO_PHYSICAL_PSS && ph->why ? " (PSS because " : "",
		 ph->source == MO_PHYSICAL_PSS && ph->why ? why : "", ph->source == MO_PHYSICAL_PSS && ph->why ? ")" : "");
	textfit_wrap(out, text, WIDTH, "  session peak physical ", "    ");
}

/* Indices of the workload's processes (not those running memobs itself)
 * alive at t, or all of them for t < 0, by descending peak RSS. Caller
 * frees; NULL when there are none (or on ENOMEM). */
static size_t *procs_by_peak(const struct mo_run *run, double t, size_t *n)
{
	size_t *idx = malloc((run->nprocs ? run->nprocs : 1) * sizeof(*idx));

	*n = 0;
	for (size_t i = 0; idx && i < run->nprocs; i++) {
		const struct mo_proc_rec *p = &run->procs[i];

		if (!p->observer && (t < 0 || (p->start_s <= t && (p->end_s < 0 || p->end_s >= t))))
			idx[(*n)++] = i;
	}
	if (!*n) {
		free(idx);
		return NULL;
	}
	qsort_r(idx, *n, sizeof(*idx), run_cmp_procs_by_peak, (void *)run);
	return idx;
}

/* The innermost phase open at t. */
static size_t phase_at_time(const struct mo_run *run, double t)
{
	size_t found = MO_RUN_ROOT;

	for (size_t i = MO_RUN_ROOT + 1; i < run->nphases; i++)
		if (run->phases[i].start_s <= t && t <= run->phases[i].end_s &&
		    run->phases[i].depth >= run->phases[found].depth)
			found = i;
	return found;
}

/* When the session peaked, what it was made of, and who was alive then. */
static void print_peak(FILE *out, const struct mo_run *run)
{
	char a[32], b[32], name[4 * MO_RUN_NAME_LEN], line[WIDTH + 1], comm[4 * MO_RUN_COMM_LEN], text[512];
	size_t n, shown = 0, used, phase;
	size_t *alive;

	n = snprintf(text, sizeof(text), "%s", sz(run->rss_peak, a, sizeof(a)));
	phase = run->rss_peak_s < 0 ? MO_RUN_ROOT : phase_at_time(run, run->rss_peak_s);
	if (run->rss_peak_s >= 0)
		n = textfit_appendf(text, sizeof(text), n, " at %.2f s", run->rss_peak_s);
	if (phase != MO_RUN_ROOT)
		n = textfit_appendf(text, sizeof(text), n, " (in phase %s)",
			      textfit_cut(termesc_name(run->phases[phase].name, name, sizeof(name)), 24, false, line,
					  sizeof(line)));
	if (run->rss_peak_s >= 0)
		n = textfit_appendf(text, sizeof(text), n, ", %s of it anon", sz(run->rss_at_peak[MO_MEM_ANON], b, sizeof(b)));
	textfit_appendf(text, sizeof(text), n, " (ps-style sum: a page shared by N processes counts N times)");
	textfit_wrap(out, text, WIDTH, "  session peak RSS ", "    ");
	if (run->rss_peak_s < 0)
		return;
	alive = procs_by_peak(run, run->rss_peak_s, &n);
	if (!alive)
		return;
	used = fprintf(out, "  alive then (each at its own peak):");
	for (; shown < n; shown++) {
		const struct mo_proc_rec *p = &run->procs[alive[shown]];

		snprintf(line, sizeof(line), "%s %s %s", shown ? "," : "", termesc(p->comm, comm, sizeof(comm)),
			 sz(p->rss_peak, a, sizeof(a)));
		/* Room for ", +N more" after it unless it is the last. */
		if (used + textfit_cols(line) + (shown + 1 < n ? 12 : 0) > WIDTH)
			break;
		used += fprintf(out, "%s", line);
	}
	if (shown < n)
		fprintf(out, "%s +%zu more", shown ? "," : "", n - shown);
	fputc('\n', out);
	free(alive);
}

static void print_header(FILE *out, const struct mo_run *run)
{
	char a[32], b[32], c[32], status[32] = "", tail[128], target[4 * WIDTH], text[512];
	int n;

	if (run->exit_status >= 0)
		snprintf(status, sizeof(status), ", exit %d", run->exit_status);
	/* Cut, never overrun, when a document's duration is absurdly long. */
	snprintf(tail, sizeof(tail), "  (%.2f s, %zu process%s%s)", run->duration_s, run->nprocs,
		 run->nprocs == 1 ? "" : "es", status);
	report_target(run, WIDTH - strlen("memobs: ") - strlen(tail), target, sizeof(target));
	fprintf(out, "memobs: %s%s\n", target, tail);
	print_peak(out, run);
	print_physical(out, &run->physical);
	if (!run->heap)
		return;
	n = snprintf(text, sizeof(text), "peak live %s; allocated %s in %llu calls; freed %s in %llu calls",
		     sz(run->heap_peak, a, sizeof(a)), sz(run->alloc_bytes, b, sizeof(b)),
		     (unsigned long long)run->alloc_count, sz(run->free_bytes, c, sizeof(c)),
		     (unsigned long long)run->free_count);
	if (run->free_unknown_count)
		textfit_appendf(text, sizeof(text), n, "; %llu frees of untracked blocks%s",
			 (unsigned long long)run->free_unknown_count, untracked_why(run));
	textfit_wrap(out, text, WIDTH, "  heap: ", "        ");
}

/* The innermost Python frame of a stack (its source is a .py file),
 * counted from the leaf (>= 1), or 0 when it has none past the leaf. */
static size_t python_caller(char **frames, size_t n, const struct mo_site_where *where)
{
	for (size_t k = 1; where->sources && k < n; k++)
		if (strstr(where->sources[n - 1 - k], ".py:"))
			return k;
	(void)frames;
	return 0;
}

/* "leaf (file.c:42) <- caller <- caller" in at most cols columns: as many
 * callers as fit (at most 3), " <- ..." when some are left out; the leaf's
 * source file without its directory. A Python program's innermost Python
 * function is always named, with its file:line: it is the program's own code. */
static const char *fit_frames(char **frames, size_t n, const struct mo_site_where *where, size_t cols, char *buf,
			      size_t len)
{
	const char *src = where->sources && n ? where->sources[n - 1] : "";
	const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	char name[512], file[256], part[600], leaf[1200], py[900] = "";
	size_t i = 1, used, leaf_cols, k = python_caller(frames, n, where), stop = k ? k : n;

	if (!n) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (k) {
		const char *ps = where->sources[n - 1 - k], *pb = strrchr(ps, '/') ? strrchr(ps, '/') + 1 : ps;

		snprintf(py, sizeof(py), " <- %s (%s)", termesc(frames[n - 1 - k], name, sizeof(name)),
			 termesc(pb, file, sizeof(file)));
	}
	termesc(frames[n - 1], name, sizeof(name));
	termesc(base, file, sizeof(file));
	/* Room for the Python caller first, when there is room at all. */
	leaf_cols = *py && textfit_cols(py) + 20 <= cols ? cols - textfit_cols(py) : cols;
	/* The function first; its file:line shortened from the left (the line
	 * tells sites of one function apart), or left out. */
	if (*base && textfit_cols(name) + 3 + 12 <= leaf_cols) {
		textfit_cut(file, leaf_cols - textfit_cols(name) - 3, true, part, sizeof(part));
		snprintf(leaf, sizeof(leaf), "%s (%s)", name, part);
	} else {
		snprintf(leaf, sizeof(leaf), "%s", name);
	}
	textfit_cut(leaf, leaf_cols, false, buf, len);
	used = textfit_cols(buf) + textfit_cols(py);
	for (; i < stop && i < 4; i++) {
		snprintf(part, sizeof(part), " <- %s", termesc(frames[n - 1 - i], name, sizeof(name)));
		if (used + textfit_cols(part) + (i + 1 < n ? 7 : 0) > cols)
			break;
		used += textfit_cols(part);
		strncat(buf, part, len - strlen(buf) - 1);
	}
	if (i < stop && used + 7 <= cols)
		strncat(buf, " <- ...", len - strlen(buf) - 1);
	if (k && textfit_cols(buf) + textfit_cols(py) <= cols)
		strncat(buf, py, len - strlen(buf) - 1);
	else if (k && i == k && i < n && textfit_cols(buf) + 7 <= cols)
		strncat(buf, " <- ...", len - strlen(buf) - 1);
	return buf;
}

/* The program and stack columns of a site's row, after `used` columns. */
static void print_site_where(FILE *out, size_t used, char **frames, size_t n, const struct mo_site_where *where)
{
	char comm[4 * MO_RUN_COMM_LEN], buf[4 * WIDTH];
	const char *prog = where->comm ? termesc(where->comm, comm, sizeof(comm)) : "-";
	size_t cols = textfit_cols(prog) > 15 ? textfit_cols(prog) : 15;

	fprintf(out, "%-*s ", textfit_pad(prog, 15), prog);
	used += cols + 1;
	fprintf(out, "%s\n", fit_frames(frames, n, where, used + 20 < WIDTH ? WIDTH - used : 20, buf, sizeof(buf)));
}

/* What grew most in each phase (the root's is what is live at the end, listed
 * with the stacks); what is live at a phase's end is in the run document. */
static void print_phase_grown_sites(FILE *out, const struct mo_run *run)
{
	bool any = false;

	for (size_t i = MO_RUN_ROOT + 1; i < run->nphases; i++) {
		const struct mo_phase_site *site = &run->phases[i].sites[MO_PHASE_GROWN][0];
		char a[32], esc[4 * MO_RUN_NAME_LEN], name[64];

		if (!run->phases[i].nsites[MO_PHASE_GROWN])
			continue;
		if (!any)
			fprintf(out, "\n  heap site that grew most in each phase (phase, growth, program, stack):\n");
		any = true;
		termesc_name(run->phases[i].name, esc, sizeof(esc));
		textfit_cut(esc, NAME_COLS, false, name, sizeof(name));
		fprintf(out, "  %-*s %10s  ", textfit_pad(name, NAME_COLS), name, sz(site->bytes, a, sizeof(a)));
		print_site_where(out, 2 + NAME_COLS + 1 + 10 + 2, site->frames, site->nframes, &site->where);
	}
}

static void phase_name(const struct mo_phase_rec *ph, char *buf, size_t len)
{
	char esc[4 * MO_RUN_NAME_LEN];

	snprintf(buf, len, "%*s%s%s", (int)(2 * ph->depth), "",
		 ph->name_unread ? "(name unread)" : termesc_name(ph->name, esc, sizeof(esc)),
		 ph->unclosed ? " (unclosed)" : "");
}

static void print_phase_row(FILE *out, const struct mo_run *run, const struct mo_phase_rec *ph, bool items)
{
	char name[4 * MO_RUN_NAME_LEN + 48], a[32], b[32], c[32], per[32] = "-";

	phase_name(ph, name, sizeof(name));
	/* A name longer than its column gets a line of its own. */
	if (textfit_cols(name) > NAME_COLS) {
		fprintf(out, "  %s\n", name);
		name[0] = 0;
	}
	if (ph->items_overflow)
		snprintf(per, sizeof(per), "overflow");
	else if (ph->items)
		sz((ph->rss_peak - ph->rss_baseline) / (int64_t)ph->items, per, sizeof(per));
	fprintf(out, "  %-*s %8.2fs %10s %10s %10s", textfit_pad(name, NAME_COLS), name, ph->end_s - ph->start_s,
		sz(ph->rss_baseline, a, sizeof(a)), sz(ph->rss_peak, b, sizeof(b)),
		sz(ph->rss_peak - ph->rss_baseline, c, sizeof(c)));
	if (items)
		fprintf(out, " %10s", per);
	if (run->heap)
		fprintf(out, " %10s %10s", sz(ph->heap_peak - ph->heap_baseline, a, sizeof(a)),
			sz(ph->alloc_bytes, b, sizeof(b)));
	fputc('\n', out);
}

static void print_phases(FILE *out, const struct mo_run *run)
{
	bool items = false;

	for (size_t i = 0; i < run->nphases; i++)
		items |= run->phases[i].items || run->phases[i].items_overflow;
	if (run->nphases <= 1 && !items)
		return;
	fprintf(out, "\n  %-*s %9s %10s %10s %10s", NAME_COLS, "phase", "duration", "start RSS", "peak RSS",
		"peak-start");
	if (items)
		fprintf(out, " %10s", "RSS/item");
	if (run->heap)
		fprintf(out, " %10s %10s", "heap peak+", "allocated");
	fputc('\n', out);
	for (size_t i = 0; i < run->nphases; i++)
		print_phase_row(out, run, &run->phases[i], items);
	textfit_wrap(out,
		     run->heap ? "RSS is the session's (every process); peak-start: how much the phase raised it"
				 "; heap peak+: the same for live heap; allocated: in the phase itself, nested phases"
				 " apart." :
				 "RSS is the session's (every process); peak-start: how much the phase raised it.",
		     WIDTH, "  ", "  ");
	if (items)
		textfit_wrap(out, "RSS/item: peak-start divided by the items the phase counted (items markers).",
			     WIDTH, "  ", "  ");
	print_phase_grown_sites(out, run);
}

static void print_processes(FILE *out, const struct mo_run *run)
{
	size_t n, *idx = procs_by_peak(run, -1, &n);

	if (!idx)
		return;
	fprintf(out, "\n  top processes by peak RSS (%zu of %zu; anon and file at their own peaks):\n"
		"  %8s %-16s %11s %11s %11s", n < TOP ? n : TOP, n, "pid", "comm", "peak RSS", "anon", "file");
	if (run->heap)
		fprintf(out, " %11s", "heap peak");
	fprintf(out, " %6s\n", "exit");
	for (size_t i = 0; i < n && i < TOP; i++) {
		const struct mo_proc_rec *p = &run->procs[idx[i]];
		char a[32], b[32], c[32], d[32], ex[16], comm[4 * MO_RUN_COMM_LEN];

		if (!p->exited)
			snprintf(ex, sizeof(ex), "alive");
		else if (p->exit_status < 0)
			snprintf(ex, sizeof(ex), "?");
		else
			snprintf(ex, sizeof(ex), "%d", p->exit_status);
		termesc(p->comm, comm, sizeof(comm));
		fprintf(out, "  %8d %-*s %11s %11s %11s", p->pid, textfit_pad(comm, 16), comm,
			sz(p->rss_peak, a, sizeof(a)), sz(p->rss_peak_member[MO_MEM_ANON], b, sizeof(b)),
			sz(p->rss_peak_member[MO_MEM_FILE], c, sizeof(c)));
		if (run->heap)
			fprintf(out, " %11s", p->heap_probed ? sz(p->heap_peak_live, d, sizeof(d)) : "no probes");
		fprintf(out, " %6s\n", ex);
	}
	free(idx);
}

static void print_commands(FILE *out, const struct mo_run *run)
{
	size_t n = 0;
	struct mo_proc_group *g = run_group_by(run, MO_GROUP_COMM, &n);

	if (g && n > 1) {
		fprintf(out, "\n  by command:\n  %-16s %9s %13s", "comm", "processes", "max peak RSS");
		fprintf(out, run->heap ? " %12s\n" : "\n", "allocated");
		for (size_t i = 0; i < n && i < TOP; i++) {
			char a[32], b[32], comm[4 * MO_RUN_COMM_LEN];

			termesc(g[i].name, comm, sizeof(comm));
			fprintf(out, "  %-*s %9zu %13s", textfit_pad(comm, 16), comm, g[i].processes,
				sz(g[i].rss_peak_max, a, sizeof(a)));
			if (run->heap)
				fprintf(out, " %12s", sz(g[i].heap_alloc_bytes, b, sizeof(b)));
			fputc('\n', out);
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
		if (!run->procs[i].observer && run_proc_growth_rate(run, &run->procs[i]) > 0)
			idx[n++] = i;
	if (n) {
		qsort_r(idx, n, sizeof(*idx), cmp_growth, (void *)run);
		fprintf(out, "\n  top growers (RSS growth over the time observed, at least %.0f s):\n"
			"  %8s %-16s %11s %11s %13s\n", MO_GROWTH_MIN_S, "pid", "comm", "first RSS", "last RSS", "growth");
		for (size_t i = 0; i < n && i < TOP; i++) {
			const struct mo_proc_rec *p = &run->procs[idx[i]];
			char a[32], b[32], c[32], comm[4 * MO_RUN_COMM_LEN];

			termesc(p->comm, comm, sizeof(comm));
			fprintf(out, "  %8d %-*s %11s %11s %11s/s\n", p->pid, textfit_pad(comm, 16), comm,
				sz(p->rss_first, a, sizeof(a)), sz(p->rss_end, b, sizeof(b)),
				sz(run_proc_growth_rate(run, p), c, sizeof(c)));
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
			char a[32], b[32], esc[1024], name[256];

			/* A cgroup path's end names it: the start goes. */
			textfit_cut(termesc(g[i].name, esc, sizeof(esc)), 40, true, name, sizeof(name));
			fprintf(out, "  %-*s %9zu %13s %13s\n", textfit_pad(name, 40), name,
				g[i].processes, sz(g[i].rss_peak_max, a, sizeof(a)), sz(g[i].rss_peak_sum, b, sizeof(b)));
		}
	}
	free(g);
}

static void print_sites(FILE *out, const struct mo_run *run, enum mo_site_of kind, bool by_live, const char *title)
{
	size_t idx[TOP], n = run_top_sites(run, kind, by_live, idx, TOP);

	if (!n)
		return;
	fprintf(out, "\n  %s:\n", title);
	for (size_t i = 0; i < n; i++) {
		const struct mo_site_rec *site = &run->sites[idx[i]];
		char a[32];

		fprintf(out, "  %10s %8llu  ", sz(by_live ? site->live : (int64_t)site->bytes, a, sizeof(a)),
			(unsigned long long)site->count);
		print_site_where(out, 2 + 10 + 1 + 8 + 2, site->frames, site->nframes, &site->where);
	}
}

static void print_stacks(FILE *out, const struct mo_run *run)
{
	char note[256];

	print_sites(out, run, MO_SITE_OF_ALLOC, false, "top allocation sites (sampled; bytes, calls, program, stack)");
	print_sites(out, run, MO_SITE_OF_ALLOC, true, "top live (leaked) bytes by site at the end (program, stack)");
	print_sites(out, run, MO_SITE_OF_RSS, false, "code that made RSS grow (sampled; bytes, pages, program, stack)");
	if (run->nstacks && run->short_stacks * 2 > run->nstacks) {
		snprintf(note, sizeof(note), "%zu of %zu stacks have at most 2 frames: code without call frame"
			 " information or frame pointers, or processes gone before memobs could read their files",
			 run->short_stacks, run->nstacks);
		textfit_wrap(out, note, WIDTH, "  note: ", "        ");
	}
}

static void print_drops(FILE *out, const struct mo_run *run)
{
	struct mo_drop_row rows[MO_DROP_KINDS];
	size_t n = run_drop_rows(run, rows), len = 0;
	char text[2048] = "none", line[2048];

	for (size_t i = 0; i < n; i++)
		len = textfit_appendf(text, sizeof(text), len, "%s%s %llu", i ? ", " : "", rows[i].what,
				(unsigned long long)rows[i].n);
	fputc('\n', out);
	textfit_wrap(out, text, WIDTH, "  drops: ", "         ");
	n = 0;
	for (size_t i = 0; i < run->nprocs; i++)
		n += run->procs[i].argv_truncated;
	if (n) {
		snprintf(line, sizeof(line), "the command lines of %zu process%s are cut (argv_truncated): longer than"
			 " 32 KiB, or past 512 bytes of a process gone before memobs read the rest", n,
			 n == 1 ? "" : "es");
		textfit_wrap(out, line, WIDTH, "  note: ", "        ");
	}
	for (size_t i = 0; i < run->nwarnings; i++)
		textfit_wrap(out, run->warnings[i] ? termesc(run->warnings[i], line, sizeof(line)) : "?", WIDTH,
			     "  warning: ", "           ");
}

/* Processes with the same note (why their heap was not observed, or which
 * heap malloc does not see), one line per note: how many, the first few. */
static void print_heap_notes(FILE *out, const struct mo_run *run, bool unseen, const char *title)
{
	const char *notes[8];
	size_t nnotes = 0, total = 0;

	for (size_t i = 0; i < run->nprocs; i++) {
		const char *note = unseen ? run->procs[i].heap_unseen : run->procs[i].heap_unobserved;
		size_t k = 0;

		if (!note || run->procs[i].observer)
			continue;
		total++;
		while (k < nnotes && strcmp(notes[k], note))
			k++;
		if (k == nnotes && nnotes < sizeof(notes) / sizeof(notes[0]))
			notes[nnotes++] = note;
	}
	if (!total)
		return;
	fprintf(out, "\n  %s (%zu process%s):\n", title, total, total == 1 ? "" : "es");
	for (size_t k = 0; k < nnotes; k++) {
		char text[1024], comm[4 * MO_RUN_COMM_LEN];
		size_t n = 0, shown = 0, count = 0;

		for (size_t i = 0; i < run->nprocs; i++) {
			const struct mo_proc_rec *p = &run->procs[i];
			const char *note = unseen ? p->heap_unseen : p->heap_unobserved;

			if (!note || p->observer || strcmp(note, notes[k]))
				continue;
			if (shown++ < 3) {
				termesc(p->comm, comm, sizeof(comm));
				n = textfit_appendf(text, sizeof(text), n, "%s%s (pid %d)", shown > 1 ? ", " : "",
						    comm, p->pid);
			}
			count++;
		}
		if (count > 3)
			n = textfit_appendf(text, sizeof(text), n, ", +%zu more", count - 3);
		textfit_appendf(text, sizeof(text), n, ": %s", notes[k]);
		textfit_wrap(out, text, WIDTH, "    ", "      ");
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
	if (run->heap) {
		print_heap_notes(out, run, false, "programs whose heap was not observed");
		print_heap_notes(out, run, true, "heaps of their own that malloc does not see");
	}
	if (run->host_wide) {
		print_groups(out, run, MO_GROUP_CGROUP);
		print_groups(out, run, MO_GROUP_USER);
	}
	print_stacks(out, run);
	print_drops(out, run);
}
