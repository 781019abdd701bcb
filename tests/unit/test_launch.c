// SPDX-License-Identifier: GPL-2.0
/* The parked command (launch.h), without its exec gate: it runs only once
 * released, with the environment the release carries; a launcher that ends
 * before the whole release (memobs gave up, or was killed) leaves it to
 * exit without running anything; and given a cgroup v2 directory, it is
 * born there (clone3 CLONE_INTO_CGROUP), before it runs anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "lib/exitcodes.h"
#include "observe/cgroups.h"
#include "observe/launch.h"

static const struct mo_invoker self = { .uid = 0, .nown_groups = -1 };

/* Its wait status once it ended. */
static int ended(pid_t pid)
{
	int status = -1;

	return waitpid(pid, &status, 0) == pid ? status : -1;
}

static bool test_release_carries_the_environment(void)
{
	char *argv[] = { "sh", "-c", "test \"$MO_A|$MO_B\" = 'one|two words'", NULL };
	char *env[] = { "MO_A=one", "MO_B=two words", NULL }, err[256];
	struct mo_launch l;
	int status;

	ASSERT_EQ(launch_start(&l, argv, &self, NULL, false, -1, err, sizeof(err)), 0);
	ASSERT_TRUE(!l.in_cgroup, "not asked for");
	ASSERT_EQ(launch_release(&l, env, -1, NULL, NULL, err, sizeof(err)), 0);
	status = ended(l.pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	return true;
}

/* memobs ends after writing head of the release: the command exits 125
 * and the file it would make is not there. */
static bool gave_up_after(const char *head, size_t len)
{
	char path[] = "/tmp/memobs-launch-XXXXXX", file[64], *argv[] = { "touch", file, NULL }, err[256];
	struct mo_launch l;
	int status;

	ASSERT_TRUE(mkdtemp(path), "mkdtemp: %s", strerror(errno));
	snprintf(file, sizeof(file), "%s/ran", path);
	ASSERT_EQ(launch_start(&l, argv, &self, NULL, false, -1, err, sizeof(err)), 0);
	ASSERT_EQ(write(l.release_fd, head, len), (ssize_t)len);
	close(l.release_fd);
	close(l.status_fd);
	status = ended(l.pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == MO_EXIT_FAILURE, "status %#x", status);
	ASSERT_TRUE(access(file, F_OK) && errno == ENOENT, "the command ran");
	ASSERT_EQ(rmdir(path), 0);
	return true;
}

static bool test_no_release_runs_nothing(void)
{
	/* Nothing, a string without the end, a string cut short. */
	return gave_up_after("", 0) && gave_up_after("MO_A=one", 9) && gave_up_after("MO_A=o", 6);
}

static bool test_born_in_its_cgroup(void)
{
	char mount[4096], dir[4400], want[128], text[4096], *argv[] = { "true", NULL }, err[256];
	struct mo_launch l;
	ssize_t n;
	int fd, status;

	if (cgroups_find_mount(mount, sizeof(mount)) || geteuid()) {
		printf("# skipped: no cgroup2 mount, or not root\n");
		return true;
	}
	snprintf(want, sizeof(want), "/memobs-unit-launch-%d", getpid());
	snprintf(dir, sizeof(dir), "%s%s", mount, want);
	ASSERT_TRUE(!mkdir(dir, 0755), "mkdir %s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0, "open %s: %s", dir, strerror(errno));
	ASSERT_EQ(launch_start(&l, argv, &self, NULL, false, fd, err, sizeof(err)), 0);
	close(fd);
	ASSERT_TRUE(l.in_cgroup, "clone3 into %s refused", dir);
	/* Still parked: where it is is where it was born. */
	snprintf(text, sizeof(text), "/proc/%d/cgroup", l.pid);
	fd = open(text, O_RDONLY);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	close(fd);
	text[n > 0 ? n : 0] = 0;
	ASSERT_EQ(launch_release(&l, NULL, -1, NULL, NULL, err, sizeof(err)), 0);
	status = ended(l.pid);
	ASSERT_EQ(rmdir(dir), 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	ASSERT_TRUE(strstr(text, "0::") && strstr(strstr(text, "0::"), want), "%s", text);
	return true;
}

int main(void)
{
	RUN(test_release_carries_the_environment);
	RUN(test_no_release_runs_nothing);
	RUN(test_born_in_its_cgroup);
	return check_summary();
}
