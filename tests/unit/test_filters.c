// SPDX-License-Identifier: GPL-2.0
/* Filters of -p/-a: comm lists (kept NUL-padded as BPF compares them, the
 * kernel's 15-byte bound, repeats, empty names), pid lists, cgroup paths in
 * every spelling against a made-up cgroup tree, and matching. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "observe/filters.h"
#include "lib/users.h"

static bool test_comm_lists(void)
{
	struct mo_filters f = {};
	char err[256], want[MO_COMM_LEN] = "cc1";

	ASSERT_EQ(filters_add_comms(&f, "cc1,ld", err, sizeof(err)), 0);
	ASSERT_EQ(filters_add_comms(&f, "cc1", err, sizeof(err)), 0);
	ASSERT_EQ(filters_add_comms(&f, "123456789012345", err, sizeof(err)), 0);
	ASSERT_EQ(f.ncomms, 3);
	ASSERT_TRUE(!memcmp(f.comms[0], want, MO_COMM_LEN), "NUL-padded to 16 bytes");
	ASSERT_EQ(filters_mask(&f), MO_FILTER_COMM);
	ASSERT_EQ(filters_add_comms(&f, "1234567890123456", err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "longer than 15 bytes"), "%s", err);
	ASSERT_EQ(filters_add_comms(&f, "a,,b", err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_add_comms(&f, "", err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_add_comms(&f, "x,", err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(filters_match(&f, "ld", 0, NULL), "a listed name");
	ASSERT_TRUE(!filters_match(&f, "l", 0, NULL), "a prefix is not the name");
	ASSERT_TRUE(!filters_match(&f, "ldd", 0, NULL), "nor a longer one");
	filters_free(&f);
	ASSERT_EQ(f.ncomms, 0);
	return true;
}

static bool test_comm_bound(void)
{
	struct mo_filters f = {};
	char err[256], name[16];

	for (int i = 0; i < MO_MAX_COMM_FILTERS; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ASSERT_EQ(filters_add_comms(&f, name, err, sizeof(err)), 0);
	}
	ASSERT_EQ(filters_add_comms(&f, "n0", err, sizeof(err)), 0);
	ASSERT_EQ(filters_add_comms(&f, "one-more", err, sizeof(err)), -EINVAL);
	filters_free(&f);
	return true;
}

static bool test_pid_lists(void)
{
	pid_t *pids = NULL;
	size_t n = 0;
	char err[256];

	ASSERT_EQ(filters_parse_pids("42", &pids, &n, err, sizeof(err)), 0);
	ASSERT_EQ(filters_parse_pids("7,42,2147483647", &pids, &n, err, sizeof(err)), 0);
	ASSERT_EQ(n, 3);
	ASSERT_EQ(pids[0], 42);
	ASSERT_EQ(pids[1], 7);
	ASSERT_EQ(pids[2], 2147483647);
	ASSERT_EQ(filters_parse_pids("2147483648", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_parse_pids("0", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_parse_pids("-1", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_parse_pids("+1", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_parse_pids("1,", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_parse_pids("1 ", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_parse_pids("99999999999999999999999", &pids, &n, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "is not a process id"), "%s", err);
	free(pids);
	return true;
}

static bool test_cgroup_paths(void)
{
	char root[] = "/tmp/memobs-cg-XXXXXX", dir[256], err[512];
	struct mo_filters f = {};
	struct stat st;

	ASSERT_TRUE(mkdtemp(root), "mkdtemp");
	snprintf(dir, sizeof(dir), "%s/a", root);
	ASSERT_EQ(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/a/b", root);
	ASSERT_EQ(mkdir(dir, 0755), 0);
	ASSERT_EQ(stat(dir, &st), 0);
	ASSERT_EQ(filters_set_cgroup(&f, "/a/b", root, err, sizeof(err)), 0);
	ASSERT_STR_EQ(f.cgroup, "/a/b");
	ASSERT_EQ(f.cgroup_level, 2);
	ASSERT_EQ(f.cgroup_id, st.st_ino);
	ASSERT_EQ(filters_set_cgroup(&f, "a//./b/", root, err, sizeof(err)), 0);
	ASSERT_STR_EQ(f.cgroup, "/a/b");
	ASSERT_EQ(filters_set_cgroup(&f, dir, root, err, sizeof(err)), 0);
	ASSERT_STR_EQ(f.cgroup, "/a/b");
	ASSERT_EQ(filters_set_cgroup(&f, root, root, err, sizeof(err)), 0);
	ASSERT_STR_EQ(f.cgroup, "/");
	ASSERT_EQ(f.cgroup_level, 0);
	ASSERT_EQ(filters_set_cgroup(&f, "/a/../a", root, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(filters_set_cgroup(&f, "/a/c", root, err, sizeof(err)), -ENOENT);
	ASSERT_TRUE(strstr(err, "no cgroup /a/c"), "%s", err);
	snprintf(dir, sizeof(dir), "%s/a/file", root);
	close(creat(dir, 0644));
	ASSERT_EQ(filters_set_cgroup(&f, "/a/file", root, err, sizeof(err)), -ENOENT);
	unlink(dir);
	ASSERT_EQ(filters_set_cgroup(&f, "/a", root, err, sizeof(err)), 0);
	ASSERT_EQ(filters_mask(&f), MO_FILTER_CGROUP);
	ASSERT_TRUE(filters_match(&f, "x", 0, "/a"), "the cgroup itself");
	ASSERT_TRUE(filters_match(&f, "x", 0, "/a/b/c"), "below it");
	ASSERT_TRUE(!filters_match(&f, "x", 0, "/ab"), "a sibling with its prefix");
	ASSERT_TRUE(!filters_match(&f, "x", 0, "/"), "above it");
	ASSERT_TRUE(!filters_match(&f, "x", 0, NULL), "unknown");
	filters_free(&f);
	snprintf(dir, sizeof(dir), "%s/a/b", root);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", root);
	rmdir(dir);
	rmdir(root);
	return true;
}

static bool test_all_filters_at_once(void)
{
	struct mo_filters f = { .has_uid = true, .uid = 1000 };
	char err[256];

	ASSERT_EQ(filters_add_comms(&f, "make", err, sizeof(err)), 0);
	f.cgroup = strdup("/user.slice");
	ASSERT_EQ(filters_mask(&f), MO_FILTER_COMM | MO_FILTER_UID | MO_FILTER_CGROUP);
	ASSERT_TRUE(filters_match(&f, "make", 1000, "/user.slice/user-1000.slice"), "all match");
	ASSERT_TRUE(!filters_match(&f, "make", 0, "/user.slice"), "uid differs");
	ASSERT_TRUE(!filters_match(&f, "cc1", 1000, "/user.slice"), "comm differs");
	ASSERT_TRUE(!filters_match(&f, "make", 1000, "/system.slice"), "cgroup differs");
	filters_free(&f);
	ASSERT_TRUE(!filters_any(&f), "none left");
	return true;
}

static bool test_uids(void)
{
	uid_t uid = 1;
	char name[MO_USER_LEN];

	ASSERT_EQ(users_parse("0", &uid), 0);
	ASSERT_EQ(uid, 0);
	ASSERT_EQ(users_parse("root", &uid), 0);
	ASSERT_EQ(uid, 0);
	ASSERT_EQ(users_parse("4294967294", &uid), 0);
	ASSERT_EQ(uid, 4294967294u);
	ASSERT_EQ(users_parse("4294967295", &uid), -EINVAL);
	ASSERT_EQ(users_parse("-1", &uid), -ENOENT);
	ASSERT_EQ(users_parse("", &uid), -EINVAL);
	ASSERT_EQ(users_parse("no-such-user-memobs", &uid), -ENOENT);
	ASSERT_EQ(users_parse("a:b", &uid), -EINVAL);
	ASSERT_STR_EQ(users_name(0, name, sizeof(name)), "root");
	ASSERT_STR_EQ(users_name(4000000000u, name, sizeof(name)), "4000000000");
	return true;
}

int main(void)
{
	RUN(test_comm_lists);
	RUN(test_comm_bound);
	RUN(test_pid_lists);
	RUN(test_cgroup_paths);
	RUN(test_all_filters_at_once);
	RUN(test_uids);
	return check_summary();
}
