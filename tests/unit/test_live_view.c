// SPDX-License-Identifier: GPL-2.0
/* The live view's content without a terminal: order by RSS, the session
 * line, rows that keep their columns whatever the comm, processes grouped
 * by comm, user and cgroup. */
#include <stdlib.h>
#include "check.h"
#include "serve/live_view.h"

#define MiB (1LL << 20)

static bool test_order_by_rss(void)
{
	const struct mo_live_proc procs[] = {
		{ 30, "small", 1 * MiB, 9 * MiB, -1 }, { 20, "big", 8 * MiB, 8 * MiB, -1 },
		{ 10, "tie", 4 * MiB, 4 * MiB, -1 }, { 5, "tie", 4 * MiB, 4 * MiB, -1 },
	};
	struct mo_live_view v = { .procs = procs, .nprocs = 4 };
	size_t idx[4];

	ASSERT_EQ(live_view_order(&v, idx, 4), 4);
	ASSERT_EQ(procs[idx[0]].pid, 20);
	ASSERT_EQ(procs[idx[1]].pid, 5);	/* ties: lower pid first */
	ASSERT_EQ(procs[idx[2]].pid, 10);
	ASSERT_EQ(procs[idx[3]].pid, 30);	/* RSS now, not the peak */
	/* Fewer rows than processes: the largest ones. */
	ASSERT_EQ(live_view_order(&v, idx, 2), 2);
	ASSERT_EQ(procs[idx[0]].pid, 20);
	ASSERT_EQ(procs[idx[1]].pid, 5);
	v.nprocs = 0;
	ASSERT_EQ(live_view_order(&v, idx, 4), 0);
	return true;
}

static bool test_status(void)
{
	struct mo_live_view v = { .elapsed_s = 12.34, .rss = 48 * MiB, .rss_peak = 60 * MiB, .heap_live = -1,
				  .drops = 3, .nprocs = 2 };
	char buf[256];

	live_view_status(&v, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "memobs 12.3s  2 procs  RSS 48.0 MiB (peak 60.0 MiB)  drops 3");
	v.heap_live = 12 * MiB;
	v.phase = "render";
	live_view_status(&v, buf, sizeof(buf));
	ASSERT_STR_EQ(buf, "memobs 12.3s  2 procs  RSS 48.0 MiB (peak 60.0 MiB)  heap 12.0 MiB  phase render  drops 3");
	live_view_status(&v, buf, 20);
	ASSERT_EQ(strlen(buf), 19);
	return true;
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static bool test_rows_keep_columns(void)
{
	const struct mo_live_proc plain = { 4242, "cc1", 3 * MiB, 5 * MiB, 2 * MiB };
	/* UTF-8, a control byte, and a cut in the middle of a character. */
	const struct mo_live_proc odd = { 7, "caf\xc3\xa9\x1b[2J\xc3", 3 * MiB, 5 * MiB, -1 };
	char cols[128], a[128], b[128];

	live_view_columns(cols, sizeof(cols));
	live_view_row(&plain, a, sizeof(a));
	live_view_row(&odd, b, sizeof(b));
	ASSERT_STR_EQ(cols, "     PID  COMM                     RSS    PEAK RSS   HEAP LIVE");
	ASSERT_STR_EQ(a, "    4242  cc1                  3.0 MiB     5.0 MiB     2.0 MiB");
	ASSERT_TRUE(!strchr(b, '\x1b'), "no escape sequence reaches the terminal");
	ASSERT_TRUE(strstr(b, "caf\xc3\xa9\xef\xbf\xbd[2J\xef\xbf\xbd "), "%s", b);
	ASSERT_TRUE(strstr(b, "-") == b + strlen(b) - 1, "no heap: a dash, %s", b);
	/* As many characters as the plain row: the columns line up. */
	ASSERT_EQ(chars(b), chars(a));
	return true;
}

static bool test_groups(void)
{
	const struct mo_live_proc procs[] = {
		{ 1, "cc1", 4 * MiB, 9 * MiB, -1, 1000, "/user.slice" },
		{ 2, "cc1", 6 * MiB, 7 * MiB, 2 * MiB, 0, "/system.slice/a.service" },
		{ 3, "as", 1 * MiB, 1 * MiB, -1, 1000, NULL },
		{ 4, "make", 2 * MiB, 3 * MiB, 1 * MiB, 1000, "/user.slice" },
	};
	struct mo_live_view v = { .procs = procs, .nprocs = 4 };
	struct mo_live_group *g;
	char row[256];

	ASSERT_EQ(live_view_groups(&v, MO_LIVE_BY_COMM, &g), 3);
	ASSERT_STR_EQ(g[0].first->comm, "cc1");	/* largest RSS now first */
	ASSERT_EQ(g[0].nprocs, 2);
	ASSERT_EQ(g[0].rss, 10 * MiB);
	ASSERT_EQ(g[0].rss_peak_max, 9 * MiB);
	ASSERT_EQ(g[0].heap_live, 2 * MiB);	/* the one with a heap figure */
	ASSERT_STR_EQ(g[1].first->comm, "make");
	ASSERT_STR_EQ(g[2].first->comm, "as");
	ASSERT_EQ(g[2].heap_live, -1);		/* none has one */
	live_view_group_row(MO_LIVE_BY_COMM, &g[0], row, sizeof(row));
	ASSERT_STR_EQ(row, "     2    10.0 MiB     9.0 MiB     2.0 MiB  cc1");
	free(g);

	ASSERT_EQ(live_view_groups(&v, MO_LIVE_BY_USER, &g), 2);
	ASSERT_EQ(g[0].first->uid, 1000);
	ASSERT_EQ(g[0].nprocs, 3);
	ASSERT_EQ(g[0].rss, 7 * MiB);
	ASSERT_EQ(g[1].first->uid, 0);
	live_view_group_row(MO_LIVE_BY_USER, &g[1], row, sizeof(row));
	ASSERT_STR_EQ(row + strlen(row) - 6, "  root");	/* uid 0 by name */
	free(g);

	/* The unknown cgroup is a group of its own, named "?". */
	ASSERT_EQ(live_view_groups(&v, MO_LIVE_BY_CGROUP, &g), 3);
	ASSERT_STR_EQ(g[0].first->cgroup, "/system.slice/a.service");
	ASSERT_STR_EQ(g[1].first->cgroup, "/user.slice");
	ASSERT_EQ(g[1].nprocs, 2);
	ASSERT_TRUE(!g[2].first->cgroup, "the unknown one last (least RSS)");
	live_view_group_row(MO_LIVE_BY_CGROUP, &g[2], row, sizeof(row));
	ASSERT_STR_EQ(row, "     1     1.0 MiB     1.0 MiB           -  ?");
	free(g);

	live_view_group_columns(MO_LIVE_BY_CGROUP, row, sizeof(row));
	ASSERT_STR_EQ(row, " PROCS         RSS    MAX PEAK   HEAP LIVE  CGROUP");
	v.nprocs = 0;
	ASSERT_EQ(live_view_groups(&v, MO_LIVE_BY_COMM, &g), 0);
	ASSERT_TRUE(!g, "no groups, nothing to free");
	return true;
}

static bool tail_is(const char *log, bool at_start, size_t max, const char *want, size_t want_n)
{
	char out[1024];

	ASSERT_EQ(live_view_log_tail(log, strlen(log), at_start, max, out, sizeof(out)), want_n);
	ASSERT_STR_EQ(out, want);
	return true;
}

/* The command's output as the pane shows it: its last lines, as a terminal
 * would have left them, with nothing that could move the cursor. */
static bool test_log_tail(void)
{
	ASSERT_TRUE(tail_is("a\nb\nc\nd\n", true, 2, "c\nd\n", 2), "last lines");
	ASSERT_TRUE(tail_is("a\nb", true, 5, "a\nb\n", 2), "an unfinished last line shows");
	ASSERT_TRUE(tail_is("rtial\nx\ny\n", false, 5, "x\ny\n", 2), "a line cut by the read does not");
	ASSERT_TRUE(tail_is("", true, 3, "", 0), "empty");
	ASSERT_TRUE(tail_is("a\n\nb\n", true, 3, "a\n\nb\n", 3), "an empty line is a line");
	ASSERT_TRUE(tail_is("\033[01;31merror:\033[0m x\r\n", true, 1, "error: x\n", 1), "colours and CRLF");
	ASSERT_TRUE(tail_is(" 10%\r 50%\r100%\n", true, 1, "100%\n", 1), "a progress line's last state");
	ASSERT_TRUE(tail_is("\033]0;title\007a\tb\033[2J\033(B\n", true, 1, "a       b\n", 1), "OSC, tabs, ESC (");
	ASSERT_TRUE(tail_is("bell\007 \x01\n", true, 1, "bell\\x07 \\x01\n", 1), "other controls escaped");
	return true;
}

int main(void)
{
	RUN(test_order_by_rss);
	RUN(test_status);
	RUN(test_rows_keep_columns);
	RUN(test_groups);
	RUN(test_log_tail);
	return check_summary();
}
