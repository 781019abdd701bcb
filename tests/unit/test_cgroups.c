// SPDX-License-Identifier: GPL-2.0
/* The cgroup id -> path cache over a made-up tree (ids are inode numbers,
 * as on cgroup2): learned by walking, remembered after removal, refreshed
 * for new directories, bounded by depth; mountinfo parsing (plain, hybrid,
 * escaped, none); path containment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "observe/cgroups.h"
#include "check.h"

static char root[] = "/tmp/memobs-cgroups-XXXXXX";

static uint64_t ino(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	return stat(path, &st) ? 0 : st.st_ino;
}

static void mk(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkdir(path, 0755);
}

static void rm(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	rmdir(path);
}

static bool test_walk_and_lookup(void)
{
	struct mo_cgroups *c = cgroups__new(root);
	uint64_t id = 0;

	ASSERT_TRUE(c, "new");
	mk("/system.slice");
	mk("/system.slice/foo.service");
	mk("/user.slice");
	ASSERT_EQ(cgroups__rescan(c), 4);
	ASSERT_STR_EQ(cgroups__path(c, ino("")), "/");
	ASSERT_STR_EQ(cgroups__path(c, ino("/system.slice/foo.service")), "/system.slice/foo.service");
	ASSERT_STR_EQ(cgroups__path(c, ino("/user.slice")), "/user.slice");
	ASSERT_TRUE(!cgroups__path(c, 0), "id 0 is no cgroup");
	/* A new cgroup right after a walk: not walked again within a second... */
	mk("/new");
	ASSERT_TRUE(!cgroups__path(c, ino("/new")), "rate-limited");
	/* ...but an explicit rescan, or its path, finds it. */
	ASSERT_EQ(cgroups__id_of(c, "/new", &id), 0);
	ASSERT_EQ(id, ino("/new"));
	ASSERT_STR_EQ(cgroups__path(c, id), "/new");
	ASSERT_EQ(cgroups__id_of(c, "/missing", &id), -ENOENT);
	/* Removed: still named (a container's cgroup goes with its last process). */
	id = ino("/user.slice");
	rm("/user.slice");
	ASSERT_EQ(cgroups__rescan(c), 5);
	ASSERT_STR_EQ(cgroups__path(c, id), "/user.slice");
	cgroups__free(c);
	rm("/new");
	rm("/system.slice/foo.service");
	rm("/system.slice");
	return true;
}

static bool test_deep_and_many(void)
{
	struct mo_cgroups *c = cgroups__new(root);
	char rel[4096] = "";
	size_t len = 0;

	ASSERT_TRUE(c, "new");
	for (int i = 0; i < 70; i++) {
		len += snprintf(rel + len, sizeof(rel) - len, "/d");
		mk(rel);
	}
	for (int i = 0; i < 300; i++) {
		char wide[32];

		snprintf(wide, sizeof(wide), "/w%d", i);
		mk(wide);
	}
	/* Walked to the depth bound (64 below the root's children), no further. */
	ASSERT_TRUE(cgroups__rescan(c) >= 300 + 64, "walked");
	ASSERT_STR_EQ(cgroups__path(c, ino("/w299")), "/w299");
	ASSERT_TRUE(!cgroups__path(c, ino(rel)), "past the depth bound");
	while (len) {
		rm(rel);
		len -= 2;
		rel[len] = 0;
	}
	for (int i = 0; i < 300; i++) {
		char wide[32];

		snprintf(wide, sizeof(wide), "/w%d", i);
		rm(wide);
	}
	cgroups__free(c);
	return true;
}

static bool test_no_root(void)
{
	struct mo_cgroups *c = cgroups__new(NULL);
	uint64_t id;

	ASSERT_TRUE(c, "new");
	ASSERT_EQ(cgroups__rescan(c), -ENOENT);
	ASSERT_TRUE(!cgroups__path(c, 1), "nothing known");
	ASSERT_EQ(cgroups__id_of(c, "/", &id), -ENOENT);
	cgroups__free(c);
	c = cgroups__new("/nonexistent-memobs");
	ASSERT_EQ(cgroups__rescan(c), -ENOENT);
	cgroups__free(c);
	return true;
}

static bool test_mountinfo(void)
{
	char buf[256];

	ASSERT_EQ(cgroups_parse_mountinfo("24 30 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n",
					  buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "/sys/fs/cgroup");
	ASSERT_EQ(cgroups_parse_mountinfo("30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
					  "31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
					  "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
					  buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "/sys/fs/cgroup/unified");
	ASSERT_EQ(cgroups_parse_mountinfo("1 2 0:1 / /mnt/a\\040b rw - cgroup2 none rw\n", buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "/mnt/a b");
	ASSERT_EQ(cgroups_parse_mountinfo("1 2 0:1 / /mnt/x rw - cgroup2fs none rw\n", buf, sizeof(buf)), -ENOENT);
	ASSERT_EQ(cgroups_parse_mountinfo("garbage - cgroup2 x\n", buf, sizeof(buf)), -ENOENT);
	ASSERT_EQ(cgroups_parse_mountinfo("", buf, sizeof(buf)), -ENOENT);
	ASSERT_EQ(cgroups_parse_mountinfo("1 2 0:1 / /a/very/long/mount rw - cgroup2 none rw\n", buf, 8),
		  -ENAMETOOLONG);
	ASSERT_EQ(cgroups_find_mount(buf, sizeof(buf)) == 0 || cgroups_find_mount(buf, sizeof(buf)) == -ENOENT, 1);
	return true;
}

static bool test_within(void)
{
	ASSERT_TRUE(cgroups_path_within("/a", "/a"), "itself");
	ASSERT_TRUE(cgroups_path_within("/a/b", "/a"), "below");
	ASSERT_TRUE(!cgroups_path_within("/ab", "/a"), "sibling with the prefix");
	ASSERT_TRUE(!cgroups_path_within("/", "/a"), "above");
	ASSERT_TRUE(cgroups_path_within("/x/y", "/"), "everything is below the root");
	return true;
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_walk_and_lookup);
	RUN(test_deep_and_many);
	RUN(test_no_root);
	RUN(test_mountinfo);
	RUN(test_within);
	rmdir(root);
	return check_summary();
}
