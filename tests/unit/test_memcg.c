// SPDX-License-Identifier: GPL-2.0
/* The command's memory cgroup on recorded files: where memobs is (this
 * project's hybrid host with v1 memory, a pure v2 systemd host, a container
 * whose mount shows its own subtree), what cgroup v2's rules allow (the root,
 * memobs alone in a delegated scope, a session scope with other processes,
 * no memory controller, a threaded cgroup), memory.stat of both versions
 * (v2 before and after the "kernel" line), the names of memobs's cgroups,
 * the readers of smaps_rollup, /proc/PID/stat and v1 cgroup lines, and how
 * samples fold into the peaks. */
#include <errno.h>
#include <unistd.h>
#include "check.h"
#include "lib/procfs.h"
#include "observe/memcg.h"
#include "observe/physical.h"

/* This project's CI host: v1 controllers, v2 mounted without them. */
static const char hybrid_mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char hybrid_cgroup[] =
	"9:name=systemd:/\n"
	"8:pids:/\n"
	"4:memory:/process_api/1b7279adf4cac0f7268b888c28c893b5\n"
	"2:cpuacct:/\n"
	"1:cpu:/\n"
	"0::/\n";

/* Debian 12 / Fedora: cgroup2 only. */
static const char v2_mountinfo[] =
	"22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";
static const char v2_cgroup[] = "0::/user.slice/user-1000.slice/session-4.scope\n";

static bool test_locate(void)
{
	struct mo_memcg_place pl;
	char why[256];

	ASSERT_EQ(memcg_locate(hybrid_mountinfo, hybrid_cgroup, &pl, why, sizeof(why)), 0);
	ASSERT_EQ(pl.version, MO_MEMCG_V1);
	ASSERT_STR_EQ(pl.dir, "/sys/fs/cgroup/memory/process_api/1b7279adf4cac0f7268b888c28c893b5");
	ASSERT_STR_EQ(pl.path, "/process_api/1b7279adf4cac0f7268b888c28c893b5");

	ASSERT_EQ(memcg_locate(v2_mountinfo, v2_cgroup, &pl, why, sizeof(why)), 0);
	ASSERT_EQ(pl.version, MO_MEMCG_V2);
	ASSERT_STR_EQ(pl.dir, "/sys/fs/cgroup/user.slice/user-1000.slice/session-4.scope");

	/* The root cgroup itself. */
	ASSERT_EQ(memcg_locate(v2_mountinfo, "0::/\n", &pl, why, sizeof(why)), 0);
	ASSERT_STR_EQ(pl.dir, "/sys/fs/cgroup/");
	ASSERT_STR_EQ(pl.path, "/");

	/* A container's mount shows its own subtree: paths below it. */
	ASSERT_EQ(memcg_locate("90 80 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
			       "0::/docker/abc/build\n", &pl, why, sizeof(why)), 0);
	ASSERT_STR_EQ(pl.dir, "/sys/fs/cgroup/build");
	ASSERT_EQ(memcg_locate("90 80 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
			       "0::/docker/abcd\n", &pl, why, sizeof(why)), -ENOENT);
	ASSERT_TRUE(strstr(why, "not under /sys/fs/cgroup"), "%s", why);

	/* v1 memory mounted with other controllers in one hierarchy. */
	ASSERT_EQ(memcg_locate("35 31 0:32 / /cg/mem rw - cgroup cgroup rw,memory,hugetlb\n",
			       "5:hugetlb,memory:/a\n", &pl, why, sizeof(why)), 0);
	ASSERT_STR_EQ(pl.dir, "/cg/mem/a");
	/* memsw is not memory. */
	ASSERT_EQ(memcg_locate("35 31 0:32 / /cg/x rw - cgroup cgroup rw,memsw\n", "5:memsw:/a\n", &pl, why,
			       sizeof(why)), -ENOENT);
	ASSERT_TRUE(strstr(why, "no memory cgroup hierarchy"), "%s", why);
	return true;
}

static bool test_v2_rules(void)
{
	struct mo_memcg_v2_plan plan;
	char why[512];
	struct mo_memcg_v2_files root = { NULL, "cpuset cpu io memory hugetlb pids rdma misc\n",
					  "cpu io memory pids\n", "1\n2\n4242\n" };
	struct mo_memcg_v2_files scope = { "domain\n", "cpu io memory pids\n", "\n", "4242\n" };
	struct mo_memcg_v2_files session = { "domain\n", "cpu io memory pids\n", "\n", "880\n4242\n4250\n" };
	struct mo_memcg_v2_files no_memory = { "domain\n", "cpu pids\n", "\n", "4242\n" };
	struct mo_memcg_v2_files threaded = { "threaded\n", "cpu memory\n", "\n", "4242\n" };

	/* The root may hold processes beside children with controllers. */
	ASSERT_EQ(memcg_v2_plan(&root, 4242, &plan, why, sizeof(why)), 0);
	ASSERT_EQ(plan.enable_memory, false);
	ASSERT_EQ(plan.move_self, false);
	root.subtree_control = "cpu pids\n";
	ASSERT_EQ(memcg_v2_plan(&root, 4242, &plan, why, sizeof(why)), 0);
	ASSERT_EQ(plan.enable_memory, true);

	/* memobs alone (systemd-run --scope -p Delegate=yes): it moves to a leaf. */
	ASSERT_EQ(memcg_v2_plan(&scope, 4242, &plan, why, sizeof(why)), 0);
	ASSERT_EQ(plan.enable_memory, true);
	ASSERT_EQ(plan.move_self, true);

	/* A login session's scope: its shell would have to move. */
	ASSERT_EQ(memcg_v2_plan(&session, 4242, &plan, why, sizeof(why)), -EPERM);
	ASSERT_TRUE(strstr(why, "other processes") && strstr(why, "Delegate=yes"), "%s", why);
	session.procs = NULL;	/* unreadable, or too long to read */
	ASSERT_EQ(memcg_v2_plan(&session, 4242, &plan, why, sizeof(why)), -EPERM);

	ASSERT_EQ(memcg_v2_plan(&no_memory, 4242, &plan, why, sizeof(why)), -EPERM);
	ASSERT_TRUE(strstr(why, "memory controller is not enabled"), "%s", why);
	no_memory.controllers = NULL;
	ASSERT_EQ(memcg_v2_plan(&no_memory, 4242, &plan, why, sizeof(why)), -EPERM);
	ASSERT_EQ(memcg_v2_plan(&threaded, 4242, &plan, why, sizeof(why)), -EPERM);
	ASSERT_TRUE(strstr(why, "threaded"), "%s", why);
	/* "memory" is a word, not a prefix. */
	scope.controllers = "memory_recursiveprot cpu\n";
	ASSERT_EQ(memcg_v2_plan(&scope, 4242, &plan, why, sizeof(why)), -EPERM);
	return true;
}

/* Recorded on this host (v1, kernel 6.18), abridged. */
static const char v1_stat[] =
	"cache 69877760\nrss 2187264\nrss_huge 0\nshmem 0\nmapped_file 741376\n"
	"hierarchical_memory_limit 9223372036854771712\n"
	"total_cache 106479616\ntotal_rss 2187264\ntotal_rss_huge 0\ntotal_shmem 0\n";

/* cgroup v2 on 6.1, abridged; and on 5.15, before the "kernel" line. */
static const char v2_stat[] =
	"anon 168300544\nfile 33554432\nkernel 1748992\nkernel_stack 81920\npagetables 425984\n"
	"sec_pagetables 0\npercpu 720\nsock 0\nvmalloc 0\nshmem 0\nfile_mapped 0\n"
	"anon_thp 0\nslab 1212416\n";
static const char v2_stat_515[] =
	"anon 4096\nfile 8192\nkernel_stack 16384\npagetables 32768\npercpu 64\nsock 0\nshmem 0\nslab 1000\n";

static bool test_stat(void)
{
	struct mo_memcg_stat st = { .current = 7, .kernel = -1 };

	ASSERT_EQ(memcg_parse_stat(v1_stat, MO_MEMCG_V1, &st), 0);
	ASSERT_EQ(st.anon, 2187264);
	ASSERT_EQ(st.file, 106479616);	/* total_: descendants included */
	ASSERT_EQ(st.kernel, -1);	/* v1 has it in memory.kmem.usage_in_bytes */
	ASSERT_EQ(st.current, 7);
	ASSERT_EQ(memcg_parse_stat("cache 10\nrss 20\n", MO_MEMCG_V1, &st), 0);
	ASSERT_EQ(st.anon, 20);
	ASSERT_EQ(st.file, 10);
	ASSERT_EQ(memcg_parse_stat(v2_stat, MO_MEMCG_V2, &st), 0);
	ASSERT_EQ(st.anon, 168300544);
	ASSERT_EQ(st.file, 33554432);
	ASSERT_EQ(st.kernel, 1748992);
	ASSERT_EQ(memcg_parse_stat(v2_stat_515, MO_MEMCG_V2, &st), 0);
	ASSERT_EQ(st.kernel, 16384 + 32768 + 64 + 1000);
	ASSERT_EQ(memcg_parse_stat("anon 1\nfile_mapped 2\n", MO_MEMCG_V2, &st), -EINVAL);
	ASSERT_EQ(memcg_parse_stat("anon 1\nfile 2\n", MO_MEMCG_V2, &st), 0);
	ASSERT_EQ(st.kernel, -1);
	ASSERT_EQ(memcg_parse_stat("anon -5\nfile 2\n", MO_MEMCG_V2, &st), -EINVAL);
	ASSERT_EQ(memcg_parse_stat(v1_stat, MO_MEMCG_V2, &st), -EINVAL);
	ASSERT_EQ(memcg_parse_stat("", MO_MEMCG_V1, &st), -EINVAL);
	return true;
}

static bool test_names(void)
{
	pid_t pid;
	uint64_t start;

	ASSERT_TRUE(memcg_parse_name("memobs-4242-180706", &pid, &start), "name");
	ASSERT_EQ(pid, 4242);
	ASSERT_EQ(start, 180706);
	ASSERT_TRUE(memcg_parse_name("memobs-4242-180706.self", &pid, &start), "name");
	ASSERT_TRUE(!memcg_parse_name("memobs-4242-180706.x", &pid, &start), "name");
	ASSERT_TRUE(!memcg_parse_name("memobs-4242", &pid, &start), "name");
	ASSERT_TRUE(!memcg_parse_name("memobs-test-4242", &pid, &start), "name");
	ASSERT_TRUE(!memcg_parse_name("memobs--1-5", &pid, &start), "name");
	ASSERT_TRUE(!memcg_parse_name("system.slice", &pid, &start), "name");
	return true;
}

static bool test_procfs_readers(void)
{
	static const char rollup[] =
		"5612658ac000-7ffdf8892000 ---p 00000000 00:00 0                          [rollup]\n"
		"Rss:                1616 kB\nPss:                 189 kB\nPss_Dirty:           112 kB\n"
		"Pss_Anon:            112 kB\nPss_File:             77 kB\nPss_Shmem:             3 kB\n"
		"Shared_Clean:       1464 kB\n";
	struct mo_pss pss;
	uint64_t ticks;
	char buf[256];

	ASSERT_EQ(procfs_parse_pss(rollup, sizeof(rollup) - 1, &pss), 0);
	ASSERT_EQ(pss.pss, 189 * 1024);
	ASSERT_EQ(pss.anon, 112 * 1024);
	ASSERT_EQ(pss.file, 77 * 1024);
	ASSERT_EQ(pss.shmem, 3 * 1024);
	ASSERT_EQ(procfs_parse_pss("Rss: 4 kB\n", 10, &pss), -EINVAL);
	ASSERT_EQ(procfs_pss(getpid(), &pss), 0);
	ASSERT_TRUE(pss.pss > 0 && pss.anon > 0, "this process has PSS");

	ASSERT_EQ(procfs_parse_start_ticks("26142 (a b) c) R 26090 26090 16889 0 -1 4194304 146 0 0 0 0 0 0 0 "
					   "20 0 1 0 180706 3985408 482\n", &ticks), 0);
	ASSERT_EQ(ticks, 180706);
	ASSERT_EQ(procfs_parse_start_ticks("26142 (x) R 1 2\n", &ticks), -EINVAL);
	ASSERT_EQ(procfs_start_ticks(getpid(), &ticks), 0);
	ASSERT_TRUE(ticks > 0, "it started after boot");

	ASSERT_EQ(procfs_parse_cgroup_v1(hybrid_cgroup, "memory", buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "/process_api/1b7279adf4cac0f7268b888c28c893b5");
	ASSERT_EQ(procfs_parse_cgroup_v1("3:cpu,cpuacct:/a\n", "cpuacct", buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "/a");
	ASSERT_EQ(procfs_parse_cgroup_v1("3:cpu,cpuacct:/a\n", "cpuac", buf, sizeof(buf)), -ENOENT);
	ASSERT_EQ(procfs_parse_cgroup_v1(v2_cgroup, "memory", buf, sizeof(buf)), -ENOENT);
	ASSERT_EQ(procfs_parse_cgroup_v1("4:memory:/a/long/path\n", "memory", buf, 5), -ENAMETOOLONG);
	return true;
}

static bool test_fold(void)
{
	struct mo_physical ph = { .peak = -1, .at_peak = MO_PHYS_UNMEASURED, .max = MO_PHYS_UNMEASURED };
	struct mo_phys_sample a = { 100, 60, 30, 10 }, b = { 90, 20, 65, 5 }, none = MO_PHYS_UNMEASURED;

	physical_fold(&ph, &none);
	ASSERT_EQ(ph.samples, 0);
	physical_fold(&ph, &a);
	physical_fold(&ph, &b);
	ASSERT_EQ(ph.samples, 2);
	ASSERT_EQ(ph.at_peak.total, 100);
	ASSERT_EQ(ph.at_peak.file, 30);	/* the kinds of the highest sample */
	ASSERT_EQ(ph.max.file, 65);	/* each kind's own highest */
	ASSERT_EQ(ph.max.anon, 60);
	ASSERT_EQ(ph.max.kernel, 10);
	return true;
}

int main(void)
{
	RUN(test_locate);
	RUN(test_v2_rules);
	RUN(test_stat);
	RUN(test_names);
	RUN(test_procfs_readers);
	RUN(test_fold);
	return check_summary();
}
