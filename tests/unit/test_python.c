// SPDX-License-Identifier: GPL-2.0
/* Lines of Python instructions from a code object's line table
 * (stacks/python.c): the tables and the (start, end, line) ranges that
 * CPython 3.11.2 and 3.12.1 themselves give (code.co_lines()) for the
 * function below, every instruction checked; a table cut short answers 0
 * past its end. And which versions are read.
 *
 * def sample(n):               (line 2 of its file: co_firstlineno 2)
 *     total = 0
 *     for i in range(n):
 *         if i % 3:
 *             total += i
 *
 *         else:
 *             total -= 1
 *     x = [j * 2
 *          for j in range(3)]
 *     return total + len(x)
 */
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "check.h"
#include "stacks/python.h"

struct expect {
	unsigned start, end, line;	/* bytes of code; line 0: none */
};

static const unsigned char table311[] = {
	0x80, 0x00, 0xd8, 0x0c, 0x0d, 0x80, 0x45, 0xdd, 0x0d, 0x12, 0x90, 0x31, 0x89, 0x58, 0x8c, 0x58, 0xf0, 0x00, 0x05, 0x05, 0x17, 0xf0, 0x00, 0x05, 0x05, 0x17, 0x88, 0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x89, 0x35, 0xf0, 0x00, 0x04, 0x09, 0x17, 0xd8, 0x0c, 0x11, 0x90, 0x51, 0x89, 0x4a, 0x88, 0x45, 0x88, 0x45, 0xf0, 0x06, 0x00, 0x0d, 0x12, 0x90, 0x51, 0x89, 0x4a, 0x88, 0x45, 0x88, 0x45, 0xf0, 0x02, 0x01, 0x09, 0x1c, 0xf0, 0x00, 0x01, 0x09, 0x1c, 0xdd, 0x12, 0x17, 0x98, 0x01, 0x91, 0x28, 0x94, 0x28, 0xf0, 0x03, 0x01, 0x09, 0x1c, 0xf1, 0x00, 0x01, 0x09, 0x1c, 0xf4, 0x00, 0x01, 0x09, 0x1c, 0x80, 0x41, 0xe0, 0x0b, 0x10, 0x95, 0x33, 0x90, 0x71, 0x91, 0x36, 0x94, 0x36, 0x89, 0x3e, 0xd0, 0x04, 0x19,
};
static const struct expect lines311[] = {
	{ 0, 2, 2 }, { 2, 4, 3 }, { 4, 6, 3 }, { 6, 18, 4 }, { 18, 20, 4 }, { 20, 24, 4 }, { 24, 34, 4 }, { 34, 36, 4 }, { 36, 38, 4 }, { 38, 40, 4 }, { 40, 42, 5 }, { 42, 44, 5 }, { 44, 48, 5 }, { 48, 50, 5 }, { 50, 52, 6 }, { 52, 54, 6 }, { 54, 58, 6 }, { 58, 60, 6 }, { 60, 62, 6 }, { 62, 64, 9 }, { 64, 66, 9 }, { 66, 70, 9 }, { 70, 72, 9 }, { 72, 74, 9 }, { 74, 76, 10 }, { 76, 78, 10 }, { 78, 90, 11 }, { 90, 92, 11 }, { 92, 96, 11 }, { 96, 106, 11 }, { 106, 108, 10 }, { 108, 112, 10 }, { 112, 122, 10 }, { 122, 124, 10 }, { 124, 126, 12 }, { 126, 138, 12 }, { 138, 140, 12 }, { 140, 144, 12 }, { 144, 154, 12 }, { 154, 158, 12 }, { 158, 160, 12 },
};
static const unsigned char table312[] = {
	0x80, 0x00, 0xd8, 0x0c, 0x0d, 0x80, 0x45, 0xdc, 0x0d, 0x12, 0x90, 0x31, 0x8b, 0x58, 0xf2, 0x00, 0x05, 0x05, 0x17, 0x88, 0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x8a, 0x35, 0xd8, 0x0c, 0x11, 0x90, 0x51, 0x89, 0x4a, 0x89, 0x45, 0xf0, 0x06, 0x00, 0x0d, 0x12, 0x90, 0x51, 0x89, 0x4a, 0x89, 0x45, 0xf0, 0x0b, 0x05, 0x05, 0x17, 0xf4, 0x0e, 0x00, 0x13, 0x18, 0x98, 0x01, 0x93, 0x28, 0xf6, 0x03, 0x01, 0x09, 0x1c, 0xd8, 0x0d, 0x0e, 0xf0, 0x03, 0x00, 0x0a, 0x0b, 0x88, 0x51, 0x8b, 0x15, 0xf0, 0x00, 0x01, 0x09, 0x1c, 0x80, 0x41, 0xf0, 0x00, 0x01, 0x09, 0x1c, 0xe0, 0x0b, 0x10, 0x94, 0x33, 0x90, 0x71, 0x93, 0x36, 0x89, 0x3e, 0xd0, 0x04, 0x19, 0xf9, 0xf2, 0x05, 0x01, 0x09, 0x1c,
};
static const struct expect lines312[] = {
	{ 0, 2, 2 }, { 2, 6, 3 }, { 6, 34, 4 }, { 34, 44, 5 }, { 44, 56, 6 }, { 56, 68, 9 }, { 68, 70, 4 }, { 70, 90, 11 }, { 90, 104, 10 }, { 104, 106, 11 }, { 106, 124, 10 }, { 124, 152, 12 }, { 152, 156, 0 }, { 156, 162, 10 },
};

static bool check(const unsigned char *table, size_t len, const struct expect *e, size_t n, size_t keep)
{
	struct mo_pycode code = { .firstlineno = 2, .linetable_len = keep };

	memcpy(code.linetable, table, len < sizeof(code.linetable) ? len : sizeof(code.linetable));
	for (size_t i = 0; i < n; i++)
		for (unsigned at = e[i].start; at < e[i].end; at += 2) {
			unsigned want = keep >= len ? e[i].line : 0, got = python_line(&code, at);

			/* A cut table: what it still covers is right, the rest 0. */
			if (keep < len && got)
				want = e[i].line;
			ASSERT_TRUE(got == want, "instruction at %u: line %u, CPython says %u", at, got, want);
		}
	return true;
}

static bool test_lines_311(void)
{
	return check(table311, sizeof(table311), lines311, sizeof(lines311) / sizeof(lines311[0]), sizeof(table311));
}

static bool test_lines_312(void)
{
	return check(table312, sizeof(table312), lines312, sizeof(lines312) / sizeof(lines312[0]), sizeof(table312));
}

static bool test_cut_table(void)
{
	struct mo_pycode code = { .firstlineno = 2, .linetable_len = 20 };

	memcpy(code.linetable, table311, sizeof(table311));
	ASSERT_EQ(python_line(&code, 0), 2);
	ASSERT_EQ(python_line(&code, 150), 0);
	return check(table311, sizeof(table311), lines311, sizeof(lines311) / sizeof(lines311[0]), 20);
}

static bool test_versions_read(void)
{
	ASSERT_TRUE(python_version_known(3, 11) && python_version_known(3, 12), "3.11, 3.12");
	ASSERT_TRUE(!python_version_known(3, 10) && !python_version_known(3, 13), "not guessed");
	return true;
}

int main(void)
{
	RUN(test_lines_311);
	RUN(test_lines_312);
	RUN(test_cut_table);
	RUN(test_versions_read);
	return check_summary();
}
