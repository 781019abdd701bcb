// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "observe/filters.h"
#include "probe/attach_inproc.h"
#include "probe/attach_usdt.h"
#include "probe/handoff.h"
#include "lib/log.h"
#include "lib/pool.h"
#include "observe/bpf_log.h"
#include "observe/session.h"
#include "observe/session_priv.h"

/* dev_t as the kernel keeps it in a super_block (MKDEV: 12-bit major, 20-bit minor). */
static __u64 kernel_dev(dev_t dev)
{
	return ((__u64)major(dev) << 20) | minor(dev);
}

/* Does the kernel have this tracepoint? tracefs lists it (memobs mounts it
 * if needed): parsing the kernel's BTF for it would cost a second parse,
 * libbpf parsing it for CO-RE already. */
static bool kernel_has_tracepoint(const char *event)
{
	static const char *const roots[] = { "/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events" };
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", roots[i], event);
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

/* bpf_send_signal_task (6.13), which the -p gate holds a forked child with
 * and continues a process in the system call that lets go of it. */
static bool kernel_signals_tasks(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	return !uname(&u) && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	       (major > 6 || (major == 6 && minor >= 13));
}

static int configure(struct memobs_bpf *skel, const struct mo_session_opts *opts)
{
	int cpus = libbpf_num_possible_cpus();
	struct stat self;
	__u32 slots;
	int err = 0;

	if (cpus <= 0 || cpus > MO_MAX_CPUS)
		return cpus < 0 ? cpus : -E2BIG;
	skel->rodata->mo_cfg.nr_cpus = cpus;
	err = bpf_map__set_max_entries(skel->maps.mo_cpu_off, cpus);

	if (!stat("/proc/self/exe", &self)) {
		skel->rodata->mo_cfg.self_dev = kernel_dev(self.st_dev);
		skel->rodata->mo_cfg.self_ino = self.st_ino;
	}

	skel->rodata->mo_cfg.mode = opts->mode;
	skel->rodata->mo_cfg.gate_exec = opts->gate_exec;
	skel->rodata->mo_cfg.gate_bit = opts->gate_bit;
	/* The -p gate's holds are the host's (holds.h); otherwise unused. */
	if (opts->gate_exec && opts->holds_fd >= 0) {
		err = err ?: bpf_map__reuse_fd(skel->maps.mo_holds, opts->holds_fd);
	} else {
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_holds, 64);
		if (!opts->gate_exec)
			err = err ?: bpf_map__set_max_entries(skel->maps.mo_exes, 64);
	}
	bpf_program__set_autoload(skel->progs.mo_release, opts->gate_exec && !kernel_signals_tasks());
	bpf_program__set_autoload(skel->progs.mo_release_continue, opts->gate_exec && kernel_signals_tasks());
	skel->rodata->mo_cfg.heap_pid_links = opts->heap_pid_links;
	skel->rodata->mo_cfg.hold_forks = opts->gate_exec && opts->heap_pid_links && kernel_signals_tasks();
	bpf_program__set_autoload(skel->progs.mo_fork_hold, skel->rodata->mo_cfg.hold_forks);
	skel->rodata->mo_cfg.heap = opts->heap;
	skel->rodata->mo_cfg.page_size = sysconf(_SC_PAGESIZE);
	skel->rodata->mo_cfg.alloc_sample_bytes = opts->heap ? opts->alloc_sample_bytes : 0;
	skel->rodata->mo_cfg.rss_sample_bytes = opts->rss_sample_bytes;
	skel->rodata->mo_cfg.marker_uid = opts->markers.uid;
	skel->rodata->mo_cfg.max_marks = opts->markers.max_marks;
	skel->rodata->mo_cfg.max_mark_rate = opts->markers.max_mark_rate;
	if (opts->filters) {
		skel->rodata->mo_cfg.filters = filters_mask(opts->filters);
		skel->rodata->mo_cfg.filter_uid = opts->filters->uid;
		skel->rodata->mo_cfg.filter_cgroup_id = opts->filters->cgroup_id;
		skel->rodata->mo_cfg.filter_cgroup_level = opts->filters->cgroup_level;
		if (opts->filters->ncomms)
			err = err ?: bpf_map__set_max_entries(skel->maps.mo_comm_filter, opts->filters->ncomms);
	}
	if (opts->max_stacks) {
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_stacks, opts->max_stacks);
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_sites, 2 * opts->max_stacks);
	}
	if (!skel->rodata->mo_cfg.alloc_sample_bytes && !skel->rodata->mo_cfg.rss_sample_bytes) {
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_stacks, 1);
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_sites, 1);
	}
	/* Live sites at phase ends come from allocation stacks alone. */
	if (!skel->rodata->mo_cfg.alloc_sample_bytes)
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_site_deltas, 1);
	if (opts->max_procs) {
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_procs, opts->max_procs);
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_mm_owner, opts->max_procs);
	}
	if (opts->max_allocs)
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_allocs, opts->max_allocs);
	if (!opts->heap)
		err = err ?: bpf_map__set_max_entries(skel->maps.mo_allocs, 1);
	slots = opts->heap_inproc && opts->max_procs ? opts->max_procs : opts->heap_inproc ? MO_MAX_PROCS : 1;
	err = err ?: bpf_map__set_max_entries(skel->maps.mo_heap_slots, slots);
	err = err ?: bpf_map__set_max_entries(skel->maps.mo_heap_slot_of, slots);
	skel->data_heap->mo_heap.magic = MO_HEAP_MAGIC;
	skel->data_heap->mo_heap.version = MO_HEAP_VERSION;
	skel->data_heap->mo_heap.sample_bytes = skel->rodata->mo_cfg.alloc_sample_bytes;
	bpf_program__set_autoload(skel->progs.mo_heap_usdt, opts->heap_inproc);
	err = err ?: usdt_probes__prepare(skel);
	err = err ?: inproc_probes__prepare(skel);
	bpf_program__set_autoload(skel->progs.mo_prep_exec, kernel_has_tracepoint("sched/sched_prepare_exec"));
	return err;
}

/* RSS changes are summed over the mm counter's per-CPU parts (rss.bpf.c). */
static int find_cpu_offsets(struct memobs_bpf *skel)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.mo_cpu_offsets), &opts))
		return -errno;
	return opts.retval ? -ENXIO : 0;
}

static int fill_comm_filter(struct memobs_bpf *skel, const struct mo_filters *f)
{
	__u8 yes = 1;

	for (size_t i = 0; f && i < f->ncomms; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.mo_comm_filter), f->comms[i], &yes, BPF_ANY))
			return -errno;
	return 0;
}

struct mo_session *session__open(const struct mo_session_opts *opts, mo_event_fn on_event, void *ctx,
				 char *err, size_t errlen)
{
	struct mo_session *s = calloc(1, sizeof(*s));
	char why[300];
	int ret;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->inserters = pool__new();	/* without: the updates wait in place */
	bpf_log_capture();
	s->skel = memobs_bpf__open();
	if (!s->skel) {
		ret = -errno;
		bpf_log_save(opts->verifier_log_dir, err, errlen, "cannot open the BPF object", ret);
		goto err_free;
	}
	ret = configure(s->skel, opts);
	if (ret) {
		snprintf(err, errlen, "cannot size the BPF maps: %s", strerror(-ret));
		goto err_free;
	}
	ret = memobs_bpf__load(s->skel);
	if (ret) {
		bpf_log_save(opts->verifier_log_dir, err, errlen, "cannot load the BPF programs", ret);
		goto err_free;
	}
	ret = find_cpu_offsets(s->skel);
	if (ret) {
		snprintf(err, errlen, "cannot find the kernel's per-CPU areas: %s", strerror(-ret));
		goto err_free;
	}
	ret = fill_comm_filter(s->skel, opts->filters);
	if (ret) {
		snprintf(err, errlen, "cannot fill the --comm filter: %s", strerror(-ret));
		goto err_free;
	}
	s->links[0] = bpf_program__attach(s->skel->progs.mo_fork);
	s->links[1] = bpf_program__attach(s->skel->progs.mo_exec);
	s->links[2] = bpf_program__attach(s->skel->progs.mo_exit);
	for (int i = 0; i < 3; i++)
		if (!s->links[i]) {
			ret = -errno;
			bpf_log_save(opts->verifier_log_dir, err, errlen, "cannot attach to the sched tracepoints", ret);
			goto err_free;
		}
	if (s->skel->rodata->mo_cfg.hold_forks && !(s->links[5] = bpf_program__attach(s->skel->progs.mo_fork_hold))) {
		ret = -errno;
		bpf_log_save(opts->verifier_log_dir, err, errlen, "cannot attach to the fork tracepoint", ret);
		goto err_free;
	}
	/* Without it, marker names BPF could not read stay unread (counted). */
	if (bpf_program__autoload(s->skel->progs.mo_prep_exec)) {
		s->links[4] = bpf_program__attach(s->skel->progs.mo_prep_exec);
		s->exec_begins_seen = s->links[4];
	}
	/* Cgroup moves after exec are a refinement: without them a process
	 * keeps the cgroup it had at fork/exec. */
	s->links[3] = bpf_program__attach(s->skel->progs.mo_cgroup_attach);
	if (!s->links[3])
		log_info("cannot attach to tracepoint cgroup:cgroup_attach_task (%s): cgroup moves after exec are not seen",
			 strerror(errno));
	s->links[6] = bpf_program__attach(s->skel->progs.mo_rss_stat);
	if (!s->links[6]) {
		ret = -errno;
		bpf_log_save(opts->verifier_log_dir, err, errlen, "cannot attach to the rss_stat tracepoint", ret);
		goto err_free;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.mo_events), (ring_buffer_sample_fn)on_event, ctx, NULL);
	if (!s->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the BPF ring buffer: %s", strerror(-ret));
		goto err_free;
	}
	s->handoff = handoff__new(why, sizeof(why));
	if (!s->handoff)
		log_info("%s: memobs waits for the kernel to detach its BPF links when it stops", why);
	/* memobs's own executable needs no inspection at exec. */
	session__exe_ready_file(s, "/proc/self/exe", false);
	bpf_log_drop();
	return s;

err_free:
	session__free(s);
	errno = -ret;
	return NULL;
}

/* A link pinned while libbpf closes its fd is detached by the kernel when
 * the pin goes (handoff.h); without the pin, by this thread, waiting for the
 * tracepoint's unregistering. */
static void *detach_links(void *arg)
{
	struct mo_session *s = arg;

	for (int i = 0; i < NLINKS; i++) {
		int slot = s->links[i] ? handoff__pin(s->handoff, bpf_link__fd(s->links[i])) : -1;

		bpf_link__destroy(s->links[i]);
		if (slot >= 0)
			handoff__unpin(s->handoff, slot);
	}
	return NULL;
}

void session__detach(struct mo_session *s)
{
	if (s->detaching)
		return;
	/* Handed off, nothing waits: no thread needed. */
	if (s->handoff) {
		detach_links(s);
		memset(s->links, 0, sizeof(s->links));
		return;
	}
	/* Each detach waits: off the thread that writes the report. */
	s->detaching = true;
	if (pthread_create(&s->detacher, NULL, detach_links, s)) {
		s->detaching = false;
		detach_links(s);
		memset(s->links, 0, sizeof(s->links));
	}
}

void session__free(struct mo_session *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	if (s->detaching)
		pthread_join(s->detacher, NULL);
	else
		detach_links(s);
	pool__free(s->inserters);
	memobs_bpf__destroy(s->skel);
	handoff__free(s->handoff);
	free(s);
	bpf_log_drop();
}

struct mo_handoff *session__handoff(struct mo_session *s)
{
	return s->handoff;
}

struct memobs_bpf *session__skel(struct mo_session *s)
{
	return s->skel;
}

const volatile struct mo_state *session__state(struct mo_session *s)
{
	return &s->skel->bss->mo_sess;
}

volatile struct mo_heap_shared *session__heap(struct mo_session *s)
{
	return &s->skel->data_heap->mo_heap;
}

void session__heap_fds(struct mo_session *s, int *shared_fd, int *slots_fd, int *slot_of_fd, size_t *nslots)
{
	*shared_fd = bpf_map__fd(s->skel->maps.data_heap);
	*slots_fd = bpf_map__fd(s->skel->maps.mo_heap_slots);
	*slot_of_fd = bpf_map__fd(s->skel->maps.mo_heap_slot_of);
	*nslots = bpf_map__max_entries(s->skel->maps.mo_heap_slots);
}

/* *peak = max(*peak, v) against BPF's own compare-and-swap on the same word. */
static void raise_peak(volatile __s64 *peak, __s64 v)
{
	__s64 old = __atomic_load_n(peak, __ATOMIC_RELAXED);

	while (old < v && !__atomic_compare_exchange_n(peak, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
}

int session__add_proc(struct mo_session *s, pid_t pid, pid_t ppid, __u32 flags, __u64 start_ns,
		      const char *comm, const __s64 rss[MO_RSS_NR], const struct mo_proc_ident *ident)
{
	struct mo_proc p = { .ppid = ppid, .flags = flags, .start_ns = start_ns, .first_ns = start_ns };
	volatile struct mo_state *sess = &s->skel->bss->mo_sess;
	__u32 key = pid;

	if (comm)
		snprintf(p.comm, sizeof(p.comm), "%s", comm);
	for (int m = 0; rss && m < MO_RSS_NR; m++) {
		p.rss[m] = p.rss_peak[m] = rss[m];
		if (m != MO_RSS_SWAP)
			p.rss_sum += rss[m];
	}
	p.rss_peak_sum = p.rss_first = p.rss_sum;
	if (ident) {
		p.uid = ident->uid;
		p.cgroup_id = ident->cgroup_id;
	}
	/* BPF may have put it in since it was read from /proc (a fork after
	 * the programs were attached): its record and its sums stand. */
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.mo_procs), &key, &p, BPF_NOEXIST))
		return -errno;
	/* Its sums join the session's as BPF's would: its events from now on
	 * change them by the difference from these values. */
	for (int m = 0; m < MO_RSS_NR; m++)
		__atomic_fetch_add(&sess->rss[m], p.rss[m], __ATOMIC_SEQ_CST);
	raise_peak(&sess->rss_peak, __atomic_add_fetch(&sess->rss_sum, p.rss_sum, __ATOMIC_SEQ_CST));
	__atomic_fetch_add(&sess->nprocs, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int session__end_unseen_exit(struct mo_session *s, pid_t pid, __u64 end_ns, struct mo_proc *final)
{
	volatile struct mo_state *sess = &s->skel->bss->mo_sess;
	int fd = bpf_map__fd(s->skel->maps.mo_procs);
	__u32 key = pid;

	if (bpf_map_lookup_elem(fd, &key, final))
		return 0;
	if (final->flags & MO_PROC_EXITED)
		return 0;
	for (int m = 0; m < MO_RSS_NR; m++)
		__atomic_fetch_sub(&sess->rss[m], final->rss[m], __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&sess->rss_sum, final->rss_sum, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&s->skel->data_heap->mo_heap.live, final->heap_live, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&sess->nprocs, 1, __ATOMIC_SEQ_CST);
	final->flags |= MO_PROC_EXITED | MO_PROC_EXIT_UNSEEN;
	final->end_ns = end_ns;
	bpf_map_delete_elem(fd, &key);
	return 1;
}

int session__start_root_phase(struct mo_session *s, __u64 start_ns)
{
	struct mo_phase root = { .name = "main", .flags = MO_PHASE_OPEN, .start_ns = start_ns };
	__u32 key = MO_PHASE_ROOT;
	volatile struct mo_state *sess = &s->skel->bss->mo_sess;
	volatile struct mo_heap_shared *heap = &s->skel->data_heap->mo_heap;

	root.rss_baseline = root.rss_peak = sess->rss_sum;
	root.heap_baseline = root.heap_peak = heap->live;
	sess->seg_rss_peak = sess->rss_sum;
	heap->seg_peak = heap->live;
	sess->next_phase = MO_PHASE_ROOT + 1;
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.mo_phases), &key, &root, BPF_ANY))
		return -errno;
	return 0;
}

int session__poll(struct mo_session *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms), more;

	/* Records submitted without a wakeup (lazy_events) do not make the
	 * epoll descriptor ready: they are read all the same. */
	if (n >= 0 && (more = ring_buffer__consume(s->rb)) > 0)
		n += more;
	return n == -EINTR ? 0 : n;
}

int session__poll_fd(struct mo_session *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

void session__consume(struct mo_session *s)
{
	ring_buffer__consume(s->rb);
}

void session__lazy_events(struct mo_session *s, bool lazy)
{
	__atomic_store_n(&s->skel->bss->mo_sess.lazy_events, lazy, __ATOMIC_SEQ_CST);
}

int session__exe_ready(struct mo_session *s, const struct mo_exe_key *key, bool again)
{
	__u32 ready = again ? MO_EXE_AGAIN : MO_EXE_READY;

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.mo_exes), key, &ready, BPF_ANY))
		return -errno;
	return 0;
}

int session__exe_ready_file(struct mo_session *s, const char *path, bool again)
{
	struct stat st;
	struct mo_exe_key key;

	if (stat(path, &st))
		return -errno;
	key = (struct mo_exe_key){
		.dev = kernel_dev(st.st_dev),
		.ino = st.st_ino,
		.ctime_ns = (__s64)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec,
		.size = st.st_size,
	};
	return session__exe_ready(s, &key, again);
}

void session__count_unlinked_fork(struct mo_session *s)
{
	__atomic_fetch_add(&s->skel->bss->mo_sess.drops.heap_unheld, 1, __ATOMIC_RELAXED);
}

int session__release_prog_fd(struct mo_session *s)
{
	int fd = bpf_program__fd(s->skel->progs.mo_release_continue);

	return fd >= 0 ? fd : bpf_program__fd(s->skel->progs.mo_release);
}

void session__gate_arm(struct mo_session *s, bool on, __u64 now_ns)
{
	volatile struct mo_gate_state *g = &s->skel->bss->mo_sess.gate;

	g->heartbeat_ns = now_ns;
	__atomic_store_n(&g->armed, on, __ATOMIC_SEQ_CST);
}

void session__gate_tick(struct mo_session *s, __u64 now_ns)
{
	__atomic_store_n(&s->skel->bss->mo_sess.gate.heartbeat_ns, now_ns, __ATOMIC_RELEASE);
}

void session__gate_counts(struct mo_session *s, struct mo_gate_state *out)
{
	volatile struct mo_gate_state *g = &s->skel->bss->mo_sess.gate;

	out->stops = g->stops;
	out->job_skips = g->job_skips;
	out->stale_skips = g->stale_skips;
	out->hold_fails = g->hold_fails;
}

int session__read_phase(struct mo_session *s, __u32 id, struct mo_phase *out)
{
	const volatile struct mo_state *st = &s->skel->bss->mo_sess;
	const volatile struct mo_heap_shared *heap = &s->skel->data_heap->mo_heap;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.mo_phases), &id, out))
		return -errno;
	if (id == MO_PHASE_ROOT) {
		out->rss_peak = st->rss_peak;
		out->heap_peak = heap->peak;
	} else if (out->flags & MO_PHASE_OPEN) {
		/* BPF folds the segment into open phases at the next boundary. */
		if (st->seg_rss_peak > out->rss_peak)
			out->rss_peak = st->seg_rss_peak;
		if (heap->seg_peak > out->heap_peak)
			out->heap_peak = heap->seg_peak;
	}
	return 0;
}

__u32 session__current_phase(struct mo_session *s)
{
	const volatile struct mo_state *st = &s->skel->bss->mo_sess;
	__u32 newest = MO_PHASE_ROOT;

	for (int i = 0; i < MO_MAX_OPEN_PHASES; i++) {
		__u32 id = st->open[i];

		if (id != MO_PHASE_NONE && id > newest)
			newest = id;
	}
	return newest;
}

int session__read_proc(struct mo_session *s, pid_t pid, struct mo_proc *out)
{
	__u32 key = pid;

	return bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.mo_procs), &key, out) ? -errno : 0;
}

bool session__same_program(struct mo_session *s, pid_t pid, __u64 program_id)
{
	struct mo_proc p;
	__u32 key = pid;

	return s->exec_begins_seen && !bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.mo_procs), &key, &p) &&
	       !(p.flags & MO_PROC_EXITED) && p.program_id == program_id;
}
