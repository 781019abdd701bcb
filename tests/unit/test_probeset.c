// SPDX-License-Identifier: GPL-2.0
/* Files known by content: a set that grows past any fixed size (issue 17,
 * item 6: builds run hundreds of executables), tells a file written in
 * place from the content it had, and keeps tags apart. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "probe/probeset.h"

static struct mo_file_id id_of(uint64_t ino, int64_t ctime)
{
	return (struct mo_file_id){ .dev = 2049, .ino = ino, .ctime_ns = ctime, .size = 4096 };
}

static bool test_grows_and_finds_every_file(void)
{
	struct mo_probeset *ps = probeset__new(sizeof(int));

	ASSERT_TRUE(ps, "new");
	for (uint64_t i = 1; i <= 5000; i++) {
		struct mo_file_id id = id_of(i, 1);
		int *v = probeset__add(ps, &id, "");

		ASSERT_TRUE(v && *v == 0, "add %llu", (unsigned long long)i);
		*v = (int)i;
	}
	ASSERT_EQ(probeset__count(ps), 5000);
	for (uint64_t i = 1; i <= 5000; i++) {
		struct mo_file_id id = id_of(i, 1);
		int *v = probeset__get(ps, &id, "");

		ASSERT_TRUE(v && *v == (int)i, "get %llu", (unsigned long long)i);
	}
	probeset__free(ps, NULL, NULL);
	return true;
}

static bool test_written_in_place_is_another_content(void)
{
	struct mo_probeset *ps = probeset__new(sizeof(int));
	struct mo_file_id v1 = id_of(7, 100), v2 = id_of(7, 200), known;
	int *v;

	ASSERT_TRUE(ps, "new");
	*(int *)probeset__add(ps, &v1, "") = 1;
	ASSERT_TRUE(!probeset__get(ps, &v2, ""), "a new version is unknown content");
	v = probeset__find(ps, &v2, "", &known);
	ASSERT_TRUE(v && *v == 1, "but the same file");
	ASSERT_TRUE(file_id_same_content(&known, &v1) && !file_id_same_content(&known, &v2), "its old version");
	/* added again: replaces the old version, zeroed */
	v = probeset__add(ps, &v2, "");
	ASSERT_TRUE(v && *v == 0, "replaced");
	ASSERT_EQ(probeset__count(ps), 1);
	ASSERT_TRUE(!probeset__get(ps, &v1, "") && probeset__get(ps, &v2, ""), "the new content only");
	probeset__remove(ps, &v2, "");
	ASSERT_EQ(probeset__count(ps), 0);
	probeset__free(ps, NULL, NULL);
	return true;
}

static bool test_tags_apart(void)
{
	struct mo_probeset *ps = probeset__new(sizeof(int));
	struct mo_file_id id = id_of(9, 1);

	ASSERT_TRUE(ps, "new");
	*(int *)probeset__add(ps, &id, "") = 1;
	*(int *)probeset__add(ps, &id, "je_") = 2;
	ASSERT_EQ(*(int *)probeset__get(ps, &id, ""), 1);
	ASSERT_EQ(*(int *)probeset__get(ps, &id, "je_"), 2);
	ASSERT_TRUE(!probeset__get(ps, &id, "mi_"), "no such tag");
	probeset__free(ps, NULL, NULL);
	return true;
}

static void count_release(void *value, void *ctx)
{
	(void)value;
	++*(int *)ctx;
}

static bool test_stat_and_release(void)
{
	struct mo_probeset *ps = probeset__new(sizeof(int));
	struct mo_file_id a, b;
	char path[] = "/tmp/test_probeset.XXXXXX";
	int fd = mkstemp(path), released = 0;

	ASSERT_TRUE(ps && fd >= 0, "setup");
	ASSERT_EQ(file_id_of(path, &a), 0);
	/* written: ctime and size change */
	ASSERT_EQ(write(fd, "x", 1), 1);
	ASSERT_EQ(file_id_of(path, &b), 0);
	ASSERT_TRUE(file_id_same_file(&a, &b) && !file_id_same_content(&a, &b), "content changed");
	ASSERT_EQ(file_id_of("/nonexistent/x", &b), -ENOENT);
	probeset__add(ps, &a, "");
	probeset__free(ps, count_release, &released);
	ASSERT_EQ(released, 1);
	close(fd);
	unlink(path);
	return true;
}

int main(void)
{
	RUN(test_grows_and_finds_every_file);
	RUN(test_written_in_place_is_another_content);
	RUN(test_tags_apart);
	RUN(test_stat_and_release);
	return check_summary();
}
