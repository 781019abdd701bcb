/* SPDX-License-Identifier: GPL-2.0 */
/* User stacks without frame pointers (issue 16): the unwind tables user
 * space compiled from each file's .eh_frame (stacks/cfi.c) are evaluated
 * here, at the sample, frame by frame: find the mapping of the pc
 * (bpf_find_vma), its file's table (mo_unwind_tables), the row holding at
 * its file offset (a binary search), then CFA = rsp/rbp + N, the return
 * address at CFA - 8 and rbp where the row says. Frames come out as
 * (build id, file offset), as bpf_get_stack(BPF_F_USER_BUILD_ID) gives
 * them, so stacks outlive their process. Code no row covers is walked by
 * its frame pointer; a file met for the first time is asked for
 * (MO_EV_UNWIND_FILE) and ends the stack until its table is loaded. */
#ifndef MO_UNWIND_BPF_H
#define MO_UNWIND_BPF_H

#include "common.bpf.h"
#include "python.bpf.h"

#define UNWIND_SEARCH_STEPS 23	/* rows of one file: at most 2^23 */
#define URETPROBE_DEPTH 8	/* a task's pending uretprobe returns looked through */

/* The user registers a walk starts from. */
struct user_regs {
	__u64 ip, sp, bp;
};

struct vma_span {
	__u64 start, end, pgoff;
	struct mo_file_key file;	/* ino 0: no file (anonymous, vdso) */
};

/* What the Python walk shares with the native one. */
struct py_walk_state {
	__u32 n;		/* frames written */
	__u32 tgid;
	__u64 pyframe;		/* the next Python frame to write, once the first eval loop was met */
	__u64 runtime;		/* _PyRuntime's address in this process */
	__u16 version;
	bool read;		/* the Python thread state was looked for */
};

/* Where the native walk is (out apart: a global function cannot take a
 * pointer stored in memory). */
struct unwind_walk {
	struct user_regs r;
	struct vma_span vma;
	struct py_walk_state py;
};

/* The native walk's bpf_loop context. */
struct unwind_loop {
	struct mo_stack *out;
	struct unwind_walk w;
};

static long vma_span_of(struct task_struct *task, struct vm_area_struct *vma, struct vma_span *span)
{
	struct file *f = vma->vm_file;

	span->start = vma->vm_start;
	span->end = vma->vm_end;
	span->pgoff = vma->vm_pgoff;
	span->file.dev = f ? BPF_CORE_READ(f, f_inode, i_sb, s_dev) : 0;
	span->file.ino = f ? BPF_CORE_READ(f, f_inode, i_ino) : 0;
	return 0;
}

/* Ask user space for a file's table, once: the placeholder (ready 0) says
 * it was asked. A full ring buffer takes the placeholder back (counted). */
static __always_inline void ask_for_table(struct unwind_walk *w)
{
	struct mo_unwind_file pending = {};
	struct mo_ev_unwind_file *ev;

	if (bpf_map_update_elem(&mo_unwind_files, &w->vma.file, &pending, BPF_NOEXIST))
		return;
	ev = bpf_ringbuf_reserve(&mo_events, sizeof(*ev), 0);
	if (!ev) {
		bpf_map_delete_elem(&mo_unwind_files, &w->vma.file);
		MO_DROP(events);
		return;
	}
	ev->hdr.type = MO_EV_UNWIND_FILE;
	ev->hdr.tgid = bpf_get_current_pid_tgid() >> 32;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->file = w->vma.file;
	ev->vm_start = w->vma.start;
	ev->vm_end = w->vma.end;
	bpf_ringbuf_submit(ev, wake_flags(true));
}

/* The row of file's table holding at file offset off, copied to *out: 1;
 * 0 before the first row or without a table (frame pointers then); -1
 * when the table could not be read. A global function, verified once on
 * its own: inlined in the walk's bpf_loop callback, its 23 steps were
 * followed again for each state of the walk (rss_stat: 72,747 verified
 * instructions, 27,165 with it apart). Weak: each object that walks stacks
 * has it. */
__weak __noinline int find_row(const struct mo_file_key *file, __u32 nrows, __u32 off, struct mo_unwind_row *out)
{
	void *table = file ? bpf_map_lookup_elem(&mo_unwind_tables, file) : NULL;
	const struct mo_unwind_row *row;
	__u32 lo = 0, hi = nrows, idx;

	if (!table || !out)
		return 0;
	for (int k = 0; k < UNWIND_SEARCH_STEPS && lo < hi; k++) {
		__u32 mid = lo + (hi - lo) / 2;

		row = bpf_map_lookup_elem(table, &mid);
		if (!row)
			return -1;
		if (row->offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < hi)
		return -1;
	if (!lo)
		return 0;
	idx = lo - 1;
	row = bpf_map_lookup_elem(table, &idx);
	if (!row)
		return -1;
	*out = *row;
	return 1;
}

struct py_walk {
	struct py_walk_state *st;
	const struct py_offsets *o;
	struct mo_stack *out;
};

/* One Python frame of the current eval loop call: written at st->n.
 * Returns 1 (bpf_loop: stop) at the call's entry frame. */
static long python_step(__u32 k, struct py_walk *p)
{
	struct py_walk_state *st = p->st;
	const struct py_offsets *o = p->o;
	struct mo_pycode_key key = { .tgid = st->tgid };
	__u64 f = st->pyframe, instr, code_start;
	__u8 owner = 0, entry = 0;
	struct mo_stack_frame *fr;

	if (!st->read) {	/* here, not in python_walk: its frame and this one share the 512 bytes */
		st->read = true;
		st->pyframe = f = py_current_frame(o, st->runtime);
	}
	if (!f || st->n >= MO_STACK_DEPTH)
		return 1;
	if (o->f_is_entry) {
		bpf_probe_read_user(&entry, sizeof(entry), (void *)(f + o->f_is_entry));
	} else if (!bpf_probe_read_user(&owner, sizeof(owner), (void *)(f + o->f_owner)) &&
		   owner == PY_FRAME_OWNED_BY_CSTACK) {
		st->pyframe = read_ptr(f + o->f_previous);
		return 1;
	}
	key.code = read_ptr(f + o->f_code);
	instr = read_ptr(f + o->f_prev_instr);
	st->pyframe = read_ptr(f + o->f_previous);
	if (key.code && py_code(o, &key)) {
		fr = &p->out->frames[st->n & (MO_STACK_DEPTH - 1)];
		fr->status = MO_FRAME_PY;
		__builtin_memcpy(fr->build_id, &key, sizeof(key));
		__builtin_memset(fr->build_id + sizeof(key), 0, sizeof(fr->build_id) - sizeof(key));
		code_start = key.code + o->co_code;
		fr->offset = instr > code_start ? instr - code_start : 0;
		st->n++;
	}
	return entry ? 1 : 0;
}

/* The Python frames one eval loop call runs, in place of its native frame
 * (written at st->n): from the next one down to the call's entry frame. A
 * global function, verified once on its own: inlined in the native walk,
 * the verifier followed it again for each state of that walk (50 ms of the
 * RSS program's 74 ms). Weak: each object that walks stacks has it. */
__weak __noinline int python_walk(struct py_walk_state *st, struct mo_stack *out)
{
	struct py_walk p = { st, NULL, out };

	if (!st || !out || !(p.o = py_offsets_of(st->version)))
		return 0;
	bpf_loop(MO_STACK_DEPTH, python_step, &p, 0);
	return 0;
}

/* A uretprobe (anyone's: memobs --heap's, bpftrace's) replaces the return
 * address of the call it probes with its trampoline, which no table covers,
 * for as long as the call runs; the kernel keeps the original and the stack
 * slot it was in (the stack pointer at the call's entry) in the task's
 * return instances. The original return address when slot is one of those
 * slots; else ra. */
static __always_inline __u64 uretprobe_original(__u64 slot, __u64 ra)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct uprobe_task *utask = task->utask;
	struct return_instance *ri;

	/* BTF pointers read in place: no stack for the copies (the walk's
	 * frames are at the 512-byte limit). */
	if (!utask)
		return ra;
	ri = utask->return_instances;
	for (int k = 0; k < URETPROBE_DEPTH && ri; k++) {
		if (ri->stack == slot)
			return ri->orig_ret_vaddr;
		ri = ri->next;
	}
	return ra;
}

/* The one frame of a stack taken while an exec builds the new image: the
 * same bytes every time, so that it is one stack. */
static __always_inline void exec_frame(struct mo_stack_frame *fr)
{
	fr->status = MO_FRAME_EXEC;
	__builtin_memset(fr->build_id, 0, sizeof(fr->build_id));
	fr->offset = 0;
}

/* Does the current task hold its own memory map's lock for writing (the
 * rwsem's owner is the writer's task_struct, flags in its low 3 bits)? The
 * kernel adds pages to the map under it while an exec builds the new image,
 * or while a probed file is mapped (its breakpoint's copy of a page). */
static __always_inline bool holds_own_map(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return (BPF_CORE_READ(task, mm, mmap_lock.owner.counter) & ~7L) == (long)task;
}

/* The mapping of the current task that holds ip, into *out (its end 0
 * when none). bpf_find_vma's error. Apart from unwind_frame: the span
 * bpf_find_vma fills must be on the stack, and in its frame it would pass
 * BPF's 512 bytes beside the Python walk's. */
__weak __noinline int vma_at(__u64 ip, struct vma_span *out)
{
	struct vma_span span = {};
	long err;

	if (!out)
		return -22 /* EINVAL */;
	err = bpf_find_vma(bpf_get_current_task_btf(), ip, vma_span_of, &span, 0);
	*out = span;
	return err;
}

/* One native frame: record where w->r.ip is (Python frames in place of an
 * eval loop's), then step to its caller. Returns 1 (bpf_loop: stop) when
 * the walk ends. A global function, verified once on its own: as the body
 * of the bpf_loop callback, the verifier followed it again for every state
 * it reached the loop's next step in, the more for each call it made
 * (rss_stat: 25,091 verified instructions, 46 ms). Weak: each object that
 * walks stacks has it. */
__weak __noinline int unwind_frame(__u32 i, struct unwind_walk *w, struct mo_stack *out)
{
	struct mo_stack_frame *fr;
	struct mo_unwind_row row = {};
	struct mo_unwind_file *info;
	__u64 off, cfa, ra, bp_at = 0;
	__u8 rule = MO_CFA_FP;

	if (!w || !out || i >= MO_STACK_DEPTH || w->py.n >= MO_STACK_DEPTH || !w->r.ip)
		return 1;
	fr = &out->frames[w->py.n & (MO_STACK_DEPTH - 1)];
	if (w->r.ip < w->vma.start || w->r.ip >= w->vma.end) {
		long err = vma_at(w->r.ip, &w->vma);

		if (err == -16 /* EBUSY: mmap_lock not taken */ && i)
			MO_DROP(stacks_cut);
		if (err == -2 /* ENOENT */ && !i) {
			/* The task runs, yet its pc is in no mapping: an exec's new
			 * image being built. */
			exec_frame(fr);
			w->py.n++;
			return 1;
		}
		if (err || !w->vma.end)
			return 1;	/* no mapping: not a code address */
	}
	off = w->r.ip - w->vma.start + (w->vma.pgoff << 12);
	if (!w->vma.file.ino) {
		fr->status = 2;	/* IP: memory no file backs (generated code, vdso) */
		fr->offset = w->r.ip;
		w->py.n++;
	} else {
		info = bpf_map_lookup_elem(&mo_unwind_files, &w->vma.file);
		fr->offset = off;
		if (!info || !info->ready) {
			fr->status = MO_FRAME_FILE;
			__builtin_memcpy(fr->build_id, &w->vma.file, sizeof(w->vma.file));
			__builtin_memset(fr->build_id + sizeof(w->vma.file), 0, sizeof(fr->build_id) - sizeof(w->vma.file));
			w->py.n++;
			if (!info)
				ask_for_table(w);
			return 1;
		}
		fr->status = 1;	/* VALID */
		__builtin_memcpy(fr->build_id, info->build_id, sizeof(fr->build_id));
		w->py.n++;
		if (info->py_version && off >= info->py_eval_start && off < info->py_eval_end) {
			__u32 native = w->py.n - 1;

			w->py.n = native;	/* its Python frames take its place, if it has any */
			w->py.version = info->py_version;
			w->py.runtime = w->vma.start - (w->vma.pgoff << 12) + info->py_runtime;
			python_walk(&w->py, out);
			if (w->py.n == native)
				w->py.n = native + 1;
		}
		if (info->nrows) {
			/* A caller's pc is a return address: its call is the byte before. */
			int found = find_row(&w->vma.file, info->nrows, (__u32)off - (i ? 1 : 0), &row);

			if (found < 0)
				return 1;
			if (found)
				rule = row.cfa;
		}
	}
	switch (rule) {
	case MO_CFA_RSP:
		cfa = w->r.sp + (__u64)row.cfa_off8 * 8;
		if (row.rbp_off8)
			bp_at = cfa + (__s64)row.rbp_off8 * 8;
		break;
	case MO_CFA_RBP:
		cfa = w->r.bp + (__u64)row.cfa_off8 * 8;
		if (row.rbp_off8)
			bp_at = cfa + (__s64)row.rbp_off8 * 8;
		break;
	case MO_CFA_FP:
		if (!w->r.bp)
			return 1;
		cfa = w->r.bp + 16;
		bp_at = w->r.bp;
		break;
	default:		/* END, STOP */
		return 1;
	}
	/* The caller's frame is above this one: anything else is a bad walk. */
	if (cfa <= w->r.sp || bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8)))
		return 1;
	if (bp_at && bpf_probe_read_user(&w->r.bp, sizeof(w->r.bp), (void *)bp_at))
		return 1;
	w->r.sp = cfa;
	w->r.ip = uretprobe_original(cfa - 8, ra);
	return 0;
}

static long unwind_step(__u32 i, struct unwind_loop *l)
{
	return unwind_frame(i, &l->w, l->out) ? 1 : 0;
}

/* Walk the current task's user stack from r into out->frames. Returns the
 * bytes of frames written (as bpf_get_stack does). */
static __always_inline long unwind_user(struct mo_stack *out, const struct user_regs *r)
{
	struct unwind_loop l = { .out = out, .w.r = *r, .w.py.tgid = bpf_get_current_pid_tgid() >> 32 };

	bpf_loop(MO_STACK_DEPTH, unwind_step, &l, 0);
	return (long)l.w.py.n * sizeof(struct mo_stack_frame);
}

/* The user registers of the current task, from inside the kernel. */
static __always_inline void task_user_regs(struct user_regs *r)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	r->ip = BPF_CORE_READ(regs, ip);
	r->sp = BPF_CORE_READ(regs, sp);
	r->bp = BPF_CORE_READ(regs, bp);
}

#endif
