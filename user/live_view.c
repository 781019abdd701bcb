// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_util.h"
#include "live_view.h"
#include "status.h"
#include "units.h"

#define ROW_FORMAT "%8s  %s %11s %11s %11s"
#define COMM_COLUMNS 16

static int cmp_rss(const void *a, const void *b, void *arg)
{
	const struct mo_live_proc *procs = arg, *x = &procs[*(const size_t *)a], *y = &procs[*(const size_t *)b];

	if (x->rss != y->rss)
		return x->rss < y->rss ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t live_view_order(const struct mo_live_view *view, size_t *idx, size_t max)
{
	size_t *all, n = view->nprocs < max ? view->nprocs : max;

	if (!n)
		return 0;
	/* Sort all of them, then keep the top: the order of the rest is not shown. */
	all = malloc(view->nprocs * sizeof(*all));
	if (!all) {
		/* Out of memory: the processes unsorted beat an empty screen. */
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		return n;
	}
	for (size_t i = 0; i < view->nprocs; i++)
		all[i] = i;
	qsort_r(all, view->nprocs, sizeof(*all), cmp_rss, (void *)view->procs);
	memcpy(idx, all, n * sizeof(*idx));
	free(all);
	return n;
}

void live_view_status(const struct mo_live_view *view, char *buf, size_t len)
{
	size_t n;

	status_format(buf, len, view->elapsed_s, view->nprocs, view->rss, view->rss_peak, view->heap_live,
		      view->phase);
	n = strlen(buf);
	if (n < len)
		snprintf(buf + n, len - n, "  drops %llu", (unsigned long long)view->drops);
}

/* s padded with spaces to COMM_COLUMNS characters: code points, not bytes,
 * so that a UTF-8 comm keeps the columns after it in line. */
static const char *pad(const char *s, char *buf, size_t len)
{
	size_t chars = 0, n = snprintf(buf, len, "%s", s);

	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	for (; chars < COMM_COLUMNS && n + 1 < len; chars++)
		buf[n++] = ' ';
	buf[n < len ? n : len - 1] = 0;
	return buf;
}

void live_view_columns(char *buf, size_t len)
{
	char comm[32];

	snprintf(buf, len, ROW_FORMAT, "PID", pad("COMM", comm, sizeof(comm)), "RSS", "PEAK RSS", "HEAP LIVE");
}

void live_view_row(const struct mo_live_proc *p, char *buf, size_t len)
{
	char pid[16], padded[64], a[32], b[32], c[32] = "-";
	/* comm is the kernel's: control bytes would move the cursor, and the
	 * 15-byte cut may split a UTF-8 character. */
	char *clean = json_utf8_clean(p->comm);

	snprintf(pid, sizeof(pid), "%d", p->pid);
	if (p->heap_live >= 0)
		units_fmt_size(p->heap_live, c, sizeof(c));
	snprintf(buf, len, ROW_FORMAT, pid, pad(clean ? clean : "?", padded, sizeof(padded)),
		 units_fmt_size(p->rss, a, sizeof(a)), units_fmt_size(p->rss_peak, b, sizeof(b)), c);
	free(clean);
}
