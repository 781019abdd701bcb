// SPDX-License-Identifier: GPL-2.0
/* /proc readers: the status parser on real-looking texts (a process, a
 * kernel thread, huge and garbage values, no name, cut short), and the
 * readers on this process (also one whose status is longer than a page). */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "lib/procfs.h"

static const char user_status[] =
	"Name:\tcc1plus\n"
	"Umask:\t0022\n"
	"State:\tR (running)\n"
	"Tgid:\t3628\n"
	"Ngid:\t0\n"
	"Pid:\t3628\n"
	"PPid:\t3626\n"
	"TracerPid:\t0\n"
	"Uid:\t1000\t1000\t1000\t1000\n"
	"Gid:\t1001\t1001\t1001\t1001\n"
	"FDSize:\t256\n"
	"Groups:\t4 24 27 1000 \n"
	"NStgid:\t3628\n"
	"NSpid:\t3628\n"
	"Kthread:\t0\n"
	"VmPeak:\t  183060 kB\n"
	"VmSize:\t  183060 kB\n"
	"VmHWM:\t  151780 kB\n"
	"VmRSS:\t  151780 kB\n"
	"RssAnon:\t  140116 kB\n"
	"RssFile:\t   11664 kB\n"
	"RssShmem:\t       4 kB\n"
	"VmData:\t  140360 kB\n"
	"VmSwap:\t    2048 kB\n"
	"HugetlbPages:\t       0 kB\n"
	"Threads:\t1\n"
	"SigQ:\t0/96365\n"
	"Cpus_allowed:\tff\n"
	"Cpus_allowed_list:\t0-7\n";

static const char kthread_status[] =
	"Name:\tkworker/3:1H\n"
	"Umask:\t0022\n"
	"State:\tI (idle)\n"
	"Tgid:\t211\n"
	"Pid:\t211\n"
	"PPid:\t2\n"
	"TracerPid:\t0\n"
	"Uid:\t0\t0\t0\t0\n"
	"Gid:\t0\t0\t0\t0\n"
	"Kthread:\t1\n"
	"Threads:\t1\n"
	"SigQ:\t0/96365\n";

static int parse(const char *text, size_t len, struct mo_proc_status *st)
{
	/* Exactly len bytes, so that ASan sees a read past them. */
	char *buf = malloc(len ? len : 1);
	int rc;

	memcpy(buf, text, len);
	rc = procfs_parse_status(buf, len, st);
	free(buf);
	return rc;
}

static bool test_user_process(void)
{
	struct mo_proc_status st;

	ASSERT_EQ(parse(user_status, strlen(user_status), &st), 0);
	ASSERT_STR_EQ(st.name, "cc1plus");
	ASSERT_EQ(st.ppid, 3626);
	ASSERT_EQ(st.uid, 1000);
	ASSERT_TRUE(st.has_rss, "has RSS");
	ASSERT_EQ(st.rss[PROCFS_RSS_ANON], 140116LL * 1024);
	ASSERT_EQ(st.rss[PROCFS_RSS_FILE], 11664LL * 1024);
	ASSERT_EQ(st.rss[PROCFS_RSS_SHMEM], 4LL * 1024);
	ASSERT_EQ(st.rss[PROCFS_RSS_SWAP], 2048LL * 1024);
	/* Not NUL-terminated, no final newline: the same. */
	ASSERT_EQ(parse(user_status, strlen(user_status) - 1, &st), 0);
	ASSERT_EQ(st.rss[PROCFS_RSS_ANON], 140116LL * 1024);
	return true;
}

static bool test_kernel_thread(void)
{
	struct mo_proc_status st;

	memset(&st, 0x5a, sizeof(st));
	ASSERT_EQ(parse(kthread_status, strlen(kthread_status), &st), 0);
	ASSERT_STR_EQ(st.name, "kworker/3:1H");
	ASSERT_EQ(st.ppid, 2);
	ASSERT_EQ(st.uid, 0);
	ASSERT_TRUE(!st.has_rss, "no Rss lines");
	for (int m = 0; m < PROCFS_RSS_NR; m++)
		ASSERT_EQ(st.rss[m], 0);
	return true;
}

static bool test_huge_values(void)
{
	struct mo_proc_status st;
	/* INT64_MAX / 1024 kB is the most that fits in bytes; one more does not. */
	static const char text[] = "Name:\tbig\n"
				   "RssAnon:\t9007199254740991 kB\n"
				   "RssFile:\t9007199254740992 kB\n"
				   "RssShmem:\t99999999999999999999999 kB\n"
				   "VmSwap:\t18446744073709551616 kB\n";

	ASSERT_EQ(parse(text, strlen(text), &st), 0);
	ASSERT_EQ(st.rss[PROCFS_RSS_ANON], 9223372036854774784LL);
	/* Too large: not taken, and above all not wrapped to something else. */
	ASSERT_EQ(st.rss[PROCFS_RSS_FILE], 0);
	ASSERT_EQ(st.rss[PROCFS_RSS_SHMEM], 0);
	ASSERT_EQ(st.rss[PROCFS_RSS_SWAP], 0);
	ASSERT_TRUE(st.has_rss, "RssAnon was read");
	return true;
}

static bool test_garbage(void)
{
	struct mo_proc_status st;
	static const char text[] = "Name:\tjunk\n"
				   "PPid:\tone\n"
				   "Gid:\t77\n"
				   "Uid:\n"
				   "RssAnon:\tabc kB\n"
				   "RssFile:\t-5 kB\n"
				   "RssShmem:\n"
				   "RssAnonX:\t7 kB\n"
				   "rssanon:\t7 kB\n"
				   "VmSwap\t8 kB\n"
				   "\x01\xff\xfe:\t\t\n"
				   "\n\n:\n";

	ASSERT_EQ(parse(text, strlen(text), &st), 0);
	ASSERT_STR_EQ(st.name, "junk");
	/* A name longer than any comm: cut to 15 bytes. */
	ASSERT_EQ(parse("Name:\ta-name-much-longer-than-a-comm\n", 37, &st), 0);
	ASSERT_STR_EQ(st.name, "a-name-much-lon");
	ASSERT_EQ(parse(text, strlen(text), &st), 0);
	ASSERT_EQ(st.ppid, 0);
	ASSERT_EQ(st.uid, 0);
	ASSERT_TRUE(!st.has_rss, "no RSS line parsed");
	for (int m = 0; m < PROCFS_RSS_NR; m++)
		ASSERT_EQ(st.rss[m], 0);
	/* Bytes of anything: never a crash or a read past the text. */
	char noise[512];

	srand(7);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(noise); i++)
			noise[i] = "Name:\tRssAnonFileShmemVmSwapPPidUid 0123456789kB\n\xff"[rand() % 51];
		parse(noise, sizeof(noise), &st);
		ASSERT_TRUE(memchr(st.name, 0, sizeof(st.name)), "name terminated");
	}
	return true;
}

static bool test_no_name(void)
{
	struct mo_proc_status st;
	const char *rss = strstr(user_status, "VmPeak");

	ASSERT_EQ(parse(rss, strlen(rss), &st), -EINVAL);
	ASSERT_EQ(parse("", 0, &st), -EINVAL);
	ASSERT_EQ(parse("Name: cat\n", 10, &st), -EINVAL);	/* a space is not the tab */
	ASSERT_EQ(parse("name:\tcat\n", 10, &st), -EINVAL);
	ASSERT_EQ(parse("garbage", 7, &st), -EINVAL);
	return true;
}

static bool test_cut_short(void)
{
	struct mo_proc_status st;
	const char *anon = strstr(user_status, "RssAnon:");
	size_t upto = anon - user_status;

	/* Cut inside the RssAnon value ("  140116 kB" -> "  1401"): the lines
	 * before it are read, the cut value is not taken as 1401 kB. */
	ASSERT_EQ(parse(user_status, upto + strlen("RssAnon:\t  1401"), &st), 0);
	ASSERT_STR_EQ(st.name, "cc1plus");
	ASSERT_EQ(st.ppid, 3626);
	ASSERT_EQ(st.rss[PROCFS_RSS_ANON], 0);
	ASSERT_TRUE(!st.has_rss, "no complete Rss line");
	/* Cut between the digits and the unit: not taken either. */
	ASSERT_EQ(parse(user_status, upto + strlen("RssAnon:\t  140116"), &st), 0);
	ASSERT_EQ(st.rss[PROCFS_RSS_ANON], 0);
	/* Cut after the unit: taken. */
	ASSERT_EQ(parse(user_status, upto + strlen("RssAnon:\t  140116 kB"), &st), 0);
	ASSERT_EQ(st.rss[PROCFS_RSS_ANON], 140116LL * 1024);
	/* Cut inside the name line: a name still (what there is of it). */
	ASSERT_EQ(parse(user_status, 9, &st), 0);
	ASSERT_STR_EQ(st.name, "cc1");
	/* Cut right after "Name:\t": no name. */
	ASSERT_EQ(parse(user_status, 6, &st), -EINVAL);
	return true;
}

static bool test_self(void)
{
	static const char marker[] = "memobs procfs marker";
	struct mo_proc_status st;
	char buf[4096], name[64];
	ssize_t n;
	int fd;

	ASSERT_EQ(procfs_status(getpid(), &st), 0);
	ASSERT_EQ(st.ppid, getppid());
	ASSERT_EQ(st.uid, getuid());
	ASSERT_TRUE(st.has_rss && st.rss[PROCFS_RSS_ANON] > 0 && st.rss[PROCFS_RSS_FILE] > 0, "this process has RSS");
	ASSERT_STR_EQ(st.name, "test_procfs");
	n = procfs_cmdline(getpid(), buf, sizeof(buf));
	ASSERT_TRUE(n > 0 && strstr(buf, "test_procfs"), "cmdline");
	fd = procfs_mem_open(getpid());
	ASSERT_TRUE(fd >= 0, "own memory");
	ASSERT_EQ(procfs_mem_string(fd, (uintptr_t)marker, name, sizeof(name)), 0);
	ASSERT_STR_EQ(name, marker);
	/* At most len - 1 bytes, terminated. */
	ASSERT_EQ(procfs_mem_string(fd, (uintptr_t)marker, name, 7), 0);
	ASSERT_STR_EQ(name, "memobs");
	ASSERT_TRUE(procfs_mem_string(fd, 8, name, sizeof(name)) < 0, "unmapped address");
	close(fd);
	ASSERT_EQ(procfs_mem_open(4194304 + 1), -ENOENT);
	ASSERT_EQ(procfs_status(4194304 + 1, &st), -ESRCH);	/* above pid_max's limit */
	return true;
}

/* A process in a thousand groups: its status passes 8 KiB and its Rss lines
 * come after the Groups line, past the first 4 KiB. */
static bool test_long_status(void)
{
	int go[2], ready[2];
	struct mo_proc_status st;
	pid_t child;
	char c;
	int rc;

	if (pipe(go) || pipe(ready))
		return false;
	child = fork();
	if (child == 0) {
		gid_t groups[1000];

		for (int i = 0; i < 1000; i++)
			groups[i] = 100000 + i;
		c = setgroups(1000, groups) ? 'n' : 'y';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_TRUE(read(ready[0], &c, 1) == 1, "child ready");
	if (c == 'n') {
		printf("#   skipped: setgroups needs CAP_SETGID\n");
		rc = 0;
		st.has_rss = true;
	} else {
		rc = procfs_status(child, &st);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	ASSERT_EQ(rc, 0);
	ASSERT_TRUE(st.has_rss, "Rss lines past 4 KiB read");
	ASSERT_TRUE(c == 'n' || st.rss[PROCFS_RSS_FILE] > 0, "RssFile read");
	return true;
}

/* A setuid program: real and effective uid differ; the v2 line of a
 * hybrid host's cgroup file, and files without one. */
static bool test_ids(void)
{
	static const char status[] = "Name:\tpasswd\nUid:\t1000\t0\t0\t0\nRssAnon:\t4 kB\n";
	static const char cut[] = "Name:\tx\nUid:\t1000\t";
	static const char end_euid[] = "Name:\tx\nUid:\t1000\t1001";
	static const char long_euid[] = "Name:\tx\nUid:\t7\t1234567890123456789\n";
	struct mo_proc_status st;
	char path[64];

	ASSERT_EQ(procfs_parse_status(status, sizeof(status) - 1, &st), 0);
	ASSERT_EQ(st.uid, 1000);
	ASSERT_EQ(st.euid, 0);
	/* Texts that end inside the Uid line: nothing is read past them. */
	ASSERT_EQ(parse(cut, sizeof(cut) - 1, &st), 0);
	ASSERT_EQ(st.euid, 1000);
	ASSERT_EQ(parse(end_euid, sizeof(end_euid) - 1, &st), 0);
	ASSERT_EQ(st.euid, 1001);
	ASSERT_EQ(parse(long_euid, sizeof(long_euid) - 1, &st), 0);
	ASSERT_EQ(st.euid, 7);
	ASSERT_EQ(procfs_parse_cgroup("4:memory:/x\n1:cpu:/\n0::/system.slice/a b.service\n", path, sizeof(path)), 0);
	ASSERT_STR_EQ(path, "/system.slice/a b.service");
	ASSERT_EQ(procfs_parse_cgroup("0::/\n", path, sizeof(path)), 0);
	ASSERT_STR_EQ(path, "/");
	ASSERT_EQ(procfs_parse_cgroup("1:name=systemd:/\n", path, sizeof(path)), -ENOENT);
	ASSERT_EQ(procfs_parse_cgroup("0::/a/very/long/path/indeed\n", path, 8), -ENAMETOOLONG);
	ASSERT_EQ(procfs_cgroup(getpid(), path, sizeof(path)), 0);
	ASSERT_EQ(path[0], '/');
	return true;
}

int main(void)
{
	RUN(test_user_process);
	RUN(test_kernel_thread);
	RUN(test_huge_values);
	RUN(test_garbage);
	RUN(test_no_name);
	RUN(test_cut_short);
	RUN(test_self);
	RUN(test_long_status);
	RUN(test_ids);
	return check_summary();
}
