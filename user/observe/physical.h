/* SPDX-License-Identifier: GPL-2.0 */
/* The tree's physical memory, beside the ps-style RSS sum (README,
 * "The tree's memory"): the kernel's charge to the command's own memory
 * cgroup (memcg.h) where memobs launches the command and can make one;
 * otherwise PSS of the session's live processes from
 * /proc/PID/smaps_rollup, summed and sampled. No libbpf here. */
#ifndef MO_PHYSICAL_H
#define MO_PHYSICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "model/run.h"

enum mo_physical_mode {
	MO_PHYS_MODE_AUTO,	/* a cgroup for a command, else PSS; none with -a */
	MO_PHYS_MODE_CGROUP,	/* a cgroup or fail */
	MO_PHYS_MODE_PSS,
	MO_PHYS_MODE_OFF,
};

/* A PSS sweep may take at most this share of the time between two. */
#define MO_PSS_MAX_SHARE 0.05

struct mo_physical_obs;

/* command: memobs launches the command (a cgroup is possible); host: -a.
 * NULL with the reason in err when mode is MO_PHYS_MODE_CGROUP and no
 * cgroup can be made (errno ENOENT), or out of memory. */
struct mo_physical_obs *physical__new(enum mo_physical_mode mode, bool command, bool host, char *err,
				      size_t errlen);

/* cgroup v2: a descriptor of the cgroup to start the command in
 * (clone3(CLONE_INTO_CGROUP)), the caller's to close; -1 otherwise. */
int physical__cgroup_fd(const struct mo_physical_obs *p);

/* The command pid, parked before its exec, is moved into the cgroup by a
 * thread of its own while memobs goes on (the move waits for an RCU grace
 * period); born_in: it started there. physical__enter(pid) then waits. */
void physical__enter_begin(struct mo_physical_obs *p, pid_t pid, bool born_in);

/* Move the command, held before its exec, into the cgroup. In auto mode
 * a failure falls back to PSS (the reason kept); otherwise -errno with
 * the reason in err. */
int physical__enter(struct mo_physical_obs *p, pid_t pid, char *err, size_t errlen);

struct mo_session;
/* How the session's processes are visited (session__each_proc): PSS is
 * read for the live ones. */
typedef void (*mo_proc_visitor)(struct mo_session *sess,
				bool (*fn)(void *ctx, __u32 tgid, const struct mo_proc *p), void *ctx);

/* Measure now into *out (MO_PHYS_UNMEASURED when nothing is due: PSS is
 * not read at every sample) and keep the peaks. */
void physical__sample(struct mo_physical_obs *p, uint64_t now_ns, mo_proc_visitor each, struct mo_session *sess,
		      struct mo_phys_sample *out);

/* The last reading and the kernel's watermark into run->physical. */
void physical__finish(struct mo_physical_obs *p, struct mo_run *run);

/* Remove the cgroup (its processes moved back where they came from), free.
 * 0, or -errno with the reason in err (the next run removes it). */
int physical__free(struct mo_physical_obs *p, char *err, size_t errlen);

/* Fold one measurement into the peaks of phys: the highest total and its
 * kinds, each kind's maximum, the sample count. */
void physical_fold(struct mo_physical *phys, const struct mo_phys_sample *s);

#endif
