/* SPDX-License-Identifier: GPL-2.0 */
/* Who a process is besides its pid: effective uid and cgroup v2, read from
 * any task (at fork the child is not current), and the host-mode filters
 * (-a --comm/--uid/--cgroup) over them. */
#ifndef MO_IDENT_BPF_H
#define MO_IDENT_BPF_H

#include "common.bpf.h"

#define MO_MAX_CGROUP_LEVEL 64	/* deeper cgroups fail the cgroup filter (never seen in practice) */

static __always_inline __u32 task_euid(struct task_struct *task)
{
	return BPF_CORE_READ(task, cred, euid.val);
}

/* The task's cgroup on the default (v2) hierarchy: what
 * bpf_get_current_cgroup_id() gives for current. */
static __always_inline struct cgroup *task_dfl_cgroup(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp);
}

static __always_inline __u64 cgroup_kn_id(struct cgroup *cgrp)
{
	return BPF_CORE_READ(cgrp, kn, id);
}

/* Is cgrp the filter's cgroup or below it? Its ancestor at the filter's
 * level must be that cgroup (cgroup->ancestors[], 6.1 and later). */
static __always_inline bool in_filter_cgroup(struct cgroup *cgrp)
{
	__u32 level = mo_cfg.filter_cgroup_level;
	struct cgroup *anc = NULL;

	if (!cgrp || level >= MO_MAX_CGROUP_LEVEL || BPF_CORE_READ(cgrp, level) < (int)level)
		return false;
	if (bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[level]) || !anc)
		return false;
	return cgroup_kn_id(anc) == mo_cfg.filter_cgroup_id;
}

/* Does the task match every filter given? comm: its name, NUL-padded. */
static __always_inline bool filters_match(struct task_struct *task, const char comm[MO_COMM_LEN])
{
	__u32 f = mo_cfg.filters;

	if ((f & MO_FILTER_COMM) && !bpf_map_lookup_elem(&mo_comm_filter, comm))
		return false;
	if ((f & MO_FILTER_UID) && task_euid(task) != mo_cfg.filter_uid)
		return false;
	if ((f & MO_FILTER_CGROUP) && !in_filter_cgroup(task_dfl_cgroup(task)))
		return false;
	return true;
}

/* Record uid and cgroup of the task in its process's record. */
static __always_inline void ident_update(struct mo_proc *p, struct task_struct *task)
{
	p->uid = task_euid(task);
	p->cgroup_id = cgroup_kn_id(task_dfl_cgroup(task));
}

#endif
