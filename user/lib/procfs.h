/* SPDX-License-Identifier: GPL-2.0 */
/* Reading /proc: a process's status (memory by kind, parent, name), its
 * command line, and strings out of its memory. Parsers take text so that
 * they can be tested and fuzzed without a process. */
#ifndef MO_PROCFS_H
#define MO_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#define PROCFS_COMM_LEN 16	/* the kernel's TASK_COMM_LEN */

/* Kinds of resident memory, in the order of the kernel's mm counters
 * (MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES). */
enum procfs_rss {
	PROCFS_RSS_FILE,
	PROCFS_RSS_ANON,
	PROCFS_RSS_SWAP,
	PROCFS_RSS_SHMEM,
	PROCFS_RSS_NR,
};

struct mo_proc_status {
	char name[PROCFS_COMM_LEN];
	pid_t tgid;		/* its process (the pid of a thread's leader) */
	pid_t ppid;
	uid_t uid;		/* real */
	uid_t euid;		/* effective */
	gid_t gid;		/* real */
	gid_t egid;		/* effective */
	__s64 rss[PROCFS_RSS_NR];	/* bytes: RssFile, RssAnon, VmSwap, RssShmem */
	bool has_rss;		/* kernel threads have none */
};

/* Parse the text of /proc/PID/status. 0, or -EINVAL when it is not one. */
int procfs_parse_status(const char *text, size_t len, struct mo_proc_status *out);

/* Read and parse /proc/PID/status. 0/-errno (-ESRCH: no such process). */
int procfs_status(pid_t pid, struct mo_proc_status *out);

/* /proc/PID/cmdline as a NUL-separated blob into buf; returns its length or
 * -errno. */
ssize_t procfs_cmdline(pid_t pid, char *buf, size_t len);

/* The process's cgroup v2 path from /proc/PID/cgroup ("/system.slice/x").
 * 0/-errno (-ENOENT: no v2 line, -ESRCH: no such process). */
int procfs_cgroup(pid_t pid, char *buf, size_t len);
int procfs_parse_cgroup(const char *text, char *buf, size_t len);

/* The path of the cgroup v1 hierarchy whose controllers include
 * `controller` ("4:memory:/path", "5:cpu,cpuacct:/path"). 0/-ENOENT/-ENAMETOOLONG. */
int procfs_parse_cgroup_v1(const char *text, const char *controller, char *buf, size_t len);

/* Proportional set size of a process, from /proc/PID/smaps_rollup: a page
 * shared by N processes counts 1/N in each. Bytes. */
struct mo_pss {
	__s64 pss;
	__s64 anon;
	__s64 file;
	__s64 shmem;
};

/* Parse the text of /proc/PID/smaps_rollup. 0, or -EINVAL without a Pss line. */
int procfs_parse_pss(const char *text, size_t len, struct mo_pss *out);

/* Read and parse /proc/PID/smaps_rollup. 0/-errno (-ESRCH: no such process). */
int procfs_pss(pid_t pid, struct mo_pss *out);

/* When the process started, in clock ticks since boot (/proc/PID/stat
 * field 22): with the pid, it names one process for good. 0/-errno. */
int procfs_start_ticks(pid_t pid, uint64_t *out);
int procfs_parse_start_ticks(const char *text, uint64_t *out);

/* pid's environment as /proc/PID/environ has it (NUL-separated, at most
 * 4 MiB), NUL-terminated, malloc'ed, its length in *len; NULL when it
 * cannot be read. */
char *procfs_environ(pid_t pid, size_t *len);

/* A small text file read whole into buf (at most len - 1 bytes),
 * NUL-terminated: /proc and cgroup files. Its length, or -errno (-ESRCH
 * when it does not exist). */
ssize_t procfs_read_text(const char *path, char *buf, size_t len);

/* pid's memory, for marker names BPF could not read: the descriptor keeps
 * the memory the process had when it was opened, whatever it execs later.
 * A descriptor, or -errno. */
int procfs_mem_open(pid_t pid);

/* A NUL-terminated string of at most len-1 bytes at addr in the memory of
 * procfs_mem_open's fd. 0/-errno. */
int procfs_mem_string(int fd, uint64_t addr, char *buf, size_t len);

#endif
