// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "lib/termesc.h"
#include "serve/live_view.h"
#include "serve/status.h"
#include "lib/units.h"
#include "lib/users.h"

#define ROW_FORMAT "%8s  %s %11s %11s %11s"
#define COMM_COLUMNS 16
#define GROUP_FORMAT "%6s %11s %11s %11s  %s"

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

const char *live_view_group_name(enum mo_live_by by)
{
	static const char *const names[MO_LIVE_BY_NR] = { "process", "comm", "user", "cgroup" };

	return by < MO_LIVE_BY_NR ? names[by] : "?";
}

static int cmp_key(const struct mo_live_proc *x, const struct mo_live_proc *y, enum mo_live_by by)
{
	switch (by) {
	case MO_LIVE_BY_COMM:
		return strncmp(x->comm, y->comm, sizeof(x->comm));
	case MO_LIVE_BY_USER:
		return (x->uid > y->uid) - (x->uid < y->uid);
	case MO_LIVE_BY_CGROUP:
		/* Unknown ones (NULL) are a group of their own, first. */
		if (!x->cgroup || !y->cgroup)
			return !!x->cgroup - !!y->cgroup;
		return strcmp(x->cgroup, y->cgroup);
	default:
		return (x->pid > y->pid) - (x->pid < y->pid);
	}
}

struct group_sort {
	const struct mo_live_proc *procs;
	enum mo_live_by by;
};

static int cmp_procs_by_key(const void *a, const void *b, void *arg)
{
	const struct group_sort *gs = arg;

	return cmp_key(&gs->procs[*(const size_t *)a], &gs->procs[*(const size_t *)b], gs->by);
}

static int cmp_groups(const void *a, const void *b, void *arg)
{
	const struct mo_live_group *x = a, *y = b;

	if (x->rss != y->rss)
		return x->rss < y->rss ? 1 : -1;
	return cmp_key(x->first, y->first, *(const enum mo_live_by *)arg);
}

ssize_t live_view_groups(const struct mo_live_view *view, enum mo_live_by by, struct mo_live_group **groups)
{
	struct group_sort gs = { view->procs, by };
	struct mo_live_group *out;
	size_t *idx, n = 0;

	*groups = NULL;
	if (!view->nprocs)
		return 0;
	idx = malloc(view->nprocs * sizeof(*idx));
	out = calloc(view->nprocs, sizeof(*out));
	if (!idx || !out) {
		free(idx);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < view->nprocs; i++)
		idx[i] = i;
	qsort_r(idx, view->nprocs, sizeof(*idx), cmp_procs_by_key, &gs);
	for (size_t i = 0; i < view->nprocs; i++) {
		const struct mo_live_proc *p = &view->procs[idx[i]];
		struct mo_live_group *g = &out[n - 1];

		if (!n || cmp_key(g->first, p, by)) {
			g = &out[n++];
			*g = (struct mo_live_group){ .first = p, .rss_peak_max = p->rss_peak, .heap_live = -1 };
		}
		g->nprocs++;
		g->rss += p->rss;
		if (p->rss_peak > g->rss_peak_max)
			g->rss_peak_max = p->rss_peak;
		if (p->heap_live >= 0)
			g->heap_live = (g->heap_live < 0 ? 0 : g->heap_live) + p->heap_live;
	}
	free(idx);
	qsort_r(out, n, sizeof(*out), cmp_groups, &by);
	*groups = out;
	return n;
}

void live_view_group_columns(enum mo_live_by by, char *buf, size_t len)
{
	char key[16];

	snprintf(key, sizeof(key), "%s", live_view_group_name(by));
	for (char *k = key; *k; k++)
		*k = *k >= 'a' && *k <= 'z' ? *k - 'a' + 'A' : *k;
	snprintf(buf, len, GROUP_FORMAT, "PROCS", "RSS", "MAX PEAK", "HEAP LIVE", key);
}

void live_view_group_row(enum mo_live_by by, const struct mo_live_group *g, char *buf, size_t len)
{
	char n[24], a[32], b[32], c[32] = "-", user[64];
	const struct mo_live_proc *p = g->first;
	const char *key = "?";
	/* comm and cgroup names come from outside: no control bytes on screen. */
	char *clean = NULL;

	if (by == MO_LIVE_BY_COMM)
		key = clean = json_utf8_clean(p->comm);
	else if (by == MO_LIVE_BY_USER)
		key = users_name(p->uid, user, sizeof(user));
	else if (by == MO_LIVE_BY_CGROUP && p->cgroup)
		key = clean = json_utf8_clean(p->cgroup);
	snprintf(n, sizeof(n), "%zu", g->nprocs);
	if (g->heap_live >= 0)
		units_fmt_size(g->heap_live, c, sizeof(c));
	snprintf(buf, len, GROUP_FORMAT, n, units_fmt_size(g->rss, a, sizeof(a)),
		 units_fmt_size(g->rss_peak_max, b, sizeof(b)), c, key ? key : "?");
	free(clean);
}

/* Bytes of the escape sequence at s (s[0] is ESC), at most len: CSI
 * (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \\), or ESC, intermediate
 * bytes and a final byte. */
static size_t escape_len(const char *s, size_t len)
{
	size_t i = 2;

	if (len < 2)
		return len;
	if (s[1] == '[') {
		while (i < len && !(s[i] >= 0x40 && s[i] <= 0x7e))
			i++;
		return i < len ? i + 1 : len;
	}
	if (s[1] == ']') {
		for (; i < len; i++) {
			if (s[i] == '\a')
				return i + 1;
			if (s[i] == '\033' && i + 1 < len && s[i + 1] == '\\')
				return i + 2;
		}
		return len;
	}
	/* ESC, intermediate bytes, a final byte: ESC ( B, ESC 7, ESC M. */
	for (i = 1; i < len && s[i] >= 0x20 && s[i] <= 0x2f; i++)
		;
	return i < len ? i + 1 : len;
}

/* One line of output as the terminal would have left it, into out. */
static void clean_line(const char *s, size_t len, char *out, size_t outlen)
{
	char raw[1024], *r = raw;
	const char *cr;

	if (len && s[len - 1] == '\r')
		len--;
	/* A progress line redrawn with \r: its last state. */
	for (cr = s + len; cr > s && cr[-1] != '\r'; cr--)
		;
	len -= cr - s;
	s = cr;
	for (size_t i = 0; i < len && r < raw + sizeof(raw) - 9;) {
		if (s[i] == '\033') {
			i += escape_len(s + i, len - i);
		} else if (s[i] == '\t') {
			do
				*r++ = ' ';
			while ((r - raw) % 8);
			i++;
		} else {
			*r++ = s[i++];
		}
	}
	*r = 0;
	termesc(raw, out, outlen);
}

size_t live_view_log_tail(const char *buf, size_t len, bool at_start, size_t max, char *out, size_t outlen)
{
	size_t pos = 0, n = 0, first, used = 0;

	if (outlen)
		out[0] = 0;
	if (!max || !outlen)
		return 0;
	/* A line cut by where the read began is not shown. */
	if (!at_start) {
		const char *nl = memchr(buf, '\n', len);

		pos = nl ? (size_t)(nl - buf) + 1 : len;
	}
	if (len && buf[len - 1] == '\n')
		len--;
	/* Count the lines, then skip all but the last max. */
	for (size_t i = pos; i < len; i++)
		n += buf[i] == '\n';
	n += pos < len;
	for (first = n > max ? n - max : 0; first; first--)
		pos = (size_t)((const char *)memchr(buf + pos, '\n', len - pos) - buf) + 1;
	n = n > max ? max : n;
	for (size_t k = 0; k < n && used + 1 < outlen; k++) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - buf) - pos : len - pos;

		clean_line(buf + pos, l, out + used, outlen - used - 1);
		used += strlen(out + used);
		out[used++] = '\n';
		out[used] = 0;
		pos += l + 1;
	}
	return n;
}
