// SPDX-License-Identifier: GPL-2.0
/* Outside text for a terminal: escapes that retitle the window or clear the
 * screen, newlines that break rows, C1 controls and invalid UTF-8 shown as
 * visible escapes; printable UTF-8 kept; cut on a character boundary. */
#include "check.h"
#include "lib/termesc.h"

static bool test_escapes_become_visible(void)
{
	char buf[128];

	ASSERT_STR_EQ(termesc("\033]0;pwned\007title", buf, sizeof(buf)), "\\e]0;pwned\\x07title");
	ASSERT_STR_EQ(termesc("\033[2Jclear", buf, sizeof(buf)), "\\e[2Jclear");
	ASSERT_STR_EQ(termesc("evil\nname\r\tx\177", buf, sizeof(buf)), "evil\\nname\\r\\tx\\x7f");
	return true;
}

static bool test_c1_and_invalid_utf8(void)
{
	char buf[128];

	/* U+009B is CSI in C1: as dangerous as ESC [ */
	ASSERT_STR_EQ(termesc("a\xc2\x9b" "2Jb", buf, sizeof(buf)), "a\\xc2\\x9b2Jb");
	ASSERT_STR_EQ(termesc("bad\xff\xc3", buf, sizeof(buf)), "bad\\xff\\xc3");
	ASSERT_STR_EQ(termesc("caf\xc3\xa9 \xe2\x86\x92 \xc2\xa0", buf, sizeof(buf)), "caf\xc3\xa9 \xe2\x86\x92 \xc2\xa0");
	return true;
}

static bool test_cut_on_boundaries(void)
{
	char buf[6];

	ASSERT_STR_EQ(termesc("abcd\033x", buf, sizeof(buf)), "abcd");
	ASSERT_STR_EQ(termesc("abc\xc3\xa9\xc3\xa9", buf, sizeof(buf)), "abc\xc3\xa9");
	ASSERT_STR_EQ(termesc("abcdefgh", buf, sizeof(buf)), "abcde");
	ASSERT_STR_EQ(termesc(NULL, buf, sizeof(buf)), "");
	return true;
}

static bool test_empty_name_is_visible(void)
{
	char buf[16];

	ASSERT_STR_EQ(termesc_name("", buf, sizeof(buf)), "\"\"");
	ASSERT_STR_EQ(termesc_name("render", buf, sizeof(buf)), "render");
	ASSERT_STR_EQ(termesc("", buf, sizeof(buf)), "");
	return true;
}

int main(void)
{
	RUN(test_escapes_become_visible);
	RUN(test_c1_and_invalid_utf8);
	RUN(test_cut_on_boundaries);
	RUN(test_empty_name_is_visible);
	return check_summary();
}
