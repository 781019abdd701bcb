// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/procfs.h"
#include "observe/memcg.h"
#include "observe/physical.h"

struct mo_physical_obs {
	struct mo_physical phys;	/* handed to the run at the end */
	struct mo_memcg *cg;		/* the cgroup sources */
	bool fall_back;			/* auto: PSS when the cgroup fails */
	uint64_t next_pss_ns;		/* PSS: no sweep before this */
	uint64_t last_ns;		/* the last measurement */
	pid_t command;			/* physical__enter_begin's */
	bool born_in;			/* it started in the cgroup */
	bool moving;			/* mover moves it in */
	int move_ret;			/* mover's result */
	pthread_t mover;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void set_why(struct mo_physical_obs *p, const char *why)
{
	free(p->phys.why);
	p->phys.why = why ? strdup(why) : NULL;
}

static void use_pss(struct mo_physical_obs *p, const char *why)
{
	p->phys.source = MO_PHYSICAL_PSS;
	set_why(p, why);
}

static int use_cgroup(struct mo_physical_obs *p, char *err, size_t errlen)
{
	char why[512], msg[600];

	p->cg = memcg__create(why, sizeof(why));
	if (!p->cg) {
		if (!p->fall_back) {
			snprintf(err, errlen, "--physical cgroup: no memory cgroup for the command: %s", why);
			return -EPERM;
		}
		snprintf(msg, sizeof(msg), "no memory cgroup for the command: %s", why);
		use_pss(p, msg);
		return 0;
	}
	p->phys.source = memcg__version(p->cg) == MO_MEMCG_V1 ? MO_PHYSICAL_CGROUP_V1 : MO_PHYSICAL_CGROUP_V2;
	p->phys.cgroup = strdup(memcg__path(p->cg));
	return 0;
}

struct mo_physical_obs *physical__new(enum mo_physical_mode mode, bool command, bool host, char *err,
				      size_t errlen)
{
	struct mo_physical_obs *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->phys.peak = -1;
	p->phys.at_peak = p->phys.max = p->phys.end = MO_PHYS_UNMEASURED;
	p->fall_back = mode == MO_PHYS_MODE_AUTO;
	if (mode == MO_PHYS_MODE_OFF)
		set_why(p, "--physical off");
	else if (mode == MO_PHYS_MODE_PSS)
		use_pss(p, NULL);
	else if (host)
		set_why(p, "-a; --physical pss samples every observed process");
	else if (!command)
		use_pss(p, "memobs does not move running processes (-p) into a cgroup of their own");
	else if (use_cgroup(p, err, errlen)) {
		physical__free(p, NULL, 0);
		errno = ENOENT;	/* no cgroup: not a permission memobs lacks */
		return NULL;
	}
	return p;
}

int physical__cgroup_fd(const struct mo_physical_obs *p)
{
	return p->cg ? memcg__open_v2(p->cg) : -1;
}

static void *move_in(void *arg)
{
	struct mo_physical_obs *p = arg;

	p->move_ret = memcg__enter(p->cg, p->command);
	return NULL;
}

void physical__enter_begin(struct mo_physical_obs *p, pid_t pid, bool born_in)
{
	p->command = pid;
	p->born_in = born_in;
	if (p->cg && !born_in)
		p->moving = !pthread_create(&p->mover, NULL, move_in, p);
}

/* The move physical__enter_begin started: its result, once done. */
static bool moved(struct mo_physical_obs *p, pid_t pid, int *ret)
{
	if (pid != p->command || (!p->born_in && !p->moving))
		return false;
	*ret = 0;
	if (p->moving) {
		pthread_join(p->mover, NULL);
		p->moving = false;
		*ret = p->move_ret;
	}
	return true;
}

int physical__enter(struct mo_physical_obs *p, pid_t pid, char *err, size_t errlen)
{
	char why[512], msg[600];
	int ret;

	if (!p->cg)
		return 0;
	if (!moved(p, pid, &ret))
		ret = memcg__enter(p->cg, pid);
	if (!ret)
		return 0;
	snprintf(msg, sizeof(msg), "cannot move the command into %s: %s", memcg__path(p->cg), strerror(-ret));
	if (!p->fall_back) {
		snprintf(err, errlen, "--physical cgroup: %s", msg);
		return ret;
	}
	memcg__remove(p->cg, why, sizeof(why));
	p->cg = NULL;
	free(p->phys.cgroup);
	p->phys.cgroup = NULL;
	use_pss(p, msg);
	return 0;
}

void physical_fold(struct mo_physical *phys, const struct mo_phys_sample *s)
{
	if (s->total < 0)
		return;
	phys->samples++;
	if (s->total > phys->at_peak.total)
		phys->at_peak = *s;
	if (s->total > phys->max.total)
		phys->max.total = s->total;
	if (s->anon > phys->max.anon)
		phys->max.anon = s->anon;
	if (s->file > phys->max.file)
		phys->max.file = s->file;
	if (s->kernel > phys->max.kernel)
		phys->max.kernel = s->kernel;
}

/* Add a live process's PSS to the sample (a process gone since adds nothing). */
static bool add_pss(void *ctx, __u32 tgid, const struct mo_proc *proc)
{
	struct mo_phys_sample *out = ctx;
	struct mo_pss pss;

	if (!(proc->flags & (MO_PROC_EXITED | MO_PROC_PENDING_EXEC | MO_PROC_OBSERVER)) && !procfs_pss(tgid, &pss)) {
		out->total += pss.pss;
		out->anon += pss.anon;
		out->file += pss.file + pss.shmem;
	}
	return false;
}

/* A sweep walks the processes' page tables: the next waits long enough
 * that sweeps take at most MO_PSS_MAX_SHARE of the time. */
static void sweep_pss(struct mo_physical_obs *p, uint64_t now_ns, mo_proc_visitor each, struct mo_session *sess,
		      struct mo_phys_sample *out)
{
	uint64_t t0 = mono_ns();

	*out = (struct mo_phys_sample){ 0, 0, 0, -1 };
	each(sess, add_pss, out);
	p->next_pss_ns = now_ns + (uint64_t)((mono_ns() - t0) / MO_PSS_MAX_SHARE);
}

void physical__sample(struct mo_physical_obs *p, uint64_t now_ns, mo_proc_visitor each, struct mo_session *sess,
		      struct mo_phys_sample *out)
{
	struct mo_memcg_stat st;

	*out = MO_PHYS_UNMEASURED;
	if (p->cg) {
		if (memcg__read(p->cg, &st))
			return;
		*out = (struct mo_phys_sample){ st.current, st.anon, st.file, st.kernel };
	} else if (p->phys.source == MO_PHYSICAL_PSS && now_ns >= p->next_pss_ns) {
		sweep_pss(p, now_ns, each, sess, out);
	} else {
		return;
	}
	physical_fold(&p->phys, out);
	if (p->last_ns && (double)(now_ns - p->last_ns) / 1e9 > p->phys.interval_s)
		p->phys.interval_s = (double)(now_ns - p->last_ns) / 1e9;
	p->last_ns = now_ns;
}

void physical__finish(struct mo_physical_obs *p, struct mo_run *run)
{
	struct mo_physical *phys = &run->physical;
	struct mo_memcg_stat st;

	if (p->cg && !memcg__read(p->cg, &st))
		p->phys.end = (struct mo_phys_sample){ st.current, st.anon, st.file, st.kernel };
	p->phys.peak = p->phys.at_peak.total;
	if (p->cg) {
		int64_t watermark = memcg__peak(p->cg);

		/* The kernel's, which sees spikes between samples. */
		if (watermark > p->phys.peak)
			p->phys.peak = watermark;
	}
	free(phys->cgroup);
	free(phys->why);
	*phys = p->phys;
	p->phys.cgroup = p->phys.why = NULL;
}

int physical__free(struct mo_physical_obs *p, char *err, size_t errlen)
{
	char why[512];
	int ret;

	if (!p)
		return 0;
	if (p->moving)
		pthread_join(p->mover, NULL);
	ret = memcg__remove(p->cg, why, sizeof(why));
	if (ret && err)
		snprintf(err, errlen, "%s", why);
	free(p->phys.cgroup);
	free(p->phys.why);
	free(p);
	return ret;
}
