// SPDX-License-Identifier: GPL-2.0
/* The one growable-array helper: room for what is asked, the elements kept,
 * growth by half again (so appends do not realloc each time), and a refusal
 * that leaves the array as it was. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "lib/grow.h"

struct pair {
	int a;
	long b;
};

static bool test_appends_keep_elements(void)
{
	struct pair *v = NULL;
	size_t n = 0, alloc = 0, reallocs = 0, last = 0;

	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(GROW(v, n + 1, alloc), 0);
		ASSERT_TRUE(alloc >= n + 1, "room for %zu", n + 1);
		reallocs += alloc != last;
		last = alloc;
		v[n++] = (struct pair){ i, -i };
	}
	for (int i = 0; i < 1000; i++)
		ASSERT_TRUE(v[i].a == i && v[i].b == -i, "element %d kept", i);
	/* 16, then by half again: a dozen reallocs for a thousand appends. */
	ASSERT_TRUE(reallocs <= 12, "%zu reallocs", reallocs);
	ASSERT_EQ(GROW(v, 10, alloc), 0);	/* enough room: nothing happens */
	ASSERT_EQ(alloc, last);
	free(v);
	return true;
}

static bool test_jump_and_refusal(void)
{
	char *s = NULL;
	size_t alloc = 0;

	ASSERT_EQ(GROW(s, 100000, alloc), 0);
	ASSERT_EQ(alloc, 100000);	/* at least what is asked, at once */
	s[99999] = 'x';
	/* Too large to count in bytes: refused, the array and its size unchanged. */
	ASSERT_EQ(grow_array(&s, SIZE_MAX / 2, &alloc, 4), -ENOMEM);
	ASSERT_EQ(alloc, 100000);
	ASSERT_EQ(s[99999], 'x');
	free(s);
	return true;
}

int main(void)
{
	RUN(test_appends_keep_elements);
	RUN(test_jump_and_refusal);
	return check_summary();
}
