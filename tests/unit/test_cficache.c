// SPDX-License-Identifier: GPL-2.0
/* Unwind tables kept by build id (stacks/cficache.c): a table stored is
 * found again row for row, with its build id; not for another file size or
 * build id; an entry cut short, with rows out of order or with a rule BPF
 * does not know is not trusted and is removed; MEMOBS_CACHE=off turns it
 * off. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gelf.h>
#include "check.h"
#include "lib/cachedir.h"
#include "probe/elfinfo.h"
#include "stacks/cficache.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static char root[64];
static struct mo_cfi_table libc;
static char libc_id[128];
static off_t libc_size;
#define MTIME 1733380000123456789ull	/* the file's modification time, as unwind.c gives it */

static struct mo_cficache *open_cache(void)
{
	char err[512];
	struct mo_cficache *c;

	setenv(MO_CACHE_ENV, root, 1);
	c = cficache__open(err, sizeof(err));
	if (!c)
		printf("# %s\n", err);
	return c;
}

static char *entry_path(const char *id)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/cfi/%s.v2.cfi", root, id);
	return path;
}

static bool test_stored_table_found_again(void)
{
	struct mo_cficache *c = open_cache();
	struct mo_cfi_table t;

	ASSERT_TRUE(c != NULL, "cache open");
	ASSERT_EQ(cficache__find(c, libc_id, libc_size, MTIME, &t), -ENOENT);
	ASSERT_EQ(cficache__add(c, libc_id, libc_size, MTIME, &libc), 0);
	ASSERT_EQ(cficache__find(c, libc_id, libc_size, MTIME, &t), 0);
	ASSERT_EQ(t.nrows, libc.nrows);
	ASSERT_TRUE(!memcmp(t.rows, libc.rows, libc.nrows * sizeof(*t.rows)), "the same rows");
	ASSERT_TRUE(!memcmp(t.build_id, libc.build_id, sizeof(t.build_id)), "the same build id");
	cfi_table_free(&t);
	/* Another file of that build id (rebuilt, stripped otherwise): compiled again. */
	ASSERT_EQ(cficache__find(c, libc_id, libc_size + 1, MTIME, &t), -ENOENT);
	/* Rebuilt in place with the build id kept (a fixed --build-id): its time tells. */
	ASSERT_EQ(cficache__find(c, libc_id, libc_size, MTIME + 1, &t), -ENOENT);
	ASSERT_EQ(cficache__find(c, "00112233445566778899aabbccddeeff00112233", libc_size, MTIME, &t), -ENOENT);
	ASSERT_EQ(cficache__find(c, "../x", libc_size, MTIME, &t), -ENOENT);
	ASSERT_STR_EQ(cficache__error(c), "");
	cficache__free(c);
	return true;
}

/* Store libc's table, damage its entry with fn, and look it up. */
static bool damaged_entry_removed(bool (*fn)(int fd, off_t size))
{
	struct mo_cficache *c = open_cache();
	struct mo_cfi_table t;
	struct stat st;
	int fd;

	ASSERT_TRUE(c != NULL, "cache open");
	ASSERT_EQ(cficache__add(c, libc_id, libc_size, MTIME, &libc), 0);
	fd = open(entry_path(libc_id), O_RDWR);
	ASSERT_TRUE(fd >= 0 && !fstat(fd, &st), "%s", entry_path(libc_id));
	ASSERT_TRUE(fn(fd, st.st_size), "damaged");
	close(fd);
	ASSERT_EQ(cficache__find(c, libc_id, libc_size, MTIME, &t), -ENOENT);
	ASSERT_TRUE(t.rows == NULL && t.nrows == 0, "nothing given");
	ASSERT_TRUE(access(entry_path(libc_id), F_OK) && errno == ENOENT, "the entry removed");
	cficache__free(c);
	return true;
}

static bool cut_short(int fd, off_t size)
{
	return !ftruncate(fd, size - 8);
}

/* Two rows swapped at the end: the binary search would go wrong. */
static bool swap_rows(int fd, off_t size)
{
	struct mo_unwind_row r[2], s[2];

	if (pread(fd, r, sizeof(r), size - sizeof(r)) != sizeof(r))
		return false;
	s[0] = r[1];
	s[1] = r[0];
	return pwrite(fd, s, sizeof(s), size - sizeof(s)) == sizeof(s);
}

static bool unknown_rule(int fd, off_t size)
{
	struct mo_unwind_row r;

	if (pread(fd, &r, sizeof(r), size - sizeof(r)) != sizeof(r))
		return false;
	r.cfa = MO_CFA_FP + 1;
	return pwrite(fd, &r, sizeof(r), size - sizeof(r)) == sizeof(r);
}

static bool test_damaged_entries_removed(void)
{
	return damaged_entry_removed(cut_short) && damaged_entry_removed(swap_rows) &&
	       damaged_entry_removed(unknown_rule);
}

static bool test_off(void)
{
	char err[512] = "x";

	setenv(MO_CACHE_ENV, "off", 1);
	ASSERT_TRUE(cficache__open(err, sizeof(err)) == NULL, "no cache");
	ASSERT_STR_EQ(err, "");
	return true;
}

int main(void)
{
	char err[128];
	struct mo_elf *elf;
	struct stat st;

	elf_version(EV_CURRENT);
	snprintf(root, sizeof(root), "/tmp/memobs-cficache-XXXXXX");
	if (!mkdtemp(root) || cfi_compile(LIBC, &libc, err, sizeof(err)) || stat(LIBC, &st) ||
	    !(elf = elf__open(LIBC)) || elf__build_id(elf, libc_id, sizeof(libc_id))) {
		printf("not ok - setup\n");
		return 1;
	}
	elf__free(elf);
	libc_size = st.st_size;
	RUN(test_stored_table_found_again);
	RUN(test_damaged_entries_removed);
	RUN(test_off);
	cfi_table_free(&libc);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd))
			return 1;
	}
	return check_summary();
}
