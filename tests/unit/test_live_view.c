// SPDX-License-Identifier: GPL-2.0
/* The live view's content without a terminal: order by RSS, the session
 * line, rows that keep their columns whatever the comm. */
#include <stdlib.h>
#include "check.h"
#include "live_view.h"

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

int main(void)
{
	RUN(test_order_by_rss);
	RUN(test_status);
	RUN(test_rows_keep_columns);
	return check_summary();
}
