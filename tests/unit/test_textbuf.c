// SPDX-License-Identifier: GPL-2.0
/* The bounded text buffer: room for a byte and the NUL from the first call,
 * doubling that keeps what was written, EFBIG once it has doubled past the
 * bound. */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "lib/textbuf.h"

static bool test_first_reserve_allocates(void)
{
	struct mo_textbuf t = { 0 };

	ASSERT_EQ(textbuf_reserve(&t, 1 << 20), 0);
	ASSERT_TRUE(t.data, "allocated");
	ASSERT_TRUE(t.cap >= 2, "room for a byte and the NUL");
	ASSERT_EQ(t.len, 0);
	free(t.data);
	return true;
}

static bool test_doubling_keeps_text(void)
{
	struct mo_textbuf t = { 0 };
	size_t first;

	ASSERT_EQ(textbuf_reserve(&t, 1 << 20), 0);
	first = t.cap;
	for (size_t i = 0; i < 3 * first; i++) {
		ASSERT_EQ(textbuf_reserve(&t, 1 << 20), 0);
		t.data[t.len++] = 'a' + i % 26;
	}
	ASSERT_EQ(t.cap, 4 * first);
	for (size_t i = 0; i < t.len; i++)
		ASSERT_TRUE(t.data[i] == (char)('a' + i % 26), "byte %zu", i);
	free(t.data);
	return true;
}

/* Full once more at a capacity past max: refused, the text left whole. */
static bool test_bound(void)
{
	struct mo_textbuf t = { 0 };
	size_t max;

	ASSERT_EQ(textbuf_reserve(&t, 0), 0);
	max = t.cap + 1;	/* one doubling allowed */
	t.len = t.cap - 1;
	ASSERT_EQ(textbuf_reserve(&t, max), 0);
	ASSERT_EQ(t.cap, 2 * (max - 1));
	t.len = t.cap - 1;
	errno = 0;
	ASSERT_EQ(textbuf_reserve(&t, max), -1);
	ASSERT_EQ(errno, EFBIG);
	ASSERT_EQ(t.cap, 2 * (max - 1));
	free(t.data);
	return true;
}

int main(void)
{
	RUN(test_first_reserve_allocates);
	RUN(test_doubling_keeps_text);
	RUN(test_bound);
	return check_summary();
}
