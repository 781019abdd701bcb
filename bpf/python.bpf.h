/* SPDX-License-Identifier: GPL-2.0 */
/* Python frames (issue 16 item 4): where a stack walk meets CPython's eval
 * loop (_PyEval_EvalFrameDefault), the Python functions it runs are read
 * from the interpreter's own frames at the sample, as py-spy reads them
 * from outside: the thread's PyThreadState (found among the interpreter's
 * threads by its thread id, pthread_self, which is the thread's fs base),
 * its current _PyInterpreterFrame, and the chain of previous frames. Each
 * eval loop call runs the frames down to an entry frame: those replace its
 * native frame. A code object's names and line table are kept in
 * mo_pycode the first time a sample meets it. Offsets per version, from
 * CPython's own headers (3.11.2 and 3.11.7 agree; 3.12.1). */
#ifndef MO_PYTHON_BPF_H
#define MO_PYTHON_BPF_H

#include "common.bpf.h"

#define PY_THREADS_MAX 16	/* threads of an interpreter looked through */
#define PY_FRAME_OWNED_BY_CSTACK 3	/* 3.12: the shim frame an eval loop call starts with */

struct py_offsets {
	__u16 interp_head;	/* _PyRuntimeState.interpreters.head */
	__u16 threads_head;	/* PyInterpreterState.threads.head */
	__u16 ts_next, ts_thread_id, ts_cframe;
	__u16 cframe_current;	/* _PyCFrame.current_frame */
	__u16 f_code, f_previous, f_prev_instr, f_owner;
	__u16 f_is_entry;	/* 3.11; 0: none (3.12 has entry shims) */
	__u16 co_qualname, co_filename, co_firstlineno, co_linetable, co_code;
	__u16 ascii_data;	/* sizeof(PyASCIIObject): a compact ASCII string's bytes */
	__u16 bytes_size, bytes_data;	/* PyBytesObject.ob_size, ob_sval */
};

static const struct py_offsets py311 = {
	.interp_head = 40, .threads_head = 16, .ts_next = 8, .ts_thread_id = 152, .ts_cframe = 56,
	.cframe_current = 8, .f_code = 32, .f_previous = 48, .f_prev_instr = 56, .f_owner = 69, .f_is_entry = 68,
	.co_qualname = 128, .co_filename = 112, .co_firstlineno = 72, .co_linetable = 136, .co_code = 184,
	.ascii_data = 48, .bytes_size = 16, .bytes_data = 32,
};

static const struct py_offsets py312 = {
	.interp_head = 40, .threads_head = 72, .ts_next = 8, .ts_thread_id = 136, .ts_cframe = 56,
	.cframe_current = 0, .f_code = 0, .f_previous = 8, .f_prev_instr = 56, .f_owner = 70, .f_is_entry = 0,
	.co_qualname = 128, .co_filename = 112, .co_firstlineno = 68, .co_linetable = 136, .co_code = 192,
	.ascii_data = 40, .bytes_size = 16, .bytes_data = 32,
};

static __always_inline const struct py_offsets *py_offsets_of(__u32 version)
{
	return version == 0x030b ? &py311 : version == 0x030c ? &py312 : NULL;
}

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* A str's bytes (compact ASCII: the names and paths of code objects). */
static __always_inline void read_str(const struct py_offsets *o, __u64 str, char *buf, __u32 len)
{
	__u32 state = 0;

	buf[0] = 0;
	/* PyASCIIObject.state: bit 5 compact, bit 6 ascii (3.11 and 3.12). */
	if (!str || bpf_probe_read_user(&state, sizeof(state), (void *)(str + 32)) || (state & 0x60) != 0x60)
		return;
	bpf_probe_read_user_str(buf, len, (void *)(str + o->ascii_data));
}

/* The record of a code object, stored the first time; false when it
 * cannot be read. A code object freed and another one at its address
 * differ in their first line: the record is then replaced. */
static __always_inline bool py_code(const struct py_offsets *o, const struct mo_pycode_key *key)
{
	struct mo_pycode *stored = bpf_map_lookup_elem(&mo_pycode, key), *rec;
	__u32 zero = 0, first = 0;
	__u64 table;
	__s64 size = 0;

	if (bpf_probe_read_user(&first, sizeof(first), (void *)(key->code + o->co_firstlineno)))
		return false;
	if (stored && stored->firstlineno == first)
		return true;
	rec = bpf_map_lookup_elem(&mo_pycode_buf, &zero);
	if (!rec)
		return false;
	rec->firstlineno = first;
	read_str(o, read_ptr(key->code + o->co_qualname), rec->qualname, sizeof(rec->qualname));
	read_str(o, read_ptr(key->code + o->co_filename), rec->filename, sizeof(rec->filename));
	table = read_ptr(key->code + o->co_linetable);
	bpf_probe_read_user(&size, sizeof(size), (void *)(table + o->bytes_size));
	rec->linetable_len = size < 0 ? 0 : size > MO_PY_LINETABLE ? MO_PY_LINETABLE : size;
	if (bpf_probe_read_user(rec->linetable, sizeof(rec->linetable), (void *)(table + o->bytes_data)))
		rec->linetable_len = 0;
	if (bpf_map_update_elem(&mo_pycode, key, rec, BPF_ANY)) {
		MO_DROP(pycodes);
		return false;
	}
	return true;
}

/* The current thread's innermost Python frame, 0 when it has none: the
 * interpreter's thread whose thread id is this thread's. */
static __always_inline __u64 py_current_frame(const struct py_offsets *o, __u64 runtime)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 self = BPF_CORE_READ(task, thread.fsbase);
	__u64 interp = read_ptr(runtime + o->interp_head);
	__u64 ts = interp ? read_ptr(interp + o->threads_head) : 0;

	for (int i = 0; i < PY_THREADS_MAX && ts; i++) {
		if (read_ptr(ts + o->ts_thread_id) == self)
			return read_ptr(read_ptr(ts + o->ts_cframe) + o->cframe_current);
		ts = read_ptr(ts + o->ts_next);
	}
	return 0;
}

#endif
