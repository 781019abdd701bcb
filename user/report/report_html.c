// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "report/html.h"
#include "report/report_flame.h"
#include "report/report_html.h"
#include "report/report_svg.h"
#include "report/report_target.h"
#include "lib/units.h"
#include "lib/xmlesc.h"

#define TOP_PER_PHASE 3
#define MAX_INDENT 12		/* nesting levels shown by indentation */
#define TOP_PROCESSES 50	/* rows shown before "show all" */
#define ARGV_SHOWN 100		/* characters of a command line shown before it is folded */

/* Fits a 1400-pixel window without scrolling sideways: text cells wrap,
 * numbers do not. */
static const char style[] =
	"body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:24px auto;max-width:1360px;padding:0 16px;"
	"color:#222}\n"
	"h1{font-size:20px;margin-bottom:4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd}\n"
	"dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0}"
	"dl.meta dt{color:#666}dl.meta dd{margin:0}\n"
	".chart svg{max-width:100%;height:auto;border:1px solid #eee}\n"
	"section{overflow-x:auto}table{border-collapse:collapse;font-size:12px}"
	"th,td{padding:3px 6px;border-bottom:1px solid #eee;text-align:left;vertical-align:top;white-space:nowrap}\n"
	"td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:120px}\n"
	"table.folded tr.more{display:none}button.fold{margin:6px 0;font-size:12px}\n"
	"details.cmd summary{cursor:pointer;list-style-position:outside}details.cmd[open] summary{color:#666}\n"
	".flame{border:1px solid #eee}.flame svg{display:block;cursor:pointer}.flame text{pointer-events:none}"
	".flame-bar{margin:6px 0;font-size:12px}#flame-info{min-height:1.4em;font-family:monospace;font-size:12px}\n"
	"th{background:#f5f5f5;white-space:nowrap}td.n,th.n{text-align:right;white-space:nowrap}\n"
	"table.sortable th{cursor:pointer}th[aria-sort=ascending]::after{content:' \\25B2'}"
	"th[aria-sort=descending]::after{content:' \\25BC'}\n"
	"tr:nth-child(even) td{background:#fafafa}td.cmd{min-width:240px;max-width:420px;white-space:normal;"
	"overflow-wrap:anywhere}\n"
	".stack{font-family:monospace;white-space:normal;overflow-wrap:anywhere}.stack b{color:#000}.note{color:#666}\n";

/* Sort a table by the clicked header: numbers by their data-v value (first
 * click: largest first), text alphabetically. A table with data-top shows
 * that many rows (whatever the order) and a button for the rest. */
static const char script[] =
	"function refold(table) {\n"
	"  var top = parseInt(table.getAttribute('data-top'), 10);\n"
	"  Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) {\n"
	"    row.classList.toggle('more', i >= top);\n"
	"  });\n"
	"}\n"
	"document.querySelectorAll('table[data-top]').forEach(function (table) {\n"
	"  var n = table.tBodies[0].rows.length, top = parseInt(table.getAttribute('data-top'), 10);\n"
	"  if (n <= top) return;\n"
	"  var button = document.createElement('button');\n"
	"  button.className = 'fold';\n"
	"  function label() {\n"
	"    button.textContent = table.classList.contains('folded') ? 'show all ' + n + ' rows' : 'show the first ' + top;\n"
	"  }\n"
	"  table.classList.add('folded');\n"
	"  refold(table);\n"
	"  label();\n"
	"  button.addEventListener('click', function () { table.classList.toggle('folded'); label(); });\n"
	"  table.parentNode.insertBefore(button, table.nextSibling);\n"
	"});\n"
	"document.querySelectorAll('table.sortable').forEach(function (table) {\n"
	"  table.tHead.addEventListener('click', function (ev) {\n"
	"    var th = ev.target.closest('th'), body = table.tBodies[0];\n"
	"    if (!th) return;\n"
	"    var was = th.getAttribute('aria-sort');\n"
	"    var asc = was ? was !== 'ascending' : !th.classList.contains('n');\n"
	"    table.tHead.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });\n"
	"    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');\n"
	"    function key(row) {\n"
	"      var c = row.cells[th.cellIndex];\n"
	"      return c.hasAttribute('data-v') ? parseFloat(c.getAttribute('data-v')) : c.textContent;\n"
	"    }\n"
	"    Array.prototype.slice.call(body.rows).sort(function (a, b) {\n"
	"      var x = key(a), y = key(b);\n"
	"      var d = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));\n"
	"      return asc ? d : -d;\n"
	"    }).forEach(function (row) { body.appendChild(row); });\n"
	"    if (table.hasAttribute('data-top')) refold(table);\n"
	"  });\n"
	"});\n";

static void meta_row(struct html *h, const char *key, const char *value)
{
	fprintf(h->out, "<dt>%s</dt><dd>", key);
	html_esc(h, value);
	fputs("</dd>\n", h->out);
}

static void summary(struct html *h)
{
	const struct mo_run *run = h->run;
	char buf[512], a[32], b[32], c[32];

	meta_row(h, "time (UTC)", run->time_utc);
	snprintf(buf, sizeof(buf), "%s, kernel %s, %d CPUs", run->host, run->kernel, run->ncpus);
	meta_row(h, "host", buf);
	if (run->cwd)
		meta_row(h, "directory", run->cwd);
	if (run->git.present) {
		snprintf(buf, sizeof(buf), "%s on %s%s", run->git.commit, run->git.branch,
			 run->git.dirty ? " (uncommitted changes)" : "");
		meta_row(h, "git", buf);
	}
	if (run->label)
		meta_row(h, "label", run->label);
	snprintf(buf, sizeof(buf), "%.2f s, %zu process%s", run->duration_s, run->nprocs, run->nprocs == 1 ? "" : "es");
	if (run->exit_status >= 0)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ", exit status %d", run->exit_status);
	meta_row(h, "run", buf);
	snprintf(buf, sizeof(buf), "%s (the sum over processes, ps-style: a shared page counts in each)",
		 units_fmt_size(run->rss_peak, a, sizeof(a)));
	meta_row(h, "session peak RSS", buf);
	if (run->physical.peak >= 0)
		snprintf(buf, sizeof(buf), "%s (%s; each page once); page cache up to %s",
			 units_fmt_size(run->physical.peak, a, sizeof(a)),
			 run->physical.source == MO_PHYSICAL_PSS ? "PSS, sampled" : "the kernel's charge to its cgroup",
			 units_fmt_size(run->physical.max.file, b, sizeof(b)));
	else
		snprintf(buf, sizeof(buf), "not measured%s%s", run->physical.why ? ": " : "",
			 run->physical.why ? run->physical.why : "");
	meta_row(h, "session peak physical", buf);
	if (run->heap) {
		snprintf(buf, sizeof(buf), "peak live %s; allocated %s in %" PRIu64 " calls, freed %s in %" PRIu64 " calls",
			 units_fmt_size(run->heap_peak, a, sizeof(a)), units_fmt_size(run->alloc_bytes, b, sizeof(b)),
			 run->alloc_count, units_fmt_size(run->free_bytes, c, sizeof(c)), run->free_count);
		meta_row(h, "heap", buf);
	} else {
		meta_row(h, "heap", "not traced (run memobs with --heap)");
	}
}

static void phase_row(struct html *h, size_t i)
{
	const struct mo_run *run = h->run;
	const struct mo_phase_rec *ph = &run->phases[i];
	size_t top[TOP_PER_PHASE], ntop = run_phase_top_procs(run, i, top, TOP_PER_PHASE);
	char sz[32];

	fprintf(h->out, "<tr><td class=\"wrap\" style=\"padding-left:%upx\">",
		6 + 16 * (ph->depth < MAX_INDENT ? ph->depth : MAX_INDENT));
	html_esc(h, ph->name);
	fprintf(h->out, "%s</td>", ph->unclosed ? " <span class=\"note\">(unclosed)</span>" : "");
	html_td_seconds(h, ph->start_s);
	html_td_seconds(h, ph->end_s - ph->start_s);
	if (ph->items_overflow)
		fputs("<td class=\"n\" data-v=\"-1\" title=\"an items marker counted past 2^53\">overflow</td>", h->out);
	else
		html_td_count(h, ph->items);
	html_td_size(h, ph->rss_baseline);
	html_td_size(h, ph->rss_peak);
	html_td_size(h, ph->rss_peak - ph->rss_baseline);
	html_td_size(h, ph->rss_end);
	if (ph->items)
		html_td_size(h, (ph->rss_peak - ph->rss_baseline) / (int64_t)ph->items);
	else
		html_td_none(h);
	if (run->heap) {
		html_td_size(h, ph->heap_peak);
		html_td_size(h, ph->heap_peak - ph->heap_baseline);
		html_td_size(h, ph->alloc_bytes);
		html_td_count(h, ph->alloc_count);
	}
	fputs("<td class=\"wrap\">", h->out);
	for (size_t k = 0; k < ntop; k++) {
		const struct mo_proc_rec *p = &run->procs[top[k]];

		fputs(k ? ", " : "", h->out);
		html_esc(h, p->comm);
		fprintf(h->out, " %d (%s)", p->pid, units_fmt_size(run_proc_phase_rss_peak(run, p, i), sz, sizeof(sz)));
	}
	fputs("</td></tr>\n", h->out);
}

static void phase_table(struct html *h)
{
	static const char *const cols[] = { "phase", "#start (s)", "#duration (s)", "#items", "#RSS at start",
					    "#RSS peak", "#peak over start", "#RSS at end", "#RSS per item" };
	static const char *const heap_cols[] = { "#heap peak", "#heap over start", "#allocated", "#calls" };
	static const char *const last[] = { "top processes" };

	fputs("<section id=\"phases\"><h2>Phases</h2>\n<p class=\"note\">RSS is the session's (every process "
	      "observed); a phase's figures include its nested phases, but allocations count in the innermost "
	      "phase of the process that made them only.</p>\n<table>", h->out);
	fputs("<thead><tr>", h->out);
	html_th_cells(h, cols, sizeof(cols) / sizeof(cols[0]));
	if (h->run->heap)
		html_th_cells(h, heap_cols, sizeof(heap_cols) / sizeof(heap_cols[0]));
	html_th_cells(h, last, 1);
	fputs("</tr></thead>\n<tbody>\n", h->out);
	for (size_t i = 0; i < h->run->nphases; i++)
		phase_row(h, i);
	fputs("</tbody></table></section>\n", h->out);
}

/* The command line; a long one (a compiler's) folded after about its first
 * ARGV_SHOWN bytes (at a space when there is one), whole when unfolded. */
static void command_cell(struct html *h, char **argv)
{
	size_t len = 1, cut;
	char *line, *p;

	for (char **a = argv; a && *a; a++)
		len += strlen(*a) + 1;
	line = p = calloc(1, len);
	if (!line) {
		h->err = h->err ?: -ENOMEM;
		return;
	}
	for (char **a = argv; a && *a; a++)
		p += sprintf(p, "%s%s", a == argv ? "" : " ", *a);
	fputs("<td class=\"cmd\">", h->out);
	if (strlen(line) <= ARGV_SHOWN) {
		html_esc(h, line);
	} else {
		for (cut = ARGV_SHOWN; cut > ARGV_SHOWN / 2 && line[cut] != ' '; cut--)
			;
		if (line[cut] != ' ')
			for (cut = ARGV_SHOWN; ((unsigned char)line[cut] & 0xc0) == 0x80; cut--)
				;
		p = strndup(line, cut);
		fputs("<details class=\"cmd\"><summary>", h->out);
		html_esc(h, p ? p : "");
		fputs(" &#8230;</summary>", h->out);
		html_esc(h, line + cut);
		fputs("</details>", h->out);
		free(p);
	}
	fputs("</td>", h->out);
	free(line);
}

static void process_row(struct html *h, const struct mo_proc_rec *p)
{
	char ex[16];
	struct mo_heap_calls heap;

	fprintf(h->out, "<tr><td class=\"n\" data-v=\"%d\">%d</td><td class=\"n\" data-v=\"%d\">%d</td>", p->pid, p->pid,
		p->ppid, p->ppid);
	html_td(h, p->comm);
	command_cell(h, p->argv);
	html_td_seconds(h, p->start_s);
	if (p->exited)
		html_td_seconds(h, p->end_s);
	else
		html_td_none(h);
	if (!p->exited)
		snprintf(ex, sizeof(ex), "running");
	else if (p->exit_status < 0)
		snprintf(ex, sizeof(ex), "?");
	else
		snprintf(ex, sizeof(ex), "%d", p->exit_status);
	html_td(h, p->observer ? "memobs marker" : ex);
	html_td_size(h, p->rss_peak);
	html_td_size(h, p->rss_peak_member[MO_MEM_ANON]);
	html_td_size(h, p->rss_peak_member[MO_MEM_FILE]);
	html_td_size(h, p->rss_peak_member[MO_MEM_SHMEM]);
	html_td_size(h, p->rss_peak_member[MO_MEM_SWAP]);
	if (h->run->heap && p->heap_probed) {
		run_proc_heap(p, &heap);
		html_td_size(h, p->heap_peak_live);
		html_td_size(h, heap.alloc_bytes);
		html_td_count(h, heap.alloc_count);
		html_td_size(h, p->heap_live);
	} else if (h->run->heap) {
		/* Four cells, not one spanning them: sorting reads cells by index. */
		fputs("<td class=\"n\" data-v=\"-1\" title=\"memobs found no allocator to probe in this process\">"
		      "no probes</td>", h->out);
		for (int i = 0; i < 3; i++)
			html_td_none(h);
	}
	fputs("</tr>\n", h->out);
}

static void process_table(struct html *h)
{
	static const char *const cols[] = { "#pid", "#ppid", "comm", "command", "#start (s)", "#end (s)", "exit",
					    "#peak RSS", "#anon", "#file", "#shmem", "#swap", "#heap peak",
					    "#allocated", "#calls", "#live at end" };

	size_t *order = malloc((h->run->nprocs ? h->run->nprocs : 1) * sizeof(*order));

	if (!order) {
		h->err = h->err ?: -ENOMEM;
		return;
	}
	for (size_t i = 0; i < h->run->nprocs; i++)
		order[i] = i;
	qsort_r(order, h->run->nprocs, sizeof(*order), run_cmp_procs_by_peak, (void *)h->run);
	fprintf(h->out, "<section id=\"processes\"><h2>Processes (%zu)</h2>\n<p class=\"note\">By peak RSS, the "
		"first %d shown; click a column header to sort by it, a long command line to unfold it.</p>\n"
		"<table class=\"sortable\" data-top=\"%d\">", h->run->nprocs, TOP_PROCESSES, TOP_PROCESSES);
	html_thead(h, cols, h->run->heap ? 16 : 12);
	for (size_t i = 0; i < h->run->nprocs; i++)
		process_row(h, &h->run->procs[order[i]]);
	fputs("</tbody></table></section>\n", h->out);
	free(order);
}

static void by_command(struct html *h)
{
	static const char *const cols[] = { "comm", "#processes", "#max peak RSS", "#allocated" };
	size_t n = 0;
	struct mo_proc_group *g = run_group_by(h->run, MO_GROUP_COMM, &n);

	if (!g && h->run->nprocs) {
		h->err = h->err ?: -ENOMEM;
		return;
	}
	fputs("<section id=\"by-command\"><h2>By command</h2>\n<table class=\"sortable\">", h->out);
	html_thead(h, cols, h->run->heap ? 4 : 3);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr>", h->out);
		html_td(h, g[i].name);
		html_td_count(h, g[i].processes);
		html_td_size(h, g[i].rss_peak_max);
		if (h->run->heap)
			html_td_size(h, g[i].heap_alloc_bytes);
		fputs("</tr>\n", h->out);
	}
	fputs("</tbody></table></section>\n", h->out);
	free(g);
}

static void marks(struct html *h)
{
	static const char *const cols[] = { "#time (s)", "label", "phase", "#pid" };

	if (!h->run->nmarks)
		return;
	fputs("<section id=\"marks\"><h2>Marks</h2>\n<table>", h->out);
	html_thead(h, cols, 4);
	for (size_t i = 0; i < h->run->nmarks; i++) {
		const struct mo_mark_rec *m = &h->run->marks[i];

		fputs("<tr>", h->out);
		html_td_seconds(h, m->t);
		html_td(h, m->label);
		html_td(h, m->phase < h->run->nphases ? h->run->phases[m->phase].name : "");
		html_td_count(h, m->pid);
		fputs("</tr>\n", h->out);
	}
	fputs("</tbody></table></section>\n", h->out);
}

static void drops(struct html *h)
{
	struct mo_drop_row rows[MO_DROP_KINDS];
	size_t n = run_drop_rows(h->run, rows);

	fputs("<section id=\"drops\"><h2>Drops</h2>\n", h->out);
	if (n)
		fputs("<table><thead><tr><th>what could not be recorded</th><th class=\"n\">count</th></tr>"
		      "</thead>\n<tbody>\n", h->out);
	for (size_t i = 0; i < n; i++) {
		fprintf(h->out, "<tr><td>%s</td>", rows[i].what);
		html_td_count(h, rows[i].n);
		fputs("</tr>\n", h->out);
	}
	fputs(n ? "</tbody></table></section>\n" : "<p>none: every event was recorded.</p></section>\n", h->out);
	if (!h->run->nwarnings)
		return;
	fputs("<section id=\"warnings\"><h2>Warnings</h2>\n<ul>\n", h->out);
	for (size_t i = 0; i < h->run->nwarnings; i++) {
		fputs("<li>", h->out);
		html_esc(h, h->run->warnings[i]);
		fputs("</li>\n", h->out);
	}
	fputs("</ul></section>\n", h->out);
}

int report_html(FILE *out, const struct mo_run *run, size_t processes)
{
	struct html h = { .out = out, .run = run };
	struct mo_svg_opts svg = { .processes = processes, .embedded = true };
	char target[1024];
	int ret;

	report_target(run, sizeof(target) / 4, target, sizeof(target));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>memobs: ", out);
	html_esc(&h, target);
	fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n<h1>memobs: ", style);
	html_esc(&h, target);
	fputs("</h1>\n<dl class=\"meta\">\n", out);
	summary(&h);
	fputs("</dl>\n<section id=\"timeline\" class=\"chart\"><h2>Timeline</h2>\n", out);
	ret = report_svg(out, run, &svg);
	if (ret && !h.err)
		h.err = ret;
	fputs("</section>\n", out);
	phase_table(&h);
	ret = report_flame_html(out, run);
	if (ret && !h.err)
		h.err = ret;
	process_table(&h);
	by_command(&h);
	marks(&h);
	report_html_sites(&h);
	drops(&h);
	fprintf(out, "<script>\n%s</script>\n</body></html>\n", script);
	if (!h.err && ferror(out))
		h.err = -EIO;
	return h.err;
}
