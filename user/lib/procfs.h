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
#include "memobs_abi.h"

struct mo_proc_status {
	char name[MO_COMM_LEN];
	pid_t ppid;
	uid_t uid;		/* real */
	uid_t euid;		/* effective */
	__s64 rss[MO_RSS_NR];	/* bytes: RssFile, RssAnon, VmSwap, RssShmem */
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

/* pid's memory, for marker names BPF could not read: the descriptor keeps
 * the memory the process had when it was opened, whatever it execs later.
 * A descriptor, or -errno. */
int procfs_mem_open(pid_t pid);

/* A NUL-terminated string of at most len-1 bytes at addr in the memory of
 * procfs_mem_open's fd. 0/-errno. */
int procfs_mem_string(int fd, uint64_t addr, char *buf, size_t len);

#endif
