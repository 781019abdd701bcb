// SPDX-License-Identifier: GPL-2.0
/* The cache directory (lib/cachedir.c): where it is for root and for a
 * user, MEMOBS_CACHE moving or turning it off; directories made for the
 * owner alone; a directory or entry of another user, writable by others or
 * reached through a symbolic link refused; an entry visible only once
 * committed; the least recently used entries removed past the bound, and
 * temporary files of dead runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "lib/cachedir.h"

static char root[64];

static bool test_location(void)
{
	char out[4096];

	ASSERT_EQ(cachedir_location(NULL, "/x/xdg", "/home/u", 0, out, sizeof(out)), 0);
	ASSERT_STR_EQ(out, "/var/cache/memobs");
	ASSERT_EQ(cachedir_location("", "/x/xdg", "/home/u", 1000, out, sizeof(out)), 0);
	ASSERT_STR_EQ(out, "/x/xdg/memobs");
	ASSERT_EQ(cachedir_location(NULL, "relative", "/home/u", 1000, out, sizeof(out)), 0);
	ASSERT_STR_EQ(out, "/home/u/.cache/memobs");
	ASSERT_EQ(cachedir_location("/elsewhere", NULL, "/home/u", 0, out, sizeof(out)), 0);
	ASSERT_STR_EQ(out, "/elsewhere");
	ASSERT_EQ(cachedir_location("off", NULL, "/home/u", 0, out, sizeof(out)), -ENOENT);
	ASSERT_EQ(cachedir_location("rel/dir", NULL, "/home/u", 0, out, sizeof(out)), -EINVAL);
	ASSERT_EQ(cachedir_location(NULL, NULL, NULL, 1000, out, sizeof(out)), -ENOENT);
	return true;
}

static bool open_at(struct mo_cachedir *c, const char *dir, char *err, size_t errlen)
{
	setenv(MO_CACHE_ENV, dir, 1);
	return !cachedir_open(c, "sub", err, errlen);
}

static bool test_made_for_the_owner_alone(void)
{
	struct mo_cachedir c;
	char dir[128], err[256];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/new", root);
	ASSERT_TRUE(open_at(&c, dir, err, sizeof(err)), "%s", err);
	ASSERT_TRUE(!stat(c.path, &st) && (st.st_mode & 0777) == 0700 && st.st_uid == geteuid(), "%o", st.st_mode);
	ASSERT_TRUE(!stat(dir, &st) && (st.st_mode & 0777) == 0700, "%o", st.st_mode);
	cachedir_close(&c);
	return true;
}

static bool test_foreign_directory_refused(void)
{
	struct mo_cachedir c;
	char dir[128], link[128], err[256];

	snprintf(dir, sizeof(dir), "%s/open", root);
	ASSERT_EQ(mkdir(dir, 0700), 0);
	ASSERT_EQ(chmod(dir, 0777), 0);
	ASSERT_TRUE(!open_at(&c, dir, err, sizeof(err)) && strstr(err, "writable by others (mode 777)"), "%s", err);
	ASSERT_EQ(chmod(dir, 0700), 0);
	if (!geteuid()) {
		ASSERT_EQ(chown(dir, 65534, 65534), 0);
		ASSERT_TRUE(!open_at(&c, dir, err, sizeof(err)) && strstr(err, "owned by uid 65534, not by uid 0"), "%s",
			    err);
	}
	snprintf(dir, sizeof(dir), "%s/real", root);
	snprintf(link, sizeof(link), "%s/link", root);
	ASSERT_EQ(mkdir(dir, 0700), 0);
	ASSERT_EQ(symlink(dir, link), 0);
	ASSERT_TRUE(!open_at(&c, link, err, sizeof(err)) && strstr(err, "symbolic link"), "%s", err);
	return true;
}

static int put(struct mo_cachedir *c, const char *name, size_t size)
{
	char tmp[MO_CACHE_TMP_LEN], *buf = calloc(1, size);
	int fd = cachedir_begin(c, tmp), ret;

	if (fd < 0 || !buf || write(fd, buf, size) != (ssize_t)size) {
		free(buf);
		return -1;
	}
	free(buf);
	if (faccessat(c->fd, name, F_OK, 0) == 0)
		return -2;	/* visible before its commit */
	ret = cachedir_commit(c, fd, tmp, name);
	return ret;
}

static bool test_entries_and_bound(void)
{
	struct mo_cachedir c;
	struct timespec old[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };
	char dir[128], err[256];
	int fd;

	snprintf(dir, sizeof(dir), "%s/bound", root);
	ASSERT_TRUE(open_at(&c, dir, err, sizeof(err)), "%s", err);
	c.max_bytes = 3000;
	ASSERT_EQ(put(&c, "a", 1000), 0);
	ASSERT_EQ(put(&c, "b", 1000), 0);
	ASSERT_EQ(utimensat(c.fd, "b", old, 0), 0);	/* b: the least recently used */
	fd = cachedir_read(&c, "a");	/* and a's use renewed */
	ASSERT_TRUE(fd >= 0, "a reads");
	close(fd);
	/* A temporary file a dead run left an hour ago goes too. */
	ASSERT_TRUE((fd = openat(c.fd, ".tmp-1-dead", O_CREAT | O_WRONLY, 0600)) >= 0, "tmp");
	close(fd);
	ASSERT_EQ(utimensat(c.fd, ".tmp-1-dead", old, 0), 0);
	ASSERT_EQ(put(&c, "c", 1500), 0);
	ASSERT_EQ(cachedir_read(&c, "b"), -ENOENT);
	ASSERT_TRUE(faccessat(c.fd, "a", F_OK, 0) == 0 && faccessat(c.fd, "c", F_OK, 0) == 0, "a and c kept");
	ASSERT_TRUE(faccessat(c.fd, ".tmp-1-dead", F_OK, 0) != 0, "the dead run's file removed");
	/* An entry someone else may write is not read. */
	ASSERT_EQ(fchmodat(c.fd, "a", 0666, 0), 0);
	ASSERT_EQ(cachedir_read(&c, "a"), -EPERM);
	ASSERT_EQ(symlinkat("c", c.fd, "d"), 0);
	ASSERT_EQ(cachedir_read(&c, "d"), -EPERM);
	cachedir_close(&c);
	return true;
}

/* An entry that is a FIFO is refused at once: opening it to read would wait
 * for a writer that never comes, and the exec its table holds with it. */
static bool test_fifo_entry_refused_without_waiting(void)
{
	struct mo_cachedir c;
	char dir[128], err[256];

	snprintf(dir, sizeof(dir), "%s/fifo", root);
	ASSERT_TRUE(open_at(&c, dir, err, sizeof(err)), "%s", err);
	ASSERT_EQ(mkfifoat(c.fd, "f", 0600), 0);
	alarm(5);	/* a hang fails the test (SIGALRM) instead of stalling the suite */
	ASSERT_EQ(cachedir_read(&c, "f"), -EPERM);
	alarm(0);
	cachedir_close(&c);
	return true;
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/memobs-test-cachedir-XXXXXX");
	if (!mkdtemp(root)) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	RUN(test_location);
	RUN(test_made_for_the_owner_alone);
	RUN(test_foreign_directory_refused);
	RUN(test_entries_and_bound);
	RUN(test_fifo_entry_refused_without_waiting);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd))
			printf("# could not remove %s\n", root);
	}
	return check_summary();
}
