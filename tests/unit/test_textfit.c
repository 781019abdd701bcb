// SPDX-License-Identifier: GPL-2.0
/* Fitting text to a terminal: columns count characters, not bytes; cuts end
 * in "..." on a character boundary (or start with it, for paths); wrapping
 * breaks between words, indents, and cuts a word longer than a line. */
#include <stdlib.h>
#include "check.h"
#include "lib/textfit.h"

static bool test_columns_are_characters(void)
{
	ASSERT_EQ(textfit_cols("caf\xc3\xa9"), 4);
	ASSERT_EQ(textfit_cols(""), 0);
	return true;
}

static bool test_cut(void)
{
	char buf[64];

	ASSERT_STR_EQ(textfit_cut("short", 10, false, buf, sizeof(buf)), "short");
	ASSERT_STR_EQ(textfit_cut("abcdefghij", 8, false, buf, sizeof(buf)), "abcde...");
	ASSERT_STR_EQ(textfit_cut("/system.slice/nginx.service", 16, true, buf, sizeof(buf)), "...nginx.service");
	ASSERT_STR_EQ(textfit_cut("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4, false, buf, sizeof(buf)), "\xc3\xa9...");
	ASSERT_EQ(textfit_cols(textfit_cut("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4, true, buf, sizeof(buf))), 4);
	return true;
}

static bool wrap(const char *text, size_t width, const char *want)
{
	char *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);

	textfit_wrap(f, text, width, "  note: ", "        ");
	fclose(f);
	ASSERT_STR_EQ(got, want);
	free(got);
	return true;
}

static bool test_wrap(void)
{
	ASSERT_TRUE(wrap("fits", 20, "  note: fits\n"), "wrap");
	ASSERT_TRUE(wrap("one two three four", 20, "  note: one two\n        three four\n"), "wrap");
	/* Exactly the width: no wrap. */
	ASSERT_TRUE(wrap("one two three", 21, "  note: one two three\n"), "wrap");
	ASSERT_TRUE(wrap("abcdefghijklmnopqrstuvwxyz end", 20, "  note: abcdefghijkl\n        mnopqrstuvwx\n"
		    "        yz end\n"), "a long word");
	return true;
}

int main(void)
{
	RUN(test_columns_are_characters);
	RUN(test_cut);
	RUN(test_wrap);
	return check_summary();
}
