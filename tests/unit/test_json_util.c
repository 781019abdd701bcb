// SPDX-License-Identifier: GPL-2.0
/* JSON helpers: strings cleaned to valid UTF-8 (overlong forms, surrogates,
 * truncated and stray sequences, code points past U+10FFFF, control
 * characters), integers printed exactly, numbers rounded, the path getters. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "lib/json_util.h"

#define FFFD "\xef\xbf\xbd"

static bool clean_is(const char *in, const char *want)
{
	char *out = json_utf8_clean(in);
	bool ok = out && !strcmp(out, want);

	if (!ok) {
		printf("#   clean(");
		for (const unsigned char *c = (const unsigned char *)in; *c; c++)
			printf("%02x", *c);
		printf(") = ");
		for (const unsigned char *c = (const unsigned char *)out; c && *c; c++)
			printf("%02x", *c);
		printf("\n");
	}
	free(out);
	return ok;
}

static bool test_valid_utf8_kept(void)
{
	ASSERT_TRUE(clean_is("", ""), "empty");
	ASSERT_TRUE(clean_is("cc1plus -O2", "cc1plus -O2"), "ascii");
	ASSERT_TRUE(clean_is("a\tb", "a\tb"), "tab kept");
	ASSERT_TRUE(clean_is("caf\xc3\xa9", "caf\xc3\xa9"), "2 bytes (U+00E9)");
	ASSERT_TRUE(clean_is("\xc2\x80", "\xc2\x80"), "smallest 2-byte (U+0080)");
	ASSERT_TRUE(clean_is("\xdf\xbf", "\xdf\xbf"), "largest 2-byte (U+07FF)");
	ASSERT_TRUE(clean_is("\xe0\xa0\x80", "\xe0\xa0\x80"), "smallest 3-byte (U+0800)");
	ASSERT_TRUE(clean_is("\xed\x9f\xbf", "\xed\x9f\xbf"), "just below the surrogates (U+D7FF)");
	ASSERT_TRUE(clean_is("\xee\x80\x80", "\xee\x80\x80"), "just above them (U+E000)");
	ASSERT_TRUE(clean_is("\xef\xbf\xbd", "\xef\xbf\xbd"), "U+FFFD itself");
	ASSERT_TRUE(clean_is("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"), "smallest 4-byte (U+10000)");
	ASSERT_TRUE(clean_is("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"), "largest code point (U+10FFFF)");
	ASSERT_TRUE(clean_is("\xe2\x9c\x93 ok \xf0\x9f\x98\x80", "\xe2\x9c\x93 ok \xf0\x9f\x98\x80"), "mixed");
	return true;
}

static bool test_invalid_utf8_replaced(void)
{
	/* Overlong forms of '/' and of NUL, overlong 3- and 4-byte forms. */
	ASSERT_TRUE(clean_is("a\xc0\xaf", "a" FFFD FFFD), "overlong 2-byte '/'");
	ASSERT_TRUE(clean_is("\xc1\xbf", FFFD FFFD), "overlong 2-byte (C1)");
	ASSERT_TRUE(clean_is("\xc0\x80", FFFD FFFD), "overlong NUL");
	ASSERT_TRUE(clean_is("\xe0\x9f\xbf", FFFD FFFD FFFD), "overlong 3-byte (U+07FF)");
	ASSERT_TRUE(clean_is("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD), "overlong 4-byte (U+FFFF)");
	/* UTF-16 surrogates are no characters. */
	ASSERT_TRUE(clean_is("\xed\xa0\x80", FFFD FFFD FFFD), "U+D800");
	ASSERT_TRUE(clean_is("\xed\xbf\xbf", FFFD FFFD FFFD), "U+DFFF");
	/* Past U+10FFFF, and lead bytes that never start one. */
	ASSERT_TRUE(clean_is("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD), "U+110000");
	ASSERT_TRUE(clean_is("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD), "F5 lead");
	ASSERT_TRUE(clean_is("\xff", FFFD), "FF");
	ASSERT_TRUE(clean_is("\xfe", FFFD), "FE");
	/* A continuation byte alone, a sequence cut short (at the end, and by
	 * the next character). */
	ASSERT_TRUE(clean_is("x\x80y", "x" FFFD "y"), "stray continuation");
	ASSERT_TRUE(clean_is("ab\xe2\x9c", "ab" FFFD FFFD), "3-byte cut at the end");
	ASSERT_TRUE(clean_is("\xf0\x9f\x98", FFFD FFFD FFFD), "4-byte cut at the end");
	ASSERT_TRUE(clean_is("\xc3", FFFD), "2-byte cut at the end");
	ASSERT_TRUE(clean_is("\xc3z", FFFD "z"), "2-byte cut by 'z'");
	ASSERT_TRUE(clean_is("\xe2\x9c\xe2\x9c\x93", FFFD FFFD "\xe2\x9c\x93"), "cut by a valid sequence");
	/* Every byte invalid: three bytes out for each, no overflow (ASan). */
	ASSERT_TRUE(clean_is("\xff\xff\xff\xff\xff\xff", FFFD FFFD FFFD FFFD FFFD FFFD), "all invalid");
	return true;
}

static bool test_control_chars_replaced(void)
{
	ASSERT_TRUE(clean_is("a\nb", "a" FFFD "b"), "newline");
	ASSERT_TRUE(clean_is("\r\x01\x1b[0m\x1f", FFFD FFFD FFFD "[0m" FFFD), "CR, SOH, ESC, US");
	ASSERT_TRUE(clean_is(" ~", " ~"), "space and tilde are printable");
	return true;
}

static char *print(cJSON *item)
{
	char *s = cJSON_PrintUnformatted(item);

	cJSON_Delete(item);
	return s;
}

static bool test_exact_ints_and_rounded_nums(void)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	json_add_int(o, "big", 9007199254740993LL);	/* 2^53 + 1: no double has it */
	json_add_int(o, "max", INT64_MAX);
	json_add_int(o, "min", INT64_MIN);
	json_add_int(o, "neg", -42);
	json_add_num(o, "t", 1.23456789, 3);
	json_add_num(o, "two", 2, 1);
	json_add_num(o, "nan", NAN, 3);
	json_add_num(o, "inf", INFINITY, 3);
	json_add_str(o, "null", NULL);
	json_add_str(o, "bad", "a\xff");
	s = print(o);
	ASSERT_STR_EQ(s, "{\"big\":9007199254740993,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
			 "\"neg\":-42,\"t\":1.235,\"two\":2.0,\"nan\":null,\"inf\":null,\"null\":null,"
			 "\"bad\":\"a\xef\xbf\xbd\"}");
	/* Valid JSON, parsed back. */
	o = cJSON_Parse(s);
	ASSERT_TRUE(o, "parses");
	ASSERT_NEAR(json_num(o, "t", 0), 1.235, 1e-12);
	ASSERT_NEAR(json_num(o, "neg", 0), -42, 0);
	cJSON_Delete(o);
	free(s);

	/* A number too long for fixed notation (a hostile document's
	 * duration, re-rendered) keeps its value, not its first 47 digits. */
	o = cJSON_CreateObject();
	json_add_num(o, "huge", 1e300, 6);
	json_add_num(o, "tiny", -1e-300, 6);
	s = print(o);
	o = cJSON_Parse(s);
	ASSERT_TRUE(o, "parses: %s", s);
	ASSERT_NEAR(json_num(o, "huge", 0) / 1e300, 1, 1e-12);
	ASSERT_NEAR(json_num(o, "tiny", 1), 0, 0);
	cJSON_Delete(o);
	free(s);

	s = print(json_int(-7));
	ASSERT_STR_EQ(s, "-7");
	free(s);
	s = print(json_str("ok\x01"));
	ASSERT_STR_EQ(s, "\"ok\xef\xbf\xbd\"");
	free(s);
	s = print(json_str(NULL));
	ASSERT_STR_EQ(s, "null");
	free(s);
	return true;
}

static bool test_paths(void)
{
	cJSON *doc = cJSON_Parse("{\"a\":{\"b\":{\"c\":12.5,\"s\":\"x\"},\"n\":null},\"A\":1,\"arr\":[1,2],"
				 "\"k.k\":3,\"t\":\"7\"}");

	ASSERT_TRUE(doc, "parses");
	ASSERT_NEAR(json_num(doc, "a.b.c", -1), 12.5, 0);
	ASSERT_STR_EQ(json_string(doc, "a.b.s", NULL), "x");
	ASSERT_TRUE(json_path(doc, "a.b") == cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "a"), "b"), "object");
	ASSERT_TRUE(json_path(doc, "") == doc, "empty path: the root");
	/* Absent, of another type, past a leaf, case differs: the fallback. */
	ASSERT_NEAR(json_num(doc, "a.b.x", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "a.b.s", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "t", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "a.n", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "a.b.c.d", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "a", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "a.B.c", -1), -1, 0);
	ASSERT_NEAR(json_num(doc, "A", -1), 1, 0);
	ASSERT_NEAR(json_num(doc, "x.y.z", -1), -1, 0);
	ASSERT_STR_EQ(json_string(doc, "a.b.c", "fb"), "fb");
	ASSERT_STR_EQ(json_string(doc, "nope", "fb"), "fb");
	ASSERT_TRUE(!json_string(doc, "nope", NULL), "NULL fallback");
	/* Dots separate: a key with a dot cannot be named. */
	ASSERT_NEAR(json_num(doc, "k.k", -1), -1, 0);
	/* A key longer than the getter's buffer: not found, not cut to a
	 * shorter one that is there. */
	char key127[128], path[140];
	cJSON *inner;

	memset(key127, 'a', 127);
	key127[127] = 0;
	inner = cJSON_AddObjectToObject(doc, key127);
	cJSON_AddNumberToObject(inner, "bb", 5);
	snprintf(path, sizeof(path), "%s.bb", key127);
	ASSERT_NEAR(json_num(doc, path, -1), 5, 0);
	snprintf(path, sizeof(path), "%sbb", key127);
	ASSERT_TRUE(!json_path(doc, path), "a key of 129 bytes");
	ASSERT_NEAR(json_num(NULL, "a", -3), -3, 0);
	cJSON_Delete(doc);
	return true;
}

int main(void)
{
	RUN(test_valid_utf8_kept);
	RUN(test_invalid_utf8_replaced);
	RUN(test_control_chars_replaced);
	RUN(test_exact_ints_and_rounded_nums);
	RUN(test_paths);
	return check_summary();
}
